//! Kilosort folders made by SpikeInterface's `export_to_phy` (and a Kilosort 2.5-style file
//! set built from it) read by us and by element-array-ephys's own reader and
//! `CuratedClustering` unit logic (the oracle, run in the test): equal units, labels, spike
//! times, sites; depths within 1e-6 relative.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;
use spyglass_kilosort::{KilosortError, KilosortFolder, NpyArray, NpyData, SpikeTimeSource};

/// The fixture folders, made once per test process.
pub fn fixtures() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = spyglass_testkit::scratch_dir();
        spyglass_testkit::run_python(
            include_str!("../py/make_folders.py"),
            &[d.path().to_str().unwrap(), "7"],
        );
        d
    })
    .path()
}

fn oracle(dir: &Path, core_046: bool) -> Value {
    let mut args = vec![dir.to_str().unwrap()];
    if core_046 {
        args.push("046");
    }
    let out = spyglass_testkit::run_elements_python(include_str!("../py/ea_units.py"), &args);
    serde_json::from_str(&out).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn floats(v: &Value) -> Vec<f64> {
    let b: Vec<u64> = serde_json::from_value(v.clone()).unwrap();
    b.into_iter().map(f64::from_bits).collect()
}

fn compare(dir: &Path, core_046: bool) -> usize {
    let want = oracle(dir, core_046);
    let ks = KilosortFolder::open(dir).unwrap();
    let rate = ks.sample_rate(None).unwrap();
    assert_eq!(rate, want["sample_rate"].as_f64().unwrap());
    let (source, units) = ks.units(rate).unwrap();
    assert_eq!(source, SpikeTimeSource::Samples);
    let wu = want["units"].as_array().unwrap();
    assert_eq!(units.len(), wu.len());
    for (u, w) in units.iter().zip(wu) {
        assert_eq!(u.cluster_id, w["unit"].as_i64().unwrap());
        let wl = w["label"].as_str().unwrap();
        let mapped = if wl == "unsorted" { "n.a." } else { wl };
        assert_eq!(u.label.as_str(), mapped);
        assert_eq!(u.peak_channel, w["channel"].as_i64().unwrap());
        let wt = floats(&w["spike_times"]);
        assert_eq!(u.spike_times, wt, "unit {}", u.cluster_id);
        let ws: Vec<i64> = serde_json::from_value(w["spike_sites"].clone()).unwrap();
        assert_eq!(u.spike_sites, ws);
        let wd = floats(&w["spike_depths"]);
        assert_eq!(u.spike_depths.len(), wd.len());
        for (a, b) in u.spike_depths.iter().zip(&wd) {
            if b.is_nan() {
                assert!(a.is_nan());
            } else {
                assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{a} vs {b}");
            }
        }
    }
    units.len()
}

#[test]
fn spikeinterface_export_equals_element_array_ephys() {
    let n = compare(&fixtures().join("si"), true);
    assert_eq!(n, 5);
}

#[test]
fn kilosort25_file_set_equals_element_array_ephys() {
    // the 0.3.8 core-file list holds here; the labelled cluster without spikes is dropped
    let dir = fixtures().join("ks25");
    let n = compare(&dir, false);
    assert_eq!(n, 5);
    let ks = KilosortFolder::open(&dir).unwrap();
    assert_eq!(ks.labels.cluster_ids.len(), 6);
    assert!(ks.unlabelled_clusters().is_empty());
}

#[test]
fn seconds_files_are_not_divided_again() {
    let dir = spyglass_testkit::scratch_dir();
    let d: PathBuf = dir.path().join("ks");
    copy_dir(&fixtures().join("ks25"), &d);
    let ks = KilosortFolder::open(&d).unwrap();
    let secs: Vec<f64> = ks
        .spike_times
        .iter()
        .map(|&s| s as f64 / 30000.0 + 0.5)
        .collect();
    NpyArray {
        shape: vec![secs.len()],
        data: NpyData::F64(secs.clone()),
    }
    .write(&d.join("spike_times_sec.npy"))
    .unwrap();
    let ks = KilosortFolder::open(&d).unwrap();
    let (source, units) = ks.units(30000.0).unwrap();
    assert_eq!(source, SpikeTimeSource::Seconds);
    let want = oracle(&d, false);
    assert_eq!(want["source"], "spike_times_sec");
    for (u, w) in units.iter().zip(want["units"].as_array().unwrap()) {
        let idx: Vec<usize> = (0..ks.n_spikes())
            .filter(|&i| ks.spike_clusters[i] == u.cluster_id)
            .collect();
        let file: Vec<f64> = idx.iter().map(|&i| secs[i]).collect();
        // ours are the file's seconds; element-array-ephys divides them by the rate again
        assert_eq!(u.spike_times, file);
        let wt = floats(&w["spike_times"]);
        for (a, b) in file.iter().zip(&wt) {
            assert_eq!(a / 30000.0, *b);
        }
    }
}

#[test]
fn missing_core_files_are_listed_together() {
    let dir = spyglass_testkit::scratch_dir();
    let d = dir.path().join("ks");
    copy_dir(&fixtures().join("si"), &d);
    for f in ["pc_features.npy", "templates.npy", "params.py"] {
        std::fs::remove_file(d.join(f)).unwrap();
    }
    match KilosortFolder::open(&d) {
        Err(KilosortError::MissingFiles { missing, .. }) => {
            assert_eq!(
                missing,
                vec!["params.py", "pc_features.npy", "templates.npy"]
            )
        }
        other => panic!("{other:?}"),
    }
    // no label file: a clear error
    let d2 = dir.path().join("nolabels");
    copy_dir(&fixtures().join("si"), &d2);
    std::fs::remove_file(d2.join("cluster_group.tsv")).unwrap();
    let e = KilosortFolder::open(&d2).unwrap_err().to_string();
    assert!(
        e.contains("cluster_group.tsv or cluster_KSLabel.tsv"),
        "{e}"
    );
    // inconsistent arrays: a clear error naming the file
    let d3 = dir.path().join("short");
    copy_dir(&fixtures().join("si"), &d3);
    NpyArray {
        shape: vec![3],
        data: NpyData::I32(vec![0, 1, 2]),
    }
    .write(&d3.join("spike_clusters.npy"))
    .unwrap();
    let e = KilosortFolder::open(&d3).unwrap_err().to_string();
    assert!(
        e.contains("spike_clusters.npy") && e.contains("3 entries"),
        "{e}"
    );
}
