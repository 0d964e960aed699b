//! Ingest steps of `common_ephys`: electrode groups, the Raw series and its valid
//! times, the sample count (G2), and the electrodes (G3).

use super::{text, yaml_rec, Ctx, Mode};
use crate::common::common_device as dev;
use crate::common::common_ephys as ephys;
use crate::common::common_interval::{IntervalList, RAW_GAP_PROPORTION, RAW_VALID_TIMES};
use crate::error::{Error, Result};
use crate::ingest::yaml::{to_value, YamlRow};
use spyglass_db::{Cond, FetchSpec, Value};
use spyglass_dsp::{estimate_sampling_rate, ValidRuns};
use spyglass_nwb::Timing;
use std::collections::HashMap;

pub(super) fn electrode_group(cx: &mut Ctx) -> Result<()> {
    let probe_types: HashMap<&str, &str> = cx
        .src
        .probes
        .iter()
        .map(|p| (p.name.as_str(), p.probe_type.as_str()))
        .collect();
    // Spyglass adds regions as it meets the groups in pynwb's `nwbfile.objects`,
    // which lists them in reverse of the file's (name) order: ids follow that order
    for g in cx.src.electrode_groups.iter().rev() {
        if let Some(l) = g.location.as_deref().filter(|l| !l.trim().is_empty()) {
            cx.region(l)?;
        }
    }
    let mut recs = vec![];
    let mut unlinked = vec![];
    for g in &cx.src.electrode_groups {
        let location = g
            .location
            .clone()
            .filter(|l| !l.trim().is_empty())
            .ok_or_else(|| Error::BadFile {
                path: cx.src.path.clone(),
                message: format!(
                    "electrode group `{}` has no location (brain region)",
                    g.name
                ),
            })?;
        let probe_id = g
            .device
            .as_deref()
            .and_then(|d| probe_types.get(d))
            .map(|s| s.to_string());
        if probe_id.is_none() {
            unlinked.push(g.name.clone());
        }
        let hemisphere = match g.targeted_x {
            Some(x) if x >= 0.0 => "Right",
            Some(_) => "Left",
            None => "Unknown",
        };
        let mut r = cx.base();
        r.insert("electrode_group_name".into(), Value::from(g.name.as_str()));
        r.insert("region_id".into(), Value::from(cx.region(&location)?));
        r.insert("probe_id".into(), Value::from(probe_id));
        r.insert(
            "description".into(),
            Value::from(g.description.clone().unwrap_or_default()),
        );
        r.insert("target_hemisphere".into(), Value::from(hemisphere));
        recs.push(r);
    }
    let cfg_rows: Vec<YamlRow> = cx.cfg.rows("ElectrodeGroup").to_vec();
    for c in &cfg_rows {
        let c = yaml_rec(c);
        let name = c.get("electrode_group_name").and_then(text);
        let Some(r) = recs
            .iter_mut()
            .find(|r| r.get("electrode_group_name").and_then(text) == name)
        else {
            return Err(cx.cfg.0.error(format!(
                "ElectrodeGroup `{}` is not an electrode group of the file",
                name.unwrap_or_default()
            )));
        };
        for (k, v) in c {
            r.insert(k, v);
        }
    }
    for r in &recs {
        let name = r
            .get("electrode_group_name")
            .and_then(text)
            .unwrap_or_default();
        let probe = r.get("probe_id").and_then(text);
        if probe.is_some() {
            unlinked.retain(|u| u != &name);
        }
        cx.group_probe.insert(name, probe);
    }
    if !unlinked.is_empty() && !recs.is_empty() {
        cx.warn(
            ephys::ELECTRODE_GROUP,
            format!(
                "group(s) {unlinked:?} have no ndx-franklab-novela Probe device: probe_id is NULL"
            ),
        );
    }
    if recs.is_empty() {
        cx.warn(ephys::ELECTRODE_GROUP, "the file has no electrode groups");
    }
    cx.put(ephys::ELECTRODE_GROUP, recs, Mode::Fresh)?;
    Ok(())
}

/// Sampling rate and valid times of the raw series, as Spyglass's Raw computes them;
/// stored timestamps are read from `file` in blocks (bounded memory: a 2.5 h
/// recording at 30 kHz has 2 GB of them).
pub fn raw_timing(
    series: &spyglass_nwb::TimeSeries,
    file: &std::path::Path,
) -> Result<(f64, Vec<[f64; 2]>)> {
    match &series.timing {
        Timing::Rate {
            rate,
            starting_time,
        } => {
            let n = series.num_samples() as f64;
            // Spyglass starts rate-based valid times at 0; we start them at starting_time.
            Ok((*rate, vec![[*starting_time, starting_time + n / rate]]))
        }
        Timing::Timestamps { .. } if series.num_samples() > 0 => {
            const BLOCK: usize = 1 << 20;
            let nwb = spyglass_nwb::NwbFile::open(file)?;
            let path = format!("{}/timestamps", series.path);
            let n = series.num_samples();
            let block = |r: std::ops::Range<usize>| -> Result<Vec<f64>> {
                nwb.read_data_rows(&path, r)?
                    .values
                    .to_f64()
                    .ok_or_else(|| {
                        Error::bad(
                            format!("{}: {path}", file.display()),
                            "timestamps are not numeric",
                        )
                    })
            };
            let head = block(0..n.min(BLOCK))?;
            let rate = estimate_sampling_rate(&head, 1.5)?;
            let mut runs = ValidRuns::new(rate, RAW_GAP_PROPORTION)?;
            runs.push(&head)?;
            for a in (head.len()..n).step_by(BLOCK) {
                runs.push(&block(a..n.min(a + BLOCK))?)?;
            }
            Ok((rate, runs.finish(0.0)?.into_vec()))
        }
        _ => Err(Error::bad(
            format!("raw series `{}`", series.path),
            "has neither a rate nor timestamps",
        )),
    }
}

pub(super) fn raw(cx: &mut Ctx) -> Result<()> {
    let Some(raw) = &cx.src.raw else {
        let msg = if cx.src.ephys.is_empty() {
            "the file has no ElectricalSeries: no Raw row and no raw data valid times".to_string()
        } else {
            "no ElectricalSeries in acquisition above 2.5 kHz to take as raw data (choose one with `Raw: [{raw_object_id: NAME}]` in the config): no Raw row".to_string()
        };
        cx.warn(ephys::RAW, msg);
        return Ok(());
    };
    let (rate, valid) = raw_timing(&raw.series, &cx.src.path)?;
    let name = cx.nwb_file_name.clone();
    cx.interval(IntervalList::new(&name, RAW_VALID_TIMES, valid), false)?;
    let mut r = cx.base();
    r.insert("interval_list_name".into(), Value::from(RAW_VALID_TIMES));
    r.insert(
        "raw_object_id".into(),
        Value::from(raw.series.object_id.as_str()),
    );
    r.insert("sampling_rate".into(), Value::from(rate));
    r.insert(
        "comments".into(),
        Value::from(raw.series.comments.clone().unwrap_or_default()),
    );
    r.insert(
        "description".into(),
        Value::from(raw.series.description.clone().unwrap_or_default()),
    );
    if let Some(c) = cx.cfg.rows("Raw").first() {
        for k in ["description", "comments"] {
            if let Some(v) = c.get(k) {
                r.insert(k.into(), to_value(v));
            }
        }
    }
    cx.put(ephys::RAW, vec![r], Mode::Fresh)?;
    cx.raw_interval = Some(RAW_VALID_TIMES.to_string());
    Ok(())
}

pub(super) fn sample_count(cx: &mut Ctx) -> Result<()> {
    if let Some(id) = cx.src.sample_count.clone() {
        let mut r = cx.base();
        r.insert("sample_count_object_id".into(), Value::from(id));
        cx.put(ephys::SAMPLE_COUNT, vec![r], Mode::Fresh)?;
    }
    Ok(())
}

pub(super) fn electrode(cx: &mut Ctx) -> Result<()> {
    let Some(t) = cx.src.electrodes.clone() else {
        cx.warn(ephys::ELECTRODE, "the file has no electrodes table");
        return Ok(());
    };
    let n = t.len();
    let group_names: Vec<String> = if t.column("group_name").is_some() {
        t.text_column("group_name")?
    } else if t.column("group").is_some() {
        t.reference_column("group")?
            .into_iter()
            .map(|p| {
                p.map(|p| p.rsplit('/').next().unwrap_or_default().to_string())
                    .unwrap_or_default()
            })
            .collect()
    } else {
        return Err(Error::BadFile {
            path: cx.src.path.clone(),
            message: "the electrodes table has neither `group_name` nor `group`".into(),
        });
    };
    let f = |name: &str| -> Result<Option<Vec<f64>>> {
        if t.column(name).is_some() {
            Ok(Some(t.f64_column(name)?))
        } else {
            Ok(None)
        }
    };
    let i = |name: &str| -> Result<Option<Vec<i64>>> {
        if t.column(name).is_some() {
            Ok(Some(t.i64_column(name)?))
        } else {
            Ok(None)
        }
    };
    let (x, y, z, imp) = (f("x")?, f("y")?, f("z")?, f("imp")?);
    let filtering = if t.column("filtering").is_some() {
        Some(t.text_column("filtering")?)
    } else {
        None
    };
    let (shank, pel, refe) = (i("probe_shank")?, i("probe_electrode")?, i("ref_elect_id")?);
    let bad = if t.column("bad_channel").is_some() {
        Some(t.bool_column("bad_channel")?)
    } else {
        None
    };
    let locations: HashMap<String, Option<String>> = cx
        .src
        .electrode_groups
        .iter()
        .map(|g| (g.name.clone(), g.location.clone()))
        .collect();
    let at = |v: &Option<Vec<f64>>, k: usize| {
        Value::from(
            v.as_ref()
                .and_then(|v| v.get(k).copied())
                .filter(|x| !x.is_nan()),
        )
    };
    let mut recs = Vec::with_capacity(n);
    for k in 0..n {
        let g = &group_names[k];
        let Some(loc) = locations.get(g) else {
            return Err(Error::BadFile {
                path: cx.src.path.clone(),
                message: format!(
                    "electrode {} names electrode group `{g}`, which the file does not have",
                    t.ids[k]
                ),
            });
        };
        let loc = loc.clone().unwrap_or_default();
        let region = cx.region(&loc)?;
        let probe_id = cx.group_probe.get(g).cloned().flatten();
        let mut r = cx.base();
        r.insert("electrode_group_name".into(), Value::from(g.as_str()));
        r.insert("electrode_id".into(), Value::from(t.ids[k]));
        r.insert("probe_id".into(), Value::from(probe_id));
        r.insert(
            "probe_shank".into(),
            Value::from(shank.as_ref().map(|v| v[k])),
        );
        r.insert(
            "probe_electrode".into(),
            Value::from(pel.as_ref().map(|v| v[k])),
        );
        r.insert("region_id".into(), Value::from(region));
        r.insert("name".into(), Value::from(t.ids[k].to_string()));
        r.insert(
            "original_reference_electrode".into(),
            Value::from(refe.as_ref().map_or(-1, |v| v[k])),
        );
        r.insert("x".into(), at(&x, k));
        r.insert("y".into(), at(&y, k));
        r.insert("z".into(), at(&z, k));
        r.insert(
            "filtering".into(),
            Value::from(
                filtering
                    .as_ref()
                    .map_or_else(|| "unfiltered".to_string(), |v| v[k].clone()),
            ),
        );
        r.insert("impedance".into(), at(&imp, k));
        let b = bad.as_ref().is_some_and(|v| v[k]);
        r.insert(
            "bad_channel".into(),
            Value::from(if b { "True" } else { "False" }),
        );
        r.insert("x_warped".into(), Value::from(0.0));
        r.insert("y_warped".into(), Value::from(0.0));
        r.insert("z_warped".into(), Value::from(0.0));
        r.insert("contacts".into(), Value::from(""));
        recs.push(r);
    }
    // the config's electrode -> probe map
    for (ci, c) in cx.cfg.rows("Electrode").to_vec().iter().enumerate() {
        let c = yaml_rec(c);
        let Some(id) = c.get("electrode_id").and_then(Value::as_i64) else {
            return Err(cx
                .cfg
                .0
                .error(format!("`Electrode` row {ci}: `electrode_id` is required")));
        };
        let Some(r) = recs
            .iter_mut()
            .find(|r| r.get("electrode_id").and_then(Value::as_i64) == Some(id))
        else {
            cx.warn(
                ephys::ELECTRODE,
                format!("config Electrode {id} is not in the electrodes table; ignored"),
            );
            continue;
        };
        let fk: Vec<(String, Value)> = ["probe_id", "probe_shank", "probe_electrode"]
            .iter()
            .filter_map(|k| c.get(*k).map(|v| (k.to_string(), v.clone())))
            .collect();
        if !fk.is_empty() {
            let q = cx
                .db
                .table(dev::PROBE_ELECTRODE)?
                .restrict(Cond::Map(fk.clone()))?;
            if !cx.db.exists(&q)? {
                cx.warn(
                    ephys::ELECTRODE,
                    format!("config Electrode {id}: no Probe.Electrode matches {fk:?}; its config entry is ignored"),
                );
                continue;
            }
        }
        for (k, v) in c {
            let v = match (k.as_str(), &v) {
                ("bad_channel", Value::Bool(b)) => Value::from(if *b { "True" } else { "False" }),
                _ => v,
            };
            r.insert(k, v);
        }
    }
    cx.put(ephys::ELECTRODE, recs, Mode::Fresh)?;
    Ok(())
}

/// Electrode group of each electrode id of the session (from Electrode).
pub(super) fn electrode_groups_by_id(cx: &Ctx) -> Result<HashMap<i64, String>> {
    let q = cx
        .db
        .table(ephys::ELECTRODE)?
        .restrict(Cond::map([("nwb_file_name", cx.nwb_file_name.as_str())]))?;
    Ok(cx
        .db
        .fetch_with(
            &q,
            &FetchSpec::attrs(&["electrode_id", "electrode_group_name"]),
        )?
        .iter()
        .filter_map(|r| {
            Some((
                r.get("electrode_id").and_then(Value::as_i64)?,
                r.get("electrode_group_name").and_then(text)?,
            ))
        })
        .collect())
}
