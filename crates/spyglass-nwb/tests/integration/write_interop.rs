//! Files we write — analysis files and the ingest `_` copy — pass pynwb-validate and
//! nwbinspector and read back in pynwb with the values we wrote.

use crate::common;

use std::collections::BTreeSet;

use spyglass_nwb::synthetic::{write_session, SyntheticParams};
use spyglass_nwb::{
    write_linked_copy, AnalysisFileWriter, ColumnSpec, Compression, ElectricalSeriesSpec, NwbError,
    NwbFile, Placement, SampleSpan, SeriesData, TableSpec, TimeIntervalsSpec, TimeSeriesSpec,
    TimingSpec, UnitsSpec,
};

const MAKE: &str = include_str!("../py/make_pynwb_session.py");

fn synthetic(dir: &std::path::Path) -> (std::path::PathBuf, spyglass_nwb::synthetic::GroundTruth) {
    let raw = dir.join("rat20230622.nwb");
    let gt = write_session(
        &raw,
        &SyntheticParams {
            duration_s: 2.0,
            compression: Compression::Gzip {
                rows: 15000,
                level: 4,
                shuffle: false,
            },
            ..Default::default()
        },
    )
    .unwrap();
    (raw, gt)
}

#[test]
fn linked_copy_links_bulk_data_and_pynwb_reads_through_it() {
    common::init();
    let dir = spyglass_testkit::scratch_dir();
    let (raw, gt) = synthetic(dir.path());
    let copy = dir.path().join("rat20230622_.nwb");
    let linked = write_linked_copy(&raw, &copy).unwrap();
    assert_eq!(linked, vec!["/acquisition/e-series"]);
    // The copy holds no samples: far smaller than the raw file.
    let (rs, cs) = (
        std::fs::metadata(&raw).unwrap().len(),
        std::fs::metadata(&copy).unwrap().len(),
    );
    assert!(cs * 3 < rs, "copy {cs} bytes vs raw {rs} bytes");
    common::assert_valid(&copy);
    common::assert_inspector_clean(&copy);

    let out = spyglass_testkit::run_python(
        r#"
import sys, json, h5py, pynwb, ndx_franklab_novela
with h5py.File(sys.argv[1], "r") as f:
    link = f["acquisition"].get("e-series", getlink=True)
    link = [type(link).__name__, getattr(link, "filename", None), getattr(link, "path", None)]
with pynwb.NWBHDF5IO(sys.argv[1], "r") as io:
    nwb = io.read()
    es = nwb.acquisition["e-series"]
    print(json.dumps(dict(link=link, first=es.data[:20, :].tolist(), last=es.data[-3:, :].tolist(),
        object_id=es.object_id, file_object_id=nwb.object_id, identifier=nwb.identifier,
        ts=float(es.timestamps[-1]), n_elec=len(nwb.electrodes), epochs=[list(x) for x in nwb.epochs["tags"][:]],
        n_pos=len(nwb.processing["behavior"]["position"].spatial_series))))
"#,
        &[copy.to_str().unwrap()],
    );
    let v = common::json(&out);
    assert_eq!(
        v["link"],
        serde_json::json!(["ExternalLink", "rat20230622.nwb", "/acquisition/e-series"])
    );
    let rawf = NwbFile::open(&raw).unwrap();
    let ch: Vec<usize> = (0..8).collect();
    let want = rawf
        .read_raw_i16("/acquisition/e-series", SampleSpan::Samples(0..20), &ch)
        .unwrap();
    for (t, row) in v["first"].as_array().unwrap().iter().enumerate() {
        for (c, x) in row.as_array().unwrap().iter().enumerate() {
            assert_eq!(x.as_i64().unwrap(), want[c][t] as i64);
        }
    }
    assert_eq!(
        v["object_id"].as_str().unwrap(),
        gt.raw_object_id,
        "same object through the link"
    );
    assert_eq!(
        v["file_object_id"].as_str().unwrap(),
        rawf.metadata().unwrap().object_id
    );
    assert_eq!(v["n_elec"], 8);
    assert_eq!(v["epochs"], serde_json::json!([["01_s1"], ["02_r1"]]));
    assert_eq!(v["n_pos"], 4);
    assert!((v["ts"].as_f64().unwrap() - gt.time_of(gt.n_samples - 1)).abs() < 1e-12);

    // Our reader follows the link too, and finds the object by id.
    let cf = NwbFile::open(&copy).unwrap();
    assert_eq!(
        cf.read_raw_i16("/acquisition/e-series", SampleSpan::Samples(0..20), &ch)
            .unwrap(),
        want
    );
    assert_eq!(
        cf.path_of_id(&gt.raw_object_id).unwrap(),
        "/acquisition/e-series"
    );
    assert_eq!(
        cf.electrodes().unwrap().unwrap().ids,
        (0..8).collect::<Vec<i64>>()
    );

    // Moving the raw file breaks the link with an error naming the missing target.
    let moved = dir.path().join("elsewhere.nwb");
    std::fs::rename(&raw, &moved).unwrap();
    let cf = NwbFile::open(&copy).expect("metadata still readable");
    assert_eq!(cf.metadata().unwrap().identifier, "synthetic-synth01-1");
    let err = cf.raw_reader("/acquisition/e-series").unwrap_err();
    match &err {
        NwbError::BrokenExternalLink { object, target, .. } => {
            assert_eq!(object, "/acquisition/e-series");
            assert_eq!(target, &dir.path().join("rat20230622.nwb"));
        }
        other => panic!("expected BrokenExternalLink, got {other}"),
    }
    assert!(err.to_string().contains("rat20230622.nwb"), "{err}");
    let summary = cf.walk().unwrap();
    assert_eq!(summary.broken_links, 1);
    assert!(!cf.object_ids().unwrap().contains_key(&gt.raw_object_id));
}

#[test]
fn linked_copy_of_pynwb_file() {
    common::init();
    let dir = spyglass_testkit::scratch_dir();
    let raw = dir.path().join("fixture.nwb");
    spyglass_testkit::run_python(MAKE, &[raw.to_str().unwrap(), "gzip", "timestamps"]);
    let copy = dir.path().join("fixture_.nwb");
    assert_eq!(
        write_linked_copy(&raw, &copy).unwrap(),
        vec!["/acquisition/e-series", "/processing/analog"]
    );
    common::assert_valid(&copy);
    let out = spyglass_testkit::run_python(
        r#"
import sys, json, pynwb, ndx_franklab_novela, numpy as np
a = pynwb.NWBHDF5IO(sys.argv[1], "r").read()
b = pynwb.NWBHDF5IO(sys.argv[2], "r").read()
same = bool(np.array_equal(a.acquisition["e-series"].data[:], b.acquisition["e-series"].data[:]))
ids_a = {o.object_id for o in a.objects.values()}
ids_b = {o.object_id for o in b.objects.values()}
import h5py
with h5py.File(sys.argv[2], "r") as f:
    analog_link = type(f["processing"].get("analog", getlink=True)).__name__
print(json.dumps(dict(same=same, ids_equal=ids_a == ids_b, units=len(b.units), analog_link=analog_link,
    analog=b.processing["analog"]["analog"]["analog"].data[:].tolist(),
    lfp=b.processing["ecephys"]["LFP"]["lfp"].data[:].tolist() == a.processing["ecephys"]["LFP"]["lfp"].data[:].tolist(),
    groups=[g.name for g in b.electrodes["group"][:]])))
"#,
        &[raw.to_str().unwrap(), copy.to_str().unwrap()],
    );
    let v = common::json(&out);
    assert_eq!(v["same"], true);
    assert_eq!(v["ids_equal"], true);
    assert_eq!(v["analog_link"], "ExternalLink");
    assert_eq!(
        v["analog"],
        serde_json::json!((0..12).map(|r| vec![2 * r, 2 * r + 1]).collect::<Vec<_>>())
    );
    assert_eq!(v["units"], 3);
    assert_eq!(v["lfp"], true);
    assert_eq!(
        v["groups"],
        serde_json::json!(["0", "0", "0", "0", "1", "1", "1", "1"])
    );
}

fn add_everything(w: &mut AnalysisFileWriter) -> serde_json::Value {
    // LFP: 3 channels, 100 samples at 1 kHz, int16, explicit timestamps.
    let lfp: Vec<Vec<i16>> = (0..3)
        .map(|c| (0..100).map(|t| (t * 7 - 300 + c * 11) as i16).collect())
        .collect();
    let (data, shape) = SeriesData::from_channels_i16(&lfp).unwrap();
    let lfp_ts: Vec<f64> = (0..100)
        .map(|i| 0.25 + i as f64 / 1000.0 + if i >= 50 { 0.5 } else { 0.0 })
        .collect();
    let lfp_id = w
        .add_electrical_series(
            &Placement::container("ecephys", "LFP", "LFP", "LFP"),
            &ElectricalSeriesSpec {
                series: TimeSeriesSpec {
                    name: "lfp".into(),
                    description: "filtered LFP".into(),
                    data,
                    shape,
                    conversion: 0.195e-6,
                    timing: TimingSpec::Timestamps(lfp_ts.clone()),
                    compression: Compression::Gzip {
                        rows: 40,
                        level: 4,
                        shuffle: true,
                    },
                    ..TimeSeriesSpec::default()
                },
                electrodes: vec![0, 3, 6],
                electrodes_description: "lfp electrodes".into(),
                filtering: Some("0-400 Hz".into()),
                channel_conversion: None,
            },
        )
        .unwrap();
    // Position, orientation, velocity as TrodesPosV1 writes them.
    let pos: Vec<f64> = (0..60).map(|i| i as f64 * 0.01).collect();
    let pos_id = w
        .add_position(
            "behavior",
            "position",
            &TimeSeriesSpec {
                name: "head_position".into(),
                neurodata_type: "SpatialSeries".into(),
                data: SeriesData::F64(pos.clone()),
                shape: vec![30, 2],
                unit: "meters".into(),
                timing: TimingSpec::Rate {
                    rate: 30.0,
                    starting_time: 0.1,
                },
                reference_frame: Some("upper left".into()),
                ..TimeSeriesSpec::default()
            },
        )
        .unwrap();
    let ori: Vec<f64> = (0..30).map(|i| (i as f64 * 0.2).sin()).collect();
    let ori_id = w
        .add_compass_direction(
            "behavior",
            "orientation",
            &TimeSeriesSpec {
                name: "head_orientation".into(),
                neurodata_type: "SpatialSeries".into(),
                data: SeriesData::F64(ori.clone()),
                shape: vec![30],
                unit: "radians".into(),
                timing: TimingSpec::Rate {
                    rate: 30.0,
                    starting_time: 0.1,
                },
                reference_frame: Some("0 is east".into()),
                ..TimeSeriesSpec::default()
            },
        )
        .unwrap();
    let vel: Vec<f64> = (0..30).map(|i| i as f64 * 0.5).collect();
    let vel_id = w
        .add_behavioral_time_series(
            "behavior",
            "velocity",
            &TimeSeriesSpec {
                name: "head_speed".into(),
                data: SeriesData::F64(vel.clone()),
                shape: vec![30],
                unit: "m/s".into(),
                timing: TimingSpec::Rate {
                    rate: 30.0,
                    starting_time: 0.1,
                },
                ..TimeSeriesSpec::default()
            },
        )
        .unwrap();
    let spikes = vec![vec![0.1, 0.2, 0.35], vec![], vec![0.05, 1.5]];
    let units_id = w
        .add_units(&UnitsSpec {
            description: "curated units".into(),
            ids: Some(vec![3, 5, 9]),
            spike_times: spikes.clone(),
            electrodes: Some(vec![vec![0], vec![1, 2], vec![5]]),
            resolution: Some(1.0 / 30000.0),
            columns: vec![
                ColumnSpec::text(
                    "label",
                    "curation label",
                    vec!["accept".into(), "noise".into(), "mua".into()],
                ),
                ColumnSpec::f64("snr", "signal to noise", vec![5.5, 1.0, 3.25]),
                ColumnSpec::f64_2d(
                    "waveform_mean",
                    "mean waveform",
                    (0..12).map(|x| x as f64).collect(),
                    3,
                    4,
                ),
            ],
        })
        .unwrap();
    let iv_id = w
        .add_time_intervals(&TimeIntervalsSpec {
            name: "artifact_times".into(),
            description: "artifacts".into(),
            start_time: vec![0.5, 1.0],
            stop_time: vec![0.6, 1.25],
            tags: Some(vec![vec!["big".into()], vec![]]),
            columns: vec![ColumnSpec::i64(
                "n_channels",
                "channels affected",
                vec![8, 2],
            )],
        })
        .unwrap();
    let table_id = w
        .add_dynamic_table(
            &Placement::Scratch,
            &TableSpec {
                name: "ripple_times".into(),
                description: "detected ripples".into(),
                ids: None,
                columns: vec![
                    ColumnSpec::f64("start_time", "start", vec![0.1, 0.9]),
                    ColumnSpec::f64("end_time", "end", vec![0.15, 0.98]),
                    ColumnSpec::ragged_i64("electrodes", "channels", vec![vec![1, 2], vec![3]]),
                    ColumnSpec::bool("valid", "valid", vec![true, false]),
                ],
            },
        )
        .unwrap();
    serde_json::json!({"lfp": lfp_id, "pos": pos_id, "ori": ori_id, "vel": vel_id, "units": units_id,
        "intervals": iv_id, "table": table_id, "lfp_ts": lfp_ts, "lfp_data": lfp, "pos_data": pos,
        "ori_data": ori, "vel_data": vel, "spikes": spikes})
}

const READ_ANALYSIS: &str = r#"
import sys, json, pynwb, numpy as np
try:
    import ndx_franklab_novela
except ImportError:
    pass
with pynwb.NWBHDF5IO(sys.argv[1], "r") as io:
    nwb = io.read()
    lfp = nwb.processing["ecephys"]["LFP"]["lfp"]
    beh = nwb.processing["behavior"]
    u = nwb.units
    iv = nwb.intervals["artifact_times"]
    t = nwb.scratch["ripple_times"]
    print(json.dumps(dict(
        ids=dict(lfp=lfp.object_id, pos=beh["position"]["head_position"].object_id,
                 ori=beh["orientation"]["head_orientation"].object_id, vel=beh["velocity"]["head_speed"].object_id,
                 units=u.object_id, intervals=iv.object_id, table=t.object_id),
        all_ids=sorted(o.object_id for o in nwb.objects.values()), file_id=nwb.object_id, identifier=nwb.identifier,
        lfp_data=lfp.data[:].T.tolist(), lfp_ts=lfp.timestamps[:].tolist(), lfp_conv=float(lfp.conversion),
        lfp_el=lfp.electrodes.data[:].tolist(), lfp_filtering=lfp.filtering,
        lfp_el_loc=lfp.electrodes.to_dataframe()["location"].tolist(),
        pos=beh["position"]["head_position"].data[:].ravel().tolist(), pos_rate=beh["position"]["head_position"].rate,
        ori=beh["orientation"]["head_orientation"].data[:].tolist(), vel=beh["velocity"]["head_speed"].data[:].tolist(),
        unit_ids=u.id[:].tolist(), spikes=[u.get_unit_spike_times(i).tolist() for i in range(len(u))],
        unit_el=[list(map(int, u["electrodes"][i].index)) for i in range(len(u))],
        label=list(u["label"][:]), snr=u["snr"][:].tolist(), wf=np.asarray(u["waveform_mean"][:]).tolist(),
        iv=[iv["start_time"][:].tolist(), iv["stop_time"][:].tolist(), [list(x) for x in iv["tags"][:]], iv["n_channels"][:].tolist()],
        table=[t["start_time"][:].tolist(), [list(map(int, x)) for x in t["electrodes"][:]], [bool(x) for x in t["valid"][:]]],
        subject=nwb.subject.subject_id, n_elec=len(nwb.electrodes), devices=sorted(nwb.devices),
        epochs=[list(x) for x in nwb.epochs["tags"][:]], session_start=nwb.session_start_time.isoformat(),
        acquisition=sorted(nwb.acquisition), groups=sorted(nwb.electrode_groups))))
"#;

fn check_analysis(
    path: &std::path::Path,
    ids: &serde_json::Value,
    parent: &NwbFile,
) -> serde_json::Value {
    let out = spyglass_testkit::run_python(READ_ANALYSIS, &[path.to_str().unwrap()]);
    let v = common::json(&out);
    for k in ["lfp", "pos", "ori", "vel", "units", "intervals", "table"] {
        assert_eq!(v["ids"][k], ids[k], "object id of {k}");
    }
    assert_eq!(v["lfp_data"], ids["lfp_data"]);
    common::assert_close(
        &common::f64s(&v["lfp_ts"]),
        &common::f64s(&ids["lfp_ts"]),
        0.0,
        "lfp ts",
    );
    assert_eq!(v["lfp_conv"], 0.195e-6);
    assert_eq!(v["lfp_el"], serde_json::json!([0, 3, 6]));
    assert_eq!(v["lfp_filtering"], "0-400 Hz");
    assert_eq!(v["pos"], ids["pos_data"]);
    assert_eq!(v["pos_rate"], 30.0);
    assert_eq!(v["ori"], ids["ori_data"]);
    assert_eq!(v["vel"], ids["vel_data"]);
    assert_eq!(v["unit_ids"], serde_json::json!([3, 5, 9]));
    assert_eq!(v["spikes"], ids["spikes"]);
    assert_eq!(v["unit_el"], serde_json::json!([[0], [1, 2], [5]]));
    assert_eq!(v["label"], serde_json::json!(["accept", "noise", "mua"]));
    assert_eq!(v["snr"], serde_json::json!([5.5, 1.0, 3.25]));
    assert_eq!(
        v["wf"],
        serde_json::json!([
            [0.0, 1.0, 2.0, 3.0],
            [4.0, 5.0, 6.0, 7.0],
            [8.0, 9.0, 10.0, 11.0]
        ])
    );
    assert_eq!(
        v["iv"],
        serde_json::json!([[0.5, 1.0], [0.6, 1.25], [["big"], []], [8, 2]])
    );
    assert_eq!(
        v["table"],
        serde_json::json!([[0.1, 0.9], [[1, 2], [3]], [true, false]])
    );
    // Parent metadata kept, identity renewed.
    let pm = parent.metadata().unwrap();
    assert_ne!(v["identifier"].as_str().unwrap(), pm.identifier);
    assert_ne!(v["file_id"].as_str().unwrap(), pm.object_id);
    let parent_ids: BTreeSet<String> = parent.object_ids().unwrap().into_keys().collect();
    for id in v["all_ids"].as_array().unwrap() {
        assert!(
            !parent_ids.contains(id.as_str().unwrap()),
            "object id {id} reused from the parent"
        );
    }
    assert_eq!(v["acquisition"], serde_json::json!([]));
    assert_eq!(
        v["session_start"].as_str().unwrap(),
        pm.session_start_time
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
    );
    // Our reader agrees.
    let f = NwbFile::open(path).unwrap();
    assert_eq!(
        f.path_of_id(ids["units"].as_str().unwrap()).unwrap(),
        "/units"
    );
    assert_eq!(
        f.path_of_id(ids["table"].as_str().unwrap()).unwrap(),
        "/scratch/ripple_times"
    );
    assert_eq!(
        f.spike_times().unwrap(),
        vec![vec![0.1, 0.2, 0.35], vec![], vec![0.05, 1.5]]
    );
    assert_eq!(
        f.subject().unwrap(),
        parent.subject().unwrap().map(|s| spyglass_nwb::Subject {
            object_id: f.subject().unwrap().unwrap().object_id,
            ..s
        })
    );
    assert_eq!(
        f.electrode_groups().unwrap().len(),
        parent.electrode_groups().unwrap().len()
    );
    let (pe, ae) = (
        parent.electrodes().unwrap().unwrap(),
        f.electrodes().unwrap().unwrap(),
    );
    for c in &pe.columns {
        let ac = ae
            .column(&c.name)
            .unwrap_or_else(|| panic!("electrodes column {} lost", c.name));
        assert_eq!(ac.data, c.data, "electrodes column {}", c.name);
    }
    assert_eq!(f.epochs().unwrap(), parent.epochs().unwrap());
    v
}

#[test]
fn analysis_file_from_linked_copy_of_synthetic_session() {
    common::init();
    let dir = spyglass_testkit::scratch_dir();
    let (raw, _) = synthetic(dir.path());
    let copy = dir.path().join("rat20230622_.nwb");
    write_linked_copy(&raw, &copy).unwrap();
    let out = dir.path().join("rat20230622_ABCDE12345.nwb");
    let mut w = AnalysisFileWriter::create_from_parent(&copy, &out).unwrap();
    let ids = add_everything(&mut w);
    w.finish().unwrap();
    common::assert_valid(&out);
    common::assert_inspector_clean(&out);
    let parent = NwbFile::open(&copy).unwrap();
    let v = check_analysis(&out, &ids, &parent);
    assert_eq!(v["subject"], "synth01");
    assert_eq!(v["n_elec"], 8);
    assert_eq!(
        v["devices"],
        serde_json::json!(["camera_device 0", "dataacq_device0", "probe 0"])
    );
    assert_eq!(v["epochs"], serde_json::json!([["01_s1"], ["02_r1"]]));
    assert_eq!(v["lfp_el_loc"], serde_json::json!(["CA1", "CA1", "CA1"]));
    // The analysis file caches the specs it needs.
    let f = NwbFile::open(&out).unwrap();
    let specs = f.cached_specs().unwrap();
    for ns in [
        "core",
        "hdmf-common",
        "ndx-franklab-novela",
        "ndx-optogenetics",
    ] {
        assert!(specs.keys().any(|(n, _, _)| n == ns), "{ns} not cached");
    }
}

#[test]
fn analysis_file_from_pynwb_parent() {
    common::init();
    let dir = spyglass_testkit::scratch_dir();
    let parent_path = dir.path().join("fixture.nwb");
    spyglass_testkit::run_python(MAKE, &[parent_path.to_str().unwrap(), "chunked", "rate"]);
    let out = dir.path().join("fixtureXYZ.nwb");
    let mut w = AnalysisFileWriter::create_from_parent(&parent_path, &out).unwrap();
    let ids = add_everything(&mut w);
    w.finish().unwrap();
    common::assert_valid(&out);
    let parent = NwbFile::open(&parent_path).unwrap();
    let v = check_analysis(&out, &ids, &parent);
    assert_eq!(v["subject"], "rat7");
    assert_eq!(v["groups"], serde_json::json!(["0", "1"]));
    assert_eq!(
        v["epochs"],
        serde_json::json!([["01_s1", "sleep"], ["02_r1"]])
    );
    // Spyglass keeps intervals but not units, processing or acquisition of the parent.
    let f = NwbFile::open(&out).unwrap();
    let names: Vec<String> = f.intervals().unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(
        names,
        vec!["artifact_times", "epochs", "sleep_times", "trials"]
    );
    assert_eq!(
        f.probes().unwrap(),
        parent
            .probes()
            .unwrap()
            .into_iter()
            .zip(f.probes().unwrap())
            .map(|(p, a)| spyglass_nwb::Probe {
                object_id: a.object_id,
                ..p
            })
            .collect::<Vec<_>>()
    );
}

#[test]
fn writer_rejects_inconsistent_objects() {
    common::init();
    let dir = spyglass_testkit::scratch_dir();
    let (raw, _) = synthetic(dir.path());
    let mut w = AnalysisFileWriter::create_from_parent(&raw, dir.path().join("a.nwb")).unwrap();
    let bad_el = ElectricalSeriesSpec {
        series: TimeSeriesSpec {
            name: "x".into(),
            data: SeriesData::F64(vec![0.0; 4]),
            shape: vec![2, 2],
            ..Default::default()
        },
        electrodes: vec![0, 99],
        ..Default::default()
    };
    let e = w
        .add_electrical_series(&Placement::Scratch, &bad_el)
        .unwrap_err();
    assert!(
        e.to_string().contains("outside the electrodes table"),
        "{e}"
    );
    let bad_ts = TimeSeriesSpec {
        name: "y".into(),
        data: SeriesData::F64(vec![0.0; 3]),
        shape: vec![3],
        timing: TimingSpec::Timestamps(vec![0.0, 1.0]),
        ..Default::default()
    };
    assert!(w
        .add_time_series(&Placement::Scratch, &bad_ts)
        .unwrap_err()
        .to_string()
        .contains("2 timestamps for 3 samples"));
    let unsorted = UnitsSpec {
        spike_times: vec![vec![2.0, 1.0]],
        ..Default::default()
    };
    assert!(w.add_units(&unsorted).is_err());
}

// A streamed series written in whole rows in order (its chunks gathered, shuffled
// and deflated by us, stored as they are), then in blocks that are not (HDF5's own
// filters from there), uncompressed too: h5py reads back every value through
// HDF5's filter pipeline.
#[test]
fn streamed_series_chunks_read_back_through_hdf5() {
    use spyglass_nwb::{StreamDtype, StreamedSeriesSpec};
    common::init();
    let dir = spyglass_testkit::scratch_dir();
    let (raw, _) = synthetic(dir.path());
    let copy = dir.path().join("rat20230622_.nwb");
    write_linked_copy(&raw, &copy).unwrap();
    let out = dir.path().join("rat20230622_STREAM0001.nwb");
    let mut w = AnalysisFileWriter::create_from_parent(&copy, &out).unwrap();
    let (n, c) = (2500usize, 8usize);
    let value = |t: usize, j: usize| ((t * 37 + j * 1009) % 2001) as f64 - 1000.0;
    let cases = [
        (
            "rows_i16",
            StreamDtype::I16,
            Compression::Gzip {
                rows: 1000,
                level: 4,
                shuffle: true,
            },
        ),
        (
            "mixed_f32",
            StreamDtype::F32,
            Compression::Gzip {
                rows: 1000,
                level: 6,
                shuffle: false,
            },
        ),
        (
            "rows_f64",
            StreamDtype::F64,
            Compression::Chunked { rows: 700 },
        ),
    ];
    for (name, dtype, compression) in cases {
        let spec = StreamedSeriesSpec {
            name: name.into(),
            description: "streamed".into(),
            comments: "no comments".into(),
            dtype,
            n_rows: n,
            electrodes: (0..c as i64).collect(),
            electrodes_description: "electrodes".into(),
            conversion: 1.0,
            offset: 0.0,
            filtering: None,
            compression,
        };
        let s = w
            .begin_electrical_series(
                &Placement::container("ecephys", "LFP data", "LFP", "LFP"),
                &spec,
            )
            .unwrap();
        let ts: Vec<f64> = (0..n).map(|t| t as f64 / 1000.0).collect();
        s.write_timestamps(0, &ts).unwrap();
        // whole rows, 300 at a time; for the mixed case, from row 1200 on two column halves
        let mut t = 0;
        while t < n {
            let r = 300.min(n - t);
            if name == "mixed_f32" && t >= 1200 {
                for (c0, cols) in [(0, 3), (3, c - 3)] {
                    let b: Vec<f32> = (t..t + r)
                        .flat_map(|u| (c0..c0 + cols).map(move |j| value(u, j) as f32))
                        .collect();
                    s.write_f32(t, c0, cols, &b).unwrap();
                }
            } else {
                let vals = (t..t + r).flat_map(|u| (0..c).map(move |j| value(u, j)));
                match dtype {
                    StreamDtype::I16 => {
                        s.write_i16(t, 0, c, &vals.map(|v| v as i16).collect::<Vec<_>>())
                    }
                    StreamDtype::F32 => {
                        s.write_f32(t, 0, c, &vals.map(|v| v as f32).collect::<Vec<_>>())
                    }
                    StreamDtype::F64 => s.write_f64(t, 0, c, &vals.collect::<Vec<_>>()),
                }
                .unwrap();
            }
            t += r;
        }
        // a block past the end is an error, and changes nothing
        assert!(s.write_f64(n, 0, c, &[0.0; 8]).is_err());
        s.finish().unwrap();
    }
    w.finish().unwrap();
    let code = r#"
import sys, json, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    g = f["processing/ecephys/LFP"]
    out = {}
    for k in ("rows_i16", "mixed_f32", "rows_f64"):
        d = g[k]["data"]
        out[k] = [str(d.dtype), list(d.shape), np.asarray(d[:], dtype=np.float64).ravel().tolist()]
print(json.dumps(out))
"#;
    let got: serde_json::Value =
        serde_json::from_str(spyglass_testkit::run_python(code, &[out.to_str().unwrap()]).trim())
            .unwrap();
    let want: Vec<f64> = (0..n)
        .flat_map(|t| (0..c).map(move |j| value(t, j)))
        .collect();
    for (k, dtype) in [
        ("rows_i16", "int16"),
        ("mixed_f32", "float32"),
        ("rows_f64", "float64"),
    ] {
        assert_eq!(got[k][0], dtype, "{k}");
        assert_eq!(got[k][1], serde_json::json!([n, c]), "{k}");
        let vals: Vec<f64> = serde_json::from_value(got[k][2].clone()).unwrap();
        assert_eq!(vals, want, "{k}");
    }
}
