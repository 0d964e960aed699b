//! `spyglass check`: how a database (any backend; typically a lab's Spyglass
//! database) lines up with spyglass-rs, read-only. For every table spyglass-rs
//! declares: used as it is (identical, or with the differences listed —
//! comments, attribute order, types, indexes), incompatible (with why), or missing
//! (declaring would create it). Then the tables of the database that spyglass-rs
//! has no pipeline for yet, and orphans: merge masters without a part row,
//! `~external_*` rows no row refers to, and files in the stores no row tracks.

use crate::error::Result;
use spyglass_db::declare::compat::{CheckStatus, Difference, TableCheck};
use spyglass_db::references::Referrers;
use spyglass_db::{Db, FullName, TableSpec, Tier};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// The schemas of this project on the server, by stored name: under a schema prefix
/// every schema carrying it; without one, the schemas spyglass-rs declares (never
/// another project's schemas the account can also see).
pub fn project_schemas(db: &Db) -> Vec<String> {
    let prefix = db.prefix();
    let ours: HashSet<String> = our_specs()
        .iter()
        .map(|(schema, _)| db.schema_name(schema))
        .collect();
    db.schemas()
        .into_iter()
        .filter(|s| {
            if prefix.is_empty() {
                ours.contains(s)
            } else {
                s.starts_with(&prefix)
            }
        })
        .collect()
}

/// Every table spyglass-rs declares that Spyglass has too, by schema (the registry's
/// tables but our own `common_ephys_series`).
pub fn our_specs() -> Vec<(&'static str, TableSpec)> {
    crate::pipelines::specs()
        .into_iter()
        .filter(|(schema, _)| *schema != crate::common::ephys_series::SCHEMA)
        .collect()
}

/// The report of [`check`].
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    /// Our tables that exist and are identical.
    pub identical: Vec<FullName>,
    /// Our tables that exist, are used as they are, and differ in the ways listed.
    pub differing: Vec<(FullName, Vec<Difference>)>,
    /// Our tables that exist but cannot be used (why).
    pub incompatible: Vec<(FullName, Vec<String>)>,
    /// Our tables the database lacks (declaring creates them).
    pub missing: Vec<FullName>,
    /// Tables of the database spyglass-rs has no pipeline for, per schema.
    pub not_ours: BTreeMap<String, Vec<String>>,
    /// Merge masters with rows that no part holds: (master, rows).
    pub orphan_merge_rows: Vec<(FullName, u64)>,
    /// `~external_*` rows no table refers to: (external table, what they name).
    pub orphan_external_rows: Vec<(FullName, Vec<String>)>,
    /// Files in the `raw` (only `_` copies) and `analysis` stores no row tracks.
    pub orphan_files: Vec<PathBuf>,
    /// Partial analysis files (`crate::analysis::partial_name`) whose writer is gone
    /// (killed while writing; `cleanup` and the next writer in the folder remove
    /// them), and files such a writer published but never registered, with their
    /// pending markers (`cleanup` removes them). Those of running writers are not listed.
    pub partial_files: Vec<PathBuf>,
    /// Tables the check looked at.
    pub tables_in_database: usize,
}

impl CheckReport {
    /// True when every table spyglass-rs uses is compatible.
    pub fn is_compatible(&self) -> bool {
        self.incompatible.is_empty()
    }
}

/// Checks `db` (read-only); see the module doc.
pub fn check(db: &Db) -> Result<CheckReport> {
    db.refresh()?;
    let mut report = CheckReport::default();
    let mut ours: HashSet<FullName> = HashSet::new();
    for (schema, spec) in our_specs() {
        for TableCheck { name, status } in db.check_spec(schema, &spec) {
            ours.insert(name.clone());
            match status {
                CheckStatus::Missing => report.missing.push(name),
                CheckStatus::Unresolved(why) => report.incompatible.push((name, vec![why])),
                CheckStatus::Present(cmp) if !cmp.is_compatible() => report.incompatible.push((
                    name,
                    cmp.incompatible.iter().map(|d| d.to_string()).collect(),
                )),
                CheckStatus::Present(cmp) if cmp.is_identical() => report.identical.push(name),
                CheckStatus::Present(cmp) => report.differing.push((name, cmp.differences)),
            }
        }
    }
    let catalog = db.catalog();
    let tables = catalog.user_tables(None);
    report.tables_in_database = tables.len();
    for t in &tables {
        if !ours.contains(&t.name) {
            report
                .not_ours
                .entry(t.name.schema.clone())
                .or_default()
                .push(t.name.class_name());
        }
    }
    for v in report.not_ours.values_mut() {
        v.sort();
    }
    report.orphan_merge_rows = orphan_merge_rows(db)?;
    let mut tracked: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    for schema in db.schemas() {
        for store in ["raw", "analysis"] {
            let ext = db.external_table(&schema, store);
            if catalog.get(&ext).is_none() {
                continue;
            }
            let unused = db.external_unused(&schema, store, false)?;
            if !unused.is_empty() {
                report.orphan_external_rows.push((ext.clone(), unused));
            }
            tracked
                .entry(store.to_string())
                .or_default()
                .extend(db.external_filepaths(&schema, store)?);
        }
    }
    for store in ["raw", "analysis"] {
        let Ok(cfg) = db.store(store) else { continue };
        let known = tracked.remove(store).unwrap_or_default();
        let mut files = Vec::new();
        walk(&cfg.location, &mut files);
        files.sort();
        for f in files {
            let Ok(rel) = f.strip_prefix(&cfg.location) else {
                continue;
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            // the raw store also holds the original recordings, which no row tracks
            if store == "raw" && !rel.ends_with("_.nwb") {
                continue;
            }
            if crate::analysis::is_partial(&f) {
                if crate::analysis::is_stale_partial(&f) {
                    report.partial_files.push(f);
                }
                continue;
            }
            if !known.contains(&rel) {
                // published by a writer killed before its row was committed: listed
                // with the partial files (cleanup removes both); a running writer's
                // file is left alone
                match crate::analysis::pending_state(&f) {
                    Some(true) => report.partial_files.push(f),
                    Some(false) => {}
                    None => report.orphan_files.push(f),
                }
            }
        }
    }
    Ok(report)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Rows of every merge master (`merge_id | source` with parts) that no part holds.
fn orphan_merge_rows(db: &Db) -> Result<Vec<(FullName, u64)>> {
    let graph = db.graph()?;
    let mut out = Vec::new();
    for t in db.catalog().user_tables(None) {
        if t.tier == Tier::Part
            || t.primary_key() != ["merge_id"]
            || t.heading.get("source").is_none()
        {
            continue;
        }
        if graph.parts(&t.name).is_empty() {
            continue;
        }
        let n = db.unreferenced_keys(&t.name, Referrers::Parts)?.len() as u64;
        if n > 0 {
            out.push((t.name.clone(), n));
        }
    }
    Ok(out)
}
