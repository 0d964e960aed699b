//! The spike-sorting v1 pipelines, one file per schema as Spyglass 0.6 lays them
//! out: [`recording_v1`] (`spikesorting_v1_recording`: sort groups, preprocessing
//! parameters, recording selections and the referenced, band-passed recording),
//! [`artifact_v1`] (`spikesorting_v1_artifact`: artifact detection on a recording,
//! writing the artifact-free valid times to IntervalList), [`sorting_v1`]
//! (`spikesorting_v1_sorting`: sorter parameters, sorting selections and the sorted
//! units), [`curation_v1`] (`spikesorting_v1_curation`: CurationV1, curations of a
//! sorting in their own analysis files), [`metric_curation_v1`]
//! (`spikesorting_v1_metric_curation`: waveforms, quality metrics and metric-based
//! curation), [`merge`] (`spikesorting_merge`: the SpikeSortingOutput master) and
//! [`group_v1`] (`spikesorting_group_v1`: unit selections and SortedSpikesGroup,
//! the sorted units analyses read: spike times, spike indicator, firing rates).
//! [`recompute`] is the recording itself, recomputed from the raw file in bounded memory;
//! [`phy`] writes a curation as a phy folder and reads phy's edits back as a child
//! curation; [`figures`] draws the pictures of a curation (`spyglass sorting plot`).

pub mod figures;
pub mod phy;
pub mod recompute;

crate::kit::family! {
    recording_v1 => SpikeSortingRecordingV1,
    artifact_v1 => SpikeSortingArtifactV1,
    sorting_v1 => SpikeSortingSortingV1,
    curation_v1 => SpikeSortingCurationV1,
    metric_curation_v1 => SpikeSortingMetricCurationV1,
    merge => SpikeSortingMerge,
    group_v1 => SpikeSortingGroupV1,
}
