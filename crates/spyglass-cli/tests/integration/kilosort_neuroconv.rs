//! `spyglass insert FILE --kilosort DIR` on a session written by neuroconv (a
//! rate-based int16 ElectricalSeries with per-channel gains, no timestamps) with a
//! phy folder SpikeInterface's `export_to_phy` made from the same recording and its
//! ground-truth sorting (tests/py/neuroconv_kilosort.py). The oracle is outside our
//! code: pynwb reads the session's copy, and its units must be the ground truth's —
//! each unit's spike samples at `starting_time + sample / rate` of the raw series —
//! labelled as phy's `unsorted` is in Spyglass (`n.a.`).

use crate::common::*;
use serde_json::Value;

const READ_UNITS: &str = r#"
import sys, json, pynwb
with pynwb.NWBHDF5IO(sys.argv[1], 'r') as io:
    nwb = io.read()
    u = nwb.units
    raw = [s for s in nwb.acquisition.values() if isinstance(s, pynwb.ecephys.ElectricalSeries)][0]
    print(json.dumps({'ids': [int(i) for i in u.id[:]],
                      'times': [[float(t) for t in st] for st in u['spike_times'][:]],
                      'labels': [str(x) for x in u['label'][:]],
                      'start': float(raw.starting_time or 0.0), 'rate': float(raw.rate),
                      'has_timestamps': raw.timestamps is not None}))
"#;

#[test]
fn a_neuroconv_session_takes_a_spikeinterface_phy_folder() {
    let scratch = spyglass_testkit::scratch_dir();
    let dir = scratch.path();
    let file = dir.join("nck20240301.nwb");
    let folder = dir.join("phy");
    let made = spyglass_testkit::run_python(
        include_str!("../py/neuroconv_kilosort.py"),
        &[file.to_str().unwrap(), folder.to_str().unwrap()],
    );
    let truth: Value = serde_json::from_str(made.lines().last().unwrap()).unwrap();
    let out = run(
        dir,
        &[
            "insert",
            file.to_str().unwrap(),
            "--kilosort",
            folder.to_str().unwrap(),
        ],
    );
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("1 inserted"), "{said}");
    assert!(said.contains("from Kilosort folder"), "{said}");
    let copy = files_under(&dir.join("base"))
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == "nck20240301_.nwb"))
        .expect("the session's copy in the raw folder");
    let got: Value = serde_json::from_str(
        spyglass_testkit::run_python(READ_UNITS, &[copy.to_str().unwrap()]).trim(),
    )
    .unwrap();
    assert_eq!(got["has_timestamps"], false, "neuroconv writes a rate");
    let (start, rate) = (
        got["start"].as_f64().unwrap(),
        got["rate"].as_f64().unwrap(),
    );
    assert_eq!(rate, truth["fs"].as_f64().unwrap());
    let units = truth["units"].as_object().unwrap();
    let ids: Vec<i64> = got["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(ids, (0..units.len() as i64).collect::<Vec<_>>());
    for (k, times) in got["times"].as_array().unwrap().iter().enumerate() {
        let want: Vec<f64> = units[&k.to_string()]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| start + s.as_f64().unwrap() / rate)
            .collect();
        let times: Vec<f64> = times
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_f64().unwrap())
            .collect();
        assert_eq!(times.len(), want.len(), "unit {k}");
        for (a, b) in times.iter().zip(&want) {
            assert!((a - b).abs() <= 1e-9, "unit {k}: {a} vs {b}");
        }
        assert_eq!(got["labels"][k], "n.a.", "phy's unsorted");
    }
}
