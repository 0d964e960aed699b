//! Session groups for Python, over [`spyglass::session_group`]: the operations behind
//! Spyglass's `SessionGroup.add_group`, `update_session_group_description`,
//! `add_session_to_group`, `remove_session_from_group`, `delete_group` and
//! `get_group_sessions`, each in one call with the GIL released.

use crate::connection::Connection;
use crate::err;
use pyo3::prelude::*;
use spyglass::session_group as sg_group;

/// `session_group(conn, op, group, arg="")`: runs one operation on group `group`:
/// `add` (arg: description), `describe` (arg: new description), `add_session` and
/// `remove_session` (arg: nwb_file_name), `delete`, `sessions`. Returns the
/// group's `nwb_file_name`s for `sessions`, whether the session was a member for
/// `remove_session`, else None.
#[pyfunction]
#[pyo3(signature = (conn, op, group, arg=""))]
pub(crate) fn session_group(
    py: Python<'_>,
    conn: &Connection,
    op: &str,
    group: &str,
    arg: &str,
) -> PyResult<Py<PyAny>> {
    let sg = conn.sg.clone();
    let db = sg.db();
    match op {
        "add" => py.detach(|| sg_group::add_group(db, group, arg)).map_err(err)?,
        "describe" => py
            .detach(|| sg_group::update_description(db, group, arg))
            .map_err(err)?,
        "add_session" => py
            .detach(|| sg_group::add_session(db, group, arg))
            .map_err(err)?,
        "remove_session" => {
            let was = py
                .detach(|| sg_group::remove_session(db, group, arg))
                .map_err(err)?;
            return Ok(was.into_pyobject(py)?.to_owned().into_any().unbind());
        }
        "delete" => py.detach(|| sg_group::delete_group(db, group)).map_err(err)?,
        "sessions" => {
            let names = py
                .detach(|| sg_group::group_sessions(db, group))
                .map_err(err)?;
            return Ok(names.into_pyobject(py)?.into_any().unbind());
        }
        other => {
            return Err(err(format!(
                "session_group: unknown operation `{other}` (add, describe, add_session, remove_session, delete, sessions)"
            )))
        }
    }
    Ok(py.None())
}
