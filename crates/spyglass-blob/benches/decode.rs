//! Decode throughput of `spyglass_blob::unpack` next to datajoint-python's
//! `unpack` on the same bytes, measured in the same run (and, for reference,
//! `pack` next to datajoint-python's `pack` of the same value).
//!
//! Run: `cargo bench -p spyglass-blob --bench decode` (needs the oracle venv).
//! MB/s counts uncompressed blob bytes (10^6 bytes per MB); `pack` includes the
//! zlib attempt DataJoint makes for every blob over 1000 bytes, on both sides.

use std::time::{Duration, Instant};

use spyglass_blob::{pack, pack_uncompressed, unpack, Value};

const PYTHON: &str = r#"
import sys, json, timeit
from datajoint.blob import pack, unpack
out = {}
for path in sys.argv[1:]:
    b = open(path, 'rb').read()
    r = {}
    for name, fn in (("unpack", lambda: unpack(b)), ("pack", lambda: pack(obj))):
        obj = unpack(b)
        t = timeit.Timer(fn)
        n, _ = t.autorange()
        r[name] = min(t.repeat(repeat=5, number=n)) / n
    out[path] = r
print(json.dumps(out))
"#;

/// Seconds per call: best of several batches, each batch at least ~0.2 s.
fn time_it(f: impl Fn()) -> f64 {
    let mut n = 1u32;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        if t.elapsed() > Duration::from_millis(200) {
            break;
        }
        n *= 2;
    }
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() / f64::from(n));
    }
    best
}

fn lcg(n: usize, seed: u64) -> Vec<f64> {
    (0..n as u64)
        .map(|k| {
            let x = (k ^ seed)
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 11) as f64 * 2f64.powi(-53)
        })
        .collect()
}

fn main() {
    let n = (1 << 20) / 8; // 1 MiB of float64
    let cases: Vec<(&str, Vec<u8>, usize)> = {
        let random = Value::from(lcg(n, 0));
        let ramp = Value::from((0..n).map(|k| (k % 1000) as f64 * 0.5).collect::<Vec<_>>());
        let dict =
            Value::dict((0..64).map(|k| (format!("channel_{k:02}"), Value::from(lcg(n / 64, k)))));
        let raw_random = pack_uncompressed(&random);
        let raw_dict = pack_uncompressed(&dict);
        let zl_ramp = pack(&ramp);
        assert!(zl_ramp.starts_with(b"ZL123\0"));
        let ramp_len = pack_uncompressed(&ramp).len();
        vec![
            (
                "float64 1 MiB, uncompressed",
                raw_random.clone(),
                raw_random.len(),
            ),
            (
                "dict of 64 float64 arrays (1 MiB)",
                raw_dict.clone(),
                raw_dict.len(),
            ),
            ("float64 1 MiB, zlib", zl_ramp, ramp_len),
        ]
    };

    let dir = spyglass_testkit::scratch_dir();
    let mut paths = Vec::new();
    for (i, (_, bytes, _)) in cases.iter().enumerate() {
        let p = dir.path().join(format!("case{i}.blob"));
        std::fs::write(&p, bytes).expect("write blob");
        paths.push(p.to_string_lossy().into_owned());
    }
    let args: Vec<&str> = paths.iter().map(String::as_str).collect();
    let py: serde_json::Value =
        serde_json::from_str(spyglass_testkit::run_python(PYTHON, &args).trim())
            .expect("python output");

    for op in ["unpack", "pack"] {
        println!(
            "\n{op}\n{:<36} {:>10} {:>12} {:>12} {:>8}",
            "case", "blob", "ours MB/s", "python MB/s", "ratio"
        );
        for ((name, bytes, logical), path) in cases.iter().zip(&paths) {
            let value = unpack(bytes).expect("decode");
            let ours = if op == "unpack" {
                time_it(|| {
                    std::hint::black_box(unpack(std::hint::black_box(bytes)).expect("decode"));
                })
            } else {
                time_it(|| {
                    std::hint::black_box(pack(std::hint::black_box(&value)));
                })
            };
            let theirs = py[path.as_str()][op].as_f64().expect("python timing");
            let mb = *logical as f64 / 1e6;
            println!(
                "{:<36} {:>9}B {:>12.0} {:>12.0} {:>7.1}x",
                name,
                bytes.len(),
                mb / ours,
                mb / theirs,
                theirs / ours
            );
        }
    }
}
