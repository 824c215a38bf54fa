//! Criterion benchmarks of the engine live here (issue 9). None are written yet.
#![forbid(unsafe_code)]
