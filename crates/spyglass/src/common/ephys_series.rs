//! `common_ephys_series` (a spyglass-rs addition): every ElectricalSeries a session's
//! file carries — the one Spyglass's `Raw` records and the others (a second probe,
//! an LF stream, LFP in a processing module) — with the electrodes each carries, so
//! that every electrode with data can be filtered and nothing is dropped unseen.
//! Not in [`super::schemas`] (Spyglass has no such table, so `spyglass check` leaves it
//! out); the `common` pipeline declares it with the common schemas.

use crate::error::{Error, Result};
use crate::kit::{Session, Tables};
use serde::{Deserialize, Serialize};
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

/// The series an LFP or a sorting is computed from: Raw's, or another broadband
/// series of the session carrying all the electrodes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceSeries {
    /// Its object id.
    pub object_id: String,
    /// Its sampling rate, Hz.
    pub rate: f64,
    /// The IntervalList of its valid times.
    pub interval: String,
}

#[derive(Deserialize)]
struct SeriesRow {
    series_path: String,
    series_object_id: String,
    interval_list_name: String,
    sampling_rate: f64,
    role: String,
}

#[derive(Deserialize)]
struct Carried {
    series_path: String,
    electrode_id: i64,
}

#[derive(Deserialize)]
struct RawRow {
    raw_object_id: String,
    sampling_rate: f64,
}

/// The broadband series carrying every electrode of `electrode_ids`: Raw's when it
/// does, else another one this table records; an error naming the series and their
/// electrodes when none carries them all.
pub fn series_for_electrodes(
    db: &Db,
    nwb_file_name: &str,
    electrode_ids: &[i64],
) -> Result<SourceSeries> {
    let session = Session { nwb_file_name };
    let raw: Vec<RawRow> = db.rows(crate::common::common_ephys::RAW, &session)?;
    // a database Python Spyglass declared has no such table: Raw's series, as Spyglass
    let (series, parts): (Vec<SeriesRow>, Vec<Carried>) =
        if db.table_info(ELECTRICAL_SERIES).is_ok() {
            (
                db.rows(ELECTRICAL_SERIES, &session)?,
                db.rows(ELECTRICAL_SERIES_ELECTRODE, &session)?,
            )
        } else {
            (vec![], vec![])
        };
    let carried = |path: &str| -> Vec<i64> {
        parts
            .iter()
            .filter(|p| p.series_path == path)
            .map(|p| p.electrode_id)
            .collect()
    };
    let covers = |path: &str| {
        let c = carried(path);
        electrode_ids.iter().all(|e| c.contains(e))
    };
    if let Some(r) = raw.first() {
        let raw_path = series
            .iter()
            .find(|s| s.series_object_id == r.raw_object_id)
            .map(|s| s.series_path.as_str());
        // sessions ingested before this table existed: Raw's series, as before
        if raw_path.is_none_or(covers) {
            return Ok(SourceSeries {
                object_id: r.raw_object_id.clone(),
                rate: r.sampling_rate,
                interval: crate::common::common_interval::RAW_VALID_TIMES.to_string(),
            });
        }
    }
    if let Some(s) = series
        .iter()
        .find(|s| s.role == "raw_other" && covers(&s.series_path))
    {
        return Ok(SourceSeries {
            object_id: s.series_object_id.clone(),
            rate: s.sampling_rate,
            interval: s.interval_list_name.clone(),
        });
    }
    let have: Vec<String> = series
        .iter()
        .filter(|s| s.role != "lfp")
        .map(|s| {
            format!(
                "{}: electrodes {:?}",
                s.series_path,
                carried(&s.series_path)
            )
        })
        .collect();
    Err(Error::bad(nwb_file_name, format!(
        "no raw series carries all of electrodes {electrode_ids:?}; make one LFP electrode group per series (one sort group per series) ({})",
        if have.is_empty() { "the session has no raw series".to_string() } else { have.join("; ") }
    )))
}
