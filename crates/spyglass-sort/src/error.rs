//! The crate's error type: what the detector and the sorter refuse, naming the input at fault.

use thiserror::Error;

/// Result alias of the crate.
pub type Result<T, E = SortError> = std::result::Result<T, E>;

/// Why a detector or the sorter refused its input.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SortError {
    /// An argument or parameter is out of its domain (names it and says why).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The argument or parameter at fault.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The recording source failed to deliver a chunk.
    #[error("recording source failed reading samples {start}..{end}: {reason}")]
    Source {
        /// First sample of the failed read.
        start: usize,
        /// One past the last sample of the failed read.
        end: usize,
        /// The source's own message.
        reason: String,
    },
}

impl SortError {
    /// A [`SortError::Invalid`] for `what`.
    pub fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            what,
            reason: reason.into(),
        }
    }
}
