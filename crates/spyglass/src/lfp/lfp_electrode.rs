//! `lfp_electrode`: named groups of a session's electrodes to compute LFP from
//! (`LFPElectrodeGroup` with its `LFPElectrode` part), as Spyglass defines them.

use crate::common::common_ephys::ELECTRODE;
use crate::error::{Error, Result};
use spyglass_db::{Cond, Db, FetchSpec, InsertOptions, Row, TableSpec, Tier, Value};

/// Schema name.
pub const SCHEMA: &str = "lfp_electrode";
/// `LFPElectrodeGroup` (Manual).
pub const LFP_ELECTRODE_GROUP: &str = "lfp_electrode.LFPElectrodeGroup";
/// `LFPElectrodeGroup.LFPElectrode` (Part).
pub const LFP_ELECTRODE: &str = "lfp_electrode.LFPElectrodeGroup.LFPElectrode";

/// The tables of this schema.
pub fn specs() -> Vec<TableSpec> {
    vec![TableSpec::new(
        "LFPElectrodeGroup",
        Tier::Manual,
        "# a named group of electrodes of a session to compute LFP from
-> common_session.Session
lfp_electrode_group_name : varchar(200)  # name of this group of electrodes
",
    )
    .part(
        "LFPElectrode",
        "# an electrode of the group
-> master
-> common_ephys.Electrode",
    )]
}

/// Creates (or extends) group `name` of a session with the given electrode ids;
/// every id must be an `Electrode` of the session.
pub fn create_group(db: &Db, nwb_file_name: &str, name: &str, electrode_ids: &[i64]) -> Result<()> {
    super::declare(db)?;
    let electrodes = db.fetch_with(
        &db.table(ELECTRODE)?
            .restrict(Cond::map([("nwb_file_name", nwb_file_name)]))?,
        &FetchSpec::attrs(&["nwb_file_name", "electrode_group_name", "electrode_id"]),
    )?;
    let mut parts = Vec::with_capacity(electrode_ids.len());
    for id in electrode_ids {
        let e = electrodes
            .iter()
            .find(|r| r.get("electrode_id").and_then(Value::as_i64) == Some(*id))
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "{LFP_ELECTRODE_GROUP} `{name}`: session {nwb_file_name} has no electrode {id}"
                ))
            })?;
        parts.push(Row::from_pairs([
            ("nwb_file_name", Value::from(nwb_file_name)),
            ("lfp_electrode_group_name", Value::from(name)),
            (
                "electrode_group_name",
                e.get("electrode_group_name")
                    .cloned()
                    .unwrap_or(Value::Null),
            ),
            ("electrode_id", Value::from(*id)),
        ]));
    }
    let skip = InsertOptions {
        skip_duplicates: true,
        ..Default::default()
    };
    crate::transaction(db, || {
        db.insert1(
            LFP_ELECTRODE_GROUP,
            Row::from_pairs([
                ("nwb_file_name", Value::from(nwb_file_name)),
                ("lfp_electrode_group_name", Value::from(name)),
            ]),
            skip,
        )?;
        db.insert(LFP_ELECTRODE, &parts, skip)?;
        Ok(())
    })
}

/// Electrode ids of a group, ascending.
pub fn electrode_ids(db: &Db, nwb_file_name: &str, name: &str) -> Result<Vec<i64>> {
    let q = db.table(LFP_ELECTRODE)?.restrict(Cond::map([
        ("nwb_file_name", nwb_file_name),
        ("lfp_electrode_group_name", name),
    ]))?;
    let mut ids: Vec<i64> = db
        .fetch_with(&q, &FetchSpec::attrs(&["electrode_id"]))?
        .iter()
        .filter_map(|r| r.get("electrode_id").and_then(Value::as_i64))
        .collect();
    ids.sort_unstable();
    Ok(ids)
}

/// Which electrodes of a session make a group.
#[derive(Debug, Clone, PartialEq)]
pub enum ElectrodeChoice {
    /// These electrode ids.
    Ids(Vec<i64>),
    /// Every electrode of these electrode groups.
    Groups(Vec<String>),
    /// Every electrode in these brain regions (BrainRegion.region_name).
    Regions(Vec<String>),
    /// Every electrode of the session.
    All,
}

/// The electrode ids a choice names for a session, ascending; a group, region or id
/// the session lacks is an error naming it and what the session has.
pub fn choose_electrodes(
    db: &Db,
    nwb_file_name: &str,
    choice: &ElectrodeChoice,
) -> Result<Vec<i64>> {
    use crate::common::common_region::BRAIN_REGION;
    let rows = db.fetch_with(
        &db.table(ELECTRODE)?
            .restrict(Cond::map([("nwb_file_name", nwb_file_name)]))?,
        &FetchSpec::attrs(&["electrode_id", "electrode_group_name", "region_id"]),
    )?;
    if rows.is_empty() {
        return Err(Error::Invalid(format!(
            "session {nwb_file_name} has no electrodes (is it ingested? `spyglass show common_session.Session`)"
        )));
    }
    let id = |r: &Row| r.get("electrode_id").and_then(Value::as_i64);
    let text = |r: &Row, k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
    let mut ids: Vec<i64> = match choice {
        ElectrodeChoice::All => rows.iter().filter_map(id).collect(),
        ElectrodeChoice::Ids(want) => {
            let have: Vec<i64> = rows.iter().filter_map(id).collect();
            if let Some(bad) = want.iter().find(|w| !have.contains(w)) {
                return Err(Error::Invalid(format!(
                    "session {nwb_file_name} has no electrode {bad}"
                )));
            }
            want.clone()
        }
        ElectrodeChoice::Groups(groups) => {
            let mut out = vec![];
            for g in groups {
                let got: Vec<i64> = rows
                    .iter()
                    .filter(|r| text(r, "electrode_group_name").as_deref() == Some(g))
                    .filter_map(id)
                    .collect();
                if got.is_empty() {
                    let mut names: Vec<String> = rows
                        .iter()
                        .filter_map(|r| text(r, "electrode_group_name"))
                        .collect();
                    names.sort();
                    names.dedup();
                    return Err(Error::Invalid(format!(
                        "session {nwb_file_name} has no electrode group `{g}` (it has: {})",
                        names.join(", ")
                    )));
                }
                out.extend(got);
            }
            out
        }
        ElectrodeChoice::Regions(regions) => {
            let names: std::collections::HashMap<i64, String> = db
                .fetch_with(
                    &db.table(BRAIN_REGION)?,
                    &FetchSpec::attrs(&["region_id", "region_name"]),
                )?
                .iter()
                .filter_map(|r| Some((r.get("region_id")?.as_i64()?, text(r, "region_name")?)))
                .collect();
            let mut out = vec![];
            for want in regions {
                let got: Vec<i64> = rows
                    .iter()
                    .filter(|r| {
                        r.get("region_id")
                            .and_then(Value::as_i64)
                            .and_then(|i| names.get(&i))
                            == Some(want)
                    })
                    .filter_map(id)
                    .collect();
                if got.is_empty() {
                    let mut have: Vec<String> = rows
                        .iter()
                        .filter_map(|r| r.get("region_id").and_then(Value::as_i64))
                        .filter_map(|i| names.get(&i).cloned())
                        .collect();
                    have.sort();
                    have.dedup();
                    return Err(Error::Invalid(format!(
                        "session {nwb_file_name} has no electrodes in region `{want}` (its regions: {})",
                        have.join(", ")
                    )));
                }
                out.extend(got);
            }
            out
        }
    };
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}
