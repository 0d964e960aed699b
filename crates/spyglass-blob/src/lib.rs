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
//!
//! ```
//! use spyglass_blob::{pack, unpack, Value};
//!
//! let v = Value::dict([
//!     ("valid_times", Value::intervals(&[[0.0, 10.0], [20.0, 30.0]])),
//!     ("interval_list_name", Value::from("raw data valid times")),
//! ]);
//! let bytes = pack(&v);
//! assert!(bytes.starts_with(b"dj0\0")); // a dict is a Python-only feature
//! let back = unpack(&bytes).unwrap();
//! assert_eq!(back, v);
//! assert_eq!(back.get("valid_times").unwrap().as_intervals().unwrap()[1], [20.0, 30.0]);
//! assert_eq!(back.to_json()["valid_times"], serde_json::json!([[0.0, 10.0], [20.0, 30.0]]));
//! ```

#![warn(missing_docs)]

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
