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

/// A recording in a raw little-endian float32 file (`samples × channels`,
/// sample-major, no header), read on demand: only the chunks being processed are in
/// memory.
#[cfg(unix)]
#[derive(Debug)]
pub struct RawF32File {
    path: std::path::PathBuf,
    file: std::fs::File,
    num_samples: usize,
    num_channels: usize,
    sampling_frequency: f64,
}

#[cfg(unix)]
impl RawF32File {
    /// Opens `path`; its length must be a whole number of samples of `num_channels`.
    pub fn open(
        path: &std::path::Path,
        num_channels: usize,
        sampling_frequency: f64,
    ) -> Result<Self> {
        check_rate(sampling_frequency)?;
        let bad = |why: String| {
            SortError::invalid(
                "raw float32 recording",
                format!("{}: {why}", path.display()),
            )
        };
        if num_channels == 0 {
            return Err(bad("needs at least 1 channel".into()));
        }
        let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
        let len = file.metadata().map_err(|e| bad(e.to_string()))?.len() as usize;
        if len % (4 * num_channels) != 0 {
            return Err(bad(format!(
                "{len} bytes is not a whole number of float32 samples of {num_channels} channels"
            )));
        }
        Ok(Self {
            path: path.to_path_buf(),
            file,
            num_samples: len / (4 * num_channels),
            num_channels,
            sampling_frequency,
        })
    }
}

#[cfg(unix)]
impl ChunkSource for RawF32File {
    fn num_samples(&self) -> usize {
        self.num_samples
    }
    fn num_channels(&self) -> usize {
        self.num_channels
    }
    fn sampling_frequency(&self) -> f64 {
        self.sampling_frequency
    }
    fn read(&self, start: usize, end: usize, out: &mut [f32]) -> Result<(), SourceError> {
        use std::os::unix::fs::FileExt;
        let c = self.num_channels;
        if start > end || end > self.num_samples || out.len() != (end - start) * c {
            return Err(format!(
                "bad read {start}..{end} of {} samples of {}",
                self.num_samples,
                self.path.display()
            )
            .into());
        }
        let mut bytes = vec![0u8; out.len() * 4];
        self.file
            .read_exact_at(&mut bytes, (start * c * 4) as u64)
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        for (o, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
            *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        Ok(())
    }
}

/// `f` of every chunk start in `starts`, on the rayon pool a batch of a few chunks
/// per thread at a time, batches in order: the recording is read about in order
/// (a source that recomputes it chunk by chunk then keeps few chunks, and can hash
/// them as they come). Results in the order of `starts`.
pub(crate) fn map_in_order<T: Send>(
    starts: &[usize],
    f: impl Fn(usize) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    use rayon::prelude::*;
    let batch = 4 * rayon::current_num_threads().max(1);
    let mut out = Vec::with_capacity(starts.len());
    for b in starts.chunks(batch) {
        out.extend(b.par_iter().map(|&s| f(s)).collect::<Result<Vec<T>>>()?);
    }
    Ok(out)
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

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn raw_file_reads_what_was_written() {
        let dir = std::env::temp_dir().join(format!("raw-f32-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.f32");
        let data: Vec<f32> = (0..30).map(|i| i as f32 * 0.5 - 3.0).collect();
        let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(&path, &bytes).unwrap();
        let f = RawF32File::open(&path, 3, 100.0).unwrap();
        assert_eq!(f.num_samples(), 10);
        let mut out = vec![0.0f32; 4 * 3];
        f.read(2, 6, &mut out).unwrap();
        assert_eq!(out, data[6..18]);
        assert!(f.read(8, 11, &mut [0.0; 9]).is_err());
        // 30 values are not whole samples of 4 channels
        let err = RawF32File::open(&path, 4, 100.0).unwrap_err().to_string();
        assert!(err.contains("t.f32"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
