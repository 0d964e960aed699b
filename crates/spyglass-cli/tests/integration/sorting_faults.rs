//! Faults in the spike-sorting v1 chain, on a private MariaDB: `kill -9` of
//! `populate` (SpikeSortingRecording, ArtifactDetection, SpikeSorting) and of
//! `sorting recording materialize` at growing delays leaves either no row or a whole
//! one (its file on disk, its IntervalList row), no file without a row and no row
//! without a file (`spyglass check`'s orphans, and the analysis folder listed against
//! AnalysisNwbfile), and a re-run completes; two `spyglass worker` processes started
//! together make each SpikeSorting key once (one analysis file per key).

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use spyglass_nwb::synthetic::{write_session, SyntheticParams};

const RECORDING: &str = "spikesorting_v1_recording.SpikeSortingRecording";
const ARTIFACT: &str = "spikesorting_v1_artifact.ArtifactDetection";
const SORTING: &str = "spikesorting_v1_sorting.SpikeSorting";
const ANALYSIS: &str = "common_nwbfile.AnalysisNwbfile";

struct Lab {
    dir: tempfile::TempDir,
    url: String,
}

impl Lab {
    fn new() -> Lab {
        Lab {
            dir: spyglass_testkit::scratch_dir(),
            url: spyglass_testkit::fresh_mariadb(),
        }
    }

    fn base(&self) -> PathBuf {
        self.dir.path().join("base")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_spyglass"));
        c.args(["--db", &self.url])
            .args(args)
            .env("SPYGLASS_BASE_DIR", self.base())
            .env("SPYGLASS_USER", "sam")
            .env("HDF5_USE_FILE_LOCKING", "FALSE")
            .env_remove("SPYGLASS_DB")
            .current_dir(self.dir.path());
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().expect("run spyglass");
        let text = crate::common::text(&out);
        assert!(out.status.success(), "spyglass {args:?} failed:\n{text}");
        text
    }

    fn rows(&self, table: &str) -> Vec<Value> {
        let out = self
            .cmd(&["show", table, "--format", "json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", crate::common::text(&out));
        match serde_json::from_slice(&out.stdout) {
            Ok(Value::Array(a)) => a,
            other => panic!("show {table}: {other:?}"),
        }
    }

    /// Starts `args` and kills it (SIGKILL) after `delay`; true when it was still running.
    fn kill_after(&self, args: &[&str], delay: Duration) -> bool {
        let mut child = self
            .cmd(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start spyglass");
        let t0 = Instant::now();
        loop {
            if child.try_wait().unwrap().is_some() {
                return false;
            }
            if t0.elapsed() >= delay {
                let _ = child.kill();
                let _ = child.wait();
                return true;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// The database and the base dir agree: `check` finds no orphan, every analysis
    /// file on disk has its AnalysisNwbfile row and every row its file, and every
    /// row of the sorting tables has its file and its IntervalList row.
    fn assert_consistent(&self, when: &str) {
        let out = self.cmd(&["check", "--format", "json"]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let end = text.rfind('}').map(|i| i + 1).unwrap_or(0);
        let j: Value = serde_json::from_str(&text[..end])
            .unwrap_or_else(|e| panic!("{when}: check: {e}: {}", crate::common::text(&out)));
        for (k, v) in j["orphans"].as_object().unwrap() {
            assert_eq!(v, &serde_json::json!([]), "{when}: orphans {k}: {j}");
        }
        let registered: Vec<String> = self
            .rows(ANALYSIS)
            .iter()
            .map(|r| r["analysis_file_name"].as_str().unwrap().to_string())
            .collect();
        let names: Vec<String> = crate::common::files_under(&self.base().join("analysis"))
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
            .collect();
        // a file its killed writer published but never registered keeps its marker
        // `.<name>~host~pid.pending`
        let marked = |n: &str| {
            !registered.iter().any(|r| r == n)
                && names
                    .iter()
                    .any(|m| m.starts_with(&format!(".{n}~")) && m.ends_with(".pending"))
        };
        let (partial, on_disk): (Vec<String>, Vec<String>) = names.iter().cloned().partition(|n| {
            (n.starts_with('.') && (n.ends_with(".part") || n.ends_with(".pending"))) || marked(n)
        });
        // a killed writer leaves a partial file (or a published file with its
        // marker), named as such and listed apart by check
        assert_eq!(
            partial.len(),
            j["partial_files"].as_array().unwrap().len(),
            "{when}: {partial:?} vs {}",
            j["partial_files"]
        );
        if when.ends_with("completed") {
            assert!(
                partial.is_empty(),
                "{when}: the next writer removes {partial:?}"
            );
        }
        let mut a = registered.clone();
        let mut b = on_disk.clone();
        a.sort();
        b.sort();
        assert_eq!(a, b, "{when}: AnalysisNwbfile rows vs files in analysis/");
        let intervals: Vec<String> = self
            .rows("common_interval.IntervalList")
            .iter()
            .map(|r| r["interval_list_name"].as_str().unwrap().to_string())
            .collect();
        for (table, id) in [
            (RECORDING, "recording_id"),
            (ARTIFACT, "artifact_id"),
            (SORTING, "sorting_id"),
        ] {
            for r in self.rows(table) {
                // ArtifactDetection's result is an IntervalList row, no file
                if let Some(f) = r["analysis_file_name"].as_str() {
                    assert!(registered.iter().any(|x| x == f), "{when}: {table} {r}");
                }
                if table != SORTING {
                    let name = r[id].as_str().unwrap();
                    assert!(intervals.iter().any(|x| x == name), "{when}: {table} {r}");
                }
            }
        }
    }

    /// Kills `args` at growing delays until a run finishes on its own; asserts the
    /// database and files after each kill; returns how many runs were killed.
    fn kill_until_done(&self, args: &[&str]) -> usize {
        let mut killed = 0;
        for ms in [40u64, 90, 160, 250, 400, 650, 1000, 1600, 2500, 4000, 7000] {
            if !self.kill_after(args, Duration::from_millis(ms)) {
                break;
            }
            killed += 1;
            self.assert_consistent(&format!("{args:?} killed after {ms} ms"));
            // reservations of killed processes go, so that a re-run takes their keys
            self.ok(&["jobs", "--clear-stale"]);
        }
        self.ok(args);
        self.assert_consistent(&format!("{args:?} completed"));
        killed
    }
}

fn id_of(out: &str) -> String {
    out.split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .trim_end_matches(':')
        .to_string()
}

/// A session of `seconds`, 8 channels of two tetrodes with four units, ingested, and a
/// recording selection per tetrode; returns the session's name and the recording ids.
fn sorted_lab(lab: &Lab, seconds: f64) -> (String, Vec<String>) {
    let file = lab.dir.path().join("flt20240101.nwb");
    let p = SyntheticParams {
        duration_s: seconds,
        n_channels: 8,
        n_groups: 2,
        n_units: 4,
        seed: 11,
        ..SyntheticParams::default()
    };
    write_session(&file, &p).expect("write the session");
    lab.ok(&["insert", file.to_str().unwrap()]);
    lab.ok(&["defaults"]);
    let nwb = "flt20240101_.nwb".to_string();
    lab.ok(&["sorting", "group-by-shank", &nwb]);
    let recs = (0..2)
        .map(|g| {
            id_of(&lab.ok(&[
                "sorting",
                "recording",
                "select",
                &nwb,
                "--sort-group",
                &g.to_string(),
                "--interval",
                "raw data valid times",
            ]))
        })
        .collect();
    (nwb, recs)
}

#[test]
fn killed_sorting_steps_leave_whole_rows_or_none() {
    let lab = Lab::new();
    let (_, recs) = sorted_lab(&lab, 40.0);
    let mut killed = vec![];
    killed.push(lab.kill_until_done(&["populate", RECORDING]));
    assert_eq!(lab.rows(RECORDING).len(), 2);
    let before: Vec<Value> = lab.rows(RECORDING);
    killed.push(lab.kill_until_done(&["sorting", "recording", "materialize", &recs[0]]));
    let after = lab.rows(RECORDING);
    let row = |rows: &[Value]| {
        rows.iter()
            .find(|r| r["recording_id"] == recs[0].as_str())
            .unwrap()
            .clone()
    };
    let (b, a) = (row(&before), row(&after));
    assert_ne!(a["analysis_file_name"], b["analysis_file_name"], "{a}");
    // `hash` is the NWB file hash of the row's file: the materialized file's now
    assert_ne!(a["hash"], b["hash"], "{a}");
    assert_eq!(a["hash"].as_str().map(str::len), Some(32), "{a}");
    assert!(
        !a["electrodes_id"].as_str().unwrap_or_default().is_empty(),
        "{a}"
    );
    // the recipe-only file the materialized one replaced is gone with its row
    let old = b["analysis_file_name"].as_str().unwrap();
    assert!(
        !lab.rows(ANALYSIS)
            .iter()
            .any(|r| r["analysis_file_name"] == old),
        "{old} is left"
    );
    for rec in &recs {
        lab.ok(&["sorting", "artifact", "select", rec, "--params", "none"]);
    }
    killed.push(lab.kill_until_done(&["populate", ARTIFACT]));
    for a in lab.rows("spikesorting_v1_artifact.ArtifactDetectionSelection") {
        let (rec, artifact) = (
            a["recording_id"].as_str().unwrap(),
            a["artifact_id"].as_str().unwrap(),
        );
        lab.ok(&[
            "sorting",
            "select",
            rec,
            "--interval",
            artifact,
            "--sorter",
            "spyglass_sorter",
            "--params",
            "default",
        ]);
    }
    killed.push(lab.kill_until_done(&["populate", SORTING]));
    assert_eq!(lab.rows(SORTING).len(), 2);
    eprintln!("runs killed (recording, materialize, artifact, sorting): {killed:?}");
    assert!(
        killed.iter().all(|&k| k >= 1),
        "every step was killed at least once while running: {killed:?}"
    );
}

#[test]
fn two_workers_make_each_sorting_once() {
    let lab = Lab::new();
    let (_, recs) = sorted_lab(&lab, 20.0);
    lab.ok(&["populate", RECORDING]);
    for rec in &recs {
        lab.ok(&["sorting", "artifact", "select", rec, "--params", "none"]);
    }
    lab.ok(&["populate", ARTIFACT]);
    // four keys: each tetrode with the clusterless thresholder and spyglass_sorter
    for a in lab.rows("spikesorting_v1_artifact.ArtifactDetectionSelection") {
        let rec = a["recording_id"].as_str().unwrap();
        let artifact = a["artifact_id"].as_str().unwrap();
        for (sorter, params) in [
            ("clusterless_thresholder", "default_clusterless"),
            ("spyglass_sorter", "default"),
        ] {
            lab.ok(&[
                "sorting",
                "select",
                rec,
                "--interval",
                artifact,
                "--sorter",
                sorter,
                "--params",
                params,
            ]);
        }
    }
    let files_before = lab.rows(ANALYSIS).len();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            lab.cmd(&["worker", SORTING])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut made = 0;
    for w in workers {
        let out = w.wait_with_output().unwrap();
        let text = crate::common::text(&out);
        assert!(out.status.success(), "{text}");
        let n: usize = text
            .split("made ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{text}"));
        eprintln!("a worker made {n} keys");
        made += n;
    }
    assert_eq!(made, 4, "each key made once");
    assert_eq!(lab.rows(SORTING).len(), 4);
    assert_eq!(
        lab.rows(ANALYSIS).len(),
        files_before + 4,
        "one file per key"
    );
    lab.assert_consistent("after two workers");
}
