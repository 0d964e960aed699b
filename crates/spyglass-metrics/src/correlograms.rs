//! Autocorrelograms as SpikeInterface 0.105's `compute_correlograms` counts them, on
//! spike sample indices: bins of `bin_size` samples over `[-window_size,
//! window_size)`, every ordered pair of distinct spikes `(i, j)` with lag
//! `t_i - t_j` in that range counted once in bin `floor(lag / bin_size)` (so a lag of
//! exactly `-window_size` is counted and one of `+window_size` is not, and two spikes
//! on the same sample count twice in the bin starting at 0). The window and bin sizes
//! in samples come from milliseconds as SpikeInterface's `_make_bins` rounds them
//! ([`correlogram_bins`]).
//!
//! The sorting pictures (`spyglass sorting plot`) and the browser viewer both use this.

use spyglass_sort::{Result, SortError};

/// Half window and bin size of a correlogram, in samples (SpikeInterface's
/// `_make_bins`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorrelogramBins {
    /// Half window, samples (a multiple of `bin_size`).
    pub window_size: i64,
    /// Bin width, samples.
    pub bin_size: i64,
}

impl CorrelogramBins {
    /// Number of bins (`2 · window_size / bin_size`).
    pub fn num_bins(&self) -> usize {
        (2 * (self.window_size / self.bin_size)) as usize
    }

    /// Left edge of bin `k`, milliseconds at `fs`.
    pub fn left_edge_ms(&self, k: usize, fs: f64) -> f64 {
        (k as i64 * self.bin_size - self.window_size) as f64 * 1e3 / fs
    }
}

/// The bins of a correlogram of full width `window_ms` (from `-window_ms/2` to
/// `+window_ms/2`) and bins of `bin_ms` at `fs`: `window = round(fs · window_ms / 2
/// / 1000)`, `bin = round(fs · bin_ms / 1000)`, the window cut down to a multiple of
/// the bin. Refuses a bin of zero samples or a window shorter than one bin.
pub fn correlogram_bins(fs: f64, window_ms: f64, bin_ms: f64) -> Result<CorrelogramBins> {
    if !(fs.is_finite() && fs > 0.0) {
        return Err(SortError::invalid(
            "sampling_frequency",
            format!("{fs} is not a positive finite rate"),
        ));
    }
    if !(window_ms.is_finite() && bin_ms.is_finite() && window_ms > 0.0 && bin_ms > 0.0) {
        return Err(SortError::invalid(
            "correlogram",
            format!("window {window_ms} ms and bin {bin_ms} ms must be positive"),
        ));
    }
    // Python's round: half to even
    let window = (fs * window_ms / 2.0 * 1e-3).round_ties_even() as i64;
    let bin = (fs * bin_ms * 1e-3).round_ties_even() as i64;
    if bin < 1 {
        return Err(SortError::invalid(
            "correlogram",
            format!("a bin of {bin_ms} ms is less than one sample at {fs} Hz"),
        ));
    }
    let window = window - window % bin;
    if window < bin {
        return Err(SortError::invalid(
            "correlogram",
            format!("a window of {window_ms} ms holds no bin of {bin_ms} ms"),
        ));
    }
    Ok(CorrelogramBins {
        window_size: window,
        bin_size: bin,
    })
}

/// Autocorrelogram counts of one unit's spike samples (ascending; see the module
/// doc for what is counted). Refuses unsorted samples.
pub fn autocorrelogram(samples: &[i64], bins: CorrelogramBins) -> Result<Vec<u64>> {
    if samples.windows(2).any(|w| w[1] < w[0]) {
        return Err(SortError::invalid(
            "spike train",
            "spike samples are not sorted",
        ));
    }
    let CorrelogramBins {
        window_size: w,
        bin_size: b,
    } = bins;
    let half = w / b;
    let mut counts = vec![0u64; bins.num_bins()];
    for (i, &t) in samples.iter().enumerate() {
        for &u in &samples[i + 1..] {
            let d = u - t;
            if d > w {
                break;
            }
            // lag +d (later minus earlier): counted when below the window
            if d < w {
                counts[(d.div_euclid(b) + half) as usize] += 1;
            }
            // lag −d: counted down to −window inclusive
            counts[((-d).div_euclid(b) + half) as usize] += 1;
        }
    }
    Ok(counts)
}

/// Spike samples from spike times (seconds) at `fs`, relative to the first spike
/// time of all `trains` (`round((t - t0) · fs)`): lags in samples for
/// [`autocorrelogram`] when the recording's own sample indices are not at hand.
pub fn samples_from_times(trains: &[Vec<f64>], fs: f64) -> Vec<Vec<i64>> {
    let t0 = trains
        .iter()
        .filter_map(|t| t.first().copied())
        .fold(f64::INFINITY, f64::min);
    trains
        .iter()
        .map(|t| t.iter().map(|x| ((x - t0) * fs).round() as i64).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_round_as_spikeinterface() {
        // 30 kHz, 50 ms window, 1 ms bins: ±750 samples in bins of 30
        let b = correlogram_bins(30_000.0, 50.0, 1.0).unwrap();
        assert_eq!((b.window_size, b.bin_size, b.num_bins()), (750, 30, 50));
        // a window not a multiple of the bin is cut down: 1 kHz, 10 ms, 3 ms: 5 → 3
        let b = correlogram_bins(1000.0, 10.0, 3.0).unwrap();
        assert_eq!((b.window_size, b.bin_size), (3, 3));
        // half to even: 1 kHz, 9 ms → round(4.5) = 4
        assert_eq!(correlogram_bins(1000.0, 9.0, 1.0).unwrap().window_size, 4);
        assert!(correlogram_bins(1000.0, 50.0, 0.1).is_err());
    }

    #[test]
    fn edges_count_as_spikeinterface() {
        // hand-derived: window 4, bin 2; lags ±4 (−4 counted, +4 not), ±1, ±0
        let b = CorrelogramBins {
            window_size: 4,
            bin_size: 2,
        };
        // bins [-4,-2) [-2,0) [0,2) [2,4)
        assert_eq!(autocorrelogram(&[0, 4], b).unwrap(), vec![1, 0, 0, 0]);
        assert_eq!(autocorrelogram(&[0, 1], b).unwrap(), vec![0, 1, 1, 0]);
        assert_eq!(autocorrelogram(&[5, 5], b).unwrap(), vec![0, 0, 2, 0]);
        assert_eq!(autocorrelogram(&[0, 3, 9], b).unwrap(), vec![1, 0, 0, 1]);
        assert!(autocorrelogram(&[3, 1], b).is_err());
    }
}
