//! `common_interval`: named lists of time intervals of a session (`IntervalList`:
//! `valid_times` is an N×2 float64 blob of `[start, stop]` seconds) and the
//! operations on them. The algebra itself (intersect, union, subtract,
//! consolidate, length filters, which timestamps fall inside, valid intervals
//! from timestamps with gaps) is [`spyglass_dsp::Intervals`]; this module stores
//! and fetches lists and inserts them "cautiously" as Spyglass does: a new name is
//! inserted, the same name with the same times is a no-op, the same name with
//! different times is an error unless `update` is asked for.

use crate::error::{Error, Result};
use spyglass_db::{Cond, Db, FetchSpec, InsertOptions, Row, TableSpec, Tier, Value};
pub use spyglass_dsp::{index_runs, valid_intervals, Intervals};

/// Schema name.
pub const SCHEMA: &str = "common_interval";
/// `IntervalList` (Manual).
pub const INTERVAL_LIST: &str = "common_interval.IntervalList";

/// Name of the raw data's valid-time list.
pub const RAW_VALID_TIMES: &str = "raw data valid times";

/// Gap factor of raw data valid times: a gap is a step longer than 1.75 sample periods.
pub const RAW_GAP_PROPORTION: f64 = 1.75;

/// The tables of this schema.
pub fn specs() -> Vec<TableSpec> {
    vec![TableSpec::new(
        "IntervalList",
        Tier::Manual,
        "# named lists of time intervals of a session
-> common_session.Session
interval_list_name : varchar(170)  # name of the list
---
valid_times : longblob  # N x 2 array of [start, stop] times, seconds
pipeline = \"\" : varchar(64)  # what made the list",
    )]
}

/// One `IntervalList` row.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalList {
    /// The session (`_` copy file name).
    pub nwb_file_name: String,
    /// The list's name, e.g. `01_s1` or `raw data valid times`.
    pub interval_list_name: String,
    /// `[start, stop]` pairs as stored.
    pub valid_times: Vec<[f64; 2]>,
    /// What made the list (`""`, `position`, `lfp_v1`, ...).
    pub pipeline: String,
}

impl IntervalList {
    /// A row with an empty pipeline.
    pub fn new(nwb_file_name: &str, name: &str, valid_times: Vec<[f64; 2]>) -> IntervalList {
        IntervalList {
            nwb_file_name: nwb_file_name.to_string(),
            interval_list_name: name.to_string(),
            valid_times,
            pipeline: String::new(),
        }
    }

    /// Sets the pipeline.
    pub fn with_pipeline(mut self, pipeline: &str) -> IntervalList {
        self.pipeline = pipeline.to_string();
        self
    }

    /// The times as a sorted, disjoint list (overlapping or touching intervals merged).
    pub fn intervals(&self) -> Result<Intervals> {
        Ok(Intervals::consolidate(self.valid_times.clone())?)
    }

    /// The row as the engine inserts it.
    pub fn to_row(&self) -> Row {
        Row::from_pairs([
            ("nwb_file_name", Value::from(self.nwb_file_name.as_str())),
            (
                "interval_list_name",
                Value::from(self.interval_list_name.as_str()),
            ),
            (
                "valid_times",
                Value::from(spyglass_blob::Value::intervals(&self.valid_times)),
            ),
            ("pipeline", Value::from(self.pipeline.as_str())),
        ])
    }
}

/// What a cautious insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalInsert {
    /// A new row was inserted.
    Inserted,
    /// The same row already existed.
    Unchanged,
    /// An existing row with other times was updated (`update = true`).
    Updated,
}

fn key_cond(nwb_file_name: &str, name: &str) -> Cond {
    Cond::map([
        ("nwb_file_name", nwb_file_name),
        ("interval_list_name", name),
    ])
}

fn times_of(table: &str, row: &Row) -> Result<Vec<[f64; 2]>> {
    let blob = row
        .get("valid_times")
        .and_then(Value::as_blob)
        .ok_or_else(|| Error::internal(table, "`valid_times` is not a blob"))?;
    if let Some(v) = blob.as_intervals() {
        return Ok(v);
    }
    // an empty array or a flat pair are valid lists too
    match blob.as_f64_slice() {
        Some([]) => Ok(vec![]),
        Some([a, b]) => Ok(vec![[*a, *b]]),
        _ => Err(Error::internal(
            table,
            "`valid_times` is not an N x 2 array of numbers",
        )),
    }
}

/// Inserts a list cautiously (see the module doc); `update` replaces differing times.
pub fn insert(db: &Db, list: &IntervalList, update: bool) -> Result<IntervalInsert> {
    for (i, [a, b]) in list.valid_times.iter().enumerate() {
        if !(a.is_finite() && b.is_finite() && a <= b) {
            return Err(Error::bad(
                format!("{INTERVAL_LIST} `{}`", list.interval_list_name),
                format!("interval {i} [{a}, {b}] is not a finite [start, stop] with start <= stop"),
            ));
        }
    }
    match fetch_row(db, &list.nwb_file_name, &list.interval_list_name)? {
        None => {
            db.insert1(INTERVAL_LIST, list.to_row(), InsertOptions::default())?;
            Ok(IntervalInsert::Inserted)
        }
        Some(old) if old.valid_times == list.valid_times && old.pipeline == list.pipeline => {
            Ok(IntervalInsert::Unchanged)
        }
        Some(_) if update => {
            db.update1(INTERVAL_LIST, &list.to_row())?;
            Ok(IntervalInsert::Updated)
        }
        Some(old) => Err(Error::conflict(INTERVAL_LIST, format!(
            "`{}` of {} already exists with other times ({} intervals, pipeline `{}`); pass update to replace them",
            list.interval_list_name,
            list.nwb_file_name,
            old.valid_times.len(),
            old.pipeline
        ))),
    }
}

fn fetch_row(db: &Db, nwb_file_name: &str, name: &str) -> Result<Option<IntervalList>> {
    let q = db
        .table(INTERVAL_LIST)?
        .restrict(key_cond(nwb_file_name, name))?;
    let rows = db.fetch(&q)?;
    rows.first().map(from_row).transpose()
}

fn from_row(r: &Row) -> Result<IntervalList> {
    let text = |k: &str| {
        r.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Ok(IntervalList {
        nwb_file_name: text("nwb_file_name"),
        interval_list_name: text("interval_list_name"),
        valid_times: times_of(INTERVAL_LIST, r)?,
        pipeline: text("pipeline"),
    })
}

/// The row `name` of a session, or an error naming both when absent.
pub fn fetch_list(db: &Db, nwb_file_name: &str, name: &str) -> Result<IntervalList> {
    fetch_row(db, nwb_file_name, name)?.ok_or_else(|| {
        Error::missing(
            INTERVAL_LIST,
            format!("nwb_file_name = `{nwb_file_name}`, interval_list_name = `{name}`"),
        )
    })
}

/// The times of list `name` as a sorted, disjoint [`Intervals`].
pub fn fetch_intervals(db: &Db, nwb_file_name: &str, name: &str) -> Result<Intervals> {
    fetch_list(db, nwb_file_name, name)?.intervals()
}

/// Every list of a session, ordered by name.
pub fn fetch_all(db: &Db, nwb_file_name: &str) -> Result<Vec<IntervalList>> {
    let q = db
        .table(INTERVAL_LIST)?
        .restrict(Cond::map([("nwb_file_name", nwb_file_name)]))?;
    let rows = db.fetch_with(&q, &FetchSpec::default().order_by(&["interval_list_name"]))?;
    rows.iter().map(from_row).collect()
}

/// Names of a session's lists, ordered.
pub fn list_names(db: &Db, nwb_file_name: &str) -> Result<Vec<String>> {
    let q = db
        .table(INTERVAL_LIST)?
        .restrict(Cond::map([("nwb_file_name", nwb_file_name)]))?;
    let rows = db.fetch_with(
        &q,
        &FetchSpec::attrs(&["interval_list_name"]).order_by(&["interval_list_name"]),
    )?;
    Ok(rows
        .iter()
        .filter_map(|r| r.get("interval_list_name").and_then(Value::as_str))
        .map(str::to_string)
        .collect())
}

/// Intersects two stored lists of a session (pieces of zero length dropped, then
/// those not longer than `min_length`).
pub fn intersect_lists(
    db: &Db,
    nwb_file_name: &str,
    a: &str,
    b: &str,
    min_length: f64,
) -> Result<Intervals> {
    let x = fetch_intervals(db, nwb_file_name, a)?;
    let y = fetch_intervals(db, nwb_file_name, b)?;
    Ok(x.intersect(&y).longer_than(min_length))
}
