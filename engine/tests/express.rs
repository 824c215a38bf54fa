//! Standard vs Express: what CreateStateMachine refuses for Express, Express logs instead of a
//! history, at-least-once replay, and a task handler error under the service.

use engine::{
    Definition, ExecutionConfig, ExecutionStatus, HandlerFactory, RunError, Service, TaskHandler,
    TaskHandlerError, TaskRequest, TaskResponse, WorkflowType,
};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;

const START: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z

fn task(name: &str, resource: &str, next: Option<&str>) -> (String, Value) {
    let mut t = json!({"Type": "Task", "Resource": resource});
    match next {
        Some(n) => t["Next"] = json!(n),
        None => t["End"] = json!(true),
    }
    (name.to_string(), t)
}

const ACTIVITY: &str = "arn:aws:states:us-east-1:123456789012:activity:approve";

/// Every pattern Express refuses, at the top level, in a Parallel branch and in an inline Map.
fn refused_everywhere() -> Value {
    let (_, sync) = task(
        "Job",
        "arn:aws:states:::states:startExecution.sync:2",
        Some("Fan"),
    );
    let (_, callback) = task(
        "Ask",
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        None,
    );
    let (_, activity) = task("Work", ACTIVITY, Some("Batch"));
    let (_, batch) = task("Batch", "arn:aws:states:::batch:submitJob.sync", None);
    json!({
        "StartAt": "Job",
        "States": {
            "Job": sync,
            "Fan": {"Type": "Parallel", "Next": "Each", "Branches": [
                {"StartAt": "Plain", "States": {"Plain": {"Type": "Pass", "End": true}}},
                {"StartAt": "Ask", "States": {"Ask": callback}}
            ]},
            "Each": {"Type": "Map", "End": true, "ItemProcessor": {
                "StartAt": "Work", "States": {"Work": activity, "Batch": batch}
            }}
        }
    })
}

const REFUSED_EVERYWHERE: &str = "Invalid State Machine Definition: '\
SCHEMA_VALIDATION_FAILED: Express state machine does not support '.sync' service integration at /States/Job/Resource, \
SCHEMA_VALIDATION_FAILED: Express state machine does not support '.waitForTaskToken' service integration at /States/Fan/Branches[1]/States/Ask/Resource, \
SCHEMA_VALIDATION_FAILED: Express state machine does not support Activity ARN at /States/Each/ItemProcessor/States/Work/Resource, \
SCHEMA_VALIDATION_FAILED: Express state machine does not support '.sync' service integration at /States/Each/ItemProcessor/States/Batch/Resource'";

#[test]
fn express_state_machines_refuse_run_a_job_callbacks_and_activities_at_creation() {
    let def = refused_everywhere().to_string();
    let mut svc = Service::new();
    let e = svc
        .create_state_machine("Exp", &def, WorkflowType::Express, None)
        .unwrap_err();
    assert_eq!(e.code, "InvalidDefinition");
    assert_eq!(e.message, REFUSED_EVERYWHERE);
    assert!(svc.list_state_machines().is_empty());
    // The same definition is a valid Standard workflow.
    svc.create_state_machine("Std", &def, WorkflowType::Standard, None)
        .unwrap();
    // Request-response integrations and SDK calls are fine in Express.
    let ok = json!({"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "B"},
        "B": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:startExecution", "Next": "C"},
        "C": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution", "End": true}
    }});
    svc.create_state_machine("Fine", &ok.to_string(), WorkflowType::Express, None)
        .unwrap();
}

#[test]
fn the_run_time_guard_gives_the_creation_text() {
    // A driver that runs a definition without creating a state machine (`stepcheck exec
    // --type EXPRESS`) refuses it with the same text.
    let d = Definition::parse(&refused_everywhere().to_string()).unwrap();
    let express = ExecutionConfig {
        workflow_type: WorkflowType::Express,
        ..ExecutionConfig::default()
    };
    let e = d.execute(json!({}), &express).unwrap_err();
    assert!(matches!(e, RunError::InvalidDefinition { .. }));
    assert_eq!(e.to_string(), REFUSED_EVERYWHERE);
}

#[test]
fn a_distributed_map_with_express_children_refuses_them_in_a_standard_machine() {
    let processor = |execution_type: &str| {
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": execution_type},
                "StartAt": "Ask", "States": {"Ask": {"Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "End": true}}}}}})
        .to_string()
    };
    let mut svc = Service::new();
    let e = svc
        .create_state_machine("D", &processor("EXPRESS"), WorkflowType::Standard, None)
        .unwrap_err();
    assert_eq!(
        e.message,
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support '.waitForTaskToken' service integration at /States/M/ItemProcessor/States/Ask/Resource'"
    );
    svc.create_state_machine("D", &processor("STANDARD"), WorkflowType::Standard, None)
        .unwrap();
}

fn pass_wait_pass() -> String {
    json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Result": {"a": 1}, "ResultPath": "$.r", "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 2, "Next": "F"},
        "F": {"Type": "Fail", "Error": "Oops", "Cause": "on purpose"}
    }})
    .to_string()
}

#[test]
fn express_executions_log_every_event_as_cloudwatch_records() {
    let mut svc = Service::new();
    let m = svc
        .create_state_machine("Exp", &pass_wait_pass(), WorkflowType::Express, None)
        .unwrap()
        .arn;
    let d = svc
        .start_execution(&m, Some("e1"), Some(r#"{"x":true}"#))
        .unwrap();
    assert_eq!(d.status, ExecutionStatus::Failed);
    let arn = d.execution_arn.clone();
    assert!(arn.starts_with("arn:aws:states:us-east-1:123456789012:express:Exp:e1:"));
    assert_eq!(
        svc.get_execution_history(&arn).unwrap_err().code,
        "InvalidArn"
    );
    let logs = svc.express_logs(&arn).unwrap();
    let role = "arn:aws:iam::123456789012:role/StepFunctionsExecutionRole";
    let t0 = START.to_string();
    let t2 = (START + 2_000).to_string();
    let rec = |id: u64, ty: &str, details: Value, prev: u64, t: &str| {
        json!({"id": id.to_string(), "type": ty, "details": details,
               "previous_event_id": prev.to_string(), "event_timestamp": t,
               "execution_arn": arn, "redrive_count": "0"})
    };
    assert_eq!(
        logs,
        vec![
            rec(
                1,
                "ExecutionStarted",
                json!({"input": "{\"x\":true}", "inputDetails": {"truncated": false}, "roleArn": role}),
                0,
                &t0
            ),
            rec(
                2,
                "PassStateEntered",
                json!({"name": "P", "input": "{\"x\":true}", "inputDetails": {"truncated": false}}),
                0,
                &t0
            ),
            rec(
                3,
                "PassStateExited",
                json!({"name": "P", "output": "{\"x\":true,\"r\":{\"a\":1}}", "outputDetails": {"truncated": false}}),
                2,
                &t0
            ),
            rec(
                4,
                "WaitStateEntered",
                json!({"name": "W", "input": "{\"x\":true,\"r\":{\"a\":1}}", "inputDetails": {"truncated": false}}),
                3,
                &t0
            ),
            rec(
                5,
                "WaitStateExited",
                json!({"name": "W", "output": "{\"x\":true,\"r\":{\"a\":1}}", "outputDetails": {"truncated": false}}),
                4,
                &t2
            ),
            rec(
                6,
                "FailStateEntered",
                json!({"name": "F", "input": "{\"x\":true,\"r\":{\"a\":1}}", "inputDetails": {"truncated": false}}),
                5,
                &t2
            ),
            rec(
                7,
                "ExecutionFailed",
                json!({"error": "Oops", "cause": "on purpose"}),
                6,
                &t2
            ),
        ]
    );
    // The field order of the records, as CloudWatch Logs shows them.
    let keys: Vec<&String> = logs[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "id",
            "type",
            "details",
            "previous_event_id",
            "event_timestamp",
            "execution_arn",
            "redrive_count"
        ]
    );
}

#[test]
fn standard_executions_log_the_same_records_as_their_history() {
    let mut svc = Service::new();
    let m = svc
        .create_state_machine("Std", &pass_wait_pass(), WorkflowType::Standard, None)
        .unwrap()
        .arn;
    let d = svc.start_execution(&m, Some("s1"), None).unwrap();
    let history = svc.get_execution_history(&d.execution_arn).unwrap();
    let logs = svc.express_logs(&d.execution_arn).unwrap();
    assert_eq!(logs.len(), history.len());
    assert_eq!(
        logs[6]["details"],
        history[6].to_api_json()["executionFailedEventDetails"]
    );
}

/// Counts calls and answers each with the call number.
struct Counting(Rc<RefCell<u32>>);

impl HandlerFactory for Counting {
    fn handler(&mut self, _: &str, _: Option<&str>) -> Result<Box<dyn TaskHandler>, String> {
        struct H(Rc<RefCell<u32>>);
        impl TaskHandler for H {
            fn invoke(&mut self, r: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
                if r.state_name != "Charge" {
                    return Err(TaskHandlerError::NoMock {
                        state: r.state_name.into(),
                        resource: r.resource.into(),
                    });
                }
                *self.0.borrow_mut() += 1;
                Ok(TaskResponse::success(json!({"call": *self.0.borrow()})))
            }
        }
        Ok(Box::new(H(self.0.clone())))
    }
}

fn charge_machine(svc: &mut Service, ty: WorkflowType) -> String {
    let def = json!({"StartAt": "Charge", "States": {"Charge": {"Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke", "End": true}}});
    svc.create_state_machine("Pay", &def.to_string(), ty, None)
        .unwrap()
        .arn
}

#[test]
fn express_replay_runs_the_task_twice_and_uses_the_second_answer() {
    let calls = Rc::new(RefCell::new(0));
    let mut svc = Service::new()
        .with_handlers(Counting(calls.clone()))
        .with_express_replay("Charge");
    let m = charge_machine(&mut svc, WorkflowType::Express);
    let d = svc.start_sync_execution(&m, Some("x"), None).unwrap();
    assert_eq!(d.output, Some(json!({"call": 2})));
    assert_eq!(*calls.borrow(), 2);
    // The log records the attempt once.
    let types: Vec<Value> = svc
        .express_logs(&d.execution_arn)
        .unwrap()
        .iter()
        .map(|r| r["type"].clone())
        .collect();
    assert_eq!(
        types,
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
}

#[test]
fn standard_executions_are_exactly_once_even_with_replay_asked() {
    let calls = Rc::new(RefCell::new(0));
    let mut svc = Service::new()
        .with_handlers(Counting(calls.clone()))
        .with_express_replay("Charge");
    let m = charge_machine(&mut svc, WorkflowType::Standard);
    let d = svc.start_execution(&m, Some("x"), None).unwrap();
    assert_eq!(d.output, Some(json!({"call": 1})));
    assert_eq!(*calls.borrow(), 1);
}

#[test]
fn a_handler_error_fails_the_execution_and_is_reported_by_the_call() {
    let mut svc = Service::new();
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Next": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}
    }});
    let m = svc
        .create_state_machine("NoMock", &def.to_string(), WorkflowType::Standard, None)
        .unwrap()
        .arn;
    let err = svc.start_execution(&m, Some("n"), None).unwrap_err();
    assert_eq!(err.code, "ValidationException");
    assert_eq!(
        err.message,
        "no mock for Task state 'T' (resource arn:aws:states:::lambda:invoke)"
    );
    let arn = "arn:aws:states:us-east-1:123456789012:execution:NoMock:n";
    let d = svc.describe_execution(arn).unwrap();
    assert_eq!(
        d.status,
        ExecutionStatus::Failed,
        "no execution is left running"
    );
    assert_eq!(d.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        d.cause.as_deref(),
        Some("The task handler could not answer: no mock for Task state 'T' (resource arn:aws:states:::lambda:invoke)")
    );
    let history: Vec<(u64, u64, String)> = svc
        .get_execution_history(arn)
        .unwrap()
        .iter()
        .map(|e| (e.id.0, e.previous_event_id.0, e.kind.type_name()))
        .collect();
    let row = |id, prev, ty: &str| (id, prev, ty.to_string());
    assert_eq!(
        history,
        [
            row(1, 0, "ExecutionStarted"),
            row(2, 0, "PassStateEntered"),
            row(3, 2, "PassStateExited"),
            row(4, 3, "TaskStateEntered"),
            row(5, 4, "TaskScheduled"),
            row(6, 5, "TaskStarted"),
            row(7, 6, "ExecutionFailed"),
        ]
    );
    // The error was reported once; the service goes on.
    svc.run_until_idle().unwrap();
}

/// Runs `d` on `input` as Standard and as Express, checks that both end the same way, and
/// returns that end: status, error and cause.
fn same_in_both_types(
    d: &Definition,
    input: &Value,
) -> (ExecutionStatus, Option<String>, Option<String>) {
    let outcome = |ty: WorkflowType| {
        let config = ExecutionConfig {
            workflow_type: ty,
            ..ExecutionConfig::default()
        };
        let r = d.execute(input.clone(), &config).unwrap();
        (r.status, r.error, r.cause)
    };
    let standard = outcome(WorkflowType::Standard);
    let len = input.to_string().len();
    assert_eq!(
        outcome(WorkflowType::Express),
        standard,
        "input of {len} bytes"
    );
    standard
}

/// The 256 KiB output check gives the same answer in both types at every size around the
/// limit. Standard measures each output's text; Express bounds a Pass or Choice output from
/// its input's bound and measures only when the bound is over the limit, so a bound that came
/// out too low would let an oversized output through here.
#[test]
fn express_and_standard_agree_on_the_output_size_limit_around_it() {
    let d = Definition::parse(
        &json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Result": "xy", "ResultPath": "$.r", "Next": "C"},
            "C": {"Type": "Choice", "Default": "B",
                  "Choices": [{"Variable": "$.r", "StringEquals": "no", "Next": "A"}]},
            "B": {"Type": "Pass", "Result": {"k": "v".repeat(100)}, "ResultPath": "$.s.t", "End": true}
        }})
        .to_string(),
    )
    .unwrap();
    // B's output is `{"big":"aaa…","r":"xy","s":{"t":{"k":"vvv…"}}}`.
    let fixed = r#"{"big":"","r":"xy","s":{"t":{"k":""}}}"#.len() + 100;
    let largest_fitting = engine::PAYLOAD_LIMIT_BYTES - fixed;
    // A's output is 119 bytes shorter than B's, so B is the state that fails in this range.
    let a_fixed = r#"{"big":"","r":"xy"}"#.len();
    let last = engine::PAYLOAD_LIMIT_BYTES - a_fixed;
    for n in [
        largest_fitting - 1,
        largest_fitting,
        largest_fitting + 1,
        largest_fitting + 2,
        last,
    ] {
        let standard = same_in_both_types(&d, &json!({ "big": "a".repeat(n) }));
        if n <= largest_fitting {
            assert_eq!(standard.0, ExecutionStatus::Succeeded, "{n}");
        } else {
            assert_eq!(standard.0, ExecutionStatus::Failed, "{n}");
            assert_eq!(standard.1.as_deref(), Some("States.DataLimitExceeded"));
            assert_eq!(
                standard.2.as_deref(),
                Some("The state/task 'B' returned a result with a size exceeding the maximum number of bytes service limit.")
            );
        }
    }
}

/// The same inside a Parallel branch, whose states bound a template's result from their
/// input's bound (`{"big.$": "$.big", ...}` is at most its constant text plus the input):
/// Express and Standard fail at the same sizes, with the state that crossed the limit.
#[test]
fn express_and_standard_agree_on_the_size_limit_of_branch_templates() {
    let d = Definition::parse(
        &json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "ResultPath": null,
        "End": true, "Branches": [{"StartAt": "X", "States": {
            "X": {"Type": "Pass", "Parameters": {"big.$": "$.big", "pad": "pp"}, "Next": "Y"},
            "Y": {"Type": "Pass", "Parameters": {"big.$": "$.big", "more": "qqqq"}, "End": true}
        }}]}}})
        .to_string(),
    )
    .unwrap();
    let y_fixed = r#"{"big":"","more":"qqqq"}"#.len();
    let x_fixed = r#"{"big":"","pad":"pp"}"#.len();
    let limit = engine::PAYLOAD_LIMIT_BYTES;
    for n in [
        limit - y_fixed - 1,
        limit - y_fixed,
        limit - y_fixed + 1,
        limit - x_fixed,
        limit - x_fixed + 1,
    ] {
        let standard = same_in_both_types(&d, &json!({ "big": "a".repeat(n) }));
        let failing = if n + x_fixed > limit {
            "X"
        } else if n + y_fixed > limit {
            "Y"
        } else {
            assert_eq!(standard.0, ExecutionStatus::Succeeded, "{n}");
            continue;
        };
        assert_eq!(standard.0, ExecutionStatus::Failed, "{n}");
        assert_eq!(standard.1.as_deref(), Some("States.DataLimitExceeded"));
        assert_eq!(
            standard.2.as_deref(),
            Some(format!("The state/task '{failing}' returned a result with a size exceeding the maximum number of bytes service limit.").as_str()),
            "{n}"
        );
    }
}
