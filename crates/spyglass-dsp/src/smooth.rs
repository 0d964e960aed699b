//! Smoothing kernels the position pipelines use: a Gaussian filter with
//! `scipy.ndimage.gaussian_filter1d` semantics and a trailing moving mean with
//! `bottleneck.move_mean` semantics.
//!
//! Both work on one 1-D slice; multi-column data is smoothed column by column.
//!
//! - [`gaussian_filter1d`]: σ in samples, kernel radius `int(truncate·σ + 0.5)`,
//!   normalised weights `exp(-x²/2σ²) / Σ`, boundary handled by a
//!   [`BoundaryMode`] as scipy defines it. As in scipy, a NaN sample makes every
//!   output within the kernel radius NaN (no NaN skipping).
//! - [`move_mean`]: mean of the last `window` samples ending at each sample,
//!   NaNs ignored, NaN where fewer than `min_count` finite values are in the
//!   window; the running-sum arithmetic follows bottleneck's so the rounding
//!   agrees.

use crate::error::{DspError, Result};

/// How samples beyond either end of the signal are made up (scipy.ndimage `mode`).
///
/// With input `a b c d`:
/// - `Reflect`: `d c b a | a b c d | d c b a` (half-sample symmetric; scipy's default),
/// - `Mirror`: `d c b | a b c d | c b a` (whole-sample symmetric),
/// - `Nearest`: `a a a | a b c d | d d d`,
/// - `Wrap`: `a b c d | a b c d | a b c d`,
/// - `Constant(k)`: `k k k | a b c d | k k k` (scipy's `mode="constant", cval=k`;
///   `Constant(0.0)` is zero padding).
///
/// Extensions longer than the signal repeat the pattern, as scipy does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BoundaryMode {
    /// Half-sample symmetric reflection (scipy `"reflect"`, its default).
    Reflect,
    /// Whole-sample symmetric reflection (scipy `"mirror"`).
    Mirror,
    /// Repeat the edge sample (scipy `"nearest"`).
    Nearest,
    /// Periodic continuation (scipy `"wrap"`).
    Wrap,
    /// A constant beyond the edges (scipy `"constant"` with `cval`).
    Constant(f64),
}

impl BoundaryMode {
    /// Parses scipy's mode names (`"reflect"`, `"mirror"`, `"nearest"`, `"wrap"`,
    /// `"constant"`/`"grid-constant"` with `cval`).
    pub fn from_scipy(name: &str, cval: f64) -> Result<Self> {
        Ok(match name {
            "reflect" | "grid-mirror" => Self::Reflect,
            "mirror" => Self::Mirror,
            "nearest" => Self::Nearest,
            "wrap" | "grid-wrap" => Self::Wrap,
            "constant" | "grid-constant" => Self::Constant(cval),
            other => {
                return Err(DspError::InvalidParameter {
                    name: "mode",
                    reason: format!(
                        "unknown boundary mode {other:?} (expected reflect, mirror, nearest, wrap or constant)"
                    ),
                })
            }
        })
    }

    /// The value at index `i` (possibly outside `0..data.len()`) of the extended signal.
    fn value_at(self, data: &[f64], i: isize) -> f64 {
        let n = data.len() as isize;
        if (0..n).contains(&i) {
            return data[i as usize];
        }
        let k = match self {
            Self::Constant(c) => return c,
            Self::Nearest => i.clamp(0, n - 1),
            Self::Wrap => i.rem_euclid(n),
            Self::Reflect => {
                let m = i.rem_euclid(2 * n);
                if m < n {
                    m
                } else {
                    2 * n - 1 - m
                }
            }
            Self::Mirror => {
                if n == 1 {
                    0
                } else {
                    let period = 2 * n - 2;
                    let m = i.rem_euclid(period);
                    if m < n {
                        m
                    } else {
                        period - m
                    }
                }
            }
        };
        data[k as usize]
    }
}

/// Kernel radius scipy uses for a Gaussian: `int(truncate · sigma + 0.5)`.
pub fn gaussian_radius(sigma: f64, truncate: f64) -> Result<usize> {
    check_sigma(sigma)?;
    if !(truncate.is_finite() && truncate >= 0.0) {
        return Err(DspError::InvalidParameter {
            name: "truncate",
            reason: format!("{truncate} must be finite and >= 0"),
        });
    }
    let r = (truncate * sigma + 0.5).trunc();
    if r > (isize::MAX / 4) as f64 {
        return Err(DspError::InvalidParameter {
            name: "sigma",
            reason: format!("kernel radius {r} is too large"),
        });
    }
    Ok(r as usize)
}

fn check_sigma(sigma: f64) -> Result<()> {
    if sigma.is_finite() && sigma > 0.0 {
        Ok(())
    } else {
        Err(DspError::InvalidParameter {
            name: "sigma",
            reason: format!("{sigma} must be finite and > 0"),
        })
    }
}

/// The normalised Gaussian weights for offsets `-radius..=radius` (scipy's
/// `_gaussian_kernel1d` of order 0): `exp(-0.5 x² / σ²)` divided by their sum.
pub fn gaussian_kernel1d(sigma: f64, radius: usize) -> Result<Vec<f64>> {
    check_sigma(sigma)?;
    let r = radius as isize;
    let scale = -0.5 / (sigma * sigma);
    let mut w: Vec<f64> = (-r..=r)
        .map(|x| {
            let x = x as f64;
            (scale * (x * x)).exp()
        })
        .collect();
    // numpy's `phi_x.sum()` (pairwise), so the weights round as scipy's do
    let total = crate::reduce::pairwise_sum(&w);
    for v in &mut w {
        *v /= total;
    }
    Ok(w)
}

/// `scipy.ndimage.correlate1d(data, weights, mode=…, origin=0)` for an odd-length
/// weight vector centred on each sample.
///
/// Symmetric weights are applied as scipy does (centre first, then each pair of
/// mirrored samples summed before the multiply, outermost pair first) so the
/// rounding agrees with scipy's.
pub fn correlate1d(data: &[f64], weights: &[f64], mode: BoundaryMode) -> Result<Vec<f64>> {
    if weights.is_empty() {
        return Err(DspError::EmptyFilter);
    }
    if weights.len() % 2 == 0 {
        return Err(DspError::InvalidParameter {
            name: "weights",
            reason: format!("{} weights: an odd count is required", weights.len()),
        });
    }
    if let Some(index) = weights.iter().position(|w| !w.is_finite()) {
        return Err(DspError::NonFiniteCoefficient { index });
    }
    let n = data.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    let r = weights.len() / 2;
    // extended signal: r samples either side
    let mut ext = Vec::with_capacity(n + 2 * r);
    for i in 0..r {
        ext.push(mode.value_at(data, i as isize - r as isize));
    }
    ext.extend_from_slice(data);
    for i in 0..r {
        ext.push(mode.value_at(data, (n + i) as isize));
    }
    let symmetric = (0..r).all(|j| weights[j] == weights[2 * r - j]);
    // Each output adds its terms in scipy's order: centre, then mirrored pairs
    // outermost first (symmetric weights) or the left then the right side
    // (otherwise). Symmetric weights run 8 outputs at a time held in registers;
    // otherwise (and for a block's last outputs) loops run over the samples
    // innermost, blocks of outputs small enough to stay in the L1 cache taking
    // all their terms in turn.
    const BLOCK: usize = 2048;
    let mut out = vec![0.0; n];
    let add = |o: &mut [f64], a: &[f64], b: Option<&[f64]>, w: f64| match b {
        Some(b) => o
            .iter_mut()
            .zip(a)
            .zip(b)
            .for_each(|((o, a), b)| *o += (a + b) * w),
        None => o.iter_mut().zip(a).for_each(|(o, a)| *o += a * w),
    };
    for (k, block) in out.chunks_mut(BLOCK).enumerate() {
        let start = k * BLOCK;
        let m = block.len();
        let shifted = |offset: isize| &ext[(start as isize + r as isize + offset) as usize..][..m];
        if symmetric {
            // LANES outputs at a time kept in registers over all the pairs (the
            // same terms in the same order as the per-pair passes below)
            const LANES: usize = 8;
            let centre = shifted(0);
            let full = m / LANES * LANES;
            for i in (0..full).step_by(LANES) {
                let at = start + r + i;
                let mut acc = [0.0; LANES];
                for (l, a) in acc.iter_mut().enumerate() {
                    *a = centre[i + l] * weights[r];
                }
                for j in (1..=r).rev() {
                    let (lo, hi) = (&ext[at - j..][..LANES], &ext[at + j..][..LANES]);
                    let w = weights[r - j];
                    for l in 0..LANES {
                        acc[l] += (lo[l] + hi[l]) * w;
                    }
                }
                block[i..i + LANES].copy_from_slice(&acc);
            }
            let tail = &mut block[full..];
            let rest = |offset: isize| &shifted(offset)[full..];
            tail.iter_mut()
                .zip(rest(0))
                .for_each(|(o, v)| *o = v * weights[r]);
            for j in (1..=r).rev() {
                add(
                    tail,
                    rest(-(j as isize)),
                    Some(rest(j as isize)),
                    weights[r - j],
                );
            }
        } else {
            block
                .iter_mut()
                .zip(shifted(0))
                .for_each(|(o, v)| *o = v * weights[r]);
            for j in (1..=r).rev() {
                add(block, shifted(-(j as isize)), None, weights[r - j]);
            }
            for j in 1..=r {
                add(block, shifted(j as isize), None, weights[r + j]);
            }
        }
    }
    Ok(out)
}

/// `scipy.ndimage.gaussian_filter1d(data, sigma, order=0, mode=…, truncate=…)`.
///
/// `sigma` is in samples (a duration times the sampling rate); the kernel
/// radius is `int(truncate·sigma + 0.5)`. NaN samples spread over the kernel
/// radius, as in scipy. Errors on `sigma <= 0` (where scipy would return NaN
/// everywhere) or a negative `truncate`.
pub fn gaussian_filter1d(
    data: &[f64],
    sigma: f64,
    truncate: f64,
    mode: BoundaryMode,
) -> Result<Vec<f64>> {
    let radius = gaussian_radius(sigma, truncate)?;
    let weights = gaussian_kernel1d(sigma, radius)?;
    correlate1d(data, &weights, mode)
}

/// Trailing moving mean as `bottleneck.move_mean(data, window, min_count)`.
///
/// Output `i` is the mean of the finite values among `data[i+1-window ..= i]`
/// (fewer at the start), or NaN when fewer than `min_count` of them are finite.
/// `window` must be in `1..=data.len()` and `min_count` in `1..=window`, as
/// bottleneck requires (an empty input gives an empty output).
pub fn move_mean(data: &[f64], window: usize, min_count: usize) -> Result<Vec<f64>> {
    let n = data.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    if window < 1 || window > n {
        return Err(DspError::InvalidParameter {
            name: "window",
            reason: format!(
                "moving window {window} must be between 1 and {n} (the length), inclusive"
            ),
        });
    }
    if min_count < 1 || min_count > window {
        return Err(DspError::InvalidParameter {
            name: "min_count",
            reason: format!("{min_count} must be between 1 and the window {window}, inclusive"),
        });
    }
    let mut out = Vec::with_capacity(n);
    let mut sum = 0.0f64;
    let mut count: usize = 0;
    // bottleneck's three phases: before min_count, the rest of the first window
    // (sum / count), then sliding (sum · 1/count with the add-minus-old update)
    for &v in &data[..window] {
        if !v.is_nan() {
            sum += v;
            count += 1;
        }
        out.push(if count >= min_count {
            sum / count as f64
        } else {
            f64::NAN
        });
    }
    let mut count_inv = 1.0 / count as f64;
    for i in window..n {
        let new = data[i];
        let old = data[i - window];
        match (new.is_nan(), old.is_nan()) {
            (false, false) => sum += new - old,
            (false, true) => {
                sum += new;
                count += 1;
                count_inv = 1.0 / count as f64;
            }
            (true, false) => {
                sum -= old;
                count -= 1;
                count_inv = 1.0 / count as f64;
            }
            (true, true) => {}
        }
        out.push(if count >= min_count {
            sum * count_inv
        } else {
            f64::NAN
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_and_mirror_indexing_by_hand() {
        let d = [1.0, 2.0, 3.0];
        let at = |m: BoundaryMode, i: isize| m.value_at(&d, i);
        // reflect: 3 3 2 1 | 1 2 3 | 3 2 1 1 (period 2n)
        let r: Vec<f64> = (-4..7).map(|i| at(BoundaryMode::Reflect, i)).collect();
        assert_eq!(r, [3.0, 3.0, 2.0, 1.0, 1.0, 2.0, 3.0, 3.0, 2.0, 1.0, 1.0]);
        // mirror: 3 2 | 1 2 3 | 2 1 2 3
        let m: Vec<f64> = (-2..7).map(|i| at(BoundaryMode::Mirror, i)).collect();
        assert_eq!(m, [3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0]);
        let w: Vec<f64> = (-2..5).map(|i| at(BoundaryMode::Wrap, i)).collect();
        assert_eq!(w, [2.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0]);
        assert_eq!(at(BoundaryMode::Nearest, -5), 1.0);
        assert_eq!(at(BoundaryMode::Constant(7.0), 3), 7.0);
    }

    #[test]
    fn move_mean_by_hand() {
        let d = [1.0, 2.0, f64::NAN, 4.0, 6.0];
        let m = move_mean(&d, 2, 1).unwrap();
        assert_eq!(m[0], 1.0);
        assert_eq!(m[1], 1.5);
        assert_eq!(m[2], 2.0);
        assert_eq!(m[3], 4.0);
        assert_eq!(m[4], 5.0);
        let m = move_mean(&d, 2, 2).unwrap();
        assert!(m[0].is_nan() && m[2].is_nan() && m[3].is_nan());
        assert_eq!(m[4], 5.0);
        assert!(move_mean(&d, 6, 1).is_err());
        assert!(move_mean(&d, 0, 1).is_err());
        assert!(move_mean(&d, 2, 3).is_err());
    }

    #[test]
    fn symmetric_correlation_adds_in_scipys_order_at_every_length() {
        // scipy's loop, one output at a time: the centre, then each mirrored pair
        // summed before the multiply, outermost first; equal to the last bit
        let w = gaussian_kernel1d(3.0, 24).unwrap();
        let r = 24isize;
        let mode = BoundaryMode::Reflect;
        for n in [1usize, 7, 8, 9, 31, 2047, 2048, 2049, 5000] {
            let x: Vec<f64> = (0..n)
                .map(|i| ((i * 7919) % 1009) as f64 / 13.0 - 30.0)
                .collect();
            let ours = correlate1d(&x, &w, mode).unwrap();
            for (i, o) in ours.iter().enumerate() {
                let at = |k: isize| mode.value_at(&x, i as isize + k);
                let mut want = at(0) * w[24];
                for j in (1..=r).rev() {
                    want += (at(-j) + at(j)) * w[(r - j) as usize];
                }
                assert_eq!(o.to_bits(), want.to_bits(), "n {n}, output {i}");
            }
        }
    }

    #[test]
    fn gaussian_kernel_sums_to_one_and_rejects_bad_sigma() {
        let w = gaussian_kernel1d(2.0, 8).unwrap();
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        assert_eq!(gaussian_radius(3.0, 4.0).unwrap(), 12);
        assert_eq!(gaussian_radius(0.03, 8.0).unwrap(), 0);
        assert!(gaussian_filter1d(&[1.0], 0.0, 4.0, BoundaryMode::Reflect).is_err());
        assert!(gaussian_filter1d(&[1.0], f64::NAN, 4.0, BoundaryMode::Reflect).is_err());
    }
}
