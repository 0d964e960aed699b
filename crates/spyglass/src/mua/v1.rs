//! `mua_v1`: times of high multiunit activity during immobility, as Spyglass 0.6's
//! `mua/v1/mua.py` declares and computes them.
//!
//! `MuaEventsParameters` (Manual) holds named parameter dicts for
//! ripple_detection's `multiunit_HSE_detector` (Spyglass's `default`:
//! minimum_duration 0.015 s, zscore_threshold 2.0, close_event_threshold 0.0 s,
//! speed_threshold 4.0 cm/s). `MuaEventsV1` (Computed) detects the events of a
//! SortedSpikesGroup, with the speed of a PositionOutput entry, inside an
//! IntervalList (`detection_interval`).
//!
//! The make follows Spyglass's: the position's times and speed (`speed`, the
//! TrodesPosV1 / DLCPosV1 column) as `fetch1_dataframe` gives them; the group's
//! spike indicator on those times (`SortedSpikesGroup.get_spike_indicator`, the
//! selected units of its sortings) summed over the units; the sampling frequency
//! `1 / median(diff(time))` of the whole position; the samples inside any piece
//! of the detection interval (both ends included) kept; then the detector of
//! `spyglass-ripple` ([`spyglass_ripple::multiunit_hse_detector`], equal to the
//! package's) with the dict's parameters. The events are written as Spyglass's
//! `add_nwb_object` writes the detector's DataFrame: a DynamicTable
//! `pandas_table` in `/scratch`, ids the event numbers; [`fetch1_dataframe`]
//! reads them back.

use crate::common::common_interval as iv;
use crate::kit::prelude::*;
use crate::position::merge::{fetch_position, POSITION_OUTPUT};
use crate::spikesorting::group_v1::{self as group, GroupKey};
use spyglass_ripple::{HseParams, Multiunit, RippleEvent};
use uuid::Uuid;

/// Schema name.
pub const SCHEMA: &str = "mua_v1";
/// `MuaEventsParameters` (Manual).
pub const MUA_EVENTS_PARAMETERS: &str = "mua_v1.MuaEventsParameters";
/// `MuaEventsV1` (Computed).
pub const MUA_EVENTS_V1: &str = "mua_v1.MuaEventsV1";

/// Spyglass's `default` parameter set, as JSON of the dict it inserts (floats stay
/// floats, keys in its order, so the blob equals datajoint-python's).
pub const DEFAULT: (&str, &str) = (
    "default",
    r#"{"minimum_duration": 0.015, "zscore_threshold": 2.0, "close_event_threshold": 0.0, "speed_threshold": 4.0}"#,
);

dict_params! {
    /// MuaEventsParameters: Spyglass's default set, checked as the make reads it.
    pub static PARAMETERS = MUA_EVENTS_PARAMETERS, "mua_param_name" => "mua_param_dict", std::slice::from_ref(&DEFAULT), parse_params;
}

/// The key of MuaEventsV1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MuaKey {
    /// The parameter set.
    pub mua_param_name: String,
    /// The sorted-spikes group (its `nwb_file_name` is the session's).
    #[serde(flatten)]
    pub group: GroupKey,
    /// The position (a PositionOutput merge id).
    pub pos_merge_id: Uuid,
    /// The IntervalList to detect in.
    pub detection_interval: String,
}

/// A MuaEventsV1 row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MuaRow {
    /// Its key.
    #[serde(flatten)]
    pub key: MuaKey,
    /// The analysis file holding the events.
    pub analysis_file_name: String,
    /// Object id of the events table.
    pub mua_times_object_id: String,
}

/// The `mua_v1` pipeline.
pub struct MuaV1;

impl Pipeline for MuaV1 {
    identity!(SCHEMA, family "mua", requires ["spikesorting_group_v1", "position_merge"]);
    provides! {
        makers: MUA_EVENTS_V1 => MuaMake;
        defaults: &PARAMETERS;
        commands: args::WithParams<ParamsArgs, Command>;
    }
    fn tables(&self) -> Vec<TableSpec> {
        let params = "mua_param_name : varchar(80) # a name for this set of parameters
----
mua_param_dict : BLOB    # dictionary of parameters";
        let events = "-> MuaEventsParameters
-> spikesorting_group_v1.SortedSpikesGroup
-> position_merge.PositionOutput.proj(pos_merge_id='merge_id')
-> common_interval.IntervalList.proj(detection_interval='interval_list_name')
---
-> common_nwbfile.AnalysisNwbfile
mua_times_object_id : varchar(40)";
        vec![
            TableSpec::new("MuaEventsParameters", Tier::Manual, params),
            TableSpec::new("MuaEventsV1", Tier::Computed, events),
        ]
    }
    fn run(&self, sg: &Spyglass, _name: &str, m: &clap::ArgMatches) -> Result<()> {
        match args::parse(m)? {
            args::WithParams::Params(p) => PARAMETERS.run(sg, &p, ParamsArgs::dict)?,
            args::WithParams::Other(Command::Detect(a)) => {
                let nwb = a.session.name(sg)?;
                let pos_merge_id: Uuid = a.pos_merge_id.parse().map_err(|e| {
                    Error::bad(format!("--pos-merge-id {}", a.pos_merge_id), format!("{e}"))
                })?;
                let key = MuaKey {
                    mua_param_name: a.params,
                    group: GroupKey {
                        nwb_file_name: nwb,
                        unit_filter_params_name: a.unit_filter,
                        sorted_spikes_group_name: a.group,
                    },
                    pos_merge_id,
                    detection_interval: a.interval,
                };
                let rep = crate::populate(
                    sg,
                    sg.settings(),
                    MUA_EVENTS_V1,
                    spyglass_db::Cond::from(&row_of(MUA_EVENTS_V1, &key)?),
                )?;
                if let Some((k, e)) = rep.error_list.first() {
                    return Err(Error::bad(
                        format!("{MUA_EVENTS_V1} {}", k.to_json()),
                        e.clone(),
                    ));
                }
                let events = fetch1_dataframe(sg, &key)?;
                println!("MuaEventsV1: {} events", events.len());
                for e in events {
                    println!(
                        "{:.4}\t{:.4}\t{:.4} s\tmax z {:.2}",
                        e.start_time, e.end_time, e.duration, e.max_zscore
                    );
                }
            }
        }
        Ok(())
    }
}

/// `spyglass mua …`.
#[derive(clap::Subcommand)]
enum Command {
    /// Detect the events of a sorted-spikes group (populate one MuaEventsV1 key) and list them.
    Detect(DetectArgs),
}

/// `spyglass mua params add`.
#[derive(clap::Args)]
struct ParamsArgs {
    /// Shortest event, s.
    #[arg(long)]
    minimum_duration: Option<f64>,
    /// Threshold on the z-scored population rate.
    #[arg(long)]
    zscore_threshold: Option<f64>,
    /// Events closer than this to the previous one are dropped, s.
    #[arg(long)]
    close_event_threshold: Option<f64>,
    /// Events where the animal moves faster are dropped, cm/s.
    #[arg(long)]
    speed_threshold: Option<f64>,
    /// σ of the Gaussian smoothing of the rate, s.
    #[arg(long)]
    smoothing_sigma: Option<f64>,
}

impl ParamsArgs {
    fn dict(&self) -> serde_json::Value {
        let mut d = serde_json::Map::new();
        for (k, v) in [
            ("minimum_duration", self.minimum_duration),
            ("zscore_threshold", self.zscore_threshold),
            ("close_event_threshold", self.close_event_threshold),
            ("speed_threshold", self.speed_threshold),
            ("smoothing_sigma", self.smoothing_sigma),
        ] {
            if let Some(v) = v {
                d.insert(k.into(), serde_json::json!(v));
            }
        }
        serde_json::Value::Object(d)
    }
}

/// `spyglass mua detect`.
#[derive(clap::Args)]
struct DetectArgs {
    /// The session.
    #[command(flatten)]
    session: args::SessionArg,
    /// The SortedSpikesGroup's name.
    #[arg(long)]
    group: String,
    /// The group's unit selection.
    #[arg(long = "unit-filter", default_value = "all_units")]
    unit_filter: String,
    /// The PositionOutput merge id giving the speed.
    #[arg(long = "pos-merge-id")]
    pos_merge_id: String,
    /// The IntervalList to detect in.
    #[arg(long)]
    interval: String,
    /// The parameter set.
    #[arg(long, default_value = "default")]
    params: String,
}

/// Reads parameter set `name`'s dict as `multiunit_HSE_detector`'s keyword
/// arguments (missing ones take its defaults); the normalization options are
/// refused, naming them.
pub fn parse_params(name: &str, dict: &serde_json::Value) -> Result<HseParams> {
    let what = format!("{MUA_EVENTS_PARAMETERS} `{name}`");
    let map = dict
        .as_object()
        .ok_or_else(|| Error::bad(&what, format!("{dict} is not a dict")))?;
    let mut p = HseParams::default();
    for (k, v) in map {
        let x = v
            .as_f64()
            .ok_or_else(|| Error::bad(&what, format!("`{k}` = {v} is not a number")))?;
        match k.as_str() {
            "speed_threshold" => p.speed_threshold = x,
            "minimum_duration" => p.minimum_duration = x,
            "zscore_threshold" => p.zscore_threshold = x,
            "smoothing_sigma" => p.smoothing_sigma = x,
            "close_event_threshold" => p.close_event_threshold = x,
            other => {
                return Err(Error::bad(
                    &what,
                    format!(
                        "`{other}` is not a parameter of multiunit_HSE_detector offered here \
                         (speed_threshold, minimum_duration, zscore_threshold, smoothing_sigma, \
                         close_event_threshold)"
                    ),
                ))
            }
        }
    }
    let finite = [
        p.speed_threshold,
        p.minimum_duration,
        p.zscore_threshold,
        p.smoothing_sigma,
        p.close_event_threshold,
    ]
    .iter()
    .all(|v| v.is_finite());
    if !finite || p.smoothing_sigma <= 0.0 || p.minimum_duration < 0.0 {
        return Err(Error::bad(
            &what,
            "every parameter must be finite, smoothing_sigma > 0 and minimum_duration >= 0",
        ));
    }
    Ok(p)
}

/// MuaEventsParameters set `name`, read and checked.
pub fn fetch_params(db: &Db, name: &str) -> Result<HseParams> {
    parse_params(name, &PARAMETERS.dict(db, name)?)
}

/// What the make reads from the database.
#[derive(Debug, Clone, Serialize)]
pub struct MuaInputs {
    /// The session's copy (the analysis file's parent).
    pub nwb_path: std::path::PathBuf,
    /// The parameters.
    pub params: HseParams,
    /// The position's times.
    pub time: Vec<f64>,
    /// The position's speed.
    pub speed: Vec<f64>,
    /// The selected units' spike times.
    pub spike_times: Vec<Vec<f64>>,
    /// The detection interval.
    pub valid_times: Vec<[f64; 2]>,
}

struct MuaMake;

impl Make for MuaMake {
    const TABLE: &'static str = MUA_EVENTS_V1;
    type Key = MuaKey;
    type Inputs = MuaInputs;
    type Output = Written;

    fn fetch(&self, cx: &Cx, key: &MuaKey) -> Result<MuaInputs> {
        let nwb = &key.group.nwb_file_name;
        let pos = fetch_position(cx.db, &key.pos_merge_id)?;
        let (spike_times, _) = group::fetch_spike_data(cx.db, &key.group, None)?;
        let valid = iv::fetch_list(cx.db, nwb, &key.detection_interval)?;
        Ok(MuaInputs {
            nwb_path: crate::analysis::nwb_file_path(cx.db, nwb)?,
            params: fetch_params(cx.db, &key.mua_param_name)?,
            time: pos.time,
            speed: pos.speed,
            spike_times,
            valid_times: valid.valid_times,
        })
    }

    fn compute(&self, settings: &Settings, key: &MuaKey, i: MuaInputs) -> Result<Written> {
        let events = detect(key, &i)?;
        crate::ripple::v1::write_events(settings, &key.group.nwb_file_name, &i.nwb_path, &events)
    }

    fn insert(&self, cx: &Cx, key: &MuaKey, out: Written) -> Result<()> {
        cx.db
            .put_written(MUA_EVENTS_V1, out, |analysis_file_name, id| MuaRow {
                key: key.clone(),
                analysis_file_name,
                mua_times_object_id: id,
            })
    }
}

/// The detection of one key on its inputs (see the module doc).
pub fn detect(key: &MuaKey, i: &MuaInputs) -> Result<Vec<RippleEvent>> {
    let what = || format!("{MUA_EVENTS_V1} {}", key_text(key));
    if i.time.len() != i.speed.len() {
        return Err(Error::bad(
            POSITION_OUTPUT,
            format!(
                "merge id {}: {} times, {} speeds",
                key.pos_merge_id,
                i.time.len(),
                i.speed.len()
            ),
        ));
    }
    let indicator = group::spike_indicator(&i.spike_times, &i.time)
        .map_err(|e| Error::bad(what(), e.to_string()))?;
    let summed = indicator.summed();
    let fs = group::sampling_frequency(&i.time).map_err(|e| Error::bad(what(), e.to_string()))?;
    let mut time = vec![];
    let mut speed = vec![];
    let mut counts = vec![];
    for ((&t, &v), &n) in i.time.iter().zip(&i.speed).zip(&summed) {
        if i.valid_times.iter().any(|[a, b]| t >= *a && t <= *b) {
            time.push(t);
            speed.push(v);
            counts.push(n);
        }
    }
    if time.is_empty() {
        return Err(Error::bad(
            what(),
            format!(
                "no position sample inside detection interval `{}`",
                key.detection_interval
            ),
        ));
    }
    let mu = Multiunit {
        data: &counts,
        n_units: 1,
    };
    spyglass_ripple::multiunit_hse_detector(&time, mu, &speed, fs, &i.params)
        .map_err(|e| Error::bad(what(), e.to_string()))
}

/// Spyglass's `MuaEventsV1.fetch1_dataframe()`: the events of row `key`, in the
/// file's order, with every column of the detector's DataFrame.
pub fn fetch1_dataframe(db: &Db, key: &MuaKey) -> Result<Vec<RippleEvent>> {
    let row: MuaRow = db.row(MUA_EVENTS_V1, key)?;
    let path = crate::analysis::analysis_file_path(db, &row.analysis_file_name)?;
    crate::ripple::v1::read_events_table(&path, &row.mua_times_object_id)
}

/// Spyglass's `MuaEventsV1.get_firing_rate(key, time)`: the group's multiunit
/// rate (summed over its selected units, σ 15 ms) on `time`.
pub fn get_firing_rate(db: &Db, key: &MuaKey, time: &[f64]) -> Result<Vec<f64>> {
    let (mut rate, _) =
        group::get_firing_rate(db, &key.group, time, true, group::DEFAULT_SMOOTHING_SIGMA)?;
    rate.pop()
        .ok_or_else(|| Error::internal(MUA_EVENTS_V1, "no multiunit rate"))
}
