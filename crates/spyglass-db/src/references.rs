//! Rows nothing refers to: the primary keys of a table that no row of its child
//! tables (or only of its part tables) points at through a foreign key. Cleanup
//! uses this to find unreferenced file rows, and checks to count merge rows
//! without a part.

use crate::db::Db;
use crate::error::Result;
use crate::heading::ForeignKey;
use crate::naming::FullName;
use crate::query::Query;
use crate::value::Row;

/// Which tables' references count in [`Db::unreferenced_keys`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Referrers {
    /// Every table with a foreign key to the table (its parts included).
    Children,
    /// Only the table's part tables (for a merge master: rows that no part holds).
    Parts,
}

impl Db {
    /// The primary keys of the rows of `table` (by exact name, as
    /// [`Db::query_of`]; see [`Db::table_info`] for a user's name) that no row of
    /// the `referrers` refers to
    /// through a foreign key, sorted by key. A row whose foreign-key columns are
    /// NULL refers to nothing. With no referrers at all, every key is returned. A
    /// bookkeeping read: the fetch observer is not told.
    ///
    /// ```no_run
    /// # use spyglass_db::{Db, references::Referrers};
    /// # let db = Db::open("sqlite:///demo.db")?;
    /// let files = db.table_info("common_nwbfile.AnalysisNwbfile")?;
    /// let unused = db.unreferenced_keys(&files.name, Referrers::Children)?;
    /// # Ok::<(), spyglass_db::Error>(())
    /// ```
    pub fn unreferenced_keys(&self, table: &FullName, referrers: Referrers) -> Result<Vec<Row>> {
        let info = self.info(table)?;
        let d = self.dialect();
        let pk = info.primary_key();
        // one NOT EXISTS per foreign key, matching every column of the key
        let mut conditions = Vec::new();
        for (child, fk) in self.references_to(&info.name, referrers) {
            let matches: Vec<String> = fk
                .attr_map
                .iter()
                .map(|(c, p)| format!("`$child`.{}=`$parent`.{}", d.ident(c), d.ident(p)))
                .collect();
            conditions.push(format!(
                "NOT EXISTS (SELECT 1 FROM {} AS `$child` WHERE {})",
                d.table(&child),
                matches.join(" AND ")
            ));
        }
        let columns = pk
            .iter()
            .map(|k| format!("`$parent`.{}", d.ident(k)))
            .collect::<Vec<_>>()
            .join(",");
        let mut sql = format!("SELECT {columns} FROM {} AS `$parent`", d.table(&info.name));
        if !conditions.is_empty() {
            sql.push_str(&format!(" WHERE {}", conditions.join(" AND ")));
        }
        sql.push_str(&format!(" ORDER BY {columns}"));
        let heading = Query::table(&info).select_attrs(&pk)?;
        let names: crate::value::Columns = pk.into();
        self.query_raw(&sql, &[])?
            .into_iter()
            .map(|raw| {
                let values = heading
                    .heading()
                    .iter()
                    .zip(raw)
                    .map(|(a, v)| crate::fetch::decode(a, v))
                    .collect::<Result<Vec<_>>>()?;
                Row::new(names.clone(), values)
            })
            .collect()
    }

    /// The (child table, foreign key) pairs of the referrers that point at `parent`.
    fn references_to(
        &self,
        parent: &FullName,
        referrers: Referrers,
    ) -> Vec<(FullName, ForeignKey)> {
        self.catalog()
            .user_tables(None)
            .into_iter()
            .filter(|t| match referrers {
                Referrers::Children => true,
                Referrers::Parts => t.name.master().as_ref() == Some(parent),
            })
            .flat_map(|t| {
                t.foreign_keys
                    .iter()
                    .filter(|fk| &fk.parent == parent)
                    .map(|fk| (t.name.clone(), fk.clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}
