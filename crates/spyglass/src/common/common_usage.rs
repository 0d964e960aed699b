//! `common_usage`: bookkeeping. `InsertError` records every ingestion that failed,
//! naming the file, the table at fault and the error.

use spyglass_db::{TableSpec, Tier};

/// Schema name.
pub const SCHEMA: &str = "common_usage";
/// `InsertError` (Manual).
pub const INSERT_ERROR: &str = "common_usage.InsertError";

/// The tables of this schema.
pub fn specs() -> Vec<TableSpec> {
    vec![TableSpec::new(
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
    )]
}
