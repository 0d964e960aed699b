//! The integration tests of spyglass-nwb, compiled into one test binary (`cargo test -p spyglass-nwb
//! --test integration`): one module per concern, linked once instead of once per file.
//! A new test file goes in this folder and is listed here.

mod bad_input;
mod common;
mod hash;
mod pose;
mod raw_read;
mod read_pynwb;
mod synthetic;
mod write_interop;
