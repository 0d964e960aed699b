//! Merge tables, as Spyglass uses them to unify versions of a pipeline step: a
//! master `(merge_id uuid | source varchar(32))` with one part per upstream table
//! (`-> master | -> Upstream`). `merge_id` is DataJoint's key hash of the upstream
//! key plus `source` (the part's class name), so it is deterministic. Rows go in
//! through the master; views, part and parent lookups, fetch and deletes come out.

use crate::db::{Db, TableSpec};
use crate::delete::{DeleteOptions, DeletePlan};
use crate::error::{Error, Result};
use crate::hash::key_hash_uuid;
use crate::heading::TableInfo;
use crate::insert::InsertOptions;
use crate::naming::{FullName, Tier};
use crate::query::{Cond, Proj, QAttr, Query};
use crate::types::AttrType;
use crate::value::{Row, Value};
use std::sync::Arc;
use uuid::Uuid;

/// One source of a merge table.
#[derive(Debug, Clone)]
pub struct MergeSource {
    /// The part's class name, stored in `source` (e.g. `LFPV1`).
    pub name: String,
    /// The part table.
    pub part: FullName,
    /// The upstream table the part points to.
    pub parent: FullName,
}

/// A merge table: its master and sources.
#[derive(Debug, Clone)]
pub struct MergeTable {
    /// The master table.
    pub master: FullName,
    /// One entry per part.
    pub sources: Vec<MergeSource>,
}

/// The merge id of an upstream key for a source: `UUID(key_hash(key ∪ {source}))`.
pub fn merge_id(parent_key: &Row, source: &str) -> Uuid {
    let mut pairs: Vec<(String, Value)> = parent_key
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    pairs.push(("source".into(), Value::Str(source.to_string())));
    key_hash_uuid(&Row::from_pairs(pairs))
}

/// The definition of merge master `class` with one part per source (`schema.Class`,
/// a part named after the source's class): Spyglass's `_Merge` layout.
pub fn merge_spec(class: &str, sources: &[&str]) -> TableSpec {
    let mut spec = TableSpec::new(
        class,
        Tier::Manual,
        "merge_id : uuid\n---\nsource : varchar(32)",
    );
    for source in sources {
        let (_, source_class) = source.split_once('.').unwrap_or(("", source));
        spec = spec.part(
            &source_class.replace('.', ""),
            &format!("-> master\n---\n-> {source}"),
        );
    }
    spec
}

impl Db {
    /// Declares a merge table `class` in `schema` with one part per upstream table
    /// (given as `schema.Class`); idempotent.
    pub fn declare_merge(
        &self,
        schema: &str,
        class: &str,
        upstream: &[&str],
    ) -> Result<MergeTable> {
        let mut sources = Vec::with_capacity(upstream.len());
        for u in upstream {
            sources.push(self.table_info(u)?.name.pretty());
        }
        let sources: Vec<&str> = sources.iter().map(String::as_str).collect();
        self.declare(schema, &merge_spec(class, &sources))?;
        self.merge(&format!("{schema}.{class}"))
    }

    /// The merge table named `table` (its master), discovered from the catalog.
    pub fn merge(&self, table: &str) -> Result<MergeTable> {
        let master = self.table_info(table)?;
        let shape_ok =
            master.primary_key() == ["merge_id"] && master.heading.get("source").is_some();
        if !shape_ok {
            return Err(Error::Refused(format!(
                "{} is not a merge table (merge_id | source)",
                master.name.pretty()
            )));
        }
        let graph = self.graph()?;
        let mut sources = Vec::new();
        for part in graph.parts(&master.name) {
            let info = self.info(&part)?;
            let parent = info
                .foreign_keys
                .iter()
                .find(|fk| fk.parent != master.name)
                .map(|fk| fk.parent.clone())
                .ok_or_else(|| {
                    Error::Refused(format!(
                        "merge part {} has no upstream table",
                        part.pretty()
                    ))
                })?;
            let name = part
                .class_name()
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .to_string();
            sources.push(MergeSource { name, part, parent });
        }
        Ok(MergeTable {
            master: master.name.clone(),
            sources,
        })
    }

    /// Inserts upstream keys through the master: each row is matched to the one
    /// source whose upstream table holds it; returns the merge ids.
    pub fn merge_insert(&self, m: &MergeTable, rows: &[Row]) -> Result<Vec<Uuid>> {
        self.transaction(|| {
            let mut ids = Vec::with_capacity(rows.len());
            for (i, row) in rows.iter().enumerate() {
                let mut found: Vec<(&MergeSource, Row)> = Vec::new();
                for s in &m.sources {
                    let parent = self.info(&s.parent)?;
                    // a source matches only rows that give its upstream table's whole key
                    if !parent.primary_key().iter().all(|k| row.get(k).is_some()) {
                        continue;
                    }
                    let q = Query::table(&parent).restrict(Cond::Map(
                        row.iter()
                            .map(|(k, v)| (k.to_string(), v.clone()))
                            .collect(),
                    ))?;
                    let keys = self.fetch_keys(&q)?;
                    match keys.len() {
                        0 => {}
                        1 => {
                            found.push((s, keys.into_iter().next().unwrap_or_else(|| row.clone())))
                        }
                        n => {
                            return Err(Error::Refused(format!(
                                "{}: row {i} matches {n} rows of {}; give the whole key",
                                m.master.pretty(),
                                s.parent.pretty()
                            )))
                        }
                    }
                }
                let (s, key) = match found.len() {
                    1 => found.remove(0),
                    0 => {
                        return Err(Error::Refused(format!(
                            "{}: row {i} is in none of the upstream tables ({})",
                            m.master.pretty(),
                            m.sources
                                .iter()
                                .map(|s| s.parent.pretty())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )))
                    }
                    _ => {
                        return Err(Error::Refused(format!(
                            "{}: ambiguous entry: row {i} is in {}",
                            m.master.pretty(),
                            found
                                .iter()
                                .map(|(s, _)| s.parent.pretty())
                                .collect::<Vec<_>>()
                                .join(" and ")
                        )))
                    }
                };
                let id = merge_id(&key, &s.name);
                let skip = InsertOptions {
                    skip_duplicates: true,
                    allow_direct_insert: true,
                    ..Default::default()
                };
                let master_row = Row::from_pairs([
                    ("merge_id", Value::Uuid(id)),
                    ("source", Value::Str(s.name.clone())),
                ]);
                self.insert_into(&self.info(&m.master)?, &[master_row], skip)?;
                let mut part_row = vec![("merge_id".to_string(), Value::Uuid(id))];
                part_row.extend(key.iter().map(|(k, v)| (k.to_string(), v.clone())));
                self.insert_into(&self.info(&s.part)?, &[Row::from_pairs(part_row)], skip)?;
                ids.push(id);
            }
            Ok(ids)
        })
    }

    fn source_selected(s: &MergeSource, restriction: &Cond) -> bool {
        // a `source` in a map restriction selects parts by name
        fn find(c: &Cond) -> Option<String> {
            match c {
                Cond::Map(pairs) => pairs
                    .iter()
                    .find(|(k, _)| k == "source")
                    .and_then(|(_, v)| v.as_str().map(String::from)),
                Cond::And(items) => items.iter().find_map(find),
                _ => None,
            }
        }
        find(restriction).is_none_or(|want| want == s.name)
    }

    /// Each source's master ⋈ part, restricted (`merge_get_part` with `join_master`).
    pub fn merge_get_part(
        &self,
        m: &MergeTable,
        restriction: &Cond,
    ) -> Result<Vec<(MergeSource, Query)>> {
        let master = self.query_of(&m.master)?;
        let mut out = Vec::new();
        for s in &m.sources {
            if !Self::source_selected(s, restriction) {
                continue;
            }
            let q = master
                .join(&self.query_of(&s.part)?)?
                .restrict(restriction.clone())?;
            out.push((s.clone(), q));
        }
        Ok(out)
    }

    /// The union over parts of master ⋈ part, restricted. An attribute a part lacks is
    /// filled as Spyglass's `_merge_repr` fills it: 0 when the attribute is numeric
    /// (DataJoint's integer, decimal and float types, `bool` among them), NULL
    /// otherwise.
    pub fn merge_view(&self, m: &MergeTable, restriction: &Cond) -> Result<Query> {
        let parts: Vec<Query> = self
            .merge_get_part(m, restriction)?
            .into_iter()
            .map(|(_, q)| q)
            .collect();
        if parts.is_empty() {
            return self.query_of(&m.master)?.restrict(Cond::Bool(false));
        }
        let mut all: Vec<&QAttr> = Vec::new();
        for a in parts.iter().flat_map(|q| q.heading()) {
            if !all.iter().any(|b| b.name == a.name) {
                all.push(a);
            }
        }
        let filled = parts
            .iter()
            .map(|q| {
                let mut spec = Proj::all();
                for a in all.iter().filter(|a| q.attr(&a.name).is_none()) {
                    let numeric = a
                        .source
                        .as_ref()
                        .is_some_and(|s| s.ty.is_numeric() || matches!(s.ty, AttrType::Bool));
                    spec = spec.compute(&a.name, if numeric { "0" } else { "NULL" });
                }
                q.proj(spec)
            })
            .collect::<Result<Vec<Query>>>()?;
        Query::outer_union(&filled)
    }

    /// Upstream rows behind the restricted merge entries, per source (non-empty ones).
    pub fn merge_get_parent(
        &self,
        m: &MergeTable,
        restriction: &Cond,
    ) -> Result<Vec<(MergeSource, Query)>> {
        let mut out = Vec::new();
        for (s, part_q) in self.merge_get_part(m, restriction)? {
            let parent = self.query_of(&s.parent)?;
            let keys: Vec<String> = parent.primary_key();
            let q = parent.restrict(
                &part_q
                    .proj(Proj::key().keep_many(&keys))?
                    .universal(&keys.iter().map(String::as_str).collect::<Vec<_>>())?,
            )?;
            if self.exists(&q)? {
                out.push((s, q));
            }
        }
        Ok(out)
    }

    /// Rows of the merge view (all attributes, or the chosen ones).
    pub fn merge_fetch(
        &self,
        m: &MergeTable,
        restriction: &Cond,
        attrs: &[&str],
    ) -> Result<Vec<Row>> {
        let view = self.merge_view(m, restriction)?;
        if attrs.is_empty() {
            self.fetch(&view)
        } else {
            self.fetch_with(&view, &crate::fetch::FetchSpec::attrs(attrs))
        }
    }

    fn merge_ids(&self, m: &MergeTable, restriction: &Cond) -> Result<Vec<Value>> {
        let view = self.merge_view(m, restriction)?;
        Ok(self
            .fetch_keys(&view)?
            .into_iter()
            .filter_map(|r| r.get("merge_id").cloned())
            .collect())
    }

    /// Plans deleting the restricted merge entries (master, parts and downstream).
    pub fn plan_merge_delete(&self, m: &MergeTable, restriction: &Cond) -> Result<DeletePlan> {
        let ids = self.merge_ids(m, restriction)?;
        let cond = Cond::Or(
            ids.into_iter()
                .map(|id| Cond::Map(vec![("merge_id".into(), id)]))
                .collect(),
        );
        self.plan_delete(&m.master.pretty(), cond, DeleteOptions::default())
    }

    /// Deletes the restricted merge entries with everything downstream of them.
    pub fn merge_delete(&self, m: &MergeTable, restriction: &Cond) -> Result<Vec<(FullName, u64)>> {
        self.transaction(|| {
            let plan = self.plan_merge_delete(m, restriction)?;
            self.execute_delete(&plan)
        })
    }

    /// Deletes the upstream rows of the restricted entries (and so the entries and
    /// everything below them); with `dry_run`, only returns the plan's counts.
    pub fn merge_delete_parent(
        &self,
        m: &MergeTable,
        restriction: &Cond,
        dry_run: bool,
    ) -> Result<Vec<(FullName, usize)>> {
        self.transaction(|| {
            let mut counts: Vec<(FullName, usize)> = Vec::new();
            for (s, q) in self.merge_get_parent(m, restriction)? {
                let parent: Arc<TableInfo> = self.info(&s.parent)?;
                let keys = self.fetch_keys(&q)?;
                let cond = Cond::Or(keys.iter().map(Cond::from).collect());
                let plan =
                    self.plan_delete(&parent.name.pretty(), cond, DeleteOptions::default())?;
                counts.extend(plan.counts());
                if !dry_run {
                    self.execute_delete(&plan)?;
                }
            }
            Ok(counts)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of spyglass-model.md §6.
    #[test]
    fn merge_id_matches_spyglass() {
        let key = Row::from_pairs([
            ("nwb_file_name", Value::from("minirec20230622_.nwb")),
            ("lfp_electrode_group_name", Value::from("test")),
            ("target_interval_list_name", Value::from("01_s1")),
            ("filter_name", Value::from("LFP 0-400 Hz")),
            ("filter_sampling_rate", Value::from(30000)),
        ]);
        assert_eq!(
            merge_id(&key, "LFPV1").to_string(),
            "1b37c6a9-61eb-9f7c-c974-664a62993f8e"
        );
    }
}
