//! `spyglass_sorter` on a SpikeInterface ground-truth recording (4 channels, 3
//! units, 20 s, fixed seed), scored by SpikeInterface's
//! `compare_sorter_to_ground_truth` run in the test; determinism; refusals.

use crate::gt::{generate, score};
use std::sync::atomic::{AtomicUsize, Ordering};

use spyglass_sort::{
    run_sorter, ChunkSource, InMemoryRecording, SortError, SorterParams, SourceError,
};

/// A source that forwards to an in-memory recording and remembers the longest read.
struct Counting<'a> {
    inner: &'a InMemoryRecording,
    longest: AtomicUsize,
}

impl ChunkSource for Counting<'_> {
    fn num_samples(&self) -> usize {
        self.inner.num_samples()
    }
    fn num_channels(&self) -> usize {
        self.inner.num_channels()
    }
    fn sampling_frequency(&self) -> f64 {
        self.inner.sampling_frequency()
    }
    fn read(&self, start: usize, end: usize, out: &mut [f32]) -> Result<(), SourceError> {
        self.longest.fetch_max(end - start, Ordering::Relaxed);
        self.inner.read(start, end, out)
    }
}

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
    // streaming: the same result through a source that is never read whole; no read
    // is longer than a chunk (2 s) plus its margins
    let counting = Counting {
        inner: &g.rec,
        longest: AtomicUsize::new(0),
    };
    let c = run_sorter(&counting, &g.locations, &params).unwrap();
    assert_eq!(a, c);
    let fs = g.rec.sampling_frequency();
    let longest = counting.longest.load(Ordering::Relaxed);
    assert!(
        longest as f64 <= 2.0 * fs + 0.01 * fs,
        "longest read {longest} samples"
    );
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
