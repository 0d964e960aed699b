//! Cases whose answers are worked out by hand: a straight track, an L, a W with
//! spacing between edges and an edge map, and an HMM that keeps a noisy sample on
//! its arm.

use super::support::{w_track, W_EDGES};
use spyglass_linearize::{
    linearize, EdgeSpacing, LinearizationParameters, LinearizedPosition, TrackGraph,
};

const NAN: f64 = f64::NAN;

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// Asserts sample `i`: linear position, segment, projected x and y.
fn assert_sample(out: &LinearizedPosition, i: usize, linear: f64, id: Option<i64>, xy: [f64; 2]) {
    let got = (
        out.linear_position[i],
        out.track_segment_id[i],
        out.projected_x_position[i],
        out.projected_y_position[i],
    );
    assert!(
        close(got.0, linear) && got.1 == id && close(got.2, xy[0]) && close(got.3, xy[1]),
        "sample {i}: got {got:?}, want ({linear}, {id:?}, {}, {})",
        xy[0],
        xy[1]
    );
}

fn nearest() -> LinearizationParameters {
    LinearizationParameters::default()
}

#[test]
fn straight_track_projects_and_clamps() {
    let graph = TrackGraph::new(vec![[0.0, 0.0], [100.0, 0.0]], &[[0, 1]]).unwrap();
    let position = [
        [10.0, 5.0],
        [-5.0, 3.0],
        [130.0, -2.0],
        [NAN, 1.0],
        [55.5, -7.0],
    ];
    let out = linearize(&position, &graph, &nearest()).unwrap();
    assert_sample(&out, 0, 10.0, Some(0), [10.0, 0.0]);
    assert_sample(&out, 1, 0.0, Some(0), [0.0, 0.0]);
    assert_sample(&out, 2, 100.0, Some(0), [100.0, 0.0]);
    assert_sample(&out, 3, NAN, None, [NAN, NAN]);
    assert_sample(&out, 4, 55.5, Some(0), [55.5, 0.0]);

    // walking the edge the other way measures from node 1
    let reversed = graph
        .with_linear_order(&[[1, 0]], EdgeSpacing::Uniform(0.0))
        .unwrap();
    let out = linearize(&position, &reversed, &nearest()).unwrap();
    assert_sample(&out, 0, 90.0, Some(0), [10.0, 0.0]);
    assert_sample(&out, 2, 0.0, Some(0), [100.0, 0.0]);
    assert_sample(&out, 4, 44.5, Some(0), [55.5, 0.0]);
}

#[test]
fn l_track_with_spacing_in_both_orders() {
    // (0,0) → (100,0) → (100,50)
    let nodes = vec![[0.0, 0.0], [100.0, 0.0], [100.0, 50.0]];
    let graph = TrackGraph::new(nodes, &[[0, 1], [1, 2]]).unwrap();
    let forward = graph
        .clone()
        .with_linear_order(&[[0, 1], [1, 2]], EdgeSpacing::Uniform(15.0))
        .unwrap();
    // 3 cm right of the vertical arm at height 20; 2 cm above the horizontal one at 40;
    // beyond the corner diagonally (equidistant: the first segment wins, as argmin does)
    let position = [[103.0, 20.0], [40.0, 2.0], [104.0, -3.0], [101.0, 49.0]];
    let out = linearize(&position, &forward, &nearest()).unwrap();
    assert_sample(&out, 0, 100.0 + 15.0 + 20.0, Some(1), [100.0, 20.0]);
    assert_sample(&out, 1, 40.0, Some(0), [40.0, 0.0]);
    assert_sample(&out, 2, 100.0, Some(0), [100.0, 0.0]);
    assert_sample(&out, 3, 164.0, Some(1), [100.0, 49.0]);

    // reversed: (2,1) from node 2 first, then (1,0) from node 1 after a 10 cm gap
    let backward = graph
        .with_linear_order(&[[2, 1], [1, 0]], EdgeSpacing::PerGap(vec![10.0]))
        .unwrap();
    let out = linearize(&position, &backward, &nearest()).unwrap();
    assert_sample(&out, 0, 30.0, Some(1), [100.0, 20.0]);
    assert_sample(&out, 1, 50.0 + 10.0 + 60.0, Some(0), [40.0, 0.0]);
    assert_sample(&out, 2, 60.0, Some(0), [100.0, 0.0]);
    assert_sample(&out, 3, 1.0, Some(1), [100.0, 49.0]);
}

#[test]
fn w_track_segment_ids_follow_networkx_edge_order() {
    // networkx iterates node 0: (0,1); node 1: (1,2), (1,4); node 2: (2,3); node 4: (4,5)
    let graph = w_track(EdgeSpacing::Uniform(0.0));
    assert_eq!(graph.segments(), &[[0, 1], [1, 2], [1, 4], [2, 3], [4, 5]]);
    let ids: Vec<_> = (0..5).map(|e| graph.segment_of_edge(e).unwrap()).collect();
    assert_eq!(ids, [0, 1, 3, 2, 4]);
    assert_eq!(graph.segment_lengths(), &[100.0, 50.0, 50.0, 100.0, 100.0]);
}

#[test]
fn w_track_spacing_per_gap() {
    // lengths 100, 50, 100, 50, 100; gaps 0, 0, 15, 0 → starts 0, 100, 150, 265, 315
    let graph = w_track(EdgeSpacing::PerGap(vec![0.0, 0.0, 15.0, 0.0]));
    let position = [
        [2.0, 60.0],   // left arm, from node 2 (0,0)
        [75.0, -1.0],  // bottom right, from node 1 (50,0)
        [48.0, 30.0],  // centre arm, from node 0 (50,100)
        [20.0, 1.0],   // bottom left, from node 1
        [97.0, 100.5], // right arm, top end, from node 4 (100,0)
    ];
    let out = linearize(&position, &graph, &nearest()).unwrap();
    assert_sample(&out, 0, 210.0, Some(3), [0.0, 60.0]);
    assert_sample(&out, 1, 290.0, Some(2), [75.0, 0.0]);
    assert_sample(&out, 2, 70.0, Some(0), [50.0, 30.0]);
    assert_sample(&out, 3, 130.0, Some(1), [20.0, 0.0]);
    assert_sample(&out, 4, 415.0, Some(4), [100.0, 100.0]);

    // a uniform gap of 10: starts 0, 110, 170, 280, 340
    let graph = w_track(EdgeSpacing::Uniform(10.0));
    let out = linearize(&position, &graph, &nearest()).unwrap();
    assert_sample(&out, 0, 230.0, Some(3), [0.0, 60.0]);
    assert_sample(&out, 1, 305.0, Some(2), [75.0, 0.0]);
    assert_sample(&out, 4, 440.0, Some(4), [100.0, 100.0]);
    assert_eq!(graph.linear_starts()[3], (170.0, 2));
}

#[test]
fn edge_map_relabels_and_merges_linear_coordinates() {
    // bottom right (segment 2) joins bottom left (1); the right arm (4) is labelled 10.
    // Label starts along the order: 0 → 0, 1 → 100, 3 → 150, (2 is 1: no room), 10 → 250
    let graph = w_track(EdgeSpacing::Uniform(0.0))
        .with_edge_map(&[(2, 1), (4, 10)])
        .unwrap();
    let position = [
        [75.0, -1.0],
        [25.0, -1.0],
        [97.0, 100.5],
        [2.0, 60.0],
        [48.0, 30.0],
    ];
    let out = linearize(&position, &graph, &nearest()).unwrap();
    // projected onto its own segment, 25 cm from its start node 1, in label 1's coordinates
    assert_sample(&out, 0, 125.0, Some(1), [75.0, 0.0]);
    // its mirror image on bottom left: the same linear position
    assert_sample(&out, 1, 125.0, Some(1), [25.0, 0.0]);
    assert_sample(&out, 2, 350.0, Some(10), [100.0, 100.0]);
    assert_sample(&out, 3, 210.0, Some(3), [0.0, 60.0]);
    assert_sample(&out, 4, 70.0, Some(0), [50.0, 30.0]);
    // the pairs do not chain
    let graph = w_track(EdgeSpacing::Uniform(0.0))
        .with_edge_map(&[(0, 1), (1, 2)])
        .unwrap();
    let out = linearize(&position[4..], &graph, &nearest()).unwrap();
    assert_eq!(out.track_segment_id, [Some(1)]);
}

#[test]
fn hmm_keeps_a_noisy_sample_on_its_arm() {
    // A narrow U: left arm x = 0 and right arm x = 10, joined at the top (y = 100).
    let nodes = vec![[0.0, 0.0], [0.0, 100.0], [10.0, 100.0], [10.0, 0.0]];
    let edges = [[0, 1], [1, 2], [2, 3]];
    let graph = TrackGraph::new(nodes, &edges)
        .unwrap()
        .with_linear_order(&edges, EdgeSpacing::Uniform(0.0))
        .unwrap();
    // walking up the left arm 4 cm right of it; sample 5 strays to x = 5.5, nearer
    // the right arm (4.5 cm) than the left (5.5 cm)
    let position: Vec<[f64; 2]> = (0..10)
        .map(|t| [if t == 5 { 5.5 } else { 4.0 }, 15.0 + t as f64])
        .collect();
    let plain = linearize(&position, &graph, &nearest()).unwrap();
    assert_eq!(plain.track_segment_id[5], Some(2));
    assert_sample(&plain, 5, 100.0 + 10.0 + 80.0, Some(2), [10.0, 20.0]);

    // The route from the left arm at y = 19 to the right arm at y = 20 is 171 cm for
    // a 1.8 cm step: the HMM keeps the sample on the left arm.
    let hmm = LinearizationParameters {
        use_hmm: true,
        ..LinearizationParameters::default()
    };
    let out = linearize(&position, &graph, &hmm).unwrap();
    for (t, p) in position.iter().enumerate() {
        assert_sample(&out, t, p[1], Some(0), [0.0, p[1]]);
    }
}

#[test]
fn hmm_skips_missing_samples() {
    let graph = w_track(EdgeSpacing::Uniform(0.0));
    let position = [[NAN, NAN], [48.0, 30.0], [48.0, 31.0], [NAN, 5.0]];
    let hmm = LinearizationParameters {
        use_hmm: true,
        ..LinearizationParameters::default()
    };
    let out = linearize(&position, &graph, &hmm).unwrap();
    assert_sample(&out, 0, NAN, None, [NAN, NAN]);
    assert_sample(&out, 1, 70.0, Some(0), [50.0, 30.0]);
    assert_sample(&out, 2, 69.0, Some(0), [50.0, 31.0]);
    assert_sample(&out, 3, NAN, None, [NAN, NAN]);
    let empty = linearize(&[], &graph, &hmm).unwrap();
    assert!(empty.linear_position.is_empty());
}

fn l_track() -> TrackGraph {
    // (0,0) → (100,0) → (100,50)
    let nodes = vec![[0.0, 0.0], [100.0, 0.0], [100.0, 50.0]];
    TrackGraph::new(nodes, &[[0, 1], [1, 2]]).unwrap()
}

fn hmm_with(scaling: f64) -> LinearizationParameters {
    LinearizationParameters {
        use_hmm: true,
        route_euclidean_distance_scaling: scaling,
        ..LinearizationParameters::default()
    }
}

#[test]
fn hmm_restarts_after_a_gap() {
    // along the bottom, a missing sample, then up the vertical arm: the samples after
    // the gap are classified on their own (track_linearization sends them to segment 0)
    let position = [
        [10.0, 1.0],
        [20.0, 2.0],
        [30.0, 1.0],
        [NAN, NAN],
        [99.0, 20.0],
        [99.0, 25.0],
        [99.0, 30.0],
    ];
    let out = linearize(&position, &l_track(), &hmm_with(1.0)).unwrap();
    assert_sample(&out, 2, 30.0, Some(0), [30.0, 0.0]);
    assert_sample(&out, 3, NAN, None, [NAN, NAN]);
    for (t, &[_, y]) in position.iter().enumerate().skip(4) {
        assert_sample(&out, t, 100.0 + y, Some(1), [100.0, y]);
    }
}

#[test]
fn hmm_survives_a_transition_row_that_underflows() {
    // Scale 0.01 cm: a 30 cm glitch at x = 50 makes every transition density out of
    // segment 0 underflow (|route − step| ≥ 30 cm = 3000 scales). That row is
    // normalized relative to its largest density; the walk then goes on to the
    // vertical arm and is classified there.
    let mut position: Vec<[f64; 2]> = (40..50).map(|x| [x as f64, 1.0]).collect();
    position.push([50.0, 30.0]);
    position.extend((51..100).map(|x| [x as f64, 1.0]));
    position.extend((5..46).map(|y| [99.0, y as f64]));
    let out = linearize(&position, &l_track(), &hmm_with(0.01)).unwrap();
    assert_sample(&out, 10, 50.0, Some(0), [50.0, 0.0]);
    for (t, p) in position.iter().enumerate() {
        if p[0] < 99.0 {
            assert_sample(&out, t, p[0], Some(0), [p[0], 0.0]);
        } else if p[1] > 1.0 {
            assert_sample(&out, t, 100.0 + p[1], Some(1), [100.0, p[1]]);
        }
    }
}

#[test]
fn default_linear_order_is_segment_order() {
    let nodes = vec![[0.0, 0.0], [100.0, 0.0], [100.0, 50.0]];
    // edges given last-first: segment 0 is still (0, 1)
    let graph = TrackGraph::new(nodes, &[[2, 1], [1, 0]]).unwrap();
    assert_eq!(graph.segments(), &[[0, 1], [1, 2]]);
    assert_eq!(graph.linear_edge_order(), &[[0, 1], [1, 2]]);
    let out = linearize(&[[103.0, 20.0]], &graph, &nearest()).unwrap();
    assert_sample(&out, 0, 120.0, Some(1), [100.0, 20.0]);
    let _ = W_EDGES;
}
