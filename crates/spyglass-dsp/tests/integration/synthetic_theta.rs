//! End-to-end check on a synthetic recording: a known 8 Hz theta rhythm of known
//! amplitude plus broadband noise, a 60 Hz line and a slow drift, sampled at 30 kHz
//! as int16 → LFP filter + decimation to 1 kHz (LFPV1) → theta band filter
//! decimated to 100 Hz (LFPBandV1) → Hilbert amplitude and phase recover the
//! theta amplitude and frequency.

use std::f64::consts::PI;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use spyglass_dsp::{
    decimate_timestamps, find_default_filter, hilbert_features, truncate_to_i16, FirDecimator,
};

const FS: f64 = 30_000.0;
const THETA_HZ: f64 = 8.0;
const THETA_AMP: f64 = 200.0;

/// Approximately normal noise (sum of 12 uniforms), unit variance.
fn gauss(rng: &mut StdRng) -> f64 {
    (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0
}

#[test]
fn theta_amplitude_and_frequency_are_recovered() {
    let seconds = 24.0;
    let n = (seconds * FS) as usize;
    let mut rng = StdRng::seed_from_u64(2024);
    let ts: Vec<f64> = (0..n).map(|i| 1000.0 + i as f64 / FS).collect();
    let raw: Vec<i16> = ts
        .iter()
        .map(|&t| {
            let tt = t - 1000.0;
            let theta = THETA_AMP * (2.0 * PI * THETA_HZ * tt + 0.3).sin();
            let line = 150.0 * (2.0 * PI * 60.0 * tt).sin();
            let drift = 400.0 * (2.0 * PI * 0.5 * tt).sin();
            let spikes_band = 80.0 * (2.0 * PI * 1500.0 * tt).sin();
            (theta + line + drift + spikes_band + 60.0 * gauss(&mut rng)).round() as i16
        })
        .collect();

    // LFPV1: "LFP 0-400 Hz" at 30 kHz, decimation 30000 // 1000 = 30, stored as int16.
    let lfp_filter = find_default_filter("LFP 0-400 Hz", 30_000)
        .unwrap()
        .design()
        .unwrap();
    let lfp_f = FirDecimator::new(&lfp_filter.coefficients, 30).unwrap();
    let lfp = truncate_to_i16(&lfp_f.filter(&raw).unwrap());
    let lfp_ts = decimate_timestamps(&ts, 30).unwrap();
    assert_eq!(lfp.len(), 24_000);
    assert_eq!(lfp_ts.len(), lfp.len());
    assert!((lfp_ts[1] - lfp_ts[0] - 0.001).abs() < 1e-9);

    // LFPBandV1: theta filter designed at 1 kHz, band rate 100 Hz -> decimation 10.
    let theta_filter = find_default_filter("Theta 5-11 Hz", 1000)
        .unwrap()
        .design()
        .unwrap();
    let band_f = FirDecimator::new(&theta_filter.coefficients, 10).unwrap();
    let band = band_f.filter(&lfp).unwrap();
    let band_ts = decimate_timestamps(&lfp_ts, 10).unwrap();
    assert_eq!(band.len(), 2_400);
    assert_eq!(band_ts.len(), band.len());

    let h = hilbert_features(&band).unwrap();
    // Away from the edges (the theta filter spans ±2.67 s), the envelope is the amplitude.
    let (lo, hi) = (600, 1_800); // 6 s .. 18 s at 100 Hz
    let mean_amp = h.amplitude[lo..hi].iter().sum::<f64>() / (hi - lo) as f64;
    assert!(
        (mean_amp - THETA_AMP).abs() < 0.02 * THETA_AMP,
        "mean envelope {mean_amp}, want {THETA_AMP}"
    );
    for &a in &h.amplitude[lo..hi] {
        assert!(
            (a - THETA_AMP).abs() < 0.06 * THETA_AMP,
            "envelope sample {a}"
        );
    }
    // Power is amplitude squared.
    assert!((h.power[lo] - h.amplitude[lo].powi(2)).abs() < 1e-9 * h.power[lo]);

    // Dominant frequency from the unwrapped phase slope.
    let mut unwrapped = vec![h.phase[lo]];
    for w in h.phase[lo..hi].windows(2) {
        let mut d = w[1] - w[0];
        while d > PI {
            d -= 2.0 * PI;
        }
        while d < -PI {
            d += 2.0 * PI;
        }
        unwrapped.push(unwrapped[unwrapped.len() - 1] + d);
    }
    let dt = band_ts[hi - 1] - band_ts[lo];
    let freq = (unwrapped[unwrapped.len() - 1] - unwrapped[0]) / (2.0 * PI * dt);
    assert!(
        (freq - THETA_HZ).abs() < 0.02,
        "dominant frequency {freq} Hz"
    );

    // Phase matches the generator's: theta = A·sin(2π·8·t + 0.3) = A·cos(2π·8·t + 0.3 − π/2),
    // and Spyglass's phase is angle + π.
    let t = band_ts[1_200] - 1000.0;
    let want = (2.0 * PI * THETA_HZ * t + 0.3 - PI / 2.0 + PI).rem_euclid(2.0 * PI);
    let d = (h.phase[1_200] - want).rem_euclid(2.0 * PI);
    assert!(
        d.min(2.0 * PI - d) < 0.05,
        "phase {} vs {want}",
        h.phase[1_200]
    );

    // The LFP itself kept theta and the drift, and removed the 1.5 kHz component:
    // its residual after subtracting theta + drift + 60 Hz is noise-sized.
    let mid = 12_000;
    let tt = lfp_ts[mid] - 1000.0;
    let expected = THETA_AMP * (2.0 * PI * THETA_HZ * tt + 0.3).sin()
        + 150.0 * (2.0 * PI * 60.0 * tt).sin()
        + 400.0 * (2.0 * PI * 0.5 * tt).sin();
    assert!(
        (lfp[mid] as f64 - expected).abs() < 25.0,
        "lfp {} vs {expected}",
        lfp[mid]
    );
}
