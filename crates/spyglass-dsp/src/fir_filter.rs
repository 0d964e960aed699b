//! FIR filtering with delay compensation and decimation, as Spyglass's LFPV1 computes it.
//!
//! For a signal `x` of `n` samples and a filter `h` of `M` taps, the output is
//! the full convolution `c = x * h` (`x` zero-padded on both sides) sampled at
//! `c[(M-1)/2 + ds·k]` for `k = 0 … ceil(n/ds) − 1`: the group delay is removed
//! and every `ds`-th sample kept, so output `k` lines up with input timestamp
//! `ds·k` ([`decimated_indices`]). Only the kept outputs are computed.
//!
//! Two kernels compute the same numbers:
//! - **FFT overlap-save** (the default for long filters): each block of `L = ds·L'`
//!   samples goes through one real FFT; the product with the filter spectrum is
//!   folded ("aliased") down to `L'` bins, whose inverse real FFT of length `L'`
//!   is exactly the decimated block output. The filter spectrum is pre-rotated
//!   so the wanted samples land on multiples of `ds`, and pre-scaled by `1/L`.
//! - **Direct strided dot products** for short filters: `M` multiply-adds per
//!   kept output (`M/ds` per input sample), four outputs per pass sharing the
//!   coefficient loads, with AVX2/FMA when the CPU has it.
//!
//! Multi-channel entry points take a flat channel-major buffer (`n_channels`
//! rows of `n` samples) and run channels in parallel with rayon; the `_serial`
//! variants stay on the calling thread.
//!
//! Edge rule: a signal (or each range in [`FirDecimator::filter_ranges`]) is
//! always zero-padded at both ends. That is Spyglass's in-memory path; its
//! out-of-core path reads real neighbouring samples instead, so its output
//! depends on free RAM (Spyglass #1653) — one rule here. Signals shorter than
//! the filter are rejected ([`DspError::SignalShorterThanFilter`]) although the
//! zero-padded convolution would be defined; callers decide whether to skip them.

use std::ops::Range;
use std::sync::Arc;

use rayon::prelude::*;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::num_complex::Complex;

use crate::error::{DspError, Result};

/// A raw sample type the filters accept (converted to `f64` on the fly).
pub trait Sample: Copy + Send + Sync + 'static {
    /// The sample as `f64`.
    fn to_f64(self) -> f64;
}

impl Sample for i16 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}
impl Sample for i32 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}
impl Sample for f32 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}
impl Sample for f64 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
}

/// Which kernel a [`FirDecimator`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirMethod {
    /// Pick the cheaper kernel from a cost model (the default).
    Auto,
    /// Direct strided dot products.
    Direct,
    /// FFT overlap-save; `fft_len` (a multiple of `2·ds`, at least the tap count) or automatic.
    Fft {
        /// Block FFT length `L`, or `None` to choose it.
        fft_len: Option<usize>,
    },
}

/// Number of outputs for `n` input samples decimated by `ds`: `ceil(n / ds)`.
pub fn decimated_len(n: usize, ds: usize) -> usize {
    if ds == 0 {
        0
    } else {
        n.div_ceil(ds)
    }
}

/// Input indices the decimated outputs line up with: `0, ds, 2·ds, …` below `n`.
pub fn decimated_indices(n: usize, ds: usize) -> Result<std::iter::StepBy<Range<usize>>> {
    if ds == 0 {
        return Err(DspError::ZeroDecimation);
    }
    Ok((0..n).step_by(ds))
}

/// Output timestamps: every `ds`-th input timestamp (`ts[0::ds]`).
pub fn decimate_timestamps(timestamps: &[f64], ds: usize) -> Result<Vec<f64>> {
    Ok(decimated_indices(timestamps.len(), ds)?
        .map(|i| timestamps[i])
        .collect())
}

/// Casts to `i16` by truncation toward zero, as numpy's `astype(int16)` does.
///
/// Values beyond the `i16` range saturate and NaN becomes 0 (numpy leaves those
/// undefined); a Spyglass LFP stays far inside the range.
pub fn truncate_to_i16(x: &[f64]) -> Vec<i16> {
    x.iter().map(|&v| v as i16).collect()
}

/// Transposes a row-major `rows × cols` matrix (e.g. time-major `(T, C)` to channel-major).
///
/// Large matrices are transposed in parallel on the rayon pool.
pub fn transpose<T: Copy + Default + Send + Sync>(
    data: &[T],
    rows: usize,
    cols: usize,
) -> Result<Vec<T>> {
    if rows.checked_mul(cols) != Some(data.len()) {
        return Err(DspError::ChannelLayout {
            len: data.len(),
            n_channels: cols,
        });
    }
    let mut out = vec![T::default(); data.len()];
    if data.is_empty() {
        return Ok(out);
    }
    // Each task writes the output rows of a band of input columns one cache line wide.
    let cb = (64 / std::mem::size_of::<T>().max(1)).clamp(4, 64);
    let task = |(bi, chunk): (usize, &mut [T])| {
        let c0 = bi * cb;
        let width = chunk.len() / rows;
        for r in 0..rows {
            let src = &data[r * cols + c0..r * cols + c0 + width];
            for (ci, v) in src.iter().enumerate() {
                chunk[ci * rows + r] = *v;
            }
        }
    };
    if data.len() >= 1 << 20 {
        out.par_chunks_mut(rows * cb).enumerate().for_each(task);
    } else {
        out.chunks_mut(rows * cb).enumerate().for_each(task);
    }
    Ok(out)
}

fn split_channels(len: usize, n_channels: usize) -> Result<usize> {
    if n_channels == 0 || len % n_channels != 0 {
        return Err(DspError::ChannelLayout { len, n_channels });
    }
    Ok(len / n_channels)
}

/// A planned FIR filter + decimator, reusable across channels and threads.
pub struct FirDecimator {
    taps: Vec<f64>,
    ds: usize,
    kernel: Kernel,
}

enum Kernel {
    Direct { reversed: Vec<f64> },
    Fft(FftKernel),
}

struct FftKernel {
    /// Block FFT length `L = ds·L'`.
    fft_len: usize,
    /// Decimated block length `L'` (even).
    dec_len: usize,
    /// Kept outputs per block.
    outs_per_block: usize,
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
    /// Rotated filter spectrum scaled by `1/L`, bins `0 ..= L/2`.
    spectrum: Vec<Complex<f64>>,
}

/// Per-thread working buffers.
struct Scratch {
    block: Vec<f64>,
    spec: Vec<Complex<f64>>,
    fold: Vec<Complex<f64>>,
    dec: Vec<f64>,
    fwd_scratch: Vec<Complex<f64>>,
    inv_scratch: Vec<Complex<f64>>,
    padded: Vec<f64>,
}

impl std::fmt::Debug for FirDecimator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirDecimator")
            .field("ntaps", &self.taps.len())
            .field("ds", &self.ds)
            .field("method", &self.method())
            .finish()
    }
}

/// Relative cost of one direct multiply-add versus one FFT cost unit (calibrated by the bench).
const DIRECT_MAC_COST: f64 = 0.5;
/// Largest accepted decimation factor (keeps index arithmetic far from overflow).
pub const MAX_DECIMATION: usize = 1 << 24;

/// Largest automatic FFT block length for filters shorter than a quarter of it.
///
/// Measured with the 6401-tap LFP filter and ds = 30 on one core with 2 MiB of L2
/// (`LFP_BENCH_KERNELS=1 cargo bench --bench lfp_fir`): throughput rises with L
/// up to L = 30 720–61 440 (≈0.7–1.5 MiB of buffers) and falls beyond, once the
/// buffers leave the L2 cache, although larger blocks need fewer operations.
const MAX_AUTO_FFT_LEN: usize = 1 << 16;

/// FFT cost per input sample of a block length `l` (arbitrary units).
fn fft_cost(l: usize, m: usize, ds: usize) -> f64 {
    let p = (l - m) / ds + 1;
    let lf = l as f64;
    // Forward real FFT of L, spectrum product + fold (~L), inverse of L/ds.
    let work = 0.5 * lf * lf.log2() + 2.0 * lf + 0.5 * (lf / ds as f64) * (lf / ds as f64).log2();
    work / (p * ds) as f64
}

/// Picks `L = ds·L'` with `L'` even and FFT-friendly, minimising the cost per sample.
fn choose_fft_len(m: usize, ds: usize, n: Option<usize>) -> usize {
    let mut best: Option<(f64, usize)> = None;
    // Smallest L covering the whole signal in one block, when the length is known.
    let single_block = n.map(|n| m + ds * (decimated_len(n, ds) - 1));
    let mut consider = |l: usize| {
        if l < m {
            return;
        }
        let c = fft_cost(l, m, ds);
        if best.is_none_or(|(bc, _)| c < bc) {
            best = Some((c, l));
        }
    };
    for base in [2usize, 3] {
        let mut dec = base;
        while let Some(l) = ds.checked_mul(dec) {
            if l > MAX_AUTO_FFT_LEN.max(m.saturating_mul(4)) {
                break;
            }
            if let Some(sb) = single_block {
                // No point in blocks far larger than the signal needs.
                if l >= sb {
                    consider(l);
                    break;
                }
            }
            consider(l);
            dec *= 2;
        }
    }
    match best {
        Some((_, l)) => l,
        // Filters longer than the search range: smallest admissible length.
        None => ds * (2 * m.div_ceil(2 * ds)).max(2),
    }
}

impl FftKernel {
    fn new(taps: &[f64], ds: usize, fft_len: usize) -> Result<Self> {
        let m = taps.len();
        if fft_len < m || fft_len % ds != 0 || (fft_len / ds) % 2 != 0 || fft_len > 1 << 28 {
            return Err(DspError::InvalidParameter {
                name: "fft_len",
                reason: format!(
                    "{fft_len} must be >= the {m} taps, <= 2^28 and a multiple of 2·ds = {}",
                    2 * ds
                ),
            });
        }
        let dec_len = fft_len / ds;
        let mut planner = RealFftPlanner::<f64>::new();
        let forward = planner.plan_fft_forward(fft_len);
        let inverse = planner.plan_fft_inverse(dec_len);
        // Filter rotated left by M-1 so circular output p is full-convolution
        // index (block start + p), scaled by 1/L for the unnormalised inverse.
        let mut rotated = vec![0.0; fft_len];
        let scale = 1.0 / fft_len as f64;
        for (i, &h) in taps.iter().enumerate() {
            let pos = (i + fft_len - (m - 1)) % fft_len;
            rotated[pos] = h * scale;
        }
        let mut spectrum = forward.make_output_vec();
        forward
            .process(&mut rotated, &mut spectrum)
            .map_err(|e| fft_error(&e))?;
        Ok(FftKernel {
            fft_len,
            dec_len,
            outs_per_block: (fft_len - m) / ds + 1,
            forward,
            inverse,
            spectrum,
        })
    }
}

fn fft_error(e: &dyn std::fmt::Display) -> DspError {
    DspError::InvalidParameter {
        name: "fft",
        reason: e.to_string(),
    }
}

impl FirDecimator {
    /// Plans a filter with decimation factor `ds` (1 = none), choosing the kernel.
    pub fn new(taps: &[f64], ds: usize) -> Result<Self> {
        Self::with_method(taps, ds, FirMethod::Auto)
    }

    /// Plans a filter with an explicit kernel choice.
    pub fn with_method(taps: &[f64], ds: usize, method: FirMethod) -> Result<Self> {
        Self::plan(taps, ds, method, None)
    }

    /// Plans a filter tuned for signals of `n` samples (smaller FFT blocks for short signals).
    pub fn for_length(taps: &[f64], ds: usize, n: usize) -> Result<Self> {
        Self::plan(taps, ds, FirMethod::Auto, Some(n.max(1)))
    }

    fn plan(taps: &[f64], ds: usize, method: FirMethod, n: Option<usize>) -> Result<Self> {
        if taps.is_empty() {
            return Err(DspError::EmptyFilter);
        }
        if let Some(index) = taps.iter().position(|t| !t.is_finite()) {
            return Err(DspError::NonFiniteCoefficient { index });
        }
        if ds == 0 {
            return Err(DspError::ZeroDecimation);
        }
        if ds > MAX_DECIMATION {
            return Err(DspError::InvalidParameter {
                name: "ds",
                reason: format!("decimation factor {ds} exceeds {MAX_DECIMATION}"),
            });
        }
        let m = taps.len();
        let method = match method {
            FirMethod::Auto => {
                let l = choose_fft_len(m, ds, n);
                let direct = DIRECT_MAC_COST * m as f64 / ds as f64;
                if direct <= fft_cost(l, m, ds) {
                    FirMethod::Direct
                } else {
                    FirMethod::Fft { fft_len: Some(l) }
                }
            }
            other => other,
        };
        let kernel = match method {
            FirMethod::Direct => Kernel::Direct {
                reversed: taps.iter().rev().copied().collect(),
            },
            FirMethod::Fft { fft_len } => {
                let l = fft_len.unwrap_or_else(|| choose_fft_len(m, ds, n));
                Kernel::Fft(FftKernel::new(taps, ds, l)?)
            }
            FirMethod::Auto => unreachable!("resolved above"),
        };
        Ok(FirDecimator {
            taps: taps.to_vec(),
            ds,
            kernel,
        })
    }

    /// The filter coefficients.
    pub fn taps(&self) -> &[f64] {
        &self.taps
    }

    /// The decimation factor.
    pub fn decimation(&self) -> usize {
        self.ds
    }

    /// The compensated group delay, `(ntaps - 1) / 2`.
    pub fn delay(&self) -> usize {
        (self.taps.len() - 1) / 2
    }

    /// The kernel in use (`Fft` carries the chosen block length).
    pub fn method(&self) -> FirMethod {
        match &self.kernel {
            Kernel::Direct { .. } => FirMethod::Direct,
            Kernel::Fft(k) => FirMethod::Fft {
                fft_len: Some(k.fft_len),
            },
        }
    }

    /// Number of outputs for an input of `n` samples, `ceil(n / ds)`.
    pub fn output_len(&self, n: usize) -> usize {
        decimated_len(n, self.ds)
    }

    fn check_len(&self, n: usize) -> Result<()> {
        if n == 0 {
            return Err(DspError::EmptySignal);
        }
        if n < self.taps.len() {
            return Err(DspError::SignalShorterThanFilter {
                len: n,
                ntaps: self.taps.len(),
            });
        }
        Ok(())
    }

    fn scratch(&self) -> Scratch {
        match &self.kernel {
            Kernel::Direct { .. } => Scratch {
                block: Vec::new(),
                spec: Vec::new(),
                fold: Vec::new(),
                dec: Vec::new(),
                fwd_scratch: Vec::new(),
                inv_scratch: Vec::new(),
                padded: Vec::new(),
            },
            Kernel::Fft(k) => Scratch {
                block: k.forward.make_input_vec(),
                spec: k.forward.make_output_vec(),
                fold: k.inverse.make_input_vec(),
                dec: k.inverse.make_output_vec(),
                fwd_scratch: k.forward.make_scratch_vec(),
                inv_scratch: k.inverse.make_scratch_vec(),
                padded: Vec::new(),
            },
        }
    }

    /// Filters and decimates one channel.
    pub fn filter<T: Sample>(&self, x: &[T]) -> Result<Vec<f64>> {
        let mut out = vec![0.0; self.output_len(x.len())];
        self.filter_into(x, &mut out)?;
        Ok(out)
    }

    /// Filters and decimates one channel into `out` (length `ceil(n / ds)`).
    pub fn filter_into<T: Sample>(&self, x: &[T], out: &mut [f64]) -> Result<()> {
        self.check_len(x.len())?;
        let expected = self.output_len(x.len());
        if out.len() != expected {
            return Err(DspError::OutputLength {
                got: out.len(),
                expected,
            });
        }
        let mut s = self.scratch();
        self.run(x, out, &mut s)
    }

    /// Filters a flat channel-major buffer on the rayon pool; output is channel-major.
    pub fn filter_channels<T: Sample>(&self, data: &[T], n_channels: usize) -> Result<Vec<f64>> {
        let n = split_channels(data.len(), n_channels)?;
        self.check_len(n)?;
        let n_out = self.output_len(n);
        let mut out = vec![0.0; n_out * n_channels];
        out.par_chunks_mut(n_out)
            .zip(data.par_chunks(n))
            .try_for_each_init(|| self.scratch(), |s, (o, x)| self.run(x, o, s))?;
        Ok(out)
    }

    /// Filters a flat channel-major buffer on the calling thread only.
    pub fn filter_channels_serial<T: Sample>(
        &self,
        data: &[T],
        n_channels: usize,
    ) -> Result<Vec<f64>> {
        let n = split_channels(data.len(), n_channels)?;
        self.check_len(n)?;
        let n_out = self.output_len(n);
        let mut out = vec![0.0; n_out * n_channels];
        let mut s = self.scratch();
        for (o, x) in out.chunks_mut(n_out).zip(data.chunks(n)) {
            self.run(x, o, &mut s)?;
        }
        Ok(out)
    }

    /// Filters a time-major `(T, C)` buffer (as NWB stores it); output is time-major too.
    ///
    /// Transposes to channel-major first (cheap next to the filtering), filters
    /// in parallel, and transposes the decimated output back.
    pub fn filter_time_major<T: Sample + Default>(
        &self,
        data: &[T],
        n_channels: usize,
    ) -> Result<Vec<f64>> {
        let n = split_channels(data.len(), n_channels)?;
        self.check_len(n)?;
        let cm = transpose(data, n, n_channels)?;
        let out = self.filter_channels(&cm, n_channels)?;
        transpose(&out, n_channels, self.output_len(n))
    }

    /// Filters each sample range of a channel-major buffer separately and concatenates, as LFPV1.
    ///
    /// Each range (e.g. from [`Intervals::sample_ranges`](crate::Intervals::sample_ranges))
    /// is filtered on its own with zero padding at its edges, then the decimated
    /// pieces are concatenated per channel. Returns the channel-major output
    /// (`n_channels` rows) and, for each output column, the input sample index it
    /// lines up with (`range.start + ds·k`), to pick the output timestamps.
    /// Every range must be non-empty, in bounds and at least as long as the filter.
    pub fn filter_ranges<T: Sample>(
        &self,
        data: &[T],
        n_channels: usize,
        ranges: &[Range<usize>],
    ) -> Result<(Vec<f64>, Vec<usize>)> {
        let n = split_channels(data.len(), n_channels)?;
        let mut indices = Vec::new();
        for r in ranges {
            if r.start > r.end || r.end > n {
                return Err(DspError::InvalidParameter {
                    name: "ranges",
                    reason: format!("range {r:?} is not within 0..{n}"),
                });
            }
            self.check_len(r.len())?;
            indices.extend(decimated_indices(r.len(), self.ds)?.map(|i| r.start + i));
        }
        let total = indices.len();
        let mut out = vec![0.0; total * n_channels];
        if total == 0 {
            return Ok((out, indices));
        }
        out.par_chunks_mut(total)
            .zip(data.par_chunks(n))
            .try_for_each_init(
                || self.scratch(),
                |s, (o, x)| {
                    let mut offset = 0;
                    for r in ranges {
                        let len = self.output_len(r.len());
                        self.run(&x[r.clone()], &mut o[offset..offset + len], s)?;
                        offset += len;
                    }
                    Ok(())
                },
            )?;
        Ok((out, indices))
    }

    /// Granule of streamed output chunks: a chunk passed to
    /// [`FirDecimator::filter_window`] starts at a multiple of it and ends at
    /// a multiple of it or at the signal's last output, so that every output is
    /// computed in exactly the same kernel pass as in [`FirDecimator::filter`]
    /// (FFT block, or group of four direct outputs) — identical to the bit.
    pub fn output_granule(&self) -> usize {
        match &self.kernel {
            Kernel::Direct { .. } => 4,
            Kernel::Fft(k) => k.outs_per_block,
        }
    }

    /// The input samples needed to compute outputs `outs` of a signal of `n` samples.
    pub fn input_span(&self, n: usize, outs: Range<usize>) -> Range<usize> {
        if outs.is_empty() || n == 0 {
            return 0..0;
        }
        let m = self.taps.len() as isize;
        let ds = self.ds as isize;
        let delay = self.delay() as isize;
        let n = n as isize;
        let (lo, hi) = match &self.kernel {
            Kernel::Direct { .. } => (
                delay + ds * outs.start as isize - (m - 1),
                delay + ds * (outs.end as isize - 1) + 1,
            ),
            Kernel::Fft(k) => {
                let p = k.outs_per_block as isize;
                let b0 = outs.start as isize / p;
                let b1 = (outs.end as isize - 1) / p;
                (
                    delay + ds * b0 * p - (m - 1),
                    delay + ds * b1 * p - (m - 1) + k.fft_len as isize,
                )
            }
        };
        lo.clamp(0, n) as usize..hi.clamp(0, n) as usize
    }

    /// Computes outputs `outs` of each channel of a signal of `n` samples from a window
    /// of it: `channels[c]` holds samples `x0 .. x0 + w` of channel `c` (every window
    /// as long) and must cover [`FirDecimator::input_span`]. `out` receives
    /// `outs.len()` outputs per channel, channel-major. The result equals the same
    /// outputs of [`FirDecimator::filter`] on the whole signal, to the bit, because
    /// `outs` must follow [`FirDecimator::output_granule`].
    pub fn filter_window<T: Sample>(
        &self,
        n: usize,
        x0: usize,
        channels: &[&[T]],
        outs: Range<usize>,
        out: &mut [f64],
    ) -> Result<()> {
        self.check_len(n)?;
        let w = channels.first().map_or(0, |c| c.len());
        if channels.iter().any(|c| c.len() != w) {
            return Err(DspError::InvalidParameter {
                name: "channels",
                reason: "windows of different lengths".into(),
            });
        }
        let total = self.output_len(n);
        let g = self.output_granule();
        if outs.start > outs.end
            || outs.end > total
            || outs.start % g != 0
            || (outs.end % g != 0 && outs.end != total)
        {
            return Err(DspError::InvalidParameter {
                name: "outs",
                reason: format!(
                    "output chunk {outs:?} of {total} must start at a multiple of {g} and end at one or at the last output"
                ),
            });
        }
        let need = self.input_span(n, outs.clone());
        if !need.is_empty() && (need.start < x0 || need.end > x0 + w) {
            return Err(DspError::InvalidParameter {
                name: "window",
                reason: format!(
                    "samples {x0}..{} do not cover the {need:?} these outputs need",
                    x0 + w
                ),
            });
        }
        let len = outs.len();
        if out.len() != len * channels.len() {
            return Err(DspError::OutputLength {
                got: out.len(),
                expected: len * channels.len(),
            });
        }
        if len == 0 {
            return Ok(());
        }
        out.par_chunks_mut(len)
            .zip(channels.par_iter())
            .try_for_each_init(
                || self.scratch(),
                |s, (o, x)| self.run_window(x, x0, n, outs.start, o, s),
            )
    }

    fn run<T: Sample>(&self, x: &[T], out: &mut [f64], s: &mut Scratch) -> Result<()> {
        self.run_window(x, 0, x.len(), 0, out, s)
    }

    /// Outputs `k0 .. k0 + out.len()` of a signal of `n` samples whose samples
    /// `x0 .. x0 + x.len()` are in `x` (covering what those outputs need).
    fn run_window<T: Sample>(
        &self,
        x: &[T],
        x0: usize,
        n: usize,
        k0: usize,
        out: &mut [f64],
        s: &mut Scratch,
    ) -> Result<()> {
        match &self.kernel {
            Kernel::Direct { reversed } => {
                direct_decimate(x, x0, n, k0, reversed, self.ds, out, &mut s.padded);
                Ok(())
            }
            Kernel::Fft(k) => self.run_fft(k, x, x0, n, k0, out, s),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn run_fft<T: Sample>(
        &self,
        k: &FftKernel,
        x: &[T],
        x0: usize,
        n: usize,
        k0: usize,
        out: &mut [f64],
        s: &mut Scratch,
    ) -> Result<()> {
        let n = n as isize;
        let x0 = x0 as isize;
        let m = self.taps.len();
        let ds = self.ds;
        let l = k.fft_len;
        let half = l / 2;
        let dec_half = k.dec_len / 2;
        let delay = self.delay() as isize;
        let first_block = k0 / k.outs_per_block;
        for (bi, out_block) in out.chunks_mut(k.outs_per_block).enumerate() {
            let b = first_block + bi;
            // Full-convolution index of this block's first kept output.
            let first = delay + (ds * b * k.outs_per_block) as isize;
            let start = first - (m as isize - 1);
            // Copy x[start .. start+L) (zero outside the signal) into the block.
            let lo = start.clamp(0, n);
            let hi = (start + l as isize).clamp(0, n);
            let dst_lo = (lo - start) as usize;
            let dst_hi = (hi - start) as usize;
            s.block[..dst_lo].fill(0.0);
            let src = &x[(lo - x0) as usize..(hi - x0) as usize];
            for (d, v) in s.block[dst_lo..dst_hi].iter_mut().zip(src) {
                *d = v.to_f64();
            }
            s.block[dst_hi..].fill(0.0);

            k.forward
                .process_with_scratch(&mut s.block, &mut s.spec, &mut s.fwd_scratch)
                .map_err(|e| fft_error(&e))?;
            // Multiply by the filter spectrum and fold the (Hermitian) length-L
            // product onto L' bins, Z[m] = sum_r C[m + r*L']: decimation in time.
            s.fold.fill(Complex::new(0.0, 0.0));
            let (spec, filt) = (&s.spec, &k.spectrum);
            for r in 0..ds {
                let base = r * k.dec_len;
                // Bins q = base + m up to L/2 are stored directly; above L/2 they
                // are conjugates of bin L - q (real input, Hermitian spectrum).
                let n_direct = if base <= half {
                    (half - base).min(dec_half) + 1
                } else {
                    0
                };
                if n_direct > 0 {
                    let range = base..base + n_direct;
                    for ((z, c), h) in s.fold[..n_direct]
                        .iter_mut()
                        .zip(&spec[range.clone()])
                        .zip(&filt[range])
                    {
                        *z += c * h;
                    }
                }
                if n_direct <= dec_half {
                    let range = l - base - dec_half..l - base - n_direct + 1;
                    for ((z, c), h) in s.fold[n_direct..=dec_half]
                        .iter_mut()
                        .zip(spec[range.clone()].iter().rev())
                        .zip(filt[range].iter().rev())
                    {
                        *z += (c * h).conj();
                    }
                }
            }
            s.fold[0].im = 0.0;
            s.fold[dec_half].im = 0.0;
            k.inverse
                .process_with_scratch(&mut s.fold, &mut s.dec, &mut s.inv_scratch)
                .map_err(|e| fft_error(&e))?;
            out_block.copy_from_slice(&s.dec[..out_block.len()]);
        }
        Ok(())
    }
}

/// Direct kernel: copies the samples outputs `k0 ..` need into a zero-padded buffer
/// (zeros outside the signal's `n` samples), then one strided dot product per output.
#[allow(clippy::too_many_arguments)]
fn direct_decimate<T: Sample>(
    x: &[T],
    x0: usize,
    n: usize,
    k0: usize,
    reversed: &[f64],
    ds: usize,
    out: &mut [f64],
    padded: &mut Vec<f64>,
) {
    if out.is_empty() {
        return;
    }
    let m = reversed.len();
    let delay = (m - 1) / 2;
    // padded[q] = x[base + q] with base = delay + ds·k0 - (m-1) (0 outside 0..n)
    let base = (delay + ds * k0) as isize - (m as isize - 1);
    let len = ds * (out.len() - 1) + m;
    padded.clear();
    padded.resize(len, 0.0);
    let lo = base.clamp(0, n as isize);
    let hi = (base + len as isize).clamp(0, n as isize);
    let dst = &mut padded[(lo - base) as usize..(hi - base) as usize];
    let src = &x[lo as usize - x0..hi as usize - x0];
    dst.iter_mut().zip(src).for_each(|(d, v)| *d = v.to_f64());
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            unsafe { direct_avx2(padded, reversed, ds, 0, out) };
            return;
        }
    }
    direct_generic::<false>(padded, reversed, ds, 0, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn direct_avx2(xp: &[f64], g: &[f64], ds: usize, delay: usize, out: &mut [f64]) {
    direct_generic::<true>(xp, g, ds, delay, out)
}

#[inline(always)]
fn madd<const FMA: bool>(a: f64, b: f64, acc: f64) -> f64 {
    if FMA {
        a.mul_add(b, acc)
    } else {
        a * b + acc
    }
}

/// `out[k] = Σ_t g[t]·xp[delay + ds·k + t]`, four outputs at a time.
#[inline(always)]
fn direct_generic<const FMA: bool>(
    xp: &[f64],
    g: &[f64],
    ds: usize,
    delay: usize,
    out: &mut [f64],
) {
    let m = g.len();
    let mut k = 0;
    while k + 4 <= out.len() {
        let j = delay + ds * k;
        let w0 = &xp[j..j + m];
        let w1 = &xp[j + ds..j + ds + m];
        let w2 = &xp[j + 2 * ds..j + 2 * ds + m];
        let w3 = &xp[j + 3 * ds..j + 3 * ds + m];
        // Eight lanes per output: two 4-wide vectors, eight independent FMA chains in all.
        const W: usize = 8;
        let mut a0 = [0.0f64; W];
        let mut a1 = [0.0f64; W];
        let mut a2 = [0.0f64; W];
        let mut a3 = [0.0f64; W];
        let lanes = g
            .chunks_exact(W)
            .zip(w0.chunks_exact(W))
            .zip(w1.chunks_exact(W))
            .zip(w2.chunks_exact(W))
            .zip(w3.chunks_exact(W));
        for ((((gg, x0), x1), x2), x3) in lanes {
            for lane in 0..W {
                a0[lane] = madd::<FMA>(gg[lane], x0[lane], a0[lane]);
                a1[lane] = madd::<FMA>(gg[lane], x1[lane], a1[lane]);
                a2[lane] = madd::<FMA>(gg[lane], x2[lane], a2[lane]);
                a3[lane] = madd::<FMA>(gg[lane], x3[lane], a3[lane]);
            }
        }
        let hsum = |a: &[f64; W]| ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
        let mut s = [hsum(&a0), hsum(&a1), hsum(&a2), hsum(&a3)];
        for t in m - m % W..m {
            s[0] = madd::<FMA>(g[t], w0[t], s[0]);
            s[1] = madd::<FMA>(g[t], w1[t], s[1]);
            s[2] = madd::<FMA>(g[t], w2[t], s[2]);
            s[3] = madd::<FMA>(g[t], w3[t], s[3]);
        }
        out[k..k + 4].copy_from_slice(&s);
        k += 4;
    }
    while k < out.len() {
        let j = delay + ds * k;
        let mut acc = 0.0;
        for (gv, xv) in g.iter().zip(&xp[j..j + m]) {
            acc = madd::<FMA>(*gv, *xv, acc);
        }
        out[k] = acc;
        k += 1;
    }
}

/// Filters and decimates one channel (kernel and block length chosen for its length).
pub fn filter_decimate<T: Sample>(x: &[T], taps: &[f64], ds: usize) -> Result<Vec<f64>> {
    FirDecimator::for_length(taps, ds, x.len())?.filter(x)
}

/// Filters and decimates a flat channel-major buffer in parallel; output is channel-major.
pub fn filter_decimate_channels<T: Sample>(
    data: &[T],
    n_channels: usize,
    taps: &[f64],
    ds: usize,
) -> Result<Vec<f64>> {
    let n = split_channels(data.len(), n_channels)?;
    FirDecimator::for_length(taps, ds, n)?.filter_channels(data, n_channels)
}

/// As [`filter_decimate_channels`] for int16 data, cast back to int16 by truncation (LFPV1).
pub fn filter_decimate_channels_i16(
    data: &[i16],
    n_channels: usize,
    taps: &[f64],
    ds: usize,
) -> Result<Vec<i16>> {
    Ok(truncate_to_i16(&filter_decimate_channels(
        data, n_channels, taps, ds,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: literal full convolution then slicing, straight from the definition.
    fn reference(x: &[f64], h: &[f64], ds: usize) -> Vec<f64> {
        let n = x.len();
        let m = h.len();
        let mut full = vec![0.0; n + m - 1];
        for (i, xi) in x.iter().enumerate() {
            for (j, hj) in h.iter().enumerate() {
                full[i + j] += xi * hj;
            }
        }
        let d = (m - 1) / 2;
        (0..n).step_by(ds).map(|k| full[d + k]).collect()
    }

    fn signal(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| ((i * 7919) % 1009) as f64 - 500.0 + (i as f64 * 0.01).sin() * 300.0)
            .collect()
    }

    #[test]
    fn hand_derived_small_case() {
        // x = [1,2,3,4,5], h = [1,1,1]: full = [1,3,6,9,12,9,5]; delay 1 -> [3,6,9,12,9].
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let h = [1.0, 1.0, 1.0];
        for method in [FirMethod::Direct, FirMethod::Fft { fft_len: None }] {
            let f = FirDecimator::with_method(&h, 1, method).unwrap();
            let y = f.filter(&x).unwrap();
            let want = [3.0, 6.0, 9.0, 12.0, 9.0];
            assert!(
                y.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12),
                "{method:?} {y:?}"
            );
            // Decimate by 2: indices 0, 2, 4 -> [3, 9, 9].
            let f = FirDecimator::with_method(&h, 2, method).unwrap();
            let y = f.filter(&x).unwrap();
            let want = [3.0, 9.0, 9.0];
            assert!(
                y.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12),
                "{method:?} {y:?}"
            );
        }
    }

    /// Windowed outputs (any chunking that follows the granule) equal the whole-signal
    /// filter to the bit, for both kernels; misaligned chunks and short windows are refused.
    #[test]
    fn windows_equal_the_whole_signal_to_the_bit() {
        let x: Vec<f64> = (0..9000)
            .map(|i| ((i * 7919) % 1013) as f64 - 500.0 + (i as f64 * 0.01).sin() * 300.0)
            .collect();
        let taps: Vec<f64> = (0..301)
            .map(|i| ((i as f64 - 150.0) / 40.0).exp2().recip().min(1.0) / 301.0)
            .collect();
        for method in [
            FirMethod::Direct,
            FirMethod::Fft {
                fft_len: Some(1200),
            },
        ] {
            let dec = FirDecimator::with_method(&taps, 3, method).unwrap();
            let whole = dec.filter(&x).unwrap();
            let total = whole.len();
            let g = dec.output_granule();
            for step in [g, 3 * g, 7 * g] {
                let mut got = vec![];
                let mut k0 = 0;
                while k0 < total {
                    let k1 = (k0 + step).min(total);
                    let need = dec.input_span(x.len(), k0..k1);
                    // a window a little wider than needed, starting before it
                    let lo = need.start.saturating_sub(5);
                    let hi = (need.end + 5).min(x.len());
                    let mut out = vec![0.0; k1 - k0];
                    dec.filter_window(x.len(), lo, &[&x[lo..hi]], k0..k1, &mut out)
                        .unwrap();
                    got.extend(out);
                    k0 = k1;
                }
                let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&whole), "{method:?} step {step}");
            }
            if g > 1 {
                let mut out = vec![0.0; g];
                assert!(dec
                    .filter_window(x.len(), 0, &[&x[..]], 1..1 + g, &mut out)
                    .is_err());
            }
            let need = dec.input_span(x.len(), g..2 * g);
            let mut out = vec![0.0; g];
            let short = &x[need.start + 1..need.end];
            assert!(dec
                .filter_window(x.len(), need.start + 1, &[short], g..2 * g, &mut out)
                .is_err());
        }
    }

    #[test]
    fn kernels_agree_with_definition() {
        let h: Vec<f64> = (0..37).map(|i| ((i as f64) * 0.37).cos() / 37.0).collect();
        for &n in &[37usize, 38, 100, 1000, 4099] {
            let x = signal(n);
            for &ds in &[1usize, 2, 3, 7, 30] {
                let want = reference(&x, &h, ds);
                let mut methods = vec![FirMethod::Direct, FirMethod::Auto];
                for l in [2 * ds * 19, 2 * ds * 64, 2 * ds * 1024] {
                    if l >= h.len() {
                        methods.push(FirMethod::Fft { fft_len: Some(l) });
                    }
                }
                for method in methods {
                    let f = FirDecimator::with_method(&h, ds, method).unwrap();
                    let y = f.filter(&x).unwrap();
                    assert_eq!(y.len(), want.len());
                    let err = y
                        .iter()
                        .zip(&want)
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0, f64::max);
                    assert!(err < 1e-9, "n={n} ds={ds} {method:?} err={err}");
                }
            }
        }
    }

    #[test]
    fn multichannel_layouts_agree() {
        let h: Vec<f64> = (0..51).map(|i| 1.0 / (1.0 + i as f64)).collect();
        let n = 2000;
        let nc = 5;
        let data: Vec<i16> = (0..n * nc)
            .map(|i| ((i * 31) % 2001) as i16 - 1000)
            .collect();
        let f = FirDecimator::new(&h, 4).unwrap();
        let par = f.filter_channels(&data, nc).unwrap();
        let ser = f.filter_channels_serial(&data, nc).unwrap();
        assert_eq!(par, ser);
        let n_out = decimated_len(n, 4);
        for c in 0..nc {
            let x: Vec<f64> = data[c * n..(c + 1) * n].iter().map(|&v| v as f64).collect();
            let want = reference(&x, &h, 4);
            for (a, b) in par[c * n_out..(c + 1) * n_out].iter().zip(&want) {
                assert!((a - b).abs() < 1e-9);
            }
        }
        let tm = transpose(&data, nc, n).unwrap();
        let out_tm = f.filter_time_major(&tm, nc).unwrap();
        assert_eq!(transpose(&out_tm, n_out, nc).unwrap(), par);
    }

    #[test]
    fn ranges_are_filtered_separately() {
        let h: Vec<f64> = (0..9).map(|i| 0.1 * (i as f64 + 1.0)).collect();
        let n = 400;
        let nc = 2;
        let data: Vec<f64> = (0..n * nc).map(|i| ((i * 13) % 97) as f64).collect();
        let f = FirDecimator::new(&h, 3).unwrap();
        let ranges = [10..60, 100..109, 200..400];
        let (out, idx) = f.filter_ranges(&data, nc, &ranges).unwrap();
        let want_idx: Vec<usize> = (10..60)
            .step_by(3)
            .chain((100..109).step_by(3))
            .chain((200..400).step_by(3))
            .collect();
        assert_eq!(idx, want_idx);
        let total = idx.len();
        for c in 0..nc {
            let ch = &data[c * n..(c + 1) * n];
            let want: Vec<f64> = ranges
                .iter()
                .flat_map(|r| reference(&ch[r.clone()], &h, 3))
                .collect();
            for (a, b) in out[c * total..(c + 1) * total].iter().zip(&want) {
                assert!((a - b).abs() < 1e-9);
            }
        }
        assert!(f.filter_ranges(&data, nc, &[0..5, 10..60]).is_err()); // shorter than the filter
        assert!(f.filter_ranges(&data, nc, &[10..60, 300..401]).is_err()); // out of bounds
        let (empty, none) = f.filter_ranges(&data, nc, &[]).unwrap();
        assert!(empty.is_empty() && none.is_empty());
    }

    #[test]
    fn helpers() {
        assert_eq!(decimated_len(10, 3), 4);
        assert_eq!(decimated_len(9, 3), 3);
        assert_eq!(
            decimated_indices(10, 3).unwrap().collect::<Vec<_>>(),
            vec![0, 3, 6, 9]
        );
        assert_eq!(
            decimate_timestamps(&[0.0, 0.1, 0.2, 0.3, 0.4], 2).unwrap(),
            vec![0.0, 0.2, 0.4]
        );
        assert_eq!(
            truncate_to_i16(&[1.9, -1.9, 0.5, -0.5, 40000.0, -40000.0, f64::NAN]),
            vec![1, -1, 0, 0, i16::MAX, i16::MIN, 0]
        );
        assert_eq!(
            transpose(&[1, 2, 3, 4, 5, 6], 2, 3).unwrap(),
            vec![1, 4, 2, 5, 3, 6]
        );
        assert!(transpose(&[1, 2, 3], 2, 2).is_err());
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            FirDecimator::new(&[], 1).unwrap_err(),
            DspError::EmptyFilter
        );
        assert_eq!(
            FirDecimator::new(&[1.0], 0).unwrap_err(),
            DspError::ZeroDecimation
        );
        assert_eq!(
            FirDecimator::new(&[1.0, f64::NAN], 1).unwrap_err(),
            DspError::NonFiniteCoefficient { index: 1 }
        );
        let f = FirDecimator::new(&[1.0, 1.0, 1.0], 1).unwrap();
        assert_eq!(f.filter::<f64>(&[]).unwrap_err(), DspError::EmptySignal);
        assert_eq!(
            f.filter(&[1.0, 2.0]).unwrap_err(),
            DspError::SignalShorterThanFilter { len: 2, ntaps: 3 }
        );
        assert!(matches!(
            f.filter_channels(&[1.0; 10], 3),
            Err(DspError::ChannelLayout { .. })
        ));
        assert!(matches!(
            f.filter_channels(&[1.0; 10], 0),
            Err(DspError::ChannelLayout { .. })
        ));
        let mut short = [0.0; 2];
        assert!(matches!(
            f.filter_into(&[1.0; 5], &mut short),
            Err(DspError::OutputLength { .. })
        ));
        assert!(matches!(
            FirDecimator::with_method(&[1.0; 9], 2, FirMethod::Fft { fft_len: Some(6) }),
            Err(DspError::InvalidParameter { .. })
        ));
        assert!(decimated_indices(5, 0).is_err());
        assert!(matches!(
            FirDecimator::new(&[1.0], usize::MAX),
            Err(DspError::InvalidParameter { name: "ds", .. })
        ));
        assert!(matches!(
            FirDecimator::with_method(
                &[1.0; 3],
                1,
                FirMethod::Fft {
                    fft_len: Some(usize::MAX - 1)
                }
            ),
            Err(DspError::InvalidParameter {
                name: "fft_len",
                ..
            })
        ));
        // A huge decimation factor within the cap still works (one output).
        let y = FirDecimator::new(&[1.0, 2.0, 1.0], 1 << 20)
            .unwrap()
            .filter(&[1.0; 10])
            .unwrap();
        assert_eq!(y, vec![3.0]);
    }
}
