//! The integration tests of spyglass-blob, compiled into one test binary (`cargo test -p spyglass-blob
//! --test integration`): one module per concern, linked once instead of once per file.
//! A new test file goes in this folder and is listed here.

mod bad_input;
mod common;
mod json;
mod oracle;
mod roundtrip;
mod vectors;
