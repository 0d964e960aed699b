//! DeepLabCut output without training, and ndx-pose, end to end on a session
//! written by pynwb: a DLC `.h5` written by pandas (as DLC's `analyze_videos` writes
//! it) is imported into DLCPoseEstimation, then DLCSmoothInterp, the cohort,
//! DLCCentroid, DLCOrientation and DLCPosV1 are populated; the smoothed body parts,
//! centroid, velocity, speed and orientation equal what Spyglass's own
//! post-processing functions (compiled from the installed Spyglass 0.6 source, chained
//! as its makes chain them) compute on the same DLCPoseEstimation data read by pynwb
//! from our analysis files — within 1e-9 relative. An ndx-pose PoseEstimation of the
//! same session is imported into ImportedPose and read back with the values Python
//! wrote; its IntervalList equals Spyglass's `get_valid_intervals`.

use crate::common::*;
use spyglass::position::dlc::{centroid, cohort, orient, pose_estimation, position, selection};
use spyglass::position::imported_pose;
use spyglass_db::Cond;

/// Adds to the fixture (pynwb, appending): an ndx-pose PoseEstimation with a
/// skeleton; then (h5py) 600 video frame times at 30 Hz from 10 s. Writes (pandas,
/// in the Spyglass env, which has PyTables) the DLC output of that video. Prints
/// what was written.
const FIXTURE: &str = r#"
import json, sys
import numpy as np
from pynwb import NWBHDF5IO
from ndx_pose import PoseEstimation, PoseEstimationSeries, Skeleton, Skeletons
nwb_path = sys.argv[1]
rng = np.random.default_rng(5)
with NWBHDF5IO(nwb_path, "a") as io:
    f = io.read()
    beh = f.processing["behavior"]
    sk = Skeleton(name="head", nodes=["snout", "neck"], edges=np.array([[0, 1]], dtype="uint8"))
    beh.add(Skeletons(skeletons=[sk]))
    n = 2400  # two 40 s pieces: ImportedPose keeps pieces longer than `sampling_rate` seconds
    t = 10.0 + np.arange(n) / 30.0 + rng.uniform(-0.002, 0.002, n)
    t[1200:] += 5.0  # a gap: two valid intervals
    series, out = [], {}
    for k, name in enumerate(["snout", "neck"]):
        s = PoseEstimationSeries(name=name, data=rng.uniform(0, 500, (n, 2)), unit="pixels",
                                 reference_frame="top left", timestamps=t if k == 0 else series[0],
                                 confidence=rng.uniform(0, 1, n))
        series.append(s)
    pe = PoseEstimation(name="sleap_pose", pose_estimation_series=series, description="head",
                        skeleton=sk, source_software="SLEAP")
    beh.add(pe)
    io.write(f)
    out = dict(object_id=pe.object_id, skeleton_object_id=sk.object_id, timestamps=t.tolist(),
               parts={s.name: dict(object_id=s.object_id, data=np.asarray(s.data).tolist(),
                                   confidence=np.asarray(s.confidence).tolist()) for s in series})
import h5py
with h5py.File(nwb_path, "a") as h:
    g = h["processing/video_files/video/01_s1_video"]
    del g["timestamps"]
    d = g.create_dataset("timestamps", data=10.0 + np.arange(600) / 30.0)
    d.attrs["interval"] = 1
    d.attrs["unit"] = "seconds"
print(json.dumps(out))
"#;

const DLC_H5: &str = r#"
import sys
import numpy as np
import pandas as pd
out = sys.argv[1]
rng = np.random.default_rng(9)
n = 600
scorer = "DLC_resnet50_dlctestDec3shuffle1_500000"
parts = ["greenLED", "redLED_C", "redLED_L", "redLED_R"]
t = np.arange(n) / 30.0
cx, cy = 300 + 150 * np.sin(0.3 * t), 250 + 100 * np.cos(0.2 * t)
head = np.arctan2(np.gradient(cy), np.gradient(cx)) + 0.3 * np.sin(1.1 * t)
offsets = {"greenLED": (9.0, 0.0), "redLED_C": (-6.0, 0.0), "redLED_L": (-4.0, 7.0), "redLED_R": (-4.0, -7.0)}
cols, data = [], []
for k, p in enumerate(parts):
    a, b = offsets[p]
    x = cx + a * np.cos(head) - b * np.sin(head) + rng.uniform(-0.5, 0.5, n)
    y = cy + a * np.sin(head) + b * np.cos(head) + rng.uniform(-0.5, 0.5, n)
    lik = np.where(rng.uniform(0, 1, n) < 0.05, rng.uniform(0, 0.9, n), rng.uniform(0.96, 1.0, n))
    o = 40 + 53 * k
    lik[o:o + 10] = 0.05          # a low-likelihood run
    x[o + 120] += 200.0           # a 40 cm jump
    y[o + 250:o + 262] -= 90.0    # a long excursion
    lik[:2 + k] = 0.0             # missing at the start
    cols += [(scorer, p, c) for c in ("x", "y", "likelihood")]
    data += [x, y, lik]
df = pd.DataFrame(np.column_stack(data), columns=pd.MultiIndex.from_tuples(cols, names=["scorer", "bodyparts", "coords"]))
df.to_hdf(out, key="df_with_missing", format="table", mode="w")
"#;

/// Spyglass's post-processing on our DLCPoseEstimation files read by pynwb:
/// DLCSmoothInterp per body part, the cohort frame, DLCCentroid and DLCOrientation
/// with the named parameter dicts; writes every result as little-endian f64.
const ORACLE: &str = r#"
import json, sys
from functools import reduce
from itertools import combinations, groupby
from operator import itemgetter
from typing import Tuple, Union
from pynwb import NWBHDF5IO
from position_tools import get_distance, get_velocity
from position_tools.core import gaussian_smooth
args = json.load(open(sys.argv[1]))
g = dict(np=np, pd=pd, get_distance=get_distance, reduce=reduce, combinations=combinations, groupby=groupby,
         itemgetter=itemgetter, logger=logger, test_mode=True, Tuple=Tuple, Union=Union)
load_defs('position/v1/dlc_utils.py', ['get_span_start_stop', 'interp_pos', 'interp_orientation', 'smooth_moving_avg',
          '_key_to_smooth_func_dict', 'two_pt_head_orientation', 'no_orientation', 'red_led_bisector_orientation',
          'Centroid'], g)
load_defs('position/v1/position_dlc_position.py', ['nan_inds', 'get_good_spans', 'span_length', 'get_subthresh_inds'], g)
load_defs('position/v1/position_dlc_orient.py', ['_key_to_func_dict'], g)

def pose_df(part):
    # DLCPoseEstimation.BodyPart.fetch1_dataframe
    with NWBHDF5IO(part["file"], "r", load_namespaces=True) as io:
        objs = io.read().objects
        pos = objs[part["position"]].spatial_series["position"]
        lik = objs[part["likelihood"]]
        return pd.DataFrame(np.concatenate((
            np.asarray(lik.time_series["video_frame_ind"].data, dtype=int)[:, None],
            np.asarray(pos.data), np.asarray(lik.time_series["likelihood"].data)[:, None]), axis=1),
            columns=["video_frame_ind", "x", "y", "likelihood"], index=pd.Index(np.asarray(pos.timestamps), name="time"))

out = []
smoothed = {}
params = args["si_params"]
for name, part in sorted(args["parts"].items()):
    # DLCSmoothInterp._logged_make
    dlc_df = pose_df(part)
    p = json.loads(json.dumps(params))
    likelihood_thresh = p.pop("likelihood_thresh")
    df_w_nans, bad_inds = g['nan_inds'](dlc_df.copy(), max_dist_between=p["max_cm_between_pts"],
                                       likelihood_thresh=likelihood_thresh, inds_to_span=p["num_inds_to_span"])
    nan_mask = df_w_nans[["x", "y"]].isna().any(axis=1).to_numpy()
    nan_spans = g['get_span_start_stop'](np.where(nan_mask)[0])
    interp_df = g['interp_pos'](df_w_nans.copy(), nan_spans, **p.get("interp_params", {})) if p.get("interpolate") else df_w_nans.copy()
    if p.get("smooth"):
        sp = p["smoothing_params"]
        dt = np.median(np.diff(dlc_df.index.to_numpy()))
        smooth_df = g['_key_to_smooth_func_dict'][sp["smooth_method"]](interp_df, smoothing_duration=sp["smoothing_duration"], sampling_rate=1 / dt)
    else:
        smooth_df = interp_df.copy()
    final = smooth_df.drop(["likelihood"], axis=1)
    smoothed[name] = final[["video_frame_ind", "x", "y"]]
    out.append(final[["x", "y"]].to_numpy())
# DLCCentroid._logged_make
cp = args["centroid_params"]
idx = pd.IndexSlice
key_to_points = {"four_led_centroid": ["greenLED", "redLED_L", "redLED_C", "redLED_R"], "two_pt_centroid": ["point1", "point2"], "one_pt_centroid": ["point1"]}
use = [cp["points"][k] for k in key_to_points[cp["centroid_method"]]]
pos_df = pd.concat({bp: smoothed[bp] for bp in use}, axis=1)
centroid = g['Centroid'](pos_df=pos_df, points=cp["points"], max_LED_separation=cp["max_LED_separation"]).centroid
# rows no rule of Spyglass covers keep (0, 0); spyglass-rs makes them NaN
unassigned = (centroid == 0).all(axis=1)
centroid[unassigned] = np.nan
centroid_df = pd.DataFrame(centroid, columns=["x", "y"], index=pos_df.index.to_numpy())
if cp.get("interpolate") and np.any(np.isnan(centroid)):
    nan_inds = pd.isnull(centroid_df.loc[:, idx[("x", "y")]]).any(axis=1).to_numpy().nonzero()[0]
    interp_df = g['interp_pos'](centroid_df.copy(), g['get_span_start_stop'](nan_inds), **cp["interp_params"])
else:
    interp_df = centroid_df.copy()
sampling_rate = 1 / np.median(np.diff(pos_df.index.to_numpy()))
if cp.get("smooth"):
    final_df = g['_key_to_smooth_func_dict'][cp["smoothing_params"]["smooth_method"]](interp_df, sampling_rate=sampling_rate, **cp["smoothing_params"])
else:
    final_df = interp_df.copy()
velocity = get_velocity(final_df.loc[:, idx[("x", "y")]].to_numpy(), time=pos_df.index.to_numpy(),
                        sigma=cp["speed_smoothing_std_dev"], sampling_frequency=sampling_rate)
speed = np.sqrt(np.sum(velocity ** 2, axis=1))
frames = pos_df[pos_df.columns.levels[0][0]].video_frame_ind.to_numpy()
# DLCOrientation.make (the cohort's body parts)
op = json.loads(json.dumps(args["orient_params"]))
pos_all = pd.concat({bp: smoothed[bp] for bp in sorted(smoothed)}, axis=1)
sd = op.pop("orientation_smoothing_std_dev", None)
rate = 1 / np.median(np.diff(pos_all.index.to_numpy()))
orientation = g['_key_to_func_dict'][op["orient_method"]](pos_all, **op)
if op["orient_method"] != "none":
    is_nan = np.isnan(orientation)
    unwrap = orientation.copy()
    unwrap[~is_nan] = np.unwrap(orientation[~is_nan])
    unwrap_df = pd.DataFrame(unwrap, columns=["orientation"], index=pos_all.index)
    orient_df = g['interp_orientation'](unwrap_df, g['get_span_start_stop'](np.where(is_nan)[0]))
    orientation = gaussian_smooth(orient_df["orientation"].to_numpy(), sd, rate, axis=0, truncate=8)
    orientation = np.angle(np.exp(1j * orientation))
write_f64(args["out"], *out, final_df[["x", "y"]].to_numpy(), velocity, speed, frames, orientation)
print(int(unassigned.sum()))
"#;

/// Spyglass's `estimate_sampling_rate` and `get_valid_intervals` (ImportedPose's).
const VALID_TIMES: &str = r#"
import json, sys
args = json.load(open(sys.argv[1]))
g = dict(np=np, logger=logger)
load_defs('utils/nwb_helper_fn.py', ['estimate_sampling_rate', 'get_valid_intervals'], g)
t = np.array(args["t"])
rate = g['estimate_sampling_rate'](t, filename="x")
print(json.dumps(np.asarray(g['get_valid_intervals'](t, sampling_rate=rate, min_valid_len=rate, warn=False)).tolist()))
"#;

fn spyglass_oracle(script: &str, args: &serde_json::Value) -> String {
    let dir = spyglass_testkit::scratch_dir();
    let input = dir.path().join("args.json");
    std::fs::write(&input, args.to_string()).unwrap();
    let code = format!(
        "{}\n{script}",
        include_str!("../../../spyglass-position/tests/py/spyglass_src.py")
    );
    spyglass_testkit::run_spyglass_python(&code, &[input.to_str().unwrap()])
}

fn read_f64(path: &std::path::Path) -> Vec<f64> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

/// Equal NaN positions; elsewhere |ours − Spyglass| ≤ rel · max(1, |Spyglass|).
fn assert_close(label: &str, ours: &[f64], want: &[f64], rel: f64) {
    assert_eq!(ours.len(), want.len(), "{label}: length");
    let mut worst = 0.0f64;
    for (i, (a, b)) in ours.iter().zip(want).enumerate() {
        assert_eq!(
            a.is_nan(),
            b.is_nan(),
            "{label}[{i}]: ours {a}, Spyglass {b}"
        );
        if !b.is_nan() {
            let err = (a - b).abs() / b.abs().max(1.0);
            worst = worst.max(err);
            assert!(err <= rel, "{label}[{i}]: ours {a}, Spyglass {b}");
        }
    }
    eprintln!("{label}: {} values, max rel error {worst:e}", want.len());
}

fn flat(v: &[[f64; 2]]) -> Vec<f64> {
    v.iter().flatten().copied().collect()
}

#[test]
fn dlc_output_post_processed_as_spyglass_and_ndx_pose_imported() {
    let env = Env::new();
    let src = env.staging().join("dlc20230622.nwb");
    pynwb_file(&src, "extras");
    let written: serde_json::Value = serde_json::from_str(
        spyglass_testkit::run_python(FIXTURE, &[src.to_str().unwrap()]).trim(),
    )
    .expect("fixture JSON");
    let h5 = env.staging().join("dlc_output.h5");
    spyglass_testkit::run_spyglass_python(DLC_H5, &[h5.to_str().unwrap()]);
    let r = env.insert(&[src]);
    assert!(r[0].is_ok(), "{:?}", r[0].status);
    let nwb = r[0].nwb_file_name.clone();

    // ImportedPose, made by ingest as Spyglass's populate_all_common makes it: rows,
    // object ids and values as Python wrote them
    assert!(imported_pose::import(&env.db, &nwb).unwrap().is_empty());
    let session = serde_json::json!({ "nwb_file_name": nwb });
    let keys: Vec<imported_pose::ImportedPoseKey> =
        spyglass::kit::Tables::rows(&*env.db, imported_pose::IMPORTED_POSE, &session).unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        keys[0].interval_list_name,
        "pose_sleap_pose_valid_intervals"
    );
    let row: imported_pose::ImportedPoseRow =
        spyglass::kit::Tables::row(&*env.db, imported_pose::IMPORTED_POSE, &keys[0]).unwrap();
    assert_eq!(row.pose_object_id, written["object_id"].as_str().unwrap());
    assert_eq!(
        row.skeleton_object_id,
        written["skeleton_object_id"].as_str().unwrap()
    );
    let (time, parts) = imported_pose::fetch_pose(&env.db, &keys[0]).unwrap();
    let want_t: Vec<f64> = serde_json::from_value(written["timestamps"].clone()).unwrap();
    assert_close("ImportedPose time", &time, &want_t, 1e-15);
    assert_eq!(parts.len(), 2);
    for p in &parts {
        let w = &written["parts"][&p.name];
        let data: Vec<[f64; 2]> = serde_json::from_value(w["data"].clone()).unwrap();
        let conf: Vec<f64> = serde_json::from_value(w["confidence"].clone()).unwrap();
        let xy: Vec<[f64; 2]> = p.x.iter().zip(&p.y).map(|(&x, &y)| [x, y]).collect();
        assert_close(
            &format!("ImportedPose {} xy", p.name),
            &flat(&xy),
            &flat(&data),
            1e-15,
        );
        assert_close(
            &format!("ImportedPose {} confidence", p.name),
            &p.likelihood,
            &conf,
            1e-15,
        );
    }
    let part_rows = env.all(imported_pose::IMPORTED_POSE_BODY_PART);
    assert_eq!(part_rows.len(), 2);
    for pr in &part_rows {
        let name = s(pr, "part_name");
        assert_eq!(
            s(pr, "part_object_id"),
            written["parts"][&name]["object_id"].as_str().unwrap()
        );
    }
    let valid: Vec<[f64; 2]> = serde_json::from_str(
        spyglass_oracle(VALID_TIMES, &serde_json::json!({"t": want_t})).trim(),
    )
    .unwrap();
    let list = env
        .rows(spyglass::common::common_interval::INTERVAL_LIST, &nwb)
        .into_iter()
        .find(|r| s(r, "interval_list_name") == "pose_sleap_pose_valid_intervals")
        .expect("the pose IntervalList");
    assert_eq!(valid.len(), 2);
    assert_times(&times(&list), &valid, 1e-12);
    // through PositionOutput: the same pose (Spyglass's fetch_pose_dataframe), no
    // head position (Spyglass has no fetch1_dataframe for it either), one entry
    let id = imported_pose::add_to_output(&env.db, &keys[0]).unwrap();
    assert_eq!(imported_pose::add_to_output(&env.db, &keys[0]).unwrap(), id);
    let (merged_time, merged_parts) = spyglass::position::merge::fetch_pose(&env.db, &id).unwrap();
    assert_eq!((merged_time, merged_parts), (time, parts));
    let e = spyglass::position::merge::fetch_position(&env.db, &id).unwrap_err();
    assert!(e.to_string().contains("fetch_pose"), "{e}");

    // DLC: import, then Spyglass's post-processing
    let spec = pose_estimation::ImportSpec {
        nwb_file_name: nwb.clone(),
        epoch: 1,
        video_file_num: 0,
        output: h5.clone(),
        project_name: None,
        dlc_model_name: None,
        team_name: None,
    };
    let (pose, bodyparts) = pose_estimation::import(&env.db, &env.settings, &spec).unwrap();
    assert_eq!(bodyparts, ["greenLED", "redLED_C", "redLED_L", "redLED_R"]);
    assert!(
        pose_estimation::import(&env.db, &env.settings, &spec).is_err(),
        "a second import is refused"
    );
    spyglass::defaults::insert_defaults(&env.db, &[]).unwrap();
    assert_eq!(env.count(position::PARAMS), 2);
    let names = pose_estimation::ChainNames {
        si_params: "default".into(),
        cohort: "leds".into(),
        centroid_params: "default".into(),
        orientation_params: "default".into(),
    };
    let found = pose_estimation::find_pose(&env.db, &nwb, 1, None).unwrap();
    assert_eq!(found, pose);
    let (pk, pos_selected) = pose_estimation::select_chain(&env.db, &pose, &names).unwrap();
    assert!(
        !pos_selected,
        "DLCPosSelection needs the centroid and orientation rows"
    );
    let pop = |table: &str| {
        let rep = spyglass::populate(&env.db, &env.settings, table, Cond::Bool(true)).unwrap();
        assert!(rep.error_list.is_empty(), "{table}: {:?}", rep.error_list);
        rep.success_count
    };
    assert_eq!(pop(position::SMOOTH_INTERP), 4);
    assert_eq!(pop(cohort::COHORT), 1);
    assert_eq!(env.count(cohort::COHORT_BODY_PART), 4);
    assert!(
        !pose_estimation::select_chain(&env.db, &pose, &names)
            .unwrap()
            .1
    );
    assert_eq!(pop(centroid::CENTROID), 1);
    assert_eq!(pop(orient::ORIENTATION), 1);
    let (again, pos_selected) = pose_estimation::select_chain(&env.db, &pose, &names).unwrap();
    assert!(pos_selected);
    assert_eq!(again, pk);
    assert_eq!(pop(selection::DLC_POS_V1), 1);

    // the oracle on our DLCPoseEstimation files
    let mut files = serde_json::Map::new();
    for bp in &bodyparts {
        let k = pose_estimation::PoseBodyPartKey {
            pose: pose.clone(),
            bodypart: bp.clone(),
        };
        let row: pose_estimation::PoseBodyPart =
            spyglass::kit::Tables::row(&*env.db, pose_estimation::POSE_BODY_PART, &k).unwrap();
        let path =
            spyglass::analysis::analysis_file_path(&env.db, &row.analysis_file_name).unwrap();
        files.insert(
            bp.clone(),
            serde_json::json!({
                "file": path, "position": row.dlc_pose_estimation_position_object_id,
                "likelihood": row.dlc_pose_estimation_likelihood_object_id,
            }),
        );
    }
    let dir = spyglass_testkit::scratch_dir();
    let out = dir.path().join("oracle.f64");
    let si: serde_json::Value = serde_json::from_str(position::DEFAULTS[0].1).unwrap();
    let cp: serde_json::Value = serde_json::from_str(centroid::DEFAULTS[0].1).unwrap();
    let op: serde_json::Value = serde_json::from_str(orient::DEFAULTS[0].1).unwrap();
    let args = serde_json::json!({"parts": files, "si_params": si, "centroid_params": cp, "orient_params": op, "out": out});
    let unassigned = spyglass_oracle(ORACLE, &args);
    eprintln!(
        "centroid rows no rule of Spyglass covers: {}",
        unassigned.trim()
    );
    let want = read_f64(&out);
    let n = 600;
    let mut at = 0;
    let mut take = |k: usize| {
        let v = want[at..at + k].to_vec();
        at += k;
        v
    };
    for bp in &bodyparts {
        let k = position::SmoothInterpKey {
            part: pose_estimation::PoseBodyPartKey {
                pose: pose.clone(),
                bodypart: bp.clone(),
            },
            dlc_si_params_name: "default".into(),
        };
        let row: position::SmoothInterpRow =
            spyglass::kit::Tables::row(&*env.db, position::SMOOTH_INTERP, &k).unwrap();
        let p = position::read_smoothed(
            &env.db,
            &row.analysis_file_name,
            &row.dlc_smooth_interp_position_object_id,
            &row.dlc_smooth_interp_info_object_id,
        )
        .unwrap();
        let xy: Vec<[f64; 2]> = p.x.iter().zip(&p.y).map(|(&x, &y)| [x, y]).collect();
        assert_close(
            &format!("DLCSmoothInterp {bp}"),
            &flat(&xy),
            &take(2 * n),
            1e-9,
        );
    }
    let c = selection::fetch_dlc_pos(&env.db, &pk).unwrap();
    assert_close("DLCPosV1 position", &flat(&c.position), &take(2 * n), 1e-9);
    assert_close("DLCPosV1 velocity", &flat(&c.velocity), &take(2 * n), 1e-9);
    assert_close("DLCPosV1 speed", &c.speed, &take(n), 1e-9);
    assert_close(
        "DLCPosV1 video_frame_ind",
        &c.video_frame_ind,
        &take(n),
        0.0,
    );
    let theta = selection::fetch_dlc_orientation(&env.db, &pk).unwrap();
    assert_close("DLCPosV1 orientation", &theta, &take(n), 1e-9);
    assert_eq!(at, want.len());
    assert!(c.position.iter().filter(|p| !p[0].is_nan()).count() > n / 2);

    // DLCPosV1 is in PositionOutput, read back through the merge table
    let ids = spyglass::position::merge::position_merge_ids(&env.db, &nwb, None).unwrap();
    let dlc: Vec<_> = ids.iter().filter(|(_, s)| s == "DLCPosV1").collect();
    assert_eq!(dlc.len(), 1, "{ids:?}");
    let merged = spyglass::position::merge::fetch_position(&env.db, &dlc[0].0).unwrap();
    assert_close(
        "PositionOutput position",
        &flat(&merged.position),
        &flat(&c.position),
        0.0,
    );
    assert_close(
        "PositionOutput orientation",
        &merged.orientation,
        &theta,
        0.0,
    );
    assert_close("PositionOutput speed", &merged.speed, &c.speed, 0.0);
    let frames: Vec<f64> = merged
        .video_frame_ind
        .unwrap()
        .iter()
        .map(|&f| f as f64)
        .collect();
    assert_close(
        "PositionOutput video_frame_ind",
        &frames,
        &c.video_frame_ind,
        0.0,
    );
}
