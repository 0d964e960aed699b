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
//!
//! Races and interruptions: each file is ingested holding an exclusive lock on
//! `raw/.locks/<copy name>.lock` (an OS file lock, released when the process dies;
//! the file is removed on release; processes on other hosts sharing `raw/` over a
//! network file system are serialised only as far as its `flock` is),
//! so two processes ingesting the same file take turns and the second finds it
//! registered. Files are written under a temporary name (`.<name>.part-<pid>`) and
//! linked into place only if absent, so a racing copy never overwrites; an undo
//! removes only the files this call linked. Under the lock, a temporary left by a
//! killed process is removed, an unregistered `_` copy is replaced, and a raw file
//! that is a truncated prefix of the source (an interrupted copy) is replaced.
//! `--reinsert` prepares and checks the new copy first, then deletes the old session
//! through the cautious delete (permission check and `CautiousDelete` row), and
//! links the new copy only after that delete has committed.

pub mod divergence;
pub mod kilosort;
pub mod source;
pub mod steps;
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

/// Longest `_` copy name whose analysis files (`<copy stem><10 random>.nwb`) still
/// fit `AnalysisNwbfile.analysis_file_name` (64 characters).
pub const MAX_COPY_NAME_FOR_ANALYSIS: usize = MAX_NWB_FILE_NAME - 10;

/// Options of [`insert_sessions`].
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Delete an already registered session (and everything downstream) and ingest it again.
    pub reinsert: bool,
    /// Keep the database's values when a shared row (lab member, probe, ...) differs
    /// from the file, with a warning, instead of refusing the file.
    pub accept_divergence: bool,
    /// Who deletes the old session for `reinsert` (the cautious delete's user; on
    /// SQLite default `$SPYGLASS_USER`, `$USER`; on MySQL the account).
    pub user: Option<String>,
    /// A Kilosort / phy output folder sorted from the (one) file's raw series: its
    /// units become the session's units table, hence its ImportedSpikeSorting
    /// ([`kilosort`]).
    pub kilosort: Option<PathBuf>,
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
    steps::declare_tables(db)?;
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
    if opts.kilosort.is_some() && files.len() != 1 {
        return Err(Error::bad(
            "--kilosort",
            format!(
                "a Kilosort folder belongs to one file; {} were given",
                files.len()
            ),
        ));
    }
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

/// Finds the raw file: the path as given, else by its exact `.nwb` name in the raw
/// directory. A directory, or a name that is no `.nwb` file name (`.`, `..`, `/`,
/// `2023`), is an error rather than a guess.
fn resolve_source(settings: &Settings, given: &Path) -> Result<PathBuf> {
    if given.is_dir() {
        return Err(Error::bad(
            given.display().to_string(),
            format!(
                "is a directory; give the .nwb file (a path, or a name in {})",
                settings.raw_dir.display()
            ),
        ));
    }
    if given.is_file() {
        return Ok(given.to_path_buf());
    }
    let name = given
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.ends_with(".nwb") || name == ".nwb" {
        return Err(Error::bad(
            given.display().to_string(),
            format!(
                "no such file, and not an .nwb file name to look up in {}",
                settings.raw_dir.display()
            ),
        ));
    }
    let in_raw = settings.raw_dir.join(&name);
    if in_raw.is_file() {
        return Ok(in_raw);
    }
    Err(Error::bad(
        given.display().to_string(),
        format!("file not found (nor in {})", settings.raw_dir.display()),
    ))
}

/// Refuses raw file names that cannot be stored and read back as a path component:
/// path separators (`/`, `\\`), control characters, leading/trailing spaces.
pub fn check_file_name(raw_name: &str) -> Result<()> {
    let bad = raw_name
        .chars()
        .find(|c| *c == '\\' || *c == '/' || c.is_control());
    if let Some(c) = bad {
        return Err(Error::bad(
            format!("`{}`", raw_name.escape_debug()),
            format!(
                "file names may not contain {} (rename the file)",
                match c {
                    '\\' => "a backslash".to_string(),
                    '/' => "a slash".to_string(),
                    c => format!("the control character {:?}", c),
                }
            ),
        ));
    }
    if raw_name.trim() != raw_name {
        return Err(Error::bad(
            format!("`{raw_name}`"),
            "file names may not start or end with a space (rename the file)",
        ));
    }
    Ok(())
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

/// Files created during one ingestion, removed again if it fails: only files this
/// call itself linked into place are listed.
/// The file's lock is kept here so that it is held until the undo is done.
#[derive(Default)]
struct Created(Vec<PathBuf>, Option<IngestLock>);

impl Created {
    fn undo(&mut self) {
        for p in self.0.drain(..).rev() {
            let _ = std::fs::remove_file(&p);
        }
    }
}

/// A temporary file removed when dropped (unless it was renamed away).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The temporary name under which `name` is written in `dir`.
fn part_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(".{name}.part-{}", std::process::id()))
}

/// Removes temporaries of `name` left in `dir` by killed processes (call holding the
/// file's lock: no live process writes them then).
fn sweep_parts(dir: &Path, name: &str) {
    let prefix = format!(".{name}.part-");
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Links `tmp` to `dst` only when `dst` does not exist (never overwrites); true when linked.
fn link_if_absent(tmp: &Path, dst: &Path) -> Result<bool> {
    match std::fs::hard_link(tmp, dst) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(_) => {
            // no hard links on this file system: create exclusively, then rename over
            // the empty placeholder we own
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(dst)
            {
                Ok(_) => {
                    std::fs::rename(tmp, dst).map_err(|e| Error::io(dst, e))?;
                    Ok(true)
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(Error::io(dst, e)),
            }
        }
    }
}

/// Places a complete copy of `src` at `dst` if `dst` is absent: a hard link when
/// possible, else a copy to a temporary name linked into place. True when placed.
fn place(src: &Path, dst: &Path) -> Result<bool> {
    match std::fs::hard_link(src, dst) {
        Ok(()) => return Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(_) => {}
    }
    let tmp = synced_copy(src, dst)?;
    link_if_absent(&tmp.0, dst)
}

/// A complete, synced copy of `src` at a temporary name next to `dst` (removed
/// when dropped unless renamed).
fn synced_copy(src: &Path, dst: &Path) -> Result<TempFile> {
    let dir = dst.parent().unwrap_or(Path::new("."));
    let name = dst
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = TempFile(part_path(dir, &name));
    std::fs::copy(src, &tmp.0).map_err(|e| Error::io(dst, e))?;
    sync(&tmp.0);
    Ok(tmp)
}

/// Replaces `dst` with a complete copy of `src` (a temporary renamed over it).
fn replace(src: &Path, dst: &Path) -> Result<()> {
    let tmp = synced_copy(src, dst)?;
    std::fs::rename(&tmp.0, dst).map_err(|e| Error::io(dst, e))?;
    Ok(())
}

fn sync(p: &Path) {
    if let Ok(f) = std::fs::File::open(p) {
        let _ = f.sync_all();
    }
}

/// True when `partial` is shorter than `full` and holds exactly its first bytes:
/// what an interrupted copy leaves.
fn is_truncated_copy(partial: &Path, full: &Path) -> Result<bool> {
    use std::io::Read;
    let (mp, mf) = (
        std::fs::metadata(partial).map_err(|e| Error::io(partial, e))?,
        std::fs::metadata(full).map_err(|e| Error::io(full, e))?,
    );
    if mp.len() >= mf.len() {
        return Ok(false);
    }
    let mut a = std::fs::File::open(partial).map_err(|e| Error::io(partial, e))?;
    let mut b = std::fs::File::open(full).map_err(|e| Error::io(full, e))?;
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    let mut left = mp.len();
    while left > 0 {
        let n = (left as usize).min(ba.len());
        a.read_exact(&mut ba[..n])
            .map_err(|e| Error::io(partial, e))?;
        b.read_exact(&mut bb[..n]).map_err(|e| Error::io(full, e))?;
        if ba[..n] != bb[..n] {
            return Ok(false);
        }
        left -= n as u64;
    }
    Ok(true)
}

/// Waits for an exclusive `flock` on `f` (released when the file is closed or the
/// process dies).
#[cfg(unix)]
fn lock_exclusive(f: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    loop {
        // SAFETY: flock on a file descriptor this File owns for its whole lifetime.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

#[cfg(not(unix))]
fn lock_exclusive(_f: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

/// An exclusive lock on one file's ingestion (`raw/.locks/<copy name>.lock`),
/// released when dropped or when the process dies. The lock file is removed on
/// release (a holder re-checks that the path still names the file it locked), so no
/// lock files accumulate; one left by a killed process is taken over and removed.
struct IngestLock {
    file: std::fs::File,
    path: PathBuf,
    dir: PathBuf,
}

impl IngestLock {
    fn acquire(raw_dir: &Path, copy_name: &str) -> Result<IngestLock> {
        let dir = raw_dir.join(".locks");
        let path = dir.join(format!("{copy_name}.lock"));
        for _ in 0..1000 {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            let file = match std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
            {
                Ok(f) => f,
                // the folder was removed by a releasing holder meanwhile: again
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(&path, e)),
            };
            lock_exclusive(&file).map_err(|e| Error::io(&path, e))?;
            // the previous holder may have removed the file before we got the lock
            if same_inode(&file, &path) {
                return Ok(IngestLock { file, path, dir });
            }
        }
        Err(Error::conflict(
            path.display().to_string(),
            "could not take the ingest lock",
        ))
    }
}

impl Drop for IngestLock {
    fn drop(&mut self) {
        // remove while still holding the lock, then release by closing
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_dir(&self.dir); // only when empty
        let _ = &self.file;
    }
}

#[cfg(unix)]
fn same_inode(f: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (f.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_inode(_f: &std::fs::File, path: &Path) -> bool {
    path.exists()
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
    progress.file_started(index, &raw_name, steps::step_count() + 1);
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
    check_file_name(&raw_name)?;
    if !raw_name.ends_with(".nwb") {
        return Err(Error::bad(
            src_path.display().to_string(),
            "not an .nwb file name",
        ));
    }
    let copy_name = copy_file_name(&raw_name);
    report.nwb_file_name = copy_name.clone();
    let len = copy_name.chars().count();
    if len > MAX_COPY_NAME_FOR_ANALYSIS {
        return Err(Error::bad(raw_name, format!(
            "the session name `{copy_name}` has {len} characters; at most {MAX_COPY_NAME_FOR_ANALYSIS} leave room for its analysis files' names (`<name><10 characters>.nwb`, at most {MAX_NWB_FILE_NAME} characters in AnalysisNwbfile.analysis_file_name); rename the file"
        )));
    }
    if raw_name.trim_end_matches(".nwb").ends_with('_') {
        report.warnings.push(format!(
            "{NWBFILE}: `{raw_name}` already ends in `_`; it may itself be a copy"
        ));
    }
    let raw_dir = absolute(&settings.raw_dir);
    std::fs::create_dir_all(&raw_dir).map_err(|e| Error::io(&raw_dir, e))?;
    // one ingestion of this file at a time; whatever temporaries are left are stale
    created.1 = Some(IngestLock::acquire(&raw_dir, &copy_name)?);
    sweep_parts(&raw_dir, &raw_name);
    sweep_parts(&raw_dir, &copy_name);
    let key = Cond::map([("nwb_file_name", copy_name.as_str())]);
    let registered = db.exists(&db.table(NWBFILE)?.restrict(key.clone())?)?;
    if registered && !opts.reinsert {
        report.status = FileStatus::AlreadyPresent;
        report.warnings.push(format!(
            "{NWBFILE}: `{copy_name}` is already registered; nothing to do (use --reinsert to ingest it again)"
        ));
        return Ok(());
    }
    // 1. the raw file under the raw directory
    let raw_path = raw_dir.join(&raw_name);
    if !same_file(&src_path, &raw_path) {
        if !place(&src_path, &raw_path)? {
            if !same_file(&src_path, &raw_path) && !same_contents(&src_path, &raw_path)? {
                if !registered && is_truncated_copy(&raw_path, &src_path)? {
                    // an interrupted copy: replace it with the whole file
                    replace(&src_path, &raw_path)?;
                    report.warnings.push(format!(
                        "{NWBFILE}: replaced an incomplete copy of `{raw_name}` left in {}",
                        raw_dir.display()
                    ));
                } else {
                    return Err(Error::conflict(
                        src_path.display().to_string(),
                        format!(
                            "a different file of that name is already in {}",
                            raw_dir.display()
                        ),
                    ));
                }
            }
        } else {
            created.0.push(raw_path.clone());
        }
        let cfg_src = FileConfig::path_for(&src_path);
        let cfg_dst = FileConfig::path_for(&raw_path);
        if cfg_src.is_file() && !cfg_dst.exists() && place(&cfg_src, &cfg_dst)? {
            created.0.push(cfg_dst);
        }
    }
    let cfg = FileConfig::load_for(db, &raw_path)?;
    // 2. the linked copy, written and read under a temporary name first
    let copy_path = raw_dir.join(&copy_name);
    let tmp = TempFile(part_path(&raw_dir, &copy_name));
    spyglass_nwb::write_linked_copy(&raw_path, &tmp.0)?;
    set_mode(&tmp.0, 0o644);
    let nwb = spyglass_nwb::NwbFile::open(&tmp.0)?;
    let mut src = Source::read(&nwb, cfg.raw_choice().as_deref())?;
    drop(nwb);
    if let Some(folder) = &opts.kilosort {
        let raw = match (&src.units, &src.raw) {
            (Some(_), _) => return Err(Error::conflict(
                raw_path.display().to_string(),
                format!("the file has a units table already; NWB allows one, so the units of Kilosort folder {} cannot be added", folder.display()),
            )),
            (None, None) => return Err(Error::bad(
                raw_path.display().to_string(),
                format!("the file has no raw ElectricalSeries to place the spikes of Kilosort folder {} on", folder.display()),
            )),
            (None, Some(raw)) => raw.series.path.clone(),
        };
        let (id, n) = kilosort::add_units(&tmp.0, &raw, folder)?;
        src.units = Some(id);
        report.warnings.push(format!(
            "units: {} units, {} spikes from Kilosort folder {} placed on {raw}",
            n.units,
            n.spikes,
            folder.display()
        ));
    }
    sync(&tmp.0);
    if registered {
        // the new file is good: now delete the old session (files go after commit)
        crate::cautious_delete::cautious_delete(
            db,
            NWBFILE,
            key.clone(),
            &crate::cautious_delete::CautiousDeleteOptions {
                user: opts.user.clone(),
                ..Default::default()
            },
        )?;
        if db.exists(&db.table(NWBFILE)?.restrict(key.clone())?)? {
            return Err(Error::internal(
                NWBFILE,
                format!("`{copy_name}` is still registered after deleting it"),
            ));
        }
    }
    // no row refers to a `_` copy here (we hold the lock): a leftover is stale
    if copy_path.exists() {
        std::fs::remove_file(&copy_path).map_err(|e| Error::io(&copy_path, e))?;
    }
    if !link_if_absent(&tmp.0, &copy_path)? {
        return Err(Error::conflict(
            copy_path.display().to_string(),
            "another process created this file meanwhile",
        ));
    }
    created.0.push(copy_path.clone());
    drop(tmp);
    // read later (LFP, timestamps) under its final name
    src.path = copy_path.clone();
    forget_stale_external(db, &copy_name)?;
    // 3 and 4. register and fill, all or nothing
    // a file with units enters SpikeSortingOutput too: its merge table is declared
    // here, outside the transaction (MySQL commits on DDL)
    if src.units.is_some() {
        crate::pipelines::declare(db, &[crate::spikesorting::merge::SCHEMA])?;
    }
    let mut cx = steps::Ctx::new(db, &src, &cfg, &copy_name, opts.accept_divergence);
    transaction(db, || {
        steps::common_nwbfile::insert_nwbfile(&mut cx, &copy_path)
            .map_err(|e| e.in_table(NWBFILE))?;
        progress.step_done(NWBFILE, 1);
        for group in steps::GROUPS {
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
    db.forget_external_filepath(crate::common::common_nwbfile::SCHEMA, "raw", copy_name)?;
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
        db.delete_rows(
            INSERT_ERROR,
            Cond::map([
                ("dj_user", Value::from(user.as_str())),
                ("connection_id", Value::from(connection_id())),
                ("nwb_file_name", Value::from(file.as_str())),
            ]),
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
