//! Integration tests of spyglass-kilosort.
mod folder;
mod npy;
mod phy;
