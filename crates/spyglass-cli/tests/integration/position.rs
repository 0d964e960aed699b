//! `spyglass position …` end to end: parameter sets added and listed, a session's
//! raw position epochs selected, TrodesPosV1 populated through the registry, the
//! entries in PositionOutput; then a track graph added from JSON, one position
//! linearized onto it (`spyglass linearization …`). The values themselves are checked against Spyglass
//! in the spyglass crate's `position_pipeline` test.

use crate::common::{ok, run, spyglass_file, svg_panels};

#[test]
fn position_pipeline_set_up_and_populated_from_the_command_line() {
    let tmp = spyglass_testkit::scratch_dir();
    let dir = tmp.path();
    let file = spyglass_file(dir, "pos20230622.nwb", "leds");
    ok(dir, &["insert", file.to_str().unwrap()]);

    let out = ok(dir, &["position", "params", "list"]);
    assert!(out.contains("no TrodesPosParams"), "{out}");
    let out = ok(
        dir,
        &["position", "params", "add", "up50", "--upsample", "50"],
    );
    assert!(
        out.contains("\"is_upsampled\":1") && out.contains("\"upsampling_sampling_rate\":50.0"),
        "{out}"
    );
    let bad = run(
        dir,
        &[
            "position",
            "params",
            "add",
            "cubic",
            "--upsample",
            "50",
            "--upsampling-interpolation-method",
            "cubic",
        ],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("cubic"));

    // the raw file name works; every epoch, then one epoch with the upsampling set
    let out = ok(dir, &["position", "select", "pos20230622.nwb"]);
    assert_eq!(out.matches("TrodesPosSelection:").count(), 2, "{out}");
    ok(
        dir,
        &[
            "position",
            "select",
            "pos20230622_.nwb",
            "--interval",
            "pos 1 valid times",
            "--params",
            "up50",
        ],
    );
    let out = ok(dir, &["position", "params", "list"]);
    assert!(out.contains("default: ") && out.contains("up50: "), "{out}");

    let out = ok(
        dir,
        &["populate", "position_v1_trodes_position.TrodesPosV1"],
    );
    assert!(out.contains("made 3 keys, 0 errors"), "{out}");
    let out = ok(
        dir,
        &["show", "position_merge.PositionOutput", "--format", "csv"],
    );
    assert_eq!(out.lines().count(), 4, "a header and three entries:\n{out}");
    assert_eq!(out.matches("TrodesPosV1").count(), 3, "{out}");

    // pictures: one SVG per entry, read by Python's XML parser; the track's
    // polylines hold every finite position sample, speed every finite speed
    let out = ok(
        dir,
        &["position", "plot", "pos20230622.nwb", "-o", "pictures"],
    );
    let files: Vec<&str> = out.lines().collect();
    assert_eq!(files.len(), 3, "{out}");
    let url = format!("sqlite:///{}", dir.join("cli.db").display());
    let db = spyglass::Spyglass::open(&url, spyglass::Settings::new(dir.join("base"))).unwrap();
    for f in files {
        let merge_id: uuid::Uuid = f
            .rsplit_once("position_")
            .unwrap()
            .1
            .trim_end_matches(".svg")
            .parse()
            .unwrap();
        let data = spyglass::position::merge::fetch_position(&db, &merge_id).unwrap();
        let finite = data
            .position
            .iter()
            .filter(|p| p[0].is_finite() && p[1].is_finite())
            .count();
        let parsed = spyglass_testkit::run_python(
            "import sys, xml.etree.ElementTree as ET\nns = '{http://www.w3.org/2000/svg}'\nroot = ET.parse(sys.argv[1]).getroot()\npanels = [g for g in root.iter(ns + 'g') if g.get('class') == 'panel']\ncount = lambda g: sum(len(p.get('points').split()) for p in g.iter(ns + 'polyline'))\narrows = sum(1 for l in panels[0].iter(ns + 'line') if l.get('class') == 'arrow')\nprint(len(panels), count(panels[0]), count(panels[1]), arrows)",
            &[dir.join(f).to_str().unwrap()],
        );
        let n: Vec<usize> = parsed
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        let speeds = data.speed.iter().filter(|v| v.is_finite()).count();
        assert_eq!(n[..3], [2, finite, speeds], "{f}: {parsed}");
        assert!((40..=61).contains(&n[3]), "{f}: {} arrows", n[3]);
    }

    // linearization of one of them onto a loop
    let graph = dir.join("loop.json");
    let text = r#"{"node_positions": [[20, 20], [100, 20], [100, 80], [20, 80]], "edges": [[0, 1], [1, 2], [2, 3], [3, 0]], "linear_edge_spacing": 15}"#;
    std::fs::write(&graph, text).unwrap();
    let out = ok(
        dir,
        &[
            "linearization",
            "track-graph",
            "add",
            "loop",
            "--environment",
            "box",
            "--file",
            graph.to_str().unwrap(),
        ],
    );
    assert!(out.contains("4 nodes, 4 edges"), "{out}");
    let bad = run(
        dir,
        &[
            "linearization",
            "params",
            "add",
            "hmm",
            "--use-hmm",
            "--sensor-std-dev=-1",
        ],
    );
    let e = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success() && e.contains("sensor_std_dev"), "{e}");
    let out = ok(
        dir,
        &[
            "linearization",
            "select",
            "pos20230622_.nwb",
            "--interval",
            "pos 0 valid times",
            "--track-graph",
            "loop",
        ],
    );
    assert!(out.contains("LinearizationSelection"), "{out}");
    let out = ok(
        dir,
        &["populate", "position_linearization_v1.LinearizedPositionV1"],
    );
    assert!(out.contains("made 1 keys, 0 errors"), "{out}");
    let out = ok(
        dir,
        &[
            "show",
            "position_linearization_merge.LinearizedPositionOutput",
            "--format",
            "csv",
        ],
    );
    assert_eq!(out.lines().count(), 2, "{out}");

    // its picture: the graph's 4 edges, the head position and its projection as
    // lines (every finite sample once), arrows to the projection, and the linear
    // position over time in one colour per segment
    let out = ok(
        dir,
        &["linearization", "plot", "pos20230622.nwb", "-o", "pictures"],
    );
    let files: Vec<&str> = out.lines().collect();
    assert_eq!(files.len(), 1, "{out}");
    let key: spyglass::linearization::v1::LinearizationKey = db
        .fetch_as(
            &db.table("position_linearization_v1.LinearizedPositionV1")
                .unwrap(),
        )
        .unwrap()
        .remove(0);
    let lin = spyglass::linearization::v1::fetch_linearized(&db, &key).unwrap();
    let head = spyglass::position::merge::fetch_position(&db, &key.pos_merge_id).unwrap();
    let finite = |p: &[f64; 2]| p[0].is_finite() && p[1].is_finite();
    let path = dir.join(files[0]);
    assert_eq!(
        path,
        spyglass::linearization::plot::picture_path(&dir.join("pictures"), &key)
    );
    let panels = svg_panels(&path);
    assert_eq!(panels.len(), 2, "{panels:?}");
    let n_head = head.position.iter().filter(|p| finite(p)).count();
    let n_projected = lin.projected.iter().filter(|p| finite(p)).count();
    assert_eq!(
        panels[0].points,
        2 * 4 + n_head + n_projected,
        "{:?}",
        panels[0]
    );
    let step = (lin.time.len() / spyglass::linearization::plot::ARROWS).max(1);
    let arrows = (0..lin.time.len())
        .step_by(step)
        .filter(|&k| finite(&head.position[k]) && finite(&lin.projected[k]))
        .count();
    assert_eq!(panels[0].arrows, arrows, "{:?}", panels[0]);
    let on_track: Vec<usize> = (0..lin.time.len())
        .filter(|&k| lin.linear_position[k].is_finite())
        .collect();
    let mut segments: Vec<i64> = on_track.iter().map(|&k| lin.track_segment_id[k]).collect();
    segments.sort_unstable();
    segments.dedup();
    assert_eq!(panels[1].points, on_track.len(), "{:?}", panels[1]);
    let colors: Vec<&str> = segments
        .iter()
        .map(|&s| spyglass::linearization::plot::segment_color(s))
        .collect();
    assert!(
        segments.len() >= 2,
        "the animal visits several segments: {segments:?}"
    );
    let mut colors: Vec<String> = colors.into_iter().map(str::to_string).collect();
    colors.sort();
    colors.dedup();
    assert_eq!(panels[1].colors, colors, "{:?}", panels[1]);
}
