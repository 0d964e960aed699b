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
//! to the raw dtype by truncation (int16 stays int16); its timestamps are every
//! `ds`-th raw timestamp of each range.

use super::{filter_pieces, key_f64, key_i64, key_str, read_series, SampleData};
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

/// The filtered output (phase 2).
#[derive(Debug, Clone)]
pub struct LfpComputed {
    /// The inputs it was made from.
    pub inputs: LfpInputs,
    /// Output per electrode.
    pub data: SampleData,
    /// Output timestamps (every `ds`-th raw timestamp of each range).
    pub timestamps: Vec<f64>,
    /// Volts per stored unit.
    pub conversion: f64,
    /// Valid times clipped to the first and last output timestamp.
    pub lfp_valid_times: Intervals,
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
    let raw = db.fetch1(
        &db.table(RAW)?
            .restrict(Cond::map([("nwb_file_name", nwb_file_name.as_str())]))?,
    )?;
    let raw_object_id = key_str(&raw, RAW, "raw_object_id")?;
    let raw_rate = key_f64(&raw, RAW, "sampling_rate")?.round();
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
    let electrode_ids = super::lfp_electrode::electrode_ids(db, &nwb_file_name, &group)?;
    if electrode_ids.is_empty() {
        return Err(Error::Invalid(format!(
            "{LFPV1}: LFP electrode group `{group}` of {nwb_file_name} has no electrodes"
        )));
    }
    let valid_times = iv::intersect_lists(db, &nwb_file_name, &target, RAW_VALID_TIMES, 0.0)?
        .longer_than(MIN_LFP_INTERVAL_DURATION);
    if valid_times.is_empty() {
        return Err(Error::Invalid(format!(
            "{LFPV1}: `{target}` ∩ `{RAW_VALID_TIMES}` of {nwb_file_name} has no piece longer than {MIN_LFP_INTERVAL_DURATION} s"
        )));
    }
    let nwb_path = analysis::nwb_file_path(db, &nwb_file_name)?;
    Ok(LfpInputs {
        nwb_file_name,
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

/// Reads the raw samples and filters them (no database access).
pub fn compute(inputs: LfpInputs) -> Result<LfpComputed> {
    let file = NwbFile::open(&inputs.nwb_path)?;
    let series = file.path_of_id(&inputs.raw_object_id)?;
    let reader = file.raw_reader(&series)?;
    let all_ts = reader.timestamps(0..reader.num_samples())?;
    let ranges = inputs
        .valid_times
        .sample_ranges(&all_ts)
        .map_err(|e| Error::Invalid(format!("{LFPV1}: {e}")))?;
    let (lo, hi) = match (ranges.first(), ranges.last()) {
        (Some(a), Some(b)) => (a.start, b.end),
        _ => {
            return Err(Error::Invalid(format!(
                "{LFPV1}: no raw samples of {} fall in the valid times",
                inputs.nwb_file_name
            )))
        }
    };
    drop(reader);
    let samples = read_series(&file, &series, &inputs.electrode_ids, Some(lo..hi))?;
    let local: Vec<_> = ranges.iter().map(|r| r.start - lo..r.end - lo).collect();
    let ds = inputs.decimation;
    let (data, idx) = match &samples.data {
        SampleData::I16(ch) => {
            let (out, idx) = filter_pieces(&inputs.coefficients, ds, ch, &local)?;
            (
                SampleData::I16(out.iter().map(|c| super::truncate_i16(c)).collect()),
                idx,
            )
        }
        SampleData::F64(ch) => {
            let (out, idx) = filter_pieces(&inputs.coefficients, ds, ch, &local)?;
            (SampleData::F64(out), idx)
        }
    };
    let timestamps: Vec<f64> = idx.iter().map(|&i| samples.timestamps[i]).collect();
    let lfp_valid_times = super::clip_to_output(&inputs.valid_times, &timestamps, LFPV1)?;
    Ok(LfpComputed {
        conversion: samples.conversion,
        inputs,
        data,
        timestamps,
        lfp_valid_times,
    })
}

/// Writes the analysis file and inserts IntervalList, LFPV1 and LFPOutput rows.
pub fn insert_result(db: &Db, settings: &Settings, key: &Row, c: LfpComputed) -> Result<()> {
    let group = key_str(key, LFPV1, "lfp_electrode_group_name")?;
    let target = key_str(key, LFPV1, "target_interval_list_name")?;
    let nwb = c.inputs.nwb_file_name.clone();
    let rate = (c.inputs.raw_rate as usize / c.inputs.decimation) as f64;
    let list_name = valid_times_name(&group, &target);
    let (analysis_file_name, object_id) = super::write_filtered(
        db,
        settings,
        super::FilteredOutput {
            nwb_file_name: &nwb,
            file_description: "LFPV1 output",
            series_description: format!("LFP of group {group} over {target}"),
            data: &c.data,
            conversion: c.conversion,
            timestamps: &c.timestamps,
            electrodes: c.inputs.electrode_ids.clone(),
            filter_name: &c.inputs.filter_name,
            interval_list_name: &list_name,
            pipeline: PIPELINE,
            valid_times: c.lfp_valid_times,
        },
    )?;
    let mut row = key.to_map();
    row.insert("analysis_file_name".into(), Value::from(analysis_file_name));
    row.insert("interval_list_name".into(), Value::from(list_name));
    row.insert("lfp_object_id".into(), Value::from(object_id));
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
        Ok(compute(fetched)?)
    }

    fn make_insert(&self, db: &Db, key: &Row, computed: LfpComputed) -> MakeResult<()> {
        Ok(insert_result(db, &self.settings, key, computed)?)
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
