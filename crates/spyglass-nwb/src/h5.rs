//! Thin layer over hdf5-metno: opening files safely, reading attributes and datasets
//! into [`Data`], resolving object references and link targets. Everything here maps
//! library errors to [`NwbError`] with the file and object named.

use std::collections::{BTreeMap, HashMap};
use std::ffi::CStr;
use std::io::Read;
use std::path::{Path, PathBuf};

use hdf5::types::{TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5::{Container, Dataset, Group, LinkType, Location, ObjectReference1, ReferencedObject};

use crate::data::{Data, Values};
use crate::error::{NwbError, Result};

/// Refuse to materialise more elements than this in one generic read (corrupt shapes).
pub(crate) const MAX_ELEMENTS: usize = 1 << 31;

/// The 8-byte HDF5 format signature.
const SIGNATURE: [u8; 8] = [0x89, b'H', b'D', b'F', b'\r', b'\n', 0x1a, b'\n'];

/// True when the HDF5 signature sits at offset 0, 512, 1024, 2048, … of the file.
pub(crate) fn has_hdf5_signature(path: &Path) -> Result<bool> {
    let mut f = std::fs::File::open(path).map_err(|e| NwbError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let len = f
        .metadata()
        .map_err(|e| NwbError::Io {
            path: path.to_path_buf(),
            source: e,
        })?
        .len();
    let mut offset = 0u64;
    let mut buf = [0u8; 8];
    while offset + 8 <= len {
        use std::io::Seek;
        f.seek(std::io::SeekFrom::Start(offset))
            .map_err(|e| NwbError::Io {
                path: path.to_path_buf(),
                source: e,
            })?;
        if f.read_exact(&mut buf).is_ok() && buf == SIGNATURE {
            return Ok(true);
        }
        offset = if offset == 0 { 512 } else { offset * 2 };
    }
    Ok(false)
}

/// Opens `path` read-only, distinguishing "missing", "not HDF5" and library errors.
pub(crate) fn open_read(path: &Path) -> Result<hdf5::File> {
    if !path.exists() {
        return Err(NwbError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "file not found"),
        });
    }
    if !has_hdf5_signature(path)? {
        return Err(NwbError::NotHdf5 {
            path: path.to_path_buf(),
        });
    }
    crate::filters::register()?;
    hdf5::File::open(path).map_err(|e| NwbError::hdf5(path, "/", e))
}

/// Creates (truncates) `path` for writing.
///
/// File locking follows libhdf5's defaults (`HDF5_USE_FILE_LOCKING`). Note that libhdf5
/// opens files without close-on-exec: a process that starts subprocesses while writing
/// should set `HDF5_USE_FILE_LOCKING=FALSE`, or a child may hold the lock and block the
/// next open ("unable to lock file"). All opens in one process must agree on locking.
pub(crate) fn create(path: &Path) -> Result<hdf5::File> {
    hdf5::File::create(path).map_err(|e| NwbError::hdf5(path, "/", e))
}

/// Maps an hdf5 error for `object` of `file`.
pub(crate) fn herr<'a>(file: &'a Path, object: &str) -> impl Fn(hdf5::Error) -> NwbError + 'a {
    let object = object.to_string();
    move |e| NwbError::hdf5(file, &object, e)
}

/// Joins a group path and a member name.
pub(crate) fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() || parent == "/" {
        format!("/{name}")
    } else {
        format!("{}/{name}", parent.trim_end_matches('/'))
    }
}

/// Last path component.
pub(crate) fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Resolves an object reference to the path of its target, `None` for null/dangling ones.
pub(crate) fn deref_path(
    loc: &Location,
    r: &ObjectReference1,
    cache: &mut HashMap<u64, Option<String>>,
) -> Option<String> {
    // SAFETY: ObjectReference1 is repr(transparent) over hobj_ref_t (a u64 address).
    let key: u64 = unsafe { std::mem::transmute_copy(r) };
    if key == 0 {
        return None;
    }
    if let Some(p) = cache.get(&key) {
        return p.clone();
    }
    let p = match loc.dereference(r) {
        Ok(ReferencedObject::Group(g)) => Some(g.name()),
        Ok(ReferencedObject::Dataset(d)) => Some(d.name()),
        _ => None,
    };
    cache.insert(key, p.clone());
    p
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Reads all elements of an attribute or dataset (as a [`Container`]) into [`Data`].
pub(crate) fn read_container(c: &Container, file: &Path, object: &str) -> Result<Data> {
    let shape = c.get_shape().map_err(herr(file, object))?;
    let n = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
        .ok_or_else(|| NwbError::invalid(file, object, format!("implausible shape {shape:?}")))?;
    let desc = c
        .dtype()
        .and_then(|t| t.to_descriptor())
        .map_err(herr(file, object))?;
    let values = if n == 0 {
        empty_values(&desc)
    } else {
        read_values(c, &desc, n, file, object)?
    };
    if values.len() != n {
        return Err(NwbError::invalid(
            file,
            object,
            format!("read {} elements, shape says {n}", values.len()),
        ));
    }
    Ok(Data { shape, values })
}

fn empty_values(desc: &TypeDescriptor) -> Values {
    match desc {
        TypeDescriptor::Integer(_) => Values::Int(vec![]),
        TypeDescriptor::Unsigned(_) => Values::UInt(vec![]),
        TypeDescriptor::Float(_) => Values::Float(vec![]),
        TypeDescriptor::Boolean => Values::Bool(vec![]),
        TypeDescriptor::Enum(e) if is_bool_enum(e) => Values::Bool(vec![]),
        TypeDescriptor::Enum(_) => Values::Enum(vec![]),
        TypeDescriptor::Reference(_) => Values::Reference(vec![]),
        TypeDescriptor::Compound(c) => Values::Compound(
            c.fields
                .iter()
                .map(|f| (f.name.clone(), empty_values(&f.ty)))
                .collect(),
        ),
        _ => Values::Text(vec![]),
    }
}

fn is_bool_enum(e: &hdf5::types::EnumType) -> bool {
    e.members.len() == 2
        && e.members
            .iter()
            .any(|m| m.name.eq_ignore_ascii_case("FALSE") && m.value == 0)
        && e.members
            .iter()
            .any(|m| m.name.eq_ignore_ascii_case("TRUE") && m.value == 1)
}

fn read_values(
    c: &Container,
    desc: &TypeDescriptor,
    n: usize,
    file: &Path,
    object: &str,
) -> Result<Values> {
    let e = herr(file, object);
    Ok(match desc {
        TypeDescriptor::Integer(_) => Values::Int(c.read_raw::<i64>().map_err(e)?),
        TypeDescriptor::Unsigned(_) => Values::UInt(c.read_raw::<u64>().map_err(e)?),
        TypeDescriptor::Float(_) => Values::Float(c.read_raw::<f64>().map_err(e)?),
        TypeDescriptor::Boolean => Values::Bool(c.read_raw::<bool>().map_err(e)?),
        TypeDescriptor::VarLenUnicode => Values::Text(
            c.read_raw::<VarLenUnicode>()
                .map_err(e)?
                .iter()
                .map(|s| lossy(s.as_bytes()))
                .collect(),
        ),
        TypeDescriptor::VarLenAscii => Values::Text(
            c.read_raw::<VarLenAscii>()
                .map_err(e)?
                .iter()
                .map(|s| lossy(s.as_bytes()))
                .collect(),
        ),
        TypeDescriptor::Reference(hdf5::types::Reference::Object) => {
            let refs = c.read_raw::<ObjectReference1>().map_err(e)?;
            let mut cache = HashMap::new();
            Values::Reference(refs.iter().map(|r| deref_path(c, r, &mut cache)).collect())
        }
        TypeDescriptor::Enum(_)
        | TypeDescriptor::FixedAscii(_)
        | TypeDescriptor::FixedUnicode(_)
        | TypeDescriptor::Compound(_) => {
            let native = read_native(c, n, file, object)?;
            let mut cache = HashMap::new();
            decode_native(c, &native.desc, &native.buf, 0, native.size, n, &mut cache).ok_or_else(
                || NwbError::invalid(file, object, format!("unsupported element type {desc}")),
            )?
        }
        other => {
            return Err(NwbError::invalid(
                file,
                object,
                format!("unsupported element type {other}"),
            ))
        }
    })
}

/// Elements read with the native memory type of their file type.
struct NativeBuf {
    desc: TypeDescriptor,
    buf: Vec<u8>,
    size: usize,
}

fn read_native(c: &Container, n: usize, file: &Path, object: &str) -> Result<NativeBuf> {
    use hdf5_sys::{h5a, h5d, h5i, h5p, h5s, h5t};
    let ftype = c.dtype().map_err(herr(file, object))?;
    let fail = |m: &str| NwbError::invalid(file, object, m.to_string());
    hdf5::sync::sync(|| unsafe {
        let mtype_id = h5t::H5Tget_native_type(ftype.id(), h5t::H5T_direction_t::H5T_DIR_ASCEND);
        if mtype_id < 0 {
            return Err(fail("cannot derive a native type"));
        }
        let mtype: hdf5::Datatype = hdf5::from_id(mtype_id).map_err(herr(file, object))?;
        let desc = mtype.to_descriptor().map_err(herr(file, object))?;
        let size = h5t::H5Tget_size(mtype_id);
        let total = size
            .checked_mul(n)
            .filter(|&t| t <= MAX_ELEMENTS)
            .ok_or_else(|| fail("too large"))?;
        let mut buf = vec![0u8; total];
        let is_attr = h5i::H5Iget_type(c.id()) == h5i::H5I_type_t::H5I_ATTR;
        let status = if is_attr {
            h5a::H5Aread(c.id(), mtype_id, buf.as_mut_ptr().cast())
        } else {
            h5d::H5Dread(
                c.id(),
                mtype_id,
                h5s::H5S_ALL,
                h5s::H5S_ALL,
                h5p::H5P_DEFAULT,
                buf.as_mut_ptr().cast(),
            )
        };
        if status < 0 {
            return Err(fail("read failed"));
        }
        // Variable-length members are owned by the library: copy them out now, then reclaim.
        let has_vlen = contains_vlen(&desc);
        if has_vlen {
            let owned = copy_vlen(&desc, &buf, size, n);
            let space = if is_attr {
                h5a::H5Aget_space(c.id())
            } else {
                h5d::H5Dget_space(c.id())
            };
            if space >= 0 {
                #[allow(deprecated)]
                h5d::H5Dvlen_reclaim(mtype_id, space, h5p::H5P_DEFAULT, buf.as_mut_ptr().cast());
                h5s::H5Sclose(space);
            }
            return Ok(NativeBuf {
                desc: owned.0,
                buf: owned.1,
                size: owned.2,
            });
        }
        Ok(NativeBuf { desc, buf, size })
    })
}

fn contains_vlen(d: &TypeDescriptor) -> bool {
    match d {
        TypeDescriptor::VarLenAscii
        | TypeDescriptor::VarLenUnicode
        | TypeDescriptor::VarLenArray(_) => true,
        TypeDescriptor::Compound(c) => c.fields.iter().any(|f| contains_vlen(&f.ty)),
        TypeDescriptor::FixedArray(t, _) => contains_vlen(t),
        _ => false,
    }
}

/// Rewrites a buffer holding vlen string pointers into one with fixed-width copies
/// (each vlen string member becomes a fixed member of the longest length seen).
/// Returns the new descriptor, buffer and element size.
unsafe fn copy_vlen(
    desc: &TypeDescriptor,
    buf: &[u8],
    size: usize,
    n: usize,
) -> (TypeDescriptor, Vec<u8>, usize) {
    // Collect every element's strings first, then lay them out.
    let TypeDescriptor::Compound(ct) = desc else {
        // A top-level vlen string read natively: turn it into fixed strings.
        let mut strings = Vec::with_capacity(n);
        for i in 0..n {
            strings.push(read_cstr_at(buf, i * size));
        }
        let w = strings.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let mut out = vec![0u8; w * n];
        for (i, s) in strings.iter().enumerate() {
            out[i * w..i * w + s.len()].copy_from_slice(s);
        }
        return (TypeDescriptor::FixedUnicode(w), out, w);
    };
    let mut fields = ct.fields.clone();
    let mut per_field: Vec<Option<Vec<Vec<u8>>>> = vec![None; fields.len()];
    for (k, f) in ct.fields.iter().enumerate() {
        if matches!(
            f.ty,
            TypeDescriptor::VarLenAscii | TypeDescriptor::VarLenUnicode
        ) {
            per_field[k] = Some(
                (0..n)
                    .map(|i| read_cstr_at(buf, i * size + f.offset))
                    .collect(),
            );
        }
    }
    // New layout: original bytes first, then one fixed area per vlen member.
    let mut new_size = size;
    let mut extra: Vec<(usize, usize)> = vec![(0, 0); fields.len()];
    for (k, strings) in per_field.iter().enumerate() {
        if let Some(s) = strings {
            let w = s.iter().map(Vec::len).max().unwrap_or(0).max(1);
            extra[k] = (new_size, w);
            fields[k].ty = TypeDescriptor::FixedUnicode(w);
            fields[k].offset = new_size;
            new_size += w;
        }
    }
    let mut out = vec![0u8; new_size * n];
    for i in 0..n {
        out[i * new_size..i * new_size + size].copy_from_slice(&buf[i * size..(i + 1) * size]);
        for (k, strings) in per_field.iter().enumerate() {
            if let Some(s) = strings {
                let (off, _) = extra[k];
                let bytes = &s[i];
                out[i * new_size + off..i * new_size + off + bytes.len()].copy_from_slice(bytes);
            }
        }
    }
    let mut nct = ct.clone();
    nct.fields = fields;
    nct.size = new_size;
    (TypeDescriptor::Compound(nct), out, new_size)
}

unsafe fn read_cstr_at(buf: &[u8], offset: usize) -> Vec<u8> {
    const W: usize = std::mem::size_of::<usize>();
    let mut p = [0u8; W];
    if offset + W > buf.len() {
        return vec![];
    }
    p.copy_from_slice(&buf[offset..offset + W]);
    let ptr = usize::from_ne_bytes(p) as *const std::os::raw::c_char;
    if ptr.is_null() {
        return vec![];
    }
    CStr::from_ptr(ptr).to_bytes().to_vec()
}

fn int_at(buf: &[u8], off: usize, size: usize, signed: bool) -> Option<i128> {
    let b = buf.get(off..off + size)?;
    Some(match (size, signed) {
        (1, true) => i8::from_ne_bytes([b[0]]) as i128,
        (1, false) => b[0] as i128,
        (2, true) => i16::from_ne_bytes([b[0], b[1]]) as i128,
        (2, false) => u16::from_ne_bytes([b[0], b[1]]) as i128,
        (4, true) => i32::from_ne_bytes(b.try_into().ok()?) as i128,
        (4, false) => u32::from_ne_bytes(b.try_into().ok()?) as i128,
        (8, true) => i64::from_ne_bytes(b.try_into().ok()?) as i128,
        (8, false) => u64::from_ne_bytes(b.try_into().ok()?) as i128,
        _ => return None,
    })
}

/// Decodes `n` native elements of type `desc` laid out every `stride` bytes from `base`.
fn decode_native(
    loc: &Location,
    desc: &TypeDescriptor,
    buf: &[u8],
    base: usize,
    stride: usize,
    n: usize,
    cache: &mut HashMap<u64, Option<String>>,
) -> Option<Values> {
    let at = |i: usize| base + i * stride;
    Some(match desc {
        TypeDescriptor::Integer(s) => Values::Int(
            (0..n)
                .map(|i| int_at(buf, at(i), *s as usize, true).map(|v| v as i64))
                .collect::<Option<_>>()?,
        ),
        TypeDescriptor::Unsigned(s) => Values::UInt(
            (0..n)
                .map(|i| int_at(buf, at(i), *s as usize, false).map(|v| v as u64))
                .collect::<Option<_>>()?,
        ),
        TypeDescriptor::Float(s) => Values::Float(
            (0..n)
                .map(|i| {
                    let b = buf.get(at(i)..at(i) + *s as usize)?;
                    match b.len() {
                        4 => Some(f32::from_ne_bytes(b.try_into().ok()?) as f64),
                        8 => Some(f64::from_ne_bytes(b.try_into().ok()?)),
                        _ => None,
                    }
                })
                .collect::<Option<_>>()?,
        ),
        TypeDescriptor::Boolean => Values::Bool(
            (0..n)
                .map(|i| buf.get(at(i)).map(|&b| b != 0))
                .collect::<Option<_>>()?,
        ),
        TypeDescriptor::Enum(e) => {
            let raw: Vec<i128> = (0..n)
                .map(|i| int_at(buf, at(i), e.size as usize, e.signed))
                .collect::<Option<_>>()?;
            if is_bool_enum(e) {
                Values::Bool(raw.iter().map(|&v| v != 0).collect())
            } else {
                Values::Enum(
                    raw.iter()
                        .map(|&v| {
                            e.members
                                .iter()
                                .find(|m| {
                                    m.value as i128 == v
                                        || (e.signed && m.value as i64 as i128 == v)
                                })
                                .map_or_else(|| v.to_string(), |m| m.name.clone())
                        })
                        .collect(),
                )
            }
        }
        TypeDescriptor::FixedAscii(w) | TypeDescriptor::FixedUnicode(w) => Values::Text(
            (0..n)
                .map(|i| {
                    let b = buf.get(at(i)..at(i) + *w)?;
                    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
                    Some(lossy(&b[..end]))
                })
                .collect::<Option<_>>()?,
        ),
        TypeDescriptor::Reference(hdf5::types::Reference::Object) => Values::Reference(
            (0..n)
                .map(|i| {
                    let b: [u8; 8] = buf.get(at(i)..at(i) + 8)?.try_into().ok()?;
                    let addr = u64::from_ne_bytes(b);
                    // SAFETY: ObjectReference1 is repr(transparent) over an 8-byte hobj_ref_t.
                    let r: ObjectReference1 =
                        unsafe { std::mem::transmute::<u64, ObjectReference1>(addr) };
                    Some(deref_path(loc, &r, cache))
                })
                .collect::<Option<_>>()?,
        ),
        TypeDescriptor::Compound(ct) => {
            let mut fields = Vec::with_capacity(ct.fields.len());
            for f in &ct.fields {
                fields.push((
                    f.name.clone(),
                    decode_native(loc, &f.ty, buf, base + f.offset, stride, n, cache)?,
                ));
            }
            Values::Compound(fields)
        }
        _ => return None,
    })
}

/// Reads attribute `name` of `loc` if present.
pub(crate) fn attr(loc: &Location, file: &Path, object: &str, name: &str) -> Result<Option<Data>> {
    if !loc
        .attr_names()
        .map_err(herr(file, object))?
        .iter()
        .any(|n| n == name)
    {
        return Ok(None);
    }
    let a = loc.attr(name).map_err(herr(file, object))?;
    read_container(&a, file, &format!("{object}@{name}")).map(Some)
}

/// Reads text attribute `name` if present and textual.
pub(crate) fn attr_str(
    loc: &Location,
    file: &Path,
    object: &str,
    name: &str,
) -> Result<Option<String>> {
    Ok(attr(loc, file, object, name)?.and_then(|d| d.as_str().map(str::to_string)))
}

/// Reads every attribute of `loc`, by name.
pub(crate) fn attrs(loc: &Location, file: &Path, object: &str) -> Result<BTreeMap<String, Data>> {
    let mut out = BTreeMap::new();
    for name in loc.attr_names().map_err(herr(file, object))? {
        let a = loc.attr(&name).map_err(herr(file, object))?;
        out.insert(
            name.clone(),
            read_container(&a, file, &format!("{object}@{name}"))?,
        );
    }
    Ok(out)
}

/// The kind of link a group member is, with the external target when external.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Link {
    Hard,
    Soft(String),
    External { file: String, object: String },
}

/// Lists the members of `group` with their link kinds, in name order.
pub(crate) fn members(group: &Group, file: &Path, object: &str) -> Result<Vec<(String, Link)>> {
    let links = group
        .links(hdf5::IndexType::Name, hdf5::IterationOrder::Increasing)
        .map_err(herr(file, object))?;
    let mut out = Vec::with_capacity(links.len());
    for (name, info) in links {
        let link = match info.link_type {
            LinkType::Hard => Link::Hard,
            LinkType::Soft => Link::Soft(link_value(group, &name).map(|v| v.0).unwrap_or_default()),
            LinkType::External => match link_value(group, &name) {
                Some((f, o)) => Link::External { file: f, object: o },
                None => Link::External {
                    file: String::new(),
                    object: String::new(),
                },
            },
        };
        out.push((name, link));
    }
    Ok(out)
}

/// Soft link target `(path, "")`, or external link target `(file, object)`.
// H5Lget_info1 with H5L_info1_t works on HDF5 1.10 (the system's) and, built with
// deprecated symbols (the `static` feature), on the bundled newer HDF5.
#[allow(deprecated)]
fn link_value(group: &Group, name: &str) -> Option<(String, String)> {
    use hdf5_sys::{h5l, h5p};
    let cname = std::ffi::CString::new(name).ok()?;
    hdf5::sync::sync(|| unsafe {
        let mut info: h5l::H5L_info1_t = std::mem::zeroed();
        if h5l::H5Lget_info1(group.id(), cname.as_ptr(), &mut info, h5p::H5P_DEFAULT) < 0 {
            return None;
        }
        let size = *info.u.val_size();
        if size == 0 || size > 1 << 20 {
            return None;
        }
        let mut buf = vec![0u8; size + 1];
        if h5l::H5Lget_val(
            group.id(),
            cname.as_ptr(),
            buf.as_mut_ptr().cast(),
            size,
            h5p::H5P_DEFAULT,
        ) < 0
        {
            return None;
        }
        match info.type_ {
            h5l::H5L_type_t::H5L_TYPE_SOFT => {
                let s = CStr::from_bytes_until_nul(&buf).ok()?;
                Some((s.to_string_lossy().into_owned(), String::new()))
            }
            h5l::H5L_type_t::H5L_TYPE_EXTERNAL => {
                let mut flags = 0u32;
                let mut fname: *const std::os::raw::c_char = std::ptr::null();
                let mut oname: *const std::os::raw::c_char = std::ptr::null();
                if h5l::H5Lunpack_elink_val(
                    buf.as_ptr().cast(),
                    size,
                    &mut flags,
                    &mut fname,
                    &mut oname,
                ) < 0
                    || fname.is_null()
                    || oname.is_null()
                {
                    return None;
                }
                Some((
                    CStr::from_ptr(fname).to_string_lossy().into_owned(),
                    CStr::from_ptr(oname).to_string_lossy().into_owned(),
                ))
            }
            _ => None,
        }
    })
}

/// Where HDF5 would find an external link's target file, relative to the linking file.
pub(crate) fn resolve_external(linking_file: &Path, target: &str) -> PathBuf {
    let t = Path::new(target);
    if t.is_absolute() {
        return t.to_path_buf();
    }
    let beside = linking_file.parent().unwrap_or(Path::new(".")).join(t);
    if beside.exists() {
        return beside;
    }
    if t.exists() {
        return t.to_path_buf();
    }
    beside
}

/// Opens the group at `path`, with a clear error when it is missing or an external link is broken.
pub(crate) fn open_group(root: &Group, file: &Path, path: &str) -> Result<Group> {
    check_path(root, file, path)?;
    root.group(path).map_err(herr(file, path))
}

/// Opens the dataset at `path`, with a clear error when it is missing or an external link is broken.
pub(crate) fn open_dataset(root: &Group, file: &Path, path: &str) -> Result<Dataset> {
    check_path(root, file, path)?;
    root.dataset(path).map_err(herr(file, path))
}

/// Walks `path` component by component: missing members and broken external links get specific errors.
pub(crate) fn check_path(root: &Group, file: &Path, path: &str) -> Result<()> {
    let mut current = root.clone();
    let mut so_far = String::new();
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    for (i, part) in parts.iter().enumerate() {
        let here = join(&so_far, part);
        if !current.link_exists(part) {
            return Err(NwbError::missing(file, &here, "object"));
        }
        if let Some((tfile, _)) = external_of(&current, part) {
            let resolved = resolve_external(file, &tfile);
            if !resolved.exists() {
                return Err(NwbError::BrokenExternalLink {
                    path: file.to_path_buf(),
                    object: here,
                    target: resolved,
                });
            }
        }
        if i + 1 < parts.len() {
            current = current.group(part).map_err(herr(file, &here))?;
        }
        so_far = here;
    }
    Ok(())
}

/// The external target of member `name` of `group`, if it is an external link.
#[allow(deprecated)]
pub(crate) fn external_of(group: &Group, name: &str) -> Option<(String, String)> {
    use hdf5_sys::{h5l, h5p};
    let cname = std::ffi::CString::new(name).ok()?;
    let is_ext = hdf5::sync::sync(|| unsafe {
        let mut info: h5l::H5L_info1_t = std::mem::zeroed();
        h5l::H5Lget_info1(group.id(), cname.as_ptr(), &mut info, h5p::H5P_DEFAULT) >= 0
            && info.type_ == h5l::H5L_type_t::H5L_TYPE_EXTERNAL
    });
    if is_ext {
        link_value(group, name)
    } else {
        None
    }
}

/// Whether the object at `path` (relative to `root`) is a group, a dataset, or absent.
pub(crate) fn kind_of(root: &Group, path: &str) -> Option<hdf5::LocationType> {
    root.loc_type_by_name(path).ok()
}
