//! The reader: blob bytes -> [`Value`], accepting everything datajoint-python
//! 0.14 reads (mYm and dj0, compressed or not, the legacy 32-bit-dims layout)
//! and rejecting damaged input with a [`BlobError`] that names the offset and
//! the field. Every length is checked against the bytes that remain before
//! anything is allocated, so a bogus length cannot cause a huge allocation.

use std::borrow::Cow;

use chrono::{NaiveDate, NaiveTime};
use flate2::{Decompress, FlushDecompress, Status};
use uuid::Uuid;

use crate::array::{element_count, Array, ArrayData, Dtype, TimeUnit};
use crate::compound::{CellArray, RecArray, StructArray};
use crate::encode::{DJ0, MYM, ZLIB_PREFIX};
use crate::error::BlobError;
use crate::value::Value;

/// Deepest container nesting the reader accepts (datajoint-python hits its own
/// recursion limit well before this).
pub const MAX_DEPTH: usize = 512;

/// Decoding options (datajoint-python's `squeeze` argument and `use_32bit_dims` switch).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnpackOptions {
    /// Drop singleton dimensions of arrays, struct and cell arrays, and turn 0-d arrays into scalars.
    pub squeeze: bool,
    /// Read every u64 count / dimension / length as u32 (blobs from the 32-bit mYm MEX).
    pub use_32bit_dims: bool,
}

/// Decodes a blob (compressed or not) with default options.
pub fn unpack(blob: &[u8]) -> Result<Value, BlobError> {
    unpack_with(blob, UnpackOptions::default())
}

/// Decodes a blob with the given options.
pub fn unpack_with(blob: &[u8], opts: UnpackOptions) -> Result<Value, BlobError> {
    let data: Cow<[u8]> = if blob.starts_with(ZLIB_PREFIX) {
        Cow::Owned(decompress(blob, opts)?)
    } else {
        Cow::Borrowed(blob)
    };
    let mut r = Reader {
        buf: &data,
        pos: 0,
        end: data.len(),
        opts,
        depth: 0,
        in_record: false,
    };
    r.protocol()?;
    let v = r.item()?;
    if r.pos != data.len() {
        return Err(BlobError::Trailing {
            offset: r.pos,
            count: data.len() - r.pos,
        });
    }
    Ok(v)
}

/// Whether `bytes` start like a DataJoint blob (`ZL123\0`, `mYm\0` or `dj0\0`).
pub fn is_blob(bytes: &[u8]) -> bool {
    bytes.starts_with(ZLIB_PREFIX) || bytes.starts_with(MYM) || bytes.starts_with(DJ0)
}

fn decompress(blob: &[u8], opts: UnpackOptions) -> Result<Vec<u8>, BlobError> {
    let header = ZLIB_PREFIX.len();
    // like datajoint-python, the legacy switch also narrows this length to u32
    let width = if opts.use_32bit_dims { 4 } else { 8 };
    let len_bytes = blob
        .get(header..header + width)
        .ok_or(BlobError::Truncated {
            what: "compressed-length header",
            offset: header,
            needed: width,
            available: blob.len().saturating_sub(header),
        })?;
    let mut a = [0u8; 8];
    a[..width].copy_from_slice(len_bytes);
    let expected = u64::from_le_bytes(a);
    let input = &blob[header + width..];

    // deflate cannot expand data more than 1032:1, so a larger header is a lie
    let max_possible = (input.len() as u64)
        .saturating_mul(1032)
        .saturating_add(1024);
    if expected > max_possible {
        return Err(BlobError::BadLength {
            what: "decompressed length (beyond deflate's 1032:1 limit)",
            value: expected,
            offset: header,
            available: input.len(),
        });
    }
    // Trust the header for the first allocation only up to 64 MiB; grow beyond.
    let initial = expected.min(64 << 20) as usize;
    let mut out: Vec<u8> = Vec::with_capacity(initial);
    let mut z = Decompress::new(true);
    loop {
        let (in_before, out_before) = (z.total_in(), z.total_out());
        let consumed = usize::try_from(in_before)
            .unwrap_or(usize::MAX)
            .min(input.len());
        let status = z
            .decompress_vec(&input[consumed..], &mut out, FlushDecompress::None)
            .map_err(|e| BlobError::Zlib(e.to_string()))?;
        if out.len() as u64 > expected {
            return Err(BlobError::DecompressedLength {
                expected,
                actual: out.len() as u64,
            });
        }
        if status == Status::StreamEnd {
            break;
        }
        if out.len() == out.capacity() {
            // room for the rest, plus one byte to notice an overlong stream
            let room =
                (expected.saturating_add(1) - out.len() as u64).min(out.len().max(4096) as u64);
            out.reserve(room as usize);
        } else if z.total_in() == in_before && z.total_out() == out_before {
            return Err(BlobError::Zlib(format!(
                "stream ends after {} of {} compressed bytes without its end marker (truncated)",
                z.total_in(),
                input.len()
            )));
        }
    }
    let used = usize::try_from(z.total_in()).unwrap_or(usize::MAX);
    if used != input.len() {
        return Err(BlobError::Zlib(format!(
            "{} trailing bytes after the end of the zlib stream",
            input.len().saturating_sub(used)
        )));
    }
    if out.len() as u64 != expected {
        return Err(BlobError::DecompressedLength {
            expected,
            actual: out.len() as u64,
        });
    }
    Ok(out)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// End of the item being read (a length prefix narrows it).
    end: usize,
    opts: UnpackOptions,
    depth: usize,
    /// Record fields are never squeezed (see `squeeze_array`).
    in_record: bool,
}

/// Reads `N` bytes into an array (used on slices of known length).
#[inline(always)]
fn arr<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&b[..N]);
    a
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.end - self.pos
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], BlobError> {
        if n > self.remaining() {
            return Err(BlobError::Truncated {
                what,
                offset: self.pos,
                needed: n,
                available: self.remaining(),
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, BlobError> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, BlobError> {
        Ok(u16::from_le_bytes(arr(self.take(2, what)?)))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, BlobError> {
        Ok(u32::from_le_bytes(arr(self.take(4, what)?)))
    }

    fn i32(&mut self, what: &'static str) -> Result<i32, BlobError> {
        Ok(i32::from_le_bytes(arr(self.take(4, what)?)))
    }

    fn i64(&mut self, what: &'static str) -> Result<i64, BlobError> {
        Ok(i64::from_le_bytes(arr(self.take(8, what)?)))
    }

    fn f64(&mut self, what: &'static str) -> Result<f64, BlobError> {
        Ok(f64::from_le_bytes(arr(self.take(8, what)?)))
    }

    /// Width of counts, dimensions and lengths (8, or 4 in legacy mode).
    fn dim_width(&self) -> usize {
        if self.opts.use_32bit_dims {
            4
        } else {
            8
        }
    }

    /// Reads a count/dimension/length (u64, or u32 in legacy mode).
    fn dim(&mut self, what: &'static str) -> Result<u64, BlobError> {
        if self.opts.use_32bit_dims {
            Ok(u64::from(self.u32(what)?))
        } else {
            Ok(u64::from_le_bytes(arr(self.take(8, what)?)))
        }
    }

    /// Reads a count of things that each occupy at least `min_each` bytes, checked against what remains.
    fn count(&mut self, what: &'static str, min_each: usize) -> Result<usize, BlobError> {
        let offset = self.pos;
        let v = self.dim(what)?;
        self.check_count(what, v, min_each, offset)
    }

    fn check_count(
        &self,
        what: &'static str,
        v: u64,
        min_each: usize,
        offset: usize,
    ) -> Result<usize, BlobError> {
        let available = self.remaining();
        let ok = usize::try_from(v)
            .ok()
            .filter(|&n| n.checked_mul(min_each).is_some_and(|b| b <= available));
        ok.ok_or(BlobError::BadLength {
            what,
            value: v,
            offset,
            available,
        })
    }

    /// Minimum size of a length-prefixed item (prefix + code byte).
    fn min_prefixed(&self) -> usize {
        self.dim_width() + 1
    }

    fn protocol(&mut self) -> Result<(), BlobError> {
        let head = &self.buf[..self.end.min(16)];
        match head.iter().position(|&b| b == 0) {
            Some(n) if &head[..n] == b"mYm" || &head[..n] == b"dj0" => {
                self.pos = n + 1;
                Ok(())
            }
            Some(n) => Err(BlobError::BadProtocol {
                found: String::from_utf8_lossy(&head[..n]).into_owned(),
            }),
            None => Err(BlobError::BadProtocol {
                found: String::from_utf8_lossy(head).into_owned(),
            }),
        }
    }

    /// Reads `len + item`, requiring the item to use exactly `len` bytes.
    fn prefixed(&mut self) -> Result<Value, BlobError> {
        let offset = self.pos;
        let len = self.count("item length", 1)?;
        let start = self.pos;
        let outer = self.end;
        self.end = start + len;
        let v = self.item();
        self.end = outer;
        let v = v?;
        if self.pos != start + len {
            return Err(BlobError::ItemLength {
                offset,
                declared: len,
                used: self.pos - start,
            });
        }
        Ok(v)
    }

    fn items(&mut self, n: usize) -> Result<Vec<Value>, BlobError> {
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.prefixed()?);
        }
        Ok(v)
    }

    fn item(&mut self) -> Result<Value, BlobError> {
        let start = self.pos;
        if self.depth >= MAX_DEPTH {
            return Err(BlobError::TooDeep {
                limit: MAX_DEPTH,
                offset: start,
            });
        }
        self.depth += 1;
        let v = self.item_body(start);
        self.depth -= 1;
        v
    }

    fn item_body(&mut self, start: usize) -> Result<Value, BlobError> {
        let code = self.u8("data structure code")?;
        Ok(match code {
            b'A' => self.array()?,
            b'P' => return Err(BlobError::Sparse { offset: start }),
            b'S' => self.struct_array()?,
            b'C' => self.cell_array()?,
            b'F' => self.record()?,
            0xFF => Value::None,
            0x01..=0x03 => {
                let n = self.count("sequence length", self.min_prefixed())?;
                let items = self.items(n)?;
                match code {
                    0x01 => Value::Tuple(items),
                    0x02 => Value::List(items),
                    _ => Value::Set(items),
                }
            }
            0x04 => {
                let n = self.count("dict length", 2 * self.min_prefixed())?;
                let mut pairs = Vec::with_capacity(n);
                for _ in 0..n {
                    let k = self.prefixed()?;
                    let v = self.prefixed()?;
                    pairs.push((k, v));
                }
                Value::Dict(pairs)
            }
            0x05 => Value::Str(self.string("string")?),
            0x06 => {
                let n = self.count("bytes length", 1)?;
                Value::Bytes(self.take(n, "bytes")?.to_vec())
            }
            0x0A => {
                let n = self.u16("int byte count")?;
                let b = self.take(usize::from(n), "int bytes")?;
                Value::int_from_le_bytes(b)?
            }
            0x0B => Value::Bool(self.u8("bool")? != 0),
            0x0C => {
                let re = self.f64("complex real part")?;
                let im = self.f64("complex imaginary part")?;
                Value::Complex(re, im)
            }
            0x0D => Value::Float(self.f64("float")?),
            b'd' => {
                let offset = self.pos;
                let s = self.string("decimal")?;
                if !is_decimal_text(&s) {
                    return Err(BlobError::Invalid {
                        what: "decimal",
                        offset,
                        detail: format!("{s:?} is not a decimal number"),
                    });
                }
                Value::Decimal(s)
            }
            b't' => self.datetime()?,
            b'u' => Value::Uuid(Uuid::from_bytes(arr(self.take(16, "uuid")?))),
            other => {
                return Err(BlobError::UnknownCode {
                    code: other,
                    printable: char::from(other),
                    offset: start,
                })
            }
        })
    }

    fn string(&mut self, what: &'static str) -> Result<String, BlobError> {
        let n = self.count("string length", 1)?;
        let offset = self.pos;
        let b = self.take(n, what)?;
        String::from_utf8(b.to_vec()).map_err(|e| BlobError::Invalid {
            what,
            offset,
            detail: format!("not UTF-8: {e}"),
        })
    }

    /// A NUL-terminated UTF-8 name (struct / record field).
    fn name(&mut self, what: &'static str) -> Result<String, BlobError> {
        let offset = self.pos;
        let rest = &self.buf[self.pos..self.end];
        let n = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(BlobError::Invalid {
                what,
                offset,
                detail: "missing NUL terminator".into(),
            })?;
        let s = std::str::from_utf8(&rest[..n]).map_err(|e| BlobError::Invalid {
            what,
            offset,
            detail: format!("not UTF-8: {e}"),
        })?;
        self.pos += n + 1;
        Ok(s.to_owned())
    }

    fn shape(&mut self, what: &'static str) -> Result<(Vec<usize>, usize), BlobError> {
        let ndim = self.count(what, self.dim_width())?;
        let mut shape = Vec::with_capacity(ndim);
        for _ in 0..ndim {
            let offset = self.pos;
            let d = self.dim("dimension")?;
            let d = usize::try_from(d).map_err(|_| BlobError::BadLength {
                what: "dimension",
                value: d,
                offset,
                available: self.remaining(),
            })?;
            shape.push(d);
        }
        let n = element_count(&shape).ok_or_else(|| BlobError::Invalid {
            what: "shape",
            offset: self.pos,
            detail: format!("{shape:?} overflows the element count"),
        })?;
        Ok((shape, n))
    }

    fn array(&mut self) -> Result<Value, BlobError> {
        let (shape, n) = self.shape("array ndim")?;
        let class_offset = self.pos;
        let class_id = self.u32("array class id")?;
        let is_complex = self.u32("array complexity flag")? != 0;
        let dtype = Dtype::from_class_id(class_id).ok_or(BlobError::UnsupportedClass {
            class_id,
            offset: class_offset,
        })?;
        let data_offset = self.pos;
        let (real, imag) = match dtype {
            // Like datajoint-python, the complexity flag is ignored for object and char arrays.
            Dtype::Object => {
                self.check_count(
                    "object array element count",
                    n as u64,
                    self.min_prefixed(),
                    data_offset,
                )?;
                (ArrayData::Object(self.items(n)?), None)
            }
            Dtype::Char => (self.numeric(dtype, n)?, None),
            Dtype::DateTime64(_) if is_complex => {
                return Err(BlobError::Invalid {
                    what: "array",
                    offset: class_offset,
                    detail: "datetime64 array flagged complex".into(),
                })
            }
            _ => {
                let size = dtype.item_size().unwrap_or(1);
                let parts = if is_complex { 2 } else { 1 };
                let need = n
                    .checked_mul(size * parts)
                    .filter(|&b| b <= self.remaining());
                if need.is_none() {
                    return Err(BlobError::Truncated {
                        what: "array data",
                        offset: data_offset,
                        needed: n.saturating_mul(size * parts),
                        available: self.remaining(),
                    });
                }
                let re = self.numeric(dtype, n)?;
                let im = if is_complex {
                    Some(self.numeric(dtype, n)?)
                } else {
                    None
                };
                (re, im)
            }
        };
        let a = match imag {
            Some(im) => Array::new_complex(shape, real, im),
            None => Array::new(shape, real),
        }
        .map_err(|e| BlobError::Invalid {
            what: "array",
            offset: data_offset,
            detail: e.to_string(),
        })?;
        Ok(if self.opts.squeeze && !self.in_record {
            squeeze_array(a)
        } else {
            Value::Array(a)
        })
    }

    /// Reads `n` fixed-size elements of `dtype`.
    fn numeric(&mut self, dtype: Dtype, n: usize) -> Result<ArrayData, BlobError> {
        let size = dtype.item_size().unwrap_or(1);
        let b = self.take(n.saturating_mul(size), "array data")?;
        Ok(match dtype {
            Dtype::Bool => ArrayData::Bool(b.iter().map(|&x| x != 0).collect()),
            Dtype::Char => ArrayData::Char(conv(b)),
            Dtype::Float64 => ArrayData::Float64(conv(b)),
            Dtype::Float32 => ArrayData::Float32(conv(b)),
            Dtype::Int8 => ArrayData::Int8(b.iter().map(|&x| x as i8).collect()),
            Dtype::UInt8 => ArrayData::UInt8(b.to_vec()),
            Dtype::Int16 => ArrayData::Int16(conv(b)),
            Dtype::UInt16 => ArrayData::UInt16(conv(b)),
            Dtype::Int32 => ArrayData::Int32(conv(b)),
            Dtype::UInt32 => ArrayData::UInt32(conv(b)),
            Dtype::Int64 => ArrayData::Int64(conv(b)),
            Dtype::UInt64 => ArrayData::UInt64(conv(b)),
            Dtype::DateTime64(u) => ArrayData::DateTime64(u, conv(b)),
            Dtype::Object => ArrayData::Object(Vec::new()),
        })
    }

    fn struct_array(&mut self) -> Result<Value, BlobError> {
        let (shape, n) = self.shape("struct ndim")?;
        let nf_offset = self.pos;
        let nf = self.u32("struct field count")? as usize;
        let nf = self.check_count("struct field count", nf as u64, 1, nf_offset)?;
        let mut fields = Vec::with_capacity(nf);
        for _ in 0..nf {
            fields.push(self.name("struct field name")?);
        }
        let values_offset = self.pos;
        let total = n.saturating_mul(nf);
        self.check_count(
            "struct value count",
            total as u64,
            self.min_prefixed(),
            values_offset,
        )?;
        let values = self.items(total)?;
        let s = StructArray::new(shape, fields, values).map_err(|e| BlobError::Invalid {
            what: "struct array",
            offset: nf_offset,
            detail: e.to_string(),
        })?;
        Ok(Value::Struct(if self.opts.squeeze && !self.in_record {
            s.squeezed()
        } else {
            s
        }))
    }

    fn cell_array(&mut self) -> Result<Value, BlobError> {
        let (shape, n) = self.shape("cell ndim")?;
        let offset = self.pos;
        self.check_count("cell element count", n as u64, self.min_prefixed(), offset)?;
        let elements = self.items(n)?;
        let c = CellArray::new(shape, elements).map_err(|e| BlobError::Invalid {
            what: "cell array",
            offset,
            detail: e.to_string(),
        })?;
        Ok(Value::Cell(if self.opts.squeeze && !self.in_record {
            c.squeezed()
        } else {
            c
        }))
    }

    fn record(&mut self) -> Result<Value, BlobError> {
        let offset = self.pos;
        let nf = self.u32("record field count")?;
        // each field takes at least a NUL and a code byte
        let nf = self.check_count("record field count", u64::from(nf), 2, offset)?;
        let mut names = Vec::with_capacity(nf);
        for _ in 0..nf {
            names.push(self.name("record field name")?);
        }
        let outer = self.in_record;
        self.in_record = true;
        let mut fields = Vec::with_capacity(nf);
        for name in names {
            let field_offset = self.pos;
            let v = self.item();
            let v = match v {
                Ok(v @ (Value::Array(_) | Value::Record(_))) => v,
                Ok(other) => {
                    self.in_record = outer;
                    return Err(BlobError::Invalid {
                        what: "record field",
                        offset: field_offset,
                        detail: format!("field {name:?} is a {}, not an array", other.type_name()),
                    });
                }
                Err(e) => {
                    self.in_record = outer;
                    return Err(e);
                }
            };
            fields.push((name, v));
        }
        self.in_record = outer;
        let r = RecArray::new(fields).map_err(|e| BlobError::Invalid {
            what: "record array",
            offset,
            detail: e.to_string(),
        })?;
        Ok(Value::Record(r))
    }

    fn datetime(&mut self) -> Result<Value, BlobError> {
        let offset = self.pos;
        let date = self.i32("date")?;
        let time = self.i64("time")?;
        let date = if date >= 0 {
            let (y, m, d) = (date / 10000, (date / 100) % 100, date % 100);
            Some(
                NaiveDate::from_ymd_opt(y, m as u32, d as u32)
                    .filter(|_| y >= 1)
                    .ok_or_else(|| BlobError::Invalid {
                        what: "date",
                        offset,
                        detail: format!("{date} is not a valid YYYYMMDD date"),
                    })?,
            )
        } else {
            None
        };
        let time = if time >= 0 {
            let h = (time / 10_000_000_000) % 100;
            let mi = (time / 100_000_000) % 100;
            let s = (time / 1_000_000) % 100;
            let us = time % 1_000_000;
            Some(
                NaiveTime::from_hms_micro_opt(h as u32, mi as u32, s as u32, us as u32)
                    .ok_or_else(|| BlobError::Invalid {
                        what: "time",
                        offset: offset + 4,
                        detail: format!("{time} is not a valid HHMMSSffffff time"),
                    })?,
            )
        } else {
            None
        };
        Ok(match (date, time) {
            (Some(d), Some(t)) => Value::DateTime(d.and_time(t)),
            (Some(d), None) => Value::Date(d),
            (None, Some(t)) => Value::Time(t),
            (None, None) => Value::None,
        })
    }
}

/// Fixed-size little-endian element types (static dispatch keeps the copy loop vectorised).
trait FromLe: Sized {
    const SIZE: usize;
    fn from_le(b: &[u8]) -> Self;
}

macro_rules! from_le {
    ($($t:ty),*) => {$(
        impl FromLe for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            #[inline(always)]
            fn from_le(b: &[u8]) -> Self {
                <$t>::from_le_bytes(arr(b))
            }
        }
    )*};
}
from_le!(u16, i16, u32, i32, u64, i64, f32, f64);

/// Converts little-endian bytes (a multiple of the element size) to elements.
fn conv<T: FromLe>(b: &[u8]) -> Vec<T> {
    b.chunks_exact(T::SIZE).map(T::from_le).collect()
}

/// Python's `Decimal()` syntax (sign, digits with optional fraction and exponent,
/// or Infinity / NaN / sNaN), allowing surrounding whitespace and digit underscores.
fn is_decimal_text(s: &str) -> bool {
    let t = s.trim();
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    let lower = t.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return true;
    }
    for nan in ["nan", "snan"] {
        if let Some(payload) = lower.strip_prefix(nan) {
            return payload.bytes().all(|b| b.is_ascii_digit());
        }
    }
    let (mantissa, exponent) = match lower.find('e') {
        Some(i) => (&lower[..i], Some(&lower[i + 1..])),
        None => (lower.as_str(), None),
    };
    let digits = |x: &str| {
        !x.is_empty()
            && x.bytes().all(|b| b.is_ascii_digit() || b == b'_')
            && !x.starts_with('_')
            && !x.ends_with('_')
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => {
            (a.is_empty() || digits(a))
                && (b.is_empty() || digits(b))
                && !(a.is_empty() && b.is_empty())
        }
        None => digits(mantissa),
    };
    let exponent_ok = match exponent {
        None => true,
        Some(e) => digits(e.strip_prefix(['+', '-']).unwrap_or(e)),
    };
    mantissa_ok && exponent_ok
}

/// datajoint-python's `squeeze`: drop singleton dims; 1-D / 1xN char -> str; 0-d -> scalar.
fn squeeze_array(a: Array) -> Value {
    if a.is_char_row() {
        return Value::Str(a.char_string().unwrap_or_default());
    }
    let a = a.squeezed();
    if a.ndim() != 0 {
        return Value::Array(a);
    }
    let (_, real, imag) = a.into_parts();
    if let Some(im) = imag {
        return match (real.get_f64(0), im.get_f64(0)) {
            (Some(re), Some(im)) => Value::Complex(re, im),
            _ => Value::None,
        };
    }
    let first = |n: usize| n >= 1;
    match real {
        ArrayData::Bool(v) if first(v.len()) => Value::Bool(v[0]),
        ArrayData::Float64(v) if first(v.len()) => Value::Float(v[0]),
        ArrayData::Float32(v) if first(v.len()) => Value::Float(f64::from(v[0])),
        ArrayData::Int8(v) if first(v.len()) => Value::Int(i128::from(v[0])),
        ArrayData::UInt8(v) if first(v.len()) => Value::Int(i128::from(v[0])),
        ArrayData::Int16(v) if first(v.len()) => Value::Int(i128::from(v[0])),
        ArrayData::UInt16(v) if first(v.len()) => Value::Int(i128::from(v[0])),
        ArrayData::Int32(v) if first(v.len()) => Value::Int(i128::from(v[0])),
        ArrayData::UInt32(v) if first(v.len()) => Value::Int(i128::from(v[0])),
        ArrayData::Int64(v) if first(v.len()) => Value::Int(i128::from(v[0])),
        ArrayData::UInt64(v) if first(v.len()) => Value::Int(i128::from(v[0])),
        ArrayData::Char(v) => Value::Str(String::from_utf16_lossy(&v)),
        ArrayData::Object(mut v) => v.pop().unwrap_or(Value::None),
        ArrayData::DateTime64(u, v) if first(v.len()) => datetime64_item(u, v[0]),
        // unreachable: a 0-d array always holds one element
        _ => Value::None,
    }
}

/// numpy's `datetime64.item()`: a date for Y/M/W/D, a datetime for h..us, an int for finer units; NaT -> None.
fn datetime64_item(unit: TimeUnit, t: i64) -> Value {
    use crate::json::datetime64_chrono;
    if t == i64::MIN {
        return Value::None;
    }
    match unit {
        TimeUnit::Nanosecond
        | TimeUnit::Picosecond
        | TimeUnit::Femtosecond
        | TimeUnit::Attosecond => Value::Int(i128::from(t)),
        _ => match datetime64_chrono(unit, t) {
            Some(dt) => match unit {
                TimeUnit::Year | TimeUnit::Month | TimeUnit::Week | TimeUnit::Day => {
                    Value::Date(dt.date())
                }
                _ => Value::DateTime(dt),
            },
            None => Value::Int(i128::from(t)),
        },
    }
}
