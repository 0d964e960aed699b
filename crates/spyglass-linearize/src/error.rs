//! Errors of track-graph validation and linearization: each names the offending
//! node, edge, sample or parameter.

/// What went wrong building a track graph or linearizing position.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LinearizeError {
    /// The graph has no nodes or no edges.
    #[error("track graph has no {0}")]
    Empty(&'static str),
    /// A node position is NaN or infinite.
    #[error("node {node} has a non-finite position ({x}, {y})")]
    NonFiniteNode {
        /// Index of the node.
        node: usize,
        /// Its x coordinate.
        x: f64,
        /// Its y coordinate.
        y: f64,
    },
    /// An edge (or an entry of the linear edge order) names a node that does not exist.
    #[error("{what} {index} = ({a}, {b}) names a node outside 0..{n_nodes}")]
    BadNodeIndex {
        /// `"edge"` or `"linear_edge_order entry"`.
        what: &'static str,
        /// Index of the edge or entry.
        index: usize,
        /// Its first node.
        a: i64,
        /// Its second node.
        b: i64,
        /// Number of nodes of the graph.
        n_nodes: usize,
    },
    /// An edge joins a node to itself, or two nodes at the same position.
    #[error("edge {index} = ({a}, {b}) has zero length")]
    ZeroLengthEdge {
        /// Index of the edge.
        index: usize,
        /// Its first node.
        a: usize,
        /// Its second node.
        b: usize,
    },
    /// The same pair of nodes is joined twice (in either direction).
    #[error("edge {index} = ({a}, {b}) repeats edge {first}")]
    DuplicateEdge {
        /// Index of the repeated edge.
        index: usize,
        /// Index of its first occurrence.
        first: usize,
        /// Its first node.
        a: usize,
        /// Its second node.
        b: usize,
    },
    /// The linear edge order is not a permutation of the graph's edges.
    #[error("linear_edge_order: {0}")]
    BadEdgeOrder(String),
    /// The spacing between edges has the wrong length or a non-finite value.
    #[error("linear_edge_spacing: {0}")]
    BadEdgeSpacing(String),
    /// The edge map maps a track segment that does not exist, or one twice.
    #[error("edge_map: {0}")]
    BadEdgeMap(String),
    /// A linearization parameter is out of its domain.
    #[error("parameter {name} = {value} is invalid: {why}")]
    BadParameter {
        /// Parameter name as Spyglass spells it.
        name: &'static str,
        /// Its value.
        value: f64,
        /// What it must be.
        why: &'static str,
    },
    /// A position sample has an infinite coordinate (NaN marks a missing sample).
    #[error("position sample {index} is infinite ({x}, {y})")]
    InfinitePosition {
        /// Index of the sample.
        index: usize,
        /// Its x coordinate.
        x: f64,
        /// Its y coordinate.
        y: f64,
    },
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, LinearizeError>;
