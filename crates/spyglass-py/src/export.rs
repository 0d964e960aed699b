//! Paper export for Python, over the framework's export ([`spyglass::export`]): the
//! active export of a connection, calls run with logging suspended (the previews
//! Spyglass does not log), the restrictions and files logged for a paper, and
//! `populate_paper` writing what `spyglass export run` writes. Starting and stopping
//! are the connection's (`Connection.start_export`, `stop_export`); once started,
//! every fetch through the connection is logged by the framework's fetch observer.

use crate::connection::Connection;
use crate::err;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use spyglass::export::{self, paper, ExportOptions};
use std::path::PathBuf;

/// `active_export(conn)`: the export id the connection's fetches are logged into.
#[pyfunction]
pub(crate) fn active_export(conn: &Connection) -> Option<i64> {
    conn.sg.active_export()
}

/// `without_export_logging(conn, f)`: calls `f()` with export logging on the
/// connection suspended for the calling thread (other threads keep logging);
/// returns what `f` returns.
#[pyfunction]
pub(crate) fn without_export_logging(
    py: Python<'_>,
    conn: &Connection,
    f: Py<PyAny>,
) -> PyResult<Py<PyAny>> {
    let out = export::without_logging(conn.sg.db(), || Ok(f.call0(py)));
    out.map_err(err)?
}

/// `logged_restrictions(conn, paper_id)`: every restriction logged for the paper, in
/// log order, as `(export_id, full table name, restriction)` (Spyglass's
/// `ExportSelection.Table` rows of the paper).
#[pyfunction]
pub(crate) fn logged_restrictions(
    py: Python<'_>,
    conn: &Connection,
    paper_id: &str,
) -> PyResult<Vec<(i64, String, String)>> {
    let sg = conn.sg.clone();
    let rows = py
        .detach(|| export::preview_tables(sg.db(), paper_id))
        .map_err(err)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.export_id, r.table.to_string(), r.restriction))
        .collect())
}

/// `export_file_paths(conn, paper_id)`: the files a paper's export holds (Spyglass's
/// `ExportSelection.list_file_paths`).
#[pyfunction]
pub(crate) fn export_file_paths(
    py: Python<'_>,
    conn: &Connection,
    paper_id: &str,
) -> PyResult<Vec<PathBuf>> {
    let sg = conn.sg.clone();
    py.detach(|| export::list_file_paths(sg.db(), paper_id))
        .map_err(err)
}

/// `populate_paper(conn, paper_id, out_dir=None, dandi_dir=None)`: Spyglass's
/// `Export.populate_paper` as `spyglass export run` does it — cascades the paper's
/// logged restrictions, writes the mysqldump script, the SQL file and the bundle under
/// `<out_dir>/<paper_id>/` (default: the base dir's export dir), fills `Export`; GIL
/// released, export logging suspended. Returns a dict describing what was written.
#[pyfunction]
#[pyo3(signature = (conn, paper_id, out_dir=None, dandi_dir=None))]
pub(crate) fn populate_paper(
    py: Python<'_>,
    conn: &Connection,
    paper_id: &str,
    out_dir: Option<PathBuf>,
    dandi_dir: Option<PathBuf>,
) -> PyResult<Py<PyDict>> {
    let sg = conn.sg.clone();
    let opts = ExportOptions { out_dir, dandi_dir };
    let done = py
        .detach(|| {
            export::without_logging(sg.db(), || {
                paper::populate_paper(sg.db(), sg.settings(), paper_id, &opts)
            })
        })
        .map_err(err)?;
    let d = PyDict::new(py);
    d.set_item("paper_id", &done.paper_id)?;
    d.set_item("export_id", done.export_id)?;
    d.set_item("dir", &done.dir)?;
    d.set_item("script", &done.script)?;
    d.set_item("sql_file", &done.sql_file)?;
    d.set_item("sql_bytes", done.sql_bytes)?;
    d.set_item("bundle", &done.bundle)?;
    let tables = PyList::empty(py);
    for (t, n) in &done.tables {
        tables.append((t.to_string(), t.pretty(), *n))?;
    }
    d.set_item("tables", tables)?;
    let files = PyList::empty(py);
    for f in &done.files {
        let fd = PyDict::new(py);
        fd.set_item("store", &f.store)?;
        fd.set_item("relative", &f.relative)?;
        fd.set_item("source", &f.source)?;
        fd.set_item("size", f.size)?;
        fd.set_item("md5", &f.md5)?;
        files.append(fd)?;
    }
    d.set_item("files", files)?;
    d.set_item(
        "dandi_dir",
        done.dandi.as_ref().map(|r| r.dandiset_dir.clone()),
    )?;
    Ok(d.unbind())
}
