//! Dynamically typed values read from (or written to) HDF5 attributes and datasets:
//! [`Values`] holds a flat column of one element type, [`Data`] adds the shape.

/// A flat sequence of values of one element type, as stored in an attribute or dataset.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// Signed integers of any width, widened.
    Int(Vec<i64>),
    /// Unsigned integers of any width, widened.
    UInt(Vec<u64>),
    /// Floating-point numbers of any width, widened.
    Float(Vec<f64>),
    /// Booleans (HDF5 enum `FALSE=0, TRUE=1`, h5py's convention).
    Bool(Vec<bool>),
    /// Text (variable- or fixed-length, ASCII or UTF-8).
    Text(Vec<String>),
    /// Object references, resolved to the HDF5 path of the target (`None` for a null reference).
    Reference(Vec<Option<String>>),
    /// Compound elements, stored column-wise: one `(field name, values)` per member.
    Compound(Vec<(String, Values)>),
    /// Members of a non-boolean enum, by name.
    Enum(Vec<String>),
}

impl Values {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Values::Int(v) => v.len(),
            Values::UInt(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::Bool(v) => v.len(),
            Values::Text(v) => v.len(),
            Values::Reference(v) => v.len(),
            Values::Enum(v) => v.len(),
            Values::Compound(f) => f.first().map_or(0, |(_, v)| v.len()),
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A short name of the element type (`int`, `uint`, `float`, `bool`, `text`, `reference`, `compound`, `enum`).
    pub fn kind(&self) -> &'static str {
        match self {
            Values::Int(_) => "int",
            Values::UInt(_) => "uint",
            Values::Float(_) => "float",
            Values::Bool(_) => "bool",
            Values::Text(_) => "text",
            Values::Reference(_) => "reference",
            Values::Compound(_) => "compound",
            Values::Enum(_) => "enum",
        }
    }

    /// The values as f64 when numeric (integers are converted), else `None`.
    pub fn to_f64(&self) -> Option<Vec<f64>> {
        match self {
            Values::Float(v) => Some(v.clone()),
            Values::Int(v) => Some(v.iter().map(|&x| x as f64).collect()),
            Values::UInt(v) => Some(v.iter().map(|&x| x as f64).collect()),
            Values::Bool(v) => Some(v.iter().map(|&x| if x { 1.0 } else { 0.0 }).collect()),
            _ => None,
        }
    }

    /// [`Values::to_f64`], taking float values as they are (no copy).
    pub fn into_f64(self) -> Option<Vec<f64>> {
        match self {
            Values::Float(v) => Some(v),
            other => other.to_f64(),
        }
    }

    /// The values as i64 when integral (unsigned values above `i64::MAX` fail), else `None`.
    pub fn to_i64(&self) -> Option<Vec<i64>> {
        match self {
            Values::Int(v) => Some(v.clone()),
            Values::UInt(v) => v.iter().map(|&x| i64::try_from(x).ok()).collect(),
            Values::Bool(v) => Some(v.iter().map(|&x| i64::from(x)).collect()),
            _ => None,
        }
    }

    /// The values as u64 when integral and non-negative, else `None`.
    pub fn to_u64(&self) -> Option<Vec<u64>> {
        match self {
            Values::UInt(v) => Some(v.clone()),
            Values::Int(v) => v.iter().map(|&x| u64::try_from(x).ok()).collect(),
            _ => None,
        }
    }

    /// The values as text when textual (enum members give their names), else `None`.
    pub fn as_text(&self) -> Option<&[String]> {
        match self {
            Values::Text(v) | Values::Enum(v) => Some(v),
            _ => None,
        }
    }

    /// The values as booleans when boolean, else `None`.
    pub fn as_bool(&self) -> Option<&[bool]> {
        match self {
            Values::Bool(v) => Some(v),
            _ => None,
        }
    }

    /// The reference targets when these are object references, else `None`.
    pub fn as_references(&self) -> Option<&[Option<String>]> {
        match self {
            Values::Reference(v) => Some(v),
            _ => None,
        }
    }

    /// The member `name` of a compound, else `None`.
    pub fn field(&self, name: &str) -> Option<&Values> {
        match self {
            Values::Compound(f) => f.iter().find(|(n, _)| n == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Elements `range` of these values (compounds are sliced member-wise).
    pub fn slice(&self, range: std::ops::Range<usize>) -> Values {
        let r =
            range.start.min(self.len())..range.end.min(self.len()).max(range.start.min(self.len()));
        match self {
            Values::Int(v) => Values::Int(v[r].to_vec()),
            Values::UInt(v) => Values::UInt(v[r].to_vec()),
            Values::Float(v) => Values::Float(v[r].to_vec()),
            Values::Bool(v) => Values::Bool(v[r].to_vec()),
            Values::Text(v) => Values::Text(v[r].to_vec()),
            Values::Reference(v) => Values::Reference(v[r].to_vec()),
            Values::Enum(v) => Values::Enum(v[r].to_vec()),
            Values::Compound(f) => Values::Compound(
                f.iter()
                    .map(|(n, v)| (n.clone(), v.slice(r.clone())))
                    .collect(),
            ),
        }
    }
}

/// An attribute's or dataset's values with their shape (empty shape = scalar).
#[derive(Clone, Debug, PartialEq)]
pub struct Data {
    /// Dimensions, slowest first; empty for a scalar.
    pub shape: Vec<usize>,
    /// The elements in row-major order.
    pub values: Values,
}

impl Data {
    /// A scalar text value.
    pub fn text(s: impl Into<String>) -> Data {
        Data {
            shape: vec![],
            values: Values::Text(vec![s.into()]),
        }
    }

    /// A scalar float value.
    pub fn float(x: f64) -> Data {
        Data {
            shape: vec![],
            values: Values::Float(vec![x]),
        }
    }

    /// A scalar signed integer value.
    pub fn int(x: i64) -> Data {
        Data {
            shape: vec![],
            values: Values::Int(vec![x]),
        }
    }

    /// A scalar boolean value.
    pub fn boolean(x: bool) -> Data {
        Data {
            shape: vec![],
            values: Values::Bool(vec![x]),
        }
    }

    /// True for a scalar (rank 0).
    pub fn is_scalar(&self) -> bool {
        self.shape.is_empty()
    }

    /// The single text value of a scalar or one-element text, else `None`.
    pub fn as_str(&self) -> Option<&str> {
        match self.values.as_text() {
            Some([s]) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The single numeric value as f64, else `None`.
    pub fn as_f64(&self) -> Option<f64> {
        match self.values.to_f64() {
            Some(v) if v.len() == 1 => Some(v[0]),
            _ => None,
        }
    }

    /// The single integral value as i64, else `None`.
    pub fn as_i64(&self) -> Option<i64> {
        match self.values.to_i64() {
            Some(v) if v.len() == 1 => Some(v[0]),
            _ => None,
        }
    }

    /// The single boolean value (also accepts integers 0/1 and the text `True`/`False`), else `None`.
    pub fn as_bool(&self) -> Option<bool> {
        match &self.values {
            Values::Bool(v) if v.len() == 1 => Some(v[0]),
            Values::Int(v) if v.len() == 1 => Some(v[0] != 0),
            Values::UInt(v) if v.len() == 1 => Some(v[0] != 0),
            Values::Text(v) if v.len() == 1 => match v[0].to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// The single reference target path, else `None`.
    pub fn as_reference(&self) -> Option<&str> {
        match self.values.as_references() {
            Some([Some(p)]) => Some(p.as_str()),
            _ => None,
        }
    }

    /// All text values (scalar or array), else `None`.
    pub fn texts(&self) -> Option<Vec<String>> {
        self.values.as_text().map(<[String]>::to_vec)
    }
}
