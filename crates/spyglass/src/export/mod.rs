//! Paper export, as Spyglass's `ExportSelection`/`Export` do it. Between
//! [`start_export`] and [`stop_export`], every fetch — of any table, restricted by
//! maps, SQL strings, AND/OR lists or other queries — and every NWB file opened
//! through `fetch_nwb` is logged in `ExportSelection.Table` / `ExportSelection.File`.
//! A restriction that does not fit the 2048-character column is logged as the
//! primary keys it selects, in as many rows as needed (OR-ed when read back), so
//! nothing is ever truncated. [`paper::populate_paper`] then cascades the logged
//! restrictions up to every row the analysis needs and writes the SQL dump script,
//! an SQL file with the rows, a self-contained SQLite bundle with the NWB files, and
//! optionally a DANDI-organised folder.
//!
//! One export is active at a time per database handle: the [`ExportLog`] kept on the
//! [`Db`] (Spyglass keeps it in an environment variable), so two handles in one
//! process — two test databases, a lab server and a bundle — log independently, and
//! every fetch made through the handle, by any thread, is seen. Which export a user
//! has started is recorded in the database itself, in
//! `common_usage.ActiveExport` (one row per user: the database account on MySQL, the
//! user name on SQLite), so that every later `spyglass` invocation by that user on
//! that database logs into it, another account's fetches never do, and a second
//! `export start` while one is active is refused (two racing starts: one wins, by the
//! table's primary key).

pub mod paper;

use crate::error::{Error, Result};
use crate::scope::ThreadScopes;
use spyglass_db::{Cond, Db, FullName, InsertOptions, Query, Row, TableSpec, Tier, Value};
use std::sync::{Arc, Mutex};

pub use paper::{populate_paper, ExportOptions, PaperExport};

/// Schema of the export tables (Spyglass keeps them in `common_usage`).
pub const SCHEMA: &str = "common_usage";
/// `ExportSelection` (Manual) with parts `Table` and `File`.
pub const EXPORT_SELECTION: &str = "common_usage.ExportSelection";
/// `ExportSelection.Table` (Part): one logged restriction.
pub const EXPORT_SELECTION_TABLE: &str = "common_usage.ExportSelection.Table";
/// `ExportSelection.File` (Part): one analysis file opened through fetch_nwb.
pub const EXPORT_SELECTION_FILE: &str = "common_usage.ExportSelection.File";
/// `Export` (Computed) with parts `Table` and `File`.
pub const EXPORT: &str = "common_usage.Export";
/// `Export.Table` (Part): the cascaded restriction of one table.
pub const EXPORT_TABLE: &str = "common_usage.Export.Table";
/// `Export.File` (Part): one exported file.
pub const EXPORT_FILE: &str = "common_usage.Export.File";
/// `ActiveExport` (Manual, ours): the export each user is logging into.
pub const ACTIVE_EXPORT: &str = "common_usage.ActiveExport";

/// Longest restriction one `ExportSelection.Table` row holds.
pub const MAX_RESTRICTION: usize = 2048;

/// The version recorded with each export (at most 16 characters, as the column).
pub fn spyglass_version() -> String {
    env!("CARGO_PKG_VERSION").chars().take(16).collect()
}

/// The export tables, with Spyglass's definitions.
pub fn specs() -> Vec<TableSpec> {
    vec![
        TableSpec::new(
            "ExportSelection",
            Tier::Manual,
            "export_id: int auto_increment
---
paper_id: varchar(32)
analysis_id: varchar(32)
spyglass_version: varchar(16)
time=CURRENT_TIMESTAMP: timestamp
unique index (paper_id, analysis_id)",
        )
        .part(
            "Table",
            "-> master
table_id: int
---
table_name: varchar(128)
restriction: varchar(2048)",
        )
        .part(
            "File",
            "-> master
-> AnalysisNwbfile",
        ),
        TableSpec::new(
            "Export",
            Tier::Computed,
            "-> ExportSelection
---
paper_id: varchar(32)
included_nwb_file_names = null: mediumblob   # list of nwb files included in export",
        )
        .part(
            "Table",
            "-> master
table_id: int
---
table_name: varchar(128)
restriction: mediumblob
unique index (export_id, table_name)",
        )
        .part(
            "File",
            "-> master
file_id: int
---
file_path: varchar(255)",
        ),
        TableSpec::new(
            "ActiveExport",
            Tier::Manual,
            "dj_user: varchar(64)  # the user logging: database account (MySQL) or user name (SQLite)
---
-> ExportSelection
started=CURRENT_TIMESTAMP: timestamp",
        ),
    ]
}

/// The export logging of one database handle, kept on the [`Db`] (one per handle,
/// created on first use): the export its fetches are logged into (Spyglass's
/// `SPYGLASS_EXPORT_ID`) and the threads that have logging suspended (the logger's
/// own reads, the export's reads, the lab-admin checks; see [`without_logging`]).
#[derive(Debug, Default)]
pub struct ExportLog {
    active: Mutex<Option<i64>>,
    suspended: ThreadScopes,
}

impl ExportLog {
    fn of(db: &Db) -> Arc<ExportLog> {
        db.extension(ExportLog::default)
    }

    fn active(&self) -> std::sync::MutexGuard<'_, Option<i64>> {
        self.active.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The export `db`'s fetches are logged into, if any.
pub fn active_export(db: &Db) -> Option<i64> {
    db.existing_extension::<ExportLog>()
        .and_then(|log| *log.active())
}

/// True while the calling thread has logging on `db` suspended.
fn suspended(db: &Db) -> bool {
    db.existing_extension::<ExportLog>()
        .is_some_and(|log| log.suspended.inside())
}

fn check_id(what: &str, v: &str) -> Result<()> {
    if v.trim().is_empty() || v.chars().count() > 32 {
        return Err(Error::bad(
            what,
            format!("`{v}` must be 1 to 32 characters"),
        ));
    }
    Ok(())
}

/// The user an export belongs to: the database account on MySQL, on SQLite
/// `$SPYGLASS_USER`, `$USER` or `$LOGNAME` (else `unknown`).
pub fn export_user(db: &Db) -> Result<String> {
    match db.dialect() {
        spyglass_db::dialect::Dialect::Sqlite => Ok(spyglass_db::config::local_user_name()),
        _ => crate::cautious_delete::current_user(db, None),
    }
}

/// The export `user` has started on this database and not stopped, if any:
/// (export id, paper id, analysis id). Reads only (nothing is declared).
pub fn active_export_of(db: &Db, user: &str) -> Result<Option<(i64, String, String)>> {
    if db.table_info(ACTIVE_EXPORT).is_err() {
        return Ok(None);
    }
    without_logging(db, || {
        let q = db
            .table(ACTIVE_EXPORT)?
            .restrict(Cond::map([("dj_user", user)]))?
            .join(&db.table(EXPORT_SELECTION)?)?;
        Ok(match db.fetch(&q)?.first() {
            Some(r) => Some((
                int(r, "export_id")?,
                r.get("paper_id").map(Value::python_str).unwrap_or_default(),
                r.get("analysis_id")
                    .map(Value::python_str)
                    .unwrap_or_default(),
            )),
            None => None,
        })
    })
}

/// Starts logging for (paper, analysis): inserts the `ExportSelection` row or resumes
/// it (removing an `Export` made from it earlier), records it as the user's active
/// export in the database, and logs every later fetch on `db`. Returns the export id.
/// Refused while the user has another export active (on this database, or on this
/// handle); starting the one already active again just resumes it.
pub fn start_export(db: &Db, paper_id: &str, analysis_id: &str) -> Result<i64> {
    check_id("paper id", paper_id)?;
    check_id("analysis id", analysis_id)?;
    crate::declare_common(db)?;
    let user = export_user(db)?;
    let busy = |id: i64, p: &str, a: &str| {
        Error::conflict(
            "export",
            format!(
                "export {id} (paper {p}, analysis {a}) is active for user '{user}': run \
             `spyglass export stop` first"
            ),
        )
    };
    if let Some((id, p, a)) = active_export_of(db, &user)? {
        if p != paper_id || a != analysis_id {
            return Err(busy(id, &p, &a));
        }
    }
    let id = crate::transaction(db, || {
        without_logging(db, || {
            let sel = db.table(EXPORT_SELECTION)?;
            let key = Cond::map([("paper_id", paper_id), ("analysis_id", analysis_id)]);
            let existing = db.fetch(&sel.restrict(key.clone())?)?;
            let id = match existing.first() {
                Some(r) => int(r, "export_id")?,
                None => {
                    db.insert(
                        EXPORT_SELECTION,
                        &[Row::from_pairs([
                            ("paper_id", Value::from(paper_id)),
                            ("analysis_id", Value::from(analysis_id)),
                            ("spyglass_version", Value::from(spyglass_version())),
                        ])],
                        InsertOptions::default(),
                    )?;
                    int(&db.fetch1(&sel.restrict(key)?)?, "export_id")?
                }
            };
            // the user's active export, claimed by primary key: of two racing starts
            // one inserts, the other finds the row (or fails on the key) and is refused
            match active_export_of(db, &user)? {
                Some((other, p, a)) if other != id => return Err(busy(other, &p, &a)),
                Some(_) => {}
                None => {
                    db.insert(
                        ACTIVE_EXPORT,
                        &[Row::from_pairs([
                            ("dj_user", Value::from(user.as_str())),
                            ("export_id", Value::from(id)),
                        ])],
                        InsertOptions::default(),
                    )
                    .map_err(|e| {
                        Error::conflict(
                            "export",
                            format!(
                            "another export was started for user '{user}' at the same time ({e}); \
                             see `spyglass export stop`"
                        ),
                        )
                    })?;
                }
            }
            let old = db.table(EXPORT)?.restrict(Cond::map([("export_id", id)]))?;
            if db.exists(&old)? {
                db.delete(
                    EXPORT,
                    Cond::map([("export_id", id)]),
                    spyglass_db::delete::DeleteOptions::default(),
                )?;
            }
            Ok(id)
        })
    });
    let id = match id {
        Ok(id) => id,
        // a start that lost a race to another: say which export is active
        Err(e) => match active_export_of(db, &user)? {
            Some((other, p, a)) if p != paper_id || a != analysis_id => {
                return Err(busy(other, &p, &a))
            }
            _ => return Err(e),
        },
    };
    resume_export(db, id)?;
    Ok(id)
}

/// Logs `db`'s fetches into the export its user has active in the database, if any
/// (what every `spyglass` command does on opening a database). Returns its id.
pub fn resume_active(db: &Db) -> Result<Option<i64>> {
    if db.table_info(ACTIVE_EXPORT).is_err() {
        return Ok(None);
    }
    let Ok(user) = export_user(db) else {
        return Ok(None);
    };
    match active_export_of(db, &user)? {
        Some((id, _, _)) => {
            resume_export(db, id)?;
            Ok(Some(id))
        }
        None => Ok(None),
    }
}

/// Logs the fetches of `db` into an existing export (a CLI call after `export start`);
/// refused while the handle logs into another.
pub fn resume_export(db: &Db, export_id: i64) -> Result<()> {
    {
        let log = ExportLog::of(db);
        let mut active = log.active();
        if let Some(other) = *active {
            if other != export_id {
                return Err(Error::conflict(
                    "export",
                    format!("export {other} is active: stop it before starting export {export_id}"),
                ));
            }
        }
        *active = Some(export_id);
    }
    db.set_fetch_observer(Some(Arc::new(move |db: &Db, q: &Query| {
        log_fetch(db, export_id, q).map_err(|e| match e {
            Error::Db(e) => e,
            other => spyglass_db::Error::Refused(format!("export logging: {other}")),
        })
    })));
    Ok(())
}

/// Stops logging on this handle without ending the user's export (commands that
/// read for themselves, such as `export preview`); returns the id that was logging.
pub fn pause_logging(db: &Db) -> Option<i64> {
    db.set_fetch_observer(None);
    db.existing_extension::<ExportLog>()
        .and_then(|log| log.active().take())
}

/// Stops the export (Spyglass's `stop_export`): logging ends on this handle and the
/// user's active export is cleared in the database. Returns the export id that was
/// active (in the database, else on this handle).
pub fn stop_export(db: &Db) -> Option<i64> {
    let local = pause_logging(db);
    let recorded = export_user(db).ok().and_then(|user| {
        let (id, _, _) = active_export_of(db, &user).ok()??;
        without_logging(db, || {
            db.delete(
                ACTIVE_EXPORT,
                Cond::map([("dj_user", user.as_str())]),
                spyglass_db::delete::DeleteOptions::default(),
            )?;
            Ok(())
        })
        .ok()?;
        Some(id)
    });
    recorded.or(local)
}

/// Runs `f` with export logging on `db` suspended for the calling thread (other
/// threads using the handle keep logging).
pub fn without_logging<T>(db: &Db, f: impl FnOnce() -> Result<T>) -> Result<T> {
    ExportLog::of(db).suspended.enter(f)
}

fn int(r: &Row, attr: &str) -> Result<i64> {
    r.get(attr)
        .and_then(Value::as_i64)
        .ok_or_else(|| Error::internal(EXPORT_SELECTION, format!("`{attr}` is not an integer")))
}

/// True for the tables export logging never records (its own bookkeeping).
fn unlogged(t: &FullName, db: &Db) -> bool {
    t.schema == db.schema_name(SCHEMA)
}

/// Logs one fetch: the restriction of every table it reads.
fn log_fetch(db: &Db, export_id: i64, q: &Query) -> Result<()> {
    if suspended(db) || q.tables().iter().all(|t| unlogged(t, db)) {
        return Ok(());
    }
    without_logging(db, || {
        let entries = db.restrictions_of(q, MAX_RESTRICTION)?;
        let entries: Vec<(FullName, String)> = entries
            .into_iter()
            .filter(|(t, _)| !unlogged(t, db))
            .collect();
        log_restrictions(db, export_id, &entries)
    })
}

/// Appends (table, restriction) rows to `ExportSelection.Table`, skipping ones already logged.
///
/// Workers of one populate log into the same export over their own connections: two
/// may read the same highest `table_id` and the later insert then duplicates the key.
/// That insert changed nothing, so it is retried on a fresh read.
fn log_restrictions(db: &Db, export_id: i64, entries: &[(FullName, String)]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    const ATTEMPTS: usize = 20;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match append_restrictions(db, export_id, entries) {
            Err(Error::Db(spyglass_db::Error::Duplicate { .. })) if attempt < ATTEMPTS => {
                std::thread::sleep(std::time::Duration::from_millis(5 * attempt as u64));
            }
            done => return done,
        }
    }
}

/// One attempt of [`log_restrictions`]: read what is logged, insert what is not.
fn append_restrictions(db: &Db, export_id: i64, entries: &[(FullName, String)]) -> Result<()> {
    // only this export's rows of the tables being logged, and its highest table_id
    let part = db
        .table(EXPORT_SELECTION_TABLE)?
        .restrict(Cond::map([("export_id", export_id)]))?;
    let names: Vec<Cond> = entries
        .iter()
        .map(|(t, _)| Cond::map([("table_name", t.to_string())]))
        .collect();
    let logged = db.fetch(&part.restrict(Cond::Or(names))?)?;
    let last = db.fetch_with(
        &part,
        &spyglass_db::FetchSpec::attrs(&["table_id"])
            .order_by(&["table_id DESC"])
            .limit(1, None),
    )?;
    let mut next = last
        .first()
        .and_then(|r| r.get("table_id").and_then(Value::as_i64))
        .unwrap_or(0)
        + 1;
    let mut rows = Vec::new();
    for (t, restriction) in entries {
        let name = t.to_string();
        let seen = logged.iter().any(|r| {
            r.get("table_name").and_then(Value::as_str) == Some(name.as_str())
                && r.get("restriction").and_then(Value::as_str) == Some(restriction.as_str())
        });
        if seen {
            continue;
        }
        rows.push(Row::from_pairs([
            ("export_id", Value::from(export_id)),
            ("table_id", Value::from(next)),
            ("table_name", Value::from(name)),
            ("restriction", Value::from(restriction.as_str())),
        ]));
        next += 1;
    }
    if !rows.is_empty() {
        db.insert(EXPORT_SELECTION_TABLE, &rows, InsertOptions::default())?;
    }
    Ok(())
}

/// Records the NWB files a `fetch_nwb` call opened: analysis files in
/// `ExportSelection.File` (and a restriction on `AnalysisNwbfile`), session copies as a
/// restriction on `Nwbfile`. A no-op when no export is active.
pub fn log_nwb_files(db: &Db, analysis_files: &[String], nwb_files: &[String]) -> Result<()> {
    let Some(export_id) = active_export(db) else {
        return Ok(());
    };
    if suspended(db) {
        return Ok(());
    }
    without_logging(db, || {
        let mut entries = Vec::new();
        for (table, attr, names) in [
            (
                crate::common::common_nwbfile::ANALYSIS_NWBFILE,
                "analysis_file_name",
                analysis_files,
            ),
            (
                crate::common::common_nwbfile::NWBFILE,
                "nwb_file_name",
                nwb_files,
            ),
        ] {
            if names.is_empty() {
                continue;
            }
            let info = db.table_info(table)?;
            let keys: Vec<Row> = names
                .iter()
                .map(|n| Row::from_pairs([(attr, Value::from(n.as_str()))]))
                .collect();
            for s in
                spyglass_db::slice::key_restrictions(db.dialect(), &info, &keys, MAX_RESTRICTION)?
            {
                entries.push((info.name.clone(), s));
            }
        }
        log_restrictions(db, export_id, &entries)?;
        let rows: Vec<Row> = analysis_files
            .iter()
            .map(|n| {
                Row::from_pairs([
                    ("export_id", Value::from(export_id)),
                    ("analysis_file_name", Value::from(n.as_str())),
                ])
            })
            .collect();
        if !rows.is_empty() {
            db.insert(
                EXPORT_SELECTION_FILE,
                &rows,
                InsertOptions {
                    skip_duplicates: true,
                    ..Default::default()
                },
            )?;
        }
        Ok(())
    })
}

/// One logged restriction.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedRestriction {
    /// The export (analysis) that logged it.
    pub export_id: i64,
    /// The table.
    pub table: FullName,
    /// The restriction text.
    pub restriction: String,
}

/// The export ids of a paper, oldest first.
pub fn paper_export_ids(db: &Db, paper_id: &str) -> Result<Vec<i64>> {
    without_logging(db, || {
        let q = db
            .table(EXPORT_SELECTION)?
            .restrict(Cond::map([("paper_id", paper_id)]))?;
        let mut ids: Vec<i64> = db
            .fetch(&q)?
            .iter()
            .map(|r| int(r, "export_id"))
            .collect::<Result<_>>()?;
        ids.sort_unstable();
        Ok(ids)
    })
}

/// Every restriction logged for a paper (all its analyses), in log order
/// (Spyglass's `preview_tables`).
pub fn preview_tables(db: &Db, paper_id: &str) -> Result<Vec<LoggedRestriction>> {
    restrictions_logged(db, &paper_export_ids(db, paper_id)?)
}

/// The restrictions logged under the given export ids.
pub(crate) fn restrictions_logged(db: &Db, ids: &[i64]) -> Result<Vec<LoggedRestriction>> {
    without_logging(db, || {
        let mut out = Vec::new();
        for &id in ids {
            let q = db
                .table(EXPORT_SELECTION_TABLE)?
                .restrict(Cond::map([("export_id", id)]))?;
            let rows = db.fetch_with(
                &q,
                &spyglass_db::FetchSpec::default().order_by(&["table_id"]),
            )?;
            for r in rows {
                let name = r
                    .get("table_name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                out.push(LoggedRestriction {
                    export_id: id,
                    table: parse_table_name(db, name)?,
                    restriction: r
                        .get("restriction")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                });
            }
        }
        Ok(out)
    })
}

/// The analysis files logged for a paper through fetch_nwb.
pub fn logged_files(db: &Db, paper_id: &str) -> Result<Vec<String>> {
    files_logged(db, &paper_export_ids(db, paper_id)?)
}

/// The analysis files logged under the given export ids, each once.
pub(crate) fn files_logged(db: &Db, ids: &[i64]) -> Result<Vec<String>> {
    without_logging(db, || {
        let mut out: Vec<String> = Vec::new();
        for &id in ids {
            let q = db
                .table(EXPORT_SELECTION_FILE)?
                .restrict(Cond::map([("export_id", id)]))?;
            for r in db.fetch(&q)? {
                if let Some(n) = r.get("analysis_file_name").and_then(Value::as_str) {
                    if !out.iter().any(|x| x == n) {
                        out.push(n.to_string());
                    }
                }
            }
        }
        Ok(out)
    })
}

/// Every table and row count a paper's export holds, after the cascade (Spyglass's
/// `show_all_tables`).
pub fn show_all_tables(db: &Db, paper_id: &str) -> Result<Vec<(FullName, usize)>> {
    let slice = paper::paper_slice(db, paper_id)?;
    Ok(slice
        .tables
        .iter()
        .map(|t| (t.name.clone(), t.keys.len()))
        .collect())
}

/// The files a paper's export holds: session copies, the raw files they link to and
/// analysis files (Spyglass's `list_file_paths`).
pub fn list_file_paths(db: &Db, paper_id: &str) -> Result<Vec<std::path::PathBuf>> {
    let slice = paper::paper_slice(db, paper_id)?;
    Ok(paper::slice_files(db, &slice)?
        .into_iter()
        .map(|f| f.source)
        .collect())
}

/// A logged table name (`` `schema`.`table` ``, as Spyglass writes it) as a table of `db`.
pub fn parse_table_name(db: &Db, name: &str) -> Result<FullName> {
    let bad = || {
        Error::internal(
            EXPORT_SELECTION_TABLE,
            format!("logged table name `{name}` is not `schema`.`table`"),
        )
    };
    let inner = name
        .strip_prefix('`')
        .and_then(|s| s.strip_suffix('`'))
        .ok_or_else(bad)?;
    let (schema, table) = inner.split_once("`.`").ok_or_else(bad)?;
    let full = FullName::new(schema, table);
    db.info(&full).map_err(|_| {
        Error::conflict(
            EXPORT_SELECTION_TABLE,
            format!("logged table {name} is not declared in this database"),
        )
    })?;
    Ok(full)
}
