//! `spyglass export start|stop|preview|run`: log an analysis's fetches for a paper,
//! look at what would be exported, and write the export. The active export is
//! recorded in the database per user (`common_usage.ActiveExport`), so that every
//! `spyglass` command the same user runs in between on that database logs into it.

use crate::output;
use anyhow::Result;
use clap::Subcommand;
use spyglass::export::{self, paper, ExportOptions};
use spyglass_db::Db;
use std::path::PathBuf;

/// The export subcommands.
#[derive(Subcommand)]
pub enum ExportCommand {
    /// Start logging fetches for a paper's analysis.
    Start {
        /// Paper id (at most 32 characters).
        #[arg(long)]
        paper: String,
        /// Analysis id within the paper (at most 32 characters).
        #[arg(long)]
        analysis: String,
    },
    /// Stop logging.
    Stop,
    /// Show the logged restrictions of a paper, the rows they cascade to and the files.
    Preview {
        /// Paper id.
        #[arg(long)]
        paper: String,
    },
    /// Write the export: mysqldump script, SQL file, bundle (and a dandiset).
    Run {
        /// Paper id.
        #[arg(long)]
        paper: String,
        /// Parent folder of `<paper>/` (default: the export dir of the base dir).
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// Also organise the NWB files as a dandiset in this folder.
        #[arg(long)]
        dandi: Option<PathBuf>,
    },
}

/// Resumes the export the user has active on this database (recorded in
/// `common_usage.ActiveExport`) on a newly opened `db`.
pub fn resume(db: &Db) -> Result<()> {
    export::resume_active(db)?;
    Ok(())
}

/// Runs one export subcommand.
pub fn run(db: &Db, cmd: ExportCommand) -> Result<()> {
    match cmd {
        ExportCommand::Start { paper, analysis } => {
            export::pause_logging(db);
            let id = export::start_export(db, &paper, &analysis)?;
            println!(
                "export {id} started for paper {paper}, analysis {analysis}: fetches are logged until `spyglass export stop`"
            );
            Ok(())
        }
        ExportCommand::Stop => {
            let user = export::export_user(db)?;
            let Some((id, paper_id, analysis_id)) = export::active_export_of(db, &user)? else {
                export::pause_logging(db);
                println!("no export is active for user '{user}'");
                return Ok(());
            };
            export::stop_export(db);
            let n = export::preview_tables(db, &paper_id)?
                .iter()
                .filter(|r| r.export_id == id)
                .count();
            println!(
                "export {id} stopped (paper {paper_id}, analysis {analysis_id}): {n} restrictions logged"
            );
            Ok(())
        }
        ExportCommand::Preview { paper } => {
            export::pause_logging(db);
            let logged = export::preview_tables(db, &paper)?;
            let header: Vec<String> = ["export", "table", "restriction"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            let cells = logged
                .iter()
                .map(|r| {
                    vec![
                        r.export_id.to_string(),
                        r.table.pretty(),
                        r.restriction.clone(),
                    ]
                })
                .collect();
            println!("logged restrictions of paper {paper}:");
            println!("{}", output::table(&header, cells));
            let slice = paper::paper_slice(db, &paper)?;
            print_slice(&slice);
            let files = paper::slice_files(db, &slice)?;
            println!("{} files:", files.len());
            for f in &files {
                println!("  {} ({} bytes)", f.source.display(), f.size);
            }
            Ok(())
        }
        ExportCommand::Run {
            paper,
            output,
            dandi,
        } => {
            export::pause_logging(db);
            let settings = spyglass::Settings::from_env();
            let opts = ExportOptions {
                out_dir: output,
                dandi_dir: dandi,
            };
            let done = paper::populate_paper(db, &settings, &paper, &opts)?;
            print_export(&done);
            Ok(())
        }
    }
}

fn print_slice(slice: &spyglass_db::slice::Slice) {
    let header: Vec<String> = ["table", "stored name", "rows"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let cells = slice
        .tables
        .iter()
        .map(|t| {
            vec![
                t.name.pretty(),
                t.name.to_string(),
                t.keys.len().to_string(),
            ]
        })
        .collect();
    println!(
        "the export holds {} rows in {} tables:",
        slice.total_rows(),
        slice.tables.len()
    );
    println!("{}", output::table(&header, cells));
}

/// Prints what `populate_paper` wrote.
pub fn print_export(done: &paper::PaperExport) {
    let header: Vec<String> = ["table", "rows"].iter().map(|s| s.to_string()).collect();
    let cells = done
        .tables
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(t, n)| vec![t.pretty(), n.to_string()])
        .collect();
    println!(
        "export of paper {} (export id {}): {} rows in {} tables, {} files",
        done.paper_id,
        done.export_id,
        done.total_rows(),
        done.tables.len(),
        done.files.len()
    );
    println!("{}", output::table(&header, cells));
    println!("  script:  {}", done.script.display());
    println!(
        "  SQL:     {} ({} bytes)",
        done.sql_file.display(),
        done.sql_bytes
    );
    println!("  bundle:  {}", done.bundle.display());
    println!(
        "  open it: spyglass --db sqlite:///{} tables",
        done.bundle.join(paper::BUNDLE_DB).display()
    );
    if let Some(d) = &done.dandi {
        print!("{d}");
    }
}
