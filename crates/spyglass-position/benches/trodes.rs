//! Benchmark: TrodesPosV1's computation on 1 h of two-LED position at 30 Hz
//! (108 000 samples, default parameters, and upsampled to 60 Hz), ours next to
//! Spyglass's own `calculate_position_info` (Python, position_tools, bottleneck)
//! on the same data in the same run, with the ratio and peak memory of each.
//!
//! Run: `cargo bench -p spyglass-position --bench trodes`. Knobs:
//! `TRODES_BENCH_SECONDS` (default 3600), `TRODES_BENCH_SKIP_PYTHON=1`.
//! Only the computation is timed on both sides (no database, no NWB I/O).

#[allow(dead_code)]
#[path = "../tests/suite/common.rs"]
mod common;

use spyglass_position::trodes::{calculate_position_info, RawLeds, TrodesPosParams};

const PY: &str = r#"
import sys, time, json, resource
import numpy as np
import pandas as pd
n, d, up = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
ns = interval_position_info()
t = read_f64(d + '/t'); data = read_f64(d + '/data', (n, 4))
df = pd.DataFrame(data, index=pd.Index(t, name='time'), columns=['xloc', 'yloc', 'xloc2', 'yloc2'])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
params = {"max_LED_separation": 9.0, "max_plausible_speed": 300.0, "position_smoothing_duration": 0.125,
          "speed_smoothing_std_dev": 0.1, "orient_smoothing_std_dev": 0.001, "led1_is_front": 1,
          "is_upsampled": 0, "upsampling_sampling_rate": None, "upsampling_interpolation_method": "linear"}
res = {}
for label, extra in [('default', {}), ('upsampled', {'is_upsampled': 1, 'upsampling_sampling_rate': up})]:
    best = 1e9
    for _ in range(3):
        t0 = time.perf_counter()
        info = ns['IntervalPositionInfo']().calculate_position_info(spatial_df=df, meters_to_pixels=0.002, **{**params, **extra})
        best = min(best, time.perf_counter() - t0)
    res[label] = best
    res[label + '_speed_sum'] = float(np.nansum(info['speed']))
res['base_mb'] = base
res['peak_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(res))
"#;

fn field(s: &str, key: &str) -> f64 {
    let pat = format!("\"{key}\": ");
    s.find(&pat)
        .and_then(|i| s[i + pat.len()..].split([',', '}']).next())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(f64::NAN)
}

use spyglass_testkit::bench::{best_of, peak_rss_mb};

fn main() {
    let seconds: usize = std::env::var("TRODES_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3600);
    let n = seconds * 30;
    let up_rate = 60.0;
    let data = common::leds(n, 30.0, 1_700_000_000.0, 7, true);
    let leds = RawLeds::Pair {
        led1: data.led1.clone(),
        led2: data.led2.clone(),
    };
    println!("TrodesPosV1 computation: {seconds} s of two-LED position at 30 Hz ({n} samples)");
    let base = peak_rss_mb();
    let default = TrodesPosParams::default();
    let upsampled = TrodesPosParams {
        is_upsampled: true,
        upsampling_sampling_rate: Some(up_rate),
        ..Default::default()
    };
    let (ours_default, info) = best_of(5, || {
        calculate_position_info(&data.time, &leds, 0.002, &default).expect("compute")
    });
    let speed_sum: f64 = info.speed.iter().filter(|v| !v.is_nan()).sum();
    let (ours_up, info_up) = best_of(5, || {
        calculate_position_info(&data.time, &leds, 0.002, &upsampled).expect("compute")
    });
    let up_sum: f64 = info_up.speed.iter().filter(|v| !v.is_nan()).sum();
    let ours_peak = peak_rss_mb();
    println!("  spyglass-position: default {:.1} ms, upsampled to {up_rate} Hz {:.1} ms (best of 5); peak RSS {ours_peak:.0} MB ({:.0} MB above the data)", ours_default * 1e3, ours_up * 1e3, ours_peak - base);
    if std::env::var("TRODES_BENCH_SKIP_PYTHON").is_ok_and(|v| v == "1") {
        return;
    }
    let dir = spyglass_testkit::scratch_dir();
    let d = dir.path();
    common::write_f64(&d.join("t"), &data.time);
    let rows: Vec<f64> = data
        .led1
        .iter()
        .zip(&data.led2)
        .flat_map(|(a, b)| [a[0], a[1], b[0], b[1]])
        .collect();
    common::write_f64(&d.join("data"), &rows);
    let out = common::oracle(PY, &[&n.to_string(), common::p(d), &format!("{up_rate:?}")]);
    let (py_default, py_up) = (field(&out, "default"), field(&out, "upsampled"));
    println!(
        "  Spyglass (Python): default {:.1} ms, upsampled {:.1} ms (best of 3); peak RSS {:.0} MB ({:.0} MB above the interpreter with its imports and the data)",
        py_default * 1e3,
        py_up * 1e3,
        field(&out, "peak_mb"),
        field(&out, "peak_mb") - field(&out, "base_mb")
    );
    println!(
        "  ratio Python / ours: default {:.1}×, upsampled {:.1}×",
        py_default / ours_default,
        py_up / ours_up
    );
    println!(
        "  check: speed sums ours {speed_sum:.6} / {up_sum:.6}, Spyglass {:.6} / {:.6}",
        field(&out, "default_speed_sum"),
        field(&out, "upsampled_speed_sum")
    );
}
