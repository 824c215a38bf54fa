//! The execution service in-process: the Step Functions API (state machines, executions,
//! callbacks, activities) over many executions that share one virtual clock.
//!
//! It is single-threaded and deterministic. Every call that can make progress runs the
//! executions until nothing more can happen by itself ([`Service::run_until_idle`]): Waits,
//! retries and task durations pass on the virtual clock at once, while a task waiting for a
//! callback (a task token, an activity worker) holds its execution until somebody answers or
//! the caller moves the clock with [`Service::advance`]. Child executions started with
//! `arn:aws:states:::states:startExecution` run in the same service, and the `aws-sdk:sfn`
//! actions (`sendTaskSuccess`, `startExecution`, ...) act on it for real, so a child can hand a
//! token back to its parent exactly as on AWS.

use crate::clock::Timestamp;
use crate::history::Event;
use crate::interpreter::{
    token_execution_arn, CallbackError, Execution, ExecutionConfig, ExecutionStatus, WorkflowType,
};
use crate::model::Definition;
use crate::scope::Rng;
use crate::script::{ScriptRecord, ScriptTime, ScriptedAction, ScriptedCall};
use crate::task::{NoTasks, TaskHandler, TaskHandlerError, TaskOutcome, TaskRequest, TaskResponse};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, VecDeque};

/// An error of the Step Functions API: AWS's error code (`StateMachineDoesNotExist`,
/// `ExecutionAlreadyExists`, ...) and a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ServiceError {
    /// The API's error code, as in the `__type` of an awsJson1_0 error response.
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
}

impl ServiceError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        ServiceError {
            code,
            message: message.into(),
        }
    }
}

impl From<CallbackError> for ServiceError {
    fn from(e: CallbackError) -> Self {
        match e {
            CallbackError::TaskTimedOut(_) => ServiceError::new("TaskTimedOut", e.to_string()),
            _ => ServiceError::new("TaskDoesNotExist", e.to_string()),
        }
    }
}

/// Makes the task handler of each new execution: the place where mocks come in.
pub trait HandlerFactory {
    /// The handler for an execution of `state_machine_name`; `test_case` is the
    /// MockConfigFile test case from a `stateMachineArn#TestCase` StartExecution.
    fn handler(
        &mut self,
        state_machine_name: &str,
        test_case: Option<&str>,
    ) -> Result<Box<dyn TaskHandler>, String>;
}

/// The factory used when none is given: no mocks; only the service's own integrations work.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoMocks;

impl HandlerFactory for NoMocks {
    fn handler(
        &mut self,
        _state_machine_name: &str,
        test_case: Option<&str>,
    ) -> Result<Box<dyn TaskHandler>, String> {
        match test_case {
            Some(case) => Err(format!(
                "test case '{case}' was requested, but no mock configuration is loaded"
            )),
            None => Ok(Box::new(NoTasks)),
        }
    }
}

/// A state machine as DescribeStateMachine shows it.
#[derive(Debug, Clone)]
pub struct StateMachineDescription {
    /// Its ARN.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// The definition text as created.
    pub definition: String,
    /// The execution role.
    pub role_arn: String,
    /// STANDARD or EXPRESS.
    pub workflow_type: WorkflowType,
    /// When it was created.
    pub creation_date: Timestamp,
}

/// An execution as DescribeExecution shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionDescription {
    /// Its ARN.
    pub execution_arn: String,
    /// Its state machine's ARN.
    pub state_machine_arn: String,
    /// Its name.
    pub name: String,
    /// RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED.
    pub status: ExecutionStatus,
    /// When it started.
    pub start_date: Timestamp,
    /// When it stopped, once it has.
    pub stop_date: Option<Timestamp>,
    /// The input.
    pub input: Value,
    /// The output, when it succeeded.
    pub output: Option<Value>,
    /// The error, when it failed, timed out or was stopped with one.
    pub error: Option<String>,
    /// The cause.
    pub cause: Option<String>,
    /// How many times RedriveExecution restarted it.
    pub redrive_count: u32,
    /// When it was last redriven.
    pub redrive_date: Option<Timestamp>,
    /// `REDRIVABLE` or `NOT_REDRIVABLE` (Standard executions); `None` for Express ones,
    /// which AWS does not redrive.
    pub redrive_status: Option<&'static str>,
    /// Why it is `NOT_REDRIVABLE`, in AWS's words.
    pub redrive_status_reason: Option<String>,
}

/// A task handed to an activity worker by GetActivityTask.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityTask {
    /// The token the worker answers with.
    pub task_token: String,
    /// The task's input.
    pub input: Value,
}

struct MachineRecord {
    description: StateMachineDescription,
    definition: Definition,
}

/// How a child execution reports to the parent task that started it.
#[derive(Debug, Clone)]
struct ParentLink {
    parent: usize,
    token: String,
    /// `Some(false)` for `.sync` (Output as text), `Some(true)` for `.sync:2` (Output as
    /// JSON), `None` when the parent does not wait for the child's end.
    sync_json: Option<bool>,
}

struct ExecutionRecord {
    /// The ARN (for Express, `...:express:MACHINE:NAME:ID`).
    arn: String,
    execution: Option<Execution>,
    handler: Option<Box<dyn TaskHandler>>,
    state_machine_arn: String,
    parent: Option<ParentLink>,
    /// Whether its end has been reported to its parent.
    reported: bool,
    /// True for an Express workflow.
    express: bool,
    /// Every task token it issued, with the issuing state's name, oldest first: what a
    /// scripted call's `state` and `occurrence` refer to.
    issued: Vec<(String, String)>,
    /// When RedriveExecution last restarted it.
    redrive_date: Option<Timestamp>,
}

/// A scripted call waiting for its instant.
struct PendingScript {
    execution: usize,
    due: Timestamp,
    call: ScriptedCall,
}

struct ActivityRecord {
    name: String,
    creation_date: Timestamp,
    /// Tasks waiting for a worker: (execution index, token).
    queue: VecDeque<(usize, String)>,
}

/// The in-process Step Functions service.
pub struct Service {
    region: String,
    account: String,
    role_arn: String,
    now: Timestamp,
    machines: HashMap<String, MachineRecord>,
    machine_order: Vec<String>,
    executions: Vec<ExecutionRecord>,
    by_arn: HashMap<String, usize>,
    activities: HashMap<String, ActivityRecord>,
    activity_order: Vec<String>,
    factory: Box<dyn HandlerFactory>,
    rng: Rng,
    seed: u64,
    /// Callbacks addressed to the execution that is running at the moment they are sent
    /// (a state answering its own token); delivered as soon as it yields.
    deferred: Vec<(usize, Callback)>,
    /// Scripted calls not sent yet, in the order they were scripted.
    scripts: Vec<PendingScript>,
    /// What happened to each scripted call sent so far.
    script_log: Vec<ScriptRecord>,
    /// States whose tasks run twice in Express executions (at-least-once replay).
    replayed_states: Vec<String>,
    /// The first task handler error met while running, reported by the API call that ran
    /// into it (see `step_execution`).
    handler_error: Option<ServiceError>,
    /// Whether `run_until_idle` moves the clock to the next timer by itself (virtual time).
    /// A driver that follows a wall clock turns it off and moves time with `advance`.
    auto_advance: bool,
    /// The executions that may still need the scheduler: running ones, and ended children
    /// whose end is not reported to their parent yet. Every pass over "all executions"
    /// (settle, timers, the clock) walks only these, so a call costs the same however many
    /// executions have ended before (a server runs millions).
    active: std::collections::BTreeSet<usize>,
    /// At most how many history events of ended executions are kept (see
    /// [`Service::with_history_budget`]); `usize::MAX` keeps them all.
    history_budget: usize,
    /// The history events of ended executions kept now, counted when each ended.
    retained_events: usize,
    /// Ended executions whose histories are kept, oldest end first, with the number of
    /// events counted for each.
    ended: VecDeque<(usize, usize)>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("region", &self.region)
            .field("account", &self.account)
            .field("now", &self.now)
            .field("state_machines", &self.machine_order)
            .field("executions", &self.executions.len())
            .finish_non_exhaustive()
    }
}

enum Callback {
    Success(String, Value),
    Failure(String, Option<String>, Option<String>),
    Heartbeat(String),
}

impl Default for Service {
    fn default() -> Self {
        Service::new()
    }
}

/// Whether `name` is a valid state machine, execution or activity name: 1 to 80 characters,
/// none of them white space, brackets, wildcards, the listed punctuation or control
/// characters (the rules of the CreateStateMachine and StartExecution references).
fn valid_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=80).contains(&n)
        && !name.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || ('\u{7f}'..='\u{9f}').contains(&c)
                || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)
        })
}

/// AWS's JSON for a timestamp inside integration results: epoch milliseconds.
fn millis(t: Timestamp) -> Value {
    json!(t.millis())
}

impl Service {
    /// A service for account 123456789012 in us-east-1, with no mocks, its clock at
    /// [`crate::VirtualClock::DEFAULT_START`].
    pub fn new() -> Self {
        Service {
            region: "us-east-1".into(),
            account: "123456789012".into(),
            role_arn: "arn:aws:iam::123456789012:role/StepFunctionsExecutionRole".into(),
            now: crate::VirtualClock::DEFAULT_START,
            machines: HashMap::new(),
            machine_order: Vec::new(),
            executions: Vec::new(),
            by_arn: HashMap::new(),
            activities: HashMap::new(),
            activity_order: Vec::new(),
            factory: Box::new(NoMocks),
            rng: Rng::new(0),
            seed: 0,
            deferred: Vec::new(),
            scripts: Vec::new(),
            script_log: Vec::new(),
            replayed_states: Vec::new(),
            handler_error: None,
            auto_advance: true,
            active: std::collections::BTreeSet::new(),
            history_budget: usize::MAX,
            retained_events: 0,
            ended: VecDeque::new(),
        }
    }

    /// Keeps at most about `events` history events of ended executions: past that, the
    /// oldest ended executions' histories are dropped (their status, input, output and
    /// times stay). A server that runs many executions stays within its memory so; AWS
    /// itself deletes closed executions after 90 days. GetExecutionHistory on a dropped
    /// history, its Express log and RedriveExecution answer with an error that says so.
    /// The default keeps every history.
    pub fn with_history_budget(mut self, events: usize) -> Self {
        self.history_budget = events;
        self
    }

    /// Uses `factory` to make each new execution's task handler (mocks).
    pub fn with_handlers(mut self, factory: impl HandlerFactory + 'static) -> Self {
        self.factory = Box::new(factory);
        self
    }

    /// Sets the region and account of every ARN.
    pub fn with_account(mut self, region: &str, account: &str) -> Self {
        self.region = region.into();
        self.account = account.into();
        self.role_arn = format!("arn:aws:iam::{account}:role/StepFunctionsExecutionRole");
        self
    }

    /// Sets the seed of generated names and of each execution's random numbers.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self.rng = Rng::new(seed);
        self
    }

    /// At-least-once delivery, made visible: in Express executions, every task of a state
    /// named `state_name` runs twice, and the second answer is the one the execution uses (the
    /// first is lost, as when AWS re-runs work whose result it did not record). Use it to test
    /// that a task is idempotent. Standard executions are exactly-once and never replay.
    /// The events record the attempt once.
    pub fn with_express_replay(mut self, state_name: &str) -> Self {
        self.replayed_states.push(state_name.to_string());
        self
    }

    /// Whether the clock jumps to the next timer whenever nothing else can happen (the
    /// default, virtual time). Off, the clock moves only through [`Service::advance`]: a
    /// driver that follows a wall clock (`stepcheck serve --time real`) advances it as real
    /// time passes, so a `Wait` of 5 seconds takes 5 seconds. [`Service::next_timer`] says
    /// when the driver must next wake up.
    pub fn with_auto_advance(mut self, on: bool) -> Self {
        self.auto_advance = on;
        self
    }

    /// The earliest instant at which something happens by itself (a timer, a callback
    /// timeout or a scripted call of a running execution), if any.
    pub fn next_timer(&self) -> Option<Timestamp> {
        let own = self
            .running()
            .filter_map(|e| earliest(e.next_wake(), e.next_timeout()))
            .min();
        earliest(own, self.next_script())
    }

    /// How many executions the service has started (child executions included).
    pub fn execution_count(&self) -> usize {
        self.executions.len()
    }

    /// The description of the `i`-th execution started (0 is the oldest), if there is one.
    /// With [`Service::execution_count`] taken before a call, it finds the execution that a
    /// StartExecution created even when the call reports a task handler's error.
    pub fn execution_at(&self, i: usize) -> Option<ExecutionDescription> {
        (i < self.executions.len() && self.executions[i].execution.is_some())
            .then(|| self.describe_index(i))
    }

    /// Sets the virtual clock.
    pub fn with_start_time(mut self, t: Timestamp) -> Self {
        self.now = t;
        self
    }

    /// The virtual clock's current time.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    fn arn(&self, kind: &str, rest: &str) -> String {
        format!(
            "arn:aws:states:{}:{}:{kind}:{rest}",
            self.region, self.account
        )
    }

    fn uuid(&mut self) -> String {
        let a = self.rng.next_u64();
        let b = self.rng.next_u64();
        let hex = format!("{a:016x}{b:016x}");
        format!(
            "{}-{}-4{}-{}{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            ["8", "9", "a", "b"][(b & 3) as usize],
            &hex[17..20],
            &hex[20..32]
        )
    }

    // ----- state machines -----

    /// CreateStateMachine. Creating a machine that exists with the same definition, role
    /// and type returns it again, as AWS does; a different one is StateMachineAlreadyExists.
    pub fn create_state_machine(
        &mut self,
        name: &str,
        definition: &str,
        workflow_type: WorkflowType,
        role_arn: Option<&str>,
    ) -> Result<StateMachineDescription, ServiceError> {
        if !valid_name(name) {
            return Err(ServiceError::new(
                "InvalidName",
                format!("Invalid Name: '{name}'"),
            ));
        }
        let parsed = Definition::parse(definition).map_err(|diags| {
            ServiceError::new(
                "InvalidDefinition",
                crate::sync_task::invalid_definition_message(&diags),
            )
        })?;
        let express = workflow_type == WorkflowType::Express;
        if let Some(message) = &parsed.refused[usize::from(express)] {
            return Err(ServiceError::new("InvalidDefinition", message.clone()));
        }
        let arn = self.arn("stateMachine", name);
        let role_arn = role_arn.unwrap_or(&self.role_arn).to_string();
        if let Some(existing) = self.machines.get(&arn) {
            let d = &existing.description;
            if d.definition == definition
                && d.role_arn == role_arn
                && d.workflow_type == workflow_type
            {
                return Ok(d.clone());
            }
            return Err(ServiceError::new(
                "StateMachineAlreadyExists",
                format!("State Machine Already Exists: '{arn}'"),
            ));
        }
        let description = StateMachineDescription {
            arn: arn.clone(),
            name: name.into(),
            definition: definition.into(),
            role_arn,
            workflow_type,
            creation_date: self.now,
        };
        self.machines.insert(
            arn.clone(),
            MachineRecord {
                description: description.clone(),
                definition: parsed,
            },
        );
        self.machine_order.push(arn);
        Ok(description)
    }

    /// DescribeStateMachine.
    pub fn describe_state_machine(
        &self,
        arn: &str,
    ) -> Result<StateMachineDescription, ServiceError> {
        self.machine(arn).map(|m| m.description.clone())
    }

    /// ListStateMachines, in creation order.
    pub fn list_state_machines(&self) -> Vec<StateMachineDescription> {
        self.machine_order
            .iter()
            .filter_map(|a| self.machines.get(a))
            .map(|m| m.description.clone())
            .collect()
    }

    /// DeleteStateMachine. Its executions stay describable.
    pub fn delete_state_machine(&mut self, arn: &str) -> Result<(), ServiceError> {
        check_arn(arn, "stateMachine")?;
        self.machines.remove(arn);
        self.machine_order.retain(|a| a != arn);
        Ok(())
    }

    fn machine(&self, arn: &str) -> Result<&MachineRecord, ServiceError> {
        check_arn(arn, "stateMachine")?;
        self.machines.get(arn).ok_or_else(|| {
            ServiceError::new(
                "StateMachineDoesNotExist",
                format!("State Machine Does Not Exist: '{arn}'"),
            )
        })
    }

    // ----- executions -----

    /// StartExecution. `state_machine_arn` may end in `#TestCase` to pick a MockConfigFile
    /// test case, as in Step Functions Local. The execution runs at once as far as it can.
    pub fn start_execution(
        &mut self,
        state_machine_arn: &str,
        name: Option<&str>,
        input: Option<&str>,
    ) -> Result<ExecutionDescription, ServiceError> {
        let i = self.start_inner(state_machine_arn, name, input, None)?;
        self.run_until_idle()?;
        Ok(self.describe_index(i))
    }

    /// StartSyncExecution (Express only): runs the execution to its end.
    pub fn start_sync_execution(
        &mut self,
        state_machine_arn: &str,
        name: Option<&str>,
        input: Option<&str>,
    ) -> Result<ExecutionDescription, ServiceError> {
        let (arn, _) = split_test_case(state_machine_arn);
        if self.machine(arn)?.description.workflow_type != WorkflowType::Express {
            return Err(ServiceError::new(
                "StateMachineTypeNotSupported",
                "This operation is not supported by this type of state machine",
            ));
        }
        self.start_execution(state_machine_arn, name, input)
    }

    fn start_inner(
        &mut self,
        state_machine_arn: &str,
        name: Option<&str>,
        input: Option<&str>,
        parent: Option<ParentLink>,
    ) -> Result<usize, ServiceError> {
        let (arn, test_case) = split_test_case(state_machine_arn);
        let machine = self.machine(arn)?;
        let workflow_type = machine.description.workflow_type;
        let machine_name = machine.description.name.clone();
        let role_arn = machine.description.role_arn.clone();
        let input_text = input.unwrap_or("{}");
        let input: Value = serde_json::from_str(input_text).map_err(|e| {
            ServiceError::new(
                "InvalidExecutionInput",
                format!("Invalid execution input: {e}"),
            )
        })?;
        let name = match name {
            Some(n) => n.to_string(),
            None => self.uuid(),
        };
        if !valid_name(&name) {
            return Err(ServiceError::new(
                "InvalidName",
                format!("Invalid Name: '{name}'"),
            ));
        }
        let execution_arn = match workflow_type {
            WorkflowType::Express => {
                let id = self.uuid();
                self.arn("express", &format!("{machine_name}:{name}:{id}"))
            }
            _ => self.arn("execution", &format!("{machine_name}:{name}")),
        };
        if let Some(&existing) = self.by_arn.get(&execution_arn) {
            // AWS: a repeated name with the same input while the first execution runs is
            // idempotent; anything else is ExecutionAlreadyExists.
            let e = self.executions[existing].execution.as_ref();
            let same =
                e.is_some_and(|e| e.status() == ExecutionStatus::Running && *e.input() == input);
            if same {
                return Ok(existing);
            }
            return Err(ServiceError::new(
                "ExecutionAlreadyExists",
                format!("Execution Already Exists: '{execution_arn}'"),
            ));
        }
        let handler = self
            .factory
            .handler(&machine_name, test_case)
            .map_err(|m| ServiceError::new("ValidationException", m))?;
        let config = ExecutionConfig {
            state_machine_name: machine_name,
            execution_name: name,
            region: self.region.clone(),
            account: self.account.clone(),
            role_arn,
            workflow_type,
            start_time: self.now,
            seed: self.seed ^ (self.executions.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        };
        let machine = self.machine(arn)?;
        let mut execution = machine
            .definition
            .start(input, config)
            .map_err(|e| ServiceError::new("ValidationException", e.to_string()))?;
        if workflow_type == WorkflowType::Express {
            // Express keeps no history; its events become its log (`express_logs`).
            execution.keep_log();
        }
        let token_arn = execution.config().execution_arn();
        self.executions.push(ExecutionRecord {
            arn: execution_arn.clone(),
            execution: Some(execution),
            handler: Some(handler),
            state_machine_arn: arn.to_string(),
            parent,
            reported: false,
            express: workflow_type == WorkflowType::Express,
            issued: Vec::new(),
            redrive_date: None,
        });
        let i = self.executions.len() - 1;
        self.active.insert(i);
        // Task tokens name the execution by its Standard-style ARN; both find it.
        self.by_arn.insert(token_arn, i);
        self.by_arn.insert(execution_arn, i);
        Ok(i)
    }

    fn index(&self, execution_arn: &str) -> Result<usize, ServiceError> {
        if !execution_arn.starts_with("arn:") {
            return Err(ServiceError::new(
                "InvalidArn",
                format!("Invalid Arn: '{execution_arn}'"),
            ));
        }
        self.by_arn.get(execution_arn).copied().ok_or_else(|| {
            ServiceError::new(
                "ExecutionDoesNotExist",
                format!("Execution Does Not Exist: '{execution_arn}'"),
            )
        })
    }

    fn describe_index(&self, i: usize) -> ExecutionDescription {
        let r = &self.executions[i];
        let e = r
            .execution
            .as_ref()
            .expect("executions are put back after each step");
        let ending = e.ending();
        ExecutionDescription {
            execution_arn: r.arn.clone(),
            state_machine_arn: r.state_machine_arn.clone(),
            name: e.config().execution_name.clone(),
            status: e.status(),
            start_date: e.start_time(),
            stop_date: ending.map(|x| x.stop_time),
            input: e.input().clone(),
            output: ending.and_then(|x| x.output.clone()),
            error: ending.and_then(|x| x.error.clone()),
            cause: ending.and_then(|x| x.cause.clone()),
            redrive_count: e.redrive_count(),
            redrive_date: r.redrive_date,
            redrive_status: (!r.express).then(|| match self.not_redrivable(i) {
                None => "REDRIVABLE",
                Some(_) => "NOT_REDRIVABLE",
            }),
            redrive_status_reason: if r.express {
                None
            } else {
                self.not_redrivable(i)
            },
        }
    }

    /// Why a Standard execution cannot be redriven now, in the words of DescribeExecution's
    /// `redriveStatusReason` (API reference), or `None` when it can.
    fn not_redrivable(&self, i: usize) -> Option<String> {
        let e = self.executions[i].execution.as_ref()?;
        let reason = match e.status() {
            ExecutionStatus::Running => "Execution is RUNNING and cannot be redriven",
            ExecutionStatus::Succeeded => "Execution is SUCCEEDED and cannot be redriven",
            _ => {
                let stop = e.ending().map_or(self.now, |x| x.stop_time);
                let day = 24 * 3600 * 1000;
                if self.now.millis() - stop.millis() > 14 * day {
                    // "Your workflow execution has not exceeded the redrivable period of 14
                    // days ... This period starts from the day a state machine completes its
                    // execution." Assumption: 14 times 24 hours from the stop time.
                    "Execution redrivable period exceeded"
                } else if self.now.millis() - e.start_time().millis() >= 365 * day {
                    "Execution has exceeded the max execution time"
                } else if e.history_forgotten() {
                    // Assumption (no AWS counterpart): the redriven state's input is in the
                    // dropped history, so a dropped history cannot be redriven.
                    "Execution history is no longer kept (stepcheck serve --history-budget)"
                } else if e.history().len() as u64 + 2 > crate::interpreter::MAX_HISTORY_EVENTS {
                    // Room for ExecutionRedriven and the state it enters again.
                    "Execution history event limit exceeded"
                } else {
                    return None;
                }
            }
        };
        Some(reason.to_string())
    }

    /// RedriveExecution: an unsuccessful (FAILED, TIMED_OUT, ABORTED) Standard execution,
    /// stopped less than 14 days ago, continues from the state where it stopped, with the
    /// same ARN and input; returns the redrive date. Records ExecutionRedriven (see
    /// `interpreter/redrive.rs` for what is recorded and assumed). Refusals:
    /// `ExecutionNotRedrivable` with DescribeExecution's `redriveStatusReason` as message
    /// (assumption: AWS words the error as the reason); an Express execution is refused as
    /// for GetExecutionHistory ("This API action is not supported by EXPRESS state
    /// machines"); stopping inside a Parallel or Map state is not supported yet.
    pub fn redrive_execution(&mut self, execution_arn: &str) -> Result<Timestamp, ServiceError> {
        let i = self.index(execution_arn)?;
        if self.executions[i].express {
            return Err(ServiceError::new(
                "InvalidArn",
                "Invalid Arn: 'Resource type not valid in this context: express'",
            ));
        }
        if let Some(reason) = self.not_redrivable(i) {
            return Err(ServiceError::new("ExecutionNotRedrivable", reason));
        }
        let now = self.now;
        let e = self.executions[i].execution.as_mut().expect("put back");
        e.redrive(now)
            .map_err(|what| ServiceError::new("ValidationException", what))?;
        self.active.insert(i);
        self.executions[i].redrive_date = Some(now);
        self.run_until_idle()?;
        Ok(now)
    }

    /// DescribeExecution.
    pub fn describe_execution(
        &self,
        execution_arn: &str,
    ) -> Result<ExecutionDescription, ServiceError> {
        let i = self.index(execution_arn)?;
        Ok(self.describe_index(i))
    }

    /// Every execution the service has started, oldest first.
    pub fn executions(&self) -> Vec<ExecutionDescription> {
        (0..self.executions.len())
            .map(|i| self.describe_index(i))
            .collect()
    }

    /// ListExecutions of a state machine, newest first, optionally only those with `status`.
    pub fn list_executions(
        &self,
        state_machine_arn: &str,
        status: Option<ExecutionStatus>,
    ) -> Result<Vec<ExecutionDescription>, ServiceError> {
        check_arn(state_machine_arn, "stateMachine")?;
        if !self.machines.contains_key(state_machine_arn)
            && !self
                .executions
                .iter()
                .any(|r| r.state_machine_arn == state_machine_arn)
        {
            return Err(ServiceError::new(
                "StateMachineDoesNotExist",
                format!("State Machine Does Not Exist: '{state_machine_arn}'"),
            ));
        }
        Ok((0..self.executions.len())
            .rev()
            .filter(|&i| self.executions[i].state_machine_arn == state_machine_arn)
            .map(|i| self.describe_index(i))
            .filter(|d| status.is_none_or(|s| d.status == s))
            .collect())
    }

    /// GetExecutionHistory: every event so far, oldest first.
    ///
    /// Express executions keep no history ("This API action is not supported by EXPRESS
    /// state machines", the API reference); their ARNs are refused as AWS refuses an ARN of
    /// the wrong resource type (`Invalid Arn: 'Resource type not valid in this context:
    /// stateMachine'` for a state machine ARN, reported from DescribeExecution). Assumption:
    /// the same wording with `express`. Their events are in [`Service::express_logs`].
    pub fn get_execution_history(&self, execution_arn: &str) -> Result<Vec<Event>, ServiceError> {
        let i = self.index(execution_arn)?;
        if self.executions[i].express {
            return Err(ServiceError::new(
                "InvalidArn",
                "Invalid Arn: 'Resource type not valid in this context: express'",
            ));
        }
        if let Some(err) = self.history_dropped(i) {
            return Err(err);
        }
        let e = self.executions[i].execution.as_ref().expect("put back");
        Ok(e.history().to_vec())
    }

    /// The log records of an execution as CloudWatch Logs receives them from a state machine
    /// logging at level ALL with execution data included: one JSON object per history event,
    /// `{"id", "type", "details", "previous_event_id", "event_timestamp", "execution_arn",
    /// "redrive_count"}`. This is where an Express execution's events are, since it has no
    /// GetExecutionHistory; a Standard execution logs the same records.
    ///
    /// The record shape and field order are those of executions recorded on AWS (LocalStack's
    /// `test_logs` and `test_express_async` snapshots): ids as text, `details` the event's
    /// `*EventDetails` object. Assumptions: `event_timestamp` is epoch milliseconds as text
    /// (the snapshots mask it); an event without details (`ParallelStateStarted`, ...) has no
    /// `details` field, as LocalStack writes it.
    pub fn express_logs(&self, execution_arn: &str) -> Result<Vec<Value>, ServiceError> {
        let i = self.index(execution_arn)?;
        if let Some(err) = self.history_dropped(i) {
            return Err(err);
        }
        let r = &self.executions[i];
        let e = r.execution.as_ref().expect("put back");
        // Each record carries the redrive count of its moment: events before the first
        // ExecutionRedriven were logged with 0.
        let mut redrives = 0;
        Ok(e.history()
            .iter()
            .map(|event| {
                if let crate::history::EventKind::ExecutionRedriven { redrive_count } = event.kind {
                    redrives = redrive_count;
                }
                log_record(event, &r.arn, redrives)
            })
            .collect())
    }

    /// The tasks of an execution that wait for a callback, with their tokens.
    pub fn waiting_tasks(
        &self,
        execution_arn: &str,
    ) -> Result<Vec<crate::interpreter::WaitingTask>, ServiceError> {
        let i = self.index(execution_arn)?;
        let e = self.executions[i].execution.as_ref().expect("put back");
        Ok(e.waiting_tasks())
    }

    /// StopExecution: the execution ends as ABORTED; children it started with `.sync`
    /// stop too.
    pub fn stop_execution(
        &mut self,
        execution_arn: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<Timestamp, ServiceError> {
        let i = self.index(execution_arn)?;
        self.stop_index(i, error, cause);
        self.run_until_idle()?;
        Ok(self.now)
    }

    fn stop_index(&mut self, i: usize, error: Option<String>, cause: Option<String>) {
        if let Some(e) = self.executions[i].execution.as_mut() {
            e.stop(error, cause);
        }
        let children: Vec<usize> = (0..self.executions.len())
            .filter(|&c| {
                self.executions[c]
                    .parent
                    .as_ref()
                    .is_some_and(|p| p.parent == i && p.sync_json.is_some())
            })
            .collect();
        for c in children {
            self.executions[c].reported = true;
            self.stop_index(c, None, None);
        }
    }

    // ----- callbacks -----

    fn token_index(&self, token: &str) -> Result<usize, ServiceError> {
        let arn = token_execution_arn(token).ok_or_else(|| {
            ServiceError::new("InvalidToken", format!("Invalid token: '{token}'"))
        })?;
        self.by_arn
            .get(&arn)
            .copied()
            .ok_or_else(|| ServiceError::new("TaskDoesNotExist", "Task does not exist anymore"))
    }

    fn callback(&mut self, token: &str, callback: Callback) -> Result<(), ServiceError> {
        let i = self.token_index(token)?;
        let Some(e) = self.executions[i].execution.as_mut() else {
            // The execution is running this very moment (a state answering its own token).
            self.deferred.push((i, callback));
            return Ok(());
        };
        match callback {
            Callback::Success(t, output) => e.send_task_success(&t, output)?,
            Callback::Failure(t, error, cause) => e.send_task_failure(&t, error, cause)?,
            Callback::Heartbeat(t) => e.send_task_heartbeat(&t)?,
        }
        Ok(())
    }

    /// SendTaskSuccess. `output` is JSON text, as on the API.
    pub fn send_task_success(&mut self, token: &str, output: &str) -> Result<(), ServiceError> {
        let output: Value = serde_json::from_str(output)
            .map_err(|e| ServiceError::new("InvalidOutput", format!("Invalid output: {e}")))?;
        self.callback(token, Callback::Success(token.into(), output))?;
        self.run_until_idle()
    }

    /// SendTaskFailure.
    pub fn send_task_failure(
        &mut self,
        token: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<(), ServiceError> {
        self.callback(token, Callback::Failure(token.into(), error, cause))?;
        self.run_until_idle()
    }

    /// SendTaskHeartbeat.
    pub fn send_task_heartbeat(&mut self, token: &str) -> Result<(), ServiceError> {
        self.callback(token, Callback::Heartbeat(token.into()))?;
        self.run_until_idle()
    }

    // ----- scripted callers -----

    /// Scripts a callback for an execution: at the call's instant (counted from the
    /// execution's start, or absolute), the service sends its success, failure or heartbeat
    /// for the token the named state issued (its `occurrence`-th), as if a caller outside
    /// did. Nothing runs now: [`Service::run_until_idle`] and [`Service::advance`] move the
    /// clock to each scripted instant and send the call there.
    ///
    /// Order at one instant: the executions' own timers that fall due then (Waits, task
    /// durations, timeouts) run first, then the scripted calls in the order they were
    /// scripted. So a heartbeat scripted exactly at a heartbeat deadline comes too late, as a
    /// heartbeat that arrives when the deadline has passed does.
    ///
    /// An instant before the current time is refused (`ValidationException`). What happened
    /// to each call is in [`Service::script_log`].
    pub fn script(&mut self, execution_arn: &str, call: ScriptedCall) -> Result<(), ServiceError> {
        let i = self.index(execution_arn)?;
        let start = self.executions[i]
            .execution
            .as_ref()
            .map_or(self.now, Execution::start_time);
        let due = match call.at {
            ScriptTime::AfterStart(ms) => start.plus_millis(ms.min(i64::MAX as u64) as i64),
            ScriptTime::At(t) => t,
        };
        if due < self.now {
            return Err(ServiceError::new(
                "ValidationException",
                format!(
                    "the scripted {} call for state '{}' is due at {due}, before the current time {}",
                    call.action.name(),
                    call.state,
                    self.now
                ),
            ));
        }
        self.scripts.push(PendingScript {
            execution: i,
            due,
            call,
        });
        Ok(())
    }

    /// StartExecution with scripted calls for the new execution (see [`Service::script`]),
    /// registered before it runs, so a call may come at any instant from its start on.
    pub fn start_execution_with_script(
        &mut self,
        state_machine_arn: &str,
        name: Option<&str>,
        input: Option<&str>,
        calls: Vec<ScriptedCall>,
    ) -> Result<ExecutionDescription, ServiceError> {
        if let Some(early) = calls.iter().find_map(|c| match c.at {
            ScriptTime::At(t) if t < self.now => Some(t),
            _ => None,
        }) {
            return Err(ServiceError::new(
                "ValidationException",
                format!(
                    "a scripted call is due at {early}, before the execution starts at {}",
                    self.now
                ),
            ));
        }
        let i = self.start_inner(state_machine_arn, name, input, None)?;
        let arn = self.executions[i].arn.clone();
        for call in calls {
            self.script(&arn, call)?;
        }
        self.run_until_idle()?;
        Ok(self.describe_index(i))
    }

    /// What happened to each scripted call sent so far, in the order they were sent.
    pub fn script_log(&self) -> &[ScriptRecord] {
        &self.script_log
    }

    /// The earliest instant of a scripted call for an execution that still runs.
    fn next_script(&self) -> Option<Timestamp> {
        self.scripts
            .iter()
            .filter(|p| self.is_running(p.execution))
            .map(|p| p.due)
            .min()
    }

    fn is_running(&self, i: usize) -> bool {
        self.executions[i]
            .execution
            .as_ref()
            .is_some_and(|e| e.status() == ExecutionStatus::Running)
    }

    /// Sends the earliest scripted call that is due (ties in the order they were scripted).
    /// One at a time: the executions go on between two calls due at the same instant (in no
    /// virtual time), as they would between two requests of a real caller, so a second call
    /// can answer a token the first one's effect issued. A call for an execution that has
    /// ended is sent at once, whatever its instant: it can only find that the task no longer
    /// exists, and waiting for it would move the clock for the other executions for nothing.
    /// Returns whether one was sent.
    fn fire_scripts(&mut self) -> bool {
        let now = self.now;
        let first = self
            .scripts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.due <= now || !self.is_running(p.execution))
            // `min_by_key` keeps the first of equal keys: the scripting order.
            .min_by_key(|(_, p)| p.due)
            .map(|(i, _)| i);
        let due: Vec<PendingScript> = first.map(|i| self.scripts.remove(i)).into_iter().collect();
        let fired = !due.is_empty();
        for p in due {
            let record = &self.executions[p.execution];
            let token = record
                .issued
                .iter()
                .filter(|(state, _)| *state == p.call.state)
                .nth(p.call.occurrence as usize - 1)
                .map(|(_, t)| t.clone());
            let result = match &token {
                None => {
                    let issued = record
                        .issued
                        .iter()
                        .filter(|(state, _)| *state == p.call.state)
                        .count();
                    // Assumption of ours, no AWS behaviour: a call whose token was never
                    // issued is what AWS answers for a token it does not know.
                    Err(ServiceError::new(
                        "TaskDoesNotExist",
                        format!(
                            "state '{}' had issued {issued} task token(s) by {now}; token {} of it does not exist",
                            p.call.state, p.call.occurrence
                        ),
                    ))
                }
                Some(t) => {
                    let cb = match &p.call.action {
                        ScriptedAction::Success { output } => {
                            Callback::Success(t.clone(), output.clone())
                        }
                        ScriptedAction::Failure { error, cause } => {
                            Callback::Failure(t.clone(), error.clone(), cause.clone())
                        }
                        ScriptedAction::Heartbeat => Callback::Heartbeat(t.clone()),
                    };
                    self.callback(t, cb)
                }
            };
            self.script_log.push(ScriptRecord {
                execution_arn: self.executions[p.execution].arn.clone(),
                call: p.call,
                due: p.due,
                token,
                result,
            });
        }
        fired
    }

    // ----- activities -----

    /// CreateActivity (idempotent for an existing name).
    pub fn create_activity(&mut self, name: &str) -> Result<(String, Timestamp), ServiceError> {
        if !valid_name(name) {
            return Err(ServiceError::new(
                "InvalidName",
                format!("Invalid Name: '{name}'"),
            ));
        }
        let arn = self.arn("activity", name);
        if let Some(a) = self.activities.get(&arn) {
            return Ok((arn, a.creation_date));
        }
        self.activities.insert(
            arn.clone(),
            ActivityRecord {
                name: name.into(),
                creation_date: self.now,
                queue: VecDeque::new(),
            },
        );
        self.activity_order.push(arn.clone());
        Ok((arn, self.now))
    }

    /// DescribeActivity: its name and creation date.
    pub fn describe_activity(&self, arn: &str) -> Result<(String, Timestamp), ServiceError> {
        check_arn(arn, "activity")?;
        self.activities
            .get(arn)
            .map(|a| (a.name.clone(), a.creation_date))
            .ok_or_else(|| {
                ServiceError::new(
                    "ActivityDoesNotExist",
                    format!("Activity Does Not Exist: '{arn}'"),
                )
            })
    }

    /// ListActivities: (ARN, name, creation date) in creation order.
    pub fn list_activities(&self) -> Vec<(String, String, Timestamp)> {
        self.activity_order
            .iter()
            .filter_map(|arn| {
                self.activities
                    .get(arn)
                    .map(|a| (arn.clone(), a.name.clone(), a.creation_date))
            })
            .collect()
    }

    /// DeleteActivity.
    pub fn delete_activity(&mut self, arn: &str) -> Result<(), ServiceError> {
        check_arn(arn, "activity")?;
        self.activities.remove(arn);
        self.activity_order.retain(|a| a != arn);
        Ok(())
    }

    /// GetActivityTask: the oldest task waiting for a worker of this activity, which is then
    /// started (ActivityStarted), or `None` when there is none (AWS answers an empty token
    /// after its long poll; in virtual time nothing arrives while the caller waits).
    pub fn get_activity_task(
        &mut self,
        activity_arn: &str,
        worker_name: Option<&str>,
    ) -> Result<Option<ActivityTask>, ServiceError> {
        self.describe_activity(activity_arn)?;
        loop {
            let Some((i, token)) = self
                .activities
                .get_mut(activity_arn)
                .and_then(|a| a.queue.pop_front())
            else {
                return Ok(None);
            };
            let Some(e) = self.executions[i].execution.as_mut() else {
                continue;
            };
            let Some(task) = e
                .waiting_tasks()
                .into_iter()
                .find(|w| w.token == token && w.needs_worker)
            else {
                continue;
            };
            e.activity_started(&token, worker_name.map(str::to_string))?;
            self.run_until_idle()?;
            return Ok(Some(ActivityTask {
                task_token: token,
                input: task.input,
            }));
        }
    }

    // ----- time -----

    /// Runs every execution until nothing can happen without a callback from outside or
    /// the clock passing a callback timeout. Time jumps to each next timer on the way.
    pub fn run_until_idle(&mut self) -> Result<(), ServiceError> {
        self.run_until_idle_inner()?;
        match self.handler_error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn run_until_idle_inner(&mut self) -> Result<(), ServiceError> {
        loop {
            self.settle()?;
            if !self.auto_advance {
                // The driver moves the clock (wall-clock time): what is due has run.
                return Ok(());
            }
            // Time moves only while some execution has a timer of its own; callback timeouts
            // that come earlier fire on the way, at their own time.
            // A scripted call is a timer too: its instant comes by itself.
            let timers = self.running().filter_map(Execution::next_wake).min();
            let Some(wake) = earliest(timers, self.next_script()) else {
                return Ok(());
            };
            let timeout = self.running().filter_map(Execution::next_timeout).min();
            let next = earliest(Some(wake), timeout).unwrap_or(wake);
            if next <= self.now {
                // Everything due now has run; a timer that claims otherwise would spin.
                return Ok(());
            }
            self.set_time(next);
        }
    }

    /// Moves the virtual clock forward by `ms`, firing on the way every timer and callback
    /// timeout that falls due.
    pub fn advance(&mut self, ms: u64) -> Result<(), ServiceError> {
        let target = self.now.plus_millis(ms.min(i64::MAX as u64) as i64);
        loop {
            self.settle()?;
            let own = self
                .running()
                .filter_map(|e| earliest(e.next_wake(), e.next_timeout()))
                .min();
            let next = earliest(own, self.next_script());
            match next {
                Some(t) if t <= target && t > self.now => self.set_time(t),
                _ => break,
            }
        }
        self.set_time(target);
        self.run_until_idle()
    }

    fn running(&self) -> impl Iterator<Item = &Execution> {
        self.active
            .iter()
            .filter_map(|&i| self.executions[i].execution.as_ref())
            .filter(|e| e.status() == ExecutionStatus::Running)
    }

    fn set_time(&mut self, t: Timestamp) {
        if t > self.now {
            self.now = t;
        }
        let now = self.now;
        for &i in &self.active {
            if let Some(e) = self.executions[i].execution.as_mut() {
                if e.status() == ExecutionStatus::Running {
                    e.advance_to(now);
                }
            }
        }
    }

    /// Runs what is due now in every execution, until nothing more is.
    fn settle(&mut self) -> Result<(), ServiceError> {
        loop {
            let mut progressed = false;
            // A snapshot: executions started during the pass are visited by the next one.
            let active: Vec<usize> = self.active.iter().copied().collect();
            for i in active {
                let due = self.executions[i].execution.as_ref().is_some_and(|e| {
                    e.status() == ExecutionStatus::Running
                        && earliest(e.next_wake(), e.next_timeout()).is_some_and(|w| w <= self.now)
                });
                if due {
                    self.step_execution(i)?;
                    progressed = true;
                }
                if self.report_end(i) {
                    progressed = true;
                }
            }
            for (i, cb) in std::mem::take(&mut self.deferred) {
                let token = match &cb {
                    Callback::Success(t, _)
                    | Callback::Failure(t, _, _)
                    | Callback::Heartbeat(t) => t.clone(),
                };
                if self.executions[i].execution.is_some() {
                    self.callback(&token, cb)?;
                    progressed = true;
                }
            }
            if self.fire_scripts() {
                progressed = true;
            }
            if !progressed {
                self.prune_active();
                return Ok(());
            }
        }
    }

    /// Drops from `active` the executions that have ended and have nothing left to report.
    /// One taken out of its slot (running this moment) stays.
    fn prune_active(&mut self) {
        let executions = &self.executions;
        let mut ended = Vec::new();
        self.active.retain(|&i| {
            let r = &executions[i];
            let keep = r.execution.as_ref().is_none_or(|e| {
                e.status() == ExecutionStatus::Running || (r.parent.is_some() && !r.reported)
            });
            if !keep {
                ended.push(i);
            }
            keep
        });
        if self.history_budget != usize::MAX {
            self.keep_within_budget(ended);
        }
    }

    /// Counts the histories of executions that have just ended, then drops the oldest
    /// ended histories until the kept events are within the budget. An execution that
    /// runs again (redriven) is counted again when it ends again.
    fn keep_within_budget(&mut self, ended: Vec<usize>) {
        for i in ended {
            let n = self.executions[i].execution.as_mut().map_or(0, |e| {
                e.compact();
                e.history().len()
            });
            self.retained_events += n;
            self.ended.push_back((i, n));
        }
        while self.retained_events > self.history_budget {
            let Some((i, n)) = self.ended.pop_front() else {
                break;
            };
            self.retained_events = self.retained_events.saturating_sub(n);
            if let Some(e) = self.executions[i].execution.as_mut() {
                e.forget_history();
            }
        }
    }

    /// The error for an API call that needs the events of a history the service dropped
    /// (see [`Service::with_history_budget`]). AWS has no such case; `ResourceNotFound` is
    /// its error for a resource that is not there.
    fn history_dropped(&self, i: usize) -> Option<ServiceError> {
        let e = self.executions[i].execution.as_ref()?;
        e.history_forgotten().then(|| {
            ServiceError::new(
                "ResourceNotFound",
                format!(
                    "The history of execution '{}' is no longer kept: the service keeps at most {} history events of ended executions, and dropped the oldest (stepcheck serve --history-budget).",
                    self.executions[i].arn, self.history_budget
                ),
            )
        })
    }

    fn step_execution(&mut self, i: usize) -> Result<(), ServiceError> {
        let mut execution = self.executions[i].execution.take().expect("present");
        let mut handler = self.executions[i].handler.take().expect("present");
        let result = {
            let mut routing = Routing {
                service: self,
                user: handler.as_mut(),
                current: i,
            };
            execution.run_due(&mut routing)
        };
        if let Err(e) = &result {
            // The handler could not answer (no mock, a mock that cannot answer): the step
            // stopped half-way, so the execution cannot go on. It ends FAILED
            // (States.Runtime, the cause naming the state) instead of staying RUNNING for
            // ever, the other executions go on (a parent waiting for it with `.sync` learns
            // of the failure), and the API call that ran into it reports the error.
            execution.fail_for_handler(e);
            if self.handler_error.is_none() {
                self.handler_error = Some(ServiceError::new("ValidationException", e.to_string()));
            }
        }
        self.executions[i].execution = Some(execution);
        self.executions[i].handler = Some(handler);
        Ok(())
    }

    /// Reports a finished child execution's end to a parent that waits for it (`.sync`).
    fn report_end(&mut self, i: usize) -> bool {
        let r = &self.executions[i];
        let Some(link) = r.parent.clone() else {
            return false;
        };
        let Some(e) = r.execution.as_ref() else {
            return false;
        };
        if r.reported || e.status() == ExecutionStatus::Running {
            return false;
        }
        self.executions[i].reported = true;
        let Some(json_output) = link.sync_json else {
            return false;
        };
        let d = self.describe_index(i);
        let shape = sync_output(&d, json_output);
        let Some(parent) = self.executions[link.parent].execution.as_mut() else {
            return false;
        };
        // A parent that has moved on (stopped, timed out) no longer waits: nothing to do.
        let _ = match d.status {
            ExecutionStatus::Succeeded => parent.send_task_success(&link.token, shape),
            // AWS fails the parent task with States.TaskFailed and the child's
            // DescribeExecution result as the cause.
            _ => parent.send_task_failure(
                &link.token,
                Some("States.TaskFailed".into()),
                Some(serde_json::to_string(&shape).unwrap_or_default()),
            ),
        };
        true
    }
}

/// One CloudWatch Logs record of an event (see [`Service::express_logs`]).
fn log_record(event: &Event, execution_arn: &str, redrive_count: u32) -> Value {
    let api = event.to_api_json();
    let details = api
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.ends_with("EventDetails")))
        .map(|(_, v)| v.clone());
    let mut m = Map::new();
    m.insert("id".into(), json!(event.id.0.to_string()));
    m.insert("type".into(), json!(event.kind.type_name()));
    if let Some(d) = details {
        m.insert("details".into(), d);
    }
    m.insert(
        "previous_event_id".into(),
        json!(event.previous_event_id.0.to_string()),
    );
    m.insert(
        "event_timestamp".into(),
        json!(event.timestamp.millis().to_string()),
    );
    m.insert("execution_arn".into(), json!(execution_arn));
    m.insert("redrive_count".into(), json!(redrive_count.to_string()));
    Value::Object(m)
}

/// The earlier of two optional times.
fn earliest(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// `arn` with an optional `#TestCase` split off.
fn split_test_case(arn: &str) -> (&str, Option<&str>) {
    match arn.split_once('#') {
        Some((a, case)) => (a, Some(case)),
        None => (arn, None),
    }
}

/// Checks that `arn` is an ARN of the given resource kind (InvalidArn otherwise).
fn check_arn(arn: &str, kind: &str) -> Result<(), ServiceError> {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() >= 7 && parts[0] == "arn" && parts[2] == "states" && parts[5] == kind {
        Ok(())
    } else {
        Err(ServiceError::new(
            "InvalidArn",
            format!("Invalid Arn: '{arn}'"),
        ))
    }
}

/// The result of a `.sync` (Output as text) or `.sync:2` (Output as JSON) child execution:
/// its DescribeExecution response. Assumption: the field set of DescribeExecution's
/// response with dates as epoch milliseconds, as AWS's nested-workflow examples show.
fn sync_output(d: &ExecutionDescription, json_output: bool) -> Value {
    let mut m = Map::new();
    let text = |v: &Value| Value::String(serde_json::to_string(v).unwrap_or_default());
    m.insert("ExecutionArn".into(), json!(d.execution_arn));
    m.insert(
        "Input".into(),
        if json_output {
            d.input.clone()
        } else {
            text(&d.input)
        },
    );
    m.insert("InputDetails".into(), json!({"Included": true}));
    m.insert("Name".into(), json!(d.name));
    if let Some(o) = &d.output {
        m.insert(
            "Output".into(),
            if json_output { o.clone() } else { text(o) },
        );
        m.insert("OutputDetails".into(), json!({"Included": true}));
    }
    if let Some(e) = &d.error {
        m.insert("Error".into(), json!(e));
    }
    if let Some(c) = &d.cause {
        m.insert("Cause".into(), json!(c));
    }
    m.insert("StartDate".into(), millis(d.start_date));
    m.insert("StateMachineArn".into(), json!(d.state_machine_arn));
    m.insert("Status".into(), json!(d.status.as_str()));
    if let Some(s) = d.stop_date {
        m.insert("StopDate".into(), millis(s));
    }
    Value::Object(m)
}

/// The handler an execution runs with inside the service: its own handler (mocks) first,
/// then the service's integrations: activities, `states:startExecution` and `aws-sdk:sfn`.
struct Routing<'s> {
    service: &'s mut Service,
    user: &'s mut dyn TaskHandler,
    current: usize,
}

impl TaskHandler for Routing<'_> {
    fn invoke(&mut self, request: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
        let record = &mut self.service.executions[self.current];
        if let Some(token) = request.task_token {
            record
                .issued
                .push((request.state_name.to_string(), token.to_string()));
        }
        let replay = record.express
            && self
                .service
                .replayed_states
                .iter()
                .any(|s| s == request.state_name);
        if replay {
            // At-least-once (Express): the task runs, its result is lost, and it runs again;
            // the second answer is the one the execution sees.
            let _lost = self.route(request);
        }
        self.route(request)
    }
}

impl Routing<'_> {
    /// The task's answer: the execution's own handler first, then the service's
    /// integrations.
    fn route(&mut self, request: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
        match self.user.invoke(request) {
            Err(TaskHandlerError::NoMock { .. }) => {}
            other => return other,
        }
        let no_mock = || TaskHandlerError::NoMock {
            state: request.state_name.to_string(),
            resource: request.resource.to_string(),
        };
        let token = request.task_token.unwrap_or_default().to_string();
        let parts: Vec<&str> = request.resource.split(':').collect();
        if parts.len() == 7 && parts[5] == "activity" {
            let Some(a) = self.service.activities.get_mut(request.resource) else {
                return Err(TaskHandlerError::MockFailed {
                    state: request.state_name.into(),
                    reason: format!("the activity {} does not exist", request.resource),
                });
            };
            a.queue.push_back((self.current, token));
            return Ok(pending(None));
        }
        let Some(action) = request.resource.strip_prefix("arn:aws:states:::") else {
            return Err(no_mock());
        };
        let p = request.parameters;
        let field = |name: &str| p.get(name).and_then(Value::as_str).map(str::to_string);
        match action {
            "states:startExecution"
            | "states:startExecution.sync"
            | "states:startExecution.sync:2"
            | "states:startExecution.waitForTaskToken"
            | "aws-sdk:sfn:startExecution" => {
                let sync_json = match action {
                    "states:startExecution.sync" => Some(false),
                    "states:startExecution.sync:2" => Some(true),
                    _ => None,
                };
                let Some(machine) = field("StateMachineArn") else {
                    return Ok(sdk_error(
                        "ValidationException",
                        "StateMachineArn is required",
                        action,
                    ));
                };
                // The optimised integration takes Input as JSON or as text; the SDK call
                // takes text.
                let input = match p.get("Input") {
                    None | Some(Value::Null) => "{}".to_string(),
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                };
                let link = ParentLink {
                    parent: self.current,
                    token: token.clone(),
                    sync_json,
                };
                let started = self.service.start_inner(
                    &machine,
                    field("Name").as_deref(),
                    Some(&input),
                    Some(link),
                );
                let child = match started {
                    Ok(i) => self.service.describe_index(i),
                    Err(e) => return Ok(sdk_error(e.code, &e.message, action)),
                };
                let mut response = Map::new();
                response.insert("ExecutionArn".into(), json!(child.execution_arn));
                if !action.starts_with("aws-sdk") {
                    response.extend(sdk_metadata());
                }
                response.insert("StartDate".into(), millis(child.start_date));
                let response = Value::Object(response);
                // The task waits for the child (`.sync`, `.sync:2`) or for the token
                // (`.waitForTaskToken`); either way AWS records TaskSubmitted with the
                // StartExecution response, as for every callback integration (executions
                // recorded on AWS: LocalStack's `test_callback` snapshots).
                Ok(match action {
                    "states:startExecution.sync"
                    | "states:startExecution.sync:2"
                    | "states:startExecution.waitForTaskToken" => pending(Some(response)),
                    _ => TaskResponse::success(response),
                })
            }
            "aws-sdk:sfn:sendTaskSuccess" => {
                let (Some(t), Some(out)) = (field("TaskToken"), field("Output")) else {
                    return Ok(sdk_error(
                        "ValidationException",
                        "TaskToken and Output are required",
                        action,
                    ));
                };
                let out: Value = match serde_json::from_str(&out) {
                    Ok(v) => v,
                    Err(e) => return Ok(sdk_error("InvalidOutput", &e.to_string(), action)),
                };
                Ok(self.send(&t, Callback::Success(t.clone(), out), action))
            }
            "aws-sdk:sfn:sendTaskFailure" => {
                let Some(t) = field("TaskToken") else {
                    return Ok(sdk_error(
                        "ValidationException",
                        "TaskToken is required",
                        action,
                    ));
                };
                let cb = Callback::Failure(t.clone(), field("Error"), field("Cause"));
                Ok(self.send(&t, cb, action))
            }
            "aws-sdk:sfn:sendTaskHeartbeat" => {
                let Some(t) = field("TaskToken") else {
                    return Ok(sdk_error(
                        "ValidationException",
                        "TaskToken is required",
                        action,
                    ));
                };
                Ok(self.send(&t, Callback::Heartbeat(t.clone()), action))
            }
            "aws-sdk:sfn:describeExecution" | "aws-sdk:sfn:stopExecution" => {
                let Some(arn) = field("ExecutionArn") else {
                    return Ok(sdk_error(
                        "ValidationException",
                        "ExecutionArn is required",
                        action,
                    ));
                };
                let i = match self.service.index(&arn) {
                    Ok(i) => i,
                    Err(e) => return Ok(sdk_error(e.code, &e.message, action)),
                };
                if i == self.current {
                    // The execution is taken out of its slot while it steps.
                    return Err(TaskHandlerError::MockFailed {
                        state: request.state_name.into(),
                        reason: format!("not supported yet: {action} on the execution itself"),
                    });
                }
                if action == "aws-sdk:sfn:stopExecution" {
                    self.service.stop_index(i, field("Error"), field("Cause"));
                    return Ok(TaskResponse::success(
                        json!({"StopDate": millis(self.service.now)}),
                    ));
                }
                let d = self.service.describe_index(i);
                Ok(TaskResponse::success(sync_output(&d, false)))
            }
            _ => Err(no_mock()),
        }
    }
    /// A callback sent from inside a task: `{}` on success, the API's error otherwise.
    fn send(&mut self, token: &str, cb: Callback, action: &str) -> TaskResponse {
        match self.service.token_index(token) {
            Err(e) => sdk_error(e.code, &e.message, action),
            Ok(i) if i == self.current => {
                self.service.deferred.push((i, cb));
                TaskResponse::success(json!({}))
            }
            Ok(_) => match self.service.callback(token, cb) {
                Ok(()) => TaskResponse::success(json!({})),
                Err(e) => sdk_error(e.code, &e.message, action),
            },
        }
    }
}

fn pending(submitted: Option<Value>) -> TaskResponse {
    TaskResponse {
        outcome: TaskOutcome::Pending { submitted },
        duration_ms: 0,
        submitted: None,
    }
}

/// An API error as a task sees it: `Sfn.<Code>Exception` for `aws-sdk:sfn` actions (AWS's
/// naming for SDK integrations), `States.TaskFailed` otherwise.
fn sdk_error(code: &str, message: &str, action: &str) -> TaskResponse {
    let error = if action.starts_with("aws-sdk:sfn:") {
        let code = code.strip_suffix("Exception").unwrap_or(code);
        format!("Sfn.{code}Exception")
    } else {
        "States.TaskFailed".to_string()
    };
    TaskResponse::failure(
        error,
        Some(format!(
            "{message} (Service: Sfn, Status Code: 400, Error Code: {code})"
        )),
    )
}

/// The `SdkHttpMetadata`/`SdkResponseMetadata` that optimised integrations add to a result.
fn sdk_metadata() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "SdkHttpMetadata".into(),
        json!({
            "AllHttpHeaders": {
                "Content-Type": ["application/x-amz-json-1.0"],
            },
            "HttpHeaders": {
                "Content-Type": "application/x-amz-json-1.0",
            },
            "HttpStatusCode": 200
        }),
    );
    m.insert(
        "SdkResponseMetadata".into(),
        json!({"RequestId": "00000000-0000-0000-0000-000000000000"}),
    );
    m
}
