//! Ingest step of `spikesorting_imported`: the file's Units table as an
//! ImportedSpikeSorting row (G2).

use super::{Ctx, Mode};
use crate::common::spikesorting_imported as ssi;
use crate::error::Result;
use spyglass_db::Value;

pub(super) fn imported_spike_sorting(cx: &mut Ctx) -> Result<()> {
    if let Some(id) = cx.src.units.clone() {
        let mut r = cx.base();
        r.insert("object_id".into(), Value::from(id));
        cx.put(ssi::IMPORTED_SPIKE_SORTING, vec![r], Mode::Fresh)?;
    }
    Ok(())
}
