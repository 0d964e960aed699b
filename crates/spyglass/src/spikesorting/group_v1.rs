//! `spikesorting_group_v1`: groups of sorted units for analysis, as Spyglass 0.6's
//! `spikesorting/analysis/v1/group.py` declares and reads them.
//!
//! - `UnitSelectionParams` (Manual): which units of a curation to keep — labels to
//!   include or exclude, and criteria on the units table's columns
//!   (`unit_criteria`); Spyglass's `all_units`, `exclude_noise` and
//!   `default_exclusion` are its defaults ([`insert_defaults`]).
//! - `SortedSpikesGroup` (Manual) with its part `Units`: a named set of
//!   SpikeSortingOutput entries of one session ([`create_group`]).
//! - [`fetch_spike_data`]: the spike times of every unit of the group's sortings
//!   that passes the selection, in Spyglass's order (merge ids in key order, units
//!   in table order), with Spyglass's unit ids (merge id, index in its table);
//!   [`get_spike_indicator`] counts them per time bin as Spyglass does
//!   (`np.bincount(np.digitize(times, time[1:-1]))`), [`get_firing_rate`] smooths
//!   the counts with `firing_rate_from_spike_indicator` (ripple_detection's
//!   population rate per unit or summed, σ 15 ms by default).
//!
//! Label filtering reads the curation's `curation_label` (or v0's `label`) column:
//! a unit is kept when it has one of the include labels (if any are given) and
//! none of the exclude labels; a sorting without a label column keeps every unit.
//! Unit criteria follow `filter_units_by_criteria`: `{column: {operator: value}}`
//! or `{column: value}` for `isin`; operators `>`, `>=`, `<`, `<=`, `==`, `!=`,
//! `between`, `outside`, `isin`, `notin`; a missing value (NaN) fails every
//! criterion; list-valued columns (labels) take only `isin` / `notin`; a criterion
//! on a column some sorting of the group lacks is an error naming those sortings.
//!
//! One divergence, where Spyglass computes nonsense: a NULL
//! `include_labels` or `exclude_labels` (a row inserted without them) is read as no
//! labels (Spyglass's `np.unique(None)` makes it a label `None` that no unit has,
//! dropping every labelled unit).

use super::curation_v1 as cv;
use super::merge::SPIKE_SORTING_OUTPUT;
use crate::kit::prelude::*;
use serde_json::Value as Json;
use uuid::Uuid;

/// Schema name.
pub const SCHEMA: &str = "spikesorting_group_v1";
/// `UnitSelectionParams` (Manual).
pub const UNIT_SELECTION_PARAMS: &str = "spikesorting_group_v1.UnitSelectionParams";
/// `SortedSpikesGroup` (Manual).
pub const SORTED_SPIKES_GROUP: &str = "spikesorting_group_v1.SortedSpikesGroup";
/// `SortedSpikesGroup.Units` (Part).
pub const SORTED_SPIKES_GROUP_UNITS: &str = "spikesorting_group_v1.SortedSpikesGroup.Units";
/// The curation label columns Spyglass looks for (v0 `label`, v1 `curation_label`).
pub const CURATION_LABEL_COLUMNS: [&str; 2] = ["label", "curation_label"];
/// Spyglass's default σ of `get_firing_rate`, seconds.
pub const DEFAULT_SMOOTHING_SIGMA: f64 = 0.015;

/// Spyglass's default UnitSelectionParams: name, include labels, exclude labels.
pub const DEFAULTS: [(&str, &[&str], &[&str]); 3] = [
    ("all_units", &[], &[]),
    ("exclude_noise", &[], &["noise", "mua"]),
    ("default_exclusion", &[], &["noise", "mua"]),
];

/// The key of a SortedSpikesGroup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupKey {
    /// The session.
    pub nwb_file_name: String,
    /// The unit selection.
    pub unit_filter_params_name: String,
    /// The group's name.
    pub sorted_spikes_group_name: String,
}

/// A SortedSpikesGroup.Units row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupUnitsRow {
    /// The group.
    #[serde(flatten)]
    pub group: GroupKey,
    /// A SpikeSortingOutput merge id.
    pub spikesorting_merge_id: Uuid,
}

/// A UnitSelectionParams row as stored (blobs as their JSON view; NULL as `None`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitSelectionRow {
    /// Its name.
    pub unit_filter_params_name: String,
    /// Labels of which a unit must have one (empty: no such condition).
    #[serde(default)]
    pub include_labels: Option<Json>,
    /// Labels of which a unit must have none.
    #[serde(default)]
    pub exclude_labels: Option<Json>,
    /// Criteria on the units table's columns.
    #[serde(default)]
    pub unit_criteria: Option<Json>,
}

/// A unit selection, read and checked.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct UnitSelection {
    /// Include labels.
    pub include_labels: Vec<String>,
    /// Exclude labels.
    pub exclude_labels: Vec<String>,
    /// Criteria, column → (operator, target), in the stored order.
    pub unit_criteria: Vec<(String, Vec<(String, Json)>)>,
}

/// The operators of `unit_criteria`.
pub const OPERATORS: [&str; 10] = [
    ">", ">=", "<", "<=", "==", "!=", "between", "outside", "isin", "notin",
];

impl UnitSelection {
    /// Reads a stored row (`what` names it in errors).
    pub fn from_row(row: &UnitSelectionRow) -> Result<UnitSelection> {
        let what = format!("{UNIT_SELECTION_PARAMS} `{}`", row.unit_filter_params_name);
        let labels = |v: &Option<Json>, attr: &str| -> Result<Vec<String>> {
            match v {
                None | Some(Json::Null) => Ok(vec![]),
                Some(Json::String(s)) => Ok(vec![s.clone()]),
                Some(Json::Array(items)) => items
                    .iter()
                    .map(|i| {
                        i.as_str().map(str::to_string).ok_or_else(|| {
                            Error::bad(&what, format!("{attr}: {i} is not a label (text)"))
                        })
                    })
                    .collect(),
                Some(other) => Err(Error::bad(
                    &what,
                    format!("{attr}: {other} is not a list of labels"),
                )),
            }
        };
        let mut criteria = vec![];
        match &row.unit_criteria {
            None | Some(Json::Null) => {}
            Some(Json::Object(map)) => {
                for (column, criterion) in map {
                    let ops = match criterion {
                        Json::Object(ops) if ops.is_empty() => {
                            return Err(Error::bad(
                                &what,
                                format!(
                                    "empty criterion for column `{column}`: no operator to apply"
                                ),
                            ))
                        }
                        Json::Object(ops) => ops
                            .iter()
                            .map(|(op, v)| (op.clone(), v.clone()))
                            .collect::<Vec<_>>(),
                        // shorthand for membership
                        other => vec![("isin".to_string(), other.clone())],
                    };
                    for (op, v) in &ops {
                        if !OPERATORS.contains(&op.as_str()) {
                            return Err(Error::bad(
                                &what,
                                format!(
                                    "invalid operator `{op}` for column `{column}` (expected one of {OPERATORS:?})"
                                ),
                            ));
                        }
                        if matches!(op.as_str(), "between" | "outside")
                            && !matches!(v, Json::Array(a) if a.len() == 2)
                        {
                            return Err(Error::bad(
                                &what,
                                format!("operator `{op}` for column `{column}` takes a [low, high] pair, got {v}"),
                            ));
                        }
                    }
                    criteria.push((column.clone(), ops));
                }
            }
            Some(other) => {
                return Err(Error::bad(
                    &what,
                    format!("unit_criteria {other} is not a dict of column → criterion"),
                ))
            }
        }
        Ok(UnitSelection {
            include_labels: labels(&row.include_labels, "include_labels")?,
            exclude_labels: labels(&row.exclude_labels, "exclude_labels")?,
            unit_criteria: criteria,
        })
    }
}

/// The `spikesorting_group_v1` pipeline.
pub struct SpikeSortingGroupV1;

impl Pipeline for SpikeSortingGroupV1 {
    identity!(SCHEMA, family "sorting", requires ["spikesorting_v1_curation", "spikesorting_merge"]);
    provides! {
        defaults: Defaults::rows(UNIT_SELECTION_PARAMS, insert_defaults);
        commands: Command;
    }
    fn tables(&self) -> Vec<TableSpec> {
        let params = "unit_filter_params_name: varchar(32)
---
include_labels = Null: longblob
exclude_labels = Null: longblob
unit_criteria = Null: longblob # column -> criterion the unit must satisfy";
        let group = "-> common_session.Session
-> UnitSelectionParams
sorted_spikes_group_name: varchar(80)";
        let units = "-> master
-> spikesorting_merge.SpikeSortingOutput.proj(spikesorting_merge_id='merge_id')";
        vec![
            TableSpec::new("UnitSelectionParams", Tier::Manual, params),
            TableSpec::new("SortedSpikesGroup", Tier::Manual, group).part("Units", units),
        ]
    }
    fn run(&self, sg: &Spyglass, _name: &str, m: &clap::ArgMatches) -> Result<()> {
        match args::parse(m)? {
            Command::Group(GroupCommand::Create(a)) => {
                let nwb = a.session.name(sg)?;
                let ids = a
                    .merge_ids
                    .iter()
                    .map(|s| {
                        s.parse::<Uuid>()
                            .map_err(|e| Error::bad(format!("merge id `{s}`"), e.to_string()))
                    })
                    .collect::<Result<Vec<_>>>()?;
                let key = create_group(sg, &a.name, &nwb, &a.unit_filter, &ids)?;
                println!(
                    "SortedSpikesGroup `{}` of {nwb}: {} sortings, units by `{}`",
                    key.sorted_spikes_group_name,
                    ids.len(),
                    key.unit_filter_params_name
                );
            }
            Command::Group(GroupCommand::Show(a)) => {
                let nwb = a.session.name(sg)?;
                let key = GroupKey {
                    nwb_file_name: nwb,
                    unit_filter_params_name: a.unit_filter,
                    sorted_spikes_group_name: a.name,
                };
                let (times, ids) = fetch_spike_data(sg, &key, None)?;
                println!("{} units", times.len());
                for (t, id) in times.iter().zip(ids) {
                    println!(
                        "{} unit {}: {} spikes",
                        id.spikesorting_merge_id,
                        id.unit_id,
                        t.len()
                    );
                }
            }
            Command::UnitFilter(UnitFilterCommand::List) => {
                crate::pipelines::declare(sg, &[SCHEMA])?;
                let rows: Vec<UnitSelectionRow> =
                    sg.rows(UNIT_SELECTION_PARAMS, &serde_json::json!({}))?;
                if rows.is_empty() {
                    println!(
                        "no UnitSelectionParams (`spyglass defaults` inserts Spyglass's three)"
                    );
                }
                for r in rows {
                    let s = UnitSelection::from_row(&r)?;
                    println!(
                        "{}: include {:?}, exclude {:?}, criteria {}",
                        r.unit_filter_params_name,
                        s.include_labels,
                        s.exclude_labels,
                        r.unit_criteria.unwrap_or(Json::Null)
                    );
                }
            }
            Command::UnitFilter(UnitFilterCommand::Add(a)) => {
                let criteria = a
                    .criteria
                    .as_deref()
                    .map(|t| {
                        serde_json::from_str::<Json>(t)
                            .map_err(|e| Error::bad("--criteria", e.to_string()))
                    })
                    .transpose()?;
                let inserted =
                    insert_unit_selection(sg, &a.name, &a.include, &a.exclude, criteria.as_ref())?;
                if !inserted {
                    return Err(Error::conflict(
                        format!("{UNIT_SELECTION_PARAMS} `{}`", a.name),
                        "a unit selection of that name exists",
                    ));
                }
                println!("UnitSelectionParams `{}`", a.name);
            }
        }
        Ok(())
    }
}

/// `spyglass sorting …` (this pipeline's part).
#[derive(clap::Subcommand)]
enum Command {
    /// Groups of sorted units for analysis (SortedSpikesGroup).
    #[command(subcommand)]
    Group(GroupCommand),
    /// Unit selections (UnitSelectionParams): labels and unit criteria.
    #[command(subcommand)]
    UnitFilter(UnitFilterCommand),
}

#[derive(clap::Subcommand)]
enum GroupCommand {
    /// Create a group of SpikeSortingOutput entries (SortedSpikesGroup.create_group).
    Create(CreateArgs),
    /// The group's units after the selection, with their spike counts.
    Show(ShowArgs),
}

/// `spyglass sorting group create`.
#[derive(clap::Args)]
struct CreateArgs {
    /// The session.
    #[command(flatten)]
    session: args::SessionArg,
    /// The group's name.
    name: String,
    /// SpikeSortingOutput merge ids.
    #[arg(long = "merge-id", required = true)]
    merge_ids: Vec<String>,
    /// The unit selection (UnitSelectionParams).
    #[arg(long = "unit-filter", default_value = "all_units")]
    unit_filter: String,
}

/// `spyglass sorting group show`.
#[derive(clap::Args)]
struct ShowArgs {
    /// The session.
    #[command(flatten)]
    session: args::SessionArg,
    /// The group's name.
    name: String,
    /// The unit selection.
    #[arg(long = "unit-filter", default_value = "all_units")]
    unit_filter: String,
}

#[derive(clap::Subcommand)]
enum UnitFilterCommand {
    /// Add a unit selection.
    Add(UnitFilterArgs),
    /// List the stored unit selections.
    List,
}

/// `spyglass sorting unit-filter add`.
#[derive(clap::Args)]
struct UnitFilterArgs {
    /// Its name (at most 32 characters).
    name: String,
    /// A label of which a unit must have one (repeat for more).
    #[arg(long)]
    include: Vec<String>,
    /// A label of which a unit must have none (repeat for more).
    #[arg(long)]
    exclude: Vec<String>,
    /// Criteria on the units table's columns, JSON (`{"snr": {">": 5}}`).
    #[arg(long)]
    criteria: Option<String>,
}

/// Inserts Spyglass's `all_units`, `exclude_noise` and `default_exclusion`
/// (skipping present ones); returns how many were inserted.
pub fn insert_defaults(db: &Db) -> Result<usize> {
    let mut n = 0;
    for (name, include, exclude) in DEFAULTS {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        n += insert_unit_selection(db, name, &s(include), &s(exclude), None)? as usize;
    }
    Ok(n)
}

/// Inserts a UnitSelectionParams row (skipping an existing name; true when
/// inserted). The criteria are checked as [`fetch_spike_data`] reads them.
pub fn insert_unit_selection(
    db: &Db,
    name: &str,
    include_labels: &[String],
    exclude_labels: &[String],
    unit_criteria: Option<&Json>,
) -> Result<bool> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    if name.is_empty() || name.chars().count() > 32 {
        return Err(Error::bad(
            format!("{UNIT_SELECTION_PARAMS} `{name}`"),
            "the name must have 1 to 32 characters",
        ));
    }
    let row = UnitSelectionRow {
        unit_filter_params_name: name.to_string(),
        include_labels: Some(serde_json::json!(include_labels)),
        exclude_labels: Some(serde_json::json!(exclude_labels)),
        unit_criteria: unit_criteria.cloned(),
    };
    UnitSelection::from_row(&row)?;
    let blob = |v: &Json| Value::from(spyglass_blob::from_json(v));
    let mut pairs = vec![
        ("unit_filter_params_name", Value::from(name)),
        ("include_labels", blob(&serde_json::json!(include_labels))),
        ("exclude_labels", blob(&serde_json::json!(exclude_labels))),
    ];
    if let Some(c) = unit_criteria {
        pairs.push(("unit_criteria", blob(c)));
    }
    let opts = InsertOptions {
        skip_duplicates: true,
        ..Default::default()
    };
    Ok(db.insert1(UNIT_SELECTION_PARAMS, Row::from_pairs(pairs), opts)? > 0)
}

/// Spyglass's `SortedSpikesGroup.create_group`: the group `group_name` of session
/// `nwb_file_name` with unit selection `unit_filter_params_name` and the
/// SpikeSortingOutput entries `merge_ids`. An existing group is an error (delete
/// it first), as in Spyglass outside its test mode.
pub fn create_group(
    db: &Db,
    group_name: &str,
    nwb_file_name: &str,
    unit_filter_params_name: &str,
    merge_ids: &[Uuid],
) -> Result<GroupKey> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    let key = GroupKey {
        nwb_file_name: nwb_file_name.to_string(),
        unit_filter_params_name: unit_filter_params_name.to_string(),
        sorted_spikes_group_name: group_name.to_string(),
    };
    let existing: Vec<GroupKey> = db.rows(
        SORTED_SPIKES_GROUP,
        &serde_json::json!({"nwb_file_name": nwb_file_name, "sorted_spikes_group_name": group_name}),
    )?;
    if existing.iter().any(|k| k == &key) {
        return Err(Error::conflict(
            format!("{SORTED_SPIKES_GROUP} {nwb_file_name}: {group_name}"),
            "the group exists; delete it before creating a new one",
        ));
    }
    db.row::<UnitSelectionRow>(
        UNIT_SELECTION_PARAMS,
        &serde_json::json!({ "unit_filter_params_name": unit_filter_params_name }),
    )?;
    for id in merge_ids {
        let found: Vec<serde_json::Map<String, Json>> =
            db.rows(SPIKE_SORTING_OUTPUT, &serde_json::json!({ "merge_id": id }))?;
        if found.is_empty() {
            return Err(Error::missing(
                SPIKE_SORTING_OUTPUT,
                format!("merge_id = {id}"),
            ));
        }
    }
    let parts: Vec<GroupUnitsRow> = merge_ids
        .iter()
        .map(|id| GroupUnitsRow {
            group: key.clone(),
            spikesorting_merge_id: *id,
        })
        .collect();
    crate::transaction(db, || {
        db.put(SORTED_SPIKES_GROUP, &key)?;
        db.put_new(SORTED_SPIKES_GROUP_UNITS, &parts)?;
        Ok(())
    })?;
    Ok(key)
}

/// Spyglass's unit id: the sorting's merge id and the unit's index in its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitId {
    /// The SpikeSortingOutput merge id.
    pub spikesorting_merge_id: Uuid,
    /// The unit's row in that sorting's units table (0, 1, …; not its unit id).
    pub unit_id: usize,
}

/// One value of a units-table column, as a criterion compares it.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A number (NaN: missing).
    Num(f64),
    /// Text.
    Text(String),
}

/// A units-table column as the criteria read it.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValues {
    /// One number per unit.
    Numbers(Vec<f64>),
    /// One text per unit.
    Texts(Vec<String>),
    /// A list per unit (ragged columns: labels, merge groups, spike times).
    Lists(Vec<Vec<Scalar>>),
    /// A column the criteria cannot read (references, compounds).
    Other,
}

/// One sorting's units table: spike times per unit and every column by name.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitsTable {
    /// Spike times (s) per unit, in table order.
    pub spike_times: Vec<Vec<f64>>,
    /// The columns, in table order.
    pub columns: Vec<(String, ColumnValues)>,
}

impl UnitsTable {
    fn column(&self, name: &str) -> Option<&ColumnValues> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }
}

/// The units table of SpikeSortingOutput entry `merge_id` (a CurationV1 or an
/// ImportedSpikeSorting entry).
pub fn units_table(db: &Db, merge_id: Uuid) -> Result<UnitsTable> {
    let (path, object_id) = cv::units_of_merge(db, merge_id)?;
    let what = || format!("{} (units {object_id})", path.display());
    let file = spyglass_nwb::NwbFile::open(&path).map_err(|e| Error::bad(what(), e.to_string()))?;
    let Some(t) = file
        .units()
        .map_err(|e| Error::bad(what(), e.to_string()))?
    else {
        return Ok(UnitsTable {
            spike_times: vec![],
            columns: vec![],
        });
    };
    let n = t.len();
    let spike_times = if t.column("spike_times").is_some() {
        t.ragged_f64("spike_times")
            .map_err(|e| Error::bad(what(), e.to_string()))?
    } else {
        vec![vec![]; n]
    };
    let mut columns = vec![];
    for c in &t.columns {
        use spyglass_nwb::Values as V;
        let values = match (&c.data.values, c.ragged_rows()) {
            (_, Some(rows)) => ColumnValues::Lists(
                rows.iter()
                    .map(|r| match r {
                        V::Text(s) | V::Enum(s) => s.iter().cloned().map(Scalar::Text).collect(),
                        V::Float(v) => v.iter().copied().map(Scalar::Num).collect(),
                        V::Int(v) => v.iter().map(|x| Scalar::Num(*x as f64)).collect(),
                        V::UInt(v) => v.iter().map(|x| Scalar::Num(*x as f64)).collect(),
                        V::Bool(v) => v.iter().map(|x| Scalar::Num(*x as u8 as f64)).collect(),
                        _ => vec![],
                    })
                    .collect(),
            ),
            (V::Float(v), None) if v.len() == n => ColumnValues::Numbers(v.clone()),
            (V::Int(v), None) if v.len() == n => {
                ColumnValues::Numbers(v.iter().map(|x| *x as f64).collect())
            }
            (V::UInt(v), None) if v.len() == n => {
                ColumnValues::Numbers(v.iter().map(|x| *x as f64).collect())
            }
            (V::Bool(v), None) if v.len() == n => {
                ColumnValues::Numbers(v.iter().map(|x| *x as u8 as f64).collect())
            }
            (V::Text(v) | V::Enum(v), None) if v.len() == n => ColumnValues::Texts(v.clone()),
            _ => ColumnValues::Other,
        };
        columns.push((c.name.clone(), values));
    }
    Ok(UnitsTable {
        spike_times,
        columns,
    })
}

/// Spyglass's `SortedSpikesGroup.filter_units`: a unit is kept when it has one of
/// `include` (if any) and none of `exclude`; no labels given keeps every unit.
pub fn filter_units(labels: &[Vec<String>], include: &[String], exclude: &[String]) -> Vec<bool> {
    if include.is_empty() && exclude.is_empty() {
        return vec![true; labels.len()];
    }
    labels
        .iter()
        .map(|l| {
            let lacks_include = !include.is_empty() && !l.iter().any(|x| include.contains(x));
            let has_exclude = l.iter().any(|x| exclude.contains(x));
            !(lacks_include || has_exclude)
        })
        .collect()
}

/// A criterion's target as scalars (a single value or a list).
fn targets(v: &Json) -> Vec<Scalar> {
    let one = |x: &Json| match x {
        Json::Number(n) => Some(Scalar::Num(n.as_f64().unwrap_or(f64::NAN))),
        Json::Bool(b) => Some(Scalar::Num(*b as u8 as f64)),
        Json::String(s) => Some(Scalar::Text(s.clone())),
        _ => None,
    };
    match v {
        Json::Array(items) => items.iter().filter_map(one).collect(),
        other => one(other).into_iter().collect(),
    }
}

fn is_in(x: &Scalar, target: &[Scalar]) -> bool {
    target.iter().any(|t| match (x, t) {
        (Scalar::Num(a), Scalar::Num(b)) => a == b,
        (Scalar::Text(a), Scalar::Text(b)) => a == b,
        _ => false,
    })
}

/// Spyglass's `filter_units_by_criteria` over one units table: the mask of units
/// meeting every criterion; criteria on columns the table lacks are skipped and
/// returned (the caller reports them, as `fetch_spike_data` does).
pub fn filter_units_by_criteria(
    table: &UnitsTable,
    criteria: &[(String, Vec<(String, Json)>)],
    what: &str,
) -> Result<(Vec<bool>, Vec<String>)> {
    let n = table.spike_times.len();
    let mut mask = vec![true; n];
    let mut skipped = vec![];
    for (column, ops) in criteria {
        let Some(values) = table.column(column) else {
            skipped.push(column.clone());
            continue;
        };
        for (op, target) in ops {
            let bad = |m: String| Error::bad(format!("{what}: criterion on `{column}`"), m);
            let t = targets(target);
            let keep: Vec<bool> = match (values, op.as_str()) {
                (ColumnValues::Other, _) => {
                    return Err(bad("the column holds values criteria cannot compare".into()))
                }
                (ColumnValues::Lists(rows), "isin") => {
                    rows.iter().map(|r| r.iter().any(|x| is_in(x, &t))).collect()
                }
                (ColumnValues::Lists(rows), "notin") => {
                    rows.iter().map(|r| !r.iter().any(|x| is_in(x, &t))).collect()
                }
                (ColumnValues::Lists(_), op) => {
                    return Err(bad(format!(
                        "operator `{op}` cannot filter a column holding a list per unit; use `isin` or `notin`"
                    )))
                }
                (ColumnValues::Numbers(v), "isin") => {
                    v.iter().map(|x| is_in(&Scalar::Num(*x), &t)).collect()
                }
                (ColumnValues::Numbers(v), "notin") => v
                    .iter()
                    .map(|x| !x.is_nan() && !is_in(&Scalar::Num(*x), &t))
                    .collect(),
                (ColumnValues::Texts(v), "isin") => {
                    v.iter().map(|x| is_in(&Scalar::Text(x.clone()), &t)).collect()
                }
                (ColumnValues::Texts(v), "notin") => {
                    v.iter().map(|x| !is_in(&Scalar::Text(x.clone()), &t)).collect()
                }
                (ColumnValues::Numbers(v), op) => {
                    let num = |k: usize| -> Result<f64> {
                        match t.get(k) {
                            Some(Scalar::Num(x)) => Ok(*x),
                            _ => Err(bad(format!("operator `{op}` needs a number, got {target}"))),
                        }
                    };
                    let range = matches!(op, "between" | "outside");
                    if !range && (target.is_array() || t.len() != 1) {
                        return Err(bad(format!("operator `{op}` takes one number, got {target}")));
                    }
                    let (a, b) = (num(0)?, if range { num(1)? } else { f64::NAN });
                    v.iter()
                        .map(|&x| match op {
                            ">" => x > a,
                            ">=" => x >= a,
                            "<" => x < a,
                            "<=" => x <= a,
                            "==" => x == a,
                            "!=" => x != a && !x.is_nan(),
                            "between" => x >= a && x <= b,
                            _ => x < a || x > b,
                        })
                        .collect()
                }
                (ColumnValues::Texts(v), op) => {
                    let Some(Scalar::Text(a)) = t.first().filter(|_| !target.is_array()) else {
                        return Err(bad(format!(
                            "operator `{op}` on a text column needs one text, got {target}"
                        )));
                    };
                    if matches!(op, "between" | "outside") {
                        return Err(bad(format!("operator `{op}` is for numbers")));
                    }
                    v.iter()
                        .map(|x| match op {
                            ">" => x > a,
                            ">=" => x >= a,
                            "<" => x < a,
                            "<=" => x <= a,
                            "==" => x == a,
                            _ => x != a,
                        })
                        .collect()
                }
            };
            if keep.len() != n {
                return Err(bad(format!("{} values for {n} units", keep.len())));
            }
            for (m, k) in mask.iter_mut().zip(keep) {
                *m &= k;
            }
        }
    }
    Ok((mask, skipped))
}

/// The group's SpikeSortingOutput merge ids, in key order.
pub fn group_merge_ids(db: &Db, key: &GroupKey) -> Result<Vec<Uuid>> {
    db.row::<GroupKey>(SORTED_SPIKES_GROUP, key)?;
    let rows: Vec<GroupUnitsRow> = db.rows(
        SORTED_SPIKES_GROUP_UNITS,
        &serde_json::json!({
            "nwb_file_name": key.nwb_file_name,
            "sorted_spikes_group_name": key.sorted_spikes_group_name,
        }),
    )?;
    let mut ids: Vec<Uuid> = rows.into_iter().map(|r| r.spikesorting_merge_id).collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// The unit selection named `name`.
pub fn fetch_unit_selection(db: &Db, name: &str) -> Result<UnitSelection> {
    let row: UnitSelectionRow = db.row(
        UNIT_SELECTION_PARAMS,
        &serde_json::json!({ "unit_filter_params_name": name }),
    )?;
    UnitSelection::from_row(&row)
}

/// Spyglass's `SortedSpikesGroup.fetch_spike_data(key, time_slice,
/// return_unit_ids=True)`: spike times of the selected units of every sorting of
/// the group (optionally only those in `[start, stop]`), with their unit ids.
pub fn fetch_spike_data(
    db: &Db,
    key: &GroupKey,
    time_slice: Option<[f64; 2]>,
) -> Result<(Vec<Vec<f64>>, Vec<UnitId>)> {
    let merge_ids = group_merge_ids(db, key)?;
    let selection = fetch_unit_selection(db, &key.unit_filter_params_name)?;
    let tables = merge_ids
        .iter()
        .map(|id| Ok((*id, units_table(db, *id)?)))
        .collect::<Result<Vec<_>>>()?;
    select_spikes(&tables, &selection, time_slice)
}

/// The selection of [`fetch_spike_data`] over tables already read.
pub fn select_spikes(
    tables: &[(Uuid, UnitsTable)],
    selection: &UnitSelection,
    time_slice: Option<[f64; 2]>,
) -> Result<(Vec<Vec<f64>>, Vec<UnitId>)> {
    let mut spike_times = vec![];
    let mut unit_ids = vec![];
    let mut skipped: Vec<(String, Uuid)> = vec![];
    let mut applied: Vec<(String, Uuid)> = vec![];
    for (merge_id, table) in tables {
        let what = format!("{SPIKE_SORTING_OUTPUT} {merge_id}");
        let n = table.spike_times.len();
        let mut include = vec![true; n];
        let label_column = table
            .columns
            .iter()
            .find(|(c, _)| CURATION_LABEL_COLUMNS.contains(&c.as_str()));
        if let Some((_, values)) = label_column {
            let labels: Vec<Vec<String>> = match values {
                ColumnValues::Lists(rows) => rows
                    .iter()
                    .map(|r| {
                        r.iter()
                            .filter_map(|x| match x {
                                Scalar::Text(s) => Some(s.clone()),
                                Scalar::Num(_) => None,
                            })
                            .collect()
                    })
                    .collect(),
                ColumnValues::Texts(v) => v.iter().map(|s| vec![s.clone()]).collect(),
                _ => return Err(Error::bad(&what, "the label column does not hold text")),
            };
            let keep = filter_units(
                &labels,
                &selection.include_labels,
                &selection.exclude_labels,
            );
            for (m, k) in include.iter_mut().zip(keep) {
                *m &= k;
            }
        }
        let (keep, missing) = filter_units_by_criteria(table, &selection.unit_criteria, &what)?;
        for (c, _) in &selection.unit_criteria {
            let seen = if missing.contains(c) {
                &mut skipped
            } else {
                &mut applied
            };
            seen.push((c.clone(), *merge_id));
        }
        for (m, k) in include.iter_mut().zip(keep) {
            *m &= k;
        }
        for (u, times) in table.spike_times.iter().enumerate() {
            if !include[u] {
                continue;
            }
            let times: Vec<f64> = match time_slice {
                Some([a, b]) => times
                    .iter()
                    .copied()
                    .filter(|t| *t >= a && *t <= b)
                    .collect(),
                None => times.clone(),
            };
            spike_times.push(times);
            unit_ids.push(UnitId {
                spikesorting_merge_id: *merge_id,
                unit_id: u,
            });
        }
    }
    if !skipped.is_empty() {
        let mut reasons = vec![];
        let mut columns: Vec<&String> = skipped.iter().map(|(c, _)| c).collect();
        columns.sort();
        columns.dedup();
        for c in columns {
            let missing: Vec<String> = skipped
                .iter()
                .filter(|(x, _)| x == c)
                .map(|(_, id)| id.to_string())
                .collect();
            let n_applied = applied.iter().filter(|(x, _)| x == c).count();
            reasons.push(if n_applied == 0 {
                format!("`{c}`: no sorting in this group has this column (a typo?)")
            } else {
                format!(
                    "`{c}`: missing from {} of {} units tables ({})",
                    missing.len(),
                    missing.len() + n_applied,
                    missing.join(", ")
                )
            });
        }
        return Err(Error::bad(
            "unit_criteria",
            format!(
                "could not be applied to every sorting in the group: {}",
                reasons.join("; ")
            ),
        ));
    }
    Ok((spike_times, unit_ids))
}

/// Spike counts per time bin: `counts[u][k]` for unit `u` and sample `k`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpikeIndicator {
    /// Number of time samples.
    pub n_time: usize,
    /// Counts per unit (each `n_time` long).
    pub units: Vec<Vec<f64>>,
}

impl SpikeIndicator {
    /// The counts time-major (`n_time × n_units`, numpy's layout).
    pub fn time_major(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.n_time * self.units.len()];
        let nu = self.units.len();
        for (u, col) in self.units.iter().enumerate() {
            for (k, v) in col.iter().enumerate() {
                out[k * nu + u] = *v;
            }
        }
        out
    }

    /// The counts summed over the units (`spike_indicator.sum(axis=1)`).
    pub fn summed(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.n_time];
        for col in &self.units {
            for (o, v) in out.iter_mut().zip(col) {
                *o += v;
            }
        }
        out
    }
}

/// Checks a time vector for the spike indicator: non-empty, finite, ascending.
fn check_time(time: &[f64]) -> Result<()> {
    if time.is_empty() {
        return Err(Error::bad("time", "no samples"));
    }
    if let Some(k) = time.iter().position(|t| !t.is_finite()) {
        return Err(Error::bad("time", format!("sample {k} is {}", time[k])));
    }
    if let Some(k) = time.windows(2).position(|w| w[1] < w[0]) {
        return Err(Error::bad(
            "time",
            format!("not ascending at sample {}", k + 1),
        ));
    }
    Ok(())
}

/// The counts of Spyglass's `get_spike_indicator` for given spike trains: per
/// unit, the spikes in `[time[0], time[-1]]`, each in bin
/// `np.digitize(t, time[1:-1])` (the number of inner edges ≤ t).
pub fn spike_indicator(spike_times: &[Vec<f64>], time: &[f64]) -> Result<SpikeIndicator> {
    check_time(time)?;
    let n = time.len();
    let (lo, hi) = (time[0], time[n - 1]);
    let edges = if n >= 2 { &time[1..n - 1] } else { &[][..] };
    let units = spike_times
        .iter()
        .map(|times| {
            let mut col = vec![0.0; n];
            for &t in times {
                if t >= lo && t <= hi {
                    col[edges.partition_point(|e| *e <= t)] += 1.0;
                }
            }
            col
        })
        .collect();
    Ok(SpikeIndicator { n_time: n, units })
}

/// Spyglass's `SortedSpikesGroup.get_spike_indicator(key, time,
/// return_unit_ids=True)`.
pub fn get_spike_indicator(
    db: &Db,
    key: &GroupKey,
    time: &[f64],
) -> Result<(SpikeIndicator, Vec<UnitId>)> {
    check_time(time)?;
    let (spikes, ids) = fetch_spike_data(db, key, None)?;
    Ok((spike_indicator(&spikes, time)?, ids))
}

/// numpy's median of a non-empty slice (the mean of the middle pair when even).
fn median(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// `1 / np.median(np.diff(time))`, Spyglass's sampling frequency of a time vector.
pub fn sampling_frequency(time: &[f64]) -> Result<f64> {
    if time.len() < 2 {
        return Err(Error::bad(
            "time",
            "at least two samples are needed for a sampling frequency",
        ));
    }
    let diffs: Vec<f64> = time.windows(2).map(|w| w[1] - w[0]).collect();
    let fs = 1.0 / median(&diffs);
    if !(fs.is_finite() && fs > 0.0) {
        return Err(Error::bad(
            "time",
            format!("the median step gives a sampling frequency of {fs}"),
        ));
    }
    Ok(fs)
}

/// Spyglass's `firing_rate_from_spike_indicator`: each unit's counts (or, with
/// `multiunit`, their sum) as ripple_detection's population rate at
/// `1 / median(diff(time))` Hz, smoothed with σ `smoothing_sigma` s. One column
/// per unit (one with `multiunit`).
pub fn firing_rate_from_spike_indicator(
    indicator: &SpikeIndicator,
    time: &[f64],
    multiunit: bool,
    smoothing_sigma: f64,
) -> Result<Vec<Vec<f64>>> {
    if time.len() != indicator.n_time {
        return Err(Error::bad(
            "time",
            format!(
                "{} samples for a spike indicator of {}",
                time.len(),
                indicator.n_time
            ),
        ));
    }
    let fs = sampling_frequency(time)?;
    let columns = if multiunit {
        vec![indicator.summed()]
    } else {
        indicator.units.clone()
    };
    columns
        .iter()
        .map(|c| {
            let mu = spyglass_ripple::Multiunit {
                data: c,
                n_units: 1,
            };
            spyglass_ripple::multiunit_population_firing_rate(mu, fs, smoothing_sigma)
                .map_err(|e| Error::bad("firing rate", e.to_string()))
        })
        .collect()
}

/// Spyglass's `SortedSpikesGroup.get_firing_rate(key, time, multiunit,
/// smoothing_sigma, return_unit_ids=True)`.
pub fn get_firing_rate(
    db: &Db,
    key: &GroupKey,
    time: &[f64],
    multiunit: bool,
    smoothing_sigma: f64,
) -> Result<(Vec<Vec<f64>>, Vec<UnitId>)> {
    let (indicator, ids) = get_spike_indicator(db, key, time)?;
    Ok((
        firing_rate_from_spike_indicator(&indicator, time, multiunit, smoothing_sigma)?,
        ids,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digitize_bins_by_hand() {
        // time 0, 1, 2, 3: inner edges 1, 2; a spike at 1.0 goes to bin 1, at
        // 0.5 to bin 0, at 2.5 and 3.0 to bin 2 (numpy's digitize), 3.5 is out
        let got = spike_indicator(
            &[vec![0.5, 1.0, 2.5, 3.0, 3.5, -1.0]],
            &[0.0, 1.0, 2.0, 3.0],
        )
        .unwrap();
        assert_eq!(got.units[0], vec![1.0, 1.0, 2.0, 0.0]);
        assert!(spike_indicator(&[], &[]).is_err());
    }

    #[test]
    fn label_filter_as_spyglass() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let labels = vec![l(&["accept"]), l(&["noise", "reject"]), l(&[]), l(&["mua"])];
        assert_eq!(
            filter_units(&labels, &[], &l(&["noise", "mua"])),
            vec![true, false, true, false]
        );
        assert_eq!(
            filter_units(&labels, &l(&["accept"]), &[]),
            vec![true, false, false, false]
        );
        assert_eq!(filter_units(&labels, &[], &[]), vec![true; 4]);
    }
}
