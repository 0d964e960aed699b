//! `spyglass delete` and `spyglass drop`: show what would go, ask, then do it.

use crate::output;
use anyhow::{Context, Result};
use spyglass_db::delete::DeleteOptions;
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

/// Deletes rows of `table` matching `cond` with their dependents.
pub fn delete(db: &Db, table: &str, cond: Cond, dry_run: bool, yes: bool) -> Result<()> {
    let plan = db.plan_delete(table, cond.clone(), DeleteOptions::default())?;
    let counts: Vec<(FullName, u64)> = plan
        .counts()
        .into_iter()
        .map(|(t, n)| (t, n as u64))
        .collect();
    if counts.is_empty() {
        println!("nothing to delete");
        return Ok(());
    }
    preview(
        &format!(
            "{} rows in {} tables would be deleted:",
            plan.total(),
            counts.len()
        ),
        &counts,
    );
    if dry_run {
        println!("dry run: nothing deleted");
        return Ok(());
    }
    if !yes && !confirm("Commit deletes?")? {
        println!("nothing deleted");
        return Ok(());
    }
    let done = db.execute_delete(&plan)?;
    let total: u64 = done.iter().map(|(_, n)| n).sum();
    println!("deleted {total} rows");
    Ok(())
}

/// Drops a table with its dependents, or a whole schema.
pub fn drop(db: &Db, table: Option<&str>, schema: Option<&str>, yes: bool) -> Result<()> {
    let plan = match (table, schema) {
        (_, Some(s)) => db.plan_drop_schema(s)?,
        (Some(t), None) => db.plan_drop_table(t)?,
        (None, None) => anyhow::bail!("name a table or --schema"),
    };
    preview(&format!("{} tables would be dropped:", plan.len()), &plan);
    if !yes && !confirm("Proceed?")? {
        println!("nothing dropped");
        return Ok(());
    }
    match schema {
        Some(s) => db.drop_schema(s)?,
        None => db.drop_tables(&plan)?,
    }
    println!("dropped {} tables", plan.len());
    Ok(())
}
