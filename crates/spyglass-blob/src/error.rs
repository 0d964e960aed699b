//! The crate's one error type: everything that can be wrong with a blob or with a
//! value handed to a constructor. Offsets count bytes from the start of the
//! uncompressed blob (the `mYm\0` / `dj0\0` header included).

/// Why a blob could not be decoded, or why a value could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    /// The input ended before a field could be read.
    #[error("truncated blob: {what} at offset {offset} needs {needed} bytes but only {available} remain")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Where it starts.
        offset: usize,
        /// How many bytes it needs.
        needed: usize,
        /// How many bytes were left.
        available: usize,
    },
    /// The blob does not start with `mYm\0` or `dj0\0` (after the optional `ZL123\0` header).
    #[error("not a DataJoint blob: protocol header {found:?} (expected \"mYm\" or \"dj0\")")]
    BadProtocol {
        /// The header text found (lossy, at most 16 bytes).
        found: String,
    },
    /// An item starts with a code byte that DataJoint does not define.
    #[error("unknown data structure code 0x{code:02x} ({printable:?}) at offset {offset}")]
    UnknownCode {
        /// The code byte.
        code: u8,
        /// The code byte as a character, for the message.
        printable: char,
        /// Where the item starts.
        offset: usize,
    },
    /// MATLAB sparse arrays (`P`) are not supported (nor by datajoint-python).
    #[error("sparse array (code 'P') at offset {offset} is not supported")]
    Sparse {
        /// Where the item starts.
        offset: usize,
    },
    /// An `A` item uses a class id that has no array representation.
    #[error("unsupported array class id {class_id} at offset {offset}")]
    UnsupportedClass {
        /// The MATLAB / numpy class id.
        class_id: u32,
        /// Where the class id is stored.
        offset: usize,
    },
    /// A count or length is larger than the bytes that could possibly back it.
    #[error("bogus {what} {value} at offset {offset}: only {available} bytes remain")]
    BadLength {
        /// What the number counts.
        what: &'static str,
        /// The value read.
        value: u64,
        /// Where it is stored.
        offset: usize,
        /// Bytes left in the enclosing item.
        available: usize,
    },
    /// A length-prefixed item did not use exactly its declared length.
    #[error("item at offset {offset} declared {declared} bytes but its content used {used}")]
    ItemLength {
        /// Where the item starts.
        offset: usize,
        /// The declared length.
        declared: usize,
        /// The bytes actually consumed.
        used: usize,
    },
    /// Bytes are left after the top-level item.
    #[error("{count} trailing bytes after the top-level item (from offset {offset})")]
    Trailing {
        /// Where the garbage starts.
        offset: usize,
        /// How many bytes follow.
        count: usize,
    },
    /// The zlib stream of a `ZL123` blob is damaged.
    #[error("bad zlib stream in compressed blob: {0}")]
    Zlib(String),
    /// The decompressed size differs from the size in the `ZL123` header.
    #[error(
        "compressed blob header says {expected} bytes but the stream decompresses to {actual}"
    )]
    DecompressedLength {
        /// The length in the header.
        expected: u64,
        /// The length produced (or a lower bound if larger).
        actual: u64,
    },
    /// A field holds a value that cannot be represented (bad UTF-8, bad date, ...).
    #[error("invalid {what} at offset {offset}: {detail}")]
    Invalid {
        /// What was being decoded.
        what: &'static str,
        /// Where it is stored.
        offset: usize,
        /// What is wrong with it.
        detail: String,
    },
    /// Containers are nested deeper than the decoder allows.
    #[error("nesting deeper than {limit} levels at offset {offset}")]
    TooDeep {
        /// The depth limit.
        limit: usize,
        /// Where the too-deep item starts.
        offset: usize,
    },
    /// A constructor was given inconsistent parts (shape vs. data length, field names, ...).
    #[error("invalid value: {0}")]
    InvalidValue(String),
}
