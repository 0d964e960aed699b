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

use crate::common::common_interval::{self as iv, IntervalList};
use crate::error::{Error, Result};
use spyglass_db::Db;
use spyglass_dsp::{FirDecimator, Intervals, Sample};
use spyglass_nwb::{
    Compression, ElectricalSeriesSpec, Placement, SeriesData, TimeSeriesSpec, TimingSpec,
};
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

/// Valid times clipped to the first and last output timestamp (empty without output).
pub(crate) fn clip_to_output(
    valid: &Intervals,
    timestamps: &[f64],
    table: &str,
) -> Result<Intervals> {
    match (timestamps.first(), timestamps.last()) {
        (Some(&a), Some(&b)) => valid
            .clip(a, b)
            .map_err(|e| Error::Invalid(format!("{table}: {e}"))),
        _ => Ok(Intervals::empty()),
    }
}

/// A filtering pipeline's output, as its analysis file and IntervalList row hold it.
pub(crate) struct FilteredOutput<'a> {
    /// The session.
    pub nwb_file_name: &'a str,
    /// `analysis_file_description` of the new file (`LFPV1 output`).
    pub file_description: &'a str,
    /// Description of the series.
    pub series_description: String,
    /// Filtered samples per electrode.
    pub data: &'a SampleData,
    /// Volts per stored unit.
    pub conversion: f64,
    /// One timestamp per output sample.
    pub timestamps: &'a [f64],
    /// Electrode ids, one per channel.
    pub electrodes: Vec<i64>,
    /// The filter (recorded as the series' `filtering`).
    pub filter_name: &'a str,
    /// IntervalList row for the valid times, and the pipeline it is recorded under.
    pub interval_list_name: &'a str,
    /// Pipeline name of that row.
    pub pipeline: &'a str,
    /// The output's valid times.
    pub valid_times: Intervals,
}

/// Writes the filtered series into a new analysis file (an `LFP` container in the
/// `ecephys` module, gzip-chunked, explicit timestamps) and inserts its valid times
/// into IntervalList; returns the analysis file name and the series' object id.
pub(crate) fn write_filtered(
    db: &Db,
    settings: &crate::settings::Settings,
    o: FilteredOutput,
) -> Result<(String, String)> {
    let (data, shape) = match o.data {
        SampleData::I16(ch) => SeriesData::from_channels_i16(ch)?,
        SampleData::F64(ch) => SeriesData::from_channels_f64(ch)?,
    };
    let spec = ElectricalSeriesSpec {
        series: TimeSeriesSpec {
            name: "filtered data".into(),
            neurodata_type: "ElectricalSeries".into(),
            description: o.series_description,
            data,
            shape,
            conversion: o.conversion,
            timing: TimingSpec::Timestamps(o.timestamps.to_vec()),
            compression: Compression::Gzip {
                rows: 10_000,
                level: 4,
                shuffle: true,
            },
            ..TimeSeriesSpec::default()
        },
        electrodes: o.electrodes,
        electrodes_description: "filtered electrodes".into(),
        filtering: Some(o.filter_name.to_string()),
        channel_conversion: None,
    };
    let out = crate::analysis::build(db, settings, o.nwb_file_name, o.file_description, |w| {
        Ok(w.add_electrical_series(
            &Placement::container("ecephys", "LFP data", "LFP", "LFP"),
            &spec,
        )?)
    })?;
    iv::insert(
        db,
        &IntervalList::new(
            o.nwb_file_name,
            o.interval_list_name,
            o.valid_times.into_vec(),
        )
        .with_pipeline(o.pipeline),
        false,
    )?;
    Ok(out)
}

/// A pipeline's series read back in volts.
pub(crate) struct Volts {
    /// Electrode ids, one per channel.
    pub electrode_ids: Vec<i64>,
    /// Samples per channel, volts.
    pub volts: Vec<Vec<f64>>,
    /// Timestamps, seconds.
    pub timestamps: Vec<f64>,
}

/// Reads back the series a pipeline row points to (its `<object>_object_id`), in volts.
pub(crate) fn fetch_volts(
    db: &Db,
    table: &str,
    restriction: &spyglass_db::Row,
    object: &str,
) -> Result<Volts> {
    let q = db
        .table(table)?
        .restrict(spyglass_db::Cond::from(restriction))?;
    let rows = crate::fetch_nwb::fetch_nwb(db, &q)?;
    let r = rows
        .first()
        .ok_or_else(|| Error::Invalid(format!("{table}: no row matches the restriction")))?;
    let obj = r
        .object(object)
        .ok_or_else(|| Error::Invalid(format!("{table}: row has no {object} object")))?;
    let ts = obj.file.electrical_series(&obj.info.path)?;
    let ids = ts.electrodes.clone().unwrap_or_default();
    let s = read_series(&obj.file, &obj.info.path, &ids, None)?;
    let volts = (0..ids.len())
        .map(|c| {
            s.data
                .channel_f64(c)
                .iter()
                .map(|x| x * s.conversion)
                .collect()
        })
        .collect();
    Ok(Volts {
        electrode_ids: ids,
        volts,
        timestamps: s.timestamps,
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
