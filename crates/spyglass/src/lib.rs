//! spyglass: the Spyglass framework on the spyglass-rs engine.
//!
//! Owns what Spyglass's `common` package owns: the common schemas with Spyglass's
//! exact table names and definitions ([`common`], declared by [`declare_common`]);
//! session ingestion from NWB files ([`ingest::insert_sessions`], with
//! `entries.yaml` and per-file config yamls); interval lists and their algebra
//! ([`common::common_interval`] over [`spyglass_dsp::Intervals`]); the file
//! registry of raw copies and analysis files ([`analysis`]); reading the NWB
//! objects a row points to ([`fetch_nwb`]); and session groups
//! ([`session_group`]). The directory layout is [`Settings`].
//!
//! ```no_run
//! use spyglass::{ingest, Settings};
//! let db = spyglass_db::Db::open("sqlite:///spyglass.db")?;
//! let settings = Settings::from_env();
//! let reports = ingest::insert_sessions(&db, &settings, &["rat1.nwb".into()],
//!     &ingest::IngestOptions::default(), &ingest::NoProgress)?;
//! assert!(reports[0].is_ok());
//! # Ok::<(), spyglass::Error>(())
//! ```

#![warn(missing_docs)]

pub mod analysis;
pub mod cautious_delete;
pub mod cautious_drop;
pub mod check;
pub mod common;
pub mod config_file;
pub mod dandi;
pub mod defaults;
pub mod doctor;
pub mod elements;
pub mod error;
pub mod export;
pub mod fetch_nwb;
pub mod filter;
pub mod ingest;
pub mod kit;
pub mod lab_admin;
pub mod lfp;
pub mod linearization;
pub mod mua;
pub mod pipelines;
pub mod plot;
pub mod position;
pub mod ripple;
mod scope;
pub mod session_group;
pub mod settings;
pub mod spikesorting;

pub use common::declare_common;
pub use error::{Error, Result};
pub use kit::Spyglass;
pub use settings::Settings;
pub use spyglass_dsp::Intervals;

use spyglass_db::Db;

/// Populates `table` for the keys matching `restriction` with its registered make
/// (see [`pipelines::makers`]), writing under `settings`.
pub fn populate(
    db: &Db,
    settings: &Settings,
    table: &str,
    restriction: spyglass_db::Cond,
) -> Result<spyglass_db::populate::PopulateReport> {
    let opts = spyglass_db::populate::PopulateOptions {
        restrictions: vec![restriction],
        ..Default::default()
    };
    populate_with(
        db,
        settings,
        table,
        &opts,
        &spyglass_db::populate::NoProgress,
    )
}

/// Populates `table` with options and progress, with its registered make.
pub fn populate_with(
    db: &Db,
    settings: &Settings,
    table: &str,
    opts: &spyglass_db::populate::PopulateOptions,
    progress: &dyn spyglass_db::populate::Progress,
) -> Result<spyglass_db::populate::PopulateReport> {
    pipelines::declare_all(db)?;
    let info = db.table_info(table)?;
    let (maker, key_source) = pipelines::makers(settings).get(db, &info).ok_or_else(|| {
        Error::bad(
            "populate",
            format!("no make is registered for {}", info.name.pretty()),
        )
    })?;
    Ok(db.populate(table, maker.as_ref(), key_source.as_ref(), opts, progress)?)
}

/// Runs `f` in a database transaction (joining an open one); any error rolls back
/// and is returned as it was.
pub(crate) fn transaction<T>(db: &Db, f: impl FnOnce() -> Result<T>) -> Result<T> {
    db.transaction_with(f)
}
