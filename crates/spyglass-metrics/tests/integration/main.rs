//! Integration tests of spyglass-metrics.
mod correlograms;
mod si_oracle;
