//! `common_device`: hardware. Data acquisition devices with their system and
//! amplifier vocabularies, cameras, probe types and probes (+ shanks, + electrodes),
//! ingested from the ndx-franklab-novela `DataAcqDevice`, `CameraDevice` and
//! `Probe` / `Shank` / `ShanksElectrode` objects.

use spyglass_db::{TableSpec, Tier};

/// Schema name.
pub const SCHEMA: &str = "common_device";
/// `DataAcquisitionDeviceSystem` (Manual).
pub const DAQ_SYSTEM: &str = "common_device.DataAcquisitionDeviceSystem";
/// `DataAcquisitionDeviceAmplifier` (Manual).
pub const DAQ_AMPLIFIER: &str = "common_device.DataAcquisitionDeviceAmplifier";
/// `DataAcquisitionDevice` (Manual).
pub const DAQ_DEVICE: &str = "common_device.DataAcquisitionDevice";
/// `CameraDevice` (Manual).
pub const CAMERA_DEVICE: &str = "common_device.CameraDevice";
/// `ProbeType` (Manual).
pub const PROBE_TYPE: &str = "common_device.ProbeType";
/// `Probe` (Manual).
pub const PROBE: &str = "common_device.Probe";
/// `Probe.Shank` (Part).
pub const PROBE_SHANK: &str = "common_device.Probe.Shank";
/// `Probe.Electrode` (Part).
pub const PROBE_ELECTRODE: &str = "common_device.Probe.Electrode";

/// The tables of this schema, parents first.
pub fn specs() -> Vec<TableSpec> {
    vec![
        TableSpec::new(
            "DataAcquisitionDeviceSystem",
            Tier::Manual,
            "# known data acquisition systems
data_acquisition_device_system : varchar(80)",
        ),
        TableSpec::new(
            "DataAcquisitionDeviceAmplifier",
            Tier::Manual,
            "# known data acquisition amplifiers
data_acquisition_device_amplifier : varchar(80)",
        ),
        TableSpec::new(
            "DataAcquisitionDevice",
            Tier::Manual,
            "data_acquisition_device_name : varchar(80)
---
-> [nullable] DataAcquisitionDeviceSystem
-> [nullable] DataAcquisitionDeviceAmplifier
adc_circuit = NULL : varchar(2000)",
        ),
        TableSpec::new(
            "CameraDevice",
            Tier::Manual,
            "camera_name : varchar(80)
---
meters_per_pixel = 0 : float  # size of a pixel, meters
manufacturer = \"\" : varchar(2000)
model = \"\" : varchar(2000)
lens = \"\" : varchar(2000)
camera_id = -1 : int",
        ),
        TableSpec::new(
            "ProbeType",
            Tier::Manual,
            "# a kind of probe, whatever its channel configuration
probe_type : varchar(80)
---
probe_description : varchar(2000)  # what the probe is
manufacturer = \"\" : varchar(200)  # who makes it
num_shanks : int  # number of shanks",
        ),
        TableSpec::new(
            "Probe",
            Tier::Manual,
            "# one configuration of a probe type
probe_id : varchar(80)  # unique id of the probe and its configuration
---
-> ProbeType
-> [nullable] DataAcquisitionDevice
contact_side_numbering : enum(\"True\", \"False\")  # contacts numbered facing the viewer",
        )
        .part(
            "Shank",
            "-> master
probe_shank : int  # shank number within the probe",
        )
        .part(
            "Electrode",
            "# one contact of a probe shank
-> Probe.Shank
probe_electrode : int  # electrode number (the ShanksElectrode name)
---
contact_size = NULL : float  # contact size, um
rel_x = NULL : float  # x position on the probe, um
rel_y = NULL : float  # y position on the probe, um
rel_z = NULL : float  # z position on the probe, um",
        ),
    ]
}
