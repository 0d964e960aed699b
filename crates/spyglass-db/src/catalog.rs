//! The in-memory catalog of declared tables and how a user's table name resolves
//! to one: `schema.ClassName`, `schema.table_name`, `schema.Master.Part`, or a bare
//! `ClassName` that is unique across schemas.

use crate::error::{Error, Result};
use crate::heading::TableInfo;
use crate::naming::{to_snake_case, FullName, Tier};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// All tables known on a connection.
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    /// Tables by full name (hidden `~` tables included).
    pub tables: BTreeMap<FullName, Arc<TableInfo>>,
    /// Schema names.
    pub schemas: BTreeSet<String>,
}

fn class_matches(info: &TableInfo, class: &str) -> bool {
    info.name.class_name() == class
}

impl Catalog {
    /// Builds a catalog from table entries and schema names.
    pub fn new(tables: Vec<TableInfo>, schemas: Vec<String>) -> Catalog {
        Catalog {
            tables: tables
                .into_iter()
                .map(|t| (t.name.clone(), Arc::new(t)))
                .collect(),
            schemas: schemas.into_iter().collect(),
        }
    }

    /// Looks up a table by exact full name.
    pub fn get(&self, name: &FullName) -> Option<Arc<TableInfo>> {
        self.tables.get(name).cloned()
    }

    /// User-visible tables (no hidden `~` tables), optionally of one schema.
    pub fn user_tables(&self, schema: Option<&str>) -> Vec<Arc<TableInfo>> {
        self.tables
            .values()
            .filter(|t| !t.name.table.starts_with('~'))
            .filter(|t| schema.is_none_or(|s| t.name.schema == s))
            .cloned()
            .collect()
    }

    /// Resolves a table reference; `current` is the schema of a bare class name's context.
    pub fn resolve(&self, spec: &str, current: Option<&str>) -> Result<Arc<TableInfo>> {
        self.resolve_in_project(spec, current, "")
    }

    /// Like [`Catalog::resolve`], but an ambiguous class name is settled by the one
    /// candidate whose schema carries the project's schema `prefix`.
    pub fn resolve_in_project(
        &self,
        spec: &str,
        current: Option<&str>,
        prefix: &str,
    ) -> Result<Arc<TableInfo>> {
        let spec = spec.trim();
        let unknown = || Error::UnknownTable(spec.to_string());
        let parts: Vec<&str> = spec.split('.').collect();
        let is_schema = |s: &str| self.schemas.contains(s);
        let (schema, rest): (Option<&str>, &[&str]) = if parts.len() >= 2 && is_schema(parts[0]) {
            (Some(parts[0]), &parts[1..])
        } else {
            (None, &parts[..])
        };
        // under a prefix only the project's (prefixed) schemas are candidates
        let in_project =
            |t: &Arc<TableInfo>| prefix.is_empty() || t.name.schema.starts_with(prefix);
        let candidates: Vec<Arc<TableInfo>> = match rest {
            [one] => {
                let one = one.trim_matches('`');
                self.tables
                    .values()
                    .filter(|t| schema.is_none_or(|s| t.name.schema == s))
                    .filter(|t| in_project(t))
                    .filter(|t| t.name.table == one || class_matches(t, one))
                    .cloned()
                    .collect()
            }
            [master, part] => {
                let class = format!("{master}.{part}");
                self.tables
                    .values()
                    .filter(|t| schema.is_none_or(|s| t.name.schema == s))
                    .filter(|t| in_project(t))
                    .filter(|t| t.tier == Tier::Part && class_matches(t, &class))
                    .cloned()
                    .collect()
            }
            _ => return Err(unknown()),
        };
        match candidates.len() {
            0 => Err(unknown()),
            1 => Ok(candidates.into_iter().next().ok_or_else(unknown)?),
            _ => {
                if let Some(cur) = current.or(schema) {
                    let mine: Vec<_> = candidates.iter().filter(|t| t.name.schema == cur).collect();
                    if mine.len() == 1 {
                        return Ok(mine[0].clone());
                    }
                }
                if !prefix.is_empty() {
                    let ours: Vec<_> = candidates
                        .iter()
                        .filter(|t| t.name.schema.starts_with(prefix))
                        .collect();
                    if ours.len() == 1 {
                        return Ok(ours[0].clone());
                    }
                } else {
                    // no prefix: `x` is ours, `someprefix_x` another project's
                    let plain: Vec<_> = candidates
                        .iter()
                        .filter(|t| {
                            candidates
                                .iter()
                                .all(|o| o.name.schema.ends_with(t.name.schema.as_str()))
                        })
                        .collect();
                    if plain.len() == 1 {
                        return Ok(plain[0].clone());
                    }
                }
                Err(Error::UnknownParent {
                    table: String::new(),
                    parent: spec.to_string(),
                    hint: format!(
                        " (ambiguous: {}; qualify it with its schema)",
                        candidates
                            .iter()
                            .map(|t| t.name.pretty())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })
            }
        }
    }

    /// The full name a class of a tier would have in a schema.
    pub fn name_for(schema: &str, class: &str, tier: Tier) -> Result<FullName> {
        let table = format!("{}{}", tier.prefix(), to_snake_case(class)?);
        Ok(FullName::new(schema, table))
    }
}
