//! The spike-sorting recording without the terabytes: a [`Recipe`] (which raw
//! samples, which channels, which reference, which filter) and a
//! [`FilteredRecording`] that recomputes the referenced, band-passed recording from
//! the raw file in chunks, as SpikeSortingRecording's make computed it.
//!
//! The computation is Spyglass's (`recording.py`, `_get_preprocessed_recording`):
//! the raw samples of each piece are concatenated into one series; the channels are
//! the sort group's electrodes in ascending id order; the reference is none (−1),
//! the median across the channels at each sample (−2), or one electrode subtracted
//! from every channel and then dropped (≥ 0); then a Butterworth band-pass of order
//! 5 (second-order sections) runs forward and backward (`sosfiltfilt`). Values are
//! microvolts (the raw series read in volts — conversion, channel_conversion and
//! offset applied — times 10⁶), float64.
//!
//! Memory is bounded: the series is filtered in chunks of [`Recipe::chunk_rows`]
//! rows, each read with [`Recipe::margin_rows`] rows on either side (100 ms:
//! SpikeInterface's own 1 s chunks with 5 ms margins differ from one pass over the
//! whole series by ~7e-4; 100 ms margins by less than 1e-7). The chunking is part of
//! the recipe, so every recompute gives the same numbers; their MD5
//! ([`FilteredRecording::stream`] computes and checks it) is stored with the recipe
//! in the analysis file, and a recompute whose MD5 differs is an error. (The
//! SpikeSortingRecording row's `hash` is another digest: Spyglass's NWB file hash of
//! the analysis file, [`spyglass_nwb::nwbfile_hash`].)

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use spyglass_dsp::{butter_sos, filtfilt_chunks, Band, Sos};
use spyglass_nwb::{NwbFile, VoltsReader};
use std::ops::Range;
use std::path::Path;

/// Order of Spyglass's (SpikeInterface's `bandpass_filter`) Butterworth filter.
pub const FILTER_ORDER: usize = 5;
/// Margin read on each side of a chunk, seconds.
pub const MARGIN_S: f64 = 0.1;
/// Longest chunk, seconds.
pub const CHUNK_S: f64 = 2.0;
/// Memory for one chunk's buffers, bytes (shorter chunks for many channels).
pub const CHUNK_BUDGET: usize = 64 << 20;

/// How to re-reference the channels.
pub fn reference_text(reference: i64) -> String {
    match reference {
        -1 => "none".into(),
        -2 => "global median".into(),
        e => format!("electrode {e}"),
    }
}

/// Everything needed to recompute a recording from its raw file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    /// The session (`_` copy name) whose raw series is read.
    pub nwb_file_name: String,
    /// Object id of the raw ElectricalSeries.
    pub raw_object_id: String,
    /// Sampling rate of the raw series, Hz.
    pub sampling_rate: f64,
    /// Sample ranges `[start, stop)` of the raw series, concatenated in order.
    pub pieces: Vec<[usize; 2]>,
    /// Output channels (electrode ids), ascending.
    pub channel_ids: Vec<i64>,
    /// −1 none, −2 median across channels, or the electrode subtracted.
    pub reference: i64,
    /// Band-pass edges, Hz.
    pub frequency_min: f64,
    /// Band-pass edges, Hz.
    pub frequency_max: f64,
    /// Butterworth order.
    pub filter_order: usize,
    /// Rows per chunk.
    pub chunk_rows: usize,
    /// Rows read on each side of a chunk.
    pub margin_rows: usize,
    /// Contact positions (x, y) per channel, µm; none when the file gives none.
    pub locations: Option<Vec<[f64; 2]>>,
}

impl Recipe {
    /// Rows of the recording (samples of every piece).
    pub fn n_rows(&self) -> usize {
        self.pieces.iter().map(|[a, b]| b - a).sum()
    }

    /// The chunking for `n_channels` at `rate`: chunks of at most [`CHUNK_S`] within
    /// [`CHUNK_BUDGET`], margins of [`MARGIN_S`].
    pub fn chunking(rate: f64, n_channels: usize) -> (usize, usize) {
        let margin = (MARGIN_S * rate).ceil() as usize;
        let by_budget = CHUNK_BUDGET / (8 * 4 * n_channels.max(1));
        let chunk = ((CHUNK_S * rate) as usize).min(by_budget.saturating_sub(2 * margin));
        (chunk.max(margin).max(1), margin)
    }

    /// The band-pass as second-order sections.
    pub fn sos(&self) -> Result<Sos> {
        let band = Band::Bandpass(self.frequency_min, self.frequency_max);
        butter_sos(self.filter_order, band, self.sampling_rate).map_err(|e| {
            Error::bad(
                "SpikeSortingPreprocessingParameters",
                format!(
                    "frequency_min {} / frequency_max {} at {} Hz: {e}",
                    self.frequency_min, self.frequency_max, self.sampling_rate
                ),
            )
        })
    }
}

/// A recording recomputed from its raw file, chunk by chunk.
pub struct FilteredRecording {
    recipe: Recipe,
    reader: VoltsReader,
    sos: Sos,
    /// Input channels: the outputs, then the reference (if one electrode).
    inputs: Vec<usize>,
    /// First output row of each piece.
    starts: Vec<usize>,
    n_rows: usize,
}

impl FilteredRecording {
    /// Opens the raw series of `recipe` in `raw_file` (the session's `_` copy).
    pub fn open(raw_file: &Path, recipe: Recipe) -> Result<FilteredRecording> {
        let file = NwbFile::open(raw_file)?;
        let reader = file.volts_reader(&file.path_of_id(&recipe.raw_object_id)?)?;
        let mut ids = recipe.channel_ids.clone();
        if recipe.reference >= 0 {
            ids.push(recipe.reference);
        } else if recipe.reference != -1 && recipe.reference != -2 {
            return Err(Error::bad(
                "sort_reference_electrode_id",
                format!(
                    "{}: use -1 (none), -2 (median) or an electrode id",
                    recipe.reference
                ),
            ));
        }
        let inputs = reader.channels_of(&ids)?;
        let total = reader.raw().num_samples();
        let mut starts = Vec::with_capacity(recipe.pieces.len());
        let mut n_rows = 0;
        for &[a, b] in &recipe.pieces {
            if a > b || b > total {
                return Err(Error::bad(
                    raw_file.display().to_string(),
                    format!(
                        "recording piece [{a}, {b}) is outside the raw series' {total} samples"
                    ),
                ));
            }
            starts.push(n_rows);
            n_rows += b - a;
        }
        if recipe.channel_ids.is_empty() {
            return Err(Error::bad("sort group", "no channel to record"));
        }
        let sos = recipe.sos()?;
        if n_rows <= sos.padlen() {
            return Err(Error::bad(
                "sort interval",
                format!(
                    "{n_rows} samples; filtering needs more than {}",
                    sos.padlen()
                ),
            ));
        }
        Ok(FilteredRecording {
            recipe,
            reader,
            sos,
            inputs,
            starts,
            n_rows,
        })
    }

    /// Its recipe.
    pub fn recipe(&self) -> &Recipe {
        &self.recipe
    }

    /// Rows (samples per channel).
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Number of channels.
    pub fn n_channels(&self) -> usize {
        self.recipe.channel_ids.len()
    }

    /// Sampling rate, Hz.
    pub fn sampling_rate(&self) -> f64 {
        self.recipe.sampling_rate
    }

    /// The raw series' timestamps of rows `rows` (the pieces' samples, concatenated).
    pub fn timestamps(&self, rows: Range<usize>) -> Result<Vec<f64>> {
        let mut out = Vec::with_capacity(rows.len());
        for (span, raw) in self.spans(rows)? {
            let _ = span;
            out.extend(self.reader.raw().timestamps(raw)?);
        }
        Ok(out)
    }

    /// The pieces' raw sample ranges covering output rows `rows`, each with its output rows.
    fn spans(&self, rows: Range<usize>) -> Result<Vec<(Range<usize>, Range<usize>)>> {
        if rows.start > rows.end || rows.end > self.n_rows {
            return Err(Error::internal(
                "recording",
                format!("rows {rows:?} outside 0..{}", self.n_rows),
            ));
        }
        let mut out = vec![];
        for (i, &[a, b]) in self.recipe.pieces.iter().enumerate() {
            let (lo, hi) = (self.starts[i], self.starts[i] + (b - a));
            let (s, e) = (rows.start.max(lo), rows.end.min(hi));
            if s < e {
                out.push((s..e, a + (s - lo)..a + (e - lo)));
            }
        }
        Ok(out)
    }

    /// Referenced, unfiltered µV of rows `rows` into `out` (time-major).
    pub fn read_referenced(&self, rows: Range<usize>, out: &mut [f64]) -> Result<()> {
        let nc = self.n_channels();
        if out.len() != rows.len() * nc {
            return Err(Error::internal(
                "recording",
                "output buffer of the wrong size",
            ));
        }
        // stored values, converted here as the volts reader converts them (`stored ×
        // factor + offset`), then µV, in one pass with the transposition
        let raw = self.reader.raw();
        let scaling = raw.scaling();
        let factor: Vec<f64> = self.inputs.iter().map(|&c| scaling.factor(c)).collect();
        let uv = |j: usize, x: f64| (x * factor[j] + scaling.offset) * 1e6;
        let mut sorted = vec![0.0; nc];
        for (span, samples) in self.spans(rows.clone())? {
            let v: Vec<Vec<f64>> = raw.read(samples, &self.inputs)?;
            let r0 = span.start - rows.start;
            let block = &mut out[r0 * nc..(r0 + span.len()) * nc];
            let cols: Vec<&[f64]> = v.iter().map(|c| &c[..span.len()]).collect();
            for (t, row) in block.chunks_exact_mut(nc).enumerate() {
                for (j, x) in row.iter_mut().enumerate() {
                    *x = uv(j, cols[j][t]);
                }
                match self.recipe.reference {
                    -2 => {
                        sorted.copy_from_slice(row);
                        let m = median(&mut sorted);
                        row.iter_mut().for_each(|x| *x -= m);
                    }
                    r if r >= 0 => {
                        let rv = uv(nc, cols[nc][t]);
                        row.iter_mut().for_each(|x| *x -= rv);
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Streams the filtered recording: `f(first_row, block)` receives consecutive
    /// time-major blocks of µV (every row once, in order); returns the MD5 of the
    /// values (as little-endian f32, row by row). With `expected`, a different
    /// hash is an error (raised after the last block: a consumer keeps nothing
    /// until `stream` returns `Ok`).
    pub fn stream(
        &self,
        expected: Option<&str>,
        mut f: impl FnMut(usize, &[f64]) -> Result<()>,
    ) -> Result<String> {
        let mut hasher = ValuesHash::default();
        let nc = self.n_channels();
        let chunking = (self.recipe.chunk_rows, self.recipe.margin_rows);
        filtfilt_chunks(
            &self.sos,
            self.n_rows,
            nc,
            chunking,
            |rows, buf: &mut [f64]| self.read_referenced(rows, buf),
            |row0, block: &[f64]| {
                hasher.update_f64(block);
                f(row0, block)
            },
        )?;
        self.check_hash(hasher.finish(), expected)
    }

    /// `hash` when it is `expected` (or nothing is expected), else the error of a
    /// recompute whose hash differs.
    pub(crate) fn check_hash(&self, hash: String, expected: Option<&str>) -> Result<String> {
        match expected {
            Some(want) if want != hash => Err(Error::conflict(
                format!("the recording of {}", self.recipe.nwb_file_name),
                format!(
                    "recomputed hash {hash} differs from the stored {want}: the raw file or the filter changed; repopulate SpikeSortingRecording"
                ),
            )),
            _ => Ok(hash),
        }
    }

    /// The whole filtered recording in memory (time-major µV), hash checked —
    /// for tests and small recordings; prefer [`FilteredRecording::stream`].
    pub fn read_all(&self, expected: Option<&str>) -> Result<(Vec<f64>, String)> {
        let nc = self.n_channels();
        let mut out = vec![0.0; self.n_rows * nc];
        let hash = self.stream(expected, |row0, block| {
            out[row0 * nc..row0 * nc + block.len()].copy_from_slice(block);
            Ok(())
        })?;
        Ok((out, hash))
    }
}

/// The running hash of a filtered recording's values, row by row: the MD5 of them
/// as little-endian f32 ([`FilteredRecording::stream`]'s hash).
#[derive(Default)]
pub(crate) struct ValuesHash {
    md5: md5::Md5,
    bytes: Vec<u8>,
}

impl ValuesHash {
    /// Adds values (converted to f32).
    pub(crate) fn update_f64(&mut self, block: &[f64]) {
        self.bytes.clear();
        for &x in block {
            self.bytes.extend_from_slice(&(x as f32).to_le_bytes());
        }
        md5::Digest::update(&mut self.md5, &self.bytes);
    }

    /// Adds f32 values.
    pub(crate) fn update_f32(&mut self, block: &[f32]) {
        self.bytes.clear();
        for &x in block {
            self.bytes.extend_from_slice(&x.to_le_bytes());
        }
        md5::Digest::update(&mut self.md5, &self.bytes);
    }

    /// The hash, as lowercase hex.
    pub(crate) fn finish(self) -> String {
        md5::Digest::finalize(self.md5)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// numpy's median (mean of the middle two for an even count); sorts `x`.
fn median(x: &mut [f64]) -> f64 {
    x.sort_unstable_by(f64::total_cmp);
    let m = x.len() / 2;
    if x.is_empty() {
        f64::NAN
    } else if x.len() % 2 == 1 {
        x[m]
    } else {
        (x[m - 1] + x[m]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_as_numpy() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn chunking_fits_the_budget() {
        assert_eq!(Recipe::chunking(30000.0, 4), (60000, 3000));
        let (chunk, margin) = Recipe::chunking(30000.0, 64);
        assert!((chunk + 2 * margin) * 64 * 32 <= CHUNK_BUDGET && chunk >= margin);
        // many channels: chunks never shorter than the margin
        let (chunk, margin) = Recipe::chunking(30000.0, 4096);
        assert_eq!(chunk, margin);
    }
}
