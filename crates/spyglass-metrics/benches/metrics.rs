//! Benchmark: quality metrics of 40 units × 120 s on 32 channels by default (the issue's
//! 100 units × 1 h with `METRICS_BENCH_UNITS=100 METRICS_BENCH_SECONDS=3600`)
//! (SpikeInterface's `generate_ground_truth_recording`, 5 Hz units), ours against
//! SpikeInterface 0.105's `create_sorting_analyzer` (dense: its default sparsity breaks
//! `nearest_neighbors_noise_overlap`; `n_jobs=2`, its default chunking) + random_spikes /
//! waveforms / templates / noise_levels / spike_amplitudes / principal_components + `compute_quality_metrics` (num_spikes,
//! firing_rate, presence_ratio, snr, isi_violation, amplitude_cutoff, silhouette) +
//! Spyglass's nearest_neighbors_isolation / noise_overlap calls (franklab_default) in
//! the same run: wall time, ratio, peak RSS of each side. Both stream the same raw
//! float32 traces file (ours [`RawF32File`], SpikeInterface `read_binary`).
//!
//! When the peer would take too long at the full size, `METRICS_BENCH_PEER_UNITS` /
//! `METRICS_BENCH_PEER_SECONDS` give a smaller size: ours and SpikeInterface run there
//! (the ratio), and ours runs at the full size too.
//!
//! Run: `cargo bench -p spyglass-metrics --bench metrics`. Knobs: `METRICS_BENCH_SECONDS`
//! (default 120; 3600 is the full size, ~13.8 GB of traces), `METRICS_BENCH_UNITS`
//! (40), `METRICS_BENCH_CHANNELS` (32), `METRICS_BENCH_MAX_SPIKES` (500 per unit),
//! `METRICS_BENCH_DATA=<dir>` (keep / reuse the generated recordings, one subfolder per
//! size), `METRICS_BENCH_SKIP_SI=1`.

use common::data::{prepare, Data};
use spyglass_metrics::metrics::{compute_quality_metrics, MetricParams};
use spyglass_metrics::WaveformParams;
use spyglass_sort::RawF32File;
use spyglass_testkit::bench::{best_of, cpu_seconds, peak_rss_mb, reset_peak};
use std::path::PathBuf;

mod common {
    pub mod data;
}

/// Ours on `d`: prints and returns the wall and CPU seconds.
fn ours(d: &Data, max_spikes: usize) -> (f64, f64) {
    let rec = RawF32File::open(&d.dir.join("traces.f32"), d.nc, d.fs).unwrap();
    let wp = WaveformParams {
        max_spikes_per_unit: Some(max_spikes),
        ..Default::default()
    };
    reset_peak();
    let cpu0 = cpu_seconds();
    let (secs, q) = best_of(1, || {
        compute_quality_metrics(&rec, &d.trains, &d.locs, &wp, &MetricParams::default()).unwrap()
    });
    let cpu = cpu_seconds() - cpu0;
    let rss = peak_rss_mb();
    println!(
        "metrics bench: {} units x {:.0} s x {} channels, {max_spikes} waveforms per unit ({} spikes)",
        d.trains.len(),
        spyglass_sort::ChunkSource::num_samples(&rec) as f64 / d.fs,
        d.nc,
        d.trains.iter().map(Vec::len).sum::<usize>()
    );
    println!(
        "  spyglass-metrics: {secs:.2} s, CPU {cpu:.2} s, peak RSS {rss:.0} MB ({} units)",
        q.units.len()
    );
    (secs, cpu)
}

/// SpikeInterface on `d`: prints its time, RSS and the ratios to `ours` (wall, CPU).
fn peer(d: &Data, max_spikes: usize, (ours, ours_cpu): (f64, f64)) {
    let out = spyglass_testkit::run_python(
        include_str!("si_bench.py"),
        &[d.dir.to_str().unwrap(), &max_spikes.to_string()],
    );
    let si: serde_json::Value = serde_json::from_str(out.lines().last().unwrap_or("{}")).unwrap();
    let st = si["seconds"].as_f64().unwrap_or(f64::NAN);
    let sc = si["cpu_seconds"].as_f64().unwrap_or(f64::NAN);
    println!(
        "  SpikeInterface 0.105.3 (n_jobs=2): {st:.2} s, CPU {sc:.2} s, peak RSS {:.0} MB (main process; largest worker {:.0} MB)",
        si["peak_rss_mb"].as_f64().unwrap_or(f64::NAN),
        si["worker_peak_rss_mb"].as_f64().unwrap_or(f64::NAN)
    );
    println!(
        "  ratio SpikeInterface / ours: {:.1}x wall, {:.1}x CPU",
        st / ours,
        sc / ours_cpu
    );
}

fn main() {
    let secs: f64 = common::data::env_or("METRICS_BENCH_SECONDS", 120.0);
    let units: usize = common::data::env_or("METRICS_BENCH_UNITS", 40);
    let peer_secs: f64 = common::data::env_or("METRICS_BENCH_PEER_SECONDS", secs);
    let peer_units: usize = common::data::env_or("METRICS_BENCH_PEER_UNITS", units);
    let channels: usize = common::data::env_or("METRICS_BENCH_CHANNELS", 32);
    let max_spikes: usize = common::data::env_or("METRICS_BENCH_MAX_SPIKES", 500);
    let skip_si = std::env::var("METRICS_BENCH_SKIP_SI").is_ok();
    let keep = std::env::var("METRICS_BENCH_DATA").ok();
    let tmp = spyglass_testkit::scratch_dir();
    let base = keep
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    if (peer_units, peer_secs) != (units, secs) {
        let small = prepare(&base, channels, peer_units, peer_secs);
        let t = ours(&small, max_spikes);
        if !skip_si {
            peer(&small, max_spikes, t);
        }
        drop(small);
        println!("(SpikeInterface not run at the next size)");
        ours(&prepare(&base, channels, units, secs), max_spikes);
    } else {
        let d = prepare(&base, channels, units, secs);
        let t = ours(&d, max_spikes);
        if !skip_si {
            peer(&d, max_spikes, t);
        }
    }
}
