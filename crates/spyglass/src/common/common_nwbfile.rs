//! `common_nwbfile`: the registry of NWB files. `Nwbfile` holds the `_` copy of
//! every ingested raw file (store `raw`), `AnalysisNwbfile` every analysis file
//! derived from one (store `analysis`); both keep size and checksum in the
//! schema's `~external_<store>` table. `AnalysisRegistry` (Spyglass 0.6) lists the
//! tables analysis files are registered in; registering a file adds its table.

use spyglass_db::{TableSpec, Tier};

/// Schema name.
pub const SCHEMA: &str = "common_nwbfile";
/// `Nwbfile` (Manual).
pub const NWBFILE: &str = "common_nwbfile.Nwbfile";
/// `AnalysisNwbfile` (Manual).
pub const ANALYSIS_NWBFILE: &str = "common_nwbfile.AnalysisNwbfile";
/// `AnalysisRegistry` (Manual): one row per table holding analysis files.
pub const ANALYSIS_REGISTRY: &str = "common_nwbfile.AnalysisRegistry";

/// The tables of this schema, parents first.
pub fn specs() -> Vec<TableSpec> {
    vec![
        TableSpec::new(
            "Nwbfile",
            Tier::Manual,
            "# NWB files (the `_` copies of raw files) known to the database
nwb_file_name : varchar(64)  # file name of the copy, e.g. rat1_.nwb
---
nwb_file_abs_path : filepath@raw
INDEX (nwb_file_abs_path)",
        ),
        TableSpec::new(
            "AnalysisNwbfile",
            Tier::Manual,
            "# NWB files holding analysis results, each derived from one Nwbfile
analysis_file_name : varchar(64)  # file name, <parent stem><10 random characters>.nwb
---
-> Nwbfile
analysis_file_abs_path : filepath@analysis
analysis_file_description = \"\" : varchar(2000)  # what the file holds
analysis_parameters = NULL : blob  # further parameters
INDEX (analysis_file_abs_path)",
        ),
        // Spyglass 0.6.0's definition, word for word
        TableSpec::new(
            "AnalysisRegistry",
            Tier::Manual,
            "full_table_name: varchar(128)  # full table name of the analysis
---
created_at = CURRENT_TIMESTAMP: timestamp  # when registered
created_by : varchar(32)                   # who registered",
        ),
    ]
}
