//! Every corpus scenario as its own test, on the in-process backend, so that `cargo test`
//! lists them one by one and a failure names the scenario and shows its diff.
//!
//! A custom test harness (libtest-mimic) rather than generated test functions: the list
//! follows the corpus directory with no build step, and the usual filters and `--list` work.

use harness::backend::InProcess;
use harness::runner::{load_failure, run_scenario, RunOptions, Verdict};
use harness::scenario::{discover, Scenario};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::PathBuf;

fn main() -> std::process::ExitCode {
    let args = Arguments::from_args();
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let dirs = match discover(&[corpus]) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cannot list the corpus: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let trials = dirs
        .into_iter()
        .map(|(dir, root)| {
            let name = dir
                .strip_prefix(&root)
                .unwrap_or(&dir)
                .to_string_lossy()
                .replace('\\', "/");
            Trial::test(name.clone(), move || {
                let result = match Scenario::load(&dir, &root) {
                    Ok(s) => run_scenario(&s, &InProcess, &RunOptions::default()),
                    Err(e) => load_failure(dir.clone(), name.clone(), "in-process", &e),
                };
                match result.verdict {
                    Verdict::Pass | Verdict::NotApplicable(_) => Ok(()),
                    Verdict::Fail => Err(Failed::from(result.failures.join("\n\n"))),
                }
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit_code()
}
