//! `common_task`: tasks and the epochs in which the animal performed them, from the
//! tables of the `tasks` processing module (and the `Tasks` entries of a config yaml).

use spyglass_db::{TableSpec, Tier};

/// Schema name.
pub const SCHEMA: &str = "common_task";
/// `Task` (Manual).
pub const TASK: &str = "common_task.Task";
/// `TaskEpoch` (Imported).
pub const TASK_EPOCH: &str = "common_task.TaskEpoch";

/// The tables of this schema, parents first.
pub fn specs() -> Vec<TableSpec> {
    vec![
        TableSpec::new(
            "Task",
            Tier::Manual,
            "task_name : varchar(80)
---
task_description = NULL : varchar(2000)  # description of the task
task_type = NULL : varchar(2000)  # type of task
task_subtype = NULL : varchar(2000)  # subtype of task",
        ),
        TableSpec::new(
            "TaskEpoch",
            Tier::Imported,
            "-> common_session.Session
epoch : int  # session epoch, 1-based
---
-> Task
-> [nullable] common_device.CameraDevice
-> common_interval.IntervalList
task_environment = NULL : varchar(200)  # where the animal was
camera_names : blob  # list of {camera_name: ...} of the cameras used",
        ),
    ]
}
