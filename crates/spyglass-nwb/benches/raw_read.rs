//! Benchmark: read 60 s × 128 channels of int16 raw data as channel-major blocks
//! (10 s × all channels each) from contiguous, chunked and gzip-chunked files, with our
//! reader (1 and 2 threads) and with h5py on the same files in the same run.
//!
//! `cargo bench -p spyglass-nwb --bench raw_read` (release). Environment:
//! `SPYGLASS_BENCH_SECONDS` (default 60), `SPYGLASS_BENCH_CHANNELS` (default 128),
//! `SPYGLASS_BENCH_DIR` (keep the files there between runs instead of a temp dir).

use std::path::{Path, PathBuf};
use std::time::Instant;

use spyglass_nwb::synthetic::{write_session, SyntheticParams};
use spyglass_nwb::{Compression, NwbFile};

const H5PY: &str = r#"
import sys, time, h5py, numpy as np
path, block, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def run(transpose):
    best = 1e9
    for _ in range(reps):
        t0 = time.perf_counter()
        with h5py.File(path, "r") as f:
            d = f["acquisition/e-series/data"]
            n = d.shape[0]
            for s in range(0, n, block):
                x = d[s:min(s + block, n), :]
                if transpose:
                    x = np.ascontiguousarray(x.T)
        best = min(best, time.perf_counter() - t0)
    return best
print(run(False), run(True))
"#;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ours(path: &Path, threads: usize, block: usize, reps: usize) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..reps {
        let t0 = Instant::now();
        let f = NwbFile::open(path).expect("open");
        let r = f
            .raw_reader("/acquisition/e-series")
            .expect("reader")
            .with_threads(threads)
            .expect("pool");
        let ch: Vec<usize> = (0..r.num_channels()).collect();
        let n = r.num_samples();
        let mut s = 0;
        let mut checksum = 0i64;
        while s < n {
            let e = (s + block).min(n);
            let b = r.read::<i16>(s..e, &ch).expect("read");
            checksum += b[ch.len() - 1][e - s - 1] as i64;
            s = e;
        }
        std::hint::black_box(checksum);
        best = best.min(t0.elapsed().as_secs_f64());
    }
    best
}

fn main() {
    // Tests and benches spawn Python while files are open: see `h5::create` on locking.
    std::env::set_var("HDF5_USE_FILE_LOCKING", "FALSE");
    let seconds = env_usize("SPYGLASS_BENCH_SECONDS", 60);
    let channels = env_usize("SPYGLASS_BENCH_CHANNELS", 128);
    let reps = env_usize("SPYGLASS_BENCH_REPS", 3);
    let tmp = tempfile::Builder::new()
        .prefix("spyglass-bench-")
        .tempdir()
        .expect("temp dir");
    let dir: PathBuf = std::env::var("SPYGLASS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("bench dir");
    let fs = 30000usize;
    let block = 10 * fs;
    let mb = (seconds * fs * channels * 2) as f64 / 1e6;
    let layouts = [
        ("contiguous", Compression::Contiguous),
        ("chunked", Compression::Chunked { rows: fs }),
        (
            "gzip",
            Compression::Gzip {
                rows: fs,
                level: 4,
                shuffle: false,
            },
        ),
    ];
    println!("raw read benchmark: {seconds} s x {channels} ch int16 = {mb:.0} MB, blocks of 10 s x all channels, best of {reps}");
    println!(
        "{:<11} {:>9} {:>12} {:>12} {:>12} {:>13} {:>13} {:>9}",
        "layout",
        "file MB",
        "ours 1 thr",
        "ours 2 thr",
        "h5py read",
        "h5py +T(ch-major)",
        "ratio 2thr/h5py+T",
        "vs read"
    );
    for (name, compression) in layouts {
        let path = dir.join(format!("bench_{name}_{seconds}s_{channels}ch.nwb"));
        if !path.exists() {
            let t0 = Instant::now();
            write_session(
                &path,
                &SyntheticParams {
                    duration_s: seconds as f64,
                    n_channels: channels,
                    n_groups: if channels % 4 == 0 { channels / 4 } else { 1 },
                    n_units: 16,
                    compression,
                    seed: 7,
                    ..Default::default()
                },
            )
            .expect("write bench file");
            eprintln!(
                "wrote {} in {:.1} s",
                path.display(),
                t0.elapsed().as_secs_f64()
            );
        }
        let size = std::fs::metadata(&path)
            .map(|m| m.len() as f64 / 1e6)
            .unwrap_or(0.0);
        ours(&path, 2, block, 1); // warm the page cache
        let t1 = ours(&path, 1, block, reps);
        let t2 = ours(&path, 2, block, reps);
        let out = spyglass_testkit::run_python(
            H5PY,
            &[
                path.to_str().unwrap(),
                &block.to_string(),
                &reps.to_string(),
            ],
        );
        let mut it = out.split_whitespace().filter_map(|x| x.parse::<f64>().ok());
        let (h_read, h_t) = (it.next().unwrap_or(f64::NAN), it.next().unwrap_or(f64::NAN));
        println!(
            "{:<11} {:>9.0} {:>7.0} MB/s {:>7.0} MB/s {:>7.0} MB/s {:>8.0} MB/s {:>12.2}x {:>8.2}x",
            name,
            size,
            mb / t1,
            mb / t2,
            mb / h_read,
            mb / h_t,
            h_t / t2,
            h_read / t2
        );
    }
}
