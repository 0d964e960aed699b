//! The LFP pipelines end to end on synthetic sessions: FirFilterParameters
//! defaults and `add_filter` (tap counts hand-derived, coefficients equal to
//! spyglass-dsp's ghostipy-proven design); LFPV1 against a scipy/numpy reference
//! computed from the raw file read by h5py (Spyglass's rule: full convolution with
//! the stored filter sampled at 3200 + 30k, truncated to int16, every 30th
//! timestamp); the theta oscillation of the synthetic ground truth found in the
//! LFP (frequency, amplitude) and in LFPBandV1's analytic amplitude; LFPOutput.

use crate::common;

use common::*;
use spyglass::common::common_interval::{self as iv, RAW_VALID_TIMES};
use spyglass::filter::{self, FilterType, FIR_FILTER_PARAMETERS};
use spyglass::lfp::{self, analytic, band_v1, v1};
use spyglass_db::{Cond, Value};
use spyglass_nwb::synthetic::{write_session, GroundTruth, SyntheticParams};

fn session(env: &Env, duration: f64, gap: Option<(f64, f64)>) -> (String, GroundTruth) {
    let p = SyntheticParams {
        duration_s: duration,
        n_channels: 4,
        n_groups: 1,
        n_units: 1,
        gap,
        ..SyntheticParams::default()
    };
    let src = env.staging().join("lfp20230622.nwb");
    let gt = write_session(&src, &p).unwrap();
    let r = env.insert(&[src]);
    assert!(r[0].is_ok(), "{:?}", r[0].status);
    (r[0].nwb_file_name.clone(), gt)
}

#[test]
fn defaults_and_add_filter_store_spyglass_designs() {
    let env = Env::new();
    // exactly Spyglass's create_standard_filters; the band filters only on request
    // (every pipeline's defaults are reported, one entry per table)
    let n = spyglass::defaults::insert_defaults(&env.db, &[]).unwrap();
    let filters: Vec<_> = n
        .iter()
        .filter(|(t, _)| t == FIR_FILTER_PARAMETERS)
        .collect();
    assert_eq!(filters, vec![&(FIR_FILTER_PARAMETERS.to_string(), 2)]);
    assert_eq!(filter::insert_band_filters(&env.db).unwrap(), 2);
    // idempotent
    let n = spyglass::defaults::insert_defaults(&env.db, &["FirFilterParameters".into()]).unwrap();
    assert_eq!(n[0].1, 0);
    assert!(spyglass::defaults::insert_defaults(&env.db, &["NoSuchParams".into()]).is_err());
    let list = filter::list(&env.db).unwrap();
    let taps = |name: &str, rate: i64| {
        list.iter()
            .find(|f| f.name == name && f.sampling_rate == rate)
            .map(|f| f.numtaps)
    };
    // hand-derived: ceil(2/3 * 8 * fs / tw), next odd
    assert_eq!(taps("LFP 0-400 Hz", 30_000), Some(6401));
    assert_eq!(taps("LFP 0-400 Hz", 20_000), Some(4267));
    assert_eq!(taps("Theta 5-11 Hz", 1000), Some(5335));
    assert_eq!(taps("Ripple 150-250 Hz", 1000), Some(535));

    // add_filter: a new name, stored as designed by spyglass-dsp
    let d = filter::add_filter(
        &env.db,
        "Gamma 30-80 Hz",
        1000,
        FilterType::Bandpass,
        &[25.0, 30.0, 80.0, 85.0],
        "gamma",
        false,
    )
    .unwrap()
    .0;
    assert_eq!(d.numtaps(), 1067); // tw 5: 2/3*8*1000/5 = 1066.7 -> 1067
    let stored = filter::coefficients(&env.db, "Gamma 30-80 Hz", 1000).unwrap();
    let again =
        spyglass_dsp::design_filter(FilterType::Bandpass, 1000.0, &[25.0, 30.0, 80.0, 85.0])
            .unwrap();
    assert_eq!(stored, again.coefficients);
    let row = env
        .all(FIR_FILTER_PARAMETERS)
        .into_iter()
        .find(|r| s(r, "filter_name") == "Gamma 30-80 Hz")
        .unwrap();
    assert_eq!(s(&row, "filter_type"), "bandpass");
    assert_eq!(
        (f(&row, "filter_low_stop"), f(&row, "filter_high_stop")),
        (25.0, 85.0)
    );
    // bad input is an error, not a panic
    assert!(filter::add_filter(
        &env.db,
        "bad",
        1000,
        FilterType::Lowpass,
        &[400.0],
        "",
        false
    )
    .is_err());
    assert!(filter::add_filter(
        &env.db,
        "bad",
        1000,
        FilterType::Lowpass,
        &[400.0, 600.0],
        "",
        false
    )
    .is_err());
    assert!(filter::coefficients(&env.db, "nope", 1).is_err());
}

const PARITY_PY: &str = r#"
import sys, json, h5py, numpy as np
from scipy.signal import fftconvolve
raw, lfp, coeff_path, target, rawvalid, elecs = sys.argv[1:7]
h = np.fromfile(coeff_path, dtype='<f8')
target = np.array(json.loads(target)); rawvalid = np.array(json.loads(rawvalid)); elecs = json.loads(elecs)
# valid = target ∩ raw valid times, pieces longer than 1 s
valid = []
for a, b in target:
    for c, d in rawvalid:
        lo, hi = max(a, c), min(b, d)
        if hi - lo > 1.0:
            valid.append((lo, hi))
with h5py.File(raw, 'r') as f:
    ts = f['acquisition/e-series/timestamps'][:]
    data = f['acquisition/e-series/data'][:, elecs]
ds, delay = 30, (len(h) - 1) // 2
outs, tss = [], []
for lo, hi in valid:
    lo, hi = max(lo, ts[0]), min(hi, ts[-1])
    i0, i1 = np.searchsorted(ts, lo), np.searchsorted(ts, hi)
    x = data[i0:i1].astype(np.float64)
    k = np.arange(0, i1 - i0, ds)
    y = np.stack([fftconvolve(x[:, c], h, mode='full')[delay + k] for c in range(x.shape[1])], axis=1)
    outs.append(np.trunc(y).astype(np.int16)); tss.append(ts[i0:i1:ds])
ref = np.concatenate(outs); ref_ts = np.concatenate(tss)
with h5py.File(lfp, 'r') as f:
    got = f['processing/ecephys/LFP/filtered data/data'][:]
    got_ts = f['processing/ecephys/LFP/filtered data/timestamps'][:]
    dtype = str(f['processing/ecephys/LFP/filtered data/data'].dtype)
n = min(len(ref), len(got))
d = np.abs(ref[:n].astype(np.int64) - got[:n].astype(np.int64))
body = d[:max(n - 100, 0)]
print(json.dumps({"n_ref": int(len(ref)), "n_got": int(len(got)), "dtype": dtype,
  "ts_equal": bool(len(ref_ts) == len(got_ts) and np.array_equal(ref_ts, got_ts)),
  "max_diff": int(d.max()), "body_mismatch": int((body != 0).sum()), "total": int(body.size),
  "ntaps": int(len(h))}))
"#;

#[test]
fn lfpv1_matches_the_scipy_reference_and_finds_theta() {
    let env = Env::new();
    let (nwb, gt) = session(&env, 12.0, Some((7.0, 0.5)));
    spyglass::defaults::insert_defaults(&env.db, &[]).unwrap();
    filter::insert_band_filters(&env.db).unwrap();
    lfp::lfp_electrode::create_group(&env.db, &nwb, "tetrode", &[0, 1, 2, 3]).unwrap();
    assert!(lfp::lfp_electrode::create_group(&env.db, &nwb, "bad", &[99]).is_err());
    let epoch = gt.epochs[0].0.clone();
    let key = select_lfp(&env, &nwb, "tetrode", &epoch, 30_000);
    let key_all = select_lfp(&env, &nwb, "tetrode", RAW_VALID_TIMES, 30_000);
    let rep = spyglass::populate(&env.db, &env.settings, v1::LFPV1, Cond::Bool(true)).unwrap();
    assert_eq!(rep.success_count, 2, "{:?}", rep.error_list);

    // the row, its IntervalList and its LFPOutput entry
    let rows = env
        .db
        .fetch(
            &env.db
                .table(v1::LFPV1)
                .unwrap()
                .restrict(Cond::from(&key))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(f(row, "lfp_sampling_rate"), 1000.0);
    let list_name = v1::valid_times_name("tetrode", &epoch);
    assert_eq!(s(row, "interval_list_name"), list_name);
    let lst = iv::fetch_list(&env.db, &nwb, &list_name).unwrap();
    assert_eq!(lst.pipeline, "lfp_v1");
    let m = lfp::merge::lfp_output(&env.db).unwrap();
    let merged = env.db.merge_fetch(&m, &Cond::Bool(true), &[]).unwrap();
    assert_eq!(merged.len(), 2);
    let mid = spyglass_db::merge::merge_id(&key, "LFPV1");
    let src = lfp::merge::lfp_source(&env.db, &Value::Uuid(mid)).unwrap();
    assert_eq!(
        (src.source.as_str(), src.analysis_file_name.as_str()),
        ("LFPV1", s(row, "analysis_file_name").as_str())
    );

    // parity with the scipy reference on the raw file read by h5py
    let coeff = filter::coefficients(&env.db, "LFP 0-400 Hz", 30_000).unwrap();
    let coeff_path = env.dir.path().join("coeff.f64");
    std::fs::write(
        &coeff_path,
        coeff
            .iter()
            .flat_map(|c| c.to_le_bytes())
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let target = iv::fetch_list(&env.db, &nwb, &epoch).unwrap().valid_times;
    let rawvalid = iv::fetch_list(&env.db, &nwb, RAW_VALID_TIMES)
        .unwrap()
        .valid_times;
    let raw = env.settings.raw_dir.join("lfp20230622.nwb");
    let lfp_path =
        spyglass::analysis::analysis_file_path(&env.db, &s(row, "analysis_file_name")).unwrap();
    let out = spyglass_testkit::run_python(
        PARITY_PY,
        &[
            raw.to_str().unwrap(),
            lfp_path.to_str().unwrap(),
            coeff_path.to_str().unwrap(),
            &serde_json::to_string(&target).unwrap(),
            &serde_json::to_string(&rawvalid).unwrap(),
            "[0, 1, 2, 3]",
        ],
    );
    let j: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    eprintln!("parity: {j}");
    assert_eq!(j["ntaps"], 6401);
    assert_eq!(j["dtype"], "int16");
    assert_eq!(j["n_ref"], j["n_got"], "{j}");
    assert!(j["ts_equal"].as_bool().unwrap(), "{j}");
    // every sample equal except possibly the final edge (where real Spyglass's
    // block processing differs by a few units); there a one-step rounding flip is allowed
    assert_eq!(j["body_mismatch"], 0, "{j}");
    assert!(j["max_diff"].as_i64().unwrap() <= 1, "{j}");
    assert!(j["total"].as_i64().unwrap() > 20_000, "{j}");

    // theta of the ground truth in the LFP over the whole session (fetch_nwb)
    let (volts, ts) = v1::fetch_lfp_volts(&env.db, &key_all).unwrap();
    let (a, fpk) = theta_fit(&volts[0], &ts, gt.theta.freq_hz);
    eprintln!(
        "LFP theta: {} µV at {} Hz, peak {fpk} Hz",
        a * 1e6,
        gt.theta.freq_hz
    );
    assert!((fpk - gt.theta.freq_hz).abs() <= 0.2, "peak at {fpk} Hz");
    assert!(
        (a * 1e6 - gt.theta.amplitude_uv).abs() < 0.05 * gt.theta.amplitude_uv,
        "amplitude {} µV",
        a * 1e6
    );

    // LFPBandV1 (theta) over the LFP: its analytic amplitude is the ground truth's
    let band_key = band_v1::insert_selection(
        &env.db,
        &band_v1::BandSelection {
            key: band_v1::BandKey {
                lfp_merge_id: spyglass_db::merge::merge_id(&key_all, "LFPV1"),
                filter_name: ("Theta 5-11 Hz").to_string(),
                filter_sampling_rate: 1000,
                nwb_file_name: nwb.to_string(),
                target_interval_list_name: (RAW_VALID_TIMES).to_string(),
                lfp_band_sampling_rate: 100,
            },
            min_interval_len: 1.0,
        },
        "tetrode",
        &[
            band_v1::BandElectrode {
                electrode_id: 0,
                reference_elect_id: -1,
            },
            band_v1::BandElectrode {
                electrode_id: 1,
                reference_elect_id: -1,
            },
        ],
    )
    .unwrap();
    let rep = spyglass::populate(
        &env.db,
        &env.settings,
        band_v1::LFP_BAND_V1,
        Cond::Bool(true),
    )
    .unwrap();
    assert_eq!(rep.success_count, 1, "{:?}", rep.error_list);
    let band = analytic::band_features(&env.db, &band_key).unwrap();
    assert_eq!(band.electrode_ids, vec![0, 1]);
    let dt = band.timestamps[1] - band.timestamps[0];
    assert!((dt - 0.01).abs() < 1e-4, "band rate: dt {dt}");
    // away from edges (the theta filter is 5.3 s long), amplitude ≈ truth
    let amp: Vec<f64> = band
        .timestamps
        .iter()
        .zip(&band.features[0].amplitude)
        .filter(|(t, _)| **t > 3.0 && **t < 4.5)
        .map(|(_, a)| a * 1e6)
        .collect();
    assert!(!amp.is_empty());
    let mean = amp.iter().sum::<f64>() / amp.len() as f64;
    eprintln!("band theta amplitude: {mean} µV over {} samples", amp.len());
    assert!(
        (mean - gt.theta.amplitude_uv).abs() < 0.1 * gt.theta.amplitude_uv,
        "band amplitude {mean} µV"
    );
    let power: f64 = band.features[0]
        .power
        .iter()
        .zip(&band.features[0].amplitude)
        .map(|(p, a)| (p - a * a).abs())
        .sum();
    assert!(power < 1e-18);
}

/// Amplitude at `f0` (least-squares sine fit) and the peak of a 4–12 Hz DFT scan.
fn theta_fit(x: &[f64], ts: &[f64], f0: f64) -> (f64, f64) {
    let t0 = ts[0] + 1.0;
    let t1 = ts[ts.len() - 1] - 1.0;
    let pts: Vec<(f64, f64)> = ts
        .iter()
        .zip(x)
        .filter(|(t, _)| **t > t0 && **t < t1)
        .map(|(t, v)| (*t, *v))
        .collect();
    let amp_at = |fr: f64| {
        let w = 2.0 * std::f64::consts::PI * fr;
        let (mut c, mut s2) = (0.0, 0.0);
        for &(t, v) in &pts {
            c += v * (w * t).cos();
            s2 += v * (w * t).sin();
        }
        2.0 * (c * c + s2 * s2).sqrt() / pts.len() as f64
    };
    let mut best = (0.0, 0.0);
    let mut fr = 4.0;
    while fr <= 12.0 {
        let a = amp_at(fr);
        if a > best.0 {
            best = (a, fr);
        }
        fr += 0.05;
    }
    (amp_at(f0), best.1)
}
