//! The crate's error type: every kind of bad input the kernels reject.

use thiserror::Error;

/// Result alias used throughout the crate.
pub type Result<T, E = DspError> = std::result::Result<T, E>;

/// Why a DSP kernel refused its input.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DspError {
    /// The signal (or timestamp vector) has no samples.
    #[error("empty signal: at least one sample is required")]
    EmptySignal,
    /// The filter has no coefficients.
    #[error("empty filter: at least one coefficient is required")]
    EmptyFilter,
    /// A filter coefficient is NaN or infinite.
    #[error("filter coefficient {index} is not finite")]
    NonFiniteCoefficient {
        /// Position of the offending coefficient.
        index: usize,
    },
    /// The signal is shorter than the filter.
    #[error("signal of {len} samples is shorter than the filter ({ntaps} taps)")]
    SignalShorterThanFilter {
        /// Number of samples in the signal.
        len: usize,
        /// Number of filter taps.
        ntaps: usize,
    },
    /// The decimation factor is zero.
    #[error("decimation factor must be at least 1")]
    ZeroDecimation,
    /// A sampling rate is zero, negative, NaN or infinite.
    #[error("invalid sampling rate {0}: must be finite and > 0")]
    InvalidSamplingRate(f64),
    /// A transition width is zero, negative, NaN or infinite.
    #[error("invalid transition width {0} Hz: must be finite and > 0")]
    InvalidTransitionWidth(f64),
    /// A tap count is even or zero where an odd count is required.
    #[error("invalid number of taps {0}: must be odd and >= 1")]
    InvalidTapCount(usize),
    /// Band edges or desired gains do not describe a valid filter.
    #[error("invalid band edges: {0}")]
    InvalidBandEdges(String),
    /// A scalar parameter is out of its domain.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// Parameter name as in the public signature.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A flat channel-major buffer does not split into the given channel count.
    #[error("buffer of {len} samples does not split into {n_channels} equal channels")]
    ChannelLayout {
        /// Length of the flat buffer.
        len: usize,
        /// Requested number of channels.
        n_channels: usize,
    },
    /// An output buffer has the wrong length.
    #[error("output buffer holds {got} samples, expected {expected}")]
    OutputLength {
        /// Length provided.
        got: usize,
        /// Length required.
        expected: usize,
    },
    /// An interval has a NaN/infinite bound or ends before it starts.
    #[error(
        "interval {index} [{start}, {stop}] is invalid: bounds must be finite with start <= stop"
    )]
    InvalidInterval {
        /// Position of the interval in the input list.
        index: usize,
        /// Its start.
        start: f64,
        /// Its stop.
        stop: f64,
    },
    /// Intervals are out of order, overlap or touch where a sorted disjoint list is required.
    #[error("intervals {index} and {next} are not sorted and disjoint (stop of one must be < start of the next)", next = .index + 1)]
    NotSortedDisjoint {
        /// Position of the first interval of the offending pair.
        index: usize,
    },
    /// Timestamps decrease where a sorted vector is required.
    #[error("timestamps are not sorted: value at {index} is smaller than the one before")]
    UnsortedTimestamps {
        /// Position of the first decreasing timestamp.
        index: usize,
    },
    /// A timestamp is NaN or infinite where finite values are required.
    #[error("timestamp {index} is not finite")]
    NonFiniteTimestamp {
        /// Position of the offending timestamp.
        index: usize,
    },
    /// Too few valid timestamps to estimate a sampling rate.
    #[error("only {0} valid timestamp differences; at least 10 are needed")]
    TooFewTimestamps(usize),
    /// The sampling-rate estimate failed (degenerate timestamps).
    #[error("cannot estimate the sampling rate: {0}")]
    RateEstimation(String),
}
