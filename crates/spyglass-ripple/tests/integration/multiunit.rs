//! The multiunit high-synchrony-event detector against ripple_detection 1.7's own
//! `multiunit_HSE_detector`, run in the test on the same arrays: a Poisson spike
//! indicator of many units with injected population bursts (every unit firing
//! more for 40–120 ms), at a position-like 30 Hz and at 500 Hz, with a speed
//! trace of rest and runs holding a NaN stretch; Spyglass's `default`
//! MuaEventsParameters and others. The same events, boundaries equal to 1e-12 s,
//! every statistic within 1e-9 relative (absolute below 1), NaN where the
//! package's is NaN. The population rate itself is compared with the package's
//! `get_multiunit_population_firing_rate` to 1e-12 relative.

use crate::detectors::{read_f64, write_f64, Rng};
use spyglass_ripple::{
    multiunit_hse_detector, multiunit_population_firing_rate, HseParams, Multiunit, RippleEvent,
};

/// A synthetic spike indicator (time-major counts), speed and the burst centres.
struct Mua {
    time: Vec<f64>,
    counts: Vec<f64>,
    n_units: usize,
    speed: Vec<f64>,
    fs: f64,
}

/// `seconds` at `fs` Hz of `n_units` units firing at 4 Hz, with a burst (each
/// unit at 60 Hz) for 40–120 ms about every second; speed alternating rest
/// (0–3 cm/s) and runs (10–30 cm/s) every 3–8 s, NaN for 0.5 s at a third.
fn mua(seconds: f64, fs: f64, n_units: usize, seed: u64) -> Mua {
    let n = (seconds * fs) as usize;
    let mut rng = Rng::new(seed);
    let t0 = 1_700_000_000.0;
    let time: Vec<f64> = (0..n).map(|i| t0 + i as f64 / fs).collect();
    let mut bursts = vec![];
    let mut c = 0.7;
    while c < seconds - 0.5 {
        bursts.push((c, 0.04 + 0.08 * rng.uniform()));
        c += 0.6 + 0.8 * rng.uniform();
    }
    let mut counts = vec![0.0; n * n_units];
    for i in 0..n {
        let t = i as f64 / fs;
        let in_burst = bursts.iter().any(|&(b, w)| (t - b).abs() < w / 2.0);
        let rate = if in_burst { 60.0 } else { 4.0 };
        let p = rate / fs;
        for u in 0..n_units {
            // up to two spikes per bin at coarse bins
            let mut k = 0.0;
            if rng.uniform() < p {
                k += 1.0;
                if rng.uniform() < p {
                    k += 1.0;
                }
            }
            counts[i * n_units + u] = k;
        }
    }
    let mut speed = vec![0.0; n];
    let mut start = 0;
    let mut running = false;
    while start < n {
        let len = ((3.0 + 5.0 * rng.uniform()) * fs) as usize;
        let level = if running {
            10.0 + 20.0 * rng.uniform()
        } else {
            3.0 * rng.uniform()
        };
        for s in speed.iter_mut().skip(start).take(len) {
            *s = (level + 0.5 * (rng.uniform() - 0.5)).max(0.0);
        }
        start += len;
        running = !running;
    }
    let nan = (n / 3, (0.5 * fs) as usize);
    for s in speed.iter_mut().skip(nan.0).take(nan.1) {
        *s = f64::NAN;
    }
    Mua {
        time,
        counts,
        n_units,
        speed,
        fs,
    }
}

const PY: &str = r#"
import sys, json, warnings
import numpy as np
import ripple_detection
from ripple_detection import multiunit_HSE_detector, get_multiunit_population_firing_rate
d, n, nu, fs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
cases = json.loads(sys.argv[5])
t = np.fromfile(d + '/time', '<f8')
mu = np.fromfile(d + '/counts', '<f8').reshape(n, nu)
speed = np.fromfile(d + '/speed', '<f8')
cols = ['start_time', 'end_time', 'duration', 'max_thresh', 'mean_zscore', 'median_zscore',
        'max_zscore', 'min_zscore', 'area', 'total_energy', 'speed_at_start', 'speed_at_end',
        'max_speed', 'min_speed', 'median_speed', 'mean_speed']
get_multiunit_population_firing_rate(mu, fs, 0.015).astype('<f8').tofile(d + '/rate')
for k, params in enumerate(cases):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        df = multiunit_HSE_detector(t, mu, speed, fs, **params)
    assert list(df.columns) == cols, list(df.columns)
    np.ascontiguousarray(df[cols].to_numpy(dtype=np.float64)).tofile(d + f'/out_{k}')
"#;

fn row(e: &RippleEvent) -> [f64; 16] {
    [
        e.start_time,
        e.end_time,
        e.duration,
        e.max_thresh,
        e.mean_zscore,
        e.median_zscore,
        e.max_zscore,
        e.min_zscore,
        e.area,
        e.total_energy,
        e.speed_at_start,
        e.speed_at_end,
        e.max_speed,
        e.min_speed,
        e.median_speed,
        e.mean_speed,
    ]
}

fn params_json(p: &HseParams) -> String {
    format!(
        "{{\"speed_threshold\": {:?}, \"minimum_duration\": {:?}, \"zscore_threshold\": {:?}, \"smoothing_sigma\": {:?}, \"close_event_threshold\": {:?}}}",
        p.speed_threshold, p.minimum_duration, p.zscore_threshold, p.smoothing_sigma, p.close_event_threshold
    )
}

fn run(m: &Mua, cases: &[HseParams], spyglass_env: bool) -> usize {
    let dir = spyglass_testkit::scratch_dir();
    let d = dir.path();
    write_f64(&d.join("time"), &m.time);
    write_f64(&d.join("counts"), &m.counts);
    write_f64(&d.join("speed"), &m.speed);
    let json = format!(
        "[{}]",
        cases.iter().map(params_json).collect::<Vec<_>>().join(", ")
    );
    let args = [
        d.to_str().unwrap(),
        &m.time.len().to_string(),
        &m.n_units.to_string(),
        &format!("{:?}", m.fs),
        &json,
    ];
    if spyglass_env {
        spyglass_testkit::run_spyglass_python(PY, &args);
    } else {
        spyglass_testkit::run_python(PY, &args);
    }
    let mu = Multiunit {
        data: &m.counts,
        n_units: m.n_units,
    };
    let rate = multiunit_population_firing_rate(mu, m.fs, 0.015).unwrap();
    let want = read_f64(&d.join("rate"));
    assert_eq!(rate.len(), want.len());
    for (k, (a, b)) in rate.iter().zip(&want).enumerate() {
        assert!(
            (a - b).abs() <= 1e-12 * b.abs().max(1.0),
            "rate at {k}: ours {a}, ripple_detection {b}"
        );
    }
    let mut total = 0;
    for (k, p) in cases.iter().enumerate() {
        let ours = multiunit_hse_detector(&m.time, mu, &m.speed, m.fs, p).unwrap();
        let want = read_f64(&d.join(format!("out_{k}")));
        assert_eq!(want.len() % 16, 0);
        assert_eq!(
            ours.len(),
            want.len() / 16,
            "{p:?} at {} Hz: ours {:?}\nripple_detection starts {:?}",
            m.fs,
            ours.iter().map(|e| e.start_time).collect::<Vec<_>>(),
            want.chunks(16).map(|r| r[0]).collect::<Vec<_>>()
        );
        for (i, (e, w)) in ours.iter().zip(want.chunks(16)).enumerate() {
            for (c, (g, w)) in row(e).iter().zip(w).enumerate() {
                if w.is_nan() || g.is_nan() {
                    assert!(
                        w.is_nan() && g.is_nan(),
                        "{p:?} event {i} column {c}: ours {g}, ripple_detection {w}"
                    );
                    continue;
                }
                let (err, tol) = if c < 2 {
                    ((g - w).abs(), 1e-12)
                } else {
                    ((g - w).abs() / w.abs().max(1.0), 1e-9)
                };
                assert!(
                    err <= tol,
                    "{p:?} event {i} column {c}: ours {g}, ripple_detection {w}"
                );
            }
        }
        eprintln!("{p:?} at {} Hz: {} events equal", m.fs, ours.len());
        total += ours.len();
    }
    total
}

fn cases() -> Vec<HseParams> {
    // Spyglass's `default` MuaEventsParameters (smoothing: the package's 15 ms)
    let default = HseParams {
        minimum_duration: 0.015,
        zscore_threshold: 2.0,
        close_event_threshold: 0.0,
        speed_threshold: 4.0,
        ..HseParams::default()
    };
    vec![
        default,
        HseParams {
            zscore_threshold: 3.0,
            close_event_threshold: 0.5,
            smoothing_sigma: 0.03,
            ..default
        },
        HseParams {
            minimum_duration: 0.05,
            speed_threshold: 100.0,
            ..default
        },
    ]
}

#[test]
fn hse_detector_equals_ripple_detection_at_position_and_fine_rates() {
    let coarse = mua(300.0, 30.0, 12, 21);
    assert!(
        run(&coarse, &cases(), false) > 50,
        "too few events to compare"
    );
    let fine = mua(60.0, 500.0, 8, 4);
    assert!(
        run(&fine, &cases(), false) > 20,
        "too few events to compare"
    );
}

#[test]
fn hse_detector_equals_ripple_detection_in_spyglass_env() {
    // the interpreter Spyglass itself runs in (older numpy and scipy)
    let m = mua(120.0, 30.0, 6, 9);
    assert!(run(&m, &cases(), true) > 20, "too few events to compare");
}
