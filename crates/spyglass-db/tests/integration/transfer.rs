//! `spyglass transfer` on real databases: a legacy MariaDB schema declared in plain SQL
//! (as an old lab database is), with a key renamed in the new schema, a date + time
//! pair that becomes one datetime, a `0000-00-00` date, text and set columns and DataJoint
//! blobs, copied by a plan into new schemas on MariaDB and into SQLite with a schema
//! prefix map. Expected values are written out by hand below; datajoint-python reads
//! the MariaDB target as the oracle.

use spyglass_db::stores::StoreConfig;
use spyglass_db::transfer::{transfer, Event, Options, Plan, Summary};
use spyglass_db::{Db, Row, SqlValue, TableSpec, Tier, Value};

/// Blob bytes of the three weighings that are copied (DataJoint blobs of float lists).
fn trace(i: u32) -> Vec<u8> {
    spyglass_blob::pack(&spyglass_blob::from_json(&serde_json::json!([
        i as f64 + 0.5,
        2.5
    ])))
}

/// Creates the legacy schema `<p>bl_lab` with plain SQL; returns its name.
fn legacy(db: &Db, p: &str) -> String {
    let s = format!("{p}bl_lab");
    db.execute("SET SESSION sql_mode = ''", &[]).unwrap();
    for sql in [
        format!("CREATE DATABASE `{s}`"),
        format!(
            "CREATE TABLE `{s}`.`rat` (ratname varchar(8) NOT NULL, born date NOT NULL DEFAULT '0000-00-00', \
             notes text, flags set('a','b','c') DEFAULT NULL, PRIMARY KEY (ratname)) ENGINE=InnoDB"
        ),
        format!(
            "CREATE TABLE `{s}`.`mass` (mass_id int(10) unsigned NOT NULL AUTO_INCREMENT, ratname varchar(8) NOT NULL, \
             `date` date NOT NULL, `time` time NOT NULL, tech varchar(8) DEFAULT NULL, mass double NOT NULL, trace longblob, \
             PRIMARY KEY (mass_id), KEY (ratname)) ENGINE=InnoDB"
        ),
        format!(
            "INSERT INTO `{s}`.`rat` VALUES ('R1','2020-01-02','calm','a,c'), ('R2','0000-00-00','no birth date',''), \
             ('R3','2021-05-06',NULL,'b')"
        ),
    ] {
        db.execute(&sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let ins = format!("INSERT INTO `{s}`.`mass` VALUES (?,?,?,?,?,?,?)");
    // (id, rat, date, time, technician, mass)
    type MassRow<'a> = (i64, &'a str, &'a str, &'a str, Option<&'a str>, f64);
    let rows: [MassRow; 5] = [
        (1, "R1", "2024-01-10", "08:30:00", Some("ab"), 350.5),
        (2, "R1", "2024-01-11", "09:00:00", None, 351.0),
        (3, "R2", "2024-01-12", "10:00:00", Some("cd"), 410.0),
        (4, "R3", "2023-12-01", "11:00:00", Some("ab"), 290.0),
        (5, "R3", "2024-02-01", "10:15:30", Some("ef"), 300.0),
    ];
    for (id, rat, d, t, tech, m) in rows {
        let tech = tech
            .map(|x| SqlValue::Text(x.into()))
            .unwrap_or(SqlValue::Null);
        let params = [
            SqlValue::Int(id),
            SqlValue::Text(rat.into()),
            SqlValue::Text(d.into()),
            SqlValue::Text(t.into()),
            tech,
            SqlValue::Float(m),
            SqlValue::Bytes(trace(id as u32)),
        ];
        db.execute(&ins, &params).unwrap();
    }
    db.execute("SET SESSION sql_mode = 'NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,ONLY_FULL_GROUP_BY'", &[]).unwrap();
    s
}

/// Declares the new pipeline's tables in `schema` (DataJoint definitions).
fn declare_new(db: &Db, schema: &str) {
    db.declare(
        schema,
        &TableSpec::new(
            "Rat",
            Tier::Manual,
            "ratname : varchar(8)\n---\nborn : date\nnotes = null : varchar(1000)\nflags = \"\" : varchar(16)",
        ),
    )
    .unwrap();
    db.declare(
        schema,
        &TableSpec::new(
            "Weighing",
            Tier::Manual,
            "weighing : int unsigned # was mass_id\n---\n-> Rat\nweighed_at : datetime\ntech = null : varchar(8)\nmass_g : double\ntrace = null : longblob",
        ),
    )
    .unwrap();
}

fn plan_yaml(
    src_url: &str,
    dst_url: &str,
    from: &str,
    to: &str,
    src_schema: &str,
    dst_schema: &str,
) -> String {
    format!(
        r#"source: {src_url}
target: {dst_url}
prefix_map:
  {from}: {to}
window: 2
tables:
  - source: {src_schema}.mass
    target: {dst_schema}.Weighing
    keys: {{mass_id: weighing}}
    columns: {{mass: mass_g}}
    transforms:
      - date_time: {{date: date, time: time, into: weighed_at}}
    restriction: "`date` >= '2024-01-01'"
  - source: {src_schema}.rat
    transforms:
      - zero_date: {{column: born, action: skip}}
"#
    )
}

fn run(src: &Db, dst: &Db, plan: &Plan, dry: bool) -> Summary {
    let mut events = 0;
    let s = transfer(src, dst, plan, &Options { dry_run: dry }, &mut |e| {
        if let Event::Rows(_) = e {
            events += 1
        }
    })
    .unwrap();
    assert!(events > 0);
    s
}

/// (source rows, copied, present, skipped, failed) per table, parents first.
fn counts(s: &Summary) -> Vec<(u64, u64, u64, u64, u64)> {
    s.tables
        .iter()
        .map(|t| (t.source_rows, t.copied, t.present, t.skipped, t.failed))
        .collect()
}

fn raw_rows(db: &Db, sql: &str) -> Vec<Vec<SqlValue>> {
    db.query_raw(sql, &[]).unwrap()
}

/// The weighings as the target stores them: key, rat, datetime text, tech, mass.
fn weighings(db: &Db, table: &str) -> Vec<(i64, String, String, Option<String>, f64)> {
    let rows = db.fetch(&db.table(table).unwrap()).unwrap();
    let mut out: Vec<_> = rows
        .iter()
        .map(|r: &Row| {
            (
                r.get("weighing").unwrap().as_i64().unwrap(),
                r.get("ratname").unwrap().as_str().unwrap().to_string(),
                r.get("weighed_at").unwrap().python_str(),
                r.get("tech").unwrap().as_str().map(str::to_string),
                r.get("mass_g").unwrap().as_f64().unwrap(),
            )
        })
        .collect();
    out.sort_by_key(|w| w.0);
    out
}

fn expected_first_run() -> Vec<(i64, String, String, Option<String>, f64)> {
    vec![
        (
            1,
            "R1".into(),
            "2024-01-10 08:30:00".into(),
            Some("ab".into()),
            350.5,
        ),
        (2, "R1".into(), "2024-01-11 09:00:00".into(), None, 351.0),
        (
            5,
            "R3".into(),
            "2024-02-01 10:15:30".into(),
            Some("ef".into()),
            300.0,
        ),
    ]
}

fn mysql() -> (Db, String) {
    let url = spyglass_testkit::mysql_url();
    (Db::open(&url).unwrap(), url)
}

#[test]
fn legacy_mariadb_into_new_mariadb_schemas() {
    let (admin, url) = mysql();
    let p = spyglass_testkit::unique_prefix();
    let src_schema = legacy(&admin, &p);
    let dst_schema = format!("{p}bl_new_lab");
    let dst = Db::open(&url).unwrap();
    declare_new(&dst, &dst_schema);
    let src = Db::open(&url).unwrap();
    let plan = Plan::from_yaml(&plan_yaml(
        &url,
        &url,
        &format!("{p}bl_"),
        &format!("{p}bl_new_"),
        &src_schema,
        &dst_schema,
    ))
    .unwrap();

    // dry run: counts, nothing written
    let dry = run(&src, &dst, &plan, true);
    assert_eq!(
        dry.tables[0].target,
        format!("{dst_schema}.rat"),
        "parents first"
    );
    assert_eq!(counts(&dry), vec![(3, 2, 0, 1, 0), (4, 4, 0, 0, 0)]);
    assert!(dst
        .fetch(&dst.table(&format!("{dst_schema}.Rat")).unwrap())
        .unwrap()
        .is_empty());

    // first run: R2 has a zero birth date and is skipped, so its weighing (3) fails the
    // foreign key and is logged; 4 is outside the date window
    let first = run(&src, &dst, &plan, false);
    assert_eq!(counts(&first), vec![(3, 2, 0, 1, 0), (4, 3, 0, 0, 1)]);
    assert_eq!(first.failed(), 1);
    assert!(first.line().starts_with("transfer: 2 tables, 7 rows read, 5 copied, 0 already present, 1 skipped, 1 failed (see ~transfer_error)"), "{}", first.line());
    assert_eq!(
        weighings(&dst, &format!("{dst_schema}.Weighing")),
        expected_first_run()
    );
    let log = raw_rows(&dst, &format!("SELECT table_name, source_table, source_key, reason FROM `{dst_schema}`.`~transfer_error`"));
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0][0].to_text(), format!("{dst_schema}.weighing"));
    assert_eq!(log[0][1].to_text(), format!("{src_schema}.mass"));
    assert_eq!(log[0][2].to_text(), "mass_id=3");
    assert!(
        log[0][3].to_text().to_lowercase().contains("foreign key"),
        "{:?}",
        log[0][3]
    );

    // blobs byte for byte
    let a = raw_rows(
        &src,
        &format!(
            "SELECT trace FROM `{src_schema}`.`mass` WHERE mass_id IN (1,2,5) ORDER BY mass_id"
        ),
    );
    let b = raw_rows(
        &dst,
        &format!("SELECT trace FROM `{dst_schema}`.`weighing` ORDER BY weighing"),
    );
    assert_eq!(a, b);
    assert_eq!(b[2][0], SqlValue::Bytes(trace(5)));

    // datajoint-python reads the target with the same values
    let c = spyglass_db::config::parse_mysql_url(&url).unwrap();
    let out = spyglass_testkit::run_python(
        r#"
import sys, json, datajoint as dj
host, port, user, pw, schema = sys.argv[1:6]
dj.config['database.host'] = host; dj.config['database.port'] = int(port)
dj.config['database.user'] = user; dj.config['database.password'] = pw
dj.config['database.use_tls'] = False; dj.config['loglevel'] = 'WARNING'
m = dj.create_virtual_module('m', schema)
w = m.Weighing.fetch(order_by='weighing', as_dict=True)
r = m.Rat.fetch(order_by='ratname', as_dict=True)
print(json.dumps({
  'w': [[x['weighing'], x['ratname'], x['weighed_at'].strftime('%Y-%m-%d %H:%M:%S'), x['tech'], x['mass_g'], [float(v) for v in x['trace']]] for x in w],
  'r': [[x['ratname'], x['born'].isoformat(), x['notes'], x['flags']] for x in r]}))
"#,
        &[
            &c.host,
            &c.port.to_string(),
            c.user.as_deref().unwrap_or("root"),
            c.password.as_deref().unwrap_or(""),
            &dst_schema,
        ],
    );
    let got: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        got,
        serde_json::json!({
            "w": [[1, "R1", "2024-01-10 08:30:00", "ab", 350.5, [1.5, 2.5]],
                  [2, "R1", "2024-01-11 09:00:00", null, 351.0, [2.5, 2.5]],
                  [5, "R3", "2024-02-01 10:15:30", "ef", 300.0, [5.5, 2.5]]],
            "r": [["R1", "2020-01-02", "calm", "a,c"], ["R3", "2021-05-06", null, "b"]]
        })
    );

    // a second run copies nothing (the failed row is tried again and stays logged)
    let second = run(&src, &dst, &plan, false);
    assert_eq!(counts(&second), vec![(3, 0, 2, 1, 0), (4, 0, 3, 0, 1)]);

    // once the parent exists the logged row goes in and leaves the log
    dst.insert(
        &format!("{dst_schema}.Rat"),
        &[Row::from_pairs([
            ("ratname", Value::from("R2")),
            ("born", Value::from("2019-01-01")),
        ])],
        Default::default(),
    )
    .unwrap();
    let third = run(&src, &dst, &plan, false);
    assert_eq!(counts(&third), vec![(3, 0, 2, 1, 0), (4, 1, 3, 0, 0)]);
    assert!(raw_rows(
        &dst,
        &format!("SELECT * FROM `{dst_schema}`.`~transfer_error`")
    )
    .is_empty());
    for s in [&src_schema, &dst_schema] {
        admin.execute(&format!("DROP DATABASE `{s}`"), &[]).unwrap();
    }
}

#[test]
fn legacy_mariadb_into_sqlite_with_prefix_map() {
    let (admin, url) = mysql();
    let p = spyglass_testkit::unique_prefix();
    let src_schema = legacy(&admin, &p);
    let dir = spyglass_testkit::scratch_dir();
    let dst_url = format!("sqlite:///{}", dir.path().join("new.db").display());
    let dst = Db::open(&dst_url).unwrap();
    declare_new(&dst, "bl_new_lab");
    let src = Db::open(&url).unwrap();
    let plan = Plan::from_yaml(&plan_yaml(
        &url,
        &dst_url,
        &format!("{p}bl_"),
        "bl_new_",
        &src_schema,
        "bl_new_lab",
    ))
    .unwrap();
    let first = run(&src, &dst, &plan, false);
    assert_eq!(counts(&first), vec![(3, 2, 0, 1, 0), (4, 3, 0, 0, 1)]);
    assert_eq!(weighings(&dst, "bl_new_lab.Weighing"), expected_first_run());
    let rats = raw_rows(
        &dst,
        "SELECT ratname, born, notes, flags FROM `bl_new_lab.rat` ORDER BY ratname",
    );
    assert_eq!(
        rats,
        vec![
            vec![
                SqlValue::Text("R1".into()),
                SqlValue::Text("2020-01-02".into()),
                SqlValue::Text("calm".into()),
                SqlValue::Text("a,c".into())
            ],
            vec![
                SqlValue::Text("R3".into()),
                SqlValue::Text("2021-05-06".into()),
                SqlValue::Null,
                SqlValue::Text("b".into())
            ],
        ]
    );
    let b = raw_rows(
        &dst,
        "SELECT trace FROM `bl_new_lab.weighing` ORDER BY weighing",
    );
    assert_eq!(
        b,
        vec![
            vec![SqlValue::Bytes(trace(1))],
            vec![SqlValue::Bytes(trace(2))],
            vec![SqlValue::Bytes(trace(5))]
        ]
    );
    let log = raw_rows(&dst, "SELECT source_key FROM `bl_new_lab.~transfer_error`");
    assert_eq!(log, vec![vec![SqlValue::Text("mass_id=3".into())]]);
    let second = run(&src, &dst, &plan, false);
    assert_eq!(second.copied(), 0);
    admin
        .execute(&format!("DROP DATABASE `{src_schema}`"), &[])
        .unwrap();
}

#[test]
fn plan_errors_change_nothing() {
    let (admin, url) = mysql();
    let p = spyglass_testkit::unique_prefix();
    let src_schema = legacy(&admin, &p);
    let dir = spyglass_testkit::scratch_dir();
    let dst_url = format!("sqlite:///{}", dir.path().join("new.db").display());
    let dst = Db::open(&dst_url).unwrap();
    declare_new(&dst, "bl_new_lab");
    let src = Db::open(&url).unwrap();
    let good = plan_yaml(
        &url,
        &dst_url,
        &format!("{p}bl_"),
        "bl_new_",
        &src_schema,
        "bl_new_lab",
    );
    let cases = [
        (good.replace(".mass\n", ".massx\n"), "no such table"),
        (good.replace("Weighing", "Weighings"), "does not exist"),
        (
            good.replace("mass_id: weighing", "mass_id: weigh"),
            "`weigh`",
        ),
        (
            good.replace("`date` >= '2024-01-01'", "`dte` >= 1"),
            "restriction",
        ),
        (
            good.replace("columns: {mass: mass_g}", "columns: {mass: mass_kg}"),
            "`mass_g`",
        ),
        (good.replace("action: skip", "action: null"), "not nullable"),
    ];
    for (yaml, needle) in cases {
        let plan = Plan::from_yaml(&yaml).unwrap();
        let err = transfer(&src, &dst, &plan, &Options::default(), &mut |_| {})
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{needle}: {err}");
        for t in ["`bl_new_lab.rat`", "`bl_new_lab.weighing`"] {
            assert_eq!(
                raw_rows(&dst, &format!("SELECT COUNT(*) FROM {t}"))[0][0],
                SqlValue::Int(0),
                "{err}"
            );
        }
        assert!(
            dst.query_raw("SELECT 1 FROM `bl_new_lab.~transfer_error`", &[])
                .is_err(),
            "no log table"
        );
    }
    admin
        .execute(&format!("DROP DATABASE `{src_schema}`"), &[])
        .unwrap();
}

#[test]
fn external_blobs_travel_with_their_files() {
    let (_, url) = mysql();
    let p = spyglass_testkit::unique_prefix();
    let dir = spyglass_testkit::scratch_dir();
    let (a, b) = (dir.path().join("store-a"), dir.path().join("store-b"));
    let src = Db::open(&url).unwrap();
    src.set_store("shared", StoreConfig::local(&a));
    let def = "sig : int\n---\nwave : blob@shared";
    let s = format!("{p}ext");
    src.declare(&s, &TableSpec::new("Signal", Tier::Manual, def))
        .unwrap();
    let waves: Vec<spyglass_blob::Value> = (0..3)
        .map(|i| spyglass_blob::from_json(&serde_json::json!([i, i * 10, 7])))
        .collect();
    let rows: Vec<Row> = waves
        .iter()
        .enumerate()
        .map(|(i, w)| {
            Row::from_pairs([
                ("sig", Value::from(i as i64)),
                ("wave", Value::from(w.clone())),
            ])
        })
        .collect();
    src.insert(&format!("{s}.Signal"), &rows, Default::default())
        .unwrap();
    let dst_url = format!("sqlite:///{}", dir.path().join("t.db").display());
    let dst = Db::open(&dst_url).unwrap();
    dst.declare("ext_copy", &TableSpec::new("Signal", Tier::Manual, def))
        .unwrap();
    let yaml = format!(
        "source: {url}\ntarget: {dst_url}\nprefix_map: {{{s}: ext_copy}}\nstores:\n  shared: {{source: {}, target: {}}}\ntables:\n  - source: {s}.signal\n",
        a.display(),
        b.display()
    );
    let plan = Plan::from_yaml(&yaml).unwrap();
    let sum = run(&src, &dst, &plan, false);
    assert_eq!(counts(&sum), vec![(3, 3, 0, 0, 0)]);
    // the files sit under the target store with DataJoint's layout, byte-equal
    for w in &waves {
        let bytes = spyglass_blob::pack(w);
        let hex = spyglass_db::stores::md5_uuid(&bytes).simple().to_string();
        let f = b
            .join("ext_copy")
            .join(&hex[0..2])
            .join(&hex[2..4])
            .join(&hex);
        assert_eq!(
            std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display())),
            bytes
        );
    }
    dst.set_store("shared", StoreConfig::local(&b));
    let got = dst.fetch(&dst.table("ext_copy.Signal").unwrap()).unwrap();
    let mut got: Vec<(i64, spyglass_blob::Value)> = got
        .iter()
        .map(|r| {
            (
                r.get("sig").unwrap().as_i64().unwrap(),
                r.get("wave").unwrap().as_blob().unwrap().clone(),
            )
        })
        .collect();
    got.sort_by_key(|g| g.0);
    assert_eq!(got.into_iter().map(|g| g.1).collect::<Vec<_>>(), waves);
    assert_eq!(run(&src, &dst, &plan, false).copied(), 0);
    src.execute(&format!("DROP DATABASE `{s}`"), &[]).unwrap();
}
