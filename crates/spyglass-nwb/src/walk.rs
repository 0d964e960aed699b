//! The one walk over an NWB file's HDF5 tree. [`NwbFile::visit`] calls a visitor on
//! every object reached from a start group, depth first in name order, each as a
//! [`Node`]: its path, how it was linked ([`NodeLink`]), whether it is a group or a
//! dataset, and its attributes, `neurodata_type` and values on demand. The visitor
//! decides whether a group is entered ([`Visit`]); [`WalkOptions`] decide which links
//! are followed and whether an object reached by several links is met once. Every
//! reader or writer that needs more than one level of a file goes through here.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use hdf5::{Dataset, Group, Location, LocationType};

use crate::data::Data;
use crate::error::{NwbError, Result};
use crate::h5::{self, herr, join, Link};
use crate::model::ObjectKind;
use crate::read::NwbFile;

/// Groups nested deeper than this are an error (real NWB files nest a handful deep).
pub const MAX_DEPTH: usize = 64;

/// Which links a walk follows and how often it meets an object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WalkOptions {
    /// Resolve soft links and enter the groups they point to.
    pub follow_soft: bool,
    /// Resolve external links and enter the groups they point to (in the other file).
    pub follow_external: bool,
    /// Meet each object once, however many links reach it (later links are not reported).
    pub once_per_object: bool,
}

/// How the walk reached a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeLink {
    /// The group the walk started from.
    Start,
    /// A hard link.
    Hard,
    /// A soft link to `target`, a path in the same file.
    Soft {
        /// The path the link names.
        target: String,
    },
    /// An external link to `object` in `file` (resolved against the linking file's folder).
    External {
        /// The target file, resolved as HDF5 resolves it.
        file: PathBuf,
        /// The path of the object inside the target file.
        object: String,
    },
}

/// What the visitor wants done with a group node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visit {
    /// Walk into the group (ignored for datasets and for links not followed).
    Enter,
    /// Do not walk into it.
    Skip,
}

/// What a followed link led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reached {
    /// The link was not followed (soft or external, by the options).
    NotFollowed,
    /// Following the link failed: missing target file or object.
    Broken,
    /// An object of this HDF5 type, in the walk's file or another.
    Object {
        kind: LocationType,
        other_file: bool,
    },
}

/// One object met on a walk. Attributes and values are read only when asked for.
pub struct Node<'a> {
    path: String,
    name: String,
    depth: usize,
    link: NodeLink,
    reached: Reached,
    /// The group holding the link, or `None` for the start group itself.
    parent: Option<&'a Group>,
    start: &'a Group,
    file: &'a Path,
}

impl std::fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("path", &self.path)
            .field("link", &self.link)
            .field("kind", &self.kind())
            .finish()
    }
}

impl<'a> Node<'a> {
    /// The object's path in the walked file (`/acquisition/e-series`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The link's name in its parent group (empty for the start group).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Levels below the start group (the start group is 0).
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// How the walk reached this node.
    pub fn link(&self) -> &NodeLink {
        &self.link
    }

    /// Group or dataset, when the link was followed and leads to one (`None` for links
    /// not followed, broken links and committed datatypes).
    pub fn kind(&self) -> Option<ObjectKind> {
        match self.reached {
            Reached::Object {
                kind: LocationType::Group,
                ..
            } => Some(ObjectKind::Group),
            Reached::Object {
                kind: LocationType::Dataset,
                ..
            } => Some(ObjectKind::Dataset),
            _ => None,
        }
    }

    /// True when the link was followed and cannot be resolved (target file or object missing).
    pub fn is_broken(&self) -> bool {
        self.reached == Reached::Broken
    }

    /// True when the object lives in another file than the walked one (reached through an
    /// external link, or a soft link into an externally linked group).
    pub fn in_other_file(&self) -> bool {
        matches!(
            self.reached,
            Reached::Object {
                other_file: true,
                ..
            }
        )
    }

    fn not_reached(&self) -> NwbError {
        let why = match self.reached {
            Reached::NotFollowed => "a link this walk does not follow",
            Reached::Broken => "a link that cannot be resolved",
            Reached::Object { .. } => "neither a group nor a dataset",
        };
        NwbError::invalid(self.file, &self.path, format!("cannot open {why}"))
    }

    fn group(&self) -> Result<Group> {
        if self.kind() != Some(ObjectKind::Group) {
            return Err(self.not_reached());
        }
        match self.parent {
            None => Ok(self.start.clone()),
            Some(p) => p.group(&self.name).map_err(herr(self.file, &self.path)),
        }
    }

    fn dataset(&self) -> Result<Dataset> {
        match (self.kind(), self.parent) {
            (Some(ObjectKind::Dataset), Some(p)) => {
                p.dataset(&self.name).map_err(herr(self.file, &self.path))
            }
            _ => Err(self.not_reached()),
        }
    }

    /// Every attribute of the object.
    pub fn attributes(&self) -> Result<BTreeMap<String, Data>> {
        h5::attrs(&self.open()?, self.file, &self.path)
    }

    /// Text attribute `name`, if present and textual.
    pub fn attr_str(&self, name: &str) -> Result<Option<String>> {
        h5::attr_str(&self.open()?, self.file, &self.path, name)
    }

    /// The `neurodata_type` attribute (empty when untyped).
    pub fn neurodata_type(&self) -> Result<String> {
        Ok(self.attr_str("neurodata_type")?.unwrap_or_default())
    }

    /// The file holding the object, as HDF5 names it (the target file of an external link).
    pub fn holding_file(&self) -> Result<PathBuf> {
        let name = self.open()?.filename();
        if name.is_empty() {
            return Err(NwbError::invalid(
                self.file,
                &self.path,
                "HDF5 names no file for this object",
            ));
        }
        Ok(PathBuf::from(name))
    }

    /// The group or dataset as an HDF5 location.
    fn open(&self) -> Result<Location> {
        match self.location()? {
            Some(loc) => Ok(loc),
            None => Err(self.not_reached()),
        }
    }

    /// The object's HDF5 handle, `None` for links not followed or broken (writers use
    /// it to change attributes in place).
    pub(crate) fn location(&self) -> Result<Option<Location>> {
        Ok(match self.kind() {
            Some(ObjectKind::Group) => {
                let g = self.group()?;
                let loc: &Location = &g;
                Some(loc.clone())
            }
            Some(ObjectKind::Dataset) => {
                let d = self.dataset()?;
                let loc: &Location = &d;
                Some(loc.clone())
            }
            None => None,
        })
    }

    /// The object's dataset handle (an error for groups and links not followed).
    pub(crate) fn dataset_handle(&self) -> Result<Dataset> {
        self.dataset()
    }

    /// The group holding the link, `None` for the start group.
    pub(crate) fn parent(&self) -> Option<&'a Group> {
        self.parent
    }

    /// A dataset's shape.
    pub fn shape(&self) -> Result<Vec<usize>> {
        Ok(self.dataset()?.shape())
    }

    /// A dataset's whole value.
    pub fn read(&self) -> Result<Data> {
        let d = self.dataset()?;
        h5::read_container(&d, self.file, &self.path)
    }
}

/// Identity of an object across links: file number and address token.
fn identity(fileno: u64, token: &hdf5::LocationToken) -> String {
    format!("{fileno}:{token:?}")
}

/// The walk itself, over any open HDF5 file (reader or writer): calls `visitor` on
/// `start` (at `start_path`) and then on every member reached from it.
pub(crate) fn visit_tree(
    file: &Path,
    start: &Group,
    start_path: &str,
    opts: WalkOptions,
    visitor: &mut dyn FnMut(&Node<'_>) -> Result<Visit>,
) -> Result<()> {
    let info = start.loc_info().map_err(herr(file, start_path))?;
    let mut seen = HashSet::new();
    seen.insert(identity(info.fileno, &info.token));
    let node = Node {
        path: start_path.to_string(),
        name: String::new(),
        depth: 0,
        link: NodeLink::Start,
        reached: Reached::Object {
            kind: LocationType::Group,
            other_file: false,
        },
        parent: None,
        start,
        file,
    };
    if visitor(&node)? == Visit::Enter {
        let mut walk = Walk {
            file,
            start,
            fileno: info.fileno,
            opts,
            seen,
            visitor,
        };
        walk.members(start, start_path, 1)?;
    }
    Ok(())
}

struct Walk<'v, 'f> {
    file: &'f Path,
    start: &'f Group,
    fileno: u64,
    opts: WalkOptions,
    seen: HashSet<String>,
    visitor: &'v mut dyn FnMut(&Node<'_>) -> Result<Visit>,
}

impl Walk<'_, '_> {
    /// Visits the members of `group` (at `path`), `depth` levels below the start.
    fn members(&mut self, group: &Group, path: &str, depth: usize) -> Result<()> {
        for (name, link) in h5::members(group, self.file, path)? {
            let p = join(path, &name);
            let (link, follow) = match link {
                Link::Hard => (NodeLink::Hard, true),
                Link::Soft(target) => (NodeLink::Soft { target }, self.opts.follow_soft),
                Link::External { file, object } => (
                    NodeLink::External {
                        file: h5::resolve_external(self.file, &file),
                        object,
                    },
                    self.opts.follow_external,
                ),
            };
            let reached = if !follow {
                Reached::NotFollowed
            } else {
                match group.loc_info_by_name(&name) {
                    Err(_) => Reached::Broken,
                    Ok(info) => {
                        if self.opts.once_per_object
                            && !self.seen.insert(identity(info.fileno, &info.token))
                        {
                            continue;
                        }
                        Reached::Object {
                            kind: info.loc_type,
                            other_file: info.fileno != self.fileno,
                        }
                    }
                }
            };
            let node = Node {
                path: p,
                name,
                depth,
                link,
                reached,
                parent: Some(group),
                start: self.start,
                file: self.file,
            };
            let visit = (self.visitor)(&node)?;
            if visit == Visit::Enter && node.kind() == Some(ObjectKind::Group) {
                if depth > MAX_DEPTH {
                    return Err(NwbError::invalid(
                        self.file,
                        &node.path,
                        format!("groups nested more than {MAX_DEPTH} deep"),
                    ));
                }
                let sub = group
                    .group(&node.name)
                    .map_err(herr(self.file, &node.path))?;
                self.members(&sub, &node.path, depth + 1)?;
            }
        }
        Ok(())
    }
}

impl NwbFile {
    /// Walks the whole file from the root: `visitor` is called on the root group, then
    /// on every member reached, depth first in name order; a group is entered when the
    /// visitor returns [`Visit::Enter`]. An error of the visitor stops the walk.
    pub fn visit(
        &self,
        opts: WalkOptions,
        mut visitor: impl FnMut(&Node<'_>) -> Result<Visit>,
    ) -> Result<()> {
        visit_tree(self.path(), self.hdf5(), "/", opts, &mut visitor)
    }

    /// As [`NwbFile::visit`], starting from the group at `path`.
    pub fn visit_from(
        &self,
        path: &str,
        opts: WalkOptions,
        mut visitor: impl FnMut(&Node<'_>) -> Result<Visit>,
    ) -> Result<()> {
        let g = h5::open_group(self.hdf5(), self.path(), path)?;
        visit_tree(self.path(), &g, path, opts, &mut visitor)
    }
}
