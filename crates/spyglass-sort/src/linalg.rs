//! Small dense linear algebra the sorter needs: the eigen-decomposition of a
//! symmetric matrix (cyclic Jacobi), for whitening and PCA.

/// Eigenvalues (descending) and eigenvectors of the symmetric `n × n` matrix `a`
/// (row-major). Eigenvector `k` is `vecs[k * n..(k + 1) * n]`.
pub fn sym_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m = a.to_vec();
    // v: columns are eigenvectors (row-major storage, v[i*n + k])
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let scale: f64 = m
        .iter()
        .map(|x| x * x)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        let mut off = 0.0;
        for p in 0..n {
            for q in p + 1..n {
                off += m[p * n + q] * m[p * n + q];
            }
        }
        if off.sqrt() <= 1e-14 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq.abs() <= 1e-300 {
                    continue;
                }
                let (app, aqq) = (m[p * n + p], m[q * n + q]);
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkq) = (m[k * n + p], m[k * n + q]);
                    m[k * n + p] = c * mkp - s * mkq;
                    m[k * n + q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p * n + k], m[q * n + k]);
                    m[p * n + k] = c * mpk - s * mqk;
                    m[q * n + k] = s * mpk + c * mqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| m[j * n + j].total_cmp(&m[i * n + i]).then(i.cmp(&j)));
    let vals = order.iter().map(|&k| m[k * n + k]).collect();
    let mut vecs = vec![0.0; n * n];
    for (r, &k) in order.iter().enumerate() {
        // sign convention: largest |component| positive, so results are reproducible
        let col: Vec<f64> = (0..n).map(|i| v[i * n + k]).collect();
        let big = col
            .iter()
            .copied()
            .fold(0.0f64, |b, x| if x.abs() > b.abs() { x } else { b });
        let sg = if big < 0.0 { -1.0 } else { 1.0 };
        for i in 0..n {
            vecs[r * n + i] = sg * col[i];
        }
    }
    (vals, vecs)
}

/// Centred covariance (`d × d`, row-major) of `rows` (`n × d`, row-major) and the mean.
pub fn covariance(rows: &[f32], d: usize) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len() / d.max(1);
    let mut mean = vec![0.0f64; d];
    for r in rows.chunks_exact(d) {
        for (m, x) in mean.iter_mut().zip(r) {
            *m += *x as f64;
        }
    }
    for m in &mut mean {
        *m /= n.max(1) as f64;
    }
    let mut cov = vec![0.0f64; d * d];
    let mut c = vec![0.0f64; d];
    for r in rows.chunks_exact(d) {
        for (ci, (x, m)) in c.iter_mut().zip(r.iter().zip(&mean)) {
            *ci = *x as f64 - m;
        }
        for i in 0..d {
            let ci = c[i];
            let row = &mut cov[i * d..i * d + d];
            for j in i..d {
                row[j] += ci * c[j];
            }
        }
    }
    for i in 0..d {
        for j in i..d {
            let v = cov[i * d + j] / (n.max(2) - 1) as f64;
            cov[i * d + j] = v;
            cov[j * d + i] = v;
        }
    }
    (cov, mean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigen_of_a_known_matrix() {
        // [[2,1],[1,2]]: eigenvalues 3 (1,1)/√2 and 1 (1,-1)/√2
        let (vals, vecs) = sym_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        assert!((vals[0] - 3.0).abs() < 1e-12 && (vals[1] - 1.0).abs() < 1e-12);
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert!((vecs[0] - h).abs() < 1e-12 && (vecs[1] - h).abs() < 1e-12);
        assert!((vecs[2].abs() - h).abs() < 1e-12 && (vecs[2] + vecs[3]).abs() < 1e-12);
    }
}
