//! `lfp_electrode`: named groups of a session's electrodes to compute LFP from
//! (`LFPElectrodeGroup` with its `LFPElectrode` part), as Spyglass defines them.

use crate::common::common_ephys::ELECTRODE;
use crate::error::{Error, Result};
use crate::kit::{args, identity, provides, Pipeline, Session, Spyglass, Tables};
use serde::{Deserialize, Serialize};
use spyglass_db::{Cond, Db, FetchSpec, Row, TableSpec, Tier, Value};

/// Schema name.
pub const SCHEMA: &str = "lfp_electrode";
/// `LFPElectrodeGroup` (Manual).
pub const LFP_ELECTRODE_GROUP: &str = "lfp_electrode.LFPElectrodeGroup";
/// `LFPElectrodeGroup.LFPElectrode` (Part).
pub const LFP_ELECTRODE: &str = "lfp_electrode.LFPElectrodeGroup.LFPElectrode";

/// The key of an LFP electrode group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupKey {
    /// The session.
    pub nwb_file_name: String,
    /// The group's name.
    pub lfp_electrode_group_name: String,
}

/// An LFPElectrode row: a group's electrode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupElectrode {
    /// The group.
    #[serde(flatten)]
    pub group: GroupKey,
    /// The electrode's group in the NWB file.
    pub electrode_group_name: String,
    /// The electrode.
    pub electrode_id: i64,
}

/// The `lfp_electrode` pipeline.
pub struct LfpElectrode;

impl Pipeline for LfpElectrode {
    identity!(SCHEMA, family "lfp");
    provides! {
        commands: Command;
    }
    fn tables(&self) -> Vec<TableSpec> {
        let group = "# a named group of electrodes of a session to compute LFP from
-> common_session.Session
lfp_electrode_group_name : varchar(200)  # name of this group of electrodes
";
        let electrode = "# an electrode of the group
-> master
-> common_ephys.Electrode";
        vec![TableSpec::new("LFPElectrodeGroup", Tier::Manual, group)
            .part("LFPElectrode", electrode)]
    }
    fn run(&self, sg: &Spyglass, _name: &str, m: &clap::ArgMatches) -> Result<()> {
        let Command::Group(GroupCommand::Add {
            file,
            name,
            electrodes,
            electrode_group,
            region,
            all,
        }) = args::parse(m)?;
        let nwb = args::session_name(sg, &file)?;
        let choice = match (
            electrodes,
            electrode_group.is_empty(),
            region.is_empty(),
            all,
        ) {
            (Some(ids), true, true, false) => ElectrodeChoice::Ids(args::parse_ids(&ids)?),
            (None, false, true, false) => ElectrodeChoice::Groups(electrode_group),
            (None, true, false, false) => ElectrodeChoice::Regions(region),
            (None, true, true, true) => ElectrodeChoice::All,
            _ => {
                return Err(Error::bad(
                    "electrodes",
                    "name them with one of --electrodes, --electrode-group, --region or --all",
                ))
            }
        };
        let ids = choose_electrodes(sg, &nwb, &choice)?;
        create_group(sg, &nwb, &name, &ids)?;
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        println!(
            "LFP electrode group `{name}` of {nwb}: {} electrodes ({})",
            ids.len(),
            list.join(", ")
        );
        Ok(())
    }
}

/// A session's LFP electrode group, as commands name it (two positionals).
#[derive(clap::Args)]
pub struct GroupArg {
    /// The session.
    #[command(flatten)]
    pub session: args::SessionArg,
    /// The LFP electrode group.
    pub group: String,
}

/// `spyglass lfp group …`.
#[derive(clap::Subcommand)]
enum Command {
    /// LFP electrode groups (LFPElectrodeGroup).
    #[command(subcommand)]
    Group(GroupCommand),
}

#[derive(clap::Subcommand)]
enum GroupCommand {
    /// Make an LFP electrode group of a session's electrodes.
    Add {
        /// The session (`rat1_.nwb`, or the raw file name `rat1.nwb`).
        file: String,
        /// Name of the new group.
        name: String,
        /// Electrode ids: `0,1,2` or ranges `0-15,32`.
        #[arg(long, value_name = "IDS", conflicts_with_all = ["electrode_group", "region", "all"])]
        electrodes: Option<String>,
        /// Every electrode of these electrode groups (repeatable).
        #[arg(long = "electrode-group", value_name = "G", conflicts_with_all = ["region", "all"])]
        electrode_group: Vec<String>,
        /// Every electrode in these brain regions (repeatable).
        #[arg(long, value_name = "R", conflicts_with = "all")]
        region: Vec<String>,
        /// Every electrode of the session.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Deserialize)]
struct SessionElectrode {
    electrode_group_name: String,
    electrode_id: i64,
}

/// Creates (or extends) group `name` of a session with the given electrode ids;
/// every id must be an `Electrode` of the session.
pub fn create_group(db: &Db, nwb_file_name: &str, name: &str, electrode_ids: &[i64]) -> Result<()> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    let session = Session { nwb_file_name };
    let electrodes: Vec<SessionElectrode> = db.rows(ELECTRODE, &session)?;
    let group = GroupKey {
        nwb_file_name: nwb_file_name.to_string(),
        lfp_electrode_group_name: name.to_string(),
    };
    let mut parts = Vec::with_capacity(electrode_ids.len());
    for &id in electrode_ids {
        let e = electrodes
            .iter()
            .find(|e| e.electrode_id == id)
            .ok_or_else(|| {
                Error::bad(
                    format!("{LFP_ELECTRODE_GROUP} `{name}`"),
                    format!("session {nwb_file_name} has no electrode {id}"),
                )
            })?;
        parts.push(GroupElectrode {
            group: group.clone(),
            electrode_group_name: e.electrode_group_name.clone(),
            electrode_id: id,
        });
    }
    db.put_new_with_parts((LFP_ELECTRODE_GROUP, &group), (LFP_ELECTRODE, &parts))
}

/// The electrodes of a group (LFPElectrode rows).
pub fn members(db: &Db, nwb_file_name: &str, name: &str) -> Result<Vec<GroupElectrode>> {
    let key = GroupKey {
        nwb_file_name: nwb_file_name.to_string(),
        lfp_electrode_group_name: name.to_string(),
    };
    db.rows(LFP_ELECTRODE, &key)
}

/// The members of a group with electrode ids `ids`, in that order; an error naming
/// the first id that is not in the group.
pub fn members_by_id(
    db: &Db,
    nwb_file_name: &str,
    name: &str,
    ids: &[i64],
) -> Result<Vec<GroupElectrode>> {
    let members = members(db, nwb_file_name, name)?;
    ids.iter()
        .map(|&id| {
            members
                .iter()
                .find(|m| m.electrode_id == id)
                .cloned()
                .ok_or_else(|| {
                    let key = format!(
                        "electrode {id} in LFP electrode group `{name}` of {nwb_file_name}"
                    );
                    Error::missing(LFP_ELECTRODE, key)
                })
        })
        .collect()
}

/// Electrode ids of a group, ascending.
pub fn electrode_ids(db: &Db, nwb_file_name: &str, name: &str) -> Result<Vec<i64>> {
    let mut ids: Vec<i64> = members(db, nwb_file_name, name)?
        .into_iter()
        .map(|e| e.electrode_id)
        .collect();
    ids.sort_unstable();
    Ok(ids)
}

/// The rate (rounded, Hz) of the raw series a group's electrodes are recorded in.
pub fn raw_rate(db: &Db, nwb_file_name: &str, group: &str) -> Result<u32> {
    let ids = electrode_ids(db, nwb_file_name, group)?;
    if ids.is_empty() {
        let key = format!("nwb_file_name={nwb_file_name}, lfp_electrode_group_name={group}");
        return Err(Error::missing(LFP_ELECTRODE, key));
    }
    let series = crate::common::ephys_series::series_for_electrodes(db, nwb_file_name, &ids)?;
    Ok(series.rate.round() as u32)
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
        return Err(Error::MissingRow {
            table: ELECTRODE.into(),
            key: format!("nwb_file_name = `{nwb_file_name}`"),
            hint: " (is the session ingested? `spyglass show common_session.Session`)".into(),
        });
    }
    let id = |r: &Row| r.get("electrode_id").and_then(Value::as_i64);
    let text = |r: &Row, k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
    let mut ids: Vec<i64> = match choice {
        ElectrodeChoice::All => rows.iter().filter_map(id).collect(),
        ElectrodeChoice::Ids(want) => {
            let have: Vec<i64> = rows.iter().filter_map(id).collect();
            if let Some(bad) = want.iter().find(|w| !have.contains(w)) {
                return Err(Error::bad(
                    "electrodes",
                    format!("session {nwb_file_name} has no electrode {bad}"),
                ));
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
                    return Err(Error::bad(
                        "electrode group",
                        format!(
                            "session {nwb_file_name} has no electrode group `{g}` (it has: {})",
                            names.join(", ")
                        ),
                    ));
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
                    return Err(Error::bad("region", format!(
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
