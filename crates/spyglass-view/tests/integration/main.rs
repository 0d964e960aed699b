//! The integration tests of `spyglass view`, one binary: the server started by the
//! `spyglass` binary on the demo session, driven by a real headless Chromium through
//! chromedriver (WebDriver), its plotted data checked against the NWB files read by
//! h5py.

mod browser;
mod common;
mod position;
mod sorting;
