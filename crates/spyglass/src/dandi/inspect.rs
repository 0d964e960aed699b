//! Reading one source file: the walk over its objects (neurodata types, external link
//! targets, broken links, image series media), its DANDI metadata, and [`resolve`],
//! which replaces a file holding external links by their one self-contained target.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use spyglass_nwb::{NodeLink, NwbError, NwbFile, ObjectKind, Visit, WalkOptions};

use super::report::problem;
use super::{DandiMetadata, Problem, Rule};

/// What a walk over a file's groups found.
#[derive(Default)]
pub(super) struct Scan {
    /// Neurodata types of every group.
    pub(super) types: BTreeSet<String>,
    /// Files that external links point into.
    external: BTreeSet<PathBuf>,
    /// Members whose link cannot be resolved.
    broken: Vec<String>,
    /// `external_file` entries of image series: (series path, entry).
    pub(super) media: Vec<(String, String)>,
}

/// Meets every object of the file once, following soft and external links; objects
/// living in another file are recorded as external link targets and not entered.
fn scan(nwb: &NwbFile) -> std::result::Result<Scan, String> {
    let mut out = Scan::default();
    let opts = WalkOptions {
        follow_soft: true,
        follow_external: true,
        once_per_object: true,
    };
    nwb.visit(opts, |node| {
        if *node.link() == NodeLink::Start {
            return Ok(Visit::Enter);
        }
        let path = node.path().to_string();
        if node.is_broken() {
            out.broken.push(path);
            return Ok(Visit::Skip);
        }
        if node.in_other_file() {
            match node.holding_file() {
                Ok(f) => {
                    out.external.insert(std::fs::canonicalize(&f).unwrap_or(f));
                }
                Err(_) => out.broken.push(path),
            }
            return Ok(Visit::Skip);
        }
        let Some(kind) = node.kind() else {
            return Ok(Visit::Skip);
        };
        let Ok(attributes) = node.attributes() else {
            out.broken.push(path);
            return Ok(Visit::Skip);
        };
        if kind != ObjectKind::Group {
            return Ok(Visit::Skip);
        }
        let ty = attributes
            .get("neurodata_type")
            .and_then(|d| d.as_str())
            .unwrap_or_default()
            .to_string();
        if ty.ends_with("ImageSeries") || ty == "OpticalSeries" {
            let ef = format!("{path}/external_file");
            if nwb.exists(&ef) {
                if let Some(files) = nwb.read_data(&ef).ok().and_then(|d| d.texts()) {
                    out.media
                        .extend(files.into_iter().map(|f| (path.clone(), f)));
                }
            }
        }
        if !ty.is_empty() {
            out.types.insert(ty);
        }
        Ok(Visit::Enter)
    })
    .map_err(|e| e.to_string())?;
    Ok(out)
}

fn text(nwb: &NwbFile, path: &str) -> Option<String> {
    if !nwb.exists(path) {
        return None;
    }
    nwb.read_data(path)
        .ok()
        .and_then(|d| d.texts())
        .and_then(|t| t.into_iter().next())
}

/// Everything organising needs from one file.
pub(super) struct Inspected {
    pub(super) metadata: DandiMetadata,
    pub(super) start: Option<DateTime<FixedOffset>>,
    pub(super) object_id: Option<String>,
    pub(super) probe_ids: Vec<String>,
    pub(super) scan: Scan,
}

fn inspect(nwb: &NwbFile, scan: Scan) -> std::result::Result<Inspected, String> {
    let session_start_time = text(nwb, "/session_start_time");
    let metadata = DandiMetadata {
        identifier: text(nwb, "/identifier"),
        session_description: text(nwb, "/session_description"),
        session_start_time: session_start_time.clone(),
        session_id: text(nwb, "/general/session_id"),
        subject: nwb.subject().map_err(|e| e.to_string())?,
    };
    let object_id = nwb.attributes("/").ok().and_then(|a| {
        a.get("object_id")
            .and_then(|d| d.as_str().map(str::to_string))
    });
    let probe_ids = nwb
        .devices()
        .unwrap_or_default()
        .iter()
        .filter_map(|d| d.attributes.get("probe_id"))
        .filter_map(|v| {
            v.as_str()
                .map(str::to_string)
                .or_else(|| v.as_i64().map(|i| i.to_string()))
                .or_else(|| v.as_f64().map(|x| format!("{x:?}")))
        })
        .collect();
    Ok(Inspected {
        start: session_start_time
            .as_deref()
            .and_then(spyglass_nwb::parse_datetime),
        metadata,
        object_id,
        probe_ids,
        scan,
    })
}

/// The rule an error of `NwbFile::open` breaks (a missing required dataset has its own).
fn open_problem(path: &Path, e: &NwbError) -> Problem {
    let rule = match e {
        NwbError::Missing { object, .. } => match object.as_str() {
            "/identifier" => Rule::Identifier,
            "/session_description" => Rule::SessionDescription,
            "/session_start_time" => Rule::SessionStartTime,
            _ => Rule::Readable,
        },
        _ => Rule::Readable,
    };
    problem(path, rule, None, e.to_string())
}

/// The file to organise for `source` (itself, or the one file its external links point
/// into) with what it holds.
pub(super) fn resolve(source: &Path) -> std::result::Result<(PathBuf, Inspected), Problem> {
    let nwb = NwbFile::open(source).map_err(|e| open_problem(source, &e))?;
    let unreadable = |m: String| problem(source, Rule::Readable, None, m);
    let found = scan(&nwb).map_err(unreadable)?;
    if found.external.is_empty() && found.broken.is_empty() {
        let inspected = inspect(&nwb, found).map_err(unreadable)?;
        return Ok((source.to_path_buf(), inspected));
    }
    let self_contained = |m: String, v: Option<String>| problem(source, Rule::SelfContained, v, m);
    if !found.broken.is_empty() {
        return Err(self_contained(
            format!(
                "links that cannot be followed (target missing?) at {}; DANDI needs a \
                 self-contained file",
                found.broken.join(", ")
            ),
            None,
        ));
    }
    let targets: Vec<String> = found
        .external
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    if found.external.len() > 1 {
        return Err(self_contained(
            format!(
                "external links into {} files ({}); DANDI needs a self-contained file",
                targets.len(),
                targets.join(", ")
            ),
            None,
        ));
    }
    let target = found.external.into_iter().next().unwrap_or_default();
    let own_id = text(&nwb, "/identifier");
    drop(nwb);
    let t = NwbFile::open(&target).map_err(|e| {
        self_contained(
            format!("its external links point into a file that cannot be read: {e}"),
            Some(target.display().to_string()),
        )
    })?;
    let t_scan = scan(&t).map_err(|m| {
        self_contained(
            format!("cannot read link target: {m}"),
            Some(target.display().to_string()),
        )
    })?;
    if !t_scan.external.is_empty() || !t_scan.broken.is_empty() {
        return Err(self_contained(
            "the link target holds external links itself".into(),
            Some(target.display().to_string()),
        ));
    }
    let t_id = text(&t, "/identifier");
    if t_id != own_id {
        return Err(self_contained(
            format!(
                "external links point into a different NWB file (identifier {:?}, this file's \
                 is {:?}); DANDI needs a self-contained file",
                t_id.unwrap_or_default(),
                own_id.unwrap_or_default()
            ),
            Some(target.display().to_string()),
        ));
    }
    let inspected = inspect(&t, t_scan).map_err(|m| {
        self_contained(
            format!("cannot read link target: {m}"),
            Some(target.display().to_string()),
        )
    })?;
    Ok((target, inspected))
}
