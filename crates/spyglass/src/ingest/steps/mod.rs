//! Filling each common table from one file, in Spyglass's four dependency groups
//! (`populate_all_common`): G1 shared entities (people, subject, devices), G2 the
//! session and what hangs directly off it (probes, groups, raw, DIO, sensors,
//! epochs, task epochs), G3 what depends on those (electrodes, position sources,
//! compass, videos, StateScript files), G4 raw position. Each schema's steps are in
//! their own file; this module holds what they share: the context of one file's
//! ingestion (`Ctx`), the rule by which a step's rows meet stored rows
//! (`Mode`: session rows are new, shared rows follow the one
//! [divergence policy](super::divergence), vocabulary rows are skipped when
//! present), and the helpers that build rows from the file and its config yaml.

pub mod common_behav;
pub mod common_device;
pub mod common_dio;
pub mod common_ephys;
pub mod common_interval;
pub mod common_lab;
pub mod common_nwbfile;
pub mod common_sensors;
pub mod common_session;
pub mod common_subject;
pub mod common_task;
pub mod ephys_series;
pub mod lfp_imported;
pub mod position_imported_pose;
pub mod spikesorting_imported;

use super::divergence;
use super::source::Source;
use super::yaml::{to_value, FileConfig, YamlRow};
use crate::common::common_behav as behav;
use crate::common::common_device as dev;
use crate::common::common_dio as dio;
use crate::common::common_ephys as ephys;
use crate::common::common_interval::{self as iv, IntervalList};
use crate::common::common_lab as lab;
use crate::common::common_region;
use crate::common::common_sensors as sensors;
use crate::common::common_session as sess;
use crate::common::common_subject as subj;
use crate::common::common_task as task;
use crate::common::ephys_series as es;
use crate::common::spikesorting_imported as ssi;
use crate::error::{Error, Result};
use indexmap::IndexMap;
use spyglass_db::{Cond, Db, FetchSpec, InsertOptions, Row, Value};
use std::collections::HashMap;

/// A row under construction: attribute → value, in insertion order.
pub(crate) type Rec = IndexMap<String, Value>;

/// How a step's rows meet rows already in the database.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Rows of this session: plain insert (a duplicate key is an error).
    Fresh,
    /// Shared rows: an existing key must hold equal values, else divergence.
    Shared,
    /// Vocabulary or link rows: existing keys are skipped.
    SkipExisting,
}

/// One ingestion step: the table it is reported under and the function that fills it.
pub(crate) type Step = (&'static str, fn(&mut Ctx) -> Result<()>);

/// Spyglass's groups G1–G4, each run in one transaction.
pub(crate) const GROUPS: [&[Step]; 4] = [
    &[
        (lab::INSTITUTION, common_lab::institution),
        (lab::LAB, common_lab::lab_row),
        (lab::LAB_MEMBER, common_lab::lab_member),
        (lab::LAB_TEAM, common_lab::lab_team),
        (subj::SUBJECT, common_subject::subject),
        (dev::CAMERA_DEVICE, common_device::camera_device),
        (dev::PROBE_TYPE, common_device::probe_type),
        (dev::DAQ_AMPLIFIER, common_device::daq_amplifier),
        (dev::DAQ_SYSTEM, common_device::daq_system),
        (dev::DAQ_DEVICE, common_device::daq_device),
    ],
    &[
        (dev::PROBE, common_device::probe),
        (dev::PROBE_SHANK, common_device::probe_shank),
        (dev::PROBE_ELECTRODE, common_device::probe_electrode),
        (sess::SESSION, common_session::session),
        (ephys::ELECTRODE_GROUP, common_ephys::electrode_group),
        (ephys::RAW, common_ephys::raw),
        (ephys::SAMPLE_COUNT, common_ephys::sample_count),
        (
            ssi::IMPORTED_SPIKE_SORTING,
            spikesorting_imported::imported_spike_sorting,
        ),
        (dio::DIO_EVENTS, common_dio::dio_events),
        (sensors::SENSOR_DATA, common_sensors::sensor_data),
        (iv::INTERVAL_LIST, common_interval::epochs),
        (task::TASK_EPOCH, common_task::task_epoch),
    ],
    &[
        (ephys::ELECTRODE, common_ephys::electrode),
        (
            crate::lfp::imported::IMPORTED_LFP,
            lfp_imported::imported_lfp,
        ),
        (es::ELECTRICAL_SERIES, ephys_series::electrical_series),
        (behav::POSITION_SOURCE, common_behav::position_source),
        (
            behav::RAW_COMPASS_DIRECTION,
            common_behav::raw_compass_direction,
        ),
        (behav::VIDEO_FILE, common_behav::video_file),
        (behav::STATE_SCRIPT_FILE, common_behav::state_script_file),
        (
            crate::position::imported_pose::IMPORTED_POSE,
            position_imported_pose::imported_pose,
        ),
    ],
    &[(behav::RAW_POSITION, common_behav::raw_position)],
];

/// Declares the tables ingestion fills beyond the common schemas (ElectricalSeries,
/// ImportedSpikeSorting, ImportedLFP and the LFP schemas it needs, ImportedPose);
/// call outside any transaction.
pub(crate) fn declare_tables(db: &Db) -> Result<()> {
    let pose = crate::position::imported_pose::SCHEMA;
    crate::pipelines::declare(db, &["common", crate::lfp::imported::SCHEMA, pose])
}

/// Number of steps over all groups (for progress bars).
pub(crate) fn step_count() -> usize {
    GROUPS.iter().map(|g| g.len()).sum()
}

/// State of one file's ingestion.
pub(crate) struct Ctx<'a> {
    pub db: &'a Db,
    pub src: &'a Source,
    pub cfg: &'a FileConfig,
    pub accept_divergence: bool,
    pub nwb_file_name: String,
    pub warnings: Vec<String>,
    pub counts: IndexMap<String, u64>,
    regions: HashMap<String, i64>,
    subject_id: Option<String>,
    institution: Option<String>,
    lab: Option<String>,
    raw_interval: Option<String>,
    session_intervals: Vec<String>,
    group_probe: HashMap<String, Option<String>>,
    task_epochs: Vec<(i64, String)>,
    pos_epochs: Vec<common_behav::PosEpoch>,
    /// IntervalList of each LFP series (by path), made by ImportedLFP.
    series_intervals: HashMap<String, String>,
}

impl<'a> Ctx<'a> {
    /// A context for ingesting `src` as `nwb_file_name`.
    pub fn new(
        db: &'a Db,
        src: &'a Source,
        cfg: &'a FileConfig,
        nwb_file_name: &str,
        accept_divergence: bool,
    ) -> Ctx<'a> {
        Ctx {
            db,
            src,
            cfg,
            accept_divergence,
            nwb_file_name: nwb_file_name.to_string(),
            warnings: vec![],
            counts: IndexMap::new(),
            regions: HashMap::new(),
            subject_id: None,
            institution: None,
            lab: None,
            raw_interval: None,
            session_intervals: vec![],
            group_probe: HashMap::new(),
            task_epochs: vec![],
            pos_epochs: vec![],
            series_intervals: HashMap::new(),
        }
    }

    fn warn(&mut self, table: &str, msg: impl Into<String>) {
        self.warnings.push(format!("{table}: {}", msg.into()));
    }

    fn count(&mut self, table: &str, n: u64) {
        *self.counts.entry(table.to_string()).or_insert(0) += n;
    }

    fn base(&self) -> Rec {
        let mut r = Rec::new();
        r.insert(
            "nwb_file_name".into(),
            Value::from(self.nwb_file_name.as_str()),
        );
        r
    }

    fn region(&mut self, name: &str) -> Result<i64> {
        if let Some(id) = self.regions.get(name) {
            return Ok(*id);
        }
        let id = common_region::fetch_add(self.db, name, None, None)?;
        self.regions.insert(name.to_string(), id);
        Ok(id)
    }

    fn interval(&mut self, list: IntervalList, update: bool) -> Result<()> {
        let name = list.interval_list_name.clone();
        if iv::insert(self.db, &list, update)? != iv::IntervalInsert::Unchanged {
            self.count(iv::INTERVAL_LIST, 1);
        }
        if !self.session_intervals.contains(&name) {
            self.session_intervals.push(name);
        }
        Ok(())
    }

    /// Timestamps of a series of the file (stored, or from its rate).
    fn timestamps(&self, s: &spyglass_nwb::TimeSeries) -> Result<Vec<f64>> {
        let nwb = spyglass_nwb::NwbFile::open(&self.src.path)?;
        Ok(nwb.timestamps(&s.path)?)
    }

    /// Inserts `recs` into `table` following `mode`; returns rows written.
    fn put(&mut self, table: &str, recs: Vec<Rec>, mode: Mode) -> Result<u64> {
        if recs.is_empty() {
            return Ok(0);
        }
        let info = self.db.table_info(table)?;
        let pk = info.primary_key();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut todo: Vec<Rec> = Vec::with_capacity(recs.len());
        for r in recs {
            let key = key_text(&pk, &r);
            if let Some(&j) = seen.get(&key) {
                if let Some((attr, a, b)) = divergence::first_difference(&r, &todo[j], &pk) {
                    self.warn(
                        table,
                        format!(
                            "the file gives {key} twice with different `{attr}` ({a} and {b}); the first is kept"
                        ),
                    );
                }
                continue;
            }
            if mode != Mode::Fresh {
                let cond = Cond::Map(
                    pk.iter()
                        .map(|k| (k.clone(), r.get(k).cloned().unwrap_or(Value::Null)))
                        .collect(),
                );
                let q = self.db.table(table)?.restrict(cond)?;
                let given: Vec<&String> =
                    r.keys().filter(|k| info.heading.get(k).is_some()).collect();
                let existing = self.db.fetch_with(&q, &FetchSpec::attrs(&given))?;
                if let Some(old) = existing.first() {
                    if mode == Mode::Shared {
                        let old: Rec = old.to_map().into_iter().collect();
                        let warnings =
                            divergence::check(table, &key, &r, &old, &pk, self.accept_divergence)?;
                        for w in warnings {
                            self.warn(table, w);
                        }
                    }
                    continue;
                }
            }
            seen.insert(key, todo.len());
            todo.push(r);
        }
        let rows = normalize(todo);
        let n = self.db.insert(
            table,
            &rows,
            InsertOptions {
                allow_direct_insert: true,
                ..Default::default()
            },
        )?;
        self.count(table, n);
        Ok(n)
    }
}

fn key_text(pk: &[String], r: &Rec) -> String {
    let parts: Vec<String> = pk
        .iter()
        .map(|k| {
            format!(
                "{k}={}",
                r.get(k).map(Value::python_str).unwrap_or_default()
            )
        })
        .collect();
    format!("({})", parts.join(", "))
}

/// Rows with the union of the records' attributes (missing ones NULL, i.e. default).
fn normalize(recs: Vec<Rec>) -> Vec<Row> {
    let mut cols: Vec<String> = vec![];
    for r in &recs {
        for k in r.keys() {
            if !cols.contains(k) {
                cols.push(k.clone());
            }
        }
    }
    let cols: std::sync::Arc<[String]> = cols.into();
    recs.into_iter()
        .map(|mut r| {
            let values = cols
                .iter()
                .map(|c| r.shift_remove(c).unwrap_or(Value::Null))
                .collect();
            Row::new(cols.clone(), values).unwrap_or_else(|_| Row::from_pairs::<String, Value>([]))
        })
        .collect()
}

fn rec<const N: usize>(pairs: [(&str, Value); N]) -> Rec {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn yaml_rec(r: &YamlRow) -> Rec {
    r.iter().map(|(k, v)| (k.clone(), to_value(v))).collect()
}

fn opt(s: &Option<String>) -> Value {
    Value::from(s.clone())
}

/// Merges config rows into `recs` by the key attributes `key` (config values win; new keys added).
fn merge_config(recs: &mut Vec<Rec>, cfg_rows: &[YamlRow], key: &[&str]) {
    for c in cfg_rows {
        let c = yaml_rec(c);
        let pos = recs.iter().position(|r| {
            key.iter()
                .all(|k| matches!((r.get(*k), c.get(*k)), (Some(a), Some(b)) if divergence::same_value(a, b)))
        });
        match pos {
            Some(i) => {
                for (k, v) in c {
                    recs[i].insert(k, v);
                }
            }
            None => recs.push(c),
        }
    }
}

/// The first `value` of `attr` in a config table, if given.
fn cfg_value(cfg: &FileConfig, class: &str, attr: &str) -> Option<Value> {
    cfg.rows(class)
        .first()
        .and_then(|r| r.get(attr))
        .map(to_value)
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Str(s) => Some(s.clone()),
        other => Some(other.python_str()),
    }
}

fn int_name(table: &str, what: &str, name: &str) -> Result<i64> {
    name.trim().parse::<i64>().map_err(|_| {
        Error::bad(
            table,
            format!("{what} `{name}` is not named by an integer (Spyglass requires integer names)"),
        )
    })
}
