//! N-dimensional arrays as the `A` item stores them: a shape, a class (dtype) and
//! the elements in column-major (Fortran / MATLAB) order, with an optional
//! imaginary part. Also the row-major <-> column-major helpers.

use crate::error::BlobError;
use crate::value::Value;

/// Unit of a numpy `datetime64` array (class ids 65536 + index, dj0 only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    /// Years (`Y`).
    Year,
    /// Months (`M`).
    Month,
    /// Weeks (`W`).
    Week,
    /// Days (`D`).
    Day,
    /// Hours (`h`).
    Hour,
    /// Minutes (`m`).
    Minute,
    /// Seconds (`s`).
    Second,
    /// Milliseconds (`ms`).
    Millisecond,
    /// Microseconds (`us`).
    Microsecond,
    /// Nanoseconds (`ns`).
    Nanosecond,
    /// Picoseconds (`ps`).
    Picosecond,
    /// Femtoseconds (`fs`).
    Femtosecond,
    /// Attoseconds (`as`).
    Attosecond,
}

const TIME_UNITS: [TimeUnit; 13] = [
    TimeUnit::Year,
    TimeUnit::Month,
    TimeUnit::Week,
    TimeUnit::Day,
    TimeUnit::Hour,
    TimeUnit::Minute,
    TimeUnit::Second,
    TimeUnit::Millisecond,
    TimeUnit::Microsecond,
    TimeUnit::Nanosecond,
    TimeUnit::Picosecond,
    TimeUnit::Femtosecond,
    TimeUnit::Attosecond,
];

impl TimeUnit {
    /// The numpy unit code (`"D"`, `"us"`, ...).
    pub fn code(self) -> &'static str {
        match self {
            TimeUnit::Year => "Y",
            TimeUnit::Month => "M",
            TimeUnit::Week => "W",
            TimeUnit::Day => "D",
            TimeUnit::Hour => "h",
            TimeUnit::Minute => "m",
            TimeUnit::Second => "s",
            TimeUnit::Millisecond => "ms",
            TimeUnit::Microsecond => "us",
            TimeUnit::Nanosecond => "ns",
            TimeUnit::Picosecond => "ps",
            TimeUnit::Femtosecond => "fs",
            TimeUnit::Attosecond => "as",
        }
    }

    /// The unit for a numpy unit code, if valid.
    pub fn from_code(code: &str) -> Option<TimeUnit> {
        TIME_UNITS.iter().copied().find(|u| u.code() == code)
    }

    /// The blob class id (65536 for years ... 65548 for attoseconds).
    pub fn class_id(self) -> u32 {
        65536 + TIME_UNITS.iter().position(|u| *u == self).unwrap_or(0) as u32
    }

    /// The unit for a blob class id, if it is a datetime64 id.
    pub fn from_class_id(id: u32) -> Option<TimeUnit> {
        id.checked_sub(65536)
            .and_then(|i| TIME_UNITS.get(i as usize).copied())
    }
}

/// The element type of an array, i.e. its blob class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dtype {
    /// MATLAB logical / numpy bool (class 3, 1 byte per element).
    Bool,
    /// MATLAB char (class 4, one UTF-16 code unit per element).
    Char,
    /// Elements are arbitrary values (class 5, "void"; numpy object and unicode arrays).
    Object,
    /// double / float64 (class 6).
    Float64,
    /// single / float32 (class 7).
    Float32,
    /// int8 (class 8).
    Int8,
    /// uint8 (class 9).
    UInt8,
    /// int16 (class 10).
    Int16,
    /// uint16 (class 11).
    UInt16,
    /// int32 (class 12).
    Int32,
    /// uint32 (class 13).
    UInt32,
    /// int64 (class 14).
    Int64,
    /// uint64 (class 15).
    UInt64,
    /// numpy datetime64 with a unit (classes 65536..=65548).
    DateTime64(TimeUnit),
}

impl Dtype {
    /// The class id written in the `A` item.
    pub fn class_id(self) -> u32 {
        match self {
            Dtype::Bool => 3,
            Dtype::Char => 4,
            Dtype::Object => 5,
            Dtype::Float64 => 6,
            Dtype::Float32 => 7,
            Dtype::Int8 => 8,
            Dtype::UInt8 => 9,
            Dtype::Int16 => 10,
            Dtype::UInt16 => 11,
            Dtype::Int32 => 12,
            Dtype::UInt32 => 13,
            Dtype::Int64 => 14,
            Dtype::UInt64 => 15,
            Dtype::DateTime64(u) => u.class_id(),
        }
    }

    /// The dtype for a class id; `None` for ids without an array representation
    /// (0 unknown, 1 cell, 2 struct, 16 function) and unknown ids.
    pub fn from_class_id(id: u32) -> Option<Dtype> {
        Some(match id {
            3 => Dtype::Bool,
            4 => Dtype::Char,
            5 => Dtype::Object,
            6 => Dtype::Float64,
            7 => Dtype::Float32,
            8 => Dtype::Int8,
            9 => Dtype::UInt8,
            10 => Dtype::Int16,
            11 => Dtype::UInt16,
            12 => Dtype::Int32,
            13 => Dtype::UInt32,
            14 => Dtype::Int64,
            15 => Dtype::UInt64,
            _ => return TimeUnit::from_class_id(id).map(Dtype::DateTime64),
        })
    }

    /// Bytes per element in the blob (`None` for object arrays).
    pub fn item_size(self) -> Option<usize> {
        Some(match self {
            Dtype::Bool | Dtype::Int8 | Dtype::UInt8 => 1,
            Dtype::Char | Dtype::Int16 | Dtype::UInt16 => 2,
            Dtype::Float32 | Dtype::Int32 | Dtype::UInt32 => 4,
            Dtype::Float64 | Dtype::Int64 | Dtype::UInt64 | Dtype::DateTime64(_) => 8,
            Dtype::Object => return None,
        })
    }

    /// Whether elements of this class may have an imaginary part.
    pub fn may_be_complex(self) -> bool {
        !matches!(self, Dtype::Char | Dtype::Object | Dtype::DateTime64(_))
    }

    /// The numpy name of the dtype (`"float64"`, `"datetime64[ms]"`, ...).
    pub fn numpy_name(self) -> String {
        match self {
            Dtype::Bool => "bool".into(),
            Dtype::Char => "char".into(),
            Dtype::Object => "object".into(),
            Dtype::Float64 => "float64".into(),
            Dtype::Float32 => "float32".into(),
            Dtype::Int8 => "int8".into(),
            Dtype::UInt8 => "uint8".into(),
            Dtype::Int16 => "int16".into(),
            Dtype::UInt16 => "uint16".into(),
            Dtype::Int32 => "int32".into(),
            Dtype::UInt32 => "uint32".into(),
            Dtype::Int64 => "int64".into(),
            Dtype::UInt64 => "uint64".into(),
            Dtype::DateTime64(u) => format!("datetime64[{}]", u.code()),
        }
    }
}

/// The elements of an array (or of its imaginary part), column-major.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayData {
    /// Logical values.
    Bool(Vec<bool>),
    /// UTF-16 code units (MATLAB char); Python-written chars are bytes widened to u16.
    Char(Vec<u16>),
    /// Arbitrary values, each packed as its own item.
    Object(Vec<Value>),
    /// float64 values.
    Float64(Vec<f64>),
    /// float32 values.
    Float32(Vec<f32>),
    /// int8 values.
    Int8(Vec<i8>),
    /// uint8 values.
    UInt8(Vec<u8>),
    /// int16 values.
    Int16(Vec<i16>),
    /// uint16 values.
    UInt16(Vec<u16>),
    /// int32 values.
    Int32(Vec<i32>),
    /// uint32 values.
    UInt32(Vec<u32>),
    /// int64 values.
    Int64(Vec<i64>),
    /// uint64 values.
    UInt64(Vec<u64>),
    /// datetime64 ticks since 1970-01-01 in the given unit (`i64::MIN` is NaT).
    DateTime64(TimeUnit, Vec<i64>),
}

/// Applies `$body` to the vector inside any typed variant of [`ArrayData`].
macro_rules! with_vec {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            ArrayData::Bool($v) => $body,
            ArrayData::Char($v) => $body,
            ArrayData::Object($v) => $body,
            ArrayData::Float64($v) => $body,
            ArrayData::Float32($v) => $body,
            ArrayData::Int8($v) => $body,
            ArrayData::UInt8($v) => $body,
            ArrayData::Int16($v) => $body,
            ArrayData::UInt16($v) => $body,
            ArrayData::Int32($v) => $body,
            ArrayData::UInt32($v) => $body,
            ArrayData::Int64($v) => $body,
            ArrayData::UInt64($v) => $body,
            ArrayData::DateTime64(_, $v) => $body,
        }
    };
}

impl ArrayData {
    /// The dtype of these elements.
    pub fn dtype(&self) -> Dtype {
        match self {
            ArrayData::Bool(_) => Dtype::Bool,
            ArrayData::Char(_) => Dtype::Char,
            ArrayData::Object(_) => Dtype::Object,
            ArrayData::Float64(_) => Dtype::Float64,
            ArrayData::Float32(_) => Dtype::Float32,
            ArrayData::Int8(_) => Dtype::Int8,
            ArrayData::UInt8(_) => Dtype::UInt8,
            ArrayData::Int16(_) => Dtype::Int16,
            ArrayData::UInt16(_) => Dtype::UInt16,
            ArrayData::Int32(_) => Dtype::Int32,
            ArrayData::UInt32(_) => Dtype::UInt32,
            ArrayData::Int64(_) => Dtype::Int64,
            ArrayData::UInt64(_) => Dtype::UInt64,
            ArrayData::DateTime64(u, _) => Dtype::DateTime64(*u),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        with_vec!(self, v => v.len())
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i` (column-major) converted to f64, for real numeric classes.
    pub fn get_f64(&self, i: usize) -> Option<f64> {
        Some(match self {
            ArrayData::Bool(v) => f64::from(u8::from(*v.get(i)?)),
            ArrayData::Float64(v) => *v.get(i)?,
            ArrayData::Float32(v) => f64::from(*v.get(i)?),
            ArrayData::Int8(v) => f64::from(*v.get(i)?),
            ArrayData::UInt8(v) => f64::from(*v.get(i)?),
            ArrayData::Int16(v) => f64::from(*v.get(i)?),
            ArrayData::UInt16(v) => f64::from(*v.get(i)?),
            ArrayData::Int32(v) => f64::from(*v.get(i)?),
            ArrayData::UInt32(v) => f64::from(*v.get(i)?),
            ArrayData::Int64(v) => *v.get(i)? as f64,
            ArrayData::UInt64(v) => *v.get(i)? as f64,
            ArrayData::Char(_) | ArrayData::Object(_) | ArrayData::DateTime64(..) => return None,
        })
    }

    /// The same elements reordered by `order` (`out[k] = self[order[k]]`).
    pub(crate) fn gather(&self, order: &[usize]) -> ArrayData {
        fn pick<T: Clone>(v: &[T], order: &[usize]) -> Vec<T> {
            order.iter().map(|&i| v[i].clone()).collect()
        }
        match self {
            ArrayData::Bool(v) => ArrayData::Bool(pick(v, order)),
            ArrayData::Char(v) => ArrayData::Char(pick(v, order)),
            ArrayData::Object(v) => ArrayData::Object(pick(v, order)),
            ArrayData::Float64(v) => ArrayData::Float64(pick(v, order)),
            ArrayData::Float32(v) => ArrayData::Float32(pick(v, order)),
            ArrayData::Int8(v) => ArrayData::Int8(pick(v, order)),
            ArrayData::UInt8(v) => ArrayData::UInt8(pick(v, order)),
            ArrayData::Int16(v) => ArrayData::Int16(pick(v, order)),
            ArrayData::UInt16(v) => ArrayData::UInt16(pick(v, order)),
            ArrayData::Int32(v) => ArrayData::Int32(pick(v, order)),
            ArrayData::UInt32(v) => ArrayData::UInt32(pick(v, order)),
            ArrayData::Int64(v) => ArrayData::Int64(pick(v, order)),
            ArrayData::UInt64(v) => ArrayData::UInt64(pick(v, order)),
            ArrayData::DateTime64(u, v) => ArrayData::DateTime64(*u, pick(v, order)),
        }
    }
}

/// A plain numeric element type that can be stored in an [`Array`].
pub trait Element: Copy + 'static {
    /// The dtype arrays of this element type have.
    const DTYPE: Dtype;
    /// Wraps a vector of elements.
    fn wrap(v: Vec<Self>) -> ArrayData;
    /// Borrows the elements if `data` holds this type.
    fn view(data: &ArrayData) -> Option<&[Self]>;
}

macro_rules! element {
    ($t:ty, $variant:ident) => {
        impl Element for $t {
            const DTYPE: Dtype = Dtype::$variant;
            fn wrap(v: Vec<Self>) -> ArrayData {
                ArrayData::$variant(v)
            }
            fn view(data: &ArrayData) -> Option<&[Self]> {
                match data {
                    ArrayData::$variant(v) => Some(v),
                    _ => None,
                }
            }
        }
    };
}
element!(bool, Bool);
element!(f64, Float64);
element!(f32, Float32);
element!(i8, Int8);
element!(u8, UInt8);
element!(i16, Int16);
element!(u16, UInt16);
element!(i32, Int32);
element!(u32, UInt32);
element!(i64, Int64);
element!(u64, UInt64);

/// Number of elements of `shape` (1 for a 0-d shape), `None` on overflow.
pub(crate) fn element_count(shape: &[usize]) -> Option<usize> {
    if shape.contains(&0) {
        return Some(0);
    }
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// Source index of each element when converting between memory orders.
///
/// With `to_col_major`, element `k` of the column-major result is element
/// `order[k]` of the row-major input; otherwise the reverse.
pub(crate) fn reorder_indices(shape: &[usize], to_col_major: bool) -> Vec<usize> {
    let n = element_count(shape).unwrap_or(0);
    let nd = shape.len();
    // strides of the source layout
    let mut src_stride = vec![0usize; nd];
    let mut acc = 1usize;
    if to_col_major {
        // source is row-major: last index fastest
        for j in (0..nd).rev() {
            src_stride[j] = acc;
            acc = acc.saturating_mul(shape[j]);
        }
    } else {
        for j in 0..nd {
            src_stride[j] = acc;
            acc = acc.saturating_mul(shape[j]);
        }
    }
    // iterate the destination layout
    let dims: Vec<usize> = if to_col_major {
        (0..nd).collect()
    } else {
        (0..nd).rev().collect()
    };
    let mut idx = vec![0usize; nd];
    let mut off = 0usize;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(off);
        for &j in &dims {
            idx[j] += 1;
            off += src_stride[j];
            if idx[j] < shape[j] {
                break;
            }
            off -= src_stride[j] * idx[j];
            idx[j] = 0;
        }
    }
    out
}

/// An n-dimensional array: shape, elements in column-major order, optional imaginary part.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    shape: Vec<usize>,
    real: ArrayData,
    imag: Option<ArrayData>,
}

impl Array {
    /// An array from column-major data; fails if the element count does not match the shape.
    pub fn new(shape: Vec<usize>, data: ArrayData) -> Result<Array, BlobError> {
        check_len(&shape, data.len())?;
        Ok(Array {
            shape,
            real: data,
            imag: None,
        })
    }

    /// A complex array from column-major real and imaginary parts of the same numeric class.
    pub fn new_complex(
        shape: Vec<usize>,
        real: ArrayData,
        imag: ArrayData,
    ) -> Result<Array, BlobError> {
        check_len(&shape, real.len())?;
        if real.dtype() != imag.dtype() || real.len() != imag.len() {
            return Err(BlobError::InvalidValue(format!(
                "imaginary part ({} x {}) does not match the real part ({} x {})",
                imag.len(),
                imag.dtype().numpy_name(),
                real.len(),
                real.dtype().numpy_name()
            )));
        }
        if !real.dtype().may_be_complex() {
            return Err(BlobError::InvalidValue(format!(
                "{} arrays cannot be complex",
                real.dtype().numpy_name()
            )));
        }
        Ok(Array {
            shape,
            real,
            imag: Some(imag),
        })
    }

    /// An array from column-major (Fortran-order) elements.
    pub fn from_col_major<T: Element>(shape: Vec<usize>, data: Vec<T>) -> Result<Array, BlobError> {
        Array::new(shape, T::wrap(data))
    }

    /// An array from row-major (C-order, numpy default) elements.
    pub fn from_row_major<T: Element>(shape: Vec<usize>, data: Vec<T>) -> Result<Array, BlobError> {
        check_len(&shape, data.len())?;
        let order = reorder_indices(&shape, true);
        let col: Vec<T> = order.iter().map(|&i| data[i]).collect();
        Array::new(shape, T::wrap(col))
    }

    /// A complex array from row-major `(re, im)` pairs (float64 gives numpy complex128).
    pub fn complex_from_row_major<T: Element>(
        shape: Vec<usize>,
        data: Vec<(T, T)>,
    ) -> Result<Array, BlobError> {
        check_len(&shape, data.len())?;
        let order = reorder_indices(&shape, true);
        let re: Vec<T> = order.iter().map(|&i| data[i].0).collect();
        let im: Vec<T> = order.iter().map(|&i| data[i].1).collect();
        Array::new_complex(shape, T::wrap(re), T::wrap(im))
    }

    /// A 1-D array (numpy shape `(n,)`).
    pub fn vector<T: Element>(data: Vec<T>) -> Array {
        Array {
            shape: vec![data.len()],
            real: T::wrap(data),
            imag: None,
        }
    }

    /// A 0-d array (a numpy scalar such as `np.float64(2.5)`; forces the dj0 protocol).
    pub fn scalar<T: Element>(value: T) -> Array {
        Array {
            shape: Vec::new(),
            real: T::wrap(vec![value]),
            imag: None,
        }
    }

    /// A 1xN MATLAB char array holding `s` as UTF-16.
    pub fn char_row(s: &str) -> Array {
        let units: Vec<u16> = s.encode_utf16().collect();
        Array {
            shape: vec![1, units.len()],
            real: ArrayData::Char(units),
            imag: None,
        }
    }

    /// An object array from column-major elements.
    pub fn objects(shape: Vec<usize>, elements: Vec<Value>) -> Result<Array, BlobError> {
        Array::new(shape, ArrayData::Object(elements))
    }

    /// A numpy unicode array (`np.array(['a', 'bc'])`) from row-major strings; stored as an object array of strings.
    pub fn strings<S: Into<String>>(
        shape: Vec<usize>,
        strings: Vec<S>,
    ) -> Result<Array, BlobError> {
        check_len(&shape, strings.len())?;
        let vals: Vec<Value> = strings.into_iter().map(|s| Value::Str(s.into())).collect();
        let order = reorder_indices(&shape, true);
        let col: Vec<Value> = order.iter().map(|&i| vals[i].clone()).collect();
        Array::new(shape, ArrayData::Object(col))
    }

    /// A datetime64 array from column-major ticks.
    pub fn datetime64(
        unit: TimeUnit,
        shape: Vec<usize>,
        ticks: Vec<i64>,
    ) -> Result<Array, BlobError> {
        Array::new(shape, ArrayData::DateTime64(unit, ticks))
    }

    /// The shape (empty for a 0-d array).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.real.len()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.real.is_empty()
    }

    /// The element type.
    pub fn dtype(&self) -> Dtype {
        self.real.dtype()
    }

    /// Whether the array has an imaginary part.
    pub fn is_complex(&self) -> bool {
        self.imag.is_some()
    }

    /// The (real part of the) elements, column-major.
    pub fn data(&self) -> &ArrayData {
        &self.real
    }

    /// The imaginary part, column-major, if complex.
    pub fn imag(&self) -> Option<&ArrayData> {
        self.imag.as_ref()
    }

    /// Splits into shape, real part and imaginary part.
    pub fn into_parts(self) -> (Vec<usize>, ArrayData, Option<ArrayData>) {
        (self.shape, self.real, self.imag)
    }

    /// The real elements in column-major order, if the dtype is `T`.
    pub fn as_slice<T: Element>(&self) -> Option<&[T]> {
        T::view(&self.real)
    }

    /// The real elements in row-major order, if the dtype is `T`.
    pub fn to_row_major<T: Element>(&self) -> Option<Vec<T>> {
        let col = T::view(&self.real)?;
        Some(self.row_major_order().iter().map(|&i| col[i]).collect())
    }

    /// All elements converted to f64 in row-major order (real numeric dtypes only).
    pub fn to_f64_row_major(&self) -> Option<Vec<f64>> {
        if self.imag.is_some() {
            return None;
        }
        self.row_major_order()
            .iter()
            .map(|&i| self.real.get_f64(i))
            .collect()
    }

    /// The real elements (any dtype) rearranged into row-major order.
    pub fn row_major_data(&self) -> ArrayData {
        self.real.gather(&self.row_major_order())
    }

    /// For each row-major position, the column-major index of that element.
    pub fn row_major_order(&self) -> Vec<usize> {
        reorder_indices(&self.shape, false)
    }

    /// The text of a char array (UTF-16, unpaired surrogates replaced), all elements in column-major order.
    pub fn char_string(&self) -> Option<String> {
        match &self.real {
            ArrayData::Char(units) => Some(String::from_utf16_lossy(units)),
            _ => None,
        }
    }

    /// Whether this is a char array DataJoint reads as one string (1-D or 1xN).
    pub fn is_char_row(&self) -> bool {
        matches!(self.real, ArrayData::Char(_))
            && (self.shape.len() == 1 || (self.shape.len() == 2 && self.shape[0] == 1))
    }

    /// The same array with all singleton dimensions removed (numpy `squeeze`).
    pub fn squeezed(mut self) -> Array {
        self.shape.retain(|&d| d != 1);
        self
    }
}

fn check_len(shape: &[usize], len: usize) -> Result<(), BlobError> {
    match element_count(shape) {
        Some(n) if n == len => Ok(()),
        Some(n) => Err(BlobError::InvalidValue(format!(
            "shape {shape:?} holds {n} elements but {len} were given"
        ))),
        None => Err(BlobError::InvalidValue(format!(
            "shape {shape:?} overflows the element count"
        ))),
    }
}
