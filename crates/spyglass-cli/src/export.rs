//! `spyglass export start|stop|preview|run`: log an analysis's fetches for a paper,
//! look at what would be exported, and write the export. The active export is kept
//! in `<base dir>/.spyglass_export.json` so that every `spyglass` command run in
//! between (on the same database) logs into it.

use crate::output;
use anyhow::{bail, Context, Result};
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

#[derive(serde::Serialize, serde::Deserialize)]
struct ActiveExport {
    export_id: i64,
    paper_id: String,
    analysis_id: String,
    /// The database, with any password removed.
    database: String,
}

fn state_path() -> PathBuf {
    crate::settings::base_dir().join(".spyglass_export.json")
}

fn read_state() -> Result<Option<ActiveExport>> {
    let p = state_path();
    if !p.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
    let s = serde_json::from_str(&text)
        .with_context(|| format!("{}: not an export state file", p.display()))?;
    Ok(Some(s))
}

/// Resumes the active export (if one was started on this database) on a newly opened `db`.
pub fn resume(db: &Db, url: &str) -> Result<()> {
    if let Some(s) = read_state()? {
        if s.database == spyglass_db::config::redact_url(url) {
            export::resume_export(db, s.export_id)?;
        }
    }
    Ok(())
}

/// Runs one export subcommand.
pub fn run(db: &Db, url: &str, cmd: ExportCommand) -> Result<()> {
    match cmd {
        ExportCommand::Start { paper, analysis } => {
            if let Some(s) = read_state()? {
                bail!(
                    "export {} (paper {}, analysis {}) is active: run `spyglass export stop` first",
                    s.export_id,
                    s.paper_id,
                    s.analysis_id
                );
            }
            export::stop_export(db);
            let id = export::start_export(db, &paper, &analysis)?;
            let state = ActiveExport {
                export_id: id,
                paper_id: paper.clone(),
                analysis_id: analysis.clone(),
                database: spyglass_db::config::redact_url(url),
            };
            let p = state_path();
            if let Some(dir) = p.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&p, serde_json::to_string_pretty(&state)?)
                .with_context(|| format!("writing {}", p.display()))?;
            println!(
                "export {id} started for paper {paper}, analysis {analysis}: fetches are logged until `spyglass export stop`"
            );
            Ok(())
        }
        ExportCommand::Stop => {
            export::stop_export(db);
            let Some(s) = read_state()? else {
                println!("no export is active");
                return Ok(());
            };
            std::fs::remove_file(state_path())?;
            let n = export::preview_tables(db, &s.paper_id)?
                .iter()
                .filter(|r| r.export_id == s.export_id)
                .count();
            println!(
                "export {} stopped (paper {}, analysis {}): {n} restrictions logged",
                s.export_id, s.paper_id, s.analysis_id
            );
            Ok(())
        }
        ExportCommand::Preview { paper } => {
            export::stop_export(db);
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
            export::stop_export(db);
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
