//! `spyglass_sorter` on a SpikeInterface ground-truth recording (4 channels, 3
//! units, 20 s, fixed seed), scored by SpikeInterface's
//! `compare_sorter_to_ground_truth` run in the test; determinism; refusals.

use crate::gt::{generate, score};
use spyglass_sort::{run_sorter, InMemoryRecording, SortError, SorterParams};

#[test]
fn sorts_a_small_ground_truth_recording_deterministically() {
    let dir = spyglass_testkit::scratch_dir();
    let g = generate(dir.path(), 4, 3, 20.0, 42, false);
    assert_eq!(g.gt["units"].as_object().unwrap().len(), 3);
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
