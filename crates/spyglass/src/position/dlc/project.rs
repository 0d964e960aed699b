//! `position_v1_dlc_project`: DeepLabCut projects and body parts (Spyglass's
//! BodyPart, DLCProject + BodyPart + File), declared with Spyglass's definitions so
//! that a lab's database matches. Here they hold the project an imported DLC
//! output belongs to (no labelling or training happens in spyglass-rs).

use crate::kit::prelude::*;

/// Schema name.
pub const SCHEMA: &str = "position_v1_dlc_project";
/// `BodyPart` (Manual).
pub const BODY_PART: &str = "position_v1_dlc_project.BodyPart";
/// `DLCProject` (Manual).
pub const DLC_PROJECT: &str = "position_v1_dlc_project.DLCProject";
/// `DLCProject.BodyPart` (Part).
pub const DLC_PROJECT_BODY_PART: &str = "position_v1_dlc_project.DLCProject.BodyPart";

/// The `position_v1_dlc_project` pipeline.
pub struct DlcProject;

impl Pipeline for DlcProject {
    identity!(SCHEMA);
    fn tables(&self) -> Vec<TableSpec> {
        let body_part = "bodypart                : varchar(32)
---
bodypart_description='' : varchar(80)";
        let project = "project_name     : varchar(100) # name of DLC project
---
-> common_lab.LabTeam
bodyparts        : blob         # list of bodyparts to label
frames_per_video : int          # number of frames to extract from each video
config_path      : varchar(255) # path to config.yaml for model";
        let file = "# Paths of training files (e.g., labeled pngs, CSV or video)
-> DLCProject
file_name: varchar(200) # Concise name to describe file
file_ext : varchar(8)  # File extension, e.g., 'mp4', 'h5', 'csv'
---
file_path: varchar(255)";
        vec![
            TableSpec::new("BodyPart", Tier::Manual, body_part),
            TableSpec::new("DLCProject", Tier::Manual, project)
                .part("BodyPart", "-> DLCProject\n-> BodyPart")
                .part("File", file),
        ]
    }
}
