//! Plain-data descriptions of NWB objects as the reader returns them (and as the
//! writers accept them): session metadata, subject, devices, electrode groups, time
//! series, processing modules, epochs, tasks, videos and the ndx-franklab-novela types.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};

use crate::data::Data;

/// Session-level metadata from the file root and `/general`.
#[derive(Clone, Debug, PartialEq)]
pub struct FileMetadata {
    /// `/identifier`.
    pub identifier: String,
    /// `/session_description`.
    pub session_description: String,
    /// `/session_start_time` (timezone-aware; naive values are taken as UTC).
    pub session_start_time: DateTime<FixedOffset>,
    /// `/timestamps_reference_time`.
    pub timestamps_reference_time: DateTime<FixedOffset>,
    /// `/file_create_date` entries, as stored.
    pub file_create_date: Vec<String>,
    /// `/general/experimenter`.
    pub experimenter: Vec<String>,
    /// `/general/institution`.
    pub institution: Option<String>,
    /// `/general/lab`.
    pub lab: Option<String>,
    /// `/general/experiment_description`.
    pub experiment_description: Option<String>,
    /// `/general/session_id`.
    pub session_id: Option<String>,
    /// `/general/keywords`.
    pub keywords: Vec<String>,
    /// `/general/related_publications`.
    pub related_publications: Vec<String>,
    /// `/general/notes`.
    pub notes: Option<String>,
    /// `/general/source_script`.
    pub source_script: Option<String>,
    /// Root attribute `nwb_version`.
    pub nwb_version: String,
    /// Root attribute `object_id`.
    pub object_id: String,
}

/// `/general/subject`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Subject {
    /// `subject_id`.
    pub subject_id: Option<String>,
    /// `species` (DANDI wants a Latin binomial, e.g. "Rattus norvegicus").
    pub species: Option<String>,
    /// `sex` (M, F, U or O).
    pub sex: Option<String>,
    /// `age` as an ISO-8601 duration (e.g. "P90D").
    pub age: Option<String>,
    /// The `reference` attribute of `age` ("birth" or "gestational").
    pub age_reference: Option<String>,
    /// `date_of_birth`.
    pub date_of_birth: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `genotype`.
    pub genotype: Option<String>,
    /// `strain`.
    pub strain: Option<String>,
    /// `weight`.
    pub weight: Option<String>,
    /// The subject group's `object_id`.
    pub object_id: String,
}

/// A device under `/general/devices` (any subtype; all attributes kept).
#[derive(Clone, Debug, PartialEq)]
pub struct Device {
    /// Device name.
    pub name: String,
    /// HDF5 path.
    pub path: String,
    /// `Device`, `Probe`, `DataAcqDevice`, `CameraDevice`, ...
    pub neurodata_type: String,
    /// Namespace of the type.
    pub namespace: String,
    /// `object_id`.
    pub object_id: String,
    /// `description` attribute.
    pub description: Option<String>,
    /// `manufacturer` attribute.
    pub manufacturer: Option<String>,
    /// Every attribute of the device group.
    pub attributes: BTreeMap<String, Data>,
}

/// An electrode group under `/general/extracellular_ephys`.
#[derive(Clone, Debug, PartialEq)]
pub struct ElectrodeGroup {
    /// Group name.
    pub name: String,
    /// HDF5 path.
    pub path: String,
    /// `ElectrodeGroup` or `NwbElectrodeGroup`.
    pub neurodata_type: String,
    /// `object_id`.
    pub object_id: String,
    /// `description`.
    pub description: Option<String>,
    /// `location` (brain region).
    pub location: Option<String>,
    /// Path of the linked device.
    pub device_path: Option<String>,
    /// Name of the linked device.
    pub device: Option<String>,
    /// ndx-franklab-novela `targeted_location`.
    pub targeted_location: Option<String>,
    /// ndx-franklab-novela `targeted_x`.
    pub targeted_x: Option<f64>,
    /// ndx-franklab-novela `targeted_y`.
    pub targeted_y: Option<f64>,
    /// ndx-franklab-novela `targeted_z`.
    pub targeted_z: Option<f64>,
    /// ndx-franklab-novela `units`.
    pub units: Option<String>,
}

/// How a time series is timed.
#[derive(Clone, Debug, PartialEq)]
pub enum Timing {
    /// Regular sampling: `starting_time` with its `rate` attribute.
    Rate {
        /// Samples per second.
        rate: f64,
        /// Time of the first sample, seconds.
        starting_time: f64,
    },
    /// Explicit `timestamps` dataset of this length.
    Timestamps {
        /// Number of timestamps.
        len: usize,
    },
    /// Neither (e.g. an ImageSeries without timing).
    Missing,
}

/// A TimeSeries (or subtype: ElectricalSeries, SpatialSeries, ImageSeries, ...) without its data.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeSeries {
    /// Series name.
    pub name: String,
    /// HDF5 path.
    pub path: String,
    /// Type name.
    pub neurodata_type: String,
    /// Namespace of the type.
    pub namespace: String,
    /// `object_id`.
    pub object_id: String,
    /// `description`.
    pub description: Option<String>,
    /// `comments`.
    pub comments: Option<String>,
    /// `data@unit`.
    pub unit: String,
    /// `data@conversion` (default 1).
    pub conversion: f64,
    /// `data@offset` (default 0).
    pub offset: f64,
    /// `data@resolution` (default -1).
    pub resolution: f64,
    /// Shape of `data` (empty when absent).
    pub shape: Vec<usize>,
    /// Element type of `data` (e.g. `int16`), `none` when absent.
    pub dtype: String,
    /// Sampling description.
    pub timing: Timing,
    /// ElectricalSeries: electrode table rows of each channel.
    pub electrodes: Option<Vec<i64>>,
    /// ElectricalSeries: path of the electrodes table the region points into.
    pub electrodes_table: Option<String>,
    /// ElectricalSeries: per-channel `channel_conversion`.
    pub channel_conversion: Option<Vec<f64>>,
    /// ElectricalSeries: `filtering` attribute.
    pub filtering: Option<String>,
    /// SpatialSeries: `reference_frame`.
    pub reference_frame: Option<String>,
}

impl TimeSeries {
    /// Number of samples (first dimension of `data`, or the timestamps count).
    pub fn num_samples(&self) -> usize {
        match (self.shape.first(), &self.timing) {
            (Some(&n), _) => n,
            (None, Timing::Timestamps { len }) => *len,
            _ => 0,
        }
    }

    /// Sampling rate: the stored rate, else estimated from timestamps by the caller.
    pub fn rate(&self) -> Option<f64> {
        match self.timing {
            Timing::Rate { rate, .. } => Some(rate),
            _ => None,
        }
    }
}

/// A member of a processing module (a container such as Position, or a table, or a series).
#[derive(Clone, Debug, PartialEq)]
pub struct Interface {
    /// Member name.
    pub name: String,
    /// HDF5 path.
    pub path: String,
    /// Type name (`Position`, `LFP`, `DynamicTable`, `ElectricalSeries`, ...).
    pub neurodata_type: String,
    /// Namespace of the type.
    pub namespace: String,
    /// `object_id`.
    pub object_id: String,
    /// Time series held by this container (or the interface itself when it is a series).
    pub series: Vec<TimeSeries>,
}

/// A processing module under `/processing`.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcessingModule {
    /// Module name.
    pub name: String,
    /// HDF5 path.
    pub path: String,
    /// `description`.
    pub description: Option<String>,
    /// `object_id`.
    pub object_id: String,
    /// Its data interfaces.
    pub interfaces: Vec<Interface>,
}

/// One row of the epochs table.
#[derive(Clone, Debug, PartialEq)]
pub struct Epoch {
    /// Row id.
    pub id: i64,
    /// Start, seconds.
    pub start_time: f64,
    /// Stop, seconds.
    pub stop_time: f64,
    /// Tags (the first one names the epoch in Spyglass, e.g. `01_s1`).
    pub tags: Vec<String>,
}

/// One task row from the `tasks` processing module.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    /// Name of the table holding the task.
    pub table: String,
    /// `task_name`.
    pub task_name: String,
    /// `task_description`.
    pub task_description: Option<String>,
    /// `task_environment`.
    pub task_environment: Option<String>,
    /// `camera_id` values.
    pub camera_ids: Vec<i64>,
    /// `task_epochs` values.
    pub task_epochs: Vec<i64>,
    /// `object_id` of the table.
    pub object_id: String,
}

/// An ImageSeries (usually pointing to external video files).
#[derive(Clone, Debug, PartialEq)]
pub struct ImageSeriesInfo {
    /// The series description.
    pub series: TimeSeries,
    /// `external_file` entries.
    pub external_file: Vec<String>,
    /// `external_file@starting_frame`.
    pub starting_frame: Vec<i64>,
    /// `format` (e.g. `external`).
    pub format: Option<String>,
    /// Name of the linked device (e.g. a CameraDevice).
    pub device: Option<String>,
}

/// ndx-franklab-novela `ShanksElectrode`.
#[derive(Clone, Debug, PartialEq)]
pub struct ShanksElectrode {
    /// Name (an integer in Frank-lab files).
    pub name: String,
    /// `rel_x`.
    pub rel_x: f64,
    /// `rel_y`.
    pub rel_y: f64,
    /// `rel_z`.
    pub rel_z: f64,
}

/// ndx-franklab-novela `Shank`.
#[derive(Clone, Debug, PartialEq)]
pub struct Shank {
    /// Name (an integer in Frank-lab files).
    pub name: String,
    /// Its electrodes.
    pub electrodes: Vec<ShanksElectrode>,
}

/// ndx-franklab-novela `Probe` (a Device).
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    /// Device name.
    pub name: String,
    /// `id`.
    pub id: i64,
    /// `probe_type` (Spyglass's probe_id).
    pub probe_type: String,
    /// `units` of the coordinates.
    pub units: String,
    /// `probe_description`.
    pub probe_description: String,
    /// `contact_size`.
    pub contact_size: f64,
    /// `contact_side_numbering`.
    pub contact_side_numbering: Option<bool>,
    /// `manufacturer`.
    pub manufacturer: Option<String>,
    /// Its shanks.
    pub shanks: Vec<Shank>,
    /// `object_id`.
    pub object_id: String,
}

/// ndx-franklab-novela `DataAcqDevice`.
#[derive(Clone, Debug, PartialEq)]
pub struct DataAcqDevice {
    /// Device name.
    pub name: String,
    /// `system`.
    pub system: String,
    /// `amplifier`.
    pub amplifier: Option<String>,
    /// `adc_circuit`.
    pub adc_circuit: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `manufacturer`.
    pub manufacturer: Option<String>,
    /// `object_id`.
    pub object_id: String,
}

/// ndx-franklab-novela `CameraDevice`.
#[derive(Clone, Debug, PartialEq)]
pub struct CameraDevice {
    /// Device name (`camera_device <int>` in Frank-lab files).
    pub name: String,
    /// `meters_per_pixel`.
    pub meters_per_pixel: f64,
    /// `camera_name`.
    pub camera_name: String,
    /// `lens`.
    pub lens: String,
    /// `frame_rate`.
    pub frame_rate: Option<f64>,
    /// `manufacturer`.
    pub manufacturer: Option<String>,
    /// `model_name` (or legacy `model`).
    pub model: Option<String>,
    /// `object_id`.
    pub object_id: String,
}

impl CameraDevice {
    /// The integer in a `camera_device <int>` name, as Spyglass parses it.
    pub fn camera_id(&self) -> Option<i64> {
        self.name
            .strip_prefix("camera_device ")?
            .trim()
            .parse()
            .ok()
    }
}

/// ndx-franklab-novela `AssociatedFiles`.
#[derive(Clone, Debug, PartialEq)]
pub struct AssociatedFiles {
    /// Object name.
    pub name: String,
    /// HDF5 path.
    pub path: String,
    /// `description`.
    pub description: String,
    /// `content` (the file text).
    pub content: String,
    /// `task_epochs` (text, e.g. "1, 2").
    pub task_epochs: String,
    /// `object_id`.
    pub object_id: String,
}

/// Whether an object is a group or a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    /// An HDF5 group.
    Group,
    /// An HDF5 dataset.
    Dataset,
}

/// Generic description of any object: type attributes plus all attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectInfo {
    /// HDF5 path.
    pub path: String,
    /// Group or dataset.
    pub kind: ObjectKind,
    /// `neurodata_type` attribute (empty when untyped).
    pub neurodata_type: String,
    /// `namespace` attribute.
    pub namespace: String,
    /// `object_id` attribute.
    pub object_id: String,
    /// Shape (datasets only).
    pub shape: Vec<usize>,
    /// Every attribute.
    pub attributes: BTreeMap<String, Data>,
}
