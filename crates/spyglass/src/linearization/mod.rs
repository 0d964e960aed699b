//! The linearization pipelines, as Spyglass lays them out: [`v1`]
//! (`position_linearization_v1`: TrackGraph, LinearizationParameters,
//! LinearizationSelection and LinearizedPositionV1 — a PositionOutput entry's
//! head position projected onto a track graph by `spyglass-linearize`) and
//! [`merge`] (`position_linearization_merge`: the LinearizedPositionOutput merge
//! table); [`plot`] draws the linearized positions.

crate::kit::family! {
    v1 => LinearizationV1,
    merge => LinearizationMerge,
}

pub mod plot;
