//! ndx-pose: reading `PoseEstimation` containers and their `PoseEstimationSeries`
//! (the pose data Spyglass's ImportedPose points at).
//!
//! Read as ndx-pose 0.2 and 0.3 write them: a `PoseEstimation` group (anywhere in
//! the file, usually `processing/behavior`) holds one `PoseEstimationSeries` group per
//! body part — `data` (n × 2 or n × 3, `unit`, `conversion`, `offset`), optional
//! `confidence` (with its `definition`), `timestamps` (often a soft link to another
//! series' timestamps) or `starting_time` + `rate`, and `reference_frame` — plus
//! `description`, `scorer`, `source_software` (`version` attribute), the video lists
//! and `dimensions`, and a link to its `Skeleton` (`nodes`, `edges`; the skeletons
//! themselves live in a `Skeletons` container). ndx-pose 0.1 files, which store
//! `nodes` and `edges` in the PoseEstimation group itself and have no Skeleton, are
//! read too: [`PoseEstimation::skeleton`] is then `None` and the nodes and edges are in
//! [`PoseEstimation::nodes`] / [`PoseEstimation::edges`].

use crate::data::Data;
use crate::error::{NwbError, Result};
use crate::h5::{join, Link};
use crate::model::ObjectKind;
use crate::read::NwbFile;
use crate::walk::{Visit, WalkOptions};

/// One body part's pose over time (`ndx_pose.PoseEstimationSeries`).
#[derive(Debug, Clone, PartialEq)]
pub struct PoseEstimationSeries {
    /// The series' name (the body part).
    pub name: String,
    /// HDF5 path.
    pub path: String,
    /// `object_id`.
    pub object_id: String,
    /// `data@unit` (e.g. `pixels`).
    pub unit: String,
    /// `reference_frame`.
    pub reference_frame: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `comments`.
    pub comments: Option<String>,
    /// Coordinates per sample: 2 (x, y) or 3 (x, y, z).
    pub dims: usize,
    /// The positions in `unit` (stored values × `conversion` + `offset`), row-major
    /// `n × dims`.
    pub data: Vec<f64>,
    /// `confidence` per sample, when stored.
    pub confidence: Option<Vec<f64>>,
    /// `confidence@definition`.
    pub confidence_definition: Option<String>,
    /// Timestamps (s): stored ones (also through a link) or `starting_time + i / rate`.
    pub timestamps: Vec<f64>,
    /// `starting_time@rate` when the series is regularly sampled without timestamps.
    pub rate: Option<f64>,
}

impl PoseEstimationSeries {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.timestamps.len()
    }

    /// True when the series has no samples.
    pub fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }

    /// Coordinate `axis` (0 = x, 1 = y, 2 = z) of every sample.
    pub fn axis(&self, axis: usize) -> Vec<f64> {
        if axis >= self.dims {
            return vec![];
        }
        self.data
            .chunks_exact(self.dims)
            .map(|row| row[axis])
            .collect()
    }
}

/// An `ndx_pose.Skeleton`: named nodes and the edges between them.
#[derive(Debug, Clone, PartialEq)]
pub struct Skeleton {
    /// Its name.
    pub name: String,
    /// HDF5 path (the link target).
    pub path: String,
    /// `object_id`.
    pub object_id: String,
    /// Node names.
    pub nodes: Vec<String>,
    /// Edges as pairs of node indices.
    pub edges: Vec<[u64; 2]>,
}

/// An `ndx_pose.PoseEstimation` container.
#[derive(Debug, Clone, PartialEq)]
pub struct PoseEstimation {
    /// Its name.
    pub name: String,
    /// HDF5 path.
    pub path: String,
    /// `object_id`.
    pub object_id: String,
    /// `description`.
    pub description: Option<String>,
    /// `scorer`.
    pub scorer: Option<String>,
    /// `source_software`.
    pub source_software: Option<String>,
    /// `source_software@version`.
    pub source_software_version: Option<String>,
    /// `original_videos`.
    pub original_videos: Vec<String>,
    /// `labeled_videos`.
    pub labeled_videos: Vec<String>,
    /// `dimensions`: (width, height) of each video, row-major.
    pub dimensions: Vec<u64>,
    /// The linked Skeleton (ndx-pose ≥ 0.2).
    pub skeleton: Option<Skeleton>,
    /// Node names stored in the container itself (ndx-pose 0.1).
    pub nodes: Vec<String>,
    /// Edges stored in the container itself (ndx-pose 0.1).
    pub edges: Vec<[u64; 2]>,
    /// Its series, in name order.
    pub series: Vec<PoseEstimationSeries>,
}

impl PoseEstimation {
    /// The series called `name`.
    pub fn series(&self, name: &str) -> Option<&PoseEstimationSeries> {
        self.series.iter().find(|s| s.name == name)
    }
}

fn pairs(file: &NwbFile, d: Data, path: &str) -> Result<Vec<[u64; 2]>> {
    let v = d
        .values
        .to_u64()
        .ok_or_else(|| NwbError::invalid(file.path(), path, "edges are not unsigned integers"))?;
    if v.len() % 2 != 0 || (d.shape.len() == 2 && d.shape[1] != 2) {
        return Err(NwbError::invalid(
            file.path(),
            path,
            format!("edges must be n × 2, shape is {:?}", d.shape),
        ));
    }
    Ok(v.chunks_exact(2).map(|p| [p[0], p[1]]).collect())
}

impl NwbFile {
    fn text_of(&self, path: &str) -> Result<Option<String>> {
        if !self.exists(path) {
            return Ok(None);
        }
        Ok(self
            .read_data(path)?
            .texts()
            .and_then(|t| t.into_iter().next()))
    }

    fn texts_of(&self, path: &str) -> Result<Vec<String>> {
        if !self.exists(path) {
            return Ok(vec![]);
        }
        Ok(self.read_data(path)?.texts().unwrap_or_default())
    }

    /// Paths of every `PoseEstimation` group in the file, in walk order.
    pub fn pose_estimation_paths(&self) -> Result<Vec<String>> {
        let mut out = vec![];
        let opts = WalkOptions {
            once_per_object: true,
            ..WalkOptions::default()
        };
        self.visit(opts, |node| {
            if node.kind() != Some(ObjectKind::Group) {
                return Ok(Visit::Skip);
            }
            if node.neurodata_type()? == "PoseEstimation" {
                out.push(node.path().to_string());
                return Ok(Visit::Skip);
            }
            Ok(Visit::Enter)
        })?;
        Ok(out)
    }

    /// Every `PoseEstimation` container of the file with its series' data.
    pub fn pose_estimations(&self) -> Result<Vec<PoseEstimation>> {
        self.pose_estimation_paths()?
            .iter()
            .map(|p| self.pose_estimation(p))
            .collect()
    }

    /// The `PoseEstimation` group at `path`, with its series' data and skeleton.
    pub fn pose_estimation(&self, path: &str) -> Result<PoseEstimation> {
        let o = self.object(path)?;
        if o.neurodata_type != "PoseEstimation" {
            return Err(NwbError::invalid(
                self.path(),
                path,
                format!("is a `{}`, not a PoseEstimation", o.neurodata_type),
            ));
        }
        let mut series = vec![];
        let mut skeleton = None;
        let group = self
            .hdf5()
            .group(path)
            .map_err(|e| NwbError::invalid(self.path(), path, format!("cannot open group: {e}")))?;
        for (name, link) in crate::h5::members(&group, self.path(), path)? {
            let p = join(path, &name);
            let Some(ObjectKind::Group) = self.object(&p).ok().map(|o| o.kind) else {
                continue;
            };
            let member = self.object(&p)?;
            match (member.neurodata_type.as_str(), &link) {
                ("PoseEstimationSeries", _) => series.push(self.pose_estimation_series(&p)?),
                ("Skeleton", _) => {
                    let target = match &link {
                        Link::Soft(t) => t.clone(),
                        _ => p.clone(),
                    };
                    skeleton = Some(self.skeleton(&target, &member.object_id, &name)?);
                }
                _ => {}
            }
        }
        if series.is_empty() {
            return Err(NwbError::invalid(
                self.path(),
                path,
                "PoseEstimation holds no PoseEstimationSeries",
            ));
        }
        let sw = join(path, "source_software");
        let source_software_version = if self.exists(&sw) {
            self.object(&sw)?
                .attributes
                .get("version")
                .and_then(Data::as_str)
                .map(str::to_string)
        } else {
            None
        };
        let dims = join(path, "dimensions");
        let dimensions = if self.exists(&dims) {
            self.read_data(&dims)?.values.to_u64().unwrap_or_default()
        } else {
            vec![]
        };
        let edges_path = join(path, "edges");
        let edges = if skeleton.is_none() && self.exists(&edges_path) {
            pairs(self, self.read_data(&edges_path)?, &edges_path)?
        } else {
            vec![]
        };
        Ok(PoseEstimation {
            name: crate::h5::basename(path).to_string(),
            path: o.path.clone(),
            object_id: o.object_id.clone(),
            description: self.text_of(&join(path, "description"))?,
            scorer: self.text_of(&join(path, "scorer"))?,
            source_software: self.text_of(&sw)?,
            source_software_version,
            original_videos: self.texts_of(&join(path, "original_videos"))?,
            labeled_videos: self.texts_of(&join(path, "labeled_videos"))?,
            dimensions,
            nodes: if skeleton.is_none() {
                self.texts_of(&join(path, "nodes"))?
            } else {
                vec![]
            },
            edges,
            skeleton,
            series,
        })
    }

    fn skeleton(&self, path: &str, object_id: &str, name: &str) -> Result<Skeleton> {
        let nodes = self.texts_of(&join(path, "nodes"))?;
        let edges_path = join(path, "edges");
        let edges = if self.exists(&edges_path) {
            pairs(self, self.read_data(&edges_path)?, &edges_path)?
        } else {
            vec![]
        };
        if let Some(&[a, b]) = edges
            .iter()
            .find(|e| e.iter().any(|&i| i as usize >= nodes.len()))
        {
            return Err(NwbError::invalid(
                self.path(),
                &edges_path,
                format!(
                    "edge ({a}, {b}) names a node beyond the {} nodes",
                    nodes.len()
                ),
            ));
        }
        Ok(Skeleton {
            name: name.to_string(),
            path: path.to_string(),
            object_id: object_id.to_string(),
            nodes,
            edges,
        })
    }

    /// The `PoseEstimationSeries` at `path` with its data, confidence and timestamps.
    pub fn pose_estimation_series(&self, path: &str) -> Result<PoseEstimationSeries> {
        let ts = self.time_series(path)?;
        let (shape, data) = self.series_data_f64(path)?;
        let dims = match shape.as_slice() {
            [_, d @ (2 | 3)] => *d,
            other => {
                return Err(NwbError::invalid(
                    self.path(),
                    &join(path, "data"),
                    format!("pose data must be n × 2 or n × 3, shape is {other:?}"),
                ))
            }
        };
        let n = shape[0];
        let timestamps = self.timestamps(path)?;
        if timestamps.len() != n {
            return Err(NwbError::invalid(
                self.path(),
                path,
                format!("{} timestamps for {n} samples", timestamps.len()),
            ));
        }
        let conf_path = join(path, "confidence");
        let (confidence, confidence_definition) = if self.exists(&conf_path) {
            let d = self.read_data(&conf_path)?;
            let c = d.values.to_f64().ok_or_else(|| {
                NwbError::invalid(self.path(), &conf_path, "confidence is not numeric")
            })?;
            if c.len() != n {
                return Err(NwbError::invalid(
                    self.path(),
                    &conf_path,
                    format!("{} confidence values for {n} samples", c.len()),
                ));
            }
            let def = self
                .object(&conf_path)?
                .attributes
                .get("definition")
                .and_then(Data::as_str)
                .map(str::to_string);
            (Some(c), def)
        } else {
            (None, None)
        };
        let rate = match ts.timing {
            crate::model::Timing::Rate { rate, .. } => Some(rate),
            _ => None,
        };
        Ok(PoseEstimationSeries {
            name: ts.name,
            path: ts.path,
            object_id: ts.object_id,
            unit: ts.unit,
            reference_frame: ts.reference_frame,
            description: ts.description,
            comments: ts.comments,
            dims,
            data,
            confidence,
            confidence_definition,
            timestamps,
            rate,
        })
    }
}
