//! Benchmark: the spike-sorting band-pass (Butterworth order 5, 300–6000 Hz at
//! 30 kHz, second-order sections, forward and backward) on int16 data of 128
//! channels, against scipy's `sosfiltfilt` and SpikeInterface's `bandpass_filter`
//! (its default 1 s chunks) measured in the same run on data of the same shape:
//! wall time, throughput per core (samples over the CPU seconds of the step, which
//! stays meaningful on a shared machine), the ratios, peak RSS.
//!
//! Run: `cargo bench -p spyglass-dsp --bench bandpass`. Knobs: `BANDPASS_BENCH_SECONDS`
//! (default 10), `BANDPASS_BENCH_CHANNELS` (128), `BANDPASS_BENCH_SKIP_PYTHON=1`.

use spyglass_dsp::{butter_sos, filtfilt_chunks, Band, DspError};
use spyglass_testkit::bench::{cpu_seconds, peak_rss_mb, reset_peak};
use std::time::Instant;

const FS: f64 = 30_000.0;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const PEERS: &str = r#"
import json, resource, sys, time
import numpy as np, scipy.signal
import spikeinterface.core as sc, spikeinterface.preprocessing as spre
secs, nc = float(sys.argv[1]), int(sys.argv[2])
n = int(secs * 30000)
x = np.random.default_rng(1).integers(-2000, 2000, size=(n, nc), dtype=np.int16)
sos = scipy.signal.iirfilter(5, [300, 6000], fs=30000, btype="bandpass", ftype="butter", output="sos")
def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
# SpikeInterface first (chunked: its peak is the process's so far), then scipy
r = spre.bandpass_filter(sc.NumpyRecording([x], 30000.0), freq_min=300, freq_max=6000, dtype="float64")
t0, c0 = time.perf_counter(), time.process_time()
for s in range(0, n, 30000):
    r.get_traces(start_frame=s, end_frame=min(n, s + 30000))
out = {"si": time.perf_counter() - t0, "si_cpu": time.process_time() - c0, "si_rss_mb": rss_mb()}
t0, c0 = time.perf_counter(), time.process_time()
scipy.signal.sosfiltfilt(sos, x.astype(np.float64), axis=0)
out.update({"scipy": time.perf_counter() - t0, "scipy_cpu": time.process_time() - c0, "scipy_rss_mb": rss_mb()})
print(json.dumps(out))
"#;

fn main() {
    let secs = env_usize("BANDPASS_BENCH_SECONDS", 10);
    let nc = env_usize("BANDPASS_BENCH_CHANNELS", 128);
    let n = secs * FS as usize;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let data: Vec<i16> = (0..n * nc)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as i64 % 2000) as i16
        })
        .collect();
    let sos = butter_sos(5, Band::Bandpass(300.0, 6000.0), FS).expect("design");
    let samples = (n * nc) as f64;
    let threads = rayon::current_num_threads();
    println!(
        "band-pass 300-6000 Hz, order 5, forward-backward: {secs} s × {nc} ch int16 ({:.0} M samples); \
         per-core figures are samples / CPU seconds (user + system) of the step, so they hold on a shared machine",
        samples / 1e6
    );
    // the filter alone: one 2.2 s block (a chunk with its margins), one thread
    let m = 66_000.min(n);
    let x: Vec<f64> = data[..m * nc].iter().map(|&v| v as f64).collect();
    let (c0, t0) = (cpu_seconds(), Instant::now());
    let y = sos.filtfilt(&x, nc).expect("filter");
    let (kw, kc) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
    println!(
        "Sos::filtfilt, one {m}-row block, one thread: {:.1} M samples/s wall, {:.1} per core  [{:.3}]",
        (m * nc) as f64 / kw / 1e6,
        (m * nc) as f64 / kc / 1e6,
        y[5]
    );
    drop((x, y));
    // the filter alone on a block that stays in the cache (2000 rows): the
    // arithmetic's ceiling, without the memory traffic of 2 s chunks
    let m = 2_000.min(n);
    let x: Vec<f64> = data[..m * nc].iter().map(|&v| v as f64).collect();
    let mut y = vec![0.0; m * nc];
    let reps = 100;
    let (c0, t0) = (cpu_seconds(), Instant::now());
    for _ in 0..reps {
        sos.filtfilt_into(&x, nc, 0..m, &mut y).expect("filter");
    }
    let (kw, kc) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
    let done = (reps * m * nc) as f64;
    println!(
        "Sos::filtfilt_into, a {m}-row block {reps} times (in cache), one thread: {:.1} M samples/s wall, {:.1} per core",
        done / kw / 1e6,
        done / kc / 1e6
    );
    drop((x, y));
    // the recording's chunking: 2 s chunks, 100 ms margins, time-major
    reset_peak();
    let (c0, t0) = (cpu_seconds(), Instant::now());
    let mut sink = 0.0;
    filtfilt_chunks(
        &sos,
        n,
        nc,
        (60_000, 3_000),
        // the int16 counts as stored: the filter converts them as it reads them
        |rows, out: &mut [i16]| {
            out.copy_from_slice(&data[rows.start * nc..rows.end * nc]);
            Ok::<(), DspError>(())
        },
        |_, block| {
            sink += block[0];
            Ok(())
        },
    )
    .expect("filter");
    let (ours, ours_cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
    let ours_core = samples / ours_cpu / 1e6;
    println!(
        "spyglass-dsp filtfilt_chunks (2 s chunks, 100 ms margins, {threads} threads): {ours:.2} s, \
         {:.1} M samples/s wall, {ours_core:.1} M samples/s per core, peak RSS {:.0} MB (data {:.0} MB)  [{sink:.3}]",
        samples / ours / 1e6,
        peak_rss_mb(),
        (n * nc * 2) as f64 / 1e6
    );
    if std::env::var("BANDPASS_BENCH_SKIP_PYTHON").is_ok() {
        return;
    }
    let out = spyglass_testkit::run_python(PEERS, &[&secs.to_string(), &nc.to_string()]);
    let v: serde_json::Value =
        serde_json::from_str(out.lines().last().unwrap_or("{}")).expect("peer JSON");
    for (name, key) in [
        ("scipy sosfiltfilt (whole series)", "scipy"),
        ("SpikeInterface bandpass_filter (1 s chunks)", "si"),
    ] {
        let (s, cpu) = (
            v[key].as_f64().unwrap_or(f64::NAN),
            v[&format!("{key}_cpu")].as_f64().unwrap_or(f64::NAN),
        );
        let core = samples / cpu / 1e6;
        println!(
            "{name}: {s:.2} s, {:.1} M samples/s wall, {core:.1} per core, peak RSS {:.0} MB; \
             ours / its: {:.1}× wall, {:.1}× per core",
            samples / s / 1e6,
            v[&format!("{key}_rss_mb")].as_f64().unwrap_or(f64::NAN),
            s / ours,
            ours_core / core
        );
    }
}
