//! Ingest steps of `common_behav`: position sources and their valid times, the
//! epoch-to-position interval map, compass directions, videos and StateScript files
//! (G3), and raw position (G4).

use super::{text, Ctx, Mode};
use crate::common::common_behav as behav;
use crate::common::common_device as dev;
use crate::common::common_interval::{self as iv, IntervalList};
use crate::error::{Error, Result};
use crate::ingest::source::TimedSeries;
use spyglass_db::{FetchSpec, Value};
use spyglass_dsp::{estimate_sampling_rate, valid_intervals, Intervals};
use std::collections::HashMap;

/// A position epoch: its interval name and SpatialSeries (name, object id).
#[derive(Debug, Clone)]
pub(super) struct PosEpoch {
    interval: String,
    series: Vec<(String, String)>,
}

/// Valid times of a behavioural series as Spyglass computes them: rate estimated
/// (multiplier 1.75), gaps of 2.5 periods, pieces longer than int(rate) seconds.
pub fn behaviour_valid_times(ts: &[f64]) -> Result<Vec<[f64; 2]>> {
    let rate = estimate_sampling_rate(ts, 1.75)?;
    Ok(valid_intervals(ts, rate, 2.5, rate.trunc())?.into_vec())
}

/// Groups SpatialSeries into position epochs by first timestamp (Spyglass's rule:
/// series sharing a start time belong to one epoch), ordered by start then name.
pub fn position_epochs(series: &[TimedSeries]) -> Vec<Vec<&TimedSeries>> {
    let mut s: Vec<&TimedSeries> = series.iter().filter(|s| !s.timestamps.is_empty()).collect();
    s.sort_by(|a, b| {
        a.timestamps[0]
            .total_cmp(&b.timestamps[0])
            .then_with(|| a.series.name.cmp(&b.series.name))
    });
    let mut out: Vec<Vec<&TimedSeries>> = vec![];
    for x in s {
        match out.last_mut() {
            Some(g) if g[0].timestamps[0] == x.timestamps[0] => g.push(x),
            _ => out.push(vec![x]),
        }
    }
    out
}

pub(super) fn position_source(cx: &mut Ctx) -> Result<()> {
    let Some(series) = cx.src.position.clone() else {
        cx.warn(behav::POSITION_SOURCE, "the file has no Position object: no position sources, position intervals or raw position");
        return Ok(());
    };
    let name = cx.nwb_file_name.clone();
    let mut sources = vec![];
    let mut parts = vec![];
    if cx.src.position_containers.len() > 1 {
        let list = cx.src.position_containers.join(", ");
        cx.warn(
            behav::POSITION_SOURCE,
            format!("{} Position objects ({list}): their SpatialSeries are pooled, one position epoch per start time", cx.src.position_containers.len()),
        );
    }
    for (i, group) in position_epochs(&series).into_iter().enumerate() {
        let interval = format!("pos {i} valid times");
        let valid = match behaviour_valid_times(&group[0].timestamps) {
            Ok(v) => v,
            Err(e) => {
                cx.warn(
                    behav::POSITION_SOURCE,
                    format!(
                        "SpatialSeries `{}`: no valid times ({e}); position epoch {i} skipped, the rest of the session ingests",
                        group[0].series.path
                    ),
                );
                continue;
            }
        };
        cx.interval(
            IntervalList::new(&name, &interval, valid).with_pipeline("position"),
            true,
        )?;
        let mut r = cx.base();
        r.insert("interval_list_name".into(), Value::from(interval.as_str()));
        r.insert("source".into(), Value::from("imported"));
        r.insert("import_file_name".into(), Value::from(""));
        sources.push(r);
        let mut pe = PosEpoch {
            interval: interval.clone(),
            series: vec![],
        };
        for (id, s) in group.iter().enumerate() {
            let mut r = cx.base();
            r.insert("interval_list_name".into(), Value::from(interval.as_str()));
            r.insert("id".into(), Value::from(id));
            r.insert("name".into(), Value::from(s.series.name.as_str()));
            parts.push(r);
            pe.series
                .push((s.series.name.clone(), s.series.object_id.clone()));
        }
        cx.pos_epochs.push(pe);
    }
    cx.put(behav::POSITION_SOURCE, sources, Mode::Fresh)?;
    cx.put(behav::POSITION_SOURCE_SPATIAL_SERIES, parts, Mode::Fresh)?;
    position_interval_map(cx)
}

/// Maps every task-epoch interval to the one position interval whose bounds lie
/// within its bounds ± 0.51 s ("" when none or several), as Spyglass does.
pub(super) fn position_interval_map(cx: &mut Ctx) -> Result<()> {
    const EPSILON: f64 = 0.51;
    let mut epoch_intervals: Vec<String> = cx.task_epochs.iter().map(|(_, i)| i.clone()).collect();
    epoch_intervals.sort();
    epoch_intervals.dedup();
    let mut pos_bounds = vec![];
    for p in &cx.pos_epochs {
        let t = iv::fetch_list(cx.db, &cx.nwb_file_name, &p.interval)?.valid_times;
        if let (Some(a), Some(b)) = (t.first(), t.last()) {
            pos_bounds.push((p.interval.clone(), a[0], b[1]));
        }
    }
    let mut recs = vec![];
    for e in epoch_intervals {
        let t = iv::fetch_list(cx.db, &cx.nwb_file_name, &e)?.valid_times;
        let (Some(a), Some(b)) = (t.first(), t.last()) else {
            continue;
        };
        let (lo, hi) = (a[0] - EPSILON, b[1] + EPSILON);
        let matches: Vec<&String> = pos_bounds
            .iter()
            .filter(|(_, s, f)| lo <= *s && *s <= hi && lo <= *f && *f <= hi)
            .map(|(n, _, _)| n)
            .collect();
        let mapped = if matches.len() == 1 {
            matches[0].clone()
        } else {
            String::new()
        };
        if mapped.is_empty() {
            cx.warn(
                behav::POSITION_INTERVAL_MAP,
                format!(
                    "epoch interval `{e}`: {} position intervals match; mapped to \"\"",
                    matches.len()
                ),
            );
        }
        let mut r = cx.base();
        r.insert("interval_list_name".into(), Value::from(e));
        r.insert("position_interval_name".into(), Value::from(mapped));
        recs.push(r);
    }
    cx.put(behav::POSITION_INTERVAL_MAP, recs, Mode::SkipExisting)?;
    Ok(())
}

pub(super) fn raw_compass_direction(cx: &mut Ctx) -> Result<()> {
    let mut series: Vec<TimedSeries> = cx
        .src
        .compass
        .iter()
        .filter(|s| !s.timestamps.is_empty())
        .cloned()
        .collect();
    series.sort_by(|a, b| a.timestamps[0].total_cmp(&b.timestamps[0]));
    let name = cx.nwb_file_name.clone();
    let mut recs = vec![];
    for (k, s) in series.iter().enumerate() {
        let interval = format!("compass {} valid times", k + 1);
        let valid = behaviour_valid_times(&s.timestamps).map_err(|e| {
            Error::bad(format!("compass series `{}`", s.series.name), e.to_string())
        })?;
        cx.interval(IntervalList::new(&name, &interval, valid), false)?;
        let mut r = cx.base();
        r.insert("interval_list_name".into(), Value::from(interval));
        r.insert(
            "compass_object_id".into(),
            Value::from(s.series.object_id.as_str()),
        );
        r.insert("name".into(), Value::from(s.series.name.as_str()));
        recs.push(r);
    }
    cx.put(behav::RAW_COMPASS_DIRECTION, recs, Mode::Fresh)?;
    Ok(())
}

pub(super) fn fraction_inside(valid: &Intervals, ts: &[f64]) -> f64 {
    if ts.is_empty() {
        return 0.0;
    }
    valid.indices_inside(ts).len() as f64 / ts.len() as f64
}

pub(super) fn video_file(cx: &mut Ctx) -> Result<()> {
    if cx.src.videos.is_empty() || cx.task_epochs.is_empty() {
        return Ok(());
    }
    const THRESHOLD: f64 = 0.9;
    let known: Vec<String> = {
        let rows = cx.db.fetch_with(
            &cx.db.table(dev::CAMERA_DEVICE)?,
            &FetchSpec::attrs(&["camera_name"]),
        )?;
        rows.iter()
            .filter_map(|r| r.get("camera_name").and_then(text))
            .collect()
    };
    let cams: HashMap<String, (String, Option<i64>)> = cx
        .src
        .cameras
        .iter()
        .map(|c| (c.name.clone(), (c.camera_name.clone(), c.camera_id())))
        .collect();
    let mut recs = vec![];
    let mut warnings = vec![];
    let mut imported = std::collections::HashSet::new();
    for (epoch, interval) in cx.task_epochs.clone() {
        let valid = iv::fetch_list(cx.db, &cx.nwb_file_name, &interval)?.intervals()?;
        for v in &cx.src.videos {
            let ts = &v.timestamps;
            if ts.is_empty() {
                continue;
            }
            let sf = &v.info.starting_frame;
            let segments: Vec<&[f64]> = if sf.len() > 1 {
                (0..sf.len())
                    .map(|k| {
                        let a = (sf[k].max(0) as usize).min(ts.len());
                        let b = sf
                            .get(k + 1)
                            .map_or(ts.len(), |x| (*x).max(0) as usize)
                            .min(ts.len())
                            .max(a);
                        &ts[a..b]
                    })
                    .collect()
            } else {
                vec![ts.as_slice()]
            };
            let mut accepted = 0;
            for seg in segments {
                let frac = fraction_inside(&valid, seg);
                let coverage = if sf.len() > 1 || seg.is_empty() {
                    0.0
                } else {
                    valid
                        .iter()
                        .filter(|[a, b]| b > a)
                        .map(|[a, b]| {
                            ((b.min(seg[seg.len() - 1]) - a.max(seg[0])).max(0.0)) / (b - a)
                        })
                        .fold(0.0, f64::max)
                };
                if frac >= THRESHOLD || coverage >= THRESHOLD {
                    accepted += 1;
                }
            }
            if accepted == 0 {
                continue;
            }
            let name = &v.info.series.name;
            let Some((camera_name, num)) =
                v.info.device.as_ref().and_then(|d| cams.get(d)).cloned()
            else {
                warnings.push(format!("video `{name}` is not linked to a CameraDevice named `camera_device <int>`; skipped"));
                continue;
            };
            let Some(num) = num else {
                warnings.push(format!(
                    "video `{name}`: camera device name has no integer; skipped"
                ));
                continue;
            };
            if !known.contains(&camera_name) {
                warnings.push(format!(
                    "video `{name}`: camera `{camera_name}` is not in {}; skipped",
                    dev::CAMERA_DEVICE
                ));
                continue;
            }
            if !imported.insert((epoch, num)) {
                continue;
            }
            let mut r = cx.base();
            r.insert("epoch".into(), Value::from(epoch));
            r.insert("video_file_num".into(), Value::from(num));
            r.insert("camera_name".into(), Value::from(camera_name));
            r.insert(
                "video_file_object_id".into(),
                Value::from(v.info.series.object_id.as_str()),
            );
            recs.push(r);
        }
    }
    for w in warnings {
        cx.warn(behav::VIDEO_FILE, w);
    }
    cx.put(behav::VIDEO_FILE, recs, Mode::Fresh)?;
    Ok(())
}

pub(super) fn state_script_file(cx: &mut Ctx) -> Result<()> {
    let Some(files) = cx.src.associated_files.clone() else {
        return Ok(());
    };
    let mut recs = vec![];
    for (epoch, _) in cx.task_epochs.clone() {
        for f in &files {
            let d = f.description.to_uppercase();
            let is_script = d.contains("STATESCRIPT")
                || d.contains("STATE_SCRIPT")
                || d.contains("STATE SCRIPT");
            let in_epoch = f
                .task_epochs
                .split(',')
                .any(|x| x.trim() == epoch.to_string());
            if is_script && in_epoch {
                let mut r = cx.base();
                r.insert("epoch".into(), Value::from(epoch));
                r.insert("file_object_id".into(), Value::from(f.object_id.as_str()));
                recs.push(r);
            }
        }
    }
    cx.put(behav::STATE_SCRIPT_FILE, recs, Mode::Fresh)?;
    Ok(())
}

pub(super) fn raw_position(cx: &mut Ctx) -> Result<()> {
    let mut masters = vec![];
    let mut parts = vec![];
    for p in cx.pos_epochs.clone() {
        let mut r = cx.base();
        r.insert(
            "interval_list_name".into(),
            Value::from(p.interval.as_str()),
        );
        masters.push(r);
        for (id, (_, oid)) in p.series.iter().enumerate() {
            let mut r = cx.base();
            r.insert(
                "interval_list_name".into(),
                Value::from(p.interval.as_str()),
            );
            r.insert("id".into(), Value::from(id));
            r.insert("raw_position_object_id".into(), Value::from(oid.as_str()));
            parts.push(r);
        }
    }
    cx.put(behav::RAW_POSITION, masters, Mode::Fresh)?;
    cx.put(behav::RAW_POSITION_POS_OBJECT, parts, Mode::Fresh)?;
    Ok(())
}
