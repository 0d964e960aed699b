//! Ground-truth helpers shared by the sorter tests and the ground-truth bench:
//! SpikeInterface's `generate_ground_truth_recording` written to raw files and read
//! back, and `compare_sorter_to_ground_truth` scoring a sorting.

use spyglass_sort::{InMemoryRecording, Sorting};

/// A generated recording read back from the files `generate.py` writes.
pub struct Generated {
    /// The traces.
    pub rec: InMemoryRecording,
    /// Channel locations, µm.
    pub locations: Vec<[f64; 2]>,
    /// `gt.json` (fs, units, snr).
    pub gt: serde_json::Value,
}

/// Generates a ground-truth recording in `dir` with SpikeInterface and reads it.
pub fn generate(
    dir: &std::path::Path,
    channels: usize,
    units: usize,
    seconds: f64,
    seed: u64,
    snr: bool,
) -> Generated {
    let d = dir.to_str().unwrap();
    let (c, u, s, sd) = (
        channels.to_string(),
        units.to_string(),
        seconds.to_string(),
        seed.to_string(),
    );
    let mut args = vec![d, c.as_str(), u.as_str(), s.as_str(), sd.as_str()];
    if snr {
        args.push("snr");
    }
    // a directory that already holds this recording (the bench's GT_BENCH_DATA) is reused
    if !(dir.join("gt.json").exists() && dir.join("traces.f32").exists()) {
        spyglass_testkit::run_python(include_str!("generate.py"), &args);
    }
    let gt: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("gt.json")).unwrap()).unwrap();
    let nc = gt["n_channels"].as_u64().unwrap() as usize;
    let bytes = std::fs::read(dir.join("traces.f32")).unwrap();
    let data: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let lb = std::fs::read(dir.join("locations.f8")).unwrap();
    let lv: Vec<f64> = lb
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    Generated {
        rec: InMemoryRecording::new(data, nc, gt["fs"].as_f64().unwrap()).unwrap(),
        locations: lv.chunks_exact(2).map(|p| [p[0], p[1]]).collect(),
        gt,
    }
}

/// Accuracy of each ground-truth unit (by id) from `compare_sorter_to_ground_truth`.
pub fn score(dir: &std::path::Path, sorting: &Sorting) -> Vec<(String, f64)> {
    let ours: serde_json::Map<String, serde_json::Value> = sorting
        .units
        .iter()
        .map(|u| (format!("u{}", u.id), serde_json::json!(u.spike_samples)))
        .collect();
    let path = dir.join("ours.json");
    std::fs::write(&path, serde_json::Value::Object(ours).to_string()).unwrap();
    let out = spyglass_testkit::run_python(
        include_str!("score.py"),
        &[
            dir.join("gt.json").to_str().unwrap(),
            path.to_str().unwrap(),
        ],
    );
    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(out.trim()).unwrap();
    v.into_iter()
        .map(|(k, a)| (k, a.as_f64().unwrap()))
        .collect()
}
