//! The in-process execution service: callbacks with task tokens, heartbeats, activities,
//! nested executions (`.sync`, `.sync:2`, `.waitForTaskToken`), StopExecution and the API's
//! errors, all on the virtual clock.

use engine::{
    Definition, ExecutionConfig, ExecutionStatus, Service, TaskHandler, TaskHandlerError,
    TaskOutcome, TaskRequest, TaskResponse, Timestamp, VirtualClock, WorkflowType,
};
use serde_json::{json, Value};

const START: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z

fn history_types(svc: &Service, arn: &str) -> Vec<String> {
    svc.get_execution_history(arn)
        .unwrap()
        .iter()
        .map(|e| e.kind.type_name())
        .collect()
}

fn event(svc: &Service, arn: &str, ty: &str) -> Value {
    svc.get_execution_history(arn)
        .unwrap()
        .iter()
        .find(|e| e.kind.type_name() == ty)
        .unwrap_or_else(|| panic!("no {ty}"))
        .to_api_json()
}

fn machine(svc: &mut Service, name: &str, def: Value) -> String {
    svc.create_state_machine(name, &def.to_string(), WorkflowType::Standard, None)
        .unwrap()
        .arn
}

/// A handler that hands every task out (Pending) and remembers the tokens.
#[derive(Default)]
struct HandOut {
    tokens: Vec<String>,
}

impl TaskHandler for HandOut {
    fn invoke(&mut self, r: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
        self.tokens.push(r.task_token.unwrap().to_string());
        Ok(TaskResponse {
            outcome: TaskOutcome::Pending { submitted: None },
            duration_ms: 0,
            submitted: None,
        })
    }
}

fn callback_definition(extra: Value) -> Definition {
    let mut task = json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token", "order.$": "$.order"}},
        "ResultPath": "$.reply",
        "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.error", "Next": "Rejected"}],
        "End": true
    });
    for (k, v) in extra.as_object().unwrap() {
        task[k] = v.clone();
    }
    let def = json!({
        "StartAt": "Ask",
        "States": {"Ask": task, "Rejected": {"Type": "Pass", "End": true}}
    });
    Definition::parse(&def.to_string()).unwrap()
}

#[test]
fn wait_for_task_token_resumes_with_the_callback_output() {
    let def = callback_definition(json!({}));
    let mut ex = def
        .start(json!({"order": 7}), ExecutionConfig::default())
        .unwrap();
    let mut h = HandOut::default();
    ex.run_due(&mut h).unwrap();
    assert_eq!(ex.status(), ExecutionStatus::Running);
    assert_eq!(ex.next_wake(), None, "only a callback can move it on");
    let waiting = ex.waiting_tasks();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].state_name, "Ask");
    let token = waiting[0].token.clone();
    assert_eq!(h.tokens, vec![token.clone()]);
    // $$.Task.Token reached the parameters.
    assert_eq!(
        waiting[0].input,
        json!({"QueueUrl": "q", "MessageBody": {"token": token, "order": 7}})
    );
    assert_eq!(
        engine::token_execution_arn(&token).as_deref(),
        Some("arn:aws:states:us-east-1:123456789012:execution:StateMachine:execution")
    );
    ex.send_task_success(&token, json!({"approved": true}))
        .unwrap();
    ex.run_due(&mut h).unwrap();
    assert_eq!(ex.status(), ExecutionStatus::Succeeded);
    let result = ex.into_result();
    assert_eq!(
        result.output,
        Some(json!({"order": 7, "reply": {"approved": true}}))
    );
    let types: Vec<String> = result.history.iter().map(|e| e.kind.type_name()).collect();
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
    assert_eq!(
        result.history[4].to_api_json()["taskSucceededEventDetails"],
        json!({"resourceType": "sqs", "resource": "sendMessage.waitForTaskToken",
               "output": "{\"approved\":true}", "outputDetails": {"truncated": false}})
    );
}

#[test]
fn a_failure_callback_is_caught_and_used_tokens_are_refused() {
    let def = callback_definition(json!({}));
    let mut ex = def
        .start(json!({"order": 1}), ExecutionConfig::default())
        .unwrap();
    let mut h = HandOut::default();
    ex.run_due(&mut h).unwrap();
    let token = h.tokens[0].clone();
    ex.send_task_failure(&token, Some("Rejected".into()), Some("no stock".into()))
        .unwrap();
    assert_eq!(
        ex.send_task_success(&token, json!({})),
        Err(engine::CallbackError::TaskDoesNotExist)
    );
    ex.run_due(&mut h).unwrap();
    let r = ex.into_result();
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(
        r.output,
        Some(json!({"order": 1, "error": {"Error": "Rejected", "Cause": "no stock"}}))
    );
    assert_eq!(r.history[4].kind.type_name(), "TaskFailed");
}

#[test]
fn execute_with_reports_a_callback_nobody_can_send() {
    let def = callback_definition(json!({}));
    let mut clock = VirtualClock::default();
    let err = def
        .execute_with(
            json!({"order": 1}),
            &ExecutionConfig::default(),
            &mut clock,
            &mut HandOut::default(),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the execution waits for a callback that nothing here can send (state Ask); answer its task token through the execution service, or mock the state"
    );
}

/// The service's handler for these tests: waitForTaskToken SQS calls are handed out.
struct Factory;

impl engine::HandlerFactory for Factory {
    fn handler(
        &mut self,
        _machine: &str,
        _case: Option<&str>,
    ) -> Result<Box<dyn TaskHandler>, String> {
        struct H;
        impl TaskHandler for H {
            fn invoke(&mut self, r: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
                if r.resource.ends_with("sqs:sendMessage.waitForTaskToken") {
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

#[test]
fn heartbeats_extend_a_callback_and_a_missed_one_times_out_at_its_own_time() {
    let mut svc = Service::new().with_handlers(Factory);
    let def = json!({
        "StartAt": "Ask",
        "States": {"Ask": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"MessageBody.$": "$$.Task.Token"},
            "HeartbeatSeconds": 10,
            "TimeoutSeconds": 300,
            "End": true
        }}
    });
    let m = machine(&mut svc, "Hb", def);
    let d = svc.start_execution(&m, Some("run1"), None).unwrap();
    assert_eq!(d.status, ExecutionStatus::Running);
    let token = svc.waiting_tasks(&d.execution_arn).unwrap()[0]
        .token
        .clone();
    svc.advance(5_000).unwrap();
    svc.send_task_heartbeat(&token).unwrap();
    svc.advance(9_000).unwrap();
    assert_eq!(
        svc.describe_execution(&d.execution_arn).unwrap().status,
        ExecutionStatus::Running
    );
    svc.advance(60_000).unwrap();
    let d = svc.describe_execution(&d.execution_arn).unwrap();
    assert_eq!(d.status, ExecutionStatus::Failed);
    assert_eq!(d.error.as_deref(), Some("States.HeartbeatTimeout"));
    let timed_out = event(&svc, &d.execution_arn, "TaskTimedOut");
    // The heartbeat at 5 s gave 10 s more: the timeout is at 15 s, not when the clock
    // was moved past it.
    assert_eq!(
        timed_out["timestamp"],
        json!((START + 15_000) as f64 / 1000.0)
    );
    assert_eq!(
        timed_out["taskTimedOutEventDetails"],
        json!({"resourceType": "sqs", "resource": "sendMessage.waitForTaskToken",
               "error": "States.HeartbeatTimeout"})
    );
    let late = svc.send_task_success(&token, "{}").unwrap_err();
    assert_eq!(late.code, "TaskTimedOut");
    assert_eq!(
        svc.send_task_success("bm90IGEgdG9rZW4=", "{}")
            .unwrap_err()
            .code,
        "InvalidToken"
    );
}

fn child_definition() -> Value {
    json!({
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Parameters": {"got.$": "$"}, "Next": "Sleep"},
            "Sleep": {"Type": "Wait", "Seconds": 60, "End": true}
        }
    })
}

fn parent_definition(resource: &str, child_arn: &str) -> Value {
    json!({
        "StartAt": "Call",
        "States": {"Call": {
            "Type": "Task",
            "Resource": resource,
            "Parameters": {"StateMachineArn": child_arn, "Name": "child-1", "Input": {"n.$": "$.n"}},
            "End": true
        }}
    })
}

#[test]
fn sync_child_output_is_text_and_sync2_output_is_json() {
    for (resource, output) in [
        (
            "arn:aws:states:::states:startExecution.sync",
            json!("{\"got\":{\"n\":3}}"),
        ),
        (
            "arn:aws:states:::states:startExecution.sync:2",
            json!({"got": {"n": 3}}),
        ),
    ] {
        let mut svc = Service::new();
        let child = machine(&mut svc, "Child", child_definition());
        let parent = machine(&mut svc, "Parent", parent_definition(resource, &child));
        let d = svc
            .start_execution(&parent, Some("p"), Some(r#"{"n": 3}"#))
            .unwrap();
        assert_eq!(d.status, ExecutionStatus::Succeeded, "{resource}");
        let out = d.output.unwrap();
        let child_arn = "arn:aws:states:us-east-1:123456789012:execution:Child:child-1";
        assert_eq!(out["ExecutionArn"], json!(child_arn));
        assert_eq!(out["Output"], output);
        assert_eq!(out["Status"], json!("SUCCEEDED"));
        assert_eq!(out["StartDate"], json!(START));
        assert_eq!(out["StopDate"], json!(START + 60_000));
        assert_eq!(
            history_types(&svc, &d.execution_arn),
            [
                "ExecutionStarted",
                "TaskStateEntered",
                "TaskScheduled",
                "TaskStarted",
                "TaskSubmitted",
                "TaskSucceeded",
                "TaskStateExited",
                "ExecutionSucceeded"
            ]
        );
        let submitted = event(&svc, &d.execution_arn, "TaskSubmitted");
        let details: Value = serde_json::from_str(
            submitted["taskSubmittedEventDetails"]["output"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(details["ExecutionArn"], json!(child_arn));
        let succeeded = event(&svc, &d.execution_arn, "TaskSucceeded");
        assert_eq!(
            succeeded["timestamp"],
            json!((START + 60_000) as f64 / 1000.0)
        );
        let child = svc.describe_execution(child_arn).unwrap();
        assert_eq!(child.input, json!({"n": 3}));
    }
}

#[test]
fn a_failed_sync_child_fails_the_parent_task_with_states_task_failed() {
    let mut svc = Service::new();
    let child = machine(
        &mut svc,
        "Child",
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "bad"}}}),
    );
    let parent = machine(
        &mut svc,
        "Parent",
        parent_definition("arn:aws:states:::states:startExecution.sync:2", &child),
    );
    let d = svc
        .start_execution(&parent, Some("p"), Some(r#"{"n":1}"#))
        .unwrap();
    assert_eq!(d.status, ExecutionStatus::Failed);
    assert_eq!(d.error.as_deref(), Some("States.TaskFailed"));
    let cause: Value = serde_json::from_str(d.cause.as_deref().unwrap()).unwrap();
    assert_eq!(cause["Status"], json!("FAILED"));
    assert_eq!(cause["Error"], json!("Boom"));
    assert_eq!(cause["Cause"], json!("bad"));
    assert_eq!(cause.get("Output"), None);
}

#[test]
fn a_child_answers_its_parent_from_its_third_state_of_five() {
    let mut svc = Service::new();
    let child = machine(
        &mut svc,
        "Child",
        json!({
            "StartAt": "One",
            "States": {
                "One": {"Type": "Pass", "Next": "Two"},
                "Two": {"Type": "Wait", "Seconds": 10, "Next": "Three"},
                "Three": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:sfn:sendTaskSuccess",
                    "Parameters": {"TaskToken.$": "$.token", "Output": "{\"ready\":true}"},
                    "ResultPath": null,
                    "Next": "Four"
                },
                "Four": {"Type": "Wait", "Seconds": 100, "Next": "Five"},
                "Five": {"Type": "Succeed"}
            }
        }),
    );
    let parent = machine(
        &mut svc,
        "Parent",
        json!({
            "StartAt": "Call",
            "States": {"Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
                "Parameters": {
                    "StateMachineArn": child,
                    "Name": "kid",
                    "Input": {
                        "token.$": "$$.Task.Token",
                        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"
                    }
                },
                "End": true
            }}
        }),
    );
    let p = svc.start_execution(&parent, Some("p"), None).unwrap();
    assert_eq!(p.status, ExecutionStatus::Succeeded);
    assert_eq!(p.output, Some(json!({"ready": true})));
    assert_eq!(p.stop_date, Some(Timestamp(START + 10_000)));
    let kid = svc
        .describe_execution("arn:aws:states:us-east-1:123456789012:execution:Child:kid")
        .unwrap();
    assert_eq!(kid.status, ExecutionStatus::Succeeded);
    assert_eq!(kid.stop_date, Some(Timestamp(START + 110_000)));
    assert_eq!(
        kid.input["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"],
        json!(p.execution_arn)
    );
}

#[test]
fn a_wait_for_task_token_child_start_records_task_submitted() {
    // AWS records TaskSubmitted (the integration's response) for every callback task before
    // it waits for the token; for startExecution that is the StartExecution response.
    let mut svc = Service::new();
    let child = machine(
        &mut svc,
        "Child",
        json!({"StartAt": "Reply", "States": {"Reply": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:sfn:sendTaskSuccess",
            "Parameters": {"TaskToken.$": "$.token", "Output": "{\"ok\":true}"},
            "End": true
        }}}),
    );
    let parent = machine(
        &mut svc,
        "Parent",
        json!({"StartAt": "Call", "States": {"Call": {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
            "Parameters": {"StateMachineArn": child, "Name": "kid", "Input": {"token.$": "$$.Task.Token"}},
            "End": true
        }}}),
    );
    let p = svc.start_execution(&parent, Some("p"), None).unwrap();
    assert_eq!(p.status, ExecutionStatus::Succeeded);
    assert_eq!(p.output, Some(json!({"ok": true})));
    assert_eq!(
        history_types(&svc, &p.execution_arn),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let submitted = event(&svc, &p.execution_arn, "TaskSubmitted");
    let output: Value = serde_json::from_str(
        submitted["taskSubmittedEventDetails"]["output"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        output["ExecutionArn"],
        json!("arn:aws:states:us-east-1:123456789012:execution:Child:kid")
    );
    assert_eq!(output["StartDate"], json!(START));
    assert_eq!(
        submitted["taskSubmittedEventDetails"]["resource"],
        json!("startExecution.waitForTaskToken")
    );
}

fn activity_machine(svc: &mut Service, name: &str, activity: &str) -> String {
    activity_machine_with(svc, name, activity, json!({"job.$": "$.job"}))
}

fn activity_machine_with(svc: &mut Service, name: &str, activity: &str, params: Value) -> String {
    machine(
        svc,
        name,
        json!({
            "StartAt": "Work",
            "States": {"Work": {
                "Type": "Task",
                "Resource": activity,
                "Parameters": params,
                "HeartbeatSeconds": 30,
                "End": true
            }}
        }),
    )
}

#[test]
fn activity_tasks_go_to_workers_and_record_activity_events() {
    let mut svc = Service::new();
    let (activity, _) = svc.create_activity("resize").unwrap();
    assert_eq!(
        activity,
        "arn:aws:states:us-east-1:123456789012:activity:resize"
    );
    let m = activity_machine(&mut svc, "Jobs", &activity);
    assert_eq!(svc.get_activity_task(&activity, Some("w1")).unwrap(), None);
    let d = svc
        .start_execution(&m, Some("j1"), Some(r#"{"job": "img-1"}"#))
        .unwrap();
    assert_eq!(d.status, ExecutionStatus::Running);
    svc.advance(4_000).unwrap();
    let task = svc
        .get_activity_task(&activity, Some("w1"))
        .unwrap()
        .unwrap();
    assert_eq!(task.input, json!({"job": "img-1"}));
    assert_eq!(svc.get_activity_task(&activity, Some("w2")).unwrap(), None);
    svc.advance(1_000).unwrap();
    svc.send_task_success(&task.task_token, r#"{"done": "img-1"}"#)
        .unwrap();
    let d = svc.describe_execution(&d.execution_arn).unwrap();
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    assert_eq!(d.output, Some(json!({"done": "img-1"})));
    assert_eq!(
        history_types(&svc, &d.execution_arn),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "ActivityScheduled",
            "ActivityStarted",
            "ActivitySucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let scheduled = event(&svc, &d.execution_arn, "ActivityScheduled");
    assert_eq!(
        scheduled["activityScheduledEventDetails"],
        json!({"resource": activity, "input": "{\"job\":\"img-1\"}",
               "inputDetails": {"truncated": false}, "heartbeatInSeconds": 30})
    );
    let started = event(&svc, &d.execution_arn, "ActivityStarted");
    assert_eq!(
        started["activityStartedEventDetails"],
        json!({"workerName": "w1"})
    );
    assert_eq!(started["timestamp"], json!((START + 4_000) as f64 / 1000.0));
}

#[test]
fn stopping_a_parent_aborts_its_sync_child() {
    let mut svc = Service::new();
    let (activity, _) = svc.create_activity("never").unwrap();
    let child = activity_machine_with(&mut svc, "Child", &activity, json!({"n.$": "$.n"}));
    let parent = machine(
        &mut svc,
        "Parent",
        parent_definition("arn:aws:states:::states:startExecution.sync", &child),
    );
    let p = svc
        .start_execution(&parent, Some("p"), Some(r#"{"n":1}"#))
        .unwrap();
    assert_eq!(p.status, ExecutionStatus::Running);
    svc.stop_execution(
        &p.execution_arn,
        Some("Halt".into()),
        Some("by test".into()),
    )
    .unwrap();
    let p = svc.describe_execution(&p.execution_arn).unwrap();
    assert_eq!(p.status, ExecutionStatus::Aborted);
    assert_eq!(p.error.as_deref(), Some("Halt"));
    assert_eq!(
        history_types(&svc, &p.execution_arn)
            .last()
            .map(String::as_str),
        Some("ExecutionAborted")
    );
    let c = svc
        .describe_execution("arn:aws:states:us-east-1:123456789012:execution:Child:child-1")
        .unwrap();
    assert_eq!(c.status, ExecutionStatus::Aborted);
}

#[test]
fn execution_names_are_idempotent_only_while_running_with_the_same_input() {
    let mut svc = Service::new();
    let (activity, _) = svc.create_activity("a").unwrap();
    let m = activity_machine(&mut svc, "M", &activity);
    let first = svc
        .start_execution(&m, Some("x"), Some(r#"{"job":1}"#))
        .unwrap();
    let again = svc
        .start_execution(&m, Some("x"), Some(r#"{"job":1}"#))
        .unwrap();
    assert_eq!(first.execution_arn, again.execution_arn);
    let other = svc
        .start_execution(&m, Some("x"), Some(r#"{"job":2}"#))
        .unwrap_err();
    assert_eq!(other.code, "ExecutionAlreadyExists");
    svc.stop_execution(&first.execution_arn, None, None)
        .unwrap();
    let closed = svc
        .start_execution(&m, Some("x"), Some(r#"{"job":1}"#))
        .unwrap_err();
    assert_eq!(closed.code, "ExecutionAlreadyExists");
    assert_eq!(svc.list_executions(&m, None).unwrap().len(), 1);
}

#[test]
fn api_errors_carry_aws_codes() {
    let mut svc = Service::new();
    let code = |r: Result<engine::ExecutionDescription, engine::ServiceError>| r.unwrap_err().code;
    assert_eq!(
        code(svc.start_execution(
            "arn:aws:states:us-east-1:123456789012:stateMachine:Nope",
            None,
            None
        )),
        "StateMachineDoesNotExist"
    );
    assert_eq!(code(svc.describe_execution("nope")), "InvalidArn");
    assert_eq!(
        code(svc.describe_execution("arn:aws:states:us-east-1:123456789012:execution:M:x")),
        "ExecutionDoesNotExist"
    );
    let bad = svc
        .create_state_machine(
            "Bad",
            r#"{"StartAt": "X", "States": {}}"#,
            WorkflowType::Standard,
            None,
        )
        .unwrap_err();
    assert_eq!(bad.code, "InvalidDefinition");
    let name = svc
        .create_state_machine("has space", "{}", WorkflowType::Standard, None)
        .unwrap_err();
    assert_eq!(name.code, "InvalidName");
    let pass = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let m = machine(&mut svc, "Std", pass.clone());
    assert_eq!(
        code(svc.start_sync_execution(&m, None, None)),
        "StateMachineTypeNotSupported"
    );
    assert_eq!(
        code(svc.start_execution(&m, None, Some("{oops"))),
        "InvalidExecutionInput"
    );
    let e = svc
        .create_state_machine("Exp", &pass.to_string(), WorkflowType::Express, None)
        .unwrap();
    let d = svc
        .start_sync_execution(&e.arn, Some("e1"), Some(r#"{"a":1}"#))
        .unwrap();
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    assert_eq!(d.output, Some(json!({"a": 1})));
    assert!(d
        .execution_arn
        .starts_with("arn:aws:states:us-east-1:123456789012:express:Exp:e1:"));
    let refused = svc.get_execution_history(&d.execution_arn).unwrap_err();
    assert_eq!(refused.code, "InvalidArn");
    assert_eq!(
        refused.message,
        "Invalid Arn: 'Resource type not valid in this context: express'"
    );
}

/// With a history budget, the service keeps the histories of the latest ended executions
/// only: an older one's GetExecutionHistory and RedriveExecution answer that its history is
/// no longer kept, while DescribeExecution still gives its status, input and output.
#[test]
fn a_history_budget_drops_the_oldest_ended_histories() {
    // Each execution records 5 events: ExecutionStarted, PassStateEntered/Exited and
    // FailStateEntered, ExecutionFailed (a failed execution can be redriven).
    let mut svc = Service::new().with_history_budget(12);
    let m = machine(
        &mut svc,
        "Budget",
        json!({"StartAt": "P", "States": {
            "P": {"Type": "Pass", "Next": "F"},
            "F": {"Type": "Fail", "Error": "E", "Cause": "c"}}}),
    );
    let arns: Vec<String> = (0..3)
        .map(|n| {
            let input = format!(r#"{{"n": {n}}}"#);
            svc.start_execution(&m, Some(&format!("run{n}")), Some(&input))
                .unwrap()
                .execution_arn
        })
        .collect();
    // 15 events ended; the oldest execution's 5 go, which leaves 10 within the budget.
    let dropped = svc.get_execution_history(&arns[0]).unwrap_err();
    assert_eq!(dropped.code, "ResourceNotFound");
    assert_eq!(
        dropped.message,
        format!("The history of execution '{}' is no longer kept: the service keeps at most 12 history events of ended executions, and dropped the oldest (stepcheck serve --history-budget).", arns[0])
    );
    for arn in &arns[1..] {
        assert_eq!(svc.get_execution_history(arn).unwrap().len(), 5, "{arn}");
    }
    let d = svc.describe_execution(&arns[0]).unwrap();
    assert_eq!(d.status, ExecutionStatus::Failed);
    assert_eq!(d.input, json!({"n": 0}));
    assert_eq!(d.error.as_deref(), Some("E"));
    assert_eq!(
        d.redrive_status_reason.as_deref(),
        Some("Execution history is no longer kept (stepcheck serve --history-budget)")
    );
    assert_eq!(
        svc.redrive_execution(&arns[0]).unwrap_err().code,
        "ExecutionNotRedrivable"
    );
    assert!(svc.redrive_execution(&arns[2]).is_ok());
    // Without a budget every history stays.
    let mut all = Service::new();
    let m = machine(
        &mut all,
        "All",
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
    );
    let arns: Vec<String> = (0..50)
        .map(|n| {
            all.start_execution(&m, Some(&format!("r{n}")), None)
                .unwrap()
                .execution_arn
        })
        .collect();
    assert_eq!(all.get_execution_history(&arns[0]).unwrap().len(), 4);
}
