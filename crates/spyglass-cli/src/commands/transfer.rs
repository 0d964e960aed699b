//! `spyglass transfer PLAN.yaml [--dry-run]`: copies rows between two databases as a
//! YAML plan says (see `spyglass_db::transfer`). Made for cron: a progress bar only on
//! a terminal, one summary line, and exit codes 0 (everything copied), 3 (some rows
//! failed; they are listed in the target's `~transfer_error`), 1 (an error; nothing
//! copied when it is a plan error).

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use spyglass_db::config::redact_url;
use spyglass_db::transfer::{transfer, Event, Options, Plan};
use spyglass_db::Db;
use std::path::Path;

/// Exit code when some rows failed and were logged.
pub const EXIT_ROWS_FAILED: i32 = 3;

/// A plan's `source`/`target`: a URL, or the name of an environment variable holding
/// one (so that passwords stay out of plan files).
fn resolve(what: &str, value: &str) -> Result<String> {
    if value.contains("://") {
        return Ok(value.to_string());
    }
    std::env::var(value).with_context(|| {
        format!("plan {what} `{value}` is neither a URL nor a set environment variable")
    })
}

fn open(what: &str, value: &str) -> Result<Db> {
    let url = resolve(what, value)?;
    Db::open(&url).with_context(|| format!("opening the {what} {}", redact_url(&url)))
}

/// Runs the command; returns the process exit code.
pub fn run(plan_path: &Path, dry_run: bool) -> Result<i32> {
    let plan = Plan::from_file(plan_path)?;
    let src = open("source", &plan.source)?;
    let dst = open("target", &plan.target)?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} rows ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let summary = transfer(&src, &dst, &plan, &Options { dry_run }, &mut |e| match e {
        Event::Table { target, rows, .. } => {
            bar.set_position(0);
            bar.set_length(rows);
            bar.set_message(target);
        }
        Event::Rows(n) => bar.inc(n),
    });
    bar.finish_and_clear();
    let summary = summary?;
    for t in &summary.tables {
        println!(
            "{} -> {}: {} read, {} {}, {} present, {} skipped, {} failed",
            t.source,
            t.target,
            t.source_rows,
            t.copied,
            if dry_run { "to copy" } else { "copied" },
            t.present,
            t.skipped,
            t.failed
        );
    }
    println!("{}", summary.line());
    Ok(if summary.failed() > 0 && !dry_run {
        EXIT_ROWS_FAILED
    } else {
        0
    })
}
