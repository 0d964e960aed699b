//! Connection settings, in the ways DataJoint users know them: `mysql://` URLs,
//! `dj_local_conf.json` in the working directory or `~/.datajoint_config.json`
//! (`database.host/user/password/port/use_tls`, `stores`, `custom`), and the
//! `DJ_HOST`, `DJ_USER`, `DJ_PASS` environment variables. Passwords are never shown:
//! URLs are redacted and the password is kept out of `Debug` output.

use crate::error::{Error, Result};
use crate::stores::StoreConfig;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// How to reach a MySQL/MariaDB server.
#[derive(Clone, Default)]
pub struct ConnectionConfig {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// User name.
    pub user: Option<String>,
    /// Password (never printed).
    pub password: Option<String>,
    /// TLS: Some(true) required, Some(false) off, None tried first.
    pub use_tls: Option<bool>,
}

impl std::fmt::Debug for ConnectionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("use_tls", &self.use_tls)
            .finish()
    }
}

/// What a DataJoint configuration file and the environment say.
#[derive(Debug, Clone, Default)]
pub struct DjConfig {
    /// The server.
    pub connection: ConnectionConfig,
    /// `custom.database.prefix`, prepended to the schema names a project declares.
    pub prefix: String,
    /// `stores` with the `file` protocol.
    pub stores: HashMap<String, StoreConfig>,
    /// The whole `custom` object (e.g. Spyglass's `spyglass_dirs`).
    pub custom: serde_json::Value,
    /// The file it came from, if any.
    pub source: Option<PathBuf>,
}

fn split_host_port(s: &str, default_port: u16) -> Result<(String, u16)> {
    match s.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() => {
            let port = p
                .parse()
                .map_err(|_| Error::Config(format!("bad port in `{s}`")))?;
            Ok((h.to_string(), port))
        }
        _ => Ok((s.to_string(), default_port)),
    }
}

/// Parses `mysql://user:pass@host:port[/ignored]` (see [`crate::dburl`]); missing
/// parts stay empty. Errors never repeat the URL.
pub fn parse_mysql_url(url: &str) -> Result<ConnectionConfig> {
    let u = crate::dburl::DbUrl::parse(url)?;
    if !u.is_mysql() {
        return Err(Error::Config(format!(
            "not a mysql:// URL: {u} (scheme `{}`)",
            u.scheme
        )));
    }
    Ok(ConnectionConfig {
        host: if u.host.is_empty() {
            "localhost".into()
        } else {
            u.host
        },
        port: u.port.unwrap_or(3306),
        user: u.user,
        password: u.password,
        use_tls: None,
    })
}

/// The DataJoint config file in use: `./dj_local_conf.json`, else `~/.datajoint_config.json`.
pub fn dj_config_path() -> Option<PathBuf> {
    let local = PathBuf::from("dj_local_conf.json");
    if local.exists() {
        return Some(local);
    }
    let home = std::env::var("HOME").ok()?;
    let global = Path::new(&home).join(".datajoint_config.json");
    global.exists().then_some(global)
}

/// Reads the DataJoint config file (if any) with `DJ_HOST`/`DJ_USER`/`DJ_PASS` on top.
pub fn load_dj_config() -> Result<DjConfig> {
    let mut cfg = match dj_config_path() {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::Io {
                path: path.display().to_string(),
                source: e,
            })?;
            let mut c = parse_dj_config(&text)
                .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
            c.source = Some(path);
            c
        }
        None => parse_dj_config("{}")?,
    };
    apply_env(&mut cfg)?;
    Ok(cfg)
}

/// Parses the JSON text of a DataJoint config file.
pub fn parse_dj_config(text: &str) -> Result<DjConfig> {
    let mut cfg = DjConfig {
        connection: ConnectionConfig {
            host: "localhost".into(),
            port: 3306,
            ..Default::default()
        },
        ..Default::default()
    };
    let j: serde_json::Value =
        serde_json::from_str(text).map_err(|e| Error::Config(format!("not valid JSON: {e}")))?;
    // keys are dotted (`database.host`) in DataJoint's files; nested objects are accepted too
    let get = |k: &str| {
        j.get(k).or_else(|| {
            k.split_once('.')
                .and_then(|(a, b)| j.get(a).and_then(|x| x.get(b)))
        })
    };
    if let Some(h) = get("database.host").and_then(|v| v.as_str()) {
        let (host, port) = split_host_port(h, 3306)?;
        cfg.connection.host = host;
        cfg.connection.port = port;
    }
    if let Some(p) = get("database.port").and_then(|v| v.as_u64()) {
        cfg.connection.port = p as u16;
    }
    cfg.connection.user = get("database.user")
        .and_then(|v| v.as_str())
        .map(String::from);
    cfg.connection.password = get("database.password")
        .and_then(|v| v.as_str())
        .map(String::from);
    cfg.connection.use_tls = get("database.use_tls").and_then(|v| v.as_bool());
    if let Some(custom) = j.get("custom") {
        cfg.prefix = custom
            .get("database.prefix")
            .or_else(|| custom.get("database").and_then(|d| d.get("prefix")))
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
        cfg.custom = custom.clone();
    }
    let limit = j
        .get("filepath_checksum_size_limit")
        .and_then(|v| v.as_u64());
    if let Some(stores) = j.get("stores").and_then(|s| s.as_object()) {
        for (name, spec) in stores {
            if spec
                .get("protocol")
                .and_then(|v| v.as_str())
                .unwrap_or("file")
                != "file"
            {
                continue;
            }
            let Some(location) = spec.get("location").and_then(|v| v.as_str()) else {
                continue;
            };
            let mut sc = StoreConfig::local(location);
            if let Some(stage) = spec.get("stage").and_then(|v| v.as_str()) {
                sc.stage = PathBuf::from(stage);
            }
            if let Some(sub) = spec.get("subfolding").and_then(|v| v.as_array()) {
                sc.subfolding = sub
                    .iter()
                    .filter_map(|x| x.as_u64().map(|n| n as usize))
                    .collect();
            }
            sc.checksum_size_limit = limit;
            cfg.stores.insert(name.clone(), sc);
        }
    }
    Ok(cfg)
}

/// Applies `DJ_HOST`, `DJ_USER` and `DJ_PASS` over a configuration.
fn apply_env(cfg: &mut DjConfig) -> Result<()> {
    if let Ok(h) = std::env::var("DJ_HOST") {
        if !h.is_empty() {
            let (host, port) = split_host_port(&h, cfg.connection.port)?;
            cfg.connection.host = host;
            cfg.connection.port = port;
        }
    }
    if let Ok(u) = std::env::var("DJ_USER") {
        cfg.connection.user = Some(u);
    }
    if let Ok(p) = std::env::var("DJ_PASS") {
        cfg.connection.password = Some(p);
    }
    Ok(())
}

/// The URL for display: rebuilt from its parts with the password as `***` (a URL
/// that does not parse is not shown at all). See [`crate::dburl::display`].
pub fn redact_url(url: &str) -> String {
    crate::dburl::display(url)
}

/// The user name on SQLite: `$SPYGLASS_USER`, else the OS user, else `unknown`.
pub fn local_user_name() -> String {
    for var in ["SPYGLASS_USER", "USER", "LOGNAME"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                return v;
            }
        }
    }
    "unknown".into()
}

/// This machine's host name (as DataJoint records in `~log` and `~jobs`).
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datajoint_config_files_parse() {
        let c = parse_dj_config(
            r#"{"database.host": "db.lab:3307", "database.user": "alice", "database.password": "s3cret",
                "database.use_tls": false, "filepath_checksum_size_limit": 1073741824,
                "stores": {"raw": {"protocol": "file", "location": "/data/raw", "stage": "/data/raw"},
                           "s3x": {"protocol": "s3", "location": "b"}},
                "custom": {"database.prefix": "bl_new_", "spyglass_dirs": {"base": "/data"}}}"#,
        )
        .unwrap();
        assert_eq!(
            (c.connection.host.as_str(), c.connection.port),
            ("db.lab", 3307)
        );
        assert_eq!(c.connection.user.as_deref(), Some("alice"));
        assert_eq!(c.connection.use_tls, Some(false));
        assert_eq!(c.prefix, "bl_new_");
        assert_eq!(c.custom["spyglass_dirs"]["base"], "/data");
        assert_eq!(c.stores["raw"].location, PathBuf::from("/data/raw"));
        assert_eq!(c.stores["raw"].checksum_size_limit, Some(1 << 30));
        assert!(!c.stores.contains_key("s3x"));
        assert!(
            !format!("{c:?}").contains("s3cret"),
            "passwords stay out of debug output"
        );
        let nested = parse_dj_config(r#"{"database": {"host": "h", "port": 3399}}"#).unwrap();
        assert_eq!(
            (nested.connection.host.as_str(), nested.connection.port),
            ("h", 3399)
        );
        assert!(parse_dj_config("{not json").is_err());
    }

    #[test]
    fn mysql_urls_parse() {
        let c = parse_mysql_url("mysql://dj:s%40cret@db.lab:3307").unwrap();
        assert_eq!(
            (
                c.host.as_str(),
                c.port,
                c.user.as_deref(),
                c.password.as_deref()
            ),
            ("db.lab", 3307, Some("dj"), Some("s@cret"))
        );
        let c = parse_mysql_url("mysql://127.0.0.1").unwrap();
        assert_eq!(
            (c.port, c.user.clone(), c.password.clone()),
            (3306, None, None)
        );
        assert!(!format!("{c:?}").contains("cret"));
        let c = parse_mysql_url("mysql://root:pw@localhost:3393").unwrap();
        assert!(!format!("{c:?}").contains("pw\""), "{c:?}");
        assert!(parse_mysql_url("postgres://x").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("mysql://dj:secret@db:3306"),
            "mysql://dj:***@db:3306"
        );
        assert_eq!(redact_url("mysql://dj@db"), "mysql://dj@db");
        assert_eq!(redact_url("sqlite:///a.db"), "sqlite:///a.db");
    }
}
