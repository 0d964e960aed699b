//! Connection settings: database URLs (with passwords redacted whenever a URL is
//! shown), and the local user name used on SQLite where the server has no users.

/// Replaces the password in `scheme://user:pass@host` with `***` for display.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((cred, host)) => match cred.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
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
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("mysql://dj:secret@db:3306"),
            "mysql://dj:***@db:3306"
        );
        assert_eq!(redact_url("mysql://dj@db"), "mysql://dj@db");
        assert_eq!(redact_url("sqlite:///a.db"), "sqlite:///a.db");
    }
}
