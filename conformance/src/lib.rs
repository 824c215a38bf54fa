//! Conformance tests: corpus scenarios, malformed definitions, and (later) property and
//! differential tests. The tests live under `tests/`.
#![forbid(unsafe_code)]
