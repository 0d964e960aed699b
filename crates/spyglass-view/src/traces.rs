//! The traces view's API: a session's time series (every ElectricalSeries and
//! SpatialSeries that a row of any table with `nwb_file_name` points to through
//! `fetch_nwb`: raw, LFP, band outputs, raw position), a window of chosen channels as points or as min/max per screen column,
//! a whole-session overview (min/max envelope of the chosen channels), and the
//! overlays (interval lists, event tables such as ripple times).
//!
//! Min/max summaries come from the data on the fly: a window of few samples per
//! column is read directly; a wide one from a per-series pyramid: min/max per block
//! of [`BLOCK`] samples (filled lazily, all channels at once, as stored rows) and
//! levels of [`FANOUT`]× coarser entries built from it as their blocks fill, kept in
//! memory, so panning and zooming out re-read nothing and a column costs a few
//! entries whatever its width. The overview fills the whole pyramid in a background
//! thread and shows what is filled so far.

use crate::{blocking, ApiError, Shared};
use axum::extract::{Query as Q, State as S};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as J};
use spyglass_db::{Cond, Query, Value};
use spyglass_nwb::{NwbFile, RawReader, Timing};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Samples per pyramid block.
pub const BLOCK: usize = 1024;
/// Entries of one pyramid level per entry of the next.
pub const FANOUT: usize = 8;
/// Blocks read at once when filling the pyramid.
const FILL_BLOCKS: usize = 32;
/// Bytes of decoded chunks kept per series.
const CHUNK_CACHE: usize = 192 << 20;
/// Rows converted at once in the min/max pass over decoded chunks.
const SLAB_ROWS: usize = 1024;
/// Samples read at once in a direct min/max pass.
const DIRECT_CHUNK: usize = 131_072;

/// Per-server state of the traces view.
#[derive(Default)]
pub struct Cache {
    sessions: Mutex<HashMap<String, Arc<SessionSources>>>,
    series: Mutex<HashMap<String, Arc<Series>>>,
    /// Held while a session's sources or a series are being opened, so that requests
    /// arriving together (the sources and the first window) do the work once.
    opening: Mutex<()>,
}

/// A session's traces and event tables.
struct SessionSources {
    traces: Vec<Source>,
    events: Vec<Events>,
    problems: Vec<String>,
}

/// One time series a row points to.
struct Source {
    id: String,
    table: String,
    object: String,
    label: String,
    file: Arc<NwbFile>,
    path: String,
    unit: String,
    electrode_ids: Vec<i64>,
    n_samples: usize,
    rate: Option<f64>,
}

/// An event table (rows with start and end times).
struct Events {
    label: String,
    times: Vec<[f64; 2]>,
}

/// An open series with its pyramid.
struct Series {
    /// The reader of windows: two decoding threads and a cache of decoded chunks.
    reader: RawReader,
    /// A second reader of the same data for the background fill of the pyramid (one
    /// decoding thread, the default few-chunk cache), so that the fill neither evicts
    /// the chunks of the region looked at nor queues ahead of a window's decoding.
    bg_reader: RawReader,
    /// Window requests being answered: background work (prefetch, overview) waits
    /// while there is one.
    busy: AtomicUsize,
    /// Prefetches running: the overview's fill waits for them too.
    prefetching: AtomicUsize,
    /// Generation of the latest prefetch: an older one stops.
    prefetch_gen: AtomicU64,
    /// Display factor from the series' unit (volts → µV).
    factor: f64,
    unit: String,
    electrode_ids: Vec<i64>,
    first: f64,
    last: f64,
    /// Stored as 16-bit integers (read without conversion to f64).
    int16: bool,
    pyramid: Mutex<Pyramid>,
    /// The background fill of the whole pyramid (for the overview) was started.
    filling: std::sync::atomic::AtomicBool,
}

/// Min/max of every channel per block of [`BLOCK`] samples (level 0) and per
/// [`FANOUT`]^k blocks (level k), filled on demand.
struct Pyramid {
    /// Time of each block's first sample.
    t: Vec<f64>,
    /// Base blocks filled.
    filled_blocks: usize,
    levels: Vec<Level>,
}

/// One level of the pyramid.
struct Level {
    /// Samples per entry.
    span: usize,
    filled: Vec<bool>,
    /// `min[c][i]`, `max[c][i]`, in display units.
    min: Vec<Vec<f32>>,
    max: Vec<Vec<f32>>,
}

impl Pyramid {
    fn new(n_samples: usize, channels: usize) -> Pyramid {
        let nblocks = n_samples.div_ceil(BLOCK);
        let mut levels = vec![];
        let (mut span, mut len) = (BLOCK, nblocks);
        loop {
            levels.push(Level {
                span,
                filled: vec![false; len],
                min: vec![vec![0.0; len]; channels],
                max: vec![vec![0.0; len]; channels],
            });
            if len <= 1 {
                break;
            }
            span *= FANOUT;
            len = len.div_ceil(FANOUT);
        }
        Pyramid {
            t: vec![f64::NAN; nblocks],
            filled_blocks: 0,
            levels,
        }
    }

    /// Builds the entries above base blocks `blocks` whose children are all filled.
    fn propagate(&mut self, blocks: Range<usize>) {
        let (mut lo, mut hi) = (blocks.start, blocks.end);
        for l in 1..self.levels.len() {
            let (below, above) = self.levels.split_at_mut(l);
            let (child, parent) = (&below[l - 1], &mut above[0]);
            lo /= FANOUT;
            hi = hi.div_ceil(FANOUT).min(parent.filled.len());
            for p in lo..hi {
                let kids = p * FANOUT..((p + 1) * FANOUT).min(child.filled.len());
                if parent.filled[p] || !child.filled[kids.clone()].iter().all(|f| *f) {
                    continue;
                }
                for c in 0..child.min.len() {
                    parent.min[c][p] = child.min[c][kids.clone()]
                        .iter()
                        .copied()
                        .fold(f32::INFINITY, f32::min);
                    parent.max[c][p] = child.max[c][kids.clone()]
                        .iter()
                        .copied()
                        .fold(f32::NEG_INFINITY, f32::max);
                }
                parent.filled[p] = true;
            }
        }
    }

    /// The coarsest level whose entries are at most `per_bin` samples.
    fn level_for(&self, per_bin: usize) -> usize {
        self.levels
            .iter()
            .rposition(|l| l.span <= per_bin)
            .unwrap_or(0)
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

/// Short text of a row's non-object, non-file attributes (what tells rows apart).
fn row_label(row: &spyglass_db::Row, pk: &[String]) -> String {
    pk.iter()
        .filter(|k| *k != "nwb_file_name" && !k.contains("object_id") && !k.ends_with("merge_id"))
        .filter_map(|k| row.get(k).map(|v| v.python_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Cache {
    /// The sources of session `nwb`, found once per server.
    fn session(&self, db: &spyglass_db::Db, nwb: &str) -> Result<Arc<SessionSources>, ApiError> {
        if let Some(s) = self.sessions.lock().map_err(internal)?.get(nwb) {
            return Ok(s.clone());
        }
        let _opening = self.opening.lock().map_err(internal)?;
        if let Some(s) = self.sessions.lock().map_err(internal)?.get(nwb) {
            return Ok(s.clone());
        }
        let mut traces = vec![];
        let mut events = vec![];
        let mut problems = vec![];
        let mut infos = db.catalog().user_tables(None);
        infos.sort_by(|a, b| a.name.cmp(&b.name));
        for info in infos {
            let h = &info.heading;
            if h.get("nwb_file_name").is_none()
                || !h.attributes.iter().any(|a| a.name.contains("object_id"))
            {
                continue;
            }
            let q = Query::table(&info)
                .restrict(Cond::map([("nwb_file_name", Value::from(nwb))]))
                .map_err(ApiError::bad)?;
            let rows = match spyglass::fetch_nwb::fetch_nwb(db, &q) {
                Ok(r) => r,
                Err(e) => {
                    problems.push(format!("{}: {e}", info.name.pretty()));
                    continue;
                }
            };
            let pk = info.primary_key();
            for r in rows {
                let key_label = row_label(&r.row, &pk);
                for o in &r.objects {
                    let label = if key_label.is_empty() {
                        format!("{} {}", info.name.pretty(), o.name)
                    } else {
                        format!("{} {} ({key_label})", info.name.pretty(), o.name)
                    };
                    let ty = o.info.neurodata_type.as_str();
                    let seen = traces.iter().any(|t: &Source| t.id == o.object_id);
                    if seen {
                        // another table's row points to the same series (Raw and
                        // ElectricalSeries): listed once, under the first table
                        continue;
                    }
                    if ty.ends_with("ElectricalSeries") || ty == "SpatialSeries" {
                        match describe(&o.file, &o.info.path) {
                            Ok((unit, electrode_ids, n_samples, rate)) => traces.push(Source {
                                id: o.object_id.clone(),
                                table: info.name.pretty(),
                                object: o.name.clone(),
                                label,
                                file: o.file.clone(),
                                path: o.info.path.clone(),
                                unit,
                                electrode_ids,
                                n_samples,
                                rate,
                            }),
                            Err(e) => problems.push(format!("{label}: {e}")),
                        }
                    } else if o.info.neurodata_type == "DynamicTable" {
                        if let Ok(t) = o.file.table(&o.info.path) {
                            if let (Ok(a), Ok(b)) =
                                (t.f64_column("start_time"), t.f64_column("end_time"))
                            {
                                events.push(Events {
                                    label,
                                    times: a.into_iter().zip(b).map(|(a, b)| [a, b]).collect(),
                                });
                            }
                        }
                    }
                }
            }
        }
        let s = Arc::new(SessionSources {
            traces,
            events,
            problems,
        });
        self.sessions
            .lock()
            .map_err(internal)?
            .insert(nwb.to_string(), s.clone());
        Ok(s)
    }

    /// The open series of source `id` of session `nwb`.
    fn series(&self, db: &spyglass_db::Db, nwb: &str, id: &str) -> Result<Arc<Series>, ApiError> {
        let key = format!("{nwb}\u{0}{id}");
        if let Some(s) = self.series.lock().map_err(internal)?.get(&key) {
            return Ok(s.clone());
        }
        let sources = self.session(db, nwb)?;
        let _opening = self.opening.lock().map_err(internal)?;
        if let Some(s) = self.series.lock().map_err(internal)?.get(&key) {
            return Ok(s.clone());
        }
        let Some(src) = sources.traces.iter().find(|s| s.id == id) else {
            return Err(ApiError(
                StatusCode::NOT_FOUND,
                format!("session {nwb} has no time series with object id {id}"),
            ));
        };
        // two decoding threads: a window's chunks are decompressed in parallel; the
        // decoded chunks of the region looked at are kept for the zoom steps over it
        let reader = src
            .file
            .raw_reader(&src.path)
            .and_then(|r| r.with_threads(2))
            .map(|r| r.with_chunk_cache(CHUNK_CACHE))
            .map_err(ApiError::bad)?;
        let bg_reader = src
            .file
            .raw_reader(&src.path)
            .and_then(|r| r.with_threads(1))
            .map_err(ApiError::bad)?;
        let n = reader.num_samples();
        let (first, last) = if n == 0 {
            (0.0, 0.0)
        } else {
            let t0 = reader.timestamps(0..1).map_err(ApiError::bad)?;
            let t1 = reader.timestamps(n - 1..n).map_err(ApiError::bad)?;
            (t0[0], t1[0])
        };
        let channels = reader.num_channels();
        let factor = if src.unit.eq_ignore_ascii_case("volts") {
            1e6
        } else {
            1.0
        };
        let s = Arc::new(Series {
            factor,
            unit: if factor == 1e6 {
                "µV".into()
            } else {
                src.unit.clone()
            },
            electrode_ids: src.electrode_ids.clone(),
            first,
            last,
            int16: matches!(
                reader.elem(),
                spyglass_nwb::raw::Elem {
                    size: 2,
                    signed: true,
                    float: false,
                    ..
                }
            ),
            pyramid: Mutex::new(Pyramid::new(n, channels)),
            filling: Default::default(),
            reader,
            bg_reader,
            busy: Default::default(),
            prefetching: Default::default(),
            prefetch_gen: Default::default(),
        });
        self.series.lock().map_err(internal)?.insert(key, s.clone());
        Ok(s)
    }
}

impl Cache {
    /// Finds the sources of up to `max` sessions (by name) and opens their series,
    /// so that a traces view opened soon after the server starts finds them ready;
    /// problems are left for the view to report.
    pub(crate) fn warm(&self, db: &spyglass_db::Db, max: usize) {
        let Ok(q) = db.table(spyglass::common::common_session::SESSION) else {
            return;
        };
        let spec = spyglass_db::FetchSpec {
            limit: Some(max as u64),
            ..spyglass_db::FetchSpec::default().order_by(&["nwb_file_name"])
        };
        let Ok(rows) = db.fetch_with(&q, &spec) else {
            return;
        };
        for r in rows {
            let Some(nwb) = r.get("nwb_file_name").map(|v| v.python_str()) else {
                continue;
            };
            if let Ok(src) = self.session(db, &nwb) {
                for t in &src.traces {
                    let _ = self.series(db, &nwb, &t.id);
                }
            }
        }
    }
}

/// Unit, electrode id per channel (column index for a SpatialSeries), sample count and
/// rate (when regular) of a series.
fn describe(
    file: &NwbFile,
    path: &str,
) -> Result<(String, Vec<i64>, usize, Option<f64>), spyglass_nwb::NwbError> {
    let series = file.time_series(path)?;
    let n = series.shape.first().copied().unwrap_or(0);
    let ids = if series.neurodata_type.ends_with("ElectricalSeries") {
        file.channel_electrode_ids(&file.electrical_series(path)?)?
    } else {
        // columns (x, y, ...) of a SpatialSeries
        (0..series.shape.get(1).copied().unwrap_or(1) as i64).collect()
    };
    let rate = match series.timing {
        Timing::Rate { rate, .. } => Some(rate),
        _ => None,
    };
    Ok((series.unit.clone(), ids, n, rate))
}

/// `GET /api/traces/sources?nwb=`: the session's series and event tables.
pub async fn sources(
    S(state): S<Shared>,
    Q(p): Q<crate::api::SessionParams>,
) -> Result<Json<J>, ApiError> {
    blocking(&state, move |s| {
        let src = s.traces.session(&s.db, &p.nwb)?;
        let mut traces = vec![];
        for t in &src.traces {
            let series = s.traces.series(&s.db, &p.nwb, &t.id)?;
            traces.push(json!({
                "id": t.id, "table": t.table, "object": t.object, "label": t.label,
                "unit": series.unit, "electrode_ids": t.electrode_ids,
                "n_samples": t.n_samples, "rate": t.rate,
                "start": series.first, "end": series.last,
            }));
        }
        Ok(Json(json!({
            "traces": traces,
            "events": src.events.iter().map(|e| json!({"label": e.label, "count": e.times.len()})).collect::<Vec<_>>(),
            "problems": src.problems,
        })))
    })
    .await
}

/// `GET /api/traces/overlays?nwb=`: interval lists and event tables as `[start, end]`.
pub async fn overlays(
    S(state): S<Shared>,
    Q(p): Q<crate::api::SessionParams>,
) -> Result<Json<J>, ApiError> {
    blocking(&state, move |s| {
        let src = s.traces.session(&s.db, &p.nwb)?;
        let lists = spyglass::common::common_interval::fetch_all(&s.db, &p.nwb)
            .map_err(ApiError::bad)?;
        Ok(Json(json!({
            "intervals": lists.iter().map(|l| json!({"label": l.interval_list_name, "times": l.valid_times})).collect::<Vec<_>>(),
            "events": src.events.iter().map(|e| json!({"label": e.label, "times": e.times})).collect::<Vec<_>>(),
        })))
    })
    .await
}

/// Query of `/api/traces/data`.
#[derive(Deserialize)]
pub struct DataParams {
    nwb: String,
    /// Source (object id).
    src: String,
    /// Channel indices, comma-separated (default: the first 8).
    #[serde(default)]
    ch: Option<String>,
    t0: f64,
    t1: f64,
    /// Screen columns (bins) wanted.
    #[serde(default)]
    px: Option<usize>,
    /// `bin` for the binary answer (see [`data`]); JSON otherwise.
    #[serde(default)]
    fmt: Option<String>,
}

/// `GET /api/traces/data?nwb=&src=&ch=&t0=&t1=&px=[&fmt=bin]`: the window as points
/// (few samples per column) or as min/max per column, in display units.
///
/// As JSON ([`Window`]), or with `fmt=bin` as bytes: a little-endian u32 `H`, `H`
/// bytes of JSON (the window without `t`, `y`, `min`, `max`, plus `nt`, the length of
/// each), zeros up to a multiple of 8 bytes, then `t` as `nt` f64, then per channel
/// `y` (points) or per channel `min` then per channel `max` (minmax), `nt` f32 each
/// (little-endian). Either way a `Server-Timing` header gives the handler's parts
/// (`queue`: waiting for a blocking thread; `search`, `ts`, `read`, `reduce`, `encode`).
pub async fn data(S(state): S<Shared>, Q(p): Q<DataParams>) -> Result<Response, ApiError> {
    let bin = match p.fmt.as_deref() {
        None | Some("") | Some("json") => false,
        Some("bin") => true,
        Some(other) => return Err(ApiError::bad(format!("fmt: `{other}` is not json or bin"))),
    };
    let arrived = Instant::now();
    blocking(&state, move |s| {
        let started = Instant::now();
        let queue_ms = (started - arrived).as_secs_f64() * 1e3;
        let series = s.traces.series(&s.db, &p.nwb, &p.src)?;
        let _busy = Busy::new(&series.busy);
        let channels = parse_channels(p.ch.as_deref(), series.reader.num_channels())?;
        if !(p.t0.is_finite() && p.t1.is_finite()) || p.t1 <= p.t0 {
            return Err(ApiError::bad(format!(
                "t0 {} and t1 {}: need finite t0 < t1",
                p.t0, p.t1
            )));
        }
        let px = p.px.unwrap_or(1000).clamp(16, 8000);
        let range = lower_bound(&series, p.t0)?..lower_bound(&series, p.t1)?;
        let ids: Vec<i64> = channels
            .iter()
            .map(|&c| series.electrode_ids.get(c).copied().unwrap_or(c as i64))
            .collect();
        let n = range.len();
        let mut out = Window {
            t0: p.t0,
            t1: p.t1,
            unit: series.unit.clone(),
            start: series.first,
            end: series.last,
            samples: n,
            channels,
            electrode_ids: ids,
            mode: "points",
            per_bin: None,
            t: vec![],
            y: None,
            min: None,
            max: None,
            search_ms: ms_since(started),
            server_ms: 0.0,
        };
        let mut parts = Parts::default();
        let mut direct = true;
        if n <= 2 * px {
            let at = Instant::now();
            out.t = series
                .reader
                .timestamps(range.clone())
                .map_err(ApiError::bad)?;
            parts.ts_ms += ms_since(at);
            let at = Instant::now();
            let y = series
                .reader
                .read_scaled(range.clone(), &out.channels)
                .map_err(ApiError::bad)?;
            parts.read_ms += ms_since(at);
            out.y = Some(
                y.iter()
                    .map(|v| v.iter().map(|x| (x * series.factor) as f32).collect())
                    .collect(),
            );
        } else {
            let per_bin = n.div_ceil(px);
            let ((t, min, max), per_bin) = if per_bin < 4 * BLOCK {
                let rows =
                    direct_minmax_rows(&series, range.clone(), &out.channels, per_bin, &mut parts)?;
                let mm = match rows {
                    Some(mm) => mm,
                    None => {
                        direct_minmax(&series, range.clone(), &out.channels, per_bin, &mut parts)?
                    }
                };
                (mm, per_bin)
            } else {
                direct = false;
                let at = Instant::now();
                let r = pyramid_minmax(&series, range.clone(), &out.channels, per_bin)?;
                parts.read_ms += ms_since(at);
                r
            };
            out.mode = "minmax";
            out.per_bin = Some(per_bin);
            out.t = t;
            out.min = Some(min);
            out.max = Some(max);
        }
        out.server_ms = ms_since(started);
        let search_ms = out.search_ms;
        let at = Instant::now();
        let (body, ty) = if bin {
            (encode_bin(out)?, "application/octet-stream")
        } else {
            (serde_json::to_vec(&out).map_err(internal)?, "application/json")
        };
        let timing = format!(
            "queue;dur={:.1}, search;dur={:.1}, ts;dur={:.1}, read;dur={:.1}, reduce;dur={:.1}, encode;dur={:.1}, total;dur={:.1}",
            queue_ms,
            search_ms,
            parts.ts_ms,
            parts.read_ms,
            parts.reduce_ms,
            ms_since(at),
            ms_since(started)
        );
        drop(_busy);
        if direct {
            // the neighbours' chunks, decoded while the window is looked at
            prefetch(&series, range);
        }
        Ok((
            [
                (header::CONTENT_TYPE, ty.to_string()),
                (header::HeaderName::from_static("server-timing"), timing),
            ],
            body,
        )
            .into_response())
    })
    .await
}

/// Milliseconds since `t`.
fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Where a window's time went in the handler, ms.
#[derive(Default)]
struct Parts {
    /// Reading timestamps.
    ts_ms: f64,
    /// Reading and decoding samples.
    read_ms: f64,
    /// Min/max per column.
    reduce_ms: f64,
}

/// The binary answer of [`data`] (`fmt=bin`).
fn encode_bin(mut w: Window) -> Result<Vec<u8>, ApiError> {
    let t = std::mem::take(&mut w.t);
    let arrays: Vec<Vec<f32>> = match w.mode {
        "points" => w.y.take().unwrap_or_default(),
        _ => {
            let mut a = w.min.take().unwrap_or_default();
            a.extend(w.max.take().unwrap_or_default());
            a
        }
    };
    let mut head = serde_json::to_value(&w).map_err(internal)?;
    if let Some(o) = head.as_object_mut() {
        o.remove("t");
        o.insert("nt".into(), json!(t.len()));
    }
    let head = serde_json::to_vec(&head).map_err(internal)?;
    let start = (4 + head.len()).div_ceil(8) * 8;
    let mut out = Vec::with_capacity(start + 8 * t.len() + 4 * t.len() * arrays.len());
    out.extend_from_slice(&(head.len() as u32).to_le_bytes());
    out.extend_from_slice(&head);
    out.resize(start, 0);
    for v in &t {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for a in &arrays {
        if a.len() != t.len() {
            return Err(internal(format!(
                "a channel of {} values for {} times",
                a.len(),
                t.len()
            )));
        }
        for v in a {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    Ok(out)
}

/// The answer of `/api/traces/data` (serialized as it is, with no JSON tree built).
#[derive(Serialize)]
pub struct Window {
    t0: f64,
    t1: f64,
    unit: String,
    /// First and last time of the series.
    start: f64,
    end: f64,
    /// Samples in the window.
    samples: usize,
    channels: Vec<usize>,
    electrode_ids: Vec<i64>,
    /// `points` (`t`, `y`) or `minmax` (`t` of each column's first sample, `min`, `max`).
    mode: &'static str,
    /// Samples per column (minmax).
    #[serde(skip_serializing_if = "Option::is_none")]
    per_bin: Option<usize>,
    t: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    y: Option<Vec<Vec<f32>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min: Option<Vec<Vec<f32>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max: Option<Vec<Vec<f32>>>,
    /// Time to open the series and find the window's samples, ms.
    search_ms: f64,
    /// Time in the handler before serialization, ms.
    server_ms: f64,
}

/// Timestamps read around the guessed sample of a time.
const GUESS: usize = 2048;

/// The first sample at or after `t` (numpy's `searchsorted`, left): looked for among a
/// few timestamps around where the series' mean rate puts it (one small read), else by
/// binary search over the stored timestamps.
fn lower_bound(series: &Series, t: f64) -> Result<usize, ApiError> {
    let n = series.reader.num_samples();
    if n == 0 || t <= series.first {
        return Ok(0);
    }
    if t > series.last {
        return Ok(n);
    }
    let frac = (t - series.first) / (series.last - series.first);
    let guess = ((frac * (n - 1) as f64) as usize).min(n - 1);
    let (a, b) = (guess.saturating_sub(GUESS), (guess + GUESS).min(n));
    let ts = series.reader.timestamps(a..b).map_err(ApiError::bad)?;
    match (ts.first(), ts.last()) {
        (Some(&lo), Some(&hi)) if lo < t && hi >= t => Ok(a + ts.partition_point(|&x| x < t)),
        _ => series.reader.search_sorted(t, false).map_err(ApiError::bad),
    }
}

type MinMax = (Vec<f64>, Vec<Vec<f32>>, Vec<Vec<f32>>);

/// Channel indices from `ch` (comma-separated; the first 8 when absent), each below
/// `nch`, at most 512.
fn parse_channels(ch: Option<&str>, nch: usize) -> Result<Vec<usize>, ApiError> {
    let channels: Vec<usize> = match ch.filter(|c| !c.trim().is_empty()) {
        None => (0..nch.min(8)).collect(),
        Some(c) => c
            .split(',')
            .map(|x| {
                x.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|&i| i < nch)
                    .ok_or_else(|| {
                        ApiError::bad(format!("ch: `{x}` is not a channel index below {nch}"))
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    if channels.len() > 512 {
        return Err(ApiError::bad("ch: at most 512 channels at once"));
    }
    Ok(channels)
}

/// Min/max per bin of `per_bin` samples of 16-bit data straight from the decoded
/// chunks (row-major, every channel), each chunk reduced on the thread that decoded it:
/// no copy to per-channel arrays; the bins' times by one strided read. `None` when the
/// data are not 16-bit integers in whole-row chunks (then [`direct_minmax`] reads them).
fn direct_minmax_rows(
    series: &Series,
    range: Range<usize>,
    channels: &[usize],
    per_bin: usize,
    parts: &mut Parts,
) -> Result<Option<MinMax>, ApiError> {
    let nch = series.reader.num_channels();
    if !series.int16 || nch == 0 || range.is_empty() {
        return Ok(None);
    }
    let le = series.reader.elem().little_endian;
    let nbins = range.len().div_ceil(per_bin);
    // stored min and max per (bin, channel), merged from the chunks
    let acc = Mutex::new((vec![i16::MAX; nbins * nch], vec![i16::MIN; nbins * nch]));
    let clock = Instant::now();
    let done = series
        .reader
        .for_each_row_block(range.clone(), |first, bytes| {
            let rows = bytes.len() / (2 * nch);
            if rows == 0 {
                return Ok(());
            }
            let off = first - range.start;
            let (b_first, b_last) = (off / per_bin, (off + rows - 1) / per_bin);
            let mut lo = vec![i16::MAX; (b_last - b_first + 1) * nch];
            let mut hi = vec![i16::MIN; (b_last - b_first + 1) * nch];
            // the stored values, a slab of rows at a time, then lane by lane (the
            // channels of a row against the bin's running min and max: vectorized)
            let mut vals: Vec<i16> = Vec::with_capacity(SLAB_ROWS.min(rows) * nch);
            let mut r = 0;
            while r < rows {
                let b = (off + r) / per_bin;
                let stop = ((b + 1) * per_bin - off).min(rows).min(r + SLAB_ROWS);
                let raw = &bytes[r * 2 * nch..stop * 2 * nch];
                vals.clear();
                if le {
                    vals.extend(
                        raw.chunks_exact(2)
                            .map(|v| i16::from_le_bytes([v[0], v[1]])),
                    );
                } else {
                    vals.extend(
                        raw.chunks_exact(2)
                            .map(|v| i16::from_be_bytes([v[0], v[1]])),
                    );
                }
                let at = (b - b_first) * nch;
                let (l, h) = (&mut lo[at..at + nch], &mut hi[at..at + nch]);
                for row in vals.chunks_exact(nch) {
                    for ((l, h), &v) in l.iter_mut().zip(h.iter_mut()).zip(row) {
                        *l = (*l).min(v);
                        *h = (*h).max(v);
                    }
                }
                r = stop;
            }
            let mut guard = acc.lock().unwrap_or_else(|p| p.into_inner());
            let (glo, ghi) = &mut *guard;
            let base = b_first * nch;
            for (g, l) in glo[base..base + lo.len()].iter_mut().zip(&lo) {
                *g = (*g).min(*l);
            }
            for (g, h) in ghi[base..base + hi.len()].iter_mut().zip(&hi) {
                *g = (*g).max(*h);
            }
            Ok(())
        })
        .map_err(ApiError::bad)?;
    if !done {
        return Ok(None);
    }
    parts.read_ms += ms_since(clock);
    let clock = Instant::now();
    let t = series
        .reader
        .timestamps_every(range.clone(), per_bin)
        .map_err(ApiError::bad)?;
    parts.ts_ms += ms_since(clock);
    let clock = Instant::now();
    let (lo, hi) = acc.into_inner().unwrap_or_else(|p| p.into_inner());
    let scaling = series.reader.scaling();
    let offset = scaling.offset * series.factor;
    let mut min = vec![vec![0f32; nbins]; channels.len()];
    let mut max = vec![vec![0f32; nbins]; channels.len()];
    for (j, &c) in channels.iter().enumerate() {
        let k = scaling.factor(c) * series.factor;
        for b in 0..nbins {
            let (va, vz) = (
                (lo[b * nch + c] as f64 * k + offset) as f32,
                (hi[b * nch + c] as f64 * k + offset) as f32,
            );
            min[j][b] = va.min(vz);
            max[j][b] = va.max(vz);
        }
    }
    parts.reduce_ms += ms_since(clock);
    Ok(Some((t, min, max)))
}

/// Min/max per bin of `per_bin` samples, reading the window's samples in chunks.
fn direct_minmax(
    series: &Series,
    range: Range<usize>,
    channels: &[usize],
    per_bin: usize,
    parts: &mut Parts,
) -> Result<MinMax, ApiError> {
    let nbins = range.len().div_ceil(per_bin);
    let mut t = vec![f64::NAN; nbins];
    let mut min = vec![vec![f32::INFINITY; nbins]; channels.len()];
    let mut max = vec![vec![f32::NEG_INFINITY; nbins]; channels.len()];
    // reads end on the file's chunk rows, so that no chunk is decoded twice
    let rows = series.reader.block_rows().max(1);
    let per_read = DIRECT_CHUNK.div_ceil(rows).max(1) * rows;
    let mut at = range.start;
    while at < range.end {
        let end = ((at / rows) * rows + per_read).min(range.end);
        let clock = Instant::now();
        let ts = series.reader.timestamps(at..end).map_err(ApiError::bad)?;
        parts.ts_ms += ms_since(clock);
        let off = at - range.start;
        for (i, tt) in ts.iter().enumerate() {
            if (off + i) % per_bin == 0 {
                t[(off + i) / per_bin] = *tt;
            }
        }
        if series.int16 {
            // min/max of the stored integers, then scaled (the scaling is monotonic)
            let clock = Instant::now();
            let y = series
                .reader
                .read::<i16>(at..end, channels)
                .map_err(ApiError::bad)?;
            parts.read_ms += ms_since(clock);
            let clock = Instant::now();
            let scaling = series.reader.scaling();
            for (j, ys) in y.iter().enumerate() {
                let (lo, hi) = (&mut min[j], &mut max[j]);
                let k = scaling.factor(channels[j]) * series.factor;
                let offset = scaling.offset * series.factor;
                let mut b0 = off / per_bin;
                let mut i = 0;
                while i < ys.len() {
                    let stop = ((b0 + 1) * per_bin - off).min(ys.len());
                    let (va, vz) = scaled_range_i16(&ys[i..stop], k, offset);
                    lo[b0] = lo[b0].min(va);
                    hi[b0] = hi[b0].max(vz);
                    i = stop;
                    b0 += 1;
                }
            }
            parts.reduce_ms += ms_since(clock);
        } else {
            let clock = Instant::now();
            let y = series
                .reader
                .read_scaled(at..end, channels)
                .map_err(ApiError::bad)?;
            parts.read_ms += ms_since(clock);
            let clock = Instant::now();
            for (c, ys) in y.iter().enumerate() {
                let (lo, hi) = (&mut min[c], &mut max[c]);
                for (i, v) in ys.iter().enumerate() {
                    let b = (off + i) / per_bin;
                    let v = (v * series.factor) as f32;
                    lo[b] = lo[b].min(v);
                    hi[b] = hi[b].max(v);
                }
            }
            parts.reduce_ms += ms_since(clock);
        }
        at = end;
    }
    Ok((t, min, max))
}

/// Min/max per column of whole entries of the coarsest pyramid level not wider than
/// `per_bin` samples (a column: as many entries as fit in `per_bin`, starting at the
/// entry holding the window's first sample); the columns' width in samples.
fn pyramid_minmax(
    series: &Series,
    range: Range<usize>,
    channels: &[usize],
    per_bin: usize,
) -> Result<(MinMax, usize), ApiError> {
    let level = series.pyramid.lock().map_err(internal)?.level_for(per_bin);
    let span = BLOCK * FANOUT.pow(level as u32);
    let (e0, e1) = (range.start / span, range.end.div_ceil(span));
    let nblocks = series.reader.num_samples().div_ceil(BLOCK);
    fill(
        series,
        &series.reader,
        e0 * span / BLOCK..(e1 * span / BLOCK).min(nblocks),
    )?;
    let pyr = series.pyramid.lock().map_err(internal)?;
    let lv = &pyr.levels[level];
    let k = (per_bin / span).max(1);
    let nbins = (e1 - e0).div_ceil(k);
    let t: Vec<f64> = (0..nbins)
        .map(|i| pyr.t[(e0 + i * k) * span / BLOCK])
        .collect();
    let agg = |src: &Vec<Vec<f32>>, lo: bool| -> Vec<Vec<f32>> {
        channels
            .iter()
            .map(|&c| {
                (0..nbins)
                    .map(|i| {
                        let s = &src[c][e0 + i * k..(e0 + (i + 1) * k).min(e1)];
                        if lo {
                            s.iter().copied().fold(f32::INFINITY, f32::min)
                        } else {
                            s.iter().copied().fold(f32::NEG_INFINITY, f32::max)
                        }
                    })
                    .collect()
            })
            .collect()
    };
    Ok(((t, agg(&lv.min, true), agg(&lv.max, false)), k * span))
}

/// Min and max of `values` (stored integers) as display values of a channel whose
/// stored values become `v · k + offset` (either sign of `k`).
fn scaled_range_i16(values: &[i16], k: f64, offset: f64) -> (f32, f32) {
    let (mut a, mut z) = (i16::MAX, i16::MIN);
    for &v in values {
        a = a.min(v);
        z = z.max(v);
    }
    let (va, vz) = (
        (a as f64 * k + offset) as f32,
        (z as f64 * k + offset) as f32,
    );
    (va.min(vz), va.max(vz))
}

/// Computes the missing base blocks of `blocks` (all channels at once) and the levels
/// above them, reading with `reader` (the window reader or the background one).
fn fill(series: &Series, reader: &RawReader, blocks: Range<usize>) -> Result<(), ApiError> {
    let missing: Vec<usize> = {
        let pyr = series.pyramid.lock().map_err(internal)?;
        blocks.filter(|&b| !pyr.levels[0].filled[b]).collect()
    };
    let n = reader.num_samples();
    let all: Vec<usize> = (0..reader.num_channels()).collect();
    let scaling = reader.scaling();
    let mut i = 0;
    while i < missing.len() {
        // a run of consecutive missing blocks, at most FILL_BLOCKS long
        let mut j = i + 1;
        while j < missing.len() && missing[j] == missing[j - 1] + 1 && j - i < FILL_BLOCKS {
            j += 1;
        }
        let (first, last) = (missing[i], missing[j - 1]);
        let samples = first * BLOCK..((last + 1) * BLOCK).min(n);
        // per channel, (min, max) of each block of the run
        let ranges: Vec<Vec<(f32, f32)>> = if series.int16 {
            let y = reader
                .read::<i16>(samples.clone(), &all)
                .map_err(ApiError::bad)?;
            y.iter()
                .enumerate()
                .map(|(c, ys)| {
                    let k = scaling.factor(c) * series.factor;
                    let offset = scaling.offset * series.factor;
                    ys.chunks(BLOCK)
                        .map(|b| scaled_range_i16(b, k, offset))
                        .collect()
                })
                .collect()
        } else {
            let y = reader
                .read_scaled(samples.clone(), &all)
                .map_err(ApiError::bad)?;
            y.iter()
                .map(|ys| {
                    ys.chunks(BLOCK)
                        .map(|chunk| {
                            let (lo, hi) = chunk
                                .iter()
                                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                                    (l.min(*v), h.max(*v))
                                });
                            ((lo * series.factor) as f32, (hi * series.factor) as f32)
                        })
                        .collect()
                })
                .collect()
        };
        let ts: Vec<f64> = reader
            .timestamps(samples.clone())
            .map_err(ApiError::bad)?
            .into_iter()
            .step_by(BLOCK)
            .collect();
        let mut guard = series.pyramid.lock().map_err(internal)?;
        let pyr = &mut *guard;
        let base = &mut pyr.levels[0];
        let newly = base.filled[first..first + ts.len()]
            .iter()
            .filter(|f| !**f)
            .count();
        for (c, per_block) in ranges.iter().enumerate() {
            for (bi, (lo, hi)) in per_block.iter().enumerate() {
                base.min[c][first + bi] = *lo;
                base.max[c][first + bi] = *hi;
            }
        }
        for (bi, t) in ts.into_iter().enumerate() {
            base.filled[first + bi] = true;
            pyr.t[first + bi] = t;
        }
        pyr.filled_blocks += newly;
        pyr.propagate(first..last + 1);
        i = j;
    }
    Ok(())
}

/// Starts (once per series) a background thread filling the whole pyramid, run by
/// run, so the overview fills in while the view is used. It reads with the series'
/// background reader and waits while a window is being answered or prefetched, so the
/// zoom steps do not queue behind it.
fn fill_in_background(series: &Arc<Series>) {
    if series.filling.swap(true, Ordering::SeqCst) {
        return;
    }
    let s = series.clone();
    let nblocks = s.reader.num_samples().div_ceil(BLOCK);
    let spawned = std::thread::Builder::new()
        .name("spyglass-view-overview".into())
        .spawn(move || {
            let mut b = 0;
            while b < nblocks {
                while s.busy.load(Ordering::SeqCst) > 0 || s.prefetching.load(Ordering::SeqCst) > 0
                {
                    std::thread::sleep(Duration::from_millis(2));
                }
                if let Err(e) = fill(&s, &s.bg_reader, b..(b + FILL_BLOCKS).min(nblocks)) {
                    eprintln!("spyglass view: the overview of {} stopped: {}", s.unit, e.1);
                    return;
                }
                b += FILL_BLOCKS;
            }
        });
    if spawned.is_err() {
        series.filling.store(false, Ordering::SeqCst);
    }
}

/// Counts a window request as in flight while alive.
struct Busy<'a>(&'a AtomicUsize);

impl<'a> Busy<'a> {
    fn new(n: &'a AtomicUsize) -> Busy<'a> {
        n.fetch_add(1, Ordering::SeqCst);
        Busy(n)
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Decodes (into the window reader's chunk cache) the chunks of the neighbours of the
/// window `range`: one window's length on each side, nearest first, alternating right
/// and left, within a third of the cache, so that a pan or a zoom out by 2 finds its
/// chunks decoded. Runs in a background thread; waits while a window is answered and
/// stops when a newer window starts its own prefetch.
fn prefetch(series: &Arc<Series>, range: Range<usize>) {
    let r = &series.reader;
    let rows = r.block_rows().max(1);
    let n = r.num_samples();
    if r.strategy() != "direct-chunks" || range.is_empty() || n == 0 {
        return;
    }
    let gen = series.prefetch_gen.fetch_add(1, Ordering::SeqCst) + 1;
    let len = range.len().max(rows);
    let (c0, c1) = (range.start / rows, (range.end - 1) / rows);
    let (lo, hi) = (
        range.start.saturating_sub(len) / rows,
        ((range.end + len).min(n) - 1) / rows,
    );
    let chunk_bytes = rows * r.num_channels() * r.elem().size;
    let budget = (CHUNK_CACHE / 3 / chunk_bytes.max(1)).max(1);
    let mut order = vec![];
    for k in 1.. {
        let (right, left) = (c1 + k, c0.checked_sub(k));
        let right_in = right <= hi;
        let left_in = left.is_some_and(|l| l >= lo);
        if !right_in && !left_in {
            break;
        }
        if right_in {
            order.push(right);
        }
        if let Some(l) = left.filter(|_| left_in) {
            order.push(l);
        }
    }
    order.truncate(budget);
    if order.is_empty() {
        return;
    }
    let s = series.clone();
    let _ = std::thread::Builder::new()
        .name("spyglass-view-prefetch".into())
        .spawn(move || {
            s.prefetching.fetch_add(1, Ordering::SeqCst);
            let all: Vec<usize> = (0..s.reader.num_channels()).collect();
            for c in order {
                loop {
                    if s.prefetch_gen.load(Ordering::SeqCst) != gen {
                        s.prefetching.fetch_sub(1, Ordering::SeqCst);
                        return;
                    }
                    if s.busy.load(Ordering::SeqCst) == 0 {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                // one row of every channel decodes (and caches) the whole chunk row
                let at = c * rows;
                let ok = if s.int16 {
                    s.reader.read::<i16>(at..at + 1, &all).is_ok()
                } else {
                    s.reader.read_scaled(at..at + 1, &all).is_ok()
                };
                if !ok {
                    break;
                }
            }
            s.prefetching.fetch_sub(1, Ordering::SeqCst);
        });
}

/// Query of `/api/traces/overview`.
#[derive(Deserialize)]
pub struct OverviewParams {
    nwb: String,
    src: String,
    /// Channel indices, comma-separated (default: the first 8).
    #[serde(default)]
    ch: Option<String>,
    /// Columns wanted.
    #[serde(default)]
    px: Option<usize>,
}

/// `GET /api/traces/overview?nwb=&src=&ch=&px=`: the whole session's envelope (min
/// and max over the chosen channels) per column of whole pyramid entries, `null` where
/// not filled yet; `filled` is the fraction of the pyramid computed. The first call
/// starts filling it in the background.
pub async fn overview(S(state): S<Shared>, Q(p): Q<OverviewParams>) -> Result<Json<J>, ApiError> {
    blocking(&state, move |s| {
        let started = std::time::Instant::now();
        let series = s.traces.series(&s.db, &p.nwb, &p.src)?;
        let channels = parse_channels(p.ch.as_deref(), series.reader.num_channels())?;
        fill_in_background(&series);
        let n = series.reader.num_samples();
        let px = p.px.unwrap_or(1000).clamp(16, 8000);
        let pyr = series.pyramid.lock().map_err(internal)?;
        let level = pyr.level_for(n.div_ceil(px).max(1));
        let lv = &pyr.levels[level];
        let k = (n.div_ceil(px) / lv.span).max(1);
        let entries = lv.filled.len();
        let nbins = entries.div_ceil(k);
        let mut t = Vec::with_capacity(nbins);
        let mut min = Vec::with_capacity(nbins);
        let mut max = Vec::with_capacity(nbins);
        for i in 0..nbins {
            let e = i * k..((i + 1) * k).min(entries);
            // a column's time: its first block's, else where it would start
            let b = e.start * lv.span / BLOCK;
            t.push(if pyr.t[b].is_finite() {
                pyr.t[b]
            } else {
                series.first
                    + (series.last - series.first) * (e.start * lv.span) as f64
                        / n.saturating_sub(1).max(1) as f64
            });
            if !lv.filled[e.clone()].iter().all(|f| *f) {
                min.push(None);
                max.push(None);
                continue;
            }
            let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
            for &c in &channels {
                for i in e.clone() {
                    lo = lo.min(lv.min[c][i]);
                    hi = hi.max(lv.max[c][i]);
                }
            }
            min.push(Some(lo));
            max.push(Some(hi));
        }
        let filled = pyr.filled_blocks as f64 / pyr.t.len().max(1) as f64;
        Ok(Json(json!({
            "start": series.first, "end": series.last, "unit": series.unit,
            "channels": channels, "per_bin": k * lv.span, "filled": filled,
            "t": t, "min": min, "max": max,
            "server_ms": started.elapsed().as_secs_f64() * 1e3,
        })))
    })
    .await
}
