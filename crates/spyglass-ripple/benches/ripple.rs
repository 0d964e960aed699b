//! Benchmark: the Kay and Karlsson detectors on 1 h of 8-channel ripple-band
//! LFP at 1 kHz (3.6 M samples per channel, Spyglass's default parameters),
//! ours next to ripple_detection's `Kay_ripple_detector` /
//! `Karlsson_ripple_detector` (Python) on the same arrays in the same run, with
//! the ratio and peak memory of each.
//!
//! Run: `cargo bench -p spyglass-ripple --bench ripple`. Knobs:
//! `RIPPLE_BENCH_SECONDS` (default 3600), `RIPPLE_BENCH_CHANNELS` (default 8, at
//! least 3), `RIPPLE_BENCH_SKIP_PYTHON=1`.
//! Only the detection is timed on both sides (no file I/O).

#[allow(dead_code)]
#[path = "../tests/integration/detectors.rs"]
mod detectors;

use std::time::Instant;

use spyglass_ripple::{Detector, DetectorParams, Lfps};

const PY: &str = r#"
import sys, time, json, resource, warnings
import numpy as np
import ripple_detection
d, n, nc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t = np.fromfile(d + '/time', '<f8')
lfp = np.fromfile(d + '/lfp', '<f8').reshape(n, nc)
speed = np.fromfile(d + '/speed', '<f8')
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
res = {}
for name, z in [('Kay_ripple_detector', 2.0), ('Karlsson_ripple_detector', 3.0)]:
    best = 1e9
    for _ in range(3):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            df = getattr(ripple_detection, name)(t, lfp, speed, sampling_frequency=1000.0,
                speed_threshold=4.0, minimum_duration=0.015, zscore_threshold=z,
                smoothing_sigma=0.004, close_ripple_threshold=0.0)
        best = min(best, time.perf_counter() - t0)
    res[name] = best
    res[name + '_events'] = len(df)
    res[name + '_peak_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
res['base_mb'] = base
print(json.dumps(res))
"#;

fn field(s: &str, key: &str) -> f64 {
    let pat = format!("\"{key}\": ");
    s.find(&pat)
        .and_then(|i| s[i + pat.len()..].split([',', '}']).next())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(f64::NAN)
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

fn best_of<R>(reps: usize, mut f: impl FnMut() -> R) -> (f64, R) {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..reps {
        let t0 = Instant::now();
        let r = f();
        best = best.min(t0.elapsed().as_secs_f64());
        last = Some(r);
    }
    (best, last.expect("one repetition"))
}

fn main() {
    let seconds: f64 = std::env::var("RIPPLE_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3600.0);
    let nc: usize = std::env::var("RIPPLE_BENCH_CHANNELS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8)
        .max(3);
    let s = detectors::session_channels(seconds, 42, false, nc);
    let n = s.time.len();
    println!(
        "Ripple detection: {seconds} s of {nc}-channel ripple-band LFP at 1 kHz ({n} samples per channel), Spyglass's default parameters"
    );
    let base = peak_rss_mb();
    let lfps = Lfps {
        data: &s.lfp,
        n_channels: nc,
    };
    let mut ours = Vec::new();
    for (det, p) in [
        (Detector::Kay, DetectorParams::kay()),
        (Detector::Karlsson, DetectorParams::karlsson()),
    ] {
        let (secs, ev) = best_of(5, || {
            det.detect(&s.time, lfps, &s.speed, detectors::FS, &p)
                .expect("detect")
        });
        let peak = peak_rss_mb();
        println!(
            "  spyglass-ripple {}: {:.1} ms (best of 5), {} events; peak RSS {peak:.0} MB ({:.0} MB above the data)",
            det.name(),
            secs * 1e3,
            ev.len(),
            peak - base
        );
        ours.push((det, secs, ev.len()));
    }
    if std::env::var("RIPPLE_BENCH_SKIP_PYTHON").is_ok_and(|v| v == "1") {
        return;
    }
    let dir = spyglass_testkit::scratch_dir();
    let d = dir.path();
    detectors::write_f64(&d.join("time"), &s.time);
    detectors::write_f64(&d.join("lfp"), &s.lfp);
    detectors::write_f64(&d.join("speed"), &s.speed);
    let out = spyglass_testkit::run_python(
        PY,
        &[
            d.to_str().expect("utf-8 path"),
            &n.to_string(),
            &nc.to_string(),
        ],
    );
    let py_base = field(&out, "base_mb");
    for (det, secs, count) in ours {
        let name = det.name();
        let py = field(&out, name);
        let py_peak = field(&out, &format!("{name}_peak_mb"));
        println!(
            "  ripple_detection {name} (Python): {:.1} ms (best of 3), {} events; peak RSS {py_peak:.0} MB ({:.0} MB above the interpreter with its imports and the data)",
            py * 1e3,
            field(&out, &format!("{name}_events")),
            py_peak - py_base
        );
        println!(
            "  ratio Python / ours ({name}): {:.1}×{}",
            py / secs,
            if field(&out, &format!("{name}_events")) as usize == count {
                ""
            } else {
                "  (event counts differ!)"
            }
        );
    }
}
