//! Principal components of waveform snippets.
//!
//! - [`Pca::fit`]: the exact top components of a point cloud (what scikit-learn's
//!   `IncrementalPCA(n_components).partial_fit(X)` gives for a single batch): the
//!   leading eigenvectors of the covariance, found by Lanczos with full
//!   reorthogonalization (Jacobi on the covariance for small dimensions, or when
//!   Lanczos stops short);
//! - [`IncrementalPca`]: scikit-learn's incremental algorithm (batch after batch, each
//!   step keeping `n_components` singular vectors), as SpikeInterface's
//!   `principal_components` extension fits it unit after unit.
//!
//! Projections are `(x − mean) · componentsᵀ`, divided by √explained variance when
//! whitening. Component signs are arbitrary (distances do not depend on them).

use spyglass_sort::linalg::sym_eigen;
use spyglass_sort::rng::Rng;
use spyglass_sort::{Result, SortError};

/// A fitted PCA: mean, components (`k × d`, row-major) and explained variances.
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    /// Dimension of the points.
    pub dim: usize,
    /// Mean of the fitted points.
    pub mean: Vec<f64>,
    /// Components, one per row.
    pub components: Vec<f64>,
    /// Variance along each component (`S² / (n − 1)`).
    pub explained_variance: Vec<f64>,
    /// Divide projections by √explained variance.
    pub whiten: bool,
}

impl Pca {
    /// The exact top `k` components of `rows` (`n × d`, row-major).
    pub fn fit(rows: &[f32], d: usize, k: usize) -> Result<Self> {
        if d == 0 || rows.len() % d != 0 {
            return Err(SortError::invalid(
                "pca input",
                format!("{} values for dimension {d}", rows.len()),
            ));
        }
        let n = rows.len() / d;
        if n < 2 || k == 0 {
            return Err(SortError::invalid(
                "pca input",
                format!("{n} points for {k} components"),
            ));
        }
        let k = k.min(d).min(n);
        let mut mean = vec![0.0f64; d];
        for r in rows.chunks_exact(d) {
            for (m, x) in mean.iter_mut().zip(r) {
                *m += *x as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut gram = Gram::new(d);
        for r in rows.chunks_exact(d) {
            gram.push(r.iter().zip(&mean).map(|(x, m)| *x as f64 - m));
        }
        let mut cov = gram.finish();
        cov.iter_mut().for_each(|v| *v /= (n - 1) as f64);
        Ok(Self::from_covariance(mean, &cov, k))
    }

    /// The top `k` components of a covariance (`d × d`, `d` = `mean.len()`).
    pub fn from_covariance(mean: Vec<f64>, cov: &[f64], k: usize) -> Self {
        let d = mean.len();
        let (vals, vecs) = top_eigen(cov, d, k.min(d));
        Self {
            dim: d,
            mean,
            components: vecs,
            explained_variance: vals,
            whiten: false,
        }
    }

    /// Number of components.
    pub fn n_components(&self) -> usize {
        self.explained_variance.len()
    }

    /// Projects `rows` (`n × d`) to `n × k`.
    pub fn transform(&self, rows: &[f32]) -> Vec<f64> {
        let (d, k) = (self.dim, self.n_components());
        let mut out = Vec::with_capacity(rows.len() / d * k);
        let mut c = vec![0.0f64; d];
        for r in rows.chunks_exact(d) {
            for ((ci, x), m) in c.iter_mut().zip(r).zip(&self.mean) {
                *ci = *x as f64 - m;
            }
            for j in 0..k {
                let mut v = dot(&self.components[j * d..(j + 1) * d], &c);
                if self.whiten {
                    v /= self.explained_variance[j].sqrt();
                }
                out.push(v);
            }
        }
        out
    }
}

/// Σ aᵢ bᵢ in four interleaved partial sums (vectorizable; the order of the additions
/// differs from a left-to-right sum only by rounding).
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    (acc[0] + acc[2]) + (acc[1] + acc[3]) + tail
}

/// Rows per block of [`Gram`]: each update of the `d × d` sum carries this many rows,
/// so the sum is read and written once per block instead of once per row.
const GRAM_BLOCK: usize = 8;

/// Σ r rᵀ over pushed rows of dimension `d` (the scatter matrix), accumulated
/// eight rows at a time (the rows kept transposed, `d × 8`, so the
/// inner loop is a fixed-size dot product).
#[derive(Debug, Clone)]
pub struct Gram {
    d: usize,
    sum: Vec<f64>,
    block: Vec<f64>,
    filled: usize,
}

impl Gram {
    /// An empty sum for rows of dimension `d`.
    pub fn new(d: usize) -> Self {
        Self {
            d,
            sum: vec![0.0; d * d],
            block: vec![0.0; d * GRAM_BLOCK],
            filled: 0,
        }
    }

    /// Adds one row (its first `d` values; missing values count as zero).
    pub fn push(&mut self, row: impl Iterator<Item = f64>) {
        let r = self.filled;
        let d = self.d;
        let mut written = 0;
        for (i, v) in row.take(d).enumerate() {
            self.block[i * GRAM_BLOCK + r] = v;
            written = i + 1;
        }
        for i in written..d {
            self.block[i * GRAM_BLOCK + r] = 0.0;
        }
        self.filled += 1;
        if self.filled == GRAM_BLOCK {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let (d, f) = (self.d, self.filled);
        if f == 0 {
            return;
        }
        for i in 0..d {
            for r in f..GRAM_BLOCK {
                self.block[i * GRAM_BLOCK + r] = 0.0;
            }
        }
        let block = &self.block;
        for i in 0..d {
            let mut ci = [0.0f64; GRAM_BLOCK];
            ci.copy_from_slice(&block[i * GRAM_BLOCK..(i + 1) * GRAM_BLOCK]);
            if ci.iter().all(|v| *v == 0.0) {
                continue;
            }
            let row = &mut self.sum[i * d + i..(i + 1) * d];
            for (g, cj) in row
                .iter_mut()
                .zip(block[i * GRAM_BLOCK..].chunks_exact(GRAM_BLOCK))
            {
                let mut s = 0.0;
                for r in 0..GRAM_BLOCK {
                    s += ci[r] * cj[r];
                }
                *g += s;
            }
        }
        self.filled = 0;
    }

    /// The full symmetric sum (`d × d`, row-major).
    pub fn finish(mut self) -> Vec<f64> {
        self.flush();
        let d = self.d;
        for i in 0..d {
            for j in i + 1..d {
                self.sum[j * d + i] = self.sum[i * d + j];
            }
        }
        self.sum
    }
}

/// The `k` largest eigenvalues (descending) and their eigenvectors (`k × d`, row-major)
/// of the symmetric `d × d` matrix `a`: Lanczos with full reorthogonalization, the
/// Krylov space grown until every wanted Ritz pair's residual is below 1e-11 of the
/// matrix norm; Jacobi on the whole matrix for small `d` or when Lanczos stops short.
pub fn top_eigen(a: &[f64], d: usize, k: usize) -> (Vec<f64>, Vec<f64>) {
    let k = k.min(d);
    let jacobi = |a: &[f64]| {
        let (vals, vecs) = sym_eigen(a, d);
        (vals[..k].to_vec(), vecs[..k * d].to_vec())
    };
    if d <= 48 || k == 0 {
        return jacobi(a);
    }
    let scale = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    if scale == 0.0 {
        return jacobi(a);
    }
    let mut rng = Rng::new(0x5eed, d as u64);
    let mut v0: Vec<f64> = (0..d).map(|_| rng.next_f64() - 0.5).collect();
    let n0 = v0.iter().map(|x| x * x).sum::<f64>().sqrt();
    v0.iter_mut().for_each(|x| *x /= n0);
    let mut basis: Vec<Vec<f64>> = vec![v0];
    let (mut alpha, mut beta): (Vec<f64>, Vec<f64>) = (vec![], vec![]);
    let mut m = (4 * k).max(40).min(d);
    loop {
        // extend the Krylov basis to m vectors
        while alpha.len() < m {
            let j = alpha.len();
            let q = &basis[j];
            let mut w: Vec<f64> = a.chunks_exact(d).map(|row| dot(row, q)).collect();
            let aj = dot(&w, q);
            alpha.push(aj);
            for _pass in 0..2 {
                for b in &basis {
                    let p = dot(&w, b);
                    w.iter_mut().zip(b).for_each(|(x, y)| *x -= p * y);
                }
            }
            let bj = w.iter().map(|x| x * x).sum::<f64>().sqrt();
            if bj <= 1e-13 * scale || basis.len() == d {
                // an invariant subspace: the Ritz pairs are exact
                beta.push(0.0);
                m = alpha.len();
                break;
            }
            w.iter_mut().for_each(|x| *x /= bj);
            beta.push(bj);
            basis.push(w);
        }
        let mm = alpha.len();
        if mm < k {
            return jacobi(a);
        }
        let mut t = vec![0.0f64; mm * mm];
        for i in 0..mm {
            t[i * mm + i] = alpha[i];
            if i + 1 < mm {
                t[i * mm + i + 1] = beta[i];
                t[(i + 1) * mm + i] = beta[i];
            }
        }
        let (tv, tw) = sym_eigen(&t, mm);
        let last = beta[mm - 1];
        let converged = (0..k).all(|r| (last * tw[r * mm + mm - 1]).abs() <= 1e-11 * scale);
        if converged || last == 0.0 {
            let mut vecs = vec![0.0f64; k * d];
            for r in 0..k {
                let y = &tw[r * mm..(r + 1) * mm];
                let out = &mut vecs[r * d..(r + 1) * d];
                for (b, yi) in basis.iter().zip(y) {
                    out.iter_mut().zip(b).for_each(|(o, x)| *o += yi * x);
                }
            }
            return (tv[..k].to_vec(), vecs);
        }
        if mm >= d || m >= d {
            return jacobi(a);
        }
        m = (2 * m).min(d);
    }
}

/// scikit-learn's `IncrementalPCA`, fitted batch after batch.
#[derive(Debug, Clone)]
pub struct IncrementalPca {
    n_components: usize,
    whiten: bool,
    n_seen: usize,
    mean: Vec<f64>,
    components: Vec<f64>,
    singular_values: Vec<f64>,
    explained_variance: Vec<f64>,
    dim: usize,
}

impl IncrementalPca {
    /// An unfitted model of `n_components` (whitening projections when `whiten`).
    pub fn new(n_components: usize, whiten: bool) -> Self {
        Self {
            n_components,
            whiten,
            n_seen: 0,
            mean: Vec::new(),
            components: Vec::new(),
            singular_values: Vec::new(),
            explained_variance: Vec::new(),
            dim: 0,
        }
    }

    /// Points seen so far.
    pub fn n_samples_seen(&self) -> usize {
        self.n_seen
    }

    /// Updates the model with a batch (`n × d`); the first batch needs `n ≥ n_components`.
    pub fn partial_fit(&mut self, rows: &[f32], d: usize) -> Result<()> {
        if d == 0 || rows.len() % d != 0 {
            return Err(SortError::invalid(
                "pca batch",
                format!("{} values for dimension {d}", rows.len()),
            ));
        }
        let n = rows.len() / d;
        if self.n_seen == 0 {
            if n < self.n_components || self.n_components > d {
                return Err(SortError::invalid(
                    "pca batch",
                    format!(
                        "{n} points of dimension {d} for {} components",
                        self.n_components
                    ),
                ));
            }
            self.dim = d;
            self.mean = vec![0.0; d];
        } else if d != self.dim {
            return Err(SortError::invalid(
                "pca batch",
                format!("dimension {d}, fitted with {}", self.dim),
            ));
        }
        if n == 0 {
            return Ok(());
        }
        let mut batch_mean = vec![0.0f64; d];
        for r in rows.chunks_exact(d) {
            for (m, x) in batch_mean.iter_mut().zip(r) {
                *m += *x as f64;
            }
        }
        batch_mean.iter_mut().for_each(|m| *m /= n as f64);
        let total = self.n_seen + n;
        // the stacked matrix whose SVD gives the update
        let mut x: Vec<f64> = Vec::with_capacity((self.n_components + n + 1) * d);
        if self.n_seen > 0 {
            for (s, comp) in self
                .singular_values
                .iter()
                .zip(self.components.chunks_exact(d))
            {
                x.extend(comp.iter().map(|c| s * c));
            }
        }
        for r in rows.chunks_exact(d) {
            x.extend(r.iter().zip(&batch_mean).map(|(v, m)| *v as f64 - m));
        }
        if self.n_seen > 0 {
            let f = ((self.n_seen as f64 / total as f64) * n as f64).sqrt();
            x.extend(self.mean.iter().zip(&batch_mean).map(|(a, b)| f * (a - b)));
        }
        // right singular vectors = eigenvectors of XᵀX
        let mut gram = Gram::new(d);
        for r in x.chunks_exact(d) {
            gram.push(r.iter().copied());
        }
        let g = gram.finish();
        let k = self.n_components;
        let (vals, vecs) = top_eigen(&g, d, k);
        self.singular_values = vals.iter().map(|v| v.max(0.0).sqrt()).collect();
        self.components = vecs;
        self.explained_variance = vals
            .iter()
            .map(|v| v.max(0.0) / (total as f64 - 1.0))
            .collect();
        // running mean
        for (m, b) in self.mean.iter_mut().zip(&batch_mean) {
            *m = (*m * self.n_seen as f64 + b * n as f64) / total as f64;
        }
        self.n_seen = total;
        Ok(())
    }

    /// The fitted model as a [`Pca`] (error before any batch).
    pub fn model(&self) -> Result<Pca> {
        if self.n_seen == 0 {
            return Err(SortError::invalid("pca", "not fitted"));
        }
        Ok(Pca {
            dim: self.dim,
            mean: self.mean.clone(),
            components: self.components.clone(),
            explained_variance: self.explained_variance.clone(),
            whiten: self.whiten,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanczos_matches_jacobi() {
        let d = 80;
        let mut rng = Rng::new(1, 2);
        // a covariance with a decaying spectrum
        let b: Vec<f64> = (0..d * d)
            .map(|i| (rng.next_f64() - 0.5) * (1.0 / (1.0 + (i % d) as f64)))
            .collect();
        let mut a = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                a[i * d + j] = (0..d).map(|t| b[i * d + t] * b[j * d + t]).sum();
            }
        }
        let (v1, e1) = top_eigen(&a, d, 7);
        let (v2, e2) = sym_eigen(&a, d);
        for r in 0..7 {
            assert!(
                (v1[r] - v2[r]).abs() < 1e-9 * v2[0],
                "{r}: {} {}",
                v1[r],
                v2[r]
            );
            let dot: f64 = (0..d).map(|i| e1[r * d + i] * e2[r * d + i]).sum();
            assert!((dot.abs() - 1.0).abs() < 1e-8, "{r}: {dot}");
        }
    }

    #[test]
    fn one_batch_equals_exact_pca() {
        let mut rng = Rng::new(3, 4);
        let d = 6;
        let rows: Vec<f32> = (0..200 * d)
            .map(|i| ((rng.next_f64() - 0.5) * (1 + i % d) as f64) as f32)
            .collect();
        let exact = Pca::fit(&rows, d, 3).unwrap();
        let mut inc = IncrementalPca::new(3, false);
        inc.partial_fit(&rows, d).unwrap();
        let m = inc.model().unwrap();
        for j in 0..3 {
            assert!((exact.explained_variance[j] - m.explained_variance[j]).abs() < 1e-9);
        }
    }
}
