//! Issue 13, data loss and robustness: races, interruptions and mistakes must leave
//! rows and files intact. Each case runs the built `spyglass` binary on small
//! synthetic sessions (spyglass-nwb's writer), on the embedded SQLite default and,
//! where the case involves the database, on a fresh private MariaDB; each asserts
//! the rows and the files afterwards, not only the exit code.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use spyglass_nwb::synthetic::{write_session, SyntheticParams};
use spyglass_nwb::write::Compression;

/// A scratch lab: a base dir and a database (SQLite file or a fresh MariaDB).
struct Lab {
    dir: tempfile::TempDir,
    url: String,
    mysql: bool,
}

impl Lab {
    fn sqlite() -> Lab {
        let dir = spyglass_testkit::scratch_dir();
        let url = format!("sqlite:///{}", dir.path().join("spyglass.db").display());
        Lab {
            dir,
            url,
            mysql: false,
        }
    }

    fn mariadb() -> Lab {
        Lab {
            dir: spyglass_testkit::scratch_dir(),
            url: spyglass_testkit::fresh_mariadb(),
            mysql: true,
        }
    }

    fn both() -> [Lab; 2] {
        [Lab::sqlite(), Lab::mariadb()]
    }

    fn base(&self) -> PathBuf {
        self.dir.path().join("base")
    }

    fn raw(&self) -> PathBuf {
        self.base().join("raw")
    }

    fn incoming(&self) -> PathBuf {
        let p = self.dir.path().join("incoming");
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_spyglass"));
        c.args(["--db", &self.url])
            .args(args)
            .env("SPYGLASS_BASE_DIR", self.base())
            .env("SPYGLASS_USER", "sam")
            .env("HDF5_USE_FILE_LOCKING", "FALSE")
            .current_dir(self.dir.path());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run spyglass")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "spyglass {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "spyglass {args:?} should fail:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Rows of a table as JSON objects.
    fn rows(&self, table: &str, keys: &[&str]) -> Vec<serde_json::Value> {
        let mut args = vec!["show", table, "--format", "json"];
        for k in keys {
            args.push("--key");
            args.push(k);
        }
        let out = self.ok(&args);
        match serde_json::from_str(&out) {
            Ok(serde_json::Value::Array(a)) => a,
            other => panic!("show {table}: not a JSON array: {other:?}\n{out}"),
        }
    }

    fn count(&self, table: &str, keys: &[&str]) -> usize {
        self.rows(table, keys).len()
    }

    /// Row counts of the tables a session fills, keyed by table.
    fn session_counts(&self, nwb: &str) -> Vec<(String, usize)> {
        let key = format!("nwb_file_name={nwb}");
        SESSION_TABLES
            .iter()
            .map(|t| (t.to_string(), self.count(t, &[&key])))
            .collect()
    }
}

/// Tables keyed by the session, checked for all-or-nothing.
const SESSION_TABLES: [&str; 5] = [
    "common_nwbfile.Nwbfile",
    "common_session.Session",
    "common_ephys.Electrode",
    "common_ephys.Raw",
    "common_interval.IntervalList",
];

/// A small synthetic session (one second, 4 channels) written to `path`.
fn small_session(path: &Path, seed: u64) {
    let p = SyntheticParams {
        duration_s: 1.0,
        sampling_rate: 2000.0,
        n_channels: 4,
        n_groups: 2,
        n_units: 1,
        seed,
        compression: Compression::Contiguous,
        ..SyntheticParams::default()
    };
    write_session(path, &p).expect("write a synthetic session");
}

fn md5(p: &Path) -> String {
    let out = Command::new("md5sum").arg(p).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Names in the raw dir (hidden lock dir excluded).
fn raw_listing(raw: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(raw)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != ".locks")
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// A session is fully there: every table has rows, its `_` copy exists and the
/// raw object is fetched through it.
fn assert_ingested(lab: &Lab, nwb: &str) {
    for (t, n) in lab.session_counts(nwb) {
        assert!(n > 0, "{nwb}: no rows in {t}");
    }
    assert!(lab.raw().join(nwb).is_file(), "{nwb}: the copy is missing");
    let key = format!("nwb_file_name={nwb}");
    let out = lab.ok(&[
        "fetch-nwb",
        "common_ephys.Raw",
        "--key",
        &key,
        "--format",
        "json",
    ]);
    assert!(out.contains(nwb), "fetch-nwb of {nwb}: {out}");
}

/// A session is wholly absent from the database.
fn assert_absent(lab: &Lab, nwb: &str) {
    for (t, n) in lab.session_counts(nwb) {
        assert_eq!(n, 0, "{nwb}: {n} rows left in {t}");
    }
}

/// Case 1: two `insert`s of one new file at once: one inserts, the other finds it
/// registered, and the winner's `_` copy stays (SQLite and MariaDB).
#[test]
fn racing_inserts_of_one_file_keep_the_winners_copy() {
    for lab in Lab::both() {
        let first = lab.incoming().join("first20230101.nwb");
        small_session(&first, 1);
        lab.ok(&["insert", first.to_str().unwrap()]);
        for round in 0..3u64 {
            let name = format!("race{round}20230102.nwb");
            let src = lab.incoming().join(&name);
            small_session(&src, 10 + round);
            let kids: Vec<Child> = (0..2)
                .map(|_| {
                    lab.cmd(&["insert", src.to_str().unwrap()])
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped())
                        .spawn()
                        .unwrap()
                })
                .collect();
            let outs: Vec<Output> = kids
                .into_iter()
                .map(|k| k.wait_with_output().unwrap())
                .collect();
            for o in &outs {
                assert!(
                    o.status.success(),
                    "mysql={}: {}",
                    lab.mysql,
                    String::from_utf8_lossy(&o.stderr)
                );
            }
            let stdout: String = outs
                .iter()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .collect();
            assert_eq!(stdout.matches("1 inserted").count(), 1, "{stdout}");
            assert_eq!(stdout.matches("1 already present").count(), 1, "{stdout}");
            let copy = format!("race{round}20230102_.nwb");
            assert_ingested(&lab, &copy);
            assert_eq!(md5(&lab.raw().join(&name)), md5(&src));
            assert_eq!(lab.count("common_nwbfile.Nwbfile", &[]), round as usize + 2);
        }
        assert!(raw_listing(&lab.raw())
            .iter()
            .all(|n| !n.contains(".part-")));
    }
}

/// Case 4: a raw file left half-copied (kill -9, full disk) is recognised and
/// replaced; stale temporaries and an unregistered `_` copy are cleared; a different
/// file of that name is still refused and left alone (SQLite and MariaDB).
#[test]
fn an_interrupted_copy_is_replaced_not_a_blocker() {
    for lab in Lab::both() {
        let src = lab.incoming().join("cut20230103.nwb");
        small_session(&src, 3);
        let bytes = std::fs::read(&src).unwrap();
        std::fs::create_dir_all(lab.raw()).unwrap();
        // what a killed copy leaves: a prefix, a temporary and a half-written copy
        std::fs::write(lab.raw().join("cut20230103.nwb"), &bytes[..bytes.len() / 3]).unwrap();
        std::fs::write(lab.raw().join(".cut20230103_.nwb.part-999999"), b"junk").unwrap();
        std::fs::write(lab.raw().join("cut20230103_.nwb"), b"half a copy").unwrap();
        let out = lab.ok(&["insert", src.to_str().unwrap()]);
        assert!(out.contains("1 inserted"), "{out}");
        assert_eq!(md5(&lab.raw().join("cut20230103.nwb")), md5(&src));
        assert_ingested(&lab, "cut20230103_.nwb");
        assert_eq!(
            raw_listing(&lab.raw()),
            vec!["cut20230103.nwb", "cut20230103_.nwb"]
        );

        // a different file of the same name (not a prefix) is refused, nothing changes
        let other_dir = lab.incoming().join("other");
        std::fs::create_dir_all(&other_dir).unwrap();
        let other = other_dir.join("diff20230104.nwb");
        small_session(&other, 4);
        let mut theirs = std::fs::read(&other).unwrap();
        let n = theirs.len();
        theirs[n / 2] ^= 0xff;
        std::fs::write(lab.raw().join("diff20230104.nwb"), &theirs).unwrap();
        let before = md5(&lab.raw().join("diff20230104.nwb"));
        let err = lab.fails(&["insert", other.to_str().unwrap()]);
        assert!(err.contains("failed"), "{err}");
        let msg = lab.rows(
            "common_usage.InsertError",
            &["nwb_file_name=diff20230104_.nwb"],
        );
        assert!(
            msg[0]["error_message"]
                .as_str()
                .unwrap()
                .contains("a different file of that name is already in"),
            "{msg:?}"
        );
        assert_eq!(md5(&lab.raw().join("diff20230104.nwb")), before);
        assert_absent(&lab, "diff20230104_.nwb");
        assert!(!lab.raw().join("diff20230104_.nwb").exists());
    }
}

/// Case 6: a backslash, slash-like or control character in a raw file name is
/// refused at insert, before anything is written.
#[test]
fn file_names_with_separators_or_control_characters_are_refused() {
    let lab = Lab::sqlite();
    let ok = lab.incoming().join("fine20230105.nwb");
    small_session(&ok, 5);
    lab.ok(&["insert", ok.to_str().unwrap()]);
    for bad in ["a\\b20230105.nwb", "tab\there.nwb", "nl\nx.nwb"] {
        let p = lab.incoming().join(bad);
        std::fs::copy(&ok, &p).unwrap();
        let out = lab.run(&["insert", p.to_str().unwrap()]);
        assert!(!out.status.success(), "{bad:?} was accepted");
        let err = lab.rows("common_usage.InsertError", &[]);
        let text = serde_json::to_string(&err).unwrap();
        assert!(text.contains("file names may not contain"), "{text}");
    }
    // the table stays readable and holds only the good session
    assert_eq!(lab.count("common_nwbfile.Nwbfile", &[]), 1);
    assert_eq!(
        raw_listing(&lab.raw()),
        vec!["fine20230105.nwb", "fine20230105_.nwb"]
    );
}

/// Case 18: a session name that leaves no room for analysis file names (64
/// characters) is refused with the reason; one at the limit is accepted.
#[test]
fn session_names_too_long_for_analysis_files_are_refused() {
    let lab = Lab::sqlite();
    // copy name = stem + "_.nwb": 49-character stem -> 54 characters, the limit
    let fits = format!("{}.nwb", "f".repeat(49));
    let too_long = format!("{}.nwb", "g".repeat(50));
    let p_fits = lab.incoming().join(&fits);
    let p_long = lab.incoming().join(&too_long);
    small_session(&p_fits, 6);
    small_session(&p_long, 7);
    lab.ok(&["insert", p_fits.to_str().unwrap()]);
    let copy = format!("{}_.nwb", "f".repeat(49));
    assert_ingested(&lab, &copy);
    lab.fails(&["insert", p_long.to_str().unwrap()]);
    let err = lab.rows("common_usage.InsertError", &[]);
    let text = serde_json::to_string(&err).unwrap();
    assert!(
        text.contains("has 55 characters; at most 54 leave room for its analysis files"),
        "{text}"
    );
    assert_eq!(lab.count("common_nwbfile.Nwbfile", &[]), 1);
    assert!(!lab.raw().join(&too_long).exists());
}

/// Case 3: `insert --reinsert` checks the new file before deleting anything, deletes
/// through the cautious delete (refused for a non-member, logged otherwise), and
/// `.`, `..`, `/`, `2023` are errors, not a raw file found by accident.
#[test]
fn reinsert_checks_first_and_deletes_cautiously() {
    for lab in Lab::both() {
        let src = lab.incoming().join("re20230106.nwb");
        small_session(&src, 8);
        lab.ok(&["insert", src.to_str().unwrap()]);
        let nwb = "re20230106_.nwb";
        let counts = lab.session_counts(nwb);
        let copy_md5 = md5(&lab.raw().join(nwb));
        if !lab.mysql {
            // sam (the experimenter) is a lab member on a team; mallory is not
            let j = lab.dir.path().join("info.json");
            std::fs::write(
                &j,
                r#"[{"lab_member_name": "Sam Synthetic", "google_user_name": "sam@lab", "datajoint_user_name": "sam", "admin": 0}]"#,
            )
            .unwrap();
            lab.ok(&[
                "load",
                "common_lab.LabMember.LabMemberInfo",
                j.to_str().unwrap(),
            ]);
            std::fs::write(&j, r#"[{"team_name": "sams", "team_description": ""}]"#).unwrap();
            lab.ok(&["load", "common_lab.LabTeam", j.to_str().unwrap()]);
            std::fs::write(
                &j,
                r#"[{"team_name": "sams", "lab_member_name": "Sam Synthetic"}]"#,
            )
            .unwrap();
            lab.ok(&[
                "load",
                "common_lab.LabTeam.LabTeamMember",
                j.to_str().unwrap(),
            ]);
        }

        // a truncated file of the same name: refused before anything is deleted
        let cut_dir = lab.incoming().join("cut");
        std::fs::create_dir_all(&cut_dir).unwrap();
        let cut = cut_dir.join("re20230106.nwb");
        let bytes = std::fs::read(&src).unwrap();
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        lab.fails(&["insert", "--reinsert", cut.to_str().unwrap()]);
        assert_eq!(lab.session_counts(nwb), counts);
        assert_eq!(md5(&lab.raw().join(nwb)), copy_md5);
        assert_ingested(&lab, nwb);
        // the raw file itself truncated in place: the new copy cannot be made, nothing deleted
        let raw_file = lab.raw().join("re20230106.nwb");
        std::fs::write(&raw_file, &bytes[..bytes.len() / 2]).unwrap();
        lab.fails(&["insert", "--reinsert", raw_file.to_str().unwrap()]);
        assert_eq!(lab.session_counts(nwb), counts);
        assert_eq!(md5(&lab.raw().join(nwb)), copy_md5);
        std::fs::write(&raw_file, &bytes).unwrap();
        assert_eq!(lab.count("common_usage.CautiousDelete", &[]), 0);

        // not file names: clear errors, nothing touched
        for bad in [".", "..", "/", "2023"] {
            let err = lab.fails(&["insert", "--reinsert", bad]);
            assert!(err.contains("failed"), "{bad}: {err}");
        }
        let errs = serde_json::to_string(&lab.rows("common_usage.InsertError", &[])).unwrap();
        assert!(errs.contains("is a directory"), "{errs}");
        assert!(errs.contains("not an .nwb file name"), "{errs}");
        assert_eq!(lab.session_counts(nwb), counts);

        if !lab.mysql {
            // a user who may not delete the session is refused, nothing deleted
            lab.fails(&[
                "insert",
                "--reinsert",
                "--user",
                "mallory",
                src.to_str().unwrap(),
            ]);
            let errs = serde_json::to_string(&lab.rows("common_usage.InsertError", &[])).unwrap();
            assert!(errs.contains("permission denied"), "{errs}");
            assert_eq!(lab.session_counts(nwb), counts);
            assert_eq!(md5(&lab.raw().join(nwb)), copy_md5);
        }
        // a permitted reinsert: logged as a cautious delete, same rows again
        let out = lab.ok(&["insert", "--reinsert", src.to_str().unwrap()]);
        assert!(out.contains("1 inserted"), "{out}");
        assert_eq!(lab.session_counts(nwb), counts);
        assert_ingested(&lab, nwb);
        let log = lab.rows("common_usage.CautiousDelete", &[]);
        assert_eq!(log.len(), 1, "{log:?}");
        assert_eq!(log[0]["origin"], "`common_nwbfile`.`nwbfile`");
        assert_eq!(log[0]["dj_user"], if lab.mysql { "root" } else { "sam" });
        assert_eq!(
            raw_listing(&lab.raw()),
            vec!["re20230106.nwb", "re20230106_.nwb"]
        );
    }
}

/// Case 16: a database on read-only storage is opened read-only (listing and
/// fetching work, the file is not touched, writes fail clearly).
#[test]
fn a_read_only_database_can_be_listed() {
    let lab = Lab::sqlite();
    let src = lab.incoming().join("ro20230107.nwb");
    small_session(&src, 9);
    lab.ok(&["insert", src.to_str().unwrap()]);
    // a copy in its own folder (the last connection's close folded the WAL in)
    let db = lab.dir.path().join("spyglass.db");
    assert!(!lab.dir.path().join("spyglass.db-wal").exists());
    let ro = lab.dir.path().join("ro");
    std::fs::create_dir_all(&ro).unwrap();
    let ro_db = ro.join("spyglass.db");
    std::fs::copy(&db, &ro_db).unwrap();
    let run_ro = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_spyglass"))
            .args(["--db", &format!("sqlite:///{}", ro_db.display())])
            .args(args)
            .env("SPYGLASS_BASE_DIR", lab.base())
            .env("HDF5_USE_FILE_LOCKING", "FALSE")
            .output()
            .unwrap()
    };
    set_mode(&ro_db, 0o444);
    set_mode(&ro, 0o555);
    let before = md5(&ro_db);
    let out = run_ro(&["show", "common_nwbfile.Nwbfile", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ro20230107_.nwb"));
    let out = run_ro(&["fetch-nwb", "common_ephys.Raw", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j = lab.dir.path().join("lab.json");
    std::fs::write(&j, r#"[{"lab_name": "Another Lab"}]"#).unwrap();
    let out = run_ro(&["load", "common_lab.Lab", j.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("readonly"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(md5(&ro_db), before);
    assert!(!ro.join("spyglass.db-wal").exists() && !ro.join("spyglass.db-journal").exists());
    set_mode(&ro, 0o755);
    set_mode(&ro_db, 0o644);
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Case 19: `--workers` is capped, a CSV with a repeated header column is refused,
/// a lookup whose contents conflict is not left declared, and error messages do not
/// repeat their cause.
#[test]
fn workers_csv_headers_lookup_contents_and_messages() {
    let lab = Lab::sqlite();
    let decl = lab.dir.path().join("shop.yaml");
    std::fs::write(
        &decl,
        "schema: shop\ntables:\n  - name: Item\n    tier: manual\n    definition: \"item : int\\n---\\nprice : int\"\n",
    )
    .unwrap();
    lab.ok(&["declare", decl.to_str().unwrap()]);
    for n in ["0", "65", "2000"] {
        let err = lab.fails(&["populate", "shop.Item", "--workers", n]);
        assert!(
            err.contains(&format!("--workers {n}: expected 1 to 64")),
            "{err}"
        );
    }
    // CSV with the same column twice: refused, no row
    let csv = lab.dir.path().join("items.csv");
    std::fs::write(&csv, "item,price,price\n1,10,20\n").unwrap();
    let err = lab.fails(&["load", "shop.Item", csv.to_str().unwrap()]);
    assert!(err.contains("names column `price` more than once"), "{err}");
    assert_eq!(lab.count("shop.Item", &[]), 0);

    // a lookup whose contents repeat a key with another value: refused, not declared
    let grades = |contents: &str| {
        format!(
            "schema: shop\ntables:\n  - name: Grade\n    tier: lookup\n    definition: \"grade : char(2)\\n---\\npoints : int\"\n    contents: {contents}\n"
        )
    };
    std::fs::write(&decl, grades(r#"[["A", 4], ["B", 3], ["A", 5]]"#)).unwrap();
    let err = lab.fails(&["declare", decl.to_str().unwrap()]);
    assert!(
        err.contains("repeats the key (grade=A) with different values"),
        "{err}"
    );
    let tables = lab.ok(&["tables", "--schema", "shop", "--format", "json"]);
    assert!(!tables.contains("Grade"), "{tables}");
    // consistent contents declare; the same again is unchanged; a conflict with the
    // stored rows is refused and the rows stay
    std::fs::write(&decl, grades(r#"[["A", 4], ["B", 3], ["A", 4]]"#)).unwrap();
    lab.ok(&["declare", decl.to_str().unwrap()]);
    lab.ok(&["declare", decl.to_str().unwrap()]);
    assert_eq!(lab.count("shop.Grade", &[]), 2);
    std::fs::write(&decl, grades(r#"[["A", 4], ["B", 2], ["C", 1]]"#)).unwrap();
    let err = lab.fails(&["declare", decl.to_str().unwrap()]);
    assert!(
        err.contains("conflicts with the row already stored under (grade=B)"),
        "{err}"
    );
    let rows = lab.rows("shop.Grade", &[]);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1]["points"], 3);

    // messages name their cause once: an I/O error wrapped with its path used to read
    // `…/proc/x: No such file or directory (os error 2): No such file or directory (os error 2)`
    let out = Command::new(env!("CARGO_BIN_EXE_spyglass"))
        .args(["--db", "sqlite:////proc/x/y.db", "tables"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    for args in [
        vec!["load", "shop.Item", "/nonexistent/items.csv"],
        vec!["show", "shop.Nope"],
        vec!["insert", "/nonexistent/x.nwb"],
    ] {
        let err = lab.fails(&args);
        let line = err
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or(&err);
        let parts: Vec<&str> = line.split(": ").collect();
        for w in parts.windows(2) {
            assert_ne!(w[0], w[1], "{line}");
        }
    }
}

/// The concurrency test: 8 processes insert overlapping sets of files, some killed
/// with SIGKILL at random points; every file is then either fully ingested or absent
/// (no rows), no temporary is left once the files are inserted again, and every
/// fetch works (SQLite and MariaDB).
#[test]
fn eight_inserters_killed_at_random_leave_all_or_nothing() {
    let t0 = Instant::now();
    for lab in Lab::both() {
        let names: Vec<String> = (0..6).map(|i| format!("conc{i}20230201.nwb")).collect();
        let srcs: Vec<PathBuf> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let p = lab.incoming().join(n);
                small_session(&p, 100 + i as u64);
                p
            })
            .collect();
        // the tables exist before the race (as in a lab's database)
        let seed = lab.incoming().join("seed20230201.nwb");
        small_session(&seed, 99);
        lab.ok(&["insert", seed.to_str().unwrap()]);
        let mut rng = 0x2545_f491_4f6c_dd1du64 ^ (lab.mysql as u64);
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut killed = 0;
        // at least two rounds, and more (up to six) until two inserters were killed
        // mid-run: on a fast machine an insert may finish before its kill time
        for round in 0..6 {
            if round >= 2 && killed >= 2 {
                break;
            }
            let mut kids: Vec<(Child, Option<Duration>)> = Vec::new();
            for p in 0..8usize {
                // an overlapping set: four of the six files, starting at a rotating offset
                let set: Vec<&str> = (0..4)
                    .map(|k| srcs[(p + k + round) % srcs.len()].to_str().unwrap())
                    .collect();
                let mut args = vec!["insert"];
                args.extend(set);
                let child = lab
                    .cmd(&args)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                // about half are killed after 50 to 1500 ms (5 to 65 ms in the later rounds)
                let (first, window) = if round < 2 { (50, 1450) } else { (5, 60) };
                let kill =
                    (next() % 2 == 0).then(|| Duration::from_millis(first + next() % window));
                kids.push((child, kill));
            }
            let start = Instant::now();
            loop {
                let mut running = 0;
                for (c, kill) in kids.iter_mut() {
                    if c.try_wait().unwrap().is_some() {
                        continue;
                    }
                    running += 1;
                    if let Some(k) = kill {
                        if start.elapsed() >= *k {
                            // SIGKILL
                            if c.kill().is_ok() {
                                killed += 1;
                            }
                            let _ = c.wait();
                            *kill = None;
                        }
                    }
                }
                if running == 0 {
                    break;
                }
                assert!(start.elapsed() < Duration::from_secs(120), "inserters hang");
                std::thread::sleep(Duration::from_millis(10));
            }
            // every file: fully ingested or wholly absent
            for n in &names {
                let copy = n.replace(".nwb", "_.nwb");
                let counts = lab.session_counts(&copy);
                if counts[0].1 == 1 {
                    assert_ingested(&lab, &copy);
                } else {
                    assert_absent(&lab, &copy);
                }
                let raw = lab.raw().join(n);
                if raw.exists() {
                    let src = srcs.iter().find(|s| s.ends_with(n)).unwrap();
                    assert_eq!(md5(&raw), md5(src), "{n}: a partial raw file");
                }
            }
        }
        // the test means something only if processes died mid-way
        assert!(
            killed >= 2,
            "only {killed} inserters were killed while running"
        );
        eprintln!(
            "mysql={}: {killed} inserters killed while running",
            lab.mysql
        );
        // inserting everything again completes what was interrupted
        let mut args = vec!["insert"];
        args.extend(srcs.iter().map(|p| p.to_str().unwrap()));
        lab.ok(&args);
        for n in &names {
            assert_ingested(&lab, &n.replace(".nwb", "_.nwb"));
            let src = srcs.iter().find(|s| s.ends_with(n)).unwrap();
            assert_eq!(md5(&lab.raw().join(n)), md5(src));
        }
        let listing = raw_listing(&lab.raw());
        assert!(
            listing.iter().all(|n| !n.contains(".part-")),
            "temporaries left: {listing:?}"
        );
        assert_eq!(listing.len(), 2 * (names.len() + 1), "{listing:?}");
        // the ingest locks of killed processes were taken over and removed
        assert!(!lab.raw().join(".locks").exists());
        assert_eq!(lab.count("common_nwbfile.Nwbfile", &[]), names.len() + 1);
    }
    eprintln!("concurrency test: {:.1} s", t0.elapsed().as_secs_f64());
}

/// All files under `dir`, relative, with their checksums.
fn tree(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = crate::common::files_under(dir)
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            (rel, md5(p))
        })
        .collect();
    out.sort();
    out
}

/// Case 2: `cleanup` on a paper bundle's database considers only the bundle's own
/// folders: the lab's analysis files (which the bundle does not reference) stay, and
/// the lab database's rows are untouched; a stray file inside the bundle goes.
#[test]
fn cleanup_of_a_bundle_never_touches_the_labs_files() {
    let tmp = spyglass_testkit::scratch_dir();
    let d = tmp.path().join("demo");
    let base = d.join("base");
    let lab_db = format!("sqlite:///{}", d.join("spyglass.db").display());
    let run = |db: &str, args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_spyglass"))
            .args(["--db", db])
            .args(args)
            .env("SPYGLASS_BASE_DIR", &base)
            .env("HDF5_USE_FILE_LOCKING", "FALSE")
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&lab_db, &["demo", "--dir", d.to_str().unwrap()]);
    // a paper that uses one electrode and no analysis file
    run(
        &lab_db,
        &["export", "start", "--paper", "p", "--analysis", "a"],
    );
    run(
        &lab_db,
        &["show", "common_ephys.Electrode", "--key", "electrode_id=2"],
    );
    run(&lab_db, &["export", "stop"]);
    let out_dir = tmp.path().join("OUT");
    run(
        &lab_db,
        &[
            "export",
            "run",
            "--paper",
            "p",
            "-o",
            out_dir.to_str().unwrap(),
        ],
    );
    let analysis = base.join("analysis");
    let lab_files = tree(&analysis);
    assert!(lab_files.len() >= 2, "{lab_files:?}");
    let lab_rows = run(
        &lab_db,
        &["show", "common_nwbfile.AnalysisNwbfile", "--format", "json"],
    );
    let bundle = out_dir.join("p/bundle");
    let stray = bundle.join("analysis/x/x_STRAY00000.nwb");
    std::fs::create_dir_all(stray.parent().unwrap()).unwrap();
    std::fs::write(&stray, b"stray").unwrap();
    let bundle_db = format!("sqlite:///{}", bundle.join("spyglass.db").display());
    let out = run(&bundle_db, &["cleanup", "--min-age-secs", "0"]);
    assert!(out.contains("removed 1 file(s)"), "{out}");
    assert!(!stray.exists());
    assert_eq!(tree(&analysis), lab_files);
    assert_eq!(
        run(
            &lab_db,
            &["show", "common_nwbfile.AnalysisNwbfile", "--format", "json"]
        ),
        lab_rows
    );
    // the bundle's database is in rollback-journal mode (header bytes 18, 19 = 1)
    let header = std::fs::read(bundle.join("spyglass.db")).unwrap();
    assert_eq!((header[18], header[19]), (1, 1));
    // and the lab's own cleanup still keeps every referenced file
    run(&lab_db, &["cleanup", "--min-age-secs", "0"]);
    assert_eq!(tree(&analysis), lab_files);
}
