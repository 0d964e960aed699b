//! What ingestion reads from an NWB file, gathered once into plain data: session
//! metadata, subject, novela devices, electrode groups and electrodes, every
//! ElectricalSeries (found by type, each validated so that pipelines can read it)
//! with the primary raw series chosen among them, epochs, tasks, position (every
//! Position container), compass, DIO, sensors, sample counts, videos, associated
//! files and the units table; and the objects ingestion does not use, to report.
//! Finding objects follows Spyglass (name filters are case- and space-insensitive);
//! what is absent stays empty and is reported by the table that needed it.

use crate::error::{Error, Result};
use spyglass_nwb::{
    AssociatedFiles, CameraDevice, DataAcqDevice, DynamicTable, ElectrodeGroup, Epoch,
    FileMetadata, ImageSeriesInfo, NwbFile, Probe, ProcessingModule, Subject, Task, TimeSeries,
    Timing,
};
use std::path::{Path, PathBuf};

/// Names Spyglass accepts for the raw ElectricalSeries (compared case- and space-insensitively).
pub const RAW_SERIES_NAMES: [&str; 4] =
    ["e-series", "electricalseries", "ephys", "electrophysiology"];

/// Lower case without spaces, as Spyglass compares object names.
pub fn sanitize(name: &str) -> String {
    name.to_lowercase().replace(' ', "")
}

/// The raw ElectricalSeries.
#[derive(Debug, Clone)]
pub struct RawSeries {
    /// Series description (neither data nor timestamps read).
    pub series: TimeSeries,
}

/// Where an ElectricalSeries sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesPlace {
    /// Directly in `/acquisition`.
    Acquisition,
    /// In an `LFP` container (acquisition or a processing module).
    LfpContainer,
    /// In another container (FilteredEphys, ...) or a processing module.
    Other,
}

/// One ElectricalSeries of the file, validated.
#[derive(Debug, Clone)]
pub struct EphysSeries {
    /// Series description (data not read).
    pub series: TimeSeries,
    /// Where it sits.
    pub place: SeriesPlace,
    /// Electrode id of each channel.
    pub electrode_ids: Vec<i64>,
    /// Stored rate, or the rate estimated from its first timestamps.
    pub rate: f64,
}

/// A series with its timestamps (position, compass, video).
#[derive(Debug, Clone)]
pub struct TimedSeries {
    /// Series description.
    pub series: TimeSeries,
    /// Stored timestamps, or those implied by `starting_time` and `rate`.
    pub timestamps: Vec<f64>,
}

/// One DIO event series.
#[derive(Debug, Clone)]
pub struct DioSeries {
    /// Series name.
    pub name: String,
    /// Its object id.
    pub object_id: String,
    /// First and last timestamp (None when it has no samples).
    pub range: Option<(f64, f64)>,
}

/// The analog sensor series.
#[derive(Debug, Clone)]
pub struct AnalogSeries {
    /// Its object id.
    pub object_id: String,
    /// Its description (column names separated by spaces).
    pub description: String,
    /// Number of data columns.
    pub n_columns: usize,
}

/// A video ImageSeries with its frame times.
#[derive(Debug, Clone)]
pub struct Video {
    /// The series.
    pub info: ImageSeriesInfo,
    /// Frame times (empty when the series has no timing).
    pub timestamps: Vec<f64>,
}

/// Everything ingestion needs from one file.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file read (the `_` copy).
    pub path: PathBuf,
    /// Session metadata.
    pub meta: FileMetadata,
    /// `/general/subject`.
    pub subject: Option<Subject>,
    /// ndx-franklab-novela DataAcqDevices.
    pub data_acq_devices: Vec<DataAcqDevice>,
    /// ndx-franklab-novela CameraDevices.
    pub cameras: Vec<CameraDevice>,
    /// ndx-franklab-novela Probes.
    pub probes: Vec<Probe>,
    /// Electrode groups.
    pub electrode_groups: Vec<ElectrodeGroup>,
    /// The electrodes table.
    pub electrodes: Option<DynamicTable>,
    /// The raw ElectricalSeries (Spyglass's Raw).
    pub raw: Option<RawSeries>,
    /// Every ElectricalSeries of the file (the raw one included).
    pub ephys: Vec<EphysSeries>,
    /// Object id of the units table.
    pub units: Option<String>,
    /// Objects of the file ingestion does not use (path and type).
    pub unused: Vec<(String, String)>,
    /// Object id of the `sample_count` interface.
    pub sample_count: Option<String>,
    /// Series of the `behavioral_events` BehavioralEvents.
    pub dio: Vec<DioSeries>,
    /// The `analog` sensor series.
    pub analog: Option<AnalogSeries>,
    /// Epochs.
    pub epochs: Vec<Epoch>,
    /// Task rows of the `tasks` module.
    pub tasks: Vec<Task>,
    /// ndx-pose PoseEstimation containers, with their series' data.
    pub pose: Vec<spyglass_nwb::PoseEstimation>,
    /// SpatialSeries of every Position object (None when there is none).
    pub position: Option<Vec<TimedSeries>>,
    /// Paths of the Position objects.
    pub position_containers: Vec<String>,
    /// SpatialSeries of CompassDirection objects.
    pub compass: Vec<TimedSeries>,
    /// ImageSeries.
    pub videos: Vec<Video>,
    /// AssociatedFiles of the `associated_files` module (None when the module is absent).
    pub associated_files: Option<Vec<AssociatedFiles>>,
}

fn bad(path: &Path, message: impl Into<String>) -> Error {
    Error::BadFile {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

impl Source {
    /// Reads everything from `nwb`; `raw_choice` names the raw series when the
    /// config chose one (object id, name or path).
    pub fn read(nwb: &NwbFile, raw_choice: Option<&str>) -> Result<Source> {
        let path = nwb.path().to_path_buf();
        let meta = nwb.metadata()?;
        let modules = nwb.processing_modules()?;
        let ephys = find_ephys(nwb, &modules)?;
        let raw = choose_raw(nwb, &ephys, raw_choice)?;
        let (position, position_containers) = find_position(nwb, &modules)?;
        let compass = find_typed_series(nwb, &modules, "CompassDirection")?;
        let videos = nwb
            .image_series()?
            .into_iter()
            .map(|info| {
                let timestamps = match info.series.timing {
                    Timing::Missing => vec![],
                    _ => nwb.timestamps(&info.series.path)?,
                };
                Ok(Video { info, timestamps })
            })
            .collect::<Result<Vec<_>>>()?;
        let has_af = modules
            .iter()
            .any(|m| m.name == "associated_files" || m.name == "associated files");
        let associated_files = if has_af {
            Some(
                nwb.associated_files()?
                    .into_iter()
                    .filter(|a| {
                        a.path.starts_with("/processing/associated_files/")
                            || a.path.starts_with("/processing/associated files/")
                    })
                    .collect(),
            )
        } else {
            None
        };
        let units = nwb.units()?.map(|t| t.object_id);
        let unused = unused_objects(nwb, &modules, &ephys)?;
        Ok(Source {
            ephys,
            units,
            unused,
            position_containers,
            subject: nwb.subject()?,
            data_acq_devices: nwb.data_acq_devices()?,
            cameras: nwb.camera_devices()?,
            probes: nwb.probes()?,
            electrode_groups: nwb.electrode_groups()?,
            electrodes: nwb.electrodes()?,
            raw,
            sample_count: modules
                .iter()
                .flat_map(|m| &m.interfaces)
                .find(|i| i.name == "sample_count")
                .map(|i| i.object_id.clone()),
            dio: find_dio(nwb, &modules)?,
            analog: find_analog(&modules),
            epochs: nwb.epochs()?,
            tasks: nwb.tasks()?,
            pose: nwb.pose_estimations()?,
            position,
            compass,
            videos,
            associated_files,
            meta,
            path,
        })
    }
}

/// Every ElectricalSeries: in acquisition (directly or inside containers such as
/// LFP and FilteredEphys) and in processing modules; each validated so that every
/// later read succeeds (NaN timestamps, scalar data, zero channels, region rows
/// outside the electrodes table, undecodable HDF5 filters are errors here).
fn find_ephys(nwb: &NwbFile, modules: &[ProcessingModule]) -> Result<Vec<EphysSeries>> {
    let is_es = |t: &str| t.ends_with("ElectricalSeries");
    let mut found: Vec<(String, SeriesPlace)> = vec![];
    for o in nwb.acquisition()? {
        if is_es(&o.neurodata_type) {
            found.push((o.path.clone(), SeriesPlace::Acquisition));
        } else if o.kind == spyglass_nwb::ObjectKind::Group {
            let place = if o.neurodata_type == "LFP" {
                SeriesPlace::LfpContainer
            } else {
                SeriesPlace::Other
            };
            for c in nwb.children(&o.path)? {
                if is_es(&c.neurodata_type) {
                    found.push((c.path.clone(), place));
                }
            }
        }
    }
    for i in modules.iter().flat_map(|m| &m.interfaces) {
        let place = if i.neurodata_type == "LFP" {
            SeriesPlace::LfpContainer
        } else {
            SeriesPlace::Other
        };
        for s in i.series.iter().filter(|s| is_es(&s.neurodata_type)) {
            found.push((s.path.clone(), place));
        }
    }
    let mut out = Vec::with_capacity(found.len());
    for (p, place) in found {
        nwb.check_electrical_series(&p)?;
        let series = nwb.electrical_series(&p)?;
        let electrode_ids = nwb.channel_electrode_ids(&series)?;
        let rate = match series.timing {
            Timing::Rate { rate, .. } => rate,
            _ => {
                let reader = nwb.raw_reader(&p)?;
                let n = reader.num_samples().min(1_000_000);
                let ts = reader.timestamps(0..n)?;
                if ts.len() < 2 {
                    0.0
                } else {
                    spyglass_dsp::estimate_sampling_rate(&ts, 1.5).map_err(|e| {
                        bad(
                            nwb.path(),
                            format!("`{p}`: cannot estimate its sampling rate: {e}"),
                        )
                    })?
                }
            }
        };
        out.push(EphysSeries {
            series,
            place,
            electrode_ids,
            rate,
        });
    }
    Ok(out)
}

/// The raw series: the config's choice, else the first acquisition series Spyglass
/// would pick by name, else the highest-rate acquisition series (outside LFP
/// containers) above the LFP range, the one covering most electrodes among equals.
fn choose_raw(
    nwb: &NwbFile,
    ephys: &[EphysSeries],
    choice: Option<&str>,
) -> Result<Option<RawSeries>> {
    let pick = |s: &EphysSeries| -> Result<Option<RawSeries>> {
        Ok(Some(RawSeries {
            series: s.series.clone(),
        }))
    };
    if let Some(c) = choice {
        let c = c.trim();
        let hit = ephys.iter().find(|s| {
            s.series.object_id == c
                || s.series.path == c
                || s.series.path.trim_start_matches('/') == c.trim_start_matches('/')
                || s.series.name == c
        });
        return match hit {
            Some(s) => pick(s),
            None => Err(bad(
                nwb.path(),
                format!(
                    "the config's Raw entry names series `{c}`, which is not an ElectricalSeries of the file (it has: {})",
                    ephys.iter().map(|s| s.series.path.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )),
        };
    }
    let wanted: Vec<String> = RAW_SERIES_NAMES.iter().map(|n| sanitize(n)).collect();
    let in_acq = |s: &&EphysSeries| s.series.path.starts_with("/acquisition/");
    if let Some(s) = ephys
        .iter()
        .filter(in_acq)
        .find(|s| wanted.contains(&sanitize(&s.series.name)))
    {
        return pick(s);
    }
    // the first (in file order) of the highest-rate, most-electrode series
    let best = ephys
        .iter()
        .filter(|s| s.place == SeriesPlace::Acquisition)
        .filter(|s| s.rate > crate::lfp::imported::MAX_LFP_RATE)
        .fold(None::<&EphysSeries>, |best, s| match best {
            Some(b) if (b.rate, b.electrode_ids.len()) >= (s.rate, s.electrode_ids.len()) => {
                Some(b)
            }
            _ => Some(s),
        });
    match best {
        Some(s) => pick(s),
        None => Ok(None),
    }
}

/// Objects under acquisition, processing, intervals, stimulus and analysis that no
/// ingestion step reads, each `(path, type)`.
fn unused_objects(
    nwb: &NwbFile,
    modules: &[ProcessingModule],
    ephys: &[EphysSeries],
) -> Result<Vec<(String, String)>> {
    let used_types = [
        "Position",
        "CompassDirection",
        "LFP",
        "FilteredEphys",
        "AssociatedFiles",
        "ImageSeries",
        "OpticalSeries",
        "PoseEstimation",
        "Skeletons",
    ];
    let mut out = vec![];
    let series_paths: Vec<&str> = ephys.iter().map(|s| s.series.path.as_str()).collect();
    for o in nwb.acquisition()? {
        let used = series_paths.contains(&o.path.as_str())
            || used_types.contains(&o.neurodata_type.as_str())
            || o.neurodata_type.contains("ImageSeries");
        if !used {
            out.push((o.path.clone(), o.neurodata_type.clone()));
        }
    }
    for m in modules {
        for i in &m.interfaces {
            let name = sanitize(&i.name);
            let used = used_types.contains(&i.neurodata_type.as_str())
                || i.neurodata_type.contains("ImageSeries")
                || (i.neurodata_type == "BehavioralEvents"
                    && (name == "behavioral_events" || i.name == "analog"))
                || i.name == "sample_count"
                || m.name == "tasks"
                || series_paths.contains(&i.path.as_str())
                || m.name == "associated_files"
                || m.name == "associated files";
            if !used {
                out.push((i.path.clone(), i.neurodata_type.clone()));
            }
        }
    }
    for t in nwb.intervals()? {
        if t.name != "epochs" {
            out.push((t.path.clone(), t.neurodata_type.clone()));
        }
    }
    for base in ["/stimulus/presentation", "/stimulus/templates", "/analysis"] {
        for o in nwb.children(base)? {
            // ImageSeries are candidates for VideoFile wherever they are
            if !o.neurodata_type.contains("ImageSeries") {
                out.push((o.path.clone(), o.neurodata_type.clone()));
            }
        }
    }
    Ok(out)
}

fn timed(nwb: &NwbFile, s: &TimeSeries) -> Result<TimedSeries> {
    Ok(TimedSeries {
        series: s.clone(),
        timestamps: nwb.timestamps(&s.path)?,
    })
}

/// The SpatialSeries of every Position object (in acquisition or processing
/// modules), pooled, with the containers' paths; None when the file has none.
fn find_position(
    nwb: &NwbFile,
    modules: &[ProcessingModule],
) -> Result<(Option<Vec<TimedSeries>>, Vec<String>)> {
    let mut containers = vec![];
    let mut out = vec![];
    for o in nwb
        .acquisition()?
        .into_iter()
        .filter(|o| o.neurodata_type == "Position")
    {
        containers.push(o.path.clone());
        for c in nwb.children(&o.path)? {
            if c.neurodata_type == "SpatialSeries" {
                out.push(timed(nwb, &nwb.time_series(&c.path)?)?);
            }
        }
    }
    for i in modules
        .iter()
        .flat_map(|m| &m.interfaces)
        .filter(|i| i.neurodata_type == "Position")
    {
        containers.push(i.path.clone());
        for s in i
            .series
            .iter()
            .filter(|s| s.neurodata_type == "SpatialSeries")
        {
            out.push(timed(nwb, s)?);
        }
    }
    if containers.is_empty() {
        return Ok((None, containers));
    }
    Ok((Some(out), containers))
}

fn find_typed_series(
    nwb: &NwbFile,
    modules: &[ProcessingModule],
    container: &str,
) -> Result<Vec<TimedSeries>> {
    let mut out = vec![];
    for i in modules
        .iter()
        .flat_map(|m| &m.interfaces)
        .filter(|i| i.neurodata_type == container)
    {
        for s in &i.series {
            out.push(timed(nwb, s)?);
        }
    }
    Ok(out)
}

fn find_dio(nwb: &NwbFile, modules: &[ProcessingModule]) -> Result<Vec<DioSeries>> {
    let mut out = vec![];
    for i in modules.iter().flat_map(|m| &m.interfaces).filter(|i| {
        i.neurodata_type == "BehavioralEvents" && sanitize(&i.name) == "behavioral_events"
    }) {
        for s in &i.series {
            let range = match s.timing {
                Timing::Missing => None,
                _ => {
                    let ts = nwb.timestamps(&s.path)?;
                    match (ts.first(), ts.last()) {
                        (Some(a), Some(b)) => Some((*a, *b)),
                        _ => None,
                    }
                }
            };
            out.push(DioSeries {
                name: s.name.clone(),
                object_id: s.object_id.clone(),
                range,
            });
        }
    }
    Ok(out)
}

fn find_analog(modules: &[ProcessingModule]) -> Option<AnalogSeries> {
    let i = modules
        .iter()
        .flat_map(|m| &m.interfaces)
        .find(|i| i.neurodata_type == "BehavioralEvents" && i.name == "analog")?;
    let s = i.series.iter().find(|s| s.name == "analog")?;
    Some(AnalogSeries {
        object_id: s.object_id.clone(),
        description: s.description.clone().unwrap_or_default(),
        n_columns: s.shape.get(1).copied().unwrap_or(1),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn sanitized_names_match_raw_candidates() {
        use super::sanitize;
        assert_eq!(sanitize("E-Series"), "e-series");
        assert_eq!(sanitize("Electrical Series"), "electricalseries");
    }
}
