//! The framework's one error type. Every variant names what is at fault: the
//! file, the table, the attribute or the configuration entry, so that the CLI can
//! print it as is and `InsertError` can record it.

use std::path::PathBuf;
use thiserror::Error;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the framework.
#[derive(Debug, Error)]
pub enum Error {
    /// An error of the database engine.
    #[error(transparent)]
    Db(#[from] spyglass_db::Error),

    /// An error reading or writing an NWB file.
    #[error(transparent)]
    Nwb(#[from] spyglass_nwb::NwbError),

    /// Bad input to an interval operation.
    #[error("interval list: {0}")]
    Intervals(#[from] spyglass_dsp::DspError),

    /// A file could not be read, written, copied or removed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// A YAML configuration file is malformed or names unknown tables or fields.
    #[error("{}: {message}", path.display())]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong, naming the entry.
        message: String,
    },

    /// An NWB file lacks something ingestion requires, or holds contradictory content.
    #[error("{}: {message}", path.display())]
    BadFile {
        /// The NWB file.
        path: PathBuf,
        /// What is missing or wrong, naming the object.
        message: String,
    },

    /// Ingesting one table failed; wraps the cause.
    #[error("{table}: {source}")]
    Table {
        /// The table being filled (`schema.Class`).
        table: String,
        /// The cause.
        #[source]
        source: Box<Error>,
    },

    /// A row from the file differs from the row already in the database.
    #[error("{table}: an existing entry with {key} differs in `{attribute}`: the file has {new}, the database has {existing}; correct the file (or set the value in the session's <stem>_spyglass_config.yaml), correct the stored row, or pass --accept-divergence to keep the database's value")]
    Divergence {
        /// The table.
        table: String,
        /// The primary key of the row.
        key: String,
        /// The differing attribute.
        attribute: String,
        /// The value from the file or configuration.
        new: String,
        /// The value in the database.
        existing: String,
    },

    /// A request that cannot be satisfied (unknown session, file not found, ...).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// Wraps an error as the failure of ingesting `table`.
    pub fn in_table(self, table: &str) -> Error {
        match self {
            Error::Table { .. } => self,
            other => Error::Table {
                table: table.to_string(),
                source: Box::new(other),
            },
        }
    }

    /// The table an ingestion error is attributed to, if any.
    pub fn table(&self) -> Option<&str> {
        match self {
            Error::Table { table, .. } => Some(table),
            Error::Divergence { table, .. } => Some(table),
            _ => None,
        }
    }

    /// A short name of the error kind, as recorded in `InsertError.error_type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Db(_) => "DatabaseError",
            Error::Nwb(_) => "NwbError",
            Error::Intervals(_) => "IntervalError",
            Error::Io { .. } => "IOError",
            Error::Config { .. } => "ConfigError",
            Error::BadFile { .. } => "BadFileError",
            Error::Table { source, .. } => source.kind(),
            Error::Divergence { .. } => "DivergenceError",
            Error::Invalid(_) => "ValueError",
        }
    }

    /// An I/O error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
