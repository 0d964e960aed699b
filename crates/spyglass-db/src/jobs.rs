//! Job reservation in each schema's `~jobs` table, with DataJoint 0.14's columns and
//! key hash, so that datajoint-python and spyglass-rs see each other's reservations.
//! A reservation is one atomic insert-or-fail on (table_name, key_hash).

use crate::db::Db;
use crate::declare;
use crate::error::{Error, Result};
use crate::hash::key_hash;
use crate::naming::{FullName, Tier};
use crate::value::{Row, SqlValue, Value};
use std::time::Duration;

/// DataJoint's `~jobs` definition.
fn jobs_definition(schema: &str) -> String {
    format!(
        "# job reservation table for `{schema}`
table_name : varchar(255) # className of the table
key_hash : char(32) # key hash
---
status : enum('reserved','error','ignore') # if tuple is missing, the job is available
key = null : blob # structure containing the key
error_message = \"\" : varchar(2047) # error message returned if failed
error_stack = null : mediumblob # error stack if failed
user = \"\" : varchar(255) # database user
host = \"\" : varchar(255) # system hostname
pid = 0 : int unsigned # system process id
connection_id = 0 : bigint unsigned # connection_id()
timestamp = CURRENT_TIMESTAMP : timestamp # automatic timestamp"
    )
}

/// The `~jobs` table of a schema.
pub fn jobs_table(schema: &str) -> FullName {
    FullName::new(schema, "~jobs")
}

/// A key as the DataJoint blob dict stored in `~jobs.key`.
pub fn key_blob(key: &Row) -> spyglass_blob::Value {
    spyglass_blob::Value::Dict(
        key.iter()
            .map(|(k, v)| (spyglass_blob::Value::Str(k.to_string()), value_to_blob(v)))
            .collect(),
    )
}

/// A value as the Python object DataJoint would pack for it.
pub fn value_to_blob(v: &Value) -> spyglass_blob::Value {
    use spyglass_blob::Value as B;
    match v {
        Value::Null => B::None,
        Value::Bool(b) => B::Bool(*b),
        Value::Int(i) => B::Int(*i as i128),
        Value::UInt(u) => B::Int(*u as i128),
        Value::Float(f) => B::Float(*f),
        Value::Str(s) => B::Str(s.clone()),
        Value::Bytes(b) => B::Bytes(b.clone()),
        Value::Decimal(d) => B::Decimal(d.clone()),
        Value::Date(d) => B::Date(*d),
        Value::DateTime(d) => B::DateTime(*d),
        Value::Time(t) => B::Time(*t),
        Value::Uuid(u) => B::Uuid(*u),
        Value::Json(j) => spyglass_blob::from_json(j),
        Value::Blob(b) => (**b).clone(),
        Value::Attach { name, .. } => B::Str(name.clone()),
    }
}

/// Status of a job row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStatus {
    /// Taken by a worker.
    Reserved,
    /// Its make failed; delete the row to retry.
    Error,
    /// Skipped on purpose.
    Ignore,
}

/// One row of a `~jobs` table.
#[derive(Debug, Clone, PartialEq)]
pub struct JobEntry {
    /// The table the job fills, by its stored name (`_lfp_v1`).
    pub table_name: String,
    /// DataJoint's hash of the job's key.
    pub key_hash: String,
    /// Reserved, failed or ignored.
    pub status: JobStatus,
    /// The error of a failed make (empty otherwise).
    pub error_message: String,
    /// The database user who wrote the entry.
    pub user: String,
    /// The host of the process that wrote the entry.
    pub host: String,
    /// The process id of that process (0 when not recorded).
    pub pid: i64,
    /// When the entry was written (server time, UTC on the engine's connections).
    pub timestamp: Option<chrono::NaiveDateTime>,
}

impl JobEntry {
    /// Decodes the columns `table_name, key_hash, status, error_message, user,
    /// host, pid, timestamp`; an unknown status or a malformed pid is an error
    /// naming the `~jobs` table.
    fn from_columns(table: &FullName, r: &[SqlValue]) -> Result<JobEntry> {
        let bad = |what: &str, v: &SqlValue| {
            Error::backend(format!("{}: {what} `{}`", table.pretty(), v.to_text()))
        };
        let [table_name, key_hash, status, message, user, host, pid, timestamp] = r else {
            return Err(Error::backend(format!(
                "{}: expected 8 columns, got {}",
                table.pretty(),
                r.len()
            )));
        };
        let status = match status.to_text().as_str() {
            "reserved" => JobStatus::Reserved,
            "error" => JobStatus::Error,
            "ignore" => JobStatus::Ignore,
            _ => return Err(bad("unknown job status", status)),
        };
        let pid = match pid {
            SqlValue::Null => 0,
            other => other
                .to_text()
                .parse()
                .map_err(|_| bad("malformed pid", other))?,
        };
        Ok(JobEntry {
            table_name: table_name.to_text(),
            key_hash: key_hash.to_text(),
            status,
            error_message: message.to_text(),
            user: user.to_text(),
            host: host.to_text(),
            pid,
            timestamp: chrono::NaiveDateTime::parse_from_str(
                &timestamp.to_text(),
                "%Y-%m-%d %H:%M:%S",
            )
            .ok(),
        })
    }

    /// True for a reservation left behind: its process is gone (on this host), or
    /// it is older than `max_age` at `now` (on any host). Failed and ignored
    /// entries are never stale.
    pub fn is_stale(&self, now: chrono::NaiveDateTime, max_age: Option<Duration>) -> bool {
        if self.status != JobStatus::Reserved {
            return false;
        }
        let dead =
            self.host == crate::config::hostname() && self.pid > 0 && !process_alive(self.pid);
        let old = match (max_age, self.timestamp) {
            (Some(age), Some(at)) => (now - at).to_std().map(|d| d > age).unwrap_or(false),
            _ => false,
        };
        dead || old
    }
}

impl Db {
    /// Creates the schema's `~jobs` table when missing.
    pub fn ensure_jobs_table(&self, schema: &str) -> Result<()> {
        let name = jobs_table(schema);
        if self.catalog().get(&name).is_some() {
            return Ok(());
        }
        self.refresh()?;
        if self.catalog().get(&name).is_some() {
            return Ok(());
        }
        let info = declare::compile(&name, Tier::Manual, &jobs_definition(schema), &|t: &str| {
            Err(Error::UnknownTable(t.to_string()))
        })?;
        let stmts = declare::ddl::create_table(self.dialect(), &info)?;
        let created = self.transaction(|| {
            for s in &stmts {
                self.execute(s, &[])?;
            }
            self.backend().record_table(&info)
        });
        match created {
            Ok(()) => {}
            // another worker created it at the same moment
            Err(_)
                if {
                    self.refresh()?;
                    self.catalog().get(&name).is_some()
                } => {}
            Err(e) => return Err(e),
        }
        self.refresh()
    }

    /// True when the schema has a `~jobs` table (another process may have made it).
    fn has_jobs_table(&self, schema: &str) -> Result<bool> {
        if self.catalog().get(&jobs_table(schema)).is_some() {
            return Ok(true);
        }
        self.refresh()?;
        Ok(self.catalog().get(&jobs_table(schema)).is_some())
    }

    fn job_row_sql(&self, verb: &str, schema: &str) -> String {
        format!(
            "{verb} INTO {} (`table_name`,`key_hash`,`status`,`key`,`error_message`,`error_stack`,`user`,`host`,`pid`,`connection_id`) VALUES (?,?,?,?,?,?,?,?,?,?)",
            self.dialect().table(&jobs_table(schema))
        )
    }

    fn job_params(
        &self,
        table: &FullName,
        key: &Row,
        status: &str,
        message: &str,
        stack: Option<&str>,
    ) -> Result<Vec<SqlValue>> {
        let user = self.user()?;
        let conn = self.backend().connection_id()?;
        Ok(vec![
            SqlValue::Text(table.table.clone()),
            SqlValue::Text(key_hash(key)),
            SqlValue::Text(status.into()),
            SqlValue::Bytes(spyglass_blob::pack(&key_blob(key))),
            SqlValue::Text(truncate_message(message)),
            match stack {
                Some(s) => SqlValue::Bytes(spyglass_blob::pack(&spyglass_blob::Value::Str(
                    s.to_string(),
                ))),
                None => SqlValue::Null,
            },
            SqlValue::Text(user),
            SqlValue::Text(crate::config::hostname()),
            SqlValue::Int(std::process::id() as i64),
            SqlValue::UInt(conn),
        ])
    }

    /// Reserves `key` of `table`; false when another worker holds it (or it errored).
    pub fn reserve_job(&self, table: &FullName, key: &Row) -> Result<bool> {
        self.ensure_jobs_table(&table.schema)?;
        let sql = self.job_row_sql("INSERT", &table.schema);
        let params = self.job_params(table, key, "reserved", "", None)?;
        match self.execute(&sql, &params) {
            Ok(_) => Ok(true),
            Err(Error::Duplicate { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Marks a job done (deletes its row).
    pub fn complete_job(&self, table: &FullName, key: &Row) -> Result<()> {
        self.ensure_jobs_table(&table.schema)?;
        let sql = format!(
            "DELETE FROM {} WHERE `table_name`=? AND `key_hash`=?",
            self.dialect().table(&jobs_table(&table.schema))
        );
        self.execute(
            &sql,
            &[
                SqlValue::Text(table.table.clone()),
                SqlValue::Text(key_hash(key)),
            ],
        )?;
        Ok(())
    }

    /// Records a failed job with its message and stack.
    pub fn error_job(&self, table: &FullName, key: &Row, message: &str, stack: &str) -> Result<()> {
        self.ensure_jobs_table(&table.schema)?;
        let verb = match self.dialect() {
            crate::dialect::Dialect::Sqlite => "INSERT OR REPLACE",
            crate::dialect::Dialect::Mysql => "REPLACE",
        };
        let sql = self.job_row_sql(verb, &table.schema);
        let params = self.job_params(table, key, "error", message, Some(stack))?;
        self.execute(&sql, &params)?;
        Ok(())
    }

    /// Marks a key to be skipped by populate.
    pub fn ignore_job(&self, table: &FullName, key: &Row) -> Result<bool> {
        self.ensure_jobs_table(&table.schema)?;
        let sql = self.job_row_sql("INSERT", &table.schema);
        let params = self.job_params(table, key, "ignore", "", None)?;
        match self.execute(&sql, &params) {
            Ok(_) => Ok(true),
            Err(Error::Duplicate { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Key hashes of `table` present in `~jobs` (any status).
    pub fn job_hashes(&self, table: &FullName) -> Result<std::collections::HashSet<String>> {
        if !self.has_jobs_table(&table.schema)? {
            return Ok(Default::default());
        }
        let sql = format!(
            "SELECT `key_hash` FROM {} WHERE `table_name`=?",
            self.dialect().table(&jobs_table(&table.schema))
        );
        Ok(self
            .query_raw(&sql, &[SqlValue::Text(table.table.clone())])?
            .into_iter()
            .filter_map(|r| match r.into_iter().next() {
                Some(SqlValue::Text(s)) => Some(s),
                Some(SqlValue::Bytes(b)) => String::from_utf8(b).ok(),
                _ => None,
            })
            .collect())
    }

    /// Deletes error rows (of one table, or of the whole schema).
    pub fn clear_error_jobs(&self, schema: &str, table: Option<&FullName>) -> Result<u64> {
        let schema = &self.schema_name(schema);
        if !self.has_jobs_table(schema)? {
            return Ok(0);
        }
        let t = self.dialect().table(&jobs_table(schema));
        match table {
            Some(tb) => self.execute(
                &format!("DELETE FROM {t} WHERE `status`='error' AND `table_name`=?"),
                &[SqlValue::Text(tb.table.clone())],
            ),
            None => self.execute(&format!("DELETE FROM {t} WHERE `status`='error'"), &[]),
        }
    }

    /// Deletes stale reservations (see [`JobEntry::is_stale`]; `max_age` None
    /// considers only dead processes). Returns the number removed.
    pub fn clear_stale_jobs(&self, schema: &str, max_age: Option<Duration>) -> Result<u64> {
        let schema = &self.schema_name(schema);
        let t = self.dialect().table(&jobs_table(schema));
        let now = chrono::Utc::now().naive_utc();
        let mut removed = 0;
        for job in self.job_entries(schema)? {
            if job.is_stale(now, max_age) {
                removed += self.execute(
                    &format!("DELETE FROM {t} WHERE `table_name`=? AND `key_hash`=? AND `status`='reserved'"),
                    &[SqlValue::Text(job.table_name), SqlValue::Text(job.key_hash)],
                )?;
            }
        }
        Ok(removed)
    }

    /// Every entry of a schema's `~jobs` (none when it has no such table), in the
    /// table's key order. A bookkeeping read: the fetch observer is not told.
    pub fn job_entries(&self, schema: &str) -> Result<Vec<JobEntry>> {
        let schema = &self.schema_name(schema);
        if !self.has_jobs_table(schema)? {
            return Ok(Vec::new());
        }
        let name = jobs_table(schema);
        let rows = self.query_raw(
            &format!(
                "SELECT `table_name`,`key_hash`,`status`,`error_message`,`user`,`host`,`pid`,`timestamp` FROM {} ORDER BY `table_name`,`key_hash`",
                self.dialect().table(&name)
            ),
            &[],
        )?;
        rows.into_iter()
            .map(|r| JobEntry::from_columns(&name, &r))
            .collect()
    }
    /// The job rows of a schema (optionally one table) as rows.
    pub fn jobs(&self, schema: &str, table: Option<&FullName>) -> Result<Vec<Row>> {
        let schema = &self.schema_name(schema);
        if !self.has_jobs_table(schema)? {
            return Ok(Vec::new());
        }
        let info = self.info(&jobs_table(schema))?;
        let mut q =
            crate::query::Query::table(&info).proj(crate::query::Proj::key().keep_many(&[
                "status",
                "error_message",
                "user",
                "host",
                "pid",
                "timestamp",
            ]))?;
        if let Some(tb) = table {
            q = q.restrict(crate::query::Cond::map([("table_name", tb.table.clone())]))?;
        }
        self.fetch(&q)
    }
}

/// DataJoint's truncation of error messages to 2047 characters.
fn truncate_message(m: &str) -> String {
    const LIMIT: usize = 2047;
    const TAIL: &str = "...truncated";
    if m.chars().count() <= LIMIT {
        m.to_string()
    } else {
        let keep: String = m.chars().take(LIMIT - TAIL.len()).collect();
        format!("{keep}{TAIL}")
    }
}

/// True when a process with this pid exists on this machine.
pub fn process_alive(pid: i64) -> bool {
    if pid <= 0 || pid > i32::MAX as i64 {
        return false;
    }
    // SAFETY: signal 0 only checks for existence and permission.
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key blob of datajoint-compat.md §6 for {subject_id: 1, session_idx: 2}.
    #[test]
    fn key_blob_matches_datajoint() {
        let key = Row::from_pairs([
            ("subject_id", Value::Int(1)),
            ("session_idx", Value::Int(2)),
        ]);
        let hex: String = spyglass_blob::pack(&key_blob(&key))
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "646a30000402000000000000001300000000000000050a000000000000007375626a6563745f696404000000000000000a010001\
             1400000000000000050b0000000000000073657373696f6e5f69647804000000000000000a010002"
                .replace(' ', "")
        );
    }

    #[test]
    fn messages_truncate_like_datajoint() {
        let long = "x".repeat(3000);
        let t = truncate_message(&long);
        assert_eq!(t.chars().count(), 2047);
        assert!(t.ends_with("...truncated"));
        assert_eq!(truncate_message("short"), "short");
    }
}
