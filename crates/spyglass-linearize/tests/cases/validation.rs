//! Bad graphs, orders, spacings, edge maps, parameters and positions are errors
//! that name what is wrong.

use super::support::w_track;
use spyglass_linearize::{
    linearize, EdgeSpacing, LinearizationParameters, LinearizeError, TrackGraph,
};

fn l_nodes() -> Vec<[f64; 2]> {
    vec![[0.0, 0.0], [100.0, 0.0], [100.0, 50.0]]
}

fn l_graph() -> TrackGraph {
    TrackGraph::new(l_nodes(), &[[0, 1], [1, 2]]).unwrap()
}

fn message(e: LinearizeError) -> String {
    e.to_string()
}

#[test]
fn bad_graphs() {
    assert_eq!(
        TrackGraph::new(vec![], &[[0, 1]]).unwrap_err(),
        LinearizeError::Empty("nodes")
    );
    assert_eq!(
        TrackGraph::new(l_nodes(), &[]).unwrap_err(),
        LinearizeError::Empty("edges")
    );
    let e = TrackGraph::new(l_nodes(), &[[0, 1], [1, 3]]).unwrap_err();
    assert_eq!(message(e), "edge 1 = (1, 3) names a node outside 0..3");
    assert!(matches!(
        TrackGraph::new(l_nodes(), &[[-1, 1]]).unwrap_err(),
        LinearizeError::BadNodeIndex {
            index: 0,
            a: -1,
            ..
        }
    ));
    assert_eq!(
        TrackGraph::new(l_nodes(), &[[0, 1], [1, 2], [2, 1]]).unwrap_err(),
        LinearizeError::DuplicateEdge {
            index: 2,
            first: 1,
            a: 2,
            b: 1
        }
    );
    assert_eq!(
        TrackGraph::new(l_nodes(), &[[1, 1]]).unwrap_err(),
        LinearizeError::ZeroLengthEdge {
            index: 0,
            a: 1,
            b: 1
        }
    );
    let same_place = vec![[0.0, 0.0], [5.0, 5.0], [5.0, 5.0]];
    assert_eq!(
        TrackGraph::new(same_place, &[[0, 1], [1, 2]]).unwrap_err(),
        LinearizeError::ZeroLengthEdge {
            index: 1,
            a: 1,
            b: 2
        }
    );
    let e = TrackGraph::new(vec![[0.0, 0.0], [f64::NAN, 1.0]], &[[0, 1]]).unwrap_err();
    assert!(
        matches!(e, LinearizeError::NonFiniteNode { node: 1, .. }),
        "{e}"
    );
}

#[test]
fn bad_linear_orders_and_spacings() {
    let order = |o: &[[i64; 2]], s: EdgeSpacing| l_graph().with_linear_order(o, s).unwrap_err();
    let zero = EdgeSpacing::Uniform(0.0);
    assert_eq!(
        message(order(&[[0, 1]], zero.clone())),
        "linear_edge_order: edge (1, 2) is not listed; every edge must appear once"
    );
    assert_eq!(
        message(order(&[[0, 1], [0, 2]], zero.clone())),
        "linear_edge_order: entry 1 = (0, 2) is not an edge of the graph"
    );
    assert_eq!(
        message(order(&[[0, 1], [1, 0]], zero.clone())),
        "linear_edge_order: entry 1 = (1, 0) repeats entry 0"
    );
    assert!(matches!(
        order(&[[0, 1], [1, 7]], zero),
        LinearizeError::BadNodeIndex {
            what: "linear_edge_order entry",
            index: 1,
            ..
        }
    ));
    assert_eq!(
        message(order(
            &[[0, 1], [1, 2]],
            EdgeSpacing::PerGap(vec![1.0, 2.0])
        )),
        "linear_edge_spacing: 2 values given for 1 gaps between 2 edges"
    );
    assert!(matches!(
        order(&[[0, 1], [1, 2]], EdgeSpacing::Uniform(f64::INFINITY)),
        LinearizeError::BadEdgeSpacing(_)
    ));
    assert!(matches!(
        order(&[[0, 1], [1, 2]], EdgeSpacing::PerGap(vec![f64::NAN])),
        LinearizeError::BadEdgeSpacing(_)
    ));
}

#[test]
fn bad_edge_maps() {
    let e = l_graph().with_edge_map(&[(0, 1), (2, 0)]).unwrap_err();
    assert_eq!(
        message(e),
        "edge_map: 2 -> 0: 2 is not a track segment id (0..2)"
    );
    let e = l_graph().with_edge_map(&[(1, 0), (1, 5)]).unwrap_err();
    assert_eq!(message(e), "edge_map: track segment 1 is mapped twice");
    assert!(l_graph().with_edge_map(&[(-1, 0)]).is_err());
    // labels need not be segment ids
    assert!(l_graph().with_edge_map(&[(1, -7), (0, 100)]).is_ok());
}

#[test]
fn default_parameters_are_spyglass_defaults() {
    // LinearizationParameters' column defaults in position_linearization_v1
    let p = LinearizationParameters::default();
    assert!(!p.use_hmm);
    assert_eq!(
        (
            p.route_euclidean_distance_scaling,
            p.sensor_std_dev,
            p.diagonal_bias
        ),
        (1.0, 5.0, 0.5)
    );
}

#[test]
fn bad_parameters_and_positions() {
    let graph = w_track(EdgeSpacing::Uniform(0.0));
    let hmm = LinearizationParameters {
        use_hmm: true,
        ..LinearizationParameters::default()
    };
    for (p, name) in [
        (
            LinearizationParameters {
                sensor_std_dev: 0.0,
                ..hmm
            },
            "sensor_std_dev",
        ),
        (
            LinearizationParameters {
                route_euclidean_distance_scaling: f64::NAN,
                ..hmm
            },
            "route_euclidean_distance_scaling",
        ),
        (
            LinearizationParameters {
                diagonal_bias: -0.1,
                ..hmm
            },
            "diagonal_bias",
        ),
    ] {
        let e = linearize(&[[1.0, 2.0]], &graph, &p).unwrap_err();
        assert!(
            matches!(e, LinearizeError::BadParameter { name: n, .. } if n == name),
            "{e}"
        );
    }
    let e = linearize(&[[1.0, 2.0], [f64::INFINITY, 0.0]], &graph, &hmm).unwrap_err();
    assert_eq!(message(e), "position sample 1 is infinite (inf, 0)");
}
