//! What ingestion reads from an NWB file, gathered once into plain data: session
//! metadata, subject, novela devices, electrode groups and electrodes, the raw
//! series with its timestamps, epochs, tasks, position, compass, DIO, sensors,
//! sample counts, videos and associated files. Finding objects follows Spyglass
//! (name filters are case- and space-insensitive); what is absent stays empty and
//! is reported by the table that needed it.

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
    /// Series description (data not read).
    pub series: TimeSeries,
    /// Timestamps, when the series stores them.
    pub timestamps: Option<Vec<f64>>,
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
    /// The raw ElectricalSeries.
    pub raw: Option<RawSeries>,
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
    /// SpatialSeries of the one Position object (None when there is none).
    pub position: Option<Vec<TimedSeries>>,
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
    /// Reads everything from `nwb`; required session metadata must be present.
    pub fn read(nwb: &NwbFile) -> Result<Source> {
        let path = nwb.path().to_path_buf();
        let meta = nwb.metadata()?;
        if meta.session_description.trim().is_empty() {
            return Err(bad(&path, "`/session_description` is empty"));
        }
        let modules = nwb.processing_modules()?;
        let raw = find_raw(nwb)?;
        let position = find_position(nwb, &modules)?;
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
        Ok(Source {
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
            position,
            compass,
            videos,
            associated_files,
            meta,
            path,
        })
    }
}

fn find_raw(nwb: &NwbFile) -> Result<Option<RawSeries>> {
    let wanted: Vec<String> = RAW_SERIES_NAMES.iter().map(|n| sanitize(n)).collect();
    let mut candidates: Vec<String> = vec![];
    for o in nwb.acquisition()? {
        if o.neurodata_type.ends_with("ElectricalSeries") {
            candidates.push(o.path.clone());
        } else if o.neurodata_type == "LFP" || o.neurodata_type == "FilteredEphys" {
            for c in nwb.children(&o.path)? {
                if c.neurodata_type.ends_with("ElectricalSeries") {
                    candidates.push(c.path.clone());
                }
            }
        }
    }
    for p in candidates {
        let name = p.rsplit('/').next().unwrap_or_default();
        if !wanted.contains(&sanitize(name)) {
            continue;
        }
        let series = nwb.time_series(&p)?;
        let timestamps = match series.timing {
            Timing::Timestamps { .. } => Some(nwb.timestamps(&p)?),
            _ => None,
        };
        return Ok(Some(RawSeries { series, timestamps }));
    }
    Ok(None)
}

fn timed(nwb: &NwbFile, s: &TimeSeries) -> Result<TimedSeries> {
    Ok(TimedSeries {
        series: s.clone(),
        timestamps: nwb.timestamps(&s.path)?,
    })
}

fn find_position(nwb: &NwbFile, modules: &[ProcessingModule]) -> Result<Option<Vec<TimedSeries>>> {
    let mut found: Vec<&spyglass_nwb::Interface> = modules
        .iter()
        .flat_map(|m| &m.interfaces)
        .filter(|i| i.neurodata_type == "Position")
        .collect();
    let acq: Vec<_> = nwb
        .acquisition()?
        .into_iter()
        .filter(|o| o.neurodata_type == "Position")
        .collect();
    if found.len() + acq.len() > 1 {
        return Err(bad(
            nwb.path(),
            "more than one Position object: Spyglass ingests exactly one",
        ));
    }
    if let Some(o) = acq.first() {
        let mut out = vec![];
        for c in nwb.children(&o.path)? {
            if c.neurodata_type == "SpatialSeries" {
                out.push(timed(nwb, &nwb.time_series(&c.path)?)?);
            }
        }
        return Ok(Some(out));
    }
    match found.pop() {
        None => Ok(None),
        Some(i) => Ok(Some(
            i.series
                .iter()
                .filter(|s| s.neurodata_type == "SpatialSeries")
                .map(|s| timed(nwb, s))
                .collect::<Result<Vec<_>>>()?,
        )),
    }
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
