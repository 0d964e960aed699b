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
pub mod dandi;
pub mod defaults;
pub mod doctor;
pub mod error;
pub mod export;
pub mod fetch_nwb;
pub mod filter;
pub mod ingest;
pub mod lab_admin;
pub mod lfp;
pub mod session_group;
pub mod settings;

pub use common::declare_common;
pub use error::{Error, Result};
pub use settings::Settings;
pub use spyglass_dsp::Intervals;

use spyglass_db::Db;

/// Opens the database at `url`, configures the stores of `settings`, declares
/// the common tables and pre-populates `entries.yaml`.
pub fn open(url: &str, settings: &Settings) -> Result<Db> {
    let db = Db::open(url)?;
    ingest::prepare(&db, settings)?;
    Ok(db)
}

/// Runs `f` in a database transaction (joining an open one); any error rolls back
/// and is returned as it was.
pub(crate) fn transaction<T>(db: &Db, f: impl FnOnce() -> Result<T>) -> Result<T> {
    db.transaction_with(f)
}
