//! Deletes for Python: Spyglass's cautious delete ([`spyglass::cautious_delete`]:
//! permission by lab team, cascade, the `common_usage.CautiousDelete` log) and
//! DataJoint's `delete_quick` (no cascade). The confirmation prompt is the Python
//! package's (`delete(safemode=...)`): it asks for a dry run first, shows the counts,
//! then asks for the delete. Both run with the GIL released.

use crate::connection::Connection;
use crate::convert::py_to_cond;
use crate::err;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use spyglass::cautious_delete::{cautious_delete as run_delete, Access, CautiousDeleteOptions};
use spyglass_db::{Cond, FullName};

/// The AND of restrictions as the engine takes them (`[]` is every row).
pub(crate) fn and_of(restrictions: &[Bound<'_, PyAny>]) -> PyResult<Cond> {
    let mut conds = Vec::with_capacity(restrictions.len());
    for r in restrictions {
        conds.push(py_to_cond(r)?);
    }
    Ok(match conds.len() {
        0 => Cond::Bool(true),
        1 => conds.remove(0),
        _ => Cond::And(conds),
    })
}

fn access_name(a: &Access) -> &'static str {
    match a {
        Access::Admin => "admin",
        Access::TeamMember => "team member",
        Access::NoSession => "no session",
        Access::Forced => "forced",
        Access::NothingToDelete => "nothing to delete",
    }
}

/// `[(full table name, schema.Class, rows)]` for Python.
fn counts_list<'py>(py: Python<'py>, counts: &[(FullName, u64)]) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for (t, n) in counts {
        out.append((t.to_string(), t.pretty(), *n))?;
    }
    Ok(out)
}

/// `cautious_delete(conn, table, restrictions, dry_run, force_permission, user,
/// keep_files)`: Spyglass's cautious delete of the rows of `table` (`schema.Class`)
/// matching every restriction, with everything downstream. A refusal raises. Returns a
/// dict: `planned` and `deleted` as `[(full table name, schema.Class, rows)]` (parents
/// first; `deleted` empty for a dry run), `access`, `user`, `warnings`, `logged`.
#[pyfunction]
#[pyo3(signature = (conn, table, restrictions, dry_run=false, force_permission=false, user=None, keep_files=false))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn cautious_delete(
    py: Python<'_>,
    conn: &Connection,
    table: &str,
    restrictions: Vec<Bound<'_, PyAny>>,
    dry_run: bool,
    force_permission: bool,
    user: Option<String>,
    keep_files: bool,
) -> PyResult<Py<PyDict>> {
    let cond = and_of(&restrictions)?;
    let opts = CautiousDeleteOptions {
        dry_run,
        force_permission,
        user,
        keep_files,
    };
    let sg = conn.sg.clone();
    let report = py
        .detach(|| run_delete(sg.db(), table, cond, &opts))
        .map_err(err)?;
    let planned: Vec<(FullName, u64)> = report
        .plan
        .counts()
        .into_iter()
        .map(|(t, n)| (t, n as u64))
        .collect();
    let d = PyDict::new(py);
    d.set_item("table", report.table.to_string())?;
    d.set_item("planned", counts_list(py, &planned)?)?;
    d.set_item("deleted", counts_list(py, &report.deleted)?)?;
    d.set_item("access", access_name(&report.access))?;
    d.set_item("user", report.user.clone())?;
    d.set_item("warnings", report.warnings.clone())?;
    d.set_item("logged", report.logged)?;
    Ok(d.unbind())
}

/// `delete_quick(conn, table, restrictions)`: DataJoint's `delete_quick`, the rows of
/// `table` matching every restriction without cascading (refused while other rows
/// refer to them); returns the rows deleted.
#[pyfunction]
pub(crate) fn delete_quick(
    py: Python<'_>,
    conn: &Connection,
    table: &str,
    restrictions: Vec<Bound<'_, PyAny>>,
) -> PyResult<u64> {
    let cond = and_of(&restrictions)?;
    let sg = conn.sg.clone();
    py.detach(|| sg.delete_rows(table, cond)).map_err(err)
}
