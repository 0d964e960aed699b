//! Ingestion of synthetic sessions written by spyglass-nwb's writer: every field
//! is checked against the writer's parameters and ground truth (not against what
//! the reader returns), plus re-insertion and gap-split valid times.

use crate::common;

use common::*;
use spyglass::common::{
    common_behav as behav, common_device as dev, common_ephys as ephys, common_interval as iv,
    common_lab as lab, common_nwbfile as nwbf, common_session as sess, common_subject as subj,
    common_task as task,
};
use spyglass::ingest::FileStatus;
use spyglass_nwb::synthetic::{write_session, SyntheticParams};

fn params() -> SyntheticParams {
    SyntheticParams {
        duration_s: 6.0,
        n_channels: 8,
        n_groups: 2,
        gap: Some((3.0, 0.5)),
        n_units: 2,
        ..SyntheticParams::default()
    }
}

#[test]
fn synthetic_session_ingests_with_values_from_the_writer() {
    let env = Env::new();
    let p = params();
    let src = env.staging().join("synth20230622.nwb");
    let gt = write_session(&src, &p).unwrap();
    let reports = env.insert(std::slice::from_ref(&src));
    let r = &reports[0];
    assert_eq!(r.status, FileStatus::Inserted, "{r:?}");
    let nwb = "synth20230622_.nwb";
    assert_eq!(r.nwb_file_name, nwb);

    // files: raw placed under raw/, the copy next to it, registered with its path
    let raw = env.settings.raw_dir.join("synth20230622.nwb");
    let copy = env.settings.raw_dir.join(nwb);
    assert!(raw.is_file() && copy.is_file());
    let path = spyglass::analysis::nwb_file_path(&env.db, nwb).unwrap();
    assert_eq!(path, spyglass::settings::absolute(&copy));
    assert_eq!(env.count(nwbf::NWBFILE), 1);

    // session metadata as the writer sets it
    let s0 = &env.rows(sess::SESSION, nwb)[0];
    assert_eq!(s(s0, "subject_id"), p.subject_id);
    assert_eq!(s(s0, "institution_name"), "Spyglass-rs Test Institute");
    assert_eq!(s(s0, "lab_name"), "Synthetic Lab");
    assert_eq!(s(s0, "session_id"), format!("{}_{}", p.subject_id, p.seed));
    assert_eq!(
        s(s0, "session_description"),
        "synthetic session with known ground truth"
    );
    assert_eq!(s(s0, "session_start_time"), "2023-06-22 09:00:00");
    let exp = env.rows(sess::SESSION_EXPERIMENTER, nwb);
    assert_eq!(exp.len(), 1);
    assert_eq!(s(&exp[0], "lab_member_name"), "Sam Synthetic");
    let m = &env.all(lab::LAB_MEMBER)[0];
    assert_eq!(
        (s(m, "first_name"), s(m, "last_name")),
        ("Sam".into(), "Synthetic".into())
    );
    let sub = &env.all(subj::SUBJECT)[0];
    assert_eq!(
        (s(sub, "sex"), s(sub, "species"), s(sub, "age")),
        ("M".into(), "Rattus norvegicus".into(), "P90D".into())
    );
    assert_eq!(s(sub, "genotype"), "wild type");

    // devices
    let daq = &env.all(dev::DAQ_DEVICE)[0];
    assert_eq!(s(daq, "data_acquisition_device_name"), "dataacq_device0");
    assert_eq!(s(daq, "data_acquisition_device_system"), "SpikeGadgets");
    assert_eq!(s(daq, "data_acquisition_device_amplifier"), "Intan");
    let cam = &env.all(dev::CAMERA_DEVICE)[0];
    assert_eq!(
        (s(cam, "camera_name"), i(cam, "camera_id"), s(cam, "lens")),
        ("overhead".into(), 0, "fisheye".into())
    );
    assert!((f(cam, "meters_per_pixel") - p.meters_per_pixel).abs() < 1e-9);
    let probe_type = format!("synthetic_{}shank_{}ch", p.n_groups, p.n_channels);
    let pt = &env.all(dev::PROBE_TYPE)[0];
    assert_eq!(
        (s(pt, "probe_type"), i(pt, "num_shanks")),
        (probe_type.clone(), 2)
    );
    let pe = env.all(dev::PROBE_ELECTRODE);
    assert_eq!(pe.len(), p.n_channels);
    for (k, e) in pe.iter().enumerate() {
        let (shank, within) = (k / 4, k % 4);
        assert_eq!(
            (i(e, "probe_shank"), i(e, "probe_electrode")),
            (shank as i64, k as i64)
        );
        assert_eq!(
            (f(e, "rel_x"), f(e, "rel_y"), f(e, "contact_size")),
            (250.0 * shank as f64, 20.0 * within as f64, 15.0)
        );
    }

    // electrode groups and electrodes
    let groups = env.rows(ephys::ELECTRODE_GROUP, nwb);
    assert_eq!(groups.len(), 2);
    assert_eq!(s(&groups[0], "target_hemisphere"), "Right");
    assert_eq!(s(&groups[1], "target_hemisphere"), "Left");
    assert_eq!(s(&groups[0], "probe_id"), probe_type);
    let els = env.rows(ephys::ELECTRODE, nwb);
    assert_eq!(els.len(), p.n_channels);
    for e in &els {
        let k = i(e, "electrode_id") as usize;
        assert_eq!(s(e, "electrode_group_name"), (k / 4).to_string());
        assert_eq!(
            (f(e, "x"), f(e, "y"), f(e, "z")),
            (250.0 * (k / 4) as f64, 20.0 * (k % 4) as f64, 0.0)
        );
        assert_eq!(
            (f(e, "impedance"), s(e, "filtering"), s(e, "bad_channel")),
            (1.0e6, "none".into(), "False".into())
        );
        assert_eq!(
            (
                i(e, "probe_shank"),
                i(e, "probe_electrode"),
                i(e, "original_reference_electrode")
            ),
            ((k / 4) as i64, k as i64, -1)
        );
    }

    // raw: object id, rate, valid times split at the gap
    let raw_row = &env.rows(ephys::RAW, nwb)[0];
    assert_eq!(s(raw_row, "raw_object_id"), gt.raw_object_id);
    assert_eq!(f(raw_row, "sampling_rate"), p.sampling_rate);
    let (g, _) = gt.gap.unwrap();
    let want = [
        [gt.time_of(0) - 1e-7, gt.time_of(g - 1) + 1e-7],
        [gt.time_of(g) - 1e-7, gt.time_of(gt.n_samples - 1) + 1e-7],
    ];
    let lists = env.rows(iv::INTERVAL_LIST, nwb);
    let rv = lists
        .iter()
        .find(|r| s(r, "interval_list_name") == "raw data valid times")
        .unwrap();
    assert_times(&times(rv), &want, 1e-12);

    // epochs, tasks, position
    for (tag, a, b) in &gt.epochs {
        let row = lists
            .iter()
            .find(|r| &s(r, "interval_list_name") == tag)
            .unwrap();
        assert_times(&times(row), &[[*a, *b]], 0.0);
    }
    let te = env.rows(task::TASK_EPOCH, nwb);
    assert_eq!(te.len(), 2);
    assert_eq!(
        (s(&te[0], "task_name"), s(&te[0], "interval_list_name")),
        ("sleep".into(), gt.epochs[0].0.clone())
    );
    assert_eq!(
        (s(&te[1], "task_name"), s(&te[1], "task_environment")),
        ("run".into(), "linear track".into())
    );
    // two LEDs per epoch share a start time: one position epoch with two series each
    let ss = env.rows(behav::POSITION_SOURCE_SPATIAL_SERIES, nwb);
    assert_eq!(ss.len(), 4);
    assert_eq!(s(&ss[0], "name"), "led_0_series_1");
    assert_eq!(s(&ss[1], "name"), "led_1_series_1");
    for (e, pos) in gt.position.iter().enumerate() {
        let name = format!("pos {e} valid times");
        let row = lists
            .iter()
            .find(|r| s(r, "interval_list_name") == name)
            .unwrap();
        let ts = &pos.timestamps;
        // span below int(30 Hz) = 30 s: half the span is the minimum, one piece
        assert_times(
            &times(row),
            &[[ts[0] - 1e-7, ts[ts.len() - 1] + 1e-7]],
            1e-12,
        );
        assert_eq!(s(row, "pipeline"), "position");
    }
    let map = env.rows(behav::POSITION_INTERVAL_MAP, nwb);
    assert_eq!(map.len(), 2);
    assert_eq!(s(&map[0], "position_interval_name"), "pos 0 valid times");
    assert_eq!(s(&map[1], "position_interval_name"), "pos 1 valid times");
    assert_eq!(env.rows(behav::RAW_POSITION_POS_OBJECT, nwb).len(), 4);
    // the StateScript file of the run epoch
    let sc = env.rows(behav::STATE_SCRIPT_FILE, nwb);
    assert_eq!(sc.len(), 1);
    assert_eq!(i(&sc[0], "epoch"), 2);

    // the same file again is a no-op with a message
    let again = env.insert(std::slice::from_ref(&src));
    assert_eq!(again[0].status, FileStatus::AlreadyPresent);
    assert_eq!(again[0].rows_inserted(), 0);
    assert!(again[0].warnings[0].contains("already registered"));
    assert_eq!(env.count(sess::SESSION), 1);

    // --reinsert deletes the session with everything downstream (a cautious delete:
    // the experimenter's own account may) and ingests it again
    env.db
        .insert1(
            lab::LAB_MEMBER_INFO,
            spyglass_db::Row::from_pairs([
                ("lab_member_name", spyglass_db::Value::from("Sam Synthetic")),
                ("google_user_name", spyglass_db::Value::from("sam@lab")),
                ("datajoint_user_name", spyglass_db::Value::from("sam")),
                ("admin", spyglass_db::Value::Bool(true)),
            ]),
            Default::default(),
        )
        .unwrap();
    let before = all_counts(&env);
    let again = env.insert_with(
        std::slice::from_ref(&src),
        spyglass::ingest::IngestOptions {
            reinsert: true,
            user: Some("sam".into()),
            ..Default::default()
        },
    );
    assert_eq!(again[0].status, FileStatus::Inserted, "{:?}", again[0]);
    let mut after = all_counts(&env);
    // the delete is logged
    let log = after
        .iter()
        .position(|(t, _)| t.contains("CautiousDelete"))
        .map(|i| after.remove(i));
    let mut before = before;
    before.retain(|(t, _)| !t.contains("CautiousDelete"));
    assert_eq!(after, before);
    assert_eq!(
        env.count(spyglass::common::common_usage::CAUTIOUS_DELETE),
        1,
        "{log:?}"
    );
}
