//! `lfp_imported`: LFP that arrived already computed in the NWB file
//! (`ImportedLFP`), with Spyglass's definition, so that it can be a source of the
//! LFPOutput merge table next to LFPV1.

use spyglass_db::{TableSpec, Tier};

/// Schema name.
pub const SCHEMA: &str = "lfp_imported";
/// `ImportedLFP` (Imported).
pub const IMPORTED_LFP: &str = "lfp_imported.ImportedLFP";

/// The tables of this schema.
pub fn specs() -> Vec<TableSpec> {
    vec![TableSpec::new(
        "ImportedLFP",
        Tier::Imported,
        "# LFP computed before import, as found in the NWB file
-> common_session.Session
-> lfp_electrode.LFPElectrodeGroup
-> common_interval.IntervalList
lfp_object_id : varchar(40)  # object ID for loading from the NWB file
---
lfp_sampling_rate : float  # the sampling rate, in samples/sec
-> common_nwbfile.AnalysisNwbfile",
    )]
}
