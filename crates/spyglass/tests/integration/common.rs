//! Shared helpers of the integration tests: a scratch installation (base dir,
//! SQLite database, stores), synthetic sessions and pynwb-built fixtures.
#![allow(dead_code)]

use spyglass::ingest::{self, FileReport, IngestOptions, NoProgress};
use spyglass::{Settings, Spyglass};
use spyglass_db::{Cond, Db, FetchSpec, Row, Value};
use std::path::{Path, PathBuf};

/// Disables HDF5 file locking before any file is opened (tests run in parallel
/// and spawn Python, which would inherit locks).
pub fn init() {
    spyglass_testkit::disable_hdf5_file_locking();
}

/// A scratch Spyglass installation.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub settings: Settings,
    /// The framework handle (dereferences to the database).
    pub db: Spyglass,
}

impl Env {
    /// Base dir, SQLite database, stores and common tables in a fresh directory.
    pub fn new() -> Env {
        init();
        let dir = spyglass_testkit::scratch_dir();
        let settings = Settings::new(dir.path().join("base"));
        let url = format!("sqlite:///{}", dir.path().join("spyglass.db").display());
        let db = Spyglass::open(&url, settings.clone()).expect("open database");
        Env { dir, settings, db }
    }

    /// Like [`Env::new`], on the test MariaDB with a schema prefix unique to this call.
    pub fn mariadb() -> Env {
        init();
        let dir = spyglass_testkit::scratch_dir();
        let settings = Settings::new(dir.path().join("base"));
        let db = Db::open(&spyglass_testkit::mysql_url()).expect("connect to the test MariaDB");
        db.set_prefix(&spyglass_testkit::unique_prefix());
        let db = Spyglass::with_db(db, settings.clone()).expect("declare the common schemas");
        Env { dir, settings, db }
    }

    /// Like [`Env::new`], on a private MariaDB server of its own with no schema prefix
    /// (the schema names Python Spyglass uses); its URL too.
    pub fn private_mariadb() -> (Env, String) {
        init();
        let dir = spyglass_testkit::scratch_dir();
        let settings = Settings::new(dir.path().join("base"));
        let url = spyglass_testkit::fresh_mariadb();
        let db = Spyglass::open(&url, settings.clone()).expect("open the private MariaDB");
        (Env { dir, settings, db }, url)
    }

    /// A directory outside the base dir where source files are staged.
    pub fn staging(&self) -> PathBuf {
        let p = self.dir.path().join("incoming");
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    /// Ingests files with default options.
    pub fn insert(&self, files: &[PathBuf]) -> Vec<FileReport> {
        self.insert_with(files, IngestOptions::default())
    }

    /// Ingests files.
    pub fn insert_with(&self, files: &[PathBuf], opts: IngestOptions) -> Vec<FileReport> {
        ingest::insert_sessions(&self.db, &self.settings, files, &opts, &NoProgress)
            .expect("insert_sessions")
    }

    /// Rows of a table restricted to one session (or all when the table has no nwb_file_name).
    pub fn rows(&self, table: &str, nwb: &str) -> Vec<Row> {
        let q = self
            .db
            .table(table)
            .unwrap()
            .restrict(Cond::map([("nwb_file_name", nwb)]))
            .unwrap();
        self.db
            .fetch_with(&q, &FetchSpec::default().order_by(&["KEY"]))
            .unwrap()
    }

    /// All rows of a table, by key.
    pub fn all(&self, table: &str) -> Vec<Row> {
        let q = self.db.table(table).unwrap();
        self.db
            .fetch_with(&q, &FetchSpec::default().order_by(&["KEY"]))
            .unwrap()
    }

    /// Row count of a table.
    pub fn count(&self, table: &str) -> u64 {
        self.db.count(&self.db.table(table).unwrap()).unwrap()
    }
}

/// Text value of an attribute.
pub fn s(r: &Row, k: &str) -> String {
    match r.get(k) {
        Some(Value::Str(x)) => x.clone(),
        Some(Value::Null) | None => "<null>".into(),
        Some(v) => v.python_str(),
    }
}

/// Float value of an attribute.
pub fn f(r: &Row, k: &str) -> f64 {
    r.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

/// Integer value of an attribute.
pub fn i(r: &Row, k: &str) -> i64 {
    r.get(k).and_then(Value::as_i64).unwrap_or(i64::MIN)
}

/// `valid_times` of an IntervalList row.
pub fn times(r: &Row) -> Vec<[f64; 2]> {
    r.get("valid_times")
        .and_then(Value::as_blob)
        .and_then(|b| b.as_intervals())
        .unwrap()
}

/// Asserts two interval lists are equal within `tol`.
pub fn assert_times(got: &[[f64; 2]], want: &[[f64; 2]], tol: f64) {
    assert_eq!(got.len(), want.len(), "got {got:?}, want {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g[0] - w[0]).abs() <= tol && (g[1] - w[1]).abs() <= tol,
            "got {got:?}, want {want:?}"
        );
    }
}

/// Every common table (full names) with its row count.
pub fn all_counts(env: &Env) -> Vec<(String, u64)> {
    let mut out = vec![];
    for (schema, specs) in spyglass::common::schemas() {
        for sp in &specs {
            let t = format!("{schema}.{}", sp.class_name);
            out.push((t.clone(), env.count(&t)));
            for p in &sp.parts {
                let pt = format!("{t}.{}", p.class_name);
                out.push((pt.clone(), env.count(&pt)));
            }
        }
    }
    out
}

/// Like [`all_counts`], plus the tables ingestion fills outside the common schemas
/// (every ElectricalSeries with its electrodes, ImportedSpikeSorting, ImportedLFP).
pub fn ingest_counts(env: &Env) -> Vec<(String, u64)> {
    use spyglass::common::{ephys_series as es, spikesorting_imported as ssi};
    let mut out = all_counts(env);
    for t in [
        es::ELECTRICAL_SERIES,
        es::ELECTRICAL_SERIES_ELECTRODE,
        ssi::IMPORTED_SPIKE_SORTING,
        ssi::ANNOTATIONS,
        spyglass::lfp::imported::IMPORTED_LFP,
    ] {
        out.push((t.to_string(), env.count(t)));
    }
    out
}

/// Writes a pynwb fixture with `tests/py/make_spyglass_file.py`; returns its JSON report.
pub fn pynwb_file(out: &Path, variant: &str) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/make_spyglass_file.py");
    let code = std::fs::read_to_string(&script).unwrap();
    let text = spyglass_testkit::run_python(&code, &[out.to_str().unwrap(), variant]);
    serde_json::from_str(text.lines().last().unwrap_or("{}")).expect("fixture JSON")
}

/// Selects LFPV1 the way most tests do: Spyglass's standard `LFP 0-400 Hz` filter at
/// `filter_rate` (the raw rate), 1 kHz output; returns the selection's key.
pub fn select_lfp(
    env: &Env,
    nwb: &str,
    group: &str,
    interval: &str,
    filter_rate: impl Into<i64>,
) -> Row {
    let key = spyglass::lfp::v1::LfpKey {
        nwb_file_name: nwb.to_string(),
        lfp_electrode_group_name: group.to_string(),
        target_interval_list_name: interval.to_string(),
        filter_name: "LFP 0-400 Hz".to_string(),
        filter_sampling_rate: filter_rate.into(),
    };
    let selection = spyglass::lfp::v1::LfpSelection {
        key,
        target_sampling_rate: 1000.0,
    };
    spyglass::lfp::v1::insert_selection(&env.db, &selection).unwrap()
}

/// Python Spyglass 0.6's `NwbfileHasher(path, precision_lookup={'ProcessedElectricalSeries': 4}).hash`
/// of each file (the oracle of the `hash` columns).
pub fn spyglass_nwb_hashes(paths: &[&Path]) -> Vec<String> {
    const CODE: &str = "import sys\nfrom spyglass.utils.nwb_hash import NwbfileHasher\nfor p in sys.argv[1:]:\n    print(NwbfileHasher(p, precision_lookup={'ProcessedElectricalSeries': 4}).hash)\n";
    let args: Vec<&str> = paths.iter().map(|p| p.to_str().unwrap()).collect();
    let out = spyglass_testkit::run_spyglass_python(CODE, &args);
    let hashes: Vec<String> = out.lines().map(str::to_string).collect();
    assert_eq!(hashes.len(), paths.len(), "{out}");
    hashes
}
