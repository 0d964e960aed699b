//! Cascading delete computed from the dependency graph: the renamed multi-column
//! foreign-key cases where datajoint-python 0.14.9 over-deletes (datajoint-compat.md
//! §11.1), the Spyglass-shaped LFPSelection case, parts and masters, preview, dry
//! run, `~log`, and drop. Expected counts are worked out by hand.

use crate::common::{fresh_db, row, university};
use spyglass_db::delete::DeleteOptions;
use spyglass_db::{Cond, Db, Error, InsertOptions, Row, TableSpec, Tier, Value};

fn count(db: &Db, t: &str) -> u64 {
    db.count(&db.table(t).unwrap()).unwrap()
}

fn ins(db: &Db, t: &str, rows: Vec<Row>) {
    db.insert(t, &rows, InsertOptions::default())
        .unwrap_or_else(|e| panic!("{t}: {e}"));
}

fn ints(names: &[&str], vals: &[i64]) -> Row {
    Row::from_pairs(
        names
            .iter()
            .map(|n| n.to_string())
            .zip(vals.iter().map(|v| Value::Int(*v))),
    )
}

/// One case of §11.1: parent rows, a child FK line mirroring them, delete the first.
fn over_delete_case(
    schema: &str,
    parent_key: &[&str],
    parent_rows: &[&[i64]],
    fk: &str,
    child_names: &[&str],
) {
    let (db, _d) = fresh_db();
    let pdef = parent_key
        .iter()
        .map(|k| format!("{k} : int"))
        .collect::<Vec<_>>()
        .join("\n");
    db.declare(schema, &TableSpec::new("S", Tier::Manual, &pdef))
        .unwrap();
    db.declare(schema, &TableSpec::new("C", Tier::Manual, fk))
        .unwrap();
    let info = db.table_info(&format!("{schema}.C")).unwrap();
    assert_eq!(info.primary_key(), child_names, "child key of `{fk}`");
    ins(
        &db,
        &format!("{schema}.S"),
        parent_rows.iter().map(|r| ints(parent_key, r)).collect(),
    );
    ins(
        &db,
        &format!("{schema}.C"),
        parent_rows.iter().map(|r| ints(child_names, r)).collect(),
    );
    let first = ints(parent_key, parent_rows[0]);
    let plan = db
        .plan_delete(
            &format!("{schema}.S"),
            Cond::from(&first),
            DeleteOptions::default(),
        )
        .unwrap();
    let child = info.name.clone();
    assert_eq!(
        plan.count_of(&child),
        1,
        "`{fk}`: exactly the one child of the deleted parent"
    );
    db.delete(
        &format!("{schema}.S"),
        Cond::from(&first),
        DeleteOptions::default(),
    )
    .unwrap();
    assert_eq!(
        count(&db, &format!("{schema}.C")),
        3,
        "`{fk}`: three children remain"
    );
    assert_eq!(count(&db, &format!("{schema}.S")), 3);
}

const TWO: &[&[i64]] = &[&[1, 1], &[1, 2], &[1, 3], &[2, 1]];
const THREE: &[&[i64]] = &[&[1, 1, 1], &[1, 1, 2], &[1, 2, 1], &[2, 1, 1]];

#[test]
fn renamed_second_column_does_not_over_delete() {
    // 0.14.9 deletes every child with sid=1 here
    over_delete_case(
        "od1",
        &["sid", "idx"],
        TWO,
        "-> S.proj(first='idx')",
        &["sid", "first"],
    );
}

#[test]
fn both_columns_renamed_do_not_over_delete() {
    over_delete_case(
        "od2",
        &["sid", "idx"],
        TWO,
        "-> S.proj(s2='sid', i2='idx')",
        &["s2", "i2"],
    );
}

#[test]
fn first_column_renamed() {
    over_delete_case(
        "od3",
        &["sid", "idx"],
        TWO,
        "-> S.proj(s2='sid')",
        &["s2", "idx"],
    );
}

#[test]
fn plain_foreign_key() {
    over_delete_case("od4", &["sid", "idx"], TWO, "-> S", &["sid", "idx"]);
}

#[test]
fn middle_of_three_renamed() {
    // 0.14.9 also deletes (1,2,1)
    over_delete_case(
        "od5",
        &["a", "b", "c"],
        THREE,
        "-> S.proj(b2='b')",
        &["a", "b2", "c"],
    );
}

#[test]
fn last_of_three_renamed() {
    // 0.14.9 also deletes (1,1,2)
    over_delete_case(
        "od6",
        &["a", "b", "c"],
        THREE,
        "-> S.proj(c2='c')",
        &["a", "b", "c2"],
    );
}

#[test]
fn first_of_three_renamed() {
    over_delete_case(
        "od7",
        &["a", "b", "c"],
        THREE,
        "-> S.proj(a2='a')",
        &["a2", "b", "c"],
    );
}

#[test]
fn spyglass_lfp_selection_case() {
    let (db, _d) = fresh_db();
    let d = |s: &str, spec: TableSpec| db.declare(s, &spec).unwrap();
    d("common_interval", TableSpec::new("IntervalList", Tier::Manual, "nwb_file_name : varchar(64)\ninterval_list_name : varchar(170)\n---\nvalid_times : longblob"));
    d(
        "lfp_electrode",
        TableSpec::new(
            "LFPElectrodeGroup",
            Tier::Manual,
            "nwb_file_name : varchar(64)\nlfp_electrode_group_name : varchar(200)",
        ),
    );
    d("lfp_v1", TableSpec::new("LFPSelection", Tier::Manual, "-> LFPElectrodeGroup\n-> IntervalList.proj(target_interval_list_name='interval_list_name')"));
    let iv = |f: &str, n: &str| {
        row(&[
            ("nwb_file_name", f.into()),
            ("interval_list_name", n.into()),
            (
                "valid_times",
                Value::from(spyglass_blob::Value::intervals(&[[0.0, 1.0]])),
            ),
        ])
    };
    ins(
        &db,
        "common_interval.IntervalList",
        vec![
            iv("a_.nwb", "01_s1"),
            iv("a_.nwb", "02_r1"),
            iv("b_.nwb", "01_s1"),
        ],
    );
    let g = |f: &str| {
        row(&[
            ("nwb_file_name", f.into()),
            ("lfp_electrode_group_name", "g1".into()),
        ])
    };
    ins(
        &db,
        "lfp_electrode.LFPElectrodeGroup",
        vec![g("a_.nwb"), g("b_.nwb")],
    );
    let sel = |f: &str, t: &str| {
        row(&[
            ("nwb_file_name", f.into()),
            ("lfp_electrode_group_name", "g1".into()),
            ("target_interval_list_name", t.into()),
        ])
    };
    ins(
        &db,
        "lfp_v1.LFPSelection",
        vec![
            sel("a_.nwb", "01_s1"),
            sel("a_.nwb", "02_r1"),
            sel("b_.nwb", "01_s1"),
        ],
    );
    let target = Cond::map([("nwb_file_name", "a_.nwb"), ("interval_list_name", "02_r1")]);
    let deleted = db
        .delete(
            "common_interval.IntervalList",
            target,
            DeleteOptions::default(),
        )
        .unwrap();
    let prefix = db.prefix();
    let by_table: Vec<(String, u64)> = deleted
        .iter()
        .map(|(t, n)| (t.pretty().trim_start_matches(&prefix).to_string(), *n))
        .collect();
    assert_eq!(
        by_table,
        [
            ("common_interval.IntervalList".to_string(), 1),
            ("lfp_v1.LFPSelection".to_string(), 1)
        ]
    );
    let left: Vec<String> = db
        .fetch(&db.table("lfp_v1.LFPSelection").unwrap())
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}/{}",
                r.get("nwb_file_name").unwrap().python_str(),
                r.get("target_interval_list_name").unwrap().python_str()
            )
        })
        .collect();
    assert_eq!(left.len(), 2);
    assert!(
        left.contains(&"a_.nwb/01_s1".to_string()) && left.contains(&"b_.nwb/01_s1".to_string()),
        "{left:?}"
    );
}

#[test]
fn university_course_delete_counts() {
    let (db, _d) = university();
    let cs1410 = Cond::map([("dept", Value::from("CS")), ("course", Value::from(1410))]);
    let plan = db
        .plan_delete("univ.Course", cs1410.clone(), DeleteOptions::default())
        .unwrap();
    let counts: Vec<(String, usize)> = plan
        .counts()
        .into_iter()
        .map(|(t, n)| (t.class_name(), n))
        .collect();
    let get = |c: &str| {
        counts
            .iter()
            .find(|(t, _)| t == c)
            .map(|x| x.1)
            .unwrap_or(0)
    };
    // the course, its 2 sections, their 4 enrolments and 4 grades, 1 prerequisite row
    // (CS 2420 needs CS 1410) and 1 cross-listing (CS 1410 ~ CS 2420)
    assert_eq!(
        (
            get("Course"),
            get("Section"),
            get("Enroll"),
            get("Grade"),
            get("Prerequisite"),
            get("CrossListing")
        ),
        (1, 2, 4, 4, 1, 1)
    );
    assert_eq!(plan.total(), 13);
    // planning changed nothing (dry run)
    assert_eq!(count(&db, "univ.Enroll"), 12);
    db.delete("univ.Course", cs1410, DeleteOptions::default())
        .unwrap();
    assert_eq!(count(&db, "univ.Course"), 4);
    assert_eq!(count(&db, "univ.Enroll"), 8);
    assert_eq!(count(&db, "univ.Grade"), 7);
    assert_eq!(count(&db, "univ.CrossListing"), 1);
    assert_eq!(count(&db, "univ.Prerequisite"), 2);
    // the log has one DELETE line per table
    let log_table = db
        .dialect()
        .table(&spyglass_db::FullName::new(db.schema_name("univ"), "~log"));
    let log = db
        .query_raw(
            &format!("SELECT `event` FROM {log_table} WHERE `event` LIKE 'DELETE FROM%'"),
            &[],
        )
        .unwrap();
    assert_eq!(log.len(), 6, "{log:?}");
    // deleting through the renamed key alone: CS 2420 is cross-listed as other_course
    let plan = db
        .plan_delete(
            "univ.Course",
            Cond::map([("dept", Value::from("BIOL")), ("course", Value::from(2020))]),
            DeleteOptions::default(),
        )
        .unwrap();
    let cl = db.table_info("univ.CrossListing").unwrap().name.clone();
    assert_eq!(
        plan.count_of(&cl),
        1,
        "BIOL 1010 ~ BIOL 2020 goes through other_course"
    );
}

fn master_part_db() -> (Db, tempfile::TempDir) {
    let (db, d) = fresh_db();
    db.declare(
        "mp",
        &TableSpec::new("Other", Tier::Manual, "o : varchar(4)"),
    )
    .unwrap();
    db.declare(
        "mp",
        &TableSpec::new(
            "Master",
            Tier::Manual,
            "id : int\n---\nnote = '' : varchar(8)",
        )
        .part("Part", "-> master\n-> Other"),
    )
    .unwrap();
    db.declare(
        "mp",
        &TableSpec::new("Child", Tier::Manual, "-> Master\n---\nv : int"),
    )
    .unwrap();
    ins(
        &db,
        "mp.Other",
        vec![row(&[("o", "x".into())]), row(&[("o", "y".into())])],
    );
    ins(
        &db,
        "mp.Master",
        vec![row(&[("id", 1.into())]), row(&[("id", 2.into())])],
    );
    let p = |i: i64, o: &str| row(&[("id", i.into()), ("o", o.into())]);
    ins(&db, "mp.Master.Part", vec![p(1, "x"), p(1, "y"), p(2, "y")]);
    ins(
        &db,
        "mp.Child",
        vec![
            row(&[("id", 1.into()), ("v", 10.into())]),
            row(&[("id", 2.into()), ("v", 20.into())]),
        ],
    );
    (db, d)
}

#[test]
fn parts_go_with_masters_and_masters_with_parts() {
    let (db, _d) = master_part_db();
    // deleting Other x reaches part row (1, x): master 1 goes, with all its parts and children
    db.delete(
        "mp.Other",
        Cond::map([("o", "x")]),
        DeleteOptions::default(),
    )
    .unwrap();
    assert_eq!(count(&db, "mp.Other"), 1);
    let masters: Vec<i64> = db
        .fetch(&db.table("mp.Master").unwrap())
        .unwrap()
        .iter()
        .map(|r| r.get("id").unwrap().as_i64().unwrap())
        .collect();
    assert_eq!(masters, [2]);
    assert_eq!(count(&db, "mp.Master.Part"), 1, "only (2, y) remains");
    assert_eq!(count(&db, "mp.Child"), 1);
    // deleting a master takes its parts
    let (db, _d) = master_part_db();
    db.delete(
        "mp.Master",
        Cond::map([("id", 2)]),
        DeleteOptions::default(),
    )
    .unwrap();
    assert_eq!(count(&db, "mp.Master.Part"), 2);
    assert_eq!(count(&db, "mp.Other"), 2);
    // deleting from a part directly is refused unless forced
    let e = db
        .delete(
            "mp.Master.Part",
            Cond::map([("o", "y")]),
            DeleteOptions::default(),
        )
        .unwrap_err();
    assert!(
        matches!(e, Error::Refused(_)) && e.to_string().contains("mp.Master"),
        "{e}"
    );
    assert_eq!(count(&db, "mp.Master.Part"), 2);
    db.delete(
        "mp.Master.Part",
        Cond::map([("o", "y")]),
        DeleteOptions {
            force_parts: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(count(&db, "mp.Master.Part"), 1);
    assert_eq!(
        count(&db, "mp.Master"),
        1,
        "forced part delete leaves the master"
    );
}

#[test]
fn restrictions_reaching_a_table_twice_are_ored() {
    // Grade depends on Student through Enroll, and on LetterGrade directly
    let (db, _d) = university();
    let plan = db
        .plan_delete(
            "univ.LetterGrade",
            Cond::map([("grade", "A")]),
            DeleteOptions::default(),
        )
        .unwrap();
    let g = db.table_info("univ.Grade").unwrap().name.clone();
    assert_eq!(plan.count_of(&g), 3, "three A grades");
    // a restriction matching nothing plans nothing
    let plan = db
        .plan_delete(
            "univ.Student",
            Cond::map([("student_id", 99)]),
            DeleteOptions::default(),
        )
        .unwrap();
    assert_eq!(plan.total(), 0);
    // Frank (6) has no dependents
    let plan = db
        .plan_delete(
            "univ.Student",
            Cond::map([("student_id", 6)]),
            DeleteOptions::default(),
        )
        .unwrap();
    assert_eq!(plan.total(), 1);
    // Alice: 1 student, 1 major, 3 enrolments, 3 grades
    let plan = db
        .plan_delete(
            "univ.Student",
            Cond::map([("student_id", 1)]),
            DeleteOptions::default(),
        )
        .unwrap();
    assert_eq!(plan.total(), 8);
}

#[test]
fn drop_tables_and_schemas() {
    let (db, _d) = master_part_db();
    let e = db.plan_drop_table("mp.Master.Part").unwrap_err();
    assert!(e.to_string().contains("drop its master"), "{e}");
    let plan = db.plan_drop_table("mp.Master").unwrap();
    let names: Vec<String> = plan.iter().map(|(t, _)| t.class_name()).collect();
    assert_eq!(names, ["Master", "Master.Part", "Child"]);
    assert_eq!(plan.iter().map(|(_, n)| *n).collect::<Vec<_>>(), [2, 3, 2]);
    db.drop_tables(&plan).unwrap();
    assert!(db.table_info("mp.Master").is_err());
    assert!(db.table_info("mp.Child").is_err());
    assert_eq!(count(&db, "mp.Other"), 2);
    // a schema another schema depends on cannot be dropped
    db.declare(
        "dep",
        &TableSpec::new("Uses", Tier::Manual, "-> mp.Other\nn : int"),
    )
    .unwrap();
    let e = db.plan_drop_schema("mp").unwrap_err();
    assert!(e.to_string().contains("dep.Uses"), "{e}");
    db.drop_schema("dep").unwrap();
    db.drop_schema("mp").unwrap();
    let prefix = db.prefix();
    assert!(
        !db.schemas()
            .iter()
            .any(|s| s.starts_with(&prefix) && !prefix.is_empty() || s == "mp" || s == "dep"),
        "{:?}",
        db.schemas()
    );
}
