//! The crate's error type: what the detectors refuse, naming the input at fault.

use thiserror::Error;

/// Result alias of the crate.
pub type Result<T, E = RippleError> = std::result::Result<T, E>;

/// Why a detector refused its input.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RippleError {
    /// An argument or parameter is out of its domain (names it and says why).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The argument or parameter at fault.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A signal kernel refused its input.
    #[error(transparent)]
    Dsp(#[from] spyglass_dsp::DspError),
}

impl RippleError {
    /// An [`RippleError::Invalid`] for `what`.
    pub fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            what,
            reason: reason.into(),
        }
    }
}
