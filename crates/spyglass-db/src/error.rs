//! The one error type of the engine. Every variant names what is at fault (table,
//! attribute, line of a definition, restriction) so that callers can show it as is.

use thiserror::Error;

/// Result alias used throughout the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the engine.
#[derive(Debug, Error)]
pub enum Error {
    /// A table definition could not be parsed or compiled.
    #[error("definition of {table}: {message}")]
    Definition {
        /// The table being declared.
        table: String,
        /// What is wrong, naming the line or attribute.
        message: String,
    },

    /// A type string is not a DataJoint 0.14 type.
    #[error("unsupported attribute type `{0}`")]
    BadType(String),

    /// A class name or table name does not follow DataJoint's naming rules.
    #[error("invalid name `{name}`: {reason}")]
    BadName {
        /// The name given.
        name: String,
        /// The rule it breaks.
        reason: String,
    },

    /// A table was named that does not exist.
    #[error("unknown table `{0}`")]
    UnknownTable(String),

    /// A parent named in a foreign key does not exist or is ambiguous.
    #[error("definition of {table}: unknown parent `{parent}`{hint}")]
    UnknownParent {
        /// The table being declared.
        table: String,
        /// The parent as written in the definition.
        parent: String,
        /// Candidates or advice, starting with a separator, or empty.
        hint: String,
    },

    /// An attribute was named that the table or query does not have.
    #[error("unknown attribute `{attribute}` in {context}")]
    UnknownAttribute {
        /// The attribute named.
        attribute: String,
        /// The table or query it was looked up in.
        context: String,
    },

    /// A table was declared again with a different definition.
    #[error("table {table} already exists with a different definition:\n{diff}")]
    DefinitionMismatch {
        /// The table.
        table: String,
        /// The differences, one per line.
        diff: String,
    },

    /// A value does not fit the attribute it was given for.
    #[error("{table}: bad value for `{attribute}` ({ty}): {message}")]
    BadValue {
        /// The table.
        table: String,
        /// The attribute the value was given for.
        attribute: String,
        /// The attribute's DataJoint type.
        ty: String,
        /// Why the value does not fit.
        message: String,
    },

    /// A required attribute is missing from an inserted row.
    #[error("{table}: row {row} is missing required attribute `{attribute}`")]
    MissingAttribute {
        /// The table.
        table: String,
        /// The missing attribute.
        attribute: String,
        /// The index of the row in the insert.
        row: usize,
    },

    /// An insert would duplicate a primary or unique key.
    #[error("{table}: duplicate entry {key}")]
    Duplicate {
        /// The table.
        table: String,
        /// The duplicated key.
        key: String,
    },

    /// An insert or update refers to a parent row that does not exist,
    /// or a delete would orphan a child row.
    #[error("{table}: foreign key violation: {message}")]
    ForeignKey {
        /// The table.
        table: String,
        /// The backend's account of the violation.
        message: String,
    },

    /// A query operator was used in a way the algebra does not allow.
    #[error("query: {0}")]
    Query(String),

    /// fetch1 found zero or several rows.
    #[error("fetch1 expected exactly one row from {table}, found {count}")]
    NotOne {
        /// The table or query.
        table: String,
        /// How many rows matched.
        count: usize,
    },

    /// A fetched value could not be turned into the requested Rust type.
    #[error("cannot convert fetched rows: {0}")]
    Deserialize(String),

    /// A database URL or configuration value is invalid.
    #[error("configuration: {0}")]
    Config(String),

    /// A blob could not be packed or unpacked.
    #[error("blob in `{attribute}`: {source}")]
    Blob {
        /// The attribute holding the blob.
        attribute: String,
        /// The blob codec's error.
        #[source]
        source: spyglass_blob::BlobError,
    },

    /// An operation was refused (e.g. inserting into a computed table outside make).
    #[error("{0}")]
    Refused(String),

    /// A permission check (a write guard) refused the operation.
    #[error("permission denied: {reason}")]
    PermissionDenied {
        /// The table the refused operation was on.
        table: String,
        /// Who asked, when known.
        user: Option<String>,
        /// Why it was refused and what would allow it.
        reason: String,
    },

    /// An error reported by the database backend.
    #[error("database error: {message}{}", sql.as_ref().map(|s| format!("\n  in SQL: {s}")).unwrap_or_default())]
    Backend {
        /// The backend's message.
        message: String,
        /// The statement that failed, when known.
        sql: Option<String>,
    },

    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// A backend error without SQL context.
    pub fn backend(message: impl Into<String>) -> Self {
        Error::Backend {
            message: message.into(),
            sql: None,
        }
    }

    /// A definition error for `table`.
    pub fn definition(table: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Definition {
            table: table.into(),
            message: message.into(),
        }
    }
}
