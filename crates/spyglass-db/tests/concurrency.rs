//! Many worker processes on one SQLite file: every key is made exactly once (the
//! make counts its calls in a side table), and a worker killed with SIGKILL in the
//! middle of a make leaves no partial rows; its key is made later.

use spyglass_db::{Cond, Db, Proj, Query};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

fn harness(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_populate-harness"));
    c.args(args);
    c
}

fn setup(n: usize) -> (tempfile::TempDir, String) {
    let dir = spyglass_testkit::scratch_dir();
    let url = format!("sqlite:///{}", dir.path().join("workers.db").display());
    let out = harness(&["setup", &url, &n.to_string()]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir, url)
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

#[test]
fn four_workers_make_each_of_1000_keys_once() {
    let (_dir, url) = setup(1000);
    let workers: Vec<Child> = (0..4)
        .map(|_| {
            harness(&["work", &url])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for w in workers {
        wait_ok(w);
    }
    let db = Db::open(&url).unwrap();
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

#[test]
fn killed_worker_leaves_no_partial_rows() {
    let (_dir, url) = setup(20);
    let db = Db::open(&url).unwrap();
    let target = db.table_info("harness.Target").unwrap().name.clone();
    let slow_key = spyglass_db::Row::from_pairs([("id", spyglass_db::Value::Int(7))]);
    let hash = spyglass_db::key_hash(&slow_key);
    let mut worker = harness(&["work", &url, "--slow-key", "7", "--slow-ms", "120000"])
        .spawn()
        .unwrap();
    // wait until key 7 is reserved (its make is then sleeping between master and parts)
    let start = Instant::now();
    loop {
        if db.job_hashes(&target).unwrap().contains(&hash) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "key 7 was never reserved"
        );
        assert!(worker.try_wait().unwrap().is_none(), "worker exited early");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    worker.kill().unwrap(); // SIGKILL
    worker.wait().unwrap();
    let seven = Cond::map([("id", 7)]);
    let q = |t: &str| db.table(t).unwrap().restrict(seven.clone()).unwrap();
    assert_eq!(
        db.count(&q("harness.Target")).unwrap(),
        0,
        "master row rolled back"
    );
    assert_eq!(db.count(&q("harness.Target.Detail")).unwrap(), 0);
    assert_eq!(db.count(&q("harness.Calls")).unwrap(), 0);
    // the dead worker's reservation is stale on this host
    assert_eq!(db.clear_stale_jobs("harness", None).unwrap(), 1);
    let out = harness(&["work", &url]).output().unwrap();
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
            &db.table("harness.Target.Detail")
                .unwrap()
                .proj(Proj::key())
                .unwrap(),
        )
        .unwrap();
    assert_eq!(db.count(&orphans).unwrap(), 0);
}
