//! Helpers shared by the command-line tests: the text a run printed, and the files
//! a run left in a folder.
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
