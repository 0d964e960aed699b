//! The reader: [`NwbFile`] opens an NWB 2.x file and returns typed descriptions of
//! its metadata, hardware, tables, series, intervals, tasks, videos and the
//! ndx-franklab-novela objects, plus generic access by path and by object_id.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use hdf5::{Group, LocationType};

use crate::data::{Data, Values};
use crate::error::{NwbError, Result};
use crate::h5::{self, herr, join, Link};
use crate::model::*;
use crate::table::{check_index, Column, DynamicTable};
use crate::walk::{Node, NodeLink, Visit, WalkOptions};

/// Groups and datasets the NWB schema requires at the root.
const REQUIRED_GROUPS: [&str; 5] = [
    "acquisition",
    "analysis",
    "general",
    "processing",
    "stimulus",
];
const REQUIRED_DATASETS: [&str; 5] = [
    "identifier",
    "session_description",
    "session_start_time",
    "timestamps_reference_time",
    "file_create_date",
];

/// An open NWB file (read-only).
pub struct NwbFile {
    path: PathBuf,
    file: hdf5::File,
}

impl std::fmt::Debug for NwbFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NwbFile").field("path", &self.path).finish()
    }
}

/// Parses an NWB datetime; naive values are taken as UTC, date-only values as midnight UTC.
pub fn parse_datetime(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d);
    }
    if let Ok(d) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(d);
    }
    let utc = FixedOffset::east_opt(0)?;
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            return n.and_local_timezone(utc).single();
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|n| n.and_local_timezone(utc).single())
}

impl NwbFile {
    /// Opens `path` and checks that it is an NWB file (root type and required members).
    pub fn open(path: impl AsRef<Path>) -> Result<NwbFile> {
        let path = path.as_ref().to_path_buf();
        let file = h5::open_read(&path)?;
        let nwb = NwbFile { path, file };
        nwb.check_structure()?;
        Ok(nwb)
    }

    fn check_structure(&self) -> Result<()> {
        let root: &Group = &self.file;
        match h5::attr_str(root, &self.path, "/", "neurodata_type")? {
            Some(t) if t == "NWBFile" => {}
            Some(t) => {
                return Err(NwbError::NotNwb {
                    path: self.path.clone(),
                    reason: format!("root neurodata_type is `{t}`"),
                })
            }
            None => {
                return Err(NwbError::NotNwb {
                    path: self.path.clone(),
                    reason: "root has no neurodata_type attribute".into(),
                })
            }
        }
        for g in REQUIRED_GROUPS {
            if h5::kind_of(root, g) != Some(LocationType::Group) {
                return Err(NwbError::missing(
                    &self.path,
                    &format!("/{g}"),
                    "required group",
                ));
            }
        }
        for d in REQUIRED_DATASETS {
            if h5::kind_of(root, d) != Some(LocationType::Dataset) {
                return Err(NwbError::missing(
                    &self.path,
                    &format!("/{d}"),
                    "required dataset",
                ));
            }
        }
        Ok(())
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying HDF5 file, for anything this API does not cover.
    pub fn hdf5(&self) -> &hdf5::File {
        &self.file
    }

    fn root(&self) -> &Group {
        &self.file
    }

    /// True when an object (group, dataset or link target) exists at `path`.
    pub fn exists(&self, path: &str) -> bool {
        h5::check_path(self.root(), &self.path, path).is_ok()
            && h5::kind_of(self.root(), path).is_some()
    }

    fn is_group(&self, path: &str) -> bool {
        h5::kind_of(self.root(), path) == Some(LocationType::Group)
    }

    fn is_dataset(&self, path: &str) -> bool {
        h5::kind_of(self.root(), path) == Some(LocationType::Dataset)
    }

    fn group(&self, path: &str) -> Result<Group> {
        h5::open_group(self.root(), &self.path, path)
    }

    /// Reads the whole dataset at `path` with its shape.
    pub fn read_data(&self, path: &str) -> Result<Data> {
        let ds = h5::open_dataset(self.root(), &self.path, path)?;
        h5::read_container(&ds, &self.path, path)
    }

    /// Rows `range` of the 1-D (or first axis of an N-D) dataset at `path`.
    pub fn read_data_rows(&self, path: &str, range: std::ops::Range<usize>) -> Result<Data> {
        let ds = h5::open_dataset(self.root(), &self.path, path)?;
        let shape = ds.shape();
        let n = shape.first().copied().unwrap_or(0);
        if range.start > range.end || range.end > n {
            return Err(NwbError::InvalidArgument(format!(
                "rows {range:?} out of bounds for `{path}` with {n} rows"
            )));
        }
        let desc = ds
            .dtype()
            .and_then(|t| t.to_descriptor())
            .map_err(herr(&self.path, path))?;
        let width: usize = shape.iter().skip(1).product();
        let mut out_shape = shape.clone();
        if let Some(first) = out_shape.first_mut() {
            *first = range.len();
        }
        use hdf5::types::TypeDescriptor as T;
        let sel = ndarray::s![range.start..range.end];
        let values = match (&desc, shape.len()) {
            (T::Float(_), 1) => Values::Float(
                ds.read_slice_1d::<f64, _>(sel)
                    .map_err(herr(&self.path, path))?
                    .to_vec(),
            ),
            (T::Integer(_), 1) => Values::Int(
                ds.read_slice_1d::<i64, _>(sel)
                    .map_err(herr(&self.path, path))?
                    .to_vec(),
            ),
            (T::Unsigned(_), 1) => Values::UInt(
                ds.read_slice_1d::<u64, _>(sel)
                    .map_err(herr(&self.path, path))?
                    .to_vec(),
            ),
            _ => {
                // Other types / ranks: read all, then cut (metadata-sized datasets).
                let all = h5::read_container(&ds, &self.path, path)?;
                all.values.slice(range.start * width..range.end * width)
            }
        };
        Ok(Data {
            shape: out_shape,
            values,
        })
    }

    /// Every attribute of the object at `path`.
    pub fn attributes(&self, path: &str) -> Result<BTreeMap<String, Data>> {
        h5::check_path(self.root(), &self.path, path)?;
        if self.is_group(path) || path == "/" {
            let g = self.group(path)?;
            h5::attrs(&g, &self.path, path)
        } else {
            let d = h5::open_dataset(self.root(), &self.path, path)?;
            h5::attrs(&d, &self.path, path)
        }
    }

    fn opt_text(&self, path: &str) -> Result<Option<String>> {
        if !self.is_dataset(path) {
            return Ok(None);
        }
        let d = self.read_data(path)?;
        Ok(d.texts().and_then(|t| t.into_iter().next()))
    }

    fn text_list(&self, path: &str) -> Result<Vec<String>> {
        if !self.is_dataset(path) {
            return Ok(vec![]);
        }
        let d = self.read_data(path)?;
        d.texts().ok_or_else(|| {
            NwbError::invalid(
                &self.path,
                path,
                format!("expected text, found {}", d.values.kind()),
            )
        })
    }

    fn required_text(&self, path: &str) -> Result<String> {
        let d = self.read_data(path)?;
        match d.values.as_text() {
            Some([s]) => Ok(s.clone()),
            _ => Err(NwbError::invalid(
                &self.path,
                path,
                format!(
                    "expected one text value, found {} {:?}",
                    d.values.kind(),
                    d.shape
                ),
            )),
        }
    }

    fn required_datetime(&self, path: &str) -> Result<DateTime<FixedOffset>> {
        let s = self.required_text(path)?;
        parse_datetime(&s).ok_or_else(|| {
            NwbError::invalid(&self.path, path, format!("not an ISO-8601 datetime: `{s}`"))
        })
    }

    /// Session metadata (identifier, description, times, experimenter, institution, lab, keywords...).
    pub fn metadata(&self) -> Result<FileMetadata> {
        let root = self.root();
        Ok(FileMetadata {
            identifier: self.required_text("/identifier")?,
            session_description: self.required_text("/session_description")?,
            session_start_time: self.required_datetime("/session_start_time")?,
            timestamps_reference_time: self.required_datetime("/timestamps_reference_time")?,
            file_create_date: self.text_list("/file_create_date")?,
            experimenter: self.text_list("/general/experimenter")?,
            institution: self.opt_text("/general/institution")?,
            lab: self.opt_text("/general/lab")?,
            experiment_description: self.opt_text("/general/experiment_description")?,
            session_id: self.opt_text("/general/session_id")?,
            keywords: self.text_list("/general/keywords")?,
            related_publications: self.text_list("/general/related_publications")?,
            notes: self.opt_text("/general/notes")?,
            source_script: self.opt_text("/general/source_script")?,
            nwb_version: h5::attr_str(root, &self.path, "/", "nwb_version")?.unwrap_or_default(),
            object_id: h5::attr_str(root, &self.path, "/", "object_id")?.unwrap_or_default(),
        })
    }

    /// `/general/subject`, if present.
    pub fn subject(&self) -> Result<Option<Subject>> {
        let p = "/general/subject";
        if !self.is_group(p) {
            return Ok(None);
        }
        let g = self.group(p)?;
        let t = |n: &str| self.opt_text(&format!("{p}/{n}"));
        let age_reference = if self.is_dataset("/general/subject/age") {
            let d = h5::open_dataset(self.root(), &self.path, "/general/subject/age")?;
            h5::attr_str(&d, &self.path, "/general/subject/age", "reference")?
        } else {
            None
        };
        Ok(Some(Subject {
            subject_id: t("subject_id")?,
            species: t("species")?,
            sex: t("sex")?,
            age: t("age")?,
            age_reference,
            date_of_birth: t("date_of_birth")?,
            description: t("description")?,
            genotype: t("genotype")?,
            strain: t("strain")?,
            weight: t("weight")?,
            object_id: h5::attr_str(&g, &self.path, p, "object_id")?.unwrap_or_default(),
        }))
    }

    /// Members of the group at `path` (name, link kind), empty when the group is absent.
    fn list(&self, path: &str) -> Result<Vec<(String, Link)>> {
        if !self.is_group(path) {
            return Ok(vec![]);
        }
        let g = self.group(path)?;
        h5::members(&g, &self.path, path)
    }

    /// Generic description of the object at `path`.
    pub fn object(&self, path: &str) -> Result<ObjectInfo> {
        h5::check_path(self.root(), &self.path, path)?;
        let (kind, attributes, shape) = match h5::kind_of(self.root(), path) {
            Some(LocationType::Group) => {
                let g = self.group(path)?;
                (ObjectKind::Group, h5::attrs(&g, &self.path, path)?, vec![])
            }
            Some(LocationType::Dataset) => {
                let d = h5::open_dataset(self.root(), &self.path, path)?;
                (
                    ObjectKind::Dataset,
                    h5::attrs(&d, &self.path, path)?,
                    d.shape(),
                )
            }
            _ => return Err(NwbError::missing(&self.path, path, "object")),
        };
        let s = |k: &str| {
            attributes
                .get(k)
                .and_then(Data::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Ok(ObjectInfo {
            path: if path.starts_with('/') {
                path.to_string()
            } else {
                format!("/{path}")
            },
            kind,
            neurodata_type: s("neurodata_type"),
            namespace: s("namespace"),
            object_id: s("object_id"),
            shape,
            attributes,
        })
    }

    /// Typed members (groups and datasets) of the group at `path`; soft links are skipped.
    pub fn children(&self, path: &str) -> Result<Vec<ObjectInfo>> {
        let mut out = vec![];
        for (name, link) in self.list(path)? {
            if matches!(link, Link::Soft(_)) {
                continue;
            }
            out.push(self.object(&join(path, &name))?);
        }
        Ok(out)
    }

    /// Devices under `/general/devices` (any type).
    pub fn devices(&self) -> Result<Vec<Device>> {
        let mut out = vec![];
        for o in self.children("/general/devices")? {
            if o.kind != ObjectKind::Group {
                continue;
            }
            let s = |k: &str| {
                o.attributes
                    .get(k)
                    .and_then(Data::as_str)
                    .map(str::to_string)
            };
            out.push(Device {
                name: h5::basename(&o.path).to_string(),
                path: o.path.clone(),
                neurodata_type: o.neurodata_type.clone(),
                namespace: o.namespace.clone(),
                object_id: o.object_id.clone(),
                description: s("description"),
                manufacturer: s("manufacturer"),
                attributes: o.attributes.clone(),
            });
        }
        Ok(out)
    }

    /// Electrode groups under `/general/extracellular_ephys` (ElectrodeGroup and subtypes).
    pub fn electrode_groups(&self) -> Result<Vec<ElectrodeGroup>> {
        let base = "/general/extracellular_ephys";
        let mut out = vec![];
        for (name, link) in self.list(base)? {
            let path = join(base, &name);
            if matches!(link, Link::Soft(_)) || !self.is_group(&path) {
                continue;
            }
            let o = self.object(&path)?;
            if !o.neurodata_type.contains("ElectrodeGroup") {
                continue;
            }
            let s = |k: &str| {
                o.attributes
                    .get(k)
                    .and_then(Data::as_str)
                    .map(str::to_string)
            };
            let f = |k: &str| o.attributes.get(k).and_then(Data::as_f64);
            let device_path = self
                .list(&path)?
                .into_iter()
                .find(|(n, _)| n == "device")
                .map(|(_, l)| match l {
                    Link::Soft(t) => t,
                    _ => join(&path, "device"),
                });
            out.push(ElectrodeGroup {
                name,
                path: o.path.clone(),
                neurodata_type: o.neurodata_type.clone(),
                object_id: o.object_id.clone(),
                description: s("description"),
                location: s("location"),
                device: device_path.as_deref().map(|p| h5::basename(p).to_string()),
                device_path,
                targeted_location: s("targeted_location"),
                targeted_x: f("targeted_x"),
                targeted_y: f("targeted_y"),
                targeted_z: f("targeted_z"),
                units: s("units"),
            });
        }
        Ok(out)
    }

    /// The electrodes table, if present.
    pub fn electrodes(&self) -> Result<Option<DynamicTable>> {
        let p = "/general/extracellular_ephys/electrodes";
        if self.is_group(p) {
            self.table(p).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Reads any DynamicTable-like group at `path` (all columns, ragged indexes, regions).
    pub fn table(&self, path: &str) -> Result<DynamicTable> {
        let g = self.group(path)?;
        let attrs = h5::attrs(&g, &self.path, path)?;
        let s = |k: &str| {
            attrs
                .get(k)
                .and_then(Data::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let colnames = match attrs.get("colnames") {
            Some(d) => d
                .texts()
                .ok_or_else(|| NwbError::invalid(&self.path, path, "colnames is not text"))?,
            None => vec![],
        };
        let id_path = join(path, "id");
        if !self.is_dataset(&id_path) {
            return Err(NwbError::missing(&self.path, &id_path, "dataset"));
        }
        let ids = self
            .read_data(&id_path)?
            .values
            .to_i64()
            .ok_or_else(|| NwbError::invalid(&self.path, &id_path, "ids are not integers"))?;
        let mut columns = Vec::with_capacity(colnames.len());
        for name in &colnames {
            let cpath = join(path, name);
            if !self.is_dataset(&cpath) {
                return Err(NwbError::missing(&self.path, &cpath, "column dataset"));
            }
            let column = self.column(path, name)?;
            if column.num_rows() != ids.len() {
                return Err(NwbError::invalid(
                    &self.path,
                    &cpath,
                    format!(
                        "column has {} rows but the table has {} ids",
                        column.num_rows(),
                        ids.len()
                    ),
                ));
            }
            columns.push(column);
        }
        Ok(DynamicTable {
            file: self.path.clone(),
            name: h5::basename(path).to_string(),
            path: if path.starts_with('/') {
                path.to_string()
            } else {
                format!("/{path}")
            },
            neurodata_type: s("neurodata_type"),
            namespace: s("namespace"),
            object_id: s("object_id"),
            description: s("description"),
            colnames,
            ids,
            columns,
        })
    }

    fn column(&self, table: &str, name: &str) -> Result<Column> {
        let cpath = join(table, name);
        let ds = h5::open_dataset(self.root(), &self.path, &cpath)?;
        let attrs = h5::attrs(&ds, &self.path, &cpath)?;
        let data = h5::read_container(&ds, &self.path, &cpath)?;
        let s = |k: &str| {
            attrs
                .get(k)
                .and_then(Data::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let rows = data.shape.first().copied().unwrap_or(data.values.len());
        let read_index = |ipath: &str| -> Result<Option<Vec<u64>>> {
            if !self.is_dataset(ipath) {
                return Ok(None);
            }
            let d = self.read_data(ipath)?;
            d.values
                .to_u64()
                .map(Some)
                .ok_or_else(|| NwbError::invalid(&self.path, ipath, "index is not unsigned"))
        };
        let ipath = join(table, &format!("{name}_index"));
        let index = read_index(&ipath)?;
        if let Some(ix) = &index {
            check_index(&self.path, &ipath, ix, rows)?;
        }
        let i2path = join(table, &format!("{name}_index_index"));
        let index2 = read_index(&i2path)?;
        if let (Some(ix2), Some(ix)) = (&index2, &index) {
            check_index(&self.path, &i2path, ix2, ix.len())?;
        }
        Ok(Column {
            name: name.to_string(),
            description: s("description"),
            neurodata_type: s("neurodata_type"),
            object_id: s("object_id"),
            data,
            index,
            index2,
            table: attrs
                .get("table")
                .and_then(Data::as_reference)
                .map(str::to_string),
        })
    }

    /// Description of the TimeSeries (or subtype) group at `path`, without its data.
    pub fn time_series(&self, path: &str) -> Result<TimeSeries> {
        let o = self.object(path)?;
        if o.kind != ObjectKind::Group {
            return Err(NwbError::invalid(
                &self.path,
                path,
                "a time series must be a group",
            ));
        }
        let s = |k: &str| {
            o.attributes
                .get(k)
                .and_then(Data::as_str)
                .map(str::to_string)
        };
        let data_path = join(path, "data");
        for member in ["data", "timestamps", "electrodes"] {
            // A broken external link to a member is reported as such, not as a missing member.
            if let Err(e @ NwbError::BrokenExternalLink { .. }) =
                h5::check_path(self.root(), &self.path, &join(path, member))
            {
                return Err(e);
            }
        }
        let (shape, dtype, dattrs) = if self.is_dataset(&data_path) {
            let d = h5::open_dataset(self.root(), &self.path, &data_path)?;
            let desc = d
                .dtype()
                .and_then(|t| t.to_descriptor())
                .map_err(herr(&self.path, &data_path))?;
            (
                d.shape(),
                desc.to_string(),
                h5::attrs(&d, &self.path, &data_path)?,
            )
        } else if o.neurodata_type.contains("ImageSeries") || o.neurodata_type == "OpticalSeries" {
            (vec![], "none".to_string(), BTreeMap::new())
        } else {
            return Err(NwbError::missing(&self.path, &data_path, "dataset"));
        };
        let df = |k: &str, default: f64| dattrs.get(k).and_then(Data::as_f64).unwrap_or(default);
        let ts_path = join(path, "timestamps");
        let st_path = join(path, "starting_time");
        let timing = if self.is_dataset(&ts_path) {
            let d = h5::open_dataset(self.root(), &self.path, &ts_path)?;
            let sh = d.shape();
            if sh.len() != 1 {
                return Err(NwbError::invalid(
                    &self.path,
                    &ts_path,
                    format!("timestamps must be 1-D, shape is {sh:?}"),
                ));
            }
            Timing::Timestamps { len: sh[0] }
        } else if self.is_dataset(&st_path) {
            let d = h5::open_dataset(self.root(), &self.path, &st_path)?;
            let start = h5::read_container(&d, &self.path, &st_path)?
                .as_f64()
                .ok_or_else(|| {
                    NwbError::invalid(&self.path, &st_path, "starting_time is not a number")
                })?;
            let rate = h5::attr(&d, &self.path, &st_path, "rate")?
                .and_then(|a| a.as_f64())
                .ok_or_else(|| {
                    NwbError::missing(&self.path, &format!("{st_path}@rate"), "attribute")
                })?;
            Timing::Rate {
                rate,
                starting_time: start,
            }
        } else {
            Timing::Missing
        };
        let el_path = join(path, "electrodes");
        let (electrodes, electrodes_table) = if self.is_dataset(&el_path) {
            let d = h5::open_dataset(self.root(), &self.path, &el_path)?;
            let rows = h5::read_container(&d, &self.path, &el_path)?
                .values
                .to_i64()
                .ok_or_else(|| {
                    NwbError::invalid(&self.path, &el_path, "electrodes region is not integral")
                })?;
            let table = h5::attr(&d, &self.path, &el_path, "table")?
                .and_then(|a| a.as_reference().map(str::to_string));
            (Some(rows), table)
        } else {
            (None, None)
        };
        let cc_path = join(path, "channel_conversion");
        let channel_conversion = if self.is_dataset(&cc_path) {
            Some(self.read_data(&cc_path)?.values.to_f64().ok_or_else(|| {
                NwbError::invalid(&self.path, &cc_path, "channel_conversion is not numeric")
            })?)
        } else {
            None
        };
        let ts = TimeSeries {
            name: h5::basename(path).to_string(),
            path: o.path.clone(),
            neurodata_type: o.neurodata_type.clone(),
            namespace: o.namespace.clone(),
            object_id: o.object_id.clone(),
            description: s("description"),
            comments: s("comments"),
            unit: dattrs
                .get("unit")
                .and_then(Data::as_str)
                .unwrap_or("unknown")
                .to_string(),
            conversion: df("conversion", 1.0),
            offset: df("offset", 0.0),
            resolution: df("resolution", -1.0),
            shape,
            dtype,
            timing,
            electrodes,
            electrodes_table,
            channel_conversion,
            filtering: s("filtering"),
            reference_frame: self.opt_text(&join(path, "reference_frame"))?,
        };
        if let (Timing::Timestamps { len }, Some(&n)) = (&ts.timing, ts.shape.first()) {
            if *len != n && !ts.neurodata_type.contains("ImageSeries") {
                return Err(NwbError::invalid(
                    &self.path,
                    path,
                    format!("{len} timestamps for {n} samples of data"),
                ));
            }
        }
        if let (Some(e), Some(cols)) = (&ts.electrodes, ts.shape.get(1)) {
            if e.len() != *cols {
                return Err(NwbError::invalid(
                    &self.path,
                    path,
                    format!(
                        "data has {cols} channels but the electrodes region has {} rows",
                        e.len()
                    ),
                ));
            }
        }
        Ok(ts)
    }

    /// Description of the ElectricalSeries at `path` (errors when it is another type).
    pub fn electrical_series(&self, path: &str) -> Result<TimeSeries> {
        let ts = self.time_series(path)?;
        if ts.electrodes.is_none() || ts.shape.is_empty() {
            return Err(NwbError::invalid(
                &self.path,
                path,
                format!(
                    "`{}` is not an ElectricalSeries with an electrodes region",
                    ts.neurodata_type
                ),
            ));
        }
        Ok(ts)
    }

    /// Timestamps of the series at `path`: stored ones, or `starting_time + i / rate`.
    pub fn timestamps(&self, path: &str) -> Result<Vec<f64>> {
        let ts = self.time_series(path)?;
        match ts.timing {
            Timing::Timestamps { .. } => {
                let p = join(path, "timestamps");
                self.read_data(&p)?
                    .values
                    .into_f64()
                    .ok_or_else(|| NwbError::invalid(&self.path, &p, "not numeric"))
            }
            Timing::Rate {
                rate,
                starting_time,
            } => {
                if !(rate > 0.0 && rate.is_finite()) {
                    return Err(NwbError::invalid(
                        &self.path,
                        path,
                        format!("invalid rate {rate}"),
                    ));
                }
                Ok((0..ts.num_samples())
                    .map(|i| starting_time + i as f64 / rate)
                    .collect())
            }
            Timing::Missing => Err(NwbError::missing(
                &self.path,
                &join(path, "timestamps"),
                "timing",
            )),
        }
    }

    /// All data of a series, converted to its unit (`data * conversion + offset`), row-major.
    pub fn series_data_f64(&self, path: &str) -> Result<(Vec<usize>, Vec<f64>)> {
        let ts = self.time_series(path)?;
        let p = join(path, "data");
        let d = self.read_data(&p)?;
        let v = d
            .values
            .to_f64()
            .ok_or_else(|| NwbError::invalid(&self.path, &p, "data is not numeric"))?;
        Ok((
            d.shape,
            v.into_iter()
                .map(|x| x * ts.conversion + ts.offset)
                .collect(),
        ))
    }

    /// Typed members of `/acquisition` (links followed, including external ones).
    pub fn acquisition(&self) -> Result<Vec<ObjectInfo>> {
        self.children("/acquisition")
    }

    fn series_in(&self, path: &str, depth: usize, out: &mut Vec<TimeSeries>) -> Result<()> {
        for (name, link) in self.list(path)? {
            let p = join(path, &name);
            if matches!(link, Link::Soft(_)) || !self.is_group(&p) {
                continue;
            }
            let has_data = self.is_dataset(&join(&p, "data"));
            let o = self.object(&p)?;
            if has_data || o.neurodata_type.contains("Series") {
                out.push(self.time_series(&p)?);
            } else if depth > 0 {
                self.series_in(&p, depth - 1, out)?;
            }
        }
        Ok(())
    }

    /// Processing modules with their interfaces and the series inside each interface.
    pub fn processing_modules(&self) -> Result<Vec<ProcessingModule>> {
        let mut out = vec![];
        for (name, link) in self.list("/processing")? {
            let mpath = join("/processing", &name);
            if matches!(link, Link::Soft(_)) || !self.is_group(&mpath) {
                continue;
            }
            let m = self.object(&mpath)?;
            let mut interfaces = vec![];
            for (iname, ilink) in self.list(&mpath)? {
                let ipath = join(&mpath, &iname);
                if matches!(ilink, Link::Soft(_)) {
                    continue;
                }
                let o = self.object(&ipath)?;
                let mut series = vec![];
                if o.kind == ObjectKind::Group {
                    if self.is_dataset(&join(&ipath, "data")) {
                        series.push(self.time_series(&ipath)?);
                    } else if !o.attributes.contains_key("colnames") {
                        self.series_in(&ipath, 1, &mut series)?;
                    }
                }
                interfaces.push(Interface {
                    name: iname,
                    path: o.path.clone(),
                    neurodata_type: o.neurodata_type.clone(),
                    namespace: o.namespace.clone(),
                    object_id: o.object_id.clone(),
                    series,
                });
            }
            out.push(ProcessingModule {
                name,
                path: m.path.clone(),
                description: m
                    .attributes
                    .get("description")
                    .and_then(Data::as_str)
                    .map(str::to_string),
                object_id: m.object_id,
                interfaces,
            });
        }
        Ok(out)
    }

    /// Every table under `/intervals` (epochs, trials, invalid_times and custom TimeIntervals).
    pub fn intervals(&self) -> Result<Vec<DynamicTable>> {
        let mut out = vec![];
        for (name, link) in self.list("/intervals")? {
            let p = join("/intervals", &name);
            if !matches!(link, Link::Soft(_)) && self.is_group(&p) {
                out.push(self.table(&p)?);
            }
        }
        Ok(out)
    }

    /// The epochs table as typed rows (empty when absent).
    pub fn epochs(&self) -> Result<Vec<Epoch>> {
        let p = "/intervals/epochs";
        if !self.is_group(p) {
            return Ok(vec![]);
        }
        let t = self.table(p)?;
        let start = t.f64_column("start_time")?;
        let stop = t.f64_column("stop_time")?;
        let tags = if t.column("tags").is_some() {
            t.ragged_text("tags")?
        } else {
            vec![vec![]; t.len()]
        };
        Ok((0..t.len())
            .map(|i| Epoch {
                id: t.ids[i],
                start_time: start[i],
                stop_time: stop[i],
                tags: tags[i].clone(),
            })
            .collect())
    }

    /// The units table, if present.
    pub fn units(&self) -> Result<Option<DynamicTable>> {
        if self.is_group("/units") {
            self.table("/units").map(Some)
        } else {
            Ok(None)
        }
    }

    /// Spike times per unit from the units table (empty when absent).
    pub fn spike_times(&self) -> Result<Vec<Vec<f64>>> {
        match self.units()? {
            Some(t) if t.column("spike_times").is_some() => t.ragged_f64("spike_times"),
            _ => Ok(vec![]),
        }
    }

    /// Tasks from the `tasks` processing module (one per table row).
    pub fn tasks(&self) -> Result<Vec<Task>> {
        let mut out = vec![];
        for (name, link) in self.list("/processing/tasks")? {
            let p = join("/processing/tasks", &name);
            if matches!(link, Link::Soft(_)) || !self.is_group(&p) {
                continue;
            }
            let o = self.object(&p)?;
            if !o.attributes.contains_key("colnames") {
                continue;
            }
            let t = self.table(&p)?;
            if t.column("task_name").is_none() {
                continue;
            }
            let names = t.text_column("task_name")?;
            let descs = t.text_column("task_description").ok();
            let envs = t.text_column("task_environment").ok();
            let cams = if t.column("camera_id").is_some() {
                t.i64_lists("camera_id")?
            } else {
                vec![vec![]; t.len()]
            };
            let eps = if t.column("task_epochs").is_some() {
                t.i64_lists("task_epochs")?
            } else {
                vec![vec![]; t.len()]
            };
            for i in 0..t.len() {
                out.push(Task {
                    table: name.clone(),
                    task_name: names[i].clone(),
                    task_description: descs.as_ref().map(|d| d[i].clone()),
                    task_environment: envs.as_ref().map(|d| d[i].clone()),
                    camera_ids: cams[i].clone(),
                    task_epochs: eps[i].clone(),
                    object_id: t.object_id.clone(),
                });
            }
        }
        Ok(out)
    }

    /// ImageSeries anywhere in acquisition, stimulus and processing modules.
    pub fn image_series(&self) -> Result<Vec<ImageSeriesInfo>> {
        let mut series = vec![];
        for base in [
            "/acquisition",
            "/stimulus/presentation",
            "/stimulus/templates",
        ] {
            self.series_in(base, 1, &mut series)?;
        }
        for m in self.processing_modules()? {
            for i in m.interfaces {
                series.extend(i.series);
            }
        }
        let mut out = vec![];
        for s in series {
            if !(s.neurodata_type.contains("ImageSeries") || s.neurodata_type == "OpticalSeries") {
                continue;
            }
            let ef = join(&s.path, "external_file");
            let (external_file, starting_frame) = if self.is_dataset(&ef) {
                let d = h5::open_dataset(self.root(), &self.path, &ef)?;
                let files = h5::read_container(&d, &self.path, &ef)?
                    .texts()
                    .unwrap_or_default();
                let sf = h5::attr(&d, &self.path, &ef, "starting_frame")?
                    .and_then(|a| a.values.to_i64())
                    .unwrap_or_default();
                (files, sf)
            } else {
                (vec![], vec![])
            };
            let device = self
                .list(&s.path)?
                .into_iter()
                .find(|(n, _)| n == "device")
                .map(|(_, l)| match l {
                    Link::Soft(t) => h5::basename(&t).to_string(),
                    _ => "device".to_string(),
                });
            out.push(ImageSeriesInfo {
                format: self.opt_text(&join(&s.path, "format"))?,
                series: s,
                external_file,
                starting_frame,
                device,
            });
        }
        Ok(out)
    }

    /// ndx-franklab-novela Probes (with shanks and electrodes).
    pub fn probes(&self) -> Result<Vec<Probe>> {
        let mut out = vec![];
        for d in self
            .devices()?
            .into_iter()
            .filter(|d| d.neurodata_type == "Probe")
        {
            let a = &d.attributes;
            let s = |k: &str| a.get(k).and_then(Data::as_str).map(str::to_string);
            let req =
                |k: &str| NwbError::missing(&self.path, &format!("{}@{k}", d.path), "attribute");
            let mut shanks = vec![];
            for sh in self
                .children(&d.path)?
                .into_iter()
                .filter(|o| o.neurodata_type == "Shank")
            {
                let mut electrodes = vec![];
                for e in self
                    .children(&sh.path)?
                    .into_iter()
                    .filter(|o| o.neurodata_type == "ShanksElectrode")
                {
                    let f = |k: &str| {
                        e.attributes.get(k).and_then(Data::as_f64).ok_or_else(|| {
                            NwbError::missing(&self.path, &format!("{}@{k}", e.path), "attribute")
                        })
                    };
                    electrodes.push(ShanksElectrode {
                        name: h5::basename(&e.path).to_string(),
                        rel_x: f("rel_x")?,
                        rel_y: f("rel_y")?,
                        rel_z: f("rel_z")?,
                    });
                }
                shanks.push(Shank {
                    name: h5::basename(&sh.path).to_string(),
                    electrodes,
                });
            }
            out.push(Probe {
                id: a
                    .get("id")
                    .and_then(Data::as_i64)
                    .ok_or_else(|| req("id"))?,
                probe_type: s("probe_type").ok_or_else(|| req("probe_type"))?,
                units: s("units").unwrap_or_default(),
                probe_description: s("probe_description").unwrap_or_default(),
                contact_size: a
                    .get("contact_size")
                    .and_then(Data::as_f64)
                    .unwrap_or(f64::NAN),
                contact_side_numbering: a.get("contact_side_numbering").and_then(Data::as_bool),
                manufacturer: s("manufacturer"),
                shanks,
                object_id: d.object_id.clone(),
                name: d.name,
            });
        }
        Ok(out)
    }

    /// ndx-franklab-novela DataAcqDevices.
    pub fn data_acq_devices(&self) -> Result<Vec<DataAcqDevice>> {
        Ok(self
            .devices()?
            .into_iter()
            .filter(|d| d.neurodata_type == "DataAcqDevice")
            .map(|d| {
                let s = |k: &str| {
                    d.attributes
                        .get(k)
                        .and_then(Data::as_str)
                        .map(str::to_string)
                };
                DataAcqDevice {
                    system: s("system").unwrap_or_default(),
                    amplifier: s("amplifier"),
                    adc_circuit: s("adc_circuit"),
                    description: d.description.clone(),
                    manufacturer: d.manufacturer.clone(),
                    object_id: d.object_id.clone(),
                    name: d.name,
                }
            })
            .collect())
    }

    /// The DeviceModel a device links as `model` (NWB 2.9): its name and attributes.
    pub fn device_model(
        &self,
        device_path: &str,
    ) -> Result<Option<(String, BTreeMap<String, Data>)>> {
        let Some((_, link)) = self
            .list(device_path)?
            .into_iter()
            .find(|(n, _)| n == "model")
        else {
            return Ok(None);
        };
        let target = match link {
            Link::Soft(t) => t,
            _ => join(device_path, "model"),
        };
        if !self.is_group(&target) {
            return Ok(None);
        }
        let o = self.object(&target)?;
        Ok(Some((h5::basename(&target).to_string(), o.attributes)))
    }

    /// ndx-franklab-novela CameraDevices. Manufacturer and model come from the linked
    /// DeviceModel (NWB 2.9: model = its name, manufacturer = its manufacturer), as
    /// Spyglass fills them; older files' `manufacturer` and `model_name` attributes
    /// are the fallback.
    pub fn camera_devices(&self) -> Result<Vec<CameraDevice>> {
        let mut models = BTreeMap::new();
        for d in self.devices()? {
            if d.neurodata_type == "CameraDevice" {
                if let Some(m) = self.device_model(&d.path)? {
                    models.insert(d.path.clone(), m);
                }
            }
        }
        Ok(self
            .devices()?
            .into_iter()
            .filter(|d| d.neurodata_type == "CameraDevice")
            .map(|d| {
                let s = |k: &str| {
                    d.attributes
                        .get(k)
                        .and_then(Data::as_str)
                        .map(str::to_string)
                };
                let model = models.get(&d.path);
                let model_manufacturer = model.and_then(|(_, a)| {
                    a.get("manufacturer")
                        .and_then(Data::as_str)
                        .map(str::to_string)
                });
                CameraDevice {
                    meters_per_pixel: d
                        .attributes
                        .get("meters_per_pixel")
                        .and_then(Data::as_f64)
                        .unwrap_or(0.0),
                    camera_name: s("camera_name").unwrap_or_default(),
                    lens: s("lens").unwrap_or_default(),
                    frame_rate: d.attributes.get("frame_rate").and_then(Data::as_f64),
                    manufacturer: model_manufacturer.or_else(|| d.manufacturer.clone()),
                    model: model
                        .map(|(name, _)| name.clone())
                        .or_else(|| s("model_name"))
                        .or_else(|| s("model")),
                    object_id: d.object_id.clone(),
                    name: d.name,
                }
            })
            .collect())
    }

    /// ndx-franklab-novela AssociatedFiles anywhere in the processing modules.
    pub fn associated_files(&self) -> Result<Vec<AssociatedFiles>> {
        let mut out = vec![];
        for m in self.processing_modules()? {
            for i in m
                .interfaces
                .into_iter()
                .filter(|i| i.neurodata_type == "AssociatedFiles")
            {
                let o = self.object(&i.path)?;
                let s = |k: &str| -> Result<String> {
                    if let Some(v) = o.attributes.get(k).and_then(Data::as_str) {
                        return Ok(v.to_string());
                    }
                    Ok(self.opt_text(&join(&i.path, k))?.unwrap_or_default())
                };
                out.push(AssociatedFiles {
                    description: s("description")?,
                    content: s("content")?,
                    task_epochs: s("task_epochs")?,
                    object_id: o.object_id.clone(),
                    path: o.path.clone(),
                    name: i.name,
                });
            }
        }
        Ok(out)
    }

    /// Map of every `object_id` in the file (external links followed) to its path.
    pub fn object_ids(&self) -> Result<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        let opts = WalkOptions {
            follow_external: true,
            once_per_object: true,
            ..WalkOptions::default()
        };
        self.visit(opts, |node| {
            if node.depth() == 1 && node.name() == "specifications" {
                return Ok(Visit::Skip);
            }
            if node.kind().is_some() {
                if let Some(id) = node.attr_str("object_id")? {
                    out.entry(id).or_insert_with(|| node.path().to_string());
                }
            }
            Ok(Visit::Enter)
        })?;
        Ok(out)
    }

    /// Path of the object carrying `object_id`: the first met in this file's own
    /// objects, else through its external links.
    pub fn path_of_id(&self, object_id: &str) -> Result<String> {
        // the first object met carrying it, as `object_ids` keeps; the walk stops
        // entering groups once it is found
        let mut found = None;
        // this file's own objects first, then through its external links too
        for follow_external in [false, true] {
            let opts = WalkOptions {
                follow_external,
                once_per_object: true,
                ..WalkOptions::default()
            };
            self.visit(opts, |node| {
                if found.is_some() || (node.depth() == 1 && node.name() == "specifications") {
                    return Ok(Visit::Skip);
                }
                if node.kind().is_some()
                    && node.attr_str("object_id")?.as_deref() == Some(object_id)
                {
                    found = Some(node.path().to_string());
                }
                Ok(Visit::Enter)
            })?;
            if found.is_some() {
                break;
            }
        }
        found.ok_or_else(|| NwbError::UnknownObjectId {
            path: self.path.clone(),
            id: object_id.to_string(),
        })
    }

    /// Generic description of the object carrying `object_id`.
    pub fn object_by_id(&self, object_id: &str) -> Result<ObjectInfo> {
        let p = self.path_of_id(object_id)?;
        self.object(&p)
    }

    /// Whether the file caches specifications of `namespace` (a version group of
    /// it with members), without reading their texts as [`NwbFile::cached_specs`] does.
    pub fn has_cached_namespace(&self, namespace: &str) -> Result<bool> {
        let np = join("/specifications", namespace);
        for (ver, _) in self.list(&np)? {
            if !self.list(&join(&np, &ver))?.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Cached specifications: `(namespace, version, name) -> JSON text`.
    pub fn cached_specs(&self) -> Result<BTreeMap<(String, String, String), String>> {
        let mut out = BTreeMap::new();
        for (ns, _) in self.list("/specifications")? {
            let np = join("/specifications", &ns);
            for (ver, _) in self.list(&np)? {
                let vp = join(&np, &ver);
                for (name, _) in self.list(&vp)? {
                    let p = join(&vp, &name);
                    if let Some(t) = self.opt_text(&p)? {
                        out.insert((ns.clone(), ver.clone(), name), t);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Reads every attribute and (the first rows of) every dataset reachable from the root,
    /// following hard and external links: a structural check that never panics.
    pub fn walk(&self) -> Result<WalkSummary> {
        let mut s = WalkSummary::default();
        let opts = WalkOptions {
            follow_external: true,
            ..WalkOptions::default()
        };
        self.visit(opts, |node| {
            match node.link() {
                NodeLink::Soft { .. } => {
                    s.soft_links += 1;
                    return Ok(Visit::Skip);
                }
                NodeLink::External { file, .. } => {
                    s.external_links += 1;
                    if !file.exists() {
                        s.broken_links += 1;
                        return Ok(Visit::Skip);
                    }
                }
                NodeLink::Start | NodeLink::Hard => {}
            }
            match node.kind() {
                Some(ObjectKind::Group) => {
                    s.groups += 1;
                    s.attributes += node.attributes()?.len();
                }
                Some(ObjectKind::Dataset) => {
                    s.datasets += 1;
                    s.attributes += node.attributes()?.len();
                    s.values += self.sample_values(node)?;
                }
                None => {}
            }
            Ok(Visit::Enter)
        })?;
        Ok(s)
    }

    /// Reads a dataset met by [`NwbFile::walk`]: whole when small, else its first 16
    /// rows when a row is small; returns the number of values read.
    fn sample_values(&self, node: &Node<'_>) -> Result<usize> {
        let shape = node.shape()?;
        let n: usize = shape.iter().product();
        if n <= 1 << 16 {
            return Ok(node.read()?.values.len());
        }
        let Some(&rows) = shape.first() else {
            return Ok(0);
        };
        let width: usize = shape.iter().skip(1).product::<usize>().max(1);
        if width > 1 << 16 {
            return Ok(0);
        }
        Ok(self
            .read_data_rows(node.path(), 0..rows.min(16))?
            .values
            .len())
    }

    /// The files this file's external links point to (resolved against its directory),
    /// each once, in the order first met; empty for a self-contained file.
    pub fn external_files(&self) -> Result<Vec<PathBuf>> {
        let mut out: Vec<PathBuf> = Vec::new();
        self.visit(WalkOptions::default(), |node| {
            if let NodeLink::External { file, .. } = node.link() {
                if !out.contains(file) {
                    out.push(file.clone());
                }
            }
            Ok(Visit::Enter)
        })?;
        Ok(out)
    }
}

/// Counts from [`NwbFile::walk`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WalkSummary {
    /// Groups visited.
    pub groups: usize,
    /// Datasets visited.
    pub datasets: usize,
    /// Attributes read.
    pub attributes: usize,
    /// Dataset elements read.
    pub values: usize,
    /// Soft links seen (not followed).
    pub soft_links: usize,
    /// External links seen.
    pub external_links: usize,
    /// External links whose target file is missing.
    pub broken_links: usize,
}
