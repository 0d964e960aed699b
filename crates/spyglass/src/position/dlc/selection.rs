//! `position_v1_dlc_selection`: DLCPosSelection and DLCPosV1, as Spyglass's make
//! fills them: a centroid and an orientation of one pose estimation (each from its
//! own cohort) combined into one analysis file — a Position (`position`, cm), a
//! CompassDirection (`orientation`) and a BehavioralTimeSeries (`velocity` = vx,
//! vy, speed; `video_frame_ind`), copied from DLCCentroid and DLCOrientation — with
//! `pose_eval_result`, Spyglass's `evaluate_pose_estimation`: per body part of
//! either cohort, the percentage of DLCPoseEstimation rows whose likelihood is below
//! the (single) likelihood threshold of the smoothing parameters used. Spyglass's
//! video tables of this schema (DLCPosVideo*) are not declared here. DLCPosV1 is
//! a part of PositionOutput, and its make adds the row there, as Spyglass's does.

use super::centroid::{self, CentroidKey};
use super::cohort::{self, CohortBodyPart, CohortKey};
use super::orient::{self, OrientationKey};
use super::pose_estimation::{self, PoseBodyPartKey, PoseKey};
use super::{write_orientation, write_position, write_velocity, xy_columns};
use crate::kit::prelude::*;
use crate::position::merge::POSITION_OUTPUT;
use std::collections::BTreeMap;

/// Schema name.
pub const SCHEMA: &str = "position_v1_dlc_selection";
/// `DLCPosSelection` (Manual).
pub const SELECTION: &str = "position_v1_dlc_selection.DLCPosSelection";
/// `DLCPosV1` (Computed).
pub const DLC_POS_V1: &str = "position_v1_dlc_selection.DLCPosV1";

/// The key of DLCPosSelection and DLCPosV1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DlcPosKey {
    /// The pose estimation.
    #[serde(flatten)]
    pub pose: PoseKey,
    /// The cohort of the centroid.
    pub dlc_si_cohort_centroid: String,
    /// The centroid's parameters.
    pub dlc_centroid_params_name: String,
    /// The cohort of the orientation.
    pub dlc_si_cohort_orientation: String,
    /// The orientation's parameters.
    pub dlc_orientation_params_name: String,
}

impl DlcPosKey {
    /// The DLCCentroid key.
    pub fn centroid(&self) -> CentroidKey {
        CentroidKey {
            cohort: CohortKey {
                dlc_si_cohort_selection_name: self.dlc_si_cohort_centroid.clone(),
                pose: self.pose.clone(),
            },
            dlc_centroid_params_name: self.dlc_centroid_params_name.clone(),
        }
    }
    /// The DLCOrientation key.
    pub fn orientation(&self) -> OrientationKey {
        OrientationKey {
            cohort: CohortKey {
                dlc_si_cohort_selection_name: self.dlc_si_cohort_orientation.clone(),
                pose: self.pose.clone(),
            },
            dlc_orientation_params_name: self.dlc_orientation_params_name.clone(),
        }
    }
}

/// A DLCPosV1 row (without `pose_eval_result`, a blob).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DlcPosV1Row {
    /// Its key.
    #[serde(flatten)]
    pub key: DlcPosKey,
    /// The analysis file.
    pub analysis_file_name: String,
    /// Object id of the Position container.
    pub position_object_id: String,
    /// Object id of the CompassDirection container.
    pub orientation_object_id: String,
    /// Object id of the BehavioralTimeSeries container.
    pub velocity_object_id: String,
}

/// The `position_v1_dlc_selection` pipeline.
pub struct DlcSelection;

impl Pipeline for DlcSelection {
    identity!(SCHEMA, requires [centroid::SCHEMA, orient::SCHEMA]);
    provides! {
        makers: DLC_POS_V1 => DlcPosV1Make;
        merge: POSITION_OUTPUT => DLC_POS_V1;
    }
    fn tables(&self) -> Vec<TableSpec> {
        let selection = "-> position_v1_dlc_centroid.DLCCentroid.proj(dlc_si_cohort_centroid='dlc_si_cohort_selection_name', centroid_analysis_file_name='analysis_file_name')
-> position_v1_dlc_orient.DLCOrientation.proj(dlc_si_cohort_orientation='dlc_si_cohort_selection_name', orientation_analysis_file_name='analysis_file_name')";
        let pos = "-> DLCPosSelection
---
-> common_nwbfile.AnalysisNwbfile
position_object_id      : varchar(80)
orientation_object_id   : varchar(80)
velocity_object_id      : varchar(80)
pose_eval_result        : longblob";
        vec![
            TableSpec::new("DLCPosSelection", Tier::Manual, selection),
            TableSpec::new("DLCPosV1", Tier::Computed, pos),
        ]
    }
}

/// Inserts a DLCPosSelection row (skipped when present).
pub fn insert_selection(db: &Db, key: &DlcPosKey) -> Result<()> {
    db.select_new(SELECTION, key)
}

/// Spyglass's `evaluate_pose_estimation`: per body part of the two cohorts, the
/// percentage of pose rows below the likelihood threshold of the smoothing parameters.
pub fn evaluate_pose_estimation(db: &Db, key: &DlcPosKey) -> Result<BTreeMap<String, f64>> {
    let what = format!("{DLC_POS_V1} {}", key_text(key));
    let mut parts: Vec<CohortBodyPart> =
        db.rows(cohort::COHORT_BODY_PART, &key.centroid().cohort)?;
    parts.extend(db.rows::<CohortBodyPart>(cohort::COHORT_BODY_PART, &key.orientation().cohort)?);
    if parts.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut thresholds: Vec<f64> = vec![];
    let mut bodyparts: Vec<String> = vec![];
    for p in &parts {
        let t = super::position::params(db, &p.smoothed.key.dlc_si_params_name)?.likelihood_thresh;
        if !thresholds.contains(&t) {
            thresholds.push(t);
        }
        bodyparts.push(p.smoothed.key.part.bodypart.clone());
    }
    if thresholds.len() > 1 {
        return Err(Error::bad(&what, "more than one likelihood threshold used"));
    }
    bodyparts.sort();
    bodyparts.dedup();
    let mut out = BTreeMap::new();
    for bp in bodyparts {
        let k = PoseBodyPartKey {
            pose: key.pose.clone(),
            bodypart: bp.clone(),
        };
        let pose = pose_estimation::fetch_body_part(db, &k)?;
        let below = pose
            .likelihood
            .iter()
            .filter(|&&l| l < thresholds[0])
            .count();
        let n = pose.likelihood.len().max(1);
        out.insert(bp, below as f64 / n as f64 * 100.0);
    }
    Ok(out)
}

/// What the make reads.
#[derive(Serialize)]
struct Inputs {
    parent: std::path::PathBuf,
    time: Vec<f64>,
    frames: Vec<f64>,
    position: Vec<[f64; 2]>,
    velocity: Vec<[f64; 2]>,
    speed: Vec<f64>,
    orientation_time: Vec<f64>,
    orientation: Vec<f64>,
    pose_eval_result: BTreeMap<String, f64>,
}

struct Output {
    file: crate::analysis::PendingFile,
    ids: [String; 3],
    pose_eval_result: BTreeMap<String, f64>,
}

struct DlcPosV1Make;

impl Make for DlcPosV1Make {
    const TABLE: &'static str = DLC_POS_V1;
    type Key = DlcPosKey;
    type Inputs = Inputs;
    type Output = Output;

    fn fetch(&self, cx: &Cx, key: &DlcPosKey) -> Result<Inputs> {
        let c = centroid::fetch_centroid(cx.db, &key.centroid())?;
        let (orientation_time, orientation) = orient::fetch_orientation(cx.db, &key.orientation())?;
        Ok(Inputs {
            parent: crate::analysis::nwb_file_path(cx.db, &key.pose.nwb_file_name)?,
            time: c.time,
            frames: c.video_frame_ind,
            position: c.position,
            velocity: c.velocity,
            speed: c.speed,
            orientation_time,
            orientation,
            pose_eval_result: evaluate_pose_estimation(cx.db, key)?,
        })
    }

    fn compute(&self, settings: &Settings, key: &DlcPosKey, i: Inputs) -> Result<Output> {
        let (file, ids) = crate::kit::analysis_file(
            settings,
            &key.pose.nwb_file_name,
            &i.parent,
            "DLCPosV1",
            |w| {
                let pos = write_position(w, &i.time, xy_columns(&i.position))?;
                let ori = write_orientation(w, &i.orientation_time, i.orientation.clone())?;
                let vel = write_velocity(w, &i.time, (&i.velocity, &i.speed), i.frames.clone())?;
                Ok([pos, ori, vel])
            },
        )?;
        Ok(Output {
            file,
            ids,
            pose_eval_result: i.pose_eval_result,
        })
    }

    fn insert(&self, cx: &Cx, key: &DlcPosKey, out: Output) -> Result<()> {
        let [position_object_id, orientation_object_id, velocity_object_id] = out.ids;
        let row = DlcPosV1Row {
            key: key.clone(),
            analysis_file_name: cx.db.register(out.file)?,
            position_object_id,
            orientation_object_id,
            velocity_object_id,
        };
        let eval = serde_json::to_value(&out.pose_eval_result)
            .map_err(|e| Error::internal(DLC_POS_V1, e.to_string()))?;
        let row = super::row_with(
            DLC_POS_V1,
            &row,
            vec![(
                "pose_eval_result",
                Value::from(spyglass_blob::from_json(&eval)),
            )],
        )?;
        cx.db.insert1(DLC_POS_V1, row, InsertOptions::default())?;
        cx.db.merge_add(POSITION_OUTPUT, key)?;
        Ok(())
    }
}

/// A DLCPosV1 row's series as its `fetch1_dataframe` gives them: time, video frame,
/// position (cm), orientation (rad), velocity (cm/s) and speed.
pub fn fetch_dlc_pos(db: &Db, key: &DlcPosKey) -> Result<super::centroid::CentroidData> {
    let row: DlcPosV1Row = db.row(DLC_POS_V1, key)?;
    let ids = (&*row.position_object_id, &*row.velocity_object_id);
    centroid::read_position_velocity(db, DLC_POS_V1, &row.analysis_file_name, ids)
}

/// A DLCPosV1 row's orientation (radians).
pub fn fetch_dlc_orientation(db: &Db, key: &DlcPosKey) -> Result<Vec<f64>> {
    let row: DlcPosV1Row = db.row(DLC_POS_V1, key)?;
    let f = super::open_analysis(db, &row.analysis_file_name)?;
    let s = super::read_series(&f, &row.orientation_object_id, "orientation")?;
    Ok(s.columns.into_iter().next().unwrap_or_default())
}
