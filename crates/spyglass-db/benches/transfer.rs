//! Benchmark of `spyglass transfer` against datajoint-python's `insert(src.fetch())`
//! (in windows of the same size) on the same MariaDB server in the same run: rows/s
//! of a MySQL → MySQL copy of BENCH_ROWS rows (default 1,000,000), each with a small
//! blob, the ratio, and peak memory of each side. Server: $SPYGLASS_TEST_MYSQL_URL,
//! else a private MariaDB. `cargo bench -p spyglass-db --bench transfer`.

use spyglass_db::transfer::{transfer, Options, Plan};
use spyglass_db::{Db, InsertOptions, Row, TableSpec, Tier, Value};
use std::time::Instant;

const DEF: &str = "id : int unsigned\n---\nsession : varchar(16)\nt : double\nsamples : longblob";
const WINDOW: usize = 10_000;

const PYTHON: &str = r#"
import sys, time, json, resource
import datajoint as dj
host, port, user, pw, src_s, dst_s, n, w = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], int(sys.argv[7]), int(sys.argv[8])
dj.config.update({'database.host': host, 'database.port': port, 'database.user': user,
                  'database.password': pw, 'database.use_tls': False, 'safemode': False, 'loglevel': 'WARNING'})
src = dj.create_virtual_module('src', src_s).Trace
dst = dj.create_virtual_module('dst', dst_s).Trace
t = time.perf_counter()
for a in range(0, n, w):
    dst.insert((src & f'id >= {a} and id < {a + w}').fetch(as_dict=True), skip_duplicates=True)
dt = time.perf_counter() - t
print(json.dumps({'seconds': dt, 'rows': len(dst()), 'peak_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"#;

fn main() {
    let n: usize = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let url = spyglass_testkit::mysql_url();
    let p = spyglass_testkit::unique_prefix();
    let (src_s, dst_s, dj_s) = (
        format!("{p}tb_src"),
        format!("{p}tb_dst"),
        format!("{p}tb_dj"),
    );
    let db = Db::open(&url).unwrap();
    for s in [&src_s, &dst_s, &dj_s] {
        db.declare(s, &TableSpec::new("Trace", Tier::Manual, DEF))
            .unwrap();
    }
    // the source: n rows with a 10-sample float blob each, filled in chunks
    let t = Instant::now();
    let table = format!("{src_s}.Trace");
    for start in (0..n).step_by(20_000) {
        let rows: Vec<Row> = (start..(start + 20_000).min(n))
            .map(|i| {
                let samples = spyglass_blob::from_json(&serde_json::json!((0..10)
                    .map(|k| (i * 10 + k) as f64)
                    .collect::<Vec<_>>()));
                Row::from_pairs([
                    ("id", Value::from(i as i64)),
                    ("session", Value::from(format!("s{:05}", i % 1000))),
                    ("t", Value::from(i as f64 * 0.001)),
                    ("samples", Value::from(samples)),
                ])
            })
            .collect();
        db.insert(&table, &rows, InsertOptions::default()).unwrap();
    }
    eprintln!(
        "filled {n} source rows in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let before = (spyglass_testkit::bench::peak_rss_mb() * 1024.0) as u64;

    let plan = Plan::from_yaml(&format!(
        "source: {url}\ntarget: {url}\nprefix_map: {{{src_s}: {dst_s}}}\nwindow: {WINDOW}\ntables:\n  - source: {src_s}.trace\n"
    ))
    .unwrap();
    let src = Db::open(&url).unwrap();
    let dst = Db::open(&url).unwrap();
    let t = Instant::now();
    let sum = transfer(&src, &dst, &plan, &Options::default(), &mut |_| {}).unwrap();
    let ours = t.elapsed().as_secs_f64();
    assert_eq!(sum.copied(), n as u64, "{}", sum.line());
    let ours_peak = (spyglass_testkit::bench::peak_rss_mb() * 1024.0) as u64;

    let c = spyglass_db::config::parse_mysql_url(&url).unwrap();
    let out = spyglass_testkit::run_python(
        PYTHON,
        &[
            &c.host,
            &c.port.to_string(),
            c.user.as_deref().unwrap_or("root"),
            c.password.as_deref().unwrap_or(""),
            &src_s,
            &dj_s,
            &n.to_string(),
            &WINDOW.to_string(),
        ],
    );
    let dj: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let dj_secs = dj["seconds"].as_f64().unwrap();
    assert_eq!(dj["rows"].as_u64(), Some(n as u64));
    println!("transfer of {n} rows with a blob each, MariaDB -> MariaDB, windows of {WINDOW}");
    println!(
        "  spyglass transfer        {:>10.0} rows/s  ({ours:.1} s, peak RSS {} MB; {} MB before)",
        n as f64 / ours,
        ours_peak / 1024,
        before / 1024
    );
    println!(
        "  datajoint insert(fetch)  {:>10.0} rows/s  ({dj_secs:.1} s, peak RSS {} MB)",
        n as f64 / dj_secs,
        dj["peak_kb"].as_u64().unwrap_or(0) / 1024
    );
    println!("  ratio                    {:>10.1}x", dj_secs / ours);
    for s in [&src_s, &dst_s, &dj_s] {
        db.execute(&format!("DROP DATABASE `{s}`"), &[]).unwrap();
    }
}
