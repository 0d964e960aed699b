//! The YAML file `spyglass declare` reads:
//!
//! ```yaml
//! schema: university
//! tables:
//!   - name: Student
//!     tier: manual
//!     definition: |
//!       student_id : int
//!       ---
//!       name : varchar(40)
//!     parts:
//!       - name: Alias
//!         definition: "-> master\nalias : varchar(40)"
//!   - name: Grade
//!     tier: lookup
//!     definition: "grade : char(2)\n---\npoints : decimal(3,2)"
//!     contents: [["A", 4.0], {grade: "B", points: 3.0}]
//! ```

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use spyglass_db::{PartSpec, Row, TableSpec, Tier, Value};

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclareFile {
    /// Schema the tables go into.
    pub schema: String,
    /// Tables in declaration order.
    pub tables: Vec<TableEntry>,
}

/// One table of the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableEntry {
    /// CamelCase class name.
    pub name: String,
    /// manual | lookup | imported | computed.
    pub tier: String,
    /// The definition.
    pub definition: String,
    /// Rows of a lookup table: lists in attribute order, or maps.
    #[serde(default)]
    pub contents: Vec<serde_json::Value>,
    /// Part tables.
    #[serde(default)]
    pub parts: Vec<PartEntry>,
}

/// One part table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartEntry {
    /// CamelCase class name of the part.
    pub name: String,
    /// The definition.
    pub definition: String,
}

/// Parses a declare file.
pub fn parse(text: &str, path: &str) -> Result<DeclareFile> {
    serde_saphyr::from_str(text).with_context(|| format!("{path}: not a valid declare file"))
}

/// Turns an entry into a table spec; positional contents are matched to `attrs` afterwards.
pub fn to_spec(e: &TableEntry) -> Result<TableSpec> {
    let tier = Tier::parse(&e.tier).map_err(|err| anyhow::anyhow!("table {}: {err}", e.name))?;
    if tier == Tier::Part {
        bail!(
            "table {}: parts are listed under their master's `parts`",
            e.name
        );
    }
    Ok(TableSpec {
        class_name: e.name.clone(),
        tier,
        definition: e.definition.clone(),
        contents: Vec::new(),
        parts: e
            .parts
            .iter()
            .map(|p| PartSpec {
                class_name: p.name.clone(),
                definition: p.definition.clone(),
            })
            .collect(),
    })
}

/// Converts contents entries into rows given the table's attribute names.
pub fn contents_rows(e: &TableEntry, attrs: &[String]) -> Result<Vec<Row>> {
    e.contents
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            serde_json::Value::Array(vals) => {
                if vals.len() > attrs.len() {
                    bail!(
                        "table {}: contents row {i} has {} values for {} attributes",
                        e.name,
                        vals.len(),
                        attrs.len()
                    );
                }
                Ok(Row::from_pairs(
                    attrs.iter().cloned().zip(vals.iter().map(Value::from_json)),
                ))
            }
            serde_json::Value::Object(map) => Ok(Row::from_pairs(
                map.iter().map(|(k, v)| (k.clone(), Value::from_json(v))),
            )),
            other => bail!(
                "table {}: contents row {i} must be a list or a map, not {other}",
                e.name
            ),
        })
        .collect()
}
