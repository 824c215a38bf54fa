//! RedriveExecution: an unsuccessful Standard execution continues from the state where it
//! stopped, keeping its history.

use engine::{
    ExecutionStatus, HandlerFactory, Service, TaskHandler, TaskHandlerError, TaskRequest,
    TaskResponse, Timestamp, WorkflowType,
};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;

const START: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z
const HOUR: u64 = 3_600_000;

/// Fails the first call of `Charge` with `Boom`, answers the others.
struct Flaky(Rc<RefCell<u32>>);

impl HandlerFactory for Flaky {
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
                if *self.0.borrow() == 1 {
                    return Ok(TaskResponse::failure("Boom", Some("first call".into())));
                }
                Ok(TaskResponse::success(
                    json!({"charged": r.parameters["amount"].clone()}),
                ))
            }
        }
        Ok(Box::new(H(self.0.clone())))
    }
}

fn shop(svc: &mut Service) -> String {
    let def = json!({"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "Result": 12, "ResultPath": "$.amount", "Next": "Charge"},
        "Charge": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:payments:charge",
                   "Parameters": {"amount.$": "$.amount"}, "ResultPath": "$.receipt",
                   "Next": "Done"},
        "Done": {"Type": "Pass", "Parameters": {"receipt.$": "$.receipt",
                                                "redrives.$": "$$.Execution.RedriveCount"},
                 "End": true}
    }});
    svc.create_state_machine("Shop", &def.to_string(), WorkflowType::Standard, None)
        .unwrap()
        .arn
}

type Row = (u64, u64, String, i64);

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

fn api(svc: &Service, arn: &str, id: usize) -> Value {
    svc.get_execution_history(arn).unwrap()[id - 1].to_api_json()
}

#[test]
fn a_failed_execution_continues_from_the_failed_state_keeping_its_history() {
    let calls = Rc::new(RefCell::new(0));
    let mut svc = Service::new().with_handlers(Flaky(calls.clone()));
    let m = shop(&mut svc);
    let d = svc
        .start_execution(&m, Some("o1"), Some(r#"{"id":7}"#))
        .unwrap();
    assert_eq!(d.status, ExecutionStatus::Failed);
    assert_eq!(d.error.as_deref(), Some("Boom"));
    assert_eq!(d.redrive_count, 0);
    assert_eq!(d.redrive_status, Some("REDRIVABLE"));
    assert_eq!(d.redrive_status_reason, None);

    svc.advance(HOUR).unwrap();
    let date = svc.redrive_execution(&d.execution_arn).unwrap();
    assert_eq!(date, Timestamp(START + HOUR as i64));
    let r = svc.describe_execution(&d.execution_arn).unwrap();
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(
        r.output,
        Some(json!({"receipt": {"charged": 12}, "redrives": 1}))
    );
    assert_eq!(
        r.start_date,
        Timestamp(START),
        "the same execution, started once"
    );
    assert_eq!(r.stop_date, Some(Timestamp(START + HOUR as i64)));
    assert_eq!(r.redrive_count, 1);
    assert_eq!(r.redrive_date, Some(date));
    assert_eq!(r.redrive_status, Some("NOT_REDRIVABLE"));
    assert_eq!(
        r.redrive_status_reason.as_deref(),
        Some("Execution is SUCCEEDED and cannot be redriven")
    );
    // Prepare is not run again; Charge is, once.
    assert_eq!(*calls.borrow(), 2);
    let h = HOUR as i64;
    assert_eq!(
        timeline(&svc, &d.execution_arn),
        [
            row(1, 0, "ExecutionStarted", 0),
            row(2, 0, "PassStateEntered", 0),
            row(3, 2, "PassStateExited", 0),
            row(4, 3, "TaskStateEntered", 0),
            row(5, 4, "TaskScheduled", 0),
            row(6, 5, "TaskStarted", 0),
            row(7, 6, "TaskFailed", 0),
            row(8, 7, "ExecutionFailed", 0),
            row(9, 8, "ExecutionRedriven", h),
            row(10, 9, "TaskStateEntered", h),
            row(11, 10, "TaskScheduled", h),
            row(12, 11, "TaskStarted", h),
            row(13, 12, "TaskSucceeded", h),
            row(14, 13, "TaskStateExited", h),
            row(15, 14, "PassStateEntered", h),
            row(16, 15, "PassStateExited", h),
            row(17, 16, "ExecutionSucceeded", h),
        ]
    );
    assert_eq!(
        api(&svc, &d.execution_arn, 9)["executionRedrivenEventDetails"],
        json!({"redriveCount": 1})
    );
    // The state is entered again with the input it had.
    assert_eq!(
        api(&svc, &d.execution_arn, 10)["stateEnteredEventDetails"],
        api(&svc, &d.execution_arn, 4)["stateEnteredEventDetails"]
    );
    assert_eq!(
        api(&svc, &d.execution_arn, 10)["stateEnteredEventDetails"]["input"],
        json!("{\"id\":7,\"amount\":12}")
    );
    // Log records carry the redrive count of their moment.
    let logs = svc.express_logs(&d.execution_arn).unwrap();
    assert_eq!(logs[7]["redrive_count"], json!("0"));
    assert_eq!(logs[8]["redrive_count"], json!("1"));
    assert_eq!(logs[16]["redrive_count"], json!("1"));
    assert_eq!(
        svc.redrive_execution(&d.execution_arn).unwrap_err(),
        engine::ServiceError {
            code: "ExecutionNotRedrivable",
            message: "Execution is SUCCEEDED and cannot be redriven".into()
        }
    );
}

fn wait_machine(svc: &mut Service, name: &str, def: Value) -> String {
    svc.create_state_machine(name, &def.to_string(), WorkflowType::Standard, None)
        .unwrap()
        .arn
}

#[test]
fn an_aborted_execution_reenters_the_state_it_was_stopped_in() {
    let mut svc = Service::new();
    // Stopped while its activity task waits for a worker.
    let (activity, _) = svc.create_activity("gate").unwrap();
    let gate = wait_machine(
        &mut svc,
        "Gate",
        json!({"StartAt": "Hold", "States": {
            "Hold": {"Type": "Task", "Resource": activity, "Next": "Wait"},
            "Wait": {"Type": "Wait", "Seconds": 60, "End": true}
        }}),
    );
    let g = svc.start_execution(&gate, Some("g"), None).unwrap();
    svc.advance(5_000).unwrap();
    svc.stop_execution(&g.execution_arn, Some("Halt".into()), None)
        .unwrap();
    let stopped = svc.describe_execution(&g.execution_arn).unwrap();
    assert_eq!(stopped.status, ExecutionStatus::Aborted);
    assert_eq!(stopped.redrive_status, Some("REDRIVABLE"));
    svc.redrive_execution(&g.execution_arn).unwrap();
    // The activity task is scheduled again and waits for a worker.
    let task = svc
        .get_activity_task(&activity, Some("w"))
        .unwrap()
        .unwrap();
    svc.send_task_success(&task.task_token, "{}").unwrap();
    let done = svc.describe_execution(&g.execution_arn).unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(done.stop_date, Some(Timestamp(START + 65_000)));
    assert_eq!(
        timeline(&svc, &g.execution_arn),
        [
            row(1, 0, "ExecutionStarted", 0),
            row(2, 0, "TaskStateEntered", 0),
            row(3, 2, "ActivityScheduled", 0),
            row(4, 3, "ExecutionAborted", 5_000),
            row(5, 4, "ExecutionRedriven", 5_000),
            row(6, 5, "TaskStateEntered", 5_000),
            row(7, 6, "ActivityScheduled", 5_000),
            row(8, 7, "ActivityStarted", 5_000),
            row(9, 8, "ActivitySucceeded", 5_000),
            row(10, 9, "TaskStateExited", 5_000),
            row(11, 10, "WaitStateEntered", 5_000),
            row(12, 11, "WaitStateExited", 65_000),
            row(13, 12, "ExecutionSucceeded", 65_000),
        ]
    );
}

#[test]
fn a_timed_out_execution_gets_its_time_limit_again_from_the_redrive() {
    let mut svc = Service::new();
    let m = wait_machine(
        &mut svc,
        "Limited",
        json!({"TimeoutSeconds": 10, "StartAt": "Wait", "States": {
            "Wait": {"Type": "Wait", "Seconds": 8, "Next": "Wait more"},
            "Wait more": {"Type": "Wait", "Seconds": 8, "End": true}
        }}),
    );
    let d = svc.start_execution(&m, Some("t"), None).unwrap();
    assert_eq!(d.status, ExecutionStatus::TimedOut);
    assert_eq!(d.stop_date, Some(Timestamp(START + 10_000)));
    svc.redrive_execution(&d.execution_arn).unwrap();
    let r = svc.describe_execution(&d.execution_arn).unwrap();
    // "Wait more" runs again in full (8 s), within the new 10 s limit.
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(r.stop_date, Some(Timestamp(START + 18_000)));
    let types: Vec<String> = timeline(&svc, &d.execution_arn)
        .into_iter()
        .map(|r| r.2)
        .collect();
    assert_eq!(
        types[4..],
        [
            "ExecutionTimedOut",
            "ExecutionRedriven",
            "WaitStateEntered",
            "WaitStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[test]
fn redrive_refusals_carry_aws_codes_and_reasons() {
    let calls = Rc::new(RefCell::new(0));
    let mut svc = Service::new().with_handlers(Flaky(calls));
    let m = shop(&mut svc);
    let d = svc.start_execution(&m, Some("late"), None).unwrap();
    assert_eq!(d.status, ExecutionStatus::Failed);
    svc.advance(14 * 24 * HOUR + 1).unwrap();
    let old = svc.describe_execution(&d.execution_arn).unwrap();
    assert_eq!(old.redrive_status, Some("NOT_REDRIVABLE"));
    assert_eq!(
        old.redrive_status_reason.as_deref(),
        Some("Execution redrivable period exceeded")
    );
    let e = svc.redrive_execution(&d.execution_arn).unwrap_err();
    assert_eq!(e.code, "ExecutionNotRedrivable");
    assert_eq!(e.message, "Execution redrivable period exceeded");

    let wait = wait_machine(
        &mut svc,
        "Hold",
        json!({"StartAt": "W", "States": {"W": {"Type": "Task",
            "Resource": "arn:aws:states:us-east-1:123456789012:activity:none", "End": true}}}),
    );
    svc.create_activity("none").unwrap();
    let running = svc.start_execution(&wait, Some("r"), None).unwrap();
    let e = svc.redrive_execution(&running.execution_arn).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (
            "ExecutionNotRedrivable",
            "Execution is RUNNING and cannot be redriven"
        )
    );
    assert_eq!(
        svc.redrive_execution("arn:aws:states:us-east-1:123456789012:execution:Shop:nope")
            .unwrap_err()
            .code,
        "ExecutionDoesNotExist"
    );

    let express = svc
        .create_state_machine(
            "Fast",
            &json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}).to_string(),
            WorkflowType::Express,
            None,
        )
        .unwrap()
        .arn;
    let x = svc.start_execution(&express, Some("x"), None).unwrap();
    assert_eq!(x.redrive_status, None);
    assert_eq!(
        svc.redrive_execution(&x.execution_arn).unwrap_err().code,
        "InvalidArn"
    );

    // Only the failed branches of a Parallel state should run again: not built yet.
    let par = wait_machine(
        &mut svc,
        "Par",
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "Ok", "States": {"Ok": {"Type": "Pass", "End": true}}},
            {"StartAt": "Bad", "States": {"Bad": {"Type": "Fail", "Error": "E"}}}
        ]}}}),
    );
    let p = svc.start_execution(&par, Some("p"), None).unwrap();
    assert_eq!(p.status, ExecutionStatus::Failed);
    let e = svc.redrive_execution(&p.execution_arn).unwrap_err();
    assert_eq!(e.code, "ValidationException");
    assert_eq!(
        e.message,
        "not supported yet: redriving an execution that stopped inside the Parallel state 'P' (AWS redrives only its failed branches or iterations)"
    );
    assert_eq!(
        svc.describe_execution(&p.execution_arn).unwrap().status,
        ExecutionStatus::Failed,
        "a refused redrive changes nothing"
    );
}
