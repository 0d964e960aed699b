//! Benchmark: linearization with the HMM of 1 h of position at 30 Hz (a seeded
//! random walk on a W track, with sensor noise and glitches) against
//! track_linearization 2.4.0 measured in the same run on the same samples, as
//! Spyglass's LinearizedPositionV1 calls it; also without the HMM. Prints seconds,
//! the ratio, peak memory of each side, and whether the outputs agree.
//!
//! Run: `cargo bench -p spyglass-linearize --bench linearize`. Environment knobs:
//! `LINEARIZE_BENCH_SECONDS` (seconds of position, default 3600),
//! `LINEARIZE_BENCH_PYTHON_SECONDS` (seconds of the same samples given to
//! track_linearization with the HMM, default 600: it handles ~400 samples/s, so
//! the whole hour takes it ~5 minutes; its cost is linear in the samples),
//! `LINEARIZE_BENCH_SKIP_PYTHON=1` to skip the Python side.

#[allow(dead_code)]
#[path = "../tests/cases/support.rs"]
mod support;

use spyglass_linearize::{linearize, EdgeSpacing, LinearizationParameters, LinearizedPosition};
use std::time::Instant;
use support::{
    random_walk, run_track_linearization, spyglass_python, w_track, OracleGraph, OracleRun,
    WalkOptions,
};

const RATE: f64 = 30.0;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Best-of-`reps` wall time of `f`, the peak memory of the process while it ran
/// and the memory before it (positions included), in kB.
fn measure(
    reps: usize,
    mut f: impl FnMut() -> LinearizedPosition,
) -> (f64, u64, u64, LinearizedPosition) {
    let mut best = f64::INFINITY;
    let mut out = LinearizedPosition::default();
    spyglass_testkit::bench::reset_peak();
    let before = (spyglass_testkit::bench::peak_rss_mb() * 1024.0) as u64;
    for _ in 0..reps {
        drop(std::mem::take(&mut out));
        let t0 = Instant::now();
        out = f();
        best = best.min(t0.elapsed().as_secs_f64());
    }
    (
        best,
        (spyglass_testkit::bench::peak_rss_mb() * 1024.0) as u64,
        before,
        out,
    )
}

/// Samples where our output and track_linearization's differ (segment id, or linear
/// position beyond 1e-9 relative), and the largest linear-position difference.
fn disagreement(ours: &LinearizedPosition, theirs: &[[f64; 4]]) -> (usize, f64) {
    let mut differ = 0;
    let mut max_diff: f64 = 0.0;
    for (t, want) in theirs.iter().enumerate() {
        let got = ours.linear_position[t];
        let id = ours.track_segment_id[t].map_or(f64::NAN, |id| id as f64);
        if got.is_nan() && want[0].is_nan() {
            continue;
        }
        let diff = (got - want[0]).abs();
        max_diff = max_diff.max(diff);
        if id != want[1] || diff.is_nan() || diff > 1e-9 * want[0].abs().max(1.0) {
            differ += 1;
        }
    }
    (differ, max_diff)
}

fn main() {
    let seconds = env_usize("LINEARIZE_BENCH_SECONDS", 3600);
    let n = (seconds as f64 * RATE) as usize;
    let spacing = EdgeSpacing::Uniform(15.0);
    let graph = w_track(spacing.clone());
    let walk = WalkOptions {
        rate: RATE,
        noise: 2.0,
        glitch: 0.005,
        missing: 0.0,
    };
    let position = random_walk(&graph, n, 2024, &walk);
    println!("linearization benchmark: {seconds} s of position at {RATE} Hz = {n} samples on a W track (5 edges), one thread");

    let hmm = LinearizationParameters {
        use_hmm: true,
        ..LinearizationParameters::default()
    };
    let nearest = LinearizationParameters::default();
    let (hmm_secs, hmm_kb, base_kb, hmm_out) =
        measure(3, || linearize(&position, &graph, &hmm).unwrap());
    let (near_secs, near_kb, _, near_out) =
        measure(3, || linearize(&position, &graph, &nearest).unwrap());
    let per_s = |secs: f64, samples: usize| samples as f64 / secs;
    println!("\nspyglass-linearize (Rust), wall clock, best of 3");
    println!(
        "  HMM (Spyglass defaults)  {:>12.0} samples/s  ({hmm_secs:.3} s, peak {:.1} MB)",
        per_s(hmm_secs, n),
        hmm_kb as f64 / 1024.0
    );
    println!(
        "  nearest segment          {:>12.0} samples/s  ({near_secs:.3} s, peak {:.1} MB)",
        per_s(near_secs, n),
        near_kb as f64 / 1024.0
    );

    if std::env::var("LINEARIZE_BENCH_SKIP_PYTHON").is_ok() {
        return;
    }
    let Some(python) = spyglass_python() else {
        println!("\ntrack_linearization skipped: Python Spyglass's interpreter is absent (scripts/setup.sh)");
        return;
    };
    let n_py = (env_usize("LINEARIZE_BENCH_PYTHON_SECONDS", 600.min(seconds)) as f64 * RATE)
        .min(n as f64) as usize;
    println!(
        "\ntrack_linearization 2.4.0 on the first {n_py} samples (HMM) and all {n} (nearest) ..."
    );
    let t_py = Instant::now();
    let oracle = run_track_linearization(
        &python,
        &OracleGraph {
            nodes: graph.node_positions(),
            edges: &support::W_EDGES,
            order: &support::W_EDGES,
            spacing: &spacing,
            edge_map: None,
        },
        &position,
        &[
            OracleRun {
                params: hmm,
                range: 0..n_py,
            },
            OracleRun {
                params: nearest,
                range: 0..n,
            },
        ],
    );
    println!("  (Python side took {:.1} s)", t_py.elapsed().as_secs_f64());
    let (py_hmm, py_near) = (oracle.seconds[0], oracle.seconds[1]);
    // the Viterbi path depends on the samples after, so compare on the same samples
    let hmm_same_span = if n_py < n {
        linearize(&position[..n_py], &graph, &hmm).unwrap()
    } else {
        hmm_out
    };
    let (hmm_differ, hmm_max) = disagreement(&hmm_same_span, &oracle.outputs[0]);
    let (near_differ, near_max) = disagreement(&near_out, &oracle.outputs[1]);
    println!("  outputs: HMM {hmm_differ} of {n_py} samples differ (max |Δ linear| {hmm_max:.1e}); nearest {near_differ} of {n} (max {near_max:.1e})");

    println!("\nsummary (samples/s; ratio = ours ÷ track_linearization, per sample)");
    println!("  {:<44} {:>12} {:>10}", "", "samples/s", "ours ÷ it");
    let ours_hmm = per_s(hmm_secs, n);
    let ours_near = per_s(near_secs, n);
    let theirs_hmm = per_s(py_hmm, n_py);
    let theirs_near = per_s(py_near, n);
    println!(
        "  {:<44} {:>12.0} {:>10.0}",
        "track_linearization, HMM",
        theirs_hmm,
        ours_hmm / theirs_hmm
    );
    println!("  {:<44} {:>12.0}", "ours, HMM", ours_hmm);
    println!(
        "  {:<44} {:>12.0} {:>10.0}",
        "track_linearization, nearest segment",
        theirs_near,
        ours_near / theirs_near
    );
    println!("  {:<44} {:>12.0}", "ours, nearest segment", ours_near);
    println!(
        "  peak memory of the process: track_linearization {:.0} MB (both runs); ours {:.1} MB with the HMM ({:.1} MB before it: binary and positions)",
        oracle.peak_kb as f64 / 1024.0,
        hmm_kb as f64 / 1024.0,
        base_kb as f64 / 1024.0
    );
}
