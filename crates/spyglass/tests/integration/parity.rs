//! Parity with Spyglass: a file laid out the way Spyglass expects (built by pynwb
//! with ndx-franklab-novela, 2 groups × 4 channels, 2 epochs, position) ingests
//! into exactly the rows the Appendix of spyglass-model.md lists for real Spyglass
//! 0.6.0 — the counts, and the values, which come from the fixture's JSON report.

use crate::common;

use common::*;
use spyglass::common::{
    common_behav as behav, common_device as dev, common_ephys as ephys, common_interval as iv,
    common_lab as lab, common_nwbfile as nwbf, common_region as region, common_session as sess,
    common_subject as subj, common_task as task,
};
use spyglass::ingest::FileStatus;
use spyglass_db::Value;

#[test]
fn appendix_file_makes_the_rows_spyglass_makes() {
    let env = Env::new();
    let src = env.staging().join("parity20230622.nwb");
    let fx = pynwb_file(&src, "appendix");
    let reports = env.insert(&[src]);
    assert_eq!(reports[0].status, FileStatus::Inserted, "{:?}", reports[0]);
    let nwb = "parity20230622_.nwb";

    // the Appendix's counts, table by table; every other common table stays empty
    let want: &[(&str, u64)] = &[
        (nwbf::NWBFILE, 1),
        (sess::SESSION, 1),
        (sess::SESSION_EXPERIMENTER, 1),
        (sess::SESSION_DAQ, 1),
        (subj::SUBJECT, 1),
        (lab::INSTITUTION, 1),
        (lab::LAB, 1),
        (lab::LAB_MEMBER, 1),
        (lab::LAB_TEAM, 1),
        (lab::LAB_TEAM_MEMBER, 1),
        (dev::DAQ_DEVICE, 1),
        (dev::DAQ_SYSTEM, 1),
        (dev::DAQ_AMPLIFIER, 1),
        (dev::CAMERA_DEVICE, 1),
        (dev::PROBE_TYPE, 1),
        (dev::PROBE, 1),
        (dev::PROBE_SHANK, 1),
        (dev::PROBE_ELECTRODE, 4),
        (region::BRAIN_REGION, 2),
        (ephys::ELECTRODE_GROUP, 2),
        (ephys::ELECTRODE, 8),
        (ephys::RAW, 1),
        (iv::INTERVAL_LIST, 5),
        (task::TASK, 2),
        (task::TASK_EPOCH, 2),
        (behav::POSITION_SOURCE, 2),
        (behav::POSITION_SOURCE_SPATIAL_SERIES, 2),
        (behav::RAW_POSITION, 2),
        (behav::RAW_POSITION_POS_OBJECT, 2),
        (behav::POSITION_INTERVAL_MAP, 2),
    ];
    for (table, n) in all_counts(&env) {
        let expected = want
            .iter()
            .find(|(t, _)| *t == table)
            .map_or(0, |(_, n)| *n);
        assert_eq!(n, expected, "{table}");
    }

    // the same IntervalList names, with values derived by hand from the fixture
    let lists = env.rows(iv::INTERVAL_LIST, nwb);
    let names: Vec<String> = lists.iter().map(|r| s(r, "interval_list_name")).collect();
    assert_eq!(
        names,
        [
            "01_s1",
            "02_r1",
            "pos 0 valid times",
            "pos 1 valid times",
            "raw data valid times"
        ]
    );
    let get = |n: &str| {
        lists
            .iter()
            .find(|r| s(r, "interval_list_name") == n)
            .unwrap()
    };
    assert_times(&times(get("01_s1")), &[[10.0, 11.0]], 0.0);
    assert_times(&times(get("02_r1")), &[[11.5, 12.5]], 0.0);
    let num = |k: &str| fx[k].as_f64().unwrap();
    assert_times(
        &times(get("raw data valid times")),
        &[
            [num("ts_first") - 1e-7, num("ts_before_gap") + 1e-7],
            [num("ts_after_gap") - 1e-7, num("ts_last") + 1e-7],
        ],
        1e-12,
    );
    for (e, p) in fx["position"].as_array().unwrap().iter().enumerate() {
        let row = get(&format!("pos {e} valid times"));
        let (a, b) = (p["first"].as_f64().unwrap(), p["last"].as_f64().unwrap());
        assert_times(&times(row), &[[a - 1e-7, b + 1e-7]], 1e-12);
        assert_eq!(s(row, "pipeline"), "position");
    }
    assert_eq!(s(get("01_s1"), "pipeline"), "");

    // probe and electrode rows
    let p = &env.all(dev::PROBE)[0];
    assert_eq!(
        (
            s(p, "probe_id"),
            s(p, "probe_type"),
            s(p, "contact_side_numbering")
        ),
        ("tetrode_12.5".into(), "tetrode_12.5".into(), "True".into())
    );
    assert_eq!(s(p, "data_acquisition_device_name"), "<null>");
    let pt = &env.all(dev::PROBE_TYPE)[0];
    assert_eq!(
        (s(pt, "probe_description"), i(pt, "num_shanks")),
        ("tetrode".into(), 1)
    );
    for (k, e) in env.all(dev::PROBE_ELECTRODE).iter().enumerate() {
        assert_eq!(
            (
                s(e, "probe_id"),
                i(e, "probe_shank"),
                i(e, "probe_electrode")
            ),
            ("tetrode_12.5".into(), 0, k as i64)
        );
        assert_eq!(
            (
                f(e, "rel_x"),
                f(e, "rel_y"),
                f(e, "rel_z"),
                f(e, "contact_size")
            ),
            (k as f64, 2.0 * k as f64, 0.5, 12.5)
        );
    }
    let regions: Vec<(i64, String)> = env
        .all(region::BRAIN_REGION)
        .iter()
        .map(|r| (i(r, "region_id"), s(r, "region_name")))
        .collect();
    let region_of = |id: i64| regions.iter().find(|(r, _)| *r == id).unwrap().1.clone();
    let groups = env.rows(ephys::ELECTRODE_GROUP, nwb);
    for (g, (loc, hemi)) in [("CA1", "Right"), ("CA3", "Left")].iter().enumerate() {
        let r = &groups[g];
        assert_eq!(s(r, "electrode_group_name"), g.to_string());
        assert_eq!(s(r, "description"), format!("group {g}"));
        assert_eq!(
            (
                region_of(i(r, "region_id")),
                s(r, "target_hemisphere"),
                s(r, "probe_id")
            ),
            (loc.to_string(), hemi.to_string(), "tetrode_12.5".into())
        );
    }
    let els = env.rows(ephys::ELECTRODE, nwb);
    for (k, want) in fx["electrodes"].as_array().unwrap().iter().enumerate() {
        let e = els
            .iter()
            .find(|e| i(e, "electrode_id") == k as i64)
            .unwrap();
        assert_eq!(s(e, "name"), k.to_string());
        assert_eq!(
            s(e, "electrode_group_name"),
            want["group"].as_str().unwrap()
        );
        assert_eq!(
            region_of(i(e, "region_id")),
            want["location"].as_str().unwrap()
        );
        for (col, key) in [("x", "x"), ("y", "y"), ("z", "z"), ("impedance", "imp")] {
            assert_eq!(
                f(e, col),
                want[key].as_f64().unwrap(),
                "{col} of electrode {k}"
            );
        }
        assert_eq!(s(e, "filtering"), want["filtering"].as_str().unwrap());
        assert_eq!(i(e, "probe_shank"), want["probe_shank"].as_i64().unwrap());
        assert_eq!(
            i(e, "probe_electrode"),
            want["probe_electrode"].as_i64().unwrap()
        );
        assert_eq!(
            i(e, "original_reference_electrode"),
            want["ref_elect_id"].as_i64().unwrap()
        );
        let bad = if want["bad_channel"].as_bool().unwrap() {
            "True"
        } else {
            "False"
        };
        assert_eq!(s(e, "bad_channel"), bad);
        assert_eq!(
            (s(e, "probe_id"), s(e, "contacts")),
            ("tetrode_12.5".into(), "".into())
        );
        assert_eq!(
            (f(e, "x_warped"), f(e, "y_warped"), f(e, "z_warped")),
            (0.0, 0.0, 0.0)
        );
    }

    // session, people, devices
    let se = &env.rows(sess::SESSION, nwb)[0];
    for (col, v) in [
        ("subject_id", "rat7"),
        ("institution_name", "UCSF"),
        ("lab_name", "Loren Frank"),
        ("session_id", "parity_s1"),
        ("session_description", "parity fixture"),
        ("experiment_description", "spyglass parity"),
        ("session_start_time", "2023-06-22 09:30:00"),
        ("timestamps_reference_time", "2023-06-22 09:30:00"),
    ] {
        assert_eq!(s(se, col), v, "{col}");
    }
    let sub = &env.all(subj::SUBJECT)[0];
    assert_eq!(
        (
            s(sub, "sex"),
            s(sub, "age"),
            s(sub, "description"),
            s(sub, "genotype")
        ),
        ("F".into(), "P120D".into(), "a rat".into(), "wt".into())
    );
    let team = &env.all(lab::LAB_TEAM)[0];
    assert_eq!(
        (s(team, "team_name"), s(team, "team_description")),
        ("Jane Doe".into(), "personal team".into())
    );
    assert_eq!(
        s(
            &env.rows(sess::SESSION_EXPERIMENTER, nwb)[0],
            "lab_member_name"
        ),
        "Jane Doe"
    );
    assert_eq!(
        s(
            &env.rows(sess::SESSION_DAQ, nwb)[0],
            "data_acquisition_device_name"
        ),
        "dataacq_device0"
    );
    let cam = &env.all(dev::CAMERA_DEVICE)[0];
    assert_eq!(
        (
            s(cam, "camera_name"),
            s(cam, "lens"),
            s(cam, "manufacturer"),
            s(cam, "model"),
            i(cam, "camera_id")
        ),
        (
            "cam_a".into(),
            "lens_a".into(),
            "Allied".into(),
            "M1".into(),
            0
        )
    );
    assert!((f(cam, "meters_per_pixel") - 0.002).abs() < 1e-9);

    // raw
    let raw = &env.rows(ephys::RAW, nwb)[0];
    assert_eq!(
        s(raw, "raw_object_id"),
        fx["raw_object_id"].as_str().unwrap()
    );
    assert_eq!(
        (
            f(raw, "sampling_rate"),
            s(raw, "comments"),
            s(raw, "description")
        ),
        (30000.0, "parity raw".into(), "raw recording".into())
    );
    assert_eq!(s(raw, "interval_list_name"), "raw data valid times");

    // tasks and epochs
    let tasks = env.all(task::TASK);
    assert_eq!(
        tasks
            .iter()
            .map(|t| (s(t, "task_name"), s(t, "task_description")))
            .collect::<Vec<_>>(),
        [
            ("lineartrack".to_string(), "lineartrack task".to_string()),
            ("sleep".into(), "sleep task".into())
        ]
    );
    let te = env.rows(task::TASK_EPOCH, nwb);
    for (k, (tname, env_name, interval)) in [
        ("sleep", "sleep box", "01_s1"),
        ("lineartrack", "linear track", "02_r1"),
    ]
    .iter()
    .enumerate()
    {
        let r = &te[k];
        assert_eq!(
            (
                i(r, "epoch"),
                s(r, "task_name"),
                s(r, "task_environment"),
                s(r, "interval_list_name")
            ),
            (
                k as i64 + 1,
                tname.to_string(),
                env_name.to_string(),
                interval.to_string()
            )
        );
        let cams = r.get("camera_names").and_then(Value::as_blob).unwrap();
        let list = cams.as_list().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(
            list[0].get("camera_name").and_then(|v| v.as_str()),
            Some("cam_a")
        );
        assert_eq!(s(r, "camera_name"), "<null>");
    }

    // position
    let ss = env.rows(behav::POSITION_SOURCE_SPATIAL_SERIES, nwb);
    let po = env.rows(behav::RAW_POSITION_POS_OBJECT, nwb);
    for (e, p) in fx["position"].as_array().unwrap().iter().enumerate() {
        let interval = format!("pos {e} valid times");
        let sr = ss
            .iter()
            .find(|r| s(r, "interval_list_name") == interval)
            .unwrap();
        assert_eq!(
            (i(sr, "id"), s(sr, "name")),
            (0, p["name"].as_str().unwrap().to_string())
        );
        let pr = po
            .iter()
            .find(|r| s(r, "interval_list_name") == interval)
            .unwrap();
        assert_eq!(
            s(pr, "raw_position_object_id"),
            p["object_id"].as_str().unwrap()
        );
    }
    for r in env.rows(behav::POSITION_SOURCE, nwb) {
        assert_eq!(
            (s(&r, "source"), s(&r, "import_file_name")),
            ("imported".into(), "".into())
        );
    }
    let map = env.rows(behav::POSITION_INTERVAL_MAP, nwb);
    let pairs: Vec<(String, String)> = map
        .iter()
        .map(|r| (s(r, "interval_list_name"), s(r, "position_interval_name")))
        .collect();
    assert_eq!(
        pairs,
        [
            ("01_s1".to_string(), "pos 0 valid times".to_string()),
            ("02_r1".into(), "pos 1 valid times".into())
        ]
    );

    // stored table names line up with Spyglass's
    for (table, stored) in [
        (sess::SESSION, "_session"),
        (ephys::ELECTRODE, "_electrode"),
        (ephys::ELECTRODE_GROUP, "_electrode_group"),
        (ephys::RAW, "_raw"),
        (region::BRAIN_REGION, "#brain_region"),
        (iv::INTERVAL_LIST, "interval_list"),
        (nwbf::NWBFILE, "nwbfile"),
        (nwbf::ANALYSIS_NWBFILE, "analysis_nwbfile"),
        (sess::SESSION_EXPERIMENTER, "_session__experimenter"),
        (behav::POSITION_INTERVAL_MAP, "__position_interval_map"),
        (dev::PROBE_ELECTRODE, "probe__electrode"),
    ] {
        assert_eq!(
            env.db.table_info(table).unwrap().name.table,
            stored,
            "{table}"
        );
    }
}
