//! The JSON API of the database and session views: schemas and tables with tiers and
//! row counts, a table's rows (restricted, paged), the dependency diagram, a row's
//! upstream and downstream, the sessions and one session's subject, devices,
//! electrode groups, electrodes, intervals and the pipelines run on it.

use crate::{blocking, ApiError, Shared, State};
use axum::extract::{Query as Q, State as S};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value as J};
use spyglass::common::{
    common_device, common_ephys, common_interval, common_region, common_session, common_subject,
};
use spyglass_db::{Cond, Db, FetchSpec, Query, Row, Value};
use std::collections::BTreeMap;

/// Rows of one page at most.
const MAX_PAGE: u64 = 1000;

fn rows_json(rows: &[Row]) -> Vec<J> {
    rows.iter().map(Row::to_json).collect()
}

/// `GET /api/info`: whether curation is allowed, the backend and the version.
pub async fn info(S(state): S<Shared>) -> Json<J> {
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "read_only": true,
        "dialect": format!("{:?}", state.db.dialect()),
    }))
}

/// `GET /api/schemas`: every schema with its tables, their tiers and row counts.
pub async fn schemas(S(state): S<Shared>) -> Result<Json<J>, ApiError> {
    blocking(&state, |s| {
        let db = &s.db;
        let mut by_schema: BTreeMap<String, Vec<J>> = BTreeMap::new();
        for schema in db.schemas() {
            by_schema.entry(schema).or_default();
        }
        let mut infos = db.catalog().user_tables(None);
        infos.sort_by(|a, b| a.name.cmp(&b.name));
        for info in infos {
            let n = db.count(&Query::table(&info)).map_err(ApiError::bad)?;
            by_schema
                .entry(info.name.schema.clone())
                .or_default()
                .push(json!({
                    "name": info.name.pretty(),
                    "stored": format!("{}.{}", info.name.schema, info.name.table),
                    "tier": info.tier.to_string(),
                    "rows": n,
                    "comment": info.comment,
                }));
        }
        Ok(Json(json!(by_schema
            .into_iter()
            .map(|(schema, tables)| json!({"schema": schema, "tables": tables}))
            .collect::<Vec<_>>())))
    })
    .await
}

/// Query of `/api/table`.
#[derive(Deserialize)]
pub struct TableParams {
    /// `schema.ClassName` or `schema.table_name`.
    name: String,
    /// An SQL condition over the table's attributes.
    #[serde(default, rename = "where")]
    where_: Option<String>,
    /// A JSON object of attribute values, all to hold.
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    offset: Option<u64>,
    #[serde(default)]
    limit: Option<u64>,
}

/// The restricted query of a table: `key` (JSON object) and `where` (SQL), both to hold.
fn restricted(
    db: &Db,
    name: &str,
    key: Option<&str>,
    where_: Option<&str>,
) -> Result<Query, ApiError> {
    let q = db
        .table(name)
        .map_err(|e| ApiError(StatusCode::NOT_FOUND, e.to_string()))?;
    let mut conds = vec![];
    if let Some(k) = key.filter(|k| !k.trim().is_empty()) {
        let parsed: serde_json::Map<String, J> = serde_json::from_str(k)
            .map_err(|e| ApiError::bad(format!("key: expected a JSON object: {e}")))?;
        let mut pairs = vec![];
        for (a, v) in parsed {
            if q.heading().iter().all(|h| h.name != a) {
                return Err(ApiError::bad(format!("key: {name} has no attribute `{a}`")));
            }
            pairs.push((a, Value::from_json(&v)));
        }
        conds.push(Cond::Map(pairs));
    }
    if let Some(w) = where_.filter(|w| !w.trim().is_empty()) {
        conds.push(Cond::sql(w.to_string()));
    }
    q.restrict(Cond::And(conds)).map_err(ApiError::bad)
}

/// `GET /api/table?name=&key=&where=&offset=&limit=`: a page of rows ordered by key,
/// with the total count and the heading.
pub async fn table_rows(S(state): S<Shared>, Q(p): Q<TableParams>) -> Result<Json<J>, ApiError> {
    blocking(&state, move |s| {
        let db = &s.db;
        let q = restricted(db, &p.name, p.key.as_deref(), p.where_.as_deref())?;
        let info = db
            .table_info(&p.name)
            .map_err(|e| ApiError(StatusCode::NOT_FOUND, e.to_string()))?;
        let limit = p.limit.unwrap_or(50).clamp(1, MAX_PAGE);
        let offset = p.offset.unwrap_or(0);
        let spec = FetchSpec {
            order_by: vec!["KEY".into()],
            limit: Some(limit),
            offset: Some(offset),
            ..Default::default()
        };
        let rows = db.fetch_with(&q, &spec).map_err(ApiError::bad)?;
        let total = db.count(&q).map_err(ApiError::bad)?;
        let heading: Vec<J> = info
            .heading
            .attributes
            .iter()
            .map(|a| {
                json!({
                    "name": a.name, "type": a.ty.to_string(), "in_key": a.in_key,
                    "comment": a.comment,
                })
            })
            .collect();
        Ok(Json(json!({
            "name": info.name.pretty(),
            "stored": format!("{}.{}", info.name.schema, info.name.table),
            "tier": info.tier.to_string(),
            "comment": info.comment,
            "heading": heading,
            "primary_key": info.primary_key(),
            "total": total,
            "offset": offset,
            "limit": limit,
            "rows": rows_json(&rows),
        })))
    })
    .await
}

/// Query of `/api/diagram`.
#[derive(Deserialize)]
pub struct DiagramParams {
    #[serde(default)]
    schema: Option<String>,
}

/// `GET /api/diagram?schema=`: the dependency diagram as SVG (the engine's renderer).
pub async fn diagram(S(state): S<Shared>, Q(p): Q<DiagramParams>) -> Result<Response, ApiError> {
    blocking(&state, move |s| {
        let db = &s.db;
        let schema = p.schema.filter(|s| !s.is_empty());
        if let Some(sc) = &schema {
            if !db.schemas().iter().any(|x| x == sc) {
                return Err(ApiError(
                    StatusCode::NOT_FOUND,
                    format!("unknown schema `{sc}`"),
                ));
            }
        }
        let graph = db.graph().map_err(ApiError::bad)?;
        let svg = spyglass_db::diagram::render(
            &db.catalog(),
            &graph,
            schema.as_deref(),
            spyglass_db::diagram::DiagramFormat::Svg,
        )
        .map_err(ApiError::bad)?;
        Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
    })
    .await
}

/// Query of `/api/lineage`.
#[derive(Deserialize)]
pub struct LineageParams {
    name: String,
    /// The row's primary key as a JSON object.
    key: String,
}

/// `GET /api/lineage?name=&key=`: the row's upstream (the rows of every ancestor
/// table that its attributes name) and downstream (the rows of every descendant
/// table that hold its primary key), with counts.
pub async fn lineage(S(state): S<Shared>, Q(p): Q<LineageParams>) -> Result<Json<J>, ApiError> {
    blocking(&state, move |s| {
        let db = &s.db;
        let q = restricted(db, &p.name, Some(&p.key), None)?;
        let row = match db.fetch(&q).map_err(ApiError::bad)?.as_slice() {
            [r] => r.clone(),
            [] => return Err(ApiError(StatusCode::NOT_FOUND, "no such row".into())),
            more => {
                return Err(ApiError::bad(format!(
                    "the key names {} rows, not one",
                    more.len()
                )))
            }
        };
        let info = db.table_info(&p.name).map_err(ApiError::bad)?;
        let graph = db.graph().map_err(ApiError::bad)?;
        let catalog = db.catalog();
        let pk = info.primary_key();
        let mut up = vec![];
        let mut down = vec![];
        let side = |name: &spyglass_db::FullName, attrs: &[String], out: &mut Vec<J>| {
            let Some(t) = catalog.get(name) else {
                return Ok::<(), ApiError>(());
            };
            if name.table.starts_with('~') || !attrs.iter().all(|a| row.get(a).is_some()) {
                return Ok(());
            }
            let pairs: Vec<(String, Value)> = attrs
                .iter()
                .filter_map(|a| row.get(a).map(|v| (a.clone(), v.clone())))
                .collect();
            let key = json!(pairs
                .iter()
                .map(|(a, v)| (a.clone(), v.to_json()))
                .collect::<serde_json::Map<_, _>>());
            let n = db
                .count(
                    &Query::table(&t)
                        .restrict(Cond::Map(pairs))
                        .map_err(ApiError::bad)?,
                )
                .map_err(ApiError::bad)?;
            out.push(
                json!({"name": t.name.pretty(), "tier": t.tier.to_string(), "rows": n, "key": key}),
            );
            Ok(())
        };
        for a in graph.ancestors(&info.name) {
            if a == info.name {
                continue;
            }
            if let Some(t) = catalog.get(&a) {
                side(&a, &t.primary_key(), &mut up)?;
            }
        }
        for d in graph.descendants(&info.name) {
            if d == info.name {
                continue;
            }
            if let Some(t) = catalog.get(&d) {
                if pk.iter().all(|k| t.heading.get(k).is_some()) {
                    side(&d, &pk, &mut down)?;
                }
            }
        }
        Ok(Json(json!({
            "name": info.name.pretty(),
            "row": row.to_json(),
            "upstream": up,
            "downstream": down,
        })))
    })
    .await
}

/// `GET /api/sessions`: every session with its subject and description.
pub async fn sessions(S(state): S<Shared>) -> Result<Json<J>, ApiError> {
    blocking(&state, |s| {
        let db = &s.db;
        let Ok(q) = db.table(common_session::SESSION) else {
            return Ok(Json(json!([])));
        };
        let rows = db
            .fetch_with(&q, &FetchSpec::default().order_by(&["nwb_file_name"]))
            .map_err(ApiError::bad)?;
        Ok(Json(json!(rows_json(&rows))))
    })
    .await
}

/// Query naming a session.
#[derive(Deserialize)]
pub struct SessionParams {
    /// The session's `nwb_file_name`.
    pub nwb: String,
}

/// Rows of `table` for the session, or none when the table is not declared.
fn session_rows(db: &Db, table: &str, nwb: &str) -> Result<Vec<Row>, ApiError> {
    let Ok(q) = db.table(table) else {
        return Ok(vec![]);
    };
    let q = q
        .restrict(Cond::map([("nwb_file_name", nwb)]))
        .map_err(ApiError::bad)?;
    db.fetch_with(&q, &FetchSpec::default().order_by(&["KEY"]))
        .map_err(ApiError::bad)
}

/// Rows of `table` whose attribute `attr` is one of `values`.
fn rows_in(db: &Db, table: &str, attr: &str, values: &[Value]) -> Result<Vec<Row>, ApiError> {
    let Ok(q) = db.table(table) else {
        return Ok(vec![]);
    };
    if values.is_empty() {
        return Ok(vec![]);
    }
    let q = q
        .restrict(Cond::Or(
            values
                .iter()
                .map(|v| Cond::Map(vec![(attr.to_string(), v.clone())]))
                .collect(),
        ))
        .map_err(ApiError::bad)?;
    db.fetch(&q).map_err(ApiError::bad)
}

fn distinct(rows: &[Row], attr: &str) -> Vec<Value> {
    let mut seen = std::collections::BTreeSet::new();
    rows.iter()
        .filter_map(|r| r.get(attr))
        .filter(|v| !v.is_null())
        .filter(|v| seen.insert(v.python_str()))
        .cloned()
        .collect()
}

/// `GET /api/session?nwb=`: subject, devices, probes, electrode groups with regions,
/// electrodes, interval lists and the tables (pipelines) holding rows of the session.
pub async fn session(S(state): S<Shared>, Q(p): Q<SessionParams>) -> Result<Json<J>, ApiError> {
    blocking(&state, move |s| session_json(s, &p.nwb).map(Json)).await
}

fn session_json(s: &State, nwb: &str) -> Result<J, ApiError> {
    let db = &s.db;
    let session = session_rows(db, common_session::SESSION, nwb)?;
    let Some(session) = session.first() else {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no session `{nwb}` in {}", common_session::SESSION),
        ));
    };
    let subject = rows_in(
        db,
        common_subject::SUBJECT,
        "subject_id",
        &distinct(std::slice::from_ref(session), "subject_id"),
    )?;
    let daq = session_rows(db, common_session::SESSION_DAQ, nwb)?;
    let devices = rows_in(
        db,
        common_device::DAQ_DEVICE,
        "data_acquisition_device_name",
        &distinct(&daq, "data_acquisition_device_name"),
    )?;
    let groups = session_rows(db, common_ephys::ELECTRODE_GROUP, nwb)?;
    let probes = rows_in(
        db,
        common_device::PROBE,
        "probe_id",
        &distinct(&groups, "probe_id"),
    )?;
    let electrodes = session_rows(db, common_ephys::ELECTRODE, nwb)?;
    let mut region_ids = distinct(&groups, "region_id");
    region_ids.extend(distinct(&electrodes, "region_id"));
    let regions = rows_in(db, common_region::BRAIN_REGION, "region_id", &region_ids)?;
    let intervals = common_interval::fetch_all(db, nwb).map_err(ApiError::bad)?;
    let mut tables = vec![];
    let mut infos = db.catalog().user_tables(None);
    infos.sort_by(|a, b| a.name.cmp(&b.name));
    for info in infos {
        if info.heading.get("nwb_file_name").is_none() {
            continue;
        }
        let q = Query::table(&info)
            .restrict(Cond::map([("nwb_file_name", nwb)]))
            .map_err(ApiError::bad)?;
        let n = db.count(&q).map_err(ApiError::bad)?;
        if n > 0 {
            tables.push(json!({
                "name": info.name.pretty(),
                "tier": info.tier.to_string(),
                "rows": n,
            }));
        }
    }
    Ok(json!({
        "session": session.to_json(),
        "subject": rows_json(&subject),
        "devices": rows_json(&devices),
        "probes": rows_json(&probes),
        "electrode_groups": rows_json(&groups),
        "electrodes": rows_json(&electrodes),
        "regions": rows_json(&regions),
        "intervals": intervals.iter().map(|l| json!({
            "name": l.interval_list_name,
            "pipeline": l.pipeline,
            "valid_times": l.valid_times,
        })).collect::<Vec<_>>(),
        "tables": tables,
    }))
}

/// `POST /api/curation`: refused with 403, the server being read-only (curation from
/// the browser is not built yet).
pub async fn curation() -> Response {
    ApiError(
        StatusCode::FORBIDDEN,
        "this server is read-only: curation from the browser is not available".into(),
    )
    .into_response()
}
