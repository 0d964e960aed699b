//! `lfp_v1`: LFP from raw data, as Spyglass's LFPV1 computes it.
//!
//! `LFPSelection` pairs an electrode group, a target interval and a stored FIR
//! filter (at the raw rate) with a target rate. [`LfpV1Maker`] is a tripartite
//! make: the database inputs are read first; the raw samples are read and
//! filtered outside any transaction; the analysis file, IntervalList row, LFPV1
//! row and LFPOutput merge row are written in the key's transaction.
//!
//! The computation matches Spyglass sample for sample: valid times = target
//! interval ∩ "raw data valid times", pieces not longer than 1 s dropped; each
//! piece's sample range is `[searchsorted(ts, start), searchsorted(ts, stop))`;
//! each range is convolved with the filter ("full", zero-padded at the range's
//! edges — one rule regardless of free memory, unlike Spyglass #1653) and sampled
//! at `delay + ds·k` with `ds = raw_rate // target_rate`; the output is cast back
//! to int16 by truncation when the raw data are int16 with no channel_conversion
//! and no offset (Spyglass's output, kept exactly); otherwise the raw data are read
//! in volts (conversion × channel_conversion + offset) and the output is float32
//! volts; its timestamps are every `ds`-th raw timestamp of each range. Electrodes
//! are found by id through the electrodes table, and the samples stream through
//! [`super::stream`] in time blocks (bounded memory, identical output).

use super::stream::{self, OutChannel, OutputKind};
use super::{key_f64, key_i64, key_str};
use crate::analysis;
use crate::common::common_ephys::RAW;
use crate::common::common_interval::{self as iv, RAW_VALID_TIMES};
use crate::error::{Error, Result};
use crate::settings::Settings;
use spyglass_db::populate::{MakeResult, TripartiteMake};
use spyglass_db::{Cond, Db, InsertOptions, Row, TableSpec, Tier, Value};
use spyglass_dsp::Intervals;
use spyglass_nwb::NwbFile;
use std::path::PathBuf;

/// Schema name.
pub const SCHEMA: &str = "lfp_v1";
/// `LFPSelection` (Manual).
pub const LFP_SELECTION: &str = "lfp_v1.LFPSelection";
/// `LFPV1` (Computed).
pub const LFPV1: &str = "lfp_v1.LFPV1";
/// Valid pieces must be longer than this, seconds (Spyglass's `MIN_LFP_INTERVAL_DURATION`).
pub const MIN_LFP_INTERVAL_DURATION: f64 = 1.0;
/// The pipeline name recorded in IntervalList.
pub const PIPELINE: &str = "lfp_v1";

/// The tables of this schema.
pub fn specs() -> Vec<TableSpec> {
    vec![
        TableSpec::new(
            "LFPSelection",
            Tier::Manual,
            "# the electrodes, interval and filter to compute LFP with
-> lfp_electrode.LFPElectrodeGroup
-> common_interval.IntervalList.proj(target_interval_list_name='interval_list_name')
-> common_filter.FirFilterParameters
---
target_sampling_rate = 1000 : float  # the desired output sampling rate, in HZ",
        ),
        TableSpec::new(
            "LFPV1",
            Tier::Computed,
            "# LFP filtered and decimated from the raw data
-> LFPSelection
---
-> common_nwbfile.AnalysisNwbfile
-> common_interval.IntervalList
lfp_object_id : varchar(40)  # the NWB object ID for loading this object from the file
lfp_sampling_rate : float  # the sampling rate, in HZ",
        ),
    ]
}

/// Inserts an `LFPSelection` row (skipped when it exists); returns its key.
pub fn insert_selection(
    db: &Db,
    nwb_file_name: &str,
    lfp_electrode_group_name: &str,
    target_interval_list_name: &str,
    filter_name: &str,
    filter_sampling_rate: u32,
    target_sampling_rate: f64,
) -> Result<Row> {
    super::declare(db)?;
    let key = Row::from_pairs([
        ("nwb_file_name", Value::from(nwb_file_name)),
        (
            "lfp_electrode_group_name",
            Value::from(lfp_electrode_group_name),
        ),
        (
            "target_interval_list_name",
            Value::from(target_interval_list_name),
        ),
        ("filter_name", Value::from(filter_name)),
        ("filter_sampling_rate", Value::from(filter_sampling_rate)),
    ]);
    let mut row = key.to_map();
    row.insert(
        "target_sampling_rate".into(),
        Value::from(target_sampling_rate),
    );
    db.insert1(
        LFP_SELECTION,
        Row::from_pairs(row),
        InsertOptions {
            skip_duplicates: true,
            ..Default::default()
        },
    )?;
    Ok(key)
}

/// The name of the IntervalList row holding an LFP's valid times.
pub fn valid_times_name(lfp_electrode_group_name: &str, target_interval_list_name: &str) -> String {
    format!("lfp_{lfp_electrode_group_name}_{target_interval_list_name}_valid times")
}

/// What the database says about one key (phase 1).
#[derive(Debug, Clone)]
pub struct LfpInputs {
    /// The session.
    pub nwb_file_name: String,
    /// The LFP electrode group.
    pub group: String,
    /// The target interval.
    pub target: String,
    /// Path of the session's `_` copy.
    pub nwb_path: PathBuf,
    /// Object id of the raw ElectricalSeries.
    pub raw_object_id: String,
    /// Raw sampling rate rounded to an integer, Hz.
    pub raw_rate: u32,
    /// Decimation factor, `raw_rate // target_rate`.
    pub decimation: usize,
    /// Electrode ids, ascending.
    pub electrode_ids: Vec<i64>,
    /// The filter's coefficients.
    pub coefficients: Vec<f64>,
    /// Filter name (recorded as the series' `filtering`).
    pub filter_name: String,
    /// Valid times: target ∩ raw valid times, pieces longer than 1 s.
    pub valid_times: Intervals,
}

/// The filtered output (phase 2): an analysis file written but not registered yet.
#[derive(Debug)]
pub struct LfpComputed {
    /// The inputs it was made from.
    pub inputs: LfpInputs,
    /// The file, its series and output span.
    pub filtered: super::Filtered,
    /// Valid times clipped to the first and last output timestamp.
    pub lfp_valid_times: Intervals,
}

/// The series an LFP is computed from: Raw's, or another broadband series of the
/// session carrying all the electrodes.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSeries {
    /// Its object id.
    pub object_id: String,
    /// Its sampling rate, Hz.
    pub rate: f64,
    /// The IntervalList of its valid times.
    pub interval: String,
}

/// The broadband series carrying every electrode of `electrode_ids`: Raw's when it
/// does, else another one `common_ephys_series.ElectricalSeries` records; an error
/// naming the series and their electrodes when none carries them all.
pub fn series_for_electrodes(
    db: &Db,
    nwb_file_name: &str,
    electrode_ids: &[i64],
) -> Result<SourceSeries> {
    use crate::common::ephys_series as es;
    let session = Cond::map([("nwb_file_name", nwb_file_name)]);
    let raw = db.fetch_with(
        &db.table(RAW)?.restrict(session.clone())?,
        &spyglass_db::FetchSpec::default(),
    )?;
    let series = db.fetch_with(
        &db.table(es::ELECTRICAL_SERIES)?.restrict(session.clone())?,
        &spyglass_db::FetchSpec::default(),
    )?;
    let parts = db.fetch_with(
        &db.table(es::ELECTRICAL_SERIES_ELECTRODE)?
            .restrict(session)?,
        &spyglass_db::FetchSpec::attrs(&["series_path", "electrode_id"]),
    )?;
    let text = |r: &Row, k: &str| {
        r.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let carried = |path: &str| -> Vec<i64> {
        parts
            .iter()
            .filter(|p| text(p, "series_path") == path)
            .filter_map(|p| p.get("electrode_id").and_then(Value::as_i64))
            .collect()
    };
    let covers = |path: &str| {
        let c = carried(path);
        electrode_ids.iter().all(|e| c.contains(e))
    };
    if let Some(r) = raw.first() {
        let raw_id = text(r, "raw_object_id");
        let raw_path = series
            .iter()
            .find(|s| text(s, "series_object_id") == raw_id)
            .map(|s| text(s, "series_path"));
        // sessions ingested before the series table existed: Raw's series, as before
        if raw_path.as_deref().is_none_or(covers) {
            return Ok(SourceSeries {
                object_id: raw_id,
                rate: key_f64(r, RAW, "sampling_rate")?,
                interval: RAW_VALID_TIMES.to_string(),
            });
        }
    }
    for s in &series {
        if text(s, "role") == "raw_other" && covers(&text(s, "series_path")) {
            return Ok(SourceSeries {
                object_id: text(s, "series_object_id"),
                rate: key_f64(s, es::ELECTRICAL_SERIES, "sampling_rate")?,
                interval: text(s, "interval_list_name"),
            });
        }
    }
    let have: Vec<String> = series
        .iter()
        .filter(|s| text(s, "role") != "lfp")
        .map(|s| {
            let p = text(s, "series_path");
            format!("{p}: electrodes {:?}", carried(&p))
        })
        .collect();
    Err(Error::Invalid(format!(
        "{LFPV1}: no raw series of {nwb_file_name} carries all of electrodes {electrode_ids:?}; make one LFP electrode group per series ({})",
        if have.is_empty() { "the session has no raw series".to_string() } else { have.join("; ") }
    )))
}

/// The rate (rounded, Hz) of the series an LFP electrode group would be filtered from.
pub fn raw_rate_for_group(db: &Db, nwb_file_name: &str, group: &str) -> Result<u32> {
    let ids = super::lfp_electrode::electrode_ids(db, nwb_file_name, group)?;
    if ids.is_empty() {
        return Err(Error::Invalid(format!(
            "LFP electrode group `{group}` of {nwb_file_name} does not exist or has no electrodes"
        )));
    }
    Ok(series_for_electrodes(db, nwb_file_name, &ids)?.rate.round() as u32)
}

/// Reads the database inputs of an LFPV1 key.
pub fn fetch_inputs(db: &Db, key: &Row) -> Result<LfpInputs> {
    let nwb_file_name = key_str(key, LFPV1, "nwb_file_name")?;
    let group = key_str(key, LFPV1, "lfp_electrode_group_name")?;
    let target = key_str(key, LFPV1, "target_interval_list_name")?;
    let filter_name = key_str(key, LFPV1, "filter_name")?;
    let filter_rate = key_i64(key, LFPV1, "filter_sampling_rate")?;
    let sel = db.fetch1(&db.table(LFP_SELECTION)?.restrict(Cond::from(key))?)?;
    let target_rate = key_f64(&sel, LFP_SELECTION, "target_sampling_rate")?;
    let electrode_ids = super::lfp_electrode::electrode_ids(db, &nwb_file_name, &group)?;
    if electrode_ids.is_empty() {
        return Err(Error::Invalid(format!(
            "{LFPV1}: LFP electrode group `{group}` of {nwb_file_name} has no electrodes"
        )));
    }
    let src = series_for_electrodes(db, &nwb_file_name, &electrode_ids)?;
    let raw_object_id = src.object_id;
    let raw_rate = src.rate.round();
    if !(raw_rate >= 1.0 && raw_rate < u32::MAX as f64) {
        return Err(Error::Invalid(format!(
            "{RAW}: sampling rate {raw_rate} of {nwb_file_name} is not usable"
        )));
    }
    let raw_rate = raw_rate as u32;
    if filter_rate != raw_rate as i64 {
        return Err(Error::Invalid(format!(
            "{LFPV1}: filter `{filter_name}` is for {filter_rate} Hz but the raw data of {nwb_file_name} are at {raw_rate} Hz; select the filter at {raw_rate} Hz"
        )));
    }
    if !(target_rate.is_finite() && target_rate > 0.0 && target_rate <= raw_rate as f64) {
        return Err(Error::Invalid(format!(
            "{LFP_SELECTION}: target_sampling_rate {target_rate} must be in (0, {raw_rate}]"
        )));
    }
    let decimation = (raw_rate as f64 / target_rate).floor() as usize;
    let coefficients = crate::filter::coefficients(db, &filter_name, raw_rate)?;
    let valid_times = iv::intersect_lists(db, &nwb_file_name, &target, &src.interval, 0.0)?
        .longer_than(MIN_LFP_INTERVAL_DURATION);
    if valid_times.is_empty() {
        return Err(Error::Invalid(format!(
            "{LFPV1}: `{target}` ∩ `{}` of {nwb_file_name} has no piece longer than {MIN_LFP_INTERVAL_DURATION} s",
            src.interval
        )));
    }
    let nwb_path = analysis::nwb_file_path(db, &nwb_file_name)?;
    Ok(LfpInputs {
        nwb_file_name,
        group,
        target,
        nwb_path,
        raw_object_id,
        raw_rate,
        decimation,
        electrode_ids,
        coefficients,
        filter_name,
        valid_times,
    })
}

/// Reads the raw samples in time blocks, filters them and writes the analysis file
/// (no database access; the file is registered by [`insert_result`]).
pub fn compute(settings: &Settings, inputs: LfpInputs) -> Result<LfpComputed> {
    let file = NwbFile::open(&inputs.nwb_path)?;
    let series = file.path_of_id(&inputs.raw_object_id)?;
    let reader = file.volts_reader(&series)?;
    let channels = reader.channels_of(&inputs.electrode_ids)?;
    let ranges = reader.raw().sample_ranges(inputs.valid_times.as_slice())?;
    if ranges.is_empty() {
        return Err(Error::Invalid(format!(
            "{LFPV1}: no raw samples of {} fall in the valid times",
            inputs.nwb_file_name
        )));
    }
    let group = inputs.group.clone();
    let target = inputs.target.clone();
    let filtered = super::filter_to_file(
        settings,
        super::FilterRun {
            nwb_file_name: &inputs.nwb_file_name,
            parent: &inputs.nwb_path,
            file_description: "LFPV1 output",
            series_description: format!("LFP of group {group} over {target}"),
            filter_name: &inputs.filter_name,
            job: stream::Job {
                reader: &reader,
                channels: channels
                    .iter()
                    .map(|&channel| OutChannel {
                        channel,
                        reference: None,
                    })
                    .collect(),
                taps: &inputs.coefficients,
                ds: inputs.decimation,
                ranges,
                kind: OutputKind::for_input(&reader),
                budget: stream::WINDOW_BUDGET,
            },
            electrode_ids: inputs.electrode_ids.clone(),
        },
    )?;
    let lfp_valid_times = super::clip_to_output(&inputs.valid_times, filtered.first_last, LFPV1)?;
    Ok(LfpComputed {
        inputs,
        filtered,
        lfp_valid_times,
    })
}

/// Registers the analysis file and inserts IntervalList, LFPV1 and LFPOutput rows.
pub fn insert_result(db: &Db, key: &Row, c: LfpComputed) -> Result<()> {
    let group = key_str(key, LFPV1, "lfp_electrode_group_name")?;
    let target = key_str(key, LFPV1, "target_interval_list_name")?;
    let nwb = c.inputs.nwb_file_name.clone();
    let rate = (c.inputs.raw_rate as usize / c.inputs.decimation) as f64;
    let list_name = valid_times_name(&group, &target);
    let analysis_file_name = c.filtered.file.register(db)?;
    super::insert_valid_times(db, &nwb, &list_name, PIPELINE, c.lfp_valid_times)?;
    let mut row = key.to_map();
    row.insert("analysis_file_name".into(), Value::from(analysis_file_name));
    row.insert("interval_list_name".into(), Value::from(list_name));
    row.insert("lfp_object_id".into(), Value::from(c.filtered.object_id));
    row.insert("lfp_sampling_rate".into(), Value::from(rate));
    db.insert1(LFPV1, Row::from_pairs(row), InsertOptions::default())?;
    let m = super::merge::lfp_output(db)?;
    db.merge_insert(&m, std::slice::from_ref(key))?;
    Ok(())
}

/// The LFPV1 make (tripartite), holding the directory layout it writes into.
#[derive(Debug, Clone)]
pub struct LfpV1Maker {
    /// Where analysis files go.
    pub settings: Settings,
}

impl LfpV1Maker {
    /// A maker writing under `settings`.
    pub fn new(settings: Settings) -> LfpV1Maker {
        LfpV1Maker { settings }
    }
}

fn fingerprint_of(i: &LfpInputs) -> Vec<u8> {
    let coeff: Vec<u8> = i
        .coefficients
        .iter()
        .flat_map(|c| c.to_le_bytes())
        .collect();
    let mut s = format!(
        "{}|{}|{}|{}|{:?}|{:?}|",
        i.nwb_file_name,
        i.raw_object_id,
        i.raw_rate,
        i.decimation,
        i.electrode_ids,
        i.valid_times.as_slice()
    )
    .into_bytes();
    s.extend(coeff);
    s
}

impl TripartiteMake for LfpV1Maker {
    type Fetched = LfpInputs;
    type Computed = LfpComputed;

    fn make_fetch(&self, db: &Db, key: &Row) -> MakeResult<LfpInputs> {
        self.settings.configure_stores(db);
        Ok(fetch_inputs(db, key)?)
    }

    fn fingerprint(&self, fetched: &LfpInputs) -> Vec<u8> {
        fingerprint_of(fetched)
    }

    fn make_compute(&self, _key: &Row, fetched: LfpInputs) -> MakeResult<LfpComputed> {
        Ok(compute(&self.settings, fetched)?)
    }

    fn make_insert(&self, db: &Db, key: &Row, computed: LfpComputed) -> MakeResult<()> {
        Ok(insert_result(db, key, computed)?)
    }
}

/// Populates LFPV1 for the keys matching `restriction` (all when `Cond::Bool(true)`).
pub fn populate(
    db: &Db,
    settings: &Settings,
    restriction: Cond,
) -> Result<spyglass_db::populate::PopulateReport> {
    let maker = spyglass_db::populate::Tripartite(LfpV1Maker::new(settings.clone()));
    super::populate_table(db, LFPV1, &maker, restriction)
}

/// Fetches the LFP samples of an LFPV1 (or any LFP merge source) row: data per
/// electrode in volts and the timestamps.
pub fn fetch_lfp_volts(db: &Db, lfp_row_restriction: &Row) -> Result<(Vec<Vec<f64>>, Vec<f64>)> {
    let v = super::fetch_volts(db, LFPV1, lfp_row_restriction, "lfp")?;
    Ok((v.volts, v.timestamps))
}
