//! Property tests of the interval algebra: set identities checked against
//! point membership and lengths, on random lists whose bounds lie on a coarse
//! grid so that touching, nested, duplicate and zero-length intervals are common.

use proptest::prelude::*;
use spyglass_dsp::{index_runs, Intervals};

/// Raw (unsorted, overlapping) pairs with bounds on a 0.5 grid in [0, 40].
fn raw_pairs() -> impl Strategy<Value = Vec<[f64; 2]>> {
    prop::collection::vec((0u32..80, 0u32..12), 0..12).prop_map(|v| {
        v.into_iter()
            .map(|(s, len)| [s as f64 * 0.5, (s + len) as f64 * 0.5])
            .collect()
    })
}

fn intervals() -> impl Strategy<Value = Intervals> {
    raw_pairs().prop_map(|v| Intervals::consolidate(v).expect("valid pairs"))
}

/// Probe points off the grid (never on a bound) spanning beyond the range.
fn probes() -> Vec<f64> {
    (-4..90).map(|k| k as f64 * 0.5 + 0.25).collect()
}

fn subset(a: &Intervals, b: &Intervals) -> bool {
    a.iter().all(|[s, e]| match (b.find(*s), b.find(*e)) {
        (Some(i), Some(j)) => i == j,
        _ => false,
    })
}

fn assert_invariant(x: &Intervals) {
    assert!(
        Intervals::new(x.clone().into_vec()).is_ok(),
        "{x:?} breaks the invariant"
    );
}

proptest! {
    #[test]
    fn results_keep_the_invariant(a in intervals(), b in intervals()) {
        assert_invariant(&a);
        assert_invariant(&a.intersect(&b));
        assert_invariant(&a.union(&b));
        assert_invariant(&a.subtract(&b));
        assert_invariant(&a.longer_than(1.0));
    }

    #[test]
    fn intersection_is_inside_both(a in intervals(), b in intervals()) {
        let i = a.intersect(&b);
        prop_assert!(subset(&i, &a) && subset(&i, &b));
        prop_assert_eq!(&i, &b.intersect(&a));
        prop_assert!(i.iter().all(|[s, e]| e > s));
        for t in probes() {
            prop_assert_eq!(i.contains(t), a.contains(t) && b.contains(t), "t = {}", t);
        }
    }

    #[test]
    fn union_contains_both(a in intervals(), b in intervals()) {
        let u = a.union(&b);
        prop_assert!(subset(&a, &u) && subset(&b, &u));
        prop_assert_eq!(&u, &b.union(&a));
        for t in probes() {
            prop_assert_eq!(u.contains(t), a.contains(t) || b.contains(t), "t = {}", t);
        }
        // The union of the raw lists equals consolidating their concatenation.
        let mut both = a.clone().into_vec();
        both.extend(b.clone().into_vec());
        prop_assert_eq!(u, Intervals::consolidate(both).unwrap());
    }

    #[test]
    fn subtraction_avoids_the_subtrahend(a in intervals(), b in intervals()) {
        let d = a.subtract(&b);
        prop_assert!(d.intersect(&b).is_empty());
        prop_assert!(subset(&d, &a));
        for t in probes() {
            prop_assert_eq!(d.contains(t), a.contains(t) && !b.contains(t), "t = {}", t);
        }
        // a − (a − b) = a ∩ b
        prop_assert_eq!(a.subtract(&d), a.intersect(&b));
        prop_assert!(a.subtract(&a).is_empty());
        prop_assert_eq!(a.subtract(&Intervals::empty()), a.longer_than(0.0));
    }

    #[test]
    fn lengths_add_up(a in intervals(), b in intervals()) {
        let (la, lb) = (a.total_length(), b.total_length());
        let li = a.intersect(&b).total_length();
        prop_assert!((a.union(&b).total_length() + li - la - lb).abs() < 1e-9);
        prop_assert!((a.subtract(&b).total_length() + li - la).abs() < 1e-9);
    }

    #[test]
    fn consolidation_is_idempotent_and_order_free(raw in raw_pairs(), seed in any::<u64>()) {
        let c = Intervals::consolidate(raw.clone()).unwrap();
        prop_assert_eq!(Intervals::consolidate(c.clone().into_vec()).unwrap(), c.clone());
        let mut shuffled = raw.clone();
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(Intervals::consolidate(shuffled).unwrap(), c.clone());
        for t in probes() {
            let inside_raw = raw.iter().any(|[s, e]| *s <= t && t <= *e);
            prop_assert_eq!(c.contains(t), inside_raw);
        }
    }

    #[test]
    fn length_filter_is_strict(a in intervals(), min in 0u32..8) {
        let m = min as f64 * 0.5;
        let f = a.longer_than(m);
        prop_assert!(f.iter().all(|[s, e]| e - s > m));
        prop_assert_eq!(f.len(), a.iter().filter(|[s, e]| e - s > m).count());
        prop_assert!(subset(&f, &a));
    }

    #[test]
    fn indices_inside_matches_brute_force(a in intervals(), ts in prop::collection::vec(0u32..90, 0..60)) {
        let ts: Vec<f64> = ts.into_iter().map(|k| k as f64 * 0.5).collect(); // includes bounds
        let want: Vec<usize> = (0..ts.len())
            .filter(|&i| a.iter().any(|[s, e]| *s <= ts[i] && ts[i] <= *e))
            .collect();
        prop_assert_eq!(a.indices_inside(&ts), want);
    }

    #[test]
    fn index_runs_cover_exactly(idx in prop::collection::vec(0usize..50, 0..40)) {
        let runs = index_runs(&idx);
        for k in 0..60usize {
            let inside = runs.iter().any(|[s, e]| *s <= k && k <= *e);
            prop_assert_eq!(inside, idx.contains(&k));
        }
        prop_assert!(runs.windows(2).all(|w| w[0][1] + 1 < w[1][0]));
    }
}
