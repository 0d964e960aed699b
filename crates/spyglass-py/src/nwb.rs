//! `fetch_nwb` for Python: spyglass's [`spyglass::fetch_nwb::fetch_nwb`] (a merge
//! table through its parts' parents, as Spyglass's merge `fetch_nwb`), each object
//! read into numpy. A time series' data is read by the raw reader straight into a
//! vector of its stored dtype (int16, int32, float32, float64) that becomes the
//! numpy array's buffer — channel-major, so a Fortran-ordered (time × channel)
//! array, equal to pynwb's `data[:]` — and its timestamps likewise; the GIL is
//! released while reading. Tables become dicts of columns, plain datasets arrays.

use crate::convert::{col_major_array, value_into_py};
use crate::err;
use numpy::{IntoPyArray, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use spyglass::fetch_nwb::{NwbObject, NwbRow};
use spyglass_nwb::{NwbFile, Values};

/// Spyglass's `fetch_nwb` over `q` (the whole table `table` when given).
pub(crate) fn fetch_nwb(
    py: Python<'_>,
    sg: &spyglass::Spyglass,
    q: &spyglass_db::Query,
    table: Option<&str>,
) -> PyResult<Py<PyList>> {
    let rows: Vec<NwbRow> = py
        .detach(|| -> Result<Vec<NwbRow>, String> {
            // a merge master, whole or restricted, goes through its parts' parents
            let base = table
                .map(str::to_string)
                .or_else(|| q.tables().first().map(|n| n.pretty()));
            let merge = base.and_then(|t| sg.merge(&t).ok());
            match merge {
                Some(m) => {
                    let keys = q
                        .proj(spyglass_db::Proj::key())
                        .map_err(|e| e.to_string())?;
                    let restriction = spyglass_db::Cond::Query(Box::new(keys));
                    let mut out = Vec::new();
                    for (source, pq) in sg
                        .merge_get_parent(&m, &restriction)
                        .map_err(|e| e.to_string())?
                    {
                        let rows = spyglass::fetch_nwb::fetch_nwb(sg.db(), &pq)
                            .map_err(|e| format!("fetch_nwb of {}: {e}", source.parent.pretty()))?;
                        out.extend(rows);
                    }
                    Ok(out)
                }
                None => spyglass::fetch_nwb::fetch_nwb(sg.db(), q).map_err(|e| e.to_string()),
            }
        })
        .map_err(err)?;
    let out = PyList::empty(py);
    for r in rows {
        let d = PyDict::new(py);
        for (k, v) in r.row.iter() {
            d.set_item(k, value_into_py(py, v.clone())?)?;
        }
        for o in &r.objects {
            // Spyglass names the object of a bare `object_id` attribute (CurationV1's
            // units) `object_id`, replacing the id
            let name = if o.name.is_empty() {
                "object_id"
            } else {
                &o.name
            };
            d.set_item(name, object_dict(py, o, &r.file_path)?)?;
        }
        out.append(d)?;
    }
    Ok(out.unbind())
}

/// One object as a dict: its identity and its data as numpy arrays.
fn object_dict<'py>(
    py: Python<'py>,
    o: &NwbObject,
    file_path: &std::path::Path,
) -> PyResult<Bound<'py, PyDict>> {
    info_dict(py, &o.file, &o.name, &o.info, file_path)
}

/// The object at `info.path` of `file` as a dict (a container's series read too).
fn info_dict<'py>(
    py: Python<'py>,
    file: &NwbFile,
    name: &str,
    info: &spyglass_nwb::ObjectInfo,
    file_path: &std::path::Path,
) -> PyResult<Bound<'py, PyDict>> {
    let path = info.path.clone();
    let d = PyDict::new(py);
    d.set_item("name", name)?;
    d.set_item("object_id", &info.object_id)?;
    d.set_item("neurodata_type", &info.neurodata_type)?;
    d.set_item("path", &path)?;
    d.set_item("file", file_path.display().to_string())?;
    if file.exists(&format!("{path}/data")) {
        let ts = file.time_series(&path).map_err(err)?;
        d.set_item("kind", "series")?;
        d.set_item("data", series_data(py, file, &path, &ts)?)?;
        d.set_item("unit", &ts.unit)?;
        d.set_item("conversion", ts.conversion)?;
        d.set_item("offset", ts.offset)?;
        d.set_item("resolution", ts.resolution)?;
        d.set_item("description", ts.description.clone())?;
        d.set_item("comments", ts.comments.clone())?;
        d.set_item("stored_dtype", &ts.dtype)?;
        match &ts.timing {
            spyglass_nwb::Timing::Rate {
                rate,
                starting_time,
            } => {
                d.set_item("timestamps", py.None())?;
                d.set_item("rate", *rate)?;
                d.set_item("starting_time", *starting_time)?;
            }
            spyglass_nwb::Timing::Timestamps { .. } => {
                let t = py.detach(|| file.timestamps(&path)).map_err(err)?;
                d.set_item("timestamps", t.into_pyarray(py))?;
                d.set_item("rate", py.None())?;
                d.set_item("starting_time", py.None())?;
            }
            _ => {
                d.set_item("timestamps", py.None())?;
                d.set_item("rate", py.None())?;
                d.set_item("starting_time", py.None())?;
            }
        }
        d.set_item(
            "electrodes",
            ts.electrodes.clone().map(|e| e.into_pyarray(py)),
        )?;
        d.set_item(
            "channel_conversion",
            ts.channel_conversion.clone().map(|c| c.into_pyarray(py)),
        )?;
        return Ok(d);
    }
    if let Ok(t) = file.table(&path) {
        d.set_item("kind", "table")?;
        d.set_item("description", &t.description)?;
        d.set_item("id", t.ids.clone().into_pyarray(py))?;
        let cols = PyDict::new(py);
        for c in t.columns {
            let v = if c.is_ragged() {
                let rows = c.ragged_rows().unwrap_or_default();
                let l = PyList::empty(py);
                for row in rows {
                    let n = row.len();
                    l.append(values_array(py, &[n], row)?)?;
                }
                l.into_any()
            } else {
                values_array(py, &c.data.shape, c.data.values)?
            };
            cols.set_item(&c.name, v)?;
        }
        d.set_item("columns", cols)?;
        d.set_item("colnames", t.colnames.clone())?;
        return Ok(d);
    }
    if info.kind == spyglass_nwb::ObjectKind::Dataset {
        let data = py.detach(|| file.read_data(&path)).map_err(err)?;
        d.set_item("kind", "dataset")?;
        d.set_item("data", values_array(py, &data.shape, data.values)?)?;
        return Ok(d);
    }
    // a container (Position, CompassDirection, BehavioralTimeSeries, ...): its
    // series by name, as pynwb's `spatial_series` / `time_series`
    d.set_item("kind", "group")?;
    let children = PyDict::new(py);
    for c in file.children(&path).map_err(err)? {
        let child = c.path.rsplit('/').next().unwrap_or(&c.path).to_string();
        if c.kind == spyglass_nwb::ObjectKind::Group && file.exists(&format!("{}/data", c.path)) {
            children.set_item(&child, info_dict(py, file, &child, &c, file_path)?)?;
        }
    }
    d.set_item("children", children)?;
    Ok(d)
}

/// The series' `data` in its stored dtype, read straight into the array's buffer.
fn series_data<'py>(
    py: Python<'py>,
    file: &NwbFile,
    path: &str,
    ts: &spyglass_nwb::TimeSeries,
) -> PyResult<Bound<'py, PyAny>> {
    if ts.shape.len() <= 2 && !ts.shape.is_empty() {
        match ts.dtype.as_str() {
            "int16" => return read_typed::<i16>(py, file, path, &ts.shape),
            "int32" => return read_typed::<i32>(py, file, path, &ts.shape),
            "float32" => return read_typed::<f32>(py, file, path, &ts.shape),
            "float64" => return read_typed::<f64>(py, file, path, &ts.shape),
            _ => {}
        }
    }
    // other element types: read widened, then cast back to the stored dtype (exact:
    // the values came from it)
    let data = py
        .detach(|| file.read_data(&format!("{path}/data")))
        .map_err(err)?;
    let arr = values_array(py, &data.shape, data.values)?;
    if ts.dtype != "none" && !ts.dtype.is_empty() {
        if let Ok(cast) = arr.call_method1("astype", (ts.dtype.as_str(),)) {
            return Ok(cast);
        }
    }
    Ok(arr)
}

fn read_typed<'py, T: spyglass_nwb::raw::Sample + numpy::Element>(
    py: Python<'py>,
    file: &NwbFile,
    path: &str,
    shape: &[usize],
) -> PyResult<Bound<'py, PyAny>> {
    let n = shape[0];
    let c = shape.get(1).copied().unwrap_or(1);
    let buf = py
        .detach(|| -> Result<Vec<T>, String> {
            let mut buf = vec![T::default(); n * c];
            if n == 0 || c == 0 {
                return Ok(buf);
            }
            let reader = file.raw_reader(path).map_err(|e| e.to_string())?;
            let channels: Vec<usize> = (0..c).collect();
            let mut slices: Vec<&mut [T]> = buf.chunks_mut(n).collect();
            reader
                .read_into(0..n, &channels, &mut slices)
                .map_err(|e| e.to_string())?;
            Ok(buf)
        })
        .map_err(err)?;
    col_major_array(py, shape, buf)
}

/// Row-major values of `shape` as a numpy array (made from the vector, no copy).
fn values_array<'py>(py: Python<'py>, shape: &[usize], v: Values) -> PyResult<Bound<'py, PyAny>> {
    fn shaped<'py, T: numpy::Element>(
        py: Python<'py>,
        shape: &[usize],
        v: Vec<T>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let flat = v.into_pyarray(py);
        if shape.len() <= 1 {
            return Ok(flat.into_any());
        }
        Ok(flat.reshape(shape.to_vec())?.into_any())
    }
    match v {
        Values::Int(x) => shaped(py, shape, x),
        Values::UInt(x) => shaped(py, shape, x),
        Values::Float(x) => shaped(py, shape, x),
        Values::Bool(x) => shaped(py, shape, x),
        Values::Text(x) | Values::Enum(x) => Ok(PyList::new(py, x)?.into_any()),
        Values::Reference(x) => Ok(PyList::new(py, x)?.into_any()),
        Values::Compound(fields) => {
            let d = PyDict::new(py);
            for (name, vals) in fields {
                let n = vals.len();
                d.set_item(name, values_array(py, &[n], vals)?)?;
            }
            Ok(d.into_any())
        }
    }
}
