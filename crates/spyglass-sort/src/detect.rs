//! The clusterless thresholder: SpikeInterface 0.105's `detect_peaks` with method
//! `locally_exclusive`, reproduced exactly.
//!
//! A sample is a candidate on a channel when it crosses `detect_threshold ×
//! noise_level` of that channel (≤ −thr for negative peaks, ≥ thr for positive) and
//! is a local extremum (strictly beyond the previous sample, at least as far as the
//! next). A candidate is kept unless another candidate on a channel within
//! `radius_um` (itself included) and within `exclude_sweep_size` samples has a larger
//! |value| / threshold, or an equal one earlier in time. Outside the recording the
//! traces are zeros (SpikeInterface pads chunk margins with zeros), and candidates
//! closer than `exclude_sweep_size + 1` samples to the padded edges are dropped, as
//! its chunk margins do. The result does not depend on the chunking.

use serde::{Deserialize, Serialize};

use crate::error::{Result, SortError};
use crate::source::{check_locations, map_in_order, read_padded, ChunkSource};

/// Which excursions count as peaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeakSign {
    /// Negative peaks (troughs).
    Neg,
    /// Positive peaks.
    Pos,
    /// Both.
    Both,
}

impl PeakSign {
    /// Parses SpikeInterface's spelling (`neg`, `pos`, `both`).
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "neg" => Ok(Self::Neg),
            "pos" => Ok(Self::Pos),
            "both" => Ok(Self::Both),
            other => Err(SortError::invalid(
                "peak_sign",
                format!("{other:?} is not one of \"neg\", \"pos\", \"both\""),
            )),
        }
    }
}

/// Parameters of the locally exclusive detector (SpikeInterface's names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdParams {
    /// Sign of the peaks.
    pub peak_sign: PeakSign,
    /// Threshold in units of each channel's noise level.
    pub detect_threshold: f64,
    /// Half-width of the exclusion window, ms (truncated to whole samples).
    pub exclude_sweep_ms: f64,
    /// Radius of a channel's neighbourhood, µm (distance ≤ radius).
    pub radius_um: f64,
    /// One noise level per channel (SpikeInterface indexes it per channel), float64
    /// as Spyglass passes them: thresholds and the |value| / threshold comparisons are
    /// computed in f64 like SpikeInterface does for float64 levels.
    pub noise_levels: Vec<f64>,
}

/// A detected peak.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    /// Sample index in the recording.
    pub sample: usize,
    /// Channel index.
    pub channel: usize,
    /// Trace value at the peak.
    pub amplitude: f32,
}

/// `int(exclude_sweep_ms * fs / 1000.0)` as SpikeInterface computes it.
pub fn exclude_sweep_size(exclude_sweep_ms: f64, fs: f64) -> usize {
    (exclude_sweep_ms * fs / 1000.0) as usize
}

/// Channel pairs within `radius_um` of each other (`‖a − b‖ ≤ radius`), row-major.
pub fn neighbours_mask(locations: &[[f64; 2]], radius_um: f64) -> Vec<bool> {
    let n = locations.len();
    let mut m = vec![false; n * n];
    for (i, a) in locations.iter().enumerate() {
        for (j, b) in locations.iter().enumerate() {
            let (dx, dy) = (a[0] - b[0], a[1] - b[1]);
            m[i * n + j] = (dx * dx + dy * dy).sqrt() <= radius_um;
        }
    }
    m
}

/// The detector with its derived constants, applicable to any block of traces.
#[derive(Debug, Clone)]
pub(crate) struct LocallyExclusive {
    pub(crate) peak_sign: PeakSign,
    pub(crate) abs_thresholds: Vec<f64>,
    pub(crate) sweep: usize,
    pub(crate) mask: Vec<bool>,
    pub(crate) n_channels: usize,
}

impl LocallyExclusive {
    pub(crate) fn new(
        peak_sign: PeakSign,
        detect_threshold: f64,
        noise_levels: &[f64],
        sweep: usize,
        locations: &[[f64; 2]],
        radius_um: f64,
    ) -> Result<Self> {
        let n = locations.len();
        if noise_levels.len() != n {
            return Err(SortError::invalid(
                "noise_levels",
                format!("{} values for {n} channels", noise_levels.len()),
            ));
        }
        if let Some(v) = noise_levels.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
            return Err(SortError::invalid(
                "noise_levels",
                format!("{v} is not a positive finite level"),
            ));
        }
        if !(detect_threshold.is_finite() && detect_threshold > 0.0) {
            return Err(SortError::invalid(
                "detect_threshold",
                format!("{detect_threshold} is not a positive finite threshold"),
            ));
        }
        if !(radius_um.is_finite() && radius_um >= 0.0) {
            return Err(SortError::invalid(
                "radius_um",
                format!("{radius_um} is not a non-negative finite radius"),
            ));
        }
        Ok(Self {
            peak_sign,
            abs_thresholds: noise_levels.iter().map(|v| v * detect_threshold).collect(),
            sweep,
            mask: neighbours_mask(locations, radius_um),
            n_channels: n,
        })
    }

    /// Peaks of `traces` (rows × channels) as (row, channel), dropping rows within
    /// `sweep + 1` of either end, in (row, channel) order.
    pub(crate) fn detect_block(&self, traces: &[f32]) -> Vec<(usize, usize)> {
        let c = self.n_channels;
        let n = traces.len() / c;
        let (do_pos, do_neg) = match self.peak_sign {
            PeakSign::Neg => (false, true),
            PeakSign::Pos => (true, false),
            PeakSign::Both => (true, true),
        };
        let mut cand: Vec<(usize, usize)> = Vec::new();
        for s in 1..n.saturating_sub(1) {
            let (prev, cur, next) = (
                &traces[(s - 1) * c..s * c],
                &traces[s * c..(s + 1) * c],
                &traces[(s + 1) * c..(s + 2) * c],
            );
            for ch in 0..c {
                let v = cur[ch];
                let thr = self.abs_thresholds[ch];
                let neg = do_neg && (v as f64) <= -thr && v < prev[ch] && v <= next[ch];
                let pos = do_pos && (v as f64) >= thr && v > prev[ch] && v >= next[ch];
                if neg || pos {
                    cand.push((s, ch));
                }
            }
        }
        let sweep = self.sweep;
        let value =
            |(s, ch): (usize, usize)| (traces[s * c + ch] as f64).abs() / self.abs_thresholds[ch];
        let mut kept = Vec::new();
        let mut next_start = 0usize;
        for i in 0..cand.len() {
            let (si, ci) = cand[i];
            if si < sweep + 1 || si >= n.saturating_sub(sweep + 1) {
                continue;
            }
            let vi = value(cand[i]);
            let mut keep = true;
            let scan_from = next_start;
            for (j, &(sj, cj)) in cand.iter().enumerate().skip(scan_from) {
                if i == j {
                    continue;
                }
                if si + sweep < sj {
                    break;
                }
                if si > sj + sweep {
                    next_start = j;
                    continue;
                }
                if self.mask[ci * c + cj] {
                    let vj = value((sj, cj));
                    if vj > vi || (vj == vi && si > sj) {
                        keep = false;
                        break;
                    }
                }
            }
            if keep {
                kept.push((si, ci));
            }
        }
        kept
    }
}

/// Default chunk length of the streaming detector, samples.
pub const DEFAULT_CHUNK_SAMPLES: usize = 30_000;

/// Detects peaks over the whole recording, streaming it in chunks of
/// `chunk_samples` (chunks run in parallel; the result does not depend on the
/// chunk length). Peaks come in (sample, channel) order.
pub fn detect_peaks_locally_exclusive(
    src: &dyn ChunkSource,
    locations: &[[f64; 2]],
    params: &ThresholdParams,
    chunk_samples: usize,
) -> Result<Vec<Peak>> {
    check_locations(src, locations)?;
    if !(params.exclude_sweep_ms.is_finite() && params.exclude_sweep_ms >= 0.0) {
        return Err(SortError::invalid(
            "exclude_sweep_ms",
            format!(
                "{} is not a non-negative finite duration",
                params.exclude_sweep_ms
            ),
        ));
    }
    if chunk_samples == 0 {
        return Err(SortError::invalid("chunk_samples", "must be at least 1"));
    }
    let sweep = exclude_sweep_size(params.exclude_sweep_ms, src.sampling_frequency());
    let det = LocallyExclusive::new(
        params.peak_sign,
        params.detect_threshold,
        &params.noise_levels,
        sweep,
        locations,
        params.radius_um,
    )?;
    let n = src.num_samples();
    let c = src.num_channels();
    let margin = sweep + 1;
    let starts: Vec<usize> = (0..n).step_by(chunk_samples).collect();
    let per_chunk: Vec<Vec<Peak>> = map_in_order(&starts, |s| {
        let e = (s + chunk_samples).min(n);
        let lo = s as i64 - margin as i64;
        let traces = read_padded(src, lo, (e + margin) as i64)?;
        Ok(det
            .detect_block(&traces)
            .into_iter()
            .map(|(row, ch)| Peak {
                sample: (lo + row as i64) as usize,
                channel: ch,
                amplitude: traces[row * c + ch],
            })
            .collect())
    })?;
    Ok(per_chunk.into_iter().flatten().collect())
}

/// A SpikeSorterParameters row of the `clusterless_thresholder` sorter, with
/// Spyglass's field names (its other keys, e.g. `outputs`, are accepted and ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterlessParams {
    /// Threshold in units of `noise_levels` (µV when the noise level is 1).
    pub detect_threshold: f64,
    /// Detection method; only `locally_exclusive` exists here.
    pub method: String,
    /// `neg`, `pos` or `both`.
    pub peak_sign: PeakSign,
    /// Half-width of the exclusion window, ms.
    pub exclude_sweep_ms: f64,
    /// Neighbourhood radius, µm.
    pub local_radius_um: f64,
    /// One level for every channel, or one per channel.
    pub noise_levels: Vec<f64>,
}

impl Default for ClusterlessParams {
    /// Spyglass's `default_clusterless` row.
    fn default() -> Self {
        Self {
            detect_threshold: 100.0,
            method: "locally_exclusive".into(),
            peak_sign: PeakSign::Neg,
            exclude_sweep_ms: 0.1,
            local_radius_um: 100.0,
            noise_levels: vec![1.0],
        }
    }
}

impl ClusterlessParams {
    /// The detector's parameters for `n_channels` channels: a single noise level
    /// applies to every channel.
    pub fn to_threshold_params(&self, n_channels: usize) -> Result<ThresholdParams> {
        if self.method != "locally_exclusive" {
            return Err(SortError::invalid(
                "method",
                format!(
                    "{:?} is not available natively (only \"locally_exclusive\")",
                    self.method
                ),
            ));
        }
        let noise_levels = match self.noise_levels.len() {
            1 => vec![self.noise_levels[0]; n_channels],
            k if k == n_channels => self.noise_levels.clone(),
            k => {
                return Err(SortError::invalid(
                    "noise_levels",
                    format!("{k} values for {n_channels} channels (give 1 or {n_channels})"),
                ))
            }
        };
        Ok(ThresholdParams {
            peak_sign: self.peak_sign,
            detect_threshold: self.detect_threshold,
            exclude_sweep_ms: self.exclude_sweep_ms,
            radius_um: self.local_radius_um,
            noise_levels,
        })
    }
}

/// The `clusterless_thresholder` sorter: every peak of the recording (one unit, as
/// Spyglass stores it), streamed in chunks of [`DEFAULT_CHUNK_SAMPLES`].
pub fn clusterless_thresholder(
    src: &dyn ChunkSource,
    locations: &[[f64; 2]],
    params: &ClusterlessParams,
) -> Result<Vec<Peak>> {
    let p = params.to_threshold_params(src.num_channels())?;
    detect_peaks_locally_exclusive(src, locations, &p, DEFAULT_CHUNK_SAMPLES)
}
