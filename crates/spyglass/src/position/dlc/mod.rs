//! Spyglass's DeepLabCut position pipeline (`position_v1_dlc_*`), one file per
//! schema, without training: a DLC output (`.h5` or `.csv`) is imported into
//! DLCPoseEstimation ([`pose_estimation`]) under a model entered "FromImport"
//! ([`project`], [`training`], [`model`] declare Spyglass's upstream tables), then
//! Spyglass's post-processing runs as its makes do — DLCSmoothInterp
//! ([`position`]), DLCSmoothInterpCohort ([`cohort`]), DLCCentroid ([`centroid`]),
//! DLCOrientation ([`orient`]) and DLCPosV1 ([`selection`]) — with the
//! computations of `spyglass_position::dlc`.
//!
//! Each computed table writes its series into an analysis file as Spyglass does
//! (x/y in cm with `conversion` 0.01, velocity and speed in cm/s, orientation in
//! radians, the video frame index as its own series) and stores the object id of
//! the container (Position, BehavioralTimeSeries, CompassDirection, in `/scratch`
//! as Spyglass's `add_nwb_object` puts them) it wrote. The
//! helpers here write and read those containers.

crate::kit::family! {
    project => DlcProject,
    training => DlcTraining,
    model => DlcModel,
    pose_estimation => DlcPoseEstimation,
    position => DlcPosition,
    cohort => DlcCohort,
    centroid => DlcCentroid,
    orient => DlcOrient,
    selection => DlcSelection,
}

use crate::error::{Error, Result};
use spyglass_nwb::{AnalysisFileWriter, NwbFile, SeriesData, TimeSeriesSpec, TimingSpec};
use spyglass_position::Xy;

/// cm → m, the `conversion` of every position series (Spyglass's `METERS_PER_CM`).
pub const METERS_PER_CM: f64 = 0.01;

/// One series to write into a container.
pub(crate) struct Series<'a> {
    /// Series name (`position`, `likelihood`, `video_frame_ind`, ...).
    pub name: &'a str,
    /// Columns, each one value per timestamp.
    pub columns: Vec<Vec<f64>>,
    /// `unit`.
    pub unit: &'a str,
    /// `conversion`.
    pub conversion: f64,
    /// `description`.
    pub description: &'a str,
}

/// Writes `series` (sharing `time`) into a container of type `ty` (`Position` and
/// `CompassDirection` hold SpatialSeries, `BehavioralTimeSeries` TimeSeries) named
/// after its type in `/scratch`, as Spyglass's `add_nwb_object` stores a pynwb
/// container; returns the container's object id.
pub(crate) fn write_container(
    w: &mut AnalysisFileWriter,
    ty: &str,
    time: &[f64],
    series: &[Series],
) -> Result<String> {
    let spatial = ty != "BehavioralTimeSeries";
    let mut specs = vec![];
    for s in series {
        let (mut data, mut shape) = SeriesData::from_channels_f64(&s.columns)?;
        if s.columns.len() == 1 {
            shape.truncate(1);
        }
        if s.unit == "index" {
            // frame indices are integers, as Spyglass writes them
            if let SeriesData::F64(v) = &data {
                data = SeriesData::I64(v.iter().map(|&x| x as i64).collect());
            }
        }
        specs.push(TimeSeriesSpec {
            name: s.name.to_string(),
            neurodata_type: if spatial {
                "SpatialSeries"
            } else {
                "TimeSeries"
            }
            .into(),
            description: s.description.to_string(),
            data,
            shape,
            unit: s.unit.to_string(),
            conversion: s.conversion,
            timing: TimingSpec::Timestamps(time.to_vec()),
            reference_frame: spatial.then(String::new),
            ..TimeSeriesSpec::default()
        });
    }
    let series_ty = if spatial {
        "SpatialSeries"
    } else {
        "TimeSeries"
    };
    let refs: Vec<(&str, &TimeSeriesSpec)> = specs.iter().map(|s| (series_ty, s)).collect();
    Ok(w.add_scratch_container(ty, ty, &refs)?)
}

/// The columns of 2-D points (x's, then y's).
pub(crate) fn xy_columns(points: &[Xy]) -> Vec<Vec<f64>> {
    (0..2)
        .map(|k| points.iter().map(|p| p[k]).collect())
        .collect()
}

/// Writes positions `x`, `y` (cm) as a Position container; returns its object id.
pub(crate) fn write_position(
    w: &mut AnalysisFileWriter,
    time: &[f64],
    columns: Vec<Vec<f64>>,
) -> Result<String> {
    let position = Series {
        name: "position",
        columns,
        unit: "meters",
        conversion: METERS_PER_CM,
        description: "x_position, y_position",
    };
    write_container(w, "Position", time, &[position])
}

/// The `video_frame_ind` series of a BehavioralTimeSeries.
pub(crate) fn frames_series(frames: Vec<f64>) -> Series<'static> {
    Series {
        name: "video_frame_ind",
        columns: vec![frames],
        unit: "index",
        conversion: 1.0,
        description: "video_frame_ind",
    }
}

/// Writes velocity (x, y), speed (cm/s) and the video frames as a
/// BehavioralTimeSeries container; returns its object id.
pub(crate) fn write_velocity(
    w: &mut AnalysisFileWriter,
    time: &[f64],
    (velocity, speed): (&[Xy], &[f64]),
    frames: Vec<f64>,
) -> Result<String> {
    let mut columns = xy_columns(velocity);
    columns.push(speed.to_vec());
    let velocity = Series {
        name: "velocity",
        columns,
        unit: "m/s",
        conversion: METERS_PER_CM,
        description: "x_velocity, y_velocity, speed",
    };
    write_container(
        w,
        "BehavioralTimeSeries",
        time,
        &[velocity, frames_series(frames)],
    )
}

/// Writes an orientation (radians) as a CompassDirection container; returns its
/// object id.
pub(crate) fn write_orientation(
    w: &mut AnalysisFileWriter,
    time: &[f64],
    theta: Vec<f64>,
) -> Result<String> {
    let orientation = Series {
        name: "orientation",
        columns: vec![theta],
        unit: "radians",
        conversion: 1.0,
        description: "orientation",
    };
    write_container(w, "CompassDirection", time, &[orientation])
}

/// Opens analysis file `analysis_file_name` to read a row's series.
pub(crate) fn open_analysis(db: &spyglass_db::Db, analysis_file_name: &str) -> Result<NwbFile> {
    Ok(NwbFile::open(crate::analysis::analysis_file_path(
        db,
        analysis_file_name,
    )?)?)
}

/// A series read back: timestamps and the stored values (no conversion applied,
/// as Spyglass's `fetch1_dataframe` reads `.data`), `columns` per timestamp.
pub(crate) struct ReadSeries {
    /// Timestamps, s.
    pub time: Vec<f64>,
    /// Values per column.
    pub columns: Vec<Vec<f64>>,
}

/// Reads series `name` of the container with `container_id` in `file`.
pub(crate) fn read_series(file: &NwbFile, container_id: &str, name: &str) -> Result<ReadSeries> {
    let path = format!("{}/{name}", file.path_of_id(container_id)?);
    let time = file.timestamps(&path)?;
    let d = file.read_data(&format!("{path}/data"))?;
    let values = d.values.to_f64().ok_or_else(|| {
        Error::bad(
            format!("{}:{path}", file.path().display()),
            "data are not numeric",
        )
    })?;
    let width = if d.shape.len() > 1 { d.shape[1] } else { 1 };
    if values.len() != time.len() * width {
        return Err(Error::bad(
            format!("{}:{path}", file.path().display()),
            format!("{} values for {} timestamps", values.len(), time.len()),
        ));
    }
    let columns = (0..width)
        .map(|c| values.iter().skip(c).step_by(width).copied().collect())
        .collect();
    Ok(ReadSeries { time, columns })
}

/// A `spyglass_position` error as a bad-input error of `what` (a table and key).
pub(crate) fn position_err(what: String) -> impl Fn(spyglass_position::PositionError) -> Error {
    move |e| Error::bad(&what, e.to_string())
}

/// The row of a key struct with `extra` attributes added.
pub(crate) fn row_with<K: serde::Serialize>(
    table: &str,
    key: &K,
    extra: Vec<(&str, spyglass_db::Value)>,
) -> Result<spyglass_db::Row> {
    let row = crate::kit::row_of(table, key)?;
    Ok(spyglass_db::Row::from_pairs(
        row.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .chain(extra.into_iter().map(|(k, v)| (k.to_string(), v))),
    ))
}
