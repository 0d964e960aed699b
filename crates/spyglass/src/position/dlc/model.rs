//! `position_v1_dlc_model`: Spyglass's DLC model tables (DLCModelInput,
//! DLCModelSource + FromImport + FromUpstream, DLCModelParams, DLCModelSelection,
//! DLCModel + BodyPart) with Spyglass's definitions. A DLC output imported into
//! spyglass-rs gets a model entered "FromImport", as Spyglass enters a model
//! trained outside it; DLCModel's row is inserted from the output's scorer, not
//! computed (no DeepLabCut here).

use crate::kit::prelude::*;

/// Schema name.
pub const SCHEMA: &str = "position_v1_dlc_model";
/// `DLCModelInput` (Manual).
pub const DLC_MODEL_INPUT: &str = "position_v1_dlc_model.DLCModelInput";
/// `DLCModelSource` (Manual).
pub const DLC_MODEL_SOURCE: &str = "position_v1_dlc_model.DLCModelSource";
/// `DLCModelSource.FromImport` (Part).
pub const DLC_MODEL_SOURCE_FROM_IMPORT: &str = "position_v1_dlc_model.DLCModelSource.FromImport";
/// `DLCModelParams` (Manual).
pub const DLC_MODEL_PARAMS: &str = "position_v1_dlc_model.DLCModelParams";
/// `DLCModelSelection` (Manual).
pub const DLC_MODEL_SELECTION: &str = "position_v1_dlc_model.DLCModelSelection";
/// `DLCModel` (Computed).
pub const DLC_MODEL: &str = "position_v1_dlc_model.DLCModel";
/// `DLCModel.BodyPart` (Part).
pub const DLC_MODEL_BODY_PART: &str = "position_v1_dlc_model.DLCModel.BodyPart";

/// Spyglass's `DLCModelParams.insert_default` dict.
pub const DEFAULT_MODEL_PARAMS: &str =
    r#"{"params": {}, "shuffle": 1, "trainingsetindex": 0, "model_prefix": ""}"#;

/// The key of DLCModel (and DLCModelSelection).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DlcModelKey {
    /// The DLC project.
    pub project_name: String,
    /// The model's name.
    pub dlc_model_name: String,
    /// Its DLCModelParams.
    pub dlc_model_params_name: String,
}

/// The `position_v1_dlc_model` pipeline (tables only).
pub struct DlcModel;

impl Pipeline for DlcModel {
    identity!(SCHEMA, requires [super::project::SCHEMA, super::training::SCHEMA]);
    fn tables(&self) -> Vec<TableSpec> {
        let input = "dlc_model_name : varchar(64)  # Different than DLCModelSource.dlc_model_name
-> position_v1_dlc_project.DLCProject
---
project_path         : varchar(255) # Path to project directory";
        let source = "-> position_v1_dlc_project.DLCProject
dlc_model_name : varchar(64)    # User-friendly model name
---
source         : enum ('FromUpstream', 'FromImport')";
        let from_import = "-> DLCModelSource
-> DLCModelInput
---
project_path : varchar(255)";
        let from_upstream = "-> DLCModelSource
-> position_v1_dlc_training.DLCModelTraining
---
project_path : varchar(255)";
        let params = "dlc_model_params_name: varchar(40)
---
params: longblob";
        let selection = "-> DLCModelSource
-> DLCModelParams";
        let model = "-> DLCModelSelection
---
task                 : varchar(32)  # Task in the config yaml
date                 : varchar(16)  # Date in the config yaml
iteration            : int          # Iteration/version of this model
snapshotindex        : int          # which snapshot for prediction (if -1, latest)
shuffle              : int          # Shuffle (1) or not (0)
trainingsetindex     : int          # Index of training fraction list in config.yaml
unique index (task, date, iteration, shuffle, snapshotindex, trainingsetindex)
scorer               : varchar(64)  # Scorer/network name - DLC's GetScorerName()
config_template      : longblob     # Dictionary of the config for analyze_videos()
project_path         : varchar(255) # DLC's project_path in config relative to root
model_prefix=''      : varchar(32)
model_description='' : varchar(1000)";
        vec![
            TableSpec::new("DLCModelInput", Tier::Manual, input),
            TableSpec::new("DLCModelSource", Tier::Manual, source)
                .part("FromImport", from_import)
                .part("FromUpstream", from_upstream),
            TableSpec::new("DLCModelParams", Tier::Manual, params),
            TableSpec::new("DLCModelSelection", Tier::Manual, selection),
            TableSpec::new("DLCModel", Tier::Computed, model).part(
                "BodyPart",
                "-> DLCModel\n-> position_v1_dlc_project.BodyPart",
            ),
        ]
    }
}
