//! Shared test helpers: f64 files for the Python oracles, tolerance checks, and
//! synthetic LED / pose data with the defects the pipelines must handle.

use std::path::Path;

use spyglass_position::Xy;

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

pub fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

pub fn flat(points: &[Xy]) -> Vec<f64> {
    points.iter().flatten().copied().collect()
}

/// Runs `script` with the Spyglass interpreter after the source-loading helpers.
pub fn oracle(script: &str, args: &[&str]) -> String {
    let code = format!("{}\n{}", include_str!("../py/spyglass_src.py"), script);
    spyglass_testkit::run_spyglass_python(&code, args)
}

/// Equal NaN positions; elsewhere |ours − oracle| ≤ rel · max(1, |oracle|).
pub fn assert_close(label: &str, ours: &[f64], want: &[f64], rel: f64) {
    assert_eq!(ours.len(), want.len(), "{label}: length");
    let mut worst = 0.0f64;
    for (i, (a, b)) in ours.iter().zip(want).enumerate() {
        assert_eq!(
            a.is_nan(),
            b.is_nan(),
            "{label}: NaN mismatch at {i} (ours {a}, oracle {b})"
        );
        if !b.is_nan() {
            let err = (a - b).abs() / b.abs().max(1.0);
            worst = worst.max(err);
            assert!(err <= rel, "{label}: sample {i}: ours {a}, oracle {b}");
        }
    }
    eprintln!("{label}: {} values, max rel error {worst:e}", want.len());
}

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
    pub fn symmetric(&mut self, amplitude: f64) -> f64 {
        (self.uniform() * 2.0 - 1.0) * amplitude
    }
}

/// A two-LED recording in pixels: time (s), LED 1 (front), LED 2 (back).
pub struct Leds {
    pub time: Vec<f64>,
    pub led1: Vec<Xy>,
    pub led2: Vec<Xy>,
}

/// `n` samples at `fs` Hz starting at `t0`, timestamps jittered, pixels of
/// 0.2 cm (conversion 0.002 m/pixel), LEDs ~3 cm apart along the heading;
/// with defects when `defects`: LEDs too far apart, single-sample jumps, NaN
/// runs, a NaN timestamp.
pub fn leds(n: usize, fs: f64, t0: f64, seed: u64, defects: bool) -> Leds {
    let mut rng = Rng::new(seed);
    let mut time = Vec::with_capacity(n);
    let (mut led1, mut led2) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let t = i as f64 / fs;
        time.push(t0 + t + rng.symmetric(0.002));
        let (cx, cy) = (
            300.0 + 200.0 * (0.11 * t).sin(),
            250.0 + 150.0 * (0.07 * t + 1.0).cos(),
        );
        let (vx, vy) = (22.0 * (0.11 * t).cos(), -10.5 * (0.07 * t + 1.0).sin());
        let heading = vy.atan2(vx) + 0.3 * (1.3 * t).sin();
        let half = 7.5;
        let (hx, hy) = (half * heading.cos(), half * heading.sin());
        led1.push([cx + hx + rng.symmetric(0.5), cy + hy + rng.symmetric(0.5)]);
        led2.push([cx - hx + rng.symmetric(0.5), cy - hy + rng.symmetric(0.5)]);
    }
    if defects && n > 600 {
        for p in &mut led2[100..104] {
            p[0] += 80.0; // 16 cm from LED 1: separation gate
        }
        led1[200][1] += 150.0; // a 30 cm jump in one frame: speed gate
        for p in &mut led1[300..306] {
            *p = [f64::NAN; 2];
        }
        time[400] = f64::NAN;
        for p in &mut led2[n - 3..] {
            *p = [f64::NAN; 2];
        }
    }
    Leds { time, led1, led2 }
}
