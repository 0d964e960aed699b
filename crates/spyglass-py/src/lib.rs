//! spyglass-py: the native module `spyglass_rs._native` of the Python package
//! `spyglass_rs` (python/, built with maturin). It exposes the spyglass-rs handle
//! ([`spyglass::Spyglass`]) as a `Connection` and spyglass-db's query algebra as
//! `Query`; the DataJoint-shaped surface (operators, `fetch` formats, Spyglass-like
//! modules) is the Python package's own code over these two classes.
//!
//! - `connection`: opening the database with the CLI's configuration rules,
//!   the pipeline registry, session ingestion, exports.
//! - `query`: restriction, join, projection, aggregation, counting, fetches into
//!   Python rows or numpy columns, insert, populate (GIL released), describe.
//! - `convert`: values between Python and the engine, DataJoint's conventions.
//! - `nwb`: `fetch_nwb`, NWB objects read into numpy arrays the Rust readers
//!   filled (no Python lists in between).
//! - `delete`, `merge`, `export`, `session_group`: Spyglass's cautious delete, merge
//!   tables, paper export and session groups as functions of a connection, which
//!   the Python package's table classes call.
//! - `methods`: Spyglass's table methods beyond inserts (selections, sort groups,
//!   curations); `diagram`: the dependency diagram as SVG.

use pyo3::prelude::*;

mod connection;
mod convert;
mod delete;
mod diagram;
mod export;
mod merge;
mod methods;
mod nwb;
mod query;
mod session_group;

pyo3::create_exception!(
    _native,
    SpyglassError,
    pyo3::exceptions::PyException,
    "An error of spyglass-rs (database, query, file), with its message."
);

/// Converts an engine or framework error into `SpyglassError`.
pub(crate) fn err(e: impl std::fmt::Display) -> PyErr {
    SpyglassError::new_err(e.to_string())
}

/// `_native._panic_for_tests(detached=False)`: for tests only, not part of the API —
/// panics on purpose (with the GIL released when `detached`, as most calls run), so
/// that a test can check a Rust panic reaches Python as pyo3's `PanicException`
/// instead of aborting the interpreter (the release wheel's unwinding, linked by zig).
#[pyfunction]
#[pyo3(name = "_panic_for_tests", signature = (detached = false))]
fn panic_for_tests(py: Python<'_>, detached: bool) {
    fn fail() {
        panic!("spyglass_rs._native._panic_for_tests: a deliberate panic")
    }
    if detached {
        py.detach(fail)
    } else {
        fail()
    }
}

/// The module `spyglass_rs._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("SpyglassError", m.py().get_type::<SpyglassError>())?;
    m.add_class::<connection::Connection>()?;
    m.add_class::<query::Query>()?;
    m.add_function(wrap_pyfunction!(connection::database_url, m)?)?;
    m.add_function(wrap_pyfunction!(connection::registry, m)?)?;
    m.add_function(wrap_pyfunction!(connection::write_demo_session, m)?)?;
    m.add_function(wrap_pyfunction!(delete::cautious_delete, m)?)?;
    m.add_function(wrap_pyfunction!(delete::delete_quick, m)?)?;
    m.add_function(wrap_pyfunction!(merge::merge_registry, m)?)?;
    m.add_function(wrap_pyfunction!(merge::merge_parts, m)?)?;
    m.add_function(wrap_pyfunction!(merge::merge_parents, m)?)?;
    m.add_function(wrap_pyfunction!(merge::merge_view, m)?)?;
    m.add_function(wrap_pyfunction!(merge::merge_insert, m)?)?;
    m.add_function(wrap_pyfunction!(export::active_export, m)?)?;
    m.add_function(wrap_pyfunction!(export::without_export_logging, m)?)?;
    m.add_function(wrap_pyfunction!(export::logged_restrictions, m)?)?;
    m.add_function(wrap_pyfunction!(export::export_file_paths, m)?)?;
    m.add_function(wrap_pyfunction!(export::populate_paper, m)?)?;
    m.add_function(wrap_pyfunction!(session_group::session_group, m)?)?;
    m.add_function(wrap_pyfunction!(methods::call, m)?)?;
    m.add_function(wrap_pyfunction!(diagram::diagram, m)?)?;
    m.add_function(wrap_pyfunction!(diagram::diagram_expand, m)?)?;
    m.add_function(wrap_pyfunction!(panic_for_tests, m)?)?;
    Ok(())
}
