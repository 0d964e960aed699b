//! track_linearization 2.4.0 (run in Python Spyglass's venv) as the oracle: the same
//! graph and seeded random-walk positions (noise, glitches, runs of missing
//! samples), with and without the HMM, equal to 1e-9 (relative or absolute) in
//! linear and projected position, and equal segment ids. With the HMM the oracle
//! is given each stretch between missing samples on its own (its Viterbi pass
//! breaks at a gap; ours restarts there, see `hmm_restarts_after_a_gap`). Skipped,
//! with a notice, only when that interpreter is absent.

use super::support::{
    random_walk, run_track_linearization, spyglass_python, OracleGraph, OracleRun, WalkOptions,
    W_NODES,
};
use spyglass_linearize::{
    linearize, EdgeSpacing, LinearizationParameters, LinearizedPosition, TrackGraph,
};
use std::ops::Range;

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// Compares our output with the oracle's, sample by sample. Where a sample has no
/// segment (NaN position, or dropped by the HMM) track_linearization gives a NaN
/// linear position but reports segment 0 (and, for a dropped sample, its
/// projection onto segment 0); we report no segment and NaN projections.
fn assert_same(label: &str, position: &[[f64; 2]], ours: &LinearizedPosition, oracle: &[[f64; 4]]) {
    let mut with_segment = 0;
    for (t, want) in oracle.iter().enumerate() {
        let got = [
            ours.linear_position[t],
            ours.track_segment_id[t].map_or(f64::NAN, |id| id as f64),
            ours.projected_x_position[t],
            ours.projected_y_position[t],
        ];
        let ok = if want[0].is_nan() {
            got[0].is_nan() && got[1].is_nan() && got[2].is_nan() && got[3].is_nan()
        } else {
            got[1] == want[1] && (0..4).all(|k| close(got[k], want[k]))
        };
        assert!(
            ok,
            "{label}: sample {t} at {:?}: ours {got:?}, track_linearization {want:?}",
            position[t]
        );
        with_segment += usize::from(!got[1].is_nan());
    }
    // the comparison covered real work: most samples have a segment
    assert!(
        with_segment * 10 > position.len() * 8,
        "{label}: only {with_segment} samples with a segment"
    );
}

struct Case {
    label: &'static str,
    nodes: Vec<[f64; 2]>,
    edges: Vec<[i64; 2]>,
    order: Vec<[i64; 2]>,
    spacing: EdgeSpacing,
    edge_map: Option<Vec<(i64, i64)>>,
}

impl Case {
    fn graph(&self) -> TrackGraph {
        let g = TrackGraph::new(self.nodes.clone(), &self.edges)
            .unwrap()
            .with_linear_order(&self.order, self.spacing.clone())
            .unwrap();
        match &self.edge_map {
            Some(m) => g.with_edge_map(m).unwrap(),
            None => g,
        }
    }

    /// Compares ours on `position[span]` with track_linearization on the same
    /// samples, for each parameter set.
    fn run(
        &self,
        python: &std::path::Path,
        position: &[[f64; 2]],
        runs: &[(LinearizationParameters, Range<usize>)],
    ) {
        let graph = self.graph();
        let mut calls = Vec::new();
        for (params, span) in runs {
            let pieces = if params.use_hmm {
                finite_stretches(position, span.clone())
            } else {
                vec![span.clone()]
            };
            calls.extend(pieces.into_iter().map(|range| OracleRun {
                params: *params,
                range,
            }));
        }
        let oracle = run_track_linearization(
            python,
            &OracleGraph {
                nodes: &self.nodes,
                edges: &self.edges,
                order: &self.order,
                spacing: &self.spacing,
                edge_map: self.edge_map.as_deref(),
            },
            position,
            &calls,
        );
        for (params, span) in runs {
            // the oracle's output over the span; NaN rows where it was not called
            let mut theirs = vec![[f64::NAN; 4]; span.len()];
            for (call, out) in calls.iter().zip(&oracle.outputs) {
                if call.params == *params
                    && call.range.start >= span.start
                    && call.range.end <= span.end
                {
                    theirs[call.range.start - span.start..call.range.end - span.start]
                        .copy_from_slice(out);
                }
            }
            let ours = linearize(&position[span.clone()], &graph, params).unwrap();
            let label = format!(
                "{} (use_hmm {}, sensor_std_dev {}, samples {span:?})",
                self.label, params.use_hmm, params.sensor_std_dev
            );
            assert_same(&label, &position[span.clone()], &ours, &theirs);
        }
    }
}

/// The maximal runs of samples with a finite position inside `span`.
fn finite_stretches(position: &[[f64; 2]], span: Range<usize>) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for t in span.clone() {
        let finite = position[t][0].is_finite() && position[t][1].is_finite();
        match (finite, start) {
            (true, None) => start = Some(t),
            (false, Some(s)) => {
                out.push(s..t);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(s..span.end);
    }
    out
}

fn hmm(scaling: f64, sensor: f64, bias: f64) -> LinearizationParameters {
    LinearizationParameters {
        use_hmm: true,
        route_euclidean_distance_scaling: scaling,
        sensor_std_dev: sensor,
        diagonal_bias: bias,
    }
}

/// The W track with edges listed out of networkx's order, some edges of the linear
/// order walked backwards, and a gap per pair of edges.
fn shuffled_w() -> Case {
    Case {
        label: "W track",
        nodes: W_NODES.to_vec(),
        edges: vec![[4, 5], [1, 2], [0, 1], [3, 2], [1, 4]],
        order: vec![[1, 0], [1, 2], [2, 3], [4, 1], [4, 5]],
        spacing: EdgeSpacing::PerGap(vec![5.0, 0.0, 15.0, 7.5]),
        edge_map: None,
    }
}

#[test]
fn equals_track_linearization() {
    let Some(python) = spyglass_python() else {
        eprintln!("skipped: Python Spyglass's interpreter is absent (.venv-spyglass or SPYGLASS_SPYGLASS_PYTHON); run scripts/setup.sh");
        return;
    };
    let case = shuffled_w();
    let walk = WalkOptions {
        rate: 30.0,
        noise: 2.0,
        glitch: 0.01,
        missing: 0.003,
    };
    let position = random_walk(&case.graph(), 6000, 7, &walk);
    let gaps = (1..position.len())
        .filter(|&t| position[t][0].is_nan() && !position[t - 1][0].is_nan())
        .count();
    assert!(gaps > 5, "the walk has {gaps} gaps");
    case.run(
        &python,
        &position,
        &[
            (LinearizationParameters::default(), 0..6000),
            (hmm(1.0, 5.0, 0.5), 0..2500),
            // narrow sensor: samples more than 108 cm from some segment (near the
            // top corners) have a zero likelihood there and are dropped by the HMM
            (hmm(0.1, 2.8, 0.1), 3500..6000),
        ],
    );

    let mapped = Case {
        label: "W track with an edge map",
        spacing: EdgeSpacing::Uniform(10.0),
        // merge the bottom pieces, relabel the left arm
        edge_map: Some(vec![(2, 1), (3, 30)]),
        ..shuffled_w()
    };
    mapped.run(
        &python,
        &position,
        &[
            (LinearizationParameters::default(), 0..6000),
            (hmm(1.0, 5.0, 0.5), 1000..2000),
        ],
    );
}
