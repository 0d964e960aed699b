//! ndx-pose files written by pynwb + ndx-pose 0.3 (the oracle, `tests/py/make_pose.py`)
//! are read with the values pynwb reads back: each series' data in its unit
//! (`data × conversion + offset`), confidence, timestamps (stored, linked, or from
//! starting_time and rate), object ids, and the linked skeletons.

use crate::common;

use spyglass_nwb::NwbFile;

const MAKE: &str = include_str!("../py/make_pose.py");

/// |ours − pynwb| ≤ 1e-15 · max(1, |pynwb|) (the values pass through JSON text).
fn assert_values(label: &str, ours: &[f64], want: &serde_json::Value) {
    let want: Vec<f64> = want
        .as_array()
        .expect("array")
        .iter()
        .flat_map(|v| match v.as_array() {
            Some(row) => row.iter().map(|x| x.as_f64().expect("number")).collect(),
            None => vec![v.as_f64().expect("number")],
        })
        .collect();
    assert_eq!(ours.len(), want.len(), "{label}: length");
    for (i, (a, b)) in ours.iter().zip(&want).enumerate() {
        assert!(
            (a - b).abs() <= 1e-15 * b.abs().max(1.0),
            "{label}[{i}]: ours {a}, pynwb {b}"
        );
    }
}

#[test]
fn pose_estimations_read_as_pynwb_reads_them() {
    common::init();
    let dir = spyglass_testkit::scratch_dir();
    let path = dir.path().join("pose.nwb");
    let out = spyglass_testkit::run_python(MAKE, &[path.to_str().unwrap()]);
    let want = common::json(&out);
    let f = NwbFile::open(&path).expect("open");
    let all = f.pose_estimations().expect("pose estimations");
    let mut names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["PoseEstimation", "head_pose"]);
    for pe in &all {
        let w = &want[&pe.name];
        assert_eq!(pe.object_id, w["object_id"].as_str().unwrap());
        assert_eq!(pe.description.as_deref(), w["description"].as_str());
        assert_eq!(pe.scorer.as_deref(), w["scorer"].as_str());
        assert_eq!(pe.source_software.as_deref(), w["source_software"].as_str());
        assert_eq!(
            pe.source_software_version.as_deref(),
            w["source_software_version"].as_str()
        );
        let videos: Vec<String> = w["original_videos"]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        assert_eq!(pe.original_videos, videos);
        let dims: Vec<u64> = w["dimensions"]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_u64().unwrap()).collect())
            .unwrap_or_default();
        assert_eq!(pe.dimensions, dims);
        let sk = pe.skeleton.as_ref().expect("skeleton");
        let wsk = &w["skeleton"];
        assert_eq!(sk.name, wsk["name"].as_str().unwrap());
        assert_eq!(sk.object_id, wsk["object_id"].as_str().unwrap());
        let nodes: Vec<&str> = wsk["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(sk.nodes, nodes);
        let edges: Vec<[u64; 2]> = wsk["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| [e[0].as_u64().unwrap(), e[1].as_u64().unwrap()])
            .collect();
        assert_eq!(sk.edges, edges);
        let ws = w["series"].as_object().unwrap();
        assert_eq!(pe.series.len(), ws.len(), "{}: series count", pe.name);
        for s in &pe.series {
            let label = format!("{}/{}", pe.name, s.name);
            let ws = &ws[&s.name];
            assert_eq!(s.object_id, ws["object_id"].as_str().unwrap(), "{label}");
            assert_eq!(s.unit, ws["unit"].as_str().unwrap(), "{label}");
            assert_eq!(
                s.reference_frame.as_deref(),
                ws["reference_frame"].as_str(),
                "{label}"
            );
            let width = ws["data"][0].as_array().unwrap().len();
            assert_eq!(s.dims, width, "{label}: dims");
            assert_values(&format!("{label} data"), &s.data, &ws["data"]);
            assert_values(
                &format!("{label} timestamps"),
                &s.timestamps,
                &ws["timestamps"],
            );
            assert_values(
                &format!("{label} confidence"),
                s.confidence.as_deref().expect("confidence"),
                &ws["confidence"],
            );
            assert_eq!(
                s.confidence_definition.as_deref(),
                ws["confidence_definition"].as_str(),
                "{label}"
            );
            assert_eq!(s.rate, ws["rate"].as_f64(), "{label}: rate");
            assert_eq!(s.axis(1).len(), s.len());
        }
    }
    // A path that is not a PoseEstimation is refused with the path named.
    let err = f
        .pose_estimation("/processing/behavior/Skeletons")
        .unwrap_err()
        .to_string();
    assert!(err.contains("/processing/behavior/Skeletons"), "{err}");
}
