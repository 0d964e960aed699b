//! Hilbert transform: analytic signal, amplitude envelope, phase and power.
//!
//! Computes what `scipy.signal.hilbert(x, N)` computes: `X = FFT(x)` over `N`
//! points (`N` = the signal length unless a plan says otherwise, as
//! ripple_detection's `get_envelope` pads to `next_fast_len`), keep DC (and
//! Nyquist for even `N`), double the positive frequencies, drop the negative
//! ones, inverse FFT, keep the first `len(x)` samples. From the
//! analytic signal `a`, Spyglass's LFPBandV1 derives amplitude `|a|`, power
//! `|a|²` and phase `angle(a) + π` (in `[0, 2π]`).

use std::f64::consts::PI;
use std::sync::Arc;

use rayon::prelude::*;
use realfft::{RealFftPlanner, RealToComplex};
use rustfft::num_complex::Complex64;
use rustfft::{Fft, FftPlanner};

use crate::error::{DspError, Result};

/// A planned Hilbert transform for signals of one length, reusable across threads.
pub struct HilbertPlan {
    n: usize,
    nfft: usize,
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn Fft<f64>>,
}

impl std::fmt::Debug for HilbertPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HilbertPlan")
            .field("n", &self.n)
            .field("nfft", &self.nfft)
            .finish()
    }
}

/// Amplitude, phase and power of a signal's analytic representation.
#[derive(Debug, Clone, PartialEq)]
pub struct HilbertFeatures {
    /// Envelope `|a|`.
    pub amplitude: Vec<f64>,
    /// Phase `angle(a) + π`, radians in `[0, 2π]` (Spyglass `compute_signal_phase`).
    pub phase: Vec<f64>,
    /// Power `|a|²` (Spyglass `compute_signal_power`).
    pub power: Vec<f64>,
}

impl HilbertPlan {
    /// Plans the transform for signals of `n` samples.
    pub fn new(n: usize) -> Result<Self> {
        Self::padded(n, n)
    }

    /// Plans the transform for signals of `n` samples zero-padded to `nfft >= n`
    /// FFT points (`scipy.signal.hilbert(x, N=nfft)[:n]`).
    pub fn padded(n: usize, nfft: usize) -> Result<Self> {
        if n == 0 {
            return Err(DspError::EmptySignal);
        }
        if nfft < n {
            return Err(DspError::InvalidParameter {
                name: "nfft",
                reason: format!("{nfft} FFT points for a signal of {n} samples"),
            });
        }
        let forward = RealFftPlanner::<f64>::new().plan_fft_forward(nfft);
        let inverse = FftPlanner::<f64>::new().plan_fft_inverse(nfft);
        Ok(HilbertPlan {
            n,
            nfft,
            forward,
            inverse,
        })
    }

    /// Signal length this plan is for.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always false: plans are for at least one sample.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the analytic signal of `x` into `out` (both of the planned length).
    pub fn analytic_into(&self, x: &[f64], out: &mut [Complex64]) -> Result<()> {
        if x.len() != self.n {
            return Err(DspError::InvalidParameter {
                name: "x",
                reason: format!("length {} but the plan is for {}", x.len(), self.n),
            });
        }
        if out.len() != self.n {
            return Err(DspError::OutputLength {
                got: out.len(),
                expected: self.n,
            });
        }
        let n = self.nfft;
        let mut input = x.to_vec();
        input.resize(n, 0.0);
        let mut spec = self.forward.make_output_vec();
        self.forward
            .process(&mut input, &mut spec)
            .map_err(|e| DspError::InvalidParameter {
                name: "fft",
                reason: e.to_string(),
            })?;
        if n == self.n {
            self.one_sided_inverse(&spec, out);
        } else {
            let mut buf = vec![Complex64::new(0.0, 0.0); n];
            self.one_sided_inverse(&spec, &mut buf);
            out.copy_from_slice(&buf[..self.n]);
        }
        Ok(())
    }

    /// Inverse FFT of the one-sided spectrum `spec` (h[0] = 1, h[k] = 2 for
    /// 0 < k < N/2, h[N/2] = 1 for even N) into `buf` (N points).
    fn one_sided_inverse(&self, spec: &[Complex64], buf: &mut [Complex64]) {
        let n = self.nfft;
        let scale = 1.0 / n as f64;
        buf.fill(Complex64::new(0.0, 0.0));
        buf[0] = spec[0] * scale;
        let positive_end = n.div_ceil(2); // exclusive end of doubled bins
        for k in 1..positive_end {
            buf[k] = spec[k] * (2.0 * scale);
        }
        if n % 2 == 0 {
            buf[n / 2] = spec[n / 2] * scale;
        }
        self.inverse.process(buf);
    }

    /// The analytic signal of `x`.
    pub fn analytic(&self, x: &[f64]) -> Result<Vec<Complex64>> {
        let mut out = vec![Complex64::new(0.0, 0.0); self.n];
        self.analytic_into(x, &mut out)?;
        Ok(out)
    }

    /// Amplitude, phase and power of `x` from one transform.
    pub fn features(&self, x: &[f64]) -> Result<HilbertFeatures> {
        let a = self.analytic(x)?;
        Ok(HilbertFeatures {
            amplitude: a.iter().map(|c| c.norm()).collect(),
            phase: a.iter().map(|c| c.arg() + PI).collect(),
            power: a.iter().map(|c| c.norm_sqr()).collect(),
        })
    }
}

/// The analytic signal `x + i·H{x}`, as `scipy.signal.hilbert(x)`.
pub fn analytic_signal(x: &[f64]) -> Result<Vec<Complex64>> {
    HilbertPlan::new(x.len())?.analytic(x)
}

/// Amplitude envelope `|hilbert(x)|`.
pub fn envelope(x: &[f64]) -> Result<Vec<f64>> {
    Ok(analytic_signal(x)?.iter().map(|c| c.norm()).collect())
}

/// Amplitude envelope `|hilbert(x, N=nfft)[:len(x)]|` with the FFT zero-padded
/// to `nfft` points.
pub fn envelope_padded(x: &[f64], nfft: usize) -> Result<Vec<f64>> {
    let plan = HilbertPlan::padded(x.len(), nfft)?;
    Ok(plan.analytic(x)?.iter().map(|c| c.norm()).collect())
}

/// The smallest 5-smooth number (`2^a·3^b·5^c`) `>= n`: the FFT length
/// `scipy.fftpack.next_fast_len(n)` picks (`n` itself for `n <= 6`).
pub fn next_fast_len(n: usize) -> usize {
    if n <= 6 {
        return n;
    }
    let mut best = usize::MAX;
    let mut p5 = 1usize;
    while p5 < best {
        let mut p35 = p5;
        while p35 < best {
            // smallest power of two times p35 that reaches n
            let mut m = p35;
            while m < n {
                m = m.saturating_mul(2);
            }
            best = best.min(m);
            match p35.checked_mul(3) {
                Some(v) => p35 = v,
                None => break,
            }
        }
        match p5.checked_mul(5) {
            Some(v) => p5 = v,
            None => break,
        }
    }
    best
}

/// Principal angle of each analytic sample, `numpy.angle`, radians in `(−π, π]`.
pub fn phase_angle(analytic: &[Complex64]) -> Vec<f64> {
    analytic.iter().map(|c| c.arg()).collect()
}

/// Amplitude, phase (Spyglass convention, `[0, 2π]`) and power of one channel.
pub fn hilbert_features(x: &[f64]) -> Result<HilbertFeatures> {
    HilbertPlan::new(x.len())?.features(x)
}

/// [`hilbert_features`] for each channel of a flat channel-major buffer, in parallel.
pub fn hilbert_features_channels(data: &[f64], n_channels: usize) -> Result<Vec<HilbertFeatures>> {
    if n_channels == 0 || data.len() % n_channels != 0 {
        return Err(DspError::ChannelLayout {
            len: data.len(),
            n_channels,
        });
    }
    let plan = HilbertPlan::new(data.len() / n_channels)?;
    data.par_chunks(plan.len())
        .map(|x| plan.features(x))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_gives_unit_envelope_and_linear_phase() {
        // cos(2π·4t/64) over whole periods: analytic = exp(i·2π·4t/64) exactly.
        let n = 64;
        let x: Vec<f64> = (0..n)
            .map(|t| (2.0 * PI * 4.0 * t as f64 / n as f64).cos())
            .collect();
        let f = hilbert_features(&x).unwrap();
        for t in 0..n {
            assert!((f.amplitude[t] - 1.0).abs() < 1e-12);
            assert!((f.power[t] - 1.0).abs() < 1e-12);
            let want = (2.0 * PI * 4.0 * t as f64 / n as f64 + PI).rem_euclid(2.0 * PI);
            let d = (f.phase[t] - want).rem_euclid(2.0 * PI);
            assert!(d.min(2.0 * PI - d) < 1e-10, "t={t}");
        }
        // sin -> analytic = -i·exp(iωt): imaginary part of hilbert(cos) is sin.
        let a = analytic_signal(&x).unwrap();
        for (t, c) in a.iter().enumerate() {
            let s = (2.0 * PI * 4.0 * t as f64 / n as f64).sin();
            assert!((c.re - x[t]).abs() < 1e-12 && (c.im - s).abs() < 1e-12);
        }
    }

    #[test]
    fn small_lengths_by_hand() {
        // n = 1: analytic = x. n = 2: X = [a+b, a-b], h = [1, 1] -> analytic = x.
        assert_eq!(
            analytic_signal(&[3.0]).unwrap(),
            vec![Complex64::new(3.0, 0.0)]
        );
        let a = analytic_signal(&[1.0, 5.0]).unwrap();
        assert!((a[0] - Complex64::new(1.0, 0.0)).norm() < 1e-15);
        assert!((a[1] - Complex64::new(5.0, 0.0)).norm() < 1e-15);
        // n = 4, x = [1,0,0,0]: X = [1,1,1,1], one-sided [1,2,1,0] -> ifft =
        // [1, (1 + 2i·1 ... )]: a[t] = (1 + 2·i^t + (-1)^t)/4.
        let a = analytic_signal(&[1.0, 0.0, 0.0, 0.0]).unwrap();
        let want = [
            Complex64::new(1.0, 0.0),
            Complex64::new(0.0, 0.5),
            Complex64::new(0.0, 0.0),
            Complex64::new(0.0, -0.5),
        ];
        for (g, w) in a.iter().zip(want) {
            assert!((g - w).norm() < 1e-15, "{a:?}");
        }
        // n = 3, x = [1,0,0]: one-sided [1,2,0] -> a[t] = (1 + 2·w^t)/3, w = e^{2πi/3}.
        let a = analytic_signal(&[1.0, 0.0, 0.0]).unwrap();
        for (t, g) in a.iter().enumerate() {
            let w = Complex64::from_polar(1.0, 2.0 * PI * t as f64 / 3.0);
            assert!((g - (1.0 + 2.0 * w) / 3.0).norm() < 1e-15);
        }
        assert_eq!(phase_angle(&[Complex64::new(-1.0, 0.0)]), vec![PI]);
    }

    #[test]
    fn padded_plan_and_fast_lengths() {
        // 5-smooth lengths by hand: 7 -> 8, 11 -> 12, 13 -> 15, 17 -> 18, 49 -> 50, 1001 -> 1024
        for (n, want) in [
            (1, 1),
            (6, 6),
            (7, 8),
            (11, 12),
            (13, 15),
            (17, 18),
            (49, 50),
            (1001, 1024),
            (1_800_000, 1_800_000),
        ] {
            assert_eq!(next_fast_len(n), want, "n={n}");
        }
        // nfft = n gives the unpadded transform; nfft < n is refused
        let x = [1.0, 0.0, 0.0, 0.0];
        let plan = HilbertPlan::padded(4, 4).unwrap();
        assert_eq!(plan.analytic(&x).unwrap(), analytic_signal(&x).unwrap());
        assert!(HilbertPlan::padded(4, 3).is_err());
        // x = [1, 0, 0] padded to 4: the first 3 samples of the n = 4 case
        let a = HilbertPlan::padded(3, 4)
            .unwrap()
            .analytic(&[1.0, 0.0, 0.0])
            .unwrap();
        let b = analytic_signal(&x).unwrap();
        assert_eq!(&a[..], &b[..3]);
        assert_eq!(envelope_padded(&[1.0, 0.0, 0.0], 4).unwrap()[1], 0.5);
    }

    #[test]
    fn errors() {
        assert_eq!(analytic_signal(&[]).unwrap_err(), DspError::EmptySignal);
        assert!(hilbert_features_channels(&[1.0; 5], 2).is_err());
        assert!(hilbert_features_channels(&[1.0; 4], 0).is_err());
        let plan = HilbertPlan::new(4).unwrap();
        assert!(plan.analytic(&[1.0; 3]).is_err());
        let two = hilbert_features_channels(&[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0], 2).unwrap();
        assert_eq!(two[0], two[1]);
    }
}
