//! The recording a detector or sorter reads: a chunked source of f32 samples
//! (samples × channels, row-major), so a caller can recompute each chunk on the fly
//! (e.g. filter it from the raw file) instead of holding the whole recording.

use crate::error::{Result, SortError};

/// Error a [`ChunkSource`] returns when it cannot deliver samples.
pub type SourceError = Box<dyn std::error::Error + Send + Sync>;

/// A filtered, referenced recording read in chunks.
///
/// Implementations must be deterministic (the same range read twice gives the same
/// samples) and thread-safe: chunks are read from several threads at once.
pub trait ChunkSource: Sync {
    /// Number of samples (frames) of the recording.
    fn num_samples(&self) -> usize;
    /// Number of channels.
    fn num_channels(&self) -> usize;
    /// Sampling rate, Hz.
    fn sampling_frequency(&self) -> f64;
    /// Fills `out` (length `(end - start) * num_channels()`, sample-major) with the
    /// samples `start..end`; `end <= num_samples()`.
    fn read(&self, start: usize, end: usize, out: &mut [f32]) -> Result<(), SourceError>;
}

/// A recording held in memory (samples × channels, sample-major).
#[derive(Debug, Clone)]
pub struct InMemoryRecording {
    data: Vec<f32>,
    num_channels: usize,
    sampling_frequency: f64,
}

impl InMemoryRecording {
    /// Wraps `data` (`n_samples × num_channels`, sample-major).
    pub fn new(data: Vec<f32>, num_channels: usize, sampling_frequency: f64) -> Result<Self> {
        if num_channels == 0 {
            return Err(SortError::invalid("num_channels", "must be at least 1"));
        }
        if data.len() % num_channels != 0 {
            return Err(SortError::invalid(
                "data",
                format!(
                    "length {} is not a multiple of the {num_channels} channels",
                    data.len()
                ),
            ));
        }
        check_rate(sampling_frequency)?;
        Ok(Self {
            data,
            num_channels,
            sampling_frequency,
        })
    }

    /// The samples (sample-major).
    pub fn data(&self) -> &[f32] {
        &self.data
    }
}

impl ChunkSource for InMemoryRecording {
    fn num_samples(&self) -> usize {
        self.data.len() / self.num_channels
    }
    fn num_channels(&self) -> usize {
        self.num_channels
    }
    fn sampling_frequency(&self) -> f64 {
        self.sampling_frequency
    }
    fn read(&self, start: usize, end: usize, out: &mut [f32]) -> Result<(), SourceError> {
        let c = self.num_channels;
        if start > end || end > self.num_samples() || out.len() != (end - start) * c {
            return Err(
                format!("bad read {start}..{end} of {} samples", self.num_samples()).into(),
            );
        }
        out.copy_from_slice(&self.data[start * c..end * c]);
        Ok(())
    }
}

pub(crate) fn check_rate(fs: f64) -> Result<()> {
    if !(fs.is_finite() && fs > 0.0) {
        return Err(SortError::invalid(
            "sampling_frequency",
            format!("{fs} is not a positive finite rate"),
        ));
    }
    Ok(())
}

/// Reads samples `start..end` (which may reach outside the recording: those samples
/// are zeros, as SpikeInterface pads chunk margins) into a fresh buffer, refusing
/// non-finite samples.
pub fn read_padded(src: &dyn ChunkSource, start: i64, end: i64) -> Result<Vec<f32>> {
    let c = src.num_channels();
    let n = src.num_samples() as i64;
    let len = (end - start).max(0) as usize;
    let mut out = vec![0.0f32; len * c];
    let a = start.clamp(0, n);
    let b = end.clamp(0, n);
    if a < b {
        let off = (a - start) as usize * c;
        let slice = &mut out[off..off + (b - a) as usize * c];
        src.read(a as usize, b as usize, slice)
            .map_err(|e| SortError::Source {
                start: a as usize,
                end: b as usize,
                reason: e.to_string(),
            })?;
        if let Some(k) = slice.iter().position(|v| !v.is_finite()) {
            return Err(SortError::invalid(
                "recording",
                format!(
                    "sample {} of channel {} is not finite ({})",
                    a as usize + k / c,
                    k % c,
                    slice[k]
                ),
            ));
        }
    }
    Ok(out)
}

/// Checks channel locations against the source's channel count.
pub(crate) fn check_locations(src: &dyn ChunkSource, locations: &[[f64; 2]]) -> Result<()> {
    if src.num_channels() == 0 {
        return Err(SortError::invalid("recording", "has no channels"));
    }
    if locations.len() != src.num_channels() {
        return Err(SortError::invalid(
            "channel_locations",
            format!(
                "{} locations for {} channels",
                locations.len(),
                src.num_channels()
            ),
        ));
    }
    if locations.iter().flatten().any(|v| !v.is_finite()) {
        return Err(SortError::invalid(
            "channel_locations",
            "a location is not finite",
        ));
    }
    check_rate(src.sampling_frequency())
}
