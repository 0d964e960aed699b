//! `spyglass view --export DIR VIEW…`: a self-contained folder of chosen views (the
//! app's assets and `data.js` holding every API answer those views ask for), opened
//! from `DIR/index.html` without a server, e.g. as a paper's supplement. The answers
//! come from the same routes the server serves, called in-process. A traces view is
//! exported for its window (min/max at a fixed width): zoom and pan need the server.

use crate::{router, Shared};
use anyhow::{bail, Context, Result};
use axum::body::Body;
use axum::http::{header, Request};
use serde_json::{json, Value as J};
use std::path::Path;
use tower::ServiceExt;

/// An API request: its path under `/api/` and its parameters.
type Request_ = (String, Vec<(String, String)>);

/// Screen columns of an exported traces window.
pub const STATIC_PX: usize = 1600;

/// The API requests (path, parameters) the view of route `view` makes, as the app
/// makes them (empty values left out).
fn requests(view: &str) -> Result<Vec<Request_>> {
    let (path, query) = view
        .trim_start_matches("#/")
        .split_once('?')
        .unwrap_or((view.trim_start_matches("#/"), ""));
    let params: Vec<(String, String)> = query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect();
    let get = |k: &str| {
        params
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let parts: Vec<String> = path.split('/').map(decode).collect();
    let arg = |i: usize| -> Result<String> {
        match parts.get(i).filter(|p| !p.is_empty()) {
            Some(p) => Ok(p.clone()),
            None => bail!("view `{view}`: names no table or session"),
        }
    };
    let p = |pairs: &[(&str, String)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    };
    Ok(match parts[0].as_str() {
        "" | "db" => vec![("schemas".into(), vec![])],
        "table" => {
            let offset = get("offset");
            let limit = get("limit");
            vec![(
                "table".into(),
                p(&[
                    ("name", arg(1)?),
                    ("where", get("where")),
                    ("key", get("key")),
                    ("offset", if offset.is_empty() { "0".into() } else { offset }),
                    ("limit", if limit.is_empty() { "50".into() } else { limit }),
                ]),
            )]
        }
        "row" => vec![(
            "lineage".into(),
            p(&[("name", arg(1)?), ("key", get("key"))]),
        )],
        "diagram" => vec![("diagram".into(), p(&[("schema", get("schema"))]))],
        "sessions" => vec![("sessions".into(), vec![])],
        "session" => vec![("session".into(), p(&[("nwb", arg(1)?)]))],
        "traces" => {
            let nwb = arg(1)?;
            for k in ["src", "t0", "t1"] {
                if get(k).is_empty() {
                    bail!("view `{view}`: a traces view to export names its series and window (src=OBJECT_ID&t0=…&t1=…, as in the viewer's URL)");
                }
            }
            vec![
                ("traces/sources".into(), p(&[("nwb", nwb.clone())])),
                ("traces/overlays".into(), p(&[("nwb", nwb.clone())])),
                (
                    "traces/data".into(),
                    p(&[
                        ("nwb", nwb),
                        ("src", get("src")),
                        ("ch", get("ch")),
                        ("t0", get("t0")),
                        ("t1", get("t1")),
                        ("px", STATIC_PX.to_string()),
                    ]),
                ),
            ]
        }
        "position" => {
            let nwb = arg(1)?;
            if get("merge").is_empty() {
                bail!("view `{view}`: a position view to export names its entry (merge=MERGE_ID, as in the viewer's URL)");
            }
            let lin = get("lin");
            let (graph, params) = lin.split_once('/').unwrap_or(("", ""));
            vec![
                ("positions".into(), p(&[("nwb", nwb)])),
                (
                    "position".into(),
                    p(&[
                        ("merge_id", get("merge")),
                        ("track_graph_name", graph.to_string()),
                        ("linearization_param_name", params.to_string()),
                    ]),
                ),
            ]
        }
        other => bail!("view `{view}`: unknown view `{other}` (db, table, row, diagram, sessions, session, traces, position)"),
    })
}

/// `%XX` and `+` decoded.
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The key the app looks an answer up by: the path and the sorted non-empty
/// parameters (`traces/data` by session and source only: one window per series).
fn static_key(path: &str, params: &[(String, String)]) -> String {
    let mut kv: Vec<String> = params
        .iter()
        .filter(|(k, v)| {
            let window = path == "traces/data" && ["t0", "t1", "px", "ch"].contains(&k.as_str());
            !v.is_empty() && !window
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    kv.sort();
    format!("{path}|{}", kv.join("|"))
}

/// Writes the export of `views` to `dir`.
pub fn export(state: Shared, dir: &Path, views: &[String]) -> Result<()> {
    if views.is_empty() {
        bail!("--export needs at least one view, e.g. session/NAME.nwb or 'traces/NAME.nwb?t0=0&t1=10'");
    }
    let mut wanted: Vec<Request_> = vec![("info".to_string(), vec![])];
    for v in views {
        wanted.extend(requests(v)?);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .context("starting the runtime")?;
    let token = state.token.clone();
    let answers: Vec<(String, J)> = rt.block_on(async {
        let mut out = vec![];
        for (path, params) in &wanted {
            let q = params
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            let uri = format!("/api/{path}?{q}");
            let req = Request::builder()
                .uri(&uri)
                .header(header::AUTHORIZATION, format!("token {token}"))
                .body(Body::empty())?;
            let resp = router(state.clone()).oneshot(req).await?;
            let status = resp.status();
            let is_json = resp
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("json"));
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await?;
            let value: J = if is_json {
                serde_json::from_slice(&bytes)?
            } else {
                J::String(String::from_utf8_lossy(&bytes).into_owned())
            };
            if !status.is_success() {
                bail!("{uri}: {status}: {}", value.get("error").unwrap_or(&value));
            }
            out.push((static_key(path, params), value));
        }
        Ok::<_, anyhow::Error>(out)
    })?;
    let data = json!({
        "views": views.iter().map(|v| v.trim_start_matches("#/")).collect::<Vec<_>>(),
        "answers": answers.into_iter().collect::<serde_json::Map<_, _>>(),
    });
    let assets = dir.join("assets");
    std::fs::create_dir_all(&assets).with_context(|| format!("creating {}", assets.display()))?;
    let index = crate::INDEX_HTML
        .replace("\"/assets/", "\"assets/")
        .replace(
            "<script src=\"assets/app.js\">",
            "<script src=\"assets/data.js\"></script>\n<script src=\"assets/app.js\">",
        );
    let files: [(std::path::PathBuf, String); 4] = [
        (dir.join("index.html"), index),
        (assets.join("app.js"), crate::APP_JS.to_string()),
        (assets.join("app.css"), crate::APP_CSS.to_string()),
        (
            assets.join("data.js"),
            format!("window.__STATIC = {};\n", serde_json::to_string(&data)?),
        ),
    ];
    for (path, text) in files {
        let tmp = path.with_extension("part");
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "wrote {} views to {}",
        views.len(),
        dir.join("index.html").display()
    );
    Ok(())
}
