//! DANDI organisation: the naming rules against hand-derived names and against
//! dandi-cli's own functions (modality table, layout regex, CRC-32 `obj` labels,
//! `create_unique_filenames_from_metadata`); every metadata rule on hand-built
//! metadata and on pynwb-built files (a subject with `sex='male'`, `species='rat'`,
//! `age='90 days'` gives exactly those three problems, which are exactly the three
//! errors `dandi validate` reports); and a Spyglass session with two LFPV1 analysis
//! files organised from its `_` copy (replaced by the raw file) into a folder that
//! `dandi validate` passes offline.

use crate::common;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use common::*;
use spyglass::common::common_interval::RAW_VALID_TIMES;
use spyglass::dandi::{
    self, assign_dandi_paths, is_dandi_path, metadata_problems, modalities, modality_of, obj_id,
    organise_dandiset, sanitize_value, DandiMetadata, DandiOptions, DandiSource, NamingRecord,
    Placed, Rule, Transfer,
};
use spyglass::lfp::{self, v1};
use spyglass_db::Cond;
use spyglass_nwb::synthetic::{write_session, SyntheticParams};
use spyglass_nwb::Subject;
use std::path::{Path, PathBuf};

fn dt(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn rec(subject: &str, session: Option<&str>, mods: &[&str]) -> NamingRecord {
    NamingRecord {
        subject_id: Some(subject.into()),
        session_id: session.map(str::to_string),
        modalities: mods.iter().map(|m| m.to_string()).collect(),
        ..NamingRecord::default()
    }
}

fn names(recs: &[NamingRecord], always_session: bool) -> Vec<String> {
    assign_dandi_paths(recs, always_session)
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| format!("ERR {e}")))
        .collect()
}

/// The `dandi` executable of the oracle environment.
fn dandi_exe() -> PathBuf {
    let p = spyglass_testkit::python();
    p.parent().unwrap().join("dandi")
}

#[test]
fn sanitising_follows_dandi() {
    // dandi/organize.py::_sanitize_value: [_*\\/<>:|"'?%@;,\s] -> "-", "." -> "-" except extension
    assert_eq!(sanitize_value("rat_1", "subject_id"), "rat-1");
    assert_eq!(
        sanitize_value("a*b\\c/d<e>f:g|h\"i'j?k%l@m;n,o", "x"),
        "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o"
    );
    assert_eq!(sanitize_value("day 1\tpm.2", "session_id"), "day-1-pm-2");
    assert_eq!(sanitize_value(".nwb", "extension"), ".nwb");
    assert_eq!(sanitize_value("a+b-c", "modalities"), "a+b-c");
    assert_eq!(sanitize_value("x\u{a0}y\u{1f}z", "x"), "x-y-z");
    // in names: subject and session sanitised, folder too
    let n = names(&[rec("rat 1/a", Some("2023.06.22_a"), &["ecephys"])], true);
    assert_eq!(n, ["sub-rat-1-a/sub-rat-1-a_ses-2023-06-22-a_ecephys.nwb"]);
}

#[test]
fn session_ids_come_from_start_times_when_missing() {
    // one file without session_id, start 09:00:00 -> YYYYMMDDTHHMMSS (in its own offset)
    let mut a = rec("r1", None, &["ecephys"]);
    a.session_start_time = Some(dt("2023-06-22T23:30:05-07:00"));
    assert_eq!(
        names(&[a.clone()], true),
        ["sub-r1/sub-r1_ses-20230622T233005_ecephys.nwb"]
    );
    // all start times at midnight -> date only
    let mut b = rec("r1", None, &["ecephys"]);
    b.session_start_time = Some(dt("2023-06-22T00:00:00+02:00"));
    let mut c = rec("r1", None, &["ecephys"]);
    c.session_start_time = Some(dt("2023-06-23T00:00:00+02:00"));
    assert_eq!(
        names(&[b.clone(), c.clone()], false),
        [
            "sub-r1/sub-r1_ses-20230622_ecephys.nwb",
            "sub-r1/sub-r1_ses-20230623_ecephys.nwb"
        ]
    );
    // a file that has a session_id at 10:00 makes the set non-midnight
    let mut d = rec("r1", Some("s9"), &["ecephys"]);
    d.session_start_time = Some(dt("2023-06-24T10:00:00+00:00"));
    assert_eq!(
        names(&[b.clone(), d], false),
        [
            "sub-r1/sub-r1_ses-20230622T000000_ecephys.nwb",
            "sub-r1/sub-r1_ses-s9_ecephys.nwb"
        ]
    );
    // one session only: `_ses-` only when required
    assert_eq!(names(&[b.clone()], false), ["sub-r1/sub-r1_ecephys.nwb"]);
    assert_eq!(
        names(
            &[rec("r1", Some("s1"), &[]), rec("r2", Some("s1"), &[])],
            false
        ),
        ["sub-r1/sub-r1.nwb", "sub-r2/sub-r2.nwb"]
    );
    // two sessions: `_ses-` appears even when not required
    assert_eq!(
        names(
            &[rec("r1", Some("s1"), &[]), rec("r1", Some("s2"), &[])],
            false
        ),
        ["sub-r1/sub-r1_ses-s1.nwb", "sub-r1/sub-r1_ses-s2.nwb"]
    );
}

#[test]
fn modalities_come_from_pynwb_modules() {
    assert_eq!(modality_of("ElectricalSeries"), Some("ecephys"));
    assert_eq!(modality_of("Position"), Some("behavior"));
    assert_eq!(modality_of("Subject"), Some("file"));
    assert_eq!(modality_of("Probe"), None); // extension types have none
    assert_eq!(modality_of("Units"), None); // hdmf tables have none
    let m = modalities([
        "ElectricalSeries",
        "ElectrodeGroup",
        "Position",
        "SpatialSeries",
        "ProcessingModule",
        "TimeSeries",
        "Device",
        "Subject",
        "AnnotationSeries",
        "Probe",
        "DynamicTable",
    ]);
    assert_eq!(m, ["behavior", "ecephys"]);
    assert_eq!(
        modalities(["ImageSeries", "OptogeneticSeries"]),
        ["image", "ogen"]
    );
    assert!(modalities(["Device", "Subject", "TimeSeries"]).is_empty());
    let n = names(&[rec("r1", Some("s1"), &["behavior", "ecephys"])], true);
    assert_eq!(n, ["sub-r1/sub-r1_ses-s1_behavior+ecephys.nwb"]);
}

#[test]
fn modality_table_matches_dandi() {
    let out = spyglass_testkit::run_python(
        "import contextlib, io, json\n\
         from dandi.pynwb_utils import get_neurodata_types_to_modalities_map as g\n\
         with contextlib.redirect_stdout(io.StringIO()):\n    m = g()\n\
         print(json.dumps(m))",
        &[],
    );
    let map: std::collections::BTreeMap<String, String> =
        serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert!(map.len() > 50, "{map:?}");
    for (ty, m) in &map {
        assert_eq!(modality_of(ty), Some(m.as_str()), "{ty}");
    }
    for ty in [
        "Probe",
        "Units",
        "TimeIntervals",
        "DynamicTable",
        "ElectrodesTable",
    ] {
        assert_eq!(map.get(ty), None);
        assert_eq!(modality_of(ty), None);
    }
}

#[test]
fn desc_then_obj_disambiguate_clashing_names() {
    // raw file and one analysis file with the same modalities: only the one with a
    // description gets `_desc-`
    let raw = rec("r1", Some("s1"), &["ecephys"]);
    let mut a1 = rec("r1", Some("s1"), &["ecephys"]);
    a1.description = Some("ABCDE12345".into());
    assert_eq!(
        names(&[raw.clone(), a1.clone()], true),
        [
            "sub-r1/sub-r1_ses-s1_ecephys.nwb",
            "sub-r1/sub-r1_ses-s1_desc-ABCDE12345_ecephys.nwb"
        ]
    );
    // a different modality needs no label
    let mut a2 = rec("r1", Some("s1"), &["behavior"]);
    a2.description = Some("ZZZ".into());
    assert_eq!(
        names(&[raw.clone(), a2], true),
        [
            "sub-r1/sub-r1_ses-s1_ecephys.nwb",
            "sub-r1/sub-r1_ses-s1_behavior.nwb"
        ]
    );
    // descriptions are sanitised
    let mut a3 = rec("r1", Some("s1"), &["ecephys"]);
    a3.description = Some("lfp_v1.theta".into());
    assert_eq!(
        names(&[raw.clone(), a3], true)[1],
        "sub-r1/sub-r1_ses-s1_desc-lfp-v1-theta_ecephys.nwb"
    );
    // no descriptions: obj- from the CRC-32 of the object id, in base 36
    // (CRC-32 of "123456789" is 0xCBF43926 = 3421780262 = "1kl8mjq" in base 36)
    assert_eq!(obj_id("123456789"), "1kl8mjq");
    let mut o1 = rec("r1", Some("s1"), &["ecephys"]);
    o1.object_id = Some("123456789".into());
    let mut o2 = rec("r1", Some("s1"), &["ecephys"]);
    o2.object_id = Some("abc".into());
    let n = names(&[o1.clone(), o2.clone()], true);
    assert_eq!(n[0], "sub-r1/sub-r1_ses-s1_obj-1kl8mjq_ecephys.nwb");
    assert_eq!(
        n[1],
        format!("sub-r1/sub-r1_ses-s1_obj-{}_ecephys.nwb", obj_id("abc"))
    );
    // the same object id twice cannot be told apart
    let n = assign_dandi_paths(&[o1.clone(), o1], true);
    assert!(n.iter().all(|r| r.is_err()), "{n:?}");
    // probe ids come before obj
    let mut p1 = rec("r1", Some("s1"), &["ecephys"]);
    p1.probe_ids = vec!["1".into(), "2".into()];
    let mut p2 = rec("r1", Some("s1"), &["ecephys"]);
    p2.probe_ids = vec!["3".into()];
    assert_eq!(
        names(&[p1, p2], true),
        [
            "sub-r1/sub-r1_ses-s1_probe-1+2_ecephys.nwb",
            "sub-r1/sub-r1_ses-s1_probe-3_ecephys.nwb"
        ]
    );
}

#[test]
fn obj_labels_match_dandi() {
    let ids = [
        "123456789",
        "0b3b5e9a-6f4c-4a0e-9f2b-7d1c2e3f4a5b",
        "e5f6a7b8-0000-4000-8000-000000000000",
        "x",
    ];
    let out = spyglass_testkit::run_python(
        "import sys, json\nfrom dandi.organize import get_obj_id\n\
         print(json.dumps([get_obj_id(a) for a in sys.argv[1:]]))",
        &ids,
    );
    let want: Vec<String> = serde_json::from_str(out.trim()).unwrap();
    let got: Vec<String> = ids.iter().map(|i| obj_id(i)).collect();
    assert_eq!(got, want);
}

const PATHS: &[(&str, bool)] = &[
    ("sub-r1/sub-r1_ses-s1_ecephys.nwb", true),
    ("sub-r1/sub-r1.nwb", true),
    (
        "sub-r1/sub-r1_ses-20230622T090000_behavior+ecephys.nwb",
        true,
    ),
    (
        "sub-r1/sub-r1_ses-s1_desc-ABC_obj-1kl8mjq_ecephys.nwb",
        true,
    ),
    ("sub-r-1/sub-r-1_ses-a-b_probe-1+2_image.nwb", true),
    ("sub-r1/sub-r1_ses-s1_desc-x.nwb", true),
    ("sub-r1/sub-r2_ses-s1_ecephys.nwb", false), // subject mismatch
    ("sub-r1/sub-r1_ses-s1_ecephys.h5", false),  // suffix
    ("sub-r1/sub-r1_ses-s.1_ecephys.nwb", false), // dot in label
    ("sub-r1/sub-r1_ses-s1_Ecephys.nwb", false), // modality case
    ("sub-r1/sub-r1_desc-x_ses-s1.nwb", false),  // order
    ("sub-r1/sub-r1_ecephys_desc-x.nwb", false), // modality not last
    ("sub-r1/sub-r1__ecephys.nwb", false),       // empty entity
    ("r1/sub-r1_ecephys.nwb", false),            // folder
    ("sub-r1/x/sub-r1_ecephys.nwb", false),      // depth
    ("sub-r1_ecephys.nwb", false),               // no folder
    ("sub-r1/sub-_ecephys.nwb", false),          // empty subject
    ("sub-r1/sub-r1_ses-s1_ece+.nwb", false),    // empty modality part
];

#[test]
fn layout_check_matches_dandi_regex() {
    for (p, ok) in PATHS {
        assert_eq!(is_dandi_path(p), *ok, "{p}");
    }
    // the same verdicts from dandi's own validate_organized_path (which skips non-.nwb files)
    let args: Vec<&str> = PATHS
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| p.ends_with(".nwb"))
        .collect();
    let out = spyglass_testkit::run_python(
        "import sys, json\nfrom pathlib import Path\n\
         from dandi.organize import validate_organized_path\n\
         ok = [not validate_organized_path(p, Path('/x') / p, Path('/x')) for p in sys.argv[1:]]\n\
         print(json.dumps(ok))",
        &args,
    );
    let want: Vec<bool> = serde_json::from_str(out.trim()).unwrap();
    let got: Vec<bool> = args.iter().map(|p| is_dandi_path(p)).collect();
    assert_eq!(got, want);
}

fn good_meta() -> DandiMetadata {
    DandiMetadata {
        identifier: Some("id-1".into()),
        session_description: Some("a session".into()),
        session_start_time: Some("2023-06-22T09:00:00+00:00".into()),
        session_id: Some("s1".into()),
        subject: Some(Subject {
            subject_id: Some("rat1".into()),
            species: Some("Rattus norvegicus".into()),
            sex: Some("M".into()),
            age: Some("P90D".into()),
            ..Subject::default()
        }),
    }
}

fn rules(m: &DandiMetadata) -> Vec<(Rule, Option<String>)> {
    let now = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    metadata_problems(m, now)
        .into_iter()
        .map(|(r, v, _)| (r, v))
        .collect()
}

fn with_subject(f: impl FnOnce(&mut Subject)) -> DandiMetadata {
    let mut m = good_meta();
    f(m.subject.as_mut().unwrap());
    m
}

#[test]
fn each_metadata_rule() {
    assert_eq!(rules(&good_meta()), []);
    let s = |v: &str| Some(v.to_string());
    // the three observed failures
    let bad = with_subject(|s| {
        s.sex = Some("male".into());
        s.species = Some("rat".into());
        s.age = Some("90 days".into());
    });
    assert_eq!(
        rules(&bad),
        [
            (Rule::Sex, s("male")),
            (Rule::SpeciesForm, s("rat")),
            (Rule::Age, s("90 days"))
        ]
    );
    // subject
    let mut m = good_meta();
    m.subject = None;
    assert_eq!(rules(&m), [(Rule::SubjectExists, None)]);
    assert_eq!(
        rules(&with_subject(|s| s.subject_id = None)),
        [(Rule::SubjectId, None)]
    );
    assert_eq!(
        rules(&with_subject(|s| s.subject_id = Some("a/b".into()))),
        [(Rule::SubjectIdSlash, s("a/b"))]
    );
    // sex
    for ok in ["M", "F", "O", "U"] {
        assert_eq!(rules(&with_subject(|s| s.sex = Some(ok.into()))), []);
    }
    assert_eq!(rules(&with_subject(|s| s.sex = None)), [(Rule::Sex, None)]);
    assert_eq!(
        rules(&with_subject(|s| s.sex = Some("m".into()))),
        [(Rule::Sex, s("m"))]
    );
    let worm = |sex: &str| {
        with_subject(|s| {
            s.species = Some("Caenorhabditis elegans".into());
            s.sex = Some(sex.into());
        })
    };
    assert_eq!(rules(&worm("XO")), []);
    assert_eq!(rules(&worm("M")), [(Rule::Sex, s("M"))]);
    // species
    for ok in [
        "Mus musculus",
        "Homo sapiens",
        "http://purl.obolibrary.org/obo/NCBITaxon_10116",
    ] {
        assert_eq!(
            rules(&with_subject(|s| s.species = Some(ok.into()))),
            [],
            "{ok}"
        );
    }
    for bad in [
        "rat",
        "rattus norvegicus",
        "Rattus Norvegicus",
        "NCBITaxon_10116",
        "Rattus  norvegicus",
    ] {
        assert_eq!(
            rules(&with_subject(|s| s.species = Some(bad.into()))),
            [(Rule::SpeciesForm, s(bad))],
            "{bad}"
        );
    }
    assert_eq!(
        rules(&with_subject(|s| s.species = None)),
        [(Rule::SpeciesExists, None)]
    );
    // age: ISO-8601 durations and ranges, or a date of birth
    for ok in [
        "P90D",
        "P1Y2M",
        "P3W",
        "PT12H",
        "P1DT2H30M",
        "P1.5D",
        "P1D/P3D",
        "P90Y/",
        "/P3D",
    ] {
        assert_eq!(
            rules(&with_subject(|s| s.age = Some(ok.into()))),
            [],
            "{ok}"
        );
    }
    for bad in [
        "90 days",
        "P",
        "PT",
        "P1DT",
        "P1D2Y",
        "90D",
        "P1.D",
        "p90d",
        "P1D/P3D/P5D",
        "P1DT5",
    ] {
        assert_eq!(
            rules(&with_subject(|s| s.age = Some(bad.into()))),
            [(Rule::Age, s(bad))],
            "{bad}"
        );
    }
    assert_eq!(rules(&with_subject(|s| s.age = None)), [(Rule::Age, None)]);
    let dob = with_subject(|s| {
        s.age = None;
        s.date_of_birth = Some("2023-01-01T00:00:00+00:00".into());
    });
    assert_eq!(rules(&dob), []);
    assert_eq!(
        rules(&with_subject(|s| s.age = Some("P3D/P1D".into()))),
        [(Rule::AgeRange, s("P3D/P1D"))]
    );
    assert_eq!(
        rules(&with_subject(|s| s.age = Some("P1Y/P12M".into()))),
        [(Rule::AgeRange, s("P1Y/P12M"))]
    );
    // weight
    for ok in ["0.35 kg", "350 g", "2 KG", "10 μg"] {
        assert_eq!(
            rules(&with_subject(|s| s.weight = Some(ok.into()))),
            [],
            "{ok}"
        );
    }
    for bad in ["350", "350g", "0.35 pounds", ".5 kg"] {
        assert_eq!(
            rules(&with_subject(|s| s.weight = Some(bad.into()))),
            [(Rule::Weight, s(bad))],
            "{bad}"
        );
    }
    // file-level fields
    let mut m = good_meta();
    m.identifier = None;
    m.session_description = Some("".into());
    assert_eq!(
        rules(&m),
        [(Rule::Identifier, None), (Rule::SessionDescription, s(""))]
    );
    let mut m = good_meta();
    m.session_start_time = Some("2023-06-22T09:00:00".into());
    assert_eq!(
        rules(&m),
        [(Rule::SessionStartTime, s("2023-06-22T09:00:00"))]
    );
    m.session_start_time = Some("yesterday".into());
    assert_eq!(rules(&m), [(Rule::SessionStartTime, s("yesterday"))]);
    m.session_start_time = Some("2030-01-01T00:00:00Z".into());
    assert_eq!(
        rules(&m),
        [(Rule::SessionStartFuture, s("2030-01-01T00:00:00Z"))]
    );
    m.session_start_time = None;
    assert_eq!(rules(&m), [(Rule::SessionStartTime, None)]);
    let mut m = good_meta();
    m.session_id = Some("day/1".into());
    assert_eq!(rules(&m), [(Rule::SessionIdSlash, s("day/1"))]);
    // every problem is listed, not only the first
    let mut m = with_subject(|s| {
        s.sex = None;
        s.species = None;
        s.age = None;
        s.subject_id = Some("a/b".into());
    });
    m.identifier = Some(" ".into());
    assert_eq!(rules(&m).len(), 5, "{:?}", rules(&m));
}

/// Writes a small pynwb file: `good`, `bad_subject`, `no_subject`, `naive_time`, `linked`,
/// `no_session_id`.
const FIXTURE: &str = r#"
import sys, uuid, datetime
import numpy as np
import h5py
from pynwb import NWBFile, NWBHDF5IO
from pynwb.file import Subject
from pynwb.behavior import Position
from dateutil.tz import tzutc
out, variant, subject_id = sys.argv[1], sys.argv[2], sys.argv[3]
subj = dict(subject_id=subject_id, sex='M', species='Rattus norvegicus', age='P90D')
if variant == 'bad_subject':
    subj.update(sex='male', species='rat', age='90 days')
nwb = NWBFile(session_description='fixture ' + variant, identifier=str(uuid.uuid4()),
              session_start_time=datetime.datetime(2023, 6, 22, 9, 0, tzinfo=tzutc()),
              session_id=None if variant == 'no_session_id' else 'day 1',
              subject=None if variant == 'no_subject' else Subject(**subj))
beh = nwb.create_processing_module('behavior', 'position')
pos = Position(name='position')
pos.create_spatial_series(name='led', data=np.zeros((10, 2)), reference_frame='corner',
                          rate=30.0, unit='meters')
beh.add(pos)
with NWBHDF5IO(out, 'w') as io:
    io.write(nwb)
if variant == 'naive_time':
    with h5py.File(out, 'a') as f:
        del f['session_start_time']
        f.create_dataset('session_start_time', data='2023-06-22T09:00:00',
                         dtype=h5py.string_dtype())
if variant == 'linked':
    with h5py.File(out, 'a') as f:
        f['acquisition']['elsewhere'] = h5py.ExternalLink('missing_file.nwb', '/acquisition/x')
"#;

fn fixture(dir: &Path, name: &str, variant: &str, subject: &str) -> PathBuf {
    let p = dir.join(name);
    spyglass_testkit::run_python(FIXTURE, &[p.to_str().unwrap(), variant, subject]);
    p
}

fn rules_of(report: &dandi::DandiReport, f: &Path) -> Vec<(Rule, Option<String>)> {
    report
        .problems_of(f)
        .into_iter()
        .map(|p| (p.rule, p.value.clone()))
        .collect()
}

#[test]
fn bad_files_are_reported_and_dandi_agrees() {
    init();
    let tmp = spyglass_testkit::scratch_dir();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let bad = fixture(&src, "bad.nwb", "bad_subject", "rat1");
    let good = fixture(&src, "good.nwb", "good", "rat2");
    let none = fixture(&src, "none.nwb", "no_subject", "x");
    let naive = fixture(&src, "naive.nwb", "naive_time", "rat3");
    let linked = fixture(&src, "linked.nwb", "linked", "rat4");
    let nosid = fixture(&src, "nosid.nwb", "no_session_id", "rat 5");
    let missing = src.join("missing.nwb");
    let out = tmp.path().join("ds");
    let sources: Vec<DandiSource> = [&bad, &good, &none, &naive, &linked, &nosid, &missing]
        .iter()
        .map(|p| DandiSource::raw(*p, "x_.nwb"))
        .collect();
    let report = organise_dandiset(&sources, &out, &DandiOptions::default()).unwrap();
    let s = |v: &str| Some(v.to_string());
    // exactly the three problems of the bad subject
    assert_eq!(
        rules_of(&report, &bad),
        [
            (Rule::Sex, s("male")),
            (Rule::SpeciesForm, s("rat")),
            (Rule::Age, s("90 days"))
        ],
        "{report}"
    );
    assert_eq!(rules_of(&report, &good), []);
    assert_eq!(rules_of(&report, &none), [(Rule::SubjectExists, None)]);
    assert_eq!(
        rules_of(&report, &naive),
        [(Rule::SessionStartTime, s("2023-06-22T09:00:00"))]
    );
    assert_eq!(rules_of(&report, &linked), [(Rule::SelfContained, None)]);
    assert_eq!(rules_of(&report, &missing), [(Rule::Readable, None)]);
    assert_eq!(rules_of(&report, &nosid), []);
    assert_eq!(report.problems.len(), 7, "{report}");
    // organised: the files that can be named (session id "day 1" sanitised; none for
    // nosid.nwb, whose start at 09:00 UTC gives 20230622T090000; subject "rat 5" sanitised)
    let organised: Vec<(&Path, &str)> = report
        .files
        .iter()
        .map(|f| (f.source.as_path(), f.dandi_path.as_str()))
        .collect();
    assert_eq!(
        organised,
        [
            (bad.as_path(), "sub-rat1/sub-rat1_ses-day-1_behavior.nwb"),
            (good.as_path(), "sub-rat2/sub-rat2_ses-day-1_behavior.nwb"),
            (naive.as_path(), "sub-rat3/sub-rat3_ses-day-1_behavior.nwb"),
            (
                nosid.as_path(),
                "sub-rat-5/sub-rat-5_ses-20230622T090000_behavior.nwb"
            ),
        ]
    );
    // dandi names them the same way
    let recs: Vec<serde_json::Value> = [&bad, &good, &nosid]
        .iter()
        .map(|p| serde_json::json!({ "path": p }))
        .collect();
    let theirs = dandi_names(&recs);
    for f in report.files.iter().filter(|f| f.source != naive) {
        assert_eq!(
            theirs.get(&f.file.display().to_string()),
            Some(&f.dandi_path)
        );
    }
    let text = report.to_string();
    assert!(
        text.contains("check_subject_sex (value \"male\")"),
        "{text}"
    );
    assert!(text.contains("7 problem(s)"), "{text}");

    // dandi validate reports exactly our rules: the three for the bad file (by
    // nwbinspector check name), the timezone for the naive one, nothing for the others
    let v = dandi::dandi_validate(&dandi_exe(), &out).unwrap();
    assert!(!v.passed);
    assert_eq!(v.ids.len(), 4, "{}", v.output);
    let mut ours: Vec<String> = rules_of(&report, &bad)
        .iter()
        .map(|(r, _)| format!("NWBI.{}", r.id()))
        .collect();
    ours.sort();
    assert_eq!(v.ids[..3], ours[..], "{}", v.output);
    assert!(
        v.ids[3].starts_with("pynwb.") && v.ids[3].contains("timezone"),
        "{}",
        v.output
    );
    for ok in ["sub-rat2", "sub-rat-5"] {
        assert!(!v.output.contains(ok), "{}", v.output);
    }
}

#[test]
fn duplicate_identifiers_and_paths_are_problems() {
    init();
    let tmp = spyglass_testkit::scratch_dir();
    let a = fixture(tmp.path(), "a.nwb", "good", "rat1");
    let b = tmp.path().join("b.nwb");
    std::fs::copy(&a, &b).unwrap();
    let out = tmp.path().join("ds");
    let opts = DandiOptions {
        dry_run: true,
        ..DandiOptions::default()
    };
    let report = organise_dandiset(
        &[
            DandiSource::raw(&a, "a_.nwb"),
            DandiSource::raw(&b, "b_.nwb"),
        ],
        &out,
        &opts,
    )
    .unwrap();
    for f in [&a, &b] {
        let r: Vec<Rule> = rules_of(&report, f).into_iter().map(|(r, _)| r).collect();
        assert_eq!(r, [Rule::UniqueIdentifier, Rule::UniquePath], "{report}");
    }
    assert!(report.files.is_empty());
    assert!(!out.exists(), "dry run wrote {}", out.display());
    // the same file given twice is organised once
    let report = organise_dandiset(
        &[
            DandiSource::raw(&a, "a_.nwb"),
            DandiSource::raw(&a, "a_.nwb"),
        ],
        &out,
        &opts,
    )
    .unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.files.len(), 2);
    assert_eq!(report.files[0].dandi_path, report.files[1].dandi_path);
    assert_eq!(report.files[0].placed, Placed::Planned);
    // a malformed dandiset identifier, and an existing dandiset.yaml lacking a field
    let opts = DandiOptions {
        identifier: "DANDI:12".into(),
        ..opts
    };
    let report = organise_dandiset(&[], &out, &opts).unwrap();
    let r: Vec<(Rule, Option<String>)> = report
        .problems
        .iter()
        .map(|p| (p.rule, p.value.clone()))
        .collect();
    assert_eq!(r, [(Rule::DandisetYaml, Some("DANDI:12".into()))]);
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join("dandiset.yaml"),
        "identifier: DANDI:000001\nname: x\n",
    )
    .unwrap();
    let report = organise_dandiset(&[], &out, &DandiOptions::default()).unwrap();
    assert!(!report.wrote_dandiset_yaml);
    let r: Vec<&str> = report.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(r, ["the existing dandiset.yaml lacks `description`"]);
}

fn md5_of(p: &Path) -> String {
    spyglass_testkit::run_python(
        "import hashlib, sys\nprint(hashlib.md5(open(sys.argv[1], 'rb').read()).hexdigest())",
        &[p.to_str().unwrap()],
    )
    .trim()
    .to_string()
}

/// dandi's own names for files (metadata read by dandi, our descriptions added).
const DANDI_NAMES: &str = r#"
import sys, json, contextlib, io
from dandi.metadata.nwb import get_metadata
from dandi.organize import create_unique_filenames_from_metadata
recs = json.loads(sys.argv[1])
md = []
for r in recs:
    m = get_metadata(r['path'])
    m['path'] = r['path']
    if r.get('description'):
        m['description'] = r['description']
    md.append(m)
with contextlib.redirect_stdout(io.StringIO()):
    out = create_unique_filenames_from_metadata(md, required_fields=['session_id'])
print(json.dumps({m['path']: m['dandi_path'] for m in out}))
"#;

/// dandi's names of files `[{"path": .., "description": ..}]`, by path.
fn dandi_names(recs: &[serde_json::Value]) -> std::collections::BTreeMap<String, String> {
    let arg = serde_json::Value::Array(recs.to_vec()).to_string();
    let out = spyglass_testkit::run_python(DANDI_NAMES, &[&arg]);
    serde_json::from_str(out.lines().last().unwrap()).unwrap()
}

#[test]
fn spyglass_session_and_analysis_files_pass_dandi_validate() {
    let t0 = std::time::Instant::now();
    let env = Env::new();
    let p = SyntheticParams {
        duration_s: 4.0,
        n_channels: 4,
        n_groups: 1,
        n_units: 1,
        ..SyntheticParams::default()
    };
    let raw = env.staging().join("dandi20230622.nwb");
    let gt = write_session(&raw, &p).unwrap();
    let r = env.insert(&[raw]);
    assert!(r[0].is_ok(), "{:?}", r[0].status);
    let nwb = r[0].nwb_file_name.clone();
    spyglass::defaults::insert_defaults(&env.db, &[]).unwrap();
    lfp::lfp_electrode::create_group(&env.db, &nwb, "tetrode", &[0, 1, 2, 3]).unwrap();
    for interval in [gt.epochs[0].0.as_str(), RAW_VALID_TIMES] {
        select_lfp(&env, &nwb, "tetrode", interval, 30_000);
    }
    let rep = spyglass::populate(&env.db, &env.settings, v1::LFPV1, Cond::Bool(true)).unwrap();
    assert_eq!(rep.success_count, 2, "{:?}", rep.error_list);
    let setup = t0.elapsed();

    let copy = spyglass::analysis::nwb_file_path(&env.db, &nwb).unwrap();
    let raw_file = env.settings.raw_dir.join("dandi20230622.nwb");
    assert!(raw_file.exists(), "{}", raw_file.display());
    let analysis: Vec<String> = env
        .all(v1::LFPV1)
        .iter()
        .map(|r| s(r, "analysis_file_name"))
        .collect();
    assert_eq!(analysis.len(), 2);
    let mut sources = vec![DandiSource::raw(&copy, &nwb)];
    for a in &analysis {
        let path = spyglass::analysis::analysis_file_path(&env.db, a).unwrap();
        sources.push(DandiSource::analysis(path, &nwb));
    }
    // the analysis label is the random part of the name
    let label = sources[1].description.clone().unwrap();
    assert_eq!(label.len(), 10, "{label}");
    assert_eq!(analysis[0], format!("dandi20230622_{label}.nwb"));
    let before: Vec<String> = sources.iter().map(|s| md5_of(&s.path)).collect();
    let raw_md5 = md5_of(&raw_file);

    let out = env.dir.path().join("dandiset");
    let t1 = std::time::Instant::now();
    let report = organise_dandiset(&sources, &out, &DandiOptions::default()).unwrap();
    let organise = t1.elapsed();
    assert!(report.is_clean(), "{report}");
    assert!(report.wrote_dandiset_yaml);
    assert_eq!(report.files.len(), 3, "{report}");
    // the `_` copy (external links) is replaced by the raw file
    assert_eq!(
        std::fs::canonicalize(&report.files[0].file).unwrap(),
        std::fs::canonicalize(&raw_file).unwrap()
    );
    for (f, s) in report.files.iter().zip(&sources) {
        assert_eq!(f.source, s.path);
        assert!(is_dandi_path(&f.dandi_path), "{}", f.dandi_path);
        let dest = out.join(&f.dandi_path);
        let meta = std::fs::symlink_metadata(&dest).unwrap();
        assert!(
            meta.file_type().is_file(),
            "{} is not a regular file",
            dest.display()
        );
        assert!(matches!(f.placed, Placed::HardLink | Placed::Copy));
    }
    // hand-derived names: subject synth01, session_id "synth01_1" (subject_seed) sanitised,
    // the raw file holds ecephys + behavior, both LFP files ecephys only -> desc labels
    let ses = "sub-synth01/sub-synth01_ses-synth01-1";
    let d = |i: usize| sources[i].description.clone().unwrap();
    let want = [
        format!("{ses}_behavior+ecephys.nwb"),
        format!("{ses}_desc-{}_ecephys.nwb", d(1)),
        format!("{ses}_desc-{}_ecephys.nwb", d(2)),
    ];
    let got: Vec<&str> = report.files.iter().map(|f| f.dandi_path.as_str()).collect();
    assert_eq!(got, want, "{report}");
    // dandi names the same files the same way
    let recs: Vec<serde_json::Value> = report
        .files
        .iter()
        .zip(&sources)
        .map(|(f, s)| serde_json::json!({"path": f.file, "description": s.description}))
        .collect();
    let theirs = dandi_names(&recs);
    for f in &report.files {
        assert_eq!(
            theirs
                .get(&f.file.display().to_string())
                .map(String::as_str),
            Some(f.dandi_path.as_str()),
            "{theirs:?}"
        );
    }
    // sources untouched, the raw file's bytes are what DANDI gets
    let after: Vec<String> = sources.iter().map(|s| md5_of(&s.path)).collect();
    assert_eq!(before, after);
    assert_eq!(md5_of(&out.join(&want[0])), raw_md5);

    // dandi validate, offline
    let t2 = std::time::Instant::now();
    let v = dandi::dandi_validate(&dandi_exe(), &out).unwrap();
    let validate = t2.elapsed();
    assert!(v.passed, "{}", v.output);
    assert_eq!(v.exit_code, Some(0));
    assert!(v.output.contains("No errors found"), "{}", v.output);

    // the raw file and its `_` copy together are one file
    let both = [
        DandiSource::raw(&copy, &nwb),
        DandiSource::raw(&raw_file, &nwb),
    ];
    let dry = DandiOptions {
        dry_run: true,
        ..DandiOptions::default()
    };
    let r = organise_dandiset(&both, &out, &dry).unwrap();
    assert!(r.is_clean(), "{r}");
    let got: Vec<&str> = r.files.iter().map(|f| f.dandi_path.as_str()).collect();
    assert_eq!(got, [want[0].as_str(), want[0].as_str()]);

    // organising again changes nothing
    let again = organise_dandiset(&sources, &out, &DandiOptions::default()).unwrap();
    assert!(again.is_clean(), "{again}");
    assert!(!again.wrote_dandiset_yaml);
    assert!(again
        .files
        .iter()
        .all(|f| f.placed == Placed::AlreadyPresent));
    // copies instead of hard links into a second folder give the same layout
    let out2 = env.dir.path().join("dandiset2");
    let opts = DandiOptions {
        transfer: Transfer::Copy,
        ..DandiOptions::default()
    };
    let copied = organise_dandiset(&sources, &out2, &opts).unwrap();
    assert!(copied.files.iter().all(|f| f.placed == Placed::Copy));
    assert_eq!(
        copied
            .files
            .iter()
            .map(|f| &f.dandi_path)
            .collect::<Vec<_>>(),
        report
            .files
            .iter()
            .map(|f| &f.dandi_path)
            .collect::<Vec<_>>()
    );
    // a different file where one belongs is a problem, not overwritten
    std::fs::write(out2.join(&want[1]), b"not nwb").unwrap();
    let clash = organise_dandiset(&sources, &out2, &opts).unwrap();
    let r: Vec<Rule> = clash.problems.iter().map(|p| p.rule).collect();
    assert_eq!(r, [Rule::Destination], "{clash}");
    assert_eq!(std::fs::read(out2.join(&want[1])).unwrap(), b"not nwb");
    eprintln!(
        "timings: setup {:.2?}, organise {:.2?}, dandi validate {:.2?}",
        setup, organise, validate
    );
}
