//! Writing NWB: the specifications of objects to add (series, tables, units,
//! intervals), where they go ([`Placement`]), and the shared code that lays them out
//! as pynwb does. The public entry points are [`AnalysisFileWriter`] (analysis files
//! derived from a parent), [`write_linked_copy`] (the ingest `_` copy) and
//! [`crate::synthetic::write_session`].

mod analysis;
mod h5w;
mod linked;
mod stream;

pub use analysis::{add_units_to_file, AnalysisFileWriter};
pub use linked::write_linked_copy;
pub use stream::{SeriesStream, StreamDtype, StreamedSeriesSpec};

pub(crate) use h5w::{new_id, W};

use hdf5::Group;

use crate::data::Values;
use crate::error::{NwbError, Result};
use crate::h5::join;
use crate::model::{FileMetadata, Subject};

/// Storage layout of a bulk dataset (chunks run along time, all columns per chunk).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// One contiguous block.
    Contiguous,
    /// Chunks of `rows` time samples, uncompressed.
    Chunked {
        /// Rows (time samples) per chunk.
        rows: usize,
    },
    /// Chunks of `rows`, gzip (deflate) at `level`, optionally byte-shuffled first.
    Gzip {
        /// Rows (time samples) per chunk.
        rows: usize,
        /// Deflate level 0–9.
        level: u8,
        /// Apply the shuffle filter before deflate.
        shuffle: bool,
    },
}

/// Samples of a series, row-major with time first.
#[derive(Clone, Debug, PartialEq)]
pub enum SeriesData {
    /// 16-bit integers (raw ephys, LFP as Spyglass stores it).
    I16(Vec<i16>),
    /// 32-bit integers.
    I32(Vec<i32>),
    /// 64-bit integers.
    I64(Vec<i64>),
    /// Bytes (e.g. DIO states).
    U8(Vec<u8>),
    /// 32-bit floats.
    F32(Vec<f32>),
    /// 64-bit floats.
    F64(Vec<f64>),
}

impl Default for SeriesData {
    fn default() -> Self {
        SeriesData::F64(vec![])
    }
}

impl SeriesData {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            SeriesData::I16(v) => v.len(),
            SeriesData::I32(v) => v.len(),
            SeriesData::I64(v) => v.len(),
            SeriesData::U8(v) => v.len(),
            SeriesData::F32(v) => v.len(),
            SeriesData::F64(v) => v.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Interleaves channel-major i16 blocks into time-major data; returns it with its shape.
    pub fn from_channels_i16(channels: &[Vec<i16>]) -> Result<(SeriesData, Vec<usize>)> {
        let (v, shape) = interleave(channels)?;
        Ok((SeriesData::I16(v), shape))
    }

    /// Interleaves channel-major f64 blocks into time-major data; returns it with its shape.
    pub fn from_channels_f64(channels: &[Vec<f64>]) -> Result<(SeriesData, Vec<usize>)> {
        let (v, shape) = interleave(channels)?;
        Ok((SeriesData::F64(v), shape))
    }
}

fn interleave<T: Copy + Default>(channels: &[Vec<T>]) -> Result<(Vec<T>, Vec<usize>)> {
    let c = channels.len();
    let n = channels.first().map_or(0, Vec::len);
    if channels.iter().any(|ch| ch.len() != n) {
        return Err(NwbError::InvalidArgument(
            "channels have different lengths".into(),
        ));
    }
    let mut out = vec![T::default(); n * c];
    for (j, ch) in channels.iter().enumerate() {
        for (t, &x) in ch.iter().enumerate() {
            out[t * c + j] = x;
        }
    }
    Ok((out, vec![n, c]))
}

/// How a series is timed.
#[derive(Clone, Debug, PartialEq)]
pub enum TimingSpec {
    /// Regular sampling from `starting_time` at `rate` Hz.
    Rate {
        /// Samples per second.
        rate: f64,
        /// Time of the first sample, seconds.
        starting_time: f64,
    },
    /// One timestamp (seconds) per sample.
    Timestamps(Vec<f64>),
}

impl Default for TimingSpec {
    fn default() -> Self {
        TimingSpec::Rate {
            rate: 1.0,
            starting_time: 0.0,
        }
    }
}

/// A TimeSeries (or SpatialSeries) to write.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeSeriesSpec {
    /// Object name.
    pub name: String,
    /// `TimeSeries` or `SpatialSeries` (others are written with TimeSeries layout).
    pub neurodata_type: String,
    /// `description`.
    pub description: String,
    /// `comments`.
    pub comments: String,
    /// The samples, time first.
    pub data: SeriesData,
    /// Shape of `data` (time first).
    pub shape: Vec<usize>,
    /// Unit after conversion (e.g. `meters`, `radians`, `cm/s`).
    pub unit: String,
    /// Multiply stored values by this to get `unit`.
    pub conversion: f64,
    /// Add this after conversion.
    pub offset: f64,
    /// Smallest meaningful difference in `unit` (-1 unknown).
    pub resolution: f64,
    /// Timing.
    pub timing: TimingSpec,
    /// SpatialSeries `reference_frame`.
    pub reference_frame: Option<String>,
    /// Storage of `data`.
    pub compression: Compression,
}

impl Default for TimeSeriesSpec {
    fn default() -> Self {
        TimeSeriesSpec {
            name: String::new(),
            neurodata_type: "TimeSeries".into(),
            description: "no description".into(),
            comments: "no comments".into(),
            data: SeriesData::default(),
            shape: vec![],
            unit: "unknown".into(),
            conversion: 1.0,
            offset: 0.0,
            resolution: -1.0,
            timing: TimingSpec::default(),
            reference_frame: None,
            compression: Compression::Contiguous,
        }
    }
}

/// An ElectricalSeries to write: the series (unit is always `volts`) plus its electrodes.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ElectricalSeriesSpec {
    /// Name, data, timing, conversion and storage.
    pub series: TimeSeriesSpec,
    /// Rows of the electrodes table, one per channel (column of data).
    pub electrodes: Vec<i64>,
    /// Description of the electrodes region.
    pub electrodes_description: String,
    /// `filtering` attribute (e.g. "0-400 Hz").
    pub filtering: Option<String>,
    /// Per-channel `channel_conversion`.
    pub channel_conversion: Option<Vec<f32>>,
}

/// Where an object goes in the file.
#[derive(Clone, Debug, PartialEq)]
pub enum Placement {
    /// `/acquisition/<name>`.
    Acquisition,
    /// `/scratch/<name>` (Spyglass's generic analysis results).
    Scratch,
    /// `/processing/<module>/<name>`, or inside a container of the module.
    Processing {
        /// Module name (created with `description` when missing).
        module: String,
        /// Module description.
        description: String,
        /// Optional container `(neurodata_type, name)` such as `("Position", "position")`.
        container: Option<(String, String)>,
    },
}

impl Placement {
    /// A processing module placement without container.
    pub fn module(module: &str, description: &str) -> Placement {
        Placement::Processing {
            module: module.into(),
            description: description.into(),
            container: None,
        }
    }

    /// A placement inside container `name` of type `ty` (e.g. `Position`) in `module`.
    pub fn container(module: &str, description: &str, ty: &str, name: &str) -> Placement {
        Placement::Processing {
            module: module.into(),
            description: description.into(),
            container: Some((ty.into(), name.into())),
        }
    }
}

/// One DynamicTable column to write.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnSpec {
    /// Column name.
    pub name: String,
    /// Column description.
    pub description: String,
    /// Values (for a ragged column: all rows concatenated).
    pub values: Values,
    /// Full shape when multi-dimensional (rows first); `None` for 1-D.
    pub shape: Option<Vec<usize>>,
    /// Cumulative row ends for a ragged column.
    pub index: Option<Vec<u64>>,
    /// For a `DynamicTableRegion`: path of the table the values index into.
    pub region_table: Option<String>,
}

impl ColumnSpec {
    fn plain(name: &str, description: &str, values: Values) -> ColumnSpec {
        ColumnSpec {
            name: name.into(),
            description: description.into(),
            values,
            shape: None,
            index: None,
            region_table: None,
        }
    }

    /// A float column.
    pub fn f64(name: &str, description: &str, v: Vec<f64>) -> ColumnSpec {
        Self::plain(name, description, Values::Float(v))
    }

    /// An integer column.
    pub fn i64(name: &str, description: &str, v: Vec<i64>) -> ColumnSpec {
        Self::plain(name, description, Values::Int(v))
    }

    /// A text column.
    pub fn text(name: &str, description: &str, v: Vec<String>) -> ColumnSpec {
        Self::plain(name, description, Values::Text(v))
    }

    /// A boolean column.
    pub fn bool(name: &str, description: &str, v: Vec<bool>) -> ColumnSpec {
        Self::plain(name, description, Values::Bool(v))
    }

    /// A column of object references to the given paths.
    pub fn references(name: &str, description: &str, targets: Vec<String>) -> ColumnSpec {
        Self::plain(
            name,
            description,
            Values::Reference(targets.into_iter().map(Some).collect()),
        )
    }

    /// A 2-D float column (`rows` × `width`, row-major values).
    pub fn f64_2d(
        name: &str,
        description: &str,
        v: Vec<f64>,
        rows: usize,
        width: usize,
    ) -> ColumnSpec {
        let mut c = Self::plain(name, description, Values::Float(v));
        c.shape = Some(vec![rows, width]);
        c
    }

    fn ragged(
        name: &str,
        description: &str,
        values: Values,
        lens: impl Iterator<Item = usize>,
    ) -> ColumnSpec {
        let mut ends = vec![];
        let mut acc = 0u64;
        for l in lens {
            acc += l as u64;
            ends.push(acc);
        }
        let mut c = Self::plain(name, description, values);
        c.index = Some(ends);
        c
    }

    /// A ragged float column (one list per row).
    pub fn ragged_f64(name: &str, description: &str, rows: Vec<Vec<f64>>) -> ColumnSpec {
        let lens: Vec<usize> = rows.iter().map(Vec::len).collect();
        Self::ragged(
            name,
            description,
            Values::Float(rows.concat()),
            lens.into_iter(),
        )
    }

    /// A ragged integer column (one list per row).
    pub fn ragged_i64(name: &str, description: &str, rows: Vec<Vec<i64>>) -> ColumnSpec {
        let lens: Vec<usize> = rows.iter().map(Vec::len).collect();
        Self::ragged(
            name,
            description,
            Values::Int(rows.concat()),
            lens.into_iter(),
        )
    }

    /// A ragged text column (one list per row).
    pub fn ragged_text(name: &str, description: &str, rows: Vec<Vec<String>>) -> ColumnSpec {
        let lens: Vec<usize> = rows.iter().map(Vec::len).collect();
        Self::ragged(
            name,
            description,
            Values::Text(rows.concat()),
            lens.into_iter(),
        )
    }

    /// A DynamicTableRegion column: row indices into the table at `table`.
    pub fn region(name: &str, description: &str, rows: Vec<i64>, table: &str) -> ColumnSpec {
        let mut c = Self::plain(name, description, Values::Int(rows));
        c.region_table = Some(table.into());
        c
    }

    /// A ragged DynamicTableRegion column (e.g. units' electrodes).
    pub fn ragged_region(
        name: &str,
        description: &str,
        rows: Vec<Vec<i64>>,
        table: &str,
    ) -> ColumnSpec {
        let mut c = Self::ragged_i64(name, description, rows);
        c.region_table = Some(table.into());
        c
    }
}

/// A generic DynamicTable to write.
#[derive(Clone, Debug, PartialEq)]
pub struct TableSpec {
    /// Table name.
    pub name: String,
    /// Table description.
    pub description: String,
    /// Row ids (default 0..n).
    pub ids: Option<Vec<i64>>,
    /// The columns.
    pub columns: Vec<ColumnSpec>,
}

/// A Units table to write.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct UnitsSpec {
    /// Table description.
    pub description: String,
    /// Unit ids (default 0..n).
    pub ids: Option<Vec<i64>>,
    /// Spike times (seconds) of each unit, ascending.
    pub spike_times: Vec<Vec<f64>>,
    /// Electrodes-table rows of each unit.
    pub electrodes: Option<Vec<Vec<i64>>>,
    /// Spike time resolution, seconds (1 / sampling rate); nwbinspector wants it set.
    pub resolution: Option<f64>,
    /// Further columns (labels, metrics, ...).
    pub columns: Vec<ColumnSpec>,
}

/// A TimeIntervals table to write under `/intervals`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct TimeIntervalsSpec {
    /// Table name (`epochs`, `trials` or any other).
    pub name: String,
    /// Table description.
    pub description: String,
    /// Start times, seconds.
    pub start_time: Vec<f64>,
    /// Stop times, seconds.
    pub stop_time: Vec<f64>,
    /// Tags per interval.
    pub tags: Option<Vec<Vec<String>>>,
    /// Further columns.
    pub columns: Vec<ColumnSpec>,
}

fn default_ids(ids: &Option<Vec<i64>>, n: usize) -> Vec<i64> {
    ids.clone().unwrap_or_else(|| (0..n as i64).collect())
}

/// Path of the electrodes table.
pub(crate) const ELECTRODES: &str = "/general/extracellular_ephys/electrodes";

impl W {
    /// Refuses electrode rows outside the file's electrodes table, naming `obj`.
    pub(crate) fn check_electrode_rows(&self, obj: &str, rows: &[i64]) -> Result<()> {
        let n_rows = self
            .root()
            .dataset(&join(ELECTRODES, "id"))
            .map(|d| d.shape().first().copied().unwrap_or(0))
            .map_err(|_| NwbError::missing(&self.path, ELECTRODES, "electrodes table"))?;
        match rows.iter().find(|&&r| r < 0 || r as usize >= n_rows) {
            Some(bad) => Err(NwbError::InvalidArgument(format!(
                "`{obj}`: electrode row {bad} outside the electrodes table ({n_rows} rows)"
            ))),
            None => Ok(()),
        }
    }

    /// The group an object with `placement` goes into (creating typed modules/containers).
    pub fn placement_group(&self, placement: &Placement) -> Result<Group> {
        match placement {
            Placement::Acquisition => self.ensure_group("/acquisition"),
            Placement::Scratch => self.ensure_group("/scratch"),
            Placement::Processing {
                module,
                description,
                container,
            } => {
                let processing = self.ensure_group("/processing")?;
                let m = if processing.link_exists(module) {
                    processing.group(module).map_err(self.e(module))?
                } else {
                    let (m, _) =
                        self.typed_group(&processing, module, "core", "ProcessingModule")?;
                    self.attr_str(&m, "description", description)?;
                    m
                };
                match container {
                    None => Ok(m),
                    Some((ty, name)) => {
                        if m.link_exists(name) {
                            m.group(name).map_err(self.e(name))
                        } else {
                            Ok(self.typed_group(&m, name, "core", ty)?.0)
                        }
                    }
                }
            }
        }
    }

    /// Writes a TimeSeries-shaped group; returns it and its object id.
    pub fn time_series(
        &self,
        parent: &Group,
        spec: &TimeSeriesSpec,
        ty: &str,
    ) -> Result<(Group, String)> {
        let obj = join(&parent.name(), &spec.name);
        if spec.name.is_empty() || spec.name.contains('/') {
            return Err(NwbError::InvalidArgument(format!(
                "invalid series name `{}`",
                spec.name
            )));
        }
        let n: usize = spec.shape.iter().product();
        if spec.shape.is_empty() || n != spec.data.len() {
            return Err(NwbError::InvalidArgument(format!(
                "`{obj}`: {} values for shape {:?}",
                spec.data.len(),
                spec.shape
            )));
        }
        let (g, id) = self.typed_group(parent, &spec.name, "core", ty)?;
        self.attr_str(&g, "description", &spec.description)?;
        self.attr_str(&g, "comments", &spec.comments)?;
        let c = spec.compression;
        let d = match &spec.data {
            SeriesData::I16(v) => self.numeric(&g, "data", v, &spec.shape, c)?,
            SeriesData::I32(v) => self.numeric(&g, "data", v, &spec.shape, c)?,
            SeriesData::I64(v) => self.numeric(&g, "data", v, &spec.shape, c)?,
            SeriesData::U8(v) => self.numeric(&g, "data", v, &spec.shape, c)?,
            SeriesData::F32(v) => self.numeric(&g, "data", v, &spec.shape, c)?,
            SeriesData::F64(v) => self.numeric(&g, "data", v, &spec.shape, c)?,
        };
        self.attr_f64(&d, "conversion", spec.conversion)?;
        self.attr_f64(&d, "offset", spec.offset)?;
        self.attr_f64(&d, "resolution", spec.resolution)?;
        self.attr_str(&d, "unit", &spec.unit)?;
        match &spec.timing {
            TimingSpec::Rate {
                rate,
                starting_time,
            } => {
                if !(*rate > 0.0 && rate.is_finite()) {
                    return Err(NwbError::InvalidArgument(format!(
                        "`{obj}`: rate must be positive, got {rate}"
                    )));
                }
                let st = self.numeric(
                    &g,
                    "starting_time",
                    &[*starting_time],
                    &[],
                    Compression::Contiguous,
                )?;
                self.attr_f64(&st, "rate", *rate)?;
                self.attr_str(&st, "unit", "seconds")?;
            }
            TimingSpec::Timestamps(ts) => {
                if ts.len() != spec.shape[0] {
                    return Err(NwbError::InvalidArgument(format!(
                        "`{obj}`: {} timestamps for {} samples",
                        ts.len(),
                        spec.shape[0]
                    )));
                }
                let tc = match c {
                    Compression::Contiguous => Compression::Contiguous,
                    Compression::Chunked { rows } | Compression::Gzip { rows, .. } => {
                        Compression::Chunked { rows }
                    }
                };
                let t = self.numeric(&g, "timestamps", ts, &[ts.len()], tc)?;
                self.attr_i64(&t, "interval", 1)?;
                self.attr_str(&t, "unit", "seconds")?;
            }
        }
        if let Some(rf) = &spec.reference_frame {
            self.text(&g, "reference_frame", rf)?;
        }
        Ok((g, id))
    }

    /// Writes an ElectricalSeries whose region points into the electrodes table; returns its object id.
    pub fn electrical_series(&self, parent: &Group, spec: &ElectricalSeriesSpec) -> Result<String> {
        let obj = join(&parent.name(), &spec.series.name);
        let channels = spec.series.shape.get(1).copied().unwrap_or(1);
        if spec.electrodes.len() != channels {
            return Err(NwbError::InvalidArgument(format!(
                "`{obj}`: {} electrodes for {channels} channels",
                spec.electrodes.len()
            )));
        }
        self.check_electrode_rows(&obj, &spec.electrodes)?;
        let mut s = spec.series.clone();
        s.unit = "volts".into();
        let (g, id) = self.time_series(parent, &s, "ElectricalSeries")?;
        if let Some(f) = &spec.filtering {
            self.attr_str(&g, "filtering", f)?;
        }
        let e = self.numeric(
            &g,
            "electrodes",
            &spec.electrodes,
            &[spec.electrodes.len()],
            Compression::Contiguous,
        )?;
        self.typed(&e, "hdmf-common", "DynamicTableRegion")?;
        let desc = if spec.electrodes_description.is_empty() {
            "electrodes"
        } else {
            &spec.electrodes_description
        };
        self.attr_str(&e, "description", desc)?;
        self.attr_ref(&e, "table", ELECTRODES)?;
        if let Some(cc) = &spec.channel_conversion {
            if cc.len() != channels {
                return Err(NwbError::InvalidArgument(format!(
                    "`{obj}`: {} channel_conversion values for {channels} channels",
                    cc.len()
                )));
            }
            let d = self.numeric(
                &g,
                "channel_conversion",
                cc,
                &[cc.len()],
                Compression::Contiguous,
            )?;
            self.attr_i64(&d, "axis", 1)?;
        }
        Ok(id)
    }

    /// Writes the units table at `/units`; returns its object id.
    pub fn units(&self, spec: &UnitsSpec) -> Result<String> {
        let n = spec.spike_times.len();
        for (i, st) in spec.spike_times.iter().enumerate() {
            if st.windows(2).any(|w| w[1] < w[0]) || st.iter().any(|t| !t.is_finite()) {
                return Err(NwbError::InvalidArgument(format!(
                    "unit {i}: spike times must be finite and ascending"
                )));
            }
        }
        let mut cols = vec![ColumnSpec::ragged_f64(
            "spike_times",
            "the spike times for each unit in seconds",
            spec.spike_times.clone(),
        )];
        if let Some(el) = &spec.electrodes {
            if el.len() != n {
                return Err(NwbError::InvalidArgument(
                    "units: one electrodes list per unit required".into(),
                ));
            }
            cols.push(ColumnSpec::ragged_region(
                "electrodes",
                "the electrodes that each spike unit came from",
                el.clone(),
                ELECTRODES,
            ));
        }
        cols.extend(spec.columns.iter().cloned());
        let desc = if spec.description.is_empty() {
            "units"
        } else {
            &spec.description
        };
        let (g, id) = self.table(
            self.root(),
            "units",
            "core",
            "Units",
            desc,
            &default_ids(&spec.ids, n),
            &cols,
        )?;
        if let Some(r) = spec.resolution {
            if !(r > 0.0 && r.is_finite()) {
                return Err(NwbError::InvalidArgument(format!(
                    "units: resolution must be positive, got {r}"
                )));
            }
            let d = g
                .dataset("spike_times")
                .map_err(self.e("/units/spike_times"))?;
            self.attr_f64(&d, "resolution", r)?;
        }
        Ok(id)
    }

    /// Writes a TimeIntervals table under `/intervals`; returns its object id.
    pub fn time_intervals(&self, spec: &TimeIntervalsSpec) -> Result<String> {
        let n = spec.start_time.len();
        if spec.stop_time.len() != n {
            return Err(NwbError::InvalidArgument(format!(
                "`{}`: start and stop lengths differ",
                spec.name
            )));
        }
        if spec
            .start_time
            .iter()
            .zip(&spec.stop_time)
            .any(|(a, b)| !(a.is_finite() && b.is_finite() && a <= b))
        {
            return Err(NwbError::InvalidArgument(format!(
                "`{}`: every interval needs start <= stop",
                spec.name
            )));
        }
        let mut cols = vec![
            ColumnSpec::f64(
                "start_time",
                "Start time of epoch, in seconds",
                spec.start_time.clone(),
            ),
            ColumnSpec::f64(
                "stop_time",
                "Stop time of epoch, in seconds",
                spec.stop_time.clone(),
            ),
        ];
        if let Some(tags) = &spec.tags {
            if tags.len() != n {
                return Err(NwbError::InvalidArgument(format!(
                    "`{}`: one tag list per interval required",
                    spec.name
                )));
            }
            cols.push(ColumnSpec::ragged_text(
                "tags",
                "user-defined tags",
                tags.clone(),
            ));
        }
        cols.extend(spec.columns.iter().cloned());
        let parent = self.ensure_group("/intervals")?;
        let desc = if spec.description.is_empty() {
            "intervals"
        } else {
            &spec.description
        };
        let (_, id) = self.table(
            &parent,
            &spec.name,
            "core",
            "TimeIntervals",
            desc,
            &(0..n as i64).collect::<Vec<_>>(),
            &cols,
        )?;
        Ok(id)
    }

    /// Writes a generic DynamicTable at `placement`; returns its object id.
    pub fn dynamic_table(&self, placement: &Placement, spec: &TableSpec) -> Result<String> {
        let n = spec
            .columns
            .first()
            .map(|c| {
                c.index.as_ref().map_or_else(
                    || {
                        c.shape
                            .as_ref()
                            .map_or(c.values.len(), |s| s.first().copied().unwrap_or(0))
                    },
                    Vec::len,
                )
            })
            .or(spec.ids.as_ref().map(Vec::len))
            .unwrap_or(0);
        let g = self.placement_group(placement)?;
        let desc = if spec.description.is_empty() {
            "table"
        } else {
            &spec.description
        };
        let (_, id) = self.table(
            &g,
            &spec.name,
            "hdmf-common",
            "DynamicTable",
            desc,
            &default_ids(&spec.ids, n),
            &spec.columns,
        )?;
        Ok(id)
    }

    /// Writes root attributes, the required root datasets and groups, and `/general` text fields.
    pub fn root_metadata(&self, meta: &FileMetadata) -> Result<()> {
        let root = self.root();
        self.attr_str(root, "namespace", "core")?;
        self.attr_str(root, "neurodata_type", "NWBFile")?;
        self.attr_str(root, "nwb_version", crate::spec::NWB_VERSION)?;
        let oid = if meta.object_id.is_empty() {
            new_id()
        } else {
            meta.object_id.clone()
        };
        self.attr_str(root, "object_id", &oid)?;
        let fmt = |d: &chrono::DateTime<chrono::FixedOffset>| {
            d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
        };
        self.text(root, "identifier", &meta.identifier)?;
        self.text(root, "session_description", &meta.session_description)?;
        self.ascii(root, "session_start_time", &fmt(&meta.session_start_time))?;
        self.ascii(
            root,
            "timestamps_reference_time",
            &fmt(&meta.timestamps_reference_time),
        )?;
        let created = if meta.file_create_date.is_empty() {
            vec![fmt(&chrono::Utc::now().fixed_offset())]
        } else {
            meta.file_create_date.clone()
        };
        self.ascii_array(root, "file_create_date", &created)?;
        for g in [
            "/acquisition",
            "/analysis",
            "/processing",
            "/stimulus/presentation",
            "/stimulus/templates",
        ] {
            self.ensure_group(g)?;
        }
        let general = self.ensure_group("/general")?;
        if !meta.experimenter.is_empty() {
            self.text_array(&general, "experimenter", &meta.experimenter)?;
        }
        if !meta.keywords.is_empty() {
            self.text_array(&general, "keywords", &meta.keywords)?;
        }
        if !meta.related_publications.is_empty() {
            self.text_array(&general, "related_publications", &meta.related_publications)?;
        }
        for (name, v) in [
            ("institution", &meta.institution),
            ("lab", &meta.lab),
            ("experiment_description", &meta.experiment_description),
            ("session_id", &meta.session_id),
            ("notes", &meta.notes),
        ] {
            if let Some(v) = v {
                self.text(&general, name, v)?;
            }
        }
        if let Some(s) = &meta.source_script {
            self.source_script(s)?;
        }
        Ok(())
    }

    /// Writes (or replaces) `/general/source_script` with its `file_name` attribute.
    pub fn source_script(&self, text: &str) -> Result<()> {
        let general = self.ensure_group("/general")?;
        if general.link_exists("source_script") {
            general
                .unlink("source_script")
                .map_err(self.e("/general/source_script"))?;
        }
        let d = self.text(&general, "source_script", text)?;
        self.attr_str(&d, "file_name", "spyglass-nwb")
    }

    /// Writes `/general/subject`.
    pub fn subject(&self, s: &Subject) -> Result<String> {
        let general = self.ensure_group("/general")?;
        let (g, id) = self.typed_group(&general, "subject", "core", "Subject")?;
        for (name, v) in [
            ("subject_id", &s.subject_id),
            ("species", &s.species),
            ("sex", &s.sex),
            ("description", &s.description),
            ("genotype", &s.genotype),
            ("strain", &s.strain),
            ("weight", &s.weight),
        ] {
            if let Some(v) = v {
                self.text(&g, name, v)?;
            }
        }
        if let Some(age) = &s.age {
            let d = self.text(&g, "age", age)?;
            self.attr_str(
                &d,
                "reference",
                s.age_reference.as_deref().unwrap_or("birth"),
            )?;
        }
        if let Some(dob) = &s.date_of_birth {
            self.ascii(&g, "date_of_birth", dob)?;
        }
        Ok(id)
    }
}
