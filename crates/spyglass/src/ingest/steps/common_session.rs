//! Ingest step of `common_session`: the Session row, its experimenters and its data
//! acquisition devices (G2).

use super::common_lab::experimenters;
use super::{opt, text, yaml_rec, Ctx, Mode, Rec};
use crate::common::common_device as dev;
use crate::common::common_session as sess;
use crate::error::Result;
use spyglass_db::{Cond, Value};

pub(super) fn session(cx: &mut Ctx) -> Result<()> {
    let m = &cx.src.meta;
    let mut r = cx.base();
    r.insert("subject_id".into(), opt(&cx.subject_id));
    r.insert("institution_name".into(), opt(&cx.institution));
    r.insert("lab_name".into(), opt(&cx.lab));
    r.insert("session_id".into(), opt(&m.session_id));
    r.insert(
        "session_description".into(),
        Value::from(m.session_description.as_str()),
    );
    if !cx.src.unused.is_empty() {
        let list: Vec<String> = cx
            .src
            .unused
            .iter()
            .map(|(p, t)| {
                if t.is_empty() {
                    p.clone()
                } else {
                    format!("{p} ({t})")
                }
            })
            .collect();
        cx.warnings.push(format!(
            "ingest: the file holds objects no table records, left in the file: {}",
            list.join(", ")
        ));
    }
    r.insert(
        "session_start_time".into(),
        Value::DateTime(m.session_start_time.naive_local()),
    );
    r.insert(
        "timestamps_reference_time".into(),
        Value::DateTime(m.timestamps_reference_time.naive_local()),
    );
    r.insert(
        "experiment_description".into(),
        opt(&m.experiment_description),
    );
    if let Some(c) = cx.cfg.rows("Session").first() {
        for (k, v) in yaml_rec(c) {
            r.insert(k, v);
        }
    }
    let empty = r
        .get("session_description")
        .and_then(text)
        .is_none_or(|d| d.trim().is_empty());
    if empty {
        cx.warnings.push(format!(
            "{}: the session description is empty; set `/session_description` in the file or `Session: [{{session_description: ...}}]` in the config",
            sess::SESSION
        ));
    }
    cx.put(sess::SESSION, vec![r], Mode::Fresh)?;

    let exps: Vec<Rec> = experimenters(cx)?
        .into_iter()
        .map(|(full, _, _)| {
            let mut r = cx.base();
            r.insert("lab_member_name".into(), Value::from(full));
            r
        })
        .collect();
    cx.put(sess::SESSION_EXPERIMENTER, exps, Mode::SkipExisting)?;

    let mut names: Vec<String> = cx
        .src
        .data_acq_devices
        .iter()
        .map(|d| d.name.clone())
        .collect();
    for r in cx.cfg.rows("DataAcquisitionDevice") {
        if let Some(n) = r
            .get("data_acquisition_device_name")
            .and_then(|v| v.as_str())
        {
            if !names.iter().any(|x| x == n) {
                names.push(n.to_string());
            }
        }
    }
    let mut links = vec![];
    for n in names {
        let q = cx
            .db
            .table(dev::DAQ_DEVICE)?
            .restrict(Cond::map([("data_acquisition_device_name", n.as_str())]))?;
        if !cx.db.exists(&q)? {
            return Err(cx.cfg.0.error(format!(
                "DataAcquisitionDevice `{n}` is linked to the session but is neither in the file nor in {}: define it (system, amplifier, ...) in the config or entries.yaml",
                dev::DAQ_DEVICE
            )));
        }
        let mut r = cx.base();
        r.insert("data_acquisition_device_name".into(), Value::from(n));
        links.push(r);
    }
    cx.put(sess::SESSION_DAQ, links, Mode::SkipExisting)?;
    Ok(())
}
