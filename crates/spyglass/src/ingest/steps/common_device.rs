//! Ingest steps of `common_device`: cameras, probe types and data acquisition
//! devices (G1), then probes with their shanks and electrodes (G2); all shared rows.

use super::{int_name, merge_config, opt, rec, text, Ctx, Mode, Rec};
use crate::common::common_device as dev;
use crate::error::Result;
use crate::ingest::yaml::YamlRow;
use spyglass_db::Value;

pub(super) fn camera_device(cx: &mut Ctx) -> Result<()> {
    let mut recs = vec![];
    let mut warn = vec![];
    for c in &cx.src.cameras {
        let id = c.camera_id().unwrap_or_else(|| {
            warn.push(format!("camera `{}` has no integer id in its name (`camera_device <int>`); camera_id is -1", c.name));
            -1
        });
        recs.push(rec([
            ("camera_name", Value::from(c.camera_name.as_str())),
            ("meters_per_pixel", Value::from(c.meters_per_pixel)),
            (
                "manufacturer",
                Value::from(c.manufacturer.clone().unwrap_or_default()),
            ),
            ("model", Value::from(c.model.clone().unwrap_or_default())),
            ("lens", Value::from(c.lens.as_str())),
            ("camera_id", Value::from(id)),
        ]));
    }
    for w in warn {
        cx.warn(dev::CAMERA_DEVICE, w);
    }
    merge_config(&mut recs, cx.cfg.rows("CameraDevice"), &["camera_name"]);
    cx.put(dev::CAMERA_DEVICE, recs, Mode::Shared)?;
    Ok(())
}

pub(super) fn probe_type(cx: &mut Ctx) -> Result<()> {
    let mut recs: Vec<Rec> = cx
        .src
        .probes
        .iter()
        .map(|p| {
            rec([
                ("probe_type", Value::from(p.probe_type.as_str())),
                (
                    "probe_description",
                    Value::from(p.probe_description.as_str()),
                ),
                (
                    "manufacturer",
                    Value::from(p.manufacturer.clone().unwrap_or_default()),
                ),
                ("num_shanks", Value::from(p.shanks.len())),
            ])
        })
        .collect();
    if recs.is_empty() && cx.cfg.rows("ProbeType").is_empty() && cx.cfg.rows("Probe").is_empty() {
        cx.warn(
            dev::PROBE_TYPE,
            "no probe metadata (ndx-franklab-novela Probe): electrode groups and electrodes are not linked to probes",
        );
    }
    merge_config(&mut recs, cx.cfg.rows("ProbeType"), &["probe_type"]);
    cx.put(dev::PROBE_TYPE, recs, Mode::Shared)?;
    Ok(())
}

/// Spyglass's spelling fixes: system `MCU` is SpikeGadgets, amplifier `intan` is Intan.
pub(super) fn norm_system(s: &str) -> String {
    if s == "MCU" {
        "SpikeGadgets".into()
    } else {
        s.to_string()
    }
}

pub(super) fn norm_amplifier(s: &str) -> String {
    if s.eq_ignore_ascii_case("intan") {
        "Intan".into()
    } else {
        s.to_string()
    }
}

pub(super) fn daq_recs(cx: &Ctx) -> Vec<Rec> {
    let mut recs: Vec<Rec> = cx
        .src
        .data_acq_devices
        .iter()
        .map(|d| {
            rec([
                ("data_acquisition_device_name", Value::from(d.name.as_str())),
                (
                    "data_acquisition_device_system",
                    Value::from(norm_system(&d.system)),
                ),
                (
                    "data_acquisition_device_amplifier",
                    Value::from(d.amplifier.as_deref().map(norm_amplifier)),
                ),
                ("adc_circuit", opt(&d.adc_circuit)),
            ])
        })
        .collect();
    // config rows that only name a device link it; the others define or override it
    let defining: Vec<YamlRow> = cx
        .cfg
        .rows("DataAcquisitionDevice")
        .iter()
        .filter(|r| r.len() > 1)
        .cloned()
        .collect();
    merge_config(&mut recs, &defining, &["data_acquisition_device_name"]);
    recs
}

pub(super) fn daq_amplifier(cx: &mut Ctx) -> Result<()> {
    let recs: Vec<Rec> = daq_recs(cx)
        .iter()
        .filter_map(|r| r.get("data_acquisition_device_amplifier").and_then(text))
        .map(|a| rec([("data_acquisition_device_amplifier", Value::from(a))]))
        .collect();
    cx.put(dev::DAQ_AMPLIFIER, recs, Mode::SkipExisting)?;
    Ok(())
}

pub(super) fn daq_system(cx: &mut Ctx) -> Result<()> {
    let recs: Vec<Rec> = daq_recs(cx)
        .iter()
        .filter_map(|r| r.get("data_acquisition_device_system").and_then(text))
        .map(|a| rec([("data_acquisition_device_system", Value::from(a))]))
        .collect();
    cx.put(dev::DAQ_SYSTEM, recs, Mode::SkipExisting)?;
    Ok(())
}

pub(super) fn daq_device(cx: &mut Ctx) -> Result<()> {
    let recs = daq_recs(cx);
    cx.put(dev::DAQ_DEVICE, recs, Mode::Shared)?;
    Ok(())
}

pub(super) fn probe(cx: &mut Ctx) -> Result<()> {
    let mut recs: Vec<Rec> = cx
        .src
        .probes
        .iter()
        .map(|p| {
            let side = if p.contact_side_numbering.unwrap_or(false) {
                "True"
            } else {
                "False"
            };
            rec([
                ("probe_id", Value::from(p.probe_type.as_str())),
                ("probe_type", Value::from(p.probe_type.as_str())),
                ("contact_side_numbering", Value::from(side)),
            ])
        })
        .collect();
    merge_config(&mut recs, cx.cfg.rows("Probe"), &["probe_id"]);
    for r in &mut recs {
        if let Some(Value::Bool(b)) = r.get("contact_side_numbering") {
            let s = if *b { "True" } else { "False" };
            r.insert("contact_side_numbering".into(), Value::from(s));
        }
    }
    cx.put(dev::PROBE, recs, Mode::Shared)?;
    Ok(())
}

pub(super) fn probe_shank(cx: &mut Ctx) -> Result<()> {
    let mut recs = vec![];
    for p in &cx.src.probes {
        for s in &p.shanks {
            recs.push(rec([
                ("probe_id", Value::from(p.probe_type.as_str())),
                (
                    "probe_shank",
                    Value::from(int_name(dev::PROBE_SHANK, "shank", &s.name)?),
                ),
            ]));
        }
    }
    merge_config(
        &mut recs,
        cx.cfg.rows("Probe.Shank"),
        &["probe_id", "probe_shank"],
    );
    cx.put(dev::PROBE_SHANK, recs, Mode::Shared)?;
    Ok(())
}

pub(super) fn probe_electrode(cx: &mut Ctx) -> Result<()> {
    let mut recs = vec![];
    for p in &cx.src.probes {
        for s in &p.shanks {
            let shank = int_name(dev::PROBE_SHANK, "shank", &s.name)?;
            for e in &s.electrodes {
                recs.push(rec([
                    ("probe_id", Value::from(p.probe_type.as_str())),
                    ("probe_shank", Value::from(shank)),
                    (
                        "probe_electrode",
                        Value::from(int_name(dev::PROBE_ELECTRODE, "shanks electrode", &e.name)?),
                    ),
                    ("contact_size", Value::from(p.contact_size)),
                    ("rel_x", Value::from(e.rel_x)),
                    ("rel_y", Value::from(e.rel_y)),
                    ("rel_z", Value::from(e.rel_z)),
                ]));
            }
        }
    }
    merge_config(
        &mut recs,
        cx.cfg.rows("Probe.Electrode"),
        &["probe_id", "probe_shank", "probe_electrode"],
    );
    cx.put(dev::PROBE_ELECTRODE, recs, Mode::Shared)?;
    Ok(())
}
