//! `spyglass sorting plot`'s numbers and pictures on the synthetic tetrode session of
//! `spikesorting_sorting`, sorted by `spyglass_sorter`, curated with a label and
//! metric-curated (`default_not_whitened`, `franklab_default`):
//!
//! - SpikeInterface 0.105 as the oracle on the same filtered traces (our recompute,
//!   written as float32) and spike samples: every spike averaged into the templates
//!   (1 ms before, 2 ms after), SpikeInterface's `extremum` (neg) peak channel equal
//!   to ours, templates within 1e-5 of the largest |value| (float32 running sums
//!   against numpy's float32 mean), each spike amplitude (`spike_amplitudes` with
//!   that main channel) within 1e-3 µV (both read the same float32 sample), and
//!   autocorrelogram counts (`compute_correlograms`, 100 ms window, 1 ms bins) equal;
//! - the metrics shown are the MetricCuration's (read back with `get_metrics`);
//! - the SVG files parse as XML (Python's ElementTree): `curation.svg` holds one
//!   waveform group per unit, each with one trace per channel named by its electrode
//!   id at the recipe's contact position, the contact boxes placed by one affine map
//!   with the same scale on both axes (y upward), one raster row per unit and a table
//!   row per unit with its labels; each `unit_<id>.svg` holds its one waveform group
//!   and an autocorrelogram;
//! - headless Chromium renders `curation.svg` to a PNG that is not blank (PIL counts
//!   the inked pixels and those of the first unit's blue).

use crate::spikesorting_sorting::{chain, sort};
use spyglass::spikesorting::figures::{self, FigureParams};
use spyglass::spikesorting::recompute::FilteredRecording;
use spyglass::spikesorting::{
    curation_v1 as cv, metric_curation_v1 as mc, recording_v1 as rec, sorting_v1 as ss,
};
use spyglass_db::{Cond, Value};
use std::collections::BTreeMap;

/// Reads the pictures' SVG files with ElementTree; prints per file the waveform groups
/// (group, sites: name, x, y, box centre in pixels), raster rows, bars, table rows.
const SVG_READER: &str = r#"
import glob, json, os, sys
import xml.etree.ElementTree as ET
NS = "{http://www.w3.org/2000/svg}"
out = {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.svg"))):
    root = ET.parse(path).getroot()
    groups = []
    for g in root.iter(NS + "g"):
        if g.get("class") != "multiples":
            continue
        sites = []
        for el in g:
            if el.get("class") == "site-box":
                x, y = float(el.get("x")), float(el.get("y"))
                w, h = float(el.get("width")), float(el.get("height"))
                sites.append(dict(name=el.get("data-site"), x=float(el.get("data-x")),
                                  y=float(el.get("data-y")), cx=x + w / 2, cy=y + h / 2, w=w, h=h))
        traces = [el for el in g if el.tag == NS + "polyline" and el.get("class") == "site"]
        inside = True
        for t, s in zip(traces, sites):
            pts = [tuple(map(float, p.split(","))) for p in t.get("points").split()]
            inside &= all(abs(px - s["cx"]) <= s["w"] / 2 + 0.02 for px, _ in pts)
        groups.append(dict(group=g.get("data-group"), sites=sites, traces=len(traces), inside=inside))
    rows = []
    for g in root.iter(NS + "g"):
        if g.get("class") == "row":
            rows.append([t.text or "" for t in g.iter(NS + "text")])
    classes = [el.get("class") for el in root.iter(NS + "path")]
    out[os.path.basename(path)] = dict(groups=groups, rows=rows,
                                       ticks=classes.count("ticks"), bars=classes.count("bars"),
                                       points=classes.count("points"))
print(json.dumps(out))
"#;

#[test]
fn sorting_pictures_equal_spikeinterface_and_parse() {
    let c = chain();
    let (db, settings) = (&c.env.db, &c.env.settings);
    let id = sort(&c, ss::NATIVE, "default");
    let first = cv::get_sorting(
        db,
        &cv::CurationKey {
            sorting_id: id,
            curation_id: 0,
        },
    );
    assert!(first.is_err(), "no curation yet");
    let sorted = cv::insert_curation(db, settings, id, &cv::CurationInput::default()).unwrap();
    let ids: Vec<i64> = cv::get_sorting(db, &sorted.key())
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    assert!(ids.len() >= 2, "the sorter found {} units", ids.len());
    let labels = BTreeMap::from([(ids[0], vec!["mua".to_string()])]);
    let cur = cv::insert_curation(
        db,
        settings,
        id,
        &cv::CurationInput {
            parent_curation_id: sorted.curation_id,
            labels: Some(labels),
            ..Default::default()
        },
    )
    .unwrap();
    let mkey = mc::SelectionKey {
        sorting_id: id,
        curation_id: cur.curation_id,
        waveform_param_name: "default_not_whitened".into(),
        metric_param_name: "franklab_default".into(),
        metric_curation_param_name: "default".into(),
    };
    let mid = mc::insert_selection(db, &mkey).unwrap();
    let rep = spyglass::populate(
        db,
        settings,
        mc::METRIC_CURATION,
        Cond::map([("metric_curation_id", Value::Uuid(mid))]),
    )
    .unwrap();
    assert_eq!(rep.success_count, 1, "{:?}", rep.error_list);

    let params = FigureParams {
        max_spikes_per_unit: None,
        ..FigureParams::default()
    };
    let d = figures::sorting_figure_data(db, &cur.key(), &params).unwrap();
    assert_eq!(d.units.iter().map(|u| u.id).collect::<Vec<_>>(), ids);
    assert_eq!(d.metric_curation_id, Some(mid));

    // SpikeInterface on the same float32 traces and samples
    let source = rec::recording_source(db, c.recording_id).unwrap();
    let recording = FilteredRecording::open(&source.raw_file, source.recipe.clone()).unwrap();
    let (data, _) = recording.read_all(source.hash.as_deref()).unwrap();
    let nc = recording.n_channels();
    let dir = spyglass_testkit::scratch_dir();
    let bytes: Vec<u8> = data
        .iter()
        .flat_map(|x| (*x as f32).to_le_bytes())
        .collect();
    std::fs::write(dir.path().join("traces.f32"), bytes).unwrap();
    let input = serde_json::json!({
        "fs": d.sampling_rate,
        "n_channels": nc,
        "locations": d.locations,
        "trains": d.units.iter().map(|u| u.spike_samples.clone()).collect::<Vec<_>>(),
        "ms_before": params.ms_before,
        "ms_after": params.ms_after,
        "window_ms": params.acg_window_ms,
        "bin_ms": params.acg_bin_ms,
    });
    std::fs::write(dir.path().join("in.json"), input.to_string()).unwrap();
    let out = spyglass_testkit::run_python(
        include_str!("../py/si_sorting_figures.py"),
        &[dir.path().to_str().unwrap()],
    );
    let si: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(si["nbefore"].as_u64().unwrap() as usize, d.nbefore);
    for (k, u) in d.units.iter().enumerate() {
        assert_eq!(
            u.peak_channel as u64,
            si["main"][k].as_u64().unwrap(),
            "peak channel of unit {}",
            u.id
        );
        assert_eq!(u.peak_electrode, d.channel_ids[u.peak_channel]);
        let theirs: Vec<f64> = si["templates"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert_eq!(theirs.len(), u.template.len());
        let scale = theirs.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        for (a, b) in u.template.iter().zip(&theirs) {
            assert!(
                (*a as f64 - b).abs() <= 1e-5 * scale,
                "template of unit {}: {a} vs {b}",
                u.id
            );
        }
        let amps: Vec<f64> = si["amplitudes"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert_eq!(amps.len(), u.amplitudes.len(), "spikes of unit {}", u.id);
        for (a, b) in u.amplitudes.iter().zip(&amps) {
            assert!(
                (*a as f64 - b).abs() <= 1e-3,
                "amplitude of unit {}: {a} vs {b}",
                u.id
            );
        }
        // troughs on the peak channel
        let median = {
            let mut v = u.amplitudes.clone();
            v.sort_by(f32::total_cmp);
            v[v.len() / 2]
        };
        assert!(median < 0.0, "unit {}: median amplitude {median}", u.id);
        let acg: Vec<u64> = si["acg"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        assert_eq!(u.acg, acg, "autocorrelogram of unit {}", u.id);
        assert_eq!(u.spikes_outside, 0);
    }
    // the metrics shown are the MetricCuration's
    let metrics = mc::get_metrics(
        db,
        &mc::MetricCurationKey {
            metric_curation_id: mid,
        },
    )
    .unwrap();
    for u in &d.units {
        for (name, vals) in &metrics {
            let shown = u.metrics.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
            let want = vals[&u.id];
            assert!(
                shown.is_some_and(|v| v == want || (v.is_nan() && want.is_nan())),
                "{name} of unit {}: {shown:?} vs {want}",
                u.id
            );
        }
    }

    // the pictures
    let out_dir = spyglass_testkit::scratch_dir();
    let folder = figures::write_figures(&d, out_dir.path()).unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "only the pictures' folder: {leftovers:?}"
    );
    let svg: serde_json::Value = serde_json::from_str(
        spyglass_testkit::run_python(SVG_READER, &[folder.to_str().unwrap()])
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    let files: Vec<&String> = svg.as_object().unwrap().keys().collect();
    let mut want = vec!["curation.svg".to_string()];
    want.extend(ids.iter().map(|i| format!("unit_{i}.svg")));
    want.sort();
    assert_eq!(files, want.iter().collect::<Vec<_>>());
    let check_groups = |file: &str, expect: &[i64]| {
        let groups = svg[file]["groups"].as_array().unwrap();
        let names: Vec<String> = groups
            .iter()
            .map(|g| g["group"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            names,
            expect.iter().map(|i| i.to_string()).collect::<Vec<_>>(),
            "{file}: one waveform group per unit"
        );
        for g in groups {
            let sites = g["sites"].as_array().unwrap();
            assert_eq!(sites.len(), nc, "{file}: a box per channel");
            assert_eq!(
                g["traces"].as_u64().unwrap() as usize,
                nc,
                "{file}: a trace per channel"
            );
            assert!(
                g["inside"].as_bool().unwrap(),
                "{file}: traces inside their boxes"
            );
            let f = |s: &serde_json::Value, k: &str| s[k].as_f64().unwrap();
            for (k, s) in sites.iter().enumerate() {
                assert_eq!(s["name"].as_str().unwrap(), d.channel_ids[k].to_string());
                assert_eq!(
                    [f(s, "x"), f(s, "y")],
                    d.locations[k],
                    "{file}: contact {k}"
                );
            }
            // pixel = origin + scale · (x, −y), one scale: fit on the two contacts
            // farthest apart and check every one
            let (a, b) = (&sites[0], &sites[sites.len() - 1]);
            let dist = |p: &serde_json::Value, q: &serde_json::Value, u: &str, v: &str| {
                ((f(p, u) - f(q, u)).powi(2) + (f(p, v) - f(q, v)).powi(2)).sqrt()
            };
            let scale = dist(a, b, "cx", "cy") / dist(a, b, "x", "y");
            assert!(scale > 0.0);
            for s in sites {
                let px = f(a, "cx") + scale * (f(s, "x") - f(a, "x"));
                let py = f(a, "cy") - scale * (f(s, "y") - f(a, "y"));
                assert!(
                    (px - f(s, "cx")).abs() < 0.05 && (py - f(s, "cy")).abs() < 0.05,
                    "{file}: contact {} drawn at ({}, {}), expected ({px}, {py})",
                    s["name"],
                    f(s, "cx"),
                    f(s, "cy")
                );
            }
        }
    };
    check_groups("curation.svg", &ids);
    assert_eq!(
        svg["curation.svg"]["ticks"].as_u64().unwrap() as usize,
        ids.len()
    );
    assert_eq!(
        svg["curation.svg"]["points"].as_u64().unwrap() as usize,
        ids.len()
    );
    let rows = svg["curation.svg"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), ids.len(), "a table row per unit");
    for (k, r) in rows.iter().enumerate() {
        assert_eq!(r[0].as_str().unwrap(), ids[k].to_string());
        assert_eq!(
            r[1].as_str().unwrap(),
            d.units[k].spike_times.len().to_string()
        );
        assert_eq!(r[2].as_str().unwrap(), if k == 0 { "mua" } else { "" });
    }
    for i in &ids {
        let file = format!("unit_{i}.svg");
        check_groups(&file, &[*i]);
        assert_eq!(
            svg[&file]["bars"].as_u64().unwrap(),
            1,
            "{file}: an autocorrelogram"
        );
        assert_eq!(
            svg[&file]["points"].as_u64().unwrap(),
            1,
            "{file}: amplitudes"
        );
    }
    // headless Chromium renders curation.svg: not blank, the units' colours drawn
    if let Some(chromium) = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    {
        let png = out_dir.path().join("curation.png");
        let st = std::process::Command::new(chromium)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
            ])
            .arg(format!("--screenshot={}", png.display()))
            .arg("--window-size=900,1600")
            .arg(format!("file://{}", folder.join("curation.svg").display()))
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success() && png.exists(), "chromium rendered nothing");
        let out = spyglass_testkit::run_python(
            "import sys, json\nfrom PIL import Image\nim = Image.open(sys.argv[1]).convert('RGB')\npx = list(im.getdata())\nprint(json.dumps(dict(n=len(px), ink=sum(1 for p in px if p != (255, 255, 255)), blue=sum(1 for p in px if p[2] > 120 and p[0] < 90))))",
            &[png.to_str().unwrap()],
        );
        let px: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
        let (n, ink, blue) = (
            px["n"].as_f64().unwrap(),
            px["ink"].as_f64().unwrap(),
            px["blue"].as_f64().unwrap(),
        );
        assert!(ink / n > 0.01, "curation.png is nearly blank: {px}");
        assert!(blue > 50.0, "the first unit's colour is not drawn: {px}");
    } else {
        eprintln!("no chromium: curation.svg not rendered");
    }
    // written again: the folder is replaced, nothing else left
    let again = figures::write_figures(&d, out_dir.path()).unwrap();
    assert_eq!(again, folder);
    let left: Vec<_> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".png"))
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
}
