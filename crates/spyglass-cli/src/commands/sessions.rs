//! The framework's subcommands: `insert` (ingest NWB sessions with progress bars
//! over files and tables), `cleanup` (remove analysis rows and files nothing
//! refers to) and `session-group` (add, describe, add/remove sessions, list, delete).

use anyhow::{bail, Result};
use clap::Subcommand;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use spyglass::analysis::{self, CleanupOptions};
use spyglass::ingest::{self, FileReport, FileStatus, IngestOptions, IngestProgress};
use spyglass::{session_group, Settings};
use spyglass_db::Db;
use std::path::PathBuf;
use std::time::Duration;

/// `spyglass session-group ...`.
#[derive(Subcommand)]
pub enum GroupCommand {
    /// Create a group.
    Add {
        /// Group name.
        name: String,
        /// Its description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Replace a group's description.
    Describe {
        /// Group name.
        name: String,
        /// The new description.
        description: String,
    },
    /// Add sessions (nwb_file_name, e.g. rat1_.nwb) to a group.
    AddSession {
        /// Group name.
        name: String,
        /// Sessions to add.
        #[arg(required = true)]
        sessions: Vec<String>,
    },
    /// Remove sessions from a group.
    RemoveSession {
        /// Group name.
        name: String,
        /// Sessions to remove.
        #[arg(required = true)]
        sessions: Vec<String>,
    },
    /// List groups with their sessions.
    List,
    /// Delete a group.
    Delete {
        /// Group name.
        name: String,
    },
}

/// Progress bars: one over files, one over the tables of the current file.
struct Bars {
    files: ProgressBar,
    tables: ProgressBar,
}

impl Bars {
    fn new() -> Bars {
        let mp = MultiProgress::new();
        let files = mp.add(ProgressBar::new(0));
        files.set_style(
            ProgressStyle::with_template("{prefix:>7} [{bar:30}] {pos}/{len} files {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        files.set_prefix("insert");
        let tables = mp.add(ProgressBar::new(0));
        tables.set_style(
            ProgressStyle::with_template("{prefix:>7} [{bar:30}] {pos}/{len} tables {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        tables.set_prefix("");
        Bars { files, tables }
    }
}

impl IngestProgress for Bars {
    fn start(&self, n_files: usize) {
        self.files.set_length(n_files as u64);
    }
    fn file_started(&self, _index: usize, name: &str, steps: usize) {
        self.files.set_message(name.to_string());
        self.tables.set_length(steps as u64);
        self.tables.set_position(0);
    }
    fn step_done(&self, table: &str, _rows: u64) {
        self.tables.set_message(table.to_string());
        self.tables.inc(1);
    }
    fn file_finished(&self, report: &FileReport) {
        self.files.inc(1);
        let line = summary(report);
        self.files.suspend(|| eprintln!("{line}"));
    }
}

fn summary(r: &FileReport) -> String {
    let mut s = match &r.status {
        FileStatus::Inserted => format!(
            "{}: inserted {} rows into {} tables in {:.2} s",
            r.nwb_file_name,
            r.rows_inserted(),
            r.rows.iter().filter(|(_, n)| *n > 0).count(),
            r.elapsed.as_secs_f64()
        ),
        FileStatus::AlreadyPresent => {
            format!("{}: already ingested; nothing to do", r.nwb_file_name)
        }
        FileStatus::Failed { message, .. } => {
            format!("{}: FAILED, nothing inserted: {message}", r.nwb_file_name)
        }
    };
    for w in &r.warnings {
        s.push_str(&format!("\n  warning: {w}"));
    }
    s
}

/// `spyglass insert FILE.nwb...`.
pub fn insert(db: &Db, files: &[PathBuf], opts: IngestOptions) -> Result<()> {
    let settings = Settings::from_env();
    let bars = Bars::new();
    let reports = ingest::insert_sessions(db, &settings, files, &opts, &bars)?;
    bars.tables.finish_and_clear();
    bars.files.finish_and_clear();
    let failed = reports.iter().filter(|r| !r.is_ok()).count();
    let rows: u64 = reports.iter().map(FileReport::rows_inserted).sum();
    println!(
        "{} file(s): {} inserted, {} already present, {} failed; {} rows",
        reports.len(),
        reports
            .iter()
            .filter(|r| r.status == FileStatus::Inserted)
            .count(),
        reports
            .iter()
            .filter(|r| r.status == FileStatus::AlreadyPresent)
            .count(),
        failed,
        rows
    );
    if failed > 0 {
        bail!("{failed} file(s) failed; see common_usage.InsertError");
    }
    Ok(())
}

/// `spyglass cleanup [--dry-run]`.
pub fn cleanup(db: &Db, dry_run: bool, min_age_secs: u64) -> Result<()> {
    // only the opened database's own stores (a bundle's folders, not the lab's)
    let mut settings = Settings::from_env();
    let own = |name: &str| {
        db.store(name)
            .ok()
            .map(|s| spyglass::settings::absolute(&s.location))
    };
    let lab = spyglass::settings::absolute(&settings.analysis_dir);
    match (own("raw"), own("analysis")) {
        (Some(raw), Some(analysis)) if analysis != lab => {
            // a database with its own folders (a paper bundle): leave its tables and
            // the lab's directories as they are
            settings.raw_dir = raw;
            settings.analysis_dir = analysis;
        }
        _ => {
            ingest::prepare(db, &settings)?;
        }
    }
    let r = analysis::cleanup(
        db,
        &settings,
        &CleanupOptions {
            dry_run,
            min_age: Duration::from_secs(min_age_secs),
        },
    )?;
    let verb = if dry_run { "would remove" } else { "removed" };
    println!("{verb} {} AnalysisNwbfile row(s)", r.analysis_rows.len());
    for n in &r.analysis_rows {
        println!("  row  {n}");
    }
    println!(
        "{verb} {} file(s)",
        r.analysis_files.len() + r.untracked_files.len() + r.raw_copies.len()
    );
    for p in r
        .analysis_files
        .iter()
        .chain(&r.untracked_files)
        .chain(&r.raw_copies)
    {
        println!("  file {}", p.display());
    }
    Ok(())
}

/// `spyglass session-group ...`.
pub fn session_group(db: &Db, cmd: GroupCommand) -> Result<()> {
    let settings = Settings::from_env();
    ingest::prepare(db, &settings)?;
    match cmd {
        GroupCommand::Add { name, description } => {
            session_group::add_group(db, &name, &description)?;
            println!("added group {name}");
        }
        GroupCommand::Describe { name, description } => {
            session_group::update_description(db, &name, &description)?;
        }
        GroupCommand::AddSession { name, sessions } => {
            for s in &sessions {
                session_group::add_session(db, &name, s)?;
            }
        }
        GroupCommand::RemoveSession { name, sessions } => {
            for s in &sessions {
                if !session_group::remove_session(db, &name, s)? {
                    eprintln!("warning: {s} was not in group {name}");
                }
            }
        }
        GroupCommand::List => {
            for g in session_group::list_groups(db)? {
                println!("{}\t{}\t{}", g.name, g.description, g.sessions.join(","));
            }
        }
        GroupCommand::Delete { name } => session_group::delete_group(db, &name)?,
    }
    Ok(())
}
