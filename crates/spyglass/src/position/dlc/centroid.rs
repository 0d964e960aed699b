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
use super::{position_err, read_series, write_container, Series, METERS_PER_CM};
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

/// DLCCentroidParams: Spyglass's default sets, checked as the make reads them.
pub static PARAMETERS: DictParams = DictParams {
    table: PARAMS,
    name_attr: "dlc_centroid_params_name",
    dict_attr: "params",
    defaults: &DEFAULTS,
    check: |name, dict| parse_params(name, dict).map(drop),
};

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
    fn schemas(&self) -> Vec<Schema> {
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
        vec![Schema {
            name: SCHEMA,
            tables: vec![
                TableSpec::new("DLCCentroidParams", Tier::Manual, params),
                TableSpec::new("DLCCentroidSelection", Tier::Manual, selection),
                TableSpec::new("DLCCentroid", Tier::Computed, centroid),
            ],
        }]
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

#[derive(Deserialize)]
struct ParamsRow {
    params: serde_json::Value,
}

/// Inserts a DLCCentroidSelection row (skipped when present).
pub fn insert_selection(db: &Db, key: &CentroidKey) -> Result<()> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    db.put_new(SELECTION, std::slice::from_ref(key))?;
    Ok(())
}

/// What the make reads: the cohort's smoothed parts the method uses.
#[derive(Serialize)]
struct Inputs {
    parent: std::path::PathBuf,
    parts: Vec<(String, super::position::SmoothedPart)>,
    #[serde(skip)]
    params: CentroidParams,
    params_text: String,
}

struct Output {
    file: crate::analysis::PendingFile,
    position_id: String,
    velocity_id: String,
}

struct CentroidMake;

impl Make for CentroidMake {
    const TABLE: &'static str = CENTROID;
    type Key = CentroidKey;
    type Inputs = Inputs;
    type Output = Output;

    fn fetch(&self, cx: &Cx, key: &CentroidKey) -> Result<Inputs> {
        let name = &key.dlc_centroid_params_name;
        let row: ParamsRow = cx.db.row(
            PARAMS,
            &serde_json::json!({"dlc_centroid_params_name": name}),
        )?;
        let params = parse_params(name, &row.params)?;
        let mut available = cohort::fetch_parts(cx.db, &key.cohort)?;
        let mut parts = vec![];
        for bp in params.method.body_parts() {
            let p = available.remove(bp).ok_or_else(|| {
                Error::bad(
                    format!("{CENTROID} {}", key_text(key)),
                    format!("body part `{bp}` of the centroid is not in the cohort"),
                )
            })?;
            parts.push((bp.to_string(), p));
        }
        Ok(Inputs {
            parent: crate::analysis::nwb_file_path(cx.db, &key.cohort.pose.nwb_file_name)?,
            parts,
            params_text: format!("{params:?}"),
            params,
        })
    }

    fn compute(&self, settings: &Settings, key: &CentroidKey, i: Inputs) -> Result<Output> {
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
        let points: Vec<Vec<Xy>> = i
            .parts
            .iter()
            .map(|(_, p)| p.x.iter().zip(&p.y).map(|(&x, &y)| [x, y]).collect())
            .collect();
        let refs: Vec<&[Xy]> = points.iter().map(Vec::as_slice).collect();
        let c = centroid_position(&time, &refs, &i.params).map_err(position_err(what))?;
        // Spyglass: the video frames of pos_df.columns.levels[0][0], the first name in sorted order
        let frames = i
            .parts
            .iter()
            .min_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, p)| p.video_frame_ind.clone())
            .unwrap_or_default();
        let col = |v: &[Xy], k: usize| v.iter().map(|p| p[k]).collect::<Vec<f64>>();
        let (file, (position_id, velocity_id)) = crate::kit::analysis_file(
            settings,
            &key.cohort.pose.nwb_file_name,
            &i.parent,
            "DLCCentroid",
            |w| {
                let pos = write_container(
                    w,
                    "Position",
                    &time,
                    &[Series {
                        name: "position",
                        columns: vec![col(&c.position, 0), col(&c.position, 1)],
                        unit: "meters",
                        conversion: METERS_PER_CM,
                        description: "x_position, y_position",
                    }],
                )?;
                let vel = write_container(
                    w,
                    "BehavioralTimeSeries",
                    &time,
                    &[
                        Series {
                            name: "velocity",
                            columns: vec![
                                col(&c.velocity, 0),
                                col(&c.velocity, 1),
                                c.speed.clone(),
                            ],
                            unit: "m/s",
                            conversion: METERS_PER_CM,
                            description: "x_velocity, y_velocity, speed",
                        },
                        Series {
                            name: "video_frame_ind",
                            columns: vec![frames],
                            unit: "index",
                            conversion: 1.0,
                            description: "video_frame_ind",
                        },
                    ],
                )?;
                Ok((pos, vel))
            },
        )?;
        Ok(Output {
            file,
            position_id,
            velocity_id,
        })
    }

    fn insert(&self, cx: &Cx, key: &CentroidKey, out: Output) -> Result<()> {
        let row = CentroidRow {
            key: key.clone(),
            analysis_file_name: cx.db.register(out.file)?,
            dlc_position_object_id: out.position_id,
            dlc_velocity_object_id: out.velocity_id,
        };
        cx.db.put(CENTROID, &row)
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
    let f = spyglass_nwb::NwbFile::open(crate::analysis::analysis_file_path(
        db,
        &row.analysis_file_name,
    )?)?;
    let pos = read_series(&f, &row.dlc_position_object_id, "position")?;
    let vel = read_series(&f, &row.dlc_velocity_object_id, "velocity")?;
    let fr = read_series(&f, &row.dlc_velocity_object_id, "video_frame_ind")?;
    let xy = |c: &[Vec<f64>], a: usize, b: usize| -> Vec<Xy> {
        c[a].iter().zip(&c[b]).map(|(&x, &y)| [x, y]).collect()
    };
    if pos.columns.len() != 2 || vel.columns.len() != 3 {
        return Err(Error::bad(
            CENTROID,
            format!("{}: unexpected series widths", row.analysis_file_name),
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
