//! Tests of spyglass-position against its oracles: `position_tools`, numpy and
//! Spyglass 0.6.0's own functions (compiled from the installed Spyglass source,
//! see `py/spyglass_src.py`) run in `.venv-spyglass`, and pandas for DLC files.
//! Values are compared at 1e-9 relative unless a test says otherwise.

#[path = "suite/common.rs"]
mod common;
#[path = "suite/dlc.rs"]
mod dlc;
#[path = "suite/dlc_io.rs"]
mod dlc_io;
#[path = "suite/kinematics.rs"]
mod kinematics;
#[path = "suite/trodes.rs"]
mod trodes;
