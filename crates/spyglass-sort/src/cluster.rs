//! Clustering that needs no cluster count, in the spirit of isosplit: over-cluster
//! with k-means, then repeatedly test the closest pair of clusters for unimodality
//! along the line joining their centroids (an isotonic up-down fit of the 1-D
//! density, scored by its largest cumulative departure, like isocut), merging pairs
//! that look unimodal and re-splitting the others at the density dip.

use crate::rng::Rng;

/// Largest cumulative departure of the points from their best unimodal density,
/// in units of √n (a Kolmogorov–Smirnov-like dip score), and the cut point at the dip.
pub(crate) fn isocut(values: &[f64]) -> (f64, f64) {
    let n = values.len();
    let mut x = values.to_vec();
    x.sort_by(|a, b| a.total_cmp(b));
    if n < 8 || x[n - 1] - x[0] <= 0.0 {
        return (0.0, x.get(n / 2).copied().unwrap_or(0.0));
    }
    // coarse-grain into intervals of g points: density = count / length
    let g = (n / 150).max(3);
    let mut bounds: Vec<usize> = (0..n).step_by(g).collect();
    if bounds.last() != Some(&(n - 1)) {
        bounds.push(n - 1);
    }
    let eps = (x[n - 1] - x[0]) * 1e-9;
    let m = bounds.len() - 1;
    let len: Vec<f64> = (0..m)
        .map(|k| (x[bounds[k + 1]] - x[bounds[k]]).max(eps))
        .collect();
    let cnt: Vec<f64> = (0..m).map(|k| (bounds[k + 1] - bounds[k]) as f64).collect();
    let dens: Vec<f64> = (0..m).map(|k| cnt[k] / len[k]).collect();
    let fit = updown_fit(&dens, &len);
    // cumulative departure
    let mut d = vec![0.0; m];
    let mut acc = 0.0;
    for k in 0..m {
        acc += cnt[k] - fit[k] * len[k];
        d[k] = acc;
    }
    let (jstar, dmax) = d.iter().enumerate().fold((0, 0.0f64), |(bj, bv), (j, v)| {
        if v.abs() > bv.abs() {
            (j, *v)
        } else {
            (bj, bv)
        }
    });
    let score = dmax.abs() / (n as f64).sqrt();
    // the valley: where observed counts fall below the fit, next to the extreme
    let tol = 1e-9 * n as f64;
    let (lo, hi) = if dmax < 0.0 {
        let mut a = jstar;
        while a > 0 && d[a - 1] < -tol {
            a -= 1;
        }
        (a, jstar)
    } else {
        let mut b = jstar + 1;
        while b < m && d[b] > tol {
            b += 1;
        }
        (jstar + 1, b.min(m - 1))
    };
    let (lo, hi) = (lo.min(m - 1), hi.min(m - 1).max(lo.min(m - 1)));
    let smooth = |k: usize| {
        let a = k.saturating_sub(1);
        let b = (k + 1).min(m - 1);
        (a..=b).map(|i| cnt[i]).sum::<f64>() / (a..=b).map(|i| len[i]).sum::<f64>()
    };
    let kmin = (lo..=hi)
        .min_by(|&a, &b| smooth(a).total_cmp(&smooth(b)))
        .unwrap_or(lo);
    let cut = 0.5 * (x[bounds[kmin]] + x[bounds[kmin + 1]]);
    (score, cut)
}

/// Weighted least-squares unimodal (non-decreasing then non-increasing) fit.
fn updown_fit(v: &[f64], w: &[f64]) -> Vec<f64> {
    let m = v.len();
    let inc = pava_prefix_errors(v, w);
    let vr: Vec<f64> = v.iter().rev().copied().collect();
    let wr: Vec<f64> = w.iter().rev().copied().collect();
    let dec = pava_prefix_errors(&vr, &wr);
    // split: increasing on 0..p, decreasing on p..m
    let mut best = (f64::INFINITY, 0);
    for p in 0..=m {
        let e_inc = if p == 0 { 0.0 } else { inc[p - 1] };
        let e_dec = if p == m { 0.0 } else { dec[m - p - 1] };
        if e_inc + e_dec < best.0 {
            best = (e_inc + e_dec, p);
        }
    }
    let p = best.1;
    let mut fit = pava(&v[..p], &w[..p]);
    let mut right = pava(&vr[..m - p], &wr[..m - p]);
    right.reverse();
    fit.extend(right);
    fit
}

struct Block {
    w: f64,
    wv: f64,
    wv2: f64,
    len: usize,
}

impl Block {
    fn sse(&self) -> f64 {
        (self.wv2 - self.wv * self.wv / self.w).max(0.0)
    }
}

fn pava_blocks(v: &[f64], w: &[f64], mut each: impl FnMut(f64)) -> Vec<Block> {
    let mut st: Vec<Block> = Vec::new();
    let mut total = 0.0;
    for (x, wi) in v.iter().zip(w) {
        let mut b = Block {
            w: *wi,
            wv: wi * x,
            wv2: wi * x * x,
            len: 1,
        };
        // pool with the blocks below while they are not lower than this one
        while st.last().is_some_and(|top| top.wv / top.w >= b.wv / b.w) {
            let Some(t) = st.pop() else { break };
            total -= t.sse();
            b = Block {
                w: t.w + b.w,
                wv: t.wv + b.wv,
                wv2: t.wv2 + b.wv2,
                len: t.len + b.len,
            };
        }
        total += b.sse();
        st.push(b);
        each(total);
    }
    st
}

/// SSE of the best non-decreasing fit of each prefix.
fn pava_prefix_errors(v: &[f64], w: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(v.len());
    pava_blocks(v, w, |e| out.push(e));
    out
}

/// Best non-decreasing weighted fit.
fn pava(v: &[f64], w: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(v.len());
    for b in pava_blocks(v, w, |_| {}) {
        out.extend(std::iter::repeat_n(b.wv / b.w, b.len));
    }
    out
}

fn dist2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// k-means (k-means++ seeding, Lloyd iterations) of `x` (`n × d`); labels 0..k.
pub(crate) fn kmeans(x: &[f64], d: usize, k: usize, rng: &mut Rng) -> Vec<usize> {
    let n = x.len() / d;
    let k = k.min(n).max(1);
    let row = |i: usize| &x[i * d..(i + 1) * d];
    let mut cent: Vec<f64> = row(rng.below(n)).to_vec();
    let mut dmin: Vec<f64> = (0..n).map(|i| dist2(row(i), &cent[..d])).collect();
    for _ in 1..k {
        let tot: f64 = dmin.iter().sum();
        if tot <= 0.0 {
            break;
        }
        let mut r = rng.next_f64() * tot;
        let mut pick = n - 1;
        for (i, dv) in dmin.iter().enumerate() {
            r -= dv;
            if r <= 0.0 {
                pick = i;
                break;
            }
        }
        let c = row(pick).to_vec();
        for (i, dm) in dmin.iter_mut().enumerate() {
            *dm = dm.min(dist2(row(i), &c));
        }
        cent.extend(c);
    }
    let k = cent.len() / d;
    let mut labels = vec![0usize; n];
    for _ in 0..40 {
        let mut changed = false;
        for (i, l) in labels.iter_mut().enumerate() {
            let best = (0..k)
                .map(|c| (dist2(row(i), &cent[c * d..(c + 1) * d]), c))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map(|p| p.1)
                .unwrap_or(0);
            if *l != best {
                *l = best;
                changed = true;
            }
        }
        let mut sum = vec![0.0; k * d];
        let mut cnt = vec![0usize; k];
        for (i, &l) in labels.iter().enumerate() {
            cnt[l] += 1;
            for (s, v) in sum[l * d..(l + 1) * d].iter_mut().zip(row(i)) {
                *s += v;
            }
        }
        for c in 0..k {
            if cnt[c] > 0 {
                for j in 0..d {
                    cent[c * d + j] = sum[c * d + j] / cnt[c] as f64;
                }
            }
        }
        if !changed {
            break;
        }
    }
    relabel(&labels)
}

/// Labels renumbered 0.. in order of first appearance.
fn relabel(labels: &[usize]) -> Vec<usize> {
    let mut map = std::collections::BTreeMap::new();
    let mut out = Vec::with_capacity(labels.len());
    for &l in labels {
        let next = map.len();
        out.push(*map.entry(l).or_insert(next));
    }
    out
}

/// Isosplit-style clustering of `x` (`n × d`): labels 0.. (no count needed).
pub(crate) fn isosplit(
    x: &[f64],
    d: usize,
    k_init: usize,
    threshold: f64,
    rng: &mut Rng,
) -> Vec<usize> {
    let n = x.len() / d;
    if n == 0 {
        return Vec::new();
    }
    let mut labels = kmeans(x, d, k_init, rng);
    let row = |i: usize| &x[i * d..(i + 1) * d];
    // version of each cluster; a pair is re-tested only when one of them changed
    let mut version: Vec<u64> = vec![0; n.max(1)];
    let mut tested: std::collections::HashSet<(usize, usize, u64, u64)> = Default::default();
    for _iter in 0..500 {
        let k = labels.iter().copied().max().map_or(0, |m| m + 1);
        let mut cnt = vec![0usize; k];
        let mut cent = vec![0.0; k * d];
        for (i, &l) in labels.iter().enumerate() {
            cnt[l] += 1;
            for (c, v) in cent[l * d..(l + 1) * d].iter_mut().zip(row(i)) {
                *c += v;
            }
        }
        for c in 0..k {
            for j in 0..d {
                cent[c * d + j] /= cnt[c].max(1) as f64;
            }
        }
        let alive: Vec<usize> = (0..k).filter(|&c| cnt[c] > 0).collect();
        let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
        for (ai, &a) in alive.iter().enumerate() {
            for &b in &alive[ai + 1..] {
                if !tested.contains(&(a, b, version[a], version[b])) {
                    pairs.push((
                        dist2(&cent[a * d..(a + 1) * d], &cent[b * d..(b + 1) * d]),
                        a,
                        b,
                    ));
                }
            }
        }
        if pairs.is_empty() {
            break;
        }
        pairs.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.cmp(&q.1)).then(p.2.cmp(&q.2)));
        let mut used = vec![false; k];
        let mut any_change = false;
        for &(_, a, b) in &pairs {
            if used[a] || used[b] {
                continue;
            }
            used[a] = true;
            used[b] = true;
            tested.insert((a, b, version[a], version[b]));
            let dir: Vec<f64> = (0..d).map(|j| cent[b * d + j] - cent[a * d + j]).collect();
            let nrm = dir.iter().map(|v| v * v).sum::<f64>().sqrt();
            let members: Vec<usize> = (0..n)
                .filter(|&i| labels[i] == a || labels[i] == b)
                .collect();
            if nrm <= 0.0 {
                for &i in &members {
                    labels[i] = a;
                }
                version[a] += 1;
                any_change = true;
                continue;
            }
            let proj: Vec<f64> = members
                .iter()
                .map(|&i| row(i).iter().zip(&dir).map(|(v, w)| v * w).sum::<f64>() / nrm)
                .collect();
            let (score, cut) = isocut(&proj);
            if score < threshold {
                for &i in &members {
                    labels[i] = a;
                }
                version[a] += 1;
                version[b] += 1;
                any_change = true;
            } else {
                let mut moved = false;
                for (&i, &p) in members.iter().zip(&proj) {
                    let want = if p < cut { a } else { b };
                    if labels[i] != want {
                        labels[i] = want;
                        moved = true;
                    }
                }
                if moved {
                    version[a] += 1;
                    version[b] += 1;
                    tested.insert((a, b, version[a], version[b]));
                    any_change = true;
                }
            }
        }
        if !any_change {
            break;
        }
    }
    relabel(&labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gauss(rng: &mut Rng) -> f64 {
        let (u, v) = (rng.next_f64().max(1e-300), rng.next_f64());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    #[test]
    fn isocut_separates_bimodal_from_unimodal() {
        let mut rng = Rng::new(1, 0);
        for &n in &[200usize, 1000, 5000] {
            let uni: Vec<f64> = (0..n).map(|_| gauss(&mut rng)).collect();
            let (s_uni, _) = isocut(&uni);
            let bi: Vec<f64> = (0..n)
                .map(|i| gauss(&mut rng) + if i % 4 == 0 { 5.0 } else { 0.0 })
                .collect();
            let (s_bi, cut) = isocut(&bi);
            eprintln!("n {n}: unimodal {s_uni:.3}, bimodal {s_bi:.3} cut {cut:.2}");
            assert!(s_uni < 0.8, "n {n}: unimodal score {s_uni}");
            if n >= 1000 {
                assert!(s_bi > 1.5, "n {n}: bimodal score {s_bi}");
            }
            assert!(cut > 1.5 && cut < 4.0, "n {n}: cut {cut}");
        }
    }

    #[test]
    fn isosplit_finds_three_blobs() {
        let mut rng = Rng::new(3, 0);
        let mut x = Vec::new();
        let centres = [[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]];
        for i in 0..900 {
            let c = centres[i % 3];
            x.push(c[0] + gauss(&mut rng));
            x.push(c[1] + gauss(&mut rng));
        }
        let labels = isosplit(&x, 2, 12, 1.0, &mut Rng::new(5, 0));
        let k = labels.iter().max().unwrap() + 1;
        assert_eq!(k, 3);
        let wrong = (0..900).filter(|&i| labels[i] != labels[i % 3]).count();
        assert!(wrong <= 3, "{wrong} of 900 points in the wrong cluster");
    }
}
