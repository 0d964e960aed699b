//! The NWB schemas this crate writes against, embedded from `spec/` (see its README),
//! and the code that caches them in a file under `/specifications` with the root
//! `.specloc` reference, as pynwb does, so readers need nothing else.

use hdf5::types::VarLenUnicode;
use hdf5::{Group, ObjectReference1};

use crate::error::{NwbError, Result};

/// One cached schema file: `/specifications/<namespace>/<version>/<name>`.
#[derive(Clone, Copy, Debug)]
pub struct SpecFile {
    /// Namespace (`core`, `hdmf-common`, ...).
    pub namespace: &'static str,
    /// Namespace version.
    pub version: &'static str,
    /// Dataset name (e.g. `nwb.base`, `namespace`).
    pub name: &'static str,
    /// The JSON text pynwb caches.
    pub json: &'static str,
}

/// NWB core version of the vendored schema (the files' `nwb_version`).
pub const NWB_VERSION: &str = "2.11.0";

/// Every vendored schema file.
pub const SPEC_FILES: &[SpecFile] = &[
    SpecFile {
        namespace: "core",
        version: "2.11.0",
        name: "namespace",
        json: include_str!("../spec/core/2.11.0/namespace.json"),
    },
    SpecFile {
        namespace: "core",
        version: "2.11.0",
        name: "nwb.base",
        json: include_str!("../spec/core/2.11.0/nwb.base.json"),
    },
    SpecFile {
        namespace: "core",
        version: "2.11.0",
        name: "nwb.behavior",
        json: include_str!("../spec/core/2.11.0/nwb.behavior.json"),
    },
    SpecFile {
        namespace: "core",
        version: "2.11.0",
        name: "nwb.device",
        json: include_str!("../spec/core/2.11.0/nwb.device.json"),
    },
    SpecFile {
        namespace: "core",
        version: "2.11.0",
        name: "nwb.ecephys",
        json: include_str!("../spec/core/2.11.0/nwb.ecephys.json"),
    },
    SpecFile {
        namespace: "core",
        version: "2.11.0",
        name: "nwb.epoch",
        json: include_str!("../spec/core/2.11.0/nwb.epoch.json"),
    },
    SpecFile {
        namespace: "core",
        version: "2.11.0",
        name: "nwb.event",
        json: include_str!("../spec/core/2.11.0/nwb.event.json"),
    },
    SpecFile {
        namespace: "core",
        version: "2.11.0",
        name: "nwb.file",
        json: include_str!("../spec/core/2.11.0/nwb.file.json"),
    },
    SpecFile {
        namespace: "core",
        version: "2.11.0",
        name: "nwb.icephys",
        json: include_str!("../spec/core/2.11.0/nwb.icephys.json"),
    },
    SpecFile {
        namespace: "core",
        version: "2.11.0",
        name: "nwb.image",
        json: include_str!("../spec/core/2.11.0/nwb.image.json"),
    },
    SpecFile {
        namespace: "core",
        version: "2.11.0",
        name: "nwb.misc",
        json: include_str!("../spec/core/2.11.0/nwb.misc.json"),
    },
    SpecFile {
        namespace: "core",
        version: "2.11.0",
        name: "nwb.ogen",
        json: include_str!("../spec/core/2.11.0/nwb.ogen.json"),
    },
    SpecFile {
        namespace: "core",
        version: "2.11.0",
        name: "nwb.ophys",
        json: include_str!("../spec/core/2.11.0/nwb.ophys.json"),
    },
    SpecFile {
        namespace: "core",
        version: "2.11.0",
        name: "nwb.retinotopy",
        json: include_str!("../spec/core/2.11.0/nwb.retinotopy.json"),
    },
    SpecFile {
        namespace: "hdmf-common",
        version: "1.10.0",
        name: "base",
        json: include_str!("../spec/hdmf-common/1.10.0/base.json"),
    },
    SpecFile {
        namespace: "hdmf-common",
        version: "1.10.0",
        name: "namespace",
        json: include_str!("../spec/hdmf-common/1.10.0/namespace.json"),
    },
    SpecFile {
        namespace: "hdmf-common",
        version: "1.10.0",
        name: "resources",
        json: include_str!("../spec/hdmf-common/1.10.0/resources.json"),
    },
    SpecFile {
        namespace: "hdmf-common",
        version: "1.10.0",
        name: "sparse",
        json: include_str!("../spec/hdmf-common/1.10.0/sparse.json"),
    },
    SpecFile {
        namespace: "hdmf-common",
        version: "1.10.0",
        name: "table",
        json: include_str!("../spec/hdmf-common/1.10.0/table.json"),
    },
    SpecFile {
        namespace: "hdmf-experimental",
        version: "0.6.0",
        name: "experimental",
        json: include_str!("../spec/hdmf-experimental/0.6.0/experimental.json"),
    },
    SpecFile {
        namespace: "hdmf-experimental",
        version: "0.6.0",
        name: "namespace",
        json: include_str!("../spec/hdmf-experimental/0.6.0/namespace.json"),
    },
    SpecFile {
        namespace: "ndx-franklab-novela",
        version: "0.2.4",
        name: "namespace",
        json: include_str!("../spec/ndx-franklab-novela/0.2.4/namespace.json"),
    },
    SpecFile {
        namespace: "ndx-franklab-novela",
        version: "0.2.4",
        name: "ndx-franklab-novela.extensions",
        json: include_str!("../spec/ndx-franklab-novela/0.2.4/ndx-franklab-novela.extensions.json"),
    },
    SpecFile {
        namespace: "ndx-ophys-devices",
        version: "0.4.0",
        name: "namespace",
        json: include_str!("../spec/ndx-ophys-devices/0.4.0/namespace.json"),
    },
    SpecFile {
        namespace: "ndx-ophys-devices",
        version: "0.4.0",
        name: "ndx-ophys-devices.extensions",
        json: include_str!("../spec/ndx-ophys-devices/0.4.0/ndx-ophys-devices.extensions.json"),
    },
    SpecFile {
        namespace: "ndx-optogenetics",
        version: "0.3.0",
        name: "namespace",
        json: include_str!("../spec/ndx-optogenetics/0.3.0/namespace.json"),
    },
    SpecFile {
        namespace: "ndx-optogenetics",
        version: "0.3.0",
        name: "ndx-optogenetics.extensions",
        json: include_str!("../spec/ndx-optogenetics/0.3.0/ndx-optogenetics.extensions.json"),
    },
];

/// Namespaces always cached: the core schema and what it depends on.
pub const BASE_NAMESPACES: &[&str] = &["core", "hdmf-common", "hdmf-experimental"];

/// The ndx-franklab-novela namespace and its dependencies.
pub const NOVELA_NAMESPACES: &[&str] = &[
    "ndx-franklab-novela",
    "ndx-optogenetics",
    "ndx-ophys-devices",
];

/// Writes the vendored specs of `namespaces` under `/specifications` (keeping any
/// already there, e.g. copied from a parent file) and points `.specloc` at it.
pub(crate) fn cache_specs(file: &hdf5::File, namespaces: &[&str]) -> Result<()> {
    let path = std::path::PathBuf::from(file.filename());
    let e = |o: &str| {
        let o = o.to_string();
        let p = path.clone();
        move |err: hdf5::Error| NwbError::hdf5(&p, &o, err)
    };
    let root: &Group = file;
    let specs = if root.link_exists("specifications") {
        root.group("specifications").map_err(e("/specifications"))?
    } else {
        root.create_group("specifications")
            .map_err(e("/specifications"))?
    };
    for s in SPEC_FILES
        .iter()
        .filter(|s| namespaces.contains(&s.namespace))
    {
        let ns = open_or_create(&specs, s.namespace).map_err(e(s.namespace))?;
        // Another version of this namespace already cached (from a parent): keep it as is.
        let versions = ns.member_names().map_err(e(s.namespace))?;
        if !versions.is_empty() && !versions.iter().any(|v| v == s.version) {
            continue;
        }
        let ver = open_or_create(&ns, s.version).map_err(e(s.version))?;
        if ver.link_exists(s.name) {
            continue;
        }
        let text: VarLenUnicode = s
            .json
            .parse()
            .map_err(|err| NwbError::InvalidArgument(format!("spec text: {err}")))?;
        ver.new_dataset::<VarLenUnicode>()
            .shape(())
            .create(s.name)
            .and_then(|d| d.write_scalar(&text))
            .map_err(e(s.name))?;
    }
    if root
        .attr_names()
        .map_err(e("/"))?
        .iter()
        .any(|n| n == ".specloc")
    {
        root.delete_attr(".specloc").map_err(e("/"))?;
    }
    let r: ObjectReference1 = root
        .reference("/specifications")
        .map_err(e("/specifications"))?;
    root.new_attr::<ObjectReference1>()
        .create(".specloc")
        .and_then(|a| a.write_scalar(&r))
        .map_err(e("/.specloc"))?;
    Ok(())
}

fn open_or_create(g: &Group, name: &str) -> hdf5::Result<Group> {
    if g.link_exists(name) {
        g.group(name)
    } else {
        g.create_group(name)
    }
}
