//! One module per command (or group of commands); [`pipelines`] runs the pipeline
//! families' commands, which the pipelines declare themselves.

pub mod check;
pub mod declare_file;
pub mod delete;
pub mod demo;
pub mod doctor;
pub mod export;
pub mod fetch_nwb;
pub mod pipelines;
pub mod populate;
pub mod sessions;
pub mod tables;
pub mod transfer;
