//! Helpers shared by the command-line tests.

use std::process::{Command, Output};

/// Runs the `stepcheck` binary of this build with `args`, without a mock file from the
/// environment (a developer's `SFN_MOCK_CONFIG` must not change what the tests see).
pub fn stepcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stepcheck"))
        .args(args)
        .env_remove("SFN_MOCK_CONFIG")
        .output()
        .expect("stepcheck runs")
}
