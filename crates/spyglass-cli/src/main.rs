//! The `spyglass` command. Thin glue: parse arguments ([`args`]), open the database
//! ([`open`]), run a command ([`commands`]) and print the result.

mod args;
mod commands;
mod open;
mod output;
mod settings;

use anyhow::Result;
use args::{Cli, Command};
use clap::FromArgMatches;
use commands::{
    check, delete, demo, doctor, export, fetch_nwb, pipelines, populate, sessions, tables, transfer,
};
use open::{open, restriction};

fn main() {
    // behave like other command-line tools when the reader goes away (`spyglass show | head`)
    // SAFETY: restoring the default SIGPIPE disposition before any output.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    if let Err(e) = dispatch() {
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

/// Parses the command line and runs it: a pipeline family's command, or the engine's.
fn dispatch() -> Result<()> {
    let matches = args::command().get_matches();
    let db_flag = matches.get_one::<String>("db").cloned();
    if let Some((family, sub)) = matches.subcommand() {
        if pipelines::run(db_flag.as_deref(), family, sub)? {
            return Ok(());
        }
    }
    run(Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit()))
}

fn run(cli: Cli) -> Result<()> {
    let db_flag = cli.db.as_deref();
    match cli.command {
        Command::Init { here } => tables::init(db_flag, here),
        Command::Declare { file } => tables::declare(&open(db_flag)?, &file),
        Command::Tables { schema, format } => {
            tables::tables(&open(db_flag)?, schema.as_deref(), format)
        }
        Command::Describe { table } => {
            print!("{}", open(db_flag)?.describe(&table)?);
            Ok(())
        }
        Command::Show {
            table,
            restrict,
            limit,
            format,
        } => tables::show(&open(db_flag)?, &table, &restrict, limit, format),
        Command::Load {
            table,
            file,
            skip_duplicates,
        } => tables::load(&open(db_flag)?, &table, &file, skip_duplicates),
        Command::Defaults { tables } => pipelines::defaults(&open(db_flag)?, &tables),
        Command::Demo { dir } => demo::demo(&dir),
        Command::Export(cmd) => export::run(&open(db_flag)?, cmd),
        Command::Diagram { schema, output } => {
            tables::draw(&open(db_flag)?, schema.as_deref(), &output)
        }
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
            populate::run(&db, &url, &job)
        }
        Command::Worker { tables } => populate::worker(&open(db_flag)?, &tables),
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
        Command::View {
            port,
            bind,
            open: browse,
            allow_curation,
            export,
            views,
        } => match export {
            Some(dir) => spyglass_view::export(open(db_flag)?, &dir, &views),
            None => {
                if !views.is_empty() {
                    anyhow::bail!("views are given with --export DIR (the server shows them all)");
                }
                spyglass_view::serve(
                    open(db_flag)?,
                    spyglass_view::ViewOptions {
                        bind,
                        port,
                        open: browse,
                        allow_curation,
                        ..Default::default()
                    },
                )
            }
        },
        Command::Insert {
            files,
            reinsert,
            accept_divergence,
            user,
            kilosort,
        } => sessions::insert(
            &open(db_flag)?,
            &files,
            spyglass::ingest::IngestOptions {
                reinsert,
                accept_divergence,
                user,
                kilosort,
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
