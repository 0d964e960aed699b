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
    Db(spyglass_db::Error),

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

    /// A row the request needs is not in the database (an unknown session, filter,
    /// merge id, ...).
    #[error("{table}: no row with {key}{hint}")]
    MissingRow {
        /// The table searched (`schema.Class` or `schema`.`table`).
        table: String,
        /// The key or restriction that matched nothing, as the user would write it.
        key: String,
        /// What to do about it, starting with `; ` or ` (`, or empty.
        hint: String,
    },

    /// A parameter, argument or name is not acceptable.
    #[error("{what}: {message}")]
    BadParameter {
        /// The parameter, argument or table the value was given for.
        what: String,
        /// What is wrong with it and what is accepted.
        message: String,
    },

    /// A permission check (cautious delete, the lab-admin write guard, cautious drop)
    /// refused the operation.
    #[error("permission denied: {reason}")]
    PermissionDenied {
        /// The table the refused operation was on.
        table: String,
        /// Who asked, when known.
        user: Option<String>,
        /// Why it was refused and what would allow it.
        reason: String,
    },

    /// The state of the database or of the files forbids the request (rows depend on
    /// it, another export is active, a file changed after it was registered, ...).
    #[error("{what}: {message}")]
    Conflict {
        /// The table, file or object in that state.
        what: String,
        /// What the state is and how to resolve it.
        message: String,
    },

    /// A broken invariant of stored data or of the code (a row without its key, a
    /// value that does not serialize); names the object concerned.
    #[error("{what}: {message}")]
    Internal {
        /// The object concerned.
        what: String,
        /// What is broken.
        message: String,
    },
}

impl From<spyglass_db::Error> for Error {
    /// Engine errors stay engine errors, except permission refusals, which keep
    /// their shape across the engine's write guard.
    fn from(e: spyglass_db::Error) -> Error {
        match e {
            spyglass_db::Error::PermissionDenied {
                table,
                user,
                reason,
            } => Error::PermissionDenied {
                table,
                user,
                reason,
            },
            other => Error::Db(other),
        }
    }
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
            Error::MissingRow { .. } => "KeyError",
            Error::BadParameter { .. } => "ValueError",
            Error::PermissionDenied { .. } => "PermissionError",
            Error::Conflict { .. } => "ConflictError",
            Error::Internal { .. } => "RuntimeError",
        }
    }

    /// A missing row of `table` with `key` (no hint).
    pub fn missing(table: impl Into<String>, key: impl Into<String>) -> Error {
        Error::MissingRow {
            table: table.into(),
            key: key.into(),
            hint: String::new(),
        }
    }

    /// A bad value for the parameter or argument `what`.
    pub fn bad(what: impl Into<String>, message: impl Into<String>) -> Error {
        Error::BadParameter {
            what: what.into(),
            message: message.into(),
        }
    }

    /// A conflict with the state of `what`.
    pub fn conflict(what: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Conflict {
            what: what.into(),
            message: message.into(),
        }
    }

    /// A broken invariant of `what`.
    pub fn internal(what: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Internal {
            what: what.into(),
            message: message.into(),
        }
    }

    /// True for permission refusals (as opposed to database failures or bad input).
    pub fn is_refusal(&self) -> bool {
        match self {
            Error::PermissionDenied { .. } => true,
            Error::Table { source, .. } => source.is_refusal(),
            _ => false,
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
