//! Integration tests of spyglass-sort.
mod detect;
mod sorter;
