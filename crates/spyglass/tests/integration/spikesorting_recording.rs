//! spikesorting_v1_recording: sort groups by shank (hand-derived from the fixture's
//! electrodes), the recording recomputed from the raw file against SpikeInterface
//! 0.105's `common_reference` + `bandpass_filter` run on the whole series at once
//! (the oracle reads the raw file with pynwb, takes the samples of each piece as
//! Spyglass's `_consolidate_intervals` does and concatenates them), content-derived
//! recording ids, the MD5 check of a recompute, and the row's `hash` equal to Python
//! Spyglass's own `NwbfileHasher` on the recipe-only and the materialized file.

use crate::common::*;
use spyglass::spikesorting::recording_v1 as rec;
use spyglass_db::{Cond, Row, Value};
use std::path::{Path, PathBuf};

/// SpikeInterface on the raw file: args JSON {nwb, object_id, valid_times,
/// channel_ids, reference, freq_min, freq_max, out}; writes the filtered traces
/// (time-major float64 µV) to `out`.
const ORACLE: &str = r#"
import json, sys
import numpy as np, pynwb
import spikeinterface.core as sc
import spikeinterface.preprocessing as spre
a = json.load(open(sys.argv[1]))
io = pynwb.NWBHDF5IO(a["nwb"], "r")
nwb = io.read()
es = nwb.objects[a["object_id"]]
ts = np.asarray(es.timestamps[:])
rows = np.asarray(es.electrodes.data[:])
ids = np.asarray(nwb.electrodes.id[:])[rows]
uv = np.asarray(es.data[:], dtype=np.float64) * es.conversion * 1e6
if es.channel_conversion is not None:
    uv = uv * np.asarray(es.channel_conversion[:])[None, :]
uv = uv + es.offset * 1e6
# Spyglass's _consolidate_intervals: [searchsorted(start), searchsorted(stop, right) - 1], adjacent joined
vt = np.asarray(a["valid_times"], dtype=float).reshape(-1, 2)
starts = np.searchsorted(ts, vt[:, 0], side="left")
stops = np.searchsorted(ts, vt[:, 1], side="right") - 1
pieces = []
s, e = starts[0], stops[0]
for ns, ne in zip(starts, stops):
    if e >= ns - 1:
        e = max(e, ne)
    else:
        pieces.append((s, e)); s, e = ns, ne
pieces.append((s, e))
traces = np.concatenate([uv[p0:p1] for p0, p1 in pieces])
r = sc.NumpyRecording([traces], sampling_frequency=a["rate"], channel_ids=list(ids))
ref = a["reference"]
outs = sorted(a["channel_ids"])
if ref >= 0:
    r = r.select_channels(sorted(set(outs) | {ref}))
    r = spre.common_reference(r, reference="single", ref_channel_ids=[ref], dtype="float64")
    r = r.select_channels(outs)
else:
    r = r.select_channels(outs)
    if ref == -2:
        r = spre.common_reference(r, reference="global", operator="median", dtype="float64")
r = spre.bandpass_filter(r, freq_min=a["freq_min"], freq_max=a["freq_max"], dtype="float64")
y = r.get_traces(start_frame=0, end_frame=r.get_num_samples())
np.ascontiguousarray(y, dtype="<f8").tofile(a["out"])
print(json.dumps({"n": int(y.shape[0]), "pieces": [[int(p0), int(p1)] for p0, p1 in pieces]}))
"#;

/// The minimal pynwb fixture (plain devices, no probe metadata: positions from x/y), ingested.
fn minimal_session(env: &Env) -> (PathBuf, String, serde_json::Value) {
    let src = env.staging().join("minimal20230622.nwb");
    let fx = pynwb_file(&src, "minimal");
    std::fs::write(
        env.staging().join("minimal20230622_spyglass_config.yaml"),
        "Tasks:\n- task_name: sleep\n  task_description: sleeping\n  task_environment: box\n  task_epochs: [1, 2]\n",
    )
    .unwrap();
    let r = &env.insert(std::slice::from_ref(&src))[0];
    assert!(r.is_ok(), "{r:?}");
    (src, r.nwb_file_name.clone(), fx)
}

fn team(env: &Env) -> String {
    s(
        &env.all(spyglass::common::common_lab::LAB_TEAM)[0],
        "team_name",
    )
}

fn read_f64(path: &Path) -> Vec<f64> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

/// Relative RMS difference of each channel (time-major data of `nc` channels).
fn rel_rms(got: &[f64], want: &[f64], nc: usize) -> Vec<f64> {
    (0..nc)
        .map(|c| {
            let (mut d, mut w) = (0.0, 0.0);
            for (g, x) in got
                .iter()
                .skip(c)
                .step_by(nc)
                .zip(want.iter().skip(c).step_by(nc))
            {
                d += (g - x) * (g - x);
                w += x * x;
            }
            (d / w).sqrt()
        })
        .collect()
}

fn short_params(env: &Env) {
    let dict = serde_json::json!({"frequency_min": 300, "frequency_max": 6000, "margin_ms": 5, "seed": 0, "min_segment_length": 0.5});
    assert!(rec::PARAMETERS.insert(&env.db, "short", &dict).unwrap());
    assert!(!rec::PARAMETERS.insert(&env.db, "short", &dict).unwrap());
}

/// Spyglass's defaults, the `short` parameters, groups by shank, and a populated
/// recording of sort group `sort_group_id` of session `nwb`; returns its id.
fn short_recording(env: &Env, nwb: &str, sort_group_id: i64) -> uuid::Uuid {
    spyglass::defaults::insert_defaults(&env.db, &[]).unwrap();
    short_params(env);
    let opts = rec::ShankOptions {
        omit_unitrode: true,
        ..Default::default()
    };
    rec::set_group_by_shank(&env.db, nwb, &opts).unwrap();
    let key = rec::RecordingSelectionKey {
        nwb_file_name: nwb.to_string(),
        sort_group_id,
        interval_list_name: "raw data valid times".into(),
        preproc_param_name: "short".into(),
        team_name: team(env),
    };
    let id = rec::insert_selection(&env.db, &key).unwrap();
    let rep = spyglass::populate(&env.db, &env.settings, rec::RECORDING, Cond::Bool(true)).unwrap();
    assert_eq!(rep.success_count, 1, "{:?}", rep.error_list);
    id
}

#[test]
fn the_recording_equals_spikeinterface_on_a_file_without_probe_metadata() {
    let env = Env::new();
    let (src, nwb, fx) = minimal_session(&env);
    spyglass::defaults::insert_defaults(&env.db, &[]).unwrap();
    short_params(&env);
    // no shanks, no references in the file: one group per electrode group; references given
    let opts = rec::ShankOptions {
        references: Some(vec![("0".into(), 5), ("1".into(), -2)]),
        omit_ref_electrode_group: false,
        omit_unitrode: true,
    };
    let groups = rec::set_group_by_shank(&env.db, &nwb, &opts).unwrap();
    let got: Vec<(i64, i64, Vec<i64>)> = groups
        .iter()
        .map(|(g, e)| {
            (
                g.sort_group_id,
                g.sort_reference_electrode_id,
                e.iter().map(|e| e.electrode_id).collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![(0, 5, vec![0, 1, 2, 3]), (1, -2, vec![4, 5, 6, 7])]
    );
    // and a group with no reference
    env.db
        .insert1(
            rec::SORT_GROUP,
            Row::from_pairs([
                ("nwb_file_name", Value::from(nwb.as_str())),
                ("sort_group_id", Value::from(2i64)),
                ("sort_reference_electrode_id", Value::from(-1i64)),
            ]),
            Default::default(),
        )
        .unwrap();
    for e in [1i64, 6, 2] {
        let g = if e < 4 { "0" } else { "1" };
        env.db
            .insert1(
                rec::SORT_GROUP_ELECTRODE,
                Row::from_pairs([
                    ("nwb_file_name", Value::from(nwb.as_str())),
                    ("sort_group_id", Value::from(2i64)),
                    ("electrode_group_name", Value::from(g)),
                    ("electrode_id", Value::from(e)),
                ]),
                Default::default(),
            )
            .unwrap();
    }
    let raw_times =
        spyglass::common::common_interval::fetch_intervals(&env.db, &nwb, "raw data valid times")
            .unwrap();
    assert_eq!(
        raw_times.len(),
        2,
        "the fixture's gap splits the raw valid times"
    );
    let mut ids = vec![];
    for group in 0..3 {
        let key = rec::RecordingSelectionKey {
            nwb_file_name: nwb.clone(),
            sort_group_id: group,
            interval_list_name: "raw data valid times".into(),
            preproc_param_name: "short".into(),
            team_name: team(&env),
        };
        ids.push(rec::insert_selection(&env.db, &key).unwrap());
    }
    let rep = spyglass::populate(&env.db, &env.settings, rec::RECORDING, Cond::Bool(true)).unwrap();
    assert_eq!(rep.success_count, 3, "{:?}", rep.error_list);
    let cases = [
        (5, vec![0, 1, 2, 3]),
        (-2, vec![4, 5, 6, 7]),
        (-1, vec![1, 2, 6]),
    ];
    for (id, (reference, channels)) in ids.iter().zip(cases) {
        // the valid times recorded under the recording id: both pieces (each > 0.5 s)
        let list =
            spyglass::common::common_interval::fetch_list(&env.db, &nwb, &id.to_string()).unwrap();
        assert_eq!(list.pipeline, rec::PIPELINE);
        assert_times(&list.valid_times, raw_times.as_slice(), 0.0);
        let (recording, hash) = rec::open_recording(&env.db, *id).unwrap();
        assert_eq!(recording.recipe().channel_ids, channels);
        // positions from the electrodes table's x / y (electrode i at (i, 2i))
        let want_pos: Vec<[f64; 2]> = channels
            .iter()
            .map(|&e| [e as f64, 2.0 * e as f64])
            .collect();
        assert_eq!(recording.recipe().locations, Some(want_pos));
        let (got, hash2) = recording.read_all(hash.as_deref()).unwrap();
        assert_eq!(Some(hash2), hash);
        let dir = spyglass_testkit::scratch_dir();
        let out = dir.path().join("y.f64");
        let args = serde_json::json!({
            "nwb": src, "object_id": fx["raw_object_id"], "valid_times": list.valid_times,
            "channel_ids": channels, "reference": reference, "freq_min": 300.0, "freq_max": 6000.0,
            "rate": 30000.0, "out": out,
        });
        let argf = dir.path().join("args.json");
        std::fs::write(&argf, args.to_string()).unwrap();
        let report = spyglass_testkit::run_python(ORACLE, &[argf.to_str().unwrap()]);
        let report: serde_json::Value =
            serde_json::from_str(report.lines().last().unwrap()).unwrap();
        let want = read_f64(&out);
        assert_eq!(report["n"].as_u64().unwrap() as usize, recording.n_rows());
        let pieces: Vec<[usize; 2]> = serde_json::from_value(report["pieces"].clone()).unwrap();
        assert_eq!(recording.recipe().pieces, pieces);
        assert_eq!(got.len(), want.len());
        let rms = rel_rms(&got, &want, channels.len());
        println!("reference {reference}: relative RMS vs SpikeInterface {rms:?}");
        for (c, r) in rms.iter().enumerate() {
            assert!(
                *r < 1e-5,
                "reference {reference}, channel {c}: relative RMS {r}"
            );
        }
        // the timestamps are the raw ones of each piece
        let ts = recording.timestamps(0..recording.n_rows()).unwrap();
        assert_eq!(ts.len(), recording.n_rows());
        assert_eq!(ts[0], fx["ts_first"].as_f64().unwrap());
    }
    // materialized: the samples as Spyglass stores them, read back by the volts reader
    let (recording, hash) = rec::open_recording(&env.db, ids[1]).unwrap();
    let (want, _) = recording.read_all(hash.as_deref()).unwrap();
    let name = rec::materialize(&env.db, &env.settings, ids[1]).unwrap();
    let row = env
        .db
        .fetch(
            &env.db
                .table(rec::RECORDING)
                .unwrap()
                .restrict(Cond::map([("analysis_file_name", name.as_str())]))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(row.len(), 1);
    let path = spyglass::analysis::analysis_file_path(&env.db, &name).unwrap();
    let file = spyglass_nwb::NwbFile::open(&path).unwrap();
    let series = file.path_of_id(&s(&row[0], "object_id")).unwrap();
    assert_eq!(series, "/acquisition/ProcessedElectricalSeries");
    assert!(file
        .path_of_id(&s(&row[0], "electrodes_id"))
        .unwrap()
        .ends_with("/electrodes"));
    let reader = file.volts_reader(&series).unwrap();
    assert_eq!(reader.channel_ids(), &[4, 5, 6, 7]);
    let n = reader.raw().num_samples();
    let v = reader.read_volts(0..n, &[0, 1, 2, 3]).unwrap();
    for (c, ch) in v.iter().enumerate() {
        for (t, x) in ch.iter().enumerate() {
            assert!((x * 1e6 - want[t * 4 + c]).abs() <= 1e-9 * want[t * 4 + c].abs().max(1.0));
        }
    }
    assert_eq!(
        reader.raw().timestamps(0..n).unwrap(),
        recording.timestamps(0..n).unwrap()
    );
    // the row still recomputes
    let (again, hash2) = rec::open_recording(&env.db, ids[1]).unwrap();
    assert_eq!(hash2, hash);
    again.stream(hash2.as_deref(), |_, _| Ok(())).unwrap();
}

#[test]
fn the_same_selection_gets_the_same_recording_id_in_every_database() {
    let mut seen = vec![];
    for _ in 0..2 {
        let env = Env::new();
        let (_, nwb, _) = minimal_session(&env);
        spyglass::defaults::insert_defaults(&env.db, &[]).unwrap();
        short_params(&env);
        rec::set_group_by_shank(
            &env.db,
            &nwb,
            &rec::ShankOptions {
                omit_unitrode: true,
                ..Default::default()
            },
        )
        .unwrap();
        // a second call with the same groups changes nothing
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
            sort_group_id: 1,
            interval_list_name: "raw data valid times".into(),
            preproc_param_name: "short".into(),
            team_name: team(&env),
        };
        let a = rec::insert_selection(&env.db, &key).unwrap();
        let b = rec::insert_selection(&env.db, &key).unwrap();
        assert_eq!(a, b);
        assert_eq!(env.count(rec::RECORDING_SELECTION), 1);
        assert_eq!(a.get_version_num(), 5);
        for _ in 0..2 {
            let rep = spyglass::populate(&env.db, &env.settings, rec::RECORDING, Cond::Bool(true))
                .unwrap();
            assert!(rep.error_list.is_empty(), "{:?}", rep.error_list);
        }
        // the samples' MD5 (the row's `hash` is the file's, whose object ids are random)
        let samples_md5 = rec::recording_source(&env.db, a).unwrap().hash;
        assert!(samples_md5.is_some());
        seen.push((a, samples_md5));
        // a different selection, a different id
        let other = rec::RecordingSelectionKey {
            sort_group_id: 0,
            ..key
        };
        assert_ne!(rec::insert_selection(&env.db, &other).unwrap(), a);
    }
    assert_eq!(seen[0], seen[1]);
}

#[test]
fn a_recompute_whose_hash_differs_is_an_error() {
    let env = Env::new();
    let (_, nwb, _) = minimal_session(&env);
    let id = short_recording(&env, &nwb, 0);
    // a recompute checked against another MD5 of the samples than its own
    let (recording, hash) = rec::open_recording(&env.db, id).unwrap();
    assert!(hash.is_some());
    let mut blocks = 0;
    let err = recording
        .stream(Some("0123456789abcdef0123456789abcdef"), |_, _| {
            blocks += 1;
            Ok(())
        })
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("0123456789abcdef0123456789abcdef") && err.contains("differs"),
        "{err}"
    );
    assert!(blocks > 0);
    // the MD5 stored with the recipe, changed by h5py: the file no longer matches its
    // registered checksum, and is refused before anything is recomputed
    let row = &env.all(rec::RECORDING)[0];
    let path =
        spyglass::analysis::analysis_file_path(&env.db, &s(row, "analysis_file_name")).unwrap();
    spyglass_testkit::run_python(
        "import sys, h5py\nwith h5py.File(sys.argv[1], 'r+') as f:\n    f[sys.argv[2]][0] = '0123456789abcdef0123456789abcdef'\n",
        &[
            path.to_str().unwrap(),
            &format!("/scratch/{}/hash", rec::RECIPE_TABLE),
        ],
    );
    let err = rec::open_recording(&env.db, id).err().unwrap().to_string();
    assert!(err.contains("contents changed"), "{err}");
    // the default parameters drop both 1 s halves (not longer than min_segment_length 1 s)
    let key = rec::RecordingSelectionKey {
        nwb_file_name: nwb.clone(),
        sort_group_id: 0,
        interval_list_name: "raw data valid times".into(),
        preproc_param_name: "default".into(),
        team_name: team(&env),
    };
    rec::insert_selection(&env.db, &key).unwrap();
    let err = spyglass::populate(&env.db, &env.settings, rec::RECORDING, Cond::Bool(true))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no piece longer than 1 s"), "{err}");
}

#[test]
fn sort_groups_by_shank_follow_spyglass() {
    // the full fixture: 2 tetrodes (groups 0 and 1, shank 0), electrode 3 bad,
    // electrode 0 referenced to 2, the others to -1
    let env = Env::new();
    let src = env.staging().join("shank20230622.nwb");
    pynwb_file(&src, "extras");
    let r = &env.insert(&[src])[0];
    assert!(r.is_ok(), "{r:?}");
    let nwb = r.nwb_file_name.clone();
    let summary =
        |g: &[(rec::SortGroup, Vec<rec::SortGroupElectrode>)]| -> Vec<(i64, i64, Vec<i64>)> {
            g.iter()
                .map(|(g, e)| {
                    (
                        g.sort_group_id,
                        g.sort_reference_electrode_id,
                        e.iter().map(|e| e.electrode_id).collect(),
                    )
                })
                .collect()
        };
    // group 0's electrodes disagree on their reference: an error naming the group
    let err = rec::group_by_shank(
        &env.db,
        &nwb,
        &rec::ShankOptions {
            omit_unitrode: true,
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("electrode group 0") && err.contains("not all the same"),
        "{err}"
    );
    // references per group; the bad electrode 3 is left out
    let refs = |a: i64, b: i64| Some(vec![("0".to_string(), a), ("1".to_string(), b)]);
    let opts = rec::ShankOptions {
        references: refs(1, -1),
        omit_ref_electrode_group: false,
        omit_unitrode: true,
    };
    assert_eq!(
        summary(&rec::group_by_shank(&env.db, &nwb, &opts).unwrap()),
        vec![(0, 1, vec![0, 1, 2]), (1, -1, vec![4, 5, 6, 7])]
    );
    // no group for the electrode group holding the reference; ids stay consecutive
    let opts = rec::ShankOptions {
        references: refs(1, 1),
        omit_ref_electrode_group: true,
        omit_unitrode: true,
    };
    assert_eq!(
        summary(&rec::group_by_shank(&env.db, &nwb, &opts).unwrap()),
        vec![(0, 1, vec![4, 5, 6, 7])]
    );
    // a reference that is no (good) electrode of the session
    let opts = rec::ShankOptions {
        references: refs(3, -1),
        ..Default::default()
    };
    assert!(rec::group_by_shank(&env.db, &nwb, &opts)
        .unwrap_err()
        .to_string()
        .contains("exactly one electrode group"));
    // a group missing from the references
    let opts = rec::ShankOptions {
        references: Some(vec![("0".into(), -1)]),
        ..Default::default()
    };
    assert!(rec::group_by_shank(&env.db, &nwb, &opts)
        .unwrap_err()
        .to_string()
        .contains("not a key in references"));
    // inserted once; other groups over existing ones are refused, nothing changed
    let opts = rec::ShankOptions {
        references: refs(-2, -1),
        omit_ref_electrode_group: false,
        omit_unitrode: true,
    };
    rec::set_group_by_shank(&env.db, &nwb, &opts).unwrap();
    assert_eq!(
        (
            env.count(rec::SORT_GROUP),
            env.count(rec::SORT_GROUP_ELECTRODE)
        ),
        (2, 7)
    );
    let opts = rec::ShankOptions {
        references: refs(-1, -1),
        ..opts
    };
    assert!(rec::set_group_by_shank(&env.db, &nwb, &opts)
        .unwrap_err()
        .to_string()
        .contains("delete them first"));
    assert_eq!(
        env.rows(rec::SORT_GROUP, &nwb)
            .iter()
            .map(|r| i(r, "sort_reference_electrode_id"))
            .collect::<Vec<_>>(),
        vec![-2, -1]
    );
    // positions: Spyglass's square for the tetrode_12.5 group of 4 (group 1), the
    // electrodes table's x / y (electrode e at (e, 2e)) for the group of 3
    spyglass::defaults::insert_defaults(&env.db, &[]).unwrap();
    short_params(&env);
    let mut ids = vec![];
    for group in [0, 1] {
        let key = rec::RecordingSelectionKey {
            nwb_file_name: nwb.clone(),
            sort_group_id: group,
            interval_list_name: "raw data valid times".into(),
            preproc_param_name: "short".into(),
            team_name: team(&env),
        };
        ids.push(rec::insert_selection(&env.db, &key).unwrap());
    }
    let rep = spyglass::populate(&env.db, &env.settings, rec::RECORDING, Cond::Bool(true)).unwrap();
    assert_eq!(rep.success_count, 2, "{:?}", rep.error_list);
    let locations = |id| {
        rec::open_recording(&env.db, id)
            .unwrap()
            .0
            .recipe()
            .locations
            .clone()
    };
    assert_eq!(
        locations(ids[0]),
        Some(vec![[0.0, 0.0], [1.0, 2.0], [2.0, 4.0]])
    );
    let square = vec![[0.0, 0.0], [0.0, 12.5], [12.5, 0.0], [12.5, 12.5]];
    assert_eq!(locations(ids[1]), Some(square));
}

/// Spyglass's `_get_artifact_times` (its source, read from the Spyglass environment
/// and run without importing the package, which would connect to a database) on a
/// recording given as float64 samples and timestamps: args JSON {data, ts, nc, rate,
/// sort_interval, params}; prints the valid times.
const ARTIFACT_ORACLE: &str = r#"
import ast, functools, importlib.util, itertools, json, logging, sys, typing
import numpy as np, scipy.stats
import spikeinterface as si
import spikeinterface.core as sc
from spikeinterface.core.job_tools import ChunkRecordingExecutor, ensure_n_jobs
root = importlib.util.find_spec("spyglass").submodule_search_locations[0]
ns = dict(np=np, itertools=itertools, reduce=functools.reduce, logger=logging.getLogger("oracle"),
          test_mode=True, stats=scipy.stats, si=si, ChunkRecordingExecutor=ChunkRecordingExecutor,
          ensure_n_jobs=ensure_n_jobs, warnings=__import__("warnings"),
          dj=__import__("types").SimpleNamespace(expression=__import__("types").SimpleNamespace(QueryExpression=object)))
ns.update({k: getattr(typing, k) for k in ("Iterable", "List", "Optional", "Tuple", "TypeVar", "Union", "Dict")})
def take(path, names):
    tree = ast.parse(open(root + path).read())
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in names:
            exec(compile(ast.Module([node], []), path, "exec"), ns)
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) in names for t in node.targets):
            exec(compile(ast.Module([node], []), path, "exec"), ns)
take("/common/common_interval.py", {"T", "IntervalLike", "Interval"})
take("/spikesorting/utils.py", {"_init_artifact_worker", "_compute_artifact_chunk", "_check_artifact_thresholds"})
take("/spikesorting/v1/artifact.py", {"_get_artifact_times"})
a = json.load(open(sys.argv[1]))
data = np.fromfile(a["data"], dtype="<f8").reshape(-1, a["nc"])
ts = np.fromfile(a["ts"], dtype="<f8")
rec = sc.NumpyRecording([data], sampling_frequency=a["rate"])
rec.set_times(ts)
params = dict(a["params"], n_jobs=1, progress_bar=False)
try:
    valid, _ = ns["_get_artifact_times"](rec, ns["Interval"](np.asarray(a["sort_interval"])), **params)
except TypeError as e:
    # Spyglass's union_consolidate of no piece at all: reduce() of an empty list
    assert "empty" in str(e), e
    valid = np.zeros((0, 2))
print(json.dumps(np.asarray(valid).reshape(-1, 2).tolist()))
"#;

#[test]
fn artifact_detection_equals_spyglass() {
    use spyglass::spikesorting::artifact_v1 as art;
    // a synthetic tetrode session: 6 s, one unit firing rarely (200 µV spikes), 10 µV noise
    let env = Env::new();
    let p = spyglass_nwb::synthetic::SyntheticParams {
        duration_s: 6.0,
        n_channels: 4,
        n_groups: 1,
        n_units: 1,
        firing_rate_hz: 1.0,
        ..Default::default()
    };
    let src = env.staging().join("art20230622.nwb");
    spyglass_nwb::synthetic::write_session(&src, &p).unwrap();
    let r = &env.insert(std::slice::from_ref(&src))[0];
    assert!(r.is_ok(), "{r:?}");
    let nwb = r.nwb_file_name.clone();
    spyglass::defaults::insert_defaults(&env.db, &[]).unwrap();
    assert_eq!(env.count(art::PARAMETERS), 2);
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
    let id = rec::insert_selection(&env.db, &key).unwrap();
    let rep = spyglass::populate(&env.db, &env.settings, rec::RECORDING, Cond::Bool(true)).unwrap();
    assert_eq!(rep.success_count, 1, "{:?}", rep.error_list);
    let sets = [
        (
            "amp",
            serde_json::json!({"zscore_thresh": null, "amplitude_thresh_uV": 60.0, "proportion_above_thresh": 0.25, "removal_window_ms": 1.0}),
        ),
        (
            "z",
            serde_json::json!({"zscore_thresh": 1.45, "amplitude_thresh_uV": null, "proportion_above_thresh": 0.25, "removal_window_ms": 3.0}),
        ),
        (
            "both",
            serde_json::json!({"zscore_thresh": 1.49, "amplitude_thresh_uV": 100.0, "proportion_above_thresh": 0.25, "removal_window_ms": 0.5}),
        ),
        (
            "few",
            serde_json::json!({"zscore_thresh": null, "amplitude_thresh_uV": 60.0, "proportion_above_thresh": 0.25, "removal_window_ms": 20.0}),
        ),
    ];
    let mut ids = vec![];
    for (name, dict) in &sets {
        assert!(art::PARAMETER_SETS.insert(&env.db, name, dict).unwrap());
        ids.push(art::insert_selection(&env.db, id, name).unwrap());
    }
    ids.push(art::insert_selection(&env.db, id, "none").unwrap());
    assert_eq!(art::insert_selection(&env.db, id, "none").unwrap(), ids[4]);
    let rep = spyglass::populate(&env.db, &env.settings, art::DETECTION, Cond::Bool(true)).unwrap();
    assert_eq!(rep.success_count, 5, "{:?}", rep.error_list);

    let (recording, hash) = rec::open_recording(&env.db, id).unwrap();
    let (data, _) = recording.read_all(hash.as_deref()).unwrap();
    let ts = recording.timestamps(0..recording.n_rows()).unwrap();
    let dir = spyglass_testkit::scratch_dir();
    // 6 s recomputed in 2 s chunks with 100 ms margins against SpikeInterface on the
    // whole series at once (a file written by our writer)
    assert!(recording.n_rows() > 2 * recording.recipe().chunk_rows);
    let out = dir.path().join("si.f64");
    let raw_id = s(
        &env.rows(spyglass::common::common_ephys::RAW, &nwb)[0],
        "raw_object_id",
    );
    let valid = spyglass::common::common_interval::fetch_list(&env.db, &nwb, &id.to_string())
        .unwrap()
        .valid_times;
    let args = serde_json::json!({
        "nwb": src, "object_id": raw_id, "valid_times": valid, "channel_ids": [0, 1, 2, 3],
        "reference": -1, "freq_min": 300.0, "freq_max": 6000.0, "rate": 30000.0, "out": out,
    });
    let argf = dir.path().join("si.json");
    std::fs::write(&argf, args.to_string()).unwrap();
    spyglass_testkit::run_python(ORACLE, &[argf.to_str().unwrap()]);
    let rms = rel_rms(&data, &read_f64(&out), 4);
    println!("chunked recompute: relative RMS vs SpikeInterface on the whole series {rms:?}");
    assert!(rms.iter().all(|r| *r < 1e-5), "{rms:?}");
    let write = |name: &str, v: &[f64]| {
        let p = dir.path().join(name);
        std::fs::write(
            &p,
            v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>(),
        )
        .unwrap();
        p
    };
    let (dp, tp) = (write("data.f64", &data), write("ts.f64", &ts));
    let sort = spyglass::common::common_interval::fetch_list(&env.db, &nwb, "raw data valid times")
        .unwrap()
        .valid_times;
    let none = serde_json::json!({"zscore_thresh": null, "amplitude_thresh_uV": null});
    let all: Vec<(&str, serde_json::Value)> = sets
        .iter()
        .map(|(n, d)| (*n, d.clone()))
        .chain([("none", none)])
        .collect();
    let mut found = 0;
    for ((name, dict), aid) in all.iter().zip(&ids) {
        let stored =
            spyglass::common::common_interval::fetch_list(&env.db, &nwb, &aid.to_string()).unwrap();
        assert_eq!(stored.pipeline, art::PIPELINE);
        let args = serde_json::json!({"data": dp, "ts": tp, "nc": recording.n_channels(), "rate": 30000.0, "sort_interval": sort, "params": dict});
        let argf = dir.path().join("args.json");
        std::fs::write(&argf, args.to_string()).unwrap();
        let out = spyglass_testkit::run_spyglass_python(ARTIFACT_ORACLE, &[argf.to_str().unwrap()]);
        let want: Vec<[f64; 2]> = serde_json::from_str(out.lines().last().unwrap()).unwrap();
        assert_times(&stored.valid_times, &want, 1e-12);
        found += usize::from(want.len() > 1);
        println!("{name}: {} valid pieces", want.len());
    }
    assert!(
        found >= 2,
        "the thresholds find artifacts in at least two sets"
    );
}

/// The row's `hash` is Spyglass's NWB file hash of its analysis file, as Python
/// Spyglass's own `NwbfileHasher(path, precision_lookup={'ProcessedElectricalSeries':
/// 4})` computes it: on the recipe-only file after populate, and on the new file
/// after `materialize` (the samples' MD5 stays with the recipe, unchanged).
#[test]
fn the_row_hash_is_spyglass_nwb_file_hash_in_both_modes() {
    let env = Env::new();
    let (_, nwb, _) = minimal_session(&env);
    let id = short_recording(&env, &nwb, 1);
    let row_of = || {
        let row = env.all(rec::RECORDING).remove(0);
        let path = spyglass::analysis::analysis_file_path(&env.db, &s(&row, "analysis_file_name"))
            .unwrap();
        (path, s(&row, "hash"))
    };
    let (recipe_file, recipe_hash) = row_of();
    assert_eq!(recipe_hash, spyglass_nwb_hashes(&[&recipe_file])[0]);
    let samples_md5 = rec::recording_source(&env.db, id).unwrap().hash;
    let name = rec::materialize(&env.db, &env.settings, id).unwrap();
    let (materialized, materialized_hash) = row_of();
    assert!(materialized.ends_with(&name));
    assert_eq!(materialized_hash, spyglass_nwb_hashes(&[&materialized])[0]);
    assert_ne!(recipe_hash, materialized_hash);
    // the recompute check still uses the samples' MD5, which materialize kept
    let (recording, hash) = rec::open_recording(&env.db, id).unwrap();
    assert_eq!(hash, samples_md5);
    recording.stream(hash.as_deref(), |_, _| Ok(())).unwrap();
}
