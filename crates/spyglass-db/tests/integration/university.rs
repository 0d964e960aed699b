//! Query semantics on the university schema. Every expected result below is worked
//! out by hand from the data in common/mod.rs (6 students, 3 departments, 5
//! courses, 6 sections, 12 enrolments, 11 grades).

use crate::common::university;
use spyglass_db::{Cond, Db, Error, FetchSpec, Proj, Query, Value};
use std::ops::Not;

fn ids(db: &Db, q: &Query) -> Vec<i64> {
    let mut v: Vec<i64> = db
        .fetch_with(q, &FetchSpec::attrs(&["student_id"]))
        .unwrap()
        .iter()
        .map(|r| r.get("student_id").unwrap().as_i64().unwrap())
        .collect();
    v.sort();
    v
}

fn t(db: &Db, name: &str) -> Query {
    db.table(&format!("univ.{name}")).unwrap()
}

#[test]
fn restrict_by_map() {
    let (db, _d) = university();
    let s = t(&db, "Student");
    assert_eq!(
        ids(&db, &s.restrict(Cond::map([("sex", "F")])).unwrap()),
        [1, 3, 5]
    );
    // unknown keys are ignored
    let q = s
        .restrict(Cond::map([
            ("sex", Value::from("F")),
            ("nonexistent", Value::from(3)),
        ]))
        .unwrap();
    assert_eq!(ids(&db, &q), [1, 3, 5]);
    // a map with no known key restricts nothing
    assert_eq!(
        db.count(&s.restrict(Cond::map([("nonexistent", 3)])).unwrap())
            .unwrap(),
        6
    );
    // a date value
    assert_eq!(
        ids(
            &db,
            &s.restrict(Cond::map([("date_of_birth", "2000-11-30")]))
                .unwrap()
        ),
        [4]
    );
    // two keys AND together
    assert_eq!(
        ids(
            &db,
            &s.restrict(Cond::map([("sex", "F"), ("home_state", "CA")]))
                .unwrap()
        ),
        [5]
    );
}

#[test]
fn restrict_by_sql_string() {
    let (db, _d) = university();
    let s = t(&db, "Student");
    assert_eq!(ids(&db, &s.restrict("home_state='OH'").unwrap()), [1, 3]);
    // double-quoted literals, as DataJoint users write them
    assert_eq!(ids(&db, &s.restrict("home_state=\"CA\"").unwrap()), [2, 5]);
    assert_eq!(
        ids(&db, &s.restrict("date_of_birth < '2000-01-01'").unwrap()),
        [2, 5]
    );
    assert_eq!(
        ids(
            &db,
            &s.restrict("first_name LIKE '%a%' AND student_id > 2")
                .unwrap()
        ),
        [3, 4, 6]
    );
}

#[test]
fn and_or_not_lists() {
    let (db, _d) = university();
    let s = t(&db, "Student");
    let and = Cond::And(vec![
        Cond::map([("sex", "F")]),
        Cond::sql("home_state = 'CA'"),
    ]);
    assert_eq!(ids(&db, &s.restrict(and).unwrap()), [5]);
    let or = Cond::Or(vec![Cond::map([("student_id", 1)]), Cond::sql("sex='M'")]);
    assert_eq!(ids(&db, &s.restrict(or).unwrap()), [1, 2, 4]);
    // an OR holding a map with no known key is TRUE
    let or_true = Cond::Or(vec![Cond::map([("nonexistent", 1)]), Cond::sql("sex='M'")]);
    assert_eq!(db.count(&s.restrict(or_true).unwrap()).unwrap(), 6);
    // an empty OR is FALSE, an empty AND is TRUE
    assert_eq!(db.count(&s.restrict(Cond::Or(vec![])).unwrap()).unwrap(), 0);
    assert_eq!(
        db.count(&s.restrict(Cond::And(vec![])).unwrap()).unwrap(),
        6
    );
    // negation, and double negation
    assert_eq!(
        ids(&db, &s.exclude(Cond::map([("sex", "F")])).unwrap()),
        [2, 4, 6]
    );
    assert_eq!(
        ids(
            &db,
            &s.restrict(Cond::map([("sex", "F")]).not().not()).unwrap()
        ),
        [1, 3, 5]
    );
    // NOT of an OR
    let not_or = Cond::Or(vec![
        Cond::map([("home_state", "OH")]),
        Cond::map([("home_state", "CA")]),
    ])
    .not();
    assert_eq!(ids(&db, &s.restrict(not_or).unwrap()), [4, 6]);
    // successive restrictions AND together
    let q = s
        .restrict("sex='F'")
        .unwrap()
        .restrict("home_state='OH'")
        .unwrap();
    assert_eq!(ids(&db, &q), [1, 3]);
}

#[test]
fn restrict_by_query() {
    let (db, _d) = university();
    let s = t(&db, "Student");
    let major = t(&db, "StudentMajor");
    assert_eq!(ids(&db, &s.restrict(&major).unwrap()), [1, 2, 3, 4, 5]);
    assert_eq!(ids(&db, &s.exclude(&major).unwrap()), [6]);
    let cs = major.restrict(Cond::map([("dept", "CS")])).unwrap();
    assert_eq!(ids(&db, &s.restrict(&cs).unwrap()), [2, 5]);
    // students with an F
    let f = t(&db, "Grade")
        .restrict(Cond::map([("grade", "F")]))
        .unwrap();
    assert_eq!(ids(&db, &s.restrict(&f).unwrap()), [4]);
    // not enrolled in any 2021 section: enrolled in 2021 are 1, 2, 3, 5
    let e2021 = t(&db, "Enroll")
        .restrict(Cond::map([("term_year", 2021)]))
        .unwrap();
    assert_eq!(ids(&db, &s.exclude(&e2021).unwrap()), [4, 6]);
    // no common attributes: TRUE when the other query has rows, FALSE otherwise
    let dept = t(&db, "Department");
    assert_eq!(db.count(&s.restrict(&dept).unwrap()).unwrap(), 6);
    let none = dept.restrict("dept = 'PHYS'").unwrap();
    assert_eq!(db.count(&s.restrict(&none).unwrap()).unwrap(), 0);
    // an AND list mixing a query and a string
    let mixed = Cond::And(vec![Cond::from(&major), Cond::sql("sex = 'M'")]);
    assert_eq!(ids(&db, &s.restrict(mixed).unwrap()), [2, 4]);
    // an OR list of queries
    let either = Cond::Or(vec![Cond::from(&f), Cond::from(&cs)]);
    assert_eq!(ids(&db, &s.restrict(either).unwrap()), [2, 4, 5]);
}

#[test]
fn join() {
    let (db, _d) = university();
    let s = t(&db, "Student");
    let major = t(&db, "StudentMajor");
    let j = s.join(&major).unwrap();
    assert_eq!(db.count(&j).unwrap(), 5);
    assert_eq!(j.primary_key(), ["student_id"]);
    let names = j.names();
    for a in ["student_id", "first_name", "dept", "declare_date"] {
        assert!(names.contains(&a.to_string()), "{a} missing from {names:?}");
    }
    // grades with their points: 11 graded enrolments
    let gp = t(&db, "Grade").join(&t(&db, "LetterGrade")).unwrap();
    assert_eq!(db.count(&gp).unwrap(), 11);
    // enrolments in a course of the student's major: joins on student_id and dept
    let in_major = t(&db, "Enroll").join(&major).unwrap();
    assert_eq!(db.count(&in_major).unwrap(), 9);
    // a join of three, restricted afterwards: Bob's courses with names
    let bob = t(&db, "Enroll")
        .join(&t(&db, "Course"))
        .unwrap()
        .restrict(Cond::map([("student_id", 2)]))
        .unwrap();
    let mut courses: Vec<String> = db
        .fetch(&bob)
        .unwrap()
        .iter()
        .map(|r| r.get("course_name").unwrap().as_str().unwrap().to_string())
        .collect();
    courses.sort();
    assert_eq!(courses, ["Algorithms", "Calculus", "Programming"]);
    // join compatibility: an attribute secondary in both operands is an error
    let clash = s.proj(Proj::key().rename("dept", "home_state")).unwrap();
    let bad = major.join(&s.proj(Proj::all().rename("dept", "home_state")).unwrap());
    assert!(matches!(bad, Err(Error::Query(_))), "{bad:?}");
    // renaming into the key side is fine
    assert_eq!(db.count(&clash).unwrap(), 6);
}

#[test]
fn join_left_keeps_unmatched() {
    let (db, _d) = university();
    let j = t(&db, "Student")
        .join_left(&t(&db, "StudentMajor"))
        .unwrap();
    assert_eq!(db.count(&j).unwrap(), 6);
    let frank = db
        .fetch1(&j.restrict(Cond::map([("student_id", 6)])).unwrap())
        .unwrap();
    assert_eq!(frank.get("dept"), Some(&Value::Null));
}

#[test]
fn projection() {
    let (db, _d) = university();
    let s = t(&db, "Student");
    assert_eq!(s.proj(Proj::key()).unwrap().names(), ["student_id"]);
    assert_eq!(
        s.proj(Proj::key().keep("first_name")).unwrap().names(),
        ["student_id", "first_name"]
    );
    let renamed = s.proj(Proj::key().rename("name", "first_name")).unwrap();
    assert_eq!(renamed.names(), ["student_id", "name"]);
    let alice = db
        .fetch1(&renamed.restrict(Cond::map([("student_id", 1)])).unwrap())
        .unwrap();
    assert_eq!(alice.get("name").unwrap().as_str(), Some("Alice"));
    // restricting on a renamed attribute
    let sid = s.proj(Proj::key().rename("sid", "student_id")).unwrap();
    assert_eq!(sid.primary_key(), ["sid"]);
    let hi: Vec<i64> = db
        .fetch(&sid.restrict("sid > 4").unwrap())
        .unwrap()
        .iter()
        .map(|r| r.get("sid").unwrap().as_i64().unwrap())
        .collect();
    assert_eq!(hi, [5, 6]);
    // exclude
    let ex = s
        .proj(Proj::all().exclude("home_state").exclude("sex"))
        .unwrap();
    assert_eq!(
        ex.names(),
        ["student_id", "first_name", "last_name", "date_of_birth"]
    );
    // computed
    let c = t(&db, "Course")
        .proj(Proj::key().compute("double_credits", "credits * 2"))
        .unwrap();
    let gen = db
        .fetch1(&c.restrict(Cond::map([("course", 2020)])).unwrap())
        .unwrap();
    assert_eq!(gen.get("double_credits").unwrap().as_f64(), Some(8.0));
    // a computed attribute can be restricted
    let big: Vec<i64> = db
        .fetch(&c.restrict("double_credits >= 8").unwrap())
        .unwrap()
        .iter()
        .map(|r| r.get("course").unwrap().as_i64().unwrap())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(big, [1210, 1410, 2020]);
    // projecting a join, then joining again (exercises subqueries)
    let names = s
        .proj(Proj::key().keep("first_name"))
        .unwrap()
        .join(
            &t(&db, "StudentMajor")
                .proj(Proj::key().keep("dept"))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        db.count(&names.restrict(Cond::map([("dept", "BIOL")])).unwrap())
            .unwrap(),
        2
    );
    // unknown attribute in a projection
    assert!(matches!(
        s.proj(Proj::key().keep("gpa")),
        Err(Error::UnknownAttribute { .. })
    ));
}

#[test]
fn aggregation() {
    let (db, _d) = university();
    let s = t(&db, "Student");
    let n = s
        .aggr(
            &t(&db, "Enroll"),
            Proj::key().compute("n", "count(*)"),
            false,
        )
        .unwrap();
    let mut counts: Vec<(i64, i64)> = db
        .fetch(&n)
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get("student_id").unwrap().as_i64().unwrap(),
                r.get("n").unwrap().as_i64().unwrap(),
            )
        })
        .collect();
    counts.sort();
    assert_eq!(counts, [(1, 3), (2, 3), (3, 2), (4, 2), (5, 2)]);
    // keep_all_rows keeps Frank with zero sections
    let all = s
        .aggr(
            &t(&db, "Enroll"),
            Proj::key()
                .keep("first_name")
                .compute("n", "count(section)"),
            true,
        )
        .unwrap();
    assert_eq!(db.count(&all).unwrap(), 6);
    let frank = db
        .fetch1(&all.restrict(Cond::map([("student_id", 6)])).unwrap())
        .unwrap();
    assert_eq!(frank.get("n").unwrap().as_i64(), Some(0));
    assert_eq!(frank.get("first_name").unwrap().as_str(), Some("Frank"));
    // grade point average, then restrict on it
    let gpa = s
        .aggr(
            &t(&db, "Grade").join(&t(&db, "LetterGrade")).unwrap(),
            Proj::key().compute("gpa", "avg(points)"),
            false,
        )
        .unwrap();
    let mut got: Vec<(i64, f64)> = db
        .fetch(&gpa)
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get("student_id").unwrap().as_i64().unwrap(),
                r.get("gpa").unwrap().as_f64().unwrap(),
            )
        })
        .collect();
    got.sort_by_key(|a| a.0);
    let want = [
        (1, (4.0 + 3.0 + 3.67) / 3.0),
        (2, (4.0 + 4.0 + 3.33) / 3.0),
        (3, 3.0),
        (4, 1.0),
        (5, (3.67 + 3.0) / 2.0),
    ];
    assert_eq!(got.len(), want.len());
    for ((a, x), (b, y)) in got.iter().zip(want.iter()) {
        assert_eq!(a, b);
        // MySQL averages decimals exactly, to 4 more digits than the column's scale
        assert!((x - y).abs() < 1e-5, "student {a}: {x} vs {y}");
    }
    assert_eq!(ids(&db, &gpa.restrict("gpa > 3.4").unwrap()), [1, 2]);
    // aggregation used as a restriction
    assert_eq!(
        ids(&db, &s.restrict(gpa.restrict("gpa < 2").unwrap()).unwrap()),
        [4]
    );
}

#[test]
fn union() {
    let (db, _d) = university();
    let s = t(&db, "Student");
    let f = s
        .restrict(Cond::map([("sex", "F")]))
        .unwrap()
        .proj(Proj::key())
        .unwrap();
    let tx = s
        .restrict(Cond::map([("home_state", "TX")]))
        .unwrap()
        .proj(Proj::key())
        .unwrap();
    let u = f.union(&tx).unwrap();
    assert_eq!(ids(&db, &u), [1, 3, 5, 6]);
    // union with (disjoint) secondary attributes: missing ones are NULL
    let a = s
        .restrict("student_id <= 2")
        .unwrap()
        .proj(Proj::key().keep("first_name"))
        .unwrap();
    let b = t(&db, "StudentMajor")
        .restrict("student_id >= 2")
        .unwrap()
        .proj(Proj::key().keep("dept"))
        .unwrap();
    let ab = a.union(&b).unwrap();
    assert_eq!(ids(&db, &ab), [1, 2, 3, 4, 5]);
    let one = db
        .fetch1(&ab.restrict(Cond::map([("student_id", 1)])).unwrap())
        .unwrap();
    assert_eq!(one.get("first_name").unwrap().as_str(), Some("Alice"));
    assert_eq!(one.get("dept"), Some(&Value::Null));
    let two = db
        .fetch1(&ab.restrict(Cond::map([("student_id", 2)])).unwrap())
        .unwrap();
    assert_eq!(
        (
            two.get("first_name").unwrap().as_str(),
            two.get("dept").unwrap().as_str()
        ),
        (Some("Bob"), Some("CS"))
    );
    let four = db
        .fetch1(&ab.restrict(Cond::map([("student_id", 4)])).unwrap())
        .unwrap();
    assert_eq!(
        (four.get("first_name"), four.get("dept").unwrap().as_str()),
        (Some(&Value::Null), Some("MATH"))
    );
    // different primary keys cannot be united
    assert!(s
        .proj(Proj::key())
        .unwrap()
        .union(&t(&db, "Department").proj(Proj::key()).unwrap())
        .is_err());
    // shared secondary attributes cannot be united
    assert!(s.union(&s).is_err());
}

#[test]
fn universal_sets() {
    let (db, _d) = university();
    let s = t(&db, "Student");
    let states = s.universal(&["home_state"]).unwrap();
    assert_eq!(states.primary_key(), ["home_state"]);
    let mut got: Vec<String> = db
        .fetch(&states)
        .unwrap()
        .iter()
        .map(|r| r.get("home_state").unwrap().as_str().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(got, ["CA", "NY", "OH", "TX"]);
    // dj.U('dept').aggr(Course, n='count(*)')
    let per_dept = t(&db, "Course")
        .group_by(&["dept"], Proj::key().compute("n", "count(*)"))
        .unwrap();
    let mut got: Vec<(String, i64)> = db
        .fetch(&per_dept)
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get("dept").unwrap().as_str().unwrap().to_string(),
                r.get("n").unwrap().as_i64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("BIOL".to_string(), 2),
            ("CS".to_string(), 2),
            ("MATH".to_string(), 1)
        ]
    );
    // dj.U().aggr(Student, n='count(*)'): one row
    let total = s
        .group_by(&[], Proj::key().compute("n", "count(*)"))
        .unwrap();
    let r = db.fetch1(&total).unwrap();
    assert_eq!(r.get("n").unwrap().as_i64(), Some(6));
    // Student * dj.U('home_state') promotes it into the key
    let promoted = s.promote(&["home_state"]).unwrap();
    assert_eq!(promoted.primary_key(), ["student_id", "home_state"]);
    // distinct (state, sex) pairs among students: OH F, CA M, NY M, CA F, TX U
    assert_eq!(
        db.count(&s.universal(&["home_state", "sex"]).unwrap())
            .unwrap(),
        5
    );
    // a universal set restricted afterwards
    assert_eq!(
        db.count(&states.restrict("home_state < 'O'").unwrap())
            .unwrap(),
        2
    );
}

#[test]
fn top_and_fetch_options() {
    let (db, _d) = university();
    let s = t(&db, "Student");
    let youngest = s.top(&["date_of_birth desc"], Some(2), None).unwrap();
    let order: Vec<i64> = db
        .fetch(&youngest)
        .unwrap()
        .iter()
        .map(|r| r.get("student_id").unwrap().as_i64().unwrap())
        .collect();
    assert_eq!(order, [6, 3]);
    let next = s.top(&["date_of_birth DESC"], Some(2), Some(1)).unwrap();
    let order: Vec<i64> = db
        .fetch(&next)
        .unwrap()
        .iter()
        .map(|r| r.get("student_id").unwrap().as_i64().unwrap())
        .collect();
    assert_eq!(order, [3, 4]);
    // a top query used as a restriction
    assert_eq!(
        ids(&db, &t(&db, "StudentMajor").restrict(&youngest).unwrap()),
        [3]
    );
    // fetch order_by KEY DESC with limit and offset
    let rows = db
        .fetch_with(
            &s,
            &FetchSpec::attrs(&["KEY"])
                .order_by(&["KEY DESC"])
                .limit(3, Some(1)),
        )
        .unwrap();
    let got: Vec<i64> = rows
        .iter()
        .map(|r| r.get("student_id").unwrap().as_i64().unwrap())
        .collect();
    assert_eq!(got, [5, 4, 3]);
    assert_eq!(rows[0].columns().len(), 1);
    // chosen attributes only, in the order asked
    let rows = db
        .fetch_with(
            &s,
            &FetchSpec::attrs(&["last_name", "first_name"]).order_by(&["first_name"]),
        )
        .unwrap();
    assert_eq!(rows[0].columns().as_ref(), ["last_name", "first_name"]);
    assert_eq!(rows[0].get("first_name").unwrap().as_str(), Some("Alice"));
}

#[test]
fn fetch1_len_exists() {
    let (db, _d) = university();
    let s = t(&db, "Student");
    let alice = db
        .fetch1(&s.restrict(Cond::map([("student_id", 1)])).unwrap())
        .unwrap();
    assert_eq!(alice.get("last_name").unwrap().as_str(), Some("Smith"));
    assert_eq!(
        alice.get("date_of_birth"),
        Some(&Value::Date(
            chrono::NaiveDate::from_ymd_opt(2000, 1, 15).unwrap()
        ))
    );
    match db.fetch1(&s.restrict("sex='F'").unwrap()) {
        Err(Error::NotOne { count, .. }) => assert_eq!(count, 3),
        other => panic!("{other:?}"),
    }
    match db.fetch1(&s.restrict("student_id > 100").unwrap()) {
        Err(Error::NotOne { count, .. }) => assert_eq!(count, 0),
        other => panic!("{other:?}"),
    }
    assert_eq!(db.count(&s).unwrap(), 6);
    assert!(db
        .exists(&s.restrict("home_state = 'NY'").unwrap())
        .unwrap());
    assert!(!db
        .exists(&s.restrict("home_state = 'WA'").unwrap())
        .unwrap());
    // decimals come back with their declared scale
    let c = db
        .fetch1(
            &t(&db, "Course")
                .restrict(Cond::map([("course", 1010)]))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(c.get("credits"), Some(&Value::Decimal("3.0".into())));
    let lg = db
        .fetch1(
            &t(&db, "LetterGrade")
                .restrict(Cond::map([("grade", "A-")]))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(lg.get("points"), Some(&Value::Decimal("3.67".into())));
}

#[test]
fn renamed_foreign_keys() {
    let (db, _d) = university();
    // names of each course's prerequisites through the renamed two-column key
    let prereq_course = t(&db, "Course")
        .proj(
            Proj::key()
                .rename("prereq_dept", "dept")
                .rename("prereq_course", "course")
                .rename("prereq_name", "course_name"),
        )
        .unwrap();
    let q = t(&db, "Prerequisite")
        .join(&prereq_course)
        .unwrap()
        .restrict(Cond::map([
            ("dept", Value::from("CS")),
            ("course", Value::from(2420)),
        ]))
        .unwrap();
    let mut names: Vec<String> = db
        .fetch(&q)
        .unwrap()
        .iter()
        .map(|r| r.get("prereq_name").unwrap().as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["Calculus", "Programming"]);
    // courses that are somebody's prerequisite: BIOL 1010, CS 1410, MATH 1210
    let is_prereq = t(&db, "Course")
        .restrict(
            t(&db, "Prerequisite")
                .proj(Proj::key().rename("d", "dept").rename("c", "course"))
                .unwrap()
                .proj(
                    Proj::key()
                        .rename("dept", "prereq_dept")
                        .rename("course", "prereq_course"),
                )
                .unwrap(),
        )
        .unwrap();
    let mut got: Vec<i64> = db
        .fetch(&is_prereq)
        .unwrap()
        .iter()
        .map(|r| r.get("course").unwrap().as_i64().unwrap())
        .collect();
    got.sort();
    assert_eq!(got, [1010, 1210, 1410]);
    // the graph knows both renamed edges and their attribute maps
    let g = db.graph().unwrap();
    let course = db.table_info("univ.Course").unwrap().name.clone();
    let pre = db.table_info("univ.Prerequisite").unwrap().name.clone();
    let edges: Vec<_> = g
        .parents(&pre)
        .into_iter()
        .filter(|(p, _)| p == &course)
        .collect();
    assert_eq!(edges.len(), 2);
    assert!(edges.iter().any(|(_, e)| e.aliased
        && e.attr_map
            == vec![
                ("prereq_dept".to_string(), "dept".to_string()),
                ("prereq_course".to_string(), "course".to_string())
            ]));
    assert!(edges.iter().any(|(_, e)| !e.aliased && e.primary));
    let cross = db.table_info("univ.CrossListing").unwrap();
    let renamed = cross.foreign_keys.iter().find(|f| f.is_aliased()).unwrap();
    assert_eq!(
        renamed.attr_map,
        vec![
            ("dept".to_string(), "dept".to_string()),
            ("other_course".to_string(), "course".to_string())
        ]
    );
}

#[test]
fn dependency_graph_orders() {
    let (db, _d) = university();
    let g = db.graph().unwrap();
    let name = |c: &str| db.table_info(&format!("univ.{c}")).unwrap().name.clone();
    let anc: Vec<String> = g
        .ancestors(&name("Grade"))
        .iter()
        .map(|n| n.class_name())
        .collect();
    for a in [
        "Student",
        "Department",
        "Course",
        "Term",
        "Section",
        "Enroll",
        "LetterGrade",
    ] {
        assert!(
            anc.contains(&a.to_string()),
            "{a} not an ancestor of Grade: {anc:?}"
        );
    }
    let pos = |v: &Vec<String>, x: &str| v.iter().position(|n| n == x).unwrap();
    assert!(pos(&anc, "Course") < pos(&anc, "Section"));
    assert!(pos(&anc, "Section") < pos(&anc, "Enroll"));
    let desc: Vec<String> = g
        .descendants(&name("Department"))
        .iter()
        .map(|n| n.class_name())
        .collect();
    assert_eq!(desc[0], "Department");
    for d in [
        "StudentMajor",
        "Course",
        "Section",
        "Enroll",
        "Grade",
        "Prerequisite",
        "CrossListing",
    ] {
        assert!(desc.contains(&d.to_string()), "{d} missing from {desc:?}");
    }
    assert!(!desc.contains(&"Student".to_string()));
}
