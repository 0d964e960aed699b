//! `lfp_merge`: the LFPOutput merge table that unifies LFP versions (parts
//! `LFPV1` and `ImportedLFP`), and [`lfp_source`], which finds the row an LFP
//! merge id stands for, whatever its source.

use crate::error::{Error, Result};
use spyglass_db::merge::MergeTable;
use spyglass_db::{Cond, Db, Value};

/// Schema name.
pub const SCHEMA: &str = "lfp_merge";
/// `LFPOutput` (the merge master).
pub const LFP_OUTPUT: &str = "lfp_merge.LFPOutput";

/// Declares LFPOutput with its parts (idempotent); returns the merge table.
pub fn declare(db: &Db) -> Result<MergeTable> {
    Ok(db.declare_merge(
        SCHEMA,
        "LFPOutput",
        &[super::v1::LFPV1, super::imported::IMPORTED_LFP],
    )?)
}

/// The LFPOutput merge table.
pub fn lfp_output(db: &Db) -> Result<MergeTable> {
    Ok(db.merge(LFP_OUTPUT)?)
}

/// Where the samples of one LFP live, read from its source's row.
#[derive(Debug, Clone, PartialEq)]
pub struct LfpSource {
    /// The part's class name (`LFPV1`, `ImportedLFP`).
    pub source: String,
    /// The session.
    pub nwb_file_name: String,
    /// The file holding the series.
    pub analysis_file_name: String,
    /// Object id of the ElectricalSeries.
    pub lfp_object_id: String,
    /// Its sampling rate, Hz.
    pub lfp_sampling_rate: f64,
    /// The IntervalList of its valid times.
    pub interval_list_name: String,
}

/// The source row of LFP merge id `merge_id`.
pub fn lfp_source(db: &Db, merge_id: &Value) -> Result<LfpSource> {
    let m = lfp_output(db)?;
    let cond = Cond::Map(vec![("merge_id".into(), merge_id.clone())]);
    let parents = db.merge_get_parent(&m, &cond)?;
    let (src, q) = parents.first().ok_or_else(|| {
        Error::Invalid(format!(
            "{LFP_OUTPUT}: no LFP with merge_id {}",
            merge_id.python_str()
        ))
    })?;
    let row = db.fetch1(q)?;
    let text = |k: &str| -> Result<String> {
        row.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Error::Invalid(format!("{}: row has no `{k}`", src.parent.pretty())))
    };
    Ok(LfpSource {
        source: src.name.clone(),
        nwb_file_name: text("nwb_file_name")?,
        analysis_file_name: text("analysis_file_name")?,
        lfp_object_id: text("lfp_object_id")?,
        lfp_sampling_rate: super::key_f64(&row, LFP_OUTPUT, "lfp_sampling_rate")?,
        interval_list_name: text("interval_list_name")?,
    })
}
