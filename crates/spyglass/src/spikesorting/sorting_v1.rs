//! `spikesorting_v1_sorting`: spike sorting of a recording, as Spyglass 0.6's
//! `spikesorting/v1/sorting.py` declares and computes it.
//!
//! - `SpikeSorterParameters`: Spyglass's 22 stored rows blob for blob (its two
//!   `mountainsort4` sets, `clusterless_thresholder / default_clusterless`, and
//!   `default` for each of SpikeInterface 0.99.1's 19 sorters, whose `n_jobs` is the
//!   machine's CPU count as SpikeInterface's `fix_job_kwargs` makes it), plus
//!   `spyglass_sorter / default` (the native sorter's [`SorterParams::default`]).
//! - `SpikeSortingSelection`: `sorting_id` is a uuid as in Spyglass, derived (uuid5)
//!   from the selection and the sorter's parameters instead of drawn at random;
//!   [`insert_selection`] returns an existing id.
//! - `SpikeSorting`'s make reads the recording recomputed from the raw file
//!   ([`super::recompute`], hash checked) as a streaming [`ChunkSource`], zeroes the
//!   samples outside the selection's interval list (the artifact-removed valid
//!   times) exactly as Spyglass's `remove_artifacts` call does, and runs the sorter
//!   the parameters row names: `clusterless_thresholder` (SpikeInterface's
//!   `detect_peaks`, every peak one unit, id 0) or the native `spyglass_sorter`. A
//!   sorter that exists only in Python (`mountainsort4`, `kilosort4`, ...) is
//!   refused. The units go to an analysis file as Spyglass writes them (spike times
//!   in seconds on the raw clock, `obs_intervals` the interval list's valid times,
//!   `curation_label` "uncurated"), with `time_of_sort` in Unix seconds.
//!
//! Divergence: `clusterless_thresholder`'s `detect_threshold` applies to microvolts
//! (its parameter says µV); Spyglass 0.6 applies it to the processed series' stored
//! values, which are µV only when the raw conversion is 1e-6.

use super::recompute::{FilteredRecording, ValuesHash};
use super::recording_v1::{self as rec, content_id, RecordingKey};
use crate::common::common_interval as iv;
use crate::kit::prelude::*;
use spyglass_dsp::Sos;
use spyglass_nwb::{ColumnSpec, UnitsSpec};
use spyglass_sort::{ChunkSource, ClusterlessParams, SorterParams, SourceError};
use std::sync::Mutex;
use uuid::Uuid;

/// Schema name.
pub const SCHEMA: &str = "spikesorting_v1_sorting";
/// `SpikeSorterParameters` (Lookup).
pub const PARAMETERS: &str = "spikesorting_v1_sorting.SpikeSorterParameters";
/// `SpikeSortingSelection` (Manual).
pub const SELECTION: &str = "spikesorting_v1_sorting.SpikeSortingSelection";
/// `SpikeSorting` (Computed).
pub const SORTING: &str = "spikesorting_v1_sorting.SpikeSorting";
/// The clusterless thresholder's sorter name.
pub const CLUSTERLESS: &str = "clusterless_thresholder";
/// The native sorter's name.
pub const NATIVE: &str = spyglass_sort::SORTER_NAME;

/// Spyglass's stored rows, `(sorter, sorter_param_name, dict)` with the dict as
/// Python writes it (`array([...])` a float64 numpy vector, `os.cpu_count()` the
/// machine's CPU count): `SpikeSorterParameters.contents`, SpikeInterface 0.99.1's
/// `get_default_sorter_params` for the `default` rows.
pub const SPYGLASS_DEFAULTS: [(&str, &str, &str); 22] = [
    ("mountainsort4", "franklab_tetrode_hippocampus_30KHz", "{'detect_sign': -1, 'adjacency_radius': 100, 'filter': False, 'whiten': True, 'num_workers': 1, 'clip_size': 40, 'detect_threshold': 3, 'detect_interval': 10, 'freq_min': 600, 'freq_max': 6000}"),
    ("mountainsort4", "franklab_probe_ctx_30KHz", "{'detect_sign': -1, 'adjacency_radius': 100, 'filter': False, 'whiten': True, 'num_workers': 1, 'clip_size': 40, 'detect_threshold': 3, 'detect_interval': 10, 'freq_min': 300, 'freq_max': 6000}"),
    ("clusterless_thresholder", "default_clusterless", "{'detect_threshold': 100.0, 'method': 'locally_exclusive', 'peak_sign': 'neg', 'exclude_sweep_ms': 0.1, 'local_radius_um': 100, 'noise_levels': array([1.0]), 'random_chunk_kwargs': {}, 'outputs': 'sorting'}"),
    ("combinato", "default", "{'detect_sign': -1, 'MaxClustersPerTemp': 5, 'MinSpikesPerClusterMultiSelect': 15, 'RecursiveDepth': 1, 'ReclusterClusters': True, 'MinInputSizeRecluster': 2000, 'FirstMatchFactor': 0.75, 'SecondMatchFactor': 3, 'MaxDistMatchGrouping': 1.8, 'detect_threshold': 5, 'max_spike_duration': 0.0015, 'indices_per_spike': 64, 'index_maximum': 19, 'upsampling_factor': 3, 'denoise': True, 'do_filter': True, 'keep_good_only': True, 'chunk_memory': '500M'}"),
    ("hdsort", "default", "{'detect_threshold': 4.2, 'detect_sign': -1, 'filter': True, 'parfor': True, 'freq_min': 300, 'freq_max': 7000, 'max_el_per_group': 9, 'min_el_per_group': 1, 'add_if_nearer_than': 20, 'max_distance_within_group': 52, 'n_pc_dims': 6, 'chunk_size': 500000, 'loop_mode': 'local_parfor', 'chunk_memory': '500M'}"),
    ("herdingspikes", "default", "{'clustering_bandwidth': 5.5, 'clustering_alpha': 5.5, 'clustering_n_jobs': -1, 'clustering_bin_seeding': True, 'clustering_min_bin_freq': 16, 'clustering_subset': None, 'left_cutout_time': 0.3, 'right_cutout_time': 1.8, 'detect_threshold': 20, 'probe_masked_channels': [], 'probe_inner_radius': 70, 'probe_neighbor_radius': 90, 'probe_event_length': 0.26, 'probe_peak_jitter': 0.2, 't_inc': 100000, 'num_com_centers': 1, 'maa': 12, 'ahpthr': 11, 'out_file_name': 'HS2_detected', 'decay_filtering': False, 'save_all': False, 'amp_evaluation_time': 0.4, 'spk_evaluation_time': 1.0, 'pca_ncomponents': 2, 'pca_whiten': True, 'freq_min': 300.0, 'freq_max': 6000.0, 'filter': True, 'pre_scale': True, 'pre_scale_value': 20.0, 'filter_duplicates': True}"),
    ("ironclust", "default", "{'detect_sign': -1, 'adjacency_radius': 50, 'adjacency_radius_out': 100, 'detect_threshold': 3.5, 'prm_template_name': '', 'freq_min': 300, 'freq_max': 8000, 'merge_thresh': 0.985, 'pc_per_chan': 9, 'whiten': False, 'filter_type': 'bandpass', 'filter_detect_type': 'none', 'common_ref_type': 'trimmean', 'batch_sec_drift': 300, 'step_sec_drift': 20, 'knn': 30, 'min_count': 30, 'fGpu': True, 'fft_thresh': 8, 'fft_thresh_low': 0, 'nSites_whiten': 16, 'feature_type': 'gpca', 'delta_cut': 1, 'post_merge_mode': 1, 'sort_mode': 1, 'fParfor': False, 'filter': True, 'clip_pre': 0.25, 'clip_post': 0.75, 'merge_thresh_cc': 1, 'nRepeat_merge': 3, 'merge_overlap_thresh': 0.95, 'n_jobs': os.cpu_count(), 'chunk_duration': '1s', 'progress_bar': True, 'mp_context': None, 'max_threads_per_process': 1}"),
    ("kilosort", "default", "{'detect_threshold': 6, 'car': True, 'useGPU': True, 'freq_min': 300, 'freq_max': 6000, 'ntbuff': 64, 'Nfilt': None, 'NT': None, 'wave_length': 61, 'delete_tmp_files': ('matlab_files',), 'delete_recording_dat': False, 'n_jobs': os.cpu_count(), 'chunk_duration': '1s', 'progress_bar': True, 'mp_context': None, 'max_threads_per_process': 1}"),
    ("kilosort2", "default", "{'detect_threshold': 6, 'projection_threshold': [10, 4], 'preclust_threshold': 8, 'car': True, 'minFR': 0.1, 'minfr_goodchannels': 0.1, 'freq_min': 150, 'sigmaMask': 30, 'nPCs': 3, 'ntbuff': 64, 'nfilt_factor': 4, 'NT': None, 'AUCsplit': 0.9, 'wave_length': 61, 'keep_good_only': False, 'skip_kilosort_preprocessing': False, 'scaleproc': None, 'save_rez_to_mat': False, 'delete_tmp_files': ('matlab_files',), 'delete_recording_dat': False, 'n_jobs': os.cpu_count(), 'chunk_duration': '1s', 'progress_bar': True, 'mp_context': None, 'max_threads_per_process': 1}"),
    ("kilosort2_5", "default", "{'detect_threshold': 6, 'projection_threshold': [10, 4], 'preclust_threshold': 8, 'car': True, 'minFR': 0.1, 'minfr_goodchannels': 0.1, 'nblocks': 5, 'sig': 20, 'freq_min': 150, 'sigmaMask': 30, 'nPCs': 3, 'ntbuff': 64, 'nfilt_factor': 4, 'NT': None, 'AUCsplit': 0.9, 'do_correction': True, 'wave_length': 61, 'keep_good_only': False, 'skip_kilosort_preprocessing': False, 'scaleproc': None, 'save_rez_to_mat': False, 'delete_tmp_files': ('matlab_files',), 'delete_recording_dat': False, 'n_jobs': os.cpu_count(), 'chunk_duration': '1s', 'progress_bar': True, 'mp_context': None, 'max_threads_per_process': 1}"),
    ("kilosort3", "default", "{'detect_threshold': 6, 'projection_threshold': [9, 9], 'preclust_threshold': 8, 'car': True, 'minFR': 0.2, 'minfr_goodchannels': 0.2, 'nblocks': 5, 'sig': 20, 'freq_min': 300, 'sigmaMask': 30, 'nPCs': 3, 'ntbuff': 64, 'nfilt_factor': 4, 'do_correction': True, 'NT': None, 'AUCsplit': 0.8, 'wave_length': 61, 'keep_good_only': False, 'skip_kilosort_preprocessing': False, 'scaleproc': None, 'save_rez_to_mat': False, 'delete_tmp_files': ('matlab_files',), 'delete_recording_dat': False, 'n_jobs': os.cpu_count(), 'chunk_duration': '1s', 'progress_bar': True, 'mp_context': None, 'max_threads_per_process': 1}"),
    ("klusta", "default", "{'adjacency_radius': None, 'threshold_strong_std_factor': 5, 'threshold_weak_std_factor': 2, 'detect_sign': -1, 'extract_s_before': 16, 'extract_s_after': 32, 'n_features_per_channel': 3, 'pca_n_waveforms_max': 10000, 'num_starting_clusters': 50, 'n_jobs': os.cpu_count(), 'chunk_duration': '1s', 'progress_bar': True, 'mp_context': None, 'max_threads_per_process': 1}"),
    ("mountainsort4", "default", "{'detect_sign': -1, 'adjacency_radius': -1, 'freq_min': 300, 'freq_max': 6000, 'filter': True, 'whiten': True, 'num_workers': 1, 'clip_size': 50, 'detect_threshold': 3, 'detect_interval': 10, 'tempdir': None}"),
    ("mountainsort5", "default", "{'scheme': '2', 'detect_threshold': 5.5, 'detect_sign': -1, 'detect_time_radius_msec': 0.5, 'snippet_T1': 20, 'snippet_T2': 20, 'npca_per_channel': 3, 'npca_per_subdivision': 10, 'snippet_mask_radius': 250, 'scheme1_detect_channel_radius': 150, 'scheme2_phase1_detect_channel_radius': 200, 'scheme2_detect_channel_radius': 50, 'scheme2_max_num_snippets_per_training_batch': 200, 'scheme2_training_duration_sec': 300, 'scheme2_training_recording_sampling_mode': 'uniform', 'scheme3_block_duration_sec': 1800, 'freq_min': 300, 'freq_max': 6000, 'filter': True, 'whiten': True}"),
    ("pykilosort", "default", "{'low_memory': False, 'seed': 42, 'preprocessing_function': 'kilosort2', 'save_drift_spike_detections': False, 'perform_drift_registration': False, 'do_whitening': True, 'save_temp_files': True, 'fshigh': 300.0, 'fslow': None, 'minfr_goodchannels': 0.1, 'genericSpkTh': 8.0, 'nblocks': 5, 'sig_datashift': 20.0, 'stable_mode': True, 'deterministic_mode': True, 'datashift': None, 'Th': [10, 4], 'ThPre': 8, 'lam': 10, 'minFR': 0.02, 'momentum': [20, 400], 'sigmaMask': 30, 'spkTh': -6, 'reorder': 1, 'nSkipCov': 25, 'ntbuff': 64, 'whiteningRange': 32, 'scaleproc': 200, 'nPCs': 3, 'nt0': 61, 'nup': 10, 'sig': 1, 'gain': 1, 'templateScaling': 20.0, 'loc_range': [5, 4], 'long_range': [30, 6], 'keep_good_only': False, 'n_jobs': os.cpu_count(), 'chunk_duration': '1s', 'progress_bar': True, 'mp_context': None, 'max_threads_per_process': 1}"),
    ("spykingcircus", "default", "{'detect_sign': -1, 'adjacency_radius': 100, 'detect_threshold': 6, 'template_width_ms': 3, 'filter': True, 'merge_spikes': True, 'auto_merge': 0.75, 'num_workers': None, 'whitening_max_elts': 1000, 'clustering_max_elts': 10000}"),
    ("spykingcircus2", "default", "{'general': {'ms_before': 2, 'ms_after': 2, 'radius_um': 100}, 'waveforms': {'max_spikes_per_unit': 200, 'overwrite': True, 'sparse': True, 'method': 'ptp', 'threshold': 1}, 'filtering': {'freq_min': 150, 'dtype': 'float32'}, 'detection': {'peak_sign': 'neg', 'detect_threshold': 5}, 'selection': {'n_peaks_per_channel': 5000, 'min_n_peaks': 20000}, 'localization': {}, 'clustering': {}, 'matching': {}, 'apply_preprocessing': True, 'shared_memory': True, 'job_kwargs': {'n_jobs': -1}}"),
    ("tridesclous", "default", "{'freq_min': 400.0, 'freq_max': 5000.0, 'detect_sign': -1, 'detect_threshold': 5, 'common_ref_removal': False, 'nested_params': None, 'n_jobs': os.cpu_count(), 'chunk_duration': '1s', 'progress_bar': True, 'mp_context': None, 'max_threads_per_process': 1}"),
    ("tridesclous2", "default", "{'apply_preprocessing': True, 'waveforms': {'ms_before': 0.5, 'ms_after': 1.5, 'radius_um': 120.0}, 'filtering': {'freq_min': 300.0, 'freq_max': 12000.0}, 'detection': {'peak_sign': 'neg', 'detect_threshold': 5, 'exclude_sweep_ms': 1.5, 'radius_um': 150.0}, 'selection': {'n_peaks_per_channel': 5000, 'min_n_peaks': 20000}, 'features': {}, 'svd': {'n_components': 6}, 'clustering': {'split_radius_um': 40.0, 'merge_radius_um': 40.0}, 'templates': {'ms_before': 1.5, 'ms_after': 2.5}, 'matching': {'peak_shift_ms': 0.2, 'radius_um': 100.0}, 'job_kwargs': {'n_jobs': -1}, 'save_array': True}"),
    ("waveclus", "default", "{'detect_threshold': 5, 'detect_sign': -1, 'feature_type': 'wav', 'scales': 4, 'min_clus': 20, 'maxtemp': 0.251, 'template_sdnum': 3, 'enable_detect_filter': True, 'enable_sort_filter': True, 'detect_filter_fmin': 300, 'detect_filter_fmax': 3000, 'detect_filter_order': 4, 'sort_filter_fmin': 300, 'sort_filter_fmax': 3000, 'sort_filter_order': 2, 'mintemp': 0, 'w_pre': 20, 'w_post': 44, 'alignment_window': 10, 'stdmax': 50, 'max_spk': 40000, 'ref_ms': 1.5, 'interpolation': True, 'keep_good_only': True, 'chunk_memory': '500M'}"),
    ("waveclus_snippets", "default", "{'feature_type': 'wav', 'scales': 4, 'min_clus': 20, 'maxtemp': 0.251, 'template_sdnum': 3, 'mintemp': 0, 'stdmax': 50, 'max_spk': 40000, 'keep_good_only': True, 'chunk_memory': '500M'}"),
    ("yass", "default", "{'dtype': 'int16', 'freq_min': 300, 'freq_max': 0.3, 'neural_nets_path': None, 'multi_processing': 1, 'n_processors': 1, 'n_gpu_processors': 1, 'n_sec_chunk': 10, 'n_sec_chunk_gpu_detect': 0.5, 'n_sec_chunk_gpu_deconv': 5, 'gpu_id': 0, 'generate_phy': 0, 'phy_percent_spikes': 0.05, 'spatial_radius': 70, 'spike_size_ms': 5, 'clustering_chunk': [0, 300], 'update_templates': 0, 'neuron_discover': 0, 'template_update_time': 300, 'n_jobs': os.cpu_count(), 'chunk_duration': '1s', 'progress_bar': True, 'mp_context': None, 'max_threads_per_process': 1}"),
];

/// A SpikeSortingSelection's attributes other than its id (what it selects).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SortingSelectionKey {
    /// The recording.
    pub recording_id: Uuid,
    /// The sorter.
    pub sorter: String,
    /// Its parameter set.
    pub sorter_param_name: String,
    /// The session.
    pub nwb_file_name: String,
    /// The interval list of the times to sort (usually the artifact id).
    pub interval_list_name: String,
}

/// A SpikeSortingSelection row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SortingSelection {
    /// The id.
    pub sorting_id: Uuid,
    /// What it selects.
    #[serde(flatten)]
    pub key: SortingSelectionKey,
}

/// The key of SpikeSorting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SortingKey {
    /// The selection.
    pub sorting_id: Uuid,
}

/// A SpikeSorting row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SortingRow {
    /// The selection.
    pub sorting_id: Uuid,
    /// The analysis file holding the units.
    pub analysis_file_name: String,
    /// Object id of the units table.
    pub object_id: String,
    /// When the sort ran, Unix seconds.
    pub time_of_sort: i64,
}

/// The `spikesorting_v1_sorting` pipeline.
pub struct SpikeSortingSortingV1;

impl Pipeline for SpikeSortingSortingV1 {
    identity!(SCHEMA, family "sorting", requires [rec::SCHEMA, super::artifact_v1::SCHEMA]);
    provides! {
        makers: SORTING => SortingMake;
        defaults: Defaults::rows(PARAMETERS, insert_defaults);
        commands: Command;
    }
    fn tables(&self) -> Vec<TableSpec> {
        let params = "# Spike sorting algorithm and associated parameters.
sorter: varchar(200)
sorter_param_name: varchar(200)
---
sorter_params: blob";
        let selection =
            "# Processed recording and spike sorting parameters. See `insert_selection`.
sorting_id: uuid
---
-> spikesorting_v1_recording.SpikeSortingRecording
-> SpikeSorterParameters
-> common_interval.IntervalList";
        let sorting = "-> SpikeSortingSelection
---
-> common_nwbfile.AnalysisNwbfile
object_id: varchar(40)          # Object ID for the sorting in NWB file
time_of_sort: int               # in Unix time, to the nearest second";
        vec![
            TableSpec::new("SpikeSorterParameters", Tier::Lookup, params),
            TableSpec::new("SpikeSortingSelection", Tier::Manual, selection),
            TableSpec::new("SpikeSorting", Tier::Computed, sorting),
        ]
    }
    fn run(&self, sg: &Spyglass, _name: &str, m: &clap::ArgMatches) -> Result<()> {
        sg.require(SCHEMA)?;
        match args::parse(m)? {
            Command::Sorter(SorterCommand::Params(ParamsCommand::List(a))) => {
                for r in sg.fetch(&sg.table(PARAMETERS)?)? {
                    let text = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default();
                    if a.sorter.as_deref().is_some_and(|s| s != text("sorter")) {
                        continue;
                    }
                    let dict = r
                        .get("sorter_params")
                        .map(|v| v.python_str())
                        .unwrap_or_default();
                    println!("{} / {}: {dict}", text("sorter"), text("sorter_param_name"));
                }
            }
            Command::Sorter(SorterCommand::Params(ParamsCommand::Add(a))) => {
                let dict: serde_json::Value = serde_json::from_str(&a.params).map_err(|e| {
                    Error::bad(
                        "--params",
                        format!("not a JSON object: {e} in `{}`", a.params),
                    )
                })?;
                if !insert_parameters(sg, &a.sorter, &a.name, &dict)? {
                    let message = "a parameter set of that name exists (names are never reused)";
                    return Err(Error::conflict(
                        format!("{PARAMETERS} `{}` / `{}`", a.sorter, a.name),
                        message,
                    ));
                }
                println!(
                    "SpikeSorterParameters `{}` / `{}`: {dict}",
                    a.sorter, a.name
                );
            }
            Command::Select(a) => {
                let recording_id: Uuid = a.recording_id.parse().map_err(|e| {
                    Error::bad("recording_id", format!("`{}`: {e}", a.recording_id))
                })?;
                let rs: rec::RecordingSelection =
                    sg.row(rec::RECORDING_SELECTION, &RecordingKey { recording_id })?;
                let key = SortingSelectionKey {
                    recording_id,
                    sorter: a.sorter,
                    sorter_param_name: a.params,
                    nwb_file_name: rs.key.nwb_file_name,
                    interval_list_name: a.interval,
                };
                let id = insert_selection(sg, &key)?;
                println!(
                    "SpikeSortingSelection {id}: recording {recording_id}, sorter `{}` / `{}`, interval `{}`",
                    key.sorter, key.sorter_param_name, key.interval_list_name
                );
                args::next_populate(SORTING, &[("sorting_id", &id)]);
            }
        }
        Ok(())
    }
}

/// `spyglass sorting …` commands of this pipeline.
#[derive(clap::Subcommand)]
enum Command {
    /// Sorters and their parameters (SpikeSorterParameters).
    #[command(subcommand)]
    Sorter(SorterCommand),
    /// Select a recording, sorter and interval to sort (SpikeSortingSelection.insert_selection).
    Select(SelectArgs),
}

#[derive(clap::Subcommand)]
enum SorterCommand {
    /// SpikeSorterParameters: list or add.
    #[command(subcommand)]
    Params(ParamsCommand),
}

#[derive(clap::Subcommand)]
enum ParamsCommand {
    /// List the stored parameter sets.
    List(ListArgs),
    /// Add a parameter set (a JSON object) for a sorter.
    Add(AddArgs),
}

#[derive(clap::Args)]
struct ListArgs {
    /// Only this sorter's sets.
    #[arg(long)]
    sorter: Option<String>,
}

#[derive(clap::Args)]
struct AddArgs {
    /// The sorter (`clusterless_thresholder`, `spyglass_sorter`, or any Spyglass sorter name).
    sorter: String,
    /// The parameter set's name.
    name: String,
    /// The parameters, a JSON object (for `spyglass_sorter`, keys left out take its defaults).
    #[arg(long, default_value = "{}")]
    params: String,
}

#[derive(clap::Args)]
struct SelectArgs {
    /// The SpikeSortingRecording's recording_id.
    recording_id: String,
    /// The sorter.
    #[arg(long, default_value = CLUSTERLESS)]
    sorter: String,
    /// Its SpikeSorterParameters name.
    #[arg(long, default_value = "default_clusterless")]
    params: String,
    /// The interval list of the times to sort: usually the artifact id
    /// (ArtifactDetection's valid times), or the recording id.
    #[arg(long)]
    interval: String,
}

/// The number of CPUs Python's `os.cpu_count()` reports (online processors).
fn cpu_count() -> i64 {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if n > 0 {
        n as i64
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get() as i64)
    }
}

/// Spyglass's stored rows and ours (`spyglass_sorter / default`), skipping present ones.
pub fn insert_defaults(db: &Db) -> Result<usize> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    let opts = InsertOptions {
        skip_duplicates: true,
        ..Default::default()
    };
    let cpus = cpu_count().to_string();
    let mut n = 0;
    for (sorter, name, text) in SPYGLASS_DEFAULTS {
        let dict = py_literal(&text.replace("os.cpu_count()", &cpus))
            .map_err(|e| Error::internal(PARAMETERS, format!("{sorter} / {name}: {e}")))?;
        let row = Row::from_pairs([
            ("sorter", Value::from(sorter)),
            ("sorter_param_name", Value::from(name)),
            ("sorter_params", Value::from(dict)),
        ]);
        n += db.insert1(PARAMETERS, row, opts)? as usize;
    }
    let native = serde_json::to_value(SorterParams::default())
        .map_err(|e| Error::internal(PARAMETERS, e.to_string()))?;
    n += insert_parameters(db, NATIVE, "default", &native)? as usize;
    Ok(n)
}

/// Inserts a SpikeSorterParameters row (skipping an existing `(sorter, name)`); true
/// when inserted. The native sorters' dicts must parse (`spyglass_sorter`: keys left
/// out take the defaults, unknown keys are refused).
pub fn insert_parameters(
    db: &Db,
    sorter: &str,
    name: &str,
    dict: &serde_json::Value,
) -> Result<bool> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    if !dict.is_object() {
        return Err(Error::bad(
            format!("{PARAMETERS} `{sorter}` / `{name}`"),
            "the parameters must be a dict (JSON object)",
        ));
    }
    if sorter == CLUSTERLESS || sorter == NATIVE {
        Algorithm::parse(sorter, name, dict)?;
    }
    let key = Row::from_pairs([
        ("sorter", Value::from(sorter)),
        ("sorter_param_name", Value::from(name)),
    ]);
    let q = db
        .table(PARAMETERS)?
        .restrict(spyglass_db::Cond::from(&key))?;
    if db.exists(&q)? {
        return Ok(false);
    }
    let row = Row::from_pairs([
        ("sorter", Value::from(sorter)),
        ("sorter_param_name", Value::from(name)),
        ("sorter_params", Value::from(spyglass_blob::from_json(dict))),
    ]);
    Ok(db.insert1(PARAMETERS, row, InsertOptions::default())? > 0)
}

/// The sorter a parameters row runs, with its parsed parameters.
#[derive(Debug, Clone, Serialize)]
pub enum Algorithm {
    /// SpikeInterface's `detect_peaks` (locally exclusive), in µV.
    Clusterless(ClusterlessParams),
    /// The native sorter.
    Native(SorterParams),
}

impl Algorithm {
    /// Parses a row's dict for `sorter`; a sorter that exists only in Python is an
    /// error saying so.
    pub fn parse(sorter: &str, name: &str, dict: &serde_json::Value) -> Result<Algorithm> {
        let what = || format!("{PARAMETERS} `{sorter}` / `{name}`");
        match sorter {
            CLUSTERLESS => {
                // as Spyglass does before detect_peaks: drop what is not detect_peaks'
                // and take `radius_um` (SpikeInterface ≥ 0.99.1) as `local_radius_um`
                let mut d = dict.as_object().cloned().unwrap_or_default();
                for k in ["tempdir", "whiten", "outputs", "random_chunk_kwargs"] {
                    d.remove(k);
                }
                if let Some(r) = d.remove("radius_um") {
                    d.insert("local_radius_um".into(), r);
                }
                let p: ClusterlessParams = serde_json::from_value(serde_json::Value::Object(d))
                    .map_err(|e| Error::bad(what(), format!("{e} (noise_levels must be given: [1.0] makes the threshold µV)")))?;
                Ok(Algorithm::Clusterless(p))
            }
            NATIVE => {
                let p: SorterParams =
                    serde_json::from_value(dict.clone()).map_err(|e| Error::bad(what(), e.to_string()))?;
                Ok(Algorithm::Native(p))
            }
            other => Err(Error::bad(
                what(),
                format!("sorter `{other}` exists only in Python Spyglass (SpikeInterface's run_sorter) and is not run here; use `{NATIVE}` (native, MountainSort5 class) or `{CLUSTERLESS}`"),
            )),
        }
    }
}

fn params_dict(db: &Db, sorter: &str, name: &str) -> Result<serde_json::Value> {
    #[derive(Deserialize)]
    struct P {
        sorter_params: serde_json::Value,
    }
    let key = serde_json::json!({"sorter": sorter, "sorter_param_name": name});
    Ok(db.row::<P>(PARAMETERS, &key)?.sorter_params)
}

/// Spyglass's `SpikeSortingSelection.insert_selection`: the id of the row selecting
/// `key` — the existing one, or a new row whose id is derived from the selection
/// and the sorter's parameters (uuid5), the same in every database.
pub fn insert_selection(db: &Db, key: &SortingSelectionKey) -> Result<Uuid> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    let have: Vec<SortingSelection> = db.rows(SELECTION, key)?;
    if let Some(r) = have.first() {
        return Ok(r.sorting_id);
    }
    let recording = RecordingKey {
        recording_id: key.recording_id,
    };
    db.row::<rec::RecordingRow>(rec::RECORDING, &recording)?;
    let rs: rec::RecordingSelection = db.row(rec::RECORDING_SELECTION, &recording)?;
    if rs.key.nwb_file_name != key.nwb_file_name {
        return Err(Error::bad(
            SELECTION,
            format!(
                "recording {} is of {}, not {}",
                key.recording_id, rs.key.nwb_file_name, key.nwb_file_name
            ),
        ));
    }
    iv::fetch_list(db, &key.nwb_file_name, &key.interval_list_name)?;
    let params = params_dict(db, &key.sorter, &key.sorter_param_name)?;
    let sorting_id = content_id(
        SELECTION,
        &serde_json::json!({"selection": key, "sorter_params": params}),
    );
    db.put(
        SELECTION,
        &SortingSelection {
            sorting_id,
            key: key.clone(),
        },
    )?;
    Ok(sorting_id)
}

/// What the make reads.
#[derive(Debug, Clone, Serialize)]
pub struct SortingInputs {
    /// The session.
    pub nwb_file_name: String,
    /// The recording.
    pub recording: rec::RecordingSource,
    /// The sorter and its parameters.
    pub algorithm: Algorithm,
    /// The selection's interval list (the artifact-removed valid times).
    pub valid_times: Vec<[f64; 2]>,
}

/// What the compute phase produced.
pub struct SortingOutput {
    file: crate::analysis::PendingFile,
    object_id: String,
    time_of_sort: i64,
}

struct SortingMake;

impl Make for SortingMake {
    const TABLE: &'static str = SORTING;
    type Key = SortingKey;
    type Inputs = SortingInputs;
    type Output = SortingOutput;

    fn fetch(&self, cx: &Cx, key: &SortingKey) -> Result<SortingInputs> {
        let sel: SortingSelection = cx.db.row(SELECTION, key)?;
        let k = &sel.key;
        let dict = params_dict(cx.db, &k.sorter, &k.sorter_param_name)?;
        let algorithm = Algorithm::parse(&k.sorter, &k.sorter_param_name, &dict)?;
        let list = iv::fetch_list(cx.db, &k.nwb_file_name, &k.interval_list_name)?;
        Ok(SortingInputs {
            nwb_file_name: k.nwb_file_name.clone(),
            recording: rec::recording_source(cx.db, k.recording_id)?,
            algorithm,
            valid_times: list.valid_times,
        })
    }

    fn compute(
        &self,
        settings: &Settings,
        key: &SortingKey,
        i: SortingInputs,
    ) -> Result<SortingOutput> {
        let source = i.recording;
        let recording = FilteredRecording::open(&source.raw_file, source.recipe.clone())?;
        let units = sort(
            &recording,
            source.hash.as_deref(),
            &i.algorithm,
            &i.valid_times,
        )?;
        let time_of_sort = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs_f64().round() as i64);
        let description = format!("SpikeSorting {}", key.sorting_id);
        let (file, object_id) = crate::kit::analysis_file(
            settings,
            &i.nwb_file_name,
            &source.raw_file,
            &description,
            |w| {
                Ok(w.add_units(&units_spec(
                    &units,
                    &i.valid_times,
                    recording.sampling_rate(),
                ))?)
            },
        )?;
        Ok(SortingOutput {
            file,
            object_id,
            time_of_sort,
        })
    }

    fn insert(&self, cx: &Cx, key: &SortingKey, out: SortingOutput) -> Result<()> {
        let row = SortingRow {
            sorting_id: key.sorting_id,
            analysis_file_name: cx.db.register(out.file)?,
            object_id: out.object_id,
            time_of_sort: out.time_of_sort,
        };
        cx.db.put(SORTING, &row)
    }
}

/// One sorted unit: its id and spike times (seconds, raw clock).
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The unit id.
    pub id: i64,
    /// Spike times, seconds on the raw clock, ascending.
    pub spike_times: Vec<f64>,
}

/// The units table as Spyglass's `_write_sorting_to_nwb` writes it.
fn units_spec(units: &[Unit], valid_times: &[[f64; 2]], rate: f64) -> UnitsSpec {
    if units.is_empty() {
        return UnitsSpec {
            description: "Empty units table.".into(),
            resolution: Some(1.0 / rate),
            ..Default::default()
        };
    }
    let n = units.len();
    let flat: Vec<f64> = valid_times.iter().flatten().copied().collect();
    let per = valid_times.len() as u64;
    let obs = ColumnSpec {
        name: "obs_intervals".into(),
        description: "the observation intervals for each unit".into(),
        values: spyglass_nwb::Values::Float(flat.repeat(n)),
        shape: Some(vec![valid_times.len() * n, 2]),
        index: Some((1..=n as u64).map(|k| k * per).collect()),
        region_table: None,
    };
    UnitsSpec {
        description: "Autogenerated by NWBFile".into(),
        ids: Some(units.iter().map(|u| u.id).collect()),
        spike_times: units.iter().map(|u| u.spike_times.clone()).collect(),
        electrodes: None,
        resolution: Some(1.0 / rate),
        columns: vec![
            obs,
            ColumnSpec::text(
                "curation_label",
                "curation label applied to a unit",
                vec!["uncurated".to_string(); n],
            ),
        ],
    }
}

/// Sorts a recording (see the module doc): zeroes the samples outside
/// `valid_times` as Spyglass does, runs `algorithm` and checks the recording's hash
/// (on the chunks the sorter read, and any it did not); returns the units with
/// spike times on the raw clock.
pub fn sort(
    recording: &FilteredRecording,
    expected_hash: Option<&str>,
    algorithm: &Algorithm,
    valid_times: &[[f64; 2]],
) -> Result<Vec<Unit>> {
    let zeros = zeroed_ranges(recording, valid_times)?;
    let source = Source::new(recording, zeros)?;
    let what = |s: &str| format!("{SORTING} ({s})");
    let locations = recording.recipe().locations.clone().ok_or_else(|| {
        Error::bad(
            what("channel locations"),
            format!(
                "no contact positions for electrodes {:?} (the electrodes table has no rel_x/rel_y or x/y)",
                recording.recipe().channel_ids
            ),
        )
    })?;
    let samples: Vec<(i64, Vec<usize>)> = match algorithm {
        Algorithm::Clusterless(p) => {
            let peaks = spyglass_sort::clusterless_thresholder(&source, &locations, p)
                .map_err(|e| Error::bad(what(CLUSTERLESS), e.to_string()))?;
            let mut s: Vec<usize> = peaks.iter().map(|p| p.sample).collect();
            s.sort_unstable();
            if s.is_empty() {
                vec![]
            } else {
                vec![(0, s)]
            }
        }
        Algorithm::Native(p) => {
            let sorting = spyglass_sort::run_sorter(&source, &locations, p)
                .map_err(|e| Error::bad(what(NATIVE), e.to_string()))?;
            sorting
                .units
                .into_iter()
                .map(|u| (u.id as i64, u.spike_samples))
                .collect()
        }
    };
    if let Some(e) = source.error() {
        return Err(e);
    }
    source.verify(expected_hash)?;
    let mut out = Vec::with_capacity(samples.len());
    for (id, s) in samples {
        out.push(Unit {
            id,
            spike_times: times_of(recording, &s)?,
        });
    }
    Ok(out)
}

/// Timestamps of ascending rows `rows`, read in blocks.
fn times_of(recording: &FilteredRecording, rows: &[usize]) -> Result<Vec<f64>> {
    const BLOCK: usize = 1 << 20;
    let mut out = Vec::with_capacity(rows.len());
    let mut i = 0;
    while i < rows.len() {
        let a = rows[i];
        let b = (a + BLOCK).min(recording.n_rows());
        let ts = recording.timestamps(a..b)?;
        while i < rows.len() && rows[i] < b {
            out.push(ts[rows[i] - a]);
            i += 1;
        }
    }
    Ok(out)
}

/// numpy's `searchsorted` on the recording's timestamps (`right`: side="right").
fn search_sorted(recording: &FilteredRecording, t: f64, right: bool) -> Result<usize> {
    let (mut lo, mut hi) = (0usize, recording.n_rows());
    while lo < hi {
        let mid = (lo + hi) / 2;
        let v = recording.timestamps(mid..mid + 1)?[0];
        let before = if right { v <= t } else { v < t };
        if before {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

/// The sample ranges Spyglass's `_run_spike_sorter` zeroes: `valid_times` as sample
/// intervals (`_consolidate_intervals`: `[searchsorted(start), searchsorted(stop,
/// right) − 1]`, index-adjacent ones joined), then the triggers `[0, start₀)`, each
/// gap `[stopᵢ + 1, startᵢ₊₁)` and `[stop_last, n − 1)` (Spyglass's own bounds: the
/// last valid sample is zeroed and the recording's last sample is not).
pub fn zeroed_ranges(
    recording: &FilteredRecording,
    valid_times: &[[f64; 2]],
) -> Result<Vec<[usize; 2]>> {
    let n = recording.n_rows();
    if valid_times.is_empty() {
        return Err(Error::bad(
            format!("{SORTING} (interval list)"),
            "no valid times to sort",
        ));
    }
    let mut v = valid_times.to_vec();
    if v.windows(2).any(|w| w[1][0] < w[0][0] || w[1][1] < w[0][1]) {
        // numpy's sort(axis=0): each column on its own
        let mut starts: Vec<f64> = v.iter().map(|p| p[0]).collect();
        let mut stops: Vec<f64> = v.iter().map(|p| p[1]).collect();
        starts.sort_by(f64::total_cmp);
        stops.sort_by(f64::total_cmp);
        v = starts.into_iter().zip(stops).map(|(a, b)| [a, b]).collect();
    }
    let mut idx: Vec<[i64; 2]> = vec![];
    for [a, b] in &v {
        idx.push([
            search_sorted(recording, *a, false)? as i64,
            search_sorted(recording, *b, true)? as i64 - 1,
        ]);
    }
    let mut consolidated: Vec<[i64; 2]> = vec![];
    let [mut start, mut stop] = idx[0];
    for &[ns, ne] in &idx {
        if stop >= ns - 1 {
            stop = stop.max(ne);
        } else {
            consolidated.push([start, stop]);
            start = ns;
            stop = ne;
        }
    }
    consolidated.push([start, stop]);
    let n = n as i64;
    let mut out = vec![];
    let mut push = |a: i64, b: i64| {
        let (a, b) = (a.clamp(0, n), b.clamp(0, n));
        if a < b {
            out.push([a as usize, b as usize]);
        }
    };
    push(0, consolidated[0][0]);
    for w in consolidated.windows(2) {
        push(w[0][1] + 1, w[1][0]);
    }
    let last = consolidated[consolidated.len() - 1][1];
    if last < n {
        push(last, n - 1);
    }
    Ok(out)
}

/// The recomputed recording as a [`ChunkSource`]: any range is cut from the recipe's
/// own chunks (each filtered with its margins, so the samples are those of
/// [`FilteredRecording::stream`]), with the zeroed ranges set to zero. The last
/// few chunks ([`Source::cached`]) are kept; a chunk two threads ask for at once is
/// computed once. The chunks are hashed in order as they are computed (a chunk
/// computed ahead is hashed from the cache when its turn comes), so a sorter
/// reading the recording about in order checks its hash without a pass of its own;
/// [`Source::verify`] computes the chunks never read (or evicted before their turn).
pub(crate) struct Source<'a> {
    recording: &'a FilteredRecording,
    sos: Sos,
    zeros: Vec<[usize; 2]>,
    cache: Mutex<std::collections::VecDeque<(usize, Slot)>>,
    /// The next chunk to hash and the hash so far.
    digest: Mutex<(usize, ValuesHash)>,
    failure: Mutex<Option<String>>,
}

/// One cached chunk, computed by the first thread that asks for it.
type Slot = Arc<std::sync::OnceLock<std::result::Result<Arc<Vec<f32>>, String>>>;

impl<'a> Source<'a> {
    /// Chunks kept: enough for every thread's chunks of a sorter's batch to wait
    /// for their turn to be hashed while the sorter reads the recording in order.
    fn cached() -> usize {
        8 + 8 * std::thread::available_parallelism().map_or(1, |n| n.get())
    }

    pub(crate) fn new(
        recording: &'a FilteredRecording,
        zeros: Vec<[usize; 2]>,
    ) -> Result<Source<'a>> {
        Ok(Source {
            recording,
            sos: recording.recipe().sos()?,
            zeros,
            cache: Mutex::new(Default::default()),
            digest: Mutex::new((0, ValuesHash::default())),
            failure: Mutex::new(None),
        })
    }

    /// The first error a read met (the sorter reports it without the cause).
    pub(crate) fn error(&self) -> Option<Error> {
        let f = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        f.as_ref()
            .map(|m| Error::bad(format!("the recording of {SORTING}"), m.clone()))
    }

    fn n_chunks(&self) -> usize {
        self.recording
            .n_rows()
            .div_ceil(self.recording.recipe().chunk_rows)
    }

    /// Checks the recording's hash against `expected` once the sorter is done:
    /// hashes the chunks not hashed yet, in order.
    pub(crate) fn verify(&self, expected: Option<&str>) -> Result<String> {
        loop {
            let next = self.digest.lock().unwrap_or_else(|p| p.into_inner()).0;
            if next >= self.n_chunks() {
                break;
            }
            self.chunk(next)?;
        }
        let (_, hash) = std::mem::take(&mut *self.digest.lock().unwrap_or_else(|p| p.into_inner()));
        self.recording.check_hash(hash.finish(), expected)
    }

    /// The filtered chunk `k` (its own rows, without the margins).
    fn compute(&self, k: usize) -> Result<Vec<f32>> {
        let r = self.recording.recipe();
        let (n, nc) = (self.recording.n_rows(), self.recording.n_channels());
        let s = k * r.chunk_rows;
        let e = (s + r.chunk_rows).min(n);
        let (a, b) = (s.saturating_sub(r.margin_rows), (e + r.margin_rows).min(n));
        let mut buf = vec![0.0; (b - a) * nc];
        self.recording.read_referenced(a..b, &mut buf)?;
        let mut y = vec![0.0; (e - s) * nc];
        self.sos
            .filtfilt_into(&buf, nc, s - a..e - a, &mut y)
            .map_err(|e| Error::bad(format!("the recording of {SORTING}"), e.to_string()))?;
        Ok(y.into_iter().map(|x| x as f32).collect())
    }

    fn chunk(&self, k: usize) -> Result<Arc<Vec<f32>>> {
        let slot = {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            match cache.iter().find(|(i, _)| *i == k) {
                Some((_, slot)) => slot.clone(),
                None => {
                    if cache.len() >= Self::cached() {
                        cache.pop_front();
                    }
                    let slot = Slot::default();
                    cache.push_back((k, slot.clone()));
                    slot
                }
            }
        };
        let chunk = slot
            .get_or_init(|| self.compute(k).map(Arc::new).map_err(|e| e.to_string()))
            .clone()
            .map_err(|m| Error::bad(format!("the recording of {SORTING}"), m))?;
        self.hash_ready();
        Ok(chunk)
    }

    /// Hashes the cached chunks whose turn it is.
    fn hash_ready(&self) {
        let mut digest = self.digest.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let next = digest.0;
            let ready = self
                .cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .find(|(i, _)| *i == next)
                .and_then(|(_, slot)| slot.get().and_then(|r| r.as_ref().ok()).cloned());
            match ready {
                Some(c) => {
                    digest.1.update_f32(&c);
                    digest.0 += 1;
                }
                None => break,
            }
        }
    }

    fn fill(&self, start: usize, end: usize, out: &mut [f32]) -> Result<()> {
        let nc = self.recording.n_channels();
        let rows = self.recording.recipe().chunk_rows;
        let mut t = start;
        while t < end {
            let k = t / rows;
            let c = self.chunk(k)?;
            let c0 = k * rows;
            let upto = (c0 + rows).min(end);
            out[(t - start) * nc..(upto - start) * nc]
                .copy_from_slice(&c[(t - c0) * nc..(upto - c0) * nc]);
            t = upto;
        }
        for &[a, b] in &self.zeros {
            let (a, b) = (a.max(start), b.min(end));
            if a < b {
                out[(a - start) * nc..(b - start) * nc].fill(0.0);
            }
        }
        Ok(())
    }
}

impl ChunkSource for Source<'_> {
    fn num_samples(&self) -> usize {
        self.recording.n_rows()
    }
    fn num_channels(&self) -> usize {
        self.recording.n_channels()
    }
    fn sampling_frequency(&self) -> f64 {
        self.recording.sampling_rate()
    }
    fn read(&self, start: usize, end: usize, out: &mut [f32]) -> Result<(), SourceError> {
        let nc = self.recording.n_channels();
        if start > end || end > self.num_samples() || out.len() != (end - start) * nc {
            return Err(
                format!("bad read {start}..{end} of {} samples", self.num_samples()).into(),
            );
        }
        self.fill(start, end, out).map_err(|e| {
            let m = e.to_string();
            let mut f = self.failure.lock().unwrap_or_else(|p| p.into_inner());
            f.get_or_insert(m.clone());
            m.into()
        })
    }
}

/// Parses the Python literal of a dict as Python Spyglass writes its parameter
/// rows — dicts, lists, tuples, strings, ints, floats, `True` / `False` / `None`,
/// and `array([...])` (a float64 numpy vector) — into the value
/// `datajoint.blob.pack` packs.
pub fn py_literal(text: &str) -> std::result::Result<spyglass_blob::Value, String> {
    let mut p = PyParser {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("trailing text at {}", p.i));
    }
    Ok(v)
}

struct PyParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl PyParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, t: &str) -> bool {
        self.ws();
        if self.s[self.i..].starts_with(t.as_bytes()) {
            self.i += t.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: &str) -> std::result::Result<(), String> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(format!("`{t}` expected at {}", self.i))
        }
    }

    /// Items up to `close`, comma separated (a trailing comma allowed); true when
    /// a comma followed the last item.
    fn items(
        &mut self,
        close: &str,
        mut item: impl FnMut(&mut Self) -> std::result::Result<(), String>,
    ) -> std::result::Result<bool, String> {
        let mut comma = false;
        loop {
            if self.eat(close) {
                return Ok(comma);
            }
            item(self)?;
            comma = self.eat(",");
            if !comma {
                self.expect(close)?;
                return Ok(false);
            }
        }
    }

    fn value(&mut self) -> std::result::Result<spyglass_blob::Value, String> {
        use spyglass_blob::Value as B;
        self.ws();
        if self.eat("{") {
            let mut pairs = vec![];
            self.items("}", |p| {
                let k = p.value()?;
                p.expect(":")?;
                pairs.push((k, p.value()?));
                Ok(())
            })?;
            return Ok(B::Dict(pairs));
        }
        if self.eat("[") {
            let mut v = vec![];
            self.items("]", |p| {
                v.push(p.value()?);
                Ok(())
            })?;
            return Ok(B::List(v));
        }
        if self.eat("(") {
            let mut v = vec![];
            let comma = self.items(")", |p| {
                v.push(p.value()?);
                Ok(())
            })?;
            if v.len() == 1 && !comma {
                return Ok(v.remove(0));
            }
            return Ok(B::Tuple(v));
        }
        if self.eat("array(") {
            let B::List(items) = self.value()? else {
                return Err("array() of a list expected".into());
            };
            self.expect(")")?;
            let mut xs = vec![];
            for it in items {
                match it {
                    B::Float(x) => xs.push(x),
                    B::Int(x) => xs.push(x as f64),
                    other => return Err(format!("array() of numbers expected, got {other:?}")),
                }
            }
            return Ok(B::Array(spyglass_blob::Array::vector(xs)));
        }
        for (word, v) in [
            ("True", B::Bool(true)),
            ("False", B::Bool(false)),
            ("None", B::None),
        ] {
            if self.eat(word) {
                return Ok(v);
            }
        }
        if self.i < self.s.len() && (self.s[self.i] == b'\'' || self.s[self.i] == b'"') {
            let q = self.s[self.i];
            let from = self.i + 1;
            let to = self.s[from..]
                .iter()
                .position(|&c| c == q || c == b'\\')
                .map(|k| from + k)
                .ok_or("unterminated string")?;
            if self.s[to] == b'\\' {
                return Err("escapes in strings are not supported".into());
            }
            self.i = to + 1;
            return Ok(B::Str(
                String::from_utf8(self.s[from..to].to_vec()).map_err(|e| e.to_string())?,
            ));
        }
        let from = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || b"+-.".contains(&self.s[self.i]))
        {
            self.i += 1;
        }
        let t = std::str::from_utf8(&self.s[from..self.i]).map_err(|e| e.to_string())?;
        if t.is_empty() {
            return Err(format!("a value expected at {from}"));
        }
        if let Ok(i) = t.parse::<i64>() {
            return Ok(B::Int(i128::from(i)));
        }
        t.parse::<f64>()
            .map(B::Float)
            .map_err(|_| format!("`{t}` is not a number"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spyglass_blob::Value as B;

    #[test]
    fn python_literals() {
        let v = py_literal("{'a': (1,), 'b': [1.5, -2], 'c': None, 'd': True, 'e': array([1.0]), 'f': {}, 'g': ('x', 'y'), 'h': (3)}").unwrap();
        let B::Dict(pairs) = v else { panic!() };
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(kk, _)| *kk == B::Str(k.into()))
                .unwrap()
                .1
                .clone()
        };
        assert_eq!(get("a"), B::Tuple(vec![B::Int(1)]));
        assert_eq!(get("b"), B::List(vec![B::Float(1.5), B::Int(-2)]));
        assert_eq!(get("c"), B::None);
        assert_eq!(get("d"), B::Bool(true));
        assert_eq!(
            get("e"),
            B::Array(spyglass_blob::Array::vector(vec![1.0f64]))
        );
        assert_eq!(get("f"), B::Dict(vec![]));
        assert_eq!(
            get("g"),
            B::Tuple(vec![B::Str("x".into()), B::Str("y".into())])
        );
        assert_eq!(get("h"), B::Int(3));
        assert!(py_literal("{'a': 1").is_err());
        for (s, n, t) in SPYGLASS_DEFAULTS {
            assert!(
                py_literal(&t.replace("os.cpu_count()", "2")).is_ok(),
                "{s} / {n}"
            );
        }
    }

    #[test]
    fn python_only_sorters_are_refused_by_name() {
        let e = Algorithm::parse("mountainsort4", "default", &serde_json::json!({}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("mountainsort4") && e.contains("only in Python"),
            "{e}"
        );
        let d = serde_json::to_value(SorterParams::default()).unwrap();
        assert!(matches!(
            Algorithm::parse(NATIVE, "default", &d),
            Ok(Algorithm::Native(_))
        ));
        // Spyglass's default_clusterless as its blob reads back
        let d = serde_json::json!({"detect_threshold": 100.0, "method": "locally_exclusive", "peak_sign": "neg",
            "exclude_sweep_ms": 0.1, "local_radius_um": 100, "noise_levels": [1.0], "random_chunk_kwargs": {}, "outputs": "sorting"});
        let Algorithm::Clusterless(p) =
            Algorithm::parse(CLUSTERLESS, "default_clusterless", &d).unwrap()
        else {
            panic!()
        };
        assert_eq!(p, ClusterlessParams::default());
    }
}
