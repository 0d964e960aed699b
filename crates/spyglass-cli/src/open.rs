//! Opening the database the way every command does, and reading `--key` / `--where`.

use crate::args::RestrictArgs;
use anyhow::{bail, Context, Result};
use spyglass_db::{Cond, Db, Value};

/// Opens the database: a bundle's SQLite file gets the bundle's file stores, any other
/// database the base dir's `raw`/`analysis` stores unless DataJoint's config set them;
/// an export started with `spyglass export start` on this database keeps logging.
pub fn open(cli_db: Option<&str>) -> Result<Db> {
    let url = crate::settings::database_url(cli_db)?;
    let db = Db::open(&url)
        .with_context(|| format!("opening {}", spyglass_db::config::redact_url(&url)))?;
    let sqlite_path = spyglass_db::backend::sqlite::path_of_url(&url)
        .ok()
        .flatten();
    if let Some(prefix) = sqlite_path
        .as_deref()
        .and_then(spyglass::export::paper::bundle_prefix)
        .filter(|p| !p.is_empty())
    {
        db.set_prefix(&prefix);
    }
    let bundle = sqlite_path
        .as_deref()
        .and_then(spyglass::export::paper::bundle_stores);
    match bundle {
        Some(stores) => {
            for (name, dir) in stores {
                let mut cfg =
                    spyglass_db::stores::StoreConfig::local(spyglass::settings::absolute(&dir));
                cfg.checksum_size_limit = Some(spyglass::settings::CHECKSUM_SIZE_LIMIT);
                db.set_store(&name, cfg);
            }
        }
        None => {
            if db.store("raw").is_err() && db.store("analysis").is_err() {
                spyglass::Settings::from_env().configure_stores(&db);
            }
        }
    }
    crate::commands::export::resume(&db)?;
    // lab members' accounts, admin flags and teams stay admin-only (cautious delete)
    spyglass::lab_admin::install_write_guard(&db, None);
    Ok(db)
}

/// The AND of `--key ATTR=VALUE` and `--where SQL` options, checked against `q`.
pub fn restriction(q: &spyglass_db::Query, table: &str, args: &RestrictArgs) -> Result<Cond> {
    let mut conds = Vec::new();
    let mut pairs = Vec::new();
    for k in &args.keys {
        let Some((a, v)) = k.split_once('=') else {
            bail!("--key expects ATTR=VALUE, got `{k}`")
        };
        if q.heading().iter().all(|h| h.name != a.trim()) {
            bail!("--key {k}: {table} has no attribute `{}`", a.trim());
        }
        pairs.push((a.trim().to_string(), Value::Str(v.to_string())));
    }
    if !pairs.is_empty() {
        conds.push(Cond::Map(pairs));
    }
    conds.extend(args.wheres.iter().map(|w| Cond::sql(w.clone())));
    // check the whole restriction now, so that errors name the option
    q.restrict(Cond::And(conds.clone()))?;
    Ok(Cond::And(conds))
}
