//! DataJoint 0.14 attribute types: parsing the type text of a definition line,
//! the SQL column type each dialect stores, the `:type:` comment markers that carry
//! special types through MySQL, and the value ranges used to check inserts.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Width of an integer type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntSize {
    /// tinyint, 1 byte.
    Tiny,
    /// smallint, 2 bytes.
    Small,
    /// mediumint, 3 bytes.
    Medium,
    /// int, 4 bytes.
    Int,
    /// bigint, 8 bytes.
    Big,
}

impl IntSize {
    fn keyword(self) -> &'static str {
        match self {
            IntSize::Tiny => "tinyint",
            IntSize::Small => "smallint",
            IntSize::Medium => "mediumint",
            IntSize::Int => "int",
            IntSize::Big => "bigint",
        }
    }

    /// Inclusive range of values of this width.
    pub fn range(self, unsigned: bool) -> (i128, i128) {
        let bits = match self {
            IntSize::Tiny => 8,
            IntSize::Small => 16,
            IntSize::Medium => 24,
            IntSize::Int => 32,
            IntSize::Big => 64,
        };
        if unsigned {
            (0, (1i128 << bits) - 1)
        } else {
            (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
        }
    }
}

/// Size class of an internal blob column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlobSize {
    /// tinyblob (255 bytes).
    Tiny,
    /// blob (64 KiB).
    Blob,
    /// mediumblob (16 MiB).
    Medium,
    /// longblob (4 GiB).
    Long,
}

impl BlobSize {
    fn keyword(self) -> &'static str {
        match self {
            BlobSize::Tiny => "tinyblob",
            BlobSize::Blob => "blob",
            BlobSize::Medium => "mediumblob",
            BlobSize::Long => "longblob",
        }
    }

    /// Largest number of bytes MySQL stores in this column type.
    pub fn max_len(self) -> u64 {
        match self {
            BlobSize::Tiny => 255,
            BlobSize::Blob => 65_535,
            BlobSize::Medium => 16_777_215,
            BlobSize::Long => 4_294_967_295,
        }
    }
}

/// A DataJoint 0.14 attribute type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AttrType {
    /// Integer family, optionally unsigned / auto_increment.
    Int {
        /// tinyint, smallint, mediumint, int or bigint.
        size: IntSize,
        /// `unsigned`.
        unsigned: bool,
        /// `auto_increment`.
        auto_increment: bool,
    },
    /// Fixed-point decimal(precision, scale).
    Decimal {
        /// Total digits.
        precision: u32,
        /// Digits after the decimal point.
        scale: u32,
        /// `unsigned`.
        unsigned: bool,
    },
    /// float (single) or double.
    Float {
        /// `double` rather than `float`.
        double: bool,
        /// `unsigned`.
        unsigned: bool,
    },
    /// Fixed-length string char(n).
    Char(u32),
    /// Variable-length string varchar(n).
    Varchar(u32),
    /// One of the listed strings.
    Enum(Vec<String>),
    /// Calendar date.
    Date,
    /// Date and time, with optional fractional-second digits.
    Datetime(Option<u32>),
    /// Time of day (MySQL TIME).
    Time(Option<u32>),
    /// Timestamp, with optional fractional-second digits.
    Timestamp(Option<u32>),
    /// Year.
    Year,
    /// Boolean, stored as tinyint.
    Bool,
    /// JSON document.
    Json,
    /// Internal DataJoint blob.
    Blob(BlobSize),
    /// UUID, stored as binary(16).
    Uuid,
    /// Attachment stored in the table (`filename\0bytes`).
    Attach,
    /// Blob kept in an external store.
    ExternalBlob(String),
    /// Attachment kept in an external store.
    ExternalAttach(String),
    /// Managed file path in an external store.
    Filepath(String),
    /// A user adapter type `<name>` (stored as its declared type).
    Adapted(String),
    /// A server column type DataJoint does not declare (`text`, `set(..)`, `varbinary(n)`,
    /// `bit(1)` ...), found in legacy tables; kept as the server spells it (lower case),
    /// read and written as text or bytes without conversion.
    Native(String),
}

/// Whether a native server type stores bytes.
trait NativeKind {
    fn is_binary_native(&self) -> bool;
}

impl NativeKind for String {
    fn is_binary_native(&self) -> bool {
        let t = self.to_ascii_lowercase();
        t.contains("binary") || t.contains("blob") || t.starts_with("bit")
    }
}

fn bad(s: &str) -> Error {
    Error::BadType(s.to_string())
}

/// Parses `(a, b)` arguments into trimmed strings (quotes kept).
fn paren_args(rest: &str, orig: &str) -> Result<Vec<String>> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| bad(orig))?;
    Ok(inner.split(',').map(|a| a.trim().to_string()).collect())
}

fn parse_u32(s: &str, orig: &str) -> Result<u32> {
    s.trim().parse::<u32>().map_err(|_| bad(orig))
}

/// Splits `enum('a','b,c')` contents into values, honouring quotes.
fn parse_enum_values(inner: &str, orig: &str) -> Result<Vec<String>> {
    let mut values = Vec::new();
    let mut chars = inner.trim().chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(q) = chars.next() else { break };
        if q != '\'' && q != '"' {
            return Err(bad(orig));
        }
        let mut v = String::new();
        loop {
            match chars.next() {
                None => return Err(bad(orig)),
                Some(c) if c == q => {
                    if chars.peek() == Some(&q) {
                        chars.next();
                        v.push(q);
                    } else {
                        break;
                    }
                }
                Some('\\') => {
                    if let Some(c) = chars.next() {
                        v.push(c)
                    }
                }
                Some(c) => v.push(c),
            }
        }
        values.push(v);
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => break,
            Some(',') => continue,
            Some(_) => return Err(bad(orig)),
        }
    }
    if values.is_empty() {
        return Err(bad(orig));
    }
    Ok(values)
}

fn store_name(s: &str, orig: &str) -> Result<String> {
    let mut c = s.chars();
    let ok = matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic())
        && c.all(|ch| ch == '-' || ch == '_' || ch.is_ascii_alphanumeric());
    if ok {
        Ok(s.to_string())
    } else {
        Err(bad(orig))
    }
}

impl AttrType {
    /// Parses a type as written in a definition (case-insensitive keywords).
    pub fn parse(text: &str) -> Result<AttrType> {
        let orig = text.trim();
        if orig.is_empty() {
            return Err(bad(orig));
        }
        if orig.starts_with('<') && orig.ends_with('>') && orig.len() > 2 {
            return Ok(AttrType::Adapted(
                orig[1..orig.len() - 1].trim().to_string(),
            ));
        }
        let lower = orig.to_ascii_lowercase();
        let lower = lower.split_whitespace().collect::<Vec<_>>().join(" ");
        // the leading keyword (letters and digits up to a space, paren or @)
        let kw_end = lower.find([' ', '(', '@']).unwrap_or(lower.len());
        let (kw, rest) = lower.split_at(kw_end);
        let rest = rest.trim();
        match kw {
            "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" => {
                let size = match kw {
                    "tinyint" => IntSize::Tiny,
                    "smallint" => IntSize::Small,
                    "mediumint" => IntSize::Medium,
                    "bigint" => IntSize::Big,
                    _ => IntSize::Int,
                };
                let mut rest = rest;
                if rest.starts_with('(') {
                    let close = rest.find(')').ok_or_else(|| bad(orig))?;
                    parse_u32(&rest[1..close], orig)?; // display width, ignored
                    rest = rest[close + 1..].trim();
                }
                let mut unsigned = false;
                let mut auto_increment = false;
                for word in rest.split_whitespace() {
                    match word {
                        "unsigned" if !unsigned && !auto_increment => unsigned = true,
                        "auto_increment" if !auto_increment => auto_increment = true,
                        _ => return Err(bad(orig)),
                    }
                }
                Ok(AttrType::Int {
                    size,
                    unsigned,
                    auto_increment,
                })
            }
            "serial" if rest.is_empty() => Ok(AttrType::Int {
                size: IntSize::Big,
                unsigned: true,
                auto_increment: true,
            }),
            "decimal" | "numeric" => {
                let (args, tail) = split_args(rest, orig)?;
                let (precision, scale) = match args.as_deref() {
                    None => (10, 0),
                    Some([p]) => (parse_u32(p, orig)?, 0),
                    Some([p, s]) => (parse_u32(p, orig)?, parse_u32(s, orig)?),
                    _ => return Err(bad(orig)),
                };
                if precision == 0 || precision > 65 || scale > precision {
                    return Err(bad(orig));
                }
                let unsigned = unsigned_only(tail, orig)?;
                Ok(AttrType::Decimal {
                    precision,
                    scale,
                    unsigned,
                })
            }
            "float" | "double" | "real" => {
                let (_, tail) = split_args(rest, orig)?;
                let unsigned = unsigned_only(tail, orig)?;
                Ok(AttrType::Float {
                    double: kw != "float",
                    unsigned,
                })
            }
            "char" | "varchar" => {
                let (args, tail) = split_args(rest, orig)?;
                if !tail.is_empty() {
                    return Err(bad(orig));
                }
                let n = match args.as_deref() {
                    Some([n]) => parse_u32(n, orig)?,
                    _ => return Err(bad(orig)),
                };
                Ok(if kw == "char" {
                    AttrType::Char(n)
                } else {
                    AttrType::Varchar(n)
                })
            }
            "enum" => {
                // keep the original case of the values
                let open = orig.find('(').ok_or_else(|| bad(orig))?;
                let inner = orig[open..]
                    .trim()
                    .strip_prefix('(')
                    .and_then(|r| r.strip_suffix(')'))
                    .ok_or_else(|| bad(orig))?;
                Ok(AttrType::Enum(parse_enum_values(inner, orig)?))
            }
            "date" | "year" if rest.is_empty() => Ok(if kw == "date" {
                AttrType::Date
            } else {
                AttrType::Year
            }),
            "datetime" | "time" | "timestamp" => {
                let (args, tail) = split_args(rest, orig)?;
                if !tail.is_empty() {
                    return Err(bad(orig));
                }
                let fsp = match args.as_deref() {
                    None => None,
                    Some([n]) => {
                        let n = parse_u32(n, orig)?;
                        if n > 6 {
                            return Err(bad(orig));
                        }
                        Some(n)
                    }
                    _ => return Err(bad(orig)),
                };
                Ok(match kw {
                    "datetime" => AttrType::Datetime(fsp),
                    "time" => AttrType::Time(fsp),
                    _ => AttrType::Timestamp(fsp),
                })
            }
            "bool" | "boolean" if rest.is_empty() => Ok(AttrType::Bool),
            "json" if rest.is_empty() => Ok(AttrType::Json),
            "uuid" if rest.is_empty() => Ok(AttrType::Uuid),
            "tinyblob" | "blob" | "mediumblob" | "longblob" if rest.is_empty() => {
                Ok(AttrType::Blob(match kw {
                    "tinyblob" => BlobSize::Tiny,
                    "blob" => BlobSize::Blob,
                    "mediumblob" => BlobSize::Medium,
                    _ => BlobSize::Long,
                }))
            }
            "attach" if rest.is_empty() => Ok(AttrType::Attach),
            "blob" | "attach" | "filepath" => {
                rest.strip_prefix('@').ok_or_else(|| bad(orig))?;
                let at = orig.find('@').ok_or_else(|| bad(orig))?;
                let store = store_name(orig[at + 1..].trim(), orig)?;
                Ok(match kw {
                    "blob" => AttrType::ExternalBlob(store),
                    "attach" => AttrType::ExternalAttach(store),
                    _ => AttrType::Filepath(store),
                })
            }
            _ => Err(bad(orig)),
        }
    }

    /// The MySQL column type DataJoint declares for this type.
    pub fn mysql_type(&self) -> String {
        match self {
            AttrType::Int { size, unsigned, .. } => {
                format!(
                    "{}{}",
                    size.keyword(),
                    if *unsigned { " unsigned" } else { "" }
                )
            }
            AttrType::Decimal {
                precision,
                scale,
                unsigned,
            } => format!(
                "decimal({precision},{scale}){}",
                if *unsigned { " unsigned" } else { "" }
            ),
            AttrType::Float { double, unsigned } => format!(
                "{}{}",
                if *double { "double" } else { "float" },
                if *unsigned { " unsigned" } else { "" }
            ),
            AttrType::Char(n) => format!("char({n})"),
            AttrType::Varchar(n) => format!("varchar({n})"),
            AttrType::Enum(v) => format!("enum({})", quote_list(v)),
            AttrType::Date => "date".into(),
            AttrType::Datetime(f) => with_fsp("datetime", *f),
            AttrType::Time(f) => with_fsp("time", *f),
            AttrType::Timestamp(f) => with_fsp("timestamp", *f),
            AttrType::Year => "year".into(),
            // as MySQL stores `bool` (DataJoint passes `bool` through): tinyint(1), not tinyint(4)
            AttrType::Bool => "tinyint(1)".into(),
            AttrType::Json => "json".into(),
            AttrType::Blob(s) => s.keyword().into(),
            AttrType::Uuid => "binary(16)".into(),
            AttrType::Attach => "longblob".into(),
            AttrType::ExternalBlob(_) | AttrType::ExternalAttach(_) | AttrType::Filepath(_) => {
                "binary(16)".into()
            }
            AttrType::Adapted(_) => "longblob".into(),
            AttrType::Native(t) => t.clone(),
        }
    }

    /// The SQLite column type (which sets the column affinity).
    pub fn sqlite_type(&self) -> &'static str {
        match self {
            AttrType::Int { .. } | AttrType::Bool | AttrType::Year => "INTEGER",
            AttrType::Decimal { .. } => "NUMERIC",
            AttrType::Float { .. } => "REAL",
            AttrType::Char(_)
            | AttrType::Varchar(_)
            | AttrType::Enum(_)
            | AttrType::Date
            | AttrType::Datetime(_)
            | AttrType::Time(_)
            | AttrType::Timestamp(_)
            | AttrType::Json => "TEXT",
            AttrType::Native(t) if !t.is_binary_native() => "TEXT",
            _ => "BLOB",
        }
    }

    /// The `:type:` marker DataJoint puts at the start of the column comment, if any.
    pub fn comment_marker(&self) -> Option<String> {
        match self {
            AttrType::Uuid => Some(":uuid:".into()),
            AttrType::Attach => Some(":attach:".into()),
            AttrType::ExternalBlob(s) => Some(format!(":blob@{s}:")),
            AttrType::ExternalAttach(s) => Some(format!(":attach@{s}:")),
            AttrType::Filepath(s) => Some(format!(":filepath@{s}:")),
            AttrType::Adapted(a) => Some(format!(":<{a}>:")),
            _ => None,
        }
    }

    /// True for types that cannot be part of a primary key.
    pub fn forbidden_in_key(&self) -> bool {
        matches!(
            self,
            AttrType::Blob(_)
                | AttrType::Attach
                | AttrType::ExternalBlob(_)
                | AttrType::ExternalAttach(_)
                | AttrType::Filepath(_)
                | AttrType::Json
        )
    }

    /// True for types that only accept `null` as a default.
    pub fn only_null_default(&self) -> bool {
        matches!(
            self,
            AttrType::Blob(_)
                | AttrType::Attach
                | AttrType::ExternalBlob(_)
                | AttrType::ExternalAttach(_)
                | AttrType::Filepath(_)
        )
    }

    /// True for numeric types (where NaN inserts as NULL).
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            AttrType::Int { .. } | AttrType::Decimal { .. } | AttrType::Float { .. }
        )
    }

    /// The external store this type uses, if any.
    pub fn store(&self) -> Option<&str> {
        match self {
            AttrType::ExternalBlob(s) | AttrType::ExternalAttach(s) | AttrType::Filepath(s) => {
                Some(s)
            }
            _ => None,
        }
    }

    /// True for a native type that holds bytes rather than text (`varbinary`, `bit` ...).
    pub fn is_binary_native(&self) -> bool {
        matches!(self, AttrType::Native(t) if t.is_binary_native())
    }

    /// True when the column is auto_increment.
    pub fn is_auto_increment(&self) -> bool {
        matches!(
            self,
            AttrType::Int {
                auto_increment: true,
                ..
            }
        )
    }
}

fn split_args(rest: &str, orig: &str) -> Result<(Option<Vec<String>>, &'static str)> {
    // returns parsed (args) and whether a tail remains; tail must be owned-free: we
    // only need to know "unsigned" or empty, so map to static strings.
    let rest = rest.trim();
    let (args, tail) = if rest.starts_with('(') {
        let close = rest.find(')').ok_or_else(|| bad(orig))?;
        (
            Some(paren_args(&rest[..=close], orig)?),
            rest[close + 1..].trim(),
        )
    } else {
        (None, rest)
    };
    let tail: &'static str = match tail {
        "" => "",
        "unsigned" => "unsigned",
        _ => return Err(bad(orig)),
    };
    Ok((args, tail))
}

fn unsigned_only(tail: &str, orig: &str) -> Result<bool> {
    match tail {
        "" => Ok(false),
        "unsigned" => Ok(true),
        _ => Err(bad(orig)),
    }
}

fn with_fsp(kw: &str, fsp: Option<u32>) -> String {
    match fsp {
        Some(n) => format!("{kw}({n})"),
        None => kw.to_string(),
    }
}

fn quote_list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("'{}'", v.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(",")
}

impl fmt::Display for AttrType {
    /// The DataJoint spelling used by `describe`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrType::Int {
                auto_increment: true,
                ..
            } => {
                write!(f, "{} auto_increment", self.mysql_type())
            }
            AttrType::Bool => f.write_str("bool"),
            AttrType::Uuid => f.write_str("uuid"),
            AttrType::Attach => f.write_str("attach"),
            AttrType::ExternalBlob(s) => write!(f, "blob@{s}"),
            AttrType::ExternalAttach(s) => write!(f, "attach@{s}"),
            AttrType::Filepath(s) => write!(f, "filepath@{s}"),
            AttrType::Adapted(a) => write!(f, "<{a}>"),
            _ => f.write_str(&self.mysql_type()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_type() {
        let cases: &[(&str, AttrType)] = &[
            (
                "int",
                AttrType::Int {
                    size: IntSize::Int,
                    unsigned: false,
                    auto_increment: false,
                },
            ),
            (
                "INT UNSIGNED",
                AttrType::Int {
                    size: IntSize::Int,
                    unsigned: true,
                    auto_increment: false,
                },
            ),
            (
                "smallint(6)",
                AttrType::Int {
                    size: IntSize::Small,
                    unsigned: false,
                    auto_increment: false,
                },
            ),
            (
                "bigint unsigned auto_increment",
                AttrType::Int {
                    size: IntSize::Big,
                    unsigned: true,
                    auto_increment: true,
                },
            ),
            (
                "serial",
                AttrType::Int {
                    size: IntSize::Big,
                    unsigned: true,
                    auto_increment: true,
                },
            ),
            (
                "tinyint",
                AttrType::Int {
                    size: IntSize::Tiny,
                    unsigned: false,
                    auto_increment: false,
                },
            ),
            (
                "mediumint unsigned",
                AttrType::Int {
                    size: IntSize::Medium,
                    unsigned: true,
                    auto_increment: false,
                },
            ),
            (
                "decimal(5,2)",
                AttrType::Decimal {
                    precision: 5,
                    scale: 2,
                    unsigned: false,
                },
            ),
            (
                "numeric(8, 3) unsigned",
                AttrType::Decimal {
                    precision: 8,
                    scale: 3,
                    unsigned: true,
                },
            ),
            (
                "float",
                AttrType::Float {
                    double: false,
                    unsigned: false,
                },
            ),
            (
                "double",
                AttrType::Float {
                    double: true,
                    unsigned: false,
                },
            ),
            (
                "real",
                AttrType::Float {
                    double: true,
                    unsigned: false,
                },
            ),
            ("char(1)", AttrType::Char(1)),
            ("varchar(64)", AttrType::Varchar(64)),
            (
                "enum('M','F','U')",
                AttrType::Enum(vec!["M".into(), "F".into(), "U".into()]),
            ),
            (
                "enum(\"True\", \"False\")",
                AttrType::Enum(vec!["True".into(), "False".into()]),
            ),
            ("date", AttrType::Date),
            ("datetime", AttrType::Datetime(None)),
            ("datetime(3)", AttrType::Datetime(Some(3))),
            ("time", AttrType::Time(None)),
            ("timestamp", AttrType::Timestamp(None)),
            ("year", AttrType::Year),
            ("bool", AttrType::Bool),
            ("boolean", AttrType::Bool),
            ("json", AttrType::Json),
            ("uuid", AttrType::Uuid),
            ("tinyblob", AttrType::Blob(BlobSize::Tiny)),
            ("blob", AttrType::Blob(BlobSize::Blob)),
            ("mediumblob", AttrType::Blob(BlobSize::Medium)),
            ("longblob", AttrType::Blob(BlobSize::Long)),
            ("attach", AttrType::Attach),
            ("blob@raw", AttrType::ExternalBlob("raw".into())),
            ("attach@store-1", AttrType::ExternalAttach("store-1".into())),
            ("filepath@analysis", AttrType::Filepath("analysis".into())),
            ("<graph>", AttrType::Adapted("graph".into())),
        ];
        for (text, want) in cases {
            assert_eq!(&AttrType::parse(text).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn rejects_unsupported_types() {
        for t in [
            "text",
            "varbinary(10)",
            "binary(16)",
            "set('a')",
            "bit",
            "int unsigned unsigned",
            "varchar",
            "varchar(x)",
            "decimal(70,2)",
            "enum()",
            "enum(a,b)",
            "blob@",
            "blob@1raw",
            "datetime(9)",
            "",
            "int zerofill",
        ] {
            assert!(AttrType::parse(t).is_err(), "{t} should be rejected");
        }
    }

    #[test]
    fn mysql_types_and_markers() {
        assert_eq!(AttrType::parse("uuid").unwrap().mysql_type(), "binary(16)");
        assert_eq!(
            AttrType::parse("uuid").unwrap().comment_marker().unwrap(),
            ":uuid:"
        );
        assert_eq!(AttrType::parse("attach").unwrap().mysql_type(), "longblob");
        assert_eq!(
            AttrType::parse("filepath@raw")
                .unwrap()
                .comment_marker()
                .unwrap(),
            ":filepath@raw:"
        );
        assert_eq!(
            AttrType::parse("enum('a','b')").unwrap().mysql_type(),
            "enum('a','b')"
        );
        assert_eq!(AttrType::parse("bool").unwrap().mysql_type(), "tinyint(1)");
        assert_eq!(
            AttrType::parse("int unsigned").unwrap().to_string(),
            "int unsigned"
        );
    }

    #[test]
    fn int_ranges() {
        assert_eq!(IntSize::Tiny.range(false), (-128, 127));
        assert_eq!(IntSize::Tiny.range(true), (0, 255));
        assert_eq!(IntSize::Big.range(true), (0, u64::MAX as i128));
    }
}
