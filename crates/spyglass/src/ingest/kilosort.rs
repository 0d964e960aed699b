//! A Kilosort / phy output folder as the session's own units, at ingestion
//! (`spyglass insert FILE --kilosort DIR`). Spyglass's ImportedSpikeSorting points at
//! the units table of the session's NWB file, so the folder's units are written into
//! the linked copy (`<name>_.nwb`) before it is registered; the ingestion then makes
//! the ImportedSpikeSorting row and its SpikeSortingOutput entry as for any file with
//! units. The folder is read by the rules element-array-ephys follows
//! ([`spyglass_kilosort`]); a spike at sample `k` of the raw series the folder was
//! sorted from gets that sample's timestamp, so gaps and clock drift of the raw
//! timestamps carry over. A folder that does not fit the raw series (another
//! sampling rate, spikes past its end) is refused, naming both.

use crate::error::{Error, Result};
use spyglass_nwb::{ColumnSpec, NwbFile, UnitsSpec};
use std::path::Path;

/// Timestamps read per block when mapping spike samples.
const BLOCK: usize = 1 << 20;

/// What was added: units and spikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KilosortUnits {
    /// Units written (labelled clusters with spikes).
    pub units: usize,
    /// Spikes in them.
    pub spikes: usize,
}

/// Writes the units of Kilosort folder `folder` into the NWB file `copy` (opened for
/// writing; the caller's temporary copy), placed on the raw series at `raw_path`;
/// returns the units table's object id and the counts.
pub fn add_units(copy: &Path, raw_path: &str, folder: &Path) -> Result<(String, KilosortUnits)> {
    let what = || format!("Kilosort folder {}", folder.display());
    let ks = spyglass_kilosort::KilosortFolder::open(folder)
        .map_err(|e| Error::bad(what(), e.to_string()))?;
    let rate = ks
        .sample_rate(None)
        .map_err(|e| Error::bad(what(), e.to_string()))?;
    let (units, times) = {
        let nwb = NwbFile::open(copy)?;
        let reader = nwb.raw_reader(raw_path)?;
        let n = reader.num_samples();
        let raw_rate = match reader.timing() {
            spyglass_nwb::Timing::Rate { rate, .. } => *rate,
            _ => estimated_rate(&reader.timestamps(0..n.min(10_001))?),
        };
        if raw_rate.is_nan() || raw_rate <= 0.0 || ((rate - raw_rate) / raw_rate).abs() > 1e-3 {
            return Err(Error::bad(
                what(),
                format!(
                    "params.py's sample_rate is {rate} Hz, the raw series {raw_path} of {} samples at {raw_rate} Hz: the folder was not sorted from this file's raw data",
                    copy.display()
                ),
            ));
        }
        let (_, units) = ks
            .units(rate)
            .map_err(|e| Error::bad(what(), e.to_string()))?;
        // every spike as a sample of the raw series: (sample, unit, spike)
        let mut at: Vec<(usize, usize, usize)> = vec![];
        for (u, unit) in units.iter().enumerate() {
            for (i, &t) in unit.spike_times.iter().enumerate() {
                let s = (t * rate).round();
                if s.is_nan() || s < 0.0 || s >= n as f64 {
                    return Err(Error::bad(
                        what(),
                        format!(
                            "cluster {}: a spike at {t} s (sample {s}) is outside the raw series {raw_path} ({n} samples): the folder was not sorted from this file's raw data",
                            unit.cluster_id
                        ),
                    ));
                }
                at.push((s as usize, u, i));
            }
        }
        at.sort_unstable();
        let mut times: Vec<Vec<f64>> = units
            .iter()
            .map(|u| vec![0.0; u.spike_times.len()])
            .collect();
        let mut k = 0;
        while k < at.len() {
            let start = at[k].0;
            let block = reader.timestamps(start..(start + BLOCK).min(n))?;
            while k < at.len() && at[k].0 < start + block.len() {
                let (s, u, i) = at[k];
                times[u][i] = block[s - start];
                k += 1;
            }
        }
        (units, times)
    };
    let spikes = times.iter().map(Vec::len).sum();
    let spec = UnitsSpec {
        description: format!("units of Kilosort folder {}", folder.display()),
        ids: Some(units.iter().map(|u| u.cluster_id).collect()),
        spike_times: times,
        electrodes: None,
        resolution: Some(1.0 / rate),
        columns: vec![
            ColumnSpec::text(
                "label",
                "the cluster's Kilosort / phy label (cluster_group / cluster_KSLabel), read by SortedSpikesGroup's label filters",
                units.iter().map(|u| u.label.as_str().to_string()).collect(),
            ),
            ColumnSpec::i64(
                "peak_channel",
                "recording channel (channel_map) of the template's largest amplitude",
                units.iter().map(|u| u.peak_channel).collect(),
            ),
        ],
    };
    let id = spyglass_nwb::write::add_units_to_file(copy, &spec)?;
    Ok((
        id,
        KilosortUnits {
            units: units.len(),
            spikes,
        },
    ))
}

/// 1 / median interval of `t`.
fn estimated_rate(t: &[f64]) -> f64 {
    let mut dt: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
    if dt.is_empty() {
        return f64::NAN;
    }
    dt.sort_by(f64::total_cmp);
    1.0 / dt[dt.len() / 2]
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_rate_is_one_over_the_median_interval() {
        let t = [0.0, 0.001, 0.002, 0.0035, 0.0045];
        assert!((super::estimated_rate(&t) - 1000.0).abs() < 1e-9);
        assert!(super::estimated_rate(&[1.0]).is_nan());
    }
}
