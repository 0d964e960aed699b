//! IIR filters as second-order sections (SOS): Butterworth design as scipy's
//! `iirfilter(order, band, fs=fs, btype=…, ftype="butter", output="sos")`
//! (analog prototype, band transform, bilinear transform, poles paired with their
//! nearest zeros), and zero-phase filtering as scipy's `sosfiltfilt` (odd extension
//! of `3 · (2·sections + 1)` samples at each end, steady-state initial conditions
//! from `sosfilt_zi`), on time-major multi-channel blocks.
//!
//! [`filtfilt_chunks`] filters a long series in chunks, each read with a margin
//! on both sides and filtered on its own (as SpikeInterface's `FilterRecording`),
//! so memory is bounded by the chunk; the margin decides how close the result is to
//! one pass over the whole series.

use crate::error::{DspError, Result};
use rustfft::num_complex::Complex64;
use std::ops::Range;

/// A filter's band: edges in Hz.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Band {
    /// Pass between the two edges.
    Bandpass(f64, f64),
    /// Pass above the edge.
    Highpass(f64),
    /// Pass below the edge.
    Lowpass(f64),
}

/// A cascade of second-order sections, each `[b0, b1, b2, 1, a1, a2]` (scipy's layout).
#[derive(Clone, Debug, PartialEq)]
pub struct Sos {
    /// The sections, first applied first.
    pub sections: Vec<[f64; 6]>,
}

fn bad(name: &'static str, reason: impl Into<String>) -> DspError {
    DspError::InvalidParameter {
        name,
        reason: reason.into(),
    }
}

/// Designs a digital Butterworth filter of `order` for `band` at sampling rate `fs`
/// as second-order sections, as `scipy.signal.iirfilter(order, band, fs=fs,
/// btype=…, ftype="butter", output="sos")`.
pub fn butter_sos(order: usize, band: Band, fs: f64) -> Result<Sos> {
    if !(fs.is_finite() && fs > 0.0) {
        return Err(DspError::InvalidSamplingRate(fs));
    }
    if order == 0 || order > 24 {
        return Err(bad("order", format!("{order} is not in 1..=24")));
    }
    let nyq = fs / 2.0;
    let edge_ok = |f: f64| f.is_finite() && f > 0.0 && f < nyq;
    let edges: Vec<f64> = match band {
        Band::Bandpass(lo, hi) => vec![lo, hi],
        Band::Highpass(f) | Band::Lowpass(f) => vec![f],
    };
    if !edges.iter().all(|&f| edge_ok(f)) || (edges.len() == 2 && edges[0] >= edges[1]) {
        return Err(DspError::InvalidBandEdges(format!(
            "{edges:?} Hz must be increasing and inside (0, {nyq}) Hz (the Nyquist frequency)"
        )));
    }
    // analog prototype (buttap): poles on the unit circle's left half, no zeros, k = 1
    let n = order as f64;
    let proto: Vec<Complex64> = (0..order)
        .map(|i| {
            let m = -(n - 1.0) + 2.0 * i as f64;
            -Complex64::from_polar(1.0, std::f64::consts::PI * m / (2.0 * n))
        })
        .collect();
    // pre-warped edges (scipy: fs = 2 after normalising, warped = 4·tan(π·Wn/2))
    let warp = |f: f64| 4.0 * (std::f64::consts::PI * (f / nyq) / 2.0).tan();
    let (zeros, poles, gain) = match band {
        Band::Lowpass(f) => {
            let w = warp(f);
            (
                vec![],
                proto.iter().map(|p| p * w).collect(),
                w.powi(order as i32),
            )
        }
        Band::Highpass(f) => {
            let w = warp(f);
            let poles: Vec<Complex64> = proto.iter().map(|p| Complex64::new(w, 0.0) / p).collect();
            // k · real(prod(−z) / prod(−p)) with no prototype zeros
            let prod: Complex64 = proto.iter().map(|p| -p).product();
            (
                vec![Complex64::new(0.0, 0.0); order],
                poles,
                (1.0 / prod).re,
            )
        }
        Band::Bandpass(lo, hi) => {
            let (w1, w2) = (warp(lo), warp(hi));
            let (wo, bw) = ((w1 * w2).sqrt(), w2 - w1);
            let mut poles = Vec::with_capacity(2 * order);
            let lp: Vec<Complex64> = proto.iter().map(|p| p * (bw / 2.0)).collect();
            for p in &lp {
                poles.push(p + (p * p - wo * wo).sqrt());
            }
            for p in &lp {
                poles.push(p - (p * p - wo * wo).sqrt());
            }
            (
                vec![Complex64::new(0.0, 0.0); order],
                poles,
                bw.powi(order as i32),
            )
        }
    };
    // bilinear transform at fs = 2 (fs2 = 4); zeros at infinity go to z = −1
    let fs2 = Complex64::new(4.0, 0.0);
    let degree = poles.len() - zeros.len();
    let mut zd: Vec<Complex64> = zeros.iter().map(|z| (fs2 + z) / (fs2 - z)).collect();
    zd.extend(std::iter::repeat_n(Complex64::new(-1.0, 0.0), degree));
    let pd: Vec<Complex64> = poles.iter().map(|p| (fs2 + p) / (fs2 - p)).collect();
    let num: Complex64 = zeros.iter().map(|z| fs2 - z).product();
    let den: Complex64 = poles.iter().map(|p| fs2 - p).product();
    let k = gain * (num / den).re;
    Ok(zpk_to_sos(zd, pd, k))
}

fn is_real(z: &Complex64) -> bool {
    z.im.abs() <= 1e-12 * z.norm().max(1.0)
}

/// Groups zeros and poles into sections, each pole pair with the zeros nearest to
/// it, sections of poles closest to the unit circle last; the gain goes to the first.
fn zpk_to_sos(mut zeros: Vec<Complex64>, poles: Vec<Complex64>, k: f64) -> Sos {
    // pole pairs: conjugate pairs, and real poles two by two (closest to the circle first)
    let dist = |p: &Complex64| (1.0 - p.norm()).abs();
    let mut pairs: Vec<(Complex64, Option<Complex64>)> = vec![];
    let mut reals: Vec<Complex64> = vec![];
    for p in &poles {
        if is_real(p) {
            reals.push(Complex64::new(p.re, 0.0));
        } else if p.im > 0.0 {
            pairs.push((*p, Some(p.conj())));
        }
    }
    reals.sort_by(|a, b| dist(a).total_cmp(&dist(b)));
    for two in reals.chunks(2) {
        pairs.push((two[0], two.get(1).copied()));
    }
    pairs.sort_by(|a, b| dist(&a.0).total_cmp(&dist(&b.0)));
    let mut sections = Vec::with_capacity(pairs.len());
    for (p1, p2) in pairs {
        let nearest = |zs: &Vec<Complex64>, real_only: bool| {
            zs.iter()
                .enumerate()
                .filter(|(_, z)| !real_only || is_real(z))
                .min_by(|a, b| (a.1 - p1).norm().total_cmp(&(b.1 - p1).norm()))
                .map(|(i, _)| i)
        };
        let mut zs: Vec<Complex64> = vec![];
        if let Some(i) = nearest(&zeros, false) {
            let z = zeros.remove(i);
            zs.push(z);
            if is_real(&z) {
                if let Some(j) = nearest(&zeros, true) {
                    zs.push(zeros.remove(j));
                }
            } else {
                // its conjugate
                if let Some(j) = zeros
                    .iter()
                    .position(|w| (w - z.conj()).norm() <= 1e-9 * z.norm().max(1.0))
                {
                    zs.push(zeros.remove(j));
                }
            }
        }
        let poly = |r: &[Complex64]| -> [f64; 3] {
            match r {
                [] => [1.0, 0.0, 0.0],
                [a] => [1.0, -a.re, 0.0],
                [a, b, ..] => [1.0, -(a + b).re, (a * b).re],
            }
        };
        let ps: Vec<Complex64> = std::iter::once(p1).chain(p2).collect();
        let (b, a) = (poly(&zs), poly(&ps));
        sections.push([b[0], b[1], b[2], a[0], a[1], a[2]]);
    }
    // processed closest-to-the-circle first; applied last
    sections.reverse();
    if let Some(first) = sections.first_mut() {
        for c in &mut first[..3] {
            *c *= k;
        }
    }
    Sos { sections }
}

impl Sos {
    /// Number of sections.
    pub fn len(&self) -> usize {
        self.sections.len()
    }

    /// True when there are no sections.
    pub fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }

    /// scipy's `sosfilt_zi`: each section's state at rest under a unit step.
    pub fn zi(&self) -> Vec<[f64; 2]> {
        let mut scale = 1.0;
        self.sections
            .iter()
            .map(|s| {
                let (b, a) = (&s[..3], &s[3..]);
                let g = (b[0] + b[1] + b[2]) / (a[0] + a[1] + a[2]);
                let z1 = b[2] - a[2] * g;
                let z0 = b[1] - a[1] * g + z1;
                let out = [scale * z0, scale * z1];
                scale *= g;
                out
            })
            .collect()
    }

    /// scipy's default `padlen` for `sosfiltfilt`: `3 · (2·sections + 1 − k)` with `k`
    /// the sections whose `b2` (or `a2`) is zero.
    pub fn padlen(&self) -> usize {
        let zb = self.sections.iter().filter(|s| s[2] == 0.0).count();
        let za = self.sections.iter().filter(|s| s[5] == 0.0).count();
        3 * (2 * self.sections.len() + 1 - zb.min(za))
    }

    /// Runs the cascade over `n` time-major rows of `nc` channels in `data`, forward
    /// (`rev` false) or from the last row back, starting from the states `z`
    /// (`[section][channel][2]` flattened).
    fn run(&self, data: &mut [f64], nc: usize, z: &mut [f64], rev: bool) {
        let n = data.len() / nc;
        let ns = self.sections.len();
        let mut step = |t: usize, z: &mut [f64]| {
            let row = &mut data[t * nc..(t + 1) * nc];
            for (s, sec) in self.sections.iter().enumerate() {
                let [b0, b1, b2, _, a1, a2] = *sec;
                let zs = &mut z[s * 2 * nc..(s + 1) * 2 * nc];
                let (z0, z1) = zs.split_at_mut(nc);
                for ((v, s0), s1) in row.iter_mut().zip(z0.iter_mut()).zip(z1.iter_mut()) {
                    let x = *v;
                    let y = b0 * x + *s0;
                    *s0 = b1 * x - a1 * y + *s1;
                    *s1 = b2 * x - a2 * y;
                    *v = y;
                }
            }
        };
        debug_assert_eq!(z.len(), ns * 2 * nc);
        if rev {
            for t in (0..n).rev() {
                step(t, z);
            }
        } else {
            for t in 0..n {
                step(t, z);
            }
        }
    }

    /// Zero-phase filtering of `n = x.len() / nc` time-major rows of `nc` channels,
    /// as `scipy.signal.sosfiltfilt(sos, x, axis=0)` with its defaults; the rows must
    /// number more than [`Sos::padlen`].
    pub fn filtfilt(&self, x: &[f64], nc: usize) -> Result<Vec<f64>> {
        if nc == 0 || x.len() % nc != 0 {
            return Err(DspError::ChannelLayout {
                len: x.len(),
                n_channels: nc,
            });
        }
        let n = x.len() / nc;
        let edge = self.padlen();
        if n <= edge {
            return Err(bad(
                "x",
                format!("{n} samples; zero-phase filtering needs more than {edge}"),
            ));
        }
        if self.is_empty() {
            return Ok(x.to_vec());
        }
        // odd extension: 2·x[0] − x[edge..1], and 2·x[n−1] − x[n−2..n−2−edge]
        let mut ext = vec![0.0; (n + 2 * edge) * nc];
        for i in 0..edge {
            for c in 0..nc {
                ext[i * nc + c] = 2.0 * x[c] - x[(edge - i) * nc + c];
                ext[(edge + n + i) * nc + c] = 2.0 * x[(n - 1) * nc + c] - x[(n - 2 - i) * nc + c];
            }
        }
        ext[edge * nc..(edge + n) * nc].copy_from_slice(x);
        let zi = self.zi();
        let ns = self.len();
        let init = |z: &mut Vec<f64>, row: &[f64]| {
            for s in 0..ns {
                for c in 0..nc {
                    z[s * 2 * nc + c] = zi[s][0] * row[c];
                    z[s * 2 * nc + nc + c] = zi[s][1] * row[c];
                }
            }
        };
        let mut z = vec![0.0; ns * 2 * nc];
        init(&mut z, &ext[..nc]);
        self.run(&mut ext, nc, &mut z, false);
        let last = ext[(n + 2 * edge - 1) * nc..].to_vec();
        init(&mut z, &last);
        self.run(&mut ext, nc, &mut z, true);
        Ok(ext[edge * nc..(edge + n) * nc].to_vec())
    }
}

/// Zero-phase filters a series of `n` time-major rows of `nc` channels in chunks of
/// `chunk` rows: each chunk is read with up to `margin` rows on each side
/// (`read(rows, out)` fills `out` with rows `rows`), filtered with
/// [`Sos::filtfilt`], and its own rows handed to `emit(first_row, block)` in order.
/// Chunks are read in order, filtered a batch at a time on the rayon pool (one
/// chunk per thread; each chunk's result does not depend on the others), and
/// emitted in order. A chunk (with margins) too short to filter is an error.
pub fn filtfilt_chunks<E: From<DspError>>(
    sos: &Sos,
    n: usize,
    nc: usize,
    (chunk, margin): (usize, usize),
    mut read: impl FnMut(Range<usize>, &mut [f64]) -> Result<(), E>,
    mut emit: impl FnMut(usize, &[f64]) -> Result<(), E>,
) -> Result<(), E> {
    use rayon::prelude::*;
    if chunk == 0 {
        return Err(bad("chunk", "must be at least 1 row").into());
    }
    let threads = rayon::current_num_threads().max(1);
    let mut s = 0;
    while s < n {
        let mut batch = Vec::with_capacity(threads);
        while batch.len() < threads && s < n {
            let e = (s + chunk).min(n);
            let (a, b) = (s.saturating_sub(margin), (e + margin).min(n));
            let mut buf = vec![0.0; (b - a) * nc];
            read(a..b, &mut buf)?;
            batch.push((s, e, a, buf));
            s = e;
        }
        let filtered: Vec<Result<Vec<f64>>> = batch
            .par_iter()
            .map(|(s, e, a, buf)| {
                let y = sos.filtfilt(buf, nc)?;
                Ok(y[(s - a) * nc..(e - a) * nc].to_vec())
            })
            .collect();
        for ((s, ..), y) in batch.iter().zip(filtered) {
            emit(*s, &y?)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hand-derived: a first-order Butterworth low-pass at fs/4 is
    // b = [½, ½], a = [1, 0] (tan(π/4) = 1 → the pole at z = 0).
    #[test]
    fn first_order_lowpass_at_a_quarter_of_the_rate() {
        let sos = butter_sos(1, Band::Lowpass(250.0), 1000.0).unwrap();
        let s = sos.sections[0];
        for (got, want) in s.iter().zip([0.5, 0.5, 0.0, 1.0, 0.0, 0.0]) {
            assert!((got - want).abs() < 1e-12, "{s:?}");
        }
    }

    // A band-pass has zero gain at DC and at Nyquist, unit gain at the centre.
    #[test]
    fn bandpass_gains() {
        let sos = butter_sos(5, Band::Bandpass(300.0, 6000.0), 30000.0).unwrap();
        assert_eq!(sos.len(), 5);
        assert_eq!(sos.padlen(), 33);
        let gain = |f: f64| {
            let w = Complex64::from_polar(1.0, -2.0 * std::f64::consts::PI * f / 30000.0);
            sos.sections
                .iter()
                .map(|s| (s[0] + s[1] * w + s[2] * w * w) / (s[3] + s[4] * w + s[5] * w * w))
                .product::<Complex64>()
                .norm()
        };
        assert!(gain(0.0) < 1e-12 && gain(15000.0) < 1e-12);
        assert!((gain((300.0f64 * 6000.0).sqrt()) - 1.0).abs() < 1e-3);
        // −3 dB at the edges
        assert!((gain(300.0) - 0.5f64.sqrt()).abs() < 1e-9);
        assert!((gain(6000.0) - 0.5f64.sqrt()).abs() < 1e-9);
    }

    // Zero-phase filtering of a constant through a filter with unit DC gain is the constant.
    #[test]
    fn filtfilt_keeps_a_constant_through_a_lowpass() {
        let sos = butter_sos(4, Band::Lowpass(100.0), 1000.0).unwrap();
        let x = vec![3.0; 200];
        let y = sos.filtfilt(&x, 2).unwrap();
        assert!(y.iter().all(|v| (v - 3.0).abs() < 1e-9));
        assert!(sos.filtfilt(&x[..20], 2).is_err());
        assert!(sos.filtfilt(&x[..21], 2).is_err());
    }

    // With margins as long as the series every chunk is the whole-series pass: the
    // chunks cover every row once, in order, with the same values.
    #[test]
    fn chunks_cover_every_row_once_in_order() {
        let sos = butter_sos(2, Band::Highpass(50.0), 1000.0).unwrap();
        let x: Vec<f64> = (0..1000).map(|i| ((i * 7919) % 101) as f64).collect();
        let whole = sos.filtfilt(&x, 2).unwrap();
        let (mut got, mut next) = (vec![], 0);
        let read = |r: Range<usize>, out: &mut [f64]| {
            out.copy_from_slice(&x[r.start * 2..r.end * 2]);
            Ok::<(), DspError>(())
        };
        let emit = |row0: usize, b: &[f64]| {
            assert_eq!(row0, next);
            next += b.len() / 2;
            got.extend_from_slice(b);
            Ok(())
        };
        filtfilt_chunks(&sos, 500, 2, (64, 500), read, emit).unwrap();
        assert_eq!(got, whole);
    }

    #[test]
    fn bad_designs_are_errors() {
        assert!(butter_sos(5, Band::Bandpass(300.0, 16000.0), 30000.0).is_err());
        assert!(butter_sos(5, Band::Bandpass(600.0, 300.0), 30000.0).is_err());
        assert!(butter_sos(0, Band::Lowpass(100.0), 1000.0).is_err());
        assert!(butter_sos(2, Band::Lowpass(100.0), f64::NAN).is_err());
    }
}
