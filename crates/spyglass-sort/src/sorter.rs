//! `spyglass_sorter`: a native spike sorter of the MountainSort5 class.
//!
//! 1. **Whitening**: the channel covariance of random chunks, leaving out the samples
//!    near spikes (large units would otherwise dominate it), gives a regularised
//!    ZCA whitening matrix; whitened noise levels are robust (MAD) estimates.
//! 2. **Detection**: the locally exclusive detector ([`crate::detect`]) on the
//!    whitened traces; a capped, seeded subset of peaks per channel and chunk is
//!    kept for training, with snippets on the channels within `clustering_radius_um`.
//! 3. **Features**: each channel's snippet projected on a temporal PCA basis, then a
//!    PCA per peak channel.
//! 4. **Clustering** per peak channel with an isosplit-style method (no cluster
//!    count). Each cluster's template is the mean whitened snippet of its members on
//!    every channel, read back from the source; templates too small to be detected
//!    are dropped, and templates that match after a small shift (complete linkage)
//!    are one unit.
//! 5. **Matching**: a streaming greedy template-matching pass over the whole
//!    recording: largest peaks first, the best template and shift (aligned on the
//!    template's extremum on the peak's channel) is subtracted when it lowers the
//!    residual energy by enough, then peaks are detected again on the residual.
//!
//! Chunks are processed in parallel (rayon); every random choice comes from the
//! seed, and results are assembled in chunk order, so the output does not depend
//! on the thread count. Memory is bounded by the chunk length, the training cap and
//! the templates, not by the recording's length.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cluster::isosplit;
use crate::detect::{exclude_sweep_size, neighbours_mask, LocallyExclusive, PeakSign};
use crate::error::{Result, SortError};
use crate::linalg::{covariance, sym_eigen};
use crate::rng::Rng;
use crate::source::{check_locations, map_in_order, read_padded, ChunkSource};

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
    /// Seconds of the recording (evenly spaced chunks) the clustering trains on.
    pub training_duration_s: f64,
    /// At most this many training snippets per peak channel.
    pub max_spikes_per_channel_training: usize,
    /// Initial k-means clusters of each peak channel before merging.
    pub kmeans_init_clusters: usize,
    /// Dip score above which two clusters stay apart.
    pub isocut_threshold: f64,
    /// Clusters smaller than this are dropped.
    pub min_cluster_size: usize,
    /// At most this many spikes of a cluster are averaged into its template.
    pub max_spikes_per_template: usize,
    /// A template covers the channels where it reaches this many noise levels.
    pub template_support_sigma: f64,
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
            training_duration_s: 120.0,
            max_spikes_per_channel_training: 2000,
            kmeans_init_clusters: 20,
            isocut_threshold: 1.0,
            min_cluster_size: 20,
            max_spikes_per_template: 300,
            template_support_sigma: 1.0,
            merge_threshold: 0.1,
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
    /// support channels
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
    /// whitened noise level of each channel
    noise_levels: Vec<f64>,
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
    positive("training_duration_s", p.training_duration_s)?;
    for (what, v) in [
        ("detect_channel_radius_um", p.detect_channel_radius_um),
        ("clustering_radius_um", p.clustering_radius_um),
        ("match_min_gain", p.match_min_gain),
        ("dedup_ms", p.dedup_ms),
        ("whitening_eps", p.whitening_eps),
        ("template_support_sigma", p.template_support_sigma),
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
        ("max_spikes_per_template", p.max_spikes_per_template),
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
    let quiet = quiet_samples(&noise_raw, c, t_len);
    let w = whitening(&quiet, c, params)?;
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
        noise_levels,
    };

    // 2. detection and training snippets
    let training = collect_training(&plan, params)?;
    // 3-4. features, clustering, templates
    let templates = build_templates(&plan, params, training)?;
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

/// The samples of `raw` (rows × `c`) away from spikes: rows within `half` of a
/// sample beyond 5 robust σ on any channel are left out, so the covariance is the
/// noise's (spikes of large units would otherwise dominate it). All rows when too
/// few remain.
fn quiet_samples(raw: &[f32], c: usize, half: usize) -> Vec<f32> {
    let rows = raw.len() / c;
    let sigma: Vec<f32> = (0..c)
        .map(|ch| {
            let mut v: Vec<f32> = raw.iter().skip(ch).step_by(c).copied().collect();
            mad_sigma(&mut v) as f32
        })
        .collect();
    let mut loud = vec![false; rows];
    for (r, x) in raw.chunks_exact(c).enumerate() {
        if x.iter().zip(&sigma).any(|(v, s)| v.abs() > 5.0 * s) {
            for l in &mut loud[r.saturating_sub(half)..(r + half + 1).min(rows)] {
                *l = true;
            }
        }
    }
    let quiet: Vec<f32> = raw
        .chunks_exact(c)
        .zip(&loud)
        .filter(|(_, l)| !**l)
        .flat_map(|(x, _)| x.iter().copied())
        .collect();
    if quiet.len() / c < 20 * c {
        raw.to_vec()
    } else {
        quiet
    }
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
    sample: usize,
    /// `neigh[channel].len() × t_len`, channel-major
    snippet: Vec<f32>,
}

fn collect_training(plan: &Plan, params: &SorterParams) -> Result<Vec<TrainingPeak>> {
    // training chunks: all of them up to `training_duration_s`, else evenly spaced
    let all = plan.chunk_starts();
    let want = ((params.training_duration_s * plan.src.sampling_frequency()) as usize)
        .div_ceil(plan.chunk)
        .max(1);
    let starts: Vec<usize> = if want >= all.len() {
        all
    } else {
        (0..want).map(|i| all[i * all.len() / want]).collect()
    };
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
                        sample: (lo + r as i64) as usize,
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
) -> Result<Vec<Template>> {
    if peaks.is_empty() {
        return Ok(Vec::new());
    }
    let t = plan.t_len;
    let basis = temporal_basis(plan, params, &peaks);
    let npc = basis.len() / t;
    let mut by_channel: Vec<Vec<&TrainingPeak>> = vec![Vec::new(); plan.c];
    for p in &peaks {
        by_channel[p.channel].push(p);
    }
    let clusters: Vec<Vec<usize>> = by_channel
        .par_iter()
        .enumerate()
        .map(|(ch, group)| cluster_group(params, ch, group, &basis, npc, plan.neigh[ch].len(), t))
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect();
    let full = full_templates(plan, params, &clusters)?;
    let mut templates: Vec<Template> = Vec::new();
    let mut kept_full: Vec<Vec<f32>> = Vec::new();
    for data in full {
        let (pk, off) = template_peak(&data, plan.c, t, params.detect_sign);
        // a cluster whose template stays below half the detection threshold is noise
        if (data[pk * t + off].abs() as f64) < 0.5 * plan.det.abs_thresholds[pk] {
            continue;
        }
        // support: channels where the template exceeds its channel's noise level
        let channels: Vec<usize> = (0..plan.c)
            .filter(|&ch| {
                ch == pk
                    || data[ch * t..(ch + 1) * t].iter().any(|v| {
                        (v.abs() as f64) >= params.template_support_sigma * plan.noise_levels[ch]
                    })
            })
            .collect();
        let sparse: Vec<f32> = channels
            .iter()
            .flat_map(|&ch| data[ch * t..(ch + 1) * t].iter().copied())
            .collect();
        templates.push(Template {
            unit: 0,
            norm2: sparse.iter().map(|v| (*v as f64) * (*v as f64)).sum(),
            peak_offset: off,
            peak_channel: pk,
            channels,
            data: sparse,
        });
        kept_full.push(data);
    }
    merge_templates(&mut templates, &kept_full, t, params);
    Ok(templates)
}

/// Clusters of one peak channel's training snippets: the sample indices of each.
fn cluster_group(
    params: &SorterParams,
    ch: usize,
    group: &[&TrainingPeak],
    basis: &[f64],
    npc: usize,
    nn: usize,
    t: usize,
) -> Vec<Vec<usize>> {
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
    (0..k)
        .map(|l| {
            (0..group.len())
                .filter(|&i| labels[i] == l)
                .map(|i| group[i].sample)
                .collect::<Vec<_>>()
        })
        .filter(|m| m.len() >= params.min_cluster_size)
        .collect()
}

/// Mean whitened snippets on every channel (`c × t_len`, channel-major) of up to
/// `max_spikes_per_template` members of each cluster, read back from the source.
fn full_templates(
    plan: &Plan,
    params: &SorterParams,
    clusters: &[Vec<usize>],
) -> Result<Vec<Vec<f32>>> {
    let (c, t) = (plan.c, plan.t_len);
    let mut picks: Vec<(usize, usize)> = Vec::new();
    for (k, members) in clusters.iter().enumerate() {
        let mut rng = Rng::new(params.seed, 5000 + k as u64);
        for i in rng.subset(members.len(), params.max_spikes_per_template) {
            picks.push((members[i], k));
        }
    }
    picks.sort_unstable();
    let mut by_chunk: Vec<Vec<(usize, usize)>> = vec![Vec::new(); plan.n.div_ceil(plan.chunk)];
    for p in picks {
        by_chunk[p.0 / plan.chunk].push(p);
    }
    let partial: Vec<Vec<(usize, Vec<f64>)>> = by_chunk
        .par_iter()
        .filter(|v| !v.is_empty())
        .map(|v| {
            let lo = v[0].0 as i64 - plan.t1 as i64;
            let hi = v[v.len() - 1].0 as i64 - plan.t1 as i64 + t as i64;
            let raw = read_padded(plan.src, lo, hi)?;
            let mut sums: std::collections::BTreeMap<usize, Vec<f64>> = Default::default();
            for &(s, k) in v {
                let r0 = (s as i64 - plan.t1 as i64 - lo) as usize;
                let w = apply(&plan.w, c, &raw[r0 * c..(r0 + t) * c]);
                let acc = sums.entry(k).or_insert_with(|| vec![0.0; c * t]);
                for i in 0..t {
                    for ch in 0..c {
                        acc[ch * t + i] += w[i * c + ch] as f64;
                    }
                }
            }
            Ok(sums.into_iter().collect())
        })
        .collect::<Result<_>>()?;
    let mut total = vec![vec![0.0f64; c * t]; clusters.len()];
    let mut count = vec![0usize; clusters.len()];
    for part in partial {
        for (k, v) in part {
            for (a, b) in total[k].iter_mut().zip(v) {
                *a += b;
            }
        }
    }
    for (k, members) in clusters.iter().enumerate() {
        count[k] = members.len().min(params.max_spikes_per_template);
    }
    Ok(total
        .into_iter()
        .zip(count)
        .map(|(v, n)| {
            v.into_iter()
                .map(|x| (x / n.max(1) as f64) as f32)
                .collect()
        })
        .collect())
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

/// Groups templates into units by complete linkage: two groups join when every
/// pair of their templates differs by less than `merge_threshold` (relative squared
/// difference on all channels at the best shift).
fn merge_templates(templates: &mut [Template], full: &[Vec<f32>], t: usize, params: &SorterParams) {
    let m = templates.len();
    let pairs: Vec<(usize, usize)> = (0..m)
        .flat_map(|i| (i + 1..m).map(move |j| (i, j)))
        .collect();
    let dist: Vec<f64> = pairs
        .par_iter()
        .map(|&(i, j)| template_distance(&full[i], &full[j], t, params.merge_max_shift))
        .collect();
    let mut d = vec![0.0f64; m * m];
    for (&(i, j), v) in pairs.iter().zip(dist) {
        d[i * m + j] = v;
        d[j * m + i] = v;
    }
    let mut groups: Vec<Vec<usize>> = (0..m).map(|i| vec![i]).collect();
    loop {
        let mut best: Option<(f64, usize, usize)> = None;
        for a in 0..groups.len() {
            for b in a + 1..groups.len() {
                let link = groups[a]
                    .iter()
                    .flat_map(|&i| groups[b].iter().map(move |&j| (i, j)))
                    .map(|(i, j)| d[i * m + j])
                    .fold(0.0f64, f64::max);
                if link < params.merge_threshold && best.is_none_or(|bb| link < bb.0) {
                    best = Some((link, a, b));
                }
            }
        }
        match best {
            Some((_, a, b)) => {
                let g = groups.remove(b);
                groups[a].extend(g);
            }
            None => break,
        }
    }
    for g in &mut groups {
        g.sort_unstable();
    }
    groups.sort();
    for (u, g) in groups.iter().enumerate() {
        for &i in g {
            templates[i].unit = u;
        }
    }
}

/// Smallest relative squared difference `‖a − b(shifted)‖² / max(‖a‖², ‖b‖²)` of two
/// full templates (`c × t`) over shifts up to `max_shift`.
fn template_distance(a: &[f32], b: &[f32], t: usize, max_shift: usize) -> f64 {
    let ea: f64 = a.iter().map(|v| (*v as f64).powi(2)).sum();
    let eb: f64 = b.iter().map(|v| (*v as f64).powi(2)).sum();
    let norm = ea.max(eb);
    if norm <= 0.0 {
        return f64::INFINITY;
    }
    let c = a.len() / t;
    let ms = max_shift as i64;
    let mut best = f64::INFINITY;
    for s in -ms..=ms {
        let mut diff = 0.0;
        for ch in 0..c {
            for i in 0..t as i64 {
                let j = i + s;
                let va = a[ch * t + i as usize] as f64;
                let vb = if j >= 0 && j < t as i64 {
                    b[ch * t + j as usize] as f64
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
    // for each channel, the templates that could raise a detected peak there (they
    // reach half the threshold on it) and the time of their extremum on it
    let cand: Vec<Vec<(usize, usize)>> = (0..c)
        .map(|ch| {
            let mut v = Vec::new();
            for (k, tm) in templates.iter().enumerate() {
                if let Some(kk) = tm.channels.iter().position(|&x| x == ch) {
                    let w = &tm.data[kk * t..(kk + 1) * t];
                    let (off, amp) = w.iter().enumerate().fold((0, 0.0f32), |b, (i, &x)| {
                        let s = match params.detect_sign {
                            PeakSign::Neg => -x,
                            PeakSign::Pos => x,
                            PeakSign::Both => x.abs(),
                        };
                        if s > b.1 {
                            (i, s)
                        } else {
                            b
                        }
                    });
                    let own = tm.data[tm
                        .channels
                        .iter()
                        .position(|&x| x == tm.peak_channel)
                        .unwrap_or(0)
                        * t
                        + tm.peak_offset]
                        .abs();
                    if amp as f64 >= 0.5 * plan.det.abs_thresholds[ch] && amp >= 0.3 * own {
                        v.push((k, off));
                    }
                }
            }
            v
        })
        .collect();
    let starts = plan.chunk_starts();
    let per_chunk: Vec<Vec<(usize, usize)>> = map_in_order(&starts, |s| {
        let e = (s + plan.chunk).min(plan.n);
        let lo = s as i64 - margin as i64;
        let mut r = plan.whitened(lo, (e + margin) as i64)?;
        let rows = (r.len() / c) as i64;
        // channel-major copy of the residual for the template dot products
        let nr = rows as usize;
        let mut rc = vec![0.0f32; r.len()];
        for (i, x) in r.chunks_exact(c).enumerate() {
            for (ch, v) in x.iter().enumerate() {
                rc[ch * nr + i] = *v;
            }
        }
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
                for &(k, off) in &cand[ch] {
                    let tm = &templates[k];
                    for sh in -ms..=ms {
                        let t0 = row as i64 - off as i64 + sh;
                        if t0 < 0 || t0 + t as i64 > rows {
                            continue;
                        }
                        let t0u = t0 as usize;
                        let dot: f32 = tm
                            .channels
                            .iter()
                            .enumerate()
                            .map(|(kk, &cc)| {
                                dot8(
                                    &tm.data[kk * t..(kk + 1) * t],
                                    &rc[cc * nr + t0u..cc * nr + t0u + t],
                                )
                            })
                            .sum();
                        let gain = 2.0 * dot as f64 - tm.norm2;
                        if best.is_none_or(|b| gain > b.0) {
                            best = Some((gain, k, t0));
                        }
                    }
                }
                match best {
                    Some((gain, k, t0)) if gain >= params.match_min_gain * templates[k].norm2 => {
                        let tm = &templates[k];
                        for (kk, &cc) in tm.channels.iter().enumerate() {
                            for i in 0..t {
                                let v = tm.data[kk * t + i];
                                r[(t0 as usize + i) * c + cc] -= v;
                                rc[cc * nr + t0 as usize + i] -= v;
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
    })?;
    Ok(per_chunk.into_iter().flatten().collect())
}

/// Dot product with eight independent accumulators (vectorises).
fn dot8(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}
