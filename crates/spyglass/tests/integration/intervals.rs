//! IntervalList and the interval algebra: hand-derived cases (with the edge cases
//! empty, touching, nested and zero-length), cautious insert, valid intervals from
//! timestamps with gaps, and property tests through the database (stored lists
//! come back equal, and intersection ⊆ both, union ⊇ both, subtraction avoids the
//! subtrahend, consolidation is idempotent on what is stored).

use crate::common;

use common::*;
use proptest::prelude::*;
use spyglass::common::common_interval::{self as iv, IntervalInsert, IntervalList, Intervals};
use spyglass::common::{common_nwbfile as nwbf, common_session as sess};
use spyglass_db::{InsertOptions, Row, Value};

/// A bare session (a registered dummy file and a Session row) to hang lists on.
fn session(env: &Env, name: &str) {
    let p = spyglass::settings::absolute(&env.settings.raw_dir).join(name);
    std::fs::write(&p, b"placeholder").unwrap();
    env.db
        .insert1(
            nwbf::NWBFILE,
            Row::from_pairs([
                ("nwb_file_name", Value::from(name)),
                ("nwb_file_abs_path", p.display().to_string().into()),
            ]),
            InsertOptions::default(),
        )
        .unwrap();
    env.db
        .insert1(
            sess::SESSION,
            Row::from_pairs([
                ("nwb_file_name", Value::from(name)),
                ("session_description", "test".into()),
                ("session_start_time", "2023-01-01 00:00:00".into()),
                ("timestamps_reference_time", "2023-01-01 00:00:00".into()),
            ]),
            InsertOptions {
                allow_direct_insert: true,
                ..Default::default()
            },
        )
        .unwrap();
}

fn iv_(v: &[[f64; 2]]) -> Intervals {
    Intervals::consolidate(v.to_vec()).unwrap()
}

#[test]
fn hand_derived_algebra() {
    let a = iv_(&[[0.0, 5.0], [8.0, 10.0]]);
    let b = iv_(&[[1.0, 2.0], [3.0, 4.0], [6.0, 9.0]]);
    assert_eq!(
        a.intersect(&b).as_slice(),
        &[[1.0, 2.0], [3.0, 4.0], [8.0, 9.0]]
    );
    assert_eq!(a.union(&b).as_slice(), &[[0.0, 5.0], [6.0, 10.0]]);
    // Spyglass's documented example (its doc comment omits (2, 3))
    assert_eq!(
        a.subtract(&b).as_slice(),
        &[[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [9.0, 10.0]]
    );
    assert_eq!(b.subtract(&a).as_slice(), &[[6.0, 8.0]]);

    // empty lists
    let e = Intervals::empty();
    assert!(a.intersect(&e).is_empty() && e.intersect(&a).is_empty());
    assert_eq!(a.union(&e), a);
    assert_eq!(a.subtract(&e), a);
    assert!(e.subtract(&a).is_empty());
    assert!(e.indices_inside(&[1.0, 2.0]).is_empty());

    // touching intervals merge, and meet in a single point only
    let t = iv_(&[[0.0, 1.0], [1.0, 2.0]]);
    assert_eq!(t.as_slice(), &[[0.0, 2.0]]);
    assert!(iv_(&[[0.0, 1.0]]).intersect(&iv_(&[[1.0, 2.0]])).is_empty());
    assert_eq!(
        iv_(&[[0.0, 1.0]]).union(&iv_(&[[1.0, 2.0]])).as_slice(),
        &[[0.0, 2.0]]
    );
    assert!(Intervals::new(vec![[0.0, 1.0], [1.0, 2.0]]).is_err());

    // nested intervals are absorbed, and cut holes
    let n = iv_(&[[0.0, 10.0], [2.0, 3.0]]);
    assert_eq!(n.as_slice(), &[[0.0, 10.0]]);
    assert_eq!(
        n.subtract(&iv_(&[[2.0, 3.0]])).as_slice(),
        &[[0.0, 2.0], [3.0, 10.0]]
    );
    assert_eq!(n.intersect(&iv_(&[[2.0, 3.0]])).as_slice(), &[[2.0, 3.0]]);

    // zero-length intervals are points: inside, but of no length
    let z = iv_(&[[5.0, 5.0]]);
    assert!(z.contains(5.0) && !z.contains(5.1));
    assert!(z.intersect(&iv_(&[[0.0, 10.0]])).is_empty());
    assert_eq!(iv_(&[[0.0, 10.0]]).subtract(&z).as_slice(), &[[0.0, 10.0]]);
    assert_eq!(
        z.union(&iv_(&[[6.0, 7.0]])).as_slice(),
        &[[5.0, 5.0], [6.0, 7.0]]
    );
    assert_eq!(z.total_length(), 0.0);

    // minimum length is strict; which times fall inside (bounds inclusive)
    let l = iv_(&[[0.0, 1.0], [2.0, 4.0]]);
    assert_eq!(l.longer_than(1.0).as_slice(), &[[2.0, 4.0]]);
    assert_eq!(l.by_length(0.5, 2.0).as_slice(), &[[0.0, 1.0]]);
    assert_eq!(
        iv_(&[[1.0, 2.0]]).indices_inside(&[0.0, 1.0, 1.5, 2.0, 3.0]),
        vec![1, 2, 3]
    );
    assert_eq!(
        iv::index_runs(&[2, 3, 4, 6, 7, 8, 9, 10]),
        vec![[2, 4], [6, 10]]
    );

    // bad input is an error, not a panic
    assert!(Intervals::consolidate(vec![[2.0, 1.0]]).is_err());
    assert!(Intervals::consolidate(vec![[f64::NAN, 1.0]]).is_err());
}

#[test]
fn valid_intervals_split_at_gaps() {
    // 10 Hz for 2 s, a 1 s gap, 10 Hz for 1 s
    let mut ts: Vec<f64> = (0..20).map(|k| k as f64 * 0.1).collect();
    ts.extend((0..10).map(|k| 2.9 + k as f64 * 0.1));
    let v = iv::valid_intervals(&ts, 10.0, 1.75, 0.0).unwrap();
    assert_eq!(v.len(), 2);
    let want = [[0.0 - 1e-7, 1.9 + 1e-7], [2.9 - 1e-7, 3.8 + 1e-7]];
    for (g, w) in v.iter().zip(want) {
        assert!(
            (g[0] - w[0]).abs() < 1e-12 && (g[1] - w[1]).abs() < 1e-12,
            "{v:?}"
        );
    }
    // a gap of 1.5 periods is below the 1.75 factor: no split
    let ts: Vec<f64> = [0.0, 0.1, 0.2, 0.35, 0.45].to_vec();
    assert_eq!(iv::valid_intervals(&ts, 10.0, 1.75, 0.0).unwrap().len(), 1);
    // pieces not longer than the minimum are dropped
    let v =
        iv::valid_intervals(&[0.0, 0.1, 0.2, 5.0, 5.1, 5.2, 5.3, 5.4], 10.0, 1.75, 0.3).unwrap();
    assert_eq!(v.len(), 1);
    assert!((v.as_slice()[0][0] - (5.0 - 1e-7)).abs() < 1e-12);
}

#[test]
fn interval_lists_insert_cautiously_and_fetch_back() {
    let env = Env::new();
    session(&env, "iv_.nwb");
    let l = IntervalList::new("iv_.nwb", "01_s1", vec![[1.0, 2.0], [3.0, 4.5]]);
    assert_eq!(
        iv::insert(&env.db, &l, false).unwrap(),
        IntervalInsert::Inserted
    );
    assert_eq!(
        iv::insert(&env.db, &l, false).unwrap(),
        IntervalInsert::Unchanged
    );
    let other = IntervalList::new("iv_.nwb", "01_s1", vec![[1.0, 2.5]]);
    let e = iv::insert(&env.db, &other, false).unwrap_err().to_string();
    assert!(e.contains("01_s1") && e.contains("other times"), "{e}");
    assert_eq!(
        iv::insert(&env.db, &other, true).unwrap(),
        IntervalInsert::Updated
    );
    assert_eq!(
        iv::fetch_list(&env.db, "iv_.nwb", "01_s1")
            .unwrap()
            .valid_times,
        vec![[1.0, 2.5]]
    );
    // an empty list and a pipeline round-trip
    let empty = IntervalList::new("iv_.nwb", "nothing", vec![]).with_pipeline("lfp_v1");
    iv::insert(&env.db, &empty, false).unwrap();
    let back = iv::fetch_list(&env.db, "iv_.nwb", "nothing").unwrap();
    assert_eq!(
        (back.valid_times.len(), back.pipeline.as_str()),
        (0, "lfp_v1")
    );
    assert_eq!(
        iv::list_names(&env.db, "iv_.nwb").unwrap(),
        ["01_s1", "nothing"]
    );
    // stored algebra: intersection of two named lists with a minimum length
    iv::insert(
        &env.db,
        &IntervalList::new(
            "iv_.nwb",
            "raw data valid times",
            vec![[0.0, 1.2], [2.0, 10.0]],
        ),
        false,
    )
    .unwrap();
    let x = iv::intersect_lists(&env.db, "iv_.nwb", "01_s1", "raw data valid times", 0.1).unwrap();
    assert_eq!(x.as_slice(), &[[1.0, 1.2], [2.0, 2.5]]);
    let x = iv::intersect_lists(&env.db, "iv_.nwb", "01_s1", "raw data valid times", 0.3).unwrap();
    assert_eq!(x.as_slice(), &[[2.0, 2.5]]);
    // reversed or non-finite intervals are refused before touching the database
    let bad = IntervalList::new("iv_.nwb", "bad", vec![[3.0, 1.0]]);
    assert!(iv::insert(&env.db, &bad, false)
        .unwrap_err()
        .to_string()
        .contains("bad"));
    assert!(iv::fetch_list(&env.db, "iv_.nwb", "missing").is_err());
}

fn raw_pairs() -> impl Strategy<Value = Vec<[f64; 2]>> {
    prop::collection::vec((0u32..60, 0u32..10), 0..10).prop_map(|v| {
        v.into_iter()
            .map(|(s, l)| [s as f64 * 0.5, (s + l) as f64 * 0.5])
            .collect()
    })
}

fn probes() -> Vec<f64> {
    (-2..70).map(|k| k as f64 * 0.5 + 0.25).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn stored_lists_obey_the_set_laws(a in raw_pairs(), b in raw_pairs()) {
        init();
        thread_local! { static ENV: Env = { let e = Env::new(); session(&e, "p_.nwb"); e }; }
        ENV.with(|env| {
            let store = |name: &str, v: &[[f64; 2]]| {
                iv::insert(&env.db, &IntervalList::new("p_.nwb", name, v.to_vec()), true).unwrap();
                iv::fetch_intervals(&env.db, "p_.nwb", name).unwrap()
            };
            let x = store("a", &a);
            let y = store("b", &b);
            // the stored list is the consolidated input, and consolidation is idempotent
            assert_eq!(&x, &Intervals::consolidate(a.clone()).unwrap());
            assert_eq!(&Intervals::consolidate(x.clone().into_vec()).unwrap(), &x);
            let (i, u, d) = (x.intersect(&y), x.union(&y), x.subtract(&y));
            for t in probes() {
                if i.contains(t) { assert!(x.contains(t) && y.contains(t), "intersection not inside both at {t}"); }
                if x.contains(t) || y.contains(t) { assert!(u.contains(t), "union misses {t}"); }
                if d.contains(t) { assert!(x.contains(t) && !y.contains(t) || y.iter().any(|[s, e]| t == *s || t == *e), "difference meets the subtrahend at {t}"); }
            }
            assert!(d.intersect(&y).is_empty(), "x - y overlaps y: {d:?} {y:?}");
            assert!(i.total_length() <= x.total_length().min(y.total_length()) + 1e-12);
            assert!(u.total_length() + 1e-12 >= x.total_length().max(y.total_length()));
            // stored results come back unchanged
            let back = store("i", i.as_slice());
            assert_eq!(back, i);
        });
    }
}
