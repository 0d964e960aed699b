//! The dependency diagram for `spyglass_rs.Diagram`: the engine's renderer
//! ([`spyglass_db::diagram`], the one `spyglass diagram` and spyglass-view draw
//! with) over a schema or a set of tables, and the graph steps DataJoint's
//! `Diagram(t) + n` / `- n` take.

use crate::connection::Connection;
use crate::err;
use pyo3::prelude::*;
use spyglass_db::diagram::{render, render_tables, DiagramFormat};
use spyglass_db::naming::FullName;

fn format_of(name: &str) -> PyResult<DiagramFormat> {
    DiagramFormat::from_extension(name)
        .ok_or_else(|| err(format!("diagram format `{name}`: svg, dot or mermaid")))
}

/// The stored names of `tables` (`schema.Class` or `schema.table_name`).
fn names(sg: &spyglass::Spyglass, tables: &[String]) -> Result<Vec<FullName>, String> {
    tables
        .iter()
        .map(|t| {
            sg.table_info(t)
                .map(|i| i.name.clone())
                .map_err(|e| format!("diagram: {e}"))
        })
        .collect()
}

/// The schema `schema` as stored: itself, else with the connection's prefix.
fn schema_of(sg: &spyglass::Spyglass, schema: &str) -> Result<String, String> {
    let have = sg.schemas();
    let prefixed = format!("{}{schema}", sg.prefix());
    if have.iter().any(|s| s == schema) {
        Ok(schema.to_string())
    } else if have.contains(&prefixed) {
        Ok(prefixed)
    } else {
        Err(format!("diagram: unknown schema `{schema}`"))
    }
}

/// `diagram(connection, schemas, tables, format)`: the diagram of every table of
/// `schemas` plus `tables` (the whole database when both are empty) as SVG, DOT
/// or Mermaid text.
#[pyfunction]
pub(crate) fn diagram(
    py: Python<'_>,
    conn: &Connection,
    schemas: Vec<String>,
    tables: Vec<String>,
    format: &str,
) -> PyResult<String> {
    let format = format_of(format)?;
    let sg = conn.sg.clone();
    py.detach(move || -> Result<String, String> {
        let graph = sg.graph().map_err(|e| e.to_string())?;
        if tables.is_empty() && schemas.len() <= 1 {
            let schema = schemas.first().map(|s| schema_of(&sg, s)).transpose()?;
            return render(&sg.catalog(), &graph, schema.as_deref(), format)
                .map_err(|e| e.to_string());
        }
        let mut keep = names(&sg, &tables)?;
        for s in &schemas {
            let s = schema_of(&sg, s)?;
            keep.extend(graph.topo_order().iter().filter(|n| n.schema == s).cloned());
        }
        Ok(render_tables(&graph, &keep, format))
    })
    .map_err(err)
}

/// `diagram_expand(connection, schemas, tables, steps)`: the tables of `schemas`,
/// `tables`, and the tables `steps` foreign keys away — downstream (children) for
/// positive steps, upstream (parents) for negative — as `schema.Class` names.
#[pyfunction]
pub(crate) fn diagram_expand(
    py: Python<'_>,
    conn: &Connection,
    schemas: Vec<String>,
    tables: Vec<String>,
    steps: i64,
) -> PyResult<Vec<String>> {
    let sg = conn.sg.clone();
    py.detach(move || -> Result<Vec<String>, String> {
        let graph = sg.graph().map_err(|e| e.to_string())?;
        let mut keep: std::collections::BTreeSet<FullName> =
            names(&sg, &tables)?.into_iter().collect();
        for s in &schemas {
            let s = schema_of(&sg, s)?;
            keep.extend(graph.topo_order().iter().filter(|n| n.schema == s).cloned());
        }
        let mut frontier: Vec<FullName> = keep.iter().cloned().collect();
        for _ in 0..steps.unsigned_abs() {
            let mut next = vec![];
            for n in &frontier {
                let step = if steps > 0 {
                    graph.children(n)
                } else {
                    graph.parents(n)
                };
                for (m, _) in step {
                    if keep.insert(m.clone()) {
                        next.push(m);
                    }
                }
            }
            frontier = next;
        }
        Ok(graph.sort(keep).iter().map(FullName::pretty).collect())
    })
    .map_err(err)
}
