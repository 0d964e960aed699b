//! `ripple_v1`: sharp-wave ripple times, as Spyglass's `ripple/v1/ripple.py`.
//!
//! `RippleLFPSelection` picks a ripple-band LFPBandV1 row and a group name, its
//! part `RippleLFPElectrode` the band's electrodes to detect on
//! ([`set_lfp_electrodes`], Spyglass's `set_lfp_electrodes`: the band's filter
//! must be a ripple filter). `RippleParameters` holds named parameter dicts
//! (Spyglass's `default` and `default_trodes`, blob for blob). `RippleTimesV1`
//! detects ripples for a selection, a parameter set and a PositionOutput entry.
//!
//! The make follows Spyglass's `get_ripple_lfps_and_position_info`: the band's
//! stored values (no conversion applied, as Spyglass reads `.data`) on the
//! selected electrodes in the series' column order; the target interval of the
//! band intersected with the position's first..last time; LFP and position
//! samples inside each piece (both ends included), concatenated; the position
//! column `speed_name` put on the LFP times by Spyglass's
//! `interpolate_to_new_time` ([`interpolate_to_new_time`]); then the named
//! detector of `ripple_detection` (the `spyglass-ripple` crate) with the dict's
//! parameters. The events are written as Spyglass's `add_nwb_object` writes a
//! DataFrame: a DynamicTable `pandas_table` in `/scratch`, ids the event numbers.
//!
//! One divergence: Spyglass's Kay detector fills its consensus trace with
//! `np.full_like(lfps, nan)`, which for an int16 band (Spyglass's own output for
//! int16 LFPs) makes the envelope, its square and the smoothing int16 —
//! truncated and overflowing. Here the values are always float64, the
//! computation the detector is written for (the z-score is scale-free, so
//! counts and volts give the same events).

use crate::common::common_interval::{self as iv, Intervals};
use crate::kit::prelude::*;
use crate::lfp::band_v1::{BandKey, BandRow, LFP_BAND_ELECTRODE, LFP_BAND_V1};
use crate::position::merge::{position_source, read_position_file, POSITION_OUTPUT};
use spyglass_ripple::{DetectorParams, Lfps, RippleEvent};
use uuid::Uuid;

/// Schema name.
pub const SCHEMA: &str = "ripple_v1";
/// `RippleLFPSelection` (Manual).
pub const RIPPLE_LFP_SELECTION: &str = "ripple_v1.RippleLFPSelection";
/// `RippleLFPSelection.RippleLFPElectrode` (Part).
pub const RIPPLE_LFP_ELECTRODE: &str = "ripple_v1.RippleLFPSelection.RippleLFPElectrode";
/// `RippleParameters` (Lookup).
pub const RIPPLE_PARAMETERS: &str = "ripple_v1.RippleParameters";
/// `RippleTimesV1` (Computed).
pub const RIPPLE_TIMES_V1: &str = "ripple_v1.RippleTimesV1";

/// Spyglass's default parameter sets, as JSON of the dicts it inserts (floats stay
/// floats, keys in its order, so the blobs equal datajoint-python's).
pub const DEFAULTS: [(&str, &str); 2] = [
    (
        "default",
        r#"{"speed_name": "head_speed", "ripple_detection_algorithm": "Kay_ripple_detector", "ripple_detection_params": {"speed_threshold": 4.0, "minimum_duration": 0.015, "zscore_threshold": 2.0, "smoothing_sigma": 0.004, "close_ripple_threshold": 0.0}}"#,
    ),
    (
        "default_trodes",
        r#"{"speed_name": "speed", "ripple_detection_algorithm": "Kay_ripple_detector", "ripple_detection_params": {"speed_threshold": 4.0, "minimum_duration": 0.015, "zscore_threshold": 2.0, "smoothing_sigma": 0.004, "close_ripple_threshold": 0.0}}"#,
    ),
];

dict_params! {
    /// RippleParameters: Spyglass's default sets, checked as the make reads them.
    pub static PARAMETERS = RIPPLE_PARAMETERS, "ripple_param_name" => "ripple_param_dict", &DEFAULTS, parse_params;
}

/// The key of RippleLFPSelection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RippleLfpKey {
    /// The ripple-band LFP.
    #[serde(flatten)]
    pub band: BandKey,
    /// The electrode group's description (Spyglass's default `CA1`).
    pub group_name: String,
}

/// One electrode of the band, as LFPBandElectrode's key names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandElectrodeKey {
    /// The LFP electrode group.
    pub lfp_electrode_group_name: String,
    /// The electrode's group in the NWB file.
    pub electrode_group_name: String,
    /// The electrode.
    pub electrode_id: i64,
    /// Its reference electrode in the band (−1 = none; part of LFPBandElectrode's key).
    pub reference_elect_id: i64,
}

/// A RippleLFPElectrode row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RippleLfpElectrodeRow {
    /// The selection.
    #[serde(flatten)]
    pub selection: RippleLfpKey,
    /// The band electrode.
    #[serde(flatten)]
    pub electrode: BandElectrodeKey,
}

/// The key of RippleTimesV1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RippleTimesKey {
    /// The selection.
    #[serde(flatten)]
    pub selection: RippleLfpKey,
    /// The parameter set.
    pub ripple_param_name: String,
    /// The position (a PositionOutput merge id).
    pub pos_merge_id: Uuid,
}

/// A RippleTimesV1 row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RippleTimesRow {
    /// Its key.
    #[serde(flatten)]
    pub key: RippleTimesKey,
    /// The analysis file holding the events.
    pub analysis_file_name: String,
    /// Object id of the events table.
    pub ripple_times_object_id: String,
}

/// The `ripple_v1` pipeline.
pub struct RippleV1;

impl Pipeline for RippleV1 {
    identity!(SCHEMA, family "ripple", requires ["lfp_band_v1", "position_merge"]);
    provides! {
        makers: RIPPLE_TIMES_V1 => RippleTimesMake;
        defaults: &PARAMETERS;
        commands: args::WithParams<ParamsArgs, Command>;
    }
    fn tables(&self) -> Vec<TableSpec> {
        let selection = "-> lfp_band_v1.LFPBandV1
group_name = 'CA1' : varchar(80)";
        let electrode = "-> master
-> lfp_band_v1.LFPBandSelection.LFPBandElectrode";
        let params = "ripple_param_name : varchar(80) # a name for this set of parameters
----
ripple_param_dict : BLOB    # dictionary of parameters";
        let times = "-> RippleLFPSelection
-> RippleParameters
-> position_merge.PositionOutput.proj(pos_merge_id='merge_id')
---
-> common_nwbfile.AnalysisNwbfile
ripple_times_object_id : varchar(40)";
        vec![
            TableSpec::new("RippleLFPSelection", Tier::Manual, selection)
                .part("RippleLFPElectrode", electrode),
            TableSpec::new("RippleParameters", Tier::Lookup, params),
            TableSpec::new("RippleTimesV1", Tier::Computed, times),
        ]
    }
    fn run(&self, sg: &Spyglass, _name: &str, m: &clap::ArgMatches) -> Result<()> {
        match args::parse(m)? {
            args::WithParams::Params(p) => PARAMETERS.run(sg, &p, ParamsArgs::dict)?,
            args::WithParams::Other(Command::Plot(a)) => super::plot::run(sg, &a)?,
            args::WithParams::Other(Command::Select(a)) => {
                let nwb = a.session.name(sg)?;
                let (lfp_merge_id, _) = a.lfp.choose(sg, &nwb)?;
                let band = ripple_band(sg, lfp_merge_id, a.band_filter.as_deref())?;
                let ids = a.electrodes.as_deref().map(args::parse_ids).transpose()?;
                let key = crate::transaction(sg, || {
                    set_lfp_electrodes(sg, &band, ids.as_deref(), &a.group_name)
                })?;
                println!(
                    "RippleLFPSelection: {nwb}, band `{}` of group `{}` at {} Hz, group name `{}`",
                    band.filter_name, a.lfp.lfp_group, band.lfp_band_sampling_rate, key.group_name
                );
                args::next_populate(RIPPLE_TIMES_V1, &[("nwb_file_name", &nwb)]);
            }
        }
        Ok(())
    }
}

/// `spyglass ripple …`.
#[derive(clap::Subcommand)]
enum Command {
    /// Select a ripple-band LFP and its electrodes for RippleTimesV1 (`set_lfp_electrodes`).
    Select(SelectArgs),
    /// Pictures of RippleTimesV1 entries: events over the ripple-band LFP, speed below (SVG).
    Plot(super::plot::PlotArgs),
}

/// `spyglass ripple params add`.
#[derive(clap::Args)]
struct ParamsArgs {
    /// The detector: Kay_ripple_detector or Karlsson_ripple_detector.
    #[arg(long, default_value = "Kay_ripple_detector")]
    detector: String,
    /// The position column giving the speed (`speed` for TrodesPosV1).
    #[arg(long, default_value = "speed")]
    speed_name: String,
    /// Events where the animal moves faster are dropped, cm/s.
    #[arg(long)]
    speed_threshold: Option<f64>,
    /// Shortest event, s.
    #[arg(long)]
    minimum_duration: Option<f64>,
    /// Threshold on the z-scored trace.
    #[arg(long)]
    zscore_threshold: Option<f64>,
    /// σ of the Gaussian smoothing, s.
    #[arg(long)]
    smoothing_sigma: Option<f64>,
    /// Events closer than this to the previous one are dropped, s.
    #[arg(long)]
    close_ripple_threshold: Option<f64>,
}

impl ParamsArgs {
    /// The dict Spyglass stores: speed column, detector and the parameters given.
    fn dict(&self) -> serde_json::Value {
        let mut params = serde_json::Map::new();
        let given = [
            ("speed_threshold", self.speed_threshold),
            ("minimum_duration", self.minimum_duration),
            ("zscore_threshold", self.zscore_threshold),
            ("smoothing_sigma", self.smoothing_sigma),
            ("close_ripple_threshold", self.close_ripple_threshold),
        ];
        for (k, v) in given {
            if let Some(v) = v {
                params.insert(k.into(), serde_json::json!(v));
            }
        }
        serde_json::json!({
            "speed_name": self.speed_name,
            "ripple_detection_algorithm": self.detector,
            "ripple_detection_params": params,
        })
    }
}

/// `spyglass ripple select`.
#[derive(clap::Args)]
struct SelectArgs {
    /// The session.
    #[command(flatten)]
    session: args::SessionArg,
    /// The LFP whose ripple band is used.
    #[command(flatten)]
    lfp: crate::lfp::merge::LfpChoice,
    /// The band's filter, when the LFP has several ripple bands.
    #[arg(long = "band-filter")]
    band_filter: Option<String>,
    /// Electrode ids to detect on (default: every electrode of the band).
    #[arg(long, value_name = "IDS")]
    electrodes: Option<String>,
    /// The selection's group name.
    #[arg(long = "group-name", default_value = "CA1")]
    group_name: String,
}

/// The one ripple band (LFPBandV1 with a ripple filter) of LFP `lfp_merge_id`,
/// optionally of band filter `filter`.
pub fn ripple_band(db: &Db, lfp_merge_id: Uuid, filter: Option<&str>) -> Result<BandKey> {
    let mut cond = serde_json::json!({ "lfp_merge_id": lfp_merge_id });
    if let Some(f) = filter {
        cond["filter_name"] = serde_json::json!(f);
    }
    let rows: Vec<BandRow> = db.rows(LFP_BAND_V1, &cond)?;
    let mut bands: Vec<BandKey> = rows
        .into_iter()
        .map(|r| r.key)
        .filter(|k| k.filter_name.to_lowercase().contains("ripple"))
        .collect();
    let what = format!("LFP {lfp_merge_id}");
    match bands.len() {
        1 => Ok(bands.remove(0)),
        0 => Err(Error::MissingRow {
            table: LFP_BAND_V1.to_string(),
            key: format!("lfp_merge_id = {lfp_merge_id} with a ripple filter"),
            hint: " (run `spyglass lfp band select` with a ripple filter, then populate lfp_band_v1.LFPBandV1)".into(),
        }),
        n => Err(Error::bad(what, format!("has {n} ripple bands; choose one with --band-filter"))),
    }
}

/// Spyglass's `RippleLFPSelection.set_lfp_electrodes`: selects `band` with
/// `group_name` and the band electrodes `electrode_ids` (all of the band's when
/// `None`). Errors when the band's filter is not a ripple filter (its name holds
/// no "ripple") or an electrode is not in the band.
pub fn set_lfp_electrodes(
    db: &Db,
    band: &BandKey,
    electrode_ids: Option<&[i64]>,
    group_name: &str,
) -> Result<RippleLfpKey> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    let row: BandRow = db.row(LFP_BAND_V1, band)?;
    if !row.key.filter_name.to_lowercase().contains("ripple") {
        let what = format!("{LFP_BAND_V1} filter `{}`", row.key.filter_name);
        return Err(Error::bad(what, "please use a ripple filter"));
    }
    let members: Vec<BandElectrodeKey> = db.rows(LFP_BAND_ELECTRODE, band)?;
    let chosen: Vec<BandElectrodeKey> = match electrode_ids {
        None => members,
        Some(ids) => {
            let missing: Vec<i64> = ids
                .iter()
                .copied()
                .filter(|id| !members.iter().any(|m| m.electrode_id == *id))
                .collect();
            if !missing.is_empty() {
                let message = format!("electrodes {missing:?} are not in the band-filtered LFP");
                return Err(Error::bad(LFP_BAND_ELECTRODE, message));
            }
            members
                .into_iter()
                .filter(|m| ids.contains(&m.electrode_id))
                .collect()
        }
    };
    let key = RippleLfpKey {
        band: band.clone(),
        group_name: group_name.to_string(),
    };
    db.put_new(RIPPLE_LFP_SELECTION, std::slice::from_ref(&key))?;
    let parts: Vec<RippleLfpElectrodeRow> = chosen
        .into_iter()
        .map(|electrode| RippleLfpElectrodeRow {
            selection: key.clone(),
            electrode,
        })
        .collect();
    db.put_new(RIPPLE_LFP_ELECTRODE, &parts)?;
    Ok(key)
}

/// A parameter dict, checked: the speed column, the detector and its parameters
/// (missing ones take the detector's keyword defaults, as Python's call does).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RippleParams {
    /// Position column giving the speed (`speed` for TrodesPosV1).
    pub speed_name: String,
    /// The detector.
    pub detector: spyglass_ripple::Detector,
    /// Its parameters.
    pub params: DetectorParams,
}

/// Reads parameter set `name`'s dict.
pub fn parse_params(name: &str, dict: &serde_json::Value) -> Result<RippleParams> {
    let what = format!("{RIPPLE_PARAMETERS} `{name}`");
    let text = |k: &str| -> Result<String> {
        dict.get(k)
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| Error::bad(&what, format!("`{k}` is missing or not text")))
    };
    let detector = spyglass_ripple::Detector::from_name(&text("ripple_detection_algorithm")?)
        .map_err(|e| Error::bad(&what, e.to_string()))?;
    let mut params = match detector {
        spyglass_ripple::Detector::Kay => DetectorParams::kay(),
        spyglass_ripple::Detector::Karlsson => DetectorParams::karlsson(),
    };
    let empty = serde_json::Map::new();
    let given = match dict.get("ripple_detection_params") {
        None => &empty,
        Some(v) => v
            .as_object()
            .ok_or_else(|| Error::bad(&what, "`ripple_detection_params` is not a dict"))?,
    };
    for (k, v) in given {
        let v = v
            .as_f64()
            .ok_or_else(|| Error::bad(&what, format!("`{k}` = {v} is not a number")))?;
        match k.as_str() {
            "speed_threshold" => params.speed_threshold = v,
            "minimum_duration" => params.minimum_duration = v,
            "zscore_threshold" => params.zscore_threshold = v,
            "smoothing_sigma" => params.smoothing_sigma = v,
            "close_ripple_threshold" => params.close_ripple_threshold = v,
            other => {
                let message = format!("`{other}` is not a parameter of {}", detector.name());
                return Err(Error::bad(&what, message));
            }
        }
    }
    Ok(RippleParams {
        speed_name: text("speed_name")?,
        detector,
        params,
    })
}

/// RippleParameters set `name`, read and checked.
pub fn fetch_params(db: &Db, name: &str) -> Result<RippleParams> {
    parse_params(name, &PARAMETERS.dict(db, name)?)
}

/// Spyglass's `interpolate_to_new_time(df, new_time)` for one column: the
/// values on the union of both time vectors (sorted, unique), NaN where
/// `old_time` has no sample, filled by pandas' `interpolate("linear")` — which
/// interpolates by position in that union, not by time — with NaNs before the
/// first value kept and those after the last one filled with it; read at
/// `new_time`.
pub fn interpolate_to_new_time(old_time: &[f64], values: &[f64], new_time: &[f64]) -> Vec<f64> {
    let mut union: Vec<f64> = old_time.iter().chain(new_time).copied().collect();
    union.sort_by(f64::total_cmp);
    union.dedup();
    // values on the union (reindex: an old time's value; a duplicate old time keeps its first)
    let mut on_union = vec![f64::NAN; union.len()];
    for (t, v) in old_time.iter().zip(values) {
        if let Ok(k) = union.binary_search_by(|u| u.total_cmp(t)) {
            on_union[k] = *v;
        }
    }
    let valid: Vec<usize> = (0..union.len())
        .filter(|&k| !on_union[k].is_nan())
        .collect();
    if let Some(&last) = valid.last() {
        for w in valid.windows(2) {
            let (a, b) = (w[0], w[1]);
            let (ya, yb) = (on_union[a], on_union[b]);
            // np.interp between points (a, ya) and (b, yb) at each k in between
            let slope = (yb - ya) / (b - a) as f64;
            for (step, v) in on_union[a + 1..b].iter_mut().enumerate() {
                *v = slope * (step + 1) as f64 + ya;
            }
        }
        let fill = on_union[last];
        on_union[last + 1..].fill(fill);
    }
    new_time
        .iter()
        .map(|t| {
            union
                .binary_search_by(|u| u.total_cmp(t))
                .map_or(f64::NAN, |k| on_union[k])
        })
        .collect()
}

/// What the make reads from the database.
#[derive(Debug, Clone, Serialize)]
pub struct RippleInputs {
    /// The session's copy (the analysis file's parent).
    pub nwb_path: std::path::PathBuf,
    /// The band's analysis file and series object id.
    pub band_path: std::path::PathBuf,
    /// Object id of the band series.
    pub band_object_id: String,
    /// The selected electrodes.
    pub electrode_ids: Vec<i64>,
    /// The parameters.
    pub params: RippleParams,
    /// The band's target interval (valid times).
    pub target_times: Vec<[f64; 2]>,
    /// The position's source and analysis file.
    pub position_source: String,
    /// The position analysis file.
    pub position_path: std::path::PathBuf,
    /// Object ids of the position's Position, CompassDirection and BehavioralTimeSeries.
    pub position_ids: [String; 3],
}

struct RippleTimesMake;

impl Make for RippleTimesMake {
    const TABLE: &'static str = RIPPLE_TIMES_V1;
    type Key = RippleTimesKey;
    type Inputs = RippleInputs;
    type Output = Written;

    fn fetch(&self, cx: &Cx, key: &RippleTimesKey) -> Result<RippleInputs> {
        let band = &key.selection.band;
        let band_row: BandRow = cx.db.row(LFP_BAND_V1, band)?;
        let params = fetch_params(cx.db, &key.ripple_param_name)?;
        let mut electrodes: Vec<BandElectrodeKey> =
            cx.db.rows(RIPPLE_LFP_ELECTRODE, &key.selection)?;
        electrodes.sort_by_key(|e| e.electrode_id);
        let target = iv::fetch_list(cx.db, &band.nwb_file_name, &band.target_interval_list_name)?;
        let (source, row) = position_source(cx.db, &key.pos_merge_id)?;
        let text = |k: &str| -> Result<String> {
            row.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| {
                    Error::bad(
                        POSITION_OUTPUT,
                        format!(
                            "source `{source}` has no `{k}`; only TrodesPosV1 positions are read"
                        ),
                    )
                })
        };
        Ok(RippleInputs {
            nwb_path: crate::analysis::nwb_file_path(cx.db, &band.nwb_file_name)?,
            band_path: crate::analysis::analysis_file_path(cx.db, &band_row.analysis_file_name)?,
            band_object_id: band_row.lfp_band_object_id,
            electrode_ids: electrodes.iter().map(|e| e.electrode_id).collect(),
            params,
            target_times: target.valid_times,
            position_path: crate::analysis::analysis_file_path(
                cx.db,
                &text("analysis_file_name")?,
            )?,
            position_ids: [
                text("position_object_id")?,
                text("orientation_object_id")?,
                text("velocity_object_id")?,
            ],
            position_source: source,
        })
    }

    fn compute(
        &self,
        settings: &Settings,
        key: &RippleTimesKey,
        i: RippleInputs,
    ) -> Result<Written> {
        let events = detect(key, &i)?;
        write_events(
            settings,
            &key.selection.band.nwb_file_name,
            &i.nwb_path,
            &events,
        )
    }

    fn insert(&self, cx: &Cx, key: &RippleTimesKey, out: Written) -> Result<()> {
        cx.db
            .put_written(RIPPLE_TIMES_V1, out, |analysis_file_name, id| {
                RippleTimesRow {
                    key: key.clone(),
                    analysis_file_name,
                    ripple_times_object_id: id,
                }
            })
    }
}

/// The detection of one key on its inputs (see the module doc).
pub fn detect(key: &RippleTimesKey, i: &RippleInputs) -> Result<Vec<RippleEvent>> {
    let band_what = format!("{LFP_BAND_V1} {}", i.band_object_id);
    // the band: stored values of the selected electrodes, in the series' order
    let file = spyglass_nwb::NwbFile::open(&i.band_path)?;
    let reader = file.volts_reader(&file.path_of_id(&i.band_object_id)?)?;
    let columns: Vec<usize> = reader
        .channel_ids()
        .iter()
        .enumerate()
        .filter(|(_, id)| i.electrode_ids.contains(id))
        .map(|(c, _)| c)
        .collect();
    if columns.is_empty() {
        let message = format!(
            "none of the selected electrodes {:?} is in the series",
            i.electrode_ids
        );
        return Err(Error::bad(band_what, message));
    }
    let n = reader.raw().num_samples();
    let channels = reader.raw().read::<f64>(0..n, &columns)?;
    let lfp_time = reader.raw().timestamps(0..n)?;
    // the position and the speed column
    let [pos_id, orient_id, vel_id] = &i.position_ids;
    let pos = read_position_file(
        &i.position_path,
        pos_id,
        orient_id,
        vel_id,
        i.position_source.clone(),
    )?;
    let speed = match i.params.speed_name.as_str() {
        "speed" => &pos.speed,
        other => {
            let what = format!("{RIPPLE_PARAMETERS} `{}`", key.ripple_param_name);
            let message = format!(
                "speed_name `{other}` is not a column of {} position (it has `speed`)",
                pos.source
            );
            return Err(Error::bad(what, message));
        }
    };
    let (Some(&p0), Some(&p1)) = (pos.time.first(), pos.time.last()) else {
        return Err(Error::bad(
            POSITION_OUTPUT,
            format!("merge id {} has no position samples", key.pos_merge_id),
        ));
    };
    // target interval ∩ position span; samples inside each piece, both ends included
    let target = Intervals::consolidate(i.target_times.clone())?;
    let pieces = target.intersect(&Intervals::new(vec![[p0, p1]])?);
    let mut time = vec![];
    let mut lfp = vec![];
    for p in pieces.iter() {
        for (k, &t) in lfp_time.iter().enumerate() {
            if p[0] <= t && t <= p[1] {
                time.push(t);
                lfp.extend(channels.iter().map(|c| c[k]));
            }
        }
    }
    let mut pos_time = vec![];
    let mut pos_speed = vec![];
    for p in pieces.iter() {
        for (k, &t) in pos.time.iter().enumerate() {
            if p[0] <= t && t <= p[1] {
                pos_time.push(t);
                pos_speed.push(speed[k]);
            }
        }
    }
    let speed = interpolate_to_new_time(&pos_time, &pos_speed, &time);
    let fs = key.selection.band.lfp_band_sampling_rate as f64;
    let lfps = Lfps {
        data: &lfp,
        n_channels: columns.len(),
    };
    i.params
        .detector
        .detect(&time, lfps, &speed, fs, &i.params.params)
        .map_err(|e| {
            Error::bad(
                format!("{RIPPLE_TIMES_V1} {}", key_text(key)),
                e.to_string(),
            )
        })
}

/// The events of RippleTimesV1 row `key` as `[start_time, end_time]` seconds, in
/// the file's order (the `start_time` and `end_time` columns of Spyglass's
/// `RippleTimesV1.fetch1_dataframe()`).
pub fn fetch_ripple_times(db: &Db, key: &RippleTimesKey) -> Result<Vec<[f64; 2]>> {
    let row: RippleTimesRow = db.row(RIPPLE_TIMES_V1, key)?;
    let path = crate::analysis::analysis_file_path(db, &row.analysis_file_name)?;
    let file = spyglass_nwb::NwbFile::open(&path)?;
    let table = file.table(&file.path_of_id(&row.ripple_times_object_id)?)?;
    let start = table.f64_column("start_time")?;
    let end = table.f64_column("end_time")?;
    Ok(start.into_iter().zip(end).map(|(a, b)| [a, b]).collect())
}

type Get = fn(&RippleEvent) -> f64;

/// The columns of ripple_detection's event DataFrame, in its order.
const EVENT_COLUMNS: [(&str, Get); 16] = [
    ("start_time", |e| e.start_time),
    ("end_time", |e| e.end_time),
    ("duration", |e| e.duration),
    ("max_thresh", |e| e.max_thresh),
    ("mean_zscore", |e| e.mean_zscore),
    ("median_zscore", |e| e.median_zscore),
    ("max_zscore", |e| e.max_zscore),
    ("min_zscore", |e| e.min_zscore),
    ("area", |e| e.area),
    ("total_energy", |e| e.total_energy),
    ("speed_at_start", |e| e.speed_at_start),
    ("speed_at_end", |e| e.speed_at_end),
    ("max_speed", |e| e.max_speed),
    ("min_speed", |e| e.min_speed),
    ("median_speed", |e| e.median_speed),
    ("mean_speed", |e| e.mean_speed),
];

/// An event table written by [`events_table`] (or by Spyglass's `add_nwb_object`
/// of a detector DataFrame), object `object_id` of the analysis file at `path`:
/// one event per row, every column of the DataFrame.
pub fn read_events_table(path: &std::path::Path, object_id: &str) -> Result<Vec<RippleEvent>> {
    let file = spyglass_nwb::NwbFile::open(path)?;
    let table = file.table(&file.path_of_id(object_id)?)?;
    let mut cols = Vec::with_capacity(EVENT_COLUMNS.len());
    for (name, _) in EVENT_COLUMNS {
        cols.push(table.f64_column(name)?);
    }
    let n = table.len();
    if let Some(c) = cols.iter().position(|c| c.len() != n) {
        return Err(Error::bad(
            format!("{} ({object_id})", path.display()),
            format!(
                "column `{}` has {} rows, not {n}",
                EVENT_COLUMNS[c].0,
                cols[c].len()
            ),
        ));
    }
    Ok((0..n)
        .map(|k| RippleEvent {
            start_time: cols[0][k],
            end_time: cols[1][k],
            duration: cols[2][k],
            max_thresh: cols[3][k],
            mean_zscore: cols[4][k],
            median_zscore: cols[5][k],
            max_zscore: cols[6][k],
            min_zscore: cols[7][k],
            area: cols[8][k],
            total_energy: cols[9][k],
            speed_at_start: cols[10][k],
            speed_at_end: cols[11][k],
            max_speed: cols[12][k],
            min_speed: cols[13][k],
            median_speed: cols[14][k],
            mean_speed: cols[15][k],
        })
        .collect())
}

/// Writes `events` ([`events_table`]) into a new analysis file of session
/// `nwb_file_name` (the compute phase of RippleTimesV1 and MuaEventsV1).
pub fn write_events(
    settings: &Settings,
    nwb_file_name: &str,
    parent: &std::path::Path,
    events: &[RippleEvent],
) -> Result<Written> {
    crate::kit::analysis_file(settings, nwb_file_name, parent, "", |w| {
        Ok(w.add_dynamic_table(&spyglass_nwb::Placement::Scratch, &events_table(events))?)
    })
}

/// The events as Spyglass's `add_nwb_object` writes the detector's DataFrame:
/// DynamicTable `pandas_table`, ids the event numbers 1..n, one float64 column
/// per statistic (RippleTimesV1's and MuaEventsV1's).
pub fn events_table(events: &[RippleEvent]) -> spyglass_nwb::TableSpec {
    let columns = EVENT_COLUMNS;
    spyglass_nwb::TableSpec {
        name: "pandas_table".into(),
        description: String::new(),
        ids: Some((1..=events.len() as i64).collect()),
        columns: columns
            .iter()
            .map(|(name, get)| {
                spyglass_nwb::ColumnSpec::f64(name, "", events.iter().map(get).collect())
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation_by_position_in_the_union_by_hand() {
        // old samples at 0 and 3 (values 0, 3); new times 1, 1.5, 2, 4, -1.
        // union: -1, 0, 1, 1.5, 2, 3, 4; by position from 0 (k=1) to 3 (k=5), 3/4 per
        // step: k=2: 0.75, k=3: 1.5, k=4: 2.25 (not 1, 1.5, 2 by time); k=6 takes the
        // last value; k=0 stays NaN
        let got = interpolate_to_new_time(&[0.0, 3.0], &[0.0, 3.0], &[1.0, 1.5, 2.0, 4.0, -1.0]);
        assert_eq!(&got[..4], &[0.75, 1.5, 2.25, 3.0]);
        assert!(got[4].is_nan());
    }

    #[test]
    fn defaults_parse() {
        for (name, json) in DEFAULTS {
            let dict: serde_json::Value = serde_json::from_str(json).unwrap();
            let p = parse_params(name, &dict).unwrap();
            assert_eq!(p.params, DetectorParams::kay());
        }
        let bad =
            serde_json::json!({"speed_name": "speed", "ripple_detection_algorithm": "Roumis"});
        assert!(parse_params("x", &bad).is_err());
    }
}
