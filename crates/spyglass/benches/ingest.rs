//! Ingestion benchmark: `insert_sessions` on synthetic sessions from spyglass-nwb's
//! writer — one 10-minute 64-channel session, one 60-second 8-channel session (the
//! size of Spyglass's published figure) and 20 small sessions — printed as wall
//! time and rows inserted per second. Spyglass itself cannot be installed here, so
//! its published timings (spyglass-model.md, Appendix) are printed as reference,
//! labelled as not measured in this run. Source files are cached in the system
//! temp directory (`spyglass-bench-data`) so that reruns skip writing them.
//! `SPYGLASS_BENCH_QUICK=1` shrinks the long session to 60 s.

use spyglass::ingest::{self, FileReport, IngestOptions, NoProgress};
use spyglass::Settings;
use spyglass_nwb::synthetic::{write_session, SyntheticParams};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn cached(dir: &Path, name: &str, p: &SyntheticParams) -> PathBuf {
    let path = dir.join(name);
    let tag = dir.join(format!("{name}.done"));
    if !(path.exists() && tag.exists()) {
        let t = Instant::now();
        write_session(&path, p).expect("write synthetic session");
        std::fs::write(&tag, b"").unwrap();
        eprintln!("  (wrote {name} in {:.1} s)", t.elapsed().as_secs_f64());
    }
    path
}

struct Run {
    label: String,
    files: usize,
    seconds: f64,
    rows: u64,
}

fn ingest(label: &str, files: &[PathBuf]) -> Run {
    std::env::set_var("HDF5_USE_FILE_LOCKING", "FALSE");
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings::new(dir.path().join("base"));
    let url = format!("sqlite:///{}", dir.path().join("bench.db").display());
    let db = spyglass::Spyglass::open(&url, settings.clone()).unwrap();
    let t = Instant::now();
    let reports = ingest::insert_sessions(
        &db,
        &settings,
        files,
        &IngestOptions::default(),
        &NoProgress,
    )
    .unwrap();
    let seconds = t.elapsed().as_secs_f64();
    for r in &reports {
        assert!(r.is_ok(), "{r:?}");
    }
    Run {
        label: label.into(),
        files: files.len(),
        seconds,
        rows: reports.iter().map(FileReport::rows_inserted).sum(),
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("ingest: bench");
        return;
    }
    let quick = std::env::var("SPYGLASS_BENCH_QUICK").is_ok_and(|v| v == "1");
    let data = std::env::temp_dir().join("spyglass-bench-data");
    std::fs::create_dir_all(&data).unwrap();
    let long_s = if quick { 60.0 } else { 600.0 };
    let long = cached(
        &data,
        &format!("long{}s64ch.nwb", long_s as u32),
        &SyntheticParams {
            duration_s: long_s,
            n_channels: 64,
            n_groups: 16,
            n_units: 8,
            ..SyntheticParams::default()
        },
    );
    let medium = cached(
        &data,
        "medium60s8ch.nwb",
        &SyntheticParams {
            duration_s: 60.0,
            n_channels: 8,
            n_groups: 2,
            ..SyntheticParams::default()
        },
    );
    let small: Vec<PathBuf> = (0..20)
        .map(|k| {
            cached(
                &data,
                &format!("small{k:02}.nwb"),
                &SyntheticParams {
                    duration_s: 5.0,
                    n_channels: 8,
                    n_groups: 2,
                    seed: 100 + k,
                    ..SyntheticParams::default()
                },
            )
        })
        .collect();
    let runs = vec![
        ingest(&format!("{long_s:.0} s x 64 ch session"), &[long]),
        ingest("60 s x 8 ch session", &[medium]),
        ingest("20 small sessions (5 s x 8 ch)", &small),
    ];
    println!("\ningest (spyglass-rs insert_sessions, SQLite, this machine)");
    println!(
        "{:<34} {:>6} {:>10} {:>8} {:>12}",
        "case", "files", "seconds", "rows", "rows/s"
    );
    for r in &runs {
        println!(
            "{:<34} {:>6} {:>10.3} {:>8} {:>12.0}",
            r.label,
            r.files,
            r.seconds,
            r.rows,
            r.rows as f64 / r.seconds
        );
    }
    println!("\nreference: Spyglass 0.6.0 insert_sessions, MariaDB, 2-core machine (published in");
    println!("spyglass-model.md Appendix; NOT MEASURED IN THIS RUN):");
    println!("  60 s x 8 ch (44 MB)      3.2 s (2.2 s of it making the `_` copy)");
    println!("  600 s x 32 ch (1.3 GB)   4.5 s");
    let medium = &runs[1];
    println!(
        "  ratio for 60 s x 8 ch: Spyglass 3.2 s / spyglass-rs {:.3} s = {:.1}x (different runs, indicative only)",
        medium.seconds,
        3.2 / medium.seconds
    );
}
