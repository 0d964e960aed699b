//! Benchmark: populate bookkeeping per key with a trivial make (one inserted row),
//! with and without job reservation, on SQLite. Prints ms/key next to DataJoint's
//! published figures on MariaDB (2.7 ms/key, 9.5 ms/key with reservation).
//! `cargo bench -p spyglass-db --bench populate` (keys via $BENCH_KEYS).

use spyglass_db::populate::{Classic, Make, MakeResult, NoProgress, PopulateOptions};
use spyglass_db::{Db, InsertOptions, Row, TableSpec, Tier, Value};
use std::time::Instant;

struct Trivial;
impl Make for Trivial {
    fn make(&self, db: &Db, key: &Row) -> MakeResult<()> {
        let id = key.get("id").cloned().unwrap_or(Value::Null);
        db.insert(
            "bench.Out",
            &[Row::from_pairs([("id", id), ("v", Value::Int(1))])],
            InsertOptions::default(),
        )?;
        Ok(())
    }
}

fn run(n: i64, reserve: bool) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&format!("sqlite:///{}", dir.path().join("p.db").display())).unwrap();
    db.declare("bench", &TableSpec::new("Src", Tier::Manual, "id : int"))
        .unwrap();
    db.declare(
        "bench",
        &TableSpec::new("Out", Tier::Computed, "-> Src\n---\nv : int"),
    )
    .unwrap();
    let rows: Vec<Row> = (0..n)
        .map(|i| Row::from_pairs([("id", Value::Int(i))]))
        .collect();
    db.insert("bench.Src", &rows, InsertOptions::default())
        .unwrap();
    if reserve {
        db.ensure_jobs_table("bench").unwrap();
    }
    let opts = PopulateOptions {
        reserve_jobs: reserve,
        ..Default::default()
    };
    let t0 = Instant::now();
    let r = db
        .populate("bench.Out", &Classic(Trivial), None, &opts, &NoProgress)
        .unwrap();
    let dt = t0.elapsed().as_secs_f64();
    assert_eq!(r.success_count as i64, n);
    dt * 1000.0 / n as f64
}

fn main() {
    let n: i64 = std::env::var("BENCH_KEYS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5000);
    let plain = (0..3).map(|_| run(n, false)).fold(f64::MAX, f64::min);
    let reserved = (0..3).map(|_| run(n, true)).fold(f64::MAX, f64::min);
    println!(
        "populate bookkeeping, trivial make, {n} keys, SQLite (WAL, synchronous=NORMAL), best of 3"
    );
    println!(
        "{:<22} {:>12} {:>28} {:>8}",
        "", "spyglass-db", "DataJoint 0.14 on MariaDB*", "ratio"
    );
    println!(
        "{:<22} {:>9.3} ms {:>25.1} ms {:>7.0}×",
        "without reservation",
        plain,
        2.7,
        2.7 / plain
    );
    println!(
        "{:<22} {:>9.3} ms {:>25.1} ms {:>7.0}×",
        "with reservation",
        reserved,
        9.5,
        9.5 / reserved
    );
    println!("(* published figure from performance-anchors.md, not measured in this run; target ≤ 0.2 ms/key)");
}
