//! phy template-gui folders both ways, without a database or NWB.
//!
//! - [`write_phy_folder`]: what SpikeInterface 0.105's `export_to_phy` writes for a dense
//!   analyzer (every channel of every unit), computed streaming from the recording with
//!   spyglass-metrics's building blocks: `spike_times` / `spike_templates` /
//!   `spike_clusters` (the spike vector in sample order, then unit order; cluster and
//!   template ids are unit *indices*, as SpikeInterface writes them), `templates` (average
//!   of the waveforms of a seeded subset of at most `max_spikes_per_unit` spikes per
//!   unit, `ms_before` / `ms_after` around the spike), `amplitudes` (the value on the
//!   unit's extremum channel at the spike sample shifted by the template's peak shift:
//!   SpikeInterface's `spike_amplitudes`), `pc_features` (one scikit-learn
//!   `IncrementalPCA` per channel fitted unit after unit on the same waveform subset,
//!   whitened, every spike projected: SpikeInterface's `principal_components`
//!   `by_channel_local` + `run_for_all_spikes`, spikes whose window passes the
//!   recording's ends left at zero as there), `pc_feature_ind`, `similar_templates`
//!   (cosine similarity of the flattened templates), `channel_map` (0..channels),
//!   `channel_positions`, `cluster_group.tsv`, `params.py` and, only when asked,
//!   `recording.dat` (float32). Without `recording.dat`, `params.py` says `dat_path = []`:
//!   phylib's `TemplateModel` then has no traces (phy shows everything but raw data and
//!   spike waveforms), in old phylib releases as in new ones. Units without spikes are
//!   left out (as SpikeInterface leaves them out). The folder is written under a temporary
//!   name next to the destination and renamed into place.
//! - [`read_phy_edits`] and [`clusters_as_units`]: what phy changed — its rewritten
//!   `spike_clusters.npy` (a merge gives the merged spikes a new cluster id, a split gives
//!   parts new ids) and `cluster_group.tsv` — as groups of the original units; a cluster
//!   holding part of a unit (a split) is an error naming both.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use spyglass_metrics::pca::{IncrementalPca, Pca};
use spyglass_metrics::{
    extract_waveforms, spike_amplitudes, templates, ChunkSource, PeakSign, WaveformParams,
};
use spyglass_sort::source::read_padded;

use crate::error::KilosortError;
use crate::npy::{header_bytes, NpyArray, NpyData};

/// A phy cluster group (the `group` column of `cluster_group.tsv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PhyGroup {
    /// `good`.
    Good,
    /// `mua`.
    Mua,
    /// `noise`.
    Noise,
    /// `unsorted` (also an empty cell or a cluster the file does not list).
    Unsorted,
}

impl PhyGroup {
    /// The text phy writes.
    pub fn as_str(self) -> &'static str {
        match self {
            PhyGroup::Good => "good",
            PhyGroup::Mua => "mua",
            PhyGroup::Noise => "noise",
            PhyGroup::Unsorted => "unsorted",
        }
    }

    /// Parses a group as phy writes it (any letter case); `None` if unknown.
    pub fn parse(s: &str) -> Option<PhyGroup> {
        match s.trim().to_ascii_lowercase().as_str() {
            "good" => Some(PhyGroup::Good),
            "mua" => Some(PhyGroup::Mua),
            "noise" => Some(PhyGroup::Noise),
            "unsorted" | "" | "nan" => Some(PhyGroup::Unsorted),
            _ => None,
        }
    }
}

/// One unit to export.
#[derive(Debug, Clone, PartialEq)]
pub struct PhyUnit {
    /// The unit's id (recorded by the caller; phy sees the unit's index).
    pub id: i64,
    /// Spike samples, ascending, inside the recording.
    pub samples: Vec<i64>,
    /// Its phy group.
    pub group: PhyGroup,
}

/// How [`write_phy_folder`] computes the folder (SpikeInterface's `export_to_phy`
/// defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct PhyExportParams {
    /// Milliseconds before the spike sample (SpikeInterface's waveforms: 1.0).
    pub ms_before: f64,
    /// Milliseconds after the spike sample (2.0).
    pub ms_after: f64,
    /// Waveforms per unit for templates and the PCA fit (`random_spikes`: 500); `None`:
    /// every spike.
    pub max_spikes_per_unit: Option<usize>,
    /// Seed of the waveform subset.
    pub seed: u64,
    /// Principal components per channel (5).
    pub n_pc_components: usize,
    /// Whitened PCA projections (SpikeInterface's default, true).
    pub pc_whiten: bool,
    /// Sign of the extremum defining a unit's main channel and peak shift (`neg`).
    pub peak_sign: PeakSign,
    /// Also write the recording as `recording.dat` (float32, samples × channels).
    pub write_recording: bool,
    /// Samples per streamed chunk (0: one second).
    pub chunk_samples: usize,
}

impl Default for PhyExportParams {
    fn default() -> Self {
        PhyExportParams {
            ms_before: 1.0,
            ms_after: 2.0,
            max_spikes_per_unit: Some(500),
            seed: 0,
            n_pc_components: 5,
            pc_whiten: true,
            peak_sign: PeakSign::Neg,
            write_recording: false,
            chunk_samples: 0,
        }
    }
}

/// What [`write_phy_folder`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct PhyExport {
    /// The folder.
    pub dir: PathBuf,
    /// Ids of the exported units, by cluster index (cluster `k` is unit `unit_ids[k]`).
    pub unit_ids: Vec<i64>,
    /// Spikes written.
    pub n_spikes: usize,
    /// Channels.
    pub n_channels: usize,
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> KilosortError + '_ {
    move |e| KilosortError::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

fn metrics_err(what: &str) -> impl Fn(spyglass_metrics::SortError) -> KilosortError + '_ {
    move |e| KilosortError::Invalid {
        what: what.to_string(),
        detail: e.to_string(),
    }
}

/// The spike vector of `trains` (samples per unit): (sample, unit index, index in the
/// unit's train), by sample then unit — the order of the folder's spike arrays.
pub fn spike_vector(trains: &[Vec<i64>]) -> Vec<(i64, u32, u32)> {
    let mut v: Vec<(i64, u32, u32)> = trains
        .iter()
        .enumerate()
        .flat_map(|(u, t)| {
            t.iter()
                .enumerate()
                .map(move |(i, &s)| (s, u as u32, i as u32))
        })
        .collect();
    v.sort_unstable();
    v
}

/// Writes a phy folder at `dest` (which must not exist) for `units` on `src` with
/// channel `locations` (x, y µm); `extra_files` (name, contents) are written into the
/// folder too before it is renamed into place. See the module doc for the files.
pub fn write_phy_folder(
    src: &dyn ChunkSource,
    units: &[PhyUnit],
    locations: &[[f64; 2]],
    params: &PhyExportParams,
    extra_files: &[(&str, Vec<u8>)],
    dest: &Path,
) -> Result<PhyExport, KilosortError> {
    let what = dest.display().to_string();
    let invalid = |detail: String| KilosortError::Invalid {
        what: what.clone(),
        detail,
    };
    if dest.exists() {
        return Err(invalid(
            "already exists; phy folders are not overwritten".into(),
        ));
    }
    let c = src.num_channels();
    if locations.len() != c {
        return Err(invalid(format!(
            "{} channel locations for {c} channels",
            locations.len()
        )));
    }
    if params.n_pc_components == 0 {
        return Err(invalid("n_pc_components must be at least 1".into()));
    }
    let kept: Vec<&PhyUnit> = units.iter().filter(|u| !u.samples.is_empty()).collect();
    if kept.is_empty() {
        return Err(invalid("no unit has spikes: phy needs at least one".into()));
    }
    let name = dest
        .file_name()
        .ok_or_else(|| invalid("not a folder path".into()))?
        .to_string_lossy()
        .to_string();
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io_err(&parent))?;
    let tmp = parent.join(format!(".{name}.tmp{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io_err(&tmp))?;
    }
    std::fs::create_dir(&tmp).map_err(io_err(&tmp))?;
    let result = write_into(src, &kept, locations, params, extra_files, &tmp).and_then(|n| {
        if dest.exists() {
            return Err(invalid("appeared while the folder was written".into()));
        }
        std::fs::rename(&tmp, dest).map_err(io_err(dest))?;
        Ok(n)
    });
    match result {
        Ok(n_spikes) => Ok(PhyExport {
            dir: dest.to_path_buf(),
            unit_ids: kept.iter().map(|u| u.id).collect(),
            n_spikes,
            n_channels: c,
        }),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

fn write_into(
    src: &dyn ChunkSource,
    units: &[&PhyUnit],
    locations: &[[f64; 2]],
    params: &PhyExportParams,
    extra_files: &[(&str, Vec<u8>)],
    dir: &Path,
) -> Result<usize, KilosortError> {
    let c = src.num_channels();
    let fs = src.sampling_frequency();
    let trains: Vec<Vec<i64>> = units.iter().map(|u| u.samples.clone()).collect();
    let n_units = trains.len();
    let wp = WaveformParams {
        ms_before: params.ms_before,
        ms_after: params.ms_after,
        max_spikes_per_unit: params.max_spikes_per_unit,
        seed: params.seed,
        chunk_samples: params.chunk_samples,
    };
    let wf = extract_waveforms(src, &trains, &wp).map_err(metrics_err("waveforms"))?;
    let tpl = templates(&wf);
    let ns = tpl.num_samples;
    let main = tpl.main_channels(params.peak_sign);
    let shifts = tpl.peak_shifts(&main, params.peak_sign);
    let amps = spike_amplitudes(src, &trains, &main, &shifts, params.chunk_samples)
        .map_err(metrics_err("spike amplitudes"))?;

    // one PCA per channel, fitted unit after unit (units with too few waveforms skipped)
    let k = params.n_pc_components;
    let models: Vec<Option<Pca>> = (0..c)
        .into_par_iter()
        .map(|ch| -> Result<Option<Pca>, KilosortError> {
            let mut m = IncrementalPca::new(k, params.pc_whiten);
            for u in 0..n_units {
                if wf.units[u].len() < k {
                    continue;
                }
                let rows = wf.unit_waveforms_on(u, &[ch]);
                m.partial_fit(&rows, ns)
                    .map_err(metrics_err("principal components"))?;
            }
            Ok(if m.n_samples_seen() == 0 {
                None
            } else {
                Some(m.model().map_err(metrics_err("principal components"))?)
            })
        })
        .collect::<Result<_, _>>()?;

    let spikes = spike_vector(&trains);
    let n = spikes.len();
    let save = |file: &str, shape: Vec<usize>, data: NpyData| {
        NpyArray { shape, data }.write(&dir.join(file))
    };
    save(
        "spike_times.npy",
        vec![n],
        NpyData::I64(spikes.iter().map(|s| s.0).collect()),
    )?;
    let unit_index: Vec<i64> = spikes.iter().map(|s| s.1 as i64).collect();
    save(
        "spike_templates.npy",
        vec![n],
        NpyData::I64(unit_index.clone()),
    )?;
    save("spike_clusters.npy", vec![n], NpyData::I64(unit_index))?;
    save(
        "amplitudes.npy",
        vec![n],
        NpyData::F32(
            spikes
                .iter()
                .map(|s| amps[s.1 as usize][s.2 as usize])
                .collect(),
        ),
    )?;
    save(
        "templates.npy",
        vec![n_units, ns, c],
        NpyData::F64(
            tpl.average
                .iter()
                .flatten()
                .map(|&x| if x.is_finite() { x as f64 } else { 0.0 })
                .collect(),
        ),
    )?;
    // cosine similarity of the flattened templates
    let norms: Vec<f64> = tpl
        .average
        .iter()
        .map(|t| {
            t.iter()
                .map(|&x| (x as f64) * (x as f64))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    let mut sim = vec![0.0f32; n_units * n_units];
    for i in 0..n_units {
        for j in 0..n_units {
            let dot: f64 = tpl.average[i]
                .iter()
                .zip(&tpl.average[j])
                .map(|(&a, &b)| a as f64 * b as f64)
                .sum();
            sim[i * n_units + j] = (dot / (norms[i] * norms[j])) as f32;
        }
    }
    save(
        "similar_templates.npy",
        vec![n_units, n_units],
        NpyData::F32(sim),
    )?;
    save(
        "channel_map.npy",
        vec![c],
        NpyData::I32((0..c as i32).collect()),
    )?;
    save(
        "channel_positions.npy",
        vec![c, 2],
        NpyData::F32(
            locations
                .iter()
                .flat_map(|p| [p[0] as f32, p[1] as f32])
                .collect(),
        ),
    )?;
    save(
        "pc_feature_ind.npy",
        vec![n_units, c],
        NpyData::I64((0..n_units).flat_map(|_| 0..c as i64).collect()),
    )?;

    write_pc_features(
        src,
        &spikes,
        &models,
        (wf.nbefore, wf.nafter),
        k,
        params,
        dir,
    )?;

    let mut tsv = String::from("cluster_id\tgroup\n");
    for (i, u) in units.iter().enumerate() {
        tsv.push_str(&format!("{i}\t{}\n", u.group.as_str()));
    }
    crate::npy::write_atomically(&dir.join("cluster_group.tsv"), tsv.as_bytes())?;

    if params.write_recording {
        write_recording(src, params.chunk_samples, &dir.join("recording.dat"))?;
    }
    let dat_path = if params.write_recording {
        "r'recording.dat'"
    } else {
        "[]"
    };
    let rate = if fs.fract() == 0.0 {
        format!("{fs:.1}")
    } else {
        format!("{fs}")
    };
    let params_py = format!(
        "dat_path = {dat_path}\nn_channels_dat = {c}\ndtype = 'float32'\noffset = 0\nsample_rate = {rate}\nhp_filtered = True\n"
    );
    crate::npy::write_atomically(&dir.join("params.py"), params_py.as_bytes())?;
    for (file, bytes) in extra_files {
        crate::npy::write_atomically(&dir.join(file), bytes)?;
    }
    Ok(n)
}

fn chunk_len(src: &dyn ChunkSource, chunk_samples: usize) -> usize {
    if chunk_samples == 0 {
        (src.sampling_frequency().round() as usize).max(1)
    } else {
        chunk_samples
    }
}

/// `pc_features.npy` (`spikes × components × channels`, float32), streamed: the spikes
/// of each chunk of the recording projected in parallel, written in spike order.
fn write_pc_features(
    src: &dyn ChunkSource,
    spikes: &[(i64, u32, u32)],
    models: &[Option<Pca>],
    (nbefore, nafter): (usize, usize),
    k: usize,
    params: &PhyExportParams,
    dir: &Path,
) -> Result<(), KilosortError> {
    let c = src.num_channels();
    let ns = nbefore + nafter;
    let total = src.num_samples() as i64;
    let path = dir.join("pc_features.npy");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io_err(&path))?);
    let head =
        header_bytes("<f4", &[spikes.len(), k, c]).map_err(|detail| KilosortError::Invalid {
            what: path.display().to_string(),
            detail,
        })?;
    file.write_all(&head).map_err(io_err(&path))?;
    // spike ranges per chunk
    let chunk = chunk_len(src, params.chunk_samples);
    let mut ranges = vec![];
    let mut lo = 0usize;
    while lo < spikes.len() {
        let end = (spikes[lo].0 / chunk as i64 + 1) * chunk as i64;
        let hi = lo + spikes[lo..].partition_point(|s| s.0 < end);
        ranges.push((lo, hi));
        lo = hi;
    }
    let projector = Projector::new(models, ns, k, c);
    let batch = rayon::current_num_threads().max(1) * 4;
    for group in ranges.chunks(batch) {
        let parts: Vec<Vec<f32>> = group
            .par_iter()
            .map(|&(lo, hi)| -> Result<Vec<f32>, KilosortError> {
                let mut out = vec![0.0f32; (hi - lo) * k * c];
                // spikes whose window passes the recording's ends stay zero
                let valid: Vec<usize> = (lo..hi)
                    .filter(|&i| {
                        spikes[i].0 - nbefore as i64 >= 0 && spikes[i].0 + nafter as i64 <= total
                    })
                    .collect();
                let (Some(&first), Some(&last)) = (valid.first(), valid.last()) else {
                    return Ok(out);
                };
                let a = spikes[first].0 - nbefore as i64;
                let b = spikes[last].0 + nafter as i64;
                let buf = read_padded(src, a, b).map_err(metrics_err("pc features"))?;
                let mut scratch = projector.scratch();
                for &i in &valid {
                    let off = (spikes[i].0 - nbefore as i64 - a) as usize;
                    let row = (i - lo) * k * c;
                    projector.project(
                        &buf[off * c..(off + ns) * c],
                        &mut scratch,
                        &mut out[row..row + k * c],
                    );
                }
                Ok(out)
            })
            .collect::<Result<_, _>>()?;
        for p in parts {
            let bytes: Vec<u8> = p.iter().flat_map(|x| x.to_le_bytes()).collect();
            file.write_all(&bytes).map_err(io_err(&path))?;
        }
    }
    let f = file
        .into_inner()
        .map_err(|e| io_err(&path)(e.into_error()))?;
    f.sync_all().map_err(io_err(&path))
}

/// `recording.dat`: the recording as float32, samples × channels, streamed.
/// Every channel's PCA applied in one pass over a spike's window (`ns × channels`, as
/// the recording's rows): the same projections as [`Pca::transform`] channel by
/// channel, `(x − mean) · component`, divided by √variance when whitened (the division
/// folded into the weights), summed over the window's samples in order.
struct Projector {
    c: usize,
    k: usize,
    /// `mean[t·c + ch]`: channel `ch`'s model mean at sample `t` (0 without a model).
    mean: Vec<f64>,
    /// `w[(t·k + j)·c + ch]`: component `j`'s weight at sample `t` (0 without a model).
    w: Vec<f64>,
}

impl Projector {
    fn new(models: &[Option<Pca>], ns: usize, k: usize, c: usize) -> Projector {
        let mut mean = vec![0.0; ns * c];
        let mut w = vec![0.0; ns * k * c];
        for (ch, model) in models.iter().enumerate() {
            let Some(m) = model else { continue };
            for t in 0..ns {
                mean[t * c + ch] = m.mean[t];
                for j in 0..m.n_components().min(k) {
                    let scale = if m.whiten {
                        m.explained_variance[j].sqrt()
                    } else {
                        1.0
                    };
                    w[(t * k + j) * c + ch] = m.components[j * ns + t] / scale;
                }
            }
        }
        Projector { c, k, mean, w }
    }

    /// Working memory of [`Projector::project`]: the centred sample, the sums.
    fn scratch(&self) -> (Vec<f64>, Vec<f64>) {
        (vec![0.0; self.c], vec![0.0; self.k * self.c])
    }

    /// The projections of `window` into `out` (`k × c`, component-major as
    /// `pc_features.npy` holds a spike).
    fn project(&self, window: &[f32], (centred, sums): &mut (Vec<f64>, Vec<f64>), out: &mut [f32]) {
        let (c, k) = (self.c, self.k);
        sums.fill(0.0);
        for (t, x) in window.chunks_exact(c).enumerate() {
            for ((d, &v), m) in centred.iter_mut().zip(x).zip(&self.mean[t * c..]) {
                *d = v as f64 - m;
            }
            for (j, s) in sums.chunks_exact_mut(c).enumerate() {
                let w = &self.w[(t * k + j) * c..(t * k + j + 1) * c];
                for ((s, d), w) in s.iter_mut().zip(centred.iter()).zip(w) {
                    *s += d * w;
                }
            }
        }
        for (o, s) in out.iter_mut().zip(sums.iter()) {
            *o = *s as f32;
        }
    }
}

fn write_recording(
    src: &dyn ChunkSource,
    chunk_samples: usize,
    path: &Path,
) -> Result<(), KilosortError> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(io_err(path))?);
    let chunk = chunk_len(src, chunk_samples);
    let n = src.num_samples();
    let starts: Vec<usize> = (0..n).step_by(chunk).collect();
    let batch = rayon::current_num_threads().max(1) * 2;
    for group in starts.chunks(batch) {
        let parts: Vec<Vec<f32>> = group
            .par_iter()
            .map(|&a| {
                read_padded(src, a as i64, (a + chunk).min(n) as i64)
                    .map_err(metrics_err("recording.dat"))
            })
            .collect::<Result<_, _>>()?;
        for p in parts {
            let bytes: Vec<u8> = p.iter().flat_map(|x| x.to_le_bytes()).collect();
            file.write_all(&bytes).map_err(io_err(path))?;
        }
    }
    let f = file
        .into_inner()
        .map_err(|e| io_err(path)(e.into_error()))?;
    f.sync_all().map_err(io_err(path))
}

/// What phy left in a folder: the spike vector as exported and the edited clusters.
#[derive(Debug, Clone, PartialEq)]
pub struct PhyEdits {
    /// `spike_times.npy` (samples).
    pub spike_times: Vec<i64>,
    /// `spike_templates.npy`: the exported unit index of each spike (phy never rewrites it).
    pub spike_templates: Vec<i64>,
    /// `spike_clusters.npy`: the cluster of each spike after phy's merges and splits.
    pub spike_clusters: Vec<i64>,
    /// `cluster_group.tsv`: the group of each listed cluster.
    pub groups: BTreeMap<i64, PhyGroup>,
}

fn read_vector(dir: &Path, name: &str) -> Result<Vec<i64>, KilosortError> {
    let a = NpyArray::read(&dir.join(name))?;
    match a.shape.as_slice() {
        [_] | [_, 1] => a.to_i64(name),
        s => Err(KilosortError::Invalid {
            what: dir.join(name).display().to_string(),
            detail: format!("shape {s:?}, expected (n,) or (n, 1)"),
        }),
    }
}

/// Reads `spike_times.npy`, `spike_templates.npy`, `spike_clusters.npy` (all of one
/// length) and `cluster_group.tsv` (columns `cluster_id`, `group`; phy's groups) of `dir`.
pub fn read_phy_edits(dir: &Path) -> Result<PhyEdits, KilosortError> {
    let spike_times = read_vector(dir, "spike_times.npy")?;
    let spike_templates = read_vector(dir, "spike_templates.npy")?;
    let spike_clusters = read_vector(dir, "spike_clusters.npy")?;
    for (name, len) in [
        ("spike_templates.npy", spike_templates.len()),
        ("spike_clusters.npy", spike_clusters.len()),
    ] {
        if len != spike_times.len() {
            return Err(KilosortError::Invalid {
                what: dir.join(name).display().to_string(),
                detail: format!(
                    "{len} entries, spike_times.npy has {} spikes",
                    spike_times.len()
                ),
            });
        }
    }
    let groups = crate::labels::read_cluster_column(
        &dir.join("cluster_group.tsv"),
        "group",
        "good, mua, noise, unsorted",
        PhyGroup::parse,
    )?
    .into_iter()
    .collect();
    Ok(PhyEdits {
        spike_times,
        spike_templates,
        spike_clusters,
        groups,
    })
}

/// One cluster of an edited folder as whole exported units.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterUnits {
    /// The cluster id phy gave it.
    pub cluster_id: i64,
    /// The exported unit indices (templates) it holds, ascending.
    pub units: Vec<usize>,
    /// Its group (`unsorted` when `cluster_group.tsv` does not list it).
    pub group: PhyGroup,
}

/// The clusters of `edits` as sets of whole exported units (`n_units` of them): a
/// merge is a cluster of several units; a cluster holding only some of a unit's spikes
/// (a split, or spikes moved between clusters) is an error naming the unit and its
/// clusters. Clusters in cluster id order.
pub fn clusters_as_units(
    edits: &PhyEdits,
    n_units: usize,
    dir: &Path,
) -> Result<Vec<ClusterUnits>, KilosortError> {
    let mut cluster_of: Vec<BTreeSet<i64>> = vec![BTreeSet::new(); n_units];
    for (i, (&t, &cl)) in edits
        .spike_templates
        .iter()
        .zip(&edits.spike_clusters)
        .enumerate()
    {
        let slot = usize::try_from(t)
            .ok()
            .and_then(|u| cluster_of.get_mut(u))
            .ok_or_else(|| KilosortError::Invalid {
                what: dir.join("spike_templates.npy").display().to_string(),
                detail: format!("spike {i} has template {t}, the folder exported {n_units} units"),
            })?;
        slot.insert(cl);
    }
    let mut members: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (u, cls) in cluster_of.iter().enumerate() {
        if cls.len() > 1 {
            return Err(KilosortError::Invalid {
                what: dir.join("spike_clusters.npy").display().to_string(),
                detail: format!(
                    "the spikes of exported unit {u} are now in clusters {cls:?}: phy split it (or moved some of its spikes); a curation can only label and merge whole units, so re-sort instead of splitting"
                ),
            });
        }
        if let Some(&cl) = cls.iter().next() {
            members.entry(cl).or_default().push(u);
        }
    }
    Ok(members
        .into_iter()
        .map(|(cluster_id, units)| ClusterUnits {
            cluster_id,
            units,
            group: edits
                .groups
                .get(&cluster_id)
                .copied()
                .unwrap_or(PhyGroup::Unsorted),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edits(templates: &[i64], clusters: &[i64]) -> PhyEdits {
        PhyEdits {
            spike_times: (0..templates.len() as i64).collect(),
            spike_templates: templates.to_vec(),
            spike_clusters: clusters.to_vec(),
            groups: BTreeMap::from([(3, PhyGroup::Noise)]),
        }
    }

    #[test]
    fn merges_are_whole_units_and_splits_are_refused() {
        // units 0 and 2 merged into cluster 3 (phy's max + 1), unit 1 untouched
        let e = edits(&[0, 1, 2, 0, 1, 2], &[3, 1, 3, 3, 1, 3]);
        let c = clusters_as_units(&e, 3, Path::new("x")).unwrap();
        assert_eq!(
            c,
            vec![
                ClusterUnits {
                    cluster_id: 1,
                    units: vec![1],
                    group: PhyGroup::Unsorted
                },
                ClusterUnits {
                    cluster_id: 3,
                    units: vec![0, 2],
                    group: PhyGroup::Noise
                },
            ]
        );
        // unit 1 split into clusters 1 and 4
        let e = edits(&[0, 1, 2, 0, 1, 2], &[0, 1, 2, 0, 4, 2]);
        let m = clusters_as_units(&e, 3, Path::new("x"))
            .unwrap_err()
            .to_string();
        assert!(m.contains("exported unit 1") && m.contains("{1, 4}"), "{m}");
        // a template outside the export
        assert!(clusters_as_units(&edits(&[5], &[5]), 3, Path::new("x")).is_err());
    }

    #[test]
    fn spike_vector_orders_by_sample_then_unit() {
        let v = spike_vector(&[vec![5, 9], vec![5, 7]]);
        assert_eq!(v, vec![(5, 0, 0), (5, 1, 0), (7, 1, 1), (9, 0, 1)]);
    }
}
