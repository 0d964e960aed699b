//! Random chunks of a recording and SpikeInterface's noise levels: per chunk, the median
//! absolute deviation of each channel divided by 0.6744897501960817, averaged over the
//! chunks (computed in float32 the way numpy computes it on float32 traces).

use crate::waveforms::read_padded;
use spyglass_sort::rng::Rng;
use spyglass_sort::{ChunkSource, Result, SortError};

/// The MAD → standard deviation factor SpikeInterface divides by.
pub const MAD_FACTOR: f32 = 0.674_489_75;

/// `num_chunks` random chunk starts (sorted) of chunks of `chunk_size` samples, uniform
/// over `0..=num_samples - chunk_size` (SpikeInterface's `full_random` slices; the
/// stream is ours, seeded, so the positions differ from numpy's for the same seed).
pub fn random_chunk_starts(
    num_samples: usize,
    chunk_size: usize,
    num_chunks: usize,
    seed: u64,
) -> Result<Vec<usize>> {
    if chunk_size == 0 || chunk_size > num_samples {
        return Err(SortError::invalid(
            "chunk_size",
            format!("{chunk_size} samples for a recording of {num_samples} samples"),
        ));
    }
    let mut rng = Rng::new(seed, 0x006e_6f69_7365);
    let span = num_samples - chunk_size + 1;
    let mut starts: Vec<usize> = (0..num_chunks).map(|_| rng.below(span)).collect();
    starts.sort_unstable();
    Ok(starts)
}

/// numpy's median of float32 values (the mean of the two middle values, in float32, for
/// an even count); NaN for no values.
pub fn median_f32(values: &mut [f32]) -> f32 {
    let n = values.len();
    if n == 0 {
        return f32::NAN;
    }
    values.sort_unstable_by(f32::total_cmp);
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Noise level of every channel: for each chunk `start..start + chunk_size`, the median
/// of |x − median(x)| / 0.6745 per channel; then the mean over chunks (float32).
pub fn noise_levels(
    src: &dyn ChunkSource,
    starts: &[usize],
    chunk_size: usize,
) -> Result<Vec<f32>> {
    let c = src.num_channels();
    if starts.is_empty() {
        return Err(SortError::invalid(
            "noise chunks",
            "no chunk to estimate noise from",
        ));
    }
    if let Some(s) = starts.iter().find(|&&s| s + chunk_size > src.num_samples()) {
        return Err(SortError::invalid(
            "noise chunks",
            format!(
                "chunk {s}..{} is outside the {} samples of the recording",
                s + chunk_size,
                src.num_samples()
            ),
        ));
    }
    let mut sum = vec![0.0f32; c];
    let mut col = vec![0.0f32; chunk_size];
    for &s in starts {
        let chunk = read_padded(src, s as i64, (s + chunk_size) as i64)?;
        for (ch, acc) in sum.iter_mut().enumerate() {
            for (t, v) in col.iter_mut().enumerate() {
                *v = chunk[t * c + ch];
            }
            let med = median_f32(&mut col);
            for v in col.iter_mut() {
                *v = (*v - med).abs();
            }
            *acc += median_f32(&mut col) / MAD_FACTOR;
        }
    }
    let n = starts.len() as f32;
    Ok(sum.into_iter().map(|s| s / n).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median_f32(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median_f32(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median_f32(&mut []).is_nan());
    }

    #[test]
    fn starts_stay_inside() {
        let s = random_chunk_starts(100, 10, 50, 3).unwrap();
        assert!(s.windows(2).all(|w| w[0] <= w[1]) && s.iter().all(|&x| x <= 90));
        assert!(random_chunk_starts(5, 10, 1, 0).is_err());
    }
}
