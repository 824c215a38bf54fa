//! The interpreter: runs one execution of a compiled definition on an injected clock and
//! records its history.
//!
//! The step loop is the hot path. It moves the state's document from stage to stage instead of
//! cloning it, and serialises a payload only when an event that carries it is recorded.

use crate::clock::{Clock, Timestamp, VirtualClock};
use crate::faults::Fault;
use crate::history::{Event, EventId, EventKind, History, TaskScheduledDetails};
use crate::jsonpath::{type_name, JsonPath, PathRoot};
use crate::model::{
    error_matches, Catcher, ChoiceTest, Definition, ErrorText, MapSpec, ParallelSpec, Pattern,
    ResourceKind, ResultPath, Seconds, State, StateIdx, StateKind, StateMachine, TaskSpec,
    Transition, WaitFor,
};
use crate::scope::{Rng, Scope};
use crate::task::{NoTasks, TaskHandler, TaskHandlerError, TaskOutcome, TaskRequest};
use crate::template::Spares;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::Arc;

mod distributed;
mod driver;
mod pending;
mod ql;
mod redrive;
mod sched;

/// The most bytes a payload (state input or output, execution input or output) may have.
pub const PAYLOAD_LIMIT_BYTES: usize = 256 * 1024;
/// AWS's limit on the variables one `Assign` sets (256 KiB).
const VARIABLES_LIMIT_BYTES: usize = 256 * 1024;

/// The most events a Standard execution's history may hold.
pub const MAX_HISTORY_EVENTS: u64 = 25_000;

/// Express workflows have no history quota, but on the virtual clock a loop of states that
/// take no time would run forever before the five-minute limit; this many events end it
/// (stepcheck's guard, not an AWS quota).
pub const EXPRESS_EVENT_GUARD: u64 = 10_000_000;

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
    /// It has not ended yet.
    Running,
}

impl ExecutionStatus {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
            ExecutionStatus::Running => "RUNNING",
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
    /// How many states were entered (the state transitions), Standard or Express; child
    /// executions of a Distributed Map count in their own histories, not here.
    pub state_entries: u64,
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
    /// For an error of a JSONata expression (States.QueryEvaluationError): the field, for
    /// the EvaluationFailed event, until that event is recorded.
    evaluation: Option<Option<String>>,
}

impl Failure {
    fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Failure {
            error: Some(error.into()),
            cause: Some(cause.into()),
            from_task: false,
            evaluation: None,
        }
    }
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
    /// The definition is one AWS refuses to create for this workflow type (CreateStateMachine's
    /// InvalidDefinition; today: patterns Express workflows do not support).
    #[error("{message}")]
    InvalidDefinition {
        /// AWS's message, `Invalid State Machine Definition: '...'`.
        message: String,
    },
    /// The execution can only go on when somebody answers a task token, and this driver has
    /// nobody who could.
    #[error("the execution waits for a callback that nothing here can send (state {waiting}); answer its task token through the execution service, or mock the state")]
    Blocked {
        /// The waiting states' names.
        waiting: String,
    },
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
    ///
    /// This is the simplest driver of an [`Execution`]: it runs what is due, advances the
    /// clock to the next timer, and repeats until the execution ends. An execution that can
    /// only go on when somebody outside answers a task token stops the run with
    /// [`RunError::Blocked`], since nobody else can answer here.
    pub fn execute_with(
        &self,
        input: Value,
        config: &ExecutionConfig,
        clock: &mut dyn Clock,
        handler: &mut dyn TaskHandler,
    ) -> Result<ExecutionResult, RunError> {
        let mut config = config.clone();
        config.start_time = clock.now();
        // Nothing here asks the execution for its input again.
        let mut execution = self.start_keeping(input, config, false)?;
        loop {
            execution.run_due(handler)?;
            if execution.status() != ExecutionStatus::Running {
                return Ok(execution.into_result());
            }
            // Time passes for timers; a callback's timeout fires only when it comes first, or
            // when the definition set it (AWS's default timeouts outlast any test).
            let wake = match (execution.next_wake(), execution.next_timeout()) {
                (Some(w), Some(t)) => w.min(t),
                (Some(w), None) => w,
                (None, Some(t)) if execution.has_explicit_timeout() => t,
                _ => {
                    return Err(RunError::Blocked {
                        waiting: execution.waiting_states().join(", "),
                    })
                }
            };
            let now = clock.now();
            clock.advance(wake.millis() - now.millis());
            execution.advance_to(clock.now());
        }
    }

    /// Starts an execution at `config.start_time`: records ExecutionStarted and makes the
    /// start state due. Nothing runs until a driver calls [`Execution::run_due`].
    pub fn start(&self, input: Value, config: ExecutionConfig) -> Result<Execution, RunError> {
        self.start_keeping(input, config, true)
    }

    /// [`Definition::start`]; `keep_input: false` moves the input into the start state
    /// instead of copying it, for a driver that never asks for it back
    /// ([`Execution::input`], redrive) when the definition never reads the context (whose
    /// `Execution.Input` it is). The copy of a 100,000-item input was 7 MB allocated and
    /// written for nothing.
    fn start_keeping(
        &self,
        input: Value,
        config: ExecutionConfig,
        keep_input: bool,
    ) -> Result<Execution, RunError> {
        if let Some(what) = self.unsupported.clone() {
            return Err(NotSupported { what }.into());
        }
        // What CreateStateMachine refuses for Express workflows, for drivers that run a
        // definition without creating a state machine (`stepcheck exec --type EXPRESS`).
        let express = config.workflow_type == WorkflowType::Express;
        if let Some(message) = &self.refused[usize::from(express)] {
            return Err(RunError::InvalidDefinition {
                message: message.clone(),
            });
        }
        let start = config.start_time;
        let max = config.workflow_type.max_duration_ms();
        let limit = self
            .machine
            .timeout_seconds
            .map_or(max, |s| (s as i64).saturating_mul(1000).min(max));
        let mut execution = Execution {
            machines: self.machines.clone(),
            // Room for a run through every state once (`Definition::expected_events`):
            // growing the list as it fills cost 4 % of a short Standard execution, and a tenth
            // of a Parallel one.
            history: History::new(
                config.workflow_type == WorkflowType::Standard,
                self.expected_events,
            ),
            rng: Rng::new(config.seed),
            spares: Spares::default(),
            scheduler: Rng::new(config.seed ^ 0x5CED_u64.rotate_left(32)),
            now: start,
            start,
            deadline: start.plus_millis(limit),
            execution_input: input,
            uses_context: self.uses_context,
            variables: Arc::new(Map::new()),
            fibers: Vec::new(),
            free_fibers: Vec::new(),
            ended_fibers: Vec::new(),
            sched: sched::Sched::default(),
            outcome: None,
            ended: None,
            text_hint: 0,
            output_bound: None,
            output_text: None,
            tokens_issued: 0,
            token_base: String::new(),
            timed_out_tokens: Vec::new(),
            query_location: None,
            redrive_count: 0,
            #[cfg(feature = "faults")]
            fault: None,
            config,
        };
        execution.begin(keep_input || execution.uses_context);
        Ok(execution)
    }

    /// The first capability this definition needs that the engine lacks, if any. Computed
    /// when the definition loads and checked before an execution starts, so nothing runs
    /// half-way and nothing is silently ignored.
    pub(crate) fn find_unsupported(&self) -> Option<String> {
        fn walk(machine: &StateMachine, raw: &Value) -> Option<String> {
            let states = raw.get("States").and_then(Value::as_object)?;
            for (state, (name, raw)) in machine.states.iter().zip(states) {
                debug_assert_eq!(state.name.as_str(), name.as_str());
                match &state.kind {
                    StateKind::Unsupported { what } => return Some(what.clone()),
                    StateKind::Task(t) => {
                        if let ResourceKind::Unsupported(what) = &t.kind {
                            return Some(format!("{what} (state '{name}')"));
                        }
                    }
                    StateKind::Parallel(p) => {
                        let branches = raw.get("Branches").and_then(Value::as_array)?;
                        for (b, rb) in p.branches.iter().zip(branches) {
                            if let Some(w) = walk(b, rb) {
                                return Some(w);
                            }
                        }
                    }
                    StateKind::Map(m) => {
                        if let Some(w) = crate::map_run::unsupported(raw, name) {
                            return Some(w);
                        }
                        let processor = raw.get("ItemProcessor").or_else(|| raw.get("Iterator"))?;
                        if let Some(w) = walk(&m.processor, processor) {
                            return Some(w);
                        }
                    }
                    _ => {}
                }
                // Assumption (AWS's state reference): Succeed and Fail states take no Assign.
                let assign_allowed =
                    !matches!(state.kind, StateKind::Succeed | StateKind::Fail { .. });
                for field in ["Assign", "Output", "Arguments"] {
                    if field != "Assign" && state.jsonata.is_some() {
                        continue;
                    }
                    if field == "Assign" && assign_allowed {
                        continue;
                    }
                    if raw.get(field).is_some() {
                        return Some(format!("the field '{field}' (state '{name}', issue 5)"));
                    }
                }
                let choices = raw.get("Choices").and_then(Value::as_array);
                if state.jsonata.is_none()
                    && choices
                        .into_iter()
                        .flatten()
                        .any(|c| c.get("Output").is_some())
                {
                    return Some(format!(
                        "the field 'Output' in Choice rules (state '{name}', issue 5)"
                    ));
                }
            }
            None
        }
        walk(&self.machine, self.source())
    }

    pub(crate) fn source_mentions_context(&self) -> bool {
        /// Whether a JSONata expression may read `$states.context`: it names it, or uses
        /// `$states` other than through `.input`/`.result`/`.errorOutput` (`$states` alone,
        /// `$states[...]`, `$lookup($states, ...)`). Plain `$states.input` does not pay
        /// for the context object.
        fn reads_states_context(s: &str) -> bool {
            s.match_indices("$states").any(|(i, m)| {
                let rest = &s[i + m.len()..];
                match rest.strip_prefix('.') {
                    Some(field) => !["input", "result", "errorOutput"]
                        .iter()
                        .any(|f| field.starts_with(f)),
                    None => true,
                }
            })
        }
        // Only definitions that read `$$` pay for building the context object.
        fn walk(v: &Value) -> bool {
            match v {
                Value::String(s) => s.contains("$$") || reads_states_context(s),
                Value::Array(a) => a.iter().any(walk),
                Value::Object(o) => o.values().any(walk),
                _ => false,
            }
        }
        walk(self.source())
    }
}

pub struct Execution {
    /// The deliberate bug this execution has (test builds with the `faults` feature only).
    #[cfg(feature = "faults")]
    fault: Option<Fault>,
    /// The definition's machines by id (`Definition::machines`); the top level's is the last
    /// (see [`Execution::top_machine`]).
    machines: Arc<[Arc<StateMachine>]>,
    config: ExecutionConfig,
    /// The execution's current time, as the driver's clock gave it.
    now: Timestamp,
    history: History,
    rng: Rng,
    /// Maps of documents let go of, to build template results in (see `Spares`).
    spares: Spares,
    /// Picks the next fiber to step. Separate from `rng`, so that the interleaving does not
    /// change the values of States.UUID or States.MathRandom.
    scheduler: Rng,
    start: Timestamp,
    deadline: Timestamp,
    /// The execution's input: `$$.Execution.Input`, [`Execution::input`] and a redrive's
    /// start. Null when the driver said it needs none of these ([`Definition::start_keeping`]).
    execution_input: Value,
    uses_context: bool,
    /// The workflow variables of the fiber being run (a copy of its `Fiber::variables`,
    /// set whenever the engine works on a fiber).
    variables: Arc<Map<String, Value>>,
    /// Fiber records by id (slot); see `free_fibers` for how slots are reused.
    fibers: Vec<Fiber>,
    /// Slots of Map iterations that have ended and been reported to their Map, free for
    /// the next fibers: a Map of many items then keeps records only for the iterations in
    /// flight (the scheduler orders fibers by creation, not by slot: `sched::Seq`).
    free_fibers: Vec<FiberId>,
    /// Slots of iterations that ended during the current step, freed when it is over (its
    /// last act reads the stepped fiber's record).
    ended_fibers: Vec<FiberId>,
    /// Which fibers can run now and when the others wake up, kept up to date on every
    /// change of a fiber's phase or wake-up time (see [`Execution::refresh`]).
    sched: sched::Sched,
    /// How the top-level fiber ended, once it has.
    outcome: Option<Result<Value, Failure>>,
    /// How the execution ended, once it has.
    ended: Option<Ending>,
    /// The length of the last state output written as text: the next one is usually about
    /// as long, so its buffer starts that large instead of growing from 128 bytes.
    text_hint: usize,
    /// An upper bound of the JSON length of the output of the state that just ran, when
    /// `state` could tell it cheaply; `complete` takes it.
    output_bound: Option<usize>,
    /// The output text of the state that just ran, when `state` wrote it from the input's
    /// text (Standard only, see `splice`), with its value spans when known; `complete` takes
    /// it.
    output_text: Option<(String, Option<crate::splice::Spans>)>,
    /// Task tokens handed out so far (each token is unique within the execution).
    tokens_issued: u64,
    /// The execution-naming part of its task tokens ([`token_base`]), written when the first
    /// token is issued (most executions issue none).
    token_base: String,
    /// Tokens whose tasks timed out, for the TaskTimedOut answer to a late callback.
    timed_out_tokens: Vec<String>,
    /// The field of the JSONata expression that failed last, until the failure is built.
    query_location: Option<Option<String>>,
    /// How many times RedriveExecution restarted it (`$$.Execution.RedriveCount`).
    redrive_count: u32,
}

impl std::fmt::Debug for Execution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Execution")
            .field("arn", &self.config.execution_arn())
            .field("status", &self.status())
            .field("now", &self.now)
            .field("events", &self.history.len())
            .finish_non_exhaustive()
    }
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Ending {
    /// Succeeded, Failed, TimedOut or Aborted.
    pub status: ExecutionStatus,
    /// The output, when it succeeded.
    pub output: Option<Value>,
    /// The error name, when it failed, timed out or was stopped with one.
    pub error: Option<String>,
    /// The cause, when there is one.
    pub cause: Option<String>,
    /// When it ended.
    pub stop_time: Timestamp,
}

/// A fiber's current state; it holds the fiber's machine, so that the execution stays free
/// to change while the state is in use.
struct StateRef {
    machine: Arc<StateMachine>,
    index: StateIdx,
}

impl std::ops::Deref for StateRef {
    type Target = State;

    fn deref(&self) -> &State {
        &self.machine.states[self.index]
    }
}

/// Index of a fiber in `Run::fibers`.
type FiberId = usize;

/// A thread of states: the top level, one Parallel branch or one Map iteration.
struct Fiber {
    /// Its machine's id: the index of the machine in `Execution::machines` (an id rather
    /// than an `Arc`, whose clone and drop for every branch and Map iteration were two
    /// atomic operations each).
    machine: usize,
    current: StateIdx,
    phase: Phase,
    /// The fiber's latest event: the previousEventId of its next one.
    last: EventId,
    /// When a sleeping fiber may run again.
    wake: Timestamp,
    /// The current state's Entered event and its time.
    entered: EventId,
    entered_at: Timestamp,
    /// The parent fiber and this fiber's slot there (branch or item index).
    parent: Option<(FiberId, usize)>,
    /// `$$.Map.Item` of a Map iteration: index and value.
    ///
    /// Kept only for a definition that reads the context (nothing else reads it), and boxed
    /// to keep the record small: a Map has a record for each iteration in flight.
    item: Option<Box<(usize, Value)>>,
    /// The JSON text of the document the fiber carries, when it is already written: a
    /// state's output text is the next state's input text, so it is serialised once.
    text: Option<String>,
    /// Where the top-level values lie in that text (and, once the fiber has entered its
    /// state, in the state's input text), when known. Set and cleared with `text`.
    spans: Option<crate::splice::Spans>,
    /// An upper bound of the JSON length of the document the fiber carries (see
    /// `json_len_bound`), `usize::MAX` when not known: it lets a Pass or Choice state bound
    /// its output from its input instead of walking the whole document again.
    bound: usize,
    /// The fiber's workflow variables; `None` for a Parallel branch or Map iteration that
    /// has assigned nothing yet, which reads its parent's (AWS: inner scopes read the outer
    /// variables; their own assignments do not leak out). The parent waits on its branches
    /// meanwhile, so its variables do not change under them. The top-level fiber always has
    /// its own. (A clone of the parent's `Arc` for every branch and iteration, and its drop,
    /// were two atomic operations each.)
    variables: Option<Arc<Map<String, Value>>>,
    /// The current state's evaluated `Assign`, applied when the state exits.
    /// Boxed, for the size of the fiber record (see `item`).
    assigned: Option<Box<Map<String, Value>>>,
}

/// Where a fiber is.
enum Phase {
    /// About to enter the current state with this input.
    Enter(Value),
    /// Inside the current state, waiting for the virtual clock.
    Sleeping(Resume),
    /// Inside a Parallel or Map state, waiting for its branches.
    Join(Box<Join>),
    /// Inside a Task state, waiting for a callback with its task token (a `.waitForTaskToken`
    /// answer, an activity worker, a child execution). `wake` is when it times out.
    Awaiting(Box<Awaiting>),
    /// Ended (successfully, failed or aborted).
    Finished,
}

/// What a sleeping fiber does when it wakes.
enum Resume {
    /// A Wait state's time is up: exit with this output.
    WaitDone(Value),
    /// A task attempt's answer arrives.
    TaskAnswer(
        Box<TaskRun>,
        Box<crate::task::TaskResponse>,
        Option<&'static str>,
    ),
    /// A retry's backoff is over: the next attempt.
    TaskRetry(Box<TaskRun>),
    /// A Parallel or Map retry's backoff is over: run the branches again.
    /// (Boxed: it is the largest resume, and every fiber record holds a phase.)
    JoinRetry(Box<(Value, Vec<u32>)>),
    /// A Distributed Map's child executions have all ended: finish the Map Run.
    MapRunDone(Box<Join>),
}

/// A Task state in progress.
struct TaskRun {
    /// The state's raw input (for ResultPath and Catch).
    input: Value,
    retry_count: u32,
    attempts_per_retrier: Vec<u32>,
    /// The attempt's TaskStarted / LambdaFunctionStarted event.
    started: EventId,
}

/// A Task state waiting for an answer from outside.
struct Awaiting {
    run: TaskRun,
    token: String,
    /// The effective parameters (an activity worker's input).
    input: Value,
    /// When TimeoutSeconds runs out.
    timeout_at: Timestamp,
    heartbeat_ms: Option<u64>,
    /// When HeartbeatSeconds runs out, counted from the latest heartbeat.
    heartbeat_at: Option<Timestamp>,
    /// False while an activity task waits for a worker (no ActivityStarted yet).
    worker_started: bool,
}

impl Awaiting {
    fn deadline(&self) -> Timestamp {
        self.heartbeat_at
            .map_or(self.timeout_at, |h| h.min(self.timeout_at))
    }

    /// The error of a timeout at the deadline: a missed heartbeat or the task timeout.
    fn timeout_error(&self) -> &'static str {
        match self.heartbeat_at {
            Some(h) if h < self.timeout_at => "States.HeartbeatTimeout",
            _ => "States.Timeout",
        }
    }
}

/// A Task state waiting for a callback, as [`Execution::waiting_tasks`] lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitingTask {
    /// The task token a callback must name.
    pub token: String,
    /// The Task state's name.
    pub state_name: String,
    /// The state's `Resource`.
    pub resource: String,
    /// The effective parameters (what an activity worker receives as input).
    pub input: Value,
    /// True for an activity task that no worker has taken yet.
    pub needs_worker: bool,
}

/// Why a callback (SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat) was refused; the
/// variants are the Step Functions API's error codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// No task waits for this token (never issued, already answered, or its execution ended).
    #[error("Task does not exist anymore")]
    TaskDoesNotExist,
    /// The task this token belonged to timed out.
    #[error("Task Timed Out: '{0}'")]
    TaskTimedOut(String),
}

/// Which family of history events a Task state records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// LambdaFunction* (a Lambda function ARN).
    Lambda,
    /// Task* (a service integration).
    Task,
    /// Activity*.
    Activity,
}

impl Family {
    fn of(spec: &TaskSpec) -> Family {
        match spec.kind {
            ResourceKind::LambdaFunction => Family::Lambda,
            ResourceKind::Activity => Family::Activity,
            _ => Family::Task,
        }
    }

    fn succeeded(self, spec: &TaskSpec, output: String) -> EventKind {
        match self {
            Family::Lambda => EventKind::LambdaFunctionSucceeded { output },
            Family::Activity => EventKind::ActivitySucceeded { output },
            Family::Task => {
                let (resource_type, resource) = service_names(spec);
                EventKind::TaskSucceeded {
                    resource_type,
                    resource,
                    output,
                }
            }
        }
    }

    fn failed(self, spec: &TaskSpec, error: Option<String>, cause: Option<String>) -> EventKind {
        match self {
            Family::Lambda => EventKind::LambdaFunctionFailed { error, cause },
            Family::Activity => EventKind::ActivityFailed { error, cause },
            Family::Task => {
                let (resource_type, resource) = service_names(spec);
                EventKind::TaskFailed {
                    resource_type,
                    resource,
                    error,
                    cause,
                }
            }
        }
    }

    fn timed_out(self, spec: &TaskSpec, error: &str) -> EventKind {
        let error = Some(error.to_string());
        match self {
            Family::Lambda => EventKind::LambdaFunctionTimedOut { error, cause: None },
            Family::Activity => EventKind::ActivityTimedOut { error, cause: None },
            Family::Task => {
                let (resource_type, resource) = service_names(spec);
                EventKind::TaskTimedOut {
                    resource_type,
                    resource,
                    error,
                    cause: None,
                }
            }
        }
    }
}

const TOKEN_PREFIX: &str = "stepcheck:";

/// The context of a definition that never reads it.
static NULL: Value = Value::Null;

/// The part of every task token that names the execution: base64 of a prefix and its ARN,
/// computed once per execution. A token is this, a dot and a counter (AWS's tokens are
/// opaque base64 text too; the dot is outside the base64 alphabet).
fn token_base(execution_arn: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{TOKEN_PREFIX}{execution_arn}"))
}

/// The execution ARN a task token was issued by, or `None` when the text is no token of
/// ours (the API's InvalidToken).
pub fn token_execution_arn(token: &str) -> Option<String> {
    use base64::Engine as _;
    let (base, n) = token.trim().rsplit_once('.')?;
    n.parse::<u64>().ok()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    Some(text.strip_prefix(TOKEN_PREFIX)?.to_string())
}

/// A Parallel or Map state waiting for its branches.
struct Join {
    /// The state's raw input (for ResultPath and Catch).
    input: Value,
    /// The running child fiber of each slot.
    children: Vec<Option<FiberId>>,
    results: Vec<Option<Value>>,
    /// Map iterations not started yet, in order.
    pending: pending::PendingItems,
    running: usize,
    /// The most iterations in flight at once (usize::MAX for unlimited).
    max_concurrency: usize,
    /// The event the state's Succeeded and Exited events follow.
    last_done: EventId,
    is_map: bool,
    /// Attempts used per retrier of the state (Retry on Parallel and Map).
    attempts_per_retrier: Vec<u32>,
    /// The Map Run of a Distributed Map (its children are child executions).
    map_run: Option<Box<crate::map_run::RunState>>,
    /// Whether the branch results are used. A JSONPath state with `"ResultPath": null` and
    /// neither ResultSelector nor Assign discards them, so they are not kept: a large Map
    /// that drops its results then holds no memory for them.
    keep_results: bool,
}

/// Whether a Parallel or inline Map state uses its branch results (see [`Join`]).
fn keeps_results(
    state: &State,
    selector: Option<&crate::template::Template>,
    result_path: &ResultPath,
) -> bool {
    state.jsonata.is_some()
        || selector.is_some()
        || state.assign.is_some()
        || !matches!(result_path, ResultPath::Discard)
}

fn to_json(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// [`to_json`] into a buffer that starts with room for `hint` bytes and a quarter more:
/// growing serde_json's 128-byte start buffer for every output cost about 8 % of a Standard
/// Pass state.
fn to_json_sized(v: &Value, hint: usize) -> String {
    let mut buf = Vec::with_capacity((hint + hint / 4).max(128));
    if serde_json::to_writer(&mut buf, v).is_err() {
        return String::new();
    }
    // serde_json writes valid UTF-8 only.
    String::from_utf8(buf).unwrap_or_default()
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

/// The most iterations an inline Map runs at once. AWS: "In this mode, the Map state
/// supports up to 40 concurrent iterations" (Using Map state in Inline mode); MaxConcurrency 0
/// ("as many as possible") and larger values get this many. Assumption: a larger
/// MaxConcurrency is lowered to 40 rather than refused, as AWS accepts such definitions.
pub const INLINE_MAP_MAX_CONCURRENCY: usize = 40;

/// The effective concurrency of an inline Map with this MaxConcurrency.
fn inline_map_concurrency(max: u64) -> usize {
    match usize::try_from(max) {
        Ok(n) if n > 0 => n.min(INLINE_MAP_MAX_CONCURRENCY),
        _ => INLINE_MAP_MAX_CONCURRENCY,
    }
}

/// Sets a fiber's phase without telling the scheduler (the caller does).
#[inline(always)]
fn set_phase_of(f: &mut Fiber, phase: Phase) {
    // The phase replaced is usually `Finished` (taken out by the step), which holds
    // nothing: forgetting it saves the call that would find nothing to drop.
    if matches!(f.phase, Phase::Finished) {
        std::mem::forget(std::mem::replace(&mut f.phase, phase));
    } else {
        f.phase = phase;
    }
}

/// Whether a value's JSON text is longer than `limit` bytes. A cheap upper bound on the
/// length settles nearly every case without writing the text (measuring it exactly was a
/// sixth of an Express Pass state's cost); a tighter one most of the rest (see
/// [`len_against`]); only values that might be near the limit are measured exactly.
fn json_exceeds(v: &Value, limit: usize) -> bool {
    len_against(v, json_len_bound(v), limit) > limit
}

/// An upper bound of the JSON length of the output of a state that puts `result` into its
/// input with `rp`, from `input_bound` (an upper bound of the input's), without walking the
/// input; `None` when the state's paths do not allow it or the input's bound is not known.
/// It holds because `json_len_bound` adds up over fields: setting a field adds at most its
/// name's and the new value's bounds (the old value's bound is taken away), and each object
/// the path creates adds its braces and name.
///
/// With `ResultPath: $` the output is the result: one evaluated from `template` is bounded
/// from the template's constant text and the input's bound (`Template::bound_of`).
#[inline(always)]
fn passed_bound(
    state: &State,
    input_bound: usize,
    rp: &ResultPath,
    result: &Value,
    template: Option<&crate::template::Template>,
) -> Option<usize> {
    if !state.whole_paths {
        return None;
    }
    match rp {
        ResultPath::Replace => template?.bound_of(input_bound),
        _ if input_bound == usize::MAX => None,
        ResultPath::Discard => Some(input_bound),
        ResultPath::At(p) => Some(input_bound + json_len_bound(result) + p.set_bound_overhead()),
    }
}

/// An upper bound of `v`'s JSON length: a string escapes each byte to at most six
/// (`\u001f`), a number prints in at most 24 characters (ryu's longest `f64`; integers take
/// at most 20 digits and a sign), `false` and `null` in 5.
pub(crate) fn json_len_bound(v: &Value) -> usize {
    len_bound::<false>(v)
}

/// A tighter bound than [`json_len_bound`], for values that bound does not place under a
/// limit: integers count their exact digits. Arrays of small numbers are the usual large
/// documents (a Map's items): at 24 characters a number, 100,000 one-digit items (200 KB of
/// text) passed the 256 KiB payload limit and were written out to be measured at every check,
/// 2.4 % of such a Map's instructions. Counting digits everywhere instead cost 1 to 2 % of
/// the Express Pass chain, Choice loop and 1k Map, so it is the second try, not the first.
fn json_len_tight_bound(v: &Value) -> usize {
    len_bound::<true>(v)
}

/// `json_len_bound` (`EXACT_INTS` false) or `json_len_tight_bound` (true).
fn len_bound<const EXACT_INTS: bool>(v: &Value) -> usize {
    match v {
        Value::Array(a) => {
            2 + a.len() + a.iter().map(member_len_bound::<EXACT_INTS>).sum::<usize>()
        }
        Value::Object(o) => {
            2 + o
                .iter()
                .map(|(k, x)| 4 + 6 * k.len() + member_len_bound::<EXACT_INTS>(x))
                .sum::<usize>()
        }
        scalar => member_len_bound::<EXACT_INTS>(scalar),
    }
}

/// [`len_bound`] of a member of an array or object. Scalars, the usual members, are
/// bounded here in line rather than through a recursive call, which was a third of a small
/// object's cost.
#[inline(always)]
fn member_len_bound<const EXACT_INTS: bool>(v: &Value) -> usize {
    match v {
        Value::String(s) => 2 + 6 * s.len(),
        Value::Number(n) if EXACT_INTS => integer_len(n).unwrap_or(24),
        Value::Number(_) => 24,
        Value::Null | Value::Bool(_) => 5,
        Value::Array(_) | Value::Object(_) => len_bound::<EXACT_INTS>(v),
    }
}

/// The JSON length of an integer: its digits and sign. `None` for other numbers. One digit,
/// the usual case, is settled before `ilog10`, which costs about twenty instructions.
#[inline(always)]
fn integer_len(n: &serde_json::Number) -> Option<usize> {
    let digits = |u: u64| if u < 10 { 1 } else { u.ilog10() as usize + 1 };
    if let Some(u) = n.as_u64() {
        Some(digits(u))
    } else {
        n.as_i64().map(|i| 1 + digits(i.unsigned_abs()))
    }
}

/// The JSON length of `v` if it is over `limit`, else a bound of it that is within `limit`:
/// `bound` (a known bound) when it is within, else the tight bound when that is, else the
/// exact length.
fn len_against(v: &Value, bound: usize, limit: usize) -> usize {
    if bound <= limit {
        return bound;
    }
    let tight = json_len_tight_bound(v);
    if tight <= limit {
        tight
    } else {
        json_len(v)
    }
}

impl Execution {
    /// The output text of a Pass or Choice state that puts `result` (evaluated from
    /// `template`, if it came from one) into its input with `rp`, written from texts already
    /// there instead of from the whole output value: the input's text (in its Entered event)
    /// for `ResultPath: null`; the result's text from the template's constant pieces for `$`;
    /// the input's text with one field set (`splice`) for `$.name`. `None` where that does not
    /// apply; the text is then written from the value.
    ///
    /// The text comes with its value spans where they are known: the input's for `null`,
    /// updated by the splice for `$.name` (the input's spans, kept by the fiber, or found by
    /// scanning its text when the fiber has none). `input` is the state's input, for the
    /// position of the field set among its fields.
    fn passed_text(
        &mut self,
        fid: FiberId,
        state: &State,
        rp: &ResultPath,
        result: &Value,
        template: Option<&crate::template::Template>,
        input: Option<&Map<String, Value>>,
    ) -> Option<(String, Option<crate::splice::Spans>)> {
        // The input's spans are the fiber's until it leaves the state: taken here, they go
        // to the output or are dropped.
        let spans = self.fibers[fid].spans.take();
        // The state's input text is in its Entered event.
        let entered = self.fibers[fid].entered;
        if !state.whole_paths {
            return None;
        }
        match rp {
            ResultPath::Discard => Some((self.history.entered_input(entered)?.to_string(), spans)),
            ResultPath::Replace => Some((template?.text_of(result)?, None)),
            ResultPath::At(p) => {
                let name = p.single_plain_field()?;
                let text = self.history.entered_input(entered)?;
                let input = input?;
                let mut spans = match spans {
                    Some(s) if s.len() == input.len() => {
                        debug_assert_eq!(
                            Some(&s),
                            crate::splice::spans_of(text).as_ref(),
                            "kept spans of an input text"
                        );
                        s
                    }
                    _ => crate::splice::spans_of(text)?,
                };
                let at = input
                    .keys()
                    .position(|k| crate::jsonpath::same_key(k, name.as_str()));
                // The result's text is written straight into the output's, from the
                // template's pieces where it has them.
                let hint = template.map_or(16, |t| t.text_len_hint() + 16);
                let write = |out: &mut String| {
                    let start = out.len();
                    if let Some(t) = template {
                        if t.write_text(result, out).is_some() {
                            return Some(());
                        }
                        out.truncate(start);
                    }
                    out.push_str(&to_json(result));
                    Some(())
                };
                let out = crate::splice::set_field_with(text, &mut spans, at, name, hint, write)?;
                debug_assert_eq!(
                    Some(&spans),
                    crate::splice::spans_of(&out).as_ref(),
                    "spans of a spliced text"
                );
                Some((out, Some(spans)))
            }
        }
    }

    /// Notes that a Standard state's output is its input unchanged (when its paths are `$`):
    /// its output text is then its input's.
    fn output_is_input(&mut self, fid: FiberId, state: &State) {
        if self.history.keeps_events() {
            self.output_text =
                self.passed_text(fid, state, &ResultPath::Discard, &Value::Null, None, None);
        }
    }

    /// The same execution with a deliberate bug, for testing the property tests (see
    /// [`Fault`]). Only test builds with the `faults` feature have this.
    #[cfg(feature = "faults")]
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.fault = Some(fault);
        self
    }

    /// Whether this execution has the given deliberate bug; always false without the
    /// `faults` feature, so the checks cost nothing in real builds.
    #[inline]
    fn faulty(&self, fault: Fault) -> bool {
        #[cfg(feature = "faults")]
        {
            self.fault == Some(fault)
        }
        #[cfg(not(feature = "faults"))]
        {
            let _ = fault;
            false
        }
    }

    /// Records ExecutionStarted and creates the top-level fiber, with a copy of the input when
    /// `keep_input` (otherwise the input itself, and `execution_input` is left null).
    fn begin(&mut self, keep_input: bool) {
        let now = self.now;
        let keep = self.history.keeps_events();
        let input_text = keep.then(|| to_json(&self.execution_input));
        // Built only when kept: an Express execution only numbers its events.
        let role_arn = &self.config.role_arn;
        self.history
            .record_with(EventId(0), now, false, || EventKind::ExecutionStarted {
                input: input_text.clone().unwrap_or_default(),
                role_arn: role_arn.clone(),
            });
        let input = if keep_input {
            self.execution_input.clone()
        } else {
            std::mem::take(&mut self.execution_input)
        };
        let top = self.top_machine();
        let (machine, current) = (top.id, top.start);
        self.fibers.push(Fiber {
            machine,
            current,
            phase: Phase::Enter(input),
            last: EventId(0),
            wake: now,
            entered: EventId(0),
            entered_at: now,
            parent: None,
            item: None,
            text: input_text,
            spans: None,
            bound: usize::MAX,
            variables: Some(Arc::new(Map::new())),
            assigned: None,
        });
        self.free_fibers.clear();
        self.ended_fibers.clear();
        self.sched = sched::Sched::default();
        self.sched.add_fiber(0);
        self.refresh(0);
    }

    /// Tells the scheduler the fiber's current phase and wake-up time. Every change of
    /// `Fiber::phase` (other than in place within a Join or an Awaiting) or `Fiber::wake`
    /// goes through here, through [`Execution::set_phase`] or [`Execution::take_phase`], or,
    /// for the fiber being stepped, once at the end of [`Execution::step`].
    #[inline]
    fn refresh(&mut self, fid: FiberId) {
        let f = &self.fibers[fid];
        let slot = match f.phase {
            Phase::Enter(_) => sched::Slot::Enter,
            Phase::Sleeping(_) => sched::Slot::Sleeping(f.wake),
            Phase::Awaiting(_) => sched::Slot::Awaiting(f.wake),
            Phase::Join(_) | Phase::Finished => sched::Slot::Idle,
        };
        self.sched.update(fid, slot, self.now);
    }

    /// Sets a fiber's phase.
    #[inline]
    fn set_phase(&mut self, fid: FiberId, phase: Phase) {
        set_phase_of(&mut self.fibers[fid], phase);
        self.refresh(fid);
    }

    /// Sets a fiber's phase and the time it wakes up at (for Sleeping and Awaiting).
    fn set_phase_until(&mut self, fid: FiberId, wake: Timestamp, phase: Phase) {
        self.fibers[fid].wake = wake;
        self.set_phase(fid, phase);
    }

    /// Takes a fiber's phase out, leaving it Finished until the caller sets the next one.
    fn take_phase(&mut self, fid: FiberId) -> Phase {
        let phase = std::mem::replace(&mut self.fibers[fid].phase, Phase::Finished);
        self.refresh(fid);
        phase
    }

    /// Checks the scheduler's bookkeeping against a scan of every fiber, the way the step
    /// loop found runnable fibers before it kept them incrementally. Debug builds only, and
    /// only for small executions, since the scan is what made large Maps quadratic.
    #[cfg(debug_assertions)]
    fn check_sched(&self) {
        if self.fibers.len() > 2_000 {
            return;
        }
        let now = self.now;
        let mut runnable: Vec<FiberId> = (0..self.fibers.len())
            .filter(|&i| {
                let f = &self.fibers[i];
                match f.phase {
                    Phase::Enter(_) => true,
                    Phase::Sleeping(_) | Phase::Awaiting(_) => f.wake <= now,
                    _ => false,
                }
            })
            .collect();
        // In creation order, the scheduler's.
        runnable.sort_unstable_by_key(|&i| self.sched.seq(i));
        assert_eq!(runnable.len(), self.sched.ready.len(), "runnable fibers");
        for (k, &i) in runnable.iter().enumerate() {
            assert_eq!(self.sched.pick(k), i, "runnable fiber {k}");
        }
        for i in self.free_fibers.iter().chain(&self.ended_fibers) {
            assert!(
                matches!(self.fibers[*i].phase, Phase::Finished),
                "freed fiber {i}"
            );
        }
    }

    /// Runs every step that is due at the current time, in the order the seeded scheduler
    /// picks, until nothing more is due or the execution ends. The clock does not move.
    pub fn run_due(&mut self, handler: &mut dyn TaskHandler) -> Result<(), TaskHandlerError> {
        // Held for the loop, so that a step borrows its state from here (see `enter`).
        let machines = Arc::clone(&self.machines);
        while self.ended.is_none() {
            if let Some(outcome) = self.outcome.take() {
                let last = self.fibers[0].last;
                match outcome {
                    Ok(output) => {
                        let text = match self.fibers[0].text.take() {
                            Some(t) => Some(t),
                            None => self.history.keeps_events().then(|| to_json(&output)),
                        };
                        self.finish_succeeded(last, output, text)
                    }
                    Err(f) => self.finish_failed(last, f),
                }
                break;
            }
            // AWS's quota of 25,000 history events is a Standard workflow quota (Express
            // workflows keep no history).
            let standard = self.config.workflow_type == WorkflowType::Standard;
            let limit = if standard {
                MAX_HISTORY_EVENTS
            } else {
                EXPRESS_EVENT_GUARD
            };
            if self.history.len() + 2 > limit {
                // Assumption: AWS fails an execution whose history would exceed 25,000 events
                // with States.Runtime; the documentation names the limit, not the error text.
                let cause = if standard {
                    format!(
                        "The execution reached the maximum number of history events ({MAX_HISTORY_EVENTS})."
                    )
                } else {
                    format!(
                        "stepcheck stopped this Express execution after {EXPRESS_EVENT_GUARD} events: on the virtual clock a loop of states that take no time would never reach the five-minute limit."
                    )
                };
                let f = Failure::new("States.Runtime", cause);
                let last = self.history.last_id();
                self.finish_failed(last, f);
                break;
            }
            self.map_run_full_children();
            #[cfg(debug_assertions)]
            self.check_sched();
            // The runnable fibers, in ascending fiber index: those about to enter a state and
            // those whose wake-up time has come.
            let runnable = self.sched.ready.len();
            if runnable == 0 {
                if self.now >= self.deadline {
                    let last = self.history.last_id();
                    self.finish_timed_out(last);
                }
                break;
            }
            // One runnable fiber takes no draw, so single-branch runs never touch the
            // scheduler's generator.
            let pick = if runnable == 1 {
                self.sched.pick(0)
            } else {
                let k = self.scheduler.next_u64() % runnable as u64;
                self.sched.pick(k as usize)
            };
            self.step(handler, pick, &machines)?;
            if !self.ended_fibers.is_empty() {
                self.free_fibers.append(&mut self.ended_fibers);
            }
        }
        Ok(())
    }

    /// When something next happens by itself: the earliest timer of a sleeping state, or the
    /// execution's deadline when a state waits for a timer that comes later. `None` when the
    /// execution has ended, or when it can only go on through a callback (a task token
    /// answer), whose own timeouts do not count: a driver with other work may still have
    /// that answer coming.
    pub fn next_wake(&self) -> Option<Timestamp> {
        if self.ended.is_some() {
            return None;
        }
        if self.outcome.is_some() {
            return Some(self.now);
        }
        if self.sched.entering > 0 {
            return Some(self.now);
        }
        let next = self.sched.sleeping.first().map(|&(w, _)| w);
        next.map(|w| w.min(self.deadline))
    }

    /// The earliest time at which a state waiting for a callback times out (its
    /// HeartbeatSeconds or TimeoutSeconds), or the execution's deadline; `None` once ended.
    pub fn next_timeout(&self) -> Option<Timestamp> {
        if self.ended.is_some() {
            return None;
        }
        let t = self.sched.awaiting.first().map(|&(w, _)| w);
        Some(t.map_or(self.deadline, |w| w.min(self.deadline)))
    }

    /// Whether [`Execution::next_timeout`] was set by the definition: a state's
    /// TimeoutSeconds/HeartbeatSeconds or the machine's TimeoutSeconds, not only AWS's
    /// defaults (a year, 99999999 seconds).
    pub fn has_explicit_timeout(&self) -> bool {
        if self.top_machine().timeout_seconds.is_some() {
            return true;
        }
        self.sched.awaiting.iter().any(|&(_, seq)| {
            let f = &self.fibers[self.sched.fiber(seq)];
            let state = &self.machines[f.machine].states[f.current];
            matches!(&f.phase, Phase::Awaiting(_))
                && matches!(&state.kind, StateKind::Task(t) if t.timeout.is_some() || t.heartbeat.is_some())
        })
    }

    /// The Task states that wait for a callback, with their tokens.
    pub fn waiting_tasks(&self) -> Vec<WaitingTask> {
        let mut out = Vec::new();
        // In fiber order, as the list of live fibers gave them before the scheduler kept
        // the waiting ones by timeout.
        let mut waiting: Vec<sched::Seq> = self.sched.awaiting.iter().map(|&(_, s)| s).collect();
        waiting.sort_unstable();
        for seq in waiting {
            let f = &self.fibers[self.sched.fiber(seq)];
            if let Phase::Awaiting(a) = &f.phase {
                let state = &self.machines[f.machine].states[f.current];
                let resource = match &state.kind {
                    StateKind::Task(t) => t.resource.clone(),
                    _ => String::new(),
                };
                out.push(WaitingTask {
                    token: a.token.clone(),
                    state_name: state.name.0.to_string(),
                    resource,
                    input: a.input.clone(),
                    needs_worker: !a.worker_started,
                });
            }
        }
        out
    }

    /// The fiber waiting for `token`.
    fn awaiting(&self, token: &str) -> Result<FiberId, CallbackError> {
        let found = self
            .sched
            .awaiting
            .iter()
            .map(|&(_, seq)| self.sched.fiber(seq))
            .find(|&i| matches!(&self.fibers[i].phase, Phase::Awaiting(a) if a.token == token));
        match found {
            Some(i) => Ok(i),
            None if self.timed_out_tokens.iter().any(|t| t == token) => {
                Err(CallbackError::TaskTimedOut(token.to_string()))
            }
            None => Err(CallbackError::TaskDoesNotExist),
        }
    }

    /// Delivers an answer to the task waiting for `token`; it is recorded at the next
    /// [`Execution::run_due`].
    fn deliver(&mut self, token: &str, outcome: TaskOutcome) -> Result<(), CallbackError> {
        let fid = self.awaiting(token)?;
        let Phase::Awaiting(waiting) = self.take_phase(fid) else {
            return Err(CallbackError::TaskDoesNotExist);
        };
        let mut run = waiting.run;
        if !waiting.worker_started {
            // An answer without GetActivityTask: the activity started and ended at once.
            let prev = self.fibers[fid].last;
            let id = self.history.record(
                prev,
                self.now,
                EventKind::ActivityStarted { worker_name: None },
            );
            self.fibers[fid].last = id;
            run.started = id;
        }
        let response = crate::task::TaskResponse {
            outcome,
            duration_ms: 0,
            submitted: None,
        };
        let now = self.now;
        self.set_phase_until(
            fid,
            now,
            Phase::Sleeping(Resume::TaskAnswer(Box::new(run), Box::new(response), None)),
        );
        Ok(())
    }

    /// SendTaskSuccess: the task waiting for `token` succeeds with `output`.
    pub fn send_task_success(&mut self, token: &str, output: Value) -> Result<(), CallbackError> {
        self.deliver(token, TaskOutcome::Succeeded(output))
    }

    /// SendTaskFailure: the task waiting for `token` fails with `error` and `cause`.
    pub fn send_task_failure(
        &mut self,
        token: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<(), CallbackError> {
        // AWS records a failure sent without an error name with no error field; the state's
        // Retry and Catch then see an empty error name.
        self.deliver(
            token,
            TaskOutcome::Failed {
                error: error.unwrap_or_default(),
                cause,
            },
        )
    }

    /// SendTaskHeartbeat: the task waiting for `token` gets a new HeartbeatSeconds period.
    pub fn send_task_heartbeat(&mut self, token: &str) -> Result<(), CallbackError> {
        let fid = self.awaiting(token)?;
        let now = self.now;
        if let Phase::Awaiting(a) = &mut self.fibers[fid].phase {
            if let Some(h) = a.heartbeat_ms {
                a.heartbeat_at = Some(now.plus_millis(h.min(i64::MAX as u64) as i64));
            }
            let deadline = a.deadline();
            self.fibers[fid].wake = deadline;
            self.refresh(fid);
        }
        Ok(())
    }

    /// GetActivityTask handed the activity task waiting for `token` to a worker: records
    /// ActivityStarted and starts its heartbeat clock.
    pub fn activity_started(
        &mut self,
        token: &str,
        worker_name: Option<String>,
    ) -> Result<(), CallbackError> {
        let fid = self.awaiting(token)?;
        let now = self.now;
        let prev = self.fibers[fid].last;
        let Phase::Awaiting(a) = &mut self.fibers[fid].phase else {
            return Err(CallbackError::TaskDoesNotExist);
        };
        if a.worker_started {
            return Ok(());
        }
        a.worker_started = true;
        if let Some(h) = a.heartbeat_ms {
            a.heartbeat_at = Some(now.plus_millis(h.min(i64::MAX as u64) as i64));
        }
        let deadline = a.deadline();
        let id = self
            .history
            .record(prev, now, EventKind::ActivityStarted { worker_name });
        if let Phase::Awaiting(a) = &mut self.fibers[fid].phase {
            a.run.started = id;
        }
        self.fibers[fid].last = id;
        self.fibers[fid].wake = deadline;
        self.refresh(fid);
        Ok(())
    }

    /// StopExecution: the execution ends as Aborted, with ExecutionAborted after its latest
    /// event. Does nothing to an execution that has already ended.
    pub fn stop(&mut self, error: Option<String>, cause: Option<String>) {
        if self.ended.is_some() {
            return;
        }
        // Assumption: AWS records only ExecutionAborted when an execution is stopped (no
        // <Type>StateAborted for the states that were running); its documentation shows
        // no other event for StopExecution.
        let prev = self.history.last_id();
        self.history.record(
            prev,
            self.now,
            EventKind::ExecutionAborted {
                error: error.clone(),
                cause: cause.clone(),
            },
        );
        self.end(ExecutionStatus::Aborted, None, error, cause);
    }

    /// Moves the execution's clock forward to `t` (never backwards). Steps that become due
    /// run at the next [`Execution::run_due`].
    pub fn advance_to(&mut self, t: Timestamp) {
        if t > self.now {
            self.sched.advance(self.now, t);
            self.now = t;
        }
    }

    /// The names of the states that wait for something from outside (a task token answer).
    pub fn waiting_states(&self) -> Vec<String> {
        self.waiting_tasks()
            .into_iter()
            .map(|w| w.state_name)
            .collect()
    }

    /// The execution's current time.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Where the execution is: running, or how it ended.
    pub fn status(&self) -> ExecutionStatus {
        self.ended
            .as_ref()
            .map_or(ExecutionStatus::Running, |e| e.status)
    }

    /// The configuration it runs with (names, ARNs, type).
    pub fn config(&self) -> &ExecutionConfig {
        &self.config
    }

    /// Drops the events of an ended execution's history: a driver that keeps many ended
    /// executions (a server) bounds its memory so. [`Execution::history`] is empty
    /// afterwards and [`Execution::history_forgotten`] true; the status, input, output and
    /// times stay. Does nothing to a running execution.
    pub fn forget_history(&mut self) {
        if self.ended.is_some() {
            self.spares = Spares::default();
            self.history.forget();
        }
    }

    /// Gives back the memory an ended execution no longer needs: the history list's unused
    /// room and the spare maps. For a driver that keeps ended executions (a server).
    pub fn compact(&mut self) {
        if self.ended.is_some() {
            self.history.shrink();
            self.spares = Spares::default();
        }
    }

    /// Whether [`Execution::forget_history`] dropped the history's events.
    pub fn history_forgotten(&self) -> bool {
        self.history.is_forgotten()
    }

    /// The execution's input.
    pub fn input(&self) -> &Value {
        &self.execution_input
    }

    /// When it started.
    pub fn start_time(&self) -> Timestamp {
        self.start
    }

    /// The history so far (empty for Express, which keeps none).
    pub fn history(&self) -> &[Event] {
        self.history.events()
    }

    /// How it ended, once it has: output, error, cause and stop time.
    pub fn ending(&self) -> Option<&Ending> {
        self.ended.as_ref()
    }

    /// The result of an ended execution (a running one reports status Running).
    pub fn into_result(self) -> ExecutionResult {
        let (status, output, error, cause, stop_time) = match self.ended {
            Some(e) => (e.status, e.output, e.error, e.cause, e.stop_time),
            None => (ExecutionStatus::Running, None, None, None, self.now),
        };
        let state_entries = self.history.state_entries();
        ExecutionResult {
            status,
            output,
            error,
            cause,
            state_entries,
            history: self.history.into_events(),
            start_time: self.start,
            stop_time,
        }
    }

    /// Applies an optional payload template (Parameters, ResultSelector, ItemSelector) to
    /// `input`, or passes `input` on when there is none.
    fn apply_template(
        &mut self,
        template: Option<&crate::template::Template>,
        input: Cow<'_, Value>,
        context: &Value,
    ) -> Result<Value, StepError> {
        match template {
            Some(t) => {
                let scope = Scope {
                    input: &input,
                    context,
                    variables: &self.variables,
                };
                t.eval(&scope, &mut self.rng, &mut self.spares)
                    .map_err(|e| (Cow::Owned(e.error), e.message))
            }
            None => Ok(input.into_owned()),
        }
    }

    /// Records an event for a fiber, after its latest one.
    fn record(&mut self, fid: FiberId, kind: EventKind) -> EventId {
        let now = self.now;
        let id = self.history.record(self.fibers[fid].last, now, kind);
        self.fibers[fid].last = id;
        id
    }

    /// Runs one step of a fiber: entering a state, or what comes after a sleep.
    #[inline]
    fn step(
        &mut self,
        h: &mut dyn TaskHandler,
        fid: FiberId,
        machines: &[Arc<StateMachine>],
    ) -> Result<(), TaskHandlerError> {
        self.use_variables_of(fid);
        // The phase is taken out without telling the scheduler, which hears of the fiber's
        // phase once, when the step is over: a fiber that goes from one state to the next
        // is runnable before and after, and telling the scheduler it was idle in between
        // cost two updates of its tree a step. Nothing in a step reads the scheduler's
        // record of the fiber being stepped; the step loop reads it when the step is over.
        let phase = std::mem::replace(&mut self.fibers[fid].phase, Phase::Finished);
        let done = self.step_phase(h, fid, phase, machines);
        self.refresh(fid);
        done
    }

    /// [`Execution::step`] on the phase taken out of the fiber.
    #[inline]
    fn step_phase(
        &mut self,
        h: &mut dyn TaskHandler,
        fid: FiberId,
        phase: Phase,
        machines: &[Arc<StateMachine>],
    ) -> Result<(), TaskHandlerError> {
        match phase {
            Phase::Enter(input) => self.enter(h, fid, input, machines),
            Phase::Sleeping(resume) => self.resume(h, fid, resume),
            Phase::Awaiting(waiting) => {
                // Only a due timeout makes an awaiting fiber runnable.
                let state = self.state_of(fid);
                let StateKind::Task(spec) = &state.kind else {
                    return Ok(());
                };
                let error = waiting.timeout_error();
                self.timed_out_tokens.push(waiting.token.clone());
                let run = waiting.run;
                let response = crate::task::TaskResponse::success(Value::Null);
                self.task_answer(fid, spec, run, response, Some(error))
            }
            other => {
                self.fibers[fid].phase = other;
                Ok(())
            }
        }
    }

    /// Makes `fid`'s variables the ones expressions read.
    fn use_variables_of(&mut self, fid: FiberId) {
        // Fibers that assign nothing share their parent's map: no reference count to touch
        // (an atomic operation, which costs far more than its one instruction) when the
        // step loop moves between them.
        let vars = self.variables_of(fid);
        if !Arc::ptr_eq(&self.variables, vars) {
            self.variables = vars.clone();
        }
    }

    /// The variables `fid` reads: its own, or those of its nearest ancestor that has its
    /// own (the top-level fiber always does).
    fn variables_of(&self, mut fid: FiberId) -> &Arc<Map<String, Value>> {
        loop {
            let f = &self.fibers[fid];
            match (&f.variables, f.parent) {
                (Some(vars), _) => return vars,
                (None, Some((parent, _))) => fid = parent,
                // Only the top-level fiber has no parent, and it has variables of its own.
                (None, None) => return &self.variables,
            }
        }
    }

    /// Evaluates an `Assign` with `$` = `input` and keeps the result on the fiber until the
    /// state exits. Every assignment reads the variables as they were before the state
    /// (AWS: the assignments of one Assign happen in parallel).
    #[inline(always)]
    fn eval_assign(
        &mut self,
        fid: FiberId,
        template: Option<&crate::template::Template>,
        input: &Value,
        context: &Value,
    ) -> Result<(), StepError> {
        let Some(t) = template else {
            return Ok(());
        };
        let scope = Scope {
            input,
            context,
            variables: &self.variables,
        };
        let value = t
            .eval(&scope, &mut self.rng, &mut self.spares)
            .map_err(|e| (Cow::Owned(e.error), e.message))?;
        self.store_assigned(fid, value)
    }

    /// Keeps an evaluated `Assign` on the fiber until the state exits.
    fn store_assigned(&mut self, fid: FiberId, value: Value) -> Result<(), StepError> {
        let Value::Object(assigned) = value else {
            return Err((
                Cow::Borrowed("States.Runtime"),
                "The value of the field 'Assign' must be an object".to_string(),
            ));
        };
        // AWS: at most 256 KiB of variables per Assign. Assumption: exceeding it fails the
        // state like an oversized result (States.DataLimitExceeded); the wording is ours.
        let size: usize = assigned.iter().map(|(k, v)| k.len() + json_len(v)).sum();
        if size > VARIABLES_LIMIT_BYTES {
            let name = self.state_of(fid).name.0.clone();
            return Err((
                Cow::Borrowed("States.DataLimitExceeded"),
                format!(
                    "The state '{name}' assigned variables with a size exceeding the maximum number of bytes service limit."
                ),
            ));
        }
        self.fibers[fid].assigned = Some(Box::new(assigned));
        Ok(())
    }

    /// The top-level machine: the compiler builds it after every machine nested in it, so it
    /// is the last of `machines`.
    fn top_machine(&self) -> &StateMachine {
        &self.machines[self.machines.len() - 1]
    }

    fn state_of(&self, fid: FiberId) -> StateRef {
        let f = &self.fibers[fid];
        StateRef {
            machine: self.machines[f.machine].clone(),
            index: f.current,
        }
    }

    fn enter(
        &mut self,
        h: &mut dyn TaskHandler,
        fid: FiberId,
        input: Value,
        machines: &[Arc<StateMachine>],
    ) -> Result<(), TaskHandlerError> {
        // The state is borrowed from the step loop's list of machines rather than from a
        // clone of the machine's `Arc` (`state_of`), whose two atomic operations cost more
        // than the rest of the look-up.
        let f = &self.fibers[fid];
        let state: &State = &machines[f.machine].states[f.current];
        // The fiber's record is looked up once for the entered event's bookkeeping. Its text
        // is the entered event's, or dropped where the history keeps no event.
        let now = self.now;
        let f = &mut self.fibers[fid];
        let cached = f.text.take();
        let entered = self
            .history
            .record_with(f.last, now, true, || EventKind::StateEntered {
                state_type: state.kind.type_name(),
                name: state.name.0.clone(),
                input: cached.unwrap_or_else(|| to_json(&input)),
            });
        f.last = entered;
        f.entered = entered;
        f.entered_at = now;
        match &state.kind {
            StateKind::Wait(wait) => {
                let context = self.context_for(fid, 0);
                let now = self.now;
                let until = match state.jsonata.as_deref() {
                    Some(j) => self.jwait(fid, wait, j, input, &context),
                    None => take_path(state.input_path.as_ref(), input, &context).and_then(
                        |effective| {
                            let until =
                                wait_until(wait, now, &effective, &context, &self.variables)?;
                            self.eval_assign(fid, state.assign.as_ref(), &effective, &context)?;
                            let output =
                                take_path(state.output_path.as_ref(), effective, &context)?;
                            Ok((until, output))
                        },
                    ),
                };
                match until {
                    Ok((until, output)) => {
                        let phase = Phase::Sleeping(Resume::WaitDone(output));
                        self.set_phase_until(fid, until, phase);
                    }
                    Err((error, detail)) => {
                        let f = self.runtime_failure(state, entered, &error, &detail);
                        self.finish_fiber(fid, Err(f));
                    }
                }
                Ok(())
            }
            StateKind::Task(spec) => {
                let run = TaskRun {
                    input,
                    retry_count: 0,
                    attempts_per_retrier: vec![0; spec.retry.len()],
                    started: EventId(0),
                };
                self.task_attempt(h, fid, spec, run)
            }
            StateKind::Parallel(spec) => {
                self.parallel_start(fid, spec, input, vec![0; spec.retry.len()]);
                Ok(())
            }
            StateKind::Map(spec) if spec.distributed.is_some() => {
                self.map_run_start(h, fid, spec, input, vec![0; spec.retry.len()])
            }
            StateKind::Map(spec) => {
                self.map_start(fid, spec, input, vec![0; spec.retry.len()]);
                Ok(())
            }
            _ => {
                // Most definitions never read the context: they borrow a null that is never
                // built or dropped.
                let built;
                let context = if self.uses_context {
                    built = self.build_context(fid, 0);
                    &built
                } else {
                    &NULL
                };
                let outcome = self.state(fid, state, input, entered, context);
                self.complete_state(fid, state, outcome)
            }
        }
    }

    /// A state has finished with `outcome`: exit it and move on, or end the fiber.
    fn complete(&mut self, fid: FiberId, outcome: Outcome) -> Result<(), TaskHandlerError> {
        let state = self.state_of(fid);
        self.complete_state(fid, &state, outcome)
    }

    /// [`Execution::complete`] with the fiber's current state at hand: an instant state
    /// completes in the step that entered it, which holds its state already (taking it again
    /// would touch the machine's reference count twice more).
    fn complete_state(
        &mut self,
        fid: FiberId,
        state: &State,
        outcome: Outcome,
    ) -> Result<(), TaskHandlerError> {
        let assigned = self.fibers[fid].assigned.take();
        let output_bound = self.output_bound.take();
        let output_text = self.output_text.take();
        match outcome {
            Outcome::Done(output, next) => {
                let keep = self.history.keeps_events();
                let (text, spans) = match output_text {
                    Some((t, spans)) if keep => {
                        debug_assert_eq!(t, to_json(&output), "spliced output text");
                        (Some(t), spans)
                    }
                    _ => (keep.then(|| to_json_sized(&output, self.text_hint)), None),
                };
                // The output's length, or an upper bound of it, for the 256 KiB check.
                let bound = match &text {
                    Some(t) => {
                        self.text_hint = t.len();
                        t.len()
                    }
                    None => {
                        let b = output_bound
                            .filter(|b| *b <= PAYLOAD_LIMIT_BYTES)
                            .unwrap_or_else(|| json_len_bound(&output));
                        // Debug builds check every bound against the exact length, so every
                        // Express test checks the bounds a state worked out from its input's.
                        debug_assert!(b >= json_len(&output), "output bound {b} too low");
                        len_against(&output, b, PAYLOAD_LIMIT_BYTES)
                    }
                };
                let too_big = bound > PAYLOAD_LIMIT_BYTES;
                if too_big {
                    let f = Failure::new(
                        "States.DataLimitExceeded",
                        format!(
                            "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                            state.name
                        ),
                    );
                    self.finish_fiber(fid, Err(f));
                    return Ok(());
                }
                let assigned_text = assigned.map(|vars| {
                    let mut texts = Box::new(Map::with_capacity(vars.len()));
                    // A branch or iteration that read its parent's variables gets its own.
                    let own = match self.fibers[fid].variables.take() {
                        Some(own) => own,
                        None => self.variables_of(fid).clone(),
                    };
                    let fiber_vars = Arc::make_mut(self.fibers[fid].variables.insert(own));
                    for (k, v) in *vars {
                        if keep {
                            texts.insert(k.clone(), Value::String(to_json(&v)));
                        }
                        fiber_vars.insert(k, v);
                    }
                    texts
                });
                if assigned_text.is_some() {
                    self.use_variables_of(fid);
                }
                let now = self.now;
                let f = &mut self.fibers[fid];
                f.last = self
                    .history
                    .record_with(f.last, now, false, || EventKind::StateExited {
                        state_type: state.kind.type_name(),
                        name: state.name.0.clone(),
                        output: text.clone().unwrap_or_default(),
                        assigned: assigned_text,
                    });
                f.spans = spans;
                f.text = text;
                f.bound = bound;
                match next {
                    Transition::Next(i) => {
                        f.current = i;
                        set_phase_of(f, Phase::Enter(output));
                        self.refresh(fid);
                    }
                    Transition::End | Transition::None => self.finish_fiber(fid, Ok(output)),
                }
                Ok(())
            }
            Outcome::Failed(f) => {
                self.finish_fiber(fid, Err(f));
                Ok(())
            }
        }
    }

    /// A fiber has ended: hand its result to its parent, or to the execution.
    fn finish_fiber(&mut self, fid: FiberId, mut result: Result<Value, Failure>) {
        if let Err(f) = &mut result {
            self.evaluation_failed(fid, f);
        }
        self.set_phase(fid, Phase::Finished);
        match self.fibers[fid].parent {
            None => self.outcome = Some(result),
            Some((parent, slot)) => self.child_finished(parent, slot, fid, result),
        }
    }

    fn resume(
        &mut self,
        h: &mut dyn TaskHandler,
        fid: FiberId,
        resume: Resume,
    ) -> Result<(), TaskHandlerError> {
        let state = self.state_of(fid);
        match resume {
            Resume::WaitDone(output) => self.complete(fid, Outcome::Done(output, state.next)),
            Resume::TaskAnswer(run, response, timed_out) => {
                let StateKind::Task(spec) = &state.kind else {
                    return Ok(());
                };
                self.task_answer(fid, spec, *run, *response, timed_out)
            }
            Resume::TaskRetry(run) => {
                let StateKind::Task(spec) = &state.kind else {
                    return Ok(());
                };
                self.task_attempt(h, fid, spec, *run)
            }
            Resume::MapRunDone(join) => self.map_run_finish(h, fid, join),
            Resume::JoinRetry(retry) => {
                let (input, attempts) = *retry;
                match &state.kind {
                    StateKind::Map(spec) if spec.distributed.is_some() => {
                        return self.map_run_start(h, fid, spec, input, attempts)
                    }
                    StateKind::Parallel(spec) => self.parallel_start(fid, spec, input, attempts),
                    StateKind::Map(spec) => self.map_start(fid, spec, input, attempts),
                    _ => {}
                }
                Ok(())
            }
        }
    }

    fn finish_succeeded(&mut self, prev: EventId, output: Value, text: Option<String>) {
        let now = self.now;
        self.history.record(
            prev,
            now,
            EventKind::ExecutionSucceeded {
                output: text.unwrap_or_default(),
            },
        );
        self.end(ExecutionStatus::Succeeded, Some(output), None, None);
    }

    fn finish_failed(&mut self, prev: EventId, f: Failure) {
        let now = self.now;
        self.history.record(
            prev,
            now,
            EventKind::ExecutionFailed {
                error: f.error.clone(),
                cause: f.cause.clone(),
            },
        );
        self.end(ExecutionStatus::Failed, None, f.error, f.cause);
    }

    fn finish_timed_out(&mut self, prev: EventId) {
        // The deadline is when it timed out, even when the driver's clock went past it.
        self.now = self.deadline;
        let now = self.now;
        // Assumption: DescribeExecution of a timed-out execution reports the error
        // States.Timeout with no cause; the timed-out event carries the same.
        let error = Some("States.Timeout".to_string());
        self.history.record(
            prev,
            now,
            EventKind::ExecutionTimedOut {
                error: error.clone(),
                cause: None,
            },
        );
        self.end(ExecutionStatus::TimedOut, None, error, None);
    }

    /// Marks the execution ended; every fiber stops.
    fn end(
        &mut self,
        status: ExecutionStatus,
        output: Option<Value>,
        error: Option<String>,
        cause: Option<String>,
    ) {
        for f in &mut self.fibers {
            f.phase = Phase::Finished;
        }
        self.sched.clear();
        self.ended = Some(Ending {
            status,
            output,
            error,
            cause,
            stop_time: self.now,
        });
    }

    /// The context object of a fiber's current state, or null when the definition never
    /// reads it.
    #[inline]
    fn context_for(&self, fid: FiberId, retry_count: u32) -> Value {
        if !self.uses_context {
            return Value::Null;
        }
        self.build_context(fid, retry_count)
    }

    /// [`Execution::context_for`] of a definition that reads the context.
    fn build_context(&self, fid: FiberId, retry_count: u32) -> Value {
        let f = &self.fibers[fid];
        let state = &self.machines[f.machine].states[f.current];
        let entered_at = f.entered_at;
        let mut ctx = serde_json::json!({
            "Execution": {
                "Id": self.config.execution_arn(),
                "Input": self.execution_input,
                "Name": self.config.execution_name,
                "RoleArn": self.config.role_arn,
                "StartTime": self.start.to_rfc3339(),
                "RedriveCount": self.redrive_count,
            },
            "StateMachine": {
                "Id": self.config.state_machine_arn(),
                "Name": self.config.state_machine_name,
            },
            "State": {
                "EnteredTime": entered_at.to_rfc3339(),
                "Name": state.name.as_str(),
                "RetryCount": retry_count,
            },
        });
        // Recorded on AWS: the context of a Pass state has no State.RetryCount. Assumption:
        // only the states that can retry (Task, Parallel, Map) carry it.
        if !matches!(
            state.kind,
            StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_)
        ) {
            if let Some(st) = ctx["State"].as_object_mut() {
                st.remove("RetryCount");
            }
        }
        if let Some((index, value)) = f.item.as_deref() {
            ctx["Map"] = serde_json::json!({"Item": {"Index": index, "Value": value}});
        }
        self.child_execution_context(fid, &mut ctx);
        ctx
    }

    /// The prefix AWS puts before the detail of a run-time error in a state.
    fn runtime_failure(
        &mut self,
        state: &State,
        entered: EventId,
        error: &str,
        detail: &str,
    ) -> Failure {
        let mut f = Failure::new(
            error,
            format!(
                "An error occurred while executing the state '{}' (entered at the event id #{}). {}",
                state.name, entered, detail
            ),
        );
        if error == crate::query::QUERY_EVALUATION_ERROR {
            f.evaluation = Some(self.query_location.take().flatten());
        }
        f
    }

    /// The states that finish at once: Pass, Choice, Succeed, Fail.
    fn state(
        &mut self,
        fid: FiberId,
        state: &State,
        input: Value,
        entered: EventId,
        context: &Value,
    ) -> Outcome {
        macro_rules! try_or_fail {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err((error, detail)) => {
                        return Outcome::Failed(
                            self.runtime_failure(&state, entered, &error, &detail),
                        )
                    }
                }
            };
        }
        if let Some(j) = &state.jsonata {
            return self.jinstant(fid, state, j, input, entered, context);
        }
        match &state.kind {
            StateKind::Fail { error, cause } => {
                let error = try_or_fail!(self.error_text(error, "Error", &input, context));
                let cause = try_or_fail!(self.error_text(cause, "Cause", &input, context));
                Outcome::Failed(Failure {
                    error,
                    cause,
                    from_task: false,
                    evaluation: None,
                })
            }
            // The commonest Pass state: Parameters whose result is the output (InputPath,
            // ResultPath and OutputPath all `$`). The general arm below does the same; this one
            // reads the input in place and hands the result on without passing it through
            // the path steps, each of which moved the 72-byte value once more (a fifth of the
            // state's own cost).
            StateKind::Pass {
                parameters: Some(t),
                result_path: ResultPath::Replace,
                ..
            } if state.whole_paths => {
                let scope = Scope {
                    input: &input,
                    context,
                    variables: &self.variables,
                };
                let result = try_or_fail!(t
                    .eval(&scope, &mut self.rng, &mut self.spares)
                    .map_err(|e| (Cow::Owned(e.error), e.message)));
                try_or_fail!(self.eval_assign(fid, state.assign.as_ref(), &result, context));
                if self.history.keeps_events() {
                    self.output_text = t.text_of(&result).map(|text| (text, None));
                } else {
                    self.output_bound = t.bound_of(self.fibers[fid].bound);
                }
                self.spares.recycle(input);
                Outcome::Done(result, state.next)
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
                            context
                        ));
                        let scope = Scope {
                            input: &effective,
                            context,
                            variables: &self.variables,
                        };
                        try_or_fail!(t
                            .eval(&scope, &mut self.rng, &mut self.spares)
                            .map_err(|e| (Cow::Owned(e.error), e.message)))
                    }
                    (None, Some(r)) => r.clone(),
                    (None, None) => match result_path {
                        // The effective input is the result and replaces the input: move it.
                        ResultPath::Replace => {
                            let output =
                                try_or_fail!(take_path(state.input_path.as_ref(), input, context));
                            try_or_fail!(self.eval_assign(
                                fid,
                                state.assign.as_ref(),
                                &output,
                                context
                            ));
                            let output = try_or_fail!(take_path(
                                state.output_path.as_ref(),
                                output,
                                context
                            ));
                            self.output_is_input(fid, state);
                            return Outcome::Done(output, state.next);
                        }
                        ResultPath::Discard => {
                            // Assumption: `$` in Assign is the Pass state's result, which
                            // is its effective input when it has neither Parameters nor
                            // Result, even though ResultPath discards it.
                            let effective = try_or_fail!(effective_input(
                                state.input_path.as_ref(),
                                &input,
                                context
                            ));
                            try_or_fail!(self.eval_assign(
                                fid,
                                state.assign.as_ref(),
                                &effective,
                                context
                            ));
                            let output =
                                try_or_fail!(take_path(state.output_path.as_ref(), input, context));
                            self.output_is_input(fid, state);
                            return Outcome::Done(output, state.next);
                        }
                        ResultPath::At(_) => try_or_fail!(effective_input(
                            state.input_path.as_ref(),
                            &input,
                            context
                        ))
                        .into_owned(),
                    },
                };
                // `$` in a Pass state's Assign is its result (Parameters, Result or the
                // effective input), before ResultPath and OutputPath.
                try_or_fail!(self.eval_assign(fid, state.assign.as_ref(), &result, context));
                // Standard executions measure the output's text, Express ones bound it.
                let bound = self.fibers[fid].bound;
                let (output_bound, output_text) = if self.history.keeps_events() {
                    let template = parameters.as_ref();
                    (
                        None,
                        self.passed_text(
                            fid,
                            state,
                            result_path,
                            &result,
                            template,
                            input.as_object(),
                        ),
                    )
                } else {
                    (
                        passed_bound(state, bound, result_path, &result, parameters.as_ref()),
                        None,
                    )
                };
                let combined = try_or_fail!(apply_result_path(
                    result_path,
                    input,
                    result,
                    &mut self.spares
                ));
                let output = try_or_fail!(take_path(state.output_path.as_ref(), combined, context));
                self.output_bound = output_bound;
                self.output_text = output_text;
                Outcome::Done(output, state.next)
            }
            StateKind::Succeed => {
                let effective = try_or_fail!(take_path(state.input_path.as_ref(), input, context));
                let output =
                    try_or_fail!(take_path(state.output_path.as_ref(), effective, context));
                Outcome::Done(output, Transition::End)
            }
            StateKind::Choice { choices, default } => {
                let effective = try_or_fail!(take_path(state.input_path.as_ref(), input, context));
                let mut next = None;
                {
                    let scope = Scope {
                        input: &effective,
                        context,
                        variables: &self.variables,
                    };
                    for branch in choices {
                        let ChoiceTest::Rule(rule) = &branch.rule else {
                            continue;
                        };
                        let matched = try_or_fail!(rule
                            .evaluate(&scope)
                            .map_err(|e| (Cow::Owned(e.error), e.message)));
                        if matched {
                            next = Some((branch.next, branch.assign.as_ref()));
                            break;
                        }
                    }
                }
                let next = next.or_else(|| default.map(|d| (d, state.assign.as_ref())));
                let Some((next, assign)) = next else {
                    // AWS: an unmatched Choice without Default fails with States.NoChoiceMatched.
                    return Outcome::Failed(self.runtime_failure(
                        state,
                        entered,
                        "States.NoChoiceMatched",
                        "No Matches!",
                    ));
                };
                try_or_fail!(self.eval_assign(fid, assign, &effective, context));
                let output =
                    try_or_fail!(take_path(state.output_path.as_ref(), effective, context));
                if self.history.keeps_events() {
                    self.output_is_input(fid, state);
                } else {
                    let bound = self.fibers[fid].bound;
                    self.output_bound =
                        passed_bound(state, bound, &ResultPath::Discard, &output, None);
                }
                Outcome::Done(output, Transition::Next(next))
            }
            StateKind::Wait(_)
            | StateKind::Task(_)
            | StateKind::Parallel(_)
            | StateKind::Map(_) => Outcome::Failed(Failure::new(
                "States.Runtime",
                "internal error: a state that takes time was run as an instant one",
            )),
            StateKind::Unsupported { what } => Outcome::Failed(Failure::new(
                "States.Runtime",
                format!("not supported yet: {what}"),
            )),
        }
    }

    /// One task attempt: the scheduled/started events and the handler call; the answer
    /// arrives after the task's (virtual) duration, or through a callback.
    fn task_attempt(
        &mut self,
        h: &mut dyn TaskHandler,
        fid: FiberId,
        spec: &TaskSpec,
        mut run: TaskRun,
    ) -> Result<(), TaskHandlerError> {
        let state = self.state_of(fid);
        let entered = self.fibers[fid].entered;
        let token = self.issue_token();
        let mut context = self.context_for(fid, run.retry_count);
        if spec.kind.pattern() == Some(Pattern::WaitForTaskToken) && context.is_object() {
            context["Task"] = serde_json::json!({ "Token": token });
        }
        let prepared = (|| {
            let parameters = match &state.jsonata {
                Some(j) => self.jarguments(j, &run.input, &context)?,
                None => {
                    let effective =
                        effective_input(state.input_path.as_ref(), &run.input, &context)?;
                    self.apply_template(spec.parameters.as_ref(), effective, &context)?
                }
            };
            let timeout = self.resolve_seconds(
                spec.timeout.as_ref(),
                &run.input,
                &context,
                "TimeoutSecondsPath",
            )?;
            let heartbeat = self.resolve_seconds(
                spec.heartbeat.as_ref(),
                &run.input,
                &context,
                "HeartbeatSecondsPath",
            )?;
            Ok((parameters, timeout, heartbeat))
        })();
        let (parameters, timeout, heartbeat) = match prepared {
            Ok((p, t, h)) if crate::sync_task::is_sync(spec) => {
                (crate::sync_task::parameters(spec, p), t, h)
            }
            Ok(p) => p,
            Err((error, detail)) => {
                let f = self.runtime_failure(&state, entered, &error, &detail);
                return self.task_failed(fid, spec, run, f);
            }
        };
        let family = Family::of(spec);
        let keep = self.history.keeps_events();
        let params_text = if keep {
            to_json(&parameters)
        } else {
            String::new()
        };
        match family {
            Family::Lambda => {
                self.record(
                    fid,
                    EventKind::LambdaFunctionScheduled {
                        input: params_text,
                        resource: spec.resource.clone(),
                        timeout_in_seconds: timeout,
                    },
                );
                run.started = self.record(fid, EventKind::LambdaFunctionStarted);
            }
            Family::Activity => {
                run.started = self.record(
                    fid,
                    EventKind::ActivityScheduled {
                        resource: spec.resource.clone(),
                        input: params_text,
                        timeout_in_seconds: timeout,
                        heartbeat_in_seconds: heartbeat,
                    },
                );
            }
            Family::Task => {
                let (resource_type, resource) = service_names(spec);
                self.record(
                    fid,
                    EventKind::TaskScheduled(Box::new(TaskScheduledDetails {
                        resource_type: resource_type.clone(),
                        resource: resource.clone(),
                        region: self.config.region.clone(),
                        parameters: params_text,
                        timeout_in_seconds: timeout,
                        heartbeat_in_seconds: heartbeat,
                    })),
                );
                run.started = self.record(
                    fid,
                    EventKind::TaskStarted {
                        resource_type,
                        resource,
                    },
                );
            }
        }
        let request = TaskRequest {
            state_name: state.name.as_str(),
            resource: &spec.resource,
            parameters: &parameters,
            state_machine_name: &self.config.state_machine_name,
            execution_name: &self.config.execution_name,
            attempt: run.retry_count,
            task_token: Some(&token),
        };
        let mut response = h.invoke(&request)?;
        if crate::sync_task::is_sync(spec) {
            let (shaped, submitted) = crate::sync_task::answer(spec, response, keep);
            response = shaped;
            if let Some(event) = submitted {
                self.record(fid, event);
            }
        }
        // AWS's default task timeout is 99999999 seconds.
        let timeout_ms = timeout.unwrap_or(99_999_999).saturating_mul(1000);
        let heartbeat_ms = heartbeat.map(|h| h.saturating_mul(1000));
        let now = self.now;
        if let TaskOutcome::Pending { submitted } = response.outcome {
            if let (Some(out), Family::Task) = (submitted, family) {
                let (resource_type, resource) = service_names(spec);
                let output = if keep { to_json(&out) } else { String::new() };
                self.record(
                    fid,
                    EventKind::TaskSubmitted {
                        resource_type,
                        resource,
                        output,
                    },
                );
            }
            let timeout_at = now.plus_millis(timeout_ms.min(i64::MAX as u64) as i64);
            // An activity's heartbeat clock starts when a worker takes the task.
            let heartbeat_at = match family {
                Family::Activity => None,
                _ => heartbeat_ms.map(|h| now.plus_millis(h.min(i64::MAX as u64) as i64)),
            };
            let waiting = Awaiting {
                run,
                token,
                input: parameters,
                timeout_at,
                heartbeat_ms,
                heartbeat_at,
                worker_started: family != Family::Activity,
            };
            let deadline = waiting.deadline();
            self.set_phase_until(fid, deadline, Phase::Awaiting(Box::new(waiting)));
            return Ok(());
        }
        if family == Family::Activity {
            // A handler that answers an activity at once stands in for a worker.
            self.record(fid, EventKind::ActivityStarted { worker_name: None });
        }
        let duration = response.duration_ms;
        let (elapsed, timed_out) = match heartbeat_ms {
            // A mocked task sends no heartbeats: one that runs past HeartbeatSeconds has
            // missed its heartbeat.
            Some(h) if duration > h && h < timeout_ms => (h, Some("States.HeartbeatTimeout")),
            _ if duration > timeout_ms => (timeout_ms, Some("States.Timeout")),
            _ => (duration, None),
        };
        let wake = now.plus_millis(elapsed.min(i64::MAX as u64) as i64);
        let answer = Resume::TaskAnswer(Box::new(run), Box::new(response), timed_out);
        self.set_phase_until(fid, wake, Phase::Sleeping(answer));
        Ok(())
    }

    /// A new task token, unique in the execution and naming it, so that a service holding
    /// many executions can route a callback without a lookup table.
    fn issue_token(&mut self) -> String {
        if self.token_base.is_empty() {
            self.token_base = token_base(&self.config.execution_arn());
        }
        self.tokens_issued += 1;
        format!("{}.{}", self.token_base, self.tokens_issued)
    }

    /// The answer of a task attempt arrives: record it, then succeed, retry, catch or fail.
    fn task_answer(
        &mut self,
        fid: FiberId,
        spec: &TaskSpec,
        run: TaskRun,
        response: crate::task::TaskResponse,
        timed_out: Option<&'static str>,
    ) -> Result<(), TaskHandlerError> {
        let state = self.state_of(fid);
        let family = Family::of(spec);
        let lambda = family == Family::Lambda;
        let keep = self.history.keeps_events();
        if let Some(error) = timed_out {
            self.record(fid, family.timed_out(spec, error));
            let f = Failure {
                error: Some(error.into()),
                cause: None,
                from_task: true,
                evaluation: None,
            };
            return self.task_failed(fid, spec, run, f);
        }
        match response.outcome {
            TaskOutcome::Succeeded(v) => {
                let result = if lambda { lambda_payload(v) } else { v };
                if json_exceeds(&result, PAYLOAD_LIMIT_BYTES) {
                    let f = Failure {
                        from_task: true,
                        evaluation: None,
                        ..Failure::new(
                            "States.DataLimitExceeded",
                            format!(
                                "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                                spec.resource
                            ),
                        )
                    };
                    self.record(fid, family.failed(spec, f.error.clone(), f.cause.clone()));
                    return self.task_failed(fid, spec, run, f);
                }
                let output = if keep {
                    to_json(&result)
                } else {
                    String::new()
                };
                self.record(fid, family.succeeded(spec, output));
                let context = self.context_for(fid, run.retry_count);
                let outcome = self.result_stages(
                    fid,
                    &state,
                    (spec.result_selector.as_ref(), &spec.result_path),
                    run.input,
                    Cow::Owned(result),
                    &context,
                );
                self.complete(fid, outcome)
            }
            TaskOutcome::Failed { error, cause } => {
                self.record(fid, family.failed(spec, Some(error.clone()), cause.clone()));
                // A handler's States.Runtime (an exhausted mock, as in Step Functions Local)
                // stays terminal: nothing retries or catches it.
                let from_task = error != "States.Runtime";
                self.task_failed(
                    fid,
                    spec,
                    run,
                    Failure {
                        error: Some(error),
                        cause,
                        from_task,
                        evaluation: None,
                    },
                )
            }
            TaskOutcome::Pending { .. } => {
                let f = Failure::new(
                    "States.Runtime",
                    "internal error: a pending task answer was delivered as an answer",
                );
                self.task_failed(fid, spec, run, f)
            }
        }
    }

    /// A task attempt failed: retry after the backoff, catch, or fail the state.
    fn task_failed(
        &mut self,
        fid: FiberId,
        spec: &TaskSpec,
        mut run: TaskRun,
        mut failure: Failure,
    ) -> Result<(), TaskHandlerError> {
        self.evaluation_failed(fid, &mut failure);
        let error = failure.error.clone().unwrap_or_default();
        // Retry: the first retrier whose ErrorEquals matches decides.
        if let Some(i) = spec
            .retry
            .iter()
            .position(|r| error_matches(&r.errors, &error, failure.from_task))
        {
            let r = &spec.retry[i];
            let skip = u32::from(self.faulty(Fault::SkipLastRetry));
            if run.attempts_per_retrier[i] + skip < r.max_attempts {
                let off = u32::from(self.faulty(Fault::BackoffOffByOne));
                let delay = r.delay_ms(run.attempts_per_retrier[i] + off, &mut self.rng);
                run.attempts_per_retrier[i] += 1;
                run.retry_count += 1;
                let now = self.now;
                let phase = Phase::Sleeping(Resume::TaskRetry(Box::new(run)));
                self.set_phase_until(fid, now.plus_millis(delay), phase);
                return Ok(());
            }
        }
        let outcome = self.catch(fid, &spec.catch, run.input, failure);
        self.complete(fid, outcome)
    }

    /// The stages after a Task, Parallel or Map state has its result: ResultSelector, Assign
    /// (`$` is the selected result), ResultPath into the state's raw input, OutputPath.
    fn result_stages(
        &mut self,
        fid: FiberId,
        state: &State,
        (selector, result_path): (Option<&crate::template::Template>, &ResultPath),
        input: Value,
        result: Cow<'_, Value>,
        context: &Value,
    ) -> Outcome {
        let data = (|| {
            if let Some(j) = &state.jsonata {
                return self.jresult_stages(fid, j, &input, result.into_owned(), context);
            }
            let result = self.apply_template(selector, result, context)?;
            self.eval_assign(fid, state.assign.as_ref(), &result, context)?;
            let combined = apply_result_path(result_path, input, result, &mut self.spares)?;
            take_path(state.output_path.as_ref(), combined, context)
        })();
        match data {
            Ok(output) => Outcome::Done(output, state.next),
            Err((error, detail)) => {
                let entered = self.fibers[fid].entered;
                Outcome::Failed(self.runtime_failure(state, entered, &error, &detail))
            }
        }
    }

    /// Applies the first matching catcher, or fails the state.
    fn catch(
        &mut self,
        fid: FiberId,
        catchers: &[Catcher],
        input: Value,
        mut failure: Failure,
    ) -> Outcome {
        self.evaluation_failed(fid, &mut failure);
        let error = failure.error.clone().unwrap_or_default();
        let Some(c) = catchers
            .iter()
            .find(|c| error_matches(&c.errors, &error, failure.from_task))
        else {
            return Outcome::Failed(failure);
        };
        let mut error_output = Map::new();
        error_output.insert("Error".into(), Value::String(error));
        if let Some(cause) = &failure.cause {
            error_output.insert("Cause".into(), Value::String(cause.clone()));
        }
        let error_output = Value::Object(error_output);
        // The state's own Assign never applies when a catcher handles the error; the
        // catcher's Assign does, with `$` as the error output.
        self.fibers[fid].assigned = None;
        if self.state_of(fid).jsonata.is_some() {
            return match self.jcatch(fid, c, &input, error_output) {
                Ok(output) => Outcome::Done(output, Transition::Next(c.next)),
                Err((error, detail)) => {
                    let state = self.state_of(fid);
                    let entered = self.fibers[fid].entered;
                    Outcome::Failed(self.runtime_failure(&state, entered, &error, &detail))
                }
            };
        }
        let context = if c.assign.is_some() {
            self.context_for(fid, 0)
        } else {
            Value::Null
        };
        let assigned = self.eval_assign(fid, c.assign.as_ref(), &error_output, &context);
        match assigned
            .and_then(|()| apply_result_path(&c.result_path, input, error_output, &mut self.spares))
        {
            Ok(output) => Outcome::Done(output, Transition::Next(c.next)),
            Err((error, detail)) => {
                let state = self.state_of(fid);
                Outcome::Failed(self.runtime_failure(
                    &state,
                    self.fibers[fid].entered,
                    &error,
                    &detail,
                ))
            }
        }
    }

    /// Starts a child fiber for a branch or an item.
    fn spawn(
        &mut self,
        parent: FiberId,
        slot: usize,
        machine: &StateMachine,
        input: Value,
        item: Option<Box<(usize, Value)>>,
    ) -> FiberId {
        let now = self.now;
        let fiber = Fiber {
            current: machine.start,
            machine: machine.id,
            phase: Phase::Enter(input),
            last: self.fibers[parent].last,
            wake: now,
            entered: EventId(0),
            entered_at: now,
            parent: Some((parent, slot)),
            item,
            text: None,
            spans: None,
            bound: usize::MAX,
            variables: None,
            assigned: None,
        };
        let id = match self.free_fibers.pop() {
            Some(id) => {
                self.fibers[id] = fiber;
                id
            }
            None => {
                self.fibers.push(fiber);
                self.fibers.len() - 1
            }
        };
        self.sched.add_fiber(id);
        self.refresh(id);
        id
    }

    fn parallel_start(
        &mut self,
        fid: FiberId,
        spec: &ParallelSpec,
        input: Value,
        attempts_per_retrier: Vec<u32>,
    ) {
        let state = self.state_of(fid);
        let context = self.context_for(fid, 0);
        let entered = self.fibers[fid].entered;
        let branch_input = (|| {
            if let Some(j) = &state.jsonata {
                return self.jarguments(j, &input, &context);
            }
            let effective = effective_input(state.input_path.as_ref(), &input, &context)?;
            self.apply_template(spec.parameters.as_ref(), effective, &context)
        })();
        let branch_input = match branch_input {
            Ok(v) => v,
            Err((error, detail)) => {
                let f = self.runtime_failure(&state, entered, &error, &detail);
                self.finish_fiber(fid, Err(f));
                return;
            }
        };
        let started = self.record(fid, EventKind::ParallelStateStarted);
        let n = spec.branches.len();
        let mut join = Join {
            input,
            children: vec![None; n],
            results: vec![None; n],
            pending: Default::default(),
            running: n,
            max_concurrency: usize::MAX,
            last_done: started,
            is_map: false,
            attempts_per_retrier,
            map_run: None,
            keep_results: keeps_results(&state, spec.result_selector.as_ref(), &spec.result_path),
        };
        self.fibers.reserve(n);
        self.sched.reserve(n);
        // An Express branch starts with its input's length bound, for its states to bound
        // theirs from (Standard ones measure their texts).
        let bound = if self.history.keeps_events() {
            usize::MAX
        } else {
            json_len_bound(&branch_input)
        };
        // Every branch but the last gets a copy of the input; the last one gets the input.
        let mut branch_input = Some(branch_input);
        for (i, b) in spec.branches.iter().enumerate() {
            let input = if i + 1 == n {
                branch_input.take()
            } else {
                branch_input.clone()
            };
            let input = input.unwrap_or_default();
            let child = self.spawn(fid, i, b, input, None);
            self.fibers[child].bound = bound;
            join.children[i] = Some(child);
        }
        self.set_phase(fid, Phase::Join(Box::new(join)));
    }

    fn map_start(
        &mut self,
        fid: FiberId,
        spec: &MapSpec,
        input: Value,
        attempts_per_retrier: Vec<u32>,
    ) {
        let state = self.state_of(fid);
        let context = self.context_for(fid, 0);
        let entered = self.fibers[fid].entered;
        let prepared = (|| {
            if let Some(j) = &state.jsonata {
                return self.jmap_prepare(j, spec, &input, &context);
            }
            let effective = effective_input(state.input_path.as_ref(), &input, &context)?;
            // Items in the state's input are read in place as their iterations start (the
            // Map keeps its input unchanged); any others are copied out here.
            let in_place = match spec.item_selector {
                None => items_in_place(state.input_path.as_ref(), spec.items_path.as_ref(), &input),
                Some(_) => None,
            };
            let items = match in_place {
                Some(_) => Vec::new(),
                None => map_items(
                    spec.items_path.as_ref(),
                    &effective,
                    &context,
                    &self.variables,
                )?,
            };
            let max = match &spec.max_concurrency {
                None => 0,
                Some(Seconds::Fixed(n)) => *n,
                Some(s @ Seconds::Expr(_)) => self.jcount(s, &effective, &context)?,
                Some(Seconds::Path(p)) => {
                    let v = Scope {
                        input: &effective,
                        context: &context,
                        variables: &self.variables,
                    }
                    .resolve(p)
                    .unwrap_or(Value::Null);
                    v.as_u64().ok_or_else(|| {
                        let shown = match &v { Value::String(s) => s.clone(), other => to_json(other) };
                        (Cow::Borrowed("States.Runtime"), format!(
                            "The MaxConcurrencyPath field refers to value \"{shown}\" which is not a valid integer: {}",
                            p.as_str()
                        ))
                    })?
                }
            };
            if let Some(items) = in_place {
                return Ok((pending::PendingItems::in_place(items.len()), max));
            }
            let Some(t) = &spec.item_selector else {
                return Ok((pending::PendingItems::of_items(items), max));
            };
            let mut inputs = Vec::with_capacity(items.len());
            // One copy of the context for all items; only `Map.Item` changes between them.
            let mut ctx = context.clone();
            for (index, item) in items.iter().enumerate() {
                if ctx.is_object() {
                    ctx["Map"] = serde_json::json!({"Item": {"Index": index, "Value": item}});
                }
                let scope = Scope {
                    input: &effective,
                    context: &ctx,
                    variables: &self.variables,
                };
                let input = t
                    .eval(&scope, &mut self.rng, &mut self.spares)
                    .map_err(|e| (Cow::Owned(e.error), e.message))?;
                inputs.push(input);
            }
            Ok((pending::PendingItems::with_inputs(items, inputs), max))
        })();
        let (pending, max) = match prepared {
            Ok(p) => p,
            Err((error, detail)) => {
                let mut f = self.runtime_failure(&state, entered, &error, &detail);
                if f.evaluation.is_some() {
                    // Recorded on AWS: EvaluationFailed, then MapStateFailed.
                    self.evaluation_failed(fid, &mut f);
                    self.record(fid, EventKind::MapStateFailed);
                }
                self.finish_fiber(fid, Err(f));
                return;
            }
        };
        let n = pending.len();
        // A Standard history makes room for one run through the processor per item.
        self.history
            .reserve(n.saturating_mul(4 + spec.processor.events_per_pass()));
        let started = self.record(fid, EventKind::MapStateStarted { length: n });
        let keep_results = keeps_results(&state, spec.result_selector.as_ref(), &spec.result_path);
        let join = Join {
            input,
            children: vec![None; n],
            // Results that are dropped need no slots (a list of nulls as long as the items).
            results: if keep_results {
                vec![None; n]
            } else {
                Vec::new()
            },
            pending,
            running: 0,
            max_concurrency: inline_map_concurrency(max),
            last_done: started,
            is_map: true,
            attempts_per_retrier,
            map_run: None,
            keep_results,
        };
        self.set_phase(fid, Phase::Join(Box::new(join)));
        self.map_fill(fid, &state, spec, started);
        self.join_check(fid);
    }

    /// Starts pending Map iterations while MaxConcurrency allows; each MapIterationStarted
    /// follows `after`.
    fn map_fill(&mut self, fid: FiberId, state: &State, spec: &MapSpec, after: EventId) {
        let unbounded = self.faulty(Fault::IgnoreMaxConcurrency);
        loop {
            let Phase::Join(join) = &mut self.fibers[fid].phase else {
                return;
            };
            if join.running >= join.max_concurrency && !unbounded {
                return;
            }
            let Join { pending, input, .. } = &mut **join;
            let in_place = if pending.reads_in_place() {
                items_in_place(state.input_path.as_ref(), spec.items_path.as_ref(), input)
            } else {
                None
            };
            // The item is kept beside the iteration's input only for `$$.Map.Item`.
            let Some((index, item, input)) = pending.pop_front(self.uses_context, in_place) else {
                if !pending.is_empty() {
                    // The items were found in the state's input when the Map started, and
                    // the Map keeps that input unchanged: this cannot happen.
                    let f = Failure::new(
                        "States.Runtime",
                        "internal error: a Map state's items are no longer in its input",
                    );
                    self.finish_fiber(fid, Err(f));
                }
                return;
            };
            join.running += 1;
            let now = self.now;
            let started = self
                .history
                .record_with(after, now, false, || EventKind::MapIteration {
                    what: "Started",
                    index,
                    name: state.name.0.clone(),
                });
            // `$$.Map.Item` is all the item is kept for.
            let item = self.uses_context.then(|| Box::new((index, item)));
            let child = self.spawn(fid, index, &spec.processor, input, item);
            self.fibers[child].last = started;
            if let Phase::Join(join) = &mut self.fibers[fid].phase {
                join.children[index] = Some(child);
            }
        }
    }

    /// Completes a Parallel or Map state whose branches have all succeeded.
    fn join_check(&mut self, fid: FiberId) {
        let Phase::Join(join) = &self.fibers[fid].phase else {
            return;
        };
        if join.running > 0 || !join.pending.is_empty() {
            return;
        }
        let Phase::Join(join) = self.take_phase(fid) else {
            return;
        };
        self.use_variables_of(fid);
        let state = self.state_of(fid);
        let now = self.now;
        let kind = if join.is_map {
            EventKind::MapStateSucceeded
        } else {
            EventKind::ParallelStateSucceeded
        };
        self.history.record(join.last_done, now, kind);
        // AWS links the state's Exited event to the last branch event too, not to Succeeded.
        self.fibers[fid].last = join.last_done;
        let Join { results, input, .. } = *join;
        let results = Value::Array(
            results
                .into_iter()
                .map(|r| r.unwrap_or(Value::Null))
                .collect(),
        );
        let context = self.context_for(fid, 0);
        let stages = match &state.kind {
            StateKind::Parallel(p) => (p.result_selector.as_ref(), &p.result_path),
            StateKind::Map(m) => (m.result_selector.as_ref(), &m.result_path),
            _ => return,
        };
        let outcome = self.result_stages(fid, &state, stages, input, Cow::Owned(results), &context);
        // A handler error cannot arise here: no task runs while exiting.
        let _ = self.complete(fid, outcome);
    }

    /// A branch or iteration has ended.
    fn child_finished(
        &mut self,
        parent: FiberId,
        slot: usize,
        child: FiberId,
        result: Result<Value, Failure>,
    ) {
        let Some(result) = self.map_run_child_finished(parent, slot, result) else {
            return;
        };
        self.use_variables_of(parent);
        let child_last = self.fibers[child].last;
        let is_map = matches!(&self.fibers[parent].phase, Phase::Join(j) if j.is_map);
        let now = self.now;
        match result {
            Ok(value) => {
                let Phase::Join(join) = &mut self.fibers[parent].phase else {
                    return;
                };
                if join.keep_results {
                    join.results[slot] = Some(value);
                } else {
                    self.spares.recycle(value);
                }
                join.children[slot] = None;
                join.running -= 1;
                if is_map {
                    // Nothing refers to an iteration's record once its Map has its result.
                    self.ended_fibers.push(child);
                    // The Map state, borrowed from one hold of the machine list for the
                    // event and the next iteration (a `state_of` for each was two atomic
                    // operations more an iteration).
                    let machines = Arc::clone(&self.machines);
                    let p = &self.fibers[parent];
                    let state = &machines[p.machine].states[p.current];
                    let done = self.history.record_with(child_last, now, false, || {
                        EventKind::MapIteration {
                            what: "Succeeded",
                            index: slot,
                            name: state.name.0.clone(),
                        }
                    });
                    if let Phase::Join(join) = &mut self.fibers[parent].phase {
                        join.last_done = done;
                    }
                    // The next iteration follows the finished one's last state event.
                    if let StateKind::Map(spec) = &state.kind {
                        self.map_fill(parent, state, spec, child_last);
                    }
                } else if let Phase::Join(join) = &mut self.fibers[parent].phase {
                    join.last_done = child_last;
                }
                self.join_check(parent);
            }
            Err(failure) => {
                let state = self.state_of(parent);
                // Fail-fast: the first failure stops every other branch.
                let Phase::Join(join) = self.take_phase(parent) else {
                    return;
                };
                if is_map {
                    self.history.record(
                        child_last,
                        now,
                        EventKind::MapIteration {
                            what: "Failed",
                            index: slot,
                            name: state.name.0.clone(),
                        },
                    );
                }
                for (i, c) in join.children.iter().enumerate() {
                    let Some(c) = *c else { continue };
                    if c == child || self.faulty(Fault::NoFailFastAbort) {
                        continue;
                    }
                    self.abort(c, child_last);
                    if is_map {
                        self.history.record(
                            child_last,
                            now,
                            EventKind::MapIteration {
                                what: "Aborted",
                                index: i,
                                name: state.name.0.clone(),
                            },
                        );
                    }
                }
                // The failed branch's own state, if it was one that runs, never exited.
                let failed_kind = &self.state_of(child).kind;
                if matches!(
                    failed_kind,
                    StateKind::Task(_)
                        | StateKind::Parallel(_)
                        | StateKind::Map(_)
                        | StateKind::Wait(_)
                ) {
                    let st = failed_kind.type_name();
                    self.history.record(
                        child_last,
                        now,
                        EventKind::StateAborted { state_type: st },
                    );
                }
                let parent_state = self.state_of(parent);
                let (retriers, catchers) = match &parent_state.kind {
                    StateKind::Parallel(p) => (&p.retry, &p.catch),
                    StateKind::Map(m) => (&m.retry, &m.catch),
                    _ => return,
                };
                // Retry: AWS records no Failed event between attempts; the next Started
                // follows the failing event after the backoff.
                let error = failure.error.clone().unwrap_or_default();
                let mut attempts = join.attempts_per_retrier;
                if let Some(i) = retriers
                    .iter()
                    .position(|r| error_matches(&r.errors, &error, failure.from_task))
                {
                    let r = &retriers[i];
                    if attempts[i] < r.max_attempts {
                        let delay = r.delay_ms(attempts[i], &mut self.rng);
                        attempts[i] += 1;
                        self.fibers[parent].last = child_last;
                        let phase =
                            Phase::Sleeping(Resume::JoinRetry(Box::new((join.input, attempts))));
                        self.set_phase_until(parent, now.plus_millis(delay), phase);
                        return;
                    }
                }
                let kind = if is_map {
                    EventKind::MapStateFailed
                } else {
                    EventKind::ParallelStateFailed
                };
                let failed = self.history.record(child_last, now, kind);
                self.fibers[parent].last = failed;
                let outcome = self.catch(parent, catchers, join.input, failure);
                let _ = self.complete(parent, outcome);
            }
        }
    }

    /// Stops a running fiber and everything below it, recording the abort of the state it
    /// was in.
    fn abort(&mut self, fid: FiberId, after: EventId) {
        let phase = self.take_phase(fid);
        match phase {
            Phase::Finished | Phase::Enter(_) => {}
            Phase::Join(join) if join.map_run.is_some() => self.map_run_abort(fid, join, after),
            Phase::Join(join) => {
                for c in join.children.into_iter().flatten() {
                    self.abort(c, after);
                }
                let st = self.state_of(fid).kind.type_name();
                let now = self.now;
                self.history
                    .record(after, now, EventKind::StateAborted { state_type: st });
            }
            Phase::Sleeping(_) | Phase::Awaiting(_) => {
                let st = self.state_of(fid).kind.type_name();
                let now = self.now;
                self.history
                    .record(after, now, EventKind::StateAborted { state_type: st });
            }
        }
    }

    /// A `*Seconds` / `*SecondsPath` value. Paths read the state's effective input.
    fn resolve_seconds(
        &mut self,
        s: Option<&Seconds>,
        input: &Value,
        context: &Value,
        field: &str,
    ) -> Result<Option<u64>, StepError> {
        match s {
            None => Ok(None),
            Some(Seconds::Fixed(n)) => Ok(Some(*n)),
            Some(s @ Seconds::Expr(_)) => self.jcount(s, input, context).map(Some),
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
                        Cow::Borrowed("States.Runtime"),
                        format!(
                            "The {field} parameter does not reference a positive integer: {} == {}",
                            p.as_str(),
                            display_value(&v)
                        ),
                    )),
                    None => Err((
                        Cow::Borrowed("States.Runtime"),
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
    ) -> Result<Option<String>, StepError> {
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
                    Cow::Borrowed("States.Runtime"),
                    format!(
                        "The JSONPath '{}' specified for the field '{field}Path' could not be found in the input '{}'",
                        p.as_str(),
                        to_json(input)
                    ),
                )
            })?,
            ErrorText::Intrinsic(f) => f
                .eval(&scope, &mut self.rng)
                .map_err(|e| (Cow::Owned(e.error), e.message))?,
            // JSONata states evaluate their Error and Cause in `ql`.
            ErrorText::Expr(_) => {
                return Err((
                    Cow::Borrowed("States.Runtime"),
                    "internal error: a JSONata field in a JSONPath state".into(),
                ))
            }
        };
        match v {
            Value::String(s) => Ok(Some(s)),
            // Assumption: AWS requires a string; the detail text mirrors its other
            // path-type messages.
            other => Err((
                Cow::Borrowed("States.Runtime"),
                format!(
                    "The {field}Path field must reference a string, but was {}: {}",
                    type_name(&other),
                    to_json(&other)
                ),
            )),
        }
    }
}

/// A run-time error inside a state: AWS's error name and the detail that follows the
/// "An error occurred while executing the state ..." prefix in the cause.
type StepError = (Cow<'static, str>, String);

/// The `resourceType` and `resource` of a service integration's events.
fn service_names(spec: &TaskSpec) -> (String, String) {
    match &spec.kind {
        ResourceKind::Service {
            resource_type,
            resource,
            ..
        } => (resource_type.clone(), resource.clone()),
        _ => (String::new(), String::new()),
    }
}

/// The items of an inline Map state as they lie in its input, when InputPath and ItemsPath
/// are reference paths into the input that select an array; `None` otherwise.
fn items_in_place<'a>(
    input_path: Option<&JsonPath>,
    items_path: Option<&JsonPath>,
    input: &'a Value,
) -> Option<&'a [Value]> {
    let in_input = |p: &JsonPath| *p.root() == PathRoot::Input && p.is_reference();
    let input_path = input_path.filter(|p| in_input(p))?;
    let effective = input_path.select_ref(input)?;
    let items = match items_path {
        Some(p) if in_input(p) => p.select_ref(effective)?,
        Some(_) => return None,
        None => effective,
    };
    items.as_array().map(Vec::as_slice)
}

/// A Map state's items: what `ItemsPath` selects (from the effective input, `$$` or a variable), or
/// the effective input itself; an error unless it is an array.
fn map_items(
    items_path: Option<&JsonPath>,
    effective: &Value,
    context: &Value,
    variables: &Map<String, Value>,
) -> Result<Vec<Value>, StepError> {
    let items = match items_path {
        // The path may start at `$`, `$$` or a variable.
        Some(p) => Scope {
            input: effective,
            context,
            variables,
        }
        .resolve(p)
        .ok_or_else(|| no_results(p))?,
        None => effective.clone(),
    };
    match items {
        Value::Array(items) => Ok(items),
        // Assumption: the JSONPath wording mirrors the recorded JSONata one.
        other => Err((
            Cow::Borrowed("States.Runtime"),
            format!(
                "Map state input must be an array but was: {}",
                to_json(&other)
            ),
        )),
    }
}

fn no_results(path: &JsonPath) -> StepError {
    (
        Cow::Borrowed("States.Runtime"),
        format!(
            "Invalid path '{}' : No results for path: {}",
            path.as_str(),
            path.bracket_notation()
        ),
    )
}

/// InputPath, borrowing from the input where the path allows it.
fn effective_input<'a>(
    path: Option<&JsonPath>,
    input: &'a Value,
    context: &'a Value,
) -> Result<Cow<'a, Value>, StepError> {
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
#[inline(always)]
fn take_path(path: Option<&JsonPath>, doc: Value, context: &Value) -> Result<Value, StepError> {
    match path {
        // `$`, the usual InputPath and OutputPath: the document itself, decided in line.
        Some(p) if p.is_root() && *p.root() == PathRoot::Input => Ok(doc),
        _ => take_path_slow(path, doc, context),
    }
}

/// [`take_path`] for a path other than `$`.
fn take_path_slow(
    path: Option<&JsonPath>,
    doc: Value,
    context: &Value,
) -> Result<Value, StepError> {
    let Some(path) = path else {
        return Ok(Value::Object(Map::new()));
    };
    let found = match path.root() {
        PathRoot::Context => path.select(context),
        _ => path.take(doc),
    };
    found.ok_or_else(|| no_results(path))
}

/// ResultPath: `result` placed into `input`. What it replaces goes to `spares`.
#[inline(always)]
fn apply_result_path(
    rp: &ResultPath,
    input: Value,
    result: Value,
    spares: &mut Spares,
) -> Result<Value, StepError> {
    match rp {
        ResultPath::Replace => {
            spares.recycle(input);
            Ok(result)
        }
        ResultPath::Discard => Ok(input),
        ResultPath::At(p) => set_result_at(p, input, result, spares),
    }
}

/// [`apply_result_path`] for `ResultPath: $.path`.
fn set_result_at(
    p: &JsonPath,
    mut input: Value,
    result: Value,
    spares: &mut Spares,
) -> Result<Value, StepError> {
    // AWS's wording, as quoted from a real execution in aws/aws-cdk issue 29473: the
    // input is shown as a JSON string literal. Assumption: the usual state prefix
    // comes first, as for the other run-time errors of a state. The input is written
    // out only when the path cannot be set, not on every state (serialising it each
    // time was the Pass chain's largest cost).
    let failure = |input: &Value| {
        (
            Cow::Borrowed("States.ResultPathMatchFailure"),
            format!(
                "Unable to apply ReferencePath {} to input {}",
                p.as_str(),
                serde_json::to_string(&to_json(input)).unwrap_or_default()
            ),
        )
    };
    // Setting one field of an object cannot fail, so the check walk is skipped.
    let settable = (p.single_field().is_some() && input.is_object()) || p.can_set(&input);
    if !settable {
        return Err(failure(&input));
    }
    match p.set(&mut input, result) {
        Ok(old) => {
            spares.recycle(old);
            Ok(input)
        }
        Err(_) => Err(failure(&input)),
    }
}

/// When a Wait state ends.
fn wait_until(
    wait: &WaitFor,
    now: Timestamp,
    input: &Value,
    context: &Value,
    variables: &Map<String, Value>,
) -> Result<Timestamp, StepError> {
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
                    Cow::Borrowed("States.Runtime"),
                    format!(
                        "The SecondsPath parameter does not reference an input value: {}",
                        p.as_str()
                    ),
                )
            })?;
            let secs = v.as_i64().ok_or_else(|| {
                (
                    Cow::Borrowed("States.Runtime"),
                    format!(
                        "The SecondsPath parameter cannot be parsed as a long value: {} == {}",
                        p.as_str(),
                        display_value(&v)
                    ),
                )
            })?;
            if secs < 0 {
                return Err((
                    Cow::Borrowed("States.Runtime"),
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
                Cow::Borrowed("States.Runtime"),
                format!(
                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {s}"
                ),
            )
        })?,
        // JSONata states evaluate their expressions in `ql`.
        WaitFor::SecondsExpr(_) | WaitFor::TimestampExpr(_) => {
            return Err((
                Cow::Borrowed("States.Runtime"),
                "internal error: a JSONata field in a JSONPath state".into(),
            ))
        }
        WaitFor::TimestampPath(p) => {
            let v = scope.resolve(p);
            let parsed = v.as_ref().and_then(Value::as_str).and_then(Timestamp::parse_rfc3339);
            parsed.ok_or_else(|| {
                let shown = v.as_ref().map(display_value).unwrap_or_default();
                (
                    Cow::Borrowed("States.Runtime"),
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
            Cow::Borrowed("States.Runtime"),
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
            StateKind::Parallel(_) => "Parallel",
            StateKind::Map(_) => "Map",
            StateKind::Unsupported { .. } => "Unsupported",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{
        json_exceeds, json_len, json_len_bound, json_len_tight_bound, len_against, ExecutionConfig,
        ExecutionStatus, NoTasks,
    };
    use crate::Definition;
    use serde_json::{json, Value};

    /// The length bound adds up member by member: six bytes a character of a name or a
    /// string, 24 a number, 5 a boolean or null, and the brackets, quotes, colons and commas;
    /// the tight bound counts an integer's exact digits instead. Neither is ever below the
    /// real length, nested members and escapes included.
    #[test]
    fn json_length_bounds_add_up_and_hold() {
        // {"a":[1,"x",null,{"b":true}]}: the inner object 2 + (4 + 6 + 5) = 17; the array
        // 2 + 4 + 24 + 8 + 5 + 17 = 60; the whole 2 + (4 + 6 + 60) = 72. Tight, the 1 is one
        // character: 49.
        let v = json!({"a": [1, "x", null, {"b": true}]});
        assert_eq!(json_len_bound(&v), 72);
        assert_eq!(json_len_tight_bound(&v), 49);
        assert_eq!(json_len_bound(&json!([])), 2);
        assert_eq!(json_len_bound(&json!("\u{1f}")), 8);
        // Integers are measured exactly, at every change of digit count and at the ends of
        // their types; other numbers are bounded.
        for i in [0i64, 9, 10, 99, 100, -1, -9, -10, i64::MAX, i64::MIN] {
            assert_eq!(json_len_tight_bound(&json!(i)), i.to_string().len(), "{i}");
        }
        assert_eq!(json_len_tight_bound(&json!(u64::MAX)), 20);
        assert_eq!(json_len_tight_bound(&json!(0.5)), 24);
        // A Map's usual items: 100,000 one-digit numbers are 200,001 bytes, under the
        // 256 KiB payload limit. The plain bound puts them over it; the tight one (one comma
        // too many) under it, so the check does not write them out.
        let items = Value::Array((0..100_000).map(|i| json!(i % 9 + 1)).collect());
        assert_eq!(json_len(&items), 200_001);
        assert_eq!(json_len_bound(&items), 2_500_002);
        assert_eq!(json_len_tight_bound(&items), 200_002);
        assert_eq!(len_against(&items, 2_500_002, 262_144), 200_002);
        assert!(!json_exceeds(&items, 262_144));
        // A known bound within the limit is taken as it is; the tight bound when it is
        // within; over the limit even tight, the exact length.
        assert_eq!(len_against(&items, 250_000, 262_144), 250_000);
        assert_eq!(len_against(&items, 2_500_002, 200_002), 200_002);
        assert_eq!(len_against(&items, 2_500_002, 200_001), 200_001);
        assert_eq!(len_against(&items, 2_500_002, 200_000), 200_001);
        assert!(json_exceeds(&items, 200_000));
        for v in [
            json!({"a": [1, "x", null, {"b": true}]}),
            json!({"\u{1}\u{2}": "\n\t\u{1f}", "n": -1.2345678901234567e-300, "i": i64::MIN}),
            json!([[[[]]], {}, [{"deep": [u64::MAX, false]}]]),
        ] {
            assert!(json_len_bound(&v) >= json_len_tight_bound(&v), "{v}");
            assert!(json_len_tight_bound(&v) >= json_len(&v), "{v}");
        }
    }

    /// A Map's finished iterations give their record slots to later ones, so an execution
    /// keeps about as many fiber records as iterations in flight, whatever the item count,
    /// while iterations that sleep different times still end in their seeded order.
    #[test]
    fn map_iterations_reuse_the_records_of_finished_ones() {
        let d = Definition::parse(
            &json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 4,
                "ItemProcessor": {"StartAt": "W", "States": {
                    "W": {"Type": "Wait", "SecondsPath": "$", "Next": "P"},
                    "P": {"Type": "Pass", "Parameters": {"slept.$": "$"}, "End": true}}},
                "End": true}}})
            .to_string(),
        )
        .unwrap();
        let items: Vec<u64> = (0..300).map(|i| (i * 7) % 5).collect();
        let config = ExecutionConfig::default();
        let mut execution = d.start(json!(items), config).unwrap();
        loop {
            execution.run_due(&mut NoTasks).unwrap();
            if execution.status() != ExecutionStatus::Running {
                break;
            }
            let wake = execution.next_wake().unwrap();
            execution.advance_to(wake);
        }
        // The top level, four iterations in flight and the one started in the step that
        // ended another, before that one's slot is free.
        assert!(
            execution.fibers.len() <= 6,
            "{} records",
            execution.fibers.len()
        );
        let result = execution.into_result();
        assert_eq!(result.status, ExecutionStatus::Succeeded);
        let expected: Vec<Value> = items.iter().map(|i| json!({"slept": i})).collect();
        assert_eq!(result.output, Some(json!(expected)));
    }

    /// The quick bound must never let an oversized value through, and never call a small one
    /// oversized: the answer equals the exact length's at every limit around the length.
    #[test]
    fn json_exceeds_agrees_with_the_exact_length() {
        let values = [
            json!(null),
            json!(true),
            json!(-1.7976931348623157e308),
            json!(u64::MAX),
            json!("plain"),
            json!("\u{1}\u{1f}\"\\ quotes and controls"),
            json!({"a": [1, 2.5, {"b\u{2}": "x"}], "é": "ü"}),
            Value::String("\u{0}".repeat(1000)),
            json!([[], {}, "", 0]),
        ];
        for v in &values {
            let exact = json_len(v);
            for limit in exact.saturating_sub(3)..=exact + 3 {
                assert_eq!(
                    json_exceeds(v, limit),
                    exact > limit,
                    "{v} at limit {limit}"
                );
            }
            assert!(!json_exceeds(v, exact * 7 + 100), "{v}");
        }
    }
}
