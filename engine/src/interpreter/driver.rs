//! What a driver that runs many executions (the execution service) needs from an execution
//! beyond stepping it: keeping an Express execution's events as its log, and ending an
//! execution whose task handler could not answer.
//!
//! Kept apart from the step loop so that `interpreter.rs` only declares this module.

use super::{Execution, ExecutionStatus, Failure};
use crate::history::{EventKind, History};
use crate::task::TaskHandlerError;

impl Execution {
    /// Keeps this execution's events even though it is Express, which keeps no history: the
    /// service turns them into the records CloudWatch Logs would get with log level ALL and
    /// execution data included. Call it right after [`crate::Definition::start`], before
    /// anything runs; it records ExecutionStarted again, this time with its input. After it,
    /// [`Execution::history`] returns the kept events.
    pub(crate) fn keep_log(&mut self) {
        if self.history.keeps_events() || self.history.len() != 1 || self.fibers.len() != 1 {
            return;
        }
        self.history = History::new(true, self.top_machine().expected_events());
        self.fibers.clear();
        self.begin(true);
    }

    /// Ends a running execution whose task handler returned an error instead of an answer
    /// (no mock for a Task, a mock that cannot answer). The run stopped inside a step, so
    /// the execution cannot go on; a driver that runs many executions fails it rather than
    /// leave it running for ever. It records ExecutionFailed after the latest event, with
    /// error `States.Runtime` and a cause that names the state (the handler error's text).
    ///
    /// This is stepcheck's own outcome, not AWS behaviour: on AWS a task always has a service
    /// to answer it. The error name is the one AWS gives failures of the engine itself.
    pub(crate) fn fail_for_handler(&mut self, error: &TaskHandlerError) {
        if self.ended.is_some() {
            return;
        }
        let f = Failure::new(
            "States.Runtime",
            format!("The task handler could not answer: {error}"),
        );
        let prev = self.history.last_id();
        self.history.record(
            prev,
            self.now,
            EventKind::ExecutionFailed {
                error: f.error.clone(),
                cause: f.cause.clone(),
            },
        );
        self.end(ExecutionStatus::Failed, None, f.error, f.cause);
    }
}
