//! Ingestion of files built with pynwb: the optional tables (DIO, video,
//! StateScript, sample count, sensors, compass) with values from the fixture; a
//! config yaml overriding a probe and the electrode→probe map; entries.yaml; a
//! file missing optional parts; files missing required parts or holding
//! contradictions, refused with nothing inserted and an InsertError row.

use crate::common;

use common::*;
use spyglass::common::{
    common_behav as behav, common_device as dev, common_dio as dio, common_ephys as ephys,
    common_interval as iv, common_lab as lab, common_region as region, common_sensors as sensors,
    common_session as sess, common_task as task, common_usage as usage,
};
use spyglass::fetch_nwb::fetch_nwb;
use spyglass::ingest::yaml::{prepopulate, YamlTables};
use spyglass::ingest::FileStatus;
use spyglass_db::Cond;
use std::path::Path;

#[test]
fn optional_tables_hold_the_fixture_values_and_fetch_nwb_finds_the_objects() {
    let env = Env::new();
    let src = env.staging().join("extras20230622.nwb");
    let fx = pynwb_file(&src, "extras");
    let r = &env.insert(&[src])[0];
    assert_eq!(r.status, FileStatus::Inserted, "{r:?}");
    let nwb = "extras20230622_.nwb";
    let id = |k: &str| fx[k].as_str().unwrap().to_string();

    let d = env.rows(dio::DIO_EVENTS, nwb);
    assert_eq!(d.len(), 1);
    assert_eq!(
        (
            s(&d[0], "dio_event_name"),
            s(&d[0], "dio_object_id"),
            s(&d[0], "interval_list_name")
        ),
        (
            "Poke1".into(),
            id("dio_object_id"),
            "raw data valid times".into()
        )
    );
    assert_eq!(
        s(
            &env.rows(ephys::SAMPLE_COUNT, nwb)[0],
            "sample_count_object_id"
        ),
        id("sample_count_object_id")
    );
    let sd = &env.rows(sensors::SENSOR_DATA, nwb)[0];
    assert_eq!(
        (s(sd, "sensor_data_object_id"), s(sd, "interval_list_name")),
        (id("analog_object_id"), "raw data valid times".into())
    );
    let c = &env.rows(behav::RAW_COMPASS_DIRECTION, nwb)[0];
    assert_eq!(
        (
            s(c, "compass_object_id"),
            s(c, "name"),
            s(c, "interval_list_name")
        ),
        (
            id("compass_object_id"),
            "head_orientation".into(),
            "compass 1 valid times".into()
        )
    );
    let lists = env.rows(iv::INTERVAL_LIST, nwb);
    let cl = lists
        .iter()
        .find(|l| s(l, "interval_list_name") == "compass 1 valid times")
        .unwrap();
    let (a, b) = (
        fx["compass_first"].as_f64().unwrap(),
        fx["compass_last"].as_f64().unwrap(),
    );
    assert_times(&times(cl), &[[a - 1e-7, b + 1e-7]], 1e-12);
    let v = env.rows(behav::VIDEO_FILE, nwb);
    assert_eq!(v.len(), 1);
    assert_eq!(
        (
            i(&v[0], "epoch"),
            i(&v[0], "video_file_num"),
            s(&v[0], "camera_name"),
            s(&v[0], "video_file_object_id")
        ),
        (1, 0, "cam_a".into(), id("video_object_id"))
    );
    let ss = env.rows(behav::STATE_SCRIPT_FILE, nwb);
    assert_eq!(ss.len(), 1);
    assert_eq!(
        (i(&ss[0], "epoch"), s(&ss[0], "file_object_id")),
        (2, id("statescript_object_id"))
    );

    // fetch_nwb: the raw series through the copy's external link, DIO and position objects
    let q = env
        .db
        .table(ephys::RAW)
        .unwrap()
        .restrict(Cond::map([("nwb_file_name", nwb)]))
        .unwrap();
    let got = fetch_nwb(&env.db, &q).unwrap();
    let raw = got[0].object("raw").unwrap();
    assert_eq!(
        (
            raw.object_id.as_str(),
            raw.info.path.as_str(),
            raw.info.neurodata_type.as_str()
        ),
        (
            fx["raw_object_id"].as_str().unwrap(),
            "/acquisition/e-series",
            "ElectricalSeries"
        )
    );
    let ts = raw.file.timestamps(&raw.info.path).unwrap();
    assert_eq!(
        (ts.len(), ts[0], *ts.last().unwrap()),
        (60000, 10.0, fx["ts_last"].as_f64().unwrap())
    );
    let q = env.db.table(dio::DIO_EVENTS).unwrap();
    let got = fetch_nwb(&env.db, &q).unwrap();
    assert_eq!(
        got[0].object("dio_object_id").unwrap().info.path,
        "/processing/behavior/behavioral_events/Poke1"
    );
    let q = env.db.table(behav::RAW_POSITION_POS_OBJECT).unwrap();
    let got = fetch_nwb(&env.db, &q).unwrap();
    let ids: Vec<String> = got
        .iter()
        .map(|r| r.object("raw_position").unwrap().object_id.clone())
        .collect();
    let want: Vec<String> = fx["position"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["object_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, want);
}

const ENTRIES: &str = "
DataAcquisitionDeviceSystem:
- data_acquisition_device_system: SpikeGadgets
- data_acquisition_device_system: Neuralynx
DataAcquisitionDeviceAmplifier:
- data_acquisition_device_amplifier: Intan
DataAcquisitionDevice:
- data_acquisition_device_name: SpikeGadgets_Intan
  data_acquisition_device_system: SpikeGadgets
  data_acquisition_device_amplifier: Intan
  adc_circuit: Intan
LabMember:
- lab_member_name: Loren Frank
  first_name: Loren
  last_name: Frank
LabMember.LabMemberInfo:
- lab_member_name: Loren Frank
  google_user_name: loren@example.org
  datajoint_user_name: loren
  admin: 1
BrainRegion:
- region_name: medial entorhinal cortex
";

#[test]
fn entries_yaml_prepopulates_and_skips_existing_rows() {
    let env = Env::new();
    std::fs::write(env.settings.entries_yaml(), ENTRIES).unwrap();
    let r = spyglass::ingest::prepare(&env.db, &env.settings).unwrap();
    let inserted: u64 = r.inserted.iter().map(|(_, n)| n).sum();
    assert_eq!((inserted, r.skipped), (7, 0));
    assert_eq!(env.count(dev::DAQ_SYSTEM), 2);
    let info = &env.all(lab::LAB_MEMBER_INFO)[0];
    assert_eq!(
        (
            s(info, "google_user_name"),
            s(info, "datajoint_user_name"),
            i(info, "admin")
        ),
        ("loren@example.org".into(), "loren".into(), 1)
    );
    let reg = &env.all(region::BRAIN_REGION)[0];
    assert_eq!(
        (
            i(reg, "region_id"),
            s(reg, "region_name"),
            s(reg, "subregion_name")
        ),
        (1, "medial entorhinal cortex".into(), "<null>".into())
    );
    // a second run inserts nothing
    let r = spyglass::ingest::prepare(&env.db, &env.settings).unwrap();
    assert_eq!(r.inserted.iter().map(|(_, n)| n).sum::<u64>(), 0);
    assert_eq!(r.skipped, 6);
    assert_eq!(env.count(region::BRAIN_REGION), 1);
    // imported tables, unknown tables and unknown attributes are refused, naming them
    let bad = |text: &str| {
        prepopulate(
            &env.db,
            &YamlTables::parse(Path::new("entries.yaml"), text).unwrap(),
        )
        .unwrap_err()
        .to_string()
    };
    let e = bad("Session:\n- nwb_file_name: x_.nwb\n");
    assert!(
        e.contains("entries.yaml") && e.contains("Session") && e.contains("Imported"),
        "{e}"
    );
    let e = bad("Sesion:\n- nwb_file_name: x_.nwb\n");
    assert!(e.contains("`Sesion` is not a Spyglass common table"), "{e}");
    let e = bad("Lab:\n- lab_nam: x\n");
    assert!(
        e.contains("`lab_nam` is not an attribute of common_lab.Lab"),
        "{e}"
    );
    let e = YamlTables::parse(Path::new("entries.yaml"), "Lab: [unclosed")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("entries.yaml") && e.contains("not valid YAML"),
        "{e}"
    );
}

const CONFIG: &str = "
Lab:
- lab_name: Frank Lab
ProbeType:
- probe_type: tetrode_12.5
  probe_description: a four-channel tetrode
  manufacturer: Neuralynx
  num_shanks: 1
Probe:
- probe_id: tetrode_12.5
  probe_type: tetrode_12.5
  contact_side_numbering: False
Probe.Electrode:
- probe_id: tetrode_12.5
  probe_shank: 0
  probe_electrode: 2
  rel_x: 40.0
  rel_y: 50.0
ElectrodeGroup:
- electrode_group_name: '1'
  target_hemisphere: Unknown
Electrode:
- electrode_id: 0
  probe_shank: 0
  probe_electrode: 3
  bad_channel: 'True'
- electrode_id: 1
  probe_id: no_such_probe
  probe_shank: 0
  probe_electrode: 0
DataAcquisitionDevice:
- data_acquisition_device_name: SpikeGadgets_Intan
";

#[test]
fn config_yaml_overrides_a_probe_and_the_electrode_map() {
    let env = Env::new();
    std::fs::write(env.settings.entries_yaml(), ENTRIES).unwrap();
    let src = env.staging().join("cfg20230622.nwb");
    pynwb_file(&src, "appendix");
    std::fs::write(
        env.staging().join("cfg20230622_spyglass_config.yaml"),
        CONFIG,
    )
    .unwrap();
    let r = &env.insert(&[src])[0];
    assert_eq!(r.status, FileStatus::Inserted, "{r:?}");
    let nwb = "cfg20230622_.nwb";
    // the config travelled with the raw file
    assert!(env
        .settings
        .raw_dir
        .join("cfg20230622_spyglass_config.yaml")
        .is_file());
    assert_eq!(s(&env.rows(sess::SESSION, nwb)[0], "lab_name"), "Frank Lab");
    assert_eq!(
        env.all(lab::LAB)
            .iter()
            .map(|l| s(l, "lab_name"))
            .collect::<Vec<_>>(),
        ["Frank Lab"]
    );
    let pt = &env.all(dev::PROBE_TYPE)[0];
    assert_eq!(
        (s(pt, "probe_description"), s(pt, "manufacturer")),
        ("a four-channel tetrode".into(), "Neuralynx".into())
    );
    assert_eq!(
        s(&env.all(dev::PROBE)[0], "contact_side_numbering"),
        "False"
    );
    let pe = env.all(dev::PROBE_ELECTRODE);
    assert_eq!(
        (f(&pe[2], "rel_x"), f(&pe[2], "rel_y"), f(&pe[2], "rel_z")),
        (40.0, 50.0, 0.5)
    );
    assert_eq!((f(&pe[1], "rel_x"), f(&pe[1], "rel_y")), (1.0, 2.0));
    let groups = env.rows(ephys::ELECTRODE_GROUP, nwb);
    assert_eq!(
        (
            s(&groups[0], "target_hemisphere"),
            s(&groups[1], "target_hemisphere")
        ),
        ("Right".into(), "Unknown".into())
    );
    let els = env.rows(ephys::ELECTRODE, nwb);
    let e0 = els.iter().find(|e| i(e, "electrode_id") == 0).unwrap();
    assert_eq!(
        (i(e0, "probe_electrode"), s(e0, "bad_channel")),
        (3, "True".into())
    );
    let e1 = els.iter().find(|e| i(e, "electrode_id") == 1).unwrap();
    assert_eq!(
        (s(e1, "probe_id"), i(e1, "probe_electrode")),
        ("tetrode_12.5".into(), 1)
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("config Electrode 1") && w.contains("ignored")),
        "{:?}",
        r.warnings
    );
    let mut daqs: Vec<String> = env
        .rows(sess::SESSION_DAQ, nwb)
        .iter()
        .map(|d| s(d, "data_acquisition_device_name"))
        .collect();
    daqs.sort();
    assert_eq!(daqs, ["SpikeGadgets_Intan", "dataacq_device0"]);
}

#[test]
fn a_file_without_optional_parts_ingests_what_it_can_with_warnings() {
    let env = Env::new();
    let src = env.staging().join("minimal20230622.nwb");
    let fx = pynwb_file(&src, "minimal");
    // tasks come from the config instead of a tasks module
    std::fs::write(
        env.staging().join("minimal20230622_spyglass_config.yaml"),
        "Tasks:\n- task_name: sleep\n  task_description: sleeping\n  task_environment: box\n  task_epochs: [1, 2]\n",
    )
    .unwrap();
    let r = &env.insert(&[src])[0];
    assert_eq!(r.status, FileStatus::Inserted, "{r:?}");
    let nwb = "minimal20230622_.nwb";
    let se = &env.rows(sess::SESSION, nwb)[0];
    assert_eq!(s(se, "subject_id"), "<null>");
    let groups = env.rows(ephys::ELECTRODE_GROUP, nwb);
    assert_eq!(groups.len(), 2);
    assert!(groups.iter().all(|g| s(g, "probe_id") == "<null>"));
    let els = env.rows(ephys::ELECTRODE, nwb);
    assert_eq!(els.len(), 8);
    for e in &els {
        let k = i(e, "electrode_id") as usize;
        let want = &fx["electrodes"][k];
        assert_eq!(
            (f(e, "x"), f(e, "impedance")),
            (want["x"].as_f64().unwrap(), want["imp"].as_f64().unwrap())
        );
        assert_eq!(
            (
                s(e, "probe_id"),
                s(e, "probe_electrode"),
                s(e, "bad_channel"),
                i(e, "original_reference_electrode")
            ),
            ("<null>".into(), "<null>".into(), "False".into(), -1)
        );
    }
    assert_eq!(env.rows(ephys::RAW, nwb).len(), 1);
    assert_eq!(env.rows(iv::INTERVAL_LIST, nwb).len(), 3);
    assert_eq!(env.rows(behav::POSITION_SOURCE, nwb).len(), 0);
    assert_eq!(env.count(dev::PROBE), 0);
    let te = env.rows(task::TASK_EPOCH, nwb);
    assert_eq!(
        te.iter()
            .map(|t| (i(t, "epoch"), s(t, "interval_list_name")))
            .collect::<Vec<_>>(),
        [(1, "01_s1".to_string()), (2, "02_r1".to_string())]
    );
    assert_eq!(s(&env.all(task::TASK)[0], "task_description"), "sleeping");
    let w = r.warnings.join("\n");
    for needle in [
        "no Position object",
        "no probe metadata",
        "probe_id is NULL",
        "no subject",
    ] {
        assert!(w.contains(needle), "missing warning `{needle}` in:\n{w}");
    }
    assert_eq!(env.count(usage::INSERT_ERROR), 0);
}

fn assert_nothing_inserted(env: &Env) {
    for (table, n) in all_counts(env) {
        let allowed = if table == usage::INSERT_ERROR { n } else { 0 };
        assert_eq!(n, allowed, "{table} should be empty");
    }
}

#[test]
fn files_missing_required_parts_are_refused_cleanly() {
    let env = Env::new();
    let stage = env.staging();
    // 1. no /session_description
    let a = stage.join("nodesc20230622.nwb");
    pynwb_file(&a, "no_description");
    // 2. an electrode names a probe electrode the probe lacks: fails late, in G3
    let b = stage.join("badprobe20230622.nwb");
    pynwb_file(&b, "bad_probe_electrode");
    // 3. not an NWB file
    let c = stage.join("junk20230622.nwb");
    std::fs::write(&c, b"this is not HDF5").unwrap();
    // 4. a config naming an unknown table
    let d = stage.join("badcfg20230622.nwb");
    std::fs::copy(&b, &d).unwrap();
    std::fs::write(
        stage.join("badcfg20230622_spyglass_config.yaml"),
        "Probes:\n- probe_id: x\n",
    )
    .unwrap();
    let reports = env.insert(&[a, b, c, d]);
    let msg = |k: usize| match &reports[k].status {
        FileStatus::Failed { message, .. } => message.clone(),
        other => panic!("file {k} was not refused: {other:?}"),
    };
    assert!(msg(0).contains("session_description"), "{}", msg(0));
    assert!(
        msg(1).contains("common_ephys.Electrode") && msg(1).contains("probe"),
        "{}",
        msg(1)
    );
    assert!(
        matches!(&reports[1].status, FileStatus::Failed { table: Some(t), .. } if t == ephys::ELECTRODE)
    );
    assert!(msg(2).contains("junk20230622.nwb"), "{}", msg(2));
    assert!(
        msg(3).contains("badcfg20230622_spyglass_config.yaml") && msg(3).contains("`Probes`"),
        "{}",
        msg(3)
    );
    assert_nothing_inserted(&env);
    // one InsertError per file, naming file, table and error
    let errs = env.all(usage::INSERT_ERROR);
    assert_eq!(
        errs.len(),
        4,
        "{:?}",
        reports.iter().map(|r| &r.warnings).collect::<Vec<_>>()
    );
    let e1 = errs
        .iter()
        .find(|e| s(e, "nwb_file_name") == "badprobe20230622_.nwb")
        .unwrap();
    assert_eq!(s(e1, "table"), ephys::ELECTRODE);
    assert!(
        s(e1, "error_message").contains("foreign key"),
        "{}",
        s(e1, "error_message")
    );
    // the files this call placed were removed again (the config of file 4 too)
    let left: Vec<String> = std::fs::read_dir(&env.settings.raw_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // and the database still takes a good file
    let good = stage.join("good20230622.nwb");
    pynwb_file(&good, "appendix");
    assert_eq!(env.insert(&[good])[0].status, FileStatus::Inserted);
    assert_eq!(env.count(sess::SESSION), 1);
}

#[test]
fn divergent_shared_rows_are_refused_unless_accepted() {
    let env = Env::new();
    // an existing probe type with another description
    env.db
        .insert1(
            dev::PROBE_TYPE,
            spyglass_db::Row::from_pairs([
                ("probe_type", spyglass_db::Value::from("tetrode_12.5")),
                ("probe_description", "an older description".into()),
                ("num_shanks", 1.into()),
            ]),
            Default::default(),
        )
        .unwrap();
    let src = env.staging().join("div20230622.nwb");
    pynwb_file(&src, "appendix");
    let r = &env.insert(std::slice::from_ref(&src))[0];
    match &r.status {
        FileStatus::Failed { table, message } => {
            assert_eq!(table.as_deref(), Some(dev::PROBE_TYPE));
            assert!(
                message.contains("probe_description") && message.contains("an older description"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(env.count(sess::SESSION), 0);
    let r = &env.insert_with(
        &[src],
        spyglass::ingest::IngestOptions {
            accept_divergence: true,
            ..Default::default()
        },
    )[0];
    assert_eq!(r.status, FileStatus::Inserted, "{r:?}");
    assert_eq!(
        s(&env.all(dev::PROBE_TYPE)[0], "probe_description"),
        "an older description"
    );
    assert!(r
        .warnings
        .iter()
        .any(|w| w.contains("kept the database's `probe_description`")));
}
