//! Slices of a database: exactly the rows a set of restricted tables needs. The
//! cascade starts from (table, restriction) leaves and goes UP through every foreign
//! key to all ancestors (renamed keys followed through their attribute maps), from a
//! part to its master and from a master to all its parts; restrictions reaching one
//! table are OR-ed, and the `~external_<store>` rows the slice's file and blob
//! attributes point to come along. It is set-based: each table is read once, by its
//! leaf restrictions and by chunked `IN` lists of keys — never one query per row.
//!
//! A slice can be copied into another database with the same definitions
//! ([`Db::copy_slice`]) and written as MySQL DDL plus rows ([`Db::dump_slice_sql`]).
//! [`Db::restrictions_of`] turns a fetched query into per-table restriction texts
//! (the export log); [`key_restrictions`] writes key lists as restriction texts.

use crate::db::Db;
use crate::declare::ddl;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::heading::{Attribute, TableInfo};
use crate::naming::FullName;
use crate::query::{Cond, Query};
use crate::types::AttrType;
use crate::value::{from_sql, to_sql, Columns, Param, Row, SqlValue, Value};
use indexmap::IndexMap;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

/// Keys per `IN (...)` list.
const CHUNK: usize = 400;

/// One table of a slice with the primary keys of its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceTable {
    /// The table (user tables and `~external_<store>` tables).
    pub name: FullName,
    /// Primary keys of the rows in the slice (may be empty: the table is declared only).
    pub keys: Vec<Row>,
}

/// The rows needed to reproduce a set of restricted tables, parents first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Slice {
    /// Tables in dependency order (external tables first), keys in a stable order.
    pub tables: Vec<SliceTable>,
}

impl Slice {
    /// The keys of one table (empty when the table is not in the slice).
    pub fn keys(&self, name: &FullName) -> &[Row] {
        self.tables
            .iter()
            .find(|t| &t.name == name)
            .map(|t| t.keys.as_slice())
            .unwrap_or(&[])
    }

    /// Total rows across tables.
    pub fn total_rows(&self) -> usize {
        self.tables.iter().map(|t| t.keys.len()).sum()
    }

    /// Tables holding at least one row.
    pub fn non_empty(&self) -> impl Iterator<Item = &SliceTable> {
        self.tables.iter().filter(|t| !t.keys.is_empty())
    }

    /// Schemas in order of first appearance.
    pub fn schemas(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in &self.tables {
            if !out.contains(&t.name.schema) {
                out.push(t.name.schema.clone());
            }
        }
        out
    }
}

/// What one `copy_slice` or `dump_slice_sql` call wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SliceStats {
    /// Tables declared (or created in the SQL).
    pub tables: usize,
    /// Rows written.
    pub rows: usize,
    /// Bytes written (SQL text; 0 for a copy).
    pub bytes: u64,
}

/// Rows keyed by their primary-key text, in discovery order.
type RowSet = IndexMap<String, Row>;

fn key_text(row: &Row, pk: &[String]) -> String {
    let vals: Vec<&Value> = pk
        .iter()
        .map(|a| row.get(a).unwrap_or(&Value::Null))
        .collect();
    format!("{vals:?}")
}

fn store_attrs(info: &TableInfo) -> impl Iterator<Item = &Attribute> {
    info.heading
        .attributes
        .iter()
        .filter(|a| a.ty.store().is_some())
}

/// Primary key, foreign-key and external-store columns: what the cascade reads.
fn cascade_columns(info: &TableInfo) -> Vec<String> {
    let mut want: BTreeSet<String> = info.primary_key().into_iter().collect();
    for fk in &info.foreign_keys {
        want.extend(fk.attr_map.iter().map(|(c, _)| c.clone()));
    }
    want.extend(store_attrs(info).map(|a| a.name.clone()));
    info.heading
        .attributes
        .iter()
        .filter(|a| want.contains(&a.name))
        .map(|a| a.name.clone())
        .collect()
}

fn attr<'a>(info: &'a TableInfo, name: &str) -> Result<&'a Attribute> {
    info.heading
        .get(name)
        .ok_or_else(|| Error::UnknownAttribute {
            attribute: name.to_string(),
            context: info.name.pretty(),
        })
}

impl Db {
    /// Cascades `leaves` up through ancestors, masters and parts: the rows a
    /// re-run of the queries behind the leaves needs, with the tables to declare.
    pub fn cascade_up(&self, leaves: &[(FullName, Cond)]) -> Result<Slice> {
        self.cascade_up_from(leaves, &[])
    }

    /// [`Db::cascade_up`] from rows given by their primary keys (e.g. the rows a delete
    /// plan removes), fetched in batches rather than as one long restriction.
    pub fn cascade_up_keys(&self, leaves: &[(FullName, Vec<Row>)]) -> Result<Slice> {
        self.cascade_up_from(&[], leaves)
    }

    fn cascade_up_from(
        &self,
        leaves: &[(FullName, Cond)],
        key_leaves: &[(FullName, Vec<Row>)],
    ) -> Result<Slice> {
        let graph = self.graph()?;
        let mut conds: BTreeMap<FullName, Vec<Cond>> = BTreeMap::new();
        for (t, c) in leaves {
            if !graph.contains(t) {
                return Err(Error::UnknownTable(t.pretty()));
            }
            conds.entry(t.clone()).or_default().push(c.clone());
        }
        let mut pending: BTreeMap<FullName, RowSet> = BTreeMap::new();
        for (t, keys) in key_leaves {
            if !graph.contains(t) {
                return Err(Error::UnknownTable(t.pretty()));
            }
            let pk = self.info(t)?.primary_key();
            let set = pending.entry(t.clone()).or_default();
            for k in keys {
                let key = k.project(&pk);
                set.entry(key_text(&key, &pk)).or_insert(key);
            }
        }
        let mut found: BTreeMap<FullName, RowSet> = BTreeMap::new();
        let mut externals: BTreeMap<FullName, RowSet> = BTreeMap::new();
        let mut touched: BTreeSet<FullName> = BTreeSet::new();
        for name in graph.topo_order().iter().rev() {
            let c = conds.remove(name).unwrap_or_default();
            let k = pending.remove(name).unwrap_or_default();
            if c.is_empty() && k.is_empty() {
                continue;
            }
            touched.insert(name.clone());
            let info = self.info(name)?;
            let rows = self.gather(&info, &c, k)?;
            if let Some(master) = graph.master(name) {
                // a part hands its rows to its master, which then takes all its parts
                let mpk = self.info(&master)?.primary_key();
                let set = pending.entry(master).or_default();
                for r in rows.values() {
                    let key = r.project(&mpk);
                    set.entry(key_text(&key, &mpk)).or_insert(key);
                }
                continue;
            }
            if rows.is_empty() {
                continue;
            }
            let pk = info.primary_key();
            let keys: Vec<Row> = rows.values().map(|r| r.project(&pk)).collect();
            for part in graph.parts(name).iter().rev() {
                let pinfo = self.info(part)?;
                let cols = cascade_columns(&pinfo);
                let prows = self.rows_matching(&pinfo, &cols, &pk, &keys)?;
                touched.insert(part.clone());
                push_up(
                    &graph,
                    &pinfo,
                    &prows,
                    Some(name),
                    &mut pending,
                    &mut externals,
                )?;
                found.insert(part.clone(), prows);
            }
            push_up(&graph, &info, &rows, None, &mut pending, &mut externals)?;
            found.insert(name.clone(), rows);
        }
        // declare every ancestor of what was touched, so that foreign keys hold
        let mut declared = touched.clone();
        for t in &touched {
            declared.extend(graph.ancestors(t));
        }
        let mut tables = Vec::new();
        let mut ext_tables: BTreeSet<FullName> = externals.keys().cloned().collect();
        for name in graph.sort(declared) {
            let info = self.info(&name)?;
            for a in store_attrs(&info) {
                ext_tables.insert(ddl::external_table(
                    &name.schema,
                    a.ty.store().unwrap_or(""),
                ));
            }
            let pk = info.primary_key();
            let keys = found
                .remove(&name)
                .map(|mut rs| {
                    rs.sort_keys();
                    rs.values().map(|r| r.project(&pk)).collect()
                })
                .unwrap_or_default();
            tables.push(SliceTable { name, keys });
        }
        let mut ext_list = Vec::new();
        for name in ext_tables {
            self.info(&name)?;
            let keys = externals
                .remove(&name)
                .map(|mut rs| {
                    rs.sort_keys();
                    rs.into_values().collect()
                })
                .unwrap_or_default();
            ext_list.push(SliceTable { name, keys });
        }
        ext_list.extend(tables);
        Ok(Slice { tables: ext_list })
    }

    /// The cascade columns of the rows matching the leaf conditions or the keys.
    fn gather(&self, info: &TableInfo, conds: &[Cond], mut keys: RowSet) -> Result<RowSet> {
        let cols = cascade_columns(info);
        let pk = info.primary_key();
        let mut out = RowSet::new();
        if !conds.is_empty() {
            let q = Query::table(info)
                .restrict(Cond::Or(conds.to_vec()))?
                .select_attrs(&cols)?;
            for r in self.fetch_plain(&q)? {
                out.insert(key_text(&r, &pk), r);
            }
        }
        keys.retain(|k, _| !out.contains_key(k));
        if !keys.is_empty() {
            let keys: Vec<Row> = keys.into_values().collect();
            for (k, r) in self.rows_matching(info, &cols, &pk, &keys)? {
                out.insert(k, r);
            }
        }
        Ok(out)
    }

    /// Fetches a query's rows without export logging or external-store resolution.
    fn fetch_plain(&self, q: &Query) -> Result<Vec<Row>> {
        let c = q.compile(self.dialect());
        let heading = q.heading().to_vec();
        let columns: Columns = q.names().into();
        let mut rows = Vec::new();
        self.backend().query(&c.sql, &c.params, &mut |raw| {
            let mut vals = Vec::with_capacity(raw.len());
            for (a, v) in heading.iter().zip(raw) {
                vals.push(crate::fetch::decode(a, v)?);
            }
            rows.push(Row::new(columns.clone(), vals)?);
            Ok(())
        })?;
        Ok(rows)
    }

    /// Raw values of `cols` for the rows whose `match_cols` equal one of `keys`.
    fn raw_matching(
        &self,
        info: &TableInfo,
        cols: &[String],
        match_cols: &[String],
        keys: &[Row],
        each: &mut dyn FnMut(Vec<SqlValue>) -> Result<()>,
    ) -> Result<()> {
        let d = self.dialect();
        let attrs: Vec<&Attribute> = match_cols
            .iter()
            .map(|c| attr(info, c))
            .collect::<Result<_>>()?;
        let lhs = if match_cols.len() == 1 {
            d.ident(&match_cols[0])
        } else {
            format!("({})", d.ident_list(match_cols))
        };
        let tuple = if match_cols.len() == 1 {
            "?".to_string()
        } else {
            format!("({})", vec!["?"; match_cols.len()].join(","))
        };
        let label = info.name.pretty();
        for chunk in keys.chunks(CHUNK) {
            let mut params = Vec::with_capacity(chunk.len() * attrs.len());
            for k in chunk {
                for a in &attrs {
                    params.push(to_sql(a, &label, k.get(&a.name).unwrap_or(&Value::Null))?);
                }
            }
            let sql = format!(
                "SELECT {} FROM {} WHERE {lhs} IN ({})",
                d.ident_list(cols),
                d.table(&info.name),
                vec![tuple.as_str(); chunk.len()].join(",")
            );
            self.backend().query(&sql, &params, each)?;
        }
        Ok(())
    }

    /// Decoded `cols` of the rows whose `match_cols` equal one of `keys`, keyed by primary key.
    fn rows_matching(
        &self,
        info: &TableInfo,
        cols: &[String],
        match_cols: &[String],
        keys: &[Row],
    ) -> Result<RowSet> {
        let attrs: Vec<&Attribute> = cols.iter().map(|c| attr(info, c)).collect::<Result<_>>()?;
        let columns: Columns = cols.to_vec().into();
        let pk = info.primary_key();
        let mut out = RowSet::new();
        self.raw_matching(info, cols, match_cols, keys, &mut |raw| {
            let mut vals = Vec::with_capacity(raw.len());
            for (a, v) in attrs.iter().zip(raw) {
                vals.push(from_sql(a, v)?);
            }
            let r = Row::new(columns.clone(), vals)?;
            out.insert(key_text(&r, &pk), r);
            Ok(())
        })?;
        Ok(out)
    }

    /// Copies a slice into `dest`: creates missing schemas and tables with the same
    /// definitions, then inserts the rows (blobs and hashes byte for byte), in one
    /// transaction. Tables that exist in `dest` must have the same definition.
    pub fn copy_slice(
        &self,
        slice: &Slice,
        dest: &Db,
        progress: &dyn Fn(&FullName, usize),
    ) -> Result<SliceStats> {
        let mut stats = SliceStats::default();
        for schema in slice.schemas() {
            dest.create_schema(&schema)?;
        }
        for t in &slice.tables {
            let info = self.info(&t.name)?;
            match dest.catalog().get(&t.name) {
                Some(existing) => {
                    let (a, b) = (self.describe_info(&info), dest.describe_info(&existing));
                    if a != b {
                        return Err(Error::DefinitionMismatch {
                            table: t.name.pretty(),
                            diff: crate::declare::line_diff(&b, &a),
                        });
                    }
                }
                None => {
                    dest.create_table(&info)?;
                    stats.tables += 1;
                }
            }
        }
        dest.refresh()?;
        dest.transaction(|| {
            for t in slice.non_empty() {
                let info = self.info(&t.name)?;
                let cols = info.heading.names();
                let attrs = &info.heading.attributes;
                let mut rows: Vec<Vec<SqlValue>> = Vec::with_capacity(t.keys.len());
                self.raw_matching(&info, &cols, &info.primary_key(), &t.keys, &mut |raw| {
                    let mut vals = Vec::with_capacity(raw.len());
                    for (a, v) in attrs.iter().zip(raw) {
                        vals.push(portable(a, &t.name, v)?);
                    }
                    rows.push(vals);
                    Ok(())
                })?;
                let d = dest.dialect();
                let sql = format!(
                    "INSERT INTO {} ({}) VALUES ({})",
                    d.table(&t.name),
                    d.ident_list(&cols),
                    vec!["?"; cols.len()].join(",")
                );
                let n = rows.len();
                let mut it = rows
                    .into_iter()
                    .map(|r| Ok(r.into_iter().map(Param::Owned).collect::<Vec<_>>()));
                dest.backend()
                    .execute_many(&sql, &mut it)
                    .map_err(|(i, e)| {
                        Error::Refused(format!("{}: row {i}: {e}", t.name.pretty()))
                    })?;
                stats.rows += n;
                progress(&t.name, n);
            }
            Ok(())
        })?;
        Ok(stats)
    }

    /// Writes the slice as MySQL/MariaDB SQL: `CREATE DATABASE`/`CREATE TABLE IF NOT
    /// EXISTS` with DataJoint's DDL (each schema's `~log` included) and the rows as
    /// multi-row INSERTs with hexadecimal blobs; loads into an empty server with the
    /// `mysql` client and reads back in datajoint-python.
    pub fn dump_slice_sql(
        &self,
        slice: &Slice,
        header: &str,
        out: &mut dyn Write,
        progress: &dyn Fn(&FullName, usize),
    ) -> Result<SliceStats> {
        let mut w = CountingWriter {
            inner: out,
            bytes: 0,
        };
        let mut stats = SliceStats::default();
        let io = |e: std::io::Error| Error::backend(format!("writing the SQL dump: {e}"));
        for line in header.lines() {
            writeln!(w, "-- {line}").map_err(io)?;
        }
        writeln!(
            w,
            "SET NAMES utf8mb4;\nSET @OLD_FK=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0;\nSET @OLD_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO';"
        )
        .map_err(io)?;
        let my = Dialect::Mysql;
        for schema in slice.schemas() {
            writeln!(w, "\nCREATE DATABASE IF NOT EXISTS {};", my.ident(&schema)).map_err(io)?;
            let log = FullName::new(&schema, "~log");
            if let Ok(info) = self.info(&log) {
                for s in ddl::create_table(my, &info)? {
                    writeln!(w, "{s};").map_err(io)?;
                }
            }
            for t in slice.tables.iter().filter(|t| t.name.schema == schema) {
                for s in ddl::create_table(my, &*self.info(&t.name)?)? {
                    writeln!(w, "{s};").map_err(io)?;
                }
                stats.tables += 1;
            }
        }
        for t in slice.non_empty() {
            let info = self.info(&t.name)?;
            let cols = info.heading.names();
            let attrs = &info.heading.attributes;
            let head = format!(
                "INSERT INTO {} ({}) VALUES\n",
                my.table(&t.name),
                my.ident_list(&cols)
            );
            let mut stmt = String::new();
            let mut n = 0;
            let mut failure: Option<Error> = None;
            self.raw_matching(&info, &cols, &info.primary_key(), &t.keys, &mut |raw| {
                let mut vals = Vec::with_capacity(raw.len());
                for (a, v) in attrs.iter().zip(raw) {
                    vals.push(sql_literal(my, &portable(a, &t.name, v)?));
                }
                stmt.push_str(if stmt.is_empty() { &head } else { ",\n" });
                stmt.push('(');
                stmt.push_str(&vals.join(","));
                stmt.push(')');
                n += 1;
                if stmt.len() > 1 << 20 {
                    if let Err(e) = writeln!(w, "{stmt};") {
                        failure = Some(io(e));
                    }
                    stmt.clear();
                }
                Ok(())
            })?;
            if let Some(e) = failure {
                return Err(e);
            }
            if !stmt.is_empty() {
                writeln!(w, "{stmt};").map_err(io)?;
            }
            stats.rows += n;
            progress(&t.name, n);
        }
        writeln!(
            w,
            "\nSET FOREIGN_KEY_CHECKS=@OLD_FK;\nSET SQL_MODE=@OLD_MODE;"
        )
        .map_err(io)?;
        stats.bytes = w.bytes;
        Ok(stats)
    }

    /// The restrictions a fetch of `q` needs logged so that it can be re-run on an
    /// export: per table it reads (including tables of queries inside restrictions), the
    /// query's own WHERE text when `q` restricts one whole table and the text fits in
    /// `max_len`; otherwise the primary keys of the table's contributing rows, as
    /// restriction texts of at most `max_len` characters each (OR-ed when read back).
    pub fn restrictions_of(&self, q: &Query, max_len: usize) -> Result<Vec<(FullName, String)>> {
        let mut out: Vec<(FullName, String)> = Vec::new();
        let push = |t: FullName, s: String, out: &mut Vec<(FullName, String)>| {
            if !out.iter().any(|(a, b)| a == &t && b == &s) {
                out.push((t, s));
            }
        };
        let mut queue = vec![q.clone()];
        while let Some(q) = queue.pop() {
            queue.extend(q.condition_queries());
            let tables = q.tables();
            if tables.len() == 1 {
                if let Some(text) = q.restriction_text(self.dialect()) {
                    if text.len() <= max_len {
                        push(tables[0].clone(), text, &mut out);
                        continue;
                    }
                }
            }
            for t in tables {
                let info = self.info(&t)?;
                let pk = info.primary_key();
                let base = Query::table(&info).select_attrs(&pk)?;
                let keys = self.fetch_plain(&base.restrict(&q)?)?;
                for s in key_restrictions(self.dialect(), &info, &keys, max_len)? {
                    push(t.clone(), s, &mut out);
                }
            }
        }
        Ok(out)
    }
}

struct CountingWriter<'a> {
    inner: &'a mut dyn Write,
    bytes: u64,
}

impl Write for CountingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A stored value in the form either backend accepts: bytes (blobs, attachments,
/// hashes) unchanged, everything else normalised through its typed value.
fn portable(a: &Attribute, table: &FullName, v: SqlValue) -> Result<SqlValue> {
    match &a.ty {
        AttrType::Blob(_)
        | AttrType::Adapted(_)
        | AttrType::Attach
        | AttrType::ExternalBlob(_)
        | AttrType::ExternalAttach(_)
        | AttrType::Filepath(_) => Ok(v),
        _ => to_sql(a, &table.pretty(), &from_sql(a, v)?),
    }
}

/// Adds the parent keys (through each foreign key's attribute map) and external hashes
/// of `rows` to the pending sets. A part pulled by `master` skips the master and its siblings.
fn push_up(
    graph: &Graph,
    info: &TableInfo,
    rows: &RowSet,
    master: Option<&FullName>,
    pending: &mut BTreeMap<FullName, RowSet>,
    externals: &mut BTreeMap<FullName, RowSet>,
) -> Result<()> {
    for (parent, edge) in graph.parents(&info.name) {
        if let Some(m) = master {
            if &parent == m || parent.master().as_ref() == Some(m) {
                continue;
            }
        }
        let ppk: Vec<String> = edge.attr_map.iter().map(|(_, p)| p.clone()).collect();
        let columns: Columns = ppk.clone().into();
        let set = pending.entry(parent).or_default();
        'rows: for r in rows.values() {
            let mut vals = Vec::with_capacity(edge.attr_map.len());
            for (c, _) in &edge.attr_map {
                match r.get(c) {
                    None | Some(Value::Null) => continue 'rows,
                    Some(v) => vals.push(v.clone()),
                }
            }
            let key = Row::new(columns.clone(), vals)?;
            set.entry(key_text(&key, &ppk)).or_insert(key);
        }
    }
    for a in store_attrs(info) {
        let ext = ddl::external_table(&info.name.schema, a.ty.store().unwrap_or(""));
        let set = externals.entry(ext).or_default();
        for r in rows.values() {
            if let Some(Value::Uuid(h)) = r.get(&a.name) {
                let key = Row::from_pairs([("hash", Value::Uuid(*h))]);
                set.entry(h.to_string()).or_insert(key);
            }
        }
    }
    Ok(())
}

/// A value as an SQL literal of `dialect` (bytes as hexadecimal, text escaped).
pub fn sql_literal(dialect: Dialect, v: &SqlValue) -> String {
    match v {
        SqlValue::Null => "NULL".into(),
        SqlValue::Int(i) => i.to_string(),
        SqlValue::UInt(u) => u.to_string(),
        SqlValue::Float(f) => format!("{f:?}"),
        SqlValue::Text(s) => dialect.string_literal(s),
        SqlValue::Bytes(b) => {
            if b.is_empty() {
                "''".into()
            } else {
                let mut s = String::with_capacity(3 + 2 * b.len());
                s.push_str("X'");
                for byte in b {
                    s.push_str(&format!("{byte:02X}"));
                }
                s.push('\'');
                s
            }
        }
    }
}

/// Primary keys of `info` as restriction texts of at most `max_len` characters each
/// (`` `a` IN (…) `` or `` (`a`,`b`) IN ((…),(…)) ``); they are OR-ed when read back.
pub fn key_restrictions(
    dialect: Dialect,
    info: &TableInfo,
    keys: &[Row],
    max_len: usize,
) -> Result<Vec<String>> {
    let pk = info.primary_key();
    let attrs: Vec<&Attribute> = pk.iter().map(|c| attr(info, c)).collect::<Result<_>>()?;
    let lhs = if pk.len() == 1 {
        dialect.ident(&pk[0])
    } else {
        format!("({})", dialect.ident_list(&pk))
    };
    let label = info.name.pretty();
    let mut out = Vec::new();
    let mut items: Vec<String> = Vec::new();
    let mut len = 0;
    let close = |items: &mut Vec<String>, out: &mut Vec<String>| {
        if !items.is_empty() {
            out.push(format!("{lhs} IN ({})", items.join(",")));
            items.clear();
        }
    };
    for k in keys {
        let mut lits = Vec::with_capacity(attrs.len());
        for a in &attrs {
            lits.push(sql_literal(
                dialect,
                &to_sql(a, &label, k.get(&a.name).unwrap_or(&Value::Null))?,
            ));
        }
        let item = if pk.len() == 1 {
            lits.remove(0)
        } else {
            format!("({})", lits.join(","))
        };
        let fixed = lhs.len() + 6;
        if fixed + item.len() > max_len {
            return Err(Error::Refused(format!(
                "{label}: one key needs {} characters, more than the {max_len} a logged restriction may hold",
                fixed + item.len()
            )));
        }
        if !items.is_empty() && fixed + len + 1 + item.len() > max_len {
            close(&mut items, &mut out);
            len = 0;
        }
        len += item.len() + usize::from(!items.is_empty());
        items.push(item);
    }
    close(&mut items, &mut out);
    if keys.is_empty() {
        out.push("FALSE".into());
    }
    Ok(out)
}
