//! Insert: rows from dynamic values or serde structs, checked against the heading
//! (unknown attributes, missing required ones, types and ranges), written in one
//! transaction with a reused prepared statement, with DataJoint's
//! `skip_duplicates`, `replace` and `ignore_extra_fields`. Failures name the row
//! and the culprit: the duplicate key, or the parent row a foreign key lacks.

use crate::db::Db;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::heading::{Attribute, TableInfo};
use crate::query::{Cond, Query};
use crate::value::{to_param, to_sql, Param, Row, SqlValue, Value};
use serde::Serialize;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Insert options, as DataJoint's `insert(...)` keywords.
#[derive(Debug, Clone, Copy, Default)]
pub struct InsertOptions {
    /// Silently skip rows whose key already exists.
    pub skip_duplicates: bool,
    /// Replace rows whose key already exists.
    pub replace: bool,
    /// Ignore attributes the table does not have instead of failing.
    pub ignore_extra_fields: bool,
    /// Allow inserting into Imported/Computed tables outside `make`.
    pub allow_direct_insert: bool,
}

/// The literal value a default stands for, bound when a row gives NULL for it.
fn default_value(attr: &Attribute) -> Option<SqlValue> {
    let d = attr.default.as_ref()?;
    let head = crate::heading::default_keyword(d);
    if head == "CURRENT_TIMESTAMP" {
        return Some(SqlValue::Text(
            chrono::Utc::now()
                .naive_utc()
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
        ));
    }
    let text = crate::heading::unquote_default(d);
    to_sql(attr, "", &Value::Str(text.to_string())).ok()
}

/// Splits `message\0index` as packed while the transaction unwinds.
fn split_index(s: &str) -> (String, usize) {
    match s.rsplit_once('\u{0}') {
        Some((m, i)) => (m.to_string(), i.parse().unwrap_or(0)),
        None => (s.to_string(), 0),
    }
}

/// The server's own words, when they add something (MySQL names the index).
fn extra(msg: &str, d: Dialect) -> String {
    match d {
        Dialect::Mysql => format!(" ({msg})"),
        Dialect::Sqlite => String::new(),
    }
}

fn describe_key(info: &TableInfo, row: &Row) -> String {
    let parts: Vec<String> = info
        .primary_key()
        .iter()
        .filter_map(|k| row.get(k).map(|v| format!("{k}={}", v.python_str())))
        .collect();
    format!("({})", parts.join(", "))
}

impl Db {
    /// Inserts rows into a table; returns the number of rows written.
    pub fn insert(&self, table: &str, rows: &[Row], opts: InsertOptions) -> Result<u64> {
        let info = self.table_info(table)?;
        self.insert_into(&info, rows, opts)
    }

    /// Inserts one row.
    pub fn insert1(&self, table: &str, row: Row, opts: InsertOptions) -> Result<u64> {
        self.insert(table, std::slice::from_ref(&row), opts)
    }

    /// Inserts serde structs (field names are attribute names).
    pub fn insert_serde<T: Serialize>(
        &self,
        table: &str,
        items: &[T],
        opts: InsertOptions,
    ) -> Result<u64> {
        let mut rows = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let j = serde_json::to_value(item)
                .map_err(|e| Error::Deserialize(format!("row {i}: {e}")))?;
            let serde_json::Value::Object(map) = j else {
                return Err(Error::Deserialize(format!(
                    "row {i}: a struct or map is needed"
                )));
            };
            rows.push(Row::from_pairs(
                map.iter().map(|(k, v)| (k.clone(), Value::from_json(v))),
            ));
        }
        self.insert(table, &rows, opts)
    }

    /// Inserts rows into a resolved table.
    pub fn insert_into(
        &self,
        info: &Arc<TableInfo>,
        rows: &[Row],
        opts: InsertOptions,
    ) -> Result<u64> {
        if !rows.is_empty() {
            self.check_write(info, crate::db::WriteKind::Insert, rows)?;
        }
        if info
            .heading
            .attributes
            .iter()
            .any(|a| a.ty.store().is_some())
        {
            // payloads go to the store and ~external in the same transaction as the rows
            return self.transaction(|| {
                let stored = self.externalize(info, rows)?;
                self.insert_rows(info, &stored, opts)
            });
        }
        self.insert_rows(info, rows, opts)
    }

    fn insert_rows<'r>(
        &self,
        info: &Arc<TableInfo>,
        rows: &'r [Row],
        opts: InsertOptions,
    ) -> Result<u64> {
        let tname = info.name.pretty();
        if info.tier.is_auto() && !opts.allow_direct_insert && !self.in_make.load(Ordering::SeqCst)
        {
            return Err(Error::Refused(format!(
                "{tname} is {}: its rows are made by populate (use allow_direct_insert to override)",
                info.tier
            )));
        }
        if opts.skip_duplicates && opts.replace {
            return Err(Error::Config(
                "skip_duplicates and replace cannot be combined".into(),
            ));
        }
        let Some(first) = rows.first() else {
            return Ok(0);
        };
        // the attributes given by the first row fix the column list
        let mut attrs: Vec<&Attribute> = Vec::new();
        let mut positions: Vec<usize> = Vec::new();
        for (i, c) in first.columns().iter().enumerate() {
            match info.heading.get(c) {
                Some(a) => {
                    attrs.push(a);
                    positions.push(i);
                }
                None if opts.ignore_extra_fields => {}
                None => {
                    return Err(Error::UnknownAttribute {
                        attribute: c.clone(),
                        context: format!("insert into {tname}"),
                    })
                }
            }
        }
        for a in &info.heading.attributes {
            if !a.is_optional() && !attrs.iter().any(|x| x.name == a.name) {
                return Err(Error::MissingAttribute {
                    table: tname,
                    attribute: a.name.clone(),
                    row: 0,
                });
            }
        }
        let defaults: Vec<Option<SqlValue>> = attrs.iter().map(|a| default_value(a)).collect();
        let d = self.dialect();
        let cols = d.ident_list(&attrs.iter().map(|a| a.name.as_str()).collect::<Vec<_>>());
        let marks = vec!["?"; attrs.len()].join(",");
        let table_sql = d.table(&info.name);
        let pk = info.primary_key();
        let sql = match (d, opts.skip_duplicates, opts.replace) {
            (Dialect::Sqlite, true, _) => {
                format!("INSERT INTO {table_sql} ({cols}) VALUES ({marks}) ON CONFLICT DO NOTHING")
            }
            (Dialect::Sqlite, _, true) => {
                format!("INSERT OR REPLACE INTO {table_sql} ({cols}) VALUES ({marks})")
            }
            (Dialect::Mysql, true, _) => format!(
                "INSERT INTO {table_sql} ({cols}) VALUES ({marks}) ON DUPLICATE KEY UPDATE {0}={0}",
                d.ident(&pk[0])
            ),
            (Dialect::Mysql, _, true) => {
                format!("REPLACE INTO {table_sql} ({cols}) VALUES ({marks})")
            }
            _ => format!("INSERT INTO {table_sql} ({cols}) VALUES ({marks})"),
        };
        let first_cols = first.columns().clone();
        let convert = |idx: usize, row: &'r Row| -> Result<Vec<Param<'r>>> {
            let same = Arc::ptr_eq(row.columns(), &first_cols) || row.columns() == &first_cols;
            if !same {
                let mut given: Vec<&String> = row
                    .columns()
                    .iter()
                    .filter(|c| info.heading.get(c).is_some() || !opts.ignore_extra_fields)
                    .collect();
                let mut want: Vec<&String> = first_cols
                    .iter()
                    .filter(|c| info.heading.get(c).is_some() || !opts.ignore_extra_fields)
                    .collect();
                given.sort();
                want.sort();
                if given != want {
                    return Err(Error::Query(format!(
                        "insert into {tname}: row {idx} has attributes ({}) but row 0 has ({}); all rows must give the same attributes",
                        row.columns().join(", "),
                        first_cols.join(", ")
                    )));
                }
            }
            let mut out = Vec::with_capacity(attrs.len());
            for (k, a) in attrs.iter().enumerate() {
                let v = if same {
                    &row.values()[positions[k]]
                } else {
                    row.get(&a.name).unwrap_or(&Value::Null)
                };
                let mut sv = to_param(a, &tname, v).map_err(|e| match e {
                    Error::BadValue {
                        table,
                        attribute,
                        ty,
                        message,
                    } => Error::BadValue {
                        table,
                        attribute,
                        ty,
                        message: format!("row {idx}: {message}"),
                    },
                    other => other,
                })?;
                if sv == Param::Owned(SqlValue::Null) && !a.nullable && !a.ty.is_auto_increment() {
                    match &defaults[k] {
                        Some(dv) => sv = Param::Owned(dv.clone()),
                        None => {
                            return Err(Error::MissingAttribute {
                                table: tname.clone(),
                                attribute: a.name.clone(),
                                row: idx,
                            })
                        }
                    }
                }
                out.push(sv);
            }
            Ok(out)
        };
        let result = self.transaction(|| {
            let mut iter = rows.iter().enumerate().map(|(i, r)| convert(i, r));
            self.backend()
                .execute_many(&sql, &mut iter)
                .map_err(|(i, e)| match e {
                    Error::Duplicate { key, .. } => Error::Duplicate {
                        table: tname.clone(),
                        key: format!("{key}\u{0}{i}"),
                    },
                    Error::ForeignKey { message, .. } => Error::ForeignKey {
                        table: tname.clone(),
                        message: format!("{message}\u{0}{i}"),
                    },
                    other => other,
                })
        });
        // after the rollback: name the row at fault (a backend may report a batch's first row)
        match result {
            Err(Error::Duplicate { table, key }) => {
                let (msg, from) = split_index(&key);
                let at = self.find_duplicate(info, rows, from).unwrap_or(from);
                Err(Error::Duplicate {
                    table,
                    key: format!("{} in row {at}", describe_key(info, &rows[at])) + &extra(&msg, d),
                })
            }
            Err(Error::ForeignKey { table, message }) => {
                let (msg, from) = split_index(&message);
                for (at, row) in rows.iter().enumerate().skip(from).take(5000) {
                    if let Some(detail) = self.missing_parent(info, row).unwrap_or(None) {
                        return Err(Error::ForeignKey {
                            table,
                            message: format!("row {at}: {detail}"),
                        });
                    }
                }
                Err(Error::ForeignKey {
                    table,
                    message: format!("row {from}: {msg}"),
                })
            }
            other => other,
        }
    }

    /// The first row from `from` whose key is already in the table or repeats an earlier row's.
    fn find_duplicate(&self, info: &TableInfo, rows: &[Row], from: usize) -> Option<usize> {
        let pk = info.primary_key();
        let table = Query::table(info);
        let mut seen = std::collections::HashSet::new();
        for (i, row) in rows.iter().enumerate() {
            let key: Vec<String> = pk
                .iter()
                .map(|k| row.get(k).map(Value::python_str).unwrap_or_default())
                .collect();
            if !seen.insert(key) && i >= from {
                return Some(i);
            }
            if i >= from && i < from + 5000 {
                let q = table.restrict(Cond::from(&row.project(&pk))).ok()?;
                if self.exists(&q).ok()? {
                    return Some(i);
                }
            }
        }
        None
    }

    /// Updates secondary attributes of one existing row, found by the primary key in
    /// `row` (DataJoint's `update1`).
    pub fn update1(&self, table: &str, row: &Row) -> Result<()> {
        let info = self.table_info(table)?;
        self.check_write(
            &info,
            crate::db::WriteKind::Update,
            std::slice::from_ref(row),
        )?;
        let tname = info.name.pretty();
        let pk = info.primary_key();
        let mut sets = Vec::new();
        let mut params = Vec::new();
        for (k, v) in row.iter() {
            let a = info.heading.get(k).ok_or_else(|| Error::UnknownAttribute {
                attribute: k.to_string(),
                context: format!("update of {tname}"),
            })?;
            if !a.in_key {
                sets.push(format!("{}=?", self.dialect().ident(k)));
                params.push(to_sql(a, &tname, v)?);
            }
        }
        if sets.is_empty() {
            return Err(Error::Query(format!(
                "update of {tname}: no secondary attribute given"
            )));
        }
        let mut conds = Vec::new();
        for k in &pk {
            let v = row.get(k).ok_or_else(|| Error::MissingAttribute {
                table: tname.clone(),
                attribute: k.clone(),
                row: 0,
            })?;
            let a = info.heading.get(k).ok_or_else(|| Error::UnknownAttribute {
                attribute: k.clone(),
                context: tname.clone(),
            })?;
            conds.push(format!("{}=?", self.dialect().ident(k)));
            params.push(to_sql(a, &tname, v)?);
        }
        let sql = format!(
            "UPDATE {} SET {} WHERE {}",
            self.dialect().table(&info.name),
            sets.join(","),
            conds.join(" AND ")
        );
        match self.execute(&sql, &params)? {
            1 => Ok(()),
            // MySQL counts changed rows: an update that changes nothing reports 0
            0 if self.dialect() == Dialect::Mysql && self.row_exists(&info, row)? => Ok(()),
            n => Err(Error::NotOne {
                table: tname,
                count: n as usize,
            }),
        }
    }

    /// True when a row with the primary key given in `row` exists.
    fn row_exists(&self, info: &TableInfo, row: &Row) -> Result<bool> {
        let key = row.project(&info.primary_key());
        self.exists(&Query::table(info).restrict(Cond::from(&key))?)
    }

    /// Names the first foreign key of `row` that has no matching parent row.
    fn missing_parent(&self, info: &TableInfo, row: &Row) -> Result<Option<String>> {
        for fk in &info.foreign_keys {
            let mut pairs = Vec::new();
            let mut has_null = false;
            for (c, p) in &fk.attr_map {
                match row.get(c) {
                    Some(v) if !v.is_null() => pairs.push((p.clone(), v.clone())),
                    _ => has_null = true,
                }
            }
            if has_null {
                continue;
            }
            let parent = self.info(&fk.parent)?;
            let q = Query::table(&parent).restrict(Cond::Map(pairs.clone()))?;
            if !self.exists(&q)? {
                let shown: Vec<String> = fk
                    .attr_map
                    .iter()
                    .filter_map(|(c, _)| row.get(c).map(|v| format!("{c}={}", v.python_str())))
                    .collect();
                return Ok(Some(format!(
                    "no row in {} matches ({})",
                    fk.parent.pretty(),
                    shown.join(", ")
                )));
            }
        }
        Ok(None)
    }
}
