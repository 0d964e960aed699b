//! The clusterless thresholder against hand-derived traces and against
//! SpikeInterface 0.105's `detect_peaks(method="locally_exclusive")` run in the test.

use spyglass_sort::detect::{exclude_sweep_size, neighbours_mask};
use spyglass_sort::{
    detect_peaks_locally_exclusive, InMemoryRecording, PeakSign, SortError, ThresholdParams,
};

fn params(sign: PeakSign, thr: f64, sweep_ms: f64, radius: f64, nc: usize) -> ThresholdParams {
    ThresholdParams {
        peak_sign: sign,
        detect_threshold: thr,
        exclude_sweep_ms: sweep_ms,
        radius_um: radius,
        noise_levels: vec![1.0; nc],
    }
}

fn peaks_of(
    rec: &InMemoryRecording,
    locs: &[[f64; 2]],
    p: &ThresholdParams,
    chunk: usize,
) -> Vec<(usize, usize)> {
    detect_peaks_locally_exclusive(rec, locs, p, chunk)
        .unwrap()
        .into_iter()
        .map(|p| (p.sample, p.channel))
        .collect()
}

#[test]
fn sweep_size_and_neighbourhoods_follow_spikeinterface() {
    // int(0.1 * 30000 / 1000) = 3; int(1.0 * 25000 / 1000) = 25; 0.5 ms at 1 kHz truncates to 0
    assert_eq!(exclude_sweep_size(0.1, 30000.0), 3);
    assert_eq!(exclude_sweep_size(1.0, 25000.0), 25);
    assert_eq!(exclude_sweep_size(0.5, 1000.0), 0);
    // channels 0,1 are 30 µm apart, 2 is 40 µm from 1 and 50 from 0: radius 40 keeps 0–1 and 1–2
    let m = neighbours_mask(&[[0.0, 0.0], [0.0, 30.0], [40.0, 30.0]], 40.0);
    assert_eq!(
        m,
        vec![true, true, false, true, true, true, false, true, true]
    );
}

#[test]
fn hand_derived_single_channel() {
    // fs 1 kHz, sweep 2 ms -> 2 samples; threshold 1.
    // troughs: -3 at 5 (kept), -2 at 7 (within 2 samples of the larger one: dropped),
    // -1.5 at 12 and -1.5 at 14 (equal: the earlier one wins), -5 at 1 (kept: the zero
    // padding before the recording is sweep + 1 = 3 samples wide, so sample 1 is inside
    // the kept region, and the padded zero at -1 makes it a local minimum).
    let mut x = vec![0.0f32; 20];
    x[1] = -5.0;
    x[5] = -3.0;
    x[7] = -2.0;
    x[12] = -1.5;
    x[14] = -1.5;
    let rec = InMemoryRecording::new(x, 1, 1000.0).unwrap();
    let locs = [[0.0, 0.0]];
    let p = params(PeakSign::Neg, 1.0, 2.0, 50.0, 1);
    assert_eq!(peaks_of(&rec, &locs, &p, 7), vec![(1, 0), (5, 0), (12, 0)]);
    // a flat-bottomed trough: the first sample of the plateau is the candidate (strictly
    // below the previous sample, not above the next)
    let mut y = vec![0.0f32; 12];
    y[4] = -2.0;
    y[5] = -2.0;
    let rec = InMemoryRecording::new(y, 1, 1000.0).unwrap();
    assert_eq!(peaks_of(&rec, &locs, &p, 5), vec![(4, 0)]);
    // positive sign ignores troughs; both sees them
    let mut z = vec![0.0f32; 16];
    z[4] = 2.0;
    z[10] = -3.0;
    let rec = InMemoryRecording::new(z, 1, 1000.0).unwrap();
    assert_eq!(
        peaks_of(&rec, &locs, &params(PeakSign::Pos, 1.0, 2.0, 50.0, 1), 4),
        vec![(4, 0)]
    );
    assert_eq!(
        peaks_of(&rec, &locs, &params(PeakSign::Neg, 1.0, 2.0, 50.0, 1), 4),
        vec![(10, 0)]
    );
    assert_eq!(
        peaks_of(&rec, &locs, &params(PeakSign::Both, 1.0, 2.0, 50.0, 1), 4),
        vec![(4, 0), (10, 0)]
    );
}

#[test]
fn hand_derived_neighbourhoods_and_noise_levels() {
    // 3 channels on a line 20 µm apart; radius 25 µm: 0~1, 1~2, not 0~2.
    // sample 6: ch0 -4, ch2 -4.5 (not neighbours: both kept unless ch1 is larger)
    // sample 7: ch1 -3 (neighbour of both, smaller: dropped)
    let locs = [[0.0, 0.0], [0.0, 20.0], [0.0, 40.0]];
    let mut x = vec![0.0f32; 16 * 3];
    x[6 * 3] = -4.0;
    x[6 * 3 + 2] = -4.5;
    x[7 * 3 + 1] = -3.0;
    let rec = InMemoryRecording::new(x.clone(), 3, 1000.0).unwrap();
    let p = params(PeakSign::Neg, 1.0, 2.0, 25.0, 3);
    assert_eq!(peaks_of(&rec, &locs, &p, 5), vec![(6, 0), (6, 2)]);
    // with channel 1's noise level at 0.5 its value is 3 / 0.5 = 6 > 4 and 4.5: it wins
    let mut p2 = p.clone();
    p2.noise_levels = vec![1.0, 0.5, 1.0];
    assert_eq!(peaks_of(&rec, &locs, &p2, 5), vec![(7, 1)]);
    // a threshold above |value| hides the candidate: threshold 3.5 x 1 drops ch1 (-3)
    let p3 = params(PeakSign::Neg, 3.5, 2.0, 100.0, 3);
    assert_eq!(peaks_of(&rec, &locs, &p3, 16), vec![(6, 2)]);
}

#[test]
fn refuses_bad_input() {
    let rec = InMemoryRecording::new(vec![0.0; 20], 2, 1000.0).unwrap();
    let locs = [[0.0, 0.0], [0.0, 20.0]];
    let mut p = params(PeakSign::Neg, 5.0, 1.0, 50.0, 2);
    p.noise_levels = vec![1.0];
    assert!(matches!(
        detect_peaks_locally_exclusive(&rec, &locs, &p, 10),
        Err(SortError::Invalid {
            what: "noise_levels",
            ..
        })
    ));
    let p = params(PeakSign::Neg, 5.0, 1.0, 50.0, 2);
    assert!(matches!(
        detect_peaks_locally_exclusive(&rec, &locs[..1], &p, 10),
        Err(SortError::Invalid {
            what: "channel_locations",
            ..
        })
    ));
    let mut x = vec![0.0; 20];
    x[7] = f32::NAN;
    let rec = InMemoryRecording::new(x, 2, 1000.0).unwrap();
    assert!(matches!(
        detect_peaks_locally_exclusive(&rec, &locs, &p, 10),
        Err(SortError::Invalid {
            what: "recording",
            ..
        })
    ));
    assert!(PeakSign::parse("up").is_err());
}

const ORACLE: &str = r#"
import sys, json
import numpy as np
import spikeinterface.full as si
from spikeinterface.sortingcomponents.peak_detection import detect_peaks
d = sys.argv[1]
meta = json.load(open(d + '/gt.json'))
nc = meta['n_channels']
tr = np.fromfile(d + '/traces.f32', '<f4').reshape(-1, nc)
locs = np.fromfile(d + '/locations.f8', '<f8').reshape(nc, 2)
rec = si.NumpyRecording(tr, sampling_frequency=meta['fs'])
rec.set_channel_locations(locs)
# float64 levels, as Spyglass passes them (float32 levels make SpikeInterface compute
# its thresholds in float32)
noise = si.get_noise_levels(rec, return_in_uV=False, seed=0).astype('float64')
configs = json.loads(sys.argv[2])
res = {'noise': noise.tolist(), 'peaks': []}
for c in configs:
    nl = noise if c['noise'] == 'mad' else np.ones(nc) * float(c['noise'])
    p = detect_peaks(rec, method='locally_exclusive',
                     method_kwargs=dict(peak_sign=c['sign'], detect_threshold=c['thr'],
                                        exclude_sweep_ms=c['sweep'], radius_um=c['radius'],
                                        noise_levels=nl),
                     job_kwargs=dict(n_jobs=1, chunk_duration='1s', progress_bar=False))
    res['peaks'].append([p['sample_index'].tolist(), p['channel_index'].tolist()])
print(json.dumps(res))
"#;

#[test]
fn equals_spikeinterface_detect_peaks() {
    let dir = spyglass_testkit::scratch_dir();
    let d = dir.path().to_str().unwrap();
    spyglass_testkit::run_python(include_str!("generate.py"), &[d, "4", "3", "20", "17"]);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("gt.json")).unwrap())
            .unwrap();
    let nc = meta["n_channels"].as_u64().unwrap() as usize;
    let fs = meta["fs"].as_f64().unwrap();
    let bytes = std::fs::read(dir.path().join("traces.f32")).unwrap();
    let data: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let lb = std::fs::read(dir.path().join("locations.f8")).unwrap();
    let lv: Vec<f64> = lb
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let locs: Vec<[f64; 2]> = lv.chunks_exact(2).map(|p| [p[0], p[1]]).collect();
    let rec = InMemoryRecording::new(data, nc, fs).unwrap();
    // (sign, threshold, sweep ms, radius µm, noise: "mad" = SpikeInterface's per-channel
    // levels, a number = that level on every channel as Spyglass's clusterless does)
    let configs = serde_json::json!([
        {"sign": "neg", "thr": 5.0, "sweep": 0.1, "radius": 50.0, "noise": "mad"},
        {"sign": "pos", "thr": 3.0, "sweep": 0.5, "radius": 30.0, "noise": "mad"},
        {"sign": "both", "thr": 4.0, "sweep": 1.0, "radius": 100.0, "noise": "mad"},
        {"sign": "neg", "thr": 20.0, "sweep": 0.1, "radius": 100.0, "noise": "1"},
        {"sign": "neg", "thr": 3.0, "sweep": 0.2, "radius": 0.0, "noise": "mad"}
    ]);
    let out = spyglass_testkit::run_python(ORACLE, &[d, &configs.to_string()]);
    let res: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let noise: Vec<f64> = res["noise"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for (k, c) in configs.as_array().unwrap().iter().enumerate() {
        let nl = match c["noise"].as_str().unwrap() {
            "mad" => noise.clone(),
            v => vec![v.parse().unwrap(); nc],
        };
        let p = ThresholdParams {
            peak_sign: PeakSign::parse(c["sign"].as_str().unwrap()).unwrap(),
            detect_threshold: c["thr"].as_f64().unwrap(),
            exclude_sweep_ms: c["sweep"].as_f64().unwrap(),
            radius_um: c["radius"].as_f64().unwrap(),
            noise_levels: nl,
        };
        let py = &res["peaks"][k];
        let want: Vec<(usize, usize)> = py[0]
            .as_array()
            .unwrap()
            .iter()
            .zip(py[1].as_array().unwrap())
            .map(|(s, c)| (s.as_u64().unwrap() as usize, c.as_u64().unwrap() as usize))
            .collect();
        assert!(
            want.len() > 50,
            "config {c}: oracle found only {} peaks",
            want.len()
        );
        // chunk lengths unlike SpikeInterface's 1 s: the result must not depend on them
        for chunk in [25_000, 7_777, 500_000] {
            let got = peaks_of(&rec, &locs, &p, chunk);
            assert_eq!(
                got.len(),
                want.len(),
                "config {c}, chunk {chunk}: peak count"
            );
            assert_eq!(got, want, "config {c}, chunk {chunk}");
        }
    }
}

#[test]
fn clusterless_rows_map_to_the_detector() {
    use spyglass_sort::{clusterless_thresholder, ClusterlessParams};
    // Spyglass's default_clusterless row as stored (extra keys ignored)
    let row = r#"{"detect_threshold": 100.0, "method": "locally_exclusive", "peak_sign": "neg",
        "exclude_sweep_ms": 0.1, "local_radius_um": 100, "noise_levels": [1.0],
        "random_chunk_kwargs": {}, "outputs": "sorting"}"#;
    let p: ClusterlessParams = serde_json::from_str(row).unwrap();
    assert_eq!(p, ClusterlessParams::default());
    let t = p.to_threshold_params(4).unwrap();
    assert_eq!(t.noise_levels, vec![1.0; 4]);
    assert_eq!(t.radius_um, 100.0);
    // a 120 µV trough on channel 1 at sample 10 of 30 kHz data: one peak, in µV
    let mut x = vec![0.0f32; 40 * 2];
    x[10 * 2 + 1] = -120.0;
    x[20 * 2] = -90.0; // below 100 µV: not a peak
    let rec = InMemoryRecording::new(x, 2, 30000.0).unwrap();
    let peaks = clusterless_thresholder(&rec, &[[0.0, 0.0], [0.0, 20.0]], &p).unwrap();
    assert_eq!(peaks.len(), 1);
    assert_eq!(
        (peaks[0].sample, peaks[0].channel, peaks[0].amplitude),
        (10, 1, -120.0)
    );
    let bad = ClusterlessParams {
        method: "by_channel".into(),
        ..ClusterlessParams::default()
    };
    assert!(matches!(
        clusterless_thresholder(&rec, &[[0.0, 0.0], [0.0, 20.0]], &bad),
        Err(SortError::Invalid { what: "method", .. })
    ));
}
