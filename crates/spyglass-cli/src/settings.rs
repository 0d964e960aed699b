//! Where the CLI finds its database and files: `--db`, `$SPYGLASS_DB`,
//! `database.url` in `spyglass.toml` (in the working directory or the base dir), or
//! DataJoint's own settings (`DJ_HOST`, `dj_local_conf.json`) for a lab server;
//! the base dir is `$SPYGLASS_BASE_DIR` (default `~/spyglass_data`), and the default
//! database is the SQLite file `spyglass.db` inside it.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

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

/// The base directory of data files.
pub fn base_dir() -> PathBuf {
    if let Ok(b) = std::env::var("SPYGLASS_BASE_DIR") {
        if !b.is_empty() {
            return PathBuf::from(b);
        }
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| ".".into());
    Path::new(&home).join("spyglass_data")
}

/// Config file paths, first match wins.
fn config_candidates() -> Vec<PathBuf> {
    vec![
        PathBuf::from("spyglass.toml"),
        base_dir().join("spyglass.toml"),
    ]
}

/// Reads the first config file that exists.
pub fn read_config() -> Result<Option<(PathBuf, ConfigFile)>> {
    for p in config_candidates() {
        if p.exists() {
            let text =
                std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
            let cfg: ConfigFile =
                toml::from_str(&text).with_context(|| format!("parsing {}", p.display()))?;
            return Ok(Some((p, cfg)));
        }
    }
    Ok(None)
}

/// The default database URL: a SQLite file in the base dir.
pub fn default_url() -> String {
    let p = base_dir().join("spyglass.db");
    let abs = if p.is_absolute() {
        p
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    format!("sqlite:///{}", abs.display())
}

/// Resolves the database URL from the flag, the environment, the config file or the default.
pub fn database_url(flag: Option<&str>) -> Result<String> {
    resolve_database(flag).map(|(url, _)| url)
}

/// The database URL and where it came from (`--db`, `$SPYGLASS_DB`, a `spyglass.toml`,
/// DataJoint's settings, or the default), for `spyglass doctor`.
pub fn resolve_database(flag: Option<&str>) -> Result<(String, String)> {
    if let Some(u) = flag {
        return Ok((u.to_string(), "the --db flag".into()));
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
    if std::env::var("DJ_HOST").is_ok_and(|h| !h.is_empty()) || dj_path.is_some() {
        let dj = spyglass_db::config::load_dj_config()?;
        let from = match dj_path {
            Some(p) if std::env::var("DJ_HOST").map_or(true, |h| h.is_empty()) => {
                format!("DataJoint config {}", p.display())
            }
            _ => "$DJ_HOST".into(),
        };
        return Ok((
            format!("mysql://{}:{}", dj.connection.host, dj.connection.port),
            from,
        ));
    }
    Ok((default_url(), "the default (SQLite in the base dir)".into()))
}

/// Writes a new file through a temporary name in the same folder, then renames it.
pub fn write_new_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| {
        let _ = std::fs::remove_file(&tmp);
        format!("writing {}", path.display())
    })
}
