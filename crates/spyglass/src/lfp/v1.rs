//! `lfp_v1`: LFP from raw data, as Spyglass's LFPV1 computes it.
//!
//! `LFPSelection` pairs an electrode group, a target interval and a stored FIR
//! filter (at the raw rate) with a target rate. The make reads the database inputs
//! first, filters the raw samples outside any transaction, then writes the analysis
//! file, IntervalList, LFPV1 and LFPOutput rows in the key's transaction.
//!
//! The computation matches Spyglass sample for sample: valid times = target
//! interval ∩ the source series' valid times, pieces not longer than 1 s dropped;
//! each piece's sample range is `[searchsorted(ts, start), searchsorted(ts, stop))`;
//! each range is convolved with the filter ("full", zero-padded at the range's
//! edges — one rule regardless of free memory, unlike Spyglass #1653) and sampled
//! at `delay + ds·k` with `ds = raw_rate // target_rate`; the output is cast back
//! to int16 by truncation when the raw data are int16 with no channel_conversion
//! and no offset (Spyglass's output, kept exactly); otherwise the raw data are read
//! in volts and the output is float32 volts. Electrodes are found by id, and the
//! samples stream through [`super::stream`] in time blocks (bounded memory).

use super::{
    lfp_electrode, merge::LFP_OUTPUT, FilterInputs, FilterOutput, FilterPlan, FilterRun,
    FilterSource,
};
use crate::analysis::nwb_file_path;
use crate::common::ephys_series;
use crate::kit::prelude::*;

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

/// The key of LFPSelection and LFPV1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LfpKey {
    /// The session.
    pub nwb_file_name: String,
    /// The LFP electrode group.
    pub lfp_electrode_group_name: String,
    /// The interval to filter.
    pub target_interval_list_name: String,
    /// The FIR filter.
    pub filter_name: String,
    /// The filter's sampling rate, Hz (the raw rate).
    pub filter_sampling_rate: i64,
}

/// An LFPSelection row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LfpSelection {
    /// Its key.
    #[serde(flatten)]
    pub key: LfpKey,
    /// The output rate, Hz.
    pub target_sampling_rate: f64,
}

/// An LFPV1 row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LfpV1Row {
    /// Its key.
    #[serde(flatten)]
    pub key: LfpKey,
    /// The analysis file holding the series.
    pub analysis_file_name: String,
    /// The IntervalList of its valid times.
    pub interval_list_name: String,
    /// Object id of the series.
    pub lfp_object_id: String,
    /// Output rate, Hz.
    pub lfp_sampling_rate: f64,
}

/// The `lfp_v1` pipeline.
pub struct LfpV1;

impl Pipeline for LfpV1 {
    identity!(SCHEMA, family "lfp", requires ["lfp_electrode", "common_filter"]);
    provides! {
        makers: LFPV1 => LfpV1Make;
        merge: LFP_OUTPUT => LFPV1;
        commands: args::Select<SelectArgs>;
    }
    fn tables(&self) -> Vec<TableSpec> {
        let selection = "# the electrodes, interval and filter to compute LFP with
-> lfp_electrode.LFPElectrodeGroup
-> common_interval.IntervalList.proj(target_interval_list_name='interval_list_name')
-> common_filter.FirFilterParameters
---
target_sampling_rate = 1000 : float  # the desired output sampling rate, in HZ";
        let lfp = "# LFP filtered and decimated from the raw data
-> LFPSelection
---
-> common_nwbfile.AnalysisNwbfile
-> common_interval.IntervalList
lfp_object_id : varchar(40)  # the NWB object ID for loading this object from the file
lfp_sampling_rate : float  # the sampling rate, in HZ";
        vec![
            TableSpec::new("LFPSelection", Tier::Manual, selection),
            TableSpec::new("LFPV1", Tier::Computed, lfp),
        ]
    }
    fn run(&self, sg: &Spyglass, _name: &str, m: &clap::ArgMatches) -> Result<()> {
        let args::Select::<SelectArgs>::Select(a) = args::parse(m)?;
        let nwb = a.lfp.session.name(sg)?;
        let (group, interval, filter) = (&a.lfp.group, &a.interval, &a.filter);
        let filter_rate = match a.filter_rate {
            Some(r) => r,
            None => lfp_electrode::raw_rate(sg, &nwb, group)?,
        };
        let key = LfpKey {
            nwb_file_name: nwb.clone(),
            lfp_electrode_group_name: group.clone(),
            target_interval_list_name: interval.clone(),
            filter_name: filter.clone(),
            filter_sampling_rate: filter_rate.into(),
        };
        let target_sampling_rate = a.rate;
        insert_selection(
            sg,
            &LfpSelection {
                key,
                target_sampling_rate,
            },
        )?;
        println!("LFPSelection: {nwb}, group `{group}`, interval `{interval}`, filter `{filter}` at {filter_rate} Hz, output {target_sampling_rate} Hz");
        let keys = [("nwb_file_name", &nwb), ("lfp_electrode_group_name", group)];
        args::next_populate(LFPV1, &keys);
        Ok(())
    }
}

/// Select an LFP electrode group, interval and filter for LFPV1 (LFPSelection).
#[derive(clap::Args)]
struct SelectArgs {
    /// The session and LFP electrode group.
    #[command(flatten)]
    lfp: lfp_electrode::GroupArg,
    /// Target interval (an IntervalList name of the session, e.g. "raw data valid times").
    #[arg(long)]
    interval: String,
    /// A FirFilterParameters filter at the raw rate (e.g. "LFP 0-400 Hz").
    #[arg(long)]
    filter: String,
    /// Output sampling rate, Hz.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// The filter's sampling rate (default: the raw data's rate, rounded).
    #[arg(long)]
    filter_rate: Option<u32>,
}

/// Inserts an `LFPSelection` row (skipped when it exists); returns its key.
pub fn insert_selection(db: &Db, selection: &LfpSelection) -> Result<Row> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    db.put_new(LFP_SELECTION, std::slice::from_ref(selection))?;
    crate::kit::row_of(LFP_SELECTION, &selection.key)
}

/// The name of the IntervalList row holding an LFP's valid times.
pub fn valid_times_name(lfp_electrode_group_name: &str, target_interval_list_name: &str) -> String {
    format!("lfp_{lfp_electrode_group_name}_{target_interval_list_name}_valid times")
}

/// The LFPV1 make.
struct LfpV1Make;

impl Make for LfpV1Make {
    const TABLE: &'static str = LFPV1;
    type Key = LfpKey;
    type Inputs = FilterInputs;
    type Output = FilterOutput;

    fn fetch(&self, cx: &Cx, key: &LfpKey) -> Result<FilterInputs> {
        let db = cx.db;
        let sel: LfpSelection = db.row(LFP_SELECTION, key)?;
        let (nwb, group) = (&key.nwb_file_name, &key.lfp_electrode_group_name);
        let electrode_ids = lfp_electrode::electrode_ids(db, nwb, group)?;
        if electrode_ids.is_empty() {
            let group = format!("nwb_file_name={nwb}, lfp_electrode_group_name={group}");
            return Err(Error::missing(lfp_electrode::LFP_ELECTRODE, group));
        }
        let series = ephys_series::series_for_electrodes(db, nwb, &electrode_ids)?;
        let plan = FilterPlan {
            table: LFPV1,
            nwb_file_name: nwb,
            filter: (&key.filter_name, key.filter_sampling_rate),
            output: ("target_sampling_rate", sel.target_sampling_rate),
            intervals: (&key.target_interval_list_name, &series.interval),
            min_len: MIN_LFP_INTERVAL_DURATION,
        };
        let source = FilterSource {
            path: nwb_file_path(db, nwb)?,
            object_id: series.object_id,
            rate: series.rate,
        };
        plan.inputs(db, source, electrode_ids.iter().map(|&e| (e, None)))
    }

    fn compute(&self, settings: &Settings, key: &LfpKey, i: FilterInputs) -> Result<FilterOutput> {
        let (group, target) = (
            &key.lfp_electrode_group_name,
            &key.target_interval_list_name,
        );
        let description = format!("LFP of group {group} over {target}");
        let run = FilterRun::new(LFPV1, &key.nwb_file_name, &key.filter_name, description);
        super::filter_series(settings, run, &i)
    }

    fn insert(&self, cx: &Cx, key: &LfpKey, out: Self::Output) -> Result<()> {
        let list = valid_times_name(
            &key.lfp_electrode_group_name,
            &key.target_interval_list_name,
        );
        out.put(cx.db, LFPV1, (&key.nwb_file_name, list, PIPELINE), |r| {
            LfpV1Row {
                key: key.clone(),
                analysis_file_name: r.analysis_file_name,
                interval_list_name: r.interval_list_name,
                lfp_object_id: r.object_id,
                lfp_sampling_rate: r.rate,
            }
        })?;
        cx.db.merge_add(LFP_OUTPUT, key)?;
        Ok(())
    }
}

/// Fetches the LFP samples of an LFPV1 row: data per electrode in volts and the timestamps.
pub fn fetch_lfp_volts(db: &Db, lfp_row_restriction: &Row) -> Result<(Vec<Vec<f64>>, Vec<f64>)> {
    let v = super::fetch_volts(db, LFPV1, lfp_row_restriction, "lfp")?;
    Ok((v.volts, v.timestamps))
}
