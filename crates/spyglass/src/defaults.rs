//! Default rows of the Parameters tables, as each Spyglass table's
//! `insert_default` provides them: [`insert_defaults`] fills every table that has
//! defaults, or only the ones named.

use crate::error::{Error, Result};
use spyglass_db::Db;

/// A Parameters table with defaults: its `schema.Class` name and the inserter.
pub type DefaultInserter = (&'static str, fn(&Db) -> Result<usize>);

/// Every Parameters table that has default rows.
pub fn tables() -> Vec<DefaultInserter> {
    vec![(
        crate::filter::FIR_FILTER_PARAMETERS,
        crate::filter::insert_default,
    )]
}

/// Inserts the default rows of the tables named (by `schema.Class` or class
/// name), or of all when `names` is empty; returns rows inserted per table.
pub fn insert_defaults(db: &Db, names: &[String]) -> Result<Vec<(String, usize)>> {
    let all = tables();
    let mut chosen = Vec::new();
    if names.is_empty() {
        chosen = all.clone();
    } else {
        for n in names {
            let hit = all
                .iter()
                .find(|(t, _)| t == n || t.rsplit('.').next() == Some(n.as_str()))
                .ok_or_else(|| {
                    Error::Invalid(format!(
                        "`{n}` is not a Parameters table with defaults (known: {})",
                        all.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(", ")
                    ))
                })?;
            chosen.push(*hit);
        }
    }
    crate::lfp::declare(db)?;
    chosen
        .into_iter()
        .map(|(t, f)| Ok((t.to_string(), f(db)?)))
        .collect()
}
