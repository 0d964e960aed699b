//! `spyglass ripple plot`: RippleTimesV1 entries as pictures, one SVG per entry —
//! the ripple-band LFP of the selection's electrodes over the whole detection
//! span with the detected events shaded and the animal's speed (and the
//! parameters' speed threshold) below, then a few events up close.

use super::v1::{
    fetch_params, fetch_ripple_times, BandElectrodeKey, RippleTimesRow, RIPPLE_LFP_ELECTRODE,
    RIPPLE_TIMES_V1,
};
use crate::kit::prelude::*;
use crate::lfp::band_v1::{BandRow, LFP_BAND_V1};
use crate::plot::{Figure, Item, Panel, PALETTE};
use spyglass_db::Cond;
use std::path::{Path, PathBuf};

/// Seconds shown before and after an event in its close-up.
pub const EVENT_PAD_S: f64 = 0.2;
/// Points per trace in the overview (each bin's minimum and maximum).
const OVERVIEW_BINS: usize = 1500;
/// `spyglass ripple plot`.
#[derive(clap::Args)]
pub struct PlotArgs {
    /// The session (`rat1_.nwb`, or the raw file name `rat1.nwb`).
    file: String,
    /// Restrict RippleTimesV1 by ATTR=VALUE (repeatable; all must hold), e.g.
    /// `--key ripple_param_name=default_trodes`; default: every entry of the session.
    #[arg(long = "key", value_name = "ATTR=VALUE")]
    keys: Vec<String>,
    /// How many events to show up close (spread over the recording).
    #[arg(long, default_value_t = 4)]
    events: usize,
    /// Folder for the pictures.
    #[arg(short = 'o', long, default_value = ".")]
    out: PathBuf,
}

/// What one picture shows.
#[derive(Debug, Clone)]
pub struct RippleView {
    /// The selection's electrodes, in the band's column order.
    pub electrode_ids: Vec<i64>,
    /// Band timestamps inside the detection span, seconds.
    pub time: Vec<f64>,
    /// Ripple-band LFP per electrode, µV, on `time`.
    pub lfp_uv: Vec<Vec<f64>>,
    /// Position timestamps inside the detection span, seconds.
    pub speed_time: Vec<f64>,
    /// Speed (the parameters' `speed_name` column), cm/s.
    pub speed: Vec<f64>,
    /// The parameters' speed threshold, cm/s.
    pub speed_threshold: f64,
    /// The detected events, `[start, end]` seconds.
    pub events: Vec<[f64; 2]>,
}

/// Draws every RippleTimesV1 entry the arguments name; prints the files written.
pub fn run(db: &Db, a: &PlotArgs) -> Result<()> {
    let nwb = args::session_name(db, &a.file)?;
    let mut pairs = vec![("nwb_file_name".to_string(), Value::from(nwb.as_str()))];
    pairs.extend(args::key_pairs(db, RIPPLE_TIMES_V1, &a.keys)?);
    let rows: Vec<RippleTimesRow> =
        db.fetch_as(&db.table(RIPPLE_TIMES_V1)?.restrict(Cond::Map(pairs))?)?;
    if rows.is_empty() {
        let key = std::iter::once(format!("nwb_file_name = {nwb}"))
            .chain(a.keys.iter().cloned())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(Error::missing(RIPPLE_TIMES_V1, key));
    }
    std::fs::create_dir_all(&a.out).map_err(|e| Error::io(&a.out, e))?;
    for row in rows {
        let view = fetch_view(db, &row)?;
        let k = &row.key;
        let title = format!(
            "{nwb}: ripples `{}` on {} ({}), position {}",
            k.ripple_param_name,
            k.selection.band.filter_name,
            k.selection.group_name,
            k.pos_merge_id
        );
        let path = picture_path(&a.out, &row);
        figure(&title, &view, a.events).write(&path)?;
        println!("{}", path.display());
    }
    Ok(())
}

/// Where `run` writes the picture of `row` in folder `out` (named after its
/// analysis file, one per entry).
pub fn picture_path(out: &Path, row: &RippleTimesRow) -> PathBuf {
    let stem = row.analysis_file_name.trim_end_matches(".nwb");
    out.join(format!("ripples_{stem}.svg"))
}

/// The band, speed and events of RippleTimesV1 row `row`, over the span the
/// detector saw (the band's samples within the position's first..last time).
pub fn fetch_view(db: &Db, row: &RippleTimesRow) -> Result<RippleView> {
    let key = &row.key;
    let band: BandRow = db.row(LFP_BAND_V1, &key.selection.band)?;
    let mut electrode_ids: Vec<i64> = db
        .rows::<BandElectrodeKey>(RIPPLE_LFP_ELECTRODE, &key.selection)?
        .into_iter()
        .map(|e| e.electrode_id)
        .collect();
    let params = fetch_params(db, &key.ripple_param_name)?;
    let position = crate::position::merge::fetch_position(db, &key.pos_merge_id)?;
    let speed = match params.speed_name.as_str() {
        "speed" => position.speed,
        other => {
            let message =
                format!("speed_name `{other}` is not a column of the position (it has `speed`)");
            return Err(Error::bad(
                format!("ripple_v1.RippleParameters `{}`", key.ripple_param_name),
                message,
            ));
        }
    };
    let path = crate::analysis::analysis_file_path(db, &band.analysis_file_name)?;
    let file = spyglass_nwb::NwbFile::open(&path)?;
    let reader = file.volts_reader(&file.path_of_id(&band.lfp_band_object_id)?)?;
    // the selection's electrodes in the series' column order
    electrode_ids = reader
        .channel_ids()
        .iter()
        .copied()
        .filter(|id| electrode_ids.contains(id))
        .collect();
    let channels = reader.channels_of(&electrode_ids)?;
    let n = reader.raw().num_samples();
    let time_all = reader.raw().timestamps(0..n)?;
    let (Some(&p0), Some(&p1)) = (position.time.first(), position.time.last()) else {
        let what = format!("position_merge.PositionOutput {}", key.pos_merge_id);
        return Err(Error::bad(what, "no position samples"));
    };
    let inside = time_all.partition_point(|&t| t < p0)..time_all.partition_point(|&t| t <= p1);
    let volts = reader.read_volts(inside.clone(), &channels)?;
    let in_span = |t: &f64| p0 <= *t && *t <= p1;
    let (speed_time, speed_in_span): (Vec<f64>, Vec<f64>) = position
        .time
        .iter()
        .zip(&speed)
        .filter(|(t, _)| in_span(t))
        .map(|(&t, &s)| (t, s))
        .unzip();
    Ok(RippleView {
        electrode_ids,
        time: time_all[inside].to_vec(),
        lfp_uv: volts
            .into_iter()
            .map(|c| c.into_iter().map(|v| v * 1e6).collect())
            .collect(),
        speed_time,
        speed: speed_in_span,
        speed_threshold: params.params.speed_threshold,
        events: fetch_ripple_times(db, key)?,
    })
}

/// The events shown up close when `n` are asked for: indices spread evenly over
/// the events (all of them when there are at most `n`).
pub fn close_up_events(n_events: usize, n: usize) -> Vec<usize> {
    if n_events <= n {
        return (0..n_events).collect();
    }
    (0..n).map(|k| k * n_events / n).collect()
}

/// The picture: the ripple band over the whole span with every event shaded,
/// the speed below, then `n_close_ups` events with [`EVENT_PAD_S`] around them
/// (every event inside such a window shaded). Traces are stacked bottom to top
/// in `electrode_ids` order.
pub fn figure(title: &str, v: &RippleView, n_close_ups: usize) -> Figure {
    let spacing = trace_spacing(&v.lfp_uv);
    let ids: Vec<String> = v.electrode_ids.iter().map(i64::to_string).collect();
    let y_label = format!(
        "µV, electrodes {} bottom up, {spacing:.0} apart",
        ids.join(", ")
    );
    let (t0, t1) = match (v.time.first(), v.time.last()) {
        (Some(&a), Some(&b)) => (a, b),
        _ => (f64::NAN, f64::NAN),
    };
    let spans = |w0: f64, w1: f64| -> Vec<(f64, f64)> {
        v.events
            .iter()
            .filter(|e| e[0] <= w1 && w0 <= e[1])
            .map(|e| (e[0].max(w0), e[1].min(w1)))
            .collect()
    };
    let traces = |panel: Panel, range: std::ops::Range<usize>, bins: Option<usize>| {
        v.lfp_uv.iter().enumerate().fold(panel, |p, (k, trace)| {
            let offset = k as f64 * spacing;
            let t = &v.time[range.clone()];
            let y = &trace[range.clone()];
            let points = match bins {
                Some(b) => envelope(t, y, b),
                None => with_gaps(t, y),
            };
            let points = points.into_iter().map(|(t, y)| (t, y + offset)).collect();
            p.with(Item::Line {
                points,
                color: PALETTE[k % PALETTE.len()],
            })
        })
    };
    let n_events = v.events.len();
    let overview = Panel::new(
        format!("ripple band, {t0:.6}–{t1:.6} s: {n_events} events"),
        "time (s)",
        &y_label,
    )
    .with(Item::Spans {
        spans: spans(t0, t1),
        color: "#f1c40f",
    });
    let overview = traces(overview, 0..v.time.len(), Some(OVERVIEW_BINS));
    let speed = v
        .speed_time
        .iter()
        .zip(&v.speed)
        .map(|(&t, &s)| (t, s))
        .collect();
    let speed_panel = Panel::new(
        format!("speed (threshold {} cm/s)", v.speed_threshold),
        "time (s)",
        "speed (cm/s)",
    )
    .with(Item::Spans {
        spans: spans(t0, t1),
        color: "#f1c40f",
    })
    .with(Item::Line {
        points: speed,
        color: "#222",
    })
    .with(Item::Line {
        points: vec![(t0, v.speed_threshold), (t1, v.speed_threshold)],
        color: "#c0392b",
    });
    let mut fig = Figure::new(title).with(overview).with(speed_panel);
    for k in close_up_events(n_events, n_close_ups) {
        let [a, b] = v.events[k];
        let (w0, w1) = (a - EVENT_PAD_S, b + EVENT_PAD_S);
        let range = v.time.partition_point(|&t| t < w0)..v.time.partition_point(|&t| t <= w1);
        let title = format!(
            "event {} of {n_events}: {a:.6}–{b:.6} s; window {w0:.6}–{w1:.6} s",
            k + 1
        );
        let panel = Panel::new(title, "time (s)", &y_label).with(Item::Spans {
            spans: spans(w0, w1),
            color: "#f1c40f",
        });
        fig = fig.with(traces(panel, range, None));
    }
    fig
}

/// Distance between stacked traces: 2.5 × the 99.9th percentile of |value| over
/// every trace (1 when all are zero or empty).
fn trace_spacing(traces: &[Vec<f64>]) -> f64 {
    let mut abs: Vec<f64> = traces
        .iter()
        .flatten()
        .filter(|v| v.is_finite())
        .map(|v| v.abs())
        .collect();
    if abs.is_empty() {
        return 1.0;
    }
    let k = ((abs.len() - 1) as f64 * 0.999) as usize;
    let (_, q, _) = abs.select_nth_unstable_by(k, f64::total_cmp);
    if *q > 0.0 {
        2.5 * *q
    } else {
        1.0
    }
}

/// The points of a trace, with a NaN break where the time step is more than 1.5
/// median steps (a gap between valid pieces).
fn with_gaps(t: &[f64], y: &[f64]) -> Vec<(f64, f64)> {
    let limit = 1.5 * median_step(t);
    let mut out = Vec::with_capacity(t.len());
    for (k, (&ti, &yi)) in t.iter().zip(y).enumerate() {
        if k > 0 && ti - t[k - 1] > limit {
            out.push((f64::NAN, f64::NAN));
        }
        out.push((ti, yi));
    }
    out
}

/// A trace reduced to about `2 × bins` points for a long span: each bin of
/// consecutive samples gives its minimum and maximum in time order (gaps break
/// the line as in [`with_gaps`]).
fn envelope(t: &[f64], y: &[f64], bins: usize) -> Vec<(f64, f64)> {
    if t.len() <= 2 * bins.max(1) {
        return with_gaps(t, y);
    }
    let limit = 1.5 * median_step(t);
    let size = t.len().div_ceil(bins.max(1));
    let mut out = Vec::with_capacity(2 * bins + 16);
    let mut start = 0;
    while start < t.len() {
        // a bin ends at its size or at a gap
        let mut end = start + 1;
        while end < t.len() && end - start < size && t[end] - t[end - 1] <= limit {
            end += 1;
        }
        let finite = (start..end).filter(|&k| y[k].is_finite());
        let lo = finite.clone().min_by(|&a, &b| y[a].total_cmp(&y[b]));
        let hi = finite.max_by(|&a, &b| y[a].total_cmp(&y[b]));
        match (lo, hi) {
            (Some(a), Some(b)) if a == b => out.push((t[a], y[a])),
            (Some(a), Some(b)) => {
                let (first, second) = if a < b { (a, b) } else { (b, a) };
                out.push((t[first], y[first]));
                out.push((t[second], y[second]));
            }
            _ => out.push((f64::NAN, f64::NAN)),
        }
        if end < t.len() && t[end] - t[end - 1] > limit {
            out.push((f64::NAN, f64::NAN));
        }
        start = end;
    }
    out
}

fn median_step(t: &[f64]) -> f64 {
    let mut d: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
    if d.is_empty() {
        return f64::INFINITY;
    }
    let k = d.len() / 2;
    *d.select_nth_unstable_by(k, f64::total_cmp).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_keeps_extremes_in_order_and_breaks_at_gaps() {
        // 0..10 s at 1 Hz, a gap, 20..30 s; 2 bins per piece at most
        let t: Vec<f64> = (0..10).chain(20..30).map(f64::from).collect();
        let y: Vec<f64> = (0..20)
            .map(|k| {
                if k == 3 {
                    9.0
                } else if k == 14 {
                    -9.0
                } else {
                    0.0
                }
            })
            .collect();
        let p = envelope(&t, &y, 4);
        let breaks = p.iter().filter(|(x, _)| x.is_nan()).count();
        assert_eq!(breaks, 1, "{p:?}");
        assert!(
            p.contains(&(3.0, 9.0)) && p.contains(&(24.0, -9.0)),
            "{p:?}"
        );
        let xs: Vec<f64> = p.iter().map(|q| q.0).filter(|x| !x.is_nan()).collect();
        assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
        assert!(p.len() <= 2 * 4 + 4, "{}", p.len());
    }

    #[test]
    fn close_ups_spread_over_the_events() {
        assert_eq!(close_up_events(3, 4), vec![0, 1, 2]);
        assert_eq!(close_up_events(10, 4), vec![0, 2, 5, 7]);
        assert!(close_up_events(0, 4).is_empty());
    }
}
