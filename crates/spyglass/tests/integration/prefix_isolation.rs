//! Issue 13, case 10: a schema prefix (`custom.database.prefix`) names exactly the
//! project's schemas. On a MariaDB server that also holds the same project without
//! a prefix, in both orders (unprefixed first, prefixed first), each project declares
//! all its schemas under its own names and its sessions go there; the other is never
//! read or written. Each order runs on a fresh private server, since the unprefixed
//! project uses the real `common_*` names.

use crate::common;

use common::init;
use spyglass::ingest::{self, IngestOptions, NoProgress};
use spyglass::Settings;
use spyglass_db::{Db, SqlValue};
use std::collections::BTreeSet;
use std::path::Path;

struct Project {
    db: Db,
    settings: Settings,
}

/// Declares the project (common tables and the LFP pipeline) with `prefix`.
fn project(url: &str, prefix: &str, dir: &Path) -> Project {
    let settings = Settings::new(dir.join(format!("base{prefix}")));
    let db = Db::open(url).unwrap();
    db.set_prefix(prefix);
    ingest::prepare(&db, &settings).unwrap_or_else(|e| panic!("prefix {prefix:?}: {e}"));
    spyglass::pipelines::declare_all(&db).unwrap_or_else(|e| panic!("prefix {prefix:?}: {e}"));
    Project { db, settings }
}

/// Ingests one synthetic session named `stem`.
fn ingest_session(p: &Project, dir: &Path, stem: &str) {
    let src = dir.join(format!("{stem}.nwb"));
    let params = spyglass_nwb::synthetic::SyntheticParams {
        duration_s: 2.0,
        n_channels: 2,
        n_groups: 1,
        n_units: 1,
        ..Default::default()
    };
    spyglass_nwb::synthetic::write_session(&src, &params).unwrap();
    let reports = ingest::insert_sessions(
        &p.db,
        &p.settings,
        &[src],
        &IngestOptions::default(),
        &NoProgress,
    )
    .unwrap();
    assert!(
        reports
            .iter()
            .all(|r| r.status == ingest::FileStatus::Inserted),
        "{:?}",
        reports.iter().map(|r| &r.status).collect::<Vec<_>>()
    );
}

/// The session names stored in `schema`.`_session`, read by plain SQL.
fn sessions_in(root: &Db, schema: &str) -> Vec<String> {
    root.query_raw(
        &format!("SELECT nwb_file_name FROM `{schema}`.`_session` ORDER BY 1"),
        &[],
    )
    .unwrap()
    .into_iter()
    .map(|r| r[0].to_text())
    .collect()
}

fn schemas_of(root: &Db, prefix: &str) -> BTreeSet<String> {
    let all: Vec<String> = root
        .query_raw("SELECT schema_name FROM information_schema.schemata", &[])
        .unwrap()
        .into_iter()
        .map(|r| match &r[0] {
            SqlValue::Text(s) => s.clone(),
            other => other.to_text(),
        })
        .collect();
    all.into_iter()
        .filter(|s| s != "mysql" && !s.ends_with("_schema") && s != "sys")
        .filter(|s| {
            if prefix.is_empty() {
                !s.starts_with("sbx_")
            } else {
                s.starts_with(prefix)
            }
        })
        .map(|s| s.trim_start_matches(prefix).to_string())
        .collect()
}

fn both_orders(prefixed_first: bool) {
    init();
    let url = spyglass_testkit::fresh_mariadb();
    let tmp = spyglass_testkit::scratch_dir();
    let dir = tmp.path();
    let order: [(&str, &str); 2] = if prefixed_first {
        [("sbx_", "pre20240102"), ("", "plain20240101")]
    } else {
        [("", "plain20240101"), ("sbx_", "pre20240102")]
    };
    let mut projects = Vec::new();
    for (prefix, stem) in order {
        let p = project(&url, prefix, dir);
        ingest_session(&p, dir, stem);
        projects.push((prefix, stem, p));
    }
    let root = Db::open(&url).unwrap();
    // every schema of each project exists under its own name, and the same set
    let plain = schemas_of(&root, "");
    let prefixed = schemas_of(&root, "sbx_");
    assert!(
        plain.contains("common_session") && plain.contains("lfp_v1"),
        "{plain:?}"
    );
    assert_eq!(plain, prefixed);
    // each session is in its own project's schema only
    assert_eq!(
        sessions_in(&root, "common_session"),
        vec!["plain20240101_.nwb"]
    );
    assert_eq!(
        sessions_in(&root, "sbx_common_session"),
        vec!["pre20240102_.nwb"]
    );
    for (prefix, stem, p) in &projects {
        let info = p.db.table_info("common_session.Session").unwrap();
        assert_eq!(info.name.schema, format!("{prefix}common_session"));
        // a bare class name resolves within the project too
        assert_eq!(p.db.table_info("Session").unwrap().name, info.name);
        let rows =
            p.db.fetch(&p.db.table("common_session.Session").unwrap())
                .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].get("nwb_file_name").unwrap().python_str(),
            format!("{stem}_.nwb")
        );
        assert_eq!(
            p.db.count(&p.db.table("common_ephys.Electrode").unwrap())
                .unwrap(),
            2
        );
    }
}

/// Both orders, one after the other (two private servers installed at once in one
/// process can fail to install).
#[test]
fn mariadb_prefix_isolates_in_both_orders() {
    both_orders(false);
    both_orders(true);
}
