//! `spikesorting_v1_artifact`: artifact detection on a spike-sorting recording, as
//! Spyglass 0.6's `spikesorting/v1/artifact.py` declares and computes it.
//!
//! `ArtifactDetectionParameters` holds Spyglass's `default` and `none` rows, blob
//! for blob; `ArtifactDetectionSelection` pairs a SpikeSortingRecording with one
//! under a uuid derived (uuid5) from the pair and the parameters' dict, as the
//! recording ids are ([`insert_selection`] returns an existing id);
//! `ArtifactDetection`'s make writes the artifact-free valid times to IntervalList
//! under the artifact id, pipeline `spikesorting_artifact_v1`.
//!
//! The detector is Spyglass's `_get_artifact_times`: a frame is an artifact when at
//! least `ceil(proportion_above_thresh × channels)` channels have |x| above
//! `amplitude_thresh_uV`, or |z| above `zscore_thresh` with z the z-score across the
//! channels at that frame (Spyglass's choice), or either when both are set; runs
//! of artifact frames become `[t_first − w/2, min(t_last + w/2, t_end)]` with `w`
//! the removal window, overlapping ones merged; the valid times are the selection's
//! sort interval minus them, pieces longer than 1 s. With both thresholds unset, or
//! no artifact found, the valid times are the recording's first to last timestamp.
//! The recording streams chunk by chunk (the rule is per frame, so chunking does not
//! change the result).
//!
//! Divergences: thresholds apply to microvolts (Spyglass applies
//! `amplitude_thresh_uV` to the processed series' stored values, which are µV only
//! when the raw conversion is 1e-6); an artifact reaching from one sort-interval
//! piece into the next is removed from both (Spyglass's `subtract` skips it in the
//! second).

use super::recording_v1::{self as rec, content_id, RecordingKey, RecordingSelection};
use crate::common::common_interval as iv;
use crate::kit::prelude::*;
use uuid::Uuid;

/// Schema name.
pub const SCHEMA: &str = "spikesorting_v1_artifact";
/// `ArtifactDetectionParameters` (Lookup).
pub const PARAMETERS: &str = "spikesorting_v1_artifact.ArtifactDetectionParameters";
/// `ArtifactDetectionSelection` (Manual).
pub const SELECTION: &str = "spikesorting_v1_artifact.ArtifactDetectionSelection";
/// `ArtifactDetection` (Computed).
pub const DETECTION: &str = "spikesorting_v1_artifact.ArtifactDetection";
/// The `pipeline` of the IntervalList rows it records.
pub const PIPELINE: &str = "spikesorting_artifact_v1";

/// Spyglass's default parameter sets, as JSON of the dicts it inserts.
pub const DEFAULTS: [(&str, &str); 2] = [
    (
        "default",
        r#"{"zscore_thresh": null, "amplitude_thresh_uV": 3000, "proportion_above_thresh": 1.0, "removal_window_ms": 1.0, "chunk_duration": "10s", "n_jobs": 4, "progress_bar": "True"}"#,
    ),
    (
        "none",
        r#"{"zscore_thresh": null, "amplitude_thresh_uV": null, "chunk_duration": "10s", "n_jobs": 4, "progress_bar": "True"}"#,
    ),
];

dict_params! {
    /// The parameter table: Spyglass's default sets, checked as the make reads them.
    pub static PARAMETER_SETS = PARAMETERS, "artifact_param_name" => "artifact_params", &DEFAULTS, parse_params;
}

/// The detector's parameters (Spyglass's keyword defaults for absent ones).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ArtifactParams {
    /// Threshold on |z| across channels, or none.
    #[serde(default)]
    pub zscore_thresh: Option<f64>,
    /// Threshold on |x|, µV, or none.
    #[serde(default, rename = "amplitude_thresh_uV")]
    pub amplitude_thresh_uv: Option<f64>,
    /// Proportion of channels that must cross.
    #[serde(default = "one")]
    pub proportion_above_thresh: f64,
    /// Width of the window removed around each artifact, ms.
    #[serde(default = "one")]
    pub removal_window_ms: f64,
}

fn one() -> f64 {
    1.0
}

/// An ArtifactDetectionSelection row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactSelection {
    /// The id.
    pub artifact_id: Uuid,
    /// The recording.
    pub recording_id: Uuid,
    /// The parameters.
    pub artifact_param_name: String,
}

/// The key of ArtifactDetection.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ArtifactKey {
    /// The selection.
    pub artifact_id: Uuid,
}

/// The `spikesorting_v1_artifact` pipeline.
pub struct SpikeSortingArtifactV1;

impl Pipeline for SpikeSortingArtifactV1 {
    identity!(SCHEMA, family "sorting", requires [rec::SCHEMA]);
    provides! {
        makers: DETECTION => DetectionMake;
        defaults: &PARAMETER_SETS;
        commands: Command;
    }
    fn tables(&self) -> Vec<TableSpec> {
        let params = "# Parameters for detecting artifacts (non-neural high amplitude events).
artifact_param_name : varchar(200)
---
artifact_params : blob";
        let selection =
            "# Processed recording/artifact detection parameters. See `insert_selection`.
artifact_id : uuid
---
-> spikesorting_v1_recording.SpikeSortingRecording
-> ArtifactDetectionParameters";
        let detection = "# Detected artifacts (e.g. large transients from movement).
# Intervals are stored in IntervalList with `artifact_id` as `interval_list_name`.
-> ArtifactDetectionSelection";
        vec![
            TableSpec::new("ArtifactDetectionParameters", Tier::Lookup, params),
            TableSpec::new("ArtifactDetectionSelection", Tier::Manual, selection),
            TableSpec::new("ArtifactDetection", Tier::Computed, detection),
        ]
    }
    fn run(&self, sg: &Spyglass, _name: &str, m: &clap::ArgMatches) -> Result<()> {
        sg.require(SCHEMA)?;
        let Command::Artifact(c) = args::parse(m)?;
        match c {
            ArtifactCommand::Select(a) => {
                let recording_id: Uuid = a.recording_id.parse().map_err(|e| {
                    Error::bad("recording_id", format!("`{}`: {e}", a.recording_id))
                })?;
                let id = insert_selection(sg, recording_id, &a.params)?;
                println!(
                    "ArtifactDetectionSelection {id}: recording {recording_id}, parameters `{}`",
                    a.params
                );
                args::next_populate(DETECTION, &[("artifact_id", &id)]);
            }
            ArtifactCommand::Params(p) => PARAMETER_SETS.run(sg, &p, ParamsArgs::dict)?,
        }
        Ok(())
    }
}

/// `spyglass sorting artifact …`.
#[derive(clap::Subcommand)]
enum Command {
    /// Artifact detection on recordings (ArtifactDetectionSelection, parameters).
    #[command(subcommand)]
    Artifact(ArtifactCommand),
}

#[derive(clap::Subcommand)]
enum ArtifactCommand {
    /// Select a recording and parameters (insert_selection).
    Select(SelectArgs),
    /// ArtifactDetectionParameters: list or add.
    #[command(subcommand)]
    Params(args::ParamsCommand<ParamsArgs>),
}

#[derive(clap::Args)]
struct SelectArgs {
    /// The SpikeSortingRecording's recording_id.
    recording_id: String,
    /// ArtifactDetectionParameters name.
    #[arg(long, default_value = "default")]
    params: String,
}

#[derive(clap::Args)]
struct ParamsArgs {
    /// Threshold on |x|, µV.
    #[arg(long = "amplitude-thresh-uv")]
    amplitude_thresh_uv: Option<f64>,
    /// Threshold on |z| across channels.
    #[arg(long)]
    zscore_thresh: Option<f64>,
    /// Proportion of channels that must cross.
    #[arg(long, default_value_t = 1.0)]
    proportion_above_thresh: f64,
    /// Window removed around each artifact, ms.
    #[arg(long, default_value_t = 1.0)]
    removal_window_ms: f64,
}

impl ParamsArgs {
    /// The dict Spyglass stores: the options given, with its job settings.
    fn dict(&self) -> serde_json::Value {
        serde_json::json!({
            "zscore_thresh": self.zscore_thresh,
            "amplitude_thresh_uV": self.amplitude_thresh_uv,
            "proportion_above_thresh": self.proportion_above_thresh,
            "removal_window_ms": self.removal_window_ms,
            "chunk_duration": "10s",
            "n_jobs": 4,
            "progress_bar": "True",
        })
    }
}

/// The parameters of a dict, checked as Spyglass's `_check_artifact_thresholds`:
/// negative thresholds are an error; a proportion below 0 becomes 0.01, above 1 becomes 1.
pub fn parse_params(name: &str, dict: &serde_json::Value) -> Result<ArtifactParams> {
    let what = || format!("{PARAMETERS} `{name}`");
    let mut p: ArtifactParams =
        serde_json::from_value(dict.clone()).map_err(|e| Error::bad(what(), e.to_string()))?;
    for t in [p.amplitude_thresh_uv, p.zscore_thresh]
        .into_iter()
        .flatten()
    {
        if t < 0.0 || t.is_nan() {
            return Err(Error::bad(
                what(),
                "Amplitude and Z-Score thresholds must be >= 0, or None",
            ));
        }
    }
    if p.removal_window_ms < 0.0
        || p.removal_window_ms.is_nan()
        || p.proportion_above_thresh.is_nan()
    {
        return Err(Error::bad(
            what(),
            "removal_window_ms must be >= 0 and proportion_above_thresh a number",
        ));
    }
    p.proportion_above_thresh = if p.proportion_above_thresh < 0.0 {
        0.01
    } else {
        p.proportion_above_thresh.min(1.0)
    };
    Ok(p)
}

/// Spyglass's `ArtifactDetectionSelection.insert_selection`: the id of the row
/// pairing recording `recording_id` with parameters `artifact_param_name` — the
/// existing one, or a new row whose id is derived from the pair and the parameters.
pub fn insert_selection(db: &Db, recording_id: Uuid, artifact_param_name: &str) -> Result<Uuid> {
    crate::pipelines::declare(db, &[SCHEMA])?;
    let key = serde_json::json!({"recording_id": recording_id, "artifact_param_name": artifact_param_name});
    let have: Vec<ArtifactSelection> = db.rows(SELECTION, &key)?;
    if let Some(r) = have.first() {
        return Ok(r.artifact_id);
    }
    db.row::<rec::RecordingRow>(rec::RECORDING, &RecordingKey { recording_id })?;
    let params = params_dict(db, artifact_param_name)?;
    let artifact_id = content_id(
        SELECTION,
        &serde_json::json!({"selection": key, "artifact_params": params}),
    );
    let row = ArtifactSelection {
        artifact_id,
        recording_id,
        artifact_param_name: artifact_param_name.to_string(),
    };
    db.put(SELECTION, &row)?;
    Ok(artifact_id)
}

fn params_dict(db: &Db, name: &str) -> Result<serde_json::Value> {
    #[derive(Deserialize)]
    struct P {
        artifact_params: serde_json::Value,
    }
    Ok(db
        .row::<P>(
            PARAMETERS,
            &serde_json::json!({"artifact_param_name": name}),
        )?
        .artifact_params)
}

/// What the make reads.
#[derive(Debug, Clone, Serialize)]
pub struct DetectionInputs {
    /// The session.
    pub nwb_file_name: String,
    /// The recording.
    pub recording: rec::RecordingSource,
    /// The parameters.
    pub params: ArtifactParams,
    /// The recording selection's sort interval.
    pub sort_interval: Vec<[f64; 2]>,
}

struct DetectionMake;

impl Make for DetectionMake {
    const TABLE: &'static str = DETECTION;
    type Key = ArtifactKey;
    type Inputs = DetectionInputs;
    type Output = (String, Vec<[f64; 2]>);

    fn fetch(&self, cx: &Cx, key: &ArtifactKey) -> Result<DetectionInputs> {
        let sel: ArtifactSelection = cx.db.row(SELECTION, key)?;
        let dict = params_dict(cx.db, &sel.artifact_param_name)?;
        let params = parse_params(&sel.artifact_param_name, &dict)?;
        let recording_key = RecordingKey {
            recording_id: sel.recording_id,
        };
        let rs: RecordingSelection = cx.db.row(rec::RECORDING_SELECTION, &recording_key)?;
        let sort = iv::fetch_list(cx.db, &rs.key.nwb_file_name, &rs.key.interval_list_name)?;
        Ok(DetectionInputs {
            nwb_file_name: rs.key.nwb_file_name,
            recording: rec::recording_source(cx.db, sel.recording_id)?,
            params,
            sort_interval: sort.valid_times,
        })
    }

    fn compute(&self, _: &Settings, _: &ArtifactKey, i: DetectionInputs) -> Result<Self::Output> {
        let source = i.recording;
        let recording = super::recompute::FilteredRecording::open(&source.raw_file, source.recipe)?;
        let valid = artifact_removed_valid_times(
            &recording,
            source.hash.as_deref(),
            &i.params,
            &i.sort_interval,
        )?;
        Ok((i.nwb_file_name, valid))
    }

    fn insert(&self, cx: &Cx, key: &ArtifactKey, out: Self::Output) -> Result<()> {
        let (nwb, valid) = out;
        let list = iv::IntervalList::new(&nwb, &key.artifact_id.to_string(), valid)
            .with_pipeline(PIPELINE);
        iv::insert(cx.db, &list, false)?;
        cx.db.put(DETECTION, key)?;
        Ok(())
    }
}

/// Artifact frames of a streamed recording as runs `[first, last]` (Spyglass's
/// `_compute_artifact_chunk` then `Interval.from_inds`).
pub struct ArtifactRuns {
    params: ArtifactParams,
    need: usize,
    nc: usize,
    /// The runs found so far.
    pub runs: Vec<[usize; 2]>,
}

impl ArtifactRuns {
    /// A detector for `nc` channels.
    pub fn new(params: ArtifactParams, nc: usize) -> ArtifactRuns {
        let need = (params.proportion_above_thresh * nc as f64).ceil() as usize;
        ArtifactRuns {
            params,
            need,
            nc,
            runs: vec![],
        }
    }

    /// Adds a time-major block starting at frame `row0`.
    pub fn push(&mut self, row0: usize, block: &[f64]) {
        for (t, row) in block.chunks_exact(self.nc).enumerate() {
            if self.is_artifact(row) {
                let f = row0 + t;
                match self.runs.last_mut() {
                    Some(last) if last[1] + 1 == f => last[1] = f,
                    _ => self.runs.push([f, f]),
                }
            }
        }
    }

    fn is_artifact(&self, row: &[f64]) -> bool {
        let n = row.len() as f64;
        let z = self.params.zscore_thresh.map(|zt| {
            let mean = row.iter().sum::<f64>() / n;
            let sd = (row.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt();
            (mean, sd, zt)
        });
        let count = row
            .iter()
            .filter(|&&x| {
                let a = self.params.amplitude_thresh_uv.is_some_and(|a| x.abs() > a);
                let zz = z.is_some_and(|(m, sd, zt)| ((x - m) / sd).abs() > zt);
                a || zz
            })
            .count();
        count >= self.need
    }
}

/// Spyglass's `add_removal_window` on runs of frames: `[t(first) − w/2,
/// min(t(last) + w/2, t_end)]`, overlapping neighbours merged (touching ones not).
pub fn removal_windows(
    runs: &[[usize; 2]],
    t: impl Fn(usize) -> Result<f64>,
    t_end: f64,
    window_ms: f64,
) -> Result<Vec<[f64; 2]>> {
    let half = window_ms / 1000.0 * 0.5;
    let mut out: Vec<[f64; 2]> = vec![];
    for &[a, b] in runs {
        let iv = [t(a)? - half, (t(b)? + half).min(t_end)];
        match out.last_mut() {
            Some(last) if last[1].min(iv[1]) > last[0].max(iv[0]) => {
                *last = [last[0].min(iv[0]), last[1].max(iv[1])];
            }
            _ => out.push(iv),
        }
    }
    Ok(out)
}

/// Spyglass's `Interval.subtract` (zero-length subtrahends split a piece in two),
/// except that an interval of `b` reaching into the next interval of `a` is
/// subtracted from it too; then pieces with `min_length < length < 1e10`.
pub fn subtract(a: &[[f64; 2]], b: &[[f64; 2]], min_length: f64) -> Vec<[f64; 2]> {
    let mut out = vec![];
    let mut j = 0;
    for &[s1, e1] in a {
        while j < b.len() && b[j][1] <= s1 {
            j += 1;
        }
        let mut cur = s1;
        let mut k = j;
        while k < b.len() && b[k][0] < e1 {
            let [s2, e2] = b[k];
            if cur < s2 {
                out.push([cur, s2.min(e1)]);
            }
            cur = cur.max(e2);
            k += 1;
        }
        if cur < e1 {
            out.push([cur, e1]);
        }
        j = k.saturating_sub(1).max(j);
    }
    out.retain(|[s, e]| e - s > min_length && e - s < 1e10);
    out
}

/// Detects artifacts on a recording (see the module doc); returns the valid times.
pub fn artifact_removed_valid_times(
    recording: &super::recompute::FilteredRecording,
    expected_hash: Option<&str>,
    params: &ArtifactParams,
    sort_interval: &[[f64; 2]],
) -> Result<Vec<[f64; 2]>> {
    let n = recording.n_rows();
    let t = |i: usize| -> Result<f64> { Ok(recording.timestamps(i..i + 1)?[0]) };
    let span = vec![[t(0)?, t(n - 1)?]];
    if params.amplitude_thresh_uv.is_none() && params.zscore_thresh.is_none() {
        return Ok(span);
    }
    let mut det = ArtifactRuns::new(*params, recording.n_channels());
    recording.stream(expected_hash, |row0, block| {
        det.push(row0, block);
        Ok(())
    })?;
    if det.runs.is_empty() {
        return Ok(span);
    }
    let windows = removal_windows(&det.runs, t, span[0][1], params.removal_window_ms)?;
    let mut sort = sort_interval.to_vec();
    sort.sort_by(|x, y| x[0].total_cmp(&y[0]).then(x[1].total_cmp(&y[1])));
    sort.dedup();
    let valid = subtract(&sort, &windows, 1.0);
    // union_consolidate: merge overlapping neighbours
    let mut out: Vec<[f64; 2]> = vec![];
    for iv in valid {
        match out.last_mut() {
            Some(last) if last[1].min(iv[1]) > last[0].max(iv[0]) => {
                *last = [last[0].min(iv[0]), last[1].max(iv[1])]
            }
            _ => out.push(iv),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hand-derived from Spyglass's documented example.
    #[test]
    fn subtract_as_spyglass_documents() {
        let a = [[0.0, 5.0], [8.0, 10.0]];
        let b = [[1.0, 2.0], [3.0, 4.0], [6.0, 9.0]];
        assert_eq!(
            subtract(&a, &b, 0.0),
            vec![[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [9.0, 10.0]]
        );
        // reaching into the next piece
        assert_eq!(
            subtract(&[[0.0, 5.0], [6.0, 10.0]], &[[4.0, 7.0]], 0.0),
            vec![[0.0, 4.0], [7.0, 10.0]]
        );
        // a zero-length subtrahend splits
        assert_eq!(
            subtract(&[[0.0, 5.0]], &[[2.0, 2.0]], 0.0),
            vec![[0.0, 2.0], [2.0, 5.0]]
        );
    }

    #[test]
    fn frames_runs_and_windows() {
        let p = ArtifactParams {
            zscore_thresh: None,
            amplitude_thresh_uv: Some(10.0),
            proportion_above_thresh: 0.5,
            removal_window_ms: 2.0,
        };
        let mut d = ArtifactRuns::new(p, 2);
        // rows: [0,0] [11,0] [0,-12] [0,0] [20,20]; need ceil(0.5·2) = 1 channel
        d.push(0, &[0.0, 0.0, 11.0, 0.0, 0.0, -12.0]);
        d.push(3, &[0.0, 0.0, 20.0, 20.0]);
        assert_eq!(d.runs, vec![[1, 2], [4, 4]]);
        // frame i at i seconds; a 2 s window: [1−1, 2+1] and [4−1, min(4+1, 4.5)] touch
        // and stay apart (Spyglass merges overlaps only)
        let t = |i: usize| Ok(i as f64);
        assert_eq!(
            removal_windows(&d.runs, t, 4.5, 2000.0).unwrap(),
            vec![[0.0, 3.0], [3.0, 4.5]]
        );
        // a 3 s window: [−0.5, 3.5] and [2.5, 4.5] overlap → merged
        assert_eq!(
            removal_windows(&d.runs, t, 4.5, 3000.0).unwrap(),
            vec![[-0.5, 4.5]]
        );
    }
}
