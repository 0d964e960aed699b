//! `position_v1_dlc_centroid`: DLCCentroidParams (Spyglass's `default`),
//! DLCCentroidSelection and DLCCentroid, as Spyglass's make computes it: the
//! centroid of one, two or four smoothed body parts of a cohort
//! (`max_LED_separation`), its NaN gaps interpolated, a trailing moving mean,
//! then velocity and speed ([`spyglass_position::dlc::centroid_position`]); written
//! as a Position (`position`, cm, conversion 0.01) and a BehavioralTimeSeries
//! (`velocity` = vx, vy, speed; `video_frame_ind` of the alphabetically first body
//! part used, as Spyglass takes `pos_df.columns.levels[0][0]`). The `null` method
//! (an empty result) is refused.

use super::cohort::{self, CohortKey};
use super::{open_analysis, position_err, read_series, write_position, write_velocity, xy_columns};
use crate::kit::prelude::*;
use spyglass_position::dlc::{centroid_position, CentroidMethod, CentroidParams};
use spyglass_position::Xy;

/// Schema name.
pub const SCHEMA: &str = "position_v1_dlc_centroid";
/// `DLCCentroidParams` (Manual).
pub const PARAMS: &str = "position_v1_dlc_centroid.DLCCentroidParams";
/// `DLCCentroidSelection` (Manual).
pub const SELECTION: &str = "position_v1_dlc_centroid.DLCCentroidSelection";
/// `DLCCentroid` (Computed).
pub const CENTROID: &str = "position_v1_dlc_centroid.DLCCentroid";

/// Spyglass's `insert_default` set.
pub const DEFAULTS: [(&str, &str); 1] = [(
    "default",
    r#"{"centroid_method": "two_pt_centroid", "points": {"point1": "greenLED", "point2": "redLED_C"}, "interpolate": true, "interp_params": {"max_cm_to_interp": 15}, "smooth": true, "smoothing_params": {"smoothing_duration": 0.05, "smooth_method": "moving_avg"}, "max_LED_separation": 12, "speed_smoothing_std_dev": 0.1}"#,
)];

dict_params! {
    /// DLCCentroidParams: Spyglass's default sets, checked as the make reads them.
    pub static PARAMETERS = PARAMS, "dlc_centroid_params_name" => "params", &DEFAULTS, parse_params;
}

/// The key of DLCCentroidSelection and DLCCentroid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CentroidKey {
    /// The cohort.
    #[serde(flatten)]
    pub cohort: CohortKey,
    /// The parameter set.
    pub dlc_centroid_params_name: String,
}

/// A DLCCentroid row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CentroidRow {
    /// Its key.
    #[serde(flatten)]
    pub key: CentroidKey,
    /// The analysis file.
    pub analysis_file_name: String,
    /// Object id of the Position container.
    pub dlc_position_object_id: String,
    /// Object id of the BehavioralTimeSeries container (velocity, video_frame_ind).
    pub dlc_velocity_object_id: String,
}

/// The `position_v1_dlc_centroid` pipeline.
pub struct DlcCentroid;

impl Pipeline for DlcCentroid {
    identity!(SCHEMA, requires[cohort::SCHEMA]);
    provides! {
        makers: CENTROID => CentroidMake;
        defaults: &PARAMETERS;
    }
    fn tables(&self) -> Vec<TableSpec> {
        let params = "dlc_centroid_params_name: varchar(80) # name for this set of parameters
---
params: longblob";
        let selection = "-> position_v1_dlc_cohort.DLCSmoothInterpCohort
-> DLCCentroidParams";
        let centroid = "-> DLCCentroidSelection
---
-> common_nwbfile.AnalysisNwbfile
dlc_position_object_id : varchar(80)
dlc_velocity_object_id : varchar(80)";
        vec![
            TableSpec::new("DLCCentroidParams", Tier::Manual, params),
            TableSpec::new("DLCCentroidSelection", Tier::Manual, selection),
            TableSpec::new("DLCCentroid", Tier::Computed, centroid),
        ]
    }
}

/// A DLCCentroidParams dict as the computation's parameters.
pub fn parse_params(name: &str, d: &serde_json::Value) -> Result<CentroidParams> {
    let what = format!("{PARAMS} `{name}`");
    let num = |p: &str| d.pointer(p).and_then(|v| v.as_f64());
    let need = |p: &str| {
        num(p).ok_or_else(|| Error::bad(&what, format!("`{}` must be a number", &p[1..])))
    };
    let truthy = |k: &str| match d.get(k) {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::Number(n)) => n.as_f64().is_some_and(|v| v != 0.0),
        _ => false,
    };
    let point = |k: &str| {
        d.pointer(&format!("/points/{k}"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| Error::bad(&what, format!("points has no `{k}`")))
    };
    let method = match d.get("centroid_method").and_then(|v| v.as_str()) {
        Some("one_pt_centroid") => CentroidMethod::OnePt {
            point1: point("point1")?,
        },
        Some("two_pt_centroid") => CentroidMethod::TwoPt {
            point1: point("point1")?,
            point2: point("point2")?,
        },
        Some("four_led_centroid") => CentroidMethod::FourLed {
            green: point("greenLED")?,
            red_left: point("redLED_L")?,
            red_center: point("redLED_C")?,
            red_right: point("redLED_R")?,
        },
        other => {
            let known = "one_pt_centroid, two_pt_centroid or four_led_centroid";
            return Err(Error::bad(
                &what,
                format!("centroid_method {other:?}: {known}"),
            ));
        }
    };
    let smooth = truthy("smooth");
    if smooth
        && d.pointer("/smoothing_params/smooth_method")
            .and_then(|v| v.as_str())
            != Some("moving_avg")
    {
        return Err(Error::bad(
            &what,
            "smooth_method: only `moving_avg` (Spyglass's only method)",
        ));
    }
    let interpolate = truthy("interpolate");
    Ok(CentroidParams {
        method,
        max_led_separation: need("/max_LED_separation")?,
        interpolate,
        max_cm_to_interp: if interpolate {
            num("/interp_params/max_cm_to_interp").unwrap_or(f64::INFINITY)
        } else {
            f64::INFINITY
        },
        max_pts_to_interp: num("/interp_params/max_pts_to_interp").unwrap_or(f64::INFINITY),
        smooth,
        smoothing_duration: if smooth {
            need("/smoothing_params/smoothing_duration")?
        } else {
            0.0
        },
        speed_smoothing_std_dev: need("/speed_smoothing_std_dev")?,
    })
}

/// Inserts a DLCCentroidSelection row (skipped when present).
pub fn insert_selection(db: &Db, key: &CentroidKey) -> Result<()> {
    db.select_new(SELECTION, key)
}

/// What the make reads: the cohort's smoothed parts the method uses.
#[derive(Serialize)]
struct Inputs {
    parent: std::path::PathBuf,
    parts: cohort::NamedParts,
    #[serde(skip)]
    params: CentroidParams,
    params_text: String,
}

struct CentroidMake;

impl Make for CentroidMake {
    const TABLE: &'static str = CENTROID;
    type Key = CentroidKey;
    type Inputs = Inputs;
    type Output = Written<(String, String)>;

    fn fetch(&self, cx: &Cx, key: &CentroidKey) -> Result<Inputs> {
        let name = &key.dlc_centroid_params_name;
        let params = parse_params(name, &PARAMETERS.dict(cx.db, name)?)?;
        let what = format!("{CENTROID} {}", key_text(key));
        let names = params.method.body_parts();
        let (_, parts) = cohort::pick_parts(cx.db, &key.cohort, names, (&what, "centroid"))?;
        Ok(Inputs {
            parent: crate::analysis::nwb_file_path(cx.db, &key.cohort.pose.nwb_file_name)?,
            parts,
            params_text: format!("{params:?}"),
            params,
        })
    }

    fn compute(&self, settings: &Settings, key: &CentroidKey, i: Inputs) -> Result<Self::Output> {
        let what = format!("{CENTROID} {}", key_text(key));
        let time = i.parts[0].1.time.clone();
        if let Some((bp, _)) = i.parts.iter().find(|(_, p)| p.time != time) {
            return Err(Error::bad(
                &what,
                format!(
                    "body part `{bp}` has other timestamps than `{}`",
                    i.parts[0].0
                ),
            ));
        }
        let points = cohort::points(&i.parts);
        let refs: Vec<&[Xy]> = points.iter().map(Vec::as_slice).collect();
        let c = centroid_position(&time, &refs, &i.params).map_err(position_err(what))?;
        // Spyglass: the video frames of pos_df.columns.levels[0][0], the first name in sorted order
        let frames = i
            .parts
            .iter()
            .min_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, p)| p.video_frame_ind.clone())
            .unwrap_or_default();
        crate::kit::analysis_file(
            settings,
            &key.cohort.pose.nwb_file_name,
            &i.parent,
            "DLCCentroid",
            |w| {
                let pos = write_position(w, &time, xy_columns(&c.position))?;
                let vel = write_velocity(w, &time, (&c.velocity, &c.speed), frames)?;
                Ok((pos, vel))
            },
        )
    }

    fn insert(&self, cx: &Cx, key: &CentroidKey, out: Self::Output) -> Result<()> {
        cx.db
            .put_written(CENTROID, out, |analysis_file_name, (pos, vel)| {
                CentroidRow {
                    key: key.clone(),
                    analysis_file_name,
                    dlc_position_object_id: pos,
                    dlc_velocity_object_id: vel,
                }
            })
    }
}

/// DLCCentroid's series as its `fetch1_dataframe` gives them.
#[derive(Debug, Clone, PartialEq)]
pub struct CentroidData {
    /// Timestamps, s.
    pub time: Vec<f64>,
    /// Video frame of each row.
    pub video_frame_ind: Vec<f64>,
    /// Position (x, y), cm.
    pub position: Vec<Xy>,
    /// Velocity (x, y), cm/s.
    pub velocity: Vec<Xy>,
    /// Speed, cm/s.
    pub speed: Vec<f64>,
}

/// Reads a DLCCentroid row's series.
pub fn fetch_centroid(db: &Db, key: &CentroidKey) -> Result<CentroidData> {
    let row: CentroidRow = db.row(CENTROID, key)?;
    let ids = (&*row.dlc_position_object_id, &*row.dlc_velocity_object_id);
    read_position_velocity(db, CENTROID, &row.analysis_file_name, ids)
}

/// Reads the Position (`position`) and BehavioralTimeSeries (`velocity`,
/// `video_frame_ind`) containers with object ids `ids` of an analysis file of
/// `table` (DLCCentroid's and DLCPosV1's series).
pub(crate) fn read_position_velocity(
    db: &Db,
    table: &str,
    analysis_file_name: &str,
    (position_id, velocity_id): (&str, &str),
) -> Result<CentroidData> {
    let f = open_analysis(db, analysis_file_name)?;
    let pos = read_series(&f, position_id, "position")?;
    let vel = read_series(&f, velocity_id, "velocity")?;
    let fr = read_series(&f, velocity_id, "video_frame_ind")?;
    let xy = |c: &[Vec<f64>], a: usize, b: usize| -> Vec<Xy> {
        c[a].iter().zip(&c[b]).map(|(&x, &y)| [x, y]).collect()
    };
    if pos.columns.len() != 2 || vel.columns.len() != 3 {
        return Err(Error::bad(
            table,
            format!("{analysis_file_name}: unexpected series widths"),
        ));
    }
    Ok(CentroidData {
        time: pos.time,
        position: xy(&pos.columns, 0, 1),
        velocity: xy(&vel.columns, 0, 1),
        speed: vel.columns[2].clone(),
        video_frame_ind: fr.columns.into_iter().next().unwrap_or_default(),
    })
}
