//! Export benchmark: the cascade and the dump of a paper's slice of a database that
//! holds 200 small synthetic sessions with the full common schema and the LFP
//! pipeline (LFPV1 and a theta LFPBandV1 on every session). The paper's analysis
//! fetches Session, Electrode and IntervalList of 5 sessions and `fetch_nwb`s their
//! LFPV1 rows while an export is logged; then, best of 3 each:
//!
//! - (a) `paper_slice` — the cascade from the logged restrictions, in rows/s;
//! - (b) `dump_slice_sql` of that slice to a file, in rows/s and MB/s;
//! - (c) `populate_paper` — script, SQL file and bundle with the file copies.
//!
//! Peer, measured in the same run: the same slice loaded into a private MariaDB
//! (our SQL file through the `mysql` client), dumped by `mysqldump --hex-blob <db>
//! <table> --where=…`, one call per table, as Spyglass's `_ExportSQL_<paper>.sh`
//! does, against our `dump_slice_sql` reading the same MariaDB. Spyglass itself
//! cannot be installed here, so its published `Export.populate_paper` figure
//! (spyglass-model.md, Appendix) is printed as a reference, not measured.
//! Nothing is cached between runs. `SPYGLASS_BENCH_SESSIONS=N` changes the 200;
//! `SPYGLASS_BENCH_KEEP=1` keeps the scratch directory (database, SQL files, export).

use spyglass::common::common_ephys::ELECTRODE;
use spyglass::common::common_interval::{INTERVAL_LIST, RAW_VALID_TIMES};
use spyglass::common::common_session::SESSION;
use spyglass::export::paper::{paper_leaves, paper_slice, populate_paper, ExportOptions};
use spyglass::ingest::{self, IngestOptions, NoProgress};
use spyglass::lfp::{self, band_v1, v1};
use spyglass::Settings;
use spyglass_db::dialect::Dialect;
use spyglass_db::slice::{key_restrictions, Slice};
use spyglass_db::{Cond, Db};
use spyglass_nwb::synthetic::{write_session, SyntheticParams};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const PAPER: &str = "bench";
const REPS: usize = 3;
/// Spyglass's limit on one `--where` before it splits a table's keys over calls.
const MAX_WHERE: usize = 100_000;

/// Best (smallest) wall time of `REPS` runs of `f`, with the last run's result.
fn best_of<T>(mut f: impl FnMut(usize) -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut last = None;
    for rep in 0..REPS {
        let t = Instant::now();
        let out = f(rep);
        best = best.min(t.elapsed().as_secs_f64());
        last = Some(out);
    }
    (best, last.unwrap())
}

/// One line of the results table.
#[derive(Clone)]
struct Line {
    step: String,
    rows: usize,
    secs: f64,
    bytes: Option<u64>,
    /// (peer label, peer seconds)
    peer: Option<(String, f64)>,
}

/// The connection parameters of a `mysql://user[:pass]@host:port` URL.
struct MyConn {
    host: String,
    port: String,
    user: String,
    pass: Option<String>,
}

impl MyConn {
    fn parse(url: &str) -> Option<MyConn> {
        let rest = url.strip_prefix("mysql://")?;
        let (cred, hostport) = rest.rsplit_once('@')?;
        let (user, pass) = match cred.split_once(':') {
            Some((u, p)) => (u.to_string(), Some(p.to_string())),
            None => (cred.to_string(), None),
        };
        let hostport = hostport.split('/').next()?;
        let (host, port) = hostport.split_once(':').unwrap_or((hostport, "3306"));
        Some(MyConn {
            host: host.into(),
            port: port.into(),
            user,
            pass,
        })
    }

    /// A client command (`mysql`, `mysqldump`) with these credentials and no option files.
    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.arg("--no-defaults")
            .arg(format!("--host={}", self.host))
            .arg(format!("--port={}", self.port))
            .arg(format!("--user={}", self.user));
        if let Some(p) = &self.pass {
            c.arg(format!("--password={p}"));
        }
        c
    }
}

/// Writes `slice` of `db` as SQL into `path`; returns (rows, bytes).
fn dump_to(db: &Db, slice: &Slice, path: &Path) -> (usize, u64) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = std::io::BufWriter::new(f);
    let stats = db
        .dump_slice_sql(slice, "spyglass-rs export benchmark", &mut w, &|_, _| {})
        .expect("dump_slice_sql");
    w.flush().unwrap();
    (stats.rows, stats.bytes)
}

/// The leaves of the paper as explicit primary-key lists (dialect-neutral), read from
/// the SQLite source, so that the same cascade can start on the MariaDB copy.
fn key_leaves(db: &Db) -> Vec<(spyglass_db::FullName, Cond)> {
    paper_leaves(db, PAPER)
        .unwrap()
        .into_iter()
        .map(|(t, c)| {
            let pk = db.info(&t).unwrap().primary_key();
            let rows = db
                .fetch(&db.query_of(&t).unwrap().restrict(c).unwrap())
                .unwrap();
            let keys: Vec<Cond> = rows.iter().map(|r| Cond::from(&r.project(&pk))).collect();
            (t, Cond::Or(keys))
        })
        .collect()
}

/// Runs Spyglass's dump script against the server, as `_ExportSQL_<paper>.sh` does:
/// one `mysqldump --hex-blob <db> <table> --where=…` per table (per key chunk), tables
/// sorted by full name, every output into one file. Returns the bytes written and the
/// number of mysqldump calls.
fn mysqldump_script(
    conn: &MyConn,
    db: &Db,
    slice: &Slice,
    out: &Path,
) -> std::io::Result<(u64, usize)> {
    let mut calls = 0;
    let mut f = std::fs::File::create(out)?;
    writeln!(f, "--\n-- SPYGLASS VERSION: bench --\n--")?;
    let mut tables: Vec<_> = slice.tables.iter().collect();
    tables.sort_by_key(|t| (t.name.schema.clone(), t.name.table.clone()));
    let mut current = String::new();
    for t in tables {
        if t.name.schema != current {
            current = t.name.schema.clone();
            writeln!(f, "CREATE DATABASE IF NOT EXISTS {0}; USE {0};", current)?;
        }
        let wheres = if t.keys.is_empty() {
            vec!["FALSE".to_string()]
        } else {
            let info = db.info(&t.name).unwrap();
            key_restrictions(Dialect::Mysql, &info, &t.keys, MAX_WHERE).unwrap()
        };
        for (i, w) in wheres.iter().enumerate() {
            let mut c = conn.command("mysqldump");
            c.arg("--hex-blob");
            if i > 0 {
                c.arg("--no-create-info");
            }
            c.arg(&t.name.schema)
                .arg(&t.name.table)
                .arg(format!("--where={}", w.replace('`', "")))
                .stdout(Stdio::from(f.try_clone()?))
                .stderr(Stdio::piped());
            let o = c.output()?;
            calls += 1;
            if !o.status.success() {
                return Err(std::io::Error::other(format!(
                    "mysqldump {} {}: {}",
                    t.name.schema,
                    t.name.table,
                    String::from_utf8_lossy(&o.stderr).trim()
                )));
            }
        }
    }
    f.flush()?;
    Ok((std::fs::metadata(out)?.len(), calls))
}

/// Rows in a mysqldump output: tuples of its INSERTs, whether written on the INSERT
/// line (`VALUES (…),(…);`) or one per line after it (MariaDB 10.11).
fn insert_tuples(text: &str) -> usize {
    let mut n = 0;
    let mut inside = false;
    for l in text.lines() {
        if l.starts_with("INSERT INTO") {
            match l.split_once(" VALUES") {
                Some((_, rest)) if rest.trim_start().starts_with('(') => {
                    n += rest.matches("),(").count() + 1;
                }
                _ => inside = true,
            }
        } else if inside && l.starts_with('(') {
            n += 1;
            inside = !l.ends_with(';');
        }
    }
    n
}

/// What the MariaDB part measured.
struct Peer {
    server: String,
    load_secs: f64,
    cascade: Line,
    ours: Line,
    mysqldump_secs: f64,
    mysqldump_bytes: u64,
    mysqldump_rows: usize,
    mysqldump_calls: usize,
}

/// Loads our SQL file into a private MariaDB and times mysqldump (Spyglass's script)
/// against our dump from that server.
fn mariadb_peer(src: &Db, slice: &Slice, sql_file: &Path, work: &Path) -> Result<Peer, String> {
    for p in ["mysqldump", "mysql", "mariadbd", "mariadb-install-db"] {
        if Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {p}"))
            .output()
            .map(|o| !o.status.success())
            .unwrap_or(true)
        {
            return Err(format!("`{p}` is not installed"));
        }
    }
    let url = std::panic::catch_unwind(spyglass_testkit::mysql_url)
        .map_err(|_| "could not start a private MariaDB".to_string())?;
    let conn = MyConn::parse(&url).ok_or_else(|| format!("cannot parse {url}"))?;
    let version = Command::new("mysqldump")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();

    // load the SQLite slice into the server with the mysql client (not timed as a step)
    let t = Instant::now();
    let o = conn
        .command("mysql")
        .stdin(Stdio::from(
            std::fs::File::open(sql_file).map_err(|e| e.to_string())?,
        ))
        .output()
        .map_err(|e| e.to_string())?;
    if !o.status.success() {
        return Err(format!(
            "loading {} with mysql: {}",
            sql_file.display(),
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    }
    let load_secs = t.elapsed().as_secs_f64();

    let mdb = Db::open(&url).map_err(|e| e.to_string())?;
    // the same cascade, from the same leaves as key lists
    let leaves = key_leaves(src);
    let (cascade_secs, mslice) = best_of(|_| mdb.cascade_up(&leaves).expect("cascade on MariaDB"));
    let counts = |s: &Slice| -> Vec<(String, usize)> {
        let mut v: Vec<_> = s
            .tables
            .iter()
            .map(|t| (t.name.to_string(), t.keys.len()))
            .collect();
        v.sort();
        v
    };
    if counts(&mslice) != counts(slice) {
        return Err(format!(
            "the cascade on MariaDB found a different slice:\n  SQLite  {:?}\n  MariaDB {:?}",
            counts(slice),
            counts(&mslice)
        ));
    }
    let rows = mslice.total_rows();

    let ours_path = work.join("ours_from_mariadb.sql");
    let (ours_secs, (_, ours_bytes)) = best_of(|_| dump_to(&mdb, &mslice, &ours_path));

    let peer_path = work.join("_Populate_bench.sql");
    let mut failure = None;
    let (mysqldump_secs, (mysqldump_bytes, mysqldump_calls)) = best_of(|_| match mysqldump_script(
        &conn, &mdb, &mslice, &peer_path,
    ) {
        Ok(b) => b,
        Err(e) => {
            failure = Some(e.to_string());
            (0, 0)
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    // cross-check: the rows mysqldump wrote (tuples of its extended INSERTs)
    let text = std::fs::read_to_string(&peer_path).map_err(|e| e.to_string())?;
    let mysqldump_rows = insert_tuples(&text);
    let peer_label = "mysqldump x table".to_string();
    Ok(Peer {
        server: format!("{url} ({version})"),
        load_secs,
        cascade: Line {
            step: "(a') cascade_up, MariaDB source".into(),
            rows,
            secs: cascade_secs,
            bytes: None,
            peer: None,
        },
        ours: Line {
            step: "(b') dump_slice_sql, MariaDB source".into(),
            rows,
            secs: ours_secs,
            bytes: Some(ours_bytes),
            peer: Some((peer_label, mysqldump_secs)),
        },
        mysqldump_secs,
        mysqldump_bytes,
        mysqldump_rows,
        mysqldump_calls,
    })
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("export: bench");
        return;
    }
    std::env::set_var("HDF5_USE_FILE_LOCKING", "FALSE");
    let n_sessions: usize = std::env::var("SPYGLASS_BENCH_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
        .max(5);
    let dir = tempfile::Builder::new()
        .prefix("spyglass-export-bench-")
        .tempdir()
        .unwrap();
    let work = dir.path().to_path_buf();
    let work = work.as_path();
    let settings = Settings::new(work.join("base"));
    let url = format!("sqlite:///{}", work.join("bench.db").display());
    let db = spyglass::Spyglass::open(&url, settings.clone()).unwrap();

    // ---- setup (not timed as a step) ----
    let t_setup = Instant::now();
    let incoming = work.join("incoming");
    std::fs::create_dir_all(&incoming).unwrap();
    let t = Instant::now();
    let files: Vec<PathBuf> = (0..n_sessions)
        .map(|k| {
            let subject = format!("rat{:02}", k % 20);
            let path = incoming.join(format!("{subject}day{k:03}.nwb"));
            let p = SyntheticParams {
                duration_s: 2.0,
                n_channels: 4,
                n_groups: 1,
                n_units: 1,
                seed: 1000 + k as u64,
                subject_id: subject,
                ..SyntheticParams::default()
            };
            write_session(&path, &p).expect("write synthetic session");
            path
        })
        .collect();
    let write_secs = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let reports = ingest::insert_sessions(
        &db,
        &settings,
        &files,
        &IngestOptions::default(),
        &NoProgress,
    )
    .unwrap();
    for r in &reports {
        assert!(r.is_ok(), "{r:?}");
    }
    let ingest_rows: u64 = reports.iter().map(|r| r.rows_inserted()).sum();
    let ingest_secs = t.elapsed().as_secs_f64();
    let sessions: Vec<String> = reports.iter().map(|r| r.nwb_file_name.clone()).collect();

    let t = Instant::now();
    spyglass::defaults::insert_defaults(&db, &[]).unwrap();
    spyglass::filter::insert_band_filters(&db).unwrap();
    let ids: Vec<i64> = (0..4).collect();
    let mut lfp_keys = Vec::new();
    for nwb in &sessions {
        lfp::lfp_electrode::create_group(&db, nwb, "bench", &ids).unwrap();
        lfp_keys.push(
            v1::insert_selection(
                &db,
                &v1::LfpSelection {
                    key: v1::LfpKey {
                        nwb_file_name: (nwb).to_string(),
                        lfp_electrode_group_name: ("bench").to_string(),
                        target_interval_list_name: (RAW_VALID_TIMES).to_string(),
                        filter_name: ("LFP 0-400 Hz").to_string(),
                        filter_sampling_rate: 30_000,
                    },
                    target_sampling_rate: 1000.0,
                },
            )
            .unwrap(),
        );
    }
    let rep = spyglass::populate(&db, &settings, v1::LFPV1, Cond::Bool(true)).unwrap();
    assert!(rep.error_list.is_empty(), "{:?}", rep.error_list);
    assert_eq!(rep.success_count, sessions.len());
    let lfp_secs = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let band: Vec<band_v1::BandElectrode> = ids
        .iter()
        .map(|&e| band_v1::BandElectrode {
            electrode_id: e,
            reference_elect_id: -1,
        })
        .collect();
    for (nwb, key) in sessions.iter().zip(&lfp_keys) {
        let merge_id = spyglass_db::merge::merge_id(key, "LFPV1");
        band_v1::insert_selection(
            &db,
            &band_v1::BandSelection {
                key: band_v1::BandKey {
                    lfp_merge_id: merge_id,
                    filter_name: ("Theta 5-11 Hz").to_string(),
                    filter_sampling_rate: 1000,
                    nwb_file_name: (nwb).to_string(),
                    target_interval_list_name: (RAW_VALID_TIMES).to_string(),
                    lfp_band_sampling_rate: 100,
                },
                min_interval_len: 1.0,
            },
            "bench",
            &band,
        )
        .unwrap();
    }
    let rep = spyglass::populate(&db, &settings, band_v1::LFP_BAND_V1, Cond::Bool(true)).unwrap();
    assert!(rep.error_list.is_empty(), "{:?}", rep.error_list);
    let band_secs = t.elapsed().as_secs_f64();

    // the paper's analysis, logged
    let t = Instant::now();
    spyglass::export::start_export(&db, PAPER, "a1").unwrap();
    // five sessions spread over the database, of five different subjects
    let n = sessions.len();
    let chosen: Vec<&String> = (0..5).map(|i| &sessions[(i * (n / 5) + i) % n]).collect();
    for nwb in &chosen {
        let by = || Cond::map([("nwb_file_name", nwb.as_str())]);
        for table in [SESSION, ELECTRODE, INTERVAL_LIST] {
            db.fetch(&db.table(table).unwrap().restrict(by()).unwrap())
                .unwrap();
        }
        let q = db.table(v1::LFPV1).unwrap().restrict(by()).unwrap();
        let rows = spyglass::fetch_nwb::fetch_nwb(&db, &q).unwrap();
        assert_eq!(rows.len(), 1);
    }
    spyglass::export::stop_export(&db).unwrap();
    let analysis_secs = t.elapsed().as_secs_f64();
    let logged = spyglass::export::preview_tables(&db, PAPER).unwrap().len();
    let db_bytes = std::fs::metadata(work.join("bench.db"))
        .map(|m| m.len())
        .unwrap_or(0);
    let setup_secs = t_setup.elapsed().as_secs_f64();

    println!(
        "\nexport benchmark setup ({n_sessions} sessions: 2 s x 4 ch x 1 group at 30 kHz, SQLite)"
    );
    println!("  write synthetic files  {write_secs:8.1} s");
    println!("  insert_sessions        {ingest_secs:8.1} s  ({ingest_rows} rows)");
    println!("  LFPV1 (defaults, groups, selections, populate)  {lfp_secs:.1} s");
    println!("  LFPBandV1 theta        {band_secs:8.1} s");
    println!(
        "  paper analysis, logged {analysis_secs:8.2} s  ({} sessions, {logged} restrictions logged)",
        chosen.len()
    );
    println!(
        "  setup total            {setup_secs:8.1} s  (database {:.1} MB)",
        db_bytes as f64 / 1e6
    );

    // ---- timed ----
    let (cascade_secs, slice) = best_of(|_| paper_slice(&db, PAPER).unwrap());
    let rows = slice.total_rows();
    let sql_path = work.join("bench_slice.sql");
    let (dump_secs, (dump_rows, dump_bytes)) = best_of(|_| dump_to(&db, &slice, &sql_path));
    assert_eq!(dump_rows, rows);
    let (paper_secs, export) = best_of(|rep| {
        let out = work.join(format!("export{rep}"));
        populate_paper(
            &db,
            &settings,
            PAPER,
            &ExportOptions {
                out_dir: Some(out),
                ..Default::default()
            },
        )
        .unwrap()
    });
    let file_bytes: u64 = export.files.iter().map(|f| f.size).sum();

    println!(
        "\nslice: {} tables ({} with rows), {rows} rows; {} files ({:.1} MB)",
        slice.tables.len(),
        slice.non_empty().count(),
        export.files.len(),
        file_bytes as f64 / 1e6
    );
    let mut per: Vec<String> = slice
        .tables
        .iter()
        .map(|t| format!("{}.{} {}", t.name.schema, t.name.table, t.keys.len()))
        .collect();
    per.sort();
    for chunk in per.chunks(3) {
        println!("  {}", chunk.join(" | "));
    }

    let peer = mariadb_peer(&db, &slice, &sql_path, work);

    let mut lines = vec![
        Line {
            step: "(a) paper_slice cascade, SQLite".into(),
            rows,
            secs: cascade_secs,
            bytes: None,
            peer: None,
        },
        Line {
            step: "(b) dump_slice_sql, SQLite source".into(),
            rows,
            secs: dump_secs,
            bytes: Some(dump_bytes),
            peer: peer
                .as_ref()
                .ok()
                .map(|p| ("mysqldump x table".to_string(), p.mysqldump_secs)),
        },
        Line {
            step: "(c) populate_paper (script+SQL+bundle)".into(),
            rows: export.total_rows(),
            secs: paper_secs,
            bytes: None,
            peer: None,
        },
    ];
    if let Ok(p) = &peer {
        lines.insert(1, p.cascade.clone());
        lines.insert(3, p.ours.clone());
    }

    println!(
        "\nexport of paper `{PAPER}` ({} of {n_sessions} sessions), best of {REPS}; ratio = peer time / our time",
        chosen.len()
    );
    println!(
        "{:<40} {:>6} {:>9} {:>10} {:>8} {:>18} {:>9} {:>7}",
        "step", "rows", "time s", "rows/s", "MB/s", "peer", "peer s", "ratio"
    );
    for l in &lines {
        let mbs = l
            .bytes
            .map(|b| format!("{:.1}", b as f64 / 1e6 / l.secs))
            .unwrap_or_else(|| "-".into());
        let (pl, ps, ratio) = match &l.peer {
            Some((label, s)) => (
                label.clone(),
                format!("{s:.4}"),
                format!("{:.1}x", s / l.secs),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        println!(
            "{:<40} {:>6} {:>9.4} {:>10.0} {:>8} {:>18} {:>9} {:>7}",
            l.step,
            l.rows,
            l.secs,
            l.rows as f64 / l.secs,
            mbs,
            pl,
            ps,
            ratio
        );
    }
    println!(
        "(c) inside populate_paper (last run): cascade {:.4} s, SQL dump {:.4} s ({:.0} KB), {} files copied",
        export.cascade_secs,
        export.dump_secs,
        export.sql_bytes as f64 / 1e3,
        export.files.len()
    );
    match &peer {
        Ok(p) => {
            println!("\npeer: {}", p.server);
            println!(
                "  our SQL file loaded with `mysql` in {:.2} s; mysqldump script: {} tables, {:.0} KB of SQL \
                 (ours from MariaDB: {:.0} KB) -> {:.1} MB/s, {:.0} rows/s",
                p.load_secs,
                slice.tables.len(),
                p.mysqldump_bytes as f64 / 1e3,
                p.ours.bytes.unwrap_or(0) as f64 / 1e3,
                p.mysqldump_bytes as f64 / 1e6 / p.mysqldump_secs,
                rows as f64 / p.mysqldump_secs
            );
            println!(
                "  rows in mysqldump's INSERTs: {} (slice: {rows}); {} mysqldump processes per run",
                p.mysqldump_rows, p.mysqldump_calls
            );
            println!("  (a) and (c) have no peer measured here: Spyglass's RestrGraph and populate_paper need Spyglass itself.");
        }
        Err(e) => println!("\npeer: MariaDB/mysqldump peer NOT MEASURED in this run: {e}"),
    }
    println!("\nreference: Spyglass 0.6.0 Export.populate_paper, MariaDB 10.11, 2-core machine (published in");
    println!("spyglass-model.md Appendix; NOT MEASURED IN THIS RUN): one session (60 s x 8 ch), ~25 tables,");
    println!("~2100 SQL queries, ~160 KB of SQL: 4.1 s (5.7 s for 600 s x 32 ch).");
    println!(
        "  spyglass-rs (c) here: {:.3} s for {} sessions, {} tables; 4.1 s / {:.3} s = {:.0}x (different runs and slices, indicative only)",
        paper_secs,
        chosen.len(),
        slice.tables.len(),
        paper_secs,
        4.1 / paper_secs
    );
    if std::env::var("SPYGLASS_BENCH_KEEP").is_ok_and(|v| v == "1") {
        println!("\n(kept {})", dir.keep().display());
    }
}
