//! The phy writer against SpikeInterface 0.105's `export_to_phy` and phylib 2.7's
//! `TemplateModel`, on a ground-truth recording SpikeInterface generates (8 channels,
//! 5 units, 20 s; the metrics bench's `gen.py`): both export the same float32 traces
//! and spike trains (SpikeInterface with `random_spikes(method="all")`, ours with every
//! spike, both 1 ms / 2 ms windows, dense, 5 whitened components per channel).
//!
//! Equal exactly: spike_times, spike_templates, spike_clusters, channel_map,
//! pc_feature_ind, channel positions (float32), amplitudes (the same samples read);
//! templates within 1e-6 of their largest value (float32 sums, possibly in another
//! order; measured equal); similar_templates within 1e-6 (measured 6e-8: float32
//! rounding); pc_features, after aligning each (component, channel)'s arbitrary sign,
//! within 1e-5 of their largest value (measured 8e-7: scikit-learn fits and projects in
//! float32, we in float64), with the same spikes left at zero at the recording's ends. phylib loads our folder (with recording.dat) without error: spike
//! times in seconds, clusters, channel map / positions, template and feature shapes,
//! amplitudes, groups and the traces as written.

use spyglass_kilosort::phy::{write_phy_folder, PhyExportParams, PhyGroup, PhyUnit};
use spyglass_sort::InMemoryRecording;

fn read_f32(p: &std::path::Path) -> Vec<f32> {
    std::fs::read(p)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

#[test]
fn phy_folder_equals_spikeinterface_export_and_loads_in_phylib() {
    let dir = spyglass_testkit::scratch_dir();
    let d = dir.path();
    spyglass_testkit::run_python(
        include_str!("../../../spyglass-metrics/benches/gen.py"),
        &[d.to_str().unwrap(), "8", "5", "20"],
    );
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("units.json")).unwrap()).unwrap();
    let nc = meta["n_channels"].as_u64().unwrap() as usize;
    let fs = meta["fs"].as_f64().unwrap();
    let rec = InMemoryRecording::new(read_f32(&d.join("traces.f32")), nc, fs).unwrap();
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
    let units: Vec<PhyUnit> = (0..meta["units"].as_object().unwrap().len())
        .map(|k| PhyUnit {
            id: k as i64,
            samples: meta["units"][k.to_string()]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_i64().unwrap())
                .collect(),
            group: if k == 1 {
                PhyGroup::Noise
            } else {
                PhyGroup::Unsorted
            },
        })
        .collect();
    let params = PhyExportParams {
        max_spikes_per_unit: None,
        write_recording: true,
        ..Default::default()
    };
    let ours = d.join("ours");
    let out = write_phy_folder(&rec, &units, &locs, &params, &[], &ours).unwrap();
    assert_eq!(out.unit_ids, vec![0, 1, 2, 3, 4]);
    // never overwritten
    let again = write_phy_folder(&rec, &units, &locs, &params, &[], &ours).unwrap_err();
    assert!(again.to_string().contains("already exists"), "{again}");
    // no temporary folder left
    let names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".tmp")), "{names:?}");

    let si = d.join("si");
    let o = spyglass_testkit::run_python(
        include_str!("../py/si_phy.py"),
        &[
            d.to_str().unwrap(),
            ours.to_str().unwrap(),
            si.to_str().unwrap(),
        ],
    );
    let r: serde_json::Value = serde_json::from_str(o.lines().last().unwrap()).unwrap();
    eprintln!("{r}");
    for f in [
        "spike_times.npy",
        "spike_templates.npy",
        "spike_clusters.npy",
        "channel_map.npy",
        "pc_feature_ind.npy",
        "pc_zero_rows_equal",
    ] {
        assert_eq!(r[f], true, "{f}: {r}");
    }
    assert_eq!(r["channel_positions"].as_f64().unwrap(), 0.0);
    assert_eq!(r["templates_shape"][0], r["templates_shape"][1]);
    assert_eq!(r["templates_shape"][0], serde_json::json!([5, 90, 8]));
    assert!(r["templates_rel"].as_f64().unwrap() < 1e-6, "{r}");
    assert_eq!(r["amplitudes_rel"].as_f64().unwrap(), 0.0, "{r}");
    assert_eq!(r["pc_shape"][0], r["pc_shape"][1]);
    assert!(r["pc_rel"].as_f64().unwrap() < 1e-5, "{r}");
    assert!(r["similar_abs"].as_f64().unwrap() < 1e-6, "{r}");
    let m = &r["model"];
    let n = out.n_spikes as u64;
    assert_eq!(m["n_spikes"].as_u64().unwrap(), n);
    for f in [
        "times_equal",
        "clusters_equal",
        "amplitudes_equal",
        "traces_equal",
    ] {
        assert_eq!(m[f], true, "{f}: {m}");
    }
    assert_eq!(m["cluster_ids"], serde_json::json!([0, 1, 2, 3, 4]));
    assert_eq!(
        m["channel_map"],
        serde_json::json!((0..nc).collect::<Vec<_>>())
    );
    assert!(m["positions_abs"].as_f64().unwrap() < 1e-4);
    assert_eq!(m["templates_shape"], serde_json::json!([5, 90, 8]));
    assert_eq!(m["features_shape"], serde_json::json!([n, 8, 5]));
    assert_eq!(m["groups"]["1"], "noise");
    assert_eq!(m["groups"]["0"], "unsorted");
    assert_eq!(m["sample_rate"].as_f64().unwrap(), fs);
}
