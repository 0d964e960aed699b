//! Test modules and what they share.

mod hand_derived;
mod oracle;
// some of it is read only by the bench, which includes the same file
#[allow(dead_code)]
pub mod support;
mod validation;
