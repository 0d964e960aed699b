//! `Connection`: the database opened the way the `spyglass` command opens it —
//! the URL from the argument, `$SPYGLASS_DB`, `[database] url` of a `spyglass.toml`
//! (working directory, then the base dir), DataJoint's settings (`DJ_HOST`,
//! `dj_local_conf.json`), else the SQLite file `spyglass.db` in the base dir
//! (`$SPYGLASS_BASE_DIR`, default `~/spyglass_data`) — and prepared as the framework
//! handle ([`spyglass::Spyglass`]): stores, common tables, the active export.

use crate::err;
use crate::query::Query;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use spyglass::Settings;
use spyglass_db::Db;
use std::path::PathBuf;
use std::sync::Arc;

/// The URL `spyglass_rs.connect(url)` opens, by the CLI's rules (see the module doc).
pub(crate) fn resolve_url(url: Option<&str>) -> Result<String, String> {
    spyglass::config_file::resolve_database(url)
        .map(|(u, _)| u)
        .map_err(|e| e.to_string())
}

/// `database_url(url=None)`: the URL `connect(url)` would open, password removed.
#[pyfunction]
#[pyo3(signature = (url=None))]
pub(crate) fn database_url(url: Option<&str>) -> PyResult<String> {
    let u = resolve_url(url).map_err(err)?;
    Ok(spyglass_db::config::redact_url(&u))
}

/// An open spyglass-rs database with its directory layout.
#[pyclass(frozen, module = "spyglass_rs._native")]
pub struct Connection {
    pub(crate) sg: Arc<spyglass::Spyglass>,
    url: String,
}

impl Connection {
    fn query_of(&self, q: spyglass_db::Query, table: Option<String>) -> Query {
        Query::new(self.sg.clone(), q, table)
    }
}

#[pymethods]
impl Connection {
    /// Opens the database (`url=None`: the CLI's configuration rules) under the base
    /// dir `base_dir` (default `$SPYGLASS_BASE_DIR`), with the schema prefix `prefix`
    /// (default DataJoint's `database.prefix`).
    #[new]
    #[pyo3(signature = (url=None, prefix=None, base_dir=None))]
    fn new(
        py: Python<'_>,
        url: Option<String>,
        prefix: Option<String>,
        base_dir: Option<PathBuf>,
    ) -> PyResult<Connection> {
        let url = resolve_url(url.as_deref()).map_err(err)?;
        let settings = match base_dir {
            Some(b) => Settings::new(b),
            None => Settings::from_env(),
        };
        let opened = py.detach(|| -> Result<spyglass::Spyglass, String> {
            let db = Db::open(&url)
                .map_err(|e| format!("opening {}: {e}", spyglass_db::config::redact_url(&url)))?;
            if let Some(p) = &prefix {
                db.set_prefix(p);
            }
            if db.store("raw").is_err() && db.store("analysis").is_err() {
                settings.configure_stores(&db);
            }
            spyglass::lab_admin::install_write_guard(&db, None);
            spyglass::Spyglass::with_db(db, settings).map_err(|e| e.to_string())
        });
        Ok(Connection {
            sg: Arc::new(opened.map_err(err)?),
            url: spyglass_db::config::redact_url(&url),
        })
    }

    /// The URL, password removed.
    #[getter]
    fn url(&self) -> String {
        self.url.clone()
    }

    /// `sqlite` or `mysql`.
    #[getter]
    fn backend(&self) -> &'static str {
        match self.sg.dialect() {
            spyglass_db::dialect::Dialect::Sqlite => "sqlite",
            spyglass_db::dialect::Dialect::Mysql => "mysql",
        }
    }

    /// The schema prefix.
    #[getter]
    fn prefix(&self) -> String {
        self.sg.prefix()
    }

    /// The base directory of data files.
    #[getter]
    fn base_dir(&self) -> PathBuf {
        self.sg.settings().base_dir.clone()
    }

    /// The table `name` (`schema.Class`, `schema.table_name`, `schema.Master.Part`)
    /// as a query; the pipeline declaring it is declared first when needed.
    fn table(&self, py: Python<'_>, name: &str) -> PyResult<Query> {
        let sg = self.sg.clone();
        let info = py
            .detach(|| match sg.table_info(name) {
                Ok(i) => Ok(i),
                Err(first) => {
                    if let Some(p) = owner_pipeline(name) {
                        sg.require(&p).map_err(|e| e.to_string())?;
                        return sg.table_info(name).map_err(|e| e.to_string());
                    }
                    Err(first.to_string())
                }
            })
            .map_err(err)?;
        Ok(self.query_of(spyglass_db::Query::table(&info), Some(info.name.pretty())))
    }

    /// Declares pipeline `name` and what it requires (once per connection).
    fn require(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        let sg = self.sg.clone();
        py.detach(|| sg.require(name)).map_err(err)
    }

    /// Declares every pipeline.
    fn require_all(&self, py: Python<'_>) -> PyResult<()> {
        let sg = self.sg.clone();
        py.detach(|| sg.require_all()).map_err(err)
    }

    /// Inserts the default rows of the named tables (all when empty); returns
    /// `[(table, rows inserted)]`.
    #[pyo3(signature = (tables=Vec::new()))]
    fn insert_defaults(
        &self,
        py: Python<'_>,
        tables: Vec<String>,
    ) -> PyResult<Vec<(String, usize)>> {
        let sg = self.sg.clone();
        py.detach(|| sg.insert_defaults(&tables)).map_err(err)
    }

    /// Spyglass's `insert_sessions`: ingests NWB files (copied into the raw dir as
    /// `<stem>_.nwb`); returns one dict per file (`nwb_file_name`, `status`,
    /// `message`, `rows`, `warnings`). A failed file raises unless `raise_errors=False`.
    #[pyo3(signature = (files, reinsert=false, raise_errors=true))]
    fn insert_sessions(
        &self,
        py: Python<'_>,
        files: Vec<PathBuf>,
        reinsert: bool,
        raise_errors: bool,
    ) -> PyResult<Py<PyList>> {
        let sg = self.sg.clone();
        let opts = spyglass::ingest::IngestOptions {
            reinsert,
            ..Default::default()
        };
        let reports = py
            .detach(|| {
                spyglass::ingest::insert_sessions(
                    sg.db(),
                    sg.settings(),
                    &files,
                    &opts,
                    &spyglass::ingest::NoProgress,
                )
            })
            .map_err(err)?;
        let out = PyList::empty(py);
        for r in reports {
            let d = PyDict::new(py);
            d.set_item("file", r.source.display().to_string())?;
            d.set_item("nwb_file_name", &r.nwb_file_name)?;
            let (status, message) = match &r.status {
                spyglass::ingest::FileStatus::Failed { message, .. } => {
                    if raise_errors {
                        return Err(err(format!(
                            "insert_sessions: {}: {message}",
                            r.source.display()
                        )));
                    }
                    ("failed", Some(message.clone()))
                }
                spyglass::ingest::FileStatus::Inserted => ("inserted", None),
                spyglass::ingest::FileStatus::AlreadyPresent => ("already present", None),
            };
            d.set_item("status", status)?;
            d.set_item("message", message)?;
            d.set_item("rows", r.rows.clone())?;
            d.set_item("warnings", r.warnings.clone())?;
            out.append(d)?;
        }
        Ok(out.unbind())
    }

    /// Spyglass's `FirFilterParameters().create_standard_filters()` ("LFP 0-400 Hz"
    /// at 20 and 30 kHz); returns the rows inserted.
    fn create_standard_filters(&self, py: Python<'_>) -> PyResult<usize> {
        let sg = self.sg.clone();
        py.detach(|| spyglass::filter::insert_default(sg.db()))
            .map_err(err)
    }

    /// The theta and ripple band filters for 1 kHz LFP of Spyglass's tutorials;
    /// returns the rows inserted.
    fn create_band_filters(&self, py: Python<'_>) -> PyResult<usize> {
        let sg = self.sg.clone();
        py.detach(|| spyglass::filter::insert_band_filters(sg.db()))
            .map_err(err)
    }

    /// Spyglass's `LFPElectrodeGroup.create_lfp_electrode_group(nwb_file_name,
    /// group_name, electrode_list)`.
    fn create_lfp_electrode_group(
        &self,
        py: Python<'_>,
        nwb_file_name: &str,
        group_name: &str,
        electrode_list: Vec<i64>,
    ) -> PyResult<()> {
        let sg = self.sg.clone();
        py.detach(|| {
            spyglass::lfp::lfp_electrode::create_group(
                sg.db(),
                nwb_file_name,
                group_name,
                &electrode_list,
            )
        })
        .map_err(err)
    }

    /// Starts (or resumes) the export of `(paper_id, analysis_id)`: every fetch made
    /// through this connection is logged into it; returns the export id.
    fn start_export(&self, paper_id: &str, analysis_id: &str) -> PyResult<i64> {
        self.sg.start_export(paper_id, analysis_id).map_err(err)
    }

    /// Stops the active export; returns its id, if one was active.
    fn stop_export(&self) -> Option<i64> {
        self.sg.stop_export()
    }

    /// The schemas of the database.
    fn schemas(&self) -> Vec<String> {
        self.sg.schemas()
    }

    /// Runs a read-only SQL statement with bound parameters and returns its rows as
    /// tuples of Python values (an escape hatch, as `dj.conn().query`).
    #[pyo3(signature = (sql, params=Vec::new()))]
    fn query_sql(
        &self,
        py: Python<'_>,
        sql: &str,
        params: Vec<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyList>> {
        let mut bound = Vec::with_capacity(params.len());
        for p in &params {
            bound.push(crate::convert::sql_param(p)?);
        }
        let sg = self.sg.clone();
        let rows = py.detach(|| sg.query_raw(sql, &bound)).map_err(err)?;
        let out = PyList::empty(py);
        for r in rows {
            let items: Vec<Bound<'_, PyAny>> = r
                .into_iter()
                .map(|v| crate::convert::sql_value_to_py(py, v))
                .collect::<PyResult<_>>()?;
            out.append(pyo3::types::PyTuple::new(py, items)?)?;
        }
        Ok(out.unbind())
    }

    /// Runs a statement that returns no rows (DDL, DML) with bound parameters;
    /// returns the number of rows affected.
    #[pyo3(signature = (sql, params=Vec::new()))]
    fn execute_sql(
        &self,
        py: Python<'_>,
        sql: &str,
        params: Vec<Bound<'_, PyAny>>,
    ) -> PyResult<u64> {
        let mut bound = Vec::with_capacity(params.len());
        for p in &params {
            bound.push(crate::convert::sql_param(p)?);
        }
        let sg = self.sg.clone();
        py.detach(|| sg.execute(sql, &bound)).map_err(err)
    }

    fn __repr__(&self) -> String {
        format!("spyglass_rs.Connection({})", self.url)
    }
}

/// The pipeline that declares `schema.Class` (schema as given, prefix ignored).
fn owner_pipeline(name: &str) -> Option<String> {
    let (schema, class) = name.split_once('.')?;
    let class = class.split('.').next().unwrap_or(class);
    spyglass::pipelines::all()
        .into_iter()
        .chain(spyglass::pipelines::opt_in())
        .find(|p| {
            p.schemas().iter().any(|s| {
                (s.name == schema || schema.ends_with(s.name))
                    && s.tables.iter().any(|t| {
                        t.class_name == class
                            || spyglass_db::naming::class_name_of(class) == t.class_name
                    })
            })
        })
        .map(|p| p.name().to_string())
}

/// `registry()`: every table of every pipeline as `(pipeline, schema, class_name)`
/// (parts as `Master.Part`), in declaration order, opt-in pipelines included — what
/// the Spyglass-like modules (`spyglass_rs.common`, ...) are generated from.
#[pyfunction]
pub(crate) fn registry() -> Vec<(&'static str, &'static str, String)> {
    let mut rows = Vec::new();
    for p in spyglass::pipelines::all()
        .into_iter()
        .chain(spyglass::pipelines::opt_in())
    {
        for s in p.schemas() {
            for t in &s.tables {
                rows.push((p.name(), s.name, t.class_name.clone()));
                for part in &t.parts {
                    rows.push((
                        p.name(),
                        s.name,
                        format!("{}.{}", t.class_name, part.class_name),
                    ));
                }
            }
        }
        // the parts this pipeline adds to merge tables (`PositionOutput.TrodesPosV1`)
        for m in p.merge_parts() {
            if let (Some((schema, master)), Some((_, source))) =
                (m.master.split_once('.'), m.source.split_once('.'))
            {
                rows.push((p.name(), schema, format!("{master}.{source}")));
            }
        }
    }
    rows
}

/// `write_demo_session(path, duration_s=None, n_channels=None)`: writes the
/// synthetic session `spyglass demo` ingests (20 s, 4 channels at 30 kHz, theta,
/// ripples, two units, position) to `path`; returns its parameters.
#[pyfunction]
#[pyo3(signature = (path, duration_s=None, n_channels=None))]
pub(crate) fn write_demo_session(
    py: Python<'_>,
    path: PathBuf,
    duration_s: Option<f64>,
    n_channels: Option<usize>,
) -> PyResult<Py<PyDict>> {
    let mut p = spyglass_nwb::synthetic::SyntheticParams::demo();
    if let Some(d) = duration_s {
        p.duration_s = d;
    }
    if let Some(n) = n_channels {
        p.n_channels = n;
    }
    let params = p.clone();
    py.detach(|| spyglass_nwb::synthetic::write_session(&path, &params))
        .map_err(err)?;
    let d = PyDict::new(py);
    d.set_item("duration_s", p.duration_s)?;
    d.set_item("sampling_rate", p.sampling_rate)?;
    d.set_item("n_channels", p.n_channels)?;
    d.set_item("n_groups", p.n_groups)?;
    d.set_item("theta_hz", p.theta_hz)?;
    d.set_item("theta_amplitude_uv", p.theta_amplitude_uv)?;
    Ok(d.unbind())
}
