//! TrodesPosV1's computation (`IntervalPositionInfo.calculate_position_info`,
//! which `TrodesPosV1.make` calls), step by step, each step a public function:
//!
//! 1. drop samples with NaN time; rate = 1 / median(dt) ([`drop_nan_times`]);
//! 2. LEDs from the columns: front = columns 0–1, back = 2–3 when `led1_is_front`
//!    (swapped otherwise); one LED (2 columns) is used as both ([`RawLeds`]);
//! 3. scale to cm: × `conversion` × 100;
//! 4. LED separation gate ([`separation_gate`]) and 5. speed gate ([`speed_gate`]);
//! 6. linear interpolation of NaNs over the sample index;
//! 7. trailing moving mean ([`smooth_leds`]);
//! 8. optional upsampling ([`upsample`]);
//! 9. head position (LED centroid) and orientation ([`orientation`]);
//! 10. velocity and speed (Gaussian-smoothed gradient).
//!
//! Where Spyglass 0.6.0 fails, this works: a single-LED series with 2 columns
//! (Spyglass asks at the keyboard, then fails renaming 2 columns to 4 names).
//! Bad input (all points too separated, non-increasing time, a window of 0
//! samples, too few samples) is an error, never NaN output.

use spyglass_dsp::move_mean;

use crate::error::{PositionError, Result};
use crate::kinematics::{
    angle, centroid, distance, gaussian_smooth, get_speed, interp, interpolate_nan, per_column,
    sampling_rate, speed, unwrap, velocity, wrap_angle, Xy,
};

/// Centimetres per metre (Spyglass's `CM_TO_METERS`).
pub const CM_PER_METER: f64 = 100.0;

/// How upsampling fills the new time points (pandas `DataFrame.interpolate` methods).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsamplingMethod {
    /// pandas `"linear"`: ignores the time values and treats the rows of the
    /// merged (old ∪ new) time index as equally spaced — Spyglass's default.
    Linear,
    /// pandas `"index"` / `"values"`: linear in the time values.
    Index,
}

impl UpsamplingMethod {
    /// Parses the pandas method name stored in the parameters.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "linear" => Ok(Self::Linear),
            "index" | "values" => Ok(Self::Index),
            other => Err(PositionError::InvalidParameter {
                name: "upsampling_interpolation_method",
                reason: format!(
                    "{other:?} is not supported (supported: \"linear\", \"index\", \"values\")"
                ),
            }),
        }
    }

    /// The pandas name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Linear => "linear",
            Self::Index => "index",
        }
    }
}

/// TrodesPosParams' `params` blob, with Spyglass's `default` values from [`Default`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrodesPosParams {
    /// LEDs farther apart than this (cm) are discarded (`max_LED_separation`, 9.0).
    pub max_led_separation: f64,
    /// Samples where either LED moves faster (cm/s) are discarded (300.0).
    pub max_plausible_speed: f64,
    /// Moving-average window, seconds (0.125).
    pub position_smoothing_duration: f64,
    /// σ of the speed / velocity Gaussian, seconds (0.100).
    pub speed_smoothing_std_dev: f64,
    /// σ of the orientation Gaussian, seconds (0.001).
    pub orient_smoothing_std_dev: f64,
    /// LED 1 (columns 0–1) is the front LED (true).
    pub led1_is_front: bool,
    /// Upsample after smoothing (false).
    pub is_upsampled: bool,
    /// Target rate of the upsampling, Hz (None).
    pub upsampling_sampling_rate: Option<f64>,
    /// Interpolation of the upsampling ("linear").
    pub upsampling_interpolation_method: UpsamplingMethod,
}

impl Default for TrodesPosParams {
    fn default() -> Self {
        Self {
            max_led_separation: 9.0,
            max_plausible_speed: 300.0,
            position_smoothing_duration: 0.125,
            speed_smoothing_std_dev: 0.100,
            orient_smoothing_std_dev: 0.001,
            led1_is_front: true,
            is_upsampled: false,
            upsampling_sampling_rate: None,
            upsampling_interpolation_method: UpsamplingMethod::Linear,
        }
    }
}

/// The LED columns of a raw position SpatialSeries, in its units (before `conversion`).
#[derive(Debug, Clone, PartialEq)]
pub enum RawLeds {
    /// One LED (a 2-column series); it serves as both front and back.
    Single(Vec<Xy>),
    /// Two LEDs: columns 0–1 and 2–3.
    Pair {
        /// LED 1 (columns 0–1).
        led1: Vec<Xy>,
        /// LED 2 (columns 2–3).
        led2: Vec<Xy>,
    },
}

impl RawLeds {
    /// Builds the LEDs from a row-major `n × n_columns` array: 2 columns are one
    /// LED, 4 or more are two (the first four columns, as Spyglass takes them).
    pub fn from_rows(data: &[f64], n_columns: usize) -> Result<Self> {
        if n_columns == 0 || data.len() % n_columns != 0 {
            return Err(PositionError::InvalidParameter {
                name: "n_columns",
                reason: format!(
                    "{} values do not split into rows of {n_columns}",
                    data.len()
                ),
            });
        }
        let rows = data.chunks_exact(n_columns);
        match n_columns {
            2 => Ok(Self::Single(rows.map(|r| [r[0], r[1]]).collect())),
            c if c >= 4 => {
                let (led1, led2) = rows.map(|r| ([r[0], r[1]], [r[2], r[3]])).unzip();
                Ok(Self::Pair { led1, led2 })
            }
            c => Err(PositionError::UnsupportedColumns(c)),
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Single(p) => p.len(),
            Self::Pair { led1, .. } => led1.len(),
        }
    }

    /// (front, back) as Spyglass assigns them.
    pub fn front_back(&self, led1_is_front: bool) -> (Vec<Xy>, Vec<Xy>) {
        match self {
            Self::Single(p) => (p.clone(), p.clone()),
            Self::Pair { led1, led2 } if led1_is_front => (led1.clone(), led2.clone()),
            Self::Pair { led1, led2 } => (led2.clone(), led1.clone()),
        }
    }
}

/// What TrodesPosV1 stores: head position (cm), orientation (rad), velocity (cm/s) and speed.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionInfo {
    /// Timestamps (s); the upsampling grid when upsampled.
    pub time: Vec<f64>,
    /// Head position (cm).
    pub position: Vec<Xy>,
    /// Head orientation in (−π, π]; NaN for single-LED data with a zero LED.
    pub orientation: Vec<f64>,
    /// Velocity (cm/s).
    pub velocity: Vec<Xy>,
    /// Speed (cm/s).
    pub speed: Vec<f64>,
    /// The sampling rate the smoothing used (Hz).
    pub sampling_rate: f64,
}

/// Step 1: drops samples whose time is NaN; returns the kept time and LEDs.
pub fn drop_nan_times(time: &[f64], leds: &RawLeds) -> Result<(Vec<f64>, RawLeds)> {
    check_rows(time, leds)?;
    let keep: Vec<usize> = (0..time.len()).filter(|&i| !time[i].is_nan()).collect();
    let pick = |p: &[Xy]| keep.iter().map(|&i| p[i]).collect::<Vec<_>>();
    let leds = match leds {
        RawLeds::Single(p) => RawLeds::Single(pick(p)),
        RawLeds::Pair { led1, led2 } => RawLeds::Pair {
            led1: pick(led1),
            led2: pick(led2),
        },
    };
    Ok((keep.iter().map(|&i| time[i]).collect(), leds))
}

/// One LED row per timestamp.
fn check_rows(time: &[f64], leds: &RawLeds) -> Result<()> {
    if time.len() != leds.len() {
        return Err(PositionError::LengthMismatch {
            what: "timestamps and position rows",
            left: time.len(),
            right: leds.len(),
        });
    }
    Ok(())
}

/// Step 3: multiplies by `conversion × 100` (SpatialSeries units → cm).
pub fn scale_to_cm(points: &mut [Xy], conversion: f64) {
    let factor = conversion * CM_PER_METER;
    for p in points {
        p[0] *= factor;
        p[1] *= factor;
    }
}

fn set_nan(points: &mut [Xy], mask: &[bool]) {
    for (p, &m) in points.iter_mut().zip(mask) {
        if m {
            *p = [f64::NAN; 2];
        }
    }
}

/// Step 4: NaNs both LEDs where they are at least `max_separation` cm apart;
/// errors when that is every sample (or there are none).
pub fn separation_gate(front: &mut [Xy], back: &mut [Xy], max_separation: f64) -> Result<()> {
    let too_far: Vec<bool> = distance(back, front)
        .iter()
        .map(|&d| d >= max_separation)
        .collect();
    if too_far.iter().all(|&t| t) {
        return Err(PositionError::AllTooSeparated {
            n: too_far.len(),
            max_separation,
        });
    }
    set_nan(front, &too_far);
    set_nan(back, &too_far);
    Ok(())
}

/// Step 5: NaNs both LEDs where either LED's smoothed speed exceeds `max_speed`.
pub fn speed_gate(
    front: &mut [Xy],
    back: &mut [Xy],
    time: &[f64],
    max_speed: f64,
    speed_sigma: f64,
    rate: f64,
) -> Result<()> {
    let front_speed = get_speed(front, time, speed_sigma, rate)?;
    let back_speed = get_speed(back, time, speed_sigma, rate)?;
    let too_fast: Vec<bool> = front_speed
        .iter()
        .zip(&back_speed)
        .map(|(&f, &b)| f > max_speed || b > max_speed)
        .collect();
    set_nan(front, &too_fast);
    set_nan(back, &too_fast);
    Ok(())
}

/// Moving-average window Spyglass uses: `int(duration × rate)` samples.
pub fn moving_average_window(duration: f64, rate: f64) -> Result<usize> {
    let w = (duration * rate).trunc();
    if !(w.is_finite() && w >= 1.0) {
        return Err(PositionError::InvalidParameter {
            name: "position_smoothing_duration",
            reason: format!(
                "{duration} s at {rate} Hz gives a moving-average window of {w} samples (at least 1 needed)"
            ),
        });
    }
    Ok(w as usize)
}

/// Step 7: trailing moving mean of each column (`bottleneck.move_mean`, min_count 1).
pub fn smooth_leds(points: &[Xy], window: usize) -> Result<Vec<Xy>> {
    per_column(points, |c| Ok(move_mean(c, window, 1)?))
}

/// `np.linspace(start, stop, n)` (numpy's arithmetic: `i·step + start`, last = stop).
pub fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![start];
    }
    let step = (stop - start) / (n - 1) as f64;
    let mut v: Vec<f64> = (0..n)
        .map(|i| {
            if step == 0.0 {
                i as f64 / (n - 1) as f64 * (stop - start) + start
            } else {
                i as f64 * step + start
            }
        })
        .collect();
    if let Some(last) = v.last_mut() {
        *last = stop;
    }
    v
}

/// pandas `Series.interpolate(method)` with the default forward limit direction:
/// NaNs are filled by `np.interp` over `positions` (clamped at the end), and
/// NaNs before the first valid value stay NaN.
fn pandas_interpolate(values: &mut [f64], positions: &[f64]) -> Result<()> {
    let valid: Vec<usize> = (0..values.len()).filter(|&i| !values[i].is_nan()).collect();
    if valid.is_empty() || valid.len() == values.len() {
        return Ok(());
    }
    let xp: Vec<f64> = valid.iter().map(|&i| positions[i]).collect();
    let fp: Vec<f64> = valid.iter().map(|&i| values[i]).collect();
    let invalid: Vec<usize> = (0..values.len()).filter(|&i| values[i].is_nan()).collect();
    let at: Vec<f64> = invalid.iter().map(|&i| positions[i]).collect();
    let filled = interp(&at, &xp, &fp)?;
    for (&i, v) in invalid.iter().zip(filled) {
        values[i] = if i < valid[0] { f64::NAN } else { v };
    }
    Ok(())
}

/// Step 8: resamples both LEDs onto a regular grid of `ceil((t_end − t0)·rate) + 1`
/// points from t0 to t_end, interpolating on the union of old and new times and
/// keeping the grid (Spyglass's `_upsample`).
pub fn upsample(
    front: &[Xy],
    back: &[Xy],
    time: &[f64],
    rate: f64,
    method: UpsamplingMethod,
) -> Result<(Vec<Xy>, Vec<Xy>, Vec<f64>)> {
    if !(rate.is_finite() && rate > 0.0) {
        return Err(PositionError::InvalidParameter {
            name: "upsampling_sampling_rate",
            reason: format!("{rate} must be finite and > 0"),
        });
    }
    let (t0, t1) = (time[0], time[time.len() - 1]);
    let n_new = ((t1 - t0) * rate).ceil() + 1.0;
    if !(n_new.is_finite() && n_new <= 1e9) {
        return Err(PositionError::InvalidParameter {
            name: "upsampling_sampling_rate",
            reason: format!("{rate} Hz over {} s gives {n_new} samples", t1 - t0),
        });
    }
    let new_time = linspace(t0, t1, n_new as usize);
    let mut union: Vec<f64> = time.iter().chain(&new_time).copied().collect();
    union.sort_by(f64::total_cmp);
    union.dedup();
    let positions: Vec<f64> = match method {
        UpsamplingMethod::Linear => (0..union.len()).map(|i| i as f64).collect(),
        UpsamplingMethod::Index => union.clone(),
    };
    let old_at: Vec<usize> = time
        .iter()
        .map(|t| union.partition_point(|u| u < t))
        .collect();
    let new_at: Vec<usize> = new_time
        .iter()
        .map(|t| union.partition_point(|u| u < t))
        .collect();
    let resample = |points: &[Xy]| -> Result<Vec<Xy>> {
        per_column(points, |c| {
            let mut col = vec![f64::NAN; union.len()];
            for (&k, &v) in old_at.iter().zip(c) {
                col[k] = v;
            }
            pandas_interpolate(&mut col, &positions)?;
            Ok(new_at.iter().map(|&k| col[k]).collect())
        })
    };
    Ok((resample(front)?, resample(back)?, new_time))
}

/// Step 9b: orientation from back to front LED, unwrapped, Gaussian-smoothed
/// (σ = `sigma · rate` samples, zero-padded, over the non-NaN samples only) and
/// wrapped back to (−π, π]; all NaN if either LED is entirely zero.
pub fn orientation(front: &[Xy], back: &[Xy], sigma: f64, rate: f64) -> Result<Vec<f64>> {
    let mut theta = angle(back, front);
    let good: Vec<usize> = (0..theta.len()).filter(|&i| !theta[i].is_nan()).collect();
    let compact: Vec<f64> = good.iter().map(|&i| theta[i]).collect();
    let smoothed = gaussian_smooth(&unwrap(&compact), sigma, rate)?;
    for (&i, v) in good.iter().zip(smoothed) {
        theta[i] = wrap_angle(v);
    }
    let all_zero = |p: &[Xy]| p.iter().flatten().all(|&v| v == 0.0);
    if all_zero(front) || all_zero(back) {
        theta.fill(f64::NAN);
    }
    Ok(theta)
}

fn check_positive(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(PositionError::InvalidParameter {
            name,
            reason: format!("{v} must be finite and > 0"),
        })
    }
}

/// The whole TrodesPosV1 computation on one raw position series: `time` (s),
/// the LEDs in SpatialSeries units, and the series' `conversion` (to metres).
pub fn calculate_position_info(
    time: &[f64],
    leds: &RawLeds,
    conversion: f64,
    params: &TrodesPosParams,
) -> Result<PositionInfo> {
    check_positive("speed_smoothing_std_dev", params.speed_smoothing_std_dev)?;
    check_positive("orient_smoothing_std_dev", params.orient_smoothing_std_dev)?;
    check_positive("conversion", conversion)?;
    // step 1 copies the samples only when a time is NaN
    let dropped;
    let (time, leds) = if time.iter().any(|t| t.is_nan()) {
        dropped = drop_nan_times(time, leds)?;
        (dropped.0.as_slice(), &dropped.1)
    } else {
        check_rows(time, leds)?;
        (time, leds)
    };
    crate::kinematics::check_time(time)?;
    let mut rate = sampling_rate(time)?;
    let (mut front, mut back) = leds.front_back(params.led1_is_front);
    scale_to_cm(&mut front, conversion);
    scale_to_cm(&mut back, conversion);
    separation_gate(&mut front, &mut back, params.max_led_separation)?;
    let sigma = params.speed_smoothing_std_dev;
    speed_gate(
        &mut front,
        &mut back,
        time,
        params.max_plausible_speed,
        sigma,
        rate,
    )?;
    let window = moving_average_window(params.position_smoothing_duration, rate)?;
    let mut front = smooth_leds(&interpolate_nan(&front)?, window)?;
    let mut back = smooth_leds(&interpolate_nan(&back)?, window)?;
    let mut time = time.to_vec();
    if params.is_upsampled {
        let up_rate = params
            .upsampling_sampling_rate
            .ok_or(PositionError::InvalidParameter {
                name: "upsampling_sampling_rate",
                reason: "is_upsampled is set but no upsampling_sampling_rate is given".into(),
            })?;
        (front, back, time) = upsample(
            &front,
            &back,
            &time,
            up_rate,
            params.upsampling_interpolation_method,
        )?;
        rate = up_rate;
    }
    let position = centroid(&back, &front);
    let orientation = orientation(&front, &back, params.orient_smoothing_std_dev, rate)?;
    let velocity = velocity(&position, &time, sigma, rate)?;
    let speed = speed(&velocity);
    Ok(PositionInfo {
        time,
        position,
        orientation,
        velocity,
        speed,
        sampling_rate: rate,
    })
}
