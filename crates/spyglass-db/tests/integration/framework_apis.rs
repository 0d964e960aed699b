//! The small typed APIs the framework uses instead of writing SQL: a transaction
//! with the caller's error type, leaf-row deletes, column reads (maximum, distinct
//! values), the connection's account and server version, `~jobs` entries, rows no
//! child refers to, and the paths an external store tracks. Expected values are
//! the rows each test inserts, worked out by hand.

use crate::common::{filepath_table, fresh_db, row};
use spyglass_db::jobs::JobStatus;
use spyglass_db::references::Referrers;
use spyglass_db::stores::StoreConfig;
use spyglass_db::{
    Cond, Db, Error, FullName, InsertOptions, Row, TableSpec, Tier, Value, WriteKind,
};
use std::sync::{Arc, Mutex};

fn count(db: &Db, t: &str) -> u64 {
    db.count(&db.table(t).unwrap()).unwrap()
}

fn mice(db: &Db) {
    db.declare(
        "tx",
        &TableSpec::new(
            "Mouse",
            Tier::Manual,
            "mouse_id : int\n---\nname : varchar(20)",
        ),
    )
    .unwrap();
}

fn insert_mouse(db: &Db, id: i64) -> Result<u64, Error> {
    db.insert1(
        "tx.Mouse",
        row(&[("mouse_id", Value::from(id)), ("name", Value::from("m"))]),
        InsertOptions::default(),
    )
}

/// A caller's error type: its own failures, and the engine's.
#[derive(Debug)]
enum AppError {
    Rejected { code: u32, why: String },
    Db(Error),
}

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        AppError::Db(e)
    }
}

#[test]
fn transaction_with_returns_the_callers_error_unchanged_and_rolls_back() {
    let (db, _d) = fresh_db();
    mice(&db);
    let r: Result<(), AppError> = db.transaction_with(|| {
        insert_mouse(&db, 1)?;
        Err(AppError::Rejected {
            code: 7,
            why: "not today".into(),
        })
    });
    match r {
        Err(AppError::Rejected { code, why }) => {
            assert_eq!(code, 7);
            assert_eq!(why, "not today");
        }
        other => panic!("expected the caller's error, got {other:?}"),
    }
    assert_eq!(count(&db, "tx.Mouse"), 0, "the insert was rolled back");
    assert!(!db.in_transaction());
}

#[test]
fn transaction_with_commits_on_ok_and_converts_engine_errors() {
    let (db, _d) = fresh_db();
    mice(&db);
    let n: Result<u64, AppError> = db.transaction_with(|| {
        assert!(db.in_transaction());
        Ok(insert_mouse(&db, 1)? + insert_mouse(&db, 2)?)
    });
    assert_eq!(n.unwrap(), 2);
    assert_eq!(count(&db, "tx.Mouse"), 2);
    // a duplicate key inside: the engine's error arrives through From, and the
    // first insert of the transaction is undone
    let r: Result<(), AppError> = db.transaction_with(|| {
        insert_mouse(&db, 3)?;
        insert_mouse(&db, 1)?;
        Ok(())
    });
    assert!(
        matches!(r, Err(AppError::Db(Error::Duplicate { .. }))),
        "{r:?}"
    );
    assert_eq!(count(&db, "tx.Mouse"), 2);
}

#[test]
fn nested_transaction_with_joins_the_outer_one() {
    let (db, _d) = fresh_db();
    mice(&db);
    // the inner call's error, passed up by the outer closure, undoes both inserts
    let r: Result<(), AppError> = db.transaction_with(|| {
        insert_mouse(&db, 1)?;
        db.transaction_with(|| {
            insert_mouse(&db, 2)?;
            Err(AppError::Rejected {
                code: 1,
                why: "inner".into(),
            })
        })
    });
    assert!(matches!(r, Err(AppError::Rejected { code: 1, .. })));
    assert_eq!(count(&db, "tx.Mouse"), 0);
    // an inner success commits only with the outer one
    let r: Result<(), AppError> = db.transaction_with(|| {
        db.transaction_with(|| insert_mouse(&db, 4).map(|_| ()))?;
        assert!(
            db.in_transaction(),
            "the inner call left the transaction open"
        );
        insert_mouse(&db, 5)?;
        Ok(())
    });
    r.unwrap();
    assert_eq!(count(&db, "tx.Mouse"), 2);
    // the engine's own `transaction` keeps its behaviour
    let r = db.transaction(|| {
        insert_mouse(&db, 6)?;
        Err::<(), _>(Error::Refused("stop".into()))
    });
    assert!(matches!(r, Err(Error::Refused(m)) if m == "stop"));
    assert_eq!(count(&db, "tx.Mouse"), 2);
}

/// `Parent(pid)` with rows 1, 2, 3, and `Child` rows referring to parent 1.
fn parent_and_child(db: &Db) {
    db.declare(
        "leaf",
        &TableSpec::new(
            "Parent",
            Tier::Manual,
            "pid : int\n---\nlabel : varchar(10)",
        ),
    )
    .unwrap();
    db.declare(
        "leaf",
        &TableSpec::new("Child", Tier::Manual, "-> Parent\ncid : int"),
    )
    .unwrap();
    let parents: Vec<Row> = [(1, "a"), (2, "b"), (3, "c")]
        .iter()
        .map(|(p, l)| row(&[("pid", Value::from(*p)), ("label", Value::from(*l))]))
        .collect();
    db.insert("leaf.Parent", &parents, InsertOptions::default())
        .unwrap();
    db.insert(
        "leaf.Child",
        &[
            row(&[("pid", 1.into()), ("cid", 1.into())]),
            row(&[("pid", 1.into()), ("cid", 2.into())]),
        ],
        InsertOptions::default(),
    )
    .unwrap();
}

fn pids(db: &Db) -> Vec<i64> {
    let mut out: Vec<i64> = db
        .fetch(&db.table("leaf.Parent").unwrap())
        .unwrap()
        .iter()
        .map(|r| r.get("pid").and_then(Value::as_i64).unwrap())
        .collect();
    out.sort();
    out
}

#[test]
fn delete_rows_deletes_only_the_matching_rows_without_a_cascade() {
    let (db, _d) = fresh_db();
    parent_and_child(&db);
    assert_eq!(
        db.delete_rows("leaf.Parent", Cond::map([("pid", 3)]))
            .unwrap(),
        1
    );
    assert_eq!(pids(&db), [1, 2]);
    // nothing matches: nothing deleted
    assert_eq!(
        db.delete_rows("leaf.Parent", Cond::map([("pid", 9)]))
            .unwrap(),
        0
    );
    // a referenced row is refused by the database, not cascaded
    let e = db
        .delete_rows("leaf.Parent", Cond::map([("pid", 1)]))
        .unwrap_err();
    assert!(matches!(e, Error::ForeignKey { .. }), "{e}");
    assert_eq!(pids(&db), [1, 2]);
    assert_eq!(count(&db, "leaf.Child"), 2);
    // several attributes, an SQL restriction, and a whole leaf table
    assert_eq!(
        db.delete_rows(
            "leaf.Child",
            Cond::map([("pid", Value::from(1)), ("cid", Value::from(2))])
        )
        .unwrap(),
        1
    );
    assert_eq!(db.delete_rows("leaf.Parent", "pid > 1").unwrap(), 1);
    assert_eq!(pids(&db), [1]);
    assert_eq!(db.delete_rows("leaf.Child", Cond::Bool(true)).unwrap(), 1);
    assert_eq!(count(&db, "leaf.Child"), 0);
    // each delete is in the schema's ~log, as DataJoint logs deletes
    let log = db
        .query_of(&FullName::new(db.schema_name("leaf"), "~log"))
        .unwrap();
    let deletes = db
        .fetch(&log)
        .unwrap()
        .iter()
        .filter(|r| {
            r.get("event")
                .and_then(Value::as_str)
                .is_some_and(|e| e.starts_with("DELETE FROM"))
        })
        .count();
    assert_eq!(deletes, 4);
}

#[test]
fn delete_rows_refuses_unknown_attributes_instead_of_deleting_everything() {
    let (db, _d) = fresh_db();
    parent_and_child(&db);
    // a query would ignore `pidd`; a delete must not widen to the whole table
    for cond in [
        Cond::map([("pidd", 2)]),
        Cond::And(vec![Cond::Bool(true), Cond::map([("pidd", 2)])]),
        !Cond::map([("labl", "b")]),
    ] {
        let e = db.delete_rows("leaf.Parent", cond).unwrap_err();
        assert!(
            matches!(&e, Error::UnknownAttribute { attribute, .. } if attribute == "pidd" || attribute == "labl"),
            "{e}"
        );
    }
    assert_eq!(pids(&db), [1, 2, 3]);
    assert!(matches!(
        db.delete_rows("leaf.Nothing", Cond::Bool(true)),
        Err(Error::UnknownTable(_))
    ));
}

/// What a write guard was asked: the table's class, the kind of write, the rows.
type GuardCall = (String, WriteKind, Vec<Row>);

#[test]
fn delete_rows_asks_the_write_guard_with_the_keys() {
    let (db, _d) = fresh_db();
    parent_and_child(&db);
    let seen: Arc<Mutex<Vec<GuardCall>>> = Arc::default();
    let log = seen.clone();
    db.set_write_guard(Some(Arc::new(
        move |_: &Db, info: &spyglass_db::TableInfo, kind: WriteKind, rows: &[Row]| {
            log.lock()
                .unwrap()
                .push((info.name.class_name(), kind, rows.to_vec()));
            if rows
                .iter()
                .any(|r| r.get("pid").and_then(Value::as_i64) == Some(2))
            {
                return Err(Error::Refused("parent 2 is protected".into()));
            }
            Ok(())
        },
    )));
    let e = db.delete_rows("leaf.Parent", "pid >= 2").unwrap_err();
    assert!(matches!(&e, Error::Refused(m) if m == "parent 2 is protected"));
    assert_eq!(pids(&db), [1, 2, 3], "a refused delete deletes nothing");
    assert_eq!(db.delete_rows("leaf.Parent", "pid = 3").unwrap(), 1);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].0, "Parent");
    assert_eq!(seen[0].1, WriteKind::Delete);
    let keys: Vec<Option<i64>> = seen[0]
        .2
        .iter()
        .map(|r| r.get("pid").and_then(Value::as_i64))
        .collect();
    assert_eq!(keys.len(), 2);
    assert!(keys.contains(&Some(2)) && keys.contains(&Some(3)));
    // the guard sees primary keys only
    assert_eq!(seen[1].2, vec![row(&[("pid", 3.into())])]);
}

fn measurements(db: &Db) {
    db.declare(
        "col",
        &TableSpec::new(
            "Reading",
            Tier::Manual,
            "reading_id : int\n---\nsite = null : varchar(10)\nlevel = null : int\nraw = null : longblob",
        ),
    )
    .unwrap();
}

fn reading(id: i64, site: Option<&str>, level: Option<i64>) -> Row {
    row(&[
        ("reading_id", id.into()),
        ("site", site.map(Value::from).unwrap_or(Value::Null)),
        ("level", level.map(Value::from).unwrap_or(Value::Null)),
    ])
}

#[test]
fn max_of_and_distinct_values_read_one_column() {
    let (db, _d) = fresh_db();
    measurements(&db);
    let all = db.table("col.Reading").unwrap();
    assert_eq!(db.max_of(&all, "level").unwrap(), None, "no rows");
    assert_eq!(
        db.distinct_values(&all, "site").unwrap(),
        Vec::<Value>::new()
    );
    db.insert(
        "col.Reading",
        &[
            reading(1, Some("b"), Some(3)),
            reading(2, Some("a"), Some(10)),
            reading(3, Some("b"), Some(7)),
            reading(4, None, None),
            reading(5, Some("c"), Some(-2)),
        ],
        InsertOptions::default(),
    )
    .unwrap();
    assert_eq!(db.max_of(&all, "level").unwrap(), Some(Value::Int(10)));
    assert_eq!(db.max_of(&all, "reading_id").unwrap(), Some(Value::Int(5)));
    assert_eq!(db.max_of(&all, "site").unwrap(), Some(Value::from("c")));
    // over a restriction
    let b = all.restrict(Cond::map([("site", "b")])).unwrap();
    assert_eq!(db.max_of(&b, "level").unwrap(), Some(Value::Int(7)));
    // only NULLs: no maximum
    let none = all.restrict(Cond::map([("reading_id", 4)])).unwrap();
    assert_eq!(db.max_of(&none, "level").unwrap(), None);
    assert_eq!(
        db.distinct_values(&all, "site").unwrap(),
        vec![Value::from("a"), Value::from("b"), Value::from("c")]
    );
    assert_eq!(
        db.distinct_values(&b, "level").unwrap(),
        vec![Value::Int(3), Value::Int(7)]
    );
    // unknown attributes and unordered types are errors
    assert!(matches!(
        db.max_of(&all, "levle"),
        Err(Error::UnknownAttribute { .. })
    ));
    let e = db.distinct_values(&all, "raw").unwrap_err();
    assert!(e.to_string().contains("`raw`"), "{e}");
}

#[test]
fn server_version_and_current_account() {
    let (db, _d) = fresh_db();
    let version = db.server_version().unwrap();
    match db.dialect() {
        spyglass_db::dialect::Dialect::Sqlite => {
            // the library the engine links, as rusqlite reports it
            assert_eq!(version, rusqlite::version());
            assert_eq!(db.current_account().unwrap(), None);
        }
        spyglass_db::dialect::Dialect::Mysql => {
            let numbers: Vec<&str> = version.split(['.', '-']).take(3).collect();
            assert!(
                numbers.iter().all(|n| n.parse::<u32>().is_ok()),
                "{version}"
            );
            // the account is the URL's user at some host pattern
            let url = spyglass_testkit::mysql_url();
            let user = url
                .trim_start_matches("mysql://")
                .split(['@', ':'])
                .next()
                .unwrap()
                .to_string();
            let account = db.current_account().unwrap().unwrap();
            assert!(account.starts_with(&format!("{user}@")), "{account}");
        }
    }
}

#[test]
fn job_entries_read_every_row_of_jobs() {
    let (db, _d) = fresh_db();
    db.declare(
        "work",
        &TableSpec::new("Session", Tier::Manual, "session : int"),
    )
    .unwrap();
    assert_eq!(
        db.job_entries("work").unwrap(),
        vec![],
        "no ~jobs table yet"
    );
    let table = db.table_info("work.Session").unwrap().name.clone();
    let (k1, k2) = (row(&[("session", 1.into())]), row(&[("session", 2.into())]));
    let before = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(5);
    assert!(db.reserve_job(&table, &k1).unwrap());
    db.error_job(&table, &k2, "it broke", "stack").unwrap();
    let after = chrono::Utc::now().naive_utc() + chrono::Duration::seconds(5);
    let mut jobs = db.job_entries("work").unwrap();
    jobs.sort_by_key(|j| j.status == JobStatus::Error);
    assert_eq!(jobs.len(), 2);
    let (reserved, failed) = (&jobs[0], &jobs[1]);
    assert_eq!(reserved.status, JobStatus::Reserved);
    assert_eq!(reserved.table_name, "session");
    assert_eq!(reserved.key_hash, spyglass_db::key_hash(&k1));
    assert_eq!(reserved.pid, i64::from(std::process::id()));
    assert_eq!(reserved.host, spyglass_db::config::hostname());
    assert_eq!(reserved.error_message, "");
    let at = reserved.timestamp.expect("a timestamp");
    assert!(
        before <= at && at <= after,
        "{at} not within the test's run"
    );
    assert_eq!(failed.status, JobStatus::Error);
    assert_eq!(failed.key_hash, spyglass_db::key_hash(&k2));
    assert_eq!(failed.error_message, "it broke");
    // staleness: a live process's fresh reservation is not stale, an old one is;
    // failed jobs never are
    let now = chrono::Utc::now().naive_utc();
    let hour = std::time::Duration::from_secs(3600);
    assert!(!reserved.is_stale(now, Some(hour)));
    assert!(reserved.is_stale(now + chrono::Duration::hours(2), Some(hour)));
    assert!(!reserved.is_stale(now + chrono::Duration::hours(2), None));
    assert!(!failed.is_stale(now + chrono::Duration::hours(2), Some(hour)));
    // a reservation of a process that has exited is stale on this host
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = spyglass_db::jobs::JobEntry {
        pid: i64::from(child.id()),
        ..reserved.clone()
    };
    child.wait().unwrap();
    assert!(dead.is_stale(now, None));
    let elsewhere = spyglass_db::jobs::JobEntry {
        host: format!("not-{}", dead.host),
        ..dead.clone()
    };
    assert!(
        !elsewhere.is_stale(now, None),
        "other hosts' processes are not ours to judge"
    );
}

/// Files, three kinds of referrers (a plain secondary foreign key, a renamed nullable
/// one, a part table), a master with a part and another child, and a two-column key.
fn references(db: &Db) {
    let decl = |spec: TableSpec| {
        db.declare("refs", &spec)
            .unwrap_or_else(|e| panic!("{}: {e}", spec.class_name))
    };
    decl(TableSpec::new("File", Tier::Manual, "fname : varchar(20)"));
    decl(TableSpec::new(
        "UsesA",
        Tier::Manual,
        "a_id : int\n---\n-> File",
    ));
    decl(TableSpec::new(
        "UsesB",
        Tier::Manual,
        "b_id : int\n---\n-> [nullable] File.proj(other='fname')",
    ));
    decl(
        TableSpec::new("Merge", Tier::Manual, "mid : int").part("Part", "-> master\n---\n-> File"),
    );
    decl(TableSpec::new("Downstream", Tier::Manual, "-> Merge"));
    decl(TableSpec::new("Pair", Tier::Manual, "a : int\nb : int"));
    decl(TableSpec::new("PairUse", Tier::Manual, "-> Pair\nu : int"));
    let ins = |t: &str, rows: Vec<Row>| {
        db.insert(&format!("refs.{t}"), &rows, InsertOptions::default())
            .unwrap_or_else(|e| panic!("{t}: {e}"))
    };
    ins(
        "File",
        ["f1", "f2", "f3", "f4", "f5"]
            .iter()
            .map(|f| row(&[("fname", Value::from(*f))]))
            .collect(),
    );
    ins(
        "UsesA",
        vec![row(&[("a_id", 1.into()), ("fname", "f1".into())])],
    );
    ins(
        "UsesB",
        vec![
            row(&[("b_id", 1.into()), ("other", "f2".into())]),
            row(&[("b_id", 2.into()), ("other", Value::Null)]),
        ],
    );
    ins(
        "Merge",
        (1..=3).map(|m| row(&[("mid", Value::from(m))])).collect(),
    );
    ins(
        "Merge.Part",
        vec![row(&[("mid", 1.into()), ("fname", "f3".into())])],
    );
    ins("Downstream", vec![row(&[("mid", 2.into())])]);
    ins(
        "Pair",
        [(1, 1), (1, 2), (2, 1)]
            .iter()
            .map(|(a, b)| row(&[("a", Value::from(*a)), ("b", Value::from(*b))]))
            .collect(),
    );
    ins(
        "PairUse",
        vec![row(&[("a", 1.into()), ("b", 2.into()), ("u", 0.into())])],
    );
}

fn name(db: &Db, table: &str) -> FullName {
    db.table_info(table).unwrap().name.clone()
}

#[test]
fn unreferenced_keys_follow_every_foreign_key() {
    let (db, _d) = fresh_db();
    references(&db);
    let files = db
        .unreferenced_keys(&name(&db, "refs.File"), Referrers::Children)
        .unwrap();
    assert_eq!(
        files,
        vec![
            row(&[("fname", "f4".into())]),
            row(&[("fname", "f5".into())])
        ]
    );
    // a merge master: rows no part holds, whatever else refers to them
    let ids = |rows: Vec<Row>| -> Vec<i64> {
        rows.iter()
            .map(|r| r.get("mid").and_then(Value::as_i64).unwrap())
            .collect()
    };
    assert_eq!(
        ids(db
            .unreferenced_keys(&name(&db, "refs.Merge"), Referrers::Parts)
            .unwrap()),
        [2, 3]
    );
    assert_eq!(
        ids(db
            .unreferenced_keys(&name(&db, "refs.Merge"), Referrers::Children)
            .unwrap()),
        [3]
    );
    // both columns of a two-column key must match
    assert_eq!(
        db.unreferenced_keys(&name(&db, "refs.Pair"), Referrers::Children)
            .unwrap(),
        vec![
            row(&[("a", 1.into()), ("b", 1.into())]),
            row(&[("a", 2.into()), ("b", 1.into())])
        ]
    );
    // nothing refers to a leaf: every key
    assert_eq!(
        db.unreferenced_keys(&name(&db, "refs.PairUse"), Referrers::Children)
            .unwrap()
            .len(),
        1
    );
    // a file rows stop using becomes unreferenced
    db.delete_rows("refs.UsesA", Cond::Bool(true)).unwrap();
    assert_eq!(
        db.unreferenced_keys(&name(&db, "refs.File"), Referrers::Children)
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn external_filepaths_and_forgetting_one() {
    let (db, dir) = fresh_db();
    let raw = dir.path().join("raw");
    // paths no other test uses: on a shared server a file stays while any schema
    // tracks its path
    std::fs::create_dir_all(raw.join("apis")).unwrap();
    db.set_store("raw", StoreConfig::local(&raw));
    assert_eq!(
        db.external_filepaths("files", "raw").unwrap(),
        Vec::<String>::new()
    );
    filepath_table(&db, &raw);
    for (i, rel) in [(1, "apis/kept.nwb"), (2, "apis/forgotten.nwb")] {
        let file = raw.join(rel);
        std::fs::write(&file, format!("file {i}")).unwrap();
        db.insert1(
            "files.Doc",
            row(&[
                ("doc_id", i.into()),
                ("path", file.display().to_string().into()),
            ]),
            InsertOptions::default(),
        )
        .unwrap();
    }
    assert_eq!(
        db.external_filepaths("files", "raw").unwrap(),
        ["apis/forgotten.nwb", "apis/kept.nwb"]
    );
    // a path a row still uses cannot be forgotten
    assert!(matches!(
        db.forget_external_filepath("files", "raw", "apis/forgotten.nwb"),
        Err(Error::ForeignKey { .. })
    ));
    // deleting the row alone leaves its entry; forgetting the path removes it and
    // keeps the file
    assert_eq!(
        db.delete_rows("files.Doc", Cond::map([("doc_id", 2)]))
            .unwrap(),
        1
    );
    assert_eq!(db.external_filepaths("files", "raw").unwrap().len(), 2);
    assert_eq!(
        db.forget_external_filepath("files", "raw", "apis/forgotten.nwb")
            .unwrap(),
        1
    );
    assert_eq!(
        db.forget_external_filepath("files", "raw", "apis/forgotten.nwb")
            .unwrap(),
        0
    );
    assert_eq!(
        db.external_filepaths("files", "raw").unwrap(),
        ["apis/kept.nwb"]
    );
    assert!(raw.join("apis/forgotten.nwb").exists());
    // a store the schema never used
    assert_eq!(
        db.forget_external_filepath("files", "other", "x").unwrap(),
        0
    );
}

#[test]
fn use_rollback_journal_leaves_a_plain_sqlite_file() {
    let dir = spyglass_testkit::scratch_dir();
    let path = dir.path().join("bundle.db");
    let db = Db::open(&format!("sqlite:///{}", path.display())).unwrap();
    mice(&db);
    insert_mouse(&db, 1).unwrap();
    db.use_rollback_journal().unwrap();
    drop(db);
    // read by SQLite itself, read-only: the journal mode is stored in the file
    let conn =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
    let n: i64 = conn
        .query_row("SELECT count(*) FROM `tx.mouse`", [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 1);
    assert!(!dir.path().join("bundle.db-wal").exists());
}
