//! Analysis files: create from a session's copy, add objects, register with size
//! and checksum, verification on fetch, fetch_nwb through a child table, and
//! cleanup of rows and files nothing refers to (with a dry run first).

use crate::common;

use common::*;
use spyglass::analysis::{self, AnalysisFile, CleanupOptions};
use spyglass::common::common_nwbfile as nwbf;
use spyglass::fetch_nwb::fetch_nwb;
use spyglass_db::{Cond, InsertOptions, Row, TableSpec, Tier, Value};
use spyglass_nwb::synthetic::{write_session, SyntheticParams};
use spyglass_nwb::{NwbFile, Placement, SeriesData, TimeSeriesSpec, TimingSpec};

fn ingest_synthetic(env: &Env) -> &'static str {
    let src = env.staging().join("ana20230622.nwb");
    let p = SyntheticParams {
        duration_s: 2.0,
        n_channels: 4,
        n_groups: 1,
        n_units: 1,
        ..SyntheticParams::default()
    };
    write_session(&src, &p).unwrap();
    assert!(env.insert(&[src])[0].is_ok());
    "ana20230622_.nwb"
}

fn series(name: &str, values: Vec<f64>) -> TimeSeriesSpec {
    TimeSeriesSpec {
        name: name.into(),
        shape: vec![values.len()],
        data: SeriesData::F64(values),
        unit: "a.u.".into(),
        timing: TimingSpec::Rate {
            rate: 10.0,
            starting_time: 0.5,
        },
        ..TimeSeriesSpec::default()
    }
}

#[test]
fn analysis_files_are_created_registered_verified_and_cleaned_up() {
    let env = Env::new();
    let nwb = ingest_synthetic(&env);
    // a downstream table that refers to analysis files
    env.db
        .declare(
            "test_results",
            &TableSpec::new(
                "Result",
                Tier::Manual,
                "result_id : int\n---\n-> common_nwbfile.AnalysisNwbfile\nresult_object_id : varchar(40)",
            ),
        )
        .unwrap();

    // A: built, registered and referenced
    let (a_name, a_oid) = analysis::build(&env.db, &env.settings, nwb, "filtered trace", |w| {
        Ok(w.add_time_series(&Placement::Scratch, &series("trace", vec![1.0, 2.0, 3.0]))?)
    })
    .unwrap();
    assert!(
        a_name.starts_with("ana20230622_") && a_name.ends_with(".nwb"),
        "{a_name}"
    );
    let suffix = &a_name["ana20230622_".len()..a_name.len() - 4];
    assert_eq!(suffix.len(), 10);
    assert!(
        suffix
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
        "{suffix}"
    );
    let a_path = analysis::analysis_file_path(&env.db, &a_name).unwrap();
    assert_eq!(
        a_path,
        spyglass::settings::absolute(&env.settings.analysis_dir)
            .join("ana20230622")
            .join(&a_name)
    );
    let row = &env.all(nwbf::ANALYSIS_NWBFILE)[0];
    assert_eq!(
        (s(row, "nwb_file_name"), s(row, "analysis_file_description")),
        (nwb.to_string(), "filtered trace".to_string())
    );
    // the analysis file keeps the session's metadata and electrodes, and holds the object
    let f = NwbFile::open(&a_path).unwrap();
    let copy = NwbFile::open(analysis::nwb_file_path(&env.db, nwb).unwrap()).unwrap();
    assert_eq!(
        f.metadata().unwrap().session_description,
        copy.metadata().unwrap().session_description
    );
    assert_ne!(
        f.metadata().unwrap().object_id,
        copy.metadata().unwrap().object_id
    );
    assert_eq!(f.electrodes().unwrap().unwrap().len(), 4);
    assert_eq!(f.path_of_id(&a_oid).unwrap(), "/scratch/trace");
    drop(f);
    env.db
        .insert1(
            "test_results.Result",
            Row::from_pairs([
                ("result_id", Value::from(1)),
                ("analysis_file_name", a_name.as_str().into()),
                ("result_object_id", a_oid.as_str().into()),
            ]),
            InsertOptions::default(),
        )
        .unwrap();
    let got = fetch_nwb(&env.db, &env.db.table("test_results.Result").unwrap()).unwrap();
    assert_eq!(got[0].file_path, a_path);
    let o = got[0].object("result").unwrap();
    assert_eq!(
        (o.info.path.as_str(), o.info.neurodata_type.as_str()),
        ("/scratch/trace", "TimeSeries")
    );
    assert_eq!(
        o.file.series_data_f64(&o.info.path).unwrap().1,
        vec![1.0, 2.0, 3.0]
    );

    // B: registered but nothing refers to it; C: created and never registered
    let (b_name, _) = analysis::build(&env.db, &env.settings, nwb, "orphan", |w| {
        Ok(w.add_time_series(&Placement::Scratch, &series("x", vec![0.0; 5]))?)
    })
    .unwrap();
    let b_path = analysis::analysis_file_path(&env.db, &b_name).unwrap();
    let c = AnalysisFile::create(&env.db, &env.settings, nwb).unwrap();
    let (c_name, c_path) = c.finish().unwrap();
    // C keeps its pending marker while its writer (this process) runs: cleanup
    // leaves it alone; here its writer is made to have exited
    let live = c_path.with_file_name(analysis::pending_marker_name(&c_name));
    assert!(live.is_file(), "{live:?}");
    let r = analysis::cleanup(
        &env.db,
        &env.settings,
        &CleanupOptions {
            dry_run: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(r.untracked_files.is_empty(), "{r:?}");
    let mut child = std::process::Command::new("true").spawn().unwrap();
    child.wait().unwrap();
    let c_marker = c_path.with_file_name(format!(
        ".{c_name}~{}~{}.pending",
        spyglass_db::config::hostname(),
        child.id()
    ));
    std::fs::rename(&live, &c_marker).unwrap();

    // the checksum is verified on fetch: a changed file is refused
    let mut bytes = std::fs::read(&b_path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&b_path, &bytes).unwrap();
    let e = analysis::analysis_file_path(&env.db, &b_name)
        .unwrap_err()
        .to_string();
    assert!(e.contains("checksum"), "{e}");
    std::fs::remove_file(&b_path).unwrap();
    let e = analysis::analysis_file_path(&env.db, &b_name)
        .unwrap_err()
        .to_string();
    assert!(e.contains(&b_name), "{e}");
    std::fs::write(&b_path, b"recreated").unwrap();

    // dry run: reports, removes nothing
    let opts = CleanupOptions {
        dry_run: true,
        ..Default::default()
    };
    let r = analysis::cleanup(&env.db, &env.settings, &opts).unwrap();
    assert_eq!(r.analysis_rows, vec![b_name.clone()]);
    assert_eq!(r.analysis_files, vec![b_path.clone()]);
    assert_eq!(r.untracked_files, vec![c_marker.clone(), c_path.clone()]);
    assert!(b_path.exists() && c_path.exists());
    assert_eq!(env.count(nwbf::ANALYSIS_NWBFILE), 2);
    // the real run removes B's row and file and C, and keeps A
    let r = analysis::cleanup(&env.db, &env.settings, &CleanupOptions::default()).unwrap();
    assert_eq!(
        (
            r.analysis_rows.len(),
            r.analysis_files.len(),
            r.untracked_files.len()
        ),
        (1, 1, 2)
    );
    assert!(!b_path.exists() && !c_path.exists() && !c_marker.exists() && a_path.exists());
    let left: Vec<String> = env
        .all(nwbf::ANALYSIS_NWBFILE)
        .iter()
        .map(|r| s(r, "analysis_file_name"))
        .collect();
    assert_eq!(left, vec![a_name.clone()]);
    assert_eq!(
        analysis::analysis_file_path(&env.db, &a_name).unwrap(),
        a_path
    );
    // the session's copy is untouched, and a second cleanup finds nothing
    assert!(analysis::nwb_file_path(&env.db, nwb).is_ok());
    let r = analysis::cleanup(&env.db, &env.settings, &CleanupOptions::default()).unwrap();
    assert_eq!(r, analysis::CleanupReport::default());
    // fetch_nwb on rows of a session uses the copy
    let q = env
        .db
        .table("common_ephys.Raw")
        .unwrap()
        .restrict(Cond::map([("nwb_file_name", nwb)]))
        .unwrap();
    let raw = fetch_nwb(&env.db, &q).unwrap();
    assert!(raw[0].file_path.ends_with(nwb));
    assert_eq!(
        raw[0].object("raw").unwrap().info.path,
        "/acquisition/e-series"
    );
}

#[test]
fn a_failing_build_leaves_no_file_and_no_row() {
    let env = Env::new();
    let nwb = ingest_synthetic(&env);
    let e = analysis::build(
        &env.db,
        &env.settings,
        nwb,
        "broken",
        |_| -> spyglass::Result<()> {
            Err(spyglass::Error::internal(
                "broken",
                "the computation failed",
            ))
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("the computation failed"));
    assert_eq!(env.count(nwbf::ANALYSIS_NWBFILE), 0);
    let mut files = vec![];
    for d in std::fs::read_dir(&env.settings.analysis_dir).unwrap() {
        let d = d.unwrap().path();
        if d.is_dir() {
            files.extend(std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()));
        }
    }
    assert!(files.is_empty(), "{files:?}");
    assert!(AnalysisFile::create(&env.db, &env.settings, "unknown_.nwb").is_err());
}

/// A writer killed between publishing a file and committing its row (made here by
/// hand: a file under its analysis name and the marker of a process that has exited)
/// leaves no orphan: `check` lists the file and its marker with the partial files,
/// a marker whose file was registered is only a stale marker, and the next
/// registration in the folder removes the unregistered file and both markers.
#[test]
fn a_file_published_by_a_killed_writer_is_not_an_orphan() {
    let env = Env::new();
    let nwb = ingest_synthetic(&env);
    let (kept, _) = analysis::build(&env.db, &env.settings, nwb, "kept", |w| {
        Ok(w.add_time_series(&Placement::Scratch, &series("a", vec![1.0, 2.0]))?)
    })
    .unwrap();
    let dir = env.settings.analysis_dir.join("ana20230622");
    assert!(dir.join(&kept).is_file());
    // a process that has exited: its pid is free
    let mut child = std::process::Command::new("true").spawn().unwrap();
    child.wait().unwrap();
    let host = spyglass_db::config::hostname();
    let dead = child.id();
    let lost = "ana20230622_LOSTLOST00.nwb";
    std::fs::copy(dir.join(&kept), dir.join(lost)).unwrap();
    let markers = [
        dir.join(format!(".{lost}~{host}~{dead}.pending")),
        dir.join(format!(".{kept}~{host}~{dead}.pending")),
    ];
    for m in &markers {
        std::fs::write(m, b"").unwrap();
    }
    let report = spyglass::check::check(&env.db).unwrap();
    assert!(report.orphan_files.is_empty(), "{:?}", report.orphan_files);
    let mut listed = report.partial_files.clone();
    listed.sort();
    let mut want = vec![dir.join(lost), markers[0].clone(), markers[1].clone()];
    want.sort();
    assert_eq!(listed, want);
    // the next registration in the folder sweeps them; the registered file stays
    analysis::build(&env.db, &env.settings, nwb, "next", |w| {
        Ok(w.add_time_series(&Placement::Scratch, &series("b", vec![3.0]))?)
    })
    .unwrap();
    assert!(!dir.join(lost).exists() && markers.iter().all(|m| !m.exists()));
    assert!(dir.join(&kept).is_file());
    let report = spyglass::check::check(&env.db).unwrap();
    assert!(
        report.orphan_files.is_empty() && report.partial_files.is_empty(),
        "{report:?}"
    );
    // and a registered file has no marker left
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pending"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
