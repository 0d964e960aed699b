//! `spyglass demo`: runs the whole LFP pipeline on a synthetic session in a
//! scratch directory; the picture must exist and the summary must name the
//! tables by their Spyglass names. Also `defaults` and `filter add/list`.

use std::process::Command;

fn spyglass(args: &[&str], dir: &std::path::Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_spyglass"))
        .args(args)
        .env("SPYGLASS_BASE_DIR", dir.join("base"))
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
        text.contains("common_filter.FirFilterParameters: 4 default rows inserted"),
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
