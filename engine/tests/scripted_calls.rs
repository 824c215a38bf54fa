//! Scripted callers: callbacks declared in advance and sent by the service at their virtual
//! instant, interleaved with the executions' own timers.

use engine::{
    ExecutionStatus, HandlerFactory, ScriptTime, ScriptedAction, ScriptedCall, Service,
    TaskHandler, TaskHandlerError, TaskOutcome, TaskRequest, TaskResponse, Timestamp, WorkflowType,
};
use serde_json::{json, Value};

const START: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z

/// Hands every `.waitForTaskToken` task out (Pending); nothing else is mocked.
struct Callbacks;

impl HandlerFactory for Callbacks {
    fn handler(&mut self, _: &str, _: Option<&str>) -> Result<Box<dyn TaskHandler>, String> {
        struct H;
        impl TaskHandler for H {
            fn invoke(&mut self, r: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
                if r.resource.ends_with(".waitForTaskToken") {
                    return Ok(TaskResponse {
                        outcome: TaskOutcome::Pending { submitted: None },
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

/// (id, previousEventId, type, ms after the start) of every event.
fn timeline(svc: &Service, arn: &str) -> Vec<(u64, u64, String, i64)> {
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

fn row(id: u64, prev: u64, ty: &str, ms: i64) -> (u64, u64, String, i64) {
    (id, prev, ty.to_string(), ms)
}

fn approval(extra: Value) -> Value {
    let mut task = json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
        "End": true
    });
    for (k, v) in extra.as_object().unwrap() {
        task[k] = v.clone();
    }
    json!({"StartAt": "Wait for approval", "States": {"Wait for approval": task}})
}

fn service_with(def: Value) -> (Service, String) {
    let mut svc = Service::new().with_handlers(Callbacks);
    let m = svc
        .create_state_machine("Approve", &def.to_string(), WorkflowType::Standard, None)
        .unwrap()
        .arn;
    (svc, m)
}

fn codes(svc: &Service) -> Vec<Result<(), &'static str>> {
    svc.script_log()
        .iter()
        .map(|r| r.result.clone().map_err(|e| e.code))
        .collect()
}

#[test]
fn scripted_heartbeats_then_silence_time_out_at_the_exact_instant() {
    let (mut svc, m) = service_with(approval(json!({"HeartbeatSeconds": 10})));
    let hb = |ms| ScriptedCall::after(ms, "Wait for approval", ScriptedAction::Heartbeat);
    let d = svc
        .start_execution_with_script(&m, Some("hb"), None, vec![hb(4_000), hb(13_500)])
        .unwrap();
    // After the last scripted call only a callback could move the execution on, so the
    // clock stands still there until the test lets time pass.
    assert_eq!(d.status, ExecutionStatus::Running);
    assert_eq!(svc.now(), Timestamp(START + 13_500));
    svc.advance(60_000).unwrap();
    let d = svc.describe_execution(&d.execution_arn).unwrap();
    // Heartbeats at 4 s and 13.5 s each give 10 s more: the deadline is 23.5 s.
    assert_eq!(d.status, ExecutionStatus::Failed);
    assert_eq!(d.error.as_deref(), Some("States.HeartbeatTimeout"));
    assert_eq!(d.stop_date, Some(Timestamp(START + 23_500)));
    assert_eq!(
        timeline(&svc, &d.execution_arn),
        [
            row(1, 0, "ExecutionStarted", 0),
            row(2, 0, "TaskStateEntered", 0),
            row(3, 2, "TaskScheduled", 0),
            row(4, 3, "TaskStarted", 0),
            row(5, 4, "TaskTimedOut", 23_500),
            row(6, 5, "ExecutionFailed", 23_500),
        ]
    );
    let history = svc.get_execution_history(&d.execution_arn).unwrap();
    assert_eq!(
        history[4].to_api_json()["taskTimedOutEventDetails"],
        json!({"resourceType": "sqs", "resource": "sendMessage.waitForTaskToken",
               "error": "States.HeartbeatTimeout"})
    );
    assert_eq!(
        history[5].to_api_json()["executionFailedEventDetails"],
        json!({"error": "States.HeartbeatTimeout"})
    );
    assert_eq!(codes(&svc), [Ok(()), Ok(())]);
    let token = svc.script_log()[0].token.clone().unwrap();
    assert_eq!(svc.script_log()[1].token.as_deref(), Some(token.as_str()));
    assert_eq!(svc.script_log()[1].due, Timestamp(START + 13_500));
}

#[test]
fn a_success_after_the_timeout_is_refused_and_logged_as_task_timed_out() {
    let (mut svc, m) = service_with(approval(json!({"TimeoutSeconds": 5})));
    let late = ScriptedCall::after(
        8_000,
        "Wait for approval",
        ScriptedAction::Success {
            output: json!({"ok": true}),
        },
    );
    let d = svc
        .start_execution_with_script(&m, Some("late"), None, vec![late])
        .unwrap();
    assert_eq!(d.status, ExecutionStatus::Failed);
    assert_eq!(d.error.as_deref(), Some("States.Timeout"));
    assert_eq!(d.stop_date, Some(Timestamp(START + 5_000)));
    // The call is sent at once: its execution has ended, so the clock does not move for it.
    assert_eq!(svc.now(), Timestamp(START + 5_000));
    assert_eq!(codes(&svc), [Err("TaskTimedOut")]);
    assert_eq!(svc.script_log()[0].due, Timestamp(START + 8_000));
}

#[test]
fn a_heartbeat_at_the_very_deadline_comes_too_late() {
    let (mut svc, m) = service_with(approval(json!({"HeartbeatSeconds": 10})));
    let d = svc
        .start_execution_with_script(
            &m,
            Some("tie"),
            None,
            vec![ScriptedCall::after(
                10_000,
                "Wait for approval",
                ScriptedAction::Heartbeat,
            )],
        )
        .unwrap();
    assert_eq!(d.error.as_deref(), Some("States.HeartbeatTimeout"));
    assert_eq!(d.stop_date, Some(Timestamp(START + 10_000)));
    assert_eq!(codes(&svc), [Err("TaskTimedOut")]);
}

#[test]
fn occurrences_pick_the_token_of_each_retry_and_json_declares_them() {
    let def = approval(json!({
        "Retry": [{"ErrorEquals": ["Rejected"], "IntervalSeconds": 2, "MaxAttempts": 1}],
        "ResultPath": "$.reply"
    }));
    let (mut svc, m) = service_with(def);
    let calls: Vec<ScriptedCall> = serde_json::from_value(json!([
        {"at_ms": 1000, "state": "Wait for approval", "action": "failure",
         "error": "Rejected", "cause": "first try"},
        {"at_ms": 7000, "state": "Wait for approval", "occurrence": 2,
         "action": "success", "output": {"approved": true}}
    ]))
    .unwrap();
    assert_eq!(calls[1].at, ScriptTime::AfterStart(7_000));
    let d = svc
        .start_execution_with_script(&m, Some("retry"), Some(r#"{"n":1}"#), calls)
        .unwrap();
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    assert_eq!(d.output, Some(json!({"n": 1, "reply": {"approved": true}})));
    assert_eq!(
        timeline(&svc, &d.execution_arn),
        [
            row(1, 0, "ExecutionStarted", 0),
            row(2, 0, "TaskStateEntered", 0),
            row(3, 2, "TaskScheduled", 0),
            row(4, 3, "TaskStarted", 0),
            row(5, 4, "TaskFailed", 1_000),
            row(6, 5, "TaskScheduled", 3_000),
            row(7, 6, "TaskStarted", 3_000),
            row(8, 7, "TaskSucceeded", 7_000),
            row(9, 8, "TaskStateExited", 7_000),
            row(10, 9, "ExecutionSucceeded", 7_000),
        ]
    );
    assert_eq!(codes(&svc), [Ok(()), Ok(())]);
    let log = svc.script_log();
    assert_ne!(log[0].token, log[1].token, "each attempt has its own token");
}

#[test]
fn a_token_never_issued_and_an_instant_in_the_past_are_reported() {
    let (mut svc, m) = service_with(approval(json!({})));
    let d = svc
        .start_execution_with_script(
            &m,
            Some("x"),
            None,
            vec![
                ScriptedCall::after(1_000, "Wait for approval", ScriptedAction::Heartbeat)
                    .occurrence(2),
                ScriptedCall::after(
                    2_000,
                    "No such state",
                    ScriptedAction::Failure {
                        error: None,
                        cause: None,
                    },
                ),
            ],
        )
        .unwrap();
    // Nothing answered the task: it still waits, at the last scripted instant.
    assert_eq!(d.status, ExecutionStatus::Running);
    assert_eq!(svc.now(), Timestamp(START + 2_000));
    assert_eq!(
        codes(&svc),
        [Err("TaskDoesNotExist"), Err("TaskDoesNotExist")]
    );
    assert_eq!(
        svc.script_log()[0].result.as_ref().unwrap_err().message,
        "state 'Wait for approval' had issued 1 task token(s) by 2024-01-01T00:00:01.000Z; token 2 of it does not exist"
    );
    let past = svc
        .script(
            &d.execution_arn,
            ScriptedCall::after(500, "Wait for approval", ScriptedAction::Heartbeat),
        )
        .unwrap_err();
    assert_eq!(past.code, "ValidationException");
    // Scripting later works on a running execution too; `advance` fires on the way.
    svc.script(
        &d.execution_arn,
        ScriptedCall::after(
            9_000,
            "Wait for approval",
            ScriptedAction::Success { output: json!(1) },
        ),
    )
    .unwrap();
    svc.advance(60_000).unwrap();
    let d = svc.describe_execution(&d.execution_arn).unwrap();
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    assert_eq!(d.stop_date, Some(Timestamp(START + 9_000)));
    assert_eq!(svc.now(), Timestamp(START + 62_000));
}

#[test]
fn calls_due_at_one_instant_see_each_other_s_effects() {
    // Two callback states in a row, both answered at 5 s: the first answer moves the
    // execution on (in no virtual time) to the second state, whose token the second call,
    // due at the same instant, then finds, as a caller's second request would.
    let ask = |next: Option<&str>| {
        let mut s = json!({
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}}
        });
        match next {
            Some(n) => s["Next"] = json!(n),
            None => s["End"] = json!(true),
        }
        s
    };
    let def =
        json!({"StartAt": "First", "States": {"First": ask(Some("Second")), "Second": ask(None)}});
    let (mut svc, m) = service_with(def);
    let success = |state: &str, v: i64| {
        ScriptedCall::after(
            5_000,
            state,
            ScriptedAction::Success {
                output: json!({ "v": v }),
            },
        )
    };
    let d = svc
        .start_execution_with_script(
            &m,
            Some("both"),
            None,
            vec![success("First", 1), success("Second", 2)],
        )
        .unwrap();
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    assert_eq!(d.output, Some(json!({"v": 2})));
    assert_eq!(d.stop_date, Some(Timestamp(START + 5_000)));
    assert_eq!(codes(&svc), [Ok(()), Ok(())]);
}
