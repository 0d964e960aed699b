//! HDF5 compression filters that labs use beyond gzip: what this build decodes, the
//! decoders themselves, and the check that a dataset can be read at all.
//!
//! - LZF (32000) and Blosc (32001) are registered with HDF5 by `hdf5-metno` (its
//!   `lzf` and `blosc` features, compiled into the binary).
//! - Bitshuffle (32008, plain or with LZ4 blocks) and Zstd (32015) are decoded here,
//!   in Rust, and registered with HDF5 as decode-only filters ([`register`]), so
//!   every read path (metadata, timestamps, hyperslabs) sees them without
//!   `HDF5_PLUGIN_PATH`. The direct chunk path of [`crate::raw`] calls the same
//!   decoders in parallel.
//! - [`check_dataset`] names a filter this build cannot decode (id and name) and the
//!   dataset, so ingestion refuses the file instead of a pipeline failing later.

use std::ffi::{c_char, c_uint, c_void, CStr};
use std::path::Path;
use std::sync::LazyLock;

use hdf5::Dataset;
use hdf5_sys::h5z;

use crate::error::{NwbError, Result};

/// HDF5 filter id of LZF.
pub const LZF: i32 = 32000;
/// HDF5 filter id of Blosc.
pub const BLOSC: i32 = 32001;
/// HDF5 filter id of Bitshuffle.
pub const BITSHUFFLE: i32 = 32008;
/// HDF5 filter id of Zstandard.
pub const ZSTD: i32 = 32015;

/// Filters this build decodes, with their names (for messages and the README).
pub const SUPPORTED: &[(i32, &str)] = &[
    (1, "deflate (gzip)"),
    (2, "shuffle"),
    (3, "fletcher32"),
    (LZF, "lzf"),
    (BLOSC, "blosc"),
    (BITSHUFFLE, "bitshuffle"),
    (ZSTD, "zstd"),
];

/// Registers the decode-only filters implemented here (idempotent; errors are kept and returned).
pub fn register() -> Result<()> {
    static DONE: LazyLock<std::result::Result<(), String>> = LazyLock::new(|| {
        // the library must be initialised (hdf5-metno registers LZF and Blosc then)
        hdf5::sync::sync(|| unsafe {
            for cls in [&ZSTD_CLASS, &BITSHUFFLE_CLASS] {
                if h5z::H5Zfilter_avail(cls.id) > 0 {
                    continue; // a plugin of the same id was loaded first
                }
                if h5z::H5Zregister((&cls.0 as *const h5z::H5Z_class2_t).cast()) < 0 {
                    return Err(format!("cannot register HDF5 filter {}", cls.id));
                }
            }
            Ok(())
        })
    });
    DONE.clone()
        .map_err(|m| NwbError::InvalidArgument(format!("HDF5 filters: {m}")))
}

struct SyncClass(h5z::H5Z_class2_t);
unsafe impl Sync for SyncClass {}
impl std::ops::Deref for SyncClass {
    type Target = h5z::H5Z_class2_t;
    fn deref(&self) -> &h5z::H5Z_class2_t {
        &self.0
    }
}

static ZSTD_CLASS: SyncClass = SyncClass(h5z::H5Z_class2_t {
    version: h5z::H5Z_CLASS_T_VERS as _,
    id: ZSTD,
    encoder_present: 0,
    decoder_present: 1,
    name: c"zstd (spyglass-nwb, decode only)".as_ptr(),
    can_apply: None,
    set_local: None,
    filter: Some(zstd_callback),
});

static BITSHUFFLE_CLASS: SyncClass = SyncClass(h5z::H5Z_class2_t {
    version: h5z::H5Z_CLASS_T_VERS as _,
    id: BITSHUFFLE,
    encoder_present: 0,
    decoder_present: 1,
    name: c"bitshuffle (spyglass-nwb, decode only)".as_ptr(),
    can_apply: None,
    set_local: None,
    filter: Some(bitshuffle_callback),
});

/// Replaces HDF5's buffer by `out` (malloc'ed, as the library frees it); returns its length.
unsafe fn hand_back(out: &[u8], buf_size: *mut usize, buf: *mut *mut c_void) -> usize {
    let p = libc::malloc(out.len().max(1));
    if p.is_null() {
        return 0;
    }
    std::ptr::copy_nonoverlapping(out.as_ptr(), p.cast::<u8>(), out.len());
    libc::free(*buf);
    *buf = p;
    *buf_size = out.len().max(1);
    out.len()
}

unsafe extern "C" fn zstd_callback(
    flags: c_uint,
    _cd_nelmts: usize,
    _cd_values: *const c_uint,
    nbytes: usize,
    buf_size: *mut usize,
    buf: *mut *mut c_void,
) -> usize {
    if flags & h5z::H5Z_FLAG_REVERSE == 0 {
        return 0; // decode only
    }
    let input = std::slice::from_raw_parts((*buf).cast::<u8>(), nbytes);
    match zstd_decode(input, *buf_size) {
        Ok(out) => hand_back(&out, buf_size, buf),
        Err(_) => 0,
    }
}

unsafe extern "C" fn bitshuffle_callback(
    flags: c_uint,
    cd_nelmts: usize,
    cd_values: *const c_uint,
    nbytes: usize,
    buf_size: *mut usize,
    buf: *mut *mut c_void,
) -> usize {
    if flags & h5z::H5Z_FLAG_REVERSE == 0 || cd_values.is_null() {
        return 0;
    }
    let cd = std::slice::from_raw_parts(cd_values, cd_nelmts);
    let input = std::slice::from_raw_parts((*buf).cast::<u8>(), nbytes);
    match BitshuffleParams::from_cd_values(cd).and_then(|p| bitshuffle_decode(input, &p)) {
        Ok(out) => hand_back(&out, buf_size, buf),
        Err(_) => 0,
    }
}

/// Decodes one Zstandard-compressed chunk (a zstd frame), at most `limit`·4 bytes.
pub fn zstd_decode(input: &[u8], limit: usize) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read;
    let mut dec = ruzstd::decoding::StreamingDecoder::new(input)
        .map_err(|e| format!("corrupt zstd frame: {e}"))?;
    let mut out = Vec::with_capacity(limit.min(1 << 28));
    let cap = (limit.max(1 << 16) as u64).saturating_mul(4);
    (&mut dec)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| format!("corrupt zstd frame: {e}"))?;
    Ok(out)
}

/// Decodes one LZF-compressed chunk of `expected` bytes.
pub fn lzf_decode(input: &[u8], expected: usize) -> std::result::Result<Vec<u8>, String> {
    lzf::decompress(input, expected).map_err(|e| format!("corrupt LZF data: {e:?}"))
}

/// Parameters of a Bitshuffle-filtered dataset (its filter's client data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BitshuffleParams {
    /// Bytes per element (`cd_values[2]`).
    pub elem_size: usize,
    /// Elements per block (`cd_values[3]`, 0 = the library default).
    pub block_size: usize,
    /// Compression inside blocks: 0 none, 2 LZ4, 3 zstd (`cd_values[4]`).
    pub compression: u32,
}

impl BitshuffleParams {
    /// Reads the filter's client data values.
    pub fn from_cd_values(cd: &[c_uint]) -> std::result::Result<Self, String> {
        if cd.len() < 3 || cd[2] == 0 {
            return Err("bitshuffle: client data lack the element size".into());
        }
        Ok(BitshuffleParams {
            elem_size: cd[2] as usize,
            block_size: cd.get(3).copied().unwrap_or(0) as usize,
            compression: cd.get(4).copied().unwrap_or(0),
        })
    }
}

const BSHUF_BLOCKED_MULT: usize = 8;

fn bshuf_default_block_size(elem_size: usize) -> usize {
    let b = 8192 / elem_size.max(1);
    ((b / BSHUF_BLOCKED_MULT) * BSHUF_BLOCKED_MULT).max(128)
}

/// Decodes one Bitshuffle chunk (the bitshuffle library's HDF5 filter layout).
pub fn bitshuffle_decode(
    input: &[u8],
    p: &BitshuffleParams,
) -> std::result::Result<Vec<u8>, String> {
    let es = p.elem_size;
    let (total_bytes, mut block, body) = match p.compression {
        0 => (input.len(), p.block_size, input),
        2 | 3 => {
            if input.len() < 12 {
                return Err("bitshuffle: chunk shorter than its header".into());
            }
            let total = u64::from_be_bytes(input[..8].try_into().unwrap_or_default()) as usize;
            let block_bytes =
                u32::from_be_bytes(input[8..12].try_into().unwrap_or_default()) as usize;
            (total, block_bytes / es, &input[12..])
        }
        c => return Err(format!("bitshuffle: unknown compression {c}")),
    };
    if total_bytes % es != 0 || total_bytes > (1usize << 34) {
        return Err(format!(
            "bitshuffle: {total_bytes} bytes is not a whole number of {es}-byte elements"
        ));
    }
    if block == 0 {
        block = bshuf_default_block_size(es);
    }
    if block % BSHUF_BLOCKED_MULT != 0 {
        return Err(format!(
            "bitshuffle: block size {block} is not a multiple of 8"
        ));
    }
    let size = total_bytes / es;
    let mut out = vec![0u8; total_bytes];
    let mut pos = 0usize; // read position in body
    let mut done = 0usize; // elements written
    let mut tmp = Vec::new();
    let mut run_block =
        |n: usize, pos: &mut usize, done: &mut usize| -> std::result::Result<(), String> {
            let nbytes = n * es;
            let src: &[u8] = match p.compression {
                0 => {
                    let s = body
                        .get(*pos..*pos + nbytes)
                        .ok_or("bitshuffle: truncated chunk")?;
                    *pos += nbytes;
                    s
                }
                _ => {
                    let hdr = body
                        .get(*pos..*pos + 4)
                        .ok_or("bitshuffle: truncated chunk")?;
                    let clen = u32::from_be_bytes(hdr.try_into().unwrap_or_default()) as usize;
                    let data = body
                        .get(*pos + 4..*pos + 4 + clen)
                        .ok_or("bitshuffle: truncated chunk")?;
                    *pos += 4 + clen;
                    tmp.clear();
                    tmp.resize(nbytes, 0);
                    if p.compression == 2 {
                        let got = lz4_flex::block::decompress_into(data, &mut tmp)
                            .map_err(|e| format!("bitshuffle: corrupt LZ4 block: {e}"))?;
                        if got != nbytes {
                            return Err("bitshuffle: LZ4 block of the wrong size".into());
                        }
                    } else {
                        let d = zstd_decode(data, nbytes)?;
                        if d.len() != nbytes {
                            return Err("bitshuffle: zstd block of the wrong size".into());
                        }
                        tmp.copy_from_slice(&d);
                    }
                    &tmp
                }
            };
            bit_unshuffle(src, &mut out[*done * es..(*done + n) * es], n, es);
            *done += n;
            Ok(())
        };
    for _ in 0..size / block {
        run_block(block, &mut pos, &mut done)?;
    }
    let last = (size % block) / BSHUF_BLOCKED_MULT * BSHUF_BLOCKED_MULT;
    if last > 0 {
        run_block(last, &mut pos, &mut done)?;
    }
    // the last size % 8 elements are stored as they are
    let left = (size - done) * es;
    if left > 0 {
        let src = body
            .get(pos..pos + left)
            .ok_or("bitshuffle: truncated chunk")?;
        out[done * es..].copy_from_slice(src);
    }
    Ok(out)
}

/// Inverse of bitshuffle's bit transpose of `n` elements (n a multiple of 8) of `es` bytes:
/// `src` holds, for each bit `b` of an element (byte `b / 8`, bit `b % 8`, least
/// significant first), that bit of every element, packed eight elements per byte.
fn bit_unshuffle(src: &[u8], dst: &mut [u8], n: usize, es: usize) {
    dst.fill(0);
    let row = n / 8; // bytes per bit plane
    for byte in 0..es {
        for bit in 0..8 {
            let plane = &src[(byte * 8 + bit) * row..(byte * 8 + bit + 1) * row];
            for (j, &v) in plane.iter().enumerate() {
                if v == 0 {
                    continue;
                }
                for k in 0..8 {
                    if v >> k & 1 == 1 {
                        dst[(j * 8 + k) * es + byte] |= 1 << bit;
                    }
                }
            }
        }
    }
}

/// One filter of a dataset's pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterInfo {
    /// HDF5 filter id.
    pub id: i32,
    /// The name stored with the filter (may be empty).
    pub name: String,
    /// Its client data values.
    pub cd_values: Vec<u32>,
}

/// The filter pipeline of a dataset (empty for contiguous or unfiltered data).
pub fn pipeline(ds: &Dataset) -> Vec<FilterInfo> {
    use hdf5_sys::{h5d, h5p};
    hdf5::sync::sync(|| unsafe {
        let dcpl = h5d::H5Dget_create_plist(ds.id());
        if dcpl < 0 {
            return vec![];
        }
        let mut out = vec![];
        let nf = h5p::H5Pget_nfilters(dcpl);
        for i in 0..nf.max(0) as u32 {
            let mut flags = 0u32;
            let mut cd = [0 as c_uint; 16];
            let mut nelm: usize = cd.len();
            let mut name = [0 as c_char; 256];
            let mut cfg = 0u32;
            let id = h5p::H5Pget_filter2(
                dcpl,
                i,
                &mut flags,
                &mut nelm,
                cd.as_mut_ptr(),
                name.len(),
                name.as_mut_ptr(),
                &mut cfg,
            );
            let name = CStr::from_ptr(name.as_ptr()).to_string_lossy().into_owned();
            out.push(FilterInfo {
                id,
                name,
                cd_values: cd[..nelm.min(cd.len())].to_vec(),
            });
        }
        h5p::H5Pclose(dcpl);
        out
    })
}

/// A short name for a filter id (the stored name when we do not know it).
pub fn filter_name(f: &FilterInfo) -> String {
    SUPPORTED
        .iter()
        .find(|(id, _)| *id == f.id)
        .map(|(_, n)| n.to_string())
        .or_else(|| {
            let known = [
                (4, "szip"),
                (5, "nbit"),
                (6, "scaleoffset"),
                (307, "bzip2"),
                (32004, "lz4"),
                (32013, "zfp"),
                (32017, "sz"),
                (32026, "blosc2"),
            ];
            known
                .iter()
                .find(|(id, _)| *id == f.id)
                .map(|(_, n)| n.to_string())
        })
        .unwrap_or_else(|| {
            if f.name.is_empty() {
                "unnamed".into()
            } else {
                f.name.clone()
            }
        })
}

/// Errors unless every filter of the dataset's pipeline can be decoded by this build.
pub fn check_dataset(ds: &Dataset, file: &Path, object: &str) -> Result<()> {
    register()?;
    for f in pipeline(ds) {
        let avail = hdf5::sync::sync(|| unsafe {
            if h5z::H5Zfilter_avail(f.id) <= 0 {
                return false;
            }
            let mut cfg: c_uint = 0;
            h5z::H5Zget_filter_info(f.id, &mut cfg) >= 0
                && cfg & h5z::H5Z_FILTER_CONFIG_DECODE_ENABLED != 0
        });
        if !avail {
            let names: Vec<String> = SUPPORTED
                .iter()
                .map(|(id, n)| format!("{n} ({id})"))
                .collect();
            return Err(NwbError::invalid(
                file,
                object,
                format!(
                    "compressed with HDF5 filter {} ({}), which this build cannot decode; supported filters: {}",
                    f.id,
                    filter_name(&f),
                    names.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bitshuffle of eight 2-byte elements, by the definition (bit planes, LSB first).
    fn bit_shuffle(src: &[u8], n: usize, es: usize) -> Vec<u8> {
        let row = n / 8;
        let mut out = vec![0u8; n * es];
        for byte in 0..es {
            for bit in 0..8 {
                for i in 0..n {
                    if src[i * es + byte] >> bit & 1 == 1 {
                        out[(byte * 8 + bit) * row + i / 8] |= 1 << (i % 8);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn bit_unshuffle_inverts_the_transpose() {
        let vals: Vec<u8> = (0..48u32).map(|i| (i * 37 + 11) as u8).collect();
        let s = bit_shuffle(&vals, 24, 2);
        let mut back = vec![0u8; 48];
        bit_unshuffle(&s, &mut back, 24, 2);
        assert_eq!(back, vals);
    }

    #[test]
    fn uncompressed_bitshuffle_keeps_the_leftover_elements() {
        // 10 elements of 2 bytes, block 8: one block of 8, then 2 raw elements.
        let vals: Vec<u8> = (0..20u8).collect();
        let mut chunk = bit_shuffle(&vals[..16], 8, 2);
        chunk.extend_from_slice(&vals[16..]);
        let p = BitshuffleParams {
            elem_size: 2,
            block_size: 8,
            compression: 0,
        };
        assert_eq!(bitshuffle_decode(&chunk, &p).unwrap(), vals);
    }

    #[test]
    fn corrupt_input_is_an_error() {
        assert!(zstd_decode(&[1, 2, 3], 10).is_err());
        assert!(lzf_decode(&[255, 1], 10).is_err());
        let p = BitshuffleParams {
            elem_size: 2,
            block_size: 0,
            compression: 2,
        };
        assert!(bitshuffle_decode(&[0, 0, 0], &p).is_err());
    }
}

/// What the linked HDF5 library offers: its version and, per filter this crate knows
/// (`SUPPORTED`), whether it is available for reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// HDF5 library version `major.minor.release`.
    pub hdf5_version: String,
    /// (filter id, name, available).
    pub filters: Vec<(i32, &'static str, bool)>,
}

/// Reports the HDF5 version and which filters are available (registers ours first).
pub fn capabilities() -> Capabilities {
    let _ = register();
    let (a, b, c) = hdf5::library_version();
    let filters = SUPPORTED
        .iter()
        .map(|&(id, name)| {
            // SAFETY: a query of the library's filter table, under the library lock.
            let ok = hdf5::sync::sync(|| unsafe { h5z::H5Zfilter_avail(id) > 0 });
            (id, name, ok)
        })
        .collect();
    Capabilities {
        hdf5_version: format!("{a}.{b}.{c}"),
        filters,
    }
}
