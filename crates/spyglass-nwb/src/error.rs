//! The crate's single error type: every failure names the file and, where known,
//! the HDF5 path of the object at fault.

use std::path::{Path, PathBuf};

/// Result alias used throughout the crate.
pub type Result<T, E = NwbError> = std::result::Result<T, E>;

/// Everything that can go wrong reading or writing an NWB file.
#[derive(Debug, thiserror::Error)]
pub enum NwbError {
    /// The file could not be read or written at the operating-system level.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file is not an HDF5 file (no HDF5 signature).
    #[error("{}: not an HDF5 file (no HDF5 signature found)", path.display())]
    NotHdf5 {
        /// The file concerned.
        path: PathBuf,
    },
    /// The HDF5 library reported an error for an object.
    #[error("{}: HDF5 error at `{object}`: {message}", path.display())]
    Hdf5 {
        /// The file concerned.
        path: PathBuf,
        /// HDF5 path of the object (or `/` for the file itself).
        object: String,
        /// The library's message.
        message: String,
    },
    /// The file is HDF5 but not NWB (root attributes or required members missing).
    #[error("{}: not an NWB file: {reason}", path.display())]
    NotNwb {
        /// The file concerned.
        path: PathBuf,
        /// Why it was refused.
        reason: String,
    },
    /// A required group, dataset or attribute is absent.
    #[error("{}: missing {what} `{object}`", path.display())]
    Missing {
        /// The file concerned.
        path: PathBuf,
        /// HDF5 path of the missing object.
        object: String,
        /// What kind of thing is missing (group, dataset, attribute).
        what: &'static str,
    },
    /// An object exists but has the wrong shape, type or content.
    #[error("{}: `{object}`: {message}", path.display())]
    Invalid {
        /// The file concerned.
        path: PathBuf,
        /// HDF5 path of the object.
        object: String,
        /// What is wrong with it.
        message: String,
    },
    /// An external link points to a file that does not exist (it moved or was deleted).
    #[error("{}: `{object}` is an external link into `{target}`, which does not exist (moved or deleted?)", path.display())]
    BrokenExternalLink {
        /// The file holding the link.
        path: PathBuf,
        /// HDF5 path of the link.
        object: String,
        /// The link's target file as resolved.
        target: PathBuf,
    },
    /// No object carries the requested `object_id`.
    #[error("{}: no object has object_id `{id}`", path.display())]
    UnknownObjectId {
        /// The file concerned.
        path: PathBuf,
        /// The requested id.
        id: String,
    },
    /// A caller-supplied argument is inconsistent (e.g. a channel index out of range).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl NwbError {
    /// Wraps an HDF5 library error for `object` in `path`.
    pub fn hdf5(path: &Path, object: &str, err: impl std::fmt::Display) -> Self {
        NwbError::Hdf5 {
            path: path.to_path_buf(),
            object: object.to_string(),
            message: err.to_string(),
        }
    }

    /// An `Invalid` error for `object` in `path`.
    pub fn invalid(path: &Path, object: &str, message: impl Into<String>) -> Self {
        NwbError::Invalid {
            path: path.to_path_buf(),
            object: object.to_string(),
            message: message.into(),
        }
    }

    /// A `Missing` error for `object` in `path`.
    pub fn missing(path: &Path, object: &str, what: &'static str) -> Self {
        NwbError::Missing {
            path: path.to_path_buf(),
            object: object.to_string(),
            what,
        }
    }
}
