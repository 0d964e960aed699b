//! The integration tests of spyglass, compiled into one test binary (`cargo test -p spyglass
//! --test integration`): one module per concern, linked once instead of once per file.
//! A new test file goes in this folder and is listed here.

mod analysis;
mod cautious_delete;
mod common;
mod dandi;
mod dlc;
mod elements_ephys;
mod export;
mod imported_kilosort;
mod ingest_pynwb;
mod ingest_synthetic;
mod intervals;
mod lab_db;
mod lfp_artifact;
mod lfp_pipeline;
mod linearization_pipeline;
mod mua_pipeline;
mod parity;
mod position_pipeline;
mod prefix_isolation;
mod real_files;
mod ripple_pipeline;
mod ripple_synthetic;
mod session_group;
mod spikesorting_curation;
mod spikesorting_figures;
mod spikesorting_full_disk;
mod spikesorting_metric_curation;
mod spikesorting_phy;
mod spikesorting_recording;
mod spikesorting_sorting;
