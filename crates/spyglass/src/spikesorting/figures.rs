//! `spyglass sorting plot`: pictures of a CurationV1 as SVG files in one folder —
//! `curation.svg` (the units table with labels, merge groups, peak electrode,
//! amplitude and metrics; a raster; every unit's template at the probe's contact
//! positions; amplitudes over time) and `unit_<id>.svg` per unit (its template at the
//! contact positions, autocorrelogram, amplitude over time and metrics).
//!
//! The numbers come from the shared implementations: the recording is recomputed
//! from the raw file ([`super::recompute`], its stored hash checked), spike times
//! become samples as MetricCuration maps them, waveforms / templates / peak channels /
//! peak shifts / spike amplitudes are [`spyglass_metrics`]' (SpikeInterface's
//! `templates` and `spike_amplitudes` definitions, `extremum` peak channel),
//! autocorrelograms are [`spyglass_metrics::correlograms`]' (SpikeInterface's
//! `compute_correlograms` counts), contact positions are the recipe's (the
//! geometry the sorter used), and metrics are those of a MetricCuration of this
//! curation (or of the MetricCuration a child curation was made from) when one
//! exists. The browser viewer reads the same [`sorting_figure_data`].

use super::curation_v1::{self as cv, CurationKey, CurationRow};
use super::metric_curation_v1 as mc;
use super::recompute::FilteredRecording;
use super::recording_v1 as rec;
use super::sorting_v1::{self as ss, SortingKey, SortingSelection};
use crate::kit::prelude::*;
use crate::plot::{Figure, Item, Panel, PALETTE};
use spyglass_metrics::correlograms::{autocorrelogram, correlogram_bins, CorrelogramBins};
use spyglass_metrics::{
    ms_to_samples, select_spikes, spike_amplitudes, templates, PeakSign, SelectedSpike, Waveforms,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// Spikes per unit drawn in a raster or amplitude panel at most (evenly thinned; the
/// numbers computed are over every spike).
pub const MAX_DRAWN_SPIKES: usize = 5000;

/// What the pictures are computed with.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureParams {
    /// Template window before the spike, ms (SpikeInterface's default 1).
    pub ms_before: f64,
    /// Template window after the spike, ms (SpikeInterface's default 2).
    pub ms_after: f64,
    /// Spikes per unit averaged into its template at most (a seeded random subset).
    pub max_spikes_per_unit: Option<usize>,
    /// Seed of that subset.
    pub seed: u64,
    /// Sign of the peak that picks the peak channel and the amplitude sample.
    pub peak_sign: PeakSign,
    /// Full width of the autocorrelogram window, ms (±half around 0).
    pub acg_window_ms: f64,
    /// Autocorrelogram bin, ms.
    pub acg_bin_ms: f64,
    /// Spikes per unit whose amplitude is computed at most (every k-th, as [`thin`]
    /// picks them); `None`: every spike.
    pub amplitude_spikes: Option<usize>,
}

impl Default for FigureParams {
    fn default() -> FigureParams {
        FigureParams {
            ms_before: 1.0,
            ms_after: 2.0,
            max_spikes_per_unit: Some(500),
            seed: 0,
            peak_sign: PeakSign::Neg,
            acg_window_ms: 100.0,
            acg_bin_ms: 1.0,
            amplitude_spikes: None,
        }
    }
}

/// The numbers behind one unit's pictures.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitFigureData {
    /// Unit id.
    pub id: i64,
    /// Curation labels.
    pub labels: Vec<String>,
    /// The other units of its merge group (as stored, text).
    pub merge_group: Vec<String>,
    /// Spike times inside the recording, seconds, ascending.
    pub spike_times: Vec<f64>,
    /// Their samples in the recording.
    pub spike_samples: Vec<i64>,
    /// Spikes of the unit outside the recording (not drawn).
    pub spikes_outside: usize,
    /// Peak channel: index into the recording's channels.
    pub peak_channel: usize,
    /// Peak channel: electrode id.
    pub peak_electrode: i64,
    /// Samples from the spike sample to the template's peak on the peak channel.
    pub peak_shift: i64,
    /// Average template, µV, `num_samples × num_channels` (sample-major).
    pub template: Vec<f32>,
    /// Amplitude of every `amplitude_step`-th spike (µV): the trace at
    /// `sample + peak_shift` on the peak channel.
    pub amplitudes: Vec<f32>,
    /// 1 when every spike has its amplitude; k when every k-th has.
    pub amplitude_step: usize,
    /// Autocorrelogram counts.
    pub acg: Vec<u64>,
    /// Metric values (name, value), when a MetricCuration gave them.
    pub metrics: Vec<(String, f64)>,
}

/// The numbers behind a curation's pictures.
#[derive(Debug, Clone, PartialEq)]
pub struct SortingFigureData {
    /// The curation.
    pub key: CurationKey,
    /// Its row.
    pub row: CurationRow,
    /// The session.
    pub nwb_file_name: String,
    /// The sorter.
    pub sorter: String,
    /// Sampling rate of the recording, Hz.
    pub sampling_rate: f64,
    /// Electrode ids of the recording's channels.
    pub channel_ids: Vec<i64>,
    /// Contact positions (x, y), µm, per channel.
    pub locations: Vec<[f64; 2]>,
    /// Template samples before the spike sample.
    pub nbefore: usize,
    /// Samples per template.
    pub num_samples: usize,
    /// Autocorrelogram bins.
    pub bins: CorrelogramBins,
    /// The MetricCuration the metrics come from.
    pub metric_curation_id: Option<Uuid>,
    /// The units, in the curation's order.
    pub units: Vec<UnitFigureData>,
}

/// The metrics of the MetricCuration of this curation (the first by id that is
/// populated), or else of the one a child curation was made from (its description
/// `metric_curation_id: <id>`); `None` when there is none.
/// Metric values (name, value per unit id) of one MetricCuration.
type MetricsOf = (Uuid, Vec<(String, BTreeMap<i64, f64>)>);

fn metrics_of(db: &Db, row: &CurationRow) -> Result<Option<MetricsOf>> {
    if db.table_info(mc::METRIC_CURATION).is_err() {
        return Ok(None);
    }
    let sels: Vec<mc::Selection> = db.rows(
        mc::SELECTION,
        &serde_json::json!({ "sorting_id": row.sorting_id, "curation_id": row.curation_id }),
    )?;
    let mut ids: Vec<Uuid> = sels.iter().map(|s| s.metric_curation_id).collect();
    ids.sort();
    if let Some(id) = row
        .description
        .strip_prefix("metric_curation_id: ")
        .and_then(|t| t.trim().parse::<Uuid>().ok())
    {
        ids.push(id);
    }
    for id in ids {
        let key = mc::MetricCurationKey {
            metric_curation_id: id,
        };
        let done: Vec<mc::MetricCurationKey> = db.rows(mc::METRIC_CURATION, &key)?;
        if !done.is_empty() {
            return Ok(Some((id, mc::get_metrics(db, &key)?)));
        }
    }
    Ok(None)
}

/// Bytes of spike windows kept to compute the amplitudes in the one streamed pass at
/// most; more, and the amplitudes take a second pass.
pub const ONE_PASS_BUDGET: usize = 512 << 20;

/// A spike whose window the streamed pass keeps.
#[derive(Clone, Copy)]
struct Wanted {
    spike: SelectedSpike,
    /// Among the template's spikes.
    for_template: bool,
}

/// Computes the numbers behind the pictures of curation `key` (see the module doc) in
/// one streamed pass over the recomputed recording (its hash checked at the end),
/// keeping the windows of the template spikes and of the spikes whose amplitudes are
/// wanted; when those windows exceed [`ONE_PASS_BUDGET`], the amplitudes take a
/// second pass.
pub fn sorting_figure_data(
    db: &Db,
    key: &CurationKey,
    params: &FigureParams,
) -> Result<SortingFigureData> {
    let what = format!(
        "pictures of {} (sorting {}, curation {})",
        cv::CURATION,
        key.sorting_id,
        key.curation_id
    );
    let row: CurationRow = db.row(cv::CURATION, key)?;
    let sel: SortingSelection = db.row(
        ss::SELECTION,
        &SortingKey {
            sorting_id: key.sorting_id,
        },
    )?;
    let units = cv::get_sorting(db, key)?;
    let source = rec::recording_source(db, sel.key.recording_id)?;
    let recording = FilteredRecording::open(&source.raw_file, source.recipe.clone())?;
    let recipe = recording.recipe().clone();
    let locations = recipe.locations.clone().ok_or_else(|| {
        Error::bad(
            what.clone(),
            format!(
                "the recording has no contact positions for electrodes {:?}",
                recipe.channel_ids
            ),
        )
    })?;
    let fs = recording.sampling_rate();
    let bins = correlogram_bins(fs, params.acg_window_ms, params.acg_bin_ms)
        .map_err(|e| Error::bad(what.clone(), e.to_string()))?;
    let window_ok = params.ms_before.is_finite()
        && params.ms_before >= 0.0
        && params.ms_after.is_finite()
        && params.ms_after > 0.0;
    if !window_ok {
        return Err(Error::bad(
            what,
            format!(
                "template window {} ms before, {} ms after",
                params.ms_before, params.ms_after
            ),
        ));
    }
    let (nbefore, nafter) = (
        ms_to_samples(params.ms_before, fs),
        ms_to_samples(params.ms_after, fs),
    );
    let nc = recording.n_channels();
    let wlen = (nbefore + nafter) * nc;

    let mut times = Vec::with_capacity(units.len());
    let mut trains = Vec::with_capacity(units.len());
    let mut outside = Vec::with_capacity(units.len());
    for u in &units {
        let mut t = u.spike_times.clone();
        t.sort_by(f64::total_cmp);
        let s = mc::samples_of(&recording, &t)?;
        outside.push(t.len() - s.len());
        t.truncate(s.len());
        times.push(t);
        trains.push(s);
    }
    let selected = select_spikes(&trains, params.max_spikes_per_unit, params.seed);
    let steps: Vec<usize> = trains
        .iter()
        .map(|t| match params.amplitude_spikes {
            Some(m) => t.len().div_ceil(m.max(1)).max(1),
            None => 1,
        })
        .collect();
    let n_amp: usize = trains
        .iter()
        .zip(&steps)
        .map(|(t, k)| t.len().div_ceil(*k))
        .sum();
    let one_pass = n_amp.saturating_mul(wlen).saturating_mul(4) <= ONE_PASS_BUDGET;

    // the windows the pass keeps, in sample order
    let mut wanted: Vec<Wanted> = vec![];
    for (u, t) in trains.iter().enumerate() {
        let mut sel = selected[u].iter().peekable();
        for (i, &sample) in t.iter().enumerate() {
            let for_template = sel.next_if(|&&j| j == i).is_some();
            if for_template || (one_pass && i % steps[u] == 0) {
                wanted.push(Wanted {
                    spike: SelectedSpike {
                        sample,
                        unit: u,
                        index_in_unit: i,
                    },
                    for_template,
                });
            }
        }
    }
    wanted.sort_by_key(|w| (w.spike.sample, w.spike.unit, w.spike.index_in_unit));
    let mut windows = vec![0.0f32; wanted.len() * wlen];
    let mut lo = 0usize;
    recording.stream(source.hash.as_deref(), |row0, block| {
        let end = row0 + block.len() / nc.max(1);
        for (k, w) in wanted.iter().enumerate().skip(lo) {
            let start = w.spike.sample - nbefore as i64;
            if start >= end as i64 {
                break;
            }
            let stop = w.spike.sample + nafter as i64;
            let (a, b) = (start.max(row0 as i64), stop.min(end as i64));
            for r in a..b {
                let (dst, src) = ((r - start) as usize * nc, (r as usize - row0) * nc);
                for c in 0..nc {
                    windows[k * wlen + dst + c] = block[src + c] as f32;
                }
            }
        }
        while lo < wanted.len() && wanted[lo].spike.sample + nafter as i64 <= end as i64 {
            lo += 1;
        }
        Ok(())
    })?;
    let m = |e: spyglass_metrics::SortError| Error::bad(what.clone(), e.to_string());
    let mut wf_spikes = vec![];
    let mut wf_data = vec![];
    for (k, w) in wanted.iter().enumerate() {
        if w.for_template {
            wf_spikes.push(w.spike);
            wf_data.extend_from_slice(&windows[k * wlen..(k + 1) * wlen]);
        }
    }
    let wf =
        Waveforms::from_parts(nbefore, nafter, nc, wf_spikes, trains.len(), wf_data).map_err(m)?;
    let tpl = templates(&wf);
    let main = tpl.main_channels(params.peak_sign);
    let shifts = tpl.peak_shifts(&main, params.peak_sign);
    let mut amps: Vec<Vec<f32>> = if one_pass {
        let mut out: Vec<Vec<f32>> = trains
            .iter()
            .zip(&steps)
            .map(|(t, k)| Vec::with_capacity(t.len().div_ceil(*k)))
            .collect();
        for (k, w) in wanted.iter().enumerate() {
            let u = w.spike.unit;
            if w.spike.index_in_unit % steps[u] == 0 {
                let row = (nbefore as i64 + shifts[u]) as usize;
                out[u].push(windows[k * wlen + row * nc + main[u]]);
            }
        }
        out
    } else {
        let src = ss::Source::new(&recording, vec![])?;
        let thinned: Vec<Vec<i64>> = trains
            .iter()
            .zip(&steps)
            .map(|(t, k)| t.iter().step_by(*k).copied().collect())
            .collect();
        let a = spike_amplitudes(&src, &thinned, &main, &shifts, 0).map_err(m)?;
        if let Some(e) = src.error() {
            return Err(e);
        }
        a
    };
    let metrics = metrics_of(db, &row)?;
    let mut out = Vec::with_capacity(units.len());
    for (k, u) in units.into_iter().enumerate() {
        let acg = autocorrelogram(&trains[k], bins).map_err(m)?;
        let unit_metrics = metrics
            .iter()
            .flat_map(|(_, ms)| ms.iter())
            .filter_map(|(name, vals)| vals.get(&u.id).map(|v| (name.clone(), *v)))
            .collect();
        out.push(UnitFigureData {
            id: u.id,
            labels: u.labels,
            merge_group: u.merge_group,
            spike_times: std::mem::take(&mut times[k]),
            spike_samples: std::mem::take(&mut trains[k]),
            spikes_outside: outside[k],
            peak_channel: main[k],
            peak_electrode: recipe.channel_ids.get(main[k]).copied().unwrap_or(-1),
            peak_shift: shifts[k],
            template: tpl.average[k].clone(),
            amplitudes: std::mem::take(&mut amps[k]),
            amplitude_step: steps[k],
            acg,
            metrics: unit_metrics,
        });
    }
    Ok(SortingFigureData {
        key: *key,
        row,
        nwb_file_name: sel.key.nwb_file_name,
        sorter: sel.key.sorter,
        sampling_rate: fs,
        channel_ids: recipe.channel_ids.clone(),
        locations,
        nbefore: tpl.nbefore,
        num_samples: tpl.num_samples,
        bins,
        metric_curation_id: metrics.map(|(id, _)| id),
        units: out,
    })
}

/// Every `step`-th element so that at most `max` remain.
pub fn thin<T: Copy>(v: &[T], max: usize) -> Vec<T> {
    let step = v.len().div_ceil(max.max(1)).max(1);
    v.iter().step_by(step).copied().collect()
}

/// The box each contact's trace is drawn in (width, height, µm): 90 % of the
/// smallest vertical spacing of contacts in one column and of the smallest spacing
/// of columns; one column is drawn twice as wide as tall, one contact 40 µm.
fn site_box(locations: &[[f64; 2]]) -> (f64, f64) {
    let min_gap = |vals: &mut Vec<f64>| -> Option<f64> {
        vals.sort_by(f64::total_cmp);
        vals.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
        vals.windows(2)
            .map(|w| w[1] - w[0])
            .fold(None, |m: Option<f64>, d| Some(m.map_or(d, |m| m.min(d))))
    };
    let mut xs: Vec<f64> = locations.iter().map(|l| l[0]).collect();
    let dx = min_gap(&mut xs);
    let mut dy: Option<f64> = None;
    for x in &xs {
        let mut col: Vec<f64> = locations
            .iter()
            .filter(|l| (l[0] - x).abs() < 1e-9)
            .map(|l| l[1])
            .collect();
        if let Some(g) = min_gap(&mut col) {
            dy = Some(dy.map_or(g, |d: f64| d.min(g)));
        }
    }
    match (dx, dy) {
        (Some(dx), Some(dy)) => (0.9 * dx, 0.9 * dy),
        (Some(dx), None) => (0.9 * dx, 0.45 * dx),
        (None, Some(dy)) => (1.8 * dy, 0.9 * dy),
        (None, None) => (40.0, 40.0),
    }
}

/// A unit's template as one trace per channel (µV).
fn traces(d: &SortingFigureData, u: &UnitFigureData) -> Vec<Vec<f64>> {
    let nc = d.channel_ids.len();
    (0..nc)
        .map(|c| {
            (0..d.num_samples)
                .map(|s| u.template.get(s * nc + c).map_or(f64::NAN, |v| *v as f64))
                .collect()
        })
        .collect()
}

/// The largest |value| of the templates of `units` (µV): the value drawn at half a
/// contact's box.
fn template_scale<'a>(units: impl Iterator<Item = &'a UnitFigureData>) -> f64 {
    let s = units
        .flat_map(|u| u.template.iter())
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs() as f64));
    if s > 0.0 {
        s
    } else {
        1.0
    }
}

fn probe_item(d: &SortingFigureData, u: &UnitFigureData, scale: f64, color: &'static str) -> Item {
    let (box_w, box_h) = site_box(&d.locations);
    Item::Multiples {
        group: u.id.to_string(),
        names: d.channel_ids.iter().map(|c| c.to_string()).collect(),
        sites: d.locations.iter().map(|l| (l[0], l[1])).collect(),
        traces: traces(d, u),
        box_w,
        box_h,
        scale,
        color,
    }
}

/// (time, amplitude) of the spikes that have an amplitude, thinned to
/// [`MAX_DRAWN_SPIKES`].
fn amplitude_points(u: &UnitFigureData) -> Vec<(f64, f64)> {
    let points: Vec<(f64, f64)> = u
        .spike_times
        .iter()
        .step_by(u.amplitude_step.max(1))
        .zip(&u.amplitudes)
        .map(|(t, a)| (*t, *a as f64))
        .collect();
    thin(&points, MAX_DRAWN_SPIKES)
}

fn median_abs(v: &[f32]) -> f64 {
    let mut a: Vec<f64> = v.iter().map(|x| x.abs() as f64).collect();
    if a.is_empty() {
        return f64::NAN;
    }
    a.sort_by(f64::total_cmp);
    a[a.len() / 2]
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == v.trunc() && v.abs() < 1e9 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    }
}

fn color_of(k: usize) -> &'static str {
    PALETTE[k % PALETTE.len()]
}

/// The curation's picture: units table, raster, templates on the probe, amplitudes.
pub fn curation_figure(d: &SortingFigureData) -> Figure {
    let metric_names: Vec<String> = {
        let mut names: Vec<String> = vec![];
        for u in &d.units {
            for (n, _) in &u.metrics {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
        }
        names
    };
    let mut header: Vec<String> = [
        "unit",
        "spikes",
        "labels",
        "merge group",
        "peak electrode",
        "median |amp| µV",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(metric_names.iter().cloned());
    let rows: Vec<Vec<String>> = d
        .units
        .iter()
        .map(|u| {
            let mut r = vec![
                u.id.to_string(),
                u.spike_times.len().to_string(),
                u.labels.join(", "),
                u.merge_group.join(", "),
                u.peak_electrode.to_string(),
                number(median_abs(&u.amplitudes)),
            ];
            for n in &metric_names {
                r.push(
                    u.metrics
                        .iter()
                        .find(|(m, _)| m == n)
                        .map_or(String::new(), |(_, v)| number(*v)),
                );
            }
            r
        })
        .collect();
    let metric_note = match d.metric_curation_id {
        Some(id) => format!("metrics of MetricCuration {id}"),
        None => "no MetricCuration of this curation".into(),
    };
    let table = Panel::table(format!("units ({metric_note})"), header, rows);
    let mut raster = Panel::new(
        "raster (row = unit, top to bottom in table order)",
        "time (s)",
        "unit row",
    )
    .height((60.0 + 22.0 * d.units.len() as f64).clamp(160.0, 700.0));
    let n = d.units.len();
    for (k, u) in d.units.iter().enumerate() {
        raster = raster.with(Item::Ticks {
            xs: thin(&u.spike_times, MAX_DRAWN_SPIKES),
            y: (n - k) as f64,
            height: 0.8,
            color: color_of(k),
        });
    }
    let scale = template_scale(d.units.iter());
    let mut probe = Panel::new(
        format!(
            "average templates at the contact positions ({} ms before, {} ms after; half a box = {:.0} µV)",
            d.nbefore as f64 * 1e3 / d.sampling_rate,
            (d.num_samples - d.nbefore) as f64 * 1e3 / d.sampling_rate,
            scale
        ),
        "x (µm)",
        "y (µm)",
    )
    .equal_aspect();
    for (k, u) in d.units.iter().enumerate() {
        probe = probe.with(probe_item(d, u, scale, color_of(k)));
    }
    let mut amps = Panel::new(
        "spike amplitudes on each unit's peak channel",
        "time (s)",
        "amplitude (µV)",
    );
    for (k, u) in d.units.iter().enumerate() {
        amps = amps.with(Item::Points {
            points: amplitude_points(u),
            color: color_of(k),
        });
    }
    Figure::new(format!(
        "{}: {} sorting {} curation {} ({} units)",
        d.nwb_file_name,
        d.sorter,
        d.key.sorting_id,
        d.key.curation_id,
        d.units.len()
    ))
    .with(table)
    .with(raster)
    .with(probe)
    .with(amps)
}

/// One unit's picture: template at the contact positions, autocorrelogram, amplitude
/// over time and its metrics.
pub fn unit_figure(d: &SortingFigureData, k: usize) -> Option<Figure> {
    let u = d.units.get(k)?;
    let color = color_of(k);
    let scale = template_scale(std::iter::once(u));
    let probe = Panel::new(
        format!(
            "average template at the contact positions (peak electrode {}; half a box = {:.0} µV)",
            u.peak_electrode, scale
        ),
        "x (µm)",
        "y (µm)",
    )
    .equal_aspect()
    .with(probe_item(d, u, scale, color));
    let b = d.bins;
    let acg = Panel::new(
        format!(
            "autocorrelogram (±{} ms, {} ms bins)",
            b.window_size as f64 * 1e3 / d.sampling_rate,
            b.bin_size as f64 * 1e3 / d.sampling_rate
        ),
        "lag (ms)",
        "spike pairs",
    )
    .with(Item::Bars {
        lefts: (0..u.acg.len())
            .map(|i| b.left_edge_ms(i, d.sampling_rate))
            .collect(),
        width: b.bin_size as f64 * 1e3 / d.sampling_rate,
        heights: u.acg.iter().map(|c| *c as f64).collect(),
        color,
    });
    let amps = Panel::new(
        format!("spike amplitude on electrode {}", u.peak_electrode),
        "time (s)",
        "amplitude (µV)",
    )
    .with(Item::Points {
        points: amplitude_points(u),
        color,
    });
    let mut rows = vec![
        vec!["spikes".to_string(), u.spike_times.len().to_string()],
        vec!["labels".into(), u.labels.join(", ")],
        vec!["merge group".into(), u.merge_group.join(", ")],
        vec!["peak electrode".into(), u.peak_electrode.to_string()],
        vec![
            "median |amplitude| (µV)".into(),
            number(median_abs(&u.amplitudes)),
        ],
    ];
    if u.spikes_outside > 0 {
        rows.push(vec![
            "spikes outside the recording".into(),
            u.spikes_outside.to_string(),
        ]);
    }
    rows.extend(u.metrics.iter().map(|(n, v)| vec![n.clone(), number(*v)]));
    let table = Panel::table("unit", vec!["".into(), "value".into()], rows);
    Some(
        Figure::new(format!(
            "{}: sorting {} curation {}, unit {}",
            d.nwb_file_name, d.key.sorting_id, d.key.curation_id, u.id
        ))
        .with(probe)
        .with(acg)
        .with(amps)
        .with(table),
    )
}

/// Writes the pictures of `d` into `<out>/sorting_<id>_curation_<n>/` (built under a
/// temporary name, then renamed; a folder of the same name is replaced); returns it.
pub fn write_figures(d: &SortingFigureData, out: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let name = format!(
        "sorting_{}_curation_{}",
        d.key.sorting_id, d.key.curation_id
    );
    let dest = out.join(&name);
    let tmp = out.join(format!(".{name}.tmp~{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    }
    std::fs::create_dir(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let written = (|| {
        curation_figure(d).write(&tmp.join("curation.svg"))?;
        for k in 0..d.units.len() {
            if let Some(f) = unit_figure(d, k) {
                f.write(&tmp.join(format!("unit_{}.svg", d.units[k].id)))?;
            }
        }
        if dest.exists() {
            std::fs::remove_dir_all(&dest).map_err(|e| Error::io(&dest, e))?;
        }
        std::fs::rename(&tmp, &dest).map_err(|e| Error::io(&dest, e))
    })();
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    written.map(|_| dest)
}

/// `spyglass sorting plot`.
#[derive(clap::Args)]
pub struct PlotArgs {
    /// The SpikeSorting's sorting_id.
    sorting_id: String,
    /// The curation (default: the sorting's latest).
    #[arg(long)]
    curation: Option<i64>,
    /// Spikes per unit averaged into its template at most.
    #[arg(long, default_value_t = 500)]
    max_spikes: usize,
    /// Folder the pictures' folder is written in.
    #[arg(short = 'o', long, default_value = ".")]
    out: PathBuf,
}

/// Runs `spyglass sorting plot`: prints the folder and files written.
pub fn run(db: &Db, a: &PlotArgs) -> Result<()> {
    let sorting_id: Uuid = a
        .sorting_id
        .parse()
        .map_err(|e| Error::bad("sorting_id", format!("`{}`: {e}", a.sorting_id)))?;
    let curation_id = match a.curation {
        Some(c) => c,
        None => {
            let rows: Vec<CurationRow> = db.rows(
                cv::CURATION,
                &serde_json::json!({ "sorting_id": sorting_id }),
            )?;
            rows.iter()
                .map(|r| r.curation_id)
                .max()
                .ok_or_else(|| Error::missing(cv::CURATION, format!("sorting_id = {sorting_id}")))?
        }
    };
    let key = CurationKey {
        sorting_id,
        curation_id,
    };
    let params = FigureParams {
        max_spikes_per_unit: Some(a.max_spikes.max(1)),
        ..FigureParams::default()
    };
    let d = sorting_figure_data(db, &key, &params)?;
    let dir = write_figures(&d, &a.out)?;
    println!("{}", dir.display());
    println!("  curation.svg ({} units)", d.units.len());
    for u in &d.units {
        println!(
            "  unit_{}.svg ({} spikes, peak electrode {})",
            u.id,
            u.spike_times.len(),
            u.peak_electrode
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_boxes_fit_between_contacts() {
        // a tetrode column 20 µm apart: 18 µm tall, twice as wide
        let close =
            |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9;
        let col = [[0.0, 0.0], [0.0, 20.0], [0.0, 40.0]];
        assert!(close(site_box(&col), (36.0, 18.0)));
        // two columns 30 µm apart, contacts 10 µm apart
        let two = [[0.0, 0.0], [0.0, 10.0], [30.0, 0.0], [30.0, 10.0]];
        assert!(close(site_box(&two), (27.0, 9.0)));
        assert!(close(site_box(&[[5.0, 5.0]]), (40.0, 40.0)));
    }
}
