//! `common_dio`: digital input/output events, one row per TimeSeries of the
//! `behavioral_events` BehavioralEvents object.

use spyglass_db::{TableSpec, Tier};

/// Schema name.
pub const SCHEMA: &str = "common_dio";
/// `DIOEvents` (Imported).
pub const DIO_EVENTS: &str = "common_dio.DIOEvents";

/// The tables of this schema.
pub fn specs() -> Vec<TableSpec> {
    vec![TableSpec::new(
        "DIOEvents",
        Tier::Imported,
        "-> common_session.Session
dio_event_name : varchar(80)  # name of the DIO event series
---
dio_object_id : varchar(40)  # NWB object id of the series
-> common_interval.IntervalList",
    )]
}
