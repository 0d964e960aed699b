//! Linearization of 2-D position onto a track graph, as
//! `track_linearization.get_linearized_position` computes it: pick a segment per
//! sample (the nearest one, or the HMM's), project onto that segment, measure
//! along the linear edge order, then apply the edge map (labels and shared linear
//! coordinates of merged segments).

use crate::error::{LinearizeError, Result};
use crate::geometry::{project, projection};
use crate::graph::{distance, TrackGraph};
use crate::hmm::{classify_track_segments, HmmParameters};

/// Spyglass's `LinearizationParameters`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearizationParameters {
    /// Classify segments with the HMM (else: the nearest segment).
    pub use_hmm: bool,
    /// HMM: scale of the exponential density of |route − Euclidean| distance.
    pub route_euclidean_distance_scaling: f64,
    /// HMM: standard deviation of the position sensor (cm).
    pub sensor_std_dev: f64,
    /// HMM: bias toward staying on the current segment.
    pub diagonal_bias: f64,
}

impl Default for LinearizationParameters {
    /// Spyglass's `default` row: no HMM, scaling 1.0, sensor 5.0 cm, bias 0.5
    /// (track_linearization's own default bias is 0.1).
    fn default() -> Self {
        LinearizationParameters {
            use_hmm: false,
            route_euclidean_distance_scaling: 1.0,
            sensor_std_dev: 5.0,
            diagonal_bias: 0.5,
        }
    }
}

impl LinearizationParameters {
    fn validate(&self) -> Result<HmmParameters> {
        let positive = |name, value: f64| {
            if value.is_finite() && value > 0.0 {
                Ok(value)
            } else {
                Err(LinearizeError::BadParameter {
                    name,
                    value,
                    why: "must be finite and > 0",
                })
            }
        };
        let bias = self.diagonal_bias;
        if !bias.is_finite() || bias < 0.0 {
            return Err(LinearizeError::BadParameter {
                name: "diagonal_bias",
                value: bias,
                why: "must be finite and >= 0",
            });
        }
        Ok(HmmParameters {
            route_euclidean_distance_scaling: positive(
                "route_euclidean_distance_scaling",
                self.route_euclidean_distance_scaling,
            )?,
            sensor_std_dev: positive("sensor_std_dev", self.sensor_std_dev)?,
            diagonal_bias: bias,
        })
    }
}

/// Linearized position, one value per input sample.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LinearizedPosition {
    /// Distance along the linear edge order (NaN where the position is NaN or the
    /// HMM could not use the sample).
    pub linear_position: Vec<f64>,
    /// Track segment id, or its label under the edge map; `None` where there is no
    /// segment (NaN position, or a sample the HMM cannot use).
    ///
    /// track_linearization 2.4.0 reports segment 0 there (or its label; and, for a
    /// sample the HMM dropped, the projection onto segment 0), with a NaN linear
    /// position.
    pub track_segment_id: Vec<Option<i64>>,
    /// x of the position projected onto its segment (NaN where there is none).
    pub projected_x_position: Vec<f64>,
    /// y of the position projected onto its segment (NaN where there is none).
    pub projected_y_position: Vec<f64>,
}

/// Index of the nearest segment to `p` (first of equals), or `None` for a NaN point.
fn nearest_segment(graph: &TrackGraph, p: [f64; 2]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for id in 0..graph.segments().len() {
        let (a, b) = graph.segment_ends(id);
        let d = projection(p, a, b).distance;
        if d.is_nan() {
            return None;
        }
        if best.is_none_or(|(_, bd)| d < bd) {
            best = Some((id, d));
        }
    }
    best.map(|(id, _)| id)
}

/// Linearizes `position` (`[x, y]` per sample; NaN marks a missing sample) onto
/// `graph`. Errors: an infinite coordinate, or a parameter out of its domain
/// (HMM parameters are checked only when `use_hmm` is set).
pub fn linearize(
    position: &[[f64; 2]],
    graph: &TrackGraph,
    params: &LinearizationParameters,
) -> Result<LinearizedPosition> {
    if let Some(index) = position
        .iter()
        .position(|p| p[0].is_infinite() || p[1].is_infinite())
    {
        let [x, y] = position[index];
        return Err(LinearizeError::InfinitePosition { index, x, y });
    }
    let segment_ids: Vec<Option<usize>> = if params.use_hmm {
        classify_track_segments(graph, position, &params.validate()?)
    } else {
        position
            .iter()
            .map(|&p| nearest_segment(graph, p))
            .collect()
    };
    let n = position.len();
    let mut out = LinearizedPosition {
        linear_position: Vec::with_capacity(n),
        track_segment_id: Vec::with_capacity(n),
        projected_x_position: Vec::with_capacity(n),
        projected_y_position: Vec::with_capacity(n),
    };
    for (&p, id) in position.iter().zip(segment_ids) {
        let (linear, projected) = match id {
            Some(id) => {
                let (a, b) = graph.segment_ends(id);
                let projected = project(p, a, b);
                let (start, start_node) = graph.linear_starts()[id];
                let along = distance(graph.node_positions()[start_node], projected);
                (graph.merged_linear_position(id, start + along), projected)
            }
            None => (f64::NAN, [f64::NAN, f64::NAN]),
        };
        out.linear_position.push(linear);
        out.track_segment_id
            .push(id.map(|id| graph.segment_label(id)));
        out.projected_x_position.push(projected[0]);
        out.projected_y_position.push(projected[1]);
    }
    Ok(out)
}
