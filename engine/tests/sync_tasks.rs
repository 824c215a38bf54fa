//! The "Run a Job" pattern (`.sync`): TaskScheduled, TaskStarted, TaskSubmitted (the submit
//! response, at once), then TaskSucceeded with the final job description or TaskFailed, as
//! AWS records them (LocalStack's `test_ecs_task_service.py::test_run_task_sync` snapshot,
//! recorded on AWS); see `engine/src/sync_task.rs`.

use engine::{
    Definition, ExecutionConfig, ExecutionResult, ExecutionStatus, TaskHandler, TaskHandlerError,
    TaskRequest, TaskResponse, VirtualClock, WorkflowType,
};
use serde_json::{json, Value};

struct Script {
    responses: Vec<TaskResponse>,
    calls: Vec<(String, Value)>,
}

impl TaskHandler for Script {
    fn invoke(&mut self, r: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
        self.calls
            .push((r.resource.to_string(), r.parameters.clone()));
        Ok(self.responses.remove(0))
    }
}

fn run(def: &Value, responses: Vec<TaskResponse>) -> (ExecutionResult, Script) {
    let d = Definition::parse(&def.to_string()).expect("valid definition");
    let config = ExecutionConfig::default();
    let mut clock = VirtualClock::starting_at(config.start_time);
    let mut s = Script {
        responses,
        calls: Vec::new(),
    };
    let r = d
        .execute_with(json!({}), &config, &mut clock, &mut s)
        .expect("run completes");
    (r, s)
}

fn task(resource: &str, parameters: Value) -> Value {
    json!({"StartAt": "Job", "States": {"Job": {"Type": "Task", "Resource": resource,
        "Parameters": parameters, "End": true}}})
}

/// `id prev Type time`.
fn lines(r: &ExecutionResult) -> Vec<String> {
    r.history
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {}",
                e.id,
                e.previous_event_id,
                e.kind.type_name(),
                &e.timestamp.to_rfc3339()[11..19]
            )
        })
        .collect()
}

#[test]
fn ecs_run_task_sync_records_the_submission_then_the_stopped_task() {
    let submit =
        json!({"Failures": [], "Tasks": [{"TaskArn": "arn:t", "LastStatus": "PROVISIONING"}]});
    let stopped = json!({"TaskArn": "arn:t", "LastStatus": "STOPPED", "StopCode": "EssentialContainerExited"});
    let (r, s) = run(
        &task(
            "arn:aws:states:::ecs:runTask.sync",
            json!({"Cluster": "c", "TaskDefinition": "td", "LaunchType": "FARGATE"}),
        ),
        vec![TaskResponse::success(stopped.clone())
            .with_submitted(submit.clone())
            .after_millis(90_000)],
    );
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(r.output, Some(stopped.clone()));
    assert_eq!(
        lines(&r),
        [
            "1 0 ExecutionStarted 00:00:00",
            "2 0 TaskStateEntered 00:00:00",
            "3 2 TaskScheduled 00:00:00",
            "4 3 TaskStarted 00:00:00",
            "5 4 TaskSubmitted 00:00:00",
            "6 5 TaskSucceeded 00:01:30",
            "7 6 TaskStateExited 00:01:30",
            "8 7 ExecutionSucceeded 00:01:30"
        ]
    );
    // AWS adds StartedBy to a runTask.sync submission and records it in TaskScheduled.
    let with_started_by = json!({"Cluster": "c", "TaskDefinition": "td", "LaunchType": "FARGATE",
        "StartedBy": "AWS Step Functions"});
    assert_eq!(s.calls[0].1, with_started_by);
    assert_eq!(
        r.history[2].to_api_json()["taskScheduledEventDetails"],
        json!({"resourceType": "ecs", "resource": "runTask.sync", "region": "us-east-1",
            "parameters": with_started_by.to_string()})
    );
    assert_eq!(
        r.history[3].to_api_json()["taskStartedEventDetails"],
        json!({"resourceType": "ecs", "resource": "runTask.sync"})
    );
    assert_eq!(
        r.history[4].to_api_json()["taskSubmittedEventDetails"],
        json!({"resourceType": "ecs", "resource": "runTask.sync",
            "output": submit.to_string(), "outputDetails": {"truncated": false}})
    );
    assert_eq!(
        r.history[5].to_api_json()["taskSucceededEventDetails"],
        json!({"resourceType": "ecs", "resource": "runTask.sync",
            "output": stopped.to_string(), "outputDetails": {"truncated": false}})
    );
}

#[test]
fn without_a_submit_response_the_final_result_is_recorded_as_submitted() {
    // What a MockConfigFile `Return` gives: one answer per attempt.
    let done = json!({"JobRun": {"JobRunState": "SUCCEEDED"}});
    let (r, _) = run(
        &task(
            "arn:aws:states:::glue:startJobRun.sync",
            json!({"JobName": "j"}),
        ),
        vec![TaskResponse::success(done.clone())],
    );
    assert_eq!(
        r.history[4].to_api_json()["taskSubmittedEventDetails"]["output"],
        json!(done.to_string())
    );
    assert_eq!(r.output, Some(done));
}

#[test]
fn batch_job_failure_is_states_task_failed_with_the_job_description() {
    let job = json!({"jobId": "j1", "jobName": "n", "status": "FAILED", "statusReason": "Essential container in task exited"});
    let (r, s) = run(
        &task(
            "arn:aws:states:::batch:submitJob.sync",
            json!({"JobName": "n", "JobQueue": "q", "JobDefinition": "d"}),
        ),
        vec![TaskResponse::job_failed(&job)
            .with_submitted(json!({"JobId": "j1", "JobName": "n"}))
            .after_millis(5000)],
    );
    assert_eq!(r.status, ExecutionStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("States.TaskFailed"));
    assert_eq!(r.cause, Some(job.to_string()));
    assert_eq!(
        lines(&r),
        [
            "1 0 ExecutionStarted 00:00:00",
            "2 0 TaskStateEntered 00:00:00",
            "3 2 TaskScheduled 00:00:00",
            "4 3 TaskStarted 00:00:00",
            "5 4 TaskSubmitted 00:00:00",
            "6 5 TaskFailed 00:00:05",
            "7 6 ExecutionFailed 00:00:05"
        ]
    );
    assert_eq!(
        r.history[5].to_api_json()["taskFailedEventDetails"],
        json!({"resourceType": "batch", "resource": "submitJob.sync",
            "error": "States.TaskFailed", "cause": job.to_string()})
    );
    // AWS marks the job as started by Step Functions.
    assert_eq!(
        s.calls[0].1["ContainerOverrides"],
        json!({"Environment": [{"name": "MANAGED_BY_AWS", "value": "STARTED_BY_STEP_FUNCTIONS"}]})
    );
}

#[test]
fn a_failed_submission_records_no_task_submitted() {
    let (r, _) = run(
        &task(
            "arn:aws:states:::glue:startJobRun.sync",
            json!({"JobName": "missing"}),
        ),
        vec![TaskResponse::failure(
            "Glue.EntityNotFoundException",
            Some("Entity Not Found".into()),
        )],
    );
    assert_eq!(r.error.as_deref(), Some("Glue.EntityNotFoundException"));
    let types: Vec<String> = r.history.iter().map(|e| e.kind.type_name()).collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskFailed",
            "ExecutionFailed"
        ]
    );
}

#[test]
fn glue_job_failure_is_caught_and_retried() {
    let run_state = json!({"JobName": "j", "JobRunState": "FAILED", "ErrorMessage": "oops"});
    let def = json!({"StartAt": "Job", "States": {
        "Job": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
            "Parameters": {"JobName": "j"},
            "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 1, "IntervalSeconds": 1}],
            "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Handle"}], "End": true},
        "Handle": {"Type": "Pass", "End": true}}});
    let (r, s) = run(
        &def,
        vec![
            TaskResponse::job_failed(&run_state).with_submitted(json!({"JobRunId": "jr1"})),
            TaskResponse::job_failed(&run_state).with_submitted(json!({"JobRunId": "jr2"})),
        ],
    );
    assert_eq!(s.calls.len(), 2);
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(
        r.output,
        Some(json!({"Error": "States.TaskFailed", "Cause": run_state.to_string()}))
    );
    let types: Vec<String> = r.history.iter().map(|e| e.kind.type_name()).collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskFailed",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskFailed",
            "TaskStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[test]
fn ecs_failures_in_the_run_task_response_fail_with_amazon_ecs_unknown() {
    let submit = json!({"Failures": [{"Arn": "arn:c", "Reason": "MISSING"}], "Tasks": []});
    let (r, _) = run(
        &task("arn:aws:states:::ecs:runTask.sync", json!({"Cluster": "c"})),
        vec![TaskResponse::success(json!({})).with_submitted(submit.clone())],
    );
    assert_eq!(r.error.as_deref(), Some("AmazonECS.Unknown"));
    assert_eq!(r.cause, Some(submit.to_string()));
    assert!(!r
        .history
        .iter()
        .any(|e| e.kind.type_name() == "TaskSubmitted"));
}

#[test]
fn a_job_longer_than_the_timeout_times_out_after_its_submission() {
    let def = json!({"StartAt": "Job", "States": {"Job": {"Type": "Task",
        "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync", "TimeoutSeconds": 10,
        "Parameters": {"TrainingJobName": "t"}, "End": true}}});
    let (r, _) = run(
        &def,
        vec![
            TaskResponse::success(json!({"TrainingJobStatus": "Completed"}))
                .with_submitted(json!({"TrainingJobArn": "arn:tj"}))
                .after_millis(60_000),
        ],
    );
    assert_eq!(r.error.as_deref(), Some("States.Timeout"));
    assert_eq!(
        lines(&r)[2..],
        [
            "3 2 TaskScheduled 00:00:00",
            "4 3 TaskStarted 00:00:00",
            "5 4 TaskSubmitted 00:00:00",
            "6 5 TaskTimedOut 00:00:10",
            "7 6 ExecutionFailed 00:00:10"
        ]
    );
}

#[test]
fn express_workflows_and_services_without_run_a_job_are_refused() {
    let d = Definition::parse(&task("arn:aws:states:::ecs:runTask.sync", json!({})).to_string())
        .unwrap();
    let express = ExecutionConfig {
        workflow_type: WorkflowType::Express,
        ..ExecutionConfig::default()
    };
    let e = d.execute(json!({}), &express).unwrap_err();
    // The text CreateStateMachine gives for an EXPRESS state machine (engine/tests/express.rs).
    assert_eq!(
        e.to_string(),
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support '.sync' service integration at /States/Job/Resource'"
    );
    // Inside a Distributed Map's EXPRESS child executions too.
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            "StartAt": "Job", "States": {"Job": {"Type": "Task",
                "Resource": "arn:aws:states:::batch:submitJob.sync", "End": true}}}}}});
    let d = Definition::parse(&def.to_string()).unwrap();
    assert_eq!(
        d.execute(json!([]), &ExecutionConfig::default())
            .unwrap_err()
            .to_string(),
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support '.sync' service integration at /States/M/ItemProcessor/States/Job/Resource'"
    );
    // Services without the Run a Job pattern (Lambda), and `.sync:2` outside Step Functions.
    for resource in [
        "arn:aws:states:::lambda:invoke.sync",
        "arn:aws:states:::sqs:sendMessage.sync",
        "arn:aws:states:::ecs:runTask.sync:2",
    ] {
        let d = Definition::parse(&task(resource, json!({})).to_string()).unwrap();
        let e = d
            .execute(json!({}), &ExecutionConfig::default())
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("not supported yet: the integration pattern of {resource} (state 'Job')")
        );
    }
}

#[test]
fn an_immediate_answer_to_start_execution_sync_is_recorded_as_submitted_then_succeeded() {
    // A nested execution answered at once (a MockConfigFile `Return`), rather than through a
    // Pending answer and a callback: the same events as any `.sync` task.
    let described = json!({"ExecutionArn": "arn:e", "Status": "SUCCEEDED", "Output": "{}"});
    let (r, _) = run(
        &task(
            "arn:aws:states:::states:startExecution.sync",
            json!({"StateMachineArn": "arn:sm"}),
        ),
        vec![TaskResponse::success(described.clone())],
    );
    assert_eq!(r.output, Some(described));
    let types: Vec<String> = r.history.iter().map(|e| e.kind.type_name()).collect();
    assert_eq!(
        types[2..6],
        [
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded"
        ]
    );
    assert_eq!(
        r.history[4].to_api_json()["taskSubmittedEventDetails"]["resource"],
        json!("startExecution.sync")
    );
}
