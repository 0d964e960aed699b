//! The linearization pipeline (position_linearization_v1 → _merge) on a TrodesPosV1
//! output: a session with tracked LEDs is ingested, TrodesPosV1 populated, and its
//! PositionOutput entry linearized onto a loop-shaped track graph. The stored
//! DynamicTable, read by pynwb, is compared with `track_linearization`'s
//! `get_linearized_position` called as Spyglass's `LinearizedPositionV1.make`
//! calls it: on the position SpatialSeries read by pynwb from the TrodesPosV1
//! analysis file, with the TrackGraph and parameter rows as datajoint unpacks
//! their blobs (our stored blobs, unpacked by `datajoint.blob.unpack`).

use crate::common::*;
use spyglass::kit::Tables;
use spyglass::linearization::{merge as lin_merge, v1};
use spyglass::position::{merge, trodes_v1};
use spyglass_db::{Cond, Value};

/// Largest allowed |ours − track_linearization| for the float columns.
const TOL: f64 = 1e-9;

const ORACLE: &str = r#"
import json, sys
import numpy as np
import pynwb
from datajoint.blob import unpack
from track_linearization import get_linearized_position, make_track_graph
a = json.load(open(sys.argv[1]))
graph = {k: (unpack(bytes.fromhex(v)) if v is not None else None) for k, v in a["graph"].items()}
params = a["params"]
with pynwb.NWBHDF5IO(a["position_file"], "r", load_namespaces=True) as io:
    s = io.read().objects[a["position_id"]].get_spatial_series()
    position, time = np.asarray(s.data), np.asarray(s.timestamps)
want = get_linearized_position(
    position=position,
    track_graph=make_track_graph(node_positions=graph["node_positions"], edges=graph["edges"]),
    edge_spacing=graph["linear_edge_spacing"],
    edge_order=graph["linear_edge_order"],
    use_HMM=params["use_hmm"],
    route_euclidean_distance_scaling=params["route_euclidean_distance_scaling"],
    sensor_std_dev=params["sensor_std_dev"],
    diagonal_bias=params["diagonal_bias"],
    edge_map=graph["edge_map"],
)
want["time"] = time
with pynwb.NWBHDF5IO(a["linear_file"], "r", load_namespaces=True) as io:
    t = io.read().objects[a["linear_id"]]
    got = t.to_dataframe()
    out = dict(name=t.name, in_scratch=t.name in t.parent.scratch, n=len(want),
               columns=list(got.columns), index=list(got.index) == list(range(len(want))),
               segment_equal=bool((got["track_segment_id"].to_numpy() == want["track_segment_id"].to_numpy()).all()),
               segment_dtype=str(got["track_segment_id"].dtype), segments=sorted(set(got["track_segment_id"].tolist())))
    worst = {}
    for c in ["linear_position", "projected_x_position", "projected_y_position", "time"]:
        g, w = got[c].to_numpy(dtype=float), want[c].to_numpy(dtype=float)
        same_nan = bool((np.isnan(g) == np.isnan(w)).all())
        worst[c] = float(np.nanmax(np.abs(g - w))) if same_nan else None
    out["worst"] = worst
print(json.dumps(out))
"#;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn linearized_position_v1_equals_track_linearization_on_a_trodes_output() {
    let env = Env::new();
    let src = env.staging().join("lin20230622.nwb");
    pynwb_file(&src, "leds");
    let nwb = env.insert(&[src])[0].nwb_file_name.clone();
    trodes_v1::select(&env.db, &nwb, Some("pos 0 valid times"), "default").unwrap();
    let rep = env
        .db
        .populate(trodes_v1::TRODES_POS_V1, Cond::Bool(true))
        .unwrap();
    assert_eq!(rep.success_count, 1, "{:?}", rep.error_list);
    let (pos_merge_id, _) = merge::position_merge_ids(&env.db, &nwb, None).unwrap()[0].clone();

    let graph = v1::TrackGraphRow {
        track_graph_name: "loop".into(),
        environment: "box".into(),
        node_positions: vec![[20.0, 20.0], [100.0, 20.0], [100.0, 80.0], [20.0, 80.0]],
        edges: vec![[0, 1], [1, 2], [2, 3], [3, 0]],
        linear_edge_order: vec![[0, 1], [1, 2], [2, 3], [3, 0]],
        linear_edge_spacing: serde_json::json!(15.0),
        edge_map: None,
    };
    v1::insert_track_graph(&env.db, &graph).unwrap();
    let params = v1::ParamsRow::defaults("default");
    v1::insert_params(&env.db, &params).unwrap();
    let key = v1::LinearizationKey {
        pos_merge_id,
        track_graph_name: "loop".into(),
        linearization_param_name: "default".into(),
    };
    v1::insert_selection(&env.db, &key).unwrap();
    let rep = env
        .db
        .populate(v1::LINEARIZED_POSITION_V1, Cond::Bool(true))
        .unwrap();
    assert_eq!(rep.success_count, 1, "{:?}", rep.error_list);
    assert_eq!(env.count(lin_merge::LINEARIZED_POSITION_OUTPUT), 1);

    let row: v1::LinearizedPositionV1Row = env.db.row(v1::LINEARIZED_POSITION_V1, &key).unwrap();
    let (_, pos_row) = merge::position_source(&env.db, &pos_merge_id).unwrap();
    let text = |r: &spyglass_db::Row, k: &str| s(r, k);
    let stored = &env.all(v1::TRACK_GRAPH)[0];
    let blob = |k: &str| match stored.get(k) {
        Some(Value::Blob(b)) => Some(hex(&spyglass_blob::pack(b))),
        Some(Value::Null) | None => None,
        other => panic!("{k} is {other:?}"),
    };
    let names = [
        "node_positions",
        "edges",
        "linear_edge_order",
        "linear_edge_spacing",
        "edge_map",
    ];
    let graph_blobs: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .map(|k| (k.to_string(), serde_json::json!(blob(k))))
        .collect();
    let args = serde_json::json!({
        "graph": graph_blobs,
        "params": params,
        "position_file": spyglass::analysis::analysis_file_path(&env.db, &text(&pos_row, "analysis_file_name")).unwrap(),
        "position_id": text(&pos_row, "position_object_id"),
        "linear_file": spyglass::analysis::analysis_file_path(&env.db, &row.analysis_file_name).unwrap(),
        "linear_id": row.linearized_position_object_id,
    });
    let dir = spyglass_testkit::scratch_dir();
    let input = dir.path().join("args.json");
    std::fs::write(&input, args.to_string()).unwrap();
    let out = spyglass_testkit::run_spyglass_python(ORACLE, &[input.to_str().unwrap()]);
    let r: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    eprintln!("linearization vs track_linearization: {r}");
    assert_eq!(r["name"], "pandas_table");
    assert_eq!(r["in_scratch"], true);
    assert_eq!(r["index"], true);
    assert_eq!(
        r["columns"],
        serde_json::json!([
            "linear_position",
            "track_segment_id",
            "projected_x_position",
            "projected_y_position",
            "time"
        ])
    );
    assert_eq!(r["segment_equal"], true);
    assert_eq!(r["segment_dtype"], "int64");
    assert!(
        r["segments"].as_array().unwrap().len() >= 3,
        "the path visits several segments"
    );
    assert!(r["n"].as_u64().unwrap() > 1000);
    for (c, w) in r["worst"].as_object().unwrap() {
        let w = w
            .as_f64()
            .unwrap_or_else(|| panic!("{c}: NaN positions differ"));
        assert!(w <= TOL, "{c}: max |ours − track_linearization| = {w}");
    }
}

#[test]
fn bad_track_graphs_are_refused() {
    let env = Env::new();
    let graph = v1::TrackGraphRow {
        track_graph_name: "broken".into(),
        environment: "box".into(),
        node_positions: vec![[0.0, 0.0], [1.0, 0.0]],
        edges: vec![[0, 2]],
        linear_edge_order: vec![[0, 2]],
        linear_edge_spacing: serde_json::json!(0.0),
        edge_map: None,
    };
    let e = v1::insert_track_graph(&env.db, &graph).unwrap_err();
    assert!(e.to_string().contains("broken"), "{e}");
    assert_eq!(env.count(v1::TRACK_GRAPH), 0);
    let mut p = v1::ParamsRow::defaults("hmm");
    p.use_hmm = 1;
    p.sensor_std_dev = -1.0;
    let e = v1::insert_params(&env.db, &p).unwrap_err();
    assert!(e.to_string().contains("sensor_std_dev"), "{e}");
}
