//! The one error type of spyglass-kilosort: every variant names the file or array at fault.

use std::path::PathBuf;

/// Why a Kilosort / phy folder could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KilosortError {
    /// The folder lacks core files (all of them are listed).
    #[error("Kilosort folder {dir} lacks core files: {}", missing.join(", "))]
    MissingFiles {
        /// The folder.
        dir: PathBuf,
        /// The missing file names.
        missing: Vec<String>,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A `.npy` file is malformed or of an unsupported dtype.
    #[error("{path}: {detail}")]
    Npy {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A text file (params.py, a label table, phy.log) is malformed.
    #[error("{path} line {line}: {detail}")]
    Text {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        detail: String,
    },
    /// Arrays are inconsistent with each other or hold impossible values.
    #[error("{what}: {detail}")]
    Invalid {
        /// The array or file at fault.
        what: String,
        /// What is wrong.
        detail: String,
    },
}
