//! `spyglass demo`: runs the whole LFP pipeline on a synthetic session in a
//! scratch directory; the picture must exist and the summary must name the
//! tables by their Spyglass names. Also `defaults` and `filter add/list`.

use std::process::Command;

fn spyglass(args: &[&str], dir: &std::path::Path) -> (bool, String) {
    spyglass_in(args, dir, &dir.join("base"))
}

/// Runs the CLI with `base` as the base dir (where stores and the export state live).
fn spyglass_in(args: &[&str], dir: &std::path::Path, base: &std::path::Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_spyglass"))
        .args(args)
        .env("SPYGLASS_BASE_DIR", base)
        .env(
            "SPYGLASS_DB",
            format!("sqlite:///{}", dir.join("cli.db").display()),
        )
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .output()
        .expect("run spyglass");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn demo_draws_a_picture_and_names_the_tables() {
    let tmp = spyglass_testkit::scratch_dir();
    let dir = tmp.path().join("demo");
    let (ok, text) = spyglass(&["demo", "--dir", dir.to_str().unwrap()], tmp.path());
    assert!(ok, "{text}");
    let svg = dir.join("lfp_demo.svg");
    let body = std::fs::read_to_string(&svg).expect("picture written");
    assert!(body.starts_with("<svg") && body.contains("<polyline"));
    for name in [
        "common_filter.FirFilterParameters",
        "lfp_v1.LFPSelection",
        "lfp_v1.LFPV1",
        "lfp_v1.__l_f_p_v1",
        "lfp_v1.l_f_p_selection",
        "lfp_merge.LFPOutput",
        "lfp_band_v1.LFPBandV1",
        "lfp_electrode.l_f_p_electrode_group",
    ] {
        assert!(text.contains(name), "summary lacks {name}:\n{text}");
    }
    assert!(text.contains("LFPV1: 1 made"), "{text}");

    // the demo ends with a paper export: the bundle opens as it is with the CLI
    assert!(text.contains("6. export:"), "{text}");
    let bundle_db = dir.join("export/demo/bundle/spyglass.db");
    let url = format!("sqlite:///{}", bundle_db.display());
    let (ok, shown) = spyglass(
        &["--db", &url, "show", "common_nwbfile.AnalysisNwbfile"],
        tmp.path(),
    );
    assert!(ok, "{shown}");
    assert!(
        shown.contains("LFPV1 output") && shown.contains("2 rows"),
        "{shown}"
    );
    // the files the rows point to are the bundle's own copies
    assert!(
        shown.contains(
            &dir.join("export/demo/bundle/analysis")
                .display()
                .to_string()
        ),
        "{shown}"
    );
    let (ok, shown) = spyglass(
        &["--db", &url, "show", "common_session.Session"],
        tmp.path(),
    );
    assert!(
        ok && shown.contains("demo20230622_.nwb") && shown.contains("1 row"),
        "{shown}"
    );

    // the export commands on the demo's database: start, an analysis, stop, preview, run
    let demo_db = format!("sqlite:///{}", dir.join("spyglass.db").display());
    let base = dir.join("base");
    let run = |args: &[&str]| {
        let mut all = vec!["--db", demo_db.as_str()];
        all.extend_from_slice(args);
        let (ok, text) = spyglass_in(&all, tmp.path(), &base);
        assert!(ok, "{args:?}: {text}");
        text
    };
    let t = run(&["export", "start", "--paper", "p2", "--analysis", "cli"]);
    assert!(t.contains("started for paper p2"), "{t}");
    let (ok, t) = spyglass_in(
        &[
            "--db",
            &demo_db,
            "export",
            "start",
            "--paper",
            "p3",
            "--analysis",
            "x",
        ],
        tmp.path(),
        &base,
    );
    assert!(!ok && t.contains("is active"), "{t}");
    run(&["show", "common_ephys.Electrode", "--key", "electrode_id=2"]);
    let t = run(&["export", "stop"]);
    assert!(t.contains("1 restrictions logged"), "{t}");
    let t = run(&["export", "preview", "--paper", "p2"]);
    // by hand: Electrode 1, ElectrodeGroup 1, Session 1 + Experimenter 1 + DAQ part 1,
    // Nwbfile 1 + its ~external_raw row 1, Subject, Institution, Lab, LabMember 1 each,
    // DataAcquisitionDevice + System + Amplifier 1 each, Probe 1 + Shank 1 + all 4 probe
    // electrodes, ProbeType 1, BrainRegion 1 = 22 rows in 19 tables, plus LabMemberInfo
    // declared empty with its master = 20 tables; no LFP table
    assert!(t.contains("(`electrode_id`=2)"), "{t}");
    assert!(t.contains("the export holds 22 rows in 20 tables"), "{t}");
    assert!(!t.contains("lfp_v1.LFPV1 "), "{t}");
    let out = tmp.path().join("exports");
    let t = run(&[
        "export",
        "run",
        "--paper",
        "p2",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(t.contains("export of paper p2"), "{t}");
    let bundle = format!("sqlite:///{}", out.join("p2/bundle/spyglass.db").display());
    let (ok, shown) = spyglass(
        &["--db", &bundle, "show", "common_ephys.Electrode"],
        tmp.path(),
    );
    assert!(ok && shown.contains("1 row"), "{shown}");
    let (ok, shown) = spyglass(
        &["--db", &bundle, "show", "common_device.Probe.Electrode"],
        tmp.path(),
    );
    assert!(ok && shown.contains("4 rows"), "{shown}");

    // its dandiset passes `dandi validate`, run offline
    let dandiset = dir.join("export/dandiset");
    let dandi = spyglass_testkit::workspace_root().join(".venv/bin/dandi");
    let out = Command::new(&dandi)
        .arg("validate")
        .arg(&dandiset)
        .env("DANDI_NO_ET", "1")
        .output()
        .expect("dandi (scripts/setup.sh installs it in .venv)");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{report}");
    assert!(report.contains("No errors found"), "{report}");
    let mut names: Vec<String> = std::fs::read_dir(dandiset.join("sub-synth01"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names
        .iter()
        .all(|n| n.starts_with("sub-synth01_ses-") && n.ends_with(".nwb")));
}

#[test]
fn defaults_and_filter_subcommands() {
    let tmp = spyglass_testkit::scratch_dir();
    let (ok, text) = spyglass(&["defaults"], tmp.path());
    assert!(ok, "{text}");
    assert!(
        text.contains("common_filter.FirFilterParameters: 2 default rows inserted"),
        "{text}"
    );
    let (ok, text) = spyglass(
        &[
            "filter",
            "add",
            "Theta 5-11 Hz",
            "--rate",
            "1000",
            "--type",
            "bandpass",
            "--edges",
            "4,5,11,12",
            "--comment",
            "theta",
        ],
        tmp.path(),
    );
    assert!(ok, "{text}");
    assert!(text.contains("5335 taps"), "{text}");
    let (ok, text) = spyglass(
        &[
            "filter",
            "add",
            "Ripple 150-250 Hz",
            "--rate",
            "1000",
            "--type",
            "bandpass",
            "--edges",
            "140,150,250,260",
        ],
        tmp.path(),
    );
    assert!(ok && text.contains("535 taps"), "{text}");
    let (ok, text) = spyglass(&["filter", "list"], tmp.path());
    assert!(ok, "{text}");
    assert!(
        text.contains("LFP 0-400 Hz") && text.contains("6401 taps"),
        "{text}"
    );
    let (ok, text) = spyglass(
        &[
            "filter", "add", "x", "--rate", "1000", "--type", "sideways", "--edges", "1,2",
        ],
        tmp.path(),
    );
    assert!(!ok && text.contains("sideways"), "{text}");
}
