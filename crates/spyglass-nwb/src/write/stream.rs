//! ElectricalSeries written piece by piece: the datasets are created with their
//! final shape (chunked, gzip, a chunk cache that holds a row of chunks), then
//! filled by blocks of rows and columns, so a pipeline never holds its whole output.

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
        Ok(SeriesStream {
            data,
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

    fn write_block<T: H5Type>(
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
        let view = ndarray::ArrayView2::from_shape((rows, cols), block)
            .map_err(|e| self.err(e.to_string()))?;
        self.data
            .write_slice(view, ndarray::s![row0..row0 + rows, col0..col0 + cols])
            .map_err(|e| NwbError::hdf5(&self.file, &join(&self.path, "data"), e))
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
        self.data
            .file()
            .and_then(|f| f.flush())
            .map_err(|e| NwbError::hdf5(&self.file, &self.path, e))?;
        Ok(self.object_id)
    }
}
