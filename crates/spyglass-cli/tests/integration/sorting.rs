//! `spyglass sorting …` from the command line: sort groups by shank, a
//! preprocessing parameter set added and listed, a recording selected (the same id
//! twice) and populated, an artifact selection made and populated. The numbers are
//! checked against SpikeInterface and Spyglass in the spyglass crate's
//! `spikesorting_recording` tests.

use crate::common::{ok, run, spyglass_file};

#[test]
fn recording_and_artifacts_from_the_command_line() {
    let tmp = spyglass_testkit::scratch_dir();
    let dir = tmp.path();
    let file = spyglass_file(dir, "sort20230622.nwb", "extras");
    let nwb = "sort20230622_.nwb";
    ok(dir, &["insert", file.to_str().unwrap()]);
    ok(dir, &["defaults"]);
    // the fixture's group 0 disagrees on its reference: refused, then references given
    assert!(!run(dir, &["sorting", "group-by-shank", nwb])
        .status
        .success());
    let out = ok(
        dir,
        &[
            "sorting",
            "group-by-shank",
            nwb,
            "--reference",
            "0=-2",
            "--reference",
            "1=-1",
        ],
    );
    assert!(
        out.contains("sort group 0: reference -2, electrodes 0,1,2"),
        "{out}"
    );
    assert!(
        out.contains("sort group 1: reference -1, electrodes 4,5,6,7"),
        "{out}"
    );

    let add = [
        "sorting",
        "recording",
        "params",
        "add",
        "short",
        "--min-segment-length",
        "0.5",
    ];
    ok(dir, &add);
    assert!(!run(dir, &add).status.success(), "a reused name is refused");
    let out = ok(dir, &["sorting", "recording", "params", "list"]);
    assert!(
        out.contains("default: ") && out.contains("short: "),
        "{out}"
    );

    let select = [
        "sorting",
        "recording",
        "select",
        nwb,
        "--sort-group",
        "1",
        "--interval",
        "raw data valid times",
        "--params",
        "short",
    ];
    let first = ok(dir, &select);
    let again = ok(dir, &select);
    let id = first
        .split_whitespace()
        .nth(1)
        .unwrap()
        .trim_end_matches(':')
        .to_string();
    assert!(again.contains(&id), "{first}\n{again}");
    ok(
        dir,
        &[
            "populate",
            "spikesorting_v1_recording.SpikeSortingRecording",
        ],
    );

    let out = ok(dir, &["sorting", "artifact", "params", "list"]);
    assert!(out.contains("default: ") && out.contains("none: "), "{out}");
    ok(
        dir,
        &["sorting", "artifact", "select", &id, "--params", "none"],
    );
    ok(
        dir,
        &["populate", "spikesorting_v1_artifact.ArtifactDetection"],
    );
    let out = ok(dir, &["show", "spikesorting_v1_artifact.ArtifactDetection"]);
    assert!(out.contains("1 row") || out.lines().count() >= 2, "{out}");
}
