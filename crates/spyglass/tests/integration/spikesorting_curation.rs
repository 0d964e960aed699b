//! spikesorting_v1_curation on the synthetic tetrode session of
//! `spikesorting_sorting`, sorted by `spyglass_sorter`:
//!
//! - a first curation (labels, merge groups recorded) and a child curation with the
//!   merge applied: each analysis file, read by pynwb, equals the file Spyglass's
//!   own `_write_sorting_to_nwb_with_curation` (its source, run in the Spyglass
//!   environment on the same sorting file with the same arguments) writes — ids,
//!   spike times (a merged unit's sorted: Spyglass leaves them unsorted), `curation_label`, `merge_groups`; curation ids 0, 1 and parents;
//! - `get_merged_sorting` equals SpikeInterface's `MergeUnitsSorting` on the units
//!   with the groups Spyglass's `_merge_dict_to_list` makes of the stored column;
//! - SpikeSortingOutput's CurationV1 part: the merge id is DataJoint's key hash and
//!   `get_spike_times` through it gives the curation's spike trains;
//! - bad input (an unknown unit in labels or merge groups, a group of one unit, a
//!   parent curation of another sorting) is refused, naming it, with the database and
//!   the analysis directory unchanged.

use crate::common::*;
use crate::spikesorting_sorting::{chain, sort};
use spyglass::spikesorting::{curation_v1 as cv, sorting_v1 as ss};
use spyglass_db::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Spyglass's `_write_sorting_to_nwb_with_curation` (its source) with the database
/// calls answered by stubs (the sorting file given, a fresh NWB file created), and
/// our curation files read by pynwb. Args JSON {sorting, dir, cases: [{labels,
/// merge_groups, apply_merge, ours}]}; prints [{spyglass, ours}] as unit tables.
const ORACLE: &str = r#"
import ast, importlib.util, json, os, sys, uuid
from datetime import datetime, timezone
import numpy as np, pynwb
a = json.load(open(sys.argv[1]))
root = importlib.util.find_spec("spyglass").submodule_search_locations[0]
path = root + "/spikesorting/v1/curation.py"
tree = ast.parse(open(path).read())
fns = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
class _Q:
    def __init__(self, v): self.v = v
    def fetch1(self, *k): return self.v
class _T:
    def __init__(self, v): self.v = v
    def __and__(self, key): return _Q(self.v)
class AnalysisNwbfile:
    def create(self, nwb_file_name):
        name = f"{uuid.uuid4().hex}.nwb"
        f = pynwb.NWBFile(session_description="x", identifier=name,
                          session_start_time=datetime(2023, 6, 22, tzinfo=timezone.utc))
        with pynwb.NWBHDF5IO(os.path.join(a["dir"], name), "w") as io:
            io.write(f)
        return name
    @staticmethod
    def get_abs_path(name):
        return a["sorting"] if name == "SORTING" else os.path.join(a["dir"], name)
ns = dict(np=np, pynwb=pynwb, Dict=dict, List=list, Union=__import__("typing").Union,
          SpikeSortingSelection=_T("x_.nwb"), SpikeSorting=_T("SORTING"), AnalysisNwbfile=AnalysisNwbfile)
exec(compile(ast.Module(fns, []), path, "exec"), ns)
def table(p, ascending=False):
    with pynwb.NWBHDF5IO(p, "r", load_namespaces=True) as io:
        u = io.read().units.to_dataframe()
    # Spyglass writes a merged unit's trains concatenated, unsorted: compared sorted
    order = sorted if ascending else list
    out = dict(ids=[int(i) for i in u.index], spike_times=[order(map(float, x)) for x in u["spike_times"]],
               columns=sorted(c for c in u.columns))
    for c in ("curation_label", "merge_groups"):
        if c in u.columns:
            out[c] = [list(map(str, x)) for x in u[c]]
    if "snr" in u.columns:
        out["snr"] = [float(x) for x in u["snr"]]
    return out
res = []
for c in a["cases"]:
    labels = None if c["labels"] is None else {int(k): v for k, v in c["labels"].items()}
    metrics = None if c["metrics"] is None else {m: {int(k): v for k, v in d.items()} for m, d in c["metrics"].items()}
    name, _ = ns["_write_sorting_to_nwb_with_curation"](
        sorting_id="s", labels=labels, merge_groups=c["merge_groups"], apply_merge=c["apply_merge"], metrics=metrics)
    res.append(dict(spyglass=table(os.path.join(a["dir"], name), True), ours=table(c["ours"])))
print(json.dumps(res))
"#;

/// SpikeInterface's `MergeUnitsSorting` on a curation's units (times → frames at
/// `fs`), the groups made by Spyglass's `_merge_dict_to_list` (its source) of the
/// stored `merge_groups` column as a dict. Args JSON {file, fs}; prints {id: frames}.
const MERGED: &str = r#"
import ast, importlib.util, json, sys
import numpy as np, pynwb
import spikeinterface as si, spikeinterface.curation as sc
a = json.load(open(sys.argv[1]))
root = importlib.util.find_spec("spyglass").submodule_search_locations[0]
path = root + "/spikesorting/v1/curation.py"
tree = ast.parse(open(path).read())
fns = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
ns = dict(List=list, Dict=dict, Union=__import__("typing").Union)
exec(compile(ast.Module(fns, []), path, "exec"), ns)
with pynwb.NWBHDF5IO(a["file"], "r", load_namespaces=True) as io:
    u = io.read().units.to_dataframe()
fs = a["fs"]
units = {int(i): np.round(np.asarray(t) * fs).astype(np.int64) for i, t in zip(u.index, u["spike_times"])}
groups = ns["_merge_dict_to_list"]({int(i): [int(x) for x in g if x != ""] for i, g in zip(u.index, u["merge_groups"])})
sorting = si.NumpySorting.from_unit_dict([units], sampling_frequency=fs)
merged = sc.MergeUnitsSorting(parent_sorting=sorting, units_to_merge=groups)
print(json.dumps({str(int(i)): merged.get_unit_spike_train(i).tolist() for i in merged.get_unit_ids()}))
"#;

/// Every file under `dir`, recursively.
fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn labels(pairs: &[(i64, &[&str])]) -> BTreeMap<i64, Vec<String>> {
    pairs
        .iter()
        .map(|(k, v)| (*k, v.iter().map(|s| s.to_string()).collect()))
        .collect()
}

#[test]
fn curations_equal_spyglass_and_bad_input_changes_nothing() {
    let c = chain();
    let (db, settings) = (&c.env.db, &c.env.settings);
    let native = sort(&c, ss::NATIVE, "default");
    let clusterless = sort(&c, ss::CLUSTERLESS, "default_clusterless");
    let sorting: ss::SortingRow = {
        use spyglass::kit::Tables;
        db.row(ss::SORTING, &ss::SortingKey { sorting_id: native })
            .unwrap()
    };
    let sorting_path =
        spyglass::analysis::analysis_file_path(db, &sorting.analysis_file_name).unwrap();
    let none = cv::CurationKey {
        sorting_id: native,
        curation_id: 0,
    };
    assert!(cv::get_sorting(db, &none).is_err(), "no curation yet");
    let units = spyglass_nwb::NwbFile::open(&sorting_path)
        .unwrap()
        .units()
        .unwrap()
        .unwrap()
        .ids
        .clone();
    assert!(units.len() >= 2, "the sorter found {units:?}");
    let (u0, u1) = (units[0], units[1]);
    let new_id = units.iter().max().unwrap() + 1;

    // a first curation: labels on two units, one merge group recorded
    let first = cv::CurationInput {
        parent_curation_id: -1,
        labels: Some(labels(&[(u0, &["noise", "reject"]), (u1, &["accept"])])),
        merge_groups: Some(vec![vec![u1, u0]]),
        apply_merge: false,
        metrics: Some(vec![(
            "snr".to_string(),
            units.iter().map(|u| (*u, 1.5 + *u as f64)).collect(),
        )]),
        description: "first".into(),
    };
    let r0 = cv::insert_curation(db, settings, native, &first).unwrap();
    assert_eq!((r0.curation_id, r0.parent_curation_id), (0, -1));
    assert!(!r0.merges_applied);
    // a child: the merge applied, the merged unit labelled
    let child = cv::CurationInput {
        parent_curation_id: 0,
        labels: Some(labels(&[(new_id, &["mua"])])),
        merge_groups: Some(vec![vec![u1, u0]]),
        apply_merge: true,
        metrics: None,
        description: "merged".into(),
    };
    let r1 = cv::insert_curation(db, settings, native, &child).unwrap();
    assert_eq!((r1.curation_id, r1.parent_curation_id), (1, 0));
    assert!(r1.merges_applied);
    assert_ne!(r0.analysis_file_name, r1.analysis_file_name);
    // a curation of the other sorting starts at 0 again
    let rc = cv::insert_curation(db, settings, clusterless, &cv::CurationInput::default()).unwrap();
    assert_eq!((rc.curation_id, rc.parent_curation_id), (0, -1));
    assert_eq!(c.env.count(cv::CURATION), 3);

    // both files against Spyglass's writer
    let dir = spyglass_testkit::scratch_dir();
    let path_of = |r: &cv::CurationRow| {
        spyglass::analysis::analysis_file_path(db, &r.analysis_file_name).unwrap()
    };
    let case = |i: &cv::CurationInput, r: &cv::CurationRow| {
        serde_json::json!({
            "labels": i.labels.as_ref().map(|l| l.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<BTreeMap<_, _>>()),
            "merge_groups": i.merge_groups, "apply_merge": i.apply_merge, "ours": path_of(r),
            "metrics": i.metrics.as_ref().map(|m| m.iter().map(|(k, v)| (k.clone(), v.iter().map(|(u, x)| (u.to_string(), *x)).collect::<BTreeMap<_, _>>())).collect::<BTreeMap<_, _>>()),
        })
    };
    let args = serde_json::json!({
        "sorting": sorting_path, "dir": dir.path(),
        "cases": [case(&first, &r0), case(&child, &r1)],
    });
    let argf = dir.path().join("args.json");
    std::fs::write(&argf, args.to_string()).unwrap();
    let out = spyglass_testkit::run_spyglass_python(ORACLE, &[argf.to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    for (k, r) in report.as_array().unwrap().iter().enumerate() {
        assert_eq!(r["ours"], r["spyglass"], "curation {k}");
    }
    // and by hand: the recorded groups, the applied merge
    let t0 = &report[0]["ours"];
    assert_eq!(t0["ids"], serde_json::json!(units));
    assert_eq!(
        t0["curation_label"][0],
        serde_json::json!(["noise", "reject"])
    );
    assert_eq!(t0["merge_groups"][0], serde_json::json!([u1.to_string()]));
    assert_eq!(t0["merge_groups"][1], serde_json::json!([u0.to_string()]));
    let t1 = &report[1]["ours"];
    let n = units.len();
    assert_eq!(t1["ids"][n - 2], serde_json::json!(new_id));
    assert!(t1.get("merge_groups").is_none());
    let curated0 = cv::get_sorting(db, &r0.key()).unwrap();
    let mut merged_times: Vec<f64> = [u1, u0]
        .iter()
        .flat_map(|u| {
            curated0
                .iter()
                .find(|x| x.id == *u)
                .unwrap()
                .spike_times
                .clone()
        })
        .collect();
    merged_times.sort_by(f64::total_cmp);
    let pynwb_merged: Vec<f64> = serde_json::from_value(t1["spike_times"][n - 2].clone()).unwrap();
    assert_eq!(pynwb_merged.len(), merged_times.len());
    for (a, b) in pynwb_merged.iter().zip(&merged_times) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b} (JSON's last digit)");
    }
    let curated1 = cv::get_sorting(db, &r1.key()).unwrap();
    assert_eq!(curated1[n - 2].spike_times, merged_times);
    assert_eq!(curated1.len(), n - 1);
    assert_eq!(curated1[n - 2].labels, vec!["mua".to_string()]);

    // get_merged_sorting of the first curation against MergeUnitsSorting
    let fs = 30_000.0;
    let args = serde_json::json!({"file": path_of(&r0), "fs": fs});
    std::fs::write(&argf, args.to_string()).unwrap();
    let out = spyglass_testkit::run_spyglass_python(MERGED, &[argf.to_str().unwrap()]);
    let want: BTreeMap<String, Vec<i64>> =
        serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let ours: BTreeMap<String, Vec<i64>> = cv::get_merged_sorting(db, &r0.key())
        .unwrap()
        .into_iter()
        .map(|(id, t)| {
            (
                id.to_string(),
                t.iter().map(|x| (x * fs).round() as i64).collect(),
            )
        })
        .collect();
    assert_eq!(ours, want);
    assert!(ours.contains_key(&new_id.to_string()));

    // the merge table
    let m0 = cv::insert_into_merge(db, &r0.key()).unwrap();
    let m1 = cv::insert_into_merge(db, &r1.key()).unwrap();
    assert_eq!(cv::insert_into_merge(db, &r1.key()).unwrap(), m1);
    let key_row = spyglass_db::Row::from_pairs([
        ("sorting_id", Value::Uuid(native)),
        ("curation_id", Value::Int(1)),
    ]);
    assert_eq!(m1, spyglass_db::merge::merge_id(&key_row, "CurationV1"));
    let via_merge = cv::get_spike_times(db, m1).unwrap();
    assert_eq!(
        via_merge,
        curated1
            .iter()
            .map(|u| u.spike_times.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(cv::get_sorting_by_merge_id(db, m0).unwrap(), curated0);
    assert!(cv::get_spike_times(db, Uuid::nil()).is_err());

    // bad input: refused, naming it, nothing changed
    let before = (
        all_counts(&c.env),
        c.env.count(cv::CURATION),
        files(&c.env.settings.analysis_dir),
    );
    let bad = |input: cv::CurationInput, sorting: Uuid, want: &str| {
        let e = cv::insert_curation(db, settings, sorting, &input)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{want}: {e}");
        assert_eq!(
            (
                all_counts(&c.env),
                c.env.count(cv::CURATION),
                files(&c.env.settings.analysis_dir)
            ),
            before,
            "{want}"
        );
    };
    let unknown = units.iter().max().unwrap() + 10;
    bad(
        cv::CurationInput {
            labels: Some(labels(&[(unknown, &["noise"])])),
            ..Default::default()
        },
        native,
        &format!("unit {unknown}"),
    );
    bad(
        cv::CurationInput {
            merge_groups: Some(vec![vec![u0]]),
            ..Default::default()
        },
        native,
        "fewer than two units",
    );
    bad(
        cv::CurationInput {
            merge_groups: Some(vec![vec![u0, unknown]]),
            apply_merge: true,
            ..Default::default()
        },
        native,
        &format!("unit {unknown}"),
    );
    bad(
        cv::CurationInput {
            parent_curation_id: 1,
            ..Default::default()
        },
        clusterless,
        "no curation 1",
    );
    bad(cv::CurationInput::default(), Uuid::nil(), ss::SORTING);
}
