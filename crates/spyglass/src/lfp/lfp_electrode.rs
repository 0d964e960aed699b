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
