//! `spikesorting_v1_curation`: curations of a sorting, as Spyglass 0.6's
//! `spikesorting/v1/curation.py` declares and writes them.
//!
//! - `CurationV1` (Manual), filled by [`insert_curation`]: `curation_id` is the
//!   sorting's largest id + 1 (0 first); each curation is a new analysis file whose
//!   units table is written as Spyglass's `_write_sorting_to_nwb_with_curation`
//!   does — the units of the *SpikeSorting's* file (as in Spyglass, never the
//!   parent curation's), with merge groups either applied (each group's spike
//!   trains combined into a new unit `max id + 1`, the merged units dropped, no
//!   `merge_groups` column; Spyglass concatenates the trains in group order and
//!   writes them unsorted, here they are sorted, as NWB spike times must ascend) or recorded (`merge_groups`: per
//!   unit the other members of its group as text, `[""]` for none, intersecting
//!   groups united), `curation_label` (ragged text; left out when no unit is
//!   labelled) and one column per metric.
//! - The merge part `SpikeSortingOutput.CurationV1` ([`insert_into_merge`],
//!   Spyglass users' `SpikeSortingOutput.insert([key], part_name="CurationV1")`),
//!   and spike times through a merge id ([`get_spike_times`], [`get_sorting`]).
//!
//! Done better than Spyglass: input it would accept and write wrongly (or crash
//! on half way) is refused before anything is written — labels or merge groups
//! naming units the table does not have, a merge group of one unit, a unit in two
//! groups of an applied merge, a parent curation that is not this sorting's, a
//! metric missing for a unit. Spyglass's "already inserted" check for a first
//! curation never fires (it looks for `curation_id = -1`); here too every call
//! makes a new curation. The order of united merge groups is ascending (Python's
//! set order, the same for small non-negative ids).

use super::merge::SPIKE_SORTING_OUTPUT;
use super::recording_v1 as rec;
use super::sorting_v1::{self as ss, SortingKey, SortingRow, SortingSelection};
use crate::common::spikesorting_imported::IMPORTED_SPIKE_SORTING;
use crate::kit::prelude::*;
use spyglass_nwb::{ColumnSpec, UnitsSpec};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Schema name.
pub const SCHEMA: &str = "spikesorting_v1_curation";
/// `CurationV1` (Manual).
pub const CURATION: &str = "spikesorting_v1_curation.CurationV1";
/// The merge part `SpikeSortingOutput.CurationV1`.
pub const MERGE_PART: &str = "spikesorting_merge.SpikeSortingOutput.CurationV1";
/// Spyglass's `valid_labels` (informative: Spyglass does not enforce them either).
pub const VALID_LABELS: [&str; 5] = ["reject", "noise", "artifact", "mua", "accept"];

/// The key of a CurationV1 row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurationKey {
    /// The sorting.
    pub sorting_id: Uuid,
    /// The curation (0, 1, ... per sorting).
    pub curation_id: i64,
}

/// A CurationV1 row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurationRow {
    /// The sorting.
    pub sorting_id: Uuid,
    /// The curation.
    pub curation_id: i64,
    /// The parent curation (−1 for none).
    pub parent_curation_id: i64,
    /// The analysis file holding the curated units.
    pub analysis_file_name: String,
    /// Object id of the units table.
    pub object_id: String,
    /// Whether the merge groups were applied to the units (a `bool` column: a
    /// database DataJoint declared returns it as a tinyint 0 / 1).
    #[serde(deserialize_with = "bool_or_int")]
    pub merges_applied: bool,
    /// Free text.
    pub description: String,
}

/// A boolean stored as a boolean or as DataJoint's tinyint 0 / 1.
fn bool_or_int<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Int(i64),
    }
    match B::deserialize(d)? {
        B::Bool(b) => Ok(b),
        B::Int(0) => Ok(false),
        B::Int(1) => Ok(true),
        B::Int(n) => Err(serde::de::Error::custom(format!(
            "merges_applied {n}: not a boolean (0 or 1)"
        ))),
    }
}

impl CurationRow {
    /// The row's key.
    pub fn key(&self) -> CurationKey {
        CurationKey {
            sorting_id: self.sorting_id,
            curation_id: self.curation_id,
        }
    }
}

/// What [`insert_curation`] takes: Spyglass's `insert_curation` arguments (the
/// default: parent −1, nothing else).
#[derive(Debug, Clone)]
pub struct CurationInput {
    /// The parent curation (−1, or anything below, for none).
    pub parent_curation_id: i64,
    /// Labels per unit id (`None`: no labels column).
    pub labels: Option<BTreeMap<i64, Vec<String>>>,
    /// Groups of unit ids to merge (`None`: no merge groups column).
    pub merge_groups: Option<Vec<Vec<i64>>>,
    /// Apply the merges to the units instead of recording them.
    pub apply_merge: bool,
    /// Metrics: name → value per unit id, in column order.
    pub metrics: Option<Vec<(String, BTreeMap<i64, f64>)>>,
    /// Description (at most 100 characters).
    pub description: String,
}

impl Default for CurationInput {
    fn default() -> CurationInput {
        CurationInput {
            parent_curation_id: -1,
            labels: None,
            merge_groups: None,
            apply_merge: false,
            metrics: None,
            description: String::new(),
        }
    }
}

/// One unit of a curation: id and spike times (seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct CuratedUnit {
    /// Unit id.
    pub id: i64,
    /// Spike times, seconds, as stored.
    pub spike_times: Vec<f64>,
    /// Its curation labels (empty when none).
    pub labels: Vec<String>,
    /// The other units of its merge group (as Spyglass writes them, text; empty when none).
    pub merge_group: Vec<String>,
}

/// The `spikesorting_v1_curation` pipeline.
pub struct SpikeSortingCurationV1;

impl Pipeline for SpikeSortingCurationV1 {
    identity!(SCHEMA, family "sorting", requires [ss::SCHEMA]);
    provides! {
        merge: SPIKE_SORTING_OUTPUT => CURATION;
        commands: Command;
    }
    fn tables(&self) -> Vec<TableSpec> {
        let curation = "# Curation of a SpikeSorting. Use `insert_curation` to insert rows.
-> spikesorting_v1_sorting.SpikeSorting
curation_id=0: int
---
parent_curation_id=-1: int
-> common_nwbfile.AnalysisNwbfile
object_id: varchar(72)
merges_applied: bool
description: varchar(100)";
        vec![TableSpec::new("CurationV1", Tier::Manual, curation)]
    }
    fn run(&self, sg: &Spyglass, _name: &str, m: &clap::ArgMatches) -> Result<()> {
        sg.require(SCHEMA)?;
        let c = match args::parse(m)? {
            Command::Curation(c) => c,
            Command::ToPhy(a) => return to_phy_command(sg, a),
            Command::FromPhy(a) => return from_phy_command(sg, a),
            Command::Plot(a) => return super::figures::run(sg.db(), &a),
        };
        match c {
            CurationCommand::Insert(a) => {
                let sorting_id = parse_uuid(&a.sorting_id)?;
                let labels = match &a.labels {
                    None => None,
                    Some(t) => Some(parse_labels(t)?),
                };
                let merge_groups = match &a.merge_groups {
                    None => None,
                    Some(t) => Some(serde_json::from_str::<Vec<Vec<i64>>>(t).map_err(|e| {
                        Error::bad(
                            "--merge-groups",
                            format!("not a JSON list of lists of unit ids: {e} in `{t}`"),
                        )
                    })?),
                };
                let input = CurationInput {
                    parent_curation_id: a.parent,
                    labels,
                    merge_groups,
                    apply_merge: a.apply_merge,
                    metrics: None,
                    description: a.description,
                };
                let row = insert_curation(sg.db(), sg.settings(), sorting_id, &input)?;
                let merge_id = insert_into_merge(sg.db(), &row.key())?;
                println!(
                    "CurationV1 {sorting_id} / {}: parent {}, merges applied {}, file {}, SpikeSortingOutput {merge_id}",
                    row.curation_id, row.parent_curation_id, row.merges_applied, row.analysis_file_name
                );
            }
            CurationCommand::List(a) => {
                let sorting_id = parse_uuid(&a.sorting_id)?;
                let mut rows: Vec<CurationRow> =
                    sg.rows(CURATION, &serde_json::json!({ "sorting_id": sorting_id }))?;
                rows.sort_by_key(|r| r.curation_id);
                for r in rows {
                    let units = get_sorting(sg.db(), &r.key())?;
                    println!(
                        "{}\tparent {}\tmerges_applied {}\t{} units\t{}\t{}",
                        r.curation_id,
                        r.parent_curation_id,
                        r.merges_applied,
                        units.len(),
                        r.analysis_file_name,
                        r.description
                    );
                }
            }
        }
        Ok(())
    }
}

/// `spyglass sorting curation …`.
#[derive(clap::Subcommand)]
enum Command {
    /// Curations of a sorting (CurationV1).
    #[command(subcommand)]
    Curation(CurationCommand),
    /// Write a curation as a phy template-gui folder (params.py, spike_times, templates,
    /// amplitudes, pc_features, cluster_group.tsv, spyglass.json, …).
    ToPhy(ToPhyArgs),
    /// Read a phy folder written by to-phy (phy's cluster_group.tsv and
    /// spike_clusters.npy) as a new CurationV1 whose parent is the exported curation.
    FromPhy(FromPhyArgs),
    /// Pictures of a curation (SVG): units table, raster, templates on the probe,
    /// amplitudes; per unit its template on the probe, autocorrelogram, amplitudes
    /// and metrics.
    Plot(super::figures::PlotArgs),
}

#[derive(clap::Args)]
struct ToPhyArgs {
    /// The SpikeSorting's sorting_id.
    sorting_id: String,
    /// The curation to export.
    curation_id: i64,
    /// The folder to write (must not exist).
    folder: std::path::PathBuf,
    /// Also write the recording as recording.dat (float32), so phy shows raw traces.
    #[arg(long)]
    with_recording: bool,
    /// Waveforms per unit for templates and the PCA fit (SpikeInterface's 500); 0: all.
    #[arg(long, default_value_t = 500)]
    max_spikes_per_unit: usize,
    /// Milliseconds before the spike.
    #[arg(long, default_value_t = 1.0)]
    ms_before: f64,
    /// Milliseconds after the spike.
    #[arg(long, default_value_t = 2.0)]
    ms_after: f64,
}

#[derive(clap::Args)]
struct FromPhyArgs {
    /// The phy folder (written by to-phy, then edited in phy).
    folder: std::path::PathBuf,
    /// Apply phy's merges to the units (else they are recorded as merge groups).
    #[arg(long)]
    apply_merge: bool,
    /// Description of the new curation.
    #[arg(long, default_value = "")]
    description: String,
}

fn to_phy_command(sg: &Spyglass, a: ToPhyArgs) -> Result<()> {
    let key = CurationKey {
        sorting_id: parse_uuid(&a.sorting_id)?,
        curation_id: a.curation_id,
    };
    let params = spyglass_kilosort::phy::PhyExportParams {
        ms_before: a.ms_before,
        ms_after: a.ms_after,
        max_spikes_per_unit: (a.max_spikes_per_unit > 0).then_some(a.max_spikes_per_unit),
        write_recording: a.with_recording,
        ..Default::default()
    };
    let out = super::phy::to_phy(sg.db(), &key, &a.folder, &params)?;
    println!(
        "phy folder {}: {} units, {} spikes, {} channels (open with `phy template-gui {}`)",
        out.dir.display(),
        out.unit_ids.len(),
        out.n_spikes,
        out.n_channels,
        out.dir.join("params.py").display()
    );
    Ok(())
}

fn from_phy_command(sg: &Spyglass, a: FromPhyArgs) -> Result<()> {
    let opts = super::phy::FromPhyOptions {
        apply_merge: a.apply_merge,
        description: a.description,
    };
    let row = super::phy::from_phy(sg.db(), sg.settings(), &a.folder, &opts)?;
    let merge_id = insert_into_merge(sg.db(), &row.key())?;
    println!(
        "CurationV1 {} / {}: parent {}, merges applied {}, file {}, SpikeSortingOutput {merge_id}",
        row.sorting_id,
        row.curation_id,
        row.parent_curation_id,
        row.merges_applied,
        row.analysis_file_name
    );
    Ok(())
}

#[derive(clap::Subcommand)]
enum CurationCommand {
    /// Insert a curation (CurationV1.insert_curation) and its SpikeSortingOutput entry.
    Insert(InsertArgs),
    /// List the curations of a sorting.
    List(ListArgs),
}

#[derive(clap::Args)]
struct InsertArgs {
    /// The SpikeSorting's sorting_id.
    sorting_id: String,
    /// The parent curation id (-1: none).
    #[arg(long, default_value_t = -1, allow_hyphen_values = true)]
    parent: i64,
    /// Labels, a JSON object unit id → list of labels (`{"0": ["noise", "reject"]}`).
    #[arg(long)]
    labels: Option<String>,
    /// Merge groups, a JSON list of lists of unit ids (`[[1, 2]]`).
    #[arg(long)]
    merge_groups: Option<String>,
    /// Apply the merges to the units.
    #[arg(long)]
    apply_merge: bool,
    /// Description.
    #[arg(long, default_value = "")]
    description: String,
}

#[derive(clap::Args)]
struct ListArgs {
    /// The SpikeSorting's sorting_id.
    sorting_id: String,
}

fn parse_uuid(text: &str) -> Result<Uuid> {
    text.parse()
        .map_err(|e| Error::bad("sorting_id", format!("`{text}`: {e}")))
}

/// Labels as JSON (`{"unit id": ["label", ...]}`) → labels per unit id.
pub fn parse_labels(text: &str) -> Result<BTreeMap<i64, Vec<String>>> {
    let bad = |m: String| Error::bad("--labels", m);
    let map: BTreeMap<String, Vec<String>> = serde_json::from_str(text).map_err(|e| {
        bad(format!(
            "not a JSON object of unit id → list of labels: {e} in `{text}`"
        ))
    })?;
    map.into_iter()
        .map(|(k, v)| {
            k.trim()
                .parse::<i64>()
                .map(|id| (id, v))
                .map_err(|_| bad(format!("`{k}` is not a unit id")))
        })
        .collect()
}

/// The units table of an analysis file, as (id, spike times, labels, merge group).
pub(crate) fn read_units(
    db: &Db,
    analysis_file_name: &str,
    object_id: &str,
) -> Result<Vec<CuratedUnit>> {
    let path = crate::analysis::analysis_file_path(db, analysis_file_name)?;
    read_units_at(&path, object_id)
}

/// The units table with object id `object_id` of the NWB file at `path`.
fn read_units_at(path: &std::path::Path, object_id: &str) -> Result<Vec<CuratedUnit>> {
    let what = || format!("{} (units {object_id})", path.display());
    let file = spyglass_nwb::NwbFile::open(path).map_err(|e| Error::bad(what(), e.to_string()))?;
    let at = file
        .path_of_id(object_id)
        .map_err(|e| Error::bad(what(), e.to_string()))?;
    if at != "/units" {
        return Err(Error::bad(
            what(),
            format!("the object is {at}, not /units"),
        ));
    }
    let Some(t) = file
        .units()
        .map_err(|e| Error::bad(what(), e.to_string()))?
    else {
        return Ok(vec![]);
    };
    let ids = t.ids.clone();
    let n = ids.len();
    let ragged_f = |c: &str| -> Result<Vec<Vec<f64>>> {
        if t.column(c).is_some() {
            t.ragged_f64(c)
                .map_err(|e| Error::bad(what(), e.to_string()))
        } else {
            Ok(vec![vec![]; n])
        }
    };
    let ragged_t = |c: &str| -> Result<Vec<Vec<String>>> {
        match t.column(c) {
            Some(col) if col.is_ragged() => t
                .ragged_text(c)
                .map_err(|e| Error::bad(what(), e.to_string())),
            Some(_) => Ok(t
                .text_column(c)
                .map_err(|e| Error::bad(what(), e.to_string()))?
                .into_iter()
                .map(|s| vec![s])
                .collect()),
            None => Ok(vec![vec![]; n]),
        }
    };
    let times = ragged_f("spike_times")?;
    let labels = ragged_t("curation_label")?;
    let groups = ragged_t("merge_groups")?;
    Ok(ids
        .into_iter()
        .zip(times)
        .zip(labels)
        .zip(groups)
        .map(|(((id, spike_times), labels), merge_group)| CuratedUnit {
            id,
            spike_times,
            labels,
            merge_group: merge_group.into_iter().filter(|s| !s.is_empty()).collect(),
        })
        .collect())
}

/// Spyglass's `_union_intersecting_lists`: groups sharing a unit are united
/// (members ascending).
pub(crate) fn union_intersecting(groups: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let mut rest: Vec<BTreeSet<i64>> = groups.iter().map(|g| g.iter().copied().collect()).collect();
    let mut out = vec![];
    while !rest.is_empty() {
        let mut first = rest.remove(0);
        while let Some(k) = rest.iter().position(|o| !first.is_disjoint(o)) {
            first.extend(rest.remove(k));
        }
        out.push(first.into_iter().collect());
    }
    out
}

/// Spyglass's `_list_to_merge_dict`, as the text lists it writes (`[""]` for none).
fn merge_group_column(groups: &[Vec<i64>], unit_ids: &[i64]) -> Vec<Vec<String>> {
    let united = union_intersecting(groups);
    unit_ids
        .iter()
        .map(|u| {
            let mut v: Vec<String> = vec![];
            for g in &united {
                if g.contains(u) {
                    v.extend(g.iter().filter(|m| *m != u).map(|m| m.to_string()));
                }
            }
            if v.is_empty() {
                vec![String::new()]
            } else {
                v
            }
        })
        .collect()
}

/// The units of a sorting with merges applied as Spyglass's writer applies them:
/// per group, a new unit `max id + 1` with the members' spike trains concatenated
/// in group order, the members dropped.
fn apply_merges(units: &mut Vec<(i64, Vec<f64>)>, groups: &[Vec<i64>]) {
    for g in groups {
        let new_id = units.iter().map(|u| u.0).max().unwrap_or(-1) + 1;
        let mut times = vec![];
        for m in g {
            if let Some(u) = units.iter().find(|u| u.0 == *m) {
                times.extend_from_slice(&u.1);
            }
        }
        // Spyglass writes the concatenation unsorted; NWB spike times ascend
        times.sort_by(f64::total_cmp);
        units.retain(|u| !g.contains(&u.0));
        units.push((new_id, times));
    }
}

/// Spyglass's `CurationV1.insert_curation`: writes a new analysis file with the
/// sorting's units and the curation (see the module doc), inserts the row and
/// returns it. Bad input is refused before anything is written.
pub fn insert_curation(
    db: &Db,
    settings: &Settings,
    sorting_id: Uuid,
    input: &CurationInput,
) -> Result<CurationRow> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    let what = |s: &str| format!("{CURATION} (sorting {sorting_id}): {s}");
    let sorting: SortingRow = db.row(ss::SORTING, &SortingKey { sorting_id })?;
    let selection: SortingSelection = db.row(ss::SELECTION, &SortingKey { sorting_id })?;
    if input.description.chars().count() > 100 {
        return Err(Error::bad(
            what("description"),
            "longer than 100 characters (varchar(100))",
        ));
    }
    let parent_curation_id = input.parent_curation_id.max(-1);
    let existing: Vec<CurationRow> =
        db.rows(CURATION, &serde_json::json!({ "sorting_id": sorting_id }))?;
    if parent_curation_id >= 0 && !existing.iter().any(|r| r.curation_id == parent_curation_id) {
        return Err(Error::bad(
            what("parent_curation_id"),
            format!("sorting {sorting_id} has no curation {parent_curation_id}"),
        ));
    }
    let curation_id = existing.iter().map(|r| r.curation_id).max().unwrap_or(-1) + 1;

    // the sorting's units
    let original = read_units(db, &sorting.analysis_file_name, &sorting.object_id)?;
    let sorted_ids: BTreeSet<i64> = original.iter().map(|u| u.id).collect();
    let mut units: Vec<(i64, Vec<f64>)> = original
        .into_iter()
        .map(|u| (u.id, u.spike_times))
        .collect();

    // merge groups
    let groups = input.merge_groups.clone();
    if let Some(gs) = &groups {
        let mut seen = BTreeSet::new();
        for g in gs {
            let distinct: BTreeSet<i64> = g.iter().copied().collect();
            if distinct.len() < 2 {
                return Err(Error::bad(
                    what("merge_groups"),
                    format!("the group {g:?} has fewer than two units"),
                ));
            }
            if distinct.len() != g.len() {
                return Err(Error::bad(
                    what("merge_groups"),
                    format!("the group {g:?} names a unit twice"),
                ));
            }
            if let Some(u) = g.iter().find(|u| !sorted_ids.contains(u)) {
                return Err(Error::bad(
                    what("merge_groups"),
                    format!("unit {u} is not a unit of the sorting (units {sorted_ids:?})"),
                ));
            }
            if input.apply_merge {
                if let Some(u) = g.iter().find(|u| seen.contains(*u)) {
                    return Err(Error::bad(
                        what("merge_groups"),
                        format!("unit {u} is in two groups of an applied merge"),
                    ));
                }
                seen.extend(g.iter().copied());
            }
        }
    }
    let merge_column = if input.apply_merge {
        apply_merges(&mut units, groups.as_deref().unwrap_or(&[]));
        None
    } else {
        groups
    };
    let unit_ids: Vec<i64> = units.iter().map(|u| u.0).collect();

    // labels and metrics name units of the table written
    let label_values = match &input.labels {
        None => None,
        Some(labels) => {
            if let Some(u) = labels.keys().find(|u| !unit_ids.contains(u)) {
                return Err(Error::bad(
                    what("labels"),
                    format!("unit {u} is not a unit of the curated table (units {unit_ids:?})"),
                ));
            }
            let v: Vec<Vec<String>> = unit_ids
                .iter()
                .map(|u| labels.get(u).cloned().unwrap_or_default())
                .collect();
            v.iter().any(|l| !l.is_empty()).then_some(v)
        }
    };
    let mut columns = vec![];
    if let Some(v) = label_values {
        columns.push(ColumnSpec::ragged_text(
            "curation_label",
            "curation label",
            v,
        ));
    }
    if let Some(gs) = &merge_column {
        columns.push(ColumnSpec::ragged_text(
            "merge_groups",
            "merge groups",
            merge_group_column(gs, &unit_ids),
        ));
    }
    for (metric, values) in input.metrics.iter().flatten() {
        if let Some(u) = values.keys().find(|u| !unit_ids.contains(u)) {
            return Err(Error::bad(
                what(&format!("metric {metric}")),
                format!("unit {u} is not a unit of the curated table"),
            ));
        }
        let mut col = Vec::with_capacity(unit_ids.len());
        for u in &unit_ids {
            col.push(*values.get(u).ok_or_else(|| {
                Error::bad(
                    what(&format!("metric {metric}")),
                    format!("no value for unit {u}"),
                )
            })?);
        }
        columns.push(ColumnSpec::f64(metric, metric, col));
    }
    let spec = if unit_ids.is_empty() {
        UnitsSpec {
            description: "Empty units table.".into(),
            ..Default::default()
        }
    } else {
        UnitsSpec {
            description: "Autogenerated by NWBFile".into(),
            ids: Some(unit_ids.clone()),
            spike_times: units.into_iter().map(|u| u.1).collect(),
            electrodes: None,
            resolution: None,
            columns,
        }
    };

    // write, then register and insert in one transaction
    let nwb_file_name = selection.key.nwb_file_name.clone();
    // the session's `_` copy (a recording Python Spyglass made has no recipe to read)
    let raw_file = crate::analysis::nwb_file_path(db, &nwb_file_name)?;
    let description = format!("CurationV1 {sorting_id} / {curation_id}");
    let (file, object_id) =
        crate::kit::analysis_file(settings, &nwb_file_name, &raw_file, &description, |w| {
            Ok(w.add_units(&spec)?)
        })?;
    crate::transaction(db, || {
        let analysis_file_name = db.register(file)?;
        let row = CurationRow {
            sorting_id,
            curation_id,
            parent_curation_id,
            analysis_file_name,
            object_id,
            merges_applied: input.apply_merge,
            description: input.description.clone(),
        };
        db.put(CURATION, &row)?;
        Ok(row)
    })
}

/// Spyglass's `CurationV1.get_sorting` (as a data frame): the units as written.
pub fn get_sorting(db: &Db, key: &CurationKey) -> Result<Vec<CuratedUnit>> {
    let row: CurationRow = db.row(CURATION, key)?;
    read_units(db, &row.analysis_file_name, &row.object_id)
}

/// Spyglass's `CurationV1.get_merged_sorting`: the units with the recorded merge
/// groups applied as SpikeInterface's `MergeUnitsSorting` applies them (the kept
/// units in order, then one unit `max id + 1 + k` per group with the members'
/// spikes sorted and a spike of another member within `int(0.4 ms · fs)` samples of
/// the previous one dropped). Spike times, seconds.
pub fn get_merged_sorting(db: &Db, key: &CurationKey) -> Result<Vec<(i64, Vec<f64>)>> {
    let units = get_sorting(db, key)?;
    let sel: SortingSelection = db.row(
        ss::SELECTION,
        &SortingKey {
            sorting_id: key.sorting_id,
        },
    )?;
    let rate = rec::sampling_rate(db, sel.key.recording_id)?;
    // _merge_dict_to_list: [unit] + others, united, groups of two or more
    let assoc: Vec<Vec<i64>> = units
        .iter()
        .map(|u| {
            let mut g = vec![u.id];
            g.extend(u.merge_group.iter().filter_map(|s| s.parse::<i64>().ok()));
            g
        })
        .collect();
    let groups: Vec<Vec<i64>> = union_intersecting(&assoc)
        .into_iter()
        .filter(|g| g.len() >= 2)
        .collect();
    if groups.is_empty() {
        return Ok(units.into_iter().map(|u| (u.id, u.spike_times)).collect());
    }
    let max_id = units.iter().map(|u| u.id).max().unwrap_or(-1);
    let delta = (0.4 / 1000.0 * rate) as i64;
    let mut out: Vec<(i64, Vec<f64>)> = units
        .iter()
        .filter(|u| !groups.iter().any(|g| g.contains(&u.id)))
        .map(|u| (u.id, u.spike_times.clone()))
        .collect();
    for (k, g) in groups.iter().enumerate() {
        // (time, member) sorted stably by time, as a mergesort argsort
        let mut all: Vec<(f64, usize)> = vec![];
        for (m, id) in g.iter().enumerate() {
            if let Some(u) = units.iter().find(|u| u.id == *id) {
                all.extend(u.spike_times.iter().map(|t| (*t, m)));
            }
        }
        all.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut kept = Vec::with_capacity(all.len());
        for (i, (t, m)) in all.iter().enumerate() {
            let keep = i == 0 || {
                let (pt, pm) = all[i - 1];
                let gap = ((t - pt) * rate).round() as i64;
                gap > delta || *m == pm
            };
            if keep {
                kept.push(*t);
            }
        }
        out.push((max_id + 1 + k as i64, kept));
    }
    Ok(out)
}

/// Spyglass users' `SpikeSortingOutput.insert([key], part_name="CurationV1")`:
/// the merge entry of a curation; returns its merge id (existing or new).
pub fn insert_into_merge(db: &Db, key: &CurationKey) -> Result<Uuid> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    db.row::<CurationRow>(CURATION, key)?;
    match db.merge_add(SPIKE_SORTING_OUTPUT, key)? {
        Value::Uuid(u) => Ok(u),
        other => Err(Error::internal(
            SPIKE_SORTING_OUTPUT,
            format!("merge id {other:?}"),
        )),
    }
}

/// The curation a SpikeSortingOutput merge id points to (its CurationV1 part).
pub fn curation_of_merge(db: &Db, merge_id: Uuid) -> Result<CurationKey> {
    let rows: Vec<CurationKey> =
        db.rows(MERGE_PART, &serde_json::json!({ "merge_id": merge_id }))?;
    rows.into_iter().next().ok_or_else(|| {
        Error::bad(
            SPIKE_SORTING_OUTPUT,
            format!("merge id {merge_id} is not a CurationV1 entry"),
        )
    })
}

/// The NWB file and units-table object id of SpikeSortingOutput entry `merge_id`:
/// a CurationV1 entry's analysis file, or an ImportedSpikeSorting entry's session
/// file (Spyglass's `fetch_nwb` of the part's parent).
pub fn units_of_merge(db: &Db, merge_id: Uuid) -> Result<(std::path::PathBuf, String)> {
    let m = db.merge(SPIKE_SORTING_OUTPUT)?;
    let cond = spyglass_db::Cond::Map(vec![("merge_id".into(), Value::Uuid(merge_id))]);
    let parents = db.merge_get_parent(&m, &cond)?;
    let (source, q) = parents
        .first()
        .ok_or_else(|| Error::missing(SPIKE_SORTING_OUTPUT, format!("merge_id = {merge_id}")))?;
    match source.name.as_str() {
        "CurationV1" => {
            let row: CurationRow = db.row(CURATION, &curation_of_merge(db, merge_id)?)?;
            let path = crate::analysis::analysis_file_path(db, &row.analysis_file_name)?;
            Ok((path, row.object_id))
        }
        "ImportedSpikeSorting" => {
            let row = db.fetch1(q)?;
            let text = |k: &str| {
                row.get(k).and_then(Value::as_str).ok_or_else(|| {
                    Error::internal(IMPORTED_SPIKE_SORTING, format!("row has no `{k}`"))
                })
            };
            let path = crate::analysis::nwb_file_path(db, text("nwb_file_name")?)?;
            Ok((path, text("object_id")?.to_string()))
        }
        other => Err(Error::bad(
            SPIKE_SORTING_OUTPUT,
            format!("merge id {merge_id} is a `{other}` entry, which is not read here"),
        )),
    }
}

/// Spyglass's `SpikeSortingOutput.get_sorting`: the units of a CurationV1 entry
/// (merges recorded but not applied stay as they were written, as Spyglass's
/// `get_sorting` returns them), or of an ImportedSpikeSorting entry (the units table
/// of the session's NWB file; no curation labels).
pub fn get_sorting_by_merge_id(db: &Db, merge_id: Uuid) -> Result<Vec<CuratedUnit>> {
    let (path, object_id) = units_of_merge(db, merge_id)?;
    read_units_at(&path, &object_id)
}

/// Spyglass's `SpikeSortingOutput.get_spike_times`: spike times (seconds) per unit,
/// in the units table's order, of a CurationV1 or ImportedSpikeSorting entry.
pub fn get_spike_times(db: &Db, merge_id: Uuid) -> Result<Vec<Vec<f64>>> {
    Ok(get_sorting_by_merge_id(db, merge_id)?
        .into_iter()
        .map(|u| u.spike_times)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_groups_as_spyglass_lists_them() {
        // _list_to_merge_dict's own example: [[1,2,3],[4,5]] over 1..6
        let col = merge_group_column(&[vec![1, 2, 3], vec![4, 5]], &[1, 2, 3, 4, 5, 6]);
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            col,
            vec![
                s(&["2", "3"]),
                s(&["1", "3"]),
                s(&["1", "2"]),
                s(&["5"]),
                s(&["4"]),
                s(&[""])
            ]
        );
        // intersecting groups are united
        assert_eq!(
            union_intersecting(&[vec![1, 2], vec![3, 4], vec![2, 3], vec![7, 8]]),
            vec![vec![1, 2, 3, 4], vec![7, 8]]
        );
    }

    #[test]
    fn applied_merges_append_new_units() {
        let mut u = vec![
            (0, vec![1.0]),
            (1, vec![0.5]),
            (2, vec![2.0]),
            (3, vec![3.0]),
        ];
        apply_merges(&mut u, &[vec![2, 0], vec![1, 3]]);
        assert_eq!(u, vec![(4, vec![1.0, 2.0]), (5, vec![0.5, 3.0])]);
    }
}
