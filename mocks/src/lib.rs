//! Mocked AWS services for Task states (issue 3): Step Functions Local's MockConfigFile format
//! and Rust closures. Nothing is mocked yet: the engine rejects Task states with
//! "not supported yet".
#![forbid(unsafe_code)]
