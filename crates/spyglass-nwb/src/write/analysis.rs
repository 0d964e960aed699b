//! Analysis files derived from a parent (as Spyglass's `AnalysisNwbfile.create`): the
//! parent's session metadata, subject, devices, electrode groups, electrodes table and
//! intervals are copied, everything gets new object ids and a new identifier, and
//! results are added one object at a time, each returning its object id.

use std::path::{Path, PathBuf};

use hdf5::Group;

use crate::error::{NwbError, Result};
use crate::h5::join;
use crate::read::NwbFile;
use crate::spec;
use crate::walk::{Visit, WalkOptions};
use crate::write::{
    new_id, ElectricalSeriesSpec, Placement, SeriesStream, StreamedSeriesSpec, TableSpec,
    TimeIntervalsSpec, TimeSeriesSpec, UnitsSpec, W,
};

/// Members of `/general` kept in analysis files.
const KEEP_GENERAL: &[&str] = &[
    "devices",
    "extracellular_ephys",
    "subject",
    "experimenter",
    "experiment_description",
    "institution",
    "lab",
    "session_id",
    "keywords",
];

/// Root datasets copied from the parent (identifier is new).
const KEEP_ROOT: &[&str] = &[
    "session_description",
    "session_start_time",
    "timestamps_reference_time",
    "file_create_date",
];

/// Interval tables Spyglass drops from analysis files.
const DROP_INTERVALS: &[&str] = &["optogenetic_epochs"];

/// Writer of one analysis file; objects are written as they are added.
pub struct AnalysisFileWriter {
    w: W,
}

impl std::fmt::Debug for AnalysisFileWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnalysisFileWriter")
            .field("path", &self.w.path)
            .finish()
    }
}

impl AnalysisFileWriter {
    /// Creates `path` (replacing any file there) from the parent NWB file at `parent`.
    pub fn create_from_parent(
        parent: impl AsRef<Path>,
        path: impl AsRef<Path>,
    ) -> Result<AnalysisFileWriter> {
        let parent = NwbFile::open(parent.as_ref())?;
        let path = path.as_ref().to_path_buf();
        let file = crate::h5::create(&path)?;
        let w = W { file, path };
        let src = parent.hdf5();
        let src_root: &Group = src;
        let root = w.root();

        w.attr_str(root, "namespace", "core")?;
        w.attr_str(root, "neurodata_type", "NWBFile")?;
        w.attr_str(root, "nwb_version", spec::NWB_VERSION)?;
        w.attr_str(root, "object_id", &new_id())?;
        w.text(root, "identifier", &new_id())?;
        for name in KEEP_ROOT {
            copy(src_root, root, name, &w.path)?;
        }
        for g in [
            "/acquisition",
            "/analysis",
            "/processing",
            "/stimulus/presentation",
            "/stimulus/templates",
        ] {
            w.ensure_group(g)?;
        }
        let general = w.ensure_group("/general")?;
        if src_root.link_exists("general") {
            let sg = src_root
                .group("general")
                .map_err(|e| NwbError::hdf5(parent.path(), "/general", e))?;
            for name in KEEP_GENERAL {
                if sg.link_exists(name) {
                    copy(&sg, &general, name, &w.path)?;
                }
            }
        }
        if src_root.link_exists("intervals") {
            let si = src_root
                .group("intervals")
                .map_err(|e| NwbError::hdf5(parent.path(), "/intervals", e))?;
            let di = w.ensure_group("/intervals")?;
            let mut kept = vec![];
            parent.visit_from("/intervals", WalkOptions::default(), |node| {
                if node.depth() == 0 {
                    return Ok(Visit::Enter);
                }
                if !DROP_INTERVALS.contains(&node.name()) {
                    kept.push(node.name().to_string());
                }
                Ok(Visit::Skip)
            })?;
            for name in kept {
                copy(&si, &di, &name, &w.path)?;
            }
        }
        if src_root.link_exists("specifications") {
            copy(src_root, root, "specifications", &w.path)?;
        }
        let mut dropped = vec![];
        w.repair_references(src, "/", &mut dropped)?;
        w.renew_object_ids("/")?;
        // repair_references left the root's .specloc pointing nowhere: re-cache specs and point it again.
        let uses_novela = parent.has_cached_namespace("ndx-franklab-novela")?
            || parent
                .devices()?
                .iter()
                .any(|d| d.namespace == "ndx-franklab-novela");
        let mut namespaces: Vec<&str> = spec::BASE_NAMESPACES.to_vec();
        if uses_novela {
            namespaces.extend_from_slice(spec::NOVELA_NAMESPACES);
        }
        spec::cache_specs(&w.file, &namespaces)?;
        w.source_script(&format!("spyglass-nwb={}", env!("CARGO_PKG_VERSION")))?;
        Ok(AnalysisFileWriter { w })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.w.path
    }

    /// The new file's root object id.
    pub fn object_id(&self) -> Result<String> {
        crate::h5::attr_str(self.w.root(), &self.w.path, "/", "object_id")?
            .ok_or_else(|| NwbError::missing(&self.w.path, "/@object_id", "attribute"))
    }

    /// Adds an ElectricalSeries (e.g. LFP) at `placement`; returns its object id.
    pub fn add_electrical_series(
        &mut self,
        placement: &Placement,
        spec: &ElectricalSeriesSpec,
    ) -> Result<String> {
        let g = self.w.placement_group(placement)?;
        self.w.electrical_series(&g, spec)
    }

    /// Starts an ElectricalSeries at `placement` whose samples and timestamps are
    /// written in blocks through the returned stream (bounded memory for long series).
    pub fn begin_electrical_series(
        &mut self,
        placement: &Placement,
        spec: &StreamedSeriesSpec,
    ) -> Result<SeriesStream> {
        let g = self.w.placement_group(placement)?;
        self.w.begin_series(&g, spec)
    }

    /// Adds a TimeSeries (or SpatialSeries, by `spec.neurodata_type`) at `placement`; returns its object id.
    pub fn add_time_series(
        &mut self,
        placement: &Placement,
        spec: &TimeSeriesSpec,
    ) -> Result<String> {
        let g = self.w.placement_group(placement)?;
        let ty = if spec.neurodata_type.is_empty() {
            "TimeSeries"
        } else {
            spec.neurodata_type.as_str()
        };
        Ok(self.w.time_series(&g, spec, ty)?.1)
    }

    /// Adds a SpatialSeries inside a `Position` container `container` of `module`; returns its object id.
    pub fn add_position(
        &mut self,
        module: &str,
        container: &str,
        spec: &TimeSeriesSpec,
    ) -> Result<String> {
        self.add_in_container(module, "Position", container, spec, "SpatialSeries")
    }

    /// Adds a SpatialSeries (radians) inside a `CompassDirection` container; returns its object id.
    pub fn add_compass_direction(
        &mut self,
        module: &str,
        container: &str,
        spec: &TimeSeriesSpec,
    ) -> Result<String> {
        self.add_in_container(module, "CompassDirection", container, spec, "SpatialSeries")
    }

    /// Adds a TimeSeries inside a `BehavioralTimeSeries` container; returns its object id.
    pub fn add_behavioral_time_series(
        &mut self,
        module: &str,
        container: &str,
        spec: &TimeSeriesSpec,
    ) -> Result<String> {
        self.add_in_container(
            module,
            "BehavioralTimeSeries",
            container,
            spec,
            "TimeSeries",
        )
    }

    /// Object id of the container at `placement` (created when missing), e.g. a Position.
    pub fn container_object_id(&mut self, placement: &Placement) -> Result<String> {
        let g = self.w.placement_group(placement)?;
        crate::h5::attr_str(&g, &self.w.path, &g.name(), "object_id")?.ok_or_else(|| {
            NwbError::missing(
                &self.w.path,
                &format!("{}@object_id", g.name()),
                "attribute",
            )
        })
    }

    /// Adds a container of type `ty` (`Position`, `CompassDirection`,
    /// `BehavioralTimeSeries`, …) named `name` to `/scratch`, holding `series`
    /// (each with its neurodata type, e.g. `SpatialSeries`), as Spyglass's
    /// `AnalysisNwbfile.add_nwb_object` stores a pynwb container; returns the
    /// container's object id.
    pub fn add_scratch_container(
        &mut self,
        ty: &str,
        name: &str,
        series: &[(&str, &TimeSeriesSpec)],
    ) -> Result<String> {
        let scratch = self.w.placement_group(&Placement::Scratch)?;
        let (g, id) = self.w.typed_group(&scratch, name, "core", ty)?;
        for (series_ty, spec) in series {
            self.w.time_series(&g, spec, series_ty)?;
        }
        Ok(id)
    }

    fn add_in_container(
        &mut self,
        module: &str,
        ty: &str,
        container: &str,
        spec: &TimeSeriesSpec,
        series_ty: &str,
    ) -> Result<String> {
        let g = self.w.placement_group(&Placement::container(
            module,
            &format!("{module} data"),
            ty,
            container,
        ))?;
        Ok(self.w.time_series(&g, spec, series_ty)?.1)
    }

    /// Writes the Units table (spike times as a ragged column plus extra columns); returns its object id.
    pub fn add_units(&mut self, spec: &UnitsSpec) -> Result<String> {
        if self.w.root().link_exists("units") {
            return Err(NwbError::invalid(
                &self.w.path,
                "/units",
                "the file already has a units table",
            ));
        }
        self.w.units(spec)
    }

    /// Adds a TimeIntervals table under `/intervals`; returns its object id.
    pub fn add_time_intervals(&mut self, spec: &TimeIntervalsSpec) -> Result<String> {
        self.w.time_intervals(spec)
    }

    /// Adds a generic DynamicTable at `placement` (usually [`Placement::Scratch`]); returns its object id.
    pub fn add_dynamic_table(&mut self, placement: &Placement, spec: &TableSpec) -> Result<String> {
        self.w.dynamic_table(placement, spec)
    }

    /// Flushes and closes the file; returns its path.
    pub fn finish(self) -> Result<PathBuf> {
        self.w
            .file
            .flush()
            .map_err(|e| NwbError::hdf5(&self.w.path, "/", e))?;
        let path = self.w.path.clone();
        drop(self.w);
        Ok(path)
    }
}

/// Adds a Units table to the NWB file at `path`, opened for writing in place (callers
/// write a copy under a temporary name and rename it); returns its object id. An error
/// when the file already has one (NWB allows one `/units` per file).
pub fn add_units_to_file(path: &Path, spec: &UnitsSpec) -> Result<String> {
    crate::filters::register()?;
    let file = hdf5::File::open_rw(path).map_err(|e| NwbError::hdf5(path, "/", e))?;
    let w = W {
        file,
        path: path.to_path_buf(),
    };
    if w.root().link_exists("units") {
        return Err(NwbError::invalid(
            path,
            "/units",
            "the file already has a units table",
        ));
    }
    let id = w.units(spec)?;
    w.file.flush().map_err(|e| NwbError::hdf5(path, "/", e))?;
    Ok(id)
}

/// Copies member `name` of `src` into `dst` (same name) with H5Ocopy.
pub(crate) fn copy(src: &Group, dst: &Group, name: &str, dst_path: &Path) -> Result<()> {
    let obj = join(&src.name(), name);
    match src
        .loc_type_by_name(name)
        .map_err(|e| NwbError::hdf5(dst_path, &obj, e))?
    {
        hdf5::LocationType::Group => {
            let g = src
                .group(name)
                .map_err(|e| NwbError::hdf5(dst_path, &obj, e))?;
            g.copy_to(dst, name)
                .map_err(|e| NwbError::hdf5(dst_path, &obj, e))
        }
        hdf5::LocationType::Dataset => {
            let d = src
                .dataset(name)
                .map_err(|e| NwbError::hdf5(dst_path, &obj, e))?;
            d.copy_to(dst, name)
                .map_err(|e| NwbError::hdf5(dst_path, &obj, e))
        }
        _ => Ok(()),
    }
}
