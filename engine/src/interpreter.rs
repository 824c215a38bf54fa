//! The interpreter: runs one execution of a compiled definition on an injected clock and
//! records its history.
//!
//! The step loop is the hot path. It moves the state's document from stage to stage instead of
//! cloning it, and serialises a payload only when an event that carries it is recorded.

use crate::clock::{Clock, Timestamp, VirtualClock};
use crate::history::{Event, EventId, EventKind, History};
use crate::jsonpath::{type_name, JsonPath, PathRoot};
use crate::model::{
    error_matches, Definition, ErrorText, ResourceKind, ResultPath, Seconds, State, StateKind,
    StateMachine, TaskSpec, Transition, WaitFor,
};
use crate::scope::{Rng, Scope};
use crate::task::{NoTasks, TaskHandler, TaskHandlerError, TaskOutcome, TaskRequest};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// The most bytes a payload (state input or output, execution input or output) may have.
pub const PAYLOAD_LIMIT_BYTES: usize = 256 * 1024;

/// The most events a Standard execution's history may hold.
pub const MAX_HISTORY_EVENTS: u64 = 25_000;

/// Standard or Express.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WorkflowType {
    /// Exactly-once, up to a year, with a full execution history.
    #[default]
    Standard,
    /// At-least-once, up to five minutes, no execution history.
    Express,
}

impl WorkflowType {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowType::Standard => "STANDARD",
            WorkflowType::Express => "EXPRESS",
        }
    }

    /// The longest an execution of this type may run, in milliseconds.
    fn max_duration_ms(self) -> i64 {
        match self {
            WorkflowType::Standard => 365 * 24 * 3600 * 1000,
            WorkflowType::Express => 5 * 60 * 1000,
        }
    }
}

/// How an execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExecutionStatus {
    /// It reached a terminal state normally.
    Succeeded,
    /// A state failed and nothing caught the error.
    Failed,
    /// It ran past its TimeoutSeconds or the maximum duration.
    TimedOut,
    /// It was stopped.
    Aborted,
}

impl ExecutionStatus {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
        }
    }
}

/// Everything about an execution that is not the definition or the input.
#[derive(Debug, Clone)]
pub struct ExecutionConfig {
    /// The state machine's name (part of the ARNs in the context object).
    pub state_machine_name: String,
    /// The execution's name.
    pub execution_name: String,
    /// AWS region of the ARNs.
    pub region: String,
    /// AWS account of the ARNs.
    pub account: String,
    /// The execution role recorded in ExecutionStarted.
    pub role_arn: String,
    /// Standard or Express.
    pub workflow_type: WorkflowType,
    /// When the execution starts on the virtual clock.
    pub start_time: Timestamp,
    /// Seed of the execution's random numbers (States.MathRandom, States.UUID, ...).
    pub seed: u64,
}

impl Default for ExecutionConfig {
    fn default() -> Self {
        ExecutionConfig {
            state_machine_name: "StateMachine".into(),
            execution_name: "execution".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            role_arn: "arn:aws:iam::123456789012:role/StepFunctionsExecutionRole".into(),
            workflow_type: WorkflowType::Standard,
            start_time: VirtualClock::DEFAULT_START,
            seed: 0,
        }
    }
}

impl ExecutionConfig {
    /// The state machine's ARN.
    pub fn state_machine_arn(&self) -> String {
        format!(
            "arn:aws:states:{}:{}:stateMachine:{}",
            self.region, self.account, self.state_machine_name
        )
    }

    /// The execution's ARN.
    pub fn execution_arn(&self) -> String {
        format!(
            "arn:aws:states:{}:{}:execution:{}:{}",
            self.region, self.account, self.state_machine_name, self.execution_name
        )
    }
}

/// The outcome of an execution.
#[derive(Debug, Clone)]
pub struct ExecutionResult {
    /// How it ended.
    pub status: ExecutionStatus,
    /// The output, when it succeeded.
    pub output: Option<Value>,
    /// The error name, when it failed or timed out.
    pub error: Option<String>,
    /// The cause, when there is one.
    pub cause: Option<String>,
    /// The history (empty for Express, which keeps none).
    pub history: Vec<Event>,
    /// When it started.
    pub start_time: Timestamp,
    /// When it stopped.
    pub stop_time: Timestamp,
}

/// A capability the engine does not have yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not supported yet: {what}")]
pub struct NotSupported {
    /// What is missing, naming the state.
    pub what: String,
}

/// An error raised inside a state.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
    error: Option<String>,
    cause: Option<String>,
    /// True when the task reported the error (a TaskFailed-style event), false when the
    /// state's own processing raised it.
    from_task: bool,
}

impl Failure {
    fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Failure {
            error: Some(error.into()),
            cause: Some(cause.into()),
            from_task: false,
        }
    }
}

/// How one task attempt ended.
enum Attempt {
    /// The service answered with this result.
    Done(Value),
    /// The attempt failed (retriable and catchable, depending on the error).
    Failed(Failure),
    /// The state ends now, whatever Retry and Catch say.
    Stop(Outcome),
}

/// A Lambda function's result, from its Invoke response: the `Payload`, whose text is parsed
/// as JSON when it is a string holding JSON (Lambda returns the payload as bytes).
fn lambda_payload(response: Value) -> Value {
    let payload = match response {
        Value::Object(mut o) => o.remove("Payload").unwrap_or(Value::Null),
        other => other,
    };
    match payload {
        Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        other => other,
    }
}

/// How a state ended.
enum Outcome {
    /// It completed with this output and goes on as its transition says.
    Done(Value, Transition),
    /// It failed.
    Failed(Failure),
    /// The execution's deadline passed while the state was running.
    TimedOut,
    /// The task handler could not answer; the run stops.
    HandlerError(TaskHandlerError),
}

/// Why an execution could not be run at all (as opposed to running and failing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The definition needs a capability the engine does not have yet.
    #[error(transparent)]
    NotSupported(#[from] NotSupported),
    /// A task handler could not answer (no mock for a Task state, ...).
    #[error(transparent)]
    Handler(#[from] TaskHandlerError),
}

impl Definition {
    /// Runs one execution on a virtual clock starting at `config.start_time`, with no task
    /// handler (a Task state stops the run with [`TaskHandlerError::NoMock`]).
    pub fn execute(
        &self,
        input: Value,
        config: &ExecutionConfig,
    ) -> Result<ExecutionResult, RunError> {
        let mut clock = VirtualClock::starting_at(config.start_time);
        self.execute_with(input, config, &mut clock, &mut NoTasks)
    }

    /// Runs one execution on the given clock, performing Task work through `handler`.
    pub fn execute_with(
        &self,
        input: Value,
        config: &ExecutionConfig,
        clock: &mut dyn Clock,
        handler: &mut dyn TaskHandler,
    ) -> Result<ExecutionResult, RunError> {
        if let Some(what) = self.unsupported() {
            return Err(NotSupported { what }.into());
        }
        let uses_context = self.source_mentions_context();
        let mut run = Run {
            machine: &self.machine,
            config,
            clock,
            history: History::new(config.workflow_type == WorkflowType::Standard),
            rng: Rng::new(config.seed),
            start: config.start_time,
            deadline: config.start_time,
            execution_input: input,
            uses_context,
            variables: Map::new(),
            handler,
        };
        run.start = run.clock.now();
        let max = config.workflow_type.max_duration_ms();
        let limit = self
            .machine
            .timeout_seconds
            .map_or(max, |s| (s as i64).saturating_mul(1000).min(max));
        run.deadline = run.start.plus_millis(limit);
        Ok(run.run()?)
    }

    /// The first capability this definition needs that the engine lacks, if any. Checked
    /// before an execution starts, so nothing runs half-way and nothing is silently ignored.
    fn unsupported(&self) -> Option<String> {
        let top = self.source();
        let states = top.get("States").and_then(Value::as_object)?;
        for (state, (name, raw)) in self.machine.states.iter().zip(states) {
            debug_assert_eq!(state.name.as_str(), name.as_str());
            if let StateKind::Unsupported { what } = &state.kind {
                return Some(what.clone());
            }
            if let StateKind::Task(t) = &state.kind {
                if let ResourceKind::Unsupported(what) = &t.kind {
                    return Some(format!("{what} (state '{name}')"));
                }
            }
            for field in ["Assign", "Output", "Arguments"] {
                if raw.get(field).is_some() {
                    return Some(format!("the field '{field}' (state '{name}', issue 5)"));
                }
            }
            let choices = raw.get("Choices").and_then(Value::as_array);
            if choices
                .into_iter()
                .flatten()
                .any(|c| c.get("Assign").is_some() || c.get("Output").is_some())
            {
                return Some(format!(
                    "the field 'Assign' in Choice rules (state '{name}', issue 5)"
                ));
            }
        }
        None
    }

    fn source_mentions_context(&self) -> bool {
        // Only definitions that read `$$` pay for building the context object.
        fn walk(v: &Value) -> bool {
            match v {
                Value::String(s) => s.contains("$$"),
                Value::Array(a) => a.iter().any(walk),
                Value::Object(o) => o.values().any(walk),
                _ => false,
            }
        }
        walk(self.source())
    }
}

struct Run<'a> {
    machine: &'a StateMachine,
    config: &'a ExecutionConfig,
    clock: &'a mut dyn Clock,
    history: History,
    rng: Rng,
    start: Timestamp,
    deadline: Timestamp,
    execution_input: Value,
    uses_context: bool,
    variables: Map<String, Value>,
    handler: &'a mut dyn TaskHandler,
}

fn to_json(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The length of a value's JSON text, without building the text.
fn json_len(v: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    let _ = serde_json::to_writer(&mut c, v);
    c.0
}

impl Run<'_> {
    fn run(mut self) -> Result<ExecutionResult, TaskHandlerError> {
        let now = self.clock.now();
        let keep = self.history.keeps_events();
        // The text of the current document, when it has been serialised already: a state's
        // output text is the next state's input text, so it is written once.
        let mut text = keep.then(|| to_json(&self.execution_input));
        self.history.record(
            EventId(0),
            now,
            EventKind::ExecutionStarted {
                input: text.clone().unwrap_or_default(),
                role_arn: self.config.role_arn.clone(),
            },
        );
        let mut prev = EventId(0);
        let mut current = self.machine.start;
        let mut input = self.execution_input.clone();
        loop {
            if self.history.len() + 2 > MAX_HISTORY_EVENTS {
                // Assumption: AWS fails an execution whose history would exceed 25,000 events
                // with States.Runtime; the documentation names the limit, not the error text.
                let f = Failure::new(
                    "States.Runtime",
                    format!(
                        "The execution reached the maximum number of history events ({MAX_HISTORY_EVENTS})."
                    ),
                );
                return Ok(self.finish_failed(prev, f));
            }
            let state = &self.machine.states[current];
            let entered_at = self.clock.now();
            let entered = self.history.record(
                prev,
                entered_at,
                EventKind::StateEntered {
                    state_type: state.kind.type_name(),
                    name: state.name.0.clone(),
                    input: if keep {
                        text.take().unwrap_or_else(|| to_json(&input))
                    } else {
                        String::new()
                    },
                },
            );
            let outcome = self.state(state, input, entered, entered_at);
            match outcome {
                Outcome::Done(output, next) => {
                    let out_text = keep.then(|| to_json(&output));
                    let size = out_text
                        .as_ref()
                        .map_or_else(|| json_len(&output), String::len);
                    if size > PAYLOAD_LIMIT_BYTES {
                        let f = Failure::new(
                            "States.DataLimitExceeded",
                            format!(
                                "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                                state.name
                            ),
                        );
                        let last = self.history.last_id();
                        return Ok(self.finish_failed(last, f));
                    }
                    let last = self.history.last_id();
                    let exited = self.history.record(
                        last,
                        self.clock.now(),
                        EventKind::StateExited {
                            state_type: state.kind.type_name(),
                            name: state.name.0.clone(),
                            output: out_text.clone().unwrap_or_default(),
                        },
                    );
                    prev = exited;
                    text = out_text;
                    match next {
                        Transition::Next(i) => {
                            current = i;
                            input = output;
                        }
                        Transition::End | Transition::None => {
                            return Ok(self.finish_succeeded(prev, output, text));
                        }
                    }
                }
                Outcome::Failed(f) => {
                    let last = self.history.last_id();
                    return Ok(self.finish_failed(last, f));
                }
                Outcome::TimedOut => {
                    let last = self.history.last_id();
                    return Ok(self.finish_timed_out(last));
                }
                Outcome::HandlerError(e) => return Err(e),
            }
        }
    }

    fn finish_succeeded(
        self,
        prev: EventId,
        output: Value,
        text: Option<String>,
    ) -> ExecutionResult {
        let now = self.clock.now();
        let mut history = self.history;
        history.record(
            prev,
            now,
            EventKind::ExecutionSucceeded {
                output: text.unwrap_or_default(),
            },
        );
        ExecutionResult {
            status: ExecutionStatus::Succeeded,
            output: Some(output),
            error: None,
            cause: None,
            history: history.into_events(),
            start_time: self.start,
            stop_time: now,
        }
    }

    fn finish_failed(self, prev: EventId, f: Failure) -> ExecutionResult {
        let now = self.clock.now();
        let mut history = self.history;
        history.record(
            prev,
            now,
            EventKind::ExecutionFailed {
                error: f.error.clone(),
                cause: f.cause.clone(),
            },
        );
        ExecutionResult {
            status: ExecutionStatus::Failed,
            output: None,
            error: f.error,
            cause: f.cause,
            history: history.into_events(),
            start_time: self.start,
            stop_time: now,
        }
    }

    fn finish_timed_out(self, prev: EventId) -> ExecutionResult {
        let now = self.clock.now();
        let mut history = self.history;
        // Assumption: DescribeExecution of a timed-out execution reports the error
        // States.Timeout with no cause; the timed-out event carries the same.
        let error = Some("States.Timeout".to_string());
        history.record(
            prev,
            now,
            EventKind::ExecutionTimedOut {
                error: error.clone(),
                cause: None,
            },
        );
        ExecutionResult {
            status: ExecutionStatus::TimedOut,
            output: None,
            error,
            cause: None,
            history: history.into_events(),
            start_time: self.start,
            stop_time: now,
        }
    }

    /// The context object for a state entered at `entered_at`, or null when the definition
    /// never reads it.
    fn context(&self, state: &State, entered_at: Timestamp) -> Value {
        self.context_with_retries(state, entered_at, 0)
    }

    fn context_with_retries(
        &self,
        state: &State,
        entered_at: Timestamp,
        retry_count: u32,
    ) -> Value {
        if !self.uses_context {
            return Value::Null;
        }
        serde_json::json!({
            "Execution": {
                "Id": self.config.execution_arn(),
                "Input": self.execution_input,
                "Name": self.config.execution_name,
                "RoleArn": self.config.role_arn,
                "StartTime": self.start.to_rfc3339(),
                "RedriveCount": 0,
            },
            "StateMachine": {
                "Id": self.config.state_machine_arn(),
                "Name": self.config.state_machine_name,
            },
            "State": {
                "EnteredTime": entered_at.to_rfc3339(),
                "Name": state.name.0,
                "RetryCount": retry_count,
            },
        })
    }

    /// The prefix AWS puts before the detail of a run-time error in a state.
    fn runtime_failure(
        &self,
        state: &State,
        entered: EventId,
        error: &str,
        detail: &str,
    ) -> Failure {
        Failure::new(
            error,
            format!(
                "An error occurred while executing the state '{}' (entered at the event id #{}). {}",
                state.name, entered, detail
            ),
        )
    }

    fn state(
        &mut self,
        state: &State,
        input: Value,
        entered: EventId,
        entered_at: Timestamp,
    ) -> Outcome {
        let context = self.context(state, entered_at);
        macro_rules! try_or_fail {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err((error, detail)) => {
                        return Outcome::Failed(self.runtime_failure(state, entered, error, &detail))
                    }
                }
            };
        }
        match &state.kind {
            StateKind::Fail { error, cause } => {
                let error = try_or_fail!(self.error_text(error, "Error", &input, &context));
                let cause = try_or_fail!(self.error_text(cause, "Cause", &input, &context));
                Outcome::Failed(Failure {
                    error,
                    cause,
                    from_task: false,
                })
            }
            StateKind::Pass {
                parameters,
                result,
                result_path,
            } => {
                let result = match (parameters, result) {
                    (Some(t), _) => {
                        let effective = try_or_fail!(effective_input(
                            state.input_path.as_ref(),
                            &input,
                            &context
                        ));
                        let scope = Scope {
                            input: &effective,
                            context: &context,
                            variables: &self.variables,
                        };
                        try_or_fail!(t
                            .eval(&scope, &mut self.rng)
                            .map_err(|e| (leak_error(e.error), e.message)))
                    }
                    (None, Some(r)) => r.clone(),
                    (None, None) => match result_path {
                        // The effective input is the result and replaces the input: move it.
                        ResultPath::Replace => {
                            let output =
                                try_or_fail!(take_path(state.input_path.as_ref(), input, &context));
                            let output = try_or_fail!(take_path(
                                state.output_path.as_ref(),
                                output,
                                &context
                            ));
                            return Outcome::Done(output, state.next);
                        }
                        ResultPath::Discard => Value::Null,
                        ResultPath::At(_) => try_or_fail!(effective_input(
                            state.input_path.as_ref(),
                            &input,
                            &context
                        ))
                        .into_owned(),
                    },
                };
                let combined = try_or_fail!(apply_result_path(result_path, input, result));
                let output =
                    try_or_fail!(take_path(state.output_path.as_ref(), combined, &context));
                Outcome::Done(output, state.next)
            }
            StateKind::Succeed => {
                let effective = try_or_fail!(take_path(state.input_path.as_ref(), input, &context));
                let output =
                    try_or_fail!(take_path(state.output_path.as_ref(), effective, &context));
                Outcome::Done(output, Transition::End)
            }
            StateKind::Choice { choices, default } => {
                let effective = try_or_fail!(take_path(state.input_path.as_ref(), input, &context));
                let mut next = None;
                {
                    let scope = Scope {
                        input: &effective,
                        context: &context,
                        variables: &self.variables,
                    };
                    for branch in choices {
                        let matched = try_or_fail!(branch
                            .rule
                            .evaluate(&scope)
                            .map_err(|e| (leak_error(e.error), e.message)));
                        if matched {
                            next = Some(branch.next);
                            break;
                        }
                    }
                }
                let Some(next) = next.or(*default) else {
                    // AWS: an unmatched Choice without Default fails with States.NoChoiceMatched.
                    return Outcome::Failed(self.runtime_failure(
                        state,
                        entered,
                        "States.NoChoiceMatched",
                        "No Matches!",
                    ));
                };
                let output =
                    try_or_fail!(take_path(state.output_path.as_ref(), effective, &context));
                Outcome::Done(output, Transition::Next(next))
            }
            StateKind::Wait(wait) => {
                let effective = try_or_fail!(take_path(state.input_path.as_ref(), input, &context));
                let now = self.clock.now();
                let until =
                    try_or_fail!(wait_until(wait, now, &effective, &context, &self.variables));
                if until > self.deadline {
                    let gap = self.deadline.millis() - now.millis();
                    self.clock.advance(gap);
                    return Outcome::TimedOut;
                }
                self.clock.advance(until.millis() - now.millis());
                let output =
                    try_or_fail!(take_path(state.output_path.as_ref(), effective, &context));
                Outcome::Done(output, state.next)
            }
            StateKind::Task(spec) => self.task(state, spec, input, entered, entered_at),
            StateKind::Unsupported { what } => Outcome::Failed(Failure::new(
                "States.Runtime",
                format!("not supported yet: {what}"),
            )),
        }
    }

    /// Runs a Task state: scheduling, the handler call on the virtual clock, timeouts and
    /// heartbeats, Retry and Catch.
    fn task(
        &mut self,
        state: &State,
        spec: &TaskSpec,
        input: Value,
        entered: EventId,
        entered_at: Timestamp,
    ) -> Outcome {
        let mut retry_count = 0u32;
        let mut attempts_per_retrier = vec![0u32; spec.retry.len()];
        loop {
            let context = self.context_with_retries(state, entered_at, retry_count);
            let failure =
                match self.task_attempt(state, spec, &input, &context, entered, retry_count) {
                    Attempt::Done(v) => {
                        let data = (|| {
                            let result = match &spec.result_selector {
                                Some(t) => {
                                    let scope = Scope {
                                        input: &v,
                                        context: &context,
                                        variables: &self.variables,
                                    };
                                    t.eval(&scope, &mut self.rng)
                                        .map_err(|e| (leak_error(e.error), e.message))?
                                }
                                None => v,
                            };
                            let combined = apply_result_path(&spec.result_path, input, result)?;
                            take_path(state.output_path.as_ref(), combined, &context)
                        })();
                        return match data {
                            Ok(output) => Outcome::Done(output, state.next),
                            Err((error, detail)) => Outcome::Failed(
                                self.runtime_failure(state, entered, error, &detail),
                            ),
                        };
                    }
                    Attempt::Failed(f) => f,
                    Attempt::Stop(outcome) => return outcome,
                };
            let error = failure.error.clone().unwrap_or_default();
            // Retry: the first retrier whose ErrorEquals matches decides.
            if let Some(i) = spec
                .retry
                .iter()
                .position(|r| error_matches(&r.errors, &error, failure.from_task))
            {
                let r = &spec.retry[i];
                if attempts_per_retrier[i] < r.max_attempts {
                    let mut delay =
                        r.interval_seconds * r.backoff_rate.powi(attempts_per_retrier[i] as i32);
                    if let Some(max) = r.max_delay_seconds {
                        delay = delay.min(max);
                    }
                    if r.full_jitter {
                        delay *= self.rng.next_f64();
                    }
                    attempts_per_retrier[i] += 1;
                    retry_count += 1;
                    let ms = (delay * 1000.0).round() as i64;
                    let now = self.clock.now();
                    if now.plus_millis(ms) > self.deadline {
                        self.clock.advance(self.deadline.millis() - now.millis());
                        return Outcome::TimedOut;
                    }
                    self.clock.advance(ms);
                    continue;
                }
            }
            // Catch: the first catcher whose ErrorEquals matches.
            if let Some(c) = spec
                .catch
                .iter()
                .find(|c| error_matches(&c.errors, &error, failure.from_task))
            {
                let mut error_output = Map::new();
                error_output.insert("Error".into(), Value::String(error));
                if let Some(cause) = &failure.cause {
                    error_output.insert("Cause".into(), Value::String(cause.clone()));
                }
                return match apply_result_path(&c.result_path, input, Value::Object(error_output)) {
                    Ok(output) => Outcome::Done(output, Transition::Next(c.next)),
                    Err((error, detail)) => {
                        Outcome::Failed(self.runtime_failure(state, entered, error, &detail))
                    }
                };
            }
            return Outcome::Failed(failure);
        }
    }

    /// One attempt of a task: the scheduled/started events, the handler call, and the
    /// events of its outcome.
    fn task_attempt(
        &mut self,
        state: &State,
        spec: &TaskSpec,
        input: &Value,
        context: &Value,
        entered: EventId,
        attempt: u32,
    ) -> Attempt {
        let prepared = (|| {
            let effective = effective_input(state.input_path.as_ref(), input, context)?;
            let parameters = match &spec.parameters {
                Some(t) => {
                    let scope = Scope {
                        input: &effective,
                        context,
                        variables: &self.variables,
                    };
                    t.eval(&scope, &mut self.rng)
                        .map_err(|e| (leak_error(e.error), e.message))?
                }
                None => effective.into_owned(),
            };
            let timeout =
                self.resolve_seconds(spec.timeout.as_ref(), input, context, "TimeoutSecondsPath")?;
            let heartbeat = self.resolve_seconds(
                spec.heartbeat.as_ref(),
                input,
                context,
                "HeartbeatSecondsPath",
            )?;
            Ok((parameters, timeout, heartbeat))
        })();
        let (parameters, timeout, heartbeat) = match prepared {
            Ok(p) => p,
            Err((error, detail)) => {
                return Attempt::Failed(self.runtime_failure(state, entered, error, &detail))
            }
        };
        let lambda = spec.kind == ResourceKind::LambdaFunction;
        let (resource_type, resource) = match &spec.kind {
            ResourceKind::Service {
                resource_type,
                resource,
            } => (resource_type.clone(), resource.clone()),
            _ => (String::new(), String::new()),
        };
        let keep = self.history.keeps_events();
        let params_text = if keep {
            to_json(&parameters)
        } else {
            String::new()
        };
        let now = self.clock.now();
        let prev = self.history.last_id();
        let scheduled = if lambda {
            self.history.record(
                prev,
                now,
                EventKind::LambdaFunctionScheduled {
                    input: params_text,
                    resource: spec.resource.clone(),
                    timeout_in_seconds: timeout,
                },
            )
        } else {
            self.history.record(
                prev,
                now,
                EventKind::TaskScheduled {
                    resource_type: resource_type.clone(),
                    resource: resource.clone(),
                    region: self.config.region.clone(),
                    parameters: params_text,
                    timeout_in_seconds: timeout,
                    heartbeat_in_seconds: heartbeat,
                },
            )
        };
        let started_kind = if lambda {
            EventKind::LambdaFunctionStarted
        } else {
            EventKind::TaskStarted {
                resource_type: resource_type.clone(),
                resource: resource.clone(),
            }
        };
        let started = self.history.record(scheduled, now, started_kind);
        let request = TaskRequest {
            state_name: state.name.as_str(),
            resource: &spec.resource,
            parameters: &parameters,
            state_machine_name: &self.config.state_machine_name,
            execution_name: &self.config.execution_name,
            attempt,
            task_token: None,
        };
        let response = match self.handler.invoke(&request) {
            Ok(r) => r,
            Err(e) => return Attempt::Stop(Outcome::HandlerError(e)),
        };
        // AWS's default task timeout is 99999999 seconds.
        let timeout_ms = timeout.unwrap_or(99_999_999).saturating_mul(1000);
        let heartbeat_ms = heartbeat.map(|h| h.saturating_mul(1000));
        let duration = response.duration_ms;
        let (elapsed, timed_out) = match heartbeat_ms {
            // A mocked task sends no heartbeats: one that runs past HeartbeatSeconds has
            // missed its heartbeat.
            Some(h) if duration > h && h < timeout_ms => (h, Some("States.HeartbeatTimeout")),
            _ if duration > timeout_ms => (timeout_ms, Some("States.Timeout")),
            _ => (duration, None),
        };
        let now = self.clock.now();
        let elapsed = elapsed.min(i64::MAX as u64) as i64;
        if now.plus_millis(elapsed) > self.deadline {
            self.clock.advance(self.deadline.millis() - now.millis());
            return Attempt::Stop(Outcome::TimedOut);
        }
        self.clock.advance(elapsed);
        let now = self.clock.now();
        if let Some(error) = timed_out {
            let kind = if lambda {
                EventKind::LambdaFunctionTimedOut {
                    error: Some(error.into()),
                    cause: None,
                }
            } else {
                EventKind::TaskTimedOut {
                    resource_type,
                    resource,
                    error: Some(error.into()),
                    cause: None,
                }
            };
            self.history.record(started, now, kind);
            return Attempt::Failed(Failure {
                error: Some(error.into()),
                cause: None,
                from_task: true,
            });
        }
        match response.outcome {
            TaskOutcome::Succeeded(v) => {
                let result = if lambda { lambda_payload(v) } else { v };
                let size = json_len(&result);
                if size > PAYLOAD_LIMIT_BYTES {
                    let f = Failure::new(
                        "States.DataLimitExceeded",
                        format!(
                            "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                            spec.resource
                        ),
                    );
                    let kind = if lambda {
                        EventKind::LambdaFunctionFailed {
                            error: f.error.clone(),
                            cause: f.cause.clone(),
                        }
                    } else {
                        EventKind::TaskFailed {
                            resource_type,
                            resource,
                            error: f.error.clone(),
                            cause: f.cause.clone(),
                        }
                    };
                    self.history.record(started, now, kind);
                    return Attempt::Failed(Failure {
                        from_task: true,
                        ..f
                    });
                }
                let output = if keep {
                    to_json(&result)
                } else {
                    String::new()
                };
                let kind = if lambda {
                    EventKind::LambdaFunctionSucceeded { output }
                } else {
                    EventKind::TaskSucceeded {
                        resource_type,
                        resource,
                        output,
                    }
                };
                self.history.record(started, now, kind);
                Attempt::Done(result)
            }
            TaskOutcome::Failed { error, cause } => {
                let kind = if lambda {
                    EventKind::LambdaFunctionFailed {
                        error: Some(error.clone()),
                        cause: cause.clone(),
                    }
                } else {
                    EventKind::TaskFailed {
                        resource_type,
                        resource,
                        error: Some(error.clone()),
                        cause: cause.clone(),
                    }
                };
                self.history.record(started, now, kind);
                // A handler's States.Runtime (an exhausted mock, as in Step Functions Local)
                // stays terminal: nothing retries or catches it.
                let from_task = error != "States.Runtime";
                Attempt::Failed(Failure {
                    error: Some(error),
                    cause,
                    from_task,
                })
            }
            #[allow(unreachable_patterns)]
            _ => Attempt::Failed(Failure::new(
                "States.Runtime",
                "not supported yet: this task outcome",
            )),
        }
    }

    /// A `*Seconds` / `*SecondsPath` value. Paths read the state's effective input.
    fn resolve_seconds(
        &self,
        s: Option<&Seconds>,
        input: &Value,
        context: &Value,
        field: &str,
    ) -> Result<Option<u64>, (&'static str, String)> {
        match s {
            None => Ok(None),
            Some(Seconds::Fixed(n)) => Ok(Some(*n)),
            Some(Seconds::Path(p)) => {
                let scope = Scope {
                    input,
                    context,
                    variables: &self.variables,
                };
                match scope.resolve(p) {
                    Some(v) if v.as_u64().is_some_and(|n| n > 0) => Ok(v.as_u64()),
                    // Assumption: AWS words this like the Wait state's SecondsPath errors.
                    Some(v) => Err((
                        "States.Runtime",
                        format!(
                            "The {field} parameter does not reference a positive integer: {} == {}",
                            p.as_str(),
                            display_value(&v)
                        ),
                    )),
                    None => Err((
                        "States.Runtime",
                        format!(
                            "The {field} parameter does not reference an input value: {}",
                            p.as_str()
                        ),
                    )),
                }
            }
        }
    }

    /// A Fail state's Error or Cause.
    fn error_text(
        &mut self,
        text: &ErrorText,
        field: &str,
        input: &Value,
        context: &Value,
    ) -> Result<Option<String>, (&'static str, String)> {
        let scope = Scope {
            input,
            context,
            variables: &self.variables,
        };
        let v = match text {
            ErrorText::None => return Ok(None),
            ErrorText::Literal(s) => return Ok(Some(s.clone())),
            ErrorText::Path(p) => scope.resolve(p).ok_or_else(|| {
                (
                    "States.Runtime",
                    format!(
                        "The JSONPath '{}' specified for the field '{field}Path' could not be found in the input '{}'",
                        p.as_str(),
                        to_json(input)
                    ),
                )
            })?,
            ErrorText::Intrinsic(f) => f
                .eval(&scope, &mut self.rng)
                .map_err(|e| (leak_error(e.error), e.message))?,
        };
        match v {
            Value::String(s) => Ok(Some(s)),
            // Assumption: AWS requires a string; the detail text mirrors its other
            // path-type messages.
            other => Err((
                "States.Runtime",
                format!(
                    "The {field}Path field must reference a string, but was {}: {}",
                    type_name(&other),
                    to_json(&other)
                ),
            )),
        }
    }
}

/// Error names come from a small fixed set; keeping them `'static` keeps the failure path
/// allocation-free in the common case.
fn leak_error(name: String) -> &'static str {
    match name.as_str() {
        "States.Runtime" => "States.Runtime",
        "States.IntrinsicFailure" => "States.IntrinsicFailure",
        "States.QueryEvaluationError" => "States.QueryEvaluationError",
        _ => "States.Runtime",
    }
}

/// Jayway's rendering of a path in its "No results for path" message: `$['a']['b'][0]`.
fn bracket_notation(p: &JsonPath) -> String {
    p.bracket_notation()
}

fn no_results(path: &JsonPath) -> (&'static str, String) {
    (
        "States.Runtime",
        format!(
            "Invalid path '{}' : No results for path: {}",
            path.as_str(),
            bracket_notation(path)
        ),
    )
}

/// InputPath, borrowing from the input where the path allows it.
fn effective_input<'a>(
    path: Option<&JsonPath>,
    input: &'a Value,
    context: &'a Value,
) -> Result<Cow<'a, Value>, (&'static str, String)> {
    let Some(path) = path else {
        return Ok(Cow::Owned(Value::Object(Map::new())));
    };
    let root = match path.root() {
        PathRoot::Context => context,
        _ => input,
    };
    if let Some(v) = path.select_ref(root) {
        return Ok(Cow::Borrowed(v));
    }
    path.select(root)
        .map(Cow::Owned)
        .ok_or_else(|| no_results(path))
}

/// InputPath or OutputPath on a document the state owns: the selected part is moved out.
fn take_path(
    path: Option<&JsonPath>,
    doc: Value,
    context: &Value,
) -> Result<Value, (&'static str, String)> {
    let Some(path) = path else {
        return Ok(Value::Object(Map::new()));
    };
    if path.is_root() && *path.root() == PathRoot::Input {
        return Ok(doc);
    }
    let found = match path.root() {
        PathRoot::Context => path.select(context),
        _ => path.take(doc),
    };
    found.ok_or_else(|| no_results(path))
}

fn apply_result_path(
    rp: &ResultPath,
    mut input: Value,
    result: Value,
) -> Result<Value, (&'static str, String)> {
    match rp {
        ResultPath::Replace => Ok(result),
        ResultPath::Discard => Ok(input),
        ResultPath::At(p) => {
            let before = to_json(&input);
            match p.set(&mut input, result) {
                Ok(()) => Ok(input),
                // AWS's wording, as quoted from a real execution in aws/aws-cdk issue 29473:
                // the input is shown as a JSON string literal. Assumption: the usual state
                // prefix comes first, as for the other run-time errors of a state.
                Err(_) => Err((
                    "States.ResultPathMatchFailure",
                    format!(
                        "Unable to apply ReferencePath {} to input {}",
                        p.as_str(),
                        serde_json::to_string(&before).unwrap_or_default()
                    ),
                )),
            }
        }
    }
}

/// When a Wait state ends.
fn wait_until(
    wait: &WaitFor,
    now: Timestamp,
    input: &Value,
    context: &Value,
    variables: &Map<String, Value>,
) -> Result<Timestamp, (&'static str, String)> {
    // AWS keeps wait delays within a signed 32-bit number of seconds.
    const MAX_DELAY_SECONDS: i64 = i32::MAX as i64;
    let scope = Scope {
        input,
        context,
        variables,
    };
    let until = match wait {
        WaitFor::Seconds(s) => now.plus_millis(s.saturating_mul(1000)),
        WaitFor::SecondsPath(p) => {
            let v = scope.resolve(p).ok_or_else(|| {
                (
                    "States.Runtime",
                    format!(
                        "The SecondsPath parameter does not reference an input value: {}",
                        p.as_str()
                    ),
                )
            })?;
            let secs = v.as_i64().ok_or_else(|| {
                (
                    "States.Runtime",
                    format!(
                        "The SecondsPath parameter cannot be parsed as a long value: {} == {}",
                        p.as_str(),
                        display_value(&v)
                    ),
                )
            })?;
            if secs < 0 {
                return Err((
                    "States.Runtime",
                    format!(
                        "The SecondsPath parameter references a negative value: {} == {}",
                        p.as_str(),
                        secs
                    ),
                ));
            }
            now.plus_millis(secs.saturating_mul(1000))
        }
        WaitFor::Timestamp(s) => Timestamp::parse_rfc3339(s).ok_or_else(|| {
            (
                "States.Runtime",
                format!(
                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {s}"
                ),
            )
        })?,
        WaitFor::TimestampPath(p) => {
            let v = scope.resolve(p);
            let parsed = v.as_ref().and_then(Value::as_str).and_then(Timestamp::parse_rfc3339);
            parsed.ok_or_else(|| {
                let shown = v.as_ref().map(display_value).unwrap_or_default();
                (
                    "States.Runtime",
                    format!(
                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                        p.as_str(),
                        shown
                    ),
                )
            })?
        }
    };
    if (until.millis() - now.millis()) / 1000 > MAX_DELAY_SECONDS {
        return Err((
            "States.Runtime",
            "Wait state delay is too long.".to_string(),
        ));
    }
    Ok(until.max(now))
}

/// A value as AWS shows it after `==` in its messages: strings bare, the rest as JSON.
fn display_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => to_json(other),
    }
}

impl StateKind {
    /// The state's `Type`, as event type names use it.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            StateKind::Pass { .. } => "Pass",
            StateKind::Wait(_) => "Wait",
            StateKind::Choice { .. } => "Choice",
            StateKind::Succeed => "Succeed",
            StateKind::Fail { .. } => "Fail",
            StateKind::Task(_) => "Task",
            StateKind::Unsupported { .. } => "Unsupported",
        }
    }
}
