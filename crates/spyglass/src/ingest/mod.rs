//! Session ingestion, the equivalent of Spyglass's `insert_sessions`: for each
//! file, (1) place the raw file under the raw directory, (2) write its `_` copy
//! whose bulk data are external links into the raw file, (3) register the copy in
//! `Nwbfile` (size and checksum in `~external_raw`), (4) fill every common table
//! from the file in dependency order, one transaction per group (G1–G4), all
//! inside one transaction per file. A failure anywhere rolls the whole file back,
//! removes the files this call created and records an `InsertError` row naming
//! the table at fault; a file already registered is skipped with a message.
//! `entries.yaml` pre-populates lookup tables first; `<stem>_spyglass_config.yaml`
//! next to a raw file overrides and supplements what the file says ([`yaml`]).

pub mod source;
pub mod tables;
pub mod yaml;

use crate::common::common_nwbfile::NWBFILE;
use crate::common::common_usage::INSERT_ERROR;
use crate::common::declare_common;
use crate::error::{Error, Result};
use crate::settings::{absolute, Settings};
use crate::transaction;
use source::Source;
use spyglass_db::{Cond, Db, InsertOptions, Row, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use yaml::{FileConfig, YamlTables};

/// Longest `nwb_file_name` the `Nwbfile` table holds.
pub const MAX_NWB_FILE_NAME: usize = 64;

/// Options of [`insert_sessions`].
#[derive(Debug, Clone, Copy, Default)]
pub struct IngestOptions {
    /// Delete an already registered session (and everything downstream) and ingest it again.
    pub reinsert: bool,
    /// Keep the database's values when a shared row (lab member, probe, ...) differs
    /// from the file, with a warning, instead of refusing the file.
    pub accept_divergence: bool,
}

/// How one file's ingestion ended.
#[derive(Debug, Clone, PartialEq)]
pub enum FileStatus {
    /// All tables were filled.
    Inserted,
    /// The copy was already in `Nwbfile`; nothing was done.
    AlreadyPresent,
    /// Nothing was inserted; an `InsertError` row records why.
    Failed {
        /// The table at fault, when known.
        table: Option<String>,
        /// The error.
        message: String,
    },
}

/// The outcome of ingesting one file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileReport {
    /// The file as given.
    pub source: PathBuf,
    /// The session's `nwb_file_name` (the copy's name, `<stem>_.nwb`).
    pub nwb_file_name: String,
    /// How it ended.
    pub status: FileStatus,
    /// Rows inserted per table, in insertion order.
    pub rows: Vec<(String, u64)>,
    /// Things the file lacked or that were adjusted, each naming its table.
    pub warnings: Vec<String>,
    /// Wall time spent on the file.
    pub elapsed: Duration,
}

impl FileReport {
    /// Total rows inserted.
    pub fn rows_inserted(&self) -> u64 {
        self.rows.iter().map(|(_, n)| n).sum()
    }

    /// Rows inserted into one table (`schema.Class`).
    pub fn rows_in(&self, table: &str) -> u64 {
        self.rows
            .iter()
            .filter(|(t, _)| t == table)
            .map(|(_, n)| n)
            .sum()
    }

    /// True unless the file failed.
    pub fn is_ok(&self) -> bool {
        !matches!(self.status, FileStatus::Failed { .. })
    }
}

/// Progress callbacks of ingestion (the CLI draws bars from them).
pub trait IngestProgress {
    /// Ingestion of `n` files starts.
    fn start(&self, _n_files: usize) {}
    /// File `index` starts; it will report `steps` table steps.
    fn file_started(&self, _index: usize, _name: &str, _steps: usize) {}
    /// A table step finished with `rows` rows.
    fn step_done(&self, _table: &str, _rows: u64) {}
    /// A file finished.
    fn file_finished(&self, _report: &FileReport) {}
}

/// Progress that reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl IngestProgress for NoProgress {}

/// Declares the common tables, configures the stores, creates the directories and
/// loads `entries.yaml`; call once before working with a database.
pub fn prepare(db: &Db, settings: &Settings) -> Result<yaml::PrepopulateReport> {
    settings.ensure_dirs()?;
    settings.configure_stores(db);
    declare_common(db)?;
    tables::declare_tables(db)?;
    let entries = YamlTables::load(&settings.entries_yaml())?;
    if entries.is_empty() {
        return Ok(yaml::PrepopulateReport::default());
    }
    yaml::prepopulate(db, &entries)
}

/// Ingests each file (see the module doc); per-file failures are reported, not returned.
pub fn insert_sessions(
    db: &Db,
    settings: &Settings,
    files: &[PathBuf],
    opts: &IngestOptions,
    progress: &dyn IngestProgress,
) -> Result<Vec<FileReport>> {
    prepare(db, settings)?;
    progress.start(files.len());
    let mut out = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let report = insert_one(db, settings, f, i, opts, progress);
        progress.file_finished(&report);
        out.push(report);
    }
    Ok(out)
}

/// `x.nwb` → `x_.nwb`, the name of the copy Spyglass registers.
pub fn copy_file_name(raw_name: &str) -> String {
    let p = Path::new(raw_name);
    let stem = p
        .file_stem()
        .map(|s| s.to_string_lossy())
        .unwrap_or_default();
    let ext = p
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    format!("{stem}_{ext}")
}

/// Finds the raw file: the path as given, else by name in the raw directory, else
/// the one file of the raw directory whose name contains it.
fn resolve_source(settings: &Settings, given: &Path) -> Result<PathBuf> {
    if given.is_file() {
        return Ok(given.to_path_buf());
    }
    let name = given
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let in_raw = settings.raw_dir.join(&name);
    if in_raw.is_file() {
        return Ok(in_raw);
    }
    let mut matches = vec![];
    if let Ok(rd) = std::fs::read_dir(&settings.raw_dir) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.contains(&name) && n.ends_with(".nwb") && !n.ends_with("_.nwb") {
                matches.push(e.path());
            }
        }
    }
    match matches.len() {
        1 => Ok(matches.remove(0)),
        n => Err(Error::Invalid(format!(
            "{}: file not found (and {n} files in {} match the name)",
            given.display(),
            settings.raw_dir.display()
        ))),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn same_contents(a: &Path, b: &Path) -> Result<bool> {
    let (ma, mb) = (
        std::fs::metadata(a).map_err(|e| Error::io(a, e))?,
        std::fs::metadata(b).map_err(|e| Error::io(b, e))?,
    );
    if ma.len() != mb.len() {
        return Ok(false);
    }
    Ok(spyglass_db::stores::file_md5_uuid(a)? == spyglass_db::stores::file_md5_uuid(b)?)
}

/// Files created during one ingestion, removed again if it fails.
#[derive(Default)]
struct Created(Vec<PathBuf>);

impl Created {
    fn undo(&mut self) {
        for p in self.0.drain(..).rev() {
            let _ = std::fs::remove_file(&p);
        }
    }
}

/// Copies `src` to `dst` (a hard link when possible).
fn place(src: &Path, dst: &Path) -> Result<()> {
    if std::fs::hard_link(src, dst).is_ok() {
        return Ok(());
    }
    std::fs::copy(src, dst).map_err(|e| Error::io(dst, e))?;
    Ok(())
}

fn insert_one(
    db: &Db,
    settings: &Settings,
    given: &Path,
    index: usize,
    opts: &IngestOptions,
    progress: &dyn IngestProgress,
) -> FileReport {
    let t0 = Instant::now();
    let raw_name = given
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut report = FileReport {
        source: given.to_path_buf(),
        nwb_file_name: copy_file_name(&raw_name),
        status: FileStatus::Inserted,
        rows: vec![],
        warnings: vec![],
        elapsed: Duration::ZERO,
    };
    progress.file_started(index, &raw_name, tables::step_count() + 1);
    let mut created = Created::default();
    match ingest_file(
        db,
        settings,
        given,
        opts,
        progress,
        &mut report,
        &mut created,
    ) {
        Ok(()) => {}
        Err(e) => {
            created.undo();
            let table = e.table().map(str::to_string);
            let message = e.to_string();
            if let Err(log_err) = record_error(db, &report.nwb_file_name, &e) {
                report.warnings.push(format!(
                    "{INSERT_ERROR}: could not record the error: {log_err}"
                ));
            }
            report.rows.clear();
            report.status = FileStatus::Failed { table, message };
        }
    }
    report.elapsed = t0.elapsed();
    report
}

fn ingest_file(
    db: &Db,
    settings: &Settings,
    given: &Path,
    opts: &IngestOptions,
    progress: &dyn IngestProgress,
    report: &mut FileReport,
    created: &mut Created,
) -> Result<()> {
    let src_path = resolve_source(settings, given)?;
    let raw_name = src_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !raw_name.ends_with(".nwb") {
        return Err(Error::Invalid(format!(
            "{}: not an .nwb file name",
            src_path.display()
        )));
    }
    let copy_name = copy_file_name(&raw_name);
    report.nwb_file_name = copy_name.clone();
    if copy_name.chars().count() > MAX_NWB_FILE_NAME {
        return Err(Error::Invalid(format!(
            "{raw_name}: the copy name `{copy_name}` is longer than {MAX_NWB_FILE_NAME} characters ({NWBFILE}.nwb_file_name)"
        )));
    }
    if raw_name.trim_end_matches(".nwb").ends_with('_') {
        report.warnings.push(format!(
            "{NWBFILE}: `{raw_name}` already ends in `_`; it may itself be a copy"
        ));
    }
    let key = Cond::map([("nwb_file_name", copy_name.as_str())]);
    if db.exists(&db.table(NWBFILE)?.restrict(key.clone())?)? {
        if !opts.reinsert {
            report.status = FileStatus::AlreadyPresent;
            report.warnings.push(format!(
                "{NWBFILE}: `{copy_name}` is already registered; nothing to do (use --reinsert to ingest it again)"
            ));
            return Ok(());
        }
        db.delete(NWBFILE, key, Default::default())?;
    }
    // 1. the raw file under the raw directory
    let raw_dir = absolute(&settings.raw_dir);
    let raw_path = raw_dir.join(&raw_name);
    if !same_file(&src_path, &raw_path) {
        if raw_path.exists() {
            if !same_contents(&src_path, &raw_path)? {
                return Err(Error::Invalid(format!(
                    "{}: a different file of that name is already in {}",
                    src_path.display(),
                    raw_dir.display()
                )));
            }
        } else {
            place(&src_path, &raw_path)?;
            created.0.push(raw_path.clone());
        }
        let cfg_src = FileConfig::path_for(&src_path);
        let cfg_dst = FileConfig::path_for(&raw_path);
        if cfg_src.is_file() && !cfg_dst.exists() {
            std::fs::copy(&cfg_src, &cfg_dst).map_err(|e| Error::io(&cfg_dst, e))?;
            created.0.push(cfg_dst);
        }
    }
    let cfg = FileConfig::load_for(db, &raw_path)?;
    // 2. the linked copy
    let copy_path = raw_dir.join(&copy_name);
    if copy_path.exists() {
        std::fs::remove_file(&copy_path).map_err(|e| Error::io(&copy_path, e))?;
    }
    created.0.push(copy_path.clone());
    spyglass_nwb::write_linked_copy(&raw_path, &copy_path)?;
    set_mode(&copy_path, 0o644);
    let nwb = spyglass_nwb::NwbFile::open(&copy_path)?;
    let src = Source::read(&nwb, cfg.raw_choice().as_deref())?;
    drop(nwb);
    forget_stale_external(db, &copy_name)?;
    // 3 and 4. register and fill, all or nothing
    let mut cx = tables::Ctx::new(db, &src, &cfg, &copy_name, opts.accept_divergence);
    transaction(db, || {
        tables::insert_nwbfile(&mut cx, &copy_path).map_err(|e| e.in_table(NWBFILE))?;
        progress.step_done(NWBFILE, 1);
        for group in tables::GROUPS {
            transaction(db, || {
                for (table, step) in group {
                    let before: u64 = cx.counts.values().sum();
                    step(&mut cx).map_err(|e| e.in_table(table))?;
                    let after: u64 = cx.counts.values().sum();
                    progress.step_done(table, after - before);
                }
                Ok(())
            })?;
        }
        Ok(())
    })?;
    report.rows = cx.counts.into_iter().collect();
    report.warnings.extend(cx.warnings);
    Ok(())
}

/// Drops a leftover `~external_raw` entry for the copy's path (left by a deleted
/// session), so that the new copy can be registered with its own checksum.
fn forget_stale_external(db: &Db, copy_name: &str) -> Result<()> {
    let ext = db.external_table(crate::common::common_nwbfile::SCHEMA, "raw");
    if db.info(&ext).is_err() {
        return Ok(());
    }
    db.execute(
        &format!(
            "DELETE FROM {} WHERE {}=?",
            db.dialect().table(&ext),
            db.dialect().ident("filepath")
        ),
        &[spyglass_db::SqlValue::Text(copy_name.to_string())],
    )?;
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) {}

/// This process's stand-in for MySQL's `CONNECTION_ID()`.
fn connection_id() -> i64 {
    i64::from(std::process::id())
}

fn db_user(db: &Db) -> String {
    let u = db.user().unwrap_or_default();
    u.chars().take(64).collect()
}

/// Records a failed ingestion in `InsertError` (earlier rows of the same user,
/// connection and file are replaced, as Spyglass clears stale errors).
pub fn record_error(db: &Db, nwb_file_name: &str, e: &Error) -> Result<()> {
    let user = db_user(db);
    let file: String = nwb_file_name.chars().take(64).collect();
    let table = e.table().unwrap_or("").chars().take(64).collect::<String>();
    let message: String = e.to_string().chars().take(255).collect();
    transaction(db, || {
        crate::delete_leaf_rows(
            db,
            INSERT_ERROR,
            &[
                ("dj_user", Value::from(user.as_str())),
                ("connection_id", Value::from(connection_id())),
                ("nwb_file_name", Value::from(file.as_str())),
            ],
        )?;
        db.insert1(
            INSERT_ERROR,
            Row::from_pairs([
                ("dj_user", Value::from(user.as_str())),
                ("connection_id", Value::from(connection_id())),
                ("nwb_file_name", Value::from(file.as_str())),
                ("table", Value::from(table.as_str())),
                ("error_type", Value::from(e.kind())),
                ("error_message", Value::from(message.as_str())),
                (
                    "error_raw",
                    Value::from(spyglass_blob::Value::from(e.to_string().as_str())),
                ),
            ]),
            InsertOptions::default(),
        )?;
        Ok(())
    })
}
