//! Spike sorting algorithms of spyglass-rs, free of any database.
//!
//! - [`detect`]: the clusterless thresholder, SpikeInterface's `detect_peaks`
//!   (`locally_exclusive`) reproduced exactly;
//! - [`sorter`]: `spyglass_sorter`, a native sorter of the MountainSort5 class
//!   (whitening, detection, PCA features, isosplit-style clustering, templates and
//!   a template-matching pass), deterministic for a seed and multi-threaded.
//!
//! [`linalg`] (symmetric eigen-decomposition, covariance) and [`rng`] (the seeded
//! SplitMix64 stream) are public so the quality-metrics crate reuses them.
//!
//! Both read the recording through [`ChunkSource`], a streaming source of f32
//! samples, so the caller can recompute the filtered recording chunk by chunk.

mod cluster;
pub mod detect;
pub mod error;
pub mod linalg;
pub mod rng;
pub mod sorter;
pub mod source;

pub use detect::{
    clusterless_thresholder, detect_peaks_locally_exclusive, ClusterlessParams, Peak, PeakSign,
    ThresholdParams,
};
pub use error::{Result, SortError};
pub use sorter::{run_sorter, SortedUnit, SorterParams, Sorting, SORTER_NAME};
#[cfg(unix)]
pub use source::RawF32File;
pub use source::{ChunkSource, InMemoryRecording, SourceError};
