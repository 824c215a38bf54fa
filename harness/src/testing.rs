//! A small API for users' own tests: load a definition, attach mocks (a MockConfigFile test
//! case) or closures, run on the in-process engine, and assert on the output and history.
//!
//! ```
//! use harness::testing::Workflow;
//! use engine::TaskResponse;
//! use serde_json::json;
//!
//! let run = Workflow::from_str(r#"{
//!   "StartAt": "Charge",
//!   "States": {"Charge": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
//!     "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
//!     "OutputPath": "$.Payload",
//!     "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 1, "MaxAttempts": 3}],
//!     "End": true}}
//! }"#)
//! .unwrap()
//! .on("Charge", {
//!     let mut calls = 0;
//!     move |_req| {
//!         calls += 1;
//!         Ok(if calls < 3 {
//!             TaskResponse::failure("Busy", Some("try later".into()))
//!         } else {
//!             TaskResponse::success(json!({"Payload": {"charged": true}}))
//!         })
//!     }
//! })
//! .run(json!({"amount": 3}))
//! .unwrap();
//! run.assert_succeeded()
//!     .assert_output(&json!({"charged": true}))
//!     .assert_retried("Charge", 2)
//!     .assert_state_sequence(&["Charge"]);
//! ```

use crate::diff::value_diff;
use crate::normalize::Normalizer;
use engine::{Definition, ExecutionConfig, ExecutionResult, TaskHandlerError, TaskRequest};
use serde_json::Value;
use std::path::Path;

/// Why a workflow could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum TestingError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The definition is invalid (every diagnostic).
    #[error("invalid definition: {0}")]
    Invalid(String),
    /// The MockConfigFile is invalid or lacks the test case.
    #[error("mock config: {0}")]
    Mocks(String),
    /// The run stopped (a Task with no mock, a callback nobody can send, ...).
    #[error("the run stopped: {0}")]
    Run(String),
}

type Closure<'a> =
    Box<dyn FnMut(&TaskRequest<'_>) -> Result<engine::TaskResponse, TaskHandlerError> + 'a>;

/// A workflow under test.
pub struct Workflow<'a> {
    definition: Definition,
    config: ExecutionConfig,
    closures: Vec<(String, Closure<'a>)>,
    mocks: Option<mocks::MockHandler>,
}

impl std::fmt::Debug for Workflow<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workflow")
            .field("state_machine", &self.config.state_machine_name)
            .field(
                "closures",
                &self.closures.iter().map(|(s, _)| s).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl<'a> Workflow<'a> {
    /// A workflow from definition text.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(text: &str) -> Result<Workflow<'a>, TestingError> {
        let definition = Definition::parse(text).map_err(|d| {
            TestingError::Invalid(
                d.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        Ok(Workflow {
            definition,
            config: ExecutionConfig::default(),
            closures: Vec::new(),
            mocks: None,
        })
    }

    /// A workflow from a definition file (`.asl.json`).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Workflow<'a>, TestingError> {
        let p = path.as_ref();
        let text = std::fs::read_to_string(p).map_err(|source| TestingError::Read {
            path: p.display().to_string(),
            source,
        })?;
        Self::from_str(&text)
    }

    /// Names the state machine (its ARNs, the context object, the MockConfigFile entry).
    pub fn named(mut self, name: &str) -> Self {
        self.config.state_machine_name = name.to_string();
        self
    }

    /// Answers Task states from test case `test_case` of a MockConfigFile (its text);
    /// closures given with [`Workflow::on`] take precedence.
    pub fn with_mock_config(mut self, text: &str, test_case: &str) -> Result<Self, TestingError> {
        let config = mocks::MockConfig::from_json_str(text)
            .map_err(|e| TestingError::Mocks(e.to_string()))?;
        let handler = config
            .handler(&self.config.state_machine_name, test_case)
            .map_err(|e| TestingError::Mocks(e.to_string()))?;
        self.mocks = Some(handler);
        Ok(self)
    }

    /// Answers the Task state `state` with a closure.
    pub fn on<F>(mut self, state: &str, f: F) -> Self
    where
        F: FnMut(&TaskRequest<'_>) -> Result<engine::TaskResponse, TaskHandlerError> + 'a,
    {
        self.closures.push((state.to_string(), Box::new(f)));
        self
    }

    /// Changes the execution's configuration (name, seed, start time, type, ...).
    pub fn configure(mut self, f: impl FnOnce(&mut ExecutionConfig)) -> Self {
        f(&mut self.config);
        self
    }

    /// Runs one execution to its end on the virtual clock.
    pub fn run(self, input: Value) -> Result<Run, TestingError> {
        let mut handlers = mocks::Handlers::new();
        for (state, f) in self.closures {
            handlers = handlers.on(&state, f);
        }
        if let Some(m) = self.mocks {
            handlers = handlers.fallback(m);
        }
        let mut clock = engine::VirtualClock::starting_at(self.config.start_time);
        let result = self
            .definition
            .execute_with(input, &self.config, &mut clock, &mut handlers)
            .map_err(|e| TestingError::Run(e.to_string()))?;
        let history = Normalizer::default().events(
            &result
                .history
                .iter()
                .map(engine::Event::to_api_json)
                .collect::<Vec<_>>(),
        );
        Ok(Run { result, history })
    }
}

/// A finished run, with assertion helpers that panic with a readable message (they are
/// meant for tests).
#[derive(Debug)]
pub struct Run {
    /// What the engine returned.
    pub result: ExecutionResult,
    /// The history, normalised (payloads as JSON values, timestamps in seconds from start).
    pub history: Vec<Value>,
}

impl Run {
    /// RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED.
    pub fn status(&self) -> &'static str {
        self.result.status.as_str()
    }

    /// The names of the states entered, in history order.
    pub fn state_sequence(&self) -> Vec<String> {
        self.history
            .iter()
            .filter(|e| {
                e["type"]
                    .as_str()
                    .is_some_and(|t| t.ends_with("StateEntered"))
            })
            .filter_map(|e| e["stateEnteredEventDetails"]["name"].as_str())
            .map(str::to_string)
            .collect()
    }

    /// The event types, in history order.
    pub fn event_types(&self) -> Vec<String> {
        self.history
            .iter()
            .filter_map(|e| e["type"].as_str().map(str::to_string))
            .collect()
    }

    fn fail(&self, what: String) -> ! {
        panic!(
            "{what}\nstatus {}, error {:?}, cause {:?}\nhistory:\n{}",
            self.status(),
            self.result.error,
            self.result.cause,
            crate::report::history_text(&self.history)
        )
    }

    /// Asserts the execution succeeded.
    pub fn assert_succeeded(&self) -> &Self {
        if self.status() != "SUCCEEDED" {
            self.fail("expected the execution to succeed".into());
        }
        self
    }

    /// Asserts the execution failed with `error`.
    pub fn assert_failed_with(&self, error: &str) -> &Self {
        if self.status() != "FAILED" || self.result.error.as_deref() != Some(error) {
            self.fail(format!("expected the execution to fail with {error}"));
        }
        self
    }

    /// Asserts the output (JSON equality).
    pub fn assert_output(&self, expected: &Value) -> &Self {
        let got = self.result.output.clone().unwrap_or(Value::Null);
        if let Some(d) = value_diff("output", expected, &got) {
            self.fail(d);
        }
        self
    }

    /// Asserts the states entered, in order (every Parallel branch and Map iteration
    /// included, as the history records them).
    pub fn assert_state_sequence(&self, expected: &[&str]) -> &Self {
        let got = self.state_sequence();
        if got != expected {
            self.fail(format!(
                "state sequence differs:\n{}",
                crate::diff::text_diff(&(expected.join("\n") + "\n"), &(got.join("\n") + "\n"))
            ));
        }
        self
    }

    /// Asserts the Task state `state` was retried exactly `n` times (attempts - 1, counted
    /// by its scheduled events).
    pub fn assert_retried(&self, state: &str, n: usize) -> &Self {
        let mut current: Option<&str> = None;
        let mut attempts = 0;
        for e in &self.history {
            let t = e["type"].as_str().unwrap_or("");
            if t.ends_with("StateEntered") {
                current = e["stateEnteredEventDetails"]["name"].as_str();
            } else if (t == "TaskScheduled"
                || t == "LambdaFunctionScheduled"
                || t == "ActivityScheduled")
                && current == Some(state)
            {
                attempts += 1;
            }
        }
        if attempts != n + 1 {
            self.fail(format!(
                "expected {state} to be retried {n} times, but it was attempted {attempts} times"
            ));
        }
        self
    }
}
