//! spikesorting_v1_metric_curation on the synthetic tetrode session of
//! `spikesorting_sorting`, sorted by `spyglass_sorter` and curated once:
//!
//! - MetricCuration (`default_not_whitened` and `default_whitened`, `franklab_default`,
//!   `default`) populates; its analysis file is read by pynwb (units, `waveform_mean`,
//!   `merge_groups`, one column per metric) and its metrics are finite where defined;
//! - labels: Spyglass's own `MetricCuration._compute_labels` (its source, run in the
//!   Spyglass environment) on our metrics gives our labels — for the default rule
//!   (`nn_noise_overlap > 0.1` → noise, reject) and for a rule set that splits the
//!   units (`snr` above its median → `accept`, plus the default);
//! - `insert_metric_curation` makes a child CurationV1 (parent the selected curation,
//!   Spyglass's description) with those labels.

use crate::spikesorting_sorting::{chain, sorted};
use spyglass::spikesorting::{curation_v1 as cv, metric_curation_v1 as mc, sorting_v1 as ss};
use spyglass_db::{Cond, Value};
use std::collections::BTreeMap;

/// Spyglass's `MetricCuration._compute_labels` (its source) on metrics and label params
/// given as JSON {metrics: {name: {unit: value}}, label_params}; prints {unit: labels}.
/// Also reads our analysis file with pynwb and prints its units table's columns.
const ORACLE: &str = r#"
import ast, importlib.util, json, sys
import numpy as np, pynwb
a = json.load(open(sys.argv[1]))
root = importlib.util.find_spec("spyglass").submodule_search_locations[0]
path = root + "/spikesorting/v1/metric_curation.py"
tree = ast.parse(open(path).read())
cls = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "MetricCuration"][0]
fn = [n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "_compute_labels"][0]
fn.decorator_list = []
cmp = [n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "_comparison_to_function"][0]
ns = dict(np=np, Dict=dict, List=list, Union=__import__("typing").Union, Any=object)
exec(compile(ast.Module([cmp, fn], []), path, "exec"), ns)
metrics = {m: {int(u): (float("nan") if v is None else v) for u, v in d.items()} for m, d in a["metrics"].items()}
out = {}
for name, params in a["rules"].items():
    labels = ns["_compute_labels"](metrics, params)
    out[name] = {str(u): list(l) for u, l in labels.items()}
with pynwb.NWBHDF5IO(a["file"], "r", load_namespaces=True) as io:
    units = io.read().units
    df = units.to_dataframe()
    out["columns"] = sorted(df.columns)
    out["ids"] = [int(i) for i in df.index]
    out["waveform_mean_shape"] = list(np.asarray(units["waveform_mean"].data).shape)
print(json.dumps(out))
"#;

#[test]
fn metric_curation_labels_equal_spyglass() {
    let c = chain();
    let (db, settings) = (&c.env.db, &c.env.settings);
    let (id, cur) = sorted(&c, ss::NATIVE, "default");
    let units = cv::get_sorting(db, &cur.key()).unwrap();
    assert!(units.len() >= 2, "the sorter found {} units", units.len());

    let mut keys = vec![];
    for wf in ["default_not_whitened", "default_whitened"] {
        let key = mc::SelectionKey {
            sorting_id: id,
            curation_id: cur.curation_id,
            waveform_param_name: wf.into(),
            metric_param_name: "franklab_default".into(),
            metric_curation_param_name: "default".into(),
        };
        let mid = mc::insert_selection(db, &key).unwrap();
        assert_eq!(
            mc::insert_selection(db, &key).unwrap(),
            mid,
            "the same selection, the same id"
        );
        let rep = spyglass::populate(
            db,
            settings,
            mc::METRIC_CURATION,
            Cond::map([("metric_curation_id", Value::Uuid(mid))]),
        )
        .unwrap();
        assert_eq!(rep.success_count, 1, "{:?}", rep.error_list);
        keys.push(mc::MetricCurationKey {
            metric_curation_id: mid,
        });
    }
    let key = keys[0];
    let metrics = mc::get_metrics(db, &key).unwrap();
    let names: Vec<&str> = metrics.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "snr",
            "isi_violation",
            "nn_isolation",
            "nn_noise_overlap",
            "peak_channel",
            "num_spikes"
        ]
    );
    for (n, vals) in &metrics {
        for (u, v) in vals {
            assert!(v.is_finite(), "{n} of unit {u} is {v}");
        }
    }
    let by_name = |n: &str| &metrics.iter().find(|(m, _)| m == n).unwrap().1;
    for u in &units {
        assert_eq!(
            by_name("num_spikes")[&u.id] as usize,
            u.spike_times.len(),
            "unit {}",
            u.id
        );
    }
    let white = mc::get_metrics(db, &keys[1]).unwrap();
    assert!(white.iter().all(|(_, v)| v.values().all(|x| x.is_finite())));

    // labels: Spyglass's function on our metrics
    let mut snrs: Vec<f64> = by_name("snr").values().copied().collect();
    snrs.sort_by(f64::total_cmp);
    let median = snrs[snrs.len() / 2];
    let split = serde_json::json!({"snr": [">=", median, ["accept"]], "nn_noise_overlap": [">", 0.1, ["noise", "reject"]]});
    let default = serde_json::json!({"nn_noise_overlap": [">", 0.1, ["noise", "reject"]]});
    let row: mc::MetricCurationRow = {
        use spyglass::kit::Tables;
        db.row(mc::METRIC_CURATION, &key).unwrap()
    };
    let file = spyglass::analysis::analysis_file_path(db, &row.analysis_file_name).unwrap();
    let json_metrics: serde_json::Map<String, serde_json::Value> = metrics
        .iter()
        .map(|(n, v)| {
            (
                n.clone(),
                serde_json::json!(v
                    .iter()
                    .map(|(u, x)| (u.to_string(), *x))
                    .collect::<BTreeMap<_, _>>()),
            )
        })
        .collect();
    let args = serde_json::json!({"metrics": json_metrics, "rules": {"default": default, "split": split}, "file": file});
    let arg_path = c.env.dir.path().join("mc_oracle.json");
    std::fs::write(&arg_path, args.to_string()).unwrap();
    let out = spyglass_testkit::run_spyglass_python(ORACLE, &[arg_path.to_str().unwrap()]);
    let theirs: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    for (name, rules) in [("default", &default), ("split", &split)] {
        let ours = mc::compute_labels(&metrics, &mc::parse_label_rules(rules).unwrap());
        let ours: BTreeMap<String, Vec<String>> =
            ours.into_iter().map(|(u, l)| (u.to_string(), l)).collect();
        let spy: BTreeMap<String, Vec<String>> =
            serde_json::from_value(theirs[name].clone()).unwrap();
        assert_eq!(ours, spy, "labels of rule set {name}");
        if name == "split" {
            assert!(
                ours.values().any(|l| l.is_empty()) && ours.values().any(|l| !l.is_empty()),
                "{ours:?}"
            );
        }
    }
    // the stored labels are those of the default rule
    let stored = mc::get_labels(db, &key).unwrap();
    let spy_default: BTreeMap<String, Vec<String>> =
        serde_json::from_value(theirs["default"].clone()).unwrap();
    let spy_default: BTreeMap<i64, Vec<String>> = spy_default
        .into_iter()
        .filter(|(_, l)| !l.is_empty())
        .map(|(u, l)| (u.parse().unwrap(), l))
        .collect();
    assert_eq!(stored, spy_default);
    // pynwb reads the file
    let cols: Vec<String> = serde_json::from_value(theirs["columns"].clone()).unwrap();
    for c in [
        "spike_times",
        "waveform_mean",
        "merge_groups",
        "snr",
        "nn_noise_overlap",
        "num_spikes",
    ] {
        assert!(cols.iter().any(|x| x == c), "{c} not in {cols:?}");
    }
    let shape: Vec<usize> = serde_json::from_value(theirs["waveform_mean_shape"].clone()).unwrap();
    assert_eq!(
        shape,
        [units.len(), 30, 4],
        "30 kHz: 0.5 ms + 0.5 ms, 4 channels"
    );

    // the child curation
    let child = mc::insert_metric_curation(db, settings, &key, false).unwrap();
    assert_eq!(
        (child.curation_id, child.parent_curation_id),
        (cur.curation_id + 1, cur.curation_id)
    );
    assert_eq!(
        child.description,
        format!("metric_curation_id: {}", key.metric_curation_id)
    );
    let child_units = cv::get_sorting(db, &child.key()).unwrap();
    for u in &child_units {
        assert_eq!(
            u.labels,
            stored.get(&u.id).cloned().unwrap_or_default(),
            "unit {}",
            u.id
        );
    }
}
