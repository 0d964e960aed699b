//! `spyglass position plot`: a session's position entries as pictures — the
//! track seen from above with the head direction every so often, and speed over
//! time — one SVG per PositionOutput entry, whatever its source.

use super::merge::{fetch_position, position_merge_ids, PositionData};
use crate::kit::prelude::*;
use crate::plot::{Figure, Item, Panel};
use std::path::{Path, PathBuf};

/// Head-direction arrows drawn along the track.
const ARROWS: usize = 60;

/// `spyglass position plot`.
#[derive(clap::Args)]
pub struct PlotArgs {
    /// The session (`rat1_.nwb`, or the raw file name `rat1.nwb`).
    file: String,
    /// One position interval (`pos 0 valid times`); default: every entry of the session.
    #[arg(long)]
    interval: Option<String>,
    /// Folder for the pictures.
    #[arg(short = 'o', long, default_value = ".")]
    out: PathBuf,
}

/// Draws every PositionOutput entry the arguments name; prints the files written.
pub fn run(db: &Db, a: &PlotArgs) -> Result<()> {
    let nwb = args::session_name(db, &a.file)?;
    let ids = position_merge_ids(db, &nwb, a.interval.as_deref())?;
    if ids.is_empty() {
        let key = format!("nwb_file_name = {nwb}");
        return Err(Error::missing(super::merge::POSITION_OUTPUT, key));
    }
    std::fs::create_dir_all(&a.out)
        .map_err(|e| Error::bad(a.out.display().to_string(), e.to_string()))?;
    for (merge_id, source) in ids {
        let data = fetch_position(db, &merge_id)?;
        let path = picture_path(&a.out, &merge_id);
        figure(&format!("{nwb}: {source} {merge_id}"), &data).write(&path)?;
        println!("{}", path.display());
    }
    Ok(())
}

/// The picture of one position series.
pub fn figure(title: &str, d: &PositionData) -> Figure {
    let track: Vec<(f64, f64)> = d.position.iter().map(|p| (p[0], p[1])).collect();
    let finite = track.iter().filter(|(x, y)| x.is_finite() && y.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(x, y)| {
        (lo.min(x).min(y), hi.max(x).max(y))
    });
    let length = if hi > lo { 0.04 * (hi - lo) } else { 1.0 };
    let step = (track.len() / ARROWS).max(1);
    let arrows = (track.iter().zip(&d.orientation).step_by(step))
        .map(|(&(x, y), &o)| (x, y, length * o.cos(), length * o.sin()))
        .collect();
    let speed = d.time.iter().zip(&d.speed).map(|(&t, &s)| (t, s)).collect();
    Figure::new(title)
        .with(
            Panel::new("track and head direction", "x (cm)", "y (cm)")
                .equal_aspect()
                .with(Item::Line {
                    points: track,
                    color: "#1f4e99",
                })
                .with(Item::Arrows {
                    arrows,
                    color: "#c0392b",
                }),
        )
        .with(
            Panel::new("speed", "time (s)", "speed (cm/s)").with(Item::Line {
                points: speed,
                color: "#222",
            }),
        )
}

/// Where `run` writes the picture of `merge_id` in folder `out`.
pub fn picture_path(out: &Path, merge_id: &uuid::Uuid) -> PathBuf {
    out.join(format!("position_{merge_id}.svg"))
}
