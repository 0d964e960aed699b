//! element-array-ephys interop (issue 18): on a private MariaDB, Python declares the
//! Brody lab's `bl_new_` schemas through element-array-ephys's `activate` (prefix from
//! `dj_local_conf.json`); spyglass-rs's own declaration of the same tables under another
//! prefix has equal columns, keys, comments and foreign keys; spyglass-rs ingests a
//! Kilosort folder (SpikeInterface's `export_to_phy`, and a Kilosort 2.5-style file set)
//! for one session / insertion, element-array-ephys populates another from the same
//! folder, and the rows (EphysRecording, Clustering, Curation, CuratedClustering.Unit
//! with spike times, sites, depths) are equal; Python fetches ours without error.

use serde_json::Value as J;
use spyglass::elements::ephys_chronic::{self as eph, IngestInput};
use spyglass::elements::upstream;
use spyglass_db::{Db, Row, SqlValue, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const PREFIX: &str = "bl_new_";

fn oracle(url: &str, workdir: &Path, args: &[&str]) -> String {
    let script =
        spyglass_testkit::workspace_root().join("crates/spyglass/tests/py/elements_oracle.py");
    let out = Command::new(spyglass_testkit::elements_python())
        .arg(script)
        .arg(url)
        .args(args)
        .current_dir(workdir)
        .output()
        .expect("start the element-array-ephys oracle");
    assert!(
        out.status.success(),
        "element-array-ephys oracle failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn folders(root: &Path) {
    spyglass_testkit::run_python(
        include_str!("../../../spyglass-kilosort/tests/py/make_folders.py"),
        &[root.to_str().unwrap(), "11"],
    );
}

fn columns(db: &Db, schema: &str) -> Vec<Vec<String>> {
    let rows = db
        .query_raw(
            "SELECT c.table_name, c.column_name, c.column_type, c.is_nullable, \
             IFNULL(c.column_default, '<null>'), c.column_comment, c.column_key, t.table_comment \
             FROM information_schema.columns c JOIN information_schema.tables t \
             ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
             WHERE c.table_schema = ? AND c.table_name NOT LIKE '~%' ORDER BY c.table_name, c.ordinal_position",
            &[SqlValue::Text(schema.into())],
        )
        .unwrap();
    rows.into_iter()
        .map(|r| r.into_iter().map(|v| sql_text(&v)).collect())
        .collect()
}

fn foreign_keys(db: &Db, schema: &str, prefix: &str) -> Vec<Vec<String>> {
    let rows = db
        .query_raw(
            "SELECT table_name, column_name, referenced_table_schema, referenced_table_name, \
             referenced_column_name FROM information_schema.key_column_usage \
             WHERE table_schema = ? AND referenced_table_name IS NOT NULL \
             ORDER BY table_name, column_name, referenced_table_name",
            &[SqlValue::Text(schema.into())],
        )
        .unwrap();
    rows.into_iter()
        .map(|r| {
            r.into_iter()
                .map(|v| sql_text(&v).trim_start_matches(prefix).to_string())
                .collect()
        })
        .collect()
}

fn sql_text(v: &SqlValue) -> String {
    match v {
        SqlValue::Text(s) => s.clone(),
        SqlValue::Bytes(b) => String::from_utf8_lossy(b).to_string(),
        SqlValue::Int(i) => i.to_string(),
        SqlValue::UInt(u) => u.to_string(),
        SqlValue::Float(f) => f.to_string(),
        SqlValue::Null => "NULL".into(),
    }
}

fn floats(v: &J) -> Option<Vec<f64>> {
    let b: Option<Vec<u64>> = serde_json::from_value(v.clone()).unwrap();
    b.map(|b| b.into_iter().map(f64::from_bits).collect())
}

fn compare_sessions(got: &J, label_map: &dyn Fn(&str) -> String) {
    let (ours, theirs) = (&got["ours"], &got["theirs"]);
    // EphysRecording: all but the key
    let strip = |r: &J| {
        let mut m = r.as_object().unwrap().clone();
        for k in [
            "subject",
            "session_datetime",
            "insertion_number",
            "recording_datetime",
        ] {
            m.remove(k);
        }
        m
    };
    assert_eq!(strip(&ours["recording"][0]), strip(&theirs["recording"][0]));
    assert_eq!(ours["clustering"], theirs["clustering"]);
    assert_eq!(ours["curation"], theirs["curation"]);
    let (ou, tu) = (
        ours["units"].as_array().unwrap(),
        theirs["units"].as_array().unwrap(),
    );
    assert_eq!(ou.len(), tu.len());
    assert!(!ou.is_empty());
    for (a, b) in ou.iter().zip(tu) {
        for k in [
            "unit",
            "electrode",
            "electrode_config_hash",
            "spike_count",
            "spike_sites",
            "spike_times_dtype",
        ] {
            assert_eq!(a[k], b[k], "{k} of unit {}", a["unit"]);
        }
        assert_eq!(
            a["label"].as_str().unwrap(),
            label_map(b["label"].as_str().unwrap())
        );
        assert_eq!(
            floats(&a["spike_times"]),
            floats(&b["spike_times"]),
            "unit {}",
            a["unit"]
        );
        let (da, db_) = (
            floats(&a["spike_depths"]).unwrap(),
            floats(&b["spike_depths"]).unwrap(),
        );
        assert_eq!(da.len(), db_.len());
        for (x, y) in da.iter().zip(&db_) {
            assert!(
                (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-6 * y.abs().max(1.0),
                "depth {x} vs {y}"
            );
        }
    }
}

#[test]
fn kilosort_folders_equal_element_array_ephys() {
    let scratch = spyglass_testkit::scratch_dir();
    let root: PathBuf = scratch.path().join("data");
    std::fs::create_dir_all(&root).unwrap();
    folders(&root);
    let work = scratch.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let conf = format!(r#"{{"custom": {{"database.prefix": "{PREFIX}"}}}}"#);
    std::fs::write(work.join("dj_local_conf.json"), &conf).unwrap();
    let url = spyglass_testkit::fresh_mariadb();

    // Python declares the bl_new_ schemas
    assert_eq!(oracle(&url, &work, &["declare"]).trim(), "declared");

    // our declaration of the same tables, under another prefix, is equal
    let cfg = spyglass_db::config::parse_dj_config(&conf).unwrap();
    assert_eq!(cfg.prefix, PREFIX);
    let mine = Db::open(&url).unwrap();
    mine.set_prefix("ours_");
    spyglass::pipelines::declare(&mine, &[eph::NAME]).unwrap();
    for schema in ["lab", "subject", "session", "probe", "ephys"] {
        let (a, b) = (format!("ours_{schema}"), format!("{PREFIX}{schema}"));
        let ours = columns(&mine, &a);
        let theirs = columns(&mine, &b);
        assert!(!ours.is_empty());
        // element-lab/animal/session declare more tables than element-array-ephys needs
        for row in &ours {
            assert!(theirs.contains(row), "{a}: {row:?} differs from {b}");
        }
        let tables: std::collections::BTreeSet<&String> = ours.iter().map(|r| &r[0]).collect();
        let theirs_same: Vec<&Vec<String>> =
            theirs.iter().filter(|r| tables.contains(&r[0])).collect();
        assert_eq!(
            ours.len(),
            theirs_same.len(),
            "{schema}: column sets differ"
        );
        let fo = foreign_keys(&mine, &a, "ours_");
        let ft = foreign_keys(&mine, &b, PREFIX);
        for row in &fo {
            assert!(ft.contains(row), "{a}: foreign key {row:?} not in {b}");
        }
    }

    // spyglass-rs ingests into the Python-declared schemas
    let db = Db::open(&url).unwrap();
    db.set_prefix(&cfg.prefix);
    db.insert(
        upstream::SUBJECT,
        &[Row::from_pairs([
            ("subject", Value::from("rat01")),
            ("sex", Value::from("U")),
            (
                "subject_birth_date",
                Value::Date(chrono::NaiveDate::from_ymd_opt(2023, 5, 1).unwrap()),
            ),
        ])],
        Default::default(),
    )
    .unwrap();
    let dt = |d: u32| {
        chrono::NaiveDate::from_ymd_opt(2024, 1, d)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap()
    };
    for (folder, ours_n, theirs_n, core046) in [("ks25", 1u8, 2u8, false), ("si", 3, 4, true)] {
        let input = IngestInput {
            folder: root.join(folder),
            subject: "rat01".into(),
            session_datetime: dt(u32::from(ours_n)),
            insertion_number: ours_n,
            probe: "SN001".into(),
            probe_type: "ks-8ch".into(),
            acq_software: "SpikeGLX".into(),
            clustering_method: "kilosort2.5".into(),
            paramset_idx: None,
            recording_duration: Some(8.0),
            root_dir: Some(root.clone()),
            curation_note: String::new(),
        };
        let out = eph::ingest_kilosort(&db, &input).unwrap();
        assert_eq!(out.units, 5);
        let cfg_json = serde_json::json!({
            "root": root,
            "core046": core046,
            "probe_type": "ks-8ch",
            "probe": "SN001",
            "acq_software": "SpikeGLX",
            "method": "kilosort2.5",
            "duration": 8.0,
            "output_dir": folder,
            "ours": {"subject": "rat01", "session_datetime": dt(u32::from(ours_n)).to_string(),
                     "insertion_number": ours_n, "paramset_idx": out.curation.paramset_idx},
            "theirs": {"subject": "rat01", "session_datetime": dt(u32::from(theirs_n)).to_string(),
                       "insertion_number": theirs_n},
        });
        let got: J = serde_json::from_str(&oracle(
            &url,
            &work,
            &[
                "populate",
                root.join(folder).to_str().unwrap(),
                &cfg_json.to_string(),
            ],
        ))
        .unwrap();
        // element-array-ephys's dict_to_uuid of the params equals the hash we stored
        let hashes = got["stored_hashes"].as_array().unwrap();
        assert_eq!(hashes.len(), 1, "{hashes:?}");
        assert_eq!(hashes[0], got["param_set_hash"]);
        compare_sessions(&got, &|l: &str| {
            if l == "unsorted" {
                "n.a.".into()
            } else {
                l.into()
            }
        });
    }
}

#[test]
fn ingest_errors_name_the_table_and_file() {
    let scratch = spyglass_testkit::scratch_dir();
    let root = scratch.path().join("data");
    std::fs::create_dir_all(&root).unwrap();
    folders(&root);
    let db = Db::open(&spyglass_testkit::mysql_url()).unwrap();
    db.set_prefix(&spyglass_testkit::unique_prefix());
    let mut input = IngestInput {
        folder: root.join("si"),
        subject: "nobody".into(),
        session_datetime: chrono::NaiveDate::from_ymd_opt(2024, 2, 1)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap(),
        insertion_number: 0,
        probe: "SN9".into(),
        probe_type: "ks-8ch".into(),
        acq_software: "Trodes".into(),
        clustering_method: "kilosort2.5".into(),
        paramset_idx: None,
        recording_duration: Some(8.0),
        root_dir: None,
        curation_note: String::new(),
    };
    let e = eph::ingest_kilosort(&db, &input).unwrap_err().to_string();
    assert!(e.contains("subject.Subject") && e.contains("nobody"), "{e}");
    db.insert(
        upstream::SUBJECT,
        &[Row::from_pairs([
            ("subject", Value::from("nobody")),
            ("sex", Value::from("F")),
            (
                "subject_birth_date",
                Value::Date(chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap()),
            ),
        ])],
        Default::default(),
    )
    .unwrap();
    // no raw file and no duration given
    input.recording_duration = None;
    let e = eph::ingest_kilosort(&db, &input).unwrap_err().to_string();
    assert!(e.contains("recording-duration"), "{e}");
    input.recording_duration = Some(8.0);
    input.clustering_method = "mountainsort".into();
    let e = eph::ingest_kilosort(&db, &input).unwrap_err().to_string();
    assert!(
        e.contains("mountainsort") && e.contains("ClusteringMethod"),
        "{e}"
    );
    input.clustering_method = "kilosort2.5".into();
    // a new acquisition software is added to the Lookup; the ingest then succeeds
    let out = eph::ingest_kilosort(&db, &input).unwrap();
    assert_eq!(out.units, 5);
    assert_eq!(out.curation.curation_id, 1);
    // the same probe under another type is a conflict
    input.insertion_number = 1;
    input.probe_type = "other".into();
    let e = eph::ingest_kilosort(&db, &input).unwrap_err().to_string();
    assert!(e.contains("probe.Probe") && e.contains("SN9"), "{e}");
    // a folder without its core files: every missing file listed
    input.probe_type = "ks-8ch".into();
    std::fs::remove_file(root.join("si/templates.npy")).unwrap();
    std::fs::remove_file(root.join("si/amplitudes.npy")).unwrap();
    let e = eph::ingest_kilosort(&db, &input).unwrap_err().to_string();
    assert!(e.contains("amplitudes.npy, templates.npy"), "{e}");
}
