//! Populate: a three-level pipeline with part tables, failures that leave nothing
//! behind, suppress_errors, re-populate, the tripartite make's change detection,
//! renamed parents in the key source, and job reservation bookkeeping.

use crate::common::{fresh_db, row};
use spyglass_db::populate::{
    Classic, Make, MakeResult, NoProgress, PopulateOptions, Tripartite, TripartiteMake,
};
use spyglass_db::{Cond, Db, InsertOptions, Row, TableSpec, Tier, Value};

fn pipeline(db: &Db) {
    let d = |spec: TableSpec| db.declare("pipe", &spec).unwrap();
    d(TableSpec::new(
        "Subject",
        Tier::Manual,
        "subject : varchar(8)\n---\nweight : double",
    ));
    d(TableSpec::new(
        "Recording",
        Tier::Manual,
        "-> Subject\nrec : int\n---\nn_samples : int",
    ));
    d(TableSpec::new(
        "Session",
        Tier::Imported,
        "-> Recording\n---\nduration : double",
    )
    .part("Epoch", "-> master\nepoch : int\n---\nlength : double"));
    d(TableSpec::new(
        "Analysis",
        Tier::Computed,
        "-> Session\n---\ntotal : double",
    )
    .part("Piece", "-> master\n-> Session.Epoch\n---\nhalf : double"));
    d(TableSpec::new(
        "Summary",
        Tier::Computed,
        "-> Analysis\n---\nlabel : varchar(32)",
    ));
    let s = |n: &str, w: f64| row(&[("subject", n.into()), ("weight", w.into())]);
    db.insert(
        "pipe.Subject",
        &[s("a", 300.0), s("b", 350.0)],
        InsertOptions::default(),
    )
    .unwrap();
    let r = |n: &str, i: i64, k: i64| {
        row(&[
            ("subject", n.into()),
            ("rec", i.into()),
            ("n_samples", k.into()),
        ])
    };
    db.insert(
        "pipe.Recording",
        &[r("a", 1, 100), r("a", 2, 200), r("b", 1, 300)],
        InsertOptions::default(),
    )
    .unwrap();
}

/// Session: two epochs splitting the samples 40/60.
struct MakeSession;
impl Make for MakeSession {
    fn make(&self, db: &Db, key: &Row) -> MakeResult<()> {
        let rec = db.fetch1(&db.table("pipe.Recording")?.restrict(key)?)?;
        let n = rec
            .get("n_samples")
            .and_then(Value::as_f64)
            .ok_or("no n_samples")?;
        let mut master = key.to_map();
        master.insert("duration".into(), Value::Float(n / 10.0));
        db.insert(
            "pipe.Session",
            &[Row::from_pairs(master)],
            InsertOptions::default(),
        )?;
        let parts: Vec<Row> = [(1, 0.4), (2, 0.6)]
            .iter()
            .map(|(e, f)| {
                let mut m = key.to_map();
                m.insert("epoch".into(), Value::Int(*e));
                m.insert("length".into(), Value::Float(n / 10.0 * f));
                Row::from_pairs(m)
            })
            .collect();
        db.insert("pipe.Session.Epoch", &parts, InsertOptions::default())?;
        Ok(())
    }
}

/// Analysis: total length over epochs, one piece per epoch (half its length).
struct MakeAnalysis;
impl Make for MakeAnalysis {
    fn make(&self, db: &Db, key: &Row) -> MakeResult<()> {
        let epochs = db.fetch(&db.table("pipe.Session.Epoch")?.restrict(key)?)?;
        let total: f64 = epochs
            .iter()
            .map(|e| e.get("length").and_then(Value::as_f64).unwrap_or(0.0))
            .sum();
        let mut m = key.to_map();
        m.insert("total".into(), Value::Float(total));
        db.insert(
            "pipe.Analysis",
            &[Row::from_pairs(m)],
            InsertOptions::default(),
        )?;
        let pieces: Vec<Row> = epochs
            .iter()
            .map(|e| {
                let mut m = key.to_map();
                m.insert(
                    "epoch".into(),
                    e.get("epoch").cloned().unwrap_or(Value::Null),
                );
                m.insert(
                    "half".into(),
                    Value::Float(e.get("length").and_then(Value::as_f64).unwrap_or(0.0) / 2.0),
                );
                Row::from_pairs(m)
            })
            .collect();
        db.insert("pipe.Analysis.Piece", &pieces, InsertOptions::default())?;
        Ok(())
    }
}

/// Summary: fails for subject b when asked to (to test failures).
struct MakeSummary {
    fail_b: bool,
}
impl Make for MakeSummary {
    fn make(&self, db: &Db, key: &Row) -> MakeResult<()> {
        let mut m = key.to_map();
        m.insert(
            "label".into(),
            Value::Str(format!(
                "{}-{}",
                key.get("subject").unwrap().python_str(),
                key.get("rec").unwrap().python_str()
            )),
        );
        db.insert(
            "pipe.Summary",
            &[Row::from_pairs(m)],
            InsertOptions::default(),
        )?;
        if self.fail_b && key.get("subject") == Some(&Value::Str("b".into())) {
            return Err("synthetic failure after inserting the master".into());
        }
        Ok(())
    }
}

fn count(db: &Db, t: &str) -> u64 {
    db.count(&db.table(t).unwrap()).unwrap()
}

fn opts() -> PopulateOptions {
    PopulateOptions::default()
}

#[test]
fn three_level_pipeline_with_parts() {
    let (db, _d) = fresh_db();
    pipeline(&db);
    let r = db
        .populate(
            "pipe.Session",
            &Classic(MakeSession),
            None,
            &opts(),
            &NoProgress,
        )
        .unwrap();
    assert_eq!((r.todo, r.success_count), (3, 3));
    assert_eq!(count(&db, "pipe.Session"), 3);
    assert_eq!(count(&db, "pipe.Session.Epoch"), 6);
    db.populate(
        "pipe.Analysis",
        &Classic(MakeAnalysis),
        None,
        &opts(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(count(&db, "pipe.Analysis"), 3);
    assert_eq!(count(&db, "pipe.Analysis.Piece"), 6);
    // totals: n_samples / 10 (the epochs add up to the whole)
    let a2 = db
        .fetch1(
            &db.table("pipe.Analysis")
                .unwrap()
                .restrict(Cond::map([
                    ("subject", Value::from("a")),
                    ("rec", Value::from(2)),
                ]))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(a2.get("total").unwrap().as_f64(), Some(20.0));
    let piece = db
        .fetch1(
            &db.table("pipe.Analysis.Piece")
                .unwrap()
                .restrict(Cond::map([
                    ("subject", Value::from("b")),
                    ("epoch", Value::from(2)),
                ]))
                .unwrap(),
        )
        .unwrap();
    assert!((piece.get("half").unwrap().as_f64().unwrap() - 9.0).abs() < 1e-12);
    db.populate(
        "pipe.Summary",
        &Classic(MakeSummary { fail_b: false }),
        None,
        &opts(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(count(&db, "pipe.Summary"), 3);
    // re-populate skips keys that are done
    let again = db
        .populate(
            "pipe.Session",
            &Classic(MakeSession),
            None,
            &opts(),
            &NoProgress,
        )
        .unwrap();
    assert_eq!((again.todo, again.success_count), (0, 0));
    assert_eq!(db.progress("pipe.Analysis", None, &[]).unwrap(), (0, 3));
    // new upstream data makes new keys
    db.insert(
        "pipe.Recording",
        &[row(&[
            ("subject", "b".into()),
            ("rec", 2.into()),
            ("n_samples", 50.into()),
        ])],
        InsertOptions::default(),
    )
    .unwrap();
    assert_eq!(db.progress("pipe.Session", None, &[]).unwrap(), (1, 4));
    let r = db
        .populate(
            "pipe.Session",
            &Classic(MakeSession),
            None,
            &opts(),
            &NoProgress,
        )
        .unwrap();
    assert_eq!(r.success_count, 1);
    // restrictions narrow the key source
    let o = PopulateOptions {
        restrictions: vec![Cond::map([("subject", "a")])],
        ..opts()
    };
    let r = db
        .populate(
            "pipe.Analysis",
            &Classic(MakeAnalysis),
            None,
            &o,
            &NoProgress,
        )
        .unwrap();
    assert_eq!(r.todo, 0);
    let r = db
        .populate(
            "pipe.Analysis",
            &Classic(MakeAnalysis),
            None,
            &opts(),
            &NoProgress,
        )
        .unwrap();
    assert_eq!(r.success_count, 1);
}

#[test]
fn failing_make_leaves_nothing_but_an_error_job() {
    let (db, _d) = fresh_db();
    pipeline(&db);
    db.populate(
        "pipe.Session",
        &Classic(MakeSession),
        None,
        &opts(),
        &NoProgress,
    )
    .unwrap();
    db.populate(
        "pipe.Analysis",
        &Classic(MakeAnalysis),
        None,
        &opts(),
        &NoProgress,
    )
    .unwrap();
    let o = PopulateOptions {
        reserve_jobs: true,
        restrictions: vec![Cond::map([("subject", "b")])],
        ..opts()
    };
    let err = db
        .populate(
            "pipe.Summary",
            &Classic(MakeSummary { fail_b: true }),
            None,
            &o,
            &NoProgress,
        )
        .unwrap_err();
    assert!(err.to_string().contains("synthetic failure"), "{err}");
    // the master row inserted before the failure was rolled back
    assert_eq!(count(&db, "pipe.Summary"), 0);
    let jobs = db.jobs("pipe", None).unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].get("status").unwrap().as_str(), Some("error"));
    assert_eq!(
        jobs[0].get("table_name").unwrap().as_str(),
        Some("__summary")
    );
    assert!(jobs[0]
        .get("error_message")
        .unwrap()
        .as_str()
        .unwrap()
        .contains("MakeError: synthetic failure"));
    // with reservation, the errored key is skipped until the error is cleared
    let r = db
        .populate(
            "pipe.Summary",
            &Classic(MakeSummary { fail_b: false }),
            None,
            &PopulateOptions {
                reserve_jobs: true,
                ..opts()
            },
            &NoProgress,
        )
        .unwrap();
    assert_eq!((r.success_count, r.skipped), (2, 1));
    assert_eq!(db.clear_error_jobs("pipe", None).unwrap(), 1);
    let r = db
        .populate(
            "pipe.Summary",
            &Classic(MakeSummary { fail_b: false }),
            None,
            &PopulateOptions {
                reserve_jobs: true,
                ..opts()
            },
            &NoProgress,
        )
        .unwrap();
    assert_eq!(r.success_count, 1);
    assert!(
        db.jobs("pipe", None).unwrap().is_empty(),
        "completed jobs leave no rows"
    );
}

#[test]
fn suppress_errors_carries_on() {
    let (db, _d) = fresh_db();
    pipeline(&db);
    db.insert(
        "pipe.Recording",
        &[row(&[
            ("subject", "b".into()),
            ("rec", 2.into()),
            ("n_samples", 10.into()),
        ])],
        InsertOptions::default(),
    )
    .unwrap();
    db.populate(
        "pipe.Session",
        &Classic(MakeSession),
        None,
        &opts(),
        &NoProgress,
    )
    .unwrap();
    db.populate(
        "pipe.Analysis",
        &Classic(MakeAnalysis),
        None,
        &opts(),
        &NoProgress,
    )
    .unwrap();
    let o = PopulateOptions {
        suppress_errors: true,
        ..opts()
    };
    let r = db
        .populate(
            "pipe.Summary",
            &Classic(MakeSummary { fail_b: true }),
            None,
            &o,
            &NoProgress,
        )
        .unwrap();
    assert_eq!(r.success_count, 2);
    assert_eq!(r.error_list.len(), 2);
    for (key, msg) in &r.error_list {
        assert_eq!(key.get("subject").unwrap().as_str(), Some("b"));
        assert!(msg.contains("synthetic failure"));
    }
    let labels: Vec<String> = db
        .fetch(&db.table("pipe.Summary").unwrap())
        .unwrap()
        .iter()
        .map(|r| r.get("label").unwrap().as_str().unwrap().to_string())
        .collect();
    assert_eq!(labels.len(), 2);
    assert!(labels.iter().all(|l| l.starts_with("a-")));
    // max_calls stops early; order reverse picks the last key first
    let (db2, _d2) = fresh_db();
    pipeline(&db2);
    let r = db2
        .populate(
            "pipe.Session",
            &Classic(MakeSession),
            None,
            &PopulateOptions {
                max_calls: Some(1),
                order: spyglass_db::populate::Order::Reverse,
                ..opts()
            },
            &NoProgress,
        )
        .unwrap();
    assert_eq!(r.success_count, 1);
    let made = db2.fetch1(&db2.table("pipe.Session").unwrap()).unwrap();
    assert_eq!(
        (
            made.get("subject").unwrap().as_str(),
            made.get("rec").unwrap().as_i64()
        ),
        (Some("b"), Some(1))
    );
}

/// Tripartite make that, while computing, lets another connection change the input.
struct Weigh {
    url: String,
    tamper: bool,
}

impl TripartiteMake for Weigh {
    type Fetched = f64;
    type Computed = f64;
    fn make_fetch(&self, db: &Db, key: &Row) -> MakeResult<f64> {
        let s = db.fetch1(&db.table("pipe.Subject")?.restrict(key)?)?;
        Ok(s.get("weight").and_then(Value::as_f64).ok_or("no weight")?)
    }
    fn fingerprint(&self, fetched: &f64) -> Vec<u8> {
        fetched.to_le_bytes().to_vec()
    }
    fn make_compute(&self, key: &Row, w: f64) -> MakeResult<f64> {
        if self.tamper {
            let other = Db::open(&self.url)?;
            let mut m = key.to_map();
            m.insert("weight".into(), Value::Float(w + 1.0));
            other.update1("pipe.Subject", &Row::from_pairs(m))?;
        }
        Ok(w * 2.0)
    }
    fn make_insert(&self, db: &Db, key: &Row, doubled: f64) -> MakeResult<()> {
        let mut m = key.to_map();
        m.insert("doubled".into(), Value::Float(doubled));
        db.insert(
            "pipe.Heavy",
            &[Row::from_pairs(m)],
            InsertOptions::default(),
        )?;
        Ok(())
    }
}

#[test]
fn tripartite_make_notices_changed_inputs() {
    let dir = spyglass_testkit::scratch_dir();
    let url = format!("sqlite:///{}", dir.path().join("t.db").display());
    let db = Db::open(&url).unwrap();
    pipeline(&db);
    db.declare(
        "pipe",
        &TableSpec::new("Heavy", Tier::Computed, "-> Subject\n---\ndoubled : double"),
    )
    .unwrap();
    let o = PopulateOptions {
        suppress_errors: true,
        ..opts()
    };
    let r = db
        .populate(
            "pipe.Heavy",
            &Tripartite(Weigh {
                url: url.clone(),
                tamper: true,
            }),
            None,
            &o,
            &NoProgress,
        )
        .unwrap();
    assert_eq!(r.success_count, 0);
    assert_eq!(r.error_list.len(), 2);
    assert!(
        r.error_list[0].1.contains("Referential integrity failed"),
        "{}",
        r.error_list[0].1
    );
    assert_eq!(count(&db, "pipe.Heavy"), 0);
    // without interference the three phases insert the computed value
    let r = db
        .populate(
            "pipe.Heavy",
            &Tripartite(Weigh { url, tamper: false }),
            None,
            &opts(),
            &NoProgress,
        )
        .unwrap();
    assert_eq!(r.success_count, 2);
    let a = db
        .fetch1(
            &db.table("pipe.Heavy")
                .unwrap()
                .restrict(Cond::map([("subject", "a")]))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        a.get("doubled").unwrap().as_f64(),
        Some(602.0),
        "(300 + 1 from the tampering run) × 2"
    );
}

struct Pair;
impl Make for Pair {
    fn make(&self, db: &Db, key: &Row) -> MakeResult<()> {
        db.insert(
            "pipe.RecPair",
            std::slice::from_ref(key),
            InsertOptions::default(),
        )?;
        Ok(())
    }
}

#[test]
fn key_source_follows_renamed_parents() {
    let (db, _d) = fresh_db();
    pipeline(&db);
    db.declare(
        "pipe",
        &TableSpec::new(
            "RecPair",
            Tier::Computed,
            "-> Recording\n-> Recording.proj(other_rec='rec')",
        ),
    )
    .unwrap();
    let info = db.table_info("pipe.RecPair").unwrap();
    // pairs of recordings of the same subject: a has 2 (4 ordered pairs), b has 1 (1 pair)
    assert_eq!(db.count(&db.key_source(&info).unwrap()).unwrap(), 5);
    let r = db
        .populate("pipe.RecPair", &Classic(Pair), None, &opts(), &NoProgress)
        .unwrap();
    assert_eq!(r.success_count, 5);
    // a table without primary parents has no default key source
    assert!(db
        .key_source(&db.table_info("pipe.Subject").unwrap())
        .is_err());
    // manual tables are not populated
    assert!(db
        .populate("pipe.Recording", &Classic(Pair), None, &opts(), &NoProgress)
        .is_err());
}

#[test]
fn reservations_are_exclusive_and_stale_ones_clear() {
    let (db, _d) = fresh_db();
    pipeline(&db);
    let session = db.table_info("pipe.Session").unwrap().name.clone();
    let key = row(&[("subject", "a".into()), ("rec", 1.into())]);
    assert!(db.reserve_job(&session, &key).unwrap());
    assert!(
        !db.reserve_job(&session, &key).unwrap(),
        "a second reservation of the same key fails"
    );
    // the reservation uses DataJoint's key hash
    let hashes = db.job_hashes(&session).unwrap();
    assert!(hashes.contains(&spyglass_db::key_hash(&key)));
    // a live process's reservation is not stale
    assert_eq!(db.clear_stale_jobs("pipe", None).unwrap(), 0);
    // a dead process's reservation is
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = child.id();
    child.wait().unwrap();
    let t = db
        .dialect()
        .table(&spyglass_db::jobs::jobs_table(&db.schema_name("pipe")));
    db.execute(
        &format!("UPDATE {t} SET `pid`=?"),
        &[spyglass_db::SqlValue::Int(dead_pid as i64)],
    )
    .unwrap();
    assert_eq!(db.clear_stale_jobs("pipe", None).unwrap(), 1);
    assert!(db.reserve_job(&session, &key).unwrap());
    // old reservations clear by age
    db.execute(
        &format!("UPDATE {t} SET `timestamp`='2000-01-01 00:00:00', `pid`=?"),
        &[spyglass_db::SqlValue::Int(std::process::id() as i64)],
    )
    .unwrap();
    assert_eq!(
        db.clear_stale_jobs("pipe", Some(std::time::Duration::from_secs(3600)))
            .unwrap(),
        1
    );
}
