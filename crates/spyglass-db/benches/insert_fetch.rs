//! Benchmark: bulk insert and fetch of 1M rows of a 5-column table through the
//! engine, next to raw rusqlite doing the same in the same run, as a ratio.
//! Run with `cargo bench -p spyglass-db --bench insert_fetch` (N rows via $BENCH_ROWS).

use rusqlite::{params, Connection};
use spyglass_db::{Db, InsertOptions, Row, TableSpec, Tier, Value};
use std::sync::Arc;
use std::time::Instant;

const DEF: &str =
    "id : int unsigned\n---\ncount : int\nweight : double\nlabel : varchar(32)\nday : date";

fn label(i: usize) -> String {
    format!("label-{:06}", i % 100_000)
}

fn day(i: usize) -> String {
    format!("2024-{:02}-{:02}", i % 12 + 1, i % 28 + 1)
}

fn raw(dir: &std::path::Path, n: usize, round: usize) -> (f64, f64) {
    let conn = Connection::open(dir.join(format!("raw{round}.db"))).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    )
    .unwrap();
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER NOT NULL, count INTEGER NOT NULL, weight REAL NOT NULL, label TEXT NOT NULL, day TEXT NOT NULL, PRIMARY KEY (id))",
    )
    .unwrap();
    let t0 = Instant::now();
    conn.execute_batch("BEGIN").unwrap();
    {
        let mut st = conn
            .prepare("INSERT INTO t (id, count, weight, label, day) VALUES (?,?,?,?,?)")
            .unwrap();
        for i in 0..n {
            st.execute(params![
                i as i64,
                (i * 7 % 1000) as i64,
                i as f64 * 0.5,
                label(i),
                day(i)
            ])
            .unwrap();
        }
    }
    conn.execute_batch("COMMIT").unwrap();
    let ins = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let mut st = conn
        .prepare("SELECT id, count, weight, label, day FROM t")
        .unwrap();
    let rows: Vec<(i64, i64, f64, String, String)> = st
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(rows.len(), n);
    (ins, t0.elapsed().as_secs_f64())
}

fn ours(dir: &std::path::Path, n: usize, round: usize) -> (f64, f64) {
    let db = Db::open(&format!(
        "sqlite:///{}",
        dir.join(format!("ours{round}.db")).display()
    ))
    .unwrap();
    db.declare("bench", &TableSpec::new("Item", Tier::Manual, DEF))
        .unwrap();
    let cols: Arc<[String]> = ["id", "count", "weight", "label", "day"]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .into();
    let t0 = Instant::now();
    let rows: Vec<Row> = (0..n)
        .map(|i| {
            Row::new(
                cols.clone(),
                vec![
                    Value::Int(i as i64),
                    Value::Int((i * 7 % 1000) as i64),
                    Value::Float(i as f64 * 0.5),
                    Value::Str(label(i)),
                    Value::Str(day(i)),
                ],
            )
            .unwrap()
        })
        .collect();
    db.insert("bench.Item", &rows, InsertOptions::default())
        .unwrap();
    let ins = t0.elapsed().as_secs_f64();
    drop(rows);
    let t0 = Instant::now();
    let got = db.fetch(&db.table("bench.Item").unwrap()).unwrap();
    assert_eq!(got.len(), n);
    (ins, t0.elapsed().as_secs_f64())
}

fn main() {
    let n: usize = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    // alternate the two sides and keep each one's best round, so that load from
    // other processes on a shared machine does not favour either
    let (mut ri, mut rf, mut oi, mut of) = (f64::MAX, f64::MAX, f64::MAX, f64::MAX);
    for round in 0..rounds {
        let (a, b) = raw(dir.path(), n, round);
        let (c, d) = ours(dir.path(), n, round);
        (ri, rf, oi, of) = (ri.min(a), rf.min(b), oi.min(c), of.min(d));
    }
    let rate = |t: f64| n as f64 / t;
    println!("insert/fetch of {n} rows × 5 columns on SQLite (WAL, synchronous=NORMAL), best of {rounds}");
    println!(
        "{:<8} {:>16} {:>16} {:>10}",
        "", "spyglass-db", "raw rusqlite", "ratio"
    );
    println!(
        "{:<8} {:>12.0} r/s {:>12.0} r/s {:>9.2}×",
        "insert",
        rate(oi),
        rate(ri),
        oi / ri
    );
    println!(
        "{:<8} {:>12.0} r/s {:>12.0} r/s {:>9.2}×",
        "fetch",
        rate(of),
        rate(rf),
        of / rf
    );
    println!("(ratio = our time / raw time; target ≤ 1.5×)");
}
