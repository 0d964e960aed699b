//! Low-level writing helpers: typed groups with fresh object ids, text/number/reference
//! attributes and datasets in the exact HDF5 types pynwb uses, DynamicTable columns,
//! and reference repair after copying objects between files.

use std::path::{Path, PathBuf};

use hdf5::types::{VarLenAscii, VarLenUnicode};
use hdf5::{Dataset, Group, Location, ObjectReference1};

use crate::data::Values;
use crate::error::{NwbError, Result};
use crate::h5::join;
use crate::model::ObjectKind;
use crate::walk::{visit_tree, Visit, WalkOptions};
use crate::write::{ColumnSpec, Compression};

/// A file being written, with its path for error messages.
pub(crate) struct W {
    pub file: hdf5::File,
    pub path: PathBuf,
}

/// A fresh uuid4 string.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The cached specifications: scalar JSON texts, with neither object ids nor
/// references, so the walks that renew or repair those skip them.
const SPEC_CACHE: &str = "/specifications";

fn utf8(path: &Path, object: &str, s: &str) -> Result<VarLenUnicode> {
    s.parse::<VarLenUnicode>()
        .map_err(|e| NwbError::invalid(path, object, format!("text not storable: {e}")))
}

fn ascii(path: &Path, object: &str, s: &str) -> Result<VarLenAscii> {
    VarLenAscii::from_ascii(s)
        .map_err(|e| NwbError::invalid(path, object, format!("text not ASCII: {e}")))
}

impl W {
    pub fn e(&self, object: &str) -> impl Fn(hdf5::Error) -> NwbError + '_ {
        let object = object.to_string();
        move |err| NwbError::hdf5(&self.path, &object, err)
    }

    pub fn root(&self) -> &Group {
        &self.file
    }

    /// Opens or creates the group at `path` (intermediate groups created untyped).
    pub fn ensure_group(&self, path: &str) -> Result<Group> {
        let mut g = self.root().clone();
        let mut so_far = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            so_far = join(&so_far, part);
            g = if g.link_exists(part) {
                g.group(part).map_err(self.e(&so_far))?
            } else {
                g.create_group(part).map_err(self.e(&so_far))?
            };
        }
        Ok(g)
    }

    fn replace_attr(&self, loc: &Location, name: &str) -> Result<()> {
        if loc
            .attr_names()
            .map_err(self.e(&loc.name()))?
            .iter()
            .any(|n| n == name)
        {
            loc.delete_attr(name).map_err(self.e(&loc.name()))?;
        }
        Ok(())
    }

    /// Scalar vlen UTF-8 attribute.
    pub fn attr_str(&self, loc: &Location, name: &str, value: &str) -> Result<()> {
        self.replace_attr(loc, name)?;
        let obj = format!("{}@{name}", loc.name());
        let v = utf8(&self.path, &obj, value)?;
        loc.new_attr::<VarLenUnicode>()
            .create(name)
            .and_then(|a| a.write_scalar(&v))
            .map_err(self.e(&obj))
    }

    /// 1-D vlen UTF-8 attribute.
    pub fn attr_str_array(&self, loc: &Location, name: &str, values: &[String]) -> Result<()> {
        self.replace_attr(loc, name)?;
        let obj = format!("{}@{name}", loc.name());
        let v = values
            .iter()
            .map(|s| utf8(&self.path, &obj, s))
            .collect::<Result<Vec<_>>>()?;
        loc.new_attr::<VarLenUnicode>()
            .shape(v.len())
            .create(name)
            .and_then(|a| a.write_raw(&v))
            .map_err(self.e(&obj))
    }

    /// Scalar f64 attribute.
    pub fn attr_f64(&self, loc: &Location, name: &str, value: f64) -> Result<()> {
        self.replace_attr(loc, name)?;
        let obj = format!("{}@{name}", loc.name());
        loc.new_attr::<f64>()
            .create(name)
            .and_then(|a| a.write_scalar(&value))
            .map_err(self.e(&obj))
    }

    /// Scalar i64 attribute.
    pub fn attr_i64(&self, loc: &Location, name: &str, value: i64) -> Result<()> {
        self.replace_attr(loc, name)?;
        let obj = format!("{}@{name}", loc.name());
        loc.new_attr::<i64>()
            .create(name)
            .and_then(|a| a.write_scalar(&value))
            .map_err(self.e(&obj))
    }

    /// Scalar boolean attribute (HDF5 enum FALSE/TRUE over int8, as h5py writes).
    pub fn attr_bool(&self, loc: &Location, name: &str, value: bool) -> Result<()> {
        self.replace_attr(loc, name)?;
        let obj = format!("{}@{name}", loc.name());
        loc.new_attr::<bool>()
            .create(name)
            .and_then(|a| a.write_scalar(&value))
            .map_err(self.e(&obj))
    }

    /// Scalar object-reference attribute pointing at `target` (a path in this file).
    pub fn attr_ref(&self, loc: &Location, name: &str, target: &str) -> Result<()> {
        self.replace_attr(loc, name)?;
        let obj = format!("{}@{name}", loc.name());
        let r: ObjectReference1 = self.root().reference(target).map_err(self.e(target))?;
        loc.new_attr::<ObjectReference1>()
            .create(name)
            .and_then(|a| a.write_scalar(&r))
            .map_err(self.e(&obj))
    }

    /// Writes `namespace`, `neurodata_type` and a fresh `object_id`; returns the id.
    pub fn typed(&self, loc: &Location, namespace: &str, neurodata_type: &str) -> Result<String> {
        let id = new_id();
        self.attr_str(loc, "namespace", namespace)?;
        self.attr_str(loc, "neurodata_type", neurodata_type)?;
        self.attr_str(loc, "object_id", &id)?;
        Ok(id)
    }

    /// Creates a typed group `name` in `parent`; returns it with its object id.
    pub fn typed_group(
        &self,
        parent: &Group,
        name: &str,
        namespace: &str,
        ty: &str,
    ) -> Result<(Group, String)> {
        let p = join(&parent.name(), name);
        if parent.link_exists(name) {
            return Err(NwbError::invalid(
                &self.path,
                &p,
                "an object with this name already exists",
            ));
        }
        let g = parent.create_group(name).map_err(self.e(&p))?;
        let id = self.typed(&g, namespace, ty)?;
        Ok((g, id))
    }

    /// Scalar vlen UTF-8 dataset.
    pub fn text(&self, g: &Group, name: &str, value: &str) -> Result<Dataset> {
        let obj = join(&g.name(), name);
        let v = utf8(&self.path, &obj, value)?;
        g.new_dataset::<VarLenUnicode>()
            .shape(())
            .create(name)
            .and_then(|d| d.write_scalar(&v).map(|_| d))
            .map_err(self.e(&obj))
    }

    /// Scalar vlen ASCII dataset (NWB datetimes).
    pub fn ascii(&self, g: &Group, name: &str, value: &str) -> Result<Dataset> {
        let obj = join(&g.name(), name);
        let v = ascii(&self.path, &obj, value)?;
        g.new_dataset::<VarLenAscii>()
            .shape(())
            .create(name)
            .and_then(|d| d.write_scalar(&v).map(|_| d))
            .map_err(self.e(&obj))
    }

    /// 1-D vlen UTF-8 dataset.
    pub fn text_array(&self, g: &Group, name: &str, values: &[String]) -> Result<Dataset> {
        let obj = join(&g.name(), name);
        let v = values
            .iter()
            .map(|s| utf8(&self.path, &obj, s))
            .collect::<Result<Vec<_>>>()?;
        g.new_dataset::<VarLenUnicode>()
            .shape(v.len())
            .create(name)
            .and_then(|d| d.write_raw(&v).map(|_| d))
            .map_err(self.e(&obj))
    }

    /// 1-D vlen ASCII dataset (e.g. `file_create_date`).
    pub fn ascii_array(&self, g: &Group, name: &str, values: &[String]) -> Result<Dataset> {
        let obj = join(&g.name(), name);
        let v = values
            .iter()
            .map(|s| ascii(&self.path, &obj, s))
            .collect::<Result<Vec<_>>>()?;
        g.new_dataset::<VarLenAscii>()
            .shape(v.len())
            .create(name)
            .and_then(|d| d.write_raw(&v).map(|_| d))
            .map_err(self.e(&obj))
    }

    /// Numeric dataset of `shape` (row-major values), with optional chunking/compression of rows.
    pub fn numeric<T: hdf5::H5Type>(
        &self,
        g: &Group,
        name: &str,
        values: &[T],
        shape: &[usize],
        compression: Compression,
    ) -> Result<Dataset> {
        let obj = join(&g.name(), name);
        let n: usize = shape.iter().product();
        if n != values.len() {
            return Err(NwbError::InvalidArgument(format!(
                "`{obj}`: {} values do not fill shape {shape:?}",
                values.len()
            )));
        }
        let mut b = g.new_dataset::<T>().shape(shape.to_vec());
        let rows = shape.first().copied().unwrap_or(0);
        match compression {
            Compression::Contiguous => {}
            Compression::Chunked { rows: r } | Compression::Gzip { rows: r, .. }
                if rows > 0 && n > 0 =>
            {
                let mut chunk = shape.to_vec();
                chunk[0] = r.clamp(1, rows);
                b = b.chunk(chunk);
                if let Compression::Gzip { level, shuffle, .. } = compression {
                    if shuffle {
                        b = b.shuffle();
                    }
                    b = b.deflate(level.min(9));
                }
            }
            _ => {}
        }
        let d = b.create(name).map_err(self.e(&obj))?;
        if n > 0 {
            d.write_raw(values).map_err(self.e(&obj))?;
        }
        Ok(d)
    }

    /// Dataset of object references to `targets` (paths in this file).
    pub fn refs(&self, g: &Group, name: &str, targets: &[String]) -> Result<Dataset> {
        let obj = join(&g.name(), name);
        let refs = targets
            .iter()
            .map(|t| {
                self.root()
                    .reference::<ObjectReference1>(t)
                    .map_err(self.e(t))
            })
            .collect::<Result<Vec<_>>>()?;
        g.new_dataset::<ObjectReference1>()
            .shape(refs.len())
            .create(name)
            .and_then(|d| {
                if !refs.is_empty() {
                    d.write_raw(&refs)?;
                }
                Ok(d)
            })
            .map_err(self.e(&obj))
    }

    /// Writes `values` as a dataset of the matching HDF5 type.
    pub fn values(
        &self,
        g: &Group,
        name: &str,
        values: &Values,
        shape: &[usize],
    ) -> Result<Dataset> {
        let obj = join(&g.name(), name);
        match values {
            Values::Int(v) => self.numeric(g, name, v, shape, Compression::Contiguous),
            Values::UInt(v) => self.numeric(g, name, v, shape, Compression::Contiguous),
            Values::Float(v) => self.numeric(g, name, v, shape, Compression::Contiguous),
            Values::Bool(v) => self.numeric(g, name, v, shape, Compression::Contiguous),
            Values::Text(v) | Values::Enum(v) => {
                if shape.len() != 1 {
                    return Err(NwbError::invalid(
                        &self.path,
                        &obj,
                        "text columns must be 1-D",
                    ));
                }
                self.text_array(g, name, v)
            }
            Values::Reference(v) => {
                let targets = v
                    .iter()
                    .map(|t| {
                        t.clone()
                            .ok_or_else(|| NwbError::invalid(&self.path, &obj, "null reference"))
                    })
                    .collect::<Result<Vec<_>>>()?;
                self.refs(g, name, &targets)
            }
            Values::Compound(_) => Err(NwbError::invalid(
                &self.path,
                &obj,
                "compound columns cannot be written",
            )),
        }
    }

    #[allow(clippy::too_many_arguments)]
    /// Writes a DynamicTable group `name` in `parent` with `columns` (and `VectorIndex`es).
    pub fn table(
        &self,
        parent: &Group,
        name: &str,
        namespace: &str,
        ty: &str,
        description: &str,
        ids: &[i64],
        columns: &[ColumnSpec],
    ) -> Result<(Group, String)> {
        let (g, id) = self.typed_group(parent, name, namespace, ty)?;
        let tpath = g.name();
        self.attr_str(&g, "description", description)?;
        let colnames: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        self.attr_str_array(&g, "colnames", &colnames)?;
        let idd = self.numeric(&g, "id", ids, &[ids.len()], Compression::Contiguous)?;
        self.typed(&idd, "hdmf-common", "ElementIdentifiers")?;
        for c in columns {
            let cpath = join(&tpath, &c.name);
            let data_len = c.values.len();
            let shape = match &c.shape {
                Some(s) => s.clone(),
                None => vec![data_len],
            };
            let rows = shape.first().copied().unwrap_or(0);
            match &c.index {
                Some(ends)
                    if ends.len() != ids.len()
                        || ends.last().copied().unwrap_or(0) as usize != rows =>
                {
                    return Err(NwbError::InvalidArgument(format!(
                        "`{cpath}`: ragged index of {} rows ending at {:?} for {} ids and {rows} values",
                        ends.len(),
                        ends.last(),
                        ids.len()
                    )));
                }
                Some(_) => {}
                None if rows != ids.len() => {
                    return Err(NwbError::InvalidArgument(format!(
                        "`{cpath}`: {rows} values for {} ids",
                        ids.len()
                    )));
                }
                None => {}
            }
            let d = self.values(&g, &c.name, &c.values, &shape)?;
            match &c.region_table {
                Some(t) => {
                    self.typed(&d, "hdmf-common", "DynamicTableRegion")?;
                    self.attr_ref(&d, "table", t)?;
                }
                None => {
                    self.typed(&d, "hdmf-common", "VectorData")?;
                }
            }
            self.attr_str(&d, "description", &c.description)?;
            if let Some(ends) = &c.index {
                let iname = format!("{}_index", c.name);
                let max = ends.last().copied().unwrap_or(0);
                // The smallest unsigned type that holds the offsets, as hdmf writes.
                let di = if max <= u8::MAX as u64 {
                    let v: Vec<u8> = ends.iter().map(|&x| x as u8).collect();
                    self.numeric(&g, &iname, &v, &[v.len()], Compression::Contiguous)?
                } else if max <= u16::MAX as u64 {
                    let v: Vec<u16> = ends.iter().map(|&x| x as u16).collect();
                    self.numeric(&g, &iname, &v, &[v.len()], Compression::Contiguous)?
                } else if max <= u32::MAX as u64 {
                    let v: Vec<u32> = ends.iter().map(|&x| x as u32).collect();
                    self.numeric(&g, &iname, &v, &[v.len()], Compression::Contiguous)?
                } else {
                    self.numeric(&g, &iname, ends, &[ends.len()], Compression::Contiguous)?
                };
                self.typed(&di, "hdmf-common", "VectorIndex")?;
                self.attr_str(
                    &di,
                    "description",
                    &format!("Index for VectorData '{}'", c.name),
                )?;
                self.attr_ref(&di, "target", &cpath)?;
            }
        }
        Ok((g, id))
    }

    /// Gives every object under `path` that has an `object_id` a fresh one.
    pub fn renew_object_ids(&self, path: &str) -> Result<()> {
        let g = self.root().group(path).map_err(self.e(path))?;
        visit_tree(&self.path, &g, path, WalkOptions::default(), &mut |node| {
            if node.path() == SPEC_CACHE {
                return Ok(Visit::Skip);
            }
            if let Some(loc) = node.location()? {
                let has_id = loc
                    .attr_names()
                    .map_err(self.e(node.path()))?
                    .iter()
                    .any(|n| n == "object_id");
                if has_id {
                    self.attr_str(&loc, "object_id", &new_id())?;
                }
            }
            Ok(Visit::Enter)
        })
    }

    /// Re-creates every object reference under `path` (attributes and reference datasets)
    /// from the same path in `src`: references copied across files are nulled by HDF5.
    /// Compound columns holding references (`TimeSeriesReferenceVectorData`) are dropped
    /// from their table, since their targets are not in this file. Returns dropped paths.
    pub fn repair_references(
        &self,
        src: &hdf5::File,
        path: &str,
        dropped: &mut Vec<String>,
    ) -> Result<()> {
        let src_err = |p: &str| {
            let p = p.to_string();
            move |e: hdf5::Error| NwbError::hdf5(Path::new(&src.filename()), &p, e)
        };
        let g = self.root().group(path).map_err(self.e(path))?;
        visit_tree(&self.path, &g, path, WalkOptions::default(), &mut |node| {
            let p = node.path();
            if node.path() == SPEC_CACHE {
                return Ok(Visit::Skip);
            }
            let Some(loc) = node.location()? else {
                return Ok(Visit::Skip);
            };
            if node.kind() == Some(ObjectKind::Group) {
                let sg = src.group(p).map_err(src_err(p))?;
                self.repair_attrs(&loc, &sg, p)?;
                return Ok(Visit::Enter);
            }
            let d = node.dataset_handle()?;
            let sd = src.dataset(p).map_err(src_err(p))?;
            self.repair_attrs(&d, &sd, p)?;
            let desc = d
                .dtype()
                .and_then(|t| t.to_descriptor())
                .map_err(self.e(p))?;
            match desc {
                hdf5::types::TypeDescriptor::Reference(_) => {
                    self.repair_reference_data(&d, &sd, p)?
                }
                hdf5::types::TypeDescriptor::Compound(ct)
                    if ct
                        .fields
                        .iter()
                        .any(|f| matches!(f.ty, hdf5::types::TypeDescriptor::Reference(_))) =>
                {
                    if let Some(table) = node.parent() {
                        let table_path = match p.rsplit_once('/') {
                            Some(("", _)) | None => "/",
                            Some((parent, _)) => parent,
                        };
                        self.drop_column(table, table_path, node.name())?;
                        dropped.push(p.to_string());
                    }
                }
                _ => {}
            }
            Ok(Visit::Skip)
        })
    }

    /// Rewrites the reference dataset `d` (at `p`) to point at the objects its source
    /// `sd` points at, by path.
    fn repair_reference_data(&self, d: &Dataset, sd: &Dataset, p: &str) -> Result<()> {
        let refs = sd.read_raw::<ObjectReference1>().map_err(self.e(p))?;
        let mut cache = std::collections::HashMap::new();
        let mut new = Vec::with_capacity(refs.len());
        for r in &refs {
            let target = crate::h5::deref_path(sd, r, &mut cache)
                .ok_or_else(|| NwbError::invalid(&self.path, p, "dangling reference in source"))?;
            new.push(
                self.root()
                    .reference::<ObjectReference1>(&target)
                    .map_err(self.e(&target))?,
            );
        }
        if !new.is_empty() {
            d.write_raw(&new).map_err(self.e(p))?;
        }
        Ok(())
    }

    fn repair_attrs(&self, loc: &Location, src: &Location, path: &str) -> Result<()> {
        for name in loc.attr_names().map_err(self.e(path))? {
            let a = loc.attr(&name).map_err(self.e(path))?;
            let desc = a
                .dtype()
                .and_then(|t| t.to_descriptor())
                .map_err(self.e(path))?;
            if !matches!(desc, hdf5::types::TypeDescriptor::Reference(_)) {
                continue;
            }
            let sa = src.attr(&name).map_err(self.e(path))?;
            if !a.is_scalar() {
                continue;
            }
            let r = sa.read_scalar::<ObjectReference1>().map_err(self.e(path))?;
            let mut cache = std::collections::HashMap::new();
            if let Some(target) = crate::h5::deref_path(src, &r, &mut cache) {
                if crate::h5::kind_of(self.root(), &target).is_some() {
                    drop(a);
                    self.attr_ref(loc, &name, &target)?;
                }
            }
        }
        Ok(())
    }

    /// Removes column `name` (and its `_index`) from the table group `g`, fixing `colnames`.
    pub fn drop_column(&self, g: &Group, table_path: &str, name: &str) -> Result<()> {
        g.unlink(name).map_err(self.e(&join(table_path, name)))?;
        let iname = format!("{name}_index");
        if g.link_exists(&iname) {
            g.unlink(&iname)
                .map_err(self.e(&join(table_path, &iname)))?;
        }
        if g.attr_names()
            .map_err(self.e(table_path))?
            .iter()
            .any(|n| n == "colnames")
        {
            let a = g.attr("colnames").map_err(self.e(table_path))?;
            let data = crate::h5::read_container(&a, &self.path, table_path)?;
            drop(a);
            let cols: Vec<String> = data
                .texts()
                .unwrap_or_default()
                .into_iter()
                .filter(|c| c != name)
                .collect();
            self.attr_str_array(g, "colnames", &cols)?;
        }
        Ok(())
    }
}
