//! SpikeInterface 0.105 as the oracle: on a ground-truth recording it generates (8
//! channels, 6 units, 130 s), `tests/py/si_metrics.py` runs create_sorting_analyzer →
//! random_spikes(all) / waveforms / templates / noise_levels / spike_amplitudes /
//! principal_components → compute_quality_metrics, and Spyglass's direct calls of
//! nearest_neighbors_isolation / nearest_neighbors_noise_overlap (franklab_default
//! parameters). We read the same float32 traces and compare.
//!
//! Tolerances: deterministic metrics 1e-6 relative. The random draws of SpikeInterface
//! are reproduced rather than tolerated: the noise-level chunks, the nn_noise_overlap
//! noise snippets and the whitening chunks are SpikeInterface's own slices (read from
//! `get_random_sample_slices` with the same seeds), the noise-snippet subset is numpy's
//! `default_rng(0).choice`, and every unit has the same spike count below max_spikes, so
//! nn_isolation's subsets are permutations of all spikes. The PCA metrics then differ
//! only by float32 (sklearn) vs float64 (ours) arithmetic: nn_isolation / noise overlap
//! are neighbour counts (equal unless a distance tie flips: 1e-3 absolute allows two of
//! ~2000 memberships), the silhouette 1e-4 absolute (IncrementalPCA's float32 SVD).

use spyglass_metrics::metrics::{amplitude_cutoff, compute_from_parts, MetricParams, NN_ISOLATION};
use spyglass_metrics::waveforms::{extract_waveforms, templates, whitening_matrix, WaveformParams};
use spyglass_metrics::{noise_levels, InMemoryRecording};

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-12)
}

fn f64s(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

#[test]
fn metrics_equal_spikeinterface() {
    let dir = spyglass_testkit::scratch_dir();
    let d = dir.path();
    spyglass_testkit::run_python(
        include_str!("../py/si_metrics.py"),
        &[d.to_str().unwrap(), "8", "6", "130", "7"],
    );
    let si: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("si.json")).unwrap()).unwrap();
    let nc = si["n_channels"].as_u64().unwrap() as usize;
    let fs = si["fs"].as_f64().unwrap();
    let data: Vec<f32> = std::fs::read(d.join("traces.f32"))
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let locs: Vec<[f64; 2]> = std::fs::read(d.join("locations.f8"))
        .unwrap()
        .chunks_exact(16)
        .map(|b| {
            [
                f64::from_le_bytes(b[..8].try_into().unwrap()),
                f64::from_le_bytes(b[8..].try_into().unwrap()),
            ]
        })
        .collect();
    let rec = InMemoryRecording::new(data, nc, fs).unwrap();
    let units = si["units"].as_object().unwrap();
    let trains: Vec<Vec<i64>> = (0..units.len())
        .map(|u| {
            units[&u.to_string()]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_i64().unwrap())
                .collect()
        })
        .collect();

    // waveforms and templates
    let wp = WaveformParams {
        max_spikes_per_unit: None,
        chunk_samples: 4096,
        ..Default::default()
    };
    let wf = extract_waveforms(&rec, &trains, &wp).unwrap();
    assert_eq!(wf.nbefore as u64, si["nbefore"].as_u64().unwrap());
    assert_eq!(wf.nafter as u64, si["nafter"].as_u64().unwrap());
    let tpl = templates(&wf);
    for (name, ours) in [
        ("template_average", &tpl.average),
        ("template_median", &tpl.median),
    ] {
        for (u, t) in si[name].as_array().unwrap().iter().enumerate() {
            let theirs: Vec<f64> = t.as_array().unwrap().iter().flat_map(f64s).collect();
            let scale = theirs.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            for (k, (a, b)) in ours[u].iter().zip(&theirs).enumerate() {
                assert!(
                    (*a as f64 - b).abs() <= 1e-6 * scale,
                    "{name} unit {u} value {k}: {a} vs {b}"
                );
            }
        }
    }
    let main = tpl.main_channels(spyglass_metrics::PeakSign::Neg);
    let si_main: Vec<usize> = si["main"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(main, si_main, "peak channels");

    // noise levels on SpikeInterface's chunks
    let starts: Vec<usize> = si["noise_starts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect();
    let noise = noise_levels(&rec, &starts, 10_000).unwrap();
    for (a, b) in noise.iter().zip(f64s(&si["noise_levels"])) {
        assert!(rel(*a as f64, b) < 1e-6, "noise level {a} vs {b}");
    }

    // whitening matrix on SpikeInterface's chunks
    let wst: Vec<usize> = si["whiten_starts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect();
    let w = whitening_matrix(&rec, &wst, 10_000, None).unwrap();
    let si_w: Vec<f64> = si["whiten_w"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(f64s)
        .collect();
    let wscale = si_w.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    for (a, b) in w.iter().zip(&si_w) {
        assert!((a - b).abs() <= 1e-4 * wscale, "whitening {a} vs {b}");
    }

    // metrics, with SpikeInterface's random draws replayed
    let nn_starts: Vec<usize> = si["nn_noise_starts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect();
    let choice: Vec<usize> = si["noise_choice"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect();
    let params = MetricParams::default();
    let q = compute_from_parts(
        &rec,
        &trains,
        &locs,
        &wf,
        tpl,
        noise,
        &nn_starts,
        &params,
        &|_, metric| {
            let choice = choice.clone();
            let b: Box<dyn FnMut(usize, usize) -> Vec<usize> + Send> = if metric == NN_ISOLATION {
                // equal counts: SpikeInterface draws a permutation of all spikes
                Box::new(|n: usize, k: usize| {
                    assert_eq!(n, k, "nn_isolation would subsample");
                    (0..n).collect()
                })
            } else {
                Box::new(move |n: usize, k: usize| {
                    assert_eq!((n, k), (1000, choice.len()));
                    choice.clone()
                })
            };
            b
        },
    )
    .unwrap();
    let m = &si["metrics"];
    for (u, um) in q.units.iter().enumerate() {
        let col = |c: &str| m[c][u].as_f64().unwrap_or(f64::NAN);
        assert_eq!(um.num_spikes as f64, col("num_spikes"));
        assert!(rel(um.firing_rate, col("firing_rate")) < 1e-12);
        assert!(rel(um.presence_ratio, col("presence_ratio")) < 1e-12);
        assert!(
            rel(um.snr, col("snr")) < 1e-6,
            "unit {u} snr {} vs {}",
            um.snr,
            col("snr")
        );
        assert_eq!(
            um.isi_violations_count as f64,
            col("isi_violations_count"),
            "unit {u}"
        );
        assert!(
            rel(um.isi_violations_ratio, col("isi_violations_ratio")) < 1e-12,
            "unit {u}"
        );
        let ac = col("amplitude_cutoff");
        assert!(
            (um.amplitude_cutoff - ac).abs() < 1e-12
                || (ac.is_nan() && um.amplitude_cutoff.is_nan()),
            "unit {u} amplitude_cutoff {} vs {ac}",
            um.amplitude_cutoff
        );
        assert!(
            (um.silhouette - col("silhouette")).abs() < 1e-4,
            "unit {u} silhouette {} vs {}",
            um.silhouette,
            col("silhouette")
        );
        let iso = si["nn_isolation"][u].as_f64().unwrap();
        let nov = si["nn_noise_overlap"][u].as_f64().unwrap();
        assert!(
            (um.nn_isolation - iso).abs() <= 1e-3,
            "unit {u} nn_isolation {} vs {iso}",
            um.nn_isolation
        );
        assert!(
            (um.nn_noise_overlap - nov).abs() <= 1e-3,
            "unit {u} nn_noise_overlap {} vs {nov}",
            um.nn_noise_overlap
        );
        eprintln!(
            "unit {u}: snr {:.6}/{:.6} iso {:.6}/{iso:.6} noise {:.6}/{nov:.6} sil {:.6}/{:.6}",
            um.snr,
            col("snr"),
            um.nn_isolation,
            um.nn_noise_overlap,
            um.silhouette,
            col("silhouette")
        );
    }
}

/// amplitude_cutoff on a truncated amplitude distribution, by the numbers of SpikeInterface's
/// `amplitude_cutoff` (run in the oracle venv on the same amplitudes).
#[test]
fn amplitude_cutoff_of_a_truncated_distribution() {
    // a Gaussian-like (sum of uniforms) distribution cut below 90
    let mut rng = spyglass_sort::rng::Rng::new(5, 0);
    let amps: Vec<f32> = (0..3000)
        .map(|_| (100.0 + 20.0 * ((0..12).map(|_| rng.next_f64()).sum::<f64>() - 6.0)) as f32)
        .filter(|a| *a > 90.0)
        .collect();
    let dir = spyglass_testkit::scratch_dir();
    let p = dir.path().join("amps.f32");
    std::fs::write(
        &p,
        amps.iter()
            .flat_map(|a| a.to_le_bytes())
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let out = spyglass_testkit::run_python(
        "import sys, numpy as np\nfrom spikeinterface.metrics.quality.misc_metrics import amplitude_cutoff\n\
a = np.fromfile(sys.argv[1], dtype='<f4')\nprint(repr(float(amplitude_cutoff(a, 100, 3, 5))))\n",
        &[p.to_str().unwrap()],
    );
    let theirs: f64 = out.trim().parse().unwrap();
    let ours = amplitude_cutoff(&amps, 100, 3.0, 5.0);
    assert!(theirs > 0.0, "the cut should be detected: {theirs}");
    assert!((ours - theirs).abs() < 1e-12, "{ours} vs {theirs}");
    let neg: Vec<f32> = amps.iter().map(|a| -a).collect();
    assert!((amplitude_cutoff(&neg, 100, 3.0, 5.0) - theirs).abs() < 1e-12);
}
