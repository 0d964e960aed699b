//! The numeric building blocks Spyglass's position code calls, with the
//! semantics (and, where it matters, the arithmetic order) of the Python it uses:
//! `position_tools` (`get_distance`, `get_angle`, `get_centroid`,
//! `interpolate_nan`, `gaussian_smooth`, `get_velocity`, `get_speed`) and the
//! numpy pieces under them (`np.gradient`, `np.interp`, `np.unwrap`,
//! `np.median`, `np.angle(np.exp(1j·θ))`).
//!
//! Points are `[x, y]` pairs, one per sample.

use spyglass_dsp::{gaussian_filter1d, BoundaryMode};

use crate::error::{PositionError, Result};

/// One `[x, y]` point per sample.
pub type Xy = [f64; 2];

/// Truncation (in σ) `position_tools.gaussian_smooth` uses.
pub const GAUSSIAN_TRUNCATE: f64 = 8.0;

/// Splits points into their x and y columns.
pub fn columns(points: &[Xy]) -> (Vec<f64>, Vec<f64>) {
    points.iter().map(|p| (p[0], p[1])).unzip()
}

/// Joins x and y columns into points.
pub fn from_columns(x: &[f64], y: &[f64]) -> Vec<Xy> {
    x.iter().zip(y).map(|(&a, &b)| [a, b]).collect()
}

/// Applies `f` to the x and y columns separately and joins the results.
pub fn per_column(points: &[Xy], mut f: impl FnMut(&[f64]) -> Result<Vec<f64>>) -> Result<Vec<Xy>> {
    let (x, y) = columns(points);
    Ok(from_columns(&f(&x)?, &f(&y)?))
}

/// `np.median`: the middle value, or the mean of the two middle values; NaN if any value is NaN.
pub fn median(values: &[f64]) -> Result<f64> {
    if values.is_empty() {
        return Err(PositionError::TooFewSamples {
            what: "median",
            needed: 1,
            got: 0,
        });
    }
    if values.iter().any(|v| v.is_nan()) {
        return Ok(f64::NAN);
    }
    Ok(median_of(values.to_vec()))
}

/// [`median`] of values it may reorder (no NaN among them).
fn median_of(mut v: Vec<f64>) -> f64 {
    // the middle order statistic(s) by selection, not a full sort
    let n = v.len();
    let (below, &mut upper, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        upper
    } else {
        let lower = below
            .iter()
            .copied()
            .max_by(f64::total_cmp)
            .unwrap_or(upper);
        (lower + upper) / 2.0
    }
}

/// Sampling rate as Spyglass takes it: `1 / median(diff(time))`.
pub fn sampling_rate(time: &[f64]) -> Result<f64> {
    if time.len() < 2 {
        return Err(PositionError::TooFewSamples {
            what: "sampling rate",
            needed: 2,
            got: time.len(),
        });
    }
    let dt: Vec<f64> = time.windows(2).map(|w| w[1] - w[0]).collect();
    let rate = 1.0
        / if dt.iter().any(|v| v.is_nan()) {
            f64::NAN
        } else {
            median_of(dt)
        };
    if !(rate.is_finite() && rate > 0.0) {
        return Err(PositionError::InvalidTime(format!(
            "sampling rate 1/median(dt) = {rate} is not finite and positive"
        )));
    }
    Ok(rate)
}

/// Checks that `time` is finite and strictly increasing (what the gradient and
/// interpolation steps need).
pub fn check_time(time: &[f64]) -> Result<()> {
    if let Some(i) = time.iter().position(|t| !t.is_finite()) {
        return Err(PositionError::InvalidTime(format!(
            "timestamp {i} is {} (timestamps must be finite)",
            time[i]
        )));
    }
    if let Some(i) = time.windows(2).position(|w| w[1] <= w[0]) {
        return Err(PositionError::InvalidTime(format!(
            "timestamps are not strictly increasing: t[{}] = {} follows t[{i}] = {}",
            i + 1,
            time[i + 1],
            time[i]
        )));
    }
    Ok(())
}

/// `np.gradient(values, time)` (edge_order 1): central differences, with the
/// uniform-spacing formula when every `diff(time)` is equal (as numpy decides)
/// and the non-uniform second-order formula otherwise; one-sided at the ends.
pub fn gradient(values: &[f64], time: &[f64]) -> Result<Vec<f64>> {
    let n = values.len();
    if time.len() != n {
        return Err(PositionError::LengthMismatch {
            what: "gradient values and time",
            left: n,
            right: time.len(),
        });
    }
    if n < 2 {
        return Err(PositionError::TooFewSamples {
            what: "gradient",
            needed: 2,
            got: n,
        });
    }
    // diff(time)[i], computed where it is used (no n-long temporary)
    let dx = |i: usize| time[i + 1] - time[i];
    let f = values;
    let mut out = vec![0.0; n];
    let h = dx(0);
    if time.windows(2).all(|w| w[1] - w[0] == h) {
        for i in 1..n - 1 {
            out[i] = (f[i + 1] - f[i - 1]) / (2.0 * h);
        }
        out[0] = (f[1] - f[0]) / h;
        out[n - 1] = (f[n - 1] - f[n - 2]) / h;
    } else {
        for i in 1..n - 1 {
            let (dx1, dx2) = (dx(i - 1), dx(i));
            let a = -dx2 / (dx1 * (dx1 + dx2));
            let b = (dx2 - dx1) / (dx1 * dx2);
            let c = dx1 / (dx2 * (dx1 + dx2));
            out[i] = a * f[i - 1] + b * f[i] + c * f[i + 1];
        }
        out[0] = (f[1] - f[0]) / dx(0);
        out[n - 1] = (f[n - 1] - f[n - 2]) / dx(n - 2);
    }
    Ok(out)
}

/// `position_tools.gaussian_smooth`: Gaussian with σ = `sigma · sampling_frequency`
/// samples, truncated at 8 σ, zero padding beyond the ends (`mode="constant"`).
pub fn gaussian_smooth(data: &[f64], sigma: f64, sampling_frequency: f64) -> Result<Vec<f64>> {
    Ok(gaussian_filter1d(
        data,
        sigma * sampling_frequency,
        GAUSSIAN_TRUNCATE,
        BoundaryMode::Constant(0.0),
    )?)
}

/// `position_tools.get_velocity`: Gaussian-smoothed `np.gradient` of each column over `time`.
pub fn velocity(
    points: &[Xy],
    time: &[f64],
    sigma: f64,
    sampling_frequency: f64,
) -> Result<Vec<Xy>> {
    per_column(points, |c| {
        gaussian_smooth(&gradient(c, time)?, sigma, sampling_frequency)
    })
}

/// Speed of each velocity: `sqrt(vx² + vy²)` (numpy's `sqrt(sum(v**2, axis=1))`).
pub fn speed(velocity: &[Xy]) -> Vec<f64> {
    velocity
        .iter()
        .map(|v| (v[0] * v[0] + v[1] * v[1]).sqrt())
        .collect()
}

/// `position_tools.get_speed`: speed of [`velocity`].
pub fn get_speed(
    points: &[Xy],
    time: &[f64],
    sigma: f64,
    sampling_frequency: f64,
) -> Result<Vec<f64>> {
    Ok(speed(&velocity(points, time, sigma, sampling_frequency)?))
}

/// `position_tools.get_distance`: Euclidean distance between paired points.
pub fn distance(a: &[Xy], b: &[Xy]) -> Vec<f64> {
    a.iter()
        .zip(b)
        .map(|(p, q)| {
            let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
            (dx * dx + dy * dy).sqrt()
        })
        .collect()
}

/// `position_tools.get_angle(back, front)`: `atan2(front.y − back.y, front.x − back.x)`.
pub fn angle(back: &[Xy], front: &[Xy]) -> Vec<f64> {
    back.iter()
        .zip(front)
        .map(|(b, f)| (f[1] - b[1]).atan2(f[0] - b[0]))
        .collect()
}

/// `np.allclose(points, 0.0)`: every coordinate finite with `|v| <= 1e-8`.
pub fn all_close_to_zero(points: &[Xy]) -> bool {
    points
        .iter()
        .flatten()
        .all(|v| v.is_finite() && v.abs() <= 1e-8)
}

/// `position_tools.get_centroid(p1, p2)`: the midpoint, except that when one
/// input is all (close to) zeros — an absent second LED — the other is returned.
pub fn centroid(p1: &[Xy], p2: &[Xy]) -> Vec<Xy> {
    if all_close_to_zero(p1) {
        return p2.to_vec();
    }
    if all_close_to_zero(p2) {
        return p1.to_vec();
    }
    p1.iter()
        .zip(p2)
        .map(|(a, b)| [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0])
        .collect()
}

/// `np.interp(x, xp, fp)` for increasing `xp`: linear, clamped to `fp[0]`/`fp[last]`
/// outside, with numpy's handling of exact hits and repeated `xp`.
pub fn interp(x: &[f64], xp: &[f64], fp: &[f64]) -> Result<Vec<f64>> {
    if xp.len() != fp.len() {
        return Err(PositionError::LengthMismatch {
            what: "interp xp and fp",
            left: xp.len(),
            right: fp.len(),
        });
    }
    if xp.is_empty() {
        return Err(PositionError::TooFewSamples {
            what: "interpolation",
            needed: 1,
            got: 0,
        });
    }
    let n = xp.len();
    let mut guess = 0usize;
    Ok(x.iter()
        .map(|&v| {
            if v.is_nan() {
                return v;
            }
            if v > xp[n - 1] {
                return fp[n - 1];
            }
            if v < xp[0] {
                return fp[0];
            }
            // last j with xp[j] <= v; sorted x walks forward from the previous j
            let mut j = guess;
            if xp[j] <= v && (j + 1 == n || v < xp[j + 1] || (j + 2 < n && v < xp[j + 2])) {
                if j + 1 < n && xp[j + 1] <= v {
                    j += 1;
                }
            } else {
                j = xp.partition_point(|&p| p <= v) - 1;
            }
            guess = j;
            if j == n - 1 || xp[j] == v {
                return fp[j];
            }
            let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
            let r = slope * (v - xp[j]) + fp[j];
            if !r.is_nan() {
                return r;
            }
            let r = slope * (v - xp[j + 1]) + fp[j + 1];
            if r.is_nan() && fp[j] == fp[j + 1] {
                fp[j]
            } else {
                r
            }
        })
        .collect())
}

/// `position_tools.interpolate_nan(points)` (over the sample index): rows with a
/// non-finite coordinate are filled, per column, by `scipy` `interp1d` linear
/// interpolation between the rows where both coordinates are finite; rows before
/// the first or after the last such row stay NaN.
pub fn interpolate_nan(points: &[Xy]) -> Result<Vec<Xy>> {
    let good: Vec<usize> = (0..points.len())
        .filter(|&i| points[i].iter().all(|v| v.is_finite()))
        .collect();
    if good.len() == points.len() {
        return Ok(points.to_vec());
    }
    if good.len() < 2 {
        return Err(PositionError::NothingToInterpolate {
            valid: good.len(),
            total: points.len(),
        });
    }
    let (first, last) = (good[0], good[good.len() - 1]);
    let mut out = points.to_vec();
    for (i, row) in out.iter_mut().enumerate() {
        for d in 0..2 {
            if row[d].is_finite() {
                continue;
            }
            row[d] = if i < first || i > last {
                f64::NAN
            } else {
                // interp1d: searchsorted(left), clipped to [1, len-1]
                let k = good.partition_point(|&g| g < i).clamp(1, good.len() - 1);
                let (lo, hi) = (good[k - 1], good[k]);
                let (y_lo, y_hi) = (points[lo][d], points[hi][d]);
                let slope = (y_hi - y_lo) / (hi - lo) as f64;
                slope * (i - lo) as f64 + y_lo
            };
        }
    }
    Ok(out)
}

/// `np.mod(a, b)` for `b > 0` (result in `[0, b)`, sign of the divisor).
fn np_mod(a: f64, b: f64) -> f64 {
    let m = a % b;
    if m != 0.0 {
        if (b < 0.0) != (m < 0.0) {
            m + b
        } else {
            m
        }
    } else {
        0.0f64.copysign(b)
    }
}

/// `np.unwrap(phase)` with period 2π: removes jumps larger than π.
pub fn unwrap(phase: &[f64]) -> Vec<f64> {
    let period = 2.0 * std::f64::consts::PI;
    let high = period / 2.0;
    let low = -high;
    let mut out = phase.to_vec();
    let mut correction = 0.0;
    for i in 1..phase.len() {
        let dd = phase[i] - phase[i - 1];
        let mut ddmod = np_mod(dd - low, period) + low;
        if ddmod == low && dd > 0.0 {
            ddmod = high;
        }
        let mut ph = ddmod - dd;
        if dd.abs() < high {
            ph = 0.0;
        }
        correction += ph;
        out[i] = phase[i] + correction;
    }
    out
}

/// `np.angle(np.exp(1j·θ))`: the angle wrapped into (−π, π].
pub fn wrap_angle(theta: f64) -> f64 {
    theta.sin().atan2(theta.cos())
}

/// Start and stop (inclusive) of each run of consecutive indices in a sorted list
/// (Spyglass's `get_span_start_stop`).
pub fn span_start_stop(indices: &[usize]) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for &i in indices {
        match spans.last_mut() {
            Some((_, stop)) if *stop + 1 == i => *stop = i,
            _ => spans.push((i, i)),
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_uniform_and_not_by_hand() {
        let g = gradient(&[0.0, 1.0, 4.0, 9.0], &[0.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!(g, [1.0, 2.0, 4.0, 5.0]);
        // f = t² on t = 0, 1, 3: second-order interior derivative is exact (2t = 2)
        let g = gradient(&[0.0, 1.0, 9.0], &[0.0, 1.0, 3.0]).unwrap();
        assert!((g[1] - 2.0).abs() < 1e-12);
        assert_eq!(g[0], 1.0);
        assert_eq!(g[2], 4.0);
        assert!(gradient(&[1.0], &[0.0]).is_err());
    }

    #[test]
    fn unwrap_and_wrap_by_hand() {
        let pi = std::f64::consts::PI;
        let u = unwrap(&[3.0, -3.0, 3.0]);
        assert!((u[1] - (2.0 * pi - 3.0)).abs() < 1e-12);
        assert!((u[2] - 3.0).abs() < 1e-12);
        assert!((wrap_angle(3.0 * pi / 2.0) + pi / 2.0).abs() < 1e-12);
    }

    #[test]
    fn interpolate_nan_keeps_ends_nan() {
        let n = f64::NAN;
        let p = interpolate_nan(&[[n, n], [0.0, 0.0], [n, 5.0], [2.0, 4.0], [n, n]]).unwrap();
        assert!(p[0][0].is_nan() && p[4][1].is_nan());
        assert_eq!(p[2], [1.0, 5.0]);
    }

    #[test]
    fn median_by_hand() {
        assert_eq!(median(&[3.0, 1.0, 2.0]).unwrap(), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]).unwrap(), 2.5);
        assert_eq!(median(&[5.0, 5.0, -1.0, 7.0, 5.0, 0.0]).unwrap(), 5.0);
        assert!(median(&[1.0, f64::NAN]).unwrap().is_nan());
        assert!(median(&[]).is_err());
    }

    #[test]
    fn interp_matches_numpy_edge_rules() {
        let r = interp(&[-1.0, 0.5, 2.0, 3.0], &[0.0, 2.0, 2.0], &[0.0, 4.0, 6.0]).unwrap();
        assert_eq!(r, [0.0, 1.0, 6.0, 6.0]);
        assert_eq!(
            span_start_stop(&[1, 2, 3, 7, 9, 10]),
            [(1, 3), (7, 7), (9, 10)]
        );
    }
}
