//! DataJoint's blob codec, byte-compatible with datajoint-python 0.14.
//!
//! Owns the serialised form of `longblob` attributes: [`pack`] turns a [`Value`]
//! into exactly the bytes `datajoint.blob.pack` writes (MATLAB-compatible `mYm`
//! unless a Python-only feature appears, then `dj0`; zlib with the `ZL123`
//! header when that makes the blob shorter), and [`unpack`] reads any blob
//! datajoint-python or datajoint-matlab wrote, rejecting damaged input with a
//! [`BlobError`] instead of panicking. Arrays keep DataJoint's column-major
//! element order; [`Array::from_row_major`] and [`Array::to_row_major`] convert.
//!
//! Database access, key hashing and external storage belong to the engine, not here.

mod array;
mod compound;
mod decode;
mod encode;
mod error;
mod json;
mod value;

pub use array::{Array, ArrayData, Dtype, Element, TimeUnit};
pub use compound::{CellArray, RecArray, StructArray};
pub use decode::{is_blob, unpack, unpack_with, UnpackOptions, MAX_DEPTH};
pub use encode::{compress, needs_dj0, pack, pack_uncompressed};
pub use error::BlobError;
pub use json::{datetime64_text, from_json};
pub use value::{BigInt, Value};
