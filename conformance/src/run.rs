//! Running generated workflows on the in-process engine: the mock handler that answers the
//! generated Task states, and a driver with a step budget.

use crate::gen::{Rendered, TaskMock};
use engine::{
    Definition, Execution, ExecutionConfig, ExecutionResult, ExecutionStatus, RunError,
    TaskHandler, TaskHandlerError, TaskRequest, TaskResponse, WorkflowType,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// How many times the driver may run what is due and move the clock before it gives up. A
/// generated workflow always ends well within it; running out means the engine looped.
pub const STEP_BUDGET: u32 = 100_000;

/// Answers the generated Task states from their [`TaskMock`]s; any other state gets
/// [`TaskHandlerError::NoMock`], so a service in front of it can route the call on.
#[derive(Debug, Clone, Default)]
pub struct ModelHandler {
    mocks: BTreeMap<String, TaskMock>,
}

impl ModelHandler {
    /// A handler for the mocks of a rendered workflow.
    pub fn new(mocks: BTreeMap<String, TaskMock>) -> Self {
        ModelHandler { mocks }
    }
}

impl TaskHandler for ModelHandler {
    fn invoke(&mut self, request: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
        let Some(mock) = self.mocks.get(request.state_name) else {
            return Err(TaskHandlerError::NoMock {
                state: request.state_name.to_string(),
                resource: request.resource.to_string(),
            });
        };
        let response = match mock.attempt(request.attempt) {
            Ok(payload) => TaskResponse::success(json!({"StatusCode": 200, "Payload": payload})),
            Err(error) => TaskResponse::failure(error.as_str(), Some(error.cause().to_string())),
        };
        Ok(response.after_millis(u64::from(mock.duration_ms)))
    }
}

/// Why a generated case could not be run to its end.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunFailure {
    /// The definition does not parse.
    #[error("the definition does not parse: {0}")]
    Parse(String),
    /// The engine refused to run it or stopped.
    #[error(transparent)]
    Engine(#[from] RunError),
    /// The handler could not answer.
    #[error(transparent)]
    Handler(#[from] TaskHandlerError),
    /// The step budget ran out.
    #[error("no end within {0} scheduler rounds")]
    Budget(u32),
}

/// Options of one run.
#[derive(Clone, Copy)]
pub struct RunOptions<'a> {
    /// Standard or Express.
    pub workflow_type: WorkflowType,
    /// The execution's seed (scheduler and random numbers).
    pub seed: u64,
    /// Applied to the execution before it runs (tests use it to inject a fault).
    pub prepare: Option<&'a dyn Fn(Execution) -> Execution>,
}

impl std::fmt::Debug for RunOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("workflow_type", &self.workflow_type)
            .field("seed", &self.seed)
            .field("prepare", &self.prepare.is_some())
            .finish()
    }
}

impl Default for RunOptions<'_> {
    fn default() -> Self {
        RunOptions {
            workflow_type: WorkflowType::Standard,
            seed: 0,
            prepare: None,
        }
    }
}

/// Parses and runs a definition with the given mocks to its end, within [`STEP_BUDGET`].
pub fn run_definition(
    definition: &Value,
    mocks: &BTreeMap<String, TaskMock>,
    input: &Value,
    options: RunOptions<'_>,
) -> Result<ExecutionResult, RunFailure> {
    let text = definition.to_string();
    let def = Definition::parse(&text).map_err(|e| RunFailure::Parse(format!("{e:?}")))?;
    let config = ExecutionConfig {
        workflow_type: options.workflow_type,
        seed: options.seed,
        ..ExecutionConfig::default()
    };
    let mut execution = def.start(input.clone(), config)?;
    if let Some(prepare) = options.prepare {
        execution = prepare(execution);
    }
    let mut handler = ModelHandler::new(mocks.clone());
    for _ in 0..STEP_BUDGET {
        execution.run_due(&mut handler)?;
        if execution.status() != ExecutionStatus::Running {
            return Ok(execution.into_result());
        }
        // Generated workflows never wait for callbacks, so a running execution always has
        // a timer.
        let Some(wake) = execution.next_wake() else {
            return Err(RunError::Blocked {
                waiting: execution.waiting_states().join(", "),
            }
            .into());
        };
        execution.advance_to(wake);
    }
    Err(RunFailure::Budget(STEP_BUDGET))
}

/// Runs a rendered workflow.
pub fn run(
    rendered: &Rendered,
    input: &Value,
    options: RunOptions<'_>,
) -> Result<ExecutionResult, RunFailure> {
    run_definition(&rendered.definition, &rendered.mocks, input, options)
}

/// What two runs must agree on for the metamorphic relations: status, output, error.
pub fn observable(result: &ExecutionResult) -> (ExecutionStatus, Option<Value>, Option<String>) {
    (result.status, result.output.clone(), result.error.clone())
}
