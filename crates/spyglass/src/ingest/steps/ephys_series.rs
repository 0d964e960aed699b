//! Ingest step of `common_ephys_series`: every ElectricalSeries of the file with its
//! role and the electrodes it carries (G3).

use super::common_ephys::{electrode_groups_by_id, raw_timing};
use super::{Ctx, Mode};
use crate::common::common_interval::{IntervalList, RAW_VALID_TIMES};
use crate::common::ephys_series as es;
use crate::error::{Error, Result};
use crate::ingest::source::{EphysSeries, SeriesPlace};
use spyglass_db::Value;

/// The role of a series: Raw's, an LFP (container or LF stream), or another broadband one.
pub(super) fn series_role(cx: &Ctx, s: &EphysSeries) -> &'static str {
    let is_raw = cx
        .src
        .raw
        .as_ref()
        .is_some_and(|r| r.series.path == s.series.path);
    if is_raw {
        "raw"
    } else if s.place == SeriesPlace::LfpContainer || s.rate <= crate::lfp::imported::MAX_LFP_RATE {
        "lfp"
    } else {
        "raw_other"
    }
}

/// Every ElectricalSeries with the electrodes it carries (see [`es`]).
pub(super) fn electrical_series(cx: &mut Ctx) -> Result<()> {
    if cx.src.ephys.is_empty() {
        return Ok(());
    }
    let groups = electrode_groups_by_id(cx)?;
    let name = cx.nwb_file_name.clone();
    let mut masters = vec![];
    let mut parts = vec![];
    for s in cx.src.ephys.clone() {
        let role = series_role(cx, &s);
        let interval = match (role, cx.series_intervals.get(&s.series.path)) {
            ("raw", _) => RAW_VALID_TIMES.to_string(),
            (_, Some(i)) => i.clone(),
            _ => {
                let interval = format!("{} valid times", s.series.path.trim_start_matches('/'));
                let (_, valid) = raw_timing(&s.series, &cx.src.path)?;
                cx.interval(IntervalList::new(&name, &interval, valid), false)?;
                interval
            }
        };
        let mut m = cx.base();
        m.insert("series_path".into(), Value::from(s.series.path.as_str()));
        m.insert(
            "series_object_id".into(),
            Value::from(s.series.object_id.as_str()),
        );
        m.insert("interval_list_name".into(), Value::from(interval));
        m.insert("sampling_rate".into(), Value::from(s.rate));
        m.insert(
            "n_samples".into(),
            Value::from(s.series.num_samples() as i64),
        );
        m.insert("role".into(), Value::from(role));
        masters.push(m);
        for (channel, id) in s.electrode_ids.iter().enumerate() {
            let Some(eg) = groups.get(id) else {
                return Err(Error::BadFile {
                    path: cx.src.path.clone(),
                    message: format!(
                        "`{}` carries electrode {id}, which is not in the electrodes table",
                        s.series.path
                    ),
                });
            };
            let mut r = cx.base();
            r.insert("series_path".into(), Value::from(s.series.path.as_str()));
            r.insert("electrode_group_name".into(), Value::from(eg.as_str()));
            r.insert("electrode_id".into(), Value::from(*id));
            r.insert("channel".into(), Value::from(channel as i64));
            parts.push(r);
        }
    }
    cx.put(es::ELECTRICAL_SERIES, masters, Mode::Fresh)?;
    cx.put(es::ELECTRICAL_SERIES_ELECTRODE, parts, Mode::SkipExisting)?;
    Ok(())
}
