//! `lfp_band_v1`: band-limited LFP, as Spyglass's LFPBandV1.
//!
//! `LFPBandSelection` picks an LFP (by its LFPOutput merge id), a band filter
//! designed at the LFP's rate, a target interval and an output rate; its part
//! `LFPBandElectrode` names the electrodes and an optional reference electrode
//! each (−1 = none). [`LfpBandV1Maker`] (tripartite) restricts to target ∩ LFP
//! valid times (pieces longer than `min_interval_len`), re-references
//! (`x[e] − x[ref]`, in floating point), filters each piece with the band filter
//! (full convolution sampled at `delay + ds·k`, `ds = lfp_rate // band_rate`),
//! keeps int16 counts (truncated) when the LFP is plain int16 — Spyglass's output —
//! and float32 volts otherwise, streaming in time blocks into an analysis file. [`band_features`] gives its analytic amplitude, phase and power
//! (Hilbert transform over the whole series, Spyglass's helpers).

use super::stream::{self, OutChannel, OutputKind};
use super::{key_f64, key_i64, key_str};
use crate::analysis;
use crate::common::common_interval::{self as iv};
use crate::error::{Error, Result};
use crate::settings::Settings;
use spyglass_db::populate::{MakeResult, TripartiteMake};
use spyglass_db::{Cond, Db, FetchSpec, InsertOptions, Row, TableSpec, Tier, Value};
use spyglass_dsp::{HilbertFeatures, Intervals};
use spyglass_nwb::NwbFile;
use std::path::PathBuf;

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

/// The tables of this schema.
pub fn specs() -> Vec<TableSpec> {
    vec![
        TableSpec::new(
            "LFPBandSelection",
            Tier::Manual,
            "# the LFP, band filter, interval and rate of a band-limited LFP
-> lfp_merge.LFPOutput.proj(lfp_merge_id='merge_id')
-> common_filter.FirFilterParameters
-> common_interval.IntervalList.proj(target_interval_list_name='interval_list_name')
lfp_band_sampling_rate : int  # the sampling rate for this band
---
min_interval_len = 1.0 : float  # the minimum length of a valid interval to filter",
        )
        .part(
            "LFPBandElectrode",
            "# an electrode to filter, with its reference
-> master
-> lfp_electrode.LFPElectrodeGroup.LFPElectrode
reference_elect_id = -1 : int  # the reference electrode to use; -1 for no reference",
        ),
        TableSpec::new(
            "LFPBandV1",
            Tier::Computed,
            "# band-limited LFP
-> LFPBandSelection
---
-> common_nwbfile.AnalysisNwbfile
-> common_interval.IntervalList
lfp_band_object_id : varchar(40)  # the NWB object ID for loading this object from the file",
        ),
    ]
}

/// One electrode of a band selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BandElectrode {
    /// The electrode.
    pub electrode_id: i64,
    /// Its reference electrode, −1 for none.
    pub reference_elect_id: i64,
}

/// Inserts an `LFPBandSelection` with its electrodes (all from LFP electrode group
/// `lfp_electrode_group_name`); returns the selection key.
#[allow(clippy::too_many_arguments)]
pub fn insert_selection(
    db: &Db,
    lfp_merge_id: &Value,
    nwb_file_name: &str,
    lfp_electrode_group_name: &str,
    electrodes: &[BandElectrode],
    filter_name: &str,
    filter_sampling_rate: u32,
    target_interval_list_name: &str,
    lfp_band_sampling_rate: u32,
    min_interval_len: f64,
) -> Result<Row> {
    super::declare(db)?;
    let src = super::merge::lfp_source(db, lfp_merge_id)?;
    if src.nwb_file_name != nwb_file_name {
        return Err(Error::Invalid(format!(
            "{LFP_BAND_SELECTION}: LFP {} belongs to {}, not {nwb_file_name}",
            lfp_merge_id.python_str(),
            src.nwb_file_name
        )));
    }
    let group_ids =
        super::lfp_electrode::electrode_ids(db, nwb_file_name, lfp_electrode_group_name)?;
    for e in electrodes {
        if !group_ids.contains(&e.electrode_id) {
            return Err(Error::Invalid(format!(
                "{LFP_BAND_SELECTION}: electrode {} is not in LFP electrode group `{lfp_electrode_group_name}`",
                e.electrode_id
            )));
        }
    }
    let group_rows = db.fetch_with(
        &db.table(super::lfp_electrode::LFP_ELECTRODE)?
            .restrict(Cond::map([
                ("nwb_file_name", nwb_file_name),
                ("lfp_electrode_group_name", lfp_electrode_group_name),
            ]))?,
        &FetchSpec::default(),
    )?;
    let key = Row::from_pairs([
        ("lfp_merge_id", lfp_merge_id.clone()),
        ("filter_name", Value::from(filter_name)),
        ("filter_sampling_rate", Value::from(filter_sampling_rate)),
        ("nwb_file_name", Value::from(nwb_file_name)),
        (
            "target_interval_list_name",
            Value::from(target_interval_list_name),
        ),
        (
            "lfp_band_sampling_rate",
            Value::from(lfp_band_sampling_rate),
        ),
    ]);
    let mut parts = Vec::new();
    for e in electrodes {
        let g = group_rows
            .iter()
            .find(|r| r.get("electrode_id").and_then(Value::as_i64) == Some(e.electrode_id))
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "{LFP_BAND_SELECTION}: electrode {} not found",
                    e.electrode_id
                ))
            })?;
        let mut m = key.to_map();
        for k in [
            "lfp_electrode_group_name",
            "electrode_group_name",
            "electrode_id",
        ] {
            m.insert(k.into(), g.get(k).cloned().unwrap_or(Value::Null));
        }
        m.insert(
            "reference_elect_id".into(),
            Value::from(e.reference_elect_id),
        );
        parts.push(Row::from_pairs(m));
    }
    let mut master = key.to_map();
    master.insert("min_interval_len".into(), Value::from(min_interval_len));
    let skip = InsertOptions {
        skip_duplicates: true,
        ..Default::default()
    };
    crate::transaction(db, || {
        db.insert1(LFP_BAND_SELECTION, Row::from_pairs(master), skip)?;
        db.insert(LFP_BAND_ELECTRODE, &parts, skip)?;
        Ok(())
    })?;
    Ok(key)
}

/// The IntervalList name of a band's valid times.
pub fn valid_times_name(target_interval_list_name: &str, rate: i64) -> String {
    format!("{target_interval_list_name} lfp band {rate}Hz")
}

/// What the database says about one key (phase 1).
#[derive(Debug, Clone)]
pub struct BandInputs {
    /// The session.
    pub nwb_file_name: String,
    /// The target interval.
    pub target: String,
    /// The session's `_` copy (the parent of the analysis file).
    pub nwb_path: PathBuf,
    /// The file holding the LFP.
    pub lfp_path: PathBuf,
    /// Object id of the LFP series.
    pub lfp_object_id: String,
    /// LFP rate, Hz (integer).
    pub lfp_rate: u32,
    /// Decimation factor, `lfp_rate // band_rate`.
    pub decimation: usize,
    /// Electrodes and references, by electrode id.
    pub electrodes: Vec<BandElectrode>,
    /// Band filter coefficients.
    pub coefficients: Vec<f64>,
    /// Filter name.
    pub filter_name: String,
    /// Valid times: target ∩ LFP valid times, pieces longer than `min_interval_len`.
    pub valid_times: Intervals,
}

/// The band output (phase 2): an analysis file written but not registered yet.
#[derive(Debug)]
pub struct BandComputed {
    /// The inputs.
    pub inputs: BandInputs,
    /// The file, its series and output span.
    pub filtered: super::Filtered,
    /// Valid times clipped to the output's first and last timestamp.
    pub band_valid_times: Intervals,
}

/// Reads the database inputs of an LFPBandV1 key.
pub fn fetch_inputs(db: &Db, key: &Row) -> Result<BandInputs> {
    let t = LFP_BAND_V1;
    let merge_id = key
        .get("lfp_merge_id")
        .cloned()
        .ok_or_else(|| Error::Invalid(format!("{t}: key has no lfp_merge_id")))?;
    let nwb_file_name = key_str(key, t, "nwb_file_name")?;
    let target = key_str(key, t, "target_interval_list_name")?;
    let filter_name = key_str(key, t, "filter_name")?;
    let filter_rate = key_i64(key, t, "filter_sampling_rate")?;
    let band_rate = key_i64(key, t, "lfp_band_sampling_rate")?;
    let sel = db.fetch1(&db.table(LFP_BAND_SELECTION)?.restrict(Cond::from(key))?)?;
    let min_len = key_f64(&sel, LFP_BAND_SELECTION, "min_interval_len")?;
    let src = super::merge::lfp_source(db, &merge_id)?;
    let lfp_rate = src.lfp_sampling_rate.round() as i64;
    if filter_rate != lfp_rate {
        return Err(Error::Invalid(format!(
            "{t}: filter `{filter_name}` is for {filter_rate} Hz but the LFP is at {lfp_rate} Hz"
        )));
    }
    if band_rate <= 0 || band_rate > lfp_rate {
        return Err(Error::Invalid(format!(
            "{LFP_BAND_SELECTION}: lfp_band_sampling_rate {band_rate} must be in (0, {lfp_rate}]"
        )));
    }
    let coefficients = crate::filter::coefficients(db, &filter_name, lfp_rate as u32)?;
    let parts = db.fetch_with(
        &db.table(LFP_BAND_ELECTRODE)?.restrict(Cond::from(key))?,
        &FetchSpec::attrs(&["electrode_id", "reference_elect_id"]),
    )?;
    let mut electrodes: Vec<BandElectrode> = parts
        .iter()
        .map(|r| BandElectrode {
            electrode_id: r.get("electrode_id").and_then(Value::as_i64).unwrap_or(-1),
            reference_elect_id: r
                .get("reference_elect_id")
                .and_then(Value::as_i64)
                .unwrap_or(-1),
        })
        .collect();
    electrodes.sort_by_key(|e| e.electrode_id);
    if electrodes.is_empty() {
        return Err(Error::Invalid(format!(
            "{LFP_BAND_SELECTION}: the selection has no LFPBandElectrode rows"
        )));
    }
    let valid_times =
        iv::intersect_lists(db, &nwb_file_name, &target, &src.interval_list_name, 0.0)?
            .longer_than(min_len);
    if valid_times.is_empty() {
        return Err(Error::Invalid(format!(
            "{t}: `{target}` ∩ `{}` of {nwb_file_name} has no piece longer than {min_len} s",
            src.interval_list_name
        )));
    }
    let lfp_path = super::merge::lfp_file_path(db, &src)?;
    let nwb_path = analysis::nwb_file_path(db, &nwb_file_name)?;
    Ok(BandInputs {
        nwb_file_name,
        target,
        nwb_path,
        lfp_path,
        lfp_object_id: src.lfp_object_id,
        lfp_rate: lfp_rate as u32,
        decimation: (lfp_rate / band_rate) as usize,
        electrodes,
        coefficients,
        filter_name,
        valid_times,
    })
}

/// Reads the LFP in time blocks, re-references, filters it and writes the analysis
/// file (no database access; registered by [`insert_result`]).
pub fn compute(settings: &Settings, inputs: BandInputs) -> Result<BandComputed> {
    let file = NwbFile::open(&inputs.lfp_path)?;
    let series = file.path_of_id(&inputs.lfp_object_id)?;
    let reader = file.volts_reader(&series)?;
    let mut channels = Vec::with_capacity(inputs.electrodes.len());
    for e in &inputs.electrodes {
        let channel = reader.channels_of(&[e.electrode_id])?[0];
        let reference = if e.reference_elect_id >= 0 {
            Some(reader.channels_of(&[e.reference_elect_id])?[0])
        } else {
            None
        };
        channels.push(OutChannel { channel, reference });
    }
    let ranges = reader.raw().sample_ranges(inputs.valid_times.as_slice())?;
    let target = inputs.target.clone();
    let filtered = super::filter_to_file(
        settings,
        super::FilterRun {
            nwb_file_name: &inputs.nwb_file_name,
            parent: &inputs.nwb_path,
            file_description: "LFPBandV1 output",
            series_description: format!("{} band of LFP over {target}", inputs.filter_name),
            filter_name: &inputs.filter_name,
            job: stream::Job {
                reader: &reader,
                channels,
                taps: &inputs.coefficients,
                ds: inputs.decimation,
                ranges,
                kind: OutputKind::for_input(&reader),
                budget: stream::WINDOW_BUDGET,
            },
            electrode_ids: inputs.electrodes.iter().map(|e| e.electrode_id).collect(),
        },
    )?;
    let band_valid_times =
        super::clip_to_output(&inputs.valid_times, filtered.first_last, LFP_BAND_V1)?;
    Ok(BandComputed {
        inputs,
        filtered,
        band_valid_times,
    })
}

/// Registers the analysis file and inserts the IntervalList and LFPBandV1 rows.
pub fn insert_result(db: &Db, key: &Row, c: BandComputed) -> Result<()> {
    let target = key_str(key, LFP_BAND_V1, "target_interval_list_name")?;
    let band_rate = key_i64(key, LFP_BAND_V1, "lfp_band_sampling_rate")?;
    let nwb = c.inputs.nwb_file_name.clone();
    let list_name = valid_times_name(&target, band_rate);
    let analysis_file_name = c.filtered.file.register(db)?;
    super::insert_valid_times(db, &nwb, &list_name, PIPELINE, c.band_valid_times)?;
    let mut row = key.to_map();
    row.insert("analysis_file_name".into(), Value::from(analysis_file_name));
    row.insert("interval_list_name".into(), Value::from(list_name));
    row.insert(
        "lfp_band_object_id".into(),
        Value::from(c.filtered.object_id),
    );
    db.insert1(LFP_BAND_V1, Row::from_pairs(row), InsertOptions::default())?;
    Ok(())
}

/// The LFPBandV1 make (tripartite), holding the directory layout it writes into.
#[derive(Debug, Clone)]
pub struct LfpBandV1Maker {
    /// Where analysis files go.
    pub settings: Settings,
}

impl LfpBandV1Maker {
    /// A maker writing under `settings`.
    pub fn new(settings: Settings) -> LfpBandV1Maker {
        LfpBandV1Maker { settings }
    }
}

impl TripartiteMake for LfpBandV1Maker {
    type Fetched = BandInputs;
    type Computed = BandComputed;

    fn make_fetch(&self, db: &Db, key: &Row) -> MakeResult<BandInputs> {
        self.settings.configure_stores(db);
        Ok(fetch_inputs(db, key)?)
    }

    fn fingerprint(&self, f: &BandInputs) -> Vec<u8> {
        let mut s = format!(
            "{}|{}|{}|{}|{:?}|{:?}|",
            f.nwb_file_name,
            f.lfp_object_id,
            f.lfp_rate,
            f.decimation,
            f.electrodes,
            f.valid_times.as_slice()
        )
        .into_bytes();
        s.extend(f.coefficients.iter().flat_map(|c| c.to_le_bytes()));
        s
    }

    fn make_compute(&self, _key: &Row, fetched: BandInputs) -> MakeResult<BandComputed> {
        Ok(compute(&self.settings, fetched)?)
    }

    fn make_insert(&self, db: &Db, key: &Row, computed: BandComputed) -> MakeResult<()> {
        Ok(insert_result(db, key, computed)?)
    }
}

/// Populates LFPBandV1 for the keys matching `restriction`.
pub fn populate(
    db: &Db,
    settings: &Settings,
    restriction: Cond,
) -> Result<spyglass_db::populate::PopulateReport> {
    let maker = spyglass_db::populate::Tripartite(LfpBandV1Maker::new(settings.clone()));
    super::populate_table(db, LFP_BAND_V1, &maker, restriction)
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
            .map_err(|e| Error::Invalid(format!("{LFP_BAND_V1}: {e}")))?
    };
    Ok(BandSignal {
        electrode_ids: ids,
        timestamps,
        volts,
        features,
    })
}
