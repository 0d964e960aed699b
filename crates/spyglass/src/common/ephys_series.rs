//! `common_ephys_series` (a spyglass-rs addition): every ElectricalSeries a session's
//! file carries — the one Spyglass's `Raw` records and the others (a second probe,
//! an LF stream, LFP in a processing module) — with the electrodes each carries, so
//! that every electrode with data can be filtered and nothing is dropped unseen.
//! Kept out of the common schemas' list: Spyglass has no such table.

use crate::error::Result;
use spyglass_db::{Db, TableSpec, Tier};

/// Schema name.
pub const SCHEMA: &str = "common_ephys_series";
/// `ElectricalSeries` (Imported).
pub const ELECTRICAL_SERIES: &str = "common_ephys_series.ElectricalSeries";
/// `ElectricalSeries.Electrode` (Part).
pub const ELECTRICAL_SERIES_ELECTRODE: &str = "common_ephys_series.ElectricalSeries.Electrode";

/// The tables of this schema.
pub fn specs() -> Vec<TableSpec> {
    vec![TableSpec::new(
        "ElectricalSeries",
        Tier::Imported,
        "# an ElectricalSeries of a session's NWB file
-> common_session.Session
series_path : varchar(255)  # HDF5 path of the series in the file
---
series_object_id : varchar(40)  # NWB object id of the series
-> common_interval.IntervalList
sampling_rate : float  # Hz (stored rate, or estimated from timestamps)
n_samples : bigint  # samples per channel
role : enum(\"raw\", \"raw_other\", \"lfp\", \"other\")  # raw: common_ephys.Raw's series; raw_other: another broadband series; lfp: an LF stream or LFP container (ImportedLFP)",
    )
    .part(
        "Electrode",
        "# an electrode the series carries, and its channel
-> master
-> common_ephys.Electrode
---
channel : int  # column of the series' data",
    )]
}

/// Declares the schema (idempotent).
pub fn declare(db: &Db) -> Result<()> {
    for spec in specs() {
        db.declare(SCHEMA, &spec)?;
    }
    Ok(())
}
