//! Waveforms and quality metrics of a spike sorting, computed streaming from the
//! recording (a [`ChunkSource`]: the recomputed filtered recording, or one in memory).
//!
//! - [`waveforms`]: waveform extraction (`ms_before`/`ms_after`, a seeded random subset
//!   of at most `max_spikes_per_unit` spikes per unit), templates (average and median),
//!   main (peak) channels and peak shifts, spike amplitudes, and the whitened recording;
//! - [`noise`]: random chunks and SpikeInterface's noise levels (MAD / 0.6745);
//! - [`pca`]: principal components — the exact top components of a point cloud and
//!   scikit-learn's `IncrementalPCA` fitted batch by batch as SpikeInterface's
//!   `principal_components` extension fits it;
//! - [`correlograms`]: autocorrelograms as SpikeInterface's `compute_correlograms`
//!   counts them (the sorting pictures and the browser viewer share it);
//! - [`metrics`]: SpikeInterface's quality metrics by their definitions (num_spikes,
//!   firing_rate, presence_ratio, snr, isi_violation, amplitude_cutoff, silhouette,
//!   nn_isolation, nn_noise_overlap) and Spyglass's peak_channel / isi fraction.
//!
//! The waveform, template and PCA functions are the building blocks of the phy export
//! too (templates, amplitudes, pc_features).

pub mod correlograms;
pub mod metrics;
pub mod noise;
pub mod pca;
pub mod waveforms;

pub use correlograms::{autocorrelogram, correlogram_bins, CorrelogramBins};
pub use metrics::{
    compute_quality_metrics, MetricParams, NnParams, QualityMetrics, SubsetChooser, UnitMetrics,
};
pub use noise::{noise_levels, random_chunk_starts};
pub use spyglass_sort::{ChunkSource, InMemoryRecording, PeakSign, Result, SortError};
pub use waveforms::{
    extract_waveforms, ms_to_samples, select_spikes, spike_amplitudes, templates, whitening_matrix,
    SelectedSpike, Templates, WaveformParams, Waveforms, Whitened,
};
