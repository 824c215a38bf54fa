//! Smoke test of `stepcheck serve` with boto3 and the AWS CLI (`tests/smoke/boto3_cli.py`).
//!
//! The Python tools are not part of the build: `harness/scripts/install-python-tools.sh`
//! installs them into `${STEPCHECK_TOOLS:-$HOME/.cache/stepcheck}/py`, and this test puts
//! that directory (or `STEPCHECK_PY`, when set) on `PYTHONPATH`. `PYTHON` picks the
//! interpreter (default `python3`). Without boto3 the test says it skipped and asserts
//! nothing, unless `STEPCHECK_REQUIRE_PYTHON_TOOLS` is set (`.ci/run` sets it after
//! installing them), where a missing install fails.

use harness::serve::{ServeConfig, Server};
use std::path::PathBuf;
use std::process::Command;

/// Where the install script puts the packages.
fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("STEPCHECK_PY") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("STEPCHECK_TOOLS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/stepcheck")))
        .unwrap_or_else(|| PathBuf::from(".cache/stepcheck"));
    base.join("py")
}

/// A Python command with the tools directory ahead of everything else on its path.
fn python() -> Command {
    let interpreter = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let mut cmd = Command::new(interpreter);
    let mut path = tools_dir().into_os_string();
    if let Some(existing) = std::env::var_os("PYTHONPATH") {
        path.push(":");
        path.push(existing);
    }
    cmd.env("PYTHONPATH", path);
    cmd
}

#[test]
fn boto3_and_the_aws_cli_drive_the_server() {
    let found = python()
        .args(["-c", "import boto3, awscli"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        // CI installs the tools and sets this, so that there a missing install fails
        // instead of passing as a skip.
        assert!(
            std::env::var_os("STEPCHECK_REQUIRE_PYTHON_TOOLS").is_none(),
            "boto3 and awscli are required here (STEPCHECK_REQUIRE_PYTHON_TOOLS is set) but not installed; run harness/scripts/install-python-tools.sh"
        );
        println!("skipped: boto3 is not installed; run harness/scripts/install-python-tools.sh");
        return;
    }
    let server = Server::start(ServeConfig {
        port: 0,
        ..Default::default()
    })
    .expect("the server starts");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smoke/boto3_cli.py");
    let out = python()
        .arg(script)
        .arg(server.url())
        // The clients must not find real credentials or a profile of the machine.
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the smoke script failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert_eq!(stdout.trim(), "ok", "stderr:\n{stderr}");
    server.shutdown();
}
