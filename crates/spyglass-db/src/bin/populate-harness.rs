//! Populate harness: a small pipeline whose make counts its calls in a side table,
//! used by the multi-process concurrency tests and the populate benchmark.
//!
//! `populate-harness setup URL N` declares schema `harness` with N source keys;
//! `populate-harness work URL [--slow-key K --slow-ms MS]` runs a worker loop whose
//! make inserts the master row, optionally sleeps (for key K), then inserts three
//! part rows and one row in `harness.Calls`. `--prefix P` prefixes the schema name.

use spyglass_db::populate::{Classic, Make, MakeResult, Maker, NoProgress};
use spyglass_db::{Db, InsertOptions, Row, TableSpec, Tier, Value};
use std::sync::Arc;

struct Counted {
    slow_key: Option<i64>,
    slow_ms: u64,
}

impl Make for Counted {
    fn make(&self, db: &Db, key: &Row) -> MakeResult<()> {
        let id = key
            .get("id")
            .and_then(Value::as_i64)
            .ok_or("key without id")?;
        db.insert(
            "harness.Target",
            &[Row::from_pairs([
                ("id", Value::Int(id)),
                ("value", Value::Int(id * 2)),
            ])],
            InsertOptions::default(),
        )?;
        if self.slow_key == Some(id) {
            std::thread::sleep(std::time::Duration::from_millis(self.slow_ms));
        }
        let parts: Vec<Row> = (0..3)
            .map(|j| {
                Row::from_pairs([
                    ("id", Value::Int(id)),
                    ("j", Value::Int(j)),
                    ("w", Value::Int(id + j)),
                ])
            })
            .collect();
        db.insert("harness.Target.Detail", &parts, InsertOptions::default())?;
        db.insert(
            "harness.Calls",
            &[Row::from_pairs([
                ("id", Value::Int(id)),
                ("pid", Value::Int(std::process::id() as i64)),
            ])],
            InsertOptions::default(),
        )?;
        Ok(())
    }
}

fn setup(db: &Db, n: i64) -> spyglass_db::Result<()> {
    db.declare(
        "harness",
        &TableSpec::new("Source", Tier::Manual, "id : int"),
    )?;
    db.declare(
        "harness",
        &TableSpec::new(
            "Calls",
            Tier::Manual,
            "call_id : int unsigned auto_increment\n---\nid : int\npid : int",
        ),
    )?;
    db.declare(
        "harness",
        &TableSpec::new("Target", Tier::Computed, "-> Source\n---\nvalue : int")
            .part("Detail", "-> master\nj : int\n---\nw : int"),
    )?;
    let rows: Vec<Row> = (0..n)
        .map(|i| Row::from_pairs([("id", Value::Int(i))]))
        .collect();
    db.insert(
        "harness.Source",
        &rows,
        InsertOptions {
            skip_duplicates: true,
            ..Default::default()
        },
    )?;
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: populate-harness setup URL N | work URL [--slow-key K --slow-ms MS]";
    if args.len() < 3 {
        eprintln!("{usage}");
        std::process::exit(2);
    }
    let db = Db::open(&args[2]).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1)
    });
    // keeps test runs apart on a shared server
    if let Some(p) = args
        .iter()
        .position(|a| a == "--prefix")
        .and_then(|i| args.get(i + 1))
    {
        db.set_prefix(p);
    }
    let result = match args[1].as_str() {
        "setup" => setup(&db, args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100))
            .map(|_| "ready".to_string()),
        "work" => {
            let flag = |name: &str| {
                args.iter()
                    .position(|a| a == name)
                    .and_then(|i| args.get(i + 1))
                    .and_then(|v| v.parse::<i64>().ok())
            };
            let maker: Arc<dyn Maker> = Arc::new(Classic(Counted {
                slow_key: flag("--slow-key"),
                slow_ms: flag("--slow-ms").unwrap_or(0) as u64,
            }));
            db.work(
                &[("harness.Target".to_string(), maker, None)],
                &[],
                &NoProgress,
            )
            .map(|r| format!("made {} errors {} passes {}", r.made, r.errors, r.passes))
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    match result {
        Ok(msg) => println!("{msg}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
