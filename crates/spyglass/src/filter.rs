//! `common_filter`: FIR filter definitions as Spyglass's `FirFilterParameters`
//! keeps them — one row per (name, sampling rate) with the band edges and the
//! designed coefficients as blobs. [`add_filter`] designs with
//! [`spyglass_dsp::design_filter`] (ghostipy's least-squares design with Spyglass's
//! tap estimate), [`insert_default`] adds Spyglass's standard LFP filters plus the
//! theta and ripple band filters, and [`coefficients`] fetches a stored filter.

use crate::error::{Error, Result};
use spyglass_db::{Cond, Db, FetchSpec, InsertOptions, Row, TableSpec, Tier, Value};
use spyglass_dsp::{default_filters, design_filter};
pub use spyglass_dsp::{FilterDesign, FilterType};

/// Schema name.
pub const SCHEMA: &str = "common_filter";
/// `FirFilterParameters` (Manual).
pub const FIR_FILTER_PARAMETERS: &str = "common_filter.FirFilterParameters";

/// The tables of this schema.
pub fn specs() -> Vec<TableSpec> {
    vec![TableSpec::new(
        "FirFilterParameters",
        Tier::Manual,
        "# FIR filter definitions and their designed coefficients
filter_name : varchar(80)  # descriptive name of this filter
filter_sampling_rate : int  # sampling rate for this filter
---
filter_type : enum(\"lowpass\", \"highpass\", \"bandpass\", \"bandstop\")
filter_low_stop = 0 : float  # highest frequency for stop band for high pass side of filter
filter_low_pass = 0 : float  # lowest frequency for pass band of high pass side of filter
filter_high_pass = 0 : float  # highest frequency for pass band for low pass side of filter
filter_high_stop = 0 : float  # lowest frequency for stop band of low pass side of filter
filter_comments : varchar(2000)  # comments about the filter
filter_band_edges : blob  # numpy array containing the filter bands (redundant with individual parameters)
filter_coeff : longblob  # numpy array containing the filter coefficients",
    )]
}

/// Declares `FirFilterParameters` (idempotent).
pub fn declare(db: &Db) -> Result<()> {
    for spec in specs() {
        db.declare(SCHEMA, &spec)?;
    }
    Ok(())
}

/// The row `add_filter` inserts for a design.
pub fn filter_row(name: &str, design: &FilterDesign, comments: &str) -> Result<Row> {
    let edges =
        spyglass_blob::Value::f64_array(vec![design.band_edges.len()], design.band_edges.clone())
            .map_err(|e| Error::Invalid(format!("{FIR_FILTER_PARAMETERS}: band edges: {e}")))?;
    let coeff = spyglass_blob::Value::f64_array(
        vec![design.coefficients.len()],
        design.coefficients.clone(),
    )
    .map_err(|e| Error::Invalid(format!("{FIR_FILTER_PARAMETERS}: coefficients: {e}")))?;
    Ok(Row::from_pairs([
        ("filter_name", Value::from(name)),
        (
            "filter_sampling_rate",
            Value::from(design.sampling_rate.round() as i64),
        ),
        ("filter_type", Value::from(design.filter_type.as_str())),
        ("filter_low_stop", Value::from(design.low_stop)),
        ("filter_low_pass", Value::from(design.low_pass)),
        ("filter_high_pass", Value::from(design.high_pass)),
        ("filter_high_stop", Value::from(design.high_stop)),
        ("filter_comments", Value::from(comments)),
        ("filter_band_edges", Value::from(edges)),
        ("filter_coeff", Value::from(coeff)),
    ]))
}

/// Designs a filter and stores it, as `FirFilterParameters.add_filter`; an existing
/// row with the same name and rate is replaced. Returns the design.
pub fn add_filter(
    db: &Db,
    name: &str,
    sampling_rate: u32,
    filter_type: FilterType,
    band_edges: &[f64],
    comments: &str,
) -> Result<FilterDesign> {
    if name.trim().is_empty() || name.len() > 80 {
        return Err(Error::Invalid(format!(
            "{FIR_FILTER_PARAMETERS}: filter_name must have 1 to 80 characters, got `{name}`"
        )));
    }
    let design = design_filter(filter_type, sampling_rate as f64, band_edges)
        .map_err(|e| Error::Invalid(format!("{FIR_FILTER_PARAMETERS} `{name}`: {e}")))?;
    let row = filter_row(name, &design, comments)?;
    declare(db)?;
    let exists = db.exists(
        &db.table(FIR_FILTER_PARAMETERS)?
            .restrict(key(name, sampling_rate))?,
    )?;
    if exists {
        db.update1(FIR_FILTER_PARAMETERS, &row)?;
    } else {
        db.insert1(FIR_FILTER_PARAMETERS, row, InsertOptions::default())?;
    }
    Ok(design)
}

fn key(name: &str, sampling_rate: u32) -> Cond {
    Cond::map([
        ("filter_name", Value::from(name)),
        ("filter_sampling_rate", Value::from(sampling_rate)),
    ])
}

/// Inserts Spyglass's standard filters ("LFP 0-400 Hz" at 20 and 30 kHz) and the
/// theta and ripple band filters at 1 kHz, skipping rows already present; returns
/// the number inserted.
pub fn insert_default(db: &Db) -> Result<usize> {
    declare(db)?;
    let mut n = 0;
    for f in default_filters() {
        let q = db
            .table(FIR_FILTER_PARAMETERS)?
            .restrict(key(f.name, f.sampling_rate))?;
        if db.exists(&q)? {
            continue;
        }
        let design = f
            .design()
            .map_err(|e| Error::Invalid(format!("{FIR_FILTER_PARAMETERS} `{}`: {e}", f.name)))?;
        db.insert1(
            FIR_FILTER_PARAMETERS,
            filter_row(f.name, &design, f.comments)?,
            InsertOptions::default(),
        )?;
        n += 1;
    }
    Ok(n)
}

/// The stored coefficients of filter (`name`, `sampling_rate`); an error names the
/// filter when it is missing or has no coefficients.
pub fn coefficients(db: &Db, name: &str, sampling_rate: u32) -> Result<Vec<f64>> {
    let q = db
        .table(FIR_FILTER_PARAMETERS)?
        .restrict(key(name, sampling_rate))?;
    let rows = db.fetch_with(&q, &FetchSpec::attrs(&["filter_coeff"]))?;
    let row = rows.first().ok_or_else(|| {
        Error::Invalid(format!(
            "{FIR_FILTER_PARAMETERS}: no filter `{name}` at {sampling_rate} Hz (add it with `spyglass filter add` or `spyglass defaults`)"
        ))
    })?;
    let coeff = row
        .get("filter_coeff")
        .and_then(Value::as_blob)
        .and_then(|b| b.to_row_major::<f64>())
        .unwrap_or_default();
    if coeff.is_empty() {
        return Err(Error::Invalid(format!(
            "{FIR_FILTER_PARAMETERS}: filter `{name}` at {sampling_rate} Hz has no coefficients"
        )));
    }
    Ok(coeff)
}

/// A summary of one stored filter.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterInfo {
    /// `filter_name`.
    pub name: String,
    /// `filter_sampling_rate`, Hz.
    pub sampling_rate: i64,
    /// `filter_type`.
    pub filter_type: String,
    /// `filter_band_edges`, Hz.
    pub band_edges: Vec<f64>,
    /// Number of coefficients.
    pub numtaps: usize,
    /// `filter_comments`.
    pub comments: String,
}

/// Every stored filter, ordered by name and rate.
pub fn list(db: &Db) -> Result<Vec<FilterInfo>> {
    declare(db)?;
    let q = db.table(FIR_FILTER_PARAMETERS)?;
    let rows = db.fetch_with(&q, &FetchSpec::default().order_by(&["KEY"]))?;
    Ok(rows
        .iter()
        .map(|r| {
            let text = |k: &str| {
                r.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let arr = |k: &str| {
                r.get(k)
                    .and_then(Value::as_blob)
                    .and_then(|b| b.to_row_major::<f64>())
                    .unwrap_or_default()
            };
            FilterInfo {
                name: text("filter_name"),
                sampling_rate: r
                    .get("filter_sampling_rate")
                    .and_then(Value::as_i64)
                    .unwrap_or_default(),
                filter_type: text("filter_type"),
                band_edges: arr("filter_band_edges"),
                numtaps: arr("filter_coeff").len(),
                comments: text("filter_comments"),
            }
        })
        .collect())
}
