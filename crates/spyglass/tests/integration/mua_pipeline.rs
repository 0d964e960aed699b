//! spikesorting_group_v1 and mua_v1 end to end on a synthetic tetrode session
//! whose two units fire a population burst (8 extra spikes each) at each of 10
//! injected ripples, while the animal stands still: recording → artifact →
//! sorting (`clusterless_thresholder` and `spyglass_sorter`) → curations (labels,
//! an `snr` metric) → SpikeSortingOutput → SortedSpikesGroups with Spyglass's and
//! custom unit selections → MuaEventsV1 on both epochs' TrodesPosV1 positions,
//! inside a two-piece detection interval.
//!
//! The oracle is Spyglass's own code, compiled from the installed Spyglass 0.6
//! (`SortedSpikesGroup.fetch_spike_data`, `filter_units`,
//! `filter_units_by_criteria`, `get_spike_indicator`, `get_firing_rate`,
//! `firing_rate_from_spike_indicator` and `MuaEventsV1.make` with
//! ripple_detection's `multiunit_HSE_detector`), run in its environment with
//! the database calls answered from our tables (units tables read by pynwb from
//! our curation files, the speed from our TrodesPosV1 files):
//!
//! - per group: the same selected units (merge id, index), spike counts in a
//!   time slice, spike indicator equal, firing rates (per unit and multiunit)
//!   within 1e-9 relative; a criterion on a column one sorting lacks is refused
//!   by both;
//! - per MuaEventsV1 row: the events read back by `fetch1_dataframe` equal the
//!   DataFrame Spyglass's make stores (same count, boundaries within 1e-9 s,
//!   statistics within 1e-9 relative);
//! - the ground truth: every injected burst inside the detection interval
//!   overlaps a detected event, and at most one event in five overlaps none;
//! - the default rows' blobs equal datajoint's `blob.pack` of Spyglass's
//!   `contents`.

use crate::common::*;
use crate::spikesorting_sorting::{chain_in, chain_with, sort, sorted};
use spyglass::common::common_interval as iv;
use spyglass::kit::Tables;
use spyglass::mua::v1 as mua;
use spyglass::position::{merge, trodes_v1};
use spyglass::spikesorting::{curation_v1 as cv, group_v1 as group, sorting_v1 as ss};
use spyglass_db::{Cond, Value};
use spyglass_nwb::synthetic::SyntheticParams;
use std::collections::BTreeMap;
use uuid::Uuid;

const ORACLE: &str = r#"
import ast, json, sys
from itertools import compress
from typing import Optional, Union
import numpy as np, pandas as pd, pynwb, datajoint as dj
from ripple_detection import multiunit_HSE_detector
a = json.load(open(sys.argv[1]))

class _Q:
    def __init__(self, v): self.v = v
    def fetch1(self, *attrs): return self.v if not attrs else self.v[attrs[0]]
    def fetch(self, attr): return list(self.v)
    def fetch1_dataframe(self): return self.v

current = {}
class _Meta(type):
    def __and__(cls, key):
        if cls.__name__ == "UnitSelectionParams":
            return _Q(dict(a["params"][key["unit_filter_params_name"]]))
        if cls.__name__ == "SortedSpikesGroup":
            return _Q({"nwb_file_name": a["nwb"]})
        if cls.__name__ == "MuaEventsParameters":
            return _Q({"mua_param_dict": a["mua_params"]})
        if cls.__name__ == "IntervalList":
            return _Q({"valid_times": np.asarray(a["valid_times"])})
        raise KeyError(cls.__name__)
class _Base(metaclass=_Meta):
    pass
class _Units:
    def __and__(self, key): return _Q(current["group"]["merge_ids"])
def _units_df(mid):
    path, oid = a["files"][mid]
    with pynwb.NWBHDF5IO(path, "r", load_namespaces=True) as io:
        return io.read().objects[oid].to_dataframe()
class _Output:
    def __init__(self, keys): self.ids = [k["merge_id"] for k in keys]
    def fetch_nwb(self, return_merge_ids=False):
        # DataJoint returns the part's rows in primary-key (merge id) order
        ids = sorted(self.ids, key=lambda m: __import__("uuid").UUID(m).bytes)
        return [{"object_id": _units_df(m)} for m in ids], ids
class SpikeSortingOutput:
    def __and__(self, keys): return _Output(keys)
class _Log:
    def warning(self, *x): pass
    def info(self, *x): pass

ns = dict(np=np, compress=compress, Optional=Optional, Union=Union, logger=_Log(), test_mode=False,
          SpikeSortingOutput=SpikeSortingOutput(), _Base=_Base)
exec(open(SPYGLASS_ROOT / "utils/spikesorting.py").read(), ns)
tree = ast.parse((SPYGLASS_ROOT / "spikesorting/analysis/v1/group.py").read_text())
nodes = []
contents = None
for n in tree.body:
    if isinstance(n, ast.ClassDef):
        if n.name == "UnitSelectionParams":
            assign = next(b for b in n.body if isinstance(b, ast.Assign) and b.targets[0].id == "contents")
            contents = ast.literal_eval(assign.value)
        n.body = [b for b in n.body if isinstance(b, ast.FunctionDef)] or [ast.Pass()]
        n.bases = [ast.Name("_Base", ast.Load())]
        n.keywords = []
        n.decorator_list = []
        nodes.append(n)
    elif isinstance(n, ast.FunctionDef):
        nodes.append(n)
    elif isinstance(n, ast.Assign) and not (isinstance(n.targets[0], ast.Name) and n.targets[0].id == "schema"):
        nodes.append(n)
mod = ast.Module(body=nodes, type_ignores=[])
ast.fix_missing_locations(mod)
exec(compile(mod, "group.py", "exec"), ns)
SG = ns["SortedSpikesGroup"]
SG.Units = _Units()
SG.get_fully_defined_key = classmethod(lambda cls, key: key)

out = {"groups": {}, "mua": [], "blobs": {}}
for c in contents:
    out["blobs"][c["unit_filter_params_name"]] = [dj.blob.pack(c["include_labels"]).hex(), dj.blob.pack(c["exclude_labels"]).hex()]
mtree = ast.parse((SPYGLASS_ROOT / "mua/v1/mua.py").read_text())
for n in mtree.body:
    if isinstance(n, ast.ClassDef) and n.name == "MuaEventsParameters":
        assign = next(b for b in n.body if isinstance(b, ast.Assign) and b.targets[0].id == "contents")
        for c in ast.literal_eval(assign.value):
            out["blobs"]["mua " + c["mua_param_name"]] = dj.blob.pack(c["mua_param_dict"]).hex()

time = np.fromfile(a["time"], "<f8")
for g in a["groups"]:
    current["group"] = g
    key = {"nwb_file_name": a["nwb"], "unit_filter_params_name": g["params"], "sorted_spikes_group_name": g["name"]}
    try:
        spikes, ids = SG.fetch_spike_data(key, time_slice=a["slice"], return_unit_ids=True)
        ind, ids2 = SG.get_spike_indicator(key, time, return_unit_ids=True)
        rate = SG.get_firing_rate(key, time)
        mrate = SG.get_firing_rate(key, time, multiunit=True)
    except ValueError as e:
        out["groups"][g["name"]] = {"error": str(e)}
        continue
    out["groups"][g["name"]] = dict(
        unit_ids=[[str(u["spikesorting_merge_id"]), int(u["unit_id"])] for u in ids],
        n_slice=[int(len(s)) for s in spikes], indicator=ind.tolist(), rate=rate.tolist(), mrate=mrate.tolist())

# MuaEventsV1.make, run as Spyglass runs it
class MuaEventsParameters(_Base): pass
class IntervalList(_Base): pass
class _Analysis:
    def create(self, nwb_file_name): return "mua.nwb"
    def add_nwb_object(self, analysis_file_name, nwb_object):
        current["df"] = nwb_object
        return "oid"
    def add(self, **kw): pass
class _PositionOutput:
    def __and__(self, key):
        path, oid = a["positions"][key["merge_id"]]
        with pynwb.NWBHDF5IO(path, "r", load_namespaces=True) as io:
            ts = io.read().objects[oid].time_series["velocity"]
            df = pd.DataFrame({"speed": np.asarray(ts.data[:])[:, 2]}, index=pd.Index(np.asarray(ts.timestamps[:]), name="time"))
        return _Q(df)
mns = dict(np=np, multiunit_HSE_detector=multiunit_HSE_detector, SortedSpikesGroup=SG,
           MuaEventsParameters=MuaEventsParameters, IntervalList=IntervalList, AnalysisNwbfile=_Analysis,
           PositionOutput=_PositionOutput(), DataFrame=pd.DataFrame)
load_methods("mua/v1/mua.py", "MuaEventsV1", ["make", "get_speed"], mns)
cols = ["start_time", "end_time", "duration", "max_thresh", "mean_zscore", "median_zscore", "max_zscore",
        "min_zscore", "area", "total_energy", "speed_at_start", "speed_at_end", "max_speed", "min_speed",
        "median_speed", "mean_speed"]
for k in a["mua_keys"]:
    g = next(g for g in a["groups"] if g["name"] == k["sorted_spikes_group_name"])
    current["group"] = g
    m = mns["MuaEventsV1"]()
    m.insert1 = lambda key: None
    m.make(dict(k))
    df = current["df"]
    rows = [[None if np.isnan(x) else x for x in r] for r in df[cols].to_numpy(dtype=float).tolist()]
    out["mua"].append(dict(ids=[int(i) for i in df.index], rows=rows))
print(json.dumps(out))
"#;

fn write_f64(path: &std::path::Path, v: &[f64]) {
    std::fs::write(
        path,
        v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>(),
    )
    .unwrap();
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn blob_hex(row: &spyglass_db::Row, attr: &str) -> String {
    match row.get(attr) {
        Some(Value::Blob(b)) => hex(&spyglass_blob::pack(b)),
        other => panic!("{attr}: {other:?}"),
    }
}

fn close(label: &str, ours: f64, want: f64) {
    if ours.is_nan() && want.is_nan() {
        return;
    }
    assert!(
        (ours - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{label}: ours {ours}, Spyglass {want}"
    );
}

fn overlaps(a: [f64; 2], b: [f64; 2]) -> bool {
    a[0] <= b[1] && b[0] <= a[1]
}

/// The sessions of the MUA tests: one tetrode, two units at 8 Hz, with bursts of 8
/// spikes at the ripples.
fn bursting_tetrode() -> SyntheticParams {
    SyntheticParams {
        duration_s: 20.0,
        n_channels: 4,
        n_groups: 1,
        n_units: 2,
        firing_rate_hz: 8.0,
        ripple_burst_spikes: 8,
        ..Default::default()
    }
}

#[test]
fn mua_events_and_sorted_spikes_groups_equal_spyglass_and_find_the_bursts() {
    let c = chain_with(bursting_tetrode());
    let (db, settings, nwb) = (&c.env.db, &c.env.settings, c.nwb.clone());
    let clusterless = sort(&c, ss::CLUSTERLESS, "default_clusterless");
    let native = sort(&c, ss::NATIVE, "default");
    let unit_ids = |id: Uuid| -> Vec<i64> {
        let row: ss::SortingRow = db
            .row(ss::SORTING, &ss::SortingKey { sorting_id: id })
            .unwrap();
        let path = spyglass::analysis::analysis_file_path(db, &row.analysis_file_name).unwrap();
        let file = spyglass_nwb::NwbFile::open(&path).unwrap();
        file.units().unwrap().unwrap().ids
    };
    let labels = |pairs: &[(i64, &[&str])]| -> BTreeMap<i64, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| (*k, v.iter().map(|s| s.to_string()).collect()))
            .collect()
    };
    let cl_units = unit_ids(clusterless);
    let nat_units = unit_ids(native);
    assert!(nat_units.len() >= 2, "the sorter found {nat_units:?}");
    let cl_cur = cv::insert_curation(
        db,
        settings,
        clusterless,
        &cv::CurationInput {
            labels: Some(labels(&[(cl_units[0], &["accept"])])),
            ..Default::default()
        },
    )
    .unwrap();
    let nat_cur = cv::insert_curation(
        db,
        settings,
        native,
        &cv::CurationInput {
            labels: Some(labels(&[
                (nat_units[0], &["noise", "reject"]),
                (nat_units[1], &["accept"]),
            ])),
            metrics: Some(vec![(
                "snr".to_string(),
                nat_units.iter().map(|u| (*u, 1.5 + *u as f64)).collect(),
            )]),
            ..Default::default()
        },
    )
    .unwrap();
    let m_cl = cv::insert_into_merge(db, &cl_cur.key()).unwrap();
    let m_nat = cv::insert_into_merge(db, &nat_cur.key()).unwrap();

    // unit selections: Spyglass's defaults and three more
    let criteria = serde_json::json!({"snr": {">": 2.0}, "curation_label": {"notin": ["mua"]}});
    group::insert_unit_selection(db, "good_snr", &[], &[], Some(&criteria)).unwrap();
    group::insert_unit_selection(db, "accepted", &["accept".into()], &[], None).unwrap();
    let on_snr = serde_json::json!({"snr": {"between": [0, 100]}});
    group::insert_unit_selection(db, "snr_any", &[], &[], Some(&on_snr)).unwrap();
    let bad = serde_json::json!({"curation_label": {">": 1}});
    assert!(group::insert_unit_selection(db, "bad", &[], &[], Some(&bad)).is_ok());
    let wrong_op = serde_json::json!({"snr": {"~": 1}});
    assert!(group::insert_unit_selection(db, "wrong", &[], &[], Some(&wrong_op)).is_err());
    let groups: Vec<(&str, &str, Vec<Uuid>)> = vec![
        ("all", "all_units", vec![m_cl, m_nat]),
        ("clean", "exclude_noise", vec![m_cl, m_nat]),
        ("accepted", "accepted", vec![m_nat]),
        ("snr", "good_snr", vec![m_nat]),
        ("mixed", "snr_any", vec![m_cl, m_nat]),
        ("listop", "bad", vec![m_nat]),
    ];
    for (name, params, ids) in &groups {
        group::create_group(db, name, &nwb, params, ids).unwrap();
    }
    assert!(
        group::create_group(db, "all", &nwb, "all_units", &[m_cl]).is_err(),
        "an existing group is refused"
    );

    // positions of both epochs and a two-piece detection interval
    trodes_v1::select(db, &nwb, None, trodes_v1::DEFAULT_PARAMS_NAME).unwrap();
    let rep = spyglass::populate(db, settings, trodes_v1::TRODES_POS_V1, Cond::Bool(true)).unwrap();
    assert_eq!(rep.success_count, 2, "{:?}", rep.error_list);
    let positions = merge::position_merge_ids(db, &nwb, None).unwrap();
    assert_eq!(positions.len(), 2);
    let t0 = iv::fetch_list(db, &nwb, "raw data valid times")
        .unwrap()
        .valid_times[0][0];
    let pieces = vec![[t0 + 0.5, t0 + 8.7], [t0 + 9.3, t0 + 19.5]];
    iv::insert(
        db,
        &iv::IntervalList::new(&nwb, "mua detect", pieces.clone()),
        false,
    )
    .unwrap();
    let rep = spyglass::populate(
        db,
        settings,
        mua::MUA_EVENTS_V1,
        Cond::map([
            ("mua_param_name", "default"),
            ("sorted_spikes_group_name", "clean"),
            ("detection_interval", "mua detect"),
        ]),
    )
    .unwrap();
    assert_eq!(rep.success_count, 2, "{:?}", rep.error_list);

    // the oracle's input
    let tmp = spyglass_testkit::scratch_dir();
    let pos0 = merge::fetch_position(db, &positions[0].0).unwrap();
    let time = pos0.time.clone();
    write_f64(&tmp.path().join("time"), &time);
    let mut files = serde_json::Map::new();
    for (m, cur) in [(m_cl, &cl_cur), (m_nat, &nat_cur)] {
        let p = spyglass::analysis::analysis_file_path(db, &cur.analysis_file_name).unwrap();
        files.insert(m.to_string(), serde_json::json!([p, cur.object_id]));
    }
    let mut params = serde_json::Map::new();
    for name in [
        "all_units",
        "exclude_noise",
        "good_snr",
        "accepted",
        "snr_any",
        "bad",
    ] {
        let r: group::UnitSelectionRow = db
            .row(
                group::UNIT_SELECTION_PARAMS,
                &serde_json::json!({ "unit_filter_params_name": name }),
            )
            .unwrap();
        params.insert(
            name.into(),
            serde_json::json!({
                "include_labels": r.include_labels,
                "exclude_labels": r.exclude_labels,
                "unit_criteria": r.unit_criteria,
            }),
        );
    }
    let mut pos_files = serde_json::Map::new();
    for (id, _) in &positions {
        let (_, row) = merge::position_source(db, id).unwrap();
        let p = spyglass::analysis::analysis_file_path(db, &s(&row, "analysis_file_name")).unwrap();
        pos_files.insert(
            id.to_string(),
            serde_json::json!([p, s(&row, "velocity_object_id")]),
        );
    }
    let mua_keys: Vec<mua::MuaKey> = positions
        .iter()
        .map(|(id, _)| mua::MuaKey {
            mua_param_name: "default".into(),
            group: group::GroupKey {
                nwb_file_name: nwb.clone(),
                unit_filter_params_name: "exclude_noise".into(),
                sorted_spikes_group_name: "clean".into(),
            },
            pos_merge_id: *id,
            detection_interval: "mua detect".into(),
        })
        .collect();
    let slice = [time[0] + 2.0, time[0] + 5.0];
    let input = serde_json::json!({
        "nwb": nwb,
        "files": files,
        "params": params,
        "groups": groups.iter().map(|(n, p, ids)| serde_json::json!({
            "name": n, "params": p, "merge_ids": ids.iter().map(|u| u.to_string()).collect::<Vec<_>>()
        })).collect::<Vec<_>>(),
        "time": tmp.path().join("time"),
        "slice": slice,
        "positions": pos_files,
        "mua_params": serde_json::from_str::<serde_json::Value>(mua::DEFAULT.1).unwrap(),
        "valid_times": pieces,
        "mua_keys": mua_keys.iter().map(|k| serde_json::json!({
            "mua_param_name": k.mua_param_name,
            "nwb_file_name": k.group.nwb_file_name,
            "unit_filter_params_name": k.group.unit_filter_params_name,
            "sorted_spikes_group_name": k.group.sorted_spikes_group_name,
            "pos_merge_id": k.pos_merge_id.to_string(),
            "detection_interval": k.detection_interval,
        })).collect::<Vec<_>>(),
    });
    let input_path = tmp.path().join("input.json");
    std::fs::write(&input_path, input.to_string()).unwrap();
    let code = format!(
        "{}\n{ORACLE}",
        include_str!("../../../spyglass-position/tests/py/spyglass_src.py")
    );
    let out = spyglass_testkit::run_spyglass_python(&code, &[input_path.to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();

    // default blobs
    for (name, _, _) in group::DEFAULTS {
        let row = c
            .env
            .db
            .fetch1(
                &db.table(group::UNIT_SELECTION_PARAMS)
                    .unwrap()
                    .restrict(Cond::map([("unit_filter_params_name", name)]))
                    .unwrap(),
            )
            .unwrap();
        assert_eq!(
            blob_hex(&row, "include_labels"),
            report["blobs"][name][0],
            "{name}"
        );
        assert_eq!(
            blob_hex(&row, "exclude_labels"),
            report["blobs"][name][1],
            "{name}"
        );
        assert_eq!(row.get("unit_criteria"), Some(&Value::Null), "{name}");
    }
    let row = db
        .fetch1(
            &db.table(mua::MUA_EVENTS_PARAMETERS)
                .unwrap()
                .restrict(Cond::map([("mua_param_name", "default")]))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        blob_hex(&row, "mua_param_dict"),
        report["blobs"]["mua default"]
    );

    // the groups
    for (name, params, _) in &groups {
        let key = group::GroupKey {
            nwb_file_name: nwb.clone(),
            unit_filter_params_name: params.to_string(),
            sorted_spikes_group_name: name.to_string(),
        };
        let want = &report["groups"][*name];
        let ours = group::get_spike_indicator(db, &key, &time);
        if let Some(e) = want.get("error") {
            let ours = ours.expect_err(&format!("{name}: Spyglass refuses ({e}), ours did not"));
            eprintln!("{name}: both refuse — Spyglass: {e}; ours: {ours}");
            continue;
        }
        let (indicator, ids) = ours.unwrap_or_else(|e| panic!("{name}: {e}"));
        let want_ids: Vec<(String, usize)> = want["unit_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                (
                    u[0].as_str().unwrap().to_string(),
                    u[1].as_u64().unwrap() as usize,
                )
            })
            .collect();
        let got_ids: Vec<(String, usize)> = ids
            .iter()
            .map(|u| (u.spikesorting_merge_id.to_string(), u.unit_id))
            .collect();
        assert_eq!(got_ids, want_ids, "{name}: selected units");
        let (sliced, _) = group::fetch_spike_data(db, &key, Some(slice)).unwrap();
        let n_slice: Vec<u64> = sliced.iter().map(|s| s.len() as u64).collect();
        let want_slice: Vec<u64> = want["n_slice"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(n_slice, want_slice, "{name}: spikes in {slice:?}");
        let want_ind = want["indicator"].as_array().unwrap();
        assert_eq!(want_ind.len(), time.len());
        for (k, row) in want_ind.iter().enumerate() {
            for (u, v) in row.as_array().unwrap().iter().enumerate() {
                assert_eq!(
                    indicator.units[u][k],
                    v.as_f64().unwrap(),
                    "{name}: indicator [{k}, {u}]"
                );
            }
        }
        for (multiunit, col) in [(false, "rate"), (true, "mrate")] {
            let (rate, _) =
                group::get_firing_rate(db, &key, &time, multiunit, group::DEFAULT_SMOOTHING_SIGMA)
                    .unwrap();
            for (k, row) in want[col].as_array().unwrap().iter().enumerate() {
                for (u, v) in row.as_array().unwrap().iter().enumerate() {
                    close(
                        &format!("{name} {col} [{k}, {u}]"),
                        rate[u][k],
                        v.as_f64().unwrap(),
                    );
                }
            }
        }
        eprintln!(
            "{name}: {} units equal Spyglass's ({} time bins)",
            ids.len(),
            time.len()
        );
    }

    // the MUA events: Spyglass's make, and the injected bursts
    let mut events = vec![];
    for (k, key) in mua_keys.iter().enumerate() {
        let ours = mua::fetch1_dataframe(db, key).unwrap();
        let want = &report["mua"][k];
        let rows = want["rows"].as_array().unwrap();
        assert_eq!(
            ours.len(),
            rows.len(),
            "{key:?}: ours {:?}\nSpyglass {rows:?}",
            ours.iter()
                .map(|e| [e.start_time, e.end_time])
                .collect::<Vec<_>>()
        );
        for (e, w) in ours.iter().zip(rows) {
            let w: Vec<f64> = w
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap_or(f64::NAN))
                .collect();
            let got = [
                e.start_time,
                e.end_time,
                e.duration,
                e.max_thresh,
                e.mean_zscore,
                e.median_zscore,
                e.max_zscore,
                e.min_zscore,
                e.area,
                e.total_energy,
                e.speed_at_start,
                e.speed_at_end,
                e.max_speed,
                e.min_speed,
                e.median_speed,
                e.mean_speed,
            ];
            for (col, (g, w)) in got.iter().zip(&w).enumerate() {
                close(
                    &format!("MUA event at {} column {col}", e.start_time),
                    *g,
                    *w,
                );
            }
        }
        eprintln!(
            "MuaEventsV1 {}: {} events equal Spyglass's make",
            key.pos_merge_id,
            ours.len()
        );
        events.extend(ours.iter().map(|e| [e.start_time, e.end_time]));
    }
    let injected: Vec<[f64; 2]> = c
        .truth
        .ripples
        .extents(1.5)
        .into_iter()
        .filter(|r| {
            pieces
                .iter()
                .any(|p| r[0] >= p[0] + 0.1 && r[1] <= p[1] - 0.1)
        })
        .collect();
    assert!(injected.len() >= 8, "{injected:?}");
    let missed: Vec<_> = injected
        .iter()
        .filter(|r| !events.iter().any(|e| overlaps(**r, *e)))
        .collect();
    let false_events: Vec<_> = events
        .iter()
        .filter(|e| !injected.iter().any(|r| overlaps(*r, **e)))
        .collect();
    eprintln!(
        "{} injected bursts, {} events, {} missed, {} false",
        injected.len(),
        events.len(),
        missed.len(),
        false_events.len()
    );
    assert!(missed.is_empty(), "missed {missed:?}; events {events:?}");
    assert!(
        5 * false_events.len() <= events.len(),
        "false {false_events:?}"
    );
    // the multiunit rate of the row, as Spyglass's get_firing_rate
    let rate = mua::get_firing_rate(db, &mua_keys[0], &time).unwrap();
    for (k, row) in report["groups"]["clean"]["mrate"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        close(
            &format!("MUA rate [{k}]"),
            rate[k],
            row[0].as_f64().unwrap(),
        );
    }
}

/// Python Spyglass 0.6 (its `.venv-spyglass`) on the test's private MariaDB: a
/// MuaEventsParameters row `spyglass_populate` with the dict of our row's parameters,
/// `MuaEventsV1.populate` of our first key under that name (Spyglass reading our
/// SortedSpikesGroup, curation files, PositionOutput and IntervalList rows in its own
/// way), then both rows' `fetch1_dataframe` (ours read by Spyglass too).
const SPYGLASS_POPULATE: &str = r#"
import json, sys, math
import datajoint as dj
dj.config["safemode"] = False
from spyglass.mua.v1.mua import MuaEventsParameters, MuaEventsV1
ours = json.loads(sys.argv[1])
d = (MuaEventsParameters & {"mua_param_name": ours["mua_param_name"]}).fetch1("mua_param_dict")
MuaEventsParameters.insert1({"mua_param_name": "spyglass_populate", "mua_param_dict": d})
theirs = {**ours, "mua_param_name": "spyglass_populate"}
MuaEventsV1.populate(theirs)
def frame(key):
    df = (MuaEventsV1 & key).fetch1_dataframe()
    return {"columns": [str(c) for c in df.columns],
            "rows": [[None if math.isnan(x) else x for x in r] for r in df.to_numpy(dtype=float).tolist()]}
print("@@MUA@@ " + json.dumps({"ours": frame(ours), "theirs": frame(theirs),
                               "rows": len(MuaEventsV1 & {"nwb_file_name": ours["nwb_file_name"]})}))
"#;

/// Spyglass's own `MuaEventsV1.populate` as the oracle of our MuaEventsV1 row: on a
/// private MariaDB (no schema prefix), our chain up to MuaEventsV1 (`default`
/// parameters, a clusterless sorting's accepted curation, TrodesPosV1 speed, a
/// two-piece detection interval), then Python Spyglass populates the same key under a
/// copy of the parameters; its events equal ours (count, boundaries within 1e-9 s,
/// statistics within 1e-9 relative), and it reads our row's events without error.
#[test]
fn spyglass_populates_mua_events_v1_on_our_rows_as_we_do() {
    let (env, url) = Env::private_mariadb();
    let c = chain_in(env, bursting_tetrode());
    let (db, settings, nwb) = (&c.env.db, &c.env.settings, c.nwb.clone());
    let (_, cur) = sorted(&c, ss::CLUSTERLESS, "default_clusterless");
    let merge_id = cv::insert_into_merge(db, &cur.key()).unwrap();
    group::create_group(db, "mua", &nwb, "all_units", &[merge_id]).unwrap();
    trodes_v1::select(db, &nwb, None, trodes_v1::DEFAULT_PARAMS_NAME).unwrap();
    let rep = spyglass::populate(db, settings, trodes_v1::TRODES_POS_V1, Cond::Bool(true)).unwrap();
    assert_eq!(rep.success_count, 2, "{:?}", rep.error_list);
    let positions = merge::position_merge_ids(db, &nwb, None).unwrap();
    let t0 = iv::fetch_list(db, &nwb, "raw data valid times")
        .unwrap()
        .valid_times[0][0];
    let pieces = vec![[t0 + 0.5, t0 + 8.7], [t0 + 9.3, t0 + 19.5]];
    iv::insert(
        db,
        &iv::IntervalList::new(&nwb, "mua detect", pieces),
        false,
    )
    .unwrap();
    let key = mua::MuaKey {
        mua_param_name: "default".into(),
        group: group::GroupKey {
            nwb_file_name: nwb.clone(),
            unit_filter_params_name: "all_units".into(),
            sorted_spikes_group_name: "mua".into(),
        },
        pos_merge_id: positions[0].0,
        detection_interval: "mua detect".into(),
    };
    let rep = spyglass::populate(
        db,
        settings,
        mua::MUA_EVENTS_V1,
        Cond::map([
            ("mua_param_name", "default"),
            ("sorted_spikes_group_name", "mua"),
            ("detection_interval", "mua detect"),
        ]),
    )
    .unwrap();
    assert_eq!(rep.success_count, 2, "{:?}", rep.error_list);
    let ours = mua::fetch1_dataframe(db, &key).unwrap();
    assert!(!ours.is_empty(), "the bursts make events");

    // Python Spyglass on the same server and base dir
    let lab = c.env.dir.path();
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let base = settings.base_dir.clone();
    let store = |name: &str| {
        let p = base.join(name).display().to_string();
        serde_json::json!({"protocol": "file", "location": p, "stage": p})
    };
    let conf = serde_json::json!({
        "database.host": "127.0.0.1", "database.port": port, "database.user": "root",
        "database.password": "", "database.use_tls": false, "safemode": false,
        "stores": {"raw": store("raw"), "analysis": store("analysis")},
        "custom": {"spyglass_dirs": {"base": base.display().to_string()}},
    });
    std::fs::write(lab.join("dj_local_conf.json"), conf.to_string()).unwrap();
    // Spyglass records `conda env export` in the analysis files it writes
    let bin = lab.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(bin.join("conda"), "#!/bin/sh\necho 'name: oracle'\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("conda"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let key_json = serde_json::json!({
        "mua_param_name": "default",
        "nwb_file_name": nwb,
        "unit_filter_params_name": "all_units",
        "sorted_spikes_group_name": "mua",
        "pos_merge_id": positions[0].0.to_string(),
        "detection_interval": "mua detect",
    });
    let out = std::process::Command::new(spyglass_testkit::spyglass_python())
        .args(["-c", SPYGLASS_POPULATE, &key_json.to_string()])
        .current_dir(lab)
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .env("DJ_SUPPORT_FILEPATH_MANAGEMENT", "TRUE")
        .env("SPYGLASS_BASE_DIR", &base)
        .output()
        .expect("run Python Spyglass");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("@@MUA@@ "))
        .unwrap_or_else(|| {
            panic!(
                "Spyglass's populate failed:\n{text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let report: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(report["rows"], 3, "our two rows and Spyglass's: {report}");
    let (o, t) = (&report["ours"], &report["theirs"]);
    assert_eq!(o["columns"], t["columns"]);
    let rows = |v: &serde_json::Value| -> Vec<Vec<f64>> {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap_or(f64::NAN))
                    .collect()
            })
            .collect()
    };
    let (o_rows, t_rows) = (rows(o), rows(t));
    assert_eq!(o_rows.len(), ours.len(), "Spyglass reads our events");
    assert_eq!(
        o_rows.len(),
        t_rows.len(),
        "ours {o_rows:?}\nSpyglass's populate {t_rows:?}"
    );
    let cols = o["columns"].as_array().unwrap();
    for (a, b) in o_rows.iter().zip(&t_rows) {
        for ((x, y), col) in a.iter().zip(b).zip(cols) {
            close(&format!("MUA event at {} {col}", a[0]), *x, *y);
        }
    }
    eprintln!(
        "MuaEventsV1: {} events, equal to Spyglass's own populate",
        o_rows.len()
    );
}
