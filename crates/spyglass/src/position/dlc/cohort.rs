//! `position_v1_dlc_cohort`: DLCSmoothInterpCohortSelection and
//! DLCSmoothInterpCohort (+ BodyPart), as Spyglass's make fills them: the body parts
//! named in `bodyparts_params_dict` (body part → DLCSmoothInterpParams name), each
//! with its DLCSmoothInterp row copied into the part; every named body part must
//! have been smoothed with its parameter set.

use super::pose_estimation::PoseKey;
use super::position::{self, SmoothInterpRow};
use crate::kit::prelude::*;
use std::collections::BTreeMap;

/// Schema name.
pub const SCHEMA: &str = "position_v1_dlc_cohort";
/// `DLCSmoothInterpCohortSelection` (Manual).
pub const SELECTION: &str = "position_v1_dlc_cohort.DLCSmoothInterpCohortSelection";
/// `DLCSmoothInterpCohort` (Computed).
pub const COHORT: &str = "position_v1_dlc_cohort.DLCSmoothInterpCohort";
/// `DLCSmoothInterpCohort.BodyPart` (Part).
pub const COHORT_BODY_PART: &str = "position_v1_dlc_cohort.DLCSmoothInterpCohort.BodyPart";

/// The key of DLCSmoothInterpCohortSelection and DLCSmoothInterpCohort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortKey {
    /// The cohort's name.
    pub dlc_si_cohort_selection_name: String,
    /// The pose estimation.
    #[serde(flatten)]
    pub pose: PoseKey,
}

/// A DLCSmoothInterpCohort.BodyPart row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortBodyPart {
    /// The cohort.
    pub dlc_si_cohort_selection_name: String,
    /// The DLCSmoothInterp row (key and objects).
    #[serde(flatten)]
    pub smoothed: SmoothInterpRow,
}

/// The `position_v1_dlc_cohort` pipeline.
pub struct DlcCohort;

impl Pipeline for DlcCohort {
    identity!(SCHEMA, requires[position::SCHEMA]);
    provides! {
        makers: COHORT => CohortMake;
    }
    fn tables(&self) -> Vec<TableSpec> {
        let selection = "dlc_si_cohort_selection_name : varchar(120)
-> position_v1_dlc_pose_estimation.DLCPoseEstimation
---
bodyparts_params_dict   : blob      # Dict with bodypart as key and desired dlc_si_params_name as value";
        let part = "-> DLCSmoothInterpCohort
-> position_v1_dlc_position.DLCSmoothInterp
---
-> common_nwbfile.AnalysisNwbfile
dlc_smooth_interp_position_object_id : varchar(80)
dlc_smooth_interp_info_object_id : varchar(80)";
        vec![
            TableSpec::new("DLCSmoothInterpCohortSelection", Tier::Manual, selection),
            TableSpec::new(
                "DLCSmoothInterpCohort",
                Tier::Computed,
                "-> DLCSmoothInterpCohortSelection",
            )
            .part("BodyPart", part),
        ]
    }
}

/// Inserts a cohort selection: body part → DLCSmoothInterpParams name.
pub fn insert_selection(
    db: &Db,
    key: &CohortKey,
    bodyparts: &BTreeMap<String, String>,
) -> Result<()> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    let dict =
        serde_json::to_value(bodyparts).map_err(|e| Error::internal(SELECTION, e.to_string()))?;
    let row = super::row_with(
        SELECTION,
        key,
        vec![(
            "bodyparts_params_dict",
            Value::from(spyglass_blob::from_json(&dict)),
        )],
    )?;
    let skip = InsertOptions {
        skip_duplicates: true,
        ..Default::default()
    };
    db.insert1(SELECTION, row, skip)?;
    Ok(())
}

#[derive(Deserialize)]
struct SelectionRow {
    bodyparts_params_dict: serde_json::Value,
}

struct CohortMake;

impl Make for CohortMake {
    const TABLE: &'static str = COHORT;
    type Key = CohortKey;
    type Inputs = Vec<CohortBodyPart>;
    type Output = Vec<CohortBodyPart>;

    fn fetch(&self, cx: &Cx, key: &CohortKey) -> Result<Vec<CohortBodyPart>> {
        let sel: SelectionRow = cx.db.row(SELECTION, key)?;
        let what = format!("{SELECTION} {}", key_text(key));
        let dict = match &sel.bodyparts_params_dict {
            serde_json::Value::Object(m) => m.clone(),
            other => {
                return Err(Error::bad(
                    &what,
                    format!("bodyparts_params_dict is not a dict: {other}"),
                ))
            }
        };
        let mut parts = vec![];
        for (bodypart, params) in dict {
            let params = params.as_str().ok_or_else(|| {
                Error::bad(
                    &what,
                    format!("`{bodypart}`: the parameter set name is not text"),
                )
            })?;
            let q = position::SmoothInterpKey {
                part: super::pose_estimation::PoseBodyPartKey {
                    pose: key.pose.clone(),
                    bodypart: bodypart.clone(),
                },
                dlc_si_params_name: params.to_string(),
            };
            let rows: Vec<SmoothInterpRow> = cx.db.rows(position::SMOOTH_INTERP, &q)?;
            let Some(row) = rows.into_iter().next() else {
                return Err(Error::missing(position::SMOOTH_INTERP, key_text(&q)));
            };
            parts.push(CohortBodyPart {
                dlc_si_cohort_selection_name: key.dlc_si_cohort_selection_name.clone(),
                smoothed: row,
            });
        }
        Ok(parts)
    }

    fn compute(
        &self,
        _: &Settings,
        _: &CohortKey,
        parts: Vec<CohortBodyPart>,
    ) -> Result<Vec<CohortBodyPart>> {
        Ok(parts)
    }

    fn insert(&self, cx: &Cx, key: &CohortKey, parts: Vec<CohortBodyPart>) -> Result<()> {
        cx.db.put(COHORT, key)?;
        cx.db.put_new(COHORT_BODY_PART, &parts)?;
        Ok(())
    }
}

/// The smoothed body parts of a cohort, by name.
pub fn fetch_parts(db: &Db, key: &CohortKey) -> Result<BTreeMap<String, position::SmoothedPart>> {
    let rows: Vec<CohortBodyPart> = db.rows(COHORT_BODY_PART, key)?;
    let mut out = BTreeMap::new();
    for r in rows {
        let s = &r.smoothed;
        let part = position::read_smoothed(
            db,
            &s.analysis_file_name,
            &s.dlc_smooth_interp_position_object_id,
            &s.dlc_smooth_interp_info_object_id,
        )?;
        out.insert(s.key.part.bodypart.clone(), part);
    }
    Ok(out)
}

/// Smoothed body parts with their names.
pub(crate) type NamedParts = Vec<(String, position::SmoothedPart)>;

/// The smoothed body parts `names` of a cohort, in that order, and the timestamps
/// of its first part by name (Spyglass indexes by them); an error naming `what`
/// when the cohort has no parts or a part is not in it (`role`: what it is for).
pub(crate) fn pick_parts(
    db: &Db,
    key: &CohortKey,
    names: Vec<&str>,
    (what, role): (&str, &str),
) -> Result<(Vec<f64>, NamedParts)> {
    let mut available = fetch_parts(db, key)?;
    let first_time = (available.values().next().map(|p| p.time.clone()))
        .ok_or_else(|| Error::bad(what, "the cohort has no body parts"))?;
    let mut parts = vec![];
    for bp in names {
        let p = available.remove(bp).ok_or_else(|| {
            Error::bad(
                what,
                format!("body part `{bp}` of the {role} is not in the cohort"),
            )
        })?;
        parts.push((bp.to_string(), p));
    }
    Ok((first_time, parts))
}

/// The (x, y) points of each part.
pub(crate) fn points(
    parts: &[(String, position::SmoothedPart)],
) -> Vec<Vec<spyglass_position::Xy>> {
    let xy = |p: &position::SmoothedPart| p.x.iter().zip(&p.y).map(|(&x, &y)| [x, y]).collect();
    parts.iter().map(|(_, p)| xy(p)).collect()
}
