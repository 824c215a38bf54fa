//! RedriveExecution: an unsuccessful Standard execution continues from the state where it
//! stopped, with that state's input, keeping its history and the results of the states that
//! succeeded ("Redriving executions", Developer Guide; the RedriveExecution API reference).
//!
//! What the engine records (assumptions where AWS's documentation shows no history):
//! `ExecutionRedriven` (`executionRedrivenEventDetails.redriveCount`) after the terminal
//! event, then the redriven state's `<Type>StateEntered`, following `ExecutionRedriven`, with
//! the input it had when it was entered before. Retry counters start again. The execution's
//! time limit (TimeoutSeconds, or the workflow type's maximum) counts again from the redrive,
//! since a TIMED_OUT execution could otherwise never run; it never goes past a year after the
//! original start.
//!
//! Not built yet: AWS redrives only the failed branches of a Parallel state and the failed
//! iterations of a Map state; an execution that stopped inside one is refused with a "not
//! supported yet" error rather than re-running the branches that succeeded.

use super::{Execution, ExecutionStatus, Phase, WorkflowType};
use crate::clock::Timestamp;
use crate::history::{EventId, EventKind};
use crate::model::StateKind;
use serde_json::Value;

impl Execution {
    /// How many times the execution has been redriven.
    pub fn redrive_count(&self) -> u32 {
        self.redrive_count
    }

    /// Whether [`Execution::redrive`] would refuse for a reason of the engine's own (a
    /// Parallel or Map state); the service checks AWS's conditions.
    pub(crate) fn redrive_unsupported(&self) -> Option<String> {
        let top = self.fibers.first()?;
        let state = &self.machines[top.machine].states[top.current];
        match &state.kind {
            StateKind::Parallel(_) | StateKind::Map(_) => Some(format!(
                "not supported yet: redriving an execution that stopped inside the {} state '{}' (AWS redrives only its failed branches or iterations)",
                state.kind.type_name(),
                state.name
            )),
            _ => None,
        }
    }

    /// Restarts an ended, unsuccessful execution at `now` from the state where it stopped:
    /// records ExecutionRedriven and makes that state due again with its former input. The
    /// error is a "not supported yet" text; the caller checks AWS's conditions first (an
    /// execution that runs or succeeded is refused here without a change).
    pub(crate) fn redrive(&mut self, now: Timestamp) -> Result<(), String> {
        match self.ended.as_ref().map(|e| e.status) {
            None | Some(ExecutionStatus::Succeeded | ExecutionStatus::Running) => {
                return Err("the execution has not ended unsuccessfully".into())
            }
            _ => {}
        }
        if let Some(what) = self.redrive_unsupported() {
            return Err(what);
        }
        // The redriven state's input is the one its Entered event recorded; an execution that
        // stopped before its first state starts again from the start state.
        let entered = self.fibers[0].entered;
        let recorded = self
            .history
            .events()
            .iter()
            .find(|e| e.id == entered && entered != EventId(0))
            .and_then(|e| match &e.kind {
                EventKind::StateEntered { input, .. } => Some(input.clone()),
                _ => None,
            });
        let (input, text) = match recorded {
            Some(text) => match serde_json::from_str::<Value>(&text) {
                Ok(v) => (v, Some(text)),
                Err(e) => {
                    return Err(format!(
                        "not supported yet: redriving from a state input that is not JSON ({e})"
                    ))
                }
            },
            None => {
                self.fibers[0].current = self.top_machine().start;
                (self.execution_input.clone(), None)
            }
        };
        let later = now.max(self.now);
        self.sched.advance(self.now, later);
        self.now = later;
        self.redrive_count += 1;
        let prev = self.history.last_id();
        let redriven = self.history.record(
            prev,
            self.now,
            EventKind::ExecutionRedriven {
                redrive_count: self.redrive_count,
            },
        );
        let max = self.config.workflow_type.max_duration_ms();
        let limit = self
            .top_machine()
            .timeout_seconds
            .map_or(max, |s| (s as i64).saturating_mul(1000).min(max));
        let year = WorkflowType::Standard.max_duration_ms();
        self.deadline = self
            .now
            .plus_millis(limit)
            .min(self.start.plus_millis(year));
        let top = &mut self.fibers[0];
        top.phase = Phase::Enter(input);
        top.last = redriven;
        top.wake = self.now;
        top.text = text;
        top.spans = None;
        top.bound = usize::MAX;
        top.assigned = None;
        self.refresh(0);
        self.outcome = None;
        self.ended = None;
        Ok(())
    }
}
