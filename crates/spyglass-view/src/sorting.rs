//! The sorting view's API: a CurationV1 row's units (spike times for the raster,
//! labels, merge groups, metric columns when a metric curation wrote them),
//! autocorrelograms and amplitudes over time (computed as `spyglass sorting plot`
//! computes them: SpikeInterface's correlogram counts, and each spike's value on the
//! peak channel of the unit's average template of the recomputed recording), the
//! average templates with the contact positions (waveforms on the probe), and the curation
//! made in the browser (`--allow-curation`): a new CurationV1 child row with labels
//! and merge groups, by the database user, refused when cautious delete's LabTeam
//! rule says the user may not change the session's data.

use crate::{blocking, ApiError, Shared};
use axum::extract::{Query as Q, State as S};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value as J};
use spyglass::kit::Tables;
use spyglass::spikesorting::curation_v1 as cv;
use spyglass::spikesorting::figures::{self, FigureParams};
use spyglass::spikesorting::sorting_v1 as ss;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Spikes per unit sent for the raster and amplitudes at most (evenly thinned).
const MAX_SPIKES: usize = 5000;
/// Autocorrelogram half window, ms.
const ACG_WINDOW_MS: f64 = 50.0;
/// Autocorrelogram bin, ms.
const ACG_BIN_MS: f64 = 1.0;

/// Autocorrelograms, amplitudes and templates of the units of each curation viewed,
/// by `sorting_id/curation_id` (a curation's units never change: it is a new row when
/// curated).
pub type AmplitudeCache = std::sync::Mutex<std::collections::HashMap<String, UnitNumbers>>;

/// Query naming a curation.
#[derive(Deserialize)]
pub struct CurationParams {
    sorting_id: String,
    curation_id: i64,
}

fn key_of(p: &CurationParams) -> Result<cv::CurationKey, ApiError> {
    let sorting_id = Uuid::parse_str(&p.sorting_id)
        .map_err(|e| ApiError::bad(format!("sorting_id `{}`: {e}", p.sorting_id)))?;
    Ok(cv::CurationKey {
        sorting_id,
        curation_id: p.curation_id,
    })
}

fn not_found(e: impl std::fmt::Display) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, e.to_string())
}

/// What the view shows of a curation beyond its rows, computed as the sorting
/// pictures compute it ([`spyglass::spikesorting::figures::sorting_figure_data`]):
/// per unit the autocorrelogram (SpikeInterface's `compute_correlograms` counts over
/// ±`ACG_WINDOW_MS` in `ACG_BIN_MS` bins), the amplitudes (`spike_amplitudes` on the
/// peak channel of the unit's average template; spike times and amplitudes thinned to
/// `MAX_SPIKES`: only theirs are computed) and the average template per channel; and the probe: the
/// recording's electrode ids, contact positions and the template window.
#[derive(Clone)]
pub struct UnitNumbers {
    probe: J,
    units: Vec<J>,
}

fn unit_numbers(db: &spyglass_db::Db, key: &cv::CurationKey) -> Result<UnitNumbers, ApiError> {
    let params = FigureParams {
        acg_window_ms: 2.0 * ACG_WINDOW_MS,
        acg_bin_ms: ACG_BIN_MS,
        amplitude_spikes: Some(MAX_SPIKES),
        ..FigureParams::default()
    };
    let d = figures::sorting_figure_data(db, key, &params).map_err(ApiError::bad)?;
    let nc = d.channel_ids.len();
    let probe = json!({
        "channel_ids": d.channel_ids,
        "locations": d.locations,
        "nbefore": d.nbefore,
        "num_samples": d.num_samples,
        "sampling_rate": d.sampling_rate,
    });
    let units = d
        .units
        .iter()
        .map(|u| {
            // channel-major: one trace per channel (the template is sample-major)
            let template: Vec<Vec<Option<f32>>> = (0..nc)
                .map(|c| {
                    (0..d.num_samples)
                        .map(|s| {
                            u.template
                                .get(s * nc + c)
                                .copied()
                                .filter(|v| v.is_finite())
                        })
                        .collect()
                })
                .collect();
            json!({
                "acg": u.acg,
                "peak_channel": u.peak_channel,
                "template": template,
                "amplitudes": {
                    "id": u.id,
                    "channel": u.peak_electrode,
                    "t": u.spike_times.iter().step_by(u.amplitude_step.max(1)).collect::<Vec<_>>(),
                    "amplitude": u.amplitudes,
                },
            })
        })
        .collect();
    Ok(UnitNumbers { probe, units })
}

/// `GET /api/sorting?sorting_id=&curation_id=`: the curation's row, its units (thinned
/// spike times, labels, merge groups, metric columns), autocorrelograms, amplitudes,
/// its child curations and whether the server accepts curation.
pub async fn sorting(S(state): S<Shared>, Q(p): Q<CurationParams>) -> Result<Json<J>, ApiError> {
    blocking(&state, move |s| {
        let db = &s.db;
        let key = key_of(&p)?;
        let row: cv::CurationRow = db.row(cv::CURATION, &key).map_err(not_found)?;
        let sel: ss::SortingSelection = db
            .row(
                ss::SELECTION,
                &ss::SortingKey {
                    sorting_id: key.sorting_id,
                },
            )
            .map_err(ApiError::bad)?;
        let units = cv::get_sorting(db, &key).map_err(ApiError::bad)?;
        let metrics = metric_columns(db, &row).unwrap_or_default();
        let cache_key = format!("{}/{}", key.sorting_id, key.curation_id);
        let cached = s
            .amplitudes
            .lock()
            .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
            .get(&cache_key)
            .cloned();
        let numbers = match cached {
            Some(a) => a,
            None => {
                let a = unit_numbers(db, &key)?;
                s.amplitudes
                    .lock()
                    .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
                    .insert(cache_key, a.clone());
                a
            }
        };
        let unit_json: Vec<J> = units
            .iter()
            .zip(&numbers.units)
            .map(|(u, n)| {
                let m: BTreeMap<&str, f64> = metrics
                    .iter()
                    .filter_map(|(name, vals)| vals.get(&u.id).map(|v| (name.as_str(), *v)))
                    .collect();
                json!({
                    "id": u.id,
                    "n_spikes": u.spike_times.len(),
                    "labels": u.labels,
                    "merge_group": u.merge_group,
                    "metrics": m,
                    "acg": n["acg"],
                    "amplitudes": n["amplitudes"],
                    "peak_channel": n["peak_channel"],
                    "template": n["template"],
                })
            })
            .collect();
        let children: Vec<cv::CurationRow> = db
            .rows(cv::CURATION, &json!({ "sorting_id": key.sorting_id }))
            .map_err(ApiError::bad)?;
        Ok(Json(json!({
            "sorting_id": key.sorting_id,
            "curation_id": key.curation_id,
            "parent_curation_id": row.parent_curation_id,
            "description": row.description,
            "merges_applied": row.merges_applied,
            "nwb_file_name": sel.key.nwb_file_name,
            "sorter": sel.key.sorter,
            "acg_window_ms": ACG_WINDOW_MS,
            "acg_bin_ms": ACG_BIN_MS,
            "allow_curation": s.allow_curation,
            "probe": numbers.probe,
            "units": unit_json,
            "curations": children.iter().map(|c| json!({
                "curation_id": c.curation_id,
                "parent_curation_id": c.parent_curation_id,
                "description": c.description,
            })).collect::<Vec<_>>(),
        })))
    })
    .await
}

/// The f64 columns of the curation's units table other than ids and spike times (the
/// metrics a metric curation wrote), per unit id.
fn metric_columns(
    db: &spyglass_db::Db,
    row: &cv::CurationRow,
) -> Option<Vec<(String, BTreeMap<i64, f64>)>> {
    let path = spyglass::analysis::analysis_file_path(db, &row.analysis_file_name).ok()?;
    let file = spyglass_nwb::NwbFile::open(&path).ok()?;
    let at = file.path_of_id(&row.object_id).ok()?;
    let table = file.table(&at).ok()?;
    let ids = table.ids.clone();
    let mut out = vec![];
    for name in table.colnames.clone() {
        if [
            "spike_times",
            "curation_label",
            "merge_groups",
            "obs_intervals",
            "electrodes",
        ]
        .contains(&name.as_str())
        {
            continue;
        }
        if table.column(&name).is_some_and(|c| c.is_ragged()) {
            continue;
        }
        if let Ok(v) = table.f64_column(&name) {
            if v.len() == ids.len() {
                out.push((name, ids.iter().copied().zip(v).collect()));
            }
        }
    }
    Some(out)
}

/// Body of `POST /api/curation`.
#[derive(Deserialize)]
pub struct CurationBody {
    sorting_id: String,
    /// The curation viewed: the parent of the new one.
    curation_id: i64,
    /// Labels per unit id (JSON object keys are text).
    #[serde(default)]
    labels: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    merge_groups: Vec<Vec<i64>>,
    #[serde(default)]
    description: String,
}

/// `POST /api/curation`: with `--allow-curation`, inserts a CurationV1 row whose parent
/// is the curation viewed, with the labels and merge groups (recorded, not applied),
/// attributed to the database user and refused (403) when that user may not change
/// the session's data; logged on stderr. Without `--allow-curation`: 403.
pub async fn curation(
    S(state): S<Shared>,
    body: Result<Json<CurationBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<J>, ApiError> {
    if !state.allow_curation {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            "this server is read-only: start it with `spyglass view --allow-curation` to curate"
                .into(),
        ));
    }
    let Json(b) = body.map_err(|e| ApiError::bad(format!("curation: {e}")))?;
    blocking(&state, move |s| {
        let db = &s.db;
        let key = key_of(&CurationParams {
            sorting_id: b.sorting_id.clone(),
            curation_id: b.curation_id,
        })?;
        let sel: ss::SortingSelection = db
            .row(ss::SELECTION, &ss::SortingKey {
                sorting_id: key.sorting_id,
            })
            .map_err(not_found)?;
        let user = spyglass::cautious_delete::check_session_write(
            db,
            &sel.key.nwb_file_name,
            None,
            cv::CURATION,
        )
        .map_err(|e| {
            if spyglass::cautious_delete::is_refusal(&e) {
                ApiError(StatusCode::FORBIDDEN, e.to_string())
            } else {
                ApiError::bad(e)
            }
        })?;
        let mut labels = BTreeMap::new();
        for (k, v) in &b.labels {
            let id: i64 = k
                .parse()
                .map_err(|_| ApiError::bad(format!("labels: `{k}` is not a unit id")))?;
            if !v.is_empty() {
                labels.insert(id, v.clone());
            }
        }
        let description = if b.description.trim().is_empty() {
            format!("curated in spyglass view by {user}")
        } else {
            b.description.clone()
        };
        let input = cv::CurationInput {
            parent_curation_id: key.curation_id,
            labels: (!labels.is_empty()).then_some(labels.clone()),
            merge_groups: (!b.merge_groups.is_empty()).then(|| b.merge_groups.clone()),
            apply_merge: false,
            metrics: None,
            description,
        };
        let settings = spyglass::Settings::from_env();
        let row = cv::insert_curation(db, &settings, key.sorting_id, &input)
            .map_err(ApiError::bad)?;
        eprintln!(
            "spyglass view: curation by {user}: {} sorting {} curation {} (parent {}), labels {:?}, merge groups {:?}",
            cv::CURATION,
            row.sorting_id,
            row.curation_id,
            row.parent_curation_id,
            labels,
            b.merge_groups
        );
        Ok(Json(json!({
            "sorting_id": row.sorting_id,
            "curation_id": row.curation_id,
            "parent_curation_id": row.parent_curation_id,
            "description": row.description,
            "user": user,
        })))
    })
    .await
}
