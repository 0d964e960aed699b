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
//! and float32 volts otherwise, streaming in time blocks into an analysis file. [`band_features`] gives its analytic amplitude, phase and power
//! (Hilbert transform over the whole series, Spyglass's helpers).

use super::lfp_electrode::{self, LFP_ELECTRODE};
use super::merge;
use super::FilterRun;
use crate::common::common_interval as iv;
use crate::error::{Error, Result};
use crate::kit::{args, Cx, Made, Make, Pipeline, Schema, Spyglass, Tables};
use crate::settings::Settings;
use serde::{Deserialize, Serialize};
use spyglass_db::populate::Maker;
use spyglass_db::{Db, Row, TableSpec, Tier};
use spyglass_dsp::{HilbertFeatures, Intervals};
use std::path::PathBuf;
use std::sync::Arc;
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

/// An LFPBandElectrode row.
#[derive(Serialize)]
struct BandElectrodeRow<'a> {
    #[serde(flatten)]
    key: &'a BandKey,
    lfp_electrode_group_name: &'a str,
    electrode_group_name: &'a str,
    #[serde(flatten)]
    electrode: BandElectrode,
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
    fn name(&self) -> &'static str {
        SCHEMA
    }
    fn family(&self) -> Option<&'static str> {
        Some("lfp")
    }
    fn requires(&self) -> &'static [&'static str] {
        &["lfp_merge", "lfp_electrode", "common_filter"]
    }
    fn schemas(&self) -> Vec<Schema> {
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
        vec![Schema {
            name: SCHEMA,
            tables: vec![
                TableSpec::new("LFPBandSelection", Tier::Manual, selection)
                    .part("LFPBandElectrode", electrode),
                TableSpec::new("LFPBandV1", Tier::Computed, band),
            ],
        }]
    }
    fn makers(&self, settings: &Settings) -> Vec<(&'static str, Arc<dyn Maker>)> {
        vec![(LFP_BAND_V1, Made::maker(BandMake, settings))]
    }
    fn commands(&self) -> Vec<clap::Command> {
        args::subcommands::<Command>()
    }
    fn run(&self, sg: &Spyglass, _name: &str, m: &clap::ArgMatches) -> Result<()> {
        let Command::Band(BandCommand::Select(a)) = args::parse(m)?;
        select(sg, a)
    }
}

/// `spyglass lfp band …`.
#[derive(clap::Subcommand)]
enum Command {
    /// LFP bands (LFPBandSelection).
    #[command(subcommand)]
    Band(BandCommand),
}

#[derive(clap::Subcommand)]
enum BandCommand {
    /// Select an LFP, electrodes, a band filter, an interval and a rate for LFPBandV1.
    Select(SelectArgs),
}

#[derive(clap::Args)]
struct SelectArgs {
    /// The session (`rat1_.nwb`, or the raw file name `rat1.nwb`).
    file: String,
    /// The LFP electrode group whose LFP is filtered.
    #[arg(long = "lfp-group")]
    lfp_group: String,
    /// Which LFP of the group, by its target interval (when it has several).
    #[arg(long = "lfp-interval")]
    lfp_interval: Option<String>,
    /// Which LFP of the group, by its filter (when it has several).
    #[arg(long = "lfp-filter")]
    lfp_filter: Option<String>,
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

fn select(db: &Db, a: SelectArgs) -> Result<()> {
    let nwb = args::session_name(db, &a.file)?;
    let (group, interval, filter) = (
        &a.lfp_group,
        a.lfp_interval.as_deref(),
        a.lfp_filter.as_deref(),
    );
    let mut lfps = merge::lfps_of_group(db, &nwb, group, interval, filter)?;
    let (merge_id, src) = match lfps.len() {
        1 => lfps.remove(0),
        0 => return Err(Error::MissingRow { table: merge::LFP_OUTPUT.into(), key: format!("nwb_file_name = `{nwb}`, lfp_electrode_group_name = `{group}`"), hint: "; the group has no LFP yet (run `spyglass lfp select` and `spyglass populate lfp_v1.LFPV1`)".into() }),
        n => return Err(Error::bad("LFP", format!("LFP electrode group `{group}` of {nwb} has {n} LFPs; choose one with --lfp-interval or --lfp-filter"))),
    };
    let ids = match &a.electrodes {
        Some(t) => args::parse_ids(t)?,
        None => lfp_electrode::electrode_ids(db, &nwb, group)?,
    };
    let refs = match &a.reference {
        None => vec![-1; ids.len()],
        Some(t) => match args::parse_ids(t)? {
            r if r.len() == 1 => vec![r[0]; ids.len()],
            r if r.len() == ids.len() => r,
            r => {
                return Err(Error::bad(
                    "--reference",
                    format!(
                        "{} ids for {} electrodes (give one, or one per electrode)",
                        r.len(),
                        ids.len()
                    ),
                ))
            }
        },
    };
    let electrodes: Vec<BandElectrode> = ids
        .iter()
        .zip(&refs)
        .map(|(&electrode_id, &reference_elect_id)| BandElectrode {
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
    let sel = BandSelection {
        key,
        min_interval_len: a.min_interval_len,
    };
    insert_selection(db, &sel, group, &electrodes)?;
    println!("LFPBandSelection: {nwb}, LFP {merge_id} ({} of group `{group}`), {} electrodes, filter `{}` at {lfp_rate} Hz, interval `{}`, output {} Hz", src.source, electrodes.len(), a.filter, a.interval, a.rate);
    println!("next: spyglass populate {LFP_BAND_V1} --key nwb_file_name={nwb}");
    Ok(())
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
    let key = &selection.key;
    let nwb = &key.nwb_file_name;
    let src = merge::lfp_source(db, &spyglass_db::Value::Uuid(key.lfp_merge_id))?;
    if &src.nwb_file_name != nwb {
        return Err(Error::bad(
            LFP_BAND_SELECTION,
            format!(
                "LFP {} belongs to {}, not {nwb}",
                key.lfp_merge_id, src.nwb_file_name
            ),
        ));
    }
    #[derive(Serialize, Deserialize)]
    struct Member {
        electrode_group_name: String,
        electrode_id: i64,
    }
    let group_key = lfp_electrode::GroupKey {
        nwb_file_name: nwb.clone(),
        lfp_electrode_group_name: lfp_electrode_group_name.to_string(),
    };
    let members: Vec<Member> = db.rows(LFP_ELECTRODE, &group_key)?;
    let mut parts = Vec::with_capacity(electrodes.len());
    for &e in electrodes {
        let m = members
            .iter()
            .find(|m| m.electrode_id == e.electrode_id)
            .ok_or_else(|| {
                Error::bad(
                    LFP_BAND_SELECTION,
                    format!(
                        "electrode {} is not in LFP electrode group `{lfp_electrode_group_name}`",
                        e.electrode_id
                    ),
                )
            })?;
        parts.push(BandElectrodeRow {
            key,
            lfp_electrode_group_name,
            electrode_group_name: &m.electrode_group_name,
            electrode: e,
        });
    }
    crate::transaction(db, || {
        db.put_new(LFP_BAND_SELECTION, std::slice::from_ref(selection))?;
        db.put_new(LFP_BAND_ELECTRODE, &parts)?;
        Ok(())
    })?;
    crate::kit::row_of(LFP_BAND_SELECTION, key)
}

/// The IntervalList name of a band's valid times.
pub fn valid_times_name(target_interval_list_name: &str, rate: i64) -> String {
    format!("{target_interval_list_name} lfp band {rate}Hz")
}

/// What the database says about one key (phase 1).
#[derive(Debug, Clone, Serialize)]
pub struct BandInputs {
    /// The session's `_` copy (the parent of the analysis file).
    pub nwb_path: PathBuf,
    /// The file holding the LFP.
    pub lfp_path: PathBuf,
    /// Object id of the LFP series.
    pub lfp_object_id: String,
    /// Decimation factor, `lfp_rate // band_rate`.
    pub decimation: usize,
    /// Electrodes and references, by electrode id.
    pub electrodes: Vec<BandElectrode>,
    /// Band filter coefficients.
    pub coefficients: Vec<f64>,
    /// Valid times: target ∩ LFP valid times, pieces longer than `min_interval_len`.
    pub valid_times: Intervals,
}

/// The LFPBandV1 make.
struct BandMake;

impl Make for BandMake {
    const TABLE: &'static str = LFP_BAND_V1;
    type Key = BandKey;
    type Inputs = BandInputs;
    type Output = super::FilterOutput;

    fn fetch(&self, cx: &Cx, key: &BandKey) -> Result<BandInputs> {
        let db = cx.db;
        let (t, nwb, filter) = (LFP_BAND_V1, &key.nwb_file_name, &key.filter_name);
        let sel: BandSelection = db.row(LFP_BAND_SELECTION, key)?;
        let src = merge::lfp_source(db, &spyglass_db::Value::Uuid(key.lfp_merge_id))?;
        let lfp_rate = src.lfp_sampling_rate.round() as i64;
        if key.filter_sampling_rate != lfp_rate {
            return Err(Error::bad(
                t,
                format!(
                    "filter `{filter}` is for {} Hz but the LFP is at {lfp_rate} Hz",
                    key.filter_sampling_rate
                ),
            ));
        }
        let band_rate = key.lfp_band_sampling_rate;
        if band_rate <= 0 || band_rate > lfp_rate {
            return Err(Error::bad(
                LFP_BAND_SELECTION,
                format!("lfp_band_sampling_rate {band_rate} must be in (0, {lfp_rate}]"),
            ));
        }
        let mut electrodes: Vec<BandElectrode> = db.rows(LFP_BAND_ELECTRODE, key)?;
        electrodes.sort_by_key(|e| e.electrode_id);
        if electrodes.is_empty() {
            return Err(Error::conflict(
                LFP_BAND_SELECTION,
                "the selection has no LFPBandElectrode rows",
            ));
        }
        let (target, min_len) = (&key.target_interval_list_name, sel.min_interval_len);
        let valid_times = iv::intersect_lists(db, nwb, target, &src.interval_list_name, 0.0)?
            .longer_than(min_len);
        if valid_times.is_empty() {
            return Err(Error::bad(
                t,
                format!(
                    "`{target}` ∩ `{}` of {nwb} has no piece longer than {min_len} s",
                    src.interval_list_name
                ),
            ));
        }
        Ok(BandInputs {
            nwb_path: crate::analysis::nwb_file_path(db, nwb)?,
            lfp_path: merge::lfp_file_path(db, &src)?,
            lfp_object_id: src.lfp_object_id,
            decimation: (lfp_rate / band_rate) as usize,
            electrodes,
            coefficients: crate::filter::coefficients(db, filter, lfp_rate as u32)?,
            valid_times,
        })
    }

    fn compute(&self, settings: &Settings, key: &BandKey, i: BandInputs) -> Result<Self::Output> {
        let reference = |r: i64| (r >= 0).then_some(r);
        let run = FilterRun {
            table: LFP_BAND_V1,
            nwb_file_name: &key.nwb_file_name,
            parent: &i.nwb_path,
            file_description: "LFPBandV1 output",
            series_description: format!(
                "{} band of LFP over {}",
                key.filter_name, key.target_interval_list_name
            ),
            filter_name: &key.filter_name,
            taps: &i.coefficients,
            ds: i.decimation,
            valid_times: &i.valid_times,
            electrodes: i
                .electrodes
                .iter()
                .map(|e| (e.electrode_id, reference(e.reference_elect_id)))
                .collect(),
        };
        let rate = key.lfp_band_sampling_rate as f64;
        super::filter_series(settings, &i.lfp_path, &i.lfp_object_id, run, rate)
    }

    fn insert(&self, cx: &Cx, key: &BandKey, out: Self::Output) -> Result<()> {
        let list = valid_times_name(&key.target_interval_list_name, key.lfp_band_sampling_rate);
        let row = BandRow {
            key: key.clone(),
            analysis_file_name: cx.db.register(out.file)?,
            interval_list_name: list.clone(),
            lfp_band_object_id: out.object_id,
        };
        cx.db
            .interval_list(&key.nwb_file_name, &list, PIPELINE, out.valid_times)?;
        cx.db.put(LFP_BAND_V1, &row)
    }
}

/// A band-limited LFP read back, with its analytic features.
#[derive(Debug, Clone)]
pub struct BandSignal {
    /// Electrode ids, one per channel.
    pub electrode_ids: Vec<i64>,
    /// Timestamps, seconds.
    pub timestamps: Vec<f64>,
    /// The filtered signal per channel, volts.
    pub volts: Vec<Vec<f64>>,
    /// Amplitude (volts), phase (radians, `[0, 2π]`) and power (volts²) per channel.
    pub features: Vec<HilbertFeatures>,
}

/// Reads the LFPBandV1 row matching `restriction` and computes the analytic
/// amplitude, phase and power of each channel (Spyglass's `compute_analytic_signal`,
/// `compute_signal_phase`, `compute_signal_power`, on values in volts).
pub fn band_features(db: &Db, restriction: &Row) -> Result<BandSignal> {
    let super::Volts {
        electrode_ids: ids,
        volts,
        timestamps,
    } = super::fetch_volts(db, LFP_BAND_V1, restriction, "lfp_band")?;
    let flat: Vec<f64> = volts.iter().flatten().copied().collect();
    let features = if flat.is_empty() {
        vec![]
    } else {
        spyglass_dsp::hilbert_features_channels(&flat, volts.len())
            .map_err(|e| Error::internal(LFP_BAND_V1, e.to_string()))?
    };
    Ok(BandSignal {
        electrode_ids: ids,
        timestamps,
        volts,
        features,
    })
}
