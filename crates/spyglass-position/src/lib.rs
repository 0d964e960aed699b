//! Position computations of spyglass-rs, on plain arrays (no database, no NWB).
//!
//! - [`kinematics`]: the `position_tools` / numpy building blocks (gradient,
//!   Gaussian smoothing, velocity, speed, centroid, angle, NaN interpolation, unwrap).
//! - [`trodes`]: TrodesPosV1's `calculate_position_info`, step by step, with
//!   Spyglass's default parameters.
//! - [`dlc`]: DeepLabCut post-processing as Spyglass's DLC v1 pipeline does it
//!   (likelihood threshold and jump removal, gap interpolation, smoothing,
//!   centroid, orientation).
//! - [`dlc_io`]: readers for DLC result files (`.csv` and pandas `.h5`).
//!
//! Bad input gets a [`PositionError`], never a panic or silently wrong numbers.

#![warn(missing_docs)]

pub mod dlc;
pub mod dlc_io;
pub mod error;
pub mod kinematics;
pub mod trodes;

pub use error::{PositionError, Result};
pub use kinematics::Xy;
pub use trodes::{
    calculate_position_info, PositionInfo, RawLeds, TrodesPosParams, UpsamplingMethod,
};
