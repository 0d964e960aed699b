//! The position view's API: a session's PositionOutput entries (with the
//! linearizations made of each), and one entry's head position, orientation and speed
//! as its analysis file holds them, thinned evenly to at most `max_points` samples,
//! with its linearized position and track graph when LinearizedPositionV1 has one.

use crate::{blocking, ApiError, Shared, State};
use axum::extract::{Query as Q, State as S};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value as J};
use spyglass::kit::Tables;
use spyglass::linearization::v1 as lin;
use spyglass::position::merge as pm;
use spyglass_db::{Cond, Value};
use uuid::Uuid;

/// Samples sent per series at most, unless the request asks otherwise.
const MAX_POINTS: usize = 20_000;

/// Query naming a session.
#[derive(Deserialize)]
pub struct SessionParams {
    nwb: String,
}

/// Query naming a PositionOutput entry.
#[derive(Deserialize)]
pub struct EntryParams {
    merge_id: String,
    /// The linearization's track graph and parameters (default: the first made).
    track_graph_name: Option<String>,
    linearization_param_name: Option<String>,
    max_points: Option<usize>,
}

/// Whether `table` is declared in this database.
fn declared(s: &State, table: &str) -> bool {
    s.db.table_info(table).is_ok()
}

/// `GET /api/positions?nwb=`: the session's position entries.
pub async fn entries(S(state): S<Shared>, Q(p): Q<SessionParams>) -> Result<Json<J>, ApiError> {
    blocking(&state, move |s| entries_json(s, &p.nwb).map(Json)).await
}

fn entries_json(s: &State, nwb: &str) -> Result<J, ApiError> {
    if !declared(s, pm::POSITION_OUTPUT) {
        return Ok(json!([]));
    }
    let ids = pm::position_merge_ids(&s.db, nwb, None).map_err(ApiError::bad)?;
    let mut out = vec![];
    for (merge_id, source) in ids {
        let (_, row) = pm::position_source(&s.db, &merge_id).map_err(ApiError::bad)?;
        let text = |k: &str| row.get(k).and_then(Value::as_str).unwrap_or_default();
        out.push(json!({
            "merge_id": merge_id.to_string(),
            "source": source,
            "interval_list_name": text("interval_list_name"),
            "params": text("trodes_pos_params_name"),
            "linearizations": linearizations(s, merge_id)?,
        }));
    }
    Ok(J::Array(out))
}

/// The LinearizedPositionV1 keys made of position entry `merge_id`.
fn linearizations(s: &State, merge_id: Uuid) -> Result<Vec<lin::LinearizationKey>, ApiError> {
    if !declared(s, lin::LINEARIZED_POSITION_V1) {
        return Ok(vec![]);
    }
    let q =
        s.db.table(lin::LINEARIZED_POSITION_V1)
            .map_err(ApiError::bad)?
            .restrict(Cond::Map(vec![(
                "pos_merge_id".into(),
                Value::Uuid(merge_id),
            )]))
            .map_err(ApiError::bad)?;
    let mut keys: Vec<lin::LinearizationKey> = s.db.fetch_as(&q).map_err(ApiError::bad)?;
    keys.sort_by(|a, b| {
        (&a.track_graph_name, &a.linearization_param_name)
            .cmp(&(&b.track_graph_name, &b.linearization_param_name))
    });
    Ok(keys)
}

/// `GET /api/position?merge_id=…`: one entry's samples.
pub async fn data(S(state): S<Shared>, Q(p): Q<EntryParams>) -> Result<Json<J>, ApiError> {
    blocking(&state, move |s| data_json(s, &p).map(Json)).await
}

/// Every `step`-th index so that at most `max` remain, and the step.
fn thinned(n: usize, max: usize) -> (Vec<usize>, usize) {
    let step = n.div_ceil(max.max(1)).max(1);
    ((0..n).step_by(step).collect(), step)
}

/// Finite values as numbers, the rest as null (JSON has no NaN).
fn nums(v: impl Iterator<Item = f64>) -> Vec<J> {
    v.map(|x| if x.is_finite() { json!(x) } else { J::Null })
        .collect()
}

fn data_json(s: &State, p: &EntryParams) -> Result<J, ApiError> {
    let merge_id = Uuid::parse_str(&p.merge_id)
        .map_err(|e| ApiError::bad(format!("merge_id `{}`: {e}", p.merge_id)))?;
    if !declared(s, pm::POSITION_OUTPUT) {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("{} is not declared in this database", pm::POSITION_OUTPUT),
        ));
    }
    let d = pm::fetch_position(&s.db, &merge_id).map_err(ApiError::bad)?;
    let max = p.max_points.unwrap_or(MAX_POINTS);
    let (idx, step) = thinned(d.time.len(), max);
    let mut out = json!({
        "merge_id": merge_id.to_string(),
        "source": d.source,
        "n_samples": d.time.len(),
        "step": step,
        "time": nums(idx.iter().map(|&i| d.time[i])),
        "x": nums(idx.iter().map(|&i| d.position[i][0])),
        "y": nums(idx.iter().map(|&i| d.position[i][1])),
        "orientation": nums(idx.iter().map(|&i| d.orientation[i])),
        "speed": nums(idx.iter().map(|&i| d.speed[i])),
        "linearized": J::Null,
    });
    let keys = linearizations(s, merge_id)?;
    let chosen = keys.iter().find(|k| {
        p.track_graph_name
            .as_ref()
            .is_none_or(|g| *g == k.track_graph_name)
            && p.linearization_param_name
                .as_ref()
                .is_none_or(|n| *n == k.linearization_param_name)
    });
    if let Some(key) = chosen {
        let l = lin::fetch_linearized(&s.db, key).map_err(ApiError::bad)?;
        let graph: lin::TrackGraphRow =
            s.db.row(
                lin::TRACK_GRAPH,
                &json!({ "track_graph_name": key.track_graph_name }),
            )
            .map_err(ApiError::bad)?;
        let (idx, step) = thinned(l.time.len(), max);
        out["linearized"] = json!({
            "key": key,
            "n_samples": l.time.len(),
            "step": step,
            "time": nums(idx.iter().map(|&i| l.time[i])),
            "linear_position": nums(idx.iter().map(|&i| l.linear_position[i])),
            "track_segment_id": idx.iter().map(|&i| l.track_segment_id[i]).collect::<Vec<_>>(),
            "projected_x": nums(idx.iter().map(|&i| l.projected[i][0])),
            "projected_y": nums(idx.iter().map(|&i| l.projected[i][1])),
            "graph": { "node_positions": graph.node_positions, "edges": graph.edges },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::thinned;

    #[test]
    fn thinning_keeps_the_first_sample_and_at_most_max() {
        assert_eq!(thinned(5, 10), (vec![0, 1, 2, 3, 4], 1));
        assert_eq!(thinned(10, 4), (vec![0, 3, 6, 9], 3));
        assert_eq!(thinned(0, 4), (vec![], 1));
    }
}
