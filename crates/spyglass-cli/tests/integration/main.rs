//! The integration tests of spyglass-cli, compiled into one test binary (`cargo test -p spyglass-cli
//! --test integration`): one module per concern, linked once instead of once per file.
//! A new test file goes in this folder and is listed here.

mod cli;
mod common;
mod demo;
mod export_workers;
mod hardening;
mod hardening_access;
mod kilosort_neuroconv;
mod position;
mod prefix_jobs;
mod ripple;
mod secrets;
mod sessions;
mod sorting;
mod sorting_faults;
mod sorting_v1;
mod spyglass_interop;
