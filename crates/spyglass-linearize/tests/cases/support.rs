//! What the oracle test and the bench share (the bench includes this file): the W
//! track, seeded random walks along a track graph sampled like a camera (drifting
//! speed, turns at nodes, Gaussian sensor noise, tracking glitches, runs of
//! missing samples), and running track_linearization in Python Spyglass's venv.

use spyglass_linearize::{EdgeSpacing, TrackGraph};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A W track: three 100 cm arms joined along the bottom by two 50 cm pieces.
///
/// Nodes: 0 (50, 100) centre top, 1 (50, 0) centre bottom, 2 (0, 0), 3 (0, 100)
/// left top, 4 (100, 0), 5 (100, 100) right top. Linear order centre arm, bottom
/// left, left arm, bottom right, right arm ([`W_EDGES`]), with `spacing` between edges.
pub fn w_track(spacing: EdgeSpacing) -> TrackGraph {
    TrackGraph::new(W_NODES.to_vec(), &W_EDGES)
        .unwrap()
        .with_linear_order(&W_EDGES, spacing)
        .unwrap()
}

/// Node positions of [`w_track`].
pub const W_NODES: [[f64; 2]; 6] = [
    [50.0, 100.0],
    [50.0, 0.0],
    [0.0, 0.0],
    [0.0, 100.0],
    [100.0, 0.0],
    [100.0, 100.0],
];

/// Edges of [`w_track`], also its linear edge order.
pub const W_EDGES: [[i64; 2]; 5] = [[0, 1], [1, 2], [2, 3], [1, 4], [4, 5]];

/// xorshift64* generator: reproducible numbers from a seed, no dependency.
pub struct Rng(u64);

impl Rng {
    /// A generator; the same seed gives the same numbers.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// How the walk is sampled.
pub struct WalkOptions {
    /// Samples per second.
    pub rate: f64,
    /// Standard deviation of the sensor noise (cm).
    pub noise: f64,
    /// Probability per sample of a glitch (a jump of up to 30 cm in x and y).
    pub glitch: f64,
    /// Probability per sample that a run of 1–10 missing samples starts.
    pub missing: f64,
}

/// `n` positions of an animal walking along `graph`.
pub fn random_walk(graph: &TrackGraph, n: usize, seed: u64, opts: &WalkOptions) -> Vec<[f64; 2]> {
    let mut rng = Rng::new(seed);
    let nodes = graph.node_positions();
    let segments = graph.segments();
    let neighbours = |node: usize| -> Vec<usize> {
        segments
            .iter()
            .filter_map(|&[a, b]| (a == node).then_some(b).or((b == node).then_some(a)))
            .collect()
    };
    let [mut from, mut to] = segments[0];
    let mut along = 0.0;
    let mut speed = 20.0;
    let mut missing_left = 0usize;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        speed = (speed + 3.0 * rng.normal()).clamp(0.0, 60.0);
        along += speed / opts.rate;
        let (a, b) = (nodes[from], nodes[to]);
        let length = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
        if along >= length {
            along -= length;
            let choices = neighbours(to);
            let next = choices[(rng.uniform() * choices.len() as f64) as usize];
            from = to;
            to = next;
        } else if rng.uniform() < 0.002 {
            // turn around
            std::mem::swap(&mut from, &mut to);
            along = length - along;
        }
        let (a, b) = (nodes[from], nodes[to]);
        let length = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
        let f = (along / length).min(1.0);
        let mut p = [
            a[0] + f * (b[0] - a[0]) + opts.noise * rng.normal(),
            a[1] + f * (b[1] - a[1]) + opts.noise * rng.normal(),
        ];
        if rng.uniform() < opts.glitch {
            p[0] += 60.0 * (rng.uniform() - 0.5);
            p[1] += 60.0 * (rng.uniform() - 0.5);
        }
        if missing_left == 0 && rng.uniform() < opts.missing {
            missing_left = 1 + (rng.uniform() * 10.0) as usize;
        }
        if missing_left > 0 {
            missing_left -= 1;
            p = [f64::NAN, f64::NAN];
        }
        out.push(p);
    }
    out
}

/// Python Spyglass's interpreter: `$SPYGLASS_SPYGLASS_PYTHON`, else
/// `<workspace>/.venv-spyglass/bin/python`; `None` when it does not exist.
pub fn spyglass_python() -> Option<PathBuf> {
    let p = match std::env::var("SPYGLASS_SPYGLASS_PYTHON") {
        Ok(p) if !p.is_empty() => PathBuf::from(p),
        _ => spyglass_testkit::workspace_root().join(".venv-spyglass/bin/python"),
    };
    p.exists().then_some(p)
}

/// A track graph as the oracle script receives it (as a Spyglass TrackGraph row).
pub struct OracleGraph<'a> {
    /// Node positions.
    pub nodes: &'a [[f64; 2]],
    /// Edges.
    pub edges: &'a [[i64; 2]],
    /// Linear edge order.
    pub order: &'a [[i64; 2]],
    /// Linear edge spacing.
    pub spacing: &'a EdgeSpacing,
    /// Edge map, if any.
    pub edge_map: Option<&'a [(i64, i64)]>,
}

/// What track_linearization returned: per run, per sample `[linear_position,
/// track_segment_id, projected_x_position, projected_y_position]` (NaN id where
/// it has none), its seconds per run and the peak memory of its process.
pub struct OracleResult {
    /// Outputs per run.
    pub outputs: Vec<Vec<[f64; 4]>>,
    /// Wall-clock seconds of `get_linearized_position` per run.
    pub seconds: Vec<f64>,
    /// Peak resident memory of the Python process, kB.
    pub peak_kb: u64,
}

/// One call of track_linearization: its parameters and the samples it gets.
pub struct OracleRun {
    /// Linearization parameters.
    pub params: spyglass_linearize::LinearizationParameters,
    /// The samples `position[range]`.
    pub range: std::ops::Range<usize>,
}

/// Runs track_linearization once per run.
pub fn run_track_linearization(
    python: &Path,
    graph: &OracleGraph,
    position: &[[f64; 2]],
    runs: &[OracleRun],
) -> OracleResult {
    let dir = spyglass_testkit::scratch_dir();
    let spacing = match graph.spacing {
        EdgeSpacing::Uniform(s) => serde_json::json!(s),
        EdgeSpacing::PerGap(g) => serde_json::json!(g),
    };
    let runs_json: Vec<_> = runs
        .iter()
        .map(|OracleRun { params: p, range }| {
            serde_json::json!({
                "use_hmm": p.use_hmm,
                "route_euclidean_distance_scaling": p.route_euclidean_distance_scaling,
                "sensor_std_dev": p.sensor_std_dev,
                "diagonal_bias": p.diagonal_bias,
                "start": range.start,
                "n_samples": range.len(),
            })
        })
        .collect();
    let spec = serde_json::json!({
        "node_positions": graph.nodes,
        "edges": graph.edges,
        "edge_order": graph.order,
        "edge_spacing": spacing,
        "edge_map": graph.edge_map,
        "runs": runs_json,
    });
    let spec_path = dir.path().join("spec.json");
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    let pos_path = dir.path().join("position.f64");
    let bytes: Vec<u8> = position
        .iter()
        .flatten()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    std::fs::write(&pos_path, bytes).unwrap();
    let prefix = dir.path().join("out");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/track_linearization_oracle.py");
    let out = Command::new(python)
        .arg(script)
        .args([&spec_path, &pos_path, &prefix])
        .output()
        .expect("start Python Spyglass's interpreter");
    assert!(
        out.status.success(),
        "track_linearization oracle failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("oracle prints one JSON object");
    let outputs = (0..runs.len())
        .map(|k| {
            std::fs::read(format!("{}.{k}.f64", prefix.display()))
                .unwrap()
                .chunks_exact(32)
                .map(|row| {
                    let v =
                        |i: usize| f64::from_le_bytes(row[8 * i..8 * i + 8].try_into().unwrap());
                    [v(0), v(1), v(2), v(3)]
                })
                .collect()
        })
        .collect();
    OracleResult {
        outputs,
        seconds: report["seconds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_f64().unwrap())
            .collect(),
        peak_kb: report["peak_kb"].as_u64().unwrap_or(0),
    }
}
