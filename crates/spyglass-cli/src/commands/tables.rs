//! The engine's table commands: `init`, `declare`, `tables`, `show`, `load`, `diagram`.

use crate::args::RestrictArgs;
use crate::output::{self, Format};
use crate::settings;
use anyhow::{bail, Context, Result};
use spyglass_db::diagram::{self, DiagramFormat};
use spyglass_db::{Cond, Db, FetchSpec, InsertOptions, Row, Value};
use std::path::PathBuf;

pub fn init(db_flag: Option<&str>, here: bool) -> Result<()> {
    let base = settings::base_dir();
    std::fs::create_dir_all(&base).with_context(|| format!("creating {}", base.display()))?;
    let url = settings::database_url(db_flag)?;
    let path = if here {
        PathBuf::from("spyglass.toml")
    } else {
        base.join("spyglass.toml")
    };
    if !path.exists() {
        // the password is never written: the file keeps the URL without it
        let parsed = spyglass_db::dburl::DbUrl::parse(&url)?;
        let cfg = settings::ConfigFile {
            database: settings::DatabaseSection {
                url: Some(parsed.without_password().to_secret_string()),
            },
        };
        settings::write_new_file(&path, toml::to_string(&cfg)?.as_bytes())?;
        println!("wrote {}", path.display());
        if parsed.password.is_some() {
            println!(
                "the password was not written to {}: provide it with the DJ_PASS environment \
                 variable (or database.password in dj_local_conf.json, or the whole URL in SPYGLASS_DB)",
                path.display()
            );
        }
    } else {
        println!("{} exists; left as it is", path.display());
    }
    let db = Db::open(&url)
        .with_context(|| format!("opening {}", spyglass_db::config::redact_url(&url)))?;
    println!(
        "database ready: {} ({} schemas)",
        spyglass_db::config::redact_url(&url),
        db.schemas().len()
    );
    Ok(())
}

pub fn declare(db: &Db, file: &PathBuf) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let parsed = super::declare_file::parse(&text, &file.display().to_string())?;
    for entry in &parsed.tables {
        let spec = super::declare_file::to_spec(entry)?;
        let outcome = db
            .declare(&parsed.schema, &spec)
            .with_context(|| format!("declaring {}.{}", parsed.schema, entry.name))?;
        let full = format!("{}.{}", parsed.schema, entry.name);
        let info = db.table_info(&full)?;
        let filled = super::declare_file::contents_rows(entry, &info.heading.names())
            .and_then(|rows| fill_contents(db, &full, &info, &rows));
        if let Err(e) = filled {
            // a table this call created goes again: declared means consistent contents
            if outcome == spyglass_db::Declared::Created {
                if let Err(drop_err) = db
                    .plan_drop_table(&full)
                    .and_then(|plan| db.drop_tables(&plan))
                {
                    return Err(e.context(format!(
                        "{full} was declared but could not be dropped again: {drop_err}"
                    )));
                }
            }
            return Err(e.context(format!("declaring {full}")));
        }
        println!(
            "{} {}.{} ({})",
            match outcome {
                spyglass_db::Declared::Created => "declared",
                spyglass_db::Declared::Unchanged => "unchanged",
            },
            parsed.schema,
            entry.name,
            info.name
        );
    }
    Ok(())
}

/// Inserts a lookup's `contents` rows: a row already present with the same values is
/// kept, while two rows with one key but different values (in the file, or between
/// the file and the table) are an error and nothing is inserted.
fn fill_contents(
    db: &Db,
    table: &str,
    info: &std::sync::Arc<spyglass_db::TableInfo>,
    rows: &[Row],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let pk = info.primary_key();
    let same = |a: &Value, b: &Value| {
        let (x, y) = (a.python_str(), b.python_str());
        x == y || matches!((x.parse::<f64>(), y.parse::<f64>()), (Ok(p), Ok(q)) if p == q)
    };
    let key_of = |r: &Row| -> Result<Vec<(String, Value)>> {
        pk.iter()
            .map(|k| match r.get(k) {
                Some(v) => Ok((k.clone(), v.clone())),
                None => bail!("contents row {r:?} has no value for the key attribute `{k}`"),
            })
            .collect()
    };
    let differs = |a: &Row, b: &Row| -> Option<String> {
        a.iter()
            .filter_map(|(k, v)| b.get(k).map(|w| (k, v, w)))
            .find(|(_, v, w)| !same(v, w))
            .map(|(k, v, w)| format!("`{k}` is {} and {}", v.python_str(), w.python_str()))
    };
    let mut fresh: Vec<&Row> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let key = key_of(r)?;
        let show_key = key
            .iter()
            .map(|(k, v)| format!("{k}={}", v.python_str()))
            .collect::<Vec<_>>()
            .join(", ");
        if let Some(other) = fresh.iter().find(|o| {
            key.iter()
                .all(|(k, v)| o.get(k).is_some_and(|w| same(v, w)))
        }) {
            if let Some(d) = differs(r, other) {
                bail!(
                    "{}: contents row {i} repeats the key ({show_key}) with different values: {d}",
                    info.name.pretty()
                );
            }
            continue;
        }
        let existing = db.fetch(&db.table(table)?.restrict(Cond::Map(key))?)?;
        match existing.first() {
            Some(e) => {
                if let Some(d) = differs(r, e) {
                    bail!(
                        "{}: contents row {i} conflicts with the row already stored under ({show_key}): {d}",
                        info.name.pretty()
                    );
                }
            }
            None => fresh.push(r),
        }
    }
    let fresh: Vec<Row> = fresh.into_iter().cloned().collect();
    if !fresh.is_empty() {
        db.insert_into(info, &fresh, InsertOptions::default())?;
    }
    Ok(())
}

pub fn tables(db: &Db, schema: Option<&str>, format: Format) -> Result<()> {
    let mut rows = Vec::new();
    for info in db.catalog().user_tables(schema) {
        let n = db.count(&spyglass_db::Query::table(&info))?;
        rows.push(Row::from_pairs([
            ("table", Value::Str(info.name.pretty())),
            (
                "stored_name",
                Value::Str(format!("{}.{}", info.name.schema, info.name.table)),
            ),
            ("tier", Value::Str(info.tier.to_string())),
            ("rows", Value::from(n)),
        ]));
    }
    let cols: Vec<String> = ["table", "stored_name", "tier", "rows"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    print!("{}", output::render_rows(&cols, &[], &rows, format, None)?);
    Ok(())
}

pub fn show(
    db: &Db,
    table: &str,
    restrict: &RestrictArgs,
    limit: Option<u64>,
    format: Format,
) -> Result<()> {
    let base = db.table(table)?;
    let q = base.restrict(crate::open::restriction(&base, table, restrict)?)?;
    let spec = FetchSpec {
        limit,
        order_by: vec!["KEY".into()],
        ..Default::default()
    };
    let rows = db.fetch_with(&q, &spec)?;
    let total = if limit.is_some() {
        Some(db.count(&q)?)
    } else {
        None
    };
    print!(
        "{}",
        output::render_rows(&q.names(), &q.primary_key(), &rows, format, total)?
    );
    Ok(())
}

pub fn load(db: &Db, table: &str, file: &PathBuf, skip_duplicates: bool) -> Result<()> {
    let info = db.table_info(table)?;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let rows: Vec<Row> = match ext.as_str() {
        "json" => {
            let j: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{}: invalid JSON", file.display()))?;
            let serde_json::Value::Array(items) = j else {
                bail!("{}: expected a JSON array of objects", file.display())
            };
            items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    serde_json::Value::Object(m) => Ok(Row::from_pairs(
                        m.iter().map(|(k, v)| (k.clone(), Value::from_json(v))),
                    )),
                    _ => bail!("{}: item {i} is not an object", file.display()),
                })
                .collect::<Result<_>>()?
        }
        "csv" => {
            let mut r = csv::Reader::from_reader(text.as_bytes());
            let header: Vec<String> = r.headers()?.iter().map(|h| h.trim().to_string()).collect();
            let mut seen = std::collections::HashSet::new();
            if let Some(dup) = header.iter().find(|h| !seen.insert(h.as_str())) {
                bail!(
                    "{}: the header names column `{dup}` more than once",
                    file.display()
                );
            }
            let mut rows = Vec::new();
            for (i, rec) in r.records().enumerate() {
                let rec = rec.with_context(|| format!("{}: line {}", file.display(), i + 2))?;
                rows.push(Row::from_pairs(
                    header
                        .iter()
                        .zip(rec.iter())
                        .map(|(h, cell)| (h.clone(), csv_cell(&info, h, cell))),
                ));
            }
            rows
        }
        _ => bail!("{}: expected a .json or .csv file", file.display()),
    };
    let n = db.insert_into(
        &info,
        &rows,
        InsertOptions {
            skip_duplicates,
            ..Default::default()
        },
    )?;
    println!(
        "inserted {n} of {} rows into {}",
        rows.len(),
        info.name.pretty()
    );
    Ok(())
}

/// A CSV cell as a value: empty means NULL except for strings; blob and json cells
/// hold JSON text.
fn csv_cell(info: &spyglass_db::TableInfo, attr: &str, cell: &str) -> Value {
    use spyglass_db::AttrType as T;
    let ty = info.heading.get(attr).map(|a| &a.ty);
    match ty {
        Some(T::Char(_) | T::Varchar(_)) => Value::Str(cell.to_string()),
        Some(T::Blob(_) | T::Json) if !cell.is_empty() => serde_json::from_str(cell)
            .map(|j: serde_json::Value| Value::Json(j))
            .unwrap_or_else(|_| Value::Str(cell.into())),
        _ if cell.is_empty() => Value::Null,
        _ => Value::Str(cell.to_string()),
    }
}

pub fn draw(db: &Db, schema: Option<&str>, out: &PathBuf) -> Result<()> {
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("");
    let Some(format) = DiagramFormat::from_extension(ext) else {
        bail!(
            "{}: the output must end in .dot, .mmd or .svg",
            out.display()
        )
    };
    if let Some(s) = schema {
        if !db.schemas().iter().any(|x| x == s) {
            bail!("unknown schema `{s}`");
        }
    }
    let text = diagram::render(&db.catalog(), &*db.graph()?, schema, format)?;
    std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(())
}
