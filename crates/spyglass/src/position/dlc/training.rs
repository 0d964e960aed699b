//! `position_v1_dlc_training`: Spyglass's DLC model training tables
//! (DLCModelTrainingParams, DLCModelTrainingSelection, DLCModelTraining), declared
//! with Spyglass's definitions because DLCModelSource.FromUpstream refers to them.
//! spyglass-rs trains no models: DLCModelTraining has no make here.

use crate::kit::prelude::*;

/// Schema name.
pub const SCHEMA: &str = "position_v1_dlc_training";

/// The `position_v1_dlc_training` pipeline (tables only).
pub struct DlcTraining;

impl Pipeline for DlcTraining {
    identity!(SCHEMA, requires[super::project::SCHEMA]);
    fn tables(&self) -> Vec<TableSpec> {
        let params = "# Parameters to specify a DLC model training instance
# For DLC ≤ v2.0, include scorer_lecacy = True in params
dlc_training_params_name      : varchar(50) # descriptive name of parameter set
---
params                        : longblob    # dictionary of all applicable parameters";
        let selection = "# Specification for a DLC model training instance
-> position_v1_dlc_project.DLCProject
-> DLCModelTrainingParams
training_id     : int # unique integer
# allows for multiple training runs for a specific parameter set and project
---
model_prefix='' : varchar(32)";
        let training = "-> DLCModelTrainingSelection
---
project_path         : varchar(255) # Path to project directory
latest_snapshot: int unsigned # latest exact snapshot index (i.e., never -1)
config_template: longblob     # stored full config file";
        vec![
            TableSpec::new("DLCModelTrainingParams", Tier::Lookup, params),
            TableSpec::new("DLCModelTrainingSelection", Tier::Manual, selection),
            TableSpec::new("DLCModelTraining", Tier::Computed, training),
        ]
    }
}
