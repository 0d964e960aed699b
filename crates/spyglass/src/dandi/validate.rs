//! Running the `dandi` tool itself: [`find_dandi`] and [`dandi_validate`], which parses
//! the ids of the issues it reports.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};

/// The outcome of `dandi validate` on a dandiset folder.
#[derive(Clone, Debug, PartialEq)]
pub struct DandiValidation {
    /// Exit status 0 and "No errors found".
    pub passed: bool,
    /// The exit code (`None` when killed by a signal).
    pub exit_code: Option<i32>,
    /// The ids of reported issues (`NWBI.check_subject_sex`, `DANDI.NON_DANDI_FILENAME`,
    /// `pynwb.<object>: <message>`, ...), sorted.
    pub ids: Vec<String>,
    /// Standard output and error, as printed.
    pub output: String,
}

/// The `dandi` executable: `$SPYGLASS_DANDI` if set, else `dandi` on `PATH`.
pub fn find_dandi() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SPYGLASS_DANDI").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("dandi"))
        .find(|p| p.is_file())
}

/// Runs `dandi validate DIR` offline (`DANDI_NO_ET=1`) with the given executable.
pub fn dandi_validate(dandi: &Path, dir: &Path) -> Result<DandiValidation> {
    let out = Command::new(dandi)
        .arg("validate")
        .arg(dir)
        .env("DANDI_NO_ET", "1")
        .output()
        .map_err(|e| Error::io(dandi, e))?;
    let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    // issue lines read `[<id>] <path> — <message>`; ids may hold spaces (pynwb's do)
    let mut ids: Vec<String> = output
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix('[')?;
            let head = rest.split(" — ").next().unwrap_or(rest);
            let end = head.rfind("] ")?;
            Some(head[..end].to_string())
        })
        .collect();
    ids.sort();
    ids.dedup();
    Ok(DandiValidation {
        passed: out.status.success() && output.contains("No errors found"),
        exit_code: out.status.code(),
        ids,
        output,
    })
}
