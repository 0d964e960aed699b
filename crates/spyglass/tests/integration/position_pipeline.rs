//! The position pipeline (position_v1_trodes_position → position_merge) end to end
//! on a pynwb-written session with tracked LEDs: epoch 0 has two LEDs in 4 columns
//! with tracking defects, epoch 1 one LED in 2 columns (where Spyglass 0.6 asks at
//! the keyboard and then fails). TrodesPosV1 is populated through the registry;
//! its position, orientation, velocity and speed are compared with Spyglass's own
//! `calculate_position_info` (compiled from the installed Spyglass, with Spyglass's
//! `default_params`) run on the same SpatialSeries read by pynwb as Spyglass's
//! `RawPosition.PosObject.fetch1_dataframe` reads them — for the single LED, its
//! computation had `_fix_col_names` named the two columns `xloc, yloc`. The
//! analysis file is read back both by our reader (`fetch_position`) and by pynwb
//! through Spyglass's own `IntervalPositionInfo._data_to_df`. The parameter blob
//! is compared byte for byte with datajoint's `blob.pack` of Spyglass's defaults.

use crate::common::*;
use spyglass::common::common_behav::RAW_POSITION_POS_OBJECT;
use spyglass::position::{merge, trodes_v1};
use spyglass_db::{Cond, Value};
use std::path::Path;

/// Largest allowed |ours − Spyglass| / max(1, |Spyglass|) (measured: see the test's
/// output; the same arithmetic in the same order gives equal or last-bit results).
const TOL: f64 = 1e-12;

const ORACLE: &str = r#"
import ast, json, sys
from functools import reduce
import pynwb
args = json.load(open(sys.argv[1]))
ns = position_namespace()
load_defs("common/common_position.py", ["_fix_col_names"], ns)
load_methods("common/common_position.py", "IntervalPositionInfo",
             ["_fix_kwargs", "_upsample", "calculate_position_info", "_data_to_df"], ns, _Messages)
load_methods("position/v1/position_trodes_position.py", "TrodesPosParams", ["default_params"], ns)
# RawPosition.PosObject._get_column_names, a static method of a nested class
tree = ast.parse((SPYGLASS_ROOT / "common/common_behav.py").read_text())
raw_cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "RawPosition")
pos_cls = next(n for n in raw_cls.body if isinstance(n, ast.ClassDef) and n.name == "PosObject")
fn = next(n for n in pos_cls.body if isinstance(n, ast.FunctionDef) and n.name == "_get_column_names")
fn.decorator_list = []
_compile("common/common_behav.py", [fn], ns)
fix_col_names = ns["_fix_col_names"]
params = ns["TrodesPosParams"]().default_params
out = {"params_blob": ns["dj"].blob.pack(params).hex(), "cases": []}
IPI = ns["IntervalPositionInfo"]
for case in args["cases"]:
    with pynwb.NWBHDF5IO(args["session"], "r", load_namespaces=True) as io:
        nwbf = io.read()
        id_rp = [(pos_id, nwbf.objects[oid]) for pos_id, oid in case["series"]]
        dfs = [pd.DataFrame(data=rp.data[:], index=pd.Index(rp.timestamps[:], name="time"),
                            columns=ns["_get_column_names"](rp, pos_id)) for pos_id, rp in id_rp]
        spatial_df = reduce(lambda x, y: pd.merge(x, y, on="time"), dfs)
        raw = id_rp[0][1]
        conversion, comments, frame = raw.conversion, raw.comments, raw.reference_frame
    if spatial_df.shape[1] == 2:
        # Spyglass 0.6 asks at the keyboard here, then fails renaming 2 columns to 4
        # names; this is its computation had it named them xloc, yloc
        ns["_fix_col_names"] = lambda df: df.set_axis(["xloc", "yloc"], axis=1)
    else:
        ns["_fix_col_names"] = fix_col_names
    info = IPI().calculate_position_info(spatial_df=spatial_df, meters_to_pixels=conversion, **params)
    write_f64(case["dir"] + "/oracle", info["time"], info["position"], info["orientation"],
              info["velocity"], info["speed"])
    with pynwb.NWBHDF5IO(case["analysis"], "r", load_namespaces=True) as io:
        nwbf = io.read()
        pos, ori, vel = (nwbf.objects[i] for i in case["ids"])
        df = IPI._data_to_df({"position": pos, "orientation": ori, "velocity": vel}, prefix="", add_frame_ind=True)
        p, o, v = pos.get_spatial_series(), ori.get_spatial_series(), vel.time_series["velocity"]
        write_f64(case["dir"] + "/pynwb", df.index, df[["position_x", "position_y"]], df["orientation"],
                  df[["velocity_x", "velocity_y"]], df["speed"])
        out["cases"].append(dict(
            n=len(info["time"]),
            frames_are_arange=bool((df["video_frame_ind"].to_numpy() == np.arange(len(df))).all()),
            containers=[type(x).__name__ for x in (pos, ori, vel)],
            in_scratch=all(x.parent is nwbf and x.name in nwbf.scratch for x in (pos, ori, vel)),
            position=[p.name, p.unit, p.conversion, p.description, p.comments, p.reference_frame],
            orientation=[o.name, o.unit, o.conversion, o.description, o.comments, o.reference_frame],
            velocity=[v.name, v.unit, v.conversion, v.description, v.comments],
            raw=[comments, frame],
        ))
print(json.dumps(out))
"#;

fn read_f64(path: &Path) -> Vec<f64> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

/// Equal NaN positions; elsewhere |a − b| ≤ TOL · max(1, |b|); returns the worst error.
fn close(label: &str, ours: &[f64], want: &[f64]) -> f64 {
    assert_eq!(ours.len(), want.len(), "{label}: length");
    let mut worst = 0.0f64;
    for (i, (a, b)) in ours.iter().zip(want).enumerate() {
        assert_eq!(
            a.is_nan(),
            b.is_nan(),
            "{label}[{i}]: ours {a}, Spyglass {b}"
        );
        if !b.is_nan() {
            let e = (a - b).abs() / b.abs().max(1.0);
            worst = worst.max(e);
            assert!(e <= TOL, "{label}[{i}]: ours {a}, Spyglass {b}");
        }
    }
    worst
}

/// time, position (x, y), orientation, velocity (x, y), speed as one flat vector.
fn flat(p: &merge::PositionData) -> Vec<f64> {
    let mut v = p.time.clone();
    v.extend(p.position.iter().flatten());
    v.extend(&p.orientation);
    v.extend(p.velocity.iter().flatten());
    v.extend(&p.speed);
    v
}

#[test]
fn trodes_pos_v1_equals_spyglass_on_two_leds_and_on_a_two_column_single_led() {
    let env = Env::new();
    let src = env.staging().join("leds20230622.nwb");
    pynwb_file(&src, "leds");
    let r = &env.insert(&[src])[0];
    assert!(r.is_ok(), "{:?}", r.status);
    let nwb = r.nwb_file_name.clone();
    spyglass::defaults::insert_defaults(&env.db, &[]).unwrap();
    let keys = trodes_v1::select(&env.db, &nwb, None, trodes_v1::DEFAULT_PARAMS_NAME).unwrap();
    assert_eq!(keys.len(), 2, "one selection per raw position epoch");
    let rep = env
        .db
        .populate(trodes_v1::TRODES_POS_V1, Cond::Bool(true))
        .unwrap();
    assert_eq!(rep.success_count, 2, "{:?}", rep.error_list);
    let ids = merge::position_merge_ids(&env.db, &nwb, None).unwrap();
    assert_eq!(ids.len(), 2);

    let session = spyglass::analysis::nwb_file_path(&env.db, &nwb).unwrap();
    let dir = spyglass_testkit::scratch_dir();
    let mut cases = vec![];
    let mut ours = vec![];
    for (k, key) in keys.iter().enumerate() {
        let row = trodes_v1::fetch_row(&env.db, key).unwrap();
        let objects: Vec<_> = env
            .rows(RAW_POSITION_POS_OBJECT, &nwb)
            .into_iter()
            .filter(|o| s(o, "interval_list_name") == key.interval_list_name)
            .collect();
        let series: Vec<(i64, String)> = objects
            .iter()
            .map(|o| (i(o, "id"), s(o, "raw_position_object_id")))
            .collect();
        let case_dir = dir.path().join(k.to_string());
        std::fs::create_dir_all(&case_dir).unwrap();
        let analysis =
            spyglass::analysis::analysis_file_path(&env.db, &row.analysis_file_name).unwrap();
        cases.push(serde_json::json!({
            "series": series, "analysis": analysis, "dir": case_dir,
            "ids": [row.position_object_id, row.orientation_object_id, row.velocity_object_id],
        }));
        let source_key = spyglass::kit::row_of("k", key).unwrap();
        let merge_id = spyglass_db::merge::merge_id(&source_key, "TrodesPosV1");
        assert!(ids
            .iter()
            .any(|(id, src)| *id == merge_id && src == "TrodesPosV1"));
        ours.push(merge::fetch_position(&env.db, &merge_id).unwrap());
    }
    let input = dir.path().join("args.json");
    let args = serde_json::json!({"session": session, "cases": cases});
    std::fs::write(&input, args.to_string()).unwrap();
    let code = format!(
        "{}\n{ORACLE}",
        include_str!("../../../spyglass-position/tests/py/spyglass_src.py")
    );
    let out = spyglass_testkit::run_spyglass_python(&code, &[input.to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();

    // the params blob is datajoint's packing of Spyglass's default_params
    let params = env.rows_all_params();
    assert_eq!(hex(&spyglass_blob::pack(&params)), report["params_blob"]);

    for (k, (case, p)) in report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&ours)
        .enumerate()
    {
        let n = case["n"].as_u64().unwrap() as usize;
        assert!(n > 1000, "epoch {k}: {n} samples");
        let oracle = read_f64(&dir.path().join(k.to_string()).join("oracle"));
        let pynwb = read_f64(&dir.path().join(k.to_string()).join("pynwb"));
        assert_eq!(oracle.len(), 7 * n);
        let worst = close(&format!("epoch {k}, ours"), &flat(p), &oracle);
        let worst_file = close(&format!("epoch {k}, pynwb"), &pynwb, &oracle);
        eprintln!("epoch {k}: {n} samples; max rel error vs Spyglass {worst:e} (our reader), {worst_file:e} (pynwb + Spyglass's _data_to_df)");
        assert_eq!(p.video_frame_ind, Some((0..n as i64).collect()));
        assert_eq!(case["frames_are_arange"], true);
        assert_eq!(
            case["containers"],
            serde_json::json!(["Position", "CompassDirection", "BehavioralTimeSeries"])
        );
        assert_eq!(case["in_scratch"], true);
        let (comments, frame) = (&case["raw"][0], &case["raw"][1]);
        assert_eq!(
            case["position"],
            serde_json::json!([
                "position",
                "meters",
                0.01,
                "x_position, y_position",
                comments,
                frame
            ])
        );
        assert_eq!(
            case["orientation"],
            serde_json::json!(["orientation", "meters", 1.0, "orientation", comments, frame])
        );
        assert_eq!(
            case["velocity"],
            serde_json::json!([
                "velocity",
                "m/s",
                0.01,
                "x_velocity, y_velocity, speed",
                comments
            ])
        );
    }
    // the single LED: front and back are the one LED, so the orientation is 0
    assert!(ours[1].orientation.iter().all(|&o| o == 0.0));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

trait ParamsBlob {
    fn rows_all_params(&self) -> spyglass_blob::Value;
}

impl ParamsBlob for Env {
    /// The stored `params` blob of TrodesPosParams `default`.
    fn rows_all_params(&self) -> spyglass_blob::Value {
        let rows = self.all(trodes_v1::PARAMS);
        assert_eq!(rows.len(), 1, "Spyglass inserts one default set");
        assert_eq!(s(&rows[0], "trodes_pos_params_name"), "default");
        match rows[0].get("params") {
            Some(Value::Blob(b)) => (**b).clone(),
            other => panic!("params is {other:?}"),
        }
    }
}

#[test]
fn bad_params_and_selections_are_refused() {
    let env = Env::new();
    let src = env.staging().join("ledbad20230622.nwb");
    pynwb_file(&src, "leds");
    let nwb = env.insert(&[src])[0].nwb_file_name.clone();
    let e = trodes_v1::select(&env.db, &nwb, Some("no such interval"), "default").unwrap_err();
    assert!(e.to_string().contains("RawPosition"), "{e}");
    let e = trodes_v1::select(&env.db, &nwb, None, "missing").unwrap_err();
    assert!(e.to_string().contains("TrodesPosParams"), "{e}");
    let mut p = trodes_v1::default_params().unwrap();
    p["is_upsampled"] = 1.into();
    let e = trodes_v1::add_params(&env.db, "up", &p).unwrap_err();
    assert!(e.to_string().contains("upsampling_sampling_rate"), "{e}");
    p["upsampling_sampling_rate"] = 50.0.into();
    trodes_v1::add_params(&env.db, "up", &p).unwrap();
    p["upsampling_sampling_rate"] = 60.0.into();
    let e = trodes_v1::add_params(&env.db, "up", &p).unwrap_err();
    assert!(e.to_string().contains("exists"), "{e}");
    // a moving-average window under one sample: a clean error, no row, no file
    let mut tight = trodes_v1::default_params().unwrap();
    tight["position_smoothing_duration"] = 0.01.into();
    trodes_v1::add_params(&env.db, "tight", &tight).unwrap();
    trodes_v1::select(&env.db, &nwb, Some("pos 0 valid times"), "tight").unwrap();
    let e = env
        .db
        .populate(trodes_v1::TRODES_POS_V1, Cond::Bool(true))
        .unwrap_err();
    assert!(e.to_string().contains("position_smoothing_duration"), "{e}");
    assert_eq!(env.count(trodes_v1::TRODES_POS_V1), 0);
    assert_eq!(
        env.count(spyglass::common::common_nwbfile::ANALYSIS_NWBFILE),
        0
    );
    let left = std::fs::read_dir(&env.settings.analysis_dir)
        .map(|d| {
            d.flatten()
                .flat_map(|e| std::fs::read_dir(e.path()).into_iter().flatten())
                .count()
        })
        .unwrap_or(0);
    assert_eq!(left, 0, "no analysis file is left behind");
}
