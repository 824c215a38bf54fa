//! What `stepcheck serve` needs of the service: a clock that only the driver moves
//! (`with_auto_advance(false)`, `next_timer`), finding the execution a StartExecution created
//! (`execution_count`, `execution_at`), and calls that stay correct after many executions
//! have ended (the service walks only the active ones).

use engine::{ExecutionStatus, Service, Timestamp, WorkflowType};
use serde_json::json;

const START: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z

fn wait_machine(svc: &mut Service, name: &str, seconds: u64) -> String {
    let def =
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": seconds, "End": true}}});
    svc.create_state_machine(name, &def.to_string(), WorkflowType::Standard, None)
        .unwrap()
        .arn
}

#[test]
fn without_auto_advance_only_the_driver_moves_the_clock() {
    let mut svc = Service::new().with_auto_advance(false);
    let arn = wait_machine(&mut svc, "w", 10);
    assert_eq!(svc.next_timer(), None);
    let d = svc.start_execution(&arn, Some("e"), None).unwrap();
    assert_eq!(d.status, ExecutionStatus::Running);
    assert_eq!(svc.now(), Timestamp(START));
    assert_eq!(svc.next_timer(), Some(Timestamp(START + 10_000)));
    svc.advance(9_999).unwrap();
    assert_eq!(
        svc.describe_execution(&d.execution_arn).unwrap().status,
        ExecutionStatus::Running
    );
    svc.advance(1).unwrap();
    let d = svc.describe_execution(&d.execution_arn).unwrap();
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    assert_eq!(d.stop_date, Some(Timestamp(START + 10_000)));
    assert_eq!(svc.next_timer(), None);
}

#[test]
fn execution_at_finds_the_execution_a_failed_start_created() {
    let mut svc = Service::new();
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "End": true}}});
    let arn = svc
        .create_state_machine("t", &def.to_string(), WorkflowType::Standard, None)
        .unwrap()
        .arn;
    let before = svc.execution_count();
    let e = svc.start_execution(&arn, Some("x"), None).unwrap_err();
    assert_eq!(e.code, "ValidationException");
    let d = svc.execution_at(before).expect("the execution exists");
    assert_eq!(d.name, "x");
    assert_eq!(d.status, ExecutionStatus::Failed);
    assert_eq!(d.error.as_deref(), Some("States.Runtime"));
    assert_eq!(svc.execution_at(before + 1), None);
}

#[test]
fn a_waiting_execution_still_runs_after_many_others_ended() {
    let mut svc = Service::new().with_auto_advance(false);
    let slow = wait_machine(&mut svc, "slow", 60);
    let quick = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let quick = svc
        .create_state_machine("quick", &quick.to_string(), WorkflowType::Standard, None)
        .unwrap()
        .arn;
    let waiting = svc.start_execution(&slow, Some("waiting"), None).unwrap();
    for i in 0..500 {
        let d = svc
            .start_execution(&quick, Some(&format!("q{i}")), None)
            .unwrap();
        assert_eq!(d.status, ExecutionStatus::Succeeded);
    }
    assert_eq!(svc.execution_count(), 501);
    assert_eq!(svc.next_timer(), Some(Timestamp(START + 60_000)));
    svc.advance(60_000).unwrap();
    assert_eq!(
        svc.describe_execution(&waiting.execution_arn)
            .unwrap()
            .status,
        ExecutionStatus::Succeeded
    );
}
