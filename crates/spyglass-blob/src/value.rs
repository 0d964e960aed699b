//! The decoded form of a blob: [`Value`], one variant per thing DataJoint packs,
//! plus conversions from common Rust types and typed accessors.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use uuid::Uuid;

use crate::array::{Array, ArrayData, Element};
use crate::compound::{CellArray, RecArray, StructArray};
use crate::error::BlobError;

/// Any value a DataJoint blob can hold.
///
/// Python-native kinds (everything but [`Value::Array`] with ndim >= 1 of a
/// MATLAB class, [`Value::Struct`] and [`Value::Cell`]) make the writer use the
/// `dj0` protocol, as datajoint-python does. Equality is structural: floats
/// compare as IEEE numbers (NaN != NaN), sets and dicts compare in order, and
/// `Int(5)` differs from a `BigInt` holding 5 (the decoder never produces the latter).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Python `None` (`\xff`).
    None,
    /// Python `bool` (`\x0b`).
    Bool(bool),
    /// Python `int` that fits in i128 (`\x0a`).
    Int(i128),
    /// Python `int` outside the i128 range (`\x0a`), as two's-complement bytes.
    BigInt(BigInt),
    /// Python `float` (`\x0d`).
    Float(f64),
    /// Python `complex` (`\x0c`): real, imaginary.
    Complex(f64, f64),
    /// Python `str` (`\x05`).
    Str(String),
    /// Python `bytes` / `bytearray` (`\x06`).
    Bytes(Vec<u8>),
    /// Python `list` (`\x02`).
    List(Vec<Value>),
    /// Python `tuple` (`\x01`).
    Tuple(Vec<Value>),
    /// Python `set` (`\x03`), in the order its elements are packed.
    Set(Vec<Value>),
    /// Python `dict` (`\x04`), in insertion order.
    Dict(Vec<(Value, Value)>),
    /// Python `decimal.Decimal` (`d`), as its `str()` text.
    Decimal(String),
    /// Python `datetime.date` (`t`).
    Date(NaiveDate),
    /// Python `datetime.time` (`t`, microsecond precision, no time zone).
    Time(NaiveTime),
    /// Python `datetime.datetime` (`t`, microsecond precision, no time zone).
    DateTime(NaiveDateTime),
    /// Python `uuid.UUID` (`u`).
    Uuid(Uuid),
    /// A numpy / MATLAB n-d array, including 0-d numpy scalars (`A`).
    Array(Array),
    /// A MATLAB struct array (`S`).
    Struct(StructArray),
    /// A MATLAB cell array (`C`).
    Cell(CellArray),
    /// A numpy structured / record array (`F`).
    Record(RecArray),
}

/// A Python integer too large for i128: little-endian two's complement, in the
/// byte length datajoint-python writes (`bit_length // 8 + 1`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BigInt {
    bytes: Vec<u8>,
}

impl BigInt {
    /// Builds from little-endian two's-complement bytes (any length; normalised).
    ///
    /// Fails when the normalised form exceeds the 65535-byte limit of the blob format.
    pub fn from_le_bytes(bytes: &[u8]) -> Result<BigInt, BlobError> {
        let bytes = normalize_int_bytes(bytes);
        if bytes.len() > 0xFFFF {
            return Err(BlobError::InvalidValue(format!(
                "integer of {} bytes exceeds the 65535-byte limit",
                bytes.len()
            )));
        }
        Ok(BigInt { bytes })
    }

    /// The little-endian two's-complement bytes, as written in the blob.
    pub fn as_le_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether the value is negative.
    pub fn is_negative(&self) -> bool {
        self.bytes.last().is_some_and(|b| b & 0x80 != 0)
    }

    /// The value as i128, if it fits.
    pub fn to_i128(&self) -> Option<i128> {
        le_bytes_to_i128(&self.bytes)
    }

    /// The decimal text of the value.
    pub fn to_decimal_string(&self) -> String {
        // magnitude as little-endian base-2^32 limbs
        let neg = self.is_negative();
        let mut mag: Vec<u8> = if neg {
            // two's complement negate
            let mut carry = 1u16;
            self.bytes
                .iter()
                .map(|b| {
                    let s = u16::from(!b) + carry;
                    carry = s >> 8;
                    s as u8
                })
                .collect()
        } else {
            self.bytes.clone()
        };
        while mag.last() == Some(&0) {
            mag.pop();
        }
        let mut limbs: Vec<u32> = mag
            .chunks(4)
            .map(|c| {
                let mut a = [0u8; 4];
                a[..c.len()].copy_from_slice(c);
                u32::from_le_bytes(a)
            })
            .collect();
        let mut groups = Vec::new();
        while !limbs.is_empty() {
            let mut rem = 0u64;
            for limb in limbs.iter_mut().rev() {
                let cur = (rem << 32) | u64::from(*limb);
                *limb = (cur / 1_000_000_000) as u32;
                rem = cur % 1_000_000_000;
            }
            groups.push(rem as u32);
            while limbs.last() == Some(&0) {
                limbs.pop();
            }
        }
        let mut s = String::new();
        if neg {
            s.push('-');
        }
        match groups.split_last() {
            None => s.push('0'),
            Some((first, rest)) => {
                s.push_str(&first.to_string());
                for g in rest.iter().rev() {
                    s.push_str(&format!("{g:09}"));
                }
            }
        }
        s
    }
}

impl std::fmt::Display for BigInt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_decimal_string())
    }
}

/// Two's-complement little-endian bytes in datajoint-python's length
/// (`bit_length(|v|) // 8 + 1` bytes).
pub(crate) fn normalize_int_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut v = bytes.to_vec();
    if v.is_empty() {
        return vec![0];
    }
    // drop redundant sign-extension bytes
    while v.len() > 1 {
        let last = v[v.len() - 1];
        let prev_high = v[v.len() - 2] & 0x80 != 0;
        if (last == 0 && !prev_high) || (last == 0xFF && prev_high) {
            v.pop();
        } else {
            break;
        }
    }
    // Python sizes negatives by the magnitude: -2^(8k-1) takes k+1 bytes.
    let n = v.len();
    if v[n - 1] == 0x80 && v[..n - 1].iter().all(|&b| b == 0) {
        v.push(0xFF);
    }
    v
}

/// Two's-complement bytes of an i128 in datajoint-python's length.
pub(crate) fn i128_bytes(v: i128) -> Vec<u8> {
    let mut b = v.to_le_bytes().to_vec();
    b.push(if v < 0 { 0xFF } else { 0 });
    normalize_int_bytes(&b)
}

/// The i128 value of little-endian two's-complement bytes, if it fits.
pub(crate) fn le_bytes_to_i128(bytes: &[u8]) -> Option<i128> {
    if bytes.is_empty() {
        return Some(0);
    }
    let norm = normalize_int_bytes(bytes);
    // at most 17 bytes where the 17th is pure sign extension
    let neg = norm.last().is_some_and(|b| b & 0x80 != 0);
    let fill = if neg { 0xFF } else { 0 };
    if norm.len() > 17 || (norm.len() == 17 && norm[16] != fill) {
        return None;
    }
    let mut a = [fill; 16];
    let n = norm.len().min(16);
    a[..n].copy_from_slice(&norm[..n]);
    let v = i128::from_le_bytes(a);
    // a 17-byte form must agree in sign with its 16 low bytes
    if (v < 0) != neg {
        return None;
    }
    Some(v)
}

impl Value {
    /// A short name of the variant, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Complex(..) => "complex",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Set(_) => "set",
            Value::Dict(_) => "dict",
            Value::Decimal(_) => "Decimal",
            Value::Date(_) => "date",
            Value::Time(_) => "time",
            Value::DateTime(_) => "datetime",
            Value::Uuid(_) => "UUID",
            Value::Array(_) => "array",
            Value::Struct(_) => "struct array",
            Value::Cell(_) => "cell array",
            Value::Record(_) => "record array",
        }
    }

    /// An integer value from two's-complement little-endian bytes (`Int` when it fits in i128).
    pub fn int_from_le_bytes(bytes: &[u8]) -> Result<Value, BlobError> {
        match le_bytes_to_i128(bytes) {
            Some(v) => Ok(Value::Int(v)),
            None => Ok(Value::BigInt(BigInt::from_le_bytes(bytes)?)),
        }
    }

    /// A dict from key/value pairs, in order.
    pub fn dict<K: Into<Value>, V: Into<Value>>(pairs: impl IntoIterator<Item = (K, V)>) -> Value {
        Value::Dict(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// A list from anything convertible to values.
    pub fn list<T: Into<Value>>(items: impl IntoIterator<Item = T>) -> Value {
        Value::List(items.into_iter().map(Into::into).collect())
    }

    /// A float64 array of any shape from row-major data (e.g. an N x 2 interval list).
    pub fn f64_array(shape: Vec<usize>, row_major: Vec<f64>) -> Result<Value, BlobError> {
        Array::from_row_major(shape, row_major).map(Value::Array)
    }

    /// An N x 2 float64 array from `[start, stop]` pairs (Spyglass `valid_times`).
    pub fn intervals(pairs: &[[f64; 2]]) -> Value {
        let mut col = Vec::with_capacity(pairs.len() * 2);
        col.extend(pairs.iter().map(|p| p[0]));
        col.extend(pairs.iter().map(|p| p[1]));
        Value::Array(
            Array::from_col_major(vec![pairs.len(), 2], col)
                .unwrap_or_else(|_| Array::vector(Vec::<f64>::new())),
        )
    }

    /// Whether this is `None`.
    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }

    /// The bool, for `Bool` and 0-d bool arrays.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Array(a) if a.ndim() == 0 => {
                a.as_slice::<bool>().and_then(|s| s.first().copied())
            }
            _ => None,
        }
    }

    /// The integer, for `Int`, `Bool` and 0-d integer arrays, if it fits in i64.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(v) => i64::try_from(*v).ok(),
            Value::Bool(b) => Some(i64::from(*b)),
            Value::Array(a) if a.ndim() == 0 && !a.is_complex() => match a.data() {
                ArrayData::Int8(v) => v.first().map(|&x| i64::from(x)),
                ArrayData::UInt8(v) => v.first().map(|&x| i64::from(x)),
                ArrayData::Int16(v) => v.first().map(|&x| i64::from(x)),
                ArrayData::UInt16(v) => v.first().map(|&x| i64::from(x)),
                ArrayData::Int32(v) => v.first().map(|&x| i64::from(x)),
                ArrayData::UInt32(v) => v.first().map(|&x| i64::from(x)),
                ArrayData::Int64(v) => v.first().copied(),
                ArrayData::UInt64(v) => v.first().and_then(|&x| i64::try_from(x).ok()),
                _ => None,
            },
            _ => None,
        }
    }

    /// The number as f64, for `Float`, `Int`, `Bool` and 0-d real numeric arrays.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(v) => Some(*v),
            Value::Int(v) => Some(*v as f64),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            Value::Array(a) if a.ndim() == 0 && !a.is_complex() => a.data().get_f64(0),
            _ => None,
        }
    }

    /// The string, for `Str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Text of a `Str`, of a MATLAB char array, or of a 0-d / one-element string array.
    pub fn text(&self) -> Option<String> {
        match self {
            Value::Str(s) => Some(s.clone()),
            Value::Array(a) => match a.data() {
                ArrayData::Char(_) => a.char_string(),
                ArrayData::Object(v) if v.len() == 1 => v[0].as_str().map(str::to_owned),
                _ => None,
            },
            _ => None,
        }
    }

    /// The bytes, for `Bytes`.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The items of a `List`, `Tuple` or `Set`.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Tuple(v) | Value::Set(v) => Some(v),
            _ => None,
        }
    }

    /// The pairs of a `Dict`.
    pub fn as_dict(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// The value under string key `key` of a `Dict`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_dict()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// The array, for `Array`.
    pub fn as_array(&self) -> Option<&Array> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The shape of an `Array` or `Record` value.
    pub fn array_shape(&self) -> Option<&[usize]> {
        match self {
            Value::Array(a) => Some(a.shape()),
            Value::Record(r) => Some(r.shape()),
            Value::Struct(s) => Some(s.shape()),
            Value::Cell(c) => Some(c.shape()),
            _ => None,
        }
    }

    /// The column-major elements of a real float64 array.
    pub fn as_f64_slice(&self) -> Option<&[f64]> {
        match self {
            Value::Array(a) if !a.is_complex() => a.as_slice::<f64>(),
            _ => None,
        }
    }

    /// The row-major elements of a real array of element type `T`.
    pub fn to_row_major<T: Element>(&self) -> Option<Vec<T>> {
        match self {
            Value::Array(a) if !a.is_complex() => a.to_row_major::<T>(),
            _ => None,
        }
    }

    /// The rows of an N x 2 real numeric array as `[start, stop]` pairs.
    pub fn as_intervals(&self) -> Option<Vec<[f64; 2]>> {
        let a = self.as_array()?;
        let n = match a.shape() {
            [n, 2] => *n,
            [2] => 1,
            [0] | [0, _] => 0,
            _ => return None,
        };
        let rm = a.to_f64_row_major()?;
        Some((0..n).map(|i| [rm[2 * i], rm[2 * i + 1]]).collect())
    }

    /// The UUID, for `Uuid`.
    pub fn as_uuid(&self) -> Option<Uuid> {
        match self {
            Value::Uuid(u) => Some(*u),
            _ => None,
        }
    }

    /// The date, for `Date` (and the date part of `DateTime`).
    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Value::Date(d) => Some(*d),
            Value::DateTime(dt) => Some(dt.date()),
            _ => None,
        }
    }

    /// The datetime, for `DateTime`.
    pub fn as_datetime(&self) -> Option<NaiveDateTime> {
        match self {
            Value::DateTime(dt) => Some(*dt),
            _ => None,
        }
    }

    /// The struct array, for `Struct`.
    pub fn as_struct(&self) -> Option<&StructArray> {
        match self {
            Value::Struct(s) => Some(s),
            _ => None,
        }
    }

    /// The cell array, for `Cell`.
    pub fn as_cell(&self) -> Option<&CellArray> {
        match self {
            Value::Cell(c) => Some(c),
            _ => None,
        }
    }

    /// The record array, for `Record`.
    pub fn as_record(&self) -> Option<&RecArray> {
        match self {
            Value::Record(r) => Some(r),
            _ => None,
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::Int(i128::from(v))
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, i128, u8, u16, u32, u64);

impl From<usize> for Value {
    fn from(v: usize) -> Value {
        Value::Int(v as i128)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}

impl From<f32> for Value {
    fn from(v: f32) -> Value {
        Value::Float(f64::from(v))
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Str(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Str(v)
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Str(v.clone())
    }
}

/// Raw bytes (Python `bytes`), not a uint8 array; use [`Array::vector`] for that.
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Bytes(v)
    }
}

/// Raw bytes (Python `bytes`).
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Value {
        Value::Bytes(v.to_vec())
    }
}

macro_rules! from_vec_array {
    ($($t:ty),*) => {$(
        /// A 1-D array of this element type.
        impl From<Vec<$t>> for Value {
            fn from(v: Vec<$t>) -> Value {
                Value::Array(Array::vector(v))
            }
        }
    )*};
}
from_vec_array!(f64, f32, i8, i16, u16, i32, u32, i64, u64, bool);

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Value {
        Value::List(v)
    }
}

impl From<Uuid> for Value {
    fn from(v: Uuid) -> Value {
        Value::Uuid(v)
    }
}

impl From<NaiveDate> for Value {
    fn from(v: NaiveDate) -> Value {
        Value::Date(v)
    }
}

impl From<NaiveTime> for Value {
    fn from(v: NaiveTime) -> Value {
        Value::Time(v)
    }
}

impl From<NaiveDateTime> for Value {
    fn from(v: NaiveDateTime) -> Value {
        Value::DateTime(v)
    }
}

impl From<Array> for Value {
    fn from(v: Array) -> Value {
        Value::Array(v)
    }
}

impl From<StructArray> for Value {
    fn from(v: StructArray) -> Value {
        Value::Struct(v)
    }
}

impl From<CellArray> for Value {
    fn from(v: CellArray) -> Value {
        Value::Cell(v)
    }
}

impl From<RecArray> for Value {
    fn from(v: RecArray) -> Value {
        Value::Record(v)
    }
}

impl From<BigInt> for Value {
    fn from(v: BigInt) -> Value {
        Value::BigInt(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::None, Into::into)
    }
}
