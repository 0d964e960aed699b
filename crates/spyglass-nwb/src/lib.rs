//! NWB 2.x read and write over HDF5 for spyglass-rs.
//!
//! Owns everything that touches NWB files: reading session metadata, hardware,
//! tables, series, intervals and the ndx-franklab-novela types Spyglass relies on
//! ([`NwbFile`]); the one walk over a file's objects, which every reader and writer
//! needing more than one level goes through ([`NwbFile::visit`], [`walk`]); fast
//! channel-major raw-data reads with parallel decoding of gzip, LZF, Zstd and
//! Bitshuffle chunks ([`RawReader`], [`filters`]); the one volts reader every pipeline
//! uses, electrodes mapped by id ([`VoltsReader`]); writing analysis files derived
//! from a parent file ([`AnalysisFileWriter`]); the ingest copy whose bulk data are
//! external links ([`write_linked_copy`]); and synthetic sessions with known ground
//! truth ([`synthetic`]). Errors are one enum, [`NwbError`], naming the file and object.

#![warn(missing_docs)]

pub mod data;
pub mod error;
pub mod filters;
mod h5;
pub mod hash;
pub mod model;
pub mod pose;
pub mod raw;
pub mod read;
pub mod spec;
pub mod synthetic;
pub mod table;
pub mod volts;
pub mod walk;
pub mod write;

pub use data::{Data, Values};
pub use error::{NwbError, Result};
pub use hash::{nwbfile_hash, SPYGLASS_PRECISION};
pub use model::*;
pub use pose::{PoseEstimation, PoseEstimationSeries, Skeleton};
pub use raw::{RawReader, SampleSpan};
pub use read::{parse_datetime, NwbFile, WalkSummary};
pub use table::{Column, DynamicTable};
pub use volts::{Scaling, VoltsReader};
pub use walk::{Node, NodeLink, Visit, WalkOptions};
pub use write::{
    write_linked_copy, AnalysisFileWriter, ColumnSpec, Compression, ElectricalSeriesSpec,
    Placement, SeriesData, SeriesStream, StreamDtype, StreamedSeriesSpec, TableSpec,
    TimeIntervalsSpec, TimeSeriesSpec, TimingSpec, UnitsSpec,
};
