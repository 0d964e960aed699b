//! Test support shared by the spyglass-rs crates.
//!
//! Owns the things every interop test needs and none should rewrite: locating the
//! Python oracle environment (`.venv`, built by `scripts/setup.sh`) and running a
//! Python snippet in it with a clear failure when the oracle is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(Path::parent)
        .expect("crate lives in crates/<name>")
        .to_path_buf()
}

/// Path of the oracle interpreter: `$SPYGLASS_PYTHON`, else `<root>/.venv/bin/python`.
///
/// Panics with instructions when it is missing: the interop tests are part of the
/// suite and must not pass silently without their oracle.
pub fn python() -> PathBuf {
    if let Ok(p) = std::env::var("SPYGLASS_PYTHON") {
        return PathBuf::from(p);
    }
    let p = workspace_root().join(".venv/bin/python");
    assert!(
        p.exists(),
        "the Python oracle environment is missing ({}); run scripts/setup.sh first",
        p.display()
    );
    p
}

/// Runs `code` with the oracle interpreter, passing `args`; returns its stdout.
///
/// Panics with the script's stderr when it exits non-zero.
pub fn run_python(code: &str, args: &[&str]) -> String {
    let out = Command::new(python())
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .expect("failed to start the Python oracle");
    assert!(
        out.status.success(),
        "python oracle failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("oracle printed non-UTF-8")
}

/// A fresh scratch directory, removed when dropped.
pub fn scratch_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("spyglass-test-")
        .tempdir()
        .expect("create scratch dir")
}
