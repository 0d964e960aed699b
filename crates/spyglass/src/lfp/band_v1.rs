//! `lfp_band_v1`: band-limited LFP, as Spyglass's LFPBandV1.
//!
//! `LFPBandSelection` picks an LFP (by its LFPOutput merge id), a band filter
//! designed at the LFP's rate, a target interval and an output rate; its part
//! `LFPBandElectrode` names the electrodes and an optional reference electrode
//! each (−1 = none). The make (tripartite) restricts to target ∩ LFP
//! valid times (pieces longer than `min_interval_len`), re-references
//! (`x[e] − x[ref]`, in floating point), filters each piece with the band filter
//! (full convolution sampled at `delay + ds·k`, `ds = lfp_rate // band_rate`),
//! keeps int16 counts (truncated) when the LFP is plain int16 — Spyglass's output —
//! and float32 volts otherwise, streaming in time blocks into an analysis file
//! ([`super::analytic`] reads it back with its amplitude, phase and power).

use super::lfp_electrode;
use super::merge;
use super::{FilterInputs, FilterOutput, FilterPlan, FilterRun};
use crate::kit::prelude::*;
use uuid::Uuid;

/// Schema name.
pub const SCHEMA: &str = "lfp_band_v1";
/// `LFPBandSelection` (Manual).
pub const LFP_BAND_SELECTION: &str = "lfp_band_v1.LFPBandSelection";
/// `LFPBandSelection.LFPBandElectrode` (Part).
pub const LFP_BAND_ELECTRODE: &str = "lfp_band_v1.LFPBandSelection.LFPBandElectrode";
/// `LFPBandV1` (Computed).
pub const LFP_BAND_V1: &str = "lfp_band_v1.LFPBandV1";
/// The pipeline name recorded in IntervalList.
pub const PIPELINE: &str = "lfp band";

/// The key of LFPBandSelection and LFPBandV1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandKey {
    /// The LFP (an LFPOutput merge id).
    pub lfp_merge_id: Uuid,
    /// The band filter.
    pub filter_name: String,
    /// The filter's sampling rate, Hz (the LFP's rate).
    pub filter_sampling_rate: i64,
    /// The session.
    pub nwb_file_name: String,
    /// The interval to filter.
    pub target_interval_list_name: String,
    /// Output rate, Hz.
    pub lfp_band_sampling_rate: i64,
}

/// An LFPBandSelection row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandSelection {
    /// Its key.
    #[serde(flatten)]
    pub key: BandKey,
    /// Shortest valid piece to filter, seconds.
    pub min_interval_len: f64,
}

/// One electrode of a band selection (an LFPBandElectrode row's own attributes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandElectrode {
    /// The electrode.
    pub electrode_id: i64,
    /// Its reference electrode, −1 for none.
    pub reference_elect_id: i64,
}

/// An LFPBandV1 row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandRow {
    /// Its key.
    #[serde(flatten)]
    pub key: BandKey,
    /// The analysis file holding the series.
    pub analysis_file_name: String,
    /// The IntervalList of its valid times.
    pub interval_list_name: String,
    /// Object id of the series.
    pub lfp_band_object_id: String,
}

/// The `lfp_band_v1` pipeline.
pub struct LfpBandV1;

impl Pipeline for LfpBandV1 {
    identity!(SCHEMA, family "lfp", requires ["lfp_merge", "lfp_electrode", "common_filter"]);
    provides! {
        makers: LFP_BAND_V1 => BandMake;
        commands: args::Select<SelectArgs> as "band" => "LFP bands (LFPBandSelection)";
    }
    fn tables(&self) -> Vec<TableSpec> {
        let selection = "# the LFP, band filter, interval and rate of a band-limited LFP
-> lfp_merge.LFPOutput.proj(lfp_merge_id='merge_id')
-> common_filter.FirFilterParameters
-> common_interval.IntervalList.proj(target_interval_list_name='interval_list_name')
lfp_band_sampling_rate : int  # the sampling rate for this band
---
min_interval_len = 1.0 : float  # the minimum length of a valid interval to filter";
        let electrode = "# an electrode to filter, with its reference
-> master
-> lfp_electrode.LFPElectrodeGroup.LFPElectrode
reference_elect_id = -1 : int  # the reference electrode to use; -1 for no reference";
        let band = "# band-limited LFP
-> LFPBandSelection
---
-> common_nwbfile.AnalysisNwbfile
-> common_interval.IntervalList
lfp_band_object_id : varchar(40)  # the NWB object ID for loading this object from the file";
        vec![
            TableSpec::new("LFPBandSelection", Tier::Manual, selection)
                .part("LFPBandElectrode", electrode),
            TableSpec::new("LFPBandV1", Tier::Computed, band),
        ]
    }
    fn run(&self, sg: &Spyglass, _name: &str, m: &clap::ArgMatches) -> Result<()> {
        let args::Select::<SelectArgs>::Select(a) = args::parse_in(m)?;
        let nwb = a.session.name(sg)?;
        let group = &a.lfp.lfp_group;
        let (merge_id, src) = a.lfp.choose(sg, &nwb)?;
        let ids = match &a.electrodes {
            Some(t) => args::parse_ids(t)?,
            None => lfp_electrode::electrode_ids(sg, &nwb, group)?,
        };
        let refs = args::per_electrode("--reference", a.reference.as_deref(), ids.len(), -1)?;
        let electrodes: Vec<BandElectrode> = (ids.into_iter().zip(refs))
            .map(|(electrode_id, reference_elect_id)| BandElectrode {
                electrode_id,
                reference_elect_id,
            })
            .collect();
        let lfp_rate = src.lfp_sampling_rate.round() as i64;
        let key = BandKey {
            lfp_merge_id: merge_id,
            filter_name: a.filter.clone(),
            filter_sampling_rate: lfp_rate,
            nwb_file_name: nwb.clone(),
            target_interval_list_name: a.interval.clone(),
            lfp_band_sampling_rate: a.rate.into(),
        };
        let min_interval_len = a.min_interval_len;
        let selection = BandSelection {
            key,
            min_interval_len,
        };
        insert_selection(sg, &selection, group, &electrodes)?;
        println!("LFPBandSelection: {nwb}, LFP {merge_id} ({} of group `{group}`), {} electrodes, filter `{}` at {lfp_rate} Hz, interval `{}`, output {} Hz", src.source, electrodes.len(), a.filter, a.interval, a.rate);
        args::next_populate(LFP_BAND_V1, &[("nwb_file_name", &nwb)]);
        Ok(())
    }
}

/// Select an LFP, electrodes, a band filter, an interval and a rate for LFPBandV1.
#[derive(clap::Args)]
struct SelectArgs {
    /// The session.
    #[command(flatten)]
    session: args::SessionArg,
    /// The LFP filtered.
    #[command(flatten)]
    lfp: merge::LfpChoice,
    /// Band filter (FirFilterParameters at the LFP's rate, e.g. "Theta 5-11 Hz").
    #[arg(long)]
    filter: String,
    /// Target interval of the band.
    #[arg(long)]
    interval: String,
    /// Output sampling rate, Hz.
    #[arg(long)]
    rate: u32,
    /// Electrode ids to filter (default: the whole LFP group).
    #[arg(long, value_name = "IDS")]
    electrodes: Option<String>,
    /// One reference electrode for all, or one per electrode (`-1` for none).
    #[arg(long, value_name = "IDS", allow_hyphen_values = true)]
    reference: Option<String>,
    /// Shortest valid piece to filter, seconds.
    #[arg(long, default_value_t = 1.0)]
    min_interval_len: f64,
}

/// Inserts an `LFPBandSelection` with its electrodes (all from LFP electrode group
/// `lfp_electrode_group_name`); returns the selection key.
pub fn insert_selection(
    db: &Db,
    selection: &BandSelection,
    lfp_electrode_group_name: &str,
    electrodes: &[BandElectrode],
) -> Result<Row> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    let (key, nwb) = (&selection.key, &selection.key.nwb_file_name);
    merge::lfp_of_session(db, key.lfp_merge_id, nwb)?;
    let ids: Vec<i64> = electrodes.iter().map(|e| e.electrode_id).collect();
    let members = lfp_electrode::members_by_id(db, nwb, lfp_electrode_group_name, &ids)?;
    let parts = (members.iter().zip(electrodes)).map(|(m, e)| With {
        key,
        attrs: With { key: m, attrs: e },
    });
    let parts: Vec<_> = parts.collect();
    let master = (LFP_BAND_SELECTION, selection);
    db.put_new_with_parts(master, (LFP_BAND_ELECTRODE, &parts))?;
    crate::kit::row_of(LFP_BAND_SELECTION, key)
}

/// The LFPBandV1 make.
struct BandMake;

impl Make for BandMake {
    const TABLE: &'static str = LFP_BAND_V1;
    type Key = BandKey;
    type Inputs = FilterInputs;
    type Output = FilterOutput;

    fn fetch(&self, cx: &Cx, key: &BandKey) -> Result<FilterInputs> {
        let (db, nwb) = (cx.db, &key.nwb_file_name);
        let sel: BandSelection = db.row(LFP_BAND_SELECTION, key)?;
        let src = merge::lfp_of_session(db, key.lfp_merge_id, nwb)?;
        let mut electrodes: Vec<BandElectrode> = db.rows(LFP_BAND_ELECTRODE, key)?;
        if electrodes.is_empty() {
            return Err(Error::missing(LFP_BAND_ELECTRODE, key_text(key)));
        }
        electrodes.sort_by_key(|e| e.electrode_id);
        let plan = FilterPlan {
            table: LFP_BAND_V1,
            nwb_file_name: nwb,
            filter: (&key.filter_name, key.filter_sampling_rate),
            output: ("lfp_band_sampling_rate", key.lfp_band_sampling_rate as f64),
            intervals: (&key.target_interval_list_name, &src.interval_list_name),
            min_len: sel.min_interval_len,
        };
        let reference = |e: &BandElectrode| Some(e.reference_elect_id).filter(|&r| r >= 0);
        let pairs = electrodes.iter().map(|e| (e.electrode_id, reference(e)));
        let mut inputs = plan.inputs(db, src.filter_source(db)?, pairs)?;
        // the band's rate is the one selected (Spyglass records it as given)
        inputs.rate = key.lfp_band_sampling_rate as f64;
        Ok(inputs)
    }

    fn compute(&self, settings: &Settings, key: &BandKey, i: FilterInputs) -> Result<FilterOutput> {
        let (filter, target) = (&key.filter_name, &key.target_interval_list_name);
        let description = format!("{filter} band of LFP over {target}");
        let run = FilterRun::new(LFP_BAND_V1, &key.nwb_file_name, filter, description);
        super::filter_series(settings, run, &i)
    }

    fn insert(&self, cx: &Cx, key: &BandKey, out: Self::Output) -> Result<()> {
        // the IntervalList of the band's valid times, named as Spyglass names it
        let (target, rate) = (&key.target_interval_list_name, key.lfp_band_sampling_rate);
        let list = format!("{target} lfp band {rate}Hz");
        out.put(
            cx.db,
            LFP_BAND_V1,
            (&key.nwb_file_name, list, PIPELINE),
            |r| BandRow {
                key: key.clone(),
                analysis_file_name: r.analysis_file_name,
                interval_list_name: r.interval_list_name,
                lfp_band_object_id: r.object_id,
            },
        )
    }
}
