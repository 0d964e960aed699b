//! Benchmark: Spyglass's LFP filter (6401 taps, low-pass 400/425 Hz at 30 kHz) with
//! decimation by 30, on 60 s × 128 channels of int16, against ghostipy measured in
//! the same run on the same data.
//!
//! Run: `cargo bench -p spyglass-dsp --bench lfp_fir`. Environment knobs:
//! `LFP_BENCH_SECONDS` (default 60), `LFP_BENCH_CHANNELS` (128),
//! `LFP_BENCH_GHOSTIPY_SECONDS` (seconds of the same data given to ghostipy, default
//! 10 channel-major and half that time-major), `LFP_BENCH_SKIP_PYTHON=1` to skip
//! the Python side, `LFP_BENCH_KERNELS=1` to compare kernels and FFT lengths.

use std::time::Instant;

use spyglass_dsp::{find_default_filter, transpose, FirDecimator, FirMethod};

const FS: usize = 30_000;
const DS: usize = 30;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Deterministic pseudo-random int16 "raw" data: noise plus an 8 Hz wave per channel.
fn make_data(n: usize, nc: usize) -> Vec<i16> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = Vec::with_capacity(n * nc);
    for c in 0..nc {
        let phase = c as f64 * 0.1;
        for t in 0..n {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = ((state >> 40) as i64 % 400) - 200;
            let wave =
                300.0 * (2.0 * std::f64::consts::PI * 8.0 * t as f64 / FS as f64 + phase).sin();
            out.push((wave as i64 + noise) as i16);
        }
    }
    out
}

/// Best-of-`reps` wall time of `f`, seconds.
fn time_best<R>(reps: usize, mut f: impl FnMut() -> R) -> (f64, R) {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..reps {
        let t0 = Instant::now();
        let r = f();
        best = best.min(t0.elapsed().as_secs_f64());
        last = Some(r);
    }
    (best, last.expect("at least one repetition"))
}

/// CPU time of the calling thread in seconds (Linux `/proc`, 10 ms ticks), if available.
fn thread_cpu_secs() -> Option<f64> {
    cpu_secs("/proc/thread-self/stat")
}

/// CPU time of the whole process (all threads) in seconds, if available.
fn process_cpu_secs() -> Option<f64> {
    cpu_secs("/proc/self/stat")
}

fn cpu_secs(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the name.
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn msps(samples: usize, secs: f64) -> f64 {
    samples as f64 / secs / 1e6
}

const GHOSTIPY_BENCH: &str = r#"
import sys, time, json
import numpy as np
from ghostipy import firdesign, estimate_taps, filter_data_fir
path, n_total, nc, n_cm, n_tm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
raw = np.fromfile(path, dtype='<i2').reshape(nc, n_total)
b = firdesign(estimate_taps(30000, 25), [400, 425], [1, 0], fs=30000, p=2)
d = (len(b) - 1) // 2
res = {}
# channel-major (C, T), axis -1
x = raw[:, :n_cm].astype(np.float64)
best, cpu = 1e9, 1e9
for _ in range(2):
    t0, c0 = time.perf_counter(), time.process_time()
    y = filter_data_fir(x, b, axis=-1, threads=1, ds=30, output_index_bounds=[d, d + n_cm])
    best = min(best, time.perf_counter() - t0); cpu = min(cpu, time.process_time() - c0)
res['cm_secs'] = best; res['cm_cpu'] = cpu; res['cm_samples'] = nc * n_cm
y.astype('<f8').tofile(path + '.cm.out')
# time-major (T, C), axis 0, as Spyglass feeds NWB data
xt = np.ascontiguousarray(raw[:, :n_tm].T).astype(np.float64)
t0, c0 = time.perf_counter(), time.process_time()
yt = filter_data_fir(xt, b, axis=0, threads=1, ds=30, output_index_bounds=[d, d + n_tm])
res['tm_secs'] = time.perf_counter() - t0; res['tm_cpu'] = time.process_time() - c0; res['tm_samples'] = nc * n_tm
print(json.dumps(res))
"#;

fn json_field(s: &str, key: &str) -> f64 {
    let pat = format!("\"{key}\": ");
    let start = s.find(&pat).map(|i| i + pat.len()).unwrap_or(s.len());
    s[start..]
        .split([',', '}'])
        .next()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(f64::NAN)
}

fn main() {
    let seconds = env_usize("LFP_BENCH_SECONDS", 60);
    let nc = env_usize("LFP_BENCH_CHANNELS", 128);
    let n = seconds * FS;
    let total = n * nc;
    let threads = rayon::current_num_threads();
    println!("LFP FIR benchmark: {seconds} s × {nc} ch int16 at 30 kHz = {:.1} M samples, {threads} rayon threads", total as f64 / 1e6);

    let design = find_default_filter("LFP 0-400 Hz", 30_000)
        .expect("standard filter")
        .design()
        .expect("design");
    let taps = &design.coefficients;
    let t0 = Instant::now();
    let data = make_data(n, nc);
    println!("generated data in {:.2} s", t0.elapsed().as_secs_f64());

    if std::env::var("LFP_BENCH_KERNELS").is_ok() {
        let sub_c = 8.min(nc);
        let sub = &data[..sub_c * n];
        println!("\nkernel comparison on {sub_c} channels, one thread:");
        let mut methods = vec![FirMethod::Direct];
        for dec in [512usize, 768, 1024, 1536, 2048, 3072, 4096] {
            if DS * dec >= taps.len() {
                methods.push(FirMethod::Fft {
                    fft_len: Some(DS * dec),
                });
            }
        }
        let plans: Vec<FirDecimator> = methods
            .iter()
            .map(|&m| FirDecimator::with_method(taps, DS, m).expect("plan"))
            .collect();
        // Interleaved rounds, best of each, to damp other load on the machine.
        let mut best = vec![f64::INFINITY; plans.len()];
        for _ in 0..3 {
            for (b, f) in best.iter_mut().zip(&plans) {
                let (secs, _) =
                    time_best(1, || f.filter_channels_serial(sub, sub_c).expect("filter"));
                *b = b.min(secs);
            }
        }
        for (m, secs) in methods.iter().zip(&best) {
            println!(
                "  {:<32} {:8.1} M samples/s",
                format!("{m:?}"),
                msps(sub.len(), *secs)
            );
        }
    }

    let f = FirDecimator::new(taps, DS).expect("plan");
    println!("\nchosen kernel: {:?}", f.method());
    let cpu0 = thread_cpu_secs();
    let (one_secs, out_serial) =
        time_best(2, || f.filter_channels_serial(&data, nc).expect("filter"));
    // CPU seconds per serial run: insensitive to time-slicing by other load.
    let one_cpu = cpu0.zip(thread_cpu_secs()).map(|(a, b)| (b - a) / 2.0);
    let pcpu0 = process_cpu_secs();
    let (all_secs, out_par) = time_best(2, || f.filter_channels(&data, nc).expect("filter"));
    let all_cpu = pcpu0.zip(process_cpu_secs()).map(|(a, b)| (b - a) / 2.0);
    assert_eq!(out_serial, out_par, "serial and parallel outputs differ");
    let (tr_secs, tm) = time_best(2, || transpose(&data, nc, n).expect("transpose"));
    let (tm_secs, out_tm) = time_best(2, || f.filter_time_major(&tm, nc).expect("filter"));
    drop(tm);
    let n_out = f.output_len(n);
    let back = transpose(&out_tm, n_out, nc).expect("transpose");
    assert_eq!(back, out_par, "time-major output differs");

    let ours_one = msps(total, one_secs);
    let ours_all = msps(total, all_secs);
    let ours_tm = msps(total, tm_secs);
    println!("\nspyglass-dsp (Rust), wall clock, best of 2");
    println!(
        "  channel-major, 1 thread             {ours_one:8.1} M samples/s  ({one_secs:.2} s, {:.0}× real time)",
        ours_one / 3.84
    );
    if let Some(cpu) = one_cpu {
        println!(
            "    per CPU-second of that thread     {:8.1} M samples/s",
            msps(total, cpu)
        );
    }
    println!("  channel-major, {threads} threads            {ours_all:8.1} M samples/s  ({all_secs:.2} s)");
    if let Some(cpu) = all_cpu {
        println!(
            "    used {:.2} CPU-seconds per run: {:.2} cores busy, {:.1} M samples per CPU-second",
            cpu,
            cpu / all_secs,
            msps(total, cpu)
        );
    }
    println!("  time-major in and out, {threads} threads    {ours_tm:8.1} M samples/s  ({tm_secs:.2} s, transposes included)");
    println!("    (one transpose of the int16 input alone: {tr_secs:.2} s)");

    if std::env::var("LFP_BENCH_SKIP_PYTHON").is_ok() {
        return;
    }
    let g_secs = env_usize("LFP_BENCH_GHOSTIPY_SECONDS", 10.min(seconds));
    let n_cm = g_secs * FS;
    let n_tm = (g_secs * FS / 2).max(FS);
    // Only the span ghostipy filters is written: channel-major, n_cm samples per channel.
    let sub: Vec<i16> = (0..nc)
        .flat_map(|c| data[c * n..c * n + n_cm].iter().copied())
        .collect();
    let dir = spyglass_testkit::scratch_dir();
    let path = dir.path().join("raw.i16");
    let bytes: Vec<u8> = sub.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(&path, bytes).expect("write data");
    let p = path.to_str().expect("utf-8 path");
    println!(
        "\nghostipy 0.2.2 filter_data_fir (threads=1, float64) on the first {g_secs} s (C,T) / {} s (T,C) of the same data ...",
        n_tm / FS
    );
    let t_py = Instant::now();
    let out = spyglass_testkit::run_python(
        GHOSTIPY_BENCH,
        &[
            p,
            &n_cm.to_string(),
            &nc.to_string(),
            &n_cm.to_string(),
            &n_tm.to_string(),
        ],
    );
    println!("  (Python side took {:.1} s)", t_py.elapsed().as_secs_f64());
    let field = |k: &str| json_field(&out, k);
    let g_cm = msps(field("cm_samples") as usize, field("cm_secs"));
    let g_tm = msps(field("tm_samples") as usize, field("tm_secs"));
    let g_cm_cpu = msps(field("cm_samples") as usize, field("cm_cpu"));
    let g_tm_cpu = msps(field("tm_samples") as usize, field("tm_cpu"));

    // Same numbers? Compare ghostipy's channel-major output with ours on that span.
    let g_out: Vec<f64> = std::fs::read(format!("{p}.cm.out"))
        .expect("ghostipy output")
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect();
    let ours_sub = f.filter_channels(&sub, nc).expect("filter");
    let scale = g_out.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let err = ours_sub
        .iter()
        .zip(&g_out)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    println!("  max |ours − ghostipy| = {err:.3e} (output scale {scale:.1})");

    println!(
        "\nsummary (M samples/s = channel-samples of input per second; 128 ch at 30 kHz = 3.84)"
    );
    println!(
        "  {:<50} {:>11} {:>10}",
        "wall clock", "M samples/s", "ours ÷ it"
    );
    let row = |label: &str, v: f64, ratio: Option<f64>| match ratio {
        Some(r) => println!("  {label:<50} {v:>11.1} {r:>10.1}"),
        None => println!("  {label:<50} {v:>11.1}"),
    };
    row(
        "ghostipy (T,C) axis 0, 1 thread [Spyglass's way]",
        g_tm,
        Some(ours_one / g_tm),
    );
    row(
        "ghostipy (C,T) axis -1, 1 thread",
        g_cm,
        Some(ours_one / g_cm),
    );
    row("ours channel-major, 1 thread", ours_one, None);
    row(
        &format!("ours channel-major, {threads} threads"),
        ours_all,
        None,
    );
    row(
        &format!("ours time-major, {threads} threads (vs ghostipy (T,C))"),
        ours_tm,
        Some(ours_tm / g_tm),
    );
    if let Some(cpu) = one_cpu {
        let ours_cpu = msps(total, cpu);
        println!(
            "  {:<50} {:>11} {:>10}",
            "per CPU-second (insensitive to other load)", "", ""
        );
        row(
            "ghostipy (T,C), 1 thread",
            g_tm_cpu,
            Some(ours_cpu / g_tm_cpu),
        );
        row(
            "ghostipy (C,T), 1 thread",
            g_cm_cpu,
            Some(ours_cpu / g_cm_cpu),
        );
        row("ours channel-major, 1 thread", ours_cpu, None);
    }
    println!("  (ratios on the ghostipy rows: ours 1 thread ÷ ghostipy; on ours time-major: ÷ ghostipy (T,C))");
}
