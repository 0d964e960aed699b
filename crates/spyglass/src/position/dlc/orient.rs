//! `position_v1_dlc_orient`: DLCOrientationParams (Spyglass's `default`),
//! DLCOrientationSelection and DLCOrientation, as Spyglass's make computes it: the
//! head direction from a cohort's smoothed body parts (`red_green_orientation`,
//! `red_led_bisector` or `none`), unwrapped over the non-NaN samples, interior NaN
//! gaps filled linearly, Gaussian-smoothed and wrapped to (−π, π]
//! ([`spyglass_position::dlc::orientation`]); written as a CompassDirection
//! (`orientation`, radians).

use super::cohort::{self, CohortKey};
use super::{position_err, read_series, write_container, Series};
use crate::kit::prelude::*;
use spyglass_position::dlc::{orientation, OrientationMethod, OrientationParams};
use spyglass_position::Xy;

/// Schema name.
pub const SCHEMA: &str = "position_v1_dlc_orient";
/// `DLCOrientationParams` (Manual).
pub const PARAMS: &str = "position_v1_dlc_orient.DLCOrientationParams";
/// `DLCOrientationSelection` (Manual).
pub const SELECTION: &str = "position_v1_dlc_orient.DLCOrientationSelection";
/// `DLCOrientation` (Computed).
pub const ORIENTATION: &str = "position_v1_dlc_orient.DLCOrientation";

/// Spyglass's `insert_default` set.
pub const DEFAULTS: [(&str, &str); 1] = [(
    "default",
    r#"{"orient_method": "red_green_orientation", "bodypart1": "greenLED", "bodypart2": "redLED_C", "orientation_smoothing_std_dev": 0.001}"#,
)];

/// DLCOrientationParams: Spyglass's default sets, checked as the make reads them.
pub static PARAMETERS: DictParams = DictParams {
    table: PARAMS,
    name_attr: "dlc_orientation_params_name",
    dict_attr: "params",
    defaults: &DEFAULTS,
    check: |name, dict| parse_params(name, dict).map(drop),
};

/// The key of DLCOrientationSelection and DLCOrientation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrientationKey {
    /// The cohort.
    #[serde(flatten)]
    pub cohort: CohortKey,
    /// The parameter set.
    pub dlc_orientation_params_name: String,
}

/// A DLCOrientation row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrientationRow {
    /// Its key.
    #[serde(flatten)]
    pub key: OrientationKey,
    /// The analysis file.
    pub analysis_file_name: String,
    /// Object id of the CompassDirection container.
    pub dlc_orientation_object_id: String,
}

/// The `position_v1_dlc_orient` pipeline.
pub struct DlcOrient;

impl Pipeline for DlcOrient {
    identity!(SCHEMA, requires[cohort::SCHEMA]);
    provides! {
        makers: ORIENTATION => OrientationMake;
        defaults: &PARAMETERS;
    }
    fn schemas(&self) -> Vec<Schema> {
        let params = "dlc_orientation_params_name: varchar(80) # name for this set of parameters
---
params: longblob";
        let selection = "-> position_v1_dlc_cohort.DLCSmoothInterpCohort
-> DLCOrientationParams
---";
        let orient = "-> DLCOrientationSelection
---
-> common_nwbfile.AnalysisNwbfile
dlc_orientation_object_id : varchar(80)";
        vec![Schema {
            name: SCHEMA,
            tables: vec![
                TableSpec::new("DLCOrientationParams", Tier::Manual, params),
                TableSpec::new("DLCOrientationSelection", Tier::Manual, selection),
                TableSpec::new("DLCOrientation", Tier::Computed, orient),
            ],
        }]
    }
}

/// A DLCOrientationParams dict as the computation's parameters.
pub fn parse_params(name: &str, d: &serde_json::Value) -> Result<OrientationParams> {
    let what = format!("{PARAMS} `{name}`");
    let text = |k: &str| {
        d.get(k)
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| Error::bad(&what, format!("`{k}` is missing")))
    };
    let method = match d.get("orient_method").and_then(|v| v.as_str()) {
        Some("none") => OrientationMethod::None,
        Some("red_green_orientation") => OrientationMethod::RedGreen {
            bodypart1: text("bodypart1")?,
            bodypart2: text("bodypart2")?,
        },
        Some("red_led_bisector") => OrientationMethod::RedLedBisector {
            led1: text("led1")?,
            led2: text("led2")?,
            led3: text("led3")?,
        },
        other => {
            return Err(Error::bad(
                &what,
                format!("orient_method {other:?}: none, red_green_orientation or red_led_bisector"),
            ))
        }
    };
    let sd = d
        .get("orientation_smoothing_std_dev")
        .and_then(|v| v.as_f64());
    let orientation_smoothing_std_dev = match (&method, sd) {
        (OrientationMethod::None, s) => s.unwrap_or(f64::NAN),
        (_, Some(s)) => s,
        (_, None) => {
            return Err(Error::bad(
                &what,
                "`orientation_smoothing_std_dev` must be a number",
            ))
        }
    };
    Ok(OrientationParams {
        method,
        orientation_smoothing_std_dev,
    })
}

#[derive(Deserialize)]
struct ParamsRow {
    params: serde_json::Value,
}

/// Inserts a DLCOrientationSelection row (skipped when present).
pub fn insert_selection(db: &Db, key: &OrientationKey) -> Result<()> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    db.put_new(SELECTION, std::slice::from_ref(key))?;
    Ok(())
}

/// What the make reads: the cohort's time base and the body parts the method uses.
#[derive(Serialize)]
struct Inputs {
    parent: std::path::PathBuf,
    time: Vec<f64>,
    parts: Vec<(String, super::position::SmoothedPart)>,
    #[serde(skip)]
    params: OrientationParams,
    params_text: String,
}

struct Output {
    file: crate::analysis::PendingFile,
    object_id: String,
}

struct OrientationMake;

impl Make for OrientationMake {
    const TABLE: &'static str = ORIENTATION;
    type Key = OrientationKey;
    type Inputs = Inputs;
    type Output = Output;

    fn fetch(&self, cx: &Cx, key: &OrientationKey) -> Result<Inputs> {
        let what = format!("{ORIENTATION} {}", key_text(key));
        let name = &key.dlc_orientation_params_name;
        let row: ParamsRow = cx.db.row(
            PARAMS,
            &serde_json::json!({"dlc_orientation_params_name": name}),
        )?;
        let params = parse_params(name, &row.params)?;
        let mut available = cohort::fetch_parts(cx.db, &key.cohort)?;
        // Spyglass indexes the orientation by the cohort's (first part's) timestamps
        let time = available
            .values()
            .next()
            .map(|p| p.time.clone())
            .ok_or_else(|| Error::bad(&what, "the cohort has no body parts"))?;
        let mut parts = vec![];
        for bp in params.method.body_parts() {
            let p = available.remove(bp).ok_or_else(|| {
                Error::bad(
                    &what,
                    format!("body part `{bp}` of the orientation is not in the cohort"),
                )
            })?;
            parts.push((bp.to_string(), p));
        }
        Ok(Inputs {
            parent: crate::analysis::nwb_file_path(cx.db, &key.cohort.pose.nwb_file_name)?,
            time,
            parts,
            params_text: format!("{params:?}"),
            params,
        })
    }

    fn compute(&self, settings: &Settings, key: &OrientationKey, i: Inputs) -> Result<Output> {
        let what = format!("{ORIENTATION} {}", key_text(key));
        if let Some((bp, _)) = i.parts.iter().find(|(_, p)| p.time != i.time) {
            return Err(Error::bad(
                &what,
                format!("body part `{bp}` has other timestamps than the cohort"),
            ));
        }
        let points: Vec<Vec<Xy>> = i
            .parts
            .iter()
            .map(|(_, p)| p.x.iter().zip(&p.y).map(|(&x, &y)| [x, y]).collect())
            .collect();
        let refs: Vec<&[Xy]> = points.iter().map(Vec::as_slice).collect();
        let theta = orientation(&i.time, &refs, &i.params).map_err(position_err(what))?;
        let (file, object_id) = crate::kit::analysis_file(
            settings,
            &key.cohort.pose.nwb_file_name,
            &i.parent,
            "DLCOrientation",
            |w| {
                write_container(
                    w,
                    "CompassDirection",
                    &i.time,
                    &[Series {
                        name: "orientation",
                        columns: vec![theta],
                        unit: "radians",
                        conversion: 1.0,
                        description: "orientation",
                    }],
                )
            },
        )?;
        Ok(Output { file, object_id })
    }

    fn insert(&self, cx: &Cx, key: &OrientationKey, out: Output) -> Result<()> {
        let row = OrientationRow {
            key: key.clone(),
            analysis_file_name: cx.db.register(out.file)?,
            dlc_orientation_object_id: out.object_id,
        };
        cx.db.put(ORIENTATION, &row)
    }
}

/// A DLCOrientation row's series: timestamps and orientation (radians).
pub fn fetch_orientation(db: &Db, key: &OrientationKey) -> Result<(Vec<f64>, Vec<f64>)> {
    let row: OrientationRow = db.row(ORIENTATION, key)?;
    let f = spyglass_nwb::NwbFile::open(crate::analysis::analysis_file_path(
        db,
        &row.analysis_file_name,
    )?)?;
    let s = read_series(&f, &row.dlc_orientation_object_id, "orientation")?;
    Ok((s.time, s.columns.into_iter().next().unwrap_or_default()))
}
