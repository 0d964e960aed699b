//! Integration tests of spyglass-metrics.
mod si_oracle;
