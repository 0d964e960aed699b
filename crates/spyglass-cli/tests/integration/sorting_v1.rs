//! `spyglass sorting sorter …`, `spyglass sorting select`, `spyglass sorting
//! unit-filter / group …` and `spyglass mua params …` from the command line:
//! sorter parameter sets listed and added (a reused name and an unknown key
//! refused), a sorting selected (the same id twice) and populated with
//! `clusterless_thresholder`, curations inserted and listed (bad labels, merge
//! groups and parents refused), pictures of a curation written (`sorting plot`),
//! unit selections and sorted-spikes groups made and
//! shown (a bad criterion and an existing group refused, a noise unit dropped by a
//! label filter), MUA parameter sets listed and added, and a Python-only sorter
//! refused at populate. The
//! numbers are checked against Spyglass, SpikeInterface and the ground truth in the
//! spyglass crate's `spikesorting_sorting` tests.

use crate::common::{ok, run, spyglass_file, text};

/// The id a selection command prints second (`Table <id>: …`).
fn id_of(out: &str) -> String {
    out.split_whitespace()
        .nth(1)
        .unwrap()
        .trim_end_matches(':')
        .to_string()
}

#[test]
fn sorting_from_the_command_line() {
    let tmp = spyglass_testkit::scratch_dir();
    let dir = tmp.path();
    let file = spyglass_file(dir, "sortv20230622.nwb", "extras");
    let nwb = "sortv20230622_.nwb";
    ok(dir, &["insert", file.to_str().unwrap()]);
    ok(dir, &["defaults"]);
    let refs = ["--reference", "0=-2", "--reference", "1=-1"];
    ok(
        dir,
        &[&["sorting", "group-by-shank", nwb][..], &refs].concat(),
    );
    ok(
        dir,
        &[
            "sorting",
            "recording",
            "params",
            "add",
            "short",
            "--min-segment-length",
            "0.5",
        ],
    );
    let rec = id_of(&ok(
        dir,
        &[
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
        ],
    ));
    ok(
        dir,
        &[
            "populate",
            "spikesorting_v1_recording.SpikeSortingRecording",
        ],
    );
    let artifact = id_of(&ok(
        dir,
        &["sorting", "artifact", "select", &rec, "--params", "none"],
    ));
    ok(
        dir,
        &["populate", "spikesorting_v1_artifact.ArtifactDetection"],
    );

    // Spyglass's 22 parameter sets and ours
    let out = ok(dir, &["sorting", "sorter", "params", "list"]);
    for want in [
        "clusterless_thresholder / default_clusterless: ",
        "mountainsort4 / franklab_tetrode_hippocampus_30KHz: ",
        "kilosort4 / default",
        "spyglass_sorter / default: ",
    ] {
        assert_eq!(
            out.contains(want),
            want != "kilosort4 / default",
            "{want}\n{out}"
        );
    }
    assert_eq!(out.lines().count(), 23, "{out}");
    let add = [
        "sorting",
        "sorter",
        "params",
        "add",
        "spyglass_sorter",
        "strict",
        "--params",
        r#"{"detect_threshold": 6.5}"#,
    ];
    ok(dir, &add);
    assert!(!run(dir, &add).status.success(), "a reused name is refused");
    let bad = run(
        dir,
        &[
            "sorting",
            "sorter",
            "params",
            "add",
            "spyglass_sorter",
            "odd",
            "--params",
            r#"{"threshold": 6}"#,
        ],
    );
    assert!(
        !bad.status.success() && text(&bad).contains("threshold"),
        "{}",
        text(&bad)
    );
    let out = ok(
        dir,
        &[
            "sorting",
            "sorter",
            "params",
            "list",
            "--sorter",
            "spyglass_sorter",
        ],
    );
    assert!(
        out.contains("spyglass_sorter / strict: ") && out.lines().count() == 2,
        "{out}"
    );

    // a clusterless sorting of the artifact-free times: the same id twice, populated
    let select = ["sorting", "select", &rec, "--interval", &artifact];
    let first = ok(dir, &select);
    assert_eq!(id_of(&ok(dir, &select)), id_of(&first), "{first}");
    ok(dir, &["populate", "spikesorting_v1_sorting.SpikeSorting"]);
    let out = ok(
        dir,
        &[
            "show",
            "spikesorting_v1_sorting.SpikeSorting",
            "--format",
            "json",
        ],
    );
    assert!(
        out.contains(&id_of(&first)) && out.contains("time_of_sort"),
        "{out}"
    );

    // curations of the sorting (one unit, id 0): a labelled one, its child, bad input
    let sid = id_of(&first);
    let out = ok(
        dir,
        &[
            "sorting",
            "curation",
            "insert",
            &sid,
            "--labels",
            r#"{"0": ["noise", "reject"]}"#,
        ],
    );
    assert!(
        out.contains(&format!("CurationV1 {sid} / 0: parent -1")),
        "{out}"
    );
    let merge_id = out
        .split("SpikeSortingOutput ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let out = ok(
        dir,
        &["sorting", "curation", "insert", &sid, "--parent", "0"],
    );
    assert!(
        out.contains(&format!("CurationV1 {sid} / 1: parent 0")),
        "{out}"
    );
    for (bad, want) in [
        (vec!["--labels", r#"{"7": ["noise"]}"#], "unit 7"),
        (vec!["--merge-groups", "[[0]]"], "fewer than two units"),
        (vec!["--parent", "5"], "no curation 5"),
        (vec!["--labels", "[1]"], "--labels"),
    ] {
        let out = run(
            dir,
            &[&["sorting", "curation", "insert", &sid][..], &bad].concat(),
        );
        assert!(
            !out.status.success() && text(&out).contains(want),
            "{want}: {}",
            text(&out)
        );
    }
    let out = ok(dir, &["sorting", "curation", "list", &sid]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("0\tparent -1\tmerges_applied false\t1 units"),
        "{out}"
    );
    assert!(lines[1].starts_with("1\tparent 0\t"), "{out}");

    // pictures of the latest curation (1): a folder with curation.svg and unit_0.svg
    let pics = dir.join("pictures");
    let out = ok(
        dir,
        &["sorting", "plot", &sid, "-o", pics.to_str().unwrap()],
    );
    let folder = pics.join(format!("sorting_{sid}_curation_1"));
    assert_eq!(out.lines().next(), Some(folder.to_str().unwrap()), "{out}");
    for f in ["curation.svg", "unit_0.svg"] {
        let svg = std::fs::read_to_string(folder.join(f)).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{f}"
        );
    }
    let out = run(dir, &["sorting", "plot", &sid, "--curation", "9"]);
    assert!(
        !out.status.success() && text(&out).contains("CurationV1"),
        "{}",
        text(&out)
    );

    // unit selections and sorted-spikes groups (spikesorting_group_v1)
    let out = ok(dir, &["sorting", "unit-filter", "list"]);
    for want in [
        "all_units: include [], exclude []",
        "exclude_noise: include [], exclude [\"noise\", \"mua\"]",
        "default_exclusion: ",
    ] {
        assert!(out.contains(want), "{want}\n{out}");
    }
    let bad = run(
        dir,
        &[
            "sorting",
            "unit-filter",
            "add",
            "odd",
            "--criteria",
            r#"{"snr": {"~": 1}}"#,
        ],
    );
    assert!(
        !bad.status.success() && text(&bad).contains("invalid operator `~`"),
        "{}",
        text(&bad)
    );
    ok(
        dir,
        &[
            "sorting",
            "unit-filter",
            "add",
            "good",
            "--exclude",
            "reject",
        ],
    );
    let create = |name: &str, filter: &str| {
        run(
            dir,
            &[
                "sorting",
                "group",
                "create",
                nwb,
                name,
                "--merge-id",
                &merge_id,
                "--unit-filter",
                filter,
            ],
        )
    };
    assert!(create("all", "all_units").status.success());
    let again = create("all", "all_units");
    assert!(
        !again.status.success() && text(&again).contains("exists"),
        "{}",
        text(&again)
    );
    assert!(create("clean", "good").status.success());
    // the one unit, labelled noise / reject: kept by all_units, dropped by `good`
    let out = ok(dir, &["sorting", "group", "show", nwb, "all"]);
    assert!(out.starts_with("1 units"), "{out}");
    let out = ok(
        dir,
        &[
            "sorting",
            "group",
            "show",
            nwb,
            "clean",
            "--unit-filter",
            "good",
        ],
    );
    assert!(out.starts_with("0 units"), "{out}");

    // MUA parameter sets (mua_v1)
    let out = ok(dir, &["mua", "params", "list"]);
    for want in [
        "default: {",
        "\"minimum_duration\":0.015",
        "\"zscore_threshold\":2.0",
        "\"close_event_threshold\":0.0",
        "\"speed_threshold\":4.0",
    ] {
        assert!(out.contains(want), "{want}\n{out}");
    }
    let add = ["mua", "params", "add", "strict", "--zscore-threshold", "3"];
    ok(dir, &add);
    assert!(!run(dir, &add).status.success(), "a reused name is refused");
    let out = run(
        dir,
        &[
            "mua",
            "detect",
            nwb,
            "--group",
            "all",
            "--pos-merge-id",
            "nope",
            "--interval",
            "x",
        ],
    );
    assert!(
        !out.status.success() && text(&out).contains("--pos-merge-id nope"),
        "{}",
        text(&out)
    );

    // a sorter that exists only in Python is refused at populate, by name
    let ms4 = [
        "sorting",
        "select",
        &rec,
        "--interval",
        &artifact,
        "--sorter",
        "mountainsort4",
        "--params",
        "franklab_tetrode_hippocampus_30KHz",
    ];
    ok(dir, &ms4);
    let out = run(dir, &["populate", "spikesorting_v1_sorting.SpikeSorting"]);
    let msg = text(&out);
    assert!(
        msg.contains("mountainsort4") && msg.contains("only in Python"),
        "{msg}"
    );
}
