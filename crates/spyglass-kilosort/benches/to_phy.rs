//! Benchmark: a phy folder for 10 units × 60 s of 32 channels by default (the issue's
//! 100 units × 1 h with `PHY_BENCH_UNITS=100 PHY_BENCH_SECONDS=3600`), SpikeInterface's
//! `generate_ground_truth_recording` (5 Hz units, the metrics bench's `gen.py`): ours
//! ([`write_phy_folder`]: waveforms of 500 spikes per unit, templates, amplitudes,
//! similar templates, per-channel PCA fitted and every spike projected, the files
//! written) against SpikeInterface 0.105's `create_sorting_analyzer` + random_spikes /
//! waveforms / templates + `export_to_phy` (dense as ours, no recording copy,
//! `n_jobs=2`, its default chunking) in the same run: wall and CPU seconds, their ratios,
//! peak RSS of each side (CPU seconds compare the work done even on a loaded machine). Both stream the same raw float32 traces file (ours [`RawF32File`],
//! SpikeInterface `read_binary`).
//!
//! When the peer would take too long at the full size, `PHY_BENCH_PEER_UNITS` /
//! `PHY_BENCH_PEER_SECONDS` give a smaller size: ours and SpikeInterface run there (the
//! ratio), and ours runs at the full size too.
//!
//! Run: `cargo bench -p spyglass-kilosort --bench to_phy`. Knobs: `PHY_BENCH_SECONDS`
//! (60), `PHY_BENCH_UNITS` (10), `PHY_BENCH_CHANNELS` (32), `PHY_BENCH_MAX_SPIKES` (500
//! per unit), `PHY_BENCH_DATA=<dir>` (keep / reuse the generated recordings, one
//! subfolder per size, shared with the metrics bench), `PHY_BENCH_SKIP_SI=1`.

use data::{env_or, prepare, Data};
use spyglass_kilosort::phy::{write_phy_folder, PhyExportParams, PhyGroup, PhyUnit};
use spyglass_sort::{ChunkSource, RawF32File};
use spyglass_testkit::bench::{best_of, cpu_seconds, peak_rss_mb, reset_peak};
use std::path::{Path, PathBuf};

#[path = "../../spyglass-metrics/benches/common/data.rs"]
mod data;

/// Ours on `d`, written under `out`: prints and returns the wall and CPU seconds.
fn ours(d: &Data, max_spikes: usize, out: &Path) -> (f64, f64) {
    let rec = RawF32File::open(&d.dir.join("traces.f32"), d.nc, d.fs).unwrap();
    let phy_units: Vec<PhyUnit> = d
        .trains
        .iter()
        .enumerate()
        .map(|(u, t)| PhyUnit {
            id: u as i64,
            samples: t.clone(),
            group: PhyGroup::Unsorted,
        })
        .collect();
    let params = PhyExportParams {
        max_spikes_per_unit: Some(max_spikes),
        ..Default::default()
    };
    reset_peak();
    let cpu0 = cpu_seconds();
    let (secs, exported) = best_of(1, || {
        write_phy_folder(&rec, &phy_units, &d.locs, &params, &[], out).unwrap()
    });
    let cpu = cpu_seconds() - cpu0;
    let rss = peak_rss_mb();
    println!(
        "to_phy bench: {} units x {:.0} s x {} channels, {max_spikes} waveforms per unit ({} spikes)",
        phy_units.len(),
        rec.num_samples() as f64 / d.fs,
        d.nc,
        exported.n_spikes
    );
    println!(
        "  spyglass-kilosort write_phy_folder: {secs:.2} s, CPU {cpu:.2} s, peak RSS {rss:.0} MB"
    );
    (secs, cpu)
}

/// SpikeInterface on `d`, written under `out`: prints its time, RSS and the ratios to
/// `ours` (wall, CPU).
fn peer(d: &Data, max_spikes: usize, out: &Path, (ours, ours_cpu): (f64, f64)) {
    let o = spyglass_testkit::run_python(
        include_str!("si_phy_bench.py"),
        &[
            d.dir.to_str().unwrap(),
            &max_spikes.to_string(),
            out.to_str().unwrap(),
        ],
    );
    let si: serde_json::Value = serde_json::from_str(o.lines().last().unwrap_or("{}")).unwrap();
    let st = si["seconds"].as_f64().unwrap_or(f64::NAN);
    let sc = si["cpu_seconds"].as_f64().unwrap_or(f64::NAN);
    println!(
        "  SpikeInterface 0.105.3 export_to_phy (n_jobs=2): {st:.2} s, CPU {sc:.2} s, pc_features of {} spikes, peak RSS {:.0} MB (main process; largest worker {:.0} MB)",
        si["pc_spikes"],
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
    let secs: f64 = env_or("PHY_BENCH_SECONDS", 60.0);
    let units: usize = env_or("PHY_BENCH_UNITS", 10);
    let peer_secs: f64 = env_or("PHY_BENCH_PEER_SECONDS", secs);
    let peer_units: usize = env_or("PHY_BENCH_PEER_UNITS", units);
    let channels: usize = env_or("PHY_BENCH_CHANNELS", 32);
    let max_spikes: usize = env_or("PHY_BENCH_MAX_SPIKES", 500);
    let skip_si = std::env::var("PHY_BENCH_SKIP_SI").is_ok();
    let tmp = spyglass_testkit::scratch_dir();
    let base = std::env::var("PHY_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| tmp.path().to_path_buf());
    let out_dir = spyglass_testkit::scratch_dir();
    let at = |name: &str| out_dir.path().join(name);
    if (peer_units, peer_secs) != (units, secs) {
        let small = prepare(&base, channels, peer_units, peer_secs);
        let t = ours(&small, max_spikes, &at("ours_small"));
        if !skip_si {
            peer(&small, max_spikes, &at("si_small"), t);
        }
        drop(small);
        println!("(SpikeInterface not run at the next size)");
        ours(
            &prepare(&base, channels, units, secs),
            max_spikes,
            &at("ours"),
        );
    } else {
        let d = prepare(&base, channels, units, secs);
        let t = ours(&d, max_spikes, &at("ours"));
        if !skip_si {
            peer(&d, max_spikes, &at("si"), t);
        }
    }
}
