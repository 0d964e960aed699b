//! The writer: [`Value`] -> blob bytes exactly as datajoint-python 0.14's
//! `blob.pack` produces them, including the mYm / dj0 protocol choice and the
//! zlib rule.

use chrono::{Datelike, Timelike};
use flate2::{Compress, Compression, FlushCompress, Status};

use crate::array::{Array, ArrayData};
use crate::value::{i128_bytes, Value};

/// Prefix of a compressed blob.
pub(crate) const ZLIB_PREFIX: &[u8; 6] = b"ZL123\0";
/// Header of a MATLAB-compatible blob.
pub(crate) const MYM: &[u8; 4] = b"mYm\0";
/// Header of a blob using Python-only features.
pub(crate) const DJ0: &[u8; 4] = b"dj0\0";
/// Uncompressed blobs longer than this are tried compressed.
pub(crate) const COMPRESS_THRESHOLD: usize = 1000;

/// Packs `value` like `datajoint.blob.pack(value)`: compressed when that helps.
pub fn pack(value: &Value) -> Vec<u8> {
    compress(pack_uncompressed(value))
}

/// Packs `value` like `datajoint.blob.pack(value, compress=False)`.
pub fn pack_uncompressed(value: &Value) -> Vec<u8> {
    let mut w = Writer {
        out: Vec::with_capacity(64),
        dj0: false,
    };
    w.out.extend_from_slice(MYM);
    w.item(value);
    if w.dj0 {
        w.out[..4].copy_from_slice(DJ0);
    }
    w.out
}

/// Applies DataJoint's compression rule to an uncompressed blob: zlib at the
/// default level when the blob is longer than 1000 bytes, kept only if strictly shorter.
pub fn compress(blob: Vec<u8>) -> Vec<u8> {
    if blob.len() <= COMPRESS_THRESHOLD {
        return blob;
    }
    // The output buffer holds at most `blob.len()` bytes: a stream that does not
    // fit is not strictly shorter, so we can stop as soon as it is full.
    let mut out = Vec::with_capacity(blob.len());
    out.extend_from_slice(ZLIB_PREFIX);
    out.extend_from_slice(&(blob.len() as u64).to_le_bytes());
    let mut z = Compress::new(Compression::default(), true);
    loop {
        let consumed = usize::try_from(z.total_in())
            .unwrap_or(usize::MAX)
            .min(blob.len());
        let before = (z.total_in(), z.total_out());
        match z.compress_vec(&blob[consumed..], &mut out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) if out.len() < blob.len() => return out,
            Ok(Status::StreamEnd) | Err(_) => return blob,
            Ok(_) if out.len() == out.capacity() => return blob,
            Ok(_) if (z.total_in(), z.total_out()) == before => return blob,
            Ok(_) => {}
        }
    }
}

/// Whether a value needs the dj0 protocol anywhere in its tree (what datajoint-python decides while packing).
pub fn needs_dj0(value: &Value) -> bool {
    match value {
        Value::Cell(c) => c.elements().iter().any(needs_dj0),
        Value::Struct(s) => s.values().iter().any(needs_dj0),
        Value::Array(a) => array_needs_dj0(a),
        _ => true,
    }
}

fn array_needs_dj0(a: &Array) -> bool {
    match a.data() {
        ArrayData::Object(_) | ArrayData::DateTime64(..) => true,
        ArrayData::Char(_) => false,
        _ => a.ndim() == 0,
    }
}

struct Writer {
    out: Vec<u8>,
    dj0: bool,
}

impl Writer {
    fn u8(&mut self, v: u8) {
        self.out.push(v);
    }

    fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }

    fn u64(&mut self, v: u64) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }

    fn len_u64(&mut self, n: usize) {
        self.u64(n as u64);
    }

    /// Writes `u64 len + item`.
    fn prefixed(&mut self, v: &Value) {
        let at = self.out.len();
        self.u64(0);
        self.item(v);
        let n = (self.out.len() - at - 8) as u64;
        self.out[at..at + 8].copy_from_slice(&n.to_le_bytes());
    }

    fn sequence(&mut self, code: u8, items: &[Value]) {
        self.u8(code);
        self.len_u64(items.len());
        for it in items {
            self.prefixed(it);
        }
    }

    fn text(&mut self, code: u8, s: &[u8]) {
        self.u8(code);
        self.len_u64(s.len());
        self.out.extend_from_slice(s);
    }

    fn shape(&mut self, shape: &[usize]) {
        self.len_u64(shape.len());
        for &d in shape {
            self.len_u64(d);
        }
    }

    fn names(&mut self, names: impl Iterator<Item = impl AsRef<str>>) {
        for n in names {
            self.out.extend_from_slice(n.as_ref().as_bytes());
            self.u8(0);
        }
    }

    fn item(&mut self, v: &Value) {
        match v {
            Value::Cell(c) => {
                self.u8(b'C');
                self.shape(c.shape());
                for e in c.elements() {
                    self.prefixed(e);
                }
            }
            Value::Struct(s) => {
                self.u8(b'S');
                self.shape(s.shape());
                self.u32(s.fields().len() as u32);
                self.names(s.fields().iter());
                for e in s.values() {
                    self.prefixed(e);
                }
            }
            Value::Array(a) => self.array(a),
            other => {
                self.dj0 = true;
                self.python_item(other);
            }
        }
    }

    fn python_item(&mut self, v: &Value) {
        match v {
            Value::None => self.u8(0xFF),
            Value::Bool(b) => {
                self.u8(0x0B);
                self.u8(u8::from(*b));
            }
            Value::Int(i) => self.int(&i128_bytes(*i)),
            Value::BigInt(b) => self.int(b.as_le_bytes()),
            Value::Float(f) => {
                self.u8(0x0D);
                self.out.extend_from_slice(&f.to_le_bytes());
            }
            Value::Complex(re, im) => {
                self.u8(0x0C);
                self.out.extend_from_slice(&re.to_le_bytes());
                self.out.extend_from_slice(&im.to_le_bytes());
            }
            Value::Str(s) => self.text(0x05, s.as_bytes()),
            Value::Bytes(b) => self.text(0x06, b),
            Value::Tuple(items) => self.sequence(0x01, items),
            Value::List(items) => self.sequence(0x02, items),
            Value::Set(items) => self.sequence(0x03, items),
            Value::Dict(pairs) => {
                self.u8(0x04);
                self.len_u64(pairs.len());
                for (k, val) in pairs {
                    self.prefixed(k);
                    self.prefixed(val);
                }
            }
            Value::Decimal(s) => self.text(b'd', s.as_bytes()),
            Value::Date(d) => self.datetime(Some(date_code(d)), None),
            Value::Time(t) => self.datetime(None, Some(time_code(t))),
            Value::DateTime(dt) => {
                self.datetime(Some(date_code(&dt.date())), Some(time_code(&dt.time())))
            }
            Value::Uuid(u) => {
                self.u8(b'u');
                self.out.extend_from_slice(u.as_bytes());
            }
            Value::Record(r) => {
                self.u8(b'F');
                self.u32(r.fields().len() as u32);
                self.names(r.fields().iter().map(|(n, _)| n));
                for (_, col) in r.fields() {
                    // fields are arrays or nested records, without length prefix
                    self.item(col);
                }
            }
            Value::Array(_) | Value::Struct(_) | Value::Cell(_) => self.item(v),
        }
    }

    fn int(&mut self, bytes: &[u8]) {
        self.u8(0x0A);
        self.out
            .extend_from_slice(&(bytes.len() as u16).to_le_bytes());
        self.out.extend_from_slice(bytes);
    }

    fn datetime(&mut self, date: Option<i32>, time: Option<i64>) {
        self.u8(b't');
        self.out
            .extend_from_slice(&date.unwrap_or(-1).to_le_bytes());
        self.out
            .extend_from_slice(&time.unwrap_or(-1).to_le_bytes());
    }

    fn array(&mut self, a: &Array) {
        if array_needs_dj0(a) {
            self.dj0 = true;
        }
        self.u8(b'A');
        self.shape(a.shape());
        self.u32(a.dtype().class_id());
        self.u32(u32::from(a.is_complex()));
        self.data(a.data());
        if let Some(im) = a.imag() {
            self.data(im);
        }
    }

    fn data(&mut self, d: &ArrayData) {
        match d {
            ArrayData::Object(items) => {
                for it in items {
                    self.prefixed(it);
                }
            }
            ArrayData::Bool(v) => self.out.extend(v.iter().map(|&b| u8::from(b))),
            ArrayData::UInt8(v) => self.out.extend_from_slice(v),
            ArrayData::Int8(v) => self.out.extend(v.iter().map(|&b| b as u8)),
            ArrayData::Char(v) | ArrayData::UInt16(v) => self.numbers(v),
            ArrayData::Int16(v) => self.numbers(v),
            ArrayData::Int32(v) => self.numbers(v),
            ArrayData::UInt32(v) => self.numbers(v),
            ArrayData::Int64(v) | ArrayData::DateTime64(_, v) => self.numbers(v),
            ArrayData::UInt64(v) => self.numbers(v),
            ArrayData::Float32(v) => self.numbers(v),
            ArrayData::Float64(v) => self.numbers(v),
        }
    }

    fn numbers<T: LeBytes>(&mut self, v: &[T]) {
        self.out.reserve(v.len() * T::SIZE);
        for x in v {
            x.put(&mut self.out);
        }
    }
}

/// Little-endian serialisation of array elements.
trait LeBytes {
    const SIZE: usize;
    fn put(&self, out: &mut Vec<u8>);
}

macro_rules! le_bytes {
    ($($t:ty),*) => {$(
        impl LeBytes for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn put(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
le_bytes!(u16, i16, u32, i32, u64, i64, f32, f64);

fn date_code(d: &chrono::NaiveDate) -> i32 {
    (d.year() * 100 + d.month() as i32) * 100 + d.day() as i32
}

fn time_code(t: &chrono::NaiveTime) -> i64 {
    // Python times have microsecond resolution; leap-second nanos are clamped.
    let micros = i64::from((t.nanosecond() / 1000).min(999_999));
    ((i64::from(t.hour()) * 100 + i64::from(t.minute())) * 100 + i64::from(t.second())) * 1_000_000
        + micros
}
