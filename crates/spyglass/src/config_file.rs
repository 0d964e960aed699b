//! Where a program on spyglass-rs (the `spyglass` command, the Python package) finds
//! its database: the URL given, `$SPYGLASS_DB`, `[database] url` of a `spyglass.toml`
//! (in the working directory, else in the base dir), DataJoint's own settings
//! (`DJ_HOST`, `dj_local_conf.json`) for a lab server, else the SQLite file
//! `spyglass.db` in the base dir ([`Settings::from_env`]).

use crate::error::{Error, Result};
use crate::Settings;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The `spyglass.toml` file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ConfigFile {
    /// `[database]` section.
    #[serde(default)]
    pub database: DatabaseSection,
}

/// `[database]` of `spyglass.toml`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DatabaseSection {
    /// Database URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The base directory of data files (`$SPYGLASS_BASE_DIR`, default `~/spyglass_data`).
pub fn base_dir() -> PathBuf {
    Settings::from_env().base_dir
}

/// Reads the first `spyglass.toml` that exists (working directory, then base dir).
pub fn read_config() -> Result<Option<(PathBuf, ConfigFile)>> {
    for p in [
        PathBuf::from("spyglass.toml"),
        base_dir().join("spyglass.toml"),
    ] {
        if p.exists() {
            let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
            let cfg: ConfigFile = toml::from_str(&text)
                .map_err(|e| Error::bad(p.display().to_string(), e.to_string()))?;
            return Ok(Some((p, cfg)));
        }
    }
    Ok(None)
}

/// The default database URL: the SQLite file `spyglass.db` in the base dir.
pub fn default_url() -> String {
    let p = base_dir().join("spyglass.db");
    format!("sqlite:///{}", crate::settings::absolute(&p).display())
}

/// The database URL for `given` (a `--db` flag, `connect(url)`) and where it came
/// from (`given`, `$SPYGLASS_DB`, a `spyglass.toml`, DataJoint's settings, or the
/// default), as `spyglass doctor` reports it.
pub fn resolve_database(given: Option<&str>) -> Result<(String, String)> {
    if let Some(u) = given {
        return Ok((u.to_string(), "given".into()));
    }
    if let Ok(u) = std::env::var("SPYGLASS_DB") {
        if !u.is_empty() {
            return Ok((u, "$SPYGLASS_DB".into()));
        }
    }
    if let Some((path, cfg)) = read_config()? {
        if let Some(u) = cfg.database.url {
            return Ok((u, format!("{} ([database] url)", path.display())));
        }
    }
    // a DataJoint user's server: DJ_HOST or dj_local_conf.json / ~/.datajoint_config.json
    let dj_path = spyglass_db::config::dj_config_path();
    let dj_host = std::env::var("DJ_HOST").is_ok_and(|h| !h.is_empty());
    if dj_host || dj_path.is_some() {
        let dj = spyglass_db::config::load_dj_config()?;
        let from = match dj_path {
            Some(p) if !dj_host => format!("DataJoint config {}", p.display()),
            _ => "$DJ_HOST".into(),
        };
        return Ok((
            format!("mysql://{}:{}", dj.connection.host, dj.connection.port),
            from,
        ));
    }
    Ok((default_url(), "the default (SQLite in the base dir)".into()))
}
