//! [`organise_dandiset`]: resolves and inspects every source, checks DANDI's rules on
//! each and across the set, names the files and places them in the dandiset folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::Utc;

use super::dandiset_yaml::{dandiset_yaml, is_dandiset_identifier};
use super::inspect::{resolve, Inspected};
use super::place::place;
use super::report::problem;
use super::{
    assign_dandi_paths, metadata_problems, modalities, DandiOptions, DandiReport, DandiSource,
    NamingRecord, OrganisedFile, Placed, Problem, Rule,
};
use crate::error::{Error, Result};

/// A problem of source `index` (`usize::MAX` for the dandiset itself), for sorting.
pub(super) type Indexed = (usize, Problem);

/// A resolved file with the sources that lead to it.
struct Entry {
    /// Index of the first source.
    first: usize,
    /// Indices of every source resolving to this file.
    sources: Vec<usize>,
    file: PathBuf,
    inspected: Inspected,
}

/// Organises `files` into the dandiset folder `out_dir` (created if needed): writes
/// `dandiset.yaml` and places every file that can be named under its DANDI path.
/// Broken rules never stop the run; they are listed in the report. Errors are for
/// the folder itself (cannot create, cannot write).
pub fn organise_dandiset(
    files: &[DandiSource],
    out_dir: &Path,
    opts: &DandiOptions,
) -> Result<DandiReport> {
    let mut problems: Vec<Indexed> = vec![];
    let mut entries: Vec<Entry> = vec![];
    for (i, src) in files.iter().enumerate() {
        match resolve(&src.path) {
            Err(p) => problems.push((i, p)),
            Ok((file, inspected)) => {
                let key = std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
                let existing = entries.iter_mut().find(|e| {
                    std::fs::canonicalize(&e.file).unwrap_or_else(|_| e.file.clone()) == key
                });
                match existing {
                    Some(e) => e.sources.push(i),
                    None => entries.push(Entry {
                        first: i,
                        sources: vec![i],
                        file,
                        inspected,
                    }),
                }
            }
        }
    }

    // metadata rules, per file
    let now = Utc::now();
    for e in &entries {
        let src = &files[e.first].path;
        for (rule, value, message) in metadata_problems(&e.inspected.metadata, now) {
            let message = if e.file != *src {
                format!("{message} (in link target {})", e.file.display())
            } else {
                message
            };
            problems.push((e.first, problem(src, rule, value, message)));
        }
    }

    // identifiers unique across the set
    let mut by_id: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (k, e) in entries.iter().enumerate() {
        if let Some(id) = e.inspected.metadata.identifier.as_deref() {
            if !id.trim().is_empty() {
                by_id.entry(id).or_default().push(k);
            }
        }
    }
    for (id, ks) in by_id.iter().filter(|(_, ks)| ks.len() > 1) {
        for &k in ks {
            let others: Vec<String> = ks
                .iter()
                .filter(|&&o| o != k)
                .map(|&o| files[entries[o].first].path.display().to_string())
                .collect();
            let e = &entries[k];
            problems.push((
                e.first,
                problem(
                    &files[e.first].path,
                    Rule::UniqueIdentifier,
                    Some(id.to_string()),
                    format!("the identifier is also used by {}", others.join(", ")),
                ),
            ));
        }
    }

    // names, for files with a subject id
    let named: Vec<usize> = (0..entries.len())
        .filter(|&k| {
            entries[k]
                .inspected
                .metadata
                .subject
                .as_ref()
                .and_then(|s| s.subject_id.as_deref())
                .is_some_and(|id| !id.trim().is_empty())
        })
        .collect();
    let records: Vec<NamingRecord> = named
        .iter()
        .map(|&k| {
            let e = &entries[k];
            let m = &e.inspected.metadata;
            NamingRecord {
                subject_id: m.subject.as_ref().and_then(|s| s.subject_id.clone()),
                session_id: m.session_id.clone(),
                session_start_time: e.inspected.start,
                modalities: modalities(e.inspected.scan.types.iter().map(String::as_str)),
                description: files[e.first].description.clone(),
                probe_ids: e.inspected.probe_ids.clone(),
                object_id: e.inspected.object_id.clone(),
            }
        })
        .collect();
    let paths = assign_dandi_paths(&records, opts.always_session);

    if !is_dandiset_identifier(&opts.identifier) {
        problems.push((
            usize::MAX,
            problem(
                &out_dir.join("dandiset.yaml"),
                Rule::DandisetYaml,
                Some(opts.identifier.clone()),
                "the dandiset identifier must read `DANDI:` and six digits",
            ),
        ));
    }
    let wrote_yaml = if opts.dry_run {
        false
    } else {
        std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
        dandiset_yaml(out_dir, opts, &mut problems)?
    };

    let mut organised: Vec<(usize, OrganisedFile)> = vec![];
    for (&k, path) in named.iter().zip(paths) {
        let e = &entries[k];
        let src = &files[e.first].path;
        let dandi_path = match path {
            Ok(p) => p,
            Err(m) => {
                problems.push((e.first, problem(src, Rule::UniquePath, None, m)));
                continue;
            }
        };
        let dest = out_dir.join(&dandi_path);
        // image series media must be found relative to the organised file
        let dest_dir = dest.parent().unwrap_or(out_dir);
        for (series, f) in &e.inspected.scan.media {
            if f.contains("://") {
                continue;
            }
            let p = Path::new(f);
            let found = if p.is_absolute() {
                p.exists()
            } else {
                dest_dir.join(p).exists()
            };
            if !found {
                problems.push((
                    e.first,
                    problem(
                        src,
                        Rule::ExternalFile,
                        Some(f.clone()),
                        format!(
                            "{series} refers to this media file, which will not be found from \
                             {}; copy it there",
                            dest_dir.display()
                        ),
                    ),
                ));
            }
        }
        let placed = if opts.dry_run {
            Placed::Planned
        } else {
            match place(&e.file, &dest, opts.transfer)? {
                Ok(p) => p,
                Err(m) => {
                    problems.push((
                        e.first,
                        problem(src, Rule::Destination, Some(dandi_path.clone()), m),
                    ));
                    continue;
                }
            }
        };
        for &i in &e.sources {
            organised.push((
                i,
                OrganisedFile {
                    source: files[i].path.clone(),
                    file: e.file.clone(),
                    dandi_path: dandi_path.clone(),
                    kind: files[i].kind,
                    nwb_file_name: files[i].nwb_file_name.clone(),
                    placed,
                },
            ));
        }
    }
    organised.sort_by_key(|(i, _)| *i);
    problems.sort_by_key(|(i, p)| (*i, p.rule));
    Ok(DandiReport {
        dandiset_dir: out_dir.to_path_buf(),
        wrote_dandiset_yaml: wrote_yaml,
        files: organised.into_iter().map(|(_, o)| o).collect(),
        problems: problems.into_iter().map(|(_, p)| p).collect(),
    })
}
