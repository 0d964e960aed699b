//! Ingest step of `common_dio`: the file's digital IO series as DIOEvents rows (G2).

use super::{Ctx, Mode};
use crate::common::common_dio as dio;
use crate::common::common_interval::IntervalList;
use crate::error::Result;
use spyglass_db::Value;

pub(super) fn dio_events(cx: &mut Ctx) -> Result<()> {
    if cx.src.dio.is_empty() {
        return Ok(());
    }
    let mut ranges = vec![];
    let mut recs = vec![];
    let series = cx.src.dio.clone();
    let interval = cx
        .raw_interval
        .clone()
        .unwrap_or_else(|| "dio data valid times".into());
    for s in &series {
        let Some((a, b)) = s.range else {
            cx.warn(
                dio::DIO_EVENTS,
                format!("DIO series `{}` has no timestamps; skipped", s.name),
            );
            continue;
        };
        ranges.push(a);
        ranges.push(b);
        let mut r = cx.base();
        r.insert("dio_event_name".into(), Value::from(s.name.as_str()));
        r.insert("dio_object_id".into(), Value::from(s.object_id.as_str()));
        r.insert("interval_list_name".into(), Value::from(interval.as_str()));
        recs.push(r);
    }
    if cx.raw_interval.is_none() && !ranges.is_empty() {
        let lo = ranges.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = ranges.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let name = cx.nwb_file_name.clone();
        cx.interval(IntervalList::new(&name, &interval, vec![[lo, hi]]), false)?;
    }
    cx.put(dio::DIO_EVENTS, recs, Mode::Fresh)?;
    Ok(())
}
