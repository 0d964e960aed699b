//! Declaring against a table that already exists, as DataJoint does: the table
//! found in the database is used as it is when it is compatible with the one our
//! definition describes — the same primary key, and every attribute we read or
//! write present with a compatible type. Everything else that may differ between
//! a lab's table and ours (comments, attribute order, defaults, string lengths,
//! integer widths, extra optional attributes, foreign keys and secondary indexes)
//! is a [`Difference`], listed by `spyglass check` and never fatal. What would make
//! our reads or writes wrong or impossible (an attribute missing, another type
//! family, an enum without our values, another store, an extra attribute that
//! needs a value we never give) is an incompatibility: declaring fails with both
//! definitions in the message.

use crate::heading::{Attribute, TableInfo};
use crate::types::AttrType;

/// One way an existing table differs from our definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The attribute concerned, or `None` for the table as a whole.
    pub attribute: Option<String>,
    /// What differs, in words (ours first, then the database's).
    pub what: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.attribute {
            Some(a) => write!(f, "`{a}`: {}", self.what),
            None => f.write_str(&self.what),
        }
    }
}

/// How an existing table compares with our definition of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Differences that make the table unusable for us.
    pub incompatible: Vec<Difference>,
    /// Differences that do not matter to our reads and writes.
    pub differences: Vec<Difference>,
}

impl Comparison {
    /// True when the existing table can be used as it is.
    pub fn is_compatible(&self) -> bool {
        self.incompatible.is_empty()
    }

    /// True when nothing differs at all.
    pub fn is_identical(&self) -> bool {
        self.incompatible.is_empty() && self.differences.is_empty()
    }

    fn differ(&mut self, attribute: Option<&str>, what: String) {
        self.differences.push(Difference {
            attribute: attribute.map(str::to_string),
            what,
        });
    }

    fn refuse(&mut self, attribute: Option<&str>, what: String) {
        self.incompatible.push(Difference {
            attribute: attribute.map(str::to_string),
            what,
        });
    }
}

/// How two attribute types relate.
enum TypeFit {
    Same,
    Differs(String),
    Incompatible(String),
}

/// Compares the table found in the database (`existing`) with ours (`ours`, compiled
/// from our definition against the same catalog).
pub fn compare(existing: &TableInfo, ours: &TableInfo) -> Comparison {
    let mut c = Comparison::default();
    if existing.comment.trim() != ours.comment.trim() {
        c.differ(
            None,
            format!(
                "table comment: ours {:?}, the database's {:?}",
                ours.comment, existing.comment
            ),
        );
    }
    let (our_pk, their_pk) = (ours.primary_key(), existing.primary_key());
    let mut a = our_pk.clone();
    let mut b = their_pk.clone();
    a.sort();
    b.sort();
    if a != b {
        c.refuse(
            None,
            format!(
                "primary key: ours ({}), the database's ({})",
                our_pk.join(", "),
                their_pk.join(", ")
            ),
        );
    } else if our_pk != their_pk {
        c.differ(
            None,
            format!(
                "primary key order: ours ({}), the database's ({})",
                our_pk.join(", "),
                their_pk.join(", ")
            ),
        );
    }
    for ours_attr in &ours.heading.attributes {
        let name = ours_attr.name.as_str();
        let Some(theirs) = existing.heading.get(name) else {
            c.refuse(
                Some(name),
                format!("missing (ours: {})", show_attr(ours_attr)),
            );
            continue;
        };
        compare_attr(&mut c, ours_attr, theirs);
    }
    for theirs in &existing.heading.attributes {
        if ours.heading.get(&theirs.name).is_some() {
            continue;
        }
        if theirs.is_optional() {
            c.differ(
                Some(&theirs.name),
                format!(
                    "only in the database ({}); spyglass-rs leaves it to its default",
                    show_attr(theirs)
                ),
            );
        } else {
            c.refuse(
                Some(&theirs.name),
                format!(
                    "only in the database ({}) and required: spyglass-rs never writes it",
                    show_attr(theirs)
                ),
            );
        }
    }
    let shared = |t: &TableInfo| -> Vec<String> {
        t.heading
            .attributes
            .iter()
            .filter(|a| {
                ours.heading.get(&a.name).is_some() && existing.heading.get(&a.name).is_some()
            })
            .map(|a| a.name.clone())
            .collect()
    };
    let (order_ours, order_theirs) = (shared(ours), shared(existing));
    if order_ours != order_theirs {
        c.differ(
            None,
            format!(
                "attribute order: ours ({}), the database's ({})",
                order_ours.join(", "),
                order_theirs.join(", ")
            ),
        );
    }
    for fk in &ours.foreign_keys {
        if !existing.foreign_keys.iter().any(|x| same_fk(x, fk)) {
            c.differ(
                None,
                format!(
                    "foreign key -> {} ({}) is not in the database: rows are not checked against it",
                    fk.parent.pretty(),
                    fk_cols(fk)
                ),
            );
        }
    }
    for fk in &existing.foreign_keys {
        if !ours.foreign_keys.iter().any(|x| same_fk(x, fk)) {
            c.differ(
                None,
                format!(
                    "foreign key -> {} ({}) is only in the database",
                    fk.parent.pretty(),
                    fk_cols(fk)
                ),
            );
        }
    }
    for idx in &ours.indexes {
        if !existing.indexes.contains(idx) {
            c.differ(
                None,
                format!("index ({}) is not in the database", idx.attrs.join(", ")),
            );
        }
    }
    for idx in &existing.indexes {
        if !ours.indexes.contains(idx) {
            c.differ(
                None,
                format!("index ({}) is only in the database", idx.attrs.join(", ")),
            );
        }
    }
    c
}

fn same_fk(a: &crate::heading::ForeignKey, b: &crate::heading::ForeignKey) -> bool {
    let mut x = a.attr_map.clone();
    let mut y = b.attr_map.clone();
    x.sort();
    y.sort();
    a.parent == b.parent && x == y
}

fn fk_cols(fk: &crate::heading::ForeignKey) -> String {
    fk.attr_map
        .iter()
        .map(|(c, p)| {
            if c == p {
                c.clone()
            } else {
                format!("{c}={p}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn show_attr(a: &Attribute) -> String {
    let default = if a.nullable {
        " = null".to_string()
    } else {
        a.default
            .as_ref()
            .map(|d| format!(" = {d}"))
            .unwrap_or_default()
    };
    format!("{}{default} : {}", a.name, a.ty)
}

fn compare_attr(c: &mut Comparison, ours: &Attribute, theirs: &Attribute) {
    let name = ours.name.as_str();
    if ours.in_key != theirs.in_key {
        // already reported with the primary key as a whole
        return;
    }
    match type_fit(&ours.ty, &theirs.ty) {
        TypeFit::Same => {}
        TypeFit::Differs(why) => c.differ(
            Some(name),
            format!(
                "type: ours {}, the database's {} ({why})",
                ours.ty, theirs.ty
            ),
        ),
        TypeFit::Incompatible(why) => c.refuse(
            Some(name),
            format!(
                "type: ours {}, the database's {} ({why})",
                ours.ty, theirs.ty
            ),
        ),
    }
    if ours.nullable != theirs.nullable {
        if ours.nullable && !theirs.is_optional() {
            c.refuse(
                Some(name),
                "ours may be NULL, the database's requires a value".into(),
            );
        } else {
            c.differ(
                Some(name),
                format!(
                    "nullable: ours {}, the database's {}",
                    ours.nullable, theirs.nullable
                ),
            );
        }
    } else if !ours.nullable && !same_default(ours, theirs) {
        if ours.default.is_some() && theirs.default.is_none() {
            // our inserts may leave it out and count on the default
            c.refuse(
                Some(name),
                format!(
                    "ours defaults to {}, the database's requires a value",
                    ours.default.as_deref().unwrap_or_default()
                ),
            );
        } else {
            c.differ(
                Some(name),
                format!(
                    "default: ours {}, the database's {}",
                    ours.default.as_deref().unwrap_or("none"),
                    theirs.default.as_deref().unwrap_or("none")
                ),
            );
        }
    }
    if ours.comment.trim() != theirs.comment.trim() {
        c.differ(
            Some(name),
            format!(
                "comment: ours {:?}, the database's {:?}",
                ours.comment, theirs.comment
            ),
        );
    }
}

/// Defaults compare by value: the server reports `1.0` as `1`, `CURRENT_TIMESTAMP`
/// as `current_timestamp()`, and quotes may differ.
fn same_default(a: &Attribute, b: &Attribute) -> bool {
    match (&a.default, &b.default) {
        (None, None) => true,
        (Some(x), Some(y)) => default_value(x) == default_value(y),
        _ => false,
    }
}

fn default_value(d: &str) -> String {
    let kw = crate::heading::default_keyword(d);
    if kw == "CURRENT_TIMESTAMP" || kw == "NULL" {
        return kw;
    }
    let text = crate::heading::unquote_default(d.trim());
    match text.parse::<f64>() {
        Ok(f) => format!("{f}"),
        Err(_) => text.to_string(),
    }
}

fn type_fit(ours: &AttrType, theirs: &AttrType) -> TypeFit {
    use AttrType as T;
    use TypeFit::*;
    if ours == theirs {
        return Same;
    }
    match (ours, theirs) {
        // the server stores bool as tinyint and reports it so
        (T::Bool, T::Int { size, .. }) | (T::Int { size, .. }, T::Bool)
            if *size == crate::types::IntSize::Tiny =>
        {
            Same
        }
        (
            T::Int {
                auto_increment: a, ..
            },
            T::Int {
                auto_increment: b, ..
            },
        ) => {
            if *a && !*b {
                Incompatible("ours is auto_increment: spyglass-rs leaves it to the server".into())
            } else {
                Differs("integers of another width or sign; values out of its range are refused by the server".into())
            }
        }
        (T::Bool, T::Int { .. }) | (T::Int { .. }, T::Bool) => {
            Differs("integers of another width".into())
        }
        (T::Float { .. } | T::Decimal { .. }, T::Float { .. } | T::Decimal { .. }) => {
            Differs("numbers of another precision".into())
        }
        (T::Int { .. }, T::Float { .. } | T::Decimal { .. }) => {
            Differs("numbers; integers are stored exactly below 2^24 (float)".into())
        }
        (T::Char(a) | T::Varchar(a), T::Char(b) | T::Varchar(b)) => {
            if b < a {
                Differs(format!(
                    "strings longer than {b} characters are refused by the server"
                ))
            } else {
                Differs("strings of another length".into())
            }
        }
        (T::Enum(a), T::Enum(b)) => {
            let missing: Vec<&String> = a.iter().filter(|v| !b.contains(v)).collect();
            if missing.is_empty() {
                Differs("the database allows more values".into())
            } else {
                Incompatible(format!(
                    "the database does not allow {}",
                    missing
                        .iter()
                        .map(|v| format!("'{v}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        }
        (T::Enum(_), T::Char(_) | T::Varchar(_)) => Differs("strings instead of an enum".into()),
        (T::Blob(_), T::Blob(_)) => Differs("blobs of another size limit".into()),
        (T::Datetime(_) | T::Timestamp(_), T::Datetime(_) | T::Timestamp(_)) => {
            Differs("date-times of another kind or precision".into())
        }
        (T::Time(_), T::Time(_)) => Differs("times of another precision".into()),
        (T::Json, T::Blob(_)) => Incompatible("a blob is not JSON text".into()),
        (T::Json, _) if matches!(theirs, T::Varchar(_) | T::Char(_)) => {
            Differs("JSON kept as text".into())
        }
        (T::Adapted(_), _) | (_, T::Adapted(_)) => {
            Incompatible("adapted types are not interchangeable".into())
        }
        _ if ours.store().is_some() || theirs.store().is_some() => {
            Incompatible("another kind of external storage or store".into())
        }
        _ => Incompatible("another type family".into()),
    }
}

/// The message of a refused declaration: what is incompatible, then both definitions.
pub fn mismatch_text(cmp: &Comparison, existing: &str, ours: &str) -> String {
    let mut out = String::from("incompatible:\n");
    for d in &cmp.incompatible {
        out.push_str(&format!("  {d}\n"));
    }
    out.push_str("the database's definition:\n");
    for l in existing.lines() {
        out.push_str(&format!("  {l}\n"));
    }
    out.push_str("spyglass-rs's definition:\n");
    for l in ours.lines() {
        out.push_str(&format!("  {l}\n"));
    }
    out
}

/// Our definition of one table compared with the database.
#[derive(Debug, Clone)]
pub struct TableCheck {
    /// The table's stored name.
    pub name: crate::naming::FullName,
    /// How it compares (`Missing` when the database lacks it).
    pub status: CheckStatus,
}

/// Outcome of comparing one of our tables with the database.
#[derive(Debug, Clone)]
pub enum CheckStatus {
    /// The table exists; the comparison says how it differs.
    Present(Comparison),
    /// The database has no such table (declaring it would create it).
    Missing,
    /// Our definition cannot be compiled against this database (a parent is missing
    /// or incompatible); the message says why.
    Unresolved(String),
}

impl crate::db::Db {
    /// Compares a table spec (master and parts) with the tables the database has,
    /// without changing anything.
    pub fn check_spec(&self, schema: &str, spec: &crate::db::TableSpec) -> Vec<TableCheck> {
        use crate::naming::{part_table_name, FullName, Tier};
        let schema = self.schema_name(schema);
        let mut out = Vec::new();
        let name = match crate::catalog::Catalog::name_for(&schema, &spec.class_name, spec.tier) {
            Ok(n) => n,
            Err(e) => {
                out.push(TableCheck {
                    name: FullName::new(&schema, &spec.class_name),
                    status: CheckStatus::Unresolved(e.to_string()),
                });
                return out;
            }
        };
        let master = self.compile_spec(&name, spec.tier, &spec.definition, None);
        out.push(TableCheck {
            name: name.clone(),
            status: self.check_one(&name, &master),
        });
        let master = master.ok().map(std::sync::Arc::new);
        for p in &spec.parts {
            let Ok(table) = part_table_name(&name.table, &p.class_name) else {
                continue;
            };
            let pname = FullName::new(&schema, table);
            // parts compile against the database's master when it has one
            let m = self.catalog().get(&name).or_else(|| master.clone());
            let compiled = self.compile_spec(&pname, Tier::Part, &p.definition, m);
            out.push(TableCheck {
                name: pname.clone(),
                status: self.check_one(&pname, &compiled),
            });
        }
        out
    }

    fn check_one(
        &self,
        name: &crate::naming::FullName,
        compiled: &crate::error::Result<TableInfo>,
    ) -> CheckStatus {
        match (self.catalog().get(name), compiled) {
            (Some(existing), Ok(ours)) => CheckStatus::Present(compare(&existing, ours)),
            (None, _) => CheckStatus::Missing,
            (Some(_), Err(e)) => CheckStatus::Unresolved(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heading::{Heading, Index};
    use crate::naming::{FullName, Tier};

    fn attr(name: &str, ty: &str, in_key: bool) -> Attribute {
        Attribute {
            name: name.into(),
            ty: AttrType::parse(ty).unwrap(),
            in_key,
            nullable: false,
            default: None,
            comment: String::new(),
        }
    }

    fn table(comment: &str, attrs: Vec<Attribute>) -> TableInfo {
        TableInfo {
            name: FullName::new("s", "t"),
            tier: Tier::Manual,
            comment: comment.into(),
            heading: Heading { attributes: attrs },
            foreign_keys: vec![],
            indexes: vec![],
        }
    }

    #[test]
    fn comments_order_and_indexes_only_differ() {
        let mut c1 = attr("c", "varchar(80)", false);
        c1.comment = "ours".into();
        let ours = table(
            "our table",
            vec![attr("k", "int", true), attr("b", "float", false), c1],
        );
        let mut theirs = table(
            "Table for holding the NWB files.",
            vec![
                attr("k", "int", true),
                attr("c", "varchar(80)", false),
                attr("b", "float", false),
            ],
        );
        theirs.indexes.push(Index {
            unique: false,
            attrs: vec!["c".into()],
        });
        let cmp = compare(&theirs, &ours);
        assert!(cmp.is_compatible(), "{cmp:?}");
        let text: Vec<String> = cmp.differences.iter().map(|d| d.to_string()).collect();
        assert_eq!(text.len(), 4, "{text:?}");
        assert!(text[0].starts_with("table comment"));
        assert!(text.iter().any(|t| t.starts_with("`c`: comment")));
        assert!(text
            .iter()
            .any(|t| t.starts_with("attribute order: ours (k, b, c)")));
        assert!(text
            .iter()
            .any(|t| t == "index (c) is only in the database"));
    }

    #[test]
    fn missing_attributes_and_other_keys_are_incompatible() {
        let ours = table("", vec![attr("k", "int", true), attr("v", "blob", false)]);
        let theirs = table("", vec![attr("k", "int", true), attr("w", "blob", false)]);
        let cmp = compare(&theirs, &ours);
        let text: Vec<String> = cmp.incompatible.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            text,
            [
                "`v`: missing (ours: v : blob)",
                "`w`: only in the database (w : blob) and required: spyglass-rs never writes it"
            ]
        );
        let other_key = table("", vec![attr("j", "int", true), attr("v", "blob", false)]);
        let cmp = compare(&other_key, &ours);
        assert!(cmp.incompatible[0]
            .to_string()
            .starts_with("primary key: ours (k), the database's (j)"));
    }

    #[test]
    fn type_families() {
        let pairs = [
            ("bool", "tinyint", true, true),
            ("int", "int unsigned", true, false),
            ("int auto_increment", "int", false, false),
            ("float", "double", true, false),
            ("varchar(64)", "varchar(80)", true, false),
            ("enum('a','b')", "enum('a','b','c')", true, false),
            ("enum('a','b')", "enum('a')", false, false),
            ("blob", "longblob", true, false),
            ("filepath@raw", "filepath@analysis", false, false),
            ("varchar(10)", "blob", false, false),
        ];
        for (o, t, compatible, same) in pairs {
            let ours = table("", vec![attr("k", "int", true), attr("v", o, false)]);
            let theirs = table("", vec![attr("k", "int", true), attr("v", t, false)]);
            let cmp = compare(&theirs, &ours);
            assert_eq!(cmp.is_compatible(), compatible, "{o} vs {t}: {cmp:?}");
            assert_eq!(cmp.is_identical(), same, "{o} vs {t}: {cmp:?}");
        }
    }

    #[test]
    fn defaults_compare_by_value() {
        let mut a = attr("v", "float", false);
        a.default = Some("0".into());
        let mut b = a.clone();
        b.default = Some("0.0".into());
        let ours = table("", vec![attr("k", "int", true), a.clone()]);
        let theirs = table("", vec![attr("k", "int", true), b]);
        assert!(compare(&theirs, &ours).is_identical());
        let mut required = a;
        required.default = None;
        let theirs = table("", vec![attr("k", "int", true), required]);
        assert!(!compare(&theirs, &ours).is_compatible());
    }
}
