//! `spyglass position …` end to end: parameter sets added and listed, a session's
//! raw position epochs selected, TrodesPosV1 populated through the registry, the
//! entries in PositionOutput. The values themselves are checked against Spyglass
//! in the spyglass crate's `position_pipeline` test.

use std::path::Path;
use std::process::{Command, Output};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spyglass"))
        .args([
            "--db",
            &format!("sqlite:///{}", dir.join("cli.db").display()),
        ])
        .args(args)
        .env("SPYGLASS_BASE_DIR", dir.join("base"))
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .current_dir(dir)
        .output()
        .expect("run spyglass")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "spyglass {args:?} failed:\n{e}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn position_pipeline_set_up_and_populated_from_the_command_line() {
    let tmp = spyglass_testkit::scratch_dir();
    let dir = tmp.path();
    let script =
        spyglass_testkit::workspace_root().join("crates/spyglass/tests/py/make_spyglass_file.py");
    let code = std::fs::read_to_string(script).unwrap();
    let file = dir.join("pos20230622.nwb");
    spyglass_testkit::run_python(&code, &[file.to_str().unwrap(), "leds"]);
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
}
