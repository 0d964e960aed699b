//! `Db`, the engine's handle on one database: it owns the backend connection and
//! the catalog, declares schemas and tables, runs transactions, and writes `~log`.
//! Insert and fetch live in their own modules as further `impl Db` blocks.

use crate::backend::{self, Backend};
use crate::catalog::Catalog;
use crate::declare::{self, ddl};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::heading::TableInfo;
use crate::naming::{check_class_name, check_schema_name, part_table_name, FullName, Tier};
use crate::query::Query;
use crate::value::{Row, SqlValue};
use std::any::{Any, TypeId};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

/// Version string written to `~log` (DataJoint writes `<version>py`).
pub const LOG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "rs");

/// A table to declare: class name, tier, definition, lookup contents and parts.
#[derive(Debug, Clone)]
pub struct TableSpec {
    /// CamelCase class name.
    pub class_name: String,
    /// Tier of the master table.
    pub tier: Tier,
    /// Definition in DataJoint's language.
    pub definition: String,
    /// Rows a lookup table starts with.
    pub contents: Vec<Row>,
    /// Part tables.
    pub parts: Vec<PartSpec>,
}

impl TableSpec {
    /// A spec with no contents and no parts.
    pub fn new(class_name: &str, tier: Tier, definition: &str) -> TableSpec {
        TableSpec {
            class_name: class_name.to_string(),
            tier,
            definition: definition.to_string(),
            contents: Vec::new(),
            parts: Vec::new(),
        }
    }

    /// Adds a part table.
    pub fn part(mut self, class_name: &str, definition: &str) -> TableSpec {
        self.parts.push(PartSpec {
            class_name: class_name.to_string(),
            definition: definition.to_string(),
        });
        self
    }

    /// Sets lookup contents.
    pub fn contents(mut self, rows: Vec<Row>) -> TableSpec {
        self.contents = rows;
        self
    }
}

/// A part table to declare with its master.
#[derive(Debug, Clone)]
pub struct PartSpec {
    /// CamelCase class name of the part.
    pub class_name: String,
    /// Definition (usually starting with `-> master`).
    pub definition: String,
}

/// What `declare` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    /// The table was created.
    Created,
    /// The table already existed with the same definition.
    Unchanged,
}

/// A connection to one database with its catalog.
pub struct Db {
    backend: Mutex<Box<dyn Backend>>,
    dialect: Dialect,
    catalog: RwLock<Arc<Catalog>>,
    graph: RwLock<Option<Arc<Graph>>>,
    tx_depth: AtomicUsize,
    pub(crate) in_make: AtomicBool,
    fetch_observer: RwLock<Option<FetchObserver>>,
    write_guard: RwLock<Option<WriteGuard>>,
    pub(crate) stores: RwLock<std::collections::HashMap<String, crate::stores::StoreConfig>>,
    pub(crate) hashed_files: crate::stores::HashedFiles,
    prefix: RwLock<String>,
    after_commit: Mutex<Vec<AfterCommit>>,
    extensions: RwLock<Extensions>,
}

/// State the layers above the engine keep per database handle, one value per type.
type Extensions = std::collections::HashMap<TypeId, Arc<dyn Any + Send + Sync>>;

/// Work that must wait until the outermost transaction commits (removing files).
type AfterCommit = Box<dyn FnOnce() + Send>;

/// A callback told about every query that is fetched (used by export logging).
pub type FetchObserver = Arc<dyn Fn(&Db, &Query) -> Result<()> + Send + Sync>;

/// A kind of write a [`WriteGuard`] is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// Rows inserted.
    Insert,
    /// A row updated in place.
    Update,
    /// Rows deleted.
    Delete,
}

/// A callback asked before every insert, update and delete of a table's rows (the
/// rows inserted, the row updated, the keys deleted); an error refuses the write (used
/// by the framework to keep lab-team tables admin-only).
pub type WriteGuard = Arc<dyn Fn(&Db, &TableInfo, WriteKind, &[Row]) -> Result<()> + Send + Sync>;

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("dialect", &self.dialect)
            .finish()
    }
}

impl Db {
    /// Opens a database by URL (`sqlite:///path.db`, `mysql://user:pass@host:port`);
    /// stores and the schema prefix come from DataJoint's config file when present.
    pub fn open(url: &str) -> Result<Db> {
        let db = Db::from_backend(backend::open(url)?)?;
        db.apply_dj_config(&crate::config::load_dj_config()?);
        Ok(db)
    }

    /// Connects to the server DataJoint's config and `DJ_*` variables describe.
    pub fn open_datajoint() -> Result<Db> {
        let cfg = crate::config::load_dj_config()?;
        let db = Db::from_backend(Box::new(crate::backend::mysql::MysqlBackend::connect(
            &cfg.connection,
        )?))?;
        db.apply_dj_config(&cfg);
        Ok(db)
    }

    fn apply_dj_config(&self, cfg: &crate::config::DjConfig) {
        for (name, store) in &cfg.stores {
            self.set_store(name, store.clone());
        }
        if !cfg.prefix.is_empty() {
            self.set_prefix(&cfg.prefix);
        }
    }

    /// Sets the prefix prepended to the schema names this project declares
    /// (DataJoint's `custom.database.prefix`, e.g. `bl_new_`).
    pub fn set_prefix(&self, prefix: &str) {
        *self.prefix.write().unwrap_or_else(|p| p.into_inner()) = prefix.to_string();
    }

    /// The schema prefix.
    pub fn prefix(&self) -> String {
        self.prefix
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The stored schema name of a project schema: the prefixed name (`name` itself
    /// when there is no prefix or it already starts with it). A schema of the same
    /// name without the prefix belongs to someone else and is never used.
    pub fn schema_name(&self, name: &str) -> String {
        let prefix = self.prefix();
        if prefix.is_empty() || name.starts_with(&prefix) {
            name.to_string()
        } else {
            format!("{prefix}{name}")
        }
    }

    /// Wraps an open backend and loads its catalog.
    pub fn from_backend(mut backend: Box<dyn Backend>) -> Result<Db> {
        let dialect = backend.dialect();
        let schemas = backend.schemas()?;
        let tables = backend.load_tables(&schemas)?;
        Ok(Db {
            backend: Mutex::new(backend),
            dialect,
            catalog: RwLock::new(Arc::new(Catalog::new(tables, schemas))),
            graph: RwLock::new(None),
            tx_depth: AtomicUsize::new(0),
            in_make: AtomicBool::new(false),
            fetch_observer: RwLock::new(None),
            write_guard: RwLock::new(None),
            stores: RwLock::new(Default::default()),
            hashed_files: Default::default(),
            prefix: RwLock::new(String::new()),
            after_commit: Mutex::new(Vec::new()),
            extensions: RwLock::new(Default::default()),
        })
    }

    /// Installs (or removes) the callback told about every fetched query.
    pub fn set_fetch_observer(&self, observer: Option<FetchObserver>) {
        *self
            .fetch_observer
            .write()
            .unwrap_or_else(|p| p.into_inner()) = observer;
    }

    /// The state of type `T` a layer above the engine keeps on this handle (the
    /// framework's export log, say), created by `init` on first use. The state lives
    /// as long as the handle and is shared by every caller asking for the same type.
    pub fn extension<T: Any + Send + Sync>(&self, init: impl FnOnce() -> T) -> Arc<T> {
        if let Some(v) = self.existing_extension::<T>() {
            return v;
        }
        let mut map = self.extensions.write().unwrap_or_else(|p| p.into_inner());
        // another thread may have created it in between
        if let Some(v) = map.get(&TypeId::of::<T>()).cloned() {
            if let Ok(v) = v.downcast::<T>() {
                return v;
            }
        }
        let v = Arc::new(init());
        map.insert(TypeId::of::<T>(), v.clone());
        v
    }

    /// The state of type `T` kept on this handle, if it was created.
    pub fn existing_extension<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let map = self.extensions.read().unwrap_or_else(|p| p.into_inner());
        map.get(&TypeId::of::<T>())
            .cloned()
            .and_then(|v| v.downcast::<T>().ok())
    }

    /// Installs (or removes) the callback asked before every write.
    pub fn set_write_guard(&self, guard: Option<WriteGuard>) {
        *self.write_guard.write().unwrap_or_else(|p| p.into_inner()) = guard;
    }

    /// Asks the write guard (if any) whether rows of `info` may be written.
    pub(crate) fn check_write(
        &self,
        info: &TableInfo,
        kind: WriteKind,
        rows: &[Row],
    ) -> Result<()> {
        let guard = self
            .write_guard
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match guard {
            Some(g) => g(self, info, kind, rows),
            None => Ok(()),
        }
    }

    pub(crate) fn notify_fetch(&self, q: &Query) -> Result<()> {
        let obs = self
            .fetch_observer
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match obs {
            Some(f) => f(self, q),
            None => Ok(()),
        }
    }

    /// The SQL dialect of the backend.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub(crate) fn backend(&self) -> MutexGuard<'_, Box<dyn Backend>> {
        // a panic while holding the lock leaves the connection usable for reads
        self.backend.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current catalog snapshot.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reloads the catalog from the database (after another process declared tables).
    pub fn refresh(&self) -> Result<()> {
        let (schemas, tables) = {
            let mut b = self.backend();
            let schemas = b.schemas()?;
            let tables = b.load_tables(&schemas)?;
            (schemas, tables)
        };
        *self.catalog.write().unwrap_or_else(|p| p.into_inner()) =
            Arc::new(Catalog::new(tables, schemas));
        *self.graph.write().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(())
    }

    /// The dependency graph of all declared tables.
    pub fn graph(&self) -> Result<Arc<Graph>> {
        if let Some(g) = self
            .graph
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            return Ok(g.clone());
        }
        let g = Arc::new(Graph::build(&self.catalog())?);
        *self.graph.write().unwrap_or_else(|p| p.into_inner()) = Some(g.clone());
        Ok(g)
    }

    /// Resolves a table name (`schema.Class`, `schema.table_name`, `schema.Master.Part`).
    pub fn table_info(&self, spec: &str) -> Result<Arc<TableInfo>> {
        self.resolve(spec, None)
    }

    /// Resolves a table reference, trying the schema prefix and reloading the catalog
    /// once when the name is unknown; `current` is the schema bare class names prefer.
    pub(crate) fn resolve(&self, spec: &str, current: Option<&str>) -> Result<Arc<TableInfo>> {
        let prefixed = {
            let prefix = self.prefix();
            match spec.split_once('.') {
                Some((s, rest)) if !prefix.is_empty() && !s.starts_with(&prefix) => {
                    Some(format!("{prefix}{s}.{rest}"))
                }
                _ => None,
            }
        };
        let prefix = self.prefix();
        // under a prefix, the prefixed name first; then the name as given, matched
        // only against the project's (prefixed) schemas
        let current = current.map(|c| self.schema_name(c));
        let current = current.as_deref();
        let find = |c: &Catalog| match &prefixed {
            Some(p) => match c.resolve_in_project(p, current, &prefix) {
                Err(Error::UnknownTable(_)) => c
                    .resolve_in_project(spec, current, &prefix)
                    .map_err(|e| match e {
                        Error::UnknownTable(_) => Error::UnknownTable(spec.to_string()),
                        other => other,
                    }),
                r => r,
            },
            None => c.resolve_in_project(spec, current, &prefix),
        };
        match find(&self.catalog()) {
            Err(Error::UnknownTable(_)) => {
                self.refresh()?;
                find(&self.catalog())
            }
            other => other,
        }
    }

    /// Catalog entry by exact full name.
    pub fn info(&self, name: &FullName) -> Result<Arc<TableInfo>> {
        if let Some(i) = self.catalog().get(name) {
            return Ok(i);
        }
        self.refresh()?;
        self.catalog()
            .get(name)
            .ok_or_else(|| Error::UnknownTable(name.pretty()))
    }

    /// A query over a whole table.
    pub fn table(&self, spec: &str) -> Result<Query> {
        Ok(Query::table(&*self.table_info(spec)?))
    }

    /// A query over a whole table, by exact full name.
    pub fn query_of(&self, name: &FullName) -> Result<Query> {
        Ok(Query::table(&*self.info(name)?))
    }

    /// Runs one statement with bound parameters.
    pub fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64> {
        self.backend().execute(sql, params)
    }

    /// Runs a query and collects its raw rows.
    pub fn query_raw(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Vec<SqlValue>>> {
        let mut out = Vec::new();
        self.backend().query(sql, params, &mut |r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }

    /// True while inside `transaction`.
    pub fn in_transaction(&self) -> bool {
        self.tx_depth.load(Ordering::SeqCst) > 0
    }

    /// Runs `f` in a transaction: commits when it returns Ok, rolls back on Err.
    /// Nested calls join the outer transaction.
    pub fn transaction<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.transaction_with(f)
    }

    /// Runs `f` in a transaction, with the caller's own error type: commits when `f`
    /// returns Ok, rolls back when it returns Err and hands that error back unchanged.
    /// A call inside an open transaction joins it (the outermost call commits or
    /// rolls back). Failing to begin or to commit is the engine's error, converted
    /// with `E::from`.
    ///
    /// ```no_run
    /// # use spyglass_db::Db;
    /// #[derive(Debug)]
    /// enum AppError { Db(spyglass_db::Error), Rejected(String) }
    /// impl From<spyglass_db::Error> for AppError {
    ///     fn from(e: spyglass_db::Error) -> Self { AppError::Db(e) }
    /// }
    /// # let db = Db::open("sqlite://:memory:").unwrap();
    /// let r: Result<(), AppError> = db.transaction_with(|| Err(AppError::Rejected("no".into())));
    /// assert!(matches!(r, Err(AppError::Rejected(_))));
    /// ```
    pub fn transaction_with<T, E: From<Error>>(
        &self,
        f: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        if self.tx_depth.fetch_add(1, Ordering::SeqCst) > 0 {
            let r = f();
            self.tx_depth.fetch_sub(1, Ordering::SeqCst);
            return r;
        }
        if let Err(e) = self.execute(self.dialect.begin(), &[]) {
            self.tx_depth.fetch_sub(1, Ordering::SeqCst);
            return Err(E::from(e));
        }
        let r = f();
        let end = match &r {
            Ok(_) => self.execute("COMMIT", &[]),
            Err(_) => self.execute("ROLLBACK", &[]),
        };
        self.tx_depth.fetch_sub(1, Ordering::SeqCst);
        let pending =
            std::mem::take(&mut *self.after_commit.lock().unwrap_or_else(|p| p.into_inner()));
        match (r, end) {
            (Ok(v), Ok(_)) => {
                for job in pending {
                    job();
                }
                Ok(v)
            }
            (Ok(_), Err(e)) => {
                let _ = self.execute("ROLLBACK", &[]);
                Err(E::from(e))
            }
            (Err(e), _) => Err(e),
        }
    }

    /// Runs `job` once the outermost transaction commits (dropped if it rolls
    /// back); outside a transaction it runs now.
    pub fn after_commit(&self, job: impl FnOnce() + Send + 'static) {
        if self.in_transaction() {
            self.after_commit
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(Box::new(job));
        } else {
            job();
        }
    }

    /// `user@host` of this connection.
    pub fn user(&self) -> Result<String> {
        self.backend().user()
    }

    /// The account the server authenticated this connection as (MySQL's
    /// `CURRENT_USER()`, `name@host-pattern`, e.g. `alice@%`; `@host` alone for an
    /// anonymous account); None on SQLite, which has no accounts.
    pub fn current_account(&self) -> Result<Option<String>> {
        match self.dialect {
            Dialect::Sqlite => Ok(None),
            Dialect::Mysql => self.single_text("SELECT CURRENT_USER()").map(Some),
        }
    }

    /// The version of the database server (`11.4.2-MariaDB`, or for SQLite the
    /// library's version, `3.45.0`).
    pub fn server_version(&self) -> Result<String> {
        self.single_text(match self.dialect {
            Dialect::Sqlite => "SELECT sqlite_version()",
            Dialect::Mysql => "SELECT version()",
        })
    }

    /// Switches an SQLite database from WAL to a rollback journal, leaving no `-wal`
    /// or `-shm` files beside it, so that any SQLite reader can open the file from
    /// read-only media (an export bundle). Nothing to do on MySQL.
    pub fn use_rollback_journal(&self) -> Result<()> {
        match self.dialect {
            Dialect::Sqlite => {
                let mode = self.single_text("PRAGMA journal_mode = DELETE")?;
                if mode.eq_ignore_ascii_case("delete") {
                    Ok(())
                } else {
                    Err(Error::backend(format!(
                        "the journal stays in mode `{mode}` (another connection has the database open?)"
                    )))
                }
            }
            Dialect::Mysql => Ok(()),
        }
    }

    /// The one text value a statement without parameters returns.
    fn single_text(&self, sql: &str) -> Result<String> {
        let rows = self.query_raw(sql, &[])?;
        match rows.first().map(|r| r.as_slice()) {
            Some([v]) if *v != SqlValue::Null => Ok(v.to_text()),
            _ => Err(Error::Backend {
                message: "expected one value".into(),
                sql: Some(sql.to_string()),
            }),
        }
    }

    /// Schema names.
    pub fn schemas(&self) -> Vec<String> {
        self.catalog().schemas.iter().cloned().collect()
    }

    /// Creates a schema with its `~log` (no-op when it exists).
    pub fn create_schema(&self, name: &str) -> Result<()> {
        let name = &self.schema_name(name);
        check_schema_name(name)?;
        if self.catalog().schemas.contains(name) {
            return Ok(());
        }
        let created = self.backend().create_schema(name)?;
        let log = declare::compile(
            &FullName::new(name, "~log"),
            Tier::Manual,
            &log_definition(name),
            &|t: &str| Err(Error::UnknownTable(t.to_string())),
        )?;
        self.create_table(&log)?;
        self.refresh()?;
        if created {
            self.log(name, "created")?;
        }
        Ok(())
    }

    /// Appends an event to a schema's `~log` (failures are ignored, as in DataJoint).
    pub fn log(&self, schema: &str, event: &str) -> Result<()> {
        let user = self.user().unwrap_or_default();
        let event: String = event.chars().take(255).collect();
        let sql = format!(
            "INSERT INTO {} (`version`,`user`,`host`,`event`) VALUES (?,?,?,?)",
            self.dialect.table(&FullName::new(schema, "~log"))
        );
        let _ = self.execute(
            &sql,
            &[
                SqlValue::Text(LOG_VERSION.into()),
                SqlValue::Text(user),
                SqlValue::Text(crate::config::hostname()),
                SqlValue::Text(event),
            ],
        );
        Ok(())
    }

    pub(crate) fn create_table(&self, info: &TableInfo) -> Result<()> {
        let stmts = ddl::create_table(self.dialect, info)?;
        let run = || -> Result<()> {
            for s in &stmts {
                self.execute(s, &[])?;
            }
            self.backend().record_table(info)?;
            Ok(())
        };
        match self.dialect {
            Dialect::Sqlite => self.transaction(run),
            Dialect::Mysql => run(),
        }
    }

    /// The definition text of a table, reconstructed from its heading.
    pub fn describe(&self, spec: &str) -> Result<String> {
        let info = self.table_info(spec)?;
        Ok(self.describe_info(&info))
    }

    pub(crate) fn describe_info(&self, info: &TableInfo) -> String {
        let schema = info.name.schema.clone();
        declare::describe(info, &|p: &FullName| {
            if p.schema == schema {
                p.class_name()
            } else {
                p.pretty()
            }
        })
    }

    /// Declares a table (and its parts) in `schema`; idempotent for the same definition.
    pub fn declare(&self, schema: &str, spec: &TableSpec) -> Result<Declared> {
        check_class_name(&spec.class_name)?;
        for p in &spec.parts {
            check_class_name(&p.class_name)?;
        }
        if spec.tier == Tier::Part {
            return Err(Error::Config(format!(
                "{}: parts are declared in the `parts` of their master",
                spec.class_name
            )));
        }
        let schema = &self.schema_name(schema);
        self.create_schema(schema)?;
        let name = Catalog::name_for(schema, &spec.class_name, spec.tier)?;
        let outcome = self.declare_one(&name, spec.tier, &spec.definition, None)?;
        let master = self.info(&name)?;
        for p in &spec.parts {
            let pname = FullName::new(schema, part_table_name(&name.table, &p.class_name)?);
            self.declare_one(&pname, Tier::Part, &p.definition, Some(master.clone()))?;
        }
        if !spec.contents.is_empty() {
            self.insert(
                &name.pretty(),
                &spec.contents,
                crate::insert::InsertOptions {
                    skip_duplicates: true,
                    ..Default::default()
                },
            )?;
        }
        Ok(outcome)
    }

    fn declare_one(
        &self,
        name: &FullName,
        tier: Tier,
        definition: &str,
        master: Option<Arc<TableInfo>>,
    ) -> Result<Declared> {
        let schema = name.schema.clone();
        let info = self.compile_spec(name, tier, definition, master)?;
        if let Some(existing) = self.catalog().get(name) {
            // used as it is when compatible, as DataJoint does (`spyglass check` lists differences)
            let cmp = declare::compat::compare(&existing, &info);
            if cmp.is_compatible() {
                return Ok(Declared::Unchanged);
            }
            return Err(Error::DefinitionMismatch {
                table: name.pretty(),
                diff: declare::compat::mismatch_text(
                    &cmp,
                    &self.describe_info(&existing),
                    &self.describe_info(&info),
                ),
            });
        }
        for store in info.heading.attributes.iter().filter_map(|a| a.ty.store()) {
            self.ensure_external_table(&schema, store)?;
        }
        self.create_table(&info)?;
        self.refresh()?;
        self.log(&schema, &format!("Declared {name}"))?;
        Ok(Declared::Created)
    }

    /// Compiles a definition for table `name` against the catalog (parents resolved
    /// from the current schema first; `master` for `-> master`).
    pub(crate) fn compile_spec(
        &self,
        name: &FullName,
        tier: Tier,
        definition: &str,
        master: Option<Arc<TableInfo>>,
    ) -> Result<TableInfo> {
        let schema = name.schema.clone();
        let resolver = |target: &str| -> Result<Arc<TableInfo>> {
            if target == "master" {
                return master.clone().ok_or_else(|| {
                    Error::definition(name.pretty(), "`-> master` is only allowed in a part table")
                });
            }
            self.resolve(target, Some(&schema))
        };
        declare::compile(name, tier, definition, &resolver)
    }

    /// Creates `~external_<store>` in `schema` when missing.
    pub(crate) fn ensure_external_table(&self, schema: &str, store: &str) -> Result<()> {
        let name = ddl::external_table(schema, store);
        if self.catalog().get(&name).is_some() {
            return Ok(());
        }
        let info = declare::compile(&name, Tier::Manual, EXTERNAL_DEFINITION, &|t: &str| {
            Err(Error::UnknownTable(t.to_string()))
        })?;
        self.create_table(&info)?;
        self.refresh()
    }
}

fn log_definition(schema: &str) -> String {
    format!(
        "# event logging table for `{schema}`
id : int unsigned auto_increment # event order id
---
timestamp = CURRENT_TIMESTAMP : timestamp # event timestamp
version : varchar(12) # datajoint version
user : varchar(255) # user@host
host = \"\" : varchar(255) # system hostname
event = \"\" : varchar(255) # event message"
    )
}

const EXTERNAL_DEFINITION: &str = "# external storage tracking
hash : uuid # hash of contents (blob), of filename + contents (attach), or relative filepath (filepath)
---
size : bigint unsigned # size of object in bytes
attachment_name = null : varchar(255) # the filename of an attachment
filepath = null : varchar(1000) # relative filepath or attachment filename
contents_hash = null : uuid # used for the filepath datatype
timestamp = CURRENT_TIMESTAMP : timestamp # automatic timestamp";
