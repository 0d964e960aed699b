//! The LFP pipelines, one file per schema as Spyglass lays them out:
//! [`lfp_electrode`] (which electrodes make an LFP group), [`v1`] (`lfp_v1`:
//! LFPSelection and LFPV1 — raw data filtered with a stored FIR filter and
//! decimated to ~1 kHz), [`imported`] (`lfp_imported`: LFP that came with the
//! NWB file), [`merge`] (`lfp_merge`: the LFPOutput merge table over both) and
//! [`band_v1`] (`lfp_band_v1`: band-filtered LFP and its analytic amplitude,
//! phase and power). [`declare`] declares all of them; the helpers here are the
//! pieces every version shares (reading a series, filtering valid pieces).

pub mod band_v1;
pub mod imported;
pub mod lfp_electrode;
pub mod merge;
pub mod v1;

use crate::error::{Error, Result};
use spyglass_db::Db;
use spyglass_dsp::{FirDecimator, Sample};
use std::ops::Range;

/// Declares the common tables' filter schema and every LFP schema (idempotent).
pub fn declare(db: &Db) -> Result<()> {
    crate::common::declare_common(db)?;
    crate::filter::declare(db)?;
    for spec in lfp_electrode::specs() {
        db.declare(lfp_electrode::SCHEMA, &spec)?;
    }
    for spec in v1::specs() {
        db.declare(v1::SCHEMA, &spec)?;
    }
    for spec in imported::specs() {
        db.declare(imported::SCHEMA, &spec)?;
    }
    merge::declare(db)?;
    for spec in band_v1::specs() {
        db.declare(band_v1::SCHEMA, &spec)?;
    }
    Ok(())
}

/// Filters and decimates each sample range of each channel, as LFPV1 does: every
/// range is convolved on its own (zero padding at its edges, "full" convolution)
/// and sampled at `delay + ds·k`; the pieces are concatenated. Returns the output
/// per channel and, per output sample, the input index it lines up with
/// (`range.start + ds·k`). Ranges shorter than the filter are zero-padded, which
/// gives the same samples as the full convolution of the short piece.
pub fn filter_pieces<T: Sample>(
    taps: &[f64],
    ds: usize,
    channels: &[Vec<T>],
    ranges: &[Range<usize>],
) -> Result<(Vec<Vec<f64>>, Vec<usize>)> {
    let dsp = |e: spyglass_dsp::DspError| Error::Invalid(format!("filtering: {e}"));
    let dec = FirDecimator::new(taps, ds).map_err(dsp)?;
    let n = channels.first().map_or(0, Vec::len);
    if channels.iter().any(|c| c.len() != n) {
        return Err(Error::Invalid(
            "filtering: channels have different lengths".into(),
        ));
    }
    if channels.is_empty() || ranges.is_empty() {
        return Ok((vec![vec![]; channels.len()], vec![]));
    }
    if ranges.iter().all(|r| r.len() >= taps.len()) {
        let flat: Vec<T> = channels.iter().flatten().copied().collect();
        let (out, idx) = dec
            .filter_ranges(&flat, channels.len(), ranges)
            .map_err(dsp)?;
        let per = idx.len();
        let out = if per == 0 {
            vec![vec![]; channels.len()]
        } else {
            out.chunks(per).map(<[f64]>::to_vec).collect()
        };
        return Ok((out, idx));
    }
    let mut idx = Vec::new();
    for r in ranges {
        idx.extend((0..dec.output_len(r.len())).map(|k| r.start + ds * k));
    }
    let mut out = Vec::with_capacity(channels.len());
    for ch in channels {
        let mut o = Vec::with_capacity(idx.len());
        for r in ranges {
            if r.end > ch.len() || r.start > r.end {
                return Err(Error::Invalid(format!(
                    "filtering: range {r:?} is not within 0..{}",
                    ch.len()
                )));
            }
            let mut x: Vec<f64> = ch[r.clone()].iter().map(|v| v.to_f64()).collect();
            let want = dec.output_len(x.len());
            if x.len() < taps.len() {
                x.resize(taps.len(), 0.0);
            }
            let y = dec.filter(&x).map_err(dsp)?;
            o.extend_from_slice(&y[..want]);
        }
        out.push(o);
    }
    Ok((out, idx))
}

/// Casts to `i16` by truncation toward zero (saturating), as numpy's `astype(int16)`
/// does for in-range values — Spyglass's cast back to the raw dtype.
pub fn truncate_i16(x: &[f64]) -> Vec<i16> {
    spyglass_dsp::truncate_to_i16(x)
}

/// The value of a key attribute as text, or an error naming it.
pub(crate) fn key_str(key: &spyglass_db::Row, table: &str, attr: &str) -> Result<String> {
    key.get(attr)
        .and_then(spyglass_db::Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| Error::Invalid(format!("{table}: key has no text `{attr}`")))
}

/// The value of a key attribute as an integer, or an error naming it.
pub(crate) fn key_i64(key: &spyglass_db::Row, table: &str, attr: &str) -> Result<i64> {
    key.get(attr)
        .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f.round() as i64)))
        .ok_or_else(|| Error::Invalid(format!("{table}: key has no integer `{attr}`")))
}

/// The value of an attribute as a float, or an error naming it.
pub(crate) fn key_f64(key: &spyglass_db::Row, table: &str, attr: &str) -> Result<f64> {
    key.get(attr)
        .and_then(|v| v.as_f64().or_else(|| v.as_i64().map(|i| i as f64)))
        .ok_or_else(|| Error::Invalid(format!("{table}: row has no number `{attr}`")))
}

/// A series read back from an NWB file: channel-major data, timestamps and scale.
#[derive(Debug, Clone)]
pub struct SeriesSamples {
    /// Stored values per channel (i16 data keep their integer values).
    pub data: SampleData,
    /// One timestamp per sample, seconds.
    pub timestamps: Vec<f64>,
    /// Electrode table rows, one per channel.
    pub electrodes: Vec<i64>,
    /// Volts per stored unit (`data@conversion`).
    pub conversion: f64,
}

/// Stored samples, by type.
#[derive(Debug, Clone)]
pub enum SampleData {
    /// 16-bit integer data (raw ephys, LFP as Spyglass stores it).
    I16(Vec<Vec<i16>>),
    /// Anything else, as f64 stored values.
    F64(Vec<Vec<f64>>),
}

impl SampleData {
    /// Number of samples per channel.
    pub fn len(&self) -> usize {
        match self {
            SampleData::I16(v) => v.first().map_or(0, Vec::len),
            SampleData::F64(v) => v.first().map_or(0, Vec::len),
        }
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Channel `c` as f64 stored values.
    pub fn channel_f64(&self, c: usize) -> Vec<f64> {
        match self {
            SampleData::I16(v) => v[c].iter().map(|&x| x as f64).collect(),
            SampleData::F64(v) => v[c].clone(),
        }
    }
}

/// Reads samples `range` of the channels whose electrode ids are `electrode_ids`
/// from the series at `series_path` of an open file.
pub fn read_series(
    file: &spyglass_nwb::NwbFile,
    series_path: &str,
    electrode_ids: &[i64],
    range: Option<Range<usize>>,
) -> Result<SeriesSamples> {
    let ts = file.electrical_series(series_path)?;
    let rows = ts.electrodes.clone().unwrap_or_default();
    let mut channels = Vec::with_capacity(electrode_ids.len());
    for e in electrode_ids {
        let c = rows.iter().position(|r| r == e).ok_or_else(|| {
            Error::Invalid(format!(
                "{}: series `{series_path}` has no channel for electrode {e}",
                file.path().display()
            ))
        })?;
        channels.push(c);
    }
    let reader = file.raw_reader(series_path)?;
    let range = range.unwrap_or(0..reader.num_samples());
    let timestamps = reader.timestamps(range.clone())?;
    let e = reader.elem();
    let data = if !e.float && e.signed && e.size == 2 {
        SampleData::I16(reader.read::<i16>(range, &channels)?)
    } else {
        SampleData::F64(reader.read::<f64>(range, &channels)?)
    };
    Ok(SeriesSamples {
        data,
        timestamps,
        electrodes: electrode_ids.to_vec(),
        conversion: reader.conversion(),
    })
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;

    // Hand-derived: full convolution of x with [0.25, 0.5, 0.25], delay 1, ds 2.
    #[test]
    fn pieces_are_full_convolutions_sampled_at_delay_plus_ds_k() {
        let taps = [0.25, 0.5, 0.25];
        // [1,2,3,4,5] * h = [0.25, 1, 2, 3, 4, 3.5, 1.25] -> indices 1, 3, 5
        // [4, 8] (shorter than the filter) * h = [1, 4, 5, 2] -> index 1
        let x: Vec<f64> = vec![1.0, 2.0, 3.0, 4.0, 5.0, 0.0, 4.0, 8.0];
        let (out, idx) = filter_pieces(&taps, 2, std::slice::from_ref(&x), &[0..5, 6..8]).unwrap();
        assert_eq!(out[0], vec![1.0, 3.0, 3.5, 4.0]);
        assert_eq!(idx, vec![0, 2, 4, 6]);
        let (out, idx) = filter_pieces(&taps, 2, &[x], &[0..5]).unwrap();
        assert_eq!((out[0].clone(), idx), (vec![1.0, 3.0, 3.5], vec![0, 2, 4]));
    }

    #[test]
    fn truncation_goes_toward_zero() {
        assert_eq!(truncate_i16(&[1.9, -1.9, 0.5, -0.5]), vec![1, -1, 0, 0]);
    }

    #[test]
    fn bad_ranges_are_errors() {
        let taps = [0.25, 0.5, 0.25];
        assert!(filter_pieces(&taps, 2, &[vec![1.0, 2.0]], &[0..9]).is_err());
        assert!(filter_pieces(&taps, 2, &[vec![1.0], vec![1.0, 2.0]], &[0..1]).is_err());
    }
}

/// Declares the LFP schemas, then populates `table` with `maker` for the keys
/// matching `restriction`.
pub(crate) fn populate_table(
    db: &spyglass_db::Db,
    table: &str,
    maker: &dyn spyglass_db::populate::Maker,
    restriction: spyglass_db::Cond,
) -> crate::Result<spyglass_db::populate::PopulateReport> {
    declare(db)?;
    let opts = spyglass_db::populate::PopulateOptions {
        restrictions: vec![restriction],
        ..Default::default()
    };
    Ok(db.populate(
        table,
        maker,
        None,
        &opts,
        &spyglass_db::populate::NoProgress,
    )?)
}
