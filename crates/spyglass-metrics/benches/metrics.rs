//! Benchmark: quality metrics of 40 units × 120 s on 32 channels by default (the 100 units × 1 h with
//! `METRICS_BENCH_UNITS=100 METRICS_BENCH_SECONDS=3600`) (SpikeInterface's
//! `generate_ground_truth_recording`, 5 Hz units), ours against SpikeInterface 0.105's
//! `create_sorting_analyzer` + random_spikes / waveforms / templates / noise_levels /
//! spike_amplitudes / principal_components + `compute_quality_metrics` (num_spikes,
//! firing_rate, presence_ratio, snr, isi_violation, amplitude_cutoff, silhouette) +
//! Spyglass's nearest_neighbors_isolation / noise_overlap calls (franklab_default) in
//! the same run: wall time, ratio, peak RSS of each side. Both read the same float32
//! traces from memory (file loading not timed).
//!
//! Run: `cargo bench -p spyglass-metrics --bench metrics`. Knobs: `METRICS_BENCH_SECONDS`
//! (default 120; 3600 is the full size, ~13 GB of traces), `METRICS_BENCH_UNITS`
//! (40), `METRICS_BENCH_CHANNELS` (32), `METRICS_BENCH_MAX_SPIKES` (500 per unit),
//! `METRICS_BENCH_DATA=<dir>` (keep / reuse the generated recording),
//! `METRICS_BENCH_SKIP_SI=1`.

use spyglass_metrics::metrics::{compute_quality_metrics, MetricParams};
use spyglass_metrics::{InMemoryRecording, WaveformParams};
use spyglass_testkit::bench::{best_of, peak_rss_mb, reset_peak};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let secs: f64 = env_or("METRICS_BENCH_SECONDS", 120.0);
    let units: usize = env_or("METRICS_BENCH_UNITS", 40);
    let channels: usize = env_or("METRICS_BENCH_CHANNELS", 32);
    let max_spikes: usize = env_or("METRICS_BENCH_MAX_SPIKES", 500);
    let keep = std::env::var("METRICS_BENCH_DATA").ok();
    let tmp = spyglass_testkit::scratch_dir();
    let dir = keep
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("bench data directory");
    if !dir.join("units.json").exists() {
        let (c, u, s) = (channels.to_string(), units.to_string(), secs.to_string());
        spyglass_testkit::run_python(include_str!("gen.py"), &[dir.to_str().unwrap(), &c, &u, &s]);
    }
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("units.json")).unwrap()).unwrap();
    let nc = meta["n_channels"].as_u64().unwrap() as usize;
    let fs = meta["fs"].as_f64().unwrap();
    let data: Vec<f32> = std::fs::read(dir.join("traces.f32"))
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let locs: Vec<[f64; 2]> = std::fs::read(dir.join("locations.f8"))
        .unwrap()
        .chunks_exact(16)
        .map(|b| {
            [
                f64::from_le_bytes(b[..8].try_into().unwrap()),
                f64::from_le_bytes(b[8..].try_into().unwrap()),
            ]
        })
        .collect();
    let um = meta["units"].as_object().unwrap();
    let trains: Vec<Vec<i64>> = (0..um.len())
        .map(|u| {
            um[&u.to_string()]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_i64().unwrap())
                .collect()
        })
        .collect();
    let rec = InMemoryRecording::new(data, nc, fs).unwrap();
    let wp = WaveformParams {
        max_spikes_per_unit: Some(max_spikes),
        ..Default::default()
    };
    reset_peak();
    let (ours, q) = best_of(1, || {
        compute_quality_metrics(&rec, &trains, &locs, &wp, &MetricParams::default()).unwrap()
    });
    let ours_rss = peak_rss_mb();
    println!(
        "metrics bench: {} units x {:.0} s x {nc} channels, {max_spikes} waveforms per unit ({} spikes)",
        trains.len(),
        rec.data().len() as f64 / nc as f64 / fs,
        trains.iter().map(Vec::len).sum::<usize>()
    );
    println!(
        "  spyglass-metrics: {ours:.2} s, peak RSS {ours_rss:.0} MB ({} units)",
        q.units.len()
    );
    if std::env::var("METRICS_BENCH_SKIP_SI").is_ok() {
        return;
    }
    let out = spyglass_testkit::run_python(
        include_str!("si_bench.py"),
        &[dir.to_str().unwrap(), &max_spikes.to_string()],
    );
    let si: serde_json::Value = serde_json::from_str(out.lines().last().unwrap_or("{}")).unwrap();
    let st = si["seconds"].as_f64().unwrap_or(f64::NAN);
    println!(
        "  SpikeInterface 0.105.3: {st:.2} s, peak RSS {:.0} MB (its process, traces included)",
        si["peak_rss_mb"].as_f64().unwrap_or(f64::NAN)
    );
    println!("  ratio SpikeInterface / ours: {:.1}x", st / ours);
}
