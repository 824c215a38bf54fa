//! The runner and reports on the fixtures under `tests/fixtures` (not part of the corpus):
//! a scenario broken on purpose fails with a readable diff in JUnit, and histories from
//! different scheduler seeds compare equal although their raw order differs.

use harness::backend::InProcess;
use harness::diff::history_diff;
use harness::normalize::Normalizer;
use harness::report::{html, junit, markdown};
use harness::runner::{run_all, RunOptions, Verdict};
use harness::scenario::{discover, Level};
use std::path::PathBuf;

fn fixtures(which: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(which)
}

#[test]
fn a_broken_scenario_fails_in_junit_with_a_readable_diff() {
    let dirs = discover(&[fixtures("broken")]).unwrap();
    let results = run_all(&dirs, &InProcess, &RunOptions::default(), 2, &|_| {});
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].verdict, Verdict::Fail);
    let xml = junit(&results);
    assert!(
        xml.contains("<testcase classname=\"in-process\" name=\"wrong-output\""),
        "{xml}"
    );
    assert!(xml.contains("<failure message="), "{xml}");
    // The diff names the field and both values, escaped for XML.
    assert!(
        xml.contains(
            "greeting: expected &quot;Goodbye, world!&quot;, got &quot;Hello, world!&quot;"
        ),
        "{xml}"
    );
    assert!(
        xml.contains(
            "event #2 PassStateExited &apos;Greet&apos;: stateExitedEventDetails.output.greeting"
        ),
        "{xml}"
    );
    let md = markdown(&results);
    assert!(md.contains("❌ fail") && md.contains("```diff"), "{md}");
    let page = html(&results);
    assert!(
        page.contains("<svg") && !page.contains("<script"),
        "self-contained page"
    );
}

#[test]
fn passing_fixtures_pass_and_the_run_cli_exits_by_verdict() {
    let dirs = discover(&[fixtures("passing")]).unwrap();
    let results = run_all(&dirs, &InProcess, &RunOptions::default(), 2, &|_| {});
    for r in &results {
        assert_eq!(r.verdict, Verdict::Pass, "{}: {:?}", r.name, r.failures);
    }
    let bin = env!("CARGO_BIN_EXE_stepcheck");
    let ok = std::process::Command::new(bin)
        .args(["run", "--jobs", "1"])
        .arg(fixtures("passing"))
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let report = tempdir();
    let bad = std::process::Command::new(bin)
        .arg("run")
        .arg(fixtures("broken"))
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    for f in ["junit.xml", "summary.md", "index.html"] {
        assert!(report.join(f).is_file(), "{f} written");
    }
    let _ = std::fs::remove_dir_all(&report);
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("stepcheck-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn histories_from_different_interleavings_compare_equal() {
    let text =
        std::fs::read_to_string(fixtures("passing/parallel-seeds/machine.asl.json")).unwrap();
    let def = engine::Definition::parse(&text).unwrap();
    let n = Normalizer::default();
    let run = |seed: u64| {
        let config = engine::ExecutionConfig {
            seed,
            ..Default::default()
        };
        let r = def.execute(serde_json::json!({"x": 1}), &config).unwrap();
        n.events(
            &r.history
                .iter()
                .map(engine::Event::to_api_json)
                .collect::<Vec<_>>(),
        )
    };
    let first = run(0);
    let mut orders = std::collections::HashSet::new();
    for seed in 0..32 {
        let h = run(seed);
        let order: Vec<String> = h.iter().map(|e| e["type"].to_string()).collect();
        orders.insert(order);
        assert_eq!(history_diff(&first, &h, Level::Cause), None, "seed {seed}");
    }
    assert!(
        orders.len() > 1,
        "the seeds should give different interleavings"
    );
}
