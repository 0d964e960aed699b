//! `spyglass ripple …` end to end from the command line: LFP, its ripple band and
//! TrodesPosV1 set up with their commands, a parameter set added, the band
//! selected, RippleTimesV1 populated through the registry. The events themselves
//! are checked against Spyglass and ripple_detection in the spyglass crate's
//! `ripple_pipeline` test; here, that Spyglass's `default` set (speed column
//! `head_speed`) is refused on TrodesPosV1 and the others make one entry per
//! position epoch.

use crate::common::{ok, run};

#[test]
fn ripple_pipeline_set_up_and_populated_from_the_command_line() {
    let tmp = spyglass_testkit::scratch_dir();
    let dir = tmp.path();
    let script =
        spyglass_testkit::workspace_root().join("crates/spyglass/tests/py/make_spyglass_file.py");
    let code = std::fs::read_to_string(script).unwrap();
    let file = dir.join("rip20230622.nwb");
    spyglass_testkit::run_python(&code, &[file.to_str().unwrap(), "leds_long"]);
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
    for params in ["default_trodes", "karlsson"] {
        let key = format!("ripple_param_name={params}");
        let out = ok(dir, &["populate", "ripple_v1.RippleTimesV1", "--key", &key]);
        assert!(out.contains("made 2 keys, 0 errors"), "{params}: {out}");
    }
    let out = ok(dir, &["show", "ripple_v1.RippleTimesV1", "--format", "csv"]);
    assert_eq!(out.lines().count(), 5, "a header and four entries:\n{out}");
}
