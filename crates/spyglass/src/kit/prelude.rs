//! What a pipeline file uses, in one import: `use crate::kit::prelude::*;`.

pub use super::{
    args, insert_param_dict, key_text, row_of, Cx, Defaults, DictParams, Made, Make, MergePart,
    Pipeline, With, Written,
};
pub(crate) use super::{dict_params, identity, provides};
pub use super::{Schema, Spyglass, Tables};
pub use crate::error::{Error, Result};
pub use crate::settings::Settings;
pub use serde::{Deserialize, Serialize};
pub use spyglass_db::populate::Maker;
pub use spyglass_db::{Db, InsertOptions, Row, TableSpec, Tier, Value};
pub use std::sync::Arc;
