//! Row conversion between backends: each target column is filled from a source column
//! (typed values re-bound for the target's type, blobs and hashes byte for byte) or
//! from a transform (date + time → datetime); MySQL's zero dates become NULL, skip the
//! row, or fail it with a reason.

use super::plan::ZeroAction;
use crate::heading::Attribute;
use crate::types::AttrType;
use crate::value::{from_sql, to_sql, SqlValue, Value};
use std::collections::HashMap;

/// Where a target column's value comes from.
#[derive(Debug, Clone)]
pub(crate) enum Fill {
    /// The source column at this position of the select list.
    Copy { src: usize, attr: Attribute },
    /// A date and a time column of the source, combined.
    DateTime { date: usize, time: usize },
}

/// One target column of the insert.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    /// The target attribute.
    pub attr: Attribute,
    /// Its source.
    pub fill: Fill,
}

/// What became of one source row.
pub(crate) enum Outcome {
    /// The target row's values, in the order of the columns.
    Row(Vec<SqlValue>),
    /// Left out by a `zero_date: skip` transform.
    Skip,
    /// Cannot be converted; the reason.
    Fail(String),
}

/// True for types whose stored bytes are copied unchanged.
pub(crate) fn bytes_kind(t: &AttrType) -> bool {
    matches!(
        t,
        AttrType::Blob(_)
            | AttrType::Adapted(_)
            | AttrType::Attach
            | AttrType::ExternalBlob(_)
            | AttrType::ExternalAttach(_)
            | AttrType::Filepath(_)
            | AttrType::Uuid
    ) || t.is_binary_native()
}

/// True for MySQL's zero date (`0000-00-00`, with or without a time).
pub(crate) fn is_zero_date(v: &SqlValue) -> bool {
    match v {
        SqlValue::Text(s) => s.starts_with("0000-00-00"),
        SqlValue::Bytes(b) => b.starts_with(b"0000-00-00"),
        _ => false,
    }
}

/// Converts one stored value of a source attribute for a target attribute.
pub(crate) fn copy_value(
    src: &Attribute,
    dst: &Attribute,
    table: &str,
    v: SqlValue,
) -> std::result::Result<SqlValue, String> {
    if v == SqlValue::Null {
        return Ok(SqlValue::Null);
    }
    if bytes_kind(&src.ty) && bytes_kind(&dst.ty) {
        return Ok(v);
    }
    let typed = from_sql(src, v).map_err(|e| format!("`{}`: {e}", src.name))?;
    to_sql(dst, table, &typed).map_err(|e| e.to_string())
}

/// Combines a stored date and a stored time into a datetime for `dst`.
fn combine(
    dst: &Attribute,
    table: &str,
    date: &SqlValue,
    time: &SqlValue,
) -> std::result::Result<SqlValue, String> {
    if *date == SqlValue::Null || *time == SqlValue::Null {
        return Ok(SqlValue::Null);
    }
    let d = date.to_text();
    let t = time.to_text();
    let d = d.get(..10).unwrap_or(&d);
    let hours_ok = t
        .split(':')
        .next()
        .and_then(|h| h.parse::<u32>().ok())
        .is_some_and(|h| h < 24);
    if !hours_ok {
        return Err(format!("time `{t}` is not a time of day"));
    }
    to_sql(dst, table, &Value::Str(format!("{d} {t}"))).map_err(|e| e.to_string())
}

/// Converts a source row (values in select order) into the target row.
pub(crate) fn convert(
    columns: &[Column],
    src_names: &[String],
    zero: &HashMap<usize, ZeroAction>,
    table: &str,
    mut row: Vec<SqlValue>,
) -> Outcome {
    for (i, v) in row.iter_mut().enumerate() {
        if is_zero_date(v) {
            match zero.get(&i) {
                Some(ZeroAction::Null) => *v = SqlValue::Null,
                Some(ZeroAction::Skip) => return Outcome::Skip,
                None => {
                    return Outcome::Fail(format!(
                        "`{}` holds the zero date {} (add a zero_date transform: null or skip)",
                        src_names[i],
                        v.to_text()
                    ))
                }
            }
        }
    }
    let mut out = Vec::with_capacity(columns.len());
    for c in columns {
        let r = match &c.fill {
            Fill::Copy { src, attr } => copy_value(
                attr,
                &c.attr,
                table,
                std::mem::replace(&mut row[*src], SqlValue::Null),
            ),
            Fill::DateTime { date, time } => combine(&c.attr, table, &row[*date], &row[*time]),
        };
        match r {
            Ok(v) => out.push(v),
            Err(e) => return Outcome::Fail(e),
        }
    }
    Outcome::Row(out)
}

/// A canonical text of key values (as the target reads them back), for the anti-join.
pub(crate) fn key_text(attrs: &[&Attribute], values: &[SqlValue]) -> String {
    let mut s = String::new();
    for (a, v) in attrs.iter().zip(values) {
        match from_sql(a, v.clone()) {
            Ok(x) => s.push_str(&x.python_str()),
            Err(_) => s.push_str(&format!("{v:?}")),
        }
        s.push('\u{1f}');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(name: &str, ty: &str, nullable: bool) -> Attribute {
        Attribute {
            name: name.into(),
            ty: AttrType::parse(ty).unwrap(),
            in_key: false,
            nullable,
            default: None,
            comment: String::new(),
        }
    }

    #[test]
    fn converts_dates_times_and_zero_dates() {
        let cols = vec![
            Column {
                attr: attr("at", "datetime", false),
                fill: Fill::DateTime { date: 0, time: 1 },
            },
            Column {
                attr: attr("born", "date", true),
                fill: Fill::Copy {
                    src: 2,
                    attr: attr("born", "date", false),
                },
            },
        ];
        let names = vec!["d".to_string(), "t".into(), "born".into()];
        let row = |born: &str| {
            vec![
                SqlValue::Text("2024-03-05 00:00:00".into()),
                SqlValue::Text("07:08:09".into()),
                SqlValue::Text(born.into()),
            ]
        };
        let mut zero = HashMap::new();
        match convert(&cols, &names, &zero, "t", row("2020-01-02 00:00:00")) {
            Outcome::Row(v) => assert_eq!(
                v,
                vec![
                    SqlValue::Text("2024-03-05 07:08:09".into()),
                    SqlValue::Text("2020-01-02".into())
                ]
            ),
            _ => panic!("expected a row"),
        }
        assert!(
            matches!(convert(&cols, &names, &zero, "t", row("0000-00-00")), Outcome::Fail(m) if m.contains("`born`"))
        );
        zero.insert(2, ZeroAction::Null);
        assert!(
            matches!(convert(&cols, &names, &zero, "t", row("0000-00-00")), Outcome::Row(v) if v[1] == SqlValue::Null)
        );
        zero.insert(2, ZeroAction::Skip);
        assert!(matches!(
            convert(&cols, &names, &zero, "t", row("0000-00-00")),
            Outcome::Skip
        ));
    }
}
