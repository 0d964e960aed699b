//! `position_v1_trodes_position`: head position, orientation, velocity and speed
//! from the LEDs Trodes tracks, as Spyglass's TrodesPosV1 computes them.
//!
//! `TrodesPosParams` holds named parameter dicts (Spyglass's `default`, packed as
//! datajoint packs it); `TrodesPosSelection` pairs a session's RawPosition epoch
//! with one. The make reads the epoch's SpatialSeries (RawPosition.PosObject, by
//! object id in the session's `_` copy), runs Spyglass's `calculate_position_info`
//! ([`spyglass_position::calculate_position_info`], tested against Spyglass's own
//! function), and writes an analysis file as Spyglass's `generate_pos_components`
//! does: in `/scratch`, a `Position` with SpatialSeries `position` (cm, conversion
//! 0.01), a `CompassDirection` with `orientation` (rad) and a
//! `BehavioralTimeSeries` with `velocity` (vx, vy, speed; cm/s, conversion 0.01,
//! unit `m/s`) and `video_frame_ind`; comments and reference frame copied from the
//! raw series. The row holds the three containers' object ids, and the key goes
//! into PositionOutput.
//!
//! Reading the raw series follows `RawPosition.PosObject.fetch1_dataframe`: each
//! SpatialSeries' columns are named from its description (numbered by its id
//! unless the description already numbers them), several series of one epoch are
//! joined on equal timestamps, and `_fix_col_names` picks the LED columns
//! (`xloc, yloc, xloc2, yloc2`, or the 0- or 1-numbered forms). Where Spyglass 0.6
//! would ask at the keyboard, this decides without asking, and says so in
//! [`LedColumns::note`]:
//! - **a single LED in a 2-column series** (e.g. described `xloc, yloc`): Spyglass
//!   asks, then fails renaming 2 columns to 4 names. Here the two columns are the
//!   one LED, used as both front and back — what `calculate_position_info` does
//!   with fewer than 4 columns — so the position is the LED's, and the
//!   orientation is the smoothed angle of a zero vector (0), as Spyglass's own
//!   single-LED handling gives;
//! - **4 or more columns with other names**: the first four, as answering "yes"
//!   does.
//!
//! A 3-column (x, y, z) series is refused: Spyglass's LED arithmetic is 2-D.

use super::merge::POSITION_OUTPUT;
use crate::analysis::nwb_file_path;
use crate::common::common_behav::{RAW_POSITION, RAW_POSITION_POS_OBJECT};
use crate::kit::prelude::*;
use spyglass_nwb::{SeriesData, TimeSeriesSpec, TimingSpec};
use spyglass_position::{PositionInfo, RawLeds, TrodesPosParams, UpsamplingMethod};
use std::collections::HashMap;
use std::path::PathBuf;

/// Schema name.
pub const SCHEMA: &str = "position_v1_trodes_position";
/// `TrodesPosParams` (Manual).
pub const PARAMS: &str = "position_v1_trodes_position.TrodesPosParams";
/// `TrodesPosSelection` (Manual).
pub const SELECTION: &str = "position_v1_trodes_position.TrodesPosSelection";
/// `TrodesPosV1` (Computed).
pub const TRODES_POS_V1: &str = "position_v1_trodes_position.TrodesPosV1";
/// The name of Spyglass's default parameter set.
pub const DEFAULT_PARAMS_NAME: &str = "default";
/// Spyglass's `TrodesPosParams().default_params`, in its key order and types
/// (floats stay floats, the flags ints, no rate: None), so the packed blob equals
/// datajoint-python's.
pub const DEFAULT_PARAMS: &str = r#"{"max_LED_separation": 9.0, "max_plausible_speed": 300.0, "position_smoothing_duration": 0.125, "speed_smoothing_std_dev": 0.1, "orient_smoothing_std_dev": 0.001, "led1_is_front": 1, "is_upsampled": 0, "upsampling_sampling_rate": null, "upsampling_interpolation_method": "linear"}"#;

dict_params! {
    /// TrodesPosParams: Spyglass's default set, checked as the make reads it.
    pub static PARAMETERS = PARAMS, "trodes_pos_params_name" => "params",
        &[(DEFAULT_PARAMS_NAME, DEFAULT_PARAMS)], parse_params;
}

/// The key of TrodesPosSelection and TrodesPosV1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrodesPosKey {
    /// The session.
    pub nwb_file_name: String,
    /// The RawPosition epoch (`pos 0 valid times`).
    pub interval_list_name: String,
    /// The TrodesPosParams set.
    pub trodes_pos_params_name: String,
}

/// A TrodesPosV1 row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrodesPosV1Row {
    /// Its key.
    #[serde(flatten)]
    pub key: TrodesPosKey,
    /// The analysis file.
    pub analysis_file_name: String,
    /// Object id of the `Position` container.
    pub position_object_id: String,
    /// Object id of the `CompassDirection` container.
    pub orientation_object_id: String,
    /// Object id of the `BehavioralTimeSeries` container (velocity, video_frame_ind).
    pub velocity_object_id: String,
}

/// A TrodesPosParams row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamsRow {
    /// Its name.
    pub trodes_pos_params_name: String,
    /// The dict.
    pub params: serde_json::Value,
}

/// The `position_v1_trodes_position` pipeline.
pub struct TrodesPosV1;

impl Pipeline for TrodesPosV1 {
    identity!(SCHEMA, family "position");
    provides! {
        makers: TRODES_POS_V1 => TrodesPosV1Make;
        defaults: &PARAMETERS;
        merge: POSITION_OUTPUT => TRODES_POS_V1;
        commands: args::WithParams<ParamsArgs, Command>;
    }
    fn tables(&self) -> Vec<TableSpec> {
        let params = "trodes_pos_params_name: varchar(80) # name for this set of parameters
---
params: longblob";
        let selection = "-> common_behav.RawPosition
-> TrodesPosParams";
        let v1 = "-> TrodesPosSelection
---
-> common_nwbfile.AnalysisNwbfile
position_object_id : varchar(80)
orientation_object_id : varchar(80)
velocity_object_id : varchar(80)";
        let t = TableSpec::new;
        vec![
            t("TrodesPosParams", Tier::Manual, params),
            t("TrodesPosSelection", Tier::Manual, selection),
            t("TrodesPosV1", Tier::Computed, v1),
        ]
    }
    fn run(&self, sg: &Spyglass, _name: &str, m: &clap::ArgMatches) -> Result<()> {
        match args::parse::<args::WithParams<ParamsArgs, Command>>(m)? {
            args::WithParams::Params(args::ParamsCommand::Add(a)) => {
                let params = a.args.edited(&a.name)?;
                add_params(sg, &a.name, &params)?;
                println!("TrodesPosParams `{}`: {params}", a.name);
            }
            args::WithParams::Params(args::ParamsCommand::List) => PARAMETERS.list(sg)?,
            args::WithParams::Other(Command::Select(a)) => {
                let nwb = a.session.name(sg)?;
                let keys = select(sg, &nwb, a.interval.as_deref(), &a.params)?;
                for k in &keys {
                    println!(
                        "TrodesPosSelection: {nwb}, `{}`, parameters `{}`",
                        k.interval_list_name, k.trodes_pos_params_name
                    );
                }
                args::next_populate(TRODES_POS_V1, &[("nwb_file_name", &nwb)]);
            }
        }
        Ok(())
    }
}

/// `spyglass position …` commands of this pipeline.
#[derive(clap::Subcommand)]
enum Command {
    /// Select a session's raw position epochs and a parameter set for TrodesPosV1
    /// (TrodesPosSelection.insert_with_default).
    Select(SelectArgs),
}

/// `spyglass position params add`.
#[derive(clap::Args)]
struct ParamsArgs {
    /// LEDs at least this far apart are discarded, cm.
    #[arg(long = "max-led-separation")]
    max_led_separation: Option<f64>,
    /// Samples where an LED moves faster are discarded, cm/s.
    #[arg(long)]
    max_plausible_speed: Option<f64>,
    /// Moving-average window, s.
    #[arg(long)]
    position_smoothing_duration: Option<f64>,
    /// σ of the velocity Gaussian, s.
    #[arg(long)]
    speed_smoothing_std_dev: Option<f64>,
    /// σ of the orientation Gaussian, s.
    #[arg(long)]
    orient_smoothing_std_dev: Option<f64>,
    /// LED 1 (columns 0-1) is the front LED: 1 or 0.
    #[arg(long)]
    led1_is_front: Option<u8>,
    /// Upsample to this rate, Hz (sets is_upsampled).
    #[arg(long)]
    upsample: Option<f64>,
    /// Interpolation of the upsampling: linear, index or values.
    #[arg(long)]
    upsampling_interpolation_method: Option<String>,
}

impl ParamsArgs {
    /// Spyglass's defaults with the given values changed (`insert_with_default`'s
    /// `{**default_params, **edit_defaults}`), checked.
    fn edited(&self, name: &str) -> Result<serde_json::Value> {
        let mut p = default_params()?;
        let mut set = |k: &str, v: serde_json::Value| p[k] = v;
        let floats = [
            ("max_LED_separation", self.max_led_separation),
            ("max_plausible_speed", self.max_plausible_speed),
            (
                "position_smoothing_duration",
                self.position_smoothing_duration,
            ),
            ("speed_smoothing_std_dev", self.speed_smoothing_std_dev),
            ("orient_smoothing_std_dev", self.orient_smoothing_std_dev),
        ];
        for (k, v) in floats {
            if let Some(v) = v {
                set(k, serde_json::json!(v));
            }
        }
        if let Some(f) = self.led1_is_front {
            set("led1_is_front", serde_json::json!(i64::from(f != 0)));
        }
        if let Some(rate) = self.upsample {
            set("is_upsampled", serde_json::json!(1));
            set("upsampling_sampling_rate", serde_json::json!(rate));
        }
        if let Some(m) = &self.upsampling_interpolation_method {
            set("upsampling_interpolation_method", serde_json::json!(m));
        }
        parse_params(name, &p)?;
        Ok(p)
    }
}

/// `spyglass position select`.
#[derive(clap::Args)]
struct SelectArgs {
    /// The session.
    #[command(flatten)]
    session: args::SessionArg,
    /// One raw position epoch (`pos 0 valid times`); default: every epoch of the session.
    #[arg(long)]
    interval: Option<String>,
    /// The TrodesPosParams set.
    #[arg(long, default_value = DEFAULT_PARAMS_NAME)]
    params: String,
}

/// Spyglass's default parameter dict.
pub fn default_params() -> Result<serde_json::Value> {
    PARAMETERS.default_dict(DEFAULT_PARAMS_NAME)
}

/// Adds parameter set `name` (checked as the make reads it); an existing set of
/// that name with other values is a conflict, the same values are kept.
pub fn add_params(db: &Db, name: &str, params: &serde_json::Value) -> Result<()> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    parse_params(name, params)?;
    let key = serde_json::json!({ "trodes_pos_params_name": name });
    if let Some(old) = db.rows::<ParamsRow>(PARAMS, &key)?.pop() {
        if &old.params != params {
            let message = format!("`{name}` exists with other values ({})", old.params);
            return Err(Error::conflict(PARAMS, message));
        }
        return Ok(());
    }
    insert_param_dict(
        db,
        PARAMS,
        ("trodes_pos_params_name", name),
        "params",
        params,
        false,
    )?;
    Ok(())
}

/// Reads a parameter dict as `calculate_position_info` takes it: the v1 names, or
/// the common names `_fix_kwargs` accepts in their place; keys it does not take
/// are ignored, as Spyglass's `**kwargs` ignores them.
pub fn parse_params(name: &str, p: &serde_json::Value) -> Result<TrodesPosParams> {
    let what = format!("{PARAMS} `{name}`");
    let get = |keys: &[&str]| keys.iter().find_map(|k| p.get(*k).filter(|v| !v.is_null()));
    let number = |keys: &[&str]| -> Result<f64> {
        let v = get(keys).ok_or_else(|| Error::bad(&what, format!("no `{}`", keys[0])))?;
        v.as_f64()
            .ok_or_else(|| Error::bad(&what, format!("`{}` = {v} is not a number", keys[0])))
    };
    let flag = |key: &str| -> Result<bool> {
        match p.get(key) {
            Some(serde_json::Value::Bool(b)) => Ok(*b),
            Some(v) if v.as_f64().is_some() => Ok(v.as_f64() != Some(0.0)),
            other => Err(Error::bad(
                &what,
                format!("`{key}` = {other:?} is not 0 or 1"),
            )),
        }
    };
    let is_upsampled = flag("is_upsampled")?;
    let method = match p
        .get("upsampling_interpolation_method")
        .and_then(|v| v.as_str())
    {
        Some(m) if is_upsampled => {
            UpsamplingMethod::parse(m).map_err(|e| Error::bad(&what, e.to_string()))?
        }
        Some(_) => UpsamplingMethod::Linear,
        None => return Err(Error::bad(&what, "no `upsampling_interpolation_method`")),
    };
    let rate = match p.get("upsampling_sampling_rate") {
        None => return Err(Error::bad(&what, "no `upsampling_sampling_rate`")),
        Some(serde_json::Value::Null) => None,
        Some(v) => Some(v.as_f64().ok_or_else(|| {
            Error::bad(
                &what,
                format!("`upsampling_sampling_rate` = {v} is not a number"),
            )
        })?),
    };
    if is_upsampled && rate.is_none() {
        return Err(Error::bad(
            &what,
            "is_upsampled is set without an upsampling_sampling_rate",
        ));
    }
    Ok(TrodesPosParams {
        max_led_separation: number(&["max_LED_separation", "max_separation"])?,
        max_plausible_speed: number(&["max_plausible_speed", "max_speed"])?,
        position_smoothing_duration: number(&["position_smoothing_duration"])?,
        speed_smoothing_std_dev: number(&[
            "speed_smoothing_std_dev",
            "head_speed_smoothing_std_dev",
        ])?,
        orient_smoothing_std_dev: number(&[
            "orient_smoothing_std_dev",
            "head_orient_smoothing_std_dev",
        ])?,
        led1_is_front: flag("led1_is_front")?,
        is_upsampled,
        upsampling_sampling_rate: rate,
        upsampling_interpolation_method: method,
    })
}

/// TrodesPosSelection rows for the session's RawPosition epochs (only
/// `interval_list_name` when given) with parameter set `params`, as Spyglass's
/// `insert_with_default` makes them; returns their keys. Spyglass's `default`
/// set is inserted when it is named and missing.
pub fn select(
    db: &Db,
    nwb_file_name: &str,
    interval_list_name: Option<&str>,
    params: &str,
) -> Result<Vec<TrodesPosKey>> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    let mut restriction = serde_json::json!({ "nwb_file_name": nwb_file_name });
    if let Some(i) = interval_list_name {
        restriction["interval_list_name"] = i.into();
    }
    #[derive(Deserialize)]
    struct Epoch {
        interval_list_name: String,
    }
    let epochs: Vec<Epoch> = db.rows(RAW_POSITION, &restriction)?;
    if epochs.is_empty() {
        return Err(Error::missing(RAW_POSITION, restriction.to_string()));
    }
    if params == DEFAULT_PARAMS_NAME {
        PARAMETERS.insert_defaults(db)?;
    }
    db.row::<ParamsRow>(
        PARAMS,
        &serde_json::json!({ "trodes_pos_params_name": params }),
    )?;
    let keys: Vec<TrodesPosKey> = epochs
        .into_iter()
        .map(|e| TrodesPosKey {
            nwb_file_name: nwb_file_name.to_string(),
            interval_list_name: e.interval_list_name,
            trodes_pos_params_name: params.to_string(),
        })
        .collect();
    db.put_new(SELECTION, &keys)?;
    Ok(keys)
}

/// The raw position of one epoch as Spyglass's make reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct RawEpoch {
    /// Timestamps, seconds (the joined series').
    pub time: Vec<f64>,
    /// Column names (`_get_column_names` of each series, in id order).
    pub columns: Vec<String>,
    /// Values as stored, row-major, `time.len() × columns.len()`.
    pub data: Vec<f64>,
    /// The first series' `conversion` (Spyglass's `meters_to_pixels`).
    pub conversion: f64,
    /// The first series' `comments`.
    pub comments: String,
    /// The first series' `reference_frame`.
    pub reference_frame: String,
}

impl RawEpoch {
    /// The values of column `k`.
    pub fn column(&self, k: usize) -> Vec<f64> {
        let c = self.columns.len();
        self.data.iter().skip(k).step_by(c).copied().collect()
    }
}

/// Column names of one SpatialSeries as `PosObject._get_column_names` gives them.
pub fn column_names(description: &str, n_columns: usize, id: i64) -> Vec<String> {
    let numbered = description.contains('1') || description.contains('2');
    let names: Vec<String> = description
        .split(", ")
        .map(|c| {
            if numbered {
                c.to_string()
            } else {
                format!("{c}{}", id + 1)
            }
        })
        .collect();
    if names.len() == n_columns {
        names
    } else {
        ["x", "y", "z"]
            .iter()
            .take(n_columns)
            .map(|s| s.to_string())
            .collect()
    }
}

/// Reads the SpatialSeries `series` (id, object id) of `path` and joins them on
/// their timestamps (`RawPosition.PosObject.fetch1_dataframe`).
pub fn read_raw_epoch(path: &std::path::Path, series: &[(i64, String)]) -> Result<RawEpoch> {
    let file = spyglass_nwb::NwbFile::open(path)?;
    let here = || path.display().to_string();
    let mut out: Option<RawEpoch> = None;
    for (id, object_id) in series {
        let p = file.path_of_id(object_id)?;
        let ts = file.time_series(&p)?;
        let time = file.timestamps(&p)?;
        let d = file.read_data(&format!("{p}/data"))?;
        let shape = d.shape;
        // copied, the read buffer freed now: glibc then serves the make's later
        // buffers of this size from its heap instead of fresh mappings (measured:
        // moving it here cost ~4700 more page faults and ~8 % more CPU per make)
        let values = d
            .values
            .to_f64()
            .ok_or_else(|| Error::bad(here(), format!("{p}/data is not numeric")))?;
        let c = match shape.as_slice() {
            [n] if *n == time.len() => 1,
            [n, c] if *n == time.len() => *c,
            shape => {
                return Err(Error::bad(
                    here(),
                    format!("{p}/data has shape {shape:?} for {} timestamps", time.len()),
                ))
            }
        };
        let columns = column_names(ts.description.as_deref().unwrap_or(""), c, *id);
        if columns.len() != c {
            return Err(Error::bad(
                here(),
                format!("{p}: {c} columns cannot be named from its description"),
            ));
        }
        let this = RawEpoch {
            time,
            columns,
            data: values,
            conversion: ts.conversion,
            comments: ts.comments.clone().unwrap_or_else(|| "no comments".into()),
            reference_frame: ts.reference_frame.clone().unwrap_or_default(),
        };
        out = Some(match out {
            None => this,
            Some(left) => join_on_time(left, this).map_err(|m| Error::bad(here(), m))?,
        });
    }
    out.ok_or_else(|| Error::internal(RAW_POSITION_POS_OBJECT, "no SpatialSeries"))
}

/// `pd.merge(left, right, on="time")`: the rows whose time is in both, in the left's
/// order (a time repeated within one series is refused).
fn join_on_time(left: RawEpoch, right: RawEpoch) -> std::result::Result<RawEpoch, String> {
    let index = |t: &[f64]| -> std::result::Result<HashMap<u64, usize>, String> {
        let mut m = HashMap::new();
        for (i, v) in t.iter().enumerate() {
            if m.insert(v.to_bits(), i).is_some() {
                return Err(format!(
                    "time {v} occurs twice in one SpatialSeries; joining on time is ambiguous"
                ));
            }
        }
        Ok(m)
    };
    index(&left.time)?;
    let right_at = index(&right.time)?;
    let (lc, rc) = (left.columns.len(), right.columns.len());
    let (mut time, mut data) = (vec![], vec![]);
    for (i, t) in left.time.iter().enumerate() {
        if let Some(&j) = right_at.get(&t.to_bits()) {
            time.push(*t);
            data.extend_from_slice(&left.data[i * lc..(i + 1) * lc]);
            data.extend_from_slice(&right.data[j * rc..(j + 1) * rc]);
        }
    }
    let mut columns = left.columns;
    columns.extend(right.columns);
    Ok(RawEpoch {
        time,
        columns,
        data,
        ..left
    })
}

/// The LED columns `_fix_col_names` picks, and what was decided where Spyglass asks.
#[derive(Debug, Clone, PartialEq)]
pub struct LedColumns {
    /// Column indices: 2 (one LED) or 4 (LED 1 then LED 2).
    pub columns: Vec<usize>,
    /// What was decided where Spyglass 0.6 would ask at the keyboard.
    pub note: Option<String>,
}

/// `_fix_col_names` on the column names (see the module doc for the cases it asks about).
pub fn led_columns(names: &[String]) -> Result<LedColumns> {
    let find = |want: &[&str]| -> Option<Vec<usize>> {
        want.iter()
            .map(|w| names.iter().position(|n| n == w))
            .collect()
    };
    let what = format!("raw position columns {names:?}");
    if let Some(columns) = find(&["xloc", "yloc", "xloc2", "yloc2"]) {
        return Ok(LedColumns {
            columns,
            note: None,
        });
    }
    if find(&["x", "y", "z"]).is_some() {
        return Err(Error::bad(
            what,
            "a 3-D (x, y, z) series: TrodesPosV1's LED arithmetic is 2-D",
        ));
    }
    for want in [
        ["xloc0", "yloc0", "xloc1", "yloc1"],
        ["xloc1", "yloc1", "xloc2", "yloc2"],
    ] {
        if let Some(columns) = find(&want) {
            return Ok(LedColumns {
                columns,
                note: None,
            });
        }
    }
    let pos: Vec<usize> = (0..names.len())
        .filter(|&i| names[i] != "video_frame_ind")
        .collect();
    match pos.len() {
        2 => Ok(LedColumns {
            columns: pos,
            note: Some("one LED in 2 columns: used as both front and back (Spyglass 0.6 asks, then fails renaming them)".into()),
        }),
        n if n >= 4 => Ok(LedColumns {
            columns: pos[..4].to_vec(),
            note: Some("unexpected column names: the first four taken as xloc, yloc, xloc2, yloc2 (Spyglass 0.6 asks first)".into()),
        }),
        n => Err(Error::bad(what, format!("{n} position columns: 2 (one LED) or 4 (two LEDs) needed"))),
    }
}

/// TrodesPosV1's computation on a raw epoch: the LEDs picked, `calculate_position_info`
/// with the params, and the video frame index Spyglass writes.
pub fn compute_position(
    raw: &RawEpoch,
    params: &TrodesPosParams,
) -> Result<(PositionInfo, Vec<i64>, LedColumns)> {
    let leds = led_columns(&raw.columns)?;
    // the LEDs straight from the raw rows (led_columns picks 2 or 4 of them)
    let rows = raw.data.chunks_exact(raw.columns.len());
    let xy = |row: &[f64], k: usize| [row[leds.columns[k]], row[leds.columns[k + 1]]];
    let raw_leds = if leds.columns.len() == 2 {
        RawLeds::Single(rows.map(|r| xy(r, 0)).collect())
    } else {
        let (led1, led2) = rows.map(|r| (xy(r, 0), xy(r, 2))).unzip();
        RawLeds::Pair { led1, led2 }
    };
    let position_error =
        |e: spyglass_position::PositionError| Error::bad(TRODES_POS_V1, e.to_string());
    let info =
        spyglass_position::calculate_position_info(&raw.time, &raw_leds, raw.conversion, params)
            .map_err(position_error)?;
    // the raw series' video_frame_ind column when it has one, else 0..n (Spyglass)
    let frames = match raw.columns.iter().position(|n| n == "video_frame_ind") {
        Some(k) => {
            let kept: Vec<i64> = raw
                .column(k)
                .iter()
                .zip(&raw.time)
                .filter(|(_, t)| !t.is_nan())
                .map(|(f, _)| *f as i64)
                .collect();
            if kept.len() == info.time.len() {
                kept
            } else {
                raw.column(k).iter().map(|f| *f as i64).collect()
            }
        }
        None => (0..info.time.len() as i64).collect(),
    };
    Ok((info, frames, leds))
}

/// What the make reads from the database.
#[derive(Debug, Clone, Serialize)]
pub struct TrodesInputs {
    /// The session's `_` copy (holds the raw series; the analysis file's parent).
    pub path: PathBuf,
    /// The epoch's SpatialSeries: (id, object id), by id.
    pub series: Vec<(i64, String)>,
    /// The parameter dict.
    pub params: serde_json::Value,
}

struct TrodesPosV1Make;

impl Make for TrodesPosV1Make {
    const TABLE: &'static str = TRODES_POS_V1;
    type Key = TrodesPosKey;
    type Inputs = TrodesInputs;
    type Output = Written<[String; 3]>;

    fn fetch(&self, cx: &Cx, key: &TrodesPosKey) -> Result<TrodesInputs> {
        let params = PARAMETERS.dict(cx.db, &key.trodes_pos_params_name)?;
        parse_params(&key.trodes_pos_params_name, &params)?;
        #[derive(Deserialize)]
        struct PosObject {
            id: i64,
            raw_position_object_id: String,
        }
        let epoch = serde_json::json!({ "nwb_file_name": key.nwb_file_name, "interval_list_name": key.interval_list_name });
        let mut objects: Vec<PosObject> = cx.db.rows(RAW_POSITION_POS_OBJECT, &epoch)?;
        if objects.is_empty() {
            return Err(Error::missing(RAW_POSITION_POS_OBJECT, epoch.to_string()));
        }
        objects.sort_by_key(|o| o.id);
        Ok(TrodesInputs {
            path: nwb_file_path(cx.db, &key.nwb_file_name)?,
            series: objects
                .into_iter()
                .map(|o| (o.id, o.raw_position_object_id))
                .collect(),
            params,
        })
    }

    fn compute(
        &self,
        settings: &Settings,
        key: &TrodesPosKey,
        i: TrodesInputs,
    ) -> Result<Written<[String; 3]>> {
        let params = parse_params(&key.trodes_pos_params_name, &i.params)?;
        let raw = read_raw_epoch(&i.path, &i.series)?;
        crate::kit::analysis_file_beside(
            settings,
            &key.nwb_file_name,
            &i.path,
            "",
            || compute_position(&raw, &params),
            |w, (info, frames, _)| write_components(w, &raw, &info, frames),
        )
    }

    fn insert(&self, cx: &Cx, key: &TrodesPosKey, out: Written<[String; 3]>) -> Result<()> {
        cx.db
            .put_written(TRODES_POS_V1, out, |analysis_file_name, ids| {
                let [position_object_id, orientation_object_id, velocity_object_id] = ids;
                TrodesPosV1Row {
                    key: key.clone(),
                    analysis_file_name,
                    position_object_id,
                    orientation_object_id,
                    velocity_object_id,
                }
            })?;
        cx.db.merge_add(POSITION_OUTPUT, key)?;
        Ok(())
    }
}

/// Writes Spyglass's `generate_pos_components` (prefix "", with the frame index)
/// into `/scratch`; returns the object ids of Position, CompassDirection and
/// BehavioralTimeSeries.
fn write_components(
    w: &mut spyglass_nwb::AnalysisFileWriter,
    raw: &RawEpoch,
    info: &PositionInfo,
    frames: Vec<i64>,
) -> Result<[String; 3]> {
    const METERS_PER_CM: f64 = 0.01;
    let n = info.time.len();
    let series = |name: &str, ty: &str, description: &str, data: SeriesData, shape: Vec<usize>| {
        TimeSeriesSpec {
            name: name.into(),
            neurodata_type: ty.into(),
            description: description.into(),
            comments: raw.comments.clone(),
            data,
            shape,
            timing: TimingSpec::Timestamps(info.time.clone()),
            reference_frame: (ty == "SpatialSeries").then(|| raw.reference_frame.clone()),
            ..Default::default()
        }
    };
    let position = TimeSeriesSpec {
        unit: "meters".into(),
        conversion: METERS_PER_CM,
        ..series(
            "position",
            "SpatialSeries",
            "x_position, y_position",
            SeriesData::F64(info.position.concat()),
            vec![n, 2],
        )
    };
    let orientation = TimeSeriesSpec {
        unit: "meters".into(),
        ..series(
            "orientation",
            "SpatialSeries",
            "orientation",
            SeriesData::F64(info.orientation.clone()),
            vec![n],
        )
    };
    let velocity_speed: Vec<f64> = info
        .velocity
        .iter()
        .zip(&info.speed)
        .flat_map(|(v, s)| [v[0], v[1], *s])
        .collect();
    let velocity = TimeSeriesSpec {
        unit: "m/s".into(),
        conversion: METERS_PER_CM,
        ..series(
            "velocity",
            "TimeSeries",
            "x_velocity, y_velocity, speed",
            SeriesData::F64(velocity_speed),
            vec![n, 3],
        )
    };
    let n_frames = frames.len();
    let frames = TimeSeriesSpec {
        unit: "index".into(),
        ..series(
            "video_frame_ind",
            "TimeSeries",
            "video_frame_ind",
            SeriesData::I64(frames),
            vec![n_frames],
        )
    };
    if n_frames != n {
        let message = format!("{n_frames} video frame indices for {n} samples");
        return Err(Error::bad(TRODES_POS_V1, message));
    }
    Ok([
        w.add_scratch_container("Position", "Position", &[("SpatialSeries", &position)])?,
        w.add_scratch_container(
            "CompassDirection",
            "CompassDirection",
            &[("SpatialSeries", &orientation)],
        )?,
        w.add_scratch_container(
            "BehavioralTimeSeries",
            "BehavioralTimeSeries",
            &[("TimeSeries", &velocity), ("TimeSeries", &frames)],
        )?,
    ])
}

/// The TrodesPosV1 row of a key.
pub fn fetch_row(db: &Db, key: &TrodesPosKey) -> Result<TrodesPosV1Row> {
    db.row(TRODES_POS_V1, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn columns_are_named_and_picked_as_spyglass_does() {
        assert_eq!(column_names("xloc, yloc", 2, 0), names(&["xloc1", "yloc1"]));
        assert_eq!(
            column_names("xloc, yloc, xloc2, yloc2", 4, 0),
            names(&["xloc", "yloc", "xloc2", "yloc2"])
        );
        assert_eq!(column_names("position", 2, 0), names(&["x", "y"]));
        assert_eq!(
            led_columns(&names(&["xloc1", "yloc1", "xloc2", "yloc2"]))
                .unwrap()
                .columns,
            vec![0, 1, 2, 3]
        );
        assert_eq!(
            led_columns(&names(&["xloc2", "yloc2", "xloc", "yloc"]))
                .unwrap()
                .columns,
            vec![2, 3, 0, 1]
        );
        let single = led_columns(&names(&["xloc1", "yloc1"])).unwrap();
        assert_eq!(single.columns, vec![0, 1]);
        assert!(single.note.is_some());
        assert!(led_columns(&names(&["x", "y", "z"])).is_err());
        assert!(led_columns(&names(&["a", "b", "c"])).is_err());
    }

    #[test]
    fn the_default_params_read_as_spyglass_defaults() {
        let p = parse_params("default", &default_params().unwrap()).unwrap();
        assert_eq!(p, TrodesPosParams::default());
        let mut bad = default_params().unwrap();
        bad["is_upsampled"] = 1.into();
        assert!(parse_params("bad", &bad).is_err());
    }
}
