//! Ingest step of `spikesorting_imported`: the file's Units table as an
//! ImportedSpikeSorting row (G2), entered in SpikeSortingOutput as Spyglass's
//! `insert_from_nwbfile` enters it.

use super::{Ctx, Mode};
use crate::common::spikesorting_imported as ssi;
use crate::error::Result;
use crate::spikesorting::merge::SPIKE_SORTING_OUTPUT;
use spyglass_db::{Row, Value};

pub(super) fn imported_spike_sorting(cx: &mut Ctx) -> Result<()> {
    if let Some(id) = cx.src.units.clone() {
        let mut r = cx.base();
        r.insert("object_id".into(), Value::from(id));
        cx.put(ssi::IMPORTED_SPIKE_SORTING, vec![r], Mode::Fresh)?;
        // declared before the file's transaction (see `ingest_file`)
        let m = cx.db.merge(SPIKE_SORTING_OUTPUT)?;
        let key = Row::from_pairs([("nwb_file_name", Value::from(cx.nwb_file_name.as_str()))]);
        cx.db.merge_insert(&m, &[key])?;
    }
    Ok(())
}
