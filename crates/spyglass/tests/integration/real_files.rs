//! Real lab files, read right (issue 12): files written by neuroconv (from
//! SpikeInterface recordings) and by pynwb the way labs write them, with known
//! sines on known electrodes (tests/py/make_lab_file.py). After `insert` and LFPV1,
//! the LFP read back by pynwb through NWB's formula (tests/py/read_lfp.py, the
//! oracle) carries each injected amplitude within 1 % and mean within 2 µV on the
//! right electrode — per-channel gains, Intan offsets, 1-based and 101-based ids,
//! SpikeGLX series names, plugin-compressed data. Also: every series recorded,
//! LF streams and processing LFP as ImportedLFP, units as ImportedSpikeSorting,
//! unused objects reported, two sessions of one animal, a sex conflict refused
//! with nothing changed, two Position containers, an empty description, config
//! entries applied, undecodable filters and broken series refused at insert,
//! BrainRegion ids in Spyglass's order, CameraDevice from a DeviceModel, and the
//! streamed LFP equal to the in-memory computation to the bit.

use crate::common;

use common::*;
use serde_json::{json, Value as Json};
use spyglass::common::common_ephys as ephys;
use spyglass::common::ephys_series as es;
use spyglass::common::spikesorting_imported as ssi;
use spyglass::ingest::FileStatus;
use spyglass::lfp::{self, lfp_electrode, v1};
use spyglass_db::{Cond, Value};
use std::path::{Path, PathBuf};

/// Writes a fixture with tests/py/make_lab_file.py; returns its JSON report.
fn lab_file(out: &Path, variant: &str) -> Json {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/make_lab_file.py");
    let code = std::fs::read_to_string(&script).unwrap();
    let text = spyglass_testkit::run_python(&code, &[out.to_str().unwrap(), variant]);
    serde_json::from_str(text.lines().last().unwrap_or("{}")).expect("fixture JSON")
}

/// The pynwb oracle's view of an LFP series: per electrode id, the fitted amplitude and mean.
fn oracle(file: &Path, object_id: &str, truth: &[Json]) -> Json {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/read_lfp.py");
    let code = std::fs::read_to_string(&script).unwrap();
    let freqs: serde_json::Map<String, Json> = truth
        .iter()
        .map(|t| (t["id"].to_string(), t["freq"].clone()))
        .collect();
    let text = spyglass_testkit::run_python(
        &code,
        &[
            file.to_str().unwrap(),
            object_id,
            &Json::Object(freqs).to_string(),
        ],
    );
    serde_json::from_str(text.lines().last().unwrap_or("{}")).expect("oracle JSON")
}

/// Ingests `variant` as `<name>.nwb` and asserts it went in.
fn ingest(env: &Env, name: &str, variant: &str) -> (String, Json) {
    let src = env.staging().join(format!("{name}.nwb"));
    let fx = lab_file(&src, variant);
    let r = &env.insert(&[src])[0];
    assert_eq!(r.status, FileStatus::Inserted, "{variant}: {r:?}");
    (r.nwb_file_name.clone(), fx)
}

/// LFPV1 of `ids` over the raw data's valid times; returns the analysis file and object id.
fn lfp_of(env: &Env, nwb: &str, group: &str, ids: &[i64]) -> (PathBuf, String) {
    spyglass::defaults::insert_defaults(&env.db, &[]).unwrap();
    lfp::lfp_electrode::create_group(&env.db, nwb, group, ids).unwrap();
    let rate = lfp_electrode::raw_rate(&env.db, nwb, group).unwrap();
    let key = select_lfp(
        env,
        nwb,
        group,
        spyglass::common::common_interval::RAW_VALID_TIMES,
        rate,
    );
    let rep = spyglass::populate(&env.db, &env.settings, v1::LFPV1, Cond::from(&key)).unwrap();
    assert_eq!(rep.success_count, 1, "{rep:?}");
    let row = env
        .db
        .fetch1(
            &env.db
                .table(v1::LFPV1)
                .unwrap()
                .restrict(Cond::from(&key))
                .unwrap(),
        )
        .unwrap();
    let file =
        spyglass::analysis::analysis_file_path(&env.db, &s(&row, "analysis_file_name")).unwrap();
    (file, s(&row, "lfp_object_id"))
}

/// The oracle's fits equal the truth: amplitude within 1 %, mean within 2 µV, every id.
fn assert_volts(variant: &str, got: &Json, truth: &[Json]) {
    for t in truth {
        let id = t["id"].to_string();
        let fit = &got["fits"][&id];
        assert!(
            fit.is_object(),
            "{variant}: no channel for electrode {id} in {got}"
        );
        let (amp, mean) = (fit["amp"].as_f64().unwrap(), fit["mean"].as_f64().unwrap());
        let (want_amp, want_mean) = (t["amp"].as_f64().unwrap(), t["mean"].as_f64().unwrap());
        assert!(
            (amp - want_amp).abs() <= 0.01 * want_amp,
            "{variant}: electrode {id}: amplitude {amp:e} V, injected {want_amp:e} V"
        );
        assert!(
            (mean - want_mean).abs() <= 2e-6,
            "{variant}: electrode {id}: mean {mean:e} V, injected {want_mean:e} V"
        );
    }
}

/// Insert, LFPV1 on every electrode, oracle: the volts are right on the right electrodes.
fn volts_round_trip(variant: &str) -> Json {
    let env = Env::new();
    let name = format!("lab_{variant}");
    let (nwb, fx) = ingest(&env, &name, variant);
    let truth = fx["truth"].as_array().unwrap().clone();
    let ids: Vec<i64> = truth.iter().map(|t| t["id"].as_i64().unwrap()).collect();
    let (file, oid) = lfp_of(&env, &nwb, "all", &ids);
    let got = oracle(&file, &oid, &truth);
    assert_volts(variant, &got, &truth);
    // our own reader agrees on the electrode ids of the channels
    let (volts, _) = v1::fetch_lfp_volts(
        &env.db,
        &spyglass_db::Row::from_pairs([("nwb_file_name", Value::from(nwb.as_str()))]),
    )
    .unwrap();
    assert_eq!(volts.len(), ids.len());
    got
}

#[test]
fn channel_conversion_from_neuroconv_gives_volts() {
    let got = volts_round_trip("neuroconv_gains");
    // not plain int16 (per-channel gains): float32 volts, conversion 1
    assert_eq!(got["dtype"], "float32");
    assert_eq!(got["conversion"].as_f64(), Some(1.0));
}

#[test]
fn intan_offset_from_neuroconv_is_applied() {
    let got = volts_round_trip("neuroconv_intan");
    assert_eq!(got["dtype"], "float32");
    assert_eq!(got["offset"].as_f64(), Some(0.0));
}

#[test]
fn one_based_electrode_ids_map_to_their_channels() {
    volts_round_trip("ids_1based");
}

#[test]
fn electrode_ids_from_101_map_to_their_channels() {
    let got = volts_round_trip("ids_101");
    // plain int16 with one conversion: Spyglass's int16 output
    assert_eq!(got["dtype"], "int16");
}

#[test]
fn lzf_compressed_raw_data_is_read() {
    volts_round_trip("filter_lzf");
}

#[test]
fn zstd_compressed_raw_data_is_read() {
    volts_round_trip("filter_zstd");
}

#[test]
fn blosc_compressed_raw_data_is_read() {
    volts_round_trip("filter_blosc");
}

#[test]
fn bitshuffle_compressed_raw_data_is_read() {
    volts_round_trip("filter_bitshuffle");
    volts_round_trip("filter_bitshuffle_lz4");
}

#[test]
fn an_undecodable_filter_is_refused_at_insert_naming_it() {
    let env = Env::new();
    for (variant, id, name) in [
        ("filter_lz4", "32004", "lz4"),
        ("filter_bzip2", "307", "bzip2"),
    ] {
        let src = env.staging().join(format!("{variant}.nwb"));
        lab_file(&src, variant);
        let r = &env.insert(&[src])[0];
        let FileStatus::Failed { message, .. } = &r.status else {
            panic!("{variant} ingested: {r:?}");
        };
        for want in [id, name, "/acquisition/e-series/data"] {
            assert!(
                message.contains(want),
                "{variant}: `{want}` not in: {message}"
            );
        }
        assert_eq!(env.count(spyglass::common::common_session::SESSION), 0);
    }
}

#[test]
fn every_electrical_series_is_found_by_type() {
    let env = Env::new();
    let (nwb, fx) = ingest(&env, "spikeglx", "neuroconv_spikeglx");
    let series = env.rows(es::ELECTRICAL_SERIES, &nwb);
    let roles: Vec<(String, String)> = series
        .iter()
        .map(|r| (s(r, "series_path"), s(r, "role")))
        .collect();
    assert_eq!(
        roles,
        [
            (
                "/acquisition/ElectricalSeriesAP".to_string(),
                "raw".to_string()
            ),
            (
                "/acquisition/ElectricalSeriesAPimec1".into(),
                "raw_other".into()
            ),
            ("/acquisition/ElectricalSeriesLF".into(), "lfp".into()),
        ]
    );
    assert_eq!(env.rows(es::ELECTRICAL_SERIES_ELECTRODE, &nwb).len(), 24);
    // Raw: the AP stream of probe 0
    let raw = &env.rows(ephys::RAW, &nwb)[0];
    assert_eq!(f(raw, "sampling_rate"), 30000.0);
    // the LF stream is imported LFP at 2.5 kHz
    let imp = env.rows(lfp::imported::IMPORTED_LFP, &nwb);
    assert_eq!(imp.len(), 1);
    assert_eq!(f(&imp[0], "lfp_sampling_rate"), 2500.0);
    // LFP of probe 1's electrodes comes from its own series, with the right volts
    let truth = fx["truth"].as_array().unwrap();
    let probe1: Vec<Json> = truth
        .iter()
        .filter(|t| t["freq"].as_f64().unwrap() >= 6.0 + 1.5 * 8.0)
        .cloned()
        .collect();
    let ids: Vec<i64> = probe1.iter().map(|t| t["id"].as_i64().unwrap()).collect();
    let (file, oid) = lfp_of(&env, &nwb, "probe1", &ids);
    assert_volts("spikeglx probe 1", &oracle(&file, &oid, &probe1), &probe1);
    // a group across both probes is refused, naming the series
    let mixed = [truth[0]["id"].as_i64().unwrap(), ids[0]];
    lfp::lfp_electrode::create_group(&env.db, &nwb, "mixed", &mixed).unwrap();
    let err = lfp_electrode::raw_rate(&env.db, &nwb, "mixed")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ElectricalSeriesAPimec1")
            && err.contains("one LFP electrode group per series"),
        "{err}"
    );
}

#[test]
fn units_lfp_and_position_are_used_and_the_rest_reported() {
    let env = Env::new();
    let src = env.staging().join("extras.nwb");
    let fx = lab_file(&src, "extras");
    let r = &env.insert(&[src])[0];
    assert_eq!(r.status, FileStatus::Inserted, "{r:?}");
    let nwb = r.nwb_file_name.clone();
    let w = r.warnings.join("\n");
    // an empty description ingests with a warning
    assert!(w.contains("session description is empty"), "{w}");
    // objects nothing records are named once
    assert!(
        w.contains("/intervals/trials") && w.contains("/acquisition/TTL"),
        "{w}"
    );
    // units -> ImportedSpikeSorting
    let ss = env.rows(ssi::IMPORTED_SPIKE_SORTING, &nwb);
    assert_eq!(
        s(&ss[0], "object_id"),
        fx["units_object_id"].as_str().unwrap()
    );
    // ... entered in SpikeSortingOutput as Spyglass enters it, and read back through
    // the merge id as pynwb reads the file's units
    let merged = env.all(spyglass::spikesorting::merge::SPIKE_SORTING_OUTPUT);
    assert_eq!(merged.len(), 1, "{merged:?}");
    assert_eq!(s(&merged[0], "source"), "ImportedSpikeSorting");
    let Some(Value::Uuid(merge_id)) = merged[0].get("merge_id") else {
        panic!("merge_id: {merged:?}")
    };
    let units =
        spyglass::spikesorting::curation_v1::get_sorting_by_merge_id(&env.db, *merge_id).unwrap();
    let pynwb = spyglass_testkit::run_python(
        "import sys, json, pynwb\nwith pynwb.NWBHDF5IO(sys.argv[1], 'r') as io:\n    u = io.read().units\n    print(json.dumps([[int(i) for i in u.id[:]], [[float(t) for t in st] for st in u['spike_times'][:]]]))",
        &[env.staging().join("extras.nwb").to_str().unwrap()],
    );
    let truth: Json = serde_json::from_str(pynwb.trim()).expect("pynwb JSON");
    let ids: Vec<i64> = units.iter().map(|u| u.id).collect();
    let times: Vec<Vec<f64>> = units.iter().map(|u| u.spike_times.clone()).collect();
    assert_eq!(json!([ids, times]), truth);
    assert!(
        !times.iter().all(Vec::is_empty),
        "the fixture's units have spikes"
    );
    // processing/ecephys LFP -> ImportedLFP (and LFPOutput)
    let imp = env.rows(lfp::imported::IMPORTED_LFP, &nwb);
    assert_eq!(imp.len(), 1);
    assert_eq!(
        s(&imp[0], "lfp_object_id"),
        fx["lfp_object_id"].as_str().unwrap()
    );
    assert_eq!(s(&imp[0], "lfp_electrode_group_name"), "imported_lfp_000");
    assert_eq!(env.count(lfp::merge::LFP_OUTPUT), 1);
    // two Position containers: both series, one epoch (same start)
    use spyglass::common::common_behav as behav;
    assert_eq!(env.rows(behav::POSITION_SOURCE, &nwb).len(), 1);
    assert_eq!(
        env.rows(behav::POSITION_SOURCE_SPATIAL_SERIES, &nwb).len(),
        2
    );
    assert_eq!(env.rows(behav::RAW_POSITION_POS_OBJECT, &nwb).len(), 2);
    assert!(w.contains("2 Position objects"), "{w}");
}

#[test]
fn config_entries_are_applied_or_refused() {
    let env = Env::new();
    let src = env.staging().join("configured.nwb");
    lab_file(&src, "extras");
    std::fs::write(
        env.staging().join("configured_spyglass_config.yaml"),
        "Session:\n  - session_description: from the config\n    experiment_description: a config test\n",
    )
    .unwrap();
    let r = &env.insert(&[src])[0];
    assert_eq!(r.status, FileStatus::Inserted, "{r:?}");
    let sess = &env.rows(spyglass::common::common_session::SESSION, &r.nwb_file_name)[0];
    assert_eq!(s(sess, "session_description"), "from the config");
    assert_eq!(s(sess, "experiment_description"), "a config test");
    // a table ingestion does not apply is an error, not ignored
    let src = env.staging().join("badconfig.nwb");
    lab_file(&src, "plain");
    std::fs::write(
        env.staging().join("badconfig_spyglass_config.yaml"),
        "IntervalList:\n  - interval_list_name: x\n",
    )
    .unwrap();
    let r = &env.insert(&[src])[0];
    let FileStatus::Failed { message, .. } = &r.status else {
        panic!("ingested: {r:?}");
    };
    assert!(
        message.contains("IntervalList") && message.contains("cannot be set"),
        "{message}"
    );
}

/// Every file below the base directory with its size.
fn files_under(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), e.metadata().map(|m| m.len()).unwrap_or(0)));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn sessions_of_one_animal_ingest_and_a_sex_conflict_changes_nothing() {
    one_animal(&Env::new());
}

#[test]
fn sessions_of_one_animal_on_mariadb() {
    one_animal(&Env::mariadb());
}

/// Two sessions of animal m1 (age and weight changed) ingest; a third with another
/// sex is refused, naming both values and the fix, with rows and files unchanged.
fn one_animal(env: &Env) {
    let (a, _) = ingest(env, "m1_day1", "plain");
    let src = env.staging().join("m1_day2.nwb");
    lab_file(&src, "age2");
    let r = &env.insert(&[src])[0];
    assert_eq!(r.status, FileStatus::Inserted, "{r:?}");
    let w = r.warnings.join("\n");
    assert!(
        w.contains("`age` is P95D; the stored row keeps P90D"),
        "{w}"
    );
    // one subject row, as first stored; both sessions link it
    use spyglass::common::{common_session::SESSION, common_subject::SUBJECT};
    let subj = env.all(SUBJECT);
    assert_eq!(subj.len(), 1);
    assert_eq!(s(&subj[0], "age"), "P90D");
    assert_eq!(s(&env.rows(SESSION, &a)[0], "subject_id"), "m1");
    assert_eq!(
        s(&env.rows(SESSION, &r.nwb_file_name)[0], "subject_id"),
        "m1"
    );
    // a real conflict: refused, both values named, the fix said, nothing changed
    let before_rows = ingest_counts(env);
    let before_files = files_under(&env.settings.base_dir);
    let src = env.staging().join("m1_day3.nwb");
    lab_file(&src, "sex_conflict");
    let r = &env.insert(&[src])[0];
    let FileStatus::Failed { message, .. } = &r.status else {
        panic!("ingested: {r:?}");
    };
    for want in [
        "`sex`",
        "the file has M",
        "the database has F",
        "--accept-divergence",
        "spyglass_config.yaml",
    ] {
        assert!(message.contains(want), "`{want}` not in: {message}");
    }
    let after: Vec<(String, u64)> = ingest_counts(env)
        .into_iter()
        .filter(|(t, _)| t != spyglass::common::common_usage::INSERT_ERROR)
        .collect();
    let before: Vec<(String, u64)> = before_rows
        .into_iter()
        .filter(|(t, _)| t != spyglass::common::common_usage::INSERT_ERROR)
        .collect();
    assert_eq!(after, before);
    assert_eq!(files_under(&env.settings.base_dir), before_files);
}

#[test]
fn broken_series_are_refused_at_insert() {
    broken_series_refused(&Env::new());
}

/// The same on MariaDB (issue 13, case 17: both backends, rows and files intact).
#[test]
fn broken_series_are_refused_at_insert_on_mariadb() {
    broken_series_refused(&Env::mariadb());
}

fn broken_series_refused(env: &Env) {
    // (h5py edit, what the message must name)
    let cases = [
        ("f = h5py.File(p, 'r+'); f['acquisition/e-series/timestamps'][100] = np.nan", "timestamp 100 is NaN"),
        ("f = h5py.File(p, 'r+'); f['acquisition/e-series/electrodes'][3] = 99", "region row 99"),
        (
            "f = h5py.File(p, 'r+'); g = f['acquisition/e-series']; a = dict(g['data'].attrs); del g['data']; d = g.create_dataset('data', data=np.int16(3)); [d.attrs.__setitem__(k, v) for k, v in a.items()]",
            "scalar",
        ),
        (
            "f = h5py.File(p, 'r+'); g = f['acquisition/e-series']; a = dict(g['data'].attrs); del g['data']; d = g.create_dataset('data', shape=(120000, 0), dtype='int16'); [d.attrs.__setitem__(k, v) for k, v in a.items()]",
            "zero channels",
        ),
    ];
    for (i, (edit, want)) in cases.iter().enumerate() {
        let src = env.staging().join(format!("broken{i}.nwb"));
        lab_file(&src, "plain");
        spyglass_testkit::run_python(
            &format!("import sys, h5py, numpy as np\np = sys.argv[1]\n{edit}\nf.close()"),
            &[src.to_str().unwrap()],
        );
        let r = &env.insert(&[src])[0];
        let FileStatus::Failed { message, .. } = &r.status else {
            panic!("case {i} ingested: {r:?}");
        };
        assert!(
            message.contains(want),
            "case {i}: `{want}` not in: {message}"
        );
        assert!(
            message.contains(&format!("broken{i}")) && message.contains("e-series"),
            "{message}"
        );
        // nothing of it left in raw/: neither the placed raw file nor its copy
        assert!(!env.settings.raw_dir.join(format!("broken{i}.nwb")).exists());
        assert!(!env
            .settings
            .raw_dir
            .join(format!("broken{i}_.nwb"))
            .exists());
    }
    assert_eq!(env.count(spyglass::common::common_session::SESSION), 0);
    for t in [
        spyglass::common::common_nwbfile::NWBFILE,
        spyglass::common::common_ephys::ELECTRODE,
        spyglass::common::common_ephys::RAW,
        spyglass::common::common_interval::INTERVAL_LIST,
    ] {
        assert_eq!(env.count(t), 0, "{t}");
    }
    assert_eq!(
        env.count(spyglass::common::common_usage::INSERT_ERROR),
        cases.len() as u64
    );
}

#[test]
fn brain_regions_and_cameras_are_filled_as_spyglass_fills_them() {
    let env = Env::new();
    let (nwb, fx) = ingest(&env, "camera", "camera_model");
    // Spyglass meets electrode groups in pynwb's nwbfile.objects order: the oracle lists it
    let src = env.settings.raw_dir.join("camera.nwb");
    let order = spyglass_testkit::run_python(
        "import sys, pynwb\nwith pynwb.NWBHDF5IO(sys.argv[1], 'r') as io:\n    f = io.read()\n    seen = []\n    for o in f.objects.values():\n        if isinstance(o, pynwb.ecephys.ElectrodeGroup) and o.location not in seen:\n            seen.append(o.location)\n    print(','.join(seen))",
        &[src.to_str().unwrap()],
    );
    let want: Vec<&str> = order.trim().split(',').collect();
    let regions = env.all(spyglass::common::common_region::BRAIN_REGION);
    let got: Vec<String> = regions.iter().map(|r| s(r, "region_name")).collect();
    assert_eq!(got, want);
    let ids: Vec<i64> = regions.iter().map(|r| i(r, "region_id")).collect();
    assert_eq!(ids, (1..=want.len() as i64).collect::<Vec<_>>());
    // the CameraDevice's model and manufacturer come from its DeviceModel
    let cam = &env.all(spyglass::common::common_device::CAMERA_DEVICE)[0];
    assert_eq!(s(cam, "model"), fx["camera"]["model"].as_str().unwrap());
    assert_eq!(
        s(cam, "manufacturer"),
        fx["camera"]["manufacturer"].as_str().unwrap()
    );
    assert_eq!(i(cam, "camera_id"), 1);
    let _ = nwb;
}

/// The streamed LFP (small windows, several channel groups, pieces shorter than the
/// filter) equals the in-memory computation ([`lfp::filter_pieces`]) to the bit, for
/// int16 counts, float volts and re-referenced channels.
#[test]
fn streamed_lfp_equals_the_in_memory_computation_to_the_bit() {
    use lfp::stream::{Job, OutChannel, OutputKind};
    use spyglass_nwb::synthetic::{write_session, SyntheticParams};
    use spyglass_nwb::{AnalysisFileWriter, NwbFile, Placement, StreamDtype, StreamedSeriesSpec};
    init();
    let dir = spyglass_testkit::scratch_dir();
    let raw = dir.path().join("stream.nwb");
    let p = SyntheticParams {
        duration_s: 12.0,
        n_channels: 5,
        n_groups: 1,
        n_units: 1,
        gap: Some((7.0, 7.3)),
        ..SyntheticParams::default()
    };
    write_session(&raw, &p).unwrap();
    let taps = spyglass_dsp::find_default_filter("LFP 0-400 Hz", 30000)
        .unwrap()
        .design()
        .unwrap()
        .coefficients;
    let ds = 30;
    let file = NwbFile::open(&raw).unwrap();
    let reader = file.volts_reader("/acquisition/e-series").unwrap();
    let t0 = reader.raw().timestamps(0..1).unwrap()[0];
    // a piece shorter than the filter, a long one, one through the gap, the rest
    let pieces = [
        [t0, t0 + 0.1],
        [t0 + 0.5, t0 + 6.2],
        [t0 + 6.5, t0 + 8.0],
        [t0 + 9.0, t0 + 20.0],
    ];
    let ranges = reader.raw().sample_ranges(&pieces).unwrap();
    assert!(
        ranges[0].len() < taps.len() && ranges.len() == 4,
        "{ranges:?}"
    );
    let n = reader.raw().num_samples();
    let all: Vec<usize> = (0..5).collect();
    let referenced = vec![
        OutChannel {
            channel: 0,
            reference: Some(3),
        },
        OutChannel {
            channel: 2,
            reference: None,
        },
        OutChannel {
            channel: 4,
            reference: Some(1),
        },
    ];
    let cases: [(OutputKind, Vec<OutChannel>); 4] = [
        (
            OutputKind::Counts16 {
                conversion: reader.scaling().conversion,
            },
            referenced.clone(),
        ),
        (
            OutputKind::Counts16 {
                conversion: reader.scaling().conversion,
            },
            all.iter()
                .map(|&c| OutChannel {
                    channel: c,
                    reference: None,
                })
                .collect(),
        ),
        (
            OutputKind::Volts,
            all.iter()
                .map(|&c| OutChannel {
                    channel: c,
                    reference: None,
                })
                .collect(),
        ),
        (OutputKind::Volts, referenced),
    ];
    for (case, (kind, channels)) in cases.into_iter().enumerate() {
        // in memory: every channel read whole, referenced, filtered piece by piece
        let stored = match kind {
            OutputKind::Counts16 { .. } => reader.raw().read::<f64>(0..n, &all).unwrap(),
            OutputKind::Volts => reader.read_volts(0..n, &all).unwrap(),
        };
        let input: Vec<Vec<f64>> = channels
            .iter()
            .map(|oc| match oc.reference {
                Some(r) => stored[oc.channel]
                    .iter()
                    .zip(&stored[r])
                    .map(|(a, b)| a - b)
                    .collect(),
                None => stored[oc.channel].clone(),
            })
            .collect();
        let (want, _) = lfp::filter_pieces(&taps, ds, &input, &ranges).unwrap();
        // streamed: 1 MB of windows, so many steps and two channel groups
        let out = dir.path().join(format!("out{case}.nwb"));
        let mut w = AnalysisFileWriter::create_from_parent(&raw, &out).unwrap();
        let job = Job {
            reader: &reader,
            channels: channels.clone(),
            taps: &taps,
            ds,
            ranges: ranges.clone(),
            kind,
            budget: 1 << 20,
        };
        let spec = StreamedSeriesSpec {
            name: "lfp".into(),
            description: "test".into(),
            comments: "none".into(),
            dtype: match kind {
                OutputKind::Counts16 { .. } => StreamDtype::I16,
                OutputKind::Volts => StreamDtype::F32,
            },
            n_rows: job.n_out(),
            electrodes: (0..channels.len() as i64).collect(),
            electrodes_description: "all".into(),
            conversion: kind.conversion(),
            offset: 0.0,
            filtering: None,
            compression: spyglass_nwb::Compression::Gzip {
                rows: 1000,
                level: 4,
                shuffle: true,
            },
        };
        let s = w
            .begin_electrical_series(&Placement::container("ecephys", "LFP", "LFP", "LFP"), &spec)
            .unwrap();
        job.run(&s).unwrap();
        s.finish().unwrap();
        w.finish().unwrap();
        let back = NwbFile::open(&out).unwrap();
        let r = back.raw_reader("/processing/ecephys/LFP/lfp").unwrap();
        let cols: Vec<usize> = (0..channels.len()).collect();
        assert_eq!(r.num_samples(), want[0].len());
        match kind {
            OutputKind::Counts16 { .. } => {
                let got = r.read::<i16>(0..r.num_samples(), &cols).unwrap();
                for (g, w) in got.iter().zip(&want) {
                    assert_eq!(g, &lfp::truncate_i16(w), "case {case}");
                }
            }
            OutputKind::Volts => {
                let got = r.read::<f32>(0..r.num_samples(), &cols).unwrap();
                for (g, w) in got.iter().zip(&want) {
                    let w: Vec<u32> = w.iter().map(|&x| (x as f32).to_bits()).collect();
                    let g: Vec<u32> = g.iter().map(|x| x.to_bits()).collect();
                    assert_eq!(g, w, "case {case}");
                }
            }
        }
        // timestamps: every 30th raw timestamp of each piece
        let ts = r.timestamps(0..r.num_samples()).unwrap();
        let raw_ts = reader.raw().timestamps(0..n).unwrap();
        let want_ts: Vec<f64> = ranges
            .iter()
            .flat_map(|rg| rg.clone().step_by(ds).map(|i| raw_ts[i]))
            .collect();
        assert_eq!(ts, want_ts);
    }
}

/// Spyglass's NWB file hash, ours against Python Spyglass's own `NwbfileHasher`: a
/// file neuroconv wrote, our ingest copy of it (its bulk data external links) and the
/// LFPV1 analysis file we made from it.
#[test]
fn nwb_file_hashes_equal_spyglass_on_neuroconv_and_our_files() {
    let env = Env::new();
    let (nwb, fx) = ingest(&env, "lab_hash", "neuroconv_gains");
    let ids: Vec<i64> = fx["truth"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    let (lfp_file, _) = lfp_of(&env, &nwb, "all", &ids);
    let source = env.staging().join("lab_hash.nwb");
    let copy = spyglass::analysis::nwb_file_path(&env.db, &nwb).unwrap();
    let files = [source.as_path(), copy.as_path(), lfp_file.as_path()];
    let want = spyglass_nwb_hashes(&files);
    for (file, want) in files.iter().zip(&want) {
        let got = spyglass_nwb::nwbfile_hash(file, &spyglass_nwb::SPYGLASS_PRECISION).unwrap();
        assert_eq!(&got, want, "{}", file.display());
    }
}
