//! Execution history events, shaped exactly as GetExecutionHistory returns them.
//!
//! Payloads (`input`, `output`) are kept as the JSON text AWS sends; the engine serialises a
//! payload once, when the event is recorded, and that text also gives the payload size checked
//! against the 256 KiB limit.

use crate::clock::Timestamp;
use serde_json::{json, Map, Value};
use smol_str::SmolStr;
use std::fmt;

/// An event's position in the history: 1 for the first event, 0 for "none".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EventId(pub u64);

/// Events of a Distributed Map's child executions are not part of the parent's history: their
/// ids carry this bit, the child execution's number in bits 32..63 and the id the event has in
/// the child's own history in bits 0..32 (see [`History::start_child`]).
const CHILD_BIT: u64 = 1 << 63;
const LOCAL_MASK: u64 = 0xFFFF_FFFF;

impl EventId {
    /// The id as the execution that owns the event numbers it: for an event of a Distributed
    /// Map child execution, its id in the child's own history.
    pub fn local(self) -> u64 {
        if self.0 & CHILD_BIT != 0 {
            self.0 & LOCAL_MASK
        } else {
            self.0
        }
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.local())
    }
}

/// One history event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// This event's id, from 1.
    pub id: EventId,
    /// The event this one follows from (0 when none).
    pub previous_event_id: EventId,
    /// When it happened (on the execution's clock).
    pub timestamp: Timestamp,
    /// What happened.
    pub kind: EventKind,
}

/// The details of a `TaskScheduled` event.
///
/// Why a struct of its own: an event is moved into the history on every state entry and
/// exit. With these six fields inline every event took 160 bytes, which is moved by a call
/// to `memcpy`; at 128 bytes or less the move is a few vector stores.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskScheduledDetails {
    /// The service, e.g. `lambda`, `sqs`, `aws-sdk:s3`.
    pub resource_type: String,
    /// The action, e.g. `invoke`, `sendMessage`.
    pub resource: String,
    /// The region.
    pub region: String,
    /// The effective parameters as JSON text.
    pub parameters: String,
    /// The state's TimeoutSeconds, when set.
    pub timeout_in_seconds: Option<u64>,
    /// The state's HeartbeatSeconds, when set.
    pub heartbeat_in_seconds: Option<u64>,
}

/// What an event records. The variant gives the API's `type` and its `*EventDetails`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventKind {
    /// `ExecutionStarted`.
    ExecutionStarted {
        /// The execution input as JSON text.
        input: String,
        /// The execution role.
        role_arn: String,
    },
    /// `ExecutionSucceeded`.
    ExecutionSucceeded {
        /// The execution output as JSON text.
        output: String,
    },
    /// `ExecutionFailed`.
    ExecutionFailed {
        /// The error name, when there is one.
        error: Option<String>,
        /// The cause, when there is one.
        cause: Option<String>,
    },
    /// `ExecutionTimedOut`.
    ExecutionTimedOut {
        /// The error name, when there is one.
        error: Option<String>,
        /// The cause, when there is one.
        cause: Option<String>,
    },
    /// `ExecutionAborted`.
    ExecutionAborted {
        /// The error name, when there is one.
        error: Option<String>,
        /// The cause, when there is one.
        cause: Option<String>,
    },
    /// `ExecutionRedriven`: RedriveExecution restarted the execution.
    ExecutionRedriven {
        /// How many times the execution has been redriven, this time included.
        redrive_count: u32,
    },
    /// `<Type>StateEntered`, e.g. `PassStateEntered`.
    StateEntered {
        /// The state's `Type` (`Pass`, `Wait`, ...).
        state_type: &'static str,
        /// The state's name (inline up to 23 bytes, else shared with the state).
        name: SmolStr,
        /// The state input as JSON text.
        input: String,
    },
    /// `<Type>StateExited`, e.g. `PassStateExited`.
    StateExited {
        /// The state's `Type`.
        state_type: &'static str,
        /// The state's name (inline up to 23 bytes, else shared with the state).
        name: SmolStr,
        /// The state output as JSON text.
        output: String,
        /// The variables the state assigned, each value as JSON text
        /// (`assignedVariables`); recorded only when there is at least one. Boxed, so that
        /// the commonest events stay small (see [`TaskScheduledDetails`]).
        assigned: Option<Box<serde_json::Map<String, serde_json::Value>>>,
    },
    /// `<Type>StateAborted`: a state that was running when its branch was stopped.
    StateAborted {
        /// The state's `Type`.
        state_type: &'static str,
    },
    /// `ParallelStateStarted`.
    ParallelStateStarted,
    /// `ParallelStateSucceeded`.
    ParallelStateSucceeded,
    /// `ParallelStateFailed`.
    ParallelStateFailed,
    /// `MapStateStarted`.
    MapStateStarted {
        /// How many items the Map runs.
        length: usize,
    },
    /// `MapStateSucceeded`.
    MapStateSucceeded,
    /// `MapStateFailed`.
    MapStateFailed,
    /// `MapIterationStarted`, `MapIterationSucceeded`, `MapIterationFailed` or
    /// `MapIterationAborted`.
    MapIteration {
        /// `Started`, `Succeeded`, `Failed` or `Aborted`.
        what: &'static str,
        /// The item's index.
        index: usize,
        /// The Map state's name (inline up to 23 bytes, else shared with the state).
        name: SmolStr,
    },
    /// `LambdaFunctionScheduled` (a Task on a Lambda function ARN).
    LambdaFunctionScheduled {
        /// The function input as JSON text.
        input: String,
        /// The function ARN.
        resource: String,
        /// The state's TimeoutSeconds, when set.
        timeout_in_seconds: Option<u64>,
    },
    /// `LambdaFunctionStarted`.
    LambdaFunctionStarted,
    /// `LambdaFunctionSucceeded`.
    LambdaFunctionSucceeded {
        /// The function result as JSON text.
        output: String,
    },
    /// `LambdaFunctionFailed`.
    LambdaFunctionFailed {
        /// The error name.
        error: Option<String>,
        /// The cause.
        cause: Option<String>,
    },
    /// `LambdaFunctionTimedOut`.
    LambdaFunctionTimedOut {
        /// The error name (`States.Timeout`).
        error: Option<String>,
        /// The cause.
        cause: Option<String>,
    },
    /// `TaskScheduled` (a service integration). Boxed: it is the largest event and a rare
    /// one, and every event takes the room of the largest.
    TaskScheduled(Box<TaskScheduledDetails>),
    /// `TaskStarted`.
    TaskStarted {
        /// The service.
        resource_type: String,
        /// The action.
        resource: String,
    },
    /// `TaskSucceeded`.
    TaskSucceeded {
        /// The service.
        resource_type: String,
        /// The action.
        resource: String,
        /// The service's result as JSON text.
        output: String,
    },
    /// `TaskFailed`.
    TaskFailed {
        /// The service.
        resource_type: String,
        /// The action.
        resource: String,
        /// The error name.
        error: Option<String>,
        /// The cause.
        cause: Option<String>,
    },
    /// `MapRunStarted`: a Distributed Map state started its Map Run.
    MapRunStarted {
        /// `arn:aws:states:REGION:ACCOUNT:mapRun:MACHINE/LABEL:UUID`.
        map_run_arn: String,
    },
    /// `MapRunSucceeded`.
    MapRunSucceeded,
    /// `MapRunFailed`.
    MapRunFailed {
        /// The error name.
        error: Option<String>,
        /// The cause.
        cause: Option<String>,
    },
    /// `MapRunAborted`.
    MapRunAborted,
    /// `TaskTimedOut`.
    TaskTimedOut {
        /// The service.
        resource_type: String,
        /// The action.
        resource: String,
        /// The error name (`States.Timeout` or `States.HeartbeatTimeout`).
        error: Option<String>,
        /// The cause.
        cause: Option<String>,
    },
    /// `TaskSubmitted`: a `.sync` job was submitted; the state now waits for it to finish.
    TaskSubmitted {
        /// The service.
        resource_type: String,
        /// The action.
        resource: String,
        /// The submit call's response as JSON text.
        output: String,
    },
    /// `ActivityScheduled`: an activity task waits for a worker.
    ActivityScheduled {
        /// The activity ARN.
        resource: String,
        /// The task input as JSON text.
        input: String,
        /// The state's TimeoutSeconds, when set.
        timeout_in_seconds: Option<u64>,
        /// The state's HeartbeatSeconds, when set.
        heartbeat_in_seconds: Option<u64>,
    },
    /// `ActivityStarted`: a worker took the task with GetActivityTask.
    ActivityStarted {
        /// The worker's name, when it gave one.
        worker_name: Option<String>,
    },
    /// `ActivitySucceeded`.
    ActivitySucceeded {
        /// The worker's result as JSON text.
        output: String,
    },
    /// `ActivityFailed`.
    ActivityFailed {
        /// The error name.
        error: Option<String>,
        /// The cause.
        cause: Option<String>,
    },
    /// `EvaluationFailed`: a JSONata expression of a state failed (States.QueryEvaluationError).
    EvaluationFailed {
        /// The error name.
        error: String,
        /// The cause.
        cause: String,
        /// The field whose expression failed (`Output/result`, `Items`), when there is one.
        location: Option<String>,
        /// The state's name.
        state: String,
    },
    /// `ActivityTimedOut`.
    ActivityTimedOut {
        /// The error name (`States.Timeout` or `States.HeartbeatTimeout`).
        error: Option<String>,
        /// The cause.
        cause: Option<String>,
    },
}

impl EventKind {
    /// The API's `type` string.
    pub fn type_name(&self) -> String {
        match self {
            EventKind::ExecutionStarted { .. } => "ExecutionStarted".into(),
            EventKind::ExecutionSucceeded { .. } => "ExecutionSucceeded".into(),
            EventKind::ExecutionFailed { .. } => "ExecutionFailed".into(),
            EventKind::ExecutionTimedOut { .. } => "ExecutionTimedOut".into(),
            EventKind::ExecutionAborted { .. } => "ExecutionAborted".into(),
            EventKind::ExecutionRedriven { .. } => "ExecutionRedriven".into(),
            EventKind::StateEntered { state_type, .. } => format!("{state_type}StateEntered"),
            EventKind::StateExited { state_type, .. } => format!("{state_type}StateExited"),
            EventKind::StateAborted { state_type } => format!("{state_type}StateAborted"),
            EventKind::ParallelStateStarted => "ParallelStateStarted".into(),
            EventKind::ParallelStateSucceeded => "ParallelStateSucceeded".into(),
            EventKind::ParallelStateFailed => "ParallelStateFailed".into(),
            EventKind::MapStateStarted { .. } => "MapStateStarted".into(),
            EventKind::MapStateSucceeded => "MapStateSucceeded".into(),
            EventKind::MapStateFailed => "MapStateFailed".into(),
            EventKind::MapIteration { what, .. } => format!("MapIteration{what}"),
            EventKind::LambdaFunctionScheduled { .. } => "LambdaFunctionScheduled".into(),
            EventKind::LambdaFunctionStarted => "LambdaFunctionStarted".into(),
            EventKind::LambdaFunctionSucceeded { .. } => "LambdaFunctionSucceeded".into(),
            EventKind::LambdaFunctionFailed { .. } => "LambdaFunctionFailed".into(),
            EventKind::LambdaFunctionTimedOut { .. } => "LambdaFunctionTimedOut".into(),
            EventKind::TaskScheduled(_) => "TaskScheduled".into(),
            EventKind::TaskStarted { .. } => "TaskStarted".into(),
            EventKind::TaskSucceeded { .. } => "TaskSucceeded".into(),
            EventKind::TaskFailed { .. } => "TaskFailed".into(),
            EventKind::TaskTimedOut { .. } => "TaskTimedOut".into(),
            EventKind::TaskSubmitted { .. } => "TaskSubmitted".into(),
            EventKind::MapRunStarted { .. } => "MapRunStarted".into(),
            EventKind::MapRunSucceeded => "MapRunSucceeded".into(),
            EventKind::MapRunFailed { .. } => "MapRunFailed".into(),
            EventKind::MapRunAborted => "MapRunAborted".into(),
            EventKind::ActivityScheduled { .. } => "ActivityScheduled".into(),
            EventKind::ActivityStarted { .. } => "ActivityStarted".into(),
            EventKind::ActivitySucceeded { .. } => "ActivitySucceeded".into(),
            EventKind::ActivityFailed { .. } => "ActivityFailed".into(),
            EventKind::ActivityTimedOut { .. } => "ActivityTimedOut".into(),
            EventKind::EvaluationFailed { .. } => "EvaluationFailed".into(),
        }
    }
}

impl Event {
    /// The bytes this event occupies: its own record plus the heap memory of its texts (by
    /// capacity). The name in a state or Map iteration event is inline in the record (up to 23
    /// bytes) or shared with the compiled state, so it adds nothing. The benchmarks report
    /// memory per event from it.
    pub fn memory_bytes(&self) -> usize {
        fn s(text: &String) -> usize {
            text.capacity()
        }
        fn o(text: &Option<String>) -> usize {
            text.as_ref().map_or(0, String::capacity)
        }
        let heap = match &self.kind {
            EventKind::ExecutionStarted { input, role_arn } => s(input) + s(role_arn),
            EventKind::ExecutionSucceeded { output }
            | EventKind::LambdaFunctionSucceeded { output }
            | EventKind::ActivitySucceeded { output } => s(output),
            EventKind::ExecutionFailed { error, cause }
            | EventKind::ExecutionTimedOut { error, cause }
            | EventKind::ExecutionAborted { error, cause }
            | EventKind::LambdaFunctionFailed { error, cause }
            | EventKind::LambdaFunctionTimedOut { error, cause }
            | EventKind::MapRunFailed { error, cause }
            | EventKind::ActivityFailed { error, cause }
            | EventKind::ActivityTimedOut { error, cause } => o(error) + o(cause),
            EventKind::StateEntered { input, .. } => s(input),
            EventKind::StateExited {
                output, assigned, ..
            } => {
                s(output)
                    + assigned.as_ref().map_or(0, |vars| {
                        // The boxed map itself, then its names and texts.
                        std::mem::size_of::<serde_json::Map<String, serde_json::Value>>()
                            + vars
                                .iter()
                                .map(|(k, v)| k.capacity() + v.as_str().map_or(0, str::len))
                                .sum::<usize>()
                    })
            }
            // The name is inline in the record, or shared with the state when longer.
            EventKind::MapIteration { .. } => 0,
            EventKind::LambdaFunctionScheduled {
                input, resource, ..
            } => s(input) + s(resource),
            EventKind::TaskScheduled(d) => {
                std::mem::size_of::<TaskScheduledDetails>()
                    + s(&d.resource_type)
                    + s(&d.resource)
                    + s(&d.region)
                    + s(&d.parameters)
            }
            EventKind::TaskStarted {
                resource_type,
                resource,
            } => s(resource_type) + s(resource),
            EventKind::TaskSucceeded {
                resource_type,
                resource,
                output,
            }
            | EventKind::TaskSubmitted {
                resource_type,
                resource,
                output,
            } => s(resource_type) + s(resource) + s(output),
            EventKind::TaskFailed {
                resource_type,
                resource,
                error,
                cause,
            }
            | EventKind::TaskTimedOut {
                resource_type,
                resource,
                error,
                cause,
            } => s(resource_type) + s(resource) + o(error) + o(cause),
            EventKind::MapRunStarted { map_run_arn } => s(map_run_arn),
            EventKind::ActivityScheduled {
                resource, input, ..
            } => s(resource) + s(input),
            EventKind::ActivityStarted { worker_name } => o(worker_name),
            EventKind::EvaluationFailed {
                error,
                cause,
                location,
                state,
            } => s(error) + s(cause) + o(location) + s(state),
            EventKind::ExecutionRedriven { .. }
            | EventKind::StateAborted { .. }
            | EventKind::ParallelStateStarted
            | EventKind::ParallelStateSucceeded
            | EventKind::ParallelStateFailed
            | EventKind::MapStateStarted { .. }
            | EventKind::MapStateSucceeded
            | EventKind::MapStateFailed
            | EventKind::LambdaFunctionStarted
            | EventKind::MapRunSucceeded
            | EventKind::MapRunAborted => 0,
        };
        std::mem::size_of::<Event>() + heap
    }
}

fn error_details(error: &Option<String>, cause: &Option<String>) -> Value {
    error_details_with(Map::new(), error, cause)
}

fn service(resource_type: &str, resource: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "resourceType".into(),
        Value::String(resource_type.to_string()),
    );
    m.insert("resource".into(), Value::String(resource.to_string()));
    m
}

fn error_details_with(
    mut m: Map<String, Value>,
    error: &Option<String>,
    cause: &Option<String>,
) -> Value {
    if let Some(e) = error {
        m.insert("error".into(), Value::String(e.clone()));
    }
    if let Some(c) = cause {
        m.insert("cause".into(), Value::String(c.clone()));
    }
    Value::Object(m)
}

impl Event {
    /// The event as the Step Functions JSON API returns it, with the timestamp as epoch
    /// seconds (the awsJson1_0 wire format).
    pub fn to_api_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("timestamp".into(), json!(self.timestamp.epoch_seconds()));
        m.insert("type".into(), Value::String(self.kind.type_name()));
        m.insert("id".into(), json!(self.id.0));
        m.insert("previousEventId".into(), json!(self.previous_event_id.0));
        let (key, details) = match &self.kind {
            EventKind::ExecutionStarted { input, role_arn } => (
                "executionStartedEventDetails",
                json!({"input": input, "inputDetails": {"truncated": false}, "roleArn": role_arn}),
            ),
            EventKind::ExecutionSucceeded { output } => (
                "executionSucceededEventDetails",
                json!({"output": output, "outputDetails": {"truncated": false}}),
            ),
            EventKind::ExecutionFailed { error, cause } => {
                ("executionFailedEventDetails", error_details(error, cause))
            }
            EventKind::ExecutionTimedOut { error, cause } => {
                ("executionTimedOutEventDetails", error_details(error, cause))
            }
            EventKind::ExecutionAborted { error, cause } => {
                ("executionAbortedEventDetails", error_details(error, cause))
            }
            EventKind::ExecutionRedriven { redrive_count } => (
                "executionRedrivenEventDetails",
                json!({"redriveCount": redrive_count}),
            ),
            EventKind::StateEntered { name, input, .. } => (
                "stateEnteredEventDetails",
                json!({"name": &**name, "input": input, "inputDetails": {"truncated": false}}),
            ),
            EventKind::StateExited {
                name,
                output,
                assigned,
                ..
            } => {
                let mut d = json!({"name": &**name, "output": output, "outputDetails": {"truncated": false}});
                if let Some(vars) = assigned.as_ref().filter(|v| !v.is_empty()) {
                    d["assignedVariables"] = Value::Object((**vars).clone());
                    d["assignedVariablesDetails"] = json!({"truncated": false});
                }
                ("stateExitedEventDetails", d)
            }
            EventKind::LambdaFunctionScheduled {
                input,
                resource,
                timeout_in_seconds,
            } => {
                let mut d = json!({"resource": resource, "input": input, "inputDetails": {"truncated": false}});
                if let Some(t) = timeout_in_seconds {
                    d["timeoutInSeconds"] = json!(t);
                }
                ("lambdaFunctionScheduledEventDetails", d)
            }
            EventKind::LambdaFunctionStarted
            | EventKind::StateAborted { .. }
            | EventKind::ParallelStateStarted
            | EventKind::ParallelStateSucceeded
            | EventKind::ParallelStateFailed
            | EventKind::MapStateSucceeded
            | EventKind::MapStateFailed
            | EventKind::MapRunSucceeded
            | EventKind::MapRunAborted => return Value::Object(m),
            EventKind::EvaluationFailed {
                error,
                cause,
                location,
                state,
            } => {
                let mut d = json!({"error": error, "cause": cause, "state": state});
                if let Some(l) = location {
                    d["location"] = json!(l);
                }
                ("evaluationFailedEventDetails", d)
            }
            EventKind::MapRunStarted { map_run_arn } => (
                "mapRunStartedEventDetails",
                json!({"mapRunArn": map_run_arn}),
            ),
            EventKind::MapRunFailed { error, cause } => {
                ("mapRunFailedEventDetails", error_details(error, cause))
            }
            EventKind::MapStateStarted { length } => {
                ("mapStateStartedEventDetails", json!({"length": length}))
            }
            EventKind::MapIteration { what, index, name } => (
                match *what {
                    "Started" => "mapIterationStartedEventDetails",
                    "Succeeded" => "mapIterationSucceededEventDetails",
                    "Failed" => "mapIterationFailedEventDetails",
                    _ => "mapIterationAbortedEventDetails",
                },
                json!({"name": name.as_str(), "index": index}),
            ),
            EventKind::LambdaFunctionSucceeded { output } => (
                "lambdaFunctionSucceededEventDetails",
                json!({"output": output, "outputDetails": {"truncated": false}}),
            ),
            EventKind::LambdaFunctionFailed { error, cause } => (
                "lambdaFunctionFailedEventDetails",
                error_details(error, cause),
            ),
            EventKind::LambdaFunctionTimedOut { error, cause } => (
                "lambdaFunctionTimedOutEventDetails",
                error_details(error, cause),
            ),
            EventKind::TaskScheduled(task) => {
                let mut d = service(&task.resource_type, &task.resource);
                d.insert("region".into(), json!(task.region));
                d.insert("parameters".into(), json!(task.parameters));
                if let Some(t) = task.timeout_in_seconds {
                    d.insert("timeoutInSeconds".into(), json!(t));
                }
                if let Some(h) = task.heartbeat_in_seconds {
                    d.insert("heartbeatInSeconds".into(), json!(h));
                }
                ("taskScheduledEventDetails", Value::Object(d))
            }
            EventKind::TaskStarted {
                resource_type,
                resource,
            } => (
                "taskStartedEventDetails",
                Value::Object(service(resource_type, resource)),
            ),
            EventKind::TaskSucceeded {
                resource_type,
                resource,
                output,
            } => {
                let mut d = service(resource_type, resource);
                d.insert("output".into(), json!(output));
                d.insert("outputDetails".into(), json!({"truncated": false}));
                ("taskSucceededEventDetails", Value::Object(d))
            }
            EventKind::TaskFailed {
                resource_type,
                resource,
                error,
                cause,
            } => (
                "taskFailedEventDetails",
                error_details_with(service(resource_type, resource), error, cause),
            ),
            EventKind::TaskTimedOut {
                resource_type,
                resource,
                error,
                cause,
            } => (
                "taskTimedOutEventDetails",
                error_details_with(service(resource_type, resource), error, cause),
            ),
            EventKind::TaskSubmitted {
                resource_type,
                resource,
                output,
            } => {
                let mut d = service(resource_type, resource);
                d.insert("output".into(), json!(output));
                d.insert("outputDetails".into(), json!({"truncated": false}));
                ("taskSubmittedEventDetails", Value::Object(d))
            }
            EventKind::ActivityScheduled {
                resource,
                input,
                timeout_in_seconds,
                heartbeat_in_seconds,
            } => {
                let mut d = Map::new();
                d.insert("resource".into(), json!(resource));
                d.insert("input".into(), json!(input));
                d.insert("inputDetails".into(), json!({"truncated": false}));
                if let Some(t) = timeout_in_seconds {
                    d.insert("timeoutInSeconds".into(), json!(t));
                }
                if let Some(h) = heartbeat_in_seconds {
                    d.insert("heartbeatInSeconds".into(), json!(h));
                }
                ("activityScheduledEventDetails", Value::Object(d))
            }
            EventKind::ActivityStarted { worker_name } => {
                let mut d = Map::new();
                if let Some(w) = worker_name {
                    d.insert("workerName".into(), json!(w));
                }
                ("activityStartedEventDetails", Value::Object(d))
            }
            EventKind::ActivitySucceeded { output } => (
                "activitySucceededEventDetails",
                json!({"output": output, "outputDetails": {"truncated": false}}),
            ),
            EventKind::ActivityFailed { error, cause } => {
                ("activityFailedEventDetails", error_details(error, cause))
            }
            EventKind::ActivityTimedOut { error, cause } => {
                ("activityTimedOutEventDetails", error_details(error, cause))
            }
        };
        m.insert(key.into(), details);
        Value::Object(m)
    }
}

/// An append-only list of events that hands out ids.
///
/// It also numbers the events of Distributed Map child executions, which it does not keep:
/// an event recorded after a child-execution event belongs to that child execution (ids carry
/// [`CHILD_BIT`]), so the fibers of a child execution record exactly as top-level ones do, and
/// nothing they record reaches the parent's history or counts toward its size limit.
#[derive(Debug, Default, Clone)]
pub(crate) struct History {
    events: Vec<Event>,
    /// Events are counted even when not kept (Express), for the history-size limit.
    count: u64,
    /// The `<Type>StateEntered` events among them: the state transitions, kept or not.
    entered: u64,
    keep: bool,
    /// The latest event id of each child execution's own history.
    children: Vec<u64>,
    /// Child executions whose history has reached the size limit, not yet handled.
    full_children: Vec<usize>,
    /// Whether the kept events were dropped (see [`History::forget`]).
    forgotten: bool,
}

impl History {
    /// A history that keeps its events (Standard) or only numbers them (Express), with room
    /// for `expected` events before it first grows.
    pub fn new(keep: bool, expected: usize) -> Self {
        History {
            events: if keep {
                Vec::with_capacity(expected)
            } else {
                Vec::new()
            },
            count: 0,
            entered: 0,
            keep,
            children: Vec::new(),
            full_children: Vec::new(),
            forgotten: false,
        }
    }

    /// Gives back the list's room beyond its events (it is sized up front and doubles as it
    /// grows, so up to half of it can be empty).
    pub fn shrink(&mut self) {
        self.events.shrink_to_fit();
    }

    /// Drops the kept events, keeping their count.
    pub fn forget(&mut self) {
        self.events = Vec::new();
        self.forgotten = true;
    }

    /// Whether [`History::forget`] dropped the events.
    pub fn is_forgotten(&self) -> bool {
        self.forgotten
    }

    /// Starts the history of a Distributed Map child execution, whose ExecutionStarted is its
    /// event 1. Returns the id a fiber of it starts from, the child's event 0, so that its first
    /// state's Entered event follows 0 as a top-level execution's does.
    pub fn start_child(&mut self) -> EventId {
        let n = self.children.len() as u64;
        self.children.push(1);
        EventId(CHILD_BIT | ((n & 0x7FFF_FFFF) << 32))
    }

    /// Whether a child execution's history has just reached the size limit.
    #[inline]
    pub fn has_full_children(&self) -> bool {
        !self.full_children.is_empty()
    }

    /// The child executions (their numbers, as in their event ids) whose history has just
    /// reached the size limit, taken out of the list.
    pub fn take_full_children(&mut self) -> Vec<usize> {
        std::mem::take(&mut self.full_children)
    }

    /// The number of the child execution an id of [`History::start_child`] starts.
    pub fn child_number(id: EventId) -> Option<usize> {
        (id.0 & CHILD_BIT != 0).then_some(((id.0 & !CHILD_BIT) >> 32) as usize)
    }

    /// Appends an event and returns its id.
    pub fn record(&mut self, previous: EventId, timestamp: Timestamp, kind: EventKind) -> EventId {
        let entered = matches!(kind, EventKind::StateEntered { .. });
        self.record_with(previous, timestamp, entered, || kind)
    }

    /// Like [`History::record`], but builds the event only when it is kept: an Express
    /// execution only numbers its events, and building one just to drop it cost a few
    /// percent of a short state. `entered` says whether it is a `*StateEntered` event.
    #[inline]
    pub fn record_with(
        &mut self,
        previous: EventId,
        timestamp: Timestamp,
        entered: bool,
        kind: impl FnOnce() -> EventKind,
    ) -> EventId {
        if previous.0 & CHILD_BIT != 0 {
            // An event of a child execution: numbered in the child's history, not kept here.
            let child = ((previous.0 & !CHILD_BIT) >> 32) as usize;
            let Some(latest) = self.children.get_mut(child) else {
                return previous;
            };
            *latest += 1;
            // The same limit as the top level's (its check leaves room for 2 more events).
            if *latest + 2 == crate::interpreter::MAX_HISTORY_EVENTS + 1 {
                self.full_children.push(child);
            }
            return EventId(previous.0 & !LOCAL_MASK | (*latest & LOCAL_MASK));
        }
        self.count += 1;
        if entered {
            self.entered += 1;
        }
        let id = EventId(self.count);
        if self.keep {
            self.events.push(Event {
                id,
                previous_event_id: previous,
                timestamp,
                kind: kind(),
            });
        }
        id
    }

    /// Makes room for `additional` more events in a history that keeps them, up to the
    /// events quota.
    pub fn reserve(&mut self, additional: usize) {
        if self.keep {
            let quota = crate::interpreter::MAX_HISTORY_EVENTS as usize;
            let room = quota.saturating_sub(self.events.len());
            self.events.reserve(additional.min(room));
        }
    }

    /// The input text of a kept top-level `*StateEntered` event.
    pub fn entered_input(&self, id: EventId) -> Option<&str> {
        if id.0 & CHILD_BIT != 0 {
            return None;
        }
        let index = usize::try_from(id.0).ok()?.checked_sub(1)?;
        match &self.events.get(index)?.kind {
            EventKind::StateEntered { input, .. } => Some(input),
            _ => None,
        }
    }

    /// The previousEventId of a kept top-level event.
    pub fn previous_of(&self, id: EventId) -> Option<EventId> {
        let index = usize::try_from(id.0).ok()?.checked_sub(1)?;
        self.events
            .get(index)
            .filter(|e| e.id == id)
            .map(|e| e.previous_event_id)
    }

    /// True when events are kept (Standard), false when only counted (Express).
    pub fn keeps_events(&self) -> bool {
        self.keep
    }

    /// The id of the latest event (0 before the first).
    pub fn last_id(&self) -> EventId {
        EventId(self.count)
    }

    /// How many events have been recorded (kept or not).
    pub fn len(&self) -> u64 {
        self.count
    }

    /// How many states were entered at the top level (kept or not).
    pub fn state_entries(&self) -> u64 {
        self.entered
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    pub fn into_events(self) -> Vec<Event> {
        self.events
    }
}

#[cfg(test)]
mod tests {
    use super::{Event, EventId, EventKind};
    use crate::clock::Timestamp;

    #[test]
    fn memory_bytes_counts_the_record_and_its_texts() {
        let mut input = String::with_capacity(64);
        input.push_str("{}");
        let name = smol_str::SmolStr::new("Step");
        let event = Event {
            id: EventId(2),
            previous_event_id: EventId(1),
            timestamp: Timestamp(0),
            kind: EventKind::StateEntered {
                state_type: "Pass",
                name,
                input,
            },
        };
        // The name is inline in the record (or shared with the state when longer), so only
        // the input's 64 bytes count.
        assert_eq!(event.memory_bytes(), std::mem::size_of::<Event>() + 64);
        let bare = Event {
            kind: EventKind::ParallelStateStarted,
            ..event
        };
        assert_eq!(bare.memory_bytes(), std::mem::size_of::<Event>());
        // Assigned variables are boxed: the map's own record counts, then each name and text.
        let mut vars = serde_json::Map::new();
        vars.insert("abc".to_string(), serde_json::Value::String("12345".into()));
        let exited = Event {
            kind: EventKind::StateExited {
                state_type: "Pass",
                name: smol_str::SmolStr::new("Step"),
                output: String::with_capacity(10),
                assigned: Some(Box::new(vars)),
            },
            ..bare
        };
        assert_eq!(
            exited.memory_bytes(),
            std::mem::size_of::<Event>()
                + 10
                + std::mem::size_of::<serde_json::Map<String, serde_json::Value>>()
                + 3
                + 5
        );
    }

    /// Every state entry and exit moves an event into the history. At 128 bytes or less the
    /// compiler moves it with a few vector stores; above, with a call to `memcpy` (a tenth of
    /// a Standard Parallel run's time went to such calls). A new large variant must be boxed,
    /// as `TaskScheduled` is.
    #[test]
    fn an_event_is_moved_without_a_memcpy_call() {
        assert!(
            std::mem::size_of::<Event>() <= 128,
            "Event is {} bytes",
            std::mem::size_of::<Event>()
        );
    }
}
