//! Integration tests of spyglass-metrics.
