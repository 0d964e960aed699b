//! `common_behav`: behaviour recorded in the file. Position sources and their
//! SpatialSeries, raw position, compass directions, video and StateScript files,
//! and the map from epoch intervals to position intervals.

use spyglass_db::{TableSpec, Tier};

/// Schema name.
pub const SCHEMA: &str = "common_behav";
/// `PositionSource` (Manual).
pub const POSITION_SOURCE: &str = "common_behav.PositionSource";
/// `PositionSource.SpatialSeries` (Part).
pub const POSITION_SOURCE_SPATIAL_SERIES: &str = "common_behav.PositionSource.SpatialSeries";
/// `RawPosition` (Imported).
pub const RAW_POSITION: &str = "common_behav.RawPosition";
/// `RawPosition.PosObject` (Part).
pub const RAW_POSITION_POS_OBJECT: &str = "common_behav.RawPosition.PosObject";
/// `RawCompassDirection` (Manual).
pub const RAW_COMPASS_DIRECTION: &str = "common_behav.RawCompassDirection";
/// `StateScriptFile` (Imported).
pub const STATE_SCRIPT_FILE: &str = "common_behav.StateScriptFile";
/// `VideoFile` (Imported).
pub const VIDEO_FILE: &str = "common_behav.VideoFile";
/// `PositionIntervalMap` (Computed).
pub const POSITION_INTERVAL_MAP: &str = "common_behav.PositionIntervalMap";

/// The tables of this schema, parents first.
pub fn specs() -> Vec<TableSpec> {
    vec![
        TableSpec::new(
            "PositionSource",
            Tier::Manual,
            "-> common_session.Session
-> common_interval.IntervalList
---
source : varchar(200)  # where the data come from (imported, trodes, dlc, ...)
import_file_name : varchar(2000)  # path of the imported file, if any",
        )
        .part(
            "SpatialSeries",
            "-> master
id = 0 : int unsigned  # index of the SpatialSeries within the epoch
---
name = null : varchar(32)  # name of the SpatialSeries",
        ),
        TableSpec::new("RawPosition", Tier::Imported, "-> PositionSource").part(
            "PosObject",
            "-> master
-> PositionSource.SpatialSeries
---
raw_position_object_id : varchar(40)  # NWB object id of the SpatialSeries",
        ),
        TableSpec::new(
            "RawCompassDirection",
            Tier::Manual,
            "-> common_session.Session
-> common_interval.IntervalList
---
compass_object_id : varchar(40)  # NWB object id of the compass series
name : varchar(80)  # name of the compass series",
        ),
        TableSpec::new(
            "StateScriptFile",
            Tier::Imported,
            "-> common_task.TaskEpoch
---
file_object_id : varchar(40)  # NWB object id of the AssociatedFiles object",
        ),
        TableSpec::new(
            "VideoFile",
            Tier::Imported,
            "-> common_task.TaskEpoch
video_file_num = 0 : int
---
camera_name : varchar(80)
video_file_object_id : varchar(40)  # NWB object id of the ImageSeries",
        ),
        TableSpec::new(
            "PositionIntervalMap",
            Tier::Computed,
            "-> common_interval.IntervalList
---
position_interval_name = \"\" : varchar(200)  # the position interval of this epoch interval",
        ),
    ]
}
