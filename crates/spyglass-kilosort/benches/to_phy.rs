//! Benchmark: a phy folder for 10 units × 60 s of 32 channels by default (the issue's
//! 100 units × 1 h with `PHY_BENCH_UNITS=100 PHY_BENCH_SECONDS=3600`), SpikeInterface's
//! `generate_ground_truth_recording` (5 Hz units, the metrics bench's `gen.py`): ours
//! ([`write_phy_folder`]: waveforms of 500 spikes per unit, templates, amplitudes,
//! similar templates, per-channel PCA fitted and every spike projected, the files
//! written) against SpikeInterface 0.105's `create_sorting_analyzer` + random_spikes /
//! waveforms / templates + `export_to_phy` (dense, no recording copy, `n_jobs=1`) in
//! the same run: wall time, ratio, peak RSS of each side. Both read the same float32
//! traces from memory (file loading not timed).
//!
//! Run: `cargo bench -p spyglass-kilosort --bench to_phy`. Knobs: `PHY_BENCH_SECONDS`
//! (60), `PHY_BENCH_UNITS` (10), `PHY_BENCH_CHANNELS` (32), `PHY_BENCH_MAX_SPIKES` (500
//! per unit), `PHY_BENCH_DATA=<dir>` (keep / reuse the generated recording),
//! `PHY_BENCH_SKIP_SI=1`.

use spyglass_kilosort::phy::{write_phy_folder, PhyExportParams, PhyGroup, PhyUnit};
use spyglass_sort::InMemoryRecording;
use spyglass_testkit::bench::{best_of, peak_rss_mb, reset_peak};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let secs: f64 = env_or("PHY_BENCH_SECONDS", 60.0);
    let units: usize = env_or("PHY_BENCH_UNITS", 10);
    let channels: usize = env_or("PHY_BENCH_CHANNELS", 32);
    let max_spikes: usize = env_or("PHY_BENCH_MAX_SPIKES", 500);
    let keep = std::env::var("PHY_BENCH_DATA").ok();
    let tmp = spyglass_testkit::scratch_dir();
    let dir = keep
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("bench data directory");
    if !dir.join("units.json").exists() {
        let (c, u, s) = (channels.to_string(), units.to_string(), secs.to_string());
        spyglass_testkit::run_python(
            include_str!("../../spyglass-metrics/benches/gen.py"),
            &[dir.to_str().unwrap(), &c, &u, &s],
        );
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
    let phy_units: Vec<PhyUnit> = (0..um.len())
        .map(|u| PhyUnit {
            id: u as i64,
            samples: um[&u.to_string()]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_i64().unwrap())
                .collect(),
            group: PhyGroup::Unsorted,
        })
        .collect();
    let rec = InMemoryRecording::new(data, nc, fs).unwrap();
    let params = PhyExportParams {
        max_spikes_per_unit: Some(max_spikes),
        ..Default::default()
    };
    let out_dir = spyglass_testkit::scratch_dir();
    reset_peak();
    let (ours, out) = best_of(1, || {
        write_phy_folder(
            &rec,
            &phy_units,
            &locs,
            &params,
            &[],
            &out_dir.path().join("ours"),
        )
        .unwrap()
    });
    let ours_rss = peak_rss_mb();
    println!(
        "to_phy bench: {} units x {:.0} s x {nc} channels, {max_spikes} waveforms per unit ({} spikes)",
        phy_units.len(),
        rec.data().len() as f64 / nc as f64 / fs,
        out.n_spikes
    );
    println!("  spyglass-kilosort write_phy_folder: {ours:.2} s, peak RSS {ours_rss:.0} MB (traces in memory included)");
    if std::env::var("PHY_BENCH_SKIP_SI").is_ok() {
        return;
    }
    let si_out = out_dir.path().join("si");
    let o = spyglass_testkit::run_python(
        include_str!("si_phy_bench.py"),
        &[
            dir.to_str().unwrap(),
            &max_spikes.to_string(),
            si_out.to_str().unwrap(),
        ],
    );
    let si: serde_json::Value = serde_json::from_str(o.lines().last().unwrap_or("{}")).unwrap();
    let st = si["seconds"].as_f64().unwrap_or(f64::NAN);
    println!(
        "  SpikeInterface 0.105.3 export_to_phy: {st:.2} s, peak RSS {:.0} MB (its process, traces included)",
        si["peak_rss_mb"].as_f64().unwrap_or(f64::NAN)
    );
    println!("  ratio SpikeInterface / ours: {:.1}x", st / ours);
}
