//! Populate: computed and imported tables fill themselves. For every key of the key
//! source (by default the join of the primary-key parents, renamed ones included)
//! that the target lacks, `make` runs in its own transaction, so a key's master and
//! part rows commit together or not at all. Optional job reservation in `~jobs`
//! lets many workers share the work; the tripartite make fetches and computes
//! outside any transaction and re-checks its inputs before inserting.

use crate::db::Db;
use crate::error::{Error, Result};
use crate::heading::TableInfo;
use crate::query::{Cond, Proj, Query};
use crate::value::Row;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The error type a make returns: anything that can be shown.
pub type MakeError = Box<dyn std::error::Error + Send + Sync>;

/// Result of a make phase.
pub type MakeResult<T> = std::result::Result<T, MakeError>;

/// A make that runs as one unit inside the key's transaction.
pub trait Make: Send + Sync {
    /// Computes and inserts everything for `key` (master and parts).
    fn make(&self, db: &Db, key: &Row) -> MakeResult<()>;
}

/// A make in three phases, so long computations hold no locks.
pub trait TripartiteMake: Send + Sync {
    /// What `make_fetch` reads.
    type Fetched: Send;
    /// What `make_compute` produces.
    type Computed: Send;
    /// Phase 1, outside any transaction: read the inputs.
    fn make_fetch(&self, db: &Db, key: &Row) -> MakeResult<Self::Fetched>;
    /// Identity of the fetched inputs, compared again inside the insert transaction.
    fn fingerprint(&self, fetched: &Self::Fetched) -> Vec<u8>;
    /// Phase 2, outside any transaction: compute.
    fn make_compute(&self, key: &Row, fetched: Self::Fetched) -> MakeResult<Self::Computed>;
    /// Phase 3, inside the transaction: insert.
    fn make_insert(&self, db: &Db, key: &Row, computed: Self::Computed) -> MakeResult<()>;
}

pub use crate::fingerprint::fingerprint;

/// Runs one key: the populate loop calls this, adapters implement it.
pub trait Maker: Send + Sync {
    /// Makes `key`, using `tx` for the transactional part; Ok(false) when it was already done.
    fn run(&self, tx: &KeyTransaction<'_>, key: &Row) -> MakeResult<bool>;
}

/// Adapter: a one-phase make.
pub struct Classic<M: Make>(pub M);

/// Adapter: a three-phase make.
pub struct Tripartite<M: TripartiteMake>(pub M);

impl<M: Make> Maker for Classic<M> {
    fn run(&self, tx: &KeyTransaction<'_>, key: &Row) -> MakeResult<bool> {
        tx.run(key, &mut || self.0.make(tx.db, key))
    }
}

impl<M: TripartiteMake> Maker for Tripartite<M> {
    fn run(&self, tx: &KeyTransaction<'_>, key: &Row) -> MakeResult<bool> {
        if tx.is_done(key)? {
            return Ok(false);
        }
        let fetched = self.0.make_fetch(tx.db, key)?;
        let print = self.0.fingerprint(&fetched);
        let mut computed = Some(self.0.make_compute(key, fetched)?);
        tx.run(key, &mut || {
            let again = self.0.make_fetch(tx.db, key)?;
            if self.0.fingerprint(&again) != print {
                return Err("Referential integrity failed: the make_fetch data has changed since it was computed".into());
            }
            let c = computed.take().ok_or("make_insert ran twice")?;
            self.0.make_insert(tx.db, key, c)
        })
    }
}

/// The transactional step of one key: begin, skip if done, make, commit.
pub struct KeyTransaction<'a> {
    db: &'a Db,
    target: Query,
}

impl KeyTransaction<'_> {
    /// The database.
    pub fn db(&self) -> &Db {
        self.db
    }

    fn is_done(&self, key: &Row) -> MakeResult<bool> {
        Ok(self.db.exists(&self.target.restrict(Cond::from(key))?)?)
    }

    /// Runs `body` in a transaction unless the key is already in the target.
    pub fn run(&self, key: &Row, body: &mut dyn FnMut() -> MakeResult<()>) -> MakeResult<bool> {
        self.db.transaction_with(|| -> MakeResult<bool> {
            if self.db.exists(&self.target.restrict(Cond::from(key))?)? {
                return Ok(false);
            }
            self.db.in_make.store(true, Ordering::SeqCst);
            let out = body();
            self.db.in_make.store(false, Ordering::SeqCst);
            out.map(|()| true)
        })
    }
}

/// The order in which keys are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Key-source order.
    #[default]
    Original,
    /// Reversed.
    Reverse,
    /// Shuffled (spreads workers over the keys).
    Random,
}

/// Options of `populate`, as DataJoint's keywords.
#[derive(Debug, Clone, Default)]
pub struct PopulateOptions {
    /// Restrictions on the key source (AND).
    pub restrictions: Vec<Cond>,
    /// Reserve each key in `~jobs` before making it.
    pub reserve_jobs: bool,
    /// Record failures and go on instead of stopping at the first.
    pub suppress_errors: bool,
    /// Key order.
    pub order: Order,
    /// Make at most this many keys.
    pub max_calls: Option<usize>,
    /// Consider at most this many keys.
    pub limit: Option<usize>,
    /// Show a progress bar on a terminal.
    pub progress: bool,
}

/// What `populate` did.
#[derive(Debug, Default)]
pub struct PopulateReport {
    /// Keys made.
    pub success_count: usize,
    /// Keys whose make failed, with the message.
    pub error_list: Vec<(Row, String)>,
    /// Keys skipped because another worker held or had done them.
    pub skipped: usize,
    /// Keys that were to do when populate started.
    pub todo: usize,
}

/// Progress callbacks (the CLI draws a bar; libraries pass `NoProgress`).
pub trait Progress: Sync {
    /// Called once with the number of keys to do.
    fn start(&self, _total: usize) {}
    /// Called after each key (made, failed or skipped).
    fn tick(&self, _made: usize, _errors: usize) {}
    /// Called at the end.
    fn finish(&self) {}
}

/// Progress that shows nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

impl Db {
    /// The default key source: the join of the primary-key parents, each projected to
    /// its key (renamed through `proj` where the foreign key renames).
    pub fn key_source(&self, info: &TableInfo) -> Result<Query> {
        let pk = info.primary_key();
        let mut ks: Option<Query> = None;
        for fk in &info.foreign_keys {
            if !fk.attr_map.iter().all(|(c, _)| pk.contains(c)) {
                continue;
            }
            let parent = self.info(&fk.parent)?;
            let mut spec = Proj::key();
            for (c, p) in &fk.attr_map {
                if c != p {
                    spec = spec.rename(c, p);
                }
            }
            let q = Query::table(&parent).proj(spec)?;
            ks = Some(match ks {
                None => q,
                Some(prev) => prev.join(&q)?,
            });
        }
        ks.ok_or_else(|| {
            Error::Refused(format!(
                "{} has no primary-key parents, so it has no default key source",
                info.name.pretty()
            ))
        })
    }

    /// The keys still to make: key source & restrictions, minus what the target has.
    pub fn todo_keys(
        &self,
        info: &TableInfo,
        key_source: &Query,
        restrictions: &[Cond],
    ) -> Result<Vec<Row>> {
        let mut ks = key_source.clone();
        if !restrictions.is_empty() {
            ks = ks.restrict(Cond::And(restrictions.to_vec()))?;
        }
        let ks = ks.proj(Proj::key())?;
        let target = Query::table(info).proj(Proj::key())?;
        // the engine's own bookkeeping: an export logs what the makes read, not the
        // list of keys left to make
        self.fetch_unobserved(&ks.exclude(&target)?)
    }

    /// `(remaining, total)` keys of a table's key source.
    pub fn progress(
        &self,
        table: &str,
        key_source: Option<&Query>,
        restrictions: &[Cond],
    ) -> Result<(u64, u64)> {
        let info = self.table_info(table)?;
        let ks = match key_source {
            Some(q) => q.clone(),
            None => self.key_source(&info)?,
        };
        let ks = if restrictions.is_empty() {
            ks
        } else {
            ks.restrict(Cond::And(restrictions.to_vec()))?
        };
        let ks = ks.proj(Proj::key())?;
        let total = self.count(&ks)?;
        let remaining = self.count(&ks.exclude(&Query::table(&info).proj(Proj::key())?)?)?;
        Ok((remaining, total))
    }

    /// Populates `table` with `maker`: see the module documentation.
    pub fn populate(
        &self,
        table: &str,
        maker: &dyn Maker,
        key_source: Option<&Query>,
        opts: &PopulateOptions,
        progress: &dyn Progress,
    ) -> Result<PopulateReport> {
        let info = self.table_info(table)?;
        if !info.tier.is_auto() {
            return Err(Error::Refused(format!(
                "{} is {}; only imported and computed tables are populated",
                info.name.pretty(),
                info.tier
            )));
        }
        if self.in_transaction() {
            return Err(Error::Refused(
                "populate cannot run inside a transaction".into(),
            ));
        }
        let ks = match key_source {
            Some(q) => q.clone(),
            None => self.key_source(&info)?,
        };
        let mut keys = self.todo_keys(&info, &ks, &opts.restrictions)?;
        match opts.order {
            Order::Original => {}
            Order::Reverse => keys.reverse(),
            Order::Random => shuffle(&mut keys),
        }
        if let Some(l) = opts.limit {
            keys.truncate(l);
        }
        let mut report = PopulateReport {
            todo: keys.len(),
            ..Default::default()
        };
        if opts.reserve_jobs {
            // skip keys that are reserved, errored or ignored
            let taken = self.job_hashes(&info.name)?;
            let before = keys.len();
            keys.retain(|k| !taken.contains(&crate::hash::key_hash(k)));
            report.skipped += before - keys.len();
        }
        progress.start(keys.len());
        let tx = KeyTransaction {
            db: self,
            target: Query::table(&info),
        };
        let mut calls = 0usize;
        for key in &keys {
            if opts.max_calls.is_some_and(|m| calls >= m) {
                break;
            }
            if opts.reserve_jobs && !self.reserve_job(&info.name, key)? {
                report.skipped += 1;
                progress.tick(report.success_count, report.error_list.len());
                continue;
            }
            calls += 1;
            match maker.run(&tx, key) {
                Ok(made) => {
                    if made {
                        report.success_count += 1;
                    } else {
                        report.skipped += 1;
                    }
                    if opts.reserve_jobs {
                        self.complete_job(&info.name, key)?;
                    }
                }
                Err(e) => {
                    let message = format!("{}: {e}", error_class(&*e));
                    if opts.reserve_jobs {
                        self.error_job(&info.name, key, &message, &format!("{e:?}"))?;
                    }
                    report.error_list.push((key.clone(), message.clone()));
                    if !opts.suppress_errors {
                        progress.finish();
                        return Err(Error::Refused(format!(
                            "make of {} failed for key {}: {message}",
                            info.name.pretty(),
                            describe(key)
                        )));
                    }
                }
            }
            progress.tick(report.success_count, report.error_list.len());
        }
        progress.finish();
        Ok(report)
    }
}

/// A short class-like name for an error, as DataJoint's `"<ExceptionClass>: message"`.
fn error_class(e: &(dyn std::error::Error + Send + Sync + 'static)) -> &'static str {
    if e.downcast_ref::<Error>().is_some() {
        "SpyglassError"
    } else if e.downcast_ref::<std::io::Error>().is_some() {
        "IOError"
    } else {
        "MakeError"
    }
}

fn describe(key: &Row) -> String {
    let parts: Vec<String> = key
        .iter()
        .map(|(k, v)| format!("{k}={}", v.python_str()))
        .collect();
    format!("({})", parts.join(", "))
}

/// Fisher–Yates with a time-and-pid seed (no dependency on a random crate).
fn shuffle<T>(v: &mut [T]) {
    let mut s = (std::process::id() as u64)
        ^ (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7));
    for i in (1..v.len()).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        v.swap(i, (s % (i as u64 + 1)) as usize);
    }
}

/// A registry of makers by table, for commands that populate by name.
#[derive(Default, Clone)]
pub struct Registry {
    makers: Vec<(String, Arc<dyn Maker>, Option<Query>)>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Registers the maker of `table` (`schema.Class`), with an optional key source.
    pub fn add(&mut self, table: &str, maker: Arc<dyn Maker>, key_source: Option<Query>) {
        self.makers.push((table.to_string(), maker, key_source));
    }

    /// The maker registered for a resolved table.
    pub fn get(&self, db: &Db, info: &TableInfo) -> Option<(Arc<dyn Maker>, Option<Query>)> {
        self.makers.iter().find_map(|(name, m, ks)| {
            db.table_info(name)
                .ok()
                .filter(|i| i.name == info.name)
                .map(|_| (m.clone(), ks.clone()))
        })
    }

    /// Names of registered tables.
    pub fn tables(&self) -> Vec<String> {
        self.makers.iter().map(|(n, _, _)| n.clone()).collect()
    }
}

/// What a worker loop did.
#[derive(Debug, Default)]
pub struct WorkReport {
    /// Keys made, over all tables and passes.
    pub made: usize,
    /// Failures recorded as error jobs.
    pub errors: usize,
    /// Passes over the table list.
    pub passes: usize,
}

impl Db {
    /// A worker: populates each table with reservation (random order, errors recorded
    /// and skipped) pass after pass until a whole pass makes nothing. Meant to be run
    /// by many processes at once against one database.
    pub fn work(
        &self,
        tables: &[(String, Arc<dyn Maker>, Option<Query>)],
        restrictions: &[Cond],
        progress: &dyn Progress,
    ) -> Result<WorkReport> {
        let mut report = WorkReport::default();
        loop {
            report.passes += 1;
            let mut made = 0;
            for (table, maker, ks) in tables {
                let opts = PopulateOptions {
                    restrictions: restrictions.to_vec(),
                    reserve_jobs: true,
                    suppress_errors: true,
                    order: Order::Random,
                    ..Default::default()
                };
                let r = self.populate(table, maker.as_ref(), ks.as_ref(), &opts, progress)?;
                made += r.success_count;
                report.errors += r.error_list.len();
            }
            report.made += made;
            if made == 0 {
                return Ok(report);
            }
        }
    }
}
