//! `Export.populate_paper`: from the restrictions logged for a paper to the files a
//! journal or a collaborator receives, under `<export dir>/<paper_id>/`:
//!
//! 1. `_ExportSQL_<paper_id>.sh` — Spyglass's mysqldump script (one `mysqldump
//!    --hex-blob` per table with the cascaded restriction as `--where`, everything
//!    into `_Populate_<paper_id>.sql`); for an admin of the lab server;
//! 2. `<paper_id>.sql` — the rows themselves with their DDL, written by us, which
//!    loads into an empty MySQL/MariaDB server with the `mysql` client alone;
//! 3. `bundle/` — `spyglass.db` (SQLite, exactly the slice, same schemas and
//!    definitions), the referenced NWB files under `raw/` and `analysis/` (and the
//!    files their external links point to), and `manifest.json` with sizes, MD5
//!    checksums and the software version; `spyglass --db sqlite:///…/bundle/spyglass.db`
//!    opens it as it is;
//! 4. with a DANDI folder: the NWB files organised as a dandiset.
//!
//! It also fills `Export` (+ `Table`, `File`) for the paper's newest export id.

use super::{
    files_logged, paper_export_ids, restrictions_logged, without_logging, EXPORT, EXPORT_FILE,
    EXPORT_TABLE,
};
use crate::error::{Error, Result};
use crate::settings::Settings;
use spyglass_db::delete::DeleteOptions;
use spyglass_db::dialect::Dialect;
use spyglass_db::slice::{key_restrictions, Slice};
use spyglass_db::{Cond, Db, FullName, InsertOptions, Row, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file marking a directory as an export bundle.
pub const MANIFEST: &str = "manifest.json";
/// The bundle's database file.
pub const BUNDLE_DB: &str = "spyglass.db";
/// Format tag written in the manifest.
pub const BUNDLE_FORMAT: &str = "spyglass-export-bundle/1";
/// A `--where` longer than this is split over several mysqldump calls (Spyglass's limit).
const MAX_WHERE: usize = 100_000;

/// Options of [`populate_paper`].
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Parent of the `<paper_id>` folder (default: the settings' export directory).
    pub out_dir: Option<PathBuf>,
    /// Also organise the NWB files as a dandiset in this folder.
    pub dandi_dir: Option<PathBuf>,
}

/// One file of an export.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportFile {
    /// The store it belongs to (`raw`, `analysis`).
    pub store: String,
    /// Path relative to the store's location (and to `bundle/<store>/`).
    pub relative: PathBuf,
    /// Where it is now.
    pub source: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// MD5 of the contents, hexadecimal.
    pub md5: String,
    /// Registered in the database (false for external-link targets such as raw files).
    pub registered: bool,
}

/// What [`populate_paper`] wrote.
#[derive(Debug, Clone)]
pub struct PaperExport {
    /// The paper.
    pub paper_id: String,
    /// The export id whose Export row was filled (the paper's newest).
    pub export_id: i64,
    /// `<out>/<paper_id>`.
    pub dir: PathBuf,
    /// The mysqldump script.
    pub script: PathBuf,
    /// The SQL file with the rows.
    pub sql_file: PathBuf,
    /// The bundle directory.
    pub bundle: PathBuf,
    /// Rows per table in the slice (tables with no rows are declared only).
    pub tables: Vec<(FullName, usize)>,
    /// The files exported.
    pub files: Vec<ExportFile>,
    /// Seconds spent cascading.
    pub cascade_secs: f64,
    /// Seconds spent writing the SQL file.
    pub dump_secs: f64,
    /// Bytes of the SQL file.
    pub sql_bytes: u64,
    /// The DANDI organisation, when asked for.
    pub dandi: Option<crate::dandi::DandiReport>,
}

impl PaperExport {
    /// Rows across tables.
    pub fn total_rows(&self) -> usize {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

/// The export ids of a paper, oldest first; an error naming the paper when none is logged.
fn logged_ids(db: &Db, paper_id: &str) -> Result<Vec<i64>> {
    let ids = paper_export_ids(db, paper_id)?;
    if ids.is_empty() {
        return Err(Error::MissingRow {
            table: super::EXPORT_SELECTION.into(),
            key: format!("paper_id = `{paper_id}`"),
            hint: format!(": no export is logged for paper `{paper_id}`; run `spyglass export start --paper {paper_id} --analysis NAME` first"),
        });
    }
    Ok(ids)
}

/// The leaves of a paper's cascade: its logged restrictions OR-ed per table, plus the
/// analysis files opened through fetch_nwb.
pub fn paper_leaves(db: &Db, paper_id: &str) -> Result<Vec<(FullName, Cond)>> {
    leaves_of(db, &paper_export_ids(db, paper_id)?)
}

fn leaves_of(db: &Db, ids: &[i64]) -> Result<Vec<(FullName, Cond)>> {
    let mut per_table: BTreeMap<FullName, Vec<Cond>> = BTreeMap::new();
    for r in restrictions_logged(db, ids)? {
        per_table
            .entry(r.table)
            .or_default()
            .push(Cond::sql(r.restriction));
    }
    let files = files_logged(db, ids)?;
    if !files.is_empty() {
        let t = db.table_info(crate::common::common_nwbfile::ANALYSIS_NWBFILE)?;
        per_table.entry(t.name.clone()).or_default().extend(
            files
                .iter()
                .map(|f| Cond::map([("analysis_file_name", f.as_str())])),
        );
    }
    Ok(per_table
        .into_iter()
        .map(|(t, conds)| (t, Cond::Or(conds)))
        .collect())
}

/// The rows and tables a paper's export holds (Spyglass's `show_all_tables`).
pub fn paper_slice(db: &Db, paper_id: &str) -> Result<Slice> {
    slice_of(db, &logged_ids(db, paper_id)?)
}

fn slice_of(db: &Db, ids: &[i64]) -> Result<Slice> {
    let leaves = leaves_of(db, ids)?;
    without_logging(db, || Ok(db.cascade_up(&leaves)?))
}

/// The files a slice references: every file-path attribute's file (raw `_` copies,
/// analysis files) and the files their external links point to (raw files).
pub fn slice_files(db: &Db, slice: &Slice) -> Result<Vec<ExportFile>> {
    without_logging(db, || {
        let mut out: Vec<ExportFile> = Vec::new();
        for t in slice.non_empty() {
            let Some(store) = t.name.table.strip_prefix("~external_") else {
                continue;
            };
            let cfg = db.store(store)?;
            let q = db
                .query_of(&t.name)?
                .restrict(Cond::Or(t.keys.iter().map(Cond::from).collect()))?;
            for r in db.fetch(&q)? {
                let Some(rel) = r.get("filepath").and_then(Value::as_str) else {
                    continue;
                };
                let source = cfg.location.join(rel);
                let file = describe_file(store, Path::new(rel), &source, true)?;
                verify_registered(&r, &file)?;
                out.push(file);
            }
        }
        // link targets (the raw file behind each `_` copy), placed beside their file
        let mut extra = Vec::new();
        for f in &out {
            if f.source.extension().and_then(|e| e.to_str()) != Some("nwb") {
                continue;
            }
            let nwb = spyglass_nwb::NwbFile::open(&f.source)?;
            for target in nwb.external_files()? {
                let dir = f.source.parent().unwrap_or(Path::new("."));
                let rel_dir = f.relative.parent().unwrap_or(Path::new(""));
                let relative = match target.strip_prefix(dir) {
                    Ok(r) => rel_dir.join(r),
                    Err(_) => {
                        return Err(Error::conflict(
                            f.source.display().to_string(),
                            format!(
                                "links to {}, outside its directory: the bundle could not keep the link",
                                target.display()
                            ),
                        ))
                    }
                };
                let known = out
                    .iter()
                    .chain(extra.iter())
                    .any(|x: &ExportFile| x.store == f.store && x.relative == relative);
                if !known {
                    extra.push(describe_file(&f.store, &relative, &target, false)?);
                }
            }
        }
        out.extend(extra);
        Ok(out)
    })
}

/// Refuses a registered file whose size or contents differ from what its
/// `~external_<store>` row recorded (a changed byte, a truncated copy).
fn verify_registered(row: &spyglass_db::Row, file: &ExportFile) -> Result<()> {
    let changed = |what: &str| {
        Error::conflict(
            format!("{} ({} store)", file.source.display(), file.store),
            format!(
                "does not match its registered {what}: the file changed after it was \
                 registered, so it cannot be exported; restore it (or re-run what made it) \
                 and export again"
            ),
        )
    };
    if let Some(size) = row.get("size").and_then(Value::as_i64) {
        if size as u64 != file.size {
            return Err(changed(&format!("size ({size} bytes, now {})", file.size)));
        }
    }
    let want = match row.get("contents_hash") {
        Some(Value::Uuid(u)) => Some(u.simple().to_string()),
        Some(Value::Str(s)) => Some(s.replace('-', "").to_ascii_lowercase()),
        _ => None,
    };
    if let Some(want) = want {
        if want != file.md5 {
            return Err(changed("checksum"));
        }
    }
    Ok(())
}

fn describe_file(
    store: &str,
    relative: &Path,
    source: &Path,
    registered: bool,
) -> Result<ExportFile> {
    let meta = std::fs::metadata(source).map_err(|e| Error::io(source, e))?;
    Ok(ExportFile {
        store: store.to_string(),
        relative: relative.to_path_buf(),
        source: source.to_path_buf(),
        size: meta.len(),
        md5: spyglass_db::stores::file_md5_uuid(source)?
            .simple()
            .to_string(),
        registered,
    })
}

/// Cascades the paper's logged restrictions and writes the script, the SQL file, the
/// bundle (and the dandiset); fills `Export` for the paper's newest export id.
pub fn populate_paper(
    db: &Db,
    settings: &Settings,
    paper_id: &str,
    opts: &ExportOptions,
) -> Result<PaperExport> {
    let ids = logged_ids(db, paper_id)?;
    let export_id = ids.last().copied().unwrap_or_default();
    if paper_id.contains(['/', '\\']) || paper_id.starts_with('.') {
        return Err(Error::bad(
            "paper id",
            format!("`{paper_id}` cannot name a folder"),
        ));
    }
    let t0 = std::time::Instant::now();
    let slice = slice_of(db, &ids)?;
    let cascade_secs = t0.elapsed().as_secs_f64();
    let files = slice_files(db, &slice)?;
    let out = opts
        .out_dir
        .clone()
        .unwrap_or_else(|| settings.export_dir.clone());
    let dir = out.join(paper_id);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;

    let script = dir.join(format!("_ExportSQL_{paper_id}.sh"));
    write_dump_script(db, &slice, paper_id, &script)?;
    std::fs::write(dir.join("spyglass_version"), super::spyglass_version())
        .map_err(|e| Error::io(&dir, e))?;

    let sql_file = dir.join(format!("{paper_id}.sql"));
    let t1 = std::time::Instant::now();
    let sql_partial = dir.join(format!(".{paper_id}.sql.partial-{}", std::process::id()));
    let stats = without_logging(db, || {
        let f = std::fs::File::create(&sql_partial).map_err(|e| Error::io(&sql_partial, e))?;
        let mut w = std::io::BufWriter::new(f);
        let header = format!(
            "spyglass-rs {} export of paper {paper_id} (export id {export_id})\nload with: mysql < {paper_id}.sql",
            super::spyglass_version()
        );
        let s = db.dump_slice_sql(&slice, &header, &mut w, &|_, _| {})?;
        std::io::Write::flush(&mut w).map_err(|e| Error::io(&sql_partial, e))?;
        Ok(s)
    })
    .and_then(|s| {
        std::fs::rename(&sql_partial, &sql_file).map_err(|e| Error::io(&sql_file, e))?;
        Ok(s)
    })
    .inspect_err(|_| {
        let _ = std::fs::remove_file(&sql_partial);
    })?;
    let dump_secs = t1.elapsed().as_secs_f64();

    let bundle = dir.join("bundle");
    write_bundle(db, &slice, &files, paper_id, &ids, &bundle)?;

    let dandi = match &opts.dandi_dir {
        Some(d) => Some(crate::dandi::organise_dandiset(
            &dandi_sources(db, &files)?,
            d,
            &crate::dandi::DandiOptions {
                name: format!("Data of paper {paper_id}"),
                description: format!(
                    "NWB files of paper {paper_id}, exported by spyglass-rs {}",
                    super::spyglass_version()
                ),
                ..Default::default()
            },
        )?),
        None => None,
    };
    record_export(db, &slice, &files, paper_id, &ids)?;
    let mut tables = Vec::new();
    for t in &slice.tables {
        tables.push((t.name.clone(), t.keys.len()));
    }
    Ok(PaperExport {
        paper_id: paper_id.to_string(),
        export_id,
        dir,
        script,
        sql_file,
        bundle,
        tables,
        files,
        cascade_secs,
        dump_secs,
        sql_bytes: stats.bytes,
        dandi,
    })
}

/// The registered NWB files of an export as DANDI sources: session copies (replaced
/// by their link targets when organised) and analysis files with their session.
fn dandi_sources(db: &Db, files: &[ExportFile]) -> Result<Vec<crate::dandi::DandiSource>> {
    without_logging(db, || {
        let analysis = db.table(crate::common::common_nwbfile::ANALYSIS_NWBFILE)?;
        let mut out = Vec::new();
        for f in files.iter().filter(|f| f.registered) {
            let name = f
                .relative
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            match f.store.as_str() {
                "raw" => out.push(crate::dandi::DandiSource::raw(&f.source, &name)),
                "analysis" => {
                    let row = db.fetch1(
                        &analysis.restrict(Cond::map([("analysis_file_name", name.as_str())]))?,
                    )?;
                    let session = row
                        .get("nwb_file_name")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    out.push(crate::dandi::DandiSource::analysis(&f.source, session));
                }
                _ => {}
            }
        }
        Ok(out)
    })
}

/// Escapes text for the inside of a bash double-quoted string.
fn bash_dq(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A schema or table name as a bash word (`#` and `~` escaped, as Spyglass escapes `#`).
fn bash_word(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if !(c.is_ascii_alphanumeric() || c == '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Writes Spyglass's mysqldump script: every dump goes to `_Populate_<paper>.sql`.
pub fn write_dump_script(db: &Db, slice: &Slice, paper_id: &str, path: &Path) -> Result<()> {
    let mut s = String::new();
    s.push_str("#!/bin/bash\n");
    s.push_str("# Dumps the rows of this export from the lab's MySQL server with mysqldump.\n");
    s.push_str("# Credentials come from ~/.my.cnf or the environment; this script holds none.\n");
    s.push_str(&format!("exec > _Populate_{}.sql\n", bash_word(paper_id)));
    s.push_str("echo '--'\n");
    s.push_str(&format!(
        "echo '-- SPYGLASS VERSION: {} --'\n",
        super::spyglass_version()
    ));
    s.push_str("echo '--'\n");
    let mut tables: Vec<&spyglass_db::slice::SliceTable> = slice.tables.iter().collect();
    tables.sort_by_key(|t| (t.name.schema.clone(), t.name.table.clone()));
    let mut current = String::new();
    for t in tables {
        if t.name.schema != current {
            current = t.name.schema.clone();
            s.push_str(&format!(
                "echo 'CREATE DATABASE IF NOT EXISTS {0}; USE {0};'\n",
                t.name.schema
            ));
        }
        let info = db.info(&t.name)?;
        let wheres = if t.keys.is_empty() {
            vec!["FALSE".to_string()]
        } else {
            key_restrictions(Dialect::Mysql, &info, &t.keys, MAX_WHERE)?
        };
        for (i, w) in wheres.iter().enumerate() {
            s.push_str(&format!(
                "mysqldump --hex-blob{} {} {} --where=\"{}\"\n",
                if i > 0 { " --no-create-info" } else { "" },
                bash_word(&t.name.schema),
                bash_word(&t.name.table),
                bash_dq(&w.replace('`', ""))
            ));
        }
    }
    std::fs::write(path, s).map_err(|e| Error::io(path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

/// Writes the self-contained bundle: database, files, manifest.
fn write_bundle(
    db: &Db,
    slice: &Slice,
    files: &[ExportFile],
    paper_id: &str,
    ids: &[i64],
    bundle: &Path,
) -> Result<()> {
    if bundle.exists()
        && !bundle.join(MANIFEST).exists()
        && std::fs::read_dir(bundle)
            .map_err(|e| Error::io(bundle, e))?
            .next()
            .is_some()
    {
        return Err(Error::conflict(
            bundle.display().to_string(),
            "exists and is not an export bundle: refusing to overwrite it",
        ));
    }
    // written under a temporary name and renamed when complete: a failure leaves the
    // previous bundle (or none), never a half-written one
    let final_dir = bundle;
    let partial = bundle.with_file_name(format!(".bundle.partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    let r = write_bundle_into(db, slice, files, paper_id, ids, &partial);
    if let Err(e) = r {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(e);
    }
    if final_dir.exists() {
        std::fs::remove_dir_all(final_dir).map_err(|e| Error::io(final_dir, e))?;
    }
    std::fs::rename(&partial, final_dir).map_err(|e| Error::io(final_dir, e))
}

fn write_bundle_into(
    db: &Db,
    slice: &Slice,
    files: &[ExportFile],
    paper_id: &str,
    ids: &[i64],
    bundle: &Path,
) -> Result<()> {
    std::fs::create_dir_all(bundle).map_err(|e| Error::io(bundle, e))?;
    let db_path = bundle.join(BUNDLE_DB);
    let dest = Db::open(&format!("sqlite:///{}", db_path.display()))?;
    without_logging(db, || Ok(db.copy_slice(slice, &dest, &|_, _| {})?))?;
    // a rollback journal, so that any SQLite reader opens the bundle from read-only media
    dest.use_rollback_journal()?;
    drop(dest);
    let mut manifest_files = Vec::new();
    for f in files {
        let to = bundle.join(&f.store).join(&f.relative);
        if let Some(p) = to.parent() {
            std::fs::create_dir_all(p).map_err(|e| Error::io(p, e))?;
        }
        std::fs::copy(&f.source, &to).map_err(|e| Error::io(&f.source, e))?;
        manifest_files.push(serde_json::json!({
            "path": Path::new(&f.store).join(&f.relative).to_string_lossy(),
            "store": f.store,
            "size": f.size,
            "md5": f.md5,
            "registered": f.registered,
        }));
    }
    let db_md5 = spyglass_db::stores::file_md5_uuid(&db_path)?
        .simple()
        .to_string();
    let tables: Vec<serde_json::Value> = slice
        .tables
        .iter()
        .map(|t| serde_json::json!({"table": t.name.to_string(), "rows": t.keys.len()}))
        .collect();
    let stores: BTreeMap<&str, &str> = files
        .iter()
        .map(|f| (f.store.as_str(), f.store.as_str()))
        .collect();
    let manifest = serde_json::json!({
        "format": BUNDLE_FORMAT,
        "paper_id": paper_id,
        "export_ids": ids,
        "software": {"name": "spyglass-rs", "version": super::spyglass_version()},
        "created": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "schema_prefix": db.prefix(),
        "source_backend": match db.dialect() { Dialect::Mysql => "mysql", Dialect::Sqlite => "sqlite" },
        "database": {"path": BUNDLE_DB, "md5": db_md5, "rows": slice.total_rows(), "tables": tables},
        "stores": stores,
        "files": manifest_files,
    });
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| Error::internal("export manifest", e.to_string()))?;
    let mpath = bundle.join(MANIFEST);
    std::fs::write(&mpath, text).map_err(|e| Error::io(&mpath, e))?;
    Ok(())
}

fn bundle_manifest(db_path: &Path) -> Option<serde_json::Value> {
    let dir = db_path.parent()?;
    let text = std::fs::read_to_string(dir.join(MANIFEST)).ok()?;
    let m: serde_json::Value = serde_json::from_str(&text).ok()?;
    (m.get("format")?.as_str()? == BUNDLE_FORMAT).then_some(m)
}

/// The schema prefix of the database a bundle came from (a lab's `custom.database.prefix`;
/// its schemas keep their names in the bundle), when `db_path` is a bundle's database.
pub fn bundle_prefix(db_path: &Path) -> Option<String> {
    let m = bundle_manifest(db_path)?;
    Some(m.get("schema_prefix")?.as_str()?.to_string())
}

/// The store directories of a bundle, when `db_path` is a bundle's database: the CLI
/// configures them so that the bundle opens as it is.
pub fn bundle_stores(db_path: &Path) -> Option<Vec<(String, PathBuf)>> {
    let dir = db_path.parent()?;
    let m = bundle_manifest(db_path)?;
    let mut out: Vec<(String, PathBuf)> = vec![
        ("raw".into(), dir.join("raw")),
        ("analysis".into(), dir.join("analysis")),
    ];
    if let Some(stores) = m.get("stores").and_then(|s| s.as_object()) {
        for (name, sub) in stores {
            if let Some(sub) = sub.as_str() {
                out.retain(|(n, _)| n != name);
                out.push((name.clone(), dir.join(sub)));
            }
        }
    }
    Some(out)
}

/// Fills `Export` (+ parts) for the newest export id; older ids of the paper get an
/// empty row, as in Spyglass.
fn record_export(
    db: &Db,
    slice: &Slice,
    files: &[ExportFile],
    paper_id: &str,
    ids: &[i64],
) -> Result<()> {
    without_logging(db, || {
        crate::transaction(db, || {
            let newest = *ids.last().unwrap_or(&0);
            let export = db.table(EXPORT)?;
            for id in ids {
                if db.exists(&export.restrict(Cond::map([("export_id", *id)]))?)? {
                    db.delete(
                        EXPORT,
                        Cond::map([("export_id", *id)]),
                        DeleteOptions::default(),
                    )?;
                }
            }
            let direct = InsertOptions {
                allow_direct_insert: true,
                ..Default::default()
            };
            let nwb = db.table_info(crate::common::common_nwbfile::NWBFILE)?;
            let names: Vec<spyglass_blob::Value> = slice
                .keys(&nwb.name)
                .iter()
                .filter_map(|k| k.get("nwb_file_name").and_then(Value::as_str))
                .map(|s| spyglass_blob::Value::Str(s.to_string()))
                .collect();
            let mut rows = Vec::new();
            for id in ids {
                rows.push(Row::from_pairs([
                    ("export_id", Value::from(*id)),
                    ("paper_id", Value::from(paper_id)),
                    (
                        "included_nwb_file_names",
                        if *id == newest {
                            Value::Blob(Box::new(spyglass_blob::Value::List(names.clone())))
                        } else {
                            Value::Null
                        },
                    ),
                ]));
            }
            db.insert(EXPORT, &rows, direct)?;
            let mut trows = Vec::new();
            for (i, t) in slice.non_empty().enumerate() {
                let info = db.info(&t.name)?;
                let restr =
                    key_restrictions(db.dialect(), &info, &t.keys, usize::MAX)?.join(" OR ");
                trows.push(Row::from_pairs([
                    ("export_id", Value::from(newest)),
                    ("table_id", Value::from(i as i64 + 1)),
                    ("table_name", Value::from(t.name.to_string())),
                    ("restriction", Value::from(restr)),
                ]));
            }
            if !trows.is_empty() {
                db.insert(EXPORT_TABLE, &trows, direct)?;
            }
            let frows: Vec<Row> = files
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    Row::from_pairs([
                        ("export_id", Value::from(newest)),
                        ("file_id", Value::from(i as i64 + 1)),
                        (
                            "file_path",
                            Value::from(f.source.to_string_lossy().to_string()),
                        ),
                    ])
                })
                .collect();
            if !frows.is_empty() {
                db.insert(EXPORT_FILE, &frows, direct)?;
            }
            Ok(())
        })
    })
}
