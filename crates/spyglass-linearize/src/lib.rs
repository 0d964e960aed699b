//! Track linearization for spyglass-rs: what Spyglass's `LinearizedPositionV1`
//! computes through the `track_linearization` package, on plain slices.
//!
//! - [`graph`]: [`TrackGraph`], a validated track graph (Spyglass's `TrackGraph`
//!   row: node positions, edges, linear edge order and spacing, edge map).
//! - [`linearize()`]: per sample the linear position, track segment id and the
//!   position projected onto the track, by nearest segment or by the HMM
//!   ([`LinearizationParameters`], Spyglass's defaults).
//!
//! No database, no files: pure computation. Bad input gets a [`LinearizeError`],
//! never a panic.

#![warn(missing_docs)]

pub mod error;
mod geometry;
pub mod graph;
mod hmm;
mod linearize;

pub use error::{LinearizeError, Result};
pub use graph::{EdgeSpacing, TrackGraph};
pub use hmm::HmmParameters;
pub use linearize::{linearize, LinearizationParameters, LinearizedPosition};
