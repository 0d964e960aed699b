//! Ingest step of `common_interval`: one IntervalList per epoch of the file (G2).

use super::Ctx;
use crate::common::common_interval::{self as iv, IntervalList};
use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// The IntervalList name of an epoch row: its first tag, else `interval_<id>`.
pub fn epoch_interval_name(e: &spyglass_nwb::Epoch) -> String {
    e.tags
        .first()
        .filter(|t| !t.is_empty())
        .cloned()
        .unwrap_or_else(|| format!("interval_{}", e.id))
}

pub(super) fn epochs(cx: &mut Ctx) -> Result<()> {
    if cx.src.epochs.is_empty() {
        cx.warn(
            iv::INTERVAL_LIST,
            "the file has no epochs table: no epoch intervals",
        );
    }
    let mut names: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    let name = cx.nwb_file_name.clone();
    for e in cx.src.epochs.clone() {
        let n = epoch_interval_name(&e);
        if let Some(prev) = names.get(&n) {
            if *prev != (e.start_time, e.stop_time) {
                return Err(Error::BadFile {
                    path: cx.src.path.clone(),
                    message: format!("two epochs are tagged `{n}` with different times"),
                });
            }
            continue;
        }
        names.insert(n.clone(), (e.start_time, e.stop_time));
        cx.interval(
            IntervalList::new(&name, &n, vec![[e.start_time, e.stop_time]]),
            false,
        )?;
    }
    Ok(())
}
