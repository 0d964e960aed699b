//! Fetch: run a query and decode its rows into typed values (blobs unpacked),
//! dynamic rows or serde structs; `fetch1`, chosen attributes, order/limit/offset,
//! `count` and `exists`.

use crate::db::Db;
use crate::error::{Error, Result};
use crate::query::{QAttr, Query};
use crate::value::{from_sql, python_float_repr, Columns, Row, SqlValue, Value};
use serde::de::DeserializeOwned;

/// Options of a fetch, as DataJoint's `fetch(...)` keywords.
#[derive(Debug, Clone, Default)]
pub struct FetchSpec {
    /// Only these attributes (`"KEY"` expands to the primary key); all when empty.
    pub attrs: Vec<String>,
    /// `"KEY"`, `"KEY DESC"`, `"attr"`, `"attr desc"`.
    pub order_by: Vec<String>,
    /// Row limit.
    pub limit: Option<u64>,
    /// Rows skipped.
    pub offset: Option<u64>,
}

impl FetchSpec {
    /// Fetch only these attributes.
    pub fn attrs<S: AsRef<str>>(attrs: &[S]) -> FetchSpec {
        FetchSpec {
            attrs: attrs.iter().map(|a| a.as_ref().to_string()).collect(),
            ..Default::default()
        }
    }

    /// Sets the ordering.
    pub fn order_by<S: AsRef<str>>(mut self, order: &[S]) -> FetchSpec {
        self.order_by = order.iter().map(|a| a.as_ref().to_string()).collect();
        self
    }

    /// Sets limit and offset.
    pub fn limit(mut self, limit: u64, offset: Option<u64>) -> FetchSpec {
        self.limit = Some(limit);
        self.offset = offset;
        self
    }
}

pub(crate) fn decode(a: &QAttr, v: SqlValue) -> Result<Value> {
    match &a.source {
        Some(src) => from_sql(src, v),
        None => Ok(match v {
            SqlValue::Null => Value::Null,
            SqlValue::Int(i) => Value::Int(i),
            SqlValue::UInt(u) => Value::from(u),
            SqlValue::Float(f) => Value::Float(f),
            SqlValue::Text(s) => Value::Str(s),
            SqlValue::Bytes(b) => Value::Bytes(b),
        }),
    }
}

impl Db {
    /// Fetches all rows of a query.
    pub fn fetch(&self, q: &Query) -> Result<Vec<Row>> {
        self.fetch_with(q, &FetchSpec::default())
    }

    /// Fetches rows with options.
    pub fn fetch_with(&self, q: &Query, spec: &FetchSpec) -> Result<Vec<Row>> {
        let mut q = q.clone();
        if !spec.order_by.is_empty() || spec.limit.is_some() || spec.offset.is_some() {
            let order: Vec<&str> = spec.order_by.iter().map(String::as_str).collect();
            q = q.top(&order, spec.limit, spec.offset)?;
        }
        // logged before the attribute selection, so that the log sees whole keys
        self.notify_fetch(&q)?;
        if !spec.attrs.is_empty() {
            let mut names = Vec::new();
            for a in &spec.attrs {
                if a == "KEY" {
                    names.extend(q.primary_key());
                } else {
                    names.push(a.clone());
                }
            }
            q = q.select_attrs(&names)?;
        }
        self.run_fetch(&q)
    }

    /// Fetches rows without telling the fetch observer (the engine's own reads).
    pub(crate) fn fetch_unobserved(&self, q: &Query) -> Result<Vec<Row>> {
        self.run_fetch(q)
    }

    fn run_fetch(&self, q: &Query) -> Result<Vec<Row>> {
        let c = q.compile(self.dialect());
        let heading = q.heading();
        let columns: Columns = heading
            .iter()
            .map(|a| a.name.clone())
            .collect::<Vec<_>>()
            .into();
        let mut rows = Vec::new();
        self.backend().query(&c.sql, &c.params, &mut |raw| {
            let mut values = Vec::with_capacity(raw.len());
            for (a, v) in heading.iter().zip(raw) {
                values.push(decode(a, v)?);
            }
            rows.push(Row::new(columns.clone(), values)?);
            Ok(())
        })?;
        let external: Vec<(usize, crate::heading::Attribute)> = heading
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                a.source
                    .as_ref()
                    .filter(|s| s.ty.store().is_some())
                    .map(|s| (i, s.clone()))
            })
            .collect();
        // look hashes up in the schemas the query reads first (a hash may exist in many)
        let mut schemas: Vec<String> = Vec::new();
        for t in q.tables() {
            if !schemas.contains(&t.schema) {
                schemas.push(t.schema);
            }
        }
        self.resolve_external(&mut rows, &external, &schemas)?;
        Ok(rows)
    }

    /// Fetches the primary keys of a query.
    pub fn fetch_keys(&self, q: &Query) -> Result<Vec<Row>> {
        self.fetch_with(q, &FetchSpec::attrs(&["KEY"]))
    }

    /// Fetches exactly one row; errors on zero or several.
    pub fn fetch1(&self, q: &Query) -> Result<Row> {
        let mut rows = self.fetch_with(
            q,
            &FetchSpec {
                limit: Some(2),
                ..Default::default()
            },
        )?;
        if rows.len() != 1 {
            let count = if rows.is_empty() {
                0
            } else {
                self.count(q)? as usize
            };
            return Err(Error::NotOne {
                table: q.label().to_string(),
                count,
            });
        }
        Ok(rows.remove(0))
    }

    /// Fetches rows into serde structs (field names are attribute names).
    pub fn fetch_as<T: DeserializeOwned>(&self, q: &Query) -> Result<Vec<T>> {
        self.fetch(q)?
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                serde_json::from_value(r.to_json())
                    .map_err(|e| Error::Deserialize(format!("row {i} of {}: {e}", q.label())))
            })
            .collect()
    }

    /// Number of rows of a query.
    pub fn count(&self, q: &Query) -> Result<u64> {
        let c = q.compile_count(self.dialect());
        let rows = self.query_raw(&c.sql, &c.params)?;
        match rows.first().and_then(|r| r.first()) {
            Some(SqlValue::Int(n)) => Ok(*n as u64),
            Some(SqlValue::UInt(n)) => Ok(*n),
            Some(SqlValue::Text(s)) => s
                .parse()
                .map_err(|_| Error::backend("count(*) returned text")),
            _ => Err(Error::backend("count(*) returned nothing")),
        }
    }

    /// True when the query has at least one row.
    pub fn exists(&self, q: &Query) -> Result<bool> {
        let c = q.compile_exists(self.dialect());
        let rows = self.query_raw(&c.sql, &c.params)?;
        Ok(
            matches!(rows.first().and_then(|r| r.first()), Some(SqlValue::Int(n)) if *n != 0)
                || matches!(rows.first().and_then(|r| r.first()), Some(SqlValue::UInt(n)) if *n != 0),
        )
    }
}

/// Column reads: one attribute of a query, aggregated over its rows.
impl Db {
    /// The largest non-NULL value of `attr` over the rows of `q` (as SQL's `MAX`, in
    /// the database's ordering), decoded as the attribute's type; None when `q` has no
    /// rows or only NULLs there. A bookkeeping read: the fetch observer is not told.
    ///
    /// ```no_run
    /// # use spyglass_db::Db;
    /// # let db = Db::open("sqlite:///demo.db")?;
    /// let last = db.max_of(&db.table("common_region.BrainRegion")?, "region_id")?;
    /// let next = last.and_then(|v| v.as_i64()).unwrap_or(0) + 1;
    /// # Ok::<(), spyglass_db::Error>(())
    /// ```
    pub fn max_of(&self, q: &Query, attr: &str) -> Result<Option<Value>> {
        // the first value in descending order rather than MAX(): MariaDB 10.11 refuses
        // a prepared MAX over a derived table when it runs a second time (error 1140)
        let (column, rows) = self.read_column(q, attr, "MAX", |col, inner, alias| {
            format!(
                "SELECT {col} FROM ({inner}) AS {alias} WHERE {col} IS NOT NULL ORDER BY {col} DESC LIMIT 1"
            )
        })?;
        match rows.into_iter().next() {
            Some(v) => Ok(Some(decode(&column, v)?).filter(|v| !matches!(v, Value::Null))),
            None => Ok(None),
        }
    }

    /// The distinct non-NULL values of `attr` over the rows of `q`, sorted (in the
    /// database's ordering), decoded as the attribute's type. A bookkeeping read:
    /// the fetch observer is not told.
    pub fn distinct_values(&self, q: &Query, attr: &str) -> Result<Vec<Value>> {
        let (column, rows) = self.read_column(q, attr, "DISTINCT", |col, inner, alias| {
            format!(
                "SELECT DISTINCT {col} FROM ({inner}) AS {alias} WHERE {col} IS NOT NULL ORDER BY {col}"
            )
        })?;
        rows.into_iter().map(|v| decode(&column, v)).collect()
    }

    /// Runs `sql(column, inner query, alias)` over `q` and returns the attribute with
    /// the first value of every row. Values that have no order (blobs, attachments,
    /// JSON, externally stored ones) are refused, naming `what` was asked.
    fn read_column(
        &self,
        q: &Query,
        attr: &str,
        what: &str,
        sql: impl FnOnce(&str, &str, &str) -> String,
    ) -> Result<(QAttr, Vec<SqlValue>)> {
        let column = q
            .heading()
            .iter()
            .find(|a| a.name == attr)
            .cloned()
            .ok_or_else(|| Error::UnknownAttribute {
                attribute: attr.to_string(),
                context: q.label().to_string(),
            })?;
        if let Some(src) = &column.source {
            use crate::types::AttrType;
            if src.ty.store().is_some()
                || matches!(
                    src.ty,
                    AttrType::Blob(_) | AttrType::Attach | AttrType::Json
                )
            {
                return Err(Error::Query(format!(
                    "{what} of `{attr}` ({}) in {}: values of this type have no order",
                    src.ty,
                    q.label()
                )));
            }
        }
        let c = q.compile(self.dialect());
        let statement = sql(&self.dialect().ident(attr), &c.sql, "`$column`");
        let rows = self.query_raw(&statement, &c.params)?;
        Ok((
            column,
            rows.into_iter()
                .filter_map(|r| r.into_iter().next())
                .collect(),
        ))
    }
}

/// Formats a value for terminal tables and CSV.
pub fn display_value(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Float(f) => python_float_repr(*f),
        Value::Blob(b) => {
            let s = serde_json::to_string(b.as_ref()).unwrap_or_else(|_| "<blob>".into());
            if s.chars().count() > 60 {
                format!("{}…", s.chars().take(59).collect::<String>())
            } else {
                s
            }
        }
        Value::Bytes(b) => format!("<{} bytes>", b.len()),
        Value::Json(j) => j.to_string(),
        Value::Attach { name, data } => format!("{name} ({} bytes)", data.len()),
        other => other.python_str(),
    }
}
