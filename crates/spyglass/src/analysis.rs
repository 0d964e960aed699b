//! Analysis NWB files, as Spyglass's `AnalysisNwbfile` manages them: [`AnalysisFile::create`]
//! makes `analysis/<stem>/<stem>_<10 random A-Z0-9>.nwb` from a session's `_` copy
//! (metadata, devices, electrodes and intervals only), objects are added through its
//! [`AnalysisFileWriter`] — the file is written under a partial name
//! (`.<name>~<host>~<pid>.part`, [`partial_name`]) and renamed to its name without
//! overwriting when finished, or, for a file written in a make's compute phase
//! ([`PendingFile`]), when it is registered, so that a process killed half way leaves
//! a partial file (removed by the next writer in that folder, by [`cleanup`], and
//! listed apart by `check`), never an unmarked file named as an analysis file: from
//! the rename until its row is committed the file has a pending marker
//! (`.<name>~<host>~<pid>.pending`, [`pending_marker_name`]), so that a process
//! killed between the two leaves a file `check` lists with the partial files and
//! `cleanup` removes — [`register`]
//! inserts the row (size and MD5 go to `~external_analysis`; the file is immutable
//! from then on and its checksum is verified whenever its path is fetched) and
//! records the table in Spyglass 0.6's `AnalysisRegistry`, and
//! [`cleanup`] removes rows no table refers to, their files, files nothing tracks,
//! and `_` copies of deleted sessions.

use crate::common::common_nwbfile::{ANALYSIS_NWBFILE, ANALYSIS_REGISTRY, NWBFILE, SCHEMA};
use crate::error::{Error, Result};
use crate::settings::{absolute, Settings};
use rand::Rng;
use spyglass_db::references::Referrers;
use spyglass_db::stores::FileHashAhead;
use spyglass_db::{Cond, Db, FetchSpec, InsertOptions, Row, Value};
use spyglass_nwb::AnalysisFileWriter;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Characters of the random part of an analysis file name.
const NAME_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn fetch_path(db: &Db, table: &str, key: &str, name: &str, attr: &str) -> Result<PathBuf> {
    let q = db.table(table)?.restrict(Cond::map([(key, name)]))?;
    let rows = db.fetch_with(&q, &FetchSpec::attrs(&[attr]))?;
    let row = rows
        .first()
        .ok_or_else(|| Error::missing(table, format!("{key} = `{name}`")))?;
    row.get(attr)
        .and_then(Value::as_str)
        .map(PathBuf::from)
        .ok_or_else(|| Error::internal(table, format!("`{attr}` of `{name}` is not a path")))
}

/// Absolute path of a session's `_` copy (its size and checksum are verified).
pub fn nwb_file_path(db: &Db, nwb_file_name: &str) -> Result<PathBuf> {
    fetch_path(
        db,
        NWBFILE,
        "nwb_file_name",
        nwb_file_name,
        "nwb_file_abs_path",
    )
}

/// Absolute path of a registered analysis file (its size and checksum are verified).
pub fn analysis_file_path(db: &Db, analysis_file_name: &str) -> Result<PathBuf> {
    fetch_path(
        db,
        ANALYSIS_NWBFILE,
        "analysis_file_name",
        analysis_file_name,
        "analysis_file_abs_path",
    )
}

/// The directory of an analysis file: its name up to the last `_`.
pub fn analysis_dir_name(analysis_file_name: &str) -> &str {
    match analysis_file_name.rfind('_') {
        Some(i) => &analysis_file_name[..i],
        None => analysis_file_name.trim_end_matches(".nwb"),
    }
}

/// The partial name a file `name` is written under by this process:
/// `.<name>~<host>~<pid>.part`, in the same folder.
pub fn partial_name(name: &str) -> String {
    format!(
        ".{name}~{}~{}.part",
        spyglass_db::config::hostname(),
        std::process::id()
    )
}

/// The marker `.<name>~<host>~<pid>.pending` a file `name` has from the moment this
/// process publishes it (renames it to its name) until its AnalysisNwbfile row is
/// committed: a published file with a marker whose writer is gone was never
/// registered (the writer was killed in between), and is removed by `cleanup`.
pub fn pending_marker_name(name: &str) -> String {
    format!(
        ".{name}~{}~{}.pending",
        spyglass_db::config::hostname(),
        std::process::id()
    )
}

/// Whether `path` is a partial file ([`partial_name`]) or a pending marker
/// ([`pending_marker_name`]) whose writer is gone: written on this host by a process
/// that no longer runs. Those of other hosts, or of running processes, are not.
pub fn is_stale_partial(path: &Path) -> bool {
    let Some(file) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let Some(inner) = file.strip_prefix('.').and_then(|f| {
        f.strip_suffix(".part")
            .or_else(|| f.strip_suffix(".pending"))
    }) else {
        return false;
    };
    let mut parts = inner.rsplitn(3, '~');
    let (Some(pid), Some(host), Some(_name)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<i64>() else {
        return false;
    };
    host == spyglass_db::config::hostname() && !spyglass_db::jobs::process_alive(pid)
}

/// Free bytes for an unprivileged writer on the filesystem of `dir` (`None` when
/// that cannot be told).
#[cfg(unix)]
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a NUL-terminated path and `st` is written by statvfs on success
    let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it filled `st`
    let st = unsafe { st.assume_init() };
    // the field types differ between platforms (u64 here, u32 on some)
    #[allow(clippy::unnecessary_cast)]
    let (blocks, size) = (st.f_bavail as u64, st.f_frsize as u64);
    Some(blocks.saturating_mul(size))
}

#[cfg(not(unix))]
fn free_bytes(_dir: &Path) -> Option<u64> {
    None
}

/// A write into the analysis folder that failed because its disk is full, said so:
/// the error names the folder and says "No space left on device" (HDF5 reports it as
/// a failed write or close deep in its own message); any other error is returned as
/// it is. The caller has removed what it wrote.
pub fn explain_full_disk(settings: &Settings, e: Error) -> Error {
    let dir = absolute(&settings.analysis_dir);
    let text = e.to_string();
    let said = text.contains("No space left on device") || text.contains("errno = 28");
    // less than a page free: the write failed for want of space
    let full = free_bytes(&dir).is_some_and(|b| b < 64 * 1024);
    if said || full {
        Error::bad(
            dir.display().to_string(),
            format!(
                "No space left on device: the analysis folder is full; nothing was kept, free space and run again ({text})"
            ),
        )
    } else {
        e
    }
}

/// Whether `path` is named as a partial file ([`partial_name`]) or a pending marker
/// ([`pending_marker_name`]), stale or not.
pub fn is_partial(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|f| {
        f.starts_with('.') && (f.ends_with(".part") || f.ends_with(".pending")) && f.contains('~')
    })
}

/// The file a pending marker ([`pending_marker_name`]) stands for, in its folder.
pub fn pending_file_of(marker: &Path) -> Option<PathBuf> {
    let file = marker.file_name()?.to_str()?;
    let inner = file.strip_prefix('.')?.strip_suffix(".pending")?;
    let name = inner.rsplitn(3, '~').nth(2)?;
    Some(marker.with_file_name(name))
}

/// Whether the file at `path` has a pending marker ([`pending_marker_name`]): `None`
/// without one, `Some(true)` when its writer is gone (published, never registered
/// unless its row says otherwise), `Some(false)` while its writer runs.
pub fn pending_state(path: &Path) -> Option<bool> {
    let name = path.file_name()?.to_str()?;
    let prefix = format!(".{name}~");
    let rd = std::fs::read_dir(path.parent()?).ok()?;
    let mut state = None;
    for e in rd.flatten() {
        let p = e.path();
        let is_marker = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".pending"));
        if is_marker {
            let stale = is_stale_partial(&p);
            state = Some(state.unwrap_or(true) && stale);
        }
    }
    state
}

/// Removes the stale partial files ([`is_stale_partial`]) of one folder (not the
/// pending markers: whether their file was registered takes the database).
fn remove_stale_partials(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "part") && is_stale_partial(&p) {
            let _ = std::fs::remove_file(&p);
        }
    }
}

/// The pending marker of the file at `path`, written by this process.
fn pending_marker(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(pending_marker_name(&name))
}

/// Renames a finished partial file to its name, refusing to overwrite a file there;
/// its pending marker is written first and removed once its row is committed
/// ([`register`]).
fn publish(partial: &Path, path: &Path) -> Result<()> {
    let marker = pending_marker(path);
    std::fs::File::create(&marker).map_err(|e| Error::io(&marker, e))?;
    if let Err(e) = std::fs::hard_link(partial, path) {
        let _ = std::fs::remove_file(&marker);
        return Err(Error::io(path, e));
    }
    let _ = std::fs::remove_file(partial);
    Ok(())
}

/// Removes a published file that will not be registered, and its marker.
fn unpublish(path: &Path) {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(pending_marker(path));
}

/// An analysis file being written.
pub struct AnalysisFile {
    /// File name (the `analysis_file_name`).
    pub name: String,
    /// The parent session.
    pub nwb_file_name: String,
    /// Absolute path, once finished (it is written at [`partial_name`] in the same folder).
    pub path: PathBuf,
    partial: PathBuf,
    /// Left under its partial name by [`AnalysisFile::finish`]: its [`PendingFile`]
    /// renames it when registering it.
    detached: bool,
    writer: AnalysisFileWriter,
}

impl std::fmt::Debug for AnalysisFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnalysisFile")
            .field("name", &self.name)
            .field("path", &self.path)
            .finish()
    }
}

impl AnalysisFile {
    /// Creates a new analysis file from the `_` copy of `nwb_file_name`.
    pub fn create(db: &Db, settings: &Settings, nwb_file_name: &str) -> Result<AnalysisFile> {
        let parent = nwb_file_path(db, nwb_file_name)?;
        Self::create_named(
            settings,
            nwb_file_name,
            &parent,
            &|name| {
                Ok(db.exists(
                    &db.table(ANALYSIS_NWBFILE)?
                        .restrict(Cond::map([("analysis_file_name", name)]))?,
                )?)
            },
            false,
        )
    }

    /// Creates a new analysis file from the `_` copy at `parent` without touching the
    /// database, for the compute phase of a tripartite make: it stays under its
    /// partial name until its [`PendingFile`] registers it ([`register`] refuses it
    /// should the name exist by then).
    pub fn create_detached(
        settings: &Settings,
        nwb_file_name: &str,
        parent: &Path,
    ) -> Result<AnalysisFile> {
        Self::create_named(settings, nwb_file_name, parent, &|_| Ok(false), true)
    }

    /// Picks a random name `taken` does not refuse and no file has, and writes the
    /// file from `parent` under its partial name (the folder's stale partial files
    /// are removed first).
    fn create_named(
        settings: &Settings,
        nwb_file_name: &str,
        parent: &Path,
        taken: &dyn Fn(&str) -> Result<bool>,
        detached: bool,
    ) -> Result<AnalysisFile> {
        let stem = Path::new(nwb_file_name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let base = absolute(&settings.analysis_dir);
        let mut rng = rand::rng();
        for _ in 0..100 {
            let suffix: String = (0..10)
                .map(|_| NAME_CHARS[rng.random_range(0..NAME_CHARS.len())] as char)
                .collect();
            let name = format!("{stem}{suffix}.nwb");
            let dir = base.join(analysis_dir_name(&name));
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            remove_stale_partials(&dir);
            let path = dir.join(&name);
            if path.exists() || taken(&name)? {
                continue;
            }
            let partial = dir.join(partial_name(&name));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&partial)
            {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(&partial, e)),
            }
            let writer = match AnalysisFileWriter::create_from_parent(parent, &partial) {
                Ok(w) => w,
                Err(e) => {
                    let _ = std::fs::remove_file(&partial);
                    return Err(e.into());
                }
            };
            return Ok(AnalysisFile {
                name,
                nwb_file_name: nwb_file_name.to_string(),
                path,
                partial,
                detached,
                writer,
            });
        }
        Err(Error::conflict(
            ANALYSIS_NWBFILE,
            format!("no free analysis file name for {nwb_file_name} after 100 tries"),
        ))
    }

    /// The writer, to add objects.
    pub fn writer(&mut self) -> &mut AnalysisFileWriter {
        &mut self.writer
    }

    /// Closes the file and renames it to its name (a detached file keeps its partial
    /// name until its [`PendingFile`] registers it); returns (name, path).
    pub fn finish(self) -> Result<(String, PathBuf)> {
        let partial = self.writer.finish()?;
        set_mode(&partial, 0o644);
        if !self.detached {
            if let Err(e) = publish(&partial, &self.path) {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
        }
        Ok((self.name, self.path))
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) {}

/// Removes the stale pending markers of folder `dir` ([`pending_marker_name`]) and
/// the published files of theirs that no AnalysisNwbfile row registers (their writer
/// was killed between publishing and committing).
fn sweep_stale_pending(db: &Db, dir: &Path) -> Result<()> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in rd.flatten() {
        let marker = e.path();
        if marker.extension().is_none_or(|x| x != "pending") || !is_stale_partial(&marker) {
            continue;
        }
        if let Some(file) = pending_file_of(&marker) {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let q = db
                .table(ANALYSIS_NWBFILE)?
                .restrict(Cond::map([("analysis_file_name", name.as_str())]))?;
            if !db.exists(&q)? {
                let _ = std::fs::remove_file(&file);
            }
        }
        let _ = std::fs::remove_file(&marker);
    }
    Ok(())
}

/// Registers a finished analysis file (size and checksum recorded; the checksum taken
/// from `ahead` when it was computed while the make went on, waited for last, before
/// the insert that needs it); the folder's files published by killed writers and never
/// registered are removed first.
pub fn register(
    db: &Db,
    nwb_file_name: &str,
    analysis_file_name: &str,
    path: &Path,
    description: &str,
    parameters: Option<spyglass_blob::Value>,
    ahead: Option<FileHashAhead>,
) -> Result<()> {
    if let Some(dir) = path.parent() {
        sweep_stale_pending(db, dir)?;
    }
    register_table(db)?;
    let mut pairs = vec![
        ("analysis_file_name", Value::from(analysis_file_name)),
        ("nwb_file_name", Value::from(nwb_file_name)),
        (
            "analysis_file_abs_path",
            Value::from(absolute(path).display().to_string()),
        ),
        ("analysis_file_description", Value::from(description)),
    ];
    if let Some(p) = parameters {
        pairs.push(("analysis_parameters", Value::from(p)));
    }
    if let Some(ahead) = ahead {
        db.adopt_file_hash(ahead, &absolute(path));
    }
    db.insert1(
        ANALYSIS_NWBFILE,
        Row::from_pairs(pairs),
        InsertOptions::default(),
    )?;
    let marker = pending_marker(path);
    db.after_commit(move || {
        let _ = std::fs::remove_file(marker);
    });
    Ok(())
}

/// Records the analysis table in Spyglass 0.6's `AnalysisRegistry` (once), as
/// Spyglass does when an analysis table is used: `full_table_name` is DataJoint's
/// `` `schema`.`table` ``, `created_by` the database user.
fn register_table(db: &Db) -> Result<()> {
    let Ok(registry) = db.table_info(ANALYSIS_REGISTRY) else {
        // a database declared before AnalysisRegistry existed
        return Ok(());
    };
    let table = db.table_info(ANALYSIS_NWBFILE)?;
    let full = format!("`{}`.`{}`", table.name.schema, table.name.table);
    let q = spyglass_db::Query::table(&registry)
        .restrict(Cond::map([("full_table_name", full.as_str())]))?;
    if db.exists(&q)? {
        return Ok(());
    }
    let user = db.user()?;
    let user: String = user
        .split('@')
        .next()
        .unwrap_or_default()
        .chars()
        .take(32)
        .collect();
    db.insert_into(
        &registry,
        &[Row::from_pairs([
            ("full_table_name", Value::from(full)),
            ("created_by", Value::from(user)),
        ])],
        InsertOptions {
            skip_duplicates: true,
            ..Default::default()
        },
    )?;
    Ok(())
}

/// An analysis file written outside any transaction (under its partial name),
/// renamed and registered by [`PendingFile::register`], removed again unless registered.
#[derive(Debug)]
pub struct PendingFile {
    /// Analysis file name.
    pub name: String,
    /// Its path, once registered.
    pub path: PathBuf,
    partial: PathBuf,
    published: bool,
    /// The session.
    pub nwb_file_name: String,
    /// `analysis_file_description`.
    pub description: String,
    registered: bool,
    /// Its checksum, being computed since the file was finished.
    hash_ahead: Option<FileHashAhead>,
}

impl PendingFile {
    /// The pending registration of `file` (removed on drop unless registered).
    pub fn new(file: &AnalysisFile, description: &str) -> PendingFile {
        PendingFile {
            name: file.name.clone(),
            path: file.path.clone(),
            partial: file.partial.clone(),
            published: !file.detached,
            nwb_file_name: file.nwb_file_name.clone(),
            description: description.to_string(),
            registered: false,
            hash_ahead: None,
        }
    }

    /// Starts computing the finished file's checksum on its own thread, so that
    /// [`PendingFile::register`] finds it ready.
    pub fn hash_ahead(&mut self) {
        self.hash_ahead = Some(FileHashAhead::start(self.written_path()));
    }

    /// Where the file is now: its partial name until registered (or published).
    pub fn written_path(&self) -> &Path {
        if self.published {
            &self.path
        } else {
            &self.partial
        }
    }

    /// Renames the finished file to its name and registers it in AnalysisNwbfile;
    /// from then on it is kept (a rename refused, e.g. the name taken meanwhile, is
    /// an error).
    pub fn register(mut self, db: &Db) -> Result<String> {
        if !self.published {
            publish(&self.partial, &self.path)?;
            self.published = true;
        }
        register(
            db,
            &self.nwb_file_name,
            &self.name,
            &self.path,
            &self.description,
            None,
            self.hash_ahead.take(),
        )?;
        self.registered = true;
        Ok(self.name.clone())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.registered {
            let _ = std::fs::remove_file(&self.partial);
            if self.published {
                unpublish(&self.path);
            }
        }
    }
}

/// Create → fill (`fill` adds objects and returns what the caller needs, e.g. object
/// ids) → register, as Spyglass's `build()`. The file is removed if anything fails.
pub fn build<T>(
    db: &Db,
    settings: &Settings,
    nwb_file_name: &str,
    description: &str,
    fill: impl FnOnce(&mut AnalysisFileWriter) -> Result<T>,
) -> Result<(String, T)> {
    let mut f = AnalysisFile::create(db, settings, nwb_file_name)
        .map_err(|e| explain_full_disk(settings, e))?;
    let path = f.path.clone();
    let partial = f.partial.clone();
    let out = (|| {
        let v = fill(f.writer())?;
        let (name, path) = f.finish()?;
        register(db, nwb_file_name, &name, &path, description, None, None)?;
        Ok((name, v))
    })();
    if out.is_err() {
        let _ = std::fs::remove_file(&partial);
        unpublish(&path);
    }
    out.map_err(|e| explain_full_disk(settings, e))
}

/// Options of [`cleanup`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CleanupOptions {
    /// Only report what would be removed.
    pub dry_run: bool,
    /// Untracked analysis files younger than this are left alone (they may be being written).
    pub min_age: Duration,
}

/// What [`cleanup`] removed (or would remove).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CleanupReport {
    /// `AnalysisNwbfile` rows no table refers to.
    pub analysis_rows: Vec<String>,
    /// Registered analysis files whose rows went away.
    pub analysis_files: Vec<PathBuf>,
    /// Files in the analysis directory no row tracks.
    pub untracked_files: Vec<PathBuf>,
    /// `_` copies of sessions no longer in `Nwbfile`.
    pub raw_copies: Vec<PathBuf>,
    /// True when nothing was removed.
    pub dry_run: bool,
}

/// `AnalysisNwbfile` names that no child table refers to.
pub fn unreferenced_analysis_files(db: &Db) -> Result<Vec<String>> {
    let files = db.table_info(ANALYSIS_NWBFILE)?;
    db.unreferenced_keys(&files.name, Referrers::Children)?
        .iter()
        .map(|key| {
            key.get("analysis_file_name")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| Error::internal(ANALYSIS_NWBFILE, "a key without its file name"))
        })
        .collect()
}

fn walk_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn remove_empty_dirs(dir: &Path, keep: &Path) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.path().is_dir() {
                remove_empty_dirs(&e.path(), keep);
            }
        }
    }
    if dir != keep {
        let _ = std::fs::remove_dir(dir); // fails unless empty
    }
}

/// The directory of one of the database's own stores (`raw`, `analysis`): the
/// store's location when configured (a bundle's own folders), else the settings'.
fn own_store_dir(db: &Db, store: &str, fallback: &Path) -> PathBuf {
    db.store(store)
        .map(|s| absolute(&s.location))
        .unwrap_or_else(|_| absolute(fallback))
}

/// Removes analysis rows nothing refers to, their files, untracked analysis files
/// and `_` copies of deleted sessions (original raw files are never touched). Only
/// files under the database's own stores are considered (a bundle's database never
/// touches the lab's base dir).
pub fn cleanup(db: &Db, settings: &Settings, opts: &CleanupOptions) -> Result<CleanupReport> {
    let analysis_dir = own_store_dir(db, "analysis", &settings.analysis_dir);
    let raw_dir = own_store_dir(db, "raw", &settings.raw_dir);
    let mut report = CleanupReport {
        dry_run: opts.dry_run,
        ..Default::default()
    };
    // a bundle may hold no AnalysisNwbfile table at all: then no row to remove
    if db.table_info(ANALYSIS_NWBFILE).is_ok() {
        report.analysis_rows = unreferenced_analysis_files(db)?;
    }
    if opts.dry_run {
        // files of the rows that would go, plus files already unreferenced
        let mut rels: Vec<String> = report
            .analysis_rows
            .iter()
            .map(|n| format!("{}/{n}", analysis_dir_name(n)))
            .collect();
        rels.extend(db.external_unused(SCHEMA, "analysis", false)?);
        rels.sort();
        rels.dedup();
        report.analysis_files = rels.iter().map(|r| analysis_dir.join(r)).collect();
    } else {
        // nothing refers to these rows, so no cascade is needed
        crate::transaction(db, || {
            for n in &report.analysis_rows {
                db.delete_rows(
                    ANALYSIS_NWBFILE,
                    Cond::map([("analysis_file_name", n.as_str())]),
                )?;
            }
            Ok(())
        })?;
        for rel in db.external_unused(SCHEMA, "analysis", true)? {
            let p = analysis_dir.join(&rel);
            if p.exists() {
                std::fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
            }
            report.analysis_files.push(p);
        }
    }
    // untracked files in the analysis directory
    let tracked: std::collections::HashSet<PathBuf> = db
        .external_filepaths(SCHEMA, "analysis")?
        .into_iter()
        .map(|r| analysis_dir.join(r))
        .collect();
    let mut files = vec![];
    walk_files(&analysis_dir, &mut files);
    files.sort();
    let now = SystemTime::now();
    for f in files {
        if tracked.contains(&f) || report.analysis_files.contains(&f) {
            continue;
        }
        // a file being written or registered by a running process (stale partial
        // files and published files their killed writer never registered do go)
        if (is_partial(&f) && !is_stale_partial(&f)) || pending_state(&f) == Some(false) {
            continue;
        }
        let age = std::fs::metadata(&f)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or(Duration::ZERO);
        if age < opts.min_age {
            continue;
        }
        if !opts.dry_run {
            std::fs::remove_file(&f).map_err(|e| Error::io(&f, e))?;
        }
        report.untracked_files.push(f);
    }
    if !opts.dry_run {
        remove_empty_dirs(&analysis_dir, &analysis_dir);
    }
    // copies of deleted sessions
    for rel in db.external_unused(SCHEMA, "raw", !opts.dry_run)? {
        if !rel.ends_with("_.nwb") {
            continue;
        }
        let p = raw_dir.join(&rel);
        if !opts.dry_run && p.exists() {
            std::fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
        }
        report.raw_copies.push(p);
    }
    Ok(report)
}
