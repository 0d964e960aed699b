//! What goes into a dandiset: the local files to organise ([`DandiSource`]) and the
//! options of the run ([`DandiOptions`], [`Transfer`]).

use std::path::{Path, PathBuf};

/// Where a file to organise comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// A session's raw file or its Spyglass `_` copy (replaced by its link target).
    Raw,
    /// An analysis file made from a session.
    Analysis,
}

/// One local NWB file to put into the dandiset.
#[derive(Clone, Debug, PartialEq)]
pub struct DandiSource {
    /// The file on disk.
    pub path: PathBuf,
    /// Raw session file or analysis file.
    pub kind: SourceKind,
    /// The session's `nwb_file_name` (e.g. `rat120230622_.nwb`).
    pub nwb_file_name: String,
    /// Label used as `_desc-<x>` when names must be disambiguated (default for analysis
    /// files: the part of the file name after the session stem, e.g. `ABCDE12345`).
    pub description: Option<String>,
}

impl DandiSource {
    /// A raw session file (or its `_` copy).
    pub fn raw(path: impl Into<PathBuf>, nwb_file_name: &str) -> DandiSource {
        DandiSource {
            path: path.into(),
            kind: SourceKind::Raw,
            nwb_file_name: nwb_file_name.to_string(),
            description: None,
        }
    }

    /// An analysis file of session `nwb_file_name`, described by its random name suffix.
    pub fn analysis(path: impl Into<PathBuf>, nwb_file_name: &str) -> DandiSource {
        let path = path.into();
        let description = Some(analysis_label(&path, nwb_file_name));
        DandiSource {
            path,
            kind: SourceKind::Analysis,
            nwb_file_name: nwb_file_name.to_string(),
            description,
        }
    }
}

/// The part of an analysis file's stem after its session's stem (`lfp2023_ABC12.nwb` → `ABC12`).
fn analysis_label(path: &Path, nwb_file_name: &str) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let session = nwb_file_name.trim_end_matches(".nwb").trim_end_matches('_');
    let rest = if session.is_empty() {
        stem.as_str()
    } else {
        stem.strip_prefix(session)
            .map(|r| r.trim_start_matches('_'))
            .unwrap_or(&stem)
    };
    if rest.is_empty() {
        stem.clone()
    } else {
        rest.to_string()
    }
}

/// How organised files are placed in the dandiset folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transfer {
    /// Hard-link when source and folder share a filesystem, else copy (a hard link shares
    /// the bytes: never edit the organised file in place).
    HardLinkOrCopy,
    /// Always copy.
    Copy,
}

/// Options of [`organise_dandiset`](super::organise_dandiset); identifier, name and
/// description are written to `dandiset.yaml` when the folder has none (an existing one
/// is kept and checked).
#[derive(Clone, Debug, PartialEq)]
pub struct DandiOptions {
    /// `identifier` of `dandiset.yaml` (`DANDI:<6 digits>`).
    pub identifier: String,
    /// `name` of `dandiset.yaml`.
    pub name: String,
    /// `description` of `dandiset.yaml`.
    pub description: String,
    /// Always name the session (`_ses-`), as `dandi organize --required-field session_id`
    /// does; when false, `_ses-` appears only if the files hold several sessions.
    pub always_session: bool,
    /// Hard link or copy.
    pub transfer: Transfer,
    /// Plan names and check metadata without writing anything.
    pub dry_run: bool,
}

impl Default for DandiOptions {
    fn default() -> Self {
        DandiOptions {
            identifier: "DANDI:000000".into(),
            name: "Spyglass export".into(),
            description: "NWB files exported by spyglass-rs".into(),
            always_session: true,
            transfer: Transfer::HardLinkOrCopy,
            dry_run: false,
        }
    }
}
