//! Sampling rate and valid intervals from a timestamp vector, as Spyglass ingests raw data.
//!
//! [`estimate_sampling_rate`] follows `spyglass.utils.nwb_helper_fn.estimate_sampling_rate`
//! and [`valid_intervals`] follows `get_valid_intervals` from the same module.

use crate::error::{DspError, Result};
use crate::intervals::Intervals;

/// Widening applied to both ends of every valid interval (Spyglass's `eps`), seconds.
pub const VALID_INTERVAL_EPS: f64 = 1e-7;
/// Gap multiplier Spyglass uses for raw data valid times.
pub const RAW_GAP_PROPORTION: f64 = 1.75;
/// Default multiplier of the modal difference in [`estimate_sampling_rate`].
pub const DEFAULT_RATE_MULTIPLIER: f64 = 1.75;

/// Estimates a sampling rate (Hz, rounded to an integer) from timestamps.
///
/// NaN timestamps are dropped; of the remaining differences (at least 10
/// needed), a 10-point boxcar smoothing (numpy `convolve(…, "same")`) is
/// histogrammed in 100 bins of `log10` over `[-5, log10(3·mean)]`; the left
/// edge of the fullest bin is the modal difference; differences below
/// `multiplier ×` that mode are "adjacent", and the rate is
/// `round(1 / mean(adjacent differences))` (ties to even, as numpy).
/// Spyglass passes the first 10⁶ timestamps of a series; do the same.
pub fn estimate_sampling_rate(timestamps: &[f64], multiplier: f64) -> Result<f64> {
    if !(multiplier.is_finite() && multiplier > 0.0) {
        return Err(DspError::InvalidParameter {
            name: "multiplier",
            reason: format!("{multiplier} must be finite and > 0"),
        });
    }
    let valid: Vec<f64> = timestamps.iter().copied().filter(|t| !t.is_nan()).collect();
    if let Some(index) = valid.iter().position(|t| t.is_infinite()) {
        return Err(DspError::NonFiniteTimestamp { index });
    }
    let diff: Vec<f64> = valid.windows(2).map(|w| w[1] - w[0]).collect();
    if diff.len() < 10 {
        return Err(DspError::TooFewTimestamps(diff.len()));
    }
    let smooth = boxcar_same(&diff, 10);
    let mean_smooth = smooth.iter().sum::<f64>() / smooth.len() as f64;
    let first_edge = -5.0;
    let last_edge = (3.0 * mean_smooth).log10();
    if !(last_edge.is_finite() && last_edge > first_edge) {
        return Err(DspError::RateEstimation(format!(
            "histogram range [-5, {last_edge}] is empty (mean difference {mean_smooth})"
        )));
    }
    let edges = linspace(first_edge, last_edge, 101);
    let mut hist = [0usize; 100];
    for &d in &smooth {
        let v = d.log10();
        if let Some(bin) = histogram_bin(v, &edges) {
            hist[bin] += 1;
        }
    }
    let max = *hist.iter().max().unwrap_or(&0);
    let mode_bin = hist.iter().position(|&h| h == max).unwrap_or(0);
    let mode = 10f64.powf(edges[mode_bin]);
    let threshold = mode * multiplier;
    let (sum, count) = diff
        .iter()
        .filter(|&&d| d < threshold)
        .fold((0.0, 0usize), |(s, c), &d| (s + d, c + 1));
    if count == 0 {
        return Err(DspError::RateEstimation(
            "no adjacent samples below the modal difference".into(),
        ));
    }
    let rate = (1.0 / (sum / count as f64)).round_ties_even();
    if !(rate.is_finite() && rate >= 0.0) {
        return Err(DspError::RateEstimation(format!(
            "estimate {rate} is not a valid rate"
        )));
    }
    Ok(rate)
}

/// numpy `convolve(x, ones(w)/w, mode="same")` for `x.len() >= w`.
fn boxcar_same(x: &[f64], w: usize) -> Vec<f64> {
    let n = x.len();
    let coef = 1.0 / w as f64;
    // "same" keeps full-convolution indices (w-1)/2 … (w-1)/2 + n - 1.
    let offset = (w - 1) / 2;
    (0..n)
        .map(|i| {
            let j = i + offset; // full index: sum over x[j - t], t in 0..w
            let lo = j.saturating_sub(w - 1);
            let hi = j.min(n - 1);
            (lo..=hi).map(|k| x[k] * coef).sum()
        })
        .collect()
}

/// numpy `linspace(start, stop, num)` with the endpoint pinned to `stop`.
fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    let step = (stop - start) / (num - 1) as f64;
    let mut v: Vec<f64> = (0..num).map(|i| i as f64 * step + start).collect();
    v[num - 1] = stop;
    v
}

/// numpy histogram binning: `[e_i, e_{i+1})`, last bin closed; outside (or NaN) → `None`.
fn histogram_bin(v: f64, edges: &[f64]) -> Option<usize> {
    let nb = edges.len() - 1;
    if !(v >= edges[0] && v <= edges[nb]) {
        return None;
    }
    if v == edges[nb] {
        return Some(nb - 1);
    }
    // Largest i with edges[i] <= v.
    let i = edges.partition_point(|&e| e <= v) - 1;
    Some(i.min(nb - 1))
}

/// Intervals without gaps in `timestamps`, as Spyglass's `get_valid_intervals`.
///
/// NaN timestamps are dropped and the rest must be non-decreasing. A gap is a
/// difference `> gap_proportion / sampling_rate`; each run between gaps gives
/// `[first − 1e-7, last + 1e-7]`; runs no longer than `min_valid_len` are
/// dropped (strict), where `min_valid_len` is halved to half the total span
/// when the span is shorter. Divergence: the span is taken over the non-NaN
/// timestamps (Spyglass takes it before dropping NaNs, so a NaN at either end
/// disables that rule there). [`ValidRuns`] computes the same from blocks.
pub fn valid_intervals(
    timestamps: &[f64],
    sampling_rate: f64,
    gap_proportion: f64,
    min_valid_len: f64,
) -> Result<Intervals> {
    let mut runs = ValidRuns::new(sampling_rate, gap_proportion)?;
    runs.push(timestamps)?;
    runs.finish(min_valid_len)
}

/// [`valid_intervals`] over timestamps given block by block, in order: memory
/// bounded by the runs, not the timestamps.
#[derive(Debug, Clone)]
pub struct ValidRuns {
    threshold: f64,
    runs: Vec<[f64; 2]>,
    /// First timestamp of the open run, and the last timestamp seen.
    open: Option<(f64, f64)>,
    /// First timestamp of all.
    first: f64,
    /// Non-NaN timestamps seen (the index errors name).
    seen: usize,
}

impl ValidRuns {
    /// Runs split at gaps `> gap_proportion / sampling_rate`.
    pub fn new(sampling_rate: f64, gap_proportion: f64) -> Result<ValidRuns> {
        if !(sampling_rate.is_finite() && sampling_rate > 0.0) {
            return Err(DspError::InvalidSamplingRate(sampling_rate));
        }
        if !(gap_proportion.is_finite() && gap_proportion > 0.0) {
            return Err(DspError::InvalidParameter {
                name: "gap_proportion",
                reason: format!("{gap_proportion} must be finite and > 0"),
            });
        }
        Ok(ValidRuns {
            threshold: 1.0 / sampling_rate * gap_proportion,
            runs: vec![],
            open: None,
            first: f64::NAN,
            seen: 0,
        })
    }

    /// The next timestamps (NaNs skipped; the others finite and non-decreasing,
    /// across blocks too).
    pub fn push(&mut self, block: &[f64]) -> Result<()> {
        for &t in block.iter().filter(|t| !t.is_nan()) {
            let index = self.seen;
            self.seen += 1;
            if !t.is_finite() {
                return Err(DspError::NonFiniteTimestamp { index });
            }
            match &mut self.open {
                None => {
                    self.first = t;
                    self.open = Some((t, t));
                }
                Some((start, last)) => {
                    if t < *last {
                        return Err(DspError::UnsortedTimestamps { index });
                    }
                    if t - *last > self.threshold {
                        self.runs
                            .push([*start - VALID_INTERVAL_EPS, *last + VALID_INTERVAL_EPS]);
                        *start = t;
                    }
                    *last = t;
                }
            }
        }
        Ok(())
    }

    /// The valid intervals: runs longer than `min_valid_len` (halved to half the
    /// span when the span is shorter).
    pub fn finish(mut self, min_valid_len: f64) -> Result<Intervals> {
        if min_valid_len.is_nan() {
            return Err(DspError::InvalidParameter {
                name: "min_valid_len",
                reason: "NaN".into(),
            });
        }
        let Some((start, last)) = self.open else {
            return Err(DspError::EmptySignal);
        };
        self.runs
            .push([start - VALID_INTERVAL_EPS, last + VALID_INTERVAL_EPS]);
        let total = last - self.first;
        let min_len = if total < min_valid_len {
            total / 2.0
        } else {
            min_valid_len
        };
        self.runs.retain(|[a, b]| b - a > min_len);
        // Widening can only make runs touch when the gap threshold is below 2e-7 s.
        Intervals::consolidate(self.runs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_runs_in_blocks_equal_the_whole() {
        // 1 kHz with gaps after samples 299 and 700, and a NaN
        let mut ts: Vec<f64> = (0..1000).map(|i| i as f64 / 1000.0).collect();
        for t in &mut ts[300..] {
            *t += 0.5;
        }
        for t in &mut ts[701..] {
            *t += 2.0;
        }
        ts[450] = f64::NAN;
        let whole = valid_intervals(&ts, 1000.0, 1.5, 0.1).unwrap();
        // the NaN leaves a 2 ms step: a gap at 1.5 samples
        assert_eq!(whole.len(), 4, "{whole:?}");
        for block in [1, 7, 300, 301, 1000] {
            let mut r = ValidRuns::new(1000.0, 1.5).unwrap();
            for b in ts.chunks(block) {
                r.push(b).unwrap();
            }
            assert_eq!(r.finish(0.1).unwrap(), whole, "blocks of {block}");
        }
        // order is checked across blocks, the index counting non-NaN timestamps
        let mut r = ValidRuns::new(1000.0, 1.5).unwrap();
        r.push(&[0.0, f64::NAN, 0.002]).unwrap();
        assert!(matches!(
            r.push(&[0.001]),
            Err(DspError::UnsortedTimestamps { index: 2 })
        ));
        assert!(matches!(
            ValidRuns::new(1000.0, 1.5).unwrap().finish(0.1),
            Err(DspError::EmptySignal)
        ));
    }

    #[test]
    fn boxcar_matches_numpy_same_by_hand() {
        // numpy.convolve(arange(1, 13), ones(10)/10, 'same'): full index j = i + 4,
        // sum of x[max(0, j-9) ..= min(j, 11)] / 10.
        let x: Vec<f64> = (1..=12).map(|v| v as f64).collect();
        let s = boxcar_same(&x, 10);
        let want = [1.5, 2.1, 2.8, 3.6, 4.5, 5.5, 6.5, 7.5, 7.2, 6.8, 6.3, 5.7];
        for (a, b) in s.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{s:?}");
        }
    }

    #[test]
    fn histogram_binning() {
        let e = linspace(0.0, 1.0, 11);
        assert_eq!(histogram_bin(0.0, &e), Some(0));
        assert_eq!(histogram_bin(0.1, &e), Some(1));
        assert_eq!(histogram_bin(0.95, &e), Some(9));
        assert_eq!(histogram_bin(1.0, &e), Some(9));
        assert_eq!(histogram_bin(1.01, &e), None);
        assert_eq!(histogram_bin(f64::NAN, &e), None);
        assert_eq!(histogram_bin(f64::NEG_INFINITY, &e), None);
    }

    #[test]
    fn rate_of_regular_and_jittered_timestamps() {
        let ts: Vec<f64> = (0..30_000).map(|i| 100.0 + i as f64 / 30_000.0).collect();
        assert_eq!(estimate_sampling_rate(&ts, 1.75).unwrap(), 30_000.0);
        // With gaps and NaNs the adjacent-difference mean still gives the rate.
        let mut ts: Vec<f64> = (0..5000).map(|i| i as f64 / 1000.0).collect();
        ts.extend((0..5000).map(|i| 10.0 + i as f64 / 1000.0));
        ts[17] = f64::NAN;
        assert_eq!(estimate_sampling_rate(&ts, 1.75).unwrap(), 1000.0);
        // Slight jitter: rate still rounds to 500.
        let ts: Vec<f64> = (0..2000)
            .map(|i| i as f64 / 500.0 + if i % 2 == 0 { 1e-5 } else { -1e-5 })
            .collect();
        assert_eq!(estimate_sampling_rate(&ts, 1.75).unwrap(), 500.0);
    }

    #[test]
    fn rate_errors() {
        assert_eq!(
            estimate_sampling_rate(&[0.0; 5], 1.75),
            Err(DspError::TooFewTimestamps(4))
        );
        let nan = vec![f64::NAN; 50];
        assert_eq!(
            estimate_sampling_rate(&nan, 1.75),
            Err(DspError::TooFewTimestamps(0))
        );
        // All-equal timestamps: zero differences, log10 range empty.
        assert!(matches!(
            estimate_sampling_rate(&[1.0; 20], 1.75),
            Err(DspError::RateEstimation(_))
        ));
        let ts: Vec<f64> = (0..20).map(|i| i as f64).collect();
        assert!(estimate_sampling_rate(&ts, 0.0).is_err());
        let mut ts: Vec<f64> = (0..20).map(|i| i as f64).collect();
        ts[3] = f64::INFINITY;
        assert!(estimate_sampling_rate(&ts, 1.75).is_err());
    }

    #[test]
    fn valid_intervals_by_hand() {
        // 10 Hz samples 0.0..=0.4, gap, 1.0..=1.2, gap, single sample at 3.0.
        let ts = [0.0, 0.1, 0.2, 0.3, 0.4, 1.0, 1.1, 1.2, 3.0];
        let e = VALID_INTERVAL_EPS;
        let v = valid_intervals(&ts, 10.0, 2.5, 0.0).unwrap();
        assert_eq!(
            v.as_slice(),
            &[[0.0 - e, 0.4 + e], [1.0 - e, 1.2 + e], [3.0 - e, 3.0 + e]]
        );
        // min length 0.3 keeps only the first (0.4 + 2e-7 > 0.3; 0.2 + 2e-7 < 0.3).
        let v = valid_intervals(&ts, 10.0, 2.5, 0.3).unwrap();
        assert_eq!(v.as_slice(), &[[0.0 - e, 0.4 + e]]);
        // min length above the 3 s span -> span/2 = 1.5 -> nothing survives.
        assert!(valid_intervals(&ts, 10.0, 2.5, 10.0).unwrap().is_empty());
        // NaNs dropped.
        let ts = [f64::NAN, 0.0, 0.1, f64::NAN, 0.2];
        let v = valid_intervals(&ts, 10.0, 2.5, 0.0).unwrap();
        assert_eq!(v.as_slice(), &[[0.0 - e, 0.2 + e]]);
        // Raw rule: gap proportion 1.75 at 10 Hz -> gap > 0.175 s.
        let ts = [0.0, 0.1, 0.28, 0.38];
        assert_eq!(valid_intervals(&ts, 10.0, 1.75, 0.0).unwrap().len(), 2);
        assert_eq!(valid_intervals(&ts, 10.0, 2.5, 0.0).unwrap().len(), 1);
    }

    #[test]
    fn valid_intervals_errors() {
        assert_eq!(
            valid_intervals(&[], 10.0, 2.5, 0.0),
            Err(DspError::EmptySignal)
        );
        assert_eq!(
            valid_intervals(&[f64::NAN], 10.0, 2.5, 0.0),
            Err(DspError::EmptySignal)
        );
        assert_eq!(
            valid_intervals(&[0.0], 0.0, 2.5, 0.0),
            Err(DspError::InvalidSamplingRate(0.0))
        );
        assert!(valid_intervals(&[0.0], 10.0, -1.0, 0.0).is_err());
        assert!(valid_intervals(&[0.0], 10.0, 2.5, f64::NAN).is_err());
        assert_eq!(
            valid_intervals(&[0.0, 0.2, 0.1], 10.0, 2.5, 0.0),
            Err(DspError::UnsortedTimestamps { index: 2 })
        );
        assert!(valid_intervals(&[0.0, f64::INFINITY], 10.0, 2.5, 0.0).is_err());
    }
}
