//! `spyglass ripple …` end to end from the command line: LFP, its ripple band and
//! TrodesPosV1 set up with their commands, a parameter set added, the band
//! selected, RippleTimesV1 populated through the registry. The events themselves
//! are checked against Spyglass and ripple_detection in the spyglass crate's
//! `ripple_pipeline` test; here, that Spyglass's `default` set (speed column
//! `head_speed`) is refused on TrodesPosV1 and the others make one entry per
//! position epoch. Then `ripple plot` draws the entries: each SVG, read by
//! Python's XML parser, has one trace per selected electrode and as many shaded
//! spans as there are events in each panel's window.

use crate::common::{ok, run, spyglass_file, svg_panels};

#[test]
fn ripple_pipeline_set_up_and_populated_from_the_command_line() {
    let tmp = spyglass_testkit::scratch_dir();
    let dir = tmp.path();
    let file = spyglass_file(dir, "rip20230622.nwb", "leds_long");
    let nwb = "rip20230622_.nwb";
    ok(dir, &["insert", file.to_str().unwrap()]);
    ok(dir, &["defaults"]);
    ok(dir, &["filter", "add-bands"]);
    ok(dir, &["lfp", "group", "add", nwb, "ca1", "--all"]);
    let raw = "raw data valid times";
    ok(
        dir,
        &[
            "lfp",
            "select",
            nwb,
            "ca1",
            "--interval",
            raw,
            "--filter",
            "LFP 0-400 Hz",
        ],
    );
    ok(dir, &["populate", "lfp_v1.LFPV1"]);
    let band = ["lfp", "band", "select", nwb, "--lfp-group", "ca1"];
    ok(
        dir,
        &[
            &band[..],
            &[
                "--filter",
                "Ripple 150-250 Hz",
                "--interval",
                raw,
                "--rate",
                "1000",
            ],
        ]
        .concat(),
    );
    ok(dir, &["populate", "lfp_band_v1.LFPBandV1"]);
    ok(dir, &["position", "select", nwb]);
    ok(
        dir,
        &["populate", "position_v1_trodes_position.TrodesPosV1"],
    );

    let out = ok(dir, &["ripple", "params", "list"]);
    assert!(
        out.contains("default: ") && out.contains("default_trodes: "),
        "{out}"
    );
    let add = [
        "ripple",
        "params",
        "add",
        "karlsson",
        "--detector",
        "Karlsson_ripple_detector",
    ];
    let out = ok(dir, &[&add[..], &["--zscore-threshold", "3"]].concat());
    assert!(out.contains("Karlsson_ripple_detector"), "{out}");
    // a name is never reused, and a detector must exist
    let again = run(dir, &add);
    assert!(!again.status.success(), "a reused name is refused");
    let bad = run(
        dir,
        &[
            "ripple",
            "params",
            "add",
            "x",
            "--detector",
            "Nobody_ripple_detector",
        ],
    );
    let e = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && e.contains("Nobody_ripple_detector"),
        "{e}"
    );

    let out = ok(dir, &["ripple", "select", nwb, "--lfp-group", "ca1"]);
    assert!(
        out.contains("RippleLFPSelection") && out.contains("Ripple 150-250 Hz"),
        "{out}"
    );
    // Spyglass's `default` reads a `head_speed` column TrodesPosV1 does not have
    let refused = run(
        dir,
        &[
            "populate",
            "ripple_v1.RippleTimesV1",
            "--key",
            "ripple_param_name=default",
        ],
    );
    let e = String::from_utf8_lossy(&refused.stdout) + String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && e.contains("head_speed"), "{e}");
    // a set that keeps every event whatever the speed, for pictures with events
    let keep = ["--speed-threshold", "1000000", "--zscore-threshold", "1.5"];
    ok(
        dir,
        &[&["ripple", "params", "add", "keep_all"][..], &keep].concat(),
    );
    for params in ["default_trodes", "karlsson", "keep_all"] {
        let key = format!("ripple_param_name={params}");
        let out = ok(dir, &["populate", "ripple_v1.RippleTimesV1", "--key", &key]);
        assert!(out.contains("made 2 keys, 0 errors"), "{params}: {out}");
    }
    let out = ok(dir, &["show", "ripple_v1.RippleTimesV1", "--format", "csv"]);
    assert_eq!(out.lines().count(), 7, "a header and six entries:\n{out}");

    // pictures of the keep_all entries: one per position epoch
    let bad = run(
        dir,
        &["ripple", "plot", nwb, "--key", "speed=1", "-o", "pictures"],
    );
    let e = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success() && e.contains("`speed`"), "{e}");
    let plot = [
        "ripple",
        "plot",
        "rip20230622.nwb",
        "--key",
        "ripple_param_name=keep_all",
    ];
    let out = ok(
        dir,
        &[&plot[..], &["--events", "3", "-o", "pictures"]].concat(),
    );
    let files: Vec<std::path::PathBuf> = out.lines().map(|f| dir.join(f)).collect();
    assert_eq!(files.len(), 2, "{out}");
    let url = format!("sqlite:///{}", dir.join("cli.db").display());
    let db = spyglass::Spyglass::open(&url, spyglass::Settings::new(dir.join("base"))).unwrap();
    let rows: Vec<spyglass::ripple::v1::RippleTimesRow> = db
        .fetch_as(
            &db.table("ripple_v1.RippleTimesV1")
                .unwrap()
                .restrict(spyglass_db::Cond::map([("ripple_param_name", "keep_all")]))
                .unwrap(),
        )
        .unwrap();
    let mut total = 0;
    for row in &rows {
        let path = spyglass::ripple::plot::picture_path(&dir.join("pictures"), row);
        assert!(files.contains(&path), "{out}");
        let events = spyglass::ripple::v1::fetch_ripple_times(&db, &row.key).unwrap();
        let panels = svg_panels(&path);
        let close_ups = events.len().min(3);
        assert_eq!(panels.len(), 2 + close_ups, "{panels:?}");
        // every electrode of the selection (the whole band), one colour each
        let part = db
            .table("ripple_v1.RippleLFPSelection.RippleLFPElectrode")
            .unwrap();
        let n_electrodes = db.count(&part).unwrap() as usize;
        assert!(n_electrodes >= 4);
        for p in panels.iter().filter(|p| !p.title.starts_with("speed")) {
            assert_eq!(p.colors.len(), n_electrodes, "{p:?}");
            assert!(p.polylines >= n_electrodes, "{p:?}");
        }
        assert_eq!(panels[0].spans, events.len(), "{:?}", panels[0]);
        assert_eq!(panels[1].spans, events.len(), "{:?}", panels[1]);
        assert!(
            panels[1].title.starts_with("speed (threshold 1000000"),
            "{:?}",
            panels[1]
        );
        for p in &panels[2..] {
            // "… window A–B s"
            let w = p
                .title
                .rsplit_once("window ")
                .unwrap()
                .1
                .trim_end_matches(" s");
            let (a, b) = w.split_once('–').unwrap();
            let (a, b): (f64, f64) = (a.parse().unwrap(), b.parse().unwrap());
            let inside = events.iter().filter(|e| e[0] <= b && a <= e[1]).count();
            assert!(inside >= 1);
            assert_eq!(p.spans, inside, "{p:?}");
        }
        total += events.len();
    }
    assert!(total > 0, "no events: the pictures would show no spans");
}
