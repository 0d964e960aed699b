//! The tests of spyglass-linearize, one binary: hand-derived cases, validation
//! errors, and track_linearization (through Python Spyglass's environment) as an
//! oracle.

mod cases;
