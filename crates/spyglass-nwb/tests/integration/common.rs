//! Shared helpers of the integration tests: Python oracles and validators.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// Call first in every test: disables HDF5 file locking before any file is opened
/// (see [`spyglass_testkit::disable_hdf5_file_locking`]).
pub fn init() {
    spyglass_testkit::disable_hdf5_file_locking();
}

/// Runs `pynwb-validate` on `path`; returns (success, output).
pub fn pynwb_validate(path: &Path) -> (bool, String) {
    let bin = spyglass_testkit::workspace_root().join(".venv/bin/pynwb-validate");
    let out = Command::new(bin)
        .arg(path)
        .output()
        .expect("run pynwb-validate");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.success() && !text.contains("found the following errors"),
        text,
    )
}

/// Runs nwbinspector on `path`; returns the report text.
pub fn nwbinspector(path: &Path) -> String {
    let bin = spyglass_testkit::workspace_root().join(".venv/bin/nwbinspector");
    let out = Command::new(bin)
        .arg(path)
        .output()
        .expect("run nwbinspector");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Asserts nwbinspector reports no CRITICAL, BEST_PRACTICE_VIOLATION or PYNWB_VALIDATION findings.
pub fn assert_inspector_clean(path: &Path) {
    let report = nwbinspector(path);
    for bad in [
        "CRITICAL",
        "BEST_PRACTICE_VIOLATION",
        "PYNWB_VALIDATION",
        "ERROR",
    ] {
        let found = report.lines().any(|l| {
            let t = l.trim();
            // summary lines look like "  3 - CRITICAL"; section headers "1  CRITICAL"
            t.ends_with(&format!("- {bad}")) || t.split_whitespace().nth(1) == Some(bad)
        });
        assert!(
            !found,
            "nwbinspector reported {bad} for {}:\n{report}",
            path.display()
        );
    }
}

/// Asserts pynwb-validate accepts `path`.
pub fn assert_valid(path: &Path) {
    let (ok, text) = pynwb_validate(path);
    assert!(ok, "pynwb-validate rejected {}:\n{text}", path.display());
}

/// Parses the JSON the oracle printed.
pub fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s.trim())
        .unwrap_or_else(|e| panic!("oracle printed invalid JSON ({e}): {s}"))
}

/// Asserts two float slices are equal within `tol`.
pub fn assert_close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "{what}[{i}]: {x} != {y}"
        );
    }
}

/// f64 values of a JSON array.
pub fn f64s(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}
