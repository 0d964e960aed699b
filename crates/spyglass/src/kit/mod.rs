//! The pipeline kit: what every pipeline of the framework is built from, so that a
//! pipeline is one file of the same shape plus one line in [`crate::pipelines::all`].
//!
//! - [`Pipeline`]: a pipeline's tables, default rows, makers, merge-table parts and
//!   commands, declared in its own file.
//! - [`Spyglass`]: the one handle — the database, the directory layout, the stores
//!   configured once, the pipelines declared once each, the active export.
//! - [`Make`]: a typed three-phase make (typed key, inputs and output); the engine's
//!   fingerprint of the inputs is derived from their serialization.
//! - [`Cx`]: what a make works with (database and directory layout); [`Tables`]:
//!   typed fetch and insert, merge insert, IntervalList rows, analysis files, on
//!   any database handle; [`analysis_file`]: an analysis file from a parent.
//!
//! The guide to writing a pipeline with it is `docs/pipelines.md`.

pub mod args;
mod cx;
mod handle;
mod make;
mod pipeline;

pub use cx::{analysis_file, row_of, Cx, Session, Tables};
pub use handle::Spyglass;
pub use make::{Made, Make};
pub use pipeline::{Defaults, MergePart, Pipeline, Schema};
