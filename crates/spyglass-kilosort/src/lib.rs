//! Kilosort / phy output folders, read as element-array-ephys's Kilosort reader and its
//! `CuratedClustering` make read them (spyglass-model.md §10), without their units bug:
//! core files checked at once (one error listing every missing file), `params.py` read as
//! `key = value` lines, `.npy` files by a real NPY parser (no pickles), cluster labels,
//! spike times from `spike_times_sec_adj` > `spike_times_sec` (both already seconds) >
//! `spike_times` (samples ÷ sample rate), spike sites from each template's
//! max-amplitude channel through `channel_map`, and spike depths as the centre of mass of
//! the squared first principal-component features over the channels' y positions.
//! [`phy`] writes such a folder from a recording and a sorting (what SpikeInterface's
//! `export_to_phy` writes) and reads phy's merges and labels back.

pub mod error;
pub mod labels;
pub mod npy;
pub mod params;
pub mod phy;

use std::path::{Path, PathBuf};

pub use error::KilosortError;
pub use labels::{ClusterLabels, QualityLabel};
pub use npy::{NpyArray, NpyData};
pub use params::{ParamValue, Params};

/// The files every Kilosort / phy folder must hold (element-array-ephys 0.4.6's list,
/// which Kilosort 4 and SpikeInterface's `export_to_phy` both satisfy).
pub const CORE_FILES: [&str; 11] = [
    "params.py",
    "amplitudes.npy",
    "channel_map.npy",
    "channel_positions.npy",
    "pc_features.npy",
    "pc_feature_ind.npy",
    "similar_templates.npy",
    "spike_templates.npy",
    "spike_times.npy",
    "templates.npy",
    "spike_clusters.npy",
];

/// Files element-array-ephys 0.3.8 also required (Kilosort 2/2.5/3 write them); 0.4.6
/// made them optional, and so are they here.
pub const KILOSORT2_FILES: [&str; 5] = [
    "template_features.npy",
    "template_feature_ind.npy",
    "templates_ind.npy",
    "whitening_mat.npy",
    "whitening_mat_inv.npy",
];

/// Which array the spike times were taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpikeTimeSource {
    /// `spike_times_sec_adj.npy` (seconds, adjusted).
    SecondsAdjusted,
    /// `spike_times_sec.npy` (seconds).
    Seconds,
    /// `spike_times.npy` (samples, divided by the sample rate).
    Samples,
}

/// A dense 3-d array in C order.
#[derive(Debug, Clone, PartialEq)]
pub struct Array3<T> {
    /// Values in C order.
    pub data: Vec<T>,
    /// The three dimensions.
    pub shape: [usize; 3],
}

/// A Kilosort / phy output folder, loaded and checked.
#[derive(Debug, Clone)]
pub struct KilosortFolder {
    /// The folder.
    pub dir: PathBuf,
    /// `params.py`.
    pub params: Params,
    /// Status-change time of `params.py` (local time, as Python's `fromtimestamp`).
    pub time_created: chrono::NaiveDateTime,
    /// Modification time of `params.py`.
    pub time_modified: chrono::NaiveDateTime,
    /// `spike_times.npy` in samples, one per spike.
    pub spike_times: Vec<i64>,
    /// `spike_times_sec.npy`, if present (seconds).
    pub spike_times_sec: Option<Vec<f64>>,
    /// `spike_times_sec_adj.npy`, if present (seconds).
    pub spike_times_sec_adj: Option<Vec<f64>>,
    /// `spike_clusters.npy`: the cluster of each spike.
    pub spike_clusters: Vec<i64>,
    /// `spike_templates.npy`: the template of each spike.
    pub spike_templates: Vec<i64>,
    /// `amplitudes.npy`: the template scaling of each spike.
    pub amplitudes: Vec<f64>,
    /// `templates.npy`: (templates, samples, channels).
    pub templates: Array3<f64>,
    /// `templates_ind.npy` (templates, channels), if present: the channel index of each
    /// template column (sparse templates); absent means column k is channel k.
    pub templates_ind: Option<(Vec<i64>, [usize; 2])>,
    /// `channel_map.npy`: the recording channel of each channel index.
    pub channel_map: Vec<i64>,
    /// `channel_positions.npy`: (x, y) of each channel index, µm.
    pub channel_positions: Vec<[f64; 2]>,
    /// `pc_features.npy`: (spikes, components, channels).
    pub pc_features: Array3<f32>,
    /// `pc_feature_ind.npy`: (templates, channels) channel indices of each template's features.
    pub pc_feature_ind: (Vec<i64>, [usize; 2]),
    /// The cluster labels.
    pub labels: ClusterLabels,
}

/// One unit as element-array-ephys's `CuratedClustering.Unit` holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The cluster id (`unit`).
    pub cluster_id: i64,
    /// The quality label.
    pub label: QualityLabel,
    /// Recording channel (`channel_map` value) of the max-amplitude channel of the
    /// template of the unit's first spike.
    pub peak_channel: i64,
    /// Spike times, seconds.
    pub spike_times: Vec<f64>,
    /// Recording channel of each spike's template's max-amplitude channel.
    pub spike_sites: Vec<i64>,
    /// Depth of each spike, µm (NaN where all first-PC features are ≤ 0).
    pub spike_depths: Vec<f64>,
}

/// How a folder was made, as element-array-ephys's `extract_clustering_info` decides it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusteringInfo {
    /// Time of the last manual-curation line of `phy.log`, else the status-change time of
    /// `metrics.csv`, else that of `spike_times.npy` (local time).
    pub creation_time: chrono::NaiveDateTime,
    /// `phy.log` records merges, splits or label changes.
    pub manual_curation: bool,
    /// `metrics.csv` exists.
    pub quality_control: bool,
}

fn read_npy(dir: &Path, name: &str) -> Result<NpyArray, KilosortError> {
    NpyArray::read(&dir.join(name))
}

fn read_optional(dir: &Path, name: &str) -> Result<Option<NpyArray>, KilosortError> {
    let p = dir.join(name);
    if p.exists() {
        NpyArray::read(&p).map(Some)
    } else {
        Ok(None)
    }
}

fn invalid(dir: &Path, name: &str, detail: String) -> KilosortError {
    KilosortError::Invalid {
        what: dir.join(name).display().to_string(),
        detail,
    }
}

/// A 1-d view of an array that is (n,) or (n, 1) (Kilosort writes both).
fn vector(dir: &Path, name: &str, a: &NpyArray) -> Result<(), KilosortError> {
    match a.shape.as_slice() {
        [_] | [_, 1] => Ok(()),
        s => Err(invalid(
            dir,
            name,
            format!("shape {s:?}, expected (n,) or (n, 1)"),
        )),
    }
}

fn dims<const N: usize>(dir: &Path, name: &str, a: &NpyArray) -> Result<[usize; N], KilosortError> {
    <[usize; N]>::try_from(a.shape.as_slice()).map_err(|_| {
        invalid(
            dir,
            name,
            format!("shape {:?}, expected {N} dimensions", a.shape),
        )
    })
}

fn ctime(path: &Path) -> Result<chrono::NaiveDateTime, KilosortError> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).map_err(|e| KilosortError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    Ok(local_time(m.ctime(), m.ctime_nsec()))
}

fn local_time(secs: i64, nsec: i64) -> chrono::NaiveDateTime {
    use chrono::TimeZone;
    // Python's fromtimestamp keeps microseconds
    let micros = u32::try_from(nsec.clamp(0, 999_999_999) / 1000).unwrap_or(0);
    chrono::Local
        .timestamp_opt(secs, micros * 1000)
        .earliest()
        .map(|t| t.naive_local())
        .unwrap_or_default()
}

impl KilosortFolder {
    /// Opens and checks a folder: every core file must exist (one error lists all that
    /// are missing), every array must agree with the others in length and range.
    pub fn open(dir: &Path) -> Result<KilosortFolder, KilosortError> {
        if !dir.is_dir() {
            return Err(KilosortError::Io {
                path: dir.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a folder"),
            });
        }
        let missing: Vec<String> = CORE_FILES
            .iter()
            .filter(|f| !dir.join(f).exists())
            .map(|f| f.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(KilosortError::MissingFiles {
                dir: dir.to_path_buf(),
                missing,
            });
        }
        let params_path = dir.join("params.py");
        let params = Params::read(&params_path)?;
        let meta = std::fs::metadata(&params_path).map_err(|e| KilosortError::Io {
            path: params_path.clone(),
            source: e,
        })?;
        let time_created = {
            use std::os::unix::fs::MetadataExt;
            local_time(meta.ctime(), meta.ctime_nsec())
        };
        let time_modified = {
            use std::os::unix::fs::MetadataExt;
            local_time(meta.mtime(), meta.mtime_nsec())
        };

        let st = read_npy(dir, "spike_times.npy")?;
        vector(dir, "spike_times.npy", &st)?;
        let spike_times = st.to_i64("spike_times.npy")?;
        let n = spike_times.len();
        let check_len = |name: &str, len: usize| {
            if len == n {
                Ok(())
            } else {
                Err(invalid(
                    dir,
                    name,
                    format!("{len} entries, spike_times.npy has {n} spikes"),
                ))
            }
        };
        let seconds = |name: &str| -> Result<Option<Vec<f64>>, KilosortError> {
            match read_optional(dir, name)? {
                None => Ok(None),
                Some(a) => {
                    vector(dir, name, &a)?;
                    check_len(name, a.len())?;
                    Ok(Some(a.to_f64()))
                }
            }
        };
        let spike_times_sec = seconds("spike_times_sec.npy")?;
        let spike_times_sec_adj = seconds("spike_times_sec_adj.npy")?;

        let sc = read_npy(dir, "spike_clusters.npy")?;
        vector(dir, "spike_clusters.npy", &sc)?;
        check_len("spike_clusters.npy", sc.len())?;
        let spike_clusters = sc.to_i64("spike_clusters.npy")?;

        let stt = read_npy(dir, "spike_templates.npy")?;
        vector(dir, "spike_templates.npy", &stt)?;
        check_len("spike_templates.npy", stt.len())?;
        let spike_templates = stt.to_i64("spike_templates.npy")?;

        let amp = read_npy(dir, "amplitudes.npy")?;
        vector(dir, "amplitudes.npy", &amp)?;
        check_len("amplitudes.npy", amp.len())?;
        let amplitudes = amp.to_f64();

        let t = read_npy(dir, "templates.npy")?;
        let tshape = dims::<3>(dir, "templates.npy", &t)?;
        let templates = Array3 {
            data: t.to_f64(),
            shape: tshape,
        };
        let n_templates = tshape[0];
        if let Some((i, &bad)) = spike_templates
            .iter()
            .enumerate()
            .find(|(_, &x)| x < 0 || x as u64 >= n_templates as u64)
        {
            return Err(invalid(
                dir,
                "spike_templates.npy",
                format!("spike {i} has template {bad}, templates.npy holds {n_templates}"),
            ));
        }

        let cm = read_npy(dir, "channel_map.npy")?;
        let channel_map = cm.to_i64("channel_map.npy")?;
        let n_channels = channel_map.len();

        let cp = read_npy(dir, "channel_positions.npy")?;
        let [cp_rows, cp_cols] = dims::<2>(dir, "channel_positions.npy", &cp)?;
        if cp_rows != n_channels || cp_cols < 2 {
            return Err(invalid(
                dir,
                "channel_positions.npy",
                format!("shape {:?}, expected ({n_channels}, 2)", cp.shape),
            ));
        }
        let cpv = cp.to_f64();
        let channel_positions = (0..cp_rows)
            .map(|r| [cpv[r * cp_cols], cpv[r * cp_cols + 1]])
            .collect();

        let templates_ind = match read_optional(dir, "templates_ind.npy")? {
            None => None,
            Some(a) => {
                let s = dims::<2>(dir, "templates_ind.npy", &a)?;
                if s != [n_templates, tshape[2]] {
                    return Err(invalid(
                        dir,
                        "templates_ind.npy",
                        format!("shape {s:?}, templates.npy is {tshape:?}"),
                    ));
                }
                let v = a.to_i64("templates_ind.npy")?;
                if let Some(bad) = v.iter().find(|&&c| c < -1 || c >= n_channels as i64) {
                    return Err(invalid(
                        dir,
                        "templates_ind.npy",
                        format!("channel index {bad} outside 0..{n_channels}"),
                    ));
                }
                Some((v, s))
            }
        };
        if templates_ind.is_none() && tshape[2] != n_channels {
            return Err(invalid(
                dir,
                "templates.npy",
                format!(
                    "{} channels per template, channel_map.npy lists {n_channels}, and there is no templates_ind.npy",
                    tshape[2]
                ),
            ));
        }

        let pf = read_npy(dir, "pc_features.npy")?;
        let pshape = dims::<3>(dir, "pc_features.npy", &pf)?;
        check_len("pc_features.npy", pshape[0])?;
        if pshape[1] == 0 {
            return Err(invalid(dir, "pc_features.npy", "no components".into()));
        }
        let pc_features = Array3 {
            data: pf.to_f32(),
            shape: pshape,
        };
        let pfi = read_npy(dir, "pc_feature_ind.npy")?;
        let fshape = dims::<2>(dir, "pc_feature_ind.npy", &pfi)?;
        if fshape[0] != n_templates || fshape[1] != pshape[2] {
            return Err(invalid(
                dir,
                "pc_feature_ind.npy",
                format!(
                    "shape {fshape:?}, expected ({n_templates}, {}) from templates.npy and pc_features.npy",
                    pshape[2]
                ),
            ));
        }
        let ind = pfi.to_i64("pc_feature_ind.npy")?;
        if let Some(bad) = ind.iter().find(|&&c| c < 0 || c >= n_channels as i64) {
            return Err(invalid(
                dir,
                "pc_feature_ind.npy",
                format!("channel index {bad} outside 0..{n_channels}"),
            ));
        }

        let labels = labels::read_labels(dir)?;
        Ok(KilosortFolder {
            dir: dir.to_path_buf(),
            params,
            time_created,
            time_modified,
            spike_times,
            spike_times_sec,
            spike_times_sec_adj,
            spike_clusters,
            spike_templates,
            amplitudes,
            templates,
            templates_ind,
            channel_map,
            channel_positions,
            pc_features,
            pc_feature_ind: (ind, fshape),
            labels,
        })
    }

    /// Number of spikes.
    pub fn n_spikes(&self) -> usize {
        self.spike_times.len()
    }

    /// The sample rate: `params.py`'s `sample_rate`, else `fallback` (the recording's).
    pub fn sample_rate(&self, fallback: Option<f64>) -> Result<f64, KilosortError> {
        match self.params.sample_rate(&self.dir.join("params.py"))? {
            Some(f) => Ok(f),
            None => fallback
                .filter(|f| f.is_finite() && *f > 0.0)
                .ok_or_else(|| {
                    invalid(
                        &self.dir,
                        "params.py",
                        "no sample_rate, and no recording rate was given".into(),
                    )
                }),
        }
    }

    /// For each template, the channel index (row of `channel_map`) of its largest
    /// absolute value over time (the first on ties, as `numpy.argmax`).
    pub fn template_peak_channel_index(&self) -> Result<Vec<usize>, KilosortError> {
        let [nt, ns, nc] = self.templates.shape;
        let mut out = Vec::with_capacity(nt);
        for t in 0..nt {
            let mut best = (0usize, f64::NEG_INFINITY);
            for c in 0..nc {
                let mut m = f64::NEG_INFINITY;
                for s in 0..ns {
                    let v = self.templates.data[(t * ns + s) * nc + c].abs();
                    if v > m || v.is_nan() {
                        m = v;
                    }
                }
                if m.is_nan() {
                    return Err(invalid(
                        &self.dir,
                        "templates.npy",
                        format!("template {t} holds NaN"),
                    ));
                }
                if m > best.1 {
                    best = (c, m);
                }
            }
            let idx = match &self.templates_ind {
                None => best.0,
                Some((ind, [_, w])) => {
                    let c = ind[t * w + best.0];
                    usize::try_from(c).map_err(|_| {
                        invalid(
                            &self.dir,
                            "templates_ind.npy",
                            format!("template {t}'s peak column {} maps to channel {c}", best.0),
                        )
                    })?
                }
            };
            out.push(idx);
        }
        Ok(out)
    }

    /// The depth of every spike: Σ y·f² / Σ f² over the template's `pc_feature_ind`
    /// channels, f the first-PC feature clipped at 0 (float32 squares, as NumPy; the
    /// denominator summed in float32 as NumPy's float32 reduction). NaN where every
    /// feature is ≤ 0.
    pub fn spike_depths(&self) -> Vec<f64> {
        let [n, nk, nc] = self.pc_features.shape;
        let (ind, [_, w]) = (&self.pc_feature_ind.0, self.pc_feature_ind.1);
        (0..n)
            .map(|i| {
                let t = self.spike_templates[i] as usize;
                let mut num = 0.0f64;
                let mut f2s = Vec::with_capacity(nc);
                for c in 0..nc {
                    let f = self.pc_features.data[(i * nk) * nc + c].max(0.0);
                    let f2 = f * f;
                    let y = self.channel_positions[ind[t * w + c] as usize][1];
                    num += y * f64::from(f2);
                    f2s.push(f2);
                }
                num / f64::from(pairwise_sum_f32(&f2s))
            })
            .collect()
    }

    /// The units as element-array-ephys's `CuratedClustering.make` builds them: the
    /// labelled clusters that have spikes, in label-file order. `sample_rate` converts
    /// `spike_times.npy` samples to seconds; the `_sec` files are used as they are.
    pub fn units(&self, sample_rate: f64) -> Result<(SpikeTimeSource, Vec<Unit>), KilosortError> {
        let (source, times): (SpikeTimeSource, Vec<f64>) =
            if let Some(t) = &self.spike_times_sec_adj {
                (SpikeTimeSource::SecondsAdjusted, t.clone())
            } else if let Some(t) = &self.spike_times_sec {
                (SpikeTimeSource::Seconds, t.clone())
            } else {
                (
                    SpikeTimeSource::Samples,
                    self.spike_times
                        .iter()
                        .map(|&s| s as f64 / sample_rate)
                        .collect(),
                )
            };
        let peak = self.template_peak_channel_index()?;
        let depths = self.spike_depths();
        let mut by_cluster: std::collections::HashMap<i64, Vec<usize>> =
            std::collections::HashMap::new();
        for (i, &c) in self.spike_clusters.iter().enumerate() {
            by_cluster.entry(c).or_default().push(i);
        }
        let mut units = Vec::new();
        for (&id, &label) in self.labels.cluster_ids.iter().zip(&self.labels.labels) {
            let Some(idx) = by_cluster.get(&id) else {
                continue;
            };
            let site = |i: usize| self.channel_map[peak[self.spike_templates[i] as usize]];
            units.push(Unit {
                cluster_id: id,
                label,
                peak_channel: site(idx[0]),
                spike_times: idx.iter().map(|&i| times[i]).collect(),
                spike_sites: idx.iter().map(|&i| site(i)).collect(),
                spike_depths: idx.iter().map(|&i| depths[i]).collect(),
            });
        }
        Ok((source, units))
    }

    /// Clustering ids that have spikes but no label (element-array-ephys drops them silently;
    /// callers may report them).
    pub fn unlabelled_clusters(&self) -> Vec<i64> {
        let labelled: std::collections::HashSet<i64> =
            self.labels.cluster_ids.iter().copied().collect();
        let mut v: Vec<i64> = self
            .spike_clusters
            .iter()
            .copied()
            .filter(|c| !labelled.contains(c))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// When and how the folder was made ([`ClusteringInfo`]).
    pub fn clustering_info(&self) -> Result<ClusteringInfo, KilosortError> {
        let mut creation_time = None;
        let log = self.dir.join("phy.log");
        let mut manual_curation = false;
        if log.exists() {
            let text = std::fs::read(&log).map_err(|e| KilosortError::Io {
                path: log.clone(),
                source: e,
            })?;
            let text = String::from_utf8_lossy(&text);
            let indicators = ["Merge clusters", "Split cluster", "Change metadata_group"];
            let mut last = None;
            // the first line is the header of pandas' fixed-width read; meta is columns
            // 6..40, the detail columns 41..250
            for line in text.lines().skip(1) {
                let chars: Vec<char> = line.chars().collect();
                let cut = |a: usize, b: usize| -> String {
                    chars[a.min(chars.len())..b.min(chars.len())]
                        .iter()
                        .collect()
                };
                let detail = cut(41, 250);
                if indicators
                    .iter()
                    .any(|p| detail.trim_start().starts_with(p))
                {
                    manual_curation = true;
                    last = Some(cut(6, 40));
                }
            }
            if let Some(meta) = last {
                let base = ctime(&log)?;
                creation_time = Some(
                    find_hms(&meta)
                        .map(|t| base.date().and_time(t))
                        .unwrap_or(base),
                );
            }
        }
        let metrics = self.dir.join("metrics.csv");
        let quality_control = metrics.exists();
        if quality_control && creation_time.is_none() {
            creation_time = Some(ctime(&metrics)?);
        }
        let creation_time = match creation_time {
            Some(t) => t,
            None => ctime(&self.dir.join("spike_times.npy"))?,
        };
        Ok(ClusteringInfo {
            creation_time,
            manual_curation,
            quality_control,
        })
    }
}

/// The first `HH:MM:SS` in `s`.
fn find_hms(s: &str) -> Option<chrono::NaiveTime> {
    let b = s.as_bytes();
    (0..b.len().saturating_sub(7)).find_map(|i| {
        let w = &b[i..i + 8];
        let digits = [0, 1, 3, 4, 6, 7].iter().all(|&k| w[k].is_ascii_digit());
        if digits && w[2] == b':' && w[5] == b':' {
            chrono::NaiveTime::parse_from_str(std::str::from_utf8(w).ok()?, "%H:%M:%S").ok()
        } else {
            None
        }
    })
}

/// NumPy's float32 sum of a short contiguous row (its pairwise summation: below 8
/// elements a plain loop, else eight interleaved partial sums combined pairwise).
fn pairwise_sum_f32(v: &[f32]) -> f32 {
    let n = v.len();
    if n < 8 {
        let mut s = 0.0f32;
        for &x in v {
            s += x;
        }
        return s;
    }
    if n <= 128 {
        let mut r = [0.0f32; 8];
        r.copy_from_slice(&v[..8]);
        let mut i = 8;
        while i + 8 <= n {
            for k in 0..8 {
                r[k] += v[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += v[i];
            i += 1;
        }
        return res;
    }
    let half = (n / 2) - (n / 2) % 8;
    pairwise_sum_f32(&v[..half]) + pairwise_sum_f32(&v[half..])
}
