//! The LFP pipelines, one file per schema as Spyglass lays them out:
//! [`lfp_electrode`] (which electrodes make an LFP group), [`v1`] (`lfp_v1`:
//! LFPSelection and LFPV1 — raw data filtered with a stored FIR filter and
//! decimated to ~1 kHz), [`imported`] (`lfp_imported`: LFP that came with the
//! NWB file), [`merge`] (`lfp_merge`: the LFPOutput merge table over both) and
//! [`band_v1`] (`lfp_band_v1`: band-filtered LFP and its analytic amplitude,
//! phase and power). The helpers here are the pieces every version shares: the in-memory filter of valid pieces (the
//! reference the streamed path [`stream`] equals to the bit), writing a filtered
//! series into an analysis file as it is computed, and reading a series back in volts.

pub mod analytic;
pub mod stream;

crate::kit::family! {
    lfp_electrode => LfpElectrode,
    v1 => LfpV1,
    imported => ImportedLfp,
    merge => LfpMerge,
    band_v1 => LfpBandV1,
    artifact_v1 => LfpArtifactV1,
}

use crate::error::{Error, Result};
use spyglass_db::Db;
use spyglass_dsp::{FirDecimator, Intervals, Sample};
use spyglass_nwb::{Compression, Placement, StreamDtype, StreamedSeriesSpec};
use std::ops::Range;

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
    let dsp = |e: spyglass_dsp::DspError| Error::bad("filtering", e.to_string());
    let dec = FirDecimator::new(taps, ds).map_err(dsp)?;
    let n = channels.first().map_or(0, Vec::len);
    if channels.iter().any(|c| c.len() != n) {
        return Err(Error::internal(
            "filtering",
            "channels have different lengths",
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
                return Err(Error::internal(
                    "filtering",
                    format!("range {r:?} is not within 0..{}", ch.len()),
                ));
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

/// The value of an attribute as a float, or an error naming it.
pub(crate) fn key_f64(key: &spyglass_db::Row, table: &str, attr: &str) -> Result<f64> {
    key.get(attr)
        .and_then(|v| v.as_f64().or_else(|| v.as_i64().map(|i| i as f64)))
        .ok_or_else(|| Error::internal(table, format!("row has no number `{attr}`")))
}

/// What a filtering make's fetch checks and finds, the same for every version.
pub(crate) struct FilterPlan<'a> {
    /// The pipeline's table, for messages.
    pub table: &'static str,
    /// The session.
    pub nwb_file_name: &'a str,
    /// The stored filter: name and the rate it was designed at.
    pub filter: (&'a str, i64),
    /// The output rate: its attribute (for messages) and value, Hz.
    pub output: (&'a str, f64),
    /// The target IntervalList and the input's valid-times IntervalList.
    pub intervals: (&'a str, &'a str),
    /// Shortest piece to filter, seconds.
    pub min_len: f64,
}

/// The input series of a filtering run.
pub(crate) struct FilterSource {
    /// The file holding it.
    pub path: std::path::PathBuf,
    /// Its object id.
    pub object_id: String,
    /// Its sampling rate, Hz.
    pub rate: f64,
}

impl FilterPlan<'_> {
    /// The inputs of a run filtering `electrodes` of `source` into an analysis
    /// file whose parent is the session's `_` copy: the filter must be designed at the source's
    /// rate (rounded) and the output rate must be in `(0, source rate]`
    /// (decimation `source // output`); the pieces are the target ∩ the input's
    /// valid times longer than `min_len` — an error when none is.
    pub fn inputs(
        self,
        db: &Db,
        source: FilterSource,
        electrodes: impl IntoIterator<Item = (i64, Option<i64>)>,
    ) -> Result<FilterInputs> {
        let (table, (filter, filter_rate), (attribute, output)) =
            (self.table, self.filter, self.output);
        let rate = source.rate.round();
        if !(rate >= 1.0 && rate < u32::MAX as f64) {
            let message = format!("its input's sampling rate {} Hz is not usable", source.rate);
            return Err(Error::bad(table, message));
        }
        if filter_rate != rate as i64 {
            let message = format!("filter `{filter}` is for {filter_rate} Hz but its input is at {rate} Hz; select the filter at {rate} Hz");
            return Err(Error::bad(table, message));
        }
        if !(output.is_finite() && output > 0.0 && output <= rate) {
            let message = format!("{attribute} {output} must be in (0, {rate}]");
            return Err(Error::bad(table, message));
        }
        let ds = (rate / output).floor() as usize;
        let (nwb, (target, valid)) = (self.nwb_file_name, self.intervals);
        let pieces = crate::common::common_interval::intersect_lists(db, nwb, target, valid, 0.0)?
            .longer_than(self.min_len);
        if pieces.is_empty() {
            let message = format!(
                "`{target}` ∩ `{valid}` of {nwb} has no piece longer than {} s",
                self.min_len
            );
            return Err(Error::conflict(table, message));
        }
        Ok(FilterInputs {
            parent: crate::analysis::nwb_file_path(db, nwb)?,
            source: source.path,
            object_id: source.object_id,
            taps: crate::filter::coefficients(db, filter, rate as u32)?,
            ds,
            rate: (rate as usize / ds) as f64,
            valid_times: pieces,
            electrodes: electrodes.into_iter().collect(),
        })
    }
}

/// What a filtering make reads from the database (phase 1), the same for every
/// version: the input series, the filter, the pieces and the output electrodes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FilterInputs {
    /// The session's `_` copy (the analysis file's parent).
    pub parent: std::path::PathBuf,
    /// The file holding the input series.
    pub source: std::path::PathBuf,
    /// Object id of the input series.
    pub object_id: String,
    /// The filter's coefficients.
    pub taps: Vec<f64>,
    /// Decimation factor, `input rate // output rate`.
    pub ds: usize,
    /// Output rate, Hz.
    pub rate: f64,
    /// The valid times to filter.
    pub valid_times: Intervals,
    /// Output electrodes by id, each with its reference electrode (None: none).
    pub electrodes: Vec<(i64, Option<i64>)>,
}

/// How a filtering run names what it writes.
pub(crate) struct FilterRun<'a> {
    /// The pipeline's table, for messages.
    pub table: &'a str,
    /// The session.
    pub nwb_file_name: &'a str,
    /// `analysis_file_description` of the new file (`LFPV1 output`).
    pub file_description: String,
    /// Description of the series.
    pub series_description: String,
    /// The filter (recorded as the series' `filtering`).
    pub filter_name: &'a str,
}

impl<'a> FilterRun<'a> {
    /// A run of `table` (`schema.Class`: the file is described as `Class output`)
    /// filtering session `nwb_file_name` with `filter_name` into a series described
    /// as `series_description`.
    pub fn new(
        table: &'a str,
        nwb_file_name: &'a str,
        filter_name: &'a str,
        series_description: String,
    ) -> FilterRun<'a> {
        let class = table.rsplit('.').next().unwrap_or(table);
        FilterRun {
            table,
            nwb_file_name,
            file_description: format!("{class} output"),
            series_description,
            filter_name,
        }
    }
}

/// What a filtering run wrote: an analysis file, not registered yet.
#[derive(Debug)]
pub struct FilterOutput {
    /// The analysis file, to register in the insert phase.
    pub file: crate::analysis::PendingFile,
    /// Object id of the series.
    pub object_id: String,
    /// Output rate, Hz.
    pub rate: f64,
    /// Valid times clipped to the first and last output timestamp.
    pub valid_times: Intervals,
}

/// What a filtering run's row holds: the registered analysis file, the IntervalList
/// of its valid times, the series' object id and its rate.
pub(crate) struct Recorded {
    /// The analysis file.
    pub analysis_file_name: String,
    /// The IntervalList of the valid times.
    pub interval_list_name: String,
    /// Object id of the series.
    pub object_id: String,
    /// Output rate, Hz.
    pub rate: f64,
}

impl FilterOutput {
    /// The insert phase: registers the analysis file, records the valid times as
    /// IntervalList `list` (pipeline `pipeline`) of session `nwb`, and inserts into
    /// `table` the row `row` makes of what was recorded.
    pub(crate) fn put<R: serde::Serialize>(
        self,
        db: &Db,
        table: &str,
        (nwb, list, pipeline): (&str, String, &str),
        row: impl FnOnce(Recorded) -> R,
    ) -> Result<()> {
        use crate::kit::Tables;
        let analysis_file_name = db.register(self.file)?;
        db.interval_list(nwb, &list, pipeline, self.valid_times)?;
        let recorded = Recorded {
            analysis_file_name,
            interval_list_name: list,
            object_id: self.object_id,
            rate: self.rate,
        };
        db.put(table, &row(recorded))
    }
}

/// Filters the input series into a new analysis file (an ElectricalSeries
/// `filtered data` in an `LFP` container of the `ecephys` module, gzip-chunked,
/// explicit timestamps), streaming in time blocks. Int16 counts stay int16 when
/// the input is plain int16; otherwise float32 volts.
pub(crate) fn filter_series(
    settings: &crate::settings::Settings,
    run: FilterRun,
    inputs: &FilterInputs,
) -> Result<FilterOutput> {
    let file = spyglass_nwb::NwbFile::open(&inputs.source)?;
    let reader = file.volts_reader(&file.path_of_id(&inputs.object_id)?)?;
    let mut channels = Vec::with_capacity(inputs.electrodes.len());
    for &(electrode, reference) in &inputs.electrodes {
        let channel = reader.channels_of(&[electrode])?[0];
        let reference = match reference {
            Some(r) => Some(reader.channels_of(&[r])?[0]),
            None => None,
        };
        channels.push(stream::OutChannel { channel, reference });
    }
    let ranges = reader.raw().sample_ranges(inputs.valid_times.as_slice())?;
    if ranges.is_empty() {
        let message = format!(
            "no samples of {} fall in the valid times",
            inputs.source.display()
        );
        return Err(Error::conflict(run.table, message));
    }
    let job = stream::Job {
        reader: &reader,
        channels,
        taps: &inputs.taps,
        ds: inputs.ds,
        ranges,
        kind: stream::OutputKind::for_input(&reader),
        budget: stream::WINDOW_BUDGET,
    };
    let table = run.table;
    let filtered = filter_to_file(settings, run, inputs, job)?;
    let valid_times = match filtered.first_last {
        Some((a, b)) => inputs
            .valid_times
            .clip(a, b)
            .map_err(|e| Error::internal(table, e.to_string()))?,
        None => Intervals::empty(),
    };
    Ok(FilterOutput {
        file: filtered.file,
        object_id: filtered.object_id,
        rate: inputs.rate,
        valid_times,
    })
}

/// What [`filter_to_file`] wrote.
struct Filtered {
    file: crate::analysis::PendingFile,
    object_id: String,
    first_last: Option<(f64, f64)>,
}

/// Runs the streaming job into a new analysis file; the file is not registered yet.
fn filter_to_file(
    settings: &crate::settings::Settings,
    run: FilterRun,
    inputs: &FilterInputs,
    job: stream::Job,
) -> Result<Filtered> {
    let mut f = crate::analysis::AnalysisFile::create_detached(
        settings,
        run.nwb_file_name,
        &inputs.parent,
    )?;
    let pending = crate::analysis::PendingFile::new(&f, &run.file_description);
    // the analysis file's electrodes table is its parent's: rows by id there
    let parent = spyglass_nwb::NwbFile::open(&inputs.parent)?;
    let ids: Vec<i64> = inputs.electrodes.iter().map(|e| e.0).collect();
    let rows = parent.electrode_rows(&ids)?;
    drop(parent);
    let n_rows = job.n_out();
    let spec = StreamedSeriesSpec {
        name: "filtered data".into(),
        description: run.series_description,
        comments: "no comments".into(),
        dtype: match job.kind {
            stream::OutputKind::Counts16 { .. } => StreamDtype::I16,
            stream::OutputKind::Volts => StreamDtype::F32,
        },
        n_rows,
        electrodes: rows,
        electrodes_description: "filtered electrodes".into(),
        conversion: job.kind.conversion(),
        offset: 0.0,
        filtering: Some(run.filter_name.to_string()),
        compression: Compression::Gzip {
            rows: 10_000,
            level: 4,
            shuffle: true,
        },
    };
    let out = f.writer().begin_electrical_series(
        &Placement::container("ecephys", "LFP data", "LFP", "LFP"),
        &spec,
    )?;
    job.run(&out)?;
    let first_last = first_last_output(&job)?;
    let object_id = out.finish()?;
    f.finish()?;
    Ok(Filtered {
        file: pending,
        object_id,
        first_last,
    })
}

/// The first and last output timestamps of a job (every `ds`-th input timestamp of each piece).
fn first_last_output(job: &stream::Job) -> Result<Option<(f64, f64)>> {
    let (Some(a), Some(b)) = (job.ranges.first(), job.ranges.last()) else {
        return Ok(None);
    };
    let raw = job.reader.raw();
    let last = b.start + job.ds * (b.len().div_ceil(job.ds) - 1);
    let t0 = raw.timestamps(a.start..a.start + 1)?;
    let t1 = raw.timestamps(last..last + 1)?;
    Ok(Some((t0[0], t1[0])))
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

/// Reads back the series a pipeline row points to (its `<object>_object_id`), in volts
/// (conversion, channel_conversion and offset applied), electrodes by id.
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
        .ok_or_else(|| Error::missing(table, restriction.to_json().to_string()))?;
    let obj = r
        .object(object)
        .ok_or_else(|| Error::internal(table, format!("row has no {object} object")))?;
    let reader = obj.file.volts_reader(&obj.info.path)?;
    let n = reader.raw().num_samples();
    let channels: Vec<usize> = (0..reader.channel_ids().len()).collect();
    Ok(Volts {
        electrode_ids: reader.channel_ids().to_vec(),
        volts: reader.read_volts(0..n, &channels)?,
        timestamps: reader.raw().timestamps(0..n)?,
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
