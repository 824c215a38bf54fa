//! Task states on a scripted handler: events, Retry with backoff on the virtual clock, Catch,
//! timeouts and heartbeats. Expected values follow the AWS Developer Guide ("Handling errors
//! in Step Functions workflows") and executions recorded against AWS.

use engine::{
    Definition, ExecutionConfig, ExecutionResult, ExecutionStatus, TaskHandler, TaskHandlerError,
    TaskRequest, TaskResponse, VirtualClock,
};
use serde_json::{json, Value};

/// Answers each call with the next scripted response and records what it was asked.
struct Script {
    responses: Vec<TaskResponse>,
    calls: Vec<(String, Value, u32)>,
}

impl Script {
    fn new(responses: Vec<TaskResponse>) -> Self {
        Script {
            responses,
            calls: Vec::new(),
        }
    }
}

impl TaskHandler for Script {
    fn invoke(&mut self, r: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
        self.calls
            .push((r.state_name.to_string(), r.parameters.clone(), r.attempt));
        if self.responses.is_empty() {
            return Err(TaskHandlerError::MockFailed {
                state: r.state_name.to_string(),
                reason: "script exhausted".into(),
            });
        }
        Ok(self.responses.remove(0))
    }
}

fn run(def: Value, input: Value, script: &mut Script) -> ExecutionResult {
    let d = Definition::parse(&def.to_string()).expect("valid definition");
    let config = ExecutionConfig::default();
    let mut clock = VirtualClock::starting_at(config.start_time);
    d.execute_with(input, &config, &mut clock, script)
        .expect("run completes")
}

fn types(r: &ExecutionResult) -> Vec<String> {
    r.history.iter().map(|e| e.kind.type_name()).collect()
}

fn fail(error: &str) -> TaskResponse {
    TaskResponse::failure(error, Some(format!("{error} cause")))
}

const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";

#[test]
fn service_integration_events_and_result() {
    let mut s = Script::new(vec![TaskResponse::success(
        json!({"StatusCode": 200, "Payload": {"r": 1}}),
    )]);
    let r = run(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "f", "Payload.$": "$"}, "TimeoutSeconds": 5,
            "ResultSelector": {"value.$": "$.Payload.r"}, "ResultPath": "$.out", "End": true}}}),
        json!({"in": 1}),
        &mut s,
    );
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(r.output, Some(json!({"in": 1, "out": {"value": 1}})));
    assert_eq!(
        s.calls,
        vec![(
            "T".to_string(),
            json!({"FunctionName": "f", "Payload": {"in": 1}}),
            0
        )]
    );
    assert_eq!(
        types(&r),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let scheduled = r.history[2].to_api_json();
    assert_eq!(
        scheduled["taskScheduledEventDetails"],
        json!({"resourceType": "lambda", "resource": "invoke", "region": "us-east-1",
               "parameters": "{\"FunctionName\":\"f\",\"Payload\":{\"in\":1}}", "timeoutInSeconds": 5})
    );
    assert_eq!(
        r.history[3].to_api_json()["taskStartedEventDetails"],
        json!({"resourceType": "lambda", "resource": "invoke"})
    );
    assert_eq!(
        r.history[4].to_api_json()["taskSucceededEventDetails"],
        json!({"resourceType": "lambda", "resource": "invoke",
               "output": "{\"StatusCode\":200,\"Payload\":{\"r\":1}}", "outputDetails": {"truncated": false}})
    );
    let ids: Vec<(u64, u64)> = r
        .history
        .iter()
        .map(|e| (e.id.0, e.previous_event_id.0))
        .collect();
    assert_eq!(
        ids,
        [(1, 0), (2, 0), (3, 2), (4, 3), (5, 4), (6, 5), (7, 6)]
    );
}

#[test]
fn lambda_function_arn_unwraps_the_payload() {
    let mut s = Script::new(vec![TaskResponse::success(
        json!({"StatusCode": 200, "Payload": "{\"a\": [1, 2]}"}),
    )]);
    let r = run(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": true}}}),
        json!({"x": 1}),
        &mut s,
    );
    assert_eq!(r.output, Some(json!({"a": [1, 2]})));
    assert_eq!(
        types(&r),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(
        r.history[2].to_api_json()["lambdaFunctionScheduledEventDetails"],
        json!({"resource": LAMBDA, "input": "{\"x\":1}", "inputDetails": {"truncated": false}})
    );
    assert_eq!(
        r.history[3]
            .to_api_json()
            .get("lambdaFunctionStartedEventDetails"),
        None
    );
}

#[test]
fn retries_back_off_on_the_virtual_clock() {
    let mut s = Script::new(vec![
        fail("E"),
        fail("E"),
        fail("E"),
        TaskResponse::success(json!(7)),
    ]);
    let r = run(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets",
            "Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 3}],
            "ResultSelector": {"retries.$": "$$.State.RetryCount", "v.$": "$"}, "End": true}}}),
        json!({}),
        &mut s,
    );
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(r.output, Some(json!({"retries": 3, "v": 7})));
    assert_eq!(
        s.calls.iter().map(|c| c.2).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    // Delays 2 s, 6 s, 18 s between a failure and the next TaskScheduled.
    let scheduled: Vec<String> = r
        .history
        .iter()
        .filter(|e| e.kind.type_name() == "TaskScheduled")
        .map(|e| e.timestamp.to_rfc3339())
        .collect();
    assert_eq!(
        scheduled,
        [
            "2024-01-01T00:00:00.000Z",
            "2024-01-01T00:00:02.000Z",
            "2024-01-01T00:00:08.000Z",
            "2024-01-01T00:00:26.000Z"
        ]
    );
    let d = r.history[2].to_api_json();
    assert_eq!(d["taskScheduledEventDetails"]["resourceType"], "aws-sdk:s3");
    assert_eq!(d["taskScheduledEventDetails"]["resource"], "listBuckets");
    // Each new attempt follows the previous failure.
    let failed_then_scheduled: Vec<(u64, u64)> = r
        .history
        .iter()
        .filter(|e| e.kind.type_name() == "TaskScheduled")
        .map(|e| (e.id.0, e.previous_event_id.0))
        .collect();
    assert_eq!(failed_then_scheduled, [(3, 2), (6, 5), (9, 8), (12, 11)]);
}

#[test]
fn retry_max_delay_and_exhaustion_then_catch() {
    let mut s = Script::new(vec![fail("E"), fail("E"), fail("E")]);
    let r = run(
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": LAMBDA,
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "BackoffRate": 10, "MaxAttempts": 2, "MaxDelaySeconds": 15}],
                "Catch": [{"ErrorEquals": ["Other"], "Next": "Wrong"}, {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.err", "Next": "Handled"}],
                "End": true},
            "Wrong": {"Type": "Fail", "Error": "Wrong"},
            "Handled": {"Type": "Pass", "End": true}}}),
        json!({"keep": true}),
        &mut s,
    );
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(
        r.output,
        Some(json!({"keep": true, "err": {"Error": "E", "Cause": "E cause"}}))
    );
    assert_eq!(s.calls.len(), 3);
    // 10 s, then min(100, 15) = 15 s.
    assert_eq!(r.stop_time.to_rfc3339(), "2024-01-01T00:00:25.000Z");
    let exited = r
        .history
        .iter()
        .find(|e| e.kind.type_name() == "TaskStateExited")
        .unwrap();
    let failed = r
        .history
        .iter()
        .rev()
        .find(|e| e.kind.type_name() == "LambdaFunctionFailed")
        .unwrap();
    assert_eq!(exited.previous_event_id, failed.id);
}

#[test]
fn max_attempts_zero_never_retries_and_uncaught_errors_fail_the_execution() {
    let mut s = Script::new(vec![fail("E")]);
    let r = run(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA,
            "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 0}], "End": true}}}),
        json!({}),
        &mut s,
    );
    assert_eq!(r.status, ExecutionStatus::Failed);
    assert_eq!(
        (r.error.as_deref(), r.cause.as_deref()),
        (Some("E"), Some("E cause"))
    );
    assert_eq!(s.calls.len(), 1);
    let last = r.history.last().unwrap();
    assert_eq!(last.kind.type_name(), "ExecutionFailed");
    assert_eq!(last.previous_event_id.0, 5, "follows LambdaFunctionFailed");
}

#[test]
fn task_timeout_is_not_a_task_failed() {
    let mut s = Script::new(vec![TaskResponse::success(json!(1)).after_millis(10_000)]);
    let r = run(
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "TimeoutSeconds": 5,
                "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Wrong"}, {"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"}],
                "End": true},
            "Wrong": {"Type": "Fail", "Error": "Wrong"},
            "TimedOut": {"Type": "Pass", "End": true}}}),
        json!({}),
        &mut s,
    );
    assert_eq!(r.output, Some(json!({"Error": "States.Timeout"})));
    let t = r
        .history
        .iter()
        .find(|e| e.kind.type_name() == "TaskTimedOut")
        .unwrap();
    assert_eq!(t.timestamp.to_rfc3339(), "2024-01-01T00:00:05.000Z");
    assert_eq!(
        t.to_api_json()["taskTimedOutEventDetails"],
        json!({"resourceType": "sqs", "resource": "sendMessage", "error": "States.Timeout"})
    );
}

#[test]
fn heartbeat_timeout_and_timeout_seconds_path() {
    let mut s = Script::new(vec![TaskResponse::success(json!(1)).after_millis(30_000)]);
    let r = run(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
            "TimeoutSecondsPath": "$.timeout", "HeartbeatSeconds": 10, "End": true}}}),
        json!({"timeout": 60}),
        &mut s,
    );
    assert_eq!(r.status, ExecutionStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("States.HeartbeatTimeout"));
    assert_eq!(r.stop_time.to_rfc3339(), "2024-01-01T00:00:10.000Z");
    let sched = r.history[2].to_api_json();
    assert_eq!(sched["taskScheduledEventDetails"]["timeoutInSeconds"], 60);
    assert_eq!(sched["taskScheduledEventDetails"]["heartbeatInSeconds"], 10);
}

#[test]
fn a_task_that_finishes_in_time_moves_the_clock_by_its_duration() {
    let mut s = Script::new(vec![TaskResponse::success(json!(1)).after_millis(4_000)]);
    let r = run(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "TimeoutSeconds": 5, "End": true}}}),
        json!({}),
        &mut s,
    );
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(
        r.history[4].timestamp.to_rfc3339(),
        "2024-01-01T00:00:04.000Z"
    );
}

#[test]
fn full_jitter_is_seeded() {
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA,
        "Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 100, "MaxAttempts": 1, "JitterStrategy": "FULL"}], "End": true}}});
    let stop = |seed: u64| {
        let d = Definition::parse(&def.to_string()).unwrap();
        let config = ExecutionConfig {
            seed,
            ..ExecutionConfig::default()
        };
        let mut clock = VirtualClock::starting_at(config.start_time);
        let mut s = Script::new(vec![fail("E"), TaskResponse::success(json!(1))]);
        d.execute_with(json!({}), &config, &mut clock, &mut s)
            .unwrap()
            .stop_time
    };
    assert_eq!(stop(1), stop(1));
    assert_ne!(stop(1), stop(2));
    let waited = stop(1).millis() - ExecutionConfig::default().start_time.millis();
    assert!((0..=100_000).contains(&waited), "{waited}");
}

#[test]
fn states_all_does_not_catch_runtime_errors() {
    let mut s = Script::new(vec![]);
    let r = run(
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": LAMBDA, "Parameters": {"x.$": "$.missing"},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": true},
            "Caught": {"Type": "Pass", "End": true}}}),
        json!({}),
        &mut s,
    );
    assert_eq!(r.status, ExecutionStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("States.Runtime"));
    assert!(s.calls.is_empty());
}

#[test]
fn an_oversized_task_result_is_a_task_failure_that_states_all_catches() {
    // Recorded on AWS: LambdaFunctionFailed with States.DataLimitExceeded, then the catcher.
    let big = "x".repeat(engine::PAYLOAD_LIMIT_BYTES);
    let mut s = Script::new(vec![TaskResponse::success(
        json!({"StatusCode": 200, "Payload": big}),
    )]);
    let r = run(
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": LAMBDA, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}], "End": true},
            "H": {"Type": "Pass", "End": true}}}),
        json!({}),
        &mut s,
    );
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(
        r.output,
        Some(json!({"Error": "States.DataLimitExceeded",
            "Cause": format!("The state/task '{LAMBDA}' returned a result with a size exceeding the maximum number of bytes service limit.")}))
    );
    assert_eq!(types(&r)[4], "LambdaFunctionFailed");
}

#[test]
fn a_handlers_states_runtime_is_never_caught() {
    let mut s = Script::new(vec![TaskResponse::failure(
        "States.Runtime",
        Some("no more mocked responses".into()),
    )]);
    let r = run(
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": LAMBDA,
                "Retry": [{"ErrorEquals": ["States.ALL"]}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}], "End": true},
            "H": {"Type": "Pass", "End": true}}}),
        json!({}),
        &mut s,
    );
    assert_eq!(r.status, ExecutionStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("States.Runtime"));
    assert_eq!(s.calls.len(), 1);
}
