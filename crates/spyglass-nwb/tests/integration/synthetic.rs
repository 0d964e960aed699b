//! The synthetic-session writer: valid for pynwb and nwbinspector, read back by pynwb
//! with the values we wrote, and consistent with its ground truth.

use crate::common;

use spyglass_nwb::synthetic::{write_session, SyntheticParams};
use spyglass_nwb::{Compression, NwbFile, SampleSpan};

fn small(compression: Compression, gap: Option<(f64, f64)>) -> SyntheticParams {
    SyntheticParams {
        duration_s: 2.0,
        n_channels: 8,
        n_groups: 2,
        compression,
        gap,
        seed: 11,
        ..Default::default()
    }
}

#[test]
fn synthetic_session_is_valid_and_pynwb_reads_it() {
    common::init();
    let dir = spyglass_testkit::scratch_dir();
    let path = dir.path().join("synth.nwb");
    let gt = write_session(
        &path,
        &small(
            Compression::Gzip {
                rows: 30000,
                level: 4,
                shuffle: true,
            },
            Some((1.0, 0.5)),
        ),
    )
    .expect("write");
    common::assert_valid(&path);
    common::assert_inspector_clean(&path);

    let out = spyglass_testkit::run_python(
        r#"
import sys, json, numpy as np
import pynwb, ndx_franklab_novela
with pynwb.NWBHDF5IO(sys.argv[1], "r") as io:
    nwb = io.read()
    es = nwb.acquisition["e-series"]
    el = nwb.electrodes.to_dataframe()
    pos = nwb.processing["behavior"]["position"]
    tasks = nwb.processing["tasks"]
    print(json.dumps(dict(
        data_head=es.data[:50, :].tolist(), data_tail=es.data[-50:, :].tolist(),
        ts=[float(es.timestamps[0]), float(es.timestamps[-1])], n=int(es.data.shape[0]),
        conversion=float(es.conversion), electrodes=es.electrodes.data[:].tolist(), object_id=es.object_id,
        group_name=el["group_name"].tolist(), probe_shank=el["probe_shank"].tolist(),
        probe_electrode=el["probe_electrode"].tolist(), bad=[bool(b) for b in el["bad_channel"]],
        group_of_row=[g.name for g in el["group"]],
        epochs=[[float(a), float(b), list(t)] for a, b, t in zip(nwb.epochs["start_time"][:], nwb.epochs["stop_time"][:], nwb.epochs["tags"][:])],
        pos={k: dict(data=v.data[:].tolist(), ts=v.timestamps[:].tolist(), conv=float(v.conversion)) for k, v in pos.spatial_series.items()},
        tasks={k: dict(name=str(v["task_name"][0]), epochs=[int(x) for x in v["task_epochs"][0]]) for k, v in tasks.data_interfaces.items()},
        subject=dict(species=nwb.subject.species, sex=nwb.subject.sex, age=nwb.subject.age, id=nwb.subject.subject_id),
        probe_types=sorted(d.probe_type for d in nwb.devices.values() if type(d).__name__ == "Probe"),
        camera=[d.camera_name for d in nwb.devices.values() if type(d).__name__ == "CameraDevice"],
    )))
"#,
        &[path.to_str().unwrap()],
    );
    let v = common::json(&out);
    let f = NwbFile::open(&path).unwrap();
    // Raw values: pynwb's view equals ours.
    let r = f.raw_reader("/acquisition/e-series").unwrap();
    let head = r.read::<i16>(0..50, &(0..8).collect::<Vec<_>>()).unwrap();
    let n = gt.n_samples;
    let tail = r
        .read::<i16>(n - 50..n, &(0..8).collect::<Vec<_>>())
        .unwrap();
    for (rows, block, off) in [
        (&v["data_head"], &head, 0usize),
        (&v["data_tail"], &tail, 0),
    ] {
        let rows = rows.as_array().unwrap();
        for (t, row) in rows.iter().enumerate() {
            for (c, x) in row.as_array().unwrap().iter().enumerate() {
                assert_eq!(
                    x.as_i64().unwrap(),
                    block[c][t + off] as i64,
                    "sample {t} channel {c}"
                );
            }
        }
    }
    assert_eq!(v["n"].as_u64().unwrap() as usize, n);
    assert_eq!(v["object_id"].as_str().unwrap(), gt.raw_object_id);
    let ts = common::f64s(&v["ts"]);
    assert!((ts[0] - gt.time_of(0)).abs() < 1e-15);
    assert!(ts[0].abs() <= 1e-6);
    assert!(
        (ts[1] - gt.time_of(n - 1)).abs() < 1e-12,
        "last timestamp includes the gap"
    );
    assert!((gt.time_of(n - 1) - (2.0 - 1.0 / 30000.0 + 0.5)).abs() <= 1e-6);
    assert_eq!(v["conversion"].as_f64().unwrap(), 0.195e-6);
    assert_eq!(
        v["group_name"],
        serde_json::json!(["0", "0", "0", "0", "1", "1", "1", "1"])
    );
    assert_eq!(v["group_of_row"], v["group_name"]);
    assert_eq!(
        v["probe_shank"],
        serde_json::json!([0, 0, 0, 0, 1, 1, 1, 1])
    );
    assert_eq!(
        v["probe_electrode"],
        serde_json::json!([0, 1, 2, 3, 4, 5, 6, 7])
    );
    assert_eq!(v["bad"], serde_json::json!(vec![false; 8]));
    let epochs = v["epochs"].as_array().unwrap();
    assert_eq!(epochs.len(), 2);
    assert_eq!(epochs[0][2], serde_json::json!(["01_s1"]));
    assert_eq!(epochs[1][2], serde_json::json!(["02_r1"]));
    for (e, truth) in epochs.iter().zip(&gt.epochs) {
        assert_eq!(e[0].as_f64().unwrap(), truth.1);
        assert_eq!(e[1].as_f64().unwrap(), truth.2);
    }
    // Position: stored pixels × conversion = ground-truth meters.
    for p in &gt.position {
        let e = &gt.epochs.iter().position(|x| x.0 == p.epoch).unwrap() + 1;
        for (l, led) in [&p.led0, &p.led1].into_iter().enumerate() {
            let s = &v["pos"][format!("led_{l}_series_{e}")];
            let conv = s["conv"].as_f64().unwrap();
            common::assert_close(
                &common::f64s(&s["ts"]),
                &p.timestamps,
                1e-15,
                "position timestamps",
            );
            for (row, xy) in s["data"].as_array().unwrap().iter().zip(led) {
                let r = common::f64s(row);
                assert!((r[0] * conv - xy[0]).abs() < 1e-12 && (r[1] * conv - xy[1]).abs() < 1e-12);
            }
        }
    }
    assert_eq!(v["tasks"]["task_0"]["name"], "sleep");
    assert_eq!(v["tasks"]["task_0"]["epochs"], serde_json::json!([1]));
    assert_eq!(v["tasks"]["task_1"]["epochs"], serde_json::json!([2]));
    assert_eq!(v["subject"]["species"], "Rattus norvegicus");
    assert_eq!(v["subject"]["age"], "P90D");
    assert_eq!(
        v["probe_types"],
        serde_json::json!(["synthetic_2shank_8ch"])
    );
    assert_eq!(v["camera"], serde_json::json!(["overhead"]));
}

#[test]
fn ground_truth_is_in_the_data() {
    common::init();
    let dir = spyglass_testkit::scratch_dir();
    let path = dir.path().join("synth.nwb");
    let p = SyntheticParams {
        noise_uv: 0.0,
        ripple_rate_hz: 0.0,
        ..small(Compression::Chunked { rows: 7000 }, None)
    };
    let gt = write_session(&path, &p).unwrap();
    let f = NwbFile::open(&path).unwrap();
    let volts = f
        .read_raw_f64("/acquisition/e-series", SampleSpan::All, &[0, 5])
        .unwrap();
    // Without noise and ripples, a channel is theta plus the spikes of units on its shank:
    // away from spikes it must equal the theta sinusoid to within quantisation.
    let near_spike = |c: usize, i: usize| {
        gt.units
            .iter()
            .any(|u| u.group == c / 4 && u.spike_samples.iter().any(|&s| s.abs_diff(i) < 80))
    };
    for (k, &c) in [0usize, 5].iter().enumerate() {
        let mut checked = 0;
        for i in (0..gt.n_samples).step_by(37) {
            if near_spike(c, i) {
                continue;
            }
            let t = gt.time_of(i);
            let want = gt.theta.amplitude_uv
                * 1e-6
                * (2.0 * std::f64::consts::PI * gt.theta.freq_hz * t).sin();
            assert!(
                (volts[k][i] - want).abs() <= gt.conversion * 0.51,
                "channel {c} sample {i}: {} vs {want}",
                volts[k][i]
            );
            checked += 1;
        }
        assert!(checked > 1000);
    }
    // At each spike of a unit, its home channel dips by about the unit's amplitude below theta.
    for u in &gt.units {
        let v = f
            .read_raw_f64(
                "/acquisition/e-series",
                SampleSpan::Samples(0..gt.n_samples),
                &[u.channel],
            )
            .unwrap()
            .remove(0);
        let s = u.spike_samples[u.spike_samples.len() / 2];
        let theta = gt.theta.amplitude_uv
            * 1e-6
            * (2.0 * std::f64::consts::PI * gt.theta.freq_hz * gt.time_of(s)).sin();
        let dip = (theta - v[s]) * 1e6;
        assert!(
            dip > 0.8 * u.amplitude_uv,
            "unit {} dip {dip} µV vs amplitude {}",
            u.id,
            u.amplitude_uv
        );
    }
}

#[test]
fn deterministic_given_seed() {
    common::init();
    let dir = spyglass_testkit::scratch_dir();
    let a = dir.path().join("a.nwb");
    let b = dir.path().join("b.nwb");
    let p = small(Compression::Contiguous, None);
    let ga = write_session(&a, &p).unwrap();
    let gb = write_session(&b, &p).unwrap();
    assert_eq!(ga.units, gb.units);
    let fa = NwbFile::open(&a).unwrap();
    let fb = NwbFile::open(&b).unwrap();
    let ch: Vec<usize> = (0..8).collect();
    assert_eq!(
        fa.read_raw_i16("/acquisition/e-series", SampleSpan::All, &ch)
            .unwrap(),
        fb.read_raw_i16("/acquisition/e-series", SampleSpan::All, &ch)
            .unwrap()
    );
}

#[test]
fn ripples_have_the_stated_frequency_and_amplitude() {
    common::init();
    let dir = spyglass_testkit::scratch_dir();
    let path = dir.path().join("ripples.nwb");
    let p = SyntheticParams {
        noise_uv: 0.0,
        n_units: 0,
        ripple_rate_hz: 1.0,
        timestamp_jitter_s: 0.0,
        ..small(
            Compression::Gzip {
                rows: 10000,
                level: 1,
                shuffle: false,
            },
            None,
        )
    };
    let gt = write_session(&path, &p).unwrap();
    assert_eq!(gt.ripples.times.len(), 2);
    let f = NwbFile::open(&path).unwrap();
    let v = f
        .read_raw_f64("/acquisition/e-series", SampleSpan::All, &[3])
        .unwrap()
        .remove(0);
    let two_pi = 2.0 * std::f64::consts::PI;
    // Residual after removing theta is the ripple: Gaussian envelope × sinusoid at 180 Hz.
    let resid: Vec<f64> = (0..gt.n_samples)
        .map(|i| {
            v[i] * 1e6 - gt.theta.amplitude_uv * (two_pi * gt.theta.freq_hz * gt.time_of(i)).sin()
        })
        .collect();
    for &c in &gt.ripples.times {
        let i0 = (c * gt.sampling_rate).round() as usize;
        let half_period = (gt.sampling_rate / gt.ripples.freq_hz / 2.0) as usize;
        let peak = resid[i0 - half_period..i0 + half_period]
            .iter()
            .fold(0.0f64, |m, x| m.max(x.abs()));
        assert!(
            (peak - gt.ripples.amplitude_uv).abs() < 0.03 * gt.ripples.amplitude_uv,
            "peak {peak}"
        );
        // Zero crossings in ±2 sd give the carrier frequency.
        let w = (2.0 * gt.ripples.sd_s * gt.sampling_rate) as usize;
        let seg = &resid[i0 - w..i0 + w];
        let crossings = seg.windows(2).filter(|p| p[0] < 0.0 && p[1] >= 0.0).count() as f64;
        let freq = crossings / (2.0 * w as f64 / gt.sampling_rate);
        assert!(
            (freq - gt.ripples.freq_hz).abs() < 0.05 * gt.ripples.freq_hz,
            "frequency {freq}"
        );
    }
    // Far from any ripple the residual is only quantisation.
    let far = (0.25 * gt.sampling_rate) as usize;
    assert!(resid[far - 100..far + 100]
        .iter()
        .all(|x| x.abs() <= gt.conversion * 1e6 * 0.51));
}
