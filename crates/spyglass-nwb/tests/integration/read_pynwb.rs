//! Files written by pynwb (the oracle) are read with the values pynwb wrote:
//! compressed, chunked and contiguous layouts, timestamps and rate timing, and the
//! ndx-franklab-novela objects Spyglass relies on.

use crate::common;

use spyglass_nwb::{NwbFile, SampleSpan, Timing};

const MAKE: &str = include_str!("../py/make_pynwb_session.py");

fn fixture(
    layout: &str,
    timing: &str,
) -> (tempfile::TempDir, std::path::PathBuf, serde_json::Value) {
    let dir = spyglass_testkit::scratch_dir();
    let path = dir.path().join(format!("fx_{layout}_{timing}.nwb"));
    let out = spyglass_testkit::run_python(MAKE, &[path.to_str().unwrap(), layout, timing]);
    (dir, path, common::json(&out))
}

fn check_file(layout: &str, timing: &str) {
    let (_dir, path, v) = fixture(layout, timing);
    let f = NwbFile::open(&path).expect("open");

    // Metadata and subject.
    let m = f.metadata().unwrap();
    assert_eq!(m.identifier, "fixture-0001");
    assert_eq!(m.session_description, "pynwb fixture");
    assert_eq!(
        m.session_start_time.to_rfc3339(),
        "2023-06-22T09:30:00+00:00"
    );
    assert_eq!(m.timestamps_reference_time, m.session_start_time);
    assert_eq!(m.experimenter, vec!["Doe, Jane", "Roe, Richard"]);
    assert_eq!(m.institution.as_deref(), Some("UCSF"));
    assert_eq!(m.lab.as_deref(), Some("Frank Lab"));
    assert_eq!(m.experiment_description.as_deref(), Some("interop fixture"));
    assert_eq!(m.session_id.as_deref(), Some("s1"));
    assert_eq!(m.keywords, vec!["hippocampus", "test"]);
    assert_eq!(m.object_id, v["file_object_id"].as_str().unwrap());
    let s = f.subject().unwrap().unwrap();
    assert_eq!(s.subject_id.as_deref(), Some("rat7"));
    assert_eq!(s.species.as_deref(), Some("Rattus norvegicus"));
    assert_eq!(s.sex.as_deref(), Some("F"));
    assert_eq!(s.age.as_deref(), Some("P120D"));
    assert_eq!(s.age_reference.as_deref(), Some("birth"));
    assert_eq!(s.genotype.as_deref(), Some("wt"));
    assert_eq!(s.weight.as_deref(), Some("0.4 kg"));

    // Hardware: novela devices and electrode groups.
    let daq = f.data_acq_devices().unwrap();
    assert_eq!(daq.len(), 1);
    assert_eq!(
        (
            daq[0].system.as_str(),
            daq[0].amplifier.as_deref(),
            daq[0].adc_circuit.as_deref()
        ),
        ("SpikeGadgets", Some("Intan"), Some("Intan"))
    );
    let cams = f.camera_devices().unwrap();
    assert_eq!(cams.len(), 1);
    assert_eq!(cams[0].name, "camera_device 0");
    assert_eq!(cams[0].camera_id(), Some(0));
    assert_eq!(cams[0].meters_per_pixel, 0.002);
    assert_eq!(cams[0].camera_name, "cam_a");
    assert_eq!(cams[0].lens, "lens_a");
    assert_eq!(cams[0].frame_rate, Some(30.0));
    assert_eq!(cams[0].model.as_deref(), Some("M1"));
    let probes = f.probes().unwrap();
    assert_eq!(probes.len(), 2);
    for (g, p) in probes.iter().enumerate() {
        assert_eq!(p.name, format!("probe {g}"));
        assert_eq!(p.id, g as i64);
        assert_eq!(p.probe_type, "tetrode_12.5");
        assert_eq!(p.contact_size, 12.5);
        assert_eq!(p.contact_side_numbering, Some(true));
        assert_eq!(p.shanks.len(), 1);
        assert_eq!(p.shanks[0].name, "0");
        let els = &p.shanks[0].electrodes;
        assert_eq!(els.len(), 4);
        for (i, e) in els.iter().enumerate() {
            assert_eq!(
                (e.name.clone(), e.rel_x, e.rel_y, e.rel_z),
                (i.to_string(), i as f64, 2.0 * i as f64, 0.0)
            );
        }
    }
    let groups = f.electrode_groups().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].neurodata_type, "NwbElectrodeGroup");
    assert_eq!(groups[0].device.as_deref(), Some("probe 0"));
    assert_eq!(
        groups[1].device_path.as_deref(),
        Some("/general/devices/probe 1")
    );
    assert_eq!(groups[0].location.as_deref(), Some("CA1"));
    assert_eq!(groups[0].targeted_x, Some(1.5));
    assert_eq!(groups[1].targeted_x, Some(-1.5));
    assert_eq!(groups[0].units.as_deref(), Some("mm"));

    // Electrodes table: every column, including the extension columns and group references.
    let el = f.electrodes().unwrap().unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(el.len(), rows.len());
    assert_eq!(el.neurodata_type, "ElectrodesTable");
    for col in ["x", "y", "z", "imp"] {
        let want: Vec<f64> = rows.iter().map(|r| r[col].as_f64().unwrap()).collect();
        assert_eq!(el.f64_column(col).unwrap(), want, "{col}");
    }
    for col in ["probe_shank", "probe_electrode", "ref_elect_id"] {
        let want: Vec<i64> = rows.iter().map(|r| r[col].as_i64().unwrap()).collect();
        assert_eq!(el.i64_column(col).unwrap(), want, "{col}");
    }
    let bad: Vec<bool> = rows
        .iter()
        .map(|r| r["bad_channel"].as_bool().unwrap())
        .collect();
    assert_eq!(el.bool_column("bad_channel").unwrap(), bad);
    assert_eq!(el.text_column("location").unwrap(), vec!["CA1"; 8]);
    let group_paths: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "/general/extracellular_ephys/{}",
                r["group"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        el.reference_column("group")
            .unwrap()
            .into_iter()
            .map(Option::unwrap)
            .collect::<Vec<_>>(),
        group_paths
    );
    assert_eq!(
        el.text_column("group_name").unwrap(),
        rows.iter()
            .map(|r| r["group"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    );

    // The raw ElectricalSeries.
    let es = f.electrical_series("/acquisition/e-series").unwrap();
    assert_eq!(es.object_id, v["es_object_id"].as_str().unwrap());
    assert_eq!(es.shape, vec![6000, 8]);
    assert_eq!(es.dtype, "int16");
    assert_eq!(
        (es.conversion, es.offset, es.resolution),
        (1.95e-7, 0.001, 1e-7)
    );
    assert_eq!(es.unit, "volts");
    assert_eq!(es.filtering.as_deref(), Some("0.3-6000 Hz"));
    assert_eq!(
        es.electrodes.as_deref(),
        Some(&[0, 1, 2, 3, 4, 5, 6, 7][..])
    );
    assert_eq!(
        es.electrodes_table.as_deref(),
        Some("/general/extracellular_ephys/electrodes")
    );
    common::assert_close(
        es.channel_conversion.as_ref().unwrap(),
        &common::f64s(&v["channel_conversion"]),
        1e-15,
        "channel_conversion",
    );
    let want_ts = common::f64s(&v["timestamps"]);
    match (timing, &es.timing) {
        ("timestamps", Timing::Timestamps { len }) => assert_eq!(*len, 6000),
        (
            "rate",
            Timing::Rate {
                rate,
                starting_time,
            },
        ) => assert_eq!((*rate, *starting_time), (30000.0, 10.0)),
        (t, other) => panic!("timing {t}: read {other:?}"),
    }
    let data: Vec<Vec<i64>> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_i64().unwrap())
                .collect()
        })
        .collect();
    let r = f.raw_reader("/acquisition/e-series").unwrap();
    assert_eq!(
        r.strategy(),
        if layout == "contiguous" {
            "direct-contiguous"
        } else {
            "direct-chunks"
        }
    );
    // A block in the middle, an odd channel subset, channel-major.
    let chans = [7usize, 0, 3];
    let block = r.read::<i16>(1234..4321, &chans).unwrap();
    for (j, &c) in chans.iter().enumerate() {
        for (k, t) in (1234..4321).enumerate() {
            assert_eq!(block[j][k] as i64, data[t][c], "sample {t} channel {c}");
        }
    }
    // Scaled values: data * conversion * channel_conversion + offset.
    let cc = common::f64s(&v["channel_conversion"]);
    let volts = f
        .read_raw_f64("/acquisition/e-series", SampleSpan::Samples(10..20), &[5])
        .unwrap();
    for (k, t) in (10..20).enumerate() {
        let want = data[t][5] as f64 * 1.95e-7 * cc[5] + 0.001;
        assert!((volts[0][k] - want).abs() < 1e-15, "scaled sample {t}");
    }
    // Time ranges: the gap (timestamps) or the rate give the sample range.
    let span = SampleSpan::Time {
        start: 10.05,
        stop: 10.11,
    };
    let s = r.samples(&span).unwrap();
    let ts_all: Vec<f64> = if timing == "timestamps" {
        want_ts.clone()
    } else {
        (0..6000).map(|i| 10.0 + i as f64 / 30000.0).collect()
    };
    let lo = ts_all.iter().position(|&t| t >= 10.05).unwrap();
    let hi = ts_all.iter().position(|&t| t >= 10.11).unwrap_or(6000);
    assert_eq!(s, lo..hi);
    common::assert_close(
        &r.timestamps(s.clone()).unwrap(),
        &ts_all[lo..hi],
        1e-12,
        "timestamps",
    );
    if timing == "timestamps" {
        common::assert_close(
            &f.timestamps("/acquisition/e-series").unwrap(),
            &want_ts,
            1e-15,
            "all timestamps",
        );
    }

    // Processing modules: LFP, Position, CompassDirection, BehavioralEvents, BehavioralTimeSeries.
    let modules = f.processing_modules().unwrap();
    let names: Vec<&str> = modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "analog",
            "associated_files",
            "behavior",
            "ecephys",
            "tasks",
            "video_files"
        ]
    );
    let beh = &modules[2];
    let kinds: Vec<(&str, &str, usize)> = beh
        .interfaces
        .iter()
        .map(|i| (i.name.as_str(), i.neurodata_type.as_str(), i.series.len()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("behavioral_events", "BehavioralEvents", 1),
            ("head_dir", "CompassDirection", 1),
            ("position", "Position", 2),
            ("speed", "BehavioralTimeSeries", 1)
        ]
    );
    for (name, want) in v["position"].as_object().unwrap() {
        let p = format!("/processing/behavior/position/{name}");
        let ts = f.time_series(&p).unwrap();
        assert_eq!(ts.neurodata_type, "SpatialSeries");
        assert_eq!(ts.reference_frame.as_deref(), Some("corner"));
        assert_eq!(ts.conversion, 0.002);
        let (shape, vals) = f.series_data_f64(&p).unwrap();
        let raw: Vec<f64> = want["data"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(common::f64s)
            .collect();
        assert_eq!(shape, vec![raw.len() / 2, 2]);
        common::assert_close(
            &vals,
            &raw.iter().map(|x| x * 0.002).collect::<Vec<_>>(),
            1e-15,
            "position",
        );
        common::assert_close(
            &f.timestamps(&p).unwrap(),
            &common::f64s(&want["timestamps"]),
            1e-15,
            "position ts",
        );
    }
    let (_, head) = f
        .series_data_f64("/processing/behavior/head_dir/orientation")
        .unwrap();
    common::assert_close(&head, &common::f64s(&v["head"]), 1e-15, "head direction");
    assert_eq!(
        f.time_series("/processing/behavior/head_dir/orientation")
            .unwrap()
            .unit,
        "radians"
    );
    let (_, speed) = f
        .series_data_f64("/processing/behavior/speed/speed")
        .unwrap();
    common::assert_close(&speed, &common::f64s(&v["speed"]), 1e-15, "speed");
    let dio = f
        .time_series("/processing/behavior/behavioral_events/Poke1")
        .unwrap();
    assert_eq!(dio.dtype, "uint8");
    assert_eq!(
        f.read_data("/processing/behavior/behavioral_events/Poke1/data")
            .unwrap()
            .values
            .to_i64()
            .unwrap(),
        vec![1, 0, 1]
    );
    common::assert_close(
        &f.timestamps(&dio.path).unwrap(),
        &[10.01, 10.05, 10.09],
        0.0,
        "dio",
    );
    let lfp = f.electrical_series("/processing/ecephys/LFP/lfp").unwrap();
    assert_eq!(lfp.electrodes.as_deref(), Some(&[0, 4, 7][..]));
    assert_eq!(
        lfp.timing,
        Timing::Rate {
            rate: 1000.0,
            starting_time: 10.0
        }
    );
    let lfp_vals = f
        .raw_reader(&lfp.path)
        .unwrap()
        .read::<f64>(0..300, &[0, 1, 2])
        .unwrap();
    let want_lfp: Vec<Vec<f64>> = v["lfp"]
        .as_array()
        .unwrap()
        .iter()
        .map(common::f64s)
        .collect();
    for c in 0..3 {
        for t in 0..300 {
            assert_eq!(lfp_vals[c][t], want_lfp[t][c]);
        }
    }

    // Intervals: epochs with tags, trials with a bool column, a custom TimeIntervals.
    let epochs = f.epochs().unwrap();
    assert_eq!(epochs.len(), 2);
    assert_eq!((epochs[0].start_time, epochs[0].stop_time), (10.0, 10.1));
    assert_eq!(epochs[0].tags, vec!["01_s1", "sleep"]);
    assert_eq!(epochs[1].tags, vec!["02_r1"]);
    let intervals = f.intervals().unwrap();
    let inames: Vec<&str> = intervals.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(inames, vec!["epochs", "sleep_times", "trials"]);
    assert_eq!(
        intervals[2].bool_column("correct").unwrap(),
        vec![false, true, false]
    );
    common::assert_close(
        &intervals[2].f64_column("start_time").unwrap(),
        &[10.0, 10.05, 10.1],
        1e-15,
        "trials",
    );
    assert_eq!(intervals[1].f64_column("stop_time").unwrap(), vec![10.05]);

    // Units: ragged spike times, ragged electrodes region, extra column.
    let spikes = f.spike_times().unwrap();
    let want: Vec<Vec<f64>> = v["spikes"]
        .as_array()
        .unwrap()
        .iter()
        .map(common::f64s)
        .collect();
    assert_eq!(spikes.len(), 3);
    for (a, b) in spikes.iter().zip(&want) {
        common::assert_close(a, b, 1e-15, "spike times");
    }
    let units = f.units().unwrap().unwrap();
    assert_eq!(
        units.ragged_i64("electrodes").unwrap(),
        vec![vec![0, 1], vec![1, 2], vec![2, 3]]
    );
    assert_eq!(
        units.column("electrodes").unwrap().table.as_deref(),
        Some("/general/extracellular_ephys/electrodes")
    );
    assert_eq!(
        units.text_column("quality").unwrap(),
        vec!["good", "mua", "noise"]
    );

    // Tasks, videos, associated files.
    let tasks = f.tasks().unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(
        (
            tasks[0].task_name.as_str(),
            tasks[0].task_epochs.clone(),
            tasks[0].camera_ids.clone()
        ),
        ("sleep", vec![1], vec![0])
    );
    assert_eq!(tasks[1].task_name, "lineartrack");
    assert_eq!(tasks[1].task_environment.as_deref(), Some("box"));
    assert_eq!(
        tasks[1].task_description.as_deref(),
        Some("lineartrack task")
    );
    let vids = f.image_series().unwrap();
    assert_eq!(vids.len(), 1);
    assert_eq!(vids[0].external_file, vec!["rat7_01_s1.h264"]);
    assert_eq!(vids[0].starting_frame, vec![0]);
    assert_eq!(vids[0].format.as_deref(), Some("external"));
    assert_eq!(vids[0].device.as_deref(), Some("camera_device 0"));
    assert_eq!(vids[0].series.timing, Timing::Timestamps { len: 3 });
    let af = f.associated_files().unwrap();
    assert_eq!(af.len(), 1);
    assert_eq!(
        (
            af[0].name.as_str(),
            af[0].content.as_str(),
            af[0].task_epochs.as_str()
        ),
        ("statescript r1", "line1\nline2", "2")
    );

    // Generic access: every object id pynwb knows maps to an object of that name.
    let ids = f.object_ids().unwrap();
    for (id, name) in v["object_ids"].as_object().unwrap() {
        let path = ids
            .get(id)
            .unwrap_or_else(|| panic!("object id {id} ({name}) not found"));
        let name = name.as_str().unwrap();
        if name != "root" {
            assert_eq!(path.rsplit('/').next().unwrap(), name, "object {id}");
        }
        assert_eq!(f.object_by_id(id).unwrap().object_id, *id);
    }
    assert!(f.object_by_id("not-an-id").is_err());
    let summary = f.walk().unwrap();
    assert!(
        summary.datasets > 50 && summary.soft_links >= 3,
        "{summary:?}"
    );
}

#[test]
fn pynwb_gzip_timestamps() {
    common::init();
    check_file("gzip", "timestamps");
}

#[test]
fn pynwb_chunked_timestamps() {
    common::init();
    check_file("chunked", "timestamps");
}

#[test]
fn pynwb_contiguous_rate() {
    common::init();
    check_file("contiguous", "rate");
}

/// h5py's own walks over a file: every object once through hard links
/// (`visititems`: path, group or dataset, neurodata_type) and every soft link
/// (`visititems_links`: path, target).
const H5PY_WALK: &str = r#"
import h5py, json, sys
f = h5py.File(sys.argv[1], "r")
objects, soft = [], []
def on_object(name, obj):
    kind = "group" if isinstance(obj, h5py.Group) else "dataset"
    t = obj.attrs.get("neurodata_type", "")
    objects.append(["/" + name, kind, t.decode() if isinstance(t, bytes) else str(t)])
def on_link(name, link):
    if isinstance(link, h5py.SoftLink):
        soft.append(["/" + name, link.path])
f.visititems(on_object)
f.visititems_links(on_link)
print(json.dumps({"objects": objects, "soft": soft}))
"#;

#[test]
fn visit_meets_what_h5py_visits() {
    use spyglass_nwb::{NodeLink, ObjectKind, Visit, WalkOptions};
    common::init();
    let (_dir, path, _) = fixture("chunked", "rate");
    let v = common::json(&spyglass_testkit::run_python(
        H5PY_WALK,
        &[path.to_str().unwrap()],
    ));
    let strings = |row: &serde_json::Value| -> Vec<String> {
        row.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    let mut want_objects: Vec<Vec<String>> = v["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(strings)
        .collect();
    let mut want_soft: Vec<Vec<String>> =
        v["soft"].as_array().unwrap().iter().map(strings).collect();
    want_objects.sort();
    want_soft.sort();

    let f = NwbFile::open(&path).unwrap();
    let (mut objects, mut soft) = (vec![], vec![]);
    let once = WalkOptions {
        once_per_object: true,
        ..WalkOptions::default()
    };
    f.visit(once, |node| {
        match node.link() {
            NodeLink::Soft { target } => soft.push(vec![node.path().to_string(), target.clone()]),
            NodeLink::Hard => {
                let kind = match node.kind().unwrap() {
                    ObjectKind::Group => "group",
                    ObjectKind::Dataset => "dataset",
                };
                objects.push(vec![
                    node.path().to_string(),
                    kind.to_string(),
                    node.neurodata_type()?,
                ]);
            }
            NodeLink::Start | NodeLink::External { .. } => {}
        }
        Ok(Visit::Enter)
    })
    .unwrap();
    objects.sort();
    soft.sort();
    assert!(want_objects.len() > 50 && want_soft.len() >= 3, "{v}");
    assert_eq!(objects, want_objects);
    assert_eq!(soft, want_soft);

    // A visitor that skips a group never meets what is inside it.
    let mut inside_general = 0;
    f.visit(once, |node| {
        if node.path().starts_with("/general/") {
            inside_general += 1;
        }
        Ok(if node.path() == "/general" {
            Visit::Skip
        } else {
            Visit::Enter
        })
    })
    .unwrap();
    assert_eq!(inside_general, 0);
}
