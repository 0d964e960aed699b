//! Issue 13 from the command line, on the demo's database (a real ingested session with
//! LFP and LFP-band results): cautious delete from upstream tables (case 7), `drop`
//! checked, logged and never leaving a merge master without its part (8), lab-team
//! tables admin-only (9), `export run` refusing a changed file (5), and the active
//! export belonging to one user (12). Every refusal is followed by a check that every
//! row count and every file (by MD5) is as before.

use crate::common::{files_under, text};
use spyglass_db::Db;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

/// The demo's experimenter (from the synthetic file's "Synthetic, Sam").
const SAM: &str = "Sam Synthetic";

struct Demo {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Demo {
    /// A scratch directory with the demo's database and files.
    fn new() -> Demo {
        let tmp = spyglass_testkit::scratch_dir();
        let dir = tmp.path().to_path_buf();
        let d = Demo { _tmp: tmp, dir };
        let o = d.run(
            &["demo", "--dir", d.dir.join("demo").to_str().unwrap()],
            None,
        );
        assert!(o.status.success(), "{}", text(&o));
        d
    }

    fn base(&self) -> PathBuf {
        self.dir.join("demo/base")
    }

    fn url(&self) -> String {
        format!("sqlite:///{}", self.dir.join("demo/spyglass.db").display())
    }

    fn command(&self, args: &[&str], user: Option<&str>) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_spyglass"));
        c.args(args)
            .current_dir(&self.dir)
            .env("HOME", &self.dir)
            .env("SPYGLASS_BASE_DIR", self.base())
            .env("SPYGLASS_DB", self.url())
            .env("HDF5_USE_FILE_LOCKING", "FALSE")
            .env_remove("DJ_HOST")
            .env_remove("DJ_USER")
            .env_remove("DJ_PASS")
            .env_remove("SPYGLASS_USER");
        if let Some(u) = user {
            c.env("SPYGLASS_USER", u);
        }
        c
    }

    fn run(&self, args: &[&str], user: Option<&str>) -> Output {
        self.command(args, user).output().expect("run spyglass")
    }

    fn ok(&self, args: &[&str], user: Option<&str>) -> String {
        let o = self.run(args, user);
        assert!(o.status.success(), "spyglass {args:?} failed: {}", text(&o));
        text(&o)
    }

    fn fails(&self, args: &[&str], user: Option<&str>) -> String {
        let o = self.run(args, user);
        assert!(
            !o.status.success(),
            "spyglass {args:?} should fail: {}",
            text(&o)
        );
        text(&o)
    }

    /// Loads JSON rows into a table as `user`.
    fn load(&self, table: &str, json: &str, user: Option<&str>) -> Output {
        let f = self.dir.join(format!("rows{}.json", rand_suffix()));
        std::fs::write(&f, json).unwrap();
        self.run(&["load", table, f.to_str().unwrap()], user)
    }

    fn db(&self) -> Db {
        Db::open(&self.url()).unwrap()
    }

    fn count(&self, table: &str) -> u64 {
        let db = self.db();
        db.count(&db.table(table).unwrap()).unwrap()
    }

    /// Rows of every table and MD5 of every file of the base dir.
    fn snapshot(&self) -> (BTreeMap<String, u64>, BTreeMap<String, String>) {
        let db = self.db();
        let rows = db
            .catalog()
            .user_tables(None)
            .iter()
            .map(|t| {
                (
                    t.name.pretty(),
                    db.count(&spyglass_db::Query::table(t)).unwrap(),
                )
            })
            .collect();
        let mut files = BTreeMap::new();
        for p in files_under(&self.base()) {
            let md5 = spyglass_db::stores::file_md5_uuid(&p).unwrap().to_string();
            files.insert(p.display().to_string(), md5);
        }
        (rows, files)
    }

    /// Makes `ada` an admin (the first admin: allowed while the lab has none), and
    /// `mallory` a lab member with an account but on no team of the demo's session.
    fn with_admin_and_mallory(&self) {
        let o = self.load(
            "common_lab.LabMember",
            r#"[{"lab_member_name": "Ada Admin", "first_name": "Ada", "last_name": "Admin"},
                {"lab_member_name": "Mallory M", "first_name": "Mallory", "last_name": "M"}]"#,
            Some("ada"),
        );
        assert!(o.status.success(), "{}", text(&o));
        let o = self.load(
            "common_lab.LabMember.LabMemberInfo",
            r#"[{"lab_member_name": "Ada Admin", "google_user_name": "ada@lab.org",
                 "datajoint_user_name": "ada", "admin": 1}]"#,
            Some("ada"),
        );
        assert!(o.status.success(), "{}", text(&o));
        let o = self.load(
            "common_lab.LabMember.LabMemberInfo",
            r#"[{"lab_member_name": "Mallory M", "google_user_name": "mallory@lab.org",
                 "datajoint_user_name": "mallory", "admin": 0}]"#,
            Some("ada"),
        );
        assert!(o.status.success(), "{}", text(&o));
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// Case 7: deletes that start above Session (Probe, AnalysisNwbfile, FirFilterParameters)
/// and would remove the demo session's Electrode, LFPV1 and LFPBandV1 rows are refused
/// for a non-member; LabTeam (once the lab has an admin) is admin-only. Nothing changes.
#[test]
fn upstream_deletes_by_a_non_member_are_refused_and_change_nothing() {
    let d = Demo::new();
    // before any admin: the non-member is refused by the sessions the cascade reaches
    for t in [
        "common_device.Probe",
        "common_nwbfile.AnalysisNwbfile",
        "common_filter.FirFilterParameters",
    ] {
        let before = d.snapshot();
        let msg = d.fails(&["delete", t, "--user", "mallory", "--yes"], None);
        assert!(
            msg.contains("permission denied") && msg.contains("'mallory' is no lab member"),
            "{t}: {msg}"
        );
        assert_eq!(d.snapshot(), before, "{t}: rows or files changed");
    }
    d.with_admin_and_mallory();
    for t in [
        "common_device.Probe",
        "common_nwbfile.AnalysisNwbfile",
        "common_filter.FirFilterParameters",
        "common_lab.LabTeam",
    ] {
        let before = d.snapshot();
        let msg = d.fails(&["delete", t, "--user", "mallory", "--yes"], None);
        assert!(msg.contains("permission denied"), "{t}: {msg}");
        assert_eq!(d.snapshot(), before, "{t}: rows or files changed");
    }
    // the session's own experimenter's team may: Sam's account deletes the filter
    // (a dry run), the admin too
    let o = d.load(
        "common_lab.LabMember.LabMemberInfo",
        &format!(
            r#"[{{"lab_member_name": "{SAM}", "google_user_name": "sam@lab.org",
                 "datajoint_user_name": "sam", "admin": 0}}]"#
        ),
        Some("ada"),
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = d.ok(
        &[
            "delete",
            "common_filter.FirFilterParameters",
            "--user",
            "sam",
            "--dry-run",
        ],
        None,
    );
    assert!(
        out.contains("lfp_v1.LFPV1") && out.contains("dry run"),
        "{out}"
    );
    assert_eq!(d.count("lfp_v1.LFPV1"), 1);
    assert_eq!(d.count("lfp_band_v1.LFPBandV1"), 1);
    assert_eq!(d.count("common_ephys.Electrode"), 4);
}

/// Case 8: `drop` is checked like a delete of every row, never leaves a merge master
/// without its part, and is logged.
#[test]
fn drop_is_checked_logged_and_keeps_merge_masters_whole() {
    let d = Demo::new();
    d.with_admin_and_mallory();
    let before = d.snapshot();
    let msg = d.fails(
        &["drop", "lfp_v1.LFPV1", "--user", "mallory", "--yes"],
        None,
    );
    assert!(msg.contains("permission denied"), "{msg}");
    assert_eq!(d.snapshot(), before);
    // even an admin: LFPOutput's row would lose its LFPV1 part
    let msg = d.fails(&["drop", "lfp_v1.LFPV1", "--user", "ada", "--yes"], None);
    assert!(
        msg.contains("lfp_merge.LFPOutput") && msg.contains("without their part"),
        "{msg}"
    );
    assert_eq!(d.snapshot(), before);
    // even an admin: the ripple tables refer to the band tables
    let msg = d.fails(
        &["drop", "--schema", "lfp_band_v1", "--user", "ada", "--yes"],
        None,
    );
    assert!(
        msg.contains("ripple_v1.RippleLFPSelection depends on"),
        "{msg}"
    );
    assert_eq!(d.snapshot(), before);
    // the admin drops the (empty) ripple tables; a member may not drop the band
    // tables, which hold other teams' rows; the admin may: done and logged
    let out = d.ok(
        &["drop", "--schema", "ripple_v1", "--user", "ada", "--yes"],
        None,
    );
    assert!(out.contains("dropped 4 tables"), "{out}");
    let before = d.snapshot();
    let msg = d.fails(
        &[
            "drop",
            "--schema",
            "lfp_band_v1",
            "--user",
            "mallory",
            "--yes",
        ],
        None,
    );
    assert!(msg.contains("permission denied"), "{msg}");
    assert_eq!(d.snapshot(), before);
    let out = d.ok(
        &["drop", "--schema", "lfp_band_v1", "--user", "ada", "--yes"],
        None,
    );
    assert!(out.contains("dropped 3 tables"), "{out}");
    let log = d.ok(
        &["show", "common_usage.CautiousDelete", "--format", "json"],
        None,
    );
    let log: serde_json::Value = serde_json::from_str(&log).unwrap();
    let rows = log.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{log}");
    assert!(rows.iter().all(|r| r["dj_user"] == "ada"), "{log}");
    let band = rows
        .iter()
        .find(|r| r["origin"] == "schema lfp_band_v1")
        .unwrap_or_else(|| panic!("{log}"));
    let r = band["restriction"].as_str().unwrap();
    assert!(r.starts_with("Drop: lfp_band_v1.LFPBandSelection"), "{r}");
    // everything else is as it was
    let (rows_after, _) = d.snapshot();
    for (t, n) in &before.0 {
        if !t.starts_with("lfp_band_v1.") && t != "common_usage.CautiousDelete" {
            assert_eq!(rows_after.get(t), Some(n), "{t}");
        }
    }
}

/// Case 9: once the lab has an admin, a user cannot promote themselves, change another
/// member's account or join a team; creating their own personal team is allowed.
#[test]
fn lab_accounts_and_teams_are_admin_only() {
    let d = Demo::new();
    d.with_admin_and_mallory();
    let before = d.snapshot();
    // self-promotion by reloading her account with admin = 1
    let o = d.load(
        "common_lab.LabMember.LabMemberInfo",
        r#"[{"lab_member_name": "Mallory M", "google_user_name": "m2@lab.org",
             "datajoint_user_name": "mallory2", "admin": 1}]"#,
        Some("mallory"),
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("may not insert into common_lab.LabMember.LabMemberInfo"),
        "{}",
        text(&o)
    );
    // deleting her own member (and with it her account) first
    let msg = d.fails(
        &[
            "delete",
            "common_lab.LabMember",
            "--key",
            "lab_member_name=Mallory M",
            "--user",
            "mallory",
            "--yes",
        ],
        None,
    );
    assert!(
        msg.contains("may not delete from common_lab.LabMember.LabMemberInfo"),
        "{msg}"
    );
    // super delete does not skip it
    let msg = d.fails(
        &[
            "delete",
            "common_lab.LabMember",
            "--key",
            "lab_member_name=Ada Admin",
            "--user",
            "mallory",
            "--force-permission",
            "--yes",
        ],
        None,
    );
    assert!(msg.contains("may not delete"), "{msg}");
    // joining Sam's team
    let o = d.load(
        "common_lab.LabTeam.LabTeamMember",
        &format!(r#"[{{"team_name": "{SAM}", "lab_member_name": "Mallory M"}}]"#),
        Some("mallory"),
    );
    assert!(
        !o.status.success() && text(&o).contains("may not insert"),
        "{}",
        text(&o)
    );
    assert_eq!(d.snapshot(), before, "refusals change nothing");
    // her own personal team is fine (ingest makes one per experimenter)
    let o = d.load(
        "common_lab.LabTeam",
        r#"[{"team_name": "Mallory M", "team_description": "personal team"}]"#,
        Some("mallory"),
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = d.load(
        "common_lab.LabTeam.LabTeamMember",
        r#"[{"team_name": "Mallory M", "lab_member_name": "Mallory M"}]"#,
        Some("mallory"),
    );
    assert!(o.status.success(), "{}", text(&o));
    // the admin may put her on Sam's team
    let o = d.load(
        "common_lab.LabTeam.LabTeamMember",
        &format!(r#"[{{"team_name": "{SAM}", "lab_member_name": "Mallory M"}}]"#),
        Some("ada"),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(d.count("common_lab.LabMember.LabMemberInfo"), 2);
    assert_eq!(d.count("common_lab.LabTeam.LabTeamMember"), 3);
}

/// Case 5: a byte changed in an analysis file or in the raw `_` copy: `export run`
/// refuses, naming the file, and leaves no output behind.
#[test]
fn export_refuses_a_file_that_changed_since_it_was_registered() {
    let d = Demo::new();
    let analysis_dir = d.base().join("analysis/demo20230622");
    let analysis = std::fs::read_dir(&analysis_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .min()
        .unwrap();
    let copy = d.base().join("raw/demo20230622_.nwb");
    for victim in [&analysis, &copy] {
        let original = std::fs::read(victim).unwrap();
        let mut changed = original.clone();
        let at = changed.len() / 2;
        changed[at] ^= 0x5a;
        std::fs::write(victim, &changed).unwrap();
        let out = d.dir.join(format!("out{}", rand_suffix()));
        let msg = d.fails(
            &[
                "export",
                "run",
                "--paper",
                "demo",
                "-o",
                out.to_str().unwrap(),
            ],
            None,
        );
        assert!(
            msg.contains(&victim.display().to_string()) && msg.contains("registered checksum"),
            "{msg}"
        );
        assert!(!out.exists(), "nothing is written: {}", out.display());
        std::fs::write(victim, &original).unwrap();
    }
    // restored: the export runs, and its manifest holds the registered checksums
    let out = d.dir.join("out_ok");
    d.ok(
        &[
            "export",
            "run",
            "--paper",
            "demo",
            "-o",
            out.to_str().unwrap(),
        ],
        None,
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("demo/bundle/manifest.json")).unwrap(),
    )
    .unwrap();
    let md5 = spyglass_db::stores::file_md5_uuid(&analysis)
        .unwrap()
        .simple()
        .to_string();
    assert!(
        manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["md5"] == md5.as_str()),
        "{manifest}"
    );
    let leftovers: Vec<_> = std::fs::read_dir(out.join("demo"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty());
}

fn logged_tables(d: &Demo, export_id: i64) -> Vec<String> {
    let db = d.db();
    let q = db
        .table("common_usage.ExportSelection.Table")
        .unwrap()
        .restrict(spyglass_db::Cond::map([("export_id", export_id)]))
        .unwrap();
    db.fetch(&q)
        .unwrap()
        .iter()
        .map(|r| r.get("table_name").unwrap().python_str())
        .collect()
}

fn export_id(out: &str) -> i64 {
    out.split_whitespace()
        .nth(1)
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no export id in {out}"))
}

/// Case 12: the active export is the user's, recorded in the database: another user's
/// fetches are not logged into it, a second start is refused, and of two racing starts
/// exactly one wins and logs.
#[test]
fn the_active_export_belongs_to_one_user() {
    let d = Demo::new();
    let id = export_id(&d.ok(
        &["export", "start", "--paper", "p", "--analysis", "a1"],
        Some("alice"),
    ));
    d.ok(&["show", "common_session.Session"], Some("bob"));
    d.ok(&["show", "common_subject.Subject"], Some("alice"));
    let msg = d.fails(
        &["export", "start", "--paper", "p", "--analysis", "a2"],
        Some("alice"),
    );
    assert!(
        msg.contains(&format!(
            "export {id} (paper p, analysis a1) is active for user 'alice'"
        )),
        "{msg}"
    );
    // bob has his own
    let bob = export_id(&d.ok(
        &["export", "start", "--paper", "p", "--analysis", "b1"],
        Some("bob"),
    ));
    assert_ne!(bob, id);
    d.ok(&["show", "common_lab.Lab"], Some("bob"));
    let out = d.ok(&["export", "stop"], Some("alice"));
    assert!(out.contains(&format!("export {id} stopped")), "{out}");
    let out = d.ok(&["export", "stop"], Some("bob"));
    assert!(out.contains(&format!("export {bob} stopped")), "{out}");
    let alice_logged = logged_tables(&d, id);
    assert_eq!(alice_logged, vec!["`common_subject`.`subject`".to_string()]);
    assert_eq!(
        logged_tables(&d, bob),
        vec!["`common_lab`.`lab`".to_string()]
    );
    assert!(!d.base().join(".spyglass_export.json").exists());

    // two starts at once by one user: one wins, the other is refused
    let spawn = |analysis: &str| -> Child {
        d.command(
            &["export", "start", "--paper", "p", "--analysis", analysis],
            Some("carol"),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
    };
    let (c1, c2) = (spawn("c1"), spawn("c2"));
    let outs = [
        c1.wait_with_output().unwrap(),
        c2.wait_with_output().unwrap(),
    ];
    let won: Vec<&Output> = outs.iter().filter(|o| o.status.success()).collect();
    assert_eq!(
        won.len(),
        1,
        "{:?}",
        outs.iter().map(text).collect::<Vec<_>>()
    );
    let lost = outs.iter().find(|o| !o.status.success()).unwrap();
    assert!(
        text(lost).contains("is active for user 'carol'"),
        "{}",
        text(lost)
    );
    let winner = export_id(&text(won[0]));
    d.ok(&["show", "common_task.Task"], Some("carol"));
    let out = d.ok(&["export", "stop"], Some("carol"));
    assert!(
        out.contains(&format!("export {winner} stopped")) && out.contains("1 restrictions logged"),
        "{out}"
    );
    assert_eq!(d.count("common_usage.ActiveExport"), 0);
}

/// Case 12 on MariaDB: two database accounts; the active export is the account's.
#[test]
fn mariadb_the_active_export_belongs_to_one_account() {
    let root_url = spyglass_testkit::mysql_url();
    let root = Db::open(&root_url).unwrap();
    let c = spyglass_db::config::parse_mysql_url(&root_url).unwrap();
    let prefix = spyglass_testkit::unique_prefix();
    let tag = prefix.trim_end_matches('_');
    let pattern = format!("{}%", prefix.replace('_', "\\_"));
    let users = [format!("ea_{tag}"), format!("eb_{tag}")];
    for u in &users {
        let _ = root.execute(&format!("DROP USER IF EXISTS '{u}'@'%'"), &[]);
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
    let tmp = spyglass_testkit::scratch_dir();
    let dir = tmp.path();
    std::fs::write(
        dir.join("dj_local_conf.json"),
        format!(r#"{{"database.use_tls": false, "custom": {{"database.prefix": "{prefix}"}}}}"#),
    )
    .unwrap();
    let run = |u: &str, args: &[&str]| -> Output {
        Command::new(env!("CARGO_BIN_EXE_spyglass"))
            .args(["--db", &format!("mysql://{u}:pw-{u}@{}:{}", c.host, c.port)])
            .args(args)
            .current_dir(dir)
            .env("HOME", dir)
            .env("SPYGLASS_BASE_DIR", dir.join("base"))
            .env_remove("SPYGLASS_DB")
            .env_remove("DJ_PASS")
            .output()
            .unwrap()
    };
    let ok = |u: &str, args: &[&str]| {
        let o = run(u, args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        text(&o)
    };
    let (a, b) = (users[0].as_str(), users[1].as_str());
    let ida = export_id(&ok(
        a,
        &["export", "start", "--paper", "p", "--analysis", "a1"],
    ));
    ok(b, &["show", "common_session.Session"]);
    ok(a, &["show", "common_lab.Lab"]);
    let o = run(a, &["export", "start", "--paper", "p", "--analysis", "a2"]);
    assert!(
        !o.status.success() && text(&o).contains(&format!("is active for user '{a}'")),
        "{}",
        text(&o)
    );
    let idb = export_id(&ok(
        b,
        &["export", "start", "--paper", "p", "--analysis", "b1"],
    ));
    ok(b, &["show", "common_subject.Subject"]);
    assert!(ok(a, &["export", "stop"]).contains(&format!("export {ida} stopped")));
    assert!(ok(b, &["export", "stop"]).contains(&format!("export {idb} stopped")));
    root.set_prefix(&prefix);
    let logged = |id: i64| -> Vec<String> {
        let q = root
            .table("common_usage.ExportSelection.Table")
            .unwrap()
            .restrict(spyglass_db::Cond::map([("export_id", id)]))
            .unwrap();
        root.fetch(&q)
            .unwrap()
            .iter()
            .map(|r| r.get("table_name").unwrap().python_str())
            .collect()
    };
    assert_eq!(logged(ida), vec![format!("`{prefix}common_lab`.`lab`")]);
    assert_eq!(
        logged(idb),
        vec![format!("`{prefix}common_subject`.`subject`")]
    );
    for u in &users {
        let _ = root.execute(&format!("DROP USER '{u}'@'%'"), &[]);
    }
    for schema in root.schemas() {
        if schema.starts_with(&prefix) {
            let _ = root.execute(&format!("DROP DATABASE `{schema}`"), &[]);
        }
    }
}
