//! Delete and drop, computed from the dependency graph. The cascade follows every
//! foreign key from the restricted table down, restricting each child by the parent
//! rows through the key's attribute map (renamed and multi-column keys matched on
//! all their columns, so a delete removes exactly the rows that depend on it);
//! restrictions reaching a table by several paths are OR-ed; a part drags its master
//! along and a master its parts. The plan lists the rows per table (the preview);
//! executing it deletes children first in one transaction and logs to `~log`.
//! As DataJoint's external-store cleanup does, a delete also removes the
//! `~external_<store>` rows that only the deleted rows referred to, and — once the
//! transaction has committed — their files, unless another row of any schema still
//! names the same file (`keep_files` leaves every file in place).

use crate::db::Db;
use crate::error::{Error, Result};
use crate::naming::{FullName, Tier};
use crate::query::{Cond, Proj, Query};
use crate::value::{Row, SqlValue};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The rows a delete would remove, per table, in topological order.
#[derive(Debug, Clone)]
pub struct DeletePlan {
    /// (table, primary keys of the rows to delete), parents before children.
    pub tables: Vec<(FullName, Vec<Row>)>,
    /// Leave the files of deleted external rows in place.
    pub keep_files: bool,
}

impl DeletePlan {
    /// (table, number of rows) for tables that lose rows.
    pub fn counts(&self) -> Vec<(FullName, usize)> {
        self.tables
            .iter()
            .filter(|(_, k)| !k.is_empty())
            .map(|(t, k)| (t.clone(), k.len()))
            .collect()
    }

    /// Total rows across tables.
    pub fn total(&self) -> usize {
        self.tables.iter().map(|(_, k)| k.len()).sum()
    }

    /// Rows to delete from one table.
    pub fn count_of(&self, table: &FullName) -> usize {
        self.tables
            .iter()
            .find(|(t, _)| t == table)
            .map(|(_, k)| k.len())
            .unwrap_or(0)
    }
}

/// Options of a delete.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeleteOptions {
    /// Allow deleting rows of a part table without its master rows.
    pub force_parts: bool,
    /// Keep the files of the external rows the delete removes (`--keep-files`).
    pub keep_files: bool,
}

/// How a cascading delete explains a foreign-key refusal: the graph it planned
/// from missed a child table.
const STALE_GRAPH: &str = "the dependency graph is out of date — refresh and retry";

/// Errors when a map condition (at any depth) names an attribute `info` lacks.
fn require_known_keys(cond: &Cond, info: &crate::heading::TableInfo) -> Result<()> {
    match cond {
        Cond::Map(pairs) => {
            for (k, _) in pairs {
                if info.heading.get(k).is_none() {
                    return Err(Error::UnknownAttribute {
                        attribute: k.clone(),
                        context: info.name.pretty(),
                    });
                }
            }
            Ok(())
        }
        Cond::And(cs) | Cond::Or(cs) => cs.iter().try_for_each(|c| require_known_keys(c, info)),
        Cond::Not(c) => require_known_keys(c, info),
        Cond::Sql(_) | Cond::Query(_) | Cond::Bool(_) => Ok(()),
    }
}

impl Db {
    /// Plans deleting the rows of `table` matching `restriction`, with everything
    /// that depends on them.
    pub fn plan_delete(
        &self,
        table: &str,
        restriction: Cond,
        opts: DeleteOptions,
    ) -> Result<DeletePlan> {
        let info = self.table_info(table)?;
        if info.tier == Tier::Part && !opts.force_parts {
            let master = info.name.master().map(|m| m.pretty()).unwrap_or_default();
            return Err(Error::Refused(format!(
                "{} is a part table: delete from its master {master} instead (or force deleting part rows alone)",
                info.name.pretty()
            )));
        }
        let start = Query::table(&info).restrict(restriction)?;
        let graph = self.graph()?;
        // seeds: the user's restriction, plus master restrictions found through parts
        let mut seeds: BTreeMap<FullName, Vec<Query>> = BTreeMap::new();
        seeds.insert(info.name.clone(), vec![start]);
        for _round in 0..=graph.topo_order().len() {
            let restr = self.cascade(&graph, &seeds)?;
            let mut changed = false;
            for (table, queries) in &restr {
                let Some(master) = graph.master(table) else {
                    continue;
                };
                if opts.force_parts && table == &info.name {
                    continue;
                }
                // master rows owning affected part rows, not yet in the plan
                let master_info = self.info(&master)?;
                let part_rows = combine(&self.query_of(table)?, queries)?;
                let owners = Query::table(&master_info).restrict(&part_rows)?;
                let missing = match restr.get(&master) {
                    Some(mq) => owners.exclude(&combine(&Query::table(&master_info), mq)?)?,
                    None => owners.clone(),
                };
                if self.exists(&missing)? {
                    seeds.entry(master).or_default().push(owners);
                    changed = true;
                }
            }
            if !changed {
                let mut tables = Vec::new();
                for name in graph.sort(restr.keys().cloned()) {
                    let base = self.query_of(&name)?;
                    let q = combine(&base, &restr[&name])?;
                    tables.push((name, self.fetch_keys(&q)?));
                }
                return Ok(DeletePlan {
                    tables,
                    keep_files: opts.keep_files,
                });
            }
        }
        Err(Error::Query("delete cascade did not settle".into()))
    }

    /// Restrictions reached from the seeds by following foreign keys downwards.
    fn cascade(
        &self,
        graph: &crate::graph::Graph,
        seeds: &BTreeMap<FullName, Vec<Query>>,
    ) -> Result<BTreeMap<FullName, Vec<Query>>> {
        let mut restr: BTreeMap<FullName, Vec<Query>> = seeds.clone();
        for name in graph.topo_order() {
            let Some(queries) = restr.get(name).cloned() else {
                continue;
            };
            let parent_rows = combine(&self.query_of(name)?, &queries)?;
            for (child, edge) in graph.children(name) {
                let mut spec = Proj::key();
                for (c, p) in &edge.attr_map {
                    if c != p {
                        spec = spec.rename(c, p);
                    }
                }
                // the parent's key under the child's names: matches on every FK column
                let keyed = parent_rows.proj(spec)?;
                let child_q = self.query_of(&child)?.restrict(&keyed)?;
                restr.entry(child).or_default().push(child_q);
            }
        }
        Ok(restr)
    }

    /// Executes a plan in one transaction, children first; returns rows deleted per
    /// table. External rows no remaining row refers to go in the same transaction,
    /// their files after it commits (unless the plan keeps files).
    pub fn execute_delete(&self, plan: &DeletePlan) -> Result<Vec<(FullName, u64)>> {
        for (name, keys) in &plan.tables {
            if !keys.is_empty() {
                self.check_write(&*self.info(name)?, crate::db::WriteKind::Delete, keys)?;
            }
        }
        self.transaction(|| {
            let released = self.external_refs_of(plan)?;
            let mut out = Vec::new();
            for (name, keys) in plan.tables.iter().rev() {
                if keys.is_empty() {
                    continue;
                }
                let n = self.delete_keys(name, keys, STALE_GRAPH)?;
                out.push((name.clone(), n));
            }
            out.reverse();
            let files = self.release_external(&released)?;
            if !plan.keep_files && !files.is_empty() {
                self.after_commit(move || {
                    for f in files {
                        // a file already gone is what we wanted
                        let _ = std::fs::remove_file(&f);
                    }
                });
            }
            Ok(out)
        })
    }

    /// (schema, store, hash) of every external value the plan's rows hold.
    fn external_refs_of(&self, plan: &DeletePlan) -> Result<Vec<(String, String, SqlValue)>> {
        let mut refs = Vec::new();
        for (name, keys) in &plan.tables {
            let info = self.info(name)?;
            let ext: Vec<&crate::heading::Attribute> = info
                .heading
                .attributes
                .iter()
                .filter(|a| a.ty.store().is_some())
                .collect();
            if ext.is_empty() || keys.is_empty() {
                continue;
            }
            let d = self.dialect();
            let cols = d.ident_list(&ext.iter().map(|a| a.name.as_str()).collect::<Vec<_>>());
            for (cond, params) in self.key_conditions(&info, keys)? {
                let sql = format!("SELECT {cols} FROM {} WHERE {cond}", d.table(name));
                for row in self.query_raw(&sql, &params)? {
                    for (a, v) in ext.iter().zip(row) {
                        if matches!(v, SqlValue::Bytes(_)) {
                            let store = a.ty.store().unwrap_or_default().to_string();
                            refs.push((name.schema.clone(), store, v));
                        }
                    }
                }
            }
        }
        refs.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        refs.dedup();
        Ok(refs)
    }

    /// Deletes the external rows among `refs` that no row of their schema refers to
    /// any more; returns the files that no external row of any schema names.
    fn release_external(&self, refs: &[(String, String, SqlValue)]) -> Result<Vec<PathBuf>> {
        let d = self.dialect();
        let catalog = self.catalog();
        let mut files = Vec::new();
        for (schema, store, hash) in refs {
            let referencing: Vec<String> = catalog
                .user_tables(Some(schema))
                .iter()
                .flat_map(|t| {
                    t.heading
                        .attributes
                        .iter()
                        .filter(|a| a.ty.store() == Some(store.as_str()))
                        .map(|a| {
                            format!(
                                "SELECT 1 FROM {} WHERE {}=?",
                                d.table(&t.name),
                                d.ident(&a.name)
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            let mut used = false;
            for sql in &referencing {
                if !self
                    .query_raw(&format!("{sql} LIMIT 1"), std::slice::from_ref(hash))?
                    .is_empty()
                {
                    used = true;
                    break;
                }
            }
            let SqlValue::Bytes(b) = hash else { continue };
            let Ok(uuid) = uuid::Uuid::from_slice(b) else {
                continue;
            };
            if used {
                continue;
            }
            let Some(ext) = self.external_lookup(schema, store, &uuid)? else {
                continue;
            };
            let ext_name = crate::declare::ddl::external_table(schema, store);
            self.execute(
                &format!("DELETE FROM {} WHERE `hash`=?", d.table(&ext_name)),
                std::slice::from_ref(hash),
            )?;
            self.log(
                schema,
                &format!(
                    "DELETE FROM {ext_name} WHERE hash={uuid}{}",
                    ext.filepath
                        .as_deref()
                        .map(|p| format!(" ({p})"))
                        .unwrap_or_default()
                ),
            )?;
            let Ok(cfg) = self.store(store) else { continue };
            match &ext.filepath {
                Some(rel) => {
                    if !self.filepath_in_use(store, rel)? {
                        files.push(cfg.location.join(rel));
                    }
                }
                None => {
                    let suffix = ext
                        .attachment_name
                        .as_deref()
                        .map(|n| format!(".{n}"))
                        .unwrap_or_default();
                    files.push(crate::stores::uuid_path(&cfg, schema, &uuid, &suffix));
                }
            }
        }
        Ok(files)
    }

    /// True when some schema's `~external_<store>` still names the file `rel`.
    fn filepath_in_use(&self, store: &str, rel: &str) -> Result<bool> {
        for schema in self.schemas() {
            let name = crate::declare::ddl::external_table(&schema, store);
            if self.catalog().get(&name).is_none() {
                continue;
            }
            let sql = format!(
                "SELECT 1 FROM {} WHERE `filepath`=? LIMIT 1",
                self.dialect().table(&name)
            );
            if !self
                .query_raw(&sql, &[SqlValue::Text(rel.to_string())])?
                .is_empty()
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Deletes the rows of `table` matching `restriction`, and only those: no cascade.
    /// Meant for rows nothing refers to (error records, link rows, unreferenced file
    /// rows), where walking the dependency graph is wasted work; a row that a child
    /// row still refers to makes the database refuse, and then nothing is deleted.
    /// External-store entries the rows pointed to stay (see
    /// [`Db::external_unused`]). Unlike a restriction in a query, a map condition
    /// naming an attribute the table lacks is an error, not ignored, so that a typo
    /// cannot widen a delete to the whole table. The write guard is asked and each
    /// delete is written to `~log`, as for [`Db::delete`]. Returns the rows deleted.
    ///
    /// ```no_run
    /// # use spyglass_db::{Cond, Db};
    /// # let db = Db::open("sqlite:///demo.db")?;
    /// let n = db.delete_rows("common_nwbfile.AnalysisNwbfile",
    ///     Cond::map([("analysis_file_name", "rat1_A2B3C4.nwb")]))?;
    /// # Ok::<(), spyglass_db::Error>(())
    /// ```
    pub fn delete_rows(&self, table: &str, restriction: impl Into<Cond>) -> Result<u64> {
        let info = self.table_info(table)?;
        self.delete_rows_of(&info, restriction.into())
    }

    /// [`Db::delete_rows`] on a table given by its catalog entry.
    pub(crate) fn delete_rows_of(
        &self,
        info: &crate::heading::TableInfo,
        restriction: Cond,
    ) -> Result<u64> {
        require_known_keys(&restriction, info)?;
        let matching = Query::table(info).restrict(restriction)?;
        let keys_query = matching.select_attrs(&info.primary_key())?;
        self.transaction(|| {
            let keys = self.fetch_unobserved(&keys_query)?;
            if keys.is_empty() {
                return Ok(0);
            }
            self.check_write(info, crate::db::WriteKind::Delete, &keys)?;
            self.delete_keys(
                &info.name,
                &keys,
                "delete them with a cascading delete instead",
            )
        })
    }

    /// Deletes the rows of `table` matching `restriction` and everything depending on
    /// them; returns rows deleted per table.
    pub fn delete(
        &self,
        table: &str,
        restriction: Cond,
        opts: DeleteOptions,
    ) -> Result<Vec<(FullName, u64)>> {
        // plan inside the transaction so that the rows counted are the rows deleted
        self.transaction(|| {
            let plan = self.plan_delete(table, restriction, opts)?;
            self.execute_delete(&plan)
        })
    }

    /// `WHERE` conditions (with their parameters) selecting `keys`, in chunks.
    fn key_conditions(
        &self,
        info: &crate::heading::TableInfo,
        keys: &[Row],
    ) -> Result<Vec<(String, Vec<SqlValue>)>> {
        let pk = info.primary_key();
        let d = self.dialect();
        let cols = d.ident_list(&pk);
        let lhs = if pk.len() == 1 {
            cols.clone()
        } else {
            format!("({cols})")
        };
        let tuple = if pk.len() == 1 {
            "?".to_string()
        } else {
            format!("({})", vec!["?"; pk.len()].join(","))
        };
        let name = info.name.pretty();
        let mut out = Vec::new();
        for chunk in keys.chunks(400) {
            let cond = format!("{lhs} IN ({})", vec![tuple.as_str(); chunk.len()].join(","));
            let mut params: Vec<SqlValue> = Vec::with_capacity(chunk.len() * pk.len());
            for k in chunk {
                for a in &pk {
                    let attr = info.heading.get(a).ok_or_else(|| Error::UnknownAttribute {
                        attribute: a.clone(),
                        context: name.clone(),
                    })?;
                    params.push(crate::value::to_sql(
                        attr,
                        &name,
                        k.get(a).unwrap_or(&crate::Value::Null),
                    )?);
                }
            }
            out.push((cond, params));
        }
        Ok(out)
    }

    /// Deletes rows by primary key; `when_referenced` ends the message of a foreign-key
    /// refusal (what the caller should do about rows still referenced).
    fn delete_keys(&self, name: &FullName, keys: &[Row], when_referenced: &str) -> Result<u64> {
        let info = self.info(name)?;
        let pk = info.primary_key();
        let d = self.dialect();
        let table_sql = d.table(name);
        let lhs = if pk.len() == 1 {
            d.ident_list(&pk)
        } else {
            format!("({})", d.ident_list(&pk))
        };
        let mut total = 0;
        for ((cond, params), chunk) in self
            .key_conditions(&info, keys)?
            .into_iter()
            .zip(keys.chunks(400))
        {
            let sql = format!("DELETE FROM {table_sql} WHERE {cond}");
            total += self.execute(&sql, &params).map_err(|e| match e {
                Error::ForeignKey { message, .. } => Error::ForeignKey {
                    table: name.pretty(),
                    message: format!("rows are still referenced ({message}); {when_referenced}"),
                },
                other => other,
            })?;
            let logged = format!(
                "DELETE FROM {name} WHERE {lhs} IN (...{} keys)",
                chunk.len()
            );
            self.log(&name.schema, &logged)?;
        }
        Ok(total)
    }

    /// Tables a drop of `table` would remove (it, its parts and all descendants), with row counts.
    pub fn plan_drop_table(&self, table: &str) -> Result<Vec<(FullName, u64)>> {
        let info = self.table_info(table)?;
        if info.tier == Tier::Part {
            return Err(Error::Refused(format!(
                "{} is a part table: drop its master {} instead",
                info.name.pretty(),
                info.name.master().map(|m| m.pretty()).unwrap_or_default()
            )));
        }
        let graph = self.graph()?;
        let mut out = Vec::new();
        for name in graph.descendants(&info.name) {
            out.push((name.clone(), self.count(&self.query_of(&name)?)?));
        }
        Ok(out)
    }

    /// Tables a drop of `schema` removes, with row counts; refuses when tables of
    /// other schemas depend on it.
    pub fn plan_drop_schema(&self, schema: &str) -> Result<Vec<(FullName, u64)>> {
        let schema = &self.schema_name(schema);
        if !self.catalog().schemas.contains(schema) {
            return Err(Error::UnknownTable(format!("schema {schema}")));
        }
        let graph = self.graph()?;
        let mine: Vec<FullName> = graph
            .topo_order()
            .iter()
            .filter(|n| &n.schema == schema)
            .cloned()
            .collect();
        for n in &mine {
            for d in graph.descendants(n) {
                if &d.schema != schema {
                    return Err(Error::Refused(format!(
                        "cannot drop schema {schema}: {} depends on {}",
                        d.pretty(),
                        n.pretty()
                    )));
                }
            }
        }
        let mut out = Vec::new();
        for n in mine {
            out.push((n.clone(), self.count(&self.query_of(&n)?)?));
        }
        Ok(out)
    }

    /// Drops the tables of a plan (children first).
    pub fn drop_tables(&self, plan: &[(FullName, u64)]) -> Result<()> {
        for (name, _) in plan.iter().rev() {
            self.execute(&format!("DROP TABLE {}", self.dialect().table(name)), &[])?;
            self.backend().forget_table(name)?;
            self.log(&name.schema, &format!("Dropped {name}"))?;
        }
        self.refresh()
    }

    /// Drops a whole schema with its hidden tables.
    pub fn drop_schema(&self, schema: &str) -> Result<()> {
        let schema = &self.schema_name(schema);
        let plan = self.plan_drop_schema(schema)?;
        self.drop_tables(&plan)?;
        self.backend().drop_schema(schema)?;
        self.refresh()
    }
}

/// The rows of `base` matching any of the queries (semijoin on the primary key).
fn combine(base: &Query, queries: &[Query]) -> Result<Query> {
    if queries.len() == 1 {
        return queries[0].proj(Proj::key());
    }
    let ors = queries
        .iter()
        .map(|q| q.proj(Proj::key()).map(|k| Cond::Query(Box::new(k))))
        .collect::<Result<Vec<_>>>()?;
    base.restrict(Cond::Or(ors))?.proj(Proj::key())
}
