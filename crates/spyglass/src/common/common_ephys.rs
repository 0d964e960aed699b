//! `common_ephys`: electrode groups, electrodes, the raw ElectricalSeries and the
//! sample-count series of a session, as Spyglass's Imported tables.

use spyglass_db::{TableSpec, Tier};

/// Schema name.
pub const SCHEMA: &str = "common_ephys";
/// `ElectrodeGroup` (Imported).
pub const ELECTRODE_GROUP: &str = "common_ephys.ElectrodeGroup";
/// `Electrode` (Imported).
pub const ELECTRODE: &str = "common_ephys.Electrode";
/// `Raw` (Imported).
pub const RAW: &str = "common_ephys.Raw";
/// `SampleCount` (Imported).
pub const SAMPLE_COUNT: &str = "common_ephys.SampleCount";

/// The tables of this schema, parents first.
pub fn specs() -> Vec<TableSpec> {
    vec![
        TableSpec::new(
            "ElectrodeGroup",
            Tier::Imported,
            "# electrodes on one physical probe or shank
-> common_session.Session
electrode_group_name : varchar(80)  # group name in the NWB file
---
-> common_region.BrainRegion
-> [nullable] common_device.Probe
description : varchar(2000)  # description of the group
target_hemisphere = \"Unknown\" : enum(\"Right\", \"Left\", \"Unknown\")",
        ),
        TableSpec::new(
            "Electrode",
            Tier::Imported,
            "-> ElectrodeGroup
electrode_id : int  # row id in the electrodes table
---
-> [nullable] common_device.Probe.Electrode
-> common_region.BrainRegion
name = \"\" : varchar(200)  # label of the contact
original_reference_electrode = -1 : int  # reference electrode configured at recording
x = NULL : float  # x position in the brain
y = NULL : float  # y position in the brain
z = NULL : float  # z position in the brain
filtering : varchar(2000)  # hardware filtering
impedance = NULL : float  # impedance, ohms
bad_channel = \"False\" : enum(\"True\", \"False\")  # marked bad during recording
x_warped = NULL : float  # x in a common template brain
y_warped = NULL : float  # y in a common template brain
z_warped = NULL : float  # z in a common template brain
contacts : varchar(200)  # contacts of a bipolar signal",
        ),
        TableSpec::new(
            "Raw",
            Tier::Imported,
            "# the raw voltage ElectricalSeries of a session
-> common_session.Session
---
-> common_interval.IntervalList
raw_object_id : varchar(40)  # NWB object id of the series
sampling_rate : float  # sampling rate, Hz
comments : varchar(2000)
description : varchar(2000)",
        ),
        TableSpec::new(
            "SampleCount",
            Tier::Imported,
            "# the sample-count series of a session
-> common_session.Session
---
sample_count_object_id : varchar(40)  # NWB object id of the series",
        ),
    ]
}
