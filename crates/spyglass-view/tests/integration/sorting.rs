//! The sorting view and curation from the browser, on a synthetic tetrode session
//! sorted in the test with the CLI chain (insert → group-by-shank → recording →
//! artifact → `spyglass_sorter` → first curation): the view loads without console
//! errors (screenshot); its autocorrelograms equal SpikeInterface's
//! `compute_correlograms` over the spike times h5py reads from the curation's file; two units labelled and merged by clicking give a
//! CurationV1 child row (parent, labels and merge groups read back by h5py); a
//! read-only server and a user who is no lab member of the session's team are refused
//! (403) and nothing is inserted.

use crate::browser::{f64s, find_file, loaded, snap};
use crate::common::{self, Browser};
use serde_json::{json, Value as J};
use std::path::Path;

/// h5py's reading of a units table: ids, spike times, `curation_label` and
/// `merge_groups` (ragged text, `null` when absent), and SpikeInterface's
/// `compute_correlograms` autocorrelogram per unit (window ms, bin ms) on the spike
/// samples at rate fs (`round((t - t₀) · fs)`).
const UNITS: &str = r#"
import sys, json, h5py, numpy as np
import spikeinterface.core as sc
from spikeinterface.postprocessing import compute_correlograms
path, fs, window_ms, bin_ms = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
f = h5py.File(path, 'r')
u = f['units']
ids = [int(i) for i in u['id'][:]]
idx = u['spike_times_index'][:]
st = u['spike_times'][:]
def ragged(name):
    if name not in u: return None
    d, i = u[name][:], u[name + '_index'][:]
    return [[x.decode() if isinstance(x, bytes) else str(x) for x in d[(i[k-1] if k else 0):i[k]]] for k in range(len(ids))]
trains = [st[(idx[k-1] if k else 0):idx[k]] for k in range(len(ids))]
acg = []
for t in trains:
    s = np.round((np.sort(t) - np.min(t)) * fs).astype('int64')
    sorting = sc.NumpySorting.from_unit_dict([{0: s}], sampling_frequency=fs)
    ccg, _ = compute_correlograms(sorting, window_ms=window_ms, bin_ms=bin_ms, method='numpy')
    acg.append(ccg[0, 0].tolist())
print(json.dumps(dict(ids=ids, n=[len(t) for t in trains], acg=acg,
                      labels=ragged('curation_label'), merge_groups=ragged('merge_groups'))))
"#;

/// SpikeInterface's average templates of the units of a curation file, on the
/// recording SpikeInterface computes from the raw file (pynwb reads it; the pieces of
/// the valid times as Spyglass's `_consolidate_intervals`; `common_reference` and
/// `bandpass_filter` over the whole series at once), every spike (each unit has at
/// most 500, the view's subset size, so the subset is all of them), spike samples
/// `searchsorted(timestamps, t)`. Args: a JSON file {nwb, object_id, valid_times,
/// channel_ids, reference, freq_min, freq_max, units, ms_before, ms_after}; prints
/// the templates channel-major per unit.
const TEMPLATES: &str = r#"
import json, sys
import numpy as np, pynwb, h5py
import spikeinterface.core as sc
import spikeinterface.preprocessing as spre
a = json.load(open(sys.argv[1]))
io = pynwb.NWBHDF5IO(a["nwb"], "r")
nwb = io.read()
es = nwb.objects[a["object_id"]]
n = es.data.shape[0]
fs = float(es.rate) if es.rate is not None else None
ts = np.asarray(es.timestamps[:]) if es.timestamps is not None else es.starting_time + np.arange(n) / es.rate
if fs is None:
    fs = float(es.timestamps_rate) if getattr(es, "timestamps_rate", None) else float(np.round(1.0 / np.median(np.diff(ts[:10000]))))
rows = np.asarray(es.electrodes.data[:])
ids = np.asarray(nwb.electrodes.id[:])[rows]
uv = np.asarray(es.data[:], dtype=np.float64) * es.conversion * 1e6
if es.channel_conversion is not None:
    uv = uv * np.asarray(es.channel_conversion[:])[None, :]
uv = uv + es.offset * 1e6
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
rts = np.concatenate([ts[p0:p1] for p0, p1 in pieces])
r = sc.NumpyRecording([traces], sampling_frequency=fs, channel_ids=list(ids))
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
rec = sc.NumpyRecording([y], sampling_frequency=fs)
# the analyzer wants positions; the templates do not depend on them
rec.set_channel_locations(np.c_[np.zeros(y.shape[1]), 20.0 * np.arange(y.shape[1])])
u = h5py.File(a["units"], "r")["units"]
idx, st = u["spike_times_index"][:], u["spike_times"][:]
trains = {}
for k in range(len(idx)):
    t = np.sort(st[(idx[k-1] if k else 0):idx[k]])
    t = t[t <= rts[-1]]
    assert len(t) <= 500, "unit %d has %d spikes: more than the view's subset" % (k, len(t))
    trains[k] = np.searchsorted(rts, t, side="left").astype("int64")
sorting = sc.NumpySorting.from_unit_dict([trains], sampling_frequency=fs)
an = sc.create_sorting_analyzer(sorting, rec, sparse=False)
an.compute("random_spikes", method="all")
an.compute("waveforms", ms_before=a["ms_before"], ms_after=a["ms_after"])
an.compute("templates", operators=["average"])
tpl = an.get_extension("templates").get_data(operator="average")
print(json.dumps(dict(channel_ids=[int(i) for i in outs],
                      templates=[tpl[k].T.tolist() for k in range(len(trains))])))
"#;

fn units_of(dir: &Path, analysis_file_name: &str) -> J {
    let file = find_file(&dir.join("demo/base/analysis"), analysis_file_name);
    let out = spyglass_testkit::run_python(
        UNITS,
        &[file.to_str().expect("utf-8 path"), "30000", "100", "1"],
    );
    serde_json::from_str(out.lines().last().expect("output")).expect("oracle JSON")
}

/// The rows of `table` as JSON.
fn show(dir: &Path, table: &str) -> Vec<J> {
    let rows: J =
        serde_json::from_str(&common::spyglass(dir, &["show", table, "--format", "json"]))
            .expect("show JSON");
    rows.as_array().cloned().unwrap_or_default()
}

/// [`TEMPLATES`] on the curation `row` of session `nwb` (one sort group, one
/// recording): its inputs read from the database's rows.
fn templates_of(dir: &Path, nwb: &str, row: &J) -> J {
    let raw = &show(dir, "common_ephys.Raw")[0];
    let group = &show(dir, "spikesorting_v1_recording.SortGroup")[0];
    let mut channel_ids: Vec<i64> = show(
        dir,
        "spikesorting_v1_recording.SortGroup.SortGroupElectrode",
    )
    .iter()
    .map(|r| r["electrode_id"].as_i64().expect("electrode_id"))
    .collect();
    channel_ids.sort_unstable();
    let interval = show(dir, "common_interval.IntervalList")
        .into_iter()
        .find(|r| r["interval_list_name"] == json!("raw data valid times"))
        .expect("raw data valid times");
    let valid_times = match &interval["valid_times"] {
        J::String(s) => serde_json::from_str(s).expect("valid_times JSON"),
        v => v.clone(),
    };
    let params = show(
        dir,
        "spikesorting_v1_recording.SpikeSortingPreprocessingParameters",
    )
    .into_iter()
    .find(|r| r["preproc_param_name"] == json!("default"))
    .expect("default preprocessing parameters");
    let pp = match &params["preproc_params"] {
        J::String(s) => serde_json::from_str(s).expect("preproc_params JSON"),
        v => v.clone(),
    };
    let args = json!({
        "nwb": find_file(&dir.join("demo/base/raw"), nwb),
        "object_id": raw["raw_object_id"],
        "valid_times": valid_times,
        "channel_ids": channel_ids,
        "reference": group["sort_reference_electrode_id"],
        "freq_min": pp["frequency_min"],
        "freq_max": pp["frequency_max"],
        "units": find_file(&dir.join("demo/base/analysis"), row["analysis_file_name"].as_str().expect("file")),
        "ms_before": 1.0,
        "ms_after": 2.0,
    });
    let path = dir.join("templates-args.json");
    std::fs::write(&path, args.to_string()).expect("write args");
    let out = spyglass_testkit::run_python(TEMPLATES, &[path.to_str().expect("utf-8 path")]);
    serde_json::from_str(out.lines().last().expect("output")).expect("oracle JSON")
}

/// The points of an SVG path of `M x y` / `L x y` commands.
fn path_points(d: &str) -> Vec<(f64, f64)> {
    d.split(['M', 'L'])
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let mut it = p
                .split_whitespace()
                .map(|v| v.parse::<f64>().expect("number"));
            (it.next().expect("x"), it.next().expect("y"))
        })
        .collect()
}

/// The id a selection command prints second (`Table <id>: …`).
fn id_of(out: &str) -> String {
    out.split_whitespace()
        .nth(1)
        .expect("an id")
        .trim_end_matches(':')
        .to_string()
}

fn curations(dir: &Path) -> Vec<J> {
    let rows: J = serde_json::from_str(&common::spyglass(
        dir,
        &[
            "show",
            "spikesorting_v1_curation.CurationV1",
            "--format",
            "json",
        ],
    ))
    .expect("show JSON");
    rows.as_array().cloned().unwrap_or_default()
}

#[test]
fn sorting_view_and_curation_by_clicking() {
    spyglass_testkit::disable_hdf5_file_locking();
    let tmp = spyglass_testkit::scratch_dir();
    let dir = tmp.path();
    let params = spyglass_nwb::synthetic::SyntheticParams {
        duration_s: 20.0,
        n_channels: 4,
        n_groups: 1,
        n_units: 2,
        firing_rate_hz: 8.0,
        ..Default::default()
    };
    let src = dir.join("sortview20230622.nwb");
    let gt = spyglass_nwb::synthetic::write_session(&src, &params).expect("write the session");
    std::fs::create_dir_all(dir.join("demo")).expect("dir");
    let nwb = "sortview20230622_.nwb";
    let sam = Some("sam");
    let run = |args: &[&str]| common::spyglass_as(dir, args, sam);
    run(&["insert", src.to_str().expect("utf-8 path")]);
    run(&["defaults"]);
    // the experimenter's lab member gets an account: `sam` may change the session
    let info = dir.join("info.json");
    std::fs::write(
        &info,
        r#"[{"lab_member_name": "Sam Synthetic", "google_user_name": "sam@lab.org",
             "datajoint_user_name": "sam", "admin": 0}]"#,
    )
    .expect("write rows");
    run(&[
        "load",
        "common_lab.LabMember.LabMemberInfo",
        info.to_str().expect("utf-8 path"),
    ]);
    run(&["sorting", "group-by-shank", nwb]);
    let rec = id_of(&run(&[
        "sorting",
        "recording",
        "select",
        nwb,
        "--sort-group",
        "0",
        "--interval",
        "raw data valid times",
        "--params",
        "default",
    ]));
    run(&[
        "populate",
        "spikesorting_v1_recording.SpikeSortingRecording",
    ]);
    let artifact = id_of(&run(&[
        "sorting", "artifact", "select", &rec, "--params", "none",
    ]));
    run(&["populate", "spikesorting_v1_artifact.ArtifactDetection"]);
    let sid = id_of(&run(&[
        "sorting",
        "select",
        &rec,
        "--interval",
        &artifact,
        "--sorter",
        "spyglass_sorter",
        "--params",
        "default",
    ]));
    run(&["populate", "spikesorting_v1_sorting.SpikeSorting"]);
    run(&["sorting", "curation", "insert", &sid]);
    let first = curations(dir);
    assert_eq!(first.len(), 1, "{first:?}");
    let truth = units_of(dir, first[0]["analysis_file_name"].as_str().expect("file"));
    let ids: Vec<i64> = serde_json::from_value(truth["ids"].clone()).expect("ids");
    assert!(ids.len() >= 2, "the sorter found {} units", ids.len());

    // a read-only server shows the view but refuses a curation
    let ro = common::start_server_as(dir, &[], sam);
    let body = json!({"sorting_id": sid, "curation_id": 0, "labels": {"0": ["noise"]}}).to_string();
    let auth = format!("token {}", ro.token);
    let (status, _, _) = common::http(
        &ro.addr,
        "POST",
        "/api/curation",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        Some(&body),
    );
    assert_eq!(status, 403, "a read-only server refuses curation");
    drop(ro);

    // a user who is no lab member of the session's team is refused
    let other = common::start_server_as(dir, &["--allow-curation"], Some("mallory"));
    let auth = format!("token {}", other.token);
    let (status, _, out) = common::http(
        &other.addr,
        "POST",
        "/api/curation",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        Some(&body),
    );
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&out));
    drop(other);
    assert_eq!(curations(dir).len(), 1, "nothing inserted by refusals");

    // the view: autocorrelograms equal SpikeInterface's over the stored spike times
    let server = common::start_server_as(dir, &["--allow-curation"], sam);
    let b = Browser::start();
    b.goto(&format!(
        "{}/?token={}#/sorting/{sid}/0",
        server.base, server.token
    ));
    loaded(&b, "sorting");
    let shown = b.eval("return window.__sorting", json!([]));
    let units = shown["units"].as_array().expect("units");
    assert_eq!(units.len(), ids.len());
    for (k, u) in units.iter().enumerate() {
        assert_eq!(u["id"], json!(ids[k]));
        assert_eq!(u["n_spikes"], truth["n"][k], "unit {}", ids[k]);
        assert_eq!(
            u["acg"], truth["acg"][k],
            "autocorrelogram of unit {}",
            ids[k]
        );
        let amps = u["amplitudes"]["amplitude"].as_array().expect("amplitudes");
        assert!(
            !amps.is_empty() && amps.iter().all(J::is_number),
            "amplitudes of unit {}",
            ids[k]
        );
    }
    // amplitudes: each unit's peak channel is a ground-truth unit's home channel, and
    // its spikes' values there are troughs (negative) well above the noise
    let mut peaks: Vec<i64> = units
        .iter()
        .map(|u| u["amplitudes"]["channel"].as_i64().expect("peak channel"))
        .collect();
    peaks.sort_unstable();
    let mut homes: Vec<i64> = gt.units.iter().map(|u| u.channel as i64).collect();
    homes.sort_unstable();
    homes.dedup();
    assert_eq!(
        peaks, homes,
        "peak channels vs the ground truth's home channels"
    );
    for u in units {
        let mut a: Vec<f64> = u["amplitudes"]["amplitude"]
            .as_array()
            .expect("amplitudes")
            .iter()
            .filter_map(J::as_f64)
            .collect();
        a.sort_by(f64::total_cmp);
        let median = a[a.len() / 2];
        let truth_amp = gt
            .units
            .iter()
            .find(|t| t.channel as i64 == u["amplitudes"]["channel"].as_i64().unwrap_or(-1))
            .map(|t| t.amplitude_uv)
            .unwrap_or(f64::NAN);
        println!(
            "unit {}: median amplitude {median:.1} µV on electrode {} (ground truth trough {truth_amp:.1} µV, noise {:.1} µV)",
            u["id"], u["amplitudes"]["channel"], gt.noise_uv
        );
        assert!(
            median < -3.0 * gt.noise_uv,
            "unit {}: median amplitude {median} µV",
            u["id"]
        );
    }
    let rows = b.eval(
        "return document.querySelectorAll('#units tbody tr').length",
        json!([]),
    );
    assert_eq!(rows, json!(ids.len()));

    // waveforms on the probe: each contact's drawn trace, read back from the SVG, is
    // SpikeInterface's average template on that channel, centred on the contact's
    // position (one scale in x and y, y up)
    let si = templates_of(dir, nwb, &first[0]);
    let wf = b.eval("return window.__waveforms", json!([]));
    let drawn = b.eval(
        "return [...document.querySelectorAll('#waveforms svg')].map((s) => \
         [...s.querySelectorAll('path')].map((p) => p.getAttribute('d')))",
        json!([]),
    );
    let scale = wf["scale_uv"].as_f64().expect("scale");
    let mut worst = 0.0f64;
    for (k, u) in wf["units"].as_array().expect("units").iter().enumerate() {
        assert_eq!(u["id"], json!(ids[k]));
        let chans = u["channels"].as_array().expect("channels");
        let electrodes: Vec<J> = chans.iter().map(|c| c["electrode_id"].clone()).collect();
        assert_eq!(
            json!(electrodes),
            si["channel_ids"],
            "unit {}: channels",
            ids[k]
        );
        for (c, ch) in chans.iter().enumerate() {
            let f = |k: &str| ch[k].as_f64().expect(k);
            let (cx, cy, half, width) = (f("cx"), f("cy"), f("half"), f("width"));
            let truth = f64s(&si["templates"][k][c]);
            let pts = path_points(drawn[k][c].as_str().expect("path"));
            assert_eq!(
                pts.len(),
                truth.len(),
                "unit {} channel {c}: samples",
                ids[k]
            );
            for (s, ((x, y), want)) in pts.iter().zip(&truth).enumerate() {
                let xs = cx - width / 2.0 + (s as f64 + 0.5) / truth.len() as f64 * width;
                assert!(
                    (x - xs).abs() < 0.01,
                    "unit {} channel {c} sample {s}: x {x} vs {xs}",
                    ids[k]
                );
                let v = (cy - y) / half * scale;
                worst = worst.max((v - want).abs());
                assert!(
                    (v - want).abs() <= 2e-3 * scale,
                    "unit {} channel {c} sample {s}: drawn {v} µV, SpikeInterface {want} µV",
                    ids[k]
                );
            }
        }
        // positions: one µm→px scale in x and y (y drawn upwards)
        let mut k_px: Option<f64> = None;
        for a in chans {
            for b in chans {
                let d = |key: &str| a[key].as_f64().expect(key) - b[key].as_f64().expect(key);
                for (um, px, sign) in [("x_um", "cx", 1.0), ("y_um", "cy", -1.0)] {
                    if d(um).abs() > 1e-9 {
                        let r = sign * d(px) / d(um);
                        assert!(r > 0.0, "unit {}: {um} drawn reversed", ids[k]);
                        let kk = *k_px.get_or_insert(r);
                        assert!(
                            (r - kk).abs() < 1e-6 * kk,
                            "unit {}: scales {r} vs {kk}",
                            ids[k]
                        );
                    } else {
                        assert!(
                            d(px).abs() < 1e-6,
                            "unit {}: equal {um}, different {px}",
                            ids[k]
                        );
                    }
                }
            }
        }
    }
    println!("waveforms on the probe: largest difference from SpikeInterface's templates {worst:.4} µV (scale {scale:.1} µV)");
    snap(&b, "sorting");

    // label two units, merge them, save
    let (a, z) = (ids[0], ids[1]);
    b.click(&format!("#unit-{a} input.pick"));
    b.click("#label-noise");
    b.click(&format!("#unit-{a} input.pick"));
    b.click(&format!("#unit-{z} input.pick"));
    b.click("#label-mua");
    b.click(&format!("#unit-{a} input.pick"));
    b.click("#merge");
    b.click("#save-curation");
    let saved = b.wait_for("return window.__saved", 120);
    assert_eq!(saved["status"], json!(200), "{saved}");
    loaded(&b, "sorting after saving");
    snap(&b, "sorting-curated");
    // the new curation opens from the status line's link, its labels shown
    b.click("#curation-status a");
    b.wait_for("return location.hash.endsWith('/1')", 30);
    loaded(&b, "the new curation");
    let labels = b.eval(
        "return [...document.querySelectorAll('#units td.labels')].map((e) => e.textContent)",
        json!([]),
    );
    assert_eq!(labels[0], json!("noise"));
    assert_eq!(labels[1], json!("mua"));

    // the child row: parent 0, labels and merge groups as clicked (h5py)
    let rows = curations(dir);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let child = rows
        .iter()
        .find(|r| r["curation_id"] == json!(1))
        .expect("curation 1");
    assert_eq!(child["parent_curation_id"], json!(0));
    assert_eq!(child["sorting_id"].as_str(), Some(sid.as_str()));
    assert!(
        child["merges_applied"] == json!(0) || child["merges_applied"] == json!(false),
        "{child}"
    );
    let got = units_of(dir, child["analysis_file_name"].as_str().expect("file"));
    assert_eq!(got["ids"], truth["ids"]);
    let mut want_labels = vec![json!([]); ids.len()];
    want_labels[0] = json!(["noise"]);
    want_labels[1] = json!(["mua"]);
    assert_eq!(got["labels"], json!(want_labels));
    let mut want_groups = vec![json!([""]); ids.len()];
    want_groups[0] = json!([z.to_string()]);
    want_groups[1] = json!([a.to_string()]);
    assert_eq!(got["merge_groups"], json!(want_groups));
}
