//! Plane geometry of track segments: projection of a point onto a segment and the
//! distance to it, with the arithmetic in the order numpy evaluates
//! `track_linearization`'s array expressions.

use crate::graph::distance;

/// The point of segment `a`–`b` closest to `p`. NaN in, NaN out.
pub(crate) fn project(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
    let dx = b[0] - a[0];
    let dy = b[1] - a[1];
    let sum_squares = dx * dx + dy * dy;
    // `clamp` keeps NaN, as numpy's `clip` does.
    let t = ((dx * (p[0] - a[0]) + dy * (p[1] - a[1])) / sum_squares).clamp(0.0, 1.0);
    [a[0] + t * dx, a[1] + t * dy]
}

/// A point projected onto one segment: where it lands and how far it moved.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Projection {
    /// The projected point.
    pub point: [f64; 2],
    /// Distance from the original point to the projected one.
    pub distance: f64,
}

/// Projects `p` onto segment `a`–`b`.
pub(crate) fn projection(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> Projection {
    let point = project(p, a, b);
    Projection {
        point,
        distance: distance(p, point),
    }
}

/// Sum of `values` as numpy's `add.reduce` computes it on a contiguous float64
/// row: pairwise, with eight accumulators per block of up to 128 values.
pub(crate) fn numpy_sum(values: &[f64]) -> f64 {
    0.0 + pairwise_sum(values)
}

fn pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &v in a {
            res += v;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - (n % 8) {
            for k in 0..8 {
                r[k] += a[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &a[i..] {
            res += v;
        }
        res
    } else {
        let mut half = n / 2;
        half -= half % 8;
        pairwise_sum(&a[..half]) + pairwise_sum(&a[half..])
    }
}
