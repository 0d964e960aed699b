//! Per-event statistics as ripple_detection's `_get_event_stats` returns them:
//! one [`RippleEvent`] per row of its DataFrame, with the same columns, each
//! computed with numpy's arithmetic (pairwise sums for means and `trapezoid`,
//! the middle pair's mean for an even median).

use serde::{Deserialize, Serialize};
use spyglass_dsp::{numpy_mean, pairwise_sum};

use crate::core::Segment;
use crate::error::{Result, RippleError};

/// One detected event: the columns of ripple_detection's event table, in its order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RippleEvent {
    /// Time of the first sample of the event (s).
    pub start_time: f64,
    /// Time of the last sample of the event (s).
    pub end_time: f64,
    /// `end_time − start_time` (s).
    pub duration: f64,
    /// Highest level the z-score holds for `minimum_duration` around its peak.
    pub max_thresh: f64,
    /// Mean z-score over the event's samples.
    pub mean_zscore: f64,
    /// Median z-score.
    pub median_zscore: f64,
    /// Largest z-score.
    pub max_zscore: f64,
    /// Smallest z-score.
    pub min_zscore: f64,
    /// Trapezoidal integral of the z-score over time.
    pub area: f64,
    /// Trapezoidal integral of the squared z-score over time.
    pub total_energy: f64,
    /// Speed at the first sample (cm/s).
    pub speed_at_start: f64,
    /// Speed at the last sample (cm/s).
    pub speed_at_end: f64,
    /// Largest speed inside the event.
    pub max_speed: f64,
    /// Smallest speed inside the event.
    pub min_speed: f64,
    /// Median speed inside the event.
    pub median_speed: f64,
    /// Mean speed inside the event.
    pub mean_speed: f64,
}

/// `_get_event_stats(events, time, zscore_metric, speed, minimum_duration)`.
pub fn event_stats(
    events: &[Segment],
    time: &[f64],
    zscore_metric: &[f64],
    speed: &[f64],
    minimum_duration: f64,
) -> Result<Vec<RippleEvent>> {
    events
        .iter()
        .map(|&[s, e]| {
            let (t, z, v) = (&time[s..=e], &zscore_metric[s..=e], &speed[s..=e]);
            let sq: Vec<f64> = z.iter().map(|x| x * x).collect();
            Ok(RippleEvent {
                start_time: time[s],
                end_time: time[e],
                duration: time[e] - time[s],
                max_thresh: find_max_thresh(t, z, minimum_duration)?,
                mean_zscore: numpy_mean(z),
                median_zscore: median(z),
                max_zscore: max(z),
                min_zscore: min(z),
                area: trapezoid(z, t),
                total_energy: trapezoid(&sq, t),
                speed_at_start: speed[s],
                speed_at_end: speed[e],
                max_speed: max(v),
                min_speed: min(v),
                median_speed: median(v),
                mean_speed: numpy_mean(v),
            })
        })
        .collect()
}

/// `_find_max_thresh`: from the (first) peak, widen a window one sample at a
/// time towards the larger neighbour until it spans `minimum_duration`; the
/// smaller of its two edge values. Python's negative indices (the window
/// running past the left edge of a short event) are followed as Python
/// follows them; where Python would raise an IndexError this errors.
pub fn find_max_thresh(time: &[f64], data: &[f64], minimum_duration: f64) -> Result<f64> {
    let n = data.len() as isize;
    let at = |i: isize| -> Result<usize> {
        match i {
            0.. if i < n => Ok(i as usize),
            _ if i < 0 && i >= -n => Ok((n + i) as usize),
            _ => Err(RippleError::invalid(
                "minimum_duration",
                format!(
                    "an event of {} samples cannot hold {minimum_duration} s around its peak \
                     (ripple_detection raises IndexError here)",
                    data.len()
                ),
            )),
        }
    };
    if data.is_empty() {
        return Err(RippleError::invalid("event", "an event without samples"));
    }
    // np.argmax: first maximum
    let peak = data
        .iter()
        .enumerate()
        .fold(0, |best, (i, v)| if *v > data[best] { i } else { best }) as isize;
    let (mut left, mut right) = (peak, peak);
    while time[at(right)?] - time[at(left)?] < minimum_duration {
        if right < n - 1 && (left == 0 || data[at(right + 1)?] > data[at(left - 1)?]) {
            right += 1;
        } else {
            left -= 1;
        }
    }
    let (a, b) = (data[at(left)?], data[at(right)?]);
    // Python's min(a, b): a unless b < a
    Ok(if b < a { b } else { a })
}

/// `np.max`: NaN when any value is NaN.
fn max(x: &[f64]) -> f64 {
    if x.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    x.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// `np.min`: NaN when any value is NaN.
fn min(x: &[f64]) -> f64 {
    if x.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    x.iter().copied().fold(f64::INFINITY, f64::min)
}

/// `np.median`: the middle value, or the mean of the middle pair; NaN when any
/// value is NaN.
fn median(x: &[f64]) -> f64 {
    if x.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let mut v = x.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// `np.trapezoid(y, x)`: pairwise sum of `(dx · (y[i+1] + y[i])) / 2`.
fn trapezoid(y: &[f64], x: &[f64]) -> f64 {
    let terms: Vec<f64> = x
        .windows(2)
        .zip(y.windows(2))
        .map(|(x, y)| (x[1] - x[0]) * (y[1] + y[0]) / 2.0)
        .collect();
    pairwise_sum(&terms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_thresh_by_hand() {
        let t: Vec<f64> = (0..6).map(|i| i as f64).collect();
        // peak at 2; widen right (3 > 1: 4 > 1 ... ) until span >= 2
        let d = [0.0, 1.0, 5.0, 4.0, 3.0, 0.5];
        // [2,2] -> [2,3] (4 > 1) -> [2,4] (3 > 1): min(5, 3) = 3
        assert_eq!(find_max_thresh(&t, &d, 2.0).unwrap(), 3.0);
        // a window longer than the event wraps as Python's negative indices do,
        // then fails where Python raises
        assert!(find_max_thresh(&t[..2], &d[..2], 10.0).is_err());
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), 2.5);
        assert_eq!(trapezoid(&[1.0, 3.0], &[0.0, 2.0]), 4.0);
    }
}
