//! [`Spyglass`]: the framework handle every command, make and binding receives. It
//! owns the database handle and, through it, the active export: every fetch made
//! through the handle (by commands, by makes, by any thread) is logged into the
//! export started or resumed on it, and into no other.

use super::cx::Cx;
use crate::error::Result;
use crate::settings::Settings;
use spyglass_db::populate::{PopulateOptions, PopulateReport, Progress};
use spyglass_db::{Cond, Db};
use std::collections::HashSet;
use std::sync::Mutex;

/// The database with the directory layout: stores configured once, the common
/// tables declared and `entries.yaml` pre-populated at open, each pipeline declared
/// once when first needed.
pub struct Spyglass {
    db: Db,
    settings: Settings,
    declared: Mutex<HashSet<String>>,
}

impl std::ops::Deref for Spyglass {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.db
    }
}

impl Spyglass {
    /// Opens the database at `url` (the URL is kept nowhere) and prepares it.
    pub fn open(url: &str, settings: Settings) -> Result<Spyglass> {
        Spyglass::with_db(Db::open(url)?, settings)
    }

    /// Wraps an open database: configures its stores, declares the common tables,
    /// pre-populates `entries.yaml` (Spyglass's `populate_all_common` prelude) and
    /// resumes the export the user has active on the database, if any.
    pub fn with_db(db: Db, settings: Settings) -> Result<Spyglass> {
        crate::ingest::prepare(&db, &settings)?;
        crate::export::resume_active(&db)?;
        Ok(Spyglass::from_prepared(db, settings))
    }

    /// Wraps a database its opener has prepared already (stores configured, common
    /// tables declared) — the CLI's, which also serves exported bundles' stores.
    pub fn from_prepared(db: Db, settings: Settings) -> Spyglass {
        Spyglass {
            db,
            settings,
            declared: Mutex::new(HashSet::new()),
        }
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The directory layout.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The context commands and makes work with.
    pub fn cx(&self) -> Cx<'_> {
        Cx::new(&self.db, &self.settings)
    }

    /// Starts (or resumes) the export of (paper, analysis): from now on every fetch made
    /// through this handle is logged into it (see [`crate::export::start_export`]).
    pub fn start_export(&self, paper_id: &str, analysis_id: &str) -> Result<i64> {
        crate::export::start_export(&self.db, paper_id, analysis_id)
    }

    /// Stops the active export (see [`crate::export::stop_export`]); returns its id.
    pub fn stop_export(&self) -> Option<i64> {
        crate::export::stop_export(&self.db)
    }

    /// The export this handle's fetches are logged into, if any.
    pub fn active_export(&self) -> Option<i64> {
        crate::export::active_export(&self.db)
    }

    /// Declares pipeline `name` and what it refers to, once per handle.
    pub fn require(&self, name: &str) -> Result<()> {
        let mut declared = self.declared.lock().unwrap_or_else(|p| p.into_inner());
        if declared.contains(name) {
            return Ok(());
        }
        crate::pipelines::declare(&self.db, &[name])?;
        declared.insert(name.to_string());
        Ok(())
    }

    /// Declares every pipeline.
    pub fn require_all(&self) -> Result<()> {
        for p in crate::pipelines::all() {
            self.require(p.name())?;
        }
        Ok(())
    }

    /// Inserts the default rows of the tables named, or of all (see [`crate::defaults`]).
    pub fn insert_defaults(&self, names: &[String]) -> Result<Vec<(String, usize)>> {
        crate::defaults::insert_defaults(&self.db, names)
    }

    /// Populates `table` for the keys matching `restriction` with its registered make.
    pub fn populate(&self, table: &str, restriction: Cond) -> Result<PopulateReport> {
        crate::populate(&self.db, &self.settings, table, restriction)
    }

    /// Populates `table` with options and progress.
    pub fn populate_with(
        &self,
        table: &str,
        opts: &PopulateOptions,
        progress: &dyn Progress,
    ) -> Result<PopulateReport> {
        crate::populate_with(&self.db, &self.settings, table, opts, progress)
    }
}
