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
    Error::Invalid(format!("filtering: {e}"))
}

impl Job<'_> {
    /// Output rows in all: `Σ ceil(len / ds)` over the ranges.
    pub fn n_out(&self) -> usize {
        self.ranges.iter().map(|r| r.len().div_ceil(self.ds)).sum()
    }

    /// Reads input samples `span` (absolute) of every needed input channel into
    /// `bufs[j][at..]`, in counts (Counts16) or volts; references subtracted by the caller.
    fn fill(
        &self,
        inputs: &[usize],
        span: Range<usize>,
        bufs: &mut [Vec<f64>],
        at: usize,
    ) -> Result<()> {
        let mut slices: Vec<&mut [f64]> = bufs
            .iter_mut()
            .map(|b| {
                b.resize(at + span.len(), 0.0);
                &mut b[at..]
            })
            .collect();
        match self.kind {
            OutputKind::Counts16 { .. } => {
                self.reader.raw().read_into(span, inputs, &mut slices)?
            }
            OutputKind::Volts => self.reader.read_volts_into(span, inputs, &mut slices)?,
        }
        Ok(())
    }

    /// Runs the job, writing every output row of `out` and its timestamp.
    pub fn run(&self, out: &SeriesStream) -> Result<()> {
        if self.ds == 0 || self.taps.is_empty() {
            return Err(Error::Invalid(
                "filtering: empty filter or zero decimation".into(),
            ));
        }
        let dec = FirDecimator::new(self.taps, self.ds).map_err(dsp)?;
        let c = self.channels.len();
        // the window one granule of outputs needs, and the channel groups that fit the budget
        let g = dec.output_granule();
        let window = dec.input_span(1 << 40, g..2 * g).len().max(1);
        let group = (self.budget / (8 * window)).clamp(1, c.max(1));
        let mut row0 = 0usize;
        for r in &self.ranges {
            let n = r.len();
            let n_out = n.div_ceil(self.ds);
            for (gi, cols) in (0..c)
                .step_by(group)
                .map(|a| a..(a + group).min(c))
                .enumerate()
            {
                if n < self.taps.len() {
                    self.short_piece(&dec, r.clone(), cols.clone(), row0, out)?;
                } else {
                    self.long_piece(&dec, r.clone(), cols.clone(), row0, out)?;
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

    fn long_piece(
        &self,
        dec: &FirDecimator,
        r: Range<usize>,
        cols: Range<usize>,
        row0: usize,
        out: &SeriesStream,
    ) -> Result<()> {
        let n = r.len();
        let total = dec.output_len(n);
        let g = dec.output_granule();
        let (inputs, map) = self.inputs_of(cols.clone());
        // outputs per step: as many granules as the budget allows for this group
        let per_granule = self.ds * g;
        let rows_budget = self.budget / (8 * inputs.len().max(1));
        let steps =
            (rows_budget.saturating_sub(self.taps.len() + per_granule) / per_granule).max(1);
        let q = g * steps;
        let mut bufs: Vec<Vec<f64>> = vec![Vec::new(); inputs.len()];
        // the window holds samples w_lo..w_hi of the piece (relative to r.start)
        let (mut w_lo, mut w_hi) = (0usize, 0usize);
        let plain = map.len() == inputs.len() && map.iter().all(|(_, b)| b.is_none());
        let mut referenced: Vec<Vec<f64>> = vec![];
        let mut result = vec![];
        let mut k0 = 0;
        while k0 < total {
            let k1 = (k0 + q).min(total);
            let need = dec.input_span(n, k0..k1);
            // read up to the next chunk boundary of the stored data, so that no chunk
            // is decoded twice by consecutive windows
            let chunk = self.reader.raw().block_rows().max(1);
            let aligned = (r.start + need.end).div_ceil(chunk) * chunk - r.start;
            let read_end = if aligned - need.end <= need.len() / 2 {
                aligned.min(n)
            } else {
                need.end
            };
            if need.start >= w_lo && need.start < w_hi {
                // keep the overlap with the previous window, read the rest
                let keep = w_hi - need.start;
                for b in bufs.iter_mut() {
                    b.copy_within(need.start - w_lo..w_hi - w_lo, 0);
                    b.truncate(keep);
                }
                if need.end > w_hi {
                    self.fill(&inputs, r.start + w_hi..r.start + read_end, &mut bufs, keep)?;
                    w_hi = read_end;
                }
            } else {
                self.fill(
                    &inputs,
                    r.start + need.start..r.start + read_end,
                    &mut bufs,
                    0,
                )?;
                w_hi = read_end;
            }
            w_lo = need.start;
            let len = need.len();
            let views: Vec<&[f64]> = if plain {
                bufs.iter().map(|b| &b[..len]).collect()
            } else {
                referenced = map
                    .iter()
                    .map(|&(a, b)| match b {
                        Some(b) => bufs[a][..len]
                            .iter()
                            .zip(&bufs[b][..len])
                            .map(|(x, y)| x - y)
                            .collect(),
                        None => bufs[a][..len].to_vec(),
                    })
                    .collect();
                referenced.iter().map(Vec::as_slice).collect()
            };
            result.clear();
            result.resize((k1 - k0) * views.len(), 0.0);
            dec.filter_window(n, need.start, &views, k0..k1, &mut result)
                .map_err(dsp)?;
            self.write_rows(&result, k1 - k0, row0 + k0, cols.start, out)?;
            k0 = k1;
        }
        Ok(())
    }

    /// A piece shorter than the filter: read whole and filtered zero-padded, as in memory.
    fn short_piece(
        &self,
        dec: &FirDecimator,
        r: Range<usize>,
        cols: Range<usize>,
        row0: usize,
        out: &SeriesStream,
    ) -> Result<()> {
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
