//! Export logging sees the fetches of `populate --workers N`: each worker thread opens
//! its own connection, and the makes it runs are logged into the export the user
//! started, as a single-threaded populate's are.

use crate::common::ok_output;
use std::path::Path;

fn ok(dir: &Path, args: &[&str]) -> String {
    ok_output(args, &crate::common::run_as(dir, Some("wendy"), args))
}

#[test]
fn makes_in_populate_workers_are_logged_into_the_active_export() {
    let tmp = spyglass_testkit::scratch_dir();
    let dir = tmp.path();
    let file = dir.join("wrk20240101.nwb");
    let p = spyglass_nwb::synthetic::SyntheticParams {
        duration_s: 3.0,
        n_channels: 8,
        n_groups: 2,
        n_units: 1,
        ..Default::default()
    };
    spyglass_nwb::synthetic::write_session(&file, &p).unwrap();
    ok(dir, &["insert", file.to_str().unwrap()]);
    ok(dir, &["defaults"]);
    let nwb = "wrk20240101_.nwb";
    // two LFP selections, so that the two workers have a key each
    for (group, ids) in [("left", "0-3"), ("right", "4-7")] {
        ok(
            dir,
            &["lfp", "group", "add", nwb, group, "--electrodes", ids],
        );
        ok(
            dir,
            &[
                "lfp",
                "select",
                nwb,
                group,
                "--interval",
                "raw data valid times",
                "--filter",
                "LFP 0-400 Hz",
            ],
        );
    }
    ok(
        dir,
        &["export", "start", "--paper", "wp", "--analysis", "workers"],
    );
    let out = ok(dir, &["populate", "lfp_v1.LFPV1", "--workers", "2"]);
    assert!(out.contains("made 2 keys, 0 errors"), "{out}");
    ok(dir, &["export", "stop"]);

    // what was logged, read back through the library
    let db = spyglass_db::Db::open(&format!("sqlite:///{}", dir.join("cli.db").display())).unwrap();
    let logged = spyglass::export::preview_tables(&db, "wp").unwrap();
    let selection = db.table_info("lfp_v1.LFPSelection").unwrap().name.clone();
    let on_selection: Vec<&str> = logged
        .iter()
        .filter(|r| r.table == selection)
        .map(|r| r.restriction.as_str())
        .collect();
    // each make reads its own selection row: one restriction per group, from either worker
    for group in ["left", "right"] {
        assert_eq!(
            on_selection.iter().filter(|r| r.contains(group)).count(),
            1,
            "{group}: {logged:#?}"
        );
    }
    let filters = db
        .table_info("common_filter.FirFilterParameters")
        .unwrap()
        .name
        .clone();
    assert!(
        logged.iter().any(|r| r.table == filters),
        "the makes read the filter: {logged:#?}"
    );
    assert!(spyglass::export::active_export(&db).is_none());
}
