//! The two YAML files ingestion reads, in Spyglass's format (top-level keys are
//! table class names, `Master.Part` for parts; values are lists of rows):
//!
//! - `entries.yaml` in the base directory: rows to pre-populate lookup and manual
//!   tables (controlled vocabularies, probe types, lab members, ...). Only Manual,
//!   Lookup and Part tables; rows whose key exists are skipped; `BrainRegion` rows
//!   go through `fetch_add` and need no key. Order matters for foreign keys.
//! - `<stem>_spyglass_config.yaml` next to a raw file: overrides and supplements
//!   for that file. Single-valued session links (`Institution`, `Lab`, `Subject`)
//!   replace the file's value; entity tables (`DataAcquisitionDevice`,
//!   `CameraDevice`, `ProbeType`, `Probe`, `Probe.Shank`, `Probe.Electrode`,
//!   `ElectrodeGroup`, `Task`) override the file's row with the same key
//!   (config values win) and add rows with new keys; a `DataAcquisitionDevice`
//!   entry giving only a name links an existing device to the session;
//!   `Electrode` rows, matched by `electrode_id`, override the electrode→probe map
//!   (`probe_id`, `probe_shank`, `probe_electrode`, `bad_channel`, ...); `Tasks`
//!   rows (`task_name`, `task_description`, `task_environment`, `camera_id`,
//!   `task_epochs`) add task epochs, as Spyglass's TaskEpoch reads them.
//!
//! `Session` rows override the session's own attributes (description, experiment
//! description, session id); a `Raw` row's `raw_object_id` chooses the raw series
//! (by object id, name or path) and its `description`/`comments` override the
//! file's. A table ingestion cannot apply, unknown tables and unknown attributes
//! are errors naming the file, the table and the attribute, never silently ignored.

use crate::common::common_region;
use crate::common::resolve_class;
use crate::error::{Error, Result};
use indexmap::IndexMap;
use spyglass_db::{Cond, Db, InsertOptions, Row, Tier, Value};
use std::path::{Path, PathBuf};

/// One YAML row: attribute → value.
pub type YamlRow = IndexMap<String, serde_json::Value>;

/// A parsed table-rows YAML file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct YamlTables {
    /// The file (empty when built in memory).
    pub path: PathBuf,
    /// Class name → rows, in file order.
    pub tables: IndexMap<String, Vec<YamlRow>>,
}

/// Config keys that are not table names.
const EXTRA_KEYS: [&str; 1] = ["Tasks"];

/// The tables a `<stem>_spyglass_config.yaml` may name: those ingestion applies.
pub const CONFIG_TABLES: [&str; 16] = [
    "Institution",
    "Lab",
    "LabMember",
    "Subject",
    "CameraDevice",
    "ProbeType",
    "Probe",
    "Probe.Shank",
    "Probe.Electrode",
    "DataAcquisitionDevice",
    "Session",
    "ElectrodeGroup",
    "Electrode",
    "Raw",
    "Task",
    "Tasks",
];

impl YamlTables {
    /// Parses `text` (named `path` in errors).
    pub fn parse(path: &Path, text: &str) -> Result<YamlTables> {
        let cfg_err = |m: String| Error::Config {
            path: path.to_path_buf(),
            message: m,
        };
        if text.trim().is_empty() {
            return Ok(YamlTables {
                path: path.to_path_buf(),
                tables: IndexMap::new(),
            });
        }
        let doc: serde_json::Value =
            serde_saphyr::from_str(text).map_err(|e| cfg_err(format!("not valid YAML: {e}")))?;
        let serde_json::Value::Object(top) = doc else {
            if doc.is_null() {
                return Ok(YamlTables {
                    path: path.to_path_buf(),
                    tables: IndexMap::new(),
                });
            }
            return Err(cfg_err(
                "the top level must map table names to lists of rows".into(),
            ));
        };
        let mut tables = IndexMap::new();
        for (table, rows) in top {
            let rows = match rows {
                serde_json::Value::Null => vec![],
                serde_json::Value::Array(a) => a,
                other => {
                    return Err(cfg_err(format!(
                        "`{table}` must be a list of rows, not {other}"
                    )))
                }
            };
            let mut out = Vec::with_capacity(rows.len());
            for (i, r) in rows.into_iter().enumerate() {
                let serde_json::Value::Object(m) = r else {
                    return Err(cfg_err(format!(
                        "`{table}` row {i} must be a map of attribute: value"
                    )));
                };
                out.push(m.into_iter().collect());
            }
            tables.insert(table, out);
        }
        Ok(YamlTables {
            path: path.to_path_buf(),
            tables,
        })
    }

    /// Reads and parses a file; a missing file is an empty set of tables.
    pub fn load(path: &Path) -> Result<YamlTables> {
        match std::fs::read_to_string(path) {
            Ok(text) => YamlTables::parse(path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(YamlTables {
                path: path.to_path_buf(),
                tables: IndexMap::new(),
            }),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Rows of a table (empty when absent).
    pub fn rows(&self, class_name: &str) -> &[YamlRow] {
        self.tables.get(class_name).map_or(&[], Vec::as_slice)
    }

    /// True when no table is given.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// An error about this file.
    pub fn error(&self, message: impl Into<String>) -> Error {
        Error::Config {
            path: self.path.clone(),
            message: message.into(),
        }
    }

    /// Checks that every key is a common table (or an extra key) and every attribute exists.
    pub fn validate(&self, db: &Db, extra_keys: &[&str]) -> Result<()> {
        for (class, rows) in &self.tables {
            if extra_keys.contains(&class.as_str()) {
                continue;
            }
            let full = resolve_class(class)
                .ok_or_else(|| self.error(format!("`{class}` is not a Spyglass common table")))?;
            let info = db.table_info(&full)?;
            for (i, r) in rows.iter().enumerate() {
                for k in r.keys() {
                    if info.heading.get(k).is_none() {
                        return Err(self.error(format!(
                            "`{class}` row {i}: `{k}` is not an attribute of {full}"
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

/// A YAML value as an engine value (lists and maps become JSON).
pub fn to_value(v: &serde_json::Value) -> Value {
    Value::from_json(v)
}

/// A YAML row as an engine row.
pub fn to_row(r: &YamlRow) -> Row {
    Row::from_pairs(r.iter().map(|(k, v)| (k.clone(), to_value(v))))
}

/// The per-file configuration `<stem>_spyglass_config.yaml`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileConfig(pub YamlTables);

impl FileConfig {
    /// The config file of a raw file: `<stem>_spyglass_config.yaml` in the same directory.
    pub fn path_for(nwb_path: &Path) -> PathBuf {
        let stem = nwb_path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = nwb_path.parent().unwrap_or(Path::new("."));
        dir.join(format!("{stem}_spyglass_config.yaml"))
    }

    /// Loads and validates the config of `raw_path` (empty when there is none).
    pub fn load_for(db: &Db, raw_path: &Path) -> Result<FileConfig> {
        let t = YamlTables::load(&FileConfig::path_for(raw_path))?;
        t.validate(db, &EXTRA_KEYS)?;
        for class in t.tables.keys() {
            if !CONFIG_TABLES.contains(&class.as_str()) {
                return Err(t.error(format!(
                    "`{class}` cannot be set by a session's config: ingestion applies only {}",
                    CONFIG_TABLES.join(", ")
                )));
            }
        }
        for single in ["Session", "Raw", "Subject", "Institution", "Lab"] {
            if t.rows(single).len() > 1 {
                return Err(t.error(format!(
                    "`{single}` has {} rows; a session has one",
                    t.rows(single).len()
                )));
            }
        }
        for (i, r) in t.rows("Session").iter().enumerate() {
            for k in r.keys() {
                if !SESSION_CONFIG.contains(&k.as_str()) {
                    return Err(t.error(format!(
                        "`Session` row {i}: `{k}` cannot be set by the config (only {})",
                        SESSION_CONFIG.join(", ")
                    )));
                }
            }
        }
        for (i, r) in t.rows("Raw").iter().enumerate() {
            for k in r.keys() {
                if !["raw_object_id", "description", "comments"].contains(&k.as_str()) {
                    return Err(t.error(format!(
                        "`Raw` row {i}: `{k}` cannot be set by the config (only raw_object_id, description, comments)"
                    )));
                }
            }
        }
        for (i, r) in t.rows("Tasks").iter().enumerate() {
            for k in r.keys() {
                if ![
                    "task_name",
                    "task_description",
                    "task_environment",
                    "camera_id",
                    "task_epochs",
                ]
                .contains(&k.as_str())
                {
                    return Err(t.error(format!("`Tasks` row {i}: unknown field `{k}`")));
                }
            }
            if !r.contains_key("task_name") {
                return Err(t.error(format!("`Tasks` row {i}: `task_name` is required")));
            }
        }
        Ok(FileConfig(t))
    }

    /// Rows of a table.
    pub fn rows(&self, class_name: &str) -> &[YamlRow] {
        self.0.rows(class_name)
    }

    /// The raw series the config chooses (`Raw: [{raw_object_id: ID, NAME or PATH}]`).
    pub fn raw_choice(&self) -> Option<String> {
        self.rows("Raw")
            .first()
            .and_then(|r| r.get("raw_object_id"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }
}

/// Session attributes a config may set.
pub const SESSION_CONFIG: [&str; 3] = [
    "session_description",
    "experiment_description",
    "session_id",
];

/// What `prepopulate` did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PrepopulateReport {
    /// Rows inserted per table.
    pub inserted: Vec<(String, u64)>,
    /// Rows skipped because their key existed.
    pub skipped: u64,
}

/// Inserts the rows of `entries` (an `entries.yaml`), skipping existing keys.
pub fn prepopulate(db: &Db, entries: &YamlTables) -> Result<PrepopulateReport> {
    entries.validate(db, &[])?;
    let mut report = PrepopulateReport::default();
    crate::transaction(db, || {
        for (class, rows) in &entries.tables {
            let full = resolve_class(class).unwrap_or_default();
            let info = db.table_info(&full)?;
            if matches!(info.tier, Tier::Imported | Tier::Computed) {
                return Err(entries.error(format!(
                    "`{class}` is {}: only Manual, Lookup and Part tables can be pre-populated",
                    info.tier
                )));
            }
            let mut n = 0;
            for (i, r) in rows.iter().enumerate() {
                if full == common_region::BRAIN_REGION {
                    let text = |k: &str| r.get(k).and_then(|v| v.as_str()).map(str::to_string);
                    let name = text("region_name").ok_or_else(|| {
                        entries.error(format!("`{class}` row {i}: `region_name` is required"))
                    })?;
                    let before = db.count(&db.table(&full)?)?;
                    common_region::fetch_add(
                        db,
                        &name,
                        text("subregion_name").as_deref(),
                        text("subsubregion_name").as_deref(),
                    )?;
                    n += db.count(&db.table(&full)?)? - before;
                    continue;
                }
                let pk = info.primary_key();
                let missing: Vec<&String> = pk.iter().filter(|k| !r.contains_key(*k)).collect();
                if !missing.is_empty() {
                    return Err(entries.error(format!(
                        "`{class}` row {i}: the key attribute(s) {missing:?} are missing"
                    )));
                }
                let key = Cond::Map(
                    pk.iter()
                        .map(|k| (k.clone(), to_value(&r[k.as_str()])))
                        .collect(),
                );
                if db.exists(&db.table(&full)?.restrict(key)?)? {
                    report.skipped += 1;
                    continue;
                }
                db.insert1(&full, to_row(r), InsertOptions::default())
                    .map_err(|e| entries.error(format!("`{class}` row {i}: {e}")))?;
                n += 1;
            }
            report.inserted.push((full, n));
        }
        Ok(())
    })?;
    Ok(report)
}
