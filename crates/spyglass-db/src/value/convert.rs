//! Conversions of `Value`: from Rust values (`Value::from`), to and from JSON, and
//! to the text Python and MySQL print (DataJoint's key hash and restrictions use it).

use super::Value;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use uuid::Uuid;

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

/// Formats a time of day as MySQL does: `HH:MM:SS[.ffffff]`.
pub(super) fn format_time(t: &NaiveTime) -> String {
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
}
