//! Channel-major reads of raw (time × channel) series by sample or time range and
//! channel set. libhdf5 (Debian's serial build) is not thread-safe, so the library is
//! only asked where the bytes are: the file address of a contiguous dataset, or of each
//! chunk (`H5Dget_chunk_info_by_coord`, under the library lock). The bytes are then read
//! with positional reads and inflated, unshuffled, converted and transposed in one pass
//! per block, in parallel on rayon threads. Layouts this cannot handle (unknown filters,
//! user blocks, compact or external storage) fall back to hyperslab reads.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hdf5::types::TypeDescriptor;
use hdf5::Dataset;
use rayon::prelude::*;

use crate::error::{NwbError, Result};
use crate::h5::{self, herr, join};
use crate::model::Timing;
use crate::read::NwbFile;

/// A range of samples, by index or by time.
#[derive(Clone, Debug, PartialEq)]
pub enum SampleSpan {
    /// Sample indices `start..end`.
    Samples(Range<usize>),
    /// Samples whose time `t` satisfies `start <= t < stop` (seconds, file time base).
    Time {
        /// First time included.
        start: f64,
        /// First time excluded.
        stop: f64,
    },
    /// Every sample.
    All,
}

/// Numeric element types a raw read can produce.
pub trait Sample: Copy + Default + Send + Sync + 'static {
    /// Name used in error messages.
    const NAME: &'static str;
    /// Whether values of stored type `e` convert to `Self` without loss.
    fn accepts(e: &Elem) -> bool;
    /// Converts a decoded `f64`-range value (used for the generic path).
    fn from_i64(x: i64) -> Self;
    /// Converts a floating value.
    fn from_f64(x: f64) -> Self;
}

impl Sample for i16 {
    const NAME: &'static str = "i16";
    fn accepts(e: &Elem) -> bool {
        !e.float && (e.size == 1 || (e.size == 2 && e.signed))
    }
    fn from_i64(x: i64) -> Self {
        x as i16
    }
    fn from_f64(x: f64) -> Self {
        x as i16
    }
}

impl Sample for i32 {
    const NAME: &'static str = "i32";
    fn accepts(e: &Elem) -> bool {
        !e.float && (e.size <= 2 || (e.size == 4 && e.signed))
    }
    fn from_i64(x: i64) -> Self {
        x as i32
    }
    fn from_f64(x: f64) -> Self {
        x as i32
    }
}

impl Sample for f32 {
    const NAME: &'static str = "f32";
    fn accepts(_: &Elem) -> bool {
        true
    }
    fn from_i64(x: i64) -> Self {
        x as f32
    }
    fn from_f64(x: f64) -> Self {
        x as f32
    }
}

impl Sample for f64 {
    const NAME: &'static str = "f64";
    fn accepts(_: &Elem) -> bool {
        true
    }
    fn from_i64(x: i64) -> Self {
        x as f64
    }
    fn from_f64(x: f64) -> Self {
        x
    }
}

/// The stored element type of a raw dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elem {
    /// Bytes per element.
    pub size: usize,
    /// Signed integer (ignored for floats).
    pub signed: bool,
    /// Floating point.
    pub float: bool,
    /// Little-endian byte order.
    pub little_endian: bool,
}

/// One step of an HDF5 filter pipeline that the direct chunk path can undo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Filter {
    Deflate,
    Shuffle,
    Fletcher32,
    Lzf,
    Zstd,
    Bitshuffle(crate::filters::BitshuffleParams),
}

#[derive(Clone, Debug)]
enum Strategy {
    /// One contiguous block of bytes at `addr` in the data file, read in blocks of `block` rows.
    Contiguous { addr: u64, block: usize },
    /// Read raw chunks and decode them ourselves (chunk shape rows × cols).
    DirectChunks {
        chunk: [usize; 2],
        filters: Vec<Filter>,
    },
    /// Let HDF5 read hyperslabs of `block` rows.
    Hyperslab { block: usize },
}

/// Reader for one time × channel series, created by [`NwbFile::raw_reader`].
pub struct RawReader {
    file: PathBuf,
    series: String,
    ds: Dataset,
    n_samples: usize,
    n_channels: usize,
    rank: usize,
    elem: Elem,
    strategy: Strategy,
    conversion: f64,
    offset: f64,
    channel_conversion: Option<Vec<f64>>,
    timing: Timing,
    timestamps: Option<Dataset>,
    pool: Option<Arc<rayon::ThreadPool>>,
    /// The file holding the dataset (the link target for externally linked data), for positional reads.
    data_file: Option<(std::fs::File, u64)>,
    /// The last chunks decoded, so that consecutive reads sharing edge chunks (a
    /// filter's margins) inflate each chunk once.
    recent: RecentChunks,
}

/// A decoded chunk: its (first row, chunk column) and its bytes.
type DecodedChunk = ((usize, usize), Arc<Vec<u8>>);

/// A few decoded chunks, most recent last, within a byte budget.
struct RecentChunks {
    queue: std::sync::Mutex<std::collections::VecDeque<DecodedChunk>>,
    /// Decoded chunks kept at most, and their bytes at most.
    entries: usize,
    bytes: usize,
}

impl Default for RecentChunks {
    fn default() -> Self {
        RecentChunks {
            queue: Default::default(),
            entries: 8,
            bytes: 64 << 20,
        }
    }
}

impl RecentChunks {
    fn get(&self, at: (usize, usize)) -> Option<Arc<Vec<u8>>> {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        // a hit becomes the most recent
        let i = q.iter().position(|(k, _)| *k == at)?;
        let e = q.remove(i)?;
        let v = Arc::clone(&e.1);
        q.push_back(e);
        Some(v)
    }

    fn put(&self, at: (usize, usize), bytes: &[u8]) {
        if bytes.len() > self.bytes / 2 {
            return;
        }
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = q.iter().position(|(k, _)| *k == at) {
            // used again: most recent
            if let Some(e) = q.remove(i) {
                q.push_back(e);
            }
            return;
        }
        q.push_back((at, Arc::new(bytes.to_vec())));
        while q.len() > self.entries || q.iter().map(|(_, v)| v.len()).sum::<usize>() > self.bytes {
            q.pop_front();
        }
    }
}

impl std::fmt::Debug for RawReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawReader")
            .field("file", &self.file)
            .field("series", &self.series)
            .field("n_samples", &self.n_samples)
            .field("n_channels", &self.n_channels)
            .field("strategy", &self.strategy)
            .finish()
    }
}

fn filter_pipeline(
    ds: &Dataset,
    file: &Path,
    object: &str,
) -> Result<(bool, Option<Vec<Filter>>, Vec<usize>)> {
    use hdf5_sys::{h5d, h5p, h5z};
    let fail = |m: &str| NwbError::invalid(file, object, m.to_string());
    let (chunked, chunk) = hdf5::sync::sync(|| unsafe {
        let dcpl = h5d::H5Dget_create_plist(ds.id());
        if dcpl < 0 {
            return Err(fail("cannot read the creation property list"));
        }
        let chunked = h5p::H5Pget_layout(dcpl) == h5d::H5D_layout_t::H5D_CHUNKED;
        let mut chunk = vec![];
        if chunked {
            let mut dims = [0u64; 32];
            let nd = h5p::H5Pget_chunk(dcpl, 32, dims.as_mut_ptr());
            if nd > 0 {
                chunk = dims[..nd as usize].iter().map(|&d| d as usize).collect();
            }
        }
        h5p::H5Pclose(dcpl);
        Ok((chunked, chunk))
    })?;
    let mut filters = Some(vec![]);
    if chunked {
        crate::filters::check_dataset(ds, file, object)?;
        for f in crate::filters::pipeline(ds) {
            let step = match f.id {
                h5z::H5Z_FILTER_DEFLATE => Some(Filter::Deflate),
                h5z::H5Z_FILTER_SHUFFLE => Some(Filter::Shuffle),
                h5z::H5Z_FILTER_FLETCHER32 => Some(Filter::Fletcher32),
                crate::filters::LZF => Some(Filter::Lzf),
                crate::filters::ZSTD => Some(Filter::Zstd),
                crate::filters::BITSHUFFLE => {
                    crate::filters::BitshuffleParams::from_cd_values(&f.cd_values)
                        .ok()
                        .map(Filter::Bitshuffle)
                }
                // others (Blosc, ...) are decoded by HDF5 itself on the hyperslab path
                _ => None,
            };
            match (step, filters.as_mut()) {
                (Some(f), Some(list)) => list.push(f),
                _ => filters = None,
            }
        }
    }
    Ok((chunked, filters, chunk))
}

#[cfg(test)]
fn inflate(input: &[u8], expected: usize) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    inflate_into(input, expected, &mut out)?;
    Ok(out)
}

/// Inflates a zlib stream into `out`, which becomes the chunk's `expected` bytes
/// (libdeflate, in one call): a stream that inflates to more is an error.
fn inflate_into(
    input: &[u8],
    expected: usize,
    out: &mut Vec<u8>,
) -> std::result::Result<(), String> {
    thread_local! {
        static INFLATER: std::cell::RefCell<libdeflater::Decompressor> =
            std::cell::RefCell::new(libdeflater::Decompressor::new());
    }
    out.clear();
    out.resize(expected, 0);
    match INFLATER.with(|d| d.borrow_mut().zlib_decompress(input, out)) {
        Ok(n) => {
            out.truncate(n);
            Ok(())
        }
        Err(libdeflater::DecompressionError::BadData) => {
            Err("corrupt or truncated deflate stream".into())
        }
        Err(libdeflater::DecompressionError::InsufficientSpace) => {
            Err("deflate stream inflates beyond the chunk size".into())
        }
    }
}

#[cfg(test)]
fn unshuffle(input: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    unshuffle_into(input, size, &mut out);
    out
}

/// Undoes HDF5's byte shuffle of `size`-byte elements into `out` (cleared first).
fn unshuffle_into(input: &[u8], size: usize, out: &mut Vec<u8>) {
    out.clear();
    out.resize(input.len(), 0);
    if size <= 1 {
        out.copy_from_slice(input);
        return;
    }
    let n = input.len() / size;
    for b in 0..size {
        let src = &input[b * n..(b + 1) * n];
        for (i, &v) in src.iter().enumerate() {
            out[i * size + b] = v;
        }
    }
    let tail = n * size;
    out[tail..].copy_from_slice(&input[tail..]);
}

impl NwbFile {
    /// A reader for the raw data of the series (usually an ElectricalSeries) at `series_path`.
    pub fn raw_reader(&self, series_path: &str) -> Result<RawReader> {
        let ts = self.time_series(series_path)?;
        let data_path = join(series_path, "data");
        let root: &hdf5::Group = self.hdf5();
        let ds = h5::open_dataset(root, self.path(), &data_path)?;
        let shape = ds.shape();
        let (n_samples, n_channels) = match shape.as_slice() {
            [n] => (*n, 1),
            [n, c] => (*n, *c),
            other => {
                return Err(NwbError::invalid(
                    self.path(),
                    &data_path,
                    format!("raw data must be 1-D or 2-D (time × channel), shape is {other:?}"),
                ))
            }
        };
        let dtype = ds.dtype().map_err(herr(self.path(), &data_path))?;
        let desc = dtype
            .to_descriptor()
            .map_err(herr(self.path(), &data_path))?;
        let little_endian = matches!(dtype.byte_order(), hdf5::datatype::ByteOrder::LittleEndian);
        let elem = match desc {
            TypeDescriptor::Integer(s) => Elem {
                size: s as usize,
                signed: true,
                float: false,
                little_endian,
            },
            TypeDescriptor::Unsigned(s) => Elem {
                size: s as usize,
                signed: false,
                float: false,
                little_endian,
            },
            TypeDescriptor::Float(s) => Elem {
                size: s as usize,
                signed: true,
                float: true,
                little_endian,
            },
            other => {
                return Err(NwbError::invalid(
                    self.path(),
                    &data_path,
                    format!("raw data must be numeric, found {other}"),
                ))
            }
        };
        let (chunked, filters, chunk) = filter_pipeline(&ds, self.path(), &data_path)?;
        // Positional reads need the data file itself with no user block (addresses are then file offsets).
        let data_file = direct_file(&ds);
        let row_bytes = (n_channels * elem.size).max(1);
        let block = ((4 << 20) / row_bytes).clamp(256, 1 << 20);
        let strategy = match (chunked, filters, chunk.as_slice(), &data_file) {
            (true, Some(filters), [r, c], Some(_)) if shape.len() == 2 && *r > 0 && *c > 0 => {
                Strategy::DirectChunks {
                    chunk: [*r, *c],
                    filters,
                }
            }
            (true, Some(filters), [r], Some(_)) if shape.len() == 1 && *r > 0 => {
                Strategy::DirectChunks {
                    chunk: [*r, 1],
                    filters,
                }
            }
            (false, _, _, Some((_, len))) => match contiguous_offset(&ds) {
                Some(addr)
                    if addr
                        .checked_add((n_samples * row_bytes) as u64)
                        .is_some_and(|end| end <= *len) =>
                {
                    Strategy::Contiguous { addr, block }
                }
                _ => Strategy::Hyperslab { block },
            },
            _ => Strategy::Hyperslab { block },
        };
        let timestamps = match ts.timing {
            Timing::Timestamps { .. } => Some(h5::open_dataset(
                root,
                self.path(),
                &join(series_path, "timestamps"),
            )?),
            _ => None,
        };
        if let Some(cc) = &ts.channel_conversion {
            if cc.len() != n_channels {
                return Err(NwbError::invalid(
                    self.path(),
                    &join(series_path, "channel_conversion"),
                    format!("{} entries for {n_channels} channels", cc.len()),
                ));
            }
        }
        Ok(RawReader {
            file: self.path().to_path_buf(),
            series: series_path.to_string(),
            ds,
            n_samples,
            n_channels,
            rank: shape.len(),
            elem,
            strategy,
            conversion: ts.conversion,
            offset: ts.offset,
            channel_conversion: ts.channel_conversion,
            timing: ts.timing,
            timestamps,
            recent: RecentChunks::default(),
            pool: None,
            data_file,
        })
    }

    /// Raw stored values of `channels` over `span`, channel-major, as i16 (16-bit data only).
    pub fn read_raw_i16(
        &self,
        series_path: &str,
        span: SampleSpan,
        channels: &[usize],
    ) -> Result<Vec<Vec<i16>>> {
        let r = self.raw_reader(series_path)?;
        let s = r.samples(&span)?;
        r.read::<i16>(s, channels)
    }

    /// Values of `channels` over `span` in the series' unit (conversion, channel_conversion and offset applied).
    pub fn read_raw_f64(
        &self,
        series_path: &str,
        span: SampleSpan,
        channels: &[usize],
    ) -> Result<Vec<Vec<f64>>> {
        let r = self.raw_reader(series_path)?;
        let s = r.samples(&span)?;
        r.read_scaled(s, channels)
    }
}

impl RawReader {
    /// Uses a private pool of `n` threads for decoding (default: rayon's global pool).
    pub fn with_threads(mut self, n: usize) -> Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .map_err(|e| NwbError::InvalidArgument(format!("cannot build a thread pool: {e}")))?;
        self.pool = Some(Arc::new(pool));
        Ok(self)
    }

    /// Keeps up to `bytes` of decoded chunks (default: 8 chunks, 64 MiB) for reads
    /// that come back to them, e.g. a viewer's zoom steps over one region.
    pub fn with_chunk_cache(mut self, bytes: usize) -> Self {
        self.recent = RecentChunks {
            queue: Default::default(),
            entries: usize::MAX,
            bytes,
        };
        self
    }

    /// Number of samples (rows).
    pub fn num_samples(&self) -> usize {
        self.n_samples
    }

    /// Number of channels (columns).
    pub fn num_channels(&self) -> usize {
        self.n_channels
    }

    /// The stored element type.
    pub fn elem(&self) -> Elem {
        self.elem
    }

    /// `data@conversion`.
    pub fn conversion(&self) -> f64 {
        self.conversion
    }

    /// Timing of the series.
    pub fn timing(&self) -> &Timing {
        &self.timing
    }

    /// How the data will be read: `direct-chunks` (own decoding) or `hyperslab`.
    pub fn strategy(&self) -> &'static str {
        match self.strategy {
            Strategy::Contiguous { .. } => "direct-contiguous",
            Strategy::DirectChunks { .. } => "direct-chunks",
            Strategy::Hyperslab { .. } => "hyperslab",
        }
    }

    fn err(&self, msg: impl Into<String>) -> NwbError {
        NwbError::invalid(&self.file, &join(&self.series, "data"), msg)
    }

    fn timestamp_at(&self, i: usize) -> Result<f64> {
        match (&self.timing, &self.timestamps) {
            (
                Timing::Rate {
                    rate,
                    starting_time,
                },
                _,
            ) => Ok(starting_time + i as f64 / rate),
            (_, Some(ds)) => {
                let v = ds
                    .read_slice_1d::<f64, _>(ndarray::s![i..i + 1])
                    .map_err(herr(&self.file, &join(&self.series, "timestamps")))?;
                v.first()
                    .copied()
                    .ok_or_else(|| self.err("empty timestamp read"))
            }
            _ => Err(NwbError::missing(
                &self.file,
                &join(&self.series, "timestamps"),
                "timing",
            )),
        }
    }

    /// First sample index whose time is `>= t` (timestamps assumed sorted): a binary
    /// search over the stored timestamps (or `starting_time + i / rate`), reading one
    /// value per step, so the same index as a search over all timestamps in memory.
    fn lower_bound(&self, t: f64) -> Result<usize> {
        if let Timing::Rate { rate, .. } = self.timing {
            if !(rate > 0.0 && rate.is_finite()) {
                return Err(self.err(format!("invalid rate {rate}")));
            }
        }
        let (mut lo, mut hi) = (0usize, self.n_samples);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.timestamp_at(mid)? < t {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// numpy's `searchsorted(timestamps, t, side)`: the first sample whose timestamp is
    /// `>= t` (`right` false) or `> t` (`right` true); reads O(log n) timestamps.
    pub fn search_sorted(&self, t: f64, right: bool) -> Result<usize> {
        if !right {
            return self.lower_bound(t);
        }
        let (mut lo, mut hi) = (0usize, self.n_samples);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.timestamp_at(mid)? <= t {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// Rows per read block: the chunk rows of chunked data (reads aligned to it decode
    /// each chunk once).
    pub fn block_rows(&self) -> usize {
        match &self.strategy {
            Strategy::DirectChunks { chunk, .. } => chunk[0],
            Strategy::Contiguous { block, .. } | Strategy::Hyperslab { block } => *block,
        }
    }

    /// The file holding the series (as opened).
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The sample ranges of `intervals` as LFPV1 takes them: each interval clamped to
    /// the first and last timestamp, then `[searchsorted(start), searchsorted(stop))`;
    /// empty ranges dropped. Reads O(log n) timestamps per interval.
    pub fn sample_ranges(&self, intervals: &[[f64; 2]]) -> Result<Vec<Range<usize>>> {
        if self.n_samples == 0 {
            return Ok(vec![]);
        }
        let first = self.timestamp_at(0)?;
        let last = self.timestamp_at(self.n_samples - 1)?;
        let mut out = vec![];
        for &[start, stop] in intervals {
            let from = self.lower_bound(start.max(first))?;
            let to = self.lower_bound(stop.min(last))?.min(self.n_samples);
            if to > from {
                out.push(from..to);
            }
        }
        Ok(out)
    }

    /// Resolves a span to sample indices (clamped to the data).
    pub fn samples(&self, span: &SampleSpan) -> Result<Range<usize>> {
        match span {
            SampleSpan::All => Ok(0..self.n_samples),
            SampleSpan::Samples(r) => {
                if r.start > r.end || r.end > self.n_samples {
                    return Err(NwbError::InvalidArgument(format!(
                        "samples {r:?} out of bounds for `{}` with {} samples",
                        self.series, self.n_samples
                    )));
                }
                Ok(r.clone())
            }
            SampleSpan::Time { start, stop } => {
                if !(start.is_finite() && stop.is_finite()) || stop < start {
                    return Err(NwbError::InvalidArgument(format!(
                        "bad time range [{start}, {stop})"
                    )));
                }
                Ok(self.lower_bound(*start)?..self.lower_bound(*stop)?)
            }
        }
    }

    /// Timestamps of every `step`-th sample of `range` (from its first): one strided
    /// read of the stored timestamps, or from rate and starting time.
    pub fn timestamps_every(&self, range: Range<usize>, step: usize) -> Result<Vec<f64>> {
        let step = step.max(1);
        if step == 1 || range.is_empty() {
            return self.timestamps(range);
        }
        if range.start > range.end || range.end > self.n_samples {
            return Err(NwbError::InvalidArgument(format!(
                "samples {range:?} out of bounds"
            )));
        }
        match (&self.timing, &self.timestamps) {
            (_, Some(ds)) if !matches!(self.timing, Timing::Rate { .. }) => Ok(ds
                .read_slice_1d::<f64, _>(ndarray::s![range.start..range.end;step])
                .map_err(herr(&self.file, &join(&self.series, "timestamps")))?
                .to_vec()),
            _ => Ok(self
                .timestamps(range.clone())?
                .into_iter()
                .step_by(step)
                .collect()),
        }
    }

    /// The stored bytes of every channel over `samples`, row-major
    /// ([`RawReader::num_channels`] elements of [`RawReader::elem`] per row), handed to
    /// `f(first_sample, bytes)` a chunk row at a time: chunks decoded in parallel on the
    /// reader's threads (and kept in its chunk cache), so `f` may run on several threads
    /// at once. No copy to per-channel arrays: for reductions over all channels (a
    /// viewer's min/max). `Ok(false)`, with nothing called, unless the data are chunked
    /// with every channel in each chunk and decoded here (see [`RawReader::strategy`]).
    pub fn for_each_row_block(
        &self,
        samples: Range<usize>,
        f: impl Fn(usize, &[u8]) -> Result<()> + Sync,
    ) -> Result<bool> {
        let Strategy::DirectChunks { chunk, filters } = &self.strategy else {
            return Ok(false);
        };
        let [cr, cc] = *chunk;
        if cc != self.n_channels || cr == 0 {
            return Ok(false);
        }
        if samples.start > samples.end || samples.end > self.n_samples {
            return Err(NwbError::InvalidArgument(format!(
                "samples {samples:?} out of bounds for `{}` with {} samples",
                self.series, self.n_samples
            )));
        }
        if samples.is_empty() {
            return Ok(true);
        }
        let row_bytes = cc * self.elem.size;
        let expected = cr * row_bytes;
        let blocks: Vec<usize> = (samples.start / cr..=(samples.end - 1) / cr).collect();
        let run = |blocks: Vec<usize>| -> Result<()> {
            blocks.into_par_iter().try_for_each(|b| {
                let block_start = b * cr;
                SCRATCH.with(|cell| -> Result<()> {
                    let mut bufs = cell.borrow_mut();
                    let [raw, a, bb] = &mut *bufs;
                    let at = (block_start, 0);
                    let cached = self.recent.get(at);
                    let bytes: &[u8] = match &cached {
                        Some(v) => v,
                        None => match self.read_chunk(block_start, 0, expected, raw)? {
                            Some(mask) => {
                                let d = self.decode_chunk(raw, a, bb, mask, filters, expected)?;
                                self.recent.put(at, d);
                                d
                            }
                            None => {
                                a.clear();
                                a.resize(expected, 0);
                                a
                            }
                        },
                    };
                    let lo = block_start.max(samples.start);
                    let hi = (block_start + cr).min(samples.end);
                    let (x, y) = (
                        (lo - block_start) * row_bytes,
                        (hi - block_start) * row_bytes,
                    );
                    if y > bytes.len() {
                        return Err(self.err(format!(
                            "the chunk at row {block_start} holds {} bytes, not {expected}",
                            bytes.len()
                        )));
                    }
                    f(lo, &bytes[x..y])
                })
            })
        };
        match &self.pool {
            Some(p) => p.install(|| run(blocks))?,
            None => run(blocks)?,
        }
        Ok(true)
    }

    /// Timestamps of samples `range` (stored, or from rate and starting time).
    pub fn timestamps(&self, range: Range<usize>) -> Result<Vec<f64>> {
        if range.start > range.end || range.end > self.n_samples {
            return Err(NwbError::InvalidArgument(format!(
                "samples {range:?} out of bounds"
            )));
        }
        match (&self.timing, &self.timestamps) {
            (
                Timing::Rate {
                    rate,
                    starting_time,
                },
                _,
            ) => Ok(range.map(|i| starting_time + i as f64 / rate).collect()),
            (_, Some(ds)) => Ok(ds
                .read_slice_1d::<f64, _>(ndarray::s![range.start..range.end])
                .map_err(herr(&self.file, &join(&self.series, "timestamps")))?
                .to_vec()),
            _ => Err(NwbError::missing(
                &self.file,
                &join(&self.series, "timestamps"),
                "timing",
            )),
        }
    }

    /// How stored values become the series' unit (conversion, channel_conversion, offset).
    pub fn scaling(&self) -> crate::volts::Scaling {
        crate::volts::Scaling {
            conversion: self.conversion,
            channel_conversion: self.channel_conversion.clone(),
            offset: self.offset,
        }
    }

    /// Values in the series' unit: `stored * conversion * channel_conversion[c] + offset`.
    pub fn read_scaled(&self, samples: Range<usize>, channels: &[usize]) -> Result<Vec<Vec<f64>>> {
        let mut out: Vec<Vec<f64>> = channels.iter().map(|_| vec![0.0; samples.len()]).collect();
        {
            let mut slices: Vec<&mut [f64]> = out.iter_mut().map(|v| v.as_mut_slice()).collect();
            self.read_scaled_into(samples, channels, &mut slices)?;
        }
        Ok(out)
    }

    /// Like [`RawReader::read_scaled`], into caller-owned slices.
    pub fn read_scaled_into(
        &self,
        samples: Range<usize>,
        channels: &[usize],
        out: &mut [&mut [f64]],
    ) -> Result<()> {
        self.read_into(samples, channels, out)?;
        let scaling = self.scaling();
        let run = |out: &mut [&mut [f64]]| {
            out.par_iter_mut()
                .zip(channels.par_iter())
                .for_each(|(v, &c)| scaling.apply(c, v))
        };
        match &self.pool {
            Some(p) => p.install(|| run(out)),
            None => run(out),
        }
        Ok(())
    }

    /// Stored values of `channels` over `samples`, channel-major, converted to `T`.
    ///
    /// Errors when `T` cannot hold the stored type without loss (e.g. i16 from int32).
    pub fn read<T: Sample>(
        &self,
        samples: Range<usize>,
        channels: &[usize],
    ) -> Result<Vec<Vec<T>>> {
        let mut out: Vec<Vec<T>> = channels
            .iter()
            .map(|_| vec![T::default(); samples.len()])
            .collect();
        {
            let mut slices: Vec<&mut [T]> = out.iter_mut().map(|v| v.as_mut_slice()).collect();
            self.read_into(samples, channels, &mut slices)?;
        }
        Ok(out)
    }

    /// Like [`RawReader::read`], into caller-owned slices (`out[j]` receives channel
    /// `channels[j]`; each slice as long as `samples`): no allocation per call.
    pub fn read_into<T: Sample>(
        &self,
        samples: Range<usize>,
        channels: &[usize],
        out: &mut [&mut [T]],
    ) -> Result<()> {
        if !T::accepts(&self.elem) {
            return Err(self.err(format!(
                "stored type {:?} does not fit {}",
                self.elem,
                T::NAME
            )));
        }
        if samples.start > samples.end || samples.end > self.n_samples {
            return Err(NwbError::InvalidArgument(format!(
                "samples {samples:?} out of bounds for `{}` with {} samples",
                self.series, self.n_samples
            )));
        }
        if let Some(&c) = channels.iter().find(|&&c| c >= self.n_channels) {
            return Err(NwbError::InvalidArgument(format!(
                "channel {c} out of range for `{}` with {} channels",
                self.series, self.n_channels
            )));
        }
        let n = samples.len();
        if out.len() != channels.len() || out.iter().any(|o| o.len() != n) {
            return Err(NwbError::InvalidArgument(format!(
                "read of `{}`: {} output slices for {} channels of {n} samples",
                self.series,
                out.len(),
                channels.len()
            )));
        }
        if n == 0 || channels.is_empty() {
            return Ok(());
        }
        let block_rows = match &self.strategy {
            Strategy::DirectChunks { chunk, .. } => chunk[0],
            Strategy::Contiguous { block, .. } | Strategy::Hyperslab { block } => *block,
        };
        // Blocks aligned to the chunk (or block) grid, each owning a disjoint time range of every channel.
        let first_block = samples.start / block_rows;
        let last_block = (samples.end - 1) / block_rows;
        let mut work: Vec<(usize, Vec<&mut [T]>)> = (first_block..=last_block)
            .map(|b| (b, Vec::with_capacity(channels.len())))
            .collect();
        for v in out.iter_mut() {
            let mut rest: &mut [T] = v;
            for (b, slices) in work.iter_mut() {
                let lo = (*b * block_rows).max(samples.start);
                let hi = ((*b + 1) * block_rows).min(samples.end);
                let (head, tail) = std::mem::take(&mut rest).split_at_mut(hi - lo);
                slices.push(head);
                rest = tail;
            }
        }
        let run = |work: Vec<(usize, Vec<&mut [T]>)>| -> Result<()> {
            work.into_par_iter().try_for_each(|(b, mut slices)| {
                let lo = (b * block_rows).max(samples.start);
                let hi = ((b + 1) * block_rows).min(samples.end);
                self.fill_block(b * block_rows, lo..hi, channels, &mut slices)
            })
        };
        match &self.pool {
            Some(p) => p.install(|| run(work)),
            None => run(work),
        }
    }

    /// Fills `slices[j][t - rows.start]` for rows in `rows` (all inside the block starting at `block_start`).
    fn fill_block<T: Sample>(
        &self,
        block_start: usize,
        rows: Range<usize>,
        channels: &[usize],
        slices: &mut [&mut [T]],
    ) -> Result<()> {
        match &self.strategy {
            Strategy::DirectChunks { chunk, filters } => {
                let [cr, cc] = *chunk;
                // Chunk columns touched by the requested channels.
                let mut cols: Vec<usize> = channels.iter().map(|&c| c / cc).collect();
                cols.sort_unstable();
                cols.dedup();
                SCRATCH.with(|cell| -> Result<()> {
                    let mut bufs = cell.borrow_mut();
                    let [raw, a, b] = &mut *bufs;
                    for col in cols {
                        let expected = cr * cc * self.elem.size;
                        let at = (block_start, col);
                        let cached = self.recent.get(at);
                        let bytes: &[u8] = match &cached {
                            Some(v) => v,
                            None => match self.read_chunk(block_start, col * cc, expected, raw)? {
                                Some(mask) => {
                                    let d =
                                        self.decode_chunk(raw, a, b, mask, filters, expected)?;
                                    // only what took decoding is worth keeping: a stored
                                    // chunk is read again as fast as it would be copied
                                    let decoded = filters.iter().enumerate().any(|(i, f)| {
                                        mask & (1 << i) == 0 && *f != Filter::Fletcher32
                                    });
                                    if decoded {
                                        self.recent.put(at, d);
                                    }
                                    d
                                }
                                None => {
                                    a.clear();
                                    a.resize(expected, 0);
                                    a
                                }
                            },
                        };
                        let wanted: Vec<(usize, usize)> = channels
                            .iter()
                            .enumerate()
                            .filter(|(_, &c)| c / cc == col)
                            .map(|(j, &c)| (j, c - col * cc))
                            .collect();
                        scatter_bytes(
                            bytes,
                            self.elem,
                            cc,
                            rows.start - block_start,
                            rows.len(),
                            &wanted,
                            slices,
                        );
                    }
                    Ok(())
                })
            }
            Strategy::Contiguous { addr, .. } => SCRATCH.with(|cell| -> Result<()> {
                let mut bufs = cell.borrow_mut();
                let bytes = &mut bufs[0];
                let row_bytes = self.n_channels * self.elem.size;
                // pread overwrites every byte: grow without zeroing what is already there
                bytes.resize(rows.len() * row_bytes, 0);
                self.pread(bytes, addr + (rows.start * row_bytes) as u64)?;
                let wanted: Vec<(usize, usize)> =
                    channels.iter().enumerate().map(|(j, &c)| (j, c)).collect();
                scatter_bytes(
                    bytes,
                    self.elem,
                    self.n_channels,
                    0,
                    rows.len(),
                    &wanted,
                    slices,
                );
                Ok(())
            }),
            Strategy::Hyperslab { .. } => {
                let cmin = channels.iter().copied().min().unwrap_or(0);
                let cmax = channels.iter().copied().max().unwrap_or(0);
                let width = cmax - cmin + 1;
                let vals: Vec<T> = self.read_hyperslab::<T>(rows.clone(), cmin..cmax + 1)?;
                let wanted: Vec<(usize, usize)> = channels
                    .iter()
                    .enumerate()
                    .map(|(j, &c)| (j, c - cmin))
                    .collect();
                scatter(&vals, width, 0, rows.len(), &wanted, slices);
                Ok(())
            }
        }
    }

    /// Positional read of `buf.len()` bytes at `offset` of the data file (no library lock).
    fn pread(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let (file, len) = self
            .data_file
            .as_ref()
            .ok_or_else(|| self.err("no direct file access"))?;
        if offset
            .checked_add(buf.len() as u64)
            .is_none_or(|end| end > *len)
        {
            return Err(self.err(format!(
                "data at byte {offset} (+{}) lies beyond the end of the file",
                buf.len()
            )));
        }
        read_at(file, buf, offset).map_err(|e| NwbError::Io {
            path: self.file.clone(),
            source: e,
        })
    }

    fn read_hyperslab<T: Sample>(&self, rows: Range<usize>, cols: Range<usize>) -> Result<Vec<T>> {
        let e = herr(&self.file, &self.series);
        // Read in the stored type, converting ourselves (keeps HDF5 conversions out of the lock).
        macro_rules! get {
            ($t:ty) => {{
                let v: Vec<$t> = if self.rank == 1 {
                    self.ds
                        .read_slice_1d::<$t, _>(ndarray::s![rows.start..rows.end])
                        .map_err(e)?
                        .into_raw_vec_and_offset()
                        .0
                } else {
                    self.ds
                        .read_slice_2d::<$t, _>(ndarray::s![
                            rows.start..rows.end,
                            cols.start..cols.end
                        ])
                        .map_err(e)?
                        .into_raw_vec_and_offset()
                        .0
                };
                v
            }};
        }
        Ok(match (self.elem.float, self.elem.size, self.elem.signed) {
            (true, 4, _) => get!(f32)
                .into_iter()
                .map(|x| T::from_f64(x as f64))
                .collect(),
            (true, _, _) => get!(f64).into_iter().map(T::from_f64).collect(),
            (false, 1, true) => get!(i8)
                .into_iter()
                .map(|x| T::from_i64(x as i64))
                .collect(),
            (false, 1, false) => get!(u8)
                .into_iter()
                .map(|x| T::from_i64(x as i64))
                .collect(),
            (false, 2, true) => get!(i16)
                .into_iter()
                .map(|x| T::from_i64(x as i64))
                .collect(),
            (false, 2, false) => get!(u16)
                .into_iter()
                .map(|x| T::from_i64(x as i64))
                .collect(),
            (false, 4, true) => get!(i32)
                .into_iter()
                .map(|x| T::from_i64(x as i64))
                .collect(),
            (false, 4, false) => get!(u32)
                .into_iter()
                .map(|x| T::from_i64(x as i64))
                .collect(),
            (false, _, true) => get!(i64).into_iter().map(T::from_i64).collect(),
            (false, _, false) => get!(u64)
                .into_iter()
                .map(|x| T::from_f64(x as f64))
                .collect(),
        })
    }

    /// Raw bytes and filter mask of the chunk whose first element is (row, col); `None` if unallocated.
    fn read_chunk(
        &self,
        row: usize,
        col: usize,
        expected: usize,
        buf: &mut Vec<u8>,
    ) -> Result<Option<u32>> {
        use hdf5_sys::{h5, h5d};
        let offset: [u64; 2] = [row as u64, col as u64];
        let off = &offset[..self.rank];
        let limit = expected.saturating_mul(2).saturating_add(1 << 16) as u64;
        let (mask, addr, size) = hdf5::sync::sync(|| unsafe {
            let mut mask: u32 = 0;
            let mut addr: u64 = 0;
            let mut size: u64 = 0;
            if h5d::H5Dget_chunk_info_by_coord(
                self.ds.id(),
                off.as_ptr(),
                &mut mask,
                &mut addr,
                &mut size,
            ) < 0
            {
                return Err(self.err(format!("cannot locate the chunk at ({row}, {col})")));
            }
            Ok((mask, addr, size))
        })?;
        if addr == h5::HADDR_UNDEF || size == 0 {
            return Ok(None);
        }
        if size > limit {
            return Err(self.err(format!("chunk at ({row}, {col}) claims {size} bytes")));
        }
        // pread overwrites every byte: grow without zeroing what is already there
        buf.resize(size as usize, 0);
        self.pread(buf, addr)?;
        Ok(Some(mask))
    }

    /// Undoes the filter pipeline on `raw` (using `a` and `b` as work space); returns the decoded bytes.
    fn decode_chunk<'a>(
        &self,
        raw: &'a mut Vec<u8>,
        a: &'a mut Vec<u8>,
        b: &'a mut Vec<u8>,
        mask: u32,
        filters: &[Filter],
        expected: usize,
    ) -> Result<&'a [u8]> {
        // `cur` says which buffer holds the current bytes: 0 = raw, 1 = a, 2 = b.
        let mut cur = 0usize;
        for (i, f) in filters.iter().enumerate().rev() {
            if mask & (1 << i) != 0 {
                continue;
            }
            let (src, dst): (&Vec<u8>, &mut Vec<u8>) = match cur {
                0 => (&*raw, &mut *a),
                1 => (&*a, &mut *b),
                _ => (&*b, &mut *a),
            };
            match f {
                Filter::Deflate => {
                    inflate_into(src, expected, dst).map_err(|m| self.err(m))?;
                    cur = if cur == 1 { 2 } else { 1 };
                }
                Filter::Shuffle => {
                    unshuffle_into(src, self.elem.size, dst);
                    cur = if cur == 1 { 2 } else { 1 };
                }
                Filter::Lzf => {
                    *dst = crate::filters::lzf_decode(src, expected).map_err(|m| self.err(m))?;
                    cur = if cur == 1 { 2 } else { 1 };
                }
                Filter::Zstd => {
                    *dst = crate::filters::zstd_decode(src, expected).map_err(|m| self.err(m))?;
                    cur = if cur == 1 { 2 } else { 1 };
                }
                Filter::Bitshuffle(p) => {
                    *dst = crate::filters::bitshuffle_decode(src, p).map_err(|m| self.err(m))?;
                    cur = if cur == 1 { 2 } else { 1 };
                }
                Filter::Fletcher32 => {
                    let cur_buf: &mut Vec<u8> = match cur {
                        0 => &mut *raw,
                        1 => &mut *a,
                        _ => &mut *b,
                    };
                    if cur_buf.len() < 4 {
                        return Err(self.err("chunk too short for its checksum"));
                    }
                    let n = cur_buf.len() - 4;
                    cur_buf.truncate(n);
                }
            }
        }
        let out: &'a [u8] = match cur {
            0 => raw,
            1 => a,
            _ => b,
        };
        if out.len() != expected {
            return Err(self.err(format!(
                "a chunk decodes to {} bytes, expected {expected}",
                out.len()
            )));
        }
        Ok(out)
    }
}

/// Copies rows `[row0, row0 + nrows)` of a row-major block of width `width` into
/// channel slices: `slices[j][t] = vals[(row0 + t) * width + col]` for each `(j, col)`.
/// Works in row tiles so the block stays in cache while all channels are written.
fn scatter<T: Copy>(
    vals: &[T],
    width: usize,
    row0: usize,
    nrows: usize,
    wanted: &[(usize, usize)],
    slices: &mut [&mut [T]],
) {
    const TILE: usize = 512;
    let mut t0 = 0;
    while t0 < nrows {
        let t1 = (t0 + TILE).min(nrows);
        for &(j, col) in wanted {
            let dst = &mut slices[j][t0..t1];
            let base = (row0 + t0) * width + col;
            if let Some(column) = vals.get(base..) {
                for (d, v) in dst.iter_mut().zip(column.iter().step_by(width.max(1))) {
                    *d = *v;
                }
            }
        }
        t0 = t1;
    }
}

/// Like [`scatter`], decoding stored elements of type `elem` from `bytes` (rows of
/// `width` elements) straight into the wanted columns.
fn scatter_bytes<T: Sample>(
    bytes: &[u8],
    elem: Elem,
    width: usize,
    row0: usize,
    nrows: usize,
    wanted: &[(usize, usize)],
    slices: &mut [&mut [T]],
) {
    // Gathers each wanted column straight from the stored bytes, a tile of rows at a
    // time so the tile stays in the first-level cache while every column is read.
    const TILE: usize = 64;
    let le = elem.little_endian;
    macro_rules! run {
        ($n:expr, $conv:expr) => {{
            let conv = $conv;
            let stride = width * $n;
            let stored_rows = if stride == 0 { 0 } else { bytes.len() / stride };
            let nrows = nrows.min(stored_rows.saturating_sub(row0));
            let mut t0 = 0;
            while t0 < nrows {
                let t1 = (t0 + TILE).min(nrows);
                // the tile's stored rows, each `stride` bytes (all inside `bytes`)
                let tile = &bytes[(row0 + t0) * stride..(row0 + t1) * stride];
                for &(j, col) in wanted {
                    if col >= width {
                        continue;
                    }
                    let dst = &mut slices[j][t0..t1];
                    for (d, row) in dst.iter_mut().zip(tile.chunks_exact(stride)) {
                        let a: [u8; $n] = row[col * $n..col * $n + $n]
                            .try_into()
                            .expect("a stored element");
                        *d = conv(a);
                    }
                }
                t0 = t1;
            }
        }};
    }
    match (elem.float, elem.size, elem.signed) {
        (false, 2, true) => run!(2, |a: [u8; 2]| T::from_i64(if le {
            i16::from_le_bytes(a)
        } else {
            i16::from_be_bytes(a)
        } as i64)),
        (false, 2, false) => run!(2, |a: [u8; 2]| T::from_i64(if le {
            u16::from_le_bytes(a)
        } else {
            u16::from_be_bytes(a)
        } as i64)),
        (false, 1, true) => run!(1, |a: [u8; 1]| T::from_i64(a[0] as i8 as i64)),
        (false, 1, false) => run!(1, |a: [u8; 1]| T::from_i64(a[0] as i64)),
        (false, 4, true) => run!(4, |a: [u8; 4]| T::from_i64(if le {
            i32::from_le_bytes(a)
        } else {
            i32::from_be_bytes(a)
        } as i64)),
        (false, 4, false) => run!(4, |a: [u8; 4]| T::from_i64(if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        } as i64)),
        (false, 8, true) => run!(8, |a: [u8; 8]| T::from_i64(if le {
            i64::from_le_bytes(a)
        } else {
            i64::from_be_bytes(a)
        })),
        (false, 8, false) => run!(8, |a: [u8; 8]| T::from_f64(if le {
            u64::from_le_bytes(a)
        } else {
            u64::from_be_bytes(a)
        } as f64)),
        (true, 4, _) => run!(4, |a: [u8; 4]| T::from_f64(if le {
            f32::from_le_bytes(a)
        } else {
            f32::from_be_bytes(a)
        } as f64)),
        (true, 8, _) => run!(8, |a: [u8; 8]| T::from_f64(if le {
            f64::from_le_bytes(a)
        } else {
            f64::from_be_bytes(a)
        })),
        _ => {}
    }
}

thread_local! {
    /// Per-thread byte buffers reused across chunks (raw bytes, inflated bytes, unshuffled bytes).
    static SCRATCH: std::cell::RefCell<[Vec<u8>; 3]> = const { std::cell::RefCell::new([Vec::new(), Vec::new(), Vec::new()]) };
}

/// Opens the file holding `ds` for positional reads, when its addresses are file offsets.
fn direct_file(ds: &Dataset) -> Option<(std::fs::File, u64)> {
    if !cfg!(unix) {
        return None;
    }
    let file = ds.file().ok()?;
    if file.userblock() != 0 {
        return None;
    }
    let name = ds.filename();
    let f = std::fs::File::open(&name).ok()?;
    let len = f.metadata().ok()?.len();
    Some((f, len))
}

/// File address of a contiguous dataset's data (`None` when unallocated, compact or external).
fn contiguous_offset(ds: &Dataset) -> Option<u64> {
    use hdf5_sys::{h5, h5d};
    let addr = hdf5::sync::sync(|| unsafe { h5d::H5Dget_offset(ds.id()) });
    (addr != h5::HADDR_UNDEF).then_some(addr)
}

#[cfg(unix)]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, offset)
}

#[cfg(not(unix))]
fn read_at(_: &std::fs::File, _: &mut [u8], _: u64) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "positional reads need a unix platform",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unshuffle_inverts_hdf5_shuffle() {
        // 3 little-endian u16 values 0x0102, 0x0304, 0x0506 shuffled: low bytes then high bytes.
        let shuffled = [0x02, 0x04, 0x06, 0x01, 0x03, 0x05];
        assert_eq!(
            unshuffle(&shuffled, 2),
            vec![0x02, 0x01, 0x04, 0x03, 0x06, 0x05]
        );
    }

    #[test]
    fn scatter_transposes() {
        // 3 rows x 2 cols: [[1,2],[3,4],[5,6]]
        let vals = [1, 2, 3, 4, 5, 6];
        let mut a = [0; 3];
        let mut b = [0; 3];
        {
            let mut slices: Vec<&mut [i32]> = vec![&mut a, &mut b];
            scatter(&vals, 2, 0, 3, &[(0, 1), (1, 0)], &mut slices);
        }
        assert_eq!(a, [2, 4, 6]);
        assert_eq!(b, [1, 3, 5]);
    }

    #[test]
    fn inflate_rejects_garbage() {
        assert!(inflate(&[1, 2, 3, 4], 100).is_err());
    }

    #[test]
    fn inflate_gives_the_chunk_or_an_error() {
        use std::io::Write;
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(4));
        z.write_all(&data).unwrap();
        let packed = z.finish().unwrap();
        // the chunk's size: libdeflate in one call
        assert_eq!(inflate(&packed, data.len()).unwrap(), data);
        // a stream larger than the chunk is an error
        let err = inflate(&packed, data.len() - 1).unwrap_err();
        assert!(err.contains("beyond the chunk size"), "{err}");
        // a truncated stream is an error, not a short chunk
        assert!(inflate(&packed[..packed.len() / 2], data.len()).is_err());
    }
}
