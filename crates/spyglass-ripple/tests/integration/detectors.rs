//! The Kay and Karlsson detectors against ripple_detection 1.7's own
//! `Kay_ripple_detector` / `Karlsson_ripple_detector`, run in the test on the
//! same arrays (a synthetic ripple-band LFP with bursts, noise, NaN gaps, Unix
//! epoch times, and a speed trace with movement periods): the same events,
//! boundaries equal to 1e-12 s, every statistic within 1e-9 relative
//! (absolute for values below 1).

use std::path::Path;

use spyglass_ripple::{Detector, DetectorParams, Lfps, RippleEvent};

pub const FS: f64 = 1000.0;
pub const N_CHANNELS: usize = 4;

/// Deterministic xorshift generator.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A synthetic session: times, ripple-band LFP (time-major), speed.
pub struct Session {
    pub time: Vec<f64>,
    pub lfp: Vec<f64>,
    pub speed: Vec<f64>,
    /// Centres of the bursts put in (s from the start).
    pub bursts: Vec<f64>,
}

/// `seconds` of [`N_CHANNELS`]-channel ripple-band LFP at 1 kHz
/// ([`session_channels`]).
pub fn session(seconds: f64, seed: u64, gaps: bool) -> Session {
    session_channels(seconds, seed, gaps, N_CHANNELS)
}

/// `seconds` of `n_channels`-channel (at least 3) ripple-band LFP at 1 kHz:
/// band-limited noise (sum of 40 sinusoids in 150–250 Hz, random phases per
/// channel), a 140–220 Hz burst with a Gaussian envelope (σ 8–25 ms, 3–8× the
/// noise) about every 0.7 s on every channel with a channel gain; speed
/// alternating rest (0–3 cm/s) and runs (up to 30 cm/s) with ramps; with `gaps`,
/// a few NaN stretches in one channel and in the speed.
pub fn session_channels(seconds: f64, seed: u64, gaps: bool, n_channels: usize) -> Session {
    let n = (seconds * FS) as usize;
    let mut rng = Rng::new(seed);
    let t0 = 1_600_000_000.0;
    let time: Vec<f64> = (0..n).map(|i| t0 + i as f64 / FS).collect();
    let tau = std::f64::consts::TAU;
    let comps: Vec<Vec<(f64, f64)>> = (0..n_channels)
        .map(|_| {
            (0..40)
                .map(|_| (150.0 + 100.0 * rng.uniform(), tau * rng.uniform()))
                .collect()
        })
        .collect();
    let mut bursts = Vec::new();
    let mut c = 0.5;
    while c < seconds - 0.5 {
        bursts.push((
            c,
            0.008 + 0.017 * rng.uniform(),
            3.0 + 5.0 * rng.uniform(),
            140.0 + 80.0 * rng.uniform(),
        ));
        c += 0.3 + 0.8 * rng.uniform();
    }
    let gains = [1.0, 0.8, 1.2, 0.6];
    let mut lfp = vec![0.0; n * n_channels];
    for i in 0..n {
        let t = i as f64 / FS;
        for (ch, comp) in comps.iter().enumerate() {
            let noise: f64 = comp
                .iter()
                .map(|(f, p)| (tau * f * t + p).sin())
                .sum::<f64>()
                / 40f64.sqrt();
            let mut v = noise;
            for &(bc, sd, amp, f) in &bursts {
                let d = t - bc;
                if d.abs() < 5.0 * sd {
                    v += gains[ch % gains.len()]
                        * amp
                        * (-0.5 * (d / sd).powi(2)).exp()
                        * (tau * f * d).sin();
                }
            }
            lfp[i * n_channels + ch] = v;
        }
    }
    // speed: rest / run blocks of 3–10 s, linear ramps of 0.5 s, jitter
    let mut speed = vec![0.0; n];
    let mut level = Vec::new();
    let mut running = false;
    let mut start = 0usize;
    while start < n {
        let len = ((3.0 + 7.0 * rng.uniform()) * FS) as usize;
        let target = if running {
            10.0 + 20.0 * rng.uniform()
        } else {
            3.0 * rng.uniform()
        };
        level.push((start, (start + len).min(n), target));
        start += len;
        running = !running;
    }
    let mut prev = 0.0;
    for &(a, b, target) in &level {
        let ramp = 500usize.min(b - a);
        for (k, s) in speed[a..b].iter_mut().enumerate() {
            let base = if k < ramp {
                prev + (target - prev) * k as f64 / ramp as f64
            } else {
                target
            };
            *s = (base + 0.5 * (rng.uniform() - 0.5)).max(0.0);
        }
        prev = target;
    }
    if gaps {
        for i in n / 5..n / 5 + 200 {
            lfp[i * n_channels + 2] = f64::NAN;
        }
        for s in &mut speed[n / 2..n / 2 + 50] {
            *s = f64::NAN;
        }
    }
    Session {
        time,
        lfp,
        speed,
        bursts: bursts.iter().map(|b| b.0).collect(),
    }
}

pub fn write_f64(path: &Path, data: &[f64]) {
    let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, bytes).expect("write f64 file");
}

pub fn read_f64(path: &Path) -> Vec<f64> {
    std::fs::read(path)
        .expect("read f64 file")
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect()
}

const COLUMNS: [&str; 16] = [
    "start_time",
    "end_time",
    "duration",
    "max_thresh",
    "mean_zscore",
    "median_zscore",
    "max_zscore",
    "min_zscore",
    "area",
    "total_energy",
    "speed_at_start",
    "speed_at_end",
    "max_speed",
    "min_speed",
    "median_speed",
    "mean_speed",
];

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

/// Runs each case with ripple_detection: `cases` is a JSON list of
/// `[detector name, params dict]`; writes `out_<k>` (events × 16 columns).
const PY: &str = r#"
import sys, json, warnings
import numpy as np
import ripple_detection
d, n, nc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cases = json.loads(sys.argv[4])
t = np.fromfile(d + '/time', '<f8')
lfp = np.fromfile(d + '/lfp', '<f8').reshape(n, nc)
speed = np.fromfile(d + '/speed', '<f8')
cols = ['start_time', 'end_time', 'duration', 'max_thresh', 'mean_zscore', 'median_zscore',
        'max_zscore', 'min_zscore', 'area', 'total_energy', 'speed_at_start', 'speed_at_end',
        'max_speed', 'min_speed', 'median_speed', 'mean_speed']
for k, (name, params) in enumerate(cases):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            df = getattr(ripple_detection, name)(t, lfp, speed, sampling_frequency=1000.0, **params)
        except IndexError:
            open(d + f'/out_{k}.error', 'w').close()
            continue
    assert list(df.columns) == cols, list(df.columns)
    np.ascontiguousarray(df[cols].to_numpy(dtype=np.float64)).tofile(d + f'/out_{k}')
print(ripple_detection.__version__ if hasattr(ripple_detection, '__version__') else 'ok')
"#;

fn params_json(p: &DetectorParams) -> String {
    format!(
        "{{\"speed_threshold\": {:?}, \"minimum_duration\": {:?}, \"zscore_threshold\": {:?}, \"smoothing_sigma\": {:?}, \"close_ripple_threshold\": {:?}}}",
        p.speed_threshold, p.minimum_duration, p.zscore_threshold, p.smoothing_sigma, p.close_ripple_threshold
    )
}

fn compare(label: &str, ours: &[RippleEvent], want: &[f64]) {
    assert_eq!(want.len() % 16, 0, "{label}: oracle output shape");
    let n_want = want.len() / 16;
    assert_eq!(
        ours.len(),
        n_want,
        "{label}: {} events, ripple_detection {n_want}\nours: {:?}\noracle starts: {:?}",
        ours.len(),
        ours.iter().map(|e| e.start_time).collect::<Vec<_>>(),
        want.chunks(16).map(|r| r[0]).collect::<Vec<_>>()
    );
    let mut worst = [0.0f64; 16];
    for (i, (e, w)) in ours.iter().zip(want.chunks(16)).enumerate() {
        let got = row(e);
        for c in 0..16 {
            let err = if c < 2 {
                (got[c] - w[c]).abs()
            } else {
                (got[c] - w[c]).abs() / w[c].abs().max(1.0)
            };
            let tol = if c < 2 { 1e-12 } else { 1e-9 };
            assert!(
                err <= tol,
                "{label}: event {i} {}: ours {}, ripple_detection {}",
                COLUMNS[c],
                got[c],
                w[c]
            );
            worst[c] = worst[c].max(err);
        }
    }
    let max_stat = worst[2..].iter().copied().fold(0.0, f64::max);
    eprintln!(
        "{label}: {} events equal; boundaries max |Δ| {:e} s, statistics max rel error {max_stat:e}",
        ours.len(),
        worst[0].max(worst[1])
    );
}

fn run_cases(s: &Session, cases: &[(Detector, DetectorParams)], spyglass_env: bool) {
    let dir = spyglass_testkit::scratch_dir();
    let d = dir.path();
    write_f64(&d.join("time"), &s.time);
    write_f64(&d.join("lfp"), &s.lfp);
    write_f64(&d.join("speed"), &s.speed);
    let json = format!(
        "[{}]",
        cases
            .iter()
            .map(|(det, p)| format!("[\"{}\", {}]", det.name(), params_json(p)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let args = [
        d.to_str().expect("utf-8 path"),
        &s.time.len().to_string(),
        &N_CHANNELS.to_string(),
        &json,
    ];
    if spyglass_env {
        spyglass_testkit::run_spyglass_python(PY, &args);
    } else {
        spyglass_testkit::run_python(PY, &args);
    }
    let env = if spyglass_env {
        "Spyglass env"
    } else {
        "oracle env"
    };
    for (k, (det, p)) in cases.iter().enumerate() {
        let ours = det.detect(
            &s.time,
            Lfps {
                data: &s.lfp,
                n_channels: N_CHANNELS,
            },
            &s.speed,
            FS,
            p,
        );
        let label = format!("{} {p:?} ({env})", det.name());
        if d.join(format!("out_{k}.error")).exists() {
            assert!(
                ours.is_err(),
                "{label}: ripple_detection raised IndexError, ours succeeded"
            );
            eprintln!("{label}: both refuse ({})", ours.unwrap_err());
            continue;
        }
        let ours = ours.expect("detect");
        let want = read_f64(&d.join(format!("out_{k}")));
        compare(&label, &ours, &want);
    }
}

fn cases() -> Vec<(Detector, DetectorParams)> {
    vec![
        // Spyglass's `default` RippleParameters
        (Detector::Kay, DetectorParams::kay()),
        (
            Detector::Kay,
            DetectorParams {
                zscore_threshold: 2.5,
                close_ripple_threshold: 0.1,
                minimum_duration: 0.02,
                ..DetectorParams::kay()
            },
        ),
        (Detector::Karlsson, DetectorParams::karlsson()),
        (
            Detector::Karlsson,
            DetectorParams {
                zscore_threshold: 2.0,
                close_ripple_threshold: 0.5,
                ..DetectorParams::kay()
            },
        ),
    ]
}

#[test]
fn detectors_equal_ripple_detection() {
    let s = session(120.0, 11, true);
    run_cases(&s, &cases(), false);
}

#[test]
fn detectors_equal_ripple_detection_in_spyglass_env() {
    // the interpreter Spyglass itself runs in (older numpy and scipy)
    let s = session(60.0, 5, false);
    run_cases(&s, &cases(), true);
}

#[test]
fn short_events_follow_the_package_past_the_edges() {
    // Karlsson's statistics take max_thresh over 15 ms whatever minimum_duration
    // is: an event spanning less sends the package's window past the event's
    // first sample (Python's negative indices) and on into an IndexError; ours
    // refuse the same inputs. Kay with minimum_duration 0 keeps one-sample events.
    let s = session(30.0, 8, false);
    let short = DetectorParams {
        minimum_duration: 0.004,
        zscore_threshold: 1.0,
        ..DetectorParams::karlsson()
    };
    let shorter = DetectorParams {
        minimum_duration: 0.0,
        ..short
    };
    let cases = [
        (Detector::Karlsson, short),
        (Detector::Karlsson, shorter),
        (Detector::Kay, shorter),
    ];
    run_cases(&s, &cases, false);
}

#[test]
fn detected_events_are_the_bursts_at_rest() {
    // sanity of the synthetic data: most detected Kay events hold a burst centre
    let s = session(60.0, 3, false);
    let ev = Detector::Kay
        .detect(
            &s.time,
            Lfps {
                data: &s.lfp,
                n_channels: N_CHANNELS,
            },
            &s.speed,
            FS,
            &DetectorParams::kay(),
        )
        .expect("detect");
    assert!(ev.len() > 10, "{} events", ev.len());
    let t0 = s.time[0];
    let hits = ev
        .iter()
        .filter(|e| {
            s.bursts
                .iter()
                .any(|b| (e.start_time - t0..=e.end_time - t0).contains(b))
        })
        .count();
    assert!(
        hits * 10 >= ev.len() * 8,
        "{hits} of {} events hold a burst",
        ev.len()
    );
    assert!(ev
        .iter()
        .all(|e| e.speed_at_start <= 4.0 && e.speed_at_end <= 4.0));
}

#[test]
fn bad_inputs_are_refused() {
    let s = session(2.0, 1, false);
    let lfps = Lfps {
        data: &s.lfp,
        n_channels: N_CHANNELS,
    };
    let p = DetectorParams::kay();
    // lengths, channel layout, sampling rate, times in samples, parameters
    assert!(Detector::Kay
        .detect(&s.time[1..], lfps, &s.speed, FS, &p)
        .is_err());
    let odd = Lfps {
        data: &s.lfp[1..],
        n_channels: N_CHANNELS,
    };
    assert!(Detector::Kay
        .detect(&s.time, odd, &s.speed, FS, &p)
        .is_err());
    assert!(Detector::Kay
        .detect(&s.time, lfps, &s.speed, 0.0, &p)
        .is_err());
    let samples: Vec<f64> = (0..s.time.len()).map(|i| i as f64).collect();
    assert!(Detector::Kay
        .detect(&samples, lfps, &s.speed, FS, &p)
        .is_err());
    let bad = DetectorParams {
        smoothing_sigma: 0.0,
        ..p
    };
    assert!(Detector::Karlsson
        .detect(&s.time, lfps, &s.speed, FS, &bad)
        .is_err());
    let mut inf = s.lfp.clone();
    inf[10] = f64::INFINITY;
    let inf = Lfps {
        data: &inf,
        n_channels: N_CHANNELS,
    };
    assert!(Detector::Kay
        .detect(&s.time, inf, &s.speed, FS, &p)
        .is_err());
    let mut back = s.time.clone();
    back[100] = back[50];
    assert!(Detector::Kay.detect(&back, lfps, &s.speed, FS, &p).is_err());
    assert!(Detector::from_name("Roumis_ripple_detector").is_err());
    assert_eq!(
        Detector::from_name("Kay_ripple_detector").unwrap(),
        Detector::Kay
    );
}
