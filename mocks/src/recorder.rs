//! [`Recorder`]: records every Task call for assertions.

use std::sync::{Arc, Mutex, MutexGuard};

use engine::{TaskHandler, TaskHandlerError, TaskRequest, TaskResponse};
use serde_json::Value;

/// One Task call as the handler saw it, and what the wrapped handler answered.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedCall {
    /// The Task state's name.
    pub state_name: String,
    /// Its `Resource`.
    pub resource: String,
    /// The effective parameters.
    pub parameters: Value,
    /// The state machine's name.
    pub state_machine_name: String,
    /// The execution's name.
    pub execution_name: String,
    /// 0 for a first attempt; each retry adds one.
    pub attempt: u32,
    /// The task token, for `.waitForTaskToken` resources.
    pub task_token: Option<String>,
    /// What the wrapped handler answered.
    pub response: Result<TaskResponse, TaskHandlerError>,
}

/// A shared, cloneable view of a [`Recorder`]'s calls: keep one (from [`Recorder::log`])
/// to read the calls after handing the recorder itself to the engine.
#[derive(Debug, Clone, Default)]
pub struct CallLog {
    calls: Arc<Mutex<Vec<RecordedCall>>>,
}

impl CallLog {
    fn lock(&self) -> MutexGuard<'_, Vec<RecordedCall>> {
        // A panic while pushing cannot leave the vector half-written; keep going.
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.lock().clone()
    }

    /// The calls of Task state `state`, in order.
    pub fn calls_for(&self, state: &str) -> Vec<RecordedCall> {
        self.lock()
            .iter()
            .filter(|c| c.state_name == state)
            .cloned()
            .collect()
    }

    /// How many calls so far.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether there were no calls.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Forgets every call.
    pub fn clear(&self) {
        self.lock().clear();
    }
}

/// Wraps a handler and records every call (state, resource, parameters, attempt, names, token)
/// with the answer.
#[derive(Debug, Clone)]
pub struct Recorder<H> {
    inner: H,
    log: CallLog,
}

impl<H: TaskHandler> Recorder<H> {
    /// Records calls to `inner`.
    pub fn new(inner: H) -> Self {
        Recorder {
            inner,
            log: CallLog::default(),
        }
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.log.calls()
    }

    /// The calls of Task state `state`, in order.
    pub fn calls_for(&self, state: &str) -> Vec<RecordedCall> {
        self.log.calls_for(state)
    }

    /// A shared handle on the calls, which stays readable wherever the recorder goes.
    pub fn log(&self) -> CallLog {
        self.log.clone()
    }

    /// The wrapped handler.
    pub fn inner(&self) -> &H {
        &self.inner
    }

    /// The wrapped handler, mutably.
    pub fn inner_mut(&mut self) -> &mut H {
        &mut self.inner
    }

    /// The wrapped handler.
    pub fn into_inner(self) -> H {
        self.inner
    }
}

impl<H: TaskHandler> TaskHandler for Recorder<H> {
    fn invoke(&mut self, request: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
        let response = self.inner.invoke(request);
        self.log.lock().push(RecordedCall {
            state_name: request.state_name.to_string(),
            resource: request.resource.to_string(),
            parameters: request.parameters.clone(),
            state_machine_name: request.state_machine_name.to_string(),
            execution_name: request.execution_name.to_string(),
            attempt: request.attempt,
            task_token: request.task_token.map(str::to_string),
            response: response.clone(),
        });
        response
    }
}
