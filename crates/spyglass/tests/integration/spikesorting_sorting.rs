//! spikesorting_v1_sorting on a synthetic tetrode session (4 channels, 2 units of
//! known spike times, 20 s): recording → artifact → sorting.
//!
//! - `clusterless_thresholder` against Spyglass's own `_run_spike_sorter` (its source,
//!   run in the Spyglass environment: `_consolidate_intervals`, `remove_artifacts`
//!   zeroing, SpikeInterface 0.99.1's `detect_peaks`), fed our recomputed recording
//!   with its timestamps, on an interval list with a gap: the same spike times; our
//!   analysis file read by pynwb (labels "uncurated", obs_intervals);
//! - `spyglass_sorter` scored against the ground truth by SpikeInterface's
//!   `compare_sorter_to_ground_truth` (a fixed accuracy floor);
//! - two databases give the same sorting ids and spike times;
//! - a Python-only sorter is refused at populate, naming it;
//! - SpikeSorterParameters' stored blobs equal datajoint's `blob.pack` of the dicts
//!   Spyglass's class body builds (evaluated from its source).

use crate::common::*;
use spyglass::spikesorting::{artifact_v1 as art, recording_v1 as rec, sorting_v1 as ss};
use spyglass_db::{Cond, Value};
use uuid::Uuid;

/// Spyglass's SpikeSorterParameters contents (its class body, run from its source in
/// the Spyglass environment) packed by datajoint; prints {root, blobs}.
const BLOBS: &str = r#"
import ast, importlib.util, json
import numpy as np, datajoint as dj
import spikeinterface.sorters as sis
root = importlib.util.find_spec("spyglass").submodule_search_locations[0]
path = root + "/spikesorting/v1/sorting.py"
tree = ast.parse(open(path).read())
cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "SpikeSorterParameters")
body = [n for n in cls.body if isinstance(n, (ast.Assign, ast.Expr)) and not isinstance(getattr(n, "value", None), ast.Constant)]
ns = dict(np=np, sis=sis)
exec(compile(ast.Module(body, []), path, "exec"), ns)
print(json.dumps(dict(root=root, blobs={f"{s}/{n}": dj.blob.pack(p).hex() for s, n, p in ns["contents"]})))
"#;

/// Spyglass's `_run_spike_sorter` (its source; `default_clusterless`'s dict) on our
/// recording, in the SpikeInterface 0.105 environment (the Spyglass environment has
/// no numba, which `locally_exclusive` needs; 0.105 indexes `noise_levels` per
/// channel, so the one level is given per channel, and takes the method's keywords
/// as `method_kwargs` and calls `NumpySorting.from_times_labels` `from_samples_and_labels`,
/// so Spyglass's calls go through two one-line adapters). Args JSON {root, data, ts, nc,
/// rate, locations, valid_times, ours}; prints {spike_times, ours: {spike_times,
/// labels, ids, obs_intervals}} (ours read by pynwb).
const ORACLE: &str = r#"
import ast, json, logging, os, sys, tempfile
import numpy as np, pynwb
import spikeinterface as si, spikeinterface.core as sc
import spikeinterface.curation as sic, spikeinterface.preprocessing as sip, spikeinterface.sorters as sis
from spikeinterface.sortingcomponents.peak_detection import detect_peaks as si_detect_peaks
def detect_peaks(recording, method, **kwargs):
    # SpikeInterface 0.105 takes the method's keywords as method_kwargs
    return si_detect_peaks(recording, method=method, method_kwargs=kwargs,
                           job_kwargs=dict(n_jobs=1, chunk_duration="1s", progress_bar=False))
class _NumpySorting:
    # 0.99's from_times_labels (sample indices) is 0.105's from_samples_and_labels
    @staticmethod
    def from_times_labels(times_list, labels_list, sampling_frequency):
        return sc.NumpySorting.from_samples_and_labels(times_list, labels_list, sampling_frequency)
a = json.load(open(sys.argv[1]))
root = a["root"]
data = np.fromfile(a["data"], dtype="<f8").reshape(-1, a["nc"])
ts = np.fromfile(a["ts"], dtype="<f8")
recording = sc.NumpyRecording([data], sampling_frequency=a["rate"])
recording.set_times(ts)
recording.set_dummy_probe_from_locations(np.asarray(a["locations"]))
class SpikeSortingRecording:
    def get_recording(self, key):
        return recording
ns = dict(np=np, sis=sis, si=__import__("types").SimpleNamespace(NumpySorting=_NumpySorting), sic=sic, sip=sip, detect_peaks=detect_peaks, tempfile=tempfile, os=os,
          temp_dir=tempfile.gettempdir(), logger=logging.getLogger("oracle"), SpikeSortingRecording=SpikeSortingRecording)
def take(rel, pick):
    tree = ast.parse(open(root + rel).read())
    exec(compile(ast.Module(pick(tree), []), root + rel, "exec"), ns)
take("/spikesorting/v1/recording.py", lambda t: [n for n in t.body if isinstance(n, ast.FunctionDef) and n.name == "_consolidate_intervals"])
def run(tree):
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "SpikeSorting")
    return [n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "_run_spike_sorter"]
take("/spikesorting/v1/sorting.py", run)
params = {"detect_threshold": 100.0, "method": "locally_exclusive", "peak_sign": "neg", "exclude_sweep_ms": 0.1,
          "local_radius_um": 100, "noise_levels": np.ones(a["nc"]), "outputs": "sorting"}
sorting, times = ns["_run_spike_sorter"](None, {}, np.asarray(a["valid_times"]), "clusterless_thresholder", params)
spike_times = [times[sorting.get_unit_spike_train(u)].tolist() for u in sorting.get_unit_ids()]
with pynwb.NWBHDF5IO(a["ours"], "r", load_namespaces=True) as io:
    units = io.read().units.to_dataframe()
    ours = dict(spike_times=[list(map(float, x)) for x in units["spike_times"]],
                labels=list(units["curation_label"]), ids=[int(i) for i in units.index],
                obs_intervals=[np.asarray(x).tolist() for x in units["obs_intervals"]])
print(json.dumps(dict(spike_times=spike_times, ours=ours)))
"#;

fn team(env: &Env) -> String {
    s(
        &env.all(spyglass::common::common_lab::LAB_TEAM)[0],
        "team_name",
    )
}

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

pub(crate) struct Chain {
    pub(crate) env: Env,
    pub(crate) nwb: String,
    pub(crate) truth: spyglass_nwb::synthetic::GroundTruth,
    pub(crate) recording_id: Uuid,
    pub(crate) artifact_id: Uuid,
}

/// The session, its sort group, recording and artifact detection (`default`).
pub(crate) fn chain() -> Chain {
    chain_with(spyglass_nwb::synthetic::SyntheticParams {
        duration_s: 20.0,
        n_channels: 4,
        n_groups: 1,
        // home channels 0 and 3 (the writer's third unit would share channel 0's
        // footprint at a different amplitude only)
        n_units: 2,
        firing_rate_hz: 8.0,
        ..Default::default()
    })
}

/// [`chain`] on a session written with `p`.
pub(crate) fn chain_with(p: spyglass_nwb::synthetic::SyntheticParams) -> Chain {
    chain_in(Env::new(), p)
}

/// [`chain_with`] in a given installation.
pub(crate) fn chain_in(env: Env, p: spyglass_nwb::synthetic::SyntheticParams) -> Chain {
    let src = env.staging().join("sort20230622.nwb");
    let truth = spyglass_nwb::synthetic::write_session(&src, &p).unwrap();
    let r = &env.insert(std::slice::from_ref(&src))[0];
    assert!(r.is_ok(), "{r:?}");
    let nwb = r.nwb_file_name.clone();
    spyglass::defaults::insert_defaults(&env.db, &[]).unwrap();
    rec::set_group_by_shank(
        &env.db,
        &nwb,
        &rec::ShankOptions {
            omit_unitrode: true,
            ..Default::default()
        },
    )
    .unwrap();
    let key = rec::RecordingSelectionKey {
        nwb_file_name: nwb.clone(),
        sort_group_id: 0,
        interval_list_name: "raw data valid times".into(),
        preproc_param_name: "default".into(),
        team_name: team(&env),
    };
    let recording_id = rec::insert_selection(&env.db, &key).unwrap();
    let rep = spyglass::populate(&env.db, &env.settings, rec::RECORDING, Cond::Bool(true)).unwrap();
    assert_eq!(rep.success_count, 1, "{:?}", rep.error_list);
    let artifact_id = art::insert_selection(&env.db, recording_id, "default").unwrap();
    let rep = spyglass::populate(&env.db, &env.settings, art::DETECTION, Cond::Bool(true)).unwrap();
    assert_eq!(rep.success_count, 1, "{:?}", rep.error_list);
    Chain {
        env,
        nwb,
        truth,
        recording_id,
        artifact_id,
    }
}

pub(crate) fn select(c: &Chain, sorter: &str, params: &str, interval: &str) -> Uuid {
    ss::insert_selection(
        &c.env.db,
        &ss::SortingSelectionKey {
            recording_id: c.recording_id,
            sorter: sorter.into(),
            sorter_param_name: params.into(),
            nwb_file_name: c.nwb.clone(),
            interval_list_name: interval.into(),
        },
    )
    .unwrap()
}

/// [`sort`], then the first curation, of all units: (sorting id, curation).
pub(crate) fn sorted(
    c: &Chain,
    sorter: &str,
    params: &str,
) -> (Uuid, spyglass::spikesorting::curation_v1::CurationRow) {
    let id = sort(c, sorter, params);
    let input = spyglass::spikesorting::curation_v1::CurationInput::default();
    let cur = spyglass::spikesorting::curation_v1::insert_curation(
        &c.env.db,
        &c.env.settings,
        id,
        &input,
    );
    (id, cur.unwrap())
}

/// Sorts the chain's artifact-free interval with `sorter` under `params` (selected and
/// populated): the sorting id.
pub(crate) fn sort(c: &Chain, sorter: &str, params: &str) -> Uuid {
    let id = select(c, sorter, params, &c.artifact_id.to_string());
    populate_sorting(c, id);
    id
}

/// Populates SpikeSorting for one selection, which must succeed.
pub(crate) fn populate_sorting(c: &Chain, id: Uuid) {
    let rep = spyglass::populate(
        &c.env.db,
        &c.env.settings,
        ss::SORTING,
        Cond::map([("sorting_id", Value::Uuid(id))]),
    )
    .unwrap();
    assert_eq!(rep.success_count, 1, "{:?}", rep.error_list);
}

/// The units of a SpikeSorting row, from its analysis file: (path, spike times).
fn units(c: &Chain, id: Uuid) -> (std::path::PathBuf, Vec<Vec<f64>>) {
    let row = c
        .env
        .db
        .fetch1(
            &c.env
                .db
                .table(ss::SORTING)
                .unwrap()
                .restrict(Cond::map([("sorting_id", Value::Uuid(id))]))
                .unwrap(),
        )
        .unwrap();
    let path =
        spyglass::analysis::analysis_file_path(&c.env.db, &s(&row, "analysis_file_name")).unwrap();
    let file = spyglass_nwb::NwbFile::open(&path).unwrap();
    assert_eq!(file.path_of_id(&s(&row, "object_id")).unwrap(), "/units");
    let t = i(&row, "time_of_sort");
    let now = chrono::Utc::now().timestamp();
    assert!(
        (now - 600..=now + 1).contains(&t),
        "time_of_sort {t} (now {now})"
    );
    (path.clone(), file.spike_times().unwrap())
}

#[test]
fn sorting_chain_equals_spyglass_and_the_ground_truth() {
    let c = chain();
    let db = &c.env.db;
    // Spyglass's 22 rows and ours
    assert_eq!(c.env.count(ss::PARAMETERS), 23);
    let (recording, hash) = rec::open_recording(db, c.recording_id).unwrap();
    let (data, _) = recording.read_all(hash.as_deref()).unwrap();
    let ts = recording.timestamps(0..recording.n_rows()).unwrap();
    // an interval list with a 1.5 s gap (and a start inside the recording): the
    // samples outside it are zeroed before sorting
    let gappy = vec![[ts[15_000], ts[150_000]], [ts[195_000], ts[ts.len() - 1]]];
    spyglass::common::common_interval::insert(
        db,
        &spyglass::common::common_interval::IntervalList::new(&c.nwb, "gappy", gappy.clone()),
        false,
    )
    .unwrap();
    let clusterless = select(&c, ss::CLUSTERLESS, "default_clusterless", "gappy");
    let native = select(&c, ss::NATIVE, "default", &c.artifact_id.to_string());
    let python_only = select(
        &c,
        "mountainsort4",
        "franklab_tetrode_hippocampus_30KHz",
        &c.artifact_id.to_string(),
    );
    // the same selection, the same id
    assert_eq!(
        select(&c, ss::CLUSTERLESS, "default_clusterless", "gappy"),
        clusterless
    );
    for id in [clusterless, native] {
        let rep = spyglass::populate(
            db,
            &c.env.settings,
            ss::SORTING,
            Cond::map([("sorting_id", Value::Uuid(id))]),
        )
        .unwrap();
        assert_eq!(rep.success_count, 1, "{:?}", rep.error_list);
    }
    // a Python-only sorter is refused, by name
    let err = match spyglass::populate(
        db,
        &c.env.settings,
        ss::SORTING,
        Cond::map([("sorting_id", Value::Uuid(python_only))]),
    ) {
        Ok(rep) => format!("{:?}", rep.error_list),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("mountainsort4") && err.contains("only in Python"),
        "{err}"
    );
    assert_eq!(c.env.count(ss::SORTING), 2);

    // clusterless against Spyglass's own code on the same recording
    let (path, ours) = units(&c, clusterless);
    let dir = spyglass_testkit::scratch_dir();
    let (dp, tp) = (dir.path().join("data.f64"), dir.path().join("ts.f64"));
    write_f64(&dp, &data);
    write_f64(&tp, &ts);
    let blobs = spyglass_testkit::run_spyglass_python(BLOBS, &[]);
    let blobs: serde_json::Value = serde_json::from_str(blobs.lines().last().unwrap()).unwrap();
    let args = serde_json::json!({
        "root": blobs["root"], "data": dp, "ts": tp, "nc": 4, "rate": recording.sampling_rate(),
        "locations": recording.recipe().locations, "valid_times": gappy, "ours": path,
    });
    let argf = dir.path().join("args.json");
    std::fs::write(&argf, args.to_string()).unwrap();
    let out = spyglass_testkit::run_python(ORACLE, &[argf.to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let want: Vec<Vec<f64>> = serde_json::from_value(report["spike_times"].clone()).unwrap();
    assert_eq!(want.len(), 1);
    println!(
        "clusterless: {} peaks (Spyglass: {})",
        ours[0].len(),
        want[0].len()
    );
    assert!(want[0].len() > 100);
    // the same samples: times equal but for JSON's last digit
    assert_eq!(ours[0].len(), want[0].len());
    for (a, b) in ours[0].iter().zip(&want[0]) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
    // nothing in the gap
    assert!(!ours[0].iter().any(|t| *t > gappy[0][1] && *t < gappy[1][0]));
    let pynwb_view = &report["ours"];
    assert_eq!(pynwb_view["labels"], serde_json::json!(["uncurated"]));
    assert_eq!(pynwb_view["ids"], serde_json::json!([0]));
    assert_eq!(pynwb_view["obs_intervals"], serde_json::json!([gappy]));

    // the blobs of the stored defaults are datajoint's packing of Spyglass's dicts
    let blobs = blobs["blobs"].as_object().unwrap();
    assert_eq!(blobs.len(), 22);
    for r in c.env.all(ss::PARAMETERS) {
        let key = format!("{}/{}", s(&r, "sorter"), s(&r, "sorter_param_name"));
        let bytes = match r.get("sorter_params") {
            Some(Value::Blob(b)) => spyglass_blob::pack(b),
            other => panic!("{key}: {other:?}"),
        };
        match blobs.get(&key) {
            Some(want) => assert_eq!(&serde_json::json!(hex(&bytes)), want, "{key}"),
            None => assert_eq!(key, format!("{}/default", ss::NATIVE)),
        }
    }

    // spyglass_sorter against the ground truth
    let (_, native_units) = units(&c, native);
    let to_sample = |t: &f64| ts.partition_point(|x| x < t);
    let gt = serde_json::json!({
        "fs": recording.sampling_rate(),
        "units": c.truth.units.iter().map(|u| (u.id.to_string(), u.spike_samples.clone().into())).collect::<serde_json::Map<_, _>>(),
    });
    let found: serde_json::Map<String, serde_json::Value> = native_units
        .iter()
        .enumerate()
        .map(|(k, t)| {
            (
                k.to_string(),
                t.iter().map(to_sample).collect::<Vec<_>>().into(),
            )
        })
        .collect();
    let (gp, op) = (dir.path().join("gt.json"), dir.path().join("ours.json"));
    std::fs::write(&gp, gt.to_string()).unwrap();
    std::fs::write(&op, serde_json::Value::Object(found).to_string()).unwrap();
    let out = spyglass_testkit::run_python(
        include_str!("../../../spyglass-sort/tests/integration/score.py"),
        &[gp.to_str().unwrap(), op.to_str().unwrap()],
    );
    let acc: std::collections::BTreeMap<String, f64> =
        serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let mean = acc.values().sum::<f64>() / acc.len() as f64;
    println!(
        "spyglass_sorter: {} units, accuracy {acc:?}",
        native_units.len()
    );
    assert_eq!(acc.len(), 2);
    assert!(
        mean >= 0.8,
        "mean accuracy {mean:.3} below the 0.8 floor: {acc:?}"
    );

    // a second database: the same ids, the same spike times
    let d = chain();
    assert_eq!(
        (d.recording_id, d.artifact_id),
        (c.recording_id, c.artifact_id)
    );
    let again = select(&d, ss::NATIVE, "default", &d.artifact_id.to_string());
    assert_eq!(again, native);
    let rep =
        spyglass::populate(&d.env.db, &d.env.settings, ss::SORTING, Cond::Bool(true)).unwrap();
    assert_eq!(rep.success_count, 1, "{:?}", rep.error_list);
    assert_eq!(units(&d, again).1, native_units);
}
