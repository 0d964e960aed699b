//! Decoding: a fetched `SqlValue` back to the typed `Value` of its attribute; a
//! stored value that does not fit the type is an error naming the attribute.

use super::convert::python_float_repr;
use super::parse::{normalize_decimal, parse_canonical_date, parse_datetime};
use super::{SqlValue, Value};
use crate::error::{Error, Result};
use crate::heading::Attribute;
use crate::types::AttrType;
use chrono::{NaiveDate, NaiveTime};
use uuid::Uuid;

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
