//! The `spyglass` command end to end on the example university files: declare,
//! load, tables, describe, show in each format, diagram, and clear failures.

use crate::common;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn examples() -> PathBuf {
    spyglass_testkit::workspace_root().join("examples/university")
}

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: spyglass_testkit::scratch_dir(),
        }
    }

    fn url(&self) -> String {
        format!("sqlite:///{}", self.dir.path().join("cli.db").display())
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_spyglass"))
            .args(["--db", &self.url()])
            .args(args)
            .env("SPYGLASS_BASE_DIR", self.dir.path())
            .current_dir(self.dir.path())
            .output()
            .expect("run spyglass")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "spyglass {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "spyglass {args:?} should fail");
        String::from_utf8(out.stderr).unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn loaded() -> Env {
    let env = Env::new();
    let ex = examples();
    let out = env.ok(&["declare", p(&ex.join("schema.yaml"))]);
    assert!(
        out.contains("declared university.Student (`university`.`student`)"),
        "{out}"
    );
    assert!(
        out.contains("declared university.LetterGrade (`university`.`#letter_grade`)"),
        "{out}"
    );
    for (t, f) in [
        ("Student", "students.csv"),
        ("Department", "departments.json"),
        ("StudentMajor", "majors.csv"),
        ("Course", "courses.csv"),
        ("Grade", "grades.csv"),
    ] {
        env.ok(&["load", &format!("university.{t}"), p(&ex.join(f))]);
    }
    env
}

#[test]
fn declare_is_idempotent_and_tables_lists_counts() {
    let env = loaded();
    let again = env.ok(&["declare", p(&examples().join("schema.yaml"))]);
    assert!(again.lines().all(|l| l.starts_with("unchanged")), "{again}");
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["tables", "--format", "json"])).unwrap();
    let find = |name: &str| {
        json.as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(find("university.Student")["rows"], 4);
    assert_eq!(find("university.Student")["tier"], "Manual");
    assert_eq!(
        find("university.LetterGrade")["stored_name"],
        "university.#letter_grade"
    );
    assert_eq!(find("university.LetterGrade")["rows"], 6);
    assert_eq!(find("university.Grade")["rows"], 4);
    let text = env.ok(&["tables", "--schema", "university"]);
    assert!(
        text.contains("university.#letter_grade") && text.contains("Lookup"),
        "{text}"
    );
}

#[test]
fn show_restricts_and_formats() {
    let env = loaded();
    let json: serde_json::Value = serde_json::from_str(&env.ok(&[
        "show",
        "university.Student",
        "--key",
        "sex=F",
        "--where",
        "home_state='OH'",
        "--format",
        "json",
    ]))
    .unwrap();
    let names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["first_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Alice", "Carol"]);
    assert_eq!(json[0]["date_of_birth"], "2000-01-15");
    let csv = env.ok(&[
        "show",
        "university.Grade",
        "--key",
        "dept=CS",
        "--format",
        "csv",
    ]);
    assert_eq!(
        csv,
        "student_id,dept,course,grade\n1,CS,1410,B\n2,CS,1410,A-\n"
    );
    let table = env.ok(&["show", "university.Student", "--limit", "2"]);
    assert!(
        table.contains("*student_id") && table.contains("2 of 4 rows"),
        "{table}"
    );
    let lg = env.ok(&[
        "show",
        "university.LetterGrade",
        "--key",
        "grade=A-",
        "--format",
        "json",
    ]);
    assert!(lg.contains("\"points\": \"3.67\""), "{lg}");
}

#[test]
fn describe_prints_the_definition() {
    let env = loaded();
    assert_eq!(
        env.ok(&["describe", "university.Grade"]),
        "-> Student\n-> Course\n---\n-> LetterGrade\n"
    );
    let s = env.ok(&["describe", "university.student"]);
    assert!(
        s.starts_with("# students\nstudent_id : int unsigned # university-wide ID number\n---\n"),
        "{s}"
    );
}

#[test]
fn diagrams_in_three_formats() {
    let env = loaded();
    env.ok(&[
        "diagram",
        "--schema",
        "university",
        "-o",
        p(&env.path("u.dot")),
    ]);
    let dot = std::fs::read_to_string(env.path("u.dot")).unwrap();
    assert!(dot.starts_with("digraph"));
    assert!(
        dot.contains("university__student -> university__grade"),
        "{dot}"
    );
    assert!(
        dot.contains("university__L_letter_grade -> university__grade [style=dashed]"),
        "{dot}"
    );
    env.ok(&["diagram", "-o", p(&env.path("u.mmd"))]);
    let mmd = std::fs::read_to_string(env.path("u.mmd")).unwrap();
    assert!(
        mmd.starts_with("flowchart TB") && mmd.contains("university__course --> university__grade"),
        "{mmd}"
    );
    env.ok(&["diagram", "-o", p(&env.path("u.svg"))]);
    let svg = std::fs::read_to_string(env.path("u.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    for name in [
        "Student",
        "Department",
        "StudentMajor",
        "Course",
        "LetterGrade",
        "Grade",
    ] {
        assert!(
            svg.contains(&format!(">{name}</text>")),
            "{name} missing from the SVG"
        );
    }
    assert_eq!(svg.matches("<path").count(), 6, "one curve per foreign key");
    assert!(env
        .fails(&["diagram", "-o", p(&env.path("u.png"))])
        .contains(".dot, .mmd or .svg"));
}

#[test]
fn bad_input_fails_with_clear_messages() {
    let env = loaded();
    assert!(env
        .fails(&["show", "university.Nope"])
        .contains("unknown table `university.Nope`"));
    assert!(env
        .fails(&["show", "university.Student", "--where", "gpa > 3"])
        .contains("unknown attribute `gpa`"));
    assert!(env
        .fails(&["show", "university.Student", "--key", "gpa=3"])
        .contains("no attribute `gpa`"));
    assert!(env
        .fails(&["show", "university.Student", "--key", "gpa"])
        .contains("ATTR=VALUE"));
    let dup = env.fails(&[
        "load",
        "university.Student",
        p(&examples().join("students.csv")),
    ]);
    assert!(
        dup.contains("duplicate") && dup.contains("student_id=1"),
        "{dup}"
    );
    std::fs::write(env.path("bad.yaml"), "schema: university\ntables:\n  - name: Thing\n    tier: fancy\n    definition: 'id : int'\n").unwrap();
    assert!(env
        .fails(&["declare", p(&env.path("bad.yaml"))])
        .contains("unknown tier `fancy`"));
    std::fs::write(env.path("bad2.yaml"), "schema: university\ntables:\n  - name: Thing\n    tier: manual\n    definition: 'id : text'\n").unwrap();
    assert!(env
        .fails(&["declare", p(&env.path("bad2.yaml"))])
        .contains("unsupported attribute type `text`"));
    std::fs::write(
        env.path("rows.csv"),
        "student_id,first_name,last_name,sex,date_of_birth,home_state\n9,Zed,Zee,Q,2000-01-01,OH\n",
    )
    .unwrap();
    assert!(env
        .fails(&["load", "university.Student", p(&env.path("rows.csv"))])
        .contains("`Q` is not one of F, M, U"));
    // the failed load left the table as it was
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["show", "university.Student", "--format", "json"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 4);
}

#[test]
fn init_writes_config_and_default_database() {
    let env = Env::new();
    let out = Command::new(env!("CARGO_BIN_EXE_spyglass"))
        .arg("init")
        .env("SPYGLASS_BASE_DIR", env.dir.path())
        .env_remove("SPYGLASS_DB")
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cfg = std::fs::read_to_string(env.path("spyglass.toml")).unwrap();
    assert!(
        cfg.contains("[database]") && cfg.contains("spyglass.db"),
        "{cfg}"
    );
    assert!(env.path("spyglass.db").exists());
}

#[test]
fn delete_previews_asks_and_cascades() {
    let env = loaded();
    // Alice: the student, her major and her two grades
    let dry = env.ok(&[
        "delete",
        "university.Student",
        "--key",
        "student_id=1",
        "--dry-run",
    ]);
    assert!(
        dry.contains("4 rows in 3 tables would be deleted") && dry.contains("dry run"),
        "{dry}"
    );
    assert!(
        dry.contains("university.Grade") && dry.contains("university.StudentMajor"),
        "{dry}"
    );
    // answering anything but yes deletes nothing
    let mut child = Command::new(env!("CARGO_BIN_EXE_spyglass"))
        .args([
            "--db",
            &env.url(),
            "delete",
            "university.Student",
            "--key",
            "student_id=1",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"no\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing deleted"));
    let n = |t: &str| {
        let j: serde_json::Value =
            serde_json::from_str(&env.ok(&["show", t, "--format", "json"])).unwrap();
        j.as_array().unwrap().len()
    };
    assert_eq!(n("university.Grade"), 4);
    let done = env.ok(&[
        "delete",
        "university.Student",
        "--key",
        "student_id=1",
        "--yes",
    ]);
    assert!(done.contains("deleted 4 rows"), "{done}");
    assert_eq!(
        (
            n("university.Student"),
            n("university.Grade"),
            n("university.StudentMajor")
        ),
        (3, 2, 2)
    );
    assert!(env
        .ok(&[
            "delete",
            "university.Student",
            "--key",
            "student_id=1",
            "--yes"
        ])
        .contains("nothing to delete"));
}

#[test]
fn drop_jobs_and_populate_commands() {
    let env = loaded();
    let out = env.ok(&["drop", "university.Course", "--yes"]);
    assert!(
        out.contains("2 tables would be dropped") && out.contains("dropped 2 tables"),
        "{out}"
    );
    assert!(env
        .fails(&["describe", "university.Grade"])
        .contains("unknown table"));
    assert!(env
        .fails(&["drop", "university.Nope", "--yes"])
        .contains("unknown table"));
    // no jobs yet
    let jobs = env.ok(&["jobs", "--format", "json"]);
    assert_eq!(jobs.trim(), "[]");
    assert!(env
        .ok(&["jobs", "university", "--clear-errors"])
        .contains("cleared 0 error jobs"));
    // populate needs a registered make
    std::fs::write(
        env.path("comp.yaml"),
        "schema: university\ntables:\n  - name: Gpa\n    tier: computed\n    definition: \"-> Student\\n---\\ngpa : float\"\n",
    )
    .unwrap();
    env.ok(&["declare", p(&env.path("comp.yaml"))]);
    assert!(env
        .fails(&["populate", "university.Gpa"])
        .contains("no make is registered for university.Gpa"));
    assert!(env
        .fails(&["populate", "university.Gpa", "--where", "nope > 1"])
        .contains("unknown attribute `nope`"));
    let out = env.ok(&["drop", "--schema", "university", "--yes"]);
    assert!(out.contains("dropped"), "{out}");
    assert_eq!(env.ok(&["tables", "--format", "json"]).trim(), "[]");
}

/// A schema made by datajoint-python, used with no Rust code through the CLI.
#[test]
fn datajoint_made_schema_through_the_cli() {
    let url = spyglass_testkit::mysql_url();
    let c = spyglass_db::config::parse_mysql_url(&url).unwrap();
    let schema = format!("{}cli_dj", spyglass_testkit::unique_prefix());
    spyglass_testkit::run_python(
        r#"
import sys, datajoint as dj
dj.config.update({'database.host': sys.argv[1], 'database.port': int(sys.argv[2]), 'database.user': sys.argv[3],
                  'database.password': sys.argv[4], 'database.use_tls': False, 'loglevel': 'WARNING'})
schema = dj.Schema(sys.argv[5])
@schema
class Mouse(dj.Manual):
    definition = """
    # mice
    mouse_id : int
    ---
    sex : enum('M', 'F')
    """
@schema
class Session(dj.Manual):
    definition = """
    -> Mouse
    session : int
    ---
    note = '' : varchar(40)
    """
Mouse.insert([(1, 'F'), (2, 'M')])
Session.insert([(1, 1, 'a'), (1, 2, 'b'), (2, 1, 'c')])
"#,
        &[
            &c.host,
            &c.port.to_string(),
            c.user.as_deref().unwrap_or("root"),
            c.password.as_deref().unwrap_or(""),
            &schema,
        ],
    );
    let run = |args: &[&str]| -> Output {
        Command::new(env!("CARGO_BIN_EXE_spyglass"))
            .args(["--db", &url])
            .args(args)
            .output()
            .unwrap()
    };
    let ok = |args: &[&str]| {
        let out = run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let tables = ok(&["tables", "--schema", &schema, "--format", "json"]);
    assert!(
        tables.contains(&format!("{schema}.Session")) && tables.contains("\"rows\": 3"),
        "{tables}"
    );
    assert_eq!(
        ok(&["describe", &format!("{schema}.Session")]),
        "-> Mouse\nsession : int\n---\nnote = \"\" : varchar(40)\n"
    );
    let rows: serde_json::Value = serde_json::from_str(&ok(&[
        "show",
        &format!("{schema}.Session"),
        "--key",
        "mouse_id=1",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(
        rows,
        serde_json::json!([{"mouse_id": 1, "session": 1, "note": "a"}, {"mouse_id": 1, "session": 2, "note": "b"}])
    );
    let del = ok(&[
        "delete",
        &format!("{schema}.Mouse"),
        "--key",
        "mouse_id=1",
        "--yes",
    ]);
    assert!(del.contains("deleted 3 rows"), "{del}");
    assert!(
        !format!("{del}{tables}").contains("***") || !url.contains('@'),
        "no credentials echoed"
    );
}

#[test]
fn delete_checks_the_lab_team_and_logs() {
    use spyglass::common::{common_interval as iv, common_lab as lab, common_session as sess};
    use spyglass_db::{InsertOptions, Row, Value};
    let env = Env::new();
    // a Spyglass database: Erin's session, Alice on Erin's team, Bob not
    let settings = spyglass::Settings::new(env.dir.path());
    let db = spyglass::Spyglass::open(&env.url(), settings.clone()).unwrap();
    let opts = InsertOptions {
        allow_direct_insert: true,
        ..Default::default()
    };
    let put = |t: &str, pairs: Vec<(&str, Value)>| {
        db.insert(t, &[Row::from_pairs(pairs)], opts).unwrap();
    };
    for (name, user) in [
        ("Erin Exp", ""),
        ("Alice Able", "alice"),
        ("Bob Baker", "bob"),
    ] {
        let (first, last) = name.split_once(' ').unwrap();
        put(
            lab::LAB_MEMBER,
            vec![
                ("lab_member_name", name.into()),
                ("first_name", first.into()),
                ("last_name", last.into()),
            ],
        );
        if !user.is_empty() {
            put(
                lab::LAB_MEMBER_INFO,
                vec![
                    ("lab_member_name", name.into()),
                    ("google_user_name", format!("{user}@example.org").into()),
                    ("datajoint_user_name", user.into()),
                ],
            );
        }
    }
    for (team, member) in [
        ("erin lab", "Erin Exp"),
        ("erin lab", "Alice Able"),
        ("bob lab", "Bob Baker"),
    ] {
        db.insert(
            lab::LAB_TEAM,
            &[Row::from_pairs([
                ("team_name", team),
                ("team_description", ""),
            ])],
            InsertOptions {
                skip_duplicates: true,
                ..Default::default()
            },
        )
        .unwrap();
        put(
            lab::LAB_TEAM_MEMBER,
            vec![
                ("team_name", team.into()),
                ("lab_member_name", member.into()),
            ],
        );
    }
    let raw = settings.raw_dir.join("s1_.nwb");
    std::fs::write(&raw, b"placeholder").unwrap();
    put(
        spyglass::common::common_nwbfile::NWBFILE,
        vec![
            ("nwb_file_name", "s1_.nwb".into()),
            ("nwb_file_abs_path", raw.to_str().unwrap().into()),
        ],
    );
    put(
        sess::SESSION,
        vec![
            ("nwb_file_name", "s1_.nwb".into()),
            ("session_description", "hand-made".into()),
            ("session_start_time", "2024-01-01 10:00:00".into()),
            ("timestamps_reference_time", "2024-01-01 10:00:00".into()),
        ],
    );
    put(
        sess::SESSION_EXPERIMENTER,
        vec![
            ("nwb_file_name", "s1_.nwb".into()),
            ("lab_member_name", "Erin Exp".into()),
        ],
    );
    iv::insert(
        &db,
        &iv::IntervalList::new("s1_.nwb", "epoch 1", vec![[0.0, 1.0]]),
        false,
    )
    .unwrap();
    drop(db);

    let target = [
        "delete",
        iv::INTERVAL_LIST,
        "--key",
        "nwb_file_name=s1_.nwb",
        "--yes",
    ];
    let refused = env.fails(&[&target[..], &["--user", "bob"]].concat());
    assert!(
        refused.contains("permission denied")
            && refused.contains("'bob'")
            && refused.contains("'Erin Exp'"),
        "{refused}"
    );
    let done = env.ok(&[&target[..], &["--user", "alice"]].concat());
    assert!(
        done.contains("deleted 1 rows") && done.contains("CautiousDelete as alice"),
        "{done}"
    );
    // a table with no path to Session: a warning, then the delete
    let out = env.run(&[
        "delete",
        lab::LAB_TEAM,
        "--key",
        "team_name=bob lab",
        "--user",
        "bob",
        "--yes",
    ]);
    assert!(out.status.success());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(stdout.contains("deleted 2 rows"), "{stdout}");
    assert!(
        stderr.contains("warning: could not find a lab team associated with common_lab.LabTeam"),
        "{stderr}"
    );
    // super delete by a non-member
    let forced = env.ok(&[
        "delete",
        sess::SESSION,
        "--user",
        "bob",
        "--force-permission",
        "--yes",
    ]);
    assert!(forced.contains("CautiousDelete as bob"), "{forced}");
    let log: serde_json::Value =
        serde_json::from_str(&env.ok(&["show", "common_usage.CautiousDelete", "--format", "json"]))
            .unwrap();
    let rows = log.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["dj_user"], "alice");
    assert_eq!(rows[0]["origin"], "`common_interval`.`interval_list`");
    assert_eq!(rows[2]["restriction"], "Super delete: None");
}

/// Runs spyglass in `env`'s folder against another database.
fn run_on(env: &Env, db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spyglass"))
        .args(["--db", db])
        .args(args)
        .env("SPYGLASS_BASE_DIR", env.dir.path())
        .current_dir(env.dir.path())
        .output()
        .expect("run spyglass")
}

fn ok_on(env: &Env, db: &str, args: &[&str]) -> String {
    let out = run_on(env, db, args);
    assert!(
        out.status.success(),
        "spyglass {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Declares the university tables in `db_url` under schema `uni_copy`.
fn declare_copy(env: &Env, db_url: &str) {
    let text = std::fs::read_to_string(examples().join("schema.yaml"))
        .unwrap()
        .replace("schema: university", "schema: uni_copy");
    let yaml = env.path("copy-schema.yaml");
    std::fs::write(&yaml, text).unwrap();
    ok_on(env, db_url, &["declare", p(&yaml)]);
}

#[test]
fn transfer_copies_once_logs_failures_and_exits_by_outcome() {
    let env = loaded();
    let target = |name: &str| format!("sqlite:///{}", env.path(name).display());
    let plan = |dst: &str, tables: &[&str]| {
        let list: String = tables
            .iter()
            .map(|t| format!("  - source: university.{t}\n"))
            .collect();
        let f = env.path("plan.yaml");
        std::fs::write(
            &f,
            format!("source: {}\ntarget: {dst}\nprefix_map: {{university: uni_copy}}\nwindow: 2\ntables:\n{list}", env.url()),
        )
        .unwrap();
        f
    };
    // child listed first: parents are copied first anyway
    let dst = target("copy.db");
    declare_copy(&env, &dst);
    let f = plan(&dst, &["student_major", "student", "department"]);
    let dry = env.ok(&["transfer", p(&f), "--dry-run"]);
    assert!(
        dry.contains("university.student -> uni_copy.student: 4 read, 4 to copy"),
        "{dry}"
    );
    let shown = ok_on(
        &env,
        &dst,
        &["show", "uni_copy.Student", "--format", "json"],
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&shown)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let out = env.ok(&["transfer", p(&f)]);
    let last = out.lines().last().unwrap();
    assert!(
        last.starts_with(
            "transfer: 3 tables, 9 rows read, 9 copied, 0 already present, 0 skipped, 0 failed"
        ),
        "{out}"
    );
    let shown = ok_on(
        &env,
        &dst,
        &["show", "uni_copy.Student", "--format", "json"],
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&shown)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let again = env.ok(&["transfer", p(&f)]);
    assert!(again.contains("0 copied, 9 already present"), "{again}");

    // majors without their students: every row fails the foreign key, exit code 3
    let dst2 = target("copy2.db");
    declare_copy(&env, &dst2);
    let f = plan(&dst2, &["student_major"]);
    let out = env.run(&["transfer", p(&f)]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("3 failed (see ~transfer_error)"), "{text}");

    // a plan error: exit 1, nothing written
    let f = plan(&dst2, &["no_such_table"]);
    let out = env.run(&["transfer", p(&f)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no_such_table"));
}

#[test]
fn doctor_reports_each_check_and_hides_passwords() {
    let env = loaded();
    let out = env.ok(&["doctor"]);
    for needle in [
        "[ok  ] config",
        "[ok  ] base dir",
        "HDF5 ",
        "deflate",
        "[ok  ] database",
        "the --db flag",
        "[ok  ] server     SQLite 3.",
        "[ok  ] schemas",
        "[ok  ] jobs",
    ] {
        assert!(out.contains(needle), "{needle}:\n{out}");
    }
    let out = run_on(&env, "mysql://lab:s3cret-pw@127.0.0.1:1", &["doctor"]);
    assert_eq!(out.status.code(), Some(1));
    let text = common::text(&out);
    assert!(text.contains("[FAIL] database"), "{text}");
    assert!(!text.contains("s3cret"), "password printed:\n{text}");
}
