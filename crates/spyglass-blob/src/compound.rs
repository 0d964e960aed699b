//! Arrays of compound elements: MATLAB struct arrays (`S`), MATLAB cell arrays
//! (`C`) and numpy structured / record arrays (`F`).

use crate::array::{element_count, reorder_indices};
use crate::error::BlobError;
use crate::value::Value;

fn check_field_name(name: &str) -> Result<(), BlobError> {
    if name.contains('\0') {
        return Err(BlobError::InvalidValue(format!(
            "field name {name:?} contains a NUL byte"
        )));
    }
    Ok(())
}

fn count(shape: &[usize]) -> Result<usize, BlobError> {
    element_count(shape).ok_or_else(|| {
        BlobError::InvalidValue(format!("shape {shape:?} overflows the element count"))
    })
}

/// A MATLAB struct array: a shape, field names, and for every element (column-major) one value per field.
#[derive(Debug, Clone, PartialEq)]
pub struct StructArray {
    shape: Vec<usize>,
    fields: Vec<String>,
    values: Vec<Value>,
}

impl StructArray {
    /// A struct array from element-major values: `values[e * fields.len() + f]` is field `f` of element `e` (column-major).
    pub fn new(
        shape: Vec<usize>,
        fields: Vec<String>,
        values: Vec<Value>,
    ) -> Result<StructArray, BlobError> {
        for f in &fields {
            check_field_name(f)?;
        }
        let n = count(&shape)?;
        let want = n
            .checked_mul(fields.len())
            .ok_or_else(|| BlobError::InvalidValue("struct array value count overflows".into()))?;
        if values.len() != want {
            return Err(BlobError::InvalidValue(format!(
                "struct array of shape {shape:?} with {} fields needs {want} values, got {}",
                fields.len(),
                values.len()
            )));
        }
        Ok(StructArray {
            shape,
            fields,
            values,
        })
    }

    /// A 1x1 struct (MATLAB `struct('a', 1, 'b', 2)`) from field/value pairs.
    pub fn scalar<S: Into<String>>(pairs: Vec<(S, Value)>) -> Result<StructArray, BlobError> {
        let (fields, values): (Vec<String>, Vec<Value>) =
            pairs.into_iter().map(|(k, v)| (k.into(), v)).unzip();
        StructArray::new(vec![1, 1], fields, values)
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The field names, in order.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// All values, element-major (see [`StructArray::new`]).
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        element_count(&self.shape).unwrap_or(0)
    }

    /// Whether the struct array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The field values of element `index` (column-major).
    pub fn element(&self, index: usize) -> Option<&[Value]> {
        let nf = self.fields.len();
        let start = index.checked_mul(nf)?;
        self.values.get(start..start.checked_add(nf)?)
    }

    /// Field `name` of element `index` (column-major).
    pub fn get(&self, index: usize, name: &str) -> Option<&Value> {
        let f = self.fields.iter().position(|n| n == name)?;
        self.element(index)?.get(f)
    }

    /// The same struct array with all singleton dimensions removed.
    pub fn squeezed(mut self) -> StructArray {
        self.shape.retain(|&d| d != 1);
        self
    }

    /// Element indices (column-major) in row-major order.
    pub fn row_major_order(&self) -> Vec<usize> {
        reorder_indices(&self.shape, false)
    }
}

/// A MATLAB cell array: a shape and one value per element (column-major).
#[derive(Debug, Clone, PartialEq)]
pub struct CellArray {
    shape: Vec<usize>,
    elements: Vec<Value>,
}

impl CellArray {
    /// A cell array from column-major elements.
    pub fn new(shape: Vec<usize>, elements: Vec<Value>) -> Result<CellArray, BlobError> {
        let n = count(&shape)?;
        if n != elements.len() {
            return Err(BlobError::InvalidValue(format!(
                "cell array of shape {shape:?} needs {n} elements, got {}",
                elements.len()
            )));
        }
        Ok(CellArray { shape, elements })
    }

    /// A 1xN cell array (MATLAB `{a, b, c}`).
    pub fn row(elements: Vec<Value>) -> CellArray {
        CellArray {
            shape: vec![1, elements.len()],
            elements,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The elements, column-major.
    pub fn elements(&self) -> &[Value] {
        &self.elements
    }

    /// The same cell array with all singleton dimensions removed.
    pub fn squeezed(mut self) -> CellArray {
        self.shape.retain(|&d| d != 1);
        self
    }

    /// Element indices (column-major) in row-major order.
    pub fn row_major_order(&self) -> Vec<usize> {
        reorder_indices(&self.shape, false)
    }
}

/// A numpy structured / record array, stored field by field: each field is an
/// [`Array`](crate::Array) (or a nested record array) holding that field for every record.
#[derive(Debug, Clone, PartialEq)]
pub struct RecArray {
    fields: Vec<(String, Value)>,
}

impl RecArray {
    /// A record array from `(name, column)` pairs; each column must be an array or a record array.
    pub fn new(fields: Vec<(String, Value)>) -> Result<RecArray, BlobError> {
        for (name, v) in &fields {
            check_field_name(name)?;
            if !matches!(v, Value::Array(_) | Value::Record(_)) {
                return Err(BlobError::InvalidValue(format!(
                    "record field {name:?} must be an array or a record array, got {}",
                    v.type_name()
                )));
            }
        }
        Ok(RecArray { fields })
    }

    /// The `(name, column)` pairs in order.
    pub fn fields(&self) -> &[(String, Value)] {
        &self.fields
    }

    /// The column of field `name`.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The record shape: the shape of the first field (empty when there are no fields).
    pub fn shape(&self) -> &[usize] {
        match self.fields.first() {
            Some((_, v)) => v.array_shape().unwrap_or(&[]),
            None => &[],
        }
    }
}
