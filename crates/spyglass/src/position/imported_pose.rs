//! `position_v1_imported_pose`: pose estimated before Spyglass, stored in the
//! session's NWB file as ndx-pose `PoseEstimation` containers (Spyglass's
//! ImportedPose, with its definitions). Ingest (as Spyglass's
//! `populate_all_common`), or `spyglass position pose import <session>` for a
//! session ingested before, records, for each PoseEstimation of the file, an IntervalList
//! `pose_<name>_valid_intervals` (the first body part's timestamps cut at gaps, as
//! Spyglass's `get_valid_intervals` with `min_valid_len` = the sampling rate), the
//! ImportedPose row (the container's and its skeleton's object ids) and one
//! BodyPart row per PoseEstimationSeries. The data stay in the session's file;
//! [`fetch_pose`] reads them back as Spyglass's `fetch_pose_dataframe` does.
//! ImportedPose is a part of PositionOutput; as in Spyglass, importing does not
//! add its rows there (`pose import --output` does, [`add_to_output`]), and
//! PositionOutput gives its pose ([`super::merge::fetch_pose`]).

use crate::analysis::nwb_file_path;
use crate::kit::prelude::*;
use spyglass_dsp::timestamps::DEFAULT_RATE_MULTIPLIER;
use spyglass_dsp::{estimate_sampling_rate, valid_intervals};
use spyglass_nwb::{NwbFile, PoseEstimation};

/// Schema name.
pub const SCHEMA: &str = "position_v1_imported_pose";
/// `ImportedPose` (Manual).
pub const IMPORTED_POSE: &str = "position_v1_imported_pose.ImportedPose";
/// `ImportedPose.BodyPart` (Part).
pub const IMPORTED_POSE_BODY_PART: &str = "position_v1_imported_pose.ImportedPose.BodyPart";
/// The `pipeline` of the IntervalList rows it records.
pub const PIPELINE: &str = "ImportedPose";

/// The key of ImportedPose: an interval of the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportedPoseKey {
    /// The session.
    pub nwb_file_name: String,
    /// `pose_<PoseEstimation name>_valid_intervals`.
    pub interval_list_name: String,
}

/// An ImportedPose row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportedPoseRow {
    /// Its key.
    #[serde(flatten)]
    pub key: ImportedPoseKey,
    /// Object id of the PoseEstimation.
    pub pose_object_id: String,
    /// Object id of its Skeleton.
    pub skeleton_object_id: String,
}

/// An ImportedPose.BodyPart row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportedPoseBodyPart {
    /// The master's key.
    #[serde(flatten)]
    pub key: ImportedPoseKey,
    /// The PoseEstimationSeries' name.
    pub part_name: String,
    /// Its object id.
    pub part_object_id: String,
}

/// The `position_v1_imported_pose` pipeline.
pub struct ImportedPose;

impl Pipeline for ImportedPose {
    identity!(SCHEMA, family "position");
    provides! {
        merge: super::merge::POSITION_OUTPUT => IMPORTED_POSE;
        commands: Command as "pose" => "Pose estimated outside Spyglass (ndx-pose)";
    }
    fn tables(&self) -> Vec<TableSpec> {
        let master = "-> common_interval.IntervalList
---
pose_object_id: varchar(80) # unique identifier for the pose object
skeleton_object_id: varchar(80) # unique identifier for the skeleton object";
        let part = "-> master
part_name: varchar(80)
---
part_object_id: varchar(80)";
        vec![TableSpec::new("ImportedPose", Tier::Manual, master).part("BodyPart", part)]
    }
    fn run(&self, sg: &Spyglass, _name: &str, m: &clap::ArgMatches) -> Result<()> {
        let Command::Import(a) = args::parse_in(m)?;
        let nwb = args::session_name(sg, &a.file)?;
        let keys = import(sg, &nwb)?;
        for k in &keys {
            println!("ImportedPose: {nwb}, `{}`", k.interval_list_name);
        }
        if keys.is_empty() {
            println!("no new PoseEstimation in {nwb}");
        }
        if a.output {
            for k in sg.rows::<ImportedPoseKey>(
                IMPORTED_POSE,
                &crate::kit::Session {
                    nwb_file_name: &nwb,
                },
            )? {
                let id = add_to_output(sg, &k)?;
                println!(
                    "PositionOutput {id}: ImportedPose `{}`",
                    k.interval_list_name
                );
            }
        }
        Ok(())
    }
}

/// `spyglass position pose …`.
#[derive(clap::Subcommand)]
enum Command {
    /// Import the session's ndx-pose PoseEstimation containers (ImportedPose).
    Import(ImportArgs),
}

/// `spyglass position pose import`.
#[derive(clap::Args)]
struct ImportArgs {
    /// The session (`rat1_.nwb`, or the raw file name `rat1.nwb`).
    file: String,
    /// Also enter the session's ImportedPose rows in PositionOutput.
    #[arg(long)]
    output: bool,
}

/// Enters ImportedPose `key` in PositionOutput (Spyglass's
/// `PositionOutput.insert(key, part_name="ImportedPose")`); returns its merge id
/// (the existing one when it is there already).
pub fn add_to_output(db: &Db, key: &ImportedPoseKey) -> Result<uuid::Uuid> {
    crate::pipelines::declare(db, &[super::merge::SCHEMA])?;
    let existing =
        super::merge::position_merge_ids(db, &key.nwb_file_name, Some(&key.interval_list_name))?;
    if let Some((id, _)) = existing.into_iter().find(|(_, s)| s == "ImportedPose") {
        return Ok(id);
    }
    match db.merge_add(super::merge::POSITION_OUTPUT, key)? {
        Value::Uuid(id) => Ok(id),
        other => Err(Error::internal(
            IMPORTED_POSE,
            format!("merge id {other:?} is not a uuid"),
        )),
    }
}

/// The IntervalList name of a PoseEstimation called `name`.
pub fn interval_name(name: &str) -> String {
    format!("pose_{name}_valid_intervals")
}

/// Imports every PoseEstimation of session `nwb_file_name` not imported yet; returns
/// the keys of the new ImportedPose rows.
pub fn import(db: &Db, nwb_file_name: &str) -> Result<Vec<ImportedPoseKey>> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    let path = nwb_file_path(db, nwb_file_name)?;
    let file = NwbFile::open(&path)?;
    let mut out = vec![];
    for pe in file.pose_estimations()? {
        let key = ImportedPoseKey {
            nwb_file_name: nwb_file_name.to_string(),
            interval_list_name: interval_name(&pe.name),
        };
        if !db.rows::<ImportedPoseKey>(IMPORTED_POSE, &key)?.is_empty() {
            continue;
        }
        let (valid, row, parts) = entries(&key, &pe)?;
        db.transaction_with(|| {
            db.interval_list(
                nwb_file_name,
                &key.interval_list_name,
                PIPELINE,
                valid.clone(),
            )?;
            db.put(IMPORTED_POSE, &row)?;
            db.put_new(IMPORTED_POSE_BODY_PART, &parts)?;
            Ok::<_, Error>(())
        })?;
        out.push(key);
    }
    Ok(out)
}

/// The IntervalList times, the ImportedPose row and its BodyPart rows.
pub(crate) type Entries = (
    spyglass_dsp::Intervals,
    ImportedPoseRow,
    Vec<ImportedPoseBodyPart>,
);

/// The IntervalList times and the rows of one PoseEstimation.
pub(crate) fn entries(key: &ImportedPoseKey, pe: &PoseEstimation) -> Result<Entries> {
    let what = format!("PoseEstimation `{}`", pe.path);
    let skeleton = pe.skeleton.as_ref().ok_or_else(|| {
        Error::bad(
            &what,
            "has no Skeleton (ndx-pose 0.1 layout); ImportedPose needs the skeleton's object id",
        )
    })?;
    let first = &pe.series[0];
    let rate = estimate_sampling_rate(&first.timestamps, DEFAULT_RATE_MULTIPLIER)
        .map_err(|e| Error::bad(&what, format!("timestamps of `{}`: {e}", first.name)))?;
    let valid = valid_intervals(&first.timestamps, rate, 2.5, rate)
        .map_err(|e| Error::bad(&what, format!("valid times: {e}")))?;
    let row = ImportedPoseRow {
        key: key.clone(),
        pose_object_id: pe.object_id.clone(),
        skeleton_object_id: skeleton.object_id.clone(),
    };
    let parts = pe
        .series
        .iter()
        .map(|s| ImportedPoseBodyPart {
            key: key.clone(),
            part_name: s.name.clone(),
            part_object_id: s.object_id.clone(),
        })
        .collect();
    Ok((valid, row, parts))
}

/// One body part as Spyglass's `fetch_pose_dataframe` gives it (no video frame index).
#[derive(Debug, Clone, PartialEq)]
pub struct PosePart {
    /// The body part.
    pub name: String,
    /// x (the series' unit, as stored).
    pub x: Vec<f64>,
    /// y.
    pub y: Vec<f64>,
    /// Confidence (NaN when the series has none).
    pub likelihood: Vec<f64>,
}

/// The pose of an ImportedPose row: the timestamps of its first body part and every
/// body part's x, y and confidence.
pub fn fetch_pose(db: &Db, key: &ImportedPoseKey) -> Result<(Vec<f64>, Vec<PosePart>)> {
    let row: ImportedPoseRow = db.row(IMPORTED_POSE, key)?;
    let file = NwbFile::open(nwb_file_path(db, &key.nwb_file_name)?)?;
    let pe = file.pose_estimation(&file.path_of_id(&row.pose_object_id)?)?;
    let time = pe.series[0].timestamps.clone();
    let parts = pe
        .series
        .iter()
        .map(|s| PosePart {
            name: s.name.clone(),
            x: s.axis(0),
            y: s.axis(1),
            likelihood: s
                .confidence
                .clone()
                .unwrap_or_else(|| vec![f64::NAN; s.len()]),
        })
        .collect();
    Ok((time, parts))
}
