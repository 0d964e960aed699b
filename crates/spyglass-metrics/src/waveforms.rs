//! Waveform extraction streamed over a recording, templates, main channels, spike
//! amplitudes and the whitened recording — SpikeInterface's `random_spikes`,
//! `waveforms`, `templates`, `spike_amplitudes` extensions and `whiten` preprocessing,
//! by their definitions.
//!
//! Waveforms are `num_samples × num_channels` (sample-major), `nbefore` samples before
//! the spike sample and `nafter` from it (`nbefore = round(ms_before · fs / 1000)`).
//! Samples outside the recording read as zeros.

use rayon::prelude::*;
use spyglass_sort::linalg::sym_eigen;
use spyglass_sort::rng::Rng;
pub(crate) use spyglass_sort::source::read_padded;
use spyglass_sort::{ChunkSource, PeakSign, Result, SortError, SourceError};

/// Waveform extraction parameters (Spyglass's WaveformParameters names).
#[derive(Debug, Clone, PartialEq)]
pub struct WaveformParams {
    /// Milliseconds before the spike sample.
    pub ms_before: f64,
    /// Milliseconds after the spike sample.
    pub ms_after: f64,
    /// At most this many spikes per unit (a seeded uniform random subset); `None`: all.
    pub max_spikes_per_unit: Option<usize>,
    /// Seed of the random subset.
    pub seed: u64,
    /// Samples per streamed chunk (0: one second).
    pub chunk_samples: usize,
}

impl Default for WaveformParams {
    /// Spyglass's `default_not_whitened`: 0.5 ms / 0.5 ms, 5000 spikes per unit.
    fn default() -> Self {
        Self {
            ms_before: 0.5,
            ms_after: 0.5,
            max_spikes_per_unit: Some(5000),
            seed: 0,
            chunk_samples: 0,
        }
    }
}

/// Milliseconds to samples, rounded half to even (Python's `round`).
pub fn ms_to_samples(ms: f64, fs: f64) -> usize {
    (ms * fs / 1000.0).round_ties_even().max(0.0) as usize
}

/// One extracted spike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectedSpike {
    /// Spike sample.
    pub sample: i64,
    /// Unit index (position in the spike trains given).
    pub unit: usize,
    /// Index of the spike in its unit's train.
    pub index_in_unit: usize,
}

/// Extracted waveforms of the selected spikes of every unit.
#[derive(Debug, Clone)]
pub struct Waveforms {
    /// Samples before the spike sample.
    pub nbefore: usize,
    /// Samples from the spike sample on.
    pub nafter: usize,
    /// Channels per waveform.
    pub num_channels: usize,
    /// The selected spikes, in sample order (then unit, then index).
    pub spikes: Vec<SelectedSpike>,
    /// For each unit, positions in [`Waveforms::spikes`] of its selected spikes (in
    /// sample order).
    pub units: Vec<Vec<usize>>,
    data: Vec<f32>,
}

impl Waveforms {
    /// Samples per waveform (`nbefore + nafter`).
    pub fn num_samples(&self) -> usize {
        self.nbefore + self.nafter
    }
    /// Values per waveform (`num_samples × num_channels`).
    pub fn len_one(&self) -> usize {
        self.num_samples() * self.num_channels
    }
    /// Waveform of the spike at position `g` of [`Waveforms::spikes`] (sample-major).
    pub fn waveform(&self, g: usize) -> &[f32] {
        let w = self.len_one();
        &self.data[g * w..(g + 1) * w]
    }
    /// The waveforms of unit `u` copied out (`n × num_samples × num_channels`).
    pub fn unit_waveforms(&self, u: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.units[u].len() * self.len_one());
        for &g in &self.units[u] {
            out.extend_from_slice(self.waveform(g));
        }
        out
    }
    /// The waveforms of unit `u` restricted to `channels` (`n × num_samples × channels`).
    pub fn unit_waveforms_on(&self, u: usize, channels: &[usize]) -> Vec<f32> {
        let c = self.num_channels;
        let mut out = Vec::with_capacity(self.units[u].len() * self.num_samples() * channels.len());
        for &g in &self.units[u] {
            let w = self.waveform(g);
            for t in 0..self.num_samples() {
                out.extend(channels.iter().map(|&ch| w[t * c + ch]));
            }
        }
        out
    }
}

impl Waveforms {
    /// Waveforms cut elsewhere (e.g. while streaming a recording once for several
    /// purposes): `spikes` in the order [`extract_selected`] gives (sample, then unit,
    /// then index), `data` their `nbefore + nafter` × `num_channels` waveforms back
    /// to back, for units `0..num_units`.
    pub fn from_parts(
        nbefore: usize,
        nafter: usize,
        num_channels: usize,
        spikes: Vec<SelectedSpike>,
        num_units: usize,
        data: Vec<f32>,
    ) -> Result<Waveforms> {
        let wlen = (nbefore + nafter) * num_channels;
        if data.len() != spikes.len() * wlen {
            return Err(SortError::invalid(
                "waveforms",
                format!(
                    "{} values for {} spikes of {wlen}",
                    data.len(),
                    spikes.len()
                ),
            ));
        }
        let key = |s: &SelectedSpike| (s.sample, s.unit, s.index_in_unit);
        if spikes.windows(2).any(|w| key(&w[1]) < key(&w[0])) {
            return Err(SortError::invalid(
                "waveforms",
                "spikes not in sample order",
            ));
        }
        let mut units = vec![Vec::new(); num_units];
        for (g, s) in spikes.iter().enumerate() {
            units
                .get_mut(s.unit)
                .ok_or_else(|| {
                    SortError::invalid("waveforms", format!("unit {} of {num_units}", s.unit))
                })?
                .push(g);
        }
        Ok(Waveforms {
            nbefore,
            nafter,
            num_channels,
            spikes,
            units,
            data,
        })
    }
}

fn check_trains(src: &dyn ChunkSource, trains: &[Vec<i64>]) -> Result<()> {
    if src.num_channels() == 0 {
        return Err(SortError::invalid("recording", "has no channels"));
    }
    let fs = src.sampling_frequency();
    if !(fs.is_finite() && fs > 0.0) {
        return Err(SortError::invalid(
            "sampling_frequency",
            format!("{fs} is not a positive finite rate"),
        ));
    }
    let n = src.num_samples() as i64;
    for (u, t) in trains.iter().enumerate() {
        if let Some(s) = t.iter().find(|&&s| s < 0 || s >= n) {
            return Err(SortError::invalid(
                "spike train",
                format!("unit {u} has a spike at sample {s}, outside the recording's {n} samples"),
            ));
        }
        if t.windows(2).any(|w| w[1] < w[0]) {
            return Err(SortError::invalid(
                "spike train",
                format!("unit {u}'s spike samples are not sorted"),
            ));
        }
    }
    Ok(())
}

/// The spikes of each unit selected for waveforms: all, or a seeded uniform subset of
/// `max_spikes_per_unit` (indices into the unit's train, increasing).
pub fn select_spikes(
    trains: &[Vec<i64>],
    max_spikes_per_unit: Option<usize>,
    seed: u64,
) -> Vec<Vec<usize>> {
    trains
        .iter()
        .enumerate()
        .map(|(u, t)| match max_spikes_per_unit {
            Some(k) if t.len() > k => Rng::new(seed, u as u64 + 1).subset(t.len(), k),
            _ => (0..t.len()).collect(),
        })
        .collect()
}

/// Extracts the waveforms of the selected spikes of `trains` (spike samples per unit,
/// sorted), streaming over `src` chunk by chunk on all threads.
pub fn extract_waveforms(
    src: &dyn ChunkSource,
    trains: &[Vec<i64>],
    params: &WaveformParams,
) -> Result<Waveforms> {
    check_trains(src, trains)?;
    let before_ok = params.ms_before.is_finite() && params.ms_before >= 0.0;
    let after_ok = params.ms_after.is_finite() && params.ms_after > 0.0;
    if !(before_ok && after_ok) {
        return Err(SortError::invalid(
            "ms_before/ms_after",
            format!("{} / {} ms", params.ms_before, params.ms_after),
        ));
    }
    let selected = select_spikes(trains, params.max_spikes_per_unit, params.seed);
    extract_selected(src, trains, &selected, params)
}

/// Extracts the waveforms of the given spike subsets (`selected[u]`: indices into
/// `trains[u]`), e.g. the same spikes another tool selected.
pub fn extract_selected(
    src: &dyn ChunkSource,
    trains: &[Vec<i64>],
    selected: &[Vec<usize>],
    params: &WaveformParams,
) -> Result<Waveforms> {
    check_trains(src, trains)?;
    let fs = src.sampling_frequency();
    let nbefore = ms_to_samples(params.ms_before, fs);
    let nafter = ms_to_samples(params.ms_after, fs);
    if nbefore + nafter == 0 {
        return Err(SortError::invalid(
            "ms_before/ms_after",
            "the waveform has no samples",
        ));
    }
    let c = src.num_channels();
    let mut spikes = Vec::new();
    for (u, sel) in selected.iter().enumerate() {
        let t = trains
            .get(u)
            .ok_or_else(|| SortError::invalid("selected", "more units than trains"))?;
        for &i in sel {
            let sample = *t.get(i).ok_or_else(|| {
                SortError::invalid("selected", format!("unit {u} has no spike {i}"))
            })?;
            spikes.push(SelectedSpike {
                sample,
                unit: u,
                index_in_unit: i,
            });
        }
    }
    spikes.sort_unstable_by_key(|s| (s.sample, s.unit, s.index_in_unit));
    let wlen = (nbefore + nafter) * c;
    let chunk = if params.chunk_samples == 0 {
        (fs.round() as usize).max(1)
    } else {
        params.chunk_samples
    };
    let n = src.num_samples();
    let mut bounds = Vec::new();
    let mut start = 0usize;
    while start < n {
        let end = (start + chunk).min(n);
        let lo = spikes.partition_point(|s| (s.sample as usize) < start);
        let hi = spikes.partition_point(|s| (s.sample as usize) < end);
        if hi > lo {
            bounds.push((lo, hi));
        }
        start = end;
    }
    let mut data = vec![0.0f32; spikes.len() * wlen];
    let mut pieces = Vec::with_capacity(bounds.len());
    let mut rest: &mut [f32] = &mut data;
    for &(lo, hi) in &bounds {
        let (p, r) = rest.split_at_mut((hi - lo) * wlen);
        pieces.push(p);
        rest = r;
    }
    bounds.par_iter().zip(pieces.into_par_iter()).try_for_each(
        |(&(lo, hi), piece)| -> Result<()> {
            let first = spikes[lo].sample - nbefore as i64;
            let last = spikes[hi - 1].sample + nafter as i64;
            let buf = read_padded(src, first, last)?;
            for (k, s) in spikes[lo..hi].iter().enumerate() {
                let off = (s.sample - nbefore as i64 - first) as usize * c;
                piece[k * wlen..(k + 1) * wlen].copy_from_slice(&buf[off..off + wlen]);
            }
            Ok(())
        },
    )?;
    let mut units = vec![Vec::new(); selected.len()];
    for (g, s) in spikes.iter().enumerate() {
        units[s.unit].push(g);
    }
    Ok(Waveforms {
        nbefore,
        nafter,
        num_channels: c,
        spikes,
        units,
        data,
    })
}

/// Templates of every unit (`num_samples × num_channels`, sample-major): the average
/// (float32 running sums in spike order, as numpy averages float32 waveforms) and the
/// median. A unit without waveforms has NaN templates.
#[derive(Debug, Clone)]
pub struct Templates {
    /// Samples before the spike sample.
    pub nbefore: usize,
    /// Samples per template.
    pub num_samples: usize,
    /// Channels.
    pub num_channels: usize,
    /// Average template of each unit.
    pub average: Vec<Vec<f32>>,
    /// Median template of each unit.
    pub median: Vec<Vec<f32>>,
}

/// The average and median templates of every unit.
pub fn templates(wf: &Waveforms) -> Templates {
    let w = wf.len_one();
    let per_unit: Vec<(Vec<f32>, Vec<f32>)> = wf
        .units
        .par_iter()
        .map(|idx| {
            if idx.is_empty() {
                return (vec![f32::NAN; w], vec![f32::NAN; w]);
            }
            let mut avg = vec![0.0f32; w];
            for &g in idx {
                for (a, v) in avg.iter_mut().zip(wf.waveform(g)) {
                    *a += *v;
                }
            }
            let n = idx.len() as f32;
            avg.iter_mut().for_each(|a| *a /= n);
            let mut med = vec![0.0f32; w];
            let mut col = vec![0.0f32; idx.len()];
            for (j, m) in med.iter_mut().enumerate() {
                for (v, &g) in col.iter_mut().zip(idx) {
                    *v = wf.waveform(g)[j];
                }
                *m = crate::noise::median_f32(&mut col);
            }
            (avg, med)
        })
        .collect();
    let (average, median) = per_unit.into_iter().unzip();
    Templates {
        nbefore: wf.nbefore,
        num_samples: wf.num_samples(),
        num_channels: wf.num_channels,
        average,
        median,
    }
}

impl Templates {
    /// Main (peak) channel of each unit: the channel where the average template reaches
    /// its extremum of `sign` (SpikeInterface's `extremum` mode; first on ties).
    pub fn main_channels(&self, sign: PeakSign) -> Vec<usize> {
        let (ns, c) = (self.num_samples, self.num_channels);
        self.average
            .iter()
            .map(|t| {
                let value = |ch: usize| -> f32 {
                    let col = (0..ns).map(|s| t[s * c + ch]);
                    match sign {
                        PeakSign::Neg => -col.fold(f32::INFINITY, f32::min),
                        PeakSign::Pos => col.fold(f32::NEG_INFINITY, f32::max),
                        PeakSign::Both => col.map(f32::abs).fold(f32::NEG_INFINITY, f32::max),
                    }
                };
                let mut best = 0;
                let mut bv = f32::NEG_INFINITY;
                for ch in 0..c {
                    let v = value(ch);
                    if v > bv {
                        bv = v;
                        best = ch;
                    }
                }
                best
            })
            .collect()
    }

    /// Extremum value of each unit's average template on its main channel (min for
    /// `neg`, max for `pos`, the largest |value| keeping its sign for `both`).
    pub fn main_channel_amplitudes(&self, main: &[usize], sign: PeakSign) -> Vec<f32> {
        let (ns, c) = (self.num_samples, self.num_channels);
        self.average
            .iter()
            .zip(main)
            .map(|(t, &ch)| {
                let col = (0..ns).map(|s| t[s * c + ch]);
                match sign {
                    PeakSign::Neg => col.fold(f32::INFINITY, f32::min),
                    PeakSign::Pos => col.fold(f32::NEG_INFINITY, f32::max),
                    PeakSign::Both => {
                        col.fold(0.0f32, |b, x| if x.abs() > b.abs() { x } else { b })
                    }
                }
            })
            .collect()
    }

    /// Shift (samples, from `nbefore`) of each unit's peak on its main channel.
    pub fn peak_shifts(&self, main: &[usize], sign: PeakSign) -> Vec<i64> {
        let (ns, c) = (self.num_samples, self.num_channels);
        self.average
            .iter()
            .zip(main)
            .map(|(t, &ch)| {
                let mut best = 0usize;
                for s in 1..ns {
                    let (v, b) = (t[s * c + ch], t[best * c + ch]);
                    let better = match sign {
                        PeakSign::Neg => v < b,
                        PeakSign::Pos => v > b,
                        PeakSign::Both => v.abs() > b.abs(),
                    };
                    if better {
                        best = s;
                    }
                }
                best as i64 - self.nbefore as i64
            })
            .collect()
    }
}

/// Amplitude of every spike of every unit: the trace at `sample + shift[u]` on
/// `main[u]` (SpikeInterface's `spike_amplitudes`), streamed over the recording.
pub fn spike_amplitudes(
    src: &dyn ChunkSource,
    trains: &[Vec<i64>],
    main: &[usize],
    shifts: &[i64],
    chunk_samples: usize,
) -> Result<Vec<Vec<f32>>> {
    check_trains(src, trains)?;
    if main.len() != trains.len() || shifts.len() != trains.len() {
        return Err(SortError::invalid(
            "main channels",
            "one per unit is needed",
        ));
    }
    let c = src.num_channels();
    if let Some(&m) = main.iter().find(|&&m| m >= c) {
        return Err(SortError::invalid(
            "main channels",
            format!("channel {m} of {c}"),
        ));
    }
    let n = src.num_samples();
    let chunk = if chunk_samples == 0 {
        (src.sampling_frequency().round() as usize).max(1)
    } else {
        chunk_samples
    };
    let starts: Vec<usize> = (0..n).step_by(chunk).collect();
    let parts: Vec<Vec<Vec<(usize, f32)>>> = starts
        .par_iter()
        .map(|&a| -> Result<Vec<Vec<(usize, f32)>>> {
            let b = (a + chunk).min(n);
            let lo_s = a as i64 + shifts.iter().copied().min().unwrap_or(0).min(0);
            let hi_s = b as i64 + shifts.iter().copied().max().unwrap_or(0).max(0);
            let buf = read_padded(src, lo_s, hi_s)?;
            Ok(trains
                .iter()
                .enumerate()
                .map(|(u, t)| {
                    let i0 = t.partition_point(|&s| (s as usize) < a);
                    let i1 = t.partition_point(|&s| (s as usize) < b);
                    (i0..i1)
                        .map(|i| {
                            let row = (t[i] + shifts[u] - lo_s) as usize;
                            (i, buf[row * c + main[u]])
                        })
                        .collect()
                })
                .collect())
        })
        .collect::<Result<_>>()?;
    let mut out: Vec<Vec<f32>> = trains.iter().map(|t| vec![0.0; t.len()]).collect();
    for part in parts {
        for (u, vals) in part.into_iter().enumerate() {
            for (i, v) in vals {
                out[u][i] = v;
            }
        }
    }
    Ok(out)
}

/// SpikeInterface's global ZCA whitening matrix (`c × c`, row-major, applied as
/// `traces · W`) from the chunks `start..start + chunk_size`: covariance `XᵀX / N`
/// (no mean removed), `W = U diag(1/√(s + eps)) Uᵀ`, with `eps` (when `None`) a
/// thousandth of the median squared sample if that is in (0, 1), else 1e-16.
pub fn whitening_matrix(
    src: &dyn ChunkSource,
    starts: &[usize],
    chunk_size: usize,
    eps: Option<f64>,
) -> Result<Vec<f64>> {
    let c = src.num_channels();
    if starts.is_empty() || chunk_size == 0 {
        return Err(SortError::invalid(
            "whitening chunks",
            "no data to whiten from",
        ));
    }
    let mut data = Vec::with_capacity(starts.len() * chunk_size * c);
    for &s in starts {
        if s + chunk_size > src.num_samples() {
            return Err(SortError::invalid(
                "whitening chunks",
                format!("chunk at {s} passes the end of the recording"),
            ));
        }
        data.extend(read_padded(src, s as i64, (s + chunk_size) as i64)?);
    }
    let rows = data.len() / c;
    let mut cov = vec![0.0f64; c * c];
    for r in data.chunks_exact(c) {
        for i in 0..c {
            let xi = r[i] as f64;
            for j in i..c {
                cov[i * c + j] += xi * r[j] as f64;
            }
        }
    }
    for i in 0..c {
        for j in i..c {
            let v = cov[i * c + j] / rows as f64;
            cov[i * c + j] = v;
            cov[j * c + i] = v;
        }
    }
    let eps = match eps {
        Some(e) => e,
        None => {
            let mut sq: Vec<f32> = data.iter().map(|x| x * x).collect();
            let m = crate::noise::median_f32(&mut sq) as f64;
            if m > 0.0 && m < 1.0 {
                (m * 1e-3).max(1e-16)
            } else {
                1e-16
            }
        }
    };
    let (vals, vecs) = sym_eigen(&cov, c);
    let mut w = vec![0.0f64; c * c];
    for k in 0..c {
        let f = 1.0 / (vals[k].max(0.0) + eps).sqrt();
        let u = &vecs[k * c..(k + 1) * c];
        for i in 0..c {
            for j in 0..c {
                w[i * c + j] += u[i] * f * u[j];
            }
        }
    }
    Ok(w)
}

/// A recording whitened by a matrix `W` (`traces · W`), itself a [`ChunkSource`].
pub struct Whitened<'a> {
    src: &'a dyn ChunkSource,
    w: Vec<f64>,
}

impl<'a> Whitened<'a> {
    /// Whitens `src` with `w` (`c × c`, row-major).
    pub fn new(src: &'a dyn ChunkSource, w: Vec<f64>) -> Result<Self> {
        let c = src.num_channels();
        if w.len() != c * c || w.iter().any(|v| !v.is_finite()) {
            return Err(SortError::invalid(
                "whitening matrix",
                format!("needs {c}×{c} finite values, got {}", w.len()),
            ));
        }
        Ok(Self { src, w })
    }
}

impl ChunkSource for Whitened<'_> {
    fn num_samples(&self) -> usize {
        self.src.num_samples()
    }
    fn num_channels(&self) -> usize {
        self.src.num_channels()
    }
    fn sampling_frequency(&self) -> f64 {
        self.src.sampling_frequency()
    }
    fn read(
        &self,
        start: usize,
        end: usize,
        out: &mut [f32],
    ) -> std::result::Result<(), SourceError> {
        let c = self.src.num_channels();
        let mut raw = vec![0.0f32; out.len()];
        self.src.read(start, end, &mut raw)?;
        let mut acc = vec![0.0f64; c];
        for (r, o) in raw.chunks_exact(c).zip(out.chunks_exact_mut(c)) {
            acc.iter_mut().for_each(|a| *a = 0.0);
            for (i, &x) in r.iter().enumerate() {
                let row = &self.w[i * c..(i + 1) * c];
                for (a, wv) in acc.iter_mut().zip(row) {
                    *a += x as f64 * wv;
                }
            }
            for (o, a) in o.iter_mut().zip(&acc) {
                *o = *a as f32;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spyglass_sort::InMemoryRecording;

    #[test]
    fn waveforms_cut_at_the_right_samples() {
        // channel 0 holds the sample index, channel 1 its negative
        let data: Vec<f32> = (0..100).flat_map(|i| [i as f32, -(i as f32)]).collect();
        let rec = InMemoryRecording::new(data, 2, 10_000.0).unwrap();
        let p = WaveformParams {
            ms_before: 0.2,
            ms_after: 0.3,
            max_spikes_per_unit: None,
            seed: 0,
            chunk_samples: 7,
        };
        let wf = extract_waveforms(&rec, &[vec![1, 50], vec![98]], &p).unwrap();
        assert_eq!((wf.nbefore, wf.nafter), (2, 3));
        assert_eq!(
            wf.waveform(wf.units[0][1]),
            &[48.0, -48.0, 49.0, -49.0, 50.0, -50.0, 51.0, -51.0, 52.0, -52.0]
        );
        // outside the recording: zeros
        assert_eq!(&wf.waveform(wf.units[0][0])[..4], &[0.0, 0.0, 0.0, 0.0]);
        assert_eq!(&wf.waveform(wf.units[1][0])[8..], &[0.0, 0.0]);
        let t = templates(&wf);
        assert_eq!(t.average[1][4], 98.0);
        assert!(extract_waveforms(&rec, &[vec![100]], &p).is_err());
    }
}
