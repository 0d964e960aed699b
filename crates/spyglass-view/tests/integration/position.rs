//! The position view on a demo session whose position was processed from the command
//! line (TrodesPosV1 on both epochs, one epoch linearized onto an octagon round the
//! circular track): the plotted head position, speed and linear position equal the
//! analysis files' datasets read by h5py, every finite head sample is on the path,
//! head-direction arrows are drawn, and an export of the view opens without a server.

use crate::browser::{f64s, find_file, loaded, snap};
use crate::common::{self, Browser};
use serde_json::{json, Value as J};
use std::path::Path;

/// h5py's reading of an analysis file: the `position` SpatialSeries of the Position
/// container with object id `argv[2]`, the speed column of the velocity series of
/// BehavioralTimeSeries `argv[3]`, and the columns of the linearized table `argv[4]`
/// (`-` for none), each as stored.
const H5PY_POSITION: &str = r#"
import sys, json, h5py, numpy as np
def by_id(f, oid):
    found = []
    def visit(name, o):
        v = o.attrs.get('object_id')
        if isinstance(v, bytes): v = v.decode()
        if v == oid: found.append(o)
    f.visititems(visit)
    assert found, oid
    return found[0]
num = lambda a: [None if not np.isfinite(x) else float(x) for x in a]
out = {}
with h5py.File(sys.argv[1], 'r') as f:
    pos = by_id(f, sys.argv[2])['position']
    d = pos['data'][:]
    out['time'] = num(pos['timestamps'][:]); out['x'] = num(d[:, 0]); out['y'] = num(d[:, 1])
    vel = by_id(f, sys.argv[3])['velocity']['data'][:]
    out['speed'] = num(vel[:, 2])
if sys.argv[4] != '-':
    with h5py.File(sys.argv[4], 'r') as f:
        t = by_id(f, sys.argv[5])
        out['linear_position'] = num(t['linear_position'][:])
        out['track_segment_id'] = [int(v) for v in t['track_segment_id'][:]]
print(json.dumps(out))
"#;

/// A fresh demo with both epochs' position processed and epoch 0 linearized.
fn processed_demo(tmp: &Path) -> std::path::PathBuf {
    let dir = tmp.join("demo");
    let out = std::process::Command::new(common::spyglass_bin())
        .args(["demo", "--dir"])
        .arg(&dir)
        .env("SPYGLASS_BASE_DIR", dir.join("base"))
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .output()
        .expect("run spyglass demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = |args: &[&str]| common::spyglass(tmp, args);
    let printed = run(&["position", "select", "demo20230622.nwb"]);
    assert_eq!(
        printed.matches("TrodesPosSelection:").count(),
        2,
        "{printed}"
    );
    let printed = run(&["populate", "position_v1_trodes_position.TrodesPosV1"]);
    assert!(printed.contains("made 2 keys, 0 errors"), "{printed}");
    // an octagon on the demo's circular track (centre (50, 50) cm, radius 30 cm)
    let nodes: Vec<[f64; 2]> = (0..8)
        .map(|k| {
            let a = k as f64 * std::f64::consts::TAU / 8.0;
            [50.0 + 30.0 * a.cos(), 50.0 + 30.0 * a.sin()]
        })
        .collect();
    let edges: Vec<[usize; 2]> = (0..8).map(|k| [k, (k + 1) % 8]).collect();
    let graph = tmp.join("octagon.json");
    std::fs::write(
        &graph,
        json!({ "node_positions": nodes, "edges": edges, "linear_edge_spacing": 0 }).to_string(),
    )
    .expect("write graph");
    run(&[
        "linearization",
        "track-graph",
        "add",
        "octagon",
        "--environment",
        "circle",
        "--file",
        graph.to_str().expect("utf-8 path"),
    ]);
    run(&[
        "linearization",
        "select",
        "demo20230622_.nwb",
        "--interval",
        "pos 0 valid times",
        "--track-graph",
        "octagon",
    ]);
    let printed = run(&["populate", "position_linearization_v1.LinearizedPositionV1"]);
    assert!(printed.contains("made 1 keys, 0 errors"), "{printed}");
    dir
}

/// `(analysis file, position id, velocity id)` of TrodesPosV1 entry `merge_id`, and
/// `(file, object id)` of its linearization if any.
fn stored(tmp: &Path, merge_id: &str) -> (J, Option<(String, String)>) {
    let show = |table: &str| -> J {
        serde_json::from_str(&common::spyglass(tmp, &["show", table, "--format", "json"]))
            .expect("show JSON")
    };
    let part = show("position_merge.PositionOutput.TrodesPosV1");
    let key = part
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["merge_id"] == json!(merge_id))
        .cloned()
        .expect("the entry's part row");
    let row = show("position_v1_trodes_position.TrodesPosV1")
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| {
            r["nwb_file_name"] == key["nwb_file_name"]
                && r["interval_list_name"] == key["interval_list_name"]
                && r["trodes_pos_params_name"] == key["trodes_pos_params_name"]
        })
        .cloned()
        .expect("the TrodesPosV1 row");
    let lin = show("position_linearization_v1.LinearizedPositionV1")
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["pos_merge_id"] == json!(merge_id))
        .map(|r| {
            (
                r["analysis_file_name"].as_str().expect("file").to_string(),
                r["linearized_position_object_id"]
                    .as_str()
                    .expect("id")
                    .to_string(),
            )
        });
    (row, lin)
}

fn nums(v: &J) -> Vec<Option<f64>> {
    v.as_array().expect("array").iter().map(J::as_f64).collect()
}

#[test]
fn position_view_plots_the_stored_position_and_linearization() {
    spyglass_testkit::disable_hdf5_file_locking();
    let tmp = spyglass_testkit::scratch_dir();
    let dir = processed_demo(tmp.path());
    let nwb = "demo20230622_.nwb";
    let server = common::start_server(tmp.path(), &[]);
    let (status, _, body) = common::http(
        &server.addr,
        "GET",
        &format!("/api/positions?nwb={nwb}"),
        &[("Authorization", &format!("token {}", server.token))],
        None,
    );
    assert_eq!(status, 200);
    let entries: J = serde_json::from_slice(&body).expect("JSON");
    let entries = entries.as_array().expect("entries");
    assert_eq!(entries.len(), 2, "{entries:?}");
    let linearized: Vec<&J> = entries
        .iter()
        .filter(|e| !e["linearizations"].as_array().expect("list").is_empty())
        .collect();
    assert_eq!(linearized.len(), 1, "{entries:?}");
    assert_eq!(
        linearized[0]["interval_list_name"],
        json!("pos 0 valid times")
    );
    let merge_id = linearized[0]["merge_id"].as_str().expect("id").to_string();

    let b = Browser::start();
    b.goto(&format!(
        "{}/?token={}#/position/{nwb}?merge={merge_id}",
        server.base, server.token
    ));
    loaded(&b, "position");
    snap(&b, "position");
    let d = b.eval("return window.__position", json!([]));
    assert_eq!(d["step"], json!(1), "the demo's position is sent whole");

    // the oracle: h5py on the analysis files
    let (row, lin) = stored(tmp.path(), &merge_id);
    let file = find_file(
        &dir.join("base/analysis"),
        row["analysis_file_name"].as_str().expect("file"),
    );
    let (lin_file, lin_id) = lin.expect("a linearization");
    let lin_path = find_file(&dir.join("base/analysis"), &lin_file);
    let truth: J = serde_json::from_str(&spyglass_testkit::run_python(
        H5PY_POSITION,
        &[
            file.to_str().expect("utf-8"),
            row["position_object_id"].as_str().expect("id"),
            row["velocity_object_id"].as_str().expect("id"),
            lin_path.to_str().expect("utf-8"),
            &lin_id,
        ],
    ))
    .expect("oracle JSON");
    for k in ["time", "x", "y", "speed"] {
        assert_eq!(nums(&d[k]), nums(&truth[k]), "{k}");
    }
    let l = &d["linearized"];
    assert_eq!(l["key"]["track_graph_name"], json!("octagon"));
    assert_eq!(
        nums(&l["linear_position"]),
        nums(&truth["linear_position"]),
        "linear position"
    );
    assert_eq!(l["track_segment_id"], truth["track_segment_id"]);
    assert_eq!(f64s(&l["time"]), f64s(&truth["time"]), "linearized times");

    // what was drawn: every finite head sample on the path, the graph's 8 edges,
    // arrows of head direction, the speed and linear position panels
    let finite = nums(&truth["x"])
        .iter()
        .zip(nums(&truth["y"]))
        .filter(|(x, y)| x.is_some() && y.is_some())
        .count();
    let drawn = b.eval("return window.__positionDrawn", json!([]));
    assert_eq!(drawn["head_points"], json!(finite));
    let arrows = drawn["arrows"].as_u64().expect("arrows");
    assert!((40..=121).contains(&arrows), "{arrows} arrows");
    let counts = b.eval(
        "return [document.querySelectorAll('#position-track line.edge').length, \
         !!document.getElementById('position-speed'), \
         document.querySelectorAll('#position-linear circle').length]",
        json!([]),
    );
    let n_lin = nums(&truth["linear_position"])
        .iter()
        .filter(|v| v.is_some())
        .count();
    assert_eq!(counts, json!([8, true, n_lin]));

    // the other entry has no linearization; the session view links here
    let other = entries
        .iter()
        .find(|e| e["merge_id"] != json!(merge_id))
        .expect("the other entry");
    b.goto(&format!(
        "{}/#/position/{nwb}?merge={}",
        server.base,
        other["merge_id"].as_str().expect("id")
    ));
    loaded(&b, "position (not linearized)");
    let text = b.eval("return document.body.innerText", json!([]));
    assert!(
        text.as_str().unwrap_or("").contains("not linearized"),
        "{text}"
    );
    b.goto(&format!("{}/#/session/{nwb}", server.base));
    loaded(&b, "session");
    b.click("#position-link");
    b.wait_for(
        "return document.body.dataset.view === 'position' && document.body.dataset.ready === '1'",
        60,
    );

    // an export of the linearized view opens from the file system
    let out = tmp.path().join("export-position");
    let view = format!("position/{nwb}?merge={merge_id}");
    let printed = common::spyglass(
        tmp.path(),
        &["view", "--export", out.to_str().expect("utf-8"), &view],
    );
    assert!(printed.contains("wrote 1 views"), "{printed}");
    b.goto(&format!(
        "file://{}#/{view}",
        out.join("index.html").display()
    ));
    loaded(&b, "exported position");
    let exported = b.eval("return window.__position", json!([]));
    assert_eq!(nums(&exported["x"]), nums(&truth["x"]), "exported x");
}
