//! Values and rows. `Value` is what users insert and fetch (typed, blobs decoded);
//! `SqlValue` is the handful of primitives that travel to and from a backend as
//! bound parameters. The conversions between them, per attribute type, live here
//! so that insert, restriction and fetch agree on every type.

use crate::error::{Error, Result};
use crate::heading::Attribute;
use crate::types::AttrType;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use indexmap::IndexMap;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::sync::Arc;
use uuid::Uuid;

/// A typed value of one attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// Boolean.
    Bool(bool),
    /// Signed integer.
    Int(i64),
    /// Unsigned integer above i64's range.
    UInt(u64),
    /// Floating point.
    Float(f64),
    /// Text.
    Str(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// Exact decimal, as text (`12.50`).
    Decimal(String),
    /// Calendar date.
    Date(NaiveDate),
    /// Date and time.
    DateTime(NaiveDateTime),
    /// Time of day.
    Time(NaiveTime),
    /// UUID.
    Uuid(Uuid),
    /// JSON document.
    Json(serde_json::Value),
    /// A DataJoint blob, decoded.
    Blob(Box<spyglass_blob::Value>),
    /// An attachment: file name and contents.
    Attach { name: String, data: Vec<u8> },
}

/// A primitive bound to or read from SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// NULL.
    Null,
    /// Integer.
    Int(i64),
    /// Unsigned integer (MySQL bigint unsigned).
    UInt(u64),
    /// Floating point.
    Float(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
}

impl SqlValue {
    /// The value as plain text (bytes decoded as UTF-8, NULL as empty), for catalog
    /// reads and messages.
    pub fn to_text(&self) -> String {
        match self {
            SqlValue::Text(s) => s.clone(),
            SqlValue::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            SqlValue::Int(i) => i.to_string(),
            SqlValue::UInt(u) => u.to_string(),
            SqlValue::Float(f) => f.to_string(),
            SqlValue::Null => String::new(),
        }
    }
}

/// A bound parameter that may borrow text from the caller's value (insert's fast path).
#[derive(Debug, Clone, PartialEq)]
pub enum Param<'a> {
    /// An owned primitive.
    Owned(SqlValue),
    /// Text borrowed from a `Value::Str`.
    Text(&'a str),
}

/// Like `to_sql`, but borrows strings that need no conversion.
pub fn to_param<'a>(attr: &Attribute, table: &str, v: &'a Value) -> Result<Param<'a>> {
    if let Value::Str(s) = v {
        match &attr.ty {
            AttrType::Char(n) | AttrType::Varchar(n) if s.len() <= *n as usize => {
                return Ok(Param::Text(s))
            }
            AttrType::Date if is_canonical_date(s) => return Ok(Param::Text(s)),
            _ => {}
        }
    }
    to_sql(attr, table, v).map(Param::Owned)
}

macro_rules! from_impl {
    ($t:ty, $v:ident => $e:expr) => {
        impl From<$t> for Value {
            fn from($v: $t) -> Self {
                $e
            }
        }
    };
}
from_impl!(bool, v => Value::Bool(v));
from_impl!(i32, v => Value::Int(v as i64));
from_impl!(i64, v => Value::Int(v));
from_impl!(u32, v => Value::Int(v as i64));
from_impl!(u64, v => if v <= i64::MAX as u64 { Value::Int(v as i64) } else { Value::UInt(v) });
from_impl!(usize, v => Value::from(v as u64));
from_impl!(f64, v => Value::Float(v));
from_impl!(f32, v => Value::Float(v as f64));
from_impl!(&str, v => Value::Str(v.to_string()));
from_impl!(String, v => Value::Str(v));
from_impl!(NaiveDate, v => Value::Date(v));
from_impl!(NaiveDateTime, v => Value::DateTime(v));
from_impl!(Uuid, v => Value::Uuid(v));
from_impl!(spyglass_blob::Value, v => Value::Blob(Box::new(v)));
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(Value::Null)
    }
}

impl Value {
    /// True for NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Integer view (ints, integral floats, bools, numeric text).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::UInt(u) => i64::try_from(*u).ok(),
            Value::Bool(b) => Some(*b as i64),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Some(*f as i64),
            Value::Str(s) | Value::Decimal(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// Float view of numeric values.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::UInt(u) => Some(*u as f64),
            Value::Float(f) => Some(*f),
            Value::Bool(b) => Some(*b as i64 as f64),
            Value::Str(s) | Value::Decimal(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// String view of text values.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) | Value::Decimal(s) => Some(s),
            _ => None,
        }
    }

    /// The decoded blob, if this is one.
    pub fn as_blob(&self) -> Option<&spyglass_blob::Value> {
        match self {
            Value::Blob(b) => Some(b),
            _ => None,
        }
    }

    /// Short name of the variant, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::UInt(_) => "integer",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::Decimal(_) => "decimal",
            Value::Date(_) => "date",
            Value::DateTime(_) => "datetime",
            Value::Time(_) => "time",
            Value::Uuid(_) => "uuid",
            Value::Json(_) => "json",
            Value::Blob(_) => "blob",
            Value::Attach { .. } => "attachment",
        }
    }

    /// Python `str()` of the value, as DataJoint's key_hash and restrictions use it.
    pub fn python_str(&self) -> String {
        match self {
            Value::Null => "None".into(),
            Value::Bool(b) => if *b { "True" } else { "False" }.into(),
            Value::Int(i) => i.to_string(),
            Value::UInt(u) => u.to_string(),
            Value::Float(f) => python_float_repr(*f),
            Value::Str(s) | Value::Decimal(s) => s.clone(),
            Value::Bytes(b) => format!("{b:?}"),
            Value::Date(d) => d.format("%Y-%m-%d").to_string(),
            Value::DateTime(dt) => format_datetime(dt, dt.nanosecond() / 1000 != 0),
            Value::Time(t) => format_time(t),
            Value::Uuid(u) => u.hyphenated().to_string(),
            Value::Json(j) => j.to_string(),
            Value::Blob(_) => "<blob>".into(),
            Value::Attach { name, .. } => name.clone(),
        }
    }

    /// Converts the value to JSON for display and serde (blobs become nested lists).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::UInt(u) => J::from(*u),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(J::Number)
                .unwrap_or(J::Null),
            Value::Str(s) => J::String(s.clone()),
            Value::Decimal(s) => J::String(s.clone()),
            Value::Bytes(b) => J::Array(b.iter().map(|x| J::from(*x)).collect()),
            Value::Date(_) | Value::DateTime(_) | Value::Time(_) | Value::Uuid(_) => {
                J::String(self.python_str())
            }
            Value::Json(j) => j.clone(),
            Value::Blob(b) => serde_json::to_value(b.as_ref()).unwrap_or(J::Null),
            Value::Attach { name, .. } => J::String(name.clone()),
        }
    }

    /// Converts a JSON value (from a file, CLI or serde struct) into a `Value`.
    pub fn from_json(j: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match j {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Value::Int(i)
                } else if let Some(u) = n.as_u64() {
                    Value::UInt(u)
                } else {
                    Value::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            J::String(s) => Value::Str(s.clone()),
            other => Value::Json(other.clone()),
        }
    }
}

/// Formats a datetime as MySQL does: `YYYY-MM-DD HH:MM:SS[.ffffff]`.
pub fn format_datetime(dt: &NaiveDateTime, with_micros: bool) -> String {
    if with_micros {
        dt.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
    } else {
        dt.format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

fn format_time(t: &NaiveTime) -> String {
    if t.nanosecond() / 1000 != 0 {
        t.format("%H:%M:%S%.6f").to_string()
    } else {
        t.format("%H:%M:%S").to_string()
    }
}

/// Python's `repr(float)`: shortest round-trip digits, exponent form outside 1e-4..1e16.
pub fn python_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // `{:e}` gives the shortest round-trip mantissa, e.g. "1.2345e17"
    let e = format!("{:e}", f);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if neg { "-" } else { "" };
    if !(-4..16).contains(&exp) {
        let (d0, rest) = digits.split_at(1);
        let mant = if rest.is_empty() {
            d0.to_string()
        } else {
            format!("{d0}.{rest}")
        };
        let esign = if exp < 0 { "-" } else { "+" };
        format!("{sign}{mant}e{esign}{:02}", exp.abs())
    } else if exp >= 0 {
        let point = exp as usize + 1;
        if digits.len() <= point {
            format!("{sign}{digits}{}.0", "0".repeat(point - digits.len()))
        } else {
            format!("{sign}{}.{}", &digits[..point], &digits[point..])
        }
    } else {
        format!("{sign}0.{}{digits}", "0".repeat((-exp - 1) as usize))
    }
}

/// Column names shared by the rows of one fetch or insert.
pub type Columns = Arc<[String]>;

/// One row: values in the order of a shared column list.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    columns: Columns,
    values: Vec<Value>,
}

impl Row {
    /// Builds a row from shared column names and values of the same length.
    pub fn new(columns: Columns, values: Vec<Value>) -> Result<Row> {
        if columns.len() != values.len() {
            return Err(Error::Query(format!(
                "row has {} values for {} columns",
                values.len(),
                columns.len()
            )));
        }
        Ok(Row { columns, values })
    }

    /// Builds a row from (name, value) pairs.
    pub fn from_pairs<K: Into<String>, V: Into<Value>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Row {
        let (names, values): (Vec<String>, Vec<Value>) =
            pairs.into_iter().map(|(k, v)| (k.into(), v.into())).unzip();
        Row {
            columns: names.into(),
            values,
        }
    }

    /// The value of an attribute.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.columns
            .iter()
            .position(|c| c == name)
            .map(|i| &self.values[i])
    }

    /// Column names.
    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// Values in column order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// Consumes the row into its values.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// (name, value) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.columns
            .iter()
            .map(String::as_str)
            .zip(self.values.iter())
    }

    /// A copy restricted to the named attributes (those present).
    pub fn project(&self, names: &[String]) -> Row {
        Row::from_pairs(
            names
                .iter()
                .filter_map(|n| self.get(n).map(|v| (n.clone(), v.clone()))),
        )
    }

    /// The row as an ordered map.
    pub fn to_map(&self) -> IndexMap<String, Value> {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    /// The row as a JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.iter()
                .map(|(k, v)| (k.to_string(), v.to_json()))
                .collect(),
        )
    }
}

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.values.len()))?;
        for (k, v) in self.iter() {
            m.serialize_entry(k, &v.to_json())?;
        }
        m.end()
    }
}

fn bad_value(attr: &Attribute, table: &str, message: impl Into<String>) -> Error {
    Error::BadValue {
        table: table.to_string(),
        attribute: attr.name.clone(),
        ty: attr.ty.to_string(),
        message: message.into(),
    }
}

fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt);
        }
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(dt.naive_utc());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

fn round_fsp(dt: NaiveDateTime, fsp: Option<u32>) -> NaiveDateTime {
    let keep = fsp.unwrap_or(0);
    let unit = 10u32.pow(9 - keep);
    let ns = dt.nanosecond() / unit * unit;
    dt.with_nanosecond(ns).unwrap_or(dt)
}

/// Converts a user value into what is bound for an attribute, checking type and range.
///
/// `table` only names the culprit in errors. NULL (and NaN for numeric types) comes
/// back as `SqlValue::Null`; the caller decides whether NULL is allowed.
pub fn to_sql(attr: &Attribute, table: &str, v: &Value) -> Result<SqlValue> {
    if v.is_null() {
        return Ok(SqlValue::Null);
    }
    if attr.ty.is_numeric() && matches!(v, Value::Float(f) if f.is_nan()) {
        return Ok(SqlValue::Null);
    }
    let wrong = || {
        bad_value(
            attr,
            table,
            format!("cannot store a {} value {}", v.kind(), short(v)),
        )
    };
    match &attr.ty {
        AttrType::Int { size, unsigned, .. } => {
            let i: i128 = match v {
                Value::UInt(u) => *u as i128,
                Value::Int(_)
                | Value::Bool(_)
                | Value::Float(_)
                | Value::Str(_)
                | Value::Decimal(_) => v.as_i64().ok_or_else(wrong)? as i128,
                _ => return Err(wrong()),
            };
            let (lo, hi) = size.range(*unsigned);
            if i < lo || i > hi {
                return Err(bad_value(
                    attr,
                    table,
                    format!("{i} is outside {lo}..={hi}"),
                ));
            }
            Ok(if i > i64::MAX as i128 {
                SqlValue::UInt(i as u64)
            } else {
                SqlValue::Int(i as i64)
            })
        }
        AttrType::Year => Ok(SqlValue::Int(v.as_i64().ok_or_else(wrong)?)),
        AttrType::Bool => match v {
            Value::Bool(b) => Ok(SqlValue::Int(*b as i64)),
            Value::Int(0) | Value::Int(1) => Ok(SqlValue::Int(v.as_i64().unwrap_or(0))),
            Value::Str(s) => match s.to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(SqlValue::Int(1)),
                "false" | "0" => Ok(SqlValue::Int(0)),
                _ => Err(wrong()),
            },
            _ => Err(wrong()),
        },
        AttrType::Float { unsigned, .. } => {
            let f = match v {
                Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Bool(_) => v.as_f64(),
                Value::Str(_) | Value::Decimal(_) => v.as_f64(),
                _ => None,
            }
            .ok_or_else(wrong)?;
            if f.is_nan() {
                return Ok(SqlValue::Null);
            }
            if f.is_infinite() {
                return Err(bad_value(attr, table, "infinite values cannot be stored"));
            }
            if *unsigned && f < 0.0 {
                return Err(bad_value(attr, table, format!("{f} is negative")));
            }
            Ok(SqlValue::Float(f))
        }
        AttrType::Decimal {
            precision,
            scale,
            unsigned,
        } => {
            let text = match v {
                Value::Int(i) => i.to_string(),
                Value::UInt(u) => u.to_string(),
                Value::Float(f) => format!("{:.*}", *scale as usize, f),
                Value::Str(s) | Value::Decimal(s) => s.trim().to_string(),
                _ => return Err(wrong()),
            };
            let normalized = normalize_decimal(&text, *precision, *scale)
                .ok_or_else(|| bad_value(attr, table, format!("`{text}` does not fit")))?;
            if *unsigned && normalized.starts_with('-') {
                return Err(bad_value(attr, table, format!("{text} is negative")));
            }
            Ok(SqlValue::Text(normalized))
        }
        AttrType::Char(n) | AttrType::Varchar(n) => {
            let s = match v {
                Value::Str(s) | Value::Decimal(s) => s.clone(),
                Value::Int(_) | Value::UInt(_) | Value::Float(_) => v.python_str(),
                Value::Uuid(u) => u.hyphenated().to_string(),
                _ => return Err(wrong()),
            };
            // bytes bound the characters from above: count only when it could matter
            let len = if s.len() <= *n as usize {
                0
            } else {
                s.chars().count()
            };
            if len > *n as usize {
                return Err(bad_value(
                    attr,
                    table,
                    format!("{len} characters exceed the limit of {n}: {}", short(v)),
                ));
            }
            Ok(SqlValue::Text(s))
        }
        AttrType::Enum(options) => {
            let s = match v {
                Value::Str(s) => s.clone(),
                Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
                _ => return Err(wrong()),
            };
            if !options.contains(&s) {
                return Err(bad_value(
                    attr,
                    table,
                    format!("`{s}` is not one of {}", options.join(", ")),
                ));
            }
            Ok(SqlValue::Text(s))
        }
        AttrType::Date => {
            if let Value::Str(s) = v {
                if is_canonical_date(s) {
                    return Ok(SqlValue::Text(s.clone()));
                }
            }
            let d = match v {
                Value::Date(d) => *d,
                Value::DateTime(dt) => dt.date(),
                Value::Str(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
                    bad_value(attr, table, format!("`{s}` is not a date (YYYY-MM-DD)"))
                })?,
                _ => return Err(wrong()),
            };
            Ok(SqlValue::Text(d.format("%Y-%m-%d").to_string()))
        }
        AttrType::Datetime(fsp) | AttrType::Timestamp(fsp) => {
            if let Value::Str(s) = v {
                let up = s.trim().to_ascii_uppercase();
                if up.starts_with("CURRENT_TIMESTAMP") || up == "NOW()" {
                    return Ok(SqlValue::Text(
                        chrono::Utc::now()
                            .naive_utc()
                            .format("%Y-%m-%d %H:%M:%S")
                            .to_string(),
                    ));
                }
            }
            let dt = match v {
                Value::DateTime(dt) => *dt,
                Value::Date(d) => d.and_hms_opt(0, 0, 0).ok_or_else(wrong)?,
                Value::Str(s) => parse_datetime(s)
                    .ok_or_else(|| bad_value(attr, table, format!("`{s}` is not a datetime")))?,
                _ => return Err(wrong()),
            };
            let dt = round_fsp(dt, *fsp);
            Ok(SqlValue::Text(format_datetime(&dt, fsp.unwrap_or(0) > 0)))
        }
        AttrType::Time(_) => {
            let t = match v {
                Value::Time(t) => *t,
                Value::Str(s) => NaiveTime::parse_from_str(s.trim(), "%H:%M:%S%.f")
                    .or_else(|_| NaiveTime::parse_from_str(s.trim(), "%H:%M"))
                    .map_err(|_| bad_value(attr, table, format!("`{s}` is not a time")))?,
                _ => return Err(wrong()),
            };
            Ok(SqlValue::Text(format_time(&t)))
        }
        AttrType::Uuid => {
            let u = match v {
                Value::Uuid(u) => *u,
                Value::Str(s) => Uuid::parse_str(s.trim())
                    .map_err(|_| bad_value(attr, table, format!("`{s}` is not a UUID")))?,
                Value::Bytes(b) if b.len() == 16 => Uuid::from_slice(b).map_err(|_| wrong())?,
                _ => return Err(wrong()),
            };
            Ok(SqlValue::Bytes(u.as_bytes().to_vec()))
        }
        AttrType::Json => {
            let j = match v {
                Value::Json(j) => j.clone(),
                other => other.to_json(),
            };
            Ok(SqlValue::Text(j.to_string()))
        }
        AttrType::Blob(_) | AttrType::Adapted(_) => {
            let packed = pack_value(v);
            if let AttrType::Blob(size) = &attr.ty {
                if packed.len() as u64 > size.max_len() {
                    return Err(bad_value(
                        attr,
                        table,
                        format!(
                            "packed blob of {} bytes exceeds the column's {}",
                            packed.len(),
                            size.max_len()
                        ),
                    ));
                }
            }
            Ok(SqlValue::Bytes(packed))
        }
        AttrType::Attach => match v {
            Value::Attach { name, data } => Ok(SqlValue::Bytes(attach_bytes(name, data))),
            Value::Str(path) => {
                let data = std::fs::read(path).map_err(|e| Error::Io {
                    path: path.clone(),
                    source: e,
                })?;
                let name = std::path::Path::new(path)
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                Ok(SqlValue::Bytes(attach_bytes(&name, &data)))
            }
            _ => Err(wrong()),
        },
        AttrType::Native(_) => Ok(match v {
            Value::Str(s) | Value::Decimal(s) => SqlValue::Text(s.clone()),
            Value::Bytes(b) => SqlValue::Bytes(b.clone()),
            Value::Int(i) => SqlValue::Int(*i),
            Value::UInt(u) => SqlValue::UInt(*u),
            Value::Float(f) => SqlValue::Float(*f),
            Value::Bool(b) => SqlValue::Int(*b as i64),
            _ => SqlValue::Text(v.python_str()),
        }),
        AttrType::ExternalBlob(_) | AttrType::ExternalAttach(_) | AttrType::Filepath(_) => {
            match v {
                Value::Bytes(b) if b.len() == 16 => Ok(SqlValue::Bytes(b.clone())),
                Value::Uuid(u) => Ok(SqlValue::Bytes(u.as_bytes().to_vec())),
                _ => Err(bad_value(
                    attr,
                    table,
                    "external-store attributes are written through the store API",
                )),
            }
        }
    }
}

/// Parses `YYYY-MM-DD` (the stored form) without chrono's general parser.
fn parse_canonical_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u32)
        })
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

fn is_canonical_date(s: &str) -> bool {
    parse_canonical_date(s).is_some()
}

fn attach_bytes(name: &str, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len() + 1 + data.len());
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    out.extend_from_slice(data);
    out
}

/// Packs a value as the DataJoint blob it stands for.
pub(crate) fn pack_value(v: &Value) -> Vec<u8> {
    let blob = match v {
        Value::Blob(b) => return spyglass_blob::pack(b),
        Value::Bool(b) => spyglass_blob::Value::Bool(*b),
        Value::Int(i) => spyglass_blob::Value::Int(*i as i128),
        Value::UInt(u) => spyglass_blob::Value::Int(*u as i128),
        Value::Float(f) => spyglass_blob::Value::Float(*f),
        Value::Str(s) => spyglass_blob::Value::Str(s.clone()),
        Value::Bytes(b) => spyglass_blob::Value::Bytes(b.clone()),
        Value::Json(j) => spyglass_blob::from_json(j),
        Value::Uuid(u) => spyglass_blob::Value::Uuid(*u),
        Value::Decimal(d) => spyglass_blob::Value::Decimal(d.clone()),
        other => spyglass_blob::from_json(&other.to_json()),
    };
    spyglass_blob::pack(&blob)
}

/// Normalizes decimal text to `scale` digits after the point; None if it does not fit.
fn normalize_decimal(text: &str, precision: u32, scale: u32) -> Option<String> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part.chars().all(|c| c.is_ascii_digit())
        || !frac_part.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let int_part = int_part.trim_start_matches('0');
    if int_part.len() > (precision - scale) as usize {
        return None;
    }
    let mut frac: String = frac_part.chars().take(scale as usize).collect();
    while frac.len() < scale as usize {
        frac.push('0');
    }
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    let sign = if neg && (int_part != "0" || frac.chars().any(|c| c != '0')) {
        "-"
    } else {
        ""
    };
    Some(if scale == 0 {
        format!("{sign}{int_part}")
    } else {
        format!("{sign}{int_part}.{frac}")
    })
}

/// Converts a fetched primitive back into a typed value for an attribute.
pub fn from_sql(attr: &Attribute, v: SqlValue) -> Result<Value> {
    if v == SqlValue::Null {
        return Ok(Value::Null);
    }
    let corrupt = |what: &str| {
        Error::backend(format!(
            "attribute `{}` ({}): stored value is not {what}",
            attr.name, attr.ty
        ))
    };
    Ok(match &attr.ty {
        AttrType::Int { .. } | AttrType::Year => match v {
            SqlValue::Int(i) => Value::Int(i),
            SqlValue::UInt(u) => Value::from(u),
            SqlValue::Float(f) => Value::Int(f as i64),
            SqlValue::Text(s) => Value::Int(s.parse().map_err(|_| corrupt("an integer"))?),
            _ => return Err(corrupt("an integer")),
        },
        AttrType::Bool => match v {
            SqlValue::Int(i) => Value::Bool(i != 0),
            SqlValue::UInt(u) => Value::Bool(u != 0),
            SqlValue::Text(s) => Value::Bool(s != "0"),
            _ => return Err(corrupt("a boolean")),
        },
        AttrType::Float { .. } => match v {
            SqlValue::Float(f) => Value::Float(f),
            SqlValue::Int(i) => Value::Float(i as f64),
            SqlValue::UInt(u) => Value::Float(u as f64),
            SqlValue::Text(s) => Value::Float(s.parse().map_err(|_| corrupt("a number"))?),
            _ => return Err(corrupt("a number")),
        },
        AttrType::Decimal {
            precision, scale, ..
        } => {
            let text = match v {
                SqlValue::Float(f) => format!("{:.*}", *scale as usize, f),
                SqlValue::Int(i) => i.to_string(),
                SqlValue::UInt(u) => u.to_string(),
                SqlValue::Text(s) => s,
                _ => return Err(corrupt("a decimal")),
            };
            Value::Decimal(normalize_decimal(&text, *precision, *scale).unwrap_or(text))
        }
        AttrType::Char(_) | AttrType::Varchar(_) | AttrType::Enum(_) => match v {
            SqlValue::Text(s) => Value::Str(s),
            SqlValue::Bytes(b) => Value::Str(String::from_utf8_lossy(&b).into_owned()),
            SqlValue::Int(i) => Value::Str(i.to_string()),
            SqlValue::UInt(i) => Value::Str(i.to_string()),
            SqlValue::Float(f) => Value::Str(python_float_repr(f)),
            SqlValue::Null => Value::Null,
        },
        AttrType::Date => {
            let s = text_of(v).ok_or_else(|| corrupt("a date"))?;
            // MySQL's binary protocol sends DATE as a datetime at midnight
            let s = if s.len() > 10 && s.ends_with(" 00:00:00") {
                s[..10].to_string()
            } else {
                s
            };
            match parse_canonical_date(&s) {
                Some(d) => Value::Date(d),
                None => Value::Date(
                    NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| corrupt("a date"))?,
                ),
            }
        }
        AttrType::Datetime(_) | AttrType::Timestamp(_) => {
            let s = text_of(v).ok_or_else(|| corrupt("a datetime"))?;
            Value::DateTime(parse_datetime(&s).ok_or_else(|| corrupt("a datetime"))?)
        }
        AttrType::Time(_) => {
            let s = text_of(v).ok_or_else(|| corrupt("a time"))?;
            Value::Time(
                NaiveTime::parse_from_str(&s, "%H:%M:%S%.f").map_err(|_| corrupt("a time"))?,
            )
        }
        AttrType::Uuid => match v {
            SqlValue::Bytes(b) => {
                Value::Uuid(Uuid::from_slice(&b).map_err(|_| corrupt("16 bytes"))?)
            }
            SqlValue::Text(s) => Value::Uuid(Uuid::parse_str(&s).map_err(|_| corrupt("a UUID"))?),
            _ => return Err(corrupt("a UUID")),
        },
        AttrType::Json => {
            let s = text_of(v).ok_or_else(|| corrupt("JSON text"))?;
            Value::Json(serde_json::from_str(&s).map_err(|_| corrupt("JSON"))?)
        }
        AttrType::Blob(_) | AttrType::Adapted(_) => match v {
            SqlValue::Bytes(b) => {
                Value::Blob(Box::new(spyglass_blob::unpack(&b).map_err(|e| {
                    Error::Blob {
                        attribute: attr.name.clone(),
                        source: e,
                    }
                })?))
            }
            _ => return Err(corrupt("a blob")),
        },
        AttrType::Attach => match v {
            SqlValue::Bytes(b) => {
                let nul = b
                    .iter()
                    .position(|&c| c == 0)
                    .ok_or_else(|| corrupt("an attachment"))?;
                Value::Attach {
                    name: String::from_utf8_lossy(&b[..nul]).into_owned(),
                    data: b[nul + 1..].to_vec(),
                }
            }
            _ => return Err(corrupt("an attachment")),
        },
        AttrType::Native(_) => match v {
            SqlValue::Text(s) => Value::Str(s),
            SqlValue::Bytes(b) if attr.ty.is_binary_native() => Value::Bytes(b),
            SqlValue::Bytes(b) => match String::from_utf8(b) {
                Ok(s) => Value::Str(s),
                Err(e) => Value::Bytes(e.into_bytes()),
            },
            SqlValue::Int(i) => Value::Int(i),
            SqlValue::UInt(u) => Value::from(u),
            SqlValue::Float(f) => Value::Float(f),
            SqlValue::Null => Value::Null,
        },
        AttrType::ExternalBlob(_) | AttrType::ExternalAttach(_) | AttrType::Filepath(_) => {
            match v {
                SqlValue::Bytes(b) => {
                    Value::Uuid(Uuid::from_slice(&b).map_err(|_| corrupt("a hash"))?)
                }
                _ => return Err(corrupt("a hash")),
            }
        }
    })
}

fn text_of(v: SqlValue) -> Option<String> {
    match v {
        SqlValue::Text(s) => Some(s),
        SqlValue::Bytes(b) => String::from_utf8(b).ok(),
        _ => None,
    }
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::Str(s) => format!("\"{s}\""),
        Value::Blob(_) => "<blob>".into(),
        Value::Bytes(b) => format!("<{} bytes>", b.len()),
        other => other.python_str(),
    };
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_float_repr_matches_python() {
        for (f, s) in [
            (0.1, "0.1"),
            (1.0, "1.0"),
            (5.0, "5.0"),
            (-2.5, "-2.5"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (1.5e-7, "1.5e-07"),
            (30000.0, "30000.0"),
            (0.0, "0.0"),
        ] {
            assert_eq!(python_float_repr(f), s, "{f}");
        }
    }

    #[test]
    fn decimals_normalize() {
        assert_eq!(normalize_decimal("12.5", 5, 2).as_deref(), Some("12.50"));
        assert_eq!(normalize_decimal("-0.001", 5, 2).as_deref(), Some("0.00"));
        assert_eq!(normalize_decimal("1234", 5, 2), None);
        assert_eq!(normalize_decimal("abc", 5, 2), None);
        assert_eq!(normalize_decimal("7", 3, 0).as_deref(), Some("7"));
    }
}
