//! The position pipelines, one file per schema as Spyglass lays them out:
//! [`trodes_v1`] (`position_v1_trodes_position`: TrodesPosParams,
//! TrodesPosSelection and TrodesPosV1 — head position, orientation, velocity and
//! speed from Trodes LED tracking) and [`merge`] (`position_merge`: the
//! PositionOutput merge table over the position sources, and the reader
//! downstream pipelines use, [`merge::fetch_position`]); [`plot`] draws its entries.

crate::kit::family! {
    trodes_v1 => TrodesPosV1,
    merge => PositionMerge,
}

pub mod plot;
