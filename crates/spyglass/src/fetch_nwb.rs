//! `fetch_nwb`, one facility for every table: for each fetched row, open the file
//! the row lives in — the analysis file when the row has an `analysis_file_name`,
//! else the session's `_` copy (`nwb_file_name`), both found through their
//! registry rows so that size and checksum are verified — and resolve every
//! `*_object_id` attribute to the NWB object it names. Open files are shared
//! between the rows of one call.

use crate::analysis::{analysis_file_path, nwb_file_path};
use crate::error::{Error, Result};
use spyglass_db::{Db, Query, Row, Value};
use spyglass_nwb::{NwbFile, ObjectInfo};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// One NWB object a row points to.
#[derive(Clone)]
pub struct NwbObject {
    /// The attribute name without `_object_id` (`raw` for `raw_object_id`).
    pub name: String,
    /// The object id.
    pub object_id: String,
    /// Generic description of the object (HDF5 path, type, attributes).
    pub info: ObjectInfo,
    /// The open file holding it (read data with `file.time_series(&info.path)`, ...).
    pub file: Arc<NwbFile>,
}

impl std::fmt::Debug for NwbObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NwbObject")
            .field("name", &self.name)
            .field("object_id", &self.object_id)
            .field("path", &self.info.path)
            .field("neurodata_type", &self.info.neurodata_type)
            .finish()
    }
}

/// A fetched row with the objects it points to.
#[derive(Debug, Clone)]
pub struct NwbRow {
    /// The row as fetched.
    pub row: Row,
    /// The file the objects were found in.
    pub file_path: PathBuf,
    /// Its objects, in attribute order.
    pub objects: Vec<NwbObject>,
}

impl NwbRow {
    /// The object of attribute `name` (with or without the `_object_id` suffix).
    pub fn object(&self, name: &str) -> Option<&NwbObject> {
        let n = name.strip_suffix("_object_id").unwrap_or(name);
        self.objects.iter().find(|o| o.name == n)
    }
}

fn object_name(attr: &str) -> String {
    attr.strip_suffix("_object_id")
        .map(str::to_string)
        .unwrap_or_else(|| attr.replace("object_id", "").trim_matches('_').to_string())
}

/// Fetches the rows of `q` and the NWB objects their `*_object_id` attributes name.
pub fn fetch_nwb(db: &Db, q: &Query) -> Result<Vec<NwbRow>> {
    let rows = db.fetch(q)?;
    let mut files: HashMap<PathBuf, Arc<NwbFile>> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let analysis = row.get("analysis_file_name").and_then(Value::as_str);
        let session = row.get("nwb_file_name").and_then(Value::as_str);
        let path = match (analysis, session) {
            (Some(a), _) => analysis_file_path(db, a)?,
            (None, Some(s)) => nwb_file_path(db, s)?,
            (None, None) => {
                return Err(Error::bad(
                    "fetch_nwb",
                    format!(
                        "rows of {} have neither analysis_file_name nor nwb_file_name",
                        q.label()
                    ),
                ))
            }
        };
        let file = match files.get(&path) {
            Some(f) => f.clone(),
            None => {
                let f = Arc::new(NwbFile::open(&path)?);
                files.insert(path.clone(), f.clone());
                f
            }
        };
        let mut objects = vec![];
        for (attr, v) in row.iter() {
            if !attr.contains("object_id") {
                continue;
            }
            let Some(id) = v.as_str().filter(|s| !s.is_empty()) else {
                continue;
            };
            let info = file.object_by_id(id).map_err(|e| Error::BadFile {
                path: path.clone(),
                message: format!(
                    "`{attr}` = {id} (from fetch_nwb) is not an object of the file: {e}"
                ),
            })?;
            objects.push(NwbObject {
                name: object_name(attr),
                object_id: id.to_string(),
                info,
                file: file.clone(),
            });
        }
        out.push(NwbRow {
            row,
            file_path: path,
            objects,
        });
    }
    let mut analysis = Vec::new();
    let mut sessions = Vec::new();
    for r in &out {
        match (
            r.row.get("analysis_file_name").and_then(Value::as_str),
            r.row.get("nwb_file_name").and_then(Value::as_str),
        ) {
            (Some(a), _) if !analysis.iter().any(|x| x == a) => analysis.push(a.to_string()),
            (None, Some(s)) if !sessions.iter().any(|x| x == s) => sessions.push(s.to_string()),
            _ => {}
        }
    }
    crate::export::log_nwb_files(db, &analysis, &sessions)?;
    Ok(out)
}
