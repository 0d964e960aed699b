//! SpikeInterface's quality metrics by their definitions (SpikeInterface 0.105
//! `metrics/quality`), plus Spyglass's `isi_violation` fraction and `peak_channel`.
//!
//! Spike trains are sample indices per unit (sorted), one segment. Random choices (which
//! spikes, which noise snippets) go through a [`SubsetChooser`]; the default is a
//! seeded stream of ours, so on subsampled data the PCA metrics (nn_isolation,
//! nn_noise_overlap) agree with SpikeInterface's statistically, and exactly when the
//! same subsets are chosen (e.g. every spike kept).

use crate::noise::{noise_levels, random_chunk_starts};
use crate::pca::{Gram, IncrementalPca, Pca};
use crate::waveforms::{
    extract_waveforms, read_padded, spike_amplitudes, templates, Templates, WaveformParams,
    Waveforms,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use spyglass_sort::rng::Rng;
use spyglass_sort::{ChunkSource, PeakSign, Result, SortError};

/// Chooses `k` distinct indices of `0..population` (numpy's `rng.choice(population, k,
/// replace=False)` in SpikeInterface).
pub type SubsetChooser<'a> = &'a mut dyn FnMut(usize, usize) -> Vec<usize>;

/// A seeded [`SubsetChooser`] of ours for `unit`.
pub fn seeded_chooser(seed: u64, unit: usize) -> impl FnMut(usize, usize) -> Vec<usize> {
    let mut rng = Rng::new(seed, 0x6e6e_0000 + unit as u64);
    move |n, k| rng.subset(n, k)
}

/// Parameters of the nearest-neighbour metrics (Spyglass's `franklab_default`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NnParams {
    /// Spikes per cluster at most.
    pub max_spikes: usize,
    /// Units with fewer spikes get NaN (and are not neighbours).
    pub min_spikes: usize,
    /// Units with a lower firing rate get NaN.
    pub min_fr: f64,
    /// Neighbours checked.
    pub n_neighbors: usize,
    /// PCA components.
    pub n_components: usize,
    /// Channels within this radius (µm) of the main channel carry the unit's signal.
    pub radius_um: f64,
    /// Another unit is compared when it shares this fraction of the unit's channels.
    pub min_spatial_overlap: f64,
    /// Seed of the random subsets.
    pub seed: u64,
}

impl Default for NnParams {
    fn default() -> Self {
        Self {
            max_spikes: 1000,
            min_spikes: 10,
            min_fr: 0.0,
            n_neighbors: 5,
            n_components: 7,
            radius_um: 100.0,
            min_spatial_overlap: 0.5,
            seed: 0,
        }
    }
}

/// Parameters of [`compute_quality_metrics`] (SpikeInterface's defaults, Spyglass's
/// `franklab_default` where it sets them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricParams {
    /// Peak sign of main channels, snr and peak offsets.
    pub peak_sign: PeakSign,
    /// ISI violation threshold, ms.
    pub isi_threshold_ms: f64,
    /// Minimum possible ISI, ms.
    pub min_isi_ms: f64,
    /// Presence ratio bin, s.
    pub presence_bin_duration_s: f64,
    /// Presence ratio: active bins hold more than this fraction of the mean count.
    pub presence_mean_fr_ratio_thresh: f64,
    /// Amplitude cutoff histogram bins.
    pub amplitude_cutoff_bins: usize,
    /// Amplitude cutoff Gaussian smoothing (bins).
    pub amplitude_cutoff_smoothing: f64,
    /// Amplitude cutoff needs this many spikes per bin on average, else NaN.
    pub amplitude_cutoff_min_ratio: f64,
    /// Noise-level chunks.
    pub noise_num_chunks: usize,
    /// Noise-level chunk size, samples.
    pub noise_chunk_size: usize,
    /// Noise-level seed.
    pub noise_seed: u64,
    /// Nearest-neighbour metrics.
    pub nn: NnParams,
    /// Principal components per channel for the silhouette.
    pub pc_n_components: usize,
    /// Compute the PCA metrics (nn_isolation, nn_noise_overlap, silhouette).
    pub pca_metrics: bool,
    /// Compute amplitude_cutoff (a second pass over the recording for every spike).
    pub amplitude_cutoff: bool,
}

impl Default for MetricParams {
    fn default() -> Self {
        Self {
            peak_sign: PeakSign::Neg,
            isi_threshold_ms: 1.5,
            min_isi_ms: 0.0,
            presence_bin_duration_s: 60.0,
            presence_mean_fr_ratio_thresh: 0.0,
            amplitude_cutoff_bins: 100,
            amplitude_cutoff_smoothing: 3.0,
            amplitude_cutoff_min_ratio: 5.0,
            noise_num_chunks: 20,
            noise_chunk_size: 10_000,
            noise_seed: 0,
            nn: NnParams::default(),
            pc_n_components: 5,
            pca_metrics: true,
            amplitude_cutoff: true,
        }
    }
}

/// The metrics of one unit (NaN where SpikeInterface gives NaN).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitMetrics {
    /// Spikes of the unit.
    pub num_spikes: usize,
    /// Spikes per second.
    pub firing_rate: f64,
    /// Fraction of bins with spikes.
    pub presence_ratio: f64,
    /// Template extremum on the main channel / noise level there.
    pub snr: f64,
    /// SpikeInterface's `isi_violations_ratio`.
    pub isi_violations_ratio: f64,
    /// SpikeInterface's `isi_violations_count`.
    pub isi_violations_count: i64,
    /// Spyglass's `isi_violation`: violations / (num_spikes − 1).
    pub isi_violation: f64,
    /// Estimated fraction of missing spikes.
    pub amplitude_cutoff: f64,
    /// Simplified silhouette in PCA space.
    pub silhouette: f64,
    /// Nearest-neighbour isolation.
    pub nn_isolation: f64,
    /// The unit it is least isolated from.
    pub nn_unit: Option<usize>,
    /// Nearest-neighbour noise overlap.
    pub nn_noise_overlap: f64,
    /// Main (peak) channel index.
    pub peak_channel: usize,
    /// |peak shift| of the template on the main channel, samples.
    pub peak_offset: i64,
}

/// Metrics of all units and what they were computed from.
#[derive(Debug, Clone)]
pub struct QualityMetrics {
    /// One per unit.
    pub units: Vec<UnitMetrics>,
    /// Noise level per channel.
    pub noise_levels: Vec<f32>,
    /// Templates.
    pub templates: Templates,
    /// Main channel per unit.
    pub main_channels: Vec<usize>,
}

/// Spike count and firing rate over `total_samples` at `fs` (NaN rate without spikes).
pub fn firing_rate(num_spikes: usize, total_samples: usize, fs: f64) -> f64 {
    if num_spikes == 0 {
        return f64::NAN;
    }
    num_spikes as f64 / (total_samples as f64 / fs)
}

/// SpikeInterface's `presence_ratio` of one unit.
pub fn presence_ratio(
    train: &[i64],
    total_samples: usize,
    fs: f64,
    bin_duration_s: f64,
    mean_fr_ratio_thresh: f64,
) -> f64 {
    let bin = (bin_duration_s * fs) as i64;
    if bin <= 0 || (total_samples as i64) < bin || train.is_empty() {
        return f64::NAN;
    }
    let last = total_samples as i64 / bin * bin;
    let edges: Vec<i64> = (0..=last / bin).map(|i| i * bin).collect();
    if edges.len() < 2 {
        return 0.0;
    }
    let nb = edges.len() - 1;
    let mut h = vec![0usize; nb];
    for &s in train {
        if s < 0 || s > last {
            continue;
        }
        let i = ((s / bin) as usize).min(nb - 1);
        h[i] += 1;
    }
    let unit_fr = train.len() as f64 / (total_samples as f64 / fs);
    let thres = (unit_fr * bin_duration_s * mean_fr_ratio_thresh).floor() as usize;
    h.iter().filter(|&&c| c > thres).count() as f64 / nb as f64
}

/// SpikeInterface's ISI violations: (ratio, count).
pub fn isi_violations(
    train: &[i64],
    fs: f64,
    total_samples: usize,
    isi_threshold_ms: f64,
    min_isi_ms: f64,
) -> (f64, i64) {
    if train.is_empty() {
        return (f64::NAN, -1);
    }
    let thr = isi_threshold_ms / 1000.0;
    let min = min_isi_ms / 1000.0;
    let count = train
        .windows(2)
        .filter(|w| (w[1] as f64 / fs - w[0] as f64 / fs) < thr)
        .count();
    let n = train.len() as f64;
    let duration = total_samples as f64 / fs;
    let violation_time = 2.0 * n * (thr - min);
    let total_rate = n / duration;
    let violation_rate = count as f64 / violation_time;
    (violation_rate / total_rate, count as i64)
}

/// numpy's `histogram(values, bins)` of float32 values (equal bins over [min, max]).
pub fn histogram_f32(values: &[f32], bins: usize) -> Vec<i64> {
    let mut h = vec![0i64; bins];
    if values.is_empty() || bins == 0 {
        return h;
    }
    let mut first = values.iter().copied().fold(f32::INFINITY, f32::min) as f64;
    let mut last = values.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    if first == last {
        first -= 0.5;
        last += 0.5;
    }
    let step = (last - first) / bins as f64;
    let edges: Vec<f32> = (0..=bins)
        .map(|i| {
            if i == bins {
                last as f32
            } else {
                (i as f64 * step + first) as f32
            }
        })
        .collect();
    let denom = (last - first) as f32;
    let (first32, nb32) = (first as f32, bins as f32);
    for &v in values {
        let f = ((v - first32) / denom) * nb32;
        let mut i = (f as i64).clamp(0, bins as i64) as usize;
        if i == bins {
            i -= 1;
        }
        if v < edges[i] && i > 0 {
            i -= 1;
        }
        if v >= edges[i + 1] && i != bins - 1 {
            i += 1;
        }
        h[i] += 1;
    }
    h
}

/// scipy's `gaussian_filter1d(h, sigma, mode="nearest")` of an integer histogram (the
/// result truncated to integers, as scipy writes an integer output).
pub fn gaussian_filter_int(h: &[i64], sigma: f64) -> Vec<i64> {
    let radius = (4.0 * sigma + 0.5) as i64;
    let mut w: Vec<f64> = (-radius..=radius)
        .map(|x| (-0.5 / (sigma * sigma) * (x * x) as f64).exp())
        .collect();
    let s: f64 = w.iter().sum();
    w.iter_mut().for_each(|x| *x /= s);
    let n = h.len() as i64;
    (0..n)
        .map(|i| {
            let v: f64 = (-radius..=radius)
                .zip(&w)
                .map(|(o, wt)| wt * h[(i + o).clamp(0, n - 1) as usize] as f64)
                .sum();
            v as i64
        })
        .collect()
}

/// SpikeInterface's `amplitude_cutoff` of one unit's spike amplitudes.
pub fn amplitude_cutoff(amplitudes: &[f32], bins: usize, smoothing: f64, min_ratio: f64) -> f64 {
    if amplitudes.is_empty() || bins == 0 || (amplitudes.len() as f64 / bins as f64) < min_ratio {
        return f64::NAN;
    }
    let mut sorted = amplitudes.to_vec();
    let med = crate::noise::median_f32(&mut sorted);
    let amps: Vec<f32> = if med < 0.0 {
        amplitudes.iter().map(|a| -a).collect()
    } else {
        amplitudes.to_vec()
    };
    let pdf = gaussian_filter_int(&histogram_f32(&amps, bins), smoothing);
    let cutoff = pdf[0];
    let g = pdf.iter().rposition(|&p| p >= cutoff).unwrap_or(0);
    let missed: i64 = pdf[g + 1..].iter().sum();
    let frac = missed as f64 / (amplitudes.len() as f64 + missed as f64);
    frac.min(0.5)
}

/// Channels within `radius_um` of each unit's main channel (increasing indices).
pub fn radius_channels(main: &[usize], locations: &[[f64; 2]], radius_um: f64) -> Vec<Vec<usize>> {
    main.iter()
        .map(|&m| {
            (0..locations.len())
                .filter(|&c| {
                    let dx = locations[c][0] - locations[m][0];
                    let dy = locations[c][1] - locations[m][1];
                    (dx * dx + dy * dy).sqrt() <= radius_um
                })
                .collect()
        })
        .collect()
}

/// SpikeInterface's isolation score of two point clouds (`n_a × k` then `n_b × k` rows
/// of `points`): the mean fraction of each point's `n_neighbors` nearest others that
/// belong to its own cloud.
pub fn isolation_score(points: &[f64], k: usize, n_a: usize, n_neighbors: usize) -> f64 {
    let n = points.len() / k.max(1);
    if n < 2 || k == 0 {
        return f64::NAN;
    }
    let nn = if n_neighbors > n { n - 1 } else { n_neighbors };
    // points padded to blocks of ISO_LANES coordinates (zeros add nothing to distances)
    let width = k.div_ceil(ISO_LANES) * ISO_LANES;
    let mut padded = vec![0.0f64; n * width];
    for (dst, src) in padded.chunks_exact_mut(width).zip(points.chunks_exact(k)) {
        dst[..k].copy_from_slice(src);
    }
    // points in order of their first coordinate: a point's search walks outwards from
    // its own place and stops on each side once the first coordinate alone is farther
    // than the current n-th nearest distance
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| padded[a * width].total_cmp(&padded[b * width]));
    let same: usize = (0..n)
        .into_par_iter()
        .map(|r| {
            let i = order[r];
            let p = &padded[i * width..(i + 1) * width];
            let mut best: Vec<(f64, usize)> = Vec::with_capacity(nn + 1);
            let consider = |j: usize, best: &mut Vec<(f64, usize)>| -> bool {
                let q = &padded[j * width..(j + 1) * width];
                let gap = q[0] - p[0];
                if best.len() == nn && gap * gap > best[nn - 1].0 {
                    return false;
                }
                let d = squared_distance(p, q);
                if best.len() < nn || d < best[nn - 1].0 {
                    let pos = best.partition_point(|&(bd, _)| bd <= d);
                    best.insert(pos, (d, j));
                    best.truncate(nn);
                }
                true
            };
            let (mut left, mut right) = (r, r + 1);
            let (mut go_left, mut go_right) = (left > 0, right < n);
            while go_left || go_right {
                if go_right {
                    go_right = consider(order[right], &mut best);
                    right += 1;
                    go_right &= right < n;
                }
                if go_left {
                    left -= 1;
                    go_left = consider(order[left], &mut best) && left > 0;
                }
            }
            let mine = i < n_a;
            best.iter().filter(|&&(_, j)| (j < n_a) == mine).count()
        })
        .sum();
    same as f64 / n as f64 / nn as f64
}

/// Coordinates per block of [`squared_distance`].
const ISO_LANES: usize = 4;

/// ‖p − q‖² of two points padded to a multiple of [`ISO_LANES`] coordinates.
fn squared_distance(p: &[f64], q: &[f64]) -> f64 {
    let mut acc = [0.0f64; ISO_LANES];
    for (a, b) in p.chunks_exact(ISO_LANES).zip(q.chunks_exact(ISO_LANES)) {
        for l in 0..ISO_LANES {
            let t = a[l] - b[l];
            acc[l] += t * t;
        }
    }
    acc.iter().sum()
}

fn pca_isolation(a: &[f32], b: &[f32], d: usize, n_components: usize, n_neighbors: usize) -> f64 {
    let n = a.len() / d;
    let mut all = Vec::with_capacity(a.len() + b.len());
    all.extend_from_slice(a);
    all.extend_from_slice(b);
    if n_components > d || n_components > all.len() / d {
        return f64::NAN;
    }
    match Pca::fit(&all, d, n_components) {
        Ok(p) => isolation_score(&p.transform(&all), p.n_components(), n, n_neighbors),
        Err(_) => f64::NAN,
    }
}

fn gather(wf_unit: &[f32], ns: usize, c: usize, idx: &[usize], channels: &[usize]) -> Vec<f32> {
    let w = ns * c;
    let mut out = Vec::with_capacity(idx.len() * ns * channels.len());
    for &i in idx {
        let one = &wf_unit[i * w..(i + 1) * w];
        for t in 0..ns {
            out.extend(channels.iter().map(|&ch| one[t * c + ch]));
        }
    }
    out
}

/// Waveforms `idx` (positions among unit `u`'s) on `channels`, `idx.len() × ns × channels`.
fn gather_unit(wf: &Waveforms, u: usize, idx: &[usize], channels: &[usize]) -> Vec<f32> {
    let (ns, c) = (wf.num_samples(), wf.num_channels);
    let mut out = Vec::with_capacity(idx.len() * ns * channels.len());
    for &i in idx {
        let one = wf.waveform(wf.units[u][i]);
        for t in 0..ns {
            out.extend(channels.iter().map(|&ch| one[t * c + ch]));
        }
    }
    out
}

/// One unit's extracted waveforms on its own channels (`ns × channels` values each),
/// reduced to their count, mean and scatter about the mean: nn_isolation takes the
/// covariance of every pair of units from these (restricted to the pair's common
/// channels) instead of recomputing it from the snippets, so the cost of a pair does
/// not grow with its spike count.
#[derive(Debug, Clone)]
pub struct UnitScatter {
    /// The unit's channels (see [`radius_channels`]).
    pub channels: Vec<usize>,
    /// Waveforms summed.
    pub n: usize,
    /// Mean waveform (`ns × channels`).
    pub mean: Vec<f64>,
    /// Σ (x − mean)(x − mean)ᵀ, `d × d` with `d = ns × channels`.
    pub scatter: Vec<f64>,
}

impl UnitScatter {
    /// The scatter of all of unit `u`'s waveforms on `channels`.
    pub fn of_unit(wf: &Waveforms, u: usize, channels: &[usize]) -> Self {
        let d = wf.num_samples() * channels.len();
        let n = wf.units[u].len();
        let rows = gather_unit(wf, u, &(0..n).collect::<Vec<_>>(), channels);
        let mut mean = vec![0.0f64; d];
        for r in rows.chunks_exact(d.max(1)) {
            mean.iter_mut().zip(r).for_each(|(m, x)| *m += *x as f64);
        }
        mean.iter_mut().for_each(|m| *m /= n.max(1) as f64);
        let mut g = Gram::new(d);
        for r in rows.chunks_exact(d.max(1)) {
            g.push(r.iter().zip(&mean).map(|(x, m)| *x as f64 - m));
        }
        Self {
            channels: channels.to_vec(),
            n,
            mean,
            scatter: g.finish(),
        }
    }
}

/// A piece of a point cloud: its count, a reference point, Σ (x − ref) and
/// Σ (x − ref)(x − ref)ᵀ.
struct Piece {
    n: usize,
    reference: Vec<f64>,
    dev_sum: Vec<f64>,
    scatter: Vec<f64>,
}

/// The piece of `s`'s unit `u` made of waveforms `idx` on `common` (a subset of
/// `s.channels`): restricted from the unit's scatter, minus the left-out waveforms when
/// they are fewer than the chosen ones, else summed from the chosen ones.
fn restricted_piece(
    wf: &Waveforms,
    u: usize,
    s: &UnitScatter,
    idx: &[usize],
    common: &[usize],
) -> Piece {
    let ns = wf.num_samples();
    let (cu, cc) = (s.channels.len(), common.len());
    let d = ns * cc;
    let du = ns * cu;
    let map: Vec<usize> = (0..ns)
        .flat_map(|t| common.iter().map(move |ch| (t, ch)))
        .map(|(t, ch)| t * cu + s.channels.iter().position(|c| c == ch).unwrap_or(0))
        .collect();
    let reference: Vec<f64> = map.iter().map(|&i| s.mean[i]).collect();
    let add_rows = |rows: &[usize]| -> (Vec<f64>, Vec<f64>) {
        let x = gather_unit(wf, u, rows, common);
        let mut sum = vec![0.0f64; d];
        let mut g = Gram::new(d);
        for r in x.chunks_exact(d.max(1)) {
            sum.iter_mut()
                .zip(r)
                .zip(&reference)
                .for_each(|((a, v), m)| *a += *v as f64 - m);
            g.push(r.iter().zip(&reference).map(|(v, m)| *v as f64 - m));
        }
        (sum, g.finish())
    };
    let n_left = s.n - idx.len();
    if n_left < idx.len() {
        let mut scatter: Vec<f64> = map
            .iter()
            .flat_map(|&i| map.iter().map(move |&j| s.scatter[i * du + j]))
            .collect();
        let mut dev_sum = vec![0.0f64; d];
        if n_left > 0 {
            let mut chosen = vec![false; s.n];
            idx.iter().for_each(|&i| chosen[i] = true);
            let left: Vec<usize> = (0..s.n).filter(|&i| !chosen[i]).collect();
            let (ls, lg) = add_rows(&left);
            scatter.iter_mut().zip(&lg).for_each(|(a, b)| *a -= b);
            dev_sum.iter_mut().zip(&ls).for_each(|(a, b)| *a -= b);
        }
        Piece {
            n: idx.len(),
            reference,
            dev_sum,
            scatter,
        }
    } else {
        let (dev_sum, scatter) = add_rows(idx);
        Piece {
            n: idx.len(),
            reference,
            dev_sum,
            scatter,
        }
    }
}

/// The covariance (divisor n − 1) and mean of the union of `pieces` (Chan's pairwise
/// combination about the union's mean).
fn union_covariance(pieces: &[Piece], d: usize) -> (Vec<f64>, Vec<f64>) {
    let n: usize = pieces.iter().map(|p| p.n).sum();
    let mut mean = vec![0.0f64; d];
    for p in pieces {
        for ((m, r), s) in mean.iter_mut().zip(&p.reference).zip(&p.dev_sum) {
            *m += p.n as f64 * r + s;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut cov = vec![0.0f64; d * d];
    for p in pieces {
        let delta: Vec<f64> = p.reference.iter().zip(&mean).map(|(r, m)| r - m).collect();
        let nf = p.n as f64;
        for i in 0..d {
            let row = &mut cov[i * d..(i + 1) * d];
            let src = &p.scatter[i * d..(i + 1) * d];
            let (si, di) = (p.dev_sum[i], delta[i]);
            for j in 0..d {
                row[j] += src[j] + si * delta[j] + di * p.dev_sum[j] + nf * di * delta[j];
            }
        }
    }
    let denom = (n as f64 - 1.0).max(1.0);
    cov.iter_mut().for_each(|v| *v /= denom);
    (mean, cov)
}

/// SpikeInterface's `nearest_neighbors_isolation` of unit `unit`: (isolation, nearest
/// unit). `num_spikes`/`firing_rates` are the whole trains'; `sparse` the channels of
/// each unit (see [`radius_channels`]).
#[allow(clippy::too_many_arguments)]
pub fn nn_isolation(
    wf: &Waveforms,
    num_spikes: &[usize],
    firing_rates: &[f64],
    sparse: &[Vec<usize>],
    scatters: &[UnitScatter],
    unit: usize,
    p: &NnParams,
    choose: SubsetChooser<'_>,
) -> (f64, Option<usize>) {
    let ok = |u: usize| num_spikes[u] >= p.min_spikes && firing_rates[u] >= p.min_fr;
    if !ok(unit) {
        return (f64::NAN, None);
    }
    let target = &sparse[unit];
    let others: Vec<usize> = (0..num_spikes.len())
        .filter(|&u| u != unit && ok(u))
        .filter(|&u| {
            sparse[u].iter().filter(|c| target.contains(c)).count() as f64
                >= target.len() as f64 * p.min_spatial_overlap
        })
        .collect();
    if others.is_empty() {
        return (1.0, None);
    }
    let ns = wf.num_samples();
    let nt = wf.units[unit].len();
    let mut best = (f64::INFINITY, None);
    let mut scores = Vec::new();
    for &o in &others {
        let no = wf.units[o].len();
        let n_snip = nt.min(no).min(p.max_spikes);
        let it = choose(nt, n_snip);
        let io = choose(no, n_snip);
        let common: Vec<usize> = target
            .iter()
            .copied()
            .filter(|ch| sparse[o].contains(ch))
            .collect();
        let d = ns * common.len();
        let s = if n_snip == 0
            || common.is_empty()
            || p.n_components > d
            || p.n_components > 2 * n_snip
        {
            f64::NAN
        } else {
            let pieces = [
                restricted_piece(wf, unit, &scatters[unit], &it, &common),
                restricted_piece(wf, o, &scatters[o], &io, &common),
            ];
            let (mean, cov) = union_covariance(&pieces, d);
            let pca = Pca::from_covariance(mean, &cov, p.n_components);
            let mut all = gather_unit(wf, unit, &it, &common);
            all.extend(gather_unit(wf, o, &io, &common));
            isolation_score(
                &pca.transform(&all),
                pca.n_components(),
                n_snip,
                p.n_neighbors,
            )
        };
        scores.push(s);
    }
    // numpy's min / argmin: NaN wins
    if let Some(i) = scores.iter().position(|s| s.is_nan()) {
        return (f64::NAN, Some(others[i]));
    }
    for (s, &o) in scores.iter().zip(&others) {
        if *s < best.0 {
            best = (*s, Some(o));
        }
    }
    best
}

/// SpikeInterface's `nearest_neighbors_noise_overlap` of unit `unit`; `noise_starts` are
/// the `max_spikes` starts of the noise snippets (`nbefore + nafter` samples each).
#[allow(clippy::too_many_arguments)]
pub fn nn_noise_overlap(
    src: &dyn ChunkSource,
    wf: &Waveforms,
    tpl: &Templates,
    num_spikes: &[usize],
    firing_rates: &[f64],
    sparse: &[Vec<usize>],
    unit: usize,
    p: &NnParams,
    noise_starts: &[usize],
    choose: SubsetChooser<'_>,
) -> Result<f64> {
    if num_spikes[unit] < p.min_spikes || firing_rates[unit] < p.min_fr {
        return Ok(f64::NAN);
    }
    let (ns, c) = (wf.num_samples(), wf.num_channels);
    if noise_starts.len() != p.max_spikes {
        return Err(SortError::invalid(
            "noise snippets",
            format!(
                "{} starts for max_spikes {}",
                noise_starts.len(),
                p.max_spikes
            ),
        ));
    }
    let mut noise: Vec<Vec<f32>> = Vec::with_capacity(noise_starts.len());
    for &s in noise_starts {
        noise.push(read_padded(src, s as i64, (s + ns) as i64)?);
    }
    let wu = wf.unit_waveforms(unit);
    let nw = wf.units[unit].len();
    let chans = &sparse[unit];
    let (wf_idx, noise_idx): (Vec<usize>, Vec<usize>) = if nw > p.max_spikes {
        (choose(nw, p.max_spikes), (0..p.max_spikes).collect())
    } else if nw < p.max_spikes {
        ((0..nw).collect(), choose(p.max_spikes, nw))
    } else {
        ((0..nw).collect(), (0..nw).collect())
    };
    let n_snip = wf_idx.len();
    if n_snip == 0 {
        return Ok(f64::NAN);
    }
    let d = ns * chans.len();
    let mut w = gather(&wu, ns, c, &wf_idx, chans);
    let mut z: Vec<f32> = Vec::with_capacity(n_snip * d);
    for &i in &noise_idx {
        let clip = &noise[i];
        for t in 0..ns {
            z.extend(chans.iter().map(|&ch| clip[t * c + ch]));
        }
    }
    // peak of |median template| on the unit's channels
    let med = &tpl.median[unit];
    let (mut tmax, mut cmax, mut vmax) = (0usize, 0usize, f32::NEG_INFINITY);
    for t in 0..ns {
        for (k, &ch) in chans.iter().enumerate() {
            let v = med[t * c + ch].abs();
            if v > vmax {
                (tmax, cmax, vmax) = (t, k, v);
            }
        }
    }
    let weights: Vec<f64> = (0..n_snip)
        .map(|i| z[i * d + tmax * chans.len() + cmax] as f64)
        .collect();
    let wsum: f64 = weights.iter().sum();
    let mut wns = vec![0.0f64; d];
    for (i, wt) in weights.iter().enumerate() {
        let f = wt / wsum;
        for (a, v) in wns.iter_mut().zip(&z[i * d..(i + 1) * d]) {
            *a += f * *v as f64;
        }
    }
    let nn2: f64 = wns.iter().map(|x| x * x).sum();
    let subtract = |clip: &mut [f32]| {
        let dot: f64 = clip.iter().zip(&wns).map(|(a, b)| *a as f64 * b).sum();
        let f = dot / nn2;
        clip.iter_mut()
            .zip(&wns)
            .for_each(|(a, b)| *a = (*a as f64 - b * f) as f32);
    };
    w.chunks_exact_mut(d).for_each(subtract);
    z.chunks_exact_mut(d).for_each(subtract);
    Ok(1.0 - pca_isolation(&w, &z, d, p.n_components, p.n_neighbors))
}

/// SpikeInterface's `principal_components` (`by_channel_local`, dense): one
/// [`IncrementalPca`] per channel fitted unit after unit on the units' waveforms
/// (units with fewer waveforms than components skipped), and every extracted spike's
/// projections (`spikes × n_components × channels`, in [`Waveforms::spikes`] order).
pub fn principal_components(
    wf: &Waveforms,
    n_components: usize,
    whiten: bool,
) -> Result<(Vec<Pca>, Vec<f64>)> {
    let (ns, c) = (wf.num_samples(), wf.num_channels);
    let models: Vec<Pca> = (0..c)
        .into_par_iter()
        .map(|ch| -> Result<Pca> {
            let mut m = IncrementalPca::new(n_components, whiten);
            for u in 0..wf.units.len() {
                if wf.units[u].len() < n_components {
                    continue;
                }
                let rows = gather(
                    &wf.unit_waveforms(u),
                    ns,
                    c,
                    &(0..wf.units[u].len()).collect::<Vec<_>>(),
                    &[ch],
                );
                m.partial_fit(&rows, ns)?;
            }
            m.model()
        })
        .collect::<Result<_>>()?;
    let mut proj = vec![0.0f64; wf.spikes.len() * n_components * c];
    proj.par_chunks_mut(n_components * c)
        .enumerate()
        .for_each(|(g, out)| {
            let one = wf.waveform(g);
            let mut col = vec![0.0f32; ns];
            for (ch, m) in models.iter().enumerate() {
                for (t, v) in col.iter_mut().enumerate() {
                    *v = one[t * c + ch];
                }
                let p = m.transform(&col);
                for (k, v) in p.iter().enumerate() {
                    out[k * c + ch] = *v;
                }
            }
        });
    Ok((models, proj))
}

/// SpikeInterface's simplified silhouette of `unit` from `pcs` (`n × dim`) and labels.
pub fn simplified_silhouette(pcs: &[f64], dim: usize, labels: &[usize], unit: usize) -> f64 {
    let n_units = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut centroids = vec![vec![0.0f64; dim]; n_units];
    let mut counts = vec![0usize; n_units];
    for (row, &l) in pcs.chunks_exact(dim).zip(labels) {
        counts[l] += 1;
        centroids[l].iter_mut().zip(row).for_each(|(a, b)| *a += b);
    }
    for (cen, &n) in centroids.iter_mut().zip(&counts) {
        cen.iter_mut().for_each(|a| *a /= n.max(1) as f64);
    }
    if unit >= n_units || counts[unit] == 0 {
        return f64::NAN;
    }
    let mine: Vec<&[f64]> = pcs
        .chunks_exact(dim)
        .zip(labels)
        .filter(|(_, &l)| l == unit)
        .map(|(r, _)| r)
        .collect();
    let dist = |c: &[f64], r: &[f64]| {
        c.iter()
            .zip(r)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt()
    };
    let d_this: Vec<f64> = mine.iter().map(|r| dist(&centroids[unit], r)).collect();
    let mut best: Option<(f64, Vec<f64>)> = None;
    for l in 0..n_units {
        if l == unit || counts[l] == 0 {
            continue;
        }
        let d: Vec<f64> = mine.iter().map(|r| dist(&centroids[l], r)).collect();
        let m = d.iter().sum::<f64>() / d.len() as f64;
        if best.as_ref().is_none_or(|(bm, _)| m < *bm) {
            best = Some((m, d));
        }
    }
    let Some((_, d_min)) = best else {
        return f64::NAN;
    };
    d_min
        .iter()
        .zip(&d_this)
        .map(|(a, b)| (a - b) / a.max(*b))
        .sum::<f64>()
        / d_this.len() as f64
}

/// Every metric of every unit: waveforms (`wf_params`), templates, noise levels, then the
/// metrics. `trains` are spike samples per unit (sorted); `locations` channel positions
/// (µm). The recording is read once for waveforms, once for the noise chunks and once
/// more for amplitudes (when `amplitude_cutoff`).
pub fn compute_quality_metrics(
    src: &dyn ChunkSource,
    trains: &[Vec<i64>],
    locations: &[[f64; 2]],
    wf_params: &WaveformParams,
    params: &MetricParams,
) -> Result<QualityMetrics> {
    if locations.len() != src.num_channels() {
        return Err(SortError::invalid(
            "channel_locations",
            format!(
                "{} locations for {} channels",
                locations.len(),
                src.num_channels()
            ),
        ));
    }
    let wf = extract_waveforms(src, trains, wf_params)?;
    let tpl = templates(&wf);
    let starts = random_chunk_starts(
        src.num_samples(),
        params.noise_chunk_size.min(src.num_samples()),
        params.noise_num_chunks,
        params.noise_seed,
    )?;
    let noise = noise_levels(src, &starts, params.noise_chunk_size.min(src.num_samples()))?;
    let noise_starts = if params.pca_metrics {
        random_chunk_starts(
            src.num_samples(),
            wf.num_samples(),
            params.nn.max_spikes,
            params.nn.seed,
        )?
    } else {
        Vec::new()
    };
    let seed = params.nn.seed;
    compute_from_parts(
        src,
        trains,
        locations,
        &wf,
        tpl,
        noise,
        &noise_starts,
        params,
        &move |u, metric| {
            let stream = if metric == NN_ISOLATION {
                2 * u
            } else {
                2 * u + 1
            };
            Box::new(seeded_chooser(seed, stream))
        },
    )
}

/// A unit's PCA metrics: nn_isolation, its nearest unit, nn_noise_overlap, silhouette.
type PcaPart = (f64, Option<usize>, f64, f64);

/// Name of the nn_isolation metric (the second argument of a [`ChooserFactory`]).
pub const NN_ISOLATION: &str = "nn_isolation";
/// Name of the nn_noise_overlap metric.
pub const NN_NOISE_OVERLAP: &str = "nn_noise_overlap";

/// A boxed [`SubsetChooser`] factory: a fresh chooser for (unit, metric name), as
/// SpikeInterface seeds a fresh generator in each call. Called from several threads.
pub type ChooserFactory<'a> =
    &'a (dyn Fn(usize, &'static str) -> Box<dyn FnMut(usize, usize) -> Vec<usize> + Send> + Sync);

/// The metrics from extracted waveforms, templates and noise levels (what
/// [`compute_quality_metrics`] does after extraction); `chooser(u, metric)` gives the
/// random subsets of unit `u`'s nearest-neighbour metric and `noise_starts` the
/// noise snippets.
#[allow(clippy::too_many_arguments)]
pub fn compute_from_parts(
    src: &dyn ChunkSource,
    trains: &[Vec<i64>],
    locations: &[[f64; 2]],
    wf: &Waveforms,
    tpl: Templates,
    noise: Vec<f32>,
    noise_starts: &[usize],
    params: &MetricParams,
    chooser: ChooserFactory<'_>,
) -> Result<QualityMetrics> {
    let fs = src.sampling_frequency();
    let total = src.num_samples();
    let main = tpl.main_channels(params.peak_sign);
    let amps = tpl.main_channel_amplitudes(&main, params.peak_sign);
    let shifts = tpl.peak_shifts(&main, params.peak_sign);
    let num_spikes: Vec<usize> = trains.iter().map(Vec::len).collect();
    let rates: Vec<f64> = num_spikes
        .iter()
        .map(|&n| firing_rate(n, total, fs))
        .collect();
    let spike_amps = if params.amplitude_cutoff {
        Some(spike_amplitudes(src, trains, &main, &shifts, 0)?)
    } else {
        None
    };
    let sparse = radius_channels(&main, locations, params.nn.radius_um);
    let (pcs, labels) = if params.pca_metrics {
        let (_, proj) = principal_components(wf, params.pc_n_components, true)?;
        let labels: Vec<usize> = wf.spikes.iter().map(|s| s.unit).collect();
        (proj, labels)
    } else {
        (Vec::new(), Vec::new())
    };
    let scatters: Vec<UnitScatter> = if params.pca_metrics {
        (0..trains.len())
            .into_par_iter()
            .map(|u| UnitScatter::of_unit(wf, u, &sparse[u]))
            .collect()
    } else {
        Vec::new()
    };
    let pc_dim = params.pc_n_components * wf.num_channels;
    let pca_part: Vec<Result<PcaPart>> = (0..trains.len())
        .into_par_iter()
        .map(|u| {
            if !params.pca_metrics || trains[u].is_empty() {
                return Ok((f64::NAN, None, f64::NAN, f64::NAN));
            }
            let mut ch = chooser(u, NN_ISOLATION);
            let (iso, nu) = nn_isolation(
                wf,
                &num_spikes,
                &rates,
                &sparse,
                &scatters,
                u,
                &params.nn,
                &mut *ch,
            );
            let mut ch = chooser(u, NN_NOISE_OVERLAP);
            let noise_ov = nn_noise_overlap(
                src,
                wf,
                &tpl,
                &num_spikes,
                &rates,
                &sparse,
                u,
                &params.nn,
                noise_starts,
                &mut *ch,
            )?;
            Ok((
                iso,
                nu,
                noise_ov,
                simplified_silhouette(&pcs, pc_dim, &labels, u),
            ))
        })
        .collect();
    let mut units = Vec::with_capacity(trains.len());
    for ((u, train), pca) in trains.iter().enumerate().zip(pca_part) {
        let n = train.len();
        let (ratio, count) =
            isi_violations(train, fs, total, params.isi_threshold_ms, params.min_isi_ms);
        let snr = if n == 0 {
            f64::NAN
        } else {
            (amps[u].abs() / noise[main[u]]) as f64
        };
        let (nn_iso, nn_unit, nn_noise, sil) = pca?;
        units.push(UnitMetrics {
            num_spikes: n,
            firing_rate: rates[u],
            presence_ratio: presence_ratio(
                train,
                total,
                fs,
                params.presence_bin_duration_s,
                params.presence_mean_fr_ratio_thresh,
            ),
            snr,
            isi_violations_ratio: ratio,
            isi_violations_count: count,
            isi_violation: if n > 1 {
                count as f64 / (n - 1) as f64
            } else {
                f64::NAN
            },
            amplitude_cutoff: spike_amps.as_ref().map_or(f64::NAN, |a| {
                amplitude_cutoff(
                    &a[u],
                    params.amplitude_cutoff_bins,
                    params.amplitude_cutoff_smoothing,
                    params.amplitude_cutoff_min_ratio,
                )
            }),
            silhouette: sil,
            nn_isolation: nn_iso,
            nn_unit,
            nn_noise_overlap: nn_noise,
            peak_channel: main[u],
            peak_offset: shifts[u].abs(),
        });
    }
    Ok(QualityMetrics {
        units,
        noise_levels: noise,
        templates: tpl,
        main_channels: main,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::waveforms::extract_waveforms;

    #[test]
    fn isi_by_hand() {
        // 4 spikes at 1 kHz: ISIs 1 ms (violation), 10 ms, 1 ms (violation)
        let (ratio, count) = isi_violations(&[0, 1, 11, 12], 1000.0, 10_000, 1.5, 0.0);
        assert_eq!(count, 2);
        // violation rate 2 / (2·4·0.0015) over total rate 4 / 10 s
        assert!((ratio - (2.0 / (8.0 * 0.0015)) / 0.4).abs() < 1e-12);
    }

    #[test]
    fn isolation_of_separated_clouds_is_one() {
        let pts: Vec<f64> = (0..10)
            .map(|i| i as f64 * 0.01)
            .chain((0..10).map(|i| 100.0 + i as f64 * 0.01))
            .collect();
        assert_eq!(isolation_score(&pts, 1, 10, 3), 1.0);
    }

    /// Brute-force neighbour fractions, by the definition.
    fn isolation_by_definition(points: &[f64], k: usize, n_a: usize, nn: usize) -> f64 {
        let n = points.len() / k;
        let mut same = 0;
        for i in 0..n {
            let mut d: Vec<(f64, usize)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| {
                    let s = (0..k)
                        .map(|t| (points[i * k + t] - points[j * k + t]).powi(2))
                        .sum::<f64>();
                    (s, j)
                })
                .collect();
            d.sort_by(|a, b| a.0.total_cmp(&b.0));
            same += d[..nn]
                .iter()
                .filter(|(_, j)| (*j < n_a) == (i < n_a))
                .count();
        }
        same as f64 / n as f64 / nn as f64
    }

    #[test]
    fn pruned_isolation_equals_brute_force() {
        let mut rng = Rng::new(7, 8);
        for (k, shift) in [(7usize, 0.5f64), (3, 2.0), (1, 0.1)] {
            let n = 300;
            let pts: Vec<f64> = (0..n * k)
                .map(|i| rng.next_f64() + if i / k < 140 { 0.0 } else { shift })
                .collect();
            let ours = isolation_score(&pts, k, 140, 5);
            let def = isolation_by_definition(&pts, k, 140, 5);
            assert_eq!(ours, def, "k {k}");
        }
    }

    #[test]
    fn pair_covariance_from_unit_scatters_equals_direct_pca() {
        // 6 channels, two units with 40 and 25 waveforms
        let nc = 6;
        let mut rng = Rng::new(11, 12);
        let n = 20_000;
        let data: Vec<f32> = (0..n * nc)
            .map(|i| (rng.next_f64() - 0.5) as f32 * (1.0 + (i % nc) as f32))
            .collect();
        let rec = crate::InMemoryRecording::new(data, nc, 30_000.0).unwrap();
        let trains: Vec<Vec<i64>> = vec![
            (0..40).map(|i| 100 + i * 400).collect(),
            (0..25).map(|i| 300 + i * 700).collect(),
        ];
        let wp = WaveformParams {
            max_spikes_per_unit: None,
            ..Default::default()
        };
        let wf = extract_waveforms(&rec, &trains, &wp).unwrap();
        let chans = [vec![0, 1, 2, 4], vec![1, 2, 3, 4, 5]];
        let sc: Vec<UnitScatter> = (0..2)
            .map(|u| UnitScatter::of_unit(&wf, u, &chans[u]))
            .collect();
        let common = [1usize, 2, 4];
        let d = wf.num_samples() * common.len();
        // every waveform, most of them (left-out ones subtracted), a few (summed)
        for (ia, ib) in [
            ((0..40).collect::<Vec<_>>(), (0..25).collect::<Vec<_>>()),
            ((0..40).filter(|i| i % 7 != 0).collect(), (3..25).collect()),
            ((0..40).filter(|i| i % 3 == 0).collect(), (0..5).collect()),
        ] {
            let pieces = [
                restricted_piece(&wf, 0, &sc[0], &ia, &common),
                restricted_piece(&wf, 1, &sc[1], &ib, &common),
            ];
            let (mean, cov) = union_covariance(&pieces, d);
            let mut all = gather_unit(&wf, 0, &ia, &common);
            all.extend(gather_unit(&wf, 1, &ib, &common));
            let rows = all.len() / d;
            // textbook mean and covariance of the gathered rows
            let m: Vec<f64> = (0..d)
                .map(|j| (0..rows).map(|r| all[r * d + j] as f64).sum::<f64>() / rows as f64)
                .collect();
            let scale = cov.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            for i in 0..d {
                assert!((mean[i] - m[i]).abs() < 1e-12 * (1.0 + m[i].abs()));
                for j in 0..d {
                    let c: f64 = (0..rows)
                        .map(|r| (all[r * d + i] as f64 - m[i]) * (all[r * d + j] as f64 - m[j]))
                        .sum::<f64>()
                        / (rows - 1) as f64;
                    assert!((cov[i * d + j] - c).abs() < 1e-10 * scale, "{i} {j}");
                }
            }
        }
    }

    #[test]
    fn presence_ratio_by_hand() {
        // 3 bins of 10 samples (fs 1 Hz, 10 s bins); spikes in bins 0 and 2
        assert_eq!(presence_ratio(&[1, 25], 35, 1.0, 10.0, 0.0), 2.0 / 3.0);
    }
}
