//! The building blocks of the detectors, one per helper of ripple_detection's
//! `core` module: envelope, Gaussian smoothing, z-score, thresholding with the
//! extension to the mean, movement and close-event exclusion, merging of
//! overlapping ranges.
//!
//! Events are carried as inclusive sample-index pairs `[start, end]` into the
//! (NaN-free, strictly increasing) time vector; the package carries the times
//! themselves and finds samples again with `np.isin`, which for strictly
//! increasing times picks the same samples. Every comparison of durations is
//! made on the times, with the package's floating-point expressions.

use rayon::prelude::*;
use spyglass_dsp::{
    envelope_padded, gaussian_filter1d, next_fast_len, pairwise_sum, BoundaryMode, HilbertPlan,
};

use crate::error::{Result, RippleError};

/// An event as inclusive sample indices `[start, end]` into the time vector.
pub type Segment = [usize; 2];

/// Truncation of the Gaussian kernel, in standard deviations, ripple_detection's
/// `gaussian_smooth` default.
pub const GAUSSIAN_TRUNCATE: f64 = 8.0;

/// Amplitude envelope of one channel as `get_envelope`: `|hilbert(x, N)|` with
/// the FFT zero-padded to `N = next_fast_len(len)` (5-smooth), first `len` samples.
pub fn get_envelope(x: &[f64]) -> Result<Vec<f64>> {
    Ok(envelope_padded(x, next_fast_len(x.len()))?)
}

/// [`get_envelope`] of each channel (all of one length) of a channel-major
/// buffer, in parallel over one FFT plan.
pub fn get_envelopes(channels: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
    let Some(n) = channels.first().map(Vec::len) else {
        return Ok(Vec::new());
    };
    if channels.iter().any(|c| c.len() != n) {
        return Err(RippleError::invalid(
            "channels",
            "channels of different lengths",
        ));
    }
    let plan = HilbertPlan::padded(n, next_fast_len(n))?;
    channels
        .par_iter()
        .map(|x| Ok(plan.analytic(x)?.iter().map(|c| c.norm()).collect()))
        .collect()
}

/// `gaussian_smooth(x, sigma, sampling_frequency)`: scipy's `gaussian_filter1d`
/// with σ = `sigma · sampling_frequency` samples, truncated at 8 σ, zero padding
/// (`mode="constant"`).
pub fn gaussian_smooth(x: &[f64], sigma: f64, sampling_frequency: f64) -> Result<Vec<f64>> {
    Ok(gaussian_filter1d(
        x,
        sigma * sampling_frequency,
        GAUSSIAN_TRUNCATE,
        BoundaryMode::Constant(0.0),
    )?)
}

/// `scipy.stats.zscore(x, ddof=0)` of one trace (numpy 2 sums: pairwise):
/// `(x − mean) / std`, NaN everywhere for a constant trace (scipy's
/// `std <= |eps·mean|` test).
pub fn zscore(x: &[f64]) -> Vec<f64> {
    let n = x.len() as f64;
    let mean = pairwise_sum(x) / n;
    let sq: Vec<f64> = x.iter().map(|v| (v - mean) * (v - mean)).collect();
    let std = (pairwise_sum(&sq) / n).sqrt();
    zscore_with(x, mean, std)
}

/// `scipy.stats.zscore(data, axis=0)` of each column of a `(n_time, n_channels)`
/// array, given as channel-major columns. numpy reduces the outer axis of a
/// C-ordered array row by row, so each column is summed left to right (not
/// pairwise) — reproduced here.
pub fn zscore_columns(columns: &[Vec<f64>]) -> Vec<Vec<f64>> {
    columns
        .par_iter()
        .map(|x| {
            let n = x.len() as f64;
            let mean = x.iter().fold(0.0, |acc, v| acc + v) / n;
            let ss = x.iter().fold(0.0, |acc, v| acc + (v - mean) * (v - mean));
            zscore_with(x, mean, (ss / n).sqrt())
        })
        .collect()
}

fn zscore_with(x: &[f64], mean: f64, std: f64) -> Vec<f64> {
    if std <= (f64::EPSILON * mean).abs() || std.is_nan() {
        return vec![f64::NAN; x.len()];
    }
    x.iter().map(|v| (v - mean) / std).collect()
}

/// `segment_boolean_series`: the runs of `true` in `mask` (one flag per time
/// sample) whose `time[end] >= time[start] + minimum_duration`.
pub fn segment_boolean(mask: &[bool], time: &[f64], minimum_duration: f64) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < mask.len() {
        if !mask[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i + 1 < mask.len() && mask[i + 1] {
            i += 1;
        }
        if time[i] >= time[start] + minimum_duration {
            out.push([start, i]);
        }
        i += 1;
    }
    out
}

/// `extend_threshold_to_mean`: each run above the threshold (lasting at least
/// `minimum_duration`) is replaced by the run above the mean that holds it —
/// the last above-mean run starting at or before it — duplicates removed,
/// sorted.
///
/// Errors where the package fails: a run above the threshold with no above-mean
/// run starting before it (possible only with a negative threshold).
pub fn extend_threshold_to_mean(
    is_above_mean: &[bool],
    is_above_threshold: &[bool],
    time: &[f64],
    minimum_duration: f64,
) -> Result<Vec<Segment>> {
    let above_mean = segment_boolean(is_above_mean, time, minimum_duration);
    let above_threshold = segment_boolean(is_above_threshold, time, minimum_duration);
    let mut out = Vec::with_capacity(above_threshold.len());
    for seg in above_threshold {
        // last above-mean segment whose start time is <= this one's start time
        let k = above_mean.partition_point(|m| time[m[0]] - time[seg[0]] <= 0.0);
        if k == 0 {
            return Err(RippleError::invalid(
                "zscore_threshold",
                format!(
                    "the run above the threshold at {} s starts before every run above the mean \
                     (ripple_detection fails here too)",
                    time[seg[0]]
                ),
            ));
        }
        out.push(above_mean[k - 1]);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// `threshold_by_zscore`: runs with `z >= zscore_threshold` lasting at least
/// `minimum_duration`, extended to where `z` falls below 0.
pub fn threshold_by_zscore(
    z: &[f64],
    time: &[f64],
    minimum_duration: f64,
    zscore_threshold: f64,
) -> Result<Vec<Segment>> {
    let above_mean: Vec<bool> = z.iter().map(|&v| v >= 0.0).collect();
    let above_threshold: Vec<bool> = z.iter().map(|&v| v >= zscore_threshold).collect();
    extend_threshold_to_mean(&above_mean, &above_threshold, time, minimum_duration)
}

/// `exclude_movement`: keeps the events whose speed at the start sample and at
/// the end sample are both `<= speed_threshold` (speed inside is not tested).
pub fn exclude_movement(
    candidates: &[Segment],
    speed: &[f64],
    speed_threshold: f64,
) -> Vec<Segment> {
    candidates
        .iter()
        .copied()
        .filter(|s| speed[s[0]] <= speed_threshold && speed[s[1]] <= speed_threshold)
        .collect()
}

/// `exclude_close_events`: keeps the first event and every event starting at
/// least `close_event_threshold` s after the end of the event before it in the
/// candidate list (whether that one was kept or not).
pub fn exclude_close_events(
    candidates: &[Segment],
    time: &[f64],
    close_event_threshold: f64,
) -> Vec<Segment> {
    candidates
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            *i == 0 || time[s[0]] - time[candidates[i - 1][1]] >= close_event_threshold
        })
        .map(|(_, s)| *s)
        .collect()
}

/// `merge_overlapping_ranges`: sorted, with overlapping or touching ranges
/// (next start `<=` current end) merged.
pub fn merge_overlapping_ranges(mut ranges: Vec<Segment>) -> Vec<Segment> {
    ranges.sort_unstable();
    let mut out: Vec<Segment> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(cur) if r[0] <= cur[1] => cur[1] = cur[1].max(r[1]),
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_extension_by_hand() {
        let time: Vec<f64> = (0..10).map(|i| i as f64 * 0.01).collect();
        let z = [-1.0, 0.5, 2.5, 3.0, 2.1, 0.2, -0.3, 0.1, 2.0, -1.0];
        // above 2: [2,4] (0.02 s) and [8,8] (0 s); above 0: [1,5], [7,8]
        assert_eq!(
            threshold_by_zscore(&z, &time, 0.015, 2.0).unwrap(),
            vec![[1, 5]]
        );
        assert_eq!(
            threshold_by_zscore(&z, &time, 0.0, 2.0).unwrap(),
            vec![[1, 5], [7, 8]]
        );
        let mask = [true, true, false, true];
        assert_eq!(segment_boolean(&mask, &time, 0.0), vec![[0, 1], [3, 3]]);
        assert!(threshold_by_zscore(&[-1.0, 0.5], &time[..2], 0.0, -2.0).is_err());
    }

    #[test]
    fn exclusion_and_merging_by_hand() {
        let time: Vec<f64> = (0..20).map(|i| i as f64).collect();
        let speed = [
            0.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
            0.0, 0.0, 0.0,
        ];
        let c = [[1, 3], [4, 6], [8, 9], [15, 16]];
        assert_eq!(
            exclude_movement(&c, &speed, 4.0),
            vec![[4, 6], [8, 9], [15, 16]]
        );
        // gaps to the previous candidate: 1, 2, 6
        assert_eq!(
            exclude_close_events(&c, &time, 2.0),
            vec![[1, 3], [8, 9], [15, 16]]
        );
        assert_eq!(
            merge_overlapping_ranges(vec![[5, 7], [1, 3], [3, 4], [6, 9], [11, 12]]),
            vec![[1, 4], [5, 9], [11, 12]]
        );
    }

    #[test]
    fn zscore_by_hand() {
        let z = zscore(&[1.0, 2.0, 3.0, 4.0]);
        let s = 1.25f64.sqrt();
        assert_eq!(z, vec![-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s]);
        assert!(zscore(&[2.0; 5]).iter().all(|v| v.is_nan()));
        assert_eq!(zscore_columns(&[vec![1.0, 2.0, 3.0, 4.0]])[0], z);
    }
}
