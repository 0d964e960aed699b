//! `spikesorting_v1_recording`: which electrodes are sorted together and the
//! referenced, band-passed recording they are sorted from, as Spyglass 0.6's
//! `spikesorting/v1/recording.py` declares them.
//!
//! - `SortGroup` (+ `SortGroupElectrode`): [`set_group_by_shank`] builds them as
//!   Spyglass's `get_group_by_shank` (one group per electrode group and shank, bad
//!   channels left out, references from the electrodes table or given per group,
//!   optionally no group for the reference's electrode group or for unitrodes).
//! - `SpikeSortingPreprocessingParameters`: Spyglass's `default` row, blob for blob.
//! - `SpikeSortingRecordingSelection`: `recording_id` is a uuid as in Spyglass, but
//!   derived (uuid5) from the selection's content rather than drawn at random, so
//!   the same selection has the same id in every lab; [`insert_selection`] returns
//!   the existing id.
//! - `SpikeSortingRecording`: the make takes the sort interval ∩ the raw series'
//!   valid times (pieces longer than `min_segment_length`), turns them into sample
//!   ranges as Spyglass's `_consolidate_intervals` does (the sample at each piece's
//!   last timestamp is left out, index-adjacent pieces join), and computes the
//!   recording of [`super::recompute`]. By default the filtered samples are not
//!   stored: the analysis file holds the recipe (a one-row table in `/scratch`, with
//!   the MD5 of the samples every recompute is checked against); [`open_recording`]
//!   recomputes them, and [`materialize`] writes them as Spyglass does
//!   (`acquisition/ProcessedElectricalSeries`) into a new file the row points to.
//! - The row's `hash` means what it means in Spyglass: the NWB file hash
//!   ([`spyglass_nwb::nwbfile_hash`], Spyglass's `NwbfileHasher` with
//!   ProcessedElectricalSeries rounded to 4 decimals) of the row's analysis file as
//!   stored — the recipe-only file, or the materialized one once [`materialize`] ran.
//!
//! Divergences: Spyglass refuses a session without ndx-franklab-novela probe rows
//! ("No probe info found"); here contact positions come from the electrodes table's
//! `rel_x`/`rel_y` (else `x`/`y`), as SpikeInterface reads them, with Spyglass's
//! fixed square for `tetrode_12.5` probes. `set_group_by_shank` on a session that
//! has sort groups refuses instead of deleting them (and their recordings) unasked,
//! and a shank whose electrodes disagree on their reference is an error (Spyglass
//! builds the error without raising it and keeps the previous shank's reference).

use super::recompute::{FilteredRecording, Recipe, FILTER_ORDER};
use crate::analysis::nwb_file_path;
use crate::common::{common_ephys, common_interval as iv};
use crate::kit::prelude::*;
use crate::kit::Session;
use spyglass_dsp::Intervals;
use spyglass_nwb::{ColumnSpec, TableSpec as NwbTable};
use spyglass_nwb::{Placement, SPYGLASS_PRECISION};
use uuid::Uuid;

/// Schema name.
pub const SCHEMA: &str = "spikesorting_v1_recording";
/// `SortGroup` (Manual).
pub const SORT_GROUP: &str = "spikesorting_v1_recording.SortGroup";
/// `SortGroup.SortGroupElectrode` (Part).
pub const SORT_GROUP_ELECTRODE: &str = "spikesorting_v1_recording.SortGroup.SortGroupElectrode";
/// `SpikeSortingPreprocessingParameters` (Lookup).
pub const PREPROCESSING_PARAMETERS: &str =
    "spikesorting_v1_recording.SpikeSortingPreprocessingParameters";
/// `SpikeSortingRecordingSelection` (Manual).
pub const RECORDING_SELECTION: &str = "spikesorting_v1_recording.SpikeSortingRecordingSelection";
/// `SpikeSortingRecording` (Computed).
pub const RECORDING: &str = "spikesorting_v1_recording.SpikeSortingRecording";
/// The `pipeline` of the IntervalList rows it records.
pub const PIPELINE: &str = "spikesorting_recording_v1";
/// Name of the recipe table in the analysis file's `/scratch`.
pub const RECIPE_TABLE: &str = "spikesorting_recording_recipe";

/// Spyglass's default preprocessing parameters (ints stay ints: the blob equals Spyglass's).
pub const DEFAULTS: [(&str, &str); 1] = [(
    "default",
    r#"{"frequency_min": 300, "frequency_max": 6000, "margin_ms": 5, "seed": 0, "min_segment_length": 1}"#,
)];

dict_params! {
    /// The parameter table: Spyglass's default sets, checked as the make reads them.
    pub static PARAMETERS = PREPROCESSING_PARAMETERS, "preproc_param_name" => "preproc_params", &DEFAULTS, parse_params;
}

/// The `_` namespace of every content-derived id: uuid5(URL namespace, this URL).
const ID_NAMESPACE_URL: &str = "https://github.com/LorenFrankLab/spyglass/spikesorting/v1";

/// RFC 4122 uuid5 (SHA-1) of `name` in `namespace`.
pub fn uuid5(namespace: Uuid, name: &[u8]) -> Uuid {
    use sha1::Digest;
    let mut h = sha1::Sha1::new();
    h.update(namespace.as_bytes());
    h.update(name);
    let d = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&d[..16]);
    uuid::Builder::from_sha1_bytes(bytes).into_uuid()
}

/// The id of a selection: uuid5 over `table` and the canonical JSON of `content`.
pub fn content_id(table: &str, content: &serde_json::Value) -> Uuid {
    let url_ns = Uuid::from_u128(0x6ba7b811_9dad_11d1_80b4_00c04fd430c8);
    let ns = uuid5(url_ns, ID_NAMESPACE_URL.as_bytes());
    let text = format!("{table}\n{}", canonical(content));
    uuid5(ns, text.as_bytes())
}

/// JSON with object keys sorted (insertion order is kept by serde_json here).
fn canonical(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        serde_json::Value::from(k.as_str()),
                        canonical(&m[*k])
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        serde_json::Value::Array(a) => {
            format!(
                "[{}]",
                a.iter().map(canonical).collect::<Vec<_>>().join(",")
            )
        }
        other => other.to_string(),
    }
}

/// A SortGroup row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SortGroup {
    /// The session.
    pub nwb_file_name: String,
    /// The group.
    pub sort_group_id: i64,
    /// −1 none, −2 median of the group, or the electrode subtracted.
    pub sort_reference_electrode_id: i64,
}

/// A SortGroupElectrode row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SortGroupElectrode {
    /// The session.
    pub nwb_file_name: String,
    /// The group.
    pub sort_group_id: i64,
    /// The electrode's group in the NWB file.
    pub electrode_group_name: String,
    /// The electrode.
    pub electrode_id: i64,
}

/// The secondary attributes of a SpikeSortingRecordingSelection (what it selects).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingSelectionKey {
    /// The session.
    pub nwb_file_name: String,
    /// The sort group.
    pub sort_group_id: i64,
    /// The sort interval (an IntervalList of the session).
    pub interval_list_name: String,
    /// The preprocessing parameters.
    pub preproc_param_name: String,
    /// The team.
    pub team_name: String,
}

/// A SpikeSortingRecordingSelection row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingSelection {
    /// The id.
    pub recording_id: Uuid,
    /// What it selects.
    #[serde(flatten)]
    pub key: RecordingSelectionKey,
}

/// The key of SpikeSortingRecording.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RecordingKey {
    /// The recording.
    pub recording_id: Uuid,
}

/// A SpikeSortingRecording row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingRow {
    /// The recording.
    pub recording_id: Uuid,
    /// Its analysis file (the recipe, or the materialized series).
    pub analysis_file_name: String,
    /// Object id of the recipe table, or of the ProcessedElectricalSeries.
    pub object_id: String,
    /// Object id of the series' electrodes region (materialized files only).
    pub electrodes_id: Option<String>,
    /// Spyglass's NWB file hash of the analysis file (ProcessedElectricalSeries
    /// rounded to 4 decimals; [`spyglass_nwb::nwbfile_hash`]).
    pub hash: Option<String>,
}

/// The preprocessing parameters the recording uses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PreprocParams {
    /// High-pass edge, Hz.
    pub frequency_min: f64,
    /// Low-pass edge, Hz.
    pub frequency_max: f64,
    /// Pieces of the sort interval must be longer than this, s.
    pub min_segment_length: f64,
}

/// The `spikesorting_v1_recording` pipeline.
pub struct SpikeSortingRecordingV1;

impl Pipeline for SpikeSortingRecordingV1 {
    identity!(SCHEMA, family "sorting");
    provides! {
        makers: RECORDING => RecordingMake;
        defaults: &PARAMETERS;
        commands: Command;
    }
    fn tables(&self) -> Vec<TableSpec> {
        let group = "# Set of electrodes to spike sort together
-> common_session.Session
sort_group_id : int
---
sort_reference_electrode_id = -1 : int  # the electrode to use for referencing; -1: no reference, -2: common median";
        let electrode = "-> master
-> common_ephys.Electrode";
        let params = "# Parameters for denoising a recording prior to spike sorting.
preproc_param_name : varchar(200)
---
preproc_params : blob";
        let selection =
            "# Raw voltage traces and parameters. Use `insert_selection` method to insert rows.
recording_id : uuid
---
-> common_ephys.Raw
-> SortGroup
-> common_interval.IntervalList
-> SpikeSortingPreprocessingParameters
-> common_lab.LabTeam";
        let recording = "# Processed recording.
-> SpikeSortingRecordingSelection
---
-> common_nwbfile.AnalysisNwbfile
object_id : varchar(40)  # Object ID for the processed recording in NWB file
electrodes_id = null : varchar(40)  # Object ID for the processed electrodes
hash = null : varchar(32)  # Hash of the NWB file";
        vec![
            TableSpec::new("SortGroup", Tier::Manual, group).part("SortGroupElectrode", electrode),
            TableSpec::new("SpikeSortingPreprocessingParameters", Tier::Lookup, params),
            TableSpec::new("SpikeSortingRecordingSelection", Tier::Manual, selection),
            TableSpec::new("SpikeSortingRecording", Tier::Computed, recording),
        ]
    }
    fn run(&self, sg: &Spyglass, _name: &str, m: &clap::ArgMatches) -> Result<()> {
        sg.require(SCHEMA)?;
        match args::parse(m)? {
            Command::GroupByShank(a) => {
                let nwb = a.session.name(sg)?;
                let references = a
                    .reference
                    .iter()
                    .map(|r| parse_reference(r))
                    .collect::<Result<Vec<_>>>()?;
                let opts = ShankOptions {
                    references: (!references.is_empty()).then_some(references),
                    omit_ref_electrode_group: a.omit_ref_electrode_group,
                    omit_unitrode: !a.keep_unitrodes,
                };
                let groups = set_group_by_shank(sg, &nwb, &opts)?;
                for (g, electrodes) in &groups {
                    let ids: Vec<String> = electrodes
                        .iter()
                        .map(|e| e.electrode_id.to_string())
                        .collect();
                    println!(
                        "sort group {}: reference {}, electrodes {}",
                        g.sort_group_id,
                        g.sort_reference_electrode_id,
                        ids.join(",")
                    );
                }
                println!("{} sort groups for {nwb}", groups.len());
            }
            Command::Recording(RecordingCommand::Select(a)) => {
                let nwb = a.session.name(sg)?;
                let team = match a.team {
                    Some(t) => t,
                    None => only_team(sg)?,
                };
                let key = RecordingSelectionKey {
                    nwb_file_name: nwb.clone(),
                    sort_group_id: a.sort_group,
                    interval_list_name: a.interval,
                    preproc_param_name: a.params,
                    team_name: team,
                };
                let id = insert_selection(sg, &key)?;
                println!("SpikeSortingRecordingSelection {id}: {nwb}, sort group {}, interval `{}`, parameters `{}`, team `{}`", key.sort_group_id, key.interval_list_name, key.preproc_param_name, key.team_name);
                args::next_populate(RECORDING, &[("recording_id", &id)]);
            }
            Command::Recording(RecordingCommand::Materialize(a)) => {
                let id: Uuid = a.recording_id.parse().map_err(|e| {
                    Error::bad("recording_id", format!("`{}`: {e}", a.recording_id))
                })?;
                let name = materialize(sg.db(), sg.settings(), id)?;
                println!("SpikeSortingRecording {id}: ProcessedElectricalSeries written to {name}");
            }
            Command::Recording(RecordingCommand::Params(p)) => {
                PARAMETERS.run(sg, &p, ParamsArgs::dict)?
            }
        }
        Ok(())
    }
}

/// `spyglass sorting …` commands of this pipeline.
#[derive(clap::Subcommand)]
enum Command {
    /// Sort groups by electrode group and shank (SortGroup.set_group_by_shank).
    GroupByShank(ShankArgs),
    /// Recordings to sort (SpikeSortingRecordingSelection, parameters).
    #[command(subcommand)]
    Recording(RecordingCommand),
}

#[derive(clap::Args)]
struct ShankArgs {
    /// The session.
    #[command(flatten)]
    session: args::SessionArg,
    /// A reference per electrode group, `GROUP=ELECTRODE` (−1 none, −2 median); repeat for each group.
    #[arg(long = "reference", value_name = "GROUP=ID")]
    reference: Vec<String>,
    /// No sort group for the electrode group holding the reference.
    #[arg(long)]
    omit_ref_electrode_group: bool,
    /// Make groups of single electrodes too (Spyglass omits them by default).
    #[arg(long)]
    keep_unitrodes: bool,
}

#[derive(clap::Subcommand)]
enum RecordingCommand {
    /// Select a sort group, interval and parameters (insert_selection).
    Select(SelectArgs),
    /// Write a recording's filtered samples as Spyglass stores them (ProcessedElectricalSeries).
    Materialize(MaterializeArgs),
    /// SpikeSortingPreprocessingParameters: list or add.
    #[command(subcommand)]
    Params(args::ParamsCommand<ParamsArgs>),
}

#[derive(clap::Args)]
struct SelectArgs {
    /// The session.
    #[command(flatten)]
    session: args::SessionArg,
    /// The sort group.
    #[arg(long = "sort-group")]
    sort_group: i64,
    /// The sort interval (an IntervalList name of the session).
    #[arg(long)]
    interval: String,
    /// SpikeSortingPreprocessingParameters name.
    #[arg(long, default_value = "default")]
    params: String,
    /// The LabTeam (default: the only team, when there is one).
    #[arg(long)]
    team: Option<String>,
}

#[derive(clap::Args)]
struct MaterializeArgs {
    /// The recording.
    recording_id: String,
}

#[derive(clap::Args)]
struct ParamsArgs {
    /// High-pass edge, Hz.
    #[arg(long, default_value_t = 300.0)]
    frequency_min: f64,
    /// Low-pass edge, Hz.
    #[arg(long, default_value_t = 6000.0)]
    frequency_max: f64,
    /// Pieces of the sort interval must be longer than this, s.
    #[arg(long, default_value_t = 1.0)]
    min_segment_length: f64,
}

impl ParamsArgs {
    /// The dict Spyglass stores: the options given, margin 5 ms, seed 0.
    fn dict(&self) -> serde_json::Value {
        serde_json::json!({
            "frequency_min": self.frequency_min,
            "frequency_max": self.frequency_max,
            "margin_ms": 5,
            "seed": 0,
            "min_segment_length": self.min_segment_length,
        })
    }
}

fn parse_reference(text: &str) -> Result<(String, i64)> {
    let (g, e) = text
        .rsplit_once('=')
        .ok_or_else(|| Error::bad("--reference", format!("`{text}` is not GROUP=ELECTRODE")))?;
    let e: i64 = e.trim().parse().map_err(|_| {
        Error::bad(
            "--reference",
            format!("`{text}`: `{e}` is not an electrode id"),
        )
    })?;
    Ok((g.trim().to_string(), e))
}

/// The only LabTeam, or an error asking for one.
fn only_team(db: &Db) -> Result<String> {
    let rows = db.fetch(&db.table(crate::common::common_lab::LAB_TEAM)?)?;
    let names: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            r.get("team_name")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect();
    match names.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(Error::bad(
            "--team",
            format!(
                "choose the LabTeam ({} teams: {})",
                names.len(),
                names.join(", ")
            ),
        )),
    }
}

fn parse_params(name: &str, dict: &serde_json::Value) -> Result<PreprocParams> {
    let p: PreprocParams = serde_json::from_value(dict.clone()).map_err(|e| {
        Error::bad(
            format!("{PREPROCESSING_PARAMETERS} `{name}`"),
            e.to_string(),
        )
    })?;
    if !(p.frequency_min > 0.0 && p.frequency_max > p.frequency_min && p.min_segment_length >= 0.0)
    {
        return Err(Error::bad(
            format!("{PREPROCESSING_PARAMETERS} `{name}`"),
            format!(
                "frequency_min {} must be > 0 and < frequency_max {}, min_segment_length {} >= 0",
                p.frequency_min, p.frequency_max, p.min_segment_length
            ),
        ));
    }
    Ok(p)
}

/// Options of [`set_group_by_shank`] (Spyglass's keyword arguments).
#[derive(Debug, Clone, Default)]
pub struct ShankOptions {
    /// A reference per electrode group (every group must have one); `None`: each
    /// shank's `original_reference_electrode`.
    pub references: Option<Vec<(String, i64)>>,
    /// No sort group for the electrode group holding the reference.
    pub omit_ref_electrode_group: bool,
    /// No sort group for shanks of one electrode (Spyglass's default: true).
    pub omit_unitrode: bool,
}

#[derive(Debug, Clone, Deserialize)]
struct ElectrodeRow {
    electrode_group_name: String,
    electrode_id: i64,
    probe_shank: Option<i64>,
    bad_channel: String,
    original_reference_electrode: i64,
}

/// The sort groups Spyglass's `get_group_by_shank` makes for a session (see the
/// module doc), without inserting them.
pub fn group_by_shank(
    db: &Db,
    nwb_file_name: &str,
    opts: &ShankOptions,
) -> Result<Vec<(SortGroup, Vec<SortGroupElectrode>)>> {
    let session = Session { nwb_file_name };
    let mut electrodes: Vec<ElectrodeRow> = db.rows(common_ephys::ELECTRODE, &session)?;
    electrodes.retain(|e| e.bad_channel == "False");
    electrodes.sort_by_key(|e| e.electrode_id);
    let mut groups: Vec<String> = electrodes
        .iter()
        .map(|e| e.electrode_group_name.clone())
        .collect();
    groups.sort();
    groups.dedup();
    if groups.iter().all(|g| g.parse::<i64>().is_ok()) {
        groups.sort_by_key(|g| g.parse::<i64>().unwrap_or_default());
    }
    let mut out = vec![];
    for group in &groups {
        let in_group: Vec<&ElectrodeRow> = electrodes
            .iter()
            .filter(|e| &e.electrode_group_name == group)
            .collect();
        let mut shanks: Vec<Option<i64>> = in_group.iter().map(|e| e.probe_shank).collect();
        shanks.sort();
        shanks.dedup();
        for shank in shanks {
            let on_shank: Vec<&&ElectrodeRow> =
                in_group.iter().filter(|e| e.probe_shank == shank).collect();
            let what = || format!("electrode group {group} of {nwb_file_name}");
            let reference = match &opts.references {
                Some(refs) => refs
                    .iter()
                    .find(|(g, _)| g == group)
                    .map(|(_, r)| *r)
                    .ok_or_else(|| {
                        Error::bad(what(), "not a key in references, so cannot set reference")
                    })?,
                None => {
                    let r = on_shank[0].original_reference_electrode;
                    if on_shank.iter().any(|e| e.original_reference_electrode != r) {
                        return Err(Error::bad(
                            what(),
                            format!("shank {shank:?}: reference electrodes are not all the same"),
                        ));
                    }
                    r
                }
            };
            let ref_groups: Vec<&str> = electrodes
                .iter()
                .filter(|e| e.electrode_id == reference)
                .map(|e| e.electrode_group_name.as_str())
                .collect();
            if ref_groups.len() != 1 && reference > 0 {
                return Err(Error::bad(
                    what(),
                    format!("should have found exactly one electrode group for reference electrode {reference}, but found {}", ref_groups.len()),
                ));
            }
            if opts.omit_ref_electrode_group && ref_groups.len() == 1 && ref_groups[0] == group {
                continue;
            }
            if opts.omit_unitrode && on_shank.len() == 1 {
                continue;
            }
            let id = out.len() as i64;
            let sg = SortGroup {
                nwb_file_name: nwb_file_name.to_string(),
                sort_group_id: id,
                sort_reference_electrode_id: reference,
            };
            let members = on_shank
                .iter()
                .map(|e| SortGroupElectrode {
                    nwb_file_name: nwb_file_name.to_string(),
                    sort_group_id: id,
                    electrode_group_name: group.clone(),
                    electrode_id: e.electrode_id,
                })
                .collect();
            out.push((sg, members));
        }
    }
    Ok(out)
}

/// Spyglass's `SortGroup.set_group_by_shank`: makes and inserts the sort groups of
/// [`group_by_shank`]. A session that has sort groups already is left alone when
/// they are the same, and refused otherwise (delete them first).
pub fn set_group_by_shank(
    db: &Db,
    nwb_file_name: &str,
    opts: &ShankOptions,
) -> Result<Vec<(SortGroup, Vec<SortGroupElectrode>)>> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    let groups = group_by_shank(db, nwb_file_name, opts)?;
    let session = Session { nwb_file_name };
    let mut have: Vec<SortGroup> = db.rows(SORT_GROUP, &session)?;
    if !have.is_empty() {
        let mut have_e: Vec<SortGroupElectrode> = db.rows(SORT_GROUP_ELECTRODE, &session)?;
        have.sort_by_key(|g| g.sort_group_id);
        have_e.sort_by_key(|e| (e.sort_group_id, e.electrode_id));
        let want: Vec<SortGroup> = groups.iter().map(|g| g.0.clone()).collect();
        let mut want_e: Vec<SortGroupElectrode> = groups.iter().flat_map(|g| g.1.clone()).collect();
        want_e.sort_by_key(|e| (e.sort_group_id, e.electrode_id));
        if have == want && have_e == want_e {
            return Ok(groups);
        }
        return Err(Error::conflict(
            format!("{SORT_GROUP} of {nwb_file_name}"),
            format!("{} sort groups exist and differ from these; delete them first (`spyglass delete {SORT_GROUP} --key nwb_file_name={nwb_file_name}`, which deletes their recordings too)", have.len()),
        ));
    }
    crate::transaction(db, || {
        for (g, electrodes) in &groups {
            db.put(SORT_GROUP, g)?;
            db.put_new(SORT_GROUP_ELECTRODE, electrodes)?;
        }
        Ok(())
    })?;
    Ok(groups)
}

/// The content a recording id is derived from: the selection, the parameters'
/// dict and the sort group (reference and electrodes).
fn recording_content(db: &Db, key: &RecordingSelectionKey) -> Result<serde_json::Value> {
    #[derive(Deserialize)]
    struct P {
        preproc_params: serde_json::Value,
    }
    let params: P = db.row(
        PREPROCESSING_PARAMETERS,
        &serde_json::json!({"preproc_param_name": key.preproc_param_name}),
    )?;
    parse_params(&key.preproc_param_name, &params.preproc_params)?;
    let group_key =
        serde_json::json!({"nwb_file_name": key.nwb_file_name, "sort_group_id": key.sort_group_id});
    let group: SortGroup = db.row(SORT_GROUP, &group_key)?;
    let mut electrodes: Vec<i64> = db
        .rows::<SortGroupElectrode>(SORT_GROUP_ELECTRODE, &group_key)?
        .iter()
        .map(|e| e.electrode_id)
        .collect();
    electrodes.sort();
    Ok(serde_json::json!({
        "selection": key,
        "preproc_params": params.preproc_params,
        "sort_reference_electrode_id": group.sort_reference_electrode_id,
        "electrode_ids": electrodes,
    }))
}

/// Spyglass's `SpikeSortingRecordingSelection.insert_selection`: the id of the row
/// selecting `key` — the existing one, or a new row whose id is derived from the
/// selection's content (uuid5), the same in every database.
pub fn insert_selection(db: &Db, key: &RecordingSelectionKey) -> Result<Uuid> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    let have: Vec<RecordingSelection> = db.rows(RECORDING_SELECTION, key)?;
    if let Some(r) = have.first() {
        return Ok(r.recording_id);
    }
    let recording_id = content_id(RECORDING_SELECTION, &recording_content(db, key)?);
    db.put(
        RECORDING_SELECTION,
        &RecordingSelection {
            recording_id,
            key: key.clone(),
        },
    )?;
    Ok(recording_id)
}

/// What the make reads from the database.
#[derive(Debug, Clone, Serialize)]
pub struct RecordingInputs {
    /// The session.
    pub nwb_file_name: String,
    /// Its `_` copy (the raw series, through its links; the analysis file's parent).
    pub parent: std::path::PathBuf,
    /// The raw series' object id.
    pub object_id: String,
    /// Its rate, Hz.
    pub rate: f64,
    /// Sort interval ∩ the series' valid times, pieces longer than min_segment_length.
    pub valid_times: Intervals,
    /// Output electrodes, ascending.
    pub channel_ids: Vec<i64>,
    /// The reference.
    pub reference: i64,
    /// The parameters.
    pub params: PreprocParams,
    /// Spyglass's fixed tetrode square applies (one `tetrode_12.5` group of 4).
    pub tetrode: bool,
}

/// What the compute phase produced.
pub struct RecordingOutput {
    file: crate::analysis::PendingFile,
    object_id: String,
    file_hash: String,
    valid_times: Intervals,
}

struct RecordingMake;

#[derive(Deserialize)]
struct ProbeOf {
    electrode_id: i64,
    electrode_group_name: String,
    probe_id: Option<String>,
}

#[derive(Deserialize)]
struct ProbeType {
    probe_type: String,
}

impl Make for RecordingMake {
    const TABLE: &'static str = RECORDING;
    type Key = RecordingKey;
    type Inputs = RecordingInputs;
    type Output = RecordingOutput;

    fn fetch(&self, cx: &Cx, key: &RecordingKey) -> Result<RecordingInputs> {
        let db = cx.db;
        let sel: RecordingSelection = db.row(RECORDING_SELECTION, key)?;
        let k = &sel.key;
        let nwb = k.nwb_file_name.as_str();
        #[derive(Deserialize)]
        struct P {
            preproc_params: serde_json::Value,
        }
        let p: P = db.row(
            PREPROCESSING_PARAMETERS,
            &serde_json::json!({"preproc_param_name": k.preproc_param_name}),
        )?;
        let params = parse_params(&k.preproc_param_name, &p.preproc_params)?;
        let group_key = serde_json::json!({"nwb_file_name": nwb, "sort_group_id": k.sort_group_id});
        let group: SortGroup = db.row(SORT_GROUP, &group_key)?;
        let members: Vec<SortGroupElectrode> = db.rows(SORT_GROUP_ELECTRODE, &group_key)?;
        let reference = group.sort_reference_electrode_id;
        let mut channel_ids: Vec<i64> = members
            .iter()
            .map(|e| e.electrode_id)
            .filter(|&e| e != reference)
            .collect();
        channel_ids.sort();
        channel_ids.dedup();
        if channel_ids.is_empty() {
            return Err(Error::missing(
                SORT_GROUP_ELECTRODE,
                format!(
                    "nwb_file_name={nwb}, sort_group_id={} (other than its reference)",
                    k.sort_group_id
                ),
            ));
        }
        if reference < -2 {
            return Err(Error::bad(format!("{SORT_GROUP} {} of {nwb}", k.sort_group_id), format!("sort_reference_electrode_id {reference}: use -1 (none), -2 (median) or an electrode id")));
        }
        let mut all = channel_ids.clone();
        if reference >= 0 {
            all.push(reference);
        }
        let source = crate::common::ephys_series::series_for_electrodes(db, nwb, &all)?;
        let sort = iv::fetch_intervals(db, nwb, &k.interval_list_name)?;
        let valid = iv::fetch_intervals(db, nwb, &source.interval)?;
        let valid_times = sort
            .intersect(&valid)
            .longer_than(params.min_segment_length);
        if valid_times.is_empty() {
            return Err(Error::conflict(
                RECORDING,
                format!(
                    "`{}` ∩ `{}` of {nwb} has no piece longer than {} s",
                    k.interval_list_name, source.interval, params.min_segment_length
                ),
            ));
        }
        // Spyglass's tetrode geometry: one electrode group, probe type tetrode_12.5, 4 channels
        let probes: Vec<ProbeOf> =
            db.rows(common_ephys::ELECTRODE, &Session { nwb_file_name: nwb })?;
        let members_probes: Vec<&ProbeOf> = probes
            .iter()
            .filter(|p| members.iter().any(|m| m.electrode_id == p.electrode_id))
            .collect();
        let mut types = vec![];
        for p in &members_probes {
            if let Some(id) = &p.probe_id {
                let t: Vec<ProbeType> = db.rows(
                    crate::common::common_device::PROBE,
                    &serde_json::json!({"probe_id": id}),
                )?;
                types.extend(t.into_iter().map(|t| t.probe_type));
            }
        }
        types.sort();
        types.dedup();
        let mut egroups: Vec<&str> = members_probes
            .iter()
            .map(|p| p.electrode_group_name.as_str())
            .collect();
        egroups.sort();
        egroups.dedup();
        let tetrode = types == ["tetrode_12.5"] && channel_ids.len() == 4 && egroups.len() == 1;
        Ok(RecordingInputs {
            nwb_file_name: nwb.to_string(),
            parent: nwb_file_path(db, nwb)?,
            object_id: source.object_id,
            rate: source.rate,
            valid_times,
            channel_ids,
            reference,
            params,
            tetrode,
        })
    }

    fn compute(
        &self,
        settings: &Settings,
        key: &RecordingKey,
        i: RecordingInputs,
    ) -> Result<RecordingOutput> {
        let recipe = recipe_of(&i)?;
        let rec = FilteredRecording::open(&i.parent, recipe.clone())?;
        let hash = rec.stream(None, |_, _| Ok(()))?;
        let json = serde_json::to_string(&recipe)
            .map_err(|e| Error::internal(RECORDING, e.to_string()))?;
        let description = format!("SpikeSortingRecording {}", key.recording_id);
        let (file, object_id) =
            crate::kit::analysis_file(settings, &i.nwb_file_name, &i.parent, &description, |w| {
                let spec = recipe_table(json.clone(), hash.clone());
                Ok(w.add_dynamic_table(&Placement::Scratch, &spec)?)
            })?;
        let file_hash = spyglass_nwb::nwbfile_hash(file.written_path(), &SPYGLASS_PRECISION)?;
        Ok(RecordingOutput {
            file,
            object_id,
            file_hash,
            valid_times: i.valid_times,
        })
    }

    fn insert(&self, cx: &Cx, key: &RecordingKey, out: RecordingOutput) -> Result<()> {
        let sel: RecordingSelection = cx.db.row(RECORDING_SELECTION, key)?;
        let row = RecordingRow {
            recording_id: key.recording_id,
            analysis_file_name: cx.db.register(out.file)?,
            object_id: out.object_id,
            electrodes_id: None,
            hash: Some(out.file_hash),
        };
        cx.db.interval_list(
            &sel.key.nwb_file_name,
            &key.recording_id.to_string(),
            PIPELINE,
            out.valid_times,
        )?;
        cx.db.put(RECORDING, &row)?;
        Ok(())
    }
}

/// The recipe of a recording: sample ranges as Spyglass's `_consolidate_intervals`
/// (`[searchsorted(start, left), searchsorted(stop, right) − 1)`, index-adjacent
/// pieces joined), positions from the electrodes table.
fn recipe_of(i: &RecordingInputs) -> Result<Recipe> {
    let file = spyglass_nwb::NwbFile::open(&i.parent)?;
    let reader = file.raw_reader(&file.path_of_id(&i.object_id)?)?;
    let mut pieces: Vec<[usize; 2]> = vec![];
    for &[start, stop] in i.valid_times.iter() {
        let a = reader.search_sorted(start, false)?;
        let b = reader.search_sorted(stop, true)?.saturating_sub(1);
        match pieces.last_mut() {
            Some(last) if last[1] + 1 >= a => last[1] = last[1].max(b),
            _ => pieces.push([a, b]),
        }
    }
    pieces.retain(|[a, b]| b > a);
    let locations = if i.tetrode {
        Some(vec![[0.0, 0.0], [0.0, 12.5], [12.5, 0.0], [12.5, 12.5]])
    } else {
        positions(&file, &i.channel_ids)?
    };
    let (chunk_rows, margin_rows) = Recipe::chunking(i.rate, i.channel_ids.len());
    Ok(Recipe {
        nwb_file_name: i.nwb_file_name.clone(),
        raw_object_id: i.object_id.clone(),
        sampling_rate: i.rate,
        pieces,
        channel_ids: i.channel_ids.clone(),
        reference: i.reference,
        frequency_min: i.params.frequency_min,
        frequency_max: i.params.frequency_max,
        filter_order: FILTER_ORDER,
        chunk_rows,
        margin_rows,
        locations,
    })
}

/// Contact positions of electrodes from the file's electrodes table: `rel_x`/`rel_y`
/// (as SpikeInterface reads them), else `x`/`y`; `None` when it has neither.
fn positions(file: &spyglass_nwb::NwbFile, ids: &[i64]) -> Result<Option<Vec<[f64; 2]>>> {
    let Some(table) = file.electrodes()? else {
        return Ok(None);
    };
    for (xn, yn) in [("rel_x", "rel_y"), ("x", "y")] {
        if let (Ok(x), Ok(y)) = (table.f64_column(xn), table.f64_column(yn)) {
            let mut out = vec![];
            for id in ids {
                let Some(r) = table.ids.iter().position(|i| i == id) else {
                    return Ok(None);
                };
                out.push([x[r], y[r]]);
            }
            if out.iter().all(|p| p[0].is_finite() && p[1].is_finite()) {
                return Ok(Some(out));
            }
        }
    }
    Ok(None)
}

/// The recipe stored in a recording's analysis file, with the MD5 of its samples.
fn stored_recipe(db: &Db, row: &RecordingRow) -> Result<(Recipe, Option<String>)> {
    let path = crate::analysis::analysis_file_path(db, &row.analysis_file_name)?;
    let file = spyglass_nwb::NwbFile::open(&path)?;
    let recipe = format!("/scratch/{RECIPE_TABLE}");
    if !file.exists(&recipe) {
        return Err(Error::bad(
            format!("{RECORDING} {}", row.recording_id),
            format!(
                "its analysis file {} has no recipe ({recipe}): the recording was made by Python Spyglass; spyglass-rs reads only recordings it made (select and populate the same sort group here)",
                path.display()
            ),
        ));
    }
    let table = file.table(&recipe)?;
    let text = table.text_column("recipe")?;
    let json = text
        .first()
        .ok_or_else(|| Error::bad(path.display().to_string(), "the recipe table is empty"))?;
    let recipe = serde_json::from_str(json)
        .map_err(|e| Error::bad(path.display().to_string(), format!("recipe: {e}")))?;
    let samples_md5 = table
        .text_column("hash")?
        .first()
        .filter(|h| !h.is_empty())
        .cloned();
    Ok((recipe, samples_md5))
}

/// A SpikeSortingRecording row's filtered recording, recomputed from the raw file;
/// returns it with the MD5 of its samples stored with the recipe, to check a
/// recompute against ([`FilteredRecording::stream`]).
pub fn open_recording(db: &Db, recording_id: Uuid) -> Result<(FilteredRecording, Option<String>)> {
    let s = recording_source(db, recording_id)?;
    Ok((FilteredRecording::open(&s.raw_file, s.recipe)?, s.hash))
}

/// Where a recording comes from: the raw file, the recipe and the MD5 of its samples
/// (what a make reads in its fetch phase to recompute the recording in its compute
/// phase).
#[derive(Debug, Clone, Serialize)]
pub struct RecordingSource {
    /// The session's `_` copy (the raw series through its links).
    pub raw_file: std::path::PathBuf,
    /// The recipe.
    pub recipe: Recipe,
    /// The MD5 of the samples stored with the recipe (not the row's `hash`, which is
    /// the NWB file hash of the analysis file).
    pub hash: Option<String>,
}

/// The sampling rate of a recording, Hz: its recipe's, or, for a recording Python
/// Spyglass made (no recipe), its session's Raw rate (the recipe's rate is Raw's).
pub fn sampling_rate(db: &Db, recording_id: Uuid) -> Result<f64> {
    match recording_source(db, recording_id) {
        Ok(s) => Ok(s.recipe.sampling_rate),
        Err(e) => {
            #[derive(Deserialize)]
            struct R {
                sampling_rate: f64,
            }
            let sel: RecordingSelection =
                db.row(RECORDING_SELECTION, &RecordingKey { recording_id })?;
            let raw: Vec<R> = db.rows(
                common_ephys::RAW,
                &Session {
                    nwb_file_name: &sel.key.nwb_file_name,
                },
            )?;
            raw.first().map(|r| r.sampling_rate).ok_or(e)
        }
    }
}

/// The [`RecordingSource`] of a SpikeSortingRecording row.
pub fn recording_source(db: &Db, recording_id: Uuid) -> Result<RecordingSource> {
    let row: RecordingRow = db.row(RECORDING, &RecordingKey { recording_id })?;
    let (recipe, samples_md5) = stored_recipe(db, &row)?;
    let raw_file = nwb_file_path(db, &recipe.nwb_file_name)?;
    Ok(RecordingSource {
        raw_file,
        recipe,
        hash: samples_md5,
    })
}

/// Writes a recording's samples as Spyglass stores them — a new analysis file with
/// the recipe and `acquisition/ProcessedElectricalSeries` (float64 µV, conversion
/// 1e-6, the raw timestamps, electrodes region) — and points the row at it
/// (object_id, electrodes_id, and `hash`, the new file's NWB file hash); the samples'
/// MD5 is checked first, and the recipe-only file it replaces is deleted with its
/// external row. Returns the new file's name.
pub fn materialize(db: &Db, settings: &Settings, recording_id: Uuid) -> Result<String> {
    use spyglass_nwb::{Compression, StreamDtype, StreamedSeriesSpec};
    let source = recording_source(db, recording_id)?;
    let recipe = source.recipe.clone();
    let rec = FilteredRecording::open(&source.raw_file, recipe.clone())?;
    let nwb = recipe.nwb_file_name.clone();
    let full = |e| crate::analysis::explain_full_disk(settings, e);
    let mut f = crate::analysis::AnalysisFile::create_detached(settings, &nwb, &source.raw_file)
        .map_err(full)?;
    let description = format!("SpikeSortingRecording {recording_id} (materialized)");
    let pending = crate::analysis::PendingFile::new(&f, &description);
    let (object_id, electrodes_id, file_hash) = (|| -> Result<(String, String, String)> {
        let rows =
            spyglass_nwb::NwbFile::open(&source.raw_file)?.electrode_rows(&recipe.channel_ids)?;
        let json = serde_json::to_string(&recipe)
            .map_err(|e| Error::internal(RECORDING, e.to_string()))?;
        let hash = source.hash.clone().unwrap_or_default();
        f.writer()
            .add_dynamic_table(&Placement::Scratch, &recipe_table(json, hash))?;
        let spec = StreamedSeriesSpec {
            name: "ProcessedElectricalSeries".into(),
            description: format!("Referenced and filtered recording from {nwb} for spike sorting"),
            comments: "no comments".into(),
            dtype: StreamDtype::F64,
            n_rows: rec.n_rows(),
            electrodes: rows,
            electrodes_description: "Sort group".into(),
            conversion: 1e-6,
            offset: 0.0,
            filtering: Some("Bandpass filtered for spike band".into()),
            compression: Compression::Gzip {
                rows: 30_000,
                level: 4,
                shuffle: true,
            },
        };
        let out = f
            .writer()
            .begin_electrical_series(&Placement::Acquisition, &spec)?;
        let nc = rec.n_channels();
        rec.stream(source.hash.as_deref(), |row0, block| {
            out.write_f64(row0, 0, nc, block)?;
            let ts = rec.timestamps(row0..row0 + block.len() / nc)?;
            Ok(out.write_timestamps(row0, &ts)?)
        })?;
        let electrodes_id = out.electrodes_object_id().to_string();
        let object_id = out.finish()?;
        f.finish()?;
        let file_hash = spyglass_nwb::nwbfile_hash(pending.written_path(), &SPYGLASS_PRECISION)?;
        Ok((object_id, electrodes_id, file_hash))
    })()
    .map_err(full)?;
    let replaced: RecordingRow = db.row(RECORDING, &RecordingKey { recording_id })?;
    let name = crate::transaction(db, || {
        let name = pending.register(db)?;
        let row = Row::from_pairs([
            ("recording_id", Value::Uuid(recording_id)),
            ("analysis_file_name", Value::from(name.as_str())),
            ("object_id", Value::from(object_id.as_str())),
            ("electrodes_id", Value::from(electrodes_id.as_str())),
            ("hash", Value::from(file_hash.as_str())),
        ]);
        db.update1(RECORDING, &row)?;
        Ok(name)
    })?;
    // the recipe-only file it replaces, now referred to by no row, goes with its
    // external row (left for `cleanup` should anything still refer to it)
    let old = replaced.analysis_file_name;
    if old != name && crate::analysis::unreferenced_analysis_files(db)?.contains(&old) {
        db.delete(
            crate::common::common_nwbfile::ANALYSIS_NWBFILE,
            spyglass_db::Cond::map([("analysis_file_name", old.as_str())]),
            spyglass_db::delete::DeleteOptions::default(),
        )?;
    }
    Ok(name)
}

/// The one-row `/scratch` table holding a recording's recipe and hash.
fn recipe_table(json: String, hash: String) -> NwbTable {
    NwbTable {
        name: RECIPE_TABLE.into(),
        description: "how spyglass-rs recomputes this referenced, band-passed recording from the raw series (JSON), and the MD5 of its samples".into(),
        ids: None,
        columns: vec![
            ColumnSpec::text("recipe", "the recipe, JSON", vec![json]),
            ColumnSpec::text("hash", "MD5 of the samples (µV as little-endian float32, row by row)", vec![hash]),
        ],
    }
}
