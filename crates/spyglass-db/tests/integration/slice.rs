//! The export cascade on a small schema built to exercise every rule: a renamed
//! secondary foreign key (Session → Person as `experimenter`), two renamed
//! multi-column keys from one child to one parent (Pair → Session twice), a master
//! with parts (Session.Camera), a merge table with two sources, and two leaves that
//! share ancestors. Every expected row set below is worked out by hand from the data.
//! Then the slice is copied into a fresh SQLite file and re-queried, and its restriction
//! texts are checked.

use crate::common::{fresh_db, row};
use spyglass_db::merge::MergeTable;
use spyglass_db::slice::Slice;
use spyglass_db::{Cond, Db, FullName, InsertOptions, Query, TableSpec, Tier, Value};
use std::collections::BTreeSet;
use std::ops::Not;

fn d(s: &str) -> Value {
    Value::Date(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
}

fn setup() -> (Db, tempfile::TempDir, MergeTable) {
    let (db, dir) = fresh_db();
    let decl = |spec: TableSpec| db.declare("exp", &spec).unwrap();
    decl(TableSpec::new(
        "Lab",
        Tier::Lookup,
        "lab_name : varchar(16)",
    ));
    decl(TableSpec::new(
        "Person",
        Tier::Manual,
        "person : varchar(16)\n---\n-> Lab",
    ));
    decl(TableSpec::new(
        "Subject",
        Tier::Manual,
        "subject_id : varchar(16)\n---\nsex : enum('M','F','U')",
    ));
    decl(
        TableSpec::new(
            "Session",
            Tier::Manual,
            "-> Subject\nsession_date : date\n---\n-> Person.proj(experimenter='person')",
        )
        .part("Camera", "-> master\ncamera : int"),
    );
    decl(TableSpec::new(
        "Param",
        Tier::Lookup,
        "param_id : int\n---\nvalue : float",
    ));
    decl(TableSpec::new(
        "Analysis",
        Tier::Manual,
        "-> Session\n-> Param\n---\nresult : float",
    ));
    decl(TableSpec::new(
        "Pair",
        Tier::Manual,
        "-> Session.proj(first_subject='subject_id', first_date='session_date')\n-> Session.proj(second_subject='subject_id', second_date='session_date')",
    ));
    let m = db
        .declare_merge("exp", "Output", &["exp.Analysis", "exp.Pair"])
        .unwrap();
    decl(TableSpec::new(
        "Figure",
        Tier::Manual,
        "-> Output\nfig_id : int",
    ));
    let ins = |t: &str, rows: Vec<spyglass_db::Row>| {
        db.insert(t, &rows, InsertOptions::default()).unwrap();
    };
    ins(
        "exp.Lab",
        vec![
            row(&[("lab_name", "L1".into())]),
            row(&[("lab_name", "L2".into())]),
        ],
    );
    ins(
        "exp.Person",
        vec![
            row(&[("person", "alice".into()), ("lab_name", "L1".into())]),
            row(&[("person", "bob".into()), ("lab_name", "L1".into())]),
            row(&[("person", "carol".into()), ("lab_name", "L2".into())]),
        ],
    );
    ins(
        "exp.Subject",
        ["s1", "s2", "s3"]
            .iter()
            .map(|s| row(&[("subject_id", (*s).into()), ("sex", "U".into())]))
            .collect(),
    );
    let ses = |s: &str, date: &str, who: &str| {
        row(&[
            ("subject_id", s.into()),
            ("session_date", d(date)),
            ("experimenter", who.into()),
        ])
    };
    ins(
        "exp.Session",
        vec![
            ses("s1", "2024-01-01", "alice"),
            ses("s1", "2024-01-02", "bob"),
            ses("s2", "2024-01-01", "carol"),
            ses("s3", "2024-01-01", "alice"),
        ],
    );
    let cam = |s: &str, date: &str, c: i64| {
        row(&[
            ("subject_id", s.into()),
            ("session_date", d(date)),
            ("camera", c.into()),
        ])
    };
    ins(
        "exp.Session.Camera",
        vec![
            cam("s1", "2024-01-01", 0),
            cam("s1", "2024-01-01", 1),
            cam("s1", "2024-01-02", 0),
            cam("s2", "2024-01-01", 0),
            cam("s2", "2024-01-01", 1),
        ],
    );
    ins(
        "exp.Param",
        (1..=3)
            .map(|p| row(&[("param_id", p.into()), ("value", (p as f64).into())]))
            .collect(),
    );
    let an = |s: &str, date: &str, p: i64| {
        row(&[
            ("subject_id", s.into()),
            ("session_date", d(date)),
            ("param_id", p.into()),
            ("result", 0.5.into()),
        ])
    };
    ins(
        "exp.Analysis",
        vec![
            an("s1", "2024-01-01", 1),
            an("s1", "2024-01-01", 2),
            an("s1", "2024-01-02", 1),
            an("s2", "2024-01-01", 3),
            an("s3", "2024-01-01", 2),
        ],
    );
    let pair = |a: &str, ad: &str, b: &str, bd: &str| {
        row(&[
            ("first_subject", a.into()),
            ("first_date", d(ad)),
            ("second_subject", b.into()),
            ("second_date", d(bd)),
        ])
    };
    ins(
        "exp.Pair",
        vec![
            pair("s1", "2024-01-01", "s2", "2024-01-01"),
            pair("s3", "2024-01-01", "s1", "2024-01-02"),
        ],
    );
    (db, dir, m)
}

/// Merge ids of: Analysis (s1, d1, 1), Analysis (s2, d1, 3), Pair (s1d1, s2d1).
fn outputs(db: &Db, m: &MergeTable) -> Vec<uuid::Uuid> {
    let ids = db
        .merge_insert(
            m,
            &[
                row(&[
                    ("subject_id", "s1".into()),
                    ("session_date", d("2024-01-01")),
                    ("param_id", 1.into()),
                ]),
                row(&[
                    ("subject_id", "s2".into()),
                    ("session_date", d("2024-01-01")),
                    ("param_id", 3.into()),
                ]),
                row(&[
                    ("first_subject", "s1".into()),
                    ("first_date", d("2024-01-01")),
                    ("second_subject", "s2".into()),
                    ("second_date", d("2024-01-01")),
                ]),
            ],
        )
        .unwrap();
    let fig = |id: &uuid::Uuid| row(&[("merge_id", Value::Uuid(*id)), ("fig_id", 1.into())]);
    db.insert(
        "exp.Figure",
        &ids.iter().map(fig).collect::<Vec<_>>(),
        InsertOptions::default(),
    )
    .unwrap();
    ids
}

fn name(db: &Db, class: &str) -> FullName {
    db.table_info(&format!("exp.{class}")).unwrap().name.clone()
}

/// The values of `attr` over a slice table's keys, as sorted strings.
fn values(slice: &Slice, t: &FullName, attrs: &[&str]) -> BTreeSet<String> {
    slice
        .keys(t)
        .iter()
        .map(|k| {
            attrs
                .iter()
                .map(|a| k.get(a).map(|v| v.python_str()).unwrap_or_default())
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn cascade_up_two_leaves_through_merge_parts_and_renamed_keys() {
    let (db, _dir, m) = setup();
    let ids = outputs(&db, &m);
    let fig = name(&db, "Figure");
    // leaf 1: the figure of Analysis (s1, d1, 1); leaf 2: the figure of the Pair.
    // Both reach Session (s1, 2024-01-01); the Pair also reaches (s2, 2024-01-01)
    // through its renamed `second_*` key.
    let leaves = vec![
        (fig.clone(), Cond::map([("merge_id", Value::Uuid(ids[0]))])),
        (
            fig.clone(),
            Cond::sql(format!(
                "merge_id = X'{}' AND fig_id = 1",
                ids[2].simple().to_string().to_uppercase()
            )),
        ),
    ];
    let slice = db.cascade_up(&leaves).unwrap();
    let count = |class: &str| slice.keys(&name(&db, class)).len();
    // by hand: Figure m1, m3; Output m1, m3; parts: one Analysis part row (m1), one Pair
    // part row (m3); Analysis (s1,d1,1); Pair (s1d1,s2d1); Param 1; Session s1d1, s2d1
    // with all their cameras (2 + 2); Person alice (s1d1) and carol (s2d1, via the
    // renamed `experimenter`); Lab L1, L2; Subject s1, s2.
    assert_eq!(count("Figure"), 2);
    assert_eq!(count("Output"), 2);
    assert_eq!(count("Output.Analysis"), 1);
    assert_eq!(count("Output.Pair"), 1);
    assert_eq!(count("Analysis"), 1);
    assert_eq!(count("Pair"), 1);
    assert_eq!(count("Param"), 1);
    assert_eq!(count("Session"), 2);
    assert_eq!(count("Session.Camera"), 4);
    assert_eq!(count("Person"), 2);
    assert_eq!(count("Lab"), 2);
    assert_eq!(count("Subject"), 2);
    assert_eq!(
        slice.total_rows(),
        2 + 2 + 1 + 1 + 1 + 1 + 1 + 2 + 4 + 2 + 2 + 2
    );
    assert_eq!(
        values(
            &slice,
            &name(&db, "Session"),
            &["subject_id", "session_date"]
        ),
        set(&["s1/2024-01-01", "s2/2024-01-01"])
    );
    assert_eq!(
        values(&slice, &name(&db, "Person"), &["person"]),
        set(&["alice", "carol"])
    );
    assert_eq!(
        values(&slice, &name(&db, "Param"), &["param_id"]),
        set(&["1"])
    );
    assert_eq!(
        values(
            &slice,
            &name(&db, "Session.Camera"),
            &["subject_id", "camera"]
        ),
        set(&["s1/0", "s1/1", "s2/0", "s2/1"])
    );
    // tables are listed parents first
    let order: Vec<String> = slice.tables.iter().map(|t| t.name.pretty()).collect();
    let pos = |c: &str| {
        order
            .iter()
            .position(|n| n == &name(&db, c).pretty())
            .unwrap()
    };
    assert!(pos("Lab") < pos("Person") && pos("Person") < pos("Session"));
    assert!(pos("Session") < pos("Pair") && pos("Output") < pos("Figure"));

    // one leaf alone gives the same answer whichever order the leaves come in
    let reversed: Vec<_> = leaves.iter().rev().cloned().collect();
    assert_eq!(db.cascade_up(&reversed).unwrap(), slice);
}

#[test]
fn cascade_from_a_part_takes_its_master_and_siblings() {
    let (db, _dir, _m) = setup();
    // one camera of s2's session: the session, all its cameras, carol, L2, s2
    let leaves = vec![(
        name(&db, "Session.Camera"),
        Cond::map([("subject_id", "s2"), ("camera", "1")]),
    )];
    let slice = db.cascade_up(&leaves).unwrap();
    let count = |class: &str| slice.keys(&name(&db, class)).len();
    assert_eq!(count("Session"), 1);
    assert_eq!(count("Session.Camera"), 2);
    assert_eq!(count("Person"), 1);
    assert_eq!(count("Lab"), 1);
    assert_eq!(count("Subject"), 1);
    assert_eq!(count("Analysis"), 0, "descendants are not exported");
    assert_eq!(slice.total_rows(), 6);
    // a restriction that matches nothing declares the tables but exports no rows
    let empty = db
        .cascade_up(&[(name(&db, "Analysis"), Cond::sql("param_id > 100"))])
        .unwrap();
    assert_eq!(empty.total_rows(), 0);
    assert!(empty.tables.iter().any(|t| t.name == name(&db, "Subject")));
    // an unknown table is an error naming it
    let err = db
        .cascade_up(&[(FullName::new("exp", "nope"), Cond::Bool(true))])
        .unwrap_err()
        .to_string();
    assert!(err.to_lowercase().contains("nope"), "{err}");
}

#[test]
fn copied_slice_answers_the_same_queries() {
    let (db, _dir, m) = setup();
    let ids = outputs(&db, &m);
    let fig = name(&db, "Figure");
    let q = db
        .query_of(&fig)
        .unwrap()
        .restrict(Cond::map([("merge_id", Value::Uuid(ids[0]))]))
        .unwrap();
    let joined = db
        .table("exp.Session")
        .unwrap()
        .join(&db.table("exp.Session.Camera").unwrap())
        .unwrap()
        .restrict(Cond::map([("subject_id", "s1")]))
        .unwrap()
        .restrict(Cond::sql("session_date = '2024-01-01'"))
        .unwrap();
    let keys = joined.proj(spyglass_db::Proj::key()).unwrap();
    let leaves = vec![
        (fig.clone(), Cond::Query(Box::new(q.clone()))),
        (name(&db, "Session"), Cond::Query(Box::new(keys.clone()))),
        (name(&db, "Session.Camera"), Cond::Query(Box::new(keys))),
    ];
    let slice = db.cascade_up(&leaves).unwrap();
    let out = spyglass_testkit::scratch_dir();
    let dest = Db::open(&format!(
        "sqlite:///{}",
        out.path().join("slice.db").display()
    ))
    .unwrap();
    let stats = db.copy_slice(&slice, &dest, &|_, _| {}).unwrap();
    assert_eq!(stats.rows, slice.total_rows());
    // the same queries, asked of the copy, give the same rows
    let again = |q: &Query| {
        let tables = q.tables();
        assert!(!tables.is_empty());
        dest.fetch(q).unwrap()
    };
    assert_eq!(again(&q), db.fetch(&q).unwrap());
    assert_eq!(again(&joined), db.fetch(&joined).unwrap());
    // every table of the copy holds exactly the slice's rows
    for t in &slice.tables {
        if t.name.table.starts_with('~') {
            continue;
        }
        let n = dest.count(&dest.query_of(&t.name).unwrap()).unwrap();
        assert_eq!(n as usize, t.keys.len(), "{}", t.name.pretty());
    }
    let session = name(&db, "Session").pretty();
    assert_eq!(
        dest.describe(&session).unwrap(),
        db.describe(&session).unwrap()
    );
    // copying again into the same database is refused only on a definition mismatch:
    // the second copy fails on duplicate rows and leaves the copy as it was
    assert!(db.copy_slice(&slice, &dest, &|_, _| {}).is_err());
    let n = dest
        .count(&dest.query_of(&name(&db, "Session.Camera")).unwrap())
        .unwrap();
    assert_eq!(n, 2);
}

#[test]
fn fetched_queries_become_restriction_texts() {
    let (db, _dir, _m) = setup();
    let dialect = db.dialect();
    let lit = |s: &str| dialect.string_literal(s);
    // a map and a string on one table: the WHERE text itself
    let q = db
        .table("exp.Session")
        .unwrap()
        .restrict(Cond::map([("subject_id", "s1")]))
        .unwrap()
        .restrict(Cond::sql("session_date > '2024-01-01'"))
        .unwrap();
    let logged = db.restrictions_of(&q, 2048).unwrap();
    assert_eq!(
        logged,
        vec![(
            name(&db, "Session"),
            format!(
                "(`subject_id`={}) AND (session_date > '2024-01-01')",
                lit("s1")
            )
        )]
    );
    // OR lists and negation keep their structure
    let q = db
        .table("exp.Person")
        .unwrap()
        .restrict(Cond::Or(vec![
            Cond::map([("person", "alice")]),
            Cond::map([("person", "bob")]).not(),
        ]))
        .unwrap();
    let (_, text) = &db.restrictions_of(&q, 2048).unwrap()[0];
    assert_eq!(
        text,
        &format!(
            "((`person`={}) OR (NOT (`person`={})))",
            lit("alice"),
            lit("bob")
        )
    );
    // the text re-applied selects the same rows
    let back = db
        .table("exp.Person")
        .unwrap()
        .restrict(Cond::sql(text.clone()))
        .unwrap();
    assert_eq!(db.fetch(&back).unwrap(), db.fetch(&q).unwrap());
    // a join logs each side's keys
    let j = db
        .table("exp.Person")
        .unwrap()
        .restrict(Cond::map([("lab_name", "L2")]))
        .unwrap()
        .join(&db.table("exp.Lab").unwrap())
        .unwrap();
    let logged = db.restrictions_of(&j, 2048).unwrap();
    assert_eq!(
        logged,
        vec![
            (
                name(&db, "Person"),
                format!("`person` IN ({})", lit("carol"))
            ),
            (name(&db, "Lab"), format!("`lab_name` IN ({})", lit("L2"))),
        ]
    );
    // a restriction by another query logs the keys and the other query's tables
    let sub = db
        .table("exp.Session")
        .unwrap()
        .restrict(
            db.table("exp.Person")
                .unwrap()
                .restrict(Cond::map([("lab_name", "L1")]))
                .unwrap()
                .proj(spyglass_db::Proj::key().rename("experimenter", "person"))
                .unwrap(),
        )
        .unwrap();
    let logged = db.restrictions_of(&sub, 2048).unwrap();
    let tables: BTreeSet<String> = logged.iter().map(|(t, _)| t.pretty()).collect();
    let want: BTreeSet<String> = ["Person", "Session"]
        .iter()
        .map(|c| name(&db, c).pretty())
        .collect();
    assert_eq!(tables, want);
    // a fetch with a limit logs the keys of the rows it returned (here the first two
    // subjects by key: s1, s2)
    let top = db
        .table("exp.Subject")
        .unwrap()
        .top(&["subject_id"], Some(2), None)
        .unwrap();
    let logged = db.restrictions_of(&top, 2048).unwrap();
    assert_eq!(
        logged,
        vec![(
            name(&db, "Subject"),
            format!("`subject_id` IN ({},{})", lit("s1"), lit("s2"))
        )]
    );
    // a long restriction is never truncated: it becomes key lists of at most 120
    // characters, which together select the same rows
    let long = db
        .table("exp.Session.Camera")
        .unwrap()
        .restrict(Cond::sql(format!("camera < 5 {}", " AND 1=1".repeat(20))))
        .unwrap();
    let logged = db.restrictions_of(&long, 120).unwrap();
    assert!(logged.len() > 1, "{logged:?}");
    assert!(logged.iter().all(|(_, s)| s.len() <= 120));
    let ors: Vec<Cond> = logged.iter().map(|(_, s)| Cond::sql(s.clone())).collect();
    let back = db
        .table("exp.Session.Camera")
        .unwrap()
        .restrict(Cond::Or(ors))
        .unwrap();
    assert_eq!(db.count(&back).unwrap(), 5);
}
