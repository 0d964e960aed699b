//! Printing rows: readable tables on a terminal, JSON (an array of objects) and CSV.

use anyhow::Result;
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use spyglass_db::fetch::display_value;
use spyglass_db::Row;

/// Output format chosen with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people.
    Table,
    /// A JSON array of objects.
    Json,
    /// Comma-separated values with a header.
    Csv,
}

/// A terminal table with the given header and cells.
pub fn table(header: &[String], cells: Vec<Vec<String>>) -> String {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t.set_header(header);
    for r in cells {
        t.add_row(r);
    }
    t.to_string()
}

/// Renders rows in a format; `key` marks primary-key columns with `*` in tables.
pub fn render_rows(
    columns: &[String],
    key: &[String],
    rows: &[Row],
    format: Format,
    total: Option<u64>,
) -> Result<String> {
    Ok(match format {
        Format::Json => {
            let arr: Vec<serde_json::Value> = rows.iter().map(Row::to_json).collect();
            serde_json::to_string_pretty(&arr)? + "\n"
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(columns)?;
            for r in rows {
                w.write_record(r.values().iter().map(csv_value))?;
            }
            String::from_utf8(w.into_inner()?)?
        }
        Format::Table => {
            let header: Vec<String> = columns
                .iter()
                .map(|c| {
                    if key.contains(c) {
                        format!("*{c}")
                    } else {
                        c.clone()
                    }
                })
                .collect();
            let cells = rows
                .iter()
                .map(|r| r.values().iter().map(display_value).collect())
                .collect();
            let mut s = table(&header, cells);
            s.push('\n');
            let n = rows.len() as u64;
            match total {
                Some(t) if t > n => s.push_str(&format!("{n} of {t} rows\n")),
                _ => s.push_str(&format!("{n} row{}\n", if n == 1 { "" } else { "s" })),
            }
            s
        }
    })
}

fn csv_value(v: &spyglass_db::Value) -> String {
    match v {
        spyglass_db::Value::Blob(b) => serde_json::to_string(b.as_ref()).unwrap_or_default(),
        other => display_value(other),
    }
}
