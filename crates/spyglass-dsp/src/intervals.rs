//! Interval algebra on sorted, disjoint lists of closed time intervals.
//!
//! An [`Intervals`] value is a list of `[start, stop]` pairs (seconds, or any
//! unit) that always satisfies the invariant: bounds finite, `start <= stop`,
//! and `stop[i] < start[i+1]` (sorted, disjoint, not even touching). It is the
//! in-memory form of a Spyglass `IntervalList.valid_times` array.
//!
//! Construction either checks the invariant ([`Intervals::new`], an error on
//! unsorted, overlapping or touching input) or establishes it
//! ([`Intervals::consolidate`], which sorts and merges). NaN or infinite bounds
//! and reversed intervals are always an error. Nothing here panics on input.
//!
//! Edge cases, decided once for every operation:
//! - **Empty lists** are valid everywhere: `a ∩ ∅ = ∅`, `a ∪ ∅ = a`, `a − ∅ = a`
//!   (keeping only its positive-length intervals, see below), `∅ − b = ∅`.
//! - **Touching intervals** (`[0,1]` and `[1,2]`) merge in `consolidate` and
//!   `union` (Spyglass's `union` does the same); their intersection is a single
//!   point and is dropped, as Spyglass's `intersect` drops it.
//! - **Nested intervals** are absorbed by the outer one in `consolidate`/`union`.
//! - **Zero-length intervals** `[t, t]` are allowed: a single-sample interval.
//!   `contains` and `union` treat them as the point `t`. `intersect` and
//!   `subtract` return only pieces of positive length (measure semantics, as
//!   Spyglass's strict `stop > start` tests), so they drop zero-length results,
//!   and a zero-length subtrahend removes nothing.
//!
//! Length filters are strict like Spyglass's `by_length`: `min < length < max`.

use std::ops::Range;

use crate::error::{DspError, Result};

/// A sorted list of disjoint closed intervals `[start, stop]` (serialized as the list).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Intervals(Vec<[f64; 2]>);

fn check_interval(index: usize, iv: [f64; 2]) -> Result<()> {
    let [start, stop] = iv;
    if start.is_finite() && stop.is_finite() && start <= stop {
        Ok(())
    } else {
        Err(DspError::InvalidInterval { index, start, stop })
    }
}

impl Intervals {
    /// The empty list.
    pub fn empty() -> Self {
        Intervals(Vec::new())
    }

    /// Wraps a list that must already be sorted and disjoint (touching is rejected too).
    pub fn new(list: Vec<[f64; 2]>) -> Result<Self> {
        for (i, iv) in list.iter().enumerate() {
            check_interval(i, *iv)?;
        }
        if let Some(index) = list.windows(2).position(|w| w[0][1] >= w[1][0]) {
            return Err(DspError::NotSortedDisjoint { index });
        }
        Ok(Intervals(list))
    }

    /// Builds a list from intervals in any order: sorts by start and merges overlapping,
    /// nested and touching intervals.
    pub fn consolidate(mut list: Vec<[f64; 2]>) -> Result<Self> {
        for (i, iv) in list.iter().enumerate() {
            check_interval(i, *iv)?;
        }
        list.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
        let mut out: Vec<[f64; 2]> = Vec::with_capacity(list.len());
        for iv in list {
            push_merge(&mut out, iv);
        }
        Ok(Intervals(out))
    }

    /// The intervals as a slice.
    pub fn as_slice(&self) -> &[[f64; 2]] {
        &self.0
    }

    /// The intervals as an owned vector.
    pub fn into_vec(self) -> Vec<[f64; 2]> {
        self.0
    }

    /// Number of intervals.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no intervals.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterates over the intervals.
    pub fn iter(&self) -> std::slice::Iter<'_, [f64; 2]> {
        self.0.iter()
    }

    /// Sum of the interval lengths.
    pub fn total_length(&self) -> f64 {
        self.0.iter().map(|[a, b]| b - a).sum()
    }

    /// First start and last stop, or `None` when empty.
    pub fn span(&self) -> Option<[f64; 2]> {
        Some([self.0.first()?[0], self.0.last()?[1]])
    }

    /// Times in both lists; only pieces of positive length are kept.
    pub fn intersect(&self, other: &Intervals) -> Intervals {
        let (a, b) = (&self.0, &other.0);
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            let lo = a[i][0].max(b[j][0]);
            let hi = a[i][1].min(b[j][1]);
            if hi > lo {
                out.push([lo, hi]);
            }
            if a[i][1] < b[j][1] {
                i += 1;
            } else {
                j += 1;
            }
        }
        Intervals(out)
    }

    /// Times in either list; overlapping and touching intervals merge.
    pub fn union(&self, other: &Intervals) -> Intervals {
        let (a, b) = (&self.0, &other.0);
        let mut out: Vec<[f64; 2]> = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            let take_a = j >= b.len() || (i < a.len() && a[i][0] <= b[j][0]);
            let iv = if take_a {
                i += 1;
                a[i - 1]
            } else {
                j += 1;
                b[j - 1]
            };
            push_merge(&mut out, iv);
        }
        Intervals(out)
    }

    /// Times in `self` not covered by `other` (closure), positive-length pieces only.
    ///
    /// `[(0,5),(8,10)] − [(1,2),(3,4),(6,9)] = [(0,1),(2,3),(4,5),(9,10)]`.
    pub fn subtract(&self, other: &Intervals) -> Intervals {
        let b: Vec<[f64; 2]> = other.0.iter().copied().filter(|iv| iv[1] > iv[0]).collect();
        let mut out = Vec::new();
        let mut j = 0;
        for &[start, stop] in &self.0 {
            while j < b.len() && b[j][1] <= start {
                j += 1;
            }
            let mut cur = start;
            let mut jj = j;
            while jj < b.len() && b[jj][0] < stop {
                if b[jj][0] > cur {
                    out.push([cur, b[jj][0]]);
                }
                cur = cur.max(b[jj][1]);
                jj += 1;
            }
            if stop > cur {
                out.push([cur, stop]);
            }
            // An interval of `other` may reach into the next interval of `self`.
            j = jj.saturating_sub(1).max(j);
        }
        Intervals(out)
    }

    /// Keeps intervals longer than `min_length` (strict, as Spyglass's `min_length`).
    pub fn longer_than(&self, min_length: f64) -> Intervals {
        Intervals(
            self.0
                .iter()
                .copied()
                .filter(|[a, b]| b - a > min_length)
                .collect(),
        )
    }

    /// Keeps intervals with `min_length < length < max_length` (Spyglass `by_length`).
    pub fn by_length(&self, min_length: f64, max_length: f64) -> Intervals {
        Intervals(
            self.0
                .iter()
                .copied()
                .filter(|[a, b]| {
                    let len = b - a;
                    len > min_length && len < max_length
                })
                .collect(),
        )
    }

    /// Index of the interval containing `t` (bounds inclusive), if any.
    pub fn find(&self, t: f64) -> Option<usize> {
        let idx = self.0.partition_point(|iv| iv[0] <= t);
        (idx > 0 && t <= self.0[idx - 1][1]).then(|| idx - 1)
    }

    /// True when `t` lies in some interval (bounds inclusive; NaN is never inside).
    pub fn contains(&self, t: f64) -> bool {
        self.find(t).is_some()
    }

    /// Indices of the timestamps inside any interval, ascending (Spyglass `contains(as_indices=True)`).
    ///
    /// Timestamps need not be sorted; each index appears at most once.
    pub fn indices_inside(&self, timestamps: &[f64]) -> Vec<usize> {
        timestamps
            .iter()
            .enumerate()
            .filter(|(_, &t)| self.contains(t))
            .map(|(i, _)| i)
            .collect()
    }

    /// Sample ranges `[from, to)` of each interval in sorted `timestamps`, as LFPV1 selects them.
    ///
    /// Spyglass's rule (`_time_bound_check`): clamp the interval to
    /// `[ts[0], ts[last]]`, then `from = searchsorted(ts, start)`,
    /// `to = searchsorted(ts, stop)` (both left): the sample exactly at `stop`
    /// is excluded, so an interval clamped at the last timestamp drops the last
    /// sample. Empty ranges are left out.
    pub fn sample_ranges(&self, timestamps: &[f64]) -> Result<Vec<Range<usize>>> {
        check_sorted_timestamps(timestamps)?;
        let n = timestamps.len();
        if n == 0 {
            return Ok(Vec::new());
        }
        let (first, last) = (timestamps[0], timestamps[n - 1]);
        Ok(self
            .0
            .iter()
            .filter_map(|&[start, stop]| {
                let start = start.max(first);
                let stop = stop.min(last);
                let from = timestamps.partition_point(|&t| t < start);
                let to = timestamps.partition_point(|&t| t < stop).min(n);
                (to > from).then_some(from..to)
            })
            .collect())
    }

    /// Clips every interval to `[lo, hi]`, keeping positive-length pieces.
    ///
    /// With the first and last timestamps this is Spyglass's `censor`, minus its
    /// check that every timestamp lies inside (use [`Intervals::indices_inside`]).
    pub fn clip(&self, lo: f64, hi: f64) -> Result<Intervals> {
        let window = Intervals::new(vec![[lo, hi]])?;
        Ok(self.intersect(&window))
    }
}

/// Appends `iv` (with start >= every start already in `out`), merging on overlap or touch.
fn push_merge(out: &mut Vec<[f64; 2]>, iv: [f64; 2]) {
    match out.last_mut() {
        Some(last) if iv[0] <= last[1] => last[1] = last[1].max(iv[1]),
        _ => out.push(iv),
    }
}

impl TryFrom<Vec<[f64; 2]>> for Intervals {
    type Error = DspError;
    fn try_from(v: Vec<[f64; 2]>) -> Result<Self> {
        Intervals::new(v)
    }
}

impl<'a> IntoIterator for &'a Intervals {
    type Item = &'a [f64; 2];
    type IntoIter = std::slice::Iter<'a, [f64; 2]>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Errors unless `timestamps` are finite and non-decreasing.
pub(crate) fn check_sorted_timestamps(timestamps: &[f64]) -> Result<()> {
    if let Some(index) = timestamps.iter().position(|t| !t.is_finite()) {
        return Err(DspError::NonFiniteTimestamp { index });
    }
    if let Some(i) = timestamps.windows(2).position(|w| w[1] < w[0]) {
        return Err(DspError::UnsortedTimestamps { index: i + 1 });
    }
    Ok(())
}

/// Runs of consecutive integers as `[first, last]` pairs (Spyglass `Interval.from_inds`).
///
/// Input in any order, duplicates ignored: `[2,3,4,6,7,8,9,10]` → `[[2,4],[6,10]]`.
pub fn index_runs(indices: &[usize]) -> Vec<[usize; 2]> {
    let mut v = indices.to_vec();
    v.sort_unstable();
    v.dedup();
    let mut out: Vec<[usize; 2]> = Vec::new();
    for i in v {
        match out.last_mut() {
            Some(last) if last[1] + 1 == i => last[1] = i,
            _ => out.push([i, i]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(v: &[[f64; 2]]) -> Intervals {
        Intervals::new(v.to_vec()).unwrap()
    }

    #[test]
    fn construction_checks_and_normalises() {
        assert!(Intervals::new(vec![]).unwrap().is_empty());
        assert!(Intervals::new(vec![[0.0, 1.0], [2.0, 3.0]]).is_ok());
        assert_eq!(
            Intervals::new(vec![[2.0, 3.0], [0.0, 1.0]]).unwrap_err(),
            DspError::NotSortedDisjoint { index: 0 }
        );
        // overlapping and touching are not disjoint
        assert!(Intervals::new(vec![[0.0, 2.0], [1.0, 3.0]]).is_err());
        assert!(Intervals::new(vec![[0.0, 1.0], [1.0, 3.0]]).is_err());
        assert!(matches!(
            Intervals::new(vec![[1.0, 0.0]]),
            Err(DspError::InvalidInterval { index: 0, .. })
        ));
        assert!(Intervals::new(vec![[f64::NAN, 1.0]]).is_err());
        assert!(Intervals::new(vec![[0.0, f64::INFINITY]]).is_err());
        assert!(Intervals::consolidate(vec![[0.0, f64::NAN]]).is_err());
        assert!(Intervals::consolidate(vec![[3.0, 2.0]]).is_err());
        // zero-length is fine
        assert_eq!(iv(&[[1.0, 1.0]]).len(), 1);

        // consolidate: unsorted, nested, overlapping, touching, duplicate, zero-length
        let c = Intervals::consolidate(vec![
            [5.0, 6.0],
            [0.0, 2.0],
            [0.5, 1.0], // nested
            [1.5, 3.0], // overlapping
            [3.0, 4.0], // touching
            [5.0, 6.0], // duplicate
            [8.0, 8.0], // zero-length alone
            [6.0, 6.0], // zero-length touching
        ])
        .unwrap();
        assert_eq!(c.as_slice(), &[[0.0, 4.0], [5.0, 6.0], [8.0, 8.0]]);
        assert_eq!(Intervals::consolidate(vec![]).unwrap(), Intervals::empty());
    }

    #[test]
    fn intersect_cases() {
        let a = iv(&[[0.0, 5.0], [8.0, 10.0]]);
        let b = iv(&[[1.0, 2.0], [3.0, 9.0]]);
        assert_eq!(
            a.intersect(&b).as_slice(),
            &[[1.0, 2.0], [3.0, 5.0], [8.0, 9.0]]
        );
        assert_eq!(b.intersect(&a), a.intersect(&b));
        // empty
        assert!(a.intersect(&Intervals::empty()).is_empty());
        assert!(Intervals::empty().intersect(&a).is_empty());
        // touching -> single point -> dropped
        assert!(iv(&[[0.0, 1.0]]).intersect(&iv(&[[1.0, 2.0]])).is_empty());
        // nested
        assert_eq!(
            iv(&[[0.0, 10.0]]).intersect(&iv(&[[2.0, 3.0]])).as_slice(),
            &[[2.0, 3.0]]
        );
        // zero-length operand -> nothing
        assert!(iv(&[[0.0, 10.0]]).intersect(&iv(&[[2.0, 2.0]])).is_empty());
        // one long interval spanning several
        let long = iv(&[[-1.0, 100.0]]);
        assert_eq!(long.intersect(&a), a);
    }

    #[test]
    fn union_cases() {
        let a = iv(&[[0.0, 1.0], [4.0, 5.0]]);
        let b = iv(&[[1.0, 2.0], [3.0, 4.5], [7.0, 7.0]]);
        assert_eq!(
            a.union(&b).as_slice(),
            &[[0.0, 2.0], [3.0, 5.0], [7.0, 7.0]]
        );
        assert_eq!(b.union(&a), a.union(&b));
        assert_eq!(a.union(&Intervals::empty()), a);
        assert_eq!(
            Intervals::empty().union(&Intervals::empty()),
            Intervals::empty()
        );
        // nested
        assert_eq!(
            iv(&[[0.0, 10.0]]).union(&iv(&[[2.0, 3.0]])).as_slice(),
            &[[0.0, 10.0]]
        );
        // zero-length inside another is absorbed
        assert_eq!(
            iv(&[[0.0, 10.0]]).union(&iv(&[[2.0, 2.0]])).as_slice(),
            &[[0.0, 10.0]]
        );
        // a chain bridging several intervals
        let c = iv(&[[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]);
        let d = iv(&[[0.5, 4.5]]);
        assert_eq!(c.union(&d).as_slice(), &[[0.0, 5.0]]);
    }

    #[test]
    fn subtract_cases() {
        // Spyglass docstring example (with the (2,3) piece its comment omits).
        let a = iv(&[[0.0, 5.0], [8.0, 10.0]]);
        let b = iv(&[[1.0, 2.0], [3.0, 4.0], [6.0, 9.0]]);
        assert_eq!(
            a.subtract(&b).as_slice(),
            &[[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [9.0, 10.0]]
        );
        assert_eq!(a.subtract(&Intervals::empty()), a);
        assert!(Intervals::empty().subtract(&a).is_empty());
        assert!(a.subtract(&a).is_empty());
        // touching subtrahend removes nothing of positive length
        assert_eq!(
            iv(&[[0.0, 1.0]]).subtract(&iv(&[[1.0, 2.0]])).as_slice(),
            &[[0.0, 1.0]]
        );
        // nested subtrahend splits
        assert_eq!(
            iv(&[[0.0, 10.0]]).subtract(&iv(&[[2.0, 3.0]])).as_slice(),
            &[[0.0, 2.0], [3.0, 10.0]]
        );
        // zero-length subtrahend removes nothing
        assert_eq!(
            iv(&[[0.0, 10.0]]).subtract(&iv(&[[2.0, 2.0]])).as_slice(),
            &[[0.0, 10.0]]
        );
        // zero-length minuend is dropped (measure semantics)
        assert!(iv(&[[3.0, 3.0]]).subtract(&Intervals::empty()).is_empty());
        // a subtrahend spanning two minuend intervals
        let c = iv(&[[0.0, 2.0], [3.0, 5.0]]);
        assert_eq!(
            c.subtract(&iv(&[[1.0, 4.0]])).as_slice(),
            &[[0.0, 1.0], [4.0, 5.0]]
        );
        // a minuend spanning several subtrahends, covering the tail
        let d = iv(&[[0.0, 10.0], [12.0, 13.0]]);
        let e = iv(&[[-1.0, 1.0], [4.0, 5.0], [9.0, 12.5]]);
        assert_eq!(
            d.subtract(&e).as_slice(),
            &[[1.0, 4.0], [5.0, 9.0], [12.5, 13.0]]
        );
    }

    #[test]
    fn length_filters_and_membership() {
        let a = iv(&[[0.0, 1.0], [2.0, 4.0], [5.0, 5.0], [6.0, 9.0]]);
        assert_eq!(a.longer_than(1.0).as_slice(), &[[2.0, 4.0], [6.0, 9.0]]); // strict
        assert_eq!(a.longer_than(0.0).len(), 3);
        assert_eq!(a.by_length(1.0, 3.0).as_slice(), &[[2.0, 4.0]]); // 3 excluded
        assert_eq!(a.total_length(), 6.0);
        assert_eq!(a.span(), Some([0.0, 9.0]));
        assert_eq!(Intervals::empty().span(), None);
        assert!(a.contains(0.0) && a.contains(1.0) && a.contains(5.0));
        assert!(!a.contains(1.5) && !a.contains(f64::NAN) && !a.contains(-0.1));
        assert_eq!(a.find(7.0), Some(3));
        let ts = [4.5, 0.0, 1.0, 1.5, 5.0, 9.0, 9.5, f64::NAN, 3.0];
        assert_eq!(a.indices_inside(&ts), vec![1, 2, 4, 5, 8]);
        assert!(Intervals::empty().indices_inside(&ts).is_empty());
    }

    #[test]
    fn sample_ranges_follow_lfpv1() {
        let ts: Vec<f64> = (0..10).map(|i| i as f64).collect(); // 0..9
        let a = iv(&[[-5.0, 2.5], [4.0, 6.0], [7.5, 20.0], [30.0, 40.0]]);
        // [-5, 2.5] -> clamp start 0 -> [0, 3); [4, 6] -> [4, 6) (6 excluded);
        // [7.5, 20] -> stop clamped to 9 -> [8, 9) (last sample excluded); [30, 40] empty.
        assert_eq!(a.sample_ranges(&ts).unwrap(), vec![0..3, 4..6, 8..9]);
        assert!(a.sample_ranges(&[]).unwrap().is_empty());
        assert!(a.sample_ranges(&[1.0, 0.0]).is_err());
        assert!(a.sample_ranges(&[0.0, f64::NAN]).is_err());
        assert_eq!(
            a.clip(1.0, 5.0).unwrap().as_slice(),
            &[[1.0, 2.5], [4.0, 5.0]]
        );
        assert!(a.clip(5.0, 1.0).is_err());
    }

    #[test]
    fn index_runs_cases() {
        assert_eq!(
            index_runs(&[2, 3, 4, 6, 7, 8, 9, 10]),
            vec![[2, 4], [6, 10]]
        );
        assert_eq!(index_runs(&[5, 1, 2, 2, 0]), vec![[0, 2], [5, 5]]);
        assert!(index_runs(&[]).is_empty());
    }
}
