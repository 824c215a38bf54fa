//! `stepcheck bench`: the JSON shape and exact counts. Timings vary from run to run and
//! machine to machine, so only their presence and sign are checked.

use serde_json::Value;
use std::process::{Command, Output};

fn stepcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stepcheck"))
        .args(args)
        // The report files are tested in bench_backends.rs; here they would only litter the
        // package directory.
        .arg("--no-report")
        .env_remove("SFN_MOCK_CONFIG")
        .output()
        .expect("stepcheck runs")
}

fn write_temp(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("stepcheck-bench-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

const TWO_STATES: &str = r#"{"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "Next": "B"},
    "B": {"Type": "Pass", "End": true}}}"#;

fn bench_json(args: &[&str]) -> Value {
    let out = stepcheck(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn bench_json_counts_executions_and_transitions_exactly() {
    let def = write_temp("two.asl.json", TWO_STATES);
    for ty in ["STANDARD", "EXPRESS"] {
        let v = bench_json(&[
            "bench",
            &def,
            "--input-json",
            r#"{"n": 1}"#,
            "--executions",
            "3",
            "--concurrency",
            "2",
            "--type",
            ty,
            "--json",
        ]);
        assert_eq!(v["executions"], 3, "{v}");
        assert_eq!(v["transitions"], 6, "{v}");
        assert_eq!(v["type"], ty);
        assert_eq!(v["backend"], "inprocess");
        assert_eq!(v["concurrency"], 2);
        assert_eq!(v["statuses"], serde_json::json!({"SUCCEEDED": 3}));
        for key in ["seconds", "executions_per_second", "transitions_per_second"] {
            assert!(v[key].as_f64().is_some_and(|x| x >= 0.0), "{key}: {v}");
        }
        for p in ["p50", "p90", "p99"] {
            assert!(
                v["latency_ms"][p].as_f64().is_some_and(|x| x >= 0.0),
                "{p}: {v}"
            );
        }
        if cfg!(target_os = "linux") {
            assert!(v["peak_rss_bytes"].as_u64().is_some_and(|b| b > 0), "{v}");
        } else {
            assert!(v["peak_rss_bytes"].is_null(), "{v}");
        }
    }
}

#[test]
fn bench_spreads_executions_over_more_threads_than_executions() {
    let def = write_temp("two-threads.asl.json", TWO_STATES);
    let v = bench_json(&[
        "bench",
        &def,
        "--input-json",
        r#"{"n": 2}"#,
        "--executions",
        "2",
        "--concurrency",
        "4",
        "--json",
    ]);
    assert_eq!(v["executions"], 2);
    assert_eq!(v["transitions"], 4);
    assert_eq!(v["statuses"]["SUCCEEDED"], 2);
}

#[test]
fn bench_without_json_prints_a_table() {
    let def = write_temp("two-table.asl.json", TWO_STATES);
    let out = stepcheck(&["bench", &def, "--executions", "1"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for row in [
        "executions",
        "transitions/s",
        "latency p50/p90/p99",
        "peak RSS",
    ] {
        assert!(text.contains(row), "{row} missing from:\n{text}");
    }
}

#[test]
fn bench_refuses_unknown_backends_and_invalid_definitions() {
    let def = write_temp("two-backend.asl.json", TWO_STATES);
    let out = stepcheck(&["bench", &def, "--backend", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown backend 'nope'"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let bad = write_temp("bad.asl.json", r#"{"StartAt": "Nope", "States": {}}"#);
    let out = stepcheck(&["bench", &bad, "--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());

    let out = stepcheck(&["bench", &def, "--executions", "0"]);
    assert_eq!(out.status.code(), Some(1));
}
