//! Merge tables for Python, over spyglass-db's merge operations
//! ([`spyglass_db::merge`]): the registry's merge masters and their sources, each
//! source's restricted master ⋈ part, the upstream (parent) rows behind restricted
//! entries, and the merged view. The Python package's `Merge` class builds Spyglass's
//! `merge_get_part`, `merge_get_parent`, `merge_fetch`, `merge_restrict`,
//! `merge_view`, `merge_delete` and the merge `insert` on these.
//!
//! A restriction that does not apply to a source (an SQL condition or a dict naming an
//! attribute the source lacks) leaves that source out, as Spyglass's
//! `add_invalid_restrict=False`, or — for parents, when asked — keeps it unrestricted
//! (a dict then restricts by the attributes the source has, as DataJoint's).

use crate::connection::Connection;
use crate::convert::{py_to_value, value_into_py};
use crate::delete::and_of;
use crate::err;
use crate::query::Query;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use spyglass_db::merge::{MergeSource, MergeTable};
use spyglass_db::{Cond, Db, Row, Value};

/// `merge_registry()`: every merge part the pipelines declare, as `(master
/// schema.Class, part class name, source schema.Class)`.
#[pyfunction]
pub(crate) fn merge_registry() -> Vec<(String, String, String)> {
    spyglass::pipelines::all()
        .iter()
        .flat_map(|p| p.merge_parts())
        .map(|m| {
            let class = m.source.split_once('.').map_or(m.source, |(_, c)| c);
            (
                m.master.to_string(),
                class.replace('.', ""),
                m.source.to_string(),
            )
        })
        .collect()
}

/// The merge table `master` with a single source.
fn only(m: &MergeTable, s: &MergeSource) -> MergeTable {
    MergeTable {
        master: m.master.clone(),
        sources: vec![s.clone()],
    }
}

/// A source's restricted master ⋈ part, or why the restriction does not apply to it.
type SourceQuery = Result<spyglass_db::Query, String>;

/// Each source of `master` the restriction selects (a `source` key picks sources by
/// name), by part table name, with its restricted master ⋈ part. With `whole_dict` (Spyglass's
/// `add_invalid_restrict=False`), a dict restriction applies only to the sources
/// holding every attribute it names; otherwise, as DataJoint's, a source ignores the
/// attributes it lacks.
fn per_source(
    db: &Db,
    master: &str,
    cond: &Cond,
    whole_dict: bool,
) -> Result<(MergeTable, Vec<(MergeSource, SourceQuery)>), String> {
    let mut m = db.merge(master).map_err(|e| e.to_string())?;
    // in the order DataJoint's `parts()` lists them on MariaDB (by table name), which
    // orders Spyglass's view columns and its merge_fetch results
    m.sources.sort_by(|a, b| a.part.table.cmp(&b.part.table));
    let mut out = Vec::with_capacity(m.sources.len());
    for s in &m.sources {
        if source_named(cond, s) == Some(false) {
            continue;
        }
        let q = match db.merge_get_part(&only(&m, s), cond) {
            Ok(mut v) => v
                .pop()
                .map(|(_, q)| q)
                .ok_or_else(|| format!("{} is not selected", s.name)),
            Err(e) => Err(e.to_string()),
        };
        let q = match (q, whole_dict, cond) {
            (Ok(q), true, Cond::Map(pairs)) => {
                let names = q.names();
                match pairs
                    .iter()
                    .find(|(k, _)| k != "source" && !names.contains(k))
                {
                    Some((k, _)) => Err(format!("{} has no attribute `{k}`", s.name)),
                    None => Ok(q),
                }
            }
            (q, ..) => q,
        };
        out.push((s.clone(), q));
    }
    Ok((m, out))
}

/// One source as `merge_parts` returns it: (source, part, parent, query or None).
type PartOf = (String, String, String, Option<Query>);

/// `merge_parts(conn, master, restrictions)`: per source of merge table `master`
/// (`schema.Class`), `(source, part schema.Class, parent schema.Class, query)` where
/// query is master ⋈ part restricted by every restriction (None when the restriction
/// does not apply to that source; a `source` key picks sources by name).
#[pyfunction]
pub(crate) fn merge_parts(
    py: Python<'_>,
    conn: &Connection,
    master: &str,
    restrictions: Vec<Bound<'_, PyAny>>,
) -> PyResult<Vec<PartOf>> {
    let cond = and_of(&restrictions)?;
    let sg = conn.sg.clone();
    let (_, parts) = py
        .detach(|| per_source(sg.db(), master, &cond, true))
        .map_err(err)?;
    Ok(parts
        .into_iter()
        .map(|(s, q)| {
            (
                s.name.clone(),
                s.part.pretty(),
                s.parent.pretty(),
                q.ok().map(|q| Query::new(conn.sg.clone(), q, None)),
            )
        })
        .collect())
}

/// Whether a `source` named in a map restriction is `s` (None: no source named).
fn source_named(cond: &Cond, s: &MergeSource) -> Option<bool> {
    match cond {
        Cond::Map(pairs) => pairs
            .iter()
            .find(|(k, _)| k == "source")
            .and_then(|(_, v)| v.as_str())
            .map(|want| want == s.name),
        Cond::And(items) => items.iter().find_map(|c| source_named(c, s)),
        _ => None,
    }
}

/// `merge_parents(conn, master, restrictions, add_invalid_restrict)`: per source with
/// entries, `(source, parent schema.Class, query)`, the upstream rows behind the
/// restricted entries. A source the restriction does not apply to is left out, or
/// with `add_invalid_restrict` taken unrestricted (Spyglass's default for
/// `merge_get_parent`).
#[pyfunction]
#[pyo3(signature = (conn, master, restrictions, add_invalid_restrict=true))]
pub(crate) fn merge_parents(
    py: Python<'_>,
    conn: &Connection,
    master: &str,
    restrictions: Vec<Bound<'_, PyAny>>,
    add_invalid_restrict: bool,
) -> PyResult<Vec<(String, String, Query)>> {
    let cond = and_of(&restrictions)?;
    let sg = conn.sg.clone();
    let parents = py
        .detach(
            || -> Result<Vec<(MergeSource, spyglass_db::Query)>, String> {
                let db = sg.db();
                let (m, parts) = per_source(db, master, &cond, !add_invalid_restrict)?;
                let mut out = Vec::new();
                for (s, q) in parts {
                    let c = match q {
                        Ok(_) => cond.clone(),
                        Err(_) if add_invalid_restrict => Cond::Bool(true),
                        Err(_) => continue,
                    };
                    let found = db
                        .merge_get_parent(&only(&m, &s), &c)
                        .map_err(|e| e.to_string())?;
                    out.extend(found);
                }
                Ok(out)
            },
        )
        .map_err(err)?;
    Ok(parents
        .into_iter()
        .map(|(s, q)| {
            (
                s.name,
                s.parent.pretty(),
                Query::new(conn.sg.clone(), q, None),
            )
        })
        .collect())
}

/// `merge_view(conn, master, restrictions)`: the union over the sources the
/// restriction applies to and that hold restricted rows of master ⋈ part,
/// restricted, as Spyglass's `merge_restrict` makes it: its columns are those of the
/// non-empty parts, an attribute a source lacks is 0 when numeric and NULL otherwise
/// ([`Db::merge_view`]), and every attribute is in its primary key (Spyglass's
/// `dj.U(*attributes) * part`); an error when the restriction applies to none of the
/// sources it selects.
#[pyfunction]
pub(crate) fn merge_view(
    py: Python<'_>,
    conn: &Connection,
    master: &str,
    restrictions: Vec<Bound<'_, PyAny>>,
) -> PyResult<Query> {
    let cond = and_of(&restrictions)?;
    let sg = conn.sg.clone();
    let view = py
        .detach(|| -> Result<spyglass_db::Query, String> {
            let db = sg.db();
            let (m, parts) = per_source(db, master, &cond, true)?;
            if let Some((s, Err(e))) = parts
                .first()
                .filter(|_| parts.iter().all(|(_, q)| q.is_err()))
            {
                return Err(format!(
                    "{}: the restriction applies to none of its sources ({}: {e})",
                    m.master.pretty(),
                    s.name
                ));
            }
            // Spyglass's view is over the parts holding restricted rows: a source
            // without any adds no columns
            let mut sources = Vec::new();
            for (s, q) in parts {
                if let Ok(q) = q {
                    if db.exists(&q).map_err(|e| e.to_string())? {
                        sources.push(s);
                    }
                }
            }
            let valid = MergeTable {
                master: m.master.clone(),
                sources,
            };
            let view = db.merge_view(&valid, &cond).map_err(|e| e.to_string())?;
            let names = view.names();
            let all: Vec<&str> = names.iter().map(String::as_str).collect();
            view.promote(&all).map_err(|e| e.to_string())
        })
        .map_err(err)?;
    Ok(Query::new(conn.sg.clone(), view, None))
}

/// `merge_insert(conn, master, rows)`: Spyglass's merge insert — each row (a dict
/// giving an upstream key) goes in through the one source whose upstream table holds
/// it, master and part rows in one transaction; returns the merge ids.
#[pyfunction]
pub(crate) fn merge_insert(
    py: Python<'_>,
    conn: &Connection,
    master: &str,
    rows: Vec<Bound<'_, PyDict>>,
) -> PyResult<Py<PyList>> {
    let mut keys = Vec::with_capacity(rows.len());
    for d in &rows {
        let mut pairs = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            pairs.push((k.extract::<String>()?, py_to_value(&v)?));
        }
        keys.push(Row::from_pairs(pairs));
    }
    let sg = conn.sg.clone();
    let ids = py
        .detach(|| -> Result<Vec<uuid::Uuid>, String> {
            let m = sg.merge(master).map_err(|e| e.to_string())?;
            sg.merge_insert(&m, &keys).map_err(|e| e.to_string())
        })
        .map_err(err)?;
    let out = PyList::empty(py);
    for id in ids {
        out.append(value_into_py(py, Value::Uuid(id))?)?;
    }
    Ok(out.unbind())
}
