//! `lfp_imported`: LFP that arrived already computed in the NWB file
//! (`ImportedLFP`), with Spyglass's definition, so that it can be a source of the
//! LFPOutput merge table next to LFPV1. Ingestion fills it: every ElectricalSeries
//! in an `LFP` container and every LF stream (≤ 2.5 kHz) in acquisition gets an
//! LFP electrode group `imported_lfp_NNN`, an IntervalList `imported lfp N valid
//! times` and a row here; the series stays in the session's NWB file.

use crate::kit::{identity, provides, Pipeline};
use spyglass_db::{TableSpec, Tier};

/// Schema name.
pub const SCHEMA: &str = "lfp_imported";
/// `ImportedLFP` (Imported).
pub const IMPORTED_LFP: &str = "lfp_imported.ImportedLFP";
/// Streams at or below this rate are LFP, not raw data, Hz.
pub const MAX_LFP_RATE: f64 = 2500.0;

/// The `lfp_imported` pipeline (filled by ingestion).
pub struct ImportedLfp;

impl Pipeline for ImportedLfp {
    identity!(SCHEMA, requires["lfp_electrode"]);
    provides! {
        merge: super::merge::LFP_OUTPUT => IMPORTED_LFP;
    }
    fn tables(&self) -> Vec<TableSpec> {
        specs()
    }
}

fn specs() -> Vec<TableSpec> {
    vec![TableSpec::new(
        "ImportedLFP",
        Tier::Imported,
        // Spyglass 0.6.0's definition: the series lives in the session's own file
        "-> common_session.Session  # the session to which this LFP belongs
-> lfp_electrode.LFPElectrodeGroup  # the group of electrodes to be filtered
-> common_interval.IntervalList  # the original set of times to be filtered
---
lfp_sampling_rate: float  # the sampling rate, in samples/sec
lfp_object_id: varchar(40)  # object ID of an lfp electrical series for loading from the NWB file",
    )]
}
