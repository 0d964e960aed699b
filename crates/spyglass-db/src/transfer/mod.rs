//! `spyglass transfer`: copies rows between two databases (SQLite ↔ MySQL/MariaDB,
//! MySQL ↔ MySQL) as a YAML plan says — schema prefixes mapped, keys and columns
//! renamed, values transformed, restricted — idempotently (only rows the target lacks,
//! by primary key), parents first, in windows, with external-store files carried
//! along. Rows that cannot be copied are recorded with their reason in the target
//! schema's `~transfer_error` table (and removed from it once they go in).
//!
//! The plan is checked against both catalogs before anything is written: a plan error
//! leaves both databases as they were.

pub mod files;
pub mod job;
pub mod plan;
pub mod rows;

pub use plan::{Plan, StorePair, TablePlan, Transform, ZeroAction};

use crate::db::Db;
use crate::declare;
use crate::error::{Error, Result};
use crate::hash::key_hash;
use crate::naming::{FullName, Tier};
use crate::value::{Row, SqlValue};
use job::TableJob;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

/// The log table of rows that could not be copied, one per target schema.
pub const ERROR_TABLE: &str = "~transfer_error";

const ERROR_DEFINITION: &str = "# rows spyglass transfer could not copy
table_name : varchar(255) # target table
key_hash : char(32) # DataJoint key hash of the source key
---
source_table : varchar(255) # source table
source_key : varchar(2047) # the source key, attr=value pairs
reason : varchar(2047) # why the row was not copied
timestamp = CURRENT_TIMESTAMP : timestamp # when it last failed";

/// What the caller sees while a transfer runs (for a progress bar).
#[derive(Debug, Clone)]
pub enum Event {
    /// A table starts; `rows` source rows are selected.
    Table {
        /// Source table.
        source: String,
        /// Target table.
        target: String,
        /// Source rows selected by the restriction.
        rows: u64,
    },
    /// This many more source rows were handled.
    Rows(u64),
}

/// Counts of one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableSummary {
    /// Source table.
    pub source: String,
    /// Target table.
    pub target: String,
    /// Source rows read (after the restriction).
    pub source_rows: u64,
    /// Rows inserted (in a dry run: rows that would be).
    pub copied: u64,
    /// Rows the target already had.
    pub present: u64,
    /// Rows left out by a `zero_date: skip` transform.
    pub skipped: u64,
    /// Rows that failed (logged in `~transfer_error` unless a dry run).
    pub failed: u64,
}

/// The outcome of a transfer.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Per table, in the order copied (parents first).
    pub tables: Vec<TableSummary>,
    /// True when nothing was written.
    pub dry_run: bool,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl Summary {
    fn total(&self, f: impl Fn(&TableSummary) -> u64) -> u64 {
        self.tables.iter().map(f).sum()
    }

    /// Rows inserted (or, in a dry run, to insert).
    pub fn copied(&self) -> u64 {
        self.total(|t| t.copied)
    }

    /// Rows that failed.
    pub fn failed(&self) -> u64 {
        self.total(|t| t.failed)
    }

    /// One line for cron mail and logs.
    pub fn line(&self) -> String {
        format!(
            "transfer{}: {} tables, {} rows read, {} {}, {} already present, {} skipped, {} failed{}, {:.1} s",
            if self.dry_run { " (dry run)" } else { "" },
            self.tables.len(),
            self.total(|t| t.source_rows),
            self.copied(),
            if self.dry_run { "to copy" } else { "copied" },
            self.total(|t| t.present),
            self.total(|t| t.skipped),
            self.failed(),
            if self.failed() > 0 && !self.dry_run { format!(" (see {ERROR_TABLE})") } else { String::new() },
            self.seconds
        )
    }
}

/// Options of a run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Count what would be copied; write nothing.
    pub dry_run: bool,
}

/// The `~transfer_error` tables of the target schemas.
pub(crate) struct ErrorLog {
    /// Schemas whose log table exists and has rows.
    with_rows: HashSet<String>,
}

impl ErrorLog {
    fn new(dst: &Db, schemas: &HashSet<String>) -> Result<ErrorLog> {
        let mut with_rows = HashSet::new();
        for s in schemas {
            let name = FullName::new(s.clone(), ERROR_TABLE);
            if dst.catalog().get(&name).is_some() {
                let n = dst.query_raw(
                    &format!("SELECT COUNT(*) FROM {}", dst.dialect().table(&name)),
                    &[],
                )?;
                if n.first()
                    .and_then(|r| r.first())
                    .is_some_and(|v| v.to_text() != "0")
                {
                    with_rows.insert(s.clone());
                }
            }
        }
        Ok(ErrorLog { with_rows })
    }

    pub(crate) fn has_entries(&self, schema: &str) -> bool {
        self.with_rows.contains(schema)
    }

    fn ensure(&self, dst: &Db, schema: &str) -> Result<FullName> {
        let name = FullName::new(schema, ERROR_TABLE);
        if dst.catalog().get(&name).is_none() {
            dst.refresh()?;
        }
        if dst.catalog().get(&name).is_none() {
            let info = declare::compile(&name, Tier::Manual, ERROR_DEFINITION, &|t: &str| {
                Err(Error::UnknownTable(t.to_string()))
            })?;
            dst.create_table(&info)?;
            dst.refresh()?;
        }
        Ok(name)
    }

    /// Records failed rows (replacing an older reason for the same key).
    pub(crate) fn record(
        &mut self,
        dst: &Db,
        src: &FullName,
        target: &FullName,
        failed: &[(Row, String)],
    ) -> Result<()> {
        if failed.is_empty() {
            return Ok(());
        }
        let name = self.ensure(dst, &target.schema)?;
        let t = dst.dialect().table(&name);
        let verb = match dst.dialect() {
            crate::dialect::Dialect::Sqlite => "INSERT OR REPLACE",
            crate::dialect::Dialect::Mysql => "REPLACE",
        };
        let sql = format!("{verb} INTO {t} (`table_name`,`key_hash`,`source_table`,`source_key`,`reason`) VALUES (?,?,?,?,?)");
        let clip = |s: String| {
            if s.chars().count() > 2000 {
                s.chars().take(2000).collect()
            } else {
                s
            }
        };
        for (key, reason) in failed {
            let key_text = key
                .iter()
                .map(|(k, v)| format!("{k}={}", v.python_str()))
                .collect::<Vec<_>>()
                .join(", ");
            dst.execute(
                &sql,
                &[
                    SqlValue::Text(target.raw()),
                    SqlValue::Text(key_hash(key)),
                    SqlValue::Text(src.raw()),
                    SqlValue::Text(clip(key_text)),
                    SqlValue::Text(clip(reason.clone())),
                ],
            )?;
        }
        self.with_rows.insert(target.schema.clone());
        Ok(())
    }

    /// Removes the entries of rows that have now been copied.
    pub(crate) fn clear(&self, dst: &Db, target: &FullName, copied: &[Row]) -> Result<()> {
        if copied.is_empty() || !self.has_entries(&target.schema) {
            return Ok(());
        }
        let t = dst
            .dialect()
            .table(&FullName::new(target.schema.clone(), ERROR_TABLE));
        for chunk in copied.chunks(500) {
            let mut params = vec![SqlValue::Text(target.raw())];
            params.extend(chunk.iter().map(|k| SqlValue::Text(key_hash(k))));
            dst.execute(
                &format!(
                    "DELETE FROM {t} WHERE `table_name` = ? AND `key_hash` IN ({})",
                    vec!["?"; chunk.len()].join(",")
                ),
                &params,
            )?;
        }
        Ok(())
    }
}

/// Runs a plan from `src` into `dst`. Returns the counts; rows that failed are in the
/// summary and in `~transfer_error`, and are not an `Err` (an `Err` is a plan or
/// database error).
pub fn transfer(
    src: &Db,
    dst: &Db,
    plan: &Plan,
    opts: &Options,
    progress: &mut dyn FnMut(Event),
) -> Result<Summary> {
    let started = Instant::now();
    // check everything before writing anything
    let mut jobs = Vec::with_capacity(plan.tables.len());
    let mut seen = HashMap::new();
    for tp in &plan.tables {
        let job = TableJob::compile(plan, tp, src, dst)?;
        if let Some(prev) = seen.insert(job.dst.name.clone(), tp.source.clone()) {
            return Err(Error::Config(format!(
                "transfer plan: {} and {} both copy into {}",
                prev,
                tp.source,
                job.dst.name.raw()
            )));
        }
        jobs.push(job);
    }
    // parents first
    let graph = dst.graph()?;
    let order: HashMap<FullName, usize> = graph
        .topo_order()
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), i))
        .collect();
    jobs.sort_by_key(|j| order.get(&j.dst.name).copied().unwrap_or(usize::MAX));
    let schemas: HashSet<String> = jobs.iter().map(|j| j.dst.name.schema.clone()).collect();
    let mut log = ErrorLog::new(dst, &schemas)?;
    let mut summary = Summary {
        dry_run: opts.dry_run,
        ..Default::default()
    };
    for job in &jobs {
        progress(Event::Table {
            source: job.src.name.raw(),
            target: job.dst.name.raw(),
            rows: job.total,
        });
        summary
            .tables
            .push(job.run(plan, src, dst, opts.dry_run, &mut log, progress)?);
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// `schema.table_name` as stored (legacy tables have no class names).
trait RawName {
    fn raw(&self) -> String;
}

impl RawName for FullName {
    fn raw(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }
}
