//! Filtering an ElectricalSeries in time blocks, for LFPV1 and LFPBandV1: read →
//! convert → (re-reference) → filter and decimate → write, one window of samples
//! per step, the filter's overlap kept from the previous window, channels in
//! groups sized to a memory budget. Peak memory depends on the channel count and
//! the filter, never on the recording's length. Every output sample is computed by
//! the same kernel pass as the whole-array filter of its piece ([`super::filter_pieces`]),
//! so the result is identical to the bit.

use crate::error::{Error, Result};
use spyglass_dsp::FirDecimator;
use spyglass_nwb::{SeriesStream, VoltsReader};
use std::ops::Range;
use std::sync::Arc;

/// Memory for the sample windows of one channel group, bytes.
pub const WINDOW_BUDGET: usize = 96 << 20;

/// What the output holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OutputKind {
    /// The input's int16 counts filtered and truncated to int16, with the input's
    /// conversion (Spyglass's LFP: int16 input, no channel_conversion, no offset).
    Counts16 {
        /// Volts per count.
        conversion: f64,
    },
    /// Volts as float32 (conversion 1, offset 0): everything else.
    Volts,
}

impl OutputKind {
    /// The kind for an input series: counts when it is plain int16, else volts.
    pub fn for_input(reader: &VoltsReader) -> OutputKind {
        if reader.is_plain_int16() {
            OutputKind::Counts16 {
                conversion: reader.scaling().conversion,
            }
        } else {
            OutputKind::Volts
        }
    }

    /// Bytes per sample in the filter's input windows.
    fn window_bytes(&self) -> usize {
        match self {
            OutputKind::Counts16 { .. } => 2,
            OutputKind::Volts => 8,
        }
    }

    /// `data@conversion` of the output.
    pub fn conversion(&self) -> f64 {
        match self {
            OutputKind::Counts16 { conversion } => *conversion,
            OutputKind::Volts => 1.0,
        }
    }
}

/// One output channel: its input channel and an optional reference channel subtracted first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutChannel {
    /// Channel of the input series.
    pub channel: usize,
    /// Channel to subtract, if any.
    pub reference: Option<usize>,
}

/// Windows of one channel group in memory at once: the one being filtered and the
/// one being read, each up to half its length longer (read to a chunk boundary).
const WINDOWS_IN_FLIGHT: usize = 3;

/// One buffer per input channel, shared by the reader and the filter.
type Buffers<T> = Arc<Vec<Vec<T>>>;

/// One window of a piece, read and ready to filter.
struct Window<T> {
    /// The outputs it yields.
    outs: Range<usize>,
    /// The input samples they need (relative to the piece), starting each buffer.
    need: Range<usize>,
    /// One buffer per input channel.
    bufs: Buffers<T>,
}

/// What a window holds: int16 counts as stored, or volts (and counts of other types) as f64.
trait WindowSample:
    spyglass_nwb::raw::Sample + spyglass_dsp::Sample + Default + Copy + Send + Sync
{
    /// Reads `span` of `inputs` into `out` as the job's output kind needs.
    fn read(job: &Job, span: Range<usize>, inputs: &[usize], out: &mut [&mut [Self]])
        -> Result<()>;
}

impl WindowSample for i16 {
    fn read(job: &Job, span: Range<usize>, inputs: &[usize], out: &mut [&mut [i16]]) -> Result<()> {
        Ok(job.reader.raw().read_into(span, inputs, out)?)
    }
}

impl WindowSample for f64 {
    fn read(job: &Job, span: Range<usize>, inputs: &[usize], out: &mut [&mut [f64]]) -> Result<()> {
        match job.kind {
            OutputKind::Counts16 { .. } => job.reader.raw().read_into(span, inputs, out)?,
            OutputKind::Volts => job.reader.read_volts_into(span, inputs, out)?,
        }
        Ok(())
    }
}

/// A filtering job over one input series.
pub struct Job<'a> {
    /// The input.
    pub reader: &'a VoltsReader,
    /// Output channels in output order.
    pub channels: Vec<OutChannel>,
    /// Filter coefficients.
    pub taps: &'a [f64],
    /// Decimation factor.
    pub ds: usize,
    /// Sample ranges of the input (valid pieces), ascending.
    pub ranges: Vec<Range<usize>>,
    /// Counts or volts.
    pub kind: OutputKind,
    /// Memory for sample windows, bytes (default [`WINDOW_BUDGET`]).
    pub budget: usize,
}

fn dsp(e: spyglass_dsp::DspError) -> Error {
    Error::bad("filtering", e.to_string())
}

/// A block of the output: input rows `r` of channel columns `cols`, written from
/// output row `row0`.
struct Piece {
    r: Range<usize>,
    cols: Range<usize>,
    row0: usize,
}

impl Job<'_> {
    /// Output rows in all: `Σ ceil(len / ds)` over the ranges.
    pub fn n_out(&self) -> usize {
        self.ranges.iter().map(|r| r.len().div_ceil(self.ds)).sum()
    }

    /// Reads input samples `span` (absolute) of every needed input channel into
    /// `bufs[j][at..at + span.len()]`, in counts (Counts16) or volts; references
    /// subtracted by the caller.
    fn fill<T: WindowSample>(
        &self,
        inputs: &[usize],
        span: Range<usize>,
        bufs: &mut [Vec<T>],
        at: usize,
    ) -> Result<()> {
        let end = at + span.len();
        let mut slices: Vec<&mut [T]> = bufs
            .iter_mut()
            .map(|b| {
                // buffers only grow (zeroed once); the read overwrites `at..end`
                if b.len() < end {
                    b.resize(end, T::default());
                }
                &mut b[at..end]
            })
            .collect();
        T::read(self, span, inputs, &mut slices)
    }

    /// Runs the job, writing every output row of `out` and its timestamp.
    pub fn run(&self, out: &SeriesStream) -> Result<()> {
        if self.ds == 0 || self.taps.is_empty() {
            return Err(Error::internal(
                "filtering",
                "empty filter or zero decimation",
            ));
        }
        let dec = FirDecimator::new(self.taps, self.ds).map_err(dsp)?;
        let c = self.channels.len();
        // the window one granule of outputs needs, and the channel groups that fit the budget
        let g = dec.output_granule();
        let window = dec.input_span(1 << 40, g..2 * g).len().max(1);
        let group = (self.budget / (WINDOWS_IN_FLIGHT * self.kind.window_bytes() * window))
            .clamp(1, c.max(1));
        let mut row0 = 0usize;
        for r in &self.ranges {
            let n = r.len();
            let n_out = n.div_ceil(self.ds);
            for (gi, cols) in (0..c)
                .step_by(group)
                .map(|a| a..(a + group).min(c))
                .enumerate()
            {
                let piece = Piece {
                    r: r.clone(),
                    cols,
                    row0,
                };
                match self.kind {
                    _ if n < self.taps.len() => self.short_piece(&dec, piece, out)?,
                    // int16 counts stay int16 in the windows (a quarter of the memory and copies)
                    OutputKind::Counts16 { .. } => self.long_piece::<i16>(&dec, piece, out)?,
                    OutputKind::Volts => self.long_piece::<f64>(&dec, piece, out)?,
                }
                if gi == 0 {
                    self.write_timestamps(r.clone(), row0, n_out, out)?;
                }
            }
            row0 += n_out;
        }
        Ok(())
    }

    /// The input channels a column group needs (its channels and their references),
    /// and for each output column its position among them and its reference's.
    fn inputs_of(&self, cols: Range<usize>) -> (Vec<usize>, Vec<(usize, Option<usize>)>) {
        let mut inputs: Vec<usize> = vec![];
        let pos = |ch: usize, inputs: &mut Vec<usize>| match inputs.iter().position(|&x| x == ch) {
            Some(p) => p,
            None => {
                inputs.push(ch);
                inputs.len() - 1
            }
        };
        let mut map = vec![];
        for oc in &self.channels[cols] {
            let a = pos(oc.channel, &mut inputs);
            let b = oc.reference.map(|r| pos(r, &mut inputs));
            map.push((a, b));
        }
        (inputs, map)
    }

    /// A piece at least as long as the filter, in windows: a reader thread reads the
    /// next window (keeping the overlap from the previous one) while this thread
    /// filters the current one and a writer thread writes the one before.
    /// The windows hold samples of type `T` (int16 counts, or volts).
    fn long_piece<T: WindowSample>(
        &self,
        dec: &FirDecimator,
        piece: Piece,
        out: &SeriesStream,
    ) -> Result<()> {
        let Piece { r, cols, row0 } = piece;
        let n = r.len();
        let g = dec.output_granule();
        let (inputs, map) = self.inputs_of(cols.clone());
        // outputs per step: as many granules as the budget allows for two windows of
        // this group (the one being filtered and the one being read), each of which
        // may run up to half its length further, to the next chunk boundary
        let per_granule = self.ds * g;
        let rows_budget =
            self.budget / (WINDOWS_IN_FLIGHT * std::mem::size_of::<T>() * inputs.len().max(1));
        let steps =
            (rows_budget.saturating_sub(self.taps.len() + per_granule) / per_granule).max(1);
        let q = g * steps;
        let plain = map.len() == inputs.len() && map.iter().all(|(_, b)| b.is_none());
        std::thread::scope(|s| -> Result<()> {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Window<T>>>(0);
            let reader = s.spawn(|| self.read_windows(dec, r.clone(), &inputs, q, tx));
            // a writer thread converts and writes (compresses) each filtered block
            // while the next window is filtered
            let (wtx, wrx) = std::sync::mpsc::sync_channel::<(Vec<f64>, usize, usize)>(1);
            let col0 = cols.start;
            let writer = s.spawn(move || -> Result<()> {
                for (block, rows, at) in wrx {
                    self.write_rows(&block, rows, at, col0, out)?;
                }
                Ok(())
            });
            let filtered = (|| -> Result<()> {
                let mut referenced: Vec<Vec<f64>> = vec![];
                for w in rx {
                    let w = w?;
                    let len = w.need.len();
                    let mut result = vec![0.0; w.outs.len() * map.len()];
                    if plain {
                        let views: Vec<&[T]> = w.bufs.iter().map(|b| &b[..len]).collect();
                        dec.filter_window(n, w.need.start, &views, w.outs.clone(), &mut result)
                    } else {
                        referenced = map
                            .iter()
                            .map(|&(a, b)| {
                                let x = w.bufs[a][..len].iter().map(|x| x.to_f64());
                                match b {
                                    Some(b) => x
                                        .zip(&w.bufs[b][..len])
                                        .map(|(x, y)| x - y.to_f64())
                                        .collect(),
                                    None => x.collect(),
                                }
                            })
                            .collect();
                        let views: Vec<&[f64]> = referenced.iter().map(Vec::as_slice).collect();
                        dec.filter_window(n, w.need.start, &views, w.outs.clone(), &mut result)
                    }
                    .map_err(dsp)?;
                    if wtx
                        .send((result, w.outs.len(), row0 + w.outs.start))
                        .is_err()
                    {
                        // the writer stopped on an error, which its join returns
                        break;
                    }
                }
                Ok(())
            })();
            drop(wtx);
            let written = writer
                .join()
                .map_err(|_| Error::internal("filtering", "the writer thread failed"))?;
            let read = reader
                .join()
                .map_err(|_| Error::internal("filtering", "the reader thread failed"));
            filtered.and(written).and(read)
        })
    }

    /// Reads the windows of a piece in order and hands each to `tx`: window `outs`
    /// needs samples `need` (relative to `r.start`), which start each buffer. The read
    /// runs up to the next chunk boundary of the stored data, and the part of the
    /// previous window the next one needs is copied rather than read again, so no
    /// chunk is decoded twice. Stops at the first error (sent) or when `tx` hangs up.
    fn read_windows<T: WindowSample>(
        &self,
        dec: &FirDecimator,
        r: Range<usize>,
        inputs: &[usize],
        q: usize,
        tx: std::sync::mpsc::SyncSender<Result<Window<T>>>,
    ) {
        let n = r.len();
        let total = dec.output_len(n);
        let chunk = self.reader.raw().block_rows().max(1);
        // the last window sent: its buffers and the samples w_lo..w_hi they hold
        let mut prev: Option<(Buffers<T>, usize, usize)> = None;
        // the window before it, whose buffers are reused once the filter let go of them
        let mut spare: Option<Buffers<T>> = None;
        let mut k0 = 0;
        while k0 < total {
            let k1 = (k0 + q).min(total);
            let need = dec.input_span(n, k0..k1);
            let aligned = (r.start + need.end).div_ceil(chunk) * chunk - r.start;
            let read_end = if aligned - need.end <= need.len() / 2 {
                aligned.min(n)
            } else {
                need.end
            };
            let mut bufs = spare
                .take()
                .and_then(|a| Arc::try_unwrap(a).ok())
                .unwrap_or_else(|| vec![Vec::new(); inputs.len()]);
            let filled = match &prev {
                Some((p, w_lo, w_hi)) if need.start >= *w_lo && need.start < *w_hi => {
                    let keep = w_hi - need.start;
                    for (b, pb) in bufs.iter_mut().zip(p.iter()) {
                        if b.len() < keep {
                            b.resize(keep, T::default());
                        }
                        b[..keep].copy_from_slice(&pb[need.start - w_lo..w_hi - w_lo]);
                    }
                    if need.end > *w_hi {
                        self.fill(inputs, r.start + w_hi..r.start + read_end, &mut bufs, keep)
                            .map(|_| read_end)
                    } else {
                        Ok(*w_hi)
                    }
                }
                _ => self
                    .fill(
                        inputs,
                        r.start + need.start..r.start + read_end,
                        &mut bufs,
                        0,
                    )
                    .map(|_| read_end),
            };
            let w_hi = match filled {
                Ok(hi) => hi,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            let bufs = Arc::new(bufs);
            let window = Window {
                outs: k0..k1,
                need: need.clone(),
                bufs: Arc::clone(&bufs),
            };
            if tx.send(Ok(window)).is_err() {
                return;
            }
            spare = prev.map(|(p, _, _)| p);
            prev = Some((bufs, need.start, w_hi));
            k0 = k1;
        }
    }

    /// A piece shorter than the filter: read whole and filtered zero-padded, as in memory.
    fn short_piece(&self, dec: &FirDecimator, piece: Piece, out: &SeriesStream) -> Result<()> {
        let Piece { r, cols, row0 } = piece;
        let (inputs, map) = self.inputs_of(cols.clone());
        let mut bufs: Vec<Vec<f64>> = vec![Vec::new(); inputs.len()];
        self.fill(&inputs, r.clone(), &mut bufs, 0)?;
        let want = dec.output_len(r.len());
        let mut result = Vec::with_capacity(want * map.len());
        for &(a, b) in &map {
            let mut x: Vec<f64> = match b {
                Some(b) => bufs[a].iter().zip(&bufs[b]).map(|(x, y)| x - y).collect(),
                None => bufs[a].clone(),
            };
            x.resize(self.taps.len(), 0.0);
            let y = dec.filter(&x).map_err(dsp)?;
            result.extend_from_slice(&y[..want]);
        }
        self.write_rows(&result, want, row0, cols.start, out)
    }

    /// Converts a channel-major block (`rows` per channel) and writes it time-major.
    fn write_rows(
        &self,
        block: &[f64],
        rows: usize,
        row0: usize,
        col0: usize,
        out: &SeriesStream,
    ) -> Result<()> {
        if rows == 0 {
            return Ok(());
        }
        let cols = block.len() / rows;
        match self.kind {
            OutputKind::Counts16 { .. } => {
                let mut tm = vec![0i16; block.len()];
                for (j, ch) in block.chunks(rows).enumerate() {
                    for (t, &v) in ch.iter().enumerate() {
                        tm[t * cols + j] = v as i16;
                    }
                }
                out.write_i16(row0, col0, cols, &tm)?;
            }
            OutputKind::Volts => {
                let mut tm = vec![0f32; block.len()];
                for (j, ch) in block.chunks(rows).enumerate() {
                    for (t, &v) in ch.iter().enumerate() {
                        tm[t * cols + j] = v as f32;
                    }
                }
                out.write_f32(row0, col0, cols, &tm)?;
            }
        }
        Ok(())
    }

    /// Output timestamps of a piece: every `ds`-th input timestamp, read in blocks.
    fn write_timestamps(
        &self,
        r: Range<usize>,
        row0: usize,
        n_out: usize,
        out: &SeriesStream,
    ) -> Result<()> {
        const STEP: usize = 1 << 16; // outputs per read
        let raw = self.reader.raw();
        let mut k = 0;
        while k < n_out {
            let k1 = (k + STEP).min(n_out);
            let lo = r.start + self.ds * k;
            let hi = r.start + self.ds * (k1 - 1) + 1;
            let ts = raw.timestamps(lo..hi)?;
            let picked: Vec<f64> = ts.iter().step_by(self.ds).copied().collect();
            out.write_timestamps(row0 + k, &picked)?;
            k = k1;
        }
        Ok(())
    }
}
