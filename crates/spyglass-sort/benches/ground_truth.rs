//! Benchmark: `spyglass_sorter` against MountainSort5 scheme 2 on SpikeInterface's
//! `generate_ground_truth_recording` (16-channel probe, 20 units, 300 s, seed 2205
//! by default), both scored by `compare_sorter_to_ground_truth` (±0.4 ms): mean
//! accuracy over ground-truth units with SNR ≥ 8, sort time, their ratios and the
//! peak RSS of each side, printed side by side.
//!
//! Run: `cargo bench -p spyglass-sort --bench ground_truth`. Knobs:
//! `GT_BENCH_SEEDS` (comma-separated, default 2205), `GT_BENCH_SECONDS` (300),
//! `GT_BENCH_CHANNELS` (16), `GT_BENCH_UNITS` (20), `GT_BENCH_SKIP_MS5=1`,
//! `GT_BENCH_VERBOSE=1` (per-unit accuracy), `GT_BENCH_DATA=<dir>` (keep the
//! generated recordings there and reuse them), `GT_BENCH_PARAMS` (our parameters
//! as JSON, defaults for the fields left out).
//!
//! Both sorters read the same in-memory traces (no file I/O is timed): ours from
//! [`InMemoryRecording`], MountainSort5 from a `NumpyRecording`; MountainSort5's
//! time includes `spikeinterface.preprocessing.whiten` as ours includes its
//! whitening. MountainSort5 (not in the interop environment) is installed once with
//! pip into `~/.cache/spyglass-rs/ms5-<hash of its pinned requirements>` and put
//! on `PYTHONPATH` for its run only.

#[path = "../tests/integration/gt.rs"]
mod gt;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use md5::{Digest, Md5};
use spyglass_sort::{run_sorter, SorterParams};

/// MountainSort5 and what it needs beyond the interop environment (spikeinterface
/// 0.105.3, numpy, scipy are already there); installs cleanly next to them.
const MS5_REQUIREMENTS: &str = "mountainsort5==0.5.9\nisosplit6==0.1.4\nscikit-learn==1.9.1\n";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident memory of this process so far (VmHWM), MB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The MountainSort5 package directory, installed on first use.
fn ms5_dir() -> PathBuf {
    let hash: String = Md5::digest(MS5_REQUIREMENTS.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    let home = std::env::var("HOME").expect("HOME");
    let dir = Path::new(&home).join(format!(".cache/spyglass-rs/ms5-{hash}"));
    if !dir.exists() {
        let tmp = dir.with_extension("tmp");
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).expect("create the MountainSort5 cache");
        let req = tmp.join("requirements.txt");
        std::fs::write(&req, MS5_REQUIREMENTS).unwrap();
        eprintln!("installing MountainSort5 into {}", dir.display());
        let st = Command::new(spyglass_testkit::python())
            .args(["-m", "pip", "install", "--quiet", "--no-deps", "--target"])
            .arg(&tmp)
            .arg("-r")
            .arg(&req)
            .status()
            .expect("run pip");
        assert!(st.success(), "pip install of MountainSort5 failed");
        std::fs::rename(&tmp, &dir).expect("move the MountainSort5 cache into place");
    }
    dir
}

/// Current resident memory (VmRSS), MB.
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Resets the peak-RSS mark (VmHWM) to the current RSS (Linux `clear_refs` 5), so
/// the peak measured next is that of the sort alone (plus the recording it reads).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn field(v: &serde_json::Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or(f64::NAN)
}

/// Mean accuracy over ground-truth units with SNR ≥ 8 (and how many there are).
fn mean_high_snr(acc: &[(String, f64)], gt: &serde_json::Value) -> (f64, usize) {
    let sel: Vec<f64> = acc
        .iter()
        .filter(|(u, _)| gt["snr"][u.as_str()].as_f64().is_some_and(|s| s >= 8.0))
        .map(|p| p.1)
        .collect();
    (sel.iter().sum::<f64>() / sel.len().max(1) as f64, sel.len())
}

fn main() {
    let seeds: Vec<u64> = std::env::var("GT_BENCH_SEEDS")
        .unwrap_or_else(|_| "2205".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let seconds: f64 = env_or("GT_BENCH_SECONDS", 300.0);
    let channels: usize = env_or("GT_BENCH_CHANNELS", 16);
    let units: usize = env_or("GT_BENCH_UNITS", 20);
    let params: SorterParams = match std::env::var("GT_BENCH_PARAMS") {
        Ok(j) => serde_json::from_str(&j).expect("GT_BENCH_PARAMS: SorterParams JSON"),
        Err(_) => SorterParams::default(),
    };
    let verbose = std::env::var("GT_BENCH_VERBOSE").is_ok_and(|v| v == "1");
    let skip_ms5 = std::env::var("GT_BENCH_SKIP_MS5").is_ok_and(|v| v == "1");
    let ms5 = (!skip_ms5).then(ms5_dir);
    println!(
        "ground truth: {channels} ch, {units} units, {seconds} s; rayon threads {}",
        rayon::current_num_threads()
    );
    for seed in seeds {
        let scratch = spyglass_testkit::scratch_dir();
        let dir = match std::env::var("GT_BENCH_DATA") {
            Ok(root) => {
                let d = Path::new(&root).join(format!("{channels}ch-{units}u-{seconds}s-{seed}"));
                std::fs::create_dir_all(&d).expect("create GT_BENCH_DATA directory");
                d
            }
            Err(_) => scratch.path().to_path_buf(),
        };
        let dir = dir.as_path();
        let g = gt::generate(dir, channels, units, seconds, seed, true);
        let n_hi = g.gt["snr"].as_object().map_or(0, |m| {
            m.values()
                .filter(|v| v.as_f64().unwrap_or(0.0) >= 8.0)
                .count()
        });
        let before = rss_mb();
        reset_peak_rss();
        let t0 = Instant::now();
        let ours = run_sorter(&g.rec, &g.locations, &params).expect("sort");
        let our_s = t0.elapsed().as_secs_f64();
        let our_peak = peak_rss_mb();
        let acc = gt::score(dir, &ours);
        let (our_acc, _) = mean_high_snr(&acc, &g.gt);
        println!("seed {seed}: {n_hi} units with SNR >= 8");
        if verbose {
            for (u, a) in &acc {
                println!(
                    "    unit {u:>3}  snr {:6.1}  accuracy {a:.3}",
                    field(&g.gt["snr"], u)
                );
            }
        }
        println!(
            "  spyglass_sorter : accuracy {our_acc:.3}  time {our_s:7.2} s  units {:3}  peak RSS {our_peak:.0} MB (of which the recording in memory {:.0} MB)",
            ours.units.len(),
            before
        );
        if let Some(ms5) = &ms5 {
            let out = Command::new(spyglass_testkit::python())
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/ms5.py"))
                .arg(dir)
                .env("PYTHONPATH", ms5)
                .output()
                .expect("run MountainSort5");
            assert!(
                out.status.success(),
                "MountainSort5 failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let stdout = String::from_utf8_lossy(&out.stdout);
            let r: serde_json::Value =
                serde_json::from_str(stdout.lines().last().unwrap_or("{}")).unwrap();
            let ms5_units: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&std::fs::read_to_string(dir.join("ms5.json")).unwrap())
                    .unwrap();
            let score_out = spyglass_testkit::run_python(
                include_str!("../tests/integration/score.py"),
                &[
                    dir.join("gt.json").to_str().unwrap(),
                    dir.join("ms5.json").to_str().unwrap(),
                ],
            );
            let m: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(score_out.trim()).unwrap();
            let m_acc: Vec<(String, f64)> = m
                .into_iter()
                .map(|(k, v)| (k, v.as_f64().unwrap()))
                .collect();
            let (ms_acc, _) = mean_high_snr(&m_acc, &g.gt);
            let ms_s = field(&r, "seconds");
            println!(
                "  mountainsort5 s2: accuracy {ms_acc:.3}  time {ms_s:7.2} s  units {:3}  peak RSS {:.0} MB (of which interpreter + traces {:.0} MB)",
                ms5_units.len(),
                field(&r, "peak_mb"),
                field(&r, "base_mb")
            );
            println!(
                "  ratio ours/ms5  : accuracy {:.2}x  time {:.2}x",
                our_acc / ms_acc,
                our_s / ms_s
            );
        }
    }
}
