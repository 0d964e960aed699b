//! Smoothing kernels against their references: `gaussian_filter1d` against
//! `scipy.ndimage.gaussian_filter1d` (the project `.venv`), `move_mean` against
//! `bottleneck.move_mean` (the Spyglass `.venv-spyglass`, where Spyglass gets it).
//! Signals carry NaNs and are as short as one sample, so boundary extensions
//! longer than the signal and NaN spreading are covered.

use spyglass_dsp::{gaussian_filter1d, move_mean, BoundaryMode};
use spyglass_testkit::{run_python, run_spyglass_python, scratch_dir};

use super::{p, read_f64, write_f64};

/// A deterministic signal of `n` samples with NaNs at every `nan_every`-th sample (0: none).
fn signal(n: usize, seed: u64, nan_every: usize) -> Vec<f64> {
    let mut s = seed | 1;
    (0..n)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let v = ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 200.0
                + (i as f64 * 0.1).sin() * 50.0;
            if nan_every > 0 && i % nan_every == nan_every - 1 {
                f64::NAN
            } else {
                v
            }
        })
        .collect()
}

/// Asserts equal NaN positions and values within `rel` of the oracle.
fn assert_close(label: &str, ours: &[f64], want: &[f64], rel: f64) {
    assert_eq!(ours.len(), want.len(), "{label}: length");
    for (i, (a, b)) in ours.iter().zip(want).enumerate() {
        assert_eq!(
            a.is_nan(),
            b.is_nan(),
            "{label}: NaN at {i} (ours {a}, oracle {b})"
        );
        if !b.is_nan() {
            assert!(
                (a - b).abs() <= rel * b.abs().max(1.0),
                "{label}: sample {i}: ours {a} oracle {b}"
            );
        }
    }
}

const GAUSSIAN_PY: &str = r#"
import sys, json
import numpy as np
from scipy.ndimage import gaussian_filter1d
cases = json.loads(sys.argv[1])
x = np.fromfile(sys.argv[2], dtype='<f8')
out = []
for c in cases:
    seg = x[c['offset']:c['offset'] + c['n']]
    out.append(gaussian_filter1d(seg, c['sigma'], mode=c['mode'], cval=c['cval'], truncate=c['truncate']))
np.concatenate(out).astype('<f8').tofile(sys.argv[3])
"#;

#[test]
fn gaussian_filter1d_matches_scipy() {
    let modes = ["reflect", "mirror", "nearest", "wrap", "constant"];
    let mut data = Vec::new();
    let mut cases = Vec::new(); // (offset, n, sigma, truncate, mode, cval)
    let mut seed = 7;
    for &n in &[1usize, 2, 3, 5, 17, 200] {
        for &nan_every in &[0usize, 13] {
            for &(sigma, truncate) in &[(0.03, 8.0), (0.7, 4.0), (3.0, 8.0), (12.7, 4.0)] {
                for (k, mode) in modes.iter().enumerate() {
                    seed += 1;
                    let x = signal(n, seed, nan_every);
                    let cval = if k % 2 == 0 { 0.0 } else { 2.5 };
                    cases.push((data.len(), n, sigma, truncate, *mode, cval));
                    data.extend(x);
                }
            }
        }
    }
    let json: Vec<String> = cases
        .iter()
        .map(|(o, n, s, t, m, c)| {
            format!(
                "{{\"offset\": {o}, \"n\": {n}, \"sigma\": {s:?}, \"truncate\": {t:?}, \"mode\": \"{m}\", \"cval\": {c:?}}}"
            )
        })
        .collect();
    let dir = scratch_dir();
    let (xp, yp) = (dir.path().join("x.f64"), dir.path().join("y.f64"));
    write_f64(&xp, &data);
    run_python(
        GAUSSIAN_PY,
        &[&format!("[{}]", json.join(", ")), p(&xp), p(&yp)],
    );
    let want = read_f64(&yp);
    assert_eq!(want.len(), data.len());
    for (o, n, s, t, m, c) in &cases {
        let mode = BoundaryMode::from_scipy(m, *c).expect("mode");
        let ours = gaussian_filter1d(&data[*o..o + n], *s, *t, mode).expect("filter");
        assert_close(
            &format!("n={n} sigma={s} truncate={t} mode={m}"),
            &ours,
            &want[*o..o + n],
            1e-12,
        );
    }
}

const MOVE_MEAN_PY: &str = r#"
import sys, json
import numpy as np
import bottleneck as bn
cases = json.loads(sys.argv[1])
x = np.fromfile(sys.argv[2], dtype='<f8')
out = [bn.move_mean(x[c['offset']:c['offset'] + c['n']], window=c['window'], min_count=c['min_count']) for c in cases]
np.concatenate(out).astype('<f8').tofile(sys.argv[3])
"#;

#[test]
fn move_mean_matches_bottleneck() {
    let mut data = Vec::new();
    let mut cases = Vec::new(); // (offset, n, window, min_count)
    let mut seed = 99;
    for &n in &[1usize, 4, 50, 1000] {
        for &nan_every in &[0usize, 3, 7] {
            for &window in &[1usize, 2, 3, 7, 50, 1000] {
                if window > n {
                    continue;
                }
                for min_count in [1, 2.min(window), window] {
                    seed += 1;
                    let mut x = signal(n, seed, nan_every);
                    if n >= 50 {
                        // a NaN run longer than some windows: counts drop to zero and recover
                        x[20..31].fill(f64::NAN);
                    }
                    cases.push((data.len(), n, window, min_count));
                    data.extend(x);
                }
            }
        }
    }
    let json: Vec<String> = cases
        .iter()
        .map(|(o, n, w, m)| {
            format!("{{\"offset\": {o}, \"n\": {n}, \"window\": {w}, \"min_count\": {m}}}")
        })
        .collect();
    let dir = scratch_dir();
    let (xp, yp) = (dir.path().join("x.f64"), dir.path().join("y.f64"));
    write_f64(&xp, &data);
    run_spyglass_python(
        MOVE_MEAN_PY,
        &[&format!("[{}]", json.join(", ")), p(&xp), p(&yp)],
    );
    let want = read_f64(&yp);
    assert_eq!(want.len(), data.len());
    for (o, n, w, m) in &cases {
        let ours = move_mean(&data[*o..o + n], *w, *m).expect("move_mean");
        // same arithmetic as bottleneck: equal to the last bit
        assert_close(
            &format!("n={n} window={w} min_count={m}"),
            &ours,
            &want[*o..o + n],
            0.0,
        );
    }
}

const CORRELATE_PY: &str = r#"
import sys
import numpy as np
from scipy.ndimage import correlate1d
x = np.fromfile(sys.argv[1], dtype='<f8'); w = np.fromfile(sys.argv[2], dtype='<f8')
np.concatenate([correlate1d(x, w, mode=m) for m in ['reflect', 'nearest', 'constant']]).astype('<f8').tofile(sys.argv[3])
"#;

#[test]
fn correlate1d_with_asymmetric_weights_matches_scipy() {
    let x = signal(300, 5, 0);
    let w = [0.1, -0.4, 0.25, 0.9, 0.05, -0.3, 0.2];
    let dir = scratch_dir();
    let (xp, wp, yp) = (
        dir.path().join("x"),
        dir.path().join("w"),
        dir.path().join("y"),
    );
    write_f64(&xp, &x);
    write_f64(&wp, &w);
    run_python(CORRELATE_PY, &[p(&xp), p(&wp), p(&yp)]);
    let want = read_f64(&yp);
    let modes = [
        BoundaryMode::Reflect,
        BoundaryMode::Nearest,
        BoundaryMode::Constant(0.0),
    ];
    for (k, mode) in modes.into_iter().enumerate() {
        let ours = spyglass_dsp::correlate1d(&x, &w, mode).expect("correlate1d");
        assert_close(
            &format!("correlate1d {mode:?}"),
            &ours,
            &want[k * 300..(k + 1) * 300],
            1e-12,
        );
    }
}
