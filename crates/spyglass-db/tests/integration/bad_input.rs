//! Bad input gets a clear error that names the culprit, and leaves the database as
//! it was: malformed definitions, unknown parents, bad types, duplicates, foreign-key
//! violations, wrong-typed values, unknown tables and attributes in restrictions,
//! and redeclaring a table with a different definition.

use crate::common::{fresh_db, row, university};
use spyglass_db::{Cond, Db, Error, InsertOptions, TableSpec, Tier, Value};

/// Number of tables and rows, to check that nothing changed.
fn snapshot(db: &Db) -> Vec<(String, u64)> {
    db.refresh().unwrap();
    let prefix = db.prefix();
    db.catalog()
        .user_tables(None)
        .iter()
        .filter(|t| t.name.schema.starts_with(&prefix))
        .map(|t| {
            (
                t.name.pretty(),
                db.count(&spyglass_db::Query::table(t)).unwrap(),
            )
        })
        .collect()
}

fn assert_msg<T: std::fmt::Debug>(r: Result<T, Error>, needles: &[&str]) -> Error {
    let e = r.expect_err("expected an error");
    let msg = e.to_string();
    for n in needles {
        assert!(msg.contains(n), "message `{msg}` lacks `{n}`");
    }
    e
}

#[test]
fn malformed_definitions_leave_no_table() {
    let (db, _d) = university();
    let before = snapshot(&db);
    let cases: &[(&str, &[&str])] = &[
        ("id int", &["univ.Broken", "line 1", "missing `:`"]),
        ("Id : int", &["univ.Broken", "invalid attribute name `Id`"]),
        (
            "id : text",
            &["univ.Broken", "unsupported attribute type `text`"],
        ),
        ("id : varchar", &["unsupported attribute type `varchar`"]),
        ("id = null : int", &["cannot be nullable"]),
        (
            "id : int\n---\nb = 1 : longblob",
            &["line 3", "only `null`"],
        ),
        ("b : longblob", &["cannot be in the primary key"]),
        ("---\nx : int", &["primary key"]),
        ("id : int\nid : int", &["already declared on line 1"]),
        (
            "id : int\n---\n-> [optional] Student",
            &["unknown foreign-key option `optional`"],
        ),
        ("-> Student & 'sex=\"F\"'", &["not a table reference"]),
        (
            "-> Student.proj(sid='nope')",
            &["`nope`", "not a primary-key attribute of", "univ.Student"],
        ),
        (
            "id : int\nindex(zzz)",
            &["index names unknown attribute `zzz`"],
        ),
        ("-> master\nid : int", &["only allowed in a part table"]),
        ("# :marker:\nid : int", &["table comment"]),
    ];
    for (def, needles) in cases {
        let r = db.declare("univ", &TableSpec::new("Broken", Tier::Manual, def));
        let e = assert_msg(r, needles);
        assert!(
            !matches!(e, Error::Backend { .. }),
            "{def}: reached the database: {e}"
        );
    }
    assert_eq!(snapshot(&db), before);
    assert!(db.table_info("univ.Broken").is_err());
}

#[test]
fn unknown_parent() {
    let (db, _d) = university();
    let e = assert_msg(
        db.declare(
            "univ",
            &TableSpec::new("Orphan", Tier::Manual, "-> Professor\nid : int"),
        ),
        &["univ.Orphan", "unknown parent `Professor`"],
    );
    assert!(matches!(e, Error::UnknownParent { .. }));
    assert!(db.table_info("univ.Orphan").is_err());
}

#[test]
fn bad_names() {
    let (db, _d) = fresh_db();
    assert_msg(
        db.declare(
            "univ",
            &TableSpec::new("lowercase", Tier::Manual, "id : int"),
        ),
        &["`lowercase`", "CamelCase"],
    );
    assert_msg(
        db.declare("Bad-Schema", &TableSpec::new("T", Tier::Manual, "id : int")),
        &["Bad-Schema`"],
    );
}

#[test]
fn redeclare_with_an_incompatible_definition_shows_both() {
    let (db, _d) = university();
    let e = assert_msg(
        db.declare(
            "univ",
            &TableSpec::new(
                "Department",
                Tier::Manual,
                "dept : varchar(6)\n---\ndept_name : int\ndept_head : varchar(40)",
            ),
        ),
        &[
            "univ.Department",
            "different definition",
            "`dept_name`: type: ours int, the database's varchar(200) (another type family)",
            "`dept_head`: missing (ours: dept_head : varchar(40))",
            "the database's definition:\n  dept : varchar(6)",
            "spyglass-rs's definition:\n  dept : varchar(6)",
        ],
    );
    assert!(matches!(e, Error::DefinitionMismatch { .. }));
    // another string length is a difference spyglass-rs can live with (as DataJoint)
    assert_eq!(
        db.declare(
            "univ",
            &TableSpec::new(
                "Department",
                Tier::Manual,
                "dept : varchar(6)\n---\ndept_name : varchar(100)",
            ),
        )
        .unwrap(),
        spyglass_db::Declared::Unchanged
    );
    // the same definition (different comments and spacing) is fine
    let same = "dept   :  varchar(6)   # abbreviated department name\n---\n# a comment line\ndept_name : varchar(200)";
    assert_eq!(
        db.declare("univ", &TableSpec::new("Department", Tier::Manual, same))
            .unwrap(),
        spyglass_db::Declared::Unchanged
    );
}

#[test]
fn duplicate_key_names_the_row_and_inserts_nothing() {
    let (db, _d) = university();
    let before = snapshot(&db);
    let rows = vec![
        row(&[("dept", "PHYS".into()), ("dept_name", "Physics".into())]),
        row(&[("dept", "CS".into()), ("dept_name", "again".into())]),
    ];
    let e = assert_msg(
        db.insert("univ.Department", &rows, InsertOptions::default()),
        &["univ.Department", "duplicate", "dept=CS", "row 1"],
    );
    assert!(matches!(e, Error::Duplicate { .. }));
    // the first row of the failed batch was rolled back too
    assert_eq!(snapshot(&db), before);
}

#[test]
fn foreign_key_violation_names_the_parent() {
    let (db, _d) = university();
    let before = snapshot(&db);
    let rows = vec![
        row(&[
            ("student_id", 6.into()),
            ("dept", "CS".into()),
            ("declare_date", "2021-01-01".into()),
        ]),
        row(&[
            ("student_id", 99.into()),
            ("dept", "CS".into()),
            ("declare_date", "2021-01-01".into()),
        ]),
    ];
    let e = assert_msg(
        db.insert("univ.StudentMajor", &rows, InsertOptions::default()),
        &[
            "univ.StudentMajor",
            "row 1",
            "univ.Student",
            "student_id=99",
        ],
    );
    assert!(matches!(e, Error::ForeignKey { .. }));
    assert_eq!(snapshot(&db), before);
}

#[test]
fn wrong_types_name_the_attribute() {
    let (db, _d) = university();
    let before = snapshot(&db);
    let base = |k: &str, v: Value| {
        let mut pairs = vec![
            ("student_id", Value::from(7)),
            ("first_name", "Gus".into()),
            ("last_name", "Grey".into()),
            ("sex", "M".into()),
            ("date_of_birth", "2001-01-01".into()),
            ("home_state", "WA".into()),
        ];
        for p in &mut pairs {
            if p.0 == k {
                p.1 = v.clone();
            }
        }
        row(&pairs)
    };
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        (
            "student_id",
            "seven".into(),
            vec!["`student_id`", "int unsigned"],
        ),
        ("student_id", (-1).into(), vec!["`student_id`", "outside"]),
        ("sex", "X".into(), vec!["`sex`", "not one of F, M, U"]),
        (
            "date_of_birth",
            "yesterday".into(),
            vec!["`date_of_birth`", "not a date"],
        ),
        (
            "home_state",
            "WAS".into(),
            vec!["`home_state`", "exceed the limit of 2"],
        ),
        (
            "first_name",
            Value::Json(serde_json::json!({"a": 1})),
            vec!["`first_name`", "json"],
        ),
    ];
    for (k, v, needles) in cases {
        let mut n = needles.clone();
        n.push("univ.Student");
        let e = assert_msg(
            db.insert("univ.Student", &[base(k, v)], InsertOptions::default()),
            &n,
        );
        assert!(matches!(e, Error::BadValue { .. }), "{e}");
    }
    // unknown and missing attributes
    let mut extra = base("sex", "M".into()).to_map();
    extra.insert("gpa".into(), 4.0.into());
    let extra = spyglass_db::Row::from_pairs(extra);
    assert_msg(
        db.insert("univ.Student", &[extra], InsertOptions::default()),
        &["unknown attribute `gpa`", "univ.Student"],
    );
    let missing = row(&[("student_id", 8.into())]);
    assert_msg(
        db.insert("univ.Student", &[missing], InsertOptions::default()),
        &["missing required attribute `first_name`"],
    );
    assert_eq!(snapshot(&db), before);
}

#[test]
fn unknown_table_or_attribute_in_a_query() {
    let (db, _d) = university();
    assert!(
        matches!(db.table("univ.Professor"), Err(Error::UnknownTable(t)) if t == "univ.Professor")
    );
    let s = db.table("univ.Student").unwrap();
    assert_msg(
        s.restrict("gpa > 3"),
        &["unknown attribute `gpa`", "univ.Student"],
    );
    assert_msg(s.restrict("sex = 'F'); DROP TABLE x; --"), &["restriction"]);
    assert_msg(
        s.top(&["height"], Some(1), None),
        &["unknown attribute `height`"],
    );
    assert_msg(
        db.fetch_with(&s, &spyglass_db::FetchSpec::attrs(&["nope"])),
        &["unknown attribute `nope`"],
    );
    // map restrictions with values of the wrong type are refused, not silently empty
    assert_msg(
        s.restrict(Cond::map([("student_id", "abc")])),
        &["`student_id`"],
    );
}
