//! Parameter tables whose sets are dicts in one blob — Spyglass's parameter lookups
//! (`ripple_param_name`, then `ripple_param_dict : longblob`): a pipeline declares
//! one [`DictParams`] and gets Spyglass's default sets, checked inserts and the
//! `params list` / `params add` output from it.

use super::args::ParamsCommand;
use super::cx::{insert_param_dict, Tables};
use crate::error::{Error, Result};
use spyglass_db::{Db, Value};

/// A parameter table of named dicts.
pub struct DictParams {
    /// The table, `schema.Class`.
    pub table: &'static str,
    /// The name attribute (`ripple_param_name`).
    pub name_attr: &'static str,
    /// The blob attribute holding the dict (`ripple_param_dict`).
    pub dict_attr: &'static str,
    /// Spyglass's default sets: name and JSON dict, inserted by `spyglass defaults`.
    pub defaults: &'static [(&'static str, &'static str)],
    /// Checks a dict as the make reads it; the error names the set.
    pub check: fn(&str, &serde_json::Value) -> Result<()>,
}

impl DictParams {
    /// The table's schema.
    fn schema(&self) -> &'static str {
        self.table.split('.').next().unwrap_or(self.table)
    }

    /// Default set `name`'s dict.
    pub fn default_dict(&self, name: &str) -> Result<serde_json::Value> {
        let (_, json) = (self.defaults.iter().find(|(n, _)| *n == name))
            .ok_or_else(|| Error::missing(self.table, format!("default set `{name}`")))?;
        serde_json::from_str(json).map_err(|e| Error::internal(self.table, e.to_string()))
    }

    /// Inserts Spyglass's default sets (skipping present names); returns how many
    /// were inserted.
    pub fn insert_defaults(&self, db: &Db) -> Result<usize> {
        let mut n = 0;
        for (name, _) in self.defaults {
            n += usize::from(self.insert(db, name, &self.default_dict(name)?)?);
        }
        Ok(n)
    }

    /// Inserts set `name` after checking it (an existing name is left as it is);
    /// true when inserted.
    pub fn insert(&self, db: &Db, name: &str, dict: &serde_json::Value) -> Result<bool> {
        crate::pipelines::declare(db, &[self.schema()])?;
        (self.check)(name, dict)?;
        let name = (self.name_attr, name);
        Ok(insert_param_dict(db, self.table, name, self.dict_attr, dict, true)? > 0)
    }

    /// `params add`: inserts a new set and prints it; a name already used is a
    /// conflict (names are never reused for other values).
    pub fn add(&self, db: &Db, name: &str, dict: &serde_json::Value) -> Result<()> {
        if !self.insert(db, name, dict)? {
            let message = "a parameter set of that name exists (names are never reused)";
            return Err(Error::conflict(format!("{} `{name}`", self.table), message));
        }
        println!("{} `{name}`: {dict}", self.class());
        Ok(())
    }

    /// Stored set `name`'s dict; an error naming the table and set when there is none.
    pub fn dict(&self, db: &Db, name: &str) -> Result<serde_json::Value> {
        let key = serde_json::json!({ self.name_attr: name });
        let mut row: serde_json::Map<String, serde_json::Value> = db.row(self.table, &key)?;
        row.remove(self.dict_attr)
            .ok_or_else(|| Error::internal(self.table, format!("no `{}`", self.dict_attr)))
    }

    /// Runs a pipeline's `params` subcommand: `list`, or `add` of the dict `dict`
    /// makes of the options.
    pub fn run<A: clap::Args>(
        &self,
        db: &Db,
        command: &ParamsCommand<A>,
        dict: impl FnOnce(&A) -> serde_json::Value,
    ) -> Result<()> {
        match command {
            ParamsCommand::List => self.list(db),
            ParamsCommand::Add(a) => self.add(db, &a.name, &dict(&a.args)),
        }
    }

    /// `params list`: prints each stored set as `name: dict` (the dict as JSON).
    pub fn list(&self, db: &Db) -> Result<()> {
        crate::pipelines::declare(db, &[self.schema()])?;
        let rows = db.fetch(&db.table(self.table)?)?;
        if rows.is_empty() {
            let names: Vec<String> = self
                .defaults
                .iter()
                .map(|(n, _)| format!("`{n}`"))
                .collect();
            println!(
                "no {} (`spyglass defaults` inserts Spyglass's {})",
                self.class(),
                names.join(" and ")
            );
        }
        for r in rows {
            let name = r.get(self.name_attr).and_then(Value::as_str);
            let dict = r.get(self.dict_attr).map(|v| v.to_json().to_string());
            println!("{}: {}", name.unwrap_or_default(), dict.unwrap_or_default());
        }
        Ok(())
    }

    /// The table's class name.
    fn class(&self) -> &'static str {
        self.table.rsplit('.').next().unwrap_or(self.table)
    }
}
