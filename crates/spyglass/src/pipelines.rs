//! The registry: every pipeline of the framework, listed once. Declaring,
//! `spyglass defaults`, `populate` / `worker` dispatch, `spyglass tables`, `spyglass
//! check`, the CLI's pipeline commands and the docs' pipeline list all read it.

use crate::error::{Error, Result};
use crate::kit::{Defaults, MergePart, Pipeline};
use crate::settings::Settings;
use spyglass_db::populate::Registry;
use spyglass_db::{Db, TableSpec};
use std::collections::HashSet;

/// Every pipeline, in declaration order (a pipeline after those it refers to): the
/// common schemas and the filters, then each family's list (its `family!` line).
pub fn all() -> Vec<&'static dyn Pipeline> {
    let mut all: Vec<&'static dyn Pipeline> = vec![&crate::common::Common, &crate::filter::Filter];
    all.extend(crate::lfp::pipelines());
    all.extend(crate::position::dlc::pipelines());
    all.extend(crate::position::pipelines());
    all.extend(crate::linearization::pipelines());
    all.extend(crate::ripple::pipelines());
    all.extend(crate::spikesorting::pipelines());
    all.extend(crate::mua::pipelines());
    all
}

/// Opt-in pipelines: declared when used (by name, or by their commands), never by
/// [`declare_all`]: DataJoint's elements (their class names repeat Spyglass's).
pub fn opt_in() -> Vec<&'static dyn Pipeline> {
    crate::elements::pipelines()
}

/// Every pipeline, [`all`] then [`opt_in`].
fn everything() -> Vec<&'static dyn Pipeline> {
    let mut v = all();
    v.extend(opt_in());
    v
}

/// The pipeline named `name`.
pub fn find(name: &str) -> Result<&'static dyn Pipeline> {
    everything()
        .into_iter()
        .find(|p| p.name() == name)
        .ok_or_else(|| {
            Error::bad(
                "pipeline",
                format!(
                    "no pipeline `{name}` (known: {})",
                    everything()
                        .iter()
                        .map(|p| p.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
}

/// Every merge part any pipeline declares.
fn merge_parts() -> Vec<MergePart> {
    all().iter().flat_map(|p| p.merge_parts()).collect()
}

/// The pipeline that declares table `schema.Class`.
fn owner_of(table: &str) -> Result<&'static dyn Pipeline> {
    let (schema, class) = table
        .split_once('.')
        .ok_or_else(|| Error::bad("table", format!("`{table}` is not schema.Class")))?;
    everything()
        .into_iter()
        .find(|p| {
            p.schemas()
                .iter()
                .any(|s| s.name == schema && s.tables.iter().any(|t| t.class_name == class))
        })
        .ok_or_else(|| Error::bad("table", format!("no pipeline declares `{table}`")))
}

/// A pipeline's tables as declared: merge masters carry one part per source.
fn specs_of(p: &dyn Pipeline, parts: &[MergePart]) -> Vec<(&'static str, TableSpec)> {
    let mut out = vec![];
    for schema in p.schemas() {
        for spec in schema.tables {
            let master = format!("{}.{}", schema.name, spec.class_name);
            let sources: Vec<&str> = parts
                .iter()
                .filter(|m| m.master == master)
                .map(|m| m.source)
                .collect();
            let spec = if sources.is_empty() {
                spec
            } else {
                spyglass_db::merge::merge_spec(&spec.class_name, &sources)
            };
            out.push((schema.name, spec));
        }
    }
    out
}

/// Every table of every pipeline, by schema, as declared.
pub fn specs() -> Vec<(&'static str, TableSpec)> {
    let parts = merge_parts();
    all().iter().flat_map(|p| specs_of(*p, &parts)).collect()
}

/// Declares every pipeline (idempotent).
pub fn declare_all(db: &Db) -> Result<()> {
    let names: Vec<&str> = all().iter().map(|p| p.name()).collect();
    declare(db, &names)
}

/// Declares the named pipelines with everything they refer to (idempotent).
pub fn declare(db: &Db, names: &[&str]) -> Result<()> {
    let parts = merge_parts();
    let mut done = HashSet::new();
    for n in names {
        declare_one(db, find(n)?, &parts, &mut done)?;
    }
    Ok(())
}

fn declare_one(
    db: &Db,
    p: &'static dyn Pipeline,
    parts: &[MergePart],
    done: &mut HashSet<&'static str>,
) -> Result<()> {
    if !done.insert(p.name()) {
        return Ok(());
    }
    for r in p.requires() {
        declare_one(db, find(r)?, parts, done)?;
    }
    let specs = specs_of(p, parts);
    // a merge master needs its sources first
    for (schema, spec) in &specs {
        let master = format!("{schema}.{}", spec.class_name);
        for m in parts.iter().filter(|m| m.master == master) {
            declare_one(db, owner_of(m.source)?, parts, done)?;
        }
    }
    for (schema, spec) in &specs {
        if !declared(db, schema, spec) {
            db.declare(schema, spec)?;
        }
    }
    // and the masters this pipeline feeds
    for m in p.merge_parts() {
        declare_one(db, owner_of(m.master)?, parts, done)?;
    }
    Ok(())
}

/// Whether a table and its parts exist (declaring them again would only compare).
fn declared(db: &Db, schema: &str, spec: &TableSpec) -> bool {
    let master = format!("{schema}.{}", spec.class_name);
    db.table_info(&master).is_ok()
        && spec
            .parts
            .iter()
            .all(|p| db.table_info(&format!("{master}.{}", p.class_name)).is_ok())
}

/// Every Parameters table with default rows.
pub fn defaults() -> Vec<Defaults> {
    all().iter().flat_map(|p| p.defaults()).collect()
}

/// The makers of every Imported and Computed table, writing under `settings`.
pub fn makers(settings: &Settings) -> Registry {
    let mut reg = Registry::new();
    for p in all() {
        for (table, maker) in p.makers(settings) {
            reg.add(table, maker, None);
        }
    }
    reg
}

/// The command families (`lfp`, `filter`, …) with their pipelines, in registry order.
pub fn families() -> Vec<(&'static str, Vec<&'static dyn Pipeline>)> {
    let mut out: Vec<(&'static str, Vec<&'static dyn Pipeline>)> = vec![];
    for p in everything() {
        let Some(f) = p.family() else { continue };
        match out.iter_mut().find(|(name, _)| *name == f) {
            Some((_, ps)) => ps.push(p),
            None => out.push((f, vec![p])),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_pipeline_is_in_the_guide() {
        let guide = include_str!("../../../docs/pipelines.md");
        for p in super::everything() {
            let row = format!("| `{}` |", p.name());
            assert!(
                guide.contains(&row),
                "docs/pipelines.md does not list `{}`",
                p.name()
            );
        }
    }
}
