//! The boundary between the engine and whatever performs Task work: mocks, closures, the
//! in-process execution service, or a real SDK. The engine decides and records; a
//! [`TaskHandler`] performs.

use serde_json::Value;

/// What a Task state asks its handler to do.
#[derive(Debug, Clone, Copy)]
pub struct TaskRequest<'a> {
    /// The Task state's name.
    pub state_name: &'a str,
    /// The `Resource` as written in the definition (an ARN).
    pub resource: &'a str,
    /// The effective parameters: the state's input after InputPath and Parameters.
    pub parameters: &'a Value,
    /// The state machine's name (MockConfigFile test cases are chosen by it).
    pub state_machine_name: &'a str,
    /// The execution's name.
    pub execution_name: &'a str,
    /// 0 for the first attempt; each retry adds one.
    pub attempt: u32,
    /// The attempt's task token. A `.waitForTaskToken` state passes it on (it is
    /// `$$.Task.Token`); any handler may answer [`TaskOutcome::Pending`] and have the answer
    /// delivered later with this token ([`crate::Execution::send_task_success`]).
    pub task_token: Option<&'a str>,
}

/// How a task ended, as the service answered it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TaskOutcome {
    /// The service's response. For a Lambda function ARN this is the Invoke response
    /// (`{"StatusCode": 200, "Payload": ...}`), for `lambda:invoke` the integration's result,
    /// for other integrations their API response; the engine shapes the state result from it.
    Succeeded(Value),
    /// The task failed with an error name (`Lambda.ServiceException`, `MyError`, ...).
    Failed {
        /// The error name.
        error: String,
        /// The cause text, if any.
        cause: Option<String>,
    },
    /// The work was handed out and its answer comes later, through the execution's
    /// callback methods with the request's task token: a child execution started with
    /// `.sync`, an activity waiting for a worker, or a `.waitForTaskToken` call whose token
    /// somebody will send back. For a `.sync` call, `submitted` is the submit call's
    /// response, which AWS records as TaskSubmitted.
    Pending {
        /// The submit call's response, for `.sync` integrations.
        submitted: Option<Value>,
    },
}

/// A handler's answer: the outcome, and how long the task took on the virtual clock.
///
/// For a `.sync` ("Run a Job") resource the handler answers once per attempt with the job's
/// final outcome: `Succeeded` with the job description AWS returns (for `ecs:runTask.sync` the
/// stopped task, for `batch:submitJob.sync` the job, for `glue:startJobRun.sync` the job run),
/// or `Failed` (for a job that failed, AWS's `States.TaskFailed` with the description as the
/// cause; see [`TaskResponse::job_failed`]). [`TaskResponse::submitted`] is the submit API's
/// response, which the engine records in `TaskSubmitted` as soon as the attempt starts; when it
/// is `None`, a success records the final result there instead (what a Step Functions Local
/// MockConfigFile `Return` gives), and a failure records no `TaskSubmitted` (the submission
/// itself failed). A handler that cannot know the end yet answers [`TaskOutcome::Pending`]
/// instead (its `submitted` is then the TaskSubmitted output) and the end comes through a
/// callback.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskResponse {
    /// How it ended.
    pub outcome: TaskOutcome,
    /// Virtual milliseconds between TaskStarted and the outcome (0 for instant).
    pub duration_ms: u64,
    /// `.sync` resources only: the submit API's response (the output of `TaskSubmitted`).
    pub submitted: Option<Value>,
}

impl TaskResponse {
    /// An instant success.
    pub fn success(value: Value) -> Self {
        TaskResponse {
            outcome: TaskOutcome::Succeeded(value),
            duration_ms: 0,
            submitted: None,
        }
    }

    /// An instant failure.
    pub fn failure(error: impl Into<String>, cause: Option<String>) -> Self {
        TaskResponse {
            outcome: TaskOutcome::Failed {
                error: error.into(),
                cause,
            },
            duration_ms: 0,
            submitted: None,
        }
    }

    /// A `.sync` job that ran and failed, as AWS reports it for AWS Batch and Glue:
    /// `States.TaskFailed` with the final job description (as JSON text) as the cause.
    pub fn job_failed(description: &Value) -> Self {
        TaskResponse::failure(
            "States.TaskFailed",
            Some(serde_json::to_string(description).unwrap_or_default()),
        )
    }

    /// The same outcome, for a `.sync` resource whose submit API answered `response`.
    pub fn with_submitted(mut self, response: Value) -> Self {
        self.submitted = Some(response);
        self
    }

    /// The same outcome, arriving after `ms` virtual milliseconds.
    pub fn after_millis(mut self, ms: u64) -> Self {
        self.duration_ms = ms;
        self
    }
}

/// Why a handler could not answer at all. This stops the run with an error for the user
/// (it is not an execution failure: AWS would have answered something).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaskHandlerError {
    /// Nothing is configured for this state.
    #[error("no mock for Task state '{state}' (resource {resource})")]
    NoMock {
        /// The Task state's name.
        state: String,
        /// Its resource.
        resource: String,
    },
    /// A mock is configured but cannot answer this call (for example, its responses are
    /// used up and it is configured to refuse further calls).
    #[error("mock for Task state '{state}' cannot answer: {reason}")]
    MockFailed {
        /// The Task state's name.
        state: String,
        /// Why.
        reason: String,
    },
}

/// Performs Task work for the engine.
pub trait TaskHandler {
    /// Performs one attempt of a task.
    fn invoke(&mut self, request: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError>;
}

/// The handler used when none is given: every task is refused with [`TaskHandlerError::NoMock`].
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTasks;

impl TaskHandler for NoTasks {
    fn invoke(&mut self, request: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
        Err(TaskHandlerError::NoMock {
            state: request.state_name.to_string(),
            resource: request.resource.to_string(),
        })
    }
}
