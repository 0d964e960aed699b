//! NumPy `.npy` files (format versions 1.0, 2.0 and 3.0): a reader for the plain numeric
//! dtypes Kilosort and phy write (bool, signed and unsigned integers of 1–8 bytes, float32,
//! float64, either byte order, C or Fortran order) and a writer of version 1.0 files.
//! Object arrays (pickles) and structured dtypes are refused with an error.

use std::io::Write;
use std::path::Path;

use crate::error::KilosortError;

/// The element values of an array, in C (row-major) order.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyData {
    /// `bool` (`|b1`).
    Bool(Vec<bool>),
    /// `int8`.
    I8(Vec<i8>),
    /// `uint8`.
    U8(Vec<u8>),
    /// `int16`.
    I16(Vec<i16>),
    /// `uint16`.
    U16(Vec<u16>),
    /// `int32`.
    I32(Vec<i32>),
    /// `uint32`.
    U32(Vec<u32>),
    /// `int64`.
    I64(Vec<i64>),
    /// `uint64`.
    U64(Vec<u64>),
    /// `float32`.
    F32(Vec<f32>),
    /// `float64`.
    F64(Vec<f64>),
}

/// An n-dimensional array read from (or to be written to) a `.npy` file.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The shape; an empty shape is a scalar (one element).
    pub shape: Vec<usize>,
    /// The elements in C order.
    pub data: NpyData,
}

macro_rules! each_variant {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            NpyData::Bool($v) => $body,
            NpyData::I8($v) => $body,
            NpyData::U8($v) => $body,
            NpyData::I16($v) => $body,
            NpyData::U16($v) => $body,
            NpyData::I32($v) => $body,
            NpyData::U32($v) => $body,
            NpyData::I64($v) => $body,
            NpyData::U64($v) => $body,
            NpyData::F32($v) => $body,
            NpyData::F64($v) => $body,
        }
    };
}

impl NpyData {
    /// Number of elements.
    pub fn len(&self) -> usize {
        each_variant!(self, v => v.len())
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The NumPy name of the dtype (`"int64"`, `"float32"`, …).
    pub fn dtype_name(&self) -> &'static str {
        match self {
            NpyData::Bool(_) => "bool",
            NpyData::I8(_) => "int8",
            NpyData::U8(_) => "uint8",
            NpyData::I16(_) => "int16",
            NpyData::U16(_) => "uint16",
            NpyData::I32(_) => "int32",
            NpyData::U32(_) => "uint32",
            NpyData::I64(_) => "int64",
            NpyData::U64(_) => "uint64",
            NpyData::F32(_) => "float32",
            NpyData::F64(_) => "float64",
        }
    }

    fn descr(&self) -> &'static str {
        match self {
            NpyData::Bool(_) => "|b1",
            NpyData::I8(_) => "|i1",
            NpyData::U8(_) => "|u1",
            NpyData::I16(_) => "<i2",
            NpyData::U16(_) => "<u2",
            NpyData::I32(_) => "<i4",
            NpyData::U32(_) => "<u4",
            NpyData::I64(_) => "<i8",
            NpyData::U64(_) => "<u8",
            NpyData::F32(_) => "<f4",
            NpyData::F64(_) => "<f8",
        }
    }

    fn is_float(&self) -> bool {
        matches!(self, NpyData::F32(_) | NpyData::F64(_))
    }

    fn f64_at(&self, i: usize) -> f64 {
        match self {
            NpyData::Bool(v) => f64::from(u8::from(v[i])),
            NpyData::I8(v) => f64::from(v[i]),
            NpyData::U8(v) => f64::from(v[i]),
            NpyData::I16(v) => f64::from(v[i]),
            NpyData::U16(v) => f64::from(v[i]),
            NpyData::I32(v) => f64::from(v[i]),
            NpyData::U32(v) => f64::from(v[i]),
            NpyData::I64(v) => v[i] as f64,
            NpyData::U64(v) => v[i] as f64,
            NpyData::F32(v) => f64::from(v[i]),
            NpyData::F64(v) => v[i],
        }
    }
}

impl NpyArray {
    /// Number of elements (the product of the shape).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The elements as `f64` (exact for every dtype except 64-bit integers above 2^53).
    pub fn to_f64(&self) -> Vec<f64> {
        (0..self.len()).map(|i| self.data.f64_at(i)).collect()
    }

    /// The elements as `f32` when the dtype is float32, else converted from `f64`.
    pub fn to_f32(&self) -> Vec<f32> {
        match &self.data {
            NpyData::F32(v) => v.clone(),
            _ => self.to_f64().into_iter().map(|x| x as f32).collect(),
        }
    }

    /// The elements as `i64`. Float arrays are accepted only when every value is a finite
    /// whole number; `uint64` values above `i64::MAX` are an error. `what` names the
    /// array in the error.
    pub fn to_i64(&self, what: &str) -> Result<Vec<i64>, KilosortError> {
        let bad = |detail: String| KilosortError::Invalid {
            what: what.to_string(),
            detail,
        };
        match &self.data {
            NpyData::U64(v) => v
                .iter()
                .map(|&x| i64::try_from(x).map_err(|_| bad(format!("value {x} exceeds int64"))))
                .collect(),
            NpyData::I64(v) => Ok(v.clone()),
            d if d.is_float() => (0..self.len())
                .map(|i| {
                    let x = d.f64_at(i);
                    if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 {
                        Ok(x as i64)
                    } else {
                        Err(bad(format!(
                            "element {i} is {x}, not a whole number ({} array)",
                            d.dtype_name()
                        )))
                    }
                })
                .collect(),
            d => Ok((0..self.len()).map(|i| d.f64_at(i) as i64).collect()),
        }
    }

    /// Reads a `.npy` file. Errors name the file.
    pub fn read(path: &Path) -> Result<NpyArray, KilosortError> {
        let bytes = std::fs::read(path).map_err(|e| KilosortError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        Self::parse(&bytes).map_err(|detail| KilosortError::Npy {
            path: path.to_path_buf(),
            detail,
        })
    }

    /// Parses the bytes of a `.npy` file.
    pub fn parse(bytes: &[u8]) -> Result<NpyArray, String> {
        if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
            return Err("not a NumPy .npy file (bad magic string)".into());
        }
        let major = bytes[6];
        let (header_len, start): (usize, usize) = match major {
            1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
            2 | 3 => {
                if bytes.len() < 12 {
                    return Err("truncated header".into());
                }
                let n = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
                (
                    usize::try_from(n).map_err(|_| "header too long".to_string())?,
                    12,
                )
            }
            v => return Err(format!("unsupported .npy format version {v}")),
        };
        let end = start
            .checked_add(header_len)
            .filter(|&e| e <= bytes.len())
            .ok_or("truncated header")?;
        let header = std::str::from_utf8(&bytes[start..end])
            .map_err(|_| "header is not text".to_string())?;
        let h = parse_header(header)?;
        let count = h
            .shape
            .iter()
            .try_fold(1usize, |a, &b| a.checked_mul(b))
            .ok_or("shape overflows")?;
        let body = &bytes[end..];
        let need = count.checked_mul(h.size).ok_or("shape overflows")?;
        if body.len() < need {
            return Err(format!(
                "data truncated: shape {:?} of {} needs {need} bytes, the file holds {}",
                h.shape,
                h.descr,
                body.len()
            ));
        }
        if body.len() > need {
            return Err(format!(
                "{} bytes after the data of shape {:?} ({}): not a plain array",
                body.len() - need,
                h.shape,
                h.descr
            ));
        }
        let data = decode(body, &h)?;
        let data = if h.fortran && h.shape.len() > 1 {
            permute(data, &fortran_to_c(&h.shape))
        } else {
            data
        };
        Ok(NpyArray {
            shape: h.shape,
            data,
        })
    }

    /// Writes the array as a version 1.0 `.npy` file (little-endian, C order), to a
    /// temporary name in the same folder renamed into place.
    pub fn write(&self, path: &Path) -> Result<(), KilosortError> {
        let count: usize = self.shape.iter().product();
        if count != self.len() {
            return Err(KilosortError::Invalid {
                what: path.display().to_string(),
                detail: format!(
                    "shape {:?} does not hold {} elements",
                    self.shape,
                    self.len()
                ),
            });
        }
        let head = header_bytes(self.data.descr(), &self.shape).map_err(|detail| {
            KilosortError::Invalid {
                what: path.display().to_string(),
                detail,
            }
        })?;
        let mut out = Vec::with_capacity(head.len() + self.len() * 8);
        out.extend_from_slice(&head);
        match &self.data {
            NpyData::Bool(v) => out.extend(v.iter().map(|&b| u8::from(b))),
            NpyData::I8(v) => out.extend(v.iter().flat_map(|x| x.to_le_bytes())),
            NpyData::U8(v) => out.extend_from_slice(v),
            NpyData::I16(v) => out.extend(v.iter().flat_map(|x| x.to_le_bytes())),
            NpyData::U16(v) => out.extend(v.iter().flat_map(|x| x.to_le_bytes())),
            NpyData::I32(v) => out.extend(v.iter().flat_map(|x| x.to_le_bytes())),
            NpyData::U32(v) => out.extend(v.iter().flat_map(|x| x.to_le_bytes())),
            NpyData::I64(v) => out.extend(v.iter().flat_map(|x| x.to_le_bytes())),
            NpyData::U64(v) => out.extend(v.iter().flat_map(|x| x.to_le_bytes())),
            NpyData::F32(v) => out.extend(v.iter().flat_map(|x| x.to_le_bytes())),
            NpyData::F64(v) => out.extend(v.iter().flat_map(|x| x.to_le_bytes())),
        }
        write_atomically(path, &out)
    }
}

/// The magic, length and header of a version 1.0 `.npy` file of `descr` (`'<f4'`, …)
/// and `shape` (C order), padded as numpy pads it; the data follows it.
pub fn header_bytes(descr: &str, shape: &[usize]) -> Result<Vec<u8>, String> {
    let shape = match shape.len() {
        1 => format!("({},)", shape[0]),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // numpy pads magic + length + header + newline to a multiple of 64 bytes
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let hlen = u16::try_from(header.len())
        .map_err(|_| "too many dimensions for a version 1.0 header".to_string())?;
    let mut out = Vec::with_capacity(10 + header.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&hlen.to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    Ok(out)
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), KilosortError> {
    let io = |e: std::io::Error| KilosortError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let name = path
        .file_name()
        .ok_or_else(|| KilosortError::Invalid {
            what: path.display().to_string(),
            detail: "not a file path".into(),
        })?
        .to_string_lossy()
        .to_string();
    let tmp = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io)
}

struct Header {
    descr: String,
    size: usize,
    big_endian: bool,
    kind: char,
    fortran: bool,
    shape: Vec<usize>,
}

fn parse_header(text: &str) -> Result<Header, String> {
    let t = text.trim();
    let inner = t
        .strip_prefix('{')
        .and_then(|s| s.trim_end().strip_suffix('}'))
        .ok_or_else(|| format!("header is not a dict: {t}"))?;
    let mut descr = None;
    let mut fortran = None;
    let mut shape = None;
    let mut rest = inner.trim_start();
    while !rest.is_empty() {
        let (key, r) = quoted(rest)?;
        let r = r
            .trim_start()
            .strip_prefix(':')
            .ok_or("expected ':' in header")?
            .trim_start();
        let r = match key.as_str() {
            "descr" => {
                if r.starts_with('[') {
                    return Err("structured dtypes are not supported".into());
                }
                let (v, r) = quoted(r)?;
                descr = Some(v);
                r
            }
            "fortran_order" => {
                if let Some(r) = r.strip_prefix("True") {
                    fortran = Some(true);
                    r
                } else if let Some(r) = r.strip_prefix("False") {
                    fortran = Some(false);
                    r
                } else {
                    return Err("fortran_order is neither True nor False".into());
                }
            }
            "shape" => {
                let r = r.strip_prefix('(').ok_or("shape is not a tuple")?;
                let close = r.find(')').ok_or("shape tuple not closed")?;
                let dims = r[..close]
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        s.trim_end_matches('L')
                            .parse::<usize>()
                            .map_err(|_| format!("bad dimension {s:?} in shape"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                shape = Some(dims);
                &r[close + 1..]
            }
            other => return Err(format!("unexpected header key {other:?}")),
        };
        rest = r.trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    let descr = descr.ok_or("header lacks 'descr'")?;
    let fortran = fortran.ok_or("header lacks 'fortran_order'")?;
    let shape = shape.ok_or("header lacks 'shape'")?;
    let mut chars = descr.chars();
    let order = chars.next().ok_or("empty descr")?;
    let (big_endian, kind) = match order {
        '<' | '|' | '=' => (false, chars.next()),
        '>' => (true, chars.next()),
        c => (false, Some(c)),
    };
    let kind = kind.ok_or_else(|| format!("bad descr {descr:?}"))?;
    let size: usize = chars.as_str().parse().map_err(|_| {
        format!("unsupported dtype {descr:?} (object arrays and pickles are never read)")
    })?;
    let ok = matches!(
        (kind, size),
        ('b', 1) | ('i', 1 | 2 | 4 | 8) | ('u', 1 | 2 | 4 | 8) | ('f', 4 | 8)
    );
    if !ok {
        return Err(format!(
            "unsupported dtype {descr:?} (object arrays and pickles are never read)"
        ));
    }
    Ok(Header {
        descr,
        size,
        big_endian,
        kind,
        fortran,
        shape,
    })
}

fn quoted(s: &str) -> Result<(String, &str), String> {
    let q = s.chars().next().ok_or("unexpected end of header")?;
    if q != '\'' && q != '"' {
        return Err(format!("expected a quoted string in header at {s:?}"));
    }
    let body = &s[1..];
    let end = body.find(q).ok_or("unterminated string in header")?;
    Ok((body[..end].to_string(), &body[end + 1..]))
}

fn decode(body: &[u8], h: &Header) -> Result<NpyData, String> {
    macro_rules! nums {
        ($t:ty, $n:expr, $variant:ident) => {{
            let v: Vec<$t> = body
                .chunks_exact($n)
                .map(|c| {
                    let mut a = [0u8; $n];
                    a.copy_from_slice(c);
                    if h.big_endian {
                        <$t>::from_be_bytes(a)
                    } else {
                        <$t>::from_le_bytes(a)
                    }
                })
                .collect();
            NpyData::$variant(v)
        }};
    }
    Ok(match (h.kind, h.size) {
        ('b', 1) => NpyData::Bool(body.iter().map(|&b| b != 0).collect()),
        ('i', 1) => NpyData::I8(body.iter().map(|&b| b as i8).collect()),
        ('u', 1) => NpyData::U8(body.to_vec()),
        ('i', 2) => nums!(i16, 2, I16),
        ('u', 2) => nums!(u16, 2, U16),
        ('i', 4) => nums!(i32, 4, I32),
        ('u', 4) => nums!(u32, 4, U32),
        ('i', 8) => nums!(i64, 8, I64),
        ('u', 8) => nums!(u64, 8, U64),
        ('f', 4) => nums!(f32, 4, F32),
        ('f', 8) => nums!(f64, 8, F64),
        _ => return Err(format!("unsupported dtype {:?}", h.descr)),
    })
}

fn permute(data: NpyData, perm: &[usize]) -> NpyData {
    macro_rules! apply {
        ($v:expr, $variant:ident) => {
            NpyData::$variant(perm.iter().map(|&i| $v[i]).collect())
        };
    }
    match data {
        NpyData::Bool(v) => apply!(v, Bool),
        NpyData::I8(v) => apply!(v, I8),
        NpyData::U8(v) => apply!(v, U8),
        NpyData::I16(v) => apply!(v, I16),
        NpyData::U16(v) => apply!(v, U16),
        NpyData::I32(v) => apply!(v, I32),
        NpyData::U32(v) => apply!(v, U32),
        NpyData::I64(v) => apply!(v, I64),
        NpyData::U64(v) => apply!(v, U64),
        NpyData::F32(v) => apply!(v, F32),
        NpyData::F64(v) => apply!(v, F64),
    }
}

/// For each C-order position, the index of that element in the Fortran-order buffer.
fn fortran_to_c(shape: &[usize]) -> Vec<usize> {
    let n: usize = shape.iter().product();
    let nd = shape.len();
    let mut fstride = vec![1usize; nd];
    for d in 1..nd {
        fstride[d] = fstride[d - 1] * shape[d - 1];
    }
    let mut idx = vec![0usize; nd];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(idx.iter().zip(&fstride).map(|(i, s)| i * s).sum());
        for d in (0..nd).rev() {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}
