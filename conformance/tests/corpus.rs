//! Every corpus scenario as its own test, on the in-process backend (`NAME`) and through
//! `stepcheck serve` and aws-sdk-sfn (`serve::NAME`: a server per scenario on loopback), so
//! that `cargo test` lists them one by one and a failure names the scenario, the backend and
//! shows its diff. Both backends can run every scenario: "not applicable" fails here too.
//!
//! A custom test harness (libtest-mimic) rather than generated test functions: the list
//! follows the corpus directory with no build step, and the usual filters and `--list` work.

use harness::backend::{BackendFactory, InProcess};
use harness::runner::{load_failure, run_scenario, RunOptions, Verdict};
use harness::scenario::{discover, Scenario};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn judge(dir: &Path, root: &Path, name: &str, backend: &dyn BackendFactory) -> Result<(), Failed> {
    let result = match Scenario::load(dir, root) {
        Ok(s) => run_scenario(&s, backend, &RunOptions::default()),
        Err(e) => load_failure(dir.to_path_buf(), name.to_string(), backend.name(), &e),
    };
    match result.verdict {
        Verdict::Pass => Ok(()),
        Verdict::NotApplicable(why) => Err(Failed::from(format!(
            "not applicable on {}: {why}",
            backend.name()
        ))),
        Verdict::Fail => Err(Failed::from(result.failures.join("\n\n"))),
    }
}

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
    let serve: Arc<dyn BackendFactory> = match harness::sdk::serve_backend() {
        Ok(b) => Arc::new(b),
        Err(e) => {
            eprintln!("cannot set up the serve backend: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut trials = Vec::new();
    for (dir, root) in dirs {
        let name = dir
            .strip_prefix(&root)
            .unwrap_or(&dir)
            .to_string_lossy()
            .replace('\\', "/");
        let (d, r, n) = (dir.clone(), root.clone(), name.clone());
        trials.push(Trial::test(name.clone(), move || {
            judge(&d, &r, &n, &InProcess)
        }));
        let serve = Arc::clone(&serve);
        trials.push(Trial::test(format!("serve::{name}"), move || {
            judge(&dir, &root, &name, serve.as_ref())
        }));
    }
    libtest_mimic::run(&args, trials).exit_code()
}
