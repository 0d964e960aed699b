//! phy both ways on the synthetic tetrode session of `spikesorting_sorting`, sorted by
//! `spyglass_sorter` (units 0 and 1), its curation 1 labelled (unit 0 `accept`, unit 1
//! `mua`):
//!
//! - `to_phy` writes a folder phylib 2.7's `TemplateModel` loads (no raw data file):
//!   per cluster (phylib's `unit_id` column from `cluster_unit_id.tsv`) the spike samples
//!   are `searchsorted(timestamps, t)` of the unit's spike times read by pynwb from the
//!   curation's analysis file, the spike times in seconds are samples ÷ rate, the groups
//!   are the labels mapped (accept → good, mua → mua), the channel map is 0..4 with the
//!   electrodes' positions, templates are (2, 90, 4) and features (spikes, 4, 5);
//! - phy's own writers (`TemplateModel.save_spike_clusters` / `save_metadata`) edit two
//!   copies: in one, cluster 1 is labelled `noise` — `from_phy` gives a child (parent 1)
//!   with unit 0 `accept` (left alone, kept) and unit 1 `noise, reject`, no merge; in the
//!   other, clusters 0 and 1 are merged into cluster 2 (max + 1) labelled `good` — the
//!   child has both units `accept` with each other as merge group, and with
//!   `apply_merge` one unit 2 (both trains, `accept`);
//! - refused, naming the file, with no curation inserted: a folder whose spike_times
//!   differ from the parent curation's, one where phy split a unit, and one without
//!   `spyglass.json`.

use crate::spikesorting_sorting::chain;
use crate::spikesorting_sorting::sort;
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
ok = True
for k, uid in unit_of.items():
    mine = m.spike_samples[m.spike_clusters == k]
    ok &= np.array_equal(mine, np.searchsorted(ts, units[uid], side="left"))
ok &= np.array_equal(m.spike_times, m.spike_samples / m.sample_rate)
out["samples_match"] = bool(ok)
out["all_units_exported"] = sorted(unit_of.values()) == sorted(units)
# phy's edits: merge clusters into max + 1 ("new" in labels), label clusters
sc = m.spike_clusters.copy()
new = int(sc.max()) + 1
groups = {int(k): v for k, v in m.metadata["group"].items()}
if a["merge"]:
    sc[np.isin(sc, a["merge"])] = new
    m.save_spike_clusters(sc)
    groups = {k: v for k, v in groups.items() if k not in a["merge"]}
for k, g in a["labels"].items():
    groups[new if k == "new" else int(k)] = g
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
    assert_eq!(ids, vec![0, 1], "the sorter found units {ids:?}");
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    // curation 1: the parent exported (unit 0 accept, unit 1 mua)
    let parent = cv::insert_curation(
        db,
        settings,
        sorting_id,
        &cv::CurationInput {
            parent_curation_id: 0,
            labels: Some(BTreeMap::from([(0, s(&["accept"])), (1, s(&["mua"]))])),
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
    // copies: one per edit, a pristine one for the refusals
    let pristine = dir.path().join("pristine");
    let merged_folder = dir.path().join("merged");
    copy_dir(&folder, &pristine);
    copy_dir(&folder, &merged_folder);

    let source = rec::recording_source(db, c.recording_id).unwrap();
    let path = |name: &str| spyglass::analysis::analysis_file_path(db, name).unwrap();
    let phy_edit = |folder: &Path, merge: serde_json::Value, labels: serde_json::Value| {
        let args = serde_json::json!({
            "folder": folder, "curation_file": path(&parent.analysis_file_name),
            "raw_file": source.raw_file, "raw_object_id": source.recipe.raw_object_id,
            "merge": merge, "labels": labels,
        });
        let argf = folder.with_extension("json");
        std::fs::write(&argf, args.to_string()).unwrap();
        let o = spyglass_testkit::run_python(ORACLE, &[argf.to_str().unwrap()]);
        serde_json::from_str::<serde_json::Value>(o.lines().last().unwrap()).unwrap()
    };
    let r = phy_edit(
        &folder,
        serde_json::json!([]),
        serde_json::json!({"1": "noise"}),
    );
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
    assert_eq!(r["templates_shape"], serde_json::json!([2, 90, 4]));
    assert_eq!(r["features_shape"], serde_json::json!([out.n_spikes, 4, 5]));
    assert_eq!(r["groups"], serde_json::json!({"0": "good", "1": "mua"}));

    // back: labels only
    let before = c.env.count(cv::CURATION);
    let child = phy::from_phy(db, settings, &folder, &phy::FromPhyOptions::default()).unwrap();
    assert_eq!((child.curation_id, child.parent_curation_id), (2, 1));
    assert!(!child.merges_applied);
    let units = cv::get_sorting(db, &child.key()).unwrap();
    assert_eq!(units.iter().map(|u| u.id).collect::<Vec<_>>(), ids);
    assert_eq!(
        labels_of(&units),
        BTreeMap::from([(0, s(&["accept"])), (1, s(&["noise", "reject"]))])
    );
    assert!(units.iter().all(|u| u.merge_group.is_empty()));

    // back: a merge, recorded then applied
    let r = phy_edit(
        &merged_folder,
        serde_json::json!([0, 1]),
        serde_json::json!({"new": "good"}),
    );
    assert_eq!(r["new_cluster"].as_i64().unwrap(), 2);
    let child = phy::from_phy(db, settings, &merged_folder, &Default::default()).unwrap();
    assert_eq!((child.curation_id, child.parent_curation_id), (3, 1));
    let units = cv::get_sorting(db, &child.key()).unwrap();
    assert_eq!(
        labels_of(&units),
        BTreeMap::from([(0, s(&["accept"])), (1, s(&["accept"]))])
    );
    assert_eq!(units[0].merge_group, s(&["1"]));
    assert_eq!(units[1].merge_group, s(&["0"]));
    let applied = phy::from_phy(
        db,
        settings,
        &merged_folder,
        &phy::FromPhyOptions {
            apply_merge: true,
            description: "phy, merged".into(),
        },
    )
    .unwrap();
    assert_eq!((applied.curation_id, applied.parent_curation_id), (4, 1));
    assert!(applied.merges_applied);
    let units = cv::get_sorting(db, &applied.key()).unwrap();
    let parent_units = cv::get_sorting(db, &parent.key()).unwrap();
    let mut both: Vec<f64> = parent_units[0]
        .spike_times
        .iter()
        .chain(&parent_units[1].spike_times)
        .copied()
        .collect();
    both.sort_by(f64::total_cmp);
    assert_eq!(units.len(), 1);
    assert_eq!(units[0].id, 2);
    assert_eq!(units[0].spike_times, both);
    assert_eq!(units[0].labels, s(&["accept"]));
    assert_eq!(c.env.count(cv::CURATION), before + 3);

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
    // refused: a split unit (one spike of cluster 1 moved to a new cluster 2)
    let split = dir.path().join("split");
    copy_dir(&pristine, &split);
    let sc = NpyArray::read(&split.join("spike_clusters.npy")).unwrap();
    let mut v = sc.to_i64("spike_clusters").unwrap();
    let first_of_1 = v.iter().position(|&x| x == 1).unwrap();
    v[first_of_1] = 2;
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
    assert_eq!(c.env.count(cv::CURATION), before + 3);
}
