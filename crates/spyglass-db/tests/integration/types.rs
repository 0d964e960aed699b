//! Declare → insert → fetch round trips for every DataJoint 0.14 type, and typed
//! fetch into serde structs.

use crate::common::{fresh_db, row};
use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use spyglass_blob::{Array, Value as Blob};
use spyglass_db::{Cond, InsertOptions, TableSpec, Tier, Value};
use uuid::Uuid;

const EVERY_TYPE: &str = "# one attribute of each type
id : int
---
t_tiny : tinyint
t_tiny_u : tinyint unsigned
t_small : smallint
t_medium : mediumint
t_int_u : int unsigned
t_big : bigint
t_big_u : bigint unsigned
t_dec : decimal(8,3)
t_float : float
t_double : double
t_char : char(4)
t_varchar : varchar(64)
t_enum : enum('low','mid','high')
t_date : date
t_datetime : datetime
t_datetime3 : datetime(3)
t_time : time
t_timestamp : timestamp
t_year : year
t_bool : bool
t_uuid : uuid
t_json : json
t_tinyblob : tinyblob
t_blob : blob
t_mediumblob : mediumblob
t_longblob : longblob
t_attach : attach
t_null = null : varchar(8)
t_default = 'dflt' : varchar(8)";

#[test]
fn every_type_round_trips() {
    let (db, _d) = fresh_db();
    db.declare("types", &TableSpec::new("Every", Tier::Manual, EVERY_TYPE))
        .unwrap();
    let date = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let dt = date.and_hms_opt(13, 14, 15).unwrap();
    let dt3 = date.and_hms_milli_opt(13, 14, 15, 250).unwrap();
    let u = Uuid::parse_str("12345678-1234-5678-1234-567812345678").unwrap();
    let matrix = Blob::Array(
        Array::from_row_major(vec![2, 3], vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap(),
    );
    let dict = Blob::Dict(vec![
        (Blob::Str("a".into()), Blob::Int(1)),
        (Blob::Str("b".into()), Blob::Str("x".into())),
    ]);
    let big = Blob::Array(Array::vector(
        (0..50_000).map(|i| i as f64).collect::<Vec<f64>>(),
    ));
    let input = row(&[
        ("id", 1.into()),
        ("t_tiny", (-128).into()),
        ("t_tiny_u", 255.into()),
        ("t_small", (-32768).into()),
        ("t_medium", 8_388_607.into()),
        ("t_int_u", 4_294_967_295u32.into()),
        ("t_big", i64::MIN.into()),
        ("t_big_u", (i64::MAX as u64).into()),
        ("t_dec", Value::Decimal("12345.678".into())),
        ("t_float", 1.5f32.into()),
        ("t_double", std::f64::consts::PI.into()),
        ("t_char", "abcd".into()),
        ("t_varchar", "héllo wörld".into()),
        ("t_enum", "mid".into()),
        ("t_date", Value::Date(date)),
        ("t_datetime", Value::DateTime(dt)),
        ("t_datetime3", Value::DateTime(dt3)),
        (
            "t_time",
            Value::Time(NaiveTime::from_hms_opt(23, 59, 58).unwrap()),
        ),
        (
            "t_timestamp",
            Value::DateTime(
                NaiveDate::from_ymd_opt(2020, 1, 2)
                    .unwrap()
                    .and_hms_opt(3, 4, 5)
                    .unwrap(),
            ),
        ),
        ("t_year", 2024.into()),
        ("t_bool", true.into()),
        ("t_uuid", Value::Uuid(u)),
        (
            "t_json",
            Value::Json(serde_json::json!({"k": [1, 2, {"z": null}]})),
        ),
        ("t_tinyblob", Value::from(Blob::Str("tiny".into()))),
        ("t_blob", Value::from(dict.clone())),
        ("t_mediumblob", Value::from(matrix.clone())),
        ("t_longblob", Value::from(big.clone())),
        (
            "t_attach",
            Value::Attach {
                name: "notes.txt".into(),
                data: b"hello\0world".to_vec(),
            },
        ),
    ]);
    db.insert(
        "types.Every",
        std::slice::from_ref(&input),
        InsertOptions::default(),
    )
    .unwrap();
    let out = db.fetch1(&db.table("types.Every").unwrap()).unwrap();
    for (k, v) in input.iter() {
        if k == "t_bool" && db.dialect() == spyglass_db::dialect::Dialect::Mysql {
            // MySQL stores bool as tinyint and reads it back as an integer, as DataJoint does
            assert_eq!(out.get(k).and_then(Value::as_i64), Some(1));
            continue;
        }
        assert_eq!(out.get(k), Some(v), "attribute {k}");
    }
    assert_eq!(out.get("t_null"), Some(&Value::Null));
    assert_eq!(out.get("t_default").unwrap().as_str(), Some("dflt"));
    // blobs decode to the same structures (and the longblob was compressed on the way)
    assert_eq!(out.get("t_mediumblob").unwrap().as_blob(), Some(&matrix));
    // restriction by typed values finds the row
    for (k, v) in [
        ("t_uuid", Value::Uuid(u)),
        ("t_date", Value::Date(date)),
        ("t_datetime", Value::DateTime(dt)),
        ("t_enum", "mid".into()),
    ] {
        let q = db
            .table("types.Every")
            .unwrap()
            .restrict(Cond::map([(k, v)]))
            .unwrap();
        assert_eq!(db.count(&q).unwrap(), 1, "restriction on {k}");
    }
    // a uuid given as a string restricts the same
    let q = db
        .table("types.Every")
        .unwrap()
        .restrict(Cond::map([("t_uuid", u.to_string())]))
        .unwrap();
    assert_eq!(db.count(&q).unwrap(), 1);
}

#[test]
fn nan_inserts_as_null_and_defaults_fill_in() {
    let (db, _d) = fresh_db();
    db.declare(
        "types",
        &TableSpec::new(
            "Measure",
            Tier::Manual,
            "id : int\n---\nx = null : double\ny = 7 : int\nlabel = \"none\" : varchar(8)",
        ),
    )
    .unwrap();
    db.insert(
        "types.Measure",
        &[row(&[("id", 1.into()), ("x", f64::NAN.into())])],
        InsertOptions::default(),
    )
    .unwrap();
    db.insert(
        "types.Measure",
        &[row(&[("id", 2.into()), ("y", Value::Null)])],
        InsertOptions::default(),
    )
    .unwrap();
    let r1 = db
        .fetch1(&db.table("types.Measure").unwrap().restrict("id=1").unwrap())
        .unwrap();
    assert_eq!(r1.get("x"), Some(&Value::Null));
    assert_eq!(r1.get("y").unwrap().as_i64(), Some(7));
    assert_eq!(r1.get("label").unwrap().as_str(), Some("none"));
    let r2 = db
        .fetch1(&db.table("types.Measure").unwrap().restrict("id=2").unwrap())
        .unwrap();
    assert_eq!(r2.get("y").unwrap().as_i64(), Some(7));
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Session {
    subject: String,
    session_idx: u32,
    start: NaiveDate,
    rate: f64,
    note: Option<String>,
    uid: Uuid,
    weights: Vec<f64>,
}

#[test]
fn serde_structs_in_and_out() {
    let (db, _d) = fresh_db();
    db.declare(
        "lab",
        &TableSpec::new(
            "Session",
            Tier::Manual,
            "subject : varchar(16)\nsession_idx : int unsigned\n---\nstart : date\nrate : double\nnote = null : varchar(64)\nuid : uuid\nweights : longblob",
        ),
    )
    .unwrap();
    let items = vec![
        Session {
            subject: "rat1".into(),
            session_idx: 1,
            start: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            rate: 30000.0,
            note: None,
            uid: Uuid::from_u128(7),
            weights: vec![0.5, 1.5],
        },
        Session {
            subject: "rat1".into(),
            session_idx: 2,
            start: NaiveDate::from_ymd_opt(2024, 1, 2).unwrap(),
            rate: 20000.0,
            note: Some("second".into()),
            uid: Uuid::from_u128(8),
            weights: vec![],
        },
    ];
    assert_eq!(
        db.insert_serde("lab.Session", &items, InsertOptions::default())
            .unwrap(),
        2
    );
    let q = db.table("lab.Session").unwrap();
    let mut back: Vec<Session> = db.fetch_as(&q).unwrap();
    back.sort_by_key(|s| s.session_idx);
    assert_eq!(back, items);
}

#[test]
fn lookup_contents_and_replace_and_skip() {
    let (db, _d) = fresh_db();
    let spec = TableSpec::new(
        "Color",
        Tier::Lookup,
        "color : varchar(8)\n---\nhex : char(7)",
    )
    .contents(vec![
        row(&[("color", "red".into()), ("hex", "#ff0000".into())]),
        row(&[("color", "blue".into()), ("hex", "#0000ff".into())]),
    ]);
    db.declare("art", &spec).unwrap();
    // declaring again leaves the contents as they are
    db.declare("art", &spec).unwrap();
    let q = db.table("art.Color").unwrap();
    assert_eq!(db.count(&q).unwrap(), 2);
    assert_eq!(db.table_info("art.Color").unwrap().name.table, "#color");
    // skip_duplicates keeps the old row; replace overwrites it
    let red2 = row(&[("color", "red".into()), ("hex", "#ee0000".into())]);
    db.insert(
        "art.Color",
        std::slice::from_ref(&red2),
        InsertOptions {
            skip_duplicates: true,
            ..Default::default()
        },
    )
    .unwrap();
    let red = db
        .fetch1(&q.restrict(Cond::map([("color", "red")])).unwrap())
        .unwrap();
    assert_eq!(red.get("hex").unwrap().as_str(), Some("#ff0000"));
    db.insert(
        "art.Color",
        &[red2],
        InsertOptions {
            replace: true,
            ..Default::default()
        },
    )
    .unwrap();
    let red = db
        .fetch1(&q.restrict(Cond::map([("color", "red")])).unwrap())
        .unwrap();
    assert_eq!(red.get("hex").unwrap().as_str(), Some("#ee0000"));
    // ignore_extra_fields drops unknown attributes
    let extra = row(&[
        ("color", "green".into()),
        ("hex", "#00ff00".into()),
        ("shade", "dark".into()),
    ]);
    db.insert(
        "art.Color",
        &[extra],
        InsertOptions {
            ignore_extra_fields: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(db.count(&q).unwrap(), 3);
}

#[test]
fn auto_increment_and_many_rows_in_one_transaction() {
    let (db, _d) = fresh_db();
    db.declare(
        "lab",
        &TableSpec::new(
            "Event",
            Tier::Manual,
            "event_id : int unsigned auto_increment\n---\nwhat : varchar(32)",
        ),
    )
    .unwrap();
    let rows: Vec<_> = (0..1000)
        .map(|i| row(&[("what", format!("e{i}").into())]))
        .collect();
    assert_eq!(
        db.insert("lab.Event", &rows, InsertOptions::default())
            .unwrap(),
        1000
    );
    let q = db.table("lab.Event").unwrap();
    let last = db
        .fetch1(&q.restrict(Cond::map([("what", "e999")])).unwrap())
        .unwrap();
    assert_eq!(last.get("event_id").unwrap().as_i64(), Some(1000));
}

#[test]
fn parts_tiers_and_names() {
    let (db, _d) = fresh_db();
    db.declare(
        "sess",
        &TableSpec::new("Subject", Tier::Manual, "subject_id : varchar(8)"),
    )
    .unwrap();
    db.declare(
        "sess",
        &TableSpec::new(
            "Session",
            Tier::Imported,
            "-> Subject\nsession_idx : int\n---\nstart : datetime",
        )
        .part("Experimenter", "-> master\nname : varchar(16)"),
    )
    .unwrap();
    db.declare(
        "sess",
        &TableSpec::new("SessionStats", Tier::Computed, "-> Session\n---\nn : int"),
    )
    .unwrap();
    let part = db.table_info("sess.Session.Experimenter").unwrap();
    assert_eq!(part.name.table, "_session__experimenter");
    assert_eq!(part.tier, Tier::Part);
    assert_eq!(
        db.table_info("sess.SessionStats").unwrap().name.table,
        "__session_stats"
    );
    assert_eq!(
        db.table_info("sess._session").unwrap().name.class_name(),
        "Session"
    );
    // the part's key extends the master's
    assert_eq!(part.primary_key(), ["subject_id", "session_idx", "name"]);
    // describe prints the definitions back
    let d = db.describe("sess.Session.Experimenter").unwrap();
    assert!(d.contains("-> master"), "{d}");
    let d = db.describe("sess.SessionStats").unwrap();
    assert_eq!(d, "-> Session\n---\nn : int\n");
    // computed tables refuse direct inserts
    let r = db.insert(
        "sess.SessionStats",
        &[row(&[("subject_id", "a".into())])],
        InsertOptions::default(),
    );
    assert!(matches!(r, Err(spyglass_db::Error::Refused(_))), "{r:?}");
}

#[test]
fn inherited_keys_drop_auto_increment_and_sibling_parts_make_no_cycle() {
    let (db, _d) = fresh_db();
    db.declare(
        "lab",
        &TableSpec::new(
            "Region",
            Tier::Lookup,
            "region_id : smallint auto_increment\n---\nname : varchar(20)",
        ),
    )
    .unwrap();
    // a child whose key includes the parent's auto_increment id
    db.declare(
        "lab",
        &TableSpec::new("Group", Tier::Manual, "-> Region\ngroup_name : varchar(20)"),
    )
    .unwrap();
    let g = db.table_info("lab.Group").unwrap();
    assert!(!g.heading.get("region_id").unwrap().ty.is_auto_increment());
    // a part that refers to a sibling part (Probe.Electrode -> Probe.Shank)
    db.declare(
        "lab",
        &TableSpec::new("Probe", Tier::Manual, "probe_id : varchar(20)")
            .part("Shank", "-> master\nprobe_shank : int")
            .part("Electrode", "-> Probe.Shank\nprobe_electrode : int"),
    )
    .unwrap();
    let graph = db.graph().unwrap();
    // positions of this test's own tables (a shared server also holds other schemas)
    let order: Vec<String> = graph.topo_order().iter().map(|n| n.pretty()).collect();
    let pos = |c: &str| {
        let name = db.table_info(&format!("lab.{c}")).unwrap().name.pretty();
        order.iter().position(|x| x == &name).unwrap()
    };
    assert!(
        pos("Probe") < pos("Probe.Shank") && pos("Probe.Shank") < pos("Probe.Electrode"),
        "{order:?}"
    );
    db.insert(
        "lab.Probe",
        &[row(&[("probe_id", "p".into())])],
        InsertOptions::default(),
    )
    .unwrap();
    db.insert(
        "lab.Probe.Shank",
        &[row(&[("probe_id", "p".into()), ("probe_shank", 0.into())])],
        InsertOptions::default(),
    )
    .unwrap();
    db.insert(
        "lab.Probe.Electrode",
        &[row(&[
            ("probe_id", "p".into()),
            ("probe_shank", 0.into()),
            ("probe_electrode", 3.into()),
        ])],
        InsertOptions::default(),
    )
    .unwrap();
    db.delete(
        "lab.Probe",
        Cond::map([("probe_id", "p")]),
        Default::default(),
    )
    .unwrap();
    assert_eq!(
        db.count(&db.table("lab.Probe.Electrode").unwrap()).unwrap(),
        0
    );
}
