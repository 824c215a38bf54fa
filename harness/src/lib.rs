//! The stepcheck harness: scenarios, backends, normalisation, history diffs, the runner,
//! reports, and a small API for users' own tests.
//!
//! - [`scenario`]: the scenario format (one directory per scenario) and its loader.
//! - [`backend`]: the [`backend::Backend`] trait the runner drives, capabilities, and the
//!   in-process backend over `engine::Service`.
//! - [`sdk`]: the backend over the Step Functions API through aws-sdk-sfn (any endpoint,
//!   real AWS), with run prefixes, tags and cleanup.
//! - [`normalize`]: one normaliser for ARNs, names, timestamps, tokens, ids.
//! - [`diff`]: value and history comparison (per branch and iteration lanes) with readable
//!   diffs.
//! - [`runner`]: runs scenarios in parallel and judges them.
//! - [`report`]: JUnit XML, Markdown and self-contained HTML.
//! - [`testing`]: load a definition, attach mocks or closures, run, assert.
#![forbid(unsafe_code)]

pub mod backend;
pub mod bench;
pub mod containers;
pub mod diff;
pub mod emulators;
pub mod normalize;
mod rawapi;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod sdk;
pub mod serve;
pub mod testing;
