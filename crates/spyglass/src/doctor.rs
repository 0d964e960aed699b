//! `spyglass doctor`: checks an installation end to end and says what to do about each
//! problem — base directory writable, HDF5 and its filters, the database (reachable,
//! backend and server version), schemas and their compatibility (`spyglass check`),
//! stale job reservations and orphan files. Read-only: it writes only a probe file in
//! the base directory, removed at once.

use crate::check;
use crate::settings::Settings;
use spyglass_db::jobs::{jobs_table, JobStatus};
use spyglass_db::Db;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Fine.
    Ok,
    /// Works, but something deserves attention.
    Warn,
    /// Broken: spyglass-rs will fail here.
    Fail,
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Short name of the check (`database`, `hdf5` ...).
    pub check: String,
    /// Its status.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// What to do about it (for warnings and failures).
    pub fix: Option<String>,
}

fn finding(check: &str, status: Status, detail: String, fix: Option<&str>) -> Finding {
    Finding {
        check: check.into(),
        status,
        detail,
        fix: fix.map(str::to_string),
    }
}

/// Checks that the base directory exists and a file can be written there.
pub fn check_base_dir(settings: &Settings) -> Finding {
    let base = &settings.base_dir;
    let probe = base.join(format!(".spyglass-doctor-{}", std::process::id()));
    match std::fs::write(&probe, b"probe") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            finding("base dir", Status::Ok, format!("{} is writable", base.display()), None)
        }
        Err(e) => finding(
            "base dir",
            Status::Fail,
            format!("cannot write in {}: {e}", base.display()),
            Some("create it or set SPYGLASS_BASE_DIR to a writable folder (spyglass init creates the layout)"),
        ),
    }
}

/// HDF5's version and the filters NWB files use.
pub fn check_hdf5() -> Finding {
    let caps = spyglass_nwb::filters::capabilities();
    let missing: Vec<&str> = caps.filters.iter().filter(|f| !f.2).map(|f| f.1).collect();
    let have: Vec<&str> = caps.filters.iter().filter(|f| f.2).map(|f| f.1).collect();
    if missing.is_empty() {
        finding(
            "hdf5",
            Status::Ok,
            format!("HDF5 {}, filters: {}", caps.hdf5_version, have.join(", ")),
            None,
        )
    } else {
        finding(
            "hdf5",
            Status::Warn,
            format!("HDF5 {}, filters missing: {}", caps.hdf5_version, missing.join(", ")),
            Some("NWB files compressed with these filters cannot be read; use a build with them (scripts/release.sh builds one)"),
        )
    }
}

/// Backend and server version of an open database.
pub fn check_server(db: &Db) -> Finding {
    let backend = match db.dialect() {
        spyglass_db::dialect::Dialect::Sqlite => "SQLite",
        spyglass_db::dialect::Dialect::Mysql => "MySQL/MariaDB",
    };
    match db.server_version() {
        Ok(v) => finding("server", Status::Ok, format!("{backend} {v}"), None),
        Err(e) => finding(
            "server",
            Status::Fail,
            format!("{backend}: {e}"),
            Some("check the server"),
        ),
    }
}

/// Schemas and how our tables line up with them, plus orphans (`spyglass check`).
pub fn check_schemas(db: &Db) -> Vec<Finding> {
    let r = match check::check(db) {
        Ok(r) => r,
        Err(e) => {
            return vec![finding(
                "schemas",
                Status::Fail,
                format!("cannot read the schemas: {e}"),
                Some("check the database user's privileges (SELECT on information_schema and the schemas)"),
            )]
        }
    };
    let mut out = Vec::new();
    let used = r.identical.len() + r.differing.len();
    out.push(if r.incompatible.is_empty() {
        finding(
            "schemas",
            Status::Ok,
            format!(
                "{} schemas, {} tables; {used} of ours present and compatible, {} not declared yet",
                db.schemas().len(),
                r.tables_in_database,
                r.missing.len()
            ),
            None,
        )
    } else {
        let names: Vec<String> = r
            .incompatible
            .iter()
            .map(|(n, why)| format!("{}.{} ({})", n.schema, n.table, why.join("; ")))
            .collect();
        finding(
            "schemas",
            Status::Fail,
            format!("{} incompatible tables: {}", names.len(), names.join(", ")),
            Some("run `spyglass check --verbose` for the differences; these tables cannot be used as they are"),
        )
    });
    let ext: usize = r.orphan_external_rows.iter().map(|(_, v)| v.len()).sum();
    let merge: u64 = r.orphan_merge_rows.iter().map(|(_, n)| n).sum();
    if r.orphan_files.is_empty() && ext == 0 && merge == 0 {
        out.push(finding(
            "orphans",
            Status::Ok,
            "no orphan files or rows".into(),
            None,
        ));
    } else {
        out.push(finding(
            "orphans",
            Status::Warn,
            format!(
                "{} files no row tracks, {ext} external-store rows nothing uses, {merge} merge rows without a part",
                r.orphan_files.len()
            ),
            Some("`spyglass cleanup --dry-run` lists what `spyglass cleanup` would remove"),
        ));
    }
    out
}

/// Reservations in `~jobs` whose process is gone (this host) or older than a day.
pub fn check_jobs(db: &Db) -> Finding {
    let now = chrono::Utc::now().naive_utc();
    let day = std::time::Duration::from_secs(24 * 3600);
    let mut stale = 0usize;
    let mut errors = 0usize;
    for schema in db.schemas() {
        if db.catalog().get(&jobs_table(&schema)).is_none() {
            continue;
        }
        let Ok(jobs) = db.job_entries(&schema) else {
            continue;
        };
        errors += jobs.iter().filter(|j| j.status == JobStatus::Error).count();
        stale += jobs.iter().filter(|j| j.is_stale(now, Some(day))).count();
    }
    if stale == 0 && errors == 0 {
        finding(
            "jobs",
            Status::Ok,
            "no stale reservations, no failed jobs".into(),
            None,
        )
    } else {
        finding(
            "jobs",
            Status::Warn,
            format!("{stale} stale reservations, {errors} failed jobs"),
            Some("`spyglass jobs --clear-stale --stale-after 86400` removes stale reservations; `spyglass jobs` shows the errors"),
        )
    }
}

/// Every database check, on an open database.
pub fn check_database(db: &Db) -> Vec<Finding> {
    let mut out = vec![check_server(db)];
    out.extend(check_schemas(db));
    out.push(check_jobs(db));
    out
}
