//! ripple_detection's multiunit high-synchrony-event detector (Davidson et al.
//! 2009), as Spyglass's `mua_v1.MuaEventsV1` calls it:
//! [`multiunit_hse_detector`] on a spike indicator (`n_time × n_units`, counts
//! per time bin), and the population rate it thresholds,
//! [`multiunit_population_firing_rate`] (the package's
//! `get_multiunit_population_firing_rate`, also what Spyglass's
//! `firing_rate_from_spike_indicator` smooths each unit with).
//!
//! Unlike the ripple detectors the package's function drops no samples and checks
//! no units: the rate is smoothed over every sample, z-scored, thresholded and
//! extended to the mean with the same helpers (one function each in
//! [`crate::core`]), events whose speed at start or end exceeds the threshold (or
//! is NaN) dropped, close events dropped, and the statistics of
//! [`crate::stats::event_stats`] taken over the package's default 15 ms (the
//! detector passes no `minimum_duration` to them).

use serde::{Deserialize, Serialize};
use spyglass_dsp::pairwise_sum;

use crate::error::{Result, RippleError};
use crate::stats::RippleEvent;

/// The keyword parameters of `multiunit_HSE_detector` (Spyglass's
/// `mua_param_dict`); the normalization options other than the default z-score
/// over all samples are not offered.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HseParams {
    /// Events whose speed at start or end exceeds this are dropped (cm/s).
    pub speed_threshold: f64,
    /// Shortest run above the threshold (s).
    pub minimum_duration: f64,
    /// Threshold on the z-scored population rate.
    pub zscore_threshold: f64,
    /// σ of the Gaussian smoothing of the rate (s).
    pub smoothing_sigma: f64,
    /// Events starting less than this after the previous one's end are dropped (s).
    pub close_event_threshold: f64,
}

impl Default for HseParams {
    /// The package's keyword defaults (4 cm/s, 15 ms, z 2, 15 ms, 0 s); Spyglass's
    /// `default` MuaEventsParameters name the same values but the smoothing.
    fn default() -> Self {
        Self {
            speed_threshold: 4.0,
            minimum_duration: 0.015,
            zscore_threshold: 2.0,
            smoothing_sigma: 0.015,
            close_event_threshold: 0.0,
        }
    }
}

impl HseParams {
    fn check(&self) -> Result<()> {
        crate::check_params(
            &[
                ("speed_threshold", self.speed_threshold),
                ("minimum_duration", self.minimum_duration),
                ("zscore_threshold", self.zscore_threshold),
                ("close_event_threshold", self.close_event_threshold),
            ],
            self.smoothing_sigma,
            self.minimum_duration,
        )
    }
}

/// A spike indicator: `data[t * n_units + u]` (numpy's `(n_time, n_units)`).
#[derive(Debug, Clone, Copy)]
pub struct Multiunit<'a> {
    /// Counts per time bin and unit, time-major.
    pub data: &'a [f64],
    /// Number of units (columns).
    pub n_units: usize,
}

impl Multiunit<'_> {
    /// Number of time bins; an error when the values do not split into the units.
    pub fn n_time(&self) -> Result<usize> {
        if self.n_units == 0 {
            return Err(RippleError::invalid("multiunit", "no units (columns)"));
        }
        if self.data.len() % self.n_units != 0 {
            return Err(RippleError::invalid(
                "multiunit",
                format!(
                    "{} values do not split into {} units",
                    self.data.len(),
                    self.n_units
                ),
            ));
        }
        Ok(self.data.len() / self.n_units)
    }
}

/// `get_multiunit_population_firing_rate(multiunit, sampling_frequency,
/// smoothing_sigma)`: `gaussian_smooth(multiunit.sum(axis=1) · fs, σ, fs)` —
/// spikes/s of the whole population, smoothed (σ in s, truncated at 8 σ, zeros
/// beyond the ends).
pub fn multiunit_population_firing_rate(
    multiunit: Multiunit<'_>,
    sampling_frequency: f64,
    smoothing_sigma: f64,
) -> Result<Vec<f64>> {
    multiunit.n_time()?;
    if !(sampling_frequency.is_finite() && sampling_frequency > 0.0) {
        return Err(RippleError::invalid(
            "sampling_frequency",
            format!("{sampling_frequency} must be finite and > 0"),
        ));
    }
    if !(smoothing_sigma.is_finite() && smoothing_sigma > 0.0) {
        return Err(RippleError::invalid(
            "smoothing_sigma",
            format!("{smoothing_sigma} must be finite and > 0"),
        ));
    }
    let rate: Vec<f64> = multiunit
        .data
        .chunks_exact(multiunit.n_units)
        .map(|row| pairwise_sum(row) * sampling_frequency)
        .collect();
    crate::core::gaussian_smooth(&rate, smoothing_sigma, sampling_frequency)
}

/// `multiunit_HSE_detector(time, multiunit, speed, sampling_frequency,
/// **params)` with the default normalization (z-score over all samples).
///
/// Refuses what the package would compute nonsense from: lengths that differ,
/// times that are not finite and strictly increasing, infinite counts or speeds.
/// A NaN speed is the package's: an event starting or ending there is dropped,
/// one holding it inside has NaN speed statistics.
pub fn multiunit_hse_detector(
    time: &[f64],
    multiunit: Multiunit<'_>,
    speed: &[f64],
    sampling_frequency: f64,
    params: &HseParams,
) -> Result<Vec<RippleEvent>> {
    params.check()?;
    let n = multiunit.n_time()?;
    if time.len() != n || speed.len() != n {
        return Err(RippleError::invalid(
            "inputs",
            format!(
                "lengths differ: time {}, multiunit {n}, speed {}",
                time.len(),
                speed.len()
            ),
        ));
    }
    if let Some(k) = time.iter().position(|t| !t.is_finite()) {
        return Err(RippleError::invalid(
            "time",
            format!("sample {k} is {}", time[k]),
        ));
    }
    if let Some(k) = time.windows(2).position(|w| w[1] <= w[0]) {
        return Err(RippleError::invalid(
            "time",
            format!("not strictly increasing at sample {}", k + 1),
        ));
    }
    if let Some(k) = multiunit.data.iter().position(|v| !v.is_finite()) {
        return Err(RippleError::invalid(
            "multiunit",
            format!(
                "value {} at sample {} is not finite",
                multiunit.data[k],
                k / multiunit.n_units
            ),
        ));
    }
    if let Some(k) = speed.iter().position(|v| v.is_infinite()) {
        return Err(RippleError::invalid(
            "speed",
            format!("sample {k} is {}", speed[k]),
        ));
    }
    let rate =
        multiunit_population_firing_rate(multiunit, sampling_frequency, params.smoothing_sigma)?;
    let z = crate::core::zscore(&rate);
    let candidates = crate::core::threshold_by_zscore(
        &z,
        time,
        params.minimum_duration,
        params.zscore_threshold,
    )?;
    let kept = crate::core::exclude_movement(&candidates, speed, params.speed_threshold);
    let kept = crate::core::exclude_close_events(&kept, time, params.close_event_threshold);
    crate::stats::event_stats(
        &kept,
        time,
        &z,
        speed,
        crate::STATS_DEFAULT_MINIMUM_DURATION,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_is_the_summed_counts_per_second_smoothed() {
        // one spike of each of two units in bin 10 of 20 at 100 Hz: 200 spikes/s
        // there, spread by a Gaussian of σ 1 sample (8 samples each side, all
        // inside the trace) that sums to 200
        let mut data = vec![0.0; 40];
        data[20] = 1.0;
        data[21] = 1.0;
        let mu = Multiunit {
            data: &data,
            n_units: 2,
        };
        let rate = multiunit_population_firing_rate(mu, 100.0, 0.01).unwrap();
        assert_eq!(rate.len(), 20);
        let total: f64 = rate.iter().sum();
        assert!((total - 200.0).abs() < 1e-9, "{total}");
        assert!(rate[10] > rate[9] && rate[9] > rate[8] && rate[1] == 0.0);
        assert!((rate[9] - rate[11]).abs() < 1e-12);
        assert!(multiunit_population_firing_rate(
            Multiunit {
                data: &data,
                n_units: 3
            },
            100.0,
            0.01
        )
        .is_err());
    }

    #[test]
    fn bad_inputs_are_refused() {
        let data = [0.0; 4];
        let mu = Multiunit {
            data: &data,
            n_units: 1,
        };
        let p = HseParams::default();
        let t = [0.0, 0.1, 0.1, 0.3];
        assert!(multiunit_hse_detector(&t, mu, &[0.0; 4], 10.0, &p).is_err());
        assert!(multiunit_hse_detector(&[0.0, 0.1, 0.2], mu, &[0.0; 3], 10.0, &p).is_err());
        let t = [0.0, 0.1, 0.2, 0.3];
        // no spikes at all: a constant rate, NaN z-scores, no events (as the package)
        assert!(multiunit_hse_detector(&t, mu, &[0.0; 4], 10.0, &p)
            .unwrap()
            .is_empty());
    }
}
