//! Autocorrelograms against SpikeInterface 0.105's `compute_correlograms` (both its
//! numpy and numba methods, which agree): on random trains with added lags of exactly
//! the window, one bin, one sample and zero (spikes on the same sample), at three
//! rates / windows / bins (one where the window is cut to a multiple of the bin and
//! one where the half window rounds half to even), the bin sizes equal `_make_bins`'
//! and every count equals SpikeInterface's exactly.

use spyglass_metrics::correlograms::{autocorrelogram, correlogram_bins};

#[test]
fn autocorrelograms_equal_spikeinterface() {
    let out = spyglass_testkit::run_python(include_str!("../py/si_correlograms.py"), &[]);
    let cases: serde_json::Value =
        serde_json::from_str(out.lines().last().expect("oracle output")).expect("oracle JSON");
    let cases = cases.as_array().expect("cases");
    assert_eq!(cases.len(), 3);
    for c in cases {
        let fs = c["fs"].as_f64().unwrap();
        let bins = correlogram_bins(
            fs,
            c["window_ms"].as_f64().unwrap(),
            c["bin_ms"].as_f64().unwrap(),
        )
        .unwrap();
        assert_eq!(
            bins.window_size,
            c["window_size"].as_i64().unwrap(),
            "{fs} Hz"
        );
        assert_eq!(bins.bin_size, c["bin_size"].as_i64().unwrap(), "{fs} Hz");
        let edges = c["numpy_edges"].as_array().unwrap();
        assert_eq!(edges.len(), bins.num_bins() + 1);
        for (k, e) in edges.iter().take(bins.num_bins()).enumerate() {
            assert!((bins.left_edge_ms(k, fs) - e.as_f64().unwrap()).abs() < 1e-9);
        }
        let mut methods = 0;
        for method in ["numpy", "numba"] {
            let Some(theirs) = c[method].as_array() else {
                continue;
            };
            methods += 1;
            for (u, train) in c["trains"].as_array().unwrap().iter().enumerate() {
                let samples: Vec<i64> = train
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_i64().unwrap())
                    .collect();
                let ours = autocorrelogram(&samples, bins).unwrap();
                let si: Vec<u64> = theirs[u]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_u64().unwrap())
                    .collect();
                assert_eq!(
                    ours, si,
                    "{fs} Hz, unit {u}, SpikeInterface's {method} method"
                );
                assert!(si.iter().sum::<u64>() > 0, "a case that counts something");
            }
        }
        assert!(methods >= 1, "SpikeInterface computed no correlogram");
    }
}
