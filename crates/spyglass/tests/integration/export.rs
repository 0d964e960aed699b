//! Paper export end to end on two synthetic sessions with LFPV1 run on both, of which
//! the paper's analysis reads only the first: what the log holds, the exact rows and
//! files the cascade selects (counted by hand from the synthetic layout: 1 shank × 4
//! electrodes in 1 group, one experimenter), a bundle that answers the analysis's
//! fetches identically, long restrictions kept whole, the SQL file loaded into an
//! empty MariaDB and read back by datajoint-python, and the mysqldump script run
//! against a MariaDB source.

use crate::common;

use common::*;
use spyglass::common::common_interval::RAW_VALID_TIMES;
use spyglass::export::{self, paper, ExportOptions};
use spyglass::lfp::{self, v1};
use spyglass_db::{Cond, Db, FetchSpec, Query, Value};
use spyglass_nwb::synthetic::{write_session, SyntheticParams};
use std::path::Path;

const SESSION: &str = "common_session.Session";
const ELECTRODE: &str = "common_ephys.Electrode";
const INTERVAL: &str = "common_interval.IntervalList";

/// Ingests `stem`.nwb (4 channels, 1 group) and runs LFPV1 on it; returns nwb_file_name and LFPV1 key.
fn session(env: &Env, stem: &str, subject: &str) -> (String, spyglass_db::Row) {
    let p = SyntheticParams {
        duration_s: 3.0,
        n_channels: 4,
        n_groups: 1,
        n_units: 1,
        subject_id: subject.to_string(),
        ..SyntheticParams::default()
    };
    let src = env.staging().join(format!("{stem}.nwb"));
    write_session(&src, &p).unwrap();
    let r = env.insert(&[src]);
    assert!(r[0].is_ok(), "{:?}", r[0].status);
    let nwb = r[0].nwb_file_name.clone();
    spyglass::defaults::insert_defaults(&env.db, &[]).unwrap();
    lfp::lfp_electrode::create_group(&env.db, &nwb, "all", &[0, 1, 2, 3]).unwrap();
    let key = select_lfp(env, &nwb, "all", RAW_VALID_TIMES, 30_000);
    let rep = spyglass::populate(&env.db, &env.settings, v1::LFPV1, Cond::from(&key)).unwrap();
    assert_eq!(rep.success_count, 1);
    (nwb, key)
}

/// The analysis of the paper: three fetches and one fetch_nwb, all on session `nwb`.
fn analysis(db: &Db, nwb: &str, key: &spyglass_db::Row) -> Vec<Vec<spyglass_db::Row>> {
    let by_file = Cond::map([("nwb_file_name", nwb)]);
    let q = |t: &str| db.table(t).unwrap().restrict(by_file.clone()).unwrap();
    let sorted = FetchSpec::default().order_by(&["KEY"]);
    let mut out = vec![
        db.fetch_with(&q(SESSION), &sorted).unwrap(),
        db.fetch_with(&q(ELECTRODE), &sorted).unwrap(),
        db.fetch_with(
            &q(INTERVAL)
                .restrict(Cond::sql("interval_list_name LIKE 'raw%'"))
                .unwrap(),
            &sorted,
        )
        .unwrap(),
    ];
    let lfp = db
        .table(v1::LFPV1)
        .unwrap()
        .restrict(Cond::from(key))
        .unwrap();
    let rows = spyglass::fetch_nwb::fetch_nwb(db, &lfp).unwrap();
    out.push(rows.into_iter().map(|r| r.row).collect());
    out
}

/// Values that do not depend on where files live: file paths become their file names.
fn portable(rows: &[spyglass_db::Row]) -> Vec<String> {
    rows.iter()
        .map(|r| {
            r.iter()
                .map(|(k, v)| {
                    let s = v.python_str();
                    if k.ends_with("_abs_path") {
                        Path::new(&s)
                            .file_name()
                            .unwrap()
                            .to_string_lossy()
                            .to_string()
                    } else {
                        s
                    }
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

/// Starts an empty MariaDB, loads `sql` with the `mysql` client; returns its URL and port.
fn load_into_empty_mariadb(sql: &Path) -> (String, String) {
    let url = spyglass_testkit::fresh_mariadb();
    let port = url.rsplit(':').next().unwrap().to_string();
    let status = std::process::Command::new("mysql")
        .args([
            "--protocol=TCP",
            "-h",
            "127.0.0.1",
            "-P",
            &port,
            "-u",
            "root",
        ])
        .stdin(std::fs::File::open(sql).unwrap())
        .status()
        .expect("the mysql client (scripts/setup.sh installs it)");
    assert!(status.success(), "mysql < {}", sql.display());
    (url, port)
}

fn count_in(db: &Db, table: &str) -> u64 {
    db.count(&db.table(table).unwrap()).unwrap()
}

#[test]
fn paper_export_holds_exactly_the_analysis_slice() {
    paper_export(Env::new());
}

/// The same paper on a lab's MariaDB server: ingestion, LFPV1, logging and the export
/// run against the DataJoint layout, and give the same hand-counted slice.
#[test]
fn paper_export_from_a_mariadb_lab_database() {
    paper_export(Env::mariadb());
}

fn paper_export(env: Env) {
    let (a, key_a) = session(&env, "alpha20230622", "ratA");
    let (b, _key_b) = session(&env, "beta20230623", "ratB");
    let db = &env.db;

    let id = export::start_export(db, "paper1", "lfp").unwrap();
    assert_eq!(export::active_export(db), Some(id));
    // a second export cannot start while one is active
    assert!(export::resume_export(db, id + 1).is_err());
    let before = analysis(db, &a, &key_a);
    // a long restriction (an OR of 60 electrode maps, far over 2048 characters)
    let many: Vec<Cond> = (0..60)
        .map(|i| {
            Cond::map([
                ("nwb_file_name", Value::from(a.as_str())),
                ("electrode_id", Value::from(i % 4)),
            ])
        })
        .collect();
    let long = db
        .table(ELECTRODE)
        .unwrap()
        .restrict(Cond::Or(many))
        .unwrap();
    assert_eq!(db.fetch(&long).unwrap().len(), 4);
    assert_eq!(export::stop_export(db), Some(id));
    // fetches after stop are not logged
    db.fetch(&db.table(SESSION).unwrap()).unwrap();

    let logged = export::preview_tables(db, "paper1").unwrap();
    let tables: std::collections::BTreeSet<String> =
        logged.iter().map(|r| r.table.pretty()).collect();
    let want: std::collections::BTreeSet<String> = [
        SESSION,
        ELECTRODE,
        INTERVAL,
        v1::LFPV1,
        "common_nwbfile.AnalysisNwbfile",
    ]
    .iter()
    .map(|t| db.table_info(t).unwrap().name.pretty())
    .collect();
    assert_eq!(tables, want, "{logged:#?}");
    assert!(logged
        .iter()
        .all(|r| r.restriction.len() <= export::MAX_RESTRICTION));
    assert!(
        logged.iter().all(|r| !r.restriction.contains(&b)),
        "session B never fetched"
    );
    // the long OR was logged whole as keys: together its rows select the 4 electrodes
    let electrode_logs: Vec<Cond> = logged
        .iter()
        .filter(|r| r.table == db.table_info(ELECTRODE).unwrap().name)
        .map(|r| Cond::sql(r.restriction.clone()))
        .collect();
    let back = db
        .table(ELECTRODE)
        .unwrap()
        .restrict(Cond::Or(electrode_logs))
        .unwrap();
    assert_eq!(db.count(&back).unwrap(), 4);
    assert_eq!(export::logged_files(db, "paper1").unwrap().len(), 1);

    // inspection before writing anything: the same tables and files populate_paper writes
    let all = export::show_all_tables(db, "paper1").unwrap();
    let paths = export::list_file_paths(db, "paper1").unwrap();
    assert_eq!(paths.len(), 3);
    let out = env.dir.path().join("exports");
    let done = paper::populate_paper(
        db,
        &env.settings,
        "paper1",
        &ExportOptions {
            out_dir: Some(out.clone()),
            dandi_dir: None,
        },
    )
    .unwrap();
    let rows = |t: &str| {
        let name = db.table_info(t).unwrap().name.clone();
        done.tables
            .iter()
            .find(|(n, _)| n == &name)
            .map(|(_, c)| *c)
            .unwrap_or(0)
    };
    // by hand: session A only — 1 session, 1 subject, 1 experimenter (LabMember), 1 group,
    // 4 electrodes on 1 probe (1 shank, 4 probe electrodes), 1 Nwbfile, the LFP analysis
    // file, the one filter used, the LFP selection and its 4 electrodes, LFPV1, and the
    // interval lists: the fetched raw valid times + LFPV1's own output interval
    assert_eq!(rows(SESSION), 1);
    assert_eq!(rows("common_subject.Subject"), 1);
    assert_eq!(rows("common_lab.LabMember"), 1);
    assert_eq!(rows("common_ephys.ElectrodeGroup"), 1);
    assert_eq!(rows(ELECTRODE), 4);
    assert_eq!(rows("common_device.Probe"), 1);
    assert_eq!(rows("common_device.Probe.Shank"), 1);
    assert_eq!(rows("common_device.Probe.Electrode"), 4);
    assert_eq!(rows("common_nwbfile.Nwbfile"), 1);
    assert_eq!(rows("common_nwbfile.AnalysisNwbfile"), 1);
    assert_eq!(rows("common_filter.FirFilterParameters"), 1);
    assert_eq!(rows(v1::LFP_SELECTION), 1);
    assert_eq!(rows(v1::LFPV1), 1);
    assert_eq!(rows(INTERVAL), 2);
    assert_eq!(
        rows("common_ephys.Raw"),
        0,
        "Raw was never fetched and is nobody's parent"
    );
    assert_eq!(all, done.tables);
    // files: session A's `_` copy, the raw file it links to, and the LFP analysis file
    let mut names: Vec<String> = done
        .files
        .iter()
        .map(|f| {
            f.relative
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string()
        })
        .collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.contains(&a) && names.contains(&"alpha20230622.nwb".to_string()));
    assert!(names.iter().all(|n| !n.starts_with("beta")));

    // the bundle re-opens as it is and answers the analysis identically
    let bundle_db = done.bundle.join(paper::BUNDLE_DB);
    let stores = paper::bundle_stores(&bundle_db).expect("a bundle");
    let bdb = Db::open(&format!("sqlite:///{}", bundle_db.display())).unwrap();
    // a lab's schema prefix stays in the schema names; the manifest records it
    assert_eq!(paper::bundle_prefix(&bundle_db), Some(db.prefix()));
    bdb.set_prefix(&db.prefix());
    for (name, dir) in stores {
        bdb.set_store(&name, spyglass_db::stores::StoreConfig::local(dir));
    }
    assert_eq!(count_in(&bdb, SESSION), 1);
    let after = analysis(&bdb, &a, &key_a);
    assert_eq!(after.len(), before.len());
    for (x, y) in before.iter().zip(&after) {
        assert!(!x.is_empty());
        assert_eq!(portable(x), portable(y));
    }
    // the LFP data read through the bundle equals the original
    let (va, ta) = v1::fetch_lfp_volts(db, &key_a).unwrap();
    let (vb, tb) = v1::fetch_lfp_volts(&bdb, &key_a).unwrap();
    assert_eq!((va, ta), (vb, tb));
    // the manifest's checksums are the files' MD5s
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(done.bundle.join(paper::MANIFEST)).unwrap())
            .unwrap();
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    for f in files {
        let p = done.bundle.join(f["path"].as_str().unwrap());
        let md5 = spyglass_db::stores::file_md5_uuid(&p)
            .unwrap()
            .simple()
            .to_string();
        assert_eq!(f["md5"].as_str().unwrap(), md5);
    }
    assert_eq!(manifest["software"]["version"], export::spyglass_version());
    // Export rows: one per export id, a Table row per non-empty table, a File row per file
    assert_eq!(count_in(db, export::EXPORT), 1);
    let non_empty = done.tables.iter().filter(|(_, n)| *n > 0).count() as u64;
    assert_eq!(count_in(db, export::EXPORT_TABLE), non_empty);
    assert_eq!(count_in(db, export::EXPORT_FILE), 3);
    // the script dumps every table of the slice
    let script = std::fs::read_to_string(&done.script).unwrap();
    assert!(
        script.starts_with("#!/bin/bash\nexec > _Populate_paper1.sql")
            || script.contains("exec > _Populate_paper1.sql")
    );
    assert!(script.contains("-- SPYGLASS VERSION:"));
    assert_eq!(
        script.matches("mysqldump --hex-blob").count(),
        done.tables.len()
    );
    // an unknown paper is a clear error
    let err = paper::populate_paper(db, &env.settings, "nope", &ExportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no export is logged for paper `nope`"),
        "{err}"
    );

    // the SQL file loads into an empty MariaDB and datajoint-python reads the rows
    let (url, port) = load_into_empty_mariadb(&done.sql_file);
    let loaded = Db::open(&url).unwrap();
    for (t, n) in &done.tables {
        let c = loaded.count(&loaded.query_of(t).unwrap()).unwrap();
        assert_eq!(c as usize, *n, "{}", t.pretty());
    }
    let counts: Vec<String> = done
        .tables
        .iter()
        .filter(|(t, n)| *n > 0 && !t.table.starts_with('~'))
        .map(|(t, n)| format!("{}|{}|{n}", t.schema, t.class_name()))
        .collect();
    let session_desc = before[0][0]
        .get("session_description")
        .unwrap()
        .python_str();
    let f = spyglass::filter::list(db)
        .unwrap()
        .into_iter()
        .find(|f| f.name == "LFP 0-400 Hz" && f.sampling_rate == 30_000)
        .unwrap();
    let edges: Vec<String> = f.band_edges.iter().map(|e| format!("{e:?}")).collect();
    let numtaps = f.numtaps.to_string();
    let code = r#"
import os, sys
os.environ['DJ_SUPPORT_FILEPATH_MANAGEMENT'] = 'TRUE'
import datajoint as dj
import numpy as np
port, checks, desc, nwb, edges, numtaps, prefix = sys.argv[1:8]
dj.config.update({'database.host': '127.0.0.1', 'database.port': int(port), 'database.user': 'root', 'database.password': '', 'database.use_tls': False, 'safemode': False})
mods = {}
bad = []
for item in checks.split(';'):
    schema, cls, n = item.split('|')
    if schema not in mods:
        mods[schema] = dj.VirtualModule(schema, schema)
    t = mods[schema]
    for part in cls.split('.'):
        t = getattr(t, part)
    got = len(t())
    if got != int(n):
        bad.append(f'{schema}.{cls}: {got} != {n}')
    if any(a.is_external for a in t.heading.attributes.values()):
        t().proj().fetch()  # file attributes need the lab's stores; keys suffice
    else:
        t().fetch()  # every value decodes (blobs included)
s = mods[prefix + 'common_session'].Session & {'nwb_file_name': nwb}
if s.fetch1('session_description') != desc:
    bad.append('session_description differs')
f = mods[prefix + 'common_filter'].FirFilterParameters.fetch1()
if not np.allclose(np.ravel(f['filter_band_edges']), [float(x) for x in edges.split(',')]):
    bad.append('filter band edges')
if np.size(f['filter_coeff']) != int(numtaps):
    bad.append('filter coefficients')
print('OK' if not bad else 'BAD ' + '; '.join(bad))
"#;
    let out = spyglass_testkit::run_python(
        code,
        &[
            &port,
            &counts.join(";"),
            &session_desc,
            &a,
            &edges.join(","),
            &numtaps,
            &db.prefix(),
        ],
    );
    assert_eq!(out.trim(), "OK", "{out}");
}

#[test]
fn mysqldump_script_reproduces_the_slice_from_a_mariadb_source() {
    init();
    // a small lab schema on the shared test server
    let src = Db::open(&spyglass_testkit::mysql_url()).unwrap();
    src.set_prefix(&spyglass_testkit::unique_prefix());
    let decl = |s: &str, spec: spyglass_db::TableSpec| src.declare(s, &spec).unwrap();
    use spyglass_db::{TableSpec, Tier};
    decl(
        "lab",
        TableSpec::new(
            "Subject",
            Tier::Manual,
            "subject_id : varchar(16)\n---\nweight : float",
        ),
    );
    decl(
        "lab",
        TableSpec::new(
            "Session",
            Tier::Manual,
            "-> Subject\nsession : int\n---\nnotes : varchar(255)\ndata = null : longblob",
        )
        .part("Epoch", "-> master\nepoch : int"),
    );
    let row = |pairs: &[(&str, Value)]| {
        spyglass_db::Row::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())))
    };
    let ins =
        |t: &str, rows: Vec<spyglass_db::Row>| src.insert(t, &rows, Default::default()).unwrap();
    ins(
        "lab.Subject",
        vec![
            row(&[("subject_id", "s1".into()), ("weight", 1.5.into())]),
            row(&[("subject_id", "s2".into()), ("weight", 2.5.into())]),
        ],
    );
    let blob = Value::Blob(Box::new(spyglass_blob::Value::Str(
        "it's \"quoted\" $HOME `x` \\ #".into(),
    )));
    ins(
        "lab.Session",
        vec![
            row(&[
                ("subject_id", "s1".into()),
                ("session", 1.into()),
                ("notes", "a 'quoted' $note".into()),
                ("data", blob.clone()),
            ]),
            row(&[
                ("subject_id", "s2".into()),
                ("session", 1.into()),
                ("notes", "other".into()),
                ("data", Value::Null),
            ]),
        ],
    );
    ins(
        "lab.Session.Epoch",
        (1..=3)
            .map(|e| {
                row(&[
                    ("subject_id", "s1".into()),
                    ("session", 1.into()),
                    ("epoch", e.into()),
                ])
            })
            .collect(),
    );
    let epoch = src.table_info("lab.Session.Epoch").unwrap().name.clone();
    let slice = src
        .cascade_up(&[(epoch, Cond::map([("epoch", 2)]))])
        .unwrap();
    // by hand: subject s1, its session, all 3 epochs
    assert_eq!(slice.total_rows(), 5);
    let dir = spyglass_testkit::scratch_dir();
    let script = dir.path().join("_ExportSQL_p.sh");
    paper::write_dump_script(&src, &slice, "p", &script).unwrap();
    // mysqldump finds the server in ~/.my.cnf, as on a lab machine
    let port = spyglass_testkit::mysql_url()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    std::fs::write(
        dir.path().join(".my.cnf"),
        format!("[client]\nhost=127.0.0.1\nport={port}\nuser=root\nprotocol=TCP\n"),
    )
    .unwrap();
    let status = std::process::Command::new("bash")
        .arg(&script)
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let dump = dir.path().join("_Populate_p.sql");
    let text = std::fs::read_to_string(&dump).unwrap();
    assert!(
        text.starts_with("--\n-- SPYGLASS VERSION:"),
        "{}",
        &text[..200.min(text.len())]
    );
    // loaded into an empty server, it holds exactly the slice, blob bytes included
    let (url, _) = load_into_empty_mariadb(&dump);
    let loaded = Db::open(&url).unwrap();
    for t in &slice.tables {
        let q: Query = loaded.query_of(&t.name).unwrap();
        assert_eq!(
            loaded.count(&q).unwrap() as usize,
            t.keys.len(),
            "{}",
            t.name.pretty()
        );
    }
    let session = src.table_info("lab.Session").unwrap().name.clone();
    let got = loaded.fetch(&loaded.query_of(&session).unwrap()).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].get("data"), Some(&blob));
    assert_eq!(
        got[0].get("notes").unwrap().as_str(),
        Some("a 'quoted' $note")
    );
}
