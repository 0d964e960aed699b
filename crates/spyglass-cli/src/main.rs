//! The `spyglass` command. Thin glue: parse arguments, open the database, call the
//! engine and print the result. Subcommand names and flags are a stable contract.

mod check;
mod declare_file;
mod delete;
mod doctor;
mod export;
mod fetch_nwb;
mod lfp;
mod output;
mod populate;
mod sessions;
mod settings;
mod transfer;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use output::Format;
use spyglass_db::diagram::{self, DiagramFormat};
use spyglass_db::{Cond, Db, FetchSpec, InsertOptions, Row, Value};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "spyglass",
    version,
    about = "Reproducible neurophysiology pipelines on the DataJoint model"
)]
struct Cli {
    /// Database URL (sqlite:///relative.db, sqlite:////absolute.db, mysql://user@host:port);
    /// default: $SPYGLASS_DB, spyglass.toml, or spyglass.db in the base dir.
    #[arg(long, global = true)]
    db: Option<String>,
    #[command(subcommand)]
    command: Command,
}

/// `--key ATTR=VALUE` and `--where SQL`, repeatable; all must hold.
#[derive(clap::Args)]
struct RestrictArgs {
    /// Restrict by ATTR=VALUE (repeatable; all must hold).
    #[arg(long = "key", value_name = "ATTR=VALUE")]
    keys: Vec<String>,
    /// Restrict by an SQL condition (repeatable; all must hold).
    #[arg(long = "where", value_name = "SQL")]
    wheres: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
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
    SessionGroup(sessions::GroupCommand),
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
    /// Design, store and list FIR filters (FirFilterParameters).
    #[command(subcommand)]
    Filter(lfp::FilterCommand),
    /// Set up the LFP pipelines: electrode groups, LFP and band selections.
    #[command(subcommand)]
    Lfp(lfp::LfpCommand),
    /// Run the LFP pipeline end to end on a synthetic session and draw a picture.
    Demo {
        /// Working directory (database, files, picture).
        #[arg(long, default_value = "spyglass-demo")]
        dir: PathBuf,
    },
    /// Log an analysis's fetches for a paper and export exactly what it used.
    #[command(subcommand)]
    Export(export::ExportCommand),
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

fn main() {
    // behave like other command-line tools when the reader goes away (`spyglass show | head`)
    // SAFETY: restoring the default SIGPIPE disposition before any output.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {}", error_message(&e));
        std::process::exit(1);
    }
}

/// The error with its causes, `a: b: c`, leaving out a cause whose text the message
/// already holds (wrapped errors that repeat their source would read `X: X`).
fn error_message(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain() {
        let c = cause.to_string();
        if c.is_empty() || msg.contains(&c) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&c);
    }
    msg
}

/// Opens the database: a bundle's SQLite file gets the bundle's file stores, any other
/// database the base dir's `raw`/`analysis` stores unless DataJoint's config set them;
/// an export started with `spyglass export start` on this database keeps logging.
fn open(cli_db: Option<&str>) -> Result<Db> {
    let url = settings::database_url(cli_db)?;
    let db = Db::open(&url)
        .with_context(|| format!("opening {}", spyglass_db::config::redact_url(&url)))?;
    let sqlite_path = spyglass_db::backend::sqlite::path_of_url(&url)
        .ok()
        .flatten();
    if let Some(prefix) = sqlite_path
        .as_deref()
        .and_then(spyglass::export::paper::bundle_prefix)
        .filter(|p| !p.is_empty())
    {
        db.set_prefix(&prefix);
    }
    let bundle = sqlite_path
        .as_deref()
        .and_then(spyglass::export::paper::bundle_stores);
    match bundle {
        Some(stores) => {
            for (name, dir) in stores {
                let mut cfg =
                    spyglass_db::stores::StoreConfig::local(spyglass::settings::absolute(&dir));
                cfg.checksum_size_limit = Some(spyglass::settings::CHECKSUM_SIZE_LIMIT);
                db.set_store(&name, cfg);
            }
        }
        None => {
            if db.store("raw").is_err() && db.store("analysis").is_err() {
                spyglass::Settings::from_env().configure_stores(&db);
            }
        }
    }
    export::resume(&db)?;
    // lab members' accounts, admin flags and teams stay admin-only (cautious delete)
    spyglass::lab_admin::install_write_guard(&db, None);
    Ok(db)
}

fn run(cli: Cli) -> Result<()> {
    let db_flag = cli.db.as_deref();
    match cli.command {
        Command::Init { here } => init(db_flag, here),
        Command::Declare { file } => declare(&open(db_flag)?, &file),
        Command::Tables { schema, format } => tables(&open(db_flag)?, schema.as_deref(), format),
        Command::Describe { table } => {
            print!("{}", open(db_flag)?.describe(&table)?);
            Ok(())
        }
        Command::Show {
            table,
            restrict,
            limit,
            format,
        } => show(&open(db_flag)?, &table, &restrict, limit, format),
        Command::Load {
            table,
            file,
            skip_duplicates,
        } => load(&open(db_flag)?, &table, &file, skip_duplicates),
        Command::Defaults { tables } => lfp::defaults(&open(db_flag)?, &tables),
        Command::Filter(cmd) => lfp::filter_cmd(&open(db_flag)?, cmd),
        Command::Lfp(cmd) => lfp::lfp_cmd(&open(db_flag)?, cmd),
        Command::Demo { dir } => lfp::demo(&dir),
        Command::Export(cmd) => export::run(&open(db_flag)?, cmd),
        Command::Diagram { schema, output } => draw(&open(db_flag)?, schema.as_deref(), &output),
        Command::FetchNwb {
            table,
            restrict,
            format,
            output,
        } => fetch_nwb::run(
            &open(db_flag)?,
            &table,
            &restrict,
            format,
            output.as_deref(),
        ),
        Command::Check { format, verbose } => check::run(&open(db_flag)?, format, verbose),
        Command::Populate {
            table,
            restrict,
            reserve_jobs,
            workers,
            suppress_errors,
            max_calls,
        } => {
            let url = settings::database_url(db_flag)?;
            let db = open(db_flag)?;
            let cond = restriction(&db.table(&table)?, &table, &restrict)?;
            let job = populate::Job {
                table,
                cond,
                reserve_jobs,
                workers,
                suppress_errors,
                max_calls,
            };
            populate::run(&db, &url, &registry(), &job)
        }
        Command::Worker { tables } => populate::worker(&open(db_flag)?, &registry(), &tables),
        Command::Jobs {
            table,
            clear_errors,
            clear_stale,
            stale_after,
            format,
        } => populate::jobs(
            &open(db_flag)?,
            table.as_deref(),
            clear_errors,
            clear_stale,
            stale_after,
            format,
        ),
        Command::Delete {
            table,
            restrict,
            dry_run,
            yes,
            user,
            force_permission,
            keep_files,
        } => {
            let db = open(db_flag)?;
            let cond = restriction(&db.table(&table)?, &table, &restrict)?;
            let args = delete::DeleteArgs {
                dry_run,
                yes,
                user,
                force_permission,
                keep_files,
            };
            delete::delete(&db, &table, cond, &args)
        }
        Command::Insert {
            files,
            reinsert,
            accept_divergence,
            user,
        } => sessions::insert(
            &open(db_flag)?,
            &files,
            spyglass::ingest::IngestOptions {
                reinsert,
                accept_divergence,
                user,
            },
        ),
        Command::Cleanup {
            dry_run,
            min_age_secs,
        } => sessions::cleanup(&open(db_flag)?, dry_run, min_age_secs),
        Command::SessionGroup(cmd) => sessions::session_group(&open(db_flag)?, cmd),
        Command::Doctor => match doctor::run(db_flag)? {
            true => Ok(()),
            false => std::process::exit(1),
        },
        Command::Transfer { plan, dry_run } => match transfer::run(&plan, dry_run)? {
            0 => Ok(()),
            code => std::process::exit(code),
        },
        Command::Drop {
            table,
            schema,
            yes,
            user,
        } => delete::drop(
            &open(db_flag)?,
            table.as_deref(),
            schema.as_deref(),
            yes,
            user,
        ),
    }
}

fn init(db_flag: Option<&str>, here: bool) -> Result<()> {
    let base = settings::base_dir();
    std::fs::create_dir_all(&base).with_context(|| format!("creating {}", base.display()))?;
    let url = settings::database_url(db_flag)?;
    let path = if here {
        PathBuf::from("spyglass.toml")
    } else {
        base.join("spyglass.toml")
    };
    if !path.exists() {
        // the password is never written: the file keeps the URL without it
        let parsed = spyglass_db::dburl::DbUrl::parse(&url)?;
        let cfg = settings::ConfigFile {
            database: settings::DatabaseSection {
                url: Some(parsed.without_password().to_secret_string()),
            },
        };
        settings::write_new_file(&path, toml::to_string(&cfg)?.as_bytes())?;
        println!("wrote {}", path.display());
        if parsed.password.is_some() {
            println!(
                "the password was not written to {}: provide it with the DJ_PASS environment \
                 variable (or database.password in dj_local_conf.json, or the whole URL in SPYGLASS_DB)",
                path.display()
            );
        }
    } else {
        println!("{} exists; left as it is", path.display());
    }
    let db = Db::open(&url)
        .with_context(|| format!("opening {}", spyglass_db::config::redact_url(&url)))?;
    println!(
        "database ready: {} ({} schemas)",
        spyglass_db::config::redact_url(&url),
        db.schemas().len()
    );
    Ok(())
}

fn declare(db: &Db, file: &PathBuf) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let parsed = declare_file::parse(&text, &file.display().to_string())?;
    for entry in &parsed.tables {
        let spec = declare_file::to_spec(entry)?;
        let outcome = db
            .declare(&parsed.schema, &spec)
            .with_context(|| format!("declaring {}.{}", parsed.schema, entry.name))?;
        let full = format!("{}.{}", parsed.schema, entry.name);
        let info = db.table_info(&full)?;
        let filled = declare_file::contents_rows(entry, &info.heading.names())
            .and_then(|rows| fill_contents(db, &full, &info, &rows));
        if let Err(e) = filled {
            // a table this call created goes again: declared means consistent contents
            if outcome == spyglass_db::Declared::Created {
                if let Err(drop_err) = db
                    .plan_drop_table(&full)
                    .and_then(|plan| db.drop_tables(&plan))
                {
                    return Err(e.context(format!(
                        "{full} was declared but could not be dropped again: {drop_err}"
                    )));
                }
            }
            return Err(e.context(format!("declaring {full}")));
        }
        println!(
            "{} {}.{} ({})",
            match outcome {
                spyglass_db::Declared::Created => "declared",
                spyglass_db::Declared::Unchanged => "unchanged",
            },
            parsed.schema,
            entry.name,
            info.name
        );
    }
    Ok(())
}

/// Inserts a lookup's `contents` rows: a row already present with the same values is
/// kept, while two rows with one key but different values (in the file, or between
/// the file and the table) are an error and nothing is inserted.
fn fill_contents(
    db: &Db,
    table: &str,
    info: &std::sync::Arc<spyglass_db::TableInfo>,
    rows: &[Row],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let pk = info.primary_key();
    let same = |a: &Value, b: &Value| {
        let (x, y) = (a.python_str(), b.python_str());
        x == y || matches!((x.parse::<f64>(), y.parse::<f64>()), (Ok(p), Ok(q)) if p == q)
    };
    let key_of = |r: &Row| -> Result<Vec<(String, Value)>> {
        pk.iter()
            .map(|k| match r.get(k) {
                Some(v) => Ok((k.clone(), v.clone())),
                None => bail!("contents row {r:?} has no value for the key attribute `{k}`"),
            })
            .collect()
    };
    let differs = |a: &Row, b: &Row| -> Option<String> {
        a.iter()
            .filter_map(|(k, v)| b.get(k).map(|w| (k, v, w)))
            .find(|(_, v, w)| !same(v, w))
            .map(|(k, v, w)| format!("`{k}` is {} and {}", v.python_str(), w.python_str()))
    };
    let mut fresh: Vec<&Row> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let key = key_of(r)?;
        let show_key = key
            .iter()
            .map(|(k, v)| format!("{k}={}", v.python_str()))
            .collect::<Vec<_>>()
            .join(", ");
        if let Some(other) = fresh.iter().find(|o| {
            key.iter()
                .all(|(k, v)| o.get(k).is_some_and(|w| same(v, w)))
        }) {
            if let Some(d) = differs(r, other) {
                bail!(
                    "{}: contents row {i} repeats the key ({show_key}) with different values: {d}",
                    info.name.pretty()
                );
            }
            continue;
        }
        let existing = db.fetch(&db.table(table)?.restrict(Cond::Map(key))?)?;
        match existing.first() {
            Some(e) => {
                if let Some(d) = differs(r, e) {
                    bail!(
                        "{}: contents row {i} conflicts with the row already stored under ({show_key}): {d}",
                        info.name.pretty()
                    );
                }
            }
            None => fresh.push(r),
        }
    }
    let fresh: Vec<Row> = fresh.into_iter().cloned().collect();
    if !fresh.is_empty() {
        db.insert_into(info, &fresh, InsertOptions::default())?;
    }
    Ok(())
}

fn tables(db: &Db, schema: Option<&str>, format: Format) -> Result<()> {
    let mut rows = Vec::new();
    for info in db.catalog().user_tables(schema) {
        let n = db.count(&spyglass_db::Query::table(&info))?;
        rows.push(Row::from_pairs([
            ("table", Value::Str(info.name.pretty())),
            (
                "stored_name",
                Value::Str(format!("{}.{}", info.name.schema, info.name.table)),
            ),
            ("tier", Value::Str(info.tier.to_string())),
            ("rows", Value::from(n)),
        ]));
    }
    let cols: Vec<String> = ["table", "stored_name", "tier", "rows"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    print!("{}", output::render_rows(&cols, &[], &rows, format, None)?);
    Ok(())
}

/// The AND of `--key ATTR=VALUE` and `--where SQL` options, checked against `q`.
fn restriction(q: &spyglass_db::Query, table: &str, args: &RestrictArgs) -> Result<Cond> {
    let mut conds = Vec::new();
    let mut pairs = Vec::new();
    for k in &args.keys {
        let Some((a, v)) = k.split_once('=') else {
            bail!("--key expects ATTR=VALUE, got `{k}`")
        };
        if q.heading().iter().all(|h| h.name != a.trim()) {
            bail!("--key {k}: {table} has no attribute `{}`", a.trim());
        }
        pairs.push((a.trim().to_string(), Value::Str(v.to_string())));
    }
    if !pairs.is_empty() {
        conds.push(Cond::Map(pairs));
    }
    conds.extend(args.wheres.iter().map(|w| Cond::sql(w.clone())));
    // check the whole restriction now, so that errors name the option
    q.restrict(Cond::And(conds.clone()))?;
    Ok(Cond::And(conds))
}

/// Makes of every pipeline this build knows, by table.
fn registry() -> spyglass_db::populate::Registry {
    let mut reg = spyglass_db::populate::Registry::new();
    lfp::register(&mut reg, &spyglass::Settings::from_env());
    reg
}

fn show(
    db: &Db,
    table: &str,
    restrict: &RestrictArgs,
    limit: Option<u64>,
    format: Format,
) -> Result<()> {
    let base = db.table(table)?;
    let q = base.restrict(restriction(&base, table, restrict)?)?;
    let spec = FetchSpec {
        limit,
        order_by: vec!["KEY".into()],
        ..Default::default()
    };
    let rows = db.fetch_with(&q, &spec)?;
    let total = if limit.is_some() {
        Some(db.count(&q)?)
    } else {
        None
    };
    print!(
        "{}",
        output::render_rows(&q.names(), &q.primary_key(), &rows, format, total)?
    );
    Ok(())
}

fn load(db: &Db, table: &str, file: &PathBuf, skip_duplicates: bool) -> Result<()> {
    let info = db.table_info(table)?;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let rows: Vec<Row> = match ext.as_str() {
        "json" => {
            let j: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{}: invalid JSON", file.display()))?;
            let serde_json::Value::Array(items) = j else {
                bail!("{}: expected a JSON array of objects", file.display())
            };
            items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    serde_json::Value::Object(m) => Ok(Row::from_pairs(
                        m.iter().map(|(k, v)| (k.clone(), Value::from_json(v))),
                    )),
                    _ => bail!("{}: item {i} is not an object", file.display()),
                })
                .collect::<Result<_>>()?
        }
        "csv" => {
            let mut r = csv::Reader::from_reader(text.as_bytes());
            let header: Vec<String> = r.headers()?.iter().map(|h| h.trim().to_string()).collect();
            let mut seen = std::collections::HashSet::new();
            if let Some(dup) = header.iter().find(|h| !seen.insert(h.as_str())) {
                bail!(
                    "{}: the header names column `{dup}` more than once",
                    file.display()
                );
            }
            let mut rows = Vec::new();
            for (i, rec) in r.records().enumerate() {
                let rec = rec.with_context(|| format!("{}: line {}", file.display(), i + 2))?;
                rows.push(Row::from_pairs(
                    header
                        .iter()
                        .zip(rec.iter())
                        .map(|(h, cell)| (h.clone(), csv_cell(&info, h, cell))),
                ));
            }
            rows
        }
        _ => bail!("{}: expected a .json or .csv file", file.display()),
    };
    let n = db.insert_into(
        &info,
        &rows,
        InsertOptions {
            skip_duplicates,
            ..Default::default()
        },
    )?;
    println!(
        "inserted {n} of {} rows into {}",
        rows.len(),
        info.name.pretty()
    );
    Ok(())
}

/// A CSV cell as a value: empty means NULL except for strings; blob and json cells
/// hold JSON text.
fn csv_cell(info: &spyglass_db::TableInfo, attr: &str, cell: &str) -> Value {
    use spyglass_db::AttrType as T;
    let ty = info.heading.get(attr).map(|a| &a.ty);
    match ty {
        Some(T::Char(_) | T::Varchar(_)) => Value::Str(cell.to_string()),
        Some(T::Blob(_) | T::Json) if !cell.is_empty() => serde_json::from_str(cell)
            .map(|j: serde_json::Value| Value::Json(j))
            .unwrap_or_else(|_| Value::Str(cell.into())),
        _ if cell.is_empty() => Value::Null,
        _ => Value::Str(cell.to_string()),
    }
}

fn draw(db: &Db, schema: Option<&str>, out: &PathBuf) -> Result<()> {
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("");
    let Some(format) = DiagramFormat::from_extension(ext) else {
        bail!(
            "{}: the output must end in .dot, .mmd or .svg",
            out.display()
        )
    };
    if let Some(s) = schema {
        if !db.schemas().iter().any(|x| x == s) {
            bail!("unknown schema `{s}`");
        }
    }
    let text = diagram::render(&db.catalog(), &*db.graph()?, schema, format)?;
    std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(())
}
