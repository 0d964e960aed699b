//! `spyglass fetch-nwb TABLE`: Spyglass's `fetch_nwb` from the command line. The
//! rows of a (restricted) table are resolved to the NWB objects their
//! `*_object_id` attributes name — in the analysis file or the session's `_` copy,
//! found through their registry rows (size and checksum verified); a merge table
//! goes through its parts to the upstream rows, as Spyglass's merge `fetch_nwb`
//! does. Printed as a table, JSON (with HDF5 paths) or CSV; `-o DIR` also copies
//! each object's data out: series as `.npy` (stored dtype) with their timestamps
//! and a `.json` of units and scaling, tables as `.csv`. An active export logs the
//! files, as Spyglass's `fetch_nwb` does (`ExportSelection.File`).

use crate::args::RestrictArgs;
use crate::output::{self, Format};
use anyhow::{bail, Context, Result};
use spyglass::fetch_nwb::{fetch_nwb, NwbObject, NwbRow};
use spyglass_db::{Cond, Db, Query, Row, Value};
use spyglass_nwb::{Data, NwbFile, Values};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Runs `spyglass fetch-nwb`.
pub fn run(
    db: &Db,
    table: &str,
    restrict: &RestrictArgs,
    format: Format,
    out_dir: Option<&Path>,
) -> Result<()> {
    let results = resolve(db, table, restrict)?;
    let total: usize = results.iter().map(|(_, rows)| rows.len()).sum();
    if let Some(dir) = out_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut written = 0;
        for (source, rows) in &results {
            for r in rows {
                for o in &r.objects {
                    written += export_object(dir, source, r, o)?;
                }
            }
        }
        eprintln!("wrote {written} files to {}", dir.display());
    }
    match format {
        Format::Json => {
            let items: Vec<serde_json::Value> = results
                .iter()
                .flat_map(|(source, rows)| rows.iter().map(move |r| row_json(source, r)))
                .collect();
            println!("{}", serde_json::to_string_pretty(&items)?);
        }
        _ => {
            let cols: Vec<String> = [
                "table",
                "key",
                "object",
                "neurodata_type",
                "object_path",
                "file",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            let mut rows = Vec::new();
            for (source, nrows) in &results {
                for r in nrows {
                    for o in &r.objects {
                        rows.push(Row::from_pairs([
                            ("table", Value::from(source.as_str())),
                            ("key", Value::from(key_text(&r.row))),
                            ("object", Value::from(o.name.as_str())),
                            (
                                "neurodata_type",
                                Value::from(o.info.neurodata_type.as_str()),
                            ),
                            ("object_path", Value::from(o.info.path.as_str())),
                            ("file", Value::from(r.file_path.display().to_string())),
                        ]));
                    }
                }
            }
            print!("{}", output::render_rows(&cols, &[], &rows, format, None)?);
            if format == Format::Table {
                println!("{total} rows");
            }
        }
    }
    Ok(())
}

/// The rows and objects of the query, per source table (a merge table's parts'
/// upstream tables, or the table itself).
fn resolve(db: &Db, table: &str, restrict: &RestrictArgs) -> Result<Vec<(String, Vec<NwbRow>)>> {
    let info = db.table_info(table)?;
    if let Ok(m) = db.merge(table) {
        // restrictions may name attributes of any part, as Spyglass's merge_get_part
        let view = db.merge_view(&m, &Cond::Bool(true))?;
        let cond = crate::restriction(&view, table, restrict)?;
        let mut out = Vec::new();
        for (source, q) in db.merge_get_parent(&m, &cond)? {
            let rows = fetch_nwb(db, &q)
                .with_context(|| format!("fetch_nwb of {}", source.parent.pretty()))?;
            out.push((source.parent.pretty(), rows));
        }
        return Ok(out);
    }
    let base = Query::table(&info);
    let q = base.restrict(crate::restriction(&base, table, restrict)?)?;
    let has_objects = info
        .heading
        .attributes
        .iter()
        .any(|a| a.name.contains("object_id"));
    if !has_objects {
        bail!(
            "{} has no *_object_id attribute: its rows name no NWB object",
            info.name.pretty()
        );
    }
    Ok(vec![(info.name.pretty(), fetch_nwb(db, &q)?)])
}

fn key_text(row: &Row) -> String {
    row.iter()
        .filter(|(k, _)| !k.contains("object_id"))
        .map(|(k, v)| format!("{k}={}", v.python_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn row_json(source: &str, r: &NwbRow) -> serde_json::Value {
    let mut row = serde_json::Map::new();
    for (k, v) in r.row.iter() {
        row.insert(k.to_string(), v.to_json());
    }
    serde_json::json!({
        "table": source,
        "row": row,
        "file": r.file_path.display().to_string(),
        "objects": r.objects.iter().map(|o| serde_json::json!({
            "name": o.name,
            "object_id": o.object_id,
            "neurodata_type": o.info.neurodata_type,
            "path": o.info.path,
            "shape": o.info.shape,
        })).collect::<Vec<_>>(),
    })
}

/// A file-name stem for one object of one row.
fn stem(source: &str, r: &NwbRow, o: &NwbObject) -> String {
    let file = r
        .file_path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let table = source.rsplit('.').next().unwrap_or(source);
    let raw = format!("{table}_{file}_{}", o.name);
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Copies one object's data into `dir`; returns the number of files written.
fn export_object(dir: &Path, source: &str, r: &NwbRow, o: &NwbObject) -> Result<usize> {
    let file: &NwbFile = &o.file;
    let base = dir.join(stem(source, r, o));
    let path = &o.info.path;
    if file.exists(&format!("{path}/data")) {
        let ts = file.time_series(path)?;
        let data = file.read_data(&format!("{path}/data"))?;
        write_npy(&with_ext(&base, "_data.npy"), &data, &ts.dtype)?;
        let mut n = 1;
        if let Ok(t) = file.timestamps(path) {
            let shape = vec![t.len()];
            write_npy(
                &with_ext(&base, "_timestamps.npy"),
                &Data {
                    shape,
                    values: Values::Float(t),
                },
                "float64",
            )?;
            n += 1;
        }
        let mut meta = serde_json::json!({
            "object_id": o.object_id,
            "neurodata_type": o.info.neurodata_type,
            "path": path,
            "file": r.file_path.display().to_string(),
            "unit": ts.unit,
            "conversion": ts.conversion,
            "offset": ts.offset,
            "stored_dtype": ts.dtype,
            "shape": data.shape,
        });
        let cc = format!("{path}/channel_conversion");
        if file.exists(&cc) {
            meta["channel_conversion"] =
                serde_json::json!(file.read_data(&cc)?.values.to_f64().unwrap_or_default());
        }
        write_atomic(
            &with_ext(&base, ".json"),
            serde_json::to_string_pretty(&meta)?.as_bytes(),
        )?;
        return Ok(n + 1);
    }
    if let Ok(t) = file.table(path) {
        let mut w = csv::Writer::from_writer(Vec::new());
        let names: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
        let mut header = vec!["id".to_string()];
        header.extend(names.iter().cloned());
        w.write_record(&header)?;
        for i in 0..t.len() {
            let mut rec = vec![t.ids.get(i).map(|x| x.to_string()).unwrap_or_default()];
            for c in &t.columns {
                rec.push(cell(c, i));
            }
            w.write_record(&rec)?;
        }
        let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
        write_atomic(&with_ext(&base, ".csv"), &bytes)?;
        return Ok(1);
    }
    if o.info.kind == spyglass_nwb::ObjectKind::Dataset {
        let data = file.read_data(path)?;
        let dtype = default_dtype(&data.values);
        write_npy(&with_ext(&base, ".npy"), &data, dtype)?;
        return Ok(1);
    }
    eprintln!(
        "warning: {} ({}) in {} has no data to copy",
        path,
        o.info.neurodata_type,
        r.file_path.display()
    );
    Ok(0)
}

fn cell(c: &spyglass_nwb::Column, i: usize) -> String {
    let one = |v: &Values| -> String {
        match v {
            Values::Int(x) => x
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(" "),
            Values::UInt(x) => x
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(" "),
            Values::Float(x) => x
                .iter()
                .map(|a| format!("{a:?}"))
                .collect::<Vec<_>>()
                .join(" "),
            Values::Bool(x) => x
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(" "),
            Values::Text(x) | Values::Enum(x) => x.join(" "),
            Values::Reference(x) => x
                .iter()
                .map(|a| a.clone().unwrap_or_default())
                .collect::<Vec<_>>()
                .join(" "),
            Values::Compound(_) => "(compound)".into(),
        }
    };
    if c.is_ragged() {
        return c
            .ragged_rows()
            .and_then(|rows| rows.get(i).map(one))
            .unwrap_or_default();
    }
    let per = c.data.values.len() / c.num_rows().max(1);
    one(&c.data.values.slice(i * per..(i + 1) * per))
}

fn with_ext(base: &Path, suffix: &str) -> PathBuf {
    let mut s = base.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

fn default_dtype(v: &Values) -> &'static str {
    match v {
        Values::Int(_) => "int64",
        Values::UInt(_) => "uint64",
        Values::Bool(_) => "bool",
        _ => "float64",
    }
}

/// Writes `data` as a NumPy `.npy` file (version 1.0, C order) in `dtype`, the
/// dtype the NWB file stores (values are exact in it: they were read from it).
fn write_npy(path: &Path, data: &Data, dtype: &str) -> Result<()> {
    let (descr, bytes): (&str, Vec<u8>) = match (&data.values, dtype) {
        (Values::Int(v), "int8") => ("|i1", v.iter().map(|&x| x as i8 as u8).collect()),
        (Values::Int(v), "int16") => (
            "<i2",
            v.iter().flat_map(|&x| (x as i16).to_le_bytes()).collect(),
        ),
        (Values::Int(v), "int32") => (
            "<i4",
            v.iter().flat_map(|&x| (x as i32).to_le_bytes()).collect(),
        ),
        (Values::Int(v), _) => ("<i8", v.iter().flat_map(|&x| x.to_le_bytes()).collect()),
        (Values::UInt(v), "uint8") => ("|u1", v.iter().map(|&x| x as u8).collect()),
        (Values::UInt(v), "uint16") => (
            "<u2",
            v.iter().flat_map(|&x| (x as u16).to_le_bytes()).collect(),
        ),
        (Values::UInt(v), "uint32") => (
            "<u4",
            v.iter().flat_map(|&x| (x as u32).to_le_bytes()).collect(),
        ),
        (Values::UInt(v), _) => ("<u8", v.iter().flat_map(|&x| x.to_le_bytes()).collect()),
        (Values::Float(v), "float32") => (
            "<f4",
            v.iter().flat_map(|&x| (x as f32).to_le_bytes()).collect(),
        ),
        (Values::Float(v), _) => ("<f8", v.iter().flat_map(|&x| x.to_le_bytes()).collect()),
        (Values::Bool(v), _) => ("|b1", v.iter().map(|&x| x as u8).collect()),
        (other, _) => bail!(
            "{}: {} data cannot be written as .npy",
            path.display(),
            other.kind()
        ),
    };
    let shape = match data.shape.len() {
        0 => "()".to_string(),
        1 => format!("({},)", data.shape[0]),
        _ => format!(
            "({})",
            data.shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // magic (6) + version (2) + length (2) + header + newline, padded to 64 bytes
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + bytes.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&bytes);
    write_atomic(path, &out)
}

/// Writes a file under a temporary name and renames it into place.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = with_ext(path, ".part");
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
