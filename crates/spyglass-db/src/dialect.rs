//! SQL dialects: how MySQL/MariaDB and SQLite spell identifiers, table names and
//! literals. In MySQL a schema is a database (`` `db`.`tbl` ``); in SQLite all schemas
//! share one file and a table is the single identifier `` `db.tbl` ``.

use crate::naming::FullName;

/// The SQL dialect of a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Embedded SQLite (one file, schemas folded into table names).
    Sqlite,
    /// MySQL or MariaDB with DataJoint's layout.
    Mysql,
}

impl Dialect {
    /// Quotes an identifier with backticks (both dialects accept them).
    pub fn ident(self, name: &str) -> String {
        format!("`{}`", name.replace('`', "``"))
    }

    /// The quoted table reference.
    pub fn table(self, name: &FullName) -> String {
        match self {
            Dialect::Sqlite => format!(
                "`{}.{}`",
                name.schema.replace('`', "``"),
                name.table.replace('`', "``")
            ),
            Dialect::Mysql => format!("{}.{}", self.ident(&name.schema), self.ident(&name.table)),
        }
    }

    /// A string literal in single quotes (only for DDL text such as enum lists and defaults).
    pub fn string_literal(self, s: &str) -> String {
        match self {
            Dialect::Sqlite => format!("'{}'", s.replace('\'', "''")),
            Dialect::Mysql => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''")),
        }
    }

    /// Comma-separated quoted identifiers.
    pub fn ident_list<S: AsRef<str>>(self, names: &[S]) -> String {
        names
            .iter()
            .map(|n| self.ident(n.as_ref()))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Statement that starts a transaction.
    pub fn begin(self) -> &'static str {
        match self {
            // IMMEDIATE takes the write lock up front, so concurrent writers wait on
            // the busy timeout instead of failing on a lock upgrade.
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Mysql => "START TRANSACTION WITH CONSISTENT SNAPSHOT",
        }
    }
}
