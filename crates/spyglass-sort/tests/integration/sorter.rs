//! `spyglass_sorter` on a SpikeInterface ground-truth recording (4 channels, 3
//! units, 20 s, fixed seed), scored by SpikeInterface's
//! `compare_sorter_to_ground_truth` run in the test; determinism; refusals.

use spyglass_sort::{run_sorter, InMemoryRecording, SortError, SorterParams, Sorting};

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
    spyglass_testkit::run_python(include_str!("generate.py"), &args);
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

#[test]
fn sorts_a_small_ground_truth_recording_deterministically() {
    let dir = spyglass_testkit::scratch_dir();
    let g = generate(dir.path(), 4, 3, 20.0, 42, false);
    let params = SorterParams::default();
    let a = run_sorter(&g.rec, &g.locations, &params).unwrap();
    let acc = score(dir.path(), &a);
    eprintln!("units found {}, accuracy {acc:?}", a.units.len());
    let mean = acc.iter().map(|p| p.1).sum::<f64>() / acc.len() as f64;
    assert_eq!(acc.len(), 3);
    assert!(
        mean >= 0.85,
        "mean accuracy {mean:.3} below the 0.85 floor: {acc:?}"
    );
    // same seed, same output — also on a single thread
    let b = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| run_sorter(&g.rec, &g.locations, &params).unwrap());
    assert_eq!(a, b);
}

#[test]
fn sorter_refuses_bad_input() {
    let rec = InMemoryRecording::new(vec![0.0; 4000], 2, 1000.0).unwrap();
    let locs = [[0.0, 0.0], [0.0, 20.0]];
    // a flat channel cannot be whitened
    assert!(matches!(
        run_sorter(&rec, &locs, &SorterParams::default()),
        Err(SortError::Invalid {
            what: "recording",
            ..
        })
    ));
    let p = SorterParams {
        detect_threshold: -1.0,
        ..SorterParams::default()
    };
    assert!(matches!(
        run_sorter(&rec, &locs, &p),
        Err(SortError::Invalid {
            what: "detect_threshold",
            ..
        })
    ));
    // parameters round-trip through JSON and unknown names are refused
    let json = serde_json::to_string(&SorterParams::default()).unwrap();
    assert_eq!(
        serde_json::from_str::<SorterParams>(&json).unwrap(),
        SorterParams::default()
    );
    assert!(serde_json::from_str::<SorterParams>(r#"{"detect_treshold": 5}"#).is_err());
}
