//! Channel-major reads of raw (time × channel) series by sample or time range and
//! channel set. Chunked datasets are read chunk by chunk: the raw (still compressed)
//! bytes come from `H5Dread_chunk` under the library lock, and inflating, unshuffling,
//! type conversion and the transpose run in parallel on rayon threads (libhdf5 is not
//! thread-safe, zlib is). Contiguous and other layouts use hyperslab reads per block,
//! transposed in parallel.

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

impl Elem {
    fn decode<T: Sample>(&self, b: &[u8], out: &mut Vec<T>) {
        out.clear();
        out.reserve(b.len() / self.size.max(1));
        macro_rules! run {
            ($t:ty, $n:expr, int) => {
                if self.little_endian {
                    out.extend(b.chunks_exact($n).map(|c| T::from_i64(<$t>::from_le_bytes(c.try_into().unwrap_or([0; $n])) as i64)))
                } else {
                    out.extend(b.chunks_exact($n).map(|c| T::from_i64(<$t>::from_be_bytes(c.try_into().unwrap_or([0; $n])) as i64)))
                }
            };
            ($t:ty, $n:expr, float) => {
                if self.little_endian {
                    out.extend(b.chunks_exact($n).map(|c| T::from_f64(<$t>::from_le_bytes(c.try_into().unwrap_or([0; $n])) as f64)))
                } else {
                    out.extend(b.chunks_exact($n).map(|c| T::from_f64(<$t>::from_be_bytes(c.try_into().unwrap_or([0; $n])) as f64)))
                }
            };
        }
        match (self.float, self.size, self.signed) {
            (true, 4, _) => run!(f32, 4, float),
            (true, 8, _) => run!(f64, 8, float),
            (false, 1, true) => run!(i8, 1, int),
            (false, 1, false) => run!(u8, 1, int),
            (false, 2, true) => run!(i16, 2, int),
            (false, 2, false) => run!(u16, 2, int),
            (false, 4, true) => run!(i32, 4, int),
            (false, 4, false) => run!(u32, 4, int),
            (false, 8, true) => run!(i64, 8, int),
            (false, 8, false) => out.extend(b.chunks_exact(8).map(|c| {
                let a: [u8; 8] = c.try_into().unwrap_or([0; 8]);
                let v = if self.little_endian { u64::from_le_bytes(a) } else { u64::from_be_bytes(a) };
                T::from_f64(v as f64)
            })),
            _ => {}
        }
    }
}

/// One step of an HDF5 filter pipeline that the direct chunk path can undo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Filter {
    Deflate,
    Shuffle,
    Fletcher32,
}

#[derive(Clone, Debug)]
enum Strategy {
    /// Read raw chunks and decode them ourselves (chunk shape rows × cols).
    DirectChunks { chunk: [usize; 2], filters: Vec<Filter> },
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

fn filter_pipeline(ds: &Dataset, file: &Path, object: &str) -> Result<(bool, Option<Vec<Filter>>, Vec<usize>)> {
    use hdf5_sys::{h5d, h5p, h5z};
    let fail = |m: &str| NwbError::invalid(file, object, m.to_string());
    hdf5::sync::sync(|| unsafe {
        let dcpl = h5d::H5Dget_create_plist(ds.id());
        if dcpl < 0 {
            return Err(fail("cannot read the creation property list"));
        }
        let layout = h5p::H5Pget_layout(dcpl);
        let chunked = layout == h5d::H5D_layout_t::H5D_CHUNKED;
        let mut chunk = vec![];
        let mut filters = Some(vec![]);
        if chunked {
            let mut dims = [0u64; 32];
            let nd = h5p::H5Pget_chunk(dcpl, 32, dims.as_mut_ptr());
            if nd > 0 {
                chunk = dims[..nd as usize].iter().map(|&d| d as usize).collect();
            }
            let nf = h5p::H5Pget_nfilters(dcpl);
            for i in 0..nf.max(0) as u32 {
                let mut flags = 0u32;
                let mut nelm: usize = 0;
                let mut cfg = 0u32;
                let id = h5p::H5Pget_filter2(
                    dcpl,
                    i,
                    &mut flags,
                    &mut nelm,
                    std::ptr::null_mut(),
                    0,
                    std::ptr::null_mut(),
                    &mut cfg,
                );
                let f = match id {
                    h5z::H5Z_FILTER_DEFLATE => Some(Filter::Deflate),
                    h5z::H5Z_FILTER_SHUFFLE => Some(Filter::Shuffle),
                    h5z::H5Z_FILTER_FLETCHER32 => Some(Filter::Fletcher32),
                    _ => None,
                };
                match (f, filters.as_mut()) {
                    (Some(f), Some(list)) => list.push(f),
                    _ => filters = None,
                }
            }
        }
        h5p::H5Pclose(dcpl);
        Ok((chunked, filters, chunk))
    })
}

fn inflate(input: &[u8], expected: usize) -> std::result::Result<Vec<u8>, String> {
    let mut d = flate2::Decompress::new(true);
    let mut out = Vec::with_capacity(expected.max(16));
    loop {
        let before_in = d.total_in();
        let status = d
            .decompress_vec(&input[d.total_in() as usize..], &mut out, flate2::FlushDecompress::Finish)
            .map_err(|e| format!("corrupt deflate stream: {e}"))?;
        match status {
            flate2::Status::StreamEnd => return Ok(out),
            _ => {
                if out.len() >= expected.saturating_mul(2).max(1 << 16) {
                    return Err("deflate stream inflates beyond the chunk size".into());
                }
                if d.total_in() == before_in && out.len() < out.capacity() {
                    return Err("truncated deflate stream".into());
                }
                out.reserve(expected.max(1 << 12));
            }
        }
    }
}

fn unshuffle(input: &[u8], size: usize) -> Vec<u8> {
    if size <= 1 {
        return input.to_vec();
    }
    let n = input.len() / size;
    let mut out = vec![0u8; input.len()];
    for b in 0..size {
        let src = &input[b * n..(b + 1) * n];
        for (i, &v) in src.iter().enumerate() {
            out[i * size + b] = v;
        }
    }
    let tail = n * size;
    out[tail..].copy_from_slice(&input[tail..]);
    out
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
        let desc = dtype.to_descriptor().map_err(herr(self.path(), &data_path))?;
        let little_endian = matches!(dtype.byte_order(), hdf5::datatype::ByteOrder::LittleEndian);
        let elem = match desc {
            TypeDescriptor::Integer(s) => Elem { size: s as usize, signed: true, float: false, little_endian },
            TypeDescriptor::Unsigned(s) => Elem { size: s as usize, signed: false, float: false, little_endian },
            TypeDescriptor::Float(s) => Elem { size: s as usize, signed: true, float: true, little_endian },
            other => {
                return Err(NwbError::invalid(self.path(), &data_path, format!("raw data must be numeric, found {other}")))
            }
        };
        let (chunked, filters, chunk) = filter_pipeline(&ds, self.path(), &data_path)?;
        let strategy = match (chunked, filters, chunk.as_slice()) {
            (true, Some(filters), [r, c]) if shape.len() == 2 && *r > 0 && *c > 0 => {
                Strategy::DirectChunks { chunk: [*r, *c], filters }
            }
            (true, Some(filters), [r]) if shape.len() == 1 && *r > 0 => Strategy::DirectChunks { chunk: [*r, 1], filters },
            _ => {
                // Rows per hyperslab block: about 4 MiB of elements.
                let row_bytes = (n_channels * elem.size).max(1);
                Strategy::Hyperslab { block: ((4 << 20) / row_bytes).clamp(256, 1 << 20) }
            }
        };
        let timestamps = match ts.timing {
            Timing::Timestamps { .. } => Some(h5::open_dataset(root, self.path(), &join(series_path, "timestamps"))?),
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
            pool: None,
        })
    }

    /// Raw stored values of `channels` over `span`, channel-major, as i16 (16-bit data only).
    pub fn read_raw_i16(&self, series_path: &str, span: SampleSpan, channels: &[usize]) -> Result<Vec<Vec<i16>>> {
        let r = self.raw_reader(series_path)?;
        let s = r.samples(&span)?;
        r.read::<i16>(s, channels)
    }

    /// Values of `channels` over `span` in the series' unit (conversion, channel_conversion and offset applied).
    pub fn read_raw_f64(&self, series_path: &str, span: SampleSpan, channels: &[usize]) -> Result<Vec<Vec<f64>>> {
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
            Strategy::DirectChunks { .. } => "direct-chunks",
            Strategy::Hyperslab { .. } => "hyperslab",
        }
    }

    fn err(&self, msg: impl Into<String>) -> NwbError {
        NwbError::invalid(&self.file, &join(&self.series, "data"), msg)
    }

    fn timestamp_at(&self, i: usize) -> Result<f64> {
        match (&self.timing, &self.timestamps) {
            (Timing::Rate { rate, starting_time }, _) => Ok(starting_time + i as f64 / rate),
            (_, Some(ds)) => {
                let v = ds
                    .read_slice_1d::<f64, _>(ndarray::s![i..i + 1])
                    .map_err(herr(&self.file, &join(&self.series, "timestamps")))?;
                v.first().copied().ok_or_else(|| self.err("empty timestamp read"))
            }
            _ => Err(NwbError::missing(&self.file, &join(&self.series, "timestamps"), "timing")),
        }
    }

    /// First sample index whose time is `>= t` (timestamps assumed sorted).
    fn lower_bound(&self, t: f64) -> Result<usize> {
        if let Timing::Rate { rate, starting_time } = self.timing {
            if !(rate > 0.0 && rate.is_finite()) {
                return Err(self.err(format!("invalid rate {rate}")));
            }
            let x = ((t - starting_time) * rate - 1e-9).ceil();
            return Ok(if x <= 0.0 { 0 } else { (x as usize).min(self.n_samples) });
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
                    return Err(NwbError::InvalidArgument(format!("bad time range [{start}, {stop})")));
                }
                Ok(self.lower_bound(*start)?..self.lower_bound(*stop)?)
            }
        }
    }

    /// Timestamps of samples `range` (stored, or from rate and starting time).
    pub fn timestamps(&self, range: Range<usize>) -> Result<Vec<f64>> {
        if range.start > range.end || range.end > self.n_samples {
            return Err(NwbError::InvalidArgument(format!("samples {range:?} out of bounds")));
        }
        match (&self.timing, &self.timestamps) {
            (Timing::Rate { rate, starting_time }, _) => {
                Ok(range.map(|i| starting_time + i as f64 / rate).collect())
            }
            (_, Some(ds)) => Ok(ds
                .read_slice_1d::<f64, _>(ndarray::s![range.start..range.end])
                .map_err(herr(&self.file, &join(&self.series, "timestamps")))?
                .to_vec()),
            _ => Err(NwbError::missing(&self.file, &join(&self.series, "timestamps"), "timing")),
        }
    }

    /// Values in the series' unit: `stored * conversion * channel_conversion[c] + offset`.
    pub fn read_scaled(&self, samples: Range<usize>, channels: &[usize]) -> Result<Vec<Vec<f64>>> {
        let mut out = self.read::<f64>(samples, channels)?;
        let run = |out: &mut Vec<Vec<f64>>| {
            out.par_iter_mut().zip(channels.par_iter()).for_each(|(v, &c)| {
                let k = self.conversion * self.channel_conversion.as_ref().map_or(1.0, |cc| cc[c]);
                let off = self.offset;
                v.iter_mut().for_each(|x| *x = *x * k + off);
            })
        };
        match &self.pool {
            Some(p) => p.install(|| run(&mut out)),
            None => run(&mut out),
        }
        Ok(out)
    }

    /// Stored values of `channels` over `samples`, channel-major, converted to `T`.
    ///
    /// Errors when `T` cannot hold the stored type without loss (e.g. i16 from int32).
    pub fn read<T: Sample>(&self, samples: Range<usize>, channels: &[usize]) -> Result<Vec<Vec<T>>> {
        if !T::accepts(&self.elem) {
            return Err(self.err(format!("stored type {:?} does not fit {}", self.elem, T::NAME)));
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
        let mut out: Vec<Vec<T>> = channels.iter().map(|_| vec![T::default(); n]).collect();
        if n == 0 || channels.is_empty() {
            return Ok(out);
        }
        let block_rows = match &self.strategy {
            Strategy::DirectChunks { chunk, .. } => chunk[0],
            Strategy::Hyperslab { block } => *block,
        };
        // Blocks aligned to the chunk (or block) grid, each owning a disjoint time range of every channel.
        let first_block = samples.start / block_rows;
        let last_block = (samples.end - 1) / block_rows;
        let mut work: Vec<(usize, Vec<&mut [T]>)> =
            (first_block..=last_block).map(|b| (b, Vec::with_capacity(channels.len()))).collect();
        for v in out.iter_mut() {
            let mut rest: &mut [T] = v.as_mut_slice();
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
            Some(p) => p.install(|| run(work))?,
            None => run(work)?,
        }
        Ok(out)
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
                let mut vals: Vec<T> = Vec::new();
                for col in cols {
                    let raw = self.read_chunk(block_start, col * cc, cr * cc)?;
                    let bytes = match raw {
                        Some((bytes, mask)) => self.decode_chunk(bytes, mask, filters, cr * cc * self.elem.size)?,
                        None => vec![0u8; cr * cc * self.elem.size],
                    };
                    self.elem.decode(&bytes, &mut vals);
                    let wanted: Vec<(usize, usize)> = channels
                        .iter()
                        .enumerate()
                        .filter(|(_, &c)| c / cc == col)
                        .map(|(j, &c)| (j, c - col * cc))
                        .collect();
                    scatter(&vals, cc, rows.start - block_start, rows.len(), &wanted, slices);
                }
                Ok(())
            }
            Strategy::Hyperslab { .. } => {
                let cmin = channels.iter().copied().min().unwrap_or(0);
                let cmax = channels.iter().copied().max().unwrap_or(0);
                let width = cmax - cmin + 1;
                let vals: Vec<T> = self.read_hyperslab::<T>(rows.clone(), cmin..cmax + 1)?;
                let wanted: Vec<(usize, usize)> = channels.iter().enumerate().map(|(j, &c)| (j, c - cmin)).collect();
                scatter(&vals, width, 0, rows.len(), &wanted, slices);
                Ok(())
            }
        }
    }

    fn read_hyperslab<T: Sample>(&self, rows: Range<usize>, cols: Range<usize>) -> Result<Vec<T>> {
        let e = herr(&self.file, &self.series);
        // Read in the stored type, converting ourselves (keeps HDF5 conversions out of the lock).
        macro_rules! get {
            ($t:ty) => {{
                let v: Vec<$t> = if self.rank == 1 {
                    self.ds.read_slice_1d::<$t, _>(ndarray::s![rows.start..rows.end]).map_err(e)?.into_raw_vec_and_offset().0
                } else {
                    self.ds
                        .read_slice_2d::<$t, _>(ndarray::s![rows.start..rows.end, cols.start..cols.end])
                        .map_err(e)?
                        .into_raw_vec_and_offset()
                        .0
                };
                v
            }};
        }
        Ok(match (self.elem.float, self.elem.size, self.elem.signed) {
            (true, 4, _) => get!(f32).into_iter().map(|x| T::from_f64(x as f64)).collect(),
            (true, _, _) => get!(f64).into_iter().map(T::from_f64).collect(),
            (false, 1, true) => get!(i8).into_iter().map(|x| T::from_i64(x as i64)).collect(),
            (false, 1, false) => get!(u8).into_iter().map(|x| T::from_i64(x as i64)).collect(),
            (false, 2, true) => get!(i16).into_iter().map(|x| T::from_i64(x as i64)).collect(),
            (false, 2, false) => get!(u16).into_iter().map(|x| T::from_i64(x as i64)).collect(),
            (false, 4, true) => get!(i32).into_iter().map(|x| T::from_i64(x as i64)).collect(),
            (false, 4, false) => get!(u32).into_iter().map(|x| T::from_i64(x as i64)).collect(),
            (false, _, true) => get!(i64).into_iter().map(T::from_i64).collect(),
            (false, _, false) => get!(u64).into_iter().map(|x| T::from_f64(x as f64)).collect(),
        })
    }

    /// Raw bytes and filter mask of the chunk whose first element is (row, col); `None` if unallocated.
    fn read_chunk(&self, row: usize, col: usize, elems: usize) -> Result<Option<(Vec<u8>, u32)>> {
        use hdf5_sys::{h5, h5d, h5p};
        let offset: [u64; 2] = [row as u64, col as u64];
        let off = &offset[..self.rank];
        let limit = elems.saturating_mul(self.elem.size).saturating_mul(4).max(1 << 20) as u64;
        hdf5::sync::sync(|| unsafe {
            let mut mask: u32 = 0;
            let mut addr: u64 = 0;
            let mut size: u64 = 0;
            if h5d::H5Dget_chunk_info_by_coord(self.ds.id(), off.as_ptr(), &mut mask, &mut addr, &mut size) < 0 {
                return Err(self.err(format!("cannot locate the chunk at ({row}, {col})")));
            }
            if addr == h5::HADDR_UNDEF || size == 0 {
                return Ok(None);
            }
            if size > limit {
                return Err(self.err(format!("chunk at ({row}, {col}) claims {size} bytes")));
            }
            let mut buf = vec![0u8; size as usize];
            let mut filters: u32 = 0;
            if h5d::H5Dread_chunk(self.ds.id(), h5p::H5P_DEFAULT, off.as_ptr(), &mut filters, buf.as_mut_ptr().cast()) < 0 {
                return Err(self.err(format!("cannot read the chunk at ({row}, {col})")));
            }
            Ok(Some((buf, filters)))
        })
    }

    fn decode_chunk(&self, mut bytes: Vec<u8>, mask: u32, filters: &[Filter], expected: usize) -> Result<Vec<u8>> {
        for (i, f) in filters.iter().enumerate().rev() {
            if mask & (1 << i) != 0 {
                continue;
            }
            bytes = match f {
                Filter::Deflate => inflate(&bytes, expected).map_err(|m| self.err(m))?,
                Filter::Shuffle => unshuffle(&bytes, self.elem.size),
                Filter::Fletcher32 => {
                    if bytes.len() < 4 {
                        return Err(self.err("chunk too short for its checksum"));
                    }
                    bytes.truncate(bytes.len() - 4);
                    bytes
                }
            };
        }
        if bytes.len() != expected {
            return Err(self.err(format!("a chunk decodes to {} bytes, expected {expected}", bytes.len())));
        }
        Ok(bytes)
    }
}

/// Copies rows `[row0, row0 + nrows)` of a row-major block of width `width` into
/// channel slices: `slices[j][t] = vals[(row0 + t) * width + col]` for each `(j, col)`.
/// Works in row tiles so the block stays in cache while all channels are written.
fn scatter<T: Copy>(vals: &[T], width: usize, row0: usize, nrows: usize, wanted: &[(usize, usize)], slices: &mut [&mut [T]]) {
    const TILE: usize = 512;
    let mut t0 = 0;
    while t0 < nrows {
        let t1 = (t0 + TILE).min(nrows);
        for &(j, col) in wanted {
            let dst = &mut slices[j][t0..t1];
            let base = (row0 + t0) * width + col;
            for (k, d) in dst.iter_mut().enumerate() {
                *d = vals[base + k * width];
            }
        }
        t0 = t1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unshuffle_inverts_hdf5_shuffle() {
        // 3 little-endian u16 values 0x0102, 0x0304, 0x0506 shuffled: low bytes then high bytes.
        let shuffled = [0x02, 0x04, 0x06, 0x01, 0x03, 0x05];
        assert_eq!(unshuffle(&shuffled, 2), vec![0x02, 0x01, 0x04, 0x03, 0x06, 0x05]);
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
}
