//! `common_session`: one row per ingested NWB file, linking subject, institution,
//! lab, experimenters and acquisition devices; plus session groups (named sets of
//! sessions, `SessionGroup` and `SessionGroupSession`, as Spyglass defined them).

use spyglass_db::{TableSpec, Tier};

/// Schema name.
pub const SCHEMA: &str = "common_session";
/// `Session` (Imported).
pub const SESSION: &str = "common_session.Session";
/// `Session.Experimenter` (Part).
pub const SESSION_EXPERIMENTER: &str = "common_session.Session.Experimenter";
/// `Session.DataAcquisitionDevice` (Part).
pub const SESSION_DAQ: &str = "common_session.Session.DataAcquisitionDevice";
/// `SessionGroup` (Manual).
pub const SESSION_GROUP: &str = "common_session.SessionGroup";
/// `SessionGroupSession` (Manual).
pub const SESSION_GROUP_SESSION: &str = "common_session.SessionGroupSession";

/// The tables of this schema, parents first.
pub fn specs() -> Vec<TableSpec> {
    vec![
        TableSpec::new(
            "Session",
            Tier::Imported,
            "# experimental sessions, one per NWB file
-> common_nwbfile.Nwbfile
---
-> [nullable] common_subject.Subject
-> [nullable] common_lab.Institution
-> [nullable] common_lab.Lab
session_id = NULL : varchar(200)
session_description : varchar(2000)
session_start_time : datetime
timestamps_reference_time : datetime
experiment_description = NULL : varchar(2000)",
        )
        .part(
            "DataAcquisitionDevice",
            "# the acquisition devices of a session
-> master
-> common_device.DataAcquisitionDevice",
        )
        .part(
            "Experimenter",
            "# the experimenters of a session
-> master
-> common_lab.LabMember",
        ),
        TableSpec::new(
            "SessionGroup",
            Tier::Manual,
            "session_group_name : varchar(200)
---
session_group_description : varchar(2000)",
        ),
        TableSpec::new(
            "SessionGroupSession",
            Tier::Manual,
            "-> SessionGroup
-> Session",
        ),
    ]
}
