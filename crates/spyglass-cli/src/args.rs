//! The command line's shape: the engine's commands (clap derive) and, from the
//! pipeline registry, one command family per pipeline family (`spyglass lfp …`,
//! `spyglass filter …`). Names and flags are a stable contract.

use crate::output::Format;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "spyglass",
    version,
    about = "Reproducible neurophysiology pipelines on the DataJoint model"
)]
pub struct Cli {
    /// Database URL (sqlite:///relative.db, sqlite:////absolute.db, mysql://user@host:port);
    /// default: $SPYGLASS_DB, spyglass.toml, or spyglass.db in the base dir.
    #[arg(long, global = true)]
    pub db: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

/// `--key ATTR=VALUE` and `--where SQL`, repeatable; all must hold.
#[derive(clap::Args)]
pub struct RestrictArgs {
    /// Restrict by ATTR=VALUE (repeatable; all must hold).
    #[arg(long = "key", value_name = "ATTR=VALUE")]
    pub keys: Vec<String>,
    /// Restrict by an SQL condition (repeatable; all must hold).
    #[arg(long = "where", value_name = "SQL")]
    pub wheres: Vec<String>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Create the configuration file and the database.
    Init {
        /// Write a spyglass.toml in the current directory instead of the base dir.
        #[arg(long)]
        here: bool,
    },
    /// Declare the tables listed in a YAML file.
    Declare {
        /// The YAML file (schema: NAME, tables: [...]).
        file: PathBuf,
    },
    /// List tables with their tier and row count.
    Tables {
        /// Only this schema.
        #[arg(long)]
        schema: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Print a table's definition.
    Describe {
        /// schema.ClassName or schema.table_name.
        table: String,
    },
    /// Print rows of a table.
    Show {
        /// schema.ClassName or schema.table_name.
        table: String,
        #[command(flatten)]
        restrict: RestrictArgs,
        /// At most this many rows.
        #[arg(long)]
        limit: Option<u64>,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Insert rows from a JSON (array of objects) or CSV file.
    Load {
        /// schema.ClassName or schema.table_name.
        table: String,
        /// FILE.json or FILE.csv.
        file: PathBuf,
        /// Skip rows whose key exists.
        #[arg(long)]
        skip_duplicates: bool,
    },
    /// Fill an imported or computed table by running its make for every missing key.
    Populate {
        /// schema.ClassName of the table to fill.
        table: String,
        #[command(flatten)]
        restrict: RestrictArgs,
        /// Reserve each key in the schema's ~jobs table first.
        #[arg(long)]
        reserve_jobs: bool,
        /// Run this many workers in parallel (implies --reserve-jobs); 1 to 64.
        #[arg(long, default_value_t = 1)]
        workers: usize,
        /// Record failures and carry on.
        #[arg(long)]
        suppress_errors: bool,
        /// Make at most this many keys (per worker).
        #[arg(long)]
        max_calls: Option<usize>,
    },
    /// Populate the listed tables with reservation until nothing is left (run many at once).
    Worker {
        /// schema.ClassName of each table.
        #[arg(required = true)]
        tables: Vec<String>,
    },
    /// List job reservations and errors; clear errors or stale reservations.
    Jobs {
        /// Only this table (schema.ClassName) or schema.
        table: Option<String>,
        /// Delete error rows so that their keys are tried again.
        #[arg(long)]
        clear_errors: bool,
        /// Delete reservations of dead processes on this host (and older than --stale-after).
        #[arg(long)]
        clear_stale: bool,
        /// With --clear-stale: also reservations older than this many seconds.
        #[arg(long, value_name = "SECONDS")]
        stale_after: Option<u64>,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Delete rows and everything that depends on them (previewed; asks to confirm).
    Delete {
        /// schema.ClassName or schema.table_name.
        table: String,
        #[command(flatten)]
        restrict: RestrictArgs,
        /// Only show what would be deleted.
        #[arg(long)]
        dry_run: bool,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Who is deleting, on SQLite (a datajoint_user_name; default $SPYGLASS_USER,
        /// $USER); on MySQL the database account is the user.
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        /// Skip the lab-team permission check (Spyglass's super delete; logged as such).
        #[arg(long)]
        force_permission: bool,
        /// Keep the files (raw copies, analysis files) whose rows the delete removes.
        #[arg(long)]
        keep_files: bool,
    },
    /// Drop a table (with its parts and dependents) or a whole schema.
    Drop {
        /// schema.ClassName of the table.
        #[arg(required_unless_present = "schema", conflicts_with = "schema")]
        table: Option<String>,
        /// Drop this schema instead.
        #[arg(long)]
        schema: Option<String>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Who is dropping, on SQLite (as for `delete`); on MySQL the database account.
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
    },
    /// Serve the browser viewer (database, sessions, traces) on this machine.
    View {
        /// Port to listen on (0: any free port).
        #[arg(long, default_value_t = 8765)]
        port: u16,
        /// Address to bind; the default serves this machine only. The token is
        /// required on any address.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Open the URL in the default browser.
        #[arg(long)]
        open: bool,
        /// Accept curations from the browser's sorting view: new CurationV1 rows,
        /// attributed to the database user (read-only otherwise).
        #[arg(long, conflicts_with = "export")]
        allow_curation: bool,
        /// Write the VIEWS as a self-contained HTML folder here instead of serving.
        #[arg(long, value_name = "DIR", requires = "views")]
        export: Option<PathBuf>,
        /// With --export: the views, as in the viewer's URLs after `#/` (`db`,
        /// `session/NAME.nwb`, `traces/NAME.nwb?src=ID&ch=0,1&t0=0&t1=10`, ...).
        #[arg(value_name = "VIEW")]
        views: Vec<String>,
    },
    /// Ingest NWB sessions into the common tables (Spyglass's insert_sessions).
    Insert {
        /// The raw NWB files (paths, or names in $SPYGLASS_BASE_DIR/raw).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Delete an already ingested session and ingest it again.
        #[arg(long)]
        reinsert: bool,
        /// Keep the database's values where shared rows differ from the file.
        #[arg(long)]
        accept_divergence: bool,
        /// With --reinsert: who deletes the old session (cautious delete's user, as
        /// `delete --user`; on MySQL the database account).
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        /// A Kilosort / phy output folder sorted from the file's raw series: its units
        /// become the session's units table and ImportedSpikeSorting (one file only).
        #[arg(long, value_name = "DIR")]
        kilosort: Option<PathBuf>,
    },
    /// Remove analysis files and rows that nothing refers to.
    Cleanup {
        /// Only list what would be removed.
        #[arg(long)]
        dry_run: bool,
        /// Leave untracked analysis files younger than this many seconds.
        #[arg(long, default_value_t = 3600)]
        min_age_secs: u64,
    },
    /// Manage session groups.
    #[command(subcommand)]
    SessionGroup(crate::commands::sessions::GroupCommand),
    /// Check the installation end to end and say what to do about each problem.
    Doctor,
    /// Copy rows between databases as a YAML plan says (exit 3 when some rows failed).
    Transfer {
        /// The plan (source, target, prefix_map, tables with renames and transforms).
        plan: PathBuf,
        /// Count what would be copied per table; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Insert the default rows of every Parameters table, or of the ones named.
    Defaults {
        /// Tables (schema.Class or class name); all when omitted.
        tables: Vec<String>,
    },
    /// Run the LFP pipeline end to end on a synthetic session and draw a picture.
    Demo {
        /// Working directory (database, files, picture).
        #[arg(long, default_value = "spyglass-demo")]
        dir: PathBuf,
    },
    /// Log an analysis's fetches for a paper and export exactly what it used.
    #[command(subcommand)]
    Export(crate::commands::export::ExportCommand),
    /// Read the NWB objects a table's rows refer to (Spyglass's fetch_nwb); merge
    /// tables through their parts; logged by an active export.
    FetchNwb {
        /// schema.ClassName or schema.table_name.
        table: String,
        #[command(flatten)]
        restrict: RestrictArgs,
        /// Output format (json lists the objects' HDF5 paths).
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Also copy each object's data here (.npy with timestamps and a .json, or .csv).
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: Option<PathBuf>,
    },
    /// Compare the database with spyglass-rs's tables (read-only): differences,
    /// incompatibilities, missing tables, tables with no pipeline yet, orphans.
    Check {
        /// Output format (table or json).
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// List every table with no pipeline yet by name.
        #[arg(long)]
        verbose: bool,
    },
    /// Draw the dependency graph as DOT, Mermaid or SVG (by the output's extension).
    Diagram {
        /// Only this schema.
        #[arg(long)]
        schema: Option<String>,
        /// Output file: .dot, .mmd or .svg.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
    },
}

/// What each pipeline command family is about (`spyglass --help`).
fn family_about(family: &str) -> &'static str {
    match family {
        "filter" => "Design, store and list FIR filters (FirFilterParameters)",
        "lfp" => "Set up the LFP pipelines: electrode groups, LFP and band selections",
        "position" => "Set up the position pipelines: TrodesPosParams and selections",
        "linearization" => "Set up linearization: track graphs, parameters and selections",
        "mua" => "Multiunit high-synchrony events: MuaEventsParameters and MuaEventsV1",
        _ => "Set up this family's pipelines",
    }
}

/// The whole command line: the engine's commands and the pipelines' families.
pub fn command() -> clap::Command {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    for (family, pipelines) in spyglass::pipelines::families() {
        let sub = clap::Command::new(family)
            .about(family_about(family))
            .subcommand_required(true)
            .arg_required_else_help(true)
            .subcommands(pipelines.iter().flat_map(|p| p.commands()));
        cmd = cmd.subcommand(sub);
    }
    cmd
}
