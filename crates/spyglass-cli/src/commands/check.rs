//! `spyglass check`: prints how the database lines up with spyglass-rs (see
//! `spyglass::check`): tables used as they are and how they differ, incompatible
//! and missing tables, tables with no pipeline here yet, and orphans. Read-only;
//! exits non-zero when a table spyglass-rs uses is incompatible.

use crate::output::Format;
use anyhow::{bail, Result};
use spyglass_db::Db;

/// Runs `spyglass check`.
pub fn run(db: &Db, format: Format, verbose: bool) -> Result<()> {
    let t0 = std::time::Instant::now();
    let r = spyglass::check::check(db)?;
    let elapsed = t0.elapsed().as_secs_f64();
    if format == Format::Json {
        let names = |v: &[spyglass_db::FullName]| -> Vec<String> {
            v.iter()
                .map(|n| format!("{}.{}", n.schema, n.table))
                .collect()
        };
        let j = serde_json::json!({
            "tables_in_database": r.tables_in_database,
            "identical": names(&r.identical),
            "differing": r.differing.iter().map(|(n, d)| serde_json::json!({
                "table": format!("{}.{}", n.schema, n.table),
                "differences": d.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "incompatible": r.incompatible.iter().map(|(n, d)| serde_json::json!({
                "table": format!("{}.{}", n.schema, n.table),
                "why": d,
            })).collect::<Vec<_>>(),
            "missing": names(&r.missing),
            "no_pipeline_yet": r.not_ours,
            "orphans": {
                "merge_rows_without_part": r.orphan_merge_rows.iter().map(|(n, c)| serde_json::json!({
                    "table": format!("{}.{}", n.schema, n.table), "rows": c})).collect::<Vec<_>>(),
                "external_rows_without_rows": r.orphan_external_rows.iter().map(|(n, p)| serde_json::json!({
                    "table": format!("{}.{}", n.schema, n.table), "entries": p})).collect::<Vec<_>>(),
                "files_without_rows": r.orphan_files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            },
            "partial_files": r.partial_files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "seconds": elapsed,
        });
        println!("{}", serde_json::to_string_pretty(&j)?);
    } else {
        let used = r.identical.len() + r.differing.len();
        println!(
            "{} tables in the database; spyglass-rs declares {} of them",
            r.tables_in_database,
            used + r.incompatible.len()
        );
        println!(
            "used as they are: {used} ({} identical, {} with differences)",
            r.identical.len(),
            r.differing.len()
        );
        println!("incompatible: {}", r.incompatible.len());
        for (n, why) in &r.incompatible {
            println!("  {}.{} ({})", n.schema, n.table, n.pretty());
            for w in why {
                println!("    {w}");
            }
        }
        println!("missing (declaring creates them): {}", r.missing.len());
        for n in &r.missing {
            println!("  {}.{}", n.schema, n.table);
        }
        if !r.differing.is_empty() {
            println!("differences (none affects what spyglass-rs reads or writes):");
            for (n, diffs) in &r.differing {
                println!("  {}.{} ({})", n.schema, n.table, n.pretty());
                for d in diffs {
                    println!("    {d}");
                }
            }
        }
        let n_not: usize = r.not_ours.values().map(Vec::len).sum();
        println!(
            "tables with no pipeline in spyglass-rs yet: {n_not} in {} schemas",
            r.not_ours.len()
        );
        for (schema, tables) in &r.not_ours {
            if verbose {
                println!("  {schema}: {}", tables.join(", "));
            } else {
                println!("  {schema}: {} tables", tables.len());
            }
        }
        println!("orphans:");
        if r.orphan_merge_rows.is_empty()
            && r.orphan_external_rows.is_empty()
            && r.orphan_files.is_empty()
        {
            println!("  none");
        }
        for (n, c) in &r.orphan_merge_rows {
            println!("  {c} rows of merge table {} have no part row", n.pretty());
        }
        for (n, entries) in &r.orphan_external_rows {
            println!(
                "  {} rows of {}.{} are referred to by no row: {}",
                entries.len(),
                n.schema,
                n.table,
                entries.join(", ")
            );
        }
        for f in &r.orphan_files {
            println!("  file tracked by no row: {}", f.display());
        }
        for f in &r.partial_files {
            println!(
                "  partial file of a writer that stopped (removed by the next writer there, or `spyglass cleanup`): {}",
                f.display()
            );
        }
        println!("checked in {elapsed:.2} s");
    }
    if !r.is_compatible() {
        bail!(
            "{} tables spyglass-rs uses are incompatible with this database",
            r.incompatible.len()
        );
    }
    Ok(())
}
