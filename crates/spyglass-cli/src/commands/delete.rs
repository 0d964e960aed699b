//! `spyglass delete` and `spyglass drop`: show what would go, ask, then do it. Deletes
//! go through Spyglass's cautious delete (permission by lab team, logged to
//! `common_usage.CautiousDelete`); drops are checked and logged the same way.

use crate::output;
use anyhow::{Context, Result};
use spyglass::cautious_delete::{cautious_delete, CautiousDeleteOptions};
use spyglass::cautious_drop::cautious_drop;
use spyglass_db::{Cond, Db, FullName};
use std::io::{BufRead, Write};

fn preview(title: &str, counts: &[(FullName, u64)]) {
    let header = vec![
        "table".to_string(),
        "stored name".to_string(),
        "rows".to_string(),
    ];
    let cells = counts
        .iter()
        .map(|(t, n)| {
            vec![
                t.pretty(),
                format!("{}.{}", t.schema, t.table),
                n.to_string(),
            ]
        })
        .collect();
    println!("{title}");
    println!("{}", output::table(&header, cells));
}

/// Asks `question`; true only for an answer of `yes`.
fn confirm(question: &str) -> Result<bool> {
    print!("{question} [yes, No]: ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("reading the answer")?;
    Ok(answer.trim().eq_ignore_ascii_case("yes"))
}

/// How `spyglass delete` was asked to run.
#[derive(Debug, Clone, Default)]
pub struct DeleteArgs {
    /// Only show what would be deleted.
    pub dry_run: bool,
    /// Do not ask for confirmation.
    pub yes: bool,
    /// The user on SQLite (`--user`); on MySQL the database account is the user.
    pub user: Option<String>,
    /// Skip the permission check (`--force-permission`, Spyglass's super delete).
    pub force_permission: bool,
    /// Keep the files of deleted rows (`--keep-files`).
    pub keep_files: bool,
}

fn warn_all(warnings: &[String], already: &[String]) {
    for w in warnings.iter().filter(|w| !already.contains(w)) {
        eprintln!("warning: {w}");
    }
}

/// Deletes rows of `table` matching `cond` with their dependents, through the
/// cautious delete: permission check, preview, confirmation, delete and log.
pub fn delete(db: &Db, table: &str, cond: Cond, args: &DeleteArgs) -> Result<()> {
    let opts = CautiousDeleteOptions {
        dry_run: true,
        force_permission: args.force_permission,
        user: args.user.clone(),
        keep_files: args.keep_files,
    };
    // the preview checks permission too, so a refusal comes before the question
    let preview_report = cautious_delete(db, table, cond.clone(), &opts)?;
    let counts: Vec<(FullName, u64)> = preview_report
        .plan
        .counts()
        .into_iter()
        .map(|(t, n)| (t, n as u64))
        .collect();
    if counts.is_empty() {
        println!("nothing to delete");
        return Ok(());
    }
    warn_all(&preview_report.warnings, &[]);
    preview(
        &format!(
            "{} rows in {} tables would be deleted:",
            preview_report.plan.total(),
            counts.len()
        ),
        &counts,
    );
    if args.dry_run {
        println!("dry run: nothing deleted");
        return Ok(());
    }
    if !args.yes && !confirm("Commit deletes?")? {
        println!("nothing deleted");
        return Ok(());
    }
    let done = cautious_delete(
        db,
        table,
        cond,
        &CautiousDeleteOptions {
            dry_run: false,
            ..opts
        },
    )?;
    warn_all(&done.warnings, &preview_report.warnings);
    println!("deleted {} rows", done.total_deleted());
    if done.logged {
        println!(
            "logged to common_usage.CautiousDelete as {}",
            done.user.as_deref().unwrap_or("")
        );
    }
    Ok(())
}

/// Drops a table with its dependents, or a whole schema, through the cautious drop:
/// permission check (as a delete of all their rows), preview, confirmation, log, drop.
pub fn drop(
    db: &Db,
    table: Option<&str>,
    schema: Option<&str>,
    yes: bool,
    user: Option<String>,
) -> Result<()> {
    let mut opts = CautiousDeleteOptions {
        dry_run: true,
        user,
        ..Default::default()
    };
    let checked = cautious_drop(db, table, schema, &opts)?;
    warn_all(&checked.warnings, &[]);
    preview(
        &format!("{} tables would be dropped:", checked.tables.len()),
        &checked.tables,
    );
    if !yes && !confirm("Proceed?")? {
        println!("nothing dropped");
        return Ok(());
    }
    opts.dry_run = false;
    let done = cautious_drop(db, table, schema, &opts)?;
    warn_all(&done.warnings, &checked.warnings);
    println!("dropped {} tables", done.tables.len());
    if done.logged {
        println!(
            "logged to common_usage.CautiousDelete as {}",
            done.user.as_deref().unwrap_or("")
        );
    }
    Ok(())
}
