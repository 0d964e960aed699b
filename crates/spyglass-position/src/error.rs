//! The crate's error type: every kind of input the position computations refuse.

use thiserror::Error;

/// Result alias used throughout the crate.
pub type Result<T, E = PositionError> = std::result::Result<T, E>;

/// Why a position computation (or a DLC file read) refused its input.
#[derive(Debug, Error)]
pub enum PositionError {
    /// A smoothing kernel refused its parameters.
    #[error(transparent)]
    Dsp(#[from] spyglass_dsp::DspError),
    /// Too few samples for a step.
    #[error("{what}: needs at least {needed} samples, got {got}")]
    TooFewSamples {
        /// The step.
        what: &'static str,
        /// Samples required.
        needed: usize,
        /// Samples given.
        got: usize,
    },
    /// Two inputs that must have equal lengths do not.
    #[error("{what}: lengths differ ({left} vs {right})")]
    LengthMismatch {
        /// The inputs.
        what: &'static str,
        /// First length.
        left: usize,
        /// Second length.
        right: usize,
    },
    /// Timestamps that are not finite and strictly increasing, or a degenerate rate.
    #[error("invalid timestamps: {0}")]
    InvalidTime(String),
    /// A parameter out of its domain.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// Parameter name as Spyglass spells it.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Every sample has its LEDs farther apart than `max_LED_separation`.
    #[error(
        "all {n} points have LEDs at least max_LED_separation = {max_separation} cm apart; \
         for single-LED data use a parameter set with a large max_LED_separation"
    )]
    AllTooSeparated {
        /// Number of samples.
        n: usize,
        /// The threshold in cm.
        max_separation: f64,
    },
    /// Fewer than two valid samples to interpolate from.
    #[error("cannot interpolate over NaNs: only {valid} of {total} samples are valid (2 needed)")]
    NothingToInterpolate {
        /// Valid samples.
        valid: usize,
        /// All samples.
        total: usize,
    },
    /// The raw position has a column count the computation does not handle.
    #[error("raw position has {0} columns: expected 2 (one LED) or at least 4 (two LEDs)")]
    UnsupportedColumns(usize),
    /// A value the algorithm has to convert to an integer is not finite (Spyglass would raise too).
    #[error("{0}")]
    NonFinite(String),
    /// DLC's jump detection found no good span (Spyglass: "No good spans found in the data").
    #[error(
        "no good spans found in the data (every sample is below the likelihood threshold or NaN)"
    )]
    NoGoodSpans,
    /// Orientation from the LED bisector is undefined (all three LEDs on one horizontal line).
    #[error("cannot determine head direction from bisector: at sample {0} all three LEDs have the same y")]
    BisectorUndefined(usize),
    /// A body part named in the parameters is not in the pose table.
    #[error("body part `{0}` is not in the pose data")]
    MissingBodyPart(String),
    /// A DLC result file could not be read or has a layout this reader does not support.
    #[error("{path}: {reason}")]
    DlcFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}
