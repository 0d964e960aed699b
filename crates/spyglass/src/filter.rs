//! `common_filter`: FIR filter definitions as Spyglass's `FirFilterParameters`
//! keeps them — one row per (name, sampling rate) with the band edges and the
//! designed coefficients as blobs, written with the dtypes Spyglass writes (band
//! edges int64 when they are whole numbers, as `np.asarray([400, 425])` is).
//! [`add_filter`] designs with [`spyglass_dsp::design_filter`] (ghostipy's
//! least-squares design with Spyglass's tap estimate, refused beyond [`MAX_TAPS`])
//! and, as Spyglass's `insert1(..., skip_duplicates=True)`, keeps a row that is
//! already stored unless asked to replace it — which is refused while computed
//! rows depend on it. [`insert_default`] adds exactly Spyglass's
//! `create_standard_filters` rows; [`insert_band_filters`] adds the theta and
//! ripple band filters on request; [`coefficients`] fetches a stored filter.

use crate::error::{Error, Result};
use crate::kit::{args, identity, provides, Defaults, Pipeline, Spyglass};
use spyglass_db::{Cond, Db, FetchSpec, InsertOptions, Row, TableSpec, Tier, Value};
use spyglass_dsp::{design_filter, estimate_taps, BAND_FILTERS, STANDARD_FILTERS};
pub use spyglass_dsp::{FilterDesign, FilterType, StandardFilter};

/// Most taps a filter may have: 1,000,001 coefficients are 8 MB in the database,
/// far beyond any filter a pipeline uses (LFP at 30 kHz has 6401).
pub const MAX_TAPS: usize = 1_000_001;

/// Schema name.
pub const SCHEMA: &str = "common_filter";
/// `FirFilterParameters` (Manual).
pub const FIR_FILTER_PARAMETERS: &str = "common_filter.FirFilterParameters";

/// The `common_filter` pipeline: FirFilterParameters, its defaults and the
/// `spyglass filter …` commands.
pub struct Filter;

impl Pipeline for Filter {
    identity!(SCHEMA, family "filter", requires ["common"]);
    provides! {
        defaults: Defaults::rows(FIR_FILTER_PARAMETERS, insert_default);
        commands: Command;
    }
    fn tables(&self) -> Vec<TableSpec> {
        let fir = "# FIR filter definitions and their designed coefficients
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
filter_coeff : longblob  # numpy array containing the filter coefficients";
        vec![TableSpec::new("FirFilterParameters", Tier::Manual, fir)]
    }
    fn run(&self, sg: &Spyglass, _name: &str, m: &clap::ArgMatches) -> Result<()> {
        match args::parse(m)? {
            Command::Add {
                name,
                rate,
                filter_type,
                edges,
                comment,
                replace,
            } => {
                let ty: FilterType = filter_type
                    .parse()
                    .map_err(|e: spyglass_dsp::DspError| Error::bad("--type", e.to_string()))?;
                let (d, added) = add_filter(sg, &name, rate, ty, &edges, &comment, replace)?;
                let what = format!(
                    "`{name}` at {rate} Hz: {} {:?} Hz, {} taps",
                    d.filter_type,
                    d.band_edges,
                    d.numtaps()
                );
                match added {
                    Added::Inserted => println!("added filter {what}"),
                    Added::Replaced => println!("replaced filter {what}"),
                    Added::Kept { same: true } => println!("filter `{name}` at {rate} Hz is already stored with this design"),
                    Added::Kept { same: false } => println!("filter `{name}` at {rate} Hz is already stored with another design or comment; kept the stored row (use --replace to replace it)"),
                }
            }
            Command::AddBands => {
                let n = insert_band_filters(sg)?;
                println!("{FIR_FILTER_PARAMETERS}: {n} band filters inserted");
            }
            Command::List => {
                for f in list(sg)? {
                    println!(
                        "{:<24} {:>6} Hz  {:<9} edges {:?}  {} taps  {}",
                        f.name, f.sampling_rate, f.filter_type, f.band_edges, f.numtaps, f.comments
                    );
                }
            }
        }
        Ok(())
    }
}

/// `spyglass filter …`.
#[derive(clap::Subcommand)]
enum Command {
    /// Design a FIR filter and store it (FirFilterParameters.add_filter).
    Add {
        /// Filter name, e.g. "Theta 5-11 Hz".
        name: String,
        /// Sampling rate the filter is for, Hz.
        #[arg(long)]
        rate: u32,
        /// lowpass, highpass, bandpass or bandstop.
        #[arg(long = "type")]
        filter_type: String,
        /// Band edges in Hz: pass,stop (lowpass), stop,pass (highpass) or four edges.
        #[arg(long, value_delimiter = ',', required = true)]
        edges: Vec<f64>,
        /// A comment stored with the filter.
        #[arg(long, default_value = "")]
        comment: String,
        /// Replace a stored filter of this name and rate (refused while rows computed
        /// with it exist); without it a stored filter is kept, as Spyglass does.
        #[arg(long)]
        replace: bool,
    },
    /// Add the theta (5-11 Hz) and ripple (150-250 Hz) band filters for 1 kHz LFP.
    AddBands,
    /// List the stored filters.
    List,
}

fn declare(db: &Db) -> Result<()> {
    crate::pipelines::declare(db, &[SCHEMA])
}

/// The band edges as Spyglass stores them: `np.asarray(band_edges)` is int64 when
/// every edge is a whole number (Spyglass's standard filters pass `[400, 425]`),
/// float64 otherwise.
fn band_edges_blob(edges: &[f64]) -> Result<spyglass_blob::Value> {
    let whole = edges.iter().all(|e| e.fract() == 0.0 && e.abs() < 9.0e15);
    let arr = if whole {
        spyglass_blob::Array::from_row_major(
            vec![edges.len()],
            edges.iter().map(|&e| e as i64).collect::<Vec<i64>>(),
        )
    } else {
        spyglass_blob::Array::from_row_major(vec![edges.len()], edges.to_vec())
    };
    arr.map(spyglass_blob::Value::Array)
        .map_err(|e| Error::internal(FIR_FILTER_PARAMETERS, format!("band edges: {e}")))
}

/// The row `add_filter` inserts for a design.
pub fn filter_row(name: &str, design: &FilterDesign, comments: &str) -> Result<Row> {
    let edges = band_edges_blob(&design.band_edges)?;
    let coeff = spyglass_blob::Value::f64_array(
        vec![design.coefficients.len()],
        design.coefficients.clone(),
    )
    .map_err(|e| Error::internal(FIR_FILTER_PARAMETERS, format!("coefficients: {e}")))?;
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

/// Checks the tap count a design would have before designing it (a design of
/// billions of taps would exhaust memory).
fn check_taps(
    filter_type: FilterType,
    sampling_rate: u32,
    band_edges: &[f64],
    name: &str,
) -> Result<()> {
    if band_edges.len() != filter_type.n_edges() {
        // design_filter names this error
        return Ok(());
    }
    let e = band_edges;
    let tw = match filter_type {
        FilterType::Bandpass => ((e[1] - e[0]) + (e[3] - e[2])) / 2.0,
        _ => e[1] - e[0],
    };
    let Ok(taps) = estimate_taps(sampling_rate as f64, tw) else {
        // design_filter names this error
        return Ok(());
    };
    if taps > MAX_TAPS {
        return Err(Error::bad(format!("{FIR_FILTER_PARAMETERS} `{name}`"), format!(
            "a {filter_type} filter at {sampling_rate} Hz with a {tw} Hz transition band needs {taps} taps, more than the {MAX_TAPS} allowed; widen the transition band or filter at a lower sampling rate"
        )));
    }
    Ok(())
}

/// What [`add_filter`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Added {
    /// A new row was inserted.
    Inserted,
    /// A row with this name and rate was already stored and was kept as it is;
    /// `same` tells whether it equals the new design.
    Kept {
        /// The stored row has the same type, edges, coefficients and comment.
        same: bool,
    },
    /// The stored row was replaced (`replace`; nothing depended on it).
    Replaced,
}

/// Designs a filter and stores it, as `FirFilterParameters.add_filter`: a row
/// already stored under this name and rate is kept (Spyglass's `skip_duplicates`)
/// unless `replace` is set; replacing is refused while any row computed with the
/// filter exists. Returns the design and what was done.
pub fn add_filter(
    db: &Db,
    name: &str,
    sampling_rate: u32,
    filter_type: FilterType,
    band_edges: &[f64],
    comments: &str,
    replace: bool,
) -> Result<(FilterDesign, Added)> {
    if name.trim().is_empty() || name.len() > 80 {
        return Err(Error::bad(
            FIR_FILTER_PARAMETERS,
            format!("filter_name must have 1 to 80 characters, got `{name}`"),
        ));
    }
    check_taps(filter_type, sampling_rate, band_edges, name)?;
    let design = design_filter(filter_type, sampling_rate as f64, band_edges)
        .map_err(|e| Error::bad(format!("{FIR_FILTER_PARAMETERS} `{name}`"), e.to_string()))?;
    let row = filter_row(name, &design, comments)?;
    declare(db)?;
    let q = db
        .table(FIR_FILTER_PARAMETERS)?
        .restrict(key(name, sampling_rate))?;
    let stored = db.fetch(&q)?;
    let Some(old) = stored.first() else {
        db.insert1(FIR_FILTER_PARAMETERS, row, InsertOptions::default())?;
        return Ok((design, Added::Inserted));
    };
    let same = same_filter(old, &row);
    if !replace || same {
        return Ok((design, Added::Kept { same }));
    }
    let dependents = dependent_rows(db, name, sampling_rate)?;
    if !dependents.is_empty() {
        return Err(Error::conflict(FIR_FILTER_PARAMETERS, format!(
            "filter `{name}` at {sampling_rate} Hz is not replaced: rows were computed with it ({}); delete them first",
            dependents
                .iter()
                .map(|(t, n)| format!("{n} in {t}"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    db.update1(FIR_FILTER_PARAMETERS, &row)?;
    Ok((design, Added::Replaced))
}

/// Rows of other tables that depend on filter (`name`, `sampling_rate`), per table.
fn dependent_rows(db: &Db, name: &str, sampling_rate: u32) -> Result<Vec<(String, usize)>> {
    let plan = db.plan_delete(
        FIR_FILTER_PARAMETERS,
        key(name, sampling_rate),
        Default::default(),
    )?;
    let own = db.table_info(FIR_FILTER_PARAMETERS)?.name.clone();
    Ok(plan
        .counts()
        .into_iter()
        .filter(|(t, _)| t != &own)
        .map(|(t, n)| (t.pretty(), n))
        .collect())
}

/// True when a stored row and a new one agree on everything `add_filter` writes
/// (numbers compared as values, whatever dtype the blobs were stored with).
fn same_filter(stored: &Row, new: &Row) -> bool {
    let num = |r: &Row, k: &str| -> Option<Vec<f64>> {
        match r.get(k)? {
            Value::Blob(b) => b.as_array()?.to_f64_row_major(),
            v => v.as_f64().map(|x| vec![x]),
        }
    };
    let text = |r: &Row, k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
    ["filter_type", "filter_comments"]
        .iter()
        .all(|k| text(stored, k) == text(new, k))
        && [
            "filter_low_stop",
            "filter_low_pass",
            "filter_high_pass",
            "filter_high_stop",
            "filter_band_edges",
            "filter_coeff",
        ]
        .iter()
        .all(|k| {
            match (num(stored, k), num(new, k)) {
                // float columns hold single precision
                (Some(a), Some(b)) => {
                    a.len() == b.len()
                        && a.iter()
                            .zip(&b)
                            .all(|(x, y)| x == y || (x - y).abs() <= 1e-6 * x.abs().max(y.abs()))
                }
                _ => false,
            }
        })
}

fn key(name: &str, sampling_rate: u32) -> Cond {
    Cond::map([
        ("filter_name", Value::from(name)),
        ("filter_sampling_rate", Value::from(sampling_rate)),
    ])
}

/// Inserts the filters of `filters` that are not stored yet; returns how many.
fn insert_missing(db: &Db, filters: &[StandardFilter]) -> Result<usize> {
    declare(db)?;
    let mut n = 0;
    for f in filters {
        let q = db
            .table(FIR_FILTER_PARAMETERS)?
            .restrict(key(f.name, f.sampling_rate))?;
        if db.exists(&q)? {
            continue;
        }
        let design = f.design().map_err(|e| {
            Error::internal(
                format!("{FIR_FILTER_PARAMETERS} `{}`", f.name),
                e.to_string(),
            )
        })?;
        n += db.insert1(
            FIR_FILTER_PARAMETERS,
            filter_row(f.name, &design, f.comments)?,
            InsertOptions {
                skip_duplicates: true,
                ..Default::default()
            },
        )? as usize;
    }
    Ok(n)
}

/// Inserts Spyglass's standard filters, exactly as `create_standard_filters` does
/// ("LFP 0-400 Hz" at 20 and 30 kHz), skipping rows already present; returns the
/// number inserted.
pub fn insert_default(db: &Db) -> Result<usize> {
    insert_missing(db, STANDARD_FILTERS)
}

/// Inserts the theta ("Theta 5-11 Hz") and ripple ("Ripple 150-250 Hz") band
/// filters for 1 kHz LFP that Spyglass's tutorials add, skipping rows already
/// present; returns the number inserted.
pub fn insert_band_filters(db: &Db) -> Result<usize> {
    insert_missing(db, BAND_FILTERS)
}

/// The stored coefficients of filter (`name`, `sampling_rate`); an error names the
/// filter when it is missing or has no coefficients.
pub fn coefficients(db: &Db, name: &str, sampling_rate: u32) -> Result<Vec<f64>> {
    let q = db
        .table(FIR_FILTER_PARAMETERS)?
        .restrict(key(name, sampling_rate))?;
    let rows = db.fetch_with(&q, &FetchSpec::attrs(&["filter_coeff"]))?;
    let row = rows.first().ok_or_else(|| Error::MissingRow {
        table: FIR_FILTER_PARAMETERS.into(),
        key: format!("filter_name = `{name}`, filter_sampling_rate = {sampling_rate}"),
        hint: " (add it with `spyglass filter add` or `spyglass defaults`)".into(),
    })?;
    let coeff = row
        .get("filter_coeff")
        .and_then(Value::as_blob)
        .and_then(|b| b.to_row_major::<f64>())
        .unwrap_or_default();
    if coeff.is_empty() {
        return Err(Error::internal(
            FIR_FILTER_PARAMETERS,
            format!("filter `{name}` at {sampling_rate} Hz has no coefficients"),
        ));
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
                    .and_then(|b| b.as_array())
                    .and_then(|a| a.to_f64_row_major())
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
