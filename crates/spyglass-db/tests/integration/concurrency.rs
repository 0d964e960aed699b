//! Many worker processes on one database — a SQLite file (4 workers) and MariaDB
//! (8 workers): every key is made exactly once (the make counts its calls in a side
//! table), and a worker killed with SIGKILL in the middle of a make leaves no
//! partial rows; its key is made later.

use spyglass_db::{Cond, Db, Proj, Query};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

fn harness(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_populate-harness"));
    c.args(args);
    c
}

/// A database for the harness: (scratch dir, URL, schema prefix for harness args).
struct Target {
    _dir: tempfile::TempDir,
    url: String,
    prefix: String,
}

impl Target {
    fn sqlite() -> Target {
        let dir = spyglass_testkit::scratch_dir();
        let url = format!("sqlite:///{}", dir.path().join("workers.db").display());
        Target {
            _dir: dir,
            url,
            prefix: String::new(),
        }
    }

    fn mariadb() -> Target {
        Target {
            _dir: spyglass_testkit::scratch_dir(),
            url: spyglass_testkit::mysql_url(),
            prefix: spyglass_testkit::unique_prefix(),
        }
    }

    fn args<'a>(&'a self, cmd: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut a = vec![cmd, self.url.as_str()];
        a.extend_from_slice(extra);
        if !self.prefix.is_empty() {
            a.extend_from_slice(&["--prefix", self.prefix.as_str()]);
        }
        a
    }

    fn setup(&self, n: usize) {
        let n = n.to_string();
        let out = harness(&self.args("setup", &[&n])).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn db(&self) -> Db {
        let db = Db::open(&self.url).unwrap();
        db.set_prefix(&self.prefix);
        db
    }
}

fn count(db: &Db, t: &str) -> u64 {
    db.count(&db.table(t).unwrap()).unwrap()
}

fn distinct_ids(db: &Db, t: &str) -> u64 {
    db.count(&db.table(t).unwrap().universal(&["id"]).unwrap())
        .unwrap()
}

fn wait_ok(mut c: Child) {
    let status = c.wait().unwrap();
    assert!(status.success(), "worker exited with {status}");
}

fn workers_make_each_key_once(target: Target, workers: usize) {
    target.setup(1000);
    let procs: Vec<Child> = (0..workers)
        .map(|_| {
            harness(&target.args("work", &[]))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for w in procs {
        wait_ok(w);
    }
    let db = target.db();
    assert_eq!(count(&db, "harness.Calls"), 1000, "one make call per key");
    assert_eq!(distinct_ids(&db, "harness.Calls"), 1000);
    assert_eq!(count(&db, "harness.Target"), 1000);
    assert_eq!(count(&db, "harness.Target.Detail"), 3000);
    assert!(
        db.jobs("harness", None).unwrap().is_empty(),
        "no error or leftover reservations"
    );
    // the work really was shared
    let pids = db
        .count(
            &db.table("harness.Calls")
                .unwrap()
                .universal(&["pid"])
                .unwrap(),
        )
        .unwrap();
    assert!(pids >= 2, "only {pids} worker(s) made keys");
}

fn killed_worker_leaves_no_partial_rows(target: Target) {
    target.setup(20);
    let db = target.db();
    let name = db.table_info("harness.Target").unwrap().name.clone();
    let slow_key = spyglass_db::Row::from_pairs([("id", spyglass_db::Value::Int(7))]);
    let hash = spyglass_db::key_hash(&slow_key);
    let mut worker = harness(&target.args("work", &["--slow-key", "7", "--slow-ms", "120000"]))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // wait until key 7 is reserved (its make is then sleeping between master and parts)
    let start = Instant::now();
    loop {
        if db.job_hashes(&name).unwrap().contains(&hash) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "key 7 was never reserved"
        );
        assert!(worker.try_wait().unwrap().is_none(), "worker exited early");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    worker.kill().unwrap(); // SIGKILL
    worker.wait().unwrap();
    let seven = Cond::map([("id", 7)]);
    let q = |t: &str| db.table(t).unwrap().restrict(seven.clone()).unwrap();
    // a server notices the dropped connection and rolls back; give it a moment
    let start = Instant::now();
    while db.count(&q("harness.Target")).unwrap() != 0 && start.elapsed() < Duration::from_secs(20)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        db.count(&q("harness.Target")).unwrap(),
        0,
        "master row rolled back"
    );
    assert_eq!(db.count(&q("harness.Target.Detail")).unwrap(), 0);
    assert_eq!(db.count(&q("harness.Calls")).unwrap(), 0);
    // the dead worker's reservation is stale on this host
    assert_eq!(db.clear_stale_jobs("harness", None).unwrap(), 1);
    let out = harness(&target.args("work", &[])).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(db.count(&q("harness.Target")).unwrap(), 1);
    assert_eq!(db.count(&q("harness.Target.Detail")).unwrap(), 3);
    assert_eq!(
        db.count(&q("harness.Calls")).unwrap(),
        1,
        "key 7 made exactly once"
    );
    assert_eq!(count(&db, "harness.Target"), 20);
    assert_eq!(
        distinct_ids(&db, "harness.Calls"),
        count(&db, "harness.Calls")
    );
    // every target row has its parts
    let orphans = Query::table(&db.table_info("harness.Target").unwrap())
        .exclude(
            db.table("harness.Target.Detail")
                .unwrap()
                .proj(Proj::key())
                .unwrap(),
        )
        .unwrap();
    assert_eq!(db.count(&orphans).unwrap(), 0);
}

#[test]
fn four_workers_on_sqlite_make_each_of_1000_keys_once() {
    workers_make_each_key_once(Target::sqlite(), 4);
}

#[test]
fn killed_worker_on_sqlite_leaves_no_partial_rows() {
    killed_worker_leaves_no_partial_rows(Target::sqlite());
}

#[test]
fn eight_workers_on_mariadb_make_each_of_1000_keys_once() {
    workers_make_each_key_once(Target::mariadb(), 8);
}

#[test]
fn killed_worker_on_mariadb_leaves_no_partial_rows() {
    killed_worker_leaves_no_partial_rows(Target::mariadb());
}
