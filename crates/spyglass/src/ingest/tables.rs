//! Filling each common table from one file, in Spyglass's four dependency groups
//! (`populate_all_common`): G1 shared entities (people, subject, devices), G2 the
//! session and what hangs directly off it (probes, groups, raw, DIO, sensors,
//! epochs, task epochs), G3 what depends on those (electrodes, position sources,
//! compass, videos, StateScript files), G4 raw position. Every step reads the
//! gathered [`Source`], applies the file's config yaml, and inserts with the rule
//! of its table: session rows are new; shared rows (a subject, a lab member, a
//! probe type, a camera) follow one policy ([`divergence`]): attributes that
//! change between sessions of the same entity (a subject's age, weight and
//! description; a recalibrated camera) keep the stored row and are reported,
//! while real conflicts (a subject's sex, species or genotype; a probe's
//! geometry) refuse the file, naming both values and how to resolve it, unless
//! divergence is accepted (the database's row is kept with a warning).

use super::source::{Source, TimedSeries};
use super::yaml::{to_value, FileConfig, YamlRow};
use crate::common::common_behav as behav;
use crate::common::common_device as dev;
use crate::common::common_dio as dio;
use crate::common::common_ephys as ephys;
use crate::common::common_interval::{
    self as iv, IntervalList, RAW_GAP_PROPORTION, RAW_VALID_TIMES,
};
use crate::common::common_lab::{self as lab, decompose_name};
use crate::common::common_nwbfile as nwbfile;
use crate::common::common_region;
use crate::common::common_sensors as sensors;
use crate::common::common_session as sess;
use crate::common::common_subject::{self as subj, standardized_sex};
use crate::common::common_task as task;
use crate::common::ephys_series as es;
use crate::common::spikesorting_imported as ssi;
use crate::error::{Error, Result};
use indexmap::IndexMap;
use spyglass_db::{Cond, Db, FetchSpec, InsertOptions, Row, Value};
use spyglass_dsp::{estimate_sampling_rate, valid_intervals, Intervals};
use spyglass_nwb::Timing;
use std::collections::{BTreeMap, HashMap};

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
        (lab::INSTITUTION, institution),
        (lab::LAB, lab_row),
        (lab::LAB_MEMBER, lab_member),
        (lab::LAB_TEAM, lab_team),
        (subj::SUBJECT, subject),
        (dev::CAMERA_DEVICE, camera_device),
        (dev::PROBE_TYPE, probe_type),
        (dev::DAQ_AMPLIFIER, daq_amplifier),
        (dev::DAQ_SYSTEM, daq_system),
        (dev::DAQ_DEVICE, daq_device),
    ],
    &[
        (dev::PROBE, probe),
        (dev::PROBE_SHANK, probe_shank),
        (dev::PROBE_ELECTRODE, probe_electrode),
        (sess::SESSION, session),
        (ephys::ELECTRODE_GROUP, electrode_group),
        (ephys::RAW, raw),
        (ephys::SAMPLE_COUNT, sample_count),
        (ssi::IMPORTED_SPIKE_SORTING, imported_spike_sorting),
        (dio::DIO_EVENTS, dio_events),
        (sensors::SENSOR_DATA, sensor_data),
        (iv::INTERVAL_LIST, epochs),
        (task::TASK_EPOCH, task_epoch),
    ],
    &[
        (ephys::ELECTRODE, electrode),
        (crate::lfp::imported::IMPORTED_LFP, imported_lfp),
        (es::ELECTRICAL_SERIES, electrical_series),
        (behav::POSITION_SOURCE, position_source),
        (behav::RAW_COMPASS_DIRECTION, raw_compass_direction),
        (behav::VIDEO_FILE, video_file),
        (behav::STATE_SCRIPT_FILE, state_script_file),
    ],
    &[(behav::RAW_POSITION, raw_position)],
];

/// Declares the tables ingestion fills beyond the common schemas (ElectricalSeries,
/// ImportedSpikeSorting, ImportedLFP and the LFP schemas it needs); call outside
/// any transaction.
pub(crate) fn declare_tables(db: &Db) -> Result<()> {
    crate::pipelines::declare(db, &["common", crate::lfp::imported::SCHEMA])
}

/// How a difference between a shared row in the file and the stored row is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Divergence {
    /// The attribute changes between sessions of the same entity: keep the stored row, report.
    PerSession,
    /// A real conflict: refuse the file (unless divergence is accepted).
    Conflict,
}

/// The one divergence policy: which attributes of shared rows may differ between sessions.
pub(crate) fn divergence(table: &str, attr: &str) -> Divergence {
    let per_session = match table {
        // an animal ages, gains weight, gets a new description; its sex, species and genotype stay
        subj::SUBJECT => matches!(attr, "age" | "description" | "weight"),
        // cameras are recalibrated, get new lenses and firmware between sessions
        dev::CAMERA_DEVICE => true,
        _ => false,
    };
    if per_session {
        Divergence::PerSession
    } else {
        Divergence::Conflict
    }
}

/// Number of steps over all groups (for progress bars).
pub(crate) fn step_count() -> usize {
    GROUPS.iter().map(|g| g.len()).sum()
}

/// A position epoch: its interval name and SpatialSeries (name, object id).
#[derive(Debug, Clone)]
struct PosEpoch {
    interval: String,
    series: Vec<(String, String)>,
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
    pos_epochs: Vec<PosEpoch>,
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
                if let Some((attr, a, b)) = first_difference(&r, &todo[j], &pk) {
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
                        let diffs = differences(&r, &old, &pk);
                        if let Some((attr, new, existing)) = diffs
                            .iter()
                            .find(|(a, _, _)| divergence(table, a) == Divergence::Conflict)
                        {
                            if !self.accept_divergence {
                                return Err(Error::Divergence {
                                    table: table.to_string(),
                                    key,
                                    attribute: attr.clone(),
                                    new: new.clone(),
                                    existing: existing.clone(),
                                });
                            }
                        }
                        for (attr, new, existing) in diffs {
                            let msg = match divergence(table, &attr) {
                                Divergence::PerSession => format!(
                                    "{key}: this session's `{attr}` is {new}; the stored row keeps {existing}"
                                ),
                                Divergence::Conflict => format!(
                                    "{key}: kept the database's `{attr}` = {existing} over the file's {new}"
                                ),
                            };
                            self.warn(table, msg);
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

/// Spyglass's comparison: NULL equals "", text compares case-insensitively, numbers
/// as 32-bit floats (the `float` columns).
fn same_value(a: &Value, b: &Value) -> bool {
    let blank = |v: &Value| v.is_null() || matches!(v, Value::Str(s) if s.is_empty());
    if blank(a) || blank(b) {
        return blank(a) && blank(b);
    }
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x.to_lowercase() == y.to_lowercase(),
        (Value::Bool(x), Value::Str(y)) | (Value::Str(y), Value::Bool(x)) => {
            y.eq_ignore_ascii_case(if *x { "true" } else { "false" })
        }
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x == y || (x as f32) == (y as f32),
            _ => a == b || a.python_str() == b.python_str(),
        },
    }
}

fn first_difference(new: &Rec, old: &Rec, pk: &[String]) -> Option<(String, String, String)> {
    differences(new, old, pk).into_iter().next()
}

/// Every secondary attribute where `new` differs from `old`: (attribute, new, old).
fn differences(new: &Rec, old: &Rec, pk: &[String]) -> Vec<(String, String, String)> {
    let mut out = vec![];
    for (k, v) in new {
        if pk.contains(k) {
            continue;
        }
        let o = old.get(k).cloned().unwrap_or(Value::Null);
        if !same_value(v, &o) {
            out.push((k.clone(), v.python_str(), o.python_str()));
        }
    }
    out
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
                .all(|k| matches!((r.get(*k), c.get(*k)), (Some(a), Some(b)) if same_value(a, b)))
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
        Error::Invalid(format!(
            "{table}: {what} `{name}` is not named by an integer (Spyglass requires integer names)"
        ))
    })
}

// ---------------------------------------------------------------- G1

fn institution(cx: &mut Ctx) -> Result<()> {
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

fn lab_row(cx: &mut Ctx) -> Result<()> {
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

fn experimenters(cx: &Ctx) -> Result<Vec<(String, String, String)>> {
    cx.src
        .meta
        .experimenter
        .iter()
        .map(|e| decompose_name(e))
        .collect()
}

fn lab_member(cx: &mut Ctx) -> Result<()> {
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

fn lab_team(cx: &mut Ctx) -> Result<()> {
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

fn subject(cx: &mut Ctx) -> Result<()> {
    let mut r: Option<Rec> = cx.src.subject.as_ref().and_then(|s| {
        let id = s.subject_id.clone().filter(|i| !i.trim().is_empty())?;
        Some(rec([
            ("subject_id", Value::from(id)),
            ("age", opt(&s.age)),
            ("description", opt(&s.description)),
            ("genotype", opt(&s.genotype)),
            ("sex", Value::from(standardized_sex(s.sex.as_deref()))),
            ("species", opt(&s.species)),
        ]))
    });
    if let Some(c) = cx.cfg.rows("Subject").first() {
        let c = yaml_rec(c);
        let base = r.get_or_insert_with(Rec::new);
        for (k, v) in c {
            let v = if k == "sex" {
                Value::from(standardized_sex(text(&v).as_deref()))
            } else {
                v
            };
            base.insert(k, v);
        }
    }
    match r {
        Some(r) if r.get("subject_id").is_some_and(|v| !v.is_null()) => {
            cx.subject_id = r.get("subject_id").and_then(text);
            cx.put(subj::SUBJECT, vec![r], Mode::Shared)?;
        }
        _ => cx.warn(
            subj::SUBJECT,
            "the file has no subject with a subject_id; Session.subject_id is NULL",
        ),
    }
    Ok(())
}

fn camera_device(cx: &mut Ctx) -> Result<()> {
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

fn probe_type(cx: &mut Ctx) -> Result<()> {
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
fn norm_system(s: &str) -> String {
    if s == "MCU" {
        "SpikeGadgets".into()
    } else {
        s.to_string()
    }
}

fn norm_amplifier(s: &str) -> String {
    if s.eq_ignore_ascii_case("intan") {
        "Intan".into()
    } else {
        s.to_string()
    }
}

fn daq_recs(cx: &Ctx) -> Vec<Rec> {
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

fn daq_amplifier(cx: &mut Ctx) -> Result<()> {
    let recs: Vec<Rec> = daq_recs(cx)
        .iter()
        .filter_map(|r| r.get("data_acquisition_device_amplifier").and_then(text))
        .map(|a| rec([("data_acquisition_device_amplifier", Value::from(a))]))
        .collect();
    cx.put(dev::DAQ_AMPLIFIER, recs, Mode::SkipExisting)?;
    Ok(())
}

fn daq_system(cx: &mut Ctx) -> Result<()> {
    let recs: Vec<Rec> = daq_recs(cx)
        .iter()
        .filter_map(|r| r.get("data_acquisition_device_system").and_then(text))
        .map(|a| rec([("data_acquisition_device_system", Value::from(a))]))
        .collect();
    cx.put(dev::DAQ_SYSTEM, recs, Mode::SkipExisting)?;
    Ok(())
}

fn daq_device(cx: &mut Ctx) -> Result<()> {
    let recs = daq_recs(cx);
    cx.put(dev::DAQ_DEVICE, recs, Mode::Shared)?;
    Ok(())
}

// ---------------------------------------------------------------- G2

fn probe(cx: &mut Ctx) -> Result<()> {
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

fn probe_shank(cx: &mut Ctx) -> Result<()> {
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

fn probe_electrode(cx: &mut Ctx) -> Result<()> {
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

fn session(cx: &mut Ctx) -> Result<()> {
    let m = &cx.src.meta;
    let mut r = cx.base();
    r.insert("subject_id".into(), opt(&cx.subject_id));
    r.insert("institution_name".into(), opt(&cx.institution));
    r.insert("lab_name".into(), opt(&cx.lab));
    r.insert("session_id".into(), opt(&m.session_id));
    r.insert(
        "session_description".into(),
        Value::from(m.session_description.as_str()),
    );
    if !cx.src.unused.is_empty() {
        let list: Vec<String> = cx
            .src
            .unused
            .iter()
            .map(|(p, t)| {
                if t.is_empty() {
                    p.clone()
                } else {
                    format!("{p} ({t})")
                }
            })
            .collect();
        cx.warnings.push(format!(
            "ingest: the file holds objects no table records, left in the file: {}",
            list.join(", ")
        ));
    }
    r.insert(
        "session_start_time".into(),
        Value::DateTime(m.session_start_time.naive_local()),
    );
    r.insert(
        "timestamps_reference_time".into(),
        Value::DateTime(m.timestamps_reference_time.naive_local()),
    );
    r.insert(
        "experiment_description".into(),
        opt(&m.experiment_description),
    );
    if let Some(c) = cx.cfg.rows("Session").first() {
        for (k, v) in yaml_rec(c) {
            r.insert(k, v);
        }
    }
    let empty = r
        .get("session_description")
        .and_then(text)
        .is_none_or(|d| d.trim().is_empty());
    if empty {
        cx.warnings.push(format!(
            "{}: the session description is empty; set `/session_description` in the file or `Session: [{{session_description: ...}}]` in the config",
            sess::SESSION
        ));
    }
    cx.put(sess::SESSION, vec![r], Mode::Fresh)?;

    let exps: Vec<Rec> = experimenters(cx)?
        .into_iter()
        .map(|(full, _, _)| {
            let mut r = cx.base();
            r.insert("lab_member_name".into(), Value::from(full));
            r
        })
        .collect();
    cx.put(sess::SESSION_EXPERIMENTER, exps, Mode::SkipExisting)?;

    let mut names: Vec<String> = cx
        .src
        .data_acq_devices
        .iter()
        .map(|d| d.name.clone())
        .collect();
    for r in cx.cfg.rows("DataAcquisitionDevice") {
        if let Some(n) = r
            .get("data_acquisition_device_name")
            .and_then(|v| v.as_str())
        {
            if !names.iter().any(|x| x == n) {
                names.push(n.to_string());
            }
        }
    }
    let mut links = vec![];
    for n in names {
        let q = cx
            .db
            .table(dev::DAQ_DEVICE)?
            .restrict(Cond::map([("data_acquisition_device_name", n.as_str())]))?;
        if !cx.db.exists(&q)? {
            return Err(cx.cfg.0.error(format!(
                "DataAcquisitionDevice `{n}` is linked to the session but is neither in the file nor in {}: define it (system, amplifier, ...) in the config or entries.yaml",
                dev::DAQ_DEVICE
            )));
        }
        let mut r = cx.base();
        r.insert("data_acquisition_device_name".into(), Value::from(n));
        links.push(r);
    }
    cx.put(sess::SESSION_DAQ, links, Mode::SkipExisting)?;
    Ok(())
}

fn electrode_group(cx: &mut Ctx) -> Result<()> {
    let probe_types: HashMap<&str, &str> = cx
        .src
        .probes
        .iter()
        .map(|p| (p.name.as_str(), p.probe_type.as_str()))
        .collect();
    // Spyglass adds regions as it meets the groups in pynwb's `nwbfile.objects`,
    // which lists them in reverse of the file's (name) order: ids follow that order
    for g in cx.src.electrode_groups.iter().rev() {
        if let Some(l) = g.location.as_deref().filter(|l| !l.trim().is_empty()) {
            cx.region(l)?;
        }
    }
    let mut recs = vec![];
    let mut unlinked = vec![];
    for g in &cx.src.electrode_groups {
        let location = g
            .location
            .clone()
            .filter(|l| !l.trim().is_empty())
            .ok_or_else(|| Error::BadFile {
                path: cx.src.path.clone(),
                message: format!(
                    "electrode group `{}` has no location (brain region)",
                    g.name
                ),
            })?;
        let probe_id = g
            .device
            .as_deref()
            .and_then(|d| probe_types.get(d))
            .map(|s| s.to_string());
        if probe_id.is_none() {
            unlinked.push(g.name.clone());
        }
        let hemisphere = match g.targeted_x {
            Some(x) if x >= 0.0 => "Right",
            Some(_) => "Left",
            None => "Unknown",
        };
        let mut r = cx.base();
        r.insert("electrode_group_name".into(), Value::from(g.name.as_str()));
        r.insert("region_id".into(), Value::from(cx.region(&location)?));
        r.insert("probe_id".into(), Value::from(probe_id));
        r.insert(
            "description".into(),
            Value::from(g.description.clone().unwrap_or_default()),
        );
        r.insert("target_hemisphere".into(), Value::from(hemisphere));
        recs.push(r);
    }
    let cfg_rows: Vec<YamlRow> = cx.cfg.rows("ElectrodeGroup").to_vec();
    for c in &cfg_rows {
        let c = yaml_rec(c);
        let name = c.get("electrode_group_name").and_then(text);
        let Some(r) = recs
            .iter_mut()
            .find(|r| r.get("electrode_group_name").and_then(text) == name)
        else {
            return Err(cx.cfg.0.error(format!(
                "ElectrodeGroup `{}` is not an electrode group of the file",
                name.unwrap_or_default()
            )));
        };
        for (k, v) in c {
            r.insert(k, v);
        }
    }
    for r in &recs {
        let name = r
            .get("electrode_group_name")
            .and_then(text)
            .unwrap_or_default();
        let probe = r.get("probe_id").and_then(text);
        if probe.is_some() {
            unlinked.retain(|u| u != &name);
        }
        cx.group_probe.insert(name, probe);
    }
    if !unlinked.is_empty() && !recs.is_empty() {
        cx.warn(
            ephys::ELECTRODE_GROUP,
            format!(
                "group(s) {unlinked:?} have no ndx-franklab-novela Probe device: probe_id is NULL"
            ),
        );
    }
    if recs.is_empty() {
        cx.warn(ephys::ELECTRODE_GROUP, "the file has no electrode groups");
    }
    cx.put(ephys::ELECTRODE_GROUP, recs, Mode::Fresh)?;
    Ok(())
}

/// Sampling rate and valid times of the raw series, as Spyglass's Raw computes them.
pub fn raw_timing(
    series: &spyglass_nwb::TimeSeries,
    timestamps: Option<&[f64]>,
) -> Result<(f64, Vec<[f64; 2]>)> {
    match (&series.timing, timestamps) {
        (
            Timing::Rate {
                rate,
                starting_time,
            },
            _,
        ) => {
            let n = series.num_samples() as f64;
            // Spyglass starts rate-based valid times at 0; we start them at starting_time.
            Ok((*rate, vec![[*starting_time, starting_time + n / rate]]))
        }
        (_, Some(ts)) if !ts.is_empty() => {
            let head = &ts[..ts.len().min(1_000_000)];
            let rate = estimate_sampling_rate(head, 1.5)?;
            let valid = valid_intervals(ts, rate, RAW_GAP_PROPORTION, 0.0)?;
            Ok((rate, valid.into_vec()))
        }
        _ => Err(Error::Invalid(format!(
            "raw series `{}` has neither a rate nor timestamps",
            series.path
        ))),
    }
}

fn raw(cx: &mut Ctx) -> Result<()> {
    let Some(raw) = &cx.src.raw else {
        let msg = if cx.src.ephys.is_empty() {
            "the file has no ElectricalSeries: no Raw row and no raw data valid times".to_string()
        } else {
            "no ElectricalSeries in acquisition above 2.5 kHz to take as raw data (choose one with `Raw: [{raw_object_id: NAME}]` in the config): no Raw row".to_string()
        };
        cx.warn(ephys::RAW, msg);
        return Ok(());
    };
    let (rate, valid) = raw_timing(&raw.series, raw.timestamps.as_deref())?;
    let name = cx.nwb_file_name.clone();
    cx.interval(IntervalList::new(&name, RAW_VALID_TIMES, valid), false)?;
    let mut r = cx.base();
    r.insert("interval_list_name".into(), Value::from(RAW_VALID_TIMES));
    r.insert(
        "raw_object_id".into(),
        Value::from(raw.series.object_id.as_str()),
    );
    r.insert("sampling_rate".into(), Value::from(rate));
    r.insert(
        "comments".into(),
        Value::from(raw.series.comments.clone().unwrap_or_default()),
    );
    r.insert(
        "description".into(),
        Value::from(raw.series.description.clone().unwrap_or_default()),
    );
    if let Some(c) = cx.cfg.rows("Raw").first() {
        for k in ["description", "comments"] {
            if let Some(v) = c.get(k) {
                r.insert(k.into(), to_value(v));
            }
        }
    }
    cx.put(ephys::RAW, vec![r], Mode::Fresh)?;
    cx.raw_interval = Some(RAW_VALID_TIMES.to_string());
    Ok(())
}

fn imported_spike_sorting(cx: &mut Ctx) -> Result<()> {
    if let Some(id) = cx.src.units.clone() {
        let mut r = cx.base();
        r.insert("object_id".into(), Value::from(id));
        cx.put(ssi::IMPORTED_SPIKE_SORTING, vec![r], Mode::Fresh)?;
    }
    Ok(())
}

fn sample_count(cx: &mut Ctx) -> Result<()> {
    if let Some(id) = cx.src.sample_count.clone() {
        let mut r = cx.base();
        r.insert("sample_count_object_id".into(), Value::from(id));
        cx.put(ephys::SAMPLE_COUNT, vec![r], Mode::Fresh)?;
    }
    Ok(())
}

fn dio_events(cx: &mut Ctx) -> Result<()> {
    if cx.src.dio.is_empty() {
        return Ok(());
    }
    let mut ranges = vec![];
    let mut recs = vec![];
    let series = cx.src.dio.clone();
    let interval = cx
        .raw_interval
        .clone()
        .unwrap_or_else(|| "dio data valid times".into());
    for s in &series {
        let Some((a, b)) = s.range else {
            cx.warn(
                dio::DIO_EVENTS,
                format!("DIO series `{}` has no timestamps; skipped", s.name),
            );
            continue;
        };
        ranges.push(a);
        ranges.push(b);
        let mut r = cx.base();
        r.insert("dio_event_name".into(), Value::from(s.name.as_str()));
        r.insert("dio_object_id".into(), Value::from(s.object_id.as_str()));
        r.insert("interval_list_name".into(), Value::from(interval.as_str()));
        recs.push(r);
    }
    if cx.raw_interval.is_none() && !ranges.is_empty() {
        let lo = ranges.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = ranges.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let name = cx.nwb_file_name.clone();
        cx.interval(IntervalList::new(&name, &interval, vec![[lo, hi]]), false)?;
    }
    cx.put(dio::DIO_EVENTS, recs, Mode::Fresh)?;
    Ok(())
}

fn sensor_data(cx: &mut Ctx) -> Result<()> {
    let Some(a) = cx.src.analog.clone() else {
        return Ok(());
    };
    let cols: Vec<&str> = a
        .description
        .split_whitespace()
        .filter(|c| *c != "time" && *c != "timestamps")
        .collect();
    if cols.len() != a.n_columns {
        return Err(Error::BadFile {
            path: cx.src.path.clone(),
            message: format!(
                "analog sensor series: its description names {} columns ({:?}) but the data has {}",
                cols.len(),
                cols,
                a.n_columns
            ),
        });
    }
    let Some(interval) = cx.raw_interval.clone() else {
        cx.warn(
            sensors::SENSOR_DATA,
            "sensor data needs the raw data valid times, and the file has no raw series; skipped",
        );
        return Ok(());
    };
    let mut r = cx.base();
    r.insert("sensor_data_object_id".into(), Value::from(a.object_id));
    r.insert("interval_list_name".into(), Value::from(interval));
    cx.put(sensors::SENSOR_DATA, vec![r], Mode::Fresh)?;
    Ok(())
}

/// The IntervalList name of an epoch row: its first tag, else `interval_<id>`.
pub fn epoch_interval_name(e: &spyglass_nwb::Epoch) -> String {
    e.tags
        .first()
        .filter(|t| !t.is_empty())
        .cloned()
        .unwrap_or_else(|| format!("interval_{}", e.id))
}

fn epochs(cx: &mut Ctx) -> Result<()> {
    if cx.src.epochs.is_empty() {
        cx.warn(
            iv::INTERVAL_LIST,
            "the file has no epochs table: no epoch intervals",
        );
    }
    let mut names: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    let name = cx.nwb_file_name.clone();
    for e in cx.src.epochs.clone() {
        let n = epoch_interval_name(&e);
        if let Some(prev) = names.get(&n) {
            if *prev != (e.start_time, e.stop_time) {
                return Err(Error::BadFile {
                    path: cx.src.path.clone(),
                    message: format!("two epochs are tagged `{n}` with different times"),
                });
            }
            continue;
        }
        names.insert(n.clone(), (e.start_time, e.stop_time));
        cx.interval(
            IntervalList::new(&name, &n, vec![[e.start_time, e.stop_time]]),
            false,
        )?;
    }
    Ok(())
}

/// The interval name of epoch number `epoch`, matched as Spyglass's TaskEpoch does
/// (exact, then the two-digit zero-padded number contained in exactly one name,
/// then 1-, 2- or 3-digit forms); None when no unique match.
pub fn epoch_interval_for(epoch: i64, intervals: &[String]) -> Option<String> {
    let plain = epoch.to_string();
    if intervals.contains(&plain) {
        return Some(plain);
    }
    let uniq = |v: Vec<&String>| -> Option<String> {
        let mut v: Vec<&String> = v;
        v.sort();
        v.dedup();
        (v.len() == 1).then(|| v[0].clone())
    };
    let two = format!("{epoch:02}");
    if let Some(s) = uniq(intervals.iter().filter(|i| i.contains(&two)).collect()) {
        return Some(s);
    }
    let forms = [plain.clone(), two, format!("{epoch:03}")];
    uniq(
        intervals
            .iter()
            .filter(|i| forms.iter().any(|f| i.contains(f.as_str())))
            .collect(),
    )
}

fn task_epoch(cx: &mut Ctx) -> Result<()> {
    // camera id -> camera name, from the file's cameras and the config
    let mut cameras: BTreeMap<i64, String> = BTreeMap::new();
    for c in &cx.src.cameras {
        if let Some(id) = c.camera_id() {
            cameras.insert(id, c.camera_name.clone());
        }
    }
    for r in cx.cfg.rows("CameraDevice") {
        if let (Some(id), Some(name)) = (
            r.get("camera_id").and_then(|v| v.as_i64()),
            r.get("camera_name").and_then(|v| v.as_str()),
        ) {
            cameras.insert(id, name.to_string());
        }
    }
    struct T {
        name: String,
        description: Option<String>,
        environment: Option<String>,
        camera_ids: Vec<i64>,
        epochs: Vec<i64>,
    }
    let mut tasks: Vec<T> = cx
        .src
        .tasks
        .iter()
        .map(|t| T {
            name: t.task_name.clone(),
            description: t.task_description.clone(),
            environment: t.task_environment.clone(),
            camera_ids: t.camera_ids.clone(),
            epochs: t.task_epochs.clone(),
        })
        .collect();
    for r in cx.cfg.rows("Tasks") {
        let ints = |k: &str| -> Vec<i64> {
            match r.get(k) {
                Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_i64()).collect(),
                Some(v) => v.as_i64().into_iter().collect(),
                None => vec![],
            }
        };
        let s = |k: &str| r.get(k).and_then(|v| v.as_str()).map(str::to_string);
        tasks.push(T {
            name: s("task_name").unwrap_or_default(),
            description: s("task_description"),
            environment: s("task_environment"),
            camera_ids: ints("camera_id"),
            epochs: ints("task_epochs"),
        });
    }
    if tasks.is_empty() {
        let mut msg =
            "no `tasks` processing module and no config Tasks: no task epochs".to_string();
        if !cx.src.videos.is_empty() {
            msg.push_str(&format!(
                "; the {} ImageSeries cannot become VideoFile rows without task epochs",
                cx.src.videos.len()
            ));
        }
        cx.warn(task::TASK_EPOCH, msg);
        return Ok(());
    }
    // Task rows: those the file or config describe, and config tasks not yet known
    let mut task_recs: Vec<Rec> = vec![];
    for t in &tasks {
        if t.description.is_some() {
            task_recs.push(rec([
                ("task_name", Value::from(t.name.as_str())),
                ("task_description", opt(&t.description)),
            ]));
        } else {
            let q = cx
                .db
                .table(task::TASK)?
                .restrict(Cond::map([("task_name", t.name.as_str())]))?;
            if !cx.db.exists(&q)? {
                task_recs.push(rec([("task_name", Value::from(t.name.as_str()))]));
            }
        }
    }
    merge_config(&mut task_recs, cx.cfg.rows("Task"), &["task_name"]);
    cx.put(task::TASK, task_recs, Mode::Shared)?;

    let mut recs = vec![];
    let mut warnings = vec![];
    for t in &tasks {
        let valid: Vec<i64> = t
            .camera_ids
            .iter()
            .copied()
            .filter(|i| cameras.contains_key(i))
            .collect();
        if valid.is_empty() && !t.camera_ids.is_empty() {
            warnings.push(format!(
                "task `{}`: no camera device with id {:?}",
                t.name, t.camera_ids
            ));
        }
        let names = spyglass_blob::Value::list(valid.iter().map(|i| {
            spyglass_blob::Value::dict([(
                "camera_name",
                spyglass_blob::Value::from(cameras[i].as_str()),
            )])
        }));
        for &e in &t.epochs {
            let Some(interval) = epoch_interval_for(e, &cx.session_intervals) else {
                warnings.push(format!(
                    "task `{}` epoch {e}: no unique interval matches among {:?}; skipped",
                    t.name, cx.session_intervals
                ));
                continue;
            };
            let mut r = cx.base();
            r.insert("epoch".into(), Value::from(e));
            r.insert("task_name".into(), Value::from(t.name.as_str()));
            r.insert("interval_list_name".into(), Value::from(interval.as_str()));
            r.insert("task_environment".into(), opt(&t.environment));
            r.insert("camera_names".into(), Value::from(names.clone()));
            recs.push(r);
            cx.task_epochs.push((e, interval));
        }
    }
    for w in warnings {
        cx.warn(task::TASK_EPOCH, w);
    }
    cx.put(task::TASK_EPOCH, recs, Mode::Fresh)?;
    Ok(())
}

// ---------------------------------------------------------------- G3

fn electrode(cx: &mut Ctx) -> Result<()> {
    let Some(t) = cx.src.electrodes.clone() else {
        cx.warn(ephys::ELECTRODE, "the file has no electrodes table");
        return Ok(());
    };
    let n = t.len();
    let group_names: Vec<String> = if t.column("group_name").is_some() {
        t.text_column("group_name")?
    } else if t.column("group").is_some() {
        t.reference_column("group")?
            .into_iter()
            .map(|p| {
                p.map(|p| p.rsplit('/').next().unwrap_or_default().to_string())
                    .unwrap_or_default()
            })
            .collect()
    } else {
        return Err(Error::BadFile {
            path: cx.src.path.clone(),
            message: "the electrodes table has neither `group_name` nor `group`".into(),
        });
    };
    let f = |name: &str| -> Result<Option<Vec<f64>>> {
        if t.column(name).is_some() {
            Ok(Some(t.f64_column(name)?))
        } else {
            Ok(None)
        }
    };
    let i = |name: &str| -> Result<Option<Vec<i64>>> {
        if t.column(name).is_some() {
            Ok(Some(t.i64_column(name)?))
        } else {
            Ok(None)
        }
    };
    let (x, y, z, imp) = (f("x")?, f("y")?, f("z")?, f("imp")?);
    let filtering = if t.column("filtering").is_some() {
        Some(t.text_column("filtering")?)
    } else {
        None
    };
    let (shank, pel, refe) = (i("probe_shank")?, i("probe_electrode")?, i("ref_elect_id")?);
    let bad = if t.column("bad_channel").is_some() {
        Some(t.bool_column("bad_channel")?)
    } else {
        None
    };
    let locations: HashMap<String, Option<String>> = cx
        .src
        .electrode_groups
        .iter()
        .map(|g| (g.name.clone(), g.location.clone()))
        .collect();
    let at = |v: &Option<Vec<f64>>, k: usize| {
        Value::from(
            v.as_ref()
                .and_then(|v| v.get(k).copied())
                .filter(|x| !x.is_nan()),
        )
    };
    let mut recs = Vec::with_capacity(n);
    for k in 0..n {
        let g = &group_names[k];
        let Some(loc) = locations.get(g) else {
            return Err(Error::BadFile {
                path: cx.src.path.clone(),
                message: format!(
                    "electrode {} names electrode group `{g}`, which the file does not have",
                    t.ids[k]
                ),
            });
        };
        let loc = loc.clone().unwrap_or_default();
        let region = cx.region(&loc)?;
        let probe_id = cx.group_probe.get(g).cloned().flatten();
        let mut r = cx.base();
        r.insert("electrode_group_name".into(), Value::from(g.as_str()));
        r.insert("electrode_id".into(), Value::from(t.ids[k]));
        r.insert("probe_id".into(), Value::from(probe_id));
        r.insert(
            "probe_shank".into(),
            Value::from(shank.as_ref().map(|v| v[k])),
        );
        r.insert(
            "probe_electrode".into(),
            Value::from(pel.as_ref().map(|v| v[k])),
        );
        r.insert("region_id".into(), Value::from(region));
        r.insert("name".into(), Value::from(t.ids[k].to_string()));
        r.insert(
            "original_reference_electrode".into(),
            Value::from(refe.as_ref().map_or(-1, |v| v[k])),
        );
        r.insert("x".into(), at(&x, k));
        r.insert("y".into(), at(&y, k));
        r.insert("z".into(), at(&z, k));
        r.insert(
            "filtering".into(),
            Value::from(
                filtering
                    .as_ref()
                    .map_or_else(|| "unfiltered".to_string(), |v| v[k].clone()),
            ),
        );
        r.insert("impedance".into(), at(&imp, k));
        let b = bad.as_ref().is_some_and(|v| v[k]);
        r.insert(
            "bad_channel".into(),
            Value::from(if b { "True" } else { "False" }),
        );
        r.insert("x_warped".into(), Value::from(0.0));
        r.insert("y_warped".into(), Value::from(0.0));
        r.insert("z_warped".into(), Value::from(0.0));
        r.insert("contacts".into(), Value::from(""));
        recs.push(r);
    }
    // the config's electrode -> probe map
    for (ci, c) in cx.cfg.rows("Electrode").to_vec().iter().enumerate() {
        let c = yaml_rec(c);
        let Some(id) = c.get("electrode_id").and_then(Value::as_i64) else {
            return Err(cx
                .cfg
                .0
                .error(format!("`Electrode` row {ci}: `electrode_id` is required")));
        };
        let Some(r) = recs
            .iter_mut()
            .find(|r| r.get("electrode_id").and_then(Value::as_i64) == Some(id))
        else {
            cx.warn(
                ephys::ELECTRODE,
                format!("config Electrode {id} is not in the electrodes table; ignored"),
            );
            continue;
        };
        let fk: Vec<(String, Value)> = ["probe_id", "probe_shank", "probe_electrode"]
            .iter()
            .filter_map(|k| c.get(*k).map(|v| (k.to_string(), v.clone())))
            .collect();
        if !fk.is_empty() {
            let q = cx
                .db
                .table(dev::PROBE_ELECTRODE)?
                .restrict(Cond::Map(fk.clone()))?;
            if !cx.db.exists(&q)? {
                cx.warn(
                    ephys::ELECTRODE,
                    format!("config Electrode {id}: no Probe.Electrode matches {fk:?}; its config entry is ignored"),
                );
                continue;
            }
        }
        for (k, v) in c {
            let v = match (k.as_str(), &v) {
                ("bad_channel", Value::Bool(b)) => Value::from(if *b { "True" } else { "False" }),
                _ => v,
            };
            r.insert(k, v);
        }
    }
    cx.put(ephys::ELECTRODE, recs, Mode::Fresh)?;
    Ok(())
}

/// The role of a series: Raw's, an LFP (container or LF stream), or another broadband one.
fn series_role(cx: &Ctx, s: &super::source::EphysSeries) -> &'static str {
    let is_raw = cx
        .src
        .raw
        .as_ref()
        .is_some_and(|r| r.series.path == s.series.path);
    if is_raw {
        "raw"
    } else if s.place == super::source::SeriesPlace::LfpContainer
        || s.rate <= crate::lfp::imported::MAX_LFP_RATE
    {
        "lfp"
    } else {
        "raw_other"
    }
}

/// Electrode group of each electrode id of the session (from Electrode).
fn electrode_groups_by_id(cx: &Ctx) -> Result<HashMap<i64, String>> {
    let q = cx
        .db
        .table(ephys::ELECTRODE)?
        .restrict(Cond::map([("nwb_file_name", cx.nwb_file_name.as_str())]))?;
    Ok(cx
        .db
        .fetch_with(
            &q,
            &FetchSpec::attrs(&["electrode_id", "electrode_group_name"]),
        )?
        .iter()
        .filter_map(|r| {
            Some((
                r.get("electrode_id").and_then(Value::as_i64)?,
                r.get("electrode_group_name").and_then(text)?,
            ))
        })
        .collect())
}

/// Timestamps of a series (stored, or from its rate).
fn series_timestamps(cx: &Ctx, s: &spyglass_nwb::TimeSeries) -> Result<Vec<f64>> {
    let nwb = spyglass_nwb::NwbFile::open(&cx.src.path)?;
    Ok(nwb.timestamps(&s.path)?)
}

/// LFP series of the file (LFP containers, LF streams): an LFP electrode group
/// `imported_lfp_NNN`, an IntervalList `imported lfp N valid times` and an
/// ImportedLFP row each (and an LFPOutput entry, so that LFP bands can use them).
fn imported_lfp(cx: &mut Ctx) -> Result<()> {
    use crate::lfp::{imported::IMPORTED_LFP, lfp_electrode as le};
    let lfps: Vec<super::source::EphysSeries> = cx
        .src
        .ephys
        .iter()
        .filter(|s| series_role(cx, s) == "lfp")
        .cloned()
        .collect();
    if lfps.is_empty() {
        return Ok(());
    }
    let groups = electrode_groups_by_id(cx)?;
    let name = cx.nwb_file_name.clone();
    let mut keys = vec![];
    for (i, s) in lfps.iter().enumerate() {
        let group = format!("imported_lfp_{i:03}");
        let mut g = cx.base();
        g.insert(
            "lfp_electrode_group_name".into(),
            Value::from(group.as_str()),
        );
        cx.put(le::LFP_ELECTRODE_GROUP, vec![g], Mode::Fresh)?;
        let mut parts = vec![];
        for id in &s.electrode_ids {
            let eg = groups.get(id).cloned().ok_or_else(|| Error::BadFile {
                path: cx.src.path.clone(),
                message: format!(
                    "`{}` carries electrode {id}, which is not in the electrodes table",
                    s.series.path
                ),
            })?;
            let mut r = cx.base();
            r.insert(
                "lfp_electrode_group_name".into(),
                Value::from(group.as_str()),
            );
            r.insert("electrode_group_name".into(), Value::from(eg));
            r.insert("electrode_id".into(), Value::from(*id));
            parts.push(r);
        }
        cx.put(le::LFP_ELECTRODE, parts, Mode::SkipExisting)?;
        let interval = format!("imported lfp {i} valid times");
        let ts = series_timestamps(cx, &s.series)?;
        let valid = valid_intervals(&ts, s.rate, 2.5, 0.0)
            .map_err(|e| Error::Invalid(format!("LFP series `{}`: {e}", s.series.path)))?;
        cx.interval(
            IntervalList::new(&name, &interval, valid.into_vec()).with_pipeline("imported_lfp"),
            false,
        )?;
        let mut r = cx.base();
        r.insert(
            "lfp_electrode_group_name".into(),
            Value::from(group.as_str()),
        );
        r.insert("interval_list_name".into(), Value::from(interval.as_str()));
        r.insert("lfp_sampling_rate".into(), Value::from(s.rate));
        r.insert(
            "lfp_object_id".into(),
            Value::from(s.series.object_id.as_str()),
        );
        cx.put(IMPORTED_LFP, vec![r], Mode::Fresh)?;
        cx.series_intervals
            .insert(s.series.path.clone(), interval.clone());
        keys.push(Row::from_pairs([
            ("nwb_file_name", Value::from(name.as_str())),
            ("lfp_electrode_group_name", Value::from(group.as_str())),
            ("interval_list_name", Value::from(interval.as_str())),
        ]));
    }
    let m = crate::lfp::merge::lfp_output(cx.db)?;
    cx.db.merge_insert(&m, &keys)?;
    cx.count(crate::lfp::merge::LFP_OUTPUT, keys.len() as u64);
    Ok(())
}

/// Every ElectricalSeries with the electrodes it carries (see [`es`]).
fn electrical_series(cx: &mut Ctx) -> Result<()> {
    if cx.src.ephys.is_empty() {
        return Ok(());
    }
    let groups = electrode_groups_by_id(cx)?;
    let name = cx.nwb_file_name.clone();
    let mut masters = vec![];
    let mut parts = vec![];
    for s in cx.src.ephys.clone() {
        let role = series_role(cx, &s);
        let interval = match (role, cx.series_intervals.get(&s.series.path)) {
            ("raw", _) => RAW_VALID_TIMES.to_string(),
            (_, Some(i)) => i.clone(),
            _ => {
                let interval = format!("{} valid times", s.series.path.trim_start_matches('/'));
                let ts = match s.series.timing {
                    Timing::Timestamps { .. } => Some(series_timestamps(cx, &s.series)?),
                    _ => None,
                };
                let (_, valid) = raw_timing(&s.series, ts.as_deref())?;
                cx.interval(IntervalList::new(&name, &interval, valid), false)?;
                interval
            }
        };
        let mut m = cx.base();
        m.insert("series_path".into(), Value::from(s.series.path.as_str()));
        m.insert(
            "series_object_id".into(),
            Value::from(s.series.object_id.as_str()),
        );
        m.insert("interval_list_name".into(), Value::from(interval));
        m.insert("sampling_rate".into(), Value::from(s.rate));
        m.insert(
            "n_samples".into(),
            Value::from(s.series.num_samples() as i64),
        );
        m.insert("role".into(), Value::from(role));
        masters.push(m);
        for (channel, id) in s.electrode_ids.iter().enumerate() {
            let Some(eg) = groups.get(id) else {
                return Err(Error::BadFile {
                    path: cx.src.path.clone(),
                    message: format!(
                        "`{}` carries electrode {id}, which is not in the electrodes table",
                        s.series.path
                    ),
                });
            };
            let mut r = cx.base();
            r.insert("series_path".into(), Value::from(s.series.path.as_str()));
            r.insert("electrode_group_name".into(), Value::from(eg.as_str()));
            r.insert("electrode_id".into(), Value::from(*id));
            r.insert("channel".into(), Value::from(channel as i64));
            parts.push(r);
        }
    }
    cx.put(es::ELECTRICAL_SERIES, masters, Mode::Fresh)?;
    cx.put(es::ELECTRICAL_SERIES_ELECTRODE, parts, Mode::SkipExisting)?;
    Ok(())
}

/// Valid times of a behavioural series as Spyglass computes them: rate estimated
/// (multiplier 1.75), gaps of 2.5 periods, pieces longer than int(rate) seconds.
pub fn behaviour_valid_times(ts: &[f64]) -> Result<Vec<[f64; 2]>> {
    let rate = estimate_sampling_rate(ts, 1.75)?;
    Ok(valid_intervals(ts, rate, 2.5, rate.trunc())?.into_vec())
}

/// Groups SpatialSeries into position epochs by first timestamp (Spyglass's rule:
/// series sharing a start time belong to one epoch), ordered by start then name.
pub fn position_epochs(series: &[TimedSeries]) -> Vec<Vec<&TimedSeries>> {
    let mut s: Vec<&TimedSeries> = series.iter().filter(|s| !s.timestamps.is_empty()).collect();
    s.sort_by(|a, b| {
        a.timestamps[0]
            .total_cmp(&b.timestamps[0])
            .then_with(|| a.series.name.cmp(&b.series.name))
    });
    let mut out: Vec<Vec<&TimedSeries>> = vec![];
    for x in s {
        match out.last_mut() {
            Some(g) if g[0].timestamps[0] == x.timestamps[0] => g.push(x),
            _ => out.push(vec![x]),
        }
    }
    out
}

fn position_source(cx: &mut Ctx) -> Result<()> {
    let Some(series) = cx.src.position.clone() else {
        cx.warn(behav::POSITION_SOURCE, "the file has no Position object: no position sources, position intervals or raw position");
        return Ok(());
    };
    let name = cx.nwb_file_name.clone();
    let mut sources = vec![];
    let mut parts = vec![];
    if cx.src.position_containers.len() > 1 {
        let list = cx.src.position_containers.join(", ");
        cx.warn(
            behav::POSITION_SOURCE,
            format!("{} Position objects ({list}): their SpatialSeries are pooled, one position epoch per start time", cx.src.position_containers.len()),
        );
    }
    for (i, group) in position_epochs(&series).into_iter().enumerate() {
        let interval = format!("pos {i} valid times");
        let valid = match behaviour_valid_times(&group[0].timestamps) {
            Ok(v) => v,
            Err(e) => {
                cx.warn(
                    behav::POSITION_SOURCE,
                    format!(
                        "SpatialSeries `{}`: no valid times ({e}); position epoch {i} skipped, the rest of the session ingests",
                        group[0].series.path
                    ),
                );
                continue;
            }
        };
        cx.interval(
            IntervalList::new(&name, &interval, valid).with_pipeline("position"),
            true,
        )?;
        let mut r = cx.base();
        r.insert("interval_list_name".into(), Value::from(interval.as_str()));
        r.insert("source".into(), Value::from("imported"));
        r.insert("import_file_name".into(), Value::from(""));
        sources.push(r);
        let mut pe = PosEpoch {
            interval: interval.clone(),
            series: vec![],
        };
        for (id, s) in group.iter().enumerate() {
            let mut r = cx.base();
            r.insert("interval_list_name".into(), Value::from(interval.as_str()));
            r.insert("id".into(), Value::from(id));
            r.insert("name".into(), Value::from(s.series.name.as_str()));
            parts.push(r);
            pe.series
                .push((s.series.name.clone(), s.series.object_id.clone()));
        }
        cx.pos_epochs.push(pe);
    }
    cx.put(behav::POSITION_SOURCE, sources, Mode::Fresh)?;
    cx.put(behav::POSITION_SOURCE_SPATIAL_SERIES, parts, Mode::Fresh)?;
    position_interval_map(cx)
}

/// Maps every task-epoch interval to the one position interval whose bounds lie
/// within its bounds ± 0.51 s ("" when none or several), as Spyglass does.
fn position_interval_map(cx: &mut Ctx) -> Result<()> {
    const EPSILON: f64 = 0.51;
    let mut epoch_intervals: Vec<String> = cx.task_epochs.iter().map(|(_, i)| i.clone()).collect();
    epoch_intervals.sort();
    epoch_intervals.dedup();
    let mut pos_bounds = vec![];
    for p in &cx.pos_epochs {
        let t = iv::fetch_list(cx.db, &cx.nwb_file_name, &p.interval)?.valid_times;
        if let (Some(a), Some(b)) = (t.first(), t.last()) {
            pos_bounds.push((p.interval.clone(), a[0], b[1]));
        }
    }
    let mut recs = vec![];
    for e in epoch_intervals {
        let t = iv::fetch_list(cx.db, &cx.nwb_file_name, &e)?.valid_times;
        let (Some(a), Some(b)) = (t.first(), t.last()) else {
            continue;
        };
        let (lo, hi) = (a[0] - EPSILON, b[1] + EPSILON);
        let matches: Vec<&String> = pos_bounds
            .iter()
            .filter(|(_, s, f)| lo <= *s && *s <= hi && lo <= *f && *f <= hi)
            .map(|(n, _, _)| n)
            .collect();
        let mapped = if matches.len() == 1 {
            matches[0].clone()
        } else {
            String::new()
        };
        if mapped.is_empty() {
            cx.warn(
                behav::POSITION_INTERVAL_MAP,
                format!(
                    "epoch interval `{e}`: {} position intervals match; mapped to \"\"",
                    matches.len()
                ),
            );
        }
        let mut r = cx.base();
        r.insert("interval_list_name".into(), Value::from(e));
        r.insert("position_interval_name".into(), Value::from(mapped));
        recs.push(r);
    }
    cx.put(behav::POSITION_INTERVAL_MAP, recs, Mode::SkipExisting)?;
    Ok(())
}

fn raw_compass_direction(cx: &mut Ctx) -> Result<()> {
    let mut series: Vec<TimedSeries> = cx
        .src
        .compass
        .iter()
        .filter(|s| !s.timestamps.is_empty())
        .cloned()
        .collect();
    series.sort_by(|a, b| a.timestamps[0].total_cmp(&b.timestamps[0]));
    let name = cx.nwb_file_name.clone();
    let mut recs = vec![];
    for (k, s) in series.iter().enumerate() {
        let interval = format!("compass {} valid times", k + 1);
        let valid = behaviour_valid_times(&s.timestamps)
            .map_err(|e| Error::Invalid(format!("compass series `{}`: {e}", s.series.name)))?;
        cx.interval(IntervalList::new(&name, &interval, valid), false)?;
        let mut r = cx.base();
        r.insert("interval_list_name".into(), Value::from(interval));
        r.insert(
            "compass_object_id".into(),
            Value::from(s.series.object_id.as_str()),
        );
        r.insert("name".into(), Value::from(s.series.name.as_str()));
        recs.push(r);
    }
    cx.put(behav::RAW_COMPASS_DIRECTION, recs, Mode::Fresh)?;
    Ok(())
}

fn fraction_inside(valid: &Intervals, ts: &[f64]) -> f64 {
    if ts.is_empty() {
        return 0.0;
    }
    valid.indices_inside(ts).len() as f64 / ts.len() as f64
}

fn video_file(cx: &mut Ctx) -> Result<()> {
    if cx.src.videos.is_empty() || cx.task_epochs.is_empty() {
        return Ok(());
    }
    const THRESHOLD: f64 = 0.9;
    let known: Vec<String> = {
        let rows = cx.db.fetch_with(
            &cx.db.table(dev::CAMERA_DEVICE)?,
            &FetchSpec::attrs(&["camera_name"]),
        )?;
        rows.iter()
            .filter_map(|r| r.get("camera_name").and_then(text))
            .collect()
    };
    let cams: HashMap<String, (String, Option<i64>)> = cx
        .src
        .cameras
        .iter()
        .map(|c| (c.name.clone(), (c.camera_name.clone(), c.camera_id())))
        .collect();
    let mut recs = vec![];
    let mut warnings = vec![];
    let mut imported = std::collections::HashSet::new();
    for (epoch, interval) in cx.task_epochs.clone() {
        let valid = iv::fetch_list(cx.db, &cx.nwb_file_name, &interval)?.intervals()?;
        for v in &cx.src.videos {
            let ts = &v.timestamps;
            if ts.is_empty() {
                continue;
            }
            let sf = &v.info.starting_frame;
            let segments: Vec<&[f64]> = if sf.len() > 1 {
                (0..sf.len())
                    .map(|k| {
                        let a = (sf[k].max(0) as usize).min(ts.len());
                        let b = sf
                            .get(k + 1)
                            .map_or(ts.len(), |x| (*x).max(0) as usize)
                            .min(ts.len())
                            .max(a);
                        &ts[a..b]
                    })
                    .collect()
            } else {
                vec![ts.as_slice()]
            };
            let mut accepted = 0;
            for seg in segments {
                let frac = fraction_inside(&valid, seg);
                let coverage = if sf.len() > 1 || seg.is_empty() {
                    0.0
                } else {
                    valid
                        .iter()
                        .filter(|[a, b]| b > a)
                        .map(|[a, b]| {
                            ((b.min(seg[seg.len() - 1]) - a.max(seg[0])).max(0.0)) / (b - a)
                        })
                        .fold(0.0, f64::max)
                };
                if frac >= THRESHOLD || coverage >= THRESHOLD {
                    accepted += 1;
                }
            }
            if accepted == 0 {
                continue;
            }
            let name = &v.info.series.name;
            let Some((camera_name, num)) =
                v.info.device.as_ref().and_then(|d| cams.get(d)).cloned()
            else {
                warnings.push(format!("video `{name}` is not linked to a CameraDevice named `camera_device <int>`; skipped"));
                continue;
            };
            let Some(num) = num else {
                warnings.push(format!(
                    "video `{name}`: camera device name has no integer; skipped"
                ));
                continue;
            };
            if !known.contains(&camera_name) {
                warnings.push(format!(
                    "video `{name}`: camera `{camera_name}` is not in {}; skipped",
                    dev::CAMERA_DEVICE
                ));
                continue;
            }
            if !imported.insert((epoch, num)) {
                continue;
            }
            let mut r = cx.base();
            r.insert("epoch".into(), Value::from(epoch));
            r.insert("video_file_num".into(), Value::from(num));
            r.insert("camera_name".into(), Value::from(camera_name));
            r.insert(
                "video_file_object_id".into(),
                Value::from(v.info.series.object_id.as_str()),
            );
            recs.push(r);
        }
    }
    for w in warnings {
        cx.warn(behav::VIDEO_FILE, w);
    }
    cx.put(behav::VIDEO_FILE, recs, Mode::Fresh)?;
    Ok(())
}

fn state_script_file(cx: &mut Ctx) -> Result<()> {
    let Some(files) = cx.src.associated_files.clone() else {
        return Ok(());
    };
    let mut recs = vec![];
    for (epoch, _) in cx.task_epochs.clone() {
        for f in &files {
            let d = f.description.to_uppercase();
            let is_script = d.contains("STATESCRIPT")
                || d.contains("STATE_SCRIPT")
                || d.contains("STATE SCRIPT");
            let in_epoch = f
                .task_epochs
                .split(',')
                .any(|x| x.trim() == epoch.to_string());
            if is_script && in_epoch {
                let mut r = cx.base();
                r.insert("epoch".into(), Value::from(epoch));
                r.insert("file_object_id".into(), Value::from(f.object_id.as_str()));
                recs.push(r);
            }
        }
    }
    cx.put(behav::STATE_SCRIPT_FILE, recs, Mode::Fresh)?;
    Ok(())
}

// ---------------------------------------------------------------- G4

fn raw_position(cx: &mut Ctx) -> Result<()> {
    let mut masters = vec![];
    let mut parts = vec![];
    for p in cx.pos_epochs.clone() {
        let mut r = cx.base();
        r.insert(
            "interval_list_name".into(),
            Value::from(p.interval.as_str()),
        );
        masters.push(r);
        for (id, (_, oid)) in p.series.iter().enumerate() {
            let mut r = cx.base();
            r.insert(
                "interval_list_name".into(),
                Value::from(p.interval.as_str()),
            );
            r.insert("id".into(), Value::from(id));
            r.insert("raw_position_object_id".into(), Value::from(oid.as_str()));
            parts.push(r);
        }
    }
    cx.put(behav::RAW_POSITION, masters, Mode::Fresh)?;
    cx.put(behav::RAW_POSITION_POS_OBJECT, parts, Mode::Fresh)?;
    Ok(())
}

/// The `Nwbfile` row of a session: its name and the copy's absolute path (store `raw`).
pub(crate) fn nwbfile_row(nwb_file_name: &str, copy_path: &std::path::Path) -> Row {
    Row::from_pairs([
        ("nwb_file_name", Value::from(nwb_file_name)),
        (
            "nwb_file_abs_path",
            Value::from(copy_path.display().to_string()),
        ),
    ])
}

/// Inserts the Nwbfile row (counted in `cx`).
pub(crate) fn insert_nwbfile(cx: &mut Ctx, copy_path: &std::path::Path) -> Result<()> {
    let n = cx.db.insert1(
        nwbfile::NWBFILE,
        nwbfile_row(&cx.nwb_file_name, copy_path),
        InsertOptions::default(),
    )?;
    cx.count(nwbfile::NWBFILE, n);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_matching_follows_spyglass() {
        let names: Vec<String> = [
            "01_s1",
            "02_r1",
            "raw data valid times",
            "pos 0 valid times",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(epoch_interval_for(1, &names).as_deref(), Some("01_s1"));
        assert_eq!(epoch_interval_for(2, &names).as_deref(), Some("02_r1"));
        assert_eq!(epoch_interval_for(3, &names), None);
        let exact: Vec<String> = ["1", "02", "003"].iter().map(|s| s.to_string()).collect();
        assert_eq!(epoch_interval_for(1, &exact).as_deref(), Some("1"));
        assert_eq!(epoch_interval_for(2, &exact).as_deref(), Some("02"));
        assert_eq!(epoch_interval_for(3, &exact).as_deref(), Some("003"));
    }

    #[test]
    fn comparison_treats_null_as_empty_and_ignores_case() {
        assert!(same_value(&Value::Null, &Value::from("")));
        assert!(same_value(&Value::from("Intan"), &Value::from("intan")));
        assert!(same_value(
            &Value::from(0.002f64),
            &Value::from(0.002f32 as f64)
        ));
        assert!(!same_value(&Value::from(0.002f64), &Value::from(0.003f64)));
        assert!(!same_value(&Value::Null, &Value::from("x")));
        assert!(same_value(&Value::Bool(true), &Value::from("True")));
    }

    #[test]
    fn sanitized_names_match_raw_candidates() {
        use crate::ingest::source::sanitize;
        assert_eq!(sanitize("E-Series"), "e-series");
        assert_eq!(sanitize("Electrical Series"), "electricalseries");
    }
}
