//! The MySQL/MariaDB backend (the `mysql` crate, synchronous) with DataJoint 0.14's
//! layout: one database per schema, column comments carrying `:type:` markers, and
//! the catalog rebuilt from `information_schema` as DataJoint's virtual modules do, so
//! schemas created by datajoint-python are usable without any Rust code.

use super::Backend;
use crate::config::ConnectionConfig;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::heading::{Attribute, ForeignKey, Heading, Index, TableInfo};
use crate::naming::{FullName, Tier};
use crate::types::AttrType;
use crate::value::{Param, SqlValue};
use mysql::consts::ColumnType;
use mysql::prelude::Queryable;
use mysql::{Conn, OptsBuilder, SslOpts};
use std::collections::BTreeMap;

/// A foreign-key constraint: the child table and the constraint's name.
type ConstraintOf = (FullName, String);

/// What a foreign-key constraint links: the parent table and (child, parent) columns.
type ForeignKeyColumns = (FullName, Vec<(String, String)>);

/// DataJoint's session sql_mode.
pub const SQL_MODE: &str =
    "NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,ONLY_FULL_GROUP_BY";

/// A connection to a MySQL or MariaDB server.
pub struct MysqlBackend {
    conn: Conn,
}

fn param(v: &SqlValue) -> mysql::Value {
    match v {
        SqlValue::Null => mysql::Value::NULL,
        SqlValue::Int(i) => mysql::Value::Int(*i),
        SqlValue::UInt(u) => mysql::Value::UInt(*u),
        SqlValue::Float(f) => mysql::Value::Double(*f),
        SqlValue::Text(s) => mysql::Value::Bytes(s.as_bytes().to_vec()),
        SqlValue::Bytes(b) => mysql::Value::Bytes(b.clone()),
    }
}

fn param_of(p: &Param<'_>) -> mysql::Value {
    match p {
        Param::Owned(v) => param(v),
        Param::Text(s) => mysql::Value::Bytes(s.as_bytes().to_vec()),
    }
}

/// Converts a result value, using the column's type to tell text from bytes.
fn from_mysql(v: mysql::Value, binary: bool) -> SqlValue {
    match v {
        mysql::Value::NULL => SqlValue::Null,
        mysql::Value::Int(i) => SqlValue::Int(i),
        mysql::Value::UInt(u) => match i64::try_from(u) {
            Ok(i) => SqlValue::Int(i),
            Err(_) => SqlValue::UInt(u),
        },
        mysql::Value::Float(f) => SqlValue::Float(f as f64),
        mysql::Value::Double(f) => SqlValue::Float(f),
        mysql::Value::Bytes(b) => {
            if binary {
                SqlValue::Bytes(b)
            } else {
                match String::from_utf8(b) {
                    Ok(s) => SqlValue::Text(s),
                    Err(e) => SqlValue::Bytes(e.into_bytes()),
                }
            }
        }
        mysql::Value::Date(y, mo, d, h, mi, s, us) => {
            if h == 0 && mi == 0 && s == 0 && us == 0 {
                SqlValue::Text(format!("{y:04}-{mo:02}-{d:02} 00:00:00"))
            } else if us == 0 {
                SqlValue::Text(format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"))
            } else {
                SqlValue::Text(format!(
                    "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}"
                ))
            }
        }
        mysql::Value::Time(neg, days, h, mi, s, us) => {
            let hours = days * 24 + h as u32;
            let sign = if neg { "-" } else { "" };
            if us == 0 {
                SqlValue::Text(format!("{sign}{hours:02}:{mi:02}:{s:02}"))
            } else {
                SqlValue::Text(format!("{sign}{hours:02}:{mi:02}:{s:02}.{us:06}"))
            }
        }
    }
}

fn map_err(e: mysql::Error, sql: &str) -> Error {
    if let mysql::Error::MySqlError(m) = &e {
        let msg = m.message.clone();
        return match m.code {
            1062 => Error::Duplicate {
                table: String::new(),
                key: msg,
            },
            1451 | 1452 | 1216 | 1217 => Error::ForeignKey {
                table: String::new(),
                message: msg,
            },
            1054 => Error::UnknownAttribute {
                attribute: msg.split('\'').nth(1).unwrap_or(&msg).to_string(),
                context: format!("SQL `{}`", crate::query::sql_excerpt(sql)),
            },
            1146 => Error::UnknownTable(msg),
            _ => Error::Backend {
                message: format!("{} (MySQL error {})", msg, m.code),
                sql: Some(crate::query::sql_excerpt(sql)),
            },
        };
    }
    Error::Backend {
        message: e.to_string(),
        sql: Some(crate::query::sql_excerpt(sql)),
    }
}

impl MysqlBackend {
    /// Connects with DataJoint's session settings; tries TLS first when allowed.
    pub fn connect(cfg: &ConnectionConfig) -> Result<MysqlBackend> {
        let base = || {
            OptsBuilder::new()
                .ip_or_hostname(Some(cfg.host.clone()))
                .tcp_port(cfg.port)
                .user(cfg.user.clone())
                .pass(cfg.password.clone())
                .init(vec![format!("SET SESSION sql_mode = '{SQL_MODE}'")])
        };
        // the message names the server by a URL rebuilt without the password; the
        // driver's text never holds it, and is withheld entirely if it ever did
        let shown = crate::dburl::DbUrl {
            scheme: "mysql".into(),
            user: cfg.user.clone(),
            password: cfg.password.clone(),
            host: cfg.host.clone(),
            port: Some(cfg.port),
            path: String::new(),
            options: None,
        };
        let redact = |e: mysql::Error| {
            let msg = e.to_string();
            let leaks = cfg.password.as_deref().is_some_and(|p| {
                p.len() >= 4 && (msg.contains(p) || msg.contains(&crate::dburl::percent_encode(p)))
            });
            Error::Config(format!(
                "cannot connect to {shown}: {}",
                if leaks {
                    "the driver's message is withheld because it contains the password"
                } else {
                    msg.as_str()
                }
            ))
        };
        let conn = match cfg.use_tls {
            Some(false) => Conn::new(base()).map_err(redact)?,
            Some(true) => Conn::new(base().ssl_opts(Some(SslOpts::default()))).map_err(redact)?,
            // prefer TLS, fall back to plain when the server does not offer it
            None => match Conn::new(base().ssl_opts(Some(
                SslOpts::default().with_danger_accept_invalid_certs(true),
            ))) {
                Ok(c) => c,
                Err(_) => Conn::new(base()).map_err(redact)?,
            },
        };
        Ok(MysqlBackend { conn })
    }

    fn rows(&mut self, sql: &str, params: &[SqlValue]) -> Result<Vec<Vec<SqlValue>>> {
        let mut out = Vec::new();
        self.query(sql, params, &mut |r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }
}

fn text(v: &SqlValue) -> String {
    v.to_text()
}

/// Rebuilds an attribute type from a server column type and comment (`:uuid:` etc.).
fn column_type(server_type: &str, comment: &str) -> Result<(AttrType, String)> {
    if let Some(rest) = comment.strip_prefix(':') {
        if let Some((marker, user)) = rest.split_once(':') {
            let ty = AttrType::parse(marker)?;
            return Ok((ty, user.to_string()));
        }
    }
    let lower = server_type.to_ascii_lowercase();
    // display widths of integer types are dropped (int(11) -> int), as DataJoint does
    let is_int = ["tinyint", "smallint", "mediumint", "int", "bigint", "year"]
        .iter()
        .any(|k| lower.starts_with(&format!("{k}(")));
    let normalized = if is_int {
        match (lower.find('('), lower.find(')')) {
            (Some(a), Some(b)) if a < b => format!("{}{}", &lower[..a], &lower[b + 1..]),
            _ => lower.clone(),
        }
    } else {
        lower.clone()
    };
    let ty = match normalized.as_str() {
        // MariaDB stores json as longtext with a json_valid check
        "longtext" => AttrType::Json,
        t if t.starts_with("enum(") => AttrType::parse(server_type)?,
        // a legacy column type DataJoint does not declare (text, set, varbinary ...)
        t => AttrType::parse(t).unwrap_or_else(|_| AttrType::Native(lower.clone())),
    };
    Ok((ty, comment.to_string()))
}

/// Canonical spelling of a server-reported default.
fn column_default(raw: &str) -> Option<String> {
    let t = raw.trim();
    if t.eq_ignore_ascii_case("null") || t.is_empty() {
        return None;
    }
    let lower = t.to_ascii_lowercase();
    if lower.starts_with("current_timestamp") {
        return Some("CURRENT_TIMESTAMP".into());
    }
    if t.len() >= 2 && t.starts_with('\'') && t.ends_with('\'') {
        return Some(format!("\"{}\"", t[1..t.len() - 1].replace("''", "'")));
    }
    Some(t.to_string())
}

impl Backend for MysqlBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64> {
        if params.is_empty() {
            self.conn.query_drop(sql).map_err(|e| map_err(e, sql))?;
        } else {
            let ps: Vec<mysql::Value> = params.iter().map(param).collect();
            self.conn
                .exec_drop(sql, mysql::Params::Positional(ps))
                .map_err(|e| map_err(e, sql))?;
        }
        Ok(self.conn.affected_rows())
    }

    fn execute_many<'a>(
        &mut self,
        sql: &str,
        rows: &mut dyn Iterator<Item = Result<Vec<Param<'a>>>>,
    ) -> std::result::Result<u64, (usize, Error)> {
        // INSERT ... VALUES (?,..) goes out as multi-row statements (one round trip per
        // chunk, as DataJoint does); the error names the first row of the failed chunk
        let split = sql.find(" VALUES (").and_then(|at| {
            let open = at + " VALUES ".len();
            sql[open..].find(')').map(|close| {
                (
                    &sql[..open],
                    &sql[open..=open + close],
                    &sql[open + close + 1..],
                )
            })
        });
        let Some((head, tuple, tail)) =
            split.filter(|_| sql.starts_with("INSERT") || sql.starts_with("REPLACE"))
        else {
            let stmt = self.conn.prep(sql).map_err(|e| (0, map_err(e, sql)))?;
            let mut total = 0;
            for (i, row) in rows.enumerate() {
                let row = row.map_err(|e| (i, e))?;
                let ps: Vec<mysql::Value> = row.iter().map(param_of).collect();
                self.conn
                    .exec_drop(&stmt, mysql::Params::Positional(ps))
                    .map_err(|e| (i, map_err(e, sql)))?;
                total += self.conn.affected_rows();
            }
            return Ok(total);
        };
        let width = tuple.matches('?').count().max(1);
        let per_chunk = (60_000 / width).clamp(1, 1000);
        let mut total = 0;
        let mut start = 0;
        let mut buf: Vec<mysql::Value> = Vec::with_capacity(per_chunk * width);
        let mut n = 0;
        let flush = |conn: &mut Conn,
                     buf: &mut Vec<mysql::Value>,
                     n: usize,
                     start: usize|
         -> std::result::Result<u64, (usize, Error)> {
            let chunk_sql = format!("{head}{}{tail}", vec![tuple; n].join(","));
            conn.exec_drop(&chunk_sql, mysql::Params::Positional(std::mem::take(buf)))
                .map_err(|e| (start, map_err(e, sql)))?;
            Ok(conn.affected_rows())
        };
        for (i, row) in rows.enumerate() {
            let row = row.map_err(|e| (i, e))?;
            buf.extend(row.iter().map(param_of));
            n += 1;
            if n == per_chunk {
                total += flush(&mut self.conn, &mut buf, n, start)?;
                start = i + 1;
                n = 0;
            }
        }
        if n > 0 {
            total += flush(&mut self.conn, &mut buf, n, start)?;
        }
        Ok(total)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[SqlValue],
        each: &mut dyn FnMut(Vec<SqlValue>) -> Result<()>,
    ) -> Result<Vec<String>> {
        let ps: Vec<mysql::Value> = params.iter().map(param).collect();
        let params = if ps.is_empty() {
            mysql::Params::Empty
        } else {
            mysql::Params::Positional(ps)
        };
        let mut result = self
            .conn
            .exec_iter(sql, params)
            .map_err(|e| map_err(e, sql))?;
        let columns = result.columns();
        let cols = columns.as_ref();
        let names: Vec<String> = cols.iter().map(|c| c.name_str().to_string()).collect();
        let binary: Vec<bool> = cols
            .iter()
            .map(|c| {
                c.character_set() == 63
                    && matches!(
                        c.column_type(),
                        ColumnType::MYSQL_TYPE_BLOB
                            | ColumnType::MYSQL_TYPE_TINY_BLOB
                            | ColumnType::MYSQL_TYPE_MEDIUM_BLOB
                            | ColumnType::MYSQL_TYPE_LONG_BLOB
                            | ColumnType::MYSQL_TYPE_STRING
                            | ColumnType::MYSQL_TYPE_VAR_STRING
                            | ColumnType::MYSQL_TYPE_GEOMETRY
                    )
            })
            .collect();
        for row in result.by_ref() {
            let row = row.map_err(|e| map_err(e, sql))?;
            // unwrap_raw hands the values over without the panic of Row::unwrap
            let vals: Vec<SqlValue> = row
                .unwrap_raw()
                .into_iter()
                .zip(&binary)
                .map(|(v, b)| from_mysql(v.unwrap_or(mysql::Value::NULL), *b))
                .collect();
            each(vals)?;
        }
        Ok(names)
    }

    fn last_insert_id(&mut self) -> Result<i64> {
        Ok(self.conn.last_insert_id() as i64)
    }

    fn user(&mut self) -> Result<String> {
        let r = self.rows("SELECT user()", &[])?;
        Ok(r.first()
            .and_then(|r| r.first())
            .map(text)
            .unwrap_or_default())
    }

    fn connection_id(&mut self) -> Result<u64> {
        let r = self.rows("SELECT connection_id()", &[])?;
        Ok(r.first()
            .and_then(|r| r.first())
            .map(text)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0))
    }

    fn schemas(&mut self) -> Result<Vec<String>> {
        let r = self.rows(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT IN ('information_schema','mysql','performance_schema','sys') ORDER BY schema_name",
            &[],
        )?;
        Ok(r.iter().filter_map(|r| r.first().map(text)).collect())
    }

    fn create_schema(&mut self, name: &str) -> Result<bool> {
        let exists = self.rows(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = ?",
            &[SqlValue::Text(name.into())],
        )?;
        if !exists.is_empty() {
            return Ok(false);
        }
        self.execute(
            &format!(
                "CREATE DATABASE IF NOT EXISTS {}",
                Dialect::Mysql.ident(name)
            ),
            &[],
        )?;
        Ok(true)
    }

    fn drop_schema(&mut self, name: &str) -> Result<()> {
        self.execute(
            &format!("DROP DATABASE IF EXISTS {}", Dialect::Mysql.ident(name)),
            &[],
        )?;
        Ok(())
    }

    fn load_tables(&mut self, schemas: &[String]) -> Result<Vec<TableInfo>> {
        if schemas.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; schemas.len()].join(",");
        let sch: Vec<SqlValue> = schemas.iter().map(|s| SqlValue::Text(s.clone())).collect();
        let mut tables: BTreeMap<FullName, TableInfo> = BTreeMap::new();
        for r in self.rows(
            &format!("SELECT table_schema, table_name, table_comment FROM information_schema.tables WHERE table_schema IN ({marks}) AND table_type = 'BASE TABLE'"),
            &sch,
        )? {
            let name = FullName::new(text(&r[0]), text(&r[1]));
            let tier = Tier::of_table_name(&name.table).unwrap_or(Tier::Manual);
            tables.insert(name.clone(), TableInfo { name, tier, comment: text(&r[2]), heading: Heading::default(), foreign_keys: Vec::new(), indexes: Vec::new() });
        }
        let cols = self.rows(
            &format!(
                "SELECT table_schema, table_name, column_name, column_type, is_nullable, column_default, column_comment, column_key, extra \
                 FROM information_schema.columns WHERE table_schema IN ({marks}) ORDER BY table_schema, table_name, ordinal_position"
            ),
            &sch,
        )?;
        // primary keys in key order
        let mut pk: BTreeMap<FullName, Vec<String>> = BTreeMap::new();
        for r in self.rows(
            &format!("SELECT table_schema, table_name, column_name FROM information_schema.key_column_usage WHERE table_schema IN ({marks}) AND constraint_name = 'PRIMARY' ORDER BY table_schema, table_name, ordinal_position"),
            &sch,
        )? {
            pk.entry(FullName::new(text(&r[0]), text(&r[1]))).or_default().push(text(&r[2]));
        }
        for r in cols {
            let name = FullName::new(text(&r[0]), text(&r[1]));
            let Some(info) = tables.get_mut(&name) else {
                continue;
            };
            let column = text(&r[2]);
            let (mut ty, comment) = column_type(&text(&r[3]), &text(&r[6])).map_err(|e| {
                Error::backend(format!(
                    "{}.{}: column `{column}`: {e}",
                    name.schema, name.table
                ))
            })?;
            if text(&r[8]).to_ascii_lowercase().contains("auto_increment") {
                if let AttrType::Int { auto_increment, .. } = &mut ty {
                    *auto_increment = true;
                }
            }
            let nullable = text(&r[4]) == "YES";
            let default = if matches!(r[5], SqlValue::Null) {
                None
            } else {
                column_default(&text(&r[5]))
            };
            let in_key = pk.get(&name).is_some_and(|k| k.contains(&column));
            info.heading.attributes.push(Attribute {
                name: column,
                ty,
                in_key,
                nullable,
                default: if nullable { None } else { default },
                comment,
            });
        }
        for (name, info) in tables.iter_mut() {
            let order = pk.get(name).cloned().unwrap_or_default();
            let (mut key, rest): (Vec<Attribute>, Vec<Attribute>) =
                std::mem::take(&mut info.heading.attributes)
                    .into_iter()
                    .partition(|a| a.in_key);
            key.sort_by_key(|a| order.iter().position(|k| k == &a.name));
            key.extend(rest);
            info.heading.attributes = key;
        }
        // foreign keys, columns in constraint order
        let mut fks: BTreeMap<ConstraintOf, ForeignKeyColumns> = BTreeMap::new();
        for r in self.rows(
            &format!(
                "SELECT table_schema, table_name, constraint_name, column_name, referenced_table_schema, referenced_table_name, referenced_column_name \
                 FROM information_schema.key_column_usage WHERE table_schema IN ({marks}) AND referenced_table_name IS NOT NULL \
                 ORDER BY table_schema, table_name, constraint_name, ordinal_position"
            ),
            &sch,
        )? {
            let child = FullName::new(text(&r[0]), text(&r[1]));
            let parent = FullName::new(text(&r[4]), text(&r[5]));
            if parent.table.starts_with('~') {
                continue;
            }
            let e = fks.entry((child, text(&r[2]))).or_insert((parent, Vec::new()));
            e.1.push((text(&r[3]), text(&r[6])));
        }
        // secondary indexes
        let mut idx: BTreeMap<(FullName, String), (bool, Vec<String>)> = BTreeMap::new();
        for r in self.rows(
            &format!("SELECT table_schema, table_name, index_name, non_unique, column_name FROM information_schema.statistics WHERE table_schema IN ({marks}) AND index_name <> 'PRIMARY' ORDER BY table_schema, table_name, index_name, seq_in_index"),
            &sch,
        )? {
            let e = idx.entry((FullName::new(text(&r[0]), text(&r[1])), text(&r[2]))).or_insert((text(&r[3]) == "0", Vec::new()));
            e.1.push(text(&r[4]));
        }
        // constraint names sort as `<table>_ibfk_<n>`: keep declaration order by n
        let mut fk_list: Vec<(ConstraintOf, ForeignKeyColumns)> = fks.into_iter().collect();
        fk_list.sort_by_key(|((t, c), _)| {
            (
                t.clone(),
                c.rsplit('_')
                    .next()
                    .and_then(|n| n.parse::<u32>().ok())
                    .unwrap_or(0),
                c.clone(),
            )
        });
        for ((child, _), (parent, attr_map)) in fk_list {
            let Some(info) = tables.get_mut(&child) else {
                continue;
            };
            let cols: Vec<&String> = attr_map.iter().map(|(c, _)| c).collect();
            let nullable = attr_map
                .iter()
                .any(|(c, _)| info.heading.get(c).is_some_and(|a| a.nullable));
            let unique = idx.iter().any(|((t, _), (u, ic))| {
                t == &child && *u && ic.iter().collect::<Vec<_>>() == cols
            });
            info.foreign_keys.push(ForeignKey {
                parent,
                attr_map,
                nullable,
                unique,
            });
        }
        for ((t, _), (unique, cols)) in idx {
            let Some(info) = tables.get_mut(&t) else {
                continue;
            };
            // indexes the server adds for foreign keys, and [unique] foreign-key indexes
            let fk_index = info.foreign_keys.iter().any(|fk| {
                let fc: Vec<&str> = fk.attr_map.iter().map(|(c, _)| c.as_str()).collect();
                fc == cols.iter().map(String::as_str).collect::<Vec<_>>() && (!unique || fk.unique)
            });
            if fk_index {
                continue;
            }
            info.indexes.push(Index {
                unique,
                attrs: cols,
            });
        }
        Ok(tables.into_values().collect())
    }

    fn record_table(&mut self, _info: &TableInfo) -> Result<()> {
        // the DDL's comments carry everything
        Ok(())
    }

    fn forget_table(&mut self, _name: &FullName) -> Result<()> {
        Ok(())
    }
}
