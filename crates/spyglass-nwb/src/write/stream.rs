//! ElectricalSeries written piece by piece: the datasets are created with their
//! final shape (chunked, gzip, a chunk cache that holds a row of chunks), then
//! filled by blocks of rows and columns, so a pipeline never holds its whole output.
//!
//! Blocks of whole rows written in order (a pipeline's usual case) are gathered
//! into whole chunks here, shuffled and deflated with libdeflate (a zlib stream
//! any reader inflates, several times faster to make than HDF5's zlib at the same
//! level), and stored as they are (`H5Dwrite_chunk`); any other write sends what
//! is gathered through HDF5's own filters and continues there.

use hdf5::{Dataset, Group, H5Type};

use crate::error::{NwbError, Result};
use crate::h5::join;
use crate::write::{Compression, ELECTRODES, W};

/// Element type of a streamed series' data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamDtype {
    /// 16-bit integers (LFP in the raw's counts, as Spyglass stores it).
    I16,
    /// 32-bit floats (volts).
    F32,
    /// 64-bit floats (Spyglass's ProcessedElectricalSeries).
    F64,
}

/// An ElectricalSeries to write in pieces: everything but the samples and timestamps.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamedSeriesSpec {
    /// Object name.
    pub name: String,
    /// `description`.
    pub description: String,
    /// `comments`.
    pub comments: String,
    /// Element type of `data`.
    pub dtype: StreamDtype,
    /// Rows (time samples) in all.
    pub n_rows: usize,
    /// Rows of the electrodes table, one per channel.
    pub electrodes: Vec<i64>,
    /// Description of the electrodes region.
    pub electrodes_description: String,
    /// `data@conversion`.
    pub conversion: f64,
    /// `data@offset`.
    pub offset: f64,
    /// `filtering` attribute.
    pub filtering: Option<String>,
    /// Storage of `data` (timestamps get the same chunk rows, uncompressed).
    pub compression: Compression,
}

/// A series being written; fill every row of data and timestamps, then drop or [`finish`](Self::finish).
#[derive(Debug)]
pub struct SeriesStream {
    data: Dataset,
    /// Whole rows gathered into the chunk being filled.
    direct: std::sync::Mutex<Direct>,
    timestamps: Dataset,
    dtype: StreamDtype,
    n_rows: usize,
    n_cols: usize,
    object_id: String,
    electrodes_object_id: String,
    path: String,
    file: std::path::PathBuf,
}

impl W {
    /// Creates the ElectricalSeries group and its datasets with their final shapes.
    pub(crate) fn begin_series(
        &self,
        parent: &Group,
        spec: &StreamedSeriesSpec,
    ) -> Result<SeriesStream> {
        let obj = join(&parent.name(), &spec.name);
        let c = spec.electrodes.len();
        if c == 0 {
            return Err(NwbError::InvalidArgument(format!("`{obj}`: no channels")));
        }
        self.check_electrode_rows(&obj, &spec.electrodes)?;
        let (g, id) = self.typed_group(parent, &spec.name, "core", "ElectricalSeries")?;
        self.attr_str(&g, "description", &spec.description)?;
        self.attr_str(&g, "comments", &spec.comments)?;
        let n = spec.n_rows;
        let data = match spec.dtype {
            StreamDtype::I16 => self.empty::<i16>(&g, "data", &[n, c], spec.compression)?,
            StreamDtype::F32 => self.empty::<f32>(&g, "data", &[n, c], spec.compression)?,
            StreamDtype::F64 => self.empty::<f64>(&g, "data", &[n, c], spec.compression)?,
        };
        self.attr_f64(&data, "conversion", spec.conversion)?;
        self.attr_f64(&data, "offset", spec.offset)?;
        self.attr_f64(&data, "resolution", -1.0)?;
        self.attr_str(&data, "unit", "volts")?;
        let tc = match spec.compression {
            Compression::Contiguous => Compression::Contiguous,
            Compression::Chunked { rows } | Compression::Gzip { rows, .. } => {
                Compression::Chunked { rows }
            }
        };
        let timestamps = self.empty::<f64>(&g, "timestamps", &[n], tc)?;
        self.attr_i64(&timestamps, "interval", 1)?;
        self.attr_str(&timestamps, "unit", "seconds")?;
        if let Some(f) = &spec.filtering {
            self.attr_str(&g, "filtering", f)?;
        }
        let e = self.numeric(
            &g,
            "electrodes",
            &spec.electrodes,
            &[c],
            Compression::Contiguous,
        )?;
        let electrodes_object_id = self.typed(&e, "hdmf-common", "DynamicTableRegion")?;
        let desc = if spec.electrodes_description.is_empty() {
            "electrodes"
        } else {
            &spec.electrodes_description
        };
        self.attr_str(&e, "description", desc)?;
        self.attr_ref(&e, "table", ELECTRODES)?;
        let direct = Direct {
            on: matches!(
                spec.compression,
                Compression::Chunked { .. } | Compression::Gzip { .. }
            ) && n > 0,
            rows: match spec.compression {
                Compression::Chunked { rows } | Compression::Gzip { rows, .. } => {
                    rows.clamp(1, n.max(1))
                }
                Compression::Contiguous => 1,
            },
            deflate: match spec.compression {
                Compression::Gzip { level, shuffle, .. } => Some((level.min(9), shuffle)),
                _ => None,
            },
            buf: vec![],
            work: vec![],
            chunk: 0,
            filled: 0,
        };
        Ok(SeriesStream {
            data,
            direct: std::sync::Mutex::new(direct),
            timestamps,
            dtype: spec.dtype,
            n_rows: n,
            n_cols: c,
            object_id: id,
            electrodes_object_id,
            path: obj,
            file: self.path.clone(),
        })
    }

    /// A dataset of `shape` (rows first) to be filled later, with a chunk cache
    /// large enough for one row of chunks so that partial writes are combined.
    fn empty<T: H5Type>(
        &self,
        g: &Group,
        name: &str,
        shape: &[usize],
        c: Compression,
    ) -> Result<Dataset> {
        let obj = join(&g.name(), name);
        let mut b = g.new_dataset::<T>().shape(shape.to_vec());
        let rows = shape.first().copied().unwrap_or(0);
        let width: usize = shape.iter().skip(1).product::<usize>().max(1);
        if let Compression::Chunked { rows: r } | Compression::Gzip { rows: r, .. } = c {
            if rows > 0 {
                let mut chunk = shape.to_vec();
                chunk[0] = r.clamp(1, rows);
                b = b.chunk(chunk);
                if let Compression::Gzip { level, shuffle, .. } = c {
                    if shuffle {
                        b = b.shuffle();
                    }
                    b = b.deflate(level.min(9));
                }
                let bytes = r.clamp(1, rows) * width * std::mem::size_of::<T>();
                b = b.chunk_cache(521, (2 * bytes).max(1 << 20), 1.0);
            }
        }
        b.create(name).map_err(self.e(&obj))
    }
}

/// Element types whose chunks are assembled here: their bytes as in memory
/// (the dataset's type is the native one).
trait Plain: H5Type + Copy {
    /// Bytes per element.
    const SIZE: usize;
    /// Writes the element's bytes into `out` (`SIZE` bytes).
    fn put(self, out: &mut [u8]);
    /// The element from its bytes (`SIZE` bytes).
    fn get(b: &[u8]) -> Self;
}

macro_rules! plain {
    ($($t:ty)*) => {
        $(impl Plain for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            #[inline(always)]
            fn put(self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_ne_bytes());
            }
            #[inline(always)]
            fn get(b: &[u8]) -> Self {
                <$t>::from_ne_bytes(b.try_into().expect("an element's bytes"))
            }
        })*
    };
}
plain!(i16 f32 f64);

/// The chunk being assembled from whole rows written in order.
#[derive(Debug)]
struct Direct {
    /// False once a write did not continue the rows in order (or the data are not chunked).
    on: bool,
    /// Rows per chunk.
    rows: usize,
    /// Deflate level and shuffle, when the data are deflated.
    deflate: Option<(u8, bool)>,
    /// The chunk's bytes, time-major (allocated at the first write).
    buf: Vec<u8>,
    /// Work space for shuffling and deflating.
    work: Vec<u8>,
    /// Index of the chunk being filled.
    chunk: usize,
    /// Its rows filled so far.
    filled: usize,
}

impl SeriesStream {
    /// The series' object id.
    pub fn object_id(&self) -> &str {
        &self.object_id
    }

    /// The object id of the series' electrodes region.
    pub fn electrodes_object_id(&self) -> &str {
        &self.electrodes_object_id
    }

    /// Rows in all.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    fn err(&self, m: String) -> NwbError {
        NwbError::invalid(&self.file, &self.path, m)
    }

    fn check(&self, row0: usize, rows: usize, col0: usize, cols: usize, len: usize) -> Result<()> {
        if row0 + rows > self.n_rows || col0 + cols > self.n_cols || rows * cols != len {
            return Err(self.err(format!(
                "block of {len} values at rows {row0}+{rows}, columns {col0}+{cols} does not fit {} × {}",
                self.n_rows, self.n_cols
            )));
        }
        Ok(())
    }

    /// Writes a time-major block of `cols` columns starting at (`row0`, `col0`), as i16.
    pub fn write_i16(&self, row0: usize, col0: usize, cols: usize, block: &[i16]) -> Result<()> {
        if self.dtype != StreamDtype::I16 {
            return Err(self.err("data are not int16".into()));
        }
        self.write_block(row0, col0, cols, block)
    }

    /// Writes a time-major block of `cols` columns starting at (`row0`, `col0`), as f32.
    pub fn write_f32(&self, row0: usize, col0: usize, cols: usize, block: &[f32]) -> Result<()> {
        if self.dtype != StreamDtype::F32 {
            return Err(self.err("data are not float32".into()));
        }
        self.write_block(row0, col0, cols, block)
    }

    /// Writes a time-major block of `cols` columns starting at (`row0`, `col0`), as f64.
    pub fn write_f64(&self, row0: usize, col0: usize, cols: usize, block: &[f64]) -> Result<()> {
        if self.dtype != StreamDtype::F64 {
            return Err(self.err("data are not float64".into()));
        }
        self.write_block(row0, col0, cols, block)
    }

    fn write_block<T: Plain>(
        &self,
        row0: usize,
        col0: usize,
        cols: usize,
        block: &[T],
    ) -> Result<()> {
        if cols == 0 || block.is_empty() {
            return Ok(());
        }
        let rows = block.len() / cols;
        self.check(row0, rows, col0, cols, block.len())?;
        let mut d = self.direct.lock().unwrap_or_else(|p| p.into_inner());
        if d.on {
            if col0 == 0 && cols == self.n_cols && row0 == d.chunk * d.rows + d.filled {
                return self.append(&mut d, block);
            }
            // not whole rows in order: what is gathered goes through HDF5, as all after it
            d.on = false;
            if d.filled > 0 {
                let at = d.chunk * d.rows;
                let gathered: Vec<T> = d.buf[..d.filled * self.n_cols * T::SIZE]
                    .chunks_exact(T::SIZE)
                    .map(T::get)
                    .collect();
                self.write_slice(at, 0, self.n_cols, &gathered)?;
            }
        }
        drop(d);
        self.write_slice(row0, col0, cols, block)
    }

    fn write_slice<T: H5Type>(
        &self,
        row0: usize,
        col0: usize,
        cols: usize,
        block: &[T],
    ) -> Result<()> {
        let rows = block.len() / cols;
        let view = ndarray::ArrayView2::from_shape((rows, cols), block)
            .map_err(|e| self.err(e.to_string()))?;
        self.data
            .write_slice(view, ndarray::s![row0..row0 + rows, col0..col0 + cols])
            .map_err(|e| NwbError::hdf5(&self.file, &join(&self.path, "data"), e))
    }

    /// Adds whole rows that continue the chunk being filled; stores each chunk
    /// once full (or once the data's last row is in).
    fn append<T: Plain>(&self, d: &mut Direct, mut block: &[T]) -> Result<()> {
        let c = self.n_cols;
        let row_bytes = c * T::SIZE;
        if d.buf.len() != d.rows * row_bytes {
            d.buf = vec![0; d.rows * row_bytes];
        }
        while !block.is_empty() {
            let take = (d.rows - d.filled).min(block.len() / c);
            let dst = &mut d.buf[d.filled * row_bytes..(d.filled + take) * row_bytes];
            for (o, v) in dst.chunks_exact_mut(T::SIZE).zip(&block[..take * c]) {
                v.put(o);
            }
            d.filled += take;
            block = &block[take * c..];
            if d.filled == d.rows || d.chunk * d.rows + d.filled == self.n_rows {
                self.store(d, T::SIZE)?;
            }
        }
        Ok(())
    }

    /// Writes the gathered chunk as stored bytes (rows past the data's end are
    /// zeros, the fill value), shuffled and deflated as the dataset's filters would.
    fn store(&self, d: &mut Direct, size: usize) -> Result<()> {
        let row_bytes = self.n_cols * size;
        d.buf[d.filled * row_bytes..].fill(0);
        let Direct { buf, work, .. } = d;
        let bytes: &[u8] = match d.deflate {
            None => buf,
            Some((level, shuffle)) => {
                let src: &[u8] = if shuffle {
                    // HDF5's shuffle: byte k of every element, then byte k + 1, …
                    work.resize(buf.len(), 0);
                    let n = buf.len() / size;
                    for (k, out) in work.chunks_exact_mut(n).enumerate() {
                        for (o, e) in out.iter_mut().zip(buf.chunks_exact(size)) {
                            *o = e[k];
                        }
                    }
                    std::mem::swap(buf, work);
                    buf
                } else {
                    buf
                };
                let lvl = libdeflater::CompressionLvl::new(level as i32)
                    .map_err(|e| self.err(format!("deflate level {level}: {e:?}")))?;
                let mut z = libdeflater::Compressor::new(lvl);
                work.resize(z.zlib_compress_bound(src.len()), 0);
                let len = z
                    .zlib_compress(src, work)
                    .map_err(|e| self.err(format!("deflate: {e:?}")))?;
                work.truncate(len);
                work
            }
        };
        let offset: [u64; 2] = [(d.chunk * d.rows) as u64, 0];
        let id = self.data.id();
        let status = hdf5::sync::sync(|| unsafe {
            // SAFETY: `offset` has the dataset's rank (2) and `bytes` lives through the call.
            hdf5_sys::h5d::H5Dwrite_chunk(
                id,
                hdf5_sys::h5p::H5P_DEFAULT,
                0,
                offset.as_ptr(),
                bytes.len(),
                bytes.as_ptr().cast(),
            )
        });
        if status < 0 {
            return Err(self.err(format!(
                "cannot store the chunk at row {}",
                d.chunk * d.rows
            )));
        }
        d.chunk += 1;
        d.filled = 0;
        Ok(())
    }

    /// Stores a chunk still being gathered (the last rows written).
    fn store_pending(&self) -> Result<()> {
        let mut d = self.direct.lock().unwrap_or_else(|p| p.into_inner());
        if d.on && d.filled > 0 {
            let size = match self.dtype {
                StreamDtype::I16 => 2,
                StreamDtype::F32 => 4,
                StreamDtype::F64 => 8,
            };
            self.store(&mut d, size)?;
        }
        Ok(())
    }

    /// Writes timestamps of rows `row0 ..`.
    pub fn write_timestamps(&self, row0: usize, ts: &[f64]) -> Result<()> {
        if ts.is_empty() {
            return Ok(());
        }
        self.check(row0, ts.len(), 0, 1, ts.len())?;
        self.timestamps
            .write_slice(ts, ndarray::s![row0..row0 + ts.len()])
            .map_err(|e| NwbError::hdf5(&self.file, &join(&self.path, "timestamps"), e))
    }

    /// Flushes the datasets.
    pub fn finish(self) -> Result<String> {
        self.store_pending()?;
        self.data
            .file()
            .and_then(|f| f.flush())
            .map_err(|e| NwbError::hdf5(&self.file, &self.path, e))?;
        Ok(self.object_id.clone())
    }
}

impl Drop for SeriesStream {
    /// Stores a chunk still being gathered (errors surface through [`SeriesStream::finish`]).
    fn drop(&mut self) {
        let _ = self.store_pending();
    }
}
