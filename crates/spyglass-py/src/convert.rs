//! Values between Python and the engine, with datajoint-python's conventions: a
//! fetched `decimal` is a `decimal.Decimal`, `time` a `datetime.timedelta` (as
//! PyMySQL returns it), `uuid` a `uuid.UUID`, `json` the parsed document, a blob
//! its decoded value (numeric arrays as numpy arrays in their own dtype and shape).
//! Restrictions come in as dicts, SQL strings, lists (OR), `AndList`, `Not` and
//! queries; inserted values as Python scalars, dates, UUIDs, numpy values.

use crate::err;
use numpy::{IntoPyArray, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PySet, PyString, PyTuple, PyType,
};
use pyo3::IntoPyObjectExt;
use spyglass_blob::{Array, ArrayData};
use spyglass_db::{Cond, SqlValue, Value};

static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static UUID: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static TIMEDELTA: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static JSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static NDARRAY: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static NP_GENERIC: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn json_loads(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    JSON_LOADS
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("json")?.getattr("loads")?.unbind())
        })
        .map(|f| f.bind(py))
}

/// A fetched attribute value as Python sees it from datajoint-python.
pub(crate) fn value_into_py(py: Python<'_>, v: Value) -> PyResult<Bound<'_, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_bound_py_any(py)?,
        Value::Int(i) => i.into_bound_py_any(py)?,
        Value::UInt(u) => u.into_bound_py_any(py)?,
        Value::Float(f) => f.into_bound_py_any(py)?,
        Value::Str(s) => s.into_bound_py_any(py)?,
        Value::Bytes(b) => PyBytes::new(py, &b).into_any(),
        Value::Decimal(s) => DECIMAL.import(py, "decimal", "Decimal")?.call1((s,))?,
        Value::Date(d) => d.into_bound_py_any(py)?,
        Value::DateTime(t) => t.into_bound_py_any(py)?,
        Value::Time(t) => {
            use chrono::Timelike;
            let kw = PyDict::new(py);
            kw.set_item("seconds", t.num_seconds_from_midnight())?;
            kw.set_item("microseconds", (t.nanosecond() / 1000) as i64)?;
            TIMEDELTA
                .import(py, "datetime", "timedelta")?
                .call((), Some(&kw))?
        }
        Value::Uuid(u) => UUID.import(py, "uuid", "UUID")?.call1((u.to_string(),))?,
        Value::Json(j) => json_loads(py)?.call1((j.to_string(),))?,
        Value::Blob(b) => blob_into_py(py, *b)?,
        Value::Attach { name, data } => PyTuple::new(
            py,
            [
                name.into_bound_py_any(py)?,
                PyBytes::new(py, &data).into_any(),
            ],
        )?
        .into_any(),
    })
}

/// A raw SQL value (`query_sql`) as Python.
pub(crate) fn sql_value_to_py(py: Python<'_>, v: SqlValue) -> PyResult<Bound<'_, PyAny>> {
    Ok(match v {
        SqlValue::Null => py.None().into_bound(py),
        SqlValue::Int(i) => i.into_bound_py_any(py)?,
        SqlValue::UInt(u) => u.into_bound_py_any(py)?,
        SqlValue::Float(f) => f.into_bound_py_any(py)?,
        SqlValue::Text(s) => s.into_bound_py_any(py)?,
        SqlValue::Bytes(b) => PyBytes::new(py, &b).into_any(),
    })
}

/// A bound parameter of `query_sql`.
pub(crate) fn sql_param(obj: &Bound<'_, PyAny>) -> PyResult<SqlValue> {
    Ok(match py_to_value(obj)? {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Int(b as i64),
        Value::Int(i) => SqlValue::Int(i),
        Value::UInt(u) => SqlValue::UInt(u),
        Value::Float(f) => SqlValue::Float(f),
        Value::Str(s) | Value::Decimal(s) => SqlValue::Text(s),
        Value::Bytes(b) => SqlValue::Bytes(b),
        other => SqlValue::Text(other.python_str()),
    })
}

/// A numpy array of `shape` over column-major `data` (the blob layout), made from the
/// vector without copying.
pub(crate) fn col_major_array<'py, T: numpy::Element>(
    py: Python<'py>,
    shape: &[usize],
    data: Vec<T>,
) -> PyResult<Bound<'py, PyAny>> {
    let flat = data.into_pyarray(py);
    Ok(flat
        .reshape_with_order(shape.to_vec(), numpy::npyffi::NPY_ORDER::NPY_FORTRANORDER)?
        .into_any())
}

/// A decoded blob as datajoint-python unpacks it.
pub(crate) fn blob_into_py(py: Python<'_>, v: spyglass_blob::Value) -> PyResult<Bound<'_, PyAny>> {
    use spyglass_blob::Value as B;
    Ok(match v {
        B::None => py.None().into_bound(py),
        B::Bool(b) => b.into_bound_py_any(py)?,
        B::Int(i) => i.into_bound_py_any(py)?,
        B::BigInt(b) => py
            .get_type::<PyInt>()
            .call1((b.to_decimal_string(),))?,
        B::Float(f) => f.into_bound_py_any(py)?,
        B::Complex(re, im) => pyo3::types::PyComplex::from_doubles(py, re, im).into_any(),
        B::Str(s) => s.into_bound_py_any(py)?,
        B::Bytes(b) => PyBytes::new(py, &b).into_any(),
        B::List(items) => {
            let l = PyList::empty(py);
            for i in items {
                l.append(blob_into_py(py, i)?)?;
            }
            l.into_any()
        }
        B::Tuple(items) => {
            let v: Vec<_> = items
                .into_iter()
                .map(|i| blob_into_py(py, i))
                .collect::<PyResult<_>>()?;
            PyTuple::new(py, v)?.into_any()
        }
        B::Set(items) => {
            let s = PySet::empty(py)?;
            for i in items {
                s.add(blob_into_py(py, i)?)?;
            }
            s.into_any()
        }
        B::Dict(pairs) => {
            let d = PyDict::new(py);
            for (k, v) in pairs {
                d.set_item(blob_into_py(py, k)?, blob_into_py(py, v)?)?;
            }
            d.into_any()
        }
        B::Decimal(s) => DECIMAL.import(py, "decimal", "Decimal")?.call1((s,))?,
        B::Date(d) => d.into_bound_py_any(py)?,
        B::Time(t) => t.into_bound_py_any(py)?,
        B::DateTime(t) => t.into_bound_py_any(py)?,
        B::Uuid(u) => UUID.import(py, "uuid", "UUID")?.call1((u.to_string(),))?,
        B::Array(a) => array_into_py(py, a)?,
        B::Struct(_) | B::Cell(_) | B::Record(_) => {
            return Err(err(
                "spyglass_rs does not yet convert MATLAB structs, cell arrays or numpy record arrays in blobs; fetch them with datajoint-python",
            ))
        }
    })
}

fn array_into_py(py: Python<'_>, a: Array) -> PyResult<Bound<'_, PyAny>> {
    if a.is_char_row() {
        if let Some(s) = a.char_string() {
            return s.into_bound_py_any(py);
        }
    }
    let (shape, real, imag) = a.into_parts();
    let re = array_data_into_py(py, &shape, real)?;
    match imag {
        None => Ok(re),
        Some(im) => {
            let im = array_data_into_py(py, &shape, im)?;
            // re + 1j * im, in numpy's complex dtype of the parts
            let j = pyo3::types::PyComplex::from_doubles(py, 0.0, 1.0);
            re.add(im.mul(j)?)
        }
    }
}

fn array_data_into_py<'py>(
    py: Python<'py>,
    shape: &[usize],
    data: ArrayData,
) -> PyResult<Bound<'py, PyAny>> {
    match data {
        ArrayData::Bool(v) => col_major_array(py, shape, v),
        ArrayData::Float64(v) => col_major_array(py, shape, v),
        ArrayData::Float32(v) => col_major_array(py, shape, v),
        ArrayData::Int8(v) => col_major_array(py, shape, v),
        ArrayData::UInt8(v) => col_major_array(py, shape, v),
        ArrayData::Int16(v) => col_major_array(py, shape, v),
        ArrayData::UInt16(v) => col_major_array(py, shape, v),
        ArrayData::Int32(v) => col_major_array(py, shape, v),
        ArrayData::UInt32(v) => col_major_array(py, shape, v),
        ArrayData::Int64(v) => col_major_array(py, shape, v),
        ArrayData::UInt64(v) => col_major_array(py, shape, v),
        ArrayData::DateTime64(unit, v) => {
            let ticks = col_major_array(py, shape, v)?;
            ticks.call_method1("view", (format!("datetime64[{}]", unit.code()),))
        }
        ArrayData::Char(v) => {
            let s: String = char::decode_utf16(v)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect();
            s.into_bound_py_any(py)
        }
        ArrayData::Object(items) => {
            let list = PyList::empty(py);
            for i in items {
                list.append(blob_into_py(py, i)?)?;
            }
            let np = py.import("numpy")?;
            let kw = PyDict::new(py);
            kw.set_item("dtype", "O")?;
            let flat = np.getattr("empty")?.call((list.len(),), Some(&kw))?;
            for (i, item) in list.iter().enumerate() {
                flat.set_item(i, item)?;
            }
            let kw = PyDict::new(py);
            kw.set_item("order", "F")?;
            flat.call_method("reshape", (shape.to_vec(),), Some(&kw))
        }
    }
}

fn is_instance_of_cached(
    obj: &Bound<'_, PyAny>,
    cell: &'static PyOnceLock<Py<PyType>>,
    module: &str,
    name: &str,
) -> PyResult<bool> {
    let ty = cell.import(obj.py(), module, name)?;
    obj.is_instance(ty)
}

/// A Python value given to insert or restrict, as an engine value.
pub(crate) fn py_to_value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::Int(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::UInt(u));
        }
        return Err(PyValueError::new_err(format!(
            "integer {} does not fit in 64 bits",
            obj.str()?
        )));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(Value::Float(f.value()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::Str(s.to_cow()?.into_owned()));
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Value::Bytes(b.as_bytes().to_vec()));
    }
    if let Ok(t) = obj.extract::<chrono::NaiveDateTime>() {
        return Ok(Value::DateTime(t));
    }
    if obj.is_instance_of::<pyo3::types::PyDateTime>() {
        return Err(PyValueError::new_err(
            "datetimes with a time zone are not stored: convert to naive (UTC or local) first",
        ));
    }
    if let Ok(d) = obj.extract::<chrono::NaiveDate>() {
        return Ok(Value::Date(d));
    }
    if let Ok(t) = obj.extract::<chrono::NaiveTime>() {
        return Ok(Value::Time(t));
    }
    if is_instance_of_cached(obj, &UUID, "uuid", "UUID")? {
        let s: String = obj.str()?.extract()?;
        return uuid::Uuid::parse_str(&s)
            .map(Value::Uuid)
            .map_err(|e| PyValueError::new_err(format!("uuid {s}: {e}")));
    }
    if is_instance_of_cached(obj, &DECIMAL, "decimal", "Decimal")? {
        return Ok(Value::Decimal(obj.str()?.extract()?));
    }
    if is_numpy_scalar(obj)? {
        return py_to_value(&obj.call_method0("item")?);
    }
    Ok(Value::Blob(Box::new(py_to_blob(obj)?)))
}

fn is_numpy_scalar(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    if obj
        .py()
        .import("sys")?
        .getattr("modules")?
        .contains("numpy")?
    {
        return is_instance_of_cached(obj, &NP_GENERIC, "numpy", "generic");
    }
    Ok(false)
}

/// A Python value as the blob datajoint-python would pack.
pub(crate) fn py_to_blob(obj: &Bound<'_, PyAny>) -> PyResult<spyglass_blob::Value> {
    use spyglass_blob::Value as B;
    if obj.is_none() {
        return Ok(B::None);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(B::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        return obj
            .extract::<i128>()
            .map(B::Int)
            .map_err(|_| PyValueError::new_err("integer too large for a blob"));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(B::Float(f.value()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(B::Str(s.to_cow()?.into_owned()));
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(B::Bytes(b.as_bytes().to_vec()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut pairs = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            pairs.push((py_to_blob(&k)?, py_to_blob(&v)?));
        }
        return Ok(B::Dict(pairs));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return Ok(B::List(
            l.iter().map(|i| py_to_blob(&i)).collect::<PyResult<_>>()?,
        ));
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return Ok(B::Tuple(
            t.iter().map(|i| py_to_blob(&i)).collect::<PyResult<_>>()?,
        ));
    }
    if is_instance_of_cached(obj, &NDARRAY, "numpy", "ndarray")? {
        return ndarray_to_blob(obj);
    }
    if is_numpy_scalar(obj)? {
        return py_to_blob(&obj.call_method0("item")?);
    }
    match py_to_value(obj)? {
        Value::Date(d) => Ok(B::Date(d)),
        Value::DateTime(t) => Ok(B::DateTime(t)),
        Value::Time(t) => Ok(B::Time(t)),
        Value::Uuid(u) => Ok(B::Uuid(u)),
        Value::Decimal(s) => Ok(B::Decimal(s)),
        _ => Err(PyTypeError::new_err(format!(
            "cannot store a {} in a blob",
            obj.get_type().name()?
        ))),
    }
}

/// A numpy array as a blob array (column-major, its own dtype).
fn ndarray_to_blob(obj: &Bound<'_, PyAny>) -> PyResult<spyglass_blob::Value> {
    let py = obj.py();
    let np = py.import("numpy")?;
    let fortran = np.getattr("asfortranarray")?.call1((obj,))?;
    let arr = fortran.cast::<PyUntypedArray>()?;
    let shape = arr.shape().to_vec();
    let kind: String = arr.dtype().getattr("str")?.extract()?;
    // raveled in F order: the blob's column-major data
    let kw = PyDict::new(py);
    kw.set_item("order", "F")?;
    let flat = fortran.call_method("ravel", (), Some(&kw))?;
    macro_rules! typed {
        ($t:ty) => {{
            let a = flat.cast::<numpy::PyArray1<$t>>()?;
            Array::from_col_major(shape, a.readonly().as_slice()?.to_vec()).map_err(err)?
        }};
    }
    let a = match kind.trim_start_matches(['<', '=', '|']) {
        "f8" => typed!(f64),
        "f4" => typed!(f32),
        "i1" => typed!(i8),
        "u1" => typed!(u8),
        "i2" => typed!(i16),
        "u2" => typed!(u16),
        "i4" => typed!(i32),
        "u4" => typed!(u32),
        "i8" => typed!(i64),
        "u8" => typed!(u64),
        "b1" => typed!(bool),
        other => {
            return Err(PyTypeError::new_err(format!(
                "numpy arrays of dtype {other} are not stored by spyglass_rs yet"
            )))
        }
    };
    Ok(spyglass_blob::Value::Array(a))
}

/// A restriction as DataJoint takes it: a query (or an object with `_native`), a
/// dict, an SQL string, a bool, `AndList` (`_spyglass_and`), `Not` (`_spyglass_not`),
/// or a list / tuple of those (OR).
pub(crate) fn py_to_cond(obj: &Bound<'_, PyAny>) -> PyResult<Cond> {
    if let Ok(q) = obj.cast::<crate::query::Query>() {
        return Ok(Cond::Query(Box::new(q.get().q.clone())));
    }
    if let Ok(native) = obj.getattr("_native") {
        if let Ok(q) = native.cast::<crate::query::Query>() {
            return Ok(Cond::Query(Box::new(q.get().q.clone())));
        }
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Cond::Bool(b.is_true()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Cond::Sql(s.to_cow()?.into_owned()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut pairs = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            let k: String = k.extract().map_err(|_| {
                PyTypeError::new_err("restriction dicts need attribute names (str) as keys")
            })?;
            pairs.push((k, py_to_value(&v)?));
        }
        return Ok(Cond::Map(pairs));
    }
    if let Ok(inner) = obj.getattr("_spyglass_not") {
        return Ok(Cond::Not(Box::new(py_to_cond(&inner)?)));
    }
    let is_and = obj
        .getattr("_spyglass_and")
        .map(|a| a.is_truthy().unwrap_or(false))
        .unwrap_or(false);
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() || is_and {
        let mut items = Vec::new();
        for i in obj.try_iter()? {
            items.push(py_to_cond(&i?)?);
        }
        return Ok(if is_and {
            Cond::And(items)
        } else {
            Cond::Or(items)
        });
    }
    Err(PyTypeError::new_err(format!(
        "cannot restrict by a {}: use a dict, an SQL string, a query, a list (OR), AndList or Not",
        obj.get_type().name()?
    )))
}
