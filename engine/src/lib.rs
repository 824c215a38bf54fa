//! The stepcheck engine: Amazon States Language definitions, validation, data flow,
//! intrinsic functions and the interpreter that records AWS-shaped execution histories.
//!
//! The engine does no I/O: no files, no network, no async runtime, no wall clock. Time comes
//! from an injected [`Clock`] (virtual by default); randomness from a seeded [`Rng`].
#![forbid(unsafe_code)]

mod choice;
mod clock;
mod diagnostics;
mod faults;
mod history;
mod interpreter;
mod intrinsics;
pub mod jsonpath;
mod map_run;
mod model;
mod query;
mod scope;
mod script;
mod service;
mod splice;
mod sync_task;
mod task;
mod template;
mod validate;

pub use clock::{Clock, Timestamp, VirtualClock};
pub use diagnostics::{Diagnostic, DiagnosticCode, Severity};
#[cfg(feature = "faults")]
pub use faults::Fault;
pub use history::{Event, EventId, EventKind, TaskScheduledDetails};
pub use interpreter::{
    token_execution_arn, CallbackError, Ending, Execution, ExecutionConfig, ExecutionResult,
    ExecutionStatus, NotSupported, RunError, WaitingTask, WorkflowType, INLINE_MAP_MAX_CONCURRENCY,
    MAX_HISTORY_EVENTS, PAYLOAD_LIMIT_BYTES,
};
pub use model::{validate, Definition, StateName};
pub use scope::Rng;
pub use script::{ScriptRecord, ScriptTime, ScriptedAction, ScriptedCall};
pub use service::{
    ActivityTask, ExecutionDescription, HandlerFactory, NoMocks, Service, ServiceError,
    StateMachineDescription,
};
/// The string type of state names in events and definitions (`StateName`), re-exported so
/// that drivers need no dependency of their own on it.
pub use smol_str::SmolStr;
pub use task::{NoTasks, TaskHandler, TaskHandlerError, TaskOutcome, TaskRequest, TaskResponse};
