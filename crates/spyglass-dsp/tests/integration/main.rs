//! The integration tests of spyglass-dsp, compiled into one test binary (`cargo test -p spyglass-dsp
//! --test integration`): one module per concern, linked once instead of once per file.
//! A new test file goes in this folder and is listed here.

mod interval_props;
mod oracle_python;
mod sosfiltfilt_oracle;
mod synthetic_theta;
