//! Default rows of the Parameters tables, as each Spyglass table's
//! `insert_default` provides them: [`insert_defaults`] fills every table the
//! registry lists defaults for ([`crate::pipelines::defaults`]), or only the ones named.

use crate::error::{Error, Result};
use spyglass_db::Db;

/// Inserts the default rows of the tables named (by `schema.Class` or class
/// name), or of all when `names` is empty; returns rows inserted per table.
pub fn insert_defaults(db: &Db, names: &[String]) -> Result<Vec<(String, usize)>> {
    let all = crate::pipelines::defaults();
    let mut chosen = Vec::new();
    for n in names {
        let hit = all
            .iter()
            .find(|d| d.table == n || d.table.rsplit('.').next() == Some(n.as_str()))
            .ok_or_else(|| {
                Error::bad(
                    "defaults",
                    format!(
                        "`{n}` is not a Parameters table with defaults (known: {})",
                        all.iter().map(|d| d.table).collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
        chosen.push(*hit);
    }
    if names.is_empty() {
        chosen = all;
    }
    crate::pipelines::declare_all(db)?;
    chosen
        .into_iter()
        .map(|d| Ok((d.table.to_string(), d.insert(db)?)))
        .collect()
}
