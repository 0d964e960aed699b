//! Spyglass 0.6's content hash of an NWB file (`utils/nwb_hash.py`, `NwbfileHasher`,
//! non-legacy mode), computed the way Python computes it with h5py 3 and numpy, so
//! the digest equals Spyglass's own for the same file.
//!
//! The digest is an MD5 over: the JSON (sorted keys) of the file's cached namespace
//! versions; then, for every object met by h5py's `visititems` (hard links only, the
//! root itself and any path containing `specifications` left out) in sorted path
//! order, the hex MD5 of the path, its attributes (sorted, `version` and
//! `source_script` left out: shape and dtype text, name, value) and either the
//! dataset's content or the group's members (name and h5py `repr`). Values are
//! serialized as Python would: numeric arrays as little-endian bytes, numeric scalars
//! as numpy's `str` (shortest repr; positional for 1e-4 ≤ |x| < 1e16), strings as
//! UTF-8, and string, boolean and reference arrays as numpy's fixed-width UTF-32
//! (`astype(str)`). Datasets are read in batches of [`BATCH_ROWS`] rows (bounded
//! memory; the width of a variable-length string batch is that batch's longest), and
//! numeric datasets whose parent group is named in the precision lookup are rounded
//! as `np.round` rounds (× 10ⁿ, half to even, ÷ 10ⁿ, in the dataset's own type).
//!
//! Types Spyglass's hasher handles in ways not reproduced here (compound, array,
//! opaque and variable-length non-string types, region references, half floats,
//! empty dataspaces, committed datatypes) are errors naming the object, never a
//! digest that could differ from Python's.

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::ops::Range;
use std::path::Path;

use hdf5::types::TypeDescriptor;
use hdf5::{Dataset, Group, IndexType, IterationOrder, LinkType, Location, LocationType};
use md5::{Digest, Md5};

use crate::error::{NwbError, Result};
use crate::h5::{self, herr};
use crate::walk::{visit_tree, NodeLink, Visit, WalkOptions};
use crate::ObjectKind;

/// Rows of a dataset hashed per batch (Spyglass 0.6's `DEFAULT_BATCH_SIZE`).
pub const BATCH_ROWS: usize = 32768;

/// Spyglass's default precision lookup: datasets in a `ProcessedElectricalSeries`
/// group rounded to 4 decimals (what SpikeSortingRecording's hash uses).
pub const SPYGLASS_PRECISION: [(&str, u32); 1] = [("ProcessedElectricalSeries", 4)];

/// Attribute and dataset names Spyglass's hasher leaves out.
const IGNORED_KEYS: [&str; 2] = ["version", "source_script"];

/// Spyglass 0.6's `NwbfileHasher(path, precision_lookup=…).hash` of the file at
/// `path`: a 32-character lower-case hex MD5. `precision` maps a group name to the
/// decimals numeric datasets directly inside such groups are rounded to (0 means no
/// rounding, as in Python); [`SPYGLASS_PRECISION`] is Spyglass's default.
pub fn nwbfile_hash(path: &Path, precision: &[(&str, u32)]) -> Result<String> {
    let file = h5::open_read(path)?;
    let root = file.group("/").map_err(herr(path, "/"))?;
    let mut top = Md5::new();
    top.update(namespaces_json(path, &root)?.as_bytes());
    let mut names: Vec<(String, ObjectKind)> = vec![];
    let opts = WalkOptions {
        once_per_object: true,
        ..WalkOptions::default()
    };
    visit_tree(path, &root, "/", opts, &mut |node: &crate::walk::Node<
        '_,
    >| {
        match node.link() {
            NodeLink::Start => return Ok(Visit::Enter),
            NodeLink::Hard => {}
            _ => return Ok(Visit::Skip),
        }
        let kind = node.kind().ok_or_else(|| {
            NwbError::invalid(
                path,
                node.path(),
                "not a group or dataset (a committed datatype?): Spyglass's hasher refuses it",
            )
        })?;
        let rel = node.path().trim_start_matches('/').to_string();
        if !rel.contains("specifications") {
            names.push((rel, kind));
        }
        Ok(Visit::Enter)
    })?;
    names.sort_by(|a, b| a.0.cmp(&b.0));
    let precision: BTreeMap<&str, u32> = precision.iter().copied().collect();
    for (name, kind) in &names {
        let mut h = Md5::new();
        h.update(name.as_bytes());
        let abs = format!("/{name}");
        let loc: Location = match kind {
            ObjectKind::Group => {
                let g = root.group(name).map_err(herr(path, &abs))?;
                let l: &Location = &g;
                l.clone()
            }
            ObjectKind::Dataset => {
                let d = root.dataset(name).map_err(herr(path, &abs))?;
                let l: &Location = &d;
                l.clone()
            }
        };
        let mut attr_names = loc.attr_names().map_err(herr(path, &abs))?;
        attr_names.sort();
        for key in attr_names
            .iter()
            .filter(|k| !IGNORED_KEYS.contains(&k.as_str()))
        {
            let object = format!("{abs}@{key}");
            let attr = loc.attr(key).map_err(herr(path, &object))?;
            let (shape_dtype, value) = attr_bytes(path, &object, &attr)?;
            h.update(&shape_dtype);
            h.update(key.as_bytes());
            h.update(&value);
        }
        match kind {
            ObjectKind::Dataset => {
                let base = abs.rsplit('/').next().unwrap_or_default();
                if !IGNORED_KEYS.contains(&base) {
                    let parent = abs[..abs.len() - base.len() - 1]
                        .rsplit('/')
                        .next()
                        .unwrap_or_default();
                    let decimals = precision.get(parent).copied().unwrap_or(0);
                    let ds = root.dataset(name).map_err(herr(path, &abs))?;
                    h.update(dataset_digest(path, &abs, &ds, decimals)?.as_bytes());
                }
            }
            ObjectKind::Group => {
                let g = root.group(name).map_err(herr(path, &abs))?;
                for (k, repr) in member_reprs(path, &abs, &g)? {
                    h.update(k.as_bytes());
                    h.update(repr.as_bytes());
                }
            }
        }
        top.update(hex(h).as_bytes());
    }
    Ok(hex(top))
}

fn hex(h: Md5) -> String {
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------- namespaces

/// `json.dumps({name: version}, sort_keys=True)` of the namespaces hdmf loads from
/// the file's cache (`.specloc`; per namespace the last version group in h5py's
/// order, `unversioned` and `None` passed over when others exist).
fn namespaces_json(path: &Path, root: &Group) -> Result<String> {
    let mut versions: BTreeMap<String, Option<String>> = BTreeMap::new();
    let specloc = h5::attr(root, path, "/", ".specloc")?;
    if let Some(specloc) = specloc {
        let target = specloc
            .values
            .as_references()
            .and_then(|r| r.first().cloned().flatten())
            .ok_or_else(|| {
                NwbError::invalid(path, "/@.specloc", "not a reference to the namespace cache")
            })?;
        let spec = root.group(&target).map_err(herr(path, &target))?;
        for (ns, _) in links_in_h5py_order(path, &target, &spec)? {
            let ns_path = format!("{target}/{ns}");
            let g = spec.group(&ns).map_err(herr(path, &ns_path))?;
            let mut vers: Vec<String> = links_in_h5py_order(path, &ns_path, &g)?
                .into_iter()
                .map(|(n, _)| n)
                .collect();
            for old in ["unversioned", "None"] {
                if vers.len() > 1 {
                    vers.retain(|v| v != old);
                }
            }
            let Some(ver) = vers.last() else {
                return Err(NwbError::invalid(path, &ns_path, "no cached version"));
            };
            let object = format!("{ns_path}/{ver}/namespace");
            let ds = h5::open_dataset(root, path, &object)?;
            let data = h5::read_container(&ds, path, &object)?;
            let text = data
                .as_str()
                .ok_or_else(|| NwbError::invalid(path, &object, "not a text dataset"))?;
            let doc: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| NwbError::invalid(path, &object, format!("not JSON: {e}")))?;
            let list = doc["namespaces"]
                .as_array()
                .ok_or_else(|| NwbError::invalid(path, &object, "no `namespaces` list"))?;
            for n in list {
                let name = n["name"].as_str().ok_or_else(|| {
                    NwbError::invalid(path, &object, "a namespace without a name")
                })?;
                let version = match &n["version"] {
                    serde_json::Value::Null => None,
                    serde_json::Value::String(s) => Some(s.clone()),
                    other => {
                        return Err(NwbError::invalid(
                            path,
                            &object,
                            format!("namespace {name}: version {other} is not text"),
                        ))
                    }
                };
                match versions.get(name) {
                    Some(v) if *v != version => {
                        return Err(NwbError::invalid(
                            path,
                            &target,
                            format!("namespace {name} cached twice with different versions"),
                        ))
                    }
                    _ => {
                        versions.insert(name.to_string(), version);
                    }
                }
            }
        }
    }
    let body: Vec<String> = versions
        .iter()
        .map(|(k, v)| {
            let v = v.as_deref().map_or_else(|| "null".to_string(), py_json_str);
            format!("{}: {v}", py_json_str(k))
        })
        .collect();
    Ok(format!("{{{}}}", body.join(", ")))
}

/// A string as Python's `json.dumps` writes it (`ensure_ascii`).
fn py_json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------- group members

/// A group's links in the order h5py iterates them: creation order when the group
/// tracks it, else name order.
fn links_in_h5py_order(path: &Path, object: &str, g: &Group) -> Result<Vec<(String, LinkType)>> {
    use hdf5::plist::group_create::LinkCreationOrder;
    let order = g
        .create_plist()
        .map_err(herr(path, object))?
        .link_creation_order();
    let index = match order {
        LinkCreationOrder::Untracked => IndexType::Name,
        _ => IndexType::CreationOrder,
    };
    Ok(g.links(index, IterationOrder::Increasing)
        .map_err(herr(path, object))?
        .into_iter()
        .map(|(n, i)| (n, i.link_type))
        .collect())
}

/// Each member's name and h5py `repr` of what `group.get(name)` returns.
fn member_reprs(path: &Path, object: &str, g: &Group) -> Result<Vec<(String, String)>> {
    let mut out = vec![];
    for (k, link) in links_in_h5py_order(path, object, g)? {
        let member = h5::join(object, &k);
        let repr = match g.loc_type_by_name(&k) {
            Err(_) if link == LinkType::Soft => "None".to_string(),
            Err(e) => return Err(NwbError::hdf5(path, &member, e)),
            Ok(LocationType::Group) => {
                let sub = g.group(&k).map_err(herr(path, &member))?;
                format!("<HDF5 group \"{}\" ({} members)>", sub.name(), sub.len())
            }
            Ok(LocationType::Dataset) => {
                let ds = g.dataset(&k).map_err(herr(path, &member))?;
                let ty = Elem::of(path, &member, &ds.dtype().map_err(herr(path, &member))?)?;
                let shape = match extents(path, &member, &ds)? {
                    Some(s) => py_shape(&s),
                    None => "None".to_string(),
                };
                let name = ds.name();
                let base = name.trim_end_matches('/').rsplit('/').next().unwrap_or("");
                let base = if base.is_empty() { "/" } else { base };
                format!(
                    "<HDF5 dataset \"{base}\": shape {shape}, type \"{}\">",
                    ty.dtype_str()
                )
            }
            Ok(other) => {
                return Err(NwbError::invalid(
                    path,
                    &member,
                    format!("a {other:?} member: Spyglass's hasher's repr of it is not reproduced"),
                ))
            }
        };
        out.push((k, repr));
    }
    Ok(out)
}

/// A dataset's or attribute's shape, `None` for an empty (null) dataspace.
fn extents(path: &Path, object: &str, c: &hdf5::Container) -> Result<Option<Vec<usize>>> {
    let space = c.space().map_err(herr(path, object))?;
    Ok(if space.is_null() {
        None
    } else {
        Some(space.shape())
    })
}

/// A shape as Python prints a tuple: `()`, `(5,)`, `(5, 3)`.
fn py_shape(shape: &[usize]) -> String {
    match shape {
        [] => "()".into(),
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

// ---------------------------------------------------------------- element types

/// An element type as h5py maps it to numpy.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Elem {
    /// Integer of `size` bytes (enums other than h5py's boolean read as their base).
    Int {
        size: usize,
        signed: bool,
        big: bool,
    },
    /// IEEE float of 4 or 8 bytes.
    Float { size: usize, big: bool },
    /// numpy bool (h5py's FALSE/TRUE enum).
    Bool,
    /// Variable-length string (numpy object).
    VlenStr,
    /// Fixed-length string of this many bytes (numpy `S`).
    FixedStr(usize),
    /// Object reference (numpy object).
    ObjRef,
}

impl Elem {
    fn of(path: &Path, object: &str, dtype: &hdf5::Datatype) -> Result<Elem> {
        let unsupported = |what: &str| {
            NwbError::invalid(
                path,
                object,
                format!("element type {what} is not supported by the NWB file hasher"),
            )
        };
        let desc = dtype
            .to_descriptor()
            .map_err(|e| unsupported(&e.to_string()))?;
        let big = || {
            // SAFETY: a valid datatype id held by `dtype`.
            let order = hdf5::sync::sync(|| unsafe { hdf5_sys::h5t::H5Tget_order(dtype.id()) });
            order == hdf5_sys::h5t::H5T_order_t::H5T_ORDER_BE
        };
        Ok(match &desc {
            TypeDescriptor::Integer(s) => Elem::Int {
                size: *s as usize,
                signed: true,
                big: big(),
            },
            TypeDescriptor::Unsigned(s) => Elem::Int {
                size: *s as usize,
                signed: false,
                big: big(),
            },
            TypeDescriptor::Float(s) if matches!(*s as usize, 4 | 8) => Elem::Float {
                size: *s as usize,
                big: big(),
            },
            TypeDescriptor::Boolean => Elem::Bool,
            TypeDescriptor::Enum(e) => {
                let mut m: Vec<(&str, u64)> = e
                    .members
                    .iter()
                    .map(|m| (m.name.as_str(), m.value))
                    .collect();
                m.sort();
                if m == [("FALSE", 0), ("TRUE", 1)] {
                    Elem::Bool
                } else {
                    Elem::Int {
                        size: e.size as usize,
                        signed: e.signed,
                        big: big(),
                    }
                }
            }
            TypeDescriptor::VarLenAscii | TypeDescriptor::VarLenUnicode => Elem::VlenStr,
            TypeDescriptor::FixedAscii(n) | TypeDescriptor::FixedUnicode(n) => Elem::FixedStr(*n),
            TypeDescriptor::Reference(hdf5::types::Reference::Object) => Elem::ObjRef,
            other => return Err(unsupported(&other.to_string())),
        })
    }

    /// The same type in native (little-endian) byte order.
    fn native(self) -> Elem {
        match self {
            Elem::Int { size, signed, .. } => Elem::Int {
                size,
                signed,
                big: false,
            },
            Elem::Float { size, .. } => Elem::Float { size, big: false },
            other => other,
        }
    }

    /// numpy's `str(dtype)`.
    fn dtype_name(self) -> String {
        match self {
            Elem::Int {
                size: 1, signed, ..
            } => (if signed { "int8" } else { "uint8" }).into(),
            Elem::Int {
                size,
                signed,
                big: false,
            } => {
                format!("{}int{}", if signed { "" } else { "u" }, size * 8)
            }
            Elem::Float { size, big: false } => format!("float{}", size * 8),
            Elem::Int { .. } | Elem::Float { .. } => self.dtype_str(),
            Elem::Bool => "bool".into(),
            Elem::VlenStr | Elem::ObjRef => "object".into(),
            Elem::FixedStr(n) => format!("|S{n}"),
        }
    }

    /// numpy's `dtype.str`.
    fn dtype_str(self) -> String {
        let order = |size: usize, big: bool| match (size, big) {
            (1, _) => '|',
            (_, true) => '>',
            _ => '<',
        };
        match self {
            Elem::Int { size, signed, big } => {
                format!(
                    "{}{}{size}",
                    order(size, big),
                    if signed { 'i' } else { 'u' }
                )
            }
            Elem::Float { size, big } => format!("{}f{size}", order(size, big)),
            Elem::Bool => "|b1".into(),
            Elem::VlenStr | Elem::ObjRef => "|O".into(),
            Elem::FixedStr(n) => format!("|S{n}"),
        }
    }
}

// ---------------------------------------------------------------- reading

/// Elements read in memory: numbers as little-endian bytes of their own width, the
/// rest as text (strings, `True`/`False`, reference reprs).
enum Read {
    Numbers(Vec<u8>),
    Text(Vec<String>),
}

/// Reads elements of an attribute (`rows` `None`) or the rows `rows` of a dataset.
fn read_elems(
    path: &Path,
    object: &str,
    c: &hdf5::Container,
    elem: Elem,
    shape: &[usize],
    rows: Option<Range<usize>>,
) -> Result<Read> {
    use hdf5_sys::{h5a, h5d, h5i, h5p, h5s, h5t};
    let fail = |m: &str| NwbError::invalid(path, object, m.to_string());
    let ftype = c.dtype().map_err(herr(path, object))?;
    let mut count: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let start: Vec<u64> = match &rows {
        Some(r) => {
            count[0] = (r.end - r.start) as u64;
            let mut s = vec![0u64; shape.len()];
            s[0] = r.start as u64;
            s
        }
        None => vec![],
    };
    let n: usize = count.iter().map(|&d| d as usize).product();
    // SAFETY: a valid id held by `c`.
    let is_attr =
        hdf5::sync::sync(|| unsafe { h5i::H5Iget_type(c.id()) }) == h5i::H5I_type_t::H5I_ATTR;
    // SAFETY: ids are valid for the calls; buffers are sized from the memory type's
    // size times the selected element count; vlen data are copied out, then reclaimed.
    let (raw, size, strings) = hdf5::sync::sync(|| unsafe {
        let mtype = h5t::H5Tget_native_type(ftype.id(), h5t::H5T_direction_t::H5T_DIR_ASCEND);
        if mtype < 0 {
            return Err(fail("cannot derive a native memory type"));
        }
        let mtype_owned: hdf5::Datatype = hdf5::from_id(mtype).map_err(herr(path, object))?;
        let size = h5t::H5Tget_size(mtype_owned.id());
        let mut buf = vec![0u8; size * n.max(1)];
        let (status, mspace) = if is_attr {
            (
                h5a::H5Aread(c.id(), mtype, buf.as_mut_ptr().cast()),
                h5a::H5Aget_space(c.id()),
            )
        } else {
            let fspace = h5d::H5Dget_space(c.id());
            if fspace < 0 {
                return Err(fail("no dataspace"));
            }
            if !start.is_empty() {
                h5s::H5Sselect_hyperslab(
                    fspace,
                    h5s::H5S_seloper_t::H5S_SELECT_SET,
                    start.as_ptr(),
                    std::ptr::null(),
                    count.as_ptr(),
                    std::ptr::null(),
                );
            }
            let mspace = if count.is_empty() {
                h5s::H5Screate(h5s::H5S_class_t::H5S_SCALAR)
            } else {
                h5s::H5Screate_simple(count.len() as i32, count.as_ptr(), std::ptr::null())
            };
            let st = h5d::H5Dread(
                c.id(),
                mtype,
                mspace,
                fspace,
                h5p::H5P_DEFAULT,
                buf.as_mut_ptr().cast(),
            );
            h5s::H5Sclose(fspace);
            (st, mspace)
        };
        if status < 0 {
            if mspace >= 0 {
                h5s::H5Sclose(mspace);
            }
            return Err(fail("read failed"));
        }
        let mut strings = None;
        if elem == Elem::VlenStr {
            let mut v = Vec::with_capacity(n);
            for i in 0..n {
                let p = std::ptr::read_unaligned(
                    buf.as_ptr()
                        .add(i * size)
                        .cast::<*const std::os::raw::c_char>(),
                );
                v.push(if p.is_null() {
                    vec![]
                } else {
                    CStr::from_ptr(p).to_bytes().to_vec()
                });
            }
            #[allow(deprecated)]
            h5d::H5Dvlen_reclaim(mtype, mspace, h5p::H5P_DEFAULT, buf.as_mut_ptr().cast());
            strings = Some(v);
        }
        if mspace >= 0 {
            h5s::H5Sclose(mspace);
        }
        Ok((buf, size, strings))
    })?;
    let at = |i: usize| &raw[i * size..(i + 1) * size];
    Ok(match elem {
        Elem::Int {
            size: s, signed, ..
        } => {
            let mut out = Vec::with_capacity(n * s);
            for i in 0..n {
                let b = at(i);
                match (s, signed) {
                    (1, _) => out.push(b[0]),
                    (2, _) => out.extend(u16::from_ne_bytes(b.try_into().unwrap()).to_le_bytes()),
                    (4, _) => out.extend(u32::from_ne_bytes(b.try_into().unwrap()).to_le_bytes()),
                    (8, _) => out.extend(u64::from_ne_bytes(b.try_into().unwrap()).to_le_bytes()),
                    _ => return Err(fail(&format!("integers of {s} bytes"))),
                }
            }
            if size != s {
                return Err(fail("native integer width differs from the file's"));
            }
            Read::Numbers(out)
        }
        Elem::Float { size: s, .. } => {
            if size != s {
                return Err(fail("native float width differs from the file's"));
            }
            let mut out = Vec::with_capacity(n * s);
            for i in 0..n {
                let b = at(i);
                match s {
                    4 => out.extend(f32::from_ne_bytes(b.try_into().unwrap()).to_le_bytes()),
                    _ => out.extend(f64::from_ne_bytes(b.try_into().unwrap()).to_le_bytes()),
                }
            }
            Read::Numbers(out)
        }
        Elem::Bool => Read::Text(
            (0..n)
                .map(|i| {
                    let on = at(i).iter().any(|&b| b != 0);
                    (if on { "True" } else { "False" }).to_string()
                })
                .collect(),
        ),
        Elem::VlenStr => {
            let bytes = strings.unwrap_or_default();
            let mut v = Vec::with_capacity(n);
            for b in bytes {
                v.push(if is_attr {
                    // h5py decodes attribute strings with surrogateescape, which
                    // Spyglass's str(...).encode() then refuses for invalid UTF-8
                    String::from_utf8(b).map_err(|_| fail("invalid UTF-8 in a string attribute"))?
                } else {
                    String::from_utf8_lossy(&b).into_owned()
                });
            }
            Read::Text(v)
        }
        Elem::FixedStr(w) => Read::Text(
            (0..n)
                .map(|i| {
                    let b = &at(i)[..w.min(size)];
                    let end = b.iter().rposition(|&c| c != 0).map_or(0, |p| p + 1);
                    String::from_utf8_lossy(&b[..end]).into_owned()
                })
                .collect(),
        ),
        Elem::ObjRef => Read::Text(
            (0..n)
                .map(|i| {
                    let null = at(i).iter().all(|&b| b == 0);
                    (if null {
                        "<HDF5 object reference (null)>"
                    } else {
                        "<HDF5 object reference>"
                    })
                    .to_string()
                })
                .collect(),
        ),
    })
}

/// numpy's fixed-width UTF-32 (`astype(str).tobytes()`) of strings: each padded
/// with zeros to the longest (at least 1 character).
fn utf32(strings: &[String]) -> Vec<u8> {
    let width = utf32_width(strings);
    let mut out = Vec::with_capacity(strings.len() * width * 4);
    for s in strings {
        let mut k = 0;
        for c in s.chars() {
            out.extend((c as u32).to_le_bytes());
            k += 1;
        }
        out.extend(std::iter::repeat_n(0u8, (width - k) * 4));
    }
    out
}

/// The width numpy gives an array of these strings (`<U{width}`): the longest, in
/// characters, at least 1.
fn utf32_width(strings: &[String]) -> usize {
    strings
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        .max(1)
}

/// numpy's `astype(str)` of an `S` array: bytes → ASCII characters (trailing NULs
/// dropped, width kept); other bytes are an error, as in numpy.
fn fixed_utf32(path: &Path, object: &str, strings: &[String], width: usize) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(strings.len() * width.max(1) * 4);
    for s in strings {
        if !s.is_ascii() {
            return Err(NwbError::invalid(
                path,
                object,
                "a fixed-length string with non-ASCII bytes (numpy cannot convert it)",
            ));
        }
        out.extend(s.bytes().flat_map(|b| u32::from(b).to_le_bytes()));
        out.extend(std::iter::repeat_n(0u8, (width.max(1) - s.len()) * 4));
    }
    Ok(out)
}

// ---------------------------------------------------------------- numbers as text

/// numpy's `str()` of a float64 scalar.
fn np_str_f64(x: f64) -> String {
    np_float_text(
        x.is_nan(),
        x.is_infinite(),
        x.is_sign_negative(),
        x == 0.0,
        x.abs(),
        &format!("{:e}", x.abs()),
    )
}

/// numpy's `str()` of a float32 scalar (shortest digits that round-trip as float32).
fn np_str_f32(x: f32) -> String {
    np_float_text(
        x.is_nan(),
        x.is_infinite(),
        x.is_sign_negative(),
        x == 0.0,
        f64::from(x.abs()),
        &format!("{:e}", x.abs()),
    )
}

/// numpy's scalar float text: `nan`, `inf`, positional with at least one decimal for
/// 0 and 1e-4 ≤ |x| < 1e16, else scientific with a signed two-digit (or longer)
/// exponent and no trailing zeros (`1e-05`, `1.5e+16`). `sci` is Rust's shortest
/// `{:e}` text of |x|.
fn np_float_text(nan: bool, inf: bool, neg: bool, zero: bool, abs: f64, sci: &str) -> String {
    if nan {
        return "nan".into();
    }
    let sign = if neg { "-" } else { "" };
    if inf {
        return format!("{sign}inf");
    }
    if zero {
        return format!("{sign}0.0");
    }
    let (mant, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    if (1e-4..1e16).contains(&abs) {
        let point = exp + 1; // digits before the decimal point
        let text = if point <= 0 {
            format!("0.{}{digits}", "0".repeat((-point) as usize))
        } else if point as usize >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        };
        format!("{sign}{text}")
    } else {
        let m = if digits.len() == 1 {
            digits
        } else {
            format!("{}.{}", &digits[..1], &digits[1..])
        };
        let es = if exp < 0 { '-' } else { '+' };
        format!("{sign}{m}e{es}{:02}", exp.abs())
    }
}

/// numpy's `str()` of one numeric element given as little-endian bytes.
fn np_str_number(elem: Elem, b: &[u8]) -> String {
    match elem {
        Elem::Float { size: 4, .. } => np_str_f32(f32::from_le_bytes(b.try_into().unwrap())),
        Elem::Float { .. } => np_str_f64(f64::from_le_bytes(b.try_into().unwrap())),
        Elem::Int { size, signed, .. } => {
            let mut w = [0u8; 8];
            w[..size].copy_from_slice(b);
            if signed && b[size - 1] & 0x80 != 0 {
                w[size..].fill(0xff);
            }
            let v = u64::from_le_bytes(w);
            if signed {
                (v as i64).to_string()
            } else {
                v.to_string()
            }
        }
        _ => unreachable!("only numbers"),
    }
}

/// `np.round(x, decimals)` in place on little-endian floats of `size` bytes:
/// `rint(x · 10ⁿ) / 10ⁿ` in the array's own precision (integers are unchanged).
fn np_round(bytes: &mut [u8], elem: Elem, decimals: u32) {
    let Elem::Float { size, .. } = elem else {
        return;
    };
    let f = 10f64.powi(decimals as i32);
    if size == 4 {
        let f = f as f32;
        for c in bytes.chunks_exact_mut(4) {
            let x = f32::from_le_bytes(c.try_into().unwrap());
            c.copy_from_slice(&((x * f).round_ties_even() / f).to_le_bytes());
        }
    } else {
        for c in bytes.chunks_exact_mut(8) {
            let x = f64::from_le_bytes(c.try_into().unwrap());
            c.copy_from_slice(&((x * f).round_ties_even() / f).to_le_bytes());
        }
    }
}

// ---------------------------------------------------------------- attributes and datasets

/// `hash_shape_dtype(value)` and `serialize_attr_value(value)` of an attribute as
/// h5py reads it and Spyglass normalizes it.
fn attr_bytes(path: &Path, object: &str, attr: &hdf5::Attribute) -> Result<(Vec<u8>, Vec<u8>)> {
    let elem = Elem::of(path, object, &attr.dtype().map_err(herr(path, object))?)?;
    let Some(shape) = extents(path, object, attr)? else {
        return Err(NwbError::invalid(
            path,
            object,
            "an empty (null dataspace) attribute is not supported by the NWB file hasher",
        ));
    };
    let read = read_elems(path, object, attr, elem, &shape, None)?;
    let n: usize = shape.iter().product();
    if shape.is_empty() {
        // a numpy scalar (str), a Python str, or an h5py Reference (repr)
        return Ok(match (elem, read) {
            // a numpy scalar is in native byte order
            (Elem::Int { .. } | Elem::Float { .. }, Read::Numbers(b)) => (
                format!("(){}", elem.native().dtype_name()).into_bytes(),
                np_str_number(elem, &b).into_bytes(),
            ),
            (Elem::Bool, Read::Text(t)) => (b"()bool".to_vec(), t[0].clone().into_bytes()),
            (_, Read::Text(t)) => (vec![], t[0].clone().into_bytes()),
            _ => unreachable!("numbers are read as numbers"),
        });
    }
    if n == 0 && shape.len() > 1 && !matches!(elem, Elem::Bool | Elem::FixedStr(_)) {
        return Err(empty_view(path, object));
    }
    let shape_text = py_shape(&shape);
    Ok(match (elem, read) {
        (_, Read::Numbers(b)) => (format!("{shape_text}{}", elem.dtype_name()).into_bytes(), b),
        // an empty object array becomes np.array([]): float64, no bytes
        (Elem::VlenStr | Elem::ObjRef, _) if n == 0 => {
            (format!("{shape_text}float64").into_bytes(), vec![])
        }
        (Elem::VlenStr, Read::Text(t)) => {
            let w = utf32_width(&t);
            (format!("{shape_text}<U{w}").into_bytes(), utf32(&t))
        }
        (Elem::ObjRef, Read::Text(t)) => (format!("{shape_text}object").into_bytes(), utf32(&t)),
        (Elem::Bool, Read::Text(t)) => (format!("{shape_text}bool").into_bytes(), pad5(&t)),
        (Elem::FixedStr(w), Read::Text(t)) => (
            format!("{shape_text}|S{w}").into_bytes(),
            fixed_utf32(path, object, &t, w)?,
        ),
        _ => unreachable!("every element type is covered"),
    })
}

/// Spyglass's hasher fails on a numeric (or object, which numpy turns into an empty
/// float64) array of 2 or more dimensions with no elements: `memoryview.cast`
/// refuses a zero in such a shape.
fn empty_view(path: &Path, object: &str) -> NwbError {
    NwbError::invalid(
        path,
        object,
        "an array of 2 or more dimensions with no elements (Spyglass's hasher fails on it: Python cannot cast such an empty view to bytes)",
    )
}

/// numpy's `astype(str)` of a bool array: `<U5`.
fn pad5(t: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(t.len() * 20);
    for s in t {
        out.extend(s.chars().flat_map(|c| (c as u32).to_le_bytes()));
        out.extend(std::iter::repeat_n(0u8, (5 - s.len()) * 4));
    }
    out
}

/// Spyglass's `hash_dataset`: MD5 of shape and dtype text, then the value (a scalar
/// as text) or the rows in batches.
fn dataset_digest(path: &Path, object: &str, ds: &Dataset, decimals: u32) -> Result<String> {
    let elem = Elem::of(path, object, &ds.dtype().map_err(herr(path, object))?)?;
    let Some(shape) = extents(path, object, ds)? else {
        return Err(NwbError::invalid(
            path,
            object,
            "an empty (null dataspace) dataset: Spyglass's hasher fails on it",
        ));
    };
    let mut h = Md5::new();
    h.update(format!("{}{}", py_shape(&shape), elem.dtype_name()).as_bytes());
    if shape.is_empty() {
        let text = match read_elems(path, object, ds, elem, &shape, None)? {
            Read::Numbers(b) => np_str_number(elem, &b),
            Read::Text(t) => t[0].clone(),
        };
        h.update(text.as_bytes());
        return Ok(hex(h));
    }
    let rows = shape[0];
    let mut start = 0;
    while start < rows {
        let end = (start + BATCH_ROWS).min(rows);
        if shape[1..].contains(&0) && !matches!(elem, Elem::Bool | Elem::FixedStr(_)) {
            return Err(empty_view(path, object));
        }
        let read = read_elems(path, object, ds, elem, &shape, Some(start..end))?;
        start = end;
        match (elem, read) {
            (_, Read::Numbers(mut b)) => {
                if decimals > 0 {
                    np_round(&mut b, elem, decimals);
                }
                h.update(&b);
            }
            (_, Read::Text(t)) if t.is_empty() => {}
            (Elem::Bool, Read::Text(t)) => h.update(pad5(&t)),
            (Elem::FixedStr(w), Read::Text(t)) => h.update(fixed_utf32(path, object, &t, w)?),
            (_, Read::Text(t)) => h.update(utf32(&t)),
        }
    }
    Ok(hex(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_numpy_prints_them() {
        // numpy 1.26: str(np.float64(v)) / str(np.float32(v)), hand-checked
        assert_eq!(np_str_f64(0.1), "0.1");
        assert_eq!(np_str_f64(1e-5), "1e-05");
        assert_eq!(np_str_f64(1.5e-7), "1.5e-07");
        assert_eq!(np_str_f64(1e16), "1e+16");
        assert_eq!(np_str_f64(1e15), "1000000000000000.0");
        assert_eq!(np_str_f64(1e-4), "0.0001");
        assert_eq!(np_str_f64(5e-324), "5e-324");
        assert_eq!(np_str_f64(1e100), "1e+100");
        assert_eq!(np_str_f64(-0.0), "-0.0");
        assert_eq!(np_str_f64(f64::NAN), "nan");
        assert_eq!(np_str_f64(f64::NEG_INFINITY), "-inf");
        assert_eq!(np_str_f64(123.25), "123.25");
        assert_eq!(np_str_f32(1e-4), "1e-04");
        assert_eq!(np_str_f32(123456789.0), "123456790.0");
        assert_eq!(np_str_f32(3.4e38), "3.4e+38");
        assert_eq!(np_str_f32(0.1), "0.1");
    }

    #[test]
    fn shapes_print_as_python_tuples() {
        assert_eq!(py_shape(&[]), "()");
        assert_eq!(py_shape(&[5]), "(5,)");
        assert_eq!(py_shape(&[5, 3]), "(5, 3)");
    }
}
