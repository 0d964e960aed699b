//! Ingest step of `common_task`: tasks and task epochs from the file's `tasks`
//! module and the config, each epoch matched to its interval as Spyglass does (G2).

use super::{merge_config, opt, rec, Ctx, Mode, Rec};
use crate::common::common_task as task;
use crate::error::Result;
use spyglass_db::{Cond, Value};
use std::collections::BTreeMap;

/// The interval name of epoch number `epoch`, matched as Spyglass's TaskEpoch does
/// (exact, then the two-digit zero-padded number contained in exactly one name,
/// then 1-, 2- or 3-digit forms); None when no unique match.
pub fn epoch_interval_for(epoch: i64, intervals: &[String]) -> Option<String> {
    let plain = epoch.to_string();
    if intervals.contains(&plain) {
        return Some(plain);
    }
    let uniq = |v: Vec<&String>| -> Option<String> {
        let mut v: Vec<&String> = v;
        v.sort();
        v.dedup();
        (v.len() == 1).then(|| v[0].clone())
    };
    let two = format!("{epoch:02}");
    if let Some(s) = uniq(intervals.iter().filter(|i| i.contains(&two)).collect()) {
        return Some(s);
    }
    let forms = [plain.clone(), two, format!("{epoch:03}")];
    uniq(
        intervals
            .iter()
            .filter(|i| forms.iter().any(|f| i.contains(f.as_str())))
            .collect(),
    )
}

pub(super) fn task_epoch(cx: &mut Ctx) -> Result<()> {
    // camera id -> camera name, from the file's cameras and the config
    let mut cameras: BTreeMap<i64, String> = BTreeMap::new();
    for c in &cx.src.cameras {
        if let Some(id) = c.camera_id() {
            cameras.insert(id, c.camera_name.clone());
        }
    }
    for r in cx.cfg.rows("CameraDevice") {
        if let (Some(id), Some(name)) = (
            r.get("camera_id").and_then(|v| v.as_i64()),
            r.get("camera_name").and_then(|v| v.as_str()),
        ) {
            cameras.insert(id, name.to_string());
        }
    }
    struct T {
        name: String,
        description: Option<String>,
        environment: Option<String>,
        camera_ids: Vec<i64>,
        epochs: Vec<i64>,
    }
    let mut tasks: Vec<T> = cx
        .src
        .tasks
        .iter()
        .map(|t| T {
            name: t.task_name.clone(),
            description: t.task_description.clone(),
            environment: t.task_environment.clone(),
            camera_ids: t.camera_ids.clone(),
            epochs: t.task_epochs.clone(),
        })
        .collect();
    for r in cx.cfg.rows("Tasks") {
        let ints = |k: &str| -> Vec<i64> {
            match r.get(k) {
                Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_i64()).collect(),
                Some(v) => v.as_i64().into_iter().collect(),
                None => vec![],
            }
        };
        let s = |k: &str| r.get(k).and_then(|v| v.as_str()).map(str::to_string);
        tasks.push(T {
            name: s("task_name").unwrap_or_default(),
            description: s("task_description"),
            environment: s("task_environment"),
            camera_ids: ints("camera_id"),
            epochs: ints("task_epochs"),
        });
    }
    if tasks.is_empty() {
        let mut msg =
            "no `tasks` processing module and no config Tasks: no task epochs".to_string();
        if !cx.src.videos.is_empty() {
            msg.push_str(&format!(
                "; the {} ImageSeries cannot become VideoFile rows without task epochs",
                cx.src.videos.len()
            ));
        }
        cx.warn(task::TASK_EPOCH, msg);
        return Ok(());
    }
    // Task rows: those the file or config describe, and config tasks not yet known
    let mut task_recs: Vec<Rec> = vec![];
    for t in &tasks {
        if t.description.is_some() {
            task_recs.push(rec([
                ("task_name", Value::from(t.name.as_str())),
                ("task_description", opt(&t.description)),
            ]));
        } else {
            let q = cx
                .db
                .table(task::TASK)?
                .restrict(Cond::map([("task_name", t.name.as_str())]))?;
            if !cx.db.exists(&q)? {
                task_recs.push(rec([("task_name", Value::from(t.name.as_str()))]));
            }
        }
    }
    merge_config(&mut task_recs, cx.cfg.rows("Task"), &["task_name"]);
    cx.put(task::TASK, task_recs, Mode::Shared)?;

    let mut recs = vec![];
    let mut warnings = vec![];
    for t in &tasks {
        let valid: Vec<i64> = t
            .camera_ids
            .iter()
            .copied()
            .filter(|i| cameras.contains_key(i))
            .collect();
        if valid.is_empty() && !t.camera_ids.is_empty() {
            warnings.push(format!(
                "task `{}`: no camera device with id {:?}",
                t.name, t.camera_ids
            ));
        }
        let names = spyglass_blob::Value::list(valid.iter().map(|i| {
            spyglass_blob::Value::dict([(
                "camera_name",
                spyglass_blob::Value::from(cameras[i].as_str()),
            )])
        }));
        for &e in &t.epochs {
            let Some(interval) = epoch_interval_for(e, &cx.session_intervals) else {
                warnings.push(format!(
                    "task `{}` epoch {e}: no unique interval matches among {:?}; skipped",
                    t.name, cx.session_intervals
                ));
                continue;
            };
            let mut r = cx.base();
            r.insert("epoch".into(), Value::from(e));
            r.insert("task_name".into(), Value::from(t.name.as_str()));
            r.insert("interval_list_name".into(), Value::from(interval.as_str()));
            r.insert("task_environment".into(), opt(&t.environment));
            r.insert("camera_names".into(), Value::from(names.clone()));
            recs.push(r);
            cx.task_epochs.push((e, interval));
        }
    }
    for w in warnings {
        cx.warn(task::TASK_EPOCH, w);
    }
    cx.put(task::TASK_EPOCH, recs, Mode::Fresh)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_matching_follows_spyglass() {
        let names: Vec<String> = [
            "01_s1",
            "02_r1",
            "raw data valid times",
            "pos 0 valid times",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(epoch_interval_for(1, &names).as_deref(), Some("01_s1"));
        assert_eq!(epoch_interval_for(2, &names).as_deref(), Some("02_r1"));
        assert_eq!(epoch_interval_for(3, &names), None);
        let exact: Vec<String> = ["1", "02", "003"].iter().map(|s| s.to_string()).collect();
        assert_eq!(epoch_interval_for(1, &exact).as_deref(), Some("1"));
        assert_eq!(epoch_interval_for(2, &exact).as_deref(), Some("02"));
        assert_eq!(epoch_interval_for(3, &exact).as_deref(), Some("003"));
    }
}
