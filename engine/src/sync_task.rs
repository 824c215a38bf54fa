//! The "Run a Job" integration pattern (`.sync`) of optimized service integrations.
//!
//! A `.sync` Task submits a job, then waits for it to finish. AWS records (execution recorded
//! on AWS, LocalStack's `test_ecs_task_service.py::test_run_task_sync` snapshot):
//!
//! ```text
//! TaskScheduled   resource "runTask.sync", resourceType "ecs"
//! TaskStarted
//! TaskSubmitted   output: the submit API's response (RunTask's {"Failures": [], "Tasks": [...]})
//! TaskSucceeded   output: the final job description (for ECS the stopped task object)
//! ```
//!
//! each event following the one before. The handler answers once per attempt (see
//! [`crate::TaskResponse`]): the final outcome, and optionally the submit response. The engine
//! records `TaskSubmitted` when the attempt starts (the submission is immediate; the job's
//! duration is the response's `duration_ms`), so a timeout still follows `TaskSubmitted`.
//!
//! Which services support `.sync`: the Developer Guide's "Integrating optimized services"
//! table (Run a Job column): Athena, AWS Batch, Amazon Bedrock, CodeBuild, ECS/Fargate, EKS,
//! EMR, EMR on EKS, EMR Serverless, Glue, Glue DataBrew, MediaConvert, SageMaker and Step
//! Functions. `states:startExecution.sync` (`.sync:2`) is a nested execution: a handler may
//! answer it `Pending` and the engine's callback machinery records its TaskSubmitted; an
//! immediate answer is recorded here as for any other service. The same page: "Express
//! Workflows do not support Run a Job (.sync)".
//!
//! Failure names, for handlers (LocalStack's implementations, written for parity with AWS): a
//! job that ran and failed is `States.TaskFailed` with the final description as JSON text in
//! the cause (a Batch job `FAILED`, a Glue job run `FAILED`, `TIMEOUT` or `ERROR`);
//! [`crate::TaskResponse::job_failed`] builds that answer. An error of the submit call itself
//! keeps the service's name (`Batch.ClientException`, `Glue.EntityNotFoundException`, ...) and
//! records no `TaskSubmitted`. ECS's `Failures` rule is applied by the engine (see [`answer`]);
//! whether a stopped ECS task fails is the handler's answer to give.

use crate::diagnostics::{Diagnostic, DiagnosticCode};
use crate::history::EventKind;
use crate::model::{Pattern, ResourceKind, TaskSpec};
use crate::task::{TaskOutcome, TaskResponse};
use serde_json::{json, Value};

/// The optimized integrations (their `resourceType`) that support `.sync`, Step Functions
/// itself excepted (nested executions come with their own issue).
pub(crate) const SYNC_SERVICES: &[&str] = &[
    "athena",
    "batch",
    "bedrock",
    "codebuild",
    "databrew",
    "ecs",
    "eks",
    "elasticmapreduce",
    "emr-containers",
    "emr-serverless",
    "glue",
    "mediaconvert",
    "sagemaker",
];

/// True when a Task runs the "Run a Job" pattern (`.sync`, and `states:startExecution.sync:2`).
pub(crate) fn is_sync(spec: &TaskSpec) -> bool {
    matches!(spec.kind.pattern(), Some(Pattern::Sync | Pattern::Sync2))
}

/// Whether `SERVICE:ACTION.sync` is a `.sync` integration the engine runs.
pub(crate) fn supported(resource_type: &str, action: &str) -> bool {
    action.ends_with(".sync") && SYNC_SERVICES.contains(&resource_type)
}

/// Parameters AWS adds to a `.sync` submission before recording TaskScheduled.
///
/// - `ecs:runTask.sync`: `"StartedBy": "AWS Step Functions"` (in the TaskScheduled parameters
///   of the execution recorded on AWS in LocalStack's `test_run_task_sync` snapshot).
/// - `batch:submitJob.sync`: the environment variable `MANAGED_BY_AWS` =
///   `STARTED_BY_STEP_FUNCTIONS` appended to `ContainerOverrides.Environment` (LocalStack's
///   implementation, written for parity with AWS; assumption: AWS records it in TaskScheduled
///   as for ECS).
pub(crate) fn parameters(spec: &TaskSpec, mut parameters: Value) -> Value {
    let ResourceKind::Service {
        resource_type,
        resource,
        ..
    } = &spec.kind
    else {
        return parameters;
    };
    let Some(obj) = parameters.as_object_mut() else {
        return parameters;
    };
    match (resource_type.as_str(), resource.as_str()) {
        ("ecs", "runTask.sync") => {
            obj.insert("StartedBy".into(), json!("AWS Step Functions"));
        }
        ("batch", "submitJob.sync") => {
            let overrides = obj.entry("ContainerOverrides").or_insert_with(|| json!({}));
            if let Some(o) = overrides.as_object_mut() {
                let env = o.entry("Environment").or_insert_with(|| json!([]));
                if let Some(list) = env.as_array_mut() {
                    list.push(
                        json!({"name": "MANAGED_BY_AWS", "value": "STARTED_BY_STEP_FUNCTIONS"}),
                    );
                }
            }
        }
        _ => {}
    }
    parameters
}

/// Shapes a handler's answer to a `.sync` attempt and returns the `TaskSubmitted` event to
/// record at once, if the submission succeeded.
///
/// ECS: "`ecs:runTask` can return an HTTP 200 response, but have a non-empty Failures field
/// ... Run a Job: If a non-empty Failures field is detected, the task fails with an
/// AmazonECS.Unknown error" (Developer Guide, "Run Amazon ECS or Fargate tasks with Step
/// Functions"). Assumption (the guide gives no cause): the cause is the RunTask response as
/// JSON text, and no TaskSubmitted is recorded, the job never having started.
pub(crate) fn answer(
    spec: &TaskSpec,
    mut response: TaskResponse,
    keep: bool,
) -> (TaskResponse, Option<EventKind>) {
    let ResourceKind::Service {
        resource_type,
        resource,
        ..
    } = &spec.kind
    else {
        return (response, None);
    };
    let submitted = match (&response.submitted, &response.outcome) {
        // A job whose end comes later, through a callback: the engine records its
        // TaskSubmitted from the Pending answer.
        (_, TaskOutcome::Pending { .. }) => None,
        (Some(s), _) => Some(s.clone()),
        (None, TaskOutcome::Succeeded(v)) => Some(v.clone()),
        (None, _) => None,
    };
    let Some(submitted) = submitted else {
        return (response, None);
    };
    if resource_type == "ecs" && resource == "runTask.sync" {
        let failures = submitted.get("Failures").and_then(Value::as_array);
        if failures.is_some_and(|f| !f.is_empty()) {
            let cause = serde_json::to_string(&submitted).unwrap_or_default();
            response.outcome = TaskOutcome::Failed {
                error: "AmazonECS.Unknown".into(),
                cause: Some(cause),
            };
            return (response, None);
        }
    }
    let output = if keep {
        serde_json::to_string(&submitted).unwrap_or_default()
    } else {
        String::new()
    };
    let event = EventKind::TaskSubmitted {
        resource_type: resource_type.clone(),
        resource: resource.clone(),
        output,
    };
    (response, Some(event))
}

/// What AWS refuses in an Express workflow, as CreateStateMachine's diagnostics: every Task
/// of the Run a Job (`.sync`, `.sync:2`) or callback (`.waitForTaskToken`) pattern and every
/// activity, in the top level of an EXPRESS state machine, its Parallel branches and inline Map
/// processors, and in the ItemProcessor of a Distributed Map whose child executions are
/// EXPRESS (whatever the parent's type). `express` is the top level's type.
///
/// AWS's texts, `SCHEMA_VALIDATION_FAILED: Express state machine does not support '.sync'
/// service integration` and the same with `'.waitForTaskToken'`, and `Express state machine
/// does not support Activity ARN`, are as reported from CreateStateMachine (quoted in
/// third-party validators and in LocalStack's Express analyser). Assumptions, as the
/// Developer Guide only says "Express Workflows do not support Run a Job (.sync)" and that
/// activities and callbacks are Standard-only: the location is the Task's `Resource`, as for
/// AWS's other SCHEMA_VALIDATION_FAILED diagnostics; `.sync:2` is reported as `'.sync'` (one
/// pattern); every offending Task is listed, in document order.
pub(crate) fn express_refusals(definition: &Value, express: bool) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    walk_express(definition, "", express, &mut out);
    out
}

fn walk_express(machine: &Value, prefix: &str, express: bool, out: &mut Vec<Diagnostic>) {
    let Some(states) = machine.get("States").and_then(Value::as_object) else {
        return;
    };
    for (name, state) in states {
        let at = format!("{prefix}/States/{name}");
        match state.get("Type").and_then(Value::as_str) {
            Some("Task") if express => {
                let Some(resource) = state.get("Resource").and_then(Value::as_str) else {
                    continue;
                };
                let parts: Vec<&str> = resource.split(':').collect();
                let what = if parts.len() == 7 && parts[2] == "states" && parts[5] == "activity" {
                    "Activity ARN"
                } else if resource.ends_with(".waitForTaskToken") {
                    "'.waitForTaskToken' service integration"
                } else if resource.ends_with(".sync") || resource.ends_with(".sync:2") {
                    "'.sync' service integration"
                } else {
                    continue;
                };
                out.push(Diagnostic::error(
                    DiagnosticCode::SchemaValidationFailed,
                    format!("{at}/Resource"),
                    format!("Express state machine does not support {what}"),
                ));
            }
            Some("Parallel") => {
                let branches = state.get("Branches").and_then(Value::as_array);
                for (i, b) in branches.into_iter().flatten().enumerate() {
                    walk_express(b, &format!("{at}/Branches[{i}]"), express, out);
                }
            }
            Some("Map") => {
                let (key, processor) = match (state.get("ItemProcessor"), state.get("Iterator")) {
                    (Some(p), _) => ("ItemProcessor", p),
                    (None, Some(p)) => ("Iterator", p),
                    (None, None) => continue,
                };
                let config = processor.get("ProcessorConfig");
                let field = |f: &str| config.and_then(|c| c.get(f)).and_then(Value::as_str);
                let children = if field("Mode") == Some("DISTRIBUTED") {
                    field("ExecutionType") == Some("EXPRESS")
                } else {
                    express
                };
                walk_express(processor, &format!("{at}/{key}"), children, out);
            }
            _ => {}
        }
    }
}

/// CreateStateMachine's InvalidDefinition message for these diagnostics.
pub(crate) fn invalid_definition_message(diagnostics: &[Diagnostic]) -> String {
    let list: Vec<String> = diagnostics.iter().map(|d| d.to_string()).collect();
    format!("Invalid State Machine Definition: '{}'", list.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(arn: &str) -> TaskSpec {
        let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": arn, "End": true}}});
        let d = crate::Definition::parse(&def.to_string()).expect("valid");
        match &d.machine.states[0].kind {
            crate::model::StateKind::Task(t) => (**t).clone(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn ecs_and_batch_submissions_get_what_aws_adds() {
        let ecs = spec("arn:aws:states:::ecs:runTask.sync");
        assert!(is_sync(&ecs));
        assert_eq!(
            parameters(&ecs, json!({"Cluster": "c"})),
            json!({"Cluster": "c", "StartedBy": "AWS Step Functions"})
        );
        let batch = spec("arn:aws:states:::batch:submitJob.sync");
        assert_eq!(
            parameters(
                &batch,
                json!({"JobName": "j", "ContainerOverrides": {"Environment": [{"name": "A", "value": "1"}]}})
            ),
            json!({"JobName": "j", "ContainerOverrides": {"Environment": [
                {"name": "A", "value": "1"},
                {"name": "MANAGED_BY_AWS", "value": "STARTED_BY_STEP_FUNCTIONS"}]}})
        );
        let plain = spec("arn:aws:states:::ecs:runTask");
        assert!(!is_sync(&plain));
        assert_eq!(
            parameters(&plain, json!({"Cluster": "c"})),
            json!({"Cluster": "c"})
        );
    }

    #[test]
    fn ecs_failures_fail_the_task_without_submission() {
        let ecs = spec("arn:aws:states:::ecs:runTask.sync");
        let r = TaskResponse::success(json!({"LastStatus": "STOPPED"}))
            .with_submitted(json!({"Failures": [{"Reason": "MISSING"}], "Tasks": []}));
        let (r, event) = answer(&ecs, r, true);
        assert_eq!(event, None);
        assert_eq!(
            r.outcome,
            TaskOutcome::Failed {
                error: "AmazonECS.Unknown".into(),
                cause: Some(r#"{"Failures":[{"Reason":"MISSING"}],"Tasks":[]}"#.into())
            }
        );
    }
}
