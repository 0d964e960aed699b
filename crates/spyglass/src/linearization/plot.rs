//! `spyglass linearization plot`: a session's LinearizedPositionV1 entries as
//! pictures, one SVG per entry — the track graph seen from above with the head
//! position (grey), its projection onto the graph coloured by track segment and,
//! every so often, an arrow from a position to its projection; then the linear
//! position over time in the same colours.

use super::v1::{
    fetch_linearized, LinearizationKey, LinearizedData, TrackGraphRow, LINEARIZED_POSITION_V1,
    TRACK_GRAPH,
};
use crate::kit::prelude::*;
use crate::plot::{Figure, Item, Panel, PALETTE};
use spyglass_db::Cond;
use std::path::{Path, PathBuf};

/// About how many position-to-projection arrows the track panel draws (every
/// `len / ARROWS`-th sample, at least every sample).
pub const ARROWS: usize = 150;

/// `spyglass linearization plot`.
#[derive(clap::Args)]
pub struct PlotArgs {
    /// The session (`rat1_.nwb`, or the raw file name `rat1.nwb`).
    file: String,
    /// Restrict LinearizedPositionV1 by ATTR=VALUE (repeatable; all must hold), e.g.
    /// `--key track_graph_name=loop`; default: every entry of the session.
    #[arg(long = "key", value_name = "ATTR=VALUE")]
    keys: Vec<String>,
    /// Folder for the pictures.
    #[arg(short = 'o', long, default_value = ".")]
    out: PathBuf,
}

/// Draws every LinearizedPositionV1 entry of the session the arguments name;
/// prints the files written.
pub fn run(db: &Db, a: &PlotArgs) -> Result<()> {
    let nwb = args::session_name(db, &a.file)?;
    let positions = crate::position::merge::position_merge_ids(db, &nwb, None)?;
    let pairs = args::key_pairs(db, LINEARIZED_POSITION_V1, &a.keys)?;
    let keys: Vec<LinearizationKey> = db.fetch_as(
        &db.table(LINEARIZED_POSITION_V1)?
            .restrict(Cond::Map(pairs))?,
    )?;
    let keys: Vec<LinearizationKey> = keys
        .into_iter()
        .filter(|k| positions.iter().any(|(id, _)| *id == k.pos_merge_id))
        .collect();
    if keys.is_empty() {
        let key = std::iter::once(format!("a position of {nwb}"))
            .chain(a.keys.iter().cloned())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(Error::missing(LINEARIZED_POSITION_V1, key));
    }
    std::fs::create_dir_all(&a.out).map_err(|e| Error::io(&a.out, e))?;
    for key in keys {
        let graph: TrackGraphRow = db.row(
            TRACK_GRAPH,
            &serde_json::json!({ "track_graph_name": key.track_graph_name }),
        )?;
        let lin = fetch_linearized(db, &key)?;
        let head = crate::position::merge::fetch_position(db, &key.pos_merge_id)?;
        if head.time.len() != lin.time.len() {
            let message = format!(
                "{} linearized samples for {} positions",
                lin.time.len(),
                head.time.len()
            );
            return Err(Error::bad(
                format!("{LINEARIZED_POSITION_V1} {}", key_text(&key)),
                message,
            ));
        }
        let title = format!(
            "{nwb}: position {} on track graph `{}`, parameters `{}`",
            key.pos_merge_id, key.track_graph_name, key.linearization_param_name
        );
        let path = picture_path(&a.out, &key);
        figure(&title, &graph, &head.position, &lin).write(&path)?;
        println!("{}", path.display());
    }
    Ok(())
}

/// Where `run` writes the picture of entry `key` in folder `out`.
pub fn picture_path(out: &Path, key: &LinearizationKey) -> PathBuf {
    let safe = |s: &str| {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect::<String>()
    };
    out.join(format!(
        "linearized_{}_{}_{}.svg",
        key.pos_merge_id,
        safe(&key.track_graph_name),
        safe(&key.linearization_param_name)
    ))
}

/// The colour of track segment `id`.
pub fn segment_color(id: i64) -> &'static str {
    PALETTE[id.rem_euclid(PALETTE.len() as i64) as usize]
}

/// The picture of one entry: the graph's edges (dark grey), the head position
/// `head` (light grey), the projections as one line per segment (a break where
/// the animal is on another segment) with arrows from position to projection,
/// and the linear position over time, one line per segment.
pub fn figure(
    title: &str,
    graph: &TrackGraphRow,
    head: &[[f64; 2]],
    lin: &LinearizedData,
) -> Figure {
    let node = |i: i64| {
        usize::try_from(i)
            .ok()
            .and_then(|i| graph.node_positions.get(i))
            .copied()
    };
    let mut track = Panel::new(
        "track graph, head position and its projection by segment",
        "x (cm)",
        "y (cm)",
    )
    .equal_aspect();
    for e in &graph.edges {
        if let (Some(a), Some(b)) = (node(e[0]), node(e[1])) {
            track = track.with(Item::Line {
                points: vec![(a[0], a[1]), (b[0], b[1])],
                color: "#444",
            });
        }
    }
    track = track.with(Item::Line {
        points: head.iter().map(|p| (p[0], p[1])).collect(),
        color: "#bbb",
    });
    let mut segments: Vec<i64> = lin.track_segment_id.clone();
    segments.sort_unstable();
    segments.dedup();
    let step = (lin.time.len() / ARROWS).max(1);
    let mut linear = Panel::new("linear position", "time (s)", "linear position (cm)");
    for &s in &segments {
        let on = |k: usize| lin.track_segment_id[k] == s;
        let projected = (0..lin.time.len()).map(|k| {
            if on(k) {
                (lin.projected[k][0], lin.projected[k][1])
            } else {
                (f64::NAN, f64::NAN)
            }
        });
        let color = segment_color(s);
        let arrows = (0..lin.time.len().min(head.len()))
            .step_by(step)
            .filter(|&k| on(k))
            .map(|k| {
                (
                    head[k][0],
                    head[k][1],
                    lin.projected[k][0] - head[k][0],
                    lin.projected[k][1] - head[k][1],
                )
            })
            .collect();
        track = track
            .with(Item::Line {
                points: projected.collect(),
                color,
            })
            .with(Item::Arrows { arrows, color });
        let over_time = (0..lin.time.len()).map(|k| {
            if on(k) {
                (lin.time[k], lin.linear_position[k])
            } else {
                (f64::NAN, f64::NAN)
            }
        });
        linear = linear.with(Item::Line {
            points: over_time.collect(),
            color,
        });
    }
    Figure::new(title).with(track).with(linear)
}
