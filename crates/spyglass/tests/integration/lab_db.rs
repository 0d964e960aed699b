//! Writing as Spyglass means it, on SQLite and the test MariaDB: a cascading
//! delete takes the `~external_*` rows and — after its transaction commits — the
//! files only the deleted rows referred to (`keep_files` keeps them; a rolled-back
//! delete keeps everything); filters are inserted if absent, replaced only on
//! request and only without dependent rows, stored with Spyglass's dtypes and
//! refused beyond the tap limit; updates that change nothing succeed;
//! `AnalysisRegistry` is filled once.

use crate::common;

use common::*;
use spyglass::analysis;
use spyglass::common::common_nwbfile as nwbf;
use spyglass::filter::{self, Added, FilterType, FIR_FILTER_PARAMETERS};
use spyglass_db::delete::DeleteOptions;
use spyglass_db::{Cond, InsertOptions, Row, TableSpec, Tier, Value};
use spyglass_nwb::synthetic::{write_session, SyntheticParams};
use spyglass_nwb::{Placement, SeriesData, TimeSeriesSpec, TimingSpec};
use std::path::PathBuf;

fn both() -> Vec<Env> {
    vec![Env::new(), Env::mariadb()]
}

/// A session with one analysis file that a downstream row refers to; returns
/// (session, analysis file, the copy's path, the analysis file's path, the source).
fn session_with_analysis(env: &Env, stem: &str) -> (String, String, PathBuf, PathBuf, PathBuf) {
    let src = env.staging().join(format!("{stem}.nwb"));
    let p = SyntheticParams {
        duration_s: 1.0,
        n_channels: 2,
        n_groups: 1,
        n_units: 1,
        ..SyntheticParams::default()
    };
    write_session(&src, &p).unwrap();
    assert!(env.insert(std::slice::from_ref(&src))[0].is_ok());
    let nwb = format!("{stem}_.nwb");
    env.db
        .declare(
            "test_results",
            &TableSpec::new(
                "Result",
                Tier::Manual,
                "result_name : varchar(64)\n---\n-> common_nwbfile.AnalysisNwbfile",
            ),
        )
        .unwrap();
    let (name, _) = analysis::build(&env.db, &env.settings, &nwb, "trace", |w| {
        Ok(w.add_time_series(
            &Placement::Scratch,
            &TimeSeriesSpec {
                name: "trace".into(),
                shape: vec![3],
                data: SeriesData::F64(vec![1.0, 2.0, 3.0]),
                unit: "a.u.".into(),
                timing: TimingSpec::Rate {
                    rate: 10.0,
                    starting_time: 0.0,
                },
                ..TimeSeriesSpec::default()
            },
        )?)
    })
    .unwrap();
    env.db
        .insert1(
            "test_results.Result",
            Row::from_pairs([
                ("result_name", Value::from(stem)),
                ("analysis_file_name", Value::from(name.as_str())),
            ]),
            InsertOptions::default(),
        )
        .unwrap();
    let copy = analysis::nwb_file_path(&env.db, &nwb).unwrap();
    let file = analysis::analysis_file_path(&env.db, &name).unwrap();
    (nwb, name, copy, file, src)
}

fn external_paths(env: &Env, store: &str) -> Vec<String> {
    let schema = env
        .db
        .table_info(nwbf::NWBFILE)
        .unwrap()
        .name
        .schema
        .clone();
    let ext = env.db.external_table(&schema, store);
    let sql = format!(
        "SELECT {c} FROM {} ORDER BY {c}",
        env.db.dialect().table(&ext),
        c = env.db.dialect().ident("filepath")
    );
    env.db
        .query_raw(&sql, &[])
        .unwrap()
        .into_iter()
        .map(|r| match &r[0] {
            spyglass_db::SqlValue::Text(s) => s.clone(),
            spyglass_db::SqlValue::Bytes(b) => String::from_utf8(b.clone()).unwrap(),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn a_delete_takes_its_external_rows_and_files_after_commit() {
    for env in both() {
        let (nwb, name, copy, file, src) = session_with_analysis(&env, "gone20230622");
        let (nwb2, name2, copy2, file2, _) = session_with_analysis(&env, "kept20230623");
        let key = Cond::map([("nwb_file_name", nwb.as_str())]);

        // a delete that rolls back keeps rows, external rows and files
        let failed: spyglass_db::Result<()> = env.db.transaction(|| {
            env.db
                .delete(nwbf::NWBFILE, key.clone(), DeleteOptions::default())?;
            Err(spyglass_db::Error::Refused("changed my mind".into()))
        });
        assert!(failed.is_err());
        assert!(copy.exists() && file.exists());
        assert_eq!(env.rows(nwbf::NWBFILE, &nwb).len(), 1);
        assert_eq!(external_paths(&env, "analysis").len(), 2);

        // the delete: rows, external rows and the files of this session only
        env.db
            .delete(nwbf::NWBFILE, key, DeleteOptions::default())
            .unwrap();
        assert!(!copy.exists(), "{}", copy.display());
        assert!(!file.exists(), "{}", file.display());
        assert!(src.exists(), "the original recording stays");
        assert_eq!(
            external_paths(&env, "raw"),
            vec![copy2.file_name().unwrap().to_string_lossy().to_string()]
        );
        let dir2 = analysis::analysis_dir_name(&name2);
        assert_eq!(
            external_paths(&env, "analysis"),
            vec![format!("{dir2}/{name2}")]
        );
        assert!(!external_paths(&env, "analysis")
            .iter()
            .any(|p| p.contains(&name)));
        assert!(copy2.exists() && file2.exists());
        let schema = env
            .db
            .table_info(nwbf::NWBFILE)
            .unwrap()
            .name
            .schema
            .clone();
        assert!(env
            .db
            .external_unused(&schema, "analysis", false)
            .unwrap()
            .is_empty());

        // --keep-files: rows go, files stay
        env.db
            .delete(
                nwbf::NWBFILE,
                Cond::map([("nwb_file_name", nwb2.as_str())]),
                DeleteOptions {
                    keep_files: true,
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(external_paths(&env, "analysis").is_empty());
        assert!(external_paths(&env, "raw").is_empty());
        assert!(copy2.exists() && file2.exists());
    }
}

#[test]
fn filters_are_kept_replaced_on_request_and_limited() {
    for env in both() {
        let db = &env.db;
        let add = |comment: &str, edges: &[f64], replace: bool| {
            filter::add_filter(
                db,
                "Gamma",
                1000,
                FilterType::Bandpass,
                edges,
                comment,
                replace,
            )
        };
        let edges = [25.0, 30.0, 80.0, 85.0];
        assert_eq!(add("gamma", &edges, false).unwrap().1, Added::Inserted);
        assert_eq!(
            add("gamma", &edges, false).unwrap().1,
            Added::Kept { same: true }
        );
        // another comment or design is not written without --replace
        assert_eq!(
            add("other", &[20.0, 30.0, 80.0, 90.0], false).unwrap().1,
            Added::Kept { same: false }
        );
        let stored = |k: &str| {
            let q = db
                .table(FIR_FILTER_PARAMETERS)
                .unwrap()
                .restrict(Cond::map([("filter_name", "Gamma")]))
                .unwrap();
            db.fetch1(&q).unwrap().get(k).cloned().unwrap()
        };
        assert_eq!(stored("filter_comments"), Value::from("gamma"));
        // band edges as Spyglass stores np.asarray([25, 30, 80, 85]): int64
        let e = stored("filter_band_edges");
        let arr = e.as_blob().and_then(|b| b.as_array()).unwrap();
        assert_eq!(arr.dtype(), spyglass_blob::Dtype::Int64);
        assert_eq!(arr.to_row_major::<i64>().unwrap(), vec![25, 30, 80, 85]);
        // replacing is allowed while nothing depends on the row
        assert_eq!(
            add("other", &[20.0, 30.0, 80.0, 90.0], true).unwrap().1,
            Added::Replaced
        );
        assert_eq!(stored("filter_comments"), Value::from("other"));
        assert_eq!(stored("filter_low_stop").as_f64(), Some(20.0));
        // ... and refused once a row depends on it, leaving the row as it was
        db.declare(
            "test_filter_users",
            &TableSpec::new(
                "Use",
                Tier::Manual,
                "use_id : int\n---\n-> common_filter.FirFilterParameters",
            ),
        )
        .unwrap();
        db.insert1(
            "test_filter_users.Use",
            Row::from_pairs([
                ("use_id", Value::from(1)),
                ("filter_name", Value::from("Gamma")),
                ("filter_sampling_rate", Value::from(1000)),
            ]),
            InsertOptions::default(),
        )
        .unwrap();
        let err = add("third", &edges, true).unwrap_err().to_string();
        assert!(
            err.contains("rows were computed with it") && err.contains("test_filter_users.Use"),
            "{err}"
        );
        assert_eq!(stored("filter_comments"), Value::from("other"));
        // non-integral edges are float64, as np.asarray([0.5, 1.5]) is
        filter::add_filter(
            db,
            "Slow",
            1000,
            FilterType::Lowpass,
            &[0.5, 1.5],
            "",
            false,
        )
        .unwrap();
        let q = db
            .table(FIR_FILTER_PARAMETERS)
            .unwrap()
            .restrict(Cond::map([("filter_name", "Slow")]))
            .unwrap();
        let row = db.fetch1(&q).unwrap();
        let dt = row
            .get("filter_band_edges")
            .and_then(Value::as_blob)
            .and_then(|b| b.as_array())
            .map(|a| a.dtype());
        assert_eq!(dt, Some(spyglass_blob::Dtype::Float64));

        // issue 13 case 15: absurd designs are refused before any allocation
        let before = env.count(FIR_FILTER_PARAMETERS);
        for (rate, e) in [
            (4_294_967_295u32, [1.0, 1.0000001]),
            (1000, [0.0001, 0.0002]),
        ] {
            let err = filter::add_filter(db, "x", rate, FilterType::Lowpass, &e, "", false)
                .unwrap_err()
                .to_string();
            assert!(err.contains("taps, more than the 1000001 allowed"), "{err}");
        }
        assert_eq!(env.count(FIR_FILTER_PARAMETERS), before);
        // the largest allowed design still works: 1000 Hz with a 0.006 Hz transition is < 1e6 taps
        let taps = spyglass_dsp::estimate_taps(1000.0, 0.006).unwrap();
        assert!(taps <= filter::MAX_TAPS && taps > 800_000, "{taps}");
    }
}

#[test]
fn updates_that_change_nothing_succeed_and_the_registry_is_filled_once() {
    for env in both() {
        let db = &env.db;
        spyglass::defaults::insert_defaults(db, &[]).unwrap();
        let q = db
            .table(FIR_FILTER_PARAMETERS)
            .unwrap()
            .restrict(Cond::map([("filter_sampling_rate", 30000)]))
            .unwrap();
        let row = db.fetch1(&q).unwrap();
        // MySQL reports 0 affected rows for an update that changes nothing
        db.update1(FIR_FILTER_PARAMETERS, &row).unwrap();
        db.update1(FIR_FILTER_PARAMETERS, &row).unwrap();
        let missing = Row::from_pairs(row.iter().map(|(k, v)| {
            let v = if k == "filter_name" {
                Value::from("no such filter")
            } else {
                v.clone()
            };
            (k.to_string(), v)
        }));
        assert!(db.update1(FIR_FILTER_PARAMETERS, &missing).is_err());

        assert_eq!(env.count(nwbf::ANALYSIS_REGISTRY), 0);
        session_with_analysis(&env, "reg20230622");
        session_with_analysis(&env, "reg20230623");
        let rows = env.all(nwbf::ANALYSIS_REGISTRY);
        assert_eq!(rows.len(), 1, "{rows:?}");
        let table = db.table_info(nwbf::ANALYSIS_NWBFILE).unwrap();
        assert_eq!(
            s(&rows[0], "full_table_name"),
            format!("`{}`.`analysis_nwbfile`", table.name.schema)
        );
        let user = db.user().unwrap();
        assert_eq!(s(&rows[0], "created_by"), user.split('@').next().unwrap());
    }
}
