//! `lfp_merge`: the LFPOutput merge table that unifies LFP versions (parts
//! `LFPV1` and `ImportedLFP`), and [`lfp_source`], which finds the row an LFP
//! merge id stands for, whatever its source.

use crate::error::{Error, Result};
use crate::kit::{identity, Pipeline};
use spyglass_db::merge::MergeTable;
use spyglass_db::{Cond, Db, TableSpec, Value};

/// Schema name.
pub const SCHEMA: &str = "lfp_merge";
/// `LFPOutput` (the merge master).
pub const LFP_OUTPUT: &str = "lfp_merge.LFPOutput";

/// The `lfp_merge` pipeline: the LFPOutput master; its parts come from the
/// pipelines that name it in their [`Pipeline::merge_parts`].
pub struct LfpMerge;

impl Pipeline for LfpMerge {
    identity!(SCHEMA);
    fn tables(&self) -> Vec<TableSpec> {
        vec![spyglass_db::merge::merge_spec("LFPOutput", &[])]
    }
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
    /// The analysis file holding the series; empty for ImportedLFP, whose series
    /// lives in the session's NWB file.
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
        Error::missing(LFP_OUTPUT, format!("merge_id = {}", merge_id.python_str()))
    })?;
    let row = db.fetch1(q)?;
    let text = |k: &str| -> Result<String> {
        row.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Error::internal(src.parent.pretty(), format!("row has no `{k}`")))
    };
    Ok(LfpSource {
        source: src.name.clone(),
        nwb_file_name: text("nwb_file_name")?,
        analysis_file_name: row
            .get("analysis_file_name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        lfp_object_id: text("lfp_object_id")?,
        lfp_sampling_rate: super::key_f64(&row, LFP_OUTPUT, "lfp_sampling_rate")?,
        interval_list_name: text("interval_list_name")?,
    })
}

/// The file holding an LFP's series: its analysis file, or the session's NWB file.
pub fn lfp_file_path(db: &Db, src: &LfpSource) -> Result<std::path::PathBuf> {
    if src.analysis_file_name.is_empty() {
        crate::analysis::nwb_file_path(db, &src.nwb_file_name)
    } else {
        crate::analysis::analysis_file_path(db, &src.analysis_file_name)
    }
}

impl LfpSource {
    /// The LFP as the input series of a filtering run.
    pub(crate) fn filter_source(&self, db: &Db) -> Result<super::FilterSource> {
        Ok(super::FilterSource {
            path: lfp_file_path(db, self)?,
            object_id: self.lfp_object_id.clone(),
            rate: self.lfp_sampling_rate,
        })
    }
}

/// The LFP (LFPOutput entry) `merge_id` of session `nwb_file_name`: its source,
/// or an error when it is of another session.
pub fn lfp_of_session(db: &Db, merge_id: uuid::Uuid, nwb_file_name: &str) -> Result<LfpSource> {
    let src = lfp_source(db, &Value::Uuid(merge_id))?;
    if src.nwb_file_name != nwb_file_name {
        let message = format!("belongs to {}, not {nwb_file_name}", src.nwb_file_name);
        return Err(Error::bad(format!("LFP {merge_id}"), message));
    }
    Ok(src)
}

/// Which LFP of a session's LFP electrode group a command uses (flattened into its
/// arguments: `--lfp-group`, and `--lfp-interval` / `--lfp-filter` when it has several).
#[derive(clap::Args)]
pub struct LfpChoice {
    /// The LFP electrode group whose LFP is used.
    #[arg(long = "lfp-group")]
    pub lfp_group: String,
    /// Which LFP of the group, by its target interval (when it has several).
    #[arg(long = "lfp-interval")]
    pub lfp_interval: Option<String>,
    /// Which LFP of the group, by its filter (when it has several).
    #[arg(long = "lfp-filter")]
    pub lfp_filter: Option<String>,
}

impl LfpChoice {
    /// The chosen LFP of session `nwb_file_name`: its merge id and source.
    pub fn choose(&self, db: &Db, nwb_file_name: &str) -> Result<(uuid::Uuid, LfpSource)> {
        let (target, filter) = (self.lfp_interval.as_deref(), self.lfp_filter.as_deref());
        one_lfp_of_group(db, nwb_file_name, &self.lfp_group, target, filter)
    }
}

/// The one LFP of a session's LFP electrode group that `target` and `filter` choose
/// (see [`lfps_of_group`]); an error naming the choices when none or several match.
pub fn one_lfp_of_group(
    db: &Db,
    nwb_file_name: &str,
    group: &str,
    target: Option<&str>,
    filter: Option<&str>,
) -> Result<(uuid::Uuid, LfpSource)> {
    let mut lfps = lfps_of_group(db, nwb_file_name, group, target, filter)?;
    let what = format!("LFP electrode group `{group}` of {nwb_file_name}");
    match lfps.len() {
        1 => Ok(lfps.remove(0)),
        0 => Err(Error::MissingRow {
            table: LFP_OUTPUT.to_string(),
            key: what,
            hint: " (an LFP of it: run `spyglass lfp select` and `spyglass populate lfp_v1.LFPV1`; the group has no LFP yet)".into(),
        }),
        n => Err(Error::bad(what, format!("has {n} LFPs; choose one with --lfp-interval or --lfp-filter"))),
    }
}

/// The LFPs (LFPOutput entries) of a session's LFP electrode group, optionally only
/// those over `target` (the LFP's target interval) or made with `filter`: each
/// merge id with its source.
pub fn lfps_of_group(
    db: &Db,
    nwb_file_name: &str,
    group: &str,
    target: Option<&str>,
    filter: Option<&str>,
) -> Result<Vec<(uuid::Uuid, LfpSource)>> {
    use spyglass_db::FetchSpec;
    let mut out = vec![];
    let mut cond = vec![
        ("nwb_file_name".to_string(), Value::from(nwb_file_name)),
        ("lfp_electrode_group_name".to_string(), Value::from(group)),
    ];
    if let Some(t) = target {
        cond.push(("target_interval_list_name".into(), Value::from(t)));
    }
    if let Some(f) = filter {
        cond.push(("filter_name".into(), Value::from(f)));
    }
    let v1 = db.table(super::v1::LFPV1)?.restrict(Cond::Map(cond))?;
    let pk = db.table_info(super::v1::LFPV1)?.primary_key();
    for r in db.fetch_with(&v1, &FetchSpec::attrs(&pk))? {
        let id = spyglass_db::merge::merge_id(&r, "LFPV1");
        out.push((id, lfp_source(db, &Value::Uuid(id))?));
    }
    if filter.is_none() {
        let mut cond = vec![
            ("nwb_file_name".to_string(), Value::from(nwb_file_name)),
            ("lfp_electrode_group_name".to_string(), Value::from(group)),
        ];
        if let Some(t) = target {
            cond.push(("interval_list_name".into(), Value::from(t)));
        }
        let imp = db
            .table(super::imported::IMPORTED_LFP)?
            .restrict(Cond::Map(cond))?;
        let pk = db.table_info(super::imported::IMPORTED_LFP)?.primary_key();
        for r in db.fetch_with(&imp, &FetchSpec::attrs(&pk))? {
            let id = spyglass_db::merge::merge_id(&r, "ImportedLFP");
            out.push((id, lfp_source(db, &Value::Uuid(id))?));
        }
    }
    Ok(out)
}
