//! `stepcheck fuzz` runs the `stepcheck-fuzz` executable found next to `stepcheck`; without
//! it, it says how to build it. (The forwarding itself is exercised by the conformance crate,
//! which builds `stepcheck-fuzz`; this crate cannot depend on it.)

#[test]
fn stepcheck_fuzz_without_the_fuzzer_says_how_to_build_it() {
    // A copy of stepcheck alone in a fresh directory has no stepcheck-fuzz beside it.
    let dir = std::env::temp_dir().join(format!("stepcheck-fuzz-alone-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let exe = dir.join(format!("stepcheck{}", std::env::consts::EXE_SUFFIX));
    std::fs::copy(env!("CARGO_BIN_EXE_stepcheck"), &exe).expect("copy stepcheck");
    let output = std::process::Command::new(&exe)
        .args(["fuzz", "--cases", "1"])
        .output()
        .expect("run stepcheck");
    std::fs::remove_dir_all(&dir).expect("remove temp dir");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(
            "error: stepcheck fuzz needs stepcheck-fuzz: cargo build -p stepcheck-conformance --bin stepcheck-fuzz (looked for "
        ),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}
