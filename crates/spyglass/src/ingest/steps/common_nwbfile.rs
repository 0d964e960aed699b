//! Ingest step of `common_nwbfile`: the session's `Nwbfile` row, registered before
//! the groups run.

use super::Ctx;
use crate::common::common_nwbfile as nwbfile;
use crate::error::Result;
use spyglass_db::{InsertOptions, Row, Value};

/// The `Nwbfile` row of a session: its name and the copy's absolute path (store `raw`).
pub(crate) fn nwbfile_row(nwb_file_name: &str, copy_path: &std::path::Path) -> Row {
    Row::from_pairs([
        ("nwb_file_name", Value::from(nwb_file_name)),
        (
            "nwb_file_abs_path",
            Value::from(copy_path.display().to_string()),
        ),
    ])
}

/// Inserts the Nwbfile row (counted in `cx`).
pub(crate) fn insert_nwbfile(cx: &mut Ctx, copy_path: &std::path::Path) -> Result<()> {
    let n = cx.db.insert1(
        nwbfile::NWBFILE,
        nwbfile_row(&cx.nwb_file_name, copy_path),
        InsertOptions::default(),
    )?;
    cx.count(nwbfile::NWBFILE, n);
    Ok(())
}
