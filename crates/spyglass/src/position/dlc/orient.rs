//! `position_v1_dlc_orient`: DLCOrientationParams (Spyglass's `default`),
//! DLCOrientationSelection and DLCOrientation, as Spyglass's make computes it: the
//! head direction from a cohort's smoothed body parts (`red_green_orientation`,
//! `red_led_bisector` or `none`), unwrapped over the non-NaN samples, interior NaN
//! gaps filled linearly, Gaussian-smoothed and wrapped to (−π, π]
//! ([`spyglass_position::dlc::orientation`]); written as a CompassDirection
//! (`orientation`, radians).

use super::cohort::{self, CohortKey};
use super::{open_analysis, position_err, read_series, write_orientation};
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

dict_params! {
    /// DLCOrientationParams: Spyglass's default sets, checked as the make reads them.
    pub static PARAMETERS = PARAMS, "dlc_orientation_params_name" => "params", &DEFAULTS, parse_params;
}

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
    fn tables(&self) -> Vec<TableSpec> {
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
        vec![
            TableSpec::new("DLCOrientationParams", Tier::Manual, params),
            TableSpec::new("DLCOrientationSelection", Tier::Manual, selection),
            TableSpec::new("DLCOrientation", Tier::Computed, orient),
        ]
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

/// Inserts a DLCOrientationSelection row (skipped when present).
pub fn insert_selection(db: &Db, key: &OrientationKey) -> Result<()> {
    db.select_new(SELECTION, key)
}

/// What the make reads: the cohort's time base and the body parts the method uses.
#[derive(Serialize)]
struct Inputs {
    parent: std::path::PathBuf,
    time: Vec<f64>,
    parts: cohort::NamedParts,
    #[serde(skip)]
    params: OrientationParams,
    params_text: String,
}

struct OrientationMake;

impl Make for OrientationMake {
    const TABLE: &'static str = ORIENTATION;
    type Key = OrientationKey;
    type Inputs = Inputs;
    type Output = Written;

    fn fetch(&self, cx: &Cx, key: &OrientationKey) -> Result<Inputs> {
        let what = format!("{ORIENTATION} {}", key_text(key));
        let name = &key.dlc_orientation_params_name;
        let params = parse_params(name, &PARAMETERS.dict(cx.db, name)?)?;
        let names = params.method.body_parts();
        // Spyglass indexes the orientation by the cohort's (first part's) timestamps
        let (time, parts) = cohort::pick_parts(cx.db, &key.cohort, names, (&what, "orientation"))?;
        Ok(Inputs {
            parent: crate::analysis::nwb_file_path(cx.db, &key.cohort.pose.nwb_file_name)?,
            time,
            parts,
            params_text: format!("{params:?}"),
            params,
        })
    }

    fn compute(&self, settings: &Settings, key: &OrientationKey, i: Inputs) -> Result<Written> {
        let what = format!("{ORIENTATION} {}", key_text(key));
        if let Some((bp, _)) = i.parts.iter().find(|(_, p)| p.time != i.time) {
            return Err(Error::bad(
                &what,
                format!("body part `{bp}` has other timestamps than the cohort"),
            ));
        }
        let points = cohort::points(&i.parts);
        let refs: Vec<&[Xy]> = points.iter().map(Vec::as_slice).collect();
        let theta = orientation(&i.time, &refs, &i.params).map_err(position_err(what))?;
        crate::kit::analysis_file(
            settings,
            &key.cohort.pose.nwb_file_name,
            &i.parent,
            "DLCOrientation",
            |w| write_orientation(w, &i.time, theta),
        )
    }

    fn insert(&self, cx: &Cx, key: &OrientationKey, out: Written) -> Result<()> {
        cx.db
            .put_written(ORIENTATION, out, |analysis_file_name, id| OrientationRow {
                key: key.clone(),
                analysis_file_name,
                dlc_orientation_object_id: id,
            })
    }
}

/// A DLCOrientation row's series: timestamps and orientation (radians).
pub fn fetch_orientation(db: &Db, key: &OrientationKey) -> Result<(Vec<f64>, Vec<f64>)> {
    let row: OrientationRow = db.row(ORIENTATION, key)?;
    let f = open_analysis(db, &row.analysis_file_name)?;
    let s = read_series(&f, &row.dlc_orientation_object_id, "orientation")?;
    Ok((s.time, s.columns.into_iter().next().unwrap_or_default()))
}
