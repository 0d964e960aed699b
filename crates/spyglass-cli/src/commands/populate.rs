//! `spyglass populate`, `worker` and `jobs`: run registered makes with a progress
//! bar, in parallel workers when asked, and inspect or clear the `~jobs` tables.

use crate::output::{self, Format};
use anyhow::{anyhow, bail, Result};
use indicatif::{ProgressBar, ProgressStyle};
use spyglass_db::populate::{Maker, PopulateOptions, Progress, Registry};
use spyglass_db::{Cond, Db, Query};
use std::sync::Arc;

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// A bar labelled with the table name.
    pub fn new(label: &str) -> Bar {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} keys {msg} ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(label.to_string());
        Bar { bar }
    }
}

impl Progress for Bar {
    fn start(&self, total: usize) {
        self.bar.set_length(total as u64);
    }
    fn tick(&self, _made: usize, errors: usize) {
        self.bar.inc(1);
        if errors > 0 {
            self.bar.set_message(format!("{errors} errors"));
        }
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// One `spyglass populate` request.
pub struct Job {
    /// Table to fill.
    pub table: String,
    /// Restriction on the keys.
    pub cond: Cond,
    /// Reserve keys in ~jobs.
    pub reserve_jobs: bool,
    /// Parallel workers.
    pub workers: usize,
    /// Carry on past failures.
    pub suppress_errors: bool,
    /// At most this many makes per worker.
    pub max_calls: Option<usize>,
}

/// The makes of every pipeline, writing under the environment's directory layout.
fn registry() -> Registry {
    spyglass::pipelines::makers(&spyglass::Settings::from_env())
}

fn maker_for(db: &Db, reg: &Registry, table: &str) -> Result<(Arc<dyn Maker>, Option<Query>)> {
    let info = db.table_info(table)?;
    reg.get(db, &info).ok_or_else(|| {
        let known = reg.tables();
        anyhow!(
            "no make is registered for {}{}",
            info.name.pretty(),
            if known.is_empty() {
                String::new()
            } else {
                format!(" (registered: {})", known.join(", "))
            }
        )
    })
}

/// Most parallel workers one `populate` runs: each holds a database connection and
/// its own buffers, so thousands exhaust memory; start more processes (`spyglass
/// worker`) to go wider.
pub const MAX_WORKERS: usize = 64;

/// Runs populate, in `job.workers` threads (each with its own connection) when > 1.
pub fn run(db: &Db, url: &str, job: &Job) -> Result<()> {
    let reg = &registry();
    if job.workers == 0 || job.workers > MAX_WORKERS {
        anyhow::bail!(
            "--workers {}: expected 1 to {MAX_WORKERS} (for more, run several `spyglass worker` processes)",
            job.workers
        );
    }
    let (maker, ks) = maker_for(db, reg, &job.table)?;
    let opts = PopulateOptions {
        restrictions: vec![job.cond.clone()],
        reserve_jobs: job.reserve_jobs || job.workers > 1,
        suppress_errors: job.suppress_errors,
        order: if job.workers > 1 {
            spyglass_db::populate::Order::Random
        } else {
            Default::default()
        },
        max_calls: job.max_calls,
        ..Default::default()
    };
    let (mut made, mut errors, mut skipped) = (0, Vec::new(), 0);
    if job.workers <= 1 {
        let r = db.populate(
            &job.table,
            maker.as_ref(),
            ks.as_ref(),
            &opts,
            &Bar::new(&job.table),
        )?;
        (made, errors, skipped) = (r.success_count, r.error_list, r.skipped);
    } else {
        let results: Vec<Result<spyglass_db::populate::PopulateReport>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..job.workers)
                .map(|_| {
                    let (maker, ks, opts) = (maker.clone(), ks.clone(), opts.clone());
                    s.spawn(move || -> Result<_> {
                        // opened as every command opens it: the same stores, the
                        // user's active export logging and the lab-admin write guard
                        let db = crate::open::open(Some(url))?;
                        Ok(db.populate(
                            &job.table,
                            maker.as_ref(),
                            ks.as_ref(),
                            &opts,
                            &spyglass_db::populate::NoProgress,
                        )?)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().map_err(|_| anyhow!("a worker thread panicked"))?)
                .collect()
        });
        for r in results {
            let r = r?;
            made += r.success_count;
            skipped += r.skipped;
            errors.extend(r.error_list);
        }
    }
    println!(
        "{}: made {made} keys, {} errors, {skipped} skipped",
        job.table,
        errors.len()
    );
    for (key, msg) in errors.iter().take(20) {
        let k: Vec<String> = key
            .iter()
            .map(|(a, v)| format!("{a}={}", v.python_str()))
            .collect();
        println!("  ({}): {msg}", k.join(", "));
    }
    if !errors.is_empty() && !job.suppress_errors {
        bail!("populate stopped at the first error");
    }
    Ok(())
}

/// Runs a worker loop over the listed tables.
pub fn worker(db: &Db, tables: &[String]) -> Result<()> {
    let reg = &registry();
    let mut list = Vec::new();
    for t in tables {
        let (m, ks) = maker_for(db, reg, t)?;
        list.push((t.clone(), m, ks));
    }
    let r = db.work(&list, &[], &Bar::new("worker"))?;
    println!(
        "worker done: made {} keys, {} errors, {} passes",
        r.made, r.errors, r.passes
    );
    Ok(())
}

/// Lists or clears jobs.
pub fn jobs(
    db: &Db,
    target: Option<&str>,
    clear_errors: bool,
    clear_stale: bool,
    stale_after: Option<u64>,
    format: Format,
) -> Result<()> {
    // without a target: this project's schemas only (prefixed ones under a prefix)
    let (schemas, table) = match target {
        None => (spyglass::check::project_schemas(db), None),
        Some(t) if db.schemas().contains(&db.schema_name(t)) => (vec![db.schema_name(t)], None),
        Some(t) => {
            let info = db.table_info(t)?;
            (vec![info.name.schema.clone()], Some(info.name.clone()))
        }
    };
    if clear_errors || clear_stale {
        for s in &schemas {
            if clear_errors {
                println!(
                    "{s}: cleared {} error jobs",
                    db.clear_error_jobs(s, table.as_ref())?
                );
            }
            if clear_stale {
                let n = db.clear_stale_jobs(s, stale_after.map(std::time::Duration::from_secs))?;
                println!("{s}: cleared {n} stale reservations");
            }
        }
        return Ok(());
    }
    let mut rows = Vec::new();
    for s in &schemas {
        for r in db.jobs(s, table.as_ref())? {
            let mut pairs = vec![("schema".to_string(), spyglass_db::Value::Str(s.clone()))];
            pairs.extend(r.iter().map(|(k, v)| (k.to_string(), v.clone())));
            rows.push(spyglass_db::Row::from_pairs(pairs));
        }
    }
    let cols: Vec<String> = [
        "schema",
        "table_name",
        "key_hash",
        "status",
        "error_message",
        "user",
        "host",
        "pid",
        "timestamp",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows: Vec<spyglass_db::Row> = rows.iter().map(|r| r.project(&cols)).collect();
    print!("{}", output::render_rows(&cols, &[], &rows, format, None)?);
    Ok(())
}
