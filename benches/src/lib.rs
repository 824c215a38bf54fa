//! Shared pieces of the engine benchmarks (issue 9): loading the workflows of
//! `benches/workflows/`, the task handler of the retry benchmark, counting transitions, and
//! the nested `.sync` chain on the in-process execution service.
//!
//! The workflows are plain ASL files so that other runners (emulators, AWS) can run the very
//! same definitions and inputs; `benches/README.md` lists them and the figures measured.
#![forbid(unsafe_code)]

use engine::{
    Definition, ExecutionConfig, ExecutionResult, ExecutionStatus, Service, TaskHandler,
    TaskHandlerError, TaskRequest, TaskResponse, WorkflowType,
};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Why a workflow could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An input file is not JSON.
    #[error("{path} is not JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A definition is invalid.
    #[error("{path} is not a valid definition: {messages}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The diagnostics, joined.
        messages: String,
    },
    /// The execution service refused something (the `.sync` chain).
    #[error("execution service: {0}")]
    Service(String),
}

/// The folder of the benchmark workflows (`benches/workflows`).
pub fn workflows_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows")
}

fn read(path: &Path) -> Result<String, LoadError> {
    std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Reads `workflows/NAME.asl.json` as text.
pub fn definition_text(name: &str) -> Result<String, LoadError> {
    read(&workflows_dir().join(format!("{name}.asl.json")))
}

/// Reads and parses `workflows/NAME.input.json`.
pub fn input(name: &str) -> Result<Value, LoadError> {
    let path = workflows_dir().join(format!("{name}.input.json"));
    serde_json::from_str(&read(&path)?).map_err(|source| LoadError::Json { path, source })
}

/// A compiled definition and the input it runs on.
#[derive(Debug)]
pub struct Workload {
    /// The compiled definition.
    pub definition: Definition,
    /// The execution input.
    pub input: Value,
}

impl Workload {
    /// Loads `workflows/DEFINITION.asl.json` with `workflows/INPUT.input.json`.
    pub fn load(definition: &str, input_name: &str) -> Result<Workload, LoadError> {
        let text = definition_text(definition)?;
        let definition = Definition::parse(&text).map_err(|diags| LoadError::Invalid {
            path: workflows_dir().join(format!("{definition}.asl.json")),
            messages: diags
                .iter()
                .map(|d| format!("{} at {}", d.message, d.location))
                .collect::<Vec<_>>()
                .join("; "),
        })?;
        Ok(Workload {
            definition,
            input: input(input_name)?,
        })
    }

    /// Runs one execution to its end with `handler` answering its tasks. The input is
    /// cloned, as a driver that keeps its request would; the clone is part of the cost.
    pub fn run(
        &self,
        workflow_type: WorkflowType,
        handler: &mut dyn TaskHandler,
    ) -> ExecutionResult {
        let config = config(workflow_type);
        let mut clock = engine::VirtualClock::starting_at(config.start_time);
        self.definition
            .execute_with(self.input.clone(), &config, &mut clock, handler)
            .unwrap_or_else(|e| panic!("the benchmark workflow cannot run: {e}"))
    }
}

/// The configuration every benchmark execution uses: only the type varies.
pub fn config(workflow_type: WorkflowType) -> ExecutionConfig {
    ExecutionConfig {
        workflow_type,
        ..ExecutionConfig::default()
    }
}

/// The number of state transitions of a run: its `*StateEntered` events. Only a Standard run
/// has them, so the benchmarks count once on a Standard run and use that figure for Express.
pub fn transitions(events: &[engine::Event]) -> u64 {
    events
        .iter()
        .filter(|e| e.kind.type_name().ends_with("StateEntered"))
        .count() as u64
}

/// The handler of `task-retry.asl.json`: attempts 0 and 1 fail with `Flaky.Error`, the
/// third succeeds. It decides from the request's attempt number, so it keeps no state and one
/// value serves every execution.
#[derive(Debug, Default, Clone, Copy)]
pub struct FlakyTwice;

impl TaskHandler for FlakyTwice {
    fn invoke(&mut self, request: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
        Ok(if request.attempt < 2 {
            TaskResponse::failure("Flaky.Error", Some("attempt failed on purpose".into()))
        } else {
            TaskResponse::success(json!({"StatusCode": 200, "Payload": {"ok": true}}))
        })
    }
}

/// The nested `.sync:2` chain (`sync-parent` → `sync-child` → `sync-grandchild`) on the
/// in-process execution service, which is what runs child executions.
#[derive(Debug)]
pub struct SyncChain {
    parent: String,
    child: String,
    grandchild: String,
    input: String,
}

impl SyncChain {
    /// Reads the three definitions and the parent's input.
    pub fn load() -> Result<SyncChain, LoadError> {
        Ok(SyncChain {
            parent: definition_text("sync-parent")?,
            child: definition_text("sync-child")?,
            grandchild: definition_text("sync-grandchild")?,
            input: input("sync-parent")?.to_string(),
        })
    }

    /// A fresh service with the three machines created (Standard: AWS refuses `.sync` in
    /// Express workflows), and the parent's ARN. Creating them parses the definitions, so the
    /// benchmark does it outside the measured part.
    pub fn service(&self) -> Result<(Service, String), LoadError> {
        let mut svc = Service::new();
        let err = |e: engine::ServiceError| LoadError::Service(e.to_string());
        svc.create_state_machine(
            "sync-grandchild",
            &self.grandchild,
            WorkflowType::Standard,
            None,
        )
        .map_err(err)?;
        svc.create_state_machine("sync-child", &self.child, WorkflowType::Standard, None)
            .map_err(err)?;
        let parent = svc
            .create_state_machine("sync-parent", &self.parent, WorkflowType::Standard, None)
            .map_err(err)?;
        Ok((svc, parent.arn))
    }

    /// Runs the parent (and so its child and grandchild) to the end; returns its status.
    pub fn run(&self, svc: &mut Service, parent_arn: &str) -> ExecutionStatus {
        svc.start_execution(parent_arn, Some("bench"), Some(&self.input))
            .unwrap_or_else(|e| panic!("the .sync chain cannot start: {e}"))
            .status
    }

    /// The transitions of every execution in `svc`: the parent's and its children's.
    pub fn transitions(svc: &Service) -> u64 {
        svc.executions()
            .iter()
            .map(|d| {
                svc.get_execution_history(&d.execution_arn)
                    .map_or(0, |h| transitions(&h))
            })
            .sum()
    }
}
