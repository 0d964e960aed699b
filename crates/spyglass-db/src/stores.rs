//! External stores, as DataJoint 0.14 keeps them: `blob@store`, `attach@store` and
//! `filepath@store` attributes hold a 16-byte hash that points into the schema's
//! `~external_<store>` table, and the bytes live in files under the store's
//! location (`{location}/{schema}/{h0h1}/{h2h3}/{hex}` for blobs and attachments,
//! `{location}/{relative path}` for managed file paths). Fetch reads the files back
//! and checks file paths against the recorded size and MD5.

use crate::db::Db;
use crate::error::{Error, Result};
use crate::heading::{Attribute, TableInfo};
use crate::naming::FullName;
use crate::types::AttrType;
use crate::value::{Row, SqlValue, Value};
use md5::{Digest, Md5};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// Settings of one store (DataJoint's `stores.<name>`; only the `file` protocol).
#[derive(Debug, Clone, PartialEq)]
pub struct StoreConfig {
    /// Where the store keeps its files.
    pub location: PathBuf,
    /// Where `filepath` values are found before insert (defaults to `location`).
    pub stage: PathBuf,
    /// Folder levels named by leading hex digits of the hash (DataJoint default 2, 2).
    pub subfolding: Vec<usize>,
    /// Files larger than this are not checksummed (None: always).
    pub checksum_size_limit: Option<u64>,
}

impl StoreConfig {
    /// A local-directory store whose stage is its location.
    pub fn local(location: impl Into<PathBuf>) -> StoreConfig {
        let location = location.into();
        StoreConfig {
            stage: location.clone(),
            location,
            subfolding: vec![2, 2],
            checksum_size_limit: None,
        }
    }
}

/// The MD5 of `bytes` as a UUID (DataJoint's `uuid_from_buffer`).
pub fn md5_uuid(bytes: &[u8]) -> Uuid {
    let mut h = Md5::new();
    h.update(bytes);
    Uuid::from_bytes(h.finalize().into())
}

/// The MD5 of a file's contents as a UUID (DataJoint's `uuid_from_file`).
pub fn file_md5_uuid(path: &Path) -> Result<Uuid> {
    let mut f = std::fs::File::open(path).map_err(|e| io(path, e))?;
    md5_of_open_file(&mut f, path)
}

/// The MD5 of an open file's contents (from where it is) as a UUID; `path` names it
/// in errors.
fn md5_of_open_file(f: &mut std::fs::File, path: &Path) -> Result<Uuid> {
    use std::io::Read;
    let mut h = Md5::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(Uuid::from_bytes(h.finalize().into()))
}

/// The contents hashes this handle computed, each with the file's identity and
/// timestamps when it was hashed: a file whose inode, size, modification and
/// change times are the same is not read again to check its checksum (a fetch
/// verifies the files it returns; a make fetches its inputs twice).
#[derive(Default)]
pub(crate) struct HashedFiles(
    std::sync::Mutex<std::collections::HashMap<PathBuf, (FileStamp, Uuid)>>,
);

/// What identifies a file's state without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStamp {
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileStamp {
    /// The same file with the same contents, renamed or not (a rename changes only
    /// the change time).
    fn same_contents(&self, other: &FileStamp) -> bool {
        (self.ino, self.len, self.mtime) == (other.ino, other.len, other.mtime)
    }

    fn of(meta: &std::fs::Metadata) -> FileStamp {
        use std::os::unix::fs::MetadataExt;
        FileStamp {
            ino: meta.ino(),
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }
}

impl HashedFiles {
    /// The MD5 of `path`'s contents, read only when the file changed since this
    /// handle last hashed it.
    pub(crate) fn md5(&self, path: &Path) -> Result<Uuid> {
        let before = FileStamp::of(&std::fs::metadata(path).map_err(|e| io(path, e))?);
        let known = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
            .copied();
        if let Some((stamp, hash)) = known {
            if stamp == before {
                return Ok(hash);
            }
        }
        let hash = file_md5_uuid(path)?;
        let after = FileStamp::of(&std::fs::metadata(path).map_err(|e| io(path, e))?);
        if after == before {
            let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
            m.insert(path.to_path_buf(), (after, hash));
        }
        Ok(hash)
    }
}

/// A finished file's MD5 (DataJoint's `uuid_from_file`) computed on its own thread
/// while the caller goes on, for [`Db::adopt_file_hash`] to take once the file sits
/// where it is inserted from: the hashing overlaps the make's database work.
#[derive(Debug)]
pub struct FileHashAhead(std::thread::JoinHandle<Option<(FileStamp, Uuid)>>);

impl FileHashAhead {
    /// Starts hashing `path`, a file no one writes any more (it may be renamed
    /// meanwhile: the thread reads the file it opened).
    pub fn start(path: &Path) -> FileHashAhead {
        let path = path.to_path_buf();
        FileHashAhead(std::thread::spawn(move || {
            let mut f = std::fs::File::open(&path).ok()?;
            let before = FileStamp::of(&f.metadata().ok()?);
            let hash = md5_of_open_file(&mut f, &path).ok()?;
            let after = FileStamp::of(&f.metadata().ok()?);
            after.same_contents(&before).then_some((after, hash))
        }))
    }
}

impl Db {
    /// Waits for `ahead` and keeps its hash for the file now at `path` (the one
    /// hashed, perhaps renamed since: same inode, size and modification time), so
    /// that inserting it as a `filepath` does not read it again. A file that changed,
    /// or a hash that failed, is simply hashed again at insert.
    pub fn adopt_file_hash(&self, ahead: FileHashAhead, path: &Path) {
        let Ok(Some((hashed, hash))) = ahead.0.join() else {
            return;
        };
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        let now = FileStamp::of(&meta);
        if now.same_contents(&hashed) {
            let mut m = self
                .hashed_files
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            m.insert(path.to_path_buf(), (now, hash));
        }
    }
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        source: e,
    }
}

pub(crate) fn uuid_path(cfg: &StoreConfig, schema: &str, hash: &Uuid, suffix: &str) -> PathBuf {
    let hex = hash.simple().to_string();
    let mut p = cfg.location.join(schema);
    let mut start = 0;
    for n in &cfg.subfolding {
        p = p.join(&hex[start..start + n]);
        start += n;
    }
    p.join(format!("{hex}{suffix}"))
}

/// One row of `~external_<store>`.
#[derive(Debug, Clone)]
pub(crate) struct ExternalRow {
    pub(crate) size: u64,
    pub(crate) filepath: Option<String>,
    pub(crate) contents_hash: Option<Uuid>,
    pub(crate) attachment_name: Option<String>,
}

impl Db {
    /// Configures (or replaces) a store.
    pub fn set_store(&self, name: &str, cfg: StoreConfig) {
        self.stores
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), cfg);
    }

    /// The configuration of a store.
    pub fn store(&self, name: &str) -> Result<StoreConfig> {
        self.stores
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
            .ok_or_else(|| {
                Error::Config(format!(
                    "store `{name}` is not configured (add it to the stores settings)"
                ))
            })
    }

    fn external_insert(&self, schema: &str, store: &str, entry: ExternalEntry<'_>) -> Result<()> {
        let ExternalEntry {
            hash,
            size,
            filepath,
            contents,
            attachment,
        } = entry;
        self.ensure_external_table(schema, store)?;
        let t = self
            .dialect()
            .table(&crate::declare::ddl::external_table(schema, store));
        let skip = match self.dialect() {
            crate::dialect::Dialect::Sqlite => " ON CONFLICT DO NOTHING".to_string(),
            crate::dialect::Dialect::Mysql => {
                " ON DUPLICATE KEY UPDATE `timestamp`=CURRENT_TIMESTAMP".to_string()
            }
        };
        let opt = |s: Option<&str>| {
            s.map(|x| SqlValue::Text(x.to_string()))
                .unwrap_or(SqlValue::Null)
        };
        self.execute(
            &format!("INSERT INTO {t} (`hash`,`size`,`attachment_name`,`filepath`,`contents_hash`) VALUES (?,?,?,?,?){skip}"),
            &[
                SqlValue::Bytes(hash.as_bytes().to_vec()),
                SqlValue::UInt(size),
                opt(attachment),
                opt(filepath),
                contents.map(|u| SqlValue::Bytes(u.as_bytes().to_vec())).unwrap_or(SqlValue::Null),
            ],
        )?;
        Ok(())
    }

    pub(crate) fn external_lookup(
        &self,
        schema: &str,
        store: &str,
        hash: &Uuid,
    ) -> Result<Option<ExternalRow>> {
        let name = crate::declare::ddl::external_table(schema, store);
        if self.catalog().get(&name).is_none() {
            return Ok(None);
        }
        let rows = self.query_raw(
            &format!(
                "SELECT `size`,`filepath`,`contents_hash`,`attachment_name` FROM {} WHERE `hash`=?",
                self.dialect().table(&name)
            ),
            &[SqlValue::Bytes(hash.as_bytes().to_vec())],
        )?;
        let Some(r) = rows.into_iter().next() else {
            return Ok(None);
        };
        let text = |v: &SqlValue| match v {
            SqlValue::Text(s) => Some(s.clone()),
            SqlValue::Bytes(b) => String::from_utf8(b.clone()).ok(),
            _ => None,
        };
        Ok(Some(ExternalRow {
            size: match &r[0] {
                SqlValue::Int(i) => *i as u64,
                SqlValue::UInt(u) => *u,
                _ => 0,
            },
            filepath: text(&r[1]),
            contents_hash: match &r[2] {
                SqlValue::Bytes(b) if b.len() == 16 => Uuid::from_slice(b).ok(),
                _ => None,
            },
            attachment_name: text(&r[3]),
        }))
    }

    /// Replaces values of external attributes by their hashes, storing the payloads.
    pub(crate) fn externalize(&self, info: &TableInfo, rows: &[Row]) -> Result<Vec<Row>> {
        let schema = &info.name.schema;
        let mut out = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let mut pairs = Vec::with_capacity(row.values().len());
            for (k, v) in row.iter() {
                let attr = info.heading.get(k);
                let v = match (attr, v) {
                    (Some(a), v)
                        if a.ty.store().is_some()
                            && !v.is_null()
                            && !matches!(v, Value::Uuid(_)) =>
                    {
                        self.store_value(schema, a, v).map_err(|e| match e {
                            Error::Config(m) | Error::Refused(m) => Error::BadValue {
                                table: info.name.pretty(),
                                attribute: a.name.clone(),
                                ty: a.ty.to_string(),
                                message: format!("row {i}: {m}"),
                            },
                            other => other,
                        })?
                    }
                    _ => v.clone(),
                };
                pairs.push((k.to_string(), v));
            }
            out.push(Row::from_pairs(pairs));
        }
        Ok(out)
    }

    fn store_value(&self, schema: &str, attr: &Attribute, v: &Value) -> Result<Value> {
        let store = attr.ty.store().unwrap_or_default().to_string();
        let cfg = self.store(&store)?;
        match &attr.ty {
            AttrType::Filepath(_) => {
                let Value::Str(p) = v else {
                    return Err(Error::Refused(format!(
                        "a filepath needs a path, not a {}",
                        v.kind()
                    )));
                };
                let given = PathBuf::from(p);
                let rel = if given.is_absolute() {
                    given
                        .strip_prefix(&cfg.stage)
                        .map_err(|_| {
                            Error::Refused(format!(
                                "{p} is not under the store's stage {}",
                                cfg.stage.display()
                            ))
                        })?
                        .to_path_buf()
                } else {
                    given
                };
                let rel_str = rel.to_string_lossy().replace('\\', "/");
                let local = cfg.stage.join(&rel);
                let meta = std::fs::metadata(&local).map_err(|e| io(&local, e))?;
                let size = meta.len();
                let contents = match cfg.checksum_size_limit {
                    Some(limit) if size > limit => None,
                    _ => Some(self.hashed_files.md5(&local)?),
                };
                let hash = md5_uuid(rel_str.as_bytes());
                if let Some(existing) = self.external_lookup(schema, &store, &hash)? {
                    if existing.size != size
                        || (existing.contents_hash.is_some()
                            && contents.is_some()
                            && existing.contents_hash != contents)
                    {
                        return Err(Error::Refused(format!(
                            "{rel_str} is already in store `{store}` with different contents"
                        )));
                    }
                }
                if cfg.location != cfg.stage {
                    let dest = cfg.location.join(&rel);
                    if let Some(d) = dest.parent() {
                        std::fs::create_dir_all(d).map_err(|e| io(d, e))?;
                    }
                    std::fs::copy(&local, &dest).map_err(|e| io(&dest, e))?;
                }
                self.external_insert(
                    schema,
                    &store,
                    ExternalEntry {
                        filepath: Some(&rel_str),
                        contents: contents.as_ref(),
                        ..ExternalEntry::new(&hash, size)
                    },
                )?;
                Ok(Value::Uuid(hash))
            }
            AttrType::ExternalBlob(_) => {
                let packed = crate::value::pack_value(v);
                let hash = md5_uuid(&packed);
                let path = uuid_path(&cfg, schema, &hash, "");
                if !path.exists() {
                    write_file(&path, &packed)?;
                }
                self.external_insert(
                    schema,
                    &store,
                    ExternalEntry::new(&hash, packed.len() as u64),
                )?;
                Ok(Value::Uuid(hash))
            }
            AttrType::ExternalAttach(_) => {
                let (name, data) = match v {
                    Value::Attach { name, data } => (name.clone(), data.clone()),
                    Value::Str(p) => {
                        let path = Path::new(p);
                        let data = std::fs::read(path).map_err(|e| io(path, e))?;
                        (
                            path.file_name()
                                .map(|n| n.to_string_lossy().to_string())
                                .unwrap_or_default(),
                            data,
                        )
                    }
                    other => {
                        return Err(Error::Refused(format!(
                            "an attachment needs a file, not a {}",
                            other.kind()
                        )))
                    }
                };
                let mut buf = name.as_bytes().to_vec();
                buf.push(0);
                buf.extend_from_slice(&data);
                let hash = md5_uuid(&buf);
                let path = uuid_path(&cfg, schema, &hash, &format!(".{name}"));
                if !path.exists() {
                    write_file(&path, &data)?;
                }
                self.external_insert(
                    schema,
                    &store,
                    ExternalEntry {
                        attachment: Some(&name),
                        ..ExternalEntry::new(&hash, data.len() as u64)
                    },
                )?;
                Ok(Value::Uuid(hash))
            }
            _ => Ok(v.clone()),
        }
    }

    /// Replaces external hashes in fetched rows by their payloads (path, blob, attachment).
    pub(crate) fn resolve_external(
        &self,
        rows: &mut [Row],
        columns: &[(usize, Attribute)],
        preferred: &[String],
    ) -> Result<()> {
        if columns.is_empty() || rows.is_empty() {
            return Ok(());
        }
        let mut schemas = preferred.to_vec();
        schemas.extend(
            self.schemas()
                .into_iter()
                .filter(|s| !preferred.contains(s)),
        );
        let mut cache: HashMap<(String, Uuid), (String, ExternalRow)> = HashMap::new();
        for row in rows.iter_mut() {
            let mut values = row.values().to_vec();
            for (i, attr) in columns {
                let Value::Uuid(hash) = values[*i] else {
                    continue;
                };
                let store = attr.ty.store().unwrap_or_default().to_string();
                let key = (store.clone(), hash);
                if !cache.contains_key(&key) {
                    let mut found = None;
                    for s in &schemas {
                        if let Some(r) = self.external_lookup(s, &store, &hash)? {
                            found = Some((s.clone(), r));
                            break;
                        }
                    }
                    let f = found.ok_or_else(|| {
                        Error::backend(format!(
                            "`{}`: hash {hash} is missing from ~external_{store}",
                            attr.name
                        ))
                    })?;
                    cache.insert(key.clone(), f);
                }
                let (schema, ext) = &cache[&key];
                let cfg = self.store(&store)?;
                values[*i] = match &attr.ty {
                    AttrType::Filepath(_) => {
                        let rel = ext.filepath.clone().unwrap_or_default();
                        let path = cfg.location.join(&rel);
                        let meta = std::fs::metadata(&path).map_err(|e| io(&path, e))?;
                        if meta.len() != ext.size {
                            return Err(Error::Refused(format!(
                                "{}: size {} differs from the {} bytes recorded in store `{store}`",
                                path.display(),
                                meta.len(),
                                ext.size
                            )));
                        }
                        let check = cfg.checksum_size_limit.is_none_or(|l| ext.size <= l);
                        if let (true, Some(want)) = (check, ext.contents_hash) {
                            if self.hashed_files.md5(&path)? != want {
                                return Err(Error::Refused(format!(
                                    "{}: contents changed since it was registered in store `{store}` (checksum mismatch)",
                                    path.display()
                                )));
                            }
                        }
                        Value::Str(path.display().to_string())
                    }
                    AttrType::ExternalBlob(_) => {
                        let path = uuid_path(&cfg, schema, &hash, "");
                        let bytes = std::fs::read(&path).map_err(|e| io(&path, e))?;
                        Value::Blob(Box::new(spyglass_blob::unpack(&bytes).map_err(|e| {
                            Error::Blob {
                                attribute: attr.name.clone(),
                                source: e,
                            }
                        })?))
                    }
                    AttrType::ExternalAttach(_) => {
                        let name = ext.attachment_name.clone().unwrap_or_default();
                        let path = uuid_path(&cfg, schema, &hash, &format!(".{name}"));
                        let data = std::fs::read(&path).map_err(|e| io(&path, e))?;
                        Value::Attach { name, data }
                    }
                    _ => continue,
                };
            }
            *row = Row::new(row.columns().clone(), values)?;
        }
        Ok(())
    }

    /// Hashes in `~external_<store>` of `schema` that no table refers to; with
    /// `delete`, removes those rows (and for blobs and attachments, their files).
    pub fn external_unused(&self, schema: &str, store: &str, delete: bool) -> Result<Vec<String>> {
        let schema = &self.schema_name(schema);
        let name = crate::declare::ddl::external_table(schema, store);
        if self.info(&name).is_err() {
            return Ok(Vec::new());
        }
        let ext_t = self.dialect().table(&name);
        let mut refs = Vec::new();
        for t in self.catalog().user_tables(None) {
            for a in t
                .heading
                .attributes
                .iter()
                .filter(|a| a.ty.store() == Some(store))
            {
                refs.push(format!(
                    "SELECT {} FROM {} WHERE {0} IS NOT NULL",
                    self.dialect().ident(&a.name),
                    self.dialect().table(&t.name)
                ));
            }
        }
        let filter = if refs.is_empty() {
            String::new()
        } else {
            format!(" WHERE `hash` NOT IN ({})", refs.join(" UNION "))
        };
        let rows = self.query_raw(
            &format!("SELECT `hash`,`filepath`,`attachment_name` FROM {ext_t}{filter}"),
            &[],
        )?;
        let cfg = self.store(store).ok();
        let mut out = Vec::new();
        for r in rows {
            let SqlValue::Bytes(b) = &r[0] else { continue };
            let Ok(hash) = Uuid::from_slice(b) else {
                continue;
            };
            let described = match &r[1] {
                SqlValue::Text(p) => p.clone(),
                _ => hash.to_string(),
            };
            if delete {
                self.execute(
                    &format!("DELETE FROM {ext_t} WHERE `hash`=?"),
                    &[SqlValue::Bytes(b.clone())],
                )?;
                if let (Some(cfg), SqlValue::Null) = (&cfg, &r[1]) {
                    let suffix = match &r[2] {
                        SqlValue::Text(n) => format!(".{n}"),
                        _ => String::new(),
                    };
                    let _ = std::fs::remove_file(uuid_path(cfg, schema, &hash, &suffix));
                }
            }
            out.push(described);
        }
        Ok(out)
    }

    /// The paths (relative to the store) that `schema`'s `~external_<store>` tracks,
    /// sorted; none when the schema has no such table.
    pub fn external_filepaths(&self, schema: &str, store: &str) -> Result<Vec<String>> {
        let Some(info) = self.external_info(schema, store)? else {
            return Ok(Vec::new());
        };
        self.distinct_values(&crate::query::Query::table(&info), "filepath")?
            .into_iter()
            .map(|v| match v {
                Value::Str(p) => Ok(p),
                other => Err(Error::backend(format!(
                    "{}: filepath is not text: {other:?}",
                    info.name.pretty()
                ))),
            })
            .collect()
    }

    /// Removes the entries of `schema`'s `~external_<store>` that track the file at
    /// `filepath` (relative to the store), so that a new file at that path can be
    /// registered with its own checksum; the file itself stays. An entry a row still
    /// uses is refused by its foreign key. Returns the entries removed.
    pub fn forget_external_filepath(
        &self,
        schema: &str,
        store: &str,
        filepath: &str,
    ) -> Result<u64> {
        let Some(info) = self.external_info(schema, store)? else {
            return Ok(0);
        };
        self.delete_rows_of(&info, crate::query::Cond::map([("filepath", filepath)]))
    }

    /// The catalog entry of `schema`'s `~external_<store>`, None when it has none.
    fn external_info(
        &self,
        schema: &str,
        store: &str,
    ) -> Result<Option<std::sync::Arc<TableInfo>>> {
        match self.info(&self.external_table(schema, store)) {
            Ok(info) => Ok(Some(info)),
            Err(Error::UnknownTable(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The `~external_<store>` table of a project schema (by its stored, prefixed name).
    pub fn external_table(&self, schema: &str, store: &str) -> FullName {
        crate::declare::ddl::external_table(&self.schema_name(schema), store)
    }
}

/// One row of `~external_<store>`: the hash, the size, and what kind of object it is.
struct ExternalEntry<'a> {
    hash: &'a Uuid,
    size: u64,
    /// Path relative to the store (the `filepath` type).
    filepath: Option<&'a str>,
    /// Checksum of a filepath's contents.
    contents: Option<&'a Uuid>,
    /// File name of an attachment.
    attachment: Option<&'a str>,
}

impl<'a> ExternalEntry<'a> {
    /// A blob's entry (no filepath, no attachment name).
    fn new(hash: &'a Uuid, size: u64) -> ExternalEntry<'a> {
        ExternalEntry {
            hash,
            size,
            filepath: None,
            contents: None,
            attachment: None,
        }
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| io(d, e))?;
    }
    std::fs::write(path, bytes).map_err(|e| io(path, e))
}
