//! The stepcheck engine: Amazon States Language definitions, validation, data flow,
//! intrinsic functions and the interpreter that records AWS-shaped execution histories.
//!
//! The engine does no I/O: no files, no network, no async runtime, no wall clock. Time comes
//! from an injected [`Clock`] (virtual by default); randomness from a seeded [`Rng`].
#![forbid(unsafe_code)]
#![allow(dead_code)]

mod choice;
mod clock;
mod diagnostics;
mod intrinsics;
pub mod jsonpath;
mod scope;
mod validate;

pub use clock::{Clock, Timestamp, VirtualClock};
pub use diagnostics::{Diagnostic, DiagnosticCode, Severity};
pub use scope::Rng;
pub use validate::validate;
