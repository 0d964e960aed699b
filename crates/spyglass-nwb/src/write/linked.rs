//! The ingest copy `<stem>_.nwb` (as Spyglass's `insert_sessions` makes it): every
//! object of the raw file is copied, except the bulk data — each acquisition
//! ElectricalSeries (also inside LFP-like containers) and the `analog` processing
//! module — which become HDF5 external links to the same paths in the raw file.

use std::path::{Path, PathBuf};

use hdf5::Group;

use crate::error::{NwbError, Result};
use crate::h5::{self, join, Link};
use crate::model::ObjectKind;
use crate::read::NwbFile;
use crate::walk::{visit_tree, Visit, WalkOptions};
use crate::write::analysis::copy;
use crate::write::W;

/// The link target name stored in the copy: relative to the copy's directory when
/// the raw file sits there (or below), else absolute.
fn link_target(raw: &Path, copy: &Path) -> Result<String> {
    let raw_abs = std::fs::canonicalize(raw).map_err(|e| NwbError::Io {
        path: raw.to_path_buf(),
        source: e,
    })?;
    let dir = copy
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir_abs = std::fs::canonicalize(dir).map_err(|e| NwbError::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    let s = match raw_abs.strip_prefix(&dir_abs) {
        Ok(rel) => rel.to_string_lossy().into_owned(),
        Err(_) => raw_abs.to_string_lossy().into_owned(),
    };
    Ok(s)
}

fn is_electrical_series(f: &NwbFile, path: &str) -> Result<bool> {
    let o = f.object(path)?;
    Ok(o.kind == crate::model::ObjectKind::Group
        && (o.neurodata_type == "ElectricalSeries"
            || o.neurodata_type.ends_with("ElectricalSeries")))
}

/// Writes `copy` from `raw`: metadata copied, bulk datasets replaced by external links into `raw`.
/// Returns the paths that were linked.
pub fn write_linked_copy(
    raw: impl AsRef<Path>,
    copy_path: impl AsRef<Path>,
) -> Result<Vec<String>> {
    let raw_path = raw.as_ref();
    let copy_path = copy_path.as_ref();
    let nwb = NwbFile::open(raw_path)?;
    let target = link_target(raw_path, copy_path)?;
    let file = crate::h5::create(copy_path)?;
    let w = W {
        file,
        path: PathBuf::from(copy_path),
    };
    let src: &Group = nwb.hdf5();
    let dst = w.root();
    let mut linked = vec![];

    // Root attributes (object ids are kept: the copy holds the same objects).
    for (name, value) in h5::attrs(src, raw_path, "/")? {
        if let Some(s) = value.as_str() {
            w.attr_str(dst, &name, s)?;
        }
    }
    for (name, link) in h5::members(src, raw_path, "/")? {
        match link {
            Link::Soft(t) => dst.link_soft(&t, &name).map_err(w.e(&name))?,
            Link::External { file, object } => dst
                .link_external(&file, &object, &name)
                .map_err(w.e(&name))?,
            Link::Hard if name == "acquisition" => {
                let g = w.ensure_group("/acquisition")?;
                copy_attrs(&w, src, "/acquisition", &g, raw_path)?;
                for (child, clink) in h5::members(
                    &src.group("acquisition").map_err(w.e("/acquisition"))?,
                    raw_path,
                    "/acquisition",
                )? {
                    let p = join("/acquisition", &child);
                    if clink != Link::Hard {
                        relink(&w, &g, &child, &clink)?;
                    } else if is_electrical_series(&nwb, &p)? {
                        g.link_external(&target, &p, &child).map_err(w.e(&p))?;
                        linked.push(p);
                    } else if has_electrical_series(&nwb, &p)? {
                        // An LFP-like container: keep the group, link its series.
                        let (cg, _) = (g.create_group(&child).map_err(w.e(&p))?, ());
                        copy_attrs(&w, src, &p, &cg, raw_path)?;
                        let sg = src.group(&p).map_err(w.e(&p))?;
                        for (gc, gclink) in h5::members(&sg, raw_path, &p)? {
                            let gp = join(&p, &gc);
                            if gclink == Link::Hard && is_electrical_series(&nwb, &gp)? {
                                cg.link_external(&target, &gp, &gc).map_err(w.e(&gp))?;
                                linked.push(gp);
                            } else if gclink == Link::Hard {
                                copy(&sg, &cg, &gc, &w.path)?;
                            } else {
                                relink(&w, &cg, &gc, &gclink)?;
                            }
                        }
                    } else {
                        copy(
                            &src.group("acquisition").map_err(w.e("/acquisition"))?,
                            &g,
                            &child,
                            &w.path,
                        )?;
                    }
                }
            }
            Link::Hard if name == "processing" => {
                let g = w.ensure_group("/processing")?;
                copy_attrs(&w, src, "/processing", &g, raw_path)?;
                let sg = src.group("processing").map_err(w.e("/processing"))?;
                for (m, mlink) in h5::members(&sg, raw_path, "/processing")? {
                    let p = join("/processing", &m);
                    if mlink != Link::Hard {
                        relink(&w, &g, &m, &mlink)?;
                    } else if m == "analog" {
                        g.link_external(&target, &p, &m).map_err(w.e(&p))?;
                        linked.push(p);
                    } else {
                        copy(&sg, &g, &m, &w.path)?;
                    }
                }
            }
            Link::Hard => copy(src, dst, &name, &w.path)?,
        }
    }
    let mut dropped = vec![];
    repair_local(&w, nwb.hdf5(), &mut dropped)?;
    if dst.link_exists("specifications") {
        w.attr_ref(dst, ".specloc", "/specifications")?;
    }
    w.file.flush().map_err(w.e("/"))?;
    Ok(linked)
}

fn has_electrical_series(f: &NwbFile, path: &str) -> Result<bool> {
    if f.object(path)?.kind != crate::model::ObjectKind::Group {
        return Ok(false);
    }
    for c in f.children(path)? {
        if is_electrical_series(f, &c.path)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn relink(w: &W, g: &Group, name: &str, link: &Link) -> Result<()> {
    match link {
        Link::Soft(t) => g.link_soft(t, name).map_err(w.e(name)),
        Link::External { file, object } => g.link_external(file, object, name).map_err(w.e(name)),
        Link::Hard => Ok(()),
    }
}

fn copy_attrs(w: &W, src: &Group, path: &str, dst: &Group, raw: &Path) -> Result<()> {
    let sg = src.group(path).map_err(w.e(path))?;
    for (name, value) in h5::attrs(&sg, raw, path)? {
        if let Some(s) = value.as_str() {
            w.attr_str(dst, &name, s)?;
        }
    }
    Ok(())
}

/// Reference repair that skips externally linked subtrees (their references live in the
/// raw file): `/acquisition` and `/processing` are entered, every other group below the
/// root is repaired whole.
fn repair_local(w: &W, src: &hdf5::File, dropped: &mut Vec<String>) -> Result<()> {
    visit_tree(
        &w.path,
        w.root(),
        "/",
        WalkOptions::default(),
        &mut |node| {
            let entered = node.depth() == 0
                || (node.depth() == 1 && matches!(node.name(), "acquisition" | "processing"));
            if entered {
                return Ok(Visit::Enter);
            }
            if node.kind() == Some(ObjectKind::Group) {
                w.repair_references(src, node.path(), dropped)?;
            }
            Ok(Visit::Skip)
        },
    )
}
