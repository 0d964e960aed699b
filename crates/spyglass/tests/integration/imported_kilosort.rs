//! `insert --kilosort DIR`: a Kilosort / phy folder (SpikeInterface's export_to_phy,
//! and a Kilosort 2.5-style file set) sorted from a session's raw series becomes the
//! session's units table, ImportedSpikeSorting row and SpikeSortingOutput entry. The
//! oracle (pynwb and numpy): the units pynwb reads from the session's copy equal the
//! folder's labelled clusters with spikes, each spike at the raw series' timestamp
//! of its sample (the file has a 1.5 s gap, so a plain `sample / rate` would be
//! wrong after it). A folder of another sampling rate, or two files with one
//! folder, are refused with nothing left behind.

use crate::common::*;
use serde_json::Value as Json;
use spyglass::common::spikesorting_imported as ssi;
use spyglass::ingest::{FileStatus, IngestOptions};
use spyglass::spikesorting::{curation_v1, group_v1, merge};
use spyglass_db::Value;
use spyglass_nwb::synthetic::{write_session, SyntheticParams};
use std::path::Path;

/// pynwb's units of the copy `argv[1]`, and what they should be from the folder
/// `argv[2]` (numpy) on the raw series' timestamps (pynwb).
const ORACLE: &str = r#"
import sys, json, csv
import numpy as np, pynwb
copy, folder = sys.argv[1], sys.argv[2]
with pynwb.NWBHDF5IO(copy, 'r') as io:
    nwb = io.read()
    u = nwb.units
    got = {'object_id': u.object_id, 'ids': [int(i) for i in u.id[:]],
           'times': [[float(t) for t in st] for st in u['spike_times'][:]],
           'labels': [str(x) for x in u['label'][:]]}
    raw = [s for s in nwb.acquisition.values() if isinstance(s, pynwb.ecephys.ElectricalSeries)][0]
    ts = raw.timestamps[:]
st = np.load(folder + '/spike_times.npy').ravel().astype(np.int64)
sc = np.load(folder + '/spike_clusters.npy').ravel()
for name in ['cluster_group.tsv', 'cluster_KSLabel.tsv']:
    try:
        rows = list(csv.DictReader(open(folder + '/' + name), delimiter='\t'))
        break
    except FileNotFoundError:
        pass
ids, times = [], []
for r in rows:
    c = int(r['cluster_id'])
    s = np.sort(st[sc == c])
    if s.size == 0:
        continue
    ids.append(c); times.append([float(t) for t in ts[s]])
print(json.dumps({'got': got, 'want': {'ids': ids, 'times': times}}))
"#;

fn folders(root: &Path) {
    spyglass_testkit::run_python(
        include_str!("../../../spyglass-kilosort/tests/py/make_folders.py"),
        &[root.to_str().unwrap(), "3"],
    );
}

fn session(env: &Env, name: &str) -> std::path::PathBuf {
    let p = SyntheticParams {
        gap: Some((4.0, 1.5)),
        ..SyntheticParams::default()
    };
    let src = env.staging().join(name);
    write_session(&src, &p).unwrap();
    src
}

#[test]
fn a_kilosort_folder_becomes_the_sessions_imported_sorting() {
    let env = Env::new();
    let scratch = spyglass_testkit::scratch_dir();
    folders(scratch.path());
    for (variant, name) in [("si", "kssi20230622.nwb"), ("ks25", "ksold20230622.nwb")] {
        let folder = scratch.path().join(variant);
        let src = session(&env, name);
        let r = &env.insert_with(
            &[src],
            IngestOptions {
                kilosort: Some(folder.clone()),
                ..Default::default()
            },
        )[0];
        assert_eq!(r.status, FileStatus::Inserted, "{variant}: {r:?}");
        assert!(
            r.warnings
                .iter()
                .any(|w| w.contains("from Kilosort folder")),
            "{r:?}"
        );
        let nwb = r.nwb_file_name.clone();
        let copy = spyglass::analysis::nwb_file_path(&env.db, &nwb).unwrap();
        let out: Json = serde_json::from_str(
            spyglass_testkit::run_python(
                ORACLE,
                &[copy.to_str().unwrap(), folder.to_str().unwrap()],
            )
            .trim(),
        )
        .expect("oracle JSON");
        let (got, want) = (&out["got"], &out["want"]);
        assert_eq!(got["ids"], want["ids"], "{variant}");
        assert_eq!(got["times"], want["times"], "{variant}");
        assert!(
            !want["ids"].as_array().unwrap().is_empty(),
            "{variant}: the folder has units"
        );
        // a spike after the gap sits after it (sample / rate would put it inside)
        let last = want["times"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|t| t.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()))
            .fold(f64::MIN, f64::max);
        assert!(last > 5.5, "{variant}: the last spike at {last} s");
        let labels: Vec<&str> = got["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        let expected = if variant == "si" { "n.a." } else { "good" };
        assert_eq!(labels[0], expected, "{variant}: phy's `unsorted` is n.a.");

        // ImportedSpikeSorting points at those units; its merge entry reads them
        let row = &env.rows(ssi::IMPORTED_SPIKE_SORTING, &nwb)[0];
        assert_eq!(
            row.get("object_id"),
            Some(&Value::from(got["object_id"].as_str().unwrap()))
        );
        let entries = env.rows(merge::SPIKE_SORTING_OUTPUT_IMPORTED, &nwb);
        assert_eq!(entries.len(), 1, "{entries:?}");
        let Some(Value::Uuid(id)) = entries[0].get("merge_id") else {
            panic!("{entries:?}")
        };
        // (serde_json's default float parsing may be one ulp off Python's text)
        let want_times: Vec<Vec<f64>> = serde_json::from_value(want["times"].clone()).unwrap();
        let close = |times: &[Vec<f64>], want: &[Vec<f64>], what: &str| {
            assert_eq!(times.len(), want.len(), "{variant} {what}");
            for (a, b) in times.iter().zip(want) {
                assert_eq!(a.len(), b.len(), "{variant} {what}");
                for (x, y) in a.iter().zip(b) {
                    assert!(
                        (x - y).abs() <= 2.0 * f64::EPSILON * y.abs(),
                        "{variant} {what}: {x} vs {y}"
                    );
                }
            }
        };
        let times = curation_v1::get_spike_times(&env.db, *id).unwrap();
        close(&times, &want_times, "get_spike_times");
        // a SortedSpikesGroup of it: every unit, then Spyglass's default exclusion
        // (noise, mua) by the `label` column
        group_v1::insert_defaults(&env.db).unwrap();
        for (params, keep) in [
            ("all_units", vec!["good", "mua", "n.a."]),
            ("default_exclusion", vec!["good", "n.a."]),
        ] {
            let key = group_v1::create_group(&env.db, variant, &nwb, params, &[*id]).unwrap();
            let (spikes, _) = group_v1::fetch_spike_data(&env.db, &key, None).unwrap();
            let kept: Vec<Vec<f64>> = (want_times.iter().zip(&labels))
                .filter(|(_, l)| keep.contains(l))
                .map(|(t, _)| t.clone())
                .collect();
            close(&spikes, &kept, params);
        }
    }
}

#[test]
fn a_kilosort_folder_that_does_not_fit_is_refused() {
    let env = Env::new();
    let scratch = spyglass_testkit::scratch_dir();
    folders(scratch.path());
    let folder = scratch.path().join("si");
    // another sampling rate
    let params = folder.join("params.py");
    let text = std::fs::read_to_string(&params).unwrap();
    std::fs::write(&params, text.replace("30000.0", "20000.0")).unwrap();
    let src = session(&env, "ksbad20230622.nwb");
    let r = &env.insert_with(
        std::slice::from_ref(&src),
        IngestOptions {
            kilosort: Some(folder.clone()),
            ..Default::default()
        },
    )[0];
    let FileStatus::Failed { message, .. } = &r.status else {
        panic!("{r:?}")
    };
    assert!(
        message.contains("20000") && message.contains("not sorted from this file"),
        "{message}"
    );
    assert_eq!(env.count(spyglass::common::common_nwbfile::NWBFILE), 0);
    assert!(!env.settings.raw_dir.join("ksbad20230622_.nwb").exists());
    // one folder, two files
    let other = session(&env, "kstwo20230622.nwb");
    let e = spyglass::ingest::insert_sessions(
        &env.db,
        &env.settings,
        &[src, other],
        &IngestOptions {
            kilosort: Some(folder),
            ..Default::default()
        },
        &spyglass::ingest::NoProgress,
    )
    .unwrap_err();
    assert!(e.to_string().contains("one file"), "{e}");
}
