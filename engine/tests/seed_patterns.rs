//! The seed patterns of nested executions, callbacks and Standard vs Express, run in the
//! in-process service on the virtual clock, with the parent's exact history.

use engine::{
    ExecutionStatus, HandlerFactory, ScriptedAction, ScriptedCall, Service, TaskHandler,
    TaskHandlerError, TaskRequest, TaskResponse, Timestamp, WorkflowType,
};
use serde_json::{json, Value};

const START: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z
const ACCOUNT: &str = "arn:aws:states:us-east-1:123456789012";

type Row = (u64, u64, String, i64);

/// (id, previousEventId, type, ms after the start) of every event.
fn timeline(svc: &Service, arn: &str) -> Vec<Row> {
    svc.get_execution_history(arn)
        .unwrap()
        .iter()
        .map(|e| {
            (
                e.id.0,
                e.previous_event_id.0,
                e.kind.type_name(),
                e.timestamp.millis() - START,
            )
        })
        .collect()
}

fn row(id: u64, prev: u64, ty: &str, ms: i64) -> Row {
    (id, prev, ty.to_string(), ms)
}

/// The details object of event `id` (from 1).
fn details(svc: &Service, arn: &str, id: usize) -> Value {
    let e = svc.get_execution_history(arn).unwrap()[id - 1].to_api_json();
    let (_, d) = e
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.ends_with("EventDetails"))
        .unwrap();
    d.clone()
}

fn machine(svc: &mut Service, name: &str, def: Value) -> String {
    svc.create_state_machine(name, &def.to_string(), WorkflowType::Standard, None)
        .unwrap()
        .arn
}

/// A child that echoes its input after waiting `seconds`.
fn sleeper(seconds: u64) -> Value {
    json!({"StartAt": "Echo", "States": {
        "Echo": {"Type": "Pass", "Parameters": {"got.$": "$"}, "Next": "Sleep"},
        "Sleep": {"Type": "Wait", "Seconds": seconds, "End": true}
    }})
}

fn call(resource: &str, child: &str, name: &str, input: Value, next: Option<&str>) -> Value {
    let mut t = json!({
        "Type": "Task",
        "Resource": resource,
        "Parameters": {"StateMachineArn": child, "Name": name, "Input": input}
    });
    match next {
        Some(n) => t["Next"] = json!(n),
        None => t["End"] = json!(true),
    }
    t
}

const SYNC: &str = "arn:aws:states:::states:startExecution.sync";
const SYNC2: &str = "arn:aws:states:::states:startExecution.sync:2";

#[test]
fn a_parent_calls_a_child_sync_three_times_in_sequence() {
    let mut svc = Service::new();
    let child = machine(&mut svc, "Child", sleeper(10));
    let parent = machine(
        &mut svc,
        "Parent",
        json!({"StartAt": "One", "States": {
            "One": call(SYNC, &child, "c1", json!({"n": 1}), Some("Two")),
            "Two": call(SYNC, &child, "c2", json!({"n": 2}), Some("Three")),
            "Three": call(SYNC, &child, "c3", json!({"n": 3}), None)
        }}),
    );
    let p = svc.start_execution(&parent, Some("p"), None).unwrap();
    assert_eq!(p.status, ExecutionStatus::Succeeded);
    assert_eq!(p.stop_date, Some(Timestamp(START + 30_000)));
    let mut expected = vec![row(1, 0, "ExecutionStarted", 0)];
    for k in 0..3u64 {
        let base = 1 + 6 * k;
        let t = 10_000 * k as i64;
        // The first state follows event 0, as on AWS; each next one the previous Exited.
        let entered_after = if k == 0 { 0 } else { base };
        expected.extend([
            row(base + 1, entered_after, "TaskStateEntered", t),
            row(base + 2, base + 1, "TaskScheduled", t),
            row(base + 3, base + 2, "TaskStarted", t),
            row(base + 4, base + 3, "TaskSubmitted", t),
            row(base + 5, base + 4, "TaskSucceeded", t + 10_000),
            row(base + 6, base + 5, "TaskStateExited", t + 10_000),
        ]);
    }
    expected.push(row(20, 19, "ExecutionSucceeded", 30_000));
    assert_eq!(timeline(&svc, &p.execution_arn), expected);
    // The second call's scheduled parameters and its submission (StartExecution's answer).
    assert_eq!(
        details(&svc, &p.execution_arn, 9),
        json!({"resourceType": "states", "resource": "startExecution.sync",
               "region": "us-east-1",
               "parameters": format!("{{\"StateMachineArn\":\"{child}\",\"Name\":\"c2\",\"Input\":{{\"n\":2}}}}")})
    );
    let submitted: Value = serde_json::from_str(
        details(&svc, &p.execution_arn, 11)["output"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        submitted,
        json!({"ExecutionArn": format!("{ACCOUNT}:execution:Child:c2"),
               "SdkHttpMetadata": {"AllHttpHeaders": {"Content-Type": ["application/x-amz-json-1.0"]},
                                   "HttpHeaders": {"Content-Type": "application/x-amz-json-1.0"},
                                   "HttpStatusCode": 200},
               "SdkResponseMetadata": {"RequestId": "00000000-0000-0000-0000-000000000000"},
               "StartDate": START + 10_000})
    );
    // `.sync`: the child's output is text in the result.
    let out = p.output.unwrap();
    assert_eq!(out["Output"], json!("{\"got\":{\"n\":3}}"));
    assert_eq!(out["StartDate"], json!(START + 20_000));
    assert_eq!(out["StopDate"], json!(START + 30_000));
    assert_eq!(svc.executions().len(), 4);
}

#[test]
fn sync_and_sync2_give_the_child_description_with_output_as_text_or_json() {
    let mut svc = Service::new();
    let child = machine(&mut svc, "Child", sleeper(5));
    let parent = machine(
        &mut svc,
        "Parent",
        json!({"StartAt": "Text", "States": {
            "Text": {"Type": "Task", "Resource": SYNC, "ResultPath": "$.text",
                     "Parameters": {"StateMachineArn": child, "Name": "t", "Input": {"k": "v"}},
                     "Next": "Json"},
            "Json": {"Type": "Task", "Resource": SYNC2, "ResultPath": "$.json",
                     "Parameters": {"StateMachineArn": child, "Name": "j", "Input": {"k": "v"}},
                     "End": true}
        }}),
    );
    let p = svc.start_execution(&parent, Some("p"), None).unwrap();
    let described = |name: &str, start: i64, output: Value, input: Value| {
        json!({
            "ExecutionArn": format!("{ACCOUNT}:execution:Child:{name}"),
            "Input": input,
            "InputDetails": {"Included": true},
            "Name": name,
            "Output": output,
            "OutputDetails": {"Included": true},
            "StartDate": start,
            "StateMachineArn": child,
            "Status": "SUCCEEDED",
            "StopDate": start + 5_000
        })
    };
    assert_eq!(
        p.output,
        Some(json!({
            "text": described("t", START, json!("{\"got\":{\"k\":\"v\"}}"), json!("{\"k\":\"v\"}")),
            "json": described("j", START + 5_000, json!({"got": {"k": "v"}}), json!({"k": "v"}))
        }))
    );
}

#[test]
fn a_parent_runs_children_in_parallel_branches() {
    let mut svc = Service::new();
    let fast = machine(&mut svc, "Fast", sleeper(5));
    let slow = machine(&mut svc, "Slow", sleeper(20));
    let parent = machine(
        &mut svc,
        "Parent",
        json!({"StartAt": "Fan", "States": {"Fan": {
            "Type": "Parallel", "End": true,
            "Branches": [
                {"StartAt": "A", "States": {"A": call(SYNC2, &fast, "a", json!({"b": 0}), None)}},
                {"StartAt": "B", "States": {"B": call(SYNC2, &slow, "b", json!({"b": 1}), None)}}
            ]
        }}}),
    );
    let p = svc.start_execution(&parent, Some("p"), None).unwrap();
    assert_eq!(p.status, ExecutionStatus::Succeeded);
    let out = p.output.unwrap();
    assert_eq!(out[0]["Output"], json!({"got": {"b": 0}}));
    assert_eq!(out[1]["Output"], json!({"got": {"b": 1}}));
    assert_eq!(out[1]["StopDate"], json!(START + 20_000));
    assert_eq!(
        timeline(&svc, &p.execution_arn),
        [
            row(1, 0, "ExecutionStarted", 0),
            row(2, 0, "ParallelStateEntered", 0),
            row(3, 2, "ParallelStateStarted", 0),
            row(4, 3, "TaskStateEntered", 0),
            row(5, 4, "TaskScheduled", 0),
            row(6, 5, "TaskStarted", 0),
            row(7, 6, "TaskSubmitted", 0),
            row(8, 3, "TaskStateEntered", 0),
            row(9, 8, "TaskScheduled", 0),
            row(10, 9, "TaskStarted", 0),
            row(11, 10, "TaskSubmitted", 0),
            row(12, 11, "TaskSucceeded", 5_000),
            row(13, 12, "TaskStateExited", 5_000),
            row(14, 7, "TaskSucceeded", 20_000),
            row(15, 14, "TaskStateExited", 20_000),
            // Both follow the last branch's end, as MapStateSucceeded/MapStateExited do.
            row(16, 15, "ParallelStateSucceeded", 20_000),
            row(17, 15, "ParallelStateExited", 20_000),
            row(18, 17, "ExecutionSucceeded", 20_000),
        ]
    );
    // The seeded scheduler started branch B first; each branch's events follow its own.
    assert_eq!(details(&svc, &p.execution_arn, 4)["name"], json!("B"));
    assert_eq!(details(&svc, &p.execution_arn, 8)["name"], json!("A"));
    assert_eq!(details(&svc, &p.execution_arn, 13)["name"], json!("A"));
}

/// Hands `.waitForTaskToken` tasks out (Pending); nothing else is mocked.
struct Callbacks;

impl HandlerFactory for Callbacks {
    fn handler(&mut self, _: &str, _: Option<&str>) -> Result<Box<dyn TaskHandler>, String> {
        struct H;
        impl TaskHandler for H {
            fn invoke(&mut self, r: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
                if r.resource.ends_with("sqs:sendMessage.waitForTaskToken") {
                    return Ok(TaskResponse {
                        outcome: engine::TaskOutcome::Pending { submitted: None },
                        duration_ms: 0,
                        submitted: None,
                    });
                }
                Err(TaskHandlerError::NoMock {
                    state: r.state_name.into(),
                    resource: r.resource.into(),
                })
            }
        }
        Ok(Box::new(H))
    }
}

#[test]
fn fire_and_forget_the_parent_ends_while_the_child_runs_then_the_child_ends() {
    let mut svc = Service::new().with_handlers(Callbacks);
    let child = machine(
        &mut svc,
        "Child",
        json!({"StartAt": "Ask", "States": {"Ask": {"Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"MessageBody.$": "$$.Task.Token"}, "End": true}}}),
    );
    let parent = machine(
        &mut svc,
        "Parent",
        json!({"StartAt": "Start", "States": {
            "Start": call("arn:aws:states:::states:startExecution", &child, "kid",
                          json!({"from": "parent"}), Some("Done")),
            "Done": {"Type": "Pass", "Parameters": {"child.$": "$.ExecutionArn"}, "End": true}
        }}),
    );
    let p = svc.start_execution(&parent, Some("p"), None).unwrap();
    let kid = format!("{ACCOUNT}:execution:Child:kid");
    assert_eq!(p.status, ExecutionStatus::Succeeded);
    assert_eq!(p.output, Some(json!({"child": kid})));
    assert_eq!(p.stop_date, Some(Timestamp(START)));
    assert_eq!(
        svc.describe_execution(&kid).unwrap().status,
        ExecutionStatus::Running
    );
    assert_eq!(
        timeline(&svc, &p.execution_arn),
        [
            row(1, 0, "ExecutionStarted", 0),
            row(2, 0, "TaskStateEntered", 0),
            row(3, 2, "TaskScheduled", 0),
            row(4, 3, "TaskStarted", 0),
            row(5, 4, "TaskSucceeded", 0),
            row(6, 5, "TaskStateExited", 0),
            row(7, 6, "PassStateEntered", 0),
            row(8, 7, "PassStateExited", 0),
            row(9, 8, "ExecutionSucceeded", 0),
        ]
    );
    // The child's answer comes later, from a scripted caller.
    svc.script(
        &kid,
        ScriptedCall::after(
            45_000,
            "Ask",
            ScriptedAction::Success {
                output: json!({"late": true}),
            },
        ),
    )
    .unwrap();
    svc.run_until_idle().unwrap();
    let k = svc.describe_execution(&kid).unwrap();
    assert_eq!(k.status, ExecutionStatus::Succeeded);
    assert_eq!(k.output, Some(json!({"late": true})));
    assert_eq!(k.stop_date, Some(Timestamp(START + 45_000)));
    // The parent's history did not change.
    assert_eq!(timeline(&svc, &p.execution_arn).len(), 9);
}

#[test]
fn a_child_answers_the_parent_from_its_third_state_of_five() {
    let mut svc = Service::new();
    let child = machine(
        &mut svc,
        "Child",
        json!({"StartAt": "One", "States": {
            "One": {"Type": "Pass", "Next": "Two"},
            "Two": {"Type": "Wait", "Seconds": 10, "Next": "Three"},
            "Three": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:sendTaskSuccess",
                      "Parameters": {"TaskToken.$": "$.token", "Output": "{\"ready\":true}"},
                      "ResultPath": "$.sent", "Next": "Four"},
            "Four": {"Type": "Wait", "Seconds": 100, "Next": "Five"},
            "Five": {"Type": "Succeed"}
        }}),
    );
    let parent = machine(
        &mut svc,
        "Parent",
        json!({"StartAt": "Call", "States": {
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
                     "Parameters": {"StateMachineArn": child, "Name": "kid",
                                    "Input": {"token.$": "$$.Task.Token"}},
                     "Next": "After"},
            "After": {"Type": "Pass", "End": true}
        }}),
    );
    let p = svc.start_execution(&parent, Some("p"), None).unwrap();
    assert_eq!(p.status, ExecutionStatus::Succeeded);
    assert_eq!(p.output, Some(json!({"ready": true})));
    assert_eq!(
        timeline(&svc, &p.execution_arn),
        [
            row(1, 0, "ExecutionStarted", 0),
            row(2, 0, "TaskStateEntered", 0),
            row(3, 2, "TaskScheduled", 0),
            row(4, 3, "TaskStarted", 0),
            // AWS records the StartExecution response before waiting for the token.
            row(5, 4, "TaskSubmitted", 0),
            row(6, 5, "TaskSucceeded", 10_000),
            row(7, 6, "TaskStateExited", 10_000),
            row(8, 7, "PassStateEntered", 10_000),
            row(9, 8, "PassStateExited", 10_000),
            row(10, 9, "ExecutionSucceeded", 10_000),
        ]
    );
    assert_eq!(
        details(&svc, &p.execution_arn, 6),
        json!({"resourceType": "states", "resource": "startExecution.waitForTaskToken",
               "output": "{\"ready\":true}", "outputDetails": {"truncated": false}})
    );
    // The child went on for 100 s after answering.
    let kid = format!("{ACCOUNT}:execution:Child:kid");
    let k = svc.describe_execution(&kid).unwrap();
    assert_eq!(k.status, ExecutionStatus::Succeeded);
    assert_eq!(k.stop_date, Some(Timestamp(START + 110_000)));
    let sent = timeline(&svc, &kid)
        .into_iter()
        .filter(|r| r.2.starts_with("Task"))
        .collect::<Vec<_>>();
    assert_eq!(
        sent,
        [
            row(6, 5, "TaskStateEntered", 10_000),
            row(7, 6, "TaskScheduled", 10_000),
            row(8, 7, "TaskStarted", 10_000),
            row(9, 8, "TaskSucceeded", 10_000),
            row(10, 9, "TaskStateExited", 10_000),
        ]
    );
    assert_eq!(
        details(&svc, &kid, 9)["output"],
        json!("{}"),
        "SendTaskSuccess answers an empty object"
    );
}

#[test]
fn scripted_heartbeats_then_silence_time_out_with_states_heartbeat_timeout() {
    let mut svc = Service::new();
    let child = machine(&mut svc, "Child", sleeper(3_600));
    let parent = machine(
        &mut svc,
        "Parent",
        json!({"StartAt": "Call", "States": {
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
                     "Parameters": {"StateMachineArn": child, "Name": "kid",
                                    "Input": {"token.$": "$$.Task.Token"}},
                     "HeartbeatSeconds": 10,
                     "End": true}
        }}),
    );
    let hb = |ms| ScriptedCall::after(ms, "Call", ScriptedAction::Heartbeat);
    let p = svc
        .start_execution_with_script(&parent, Some("p"), None, vec![hb(6_000), hb(14_000)])
        .unwrap();
    // The child's hour-long Wait is a timer, so time passes: the heartbeat deadline (24 s)
    // comes on the way.
    assert_eq!(p.status, ExecutionStatus::Failed);
    assert_eq!(p.error.as_deref(), Some("States.HeartbeatTimeout"));
    assert_eq!(p.stop_date, Some(Timestamp(START + 24_000)));
    assert_eq!(
        timeline(&svc, &p.execution_arn),
        [
            row(1, 0, "ExecutionStarted", 0),
            row(2, 0, "TaskStateEntered", 0),
            row(3, 2, "TaskScheduled", 0),
            row(4, 3, "TaskStarted", 0),
            row(5, 4, "TaskSubmitted", 0),
            row(6, 5, "TaskTimedOut", 24_000),
            row(7, 6, "ExecutionFailed", 24_000),
        ]
    );
    assert_eq!(
        details(&svc, &p.execution_arn, 3)["heartbeatInSeconds"],
        json!(10)
    );
    assert_eq!(
        details(&svc, &p.execution_arn, 6),
        json!({"resourceType": "states", "resource": "startExecution.waitForTaskToken",
               "error": "States.HeartbeatTimeout"})
    );
    let results: Vec<bool> = svc.script_log().iter().map(|r| r.result.is_ok()).collect();
    assert_eq!(results, [true, true]);
    // A fire-and-forget child is not stopped with its parent.
    let k = svc
        .describe_execution(&format!("{ACCOUNT}:execution:Child:kid"))
        .unwrap();
    assert_eq!(k.status, ExecutionStatus::Succeeded);
    assert_eq!(k.stop_date, Some(Timestamp(START + 3_600_000)));
}

#[test]
fn a_child_failure_is_caught_by_the_parent_as_states_task_failed() {
    let mut svc = Service::new();
    let child = machine(
        &mut svc,
        "Child",
        json!({"StartAt": "Break", "States": {"Break": {"Type": "Fail",
            "Error": "ChildBroke", "Cause": "no stock"}}}),
    );
    let parent = machine(
        &mut svc,
        "Parent",
        json!({"StartAt": "Call", "States": {
            "Call": {"Type": "Task", "Resource": SYNC,
                     "Parameters": {"StateMachineArn": child, "Name": "kid", "Input": {"n": 1}},
                     "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error",
                                "Next": "Handle"}],
                     "End": true},
            "Handle": {"Type": "Pass", "End": true}
        }}),
    );
    let p = svc
        .start_execution(&parent, Some("p"), Some(r#"{"order":1}"#))
        .unwrap();
    assert_eq!(p.status, ExecutionStatus::Succeeded);
    let cause = format!(
        "{{\"ExecutionArn\":\"{ACCOUNT}:execution:Child:kid\",\"Input\":\"{{\\\"n\\\":1}}\",\
\"InputDetails\":{{\"Included\":true}},\"Name\":\"kid\",\"Error\":\"ChildBroke\",\
\"Cause\":\"no stock\",\"StartDate\":{START},\"StateMachineArn\":\"{child}\",\
\"Status\":\"FAILED\",\"StopDate\":{START}}}"
    );
    assert_eq!(
        p.output,
        Some(json!({"order": 1, "error": {"Error": "States.TaskFailed", "Cause": cause}}))
    );
    assert_eq!(
        timeline(&svc, &p.execution_arn),
        [
            row(1, 0, "ExecutionStarted", 0),
            row(2, 0, "TaskStateEntered", 0),
            row(3, 2, "TaskScheduled", 0),
            row(4, 3, "TaskStarted", 0),
            row(5, 4, "TaskSubmitted", 0),
            row(6, 5, "TaskFailed", 0),
            row(7, 6, "TaskStateExited", 0),
            row(8, 7, "PassStateEntered", 0),
            row(9, 8, "PassStateExited", 0),
            row(10, 9, "ExecutionSucceeded", 0),
        ]
    );
    assert_eq!(
        details(&svc, &p.execution_arn, 6),
        json!({"resourceType": "states", "resource": "startExecution.sync",
               "error": "States.TaskFailed", "cause": cause})
    );
}

/// Answers the `Price` task from its input alone, so replaying it changes nothing.
struct Pricing;

impl HandlerFactory for Pricing {
    fn handler(&mut self, _: &str, _: Option<&str>) -> Result<Box<dyn TaskHandler>, String> {
        struct H;
        impl TaskHandler for H {
            fn invoke(&mut self, r: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
                let qty = r.parameters["Payload"]["qty"].as_i64().unwrap_or(0);
                Ok(TaskResponse::success(
                    json!({"Payload": {"total": qty * 3}}),
                ))
            }
        }
        Ok(Box::new(H))
    }
}

#[test]
fn an_idempotent_workflow_gives_the_same_output_as_standard_and_express() {
    let def = json!({"StartAt": "Items", "States": {
        "Items": {"Type": "Map", "ItemsPath": "$.lines", "ResultPath": "$.priced", "Next": "Pause",
            "ItemProcessor": {"StartAt": "Price", "States": {"Price": {"Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "price", "Payload.$": "$"},
                "OutputPath": "$.Payload", "End": true}}}},
        "Pause": {"Type": "Wait", "Seconds": 30, "Next": "Big?"},
        "Big?": {"Type": "Choice", "Choices": [{"Variable": "$.priced[0].total",
            "NumericGreaterThan": 5, "Next": "Big"}], "Default": "Small"},
        "Big": {"Type": "Pass", "Parameters": {"size": "big", "lines.$": "$.priced"}, "End": true},
        "Small": {"Type": "Pass", "Parameters": {"size": "small"}, "End": true}
    }})
    .to_string();
    let input = r#"{"lines": [{"qty": 2}, {"qty": 5}]}"#;
    let expected = json!({"size": "big", "lines": [{"total": 6}, {"total": 15}]});

    let mut standard = Service::new().with_handlers(Pricing);
    let s = standard
        .create_state_machine("Order", &def, WorkflowType::Standard, None)
        .unwrap();
    let s = standard
        .start_execution(&s.arn, Some("o"), Some(input))
        .unwrap();
    assert_eq!(s.output, Some(expected.clone()));

    // Express, with every Price task delivered twice (at-least-once).
    let mut express = Service::new()
        .with_handlers(Pricing)
        .with_express_replay("Price");
    let e = express
        .create_state_machine("Order", &def, WorkflowType::Express, None)
        .unwrap();
    let e = express
        .start_sync_execution(&e.arn, Some("o"), Some(input))
        .unwrap();
    assert_eq!(e.output, Some(expected));
    assert_eq!(e.stop_date, s.stop_date);
    // The Express log holds the same events, in the same order, as the Standard history.
    let history: Vec<(String, u64, Value)> = standard
        .get_execution_history(&s.execution_arn)
        .unwrap()
        .iter()
        .map(|ev| {
            let api = ev.to_api_json();
            let d = api
                .as_object()
                .unwrap()
                .iter()
                .find(|(k, _)| k.ends_with("EventDetails"))
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null);
            (ev.kind.type_name(), ev.previous_event_id.0, d)
        })
        .collect();
    let logs: Vec<(String, u64, Value)> = express
        .express_logs(&e.execution_arn)
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["type"].as_str().unwrap().to_string(),
                r["previous_event_id"].as_str().unwrap().parse().unwrap(),
                r.get("details").cloned().unwrap_or(Value::Null),
            )
        })
        .collect();
    assert_eq!(logs, history);
    assert_eq!(history.len(), 26);
}
