//! `spikesorting_v1_metric_curation`: waveforms, quality metrics and metric-based
//! curation of a CurationV1, as Spyglass 0.6's `spikesorting/v1/metric_curation.py`
//! declares and computes them.
//!
//! - `WaveformParameters` (`default_not_whitened`, `default_whitened`),
//!   `MetricParameters` (`franklab_default`) and `MetricCurationParameters`
//!   (`default`: `nn_noise_overlap > 0.1` → `["noise", "reject"]`; `none`): Spyglass's
//!   rows blob for blob.
//! - `MetricCurationSelection`: `metric_curation_id` is a uuid derived (uuid5) from
//!   the selected keys instead of drawn at random; [`insert_selection`] returns an
//!   existing id for the same keys, as Spyglass's does.
//! - `MetricCuration`'s make reads the curation's units, recomputes the recording
//!   ([`super::recompute`], hash checked, no artifact zeroing — Spyglass's
//!   `CurationV1.get_recording`), maps spike times to samples (`searchsorted` on the
//!   recording's timestamps, out-of-range spikes dropped), whitens when asked
//!   (SpikeInterface's global ZCA whitening on 20 random chunks of 10 000 samples),
//!   extracts waveforms and computes the metrics with [`spyglass_metrics`], then
//!   labels units by the label rules (Spyglass's `_compute_labels`) and writes an
//!   analysis file whose units table holds the units, `waveform_mean`,
//!   `curation_label` (when any unit is labelled), `merge_groups` and one column per
//!   metric, as Spyglass's `_write_metric_curation_to_nwb` does.
//! - [`insert_metric_curation`]: Spyglass's `CurationV1.insert_metric_curation`, a
//!   child curation of the selected one with the labels and merge groups.
//!
//! Metrics: Spyglass's `snr`, `isi_violation` (violations / (spikes − 1), Spyglass's
//! own), `nn_isolation`, `nn_noise_overlap`, `peak_offset`, `peak_channel` (an
//! electrode id), `num_spikes`, and SpikeInterface's `firing_rate`,
//! `presence_ratio`, `amplitude_cutoff`, `silhouette`, `isi_violations_ratio`.
//!
//! Divergences from Spyglass 0.6, all on purpose: spike times are written in seconds
//! (Spyglass writes the sample indices SpikeInterface returns into `spike_times`); the
//! per-spike `waveforms` column is not written (`waveform_mean` is); random subsets
//! come from our seeded stream, not numpy's (see [`spyglass_metrics::metrics`]);
//! merge rules name pairwise metrics, none of which exists in Spyglass or here, so
//! they produce no merge groups (Spyglass skips them the same way); parameter sets
//! without `nn_isolation` work (Spyglass raises a KeyError).

use super::curation_v1::{self as cv, CurationInput, CurationKey, CurationRow};
use super::recompute::FilteredRecording;
use super::recording_v1::{self as rec, content_id};
use super::sorting_v1::{self as ss, py_literal, SortingKey, SortingSelection};
use crate::kit::prelude::*;
use spyglass_metrics::metrics::{compute_from_parts, MetricParams, NnParams, UnitMetrics};
use spyglass_metrics::{
    extract_waveforms, noise_levels, random_chunk_starts, templates, whitening_matrix, ChunkSource,
    PeakSign, WaveformParams, Whitened,
};
use spyglass_nwb::{ColumnSpec, UnitsSpec};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Schema name.
pub const SCHEMA: &str = "spikesorting_v1_metric_curation";
/// `WaveformParameters` (Lookup).
pub const WAVEFORM_PARAMETERS: &str = "spikesorting_v1_metric_curation.WaveformParameters";
/// `MetricParameters` (Lookup).
pub const METRIC_PARAMETERS: &str = "spikesorting_v1_metric_curation.MetricParameters";
/// `MetricCurationParameters` (Lookup).
pub const CURATION_PARAMETERS: &str = "spikesorting_v1_metric_curation.MetricCurationParameters";
/// `MetricCurationSelection` (Manual).
pub const SELECTION: &str = "spikesorting_v1_metric_curation.MetricCurationSelection";
/// `MetricCuration` (Computed).
pub const METRIC_CURATION: &str = "spikesorting_v1_metric_curation.MetricCuration";

/// Spyglass's WaveformParameters rows (`name`, dict as Python writes it).
pub const WAVEFORM_DEFAULTS: [(&str, &str); 2] = [
    ("default_not_whitened", "{'ms_before': 0.5, 'ms_after': 0.5, 'max_spikes_per_unit': 5000, 'n_jobs': 5, 'total_memory': '5G', 'whiten': False}"),
    ("default_whitened", "{'ms_before': 0.5, 'ms_after': 0.5, 'max_spikes_per_unit': 5000, 'n_jobs': 5, 'total_memory': '5G', 'whiten': True}"),
];
/// Spyglass's MetricParameters row `franklab_default`.
pub const METRIC_DEFAULT: (&str, &str) = (
    "franklab_default",
    "{'snr': {'peak_sign': 'neg', 'random_chunk_kwargs_dict': {'num_chunks_per_segment': 20, 'chunk_size': 10000, 'seed': 0}}, 'isi_violation': {'isi_threshold_ms': 1.5, 'min_isi_ms': 0.0}, 'nn_isolation': {'max_spikes': 1000, 'min_spikes': 10, 'n_neighbors': 5, 'n_components': 7, 'radius_um': 100, 'seed': 0}, 'nn_noise_overlap': {'max_spikes': 1000, 'min_spikes': 10, 'n_neighbors': 5, 'n_components': 7, 'radius_um': 100, 'seed': 0}, 'peak_channel': {'peak_sign': 'neg'}, 'num_spikes': {}}",
);
/// Spyglass's MetricCurationParameters rows (`name`, label_params, merge_params).
pub const CURATION_DEFAULTS: [(&str, &str, &str); 2] = [
    (
        "default",
        "{'nn_noise_overlap': ['>', 0.1, ['noise', 'reject']]}",
        "{}",
    ),
    ("none", "{}", "{}"),
];

/// The metrics this pipeline computes.
pub const METRICS: [&str; 12] = [
    "snr",
    "isi_violation",
    "nn_isolation",
    "nn_noise_overlap",
    "peak_offset",
    "peak_channel",
    "num_spikes",
    "firing_rate",
    "presence_ratio",
    "amplitude_cutoff",
    "silhouette",
    "isi_violations_ratio",
];

/// A MetricCurationSelection's attributes other than its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectionKey {
    /// The sorting.
    pub sorting_id: Uuid,
    /// The curation curated.
    pub curation_id: i64,
    /// WaveformParameters name.
    pub waveform_param_name: String,
    /// MetricParameters name.
    pub metric_param_name: String,
    /// MetricCurationParameters name.
    pub metric_curation_param_name: String,
}

/// A MetricCurationSelection row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// The id.
    pub metric_curation_id: Uuid,
    /// What it selects.
    #[serde(flatten)]
    pub key: SelectionKey,
}

/// The key of MetricCuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricCurationKey {
    /// The selection.
    pub metric_curation_id: Uuid,
}

/// A MetricCuration row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricCurationRow {
    /// The selection.
    pub metric_curation_id: Uuid,
    /// The analysis file of the units, metrics and labels.
    pub analysis_file_name: String,
    /// Object id of its units table.
    pub object_id: String,
}

/// The `spikesorting_v1_metric_curation` pipeline.
pub struct SpikeSortingMetricCurationV1;

impl Pipeline for SpikeSortingMetricCurationV1 {
    identity!(SCHEMA, family "sorting", requires [cv::SCHEMA]);
    provides! {
        makers: METRIC_CURATION => MetricCurationMake;
        defaults: Defaults::rows(WAVEFORM_PARAMETERS, insert_defaults);
        commands: Command;
    }
    fn tables(&self) -> Vec<TableSpec> {
        let waveform =
            "# Parameters for extracting waveforms from the recording based on the sorting.
waveform_param_name: varchar(80) # name of waveform extraction parameters
---
waveform_params: blob # a dict of waveform extraction parameters";
        let metric = "# Parameters for computing quality metrics of sorted units.
metric_param_name: varchar(200)
---
metric_params: blob";
        let curation = "# Parameters for curating a spike sorting based on the metrics.
metric_curation_param_name: varchar(200)
---
label_params: blob   # dict of param to label units
merge_params: blob   # dict of param to merge units";
        let selection = "# Spike sorting and parameters for metric curation. Use `insert_selection` to insert a row into this table.
metric_curation_id: uuid
---
-> spikesorting_v1_curation.CurationV1
-> WaveformParameters
-> MetricParameters
-> MetricCurationParameters";
        let result = "# Results of applying curation based on quality metrics. To do additional curation, insert another row in `CurationV1`
-> MetricCurationSelection
---
-> common_nwbfile.AnalysisNwbfile
object_id: varchar(40) # Object ID for the metrics in NWB file";
        vec![
            TableSpec::new("WaveformParameters", Tier::Lookup, waveform),
            TableSpec::new("MetricParameters", Tier::Lookup, metric),
            TableSpec::new("MetricCurationParameters", Tier::Lookup, curation),
            TableSpec::new("MetricCurationSelection", Tier::Manual, selection),
            TableSpec::new("MetricCuration", Tier::Computed, result),
        ]
    }
    fn run(&self, sg: &Spyglass, _name: &str, m: &clap::ArgMatches) -> Result<()> {
        sg.require(SCHEMA)?;
        let Command::MetricCuration(c) = args::parse(m)?;
        match c {
            McCommand::Params => {
                for (table, name, blobs) in [
                    (
                        WAVEFORM_PARAMETERS,
                        "waveform_param_name",
                        &["waveform_params"][..],
                    ),
                    (
                        METRIC_PARAMETERS,
                        "metric_param_name",
                        &["metric_params"][..],
                    ),
                    (
                        CURATION_PARAMETERS,
                        "metric_curation_param_name",
                        &["label_params", "merge_params"][..],
                    ),
                ] {
                    for r in sg.fetch(&sg.table(table)?)? {
                        let text = r
                            .get(name)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string();
                        let dicts: Vec<String> = blobs
                            .iter()
                            .map(|b| r.get(b).map(|v| v.python_str()).unwrap_or_default())
                            .collect();
                        println!("{table} `{text}`: {}", dicts.join(" | "));
                    }
                }
            }
            McCommand::Select(a) => {
                let key = SelectionKey {
                    sorting_id: parse_uuid("sorting_id", &a.sorting_id)?,
                    curation_id: a.curation_id,
                    waveform_param_name: a.waveform_params,
                    metric_param_name: a.metric_params,
                    metric_curation_param_name: a.curation_params,
                };
                let id = insert_selection(sg.db(), &key)?;
                println!(
                    "MetricCurationSelection {id}: curation {} / {}",
                    key.sorting_id, key.curation_id
                );
                args::next_populate(METRIC_CURATION, &[("metric_curation_id", &id)]);
            }
            McCommand::Show(a) => {
                let key = MetricCurationKey {
                    metric_curation_id: parse_uuid("metric_curation_id", &a.metric_curation_id)?,
                };
                let metrics = get_metrics(sg.db(), &key)?;
                let labels = get_labels(sg.db(), &key)?;
                let ids: Vec<i64> = metrics
                    .first()
                    .map(|(_, m)| m.keys().copied().collect())
                    .unwrap_or_default();
                let names: Vec<&str> = metrics.iter().map(|(n, _)| n.as_str()).collect();
                println!("unit\t{}\tlabels", names.join("\t"));
                for u in ids {
                    let vals: Vec<String> = metrics
                        .iter()
                        .map(|(_, m)| format!("{:.6}", m[&u]))
                        .collect();
                    let l = labels.get(&u).map(|l| l.join(",")).unwrap_or_default();
                    println!("{u}\t{}\t{l}", vals.join("\t"));
                }
            }
            McCommand::Apply(a) => {
                let key = MetricCurationKey {
                    metric_curation_id: parse_uuid("metric_curation_id", &a.metric_curation_id)?,
                };
                let row = insert_metric_curation(sg.db(), sg.settings(), &key, a.apply_merge)?;
                let merge_id = cv::insert_into_merge(sg.db(), &row.key())?;
                println!(
                    "CurationV1 {} / {} (parent {}), file {}, SpikeSortingOutput {merge_id}",
                    row.sorting_id, row.curation_id, row.parent_curation_id, row.analysis_file_name
                );
            }
        }
        Ok(())
    }
}

/// `spyglass sorting metric-curation …`.
#[derive(clap::Subcommand)]
enum Command {
    /// Quality metrics and metric-based curation of a curation (MetricCuration).
    #[command(subcommand, name = "metric-curation")]
    MetricCuration(McCommand),
}

#[derive(clap::Subcommand)]
enum McCommand {
    /// List the waveform, metric and metric-curation parameter sets.
    Params,
    /// Select a curation and parameter sets (MetricCurationSelection.insert_selection).
    Select(SelectArgs),
    /// Print a MetricCuration's metrics and labels per unit.
    Show(ShowArgs),
    /// Insert the child curation of a MetricCuration (CurationV1.insert_metric_curation).
    Apply(ApplyArgs),
}

#[derive(clap::Args)]
struct SelectArgs {
    /// The sorting_id.
    sorting_id: String,
    /// The curation id.
    #[arg(long, default_value_t = 0)]
    curation_id: i64,
    /// WaveformParameters name.
    #[arg(long, default_value = "default_not_whitened")]
    waveform_params: String,
    /// MetricParameters name.
    #[arg(long, default_value = "franklab_default")]
    metric_params: String,
    /// MetricCurationParameters name.
    #[arg(long, default_value = "default")]
    curation_params: String,
}

#[derive(clap::Args)]
struct ShowArgs {
    /// The metric_curation_id.
    metric_curation_id: String,
}

#[derive(clap::Args)]
struct ApplyArgs {
    /// The metric_curation_id.
    metric_curation_id: String,
    /// Apply the merge groups to the units.
    #[arg(long)]
    apply_merge: bool,
}

fn parse_uuid(what: &str, text: &str) -> Result<Uuid> {
    text.parse()
        .map_err(|e| Error::bad(what.to_string(), format!("`{text}`: {e}")))
}

/// Spyglass's rows of the three parameter tables, skipping present ones.
pub fn insert_defaults(db: &Db) -> Result<usize> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    let opts = InsertOptions {
        skip_duplicates: true,
        ..Default::default()
    };
    let lit = |table: &str, text: &str| {
        py_literal(text).map_err(|e| Error::internal(table.to_string(), format!("{text}: {e}")))
    };
    let mut n = 0;
    for (name, dict) in WAVEFORM_DEFAULTS {
        let row = Row::from_pairs([
            ("waveform_param_name", Value::from(name)),
            (
                "waveform_params",
                Value::from(lit(WAVEFORM_PARAMETERS, dict)?),
            ),
        ]);
        n += db.insert1(WAVEFORM_PARAMETERS, row, opts)? as usize;
    }
    let row = Row::from_pairs([
        ("metric_param_name", Value::from(METRIC_DEFAULT.0)),
        (
            "metric_params",
            Value::from(lit(METRIC_PARAMETERS, METRIC_DEFAULT.1)?),
        ),
    ]);
    n += db.insert1(METRIC_PARAMETERS, row, opts)? as usize;
    for (name, labels, merges) in CURATION_DEFAULTS {
        let row = Row::from_pairs([
            ("metric_curation_param_name", Value::from(name)),
            (
                "label_params",
                Value::from(lit(CURATION_PARAMETERS, labels)?),
            ),
            (
                "merge_params",
                Value::from(lit(CURATION_PARAMETERS, merges)?),
            ),
        ]);
        n += db.insert1(CURATION_PARAMETERS, row, opts)? as usize;
    }
    Ok(n)
}

/// Spyglass's `MetricCurationSelection.insert_selection`: the id of the row selecting
/// `key` — the existing one, or a new row (uuid5 of the key).
pub fn insert_selection(db: &Db, key: &SelectionKey) -> Result<Uuid> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    let have: Vec<Selection> = db.rows(SELECTION, key)?;
    if let Some(r) = have.first() {
        return Ok(r.metric_curation_id);
    }
    db.row::<CurationRow>(
        cv::CURATION,
        &CurationKey {
            sorting_id: key.sorting_id,
            curation_id: key.curation_id,
        },
    )?;
    waveform_params(db, &key.waveform_param_name)?;
    metric_params(db, &key.metric_param_name)?;
    curation_params(db, &key.metric_curation_param_name)?;
    let id = content_id(
        SELECTION,
        &serde_json::to_value(key).map_err(|e| Error::internal(SELECTION, e.to_string()))?,
    );
    db.put(
        SELECTION,
        &Selection {
            metric_curation_id: id,
            key: key.clone(),
        },
    )?;
    Ok(id)
}

fn waveform_params(db: &Db, name: &str) -> Result<serde_json::Value> {
    #[derive(Deserialize)]
    struct P {
        waveform_params: serde_json::Value,
    }
    Ok(db
        .row::<P>(
            WAVEFORM_PARAMETERS,
            &serde_json::json!({ "waveform_param_name": name }),
        )?
        .waveform_params)
}

fn metric_params(db: &Db, name: &str) -> Result<serde_json::Value> {
    #[derive(Deserialize)]
    struct P {
        metric_params: serde_json::Value,
    }
    let p = db
        .row::<P>(
            METRIC_PARAMETERS,
            &serde_json::json!({ "metric_param_name": name }),
        )?
        .metric_params;
    parse_metric_params(&p)?;
    Ok(p)
}

fn curation_params(db: &Db, name: &str) -> Result<(serde_json::Value, serde_json::Value)> {
    #[derive(Deserialize)]
    struct P {
        label_params: serde_json::Value,
        merge_params: serde_json::Value,
    }
    let p = db.row::<P>(
        CURATION_PARAMETERS,
        &serde_json::json!({ "metric_curation_param_name": name }),
    )?;
    parse_label_rules(&p.label_params)?;
    Ok((p.label_params, p.merge_params))
}

fn num(v: &serde_json::Value, what: &str, key: &str, default: f64) -> Result<f64> {
    match v.get(key) {
        None | Some(serde_json::Value::Null) => Ok(default),
        Some(x) => x
            .as_f64()
            .ok_or_else(|| Error::bad(what.to_string(), format!("`{key}` is not a number: {x}"))),
    }
}

fn sign(v: &serde_json::Value, what: &str) -> Result<PeakSign> {
    match v.get("peak_sign") {
        None => Ok(PeakSign::Neg),
        Some(s) => PeakSign::parse(s.as_str().unwrap_or_default())
            .map_err(|e| Error::bad(what.to_string(), e.to_string())),
    }
}

/// A MetricParameters dict parsed: the metric names in order and the parameters.
pub fn parse_metric_params(p: &serde_json::Value) -> Result<(Vec<String>, MetricParams, PeakSign)> {
    let what = format!("{METRIC_PARAMETERS} metric_params");
    let map = p
        .as_object()
        .ok_or_else(|| Error::bad(what.clone(), format!("not a dict: {p}")))?;
    let mut mp = MetricParams::default();
    let mut peak_channel_sign = PeakSign::Neg;
    let names: Vec<String> = map.keys().cloned().collect();
    if let Some(n) = names.iter().find(|n| !METRICS.contains(&n.as_str())) {
        return Err(Error::bad(
            what,
            format!("unknown metric `{n}` (known: {})", METRICS.join(", ")),
        ));
    }
    let nonneg = |x: f64, k: &str| -> Result<usize> {
        if x.is_finite() && x >= 0.0 && x.fract() == 0.0 {
            Ok(x as usize)
        } else {
            Err(Error::bad(
                format!("{METRIC_PARAMETERS} metric_params"),
                format!("`{k}` must be a whole number ≥ 0, not {x}"),
            ))
        }
    };
    // a whole-number parameter `k` of dict `s`
    let count =
        |s: &serde_json::Value, k: &str, default: f64| nonneg(num(s, &what, k, default)?, k);
    if let Some(s) = map.get("snr") {
        mp.peak_sign = sign(s, &what)?;
        if let Some(c) = s.get("random_chunk_kwargs_dict") {
            mp.noise_num_chunks = count(c, "num_chunks_per_segment", 20.0)?;
            mp.noise_chunk_size = count(c, "chunk_size", 10_000.0)?;
            mp.noise_seed = count(c, "seed", 0.0)? as u64;
        }
    }
    if let Some(s) = map.get("isi_violation") {
        mp.isi_threshold_ms = num(s, &what, "isi_threshold_ms", 1.5)?;
        mp.min_isi_ms = num(s, &what, "min_isi_ms", 0.0)?;
    }
    for k in ["nn_isolation", "nn_noise_overlap"] {
        if let Some(s) = map.get(k) {
            let d = NnParams::default();
            mp.nn = NnParams {
                max_spikes: count(s, "max_spikes", d.max_spikes as f64)?,
                min_spikes: count(s, "min_spikes", d.min_spikes as f64)?,
                min_fr: num(s, &what, "min_fr", d.min_fr)?,
                n_neighbors: count(s, "n_neighbors", d.n_neighbors as f64)?,
                n_components: count(s, "n_components", d.n_components as f64)?,
                radius_um: num(s, &what, "radius_um", d.radius_um)?,
                min_spatial_overlap: num(s, &what, "min_spatial_overlap", d.min_spatial_overlap)?,
                seed: count(s, "seed", 0.0)? as u64,
            };
            if mp.nn.max_spikes == 0 || mp.nn.n_neighbors == 0 || mp.nn.n_components == 0 {
                return Err(Error::bad(
                    what,
                    format!("{k}: max_spikes, n_neighbors and n_components must be ≥ 1"),
                ));
            }
        }
    }
    if let Some(s) = map.get("peak_channel") {
        peak_channel_sign = sign(s, &what)?;
    }
    mp.pca_metrics = names
        .iter()
        .any(|n| n.starts_with("nn_") || n == "silhouette");
    mp.amplitude_cutoff = names.iter().any(|n| n == "amplitude_cutoff");
    Ok((names, mp, peak_channel_sign))
}

/// A label rule: `metric: [comparison, threshold, labels]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelRule {
    /// The metric compared.
    pub metric: String,
    /// `<`, `<=`, `>`, `>=` or `==`.
    pub comparison: String,
    /// The threshold.
    pub threshold: f64,
    /// Labels given when the comparison holds.
    pub labels: Vec<String>,
}

/// Parses MetricCurationParameters' `label_params`.
pub fn parse_label_rules(p: &serde_json::Value) -> Result<Vec<LabelRule>> {
    let what = format!("{CURATION_PARAMETERS} label_params");
    let map = p
        .as_object()
        .ok_or_else(|| Error::bad(what.clone(), format!("not a dict: {p}")))?;
    map.iter()
        .map(|(metric, c)| {
            let bad = |m: &str| {
                Error::bad(
                    what.clone(),
                    format!("`{metric}`: {m} (needs [comparison, threshold, labels]), got {c}"),
                )
            };
            let a = c
                .as_array()
                .filter(|a| a.len() == 3)
                .ok_or_else(|| bad("condition must be of length 3"))?;
            let comparison = a[0]
                .as_str()
                .filter(|s| ["<", "<=", ">", ">=", "=="].contains(s))
                .ok_or_else(|| bad("unknown comparison"))?;
            let threshold = a[1]
                .as_f64()
                .ok_or_else(|| bad("threshold is not a number"))?;
            let labels = a[2]
                .as_array()
                .and_then(|l| {
                    l.iter()
                        .map(|x| x.as_str().map(String::from))
                        .collect::<Option<Vec<_>>>()
                })
                .ok_or_else(|| bad("labels are not a list of text"))?;
            Ok(LabelRule {
                metric: metric.clone(),
                comparison: comparison.to_string(),
                threshold,
                labels,
            })
        })
        .collect()
}

/// Spyglass's `MetricCuration._compute_labels`: for each rule in order, the units whose
/// metric compares true with the threshold get its labels (NaN compares false; rules
/// on a metric not computed are skipped). Every unit has an entry (empty: no label).
pub fn compute_labels(
    metrics: &[(String, BTreeMap<i64, f64>)],
    rules: &[LabelRule],
) -> BTreeMap<i64, Vec<String>> {
    let Some((_, first)) = metrics.first() else {
        return BTreeMap::new();
    };
    if rules.is_empty() {
        return BTreeMap::new();
    }
    let mut labels: BTreeMap<i64, Vec<String>> = first.keys().map(|u| (*u, vec![])).collect();
    for r in rules {
        let Some((_, values)) = metrics.iter().find(|(n, _)| *n == r.metric) else {
            continue;
        };
        for (u, l) in labels.iter_mut() {
            let v = values.get(u).copied().unwrap_or(f64::NAN);
            let t = r.threshold;
            let hit = match r.comparison.as_str() {
                "<" => v < t,
                "<=" => v <= t,
                ">" => v > t,
                ">=" => v >= t,
                _ => v == t,
            };
            if hit {
                l.extend(r.labels.iter().cloned());
            }
        }
    }
    labels
}

/// The value of metric `name` of a unit.
fn metric_value(name: &str, m: &UnitMetrics, channel_ids: &[i64], peak_channel: usize) -> f64 {
    match name {
        "snr" => m.snr,
        "isi_violation" => m.isi_violation,
        "nn_isolation" => m.nn_isolation,
        "nn_noise_overlap" => m.nn_noise_overlap,
        "peak_offset" => m.peak_offset as f64,
        "peak_channel" => channel_ids.get(peak_channel).copied().unwrap_or(-1) as f64,
        "num_spikes" => m.num_spikes as f64,
        "firing_rate" => m.firing_rate,
        "presence_ratio" => m.presence_ratio,
        "amplitude_cutoff" => m.amplitude_cutoff,
        "silhouette" => m.silhouette,
        _ => m.isi_violations_ratio,
    }
}

/// What the make reads.
#[derive(Debug, Clone, Serialize)]
pub struct MetricCurationInputs {
    nwb_file_name: String,
    recording: rec::RecordingSource,
    units: Vec<(i64, Vec<f64>)>,
    waveform_params: serde_json::Value,
    metric_params: serde_json::Value,
    label_params: serde_json::Value,
    merge_params: serde_json::Value,
}

struct MetricCurationMake;

impl Make for MetricCurationMake {
    const TABLE: &'static str = METRIC_CURATION;
    type Key = MetricCurationKey;
    type Inputs = MetricCurationInputs;
    type Output = Written;

    fn fetch(&self, cx: &Cx, key: &MetricCurationKey) -> Result<MetricCurationInputs> {
        let sel: Selection = cx.db.row(SELECTION, key)?;
        let k = &sel.key;
        let ssel: SortingSelection = cx.db.row(
            ss::SELECTION,
            &SortingKey {
                sorting_id: k.sorting_id,
            },
        )?;
        let units = cv::get_sorting(
            cx.db,
            &CurationKey {
                sorting_id: k.sorting_id,
                curation_id: k.curation_id,
            },
        )?;
        let (label_params, merge_params) = curation_params(cx.db, &k.metric_curation_param_name)?;
        Ok(MetricCurationInputs {
            nwb_file_name: ssel.key.nwb_file_name.clone(),
            recording: rec::recording_source(cx.db, ssel.key.recording_id)?,
            units: units.into_iter().map(|u| (u.id, u.spike_times)).collect(),
            waveform_params: waveform_params(cx.db, &k.waveform_param_name)?,
            metric_params: metric_params(cx.db, &k.metric_param_name)?,
            label_params,
            merge_params,
        })
    }

    fn compute(
        &self,
        settings: &Settings,
        key: &MetricCurationKey,
        i: MetricCurationInputs,
    ) -> Result<Written> {
        let source = &i.recording;
        let recording = FilteredRecording::open(&source.raw_file, source.recipe.clone())?;
        let (names, metrics, waveform_mean, shape) =
            compute_metrics(&recording, source.hash.as_deref(), &i)?;
        let rules = parse_label_rules(&i.label_params)?;
        let labels = compute_labels(&metrics, &rules);
        let unit_ids: Vec<i64> = i.units.iter().map(|u| u.0).collect();
        let mut columns = vec![ColumnSpec {
            shape: Some(vec![unit_ids.len(), shape.0, shape.1]),
            ..ColumnSpec::f64(
                "waveform_mean",
                "the spike waveform mean for each spike unit",
                waveform_mean,
            )
        }];
        let label_values: Vec<Vec<String>> = unit_ids
            .iter()
            .map(|u| labels.get(u).cloned().unwrap_or_default())
            .collect();
        if label_values.iter().any(|l| !l.is_empty()) {
            columns.push(ColumnSpec::ragged_text(
                "curation_label",
                "curation label",
                label_values,
            ));
        }
        // merge rules name pairwise metrics, which none computes: no groups
        columns.push(ColumnSpec::ragged_text(
            "merge_groups",
            "merge groups",
            unit_ids.iter().map(|_| vec![String::new()]).collect(),
        ));
        for (name, values) in &metrics {
            let v: Vec<f64> = unit_ids.iter().map(|u| values[u]).collect();
            if ["num_spikes", "peak_channel", "peak_offset"].contains(&name.as_str()) {
                columns.push(ColumnSpec::i64(
                    name,
                    name,
                    v.iter().map(|x| *x as i64).collect(),
                ));
            } else {
                columns.push(ColumnSpec::f64(name, name, v));
            }
        }
        let _ = names;
        let spec = UnitsSpec {
            description: "Autogenerated by NWBFile".into(),
            ids: Some(unit_ids),
            spike_times: i.units.iter().map(|u| u.1.clone()).collect(),
            electrodes: None,
            resolution: None,
            columns,
        };
        let description = format!("MetricCuration {}", key.metric_curation_id);
        crate::kit::analysis_file(
            settings,
            &i.nwb_file_name,
            &source.raw_file,
            &description,
            |w| Ok(w.add_units(&spec)?),
        )
    }

    fn insert(&self, cx: &Cx, key: &MetricCurationKey, out: Written) -> Result<()> {
        cx.db
            .put_written(METRIC_CURATION, out, |analysis_file_name, object_id| {
                MetricCurationRow {
                    metric_curation_id: key.metric_curation_id,
                    analysis_file_name,
                    object_id,
                }
            })
    }
}

/// Sample index of each spike time: `searchsorted(timestamps, t)` (left), read in
/// blocks; times at or past the end are dropped (Spyglass's
/// `spike_times_to_valid_samples`). `times` ascending.
pub(crate) fn samples_of(recording: &FilteredRecording, times: &[f64]) -> Result<Vec<i64>> {
    const BLOCK: usize = 1 << 20;
    let n = recording.n_rows();
    let mut out = Vec::with_capacity(times.len());
    let mut a = 0usize;
    let mut i = 0usize;
    while i < times.len() && a < n {
        let b = (a + BLOCK).min(n);
        let ts = recording.timestamps(a..b)?;
        let last = ts[ts.len() - 1];
        while i < times.len() && (times[i] <= last) {
            out.push((a + ts.partition_point(|&x| x < times[i])) as i64);
            i += 1;
        }
        a = b;
    }
    Ok(out)
}

type Computed = (
    Vec<String>,
    Vec<(String, BTreeMap<i64, f64>)>,
    Vec<f64>,
    (usize, usize),
);

/// The metrics of the inputs' units on the recording (see the module doc).
fn compute_metrics(
    recording: &FilteredRecording,
    hash: Option<&str>,
    i: &MetricCurationInputs,
) -> Result<Computed> {
    let what = |s: &str| format!("{METRIC_CURATION} ({s})");
    recording.stream(hash, |_, _| Ok(()))?;
    let raw = ss::Source::new(recording, vec![])?;
    let locations = recording.recipe().locations.clone().ok_or_else(|| {
        Error::bad(
            what("channel locations"),
            format!(
                "no contact positions for electrodes {:?}",
                recording.recipe().channel_ids
            ),
        )
    })?;
    let wp = &i.waveform_params;
    let wname = format!("{WAVEFORM_PARAMETERS} waveform_params");
    let max = match wp.get("max_spikes_per_unit") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .ok_or_else(|| Error::bad(wname.clone(), format!("max_spikes_per_unit {v}")))?
                as usize,
        ),
    };
    let params = WaveformParams {
        ms_before: num(wp, &wname, "ms_before", 0.5)?,
        ms_after: num(wp, &wname, "ms_after", 0.5)?,
        max_spikes_per_unit: max,
        seed: 0,
        chunk_samples: 0,
    };
    let whiten = wp.get("whiten").and_then(|v| v.as_bool()).unwrap_or(false);
    let (names, mp, pc_sign) = parse_metric_params(&i.metric_params)?;
    let mut trains = Vec::with_capacity(i.units.len());
    for (id, times) in &i.units {
        let mut t = times.clone();
        t.sort_by(f64::total_cmp);
        let s = samples_of(recording, &t)?;
        let _ = id;
        trains.push(s);
    }
    let m = |e: spyglass_metrics::SortError| Error::bad(what("metrics"), e.to_string());
    let n = raw.num_samples();
    let white;
    let src: &dyn ChunkSource = if whiten {
        let size = 10_000.min(n);
        let starts = random_chunk_starts(n, size, 20, 0).map_err(m)?;
        let w = whitening_matrix(&raw, &starts, size, None).map_err(m)?;
        white = Whitened::new(&raw, w).map_err(m)?;
        &white
    } else {
        &raw
    };
    let wf = extract_waveforms(src, &trains, &params).map_err(m)?;
    let tpl = templates(&wf);
    let size = mp.noise_chunk_size.min(n);
    let starts = random_chunk_starts(n, size, mp.noise_num_chunks, mp.noise_seed).map_err(m)?;
    let noise = noise_levels(src, &starts, size).map_err(m)?;
    let nn_starts = if mp.pca_metrics {
        random_chunk_starts(n, wf.num_samples(), mp.nn.max_spikes, mp.nn.seed).map_err(m)?
    } else {
        vec![]
    };
    let seed = mp.nn.seed;
    let q = compute_from_parts(
        src,
        &trains,
        &locations,
        &wf,
        tpl,
        noise,
        &nn_starts,
        &mp,
        &move |u, metric| {
            let stream = if metric == spyglass_metrics::metrics::NN_ISOLATION {
                2 * u
            } else {
                2 * u + 1
            };
            Box::new(spyglass_metrics::metrics::seeded_chooser(seed, stream))
        },
    )
    .map_err(m)?;
    if let Some(e) = raw.error() {
        return Err(e);
    }
    let peak = q.templates.main_channels(pc_sign);
    let channel_ids = &recording.recipe().channel_ids;
    let metrics: Vec<(String, BTreeMap<i64, f64>)> = names
        .iter()
        .map(|name| {
            let vals = i
                .units
                .iter()
                .zip(&q.units)
                .enumerate()
                .map(|(k, ((id, _), um))| (*id, metric_value(name, um, channel_ids, peak[k])))
                .collect();
            (name.clone(), vals)
        })
        .collect();
    let mean: Vec<f64> = q
        .templates
        .average
        .iter()
        .flatten()
        .map(|x| *x as f64)
        .collect();
    Ok((
        names,
        metrics,
        mean,
        (q.templates.num_samples, q.templates.num_channels),
    ))
}

/// The metrics of a MetricCuration, read from its file: (name, value per unit id), in
/// the MetricParameters order (Spyglass's `get_metrics`).
pub fn get_metrics(db: &Db, key: &MetricCurationKey) -> Result<Vec<(String, BTreeMap<i64, f64>)>> {
    let row: MetricCurationRow = db.row(METRIC_CURATION, key)?;
    let sel: Selection = db.row(SELECTION, key)?;
    let (names, _, _) = parse_metric_params(&metric_params(db, &sel.key.metric_param_name)?)?;
    let path = crate::analysis::analysis_file_path(db, &row.analysis_file_name)?;
    let bad = |e: String| Error::bad(path.display().to_string(), e);
    let file = spyglass_nwb::NwbFile::open(&path).map_err(|e| bad(e.to_string()))?;
    let t = file
        .units()
        .map_err(|e| bad(e.to_string()))?
        .ok_or_else(|| bad("no units table".into()))?;
    let ids = t.ids.clone();
    names
        .into_iter()
        .map(|n| {
            let v: Vec<f64> = match t.f64_column(&n) {
                Ok(v) => v,
                Err(_) => t
                    .i64_column(&n)
                    .map_err(|e| bad(e.to_string()))?
                    .into_iter()
                    .map(|x| x as f64)
                    .collect(),
            };
            Ok((n, ids.iter().copied().zip(v).collect()))
        })
        .collect()
}

/// The labels of a MetricCuration (Spyglass's `get_labels`): unit id → labels, only
/// labelled units.
pub fn get_labels(db: &Db, key: &MetricCurationKey) -> Result<BTreeMap<i64, Vec<String>>> {
    let row: MetricCurationRow = db.row(METRIC_CURATION, key)?;
    Ok(cv::read_units(db, &row.analysis_file_name, &row.object_id)?
        .into_iter()
        .filter(|u| !u.labels.is_empty())
        .map(|u| (u.id, u.labels))
        .collect())
}

/// The merge groups of a MetricCuration (Spyglass's `get_merge_groups`).
pub fn get_merge_groups(db: &Db, key: &MetricCurationKey) -> Result<Vec<Vec<i64>>> {
    let row: MetricCurationRow = db.row(METRIC_CURATION, key)?;
    let mut groups: Vec<Vec<i64>> = vec![];
    for u in cv::read_units(db, &row.analysis_file_name, &row.object_id)? {
        if u.merge_group.is_empty() {
            continue;
        }
        let mut g = vec![u.id];
        g.extend(u.merge_group.iter().filter_map(|s| s.parse::<i64>().ok()));
        g.sort_unstable();
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    Ok(groups)
}

/// Spyglass's `CurationV1.insert_metric_curation`: a new CurationV1 of the selected
/// sorting whose parent is the selected curation, with the MetricCuration's labels
/// and merge groups (none → no column), described `metric_curation_id: <id>`.
pub fn insert_metric_curation(
    db: &Db,
    settings: &Settings,
    key: &MetricCurationKey,
    apply_merge: bool,
) -> Result<CurationRow> {
    let sel: Selection = db.row(SELECTION, key)?;
    let labels = get_labels(db, key)?;
    let groups = get_merge_groups(db, key)?;
    let input = CurationInput {
        parent_curation_id: sel.key.curation_id,
        labels: (!labels.is_empty()).then_some(labels),
        merge_groups: (!groups.is_empty()).then_some(groups),
        apply_merge,
        metrics: None,
        description: format!("metric_curation_id: {}", key.metric_curation_id),
    };
    cv::insert_curation(db, settings, sel.key.sorting_id, &input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rows_parse() {
        let p: serde_json::Value = py_literal(METRIC_DEFAULT.1).unwrap().to_json();
        let (names, mp, _) = parse_metric_params(&p).unwrap();
        assert_eq!(
            names,
            [
                "snr",
                "isi_violation",
                "nn_isolation",
                "nn_noise_overlap",
                "peak_channel",
                "num_spikes"
            ]
        );
        assert_eq!(
            (mp.nn.n_components, mp.nn.n_neighbors, mp.noise_chunk_size),
            (7, 5, 10_000)
        );
        let rules =
            parse_label_rules(&py_literal(CURATION_DEFAULTS[0].1).unwrap().to_json()).unwrap();
        let metrics = vec![(
            "nn_noise_overlap".to_string(),
            BTreeMap::from([(0, 0.05), (1, 0.2), (2, f64::NAN)]),
        )];
        let l = compute_labels(&metrics, &rules);
        assert_eq!(l[&1], ["noise", "reject"]);
        assert!(l[&0].is_empty() && l[&2].is_empty());
    }
}
