//! Conformance tests: corpus scenarios, malformed definitions, and property-based tests.
//!
//! The library holds what the property tests and `stepcheck fuzz` share: the generators of
//! workflows ([`gen`]), the runner with its mock handler ([`run`]), the history invariants
//! ([`check`]), the metamorphic relations ([`relations`]), the fuzzing campaign ([`fuzz`])
//! and the differential runs against other backends ([`differential`]). The tests live under
//! `tests/`.
#![forbid(unsafe_code)]

pub mod check;
pub mod differential;
pub mod fuzz;
pub mod gen;
pub mod relations;
pub mod run;
