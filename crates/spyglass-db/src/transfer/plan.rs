//! The transfer plan: a YAML file naming the source and target databases, how schema
//! names map (`bl_` → `bl_new_`), and per table the key and column renames, value
//! transforms (date + time → datetime, zero dates), a restriction and a window size.

use crate::error::{Error, Result};
use indexmap::IndexMap;
use serde::Deserialize;
use std::path::PathBuf;

/// Rows per window when the plan does not say.
pub const DEFAULT_WINDOW: usize = 5000;

/// A whole transfer plan.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Source database URL (or a name the caller resolves).
    pub source: String,
    /// Target database URL (or a name the caller resolves).
    pub target: String,
    /// Schema-name prefixes replaced on the way (`bl_: bl_new_`); longest match wins.
    #[serde(default)]
    pub prefix_map: IndexMap<String, String>,
    /// Rows per window (one read, one key check and one batch insert each).
    #[serde(default)]
    pub window: Option<usize>,
    /// External stores used by copied tables: where their files are on each side.
    #[serde(default)]
    pub stores: IndexMap<String, StorePair>,
    /// The tables to copy (in any order: parents are copied first).
    pub tables: Vec<TablePlan>,
}

/// Locations of one external store in the source and in the target.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorePair {
    /// The store's folder for the source database.
    pub source: PathBuf,
    /// The store's folder for the target database.
    pub target: PathBuf,
}

/// One table to copy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TablePlan {
    /// Source table, `schema.table_name` as stored (or `schema.ClassName`).
    pub source: String,
    /// Target table; default: the source name with the schema prefix mapped.
    #[serde(default)]
    pub target: Option<String>,
    /// Renamed key attributes, source name → target name (`mass_id: weighing`).
    #[serde(default)]
    pub keys: IndexMap<String, String>,
    /// Renamed secondary attributes, source name → target name.
    #[serde(default)]
    pub columns: IndexMap<String, String>,
    /// Value transforms.
    #[serde(default)]
    pub transforms: Vec<Transform>,
    /// An SQL condition on the source table (e.g. a date window).
    #[serde(default)]
    pub restriction: Option<String>,
    /// Rows per window for this table (blob-heavy tables want fewer).
    #[serde(default)]
    pub window: Option<usize>,
}

/// A value transform of one table.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Transform {
    /// A source date column and a source time column become one target datetime.
    DateTime {
        /// Source date column.
        date: String,
        /// Source time column.
        time: String,
        /// Target datetime column.
        into: String,
    },
    /// What to do with MySQL's zero date (`0000-00-00`) in a source column.
    ZeroDate {
        /// Source column.
        column: String,
        /// `null` (store NULL) or `skip` (leave the row out).
        action: ZeroAction,
    },
}

/// What a zero date becomes.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ZeroAction {
    /// Store NULL (the target column must allow it).
    Null,
    /// Leave the row out (counted as skipped).
    Skip,
}

fn plan_err(msg: impl Into<String>) -> Error {
    Error::Config(format!("transfer plan: {}", msg.into()))
}

impl Plan {
    /// Parses and checks a YAML plan.
    pub fn from_yaml(text: &str) -> Result<Plan> {
        let plan: Plan =
            serde_saphyr::from_str(text).map_err(|e| plan_err(format!("not a valid plan: {e}")))?;
        plan.check()?;
        Ok(plan)
    }

    /// Reads and checks a plan file.
    pub fn from_file(path: &std::path::Path) -> Result<Plan> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        Plan::from_yaml(&text)
    }

    fn check(&self) -> Result<()> {
        if self.tables.is_empty() {
            return Err(plan_err("`tables` is empty"));
        }
        if self.window == Some(0) {
            return Err(plan_err("`window` must be at least 1"));
        }
        for t in &self.tables {
            if t.window == Some(0) {
                return Err(plan_err(format!(
                    "{}: `window` must be at least 1",
                    t.source
                )));
            }
            if !t.source.contains('.') {
                return Err(plan_err(format!(
                    "table `{}`: write the source as schema.table",
                    t.source
                )));
            }
            let mut seen = std::collections::HashSet::new();
            for to in t.keys.values().chain(t.columns.values()) {
                if !seen.insert(to) {
                    return Err(plan_err(format!(
                        "{}: two attributes are renamed to `{to}`",
                        t.source
                    )));
                }
            }
        }
        Ok(())
    }

    /// The target schema of a source schema under `prefix_map` (longest prefix wins).
    pub fn map_schema(&self, schema: &str) -> String {
        self.prefix_map
            .iter()
            .filter(|(from, _)| schema.starts_with(from.as_str()))
            .max_by_key(|(from, _)| from.len())
            .map(|(from, to)| format!("{to}{}", &schema[from.len()..]))
            .unwrap_or_else(|| schema.to_string())
    }

    /// Window size of a table.
    pub fn window_of(&self, t: &TablePlan) -> usize {
        t.window.or(self.window).unwrap_or(DEFAULT_WINDOW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_plan_and_maps_prefixes() {
        let p = Plan::from_yaml(
            "source: mysql://a@h:1\ntarget: sqlite:///t.db\nprefix_map:\n  bl_: bl_new_\n  bl_x_: x_\n\
             tables:\n  - source: bl_lab.weighings\n    keys: {mass_id: weighing}\n    transforms:\n      \
             - date_time: {date: d, time: t, into: at}\n      - zero_date: {column: d, action: skip}\n",
        )
        .unwrap();
        assert_eq!(p.map_schema("bl_lab"), "bl_new_lab");
        assert_eq!(p.map_schema("bl_x_y"), "x_y");
        assert_eq!(p.map_schema("other"), "other");
        assert_eq!(p.tables[0].keys["mass_id"], "weighing");
        assert_eq!(
            p.tables[0].transforms[1],
            Transform::ZeroDate {
                column: "d".into(),
                action: ZeroAction::Skip
            }
        );
        assert_eq!(p.window_of(&p.tables[0]), DEFAULT_WINDOW);
    }

    #[test]
    fn rejects_bad_plans() {
        assert!(Plan::from_yaml("source: a\ntarget: b\ntables: []\n").is_err());
        assert!(
            Plan::from_yaml("source: a\ntarget: b\ntables:\n  - source: x.y\n    bogus: 1\n")
                .is_err()
        );
        assert!(
            Plan::from_yaml("source: a\ntarget: b\nwindow: 0\ntables:\n  - source: x.y\n").is_err()
        );
        assert!(Plan::from_yaml(
            "source: a\ntarget: b\ntables:\n  - source: x.y\n    keys: {a: c}\n    columns: {b: c}\n"
        )
        .is_err());
    }
}
