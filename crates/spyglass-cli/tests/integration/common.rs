//! Helpers shared by the command-line tests: running the CLI on a folder's
//! database, the text a run printed, and the files a run left in a folder.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

/// What a run printed: its stdout followed by its stderr (lossy UTF-8).
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Every file under `dir`, in its sub-folders too (folders themselves left out);
/// a folder that cannot be read contributes nothing.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files
}

/// Runs the CLI in `dir` on its `cli.db` (SQLite), with `dir/base` as the base
/// directory, as `user` when given.
pub fn run_as(dir: &Path, user: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_spyglass"));
    cmd.args([
        "--db",
        &format!("sqlite:///{}", dir.join("cli.db").display()),
    ])
    .args(args)
    .env("SPYGLASS_BASE_DIR", dir.join("base"))
    .env("HDF5_USE_FILE_LOCKING", "FALSE")
    .current_dir(dir);
    if let Some(u) = user {
        cmd.env("SPYGLASS_USER", u);
    }
    cmd.output().expect("run spyglass")
}

/// [`run_as`] without a user.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    run_as(dir, None, args)
}

/// Its stdout; fails the test with its stderr when the command fails.
pub fn ok_output(args: &[&str], out: &Output) -> String {
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "spyglass {args:?} failed:\n{e}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// [`run`], its stdout; fails the test when the command fails.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    ok_output(args, &run(dir, args))
}
