//! Benchmark against datajoint-python 0.14 on the same MariaDB server in the same
//! run: bulk insert rows/s, fetch rows/s with a blob column, and populate overhead
//! per key with job reservation. Server: $SPYGLASS_TEST_MYSQL_URL, else a private
//! MariaDB. `cargo bench -p spyglass-db --bench vs_datajoint`.

use spyglass_blob::{Array, Value as Blob};
use spyglass_db::populate::{Classic, Make, MakeResult, NoProgress, PopulateOptions};
use spyglass_db::{Db, InsertOptions, Row, TableSpec, Tier, Value};
use std::sync::Arc;
use std::time::Instant;

const N_INSERT: usize = 20_000;
const N_BLOB: usize = 5_000;
const N_KEYS: usize = 500;

const PYTHON: &str = r#"
import sys, time, json
import numpy as np
import datajoint as dj
host, port, user, pw, name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
n_insert, n_blob, n_keys = int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
dj.config.update({'database.host': host, 'database.port': port, 'database.user': user,
                  'database.password': pw, 'database.use_tls': False, 'safemode': False, 'loglevel': 'WARNING'})
schema = dj.Schema(name)
@schema
class Item(dj.Manual):
    definition = """
    id : int unsigned
    ---
    count : int
    weight : double
    label : varchar(32)
    day : date
    """
@schema
class Trace(dj.Manual):
    definition = """
    id : int unsigned
    ---
    samples : longblob
    """
@schema
class Src(dj.Manual):
    definition = """
    id : int
    """
@schema
class Out(dj.Computed):
    definition = """
    -> Src
    ---
    v : int
    """
    def make(self, key):
        self.insert1(dict(key, v=1))
rows = [dict(id=i, count=i * 7 % 1000, weight=i * 0.5, label='label-%06d' % (i % 100000),
             day='2024-%02d-%02d' % (i % 12 + 1, i % 28 + 1)) for i in range(n_insert)]
t = time.perf_counter(); Item.insert(rows); ins = time.perf_counter() - t
Trace.insert([dict(id=i, samples=np.arange(100, dtype=np.float64) + i) for i in range(n_blob)])
t = time.perf_counter(); got = Trace.fetch(as_dict=True); fet = time.perf_counter() - t
assert len(got) == n_blob
Src.insert([dict(id=i) for i in range(n_keys)])
t = time.perf_counter(); Out.populate(reserve_jobs=True); pop = time.perf_counter() - t
assert len(Out()) == n_keys
print(json.dumps({'insert': ins, 'fetch': fet, 'populate': pop}))
"#;

struct Trivial;
impl Make for Trivial {
    fn make(&self, db: &Db, key: &Row) -> MakeResult<()> {
        let id = key.get("id").cloned().unwrap_or(Value::Null);
        db.insert(
            "vs.Out",
            &[Row::from_pairs([("id", id), ("v", Value::Int(1))])],
            InsertOptions::default(),
        )?;
        Ok(())
    }
}

fn ours(url: &str, prefix: &str) -> (f64, f64, f64) {
    let db = Db::open(url).unwrap();
    db.set_prefix(prefix);
    let d = |c: &str, t: Tier, def: &str| db.declare("vs", &TableSpec::new(c, t, def)).unwrap();
    d(
        "Item",
        Tier::Manual,
        "id : int unsigned\n---\ncount : int\nweight : double\nlabel : varchar(32)\nday : date",
    );
    d(
        "Trace",
        Tier::Manual,
        "id : int unsigned\n---\nsamples : longblob",
    );
    d("Src", Tier::Manual, "id : int");
    d("Out", Tier::Computed, "-> Src\n---\nv : int");
    let cols: Arc<[String]> = ["id", "count", "weight", "label", "day"]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .into();
    let t = Instant::now();
    let rows: Vec<Row> = (0..N_INSERT)
        .map(|i| {
            Row::new(
                cols.clone(),
                vec![
                    Value::Int(i as i64),
                    Value::Int((i * 7 % 1000) as i64),
                    Value::Float(i as f64 * 0.5),
                    Value::Str(format!("label-{:06}", i % 100_000)),
                    Value::Str(format!("2024-{:02}-{:02}", i % 12 + 1, i % 28 + 1)),
                ],
            )
            .unwrap()
        })
        .collect();
    db.insert("vs.Item", &rows, InsertOptions::default())
        .unwrap();
    let ins = t.elapsed().as_secs_f64();
    let traces: Vec<Row> = (0..N_BLOB)
        .map(|i| {
            let a = Blob::Array(Array::vector(
                (0..100).map(|k| (k + i) as f64).collect::<Vec<f64>>(),
            ));
            Row::from_pairs([("id", Value::Int(i as i64)), ("samples", Value::from(a))])
        })
        .collect();
    db.insert("vs.Trace", &traces, InsertOptions::default())
        .unwrap();
    let t = Instant::now();
    let got = db.fetch(&db.table("vs.Trace").unwrap()).unwrap();
    let fet = t.elapsed().as_secs_f64();
    assert_eq!(got.len(), N_BLOB);
    let src: Vec<Row> = (0..N_KEYS)
        .map(|i| Row::from_pairs([("id", Value::Int(i as i64))]))
        .collect();
    db.insert("vs.Src", &src, InsertOptions::default()).unwrap();
    let t = Instant::now();
    let r = db
        .populate(
            "vs.Out",
            &Classic(Trivial),
            None,
            &PopulateOptions {
                reserve_jobs: true,
                ..Default::default()
            },
            &NoProgress,
        )
        .unwrap();
    let pop = t.elapsed().as_secs_f64();
    assert_eq!(r.success_count, N_KEYS);
    (ins, fet, pop)
}

fn main() {
    let url = spyglass_testkit::mysql_url();
    let c = spyglass_db::config::parse_mysql_url(&url).unwrap();
    let prefix = spyglass_testkit::unique_prefix();
    let (oi, of, op) = ours(&url, &prefix);
    let py_schema = format!("{prefix}vs_dj");
    let out = spyglass_testkit::run_python(
        PYTHON,
        &[
            &c.host,
            &c.port.to_string(),
            c.user.as_deref().unwrap_or("root"),
            c.password.as_deref().unwrap_or(""),
            &py_schema,
            &N_INSERT.to_string(),
            &N_BLOB.to_string(),
            &N_KEYS.to_string(),
        ],
    );
    let j: serde_json::Value =
        serde_json::from_str(out.trim().lines().last().unwrap_or("{}")).unwrap();
    let (pi, pf, pp) = (
        j["insert"].as_f64().unwrap(),
        j["fetch"].as_f64().unwrap(),
        j["populate"].as_f64().unwrap(),
    );
    println!(
        "spyglass-db vs datajoint-python 0.14 on the same MariaDB server ({}:{})",
        c.host, c.port
    );
    println!(
        "{:<34} {:>14} {:>16} {:>8}",
        "", "spyglass-db", "datajoint-python", "ratio"
    );
    println!(
        "{:<34} {:>10.0} r/s {:>12.0} r/s {:>7.1}×",
        format!("bulk insert, {N_INSERT} rows × 5 cols"),
        N_INSERT as f64 / oi,
        N_INSERT as f64 / pi,
        pi / oi
    );
    println!(
        "{:<34} {:>10.0} r/s {:>12.0} r/s {:>7.1}×",
        format!("fetch, {N_BLOB} rows with a blob"),
        N_BLOB as f64 / of,
        N_BLOB as f64 / pf,
        pf / of
    );
    println!(
        "{:<34} {:>11.2} ms {:>13.2} ms {:>7.1}×",
        format!("populate/key, reserved, {N_KEYS} keys"),
        op * 1000.0 / N_KEYS as f64,
        pp * 1000.0 / N_KEYS as f64,
        pp / op
    );
    println!("(ratio = datajoint time / our time; target ≥ 3×)");
}
