//! Cautious delete: permission by lab team, admins, tables without a path to Session,
//! masters reached through their parts, renamed foreign keys, super delete, dry run,
//! the `CautiousDelete` log, and on MariaDB the database account as the user and
//! datajoint-python (the oracle) declaring and reading the same log table.
//!
//! The world is built by hand (see `World`): expected rows, sessions and names below
//! are worked out from it, not computed by the code under test.

use crate::common;

use common::*;
use spyglass::cautious_delete::{
    cautious_delete, current_user, is_refusal, sessions_of, Access, CautiousDeleteOptions,
    CautiousDeleteReport,
};
use spyglass::common::common_lab as lab;
use spyglass::common::common_nwbfile as nwbf;
use spyglass::common::common_session as sess;
use spyglass::common::common_usage as usage;
use spyglass::Settings;
use spyglass_db::{Cond, Db, InsertOptions, Row, TableSpec, Tier, Value};
use std::collections::BTreeMap;

const RECORDING: &str = "cd_test.Recording";
const RESULT: &str = "cd_test.Result";
const OUTPUT: &str = "cd_test.Output";
const OUTPUT_PART: &str = "cd_test.Output.Recording";
const SUMMARY: &str = "cd_test.Summary";
const PAIR: &str = "cd_test.Pair";
const NOTE: &str = "cd_test.Note";
/// The full table names (DataJoint's `full_table_name`) the log's `origin` holds.
const RECORDING_FULL: &str = "`cd_test`.`recording`";
const NOTE_FULL: &str = "`cd_test`.`note`";
const TEST_TABLES: [&str; 7] = [RECORDING, RESULT, OUTPUT, OUTPUT_PART, SUMMARY, PAIR, NOTE];

const M1: &str = "00000000-0000-0000-0000-000000000001";
const M2: &str = "00000000-0000-0000-0000-000000000002";
const M3: &str = "00000000-0000-0000-0000-000000000003";

/// The hand-made world:
///
/// - members: Erin Exp, Olga Outsider, Alice Able (`alice`), Bob Baker (`bob`),
///   Ada Admin (`ada`, admin); teams: "erin lab" = {Erin, Alice}, "bob lab" = {Bob},
///   "olga lab" = {Olga}
/// - sessions: s1_.nwb (Erin), s2_.nwb (Erin, Olga), s3_.nwb (no experimenter)
/// - cd_test.Recording (-> Session, rec_id): (s1,1) (s1,2) (s2,1) (s3,1)
/// - cd_test.Result (-> Recording): one per recording
/// - cd_test.Output (merge master, merge_id) with part Output.Recording (-> Recording):
///   M1 -> (s1,1), M2 -> (s2,1), M3 -> (s3,1)
/// - cd_test.Summary (-> Output): M1, M2
/// - cd_test.Pair (pair_id; renamed -> Recording.proj(src_nwb, src_rec)):
///   1 -> (s1,2), 2 -> (s2,1)
/// - cd_test.Note (no foreign key): 1, 2
struct World {
    alice: String,
    bob: String,
    ada: String,
}

impl World {
    fn build(db: &Db, settings: &Settings, users: [&str; 3]) -> World {
        let [alice, bob, ada] = users;
        declare_test_schema(db);
        for (name, first, last) in [
            ("Erin Exp", "Erin", "Exp"),
            ("Olga Outsider", "Olga", "Outsider"),
            ("Alice Able", "Alice", "Able"),
            ("Bob Baker", "Bob", "Baker"),
            ("Ada Admin", "Ada", "Admin"),
        ] {
            ins(
                db,
                lab::LAB_MEMBER,
                vec![row([
                    ("lab_member_name", v(name)),
                    ("first_name", v(first)),
                    ("last_name", v(last)),
                ])],
            );
        }
        ins(
            db,
            lab::LAB_MEMBER_INFO,
            [
                ("Alice Able", alice, false),
                ("Bob Baker", bob, false),
                ("Ada Admin", ada, true),
            ]
            .iter()
            .map(|(name, user, admin)| {
                row([
                    ("lab_member_name", v(name)),
                    ("google_user_name", v(&format!("{user}@example.org"))),
                    ("datajoint_user_name", v(user)),
                    ("admin", Value::Bool(*admin)),
                ])
            })
            .collect(),
        );
        for (team, people) in [
            ("erin lab", &["Erin Exp", "Alice Able"][..]),
            ("bob lab", &["Bob Baker"][..]),
            ("olga lab", &["Olga Outsider"][..]),
        ] {
            ins(
                db,
                lab::LAB_TEAM,
                vec![row([("team_name", v(team)), ("team_description", v(""))])],
            );
            ins(
                db,
                lab::LAB_TEAM_MEMBER,
                people
                    .iter()
                    .map(|p| row([("team_name", v(team)), ("lab_member_name", v(p))]))
                    .collect(),
            );
        }
        add_session(db, settings, "s1_.nwb", &["Erin Exp"]);
        add_session(db, settings, "s2_.nwb", &["Erin Exp", "Olga Outsider"]);
        add_session(db, settings, "s3_.nwb", &[]);
        let recs = [
            ("s1_.nwb", 1),
            ("s1_.nwb", 2),
            ("s2_.nwb", 1),
            ("s3_.nwb", 1),
        ];
        ins(
            db,
            RECORDING,
            recs.iter()
                .map(|(n, r)| row([("nwb_file_name", v(n)), ("rec_id", Value::from(*r))]))
                .collect(),
        );
        ins(
            db,
            RESULT,
            recs.iter()
                .map(|(n, r)| {
                    row([
                        ("nwb_file_name", v(n)),
                        ("rec_id", Value::from(*r)),
                        ("value", Value::from(0.5)),
                    ])
                })
                .collect(),
        );
        let merges = [(M1, "s1_.nwb"), (M2, "s2_.nwb"), (M3, "s3_.nwb")];
        ins(
            db,
            OUTPUT,
            merges
                .iter()
                .map(|(m, _)| row([("merge_id", v(m)), ("source", v("Recording"))]))
                .collect(),
        );
        ins(
            db,
            OUTPUT_PART,
            merges
                .iter()
                .map(|(m, n)| {
                    row([
                        ("merge_id", v(m)),
                        ("nwb_file_name", v(n)),
                        ("rec_id", Value::from(1)),
                    ])
                })
                .collect(),
        );
        ins(
            db,
            SUMMARY,
            [M1, M2]
                .iter()
                .map(|m| row([("merge_id", v(m)), ("score", Value::from(1.0))]))
                .collect(),
        );
        ins(
            db,
            PAIR,
            vec![
                row([
                    ("pair_id", Value::from(1)),
                    ("src_nwb", v("s1_.nwb")),
                    ("src_rec", Value::from(2)),
                ]),
                row([
                    ("pair_id", Value::from(2)),
                    ("src_nwb", v("s2_.nwb")),
                    ("src_rec", Value::from(1)),
                ]),
            ],
        );
        ins(
            db,
            NOTE,
            (1..=2)
                .map(|i| row([("note_id", Value::from(i)), ("text", v("hello"))]))
                .collect(),
        );
        World {
            alice: alice.into(),
            bob: bob.into(),
            ada: ada.into(),
        }
    }
}

fn declare_test_schema(db: &Db) {
    let specs = [
        TableSpec::new(
            "Recording",
            Tier::Manual,
            "-> common_session.Session\nrec_id : int\n---\nnote = \"\" : varchar(40)",
        ),
        TableSpec::new("Result", Tier::Manual, "-> Recording\n---\nvalue : float"),
        TableSpec::new(
            "Output",
            Tier::Manual,
            "merge_id : uuid\n---\nsource : varchar(32)",
        )
        .part("Recording", "-> master\n---\n-> Recording"),
        TableSpec::new("Summary", Tier::Manual, "-> Output\n---\nscore : float"),
        TableSpec::new(
            "Pair",
            Tier::Manual,
            "pair_id : int\n---\n-> Recording.proj(src_nwb='nwb_file_name', src_rec='rec_id')",
        ),
        TableSpec::new(
            "Note",
            Tier::Manual,
            "note_id : int\n---\ntext : varchar(40)",
        ),
    ];
    for s in &specs {
        db.declare("cd_test", s).unwrap();
    }
}

/// A session with its Nwbfile row (an empty placeholder file in the raw store) and experimenters.
fn add_session(db: &Db, settings: &Settings, nwb: &str, experimenters: &[&str]) {
    let path = settings.raw_dir.join(nwb);
    std::fs::write(&path, b"placeholder").unwrap();
    ins(
        db,
        nwbf::NWBFILE,
        vec![row([
            ("nwb_file_name", v(nwb)),
            ("nwb_file_abs_path", v(path.to_str().unwrap())),
        ])],
    );
    ins(
        db,
        sess::SESSION,
        vec![row([
            ("nwb_file_name", v(nwb)),
            ("session_description", v("hand-made")),
            ("session_start_time", v("2024-01-01 10:00:00")),
            ("timestamps_reference_time", v("2024-01-01 10:00:00")),
        ])],
    );
    if !experimenters.is_empty() {
        ins(
            db,
            sess::SESSION_EXPERIMENTER,
            experimenters
                .iter()
                .map(|e| row([("nwb_file_name", v(nwb)), ("lab_member_name", v(e))]))
                .collect(),
        );
    }
}

fn v(s: &str) -> Value {
    Value::from(s)
}

fn row<const N: usize>(pairs: [(&str, Value); N]) -> Row {
    Row::from_pairs(pairs)
}

fn ins(db: &Db, table: &str, rows: Vec<Row>) {
    let opts = InsertOptions {
        allow_direct_insert: true,
        ..Default::default()
    };
    db.insert(table, &rows, opts)
        .unwrap_or_else(|e| panic!("insert into {table}: {e}"));
}

fn count(db: &Db, table: &str) -> u64 {
    db.count(&db.table(table).unwrap()).unwrap()
}

/// Row counts of the test tables and the common tables touched by the world.
fn snapshot(db: &Db) -> Vec<(String, u64)> {
    TEST_TABLES
        .iter()
        .chain(&[
            sess::SESSION,
            sess::SESSION_EXPERIMENTER,
            nwbf::NWBFILE,
            lab::LAB_MEMBER,
            lab::LAB_TEAM_MEMBER,
            usage::CAUTIOUS_DELETE,
        ])
        .map(|t| (t.to_string(), count(db, t)))
        .collect()
}

fn by(user: &str) -> CautiousDeleteOptions {
    CautiousDeleteOptions {
        user: Some(user.to_string()),
        ..Default::default()
    }
}

fn of_file(nwb: &str) -> Cond {
    Cond::map([("nwb_file_name", nwb)])
}

/// Rows deleted per table, by `schema.Class`.
fn deleted(r: &CautiousDeleteReport) -> BTreeMap<String, u64> {
    r.deleted.iter().map(|(t, n)| (t.pretty(), *n)).collect()
}

fn expect(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(t, n)| (t.to_string(), *n)).collect()
}

/// The log rows, oldest first.
fn log_rows(db: &Db) -> Vec<Row> {
    db.fetch_with(
        &db.table(usage::CAUTIOUS_DELETE).unwrap(),
        &spyglass_db::FetchSpec::default().order_by(&["id"]),
    )
    .unwrap()
}

/// `merge_deletes` of a log row as {full table name: rows}.
fn merge_deletes(r: &Row) -> BTreeMap<String, i128> {
    let Some(Value::Blob(b)) = r.get("merge_deletes") else {
        panic!("merge_deletes is not a blob: {r:?}");
    };
    let spyglass_blob::Value::Dict(items) = b.as_ref() else {
        panic!("merge_deletes is not a dict: {b:?}");
    };
    items
        .iter()
        .map(|(k, n)| match (k, n) {
            (spyglass_blob::Value::Str(k), spyglass_blob::Value::Int(n)) => (k.clone(), *n),
            other => panic!("unexpected entry {other:?}"),
        })
        .collect()
}

fn full(db: &Db, table: &str) -> String {
    db.table_info(table).unwrap().name.to_string()
}

fn world() -> (Env, World) {
    let env = Env::new();
    let w = World::build(&env.db, &env.settings, ["alice", "bob", "ada"]);
    (env, w)
}

fn refusal(r: spyglass::Result<CautiousDeleteReport>) -> String {
    match r {
        Ok(rep) => panic!("expected a refusal, got {:?}", rep.deleted),
        Err(e) => {
            assert!(is_refusal(&e), "not a permission refusal: {e}");
            e.to_string()
        }
    }
}

#[test]
fn team_member_deletes_and_the_delete_is_logged() {
    let (env, w) = world();
    let db = &env.db;
    let r = cautious_delete(db, RECORDING, of_file("s1_.nwb"), &by(&w.alice)).unwrap();
    assert_eq!(r.access, Access::TeamMember);
    assert_eq!(r.user.as_deref(), Some("alice"));
    assert_eq!(
        r.sessions
            .iter()
            .map(|k| s(k, "nwb_file_name"))
            .collect::<Vec<_>>(),
        ["s1_.nwb"]
    );
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    // recordings (s1,1) (s1,2), their results, M1 via its part (and its summary),
    // pair 1 (-> (s1,2))
    let want = expect(&[
        (RECORDING, 2),
        (RESULT, 2),
        (OUTPUT, 1),
        (OUTPUT_PART, 1),
        (SUMMARY, 1),
        (PAIR, 1),
    ]);
    assert_eq!(deleted(&r), want);
    assert_eq!(r.total_deleted(), 8);
    assert_eq!(count(db, RECORDING), 2);
    assert_eq!(count(db, RESULT), 2);
    assert_eq!(count(db, OUTPUT), 2);
    assert_eq!(count(db, SUMMARY), 1);
    assert_eq!(count(db, PAIR), 1);
    assert_eq!(count(db, sess::SESSION), 3);

    let logs = log_rows(db);
    assert_eq!(logs.len(), 1);
    let l = &logs[0];
    assert_eq!(s(l, "dj_user"), "alice");
    assert_eq!(s(l, "origin"), RECORDING_FULL);
    assert_eq!(s(l, "restriction"), "(`nwb_file_name`=\"s1_.nwb\")");
    let d = f(l, "duration");
    assert!((0.0..60.0).contains(&d), "duration {d}");
    let want_blob: BTreeMap<String, i128> = [
        ("`cd_test`.`recording`", 2),
        ("`cd_test`.`result`", 2),
        ("`cd_test`.`output`", 1),
        ("`cd_test`.`output__recording`", 1),
        ("`cd_test`.`summary`", 1),
        ("`cd_test`.`pair`", 1),
    ]
    .into_iter()
    .map(|(k, n)| (k.to_string(), n))
    .collect();
    assert_eq!(merge_deletes(l), want_blob);
}

#[test]
fn non_member_is_refused_and_nothing_changes() {
    let (env, w) = world();
    let db = &env.db;
    let before = snapshot(db);
    let msg = refusal(cautious_delete(
        db,
        RECORDING,
        of_file("s1_.nwb"),
        &by(&w.bob),
    ));
    for part in ["'bob'", "Bob Baker", "'Erin Exp'", "s1_.nwb"] {
        assert!(msg.contains(part), "{part} missing from: {msg}");
    }
    assert_eq!(snapshot(db), before);
    assert_eq!(count(db, usage::CAUTIOUS_DELETE), 0);

    // an experimenter outside the user's teams is named with the session
    let msg = refusal(cautious_delete(
        db,
        RECORDING,
        of_file("s2_.nwb"),
        &by(&w.alice),
    ));
    assert!(
        msg.contains("'Olga Outsider' (session(s) s2_.nwb)") && !msg.contains("'Erin Exp'"),
        "{msg}"
    );
    // a session without experimenter
    let msg = refusal(cautious_delete(
        db,
        RECORDING,
        of_file("s3_.nwb"),
        &by(&w.alice),
    ));
    assert!(
        msg.contains("s3_.nwb") && msg.contains("no experimenter"),
        "{msg}"
    );
    // a user that is no lab member
    let msg = refusal(cautious_delete(
        db,
        RECORDING,
        of_file("s1_.nwb"),
        &by("nobody"),
    ));
    assert!(
        msg.contains("'nobody'") && msg.contains("no lab member"),
        "{msg}"
    );
    assert_eq!(snapshot(db), before);
}

#[test]
fn admin_may_delete_anything() {
    let (env, w) = world();
    let db = &env.db;
    // s2 has an outsider and s3 no experimenter: only an admin may
    let r = cautious_delete(
        db,
        RECORDING,
        Cond::Or(vec![of_file("s2_.nwb"), of_file("s3_.nwb")]),
        &by(&w.ada),
    )
    .unwrap();
    assert_eq!(r.access, Access::Admin);
    // (s2,1) (s3,1), their results, M2 and M3 with parts, M2's summary, pair 2
    assert_eq!(
        deleted(&r),
        expect(&[
            (RECORDING, 2),
            (RESULT, 2),
            (OUTPUT, 2),
            (OUTPUT_PART, 2),
            (SUMMARY, 1),
            (PAIR, 1),
        ])
    );
    let logs = log_rows(db);
    assert_eq!(logs.len(), 1);
    assert_eq!(s(&logs[0], "dj_user"), "ada");
    assert_eq!(
        s(&logs[0], "restriction"),
        "((`nwb_file_name`=\"s2_.nwb\") OR (`nwb_file_name`=\"s3_.nwb\"))"
    );
}

#[test]
fn table_without_a_path_to_session_warns_and_deletes() {
    let (env, w) = world();
    let db = &env.db;
    let r = cautious_delete(db, NOTE, Cond::map([("note_id", 1)]), &by(&w.bob)).unwrap();
    assert_eq!(r.access, Access::NoSession);
    assert_eq!(r.warnings.len(), 1);
    assert!(
        r.warnings[0].contains("could not find a lab team associated with cd_test.Note"),
        "{:?}",
        r.warnings
    );
    assert_eq!(deleted(&r), expect(&[(NOTE, 1)]));
    assert_eq!(count(db, NOTE), 1);
    let logs = log_rows(db);
    assert_eq!(
        (s(&logs[0], "dj_user"), s(&logs[0], "origin")),
        ("bob".to_string(), NOTE_FULL.to_string())
    );
    // an admin gets no warning
    let r = cautious_delete(db, NOTE, Cond::map([("note_id", 2)]), &by(&w.ada)).unwrap();
    assert_eq!(r.access, Access::Admin);
    assert!(r.warnings.is_empty());
    assert!(sessions_of(db, NOTE, Cond::Bool(true)).unwrap().is_none());
}

#[test]
fn merge_master_reaches_session_through_its_parts() {
    let (env, w) = world();
    let db = &env.db;
    let merge = |m: &str| Cond::map([("merge_id", m)]);
    // which sessions: worked out from the part rows
    let q = sessions_of(db, OUTPUT, merge(M2)).unwrap().unwrap();
    assert_eq!(
        db.fetch(&q)
            .unwrap()
            .iter()
            .map(|k| s(k, "nwb_file_name"))
            .collect::<Vec<_>>(),
        ["s2_.nwb"]
    );
    // downstream of the master: Summary -> Output -> part -> Recording -> Session
    let q = sessions_of(db, SUMMARY, Cond::Bool(true)).unwrap().unwrap();
    let mut got: Vec<String> = db
        .fetch(&q)
        .unwrap()
        .iter()
        .map(|k| s(k, "nwb_file_name"))
        .collect();
    got.sort();
    assert_eq!(got, ["s1_.nwb", "s2_.nwb"]);

    let msg = refusal(cautious_delete(db, OUTPUT, merge(M2), &by(&w.alice)));
    assert!(
        msg.contains("'Olga Outsider' (session(s) s2_.nwb)"),
        "{msg}"
    );
    let msg = refusal(cautious_delete(db, SUMMARY, merge(M2), &by(&w.alice)));
    assert!(msg.contains("'Olga Outsider'"), "{msg}");
    assert_eq!(count(db, OUTPUT), 3);

    let r = cautious_delete(db, OUTPUT, merge(M1), &by(&w.alice)).unwrap();
    assert_eq!(r.access, Access::TeamMember);
    assert_eq!(
        deleted(&r),
        expect(&[(OUTPUT, 1), (OUTPUT_PART, 1), (SUMMARY, 1)])
    );
    assert_eq!(count(db, RECORDING), 4);
}

#[test]
fn renamed_foreign_keys_lead_to_the_right_session() {
    let (env, w) = world();
    let db = &env.db;
    let pair = |i: i64| Cond::map([("pair_id", i)]);
    let q = sessions_of(db, PAIR, pair(1)).unwrap().unwrap();
    assert_eq!(
        db.fetch(&q)
            .unwrap()
            .iter()
            .map(|k| s(k, "nwb_file_name"))
            .collect::<Vec<_>>(),
        ["s1_.nwb"]
    );
    let msg = refusal(cautious_delete(db, PAIR, pair(2), &by(&w.alice)));
    assert!(
        msg.contains("'Olga Outsider' (session(s) s2_.nwb)"),
        "{msg}"
    );
    let r = cautious_delete(db, PAIR, pair(1), &by(&w.alice)).unwrap();
    assert_eq!(deleted(&r), expect(&[(PAIR, 1)]));
    assert_eq!(count(db, PAIR), 1);
}

#[test]
fn deleting_upstream_of_session_checks_the_sessions_it_removes() {
    let (env, w) = world();
    let db = &env.db;
    let before = snapshot(db);
    // Nwbfile has no path up to Session, but its cascade deletes session s2
    let msg = refusal(cautious_delete(
        db,
        nwbf::NWBFILE,
        of_file("s2_.nwb"),
        &by(&w.alice),
    ));
    assert!(
        msg.contains("'Olga Outsider' (session(s) s2_.nwb)"),
        "{msg}"
    );
    // LabMember holds lab_member_name, but Olga's Experimenter row drags session s2
    let msg = refusal(cautious_delete(
        db,
        lab::LAB_MEMBER,
        Cond::map([("lab_member_name", "Olga Outsider")]),
        &by(&w.bob),
    ));
    assert!(
        msg.contains("'Erin Exp' (session(s) s2_.nwb)")
            && msg.contains("'Olga Outsider' (session(s) s2_.nwb)"),
        "{msg}"
    );
    assert_eq!(snapshot(db), before);
    let r = cautious_delete(db, nwbf::NWBFILE, of_file("s1_.nwb"), &by(&w.alice)).unwrap();
    assert_eq!(r.access, Access::TeamMember);
    assert_eq!(
        deleted(&r),
        expect(&[
            (nwbf::NWBFILE, 1),
            (sess::SESSION, 1),
            (sess::SESSION_EXPERIMENTER, 1),
            (RECORDING, 2),
            (RESULT, 2),
            (OUTPUT, 1),
            (OUTPUT_PART, 1),
            (SUMMARY, 1),
            (PAIR, 1),
        ])
    );
}

#[test]
fn super_delete_and_dry_run() {
    let (env, w) = world();
    let db = &env.db;
    let before = snapshot(db);
    // dry run: planned, checked, nothing deleted or logged
    let r = cautious_delete(
        db,
        RECORDING,
        of_file("s1_.nwb"),
        &CautiousDeleteOptions {
            dry_run: true,
            ..by(&w.alice)
        },
    )
    .unwrap();
    assert_eq!(r.plan.total(), 8);
    assert!(r.deleted.is_empty() && !r.logged);
    assert_eq!(snapshot(db), before);
    let dry_bob = CautiousDeleteOptions {
        dry_run: true,
        ..by(&w.bob)
    };
    refusal(cautious_delete(db, RECORDING, of_file("s1_.nwb"), &dry_bob));
    // a forced dry run reports the would-be refusal as a warning
    let r = cautious_delete(
        db,
        RECORDING,
        of_file("s1_.nwb"),
        &CautiousDeleteOptions {
            force_permission: true,
            ..dry_bob
        },
    )
    .unwrap();
    assert!(
        r.warnings.iter().any(|w| w.contains("would be refused")),
        "{:?}",
        r.warnings
    );
    assert_eq!(snapshot(db), before);

    // super delete by a non-member
    let r = cautious_delete(
        db,
        RECORDING,
        of_file("s1_.nwb"),
        &CautiousDeleteOptions {
            force_permission: true,
            ..by(&w.bob)
        },
    )
    .unwrap();
    assert_eq!(r.access, Access::Forced);
    assert_eq!(r.total_deleted(), 8);
    let logs = log_rows(db);
    assert_eq!(logs.len(), 1);
    assert_eq!(s(&logs[0], "dj_user"), "bob");
    assert_eq!(
        s(&logs[0], "restriction"),
        "Super delete: (`nwb_file_name`=\"s1_.nwb\")"
    );

    // nothing left to delete: no check, no log
    let r = cautious_delete(db, RECORDING, of_file("s1_.nwb"), &by(&w.bob)).unwrap();
    assert_eq!(r.access, Access::NothingToDelete);
    assert_eq!(log_rows(db).len(), 1);
}

#[test]
fn long_restrictions_are_cut_in_the_log() {
    let (env, w) = world();
    let db = &env.db;
    let long = format!(
        "nwb_file_name = 's1_.nwb' AND note <> '{}'",
        "x".repeat(300)
    );
    cautious_delete(db, RECORDING, Cond::sql(long.clone()), &by(&w.alice)).unwrap();
    let r = s(&log_rows(db)[0], "restriction");
    assert_eq!(r.chars().count(), 255);
    let full = format!("({long})");
    let kept: String = full.chars().take(254).collect();
    assert_eq!(r, format!("{kept}…"));
}

/// Runs [`user_probe`] in a child process with exactly the given user variables
/// (so that no test changes this process's environment); returns what it printed.
fn probe_user(vars: &[(&str, &str)], given: Option<&str>) -> String {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    let probe = spyglass_testkit::libtest_name(module_path!(), "user_probe");
    cmd.args(["--exact", &probe, "--nocapture", "--test-threads=1"])
        .env_remove("SPYGLASS_USER")
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env("CD_USER_PROBE", "1");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    if let Some(g) = given {
        cmd.env("CD_USER_GIVEN", g);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let start = text.find("PROBE<").expect("probe printed nothing") + 6;
    let end = text[start..].find(">END").unwrap() + start;
    text[start..end].to_string()
}

/// The child side of [`probe_user`]; does nothing in a normal run.
#[test]
fn user_probe() {
    if std::env::var("CD_USER_PROBE").is_err() {
        return;
    }
    let dir = spyglass_testkit::scratch_dir();
    let db = Db::open(&format!("sqlite:///{}", dir.path().join("u.db").display())).unwrap();
    let given = std::env::var("CD_USER_GIVEN").ok();
    match current_user(&db, given.as_deref()) {
        Ok(u) => println!("PROBE<user {u}>END"),
        Err(e) => println!("PROBE<error {e}>END"),
    }
}

#[test]
fn the_user_comes_from_the_option_then_the_environment() {
    let none = probe_user(&[], None);
    assert!(
        none.starts_with("error") && none.contains("--user") && none.contains("SPYGLASS_USER"),
        "{none}"
    );
    assert_eq!(probe_user(&[("LOGNAME", "ln")], None), "user ln");
    assert_eq!(
        probe_user(&[("LOGNAME", "ln"), ("USER", "u")], None),
        "user u"
    );
    let all = [("LOGNAME", "ln"), ("USER", "u"), ("SPYGLASS_USER", "sg")];
    assert_eq!(probe_user(&all, None), "user sg");
    assert_eq!(probe_user(&all, Some("given")), "user given");
    assert_eq!(probe_user(&all, Some("  ")), "user sg");
}

#[test]
fn ingested_session_is_deleted_by_a_teammate_only() {
    use spyglass_nwb::synthetic::{write_session, SyntheticParams};
    let env = Env::new();
    let db = &env.db;
    let src = env.staging().join("cd20240101.nwb");
    write_session(
        &src,
        &SyntheticParams {
            duration_s: 1.0,
            n_channels: 2,
            n_groups: 1,
            n_units: 0,
            ..SyntheticParams::default()
        },
    )
    .unwrap();
    assert!(env.insert(&[src]).iter().all(|r| r.is_ok()));
    let nwb = "cd20240101_.nwb";
    // the writer's experimenter has a personal team; add a teammate and a stranger
    for (name, first, last, user) in [
        ("Tom Teammate", "Tom", "Teammate", "tom"),
        ("Una Unrelated", "Una", "Unrelated", "una"),
    ] {
        ins(
            db,
            lab::LAB_MEMBER,
            vec![row([
                ("lab_member_name", v(name)),
                ("first_name", v(first)),
                ("last_name", v(last)),
            ])],
        );
        ins(
            db,
            lab::LAB_MEMBER_INFO,
            vec![row([
                ("lab_member_name", v(name)),
                ("google_user_name", v(&format!("{user}@example.org"))),
                ("datajoint_user_name", v(user)),
            ])],
        );
    }
    ins(
        db,
        lab::LAB_TEAM_MEMBER,
        vec![row([
            ("team_name", v("Sam Synthetic")),
            ("lab_member_name", v("Tom Teammate")),
        ])],
    );
    let before = ingest_counts(&env);
    // rows of this file in each table ingestion fills, counted before the delete
    let of_session: Vec<(String, u64)> = before
        .iter()
        .filter(|(t, _)| {
            db.table(t)
                .unwrap()
                .heading()
                .iter()
                .any(|a| a.name == "nwb_file_name")
                && t != nwbf::NWBFILE
                && !t.starts_with("common_nwbfile.")
        })
        .map(|(t, _)| (t.clone(), env.rows(t, nwb).len() as u64))
        .filter(|(_, n)| *n > 0)
        .collect();

    let msg = refusal(cautious_delete(db, sess::SESSION, of_file(nwb), &by("una")));
    assert!(
        msg.contains("'una'") && msg.contains("'Sam Synthetic'") && msg.contains(nwb),
        "{msg}"
    );
    assert_eq!(ingest_counts(&env), before);

    let r = cautious_delete(db, sess::SESSION, of_file(nwb), &by("tom")).unwrap();
    assert_eq!(r.access, Access::TeamMember);
    for (t, n) in &of_session {
        assert_eq!(env.rows(t, nwb).len(), 0, "{t} still has rows");
        assert_eq!(deleted(&r).get(t), Some(n), "{t}");
    }
    assert_eq!(count(db, nwbf::NWBFILE), 1);
    let logs = log_rows(db);
    assert_eq!(logs.len(), 1);
    let md = merge_deletes(&logs[0]);
    assert_eq!(md.get(&full(db, sess::SESSION)), Some(&1));
    assert_eq!(md.get(&full(db, sess::SESSION_EXPERIMENTER)), Some(&1));
    assert_eq!(
        md.values().sum::<i128>(),
        of_session.iter().map(|(_, n)| *n as i128).sum::<i128>()
    );
}

/// On MariaDB the user is the database account: two real accounts, a team member and not.
#[test]
fn mariadb_user_is_the_database_account() {
    let root_url = spyglass_testkit::mysql_url();
    let prefix = spyglass_testkit::unique_prefix();
    let dir = spyglass_testkit::scratch_dir();
    let settings = Settings::new(dir.path().join("base"));
    let root = Db::open(&root_url).unwrap();
    root.set_prefix(&prefix);
    spyglass::ingest::prepare(&root, &settings).unwrap();
    let tag = prefix.trim_end_matches('_');
    let (alice, bob) = (format!("alice_{tag}"), format!("bob_{tag}"));
    World::build(&root, &settings, [&alice, &bob, &format!("ada_{tag}")]);
    let pattern = format!("{}%", prefix.replace('_', "\\_"));
    for u in [&alice, &bob] {
        root.execute(
            &format!("CREATE USER '{u}'@'%' IDENTIFIED BY 'pw-{u}'"),
            &[],
        )
        .unwrap();
        root.execute(
            &format!("GRANT ALL PRIVILEGES ON `{pattern}`.* TO '{u}'@'%'"),
            &[],
        )
        .unwrap();
    }
    let host = root_url.rsplit_once('@').map(|(_, h)| h).unwrap_or("");
    let connect = |u: &str| {
        let db = Db::open(&format!("mysql://{u}:pw-{u}@{host}")).unwrap();
        db.set_prefix(&prefix);
        settings.configure_stores(&db);
        db
    };
    let as_alice = connect(&alice);
    let as_bob = connect(&bob);
    assert_eq!(current_user(&as_alice, None).unwrap(), alice);
    assert_eq!(current_user(&as_bob, None).unwrap(), bob);
    // no impersonation: a given name must be the account
    assert!(current_user(&as_bob, Some(&alice)).is_err());
    let plain = CautiousDeleteOptions::default();

    let before = snapshot(&root);
    let msg = refusal(cautious_delete(
        &as_bob,
        RECORDING,
        of_file("s1_.nwb"),
        &plain,
    ));
    assert!(
        msg.contains(&format!("'{bob}'")) && msg.contains("'Erin Exp'"),
        "{msg}"
    );
    assert_eq!(snapshot(&root), before);

    let r = cautious_delete(&as_alice, RECORDING, of_file("s1_.nwb"), &plain).unwrap();
    assert_eq!(r.access, Access::TeamMember);
    assert_eq!(r.user.as_deref(), Some(alice.as_str()));
    assert_eq!(
        deleted(&r),
        expect(&[
            (RECORDING, 2),
            (RESULT, 2),
            (OUTPUT, 1),
            (OUTPUT_PART, 1),
            (SUMMARY, 1),
            (PAIR, 1),
        ])
        .into_iter()
        .map(|(t, n)| (format!("{prefix}{t}"), n))
        .collect()
    );
    let logs = log_rows(&root);
    assert_eq!(logs.len(), 1);
    assert_eq!(s(&logs[0], "dj_user"), alice);
    assert_eq!(
        s(&logs[0], "origin"),
        format!("`{prefix}cd_test`.`recording`")
    );
    assert_eq!(merge_deletes(&logs[0]).values().sum::<i128>(), 8);
    // a long restriction fits the column (cut with `…`, or `...` where the server's
    // character set cannot hold it)
    let long = format!("note_id = 1 AND text <> '{}'", "x".repeat(300));
    cautious_delete(&as_alice, NOTE, Cond::sql(long), &plain).unwrap();
    let r = s(&log_rows(&root)[1], "restriction");
    assert!(
        r.starts_with("(note_id = 1 AND text <> 'xxx")
            && (r.chars().count() == 255 && r.ends_with("x…")
                || r.len() == 255 && r.ends_with("x...")),
        "{r}"
    );

    for u in [&alice, &bob] {
        let _ = root.execute(&format!("DROP USER '{u}'@'%'"), &[]);
    }
    drop(as_alice);
    drop(as_bob);
    for schema in root.schemas() {
        if schema.starts_with(&prefix) {
            let _ = root.execute(&format!("DROP DATABASE `{schema}`"), &[]);
        }
    }
}

/// Python preamble: datajoint-python connected to the test server (argv[1..5]), with
/// Spyglass's own `CautiousDelete` class in the schema named by argv[5].
const DJ_USAGE: &str = r#"
import sys, json
import datajoint as dj
host, port, user, pw, schema_name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
dj.config['database.host'] = host
dj.config['database.port'] = port
dj.config['database.user'] = user
dj.config['database.password'] = pw
dj.config['database.use_tls'] = False
dj.config['safemode'] = False
dj.config['loglevel'] = 'WARNING'
schema = dj.schema(schema_name)

@schema
class CautiousDelete(dj.Manual):
    definition = """
    id: int auto_increment
    ---
    dj_user: varchar(64)
    duration: float
    origin: varchar(64)
    restriction: varchar(255)
    merge_deletes = null: blob
    """
"#;

/// A lab's `CautiousDelete` declared by datajoint-python declares unchanged here, and
/// the rows we log read back in datajoint-python with `merge_deletes` as a dict.
#[test]
fn mariadb_log_table_is_spyglass_own() {
    let url = spyglass_testkit::mysql_url();
    let c = spyglass_db::config::parse_mysql_url(&url).unwrap();
    let prefix = spyglass_testkit::unique_prefix();
    let usage_schema = format!("{prefix}common_usage");
    let args = [
        c.host.clone(),
        c.port.to_string(),
        c.user.clone().unwrap_or_else(|| "root".into()),
        c.password.clone().unwrap_or_default(),
        usage_schema.clone(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    spyglass_testkit::run_python(&format!("{DJ_USAGE}\nprint('declared')"), &args);

    let db = Db::open(&url).unwrap();
    db.set_prefix(&prefix);
    let spec = usage::specs()
        .into_iter()
        .find(|s| s.class_name == "CautiousDelete")
        .unwrap();
    assert_eq!(
        db.declare(usage::SCHEMA, &spec).unwrap(),
        spyglass_db::Declared::Unchanged
    );
    db.declare(
        "cd_plain",
        &TableSpec::new(
            "Thing",
            Tier::Manual,
            "thing_id : int\n---\nlabel : varchar(20)",
        ),
    )
    .unwrap();
    ins(
        &db,
        "cd_plain.Thing",
        (1..=3)
            .map(|i| row([("thing_id", Value::from(i)), ("label", v("t"))]))
            .collect(),
    );
    let r = cautious_delete(
        &db,
        "cd_plain.Thing",
        Cond::sql("thing_id < 3"),
        &CautiousDeleteOptions::default(),
    )
    .unwrap();
    assert!(r.logged && r.total_deleted() == 2);

    let out = spyglass_testkit::run_python(
        &format!(
            "{DJ_USAGE}\nrows = CautiousDelete.fetch(as_dict=True)\n\
             print(json.dumps([{{k: r[k] for k in ('dj_user', 'origin', 'restriction', 'merge_deletes')}} for r in rows]))"
        ),
        &args,
    );
    let got: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let user = c.user.clone().unwrap_or_else(|| "root".into());
    assert_eq!(
        got,
        serde_json::json!([{
            "dj_user": user,
            "origin": format!("`{prefix}cd_plain`.`thing`"),
            "restriction": "(thing_id < 3)",
            "merge_deletes": {format!("`{prefix}cd_plain`.`thing`"): 2},
        }])
    );
    for schema in [usage_schema, format!("{prefix}cd_plain")] {
        let _ = db.execute(&format!("DROP DATABASE IF EXISTS `{schema}`"), &[]);
    }
}

const DEVICE: &str = "cd_up.Device";
const WIRED: &str = "cd_up.Wired";

/// Upstream of the world (issue 13, case 7): `cd_up.Device` above no session, and
/// `cd_up.Wired` (-> Recording, -> Device): device 1 wires (s1,1) and (s2,1), device 2
/// wires (s1,2). Deleting a device deletes session-owned rows of s1 and s2.
fn add_devices(db: &Db) {
    db.declare(
        "cd_up",
        &TableSpec::new(
            "Device",
            Tier::Manual,
            "device_id : int\n---\nmodel : varchar(20)",
        ),
    )
    .unwrap();
    db.declare(
        "cd_up",
        &TableSpec::new("Wired", Tier::Manual, "-> cd_test.Recording\n-> Device"),
    )
    .unwrap();
    ins(
        db,
        DEVICE,
        (1..=2)
            .map(|i| row([("device_id", Value::from(i)), ("model", v("probe"))]))
            .collect(),
    );
    ins(
        db,
        WIRED,
        [("s1_.nwb", 1, 1), ("s2_.nwb", 1, 1), ("s1_.nwb", 2, 2)]
            .iter()
            .map(|(n, r, d)| {
                row([
                    ("nwb_file_name", v(n)),
                    ("rec_id", Value::from(*r)),
                    ("device_id", Value::from(*d)),
                ])
            })
            .collect(),
    );
}

fn snapshot_up(db: &Db) -> Vec<(String, u64)> {
    let mut s = snapshot(db);
    s.extend(
        [DEVICE, WIRED]
            .iter()
            .map(|t| (t.to_string(), count(db, t))),
    );
    s
}

/// The checks of case 7 with `alice` (team of Erin, s1) and `bob` (no session).
fn upstream_delete_checks(
    as_alice: &Db,
    as_bob: &Db,
    root: &Db,
    alice: &CautiousDeleteOptions,
    bob: &CautiousDeleteOptions,
    names: (&str, &str),
) {
    let before = snapshot_up(root);
    // device 1 wires a recording of s2 (Olga's): refused for alice, nothing deleted
    let device = |i: i64| Cond::map([("device_id", Value::from(i))]);
    let msg = refusal(cautious_delete(as_alice, DEVICE, device(1), alice));
    assert!(
        msg.contains(&format!("user '{}'", names.0))
            && msg.contains("'Olga Outsider' (session(s) s2_.nwb)"),
        "{msg}"
    );
    // device 2 wires only s1 (Erin's): refused for bob
    let msg = refusal(cautious_delete(as_bob, DEVICE, device(2), bob));
    assert!(
        msg.contains(&format!("user '{}'", names.1))
            && msg.contains("'Erin Exp' (session(s) s1_.nwb)"),
        "{msg}"
    );
    // a whole-table delete of Recording's parent chain from above: Nwbfile of s1 by bob
    refusal(cautious_delete(
        as_bob,
        nwbf::NWBFILE,
        of_file("s1_.nwb"),
        bob,
    ));
    assert_eq!(snapshot_up(root), before, "a refusal deletes nothing");
    // alice may delete device 2: its only session-owned row is in s1
    let r = cautious_delete(as_alice, DEVICE, device(2), alice).unwrap();
    assert_eq!(r.access, Access::TeamMember);
    let prefix = root.prefix();
    let got: BTreeMap<String, u64> = deleted(&r)
        .into_iter()
        .map(|(t, n)| (t.trim_start_matches(prefix.as_str()).to_string(), n))
        .collect();
    assert_eq!(got, expect(&[(DEVICE, 1), (WIRED, 1)]));
    assert_eq!(count(root, DEVICE), 1);
    assert_eq!(count(root, WIRED), 2);
    assert_eq!(count(root, RECORDING), 4);
}

/// Issue 13, case 7: a delete that starts above Session (a device, like Probe or
/// FirFilterParameters) is checked against every session whose rows it would remove.
#[test]
fn deleting_upstream_tables_checks_every_session_the_cascade_reaches() {
    let (env, w) = world();
    add_devices(&env.db);
    upstream_delete_checks(
        &env.db,
        &env.db,
        &env.db,
        &by(&w.alice),
        &by(&w.bob),
        ("alice", "bob"),
    );
    // a non-member (no LabMemberInfo row) is refused the same way
    let before = snapshot_up(&env.db);
    let msg = refusal(cautious_delete(
        &env.db,
        DEVICE,
        Cond::map([("device_id", Value::from(1))]),
        &by("mallory"),
    ));
    assert!(msg.contains("'mallory' is no lab member"), "{msg}");
    assert_eq!(snapshot_up(&env.db), before);
}

/// Case 7 on MariaDB, with two database accounts.
#[test]
fn mariadb_upstream_deletes_are_checked_per_account() {
    let root_url = spyglass_testkit::mysql_url();
    let prefix = spyglass_testkit::unique_prefix();
    let dir = spyglass_testkit::scratch_dir();
    let settings = Settings::new(dir.path().join("base"));
    let root = Db::open(&root_url).unwrap();
    root.set_prefix(&prefix);
    spyglass::ingest::prepare(&root, &settings).unwrap();
    let tag = prefix.trim_end_matches('_');
    let (alice, bob) = (format!("alice_{tag}"), format!("bob_{tag}"));
    World::build(&root, &settings, [&alice, &bob, &format!("ada_{tag}")]);
    add_devices(&root);
    let pattern = format!("{}%", prefix.replace('_', "\\_"));
    for u in [&alice, &bob] {
        root.execute(
            &format!("CREATE USER '{u}'@'%' IDENTIFIED BY 'pw-{u}'"),
            &[],
        )
        .unwrap();
        root.execute(
            &format!("GRANT ALL PRIVILEGES ON `{pattern}`.* TO '{u}'@'%'"),
            &[],
        )
        .unwrap();
    }
    let host = root_url.rsplit_once('@').map(|(_, h)| h).unwrap_or("");
    let connect = |u: &str| {
        let db = Db::open(&format!("mysql://{u}:pw-{u}@{host}")).unwrap();
        db.set_prefix(&prefix);
        settings.configure_stores(&db);
        db
    };
    let (as_alice, as_bob) = (connect(&alice), connect(&bob));
    let plain = CautiousDeleteOptions::default();
    upstream_delete_checks(&as_alice, &as_bob, &root, &plain, &plain, (&alice, &bob));
    drop(as_alice);
    drop(as_bob);
    for u in [&alice, &bob] {
        let _ = root.execute(&format!("DROP USER '{u}'@'%'"), &[]);
    }
    for schema in root.schemas() {
        if schema.starts_with(&prefix) {
            let _ = root.execute(&format!("DROP DATABASE `{schema}`"), &[]);
        }
    }
}

/// Issue 13, cases 8 and 9 on MariaDB with two accounts: `drop` is checked like a
/// delete of all rows (and refused when a merge master would lose its part), logged
/// with the account; lab accounts and team membership are admin-only (root is admin).
#[test]
fn mariadb_drop_and_lab_membership_are_checked_per_account() {
    use spyglass::cautious_drop::cautious_drop;
    let root_url = spyglass_testkit::mysql_url();
    let prefix = spyglass_testkit::unique_prefix();
    let dir = spyglass_testkit::scratch_dir();
    let settings = Settings::new(dir.path().join("base"));
    let root = Db::open(&root_url).unwrap();
    root.set_prefix(&prefix);
    spyglass::ingest::prepare(&root, &settings).unwrap();
    let tag = prefix.trim_end_matches('_');
    let (alice, bob) = (format!("alice_{tag}"), format!("bob_{tag}"));
    World::build(&root, &settings, [&alice, &bob, &format!("ada_{tag}")]);
    add_devices(&root);
    let pattern = format!("{}%", prefix.replace('_', "\\_"));
    for u in [&alice, &bob] {
        root.execute(
            &format!("CREATE USER '{u}'@'%' IDENTIFIED BY 'pw-{u}'"),
            &[],
        )
        .unwrap();
        root.execute(
            &format!("GRANT ALL PRIVILEGES ON `{pattern}`.* TO '{u}'@'%'"),
            &[],
        )
        .unwrap();
    }
    let host = root_url.rsplit_once('@').map(|(_, h)| h).unwrap_or("");
    let connect = |u: &str| {
        let db = Db::open(&format!("mysql://{u}:pw-{u}@{host}")).unwrap();
        db.set_prefix(&prefix);
        settings.configure_stores(&db);
        spyglass::lab_admin::install_write_guard(&db, None);
        db
    };
    let (as_alice, as_bob) = (connect(&alice), connect(&bob));
    let plain = CautiousDeleteOptions::default();
    let before = snapshot_up(&root);
    // Wired holds rows of s1 (Erin's) and s2 (Olga's): refused for both accounts
    for db in [&as_alice, &as_bob] {
        let e = cautious_drop(db, Some(WIRED), None, &plain).unwrap_err();
        assert!(is_refusal(&e), "{e}");
    }
    // dropping Recording would leave Output rows without their Output.Recording part
    let e = cautious_drop(&root, Some(RECORDING), None, &plain).unwrap_err();
    assert!(e.to_string().contains("without their part"), "{e}");
    assert_eq!(snapshot_up(&root), before);
    // root (an admin) drops Wired: logged with the account
    let r = cautious_drop(&root, Some(WIRED), None, &plain).unwrap();
    assert!(r.logged && r.access == Access::Admin);
    assert!(root.table_info(WIRED).is_err());
    let logs = log_rows(&root);
    assert_eq!(s(&logs[0], "dj_user"), "root");
    assert_eq!(
        s(&logs[0], "restriction"),
        format!("Drop: {prefix}cd_up.Wired")
    );
    assert_eq!(count(&root, RECORDING), 4);

    // case 9: bob may not promote himself, change accounts or join a team
    let refused = |r: spyglass_db::Result<u64>| {
        let e = r.unwrap_err().to_string();
        assert!(
            e.contains("permission denied") && e.contains("admin"),
            "{e}"
        );
    };
    refused(as_bob.insert(
        lab::LAB_MEMBER_INFO,
        &[row([
            ("lab_member_name", v("Olga Outsider")),
            ("google_user_name", v("o@example.org")),
            ("datajoint_user_name", v("olga")),
            ("admin", Value::Bool(true)),
        ])],
        InsertOptions::default(),
    ));
    refused(as_bob.insert(
        lab::LAB_TEAM_MEMBER,
        &[row([
            ("team_name", v("erin lab")),
            ("lab_member_name", v("Bob Baker")),
        ])],
        InsertOptions::default(),
    ));
    let e = cautious_delete(
        &as_bob,
        lab::LAB_MEMBER,
        Cond::map([("lab_member_name", "Bob Baker")]),
        &plain,
    )
    .unwrap_err();
    assert!(e.to_string().contains("may not delete"), "{e}");
    assert_eq!(count(&root, lab::LAB_MEMBER_INFO), 3);
    assert_eq!(count(&root, lab::LAB_TEAM_MEMBER), 4);
    // root may
    root.insert(
        lab::LAB_TEAM_MEMBER,
        &[row([
            ("team_name", v("erin lab")),
            ("lab_member_name", v("Bob Baker")),
        ])],
        InsertOptions::default(),
    )
    .unwrap();
    assert_eq!(count(&root, lab::LAB_TEAM_MEMBER), 5);

    drop(as_alice);
    drop(as_bob);
    for u in [&alice, &bob] {
        let _ = root.execute(&format!("DROP USER '{u}'@'%'"), &[]);
    }
    for schema in root.schemas() {
        if schema.starts_with(&prefix) {
            let _ = root.execute(&format!("DROP DATABASE `{schema}`"), &[]);
        }
    }
}
