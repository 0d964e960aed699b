//! `Query`: spyglass-db's lazily composed query with the handle it runs on.
//! Operators return new queries; fetches run with the GIL released and convert the
//! rows afterwards — into Python dicts (`fetch_rows`) or into columns
//! (`fetch_columns`) whose numeric attributes are numpy arrays made from the
//! engine's vectors without copying (datajoint-python's dtypes: float64 for
//! floats, int64 for non-nullable integers, uint64 for `bigint unsigned`, objects
//! for the rest).

use crate::convert::{py_to_cond, py_to_value, value_into_py};
use crate::err;
use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use spyglass_db::populate::{Order, PopulateOptions, Progress};
use spyglass_db::types::{AttrType, IntSize};
use spyglass_db::{FetchSpec, InsertOptions, Proj, Row, Value};
use std::sync::Arc;

/// A query over the database of a connection.
#[pyclass(frozen, module = "spyglass_rs._native")]
pub struct Query {
    pub(crate) sg: Arc<spyglass::Spyglass>,
    pub(crate) q: spyglass_db::Query,
    /// `schema.Class` when the query is a whole table (insert, populate, describe).
    pub(crate) table: Option<String>,
}

impl Query {
    pub(crate) fn new(
        sg: Arc<spyglass::Spyglass>,
        q: spyglass_db::Query,
        table: Option<String>,
    ) -> Query {
        Query { sg, q, table }
    }

    fn derived(&self, q: spyglass_db::Query) -> Query {
        Query::new(self.sg.clone(), q, None)
    }

    fn base_table(&self, what: &str) -> PyResult<&str> {
        self.table.as_deref().ok_or_else(|| {
            err(format!(
                "{what} needs a table, not a derived query of {}",
                self.q.label()
            ))
        })
    }

    fn spec(
        attrs: Vec<String>,
        order_by: Vec<String>,
        limit: Option<u64>,
        offset: Option<u64>,
    ) -> FetchSpec {
        FetchSpec {
            attrs,
            order_by,
            limit,
            offset,
        }
    }
}

/// How a fetched column is handed to Python.
enum ColumnKind {
    Float,
    Int,
    UInt,
    Object,
}

fn column_kind(a: &spyglass_db::query::QAttr) -> ColumnKind {
    let Some(src) = &a.source else {
        return ColumnKind::Object;
    };
    match &src.ty {
        AttrType::Float { .. } => ColumnKind::Float,
        AttrType::Int { size, unsigned, .. } if !src.nullable => {
            if *unsigned && matches!(size, IntSize::Big) {
                ColumnKind::UInt
            } else {
                ColumnKind::Int
            }
        }
        _ => ColumnKind::Object,
    }
}

/// Progress told to a Python callable: `cb("start", total, 0)`, `cb("tick", made,
/// errors)`, `cb("finish", 0, 0)`.
struct PyProgress(Py<PyAny>);

impl PyProgress {
    fn call(&self, what: &str, a: usize, b: usize) {
        Python::attach(|py| {
            if let Err(e) = self.0.call1(py, (what, a, b)) {
                e.print(py);
            }
        });
    }
}

impl Progress for PyProgress {
    fn start(&self, total: usize) {
        self.call("start", total, 0);
    }
    fn tick(&self, made: usize, errors: usize) {
        self.call("tick", made, errors);
    }
    fn finish(&self) {
        self.call("finish", 0, 0);
    }
}

#[pymethods]
impl Query {
    /// `q & cond`.
    fn restrict(&self, cond: &Bound<'_, PyAny>) -> PyResult<Query> {
        let c = py_to_cond(cond)?;
        Ok(self.derived(self.q.restrict(c).map_err(err)?))
    }

    /// `q - cond`.
    fn exclude(&self, cond: &Bound<'_, PyAny>) -> PyResult<Query> {
        let c = py_to_cond(cond)?;
        Ok(self.derived(self.q.exclude(c).map_err(err)?))
    }

    /// `q * other` (natural join).
    fn join(&self, other: &Query) -> PyResult<Query> {
        Ok(self.derived(self.q.join(&other.q).map_err(err)?))
    }

    /// `q + other` (union).
    fn union(&self, other: &Query) -> PyResult<Query> {
        Ok(self.derived(self.q.union(&other.q).map_err(err)?))
    }

    /// Projection: `keep` secondary attributes (`all` keeps every one), `exclude`
    /// some (`'-attr'`), `rename` `{new: old}`, `compute` `{new: 'SQL expression'}`.
    #[pyo3(signature = (keep=Vec::new(), all=false, exclude=Vec::new(), rename=Vec::new(), compute=Vec::new()))]
    fn proj(
        &self,
        keep: Vec<String>,
        all: bool,
        exclude: Vec<String>,
        rename: Vec<(String, String)>,
        compute: Vec<(String, String)>,
    ) -> PyResult<Query> {
        let mut spec = if all { Proj::all() } else { Proj::key() };
        spec = spec.keep_many(&keep);
        for e in &exclude {
            spec = spec.exclude(e);
        }
        for (new, old) in &rename {
            spec = spec.rename(new, old);
        }
        for (new, sql) in &compute {
            spec = spec.compute(new, sql);
        }
        Ok(self.derived(self.q.proj(spec).map_err(err)?))
    }

    /// `q.aggr(other, new='SQL aggregate', ...)`; `keep_all_rows` keeps rows of `q`
    /// without a match.
    #[pyo3(signature = (other, keep=Vec::new(), compute=Vec::new(), keep_all_rows=false))]
    fn aggr(
        &self,
        other: &Query,
        keep: Vec<String>,
        compute: Vec<(String, String)>,
        keep_all_rows: bool,
    ) -> PyResult<Query> {
        let mut spec = Proj::key().keep_many(&keep);
        for (new, sql) in &compute {
            spec = spec.compute(new, sql);
        }
        Ok(self.derived(self.q.aggr(&other.q, spec, keep_all_rows).map_err(err)?))
    }

    /// Rows ordered and limited (`dj.Top`).
    #[pyo3(signature = (order_by=Vec::new(), limit=None, offset=None))]
    fn top(
        &self,
        order_by: Vec<String>,
        limit: Option<u64>,
        offset: Option<u64>,
    ) -> PyResult<Query> {
        let order: Vec<&str> = order_by.iter().map(String::as_str).collect();
        Ok(self.derived(self.q.top(&order, limit, offset).map_err(err)?))
    }

    /// `dj.U(attrs) & q`: the distinct values of `attrs`, which become the key.
    fn universal(&self, attrs: Vec<String>) -> PyResult<Query> {
        let a: Vec<&str> = attrs.iter().map(String::as_str).collect();
        Ok(self.derived(self.q.universal(&a).map_err(err)?))
    }

    /// `dj.U(attrs).aggr(q, new='SQL aggregate', ...)`: aggregates grouped by `attrs`.
    fn group_by(&self, attrs: Vec<String>, compute: Vec<(String, String)>) -> PyResult<Query> {
        let a: Vec<&str> = attrs.iter().map(String::as_str).collect();
        let mut spec = Proj::key();
        for (new, sql) in &compute {
            spec = spec.compute(new, sql);
        }
        Ok(self.derived(self.q.group_by(&a, spec).map_err(err)?))
    }

    /// Number of rows.
    fn count(&self, py: Python<'_>) -> PyResult<u64> {
        let (sg, q) = (self.sg.clone(), self.q.clone());
        py.detach(|| sg.count(&q)).map_err(err)
    }

    /// True when the query has rows.
    fn exists(&self, py: Python<'_>) -> PyResult<bool> {
        let (sg, q) = (self.sg.clone(), self.q.clone());
        py.detach(|| sg.exists(&q)).map_err(err)
    }

    /// Attribute names, in heading order.
    #[getter]
    fn heading_names(&self) -> Vec<String> {
        self.q.names()
    }

    /// Primary-key attribute names.
    #[getter]
    fn primary_key(&self) -> Vec<String> {
        self.q.primary_key()
    }

    /// The table's `schema.Class`, or None for a derived query.
    #[getter]
    fn table_name(&self) -> Option<String> {
        self.table.clone()
    }

    /// The table's stored name as SQL, `` `schema`.`table` `` (DataJoint's
    /// `full_table_name`), or None for a derived query.
    #[getter]
    fn sql_table_name(&self) -> PyResult<Option<String>> {
        let Some(t) = &self.table else {
            return Ok(None);
        };
        let info = self.sg.table_info(t).map_err(err)?;
        Ok(Some(format!(
            "`{}`.`{}`",
            info.name.schema, info.name.table
        )))
    }

    /// The label of messages (the base table's `schema.Class`).
    #[getter]
    fn label(&self) -> String {
        self.q.label().to_string()
    }

    /// The heading: one dict per attribute (`name`, `in_key`, `type`, `nullable`,
    /// `default`, `comment`).
    fn heading(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        let out = PyList::empty(py);
        for a in self.q.heading() {
            let d = PyDict::new(py);
            d.set_item("name", &a.name)?;
            d.set_item("in_key", a.in_key)?;
            match &a.source {
                Some(s) => {
                    d.set_item("type", s.ty.to_string())?;
                    d.set_item("nullable", s.nullable)?;
                    d.set_item("default", s.default.clone())?;
                    d.set_item("comment", &s.comment)?;
                }
                None => {
                    d.set_item("type", "computed")?;
                    d.set_item("nullable", true)?;
                    d.set_item("default", py.None())?;
                    d.set_item("comment", a.expr.clone().unwrap_or_default())?;
                }
            }
            out.append(d)?;
        }
        Ok(out.unbind())
    }

    /// Rows as a list of dicts (DataJoint's `fetch(as_dict=True)`).
    #[pyo3(signature = (attrs=Vec::new(), order_by=Vec::new(), limit=None, offset=None))]
    fn fetch_rows(
        &self,
        py: Python<'_>,
        attrs: Vec<String>,
        order_by: Vec<String>,
        limit: Option<u64>,
        offset: Option<u64>,
    ) -> PyResult<Py<PyList>> {
        let (sg, q) = (self.sg.clone(), self.q.clone());
        let spec = Query::spec(attrs, order_by, limit, offset);
        let rows = py.detach(|| sg.fetch_with(&q, &spec)).map_err(err)?;
        let out = PyList::empty(py);
        let mut keys: Vec<Bound<'_, pyo3::types::PyString>> = Vec::new();
        for row in rows {
            if keys.is_empty() {
                keys = row
                    .columns()
                    .iter()
                    .map(|c| pyo3::types::PyString::intern(py, c))
                    .collect();
            }
            let d = PyDict::new(py);
            for (k, v) in keys.iter().zip(row.into_values()) {
                d.set_item(k, value_into_py(py, v)?)?;
            }
            out.append(d)?;
        }
        Ok(out.unbind())
    }

    /// Columns: `(names, arrays)` — numpy arrays, numeric ones in datajoint-python's
    /// dtype made from the fetched vectors without copying, the others object arrays.
    #[pyo3(signature = (attrs=Vec::new(), order_by=Vec::new(), limit=None, offset=None))]
    fn fetch_columns<'py>(
        &self,
        py: Python<'py>,
        attrs: Vec<String>,
        order_by: Vec<String>,
        limit: Option<u64>,
        offset: Option<u64>,
    ) -> PyResult<(Vec<String>, Bound<'py, PyList>)> {
        let (sg, q) = (self.sg.clone(), self.q.clone());
        // the heading of what comes back: the attributes asked for, in that order
        let mut names: Vec<String> = Vec::new();
        for a in &attrs {
            if a == "KEY" {
                names.extend(q.primary_key());
            } else {
                names.push(a.clone());
            }
        }
        if names.is_empty() {
            names = q.names();
        }
        let mut kinds = Vec::with_capacity(names.len());
        for n in &names {
            let a = q
                .heading()
                .iter()
                .find(|a| &a.name == n)
                .ok_or_else(|| err(format!("{} has no attribute `{n}`", q.label())))?;
            kinds.push(column_kind(a));
        }
        let spec = Query::spec(attrs, order_by, limit, offset);
        let rows = py.detach(|| sg.fetch_with(&q, &spec)).map_err(err)?;
        let n = rows.len();
        // the values column by column, numeric ones into plain vectors without the GIL
        let mut columns: Vec<Vec<Value>> =
            (0..names.len()).map(|_| Vec::with_capacity(n)).collect();
        for row in rows {
            for (c, v) in columns.iter_mut().zip(row.into_values()) {
                c.push(v);
            }
        }
        let out = PyList::empty(py);
        for ((name, kind), col) in names.iter().zip(&kinds).zip(columns) {
            let arr: Bound<'py, PyAny> = match kind {
                ColumnKind::Float => {
                    let v = py.detach(|| {
                        col.iter()
                            .map(|v| match v {
                                Value::Null => Ok(f64::NAN),
                                other => other.as_f64().ok_or_else(|| bad(name, other)),
                            })
                            .collect::<Result<Vec<f64>, String>>()
                    });
                    v.map_err(err)?.into_pyarray(py).into_any()
                }
                ColumnKind::Int => {
                    let v = py.detach(|| {
                        col.iter()
                            .map(|v| v.as_i64().ok_or_else(|| bad(name, v)))
                            .collect::<Result<Vec<i64>, String>>()
                    });
                    v.map_err(err)?.into_pyarray(py).into_any()
                }
                ColumnKind::UInt => {
                    let v = py.detach(|| {
                        col.iter()
                            .map(|v| match v {
                                Value::UInt(u) => Ok(*u),
                                Value::Int(i) if *i >= 0 => Ok(*i as u64),
                                other => Err(bad(name, other)),
                            })
                            .collect::<Result<Vec<u64>, String>>()
                    });
                    v.map_err(err)?.into_pyarray(py).into_any()
                }
                ColumnKind::Object => {
                    let mut objs: Vec<Py<PyAny>> = Vec::with_capacity(col.len());
                    for v in col {
                        objs.push(value_into_py(py, v)?.unbind());
                    }
                    PyArray1::from_vec(py, objs).into_any()
                }
            };
            out.append(arr)?;
        }
        Ok((names, out))
    }

    /// Inserts rows (dicts, or sequences in heading order) into the table.
    #[pyo3(signature = (rows, skip_duplicates=false, replace=false, ignore_extra_fields=false, allow_direct_insert=false))]
    fn insert(
        &self,
        py: Python<'_>,
        rows: &Bound<'_, PyAny>,
        skip_duplicates: bool,
        replace: bool,
        ignore_extra_fields: bool,
        allow_direct_insert: bool,
    ) -> PyResult<u64> {
        let table = self.base_table("insert")?.to_string();
        let names = self.q.names();
        let mut out: Vec<Row> = Vec::new();
        for (i, r) in rows.try_iter()?.enumerate() {
            let r = r?;
            let pairs: Vec<(String, Value)> = if let Ok(d) = r.cast::<PyDict>() {
                let mut v = Vec::with_capacity(d.len());
                for (k, val) in d.iter() {
                    v.push((k.extract::<String>()?, py_to_value(&val)?));
                }
                v
            } else if r.is_instance_of::<PyTuple>() || r.is_instance_of::<PyList>() {
                let items: Vec<Bound<'_, PyAny>> = r.try_iter()?.collect::<PyResult<_>>()?;
                if items.len() != names.len() {
                    return Err(err(format!(
                        "row {i} of the insert into {table} has {} values for {} attributes",
                        items.len(),
                        names.len()
                    )));
                }
                names
                    .iter()
                    .cloned()
                    .zip(
                        items
                            .iter()
                            .map(py_to_value)
                            .collect::<PyResult<Vec<_>>>()?,
                    )
                    .collect()
            } else {
                return Err(PyTypeError::new_err(format!(
                    "row {i} of the insert into {table}: a {} is not a dict or a sequence",
                    r.get_type().name()?
                )));
            };
            out.push(Row::from_pairs(pairs));
        }
        let opts = InsertOptions {
            skip_duplicates,
            replace,
            ignore_extra_fields,
            allow_direct_insert,
        };
        let sg = self.sg.clone();
        py.detach(|| sg.insert(&table, &out, opts)).map_err(err)
    }

    /// Populates the table with its registered make, GIL released: `restrictions`
    /// (AND) on the key source; returns `{"success_count", "error_list", "skipped",
    /// "todo"}`. `progress` is called as `progress(event, a, b)`.
    #[pyo3(signature = (restrictions=Vec::new(), reserve_jobs=false, suppress_errors=false, order="original", max_calls=None, limit=None, progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn populate(
        &self,
        py: Python<'_>,
        restrictions: Vec<Bound<'_, PyAny>>,
        reserve_jobs: bool,
        suppress_errors: bool,
        order: &str,
        max_calls: Option<usize>,
        limit: Option<usize>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyDict>> {
        let table = self.base_table("populate")?.to_string();
        let mut conds = Vec::new();
        for r in &restrictions {
            conds.push(py_to_cond(r)?);
        }
        let order = match order {
            "original" => Order::Original,
            "reverse" => Order::Reverse,
            "random" => Order::Random,
            other => {
                return Err(err(format!(
                    "populate order `{other}`: expected original, reverse or random"
                )))
            }
        };
        let opts = PopulateOptions {
            restrictions: conds,
            reserve_jobs,
            suppress_errors,
            order,
            max_calls,
            limit,
            progress: false,
        };
        let sg = self.sg.clone();
        let report = match progress {
            Some(cb) => {
                let p = PyProgress(cb);
                py.detach(|| sg.populate_with(&table, &opts, &p))
            }
            None => {
                py.detach(|| sg.populate_with(&table, &opts, &spyglass_db::populate::NoProgress))
            }
        }
        .map_err(err)?;
        let d = PyDict::new(py);
        d.set_item("success_count", report.success_count)?;
        d.set_item("skipped", report.skipped)?;
        d.set_item("todo", report.todo)?;
        let errors = PyList::empty(py);
        for (key, message) in report.error_list {
            let k = PyDict::new(py);
            for (name, v) in key.iter() {
                k.set_item(name, value_into_py(py, v.clone())?)?;
            }
            errors.append((k, message))?;
        }
        d.set_item("error_list", errors)?;
        Ok(d.unbind())
    }

    /// The table's definition in DataJoint's language.
    fn describe(&self, py: Python<'_>) -> PyResult<String> {
        let table = self.base_table("describe")?.to_string();
        let sg = self.sg.clone();
        py.detach(|| sg.describe(&table)).map_err(err)
    }

    /// Declares `pipeline`s needed, then Spyglass's `fetch_nwb`: one dict per row with
    /// the row's values and, per `*_object_id` attribute, the object it names (see
    /// the Python package's `NwbObject`).
    fn fetch_nwb(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        crate::nwb::fetch_nwb(py, &self.sg, &self.q, self.table.as_deref())
    }

    fn __repr__(&self) -> String {
        format!("spyglass_rs._native.Query({})", self.q.label())
    }
}

fn bad(name: &str, v: &Value) -> String {
    format!(
        "attribute `{name}`: a {} value where a number was expected",
        v.kind()
    )
}
