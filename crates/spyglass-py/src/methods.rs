//! Spyglass's table methods that do more than an insert, for the Python package's
//! tables (`python/spyglass_rs/_methods.py` attaches them to their classes): sort
//! groups by shank, the spike-sorting selections whose ids are derived from their
//! content, curations and their merge entries. One entry point, [`call`]: a method
//! name and its keyword arguments as JSON in, the result as JSON out; the work runs
//! with the GIL released.

use crate::connection::Connection;
use crate::err;
use pyo3::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use spyglass::spikesorting::{
    artifact_v1, curation_v1, metric_curation_v1, recording_v1, sorting_v1,
};
use std::collections::BTreeMap;
use uuid::Uuid;

/// `call(connection, method, kwargs_json)`: runs Spyglass method `method` (see
/// [`dispatch`]) and returns its result as JSON.
#[pyfunction]
pub(crate) fn call(
    py: Python<'_>,
    conn: &Connection,
    method: &str,
    kwargs: &str,
) -> PyResult<String> {
    let sg = conn.sg.clone();
    let args: Value = serde_json::from_str(kwargs)
        .map_err(|e| err(format!("{method}: arguments are not JSON: {e}")))?;
    let out = py
        .detach(|| dispatch(&sg, method, &args))
        .map_err(|e| err(format!("{method}: {e}")))?;
    Ok(out.to_string())
}

fn arg<T: DeserializeOwned>(args: &Value, name: &str) -> Result<T, String> {
    serde_json::from_value(args.get(name).cloned().unwrap_or(Value::Null))
        .map_err(|e| format!("argument `{name}`: {e}"))
}

fn key<T: DeserializeOwned>(args: &Value) -> Result<T, String> {
    serde_json::from_value(args.clone()).map_err(|e| format!("key {args}: {e}"))
}

fn opt<T: DeserializeOwned>(args: &Value, name: &str) -> Result<Option<T>, String> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => arg(args, name).map(Some),
    }
}

/// The methods, by name:
/// - `set_group_by_shank` (`SortGroup`): `nwb_file_name`, `references`
///   (electrode group → reference id), `omit_ref_electrode_group`, `omit_unitrode`;
/// - `recording_selection` / `artifact_selection` / `sorting_selection` /
///   `metric_curation_selection`: the selection key → its id (existing or new);
/// - `insert_curation` (`CurationV1`): `sorting_id`, `parent_curation_id`, `labels`,
///   `merge_groups`, `apply_merge`, `metrics`, `description` → the new row's key;
/// - `insert_metric_curation`: `metric_curation_id`, `apply_merge` → the key;
/// - `metric_curation_labels` / `_merge_groups` / `_metrics`: a MetricCuration's
///   labels (unit → labels), merge groups and metrics (name → unit → value);
/// - `spikesorting_merge_insert`: a CurationV1 key → its SpikeSortingOutput merge id.
fn dispatch(sg: &spyglass::Spyglass, method: &str, args: &Value) -> Result<Value, String> {
    let db = sg.db();
    let e = |x: spyglass::error::Error| x.to_string();
    let curation_key = |r: curation_v1::CurationRow| json!({"sorting_id": r.sorting_id, "curation_id": r.curation_id});
    Ok(match method {
        "set_group_by_shank" => {
            let opts = recording_v1::ShankOptions {
                references: opt::<BTreeMap<String, i64>>(args, "references")?
                    .map(|m| m.into_iter().collect()),
                omit_ref_electrode_group: opt(args, "omit_ref_electrode_group")?.unwrap_or(false),
                omit_unitrode: opt(args, "omit_unitrode")?.unwrap_or(true),
            };
            let name: String = arg(args, "nwb_file_name")?;
            let groups = recording_v1::set_group_by_shank(db, &name, &opts).map_err(e)?;
            json!(groups.len())
        }
        "recording_selection" => {
            json!(recording_v1::insert_selection(db, &key(args)?).map_err(e)?)
        }
        "artifact_selection" => {
            let id: Uuid = arg(args, "recording_id")?;
            let name: String = arg(args, "artifact_param_name")?;
            json!(artifact_v1::insert_selection(db, id, &name).map_err(e)?)
        }
        "sorting_selection" => json!(sorting_v1::insert_selection(db, &key(args)?).map_err(e)?),
        "metric_curation_selection" => {
            json!(metric_curation_v1::insert_selection(db, &key(args)?).map_err(e)?)
        }
        "insert_curation" => {
            let input = curation_v1::CurationInput {
                parent_curation_id: opt(args, "parent_curation_id")?.unwrap_or(-1),
                labels: opt(args, "labels")?,
                merge_groups: opt(args, "merge_groups")?,
                apply_merge: opt(args, "apply_merge")?.unwrap_or(false),
                metrics: opt::<BTreeMap<String, BTreeMap<i64, f64>>>(args, "metrics")?
                    .map(|m| m.into_iter().collect()),
                description: opt(args, "description")?.unwrap_or_default(),
            };
            let id: Uuid = arg(args, "sorting_id")?;
            curation_key(curation_v1::insert_curation(db, sg.settings(), id, &input).map_err(e)?)
        }
        "insert_metric_curation" => {
            let k = metric_curation_v1::MetricCurationKey {
                metric_curation_id: arg(args, "metric_curation_id")?,
            };
            let apply: bool = opt(args, "apply_merge")?.unwrap_or(false);
            let row = metric_curation_v1::insert_metric_curation(db, sg.settings(), &k, apply)
                .map_err(e)?;
            curation_key(row)
        }
        "metric_curation_labels" | "metric_curation_merge_groups" | "metric_curation_metrics" => {
            let k = metric_curation_v1::MetricCurationKey {
                metric_curation_id: arg(args, "metric_curation_id")?,
            };
            match method {
                "metric_curation_labels" => {
                    json!(metric_curation_v1::get_labels(db, &k).map_err(e)?)
                }
                "metric_curation_merge_groups" => {
                    json!(metric_curation_v1::get_merge_groups(db, &k).map_err(e)?)
                }
                _ => {
                    let m = metric_curation_v1::get_metrics(db, &k).map_err(e)?;
                    Value::Object(m.into_iter().map(|(n, v)| (n, json!(v))).collect())
                }
            }
        }
        "spikesorting_merge_insert" => {
            json!(curation_v1::insert_into_merge(db, &key(args)?).map_err(e)?)
        }
        other => return Err(format!("no such method `{other}`")),
    })
}
