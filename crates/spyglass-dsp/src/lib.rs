//! Signal kernels for spyglass-rs: what the LFP pipelines compute, on plain slices.
//!
//! - [`fir_design`]: Spyglass's FIR design (ghostipy `firdesign`, spline
//!   transitions, `estimate_taps`) and its standard filters as data.
//! - [`fir_filter`]: zero-padded FIR filtering with group-delay compensation and
//!   decimation exactly as LFPV1/LFPBandV1 compute it, by FFT overlap-save or
//!   direct strided dot products, over channel-major buffers, multi-threaded.
//! - [`iir`]: Butterworth design as second-order sections and zero-phase
//!   filtering (`scipy.signal.sosfiltfilt`), whole or in chunks with margins.
//! - [`hilbert`]: analytic signal (as `scipy.signal.hilbert`), amplitude, phase, power.
//! - [`intervals`]: interval algebra on sorted disjoint lists (IntervalList valid times).
//! - [`reduce`]: sums in numpy's pairwise order.
//! - [`smooth`]: Gaussian smoothing (`scipy.ndimage.gaussian_filter1d`) and the
//!   trailing moving mean (`bottleneck.move_mean`) of the position pipelines.
//! - [`timestamps`]: sampling-rate estimate and gap-free intervals from timestamps.
//!
//! Multi-channel data is a flat channel-major buffer (`n_channels` rows of `n`
//! samples). Bad input gets a [`DspError`], never a panic.

#![warn(missing_docs)]

pub mod error;
pub mod fir_design;
pub mod fir_filter;
pub mod hilbert;
pub mod iir;
pub mod intervals;
pub mod reduce;
pub mod smooth;
pub mod timestamps;

pub use error::{DspError, Result};
pub use fir_design::{
    default_filters, design_filter, estimate_taps, estimate_taps_with, find_default_filter,
    firdesign, group_delay, FilterDesign, FilterType, StandardFilter, BAND_FILTERS,
    STANDARD_FILTERS,
};
pub use fir_filter::{
    decimate_timestamps, decimated_indices, decimated_len, filter_decimate,
    filter_decimate_channels, filter_decimate_channels_i16, transpose, truncate_to_i16,
    FirDecimator, FirMethod, Sample,
};
pub use hilbert::{
    analytic_signal, envelope, envelope_padded, hilbert_features, hilbert_features_channels,
    next_fast_len, phase_angle, HilbertFeatures, HilbertPlan,
};
pub use iir::{butter_sos, filtfilt_chunks, Band, Sos};
pub use intervals::{index_runs, Intervals};
pub use reduce::{numpy_mean, pairwise_sum};
pub use rustfft::num_complex::Complex64;
pub use smooth::{
    correlate1d, gaussian_filter1d, gaussian_kernel1d, gaussian_radius, move_mean, BoundaryMode,
};
pub use timestamps::{estimate_sampling_rate, valid_intervals, ValidRuns};
