//! Passwords are never shown or written (issue 13, cases 13 and 14), as a property
//! over generated passwords: every printable ASCII character, in a password of its
//! own, inside a longer one, raw and percent-encoded in the URL, plus pseudo-random
//! passwords and the empty one. Each goes through URL parsing and display, the
//! connection error of a closed port, `spyglass init` and the CLI's error output, and
//! on MariaDB through a real account (right and wrong password, init, export start).
//! The password and its percent-encoded form must appear in no message and no file.

use crate::common::{files_under, text};
use spyglass_db::dburl::{percent_encode, DbUrl};
use std::path::Path;
use std::process::{Command, Output};

/// Passwords: each printable ASCII character alone and inside `Qz?7Kv`, the empty
/// one, and pseudo-random ones (fixed seed) of 6 to 20 characters.
fn passwords() -> Vec<String> {
    let mut out = vec![String::new()];
    for c in 0x20u8..=0x7e {
        out.push((c as char).to_string());
        out.push(format!("Qz{}7Kv", c as char));
    }
    let mut state: u64 = 0x5eed_1234_abcd_9876;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    for _ in 0..40 {
        let len = 6 + next() % 15;
        out.push(
            (0..len)
                .map(|_| (0x20 + (next() % 95) as u8) as char)
                .collect(),
        );
    }
    // the characters that delimit URLs, together
    out.push("p@ss:w/o%rd?#@".into());
    out.push("%41%42%zz@@".into());
    out
}

/// Fails when `text` shows the password. A password of 6 or more characters must not
/// occur at all (raw, percent-encoded, or as decoded from the raw URL); for shorter
/// ones, `***` may occur only where the password was (`alice:***@`), and the
/// password never right after `alice:`.
fn assert_no_leak(text: &str, pw: &str, what: &str) {
    let forms = [
        pw.to_string(),
        percent_encode(pw),
        spyglass_db::dburl::percent_decode(pw),
    ];
    if pw.chars().count() >= 6 {
        for f in &forms {
            assert!(
                !text.contains(f.as_str()),
                "{what} shows password {pw:?}: {text}"
            );
        }
    } else {
        for f in &forms {
            assert!(
                !text.contains(&format!("alice:{f}@")),
                "{what} shows password {pw:?}: {text}"
            );
        }
        assert_eq!(
            text.matches("***").count(),
            text.matches("alice:***@").count(),
            "{what}: `***` where no password was (password {pw:?}): {text}"
        );
    }
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Runs `spyglass` in `dir` with no DataJoint settings around (HOME is `dir`).
fn spyglass(dir: &Path, db: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spyglass"));
    c.args(["--db", db])
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("SPYGLASS_BASE_DIR", dir.join("base"))
        .env_remove("SPYGLASS_DB")
        .env_remove("DJ_HOST")
        .env_remove("DJ_USER")
        .env_remove("DJ_PASS");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run spyglass")
}

/// Every file under `dir`, as lossy text, with its path.
fn files_text(dir: &Path) -> Vec<(String, String)> {
    files_under(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_default();
            (
                p.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        })
        .collect()
}

#[test]
fn parsing_and_display_never_show_a_password() {
    let port = 3307;
    for pw in passwords() {
        let enc = format!("mysql://alice:{}@db.lab:{port}/x", percent_encode(&pw));
        let u = DbUrl::parse(&enc).unwrap();
        assert_eq!(u.password.as_deref(), Some(pw.as_str()), "{enc}");
        assert_eq!(u.user.as_deref(), Some("alice"));
        assert_eq!((u.host.as_str(), u.port), ("db.lab", Some(port)));
        assert_eq!(u.to_string(), format!("mysql://alice:***@db.lab:{port}/x"));
        assert_eq!(
            format!("{u:?}"),
            format!("DbUrl(mysql://alice:***@db.lab:{port}/x)")
        );
        assert_eq!(DbUrl::parse(&u.to_secret_string()).unwrap(), u);
        let c = spyglass_db::config::parse_mysql_url(&enc).unwrap();
        assert_eq!(c.password.as_deref(), Some(pw.as_str()));
        assert_eq!(
            format!("{c:?}"),
            format!(
                "ConnectionConfig {{ host: \"db.lab\", port: {port}, user: Some(\"alice\"), \
                 password: Some(\"***\"), use_tls: None }}"
            )
        );
        assert_no_leak(&spyglass_db::config::redact_url(&enc), &pw, "redact_url");

        // the raw password in the URL: the user information ends at the last `@`
        let raw = format!("mysql://alice:{pw}@db.lab:{port}");
        let u = DbUrl::parse(&raw).unwrap();
        assert_eq!(u.host, "db.lab", "{raw}");
        assert_eq!(u.to_string(), format!("mysql://alice:***@db.lab:{port}"));
        if !pw.contains('%') {
            assert_eq!(u.password.as_deref(), Some(pw.as_str()), "{raw}");
        }
        // a URL without a scheme, and one with a bad port: the error does not repeat it
        for bad in [
            format!("alice:{pw}@db.lab:{port}"),
            format!("mysql://alice:{pw}@db.lab:99999"),
        ] {
            let e = DbUrl::parse(&bad).unwrap_err().to_string();
            assert_no_leak(&e, &pw, "parse error");
            assert!(!e.contains("db.lab"), "the URL is not repeated: {e}");
            assert_eq!(
                spyglass_db::config::redact_url(&bad),
                "<unparsable database URL>"
            );
        }
    }
}

#[test]
fn connection_errors_init_and_cli_output_never_show_a_password() {
    let port = closed_port();
    for pw in passwords() {
        let dir = spyglass_testkit::scratch_dir();
        let d = dir.path();
        for url in [
            format!("mysql://alice:{}@127.0.0.1:{port}", percent_encode(&pw)),
            format!("mysql://alice:{pw}@127.0.0.1:{port}"),
        ] {
            // the connection error of a closed port
            let e = match spyglass_db::Db::open(&url) {
                Err(e) => e.to_string(),
                Ok(_) => panic!("port {port} should be closed"),
            };
            assert!(
                e.contains(&format!("mysql://alice:***@127.0.0.1:{port}")),
                "{e}"
            );
            assert_no_leak(&e, &pw, "connection error");
            assert_no_leak(&format!("{e:?}"), &pw, "connection error (debug)");
            // the CLI's error output
            let o = spyglass(d, &url, &["tables"], &[]);
            assert!(!o.status.success());
            assert_no_leak(&text(&o), &pw, "spyglass tables");
            // init: the file keeps the URL without the password, and says where it goes
            let _ = std::fs::remove_file(d.join("spyglass.toml"));
            let o = spyglass(d, &url, &["init", "--here"], &[]);
            assert!(!o.status.success(), "the server is not there");
            let out = text(&o);
            assert_no_leak(&out, &pw, "spyglass init");
            assert!(out.contains("DJ_PASS"), "{out}");
            let toml = std::fs::read_to_string(d.join("spyglass.toml")).unwrap();
            assert_eq!(
                toml.trim(),
                format!("[database]\nurl = \"mysql://alice@127.0.0.1:{port}\"")
            );
            // without a scheme: the error does not repeat the URL
            let bare = url.trim_start_matches("mysql://").to_string();
            let o = spyglass(d, &bare, &["tables"], &[]);
            assert!(!o.status.success());
            let out = text(&o);
            assert_no_leak(&out, &pw, "spyglass with a URL without scheme");
            assert!(
                out.contains("no scheme") && !out.contains("127.0.0.1"),
                "{out}"
            );
        }
        // the password from DJ_PASS with the URL init wrote
        let o = spyglass(
            d,
            &format!("mysql://alice@127.0.0.1:{port}"),
            &["tables"],
            &[("DJ_PASS", &pw)],
        );
        assert!(!o.status.success());
        assert_no_leak(&text(&o), &pw, "spyglass with DJ_PASS");
        for (path, content) in files_text(d) {
            assert_no_leak(&content, &pw, &path);
        }
    }
}

/// A real account whose password holds every URL delimiter: it connects with the
/// percent-encoded URL and with DJ_PASS, and nothing written or printed shows it.
#[test]
fn mariadb_account_with_a_hard_password() {
    let root_url = spyglass_testkit::mysql_url();
    let root = spyglass_db::Db::open(&root_url).unwrap();
    let c = spyglass_db::config::parse_mysql_url(&root_url).unwrap();
    let prefix = spyglass_testkit::unique_prefix();
    let user = format!("{}pw", prefix.trim_end_matches('_'));
    let pw = r#"p@ss:w/o%rd?#&= "'\;x"#;
    let sql_pw = pw.replace('\\', "\\\\").replace('\'', "''");
    let _ = root.execute(&format!("DROP USER IF EXISTS '{user}'@'%'"), &[]);
    root.execute(
        &format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{sql_pw}'"),
        &[],
    )
    .unwrap();
    root.execute(
        &format!("GRANT ALL PRIVILEGES ON `{prefix}%`.* TO '{user}'@'%'"),
        &[],
    )
    .unwrap();
    let host = format!("{}:{}", c.host, c.port);
    let good = format!("mysql://{user}:{}@{host}", percent_encode(pw));
    let wrong = format!("mysql://{user}:{}x@{host}", percent_encode(pw));
    let dir = spyglass_testkit::scratch_dir();
    let d = dir.path();
    std::fs::write(
        d.join("dj_local_conf.json"),
        format!(r#"{{"database.use_tls": false, "custom": {{"database.prefix": "{prefix}"}}}}"#),
    )
    .unwrap();
    let check = |o: &Output, what: &str| {
        let t = text(o);
        for f in [pw.to_string(), percent_encode(pw), format!("{pw}x")] {
            assert!(!t.contains(&f), "{what} shows the password: {t}");
        }
        t
    };
    let o = spyglass(d, &good, &["init", "--here"], &[]);
    let t = check(&o, "init");
    assert!(o.status.success(), "{t}");
    assert!(t.contains(&format!("mysql://{user}:***@{host}")), "{t}");
    let o = spyglass(d, &good, &["tables"], &[]);
    let t = check(&o, "tables");
    assert!(o.status.success(), "{t}");
    let o = spyglass(d, &wrong, &["tables"], &[]);
    let t = check(&o, "wrong password");
    assert!(!o.status.success() && t.contains("Access denied"), "{t}");
    // the URL init wrote, with the password from DJ_PASS
    let o = Command::new(env!("CARGO_BIN_EXE_spyglass"))
        .args(["tables"])
        .current_dir(d)
        .env("HOME", d)
        .env("SPYGLASS_BASE_DIR", d.join("base"))
        .env("DJ_PASS", pw)
        .env_remove("SPYGLASS_DB")
        .output()
        .unwrap();
    let t = check(&o, "tables with DJ_PASS");
    assert!(o.status.success(), "{t}");
    let o = spyglass(
        d,
        &good,
        &["export", "start", "--paper", "p1", "--analysis", "a1"],
        &[],
    );
    let t = check(&o, "export start");
    assert!(o.status.success(), "{t}");
    let o = spyglass(d, &good, &["export", "stop"], &[]);
    check(&o, "export stop");
    for (path, content) in files_text(d) {
        for f in [pw.to_string(), percent_encode(pw)] {
            assert!(!content.contains(&f), "{path} holds the password");
        }
    }
    let _ = root.execute(&format!("DROP USER '{user}'@'%'"), &[]);
    for schema in root.schemas() {
        if schema.starts_with(&prefix) {
            let _ = root.execute(&format!("DROP DATABASE `{schema}`"), &[]);
        }
    }
}
