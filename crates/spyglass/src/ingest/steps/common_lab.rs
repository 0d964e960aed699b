//! Ingest steps of `common_lab`: the institution, the lab, the experimenters as lab
//! members and each experimenter's personal team (G1).

use super::{cfg_value, merge_config, rec, text, Ctx, Mode, Rec};
use crate::common::common_lab::{self as lab, decompose_name};
use crate::error::Result;
use spyglass_db::Value;

pub(super) fn institution(cx: &mut Ctx) -> Result<()> {
    let name = cfg_value(cx.cfg, "Institution", "institution_name")
        .and_then(|v| text(&v))
        .or_else(|| cx.src.meta.institution.clone())
        .filter(|s| !s.trim().is_empty());
    if let Some(n) = &name {
        cx.put(
            lab::INSTITUTION,
            vec![rec([("institution_name", Value::from(n.as_str()))])],
            Mode::Shared,
        )?;
    } else {
        cx.warn(
            lab::INSTITUTION,
            "the file names no institution; Session.institution_name is NULL",
        );
    }
    cx.institution = name;
    Ok(())
}

pub(super) fn lab_row(cx: &mut Ctx) -> Result<()> {
    let name = cfg_value(cx.cfg, "Lab", "lab_name")
        .and_then(|v| text(&v))
        .or_else(|| cx.src.meta.lab.clone())
        .filter(|s| !s.trim().is_empty());
    if let Some(n) = &name {
        cx.put(
            lab::LAB,
            vec![rec([("lab_name", Value::from(n.as_str()))])],
            Mode::Shared,
        )?;
    } else {
        cx.warn(lab::LAB, "the file names no lab; Session.lab_name is NULL");
    }
    cx.lab = name;
    Ok(())
}

pub(super) fn experimenters(cx: &Ctx) -> Result<Vec<(String, String, String)>> {
    cx.src
        .meta
        .experimenter
        .iter()
        .map(|e| decompose_name(e))
        .collect()
}

pub(super) fn lab_member(cx: &mut Ctx) -> Result<()> {
    let mut recs: Vec<Rec> = experimenters(cx)?
        .into_iter()
        .map(|(full, first, last)| {
            rec([
                ("lab_member_name", Value::from(full)),
                ("first_name", Value::from(first)),
                ("last_name", Value::from(last)),
            ])
        })
        .collect();
    if recs.is_empty() {
        cx.warn(lab::LAB_MEMBER, "the file names no experimenter");
    }
    merge_config(&mut recs, cx.cfg.rows("LabMember"), &["lab_member_name"]);
    cx.put(lab::LAB_MEMBER, recs, Mode::Shared)?;
    Ok(())
}

pub(super) fn lab_team(cx: &mut Ctx) -> Result<()> {
    let people = experimenters(cx)?;
    let teams: Vec<Rec> = people
        .iter()
        .map(|(full, _, _)| {
            rec([
                ("team_name", Value::from(full.as_str())),
                ("team_description", Value::from("personal team")),
            ])
        })
        .collect();
    let members: Vec<Rec> = people
        .iter()
        .map(|(full, _, _)| {
            rec([
                ("team_name", Value::from(full.as_str())),
                ("lab_member_name", Value::from(full.as_str())),
            ])
        })
        .collect();
    cx.put(lab::LAB_TEAM, teams, Mode::Shared)?;
    cx.put(lab::LAB_TEAM_MEMBER, members, Mode::SkipExisting)?;
    Ok(())
}
