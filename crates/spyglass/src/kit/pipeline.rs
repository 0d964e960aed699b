//! The [`Pipeline`] trait: everything one pipeline file declares.

use super::handle::Spyglass;
use super::params::DictParams;
use crate::error::Result;
use crate::settings::Settings;
use spyglass_db::populate::Maker;
use spyglass_db::{Db, TableSpec};
use std::sync::Arc;

/// One schema of a pipeline and its tables, in declaration order.
pub struct Schema {
    /// The schema's name (`lfp_v1`).
    pub name: &'static str,
    /// Its tables.
    pub tables: Vec<TableSpec>,
}

/// A Parameters table's default rows (Spyglass's `insert_default`).
#[derive(Clone, Copy)]
pub struct Defaults {
    /// The table, `schema.Class`.
    pub table: &'static str,
    /// How the rows are inserted.
    pub insert: DefaultRows,
}

/// How a table's default rows are inserted.
#[derive(Clone, Copy)]
pub enum DefaultRows {
    /// By a function (skipping rows present; returns how many were inserted).
    Fn(fn(&Db) -> Result<usize>),
    /// The default sets of a dict parameter table.
    Dicts(&'static DictParams),
}

impl Defaults {
    /// Default rows inserted by `insert` (skipping rows present; returns how many
    /// were inserted).
    pub fn rows(table: &'static str, insert: fn(&Db) -> Result<usize>) -> Defaults {
        let insert = DefaultRows::Fn(insert);
        Defaults { table, insert }
    }

    /// Inserts the rows (skipping those present); returns how many were inserted.
    pub fn insert(&self, db: &Db) -> Result<usize> {
        match self.insert {
            DefaultRows::Fn(f) => f(db),
            DefaultRows::Dicts(p) => p.insert_defaults(db),
        }
    }
}

impl From<&'static DictParams> for Defaults {
    fn from(p: &'static DictParams) -> Defaults {
        let insert = DefaultRows::Dicts(p);
        Defaults {
            table: p.table,
            insert,
        }
    }
}

/// A table that is a source of a merge table: it gets a part in the master.
#[derive(Clone, Copy)]
pub struct MergePart {
    /// The merge master, `schema.Class` (`lfp_merge.LFPOutput`).
    pub master: &'static str,
    /// The source table, `schema.Class` (`lfp_v1.LFPV1`).
    pub source: &'static str,
}

impl MergePart {
    /// `source` is a part of merge master `master`.
    pub const fn of(master: &'static str, source: &'static str) -> MergePart {
        MergePart { master, source }
    }
}

/// A pipeline: one file declares its schemas, defaults, makers, merge parts and
/// commands; [`crate::pipelines::all`] lists it once. Everything but [`Pipeline::name`]
/// and [`Pipeline::tables`] (or [`Pipeline::schemas`]) has a default of "none".
pub trait Pipeline: Send + Sync {
    /// The pipeline's name, usually its schema's (`lfp_v1`).
    fn name(&self) -> &'static str;

    /// The command family its commands belong to (`lfp` makes `spyglass lfp …`);
    /// `None` for pipelines without commands.
    fn family(&self) -> Option<&'static str> {
        None
    }

    /// Pipelines (by name) whose tables its tables refer to; declared first.
    fn requires(&self) -> &'static [&'static str] {
        &[]
    }

    /// Its schemas and tables; by default one schema named as the pipeline, holding
    /// [`Pipeline::tables`].
    fn schemas(&self) -> Vec<Schema> {
        vec![Schema {
            name: self.name(),
            tables: self.tables(),
        }]
    }

    /// The tables of its one schema (see [`Pipeline::schemas`]).
    fn tables(&self) -> Vec<TableSpec> {
        vec![]
    }

    /// Default rows of its Parameters tables.
    fn defaults(&self) -> Vec<Defaults> {
        vec![]
    }

    /// The makers of its Imported and Computed tables, writing under `settings`.
    fn makers(&self, _settings: &Settings) -> Vec<(&'static str, Arc<dyn Maker>)> {
        vec![]
    }

    /// Its tables that are sources of merge tables.
    fn merge_parts(&self) -> Vec<MergePart> {
        vec![]
    }

    /// Its subcommands under `spyglass <family>`.
    fn commands(&self) -> Vec<clap::Command> {
        vec![]
    }

    /// Runs subcommand `name` (one of [`Pipeline::commands`]) with its arguments.
    fn run(&self, _sg: &Spyglass, name: &str, _args: &clap::ArgMatches) -> Result<()> {
        Err(crate::Error::bad(
            self.name(),
            format!("the pipeline has no command `{name}`"),
        ))
    }
}
