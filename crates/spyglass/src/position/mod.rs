//! The position pipelines, one file per schema as Spyglass lays them out:
//! [`trodes_v1`] (`position_v1_trodes_position`: TrodesPosParams,
//! TrodesPosSelection and TrodesPosV1 — head position, orientation, velocity and
//! speed from Trodes LED tracking) and [`merge`] (`position_merge`: the
//! PositionOutput merge table over the position sources, and the reader
//! downstream pipelines use, [`merge::fetch_position`]); [`imported_pose`]
//! (`position_v1_imported_pose`: ndx-pose PoseEstimation containers of the
//! session's file) and [`dlc`] (`position_v1_dlc_*`: DeepLabCut outputs imported
//! without training, and Spyglass's post-processing into DLCPosV1; its own
//! `family!` list, read by [`crate::pipelines::all`]); [`plot`] draws
//! PositionOutput's entries.

pub mod dlc;

crate::kit::family! {
    trodes_v1 => TrodesPosV1,
    imported_pose => ImportedPose,
    merge => PositionMerge,
}

pub mod plot;
