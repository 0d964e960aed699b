//! Database URLs, parsed once into their parts (scheme, user, password, host, port,
//! path, options) so that every message shows a URL rebuilt from those parts with
//! the password as `***`: a password is never found in text, and never printed.
//!
//! The user information ends at the last `@` of the URL, so an unencoded `@`, `/`,
//! `:` or `?` in a password is taken as part of it; `%XX` escapes in the user name and
//! password are decoded. A URL without `scheme://` is an error that does not repeat it.

use crate::error::{Error, Result};

/// A parsed database URL.
#[derive(Clone, PartialEq, Eq)]
pub struct DbUrl {
    /// `sqlite`, `mysql` or `mariadb` (lower case).
    pub scheme: String,
    /// User name, percent-decoded.
    pub user: Option<String>,
    /// Password, percent-decoded (never printed).
    pub password: Option<String>,
    /// Host name or address (IPv6 without brackets); empty for SQLite.
    pub host: String,
    /// TCP port, when given.
    pub port: Option<u16>,
    /// Everything after the authority up to the options (`/rel.db`, `//abs.db`, `/db`).
    pub path: String,
    /// The text after `?` (options), if any.
    pub options: Option<String>,
}

fn err(what: &str) -> Error {
    Error::Config(format!(
        "bad database URL: {what}; expected sqlite:///path.db or mysql://user@host:port"
    ))
}

impl DbUrl {
    /// Parses a URL. Errors name what is wrong and never repeat the URL (it may hold
    /// a password).
    pub fn parse(url: &str) -> Result<DbUrl> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(err("it has no scheme"));
        };
        let scheme_ok = !scheme.is_empty()
            && scheme.as_bytes()[0].is_ascii_alphabetic()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.');
        if !scheme_ok {
            return Err(err("it has no valid scheme"));
        }
        let scheme = scheme.to_ascii_lowercase();
        if scheme == "sqlite" {
            // no user information: the rest is a path (which may hold `@` or `?`)
            return Ok(DbUrl {
                scheme,
                user: None,
                password: None,
                host: String::new(),
                port: None,
                path: rest.to_string(),
                options: None,
            });
        }
        // user information ends at the last `@`
        let (userinfo, after) = match rest.rfind('@') {
            Some(i) => (Some(&rest[..i]), &rest[i + 1..]),
            None => (None, rest),
        };
        let (user, password) = match userinfo {
            Some(ui) => match ui.split_once(':') {
                Some((u, p)) => (Some(percent_decode(u)), Some(percent_decode(p))),
                None => (Some(percent_decode(ui)), None),
            },
            None => (None, None),
        };
        let (before_opts, options) = match after.split_once('?') {
            Some((a, o)) => (a, Some(o.to_string())),
            None => (after, None),
        };
        let (hostport, path) = match before_opts.find('/') {
            Some(i) => (&before_opts[..i], before_opts[i..].to_string()),
            None => (before_opts, String::new()),
        };
        let (host, port_text) = if let Some(inner) = hostport.strip_prefix('[') {
            let Some((h, tail)) = inner.split_once(']') else {
                return Err(err("an IPv6 host has no closing `]`"));
            };
            match tail {
                "" => (h.to_string(), None),
                t => match t.strip_prefix(':') {
                    Some(p) => (h.to_string(), Some(p)),
                    None => return Err(err("unexpected text after the IPv6 host")),
                },
            }
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (hostport.to_string(), None),
            }
        };
        if host
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(err("the host name holds spaces or control characters"));
        }
        let port = match port_text {
            None | Some("") => None,
            Some(p) => Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| err("the port is not a number from 1 to 65535"))?,
            ),
        };
        Ok(DbUrl {
            scheme,
            user: user.filter(|u| !u.is_empty()),
            password,
            host,
            port,
            path,
            options,
        })
    }

    /// True for `mysql://` and `mariadb://`.
    pub fn is_mysql(&self) -> bool {
        self.scheme == "mysql" || self.scheme == "mariadb"
    }

    /// The same URL without its password (what may be written to a config file).
    pub fn without_password(&self) -> DbUrl {
        DbUrl {
            password: None,
            ..self.clone()
        }
    }

    /// The full URL, password included, percent-encoded: only for handing to a
    /// connection, never for output.
    pub fn to_secret_string(&self) -> String {
        self.render(self.password.as_deref().map(percent_encode).as_deref())
    }

    fn render(&self, password: Option<&str>) -> String {
        let mut s = format!("{}://", self.scheme);
        if self.scheme != "sqlite" {
            if self.user.is_some() || self.password.is_some() {
                s.push_str(&percent_encode(self.user.as_deref().unwrap_or("")));
                if let Some(p) = password {
                    s.push(':');
                    s.push_str(p);
                }
                s.push('@');
            }
            if self.host.contains(':') {
                s.push_str(&format!("[{}]", self.host));
            } else {
                s.push_str(&self.host);
            }
            if let Some(p) = self.port {
                s.push_str(&format!(":{p}"));
            }
        }
        s.push_str(&self.path);
        if let Some(o) = &self.options {
            s.push('?');
            s.push_str(o);
        }
        s
    }
}

/// Shows the URL with the password as `***`.
impl std::fmt::Display for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(self.password.as_ref().map(|_| "***")))
    }
}

impl std::fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DbUrl({self})")
    }
}

/// A URL for display: rebuilt with the password as `***`, or a placeholder when it
/// does not parse (the text is never repeated).
pub fn display(url: &str) -> String {
    match DbUrl::parse(url) {
        Ok(u) => u.to_string(),
        Err(_) => "<unparsable database URL>".into(),
    }
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as it is.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes every byte outside RFC 3986's unreserved set as `%XX`.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_ends_at_the_last_at() {
        let u = DbUrl::parse("mysql://alice:p@ssw0rd@db.lab:3307/x?tls=0").unwrap();
        assert_eq!(u.user.as_deref(), Some("alice"));
        assert_eq!(u.password.as_deref(), Some("p@ssw0rd"));
        assert_eq!((u.host.as_str(), u.port), ("db.lab", Some(3307)));
        assert_eq!(
            (u.path.as_str(), u.options.as_deref()),
            ("/x", Some("tls=0"))
        );
        assert_eq!(u.to_string(), "mysql://alice:***@db.lab:3307/x?tls=0");
        let u = DbUrl::parse("mysql://alice:se/cret@host").unwrap();
        assert_eq!(u.password.as_deref(), Some("se/cret"));
        assert_eq!(u.to_string(), "mysql://alice:***@host");
        let u = DbUrl::parse("mysql://a%40b:s%3Acret%25@[::1]:3306").unwrap();
        assert_eq!(
            (u.user.as_deref(), u.password.as_deref(), u.host.as_str()),
            (Some("a@b"), Some("s:cret%"), "::1")
        );
        assert_eq!(u.to_string(), "mysql://a%40b:***@[::1]:3306");
        assert_eq!(DbUrl::parse(&u.to_secret_string()).unwrap(), u);
        // empty and one-letter passwords are shown as *** and nothing else changes
        assert_eq!(
            DbUrl::parse("mysql://al:@h").unwrap().to_string(),
            "mysql://al:***@h"
        );
        assert_eq!(
            DbUrl::parse("mysql://al:a@h").unwrap().to_string(),
            "mysql://al:***@h"
        );
    }

    #[test]
    fn errors_do_not_repeat_the_url() {
        for bad in [
            "alice:TopSecret@host",
            "mysql://alice:TopSecret@host:notaport",
            "mysql://alice:TopSecret@[::1",
            "://alice:TopSecret@h",
        ] {
            let e = DbUrl::parse(bad).unwrap_err().to_string();
            assert!(!e.contains("TopSecret"), "{e}");
            assert!(e.contains("bad database URL"), "{e}");
        }
        assert_eq!(display("alice:TopSecret@host"), "<unparsable database URL>");
    }

    #[test]
    fn sqlite_urls_are_paths() {
        let u = DbUrl::parse("sqlite:////data/a@b.db").unwrap();
        assert_eq!(u.path, "//data/a@b.db");
        assert_eq!(u.to_string(), "sqlite:////data/a@b.db");
    }
}
