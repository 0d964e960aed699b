//! The track graph: node positions, edges, the order and spacing of the edges in
//! linear space and an optional edge map, validated once so that linearization
//! cannot meet a bad index.
//!
//! Track segment ids are numbered as `track_linearization.make_track_graph` numbers
//! its `edge_id`s: in the order a networkx `Graph` iterates its edges, which is by
//! lower node index, then by the order the edges touching that node were given.
//! That is not always the order of the `edges` list (edges `[(1, 2), (0, 1)]` give
//! segment 0 = (0, 1)); [`TrackGraph::segment_of_edge`] translates.
//!
//! The edge map (track_linearization 2.4.0's semantics) relabels segments, and
//! segments mapped to the same label share linear coordinates: the label starts
//! where the first of its segments starts in the linear edge order, and the later
//! ones take no room.

use crate::error::{LinearizeError, Result};

/// Space left between consecutive edges of the linear edge order.
#[derive(Debug, Clone, PartialEq)]
pub enum EdgeSpacing {
    /// The same gap after every edge but the last.
    Uniform(f64),
    /// One gap per pair of consecutive edges (`n_edges - 1` values).
    PerGap(Vec<f64>),
}

impl Default for EdgeSpacing {
    fn default() -> Self {
        EdgeSpacing::Uniform(0.0)
    }
}

/// A validated track graph.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackGraph {
    node_positions: Vec<[f64; 2]>,
    edges: Vec<[usize; 2]>,
    /// Track segments by id: node pairs oriented as networkx yields them.
    segments: Vec<[usize; 2]>,
    /// Segment id of each input edge.
    edge_segment: Vec<usize>,
    /// Length of each segment (Euclidean distance of its nodes).
    segment_length: Vec<f64>,
    linear_edge_order: Vec<[usize; 2]>,
    linear_edge_spacing: EdgeSpacing,
    edge_map: Vec<(usize, i64)>,
    /// Per segment: linear position of the start of the segment and the node it starts at.
    linear_start: Vec<(f64, usize)>,
    /// Per segment, with an edge map: its label and how to move its linear positions.
    merged: Option<Vec<Merged>>,
    /// Shortest route between every pair of nodes (row-major, `n_nodes²`), infinite
    /// between unconnected nodes.
    node_route: Vec<f64>,
}

fn node_index(v: i64, n_nodes: usize) -> Option<usize> {
    usize::try_from(v).ok().filter(|&i| i < n_nodes)
}

/// Euclidean distance of two points, squares summed as numpy sums them.
pub(crate) fn distance(a: [f64; 2], b: [f64; 2]) -> f64 {
    let dx = a[0] - b[0];
    let dy = a[1] - b[1];
    (dx * dx + dy * dy).sqrt()
}

impl TrackGraph {
    /// A graph from node positions (`[x, y]` per node) and edges (pairs of node
    /// indices). The linear edge order defaults to the segments in id order with no
    /// spacing, and there is no edge map.
    ///
    /// Errors: no nodes or edges, a non-finite node position, an edge naming a
    /// missing node, an edge of zero length, or the same two nodes joined twice.
    pub fn new(node_positions: Vec<[f64; 2]>, edges: &[[i64; 2]]) -> Result<TrackGraph> {
        let n_nodes = node_positions.len();
        if n_nodes == 0 {
            return Err(LinearizeError::Empty("nodes"));
        }
        if edges.is_empty() {
            return Err(LinearizeError::Empty("edges"));
        }
        for (node, &[x, y]) in node_positions.iter().enumerate() {
            if !x.is_finite() || !y.is_finite() {
                return Err(LinearizeError::NonFiniteNode { node, x, y });
            }
        }
        let mut checked: Vec<[usize; 2]> = Vec::with_capacity(edges.len());
        for (index, &[a, b]) in edges.iter().enumerate() {
            let (Some(u), Some(v)) = (node_index(a, n_nodes), node_index(b, n_nodes)) else {
                return Err(LinearizeError::BadNodeIndex {
                    what: "edge",
                    index,
                    a,
                    b,
                    n_nodes,
                });
            };
            if u == v || node_positions[u] == node_positions[v] {
                return Err(LinearizeError::ZeroLengthEdge { index, a: u, b: v });
            }
            if let Some(first) = checked
                .iter()
                .position(|&[p, q]| (p, q) == (u, v) || (p, q) == (v, u))
            {
                return Err(LinearizeError::DuplicateEdge {
                    index,
                    first,
                    a: u,
                    b: v,
                });
            }
            checked.push([u, v]);
        }
        let (segments, edge_segment) = networkx_edge_order(n_nodes, &checked);
        let mut segment_length = vec![0.0; segments.len()];
        for (e, &[u, v]) in checked.iter().enumerate() {
            segment_length[edge_segment[e]] = distance(node_positions[u], node_positions[v]);
        }
        let node_route = all_pairs_routes(&node_positions, &segments);
        let mut graph = TrackGraph {
            node_positions,
            edges: checked,
            linear_edge_order: segments.clone(),
            segments,
            edge_segment,
            segment_length,
            linear_edge_spacing: EdgeSpacing::default(),
            edge_map: Vec::new(),
            linear_start: Vec::new(),
            merged: None,
            node_route,
        };
        graph.linear_start = graph.compute_linear_start();
        Ok(graph)
    }

    /// Sets the order of the edges in linear space and the spacing between them.
    ///
    /// `order` lists every edge exactly once, each as a node pair in either
    /// direction; the first node of a pair is where linear position grows from on
    /// that edge. Errors: a missing node, a pair that is not an edge, an edge
    /// listed twice or left out, a spacing list whose length is not
    /// `n_edges - 1`, or a non-finite spacing.
    pub fn with_linear_order(mut self, order: &[[i64; 2]], spacing: EdgeSpacing) -> Result<Self> {
        let n_nodes = self.node_positions.len();
        let n_edges = self.segments.len();
        let mut seen: Vec<Option<usize>> = vec![None; n_edges];
        let mut checked = Vec::with_capacity(order.len());
        for (index, &[a, b]) in order.iter().enumerate() {
            let (Some(u), Some(v)) = (node_index(a, n_nodes), node_index(b, n_nodes)) else {
                return Err(LinearizeError::BadNodeIndex {
                    what: "linear_edge_order entry",
                    index,
                    a,
                    b,
                    n_nodes,
                });
            };
            let Some(segment) = self.segment_between(u, v) else {
                return Err(LinearizeError::BadEdgeOrder(format!(
                    "entry {index} = ({u}, {v}) is not an edge of the graph"
                )));
            };
            if let Some(first) = seen[segment] {
                return Err(LinearizeError::BadEdgeOrder(format!(
                    "entry {index} = ({u}, {v}) repeats entry {first}"
                )));
            }
            seen[segment] = Some(index);
            checked.push([u, v]);
        }
        if let Some(missing) = seen.iter().position(Option::is_none) {
            let [u, v] = self.segments[missing];
            return Err(LinearizeError::BadEdgeOrder(format!(
                "edge ({u}, {v}) is not listed; every edge must appear once"
            )));
        }
        match &spacing {
            EdgeSpacing::Uniform(s) if !s.is_finite() => {
                return Err(LinearizeError::BadEdgeSpacing(format!("{s} is not finite")))
            }
            EdgeSpacing::PerGap(gaps) if gaps.len() != n_edges - 1 => {
                return Err(LinearizeError::BadEdgeSpacing(format!(
                    "{} values given for {} gaps between {n_edges} edges",
                    gaps.len(),
                    n_edges - 1
                )))
            }
            EdgeSpacing::PerGap(gaps) => {
                if let Some(i) = gaps.iter().position(|g| !g.is_finite()) {
                    return Err(LinearizeError::BadEdgeSpacing(format!(
                        "gap {i} = {} is not finite",
                        gaps[i]
                    )));
                }
            }
            EdgeSpacing::Uniform(_) => {}
        }
        self.linear_edge_order = checked;
        self.linear_edge_spacing = spacing;
        self.linear_start = self.compute_linear_start();
        self.merged = self.compute_merged();
        Ok(self)
    }

    /// Sets the edge map: pairs `(segment id, label)`. A sample on a mapped segment
    /// is reported with the label (any integer; unmapped segments keep their id),
    /// is still projected onto its own segment, and its linear position is its
    /// distance along that segment from where the label starts (segments sharing a
    /// label share linear coordinates). The pairs do not chain: `[(0, 1), (1, 2)]`
    /// reports segment 0 as 1. Errors: a segment id outside `0..n_edges`, or a
    /// segment mapped twice.
    pub fn with_edge_map(mut self, map: &[(i64, i64)]) -> Result<Self> {
        let n_edges = self.segments.len();
        let mut checked: Vec<(usize, i64)> = Vec::with_capacity(map.len());
        for &(from, to) in map {
            let Some(segment) = node_index(from, n_edges) else {
                return Err(LinearizeError::BadEdgeMap(format!(
                    "{from} -> {to}: {from} is not a track segment id (0..{n_edges})"
                )));
            };
            if checked.iter().any(|&(s, _)| s == segment) {
                return Err(LinearizeError::BadEdgeMap(format!(
                    "track segment {from} is mapped twice"
                )));
            }
            checked.push((segment, to));
        }
        self.edge_map = checked;
        self.merged = self.compute_merged();
        Ok(self)
    }

    /// Node positions, `[x, y]` per node.
    pub fn node_positions(&self) -> &[[f64; 2]] {
        &self.node_positions
    }

    /// Edges as given, node index pairs.
    pub fn edges(&self) -> &[[usize; 2]] {
        &self.edges
    }

    /// Track segments in id order, as node pairs oriented as networkx yields them.
    pub fn segments(&self) -> &[[usize; 2]] {
        &self.segments
    }

    /// Track segment id of input edge `edge` (an index into [`TrackGraph::edges`]).
    pub fn segment_of_edge(&self, edge: usize) -> Option<usize> {
        self.edge_segment.get(edge).copied()
    }

    /// Length of each track segment, by segment id.
    pub fn segment_lengths(&self) -> &[f64] {
        &self.segment_length
    }

    /// The order of edges in linear space, node pairs as given.
    pub fn linear_edge_order(&self) -> &[[usize; 2]] {
        &self.linear_edge_order
    }

    /// The spacing between consecutive edges in linear space.
    pub fn linear_edge_spacing(&self) -> &EdgeSpacing {
        &self.linear_edge_spacing
    }

    /// The edge map, `(segment id, label)` pairs.
    pub fn edge_map(&self) -> &[(usize, i64)] {
        &self.edge_map
    }

    /// Per segment id: the linear position where that segment starts and the node it
    /// starts from.
    pub fn linear_starts(&self) -> &[(f64, usize)] {
        &self.linear_start
    }

    /// Shortest route along the graph between nodes `a` and `b` (infinite when they
    /// are not connected).
    pub fn node_route(&self, a: usize, b: usize) -> f64 {
        self.node_route[a * self.node_positions.len() + b]
    }

    /// Node positions of the two ends of segment `id`, in its orientation.
    pub(crate) fn segment_ends(&self, id: usize) -> ([f64; 2], [f64; 2]) {
        let [u, v] = self.segments[id];
        (self.node_positions[u], self.node_positions[v])
    }

    /// The label the edge map gives segment `id` (its id when unmapped).
    pub fn segment_label(&self, id: usize) -> i64 {
        self.edge_map
            .iter()
            .find(|&&(s, _)| s == id)
            .map_or(id as i64, |&(_, label)| label)
    }

    /// Moves a linear position computed on segment `id` into the coordinates the edge
    /// map gives its label (unchanged without an edge map).
    pub(crate) fn merged_linear_position(&self, id: usize, linear: f64) -> f64 {
        match &self.merged {
            Some(merged) => merged[id].label_start + (linear - merged[id].own_start),
            None => linear,
        }
    }

    fn segment_between(&self, u: usize, v: usize) -> Option<usize> {
        self.segments
            .iter()
            .position(|&[p, q]| (p, q) == (u, v) || (p, q) == (v, u))
    }

    /// Linear start of each segment: the running sum of edge lengths and gaps along
    /// the linear edge order (each gap added to its edge's length first, as
    /// track_linearization does).
    fn compute_linear_start(&self) -> Vec<(f64, usize)> {
        let n = self.linear_edge_order.len();
        let mut starts = vec![(0.0, 0); n];
        let mut counter = 0.0;
        for (ind, &[u, v]) in self.linear_edge_order.iter().enumerate() {
            let segment = self.segment_between(u, v).expect("validated edge order");
            starts[segment] = (counter, u);
            if ind + 1 < n {
                let gap = match &self.linear_edge_spacing {
                    EdgeSpacing::Uniform(s) => *s,
                    EdgeSpacing::PerGap(gaps) => gaps[ind],
                };
                counter += self.segment_length[segment] + gap;
            }
        }
        starts
    }
}

/// Where one segment's linear positions go under an edge map.
#[derive(Debug, Clone, PartialEq)]
struct Merged {
    /// Start of the segment without the edge map.
    own_start: f64,
    /// Start of its label's shared coordinates.
    label_start: f64,
}

impl TrackGraph {
    /// Per segment: its start without the map and where its label starts, as
    /// track_linearization 2.4.0 computes them (each a running sum of lengths and
    /// gaps along the linear edge order, the gap added after the length; a label's
    /// later segments add nothing). `None` without an edge map.
    fn compute_merged(&self) -> Option<Vec<Merged>> {
        if self.edge_map.is_empty() {
            return None;
        }
        let n = self.linear_edge_order.len();
        let gap = |ind: usize| match &self.linear_edge_spacing {
            EdgeSpacing::Uniform(s) => *s,
            EdgeSpacing::PerGap(gaps) => gaps[ind],
        };
        let mut merged = vec![
            Merged {
                own_start: 0.0,
                label_start: 0.0
            };
            n
        ];
        let mut label_starts: Vec<(i64, f64)> = Vec::new();
        let (mut own, mut shared) = (0.0, 0.0);
        for (ind, &[u, v]) in self.linear_edge_order.iter().enumerate() {
            let segment = self.segment_between(u, v).expect("validated edge order");
            let label = self.segment_label(segment);
            let label_start = match label_starts.iter().find(|&&(l, _)| l == label) {
                Some(&(_, start)) => start,
                None => {
                    label_starts.push((label, shared));
                    let start = shared;
                    shared += self.segment_length[segment];
                    if ind + 1 < n {
                        shared += gap(ind);
                    }
                    start
                }
            };
            merged[segment] = Merged {
                own_start: own,
                label_start,
            };
            own += self.segment_length[segment];
            if ind + 1 < n {
                own += gap(ind);
            }
        }
        Some(merged)
    }
}

/// The order in which a networkx `Graph` built node by node, then edge by edge,
/// iterates its edges, and the position of each input edge in it.
fn networkx_edge_order(n_nodes: usize, edges: &[[usize; 2]]) -> (Vec<[usize; 2]>, Vec<usize>) {
    let mut neighbours: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n_nodes];
    for (e, &[u, v]) in edges.iter().enumerate() {
        neighbours[u].push((v, e));
        neighbours[v].push((u, e));
    }
    let mut segments = Vec::with_capacity(edges.len());
    let mut edge_segment = vec![0; edges.len()];
    for (u, list) in neighbours.iter().enumerate() {
        for &(v, e) in list {
            if v > u {
                edge_segment[e] = segments.len();
                segments.push([u, v]);
            }
        }
    }
    (segments, edge_segment)
}

/// All-pairs shortest routes (Floyd–Warshall; track graphs have few nodes).
fn all_pairs_routes(nodes: &[[f64; 2]], segments: &[[usize; 2]]) -> Vec<f64> {
    let n = nodes.len();
    let mut d = vec![f64::INFINITY; n * n];
    for i in 0..n {
        d[i * n + i] = 0.0;
    }
    for &[u, v] in segments {
        let length = distance(nodes[u], nodes[v]);
        d[u * n + v] = d[u * n + v].min(length);
        d[v * n + u] = d[v * n + u].min(length);
    }
    for k in 0..n {
        for i in 0..n {
            let dik = d[i * n + k];
            if dik.is_infinite() {
                continue;
            }
            for j in 0..n {
                let candidate = dik + d[k * n + j];
                if candidate < d[i * n + j] {
                    d[i * n + j] = candidate;
                }
            }
        }
    }
    d
}
