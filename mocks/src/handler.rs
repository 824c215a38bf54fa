//! [`MockHandler`]: one MockConfigFile test case, answering the engine's Task calls.

use std::collections::HashMap;
use std::sync::Arc;

use engine::{TaskHandler, TaskHandlerError, TaskRequest, TaskResponse};

use crate::config::{MockResponse, MockedResponse};

/// What a [`MockHandler`] does when a mocked state is invoked with a number its mocked response
/// has no entry for (its entries are used up, or the number falls in a gap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Exhaustion {
    /// As Step Functions Local does: the task fails with `States.Runtime` (the cause names the
    /// state, the invocation number and the numbers defined). AWS documents `States.Runtime`
    /// as never retried and not caught by `States.ALL`, so the execution fails.
    #[default]
    Fail,
    /// Not Step Functions Local's behaviour, offered for convenience: an invocation past the
    /// last entry gets the last entry's answer again. A number inside a gap still fails as
    /// [`Exhaustion::Fail`] does.
    RepeatLast,
    /// Stop the run with [`TaskHandlerError::MockFailed`]: a user error, not an execution
    /// failure.
    Refuse,
}

/// Answers Task states from one test case of a [`MockConfig`](crate::MockConfig).
///
/// Each call consumes the next invocation number of its state, counted per execution (by
/// `execution_name`) across everything that calls the state: first attempts, retries, Map
/// iterations and loops alike. States the test case does not list get
/// [`TaskHandlerError::NoMock`].
#[derive(Debug, Clone)]
pub struct MockHandler {
    state_machine: String,
    test_case: String,
    states: HashMap<String, Arc<MockedResponse>>,
    /// execution name -> state name -> invocations so far.
    counters: HashMap<String, HashMap<String, u64>>,
    exhaustion: Exhaustion,
    /// state name -> (default delay, delay per invocation number).
    delays: HashMap<String, (u64, HashMap<u64, u64>)>,
}

impl MockHandler {
    pub(crate) fn new(
        state_machine: &str,
        test_case: &str,
        states: HashMap<String, Arc<MockedResponse>>,
    ) -> Self {
        MockHandler {
            state_machine: state_machine.to_string(),
            test_case: test_case.to_string(),
            states,
            counters: HashMap::new(),
            exhaustion: Exhaustion::default(),
            delays: HashMap::new(),
        }
    }

    /// The state machine name this handler was made for.
    pub fn state_machine(&self) -> &str {
        &self.state_machine
    }

    /// The test case name this handler was made for.
    pub fn test_case(&self) -> &str {
        &self.test_case
    }

    /// Whether the test case mocks `state`.
    pub fn mocks(&self, state: &str) -> bool {
        self.states.contains_key(state)
    }

    /// Chooses what happens when a state's numbered responses are used up (default
    /// [`Exhaustion::Fail`], as Step Functions Local).
    pub fn on_exhausted(mut self, exhaustion: Exhaustion) -> Self {
        self.exhaustion = exhaustion;
        self
    }

    /// Every mocked answer for `state` (Return or Throw) takes `ms` virtual milliseconds.
    /// (A Rust-only extension: the file format has no such field.)
    pub fn with_delay(mut self, state: &str, ms: u64) -> Self {
        self.delays.entry(state.to_string()).or_default().0 = ms;
        self
    }

    /// The answer to invocation number `invocation` (0-based, as in the file) of `state` takes
    /// `ms` virtual milliseconds; overrides [`MockHandler::with_delay`] for that number.
    pub fn with_invocation_delay(mut self, state: &str, invocation: u64, ms: u64) -> Self {
        self.delays
            .entry(state.to_string())
            .or_default()
            .1
            .insert(invocation, ms);
        self
    }

    /// How many invocation numbers `state` has consumed in execution `execution_name`.
    pub fn invocations(&self, execution_name: &str, state: &str) -> u64 {
        self.counters
            .get(execution_name)
            .and_then(|m| m.get(state))
            .copied()
            .unwrap_or(0)
    }

    /// Forgets every count: the next call of each state is invocation 0 again.
    pub fn reset(&mut self) {
        self.counters.clear();
    }

    fn next_invocation(&mut self, execution: &str, state: &str) -> u64 {
        let per_exec = match self.counters.get_mut(execution) {
            Some(m) => m,
            None => self.counters.entry(execution.to_string()).or_default(),
        };
        let counter = match per_exec.get_mut(state) {
            Some(c) => c,
            None => per_exec.entry(state.to_string()).or_insert(0),
        };
        let n = *counter;
        *counter += 1;
        n
    }

    fn delay(&self, state: &str, n: u64) -> u64 {
        self.delays
            .get(state)
            .map(|(all, per)| per.get(&n).copied().unwrap_or(*all))
            .unwrap_or(0)
    }
}

fn answer(response: &MockResponse) -> TaskResponse {
    match response {
        MockResponse::Return(v) => TaskResponse::success(v.clone()),
        MockResponse::Throw { error, cause } => TaskResponse::failure(error.clone(), cause.clone()),
    }
}

impl TaskHandler for MockHandler {
    fn invoke(&mut self, request: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
        let state = request.state_name;
        let Some(mocked) = self.states.get(state).cloned() else {
            return Err(TaskHandlerError::NoMock {
                state: state.to_string(),
                resource: request.resource.to_string(),
            });
        };
        let n = self.next_invocation(request.execution_name, state);
        let found = mocked.lookup(n).map(|e| &e.response);
        let past_end = mocked.entries.last().is_some_and(|e| n > e.last);
        let response = match (found, self.exhaustion) {
            (Some(r), _) => answer(r),
            (None, Exhaustion::RepeatLast) if past_end => {
                // `past_end` implies there is a last entry.
                answer(&mocked.entries[mocked.entries.len() - 1].response)
            }
            (None, Exhaustion::Refuse) => {
                return Err(TaskHandlerError::MockFailed {
                    state: state.to_string(),
                    reason: format!(
                        "mocked response '{}' has no entry for invocation {n} (it defines {})",
                        mocked.name,
                        mocked.describe_numbers()
                    ),
                });
            }
            (None, _) => TaskResponse::failure(
                "States.Runtime",
                Some(format!(
                    "No mocked response for invocation {n} of state '{state}': mocked response '{}' defines invocations {}",
                    mocked.name,
                    mocked.describe_numbers()
                )),
            ),
        };
        Ok(response.after_millis(self.delay(state, n)))
    }
}
