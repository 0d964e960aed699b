//! Ingest step of `lfp_imported`: the file's LFP series as ImportedLFP rows with
//! their LFP electrode groups, valid times and LFPOutput entries (G3).

use super::common_ephys::electrode_groups_by_id;
use super::ephys_series::series_role;
use super::{Ctx, Mode};
use crate::common::common_interval::IntervalList;
use crate::error::{Error, Result};
use crate::ingest::source::EphysSeries;
use spyglass_db::{Row, Value};
use spyglass_dsp::valid_intervals;

/// LFP series of the file (LFP containers, LF streams): an LFP electrode group
/// `imported_lfp_NNN`, an IntervalList `imported lfp N valid times` and an
/// ImportedLFP row each (and an LFPOutput entry, so that LFP bands can use them).
pub(super) fn imported_lfp(cx: &mut Ctx) -> Result<()> {
    use crate::lfp::{imported::IMPORTED_LFP, lfp_electrode as le};
    let lfps: Vec<EphysSeries> = cx
        .src
        .ephys
        .iter()
        .filter(|s| series_role(cx, s) == "lfp")
        .cloned()
        .collect();
    if lfps.is_empty() {
        return Ok(());
    }
    let groups = electrode_groups_by_id(cx)?;
    let name = cx.nwb_file_name.clone();
    let mut keys = vec![];
    for (i, s) in lfps.iter().enumerate() {
        let group = format!("imported_lfp_{i:03}");
        let mut g = cx.base();
        g.insert(
            "lfp_electrode_group_name".into(),
            Value::from(group.as_str()),
        );
        cx.put(le::LFP_ELECTRODE_GROUP, vec![g], Mode::Fresh)?;
        let mut parts = vec![];
        for id in &s.electrode_ids {
            let eg = groups.get(id).cloned().ok_or_else(|| Error::BadFile {
                path: cx.src.path.clone(),
                message: format!(
                    "`{}` carries electrode {id}, which is not in the electrodes table",
                    s.series.path
                ),
            })?;
            let mut r = cx.base();
            r.insert(
                "lfp_electrode_group_name".into(),
                Value::from(group.as_str()),
            );
            r.insert("electrode_group_name".into(), Value::from(eg));
            r.insert("electrode_id".into(), Value::from(*id));
            parts.push(r);
        }
        cx.put(le::LFP_ELECTRODE, parts, Mode::SkipExisting)?;
        let interval = format!("imported lfp {i} valid times");
        let ts = cx.timestamps(&s.series)?;
        let valid = valid_intervals(&ts, s.rate, 2.5, 0.0)
            .map_err(|e| Error::bad(format!("LFP series `{}`", s.series.path), e.to_string()))?;
        cx.interval(
            IntervalList::new(&name, &interval, valid.into_vec()).with_pipeline("imported_lfp"),
            false,
        )?;
        let mut r = cx.base();
        r.insert(
            "lfp_electrode_group_name".into(),
            Value::from(group.as_str()),
        );
        r.insert("interval_list_name".into(), Value::from(interval.as_str()));
        r.insert("lfp_sampling_rate".into(), Value::from(s.rate));
        r.insert(
            "lfp_object_id".into(),
            Value::from(s.series.object_id.as_str()),
        );
        cx.put(IMPORTED_LFP, vec![r], Mode::Fresh)?;
        cx.series_intervals
            .insert(s.series.path.clone(), interval.clone());
        keys.push(Row::from_pairs([
            ("nwb_file_name", Value::from(name.as_str())),
            ("lfp_electrode_group_name", Value::from(group.as_str())),
            ("interval_list_name", Value::from(interval.as_str())),
        ]));
    }
    let m = crate::lfp::merge::lfp_output(cx.db)?;
    cx.db.merge_insert(&m, &keys)?;
    cx.count(crate::lfp::merge::LFP_OUTPUT, keys.len() as u64);
    Ok(())
}
