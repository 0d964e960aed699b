//! Test modules and the track graphs they share.

mod hand_derived;
mod oracle;
mod validation;

use spyglass_linearize::{EdgeSpacing, TrackGraph};

/// A W track: three 100 cm arms joined along the bottom by two 50 cm pieces.
///
/// Nodes: 0 (50, 100) centre top, 1 (50, 0) centre bottom, 2 (0, 0), 3 (0, 100)
/// left top, 4 (100, 0), 5 (100, 100) right top. Linear order centre arm, bottom
/// left, left arm, bottom right, right arm, with `spacing` between edges.
pub fn w_track(spacing: EdgeSpacing) -> TrackGraph {
    let nodes = vec![
        [50.0, 100.0],
        [50.0, 0.0],
        [0.0, 0.0],
        [0.0, 100.0],
        [100.0, 0.0],
        [100.0, 100.0],
    ];
    let edges = W_EDGES;
    TrackGraph::new(nodes, &edges)
        .unwrap()
        .with_linear_order(&edges, spacing)
        .unwrap()
}

/// Edges of [`w_track`], also its linear edge order.
pub const W_EDGES: [[i64; 2]; 5] = [[0, 1], [1, 2], [2, 3], [1, 4], [4, 5]];
