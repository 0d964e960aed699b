//! The traces view's API: a session's time series (every ElectricalSeries and
//! SpatialSeries that a row of any table with `nwb_file_name` points to through
//! `fetch_nwb`: raw, LFP, band outputs, raw position), a window of chosen channels as points or as min/max per screen column,
//! and the overlays (interval lists, event tables such as ripple times).
//!
//! Min/max summaries come from the data on the fly: a window of few samples per
//! column is read directly; a wide one from a per-series pyramid base of min/max per
//! block of [`BLOCK`] samples, filled lazily (all channels at once, as stored rows)
//! and kept in memory, so panning and zooming out re-read nothing.

use crate::{blocking, ApiError, Shared};
use axum::extract::{Query as Q, State as S};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value as J};
use spyglass_db::{Cond, Query, Value};
use spyglass_nwb::{NwbFile, RawReader, SampleSpan, Timing};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// Samples per pyramid block.
pub const BLOCK: usize = 1024;
/// Blocks read at once when filling the pyramid.
const FILL_BLOCKS: usize = 32;
/// Samples read at once in a direct min/max pass.
const DIRECT_CHUNK: usize = 131_072;

/// Per-server state of the traces view.
#[derive(Default)]
pub struct Cache {
    sessions: Mutex<HashMap<String, Arc<SessionSources>>>,
    series: Mutex<HashMap<String, Arc<Series>>>,
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

/// An open series with its pyramid base.
struct Series {
    reader: RawReader,
    /// Display factor from the series' unit (volts → µV).
    factor: f64,
    unit: String,
    electrode_ids: Vec<i64>,
    first: f64,
    last: f64,
    /// Stored as 16-bit integers (read without conversion to f64).
    int16: bool,
    pyramid: Mutex<Pyramid>,
}

/// Min/max per block of [`BLOCK`] samples for every channel, filled on demand.
struct Pyramid {
    filled: Vec<bool>,
    /// Time of each block's first sample.
    t: Vec<f64>,
    /// `min[c][b]`, `max[c][b]`, in display units.
    min: Vec<Vec<f32>>,
    max: Vec<Vec<f32>>,
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
        let Some(src) = sources.traces.iter().find(|s| s.id == id) else {
            return Err(ApiError(
                StatusCode::NOT_FOUND,
                format!("session {nwb} has no time series with object id {id}"),
            ));
        };
        // two decoding threads: a window's chunks are decompressed in parallel
        let reader = src
            .file
            .raw_reader(&src.path)
            .and_then(|r| r.with_threads(2))
            .map_err(ApiError::bad)?;
        let n = reader.num_samples();
        let (first, last) = if n == 0 {
            (0.0, 0.0)
        } else {
            let t0 = reader.timestamps(0..1).map_err(ApiError::bad)?;
            let t1 = reader.timestamps(n - 1..n).map_err(ApiError::bad)?;
            (t0[0], t1[0])
        };
        let nblocks = n.div_ceil(BLOCK);
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
            pyramid: Mutex::new(Pyramid {
                filled: vec![false; nblocks],
                t: vec![f64::NAN; nblocks],
                min: vec![vec![0.0; nblocks]; channels],
                max: vec![vec![0.0; nblocks]; channels],
            }),
            reader,
        });
        self.series.lock().map_err(internal)?.insert(key, s.clone());
        Ok(s)
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
}

/// `GET /api/traces/data?nwb=&src=&ch=&t0=&t1=&px=`: the window as points (few
/// samples per column) or as min/max per column, in display units.
pub async fn data(S(state): S<Shared>, Q(p): Q<DataParams>) -> Result<Json<J>, ApiError> {
    blocking(&state, move |s| {
        let started = std::time::Instant::now();
        let series = s.traces.series(&s.db, &p.nwb, &p.src)?;
        let nch = series.reader.num_channels();
        let channels: Vec<usize> = match p.ch.as_deref().filter(|c| !c.trim().is_empty()) {
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
        if !(p.t0.is_finite() && p.t1.is_finite()) || p.t1 <= p.t0 {
            return Err(ApiError::bad(format!(
                "t0 {} and t1 {}: need finite t0 < t1",
                p.t0, p.t1
            )));
        }
        let px = p.px.unwrap_or(1000).clamp(16, 8000);
        let range = series
            .reader
            .samples(&SampleSpan::Time {
                start: p.t0,
                stop: p.t1,
            })
            .map_err(ApiError::bad)?;
        let ids: Vec<i64> = channels
            .iter()
            .map(|&c| series.electrode_ids.get(c).copied().unwrap_or(c as i64))
            .collect();
        let mut out = json!({
            "t0": p.t0, "t1": p.t1, "unit": series.unit,
            "start": series.first, "end": series.last,
            "samples": range.len(), "channels": channels, "electrode_ids": ids,
        });
        let n = range.len();
        if n <= 2 * px {
            let t = series
                .reader
                .timestamps(range.clone())
                .map_err(ApiError::bad)?;
            let y = series
                .reader
                .read_scaled(range, &channels)
                .map_err(ApiError::bad)?;
            out["mode"] = json!("points");
            out["t"] = json!(t);
            out["y"] = json!(y
                .iter()
                .map(|v| v
                    .iter()
                    .map(|x| (x * series.factor) as f32)
                    .collect::<Vec<_>>())
                .collect::<Vec<_>>());
        } else {
            let per_bin = n.div_ceil(px);
            let (t, min, max) = if per_bin < 4 * BLOCK {
                direct_minmax(&series, range, &channels, per_bin)?
            } else {
                pyramid_minmax(&series, range, &channels, per_bin)?
            };
            out["mode"] = json!("minmax");
            out["per_bin"] = json!(per_bin);
            out["t"] = json!(t);
            out["min"] = json!(min);
            out["max"] = json!(max);
        }
        out["server_ms"] = json!(started.elapsed().as_secs_f64() * 1e3);
        Ok(Json(out))
    })
    .await
}

type MinMax = (Vec<f64>, Vec<Vec<f32>>, Vec<Vec<f32>>);

/// Min/max per bin of `per_bin` samples, reading the window's samples in chunks.
fn direct_minmax(
    series: &Series,
    range: Range<usize>,
    channels: &[usize],
    per_bin: usize,
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
        let ts = series.reader.timestamps(at..end).map_err(ApiError::bad)?;
        let off = at - range.start;
        for (i, tt) in ts.iter().enumerate() {
            if (off + i) % per_bin == 0 {
                t[(off + i) / per_bin] = *tt;
            }
        }
        if series.int16 {
            // min/max of the stored integers, then scaled (the scaling is monotonic)
            let y = series
                .reader
                .read::<i16>(at..end, channels)
                .map_err(ApiError::bad)?;
            let scaling = series.reader.scaling();
            for (j, ys) in y.iter().enumerate() {
                let (lo, hi) = (&mut min[j], &mut max[j]);
                let k = scaling.factor(channels[j]) * series.factor;
                let offset = scaling.offset * series.factor;
                let mut b0 = off / per_bin;
                let mut i = 0;
                while i < ys.len() {
                    let stop = ((b0 + 1) * per_bin - off).min(ys.len());
                    let (mut a, mut z) = (i16::MAX, i16::MIN);
                    for &v in &ys[i..stop] {
                        a = a.min(v);
                        z = z.max(v);
                    }
                    let (va, vz) = (
                        (a as f64 * k + offset) as f32,
                        (z as f64 * k + offset) as f32,
                    );
                    lo[b0] = lo[b0].min(va.min(vz));
                    hi[b0] = hi[b0].max(va.max(vz));
                    i = stop;
                    b0 += 1;
                }
            }
        } else {
            let y = series
                .reader
                .read_scaled(at..end, channels)
                .map_err(ApiError::bad)?;
            for (c, ys) in y.iter().enumerate() {
                let (lo, hi) = (&mut min[c], &mut max[c]);
                for (i, v) in ys.iter().enumerate() {
                    let b = (off + i) / per_bin;
                    let v = (v * series.factor) as f32;
                    lo[b] = lo[b].min(v);
                    hi[b] = hi[b].max(v);
                }
            }
        }
        at = end;
    }
    Ok((t, min, max))
}

/// Min/max per bin of whole blocks (about `per_bin` samples), from the pyramid base.
fn pyramid_minmax(
    series: &Series,
    range: Range<usize>,
    channels: &[usize],
    per_bin: usize,
) -> Result<MinMax, ApiError> {
    let b0 = range.start / BLOCK;
    let b1 = range.end.div_ceil(BLOCK);
    fill(series, b0..b1)?;
    let pyr = series.pyramid.lock().map_err(internal)?;
    let k = (per_bin / BLOCK).max(1);
    let nbins = (b1 - b0).div_ceil(k);
    let t: Vec<f64> = (0..nbins).map(|i| pyr.t[b0 + i * k]).collect();
    let agg = |src: &Vec<Vec<f32>>, lo: bool| -> Vec<Vec<f32>> {
        channels
            .iter()
            .map(|&c| {
                (0..nbins)
                    .map(|i| {
                        let s = &src[c][b0 + i * k..(b0 + (i + 1) * k).min(b1)];
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
    Ok((t, agg(&pyr.min, true), agg(&pyr.max, false)))
}

/// Computes the missing blocks of `blocks`, all channels at once.
fn fill(series: &Series, blocks: Range<usize>) -> Result<(), ApiError> {
    let missing: Vec<usize> = {
        let pyr = series.pyramid.lock().map_err(internal)?;
        blocks.filter(|&b| !pyr.filled[b]).collect()
    };
    let n = series.reader.num_samples();
    let all: Vec<usize> = (0..series.reader.num_channels()).collect();
    let mut i = 0;
    while i < missing.len() {
        // a run of consecutive missing blocks, at most FILL_BLOCKS long
        let mut j = i + 1;
        while j < missing.len() && missing[j] == missing[j - 1] + 1 && j - i < FILL_BLOCKS {
            j += 1;
        }
        let (first, last) = (missing[i], missing[j - 1]);
        let samples = first * BLOCK..((last + 1) * BLOCK).min(n);
        let y = series
            .reader
            .read_scaled(samples.clone(), &all)
            .map_err(ApiError::bad)?;
        let ts: Vec<f64> = series
            .reader
            .timestamps(samples.clone())
            .map_err(ApiError::bad)?
            .into_iter()
            .step_by(BLOCK)
            .collect();
        let mut pyr = series.pyramid.lock().map_err(internal)?;
        for (c, ys) in y.iter().enumerate() {
            for (bi, chunk) in ys.chunks(BLOCK).enumerate() {
                let b = first + bi;
                let (lo, hi) = chunk
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                        (l.min(*v), h.max(*v))
                    });
                pyr.min[c][b] = (lo * series.factor) as f32;
                pyr.max[c][b] = (hi * series.factor) as f32;
            }
        }
        for (bi, t) in ts.into_iter().enumerate() {
            pyr.t[first + bi] = t;
            pyr.filled[first + bi] = true;
        }
        i = j;
    }
    Ok(())
}
