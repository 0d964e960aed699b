//! `spyglass doctor`: one command that checks an installation end to end (config
//! found and which, database reachable, backend version, base dir, HDF5 and filters,
//! schemas and compatibility, stale jobs, orphan files) and prints what to do about
//! each problem. Exits 1 when a check fails. Never prints a password: every URL goes
//! through `shown_url` below.

use crate::settings;
use anyhow::Result;
use spyglass::doctor::{self, Finding, Status};
use spyglass::Settings;
use spyglass_db::Db;

/// The one place a database URL is turned into printable text (password removed).
fn shown_url(url: &str) -> String {
    spyglass_db::config::redact_url(url)
}

fn print(f: &Finding) {
    let mark = match f.status {
        Status::Ok => "ok  ",
        Status::Warn => "warn",
        Status::Fail => "FAIL",
    };
    println!("[{mark}] {:<10} {}", f.check, f.detail);
    if let Some(fix) = &f.fix {
        println!("       {:<10} -> {fix}", "");
    }
}

/// Runs the checks; returns true when none failed.
pub fn run(db_flag: Option<&str>) -> Result<bool> {
    let mut findings = Vec::new();
    let config = settings::read_config();
    findings.push(match &config {
        Ok(Some((p, _))) => Finding {
            check: "config".into(),
            status: Status::Ok,
            detail: format!("{}", p.display()),
            fix: None,
        },
        Ok(None) => Finding {
            check: "config".into(),
            status: Status::Ok,
            detail: "no spyglass.toml (defaults and environment)".into(),
            fix: None,
        },
        Err(e) => Finding {
            check: "config".into(),
            status: Status::Fail,
            detail: format!("{e:#}"),
            fix: Some("fix or remove the file".into()),
        },
    });
    let s = Settings::from_env();
    findings.push(doctor::check_base_dir(&s));
    findings.push(doctor::check_hdf5());
    match settings::resolve_database(db_flag) {
        Err(e) => findings.push(Finding {
            check: "database".into(),
            status: Status::Fail,
            detail: format!("{e:#}"),
            fix: Some("set --db, $SPYGLASS_DB or [database] url in spyglass.toml".into()),
        }),
        Ok((url, from)) => match Db::open(&url) {
            Ok(db) => {
                s.configure_stores(&db);
                findings.push(Finding {
                    check: "database".into(),
                    status: Status::Ok,
                    detail: format!("{} (from {from}) is reachable", shown_url(&url)),
                    fix: None,
                });
                findings.extend(doctor::check_database(&db));
            }
            Err(e) => findings.push(Finding {
                check: "database".into(),
                status: Status::Fail,
                detail: format!("{} (from {from}): {e}", shown_url(&url)),
                fix: Some("check the server is up, the host/port, and the user and password (DJ_USER/DJ_PASS or dj_local_conf.json)".into()),
            }),
        },
    }
    for f in &findings {
        print(f);
    }
    let failed = findings.iter().filter(|f| f.status == Status::Fail).count();
    let warned = findings.iter().filter(|f| f.status == Status::Warn).count();
    println!(
        "doctor: {} checks, {failed} failed, {warned} warnings",
        findings.len()
    );
    Ok(failed == 0)
}
