//! The stepcheck harness: backends, normalisation, diffs, the runner and reports.
#![forbid(unsafe_code)]

pub mod bench;
