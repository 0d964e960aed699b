//! `spyglass insert`, `spyglass cleanup` and `spyglass session-group` end to end on
//! a pynwb-built Spyglass-layout file (the fixture script of the spyglass crate).

use crate::common::{run, spyglass_file};
use std::path::Path;

fn ok(dir: &Path, args: &[&str]) -> (String, String) {
    let out = run(dir, args);
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "spyglass {args:?} failed:\n{e}");
    (o, e)
}

#[test]
fn insert_cleanup_and_session_groups_from_the_command_line() {
    let tmp = spyglass_testkit::scratch_dir();
    let dir = tmp.path();
    let file = spyglass_file(dir, "cli20230622.nwb", "appendix");

    let (out, err) = ok(dir, &["insert", file.to_str().unwrap()]);
    assert!(
        out.contains("1 file(s): 1 inserted, 0 already present, 0 failed"),
        "{out}"
    );
    assert!(err.contains("cli20230622_.nwb: inserted"), "{err}");
    let (out, _) = ok(dir, &["show", "common_ephys.Electrode", "--format", "csv"]);
    assert_eq!(out.lines().count(), 9, "{out}");
    // again: a no-op with a message
    let (out, err) = ok(dir, &["insert", file.to_str().unwrap()]);
    assert!(out.contains("0 inserted, 1 already present"), "{out}");
    assert!(err.contains("already ingested"), "{err}");
    // a broken file fails with a non-zero exit and an InsertError row
    let junk = dir.join("junk.nwb");
    std::fs::write(&junk, b"not hdf5").unwrap();
    let out = run(dir, &["insert", junk.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("InsertError"));
    let (out, _) = ok(
        dir,
        &["show", "common_usage.InsertError", "--format", "csv"],
    );
    assert!(out.contains("junk_.nwb"), "{out}");

    // cleanup: an untracked analysis file is listed by the dry run, then removed
    let stray = dir.join("base/analysis/cli20230622/cli20230622_STRAY00000.nwb");
    std::fs::create_dir_all(stray.parent().unwrap()).unwrap();
    std::fs::write(&stray, b"stray").unwrap();
    let (out, _) = ok(dir, &["cleanup", "--dry-run", "--min-age-secs", "0"]);
    assert!(
        out.contains("would remove 1 file(s)") && out.contains("STRAY00000"),
        "{out}"
    );
    assert!(stray.exists());
    let (out, _) = ok(dir, &["cleanup", "--min-age-secs", "0"]);
    assert!(out.contains("removed 1 file(s)"), "{out}");
    assert!(!stray.exists());

    // session groups
    ok(
        dir,
        &["session-group", "add", "g1", "--description", "first"],
    );
    ok(
        dir,
        &["session-group", "add-session", "g1", "cli20230622_.nwb"],
    );
    ok(dir, &["session-group", "describe", "g1", "renamed"]);
    let (out, _) = ok(dir, &["session-group", "list"]);
    assert_eq!(out.trim(), "g1\trenamed\tcli20230622_.nwb");
    ok(
        dir,
        &["session-group", "remove-session", "g1", "cli20230622_.nwb"],
    );
    ok(dir, &["session-group", "delete", "g1"]);
    let (out, _) = ok(dir, &["session-group", "list"]);
    assert!(out.trim().is_empty(), "{out}");
}

fn fails(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(!out.status.success(), "spyglass {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn lfp_pipelines_set_up_from_the_command_line() {
    let tmp = spyglass_testkit::scratch_dir();
    let dir = tmp.path();
    let file = dir.join("tour20240101.nwb");
    let p = spyglass_nwb::synthetic::SyntheticParams {
        duration_s: 6.0,
        n_channels: 8,
        n_groups: 2,
        n_units: 1,
        ..Default::default()
    };
    spyglass_nwb::synthetic::write_session(&file, &p).unwrap();
    ok(dir, &["insert", file.to_str().unwrap()]);
    ok(dir, &["defaults"]);
    ok(dir, &["filter", "add-bands"]);
    let nwb = "tour20240101_.nwb";
    // groups by ids (ranges), electrode groups, region, all; the raw file name works too
    let (out, _) = ok(
        dir,
        &["lfp", "group", "add", nwb, "first", "--electrodes", "0-2,5"],
    );
    assert!(out.contains("4 electrodes (0, 1, 2, 5)"), "{out}");
    let (out, _) = ok(
        dir,
        &[
            "lfp",
            "group",
            "add",
            "tour20240101.nwb",
            "shank1",
            "--electrode-group",
            "1",
        ],
    );
    assert!(out.contains("4 electrodes (4, 5, 6, 7)"), "{out}");
    let (out, _) = ok(dir, &["lfp", "group", "add", nwb, "ca1", "--region", "CA1"]);
    assert!(out.contains("8 electrodes"), "{out}");
    let (out, _) = ok(dir, &["lfp", "group", "add", nwb, "all", "--all"]);
    assert!(out.contains("8 electrodes"), "{out}");
    let (out, _) = ok(
        dir,
        &[
            "show",
            "lfp_electrode.LFPElectrodeGroup.LFPElectrode",
            "--format",
            "csv",
        ],
    );
    assert_eq!(out.lines().count(), 1 + 4 + 4 + 8 + 8, "{out}");
    // clear refusals
    let err = fails(
        dir,
        &["lfp", "group", "add", nwb, "x", "--electrode-group", "9"],
    );
    assert!(
        err.contains("no electrode group `9`") && err.contains("0, 1"),
        "{err}"
    );
    let err = fails(dir, &["lfp", "group", "add", nwb, "x", "--region", "PFC"]);
    assert!(err.contains("region `PFC`") && err.contains("CA1"), "{err}");
    let err = fails(
        dir,
        &["lfp", "group", "add", nwb, "x", "--electrodes", "3,99"],
    );
    assert!(err.contains("no electrode 99"), "{err}");
    let err = fails(dir, &["lfp", "group", "add", "nosuch.nwb", "x", "--all"]);
    assert!(
        err.contains("no row with nwb_file_name = `nosuch.nwb`"),
        "{err}"
    );
    let err = fails(
        dir,
        &[
            "lfp",
            "band",
            "select",
            nwb,
            "--lfp-group",
            "first",
            "--filter",
            "Theta 5-11 Hz",
            "--interval",
            "raw data valid times",
            "--rate",
            "100",
        ],
    );
    assert!(err.contains("has no LFP yet"), "{err}");
    // LFP, then its theta band with a reference, populated and shown
    let (out, _) = ok(
        dir,
        &[
            "lfp",
            "select",
            nwb,
            "first",
            "--interval",
            "raw data valid times",
            "--filter",
            "LFP 0-400 Hz",
        ],
    );
    assert!(out.contains("at 30000 Hz, output 1000 Hz"), "{out}");
    ok(dir, &["populate", "lfp_v1.LFPV1"]);
    let (out, _) = ok(dir, &["show", "lfp_v1.LFPV1", "--format", "csv"]);
    assert_eq!(out.lines().count(), 2, "{out}");
    let (out, _) = ok(
        dir,
        &[
            "lfp",
            "band",
            "select",
            nwb,
            "--lfp-group",
            "first",
            "--filter",
            "Theta 5-11 Hz",
            "--interval",
            "raw data valid times",
            "--rate",
            "100",
            "--electrodes",
            "0,1",
            "--reference",
            "-1,2",
        ],
    );
    assert!(
        out.contains("2 electrodes") && out.contains("LFPV1"),
        "{out}"
    );
    ok(dir, &["populate", "lfp_band_v1.LFPBandV1"]);
    let (out, _) = ok(
        dir,
        &[
            "show",
            "lfp_band_v1.LFPBandSelection.LFPBandElectrode",
            "--format",
            "csv",
        ],
    );
    assert!(
        out.lines().count() == 3 && out.contains(",2\n") && out.contains(",-1\n"),
        "{out}"
    );
    let (out, _) = ok(dir, &["show", "lfp_band_v1.LFPBandV1", "--format", "csv"]);
    assert_eq!(out.lines().count(), 2, "{out}");
    let err = fails(
        dir,
        &[
            "lfp",
            "band",
            "select",
            nwb,
            "--lfp-group",
            "first",
            "--filter",
            "Theta 5-11 Hz",
            "--interval",
            "raw data valid times",
            "--rate",
            "100",
            "--electrodes",
            "0,1",
            "--reference",
            "1,2,3",
        ],
    );
    assert!(err.contains("3 ids for 2 electrodes"), "{err}");
    // commands grouped under a name: `lfp artifact select`, `position pose import`
    let (out, _) = ok(dir, &["lfp", "artifact", "select", nwb, "first"]);
    let selected =
        "LFPArtifactDetectionSelection: tour20240101_.nwb, group `first`, parameters `default_mad`";
    assert!(out.contains(selected), "{out}");
    let (out, _) = ok(dir, &["position", "pose", "import", nwb]);
    assert!(
        out.contains("no new PoseEstimation in tour20240101_.nwb"),
        "{out}"
    );
    let (out, _) = ok(dir, &["lfp", "--help"]);
    let groups = ["LFP bands (LFPBandSelection)", "LFP artifact detection"];
    assert!(groups.iter().all(|g| out.contains(g)), "{out}");
    let err = fails(dir, &["lfp", "band"]);
    assert!(err.contains("select"), "{err}");
}
