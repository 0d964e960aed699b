//! The crate's one integration-test binary: the detectors against ripple_detection.

mod detectors;
mod multiunit;
