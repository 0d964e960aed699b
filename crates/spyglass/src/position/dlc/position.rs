//! `position_v1_dlc_position`: DLCSmoothInterpParams (Spyglass's `default` and
//! `just_nan` sets), DLCSmoothInterpSelection and DLCSmoothInterp, as Spyglass's
//! make computes it: one body part of DLCPoseEstimation, samples below the
//! likelihood threshold and jumps NaN'd, NaN gaps interpolated (`max_cm_to_interp`),
//! a trailing moving mean over `smoothing_duration` at `1 / median(dt)`
//! ([`spyglass_position::dlc::smooth_interp`]); written as a Position (`position`,
//! cm, conversion 0.01) and a BehavioralTimeSeries (`video_frame_ind`).

use super::pose_estimation::{self, PoseBodyPartKey};
use super::{
    frames_series, open_analysis, position_err, read_series, write_container, write_position,
};
use crate::kit::prelude::*;
use spyglass_position::dlc::{smooth_interp, BodyPartPose, SmoothInterpParams};

/// Schema name.
pub const SCHEMA: &str = "position_v1_dlc_position";
/// `DLCSmoothInterpParams` (Manual).
pub const PARAMS: &str = "position_v1_dlc_position.DLCSmoothInterpParams";
/// `DLCSmoothInterpSelection` (Manual).
pub const SELECTION: &str = "position_v1_dlc_position.DLCSmoothInterpSelection";
/// `DLCSmoothInterp` (Computed).
pub const SMOOTH_INTERP: &str = "position_v1_dlc_position.DLCSmoothInterp";

/// Spyglass's `insert_default` and `insert_nan_params` dicts.
pub const DEFAULTS: [(&str, &str); 2] = [
    (
        "default",
        r#"{"smooth": true, "smoothing_params": {"smoothing_duration": 0.05, "smooth_method": "moving_avg"}, "interpolate": true, "likelihood_thresh": 0.95, "interp_params": {"max_cm_to_interp": 15}, "max_cm_between_pts": 20, "num_inds_to_span": 20}"#,
    ),
    (
        "just_nan",
        r#"{"smooth": false, "interpolate": false, "likelihood_thresh": 0.95, "max_cm_between_pts": 20, "num_inds_to_span": 20}"#,
    ),
];

dict_params! {
    /// DLCSmoothInterpParams: Spyglass's default sets, checked as the make reads them.
    pub static PARAMETERS = PARAMS, "dlc_si_params_name" => "params", &DEFAULTS, parse_params;
}

/// The key of DLCSmoothInterpSelection and DLCSmoothInterp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmoothInterpKey {
    /// The body part's pose.
    #[serde(flatten)]
    pub part: PoseBodyPartKey,
    /// The parameter set.
    pub dlc_si_params_name: String,
}

/// A DLCSmoothInterp row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmoothInterpRow {
    /// Its key.
    #[serde(flatten)]
    pub key: SmoothInterpKey,
    /// The analysis file.
    pub analysis_file_name: String,
    /// Object id of the Position container.
    pub dlc_smooth_interp_position_object_id: String,
    /// Object id of the BehavioralTimeSeries container (video_frame_ind).
    pub dlc_smooth_interp_info_object_id: String,
}

/// The `position_v1_dlc_position` pipeline.
pub struct DlcPosition;

impl Pipeline for DlcPosition {
    identity!(SCHEMA, requires[pose_estimation::SCHEMA]);
    provides! {
        makers: SMOOTH_INTERP => SmoothInterpMake;
        defaults: &PARAMETERS;
    }
    fn tables(&self) -> Vec<TableSpec> {
        let params = "dlc_si_params_name : varchar(80) # name for this set of parameters
---
params: longblob # dictionary of parameters";
        let selection = "-> position_v1_dlc_pose_estimation.DLCPoseEstimation.BodyPart
-> DLCSmoothInterpParams";
        let si = "-> DLCSmoothInterpSelection
---
-> common_nwbfile.AnalysisNwbfile
dlc_smooth_interp_position_object_id : varchar(80)
dlc_smooth_interp_info_object_id : varchar(80)";
        vec![
            TableSpec::new("DLCSmoothInterpParams", Tier::Manual, params),
            TableSpec::new("DLCSmoothInterpSelection", Tier::Manual, selection),
            TableSpec::new("DLCSmoothInterp", Tier::Computed, si),
        ]
    }
}

fn num(d: &serde_json::Value, path: &[&str]) -> Option<f64> {
    let mut v = d;
    for p in path {
        v = v.get(p)?;
    }
    v.as_f64()
}

fn truthy(d: &serde_json::Value, k: &str) -> bool {
    match d.get(k) {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::Number(n)) => n.as_f64().is_some_and(|v| v != 0.0),
        _ => false,
    }
}

/// A DLCSmoothInterpParams dict as the computation's parameters.
pub fn parse_params(name: &str, d: &serde_json::Value) -> Result<SmoothInterpParams> {
    let what = format!("{PARAMS} `{name}`");
    let need = |path: &[&str]| {
        num(d, path)
            .ok_or_else(|| Error::bad(&what, format!("`{}` must be a number", path.join("."))))
    };
    if truthy(d, "set_boundary") {
        return Err(Error::bad(&what, "`set_boundary` is not supported here"));
    }
    let smooth = truthy(d, "smooth");
    if smooth {
        let method = d
            .pointer("/smoothing_params/smooth_method")
            .and_then(|v| v.as_str());
        if method != Some("moving_avg") {
            return Err(Error::bad(
                &what,
                format!("smooth_method {method:?}: only `moving_avg` (Spyglass's only method)"),
            ));
        }
    }
    let thresh = need(&["likelihood_thresh"])?;
    if !(0.0..=1.0).contains(&thresh) {
        return Err(Error::bad(
            &what,
            format!("likelihood_thresh {thresh} is not within [0, 1]"),
        ));
    }
    let span = need(&["num_inds_to_span"])?;
    if !(span >= 0.0 && span.fract() == 0.0) {
        return Err(Error::bad(
            &what,
            format!("num_inds_to_span {span} is not a count"),
        ));
    }
    Ok(SmoothInterpParams {
        likelihood_thresh: thresh,
        max_cm_between_pts: need(&["max_cm_between_pts"])?,
        num_inds_to_span: span as usize,
        interpolate: truthy(d, "interpolate"),
        max_cm_to_interp: num(d, &["interp_params", "max_cm_to_interp"]).unwrap_or(f64::INFINITY),
        max_pts_to_interp: num(d, &["interp_params", "max_pts_to_interp"]).unwrap_or(f64::INFINITY),
        smooth,
        smoothing_duration: if smooth {
            need(&["smoothing_params", "smoothing_duration"])?
        } else {
            0.0
        },
    })
}

/// The parameter set called `name`.
pub fn params(db: &Db, name: &str) -> Result<SmoothInterpParams> {
    parse_params(name, &PARAMETERS.dict(db, name)?)
}

/// Inserts a DLCSmoothInterpSelection row (skipped when present).
pub fn insert_selection(db: &Db, key: &SmoothInterpKey) -> Result<()> {
    db.select_new(SELECTION, key)
}

/// What the make reads.
#[derive(Serialize)]
struct Inputs {
    parent: std::path::PathBuf,
    pose: pose_estimation::PoseData,
    #[serde(skip)]
    params: SmoothInterpParams,
    params_json: String,
}

struct SmoothInterpMake;

impl Make for SmoothInterpMake {
    const TABLE: &'static str = SMOOTH_INTERP;
    type Key = SmoothInterpKey;
    type Inputs = Inputs;
    type Output = Written<(String, String)>;

    fn fetch(&self, cx: &Cx, key: &SmoothInterpKey) -> Result<Inputs> {
        let params = params(cx.db, &key.dlc_si_params_name)?;
        Ok(Inputs {
            parent: crate::analysis::nwb_file_path(cx.db, &key.part.pose.nwb_file_name)?,
            pose: pose_estimation::fetch_body_part(cx.db, &key.part)?,
            params_json: format!("{params:?}"),
            params,
        })
    }

    fn compute(
        &self,
        settings: &Settings,
        key: &SmoothInterpKey,
        i: Inputs,
    ) -> Result<Self::Output> {
        let what = format!("{SMOOTH_INTERP} {}", key_text(key));
        let pose = BodyPartPose {
            time: i.pose.time.clone(),
            x: i.pose.x.clone(),
            y: i.pose.y.clone(),
            likelihood: i.pose.likelihood.clone(),
        };
        let xy = smooth_interp(&pose, &i.params).map_err(position_err(what))?;
        let (x, y): (Vec<f64>, Vec<f64>) = xy.iter().map(|p| (p[0], p[1])).unzip();
        crate::kit::analysis_file(
            settings,
            &key.part.pose.nwb_file_name,
            &i.parent,
            "DLCSmoothInterp",
            |w| {
                let time = &i.pose.time;
                let pos = write_position(w, time, vec![x, y])?;
                let frames = frames_series(i.pose.video_frame_ind.clone());
                let info = write_container(w, "BehavioralTimeSeries", time, &[frames])?;
                Ok((pos, info))
            },
        )
    }

    fn insert(&self, cx: &Cx, key: &SmoothInterpKey, out: Self::Output) -> Result<()> {
        cx.db
            .put_written(SMOOTH_INTERP, out, |analysis_file_name, (pos, info)| {
                SmoothInterpRow {
                    key: key.clone(),
                    analysis_file_name,
                    dlc_smooth_interp_position_object_id: pos,
                    dlc_smooth_interp_info_object_id: info,
                }
            })
    }
}

/// A smoothed body part as Spyglass's `fetch1_dataframe` gives it: time, video
/// frame index and x, y (cm).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SmoothedPart {
    /// Timestamps, s.
    pub time: Vec<f64>,
    /// Video frame of each row.
    pub video_frame_ind: Vec<f64>,
    /// x, cm.
    pub x: Vec<f64>,
    /// y, cm.
    pub y: Vec<f64>,
}

/// Reads the series of a row holding DLCSmoothInterp's object ids (DLCSmoothInterp
/// or DLCSmoothInterpCohort.BodyPart).
pub fn read_smoothed(
    db: &Db,
    analysis_file_name: &str,
    position_id: &str,
    info_id: &str,
) -> Result<SmoothedPart> {
    let f = open_analysis(db, analysis_file_name)?;
    let pos = read_series(&f, position_id, "position")?;
    let fr = read_series(&f, info_id, "video_frame_ind")?;
    let mut c = pos.columns.into_iter();
    Ok(SmoothedPart {
        time: pos.time,
        x: c.next().unwrap_or_default(),
        y: c.next().unwrap_or_default(),
        video_frame_ind: fr.columns.into_iter().next().unwrap_or_default(),
    })
}
