//! `position_linearization_merge`: the LinearizedPositionOutput merge table
//! (Spyglass's parts LinearizedPositionV0 and LinearizedPositionV1; here V1, which
//! declares its part).

use crate::kit::prelude::*;

/// Schema name.
pub const SCHEMA: &str = "position_linearization_merge";
/// `LinearizedPositionOutput` (the merge master).
pub const LINEARIZED_POSITION_OUTPUT: &str =
    "position_linearization_merge.LinearizedPositionOutput";

/// The `position_linearization_merge` pipeline: the master; its parts come from
/// the pipelines that name it in their [`Pipeline::merge_parts`].
pub struct LinearizationMerge;

impl Pipeline for LinearizationMerge {
    identity!(SCHEMA);
    fn tables(&self) -> Vec<TableSpec> {
        let master = spyglass_db::merge::merge_spec("LinearizedPositionOutput", &[]);
        vec![master]
    }
}
