//! `common_usage`: bookkeeping. `InsertError` records every ingestion that failed,
//! naming the file, the table at fault and the error; `CautiousDelete` records every
//! delete that went through [`crate::cautious_delete`] (user, duration, origin table,
//! restriction, and the rows removed per table in `merge_deletes`).

use spyglass_db::{TableSpec, Tier};

/// Schema name.
pub const SCHEMA: &str = "common_usage";
/// `CautiousDelete` (Manual).
pub const CAUTIOUS_DELETE: &str = "common_usage.CautiousDelete";
/// `InsertError` (Manual).
pub const INSERT_ERROR: &str = "common_usage.InsertError";

/// Spyglass's exact definition of `CautiousDelete` (so that a lab's table declares unchanged).
pub const CAUTIOUS_DELETE_DEFINITION: &str = "id: int auto_increment
---
dj_user: varchar(64)
duration: float
origin: varchar(64)
restriction: varchar(255)
merge_deletes = null: blob";

/// The tables of this schema.
pub fn specs() -> Vec<TableSpec> {
    vec![
        TableSpec::new("CautiousDelete", Tier::Manual, CAUTIOUS_DELETE_DEFINITION),
        TableSpec::new(
            "InsertError",
            Tier::Manual,
            "id : int auto_increment
---
dj_user : varchar(64)
connection_id : int  # connection (MySQL CONNECTION_ID(), or the process id)
nwb_file_name : varchar(64)
table : varchar(64)
error_type : varchar(64)
error_message : varchar(255)
error_raw = null : blob",
        ),
    ]
}
