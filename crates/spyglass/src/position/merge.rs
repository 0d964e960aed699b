//! `position_merge`: the PositionOutput merge table that unifies position sources
//! (Spyglass's parts DLCPosV1, TrodesPosV1, CommonPos and ImportedPose; here the
//! sources built so far, each declaring its part), and [`fetch_position`], the
//! reader downstream pipelines use: the rows of Spyglass's
//! `PositionOutput.fetch1_dataframe()` (time, position, orientation, velocity,
//! speed, video frame index) for one merge id, whatever its source.

use crate::kit::prelude::*;
use spyglass_db::Cond;

/// Schema name.
pub const SCHEMA: &str = "position_merge";
/// `PositionOutput` (the merge master).
pub const POSITION_OUTPUT: &str = "position_merge.PositionOutput";

/// The `position_merge` pipeline: the PositionOutput master; its parts come from
/// the pipelines that name it in their [`Pipeline::merge_parts`].
pub struct PositionMerge;

impl Pipeline for PositionMerge {
    identity!(SCHEMA, family "position");
    provides! {
        commands: Command;
    }
    fn tables(&self) -> Vec<TableSpec> {
        vec![spyglass_db::merge::merge_spec("PositionOutput", &[])]
    }
    fn run(&self, sg: &Spyglass, _name: &str, m: &clap::ArgMatches) -> Result<()> {
        let Command::Plot(a) = args::parse(m)?;
        super::plot::run(sg, &a)
    }
}

/// `spyglass position …` commands on PositionOutput.
#[derive(clap::Subcommand)]
enum Command {
    /// Pictures of a session's position: track with head direction, speed over time (SVG).
    Plot(super::plot::PlotArgs),
}

/// One position series as Spyglass's `fetch1_dataframe` gives it (no prefix):
/// values as stored (cm, rad, cm/s), one per timestamp.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionData {
    /// The part's class name (`TrodesPosV1`).
    pub source: String,
    /// Timestamps, seconds.
    pub time: Vec<f64>,
    /// Head position (x, y), cm.
    pub position: Vec<[f64; 2]>,
    /// Head orientation, radians.
    pub orientation: Vec<f64>,
    /// Velocity (x, y), cm/s.
    pub velocity: Vec<[f64; 2]>,
    /// Speed, cm/s.
    pub speed: Vec<f64>,
    /// The video frame of each sample, when the file has them.
    pub video_frame_ind: Option<Vec<i64>>,
}

/// The source table and row of position merge id `merge_id`.
pub fn position_source(db: &Db, merge_id: &uuid::Uuid) -> Result<(String, Row)> {
    let m = db.merge(POSITION_OUTPUT)?;
    let cond = Cond::Map(vec![("merge_id".into(), Value::Uuid(*merge_id))]);
    let parents = db.merge_get_parent(&m, &cond)?;
    let (src, q) = parents
        .first()
        .ok_or_else(|| Error::missing(POSITION_OUTPUT, format!("merge_id = {merge_id}")))?;
    Ok((src.name.clone(), db.fetch1(q)?))
}

/// The merge ids of a session's position entries (optionally of one interval), with
/// their source's class name, ordered by merge id.
pub fn position_merge_ids(
    db: &Db,
    nwb_file_name: &str,
    interval_list_name: Option<&str>,
) -> Result<Vec<(uuid::Uuid, String)>> {
    let m = db.merge(POSITION_OUTPUT)?;
    let mut cond = vec![("nwb_file_name".to_string(), Value::from(nwb_file_name))];
    if let Some(i) = interval_list_name {
        cond.push(("interval_list_name".into(), Value::from(i)));
    }
    let mut out = vec![];
    for (src, q) in db.merge_get_parent(&m, &Cond::Map(cond))? {
        let pk = db.table_info(&src.parent.pretty())?.primary_key();
        for r in db.fetch_with(&q, &spyglass_db::FetchSpec::attrs(&pk))? {
            out.push((
                spyglass_db::merge::merge_id(&r, &src.name),
                src.name.clone(),
            ));
        }
    }
    out.sort();
    Ok(out)
}

/// The position of merge id `merge_id` (Spyglass's `(PositionOutput & key).fetch1_dataframe()`).
pub fn fetch_position(db: &Db, merge_id: &uuid::Uuid) -> Result<PositionData> {
    let (source, row) = position_source(db, merge_id)?;
    let text = |k: &str| row_text(&row, &source, k);
    match source.as_str() {
        "TrodesPosV1" | "DLCPosV1" => {
            let path = crate::analysis::analysis_file_path(db, &text("analysis_file_name")?)?;
            read_position_file(
                &path,
                &text("position_object_id")?,
                &text("orientation_object_id")?,
                &text("velocity_object_id")?,
                source,
            )
        }
        "ImportedPose" => Err(Error::bad(
            POSITION_OUTPUT,
            format!("merge id {merge_id} is an ImportedPose: body parts, not a head position; read it with fetch_pose (Spyglass's fetch_pose_dataframe)"),
        )),
        other => Err(Error::bad(
            POSITION_OUTPUT,
            format!("reading position from source `{other}` is not implemented"),
        )),
    }
}

/// The pose of merge id `merge_id` (Spyglass's `(PositionOutput & key).fetch_pose_dataframe()`):
/// the timestamps and every body part of an ImportedPose entry.
pub fn fetch_pose(
    db: &Db,
    merge_id: &uuid::Uuid,
) -> Result<(Vec<f64>, Vec<super::imported_pose::PosePart>)> {
    let (source, row) = position_source(db, merge_id)?;
    if source != "ImportedPose" {
        let message = format!("merge id {merge_id} is a {source}, which has no pose body parts here; read its position with fetch_position");
        return Err(Error::bad(POSITION_OUTPUT, message));
    }
    let key = super::imported_pose::ImportedPoseKey {
        nwb_file_name: row_text(&row, &source, "nwb_file_name")?,
        interval_list_name: row_text(&row, &source, "interval_list_name")?,
    };
    super::imported_pose::fetch_pose(db, &key)
}

/// Text attribute `k` of a `source` row, or an error naming it.
fn row_text(row: &Row, source: &str, k: &str) -> Result<String> {
    row.get(k)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| Error::internal(source, format!("row has no `{k}`")))
}

/// Reads the three containers Spyglass's position tables write (Position with a
/// `position` SpatialSeries, CompassDirection with `orientation`,
/// BehavioralTimeSeries with `velocity` = vx, vy, speed and optionally
/// `video_frame_ind`) from an analysis file, by the containers' object ids.
pub fn read_position_file(
    path: &std::path::Path,
    position_id: &str,
    orientation_id: &str,
    velocity_id: &str,
    source: String,
) -> Result<PositionData> {
    let file = spyglass_nwb::NwbFile::open(path)?;
    let series = |container_id: &str, name: &str| -> Result<String> {
        let p = format!("{}/{name}", file.path_of_id(container_id)?);
        if !file.exists(&p) {
            return Err(Error::internal(
                path.display().to_string(),
                format!("no series `{p}`"),
            ));
        }
        Ok(p)
    };
    let values = |p: &str, columns: usize| -> Result<Vec<f64>> {
        let d = file.read_data(&format!("{p}/data"))?;
        let cols = d.shape.get(1).copied().unwrap_or(1);
        if cols != columns {
            let message = format!("{p} has {cols} columns, {columns} expected");
            return Err(Error::internal(path.display().to_string(), message));
        }
        d.values.to_f64().ok_or_else(|| {
            Error::internal(path.display().to_string(), format!("{p} is not numeric"))
        })
    };
    let pos_path = series(position_id, "position")?;
    let time = file.timestamps(&pos_path)?;
    let pos = values(&pos_path, 2)?;
    let orientation = values(&series(orientation_id, "orientation")?, 1)?;
    let vel_path = series(velocity_id, "velocity")?;
    let vel = values(&vel_path, 3)?;
    let n = time.len();
    if pos.len() != 2 * n || orientation.len() != n || vel.len() != 3 * n {
        let message = format!("series lengths differ from the {n} timestamps");
        return Err(Error::internal(path.display().to_string(), message));
    }
    let frames = format!("{}/video_frame_ind", file.path_of_id(velocity_id)?);
    let video_frame_ind = if file.exists(&frames) {
        file.read_data(&format!("{frames}/data"))?.values.to_i64()
    } else {
        None
    };
    Ok(PositionData {
        source,
        time,
        position: pos.chunks_exact(2).map(|c| [c[0], c[1]]).collect(),
        orientation,
        velocity: vel.chunks_exact(3).map(|c| [c[0], c[1]]).collect(),
        speed: vel.chunks_exact(3).map(|c| c[2]).collect(),
        video_frame_ind,
    })
}
