//! The one way to read an ElectricalSeries in volts, used by every pipeline.
//!
//! - Values: `stored × conversion × channel_conversion[c] + offset` ([`Scaling`]), the
//!   formula pynwb documents, applied in f64.
//! - Electrodes by id: the electrodes table's `id` column maps an electrode to its
//!   row, and the series' `electrodes` region maps rows to the series' channels
//!   ([`VoltsReader::channels_of`]); ids are never taken for rows or channels.
//! - [`NwbFile::check_electrical_series`] validates a series once, at ingestion:
//!   shape, channels, region rows, scaling, timing (no NaN, non-decreasing) and the
//!   HDF5 filters of its datasets, naming the file and object at fault.

use std::ops::Range;

use crate::error::{NwbError, Result};
use crate::h5::join;
use crate::model::{TimeSeries, Timing};
use crate::raw::RawReader;
use crate::read::NwbFile;

/// Path of the electrodes table when a region does not say.
pub const ELECTRODES_TABLE: &str = "/general/extracellular_ephys/electrodes";

/// How stored values become volts (or the series' unit).
#[derive(Clone, Debug, PartialEq)]
pub struct Scaling {
    /// `data@conversion`.
    pub conversion: f64,
    /// `channel_conversion`, one factor per channel.
    pub channel_conversion: Option<Vec<f64>>,
    /// `data@offset`.
    pub offset: f64,
}

impl Scaling {
    /// The factor of channel `c`: `conversion × channel_conversion[c]`.
    pub fn factor(&self, c: usize) -> f64 {
        self.conversion
            * self
                .channel_conversion
                .as_ref()
                .and_then(|cc| cc.get(c).copied())
                .unwrap_or(1.0)
    }

    /// Converts stored values of channel `c` in place: `x × factor(c) + offset`.
    pub fn apply(&self, c: usize, values: &mut [f64]) {
        let k = self.factor(c);
        let off = self.offset;
        values.iter_mut().for_each(|x| *x = *x * k + off);
    }

    /// True when values are plain multiples of one conversion (no channel_conversion, no offset).
    pub fn is_plain(&self) -> bool {
        self.channel_conversion.is_none() && self.offset == 0.0
    }
}

/// A reader of one ElectricalSeries in volts, with its channels' electrode ids.
#[derive(Debug)]
pub struct VoltsReader {
    raw: RawReader,
    series: TimeSeries,
    channel_ids: Vec<i64>,
    scaling: Scaling,
}

impl NwbFile {
    /// The electrode id (electrodes table `id`) of each channel of the series at `path`.
    pub fn channel_electrode_ids(&self, series: &TimeSeries) -> Result<Vec<i64>> {
        let rows = series.electrodes.as_ref().ok_or_else(|| {
            NwbError::invalid(
                self.path(),
                &series.path,
                "not an ElectricalSeries: it has no electrodes region",
            )
        })?;
        let table = series
            .electrodes_table
            .clone()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| ELECTRODES_TABLE.to_string());
        let ids_path = join(&table, "id");
        let ids = self.read_data(&ids_path)?.values.to_i64().ok_or_else(|| {
            NwbError::invalid(self.path(), &ids_path, "electrode ids are not integers")
        })?;
        rows.iter()
            .map(|&r| {
                usize::try_from(r)
                    .ok()
                    .and_then(|r| ids.get(r).copied())
                    .ok_or_else(|| {
                        NwbError::invalid(
                            self.path(),
                            &join(&series.path, "electrodes"),
                            format!(
                                "region row {r} lies outside the electrodes table `{table}` ({} rows)",
                                ids.len()
                            ),
                        )
                    })
            })
            .collect()
    }

    /// The rows of the main electrodes table holding each electrode id (for writing a
    /// region); an id the table lacks is an error naming it.
    pub fn electrode_rows(&self, electrode_ids: &[i64]) -> Result<Vec<i64>> {
        let ids_path = join(ELECTRODES_TABLE, "id");
        let ids = self.read_data(&ids_path)?.values.to_i64().ok_or_else(|| {
            NwbError::invalid(self.path(), &ids_path, "electrode ids are not integers")
        })?;
        electrode_ids
            .iter()
            .map(|e| {
                ids.iter()
                    .position(|x| x == e)
                    .map(|r| r as i64)
                    .ok_or_else(|| {
                        NwbError::invalid(
                            self.path(),
                            ELECTRODES_TABLE,
                            format!("no electrode has id {e}"),
                        )
                    })
            })
            .collect()
    }

    /// A volts reader for the ElectricalSeries at `path`.
    pub fn volts_reader(&self, path: &str) -> Result<VoltsReader> {
        let series = self.electrical_series(path)?;
        let channel_ids = self.channel_electrode_ids(&series)?;
        let raw = self.raw_reader(path)?;
        if channel_ids.len() != raw.num_channels() {
            return Err(NwbError::invalid(
                self.path(),
                path,
                format!(
                    "data has {} channels but the electrodes region has {} rows",
                    raw.num_channels(),
                    channel_ids.len()
                ),
            ));
        }
        let scaling = raw.scaling();
        Ok(VoltsReader {
            raw,
            series,
            channel_ids,
            scaling,
        })
    }

    /// Checks an ElectricalSeries so that every later read of it succeeds: data 1-D or
    /// 2-D with at least one channel and one sample, region rows inside the electrodes
    /// table, finite non-zero conversion, finite offset and channel conversions, a
    /// positive rate or finite non-decreasing timestamps (read in blocks), and HDF5
    /// filters this build decodes. Errors name the file and the object.
    pub fn check_electrical_series(&self, path: &str) -> Result<()> {
        let bad = |object: &str, m: String| NwbError::invalid(self.path(), object, m);
        let data = join(path, "data");
        if !self.exists(&data) {
            return Err(NwbError::missing(self.path(), &data, "dataset"));
        }
        let info = self.object(&data)?;
        match info.shape.as_slice() {
            [] => {
                return Err(bad(
                    &data,
                    "data is a scalar, not a time × channel array".into(),
                ))
            }
            [n] | [n, _] if *n == 0 => return Err(bad(&data, "data has no samples".into())),
            [_, 0] => return Err(bad(&data, "data has zero channels".into())),
            [_] | [_, _] => {}
            s => {
                return Err(bad(
                    &data,
                    format!("data must be 1-D or 2-D (time × channel), shape is {s:?}"),
                ))
            }
        }
        let series = self.electrical_series(path)?;
        let ids = self.channel_electrode_ids(&series)?;
        let channels = series.shape.get(1).copied().unwrap_or(1);
        if ids.len() != channels {
            return Err(bad(
                path,
                format!(
                    "data has {channels} channels but the electrodes region has {} rows",
                    ids.len()
                ),
            ));
        }
        if !(series.conversion.is_finite() && series.conversion != 0.0) {
            return Err(bad(
                &data,
                format!(
                    "conversion {} is not a finite non-zero number",
                    series.conversion
                ),
            ));
        }
        if !series.offset.is_finite() {
            return Err(bad(
                &data,
                format!("offset {} is not finite", series.offset),
            ));
        }
        if let Some(cc) = &series.channel_conversion {
            let p = join(path, "channel_conversion");
            if cc.len() != channels {
                return Err(bad(
                    &p,
                    format!("{} entries for {channels} channels", cc.len()),
                ));
            }
            if let Some((c, v)) = cc.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(bad(&p, format!("channel {c} has factor {v}")));
            }
        }
        let raw = self.raw_reader(path)?; // checks the data's filters
        match series.timing {
            Timing::Rate {
                rate,
                starting_time,
            } => {
                if !(rate.is_finite() && rate > 0.0) {
                    return Err(bad(
                        &join(path, "starting_time"),
                        format!("rate {rate} is not positive"),
                    ));
                }
                if !starting_time.is_finite() {
                    return Err(bad(
                        &join(path, "starting_time"),
                        "starting_time is not finite".into(),
                    ));
                }
            }
            Timing::Timestamps { .. } => {
                let ts = join(path, "timestamps");
                let ds = crate::h5::open_dataset(self.hdf5(), self.path(), &ts)?;
                crate::filters::check_dataset(&ds, self.path(), &ts)?;
                const BLOCK: usize = 1 << 20;
                let n = raw.num_samples();
                let mut prev = f64::NEG_INFINITY;
                let mut at = 0;
                while at < n {
                    let end = (at + BLOCK).min(n);
                    for (i, t) in raw.timestamps(at..end)?.into_iter().enumerate() {
                        if !t.is_finite() {
                            return Err(bad(&ts, format!("timestamp {} is {t}", at + i)));
                        }
                        if t < prev {
                            return Err(bad(
                                &ts,
                                format!(
                                    "timestamps decrease at sample {} ({prev} then {t})",
                                    at + i
                                ),
                            ));
                        }
                        prev = t;
                    }
                    at = end;
                }
            }
            Timing::Missing => {
                return Err(NwbError::missing(
                    self.path(),
                    &join(path, "timestamps"),
                    "timing",
                ))
            }
        }
        Ok(())
    }
}

impl VoltsReader {
    /// The series' description.
    pub fn series(&self) -> &TimeSeries {
        &self.series
    }

    /// The underlying reader of stored values (timing, sample ranges, element type).
    pub fn raw(&self) -> &RawReader {
        &self.raw
    }

    /// Electrode id of each channel.
    pub fn channel_ids(&self) -> &[i64] {
        &self.channel_ids
    }

    /// The scaling to volts.
    pub fn scaling(&self) -> &Scaling {
        &self.scaling
    }

    /// True when the data are int16 with no channel_conversion and no offset (the case
    /// where Spyglass's LFP keeps stored integers and one conversion).
    pub fn is_plain_int16(&self) -> bool {
        let e = self.raw.elem();
        !e.float && e.signed && e.size == 2 && self.scaling.is_plain()
    }

    /// The channel of each electrode id, in the order given; an id the series does not
    /// carry is an error naming the file, the series and the id.
    pub fn channels_of(&self, electrode_ids: &[i64]) -> Result<Vec<usize>> {
        electrode_ids
            .iter()
            .map(|id| {
                self.channel_ids
                    .iter()
                    .position(|c| c == id)
                    .ok_or_else(|| {
                        NwbError::invalid(
                            self.raw.file(),
                            &self.series.path,
                            format!(
                                "the series carries no channel for electrode id {id} (its electrodes: {})",
                                summarize_ids(&self.channel_ids)
                            ),
                        )
                    })
            })
            .collect()
    }

    /// Volts of `channels` over `samples`, channel-major.
    pub fn read_volts(&self, samples: Range<usize>, channels: &[usize]) -> Result<Vec<Vec<f64>>> {
        self.raw.read_scaled(samples, channels)
    }

    /// Volts into caller-owned slices (one per channel, each `samples.len()` long).
    pub fn read_volts_into(
        &self,
        samples: Range<usize>,
        channels: &[usize],
        out: &mut [&mut [f64]],
    ) -> Result<()> {
        self.raw.read_scaled_into(samples, channels, out)
    }
}

/// `1, 2, 3, ..., 16` shortened for messages.
fn summarize_ids(ids: &[i64]) -> String {
    let shown: Vec<String> = ids.iter().take(12).map(i64::to_string).collect();
    if ids.len() > 12 {
        format!("{}, ... ({} in all)", shown.join(", "), ids.len())
    } else {
        shown.join(", ")
    }
}
