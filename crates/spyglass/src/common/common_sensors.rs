//! `common_sensors`: the analog sensor series (`analog` BehavioralEvents) of a session.

use spyglass_db::{TableSpec, Tier};

/// Schema name.
pub const SCHEMA: &str = "common_sensors";
/// `SensorData` (Imported).
pub const SENSOR_DATA: &str = "common_sensors.SensorData";

/// The tables of this schema.
pub fn specs() -> Vec<TableSpec> {
    vec![TableSpec::new(
        "SensorData",
        Tier::Imported,
        "-> common_session.Session
---
sensor_data_object_id : varchar(40)  # NWB object id of the sensor series
-> common_interval.IntervalList",
    )]
}
