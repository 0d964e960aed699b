//! JSON views of values: `impl Serialize for Value` (for printing blobs) and
//! [`from_json`] (what `datajoint.blob.pack(json.loads(text))` would pack).
//!
//! Mapping used by `Serialize`:
//! - `None` -> `null`; bool, int, float -> JSON scalars (NaN / infinity -> `null`;
//!   integers outside the i64 / u64 range -> decimal strings);
//! - complex -> `{"real": re, "imag": im}`;
//! - str, Decimal, UUID -> strings; date / time / datetime -> ISO 8601 strings
//!   (`2020-01-02`, `03:04:05.000006`, `2020-01-02T03:04:05`) as Python's `isoformat()`;
//! - bytes -> a list of integers 0..=255;
//! - list, tuple, set -> arrays; dict -> an object when every key is a string,
//!   otherwise an array of `[key, value]` pairs;
//! - n-d arrays -> nested lists in row-major order (0-d -> the bare element);
//!   a 1-D or 1xN char array -> one string, other char arrays -> nested lists of
//!   one-character strings; datetime64 elements -> numpy's ISO text (`NaT` -> `null`);
//! - struct arrays -> nested lists of `{field: value}` objects; cell arrays ->
//!   nested lists of values; record arrays -> nested lists of `{field: value}`
//!   records (or `{field: column}` when the fields' shapes differ).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;

use crate::array::{Array, ArrayData, TimeUnit};
use crate::compound::{CellArray, RecArray, StructArray};
use crate::value::Value;

/// The value `datajoint.blob.pack(json.loads(text))` would pack for a parsed JSON document.
///
/// Objects become dicts with string keys (in document order), arrays become
/// lists, integers become `Int` (floats and exponent forms become `Float`).
pub fn from_json(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::None,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i128::from(i))
            } else if let Some(u) = n.as_u64() {
                Value::Int(i128::from(u))
            } else {
                Value::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        serde_json::Value::String(s) => Value::Str(s.clone()),
        serde_json::Value::Array(items) => Value::List(items.iter().map(from_json).collect()),
        serde_json::Value::Object(map) => Value::Dict(
            map.iter()
                .map(|(k, v)| (Value::Str(k.clone()), from_json(v)))
                .collect(),
        ),
    }
}

impl Value {
    /// The JSON view of this value (see the module documentation for the mapping).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// Calendar fields of a datetime64 tick (proleptic Gregorian, astronomical years).
pub(crate) struct Dt64Fields {
    pub year: i128,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// Sub-second ticks (for units finer than a second).
    pub frac: u64,
    /// Number of decimal digits of `frac` (0 for second and coarser units).
    pub digits: u32,
}

/// Year, month, day of a day count since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i128) -> (i128, u32, u32) {
    // shift the epoch to 0000-03-01 so leap days end each 400-year era
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365, from March 1
    let mp = (5 * doy + 2) / 153; // 0..=11, March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i128::from(month <= 2);
    (year, month, day)
}

/// Splits a datetime64 tick (not NaT) of `unit` into calendar fields.
pub(crate) fn datetime64_fields(unit: TimeUnit, t: i64) -> Dt64Fields {
    let t = i128::from(t);
    let date_only = |(year, month, day): (i128, u32, u32)| Dt64Fields {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
        frac: 0,
        digits: 0,
    };
    let (secs, frac, digits) = match unit {
        TimeUnit::Year => return date_only((1970 + t, 1, 1)),
        TimeUnit::Month => {
            return date_only((1970 + t.div_euclid(12), t.rem_euclid(12) as u32 + 1, 1))
        }
        TimeUnit::Week => return date_only(civil_from_days(7 * t)),
        TimeUnit::Day => return date_only(civil_from_days(t)),
        TimeUnit::Hour => (3600 * t, 0, 0),
        TimeUnit::Minute => (60 * t, 0, 0),
        TimeUnit::Second => (t, 0, 0),
        TimeUnit::Millisecond => (t.div_euclid(1_000), t.rem_euclid(1_000), 3),
        TimeUnit::Microsecond => (t.div_euclid(1_000_000), t.rem_euclid(1_000_000), 6),
        TimeUnit::Nanosecond => (t.div_euclid(10i128.pow(9)), t.rem_euclid(10i128.pow(9)), 9),
        TimeUnit::Picosecond => (
            t.div_euclid(10i128.pow(12)),
            t.rem_euclid(10i128.pow(12)),
            12,
        ),
        TimeUnit::Femtosecond => (
            t.div_euclid(10i128.pow(15)),
            t.rem_euclid(10i128.pow(15)),
            15,
        ),
        TimeUnit::Attosecond => (
            t.div_euclid(10i128.pow(18)),
            t.rem_euclid(10i128.pow(18)),
            18,
        ),
    };
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400) as u32;
    Dt64Fields {
        year,
        month,
        day,
        hour: sod / 3600,
        minute: sod / 60 % 60,
        second: sod % 60,
        frac: frac as u64,
        digits,
    }
}

/// The tick as a chrono datetime (nanosecond precision at most), if chrono can hold it.
pub(crate) fn datetime64_chrono(unit: TimeUnit, t: i64) -> Option<NaiveDateTime> {
    let f = datetime64_fields(unit, t);
    let nanos = if f.digits <= 9 {
        f.frac * 10u64.pow(9 - f.digits)
    } else {
        f.frac / 10u64.pow(f.digits - 9)
    };
    NaiveDate::from_ymd_opt(i32::try_from(f.year).ok()?, f.month, f.day)?.and_hms_nano_opt(
        f.hour,
        f.minute,
        f.second,
        u32::try_from(nanos).ok()?,
    )
}

/// numpy's text for a datetime64 tick (`np.datetime_as_string`); `None` for NaT.
pub fn datetime64_text(unit: TimeUnit, t: i64) -> Option<String> {
    if t == i64::MIN {
        return None;
    }
    let f = datetime64_fields(unit, t);
    let date = format!("{:04}-{:02}-{:02}", f.year, f.month, f.day);
    Some(match unit {
        TimeUnit::Year => format!("{:04}", f.year),
        TimeUnit::Month => format!("{:04}-{:02}", f.year, f.month),
        TimeUnit::Week | TimeUnit::Day => date,
        TimeUnit::Hour => format!("{date}T{:02}", f.hour),
        TimeUnit::Minute => format!("{date}T{:02}:{:02}", f.hour, f.minute),
        TimeUnit::Second => format!("{date}T{:02}:{:02}:{:02}", f.hour, f.minute, f.second),
        _ => format!(
            "{date}T{:02}:{:02}:{:02}.{:0width$}",
            f.hour,
            f.minute,
            f.second,
            f.frac,
            width = f.digits as usize
        ),
    })
}

fn time_text(t: &NaiveTime) -> String {
    let us = t.nanosecond() / 1000;
    if us == 0 {
        t.format("%H:%M:%S").to_string()
    } else {
        format!("{}.{:06}", t.format("%H:%M:%S"), us.min(999_999))
    }
}

/// Serialises `{"real": re, "imag": im}`.
struct ComplexJson(f64, f64);

impl Serialize for ComplexJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("real", &self.0)?;
        m.serialize_entry("imag", &self.1)?;
        m.end()
    }
}

/// Serialises a dict with string keys as a JSON object.
struct DictObject<'a>(&'a [(Value, Value)]);

impl Serialize for DictObject<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k.as_str().unwrap_or_default(), v)?;
        }
        m.end()
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::None => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => {
                if let Ok(v) = i64::try_from(*i) {
                    s.serialize_i64(v)
                } else if let Ok(v) = u64::try_from(*i) {
                    s.serialize_u64(v)
                } else {
                    s.serialize_str(&i.to_string())
                }
            }
            Value::BigInt(b) => s.serialize_str(&b.to_decimal_string()),
            Value::Float(f) => s.serialize_f64(*f),
            Value::Complex(re, im) => ComplexJson(*re, *im).serialize(s),
            Value::Str(t) | Value::Decimal(t) => s.serialize_str(t),
            Value::Bytes(b) => s.collect_seq(b.iter()),
            Value::List(v) | Value::Tuple(v) | Value::Set(v) => s.collect_seq(v.iter()),
            Value::Dict(pairs) => {
                if pairs.iter().all(|(k, _)| matches!(k, Value::Str(_))) {
                    DictObject(pairs).serialize(s)
                } else {
                    s.collect_seq(pairs.iter().map(|(k, v)| [k, v]))
                }
            }
            Value::Date(d) => s.serialize_str(&d.format("%Y-%m-%d").to_string()),
            Value::Time(t) => s.serialize_str(&time_text(t)),
            Value::DateTime(dt) => s.serialize_str(&format!(
                "{}T{}",
                dt.date().format("%Y-%m-%d"),
                time_text(&dt.time())
            )),
            Value::Uuid(u) => s.serialize_str(&u.hyphenated().to_string()),
            Value::Array(a) => serialize_array(a, s),
            Value::Struct(st) => serialize_struct(st, s),
            Value::Cell(c) => serialize_cell(c, s),
            Value::Record(r) => serialize_record(r, s),
        }
    }
}

/// Serialises element `i` (column-major) of something array-like.
trait Leaf {
    fn leaf<S: Serializer>(&self, i: usize, s: S) -> Result<S::Ok, S::Error>;
}

/// Nested lists over `shape` in row-major order, elements from a [`Leaf`].
struct Nest<'a, L> {
    leaf: &'a L,
    shape: &'a [usize],
    strides: &'a [usize],
    level: usize,
    base: usize,
}

impl<L: Leaf> Serialize for Nest<'_, L> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.level >= self.shape.len() {
            return self.leaf.leaf(self.base, s);
        }
        let n = self.shape[self.level];
        let mut seq = s.serialize_seq(Some(n))?;
        for i in 0..n {
            seq.serialize_element(&Nest {
                leaf: self.leaf,
                shape: self.shape,
                strides: self.strides,
                level: self.level + 1,
                base: self.base + i * self.strides[self.level],
            })?;
        }
        seq.end()
    }
}

fn nested<L: Leaf, S: Serializer>(leaf: &L, shape: &[usize], s: S) -> Result<S::Ok, S::Error> {
    let mut strides = Vec::with_capacity(shape.len());
    let mut acc = 1usize;
    for &d in shape {
        strides.push(acc);
        acc = acc.saturating_mul(d);
    }
    Nest {
        leaf,
        shape,
        strides: &strides,
        level: 0,
        base: 0,
    }
    .serialize(s)
}

struct ArrayLeaf<'a> {
    real: &'a ArrayData,
    imag: Option<&'a ArrayData>,
}

impl Leaf for ArrayLeaf<'_> {
    fn leaf<S: Serializer>(&self, i: usize, s: S) -> Result<S::Ok, S::Error> {
        if let Some(im) = self.imag {
            return match (self.real.get_f64(i), im.get_f64(i)) {
                (Some(re), Some(im)) => ComplexJson(re, im).serialize(s),
                _ => s.serialize_unit(),
            };
        }
        match self.real {
            ArrayData::Bool(v) => match v.get(i) {
                Some(x) => s.serialize_bool(*x),
                None => s.serialize_unit(),
            },
            ArrayData::Char(v) => match v.get(i) {
                Some(&u) => s.serialize_str(&String::from_utf16_lossy(&[u])),
                None => s.serialize_unit(),
            },
            ArrayData::Object(v) => match v.get(i) {
                Some(x) => x.serialize(s),
                None => s.serialize_unit(),
            },
            ArrayData::Float64(v) => match v.get(i) {
                Some(x) => s.serialize_f64(*x),
                None => s.serialize_unit(),
            },
            ArrayData::Float32(v) => match v.get(i) {
                Some(x) => s.serialize_f32(*x),
                None => s.serialize_unit(),
            },
            ArrayData::Int8(v) => match v.get(i) {
                Some(x) => s.serialize_i8(*x),
                None => s.serialize_unit(),
            },
            ArrayData::UInt8(v) => match v.get(i) {
                Some(x) => s.serialize_u8(*x),
                None => s.serialize_unit(),
            },
            ArrayData::Int16(v) => match v.get(i) {
                Some(x) => s.serialize_i16(*x),
                None => s.serialize_unit(),
            },
            ArrayData::UInt16(v) => match v.get(i) {
                Some(x) => s.serialize_u16(*x),
                None => s.serialize_unit(),
            },
            ArrayData::Int32(v) => match v.get(i) {
                Some(x) => s.serialize_i32(*x),
                None => s.serialize_unit(),
            },
            ArrayData::UInt32(v) => match v.get(i) {
                Some(x) => s.serialize_u32(*x),
                None => s.serialize_unit(),
            },
            ArrayData::Int64(v) => match v.get(i) {
                Some(x) => s.serialize_i64(*x),
                None => s.serialize_unit(),
            },
            ArrayData::UInt64(v) => match v.get(i) {
                Some(x) => s.serialize_u64(*x),
                None => s.serialize_unit(),
            },
            ArrayData::DateTime64(u, v) => match v.get(i).and_then(|&t| datetime64_text(*u, t)) {
                Some(text) => s.serialize_str(&text),
                None => s.serialize_unit(),
            },
        }
    }
}

fn serialize_array<S: Serializer>(a: &Array, s: S) -> Result<S::Ok, S::Error> {
    if a.is_char_row() {
        return s.serialize_str(&a.char_string().unwrap_or_default());
    }
    nested(
        &ArrayLeaf {
            real: a.data(),
            imag: a.imag(),
        },
        a.shape(),
        s,
    )
}

struct ValuesLeaf<'a>(&'a [Value]);

impl Leaf for ValuesLeaf<'_> {
    fn leaf<S: Serializer>(&self, i: usize, s: S) -> Result<S::Ok, S::Error> {
        match self.0.get(i) {
            Some(v) => v.serialize(s),
            None => s.serialize_unit(),
        }
    }
}

fn serialize_cell<S: Serializer>(c: &CellArray, s: S) -> Result<S::Ok, S::Error> {
    nested(&ValuesLeaf(c.elements()), c.shape(), s)
}

struct StructLeaf<'a>(&'a StructArray);

impl Leaf for StructLeaf<'_> {
    fn leaf<S: Serializer>(&self, i: usize, s: S) -> Result<S::Ok, S::Error> {
        let fields = self.0.fields();
        let values = self.0.element(i).unwrap_or(&[]);
        let mut m = s.serialize_map(Some(fields.len()))?;
        for (f, v) in fields.iter().zip(values) {
            m.serialize_entry(f, v)?;
        }
        m.end()
    }
}

fn serialize_struct<S: Serializer>(st: &StructArray, s: S) -> Result<S::Ok, S::Error> {
    nested(&StructLeaf(st), st.shape(), s)
}

/// One element of a record-array column, serialised on its own.
struct ColumnElement<'a>(&'a Value, usize);

impl Serialize for ColumnElement<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Array(a) => ArrayLeaf {
                real: a.data(),
                imag: a.imag(),
            }
            .leaf(self.1, s),
            Value::Record(r) => RecordLeaf(r).leaf(self.1, s),
            other => other.serialize(s),
        }
    }
}

struct RecordLeaf<'a>(&'a RecArray);

impl Leaf for RecordLeaf<'_> {
    fn leaf<S: Serializer>(&self, i: usize, s: S) -> Result<S::Ok, S::Error> {
        let fields = self.0.fields();
        let mut m = s.serialize_map(Some(fields.len()))?;
        for (name, col) in fields {
            m.serialize_entry(name, &ColumnElement(col, i))?;
        }
        m.end()
    }
}

fn serialize_record<S: Serializer>(r: &RecArray, s: S) -> Result<S::Ok, S::Error> {
    let shape = r.shape();
    let uniform = r
        .fields()
        .iter()
        .all(|(_, v)| v.array_shape() == Some(shape));
    if uniform {
        nested(&RecordLeaf(r), shape, s)
    } else {
        let mut m = s.serialize_map(Some(r.fields().len()))?;
        for (name, col) in r.fields() {
            m.serialize_entry(name, col)?;
        }
        m.end()
    }
}
