//! Oracle tests: FIR design against ghostipy `firdesign`, filtering + decimation
//! against scipy (and ghostipy's `filter_data_fir`, which Spyglass vendors), the
//! Hilbert transform against `scipy.signal.hilbert`, and the timestamp helpers
//! against numpy. Python runs in the project's `.venv` (scripts/setup.sh); data
//! goes through temporary files of raw little-endian float64.

use std::path::Path;

use spyglass_dsp::{
    analytic_signal, design_filter, estimate_sampling_rate, find_default_filter, hilbert_features,
    truncate_to_i16, valid_intervals, FilterType, FirDecimator, FirMethod, BAND_FILTERS,
    STANDARD_FILTERS,
};
use spyglass_testkit::{run_python, scratch_dir};

#[path = "oracle_python/smooth.rs"]
mod smooth;

fn write_f64(path: &Path, data: &[f64]) {
    let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, bytes).expect("write f64 file");
}

fn read_f64(path: &Path) -> Vec<f64> {
    std::fs::read(path)
        .expect("read f64 file")
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect()
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// Deterministic test signal: int16-valued noise plus sines, channel-major.
fn raw_like(n: usize, nc: usize, fs: f64, seed: u64) -> Vec<f64> {
    let mut s = seed | 1;
    let mut out = Vec::with_capacity(n * nc);
    for c in 0..nc {
        for t in 0..n {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let noise = ((s >> 33) % 2001) as f64 - 1000.0;
            let tt = t as f64 / fs;
            let w = 800.0 * (2.0 * std::f64::consts::PI * (7.0 + c as f64) * tt).sin()
                + 300.0 * (2.0 * std::f64::consts::PI * 180.0 * tt).sin();
            out.push((noise + w).trunc());
        }
    }
    out
}

const FIRDESIGN_PY: &str = r#"
import sys, json
import numpy as np
from ghostipy import estimate_taps, firdesign
cases = json.loads(sys.argv[1])
desired_of = {'lowpass': [1, 0], 'highpass': [0, 1], 'bandpass': [0, 1, 1, 0], 'bandstop': [1, 0, 0, 1]}
out = []
for c in cases:
    e = c['edges']
    if 'type' in c:
        # FirFilterParameters.add_filter: transition width rule, estimate_taps, p = 2
        t = c['type']
        tw = ((e[1] - e[0]) + (e[3] - e[2])) / 2.0 if t == 'bandpass' else e[1] - e[0]
        b = firdesign(estimate_taps(c['fs'], tw), e, desired_of[t], fs=c['fs'], p=2)
    else:
        b = firdesign(c['numtaps'], e, c['desired'], fs=c['fs'], p=c['p'])
    out.append(np.asarray(b, dtype=np.float64))
np.concatenate(out).astype('<f8').tofile(sys.argv[2])
print(' '.join(str(len(b)) for b in out))
"#;

fn json_list(v: &[f64]) -> String {
    let items: Vec<String> = v.iter().map(|x| format!("{x:?}")).collect();
    format!("[{}]", items.join(", "))
}

/// A direct `firdesign` call: taps, band edges, desired gains, fs, spline power.
type RawDesign = (usize, Vec<f64>, Vec<f64>, f64, Option<f64>);

#[test]
fn firdesign_matches_ghostipy() {
    // Spyglass-style designs: the standard and band filters plus a high-pass and a band-stop.
    let mut typed: Vec<(FilterType, f64, Vec<f64>)> = STANDARD_FILTERS
        .iter()
        .chain(BAND_FILTERS)
        .map(|f| (f.filter_type, f.sampling_rate as f64, f.band_edges.to_vec()))
        .collect();
    typed.push((FilterType::Highpass, 30_000.0, vec![250.0, 300.0]));
    typed.push((FilterType::Highpass, 1_000.0, vec![0.5, 1.5]));
    typed.push((FilterType::Bandstop, 1_000.0, vec![55.0, 58.0, 62.0, 65.0]));
    // Raw firdesign calls: default spline power, odd band counts, other powers.
    let raw: Vec<RawDesign> = vec![
        (301, vec![40.0, 60.0], vec![1.0, 0.0], 1000.0, None),
        (
            301,
            vec![40.0, 60.0, 100.0, 120.0],
            vec![0.0, 1.0, 1.0, 0.0],
            1000.0,
            None,
        ),
        (
            201,
            vec![10.0, 20.0, 30.0, 40.0, 60.0, 70.0],
            vec![0.0, 1.0, 1.0, 0.0, 0.0, 1.0],
            500.0,
            Some(2.0),
        ),
        (
            201,
            vec![10.0, 20.0, 30.0, 40.0, 60.0, 70.0],
            vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0],
            500.0,
            Some(3.5),
        ),
        (
            401,
            vec![10.0, 20.0, 30.0, 40.0, 60.0, 70.0, 80.0, 90.0],
            vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0],
            500.0,
            Some(1.0),
        ),
    ];
    let mut cases = Vec::new();
    for (t, fs, e) in &typed {
        cases.push(format!(
            "{{\"type\": \"{}\", \"fs\": {fs:?}, \"edges\": {}}}",
            t.as_str(),
            json_list(e)
        ));
    }
    for (n, e, d, fs, pw) in &raw {
        let pw = pw.map_or("null".to_string(), |v| format!("{v:?}"));
        cases.push(format!(
            "{{\"numtaps\": {n}, \"edges\": {}, \"desired\": {}, \"fs\": {fs:?}, \"p\": {pw}}}",
            json_list(e),
            json_list(d)
        ));
    }
    let json = format!("[{}]", cases.join(", "));
    let dir = scratch_dir();
    let out = dir.path().join("coeffs.f64");
    let stdout = run_python(FIRDESIGN_PY, &[&json, p(&out)]);
    let lens: Vec<usize> = stdout
        .split_whitespace()
        .map(|s| s.parse().expect("tap count"))
        .collect();
    let all = read_f64(&out);

    let mut ours: Vec<Vec<f64>> = typed
        .iter()
        .map(|(t, fs, e)| design_filter(*t, *fs, e).expect("design").coefficients)
        .collect();
    for (n, e, d, fs, pw) in &raw {
        ours.push(spyglass_dsp::firdesign(*n, e, d, *fs, *pw).expect("firdesign"));
    }
    assert_eq!(lens.len(), ours.len());
    // The tap counts Spyglass stores for its standard filters.
    assert_eq!(&lens[..4], &[4267, 6401, 5335, 535]);
    let mut offset = 0;
    for (i, (len, b)) in lens.iter().zip(&ours).enumerate() {
        assert_eq!(*len, b.len(), "case {i}: tap count");
        let want = &all[offset..offset + len];
        let err = b
            .iter()
            .zip(want)
            .fold(0.0f64, |m, (a, w)| m.max((a - w).abs()));
        eprintln!("firdesign case {i}: {len} taps, max |ours - ghostipy| = {err:e}");
        assert!(err <= 1e-9, "case {i}: max coefficient error {err:e}");
        offset += len;
    }
}

const FILTER_PY: &str = r#"
import sys
import numpy as np
import scipy.signal
from ghostipy import filter_data_fir
x_path, nc, b_path, ds, out_scipy, out_ghost = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
x = np.fromfile(x_path, dtype='<f8').reshape(nc, -1)
b = np.fromfile(b_path, dtype='<f8')
n = x.shape[1]
d = (len(b) - 1) // 2
full = scipy.signal.fftconvolve(x, b[np.newaxis, :], mode='full', axes=1)
full[:, d:d + n:ds].astype('<f8').tofile(out_scipy)
g = filter_data_fir(x, b, axis=-1, threads=1, ds=ds, output_index_bounds=[d, d + n])
np.asarray(g, dtype='<f8').tofile(out_ghost)
# The raw dtype path of LFPV1: truncation toward zero into int16.
np.asarray(full[:, d:d + n:ds].astype(np.int16), dtype='<f8').tofile(out_scipy + '.i16')
"#;

/// Filters with every entry point and compares with scipy and ghostipy.
fn check_filter(name: &str, taps: &[f64], ds: usize, x: &[f64], nc: usize) {
    let dir = scratch_dir();
    let (xp, bp) = (dir.path().join("x.f64"), dir.path().join("b.f64"));
    let (sp, gp) = (dir.path().join("scipy.f64"), dir.path().join("ghost.f64"));
    write_f64(&xp, x);
    write_f64(&bp, taps);
    run_python(
        FILTER_PY,
        &[
            p(&xp),
            &nc.to_string(),
            p(&bp),
            &ds.to_string(),
            p(&sp),
            p(&gp),
        ],
    );
    let want = read_f64(&sp);
    let ghost = read_f64(&gp);
    let want_i16 = read_f64(&sp.with_extension("f64.i16"));
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(scale > 0.0);
    let n = x.len() / nc;

    let mut outputs: Vec<(String, Vec<f64>)> = Vec::new();
    for method in [
        FirMethod::Auto,
        FirMethod::Direct,
        FirMethod::Fft { fft_len: None },
    ] {
        let f = FirDecimator::with_method(taps, ds, method).expect("plan");
        outputs.push((
            format!("{method:?} parallel"),
            f.filter_channels(x, nc).expect("filter"),
        ));
    }
    let f = FirDecimator::for_length(taps, ds, n).expect("plan");
    outputs.push((
        "for_length serial".into(),
        f.filter_channels_serial(x, nc).expect("filter"),
    ));
    let tm = spyglass_dsp::transpose(x, nc, n).expect("transpose");
    let out_tm = f.filter_time_major(&tm, nc).expect("filter");
    outputs.push((
        "time-major".into(),
        spyglass_dsp::transpose(&out_tm, out_tm.len() / nc, nc).expect("transpose"),
    ));
    let xi16: Vec<i16> = x.iter().map(|&v| v as i16).collect();
    outputs.push((
        "i16 input".into(),
        spyglass_dsp::filter_decimate_channels(&xi16, nc, taps, ds).expect("filter"),
    ));

    for (label, y) in &outputs {
        assert_eq!(y.len(), want.len(), "{name} {label}: length");
        let err = y
            .iter()
            .zip(&want)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        eprintln!(
            "{name} {label}: max |ours - scipy| / scale = {:e}",
            err / scale
        );
        assert!(
            err <= 1e-6 * scale,
            "{name} {label}: max error {err:e} vs scale {scale}"
        );
        let err_g = y
            .iter()
            .zip(&ghost)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(
            err_g <= 1e-6 * scale,
            "{name} {label}: vs ghostipy {err_g:e}"
        );
    }
    // int16 output by truncation: identical except where scipy's value sits within
    // round-off of an integer (where either side may land on the neighbour).
    let ours_i16 = spyglass_dsp::filter_decimate_channels_i16(&xi16, nc, taps, ds).expect("i16");
    assert_eq!(ours_i16, truncate_to_i16(&outputs[0].1));
    let mut mismatches = 0;
    for ((o, w), exact) in ours_i16.iter().zip(&want_i16).zip(&want) {
        if *o as f64 != *w {
            assert!(
                (exact - exact.round()).abs() < 1e-6,
                "{name}: i16 {o} vs {w} ({exact})"
            );
            mismatches += 1;
        }
    }
    eprintln!(
        "{name}: {mismatches} int16 mismatches of {}",
        ours_i16.len()
    );
    assert!(mismatches <= 2, "{name}: {mismatches} int16 mismatches");
}

#[test]
fn lfp_filter_and_decimation_match_scipy_and_ghostipy() {
    let taps = find_default_filter("LFP 0-400 Hz", 30_000)
        .unwrap()
        .design()
        .unwrap()
        .coefficients;
    // 3 channels × 4 s at 30 kHz (not a multiple of 30 samples).
    let n = 120_017;
    check_filter("LFP 0-400 Hz", &taps, 30, &raw_like(n, 3, 30_000.0, 7), 3);
}

#[test]
fn band_filters_match_scipy_and_ghostipy() {
    let theta = find_default_filter("Theta 5-11 Hz", 1000)
        .unwrap()
        .design()
        .unwrap();
    check_filter(
        "theta ds=10",
        &theta.coefficients,
        10,
        &raw_like(12_345, 2, 1000.0, 11),
        2,
    );
    let ripple = find_default_filter("Ripple 150-250 Hz", 1000)
        .unwrap()
        .design()
        .unwrap();
    check_filter(
        "ripple ds=1",
        &ripple.coefficients,
        1,
        &raw_like(5_000, 2, 1000.0, 13),
        2,
    );
    let hp = design_filter(FilterType::Highpass, 30_000.0, &[250.0, 300.0]).unwrap();
    check_filter(
        "highpass ds=1",
        &hp.coefficients,
        1,
        &raw_like(20_000, 1, 30_000.0, 17),
        1,
    );
    let bs = design_filter(FilterType::Bandstop, 1_000.0, &[55.0, 58.0, 62.0, 65.0]).unwrap();
    check_filter(
        "bandstop ds=3",
        &bs.coefficients,
        3,
        &raw_like(4_001, 1, 1000.0, 19),
        1,
    );
    // A signal exactly as long as the filter.
    check_filter(
        "ripple n=ntaps",
        &ripple.coefficients,
        2,
        &raw_like(535, 1, 1000.0, 23),
        1,
    );
}

const HILBERT_PY: &str = r#"
import sys
import numpy as np
import scipy.signal
x = np.fromfile(sys.argv[1], dtype='<f8')
lens = [int(v) for v in sys.argv[2].split(',')]
parts, o = [], 0
for n in lens:
    a = scipy.signal.hilbert(x[o:o + n])
    parts.append(np.stack([a.real, a.imag, np.abs(a), np.angle(a) + np.pi, np.abs(a) ** 2]).ravel())
    o += n
np.concatenate(parts).astype('<f8').tofile(sys.argv[3])
"#;

#[test]
fn hilbert_matches_scipy() {
    let lens = [1usize, 2, 3, 64, 1000, 1001, 1009, 4096];
    let mut x = Vec::new();
    for (k, &n) in lens.iter().enumerate() {
        let mut s = 0x1234_5678u64 + k as u64;
        for t in 0..n {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let noise = (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let tt = t as f64 / 1000.0;
            x.push(3.0 * (2.0 * std::f64::consts::PI * 8.0 * tt).cos() + noise + 0.5);
        }
    }
    let dir = scratch_dir();
    let (xp, op) = (dir.path().join("x.f64"), dir.path().join("h.f64"));
    write_f64(&xp, &x);
    let lens_arg: Vec<String> = lens.iter().map(|n| n.to_string()).collect();
    run_python(HILBERT_PY, &[p(&xp), &lens_arg.join(","), p(&op)]);
    let want = read_f64(&op);
    let (mut xo, mut wo) = (0, 0);
    for &n in &lens {
        let seg = &x[xo..xo + n];
        let a = analytic_signal(seg).unwrap();
        let f = hilbert_features(seg).unwrap();
        let w = &want[wo..wo + 5 * n];
        for t in 0..n {
            assert!((a[t].re - w[t]).abs() <= 1e-9, "n={n} t={t} re");
            assert!((a[t].im - w[n + t]).abs() <= 1e-9, "n={n} t={t} im");
            assert!(
                (f.amplitude[t] - w[2 * n + t]).abs() <= 1e-9,
                "n={n} t={t} amplitude"
            );
            assert!(
                (f.power[t] - w[4 * n + t]).abs() <= 1e-9 * w[4 * n + t].max(1.0),
                "n={n} power"
            );
            if w[2 * n + t] > 1e-3 {
                // Phases near ±π may wrap differently: compare on the circle.
                let d = (f.phase[t] - w[3 * n + t]).rem_euclid(2.0 * std::f64::consts::PI);
                let d = d.min(2.0 * std::f64::consts::PI - d);
                assert!(
                    d <= 1e-9,
                    "n={n} t={t} phase {} vs {}",
                    f.phase[t],
                    w[3 * n + t]
                );
            }
        }
        xo += n;
        wo += 5 * n;
    }
}

const TIMESTAMPS_PY: &str = r#"
import sys
import numpy as np
# The numpy recipe Spyglass's estimate_sampling_rate / get_valid_intervals describe.
ts_all = np.fromfile(sys.argv[1], dtype='<f8')
lens = [int(v) for v in sys.argv[2].split(',')]
rates, ivs, o = [], [], 0
for n in lens:
    ts = ts_all[o:o + n]; o += n
    d = np.diff(ts[~np.isnan(ts)])
    sm = np.convolve(d, np.ones(10) / 10, mode='same')
    hist, edges = np.histogram(np.log10(sm), bins=100, range=[-5, np.log10(3 * np.mean(sm))])
    mode = 10 ** edges[np.argmax(hist)]
    rate = np.round(1.0 / np.mean(d[d < mode * 1.75]))
    rates.append(rate)
    t = ts[~np.isnan(ts)]
    min_len = 0.05
    if ts[-1] - ts[0] < min_len:
        min_len = (ts[-1] - ts[0]) / 2
    gap = np.diff(t) > 1.0 / rate * 1.75
    gi = np.where(gap)[0]
    st = np.insert(gi + 1, 0, 0); en = np.append(gi, len(t) - 1)
    v = np.stack([t[st] - 1e-7, t[en] + 1e-7], axis=1)
    v = v[(v[:, 1] - v[:, 0]) > min_len]
    ivs.append(v)
print(' '.join(repr(float(r)) for r in rates))
np.concatenate([np.concatenate([[len(v)], v.ravel()]) for v in ivs]).astype('<f8').tofile(sys.argv[3])
"#;

#[test]
fn sampling_rate_and_valid_intervals_match_numpy() {
    let mut series: Vec<Vec<f64>> = Vec::new();
    // Regular 30 kHz starting at an NWB-like epoch offset.
    series.push(
        (0..60_000)
            .map(|i| 1_700_000_000.0 + i as f64 / 30_000.0)
            .collect(),
    );
    // 1 kHz with jitter, two gaps, NaNs and dropped samples.
    let mut s = 99u64;
    let mut v = Vec::new();
    let mut t = 10.0;
    for i in 0..20_000 {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let jitter = ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2e-4;
        t += 0.001;
        if i == 5_000 {
            t += 0.5;
        }
        if i == 12_000 {
            t += 0.01;
        }
        if i % 997 == 0 {
            t += 0.001; // one dropped sample
        }
        v.push(if i % 1_234 == 5 { f64::NAN } else { t + jitter });
    }
    series.push(v);
    // 20 kHz, a 30 ms run, a gap, a 2 s run.
    let mut v: Vec<f64> = (0..600).map(|i| i as f64 / 20_000.0).collect();
    v.extend((0..40_000).map(|i| 1.0 + i as f64 / 20_000.0));
    series.push(v);

    let dir = scratch_dir();
    let (tp, op) = (dir.path().join("ts.f64"), dir.path().join("iv.f64"));
    write_f64(&tp, &series.concat());
    let lens: Vec<String> = series.iter().map(|s| s.len().to_string()).collect();
    let stdout = run_python(TIMESTAMPS_PY, &[p(&tp), &lens.join(","), p(&op)]);
    let rates: Vec<f64> = stdout
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect();
    let ivs = read_f64(&op);
    assert_eq!(rates, vec![30_000.0, 1_000.0, 20_000.0]);
    let mut o = 0;
    for (ts, &rate) in series.iter().zip(&rates) {
        assert_eq!(estimate_sampling_rate(ts, 1.75).unwrap(), rate);
        let ours = valid_intervals(ts, rate, 1.75, 0.05).unwrap();
        let count = ivs[o] as usize;
        let want = &ivs[o + 1..o + 1 + 2 * count];
        assert_eq!(ours.len(), count);
        for (iv, w) in ours.iter().zip(want.chunks_exact(2)) {
            assert!((iv[0] - w[0]).abs() < 1e-12 * w[0].abs().max(1.0));
            assert!((iv[1] - w[1]).abs() < 1e-12 * w[1].abs().max(1.0));
        }
        o += 1 + 2 * count;
    }
}
