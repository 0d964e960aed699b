//! Where the CLI finds its database and files: `--db`, `$SPYGLASS_DB`,
//! `database.url` in `spyglass.toml` (in the working directory or the base dir), or
//! DataJoint's own settings (`DJ_HOST`, `dj_local_conf.json`) for a lab server;
//! the base dir is `$SPYGLASS_BASE_DIR` (default `~/spyglass_data`), and the default
//! database is the SQLite file `spyglass.db` inside it.

use anyhow::{Context, Result};
use std::path::Path;

pub use spyglass::config_file::{base_dir, read_config, ConfigFile, DatabaseSection};

/// Resolves the database URL from the flag, the environment, the config file or the default.
pub fn database_url(flag: Option<&str>) -> Result<String> {
    resolve_database(flag).map(|(url, _)| url)
}

/// The database URL and where it came from (`--db`, `$SPYGLASS_DB`, a `spyglass.toml`,
/// DataJoint's settings, or the default), for `spyglass doctor`.
pub fn resolve_database(flag: Option<&str>) -> Result<(String, String)> {
    let (url, from) = spyglass::config_file::resolve_database(flag)?;
    Ok((
        url,
        if flag.is_some() {
            "the --db flag".into()
        } else {
            from
        },
    ))
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
