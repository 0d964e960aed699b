//! The embedded SQLite backend (rusqlite, bundled SQLite). One file holds every
//! schema; tables are named `` `schema.table` ``; what MySQL keeps in column and
//! table comments lives in two metadata tables, `~schemas` and `~tables`.
//! Connections run with foreign keys on, WAL journaling, `synchronous=NORMAL` and
//! a busy timeout so that several worker processes can share one file.

use super::Backend;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::heading::TableInfo;
use crate::naming::FullName;
use crate::value::{Param, SqlValue};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{ffi, Connection, ToSql};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Extracts the file path from a SQLAlchemy-style SQLite URL; None when not SQLite.
///
/// `sqlite:///rel.db` is relative to the working directory, `sqlite:////abs.db` absolute,
/// `sqlite://:memory:` an in-memory database.
pub fn path_of_url(url: &str) -> Result<Option<PathBuf>> {
    let Some(rest) = url.strip_prefix("sqlite://") else {
        return Ok(None);
    };
    if rest == ":memory:" || rest == "/:memory:" {
        return Ok(Some(PathBuf::from(":memory:")));
    }
    let Some(path) = rest.strip_prefix('/') else {
        return Err(Error::Config(
            "SQLite URLs are sqlite:///relative/path.db or sqlite:////absolute/path.db \
             (the text after sqlite:// must start with /)"
                .to_string(),
        ));
    };
    if path.is_empty() {
        return Err(Error::Config(format!("SQLite URL `{url}` names no file")));
    }
    Ok(Some(PathBuf::from(path)))
}

/// A SQLite database file.
pub struct SqliteBackend {
    conn: Connection,
    path: PathBuf,
}

impl ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            SqlValue::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            SqlValue::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            SqlValue::UInt(u) => match i64::try_from(*u) {
                Ok(i) => ToSqlOutput::Borrowed(ValueRef::Integer(i)),
                Err(_) => {
                    return Err(rusqlite::Error::ToSqlConversionFailure(
                        format!("{u} exceeds SQLite's 64-bit signed integers").into(),
                    ))
                }
            },
            SqlValue::Float(f) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
            SqlValue::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            SqlValue::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Param::Owned(v) => v.to_sql(),
            Param::Text(s) => Ok(ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))),
        }
    }
}

fn from_ref(v: ValueRef<'_>) -> SqlValue {
    match v {
        ValueRef::Null => SqlValue::Null,
        ValueRef::Integer(i) => SqlValue::Int(i),
        ValueRef::Real(f) => SqlValue::Float(f),
        ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => SqlValue::Bytes(b.to_vec()),
    }
}

/// Maps a rusqlite error to the engine's error, classifying constraint failures.
fn map_err(e: rusqlite::Error, sql: &str) -> Error {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e {
        let msg = msg.clone().unwrap_or_else(|| f.to_string());
        let is = |code: i32, text: &str| f.extended_code == code || msg.starts_with(text);
        if is(
            ffi::SQLITE_CONSTRAINT_PRIMARYKEY,
            "UNIQUE constraint failed",
        ) || f.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
        {
            return Error::Duplicate {
                table: String::new(),
                key: msg,
            };
        }
        if is(
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY,
            "FOREIGN KEY constraint failed",
        ) {
            return Error::ForeignKey {
                table: String::new(),
                message: msg,
            };
        }
        if let Some(col) = msg.strip_prefix("no such column: ") {
            return Error::UnknownAttribute {
                attribute: col.to_string(),
                context: format!("SQL `{}`", crate::query::sql_excerpt(sql)),
            };
        }
        if let Some(t) = msg.strip_prefix("no such table: ") {
            return Error::UnknownTable(t.to_string());
        }
        return Error::Backend {
            message: msg,
            sql: Some(crate::query::sql_excerpt(sql)),
        };
    }
    Error::Backend {
        message: e.to_string(),
        sql: Some(crate::query::sql_excerpt(sql)),
    }
}

/// True when `path` may be written: its mode bits allow it (root included) and it
/// opens for writing (read-only media refuse).
fn writable(path: &Path) -> bool {
    let bits_ok = std::fs::metadata(path)
        .map(|m| !m.permissions().readonly())
        .unwrap_or(false);
    let dir_ok = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(dir_writable)
        .unwrap_or(true);
    bits_ok && dir_ok && std::fs::OpenOptions::new().append(true).open(path).is_ok()
}

/// True when a folder's mode bits allow writing to it.
fn dir_writable(dir: &Path) -> bool {
    std::fs::metadata(dir)
        .map(|m| !m.permissions().readonly())
        .unwrap_or(false)
}

/// A path escaped for an SQLite `file:` URI.
fn uri_path(p: &Path) -> String {
    let mut out = String::new();
    for b in p.to_string_lossy().bytes() {
        match b {
            b'?' | b'#' | b'%' | 0x80..=0xff => out.push_str(&format!("%{b:02X}")),
            _ => out.push(b as char),
        }
    }
    out
}

const META: &str = "
CREATE TABLE IF NOT EXISTS `~schemas` (
  schema_name TEXT PRIMARY KEY,
  created TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS `~tables` (
  schema_name TEXT NOT NULL REFERENCES `~schemas` (schema_name),
  table_name TEXT NOT NULL,
  info TEXT NOT NULL,
  PRIMARY KEY (schema_name, table_name)
);";

impl SqliteBackend {
    /// Opens (creating if needed) the database file at `path`. A new database uses
    /// WAL; an existing one keeps its journal mode (a bundle's rollback journal stays).
    /// When the file or its folder is not writable (read-only media, mode bits) it is
    /// opened read-only, without touching the file: listing and fetching work, writes
    /// fail with SQLite's "readonly database" error.
    pub fn open(path: &Path) -> Result<SqliteBackend> {
        let memory = path == Path::new(":memory:");
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() && !dir.exists() && !memory {
                std::fs::create_dir_all(dir).map_err(|e| Error::Io {
                    path: dir.display().to_string(),
                    source: e,
                })?;
            }
        }
        let existed = !memory
            && std::fs::metadata(path)
                .map(|m| m.len() > 0)
                .unwrap_or(false);
        let read_only = existed && !writable(path);
        let conn = if memory {
            Connection::open_in_memory()
        } else if read_only {
            use rusqlite::OpenFlags;
            // the folder may refuse a journal or -shm file: open as immutable then
            let dir_ok = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map(dir_writable)
                .unwrap_or(true);
            let mut flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            if dir_ok {
                Connection::open_with_flags(path, flags)
            } else {
                flags |= OpenFlags::SQLITE_OPEN_URI;
                let uri = format!(
                    "file:{}?mode=ro&immutable=1",
                    uri_path(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
                );
                Connection::open_with_flags(uri, flags)
            }
        } else {
            Connection::open(path)
        }
        .map_err(|e| {
            Error::Config(format!(
                "cannot open SQLite database {}: {e}",
                path.display()
            ))
        })?;
        conn.busy_timeout(Duration::from_secs(120))
            .map_err(|e| map_err(e, "busy_timeout"))?;
        let setup = if read_only {
            "PRAGMA foreign_keys = ON;"
        } else if existed {
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"
        } else {
            "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
        };
        conn.execute_batch(setup).map_err(|e| map_err(e, setup))?;
        // accept double-quoted string literals in user restrictions, as MySQL does
        let _ = conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_DQS_DML, true);
        if !read_only {
            conn.execute_batch(META).map_err(|e| map_err(e, META))?;
        }
        Ok(SqliteBackend {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Backend for SqliteBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| map_err(e, sql))?;
        let n = stmt
            .execute(rusqlite::params_from_iter(params.iter()))
            .map_err(|e| map_err(e, sql))?;
        Ok(n as u64)
    }

    fn execute_many<'a>(
        &mut self,
        sql: &str,
        rows: &mut dyn Iterator<Item = Result<Vec<Param<'a>>>>,
    ) -> std::result::Result<u64, (usize, Error)> {
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| (0, map_err(e, sql)))?;
        let mut total = 0u64;
        for (i, row) in rows.enumerate() {
            let row = row.map_err(|e| (i, e))?;
            total += stmt
                .execute(rusqlite::params_from_iter(row.iter()))
                .map_err(|e| (i, map_err(e, sql)))? as u64;
        }
        Ok(total)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[SqlValue],
        each: &mut dyn FnMut(Vec<SqlValue>) -> Result<()>,
    ) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| map_err(e, sql))?;
        let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
        let n = names.len();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(|e| map_err(e, sql))?;
        while let Some(row) = rows.next().map_err(|e| map_err(e, sql))? {
            let mut vals = Vec::with_capacity(n);
            for i in 0..n {
                vals.push(from_ref(row.get_ref(i).map_err(|e| map_err(e, sql))?));
            }
            each(vals)?;
        }
        Ok(names)
    }

    fn last_insert_id(&mut self) -> Result<i64> {
        Ok(self.conn.last_insert_rowid())
    }

    fn user(&mut self) -> Result<String> {
        Ok(format!("{}@localhost", crate::config::local_user_name()))
    }

    fn connection_id(&mut self) -> Result<u64> {
        Ok(0)
    }

    fn schemas(&mut self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        self.query(
            "SELECT schema_name FROM `~schemas` ORDER BY schema_name",
            &[],
            &mut |r| {
                if let Some(SqlValue::Text(s)) = r.into_iter().next() {
                    out.push(s);
                }
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn create_schema(&mut self, name: &str) -> Result<bool> {
        let n = self.execute(
            "INSERT INTO `~schemas` (schema_name) VALUES (?) ON CONFLICT DO NOTHING",
            &[SqlValue::Text(name.to_string())],
        )?;
        Ok(n == 1)
    }

    fn drop_schema(&mut self, name: &str) -> Result<()> {
        let mut tables = Vec::new();
        self.query(
            "SELECT table_name FROM `~tables` WHERE schema_name = ?",
            &[SqlValue::Text(name.to_string())],
            &mut |r| {
                if let Some(SqlValue::Text(s)) = r.into_iter().next() {
                    tables.push(s);
                }
                Ok(())
            },
        )?;
        // drop children before parents: SQLite checks foreign keys on DROP TABLE
        let mut remaining = tables;
        for _ in 0..remaining.len() + 1 {
            let mut failed = Vec::new();
            for t in remaining {
                let sql = format!(
                    "DROP TABLE IF EXISTS {}",
                    Dialect::Sqlite.table(&FullName::new(name, &t))
                );
                if self.execute(&sql, &[]).is_err() {
                    failed.push(t);
                }
            }
            remaining = failed;
            if remaining.is_empty() {
                break;
            }
        }
        if !remaining.is_empty() {
            return Err(Error::Refused(format!(
                "cannot drop schema {name}: tables {} are referenced from other schemas",
                remaining.join(", ")
            )));
        }
        self.execute(
            "DELETE FROM `~tables` WHERE schema_name = ?",
            &[SqlValue::Text(name.into())],
        )?;
        self.execute(
            "DELETE FROM `~schemas` WHERE schema_name = ?",
            &[SqlValue::Text(name.into())],
        )?;
        Ok(())
    }

    fn load_tables(&mut self, schemas: &[String]) -> Result<Vec<TableInfo>> {
        let mut out = Vec::new();
        let mut bad = None;
        self.query(
            "SELECT schema_name, table_name, info FROM `~tables`",
            &[],
            &mut |r| {
                let mut it = r.into_iter();
                let (Some(SqlValue::Text(s)), Some(SqlValue::Text(t)), Some(SqlValue::Text(info))) =
                    (it.next(), it.next(), it.next())
                else {
                    return Ok(());
                };
                if !schemas.is_empty() && !schemas.contains(&s) {
                    return Ok(());
                }
                match serde_json::from_str::<TableInfo>(&info) {
                    Ok(i) => out.push(i),
                    Err(e) => bad = Some(format!("catalog entry for {s}.{t} is unreadable: {e}")),
                }
                Ok(())
            },
        )?;
        if let Some(b) = bad {
            return Err(Error::backend(b));
        }
        Ok(out)
    }

    fn record_table(&mut self, info: &TableInfo) -> Result<()> {
        let json = serde_json::to_string(info).map_err(|e| Error::backend(e.to_string()))?;
        self.execute(
            "INSERT OR REPLACE INTO `~tables` (schema_name, table_name, info) VALUES (?, ?, ?)",
            &[
                SqlValue::Text(info.name.schema.clone()),
                SqlValue::Text(info.name.table.clone()),
                SqlValue::Text(json),
            ],
        )?;
        Ok(())
    }

    fn forget_table(&mut self, name: &FullName) -> Result<()> {
        self.execute(
            "DELETE FROM `~tables` WHERE schema_name = ? AND table_name = ?",
            &[
                SqlValue::Text(name.schema.clone()),
                SqlValue::Text(name.table.clone()),
            ],
        )?;
        Ok(())
    }
}
