//! Encoding: a user's `Value` to the `SqlValue` bound for an attribute, checking
//! type and range per attribute type (and packing blobs and attachments).

use super::convert::{format_datetime, format_time};
use super::parse::{normalize_decimal, parse_canonical_date, parse_datetime};
use super::{Param, SqlValue, Value};
use crate::error::{Error, Result};
use crate::heading::Attribute;
use crate::types::AttrType;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use uuid::Uuid;

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

fn bad_value(attr: &Attribute, table: &str, message: impl Into<String>) -> Error {
    Error::BadValue {
        table: table.to_string(),
        attribute: attr.name.clone(),
        ty: attr.ty.to_string(),
        message: message.into(),
    }
}

fn round_fsp(dt: NaiveDateTime, fsp: Option<u32>) -> NaiveDateTime {
    let keep = fsp.unwrap_or(0);
    let unit = 10u32.pow(9 - keep);
    let ns = dt.nanosecond() / unit * unit;
    dt.with_nanosecond(ns).unwrap_or(dt)
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
