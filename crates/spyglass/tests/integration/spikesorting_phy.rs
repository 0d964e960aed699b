//! phy both ways on the synthetic tetrode session of `spikesorting_sorting`, sorted by
//! `spyglass_sorter`, its first curation labelled (unit 0 `accept`, the last unit `mua`):
//!
//! - `to_phy` writes a folder phylib 2.7's `TemplateModel` loads (no raw data file):
//!   per cluster (phylib's `unit_id` column from `cluster_unit_id.tsv`) the spike samples
//!   are `searchsorted(timestamps, t)` of the unit's spike times read by pynwb from the
//!   curation's analysis file, the spike times in seconds are samples ÷ rate, the groups
//!   are the labels mapped (accept → good, mua → mua, none → unsorted), the channel map
//!   is 0..4 with the electrodes' positions, templates are (units, 90, 4);
//! - phy's own writers (`TemplateModel.save_spike_clusters` / `save_metadata`) then
//!   merge clusters 0 and 1 into a new cluster (max + 1, labelled `good`) and label
//!   the last cluster `noise`; `from_phy` gives curation 1 with parent 0: units 0 and 1
//!   `accept` with each other as merge group, the last unit `noise, reject`, the other
//!   units as they were; with `--apply-merge`, curation 2 holds the merged unit
//!   (`max id + 1`, both trains, `accept`);
//! - refused, naming the file, with no curation inserted: a folder whose spike_times
//!   differ from the parent curation's, and one where phy split a unit.

use crate::common::*;
use crate::spikesorting_curation::sort;
use crate::spikesorting_sorting::chain;
use spyglass::spikesorting::{curation_v1 as cv, phy, recording_v1 as rec, sorting_v1 as ss};
use spyglass_kilosort::phy::PhyExportParams;
use spyglass_kilosort::{NpyArray, NpyData};
use std::collections::BTreeMap;
use std::path::Path;

/// phylib's TemplateModel on our folder, checked against pynwb reads of the curation
/// and the raw series; then phy's edits. Args JSON {folder, curation_file, raw_file,
/// raw_object_id, merge: [a, b], noise: c, merged_group}; prints a JSON report.
const ORACLE: &str = r#"
import json, sys
import numpy as np, pynwb
from phylib.io.model import load_model
a = json.load(open(sys.argv[1]))
with pynwb.NWBHDF5IO(a["curation_file"], "r", load_namespaces=True) as io:
    u = io.read().units.to_dataframe()
    units = {int(i): np.sort(np.asarray(t, dtype=float)) for i, t in zip(u.index, u["spike_times"])}
with pynwb.NWBHDF5IO(a["raw_file"], "r", load_namespaces=True) as io:
    ts = np.asarray(io.read().objects[a["raw_object_id"]].timestamps[:])
m = load_model(a["folder"] + "/params.py")
out = dict(n_spikes=int(m.n_spikes), has_traces=m.traces is not None, sample_rate=float(m.sample_rate),
           channel_map=[int(x) for x in m.channel_mapping], positions=m.channel_positions.tolist(),
           templates_shape=list(m.sparse_templates.data.shape), features_shape=list(m.features.shape),
           groups={str(k): v for k, v in m.metadata["group"].items()})
unit_of = {int(k): int(v) for k, v in m.metadata["unit_id"].items()}
out["unit_of"] = {str(k): v for k, v in unit_of.items()}
ok = True
for k, uid in unit_of.items():
    mine = m.spike_samples[m.spike_clusters == k]
    ok &= np.array_equal(mine, np.searchsorted(ts, units[uid], side="left"))
ok &= np.array_equal(m.spike_times, m.spike_samples / m.sample_rate)
out["samples_match"] = bool(ok)
out["all_units_exported"] = sorted(unit_of.values()) == sorted(units)
# phy's edits: merge two clusters into max + 1, label it and another cluster
sc = m.spike_clusters.copy()
new = int(sc.max()) + 1
sc[np.isin(sc, a["merge"])] = new
m.save_spike_clusters(sc)
groups = {int(k): v for k, v in m.metadata["group"].items() if int(k) not in a["merge"]}
groups[new] = a["merged_group"]
groups[a["noise"]] = "noise"
m.save_metadata("group", groups)
out["new_cluster"] = new
m.close()
print(json.dumps(out))
"#;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn labels_of(units: &[cv::CuratedUnit]) -> BTreeMap<i64, Vec<String>> {
    units.iter().map(|u| (u.id, u.labels.clone())).collect()
}

#[test]
fn to_phy_loads_in_phylib_and_phy_edits_come_back_as_a_child_curation() {
    let c = chain();
    let (db, settings) = (&c.env.db, &c.env.settings);
    let sorting_id = sort(&c, ss::NATIVE, "default");
    let ids: Vec<i64> = {
        let first =
            cv::insert_curation(db, settings, sorting_id, &cv::CurationInput::default()).unwrap();
        cv::get_sorting(db, &first.key())
            .unwrap()
            .iter()
            .map(|u| u.id)
            .collect()
    };
    assert!(ids.len() >= 3, "the sorter found units {ids:?}");
    let last = *ids.last().unwrap();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    // curation 1: the parent exported (unit 0 accept, the last unit mua)
    let parent = cv::insert_curation(
        db,
        settings,
        sorting_id,
        &cv::CurationInput {
            parent_curation_id: 0,
            labels: Some(BTreeMap::from([
                (ids[0], s(&["accept"])),
                (last, s(&["mua"])),
            ])),
            ..Default::default()
        },
    )
    .unwrap();
    let dir = spyglass_testkit::scratch_dir();
    let folder = dir.path().join("phy");
    let params = PhyExportParams {
        max_spikes_per_unit: None,
        ..Default::default()
    };
    let out = phy::to_phy(db, &parent.key(), &folder, &params).unwrap();
    assert_eq!(out.unit_ids, ids);
    let err = phy::to_phy(db, &parent.key(), &folder, &params).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    // a pristine copy for the refusals
    let pristine = dir.path().join("pristine");
    copy_dir(&folder, &pristine);

    let source = rec::recording_source(db, c.recording_id).unwrap();
    let path = |name: &str| spyglass::analysis::analysis_file_path(db, name).unwrap();
    let n = ids.len() as i64;
    let args = serde_json::json!({
        "folder": folder, "curation_file": path(&parent.analysis_file_name),
        "raw_file": source.raw_file, "raw_object_id": source.recipe.raw_object_id,
        "merge": [0, 1], "noise": n - 1, "merged_group": "good",
    });
    let argf = dir.path().join("args.json");
    std::fs::write(&argf, args.to_string()).unwrap();
    let o = spyglass_testkit::run_python(ORACLE, &[argf.to_str().unwrap()]);
    let r: serde_json::Value = serde_json::from_str(o.lines().last().unwrap()).unwrap();
    assert_eq!(r["samples_match"], true, "{r}");
    assert_eq!(r["all_units_exported"], true, "{r}");
    assert_eq!(r["has_traces"], false);
    assert_eq!(r["n_spikes"].as_u64().unwrap() as usize, out.n_spikes);
    assert_eq!(
        r["sample_rate"].as_f64().unwrap(),
        source.recipe.sampling_rate
    );
    assert_eq!(r["channel_map"], serde_json::json!([0, 1, 2, 3]));
    let locs = source.recipe.locations.clone().unwrap();
    assert_eq!(r["positions"], serde_json::json!(locs));
    assert_eq!(r["templates_shape"], serde_json::json!([n, 90, 4]));
    assert_eq!(r["features_shape"], serde_json::json!([out.n_spikes, 4, 5]));
    let mut groups = BTreeMap::new();
    for k in 0..n {
        let g = if k == 0 {
            "good"
        } else if k == n - 1 {
            "mua"
        } else {
            "unsorted"
        };
        groups.insert(k.to_string(), g);
    }
    assert_eq!(r["groups"], serde_json::json!(groups));
    assert_eq!(r["new_cluster"].as_i64().unwrap(), n);

    // back: the child curation
    let before = c.env.count(cv::CURATION);
    let child = phy::from_phy(db, settings, &folder, &phy::FromPhyOptions::default()).unwrap();
    assert_eq!((child.curation_id, child.parent_curation_id), (2, 1));
    assert!(!child.merges_applied);
    let units = cv::get_sorting(db, &child.key()).unwrap();
    assert_eq!(units.iter().map(|u| u.id).collect::<Vec<_>>(), ids);
    let mut want: BTreeMap<i64, Vec<String>> = ids.iter().map(|u| (*u, vec![])).collect();
    want.insert(ids[0], s(&["accept"]));
    want.insert(ids[1], s(&["accept"]));
    want.insert(last, s(&["noise", "reject"]));
    assert_eq!(labels_of(&units), want);
    for u in &units {
        let g = if u.id == ids[0] {
            vec![ids[1].to_string()]
        } else if u.id == ids[1] {
            vec![ids[0].to_string()]
        } else {
            vec![]
        };
        assert_eq!(u.merge_group, g, "unit {}", u.id);
    }
    // applied
    let applied = phy::from_phy(
        db,
        settings,
        &folder,
        &phy::FromPhyOptions {
            apply_merge: true,
            description: "phy, merged".into(),
        },
    )
    .unwrap();
    assert_eq!((applied.curation_id, applied.parent_curation_id), (3, 1));
    let units = cv::get_sorting(db, &applied.key()).unwrap();
    let merged_id = ids.iter().max().unwrap() + 1;
    let mut want_ids: Vec<i64> = ids[2..].to_vec();
    want_ids.push(merged_id);
    assert_eq!(units.iter().map(|u| u.id).collect::<Vec<_>>(), want_ids);
    let parent_units = cv::get_sorting(db, &parent.key()).unwrap();
    let mut both: Vec<f64> = parent_units[0]
        .spike_times
        .iter()
        .chain(&parent_units[1].spike_times)
        .copied()
        .collect();
    both.sort_by(f64::total_cmp);
    let merged = units.iter().find(|u| u.id == merged_id).unwrap();
    assert_eq!(merged.spike_times, both);
    assert_eq!(merged.labels, s(&["accept"]));
    assert_eq!(
        units.iter().find(|u| u.id == last).unwrap().labels,
        s(&["noise", "reject"])
    );
    assert_eq!(c.env.count(cv::CURATION), before + 2);

    // refused: spike times that are not the parent's
    let moved = dir.path().join("moved");
    copy_dir(&pristine, &moved);
    let st = NpyArray::read(&moved.join("spike_times.npy")).unwrap();
    let mut v = st.to_i64("spike_times").unwrap();
    v[0] += 1;
    NpyArray {
        shape: st.shape.clone(),
        data: NpyData::I64(v),
    }
    .write(&moved.join("spike_times.npy"))
    .unwrap();
    let e = phy::from_phy(db, settings, &moved, &Default::default()).unwrap_err();
    assert!(e.to_string().contains("spike_times.npy"), "{e}");
    // refused: a split unit
    let split = dir.path().join("split");
    copy_dir(&pristine, &split);
    let sc = NpyArray::read(&split.join("spike_clusters.npy")).unwrap();
    let mut v = sc.to_i64("spike_clusters").unwrap();
    let of_last: Vec<usize> = (0..v.len()).filter(|&i| v[i] == n - 1).collect();
    assert!(of_last.len() >= 2);
    v[of_last[0]] = n;
    NpyArray {
        shape: sc.shape.clone(),
        data: NpyData::I64(v),
    }
    .write(&split.join("spike_clusters.npy"))
    .unwrap();
    let e = phy::from_phy(db, settings, &split, &Default::default()).unwrap_err();
    assert!(e.to_string().contains("split"), "{e}");
    // not a to-phy folder
    std::fs::remove_file(split.join("spyglass.json")).unwrap();
    let e = phy::from_phy(db, settings, &split, &Default::default()).unwrap_err();
    assert!(e.to_string().contains("spyglass.json"), "{e}");
    assert_eq!(c.env.count(cv::CURATION), before + 2);
}
