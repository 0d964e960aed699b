//! `spyglass_sorter`: a native spike sorter of the MountainSort5 class.
//!
//! 1. **Whitening**: the channel covariance of random chunks gives a ZCA whitening
//!    matrix (regularised); whitened noise levels are robust (MAD) estimates.
//! 2. **Detection**: the locally exclusive detector ([`crate::detect`]) on the
//!    whitened traces.
//! 3. **Features**: snippets on the channels within `clustering_radius_um` of each
//!    peak's channel, projected on a temporal PCA basis per channel, then a PCA per
//!    peak channel.
//! 4. **Clustering** per peak channel with an isosplit-style method (no cluster
//!    count); clusters become templates (mean whitened snippets); templates of
//!    neighbouring channels that match after a small shift are one unit.
//! 5. **Matching**: a streaming greedy template-matching pass over the whole
//!    recording (largest peaks first, subtract the best template while it lowers the
//!    residual energy enough, re-detect on the residual).
//!
//! Chunks are processed in parallel (rayon); every random choice comes from the
//! seed, and results are assembled in chunk order, so the output does not depend
//! on the thread count.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cluster::isosplit;
use crate::detect::{exclude_sweep_size, neighbours_mask, LocallyExclusive, PeakSign};
use crate::error::{Result, SortError};
use crate::linalg::{covariance, sym_eigen};
use crate::rng::Rng;
use crate::source::{check_locations, read_padded, ChunkSource};

/// The sorter's name, as SpikeSorterParameters rows name it.
pub const SORTER_NAME: &str = "spyglass_sorter";

/// Parameters of `spyglass_sorter` (the defaults are its stored default row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SorterParams {
    /// Detection threshold, in whitened noise levels.
    pub detect_threshold: f64,
    /// Sign of the detected peaks.
    pub detect_sign: PeakSign,
    /// Half-width of the detector's exclusion window, ms.
    pub detect_time_radius_ms: f64,
    /// Radius of the detector's exclusion neighbourhood, µm.
    pub detect_channel_radius_um: f64,
    /// Radius of the channels a snippet and a template cover, µm.
    pub clustering_radius_um: f64,
    /// Snippet length before the peak, ms.
    pub snippet_ms_before: f64,
    /// Snippet length after the peak, ms.
    pub snippet_ms_after: f64,
    /// Temporal principal components kept per channel.
    pub npca_per_channel: usize,
    /// Principal components kept per peak channel for clustering.
    pub npca_per_group: usize,
    /// At most this many training snippets per peak channel.
    pub max_spikes_per_channel_training: usize,
    /// Initial k-means clusters of each peak channel before merging.
    pub kmeans_init_clusters: usize,
    /// Dip score above which two clusters stay apart.
    pub isocut_threshold: f64,
    /// Clusters smaller than this are dropped.
    pub min_cluster_size: usize,
    /// Templates whose relative squared difference is below this are one unit.
    pub merge_threshold: f64,
    /// Largest shift (samples) tried when comparing templates.
    pub merge_max_shift: usize,
    /// Largest shift (samples) tried when matching a template to a peak.
    pub match_max_shift: usize,
    /// A template is subtracted when it lowers the residual energy by at least this
    /// fraction of its own energy.
    pub match_min_gain: f64,
    /// Detection / subtraction rounds of the matching pass.
    pub matching_iterations: usize,
    /// Spikes of a unit closer than this are one spike, ms.
    pub dedup_ms: f64,
    /// Whiten (ZCA) the channels; otherwise each channel is only scaled.
    pub whiten: bool,
    /// Regularisation of the whitening, as a fraction of the mean eigenvalue.
    pub whitening_eps: f64,
    /// Random chunks used for the covariance and noise levels.
    pub noise_chunks: usize,
    /// Length of those chunks, samples.
    pub noise_chunk_samples: usize,
    /// Length of the processing chunks, s.
    pub chunk_duration_s: f64,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for SorterParams {
    fn default() -> Self {
        Self {
            detect_threshold: 5.5,
            detect_sign: PeakSign::Neg,
            detect_time_radius_ms: 0.5,
            detect_channel_radius_um: 50.0,
            clustering_radius_um: 50.0,
            snippet_ms_before: 0.6,
            snippet_ms_after: 1.0,
            npca_per_channel: 3,
            npca_per_group: 10,
            max_spikes_per_channel_training: 4000,
            kmeans_init_clusters: 20,
            isocut_threshold: 1.0,
            min_cluster_size: 20,
            merge_threshold: 0.2,
            merge_max_shift: 4,
            match_max_shift: 2,
            match_min_gain: 0.25,
            matching_iterations: 3,
            dedup_ms: 0.4,
            whiten: true,
            whitening_eps: 1e-3,
            noise_chunks: 20,
            noise_chunk_samples: 10_000,
            chunk_duration_s: 2.0,
            seed: 0,
        }
    }
}

/// One sorted unit.
#[derive(Debug, Clone, PartialEq)]
pub struct SortedUnit {
    /// Unit id (0-based, in order of the templates' peak channels).
    pub id: usize,
    /// Spike sample indices, increasing.
    pub spike_samples: Vec<usize>,
    /// Channel of the unit's largest template amplitude.
    pub peak_channel: usize,
}

/// The sorter's output.
#[derive(Debug, Clone, PartialEq)]
pub struct Sorting {
    /// Units with at least one spike.
    pub units: Vec<SortedUnit>,
}

struct Template {
    unit: usize,
    group_channel: usize,
    channels: Vec<usize>,
    /// `channels.len() × t_len`, channel-major
    data: Vec<f32>,
    norm2: f64,
    /// index of the extremum on the template's own peak channel
    peak_offset: usize,
    peak_channel: usize,
}

struct Plan<'a> {
    src: &'a dyn ChunkSource,
    c: usize,
    n: usize,
    /// whitening matrix, `c × c` row-major
    w: Vec<f32>,
    det: LocallyExclusive,
    t1: usize,
    t_len: usize,
    chunk: usize,
    neigh: Vec<Vec<usize>>,
}

impl Plan<'_> {
    /// Whitened samples `start..end` (zeros outside the recording).
    fn whitened(&self, start: i64, end: i64) -> Result<Vec<f32>> {
        let raw = read_padded(self.src, start, end)?;
        Ok(apply(&self.w, self.c, &raw))
    }

    fn chunk_starts(&self) -> Vec<usize> {
        (0..self.n).step_by(self.chunk).collect()
    }
}

fn apply(w: &[f32], c: usize, raw: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0f32; raw.len()];
    for (o, x) in out.chunks_exact_mut(c).zip(raw.chunks_exact(c)) {
        for (j, oj) in o.iter_mut().enumerate() {
            let row = &w[j * c..(j + 1) * c];
            *oj = row.iter().zip(x).map(|(a, b)| a * b).sum();
        }
    }
    out
}

fn positive(what: &'static str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(SortError::invalid(
            what,
            format!("{v} is not a positive finite number"),
        ))
    }
}

fn validate(p: &SorterParams) -> Result<()> {
    positive("detect_threshold", p.detect_threshold)?;
    positive("detect_time_radius_ms", p.detect_time_radius_ms)?;
    positive("snippet_ms_before", p.snippet_ms_before)?;
    positive("snippet_ms_after", p.snippet_ms_after)?;
    positive("isocut_threshold", p.isocut_threshold)?;
    positive("merge_threshold", p.merge_threshold)?;
    positive("chunk_duration_s", p.chunk_duration_s)?;
    for (what, v) in [
        ("detect_channel_radius_um", p.detect_channel_radius_um),
        ("clustering_radius_um", p.clustering_radius_um),
        ("match_min_gain", p.match_min_gain),
        ("dedup_ms", p.dedup_ms),
        ("whitening_eps", p.whitening_eps),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(SortError::invalid(
                what,
                format!("{v} is not a non-negative finite number"),
            ));
        }
    }
    for (what, v) in [
        ("npca_per_channel", p.npca_per_channel),
        ("npca_per_group", p.npca_per_group),
        (
            "max_spikes_per_channel_training",
            p.max_spikes_per_channel_training,
        ),
        ("kmeans_init_clusters", p.kmeans_init_clusters),
        ("min_cluster_size", p.min_cluster_size),
        ("noise_chunks", p.noise_chunks),
        ("noise_chunk_samples", p.noise_chunk_samples),
        ("matching_iterations", p.matching_iterations),
    ] {
        if v == 0 {
            return Err(SortError::invalid(what, "must be at least 1"));
        }
    }
    Ok(())
}

fn mad_sigma(v: &mut [f32]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mid = v.len() / 2;
    v.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
    let med = v[mid];
    for x in v.iter_mut() {
        *x = (*x - med).abs();
    }
    v.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
    v[mid] as f64 / 0.674_489_750_196_081_7
}

/// Sorts `src` (channel `locations` in µm) with `params`.
pub fn run_sorter(
    src: &dyn ChunkSource,
    locations: &[[f64; 2]],
    params: &SorterParams,
) -> Result<Sorting> {
    check_locations(src, locations)?;
    validate(params)?;
    let c = src.num_channels();
    let n = src.num_samples();
    let fs = src.sampling_frequency();
    let t1 = (params.snippet_ms_before * fs / 1000.0).round().max(1.0) as usize;
    let t2 = (params.snippet_ms_after * fs / 1000.0).round().max(1.0) as usize;
    let t_len = t1 + t2;
    let sweep = exclude_sweep_size(params.detect_time_radius_ms, fs);
    let chunk = ((params.chunk_duration_s * fs) as usize).max(4 * t_len);
    if n < 4 * t_len {
        return Err(SortError::invalid(
            "recording",
            format!(
                "{n} samples is too short to sort (at least {} needed)",
                4 * t_len
            ),
        ));
    }

    // 1. whitening from random chunks
    let mut rng = Rng::new(params.seed, 1);
    let nlen = params.noise_chunk_samples.min(n);
    let mut noise_raw: Vec<f32> = Vec::new();
    for _ in 0..params.noise_chunks {
        let s = rng.below(n - nlen + 1);
        noise_raw.extend(read_padded(src, s as i64, (s + nlen) as i64)?);
    }
    let w = whitening(&noise_raw, c, params)?;
    let white_noise = apply(&w, c, &noise_raw);
    let noise_levels: Vec<f64> = (0..c)
        .map(|ch| {
            let mut v: Vec<f32> = white_noise.iter().skip(ch).step_by(c).copied().collect();
            mad_sigma(&mut v)
        })
        .collect();
    if let Some(ch) = noise_levels
        .iter()
        .position(|v| !(v.is_finite() && *v > 0.0))
    {
        return Err(SortError::invalid(
            "recording",
            format!("channel {ch} has no noise (flat signal); remove it before sorting"),
        ));
    }
    let det = LocallyExclusive::new(
        params.detect_sign,
        params.detect_threshold,
        &noise_levels,
        sweep,
        locations,
        params.detect_channel_radius_um,
    )?;
    let mask = neighbours_mask(locations, params.clustering_radius_um);
    let neigh: Vec<Vec<usize>> = (0..c)
        .map(|i| (0..c).filter(|&j| mask[i * c + j]).collect())
        .collect();
    let plan = Plan {
        src,
        c,
        n,
        w,
        det,
        t1,
        t_len,
        chunk,
        neigh,
    };

    // 2. detection and training snippets
    let training = collect_training(&plan, params)?;
    // 3-4. features, clustering, templates
    let templates = build_templates(&plan, params, training, locations);
    if templates.is_empty() {
        return Ok(Sorting { units: Vec::new() });
    }
    // 5. matching
    let n_units = templates.iter().map(|t| t.unit + 1).max().unwrap_or(0);
    let spikes = match_all(&plan, params, &templates)?;
    let dedup = (params.dedup_ms * fs / 1000.0) as usize;
    let mut per_unit: Vec<Vec<usize>> = vec![Vec::new(); n_units];
    for (u, s) in spikes {
        per_unit[u].push(s);
    }
    let mut units = Vec::new();
    for (u, mut times) in per_unit.into_iter().enumerate() {
        times.sort_unstable();
        let mut kept: Vec<usize> = Vec::with_capacity(times.len());
        for t in times {
            if kept.last().is_none_or(|&l| t > l + dedup) {
                kept.push(t);
            }
        }
        if kept.is_empty() {
            continue;
        }
        let peak_channel = templates
            .iter()
            .find(|t| t.unit == u)
            .map_or(0, |t| t.peak_channel);
        units.push(SortedUnit {
            id: units.len(),
            spike_samples: kept,
            peak_channel,
        });
    }
    Ok(Sorting { units })
}

fn whitening(noise: &[f32], c: usize, params: &SorterParams) -> Result<Vec<f32>> {
    let n = noise.len() / c;
    let mut cov = vec![0.0f64; c * c];
    for x in noise.chunks_exact(c) {
        for i in 0..c {
            for j in i..c {
                cov[i * c + j] += x[i] as f64 * x[j] as f64;
            }
        }
    }
    for i in 0..c {
        for j in i..c {
            let v = cov[i * c + j] / n.max(1) as f64;
            cov[i * c + j] = v;
            cov[j * c + i] = v;
        }
    }
    if let Some(ch) = (0..c).find(|&i| cov[i * c + i].is_nan() || cov[i * c + i] <= 0.0) {
        return Err(SortError::invalid(
            "recording",
            format!("channel {ch} is flat; remove it before sorting"),
        ));
    }
    let mut w = vec![0.0f32; c * c];
    if !params.whiten {
        for i in 0..c {
            w[i * c + i] = (1.0 / cov[i * c + i].sqrt()) as f32;
        }
        return Ok(w);
    }
    let (vals, vecs) = sym_eigen(&cov, c);
    let mean = vals.iter().sum::<f64>() / c as f64;
    let eps = params.whitening_eps * mean;
    for i in 0..c {
        for j in 0..c {
            let mut s = 0.0;
            for k in 0..c {
                s += vecs[k * c + i] * vecs[k * c + j] / (vals[k].max(0.0) + eps).sqrt();
            }
            w[i * c + j] = s as f32;
        }
    }
    Ok(w)
}

struct TrainingPeak {
    channel: usize,
    /// `neigh[channel].len() × t_len`, channel-major
    snippet: Vec<f32>,
}

fn collect_training(plan: &Plan, params: &SorterParams) -> Result<Vec<TrainingPeak>> {
    let starts = plan.chunk_starts();
    let cap = params
        .max_spikes_per_channel_training
        .div_ceil(starts.len())
        .max(1);
    let margin = plan.det.sweep + 1 + plan.t_len;
    let c = plan.c;
    let per_chunk: Vec<Vec<TrainingPeak>> = starts
        .par_iter()
        .enumerate()
        .map(|(ci, &s)| {
            let e = (s + plan.chunk).min(plan.n);
            let lo = s as i64 - margin as i64;
            let w = plan.whitened(lo, (e + margin) as i64)?;
            let peaks: Vec<(usize, usize)> = plan
                .det
                .detect_block(&w)
                .into_iter()
                .filter(|&(r, _)| r >= margin && r < margin + (e - s))
                .collect();
            let mut rng = Rng::new(params.seed, 1000 + ci as u64);
            let mut out = Vec::new();
            for ch in 0..c {
                let rows: Vec<usize> = peaks.iter().filter(|p| p.1 == ch).map(|p| p.0).collect();
                for k in rng.subset(rows.len(), cap) {
                    let r = rows[k];
                    let mut snippet = Vec::with_capacity(plan.neigh[ch].len() * plan.t_len);
                    for &nc in &plan.neigh[ch] {
                        for t in 0..plan.t_len {
                            snippet.push(w[(r - plan.t1 + t) * c + nc]);
                        }
                    }
                    out.push(TrainingPeak {
                        channel: ch,
                        snippet,
                    });
                }
            }
            Ok(out)
        })
        .collect::<Result<_>>()?;
    Ok(per_chunk.into_iter().flatten().collect())
}

fn temporal_basis(plan: &Plan, params: &SorterParams, peaks: &[TrainingPeak]) -> Vec<f64> {
    let t = plan.t_len;
    let mut rng = Rng::new(params.seed, 2);
    let pick = rng.subset(peaks.len(), 3000);
    let mut rows: Vec<f32> = Vec::new();
    for i in pick {
        rows.extend_from_slice(&peaks[i].snippet);
    }
    let (cov, _) = covariance(&rows, t);
    let (_, vecs) = sym_eigen(&cov, t);
    vecs[..params.npca_per_channel.min(t) * t].to_vec()
}

fn build_templates(
    plan: &Plan,
    params: &SorterParams,
    peaks: Vec<TrainingPeak>,
    locations: &[[f64; 2]],
) -> Vec<Template> {
    if peaks.is_empty() {
        return Vec::new();
    }
    let t = plan.t_len;
    let basis = temporal_basis(plan, params, &peaks);
    let npc = basis.len() / t;
    let mut by_channel: Vec<Vec<&TrainingPeak>> = vec![Vec::new(); plan.c];
    for p in &peaks {
        by_channel[p.channel].push(p);
    }
    let mut templates: Vec<Template> = by_channel
        .par_iter()
        .enumerate()
        .map(|(ch, group)| cluster_group(plan, params, ch, group, &basis, npc))
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect();
    merge_templates(&mut templates, params, locations);
    templates
}

fn cluster_group(
    plan: &Plan,
    params: &SorterParams,
    ch: usize,
    group: &[&TrainingPeak],
    basis: &[f64],
    npc: usize,
) -> Vec<Template> {
    let t = plan.t_len;
    let nn = plan.neigh[ch].len();
    if group.len() < params.min_cluster_size {
        return Vec::new();
    }
    // per-channel temporal PCA features
    let d = nn * npc;
    let mut feats = vec![0.0f32; group.len() * d];
    for (i, p) in group.iter().enumerate() {
        for k in 0..nn {
            let wave = &p.snippet[k * t..(k + 1) * t];
            for q in 0..npc {
                let b = &basis[q * t..(q + 1) * t];
                feats[i * d + k * npc + q] =
                    wave.iter().zip(b).map(|(x, y)| *x as f64 * y).sum::<f64>() as f32;
            }
        }
    }
    let (cov, mean) = covariance(&feats, d);
    let (_, vecs) = sym_eigen(&cov, d);
    let p = params.npca_per_group.min(d);
    let mut x = vec![0.0f64; group.len() * p];
    for i in 0..group.len() {
        let f = &feats[i * d..(i + 1) * d];
        for q in 0..p {
            let v = &vecs[q * d..(q + 1) * d];
            x[i * p + q] = f
                .iter()
                .zip(v)
                .zip(&mean)
                .map(|((a, b), m)| (*a as f64 - m) * b)
                .sum();
        }
    }
    let mut rng = Rng::new(params.seed, 3000 + ch as u64);
    let k_init = params
        .kmeans_init_clusters
        .min(group.len() / params.min_cluster_size)
        .max(1);
    let labels = isosplit(&x, p, k_init, params.isocut_threshold, &mut rng);
    let k = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut out = Vec::new();
    for l in 0..k {
        let members: Vec<usize> = (0..group.len()).filter(|&i| labels[i] == l).collect();
        if members.len() < params.min_cluster_size {
            continue;
        }
        let mut data = vec![0.0f64; nn * t];
        for &i in &members {
            for (a, b) in data.iter_mut().zip(&group[i].snippet) {
                *a += *b as f64;
            }
        }
        let data: Vec<f32> = data
            .iter()
            .map(|v| (*v / members.len() as f64) as f32)
            .collect();
        let (pk, off) = template_peak(&data, nn, t, params.detect_sign);
        // a cluster whose template stays below half the detection threshold is noise
        let amp = data[pk * t + off].abs() as f64;
        if amp
            < 0.5 * params.detect_threshold * plan.det.abs_thresholds[plan.neigh[ch][pk]]
                / params.detect_threshold
        {
            continue;
        }
        out.push(Template {
            unit: 0,
            group_channel: ch,
            channels: plan.neigh[ch].clone(),
            norm2: data.iter().map(|v| (*v as f64) * (*v as f64)).sum(),
            peak_offset: off,
            peak_channel: plan.neigh[ch][pk],
            data,
        });
    }
    out
}

/// (row of the largest excursion of the sign, its time index).
fn template_peak(data: &[f32], nn: usize, t: usize, sign: PeakSign) -> (usize, usize) {
    let mut best = (0usize, 0usize, f32::NEG_INFINITY);
    for k in 0..nn {
        for i in 0..t {
            let v = data[k * t + i];
            let s = match sign {
                PeakSign::Neg => -v,
                PeakSign::Pos => v,
                PeakSign::Both => v.abs(),
            };
            if s > best.2 {
                best = (k, i, s);
            }
        }
    }
    (best.0, best.1)
}

fn merge_templates(templates: &mut [Template], params: &SorterParams, locations: &[[f64; 2]]) {
    let m = templates.len();
    let mut parent: Vec<usize> = (0..m).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    let dist = |a: usize, b: usize| {
        let (p, q) = (locations[a], locations[b]);
        ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt()
    };
    let pairs: Vec<(usize, usize)> = (0..m)
        .flat_map(|i| (i + 1..m).map(move |j| (i, j)))
        .filter(|&(i, j)| {
            dist(templates[i].group_channel, templates[j].group_channel)
                <= params.clustering_radius_um
        })
        .collect();
    let t = templates
        .first()
        .map_or(0, |x| x.data.len() / x.channels.len().max(1));
    let same: Vec<bool> = pairs
        .par_iter()
        .map(|&(i, j)| {
            template_distance(&templates[i], &templates[j], t, params.merge_max_shift)
                < params.merge_threshold
        })
        .collect();
    for (&(i, j), s) in pairs.iter().zip(same) {
        if s {
            let (a, b) = (find(&mut parent, i), find(&mut parent, j));
            if a != b {
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut ids = std::collections::BTreeMap::new();
    for (i, tm) in templates.iter_mut().enumerate() {
        let r = find(&mut parent, i);
        let next = ids.len();
        tm.unit = *ids.entry(r).or_insert(next);
    }
}

/// Smallest relative squared difference of two templates over their common
/// channels and shifts up to `max_shift`.
fn template_distance(a: &Template, b: &Template, t: usize, max_shift: usize) -> f64 {
    let common: Vec<(usize, usize)> = a
        .channels
        .iter()
        .enumerate()
        .filter_map(|(ka, ch)| b.channels.iter().position(|x| x == ch).map(|kb| (ka, kb)))
        .collect();
    let energy = |tm: &Template, rows: &mut dyn Iterator<Item = usize>| -> f64 {
        rows.map(|k| {
            tm.data[k * t..(k + 1) * t]
                .iter()
                .map(|v| (*v as f64).powi(2))
                .sum::<f64>()
        })
        .sum()
    };
    let ea = energy(a, &mut common.iter().map(|p| p.0));
    let eb = energy(b, &mut common.iter().map(|p| p.1));
    let norm = ea.max(eb);
    if norm <= 0.0 {
        return f64::INFINITY;
    }
    let mut best = f64::INFINITY;
    let ms = max_shift as i64;
    for s in -ms..=ms {
        let mut diff = 0.0;
        for &(ka, kb) in &common {
            for i in 0..t as i64 {
                let j = i + s;
                let va = a.data[ka * t + i as usize] as f64;
                let vb = if j >= 0 && j < t as i64 {
                    b.data[kb * t + j as usize] as f64
                } else {
                    0.0
                };
                diff += (va - vb) * (va - vb);
            }
        }
        best = best.min(diff / norm);
    }
    best
}

fn match_all(
    plan: &Plan,
    params: &SorterParams,
    templates: &[Template],
) -> Result<Vec<(usize, usize)>> {
    let c = plan.c;
    let t = plan.t_len;
    let ms = params.match_max_shift as i64;
    let margin = 2 * t + 2 * params.match_max_shift + plan.det.sweep + 2;
    // templates that cover each channel
    let cand: Vec<Vec<usize>> = (0..c)
        .map(|ch| {
            (0..templates.len())
                .filter(|&k| templates[k].channels.contains(&ch))
                .collect()
        })
        .collect();
    let starts = plan.chunk_starts();
    let per_chunk: Vec<Vec<(usize, usize)>> = starts
        .par_iter()
        .map(|&s| {
            let e = (s + plan.chunk).min(plan.n);
            let lo = s as i64 - margin as i64;
            let mut r = plan.whitened(lo, (e + margin) as i64)?;
            let rows = (r.len() / c) as i64;
            let mut failed: std::collections::HashSet<(usize, usize)> = Default::default();
            let mut out = Vec::new();
            for _ in 0..params.matching_iterations {
                let mut peaks: Vec<(f64, usize, usize)> = plan
                    .det
                    .detect_block(&r)
                    .into_iter()
                    .filter(|p| !failed.contains(p))
                    .map(|(row, ch)| {
                        (
                            (r[row * c + ch] as f64).abs() / plan.det.abs_thresholds[ch],
                            row,
                            ch,
                        )
                    })
                    .collect();
                peaks.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
                let mut any = false;
                for &(_, row, ch) in &peaks {
                    let mut best: Option<(f64, usize, i64)> = None;
                    for &k in &cand[ch] {
                        let tm = &templates[k];
                        for sh in -ms..=ms {
                            let t0 = row as i64 - plan.t1 as i64 + sh;
                            if t0 < 0 || t0 + t as i64 > rows {
                                continue;
                            }
                            let mut dot = 0.0f32;
                            for (kk, &cc) in tm.channels.iter().enumerate() {
                                let tw = &tm.data[kk * t..(kk + 1) * t];
                                let mut acc = 0.0f32;
                                for (i, v) in tw.iter().enumerate() {
                                    acc += r[(t0 as usize + i) * c + cc] * v;
                                }
                                dot += acc;
                            }
                            let gain = 2.0 * dot as f64 - tm.norm2;
                            if best.is_none_or(|b| gain > b.0) {
                                best = Some((gain, k, t0));
                            }
                        }
                    }
                    match best {
                        Some((gain, k, t0))
                            if gain >= params.match_min_gain * templates[k].norm2 =>
                        {
                            let tm = &templates[k];
                            for (kk, &cc) in tm.channels.iter().enumerate() {
                                for i in 0..t {
                                    r[(t0 as usize + i) * c + cc] -= tm.data[kk * t + i];
                                }
                            }
                            let at = lo + t0 + tm.peak_offset as i64;
                            if at >= s as i64 && at < e as i64 {
                                out.push((tm.unit, at as usize));
                            }
                            any = true;
                        }
                        _ => {
                            failed.insert((row, ch));
                        }
                    }
                }
                if !any {
                    break;
                }
            }
            Ok(out)
        })
        .collect::<Result<_>>()?;
    Ok(per_chunk.into_iter().flatten().collect())
}
