//! Sharp-wave ripple detection of spyglass-rs: the detectors Spyglass's
//! `ripple_v1.RippleTimesV1` calls, from Eric Denovellis's `ripple_detection`
//! package (1.7), on plain slices with no database.
//!
//! - [`kay_ripple_detector`] (Kay et al. 2016): one consensus trace
//!   `sqrt(smooth(Σ envelope²))` over the channels, z-scored, thresholded.
//! - [`karlsson_ripple_detector`] (Karlsson & Frank 2009): each channel's
//!   smoothed envelope z-scored and thresholded on its own, the events of all
//!   channels merged where they overlap.
//! - [`multiunit_hse_detector`] (Davidson et al. 2009, in [`multiunit`]): the
//!   high-synchrony events of a spike indicator, Spyglass's `mua_v1` detector.
//!
//! Both take the times (s), the ripple-band LFP (`n_time × n_channels`,
//! time-major as numpy's array), the speed (cm/s) and the sampling rate, drop
//! the samples where any channel or the speed is NaN, and return one
//! [`RippleEvent`] per event with the columns of the package's DataFrame. The
//! steps are the package's helpers, one function each in [`core`] and [`stats`];
//! the arithmetic follows numpy's (pairwise sums, scipy's kernel order) so the
//! event boundaries are the package's samples.
//!
//! Inputs the package would accept but compute nonsense from (infinite LFP or
//! speed, non-increasing times) are refused with a [`RippleError`].

#![warn(missing_docs)]

pub mod core;
pub mod error;
pub mod multiunit;
pub mod stats;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use crate::core::Segment;
pub use crate::error::{Result, RippleError};
pub use crate::multiunit::{
    multiunit_hse_detector, multiunit_population_firing_rate, HseParams, Multiunit,
};
pub use crate::stats::RippleEvent;

/// `minimum_duration` the package's `_get_event_stats` uses when a detector
/// does not pass its own (the Karlsson detector does not).
pub const STATS_DEFAULT_MINIMUM_DURATION: f64 = 0.015;

/// The detectors of ripple_detection that Spyglass's RippleParameters can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Detector {
    /// `Kay_ripple_detector`.
    Kay,
    /// `Karlsson_ripple_detector`.
    Karlsson,
}

impl Detector {
    /// The detector named as in Spyglass's `ripple_detection_algorithm`
    /// (`"Kay_ripple_detector"`, `"Karlsson_ripple_detector"`).
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "Kay_ripple_detector" => Ok(Self::Kay),
            "Karlsson_ripple_detector" => Ok(Self::Karlsson),
            other => Err(RippleError::invalid(
                "ripple_detection_algorithm",
                format!("{other:?} (known: Kay_ripple_detector, Karlsson_ripple_detector)"),
            )),
        }
    }

    /// The package's function name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Kay => "Kay_ripple_detector",
            Self::Karlsson => "Karlsson_ripple_detector",
        }
    }

    /// Runs this detector.
    pub fn detect(
        self,
        time: &[f64],
        lfps: Lfps<'_>,
        speed: &[f64],
        sampling_frequency: f64,
        params: &DetectorParams,
    ) -> Result<Vec<RippleEvent>> {
        match self {
            Self::Kay => kay_ripple_detector(time, lfps, speed, sampling_frequency, params),
            Self::Karlsson => {
                karlsson_ripple_detector(time, lfps, speed, sampling_frequency, params)
            }
        }
    }
}

/// The detectors' keyword parameters (Spyglass's `ripple_detection_params`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DetectorParams {
    /// Events whose speed at start or end exceeds this are dropped (cm/s).
    pub speed_threshold: f64,
    /// Shortest run above the threshold (s).
    pub minimum_duration: f64,
    /// Threshold on the z-scored trace.
    pub zscore_threshold: f64,
    /// σ of the Gaussian smoothing (s).
    pub smoothing_sigma: f64,
    /// Events starting less than this after the previous one's end are dropped (s).
    pub close_ripple_threshold: f64,
}

impl DetectorParams {
    /// The package's defaults of `Kay_ripple_detector` (4 cm/s, 15 ms, z 2,
    /// 4 ms, 0 s), which are also Spyglass's `default` RippleParameters.
    pub fn kay() -> Self {
        Self {
            speed_threshold: 4.0,
            minimum_duration: 0.015,
            zscore_threshold: 2.0,
            smoothing_sigma: 0.004,
            close_ripple_threshold: 0.0,
        }
    }

    /// The package's defaults of `Karlsson_ripple_detector` (as Kay's, z 3).
    pub fn karlsson() -> Self {
        Self {
            zscore_threshold: 3.0,
            ..Self::kay()
        }
    }

    fn check(&self) -> Result<()> {
        check_params(
            &[
                ("speed_threshold", self.speed_threshold),
                ("minimum_duration", self.minimum_duration),
                ("zscore_threshold", self.zscore_threshold),
                ("close_ripple_threshold", self.close_ripple_threshold),
            ],
            self.smoothing_sigma,
            self.minimum_duration,
        )
    }
}

/// The detectors' shared parameter checks: every value of `finite` finite,
/// `smoothing_sigma` finite and > 0, `minimum_duration` >= 0.
pub(crate) fn check_params(
    finite: &[(&'static str, f64)],
    smoothing_sigma: f64,
    minimum_duration: f64,
) -> Result<()> {
    for &(what, v) in finite {
        if !v.is_finite() {
            return Err(RippleError::invalid(what, format!("{v} is not finite")));
        }
    }
    if !(smoothing_sigma.is_finite() && smoothing_sigma > 0.0) {
        return Err(RippleError::invalid(
            "smoothing_sigma",
            format!("{smoothing_sigma} must be finite and > 0"),
        ));
    }
    if minimum_duration < 0.0 {
        return Err(RippleError::invalid(
            "minimum_duration",
            format!("{minimum_duration} must be >= 0"),
        ));
    }
    Ok(())
}

/// Ripple-band LFP: `data[t * n_channels + c]` (numpy's `(n_time, n_channels)`).
#[derive(Debug, Clone, Copy)]
pub struct Lfps<'a> {
    /// The samples, time-major.
    pub data: &'a [f64],
    /// Number of channels (columns).
    pub n_channels: usize,
}

/// The detector inputs with the NaN rows dropped, channels as columns.
struct Clean {
    time: Vec<f64>,
    channels: Vec<Vec<f64>>,
    speed: Vec<f64>,
}

/// `_preprocess_detector_inputs`: shapes checked, rows where any channel or the
/// speed is NaN dropped, time checked to be in seconds.
fn preprocess(time: &[f64], lfps: Lfps<'_>, speed: &[f64], fs: f64) -> Result<Clean> {
    let nc = lfps.n_channels;
    if nc == 0 {
        return Err(RippleError::invalid("filtered_lfps", "no channels"));
    }
    if lfps.data.len() % nc != 0 {
        return Err(RippleError::invalid(
            "filtered_lfps",
            format!("{} values do not split into {nc} channels", lfps.data.len()),
        ));
    }
    let n = lfps.data.len() / nc;
    if time.len() != n || speed.len() != n {
        return Err(RippleError::invalid(
            "inputs",
            format!(
                "lengths differ: time {}, filtered_lfps {n}, speed {}",
                time.len(),
                speed.len()
            ),
        ));
    }
    if !(fs.is_finite() && fs > 0.0) {
        return Err(RippleError::invalid(
            "sampling_frequency",
            format!("{fs} must be finite and > 0"),
        ));
    }
    let mut clean = Clean {
        time: Vec::with_capacity(n),
        channels: vec![Vec::with_capacity(n); nc],
        speed: Vec::with_capacity(n),
    };
    for (t, (row, &v)) in lfps.data.chunks_exact(nc).zip(speed).enumerate() {
        if v.is_nan() || row.iter().any(|x| x.is_nan()) {
            continue;
        }
        if v.is_infinite() || row.iter().any(|x| x.is_infinite()) {
            return Err(RippleError::invalid(
                "inputs",
                format!("infinite LFP or speed at sample {t}"),
            ));
        }
        if !time[t].is_finite() {
            return Err(RippleError::invalid(
                "time",
                format!("sample {t} is {}", time[t]),
            ));
        }
        if clean.time.last().is_some_and(|&last| time[t] <= last) {
            return Err(RippleError::invalid(
                "time",
                format!("not strictly increasing at sample {t}"),
            ));
        }
        clean.time.push(time[t]);
        clean.speed.push(v);
        for (c, x) in row.iter().enumerate() {
            clean.channels[c].push(*x);
        }
    }
    if clean.time.is_empty() {
        return Err(RippleError::invalid(
            "inputs",
            "no sample with LFP and speed both present",
        ));
    }
    // `_validate_time_units`: a median step over 10 sampling intervals means samples, not s
    if clean.time.len() > 1 {
        let mut dt: Vec<f64> = clean.time.windows(2).map(|w| w[1] - w[0]).collect();
        dt.sort_unstable_by(f64::total_cmp);
        let m = dt.len();
        let median = if m % 2 == 1 {
            dt[m / 2]
        } else {
            (dt[m / 2 - 1] + dt[m / 2]) / 2.0
        };
        if median > 10.0 * (1.0 / fs) {
            return Err(RippleError::invalid(
                "time",
                format!(
                    "median step {median} s is over 10 sampling intervals at {fs} Hz: \
                     times must be in seconds"
                ),
            ));
        }
    }
    Ok(clean)
}

/// `Kay_ripple_detector(time, filtered_lfps, speed, sampling_frequency, **params)`.
pub fn kay_ripple_detector(
    time: &[f64],
    lfps: Lfps<'_>,
    speed: &[f64],
    sampling_frequency: f64,
    params: &DetectorParams,
) -> Result<Vec<RippleEvent>> {
    params.check()?;
    let clean = preprocess(time, lfps, speed, sampling_frequency)?;
    let consensus =
        kay_consensus_trace(&clean.channels, sampling_frequency, params.smoothing_sigma)?;
    let z = crate::core::zscore(&consensus);
    detect_on(
        &clean,
        &z,
        |time| {
            crate::core::threshold_by_zscore(
                &z,
                time,
                params.minimum_duration,
                params.zscore_threshold,
            )
        },
        params,
        params.minimum_duration,
    )
}

/// `get_Kay_ripple_consensus_trace`: `sqrt(gaussian_smooth(Σ_c envelope_c²))`
/// over channel-major columns (channels summed in column order).
pub fn kay_consensus_trace(
    channels: &[Vec<f64>],
    sampling_frequency: f64,
    smoothing_sigma: f64,
) -> Result<Vec<f64>> {
    let envelopes = crate::core::get_envelopes(channels)?;
    let n = channels.first().map_or(0, Vec::len);
    let mut power = vec![0.0f64; n];
    for env in &envelopes {
        for (p, e) in power.iter_mut().zip(env) {
            *p += e * e;
        }
    }
    let smooth = crate::core::gaussian_smooth(&power, smoothing_sigma, sampling_frequency)?;
    Ok(smooth.into_iter().map(f64::sqrt).collect())
}

/// `Karlsson_ripple_detector(time, filtered_lfps, speed, sampling_frequency, **params)`.
///
/// As the package does, the event statistics use the mean of the channels'
/// z-scores and `max_thresh` is taken over the package's default 15 ms
/// ([`STATS_DEFAULT_MINIMUM_DURATION`]), whatever `minimum_duration` is.
pub fn karlsson_ripple_detector(
    time: &[f64],
    lfps: Lfps<'_>,
    speed: &[f64],
    sampling_frequency: f64,
    params: &DetectorParams,
) -> Result<Vec<RippleEvent>> {
    params.check()?;
    let clean = preprocess(time, lfps, speed, sampling_frequency)?;
    let envelopes = crate::core::get_envelopes(&clean.channels)?;
    let smoothed = envelopes
        .into_par_iter()
        .map(|e| crate::core::gaussian_smooth(&e, params.smoothing_sigma, sampling_frequency))
        .collect::<Result<Vec<_>>>()?;
    let z = crate::core::zscore_columns(&smoothed);
    // filtered_lfps.mean(axis=1): channels summed in order from 0, divided by the count
    let n = clean.time.len();
    let nc = z.len() as f64;
    let mean_z: Vec<f64> = (0..n)
        .map(|t| z.iter().fold(0.0, |acc, col| acc + col[t]) / nc)
        .collect();
    detect_on(
        &clean,
        &mean_z,
        |time| {
            let mut all = Vec::new();
            for col in &z {
                all.extend(crate::core::threshold_by_zscore(
                    col,
                    time,
                    params.minimum_duration,
                    params.zscore_threshold,
                )?);
            }
            Ok(crate::core::merge_overlapping_ranges(all))
        },
        params,
        STATS_DEFAULT_MINIMUM_DURATION,
    )
}

/// The common tail: candidates, movement and close-event exclusion, statistics.
fn detect_on(
    clean: &Clean,
    zscore_metric: &[f64],
    candidates: impl FnOnce(&[f64]) -> Result<Vec<Segment>>,
    params: &DetectorParams,
    stats_minimum_duration: f64,
) -> Result<Vec<RippleEvent>> {
    let candidates = candidates(&clean.time)?;
    let kept = crate::core::exclude_movement(&candidates, &clean.speed, params.speed_threshold);
    let kept = crate::core::exclude_close_events(&kept, &clean.time, params.close_ripple_threshold);
    crate::stats::event_stats(
        &kept,
        &clean.time,
        zscore_metric,
        &clean.speed,
        stats_minimum_duration,
    )
}
