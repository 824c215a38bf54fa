//! Executions of the flow states (Pass, Wait, Succeed, Fail) with exact outputs, errors and
//! histories. Expected values follow the AWS Developer Guide's examples and executions
//! recorded against AWS.

use engine::{Definition, ExecutionConfig, ExecutionResult, ExecutionStatus, WorkflowType};
use serde_json::{json, Value};

fn run(def: Value, input: Value) -> ExecutionResult {
    run_with(def, input, &ExecutionConfig::default())
}

fn run_with(def: Value, input: Value, config: &ExecutionConfig) -> ExecutionResult {
    let d = Definition::parse(&def.to_string()).expect("valid definition");
    d.execute(input, config).expect("supported definition")
}

/// Each event as `(id, previousEventId, type, details)` with timestamps dropped.
fn events(r: &ExecutionResult) -> Vec<Value> {
    r.history
        .iter()
        .map(|e| {
            let mut v = e.to_api_json();
            v.as_object_mut().unwrap().remove("timestamp");
            v
        })
        .collect()
}

#[test]
fn pass_chain_history_is_exact() {
    let r = run(
        json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.a", "Next": "B"},
            "B": {"Type": "Pass", "End": true}}}),
        json!({"in": true}),
    );
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(r.output, Some(json!({"in": true, "a": {"x": 1}})));
    assert_eq!(
        events(&r),
        vec![
            json!({"type": "ExecutionStarted", "id": 1, "previousEventId": 0, "executionStartedEventDetails": {"input": "{\"in\":true}", "inputDetails": {"truncated": false}, "roleArn": "arn:aws:iam::123456789012:role/StepFunctionsExecutionRole"}}),
            json!({"type": "PassStateEntered", "id": 2, "previousEventId": 0, "stateEnteredEventDetails": {"name": "A", "input": "{\"in\":true}", "inputDetails": {"truncated": false}}}),
            json!({"type": "PassStateExited", "id": 3, "previousEventId": 2, "stateExitedEventDetails": {"name": "A", "output": "{\"in\":true,\"a\":{\"x\":1}}", "outputDetails": {"truncated": false}}}),
            json!({"type": "PassStateEntered", "id": 4, "previousEventId": 3, "stateEnteredEventDetails": {"name": "B", "input": "{\"in\":true,\"a\":{\"x\":1}}", "inputDetails": {"truncated": false}}}),
            json!({"type": "PassStateExited", "id": 5, "previousEventId": 4, "stateExitedEventDetails": {"name": "B", "output": "{\"in\":true,\"a\":{\"x\":1}}", "outputDetails": {"truncated": false}}}),
            json!({"type": "ExecutionSucceeded", "id": 6, "previousEventId": 5, "executionSucceededEventDetails": {"output": "{\"in\":true,\"a\":{\"x\":1}}", "outputDetails": {"truncated": false}}}),
        ]
    );
}

#[test]
fn data_flow_stages_follow_the_developer_guide() {
    // The InputPath / Parameters / ResultPath / OutputPath walk-through of the guide's
    // "Input and output processing" page, on a Pass state.
    let r = run(
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
            "InputPath": "$.library",
            "Parameters": {"title.$": "$.book.title", "fixed": {"n": 1}, "nested": {"author.$": "$.book.author"}},
            "ResultPath": "$.result.details",
            "OutputPath": "$.result",
            "End": true}}}),
        json!({"library": {"book": {"title": "Dune", "author": "Herbert"}}, "other": 1}),
    );
    // ResultPath writes into the state's raw input, creating the missing "result" object.
    assert_eq!(
        r.output,
        Some(
            json!({"details": {"title": "Dune", "fixed": {"n": 1}, "nested": {"author": "Herbert"}}})
        )
    );
}

#[test]
fn null_paths_discard() {
    let r = run(
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 5, "ResultPath": null, "Next": "Q"},
            "Q": {"Type": "Pass", "InputPath": null, "Next": "R"},
            "R": {"Type": "Pass", "OutputPath": null, "End": true}}}),
        json!({"a": 1}),
    );
    assert_eq!(r.output, Some(json!({})));
}

#[test]
fn missing_parameter_path_fails_with_aws_cause() {
    let r = run(
        json!({"StartAt": "pass", "States": {"pass": {"Type": "Pass", "Parameters": {"value.$": "$.no_such_jsonpath"}, "End": true}}}),
        json!({"int-literal": 0}),
    );
    assert_eq!(r.status, ExecutionStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        r.cause.as_deref(),
        Some("An error occurred while executing the state 'pass' (entered at the event id #2). The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{\"int-literal\":0}'")
    );
    let last = r.history.last().unwrap().to_api_json();
    assert_eq!(last["type"], "ExecutionFailed");
    assert_eq!(last["previousEventId"], 2);
}

#[test]
fn missing_input_path_fails() {
    let r = run(
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$.a.b", "End": true}}}),
        json!({}),
    );
    assert_eq!(r.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        r.cause.as_deref(),
        Some("An error occurred while executing the state 'P' (entered at the event id #2). Invalid path '$.a.b' : No results for path: $['a']['b']")
    );
}

#[test]
fn result_path_into_a_non_object_fails() {
    let r = run(
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "ResultPath": "$.a.b", "End": true}}}),
        json!({"a": 3}),
    );
    assert_eq!(r.error.as_deref(), Some("States.ResultPathMatchFailure"));
    assert_eq!(
        r.cause.as_deref(),
        Some("An error occurred while executing the state 'P' (entered at the event id #2). Unable to apply ReferencePath $.a.b to input \"{\\\"a\\\":3}\"")
    );
}

#[test]
fn context_object_fields() {
    let config = ExecutionConfig {
        state_machine_name: "Machine".into(),
        execution_name: "run-1".into(),
        ..ExecutionConfig::default()
    };
    let r = run_with(
        json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 90, "Next": "P"},
            "P": {"Type": "Pass", "Parameters": {"ctx.$": "$$"}, "End": true}}}),
        json!({"k": "v"}),
        &config,
    );
    assert_eq!(
        r.output,
        Some(json!({"ctx": {
            "Execution": {
                "Id": "arn:aws:states:us-east-1:123456789012:execution:Machine:run-1",
                "Input": {"k": "v"},
                "Name": "run-1",
                "RoleArn": "arn:aws:iam::123456789012:role/StepFunctionsExecutionRole",
                "StartTime": "2024-01-01T00:00:00.000Z",
                "RedriveCount": 0
            },
            "StateMachine": {"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:Machine", "Name": "Machine"},
            // As recorded on AWS: a Pass state's context has no State.RetryCount.
            "State": {"EnteredTime": "2024-01-01T00:01:30.000Z", "Name": "P"}
        }}))
    );
}

#[test]
fn a_wait_of_a_year_moves_the_virtual_clock_only() {
    let r = run(
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 31_535_999, "End": true}}}),
        json!({}),
    );
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    let ts: Vec<String> = r.history.iter().map(|e| e.timestamp.to_rfc3339()).collect();
    assert_eq!(
        ts,
        [
            "2024-01-01T00:00:00.000Z",
            "2024-01-01T00:00:00.000Z",
            "2024-12-30T23:59:59.000Z",
            "2024-12-30T23:59:59.000Z"
        ]
    );
}

#[test]
fn wait_variants() {
    let def = |w: Value| {
        let mut s = json!({"Type": "Wait", "End": true});
        for (k, v) in w.as_object().unwrap() {
            s[k] = v.clone();
        }
        json!({"StartAt": "W", "States": {"W": s}})
    };
    let until = run(def(json!({"Timestamp": "2024-01-02T00:00:00Z"})), json!({}));
    assert_eq!(until.stop_time.to_rfc3339(), "2024-01-02T00:00:00.000Z");
    let past = run(def(json!({"Timestamp": "2016-03-14T01:59:00Z"})), json!({}));
    assert_eq!(past.stop_time.to_rfc3339(), "2024-01-01T00:00:00.000Z");
    let path = run(def(json!({"SecondsPath": "$.s"})), json!({"s": 60}));
    assert_eq!(path.stop_time.to_rfc3339(), "2024-01-01T00:01:00.000Z");
    let tpath = run(
        def(json!({"TimestampPath": "$.t"})),
        json!({"t": "2024-01-01T01:00:00+01:00"}),
    );
    assert_eq!(tpath.stop_time.to_rfc3339(), "2024-01-01T00:00:00.000Z");

    let neg = run(
        def(json!({"SecondsPath": "$.input.waitSeconds"})),
        json!({"input": {"waitSeconds": -1}}),
    );
    assert_eq!(neg.cause.as_deref(), Some("An error occurred while executing the state 'W' (entered at the event id #2). The SecondsPath parameter references a negative value: $.input.waitSeconds == -1"));
    let frac = run(def(json!({"SecondsPath": "$.s"})), json!({"s": 1.5}));
    assert_eq!(frac.cause.as_deref(), Some("An error occurred while executing the state 'W' (entered at the event id #2). The SecondsPath parameter cannot be parsed as a long value: $.s == 1.5"));
    let missing = run(def(json!({"SecondsPath": "$.s"})), json!({}));
    assert_eq!(missing.cause.as_deref(), Some("An error occurred while executing the state 'W' (entered at the event id #2). The SecondsPath parameter does not reference an input value: $.s"));
    let bad_ts = run(
        def(json!({"TimestampPath": "$.t"})),
        json!({"t": "05-12-2016T21:29:29Z"}),
    );
    assert_eq!(bad_ts.cause.as_deref(), Some("An error occurred while executing the state 'W' (entered at the event id #2). The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: $.t == 05-12-2016T21:29:29Z"));
    let far = run(
        def(json!({"TimestampPath": "$.t"})),
        json!({"t": "2094-12-11T00:11:31.000Z"}),
    );
    assert_eq!(far.error.as_deref(), Some("States.Runtime"));
    assert_eq!(far.cause.as_deref(), Some("An error occurred while executing the state 'W' (entered at the event id #2). Wait state delay is too long."));
}

#[test]
fn execution_timeout_fires_at_the_virtual_deadline() {
    let r = run(
        json!({"TimeoutSeconds": 10, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}),
        json!({}),
    );
    assert_eq!(r.status, ExecutionStatus::TimedOut);
    assert_eq!(r.stop_time.to_rfc3339(), "2024-01-01T00:00:10.000Z");
    let types: Vec<String> = r.history.iter().map(|e| e.kind.type_name()).collect();
    assert_eq!(
        types,
        ["ExecutionStarted", "WaitStateEntered", "ExecutionTimedOut"]
    );
    assert_eq!(r.history[2].previous_event_id.0, 2);
}

#[test]
fn express_keeps_no_history_and_times_out_after_five_minutes() {
    let config = ExecutionConfig {
        workflow_type: WorkflowType::Express,
        ..ExecutionConfig::default()
    };
    let r = run_with(
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 301, "End": true}}}),
        json!({}),
        &config,
    );
    assert_eq!(r.status, ExecutionStatus::TimedOut);
    assert!(r.history.is_empty());
    assert_eq!(r.stop_time.to_rfc3339(), "2024-01-01T00:05:00.000Z");
}

#[test]
fn fail_state_error_and_cause() {
    let r = run(
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "SomeFailure", "Cause": "Because."}}}),
        json!({}),
    );
    assert_eq!(r.status, ExecutionStatus::Failed);
    assert_eq!(
        (r.error.as_deref(), r.cause.as_deref()),
        (Some("SomeFailure"), Some("Because."))
    );
    let last = r.history.last().unwrap().to_api_json();
    assert_eq!(
        last["executionFailedEventDetails"],
        json!({"error": "SomeFailure", "cause": "Because."})
    );

    let bare = run(
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail"}}}),
        json!({}),
    );
    assert_eq!((bare.error, bare.cause), (None, None));
    assert_eq!(
        bare.history.last().unwrap().to_api_json()["executionFailedEventDetails"],
        json!({})
    );

    let paths = run(
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$$.Execution.Input.c"}}}),
        json!({"e": "E1", "c": "C1"}),
    );
    assert_eq!(
        (paths.error.as_deref(), paths.cause.as_deref()),
        (Some("E1"), Some("C1"))
    );

    let missing = run(
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.ErrorX"}}}),
        json!({"a": 1}),
    );
    assert_eq!(missing.cause.as_deref(), Some("An error occurred while executing the state 'F' (entered at the event id #2). The JSONPath '$.ErrorX' specified for the field 'ErrorPath' could not be found in the input '{\"a\":1}'"));
}

#[test]
fn succeed_state_applies_paths() {
    let r = run(
        json!({"StartAt": "S", "States": {"S": {"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}}}),
        json!({"a": {"b": [1]}}),
    );
    assert_eq!(r.output, Some(json!([1])));
    let types: Vec<String> = r.history.iter().map(|e| e.kind.type_name()).collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "SucceedStateEntered",
            "SucceedStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[test]
fn oversized_output_is_a_data_limit_error() {
    let big = "x".repeat(engine::PAYLOAD_LIMIT_BYTES);
    let r = run(
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": big, "End": true}}}),
        json!({}),
    );
    assert_eq!(r.error.as_deref(), Some("States.DataLimitExceeded"));
}

#[test]
fn unsupported_states_are_refused_before_running() {
    let d = Definition::parse(
        &json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}, "End": true,
            "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "MANIFEST"}, "Parameters": {"Bucket": "b", "Key": "k"}}}}})
        .to_string(),
    )
    .unwrap();
    let e = d
        .execute(json!([]), &ExecutionConfig::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "not supported yet: ItemReader InputType MANIFEST (state 'M')"
    );
}

#[test]
fn a_task_without_a_handler_stops_the_run_naming_state_and_resource() {
    let d = Definition::parse(
        &json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}})
            .to_string(),
    )
    .unwrap();
    let e = d
        .execute(json!({}), &ExecutionConfig::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "no mock for Task state 'T' (resource arn:aws:states:::lambda:invoke)"
    );
}

#[test]
fn long_pass_chain_runs() {
    let mut states = serde_json::Map::new();
    for i in 0..1000 {
        let mut s = json!({"Type": "Pass", "Parameters": {"i": i, "v.$": "$.v"}});
        if i == 999 {
            s["End"] = json!(true);
        } else {
            s["Next"] = json!(format!("S{}", i + 1));
        }
        states.insert(format!("S{i}"), s);
    }
    let r = run(json!({"StartAt": "S0", "States": states}), json!({"v": 7}));
    assert_eq!(r.output, Some(json!({"i": 999, "v": 7})));
    assert_eq!(r.history.len(), 2002);
}

/// `execute` hands its input to the first state without copying it when nothing can read it
/// back; a definition that reads the context must still see the input as it was, after the
/// first state has changed its own (JSONPath `$$` and JSONata `$states.context` alike).
#[test]
fn the_context_keeps_the_execution_input_after_the_first_state_changes_its_own() {
    let r = run(
        json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Result": "changed", "ResultPath": "$.a", "Next": "B"},
            "B": {"Type": "Pass", "Parameters": {"now.$": "$", "then.$": "$$.Execution.Input"},
                  "End": true}}}),
        json!({"a": "original"}),
    );
    assert_eq!(
        r.output,
        Some(json!({"now": {"a": "changed"}, "then": {"a": "original"}}))
    );
    let r = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
            "A": {"Type": "Pass", "Output": {"a": "changed"}, "Next": "B"},
            "B": {"Type": "Pass",
                  "Output": {"now": "{% $states.input %}", "then": "{% $states.context.Execution.Input %}"},
                  "End": true}}}),
        json!({"a": "original"}),
    );
    assert_eq!(
        r.output,
        Some(json!({"now": {"a": "changed"}, "then": {"a": "original"}}))
    );
}
