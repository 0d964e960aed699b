//! spyglass-db's integration tests, one binary: each module is one concern of the
//! engine (the algebra on the university schema, types, populate, delete, slices,
//! stores, transfers, concurrency, DataJoint interop). With
//! `SPYGLASS_TEST_BACKEND=mysql` the same tests run on MariaDB.

mod bad_input;
mod common;
mod concurrency;
mod datajoint_interop;
mod delete;
mod framework_apis;
mod merge;
mod populate;
mod slice;
mod stores;
mod transfer;
mod types;
mod university;
