//! `spikesorting_imported`: a sorting that came with the NWB file (its units
//! table), as Spyglass's `ImportedSpikeSorting` with its `Annotations` part.

use spyglass_db::{TableSpec, Tier};

/// Schema name.
pub const SCHEMA: &str = "spikesorting_imported";
/// `ImportedSpikeSorting` (Imported).
pub const IMPORTED_SPIKE_SORTING: &str = "spikesorting_imported.ImportedSpikeSorting";
/// `ImportedSpikeSorting.Annotations` (Part).
pub const ANNOTATIONS: &str = "spikesorting_imported.ImportedSpikeSorting.Annotations";

/// The tables of this schema (Spyglass's definitions).
pub fn specs() -> Vec<TableSpec> {
    vec![TableSpec::new(
        "ImportedSpikeSorting",
        Tier::Imported,
        "-> common_session.Session
---
object_id : varchar(40)",
    )
    .part(
        "Annotations",
        "-> master
id : int  # unit id, corresponds to dataframe index of unit in NWB file
---
label = null : longblob  # list of string labels for the unit
annotations : longblob  # dict of other annotations (e.g. metrics)",
    )]
}
