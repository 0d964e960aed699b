//! LFP artifact detection (lfp_v1's LFPArtifactDetection tables): the MAD detector
//! against Spyglass's own `mad_artifact_detector` (its module loaded from the
//! Spyglass environment and run in the test) on noise with injected artifacts, and
//! the pipeline end to end on a synthetic session with artifacts written into the
//! raw data, checked against the same function run on the LFPV1 series as pynwb
//! reads it — which is what Spyglass's make passes it.

use crate::common::*;
use spyglass::filter;
use spyglass::lfp::{self, artifact_v1, v1};
use spyglass_db::Cond;
use spyglass_nwb::synthetic::{write_session, SyntheticParams};

/// Runs Spyglass's `mad_artifact_detector` on `recording` = (data path, object id)
/// read by pynwb, or on a JSON array file; prints `[valid_times, artifact_times]`.
const ORACLE: &str = r#"
import importlib.util, json, sys, types
import numpy as np
# the module by path: importing the spyglass package would look for a database
path = importlib.util.find_spec("spyglass").submodule_search_locations[0] + "/lfp/v1/lfp_artifact_MAD_detection.py"
spec = importlib.util.spec_from_file_location("mad", path)
mad = importlib.util.module_from_spec(spec); spec.loader.exec_module(mad)
args = json.load(open(sys.argv[1]))
if "nwb" in args:
    import pynwb
    io = pynwb.NWBHDF5IO(args["nwb"], "r", load_namespaces=True)
    recording = io.read().objects[args["object_id"]]
else:
    # JSON has no NaN: null is NaN
    recording = types.SimpleNamespace(data=np.array(args["data"], dtype=float), timestamps=np.array(args["timestamps"]))
valid, artifacts = mad.mad_artifact_detector(recording, **args["params"], sampling_frequency=args["rate"])
print(json.dumps([np.asarray(valid).reshape(-1, 2).tolist(), np.asarray(artifacts).reshape(-1, 2).tolist()]))
"#;

fn oracle(args: serde_json::Value) -> (Vec<[f64; 2]>, Vec<[f64; 2]>) {
    let dir = spyglass_testkit::scratch_dir();
    let input = dir.path().join("args.json");
    std::fs::write(&input, args.to_string()).unwrap();
    let out = spyglass_testkit::run_spyglass_python(ORACLE, &[input.to_str().unwrap()]);
    serde_json::from_str(out.trim()).unwrap()
}

#[test]
fn mad_detector_equals_spyglass_on_noise_with_artifacts() {
    // 4 channels of uniform noise (a fixed LCG), 3 s at 1 kHz; a jump on 3
    // channels, a spike on one channel, a slow swing on all, and a NaN
    let (n, e) = (3000, 4);
    let mut state = 12345u64;
    let mut noise = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64 - 0.5
    };
    let mut data = vec![vec![0.0; n]; e];
    for ch in data.iter_mut() {
        ch.iter_mut().for_each(|x| *x = 40.0 * noise());
    }
    for (c, ch) in data.iter_mut().enumerate() {
        if c < 3 {
            ch[500..520].iter_mut().for_each(|x| *x += 900.0);
        }
        ch[2500..2700].iter_mut().for_each(|x| *x -= 600.0);
    }
    data[1][1500] = 5000.0;
    data[2][2000] = f64::NAN;
    let timestamps: Vec<f64> = (0..n).map(|k| 10.0 + k as f64 / 1000.0).collect();
    let rows: Vec<Vec<f64>> = (0..n)
        .map(|k| data.iter().map(|c| c[k]).collect())
        .collect();
    for (thresh, proportion, window) in [(6.0, 0.1, 10.0), (6.0, 0.5, 4.0), (3.0, 0.7, 25.0)] {
        let params = artifact_v1::MadParams {
            mad_thresh: thresh,
            proportion_above_thresh: proportion,
            removal_window_ms: window,
        };
        let got = artifact_v1::mad_artifacts(&data, &timestamps, 1000.0, &params).unwrap();
        let args = serde_json::json!({"data": rows, "timestamps": timestamps, "rate": 1000.0, "params": params});
        let (valid, artifacts) = oracle(args);
        // the same samples' timestamps (1e-12: JSON parsing in the test is not exact)
        assert_times(&got.valid_times, &valid, 1e-12);
        assert_times(&got.artifact_times, &artifacts, 1e-12);
        assert!(!artifacts.is_empty());
    }
}

#[test]
fn artifact_detection_on_a_session_equals_spyglass_on_its_lfp() {
    spyglass_testkit::disable_hdf5_file_locking();
    let env = Env::new();
    let p = SyntheticParams {
        duration_s: 6.0,
        n_channels: 4,
        n_groups: 1,
        n_units: 1,
        ..SyntheticParams::default()
    };
    let src = env.staging().join("art20230622.nwb");
    write_session(&src, &p).unwrap();
    let r = env.insert(&[src]);
    assert!(r[0].is_ok(), "{:?}", r[0].status);
    let nwb = r[0].nwb_file_name.clone();
    spyglass::defaults::insert_defaults(&env.db, &[]).unwrap();
    filter::insert_band_filters(&env.db).unwrap();
    lfp::lfp_electrode::create_group(&env.db, &nwb, "tetrode", &[0, 1, 2, 3]).unwrap();
    let raw = spyglass::common::common_interval::RAW_VALID_TIMES;
    let key: v1::LfpKey =
        serde_json::from_value(select_lfp(&env, &nwb, "tetrode", raw, 30_000).to_json()).unwrap();
    let rep = spyglass::populate(&env.db, &env.settings, v1::LFPV1, Cond::Bool(true)).unwrap();
    assert_eq!(rep.success_count, 1, "{:?}", rep.error_list);

    // Spyglass's four parameter sets; the difference detector is refused by name
    assert_eq!(env.count(artifact_v1::PARAMETERS), 4);
    for params in ["default_mad", "default_difference"] {
        let key = artifact_v1::ArtifactKey {
            lfp: key.clone(),
            artifact_params_name: params.into(),
        };
        env.db
            .insert_serde(artifact_v1::SELECTION, &[key], Default::default())
            .unwrap();
    }
    let only = |name: &str| Cond::map([("artifact_params_name", name)]);
    let table = artifact_v1::DETECTION;
    let rep = spyglass::populate(&env.db, &env.settings, table, only("default_mad")).unwrap();
    assert_eq!(rep.success_count, 1, "{:?}", rep.error_list);
    let err = spyglass::populate(&env.db, &env.settings, table, only("default_difference"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("default_difference") && err.contains("`mad`"),
        "{err}"
    );

    let rows = env.all(artifact_v1::DETECTION);
    assert_eq!(rows.len(), 1);
    let list = s(&rows[0], "artifact_removed_interval_list_name");
    let stored = spyglass::common::common_interval::fetch_list(&env.db, &nwb, &list).unwrap();
    assert_eq!(stored.pipeline, artifact_v1::PIPELINE);
    assert_eq!(env.count(artifact_v1::REMOVED), 1);

    let lfp: Vec<v1::LfpV1Row> = env.db.fetch_as(&env.db.table(v1::LFPV1).unwrap()).unwrap();
    let path = spyglass::analysis::analysis_file_path(&env.db, &lfp[0].analysis_file_name).unwrap();
    let params = serde_json::json!({"mad_thresh": 6.0, "proportion_above_thresh": 0.1, "removal_window_ms": 10.0});
    let args = serde_json::json!({"nwb": path, "object_id": lfp[0].lfp_object_id, "rate": lfp[0].lfp_sampling_rate, "params": params});
    let (valid, _) = oracle(args);
    assert_times(&stored.valid_times, &valid, 1e-12);
}
