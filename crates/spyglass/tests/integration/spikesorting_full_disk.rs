//! A full analysis folder under the sorting tables: on the synthetic tetrode session of
//! `spikesorting_sorting`, the analysis folder is moved onto a small tmpfs (this needs
//! root to mount; as another user the test says so and does nothing) and filled up;
//! then `SpikeSortingRecording` materialize, a SpikeSorting populate and a CurationV1
//! insert each fail with an error saying the disk is full (naming the folder), leave
//! the rows as they were (no SpikeSorting row, no CurationV1 row, the recording still
//! pointing at its recipe file, no AnalysisNwbfile row), no file without a row and no
//! row without a file, no partial file; with the space freed each succeeds.

use crate::spikesorting_sorting::{chain, populate_sorting, select};
use spyglass::kit::Tables;
use spyglass::spikesorting::{curation_v1 as cv, recording_v1 as rec, sorting_v1 as ss};
use spyglass_db::{Cond, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted over a folder; unmounted on drop.
struct Tmpfs(PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn sh(cmd: &str, args: &[&str]) {
    let st = Command::new(cmd).args(args).status().expect(cmd);
    assert!(st.success(), "{cmd} {args:?}");
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Fills the filesystem of `dir` with `dir/filler` until it is full.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap();
    for size in [1 << 20, 4096, 1] {
        let block = vec![7u8; size];
        while f.write_all(&block).is_ok() {}
    }
    let _ = f.sync_all();
    path
}

/// AnalysisNwbfile names.
fn analysis_rows(db: &spyglass_db::Db) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct R {
        analysis_file_name: String,
    }
    let rows: Vec<R> = db
        .fetch_as(&db.table("common_nwbfile.AnalysisNwbfile").unwrap())
        .unwrap();
    let mut v: Vec<String> = rows.into_iter().map(|r| r.analysis_file_name).collect();
    v.sort();
    v
}

/// No file without a row, no row without a file, no partial file.
fn assert_consistent(db: &spyglass_db::Db, analysis: &Path, when: &str) {
    let mut on_disk: Vec<String> = files(analysis)
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "filler"))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    assert_eq!(
        on_disk,
        analysis_rows(db),
        "{when}: files against AnalysisNwbfile rows"
    );
}

fn count(db: &spyglass_db::Db, table: &str) -> usize {
    db.fetch(&db.table(table).unwrap()).unwrap().len()
}

fn says_full(e: &str, analysis: &Path) -> bool {
    e.contains("No space left on device") && e.contains(&analysis.display().to_string())
}

#[test]
fn full_analysis_folder_loses_nothing() {
    // SAFETY: geteuid has no preconditions
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("full_analysis_folder_loses_nothing: needs root to mount a tmpfs; not run");
        return;
    }
    let c = chain();
    let (db, settings) = (&c.env.db, &c.env.settings);
    let analysis = settings.analysis_dir.clone();
    // the folder's files move onto a 64 MiB tmpfs mounted over it
    let saved = c.env.dir.path().join("analysis-saved");
    sh(
        "cp",
        &["-a", analysis.to_str().unwrap(), saved.to_str().unwrap()],
    );
    sh(
        "mount",
        &[
            "-t",
            "tmpfs",
            "-o",
            "size=64m",
            "tmpfs",
            analysis.to_str().unwrap(),
        ],
    );
    let _mount = Tmpfs(analysis.clone());
    sh(
        "cp",
        &[
            "-a",
            &format!("{}/.", saved.display()),
            analysis.to_str().unwrap(),
        ],
    );
    assert_consistent(db, &analysis, "before");

    let id = select(&c, ss::NATIVE, "default", &c.artifact_id.to_string());
    let recording_before: serde_json::Value = db
        .row(
            rec::RECORDING,
            &rec::RecordingKey {
                recording_id: c.recording_id,
            },
        )
        .unwrap();

    // full: materialize, sorting
    let filler = fill(&analysis);
    let e = rec::materialize(db, settings, c.recording_id)
        .unwrap_err()
        .to_string();
    assert!(says_full(&e, &analysis), "materialize on a full disk: {e}");
    let after: serde_json::Value = db
        .row(
            rec::RECORDING,
            &rec::RecordingKey {
                recording_id: c.recording_id,
            },
        )
        .unwrap();
    assert_eq!(after, recording_before, "the recording row is unchanged");
    assert_consistent(db, &analysis, "after a failed materialize");

    // one key: populate reports its failure as the error
    let e = match spyglass::populate(
        db,
        settings,
        ss::SORTING,
        Cond::map([("sorting_id", Value::Uuid(id))]),
    ) {
        Err(e) => e.to_string(),
        Ok(rep) => format!("{} made, errors {:?}", rep.success_count, rep.error_list),
    };
    assert!(says_full(&e, &analysis), "sorting on a full disk: {e}");
    assert_eq!(count(db, ss::SORTING), 0);
    assert_consistent(db, &analysis, "after a failed sorting");

    // freed: both succeed
    std::fs::remove_file(&filler).unwrap();
    populate_sorting(&c, id);
    let name = rec::materialize(db, settings, c.recording_id).unwrap();
    assert!(analysis_rows(db).contains(&name));
    assert_consistent(db, &analysis, "after freeing space");

    // full: curation
    let filler = fill(&analysis);
    let e = cv::insert_curation(db, settings, id, &cv::CurationInput::default())
        .unwrap_err()
        .to_string();
    assert!(says_full(&e, &analysis), "curation on a full disk: {e}");
    assert_eq!(count(db, cv::CURATION), 0);
    assert_consistent(db, &analysis, "after a failed curation");
    std::fs::remove_file(&filler).unwrap();
    let row = cv::insert_curation(db, settings, id, &cv::CurationInput::default()).unwrap();
    assert_eq!(row.curation_id, 0);
    assert!(!cv::get_sorting(db, &row.key()).unwrap().is_empty());
    assert_consistent(db, &analysis, "at the end");
}
