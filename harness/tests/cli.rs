//! The `stepcheck exec` contract: JSON shape and exit codes (0 ran, 2 invalid definition,
//! 1 anything else).

use serde_json::{json, Value};
use std::process::Command;

mod common;
use common::stepcheck;

fn write_temp(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("stepcheck-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn exec_json_prints_one_object() {
    let def = write_temp(
        "ok.asl.json",
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"a": 1}, "End": true}}}"#,
    );
    let out = stepcheck(&["exec", &def, "--input-json", r#"{"x": 1}"#, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "SUCCEEDED");
    assert_eq!(v["output"], json!({"a": 1}));
    assert_eq!(v["error"], Value::Null);
    assert_eq!(v["cause"], Value::Null);
    let types: Vec<&str> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(
        v["history"][0]["executionStartedEventDetails"]["input"],
        "{\"x\":1}"
    );
    assert_eq!(v["history"][0]["timestamp"], json!(1_704_067_200.0));
}

#[test]
fn failed_execution_still_exits_zero() {
    let def = write_temp(
        "fail.asl.json",
        r#"{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}"#,
    );
    let out = stepcheck(&["exec", &def, "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            v["status"].as_str(),
            v["error"].as_str(),
            v["cause"].as_str()
        ),
        (Some("FAILED"), Some("E"), Some("C"))
    );
    assert_eq!(v["output"], Value::Null);
}

#[test]
fn invalid_definition_exits_two_with_diagnostics() {
    let def = write_temp(
        "bad.asl.json",
        r#"{"StartAt": "Nowhere", "States": {"P": {"Type": "Pass", "End": true}}}"#,
    );
    let out = stepcheck(&["exec", &def, "--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("MISSING_TRANSITION_TARGET"), "{err}");
    assert!(err.contains("/StartAt"), "{err}");
}

#[test]
fn other_failures_exit_one() {
    let def = write_temp(
        "ok2.asl.json",
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
    );
    let bad_input = stepcheck(&["exec", &def, "--input-json", "{nope"]);
    assert_eq!(bad_input.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad_input.stderr).contains("--input-json is not JSON"));
    let missing = stepcheck(&["exec", "/nonexistent/def.json"]);
    assert_eq!(missing.status.code(), Some(1));
    let task = write_temp(
        "task.asl.json",
        r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}"#,
    );
    let unsupported = stepcheck(&["exec", &task]);
    assert_eq!(unsupported.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unsupported.stderr)
        .contains("no mock for Task state 'T' (resource arn:aws:states:::lambda:invoke)"));
}

#[test]
fn express_prints_no_history() {
    let def = write_temp(
        "ex.asl.json",
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
    );
    let out = stepcheck(&["exec", &def, "--type", "EXPRESS", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["history"], json!([]));
    assert_eq!(v["status"], "SUCCEEDED");
}

#[test]
fn exec_reads_a_step_functions_local_mock_config() {
    let def = write_temp(
        "mocked.asl.json",
        r#"{"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "f", "Payload.$": "$"}, "OutputPath": "$.Payload",
            "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 1}], "End": true}}}"#,
    );
    let mocks = write_temp(
        "mocks.json",
        r#"{"StateMachines": {"Orders": {"TestCases": {"Flaky": {"Call": "FlakyThenOk"}}}},
            "MockedResponses": {"FlakyThenOk": {
                "0": {"Throw": {"Error": "Lambda.ServiceException", "Cause": "try again"}},
                "1": {"Return": {"StatusCode": 200, "Payload": {"ok": true}}}}}}"#,
    );
    let out = stepcheck(&[
        "exec",
        &def,
        "--state-machine-name",
        "Orders",
        "--mock-config",
        &mocks,
        "--test-case",
        "Flaky",
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "SUCCEEDED");
    assert_eq!(v["output"], json!({"ok": true}));
    let types: Vec<&str> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskFailed",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let unknown_case = stepcheck(&[
        "exec",
        &def,
        "--state-machine-name",
        "Orders",
        "--mock-config",
        &mocks,
        "--test-case",
        "Nope",
    ]);
    assert_eq!(unknown_case.status.code(), Some(1));
    let from_env = Command::new(env!("CARGO_BIN_EXE_stepcheck"))
        .args([
            "exec",
            &def,
            "--state-machine-name",
            "Orders",
            "--test-case",
            "Flaky",
            "--json",
        ])
        .env("SFN_MOCK_CONFIG", &mocks)
        .output()
        .unwrap();
    assert_eq!(
        from_env.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&from_env.stderr)
    );
    let v: Value = serde_json::from_slice(&from_env.stdout).unwrap();
    assert_eq!(v["output"], json!({"ok": true}));
    let alone = stepcheck(&["exec", &def, "--mock-config", &mocks]);
    assert_eq!(alone.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&alone.stderr)
        .contains("--mock-config and --test-case go together"));
}

#[test]
fn exec_with_state_machine_files_runs_children_and_lists_them() {
    let child = write_temp(
        "child.asl.json",
        r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "Next": "P"},
            "P": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": true}}}"#,
    );
    let parent = write_temp(
        "parent.asl.json",
        r#"{"StartAt": "Call", "States": {"Call": {"Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {"StateMachineArn": "arn:aws:states:eu-west-1:111122223333:stateMachine:Doubler",
                           "Name": "d1", "Input": {"n.$": "$.n"}},
            "ResultSelector": {"out.$": "$.Output"}, "End": true}}}"#,
    );
    let out = stepcheck(&[
        "exec",
        &parent,
        "--input-json",
        r#"{"n": 21}"#,
        "--region",
        "eu-west-1",
        "--account",
        "111122223333",
        "--state-machine-file",
        &format!("Doubler={child}"),
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "SUCCEEDED");
    assert_eq!(v["output"], json!({"out": {"doubled": 42}}));
    let children = v["children"].as_array().unwrap();
    assert_eq!(children.len(), 1);
    assert_eq!(children[0]["name"], "d1");
    assert_eq!(children[0]["stateMachine"], "Doubler");
    assert_eq!(children[0]["status"], "SUCCEEDED");
    assert_eq!(children[0]["output"], json!({"doubled": 42}));
    let types: Vec<&str> = children[0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "WaitStateEntered",
            "WaitStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    // The parent's task ended when the child did, 30 virtual seconds in.
    let parent_history = v["history"].as_array().unwrap();
    let succeeded = parent_history
        .iter()
        .find(|e| e["type"] == "TaskSucceeded")
        .unwrap();
    assert_eq!(succeeded["timestamp"], json!(1_704_067_230.0));
}

#[test]
fn exec_via_serve_prints_what_the_engine_prints() {
    // The same execution through `stepcheck serve` and aws-sdk-sfn, read back from
    // DescribeExecution and GetExecutionHistory, is the engine's, event for event.
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../corpus/task/retry-backoff-timing"
    );
    let def = format!("{dir}/Retrier.asl.json");
    let mocks = format!("{dir}/mocks.json");
    let args = [
        "exec",
        &def,
        "--input-json",
        r#"{"n": 1}"#,
        "--state-machine-name",
        "Retrier",
        "--mock-config",
        &mocks,
        "--test-case",
        "Throttled",
        "--json",
    ];
    let direct = stepcheck(&args);
    let mut via = args.to_vec();
    via.extend(["--via", "serve"]);
    let served = stepcheck(&via);
    assert_eq!(
        served.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&served.stderr)
    );
    let direct: Value = serde_json::from_slice(&direct.stdout).unwrap();
    let served: Value = serde_json::from_slice(&served.stdout).unwrap();
    assert_eq!(served["status"], "SUCCEEDED");
    assert_eq!(served["history"].as_array().map(Vec::len), Some(16));
    for key in ["status", "output", "error", "cause", "history"] {
        assert_eq!(served[key], direct[key], "{key}");
    }
    // An invalid definition is refused by CreateStateMachine: exit 2, the diagnostics on
    // stderr, as without --via.
    let bad = write_temp("bad-via.asl.json", r#"{"StartAt": "Nope", "States": {}}"#);
    let out = stepcheck(&["exec", &bad, "--via", "serve", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("SCHEMA_VALIDATION_FAILED"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
