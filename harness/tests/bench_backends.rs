//! `stepcheck bench` over the Step Functions API (a `stepcheck serve` in the process), the
//! report files, and the backends it cannot use. Timings vary from run to run, so only exact
//! counts, shapes and messages are checked.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::stepcheck;

/// A fresh directory of this test process and `name`.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "stepcheck-bench-backends-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

const TWO_PASSES: &str = r#"{"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "Next": "B"},
    "B": {"Type": "Pass", "End": true}}}"#;

/// A Pass, then a Fail: every execution ends FAILED after two states.
const FAILS: &str = r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "F"},
    "F": {"Type": "Fail", "Error": "Nope", "Cause": "on purpose"}}}"#;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn bench_json(args: &[&str]) -> Value {
    let out = stepcheck(args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON object ({e}):\n{}",
            text(&out.stdout)
        )
    })
}

/// Whether the SVG is well-formed XML with an `svg` root, as Python's parser reads it (the
/// project's tools need Python anyway); without python3, a weaker check of its shape.
fn assert_svg_parses(path: &Path) {
    let svg = std::fs::read_to_string(path).unwrap();
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{svg}"
    );
    assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
    let parsed = Command::new("python3")
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); \
             print(r.tag, len(r.findall('{http://www.w3.org/2000/svg}rect')))",
        ])
        .arg(path)
        .output();
    match parsed {
        Ok(out) => {
            assert_eq!(
                out.status.code(),
                Some(0),
                "{} does not parse: {}",
                path.display(),
                text(&out.stderr)
            );
            let said = text(&out.stdout);
            assert!(
                said.starts_with("{http://www.w3.org/2000/svg}svg "),
                "{said}"
            );
        }
        Err(e) => println!("python3 is not here ({e}); the SVG's shape was checked without it"),
    }
}

/// `stepcheck bench FILE --backend serve` with 6 executions on 3 workers of type `ty`
/// through `client`, reports under `out`: the `--json` object.
fn bench_on_serve(file: &str, ty: &str, client: &str, out: &str) -> Value {
    bench_json(&[
        "bench",
        file,
        "--backend",
        "serve",
        "--client",
        client,
        "--input-json",
        r#"{"n": 1}"#,
        "--executions",
        "6",
        "--concurrency",
        "3",
        "--type",
        ty,
        "--json",
        "--out",
        out,
    ])
}

#[test]
fn bench_on_serve_runs_standard_and_express_and_writes_reports() {
    let dir = temp_dir("serve");
    let def = write(&dir, "two.asl.json", TWO_PASSES);
    let out = dir.join("reports");
    let out_arg = out.to_string_lossy().into_owned();
    for (ty, source) in [("STANDARD", "history"), ("EXPRESS", "inprocess")] {
        let v = bench_on_serve(&def, ty, "sdk", &out_arg);
        assert_eq!(v["backend"], "serve", "{v}");
        assert_eq!(v["client"], "sdk", "{v}");
        assert_eq!(v["type"], ty, "{v}");
        assert_eq!(v["executions"], 6, "{v}");
        assert_eq!(v["concurrency"], 3, "{v}");
        assert_eq!(v["statuses"], json!({"SUCCEEDED": 6}), "{v}");
        // Two Pass states entered per execution.
        assert_eq!(v["transitions"], 12, "{v}");
        assert_eq!(v["transitions_source"], source, "{v}");
        for key in ["seconds", "executions_per_second", "transitions_per_second"] {
            assert!(v[key].as_f64().is_some_and(|x| x > 0.0), "{key}: {v}");
        }
        for p in ["p50", "p90", "p99"] {
            assert!(
                v["latency_ms"][p].as_f64().is_some_and(|x| x > 0.0),
                "{p}: {v}"
            );
        }

        let base = format!("two-{}-serve", ty.to_ascii_lowercase());
        let report: Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(format!("{base}.json"))).unwrap(),
        )
        .unwrap();
        // The report is the --json object and more.
        for (k, value) in v.as_object().unwrap() {
            if !matches!(k.as_str(), "peak_rss_bytes") {
                assert_eq!(&report[k], value, "{k}");
            }
        }
        assert!(report["peak_rss_bytes"].is_u64() || report["peak_rss_bytes"].is_null());
        let date = report["date"].as_str().unwrap();
        assert_eq!(date.len(), "2026-01-01T00:00:00.000Z".len(), "{date}");
        assert!(date.ends_with('Z') && date.as_bytes()[10] == b'T', "{date}");
        assert!(report["machine"]["cores"].as_u64().is_some_and(|c| c >= 1));
        assert_eq!(report["machine"]["arch"], std::env::consts::ARCH);
        assert_eq!(report["definition"], def.as_str());
        let histogram = report["latency_histogram"].as_array().unwrap();
        assert!(!histogram.is_empty());
        let counted: u64 = histogram.iter().map(|b| b["count"].as_u64().unwrap()).sum();
        assert_eq!(counted, 6);
        for b in histogram {
            assert!(
                b["from_ms"].as_f64().unwrap() <= b["to_ms"].as_f64().unwrap(),
                "{b}"
            );
        }
        assert_svg_parses(&out.join(format!("{base}.svg")));
    }
}

/// `--client raw` runs the same measurement with its own unsigned requests: the same counts,
/// the client named in the report, and a report file of its own.
#[test]
fn bench_on_serve_with_the_raw_client() {
    let dir = temp_dir("raw");
    let def = write(&dir, "two.asl.json", TWO_PASSES);
    let fails = write(&dir, "fails.json", FAILS);
    let out = dir.join("reports");
    let out_arg = out.to_string_lossy().into_owned();
    for (ty, source) in [("STANDARD", "history"), ("EXPRESS", "inprocess")] {
        for (file, status) in [(&def, "SUCCEEDED"), (&fails, "FAILED")] {
            let v = bench_on_serve(file, ty, "raw", &out_arg);
            assert_eq!(v["backend"], "serve", "{v}");
            assert_eq!(v["client"], "raw", "{v}");
            assert_eq!(v["type"], ty, "{v}");
            assert_eq!(v["statuses"], json!({status: 6}), "{v}");
            assert_eq!(v["transitions"], 12, "{v}");
            assert_eq!(v["transitions_source"], source, "{v}");
        }
        let report = out.join(format!("two-{}-serve-raw.json", ty.to_ascii_lowercase()));
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        assert_eq!(report["client"], "raw");
        assert!(!out
            .join(format!("two-{}-serve.json", ty.to_ascii_lowercase()))
            .exists());
    }
}

/// The raw client needs an endpoint: the in-process engine has none.
#[test]
fn the_raw_client_is_refused_in_process() {
    let dir = temp_dir("raw-inprocess");
    let def = write(&dir, "two.asl.json", TWO_PASSES);
    let run = stepcheck(&["bench", &def, "--client", "raw", "--no-report"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    assert_eq!(
        text(&run.stderr).trim_end(),
        "error: backend inprocess cannot run a benchmark: --client raw calls an API endpoint, and the in-process engine runs without one"
    );
}

#[test]
fn bench_on_serve_counts_failed_executions_by_status() {
    let dir = temp_dir("failed");
    let def = write(&dir, "fails.json", FAILS);
    let out = dir.join("out");
    let v = bench_json(&[
        "bench",
        &def,
        "--backend",
        "serve",
        "--executions",
        "4",
        "--concurrency",
        "2",
        "--json",
        "--out",
        &out.to_string_lossy(),
    ]);
    assert_eq!(v["statuses"], json!({"FAILED": 4}), "{v}");
    assert_eq!(v["transitions"], 8, "{v}");
    // The AWS SDK unless told otherwise.
    assert_eq!(v["client"], "sdk", "{v}");
    assert!(out.join("fails-standard-serve.json").is_file());
    assert!(out.join("fails-standard-serve.svg").is_file());
}

#[test]
fn bench_in_process_writes_its_report_too_and_a_table_names_it() {
    let dir = temp_dir("inprocess");
    let def = write(&dir, "two.asl.json", TWO_PASSES);
    let out = dir.join("r");
    let run = stepcheck(&[
        "bench",
        &def,
        "--input-json",
        r#"{"n": 5}"#,
        "--executions",
        "5",
        "--type",
        "EXPRESS",
        "--out",
        &out.to_string_lossy(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let json_path = out.join("two-express-inprocess.json");
    let stdout = text(&run.stdout);
    assert!(
        stdout.contains(&format!("report: {}", json_path.display())),
        "{stdout}"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(report["transitions_source"], "inprocess");
    assert_eq!(report["statuses"], json!({"SUCCEEDED": 5}));
    assert_eq!(report["transitions"], 10);
    assert_svg_parses(&out.join("two-express-inprocess.svg"));

    // --no-report writes nothing.
    let quiet = dir.join("quiet");
    let run = stepcheck(&[
        "bench",
        &def,
        "--executions",
        "1",
        "--no-report",
        "--out",
        &quiet.to_string_lossy(),
    ]);
    assert_eq!(run.status.code(), Some(0));
    assert!(!quiet.exists());
}

#[test]
fn bench_on_an_endpoint_nobody_listens_at_is_skipped() {
    let dir = temp_dir("closed");
    let def = write(&dir, "two.asl.json", TWO_PASSES);
    // A port that was free a moment ago: nothing listens there once the listener is gone.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let out = dir.join("out");
    let run = stepcheck(&[
        "bench",
        &def,
        "--backend",
        &url,
        "--json",
        "--out",
        &out.to_string_lossy(),
    ]);
    assert_eq!(run.status.code(), Some(3), "{}", text(&run.stderr));
    assert!(run.stdout.is_empty(), "{}", text(&run.stdout));
    let stderr = text(&run.stderr);
    assert!(
        stderr.starts_with(&format!("skipped: {url}: nothing listens at {url}")),
        "{stderr}"
    );
    assert!(!out.exists(), "no report for a run that did not happen");
}

#[test]
fn bench_names_the_backends_it_cannot_use() {
    let dir = temp_dir("unknown");
    let def = write(&dir, "two.asl.json", TWO_PASSES);
    let run = stepcheck(&["bench", &def, "--backend", "nope", "--no-report"]);
    assert_eq!(run.status.code(), Some(1));
    assert_eq!(
        text(&run.stderr).trim_end(),
        "error: unknown backend 'nope' (stepcheck bench knows inprocess, serve, moto, localstack, aws, or an http(s):// endpoint)"
    );
    let run = stepcheck(&[
        "bench",
        &def,
        "--backend",
        "sfn-local-container",
        "--no-report",
    ]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        text(&run.stderr).contains("backend sfn-local-container cannot run a benchmark"),
        "{}",
        text(&run.stderr)
    );
}

#[test]
fn bench_on_serve_refuses_an_invalid_definition_with_exit_2() {
    let dir = temp_dir("invalid");
    let def = write(&dir, "bad.json", r#"{"StartAt": "Nope", "States": {}}"#);
    let run = stepcheck(&["bench", &def, "--backend", "serve", "--json", "--no-report"]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    assert!(run.stdout.is_empty());
    assert!(
        text(&run.stderr).starts_with(&format!("{def}: ")),
        "{}",
        text(&run.stderr)
    );
}

#[test]
fn bench_counts_express_transitions_on_a_standard_twin_when_the_engine_cannot_run_them() {
    // The engine alone has no answer for the Task (no mock), so the in-process count fails;
    // a Standard execution of the same definition on the backend is counted instead. On
    // serve, without a mock either, the Task fails after two states were entered.
    let dir = temp_dir("twin");
    let def = write(
        &dir,
        "task.json",
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "T"},
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Parameters": {"FunctionName": "f"}, "End": true}}}"#,
    );
    let v = bench_json(&[
        "bench",
        &def,
        "--backend",
        "serve",
        "--type",
        "EXPRESS",
        "--executions",
        "3",
        "--json",
        "--no-report",
    ]);
    assert_eq!(v["statuses"], json!({"FAILED": 3}), "{v}");
    assert_eq!(v["transitions"], 6, "{v}");
    assert_eq!(v["transitions_source"], "history", "{v}");
}
