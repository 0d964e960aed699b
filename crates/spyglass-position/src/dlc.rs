//! DeepLabCut post-processing as Spyglass's DLC v1 pipeline computes it
//! (`position_dlc_position.py`, `position_dlc_centroid.py`,
//! `position_dlc_orient.py`, `dlc_utils.py`), on one body part's arrays (cm, s).
//!
//! - DLCSmoothInterp ([`smooth_interp`]): NaN samples below the likelihood
//!   threshold, then "jumps" farther than `max_cm_between_pts` from the last good
//!   sample within each good span ([`nan_inds`]); interpolate NaN gaps whose end
//!   points are at most `max_cm_to_interp` apart ([`interp_pos`]); trailing
//!   moving mean over `round(smoothing_duration · rate)` samples.
//! - DLCCentroid ([`centroid_position`]): one, two or four points
//!   ([`CentroidMethod`]), with the same gap interpolation and smoothing, then
//!   velocity and speed as `position_tools` computes them.
//! - DLCOrientation ([`orientation`]): [`OrientationMethod`], unwrap,
//!   interpolation of interior NaN gaps, Gaussian smoothing, wrap.
//!
//! Deliberate differences from Spyglass 0.6.0, where it gives wrong numbers
//! silently: a centroid sample that none of Spyglass's rules covers (e.g. both
//! points present but farther apart than `max_LED_separation`) is NaN here,
//! where Spyglass leaves the (0, 0) its array was initialised with; and NaN
//! runs at the ends of the data are left NaN by position, where Spyglass's
//! label-based slicing could hit unrelated rows when timestamps are small numbers.

use spyglass_dsp::move_mean;

use crate::error::{PositionError, Result};
use crate::kinematics::{
    distance, gaussian_smooth, interp, span_start_stop, speed, unwrap, velocity, wrap_angle, Xy,
};

/// One body part's pose: DLC output converted to cm, with timestamps.
#[derive(Debug, Clone, PartialEq)]
pub struct BodyPartPose {
    /// Timestamps (s), strictly increasing.
    pub time: Vec<f64>,
    /// x (cm).
    pub x: Vec<f64>,
    /// y (cm).
    pub y: Vec<f64>,
    /// DLC likelihood in [0, 1].
    pub likelihood: Vec<f64>,
}

impl BodyPartPose {
    /// One body part of a DLC table as DLCPoseEstimation stores it: x and y
    /// scaled to cm (`× meters_per_pixel × 100`, Spyglass's `convert_to_cm`), and
    /// row `i` timed by `video_time[i]` for the rows from the first video frame
    /// at or after `first_position_time` on (Spyglass's `add_timestamps`; rows
    /// without a video time are dropped). Returns the pose and each kept row's
    /// video frame index.
    pub fn from_dlc(
        part: &crate::dlc_io::DlcBodyPart,
        meters_per_pixel: f64,
        first_position_time: f64,
        video_time: &[f64],
    ) -> Result<(Self, Vec<usize>)> {
        if !(meters_per_pixel.is_finite() && meters_per_pixel > 0.0) {
            return Err(PositionError::InvalidParameter {
                name: "meters_per_pixel",
                reason: format!("{meters_per_pixel} must be finite and > 0"),
            });
        }
        let first = video_time.partition_point(|&t| t < first_position_time);
        let rows: Vec<usize> = (first..video_time.len().min(part.x.len())).collect();
        let factor = meters_per_pixel * crate::trodes::CM_PER_METER;
        let pose = Self {
            time: rows.iter().map(|&i| video_time[i]).collect(),
            x: rows.iter().map(|&i| part.x[i] * factor).collect(),
            y: rows.iter().map(|&i| part.y[i] * factor).collect(),
            likelihood: rows.iter().map(|&i| part.likelihood[i]).collect(),
        };
        Ok((pose, rows))
    }
}

/// DLCSmoothInterpParams' `params`; [`Default`] is Spyglass's `default` set.
#[derive(Debug, Clone, PartialEq)]
pub struct SmoothInterpParams {
    /// Samples with a lower likelihood are NaN'd (0.95).
    pub likelihood_thresh: f64,
    /// A sample farther (per axis, cm) than this from the last good one is a jump (20).
    pub max_cm_between_pts: f64,
    /// Good spans separated by at most this many samples are merged (20).
    pub num_inds_to_span: usize,
    /// Interpolate NaN gaps (true).
    pub interpolate: bool,
    /// Gaps whose end points are farther apart (cm) stay NaN (15; ∞ when unset).
    pub max_cm_to_interp: f64,
    /// `max_pts_to_interp` of `interp_params` (∞ when unset). As in Spyglass, a
    /// longer gap is still interpolated unless `max_cm_to_interp` also rejects it.
    pub max_pts_to_interp: f64,
    /// Smooth with a trailing moving mean (true).
    pub smooth: bool,
    /// Moving-mean duration, s (0.05).
    pub smoothing_duration: f64,
}

impl Default for SmoothInterpParams {
    fn default() -> Self {
        Self {
            likelihood_thresh: 0.95,
            max_cm_between_pts: 20.0,
            num_inds_to_span: 20,
            interpolate: true,
            max_cm_to_interp: 15.0,
            max_pts_to_interp: f64::INFINITY,
            smooth: true,
            smoothing_duration: 0.05,
        }
    }
}

impl SmoothInterpParams {
    /// Spyglass's `just_nan` set: threshold and jump removal only.
    pub fn just_nan() -> Self {
        Self {
            interpolate: false,
            smooth: false,
            ..Self::default()
        }
    }
}

/// Indices whose likelihood is below the threshold or whose x is NaN, sorted
/// (Spyglass's `get_subthresh_inds`).
pub fn subthresh_inds(likelihood: &[f64], x: &[f64], thresh: f64) -> Vec<usize> {
    (0..x.len())
        .filter(|&i| likelihood[i] < thresh || x[i].is_nan())
        .collect()
}

/// Spans of good (not `bad`) samples, neighbours at most `inds_to_span` apart
/// merged, exactly as Spyglass's `get_good_spans` builds its modified spans.
pub fn good_spans(bad: &[bool], inds_to_span: usize) -> Vec<(usize, usize)> {
    let good_idx: Vec<usize> = (0..bad.len()).filter(|&i| !bad[i]).collect();
    let good = span_start_stop(&good_idx);
    if good.len() <= 1 {
        return good;
    }
    let span = inds_to_span as i64;
    let mut modified: Vec<(usize, usize)> = Vec::new();
    for w in good.windows(2) {
        let ((start1, stop1), (start2, stop2)) = (w[0], w[1]);
        let existing = modified.iter().position(|&(a, b)| {
            let s = start1 as i64;
            a as i64 - span <= s && s < b as i64 + span
        });
        let close = (start2 - stop1) as i64 <= span;
        if let Some(k) = existing {
            let first = modified[k].0;
            if close {
                modified[k] = (first, stop2);
            } else {
                modified[k] = (first, stop1);
                modified.push((start2, stop2));
            }
            continue;
        }
        if close {
            modified.push((start1, stop2));
        } else {
            modified.push((start1, stop1));
            modified.push((start2, stop2));
        }
    }
    modified
}

/// Python's `int(v)` on a float (truncation), refusing NaN and infinities as Python does.
fn py_int(v: f64) -> Result<f64> {
    if v.is_finite() {
        Ok(v.trunc())
    } else {
        Err(PositionError::NonFinite(format!(
            "jump detection: cannot convert {v} to an integer (a reference point has a NaN or infinite coordinate)"
        )))
    }
}

/// Whether (x, y) lies outside the box of ±`max_dist` around (gx, gy), with
/// Spyglass's integer-truncated bounds.
fn is_jump(x: f64, y: f64, gx: f64, gy: f64, max_dist: f64) -> Result<bool> {
    let (y_lo, y_hi) = (py_int(gy - max_dist)?, py_int(gy + max_dist)?);
    let (x_lo, x_hi) = (py_int(gx - max_dist)?, py_int(gx + max_dist)?);
    Ok(y < y_lo || y > y_hi || x < x_lo || x > x_hi)
}

/// Spyglass's `nan_inds`: NaNs low-likelihood samples and jumps in `x`/`y`
/// (in place); returns the mask of samples set to NaN.
pub fn nan_inds(
    x: &mut [f64],
    y: &mut [f64],
    likelihood: &[f64],
    max_dist_between: f64,
    likelihood_thresh: f64,
    inds_to_span: usize,
) -> Result<Vec<bool>> {
    let n = x.len();
    let sub = subthresh_inds(likelihood, x, likelihood_thresh);
    let mut sub_mask = vec![false; n];
    for &i in &sub {
        x[i] = f64::NAN;
        y[i] = f64::NAN;
        sub_mask[i] = true;
    }
    let spans = good_spans(&sub_mask, inds_to_span);
    if spans.is_empty() {
        return Err(PositionError::NoGoodSpans);
    }
    let mut jump = vec![false; n];
    let mut bad = sub_mask.clone();
    for &(s0, s1) in spans.iter().rev() {
        let start = if (s0..s1).any(|i| x[i].is_nan()) {
            let good_start: Vec<usize> = (s0..s1).filter(|&i| !x[i].is_nan()).collect();
            if good_start.is_empty() {
                return Err(PositionError::NoGoodSpans);
            }
            good_start[good_start.len() / 2]
        } else {
            s0 + (s1 - s0) / 2
        };
        let usable =
            |k: usize, x: &[f64], jump: &[bool]| !x[k].is_nan() && !jump[k] && !sub_mask[k];
        for ind in (s0 + 1..=start).rev() {
            if sub_mask[ind] {
                continue;
            }
            let last_good = (ind + 1..start)
                .find(|&k| usable(k, x, &jump))
                .unwrap_or(start);
            if is_jump(x[ind], y[ind], x[last_good], y[last_good], max_dist_between)? {
                jump[ind] = true;
            }
        }
        for ind in start..s1 {
            if sub_mask[ind] {
                continue;
            }
            let last_good = (start..ind)
                .rev()
                .find(|&k| usable(k, x, &jump))
                .unwrap_or(start);
            if is_jump(x[ind], y[ind], x[last_good], y[last_good], max_dist_between)? {
                jump[ind] = true;
            }
        }
        for i in 0..n {
            bad[i] = jump[i] || sub_mask[i];
            if bad[i] {
                x[i] = f64::NAN;
                y[i] = f64::NAN;
            }
        }
    }
    Ok(bad)
}

/// Spans (start, stop inclusive) of samples where x or y is NaN.
pub fn nan_spans(x: &[f64], y: &[f64]) -> Vec<(usize, usize)> {
    let idx: Vec<usize> = (0..x.len())
        .filter(|&i| x[i].is_nan() || y[i].is_nan())
        .collect();
    span_start_stop(&idx)
}

/// Spyglass's `interp_pos`: fills each NaN span linearly from the sample before
/// to the sample after it (over the span's own first-to-last time, so the first
/// NaN sample takes the value before and the last the value after); spans at the
/// ends, or whose neighbours are more than `max_cm_to_interp` apart, stay NaN.
pub fn interp_pos(
    time: &[f64],
    x: &mut [f64],
    y: &mut [f64],
    spans: &[(usize, usize)],
    max_pts_to_interp: f64,
    max_cm_to_interp: f64,
) -> Result<()> {
    let n = x.len();
    for &(s0, s1) in spans {
        if s1 + 1 >= n || s0 < 1 {
            for i in s0..=s1.min(n - 1) {
                x[i] = f64::NAN;
                y[i] = f64::NAN;
            }
            continue;
        }
        let (x0, x1, y0, y1) = (x[s0 - 1], x[s1 + 1], y[s0 - 1], y[s1 + 1]);
        let (dx, dy) = (x0 - x1, y0 - y1);
        let change = (dx * dx + dy * dy).sqrt();
        let span_len = (s1 - s0 + 1) as f64;
        if span_len > max_pts_to_interp || change > max_cm_to_interp {
            for i in s0..=s1 {
                x[i] = f64::NAN;
                y[i] = f64::NAN;
            }
            if change > max_cm_to_interp {
                continue;
            }
        }
        let t = &time[s0..=s1];
        let xp = [time[s0], time[s1]];
        let xs = interp(t, &xp, &[x0, x1])?;
        let ys = interp(t, &xp, &[y0, y1])?;
        x[s0..=s1].copy_from_slice(&xs);
        y[s0..=s1].copy_from_slice(&ys);
    }
    Ok(())
}

/// Sampling rate as the DLC tables take it: `1 / median(diff(time))`.
pub fn dlc_sampling_rate(time: &[f64]) -> Result<f64> {
    crate::kinematics::check_time(time)?;
    crate::kinematics::sampling_rate(time)
}

/// Spyglass's `smooth_moving_avg`: trailing moving mean (min_count 1) over
/// `round(duration · rate)` samples (round half to even, as numpy).
pub fn smooth_moving_avg(x: &mut [f64], y: &mut [f64], duration: f64, rate: f64) -> Result<()> {
    let w = (duration * rate).round_ties_even();
    if !(w.is_finite() && w >= 1.0) {
        return Err(PositionError::InvalidParameter {
            name: "smoothing_duration",
            reason: format!(
                "{duration} s at {rate} Hz gives a window of {w} samples (at least 1 needed)"
            ),
        });
    }
    let xs = move_mean(x, w as usize, 1)?;
    let ys = move_mean(y, w as usize, 1)?;
    x.copy_from_slice(&xs);
    y.copy_from_slice(&ys);
    Ok(())
}

fn check_lengths(pose: &BodyPartPose) -> Result<()> {
    let n = pose.time.len();
    for (what, len) in [
        ("time and x", pose.x.len()),
        ("time and y", pose.y.len()),
        ("time and likelihood", pose.likelihood.len()),
    ] {
        if len != n {
            return Err(PositionError::LengthMismatch {
                what,
                left: n,
                right: len,
            });
        }
    }
    Ok(())
}

/// DLCSmoothInterp's computation on one body part: its smoothed, interpolated x/y (cm).
pub fn smooth_interp(pose: &BodyPartPose, params: &SmoothInterpParams) -> Result<Vec<Xy>> {
    check_lengths(pose)?;
    let rate = dlc_sampling_rate(&pose.time)?;
    let (mut x, mut y) = (pose.x.clone(), pose.y.clone());
    nan_inds(
        &mut x,
        &mut y,
        &pose.likelihood,
        params.max_cm_between_pts,
        params.likelihood_thresh,
        params.num_inds_to_span,
    )?;
    if params.interpolate {
        let spans = nan_spans(&x, &y);
        interp_pos(
            &pose.time,
            &mut x,
            &mut y,
            &spans,
            params.max_pts_to_interp,
            params.max_cm_to_interp,
        )?;
    }
    if params.smooth {
        smooth_moving_avg(&mut x, &mut y, params.smoothing_duration, rate)?;
    }
    Ok(x.into_iter().zip(y).map(|(a, b)| [a, b]).collect())
}

/// Which body parts make the centroid (Spyglass's `centroid_method` and `points`).
#[derive(Debug, Clone, PartialEq)]
pub enum CentroidMethod {
    /// `one_pt_centroid`: the point itself.
    OnePt {
        /// `point1`.
        point1: String,
    },
    /// `two_pt_centroid`: the mean of two points, or the one that is present.
    TwoPt {
        /// `point1`.
        point1: String,
        /// `point2`.
        point2: String,
    },
    /// `four_led_centroid`: green LED with the red centre / left / right LEDs.
    FourLed {
        /// `greenLED`.
        green: String,
        /// `redLED_L`.
        red_left: String,
        /// `redLED_C`.
        red_center: String,
        /// `redLED_R`.
        red_right: String,
    },
}

impl CentroidMethod {
    /// Spyglass's name of the method.
    pub fn name(&self) -> &'static str {
        match self {
            Self::OnePt { .. } => "one_pt_centroid",
            Self::TwoPt { .. } => "two_pt_centroid",
            Self::FourLed { .. } => "four_led_centroid",
        }
    }

    /// The body parts the method reads, in Spyglass's order.
    pub fn body_parts(&self) -> Vec<&str> {
        match self {
            Self::OnePt { point1 } => vec![point1],
            Self::TwoPt { point1, point2 } => vec![point1, point2],
            Self::FourLed {
                green,
                red_left,
                red_center,
                red_right,
            } => {
                vec![green, red_left, red_center, red_right]
            }
        }
    }
}

/// DLCCentroidParams' `params`; [`Default`] is Spyglass's `default` set.
#[derive(Debug, Clone, PartialEq)]
pub struct CentroidParams {
    /// Method and points (two_pt_centroid of greenLED and redLED_C).
    pub method: CentroidMethod,
    /// Points at least this far apart (cm) are not averaged (12).
    pub max_led_separation: f64,
    /// Interpolate NaN gaps of the centroid (true).
    pub interpolate: bool,
    /// Gap limit of the interpolation, cm (15).
    pub max_cm_to_interp: f64,
    /// Point-count limit of the interpolation (∞ when unset; see [`SmoothInterpParams`]).
    pub max_pts_to_interp: f64,
    /// Smooth with a trailing moving mean (true).
    pub smooth: bool,
    /// Moving-mean duration, s (0.05).
    pub smoothing_duration: f64,
    /// σ of the velocity Gaussian, s (0.100).
    pub speed_smoothing_std_dev: f64,
}

impl Default for CentroidParams {
    fn default() -> Self {
        Self {
            method: CentroidMethod::TwoPt {
                point1: "greenLED".into(),
                point2: "redLED_C".into(),
            },
            max_led_separation: 12.0,
            interpolate: true,
            max_cm_to_interp: 15.0,
            max_pts_to_interp: f64::INFINITY,
            smooth: true,
            smoothing_duration: 0.05,
            speed_smoothing_std_dev: 0.100,
        }
    }
}

fn is_nan_point(p: &Xy) -> bool {
    p[0].is_nan() || p[1].is_nan()
}

/// Spyglass's `Centroid` rules on point arrays; rows no rule covers are NaN (see the module doc).
struct CentroidBuilder<'a> {
    max_sep: f64,
    out: Vec<Xy>,
    n: usize,
    pts: Vec<&'a [Xy]>,
}

impl<'a> CentroidBuilder<'a> {
    fn nan(&self, p: usize, i: usize) -> bool {
        is_nan_point(&self.pts[p][i])
    }

    fn too_sep(&self, a: usize, b: usize, i: usize) -> bool {
        distance(&self.pts[a][i..=i], &self.pts[b][i..=i])[0] >= self.max_sep
    }

    /// `calc_centroid`: where `mask` holds and every pair of `points` is close
    /// enough, the mean of `points` (the first two averaged first when there are three).
    fn calc(&mut self, points: &[usize], mask: impl Fn(&Self, usize) -> bool) {
        for i in 0..self.n {
            if !mask(self, i) {
                continue;
            }
            let mut close = true;
            for a in 0..points.len() {
                for b in a + 1..points.len() {
                    close &= !self.too_sep(points[a], points[b], i);
                }
            }
            if !close {
                continue;
            }
            let coords: Vec<Xy> = if points.len() == 3 {
                let (p, q) = (self.pts[points[0]][i], self.pts[points[1]][i]);
                vec![
                    [(p[0] + q[0]) / 2.0, (p[1] + q[1]) / 2.0],
                    self.pts[points[2]][i],
                ]
            } else {
                points.iter().map(|&p| self.pts[p][i]).collect()
            };
            self.out[i] = nanmean(&coords);
        }
    }
}

/// `np.nanmean` over points, per coordinate (sum of the non-NaN values / their count).
fn nanmean(coords: &[Xy]) -> Xy {
    let mut r = [f64::NAN; 2];
    for (d, v) in r.iter_mut().enumerate() {
        let (mut sum, mut count) = (0.0, 0usize);
        for c in coords {
            if !c[d].is_nan() {
                sum += c[d];
                count += 1;
            }
        }
        if count > 0 {
            *v = sum / count as f64;
        }
    }
    r
}

/// The centroid of `points` (one array per body part, in [`CentroidMethod::body_parts`] order).
pub fn centroid(
    method: &CentroidMethod,
    points: &[&[Xy]],
    max_led_separation: f64,
) -> Result<Vec<Xy>> {
    let want = method.body_parts().len();
    if points.len() != want {
        return Err(PositionError::InvalidParameter {
            name: "points",
            reason: format!(
                "{} needs {want} point arrays, got {}",
                method.name(),
                points.len()
            ),
        });
    }
    let n = points[0].len();
    if let Some(p) = points.iter().find(|p| p.len() != n) {
        return Err(PositionError::LengthMismatch {
            what: "centroid point arrays",
            left: n,
            right: p.len(),
        });
    }
    let mut b = CentroidBuilder {
        max_sep: max_led_separation,
        out: vec![[f64::NAN; 2]; n],
        n,
        pts: points.to_vec(),
    };
    if want == 1 {
        b.out = points[0]
            .iter()
            .map(|p| if is_nan_point(p) { [f64::NAN; 2] } else { *p })
            .collect();
        return Ok(b.out);
    }
    // two-point rules over all points (Spyglass runs them for four points too)
    let all: Vec<usize> = (0..want).collect();
    b.calc(&all, |s, i| (0..want).all(|p| !s.nan(p, i)));
    for p in 0..want {
        b.calc(&[p], |s, i| {
            !s.nan(p, i) && (0..want).filter(|&q| q != p).all(|q| s.nan(q, i))
        });
    }
    if want == 4 {
        let (g, l, c, r) = (0, 1, 2, 3);
        b.calc(&[g, c], |s, i| !s.nan(g, i) && !s.nan(c, i));
        b.calc(&[l, r, g], |s, i| {
            !s.nan(g, i) && s.nan(c, i) && !s.nan(l, i) && !s.nan(r, i)
        });
        b.calc(&[l, r], |s, i| {
            s.nan(g, i) && s.nan(c, i) && !s.nan(l, i) && !s.nan(r, i)
        });
        for (side, other) in [(l, r), (r, l)] {
            b.calc(&[side, g], |s, i| {
                !s.nan(g, i) && s.nan(c, i) && !s.nan(side, i) && s.nan(other, i)
            });
        }
        b.calc(&[c], |s, i| s.nan(g, i) && !s.nan(c, i));
    }
    Ok(b.out)
}

/// DLCCentroid's output: position (cm), velocity (cm/s) and speed.
#[derive(Debug, Clone, PartialEq)]
pub struct CentroidPosition {
    /// Centroid after interpolation and smoothing (cm).
    pub position: Vec<Xy>,
    /// Velocity (cm/s).
    pub velocity: Vec<Xy>,
    /// Speed (cm/s).
    pub speed: Vec<f64>,
}

/// DLCCentroid's computation: centroid of the smoothed body parts, gap
/// interpolation, moving mean, velocity and speed.
pub fn centroid_position(
    time: &[f64],
    points: &[&[Xy]],
    params: &CentroidParams,
) -> Result<CentroidPosition> {
    let rate = dlc_sampling_rate(time)?;
    let c = centroid(&params.method, points, params.max_led_separation)?;
    if c.len() != time.len() {
        return Err(PositionError::LengthMismatch {
            what: "time and centroid",
            left: time.len(),
            right: c.len(),
        });
    }
    let (mut x, mut y): (Vec<f64>, Vec<f64>) = c.iter().map(|p| (p[0], p[1])).unzip();
    if params.interpolate {
        let spans = nan_spans(&x, &y);
        interp_pos(
            time,
            &mut x,
            &mut y,
            &spans,
            params.max_pts_to_interp,
            params.max_cm_to_interp,
        )?;
    }
    if params.smooth {
        smooth_moving_avg(&mut x, &mut y, params.smoothing_duration, rate)?;
    }
    let position: Vec<Xy> = x.into_iter().zip(y).map(|(a, b)| [a, b]).collect();
    let velocity = velocity(&position, time, params.speed_smoothing_std_dev, rate)?;
    let speed = speed(&velocity);
    Ok(CentroidPosition {
        position,
        velocity,
        speed,
    })
}

/// How orientation is computed (Spyglass's `orient_method`).
#[derive(Debug, Clone, PartialEq)]
pub enum OrientationMethod {
    /// `none`: all NaN.
    None,
    /// `red_green_orientation`: angle of the vector from `bodypart2` to `bodypart1`.
    RedGreen {
        /// `bodypart1` (greenLED by default).
        bodypart1: String,
        /// `bodypart2` (redLED_C by default).
        bodypart2: String,
    },
    /// `red_led_bisector`: normal of the led1–led2 line, led3 telling front from back.
    RedLedBisector {
        /// `led1`.
        led1: String,
        /// `led2`.
        led2: String,
        /// `led3`.
        led3: String,
    },
}

impl OrientationMethod {
    /// The body parts the method reads, in order.
    pub fn body_parts(&self) -> Vec<&str> {
        match self {
            Self::None => vec![],
            Self::RedGreen {
                bodypart1,
                bodypart2,
            } => vec![bodypart1, bodypart2],
            Self::RedLedBisector { led1, led2, led3 } => vec![led1, led2, led3],
        }
    }
}

/// DLCOrientationParams' `params`; [`Default`] is Spyglass's `default` set.
#[derive(Debug, Clone, PartialEq)]
pub struct OrientationParams {
    /// Method (red_green_orientation of greenLED and redLED_C).
    pub method: OrientationMethod,
    /// σ of the orientation Gaussian, s (0.001).
    pub orientation_smoothing_std_dev: f64,
}

impl Default for OrientationParams {
    fn default() -> Self {
        Self {
            method: OrientationMethod::RedGreen {
                bodypart1: "greenLED".into(),
                bodypart2: "redLED_C".into(),
            },
            orientation_smoothing_std_dev: 0.001,
        }
    }
}

/// `np.isclose(a, b)` with numpy's default tolerances.
fn isclose(a: f64, b: f64) -> bool {
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    (a - b).abs() <= 1e-8 + 1e-5 * b.abs()
}

/// Raw orientation (before unwrap and smoothing) by `method`.
pub fn raw_orientation(method: &OrientationMethod, points: &[&[Xy]], n: usize) -> Result<Vec<f64>> {
    let want = method.body_parts().len();
    if points.len() != want {
        return Err(PositionError::InvalidParameter {
            name: "orient_method",
            reason: format!("needs {want} point arrays, got {}", points.len()),
        });
    }
    if let Some(p) = points.iter().find(|p| p.len() != n) {
        return Err(PositionError::LengthMismatch {
            what: "orientation point arrays",
            left: n,
            right: p.len(),
        });
    }
    Ok(match method {
        OrientationMethod::None => vec![f64::NAN; n],
        OrientationMethod::RedGreen { .. } => (0..n)
            .map(|i| {
                let (a, b) = (points[0][i], points[1][i]);
                (a[1] - b[1]).atan2(a[0] - b[0])
            })
            .collect(),
        OrientationMethod::RedLedBisector { .. } => {
            let mut out = vec![f64::NAN; n];
            for i in 0..n {
                let (l1, l2, l3) = (points[0][i], points[1][i], points[2][i]);
                let (xv, yv) = (l1[0] - l2[0], l1[1] - l2[1]);
                if isclose(yv, 0.0) {
                    if isclose(l1[1], l2[1]) && isclose(l2[1], l3[1]) {
                        return Err(PositionError::BisectorUndefined(i));
                    }
                    if l3[1] > l1[1] {
                        out[i] = std::f64::consts::FRAC_PI_2;
                    } else if l3[1] < l1[1] {
                        out[i] = -std::f64::consts::FRAC_PI_2;
                    }
                } else {
                    let len = (xv * xv + yv * yv).sqrt();
                    out[i] = (xv / len).atan2(-yv / len);
                }
            }
            out
        }
    })
}

/// DLCOrientation's computation: raw orientation, then (unless `none`) unwrap over
/// the non-NaN samples, linear fill of interior NaN gaps (Spyglass's
/// `interp_orientation`), Gaussian smoothing (zero-padded, NaN spreading) and wrap to (−π, π].
pub fn orientation(time: &[f64], points: &[&[Xy]], params: &OrientationParams) -> Result<Vec<f64>> {
    let rate = dlc_sampling_rate(time)?;
    let n = time.len();
    let mut theta = raw_orientation(&params.method, points, n)?;
    if params.method == OrientationMethod::None {
        return Ok(theta);
    }
    let good: Vec<usize> = (0..n).filter(|&i| !theta[i].is_nan()).collect();
    let unwrapped = unwrap(&good.iter().map(|&i| theta[i]).collect::<Vec<_>>());
    for (&i, v) in good.iter().zip(unwrapped) {
        theta[i] = v;
    }
    let nan_idx: Vec<usize> = (0..n).filter(|&i| theta[i].is_nan()).collect();
    for (s0, s1) in span_start_stop(&nan_idx) {
        if s1 + 1 >= n || s0 < 1 {
            continue;
        }
        let (a, b) = (theta[s0 - 1], theta[s1 + 1]);
        let filled = interp(&time[s0..=s1], &[time[s0], time[s1]], &[a, b])?;
        theta[s0..=s1].copy_from_slice(&filled);
    }
    let smoothed = gaussian_smooth(&theta, params.orientation_smoothing_std_dev, rate)?;
    Ok(smoothed.into_iter().map(wrap_angle).collect())
}
