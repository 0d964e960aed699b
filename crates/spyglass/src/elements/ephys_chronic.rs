//! `probe` and `ephys` (element-array-ephys 0.3.8's `probe` and `ephys_chronic`
//! modules, table for table) and the ingestion of a Kilosort / phy output folder.
//!
//! [`ingest_kilosort`] does in one transaction what a lab does with
//! element-array-ephys for an existing folder: the probe type and electrodes (from the
//! folder's `channel_map` / `channel_positions` when the type is new: electrode = the
//! recording channel, shank 0, column and row = ranks of x and y), the probe, the
//! insertion, the electrode configuration (`generate_electrode_config`: its uuid is
//! `dict_to_uuid` of the electrode keys, its name the ranges of electrodes), the
//! EphysRecording (element-array-ephys only reads SpikeGLX / Open Ephys; here the
//! acquisition software is named by the caller and added to AcquisitionSoftware if
//! new), the parameter set (`insert_new_params`: `dict_to_uuid({**params,
//! clustering_method})` over `params.py`), ClusteringTask (`load`), Clustering and
//! Curation (`extract_clustering_info`'s times and flags, `curation_id` = max + 1
//! from 1), and CuratedClustering with one Unit per labelled cluster that has spikes
//! (spyglass-kilosort's reading rules).
//!
//! Divergences: spike times from `spike_times_sec*.npy` are stored as the seconds they
//! are (element-array-ephys divides them by the rate again); phy's `unsorted` label is
//! stored as 0.4's `n.a.` ("not available"), added to ClusterQualityLabel when needed;
//! the channel → electrode map is the identity on the folder's channel numbers (the
//! electrodes of a type made from the folder), where element-array-ephys only maps
//! Neuropixels SpikeGLX / Open Ephys channels.

use super::upstream::{self, SESSION, SUBJECT};
use crate::kit::prelude::*;
use spyglass_blob::{Array, Value as Blob};
use spyglass_kilosort::{KilosortFolder, ParamValue};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// The probe schema.
pub const PROBE_SCHEMA: &str = "probe";
/// The ephys schema.
pub const EPHYS_SCHEMA: &str = "ephys";
/// The pipeline's name.
pub const NAME: &str = "element_ephys_chronic";
/// `probe.ProbeType`.
pub const PROBE_TYPE: &str = "probe.ProbeType";
/// `probe.ProbeType.Electrode`.
pub const PROBE_TYPE_ELECTRODE: &str = "probe.ProbeType.Electrode";
/// `probe.Probe`.
pub const PROBE: &str = "probe.Probe";
/// `probe.ElectrodeConfig`.
pub const ELECTRODE_CONFIG: &str = "probe.ElectrodeConfig";
/// `probe.ElectrodeConfig.Electrode`.
pub const ELECTRODE_CONFIG_ELECTRODE: &str = "probe.ElectrodeConfig.Electrode";
/// `ephys.AcquisitionSoftware`.
pub const ACQ_SOFTWARE: &str = "ephys.AcquisitionSoftware";
/// `ephys.ProbeInsertion`.
pub const PROBE_INSERTION: &str = "ephys.ProbeInsertion";
/// `ephys.EphysRecording`.
pub const EPHYS_RECORDING: &str = "ephys.EphysRecording";
/// `ephys.EphysRecording.EphysFile`.
pub const EPHYS_FILE: &str = "ephys.EphysRecording.EphysFile";
/// `ephys.ClusteringMethod`.
pub const CLUSTERING_METHOD: &str = "ephys.ClusteringMethod";
/// `ephys.ClusteringParamSet`.
pub const PARAM_SET: &str = "ephys.ClusteringParamSet";
/// `ephys.ClusterQualityLabel`.
pub const QUALITY_LABEL: &str = "ephys.ClusterQualityLabel";
/// `ephys.ClusteringTask`.
pub const TASK: &str = "ephys.ClusteringTask";
/// `ephys.Clustering`.
pub const CLUSTERING: &str = "ephys.Clustering";
/// `ephys.Curation`.
pub const CURATION: &str = "ephys.Curation";
/// `ephys.CuratedClustering`.
pub const CURATED: &str = "ephys.CuratedClustering";
/// `ephys.CuratedClustering.Unit`.
pub const UNIT: &str = "ephys.CuratedClustering.Unit";

/// ClusteringMethod's contents.
pub const METHODS: [(&str, &str); 3] = [
    ("kilosort2", "kilosort2 clustering method"),
    ("kilosort2.5", "kilosort2.5 clustering method"),
    ("kilosort3", "kilosort3 clustering method"),
];

/// The element-array-ephys ephys_chronic pipeline.
pub struct ElementEphysChronic;

impl Pipeline for ElementEphysChronic {
    identity!(NAME, family "elements", requires [upstream::NAME]);
    provides! {
        defaults: Defaults::rows(CLUSTERING_METHOD, insert_defaults);
        commands: Command;
    }
    fn schemas(&self) -> Vec<Schema> {
        vec![
            Schema {
                name: PROBE_SCHEMA,
                tables: probe_specs(),
            },
            Schema {
                name: EPHYS_SCHEMA,
                tables: ephys_specs(),
            },
        ]
    }
    fn run(&self, sg: &Spyglass, _name: &str, m: &clap::ArgMatches) -> Result<()> {
        sg.require(NAME)?;
        let Command::IngestKilosort(a) = args::parse(m)?;
        let session_datetime = parse_datetime(&a.session_datetime)?;
        let input = IngestInput {
            folder: a.folder.clone(),
            subject: a.subject.clone(),
            session_datetime,
            insertion_number: a.insertion_number,
            probe: a.probe.clone(),
            probe_type: a.probe_type.clone(),
            acq_software: a.acq_software.clone(),
            clustering_method: a.clustering_method.clone(),
            paramset_idx: a.paramset_idx,
            recording_duration: a.recording_duration,
            root_dir: a.root_dir.clone(),
            curation_note: a.curation_note.clone(),
        };
        let out = ingest_kilosort(sg.db(), &input)?;
        println!(
            "CuratedClustering {}: {} units ({} spikes) from {}",
            key_text(&out.curation),
            out.units,
            out.spikes,
            a.folder.display()
        );
        Ok(())
    }
}

/// `spyglass elements …`.
#[derive(clap::Subcommand)]
enum Command {
    /// Ingest a Kilosort / phy output folder into element-array-ephys's ephys_chronic
    /// tables (ProbeInsertion … CuratedClustering.Unit).
    IngestKilosort(IngestArgs),
}

#[derive(clap::Args)]
struct IngestArgs {
    /// The Kilosort / phy output folder.
    folder: PathBuf,
    /// subject.Subject's `subject` (the row must exist).
    #[arg(long)]
    subject: String,
    /// session.Session's `session_datetime` (`YYYY-MM-DD HH:MM:SS`; inserted if new).
    #[arg(long)]
    session_datetime: String,
    /// ProbeInsertion's `insertion_number`.
    #[arg(long, default_value_t = 0)]
    insertion_number: u8,
    /// probe.Probe's `probe` (serial number).
    #[arg(long)]
    probe: String,
    /// probe.ProbeType's `probe_type` (made from the folder's channels if new).
    #[arg(long)]
    probe_type: String,
    /// AcquisitionSoftware's `acq_software` (added if new).
    #[arg(long, default_value = "SpikeGLX")]
    acq_software: String,
    /// ClusteringMethod's `clustering_method` (kilosort2, kilosort2.5, kilosort3).
    #[arg(long, default_value = "kilosort2.5")]
    clustering_method: String,
    /// ClusteringParamSet's `paramset_idx` (default: the set of equal params, else max + 1).
    #[arg(long)]
    paramset_idx: Option<i64>,
    /// EphysRecording's `recording_duration`, s (default: from params.py's `dat_path`).
    #[arg(long)]
    recording_duration: Option<f64>,
    /// The root data directory `clustering_output_dir` is relative to.
    #[arg(long)]
    root_dir: Option<PathBuf>,
    /// Curation's `curation_note`.
    #[arg(long, default_value = "")]
    curation_note: String,
}

fn parse_datetime(s: &str) -> Result<chrono::NaiveDateTime> {
    [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
    .ok_or_else(|| {
        Error::bad(
            "session_datetime",
            format!("`{s}` is not YYYY-MM-DD HH:MM:SS"),
        )
    })
}

fn probe_specs() -> Vec<TableSpec> {
    vec![
        TableSpec::new(
            "ProbeType",
            Tier::Lookup,
            "# Type of probe, with specific electrodes geometry defined
probe_type: varchar(32)  # e.g. neuropixels_1.0",
        )
        .part(
            "Electrode",
            "-> master
electrode: int       # electrode index, starts at 0
---
shank: int           # shank index, starts at 0, advance left to right
shank_col: int       # column index, starts at 0, advance left to right
shank_row: int       # row index, starts at 0.
x_coord=NULL: float  # (um) x coordinate of the electrode within the probe.
y_coord=NULL: float  # (um) y coordinate of the electrode within the probe.",
        ),
        TableSpec::new(
            "Probe",
            Tier::Lookup,
            "# Represent a physical probe with unique identification
probe: varchar(32)  # unique identifier for this model of probe (e.g. serial number)
---
-> ProbeType
probe_comment='' :  varchar(1000)",
        ),
        TableSpec::new(
            "ElectrodeConfig",
            Tier::Lookup,
            "# The electrode configuration setting on a given probe
electrode_config_hash: uuid
---
-> ProbeType
electrode_config_name: varchar(4000)  # user friendly name",
        )
        .part(
            "Electrode",
            "# Electrodes selected for recording
-> master
-> ProbeType.Electrode",
        ),
    ]
}

fn ephys_specs() -> Vec<TableSpec> {
    vec![
        TableSpec::new(
            "AcquisitionSoftware",
            Tier::Lookup,
            "# Software used for recording of neuropixels probes
acq_software: varchar(24)",
        ),
        TableSpec::new(
            "ProbeInsertion",
            Tier::Manual,
            "# Probe insertion chronically implanted into an animal.
-> subject.Subject
insertion_number: tinyint unsigned
---
-> probe.Probe
insertion_datetime=null: datetime",
        ),
        TableSpec::new(
            "InsertionLocation",
            Tier::Manual,
            "# Brain Location of a given probe insertion.
-> ProbeInsertion
---
-> lab.SkullReference
ap_location: decimal(6, 2) # (um) anterior-posterior; ref is 0; more anterior is more positive
ml_location: decimal(6, 2) # (um) medial axis; ref is 0 ; more right is more positive
depth:       decimal(6, 2) # (um) manipulator depth relative to surface of the brain (0); more ventral is more negative
theta=null:  decimal(5, 2) # (deg) - elevation - rotation about the ml-axis [0, 180] - w.r.t the z+ axis
phi=null:    decimal(5, 2) # (deg) - azimuth - rotation about the dv-axis [0, 360] - w.r.t the x+ axis
beta=null:   decimal(5, 2) # (deg) rotation about the shank of the probe [-180, 180] - clockwise is increasing in degree - 0 is the probe-front facing anterior",
        ),
        TableSpec::new(
            "EphysRecording",
            Tier::Imported,
            "# Ephys recording from a probe insertion for a given session.
-> session.Session
-> ProbeInsertion
---
-> probe.ElectrodeConfig
-> AcquisitionSoftware
sampling_rate: float # (Hz)
recording_datetime: datetime # datetime of the recording from this probe
recording_duration: float # (seconds) duration of the recording from this probe",
        )
        .part(
            "EphysFile",
            "# Paths of files of a given EphysRecording round.
-> master
file_path: varchar(255)  # filepath relative to root data directory",
        ),
        TableSpec::new(
            "LFP",
            Tier::Imported,
            "# Acquired local field potential (LFP) from a given Ephys recording.
-> EphysRecording
---
lfp_sampling_rate: float   # (Hz)
lfp_time_stamps: longblob  # (s) timestamps with respect to the start of the recording (recording_timestamp)
lfp_mean: longblob         # (uV) mean of LFP across electrodes - shape (time,)",
        )
        .part(
            "Electrode",
            "-> master
-> probe.ElectrodeConfig.Electrode
---
lfp: longblob               # (uV) recorded lfp at this electrode",
        ),
        TableSpec::new(
            "ClusteringMethod",
            Tier::Lookup,
            "# Method for clustering
clustering_method: varchar(16)
---
clustering_method_desc: varchar(1000)",
        ),
        TableSpec::new(
            "ClusteringParamSet",
            Tier::Lookup,
            "# Parameter set to be used in a clustering procedure
paramset_idx:  smallint
---
-> ClusteringMethod
paramset_desc: varchar(128)
param_set_hash: uuid
unique index (param_set_hash)
params: longblob  # dictionary of all applicable parameters",
        ),
        TableSpec::new(
            "ClusterQualityLabel",
            Tier::Lookup,
            "# Quality
cluster_quality_label:  varchar(100)  # cluster quality type - e.g. 'good', 'MUA', 'noise', etc.
---
cluster_quality_description:  varchar(4000)",
        ),
        TableSpec::new(
            "ClusteringTask",
            Tier::Manual,
            "# Manual table for defining a clustering task ready to be run
-> EphysRecording
-> ClusteringParamSet
---
clustering_output_dir='': varchar(255)  #  clustering output directory relative to the clustering root data directory
task_mode='load': enum('load', 'trigger')  # 'load': load computed analysis results, 'trigger': trigger computation",
        ),
        TableSpec::new(
            "Clustering",
            Tier::Imported,
            "# Clustering Procedure
-> ClusteringTask
---
clustering_time: datetime  # time of generation of this set of clustering results
package_version='': varchar(16)",
        ),
        TableSpec::new(
            "Curation",
            Tier::Manual,
            "# Manual curation procedure
-> Clustering
curation_id: int
---
curation_time: datetime             # time of generation of this set of curated clustering results
curation_output_dir: varchar(255)   # output directory of the curated results, relative to root data directory
quality_control: bool               # has this clustering result undergone quality control?
manual_curation: bool               # has manual curation been performed on this clustering result?
curation_note='': varchar(2000)",
        ),
        TableSpec::new(
            "CuratedClustering",
            Tier::Imported,
            "# Clustering results of a curation.
-> Curation",
        )
        .part(
            "Unit",
            "# Properties of a given unit from a round of clustering (and curation)
-> master
unit: int
---
-> probe.ElectrodeConfig.Electrode  # electrode with highest waveform amplitude for this unit
-> ClusterQualityLabel
spike_count: int         # how many spikes in this recording for this unit
spike_times: longblob    # (s) spike times of this unit, relative to the start of the EphysRecording
spike_sites : longblob   # array of electrode associated with each spike
spike_depths=null : longblob  # (um) array of depths associated with each spike, relative to the (0, 0) of the probe",
        ),
        TableSpec::new(
            "WaveformSet",
            Tier::Imported,
            "# A set of spike waveforms for units out of a given CuratedClustering
-> CuratedClustering",
        )
        .part(
            "PeakWaveform",
            "# Mean waveform across spikes for a given unit at its representative electrode
-> master
-> CuratedClustering.Unit
---
peak_electrode_waveform: longblob  # (uV) mean waveform for a given unit at its representative electrode",
        )
        .part(
            "Waveform",
            "# Spike waveforms and their mean across spikes for the given unit
-> master
-> CuratedClustering.Unit
-> probe.ElectrodeConfig.Electrode
---
waveform_mean: longblob   # (uV) mean waveform across spikes of the given unit
waveforms=null: longblob  # (uV) (spike x sample) waveforms of a sampling of spikes at the given electrode for the given unit",
        ),
        TableSpec::new(
            "QualityMetrics",
            Tier::Imported,
            "# Clusters and waveforms metrics
-> CuratedClustering",
        )
        .part(
            "Cluster",
            "# Cluster metrics for a particular unit
-> master
-> CuratedClustering.Unit
---
firing_rate=null: float # (Hz) firing rate for a unit
snr=null: float  # signal-to-noise ratio for a unit
presence_ratio=null: float  # fraction of time in which spikes are present
isi_violation=null: float   # rate of ISI violation as a fraction of overall rate
number_violation=null: int  # total number of ISI violations
amplitude_cutoff=null: float  # estimate of miss rate based on amplitude histogram
isolation_distance=null: float  # distance to nearest cluster in Mahalanobis space
l_ratio=null: float  #
d_prime=null: float  # Classification accuracy based on LDA
nn_hit_rate=null: float  # Fraction of neighbors for target cluster that are also in target cluster
nn_miss_rate=null: float # Fraction of neighbors outside target cluster that are in target cluster
silhouette_score=null: float  # Standard metric for cluster overlap
max_drift=null: float  # Maximum change in spike depth throughout recording
cumulative_drift=null: float  # Cumulative change in spike depth throughout recording
contamination_rate=null: float #",
        )
        .part(
            "Waveform",
            "# Waveform metrics for a particular unit
-> master
-> CuratedClustering.Unit
---
amplitude: float  # (uV) absolute difference between waveform peak and trough
duration: float  # (ms) time between waveform peak and trough
halfwidth=null: float  # (ms) spike width at half max amplitude
pt_ratio=null: float  # absolute amplitude of peak divided by absolute amplitude of trough relative to 0
repolarization_slope=null: float  # the repolarization slope was defined by fitting a regression line to the first 30us from trough to peak
recovery_slope=null: float  # the recovery slope was defined by fitting a regression line to the first 30us from peak to tail
spread=null: float  # (um) the range with amplitude above 12-percent of the maximum amplitude along the probe
velocity_above=null: float  # (s/m) inverse velocity of waveform propagation from the soma toward the top of the probe
velocity_below=null: float  # (s/m) inverse velocity of waveform propagation from the soma toward the bottom of the probe",
        ),
    ]
}

fn skip() -> InsertOptions {
    InsertOptions {
        skip_duplicates: true,
        ..Default::default()
    }
}

fn direct() -> InsertOptions {
    InsertOptions {
        allow_direct_insert: true,
        ..Default::default()
    }
}

/// The Lookup contents element-array-ephys inserts at declaration (AcquisitionSoftware,
/// ClusteringMethod, ClusterQualityLabel), skipping present rows.
pub fn insert_defaults(db: &Db) -> Result<usize> {
    crate::pipelines::declare(db, &[NAME])?;
    let mut n = upstream::insert_defaults(db)?;
    let acq: Vec<Row> = ["SpikeGLX", "Open Ephys"]
        .iter()
        .map(|s| Row::from_pairs([("acq_software", *s)]))
        .collect();
    n += db.insert(ACQ_SOFTWARE, &acq, skip())? as usize;
    let methods: Vec<Row> = METHODS
        .iter()
        .map(|(m, d)| Row::from_pairs([("clustering_method", *m), ("clustering_method_desc", *d)]))
        .collect();
    n += db.insert(CLUSTERING_METHOD, &methods, skip())? as usize;
    use spyglass_kilosort::QualityLabel as Q;
    let labels: Vec<Row> = [Q::Good, Q::Ok, Q::Mua, Q::Noise]
        .iter()
        .map(|l| label_row(*l))
        .collect();
    n += db.insert(QUALITY_LABEL, &labels, skip())? as usize;
    Ok(n)
}

fn label_row(l: spyglass_kilosort::QualityLabel) -> Row {
    Row::from_pairs([
        ("cluster_quality_label", l.as_str()),
        ("cluster_quality_description", l.description()),
    ])
}

/// Python's `repr` of a string (single quotes unless the text holds one and no double).
fn py_repr_str(s: &str) -> String {
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// element-interface's `dict_to_uuid`: MD5 over `str(key)` then `str(value)` of the
/// items sorted by key (keys here are all text or all integers, as Python sorts them).
pub fn dict_to_uuid(items: &[(String, String)]) -> Uuid {
    use md5::Digest;
    let mut v: Vec<&(String, String)> = items.iter().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    let mut h = md5::Md5::new();
    for (k, val) in v {
        h.update(k.as_bytes());
        h.update(val.as_bytes());
    }
    Uuid::from_bytes(h.finalize().into())
}

fn param_str(v: &ParamValue) -> String {
    match v {
        ParamValue::Int(i) => i.to_string(),
        ParamValue::Float(f) => spyglass_db::value::python_float_repr(*f),
        ParamValue::Text(t) => t.clone(),
    }
}

fn param_blob(v: &ParamValue) -> Blob {
    match v {
        ParamValue::Int(i) => Blob::Int(i128::from(*i)),
        ParamValue::Float(f) => Blob::Float(*f),
        ParamValue::Text(t) => Blob::Str(t.clone()),
    }
}

/// What [`ingest_kilosort`] takes.
#[derive(Debug, Clone)]
pub struct IngestInput {
    /// The Kilosort / phy folder.
    pub folder: PathBuf,
    /// The subject (must exist).
    pub subject: String,
    /// The session (inserted if new).
    pub session_datetime: chrono::NaiveDateTime,
    /// The insertion number.
    pub insertion_number: u8,
    /// The probe's serial number.
    pub probe: String,
    /// The probe type.
    pub probe_type: String,
    /// The acquisition software.
    pub acq_software: String,
    /// The clustering method.
    pub clustering_method: String,
    /// The parameter set index (None: the set with equal params, else max + 1).
    pub paramset_idx: Option<i64>,
    /// The recording duration, s (None: from params.py's `dat_path`).
    pub recording_duration: Option<f64>,
    /// The root directory `clustering_output_dir` is stored relative to.
    pub root_dir: Option<PathBuf>,
    /// Curation's note.
    pub curation_note: String,
}

/// The key of the CuratedClustering made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurationKey {
    /// Subject.
    pub subject: String,
    /// Session.
    pub session_datetime: chrono::NaiveDateTime,
    /// Insertion.
    pub insertion_number: u8,
    /// Parameter set.
    pub paramset_idx: i64,
    /// Curation.
    pub curation_id: i64,
}

/// What [`ingest_kilosort`] made.
#[derive(Debug, Clone)]
pub struct IngestOutput {
    /// The CuratedClustering key.
    pub curation: CurationKey,
    /// Units inserted.
    pub units: usize,
    /// Spikes in them.
    pub spikes: usize,
}

fn kilo(e: spyglass_kilosort::KilosortError) -> Error {
    Error::bad("Kilosort folder", e.to_string())
}

fn exists(db: &Db, table: &str, key: &Row) -> Result<bool> {
    let q = db.table(table)?.restrict(spyglass_db::Cond::from(key))?;
    Ok(db.exists(&q)?)
}

fn fetch(db: &Db, table: &str, key: &Row) -> Result<Vec<Row>> {
    let q = db.table(table)?.restrict(spyglass_db::Cond::from(key))?;
    Ok(db.fetch(&q)?)
}

fn int_of(r: &Row, col: &str) -> Option<i64> {
    match r.get(col) {
        Some(Value::Int(i)) => Some(*i),
        Some(Value::UInt(u)) => i64::try_from(*u).ok(),
        _ => None,
    }
}

/// The recording duration from `dat_path`, `n_channels_dat`, `dtype`, `offset`.
fn duration_from_dat(ks: &KilosortFolder, rate: f64) -> Option<f64> {
    let dat = ks.params.get("dat_path")?.unquoted()?.to_string();
    let path = if Path::new(&dat).is_absolute() {
        PathBuf::from(&dat)
    } else {
        ks.dir.join(&dat)
    };
    let len = std::fs::metadata(&path).ok()?.len() as f64;
    let nch = ks.params.get("n_channels_dat")?.as_f64()?;
    let size = match ks
        .params
        .get("dtype")?
        .unquoted()?
        .trim_start_matches(['<', '>', '='])
    {
        "int16" | "i2" | "uint16" | "u2" => 2.0,
        "float32" | "f4" | "int32" | "i4" => 4.0,
        "float64" | "f8" => 8.0,
        _ => return None,
    };
    let offset = ks
        .params
        .get("offset")
        .and_then(ParamValue::as_f64)
        .unwrap_or(0.0);
    Some(((len - offset) / (nch * size)).floor() / rate)
}

/// Ingests a Kilosort / phy folder into the ephys_chronic tables (module doc), in one
/// transaction.
pub fn ingest_kilosort(db: &Db, input: &IngestInput) -> Result<IngestOutput> {
    crate::pipelines::declare(db, &[NAME])?;
    insert_defaults(db)?;
    let ks = KilosortFolder::open(&input.folder).map_err(kilo)?;
    let rate = ks.sample_rate(None).map_err(kilo)?;
    let (_, units) = ks.units(rate).map_err(kilo)?;
    let info = ks.clustering_info().map_err(kilo)?;
    let duration = match input
        .recording_duration
        .or_else(|| duration_from_dat(&ks, rate))
    {
        Some(d) if d.is_finite() && d >= 0.0 => d,
        _ => {
            return Err(Error::bad(
                "recording_duration",
                format!(
                "{}: params.py's dat_path is not a readable raw file; give --recording-duration",
                input.folder.display()
            ),
            ))
        }
    };
    if !METHODS.iter().any(|(m, _)| *m == input.clustering_method)
        && !exists(
            db,
            CLUSTERING_METHOD,
            &Row::from_pairs([("clustering_method", input.clustering_method.as_str())]),
        )?
    {
        return Err(Error::bad(
            "clustering_method",
            format!(
                "`{}` is not in {CLUSTERING_METHOD} (kilosort2, kilosort2.5, kilosort3)",
                input.clustering_method
            ),
        ));
    }
    let subject = Row::from_pairs([("subject", input.subject.as_str())]);
    if !exists(db, SUBJECT, &subject)? {
        return Err(Error::missing(
            SUBJECT,
            format!("subject={}", input.subject),
        ));
    }
    let output_dir = match &input.root_dir {
        Some(root) => input
            .folder
            .strip_prefix(root)
            .map_err(|_| {
                Error::bad(
                    "root_dir",
                    format!(
                        "{} is not inside {}",
                        input.folder.display(),
                        root.display()
                    ),
                )
            })?
            .to_path_buf(),
        None => input.folder.clone(),
    };
    let output_dir = output_dir.to_string_lossy().to_string();

    // the channels: electrode = recording channel number
    let channels: Vec<i64> = ks.channel_map.clone();

    crate::transaction(db, || {
        // session
        let session = Row::from_pairs([
            ("subject", Value::from(input.subject.as_str())),
            ("session_datetime", Value::from(input.session_datetime)),
        ]);
        db.insert(SESSION, std::slice::from_ref(&session), skip())?;

        // probe type and electrodes
        let ptype = Row::from_pairs([("probe_type", input.probe_type.as_str())]);
        let known: Vec<i64> = fetch(db, PROBE_TYPE_ELECTRODE, &ptype)?
            .iter()
            .filter_map(|r| int_of(r, "electrode"))
            .collect();
        if known.is_empty() {
            db.insert(PROBE_TYPE, std::slice::from_ref(&ptype), skip())?;
            let rank = |vals: Vec<f64>| -> Vec<i64> {
                let mut u = vals.clone();
                u.sort_by(f64::total_cmp);
                u.dedup();
                vals.iter()
                    .map(|v| u.iter().position(|x| x == v).unwrap_or(0) as i64)
                    .collect()
            };
            let cols = rank(ks.channel_positions.iter().map(|p| p[0]).collect());
            let rows_ = rank(ks.channel_positions.iter().map(|p| p[1]).collect());
            let rows: Vec<Row> = channels
                .iter()
                .enumerate()
                .map(|(i, &e)| {
                    Row::from_pairs([
                        ("probe_type", Value::from(input.probe_type.as_str())),
                        ("electrode", Value::from(e)),
                        ("shank", Value::from(0i64)),
                        ("shank_col", Value::from(cols[i])),
                        ("shank_row", Value::from(rows_[i])),
                        ("x_coord", Value::from(ks.channel_positions[i][0])),
                        ("y_coord", Value::from(ks.channel_positions[i][1])),
                    ])
                })
                .collect();
            db.insert(PROBE_TYPE_ELECTRODE, &rows, InsertOptions::default())?;
        } else if let Some(c) = channels.iter().find(|c| !known.contains(c)) {
            return Err(Error::bad(
                PROBE_TYPE_ELECTRODE,
                format!(
                    "probe type `{}` has no electrode {c} (channel_map of {})",
                    input.probe_type,
                    input.folder.display()
                ),
            ));
        }

        // probe and insertion
        let probe = Row::from_pairs([("probe", input.probe.as_str())]);
        match fetch(db, PROBE, &probe)?.first() {
            Some(r) => {
                if r.get("probe_type") != Some(&Value::from(input.probe_type.as_str())) {
                    return Err(Error::conflict(
                        format!("{PROBE} `{}`", input.probe),
                        format!("is of another type than `{}`", input.probe_type),
                    ));
                }
            }
            None => {
                let row = Row::from_pairs([
                    ("probe", input.probe.as_str()),
                    ("probe_type", input.probe_type.as_str()),
                ]);
                db.insert(PROBE, &[row], InsertOptions::default())?;
            }
        }
        let insertion = Row::from_pairs([
            ("subject", Value::from(input.subject.as_str())),
            (
                "insertion_number",
                Value::from(i64::from(input.insertion_number)),
            ),
        ]);
        match fetch(db, PROBE_INSERTION, &insertion)?.first() {
            Some(r) if r.get("probe") != Some(&Value::from(input.probe.as_str())) => {
                return Err(Error::conflict(
                    format!("{PROBE_INSERTION} {}", insertion.to_json()),
                    format!("holds another probe than `{}`", input.probe),
                ))
            }
            Some(_) => {}
            None => {
                let mut pairs: Vec<(String, Value)> = insertion
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect();
                pairs.push(("probe".into(), Value::from(input.probe.as_str())));
                db.insert(
                    PROBE_INSERTION,
                    &[Row::from_pairs(pairs)],
                    InsertOptions::default(),
                )?;
            }
        }

        // electrode configuration (generate_electrode_config)
        let items: Vec<(String, String)> = channels
            .iter()
            .map(|e| {
                (
                    e.to_string(),
                    format!(
                        "{{'probe_type': {}, 'electrode': {e}}}",
                        py_repr_str(&input.probe_type)
                    ),
                )
            })
            .collect();
        let hash = dict_to_uuid_int_keys(&items);
        let mut sorted = channels.clone();
        sorted.sort_unstable();
        sorted.dedup();
        let mut ranges = vec![];
        let mut start = 0;
        for i in 1..=sorted.len() {
            if i == sorted.len() || sorted[i] - sorted[i - 1] > 1 {
                ranges.push(format!("{}-{}", sorted[start], sorted[i - 1]));
                start = i;
            }
        }
        let config = Row::from_pairs([("electrode_config_hash", Value::Uuid(hash))]);
        if !exists(db, ELECTRODE_CONFIG, &config)? {
            let row = Row::from_pairs([
                ("electrode_config_hash", Value::Uuid(hash)),
                ("probe_type", Value::from(input.probe_type.as_str())),
                ("electrode_config_name", Value::from(ranges.join("; "))),
            ]);
            db.insert(ELECTRODE_CONFIG, &[row], InsertOptions::default())?;
            let rows: Vec<Row> = sorted
                .iter()
                .map(|&e| {
                    Row::from_pairs([
                        ("electrode_config_hash", Value::Uuid(hash)),
                        ("probe_type", Value::from(input.probe_type.as_str())),
                        ("electrode", Value::from(e)),
                    ])
                })
                .collect();
            db.insert(ELECTRODE_CONFIG_ELECTRODE, &rows, InsertOptions::default())?;
        }

        // recording
        let acq = Row::from_pairs([("acq_software", input.acq_software.as_str())]);
        db.insert(ACQ_SOFTWARE, std::slice::from_ref(&acq), skip())?;
        let rec_key: Vec<(String, Value)> = vec![
            ("subject".into(), Value::from(input.subject.as_str())),
            (
                "session_datetime".into(),
                Value::from(input.session_datetime),
            ),
            (
                "insertion_number".into(),
                Value::from(i64::from(input.insertion_number)),
            ),
        ];
        let rec_row = Row::from_pairs(rec_key.clone());
        if let Some(r) = fetch(db, EPHYS_RECORDING, &rec_row)?.first() {
            if r.get("electrode_config_hash") != Some(&Value::Uuid(hash)) {
                return Err(Error::conflict(
                    format!("{EPHYS_RECORDING} {}", rec_row.to_json()),
                    "was recorded with another electrode configuration",
                ));
            }
        } else {
            let mut pairs = rec_key.clone();
            pairs.extend([
                ("electrode_config_hash".to_string(), Value::Uuid(hash)),
                (
                    "acq_software".to_string(),
                    Value::from(input.acq_software.as_str()),
                ),
                ("sampling_rate".to_string(), Value::from(rate)),
                (
                    "recording_datetime".to_string(),
                    Value::from(input.session_datetime),
                ),
                ("recording_duration".to_string(), Value::from(duration)),
            ]);
            db.insert(EPHYS_RECORDING, &[Row::from_pairs(pairs)], direct())?;
        }

        // parameter set (insert_new_params)
        let mut hash_items: Vec<(String, String)> = ks
            .params
            .entries
            .iter()
            .map(|(k, v)| (k.clone(), param_str(v)))
            .collect();
        hash_items.push(("clustering_method".into(), input.clustering_method.clone()));
        let param_hash = dict_to_uuid(&hash_items);
        let by_hash = fetch(
            db,
            PARAM_SET,
            &Row::from_pairs([("param_set_hash", Value::Uuid(param_hash))]),
        )?;
        let paramset_idx = match (
            by_hash.first().and_then(|r| int_of(r, "paramset_idx")),
            input.paramset_idx,
        ) {
            (Some(existing), Some(want)) if existing != want => {
                return Err(Error::conflict(
                    PARAM_SET,
                    format!("the param-set already exists with paramset_idx {existing}"),
                ))
            }
            (Some(existing), _) => existing,
            (None, want) => {
                let idx = match want {
                    Some(i) => i,
                    None => {
                        let all = db.fetch(&db.table(PARAM_SET)?)?;
                        all.iter()
                            .filter_map(|r| int_of(r, "paramset_idx"))
                            .max()
                            .unwrap_or(0)
                            + 1
                    }
                };
                let dict = Blob::Dict(
                    ks.params
                        .entries
                        .iter()
                        .map(|(k, v)| (Blob::Str(k.clone()), param_blob(v)))
                        .collect(),
                );
                let row = Row::from_pairs([
                    ("paramset_idx", Value::from(idx)),
                    (
                        "clustering_method",
                        Value::from(input.clustering_method.as_str()),
                    ),
                    (
                        "paramset_desc",
                        Value::from(
                            format!("params.py of {}", input.folder.display())
                                .chars()
                                .take(128)
                                .collect::<String>(),
                        ),
                    ),
                    ("param_set_hash", Value::Uuid(param_hash)),
                    ("params", Value::from(dict)),
                ]);
                db.insert(PARAM_SET, &[row], InsertOptions::default())?;
                idx
            }
        };

        // task, clustering, curation
        let mut task_key = rec_key.clone();
        task_key.push(("paramset_idx".into(), Value::from(paramset_idx)));
        let task_row = Row::from_pairs(task_key.clone());
        if !exists(db, TASK, &task_row)? {
            let mut pairs = task_key.clone();
            pairs.push((
                "clustering_output_dir".into(),
                Value::from(output_dir.as_str()),
            ));
            pairs.push(("task_mode".into(), Value::from("load")));
            db.insert(TASK, &[Row::from_pairs(pairs)], InsertOptions::default())?;
        }
        if !exists(db, CLUSTERING, &task_row)? {
            let mut pairs = task_key.clone();
            pairs.push(("clustering_time".into(), Value::from(info.creation_time)));
            pairs.push(("package_version".into(), Value::from("")));
            db.insert(CLUSTERING, &[Row::from_pairs(pairs)], direct())?;
        }
        let curation_id = fetch(db, CURATION, &task_row)?
            .iter()
            .filter_map(|r| int_of(r, "curation_id"))
            .max()
            .unwrap_or(0)
            + 1;
        let mut cur_key = task_key.clone();
        cur_key.push(("curation_id".into(), Value::from(curation_id)));
        let mut pairs = cur_key.clone();
        pairs.extend([
            ("curation_time".to_string(), Value::from(info.creation_time)),
            (
                "curation_output_dir".to_string(),
                Value::from(output_dir.as_str()),
            ),
            (
                "quality_control".to_string(),
                Value::from(info.quality_control),
            ),
            (
                "manual_curation".to_string(),
                Value::from(info.manual_curation),
            ),
            (
                "curation_note".to_string(),
                Value::from(input.curation_note.as_str()),
            ),
        ]);
        db.insert(
            CURATION,
            &[Row::from_pairs(pairs)],
            InsertOptions::default(),
        )?;

        // curated clustering and units
        if units
            .iter()
            .any(|u| u.label == spyglass_kilosort::QualityLabel::NotAvailable)
        {
            db.insert(
                QUALITY_LABEL,
                &[label_row(spyglass_kilosort::QualityLabel::NotAvailable)],
                skip(),
            )?;
        }
        db.insert(CURATED, &[Row::from_pairs(cur_key.clone())], direct())?;
        let mut spikes = 0;
        let rows: Vec<Row> = units
            .iter()
            .map(|u| {
                spikes += u.spike_times.len();
                let mut pairs = cur_key.clone();
                pairs.extend([
                    ("unit".to_string(), Value::from(u.cluster_id)),
                    ("electrode_config_hash".to_string(), Value::Uuid(hash)),
                    (
                        "probe_type".to_string(),
                        Value::from(input.probe_type.as_str()),
                    ),
                    ("electrode".to_string(), Value::from(u.peak_channel)),
                    (
                        "cluster_quality_label".to_string(),
                        Value::from(u.label.as_str()),
                    ),
                    ("spike_count".to_string(), Value::from(u.spike_times.len())),
                    (
                        "spike_times".to_string(),
                        Value::from(Blob::Array(Array::vector(u.spike_times.clone()))),
                    ),
                    (
                        "spike_sites".to_string(),
                        Value::from(Blob::Array(Array::vector(u.spike_sites.clone()))),
                    ),
                    (
                        "spike_depths".to_string(),
                        Value::from(Blob::Array(Array::vector(u.spike_depths.clone()))),
                    ),
                ]);
                Row::from_pairs(pairs)
            })
            .collect();
        db.insert(UNIT, &rows, direct())?;
        Ok(IngestOutput {
            curation: CurationKey {
                subject: input.subject.clone(),
                session_datetime: input.session_datetime,
                insertion_number: input.insertion_number,
                paramset_idx,
                curation_id,
            },
            units: rows.len(),
            spikes,
        })
    })
}

/// `dict_to_uuid` of a dict with integer keys (sorted as integers).
fn dict_to_uuid_int_keys(items: &[(String, String)]) -> Uuid {
    use md5::Digest;
    let mut v: Vec<(i64, &String, &String)> = items
        .iter()
        .map(|(k, val)| (k.parse::<i64>().unwrap_or(i64::MAX), k, val))
        .collect();
    v.sort_by_key(|x| x.0);
    let mut h = md5::Md5::new();
    for (_, k, val) in v {
        h.update(k.as_bytes());
        h.update(val.as_bytes());
    }
    Uuid::from_bytes(h.finalize().into())
}
