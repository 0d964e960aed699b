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

/// What Python's XML parser reads in each panel (`<g class="panel">`) of an SVG
/// picture: its title, polylines, their points and stroke colours, shaded spans
/// and arrows.
#[derive(Debug, serde::Deserialize)]
pub struct SvgPanel {
    /// The panel's title (its first text).
    pub title: String,
    /// Number of polylines.
    pub polylines: usize,
    /// Points over all polylines.
    pub points: usize,
    /// Distinct polyline stroke colours.
    pub colors: Vec<String>,
    /// Shaded spans (`class="span"`).
    pub spans: usize,
    /// Arrows (`class="arrow"`).
    pub arrows: usize,
}

/// The panels of SVG file `path`, as Python's `xml.etree` parses them.
pub fn svg_panels(path: &Path) -> Vec<SvgPanel> {
    let code = r#"
import json, sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
out = []
for g in root.iter(ns + "g"):
    if g.get("class") != "panel":
        continue
    lines = list(g.iter(ns + "polyline"))
    out.append(dict(
        title=next(g.iter(ns + "text")).text,
        polylines=len(lines),
        points=sum(len(p.get("points").split()) for p in lines),
        colors=sorted({p.get("stroke") for p in lines}),
        spans=sum(1 for r in g.iter(ns + "rect") if r.get("class") == "span"),
        arrows=sum(1 for l in g.iter(ns + "line") if l.get("class") == "arrow"),
    ))
print(json.dumps(out))
"#;
    let out = spyglass_testkit::run_python(code, &[path.to_str().expect("utf-8 path")]);
    serde_json::from_str(out.lines().last().unwrap_or_default()).expect("panels as JSON")
}

/// Writes `dir/<file_name>` with the Spyglass-shaped session fixture
/// (`crates/spyglass/tests/py/make_spyglass_file.py`, pynwb) in variant `variant`
/// (`leds`, `leds_long`, `appendix`, `extras`, …); returns its path.
pub fn spyglass_file(dir: &Path, file_name: &str, variant: &str) -> PathBuf {
    let script =
        spyglass_testkit::workspace_root().join("crates/spyglass/tests/py/make_spyglass_file.py");
    let code = std::fs::read_to_string(script).expect("the fixture script");
    let file = dir.join(file_name);
    spyglass_testkit::run_python(&code, &[file.to_str().expect("a UTF-8 path"), variant]);
    file
}
