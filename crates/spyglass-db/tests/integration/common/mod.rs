//! Shared fixtures for the engine tests: a fresh SQLite database and the small
//! university schema whose query results are worked out by hand in university.rs.
#![allow(dead_code)]

use spyglass_db::{Db, InsertOptions, Row, TableSpec, Tier, Value};

/// A fresh database: a SQLite file in a scratch directory, or, with
/// `SPYGLASS_TEST_BACKEND=mysql`, the test MariaDB with a schema prefix unique to
/// this test (the scratch directory is kept alive by the returned guard).
pub fn fresh_db() -> (Db, tempfile::TempDir) {
    let dir = spyglass_testkit::scratch_dir();
    if spyglass_testkit::mysql_selected() {
        let db = Db::open(&spyglass_testkit::mysql_url()).expect("connect to the test MariaDB");
        db.set_prefix(&spyglass_testkit::unique_prefix());
        return (db, dir);
    }
    let url = format!("sqlite:///{}", dir.path().join("test.db").display());
    (Db::open(&url).expect("open sqlite"), dir)
}

/// Points store `raw` at `raw` and declares `files.Doc` (`doc_id`, a `filepath@raw`).
pub fn filepath_table(db: &Db, raw: &std::path::Path) {
    db.set_store("raw", spyglass_db::stores::StoreConfig::local(raw));
    db.declare(
        "files",
        &TableSpec::new(
            "Doc",
            Tier::Manual,
            "doc_id : int\n---\npath : filepath@raw",
        ),
    )
    .unwrap();
}

/// Builds a row from (name, value) pairs.
pub fn row(pairs: &[(&str, Value)]) -> Row {
    Row::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())))
}

fn v<T: Into<Value>>(x: T) -> Value {
    x.into()
}

/// Declares the university schema and fills it with the hand-checked data set.
pub fn university() -> (Db, tempfile::TempDir) {
    let (db, dir) = fresh_db();
    let s = "univ";
    let decl = |name: &str, tier: Tier, def: &str| {
        db.declare(s, &TableSpec::new(name, tier, def))
            .unwrap_or_else(|e| panic!("declare {name}: {e}"));
    };
    decl(
        "Student",
        Tier::Manual,
        "# students
        student_id : int unsigned # university-wide ID number
        ---
        first_name : varchar(40)
        last_name : varchar(40)
        sex : enum('F', 'M', 'U')
        date_of_birth : date
        home_state : char(2) # US state acronym",
    );
    decl(
        "Department",
        Tier::Manual,
        "dept : varchar(6) # abbreviated department name
        ---
        dept_name : varchar(200)",
    );
    decl(
        "StudentMajor",
        Tier::Manual,
        "-> Student
        ---
        -> Department
        declare_date : date",
    );
    decl(
        "Course",
        Tier::Manual,
        "-> Department
        course : int unsigned # course number
        ---
        course_name : varchar(200)
        credits : decimal(3,1)",
    );
    decl(
        "Term",
        Tier::Manual,
        "term_year : year\nterm : enum('Spring', 'Summer', 'Fall')",
    );
    decl(
        "Section",
        Tier::Manual,
        "-> Course\n-> Term\nsection : char(1)\n---\nauditorium : varchar(12)",
    );
    decl("Enroll", Tier::Manual, "-> Student\n-> Section");
    db.declare(
        s,
        &TableSpec::new(
            "LetterGrade",
            Tier::Lookup,
            "grade : char(2)\n---\npoints : decimal(3,2)",
        )
        .contents(
            [
                ("A", "4.00"),
                ("A-", "3.67"),
                ("B+", "3.33"),
                ("B", "3.00"),
                ("C", "2.00"),
                ("F", "0.00"),
            ]
            .iter()
            .map(|(g, p)| row(&[("grade", v(*g)), ("points", Value::Decimal(p.to_string()))]))
            .collect(),
        ),
    )
    .unwrap();
    decl("Grade", Tier::Manual, "-> Enroll\n---\n-> LetterGrade");
    // renamed multi-column foreign key: both columns renamed
    decl(
        "Prerequisite",
        Tier::Manual,
        "-> Course\n-> Course.proj(prereq_dept='dept', prereq_course='course')",
    );
    // renamed multi-column foreign key where one column keeps its name
    decl(
        "CrossListing",
        Tier::Manual,
        "-> Course\n-> Course.proj(other_course='course')\n---\nnote = '' : varchar(40)",
    );

    let ins = |t: &str, rows: Vec<Row>| {
        db.insert(&format!("univ.{t}"), &rows, InsertOptions::default())
            .unwrap_or_else(|e| panic!("insert {t}: {e}"));
    };
    ins(
        "Student",
        [
            (1, "Alice", "Smith", "F", "2000-01-15", "OH"),
            (2, "Bob", "Jones", "M", "1999-05-20", "CA"),
            (3, "Carol", "White", "F", "2001-03-03", "OH"),
            (4, "Dan", "Brown", "M", "2000-11-30", "NY"),
            (5, "Eve", "Black", "F", "1998-07-07", "CA"),
            (6, "Frank", "Green", "U", "2002-02-02", "TX"),
        ]
        .iter()
        .map(|(id, f, l, sex, dob, st)| {
            row(&[
                ("student_id", v(*id)),
                ("first_name", v(*f)),
                ("last_name", v(*l)),
                ("sex", v(*sex)),
                ("date_of_birth", v(*dob)),
                ("home_state", v(*st)),
            ])
        })
        .collect(),
    );
    ins(
        "Department",
        [
            ("BIOL", "Biology"),
            ("CS", "Computer Science"),
            ("MATH", "Mathematics"),
        ]
        .iter()
        .map(|(d, n)| row(&[("dept", v(*d)), ("dept_name", v(*n))]))
        .collect(),
    );
    ins(
        "StudentMajor",
        [
            (1, "BIOL", "2019-09-01"),
            (2, "CS", "2018-09-01"),
            (3, "BIOL", "2020-09-01"),
            (4, "MATH", "2019-09-01"),
            (5, "CS", "2017-09-01"),
        ]
        .iter()
        .map(|(s, d, dt)| {
            row(&[
                ("student_id", v(*s)),
                ("dept", v(*d)),
                ("declare_date", v(*dt)),
            ])
        })
        .collect(),
    );
    ins(
        "Course",
        [
            ("BIOL", 1010, "Intro Bio", "3.0"),
            ("BIOL", 2020, "Genetics", "4.0"),
            ("CS", 1410, "Programming", "4.0"),
            ("CS", 2420, "Algorithms", "3.0"),
            ("MATH", 1210, "Calculus", "4.0"),
        ]
        .iter()
        .map(|(d, c, n, cr)| {
            row(&[
                ("dept", v(*d)),
                ("course", v(*c)),
                ("course_name", v(*n)),
                ("credits", Value::Decimal(cr.to_string())),
            ])
        })
        .collect(),
    );
    ins(
        "Term",
        [(2020, "Fall"), (2021, "Spring")]
            .iter()
            .map(|(y, t)| row(&[("term_year", v(*y)), ("term", v(*t))]))
            .collect(),
    );
    let sections = [
        ("BIOL", 1010, 2020, "Fall", "a", "A1"),
        ("CS", 1410, 2020, "Fall", "a", "B1"),
        ("CS", 1410, 2020, "Fall", "b", "B2"),
        ("MATH", 1210, 2020, "Fall", "a", "C1"),
        ("BIOL", 2020, 2021, "Spring", "a", "A2"),
        ("CS", 2420, 2021, "Spring", "a", "B3"),
    ];
    ins(
        "Section",
        sections
            .iter()
            .map(|(d, c, y, t, s, a)| {
                row(&[
                    ("dept", v(*d)),
                    ("course", v(*c)),
                    ("term_year", v(*y)),
                    ("term", v(*t)),
                    ("section", v(*s)),
                    ("auditorium", v(*a)),
                ])
            })
            .collect(),
    );
    // (student, section index, grade or "")
    let enroll = [
        (1, 0, "A"),
        (1, 1, "B"),
        (1, 4, "A-"),
        (2, 1, "A"),
        (2, 5, "A"),
        (2, 3, "B+"),
        (3, 0, "B"),
        (3, 4, ""),
        (4, 3, "C"),
        (4, 2, "F"),
        (5, 2, "A-"),
        (5, 5, "B"),
    ];
    let key = |s: i32, i: usize| {
        let (d, c, y, t, sec, _) = sections[i];
        vec![
            ("student_id", v(s)),
            ("dept", v(d)),
            ("course", v(c)),
            ("term_year", v(y)),
            ("term", v(t)),
            ("section", v(sec)),
        ]
    };
    ins(
        "Enroll",
        enroll.iter().map(|(s, i, _)| row(&key(*s, *i))).collect(),
    );
    ins(
        "Grade",
        enroll
            .iter()
            .filter(|(_, _, g)| !g.is_empty())
            .map(|(s, i, g)| {
                let mut k = key(*s, *i);
                k.push(("grade", v(*g)));
                row(&k)
            })
            .collect(),
    );
    ins(
        "Prerequisite",
        [
            ("BIOL", 2020, "BIOL", 1010),
            ("CS", 2420, "CS", 1410),
            ("CS", 2420, "MATH", 1210),
        ]
        .iter()
        .map(|(d, c, pd, pc)| {
            row(&[
                ("dept", v(*d)),
                ("course", v(*c)),
                ("prereq_dept", v(*pd)),
                ("prereq_course", v(*pc)),
            ])
        })
        .collect(),
    );
    ins(
        "CrossListing",
        [("CS", 1410, 2420), ("BIOL", 1010, 2020)]
            .iter()
            .map(|(d, c, o)| row(&[("dept", v(*d)), ("course", v(*c)), ("other_course", v(*o))]))
            .collect(),
    );
    (db, dir)
}
