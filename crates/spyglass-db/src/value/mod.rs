//! Values and rows. `Value` is what users insert and fetch (typed, blobs decoded);
//! `SqlValue` is the handful of primitives that travel to and from a backend as
//! bound parameters. The conversions between them, per attribute type, live in
//! `encode` (to SQL) and `decode` (from SQL) so that insert, restriction and
//! fetch agree on every type; `convert` holds the conversions to and from Rust
//! values, JSON and Python's text forms; `row` the row type.

mod convert;
mod decode;
mod encode;
mod parse;
mod row;

pub use convert::{format_datetime, python_float_repr};
pub use decode::from_sql;
pub(crate) use encode::pack_value;
pub use encode::{to_param, to_sql};
pub use row::{Columns, Row};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
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
    Attach {
        /// The file name.
        name: String,
        /// The file's contents.
        data: Vec<u8>,
    },
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
}
