//! Track segment classification by a hidden Markov model (Newson & Krumm 2009),
//! as `track_linearization.classify_track_segments` computes it.
//!
//! - Emission: a Gaussian of the distance from the position to each segment,
//!   standard deviation `sensor_std_dev`.
//! - Transition from segment `i` at `t-1` to `j` at `t`: an exponential density
//!   (scale `route_euclidean_distance_scaling`) of |route distance along the graph
//!   between the two projections − Euclidean distance between the two raw
//!   positions|, normalized per row, `diagonal_bias` added to staying, normalized
//!   again.
//! - Viterbi in log space over the samples whose emission is usable (finite
//!   position, no segment too far for its density to be representable).
//!
//! Transitions are computed one time step at a time, so memory is the back
//! pointers (one `u32` per sample and segment), not `n_time × n_segments²`.

use crate::geometry::{numpy_sum, projection, Projection};
use crate::graph::{distance, TrackGraph};

/// The three HMM knobs, with Spyglass's names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HmmParameters {
    /// Scale of the exponential density of |route − Euclidean| distance.
    pub route_euclidean_distance_scaling: f64,
    /// Standard deviation of the position sensor, in position units.
    pub sensor_std_dev: f64,
    /// Added to the probability of staying on a segment before renormalizing.
    pub diagonal_bias: f64,
}

/// Offset added before taking logs, as track_linearization does.
const LOG_EPS: f64 = 1e-16;

/// A sample projected onto one segment: the point, the distance to it, and the
/// point's distances to the segment's two end nodes.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    point: [f64; 2],
    distance: f64,
    to_ends: [f64; 2],
}

/// Candidates of one sample on every segment, in segment id order.
fn project_all(graph: &TrackGraph, p: [f64; 2], out: &mut Vec<Candidate>) {
    out.clear();
    let nodes = graph.node_positions();
    for &[a, b] in graph.segments() {
        let Projection { point, distance: d } = projection(p, nodes[a], nodes[b]);
        out.push(Candidate {
            point,
            distance: d,
            to_ends: [distance(point, nodes[a]), distance(point, nodes[b])],
        });
    }
}

/// Log emission of one sample per segment into `out`; false when the sample is
/// unusable (NaN distance, or a density that underflows to zero on some segment).
fn log_emission(candidates: &[Candidate], sigma: f64, out: &mut [f64]) -> bool {
    let norm = (2.0 * std::f64::consts::PI).sqrt() * sigma;
    for (o, p) in out.iter_mut().zip(candidates) {
        let z = p.distance / sigma;
        let likelihood = (-0.5 * (z * z)).exp() / norm;
        if likelihood.is_nan() || likelihood == 0.0 {
            return false;
        }
        *o = likelihood.ln();
    }
    true
}

/// Route distance along the graph from the projection onto segment `i` at `t-1` to
/// the projection onto segment `j` at `t`: along the segment when `i == j`, else
/// through the best pair of end nodes.
fn route(graph: &TrackGraph, i: usize, p: &Candidate, j: usize, q: &Candidate) -> f64 {
    if i == j {
        return distance(p.point, q.point);
    }
    let from = graph.segments()[i];
    let to = graph.segments()[j];
    let mut best = f64::INFINITY;
    for (e, to_e) in from.into_iter().zip(p.to_ends) {
        for (f, from_f) in to.into_iter().zip(q.to_ends) {
            let r = to_e + graph.node_route(e, f) + from_f;
            if r < best {
                best = r;
            }
        }
    }
    best
}

/// Divides each value of `row` by the row's sum (computed as numpy sums it).
fn normalize(row: &mut [f64]) {
    let sum = numpy_sum(row);
    for v in row.iter_mut() {
        *v /= sum;
    }
}

/// Log transition matrix (row = segment at `t-1`, column = segment at `t`) between
/// two consecutive samples with finite positions, written into `out` (`n_segments²`).
///
/// Where the densities of a whole row underflow to zero (every route differs from
/// the step by more than ~745 scales), track_linearization divides 0 by 0 and the
/// NaN spreads through the rest of its Viterbi pass; here that row is the same
/// normalized density computed relative to its largest entry.
fn log_transition(
    graph: &TrackGraph,
    prev: (&[f64; 2], &[Candidate]),
    next: (&[f64; 2], &[Candidate]),
    params: &HmmParameters,
    out: &mut [f64],
) {
    let n = prev.1.len();
    let dx = next.0[0] - prev.0[0];
    let dy = next.0[1] - prev.0[1];
    let euclidean = (dx * dx + dy * dy).sqrt();
    let scale = params.route_euclidean_distance_scaling;
    let similarity =
        |i: usize, j: usize| (route(graph, i, &prev.1[i], j, &next.1[j]) - euclidean).abs();
    for (i, row) in out.chunks_exact_mut(n).enumerate() {
        let mut least = f64::INFINITY;
        for (j, v) in row.iter_mut().enumerate() {
            let s = similarity(i, j);
            least = least.min(s);
            *v = (-(s / scale)).exp() / scale;
        }
        let sum = numpy_sum(row);
        if !(sum > 0.0 && sum.is_finite()) {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (-((similarity(i, j) - least) / scale)).exp();
            }
        }
        normalize(row);
        row[i] += params.diagonal_bias;
        normalize(row);
        for v in row.iter_mut() {
            *v = (*v + LOG_EPS).ln();
        }
    }
}

/// First index of the maximum of `values` (a NaN counts as the maximum, as in numpy).
fn argmax(values: impl Iterator<Item = f64>) -> (usize, f64) {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, v) in values.enumerate() {
        if v.is_nan() {
            return (i, v);
        }
        if i == 0 || v > best.1 {
            best = (i, v);
        }
    }
    best
}

/// Most likely segment id per sample; `None` where the sample is unusable.
///
/// A sample whose predecessor is missing (NaN) has no transition: the chain
/// restarts there, as if the samples after the gap were classified on their own.
/// (track_linearization's transition is NaN there, and numpy's `argmax` then
/// sends every later sample to segment 0.)
pub(crate) fn classify_track_segments(
    graph: &TrackGraph,
    position: &[[f64; 2]],
    params: &HmmParameters,
) -> Vec<Option<usize>> {
    let n = graph.segments().len();
    let n_time = position.len();
    let mut ids = vec![None; n_time];
    let mut kept: Vec<usize> = Vec::new();
    let mut pointers: Vec<u32> = Vec::new();
    let mut posterior = vec![0.0; n];
    let mut next_posterior = vec![0.0; n];
    let mut emission = vec![0.0; n];
    let mut transition = vec![0.0; n * n];
    let mut prev_proj: Vec<Candidate> = Vec::with_capacity(n);
    let mut proj: Vec<Candidate> = Vec::with_capacity(n);
    // initial conditions are ones: log(1 + 1e-16) = 0
    let initial = (1.0 + LOG_EPS).ln();
    for t in 0..n_time {
        project_all(graph, position[t], &mut proj);
        let usable = log_emission(&proj, params.sensor_std_dev, &mut emission);
        if usable {
            let after_gap = t > 0 && (position[t - 1][0].is_nan() || position[t - 1][1].is_nan());
            if kept.is_empty() || after_gap {
                if !kept.is_empty() {
                    // every state of the new chain continues from the old chain's best end
                    let best = argmax(posterior.iter().copied()).0 as u32;
                    pointers.extend(std::iter::repeat_n(best, n));
                }
                for (p, e) in posterior.iter_mut().zip(&emission) {
                    *p = initial + e;
                }
            } else {
                // the transition is from sample t-1 (whether or not it was kept) to t
                log_transition(
                    graph,
                    (&position[t - 1], &prev_proj),
                    (&position[t], &proj),
                    params,
                    &mut transition,
                );
                for j in 0..n {
                    let (i, best) = argmax((0..n).map(|i| posterior[i] + transition[i * n + j]));
                    pointers.push(i as u32);
                    next_posterior[j] = best + emission[j];
                }
                std::mem::swap(&mut posterior, &mut next_posterior);
            }
            kept.push(t);
        }
        std::mem::swap(&mut prev_proj, &mut proj);
    }
    let Some(&last) = kept.last() else {
        return ids;
    };
    let mut state = argmax(posterior.iter().copied()).0;
    ids[last] = Some(state);
    for m in (0..kept.len() - 1).rev() {
        state = pointers[m * n + state] as usize;
        ids[kept[m]] = Some(state);
    }
    ids
}
