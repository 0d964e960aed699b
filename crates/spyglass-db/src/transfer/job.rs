//! One table's copy: the plan compiled against both catalogs (every name checked before
//! anything is written), then windows of N source rows in primary-key order; each
//! window is converted, anti-joined against the target by primary key, inserted in
//! one transaction, and on failure retried row by row with each failure logged.

use super::files;
use super::plan::{Plan, TablePlan, Transform, ZeroAction};
use super::rows::{self, Column, Fill, Outcome};
use super::{Event, RawName, TableSummary};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::heading::{Attribute, TableInfo};
use crate::naming::FullName;
use crate::value::{from_sql, Param, Row, SqlValue};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Keys per anti-join query.
const KEY_CHUNK: usize = 1000;

fn plan_err(table: &str, msg: impl std::fmt::Display) -> Error {
    Error::Config(format!("transfer plan, table {table}: {msg}"))
}

/// A table of the plan, checked against both databases.
pub(crate) struct TableJob {
    pub src: Arc<TableInfo>,
    pub dst: Arc<TableInfo>,
    /// Source columns read, primary key first.
    select: Vec<String>,
    src_pk: usize,
    columns: Vec<Column>,
    zero: HashMap<usize, ZeroAction>,
    restriction: Option<String>,
    window: usize,
    /// Positions (in `columns`) of the target's primary key.
    pk_pos: Vec<usize>,
    /// Columns holding external-store hashes.
    externals: Vec<usize>,
    /// Source rows the restriction selects.
    pub total: u64,
}

fn resolve(db: &Db, spec: &str) -> Option<Arc<TableInfo>> {
    if let Some((s, t)) = spec.split_once('.') {
        if let Ok(i) = db.info(&FullName::new(s, t)) {
            return Some(i);
        }
    }
    db.table_info(spec).ok()
}

impl TableJob {
    /// Checks one table of the plan against the two catalogs; writes nothing.
    pub(crate) fn compile(plan: &Plan, tp: &TablePlan, src: &Db, dst: &Db) -> Result<TableJob> {
        let name = tp.source.as_str();
        let src_info =
            resolve(src, name).ok_or_else(|| plan_err(name, "the source has no such table"))?;
        let dst_spec = match &tp.target {
            Some(t) => t.clone(),
            None => format!(
                "{}.{}",
                plan.map_schema(&src_info.name.schema),
                src_info.name.table
            ),
        };
        let dst_info = resolve(dst, &dst_spec).ok_or_else(|| {
            plan_err(
                name,
                format!("target table `{dst_spec}` does not exist (declare it first)"),
            )
        })?;
        let target_pretty = dst_info.name.raw();
        let sh = &src_info.heading;
        for from in tp.keys.keys().chain(tp.columns.keys()) {
            if sh.get(from).is_none() {
                return Err(plan_err(
                    name,
                    format!("renamed attribute `{from}` is not in the source"),
                ));
            }
        }
        for (from, to) in &tp.keys {
            if !sh.get(from).is_some_and(|a| a.in_key) {
                return Err(plan_err(
                    name,
                    format!("`{from}` under `keys` is not in the source's primary key"),
                ));
            }
            if !dst_info.heading.get(to).is_some_and(|a| a.in_key) {
                return Err(plan_err(
                    name,
                    format!("`{to}` is not in the primary key of {target_pretty}"),
                ));
            }
        }
        let renamed = |c: &str| -> String {
            tp.keys
                .get(c)
                .or_else(|| tp.columns.get(c))
                .cloned()
                .unwrap_or_else(|| c.to_string())
        };
        let pk = src_info.heading.primary_key();
        if pk.is_empty() {
            return Err(plan_err(
                name,
                "the source table has no primary key to walk it in windows",
            ));
        }
        let mut select: Vec<String> = pk.clone();
        let col_of = |c: &str, select: &mut Vec<String>| -> usize {
            match select.iter().position(|s| s == c) {
                Some(i) => i,
                None => {
                    select.push(c.to_string());
                    select.len() - 1
                }
            }
        };
        let mut date_times = HashMap::new();
        let mut zero_cols = HashMap::new();
        for t in &tp.transforms {
            match t {
                Transform::DateTime { date, time, into } => {
                    for c in [date, time] {
                        if sh.get(c).is_none() {
                            return Err(plan_err(
                                name,
                                format!("date_time: `{c}` is not in the source"),
                            ));
                        }
                    }
                    if dst_info.heading.get(into).is_none() {
                        return Err(plan_err(
                            name,
                            format!("date_time: `{into}` is not in {target_pretty}"),
                        ));
                    }
                    date_times.insert(into.clone(), (date.clone(), time.clone()));
                }
                Transform::ZeroDate { column, action } => {
                    if sh.get(column).is_none() {
                        return Err(plan_err(
                            name,
                            format!("zero_date: `{column}` is not in the source"),
                        ));
                    }
                    zero_cols.insert(column.clone(), *action);
                }
            }
        }
        let mut columns = Vec::new();
        for a in &dst_info.heading.attributes {
            if let Some((d, t)) = date_times.get(&a.name) {
                let fill = Fill::DateTime {
                    date: col_of(d, &mut select),
                    time: col_of(t, &mut select),
                };
                columns.push(Column {
                    attr: a.clone(),
                    fill,
                });
                continue;
            }
            let from = sh.attributes.iter().find(|s| renamed(&s.name) == a.name);
            match from {
                Some(s) => {
                    if let (Some(store), st) = (a.ty.store(), s.ty.store()) {
                        if st != Some(store)
                            || std::mem::discriminant(&s.ty) != std::mem::discriminant(&a.ty)
                        {
                            return Err(plan_err(
                                name,
                                format!(
                                    "`{}` is {} in the source and {} in the target",
                                    a.name, s.ty, a.ty
                                ),
                            ));
                        }
                        if !plan.stores.contains_key(store) {
                            return Err(plan_err(name, format!("`{}` uses store `{store}`: give its source and target folders under `stores:`", a.name)));
                        }
                    }
                    if zero_cols.get(&s.name) == Some(&ZeroAction::Null) && !a.nullable {
                        return Err(plan_err(
                            name,
                            format!(
                                "zero_date `{}`: null, but `{}` of {target_pretty} is not nullable",
                                s.name, a.name
                            ),
                        ));
                    }
                    let fill = Fill::Copy {
                        src: col_of(&s.name, &mut select),
                        attr: s.clone(),
                    };
                    columns.push(Column {
                        attr: a.clone(),
                        fill,
                    });
                }
                None if a.in_key || !a.is_optional() => {
                    return Err(plan_err(name, format!(
                        "`{}` of {target_pretty} gets no value (rename a source attribute to it, or give it a default)",
                        a.name
                    )));
                }
                None => {}
            }
        }
        let zero = zero_cols
            .iter()
            .filter_map(|(c, a)| select.iter().position(|s| s == c).map(|i| (i, *a)))
            .collect();
        let pk_pos = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.attr.in_key)
            .map(|(i, _)| i)
            .collect();
        let externals = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.attr.ty.store().is_some())
            .map(|(i, _)| i)
            .collect();
        let restriction = tp.restriction.clone().filter(|r| !r.trim().is_empty());
        let count_sql = format!(
            "SELECT COUNT(*) FROM {}{}",
            src.dialect().table(&src_info.name),
            restriction
                .as_ref()
                .map(|r| format!(" WHERE ({r})"))
                .unwrap_or_default()
        );
        let total = src
            .query_raw(&count_sql, &[])
            .map_err(|e| plan_err(name, format!("restriction: {e}")))?
            .first()
            .and_then(|r| r.first())
            .map(|v| v.to_text().parse().unwrap_or(0))
            .unwrap_or(0);
        Ok(TableJob {
            src_pk: pk.len(),
            window: plan.window_of(tp),
            src: src_info,
            dst: dst_info,
            select,
            columns,
            zero,
            restriction,
            pk_pos,
            externals,
            total,
        })
    }

    fn key_attrs(&self) -> Vec<&Attribute> {
        self.pk_pos.iter().map(|&i| &self.columns[i].attr).collect()
    }

    /// Copies the table window by window.
    pub(crate) fn run(
        &self,
        plan: &Plan,
        src: &Db,
        dst: &Db,
        dry_run: bool,
        log: &mut super::ErrorLog,
        progress: &mut dyn FnMut(Event),
    ) -> Result<TableSummary> {
        let mut sum = TableSummary {
            source: self.src.name.raw(),
            target: self.dst.name.raw(),
            ..Default::default()
        };
        let sd = src.dialect();
        let pk = &self.select[..self.src_pk];
        let select_sql = format!(
            "SELECT {} FROM {}",
            sd.ident_list(&self.select),
            sd.table(&self.src.name)
        );
        let order = sd.ident_list(pk);
        let mut last: Option<Vec<SqlValue>> = None;
        loop {
            let mut conds = Vec::new();
            let mut params = Vec::new();
            if let Some(r) = &self.restriction {
                conds.push(format!("({r})"));
            }
            if let Some(last) = &last {
                // (a > ?) OR (a = ? AND b > ?) OR ...: an index range on the key
                let mut ors = Vec::new();
                for i in 0..pk.len() {
                    let mut ands = Vec::new();
                    for (j, name) in pk.iter().enumerate().take(i + 1) {
                        ands.push(format!(
                            "{} {} ?",
                            sd.ident(name),
                            if j == i { ">" } else { "=" }
                        ));
                        params.push(last[j].clone());
                    }
                    ors.push(format!("({})", ands.join(" AND ")));
                }
                conds.push(format!("({})", ors.join(" OR ")));
            }
            let sql = format!(
                "{select_sql}{} ORDER BY {order} LIMIT {}",
                if conds.is_empty() {
                    String::new()
                } else {
                    format!(" WHERE {}", conds.join(" AND "))
                },
                self.window
            );
            let rows = src.query_raw(&sql, &params)?;
            let Some(tail) = rows.last() else { break };
            last = Some(tail[..self.src_pk].to_vec());
            let n = rows.len() as u64;
            self.window_rows(plan, src, dst, rows, dry_run, log, &mut sum)?;
            sum.source_rows += n;
            progress(Event::Rows(n));
            if n < self.window as u64 {
                break;
            }
        }
        Ok(sum)
    }

    /// The source key of a row as a typed key row (for the log's key hash).
    fn source_key(&self, row: &[SqlValue]) -> Row {
        let pairs: Vec<(String, crate::value::Value)> = self.select[..self.src_pk]
            .iter()
            .zip(row)
            .map(|(n, v)| {
                let a = self
                    .src
                    .heading
                    .get(n)
                    .expect("key attribute of the source");
                (
                    n.clone(),
                    from_sql(a, v.clone())
                        .unwrap_or_else(|_| crate::value::Value::Str(v.to_text())),
                )
            })
            .collect();
        Row::from_pairs(pairs)
    }

    #[allow(clippy::too_many_arguments)]
    fn window_rows(
        &self,
        plan: &Plan,
        src: &Db,
        dst: &Db,
        rows: Vec<Vec<SqlValue>>,
        dry_run: bool,
        log: &mut super::ErrorLog,
        sum: &mut TableSummary,
    ) -> Result<()> {
        let table = self.dst.name.raw();
        let mut good: Vec<(Row, Vec<SqlValue>)> = Vec::with_capacity(rows.len());
        let mut failed: Vec<(Row, String)> = Vec::new();
        for row in rows {
            let key = self.source_key(&row);
            match rows::convert(&self.columns, &self.select, &self.zero, &table, row) {
                Outcome::Row(v) => good.push((key, v)),
                Outcome::Skip => sum.skipped += 1,
                Outcome::Fail(reason) => failed.push((key, reason)),
            }
        }
        // the anti-join: keep only rows whose target key is not there yet
        let present = self.present_keys(dst, &good)?;
        let key_attrs = self.key_attrs();
        let before = good.len();
        good.retain(|(_, v)| {
            let k: Vec<SqlValue> = self.pk_pos.iter().map(|&i| v[i].clone()).collect();
            !present.contains(&rows::key_text(&key_attrs, &k))
        });
        sum.present += (before - good.len()) as u64;
        if dry_run {
            sum.copied += good.len() as u64;
            sum.failed += failed.len() as u64;
            return Ok(());
        }
        // external files and rows first
        for &ci in &self.externals {
            let ty = &self.columns[ci].attr.ty;
            let pair = &plan.stores[ty.store().unwrap_or_default()];
            let hashes: HashSet<Vec<u8>> = good
                .iter()
                .filter_map(|(_, v)| match &v[ci] {
                    SqlValue::Bytes(b) => Some(b.clone()),
                    _ => None,
                })
                .collect();
            let bad = files::carry(
                src,
                dst,
                &self.src.name.schema,
                &self.dst.name.schema,
                ty,
                pair,
                &hashes,
            )?;
            if !bad.is_empty() {
                good.retain(|(key, v)| match &v[ci] {
                    SqlValue::Bytes(b) if bad.contains_key(b) => {
                        failed.push((key.clone(), bad[b].clone()));
                        false
                    }
                    _ => true,
                });
            }
        }
        let names: Vec<&str> = self.columns.iter().map(|c| c.attr.name.as_str()).collect();
        let dd = dst.dialect();
        let insert = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            dd.table(&self.dst.name),
            dd.ident_list(&names),
            vec!["?"; names.len()].join(",")
        );
        let batch = dst.transaction(|| {
            let mut it = good
                .iter()
                .map(|(_, v)| Ok(v.iter().map(|x| Param::Owned(x.clone())).collect()));
            dst.backend()
                .execute_many(&insert, &mut it)
                .map_err(|(_, e)| e)
        });
        let mut copied_keys = Vec::new();
        match batch {
            Ok(_) => {
                sum.copied += good.len() as u64;
                if log.has_entries(&self.dst.name.schema) {
                    copied_keys.extend(good.iter().map(|(k, _)| k.clone()));
                }
            }
            Err(_) => {
                // one by one: what fails is logged, the rest goes in
                for (key, v) in good {
                    match dst.execute(&insert, &v) {
                        Ok(_) => {
                            sum.copied += 1;
                            copied_keys.push(key);
                        }
                        Err(e) => failed.push((key, e.to_string())),
                    }
                }
            }
        }
        sum.failed += failed.len() as u64;
        log.record(dst, &self.src.name, &self.dst.name, &failed)?;
        log.clear(dst, &self.dst.name, &copied_keys)?;
        Ok(())
    }

    /// Canonical texts of the window's target keys that the target already holds.
    fn present_keys(&self, dst: &Db, good: &[(Row, Vec<SqlValue>)]) -> Result<HashSet<String>> {
        let mut out = HashSet::new();
        let key_attrs = self.key_attrs();
        let dd = dst.dialect();
        let names: Vec<&str> = key_attrs.iter().map(|a| a.name.as_str()).collect();
        let t = dd.table(&self.dst.name);
        let cols = dd.ident_list(&names);
        for chunk in good.chunks(KEY_CHUNK) {
            let mut params = Vec::with_capacity(chunk.len() * names.len());
            for (_, v) in chunk {
                params.extend(self.pk_pos.iter().map(|&i| v[i].clone()));
            }
            let sql = if names.len() == 1 {
                format!(
                    "SELECT {cols} FROM {t} WHERE {cols} IN ({})",
                    vec!["?"; chunk.len()].join(",")
                )
            } else {
                let tuple = format!("({})", vec!["?"; names.len()].join(","));
                let list = vec![tuple.as_str(); chunk.len()].join(",");
                match dd {
                    crate::dialect::Dialect::Sqlite => {
                        format!("SELECT {cols} FROM {t} WHERE ({cols}) IN (VALUES {list})")
                    }
                    crate::dialect::Dialect::Mysql => {
                        format!("SELECT {cols} FROM {t} WHERE ({cols}) IN ({list})")
                    }
                }
            };
            for r in dst.query_raw(&sql, &params)? {
                out.insert(rows::key_text(&key_attrs, &r));
            }
        }
        Ok(out)
    }
}
