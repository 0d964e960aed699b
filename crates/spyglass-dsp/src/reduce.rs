//! Sums in numpy's order: `np.sum` / `np.add.reduce` of a contiguous float64
//! vector adds with pairwise summation (blocks of at most 128 values summed in
//! eight interleaved lanes, longer vectors split in halves rounded down to a
//! multiple of eight). Kernels that must round as numpy does (a Gaussian
//! kernel's normalisation, a z-score's mean) sum with [`pairwise_sum`].

/// `np.sum(x)` for a contiguous float64 vector (numpy 2.x), bit for bit:
/// numpy's `pairwise_sum` added to the reduction's initial value `0.0`.
pub fn pairwise_sum(x: &[f64]) -> f64 {
    0.0 + pairwise(x)
}

fn pairwise(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for v in a {
            res += v;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let end = n - n % 8;
        let mut i = 8;
        while i < end {
            for (j, rj) in r.iter_mut().enumerate() {
                *rj += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for v in &a[end..] {
            res += v;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise(&a[..n2]) + pairwise(&a[n2..])
    }
}

/// `np.mean(x)` of a contiguous float64 vector: [`pairwise_sum`] divided by the
/// count (NaN for an empty slice, as numpy).
pub fn numpy_mean(x: &[f64]) -> f64 {
    pairwise_sum(x) / x.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_order_by_hand() {
        // 1e16 + 1 + ... : the order of additions decides the result
        let mut x = vec![1.0; 16];
        x[0] = 1e16;
        // lanes: r0 = 1e16 + 1 (= 1e16), r1..r7 = 2 each -> 1e16 + 14
        assert_eq!(pairwise_sum(&x), 1e16 + 14.0);
        // short vectors add left to right
        assert_eq!(pairwise_sum(&[1e16, 1.0, 1.0]), 1e16);
        assert_eq!(pairwise_sum(&[]), 0.0);
        assert!(numpy_mean(&[]).is_nan());
        // 200 values: halves of 96 and 104
        let y: Vec<f64> = (0..200).map(|i| i as f64).collect();
        assert_eq!(pairwise_sum(&y), 19900.0);
    }
}
