//! The ripple pipeline (ripple_v1) end to end on a pynwb-written session (2 × 5 s
//! of raw data, tracked LEDs): raw →
//! LFPV1 → LFPBandV1 (Spyglass's `Ripple 150-250 Hz` filter, two valid pieces) and
//! raw LEDs → TrodesPosV1 → PositionOutput, then RippleLFPSelection (three of the
//! four electrodes), RippleParameters (Spyglass's defaults and two more) and
//! RippleTimesV1 populated through the registry. The oracle, in Spyglass's
//! environment, reads the same band and position files with pynwb, restricts and
//! joins them as Spyglass's `get_ripple_lfps_and_position_info` does (its own
//! `interpolate_to_new_time` and `get_electrode_indices`, compiled from the
//! installed Spyglass) and runs ripple_detection's detector; the events must equal
//! ours as read back by pynwb from our analysis file (same count and ids,
//! boundaries to 1e-12 s, statistics to 1e-9 relative). The parameter blobs are
//! compared byte for byte with datajoint's `blob.pack` of Spyglass's dicts.

use crate::common::*;
use spyglass::common::common_interval::RAW_VALID_TIMES;
use spyglass::lfp::{band_v1, lfp_electrode, v1};
use spyglass::position::{merge, trodes_v1};
use spyglass::ripple::v1 as ripple;
use spyglass_db::{Cond, Value};

const ORACLE: &str = r#"
import json, sys
import pynwb
from ripple_detection import Kay_ripple_detector, Karlsson_ripple_detector
args = json.load(open(sys.argv[1]))
ns = position_namespace()
load_methods("common/common_position.py", "IntervalPositionInfo", ["_data_to_df"], ns, _Messages)
load_defs("ripple/v1/ripple.py", ["interpolate_to_new_time"], ns)
ns["pynwb"] = pynwb
load_defs("utils/nwb_helper_fn.py", ["get_electrode_indices"], ns)
# RippleParameters.insert_default's dicts, packed as datajoint packs them
defaults = {
    "default": {"speed_name": "head_speed", "ripple_detection_algorithm": "Kay_ripple_detector",
                "ripple_detection_params": dict(speed_threshold=4.0, minimum_duration=0.015, zscore_threshold=2.0,
                                                smoothing_sigma=0.004, close_ripple_threshold=0.0)},
    "default_trodes": {"speed_name": "speed", "ripple_detection_algorithm": "Kay_ripple_detector",
                       "ripple_detection_params": dict(speed_threshold=4.0, minimum_duration=0.015,
                                                       zscore_threshold=2.0, smoothing_sigma=0.004,
                                                       close_ripple_threshold=0.0)},
}
out = {"blobs": {k: ns["dj"].blob.pack(v).hex() for k, v in defaults.items()}, "cases": []}
algorithms = {"Kay_ripple_detector": Kay_ripple_detector, "Karlsson_ripple_detector": Karlsson_ripple_detector}
cols = ["start_time", "end_time", "duration", "max_thresh", "mean_zscore", "median_zscore", "max_zscore",
        "min_zscore", "area", "total_energy", "speed_at_start", "speed_at_end", "max_speed", "min_speed",
        "median_speed", "mean_speed"]
for k, case in enumerate(args["cases"]):
    with pynwb.NWBHDF5IO(case["band_path"], "r", load_namespaces=True) as io:
        band = io.read().objects[case["band_id"]]
        ripple_lfp_electrodes = band.electrodes.data[:]
        elec_mask = np.zeros_like(ripple_lfp_electrodes, dtype=bool)
        valid_elecs = [e for e in case["electrodes"] if e in ripple_lfp_electrodes]
        elec_mask[ns["get_electrode_indices"](band, valid_elecs)] = True
        ripple_lfp = pd.DataFrame(band.data[:], index=pd.Index(band.timestamps[:], name="time")).loc[:, elec_mask]
    with pynwb.NWBHDF5IO(case["pos_path"], "r", load_namespaces=True) as io:
        nwbf = io.read()
        pos, ori, vel = (nwbf.objects[i] for i in case["pos_ids"])
        position_info = ns["IntervalPositionInfo"]._data_to_df(
            {"position": pos, "orientation": ori, "velocity": vel}, prefix="", add_frame_ind=True)
    # IntervalList(target).intersect([first, last position time]) (Interval._set_intersect)
    p0, p1 = position_info.index[0], position_info.index[-1]
    valid = [[max(a, p0), min(b, p1)] for a, b in case["target"] if min(b, p1) > max(a, p0)]
    position_info = pd.concat([position_info.loc[slice(a, b)] for a, b in valid], axis=0)
    lfps = pd.concat([ripple_lfp.loc[slice(a, b)] for a, b in valid], axis=0)
    position_info = ns["interpolate_to_new_time"](position_info, lfps.index)
    speed = position_info[case["speed_name"]]
    # Spyglass passes the stored values as they are; as float64 (see ripple/v1.rs: an
    # int16 band makes Spyglass's Kay consensus int16)
    events = algorithms[case["algorithm"]](
        time=np.asarray(lfps.index), filtered_lfps=np.asarray(lfps, dtype=np.float64), speed=np.asarray(speed),
        sampling_frequency=case["rate"], **case["params"])
    with pynwb.NWBHDF5IO(case["ours_path"], "r", load_namespaces=True) as io:
        nwbf = io.read()
        table = nwbf.objects[case["ours_id"]]
        in_scratch = table.name in nwbf.scratch and table.name == "pandas_table"
        ours = table.to_dataframe()
    write_f64(case["dir"] + "/oracle", events[cols].to_numpy(dtype=np.float64))
    write_f64(case["dir"] + "/ours", ours[cols].to_numpy(dtype=np.float64))
    out["cases"].append(dict(n=len(events), n_ours=len(ours), in_scratch=bool(in_scratch),
                             ids_equal=list(ours.index) == list(events.index),
                             n_samples=len(lfps), n_channels=lfps.shape[1], pieces=len(valid)))
print(json.dumps(out))
"#;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn read_f64(path: &std::path::Path) -> Vec<f64> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

#[test]
fn ripple_times_v1_equals_spyglass_and_ripple_detection() {
    let env = Env::new();
    let src = env.staging().join("ripple20230622.nwb");
    pynwb_file(&src, "leds_long");
    let r = &env.insert(&[src])[0];
    assert!(r.is_ok(), "{:?}", r.status);
    let nwb = r.nwb_file_name.clone();
    spyglass::defaults::insert_defaults(&env.db, &[]).unwrap();
    spyglass::filter::insert_band_filters(&env.db).unwrap();
    let pop = |table: &str| {
        let rep = spyglass::populate(&env.db, &env.settings, table, Cond::Bool(true)).unwrap();
        assert!(rep.success_count > 0, "{table}: {:?}", rep.error_list);
    };
    // LFP (30 kHz raw -> 1 kHz) and its ripple band over both raw pieces
    lfp_electrode::create_group(&env.db, &nwb, "ca1", &[0, 1, 2, 3]).unwrap();
    let lfp_key = select_lfp(&env, &nwb, "ca1", RAW_VALID_TIMES, 30000);
    pop(v1::LFPV1);
    let band = band_v1::BandKey {
        lfp_merge_id: spyglass_db::merge::merge_id(&lfp_key, "LFPV1"),
        filter_name: "Ripple 150-250 Hz".to_string(),
        filter_sampling_rate: 1000,
        nwb_file_name: nwb.clone(),
        target_interval_list_name: RAW_VALID_TIMES.to_string(),
        lfp_band_sampling_rate: 1000,
    };
    let electrodes: Vec<band_v1::BandElectrode> = (0..4)
        .map(|e| band_v1::BandElectrode {
            electrode_id: e,
            reference_elect_id: -1,
        })
        .collect();
    let selection = band_v1::BandSelection {
        key: band.clone(),
        min_interval_len: 0.5,
    };
    band_v1::insert_selection(&env.db, &selection, "ca1", &electrodes).unwrap();
    pop(band_v1::LFP_BAND_V1);
    // position of epoch 0 (two LEDs)
    trodes_v1::select(&env.db, &nwb, None, trodes_v1::DEFAULT_PARAMS_NAME).unwrap();
    pop(trodes_v1::TRODES_POS_V1);
    let pos_key = trodes_v1::TrodesPosKey {
        nwb_file_name: nwb.clone(),
        interval_list_name: "pos 0 valid times".to_string(),
        trodes_pos_params_name: trodes_v1::DEFAULT_PARAMS_NAME.to_string(),
    };
    let pos_merge_id = spyglass_db::merge::merge_id(
        &spyglass::kit::row_of("k", &pos_key).unwrap(),
        "TrodesPosV1",
    );

    // selection: an electrode outside the band is refused
    assert!(ripple::set_lfp_electrodes(&env.db, &band, Some(&[0, 9]), "CA1").is_err());
    let sel = ripple::set_lfp_electrodes(&env.db, &band, Some(&[0, 2, 3]), "CA1").unwrap();
    // parameters: Spyglass's two defaults (inserted by `defaults`), and two more
    let keep_all = serde_json::json!({"speed_name": "speed", "ripple_detection_algorithm": "Kay_ripple_detector",
        "ripple_detection_params": {"speed_threshold": 1e6, "minimum_duration": 0.01, "zscore_threshold": 1.5,
        "smoothing_sigma": 0.004, "close_ripple_threshold": 0.0}});
    let karlsson = serde_json::json!({"speed_name": "speed", "ripple_detection_algorithm": "Karlsson_ripple_detector",
        "ripple_detection_params": {"speed_threshold": 1e6, "minimum_duration": 0.015, "zscore_threshold": 1.5,
        "smoothing_sigma": 0.004, "close_ripple_threshold": 0.0}});
    assert!(ripple::PARAMETERS
        .insert(&env.db, "keep_all", &keep_all)
        .unwrap());
    assert!(ripple::PARAMETERS
        .insert(&env.db, "karlsson", &karlsson)
        .unwrap());
    let restrict = |name: &str| {
        Cond::Map(vec![
            ("pos_merge_id".into(), Value::Uuid(pos_merge_id)),
            ("ripple_param_name".into(), Value::from(name)),
        ])
    };
    // `default` names head_speed, which TrodesPosV1 has not (Spyglass: KeyError)
    let err = spyglass::populate(
        &env.db,
        &env.settings,
        ripple::RIPPLE_TIMES_V1,
        restrict("default"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("head_speed"), "{err}");
    for name in ["default_trodes", "keep_all", "karlsson"] {
        let rep = spyglass::populate(
            &env.db,
            &env.settings,
            ripple::RIPPLE_TIMES_V1,
            restrict(name),
        )
        .unwrap();
        assert_eq!(rep.success_count, 1, "{name}: {:?}", rep.error_list);
    }

    let rows: Vec<ripple::RippleTimesRow> = {
        use spyglass::kit::Tables;
        env.db.rows(ripple::RIPPLE_TIMES_V1, &sel).unwrap()
    };
    assert_eq!(rows.len(), 3);
    let band_row: band_v1::BandRow = {
        use spyglass::kit::Tables;
        env.db.row(band_v1::LFP_BAND_V1, &band).unwrap()
    };
    let (_, pos_row) = merge::position_source(&env.db, &pos_merge_id).unwrap();
    let text = |k: &str| pos_row.get(k).and_then(Value::as_str).unwrap().to_string();
    let target = spyglass::common::common_interval::fetch_list(&env.db, &nwb, RAW_VALID_TIMES)
        .unwrap()
        .valid_times;
    let dir = spyglass_testkit::scratch_dir();
    let mut cases = vec![];
    for (k, row) in rows.iter().enumerate() {
        let dict = match row.key.ripple_param_name.as_str() {
            "keep_all" => keep_all.clone(),
            "karlsson" => karlsson.clone(),
            _ => serde_json::from_str(ripple::DEFAULTS[1].1).unwrap(),
        };
        let case_dir = dir.path().join(k.to_string());
        std::fs::create_dir_all(&case_dir).unwrap();
        cases.push(serde_json::json!({
            "band_path": spyglass::analysis::analysis_file_path(&env.db, &band_row.analysis_file_name).unwrap(),
            "band_id": band_row.lfp_band_object_id,
            "electrodes": [0, 2, 3],
            "pos_path": spyglass::analysis::analysis_file_path(&env.db, &text("analysis_file_name")).unwrap(),
            "pos_ids": [text("position_object_id"), text("orientation_object_id"), text("velocity_object_id")],
            "target": target,
            "speed_name": dict["speed_name"],
            "algorithm": dict["ripple_detection_algorithm"],
            "params": dict["ripple_detection_params"],
            "rate": 1000.0,
            "ours_path": spyglass::analysis::analysis_file_path(&env.db, &row.analysis_file_name).unwrap(),
            "ours_id": row.ripple_times_object_id,
            "dir": case_dir,
        }));
    }
    let input = dir.path().join("args.json");
    std::fs::write(&input, serde_json::json!({ "cases": cases }).to_string()).unwrap();
    let code = format!(
        "{}\n{ORACLE}",
        include_str!("../../../spyglass-position/tests/py/spyglass_src.py")
    );
    let out = spyglass_testkit::run_spyglass_python(&code, &[input.to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();

    // the default rows' blobs are datajoint's packing of Spyglass's dicts
    for (name, _) in ripple::DEFAULTS {
        let got = env
            .db
            .fetch1(
                &env.db
                    .table(ripple::RIPPLE_PARAMETERS)
                    .unwrap()
                    .restrict(Cond::Map(vec![(
                        "ripple_param_name".into(),
                        Value::from(name),
                    )]))
                    .unwrap(),
            )
            .unwrap();
        let bytes = match got.get("ripple_param_dict") {
            Some(Value::Blob(b)) => spyglass_blob::pack(b),
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(hex(&bytes), report["blobs"][name], "{name}");
    }

    let mut total = 0;
    for (k, (case, row)) in report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&rows)
        .enumerate()
    {
        let label = &row.key.ripple_param_name;
        assert_eq!(case["n"], case["n_ours"], "{label}: event counts");
        assert_eq!(case["in_scratch"], true, "{label}");
        assert_eq!(case["ids_equal"], true, "{label}");
        assert_eq!(case["pieces"], 2, "{label}");
        assert_eq!(case["n_channels"], 3, "{label}");
        let want = read_f64(&dir.path().join(k.to_string()).join("oracle"));
        let ours = read_f64(&dir.path().join(k.to_string()).join("ours"));
        assert_eq!(want.len(), ours.len(), "{label}");
        let mut worst = 0.0f64;
        for (j, (a, b)) in ours.iter().zip(&want).enumerate() {
            let (c, tol) = (j % 16, if j % 16 < 2 { 1e-12 } else { 1e-9 });
            let err = if c < 2 {
                (a - b).abs()
            } else {
                (a - b).abs() / b.abs().max(1.0)
            };
            assert!(
                err <= tol,
                "{label}: event {} column {c}: ours {a}, Spyglass {b}",
                j / 16
            );
            worst = worst.max(err);
        }
        total += case["n"].as_u64().unwrap();
        eprintln!(
            "{label}: {} events over {} samples equal; max error {worst:e}",
            case["n"], case["n_samples"]
        );
    }
    assert!(total > 0, "no events at all: the comparison would be empty");
}
