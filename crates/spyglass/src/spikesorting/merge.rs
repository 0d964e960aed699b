//! `spikesorting_merge`: the SpikeSortingOutput merge table that unifies spike
//! sorting versions, as Spyglass 0.6's `spikesorting/spikesorting_merge.py`
//! declares it. Here with its `ImportedSpikeSorting` part (a sorting that came with
//! the NWB file); the `CurationV1` part comes with `spikesorting_v1_curation`.

use crate::common::spikesorting_imported::IMPORTED_SPIKE_SORTING;
use crate::kit::{identity, provides, Pipeline};
use spyglass_db::TableSpec;

/// Schema name.
pub const SCHEMA: &str = "spikesorting_merge";
/// `SpikeSortingOutput` (the merge master).
pub const SPIKE_SORTING_OUTPUT: &str = "spikesorting_merge.SpikeSortingOutput";
/// The `ImportedSpikeSorting` part of SpikeSortingOutput.
pub const SPIKE_SORTING_OUTPUT_IMPORTED: &str =
    "spikesorting_merge.SpikeSortingOutput.ImportedSpikeSorting";

/// The `spikesorting_merge` pipeline: the SpikeSortingOutput master; its parts come
/// from the pipelines that name it in their [`Pipeline::merge_parts`]. The part of
/// `ImportedSpikeSorting` (a common table, declared with every database) is named
/// here, so that the merge schema is declared only when a sorting pipeline needs it.
pub struct SpikeSortingMerge;

impl Pipeline for SpikeSortingMerge {
    identity!(SCHEMA);
    provides! {
        merge: SPIKE_SORTING_OUTPUT => IMPORTED_SPIKE_SORTING;
    }
    fn tables(&self) -> Vec<TableSpec> {
        vec![spyglass_db::merge::merge_spec("SpikeSortingOutput", &[])]
    }
}
