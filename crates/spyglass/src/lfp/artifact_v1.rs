//! LFP artifact detection (`lfp_v1`'s LFPArtifactDetection tables, as Spyglass's
//! `lfp/v1/lfp_artifact.py` declares them in the `lfp_v1` schema).
//!
//! `LFPArtifactDetectionParameters` holds named parameter dicts (Spyglass's four
//! defaults); `LFPArtifactDetectionSelection` pairs an LFPV1 row with one. The make
//! reads the LFP's stored values (as Spyglass reads `lfp_eseries.data`, before any
//! conversion), detects artifacts, and records the artifact times and the
//! artifact-free valid times in LFPArtifactDetection, LFPArtifactRemovedIntervalList
//! and IntervalList (under a new UUID name).
//!
//! The detector is Spyglass's median-absolute-deviation detector
//! (`mad_artifact_detector`): per channel, |x − median| / MAD (MAD scaled to a
//! normal σ, 1 where it is ≈ 0 or not finite); a sample is an artifact when more
//! than `proportion_above_thresh` of the channels exceed `mad_thresh`; each artifact
//! run grows by `int(removal_window_ms / 1000 · 0.5 · rate)` samples on each side;
//! runs become `[t_first, t_last]` intervals. Parameters naming the `difference`
//! detector are refused with an error naming them.

use super::v1::{LfpKey, LfpV1Row, LFPV1};
use crate::common::common_interval::{self as iv, IntervalList};
use crate::kit::prelude::*;

/// Schema name (Spyglass declares these tables in `lfp_v1`).
pub const SCHEMA: &str = "lfp_v1";
/// `LFPArtifactDetectionParameters` (Manual).
pub const PARAMETERS: &str = "lfp_v1.LFPArtifactDetectionParameters";
/// `LFPArtifactDetectionSelection` (Manual).
pub const SELECTION: &str = "lfp_v1.LFPArtifactDetectionSelection";
/// `LFPArtifactDetection` (Computed).
pub const DETECTION: &str = "lfp_v1.LFPArtifactDetection";
/// `LFPArtifactRemovedIntervalList` (Manual).
pub const REMOVED: &str = "lfp_v1.LFPArtifactRemovedIntervalList";
/// The `pipeline` of the IntervalList rows it records (Spyglass's full table name).
pub const PIPELINE: &str = "`lfp_v1`.`__l_f_p_artifact_detection`";

/// Spyglass's default parameter sets, as JSON of the dicts it inserts (ints stay
/// ints, floats floats, so the blobs equal datajoint-python's).
const DEFAULTS: [(&str, &str); 4] = [
    (
        "default_difference",
        r#"{"artifact_detection_algorithm": "difference", "artifact_detection_algorithm_params": {"amplitude_thresh_1st": 500, "proportion_above_thresh_1st": 0.1, "amplitude_thresh_2nd": 1000, "proportion_above_thresh_2nd": 0.05, "removal_window_ms": 10.0, "local_window_ms": 40.0}}"#,
    ),
    (
        "default_difference_ref",
        r#"{"artifact_detection_algorithm": "difference", "artifact_detection_algorithm_params": {"amplitude_thresh_1st": 500, "proportion_above_thresh_1st": 0.1, "amplitude_thresh_2nd": 1000, "proportion_above_thresh_2nd": 0.05, "removal_window_ms": 10.0, "local_window_ms": 40.0}, "referencing": {"ref_on": 1, "reference_list": [0, 0, 0, 0, 0], "electrode_list": [0, 0]}}"#,
    ),
    (
        "none",
        r#"{"artifact_detection_algorithm": "difference", "artifact_detection_algorithm_params": {"amplitude_thresh_1st": null, "proportion_above_thresh_1st": null, "amplitude_thresh_2nd": null, "proportion_above_thresh_2nd": null, "removal_window_ms": null, "local_window_ms": null}}"#,
    ),
    (
        "default_mad",
        r#"{"artifact_detection_algorithm": "mad", "artifact_detection_algorithm_params": {"mad_thresh": 6.0, "proportion_above_thresh": 0.1, "removal_window_ms": 10.0}}"#,
    ),
];

/// LFPArtifactDetectionParameters: Spyglass's default sets (the make checks the
/// detector when it reads one: only `mad` is computed here).
pub static PARAMETER_SETS: DictParams = DictParams {
    table: PARAMETERS,
    name_attr: "artifact_params_name",
    dict_attr: "artifact_params",
    defaults: &DEFAULTS,
    check: |_, _| Ok(()),
};

/// The key of LFPArtifactDetectionSelection and LFPArtifactDetection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactKey {
    /// The LFP.
    #[serde(flatten)]
    pub lfp: LfpKey,
    /// The parameter set.
    pub artifact_params_name: String,
}

/// The MAD detector's parameters (Spyglass's keyword defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MadParams {
    /// Threshold on |x − median| / MAD.
    #[serde(default = "MadParams::thresh")]
    pub mad_thresh: f64,
    /// A sample is an artifact when more than this proportion of channels exceed it.
    #[serde(default = "MadParams::proportion")]
    pub proportion_above_thresh: f64,
    /// Width of the window masked around each artifact run, ms.
    #[serde(default = "MadParams::window")]
    pub removal_window_ms: f64,
}

impl MadParams {
    fn thresh() -> f64 {
        6.0
    }
    fn proportion() -> f64 {
        0.1
    }
    fn window() -> f64 {
        10.0
    }
}

/// The LFP artifact detection pipeline.
pub struct LfpArtifactV1;

impl Pipeline for LfpArtifactV1 {
    identity!("lfp_artifact_v1", family "lfp", requires ["lfp_v1"]);
    provides! {
        makers: DETECTION => DetectionMake;
        defaults: &PARAMETER_SETS;
        commands: args::Select<SelectArgs> as "artifact" => "LFP artifact detection (LFPArtifactDetectionSelection)";
    }
    fn schemas(&self) -> Vec<Schema> {
        let params = "# Parameters for detecting LFP artifact times within a LFP group.
artifact_params_name: varchar(64)
---
artifact_params: blob  # dictionary of parameters";
        let selection = "# Artifact detection parameters to apply to a sort group's recording.
-> LFPV1
-> LFPArtifactDetectionParameters
---";
        let detection = "# Stores artifact times and valid no-artifact times as intervals.
-> LFPArtifactDetectionSelection
---
artifact_times: longblob # np array of artifact intervals
artifact_removed_valid_times: longblob # np array of no-artifact intervals
artifact_removed_interval_list_name: varchar(200)
    # name of the array of no-artifact valid time intervals";
        let removed = "# Stores intervals without detected artifacts. Entries can come from either
# ArtifactDetection() or alternative artifact removal analyses.
artifact_removed_interval_list_name: varchar(128)
---
-> LFPArtifactDetectionSelection
artifact_removed_valid_times: longblob
artifact_times: longblob # np.array of artifact intervals";
        let t = |class, tier, def| TableSpec::new(class, tier, def);
        // the tables are Spyglass's, in its `lfp_v1` schema (the pipeline is named apart)
        vec![Schema {
            name: SCHEMA,
            tables: vec![
                t("LFPArtifactDetectionParameters", Tier::Manual, params),
                t("LFPArtifactDetectionSelection", Tier::Manual, selection),
                t("LFPArtifactDetection", Tier::Computed, detection),
                t("LFPArtifactRemovedIntervalList", Tier::Manual, removed),
            ],
        }]
    }
    fn run(&self, sg: &Spyglass, _name: &str, m: &clap::ArgMatches) -> Result<()> {
        let args::Select::<SelectArgs>::Select(a) = args::parse_in(m)?;
        let nwb = a.lfp.session.name(sg)?;
        let group =
            serde_json::json!({"nwb_file_name": nwb, "lfp_electrode_group_name": a.lfp.group});
        let mut lfps: Vec<LfpV1Row> = sg.rows(LFPV1, &group)?;
        lfps.retain(|r| {
            a.lfp_interval
                .as_ref()
                .is_none_or(|i| &r.key.target_interval_list_name == i)
        });
        lfps.retain(|r| {
            a.lfp_filter
                .as_ref()
                .is_none_or(|f| &r.key.filter_name == f)
        });
        let [lfp] = lfps.as_slice() else {
            let message = format!(
                "{} LFPV1 rows match; choose one with --lfp-interval / --lfp-filter",
                lfps.len()
            );
            return Err(Error::bad(
                format!("LFP electrode group `{}` of {nwb}", a.lfp.group),
                message,
            ));
        };
        let key = ArtifactKey {
            lfp: lfp.key.clone(),
            artifact_params_name: a.params.clone(),
        };
        PARAMETER_SETS.dict(sg, &a.params)?;
        sg.put_new(SELECTION, std::slice::from_ref(&key))?;
        println!(
            "LFPArtifactDetectionSelection: {nwb}, group `{}`, parameters `{}`",
            a.lfp.group, a.params
        );
        args::next_populate(DETECTION, &[("nwb_file_name", &nwb)]);
        Ok(())
    }
}

/// Select an LFPV1 row and a parameter set for LFPArtifactDetection.
#[derive(clap::Args)]
struct SelectArgs {
    /// The session and the LFP electrode group whose LFPV1 row is checked.
    #[command(flatten)]
    lfp: super::lfp_electrode::GroupArg,
    /// LFPArtifactDetectionParameters name (`spyglass defaults` inserts Spyglass's).
    #[arg(long, default_value = "default_mad")]
    params: String,
    /// Which LFP of the group, by its target interval (when it has several).
    #[arg(long = "lfp-interval")]
    lfp_interval: Option<String>,
    /// Which LFP of the group, by its filter (when it has several).
    #[arg(long = "lfp-filter")]
    lfp_filter: Option<String>,
}

/// What the make reads from the database.
#[derive(Debug, Clone, Serialize)]
pub struct DetectionInputs {
    /// The analysis file holding the LFP.
    pub path: std::path::PathBuf,
    /// Object id of the LFP series.
    pub object_id: String,
    /// The LFP's rate, Hz.
    pub rate: f64,
    /// The detector's parameters.
    pub params: MadParams,
}

/// Artifact intervals and the artifact-free valid times, seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    /// Artifact runs, `[t_first, t_last]`, removal windows included.
    pub artifact_times: Vec<[f64; 2]>,
    /// The runs between them.
    pub valid_times: Vec<[f64; 2]>,
}

struct DetectionMake;

impl Make for DetectionMake {
    const TABLE: &'static str = DETECTION;
    type Key = ArtifactKey;
    type Inputs = DetectionInputs;
    type Output = Detected;

    fn fetch(&self, cx: &Cx, key: &ArtifactKey) -> Result<DetectionInputs> {
        let params = PARAMETER_SETS.dict(cx.db, &key.artifact_params_name)?;
        let what = format!("{PARAMETERS} `{}`", key.artifact_params_name);
        if params["artifact_detection_algorithm"] != "mad" || params.get("referencing").is_some() {
            let message = "only the `mad` detector without referencing is implemented here; use `default_mad`";
            return Err(Error::bad(what, message));
        }
        let params = serde_json::from_value(params["artifact_detection_algorithm_params"].clone())
            .map_err(|e| Error::bad(&what, e.to_string()))?;
        let lfp: LfpV1Row = cx.db.row(LFPV1, &key.lfp)?;
        Ok(DetectionInputs {
            path: crate::analysis::analysis_file_path(cx.db, &lfp.analysis_file_name)?,
            object_id: lfp.lfp_object_id,
            rate: lfp.lfp_sampling_rate,
            params,
        })
    }

    fn compute(&self, _: &Settings, _: &ArtifactKey, i: DetectionInputs) -> Result<Detected> {
        let file = spyglass_nwb::NwbFile::open(&i.path)?;
        let raw = file.raw_reader(&file.path_of_id(&i.object_id)?)?;
        let n = raw.num_samples();
        let channels: Vec<usize> = (0..raw.num_channels()).collect();
        let data = raw.read::<f64>(0..n, &channels)?;
        let timestamps = raw.timestamps(0..n)?;
        mad_artifacts(&data, &timestamps, i.rate, &i.params)
    }

    fn insert(&self, cx: &Cx, key: &ArtifactKey, out: Detected) -> Result<()> {
        let list = uuid::Uuid::new_v4().to_string();
        let blob = |times: &[[f64; 2]]| Value::from(intervals_blob(times));
        let key_row = row_of(SELECTION, key)?;
        let pairs = key_row.iter().map(|(k, v)| (k.to_string(), v.clone()));
        let row = Row::from_pairs(pairs.chain([
            ("artifact_times".to_string(), blob(&out.artifact_times)),
            (
                "artifact_removed_valid_times".to_string(),
                blob(&out.valid_times),
            ),
            (
                "artifact_removed_interval_list_name".to_string(),
                Value::from(list.as_str()),
            ),
        ]));
        cx.db
            .insert1(REMOVED, row.clone(), InsertOptions::default())?;
        let valid = IntervalList::new(&key.lfp.nwb_file_name, &list, out.valid_times);
        iv::insert(cx.db, &valid.with_pipeline(PIPELINE), false)?;
        cx.db.insert1(DETECTION, row, InsertOptions::default())?;
        Ok(())
    }
}

/// Intervals as Spyglass stores them: an `n × 2` float64 array, `np.array([])` when none.
fn intervals_blob(times: &[[f64; 2]]) -> spyglass_blob::Value {
    if times.is_empty() {
        spyglass_blob::Value::f64_array(vec![0], vec![]).unwrap_or(spyglass_blob::Value::None)
    } else {
        spyglass_blob::Value::intervals(times)
    }
}

/// Spyglass's `mad_artifact_detector` on `channels` (one vector of stored values per
/// channel) with their `timestamps`, at `rate` Hz (see the module doc).
pub fn mad_artifacts(
    channels: &[Vec<f64>],
    timestamps: &[f64],
    rate: f64,
    p: &MadParams,
) -> Result<Detected> {
    let n = timestamps.len();
    if channels.is_empty() || channels.iter().any(|c| c.len() != n) {
        return Err(Error::bad(
            DETECTION,
            format!(
                "{} channels of unequal length or none for {n} timestamps",
                channels.len()
            ),
        ));
    }
    let mut count = vec![0usize; n];
    for c in channels {
        let median = nan_median(c);
        let deviations: Vec<f64> = c.iter().map(|x| (x - median).abs()).collect();
        // scipy's scale="normal": divided by the normal distribution's 0.75 quantile
        let mad = nan_median(&deviations) / 0.674_489_750_196_081_7;
        let mad = if mad.abs() <= 1e-8 || !mad.is_finite() {
            1.0
        } else {
            mad
        };
        for (k, d) in deviations.iter().enumerate() {
            count[k] += usize::from(d / mad > p.mad_thresh);
        }
    }
    let need = p.proportion_above_thresh * channels.len() as f64;
    let found: Vec<bool> = count.iter().map(|&c| c as f64 > need).collect();
    let half = ((p.removal_window_ms / 1000.0) * 0.5 * rate) as usize;
    let mut artifact = vec![false; n];
    for (start, stop) in runs(&found, true) {
        artifact[start.saturating_sub(half)..(stop + half).min(n)].fill(true);
    }
    let times = |value| {
        runs(&artifact, value)
            .map(|(a, b)| [timestamps[a], timestamps[b - 1]])
            .collect()
    };
    Ok(Detected {
        artifact_times: times(true),
        valid_times: times(false),
    })
}

/// The runs `[start, stop)` of `value` in `flags`.
fn runs(flags: &[bool], value: bool) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut k = 0;
    std::iter::from_fn(move || {
        let start = k + flags[k..].iter().position(|&f| f == value)?;
        let stop = start
            + flags[start..]
                .iter()
                .position(|&f| f != value)
                .unwrap_or(flags.len() - start);
        k = stop;
        Some((start, stop))
    })
}

/// numpy's `nanmedian` (NaN when every value is NaN).
fn nan_median(x: &[f64]) -> f64 {
    let mut v: Vec<f64> = x.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hand-derived: 2 channels, 20 samples at 1 kHz, one spike on both at sample 10;
    // MAD of each channel is 0 → 1, the spike's deviation 100 > 6 on 2 > 0.2 channels;
    // a 4 ms window grows the run by int(0.004 · 0.5 · 1000) = 2 samples each side.
    #[test]
    fn a_spike_on_every_channel_is_one_artifact_with_its_window() {
        let ts: Vec<f64> = (0..20).map(|k| k as f64 / 1000.0).collect();
        let mut c = vec![0.0; 20];
        c[10] = 100.0;
        let p = MadParams {
            mad_thresh: 6.0,
            proportion_above_thresh: 0.1,
            removal_window_ms: 4.0,
        };
        let d = mad_artifacts(&[c.clone(), c], &ts, 1000.0, &p).unwrap();
        assert_eq!(d.artifact_times, vec![[0.008, 0.012]]);
        assert_eq!(d.valid_times, vec![[0.0, 0.007], [0.013, 0.019]]);
    }

    #[test]
    fn runs_and_medians() {
        let f = [true, true, false, true];
        assert_eq!(runs(&f, true).collect::<Vec<_>>(), vec![(0, 2), (3, 4)]);
        assert_eq!(runs(&f, false).collect::<Vec<_>>(), vec![(2, 3)]);
        assert_eq!(nan_median(&[3.0, f64::NAN, 1.0, 2.0, 10.0]), 2.5);
        assert!(nan_median(&[f64::NAN]).is_nan());
    }
}
