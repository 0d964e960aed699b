//! Issue 13, case 11: `spyglass jobs --clear-errors` / `--clear-stale` without a target
//! act on the project's schemas only (under a prefix: the prefixed ones; never another
//! project's `~jobs`), and `spyglass jobs lfp_v1` finds the prefixed schema. On a fresh
//! private MariaDB, since the other project uses the real unprefixed names.

use spyglass_db::{Db, FullName, Row, Value};
use std::path::Path;
use std::process::Command;

fn spyglass(dir: &Path, url: &str, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_spyglass"))
        .args(["--db", url])
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("SPYGLASS_BASE_DIR", dir.join("base"))
        .env_remove("DJ_HOST")
        .env_remove("DJ_USER")
        .env_remove("DJ_PASS")
        .output()
        .unwrap();
    let t = crate::common::text(&o);
    assert!(o.status.success(), "spyglass {args:?}: {t}");
    t
}

fn error_jobs(db: &Db, schema: &str) -> usize {
    db.jobs(schema, None)
        .unwrap()
        .iter()
        .filter(|r| r.get("status").map(Value::python_str).as_deref() == Some("error"))
        .count()
}

#[test]
fn mariadb_jobs_act_on_the_projects_schemas_only() {
    let url = spyglass_testkit::fresh_mariadb();
    let tmp = spyglass_testkit::scratch_dir();
    let dir = tmp.path();
    let key = Row::from_pairs([("nwb_file_name", Value::from("a_.nwb"))]);
    // another project (no prefix) and another lab's schema, each with an error job
    let other = Db::open(&url).unwrap();
    for schema in ["lfp_v1", "elsewhere_pipeline"] {
        other.create_schema(schema).unwrap();
        other
            .error_job(&FullName::new(schema, "__l_f_p_v1"), &key, "theirs", "")
            .unwrap();
    }
    // this project, prefixed sbx_
    let ours = Db::open(&url).unwrap();
    ours.set_prefix("sbx_");
    ours.create_schema("lfp_v1").unwrap();
    ours.error_job(&FullName::new("sbx_lfp_v1", "__l_f_p_v1"), &key, "ours", "")
        .unwrap();
    std::fs::write(
        dir.join("dj_local_conf.json"),
        r#"{"database.use_tls": false, "custom": {"database.prefix": "sbx_"}}"#,
    )
    .unwrap();
    let listed = spyglass(dir, &url, &["jobs", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(rows[0]["schema"], "sbx_lfp_v1");
    assert_eq!(rows[0]["error_message"], "ours");
    let one = spyglass(dir, &url, &["jobs", "lfp_v1", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(rows[0]["schema"], "sbx_lfp_v1", "{one}");
    let out = spyglass(dir, &url, &["jobs", "--clear-errors"]);
    assert!(out.contains("sbx_lfp_v1: cleared 1 error jobs"), "{out}");
    assert!(
        !out.contains("elsewhere") && !out.contains("\nlfp_v1"),
        "{out}"
    );
    spyglass(dir, &url, &["jobs", "--clear-stale"]);
    let root = Db::open(&url).unwrap();
    assert_eq!(error_jobs(&root, "sbx_lfp_v1"), 0);
    assert_eq!(
        error_jobs(&root, "lfp_v1"),
        1,
        "another project's jobs stay"
    );
    assert_eq!(error_jobs(&root, "elsewhere_pipeline"), 1);

    // without a prefix: the schemas spyglass-rs declares, not another lab's
    std::fs::remove_file(dir.join("dj_local_conf.json")).unwrap();
    std::fs::write(
        dir.join("dj_local_conf.json"),
        r#"{"database.use_tls": false}"#,
    )
    .unwrap();
    let out = spyglass(dir, &url, &["jobs", "--clear-errors"]);
    assert!(
        out.contains("lfp_v1: cleared 1 error jobs") && !out.contains("elsewhere"),
        "{out}"
    );
    assert_eq!(error_jobs(&root, "lfp_v1"), 0);
    assert_eq!(error_jobs(&root, "elsewhere_pipeline"), 1);
}
