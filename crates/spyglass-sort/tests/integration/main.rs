//! Integration tests of spyglass-sort.
mod detect;
mod gt;
mod sorter;
