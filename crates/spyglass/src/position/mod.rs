//! The position pipelines, one file per schema as Spyglass lays them out:
//! [`imported_pose`] (`position_v1_imported_pose`: ndx-pose PoseEstimation
//! containers of the session's file) and [`dlc`] (`position_v1_dlc_*`: DeepLabCut
//! outputs imported without training, and Spyglass's post-processing into DLCPosV1).

pub mod dlc;

crate::kit::family! {
    imported_pose => ImportedPose,
}
