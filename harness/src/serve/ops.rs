//! The operations: each reads its request fields, calls `engine::Service` and shapes the
//! response as the botocore model (`stepfunctions/2016-11-23/service-2.json`) has it.
//!
//! Everything here runs on the engine thread and owns the service; nothing here does I/O.
//! What the service does not keep (tags, logging configuration, revisions of updated state
//! machines) is kept beside it in [`Api`].

use super::protocol::{epoch, page, page_offset, ApiError, Fields};
use engine::{ExecutionDescription, ExecutionStatus, Service, Timestamp, WorkflowType};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::rc::Rc;

/// The operations the server knows, by their `X-Amz-Target` suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    CreateStateMachine,
    DescribeStateMachine,
    UpdateStateMachine,
    DeleteStateMachine,
    ListStateMachines,
    ValidateStateMachineDefinition,
    StartExecution,
    StartSyncExecution,
    DescribeExecution,
    StopExecution,
    ListExecutions,
    GetExecutionHistory,
    SendTaskSuccess,
    SendTaskFailure,
    SendTaskHeartbeat,
    CreateActivity,
    DeleteActivity,
    DescribeActivity,
    ListActivities,
    GetActivityTask,
    RedriveExecution,
    TagResource,
    UntagResource,
    ListTagsForResource,
    DescribeStateMachineForExecution,
    TestState,
}

impl Op {
    /// The operation named by an `X-Amz-Target` header (`AWSStepFunctions.<Operation>`).
    /// Operations of the real API that stepcheck does not offer (aliases, versions, Map
    /// Runs) are `UnknownOperationException` too, so a client learns at once.
    pub fn from_target(target: &str) -> Result<Op, ApiError> {
        let name = target.strip_prefix("AWSStepFunctions.").unwrap_or("");
        let op = match name {
            "CreateStateMachine" => Op::CreateStateMachine,
            "DescribeStateMachine" => Op::DescribeStateMachine,
            "UpdateStateMachine" => Op::UpdateStateMachine,
            "DeleteStateMachine" => Op::DeleteStateMachine,
            "ListStateMachines" => Op::ListStateMachines,
            "ValidateStateMachineDefinition" => Op::ValidateStateMachineDefinition,
            "StartExecution" => Op::StartExecution,
            "StartSyncExecution" => Op::StartSyncExecution,
            "DescribeExecution" => Op::DescribeExecution,
            "StopExecution" => Op::StopExecution,
            "ListExecutions" => Op::ListExecutions,
            "GetExecutionHistory" => Op::GetExecutionHistory,
            "SendTaskSuccess" => Op::SendTaskSuccess,
            "SendTaskFailure" => Op::SendTaskFailure,
            "SendTaskHeartbeat" => Op::SendTaskHeartbeat,
            "CreateActivity" => Op::CreateActivity,
            "DeleteActivity" => Op::DeleteActivity,
            "DescribeActivity" => Op::DescribeActivity,
            "ListActivities" => Op::ListActivities,
            "GetActivityTask" => Op::GetActivityTask,
            "RedriveExecution" => Op::RedriveExecution,
            "TagResource" => Op::TagResource,
            "UntagResource" => Op::UntagResource,
            "ListTagsForResource" => Op::ListTagsForResource,
            "DescribeStateMachineForExecution" => Op::DescribeStateMachineForExecution,
            "TestState" => Op::TestState,
            _ => {
                return Err(ApiError::new(
                    "UnknownOperationException",
                    format!("Operation '{target}' is not supported by stepcheck serve"),
                ))
            }
        };
        Ok(op)
    }

    /// Whether the operation can change what the executions do (so a wall-clock driver
    /// looks at the parked callers after it).
    pub fn mutates(self) -> bool {
        !matches!(
            self,
            Op::DescribeStateMachine
                | Op::ListStateMachines
                | Op::ValidateStateMachineDefinition
                | Op::DescribeExecution
                | Op::ListExecutions
                | Op::GetExecutionHistory
                | Op::DescribeActivity
                | Op::ListActivities
                | Op::ListTagsForResource
                | Op::DescribeStateMachineForExecution
                | Op::TestState
        )
    }
}

/// What an operation answers: a response now, or a caller to park until the engine can
/// answer (a long-polling GetActivityTask, a StartSyncExecution whose execution waits for a
/// callback or for wall-clock time).
#[derive(Debug)]
pub enum Outcome {
    /// The response body, or the error.
    Reply(Result<Value, ApiError>),
    /// GetActivityTask with no task yet: wait for one.
    PollActivity {
        /// The activity's ARN.
        activity_arn: String,
        /// The worker's name, for ActivityStarted.
        worker_name: Option<String>,
    },
    /// StartSyncExecution whose execution has not ended: answer when it does.
    AwaitSync {
        /// The execution's ARN.
        execution_arn: String,
    },
}

/// One version of a state machine's definition and role, as DescribeStateMachineForExecution
/// shows the one an execution ran.
#[derive(Debug)]
struct Revision {
    definition: String,
    role_arn: String,
    update_date: Timestamp,
    revision_id: Option<String>,
}

/// What the service does not keep about a state machine.
#[derive(Debug)]
struct MachineMeta {
    current: Rc<Revision>,
    logging: Value,
    tracing: Value,
}

/// The API's state on the engine thread: the service and what it does not keep.
pub struct Api {
    /// The execution service.
    pub service: Service,
    machines: HashMap<String, MachineMeta>,
    /// Tags per resource ARN, in the order they were first set.
    tags: HashMap<String, Vec<(String, String)>>,
    /// The revision each Standard execution started with, when its machine was updated
    /// since (until then the machine's current revision is the one).
    exec_revision: HashMap<String, Rc<Revision>>,
    /// Machines whose definition was updated at least once: only their executions need a
    /// recorded revision.
    updated: std::collections::HashSet<String>,
    revisions: u64,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

fn text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn workflow_type(s: Option<&str>) -> WorkflowType {
    match s {
        Some("EXPRESS") => WorkflowType::Express,
        _ => WorkflowType::Standard,
    }
}

fn status_of(s: &str) -> Option<ExecutionStatus> {
    Some(match s {
        "RUNNING" => ExecutionStatus::Running,
        "SUCCEEDED" => ExecutionStatus::Succeeded,
        "FAILED" => ExecutionStatus::Failed,
        "TIMED_OUT" => ExecutionStatus::TimedOut,
        "ABORTED" => ExecutionStatus::Aborted,
        _ => return None,
    })
}

/// Tags from a request's `tags` list (`[{"key": ..., "value": ...}]`).
fn read_tags(list: Option<Vec<Value>>) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    for t in list.unwrap_or_default() {
        let key = t.get("key").and_then(Value::as_str);
        let value = t.get("value").and_then(Value::as_str).unwrap_or("");
        match key {
            Some(k) if !k.is_empty() && k.chars().count() <= 128 => {
                out.push((k.to_string(), value.to_string()))
            }
            _ => {
                return Err(ApiError::validation(
                    "1 validation error detected: Value at 'tags' failed to satisfy constraint: every tag must have a key of 1 to 128 characters",
                ))
            }
        }
    }
    Ok(out)
}

fn merge_tags(
    into: &mut Vec<(String, String)>,
    tags: Vec<(String, String)>,
) -> Result<(), ApiError> {
    for (k, v) in tags {
        match into.iter_mut().find(|(key, _)| *key == k) {
            Some(slot) => slot.1 = v,
            None => into.push((k, v)),
        }
    }
    if into.len() > 50 {
        return Err(ApiError::new(
            "TooManyTags",
            "Too many tags: a resource can have at most 50 tags",
        ));
    }
    Ok(())
}

/// DescribeExecution's response for an execution.
pub fn describe_json(d: &ExecutionDescription) -> Value {
    let mut m = Map::new();
    m.insert("executionArn".into(), json!(d.execution_arn));
    m.insert("stateMachineArn".into(), json!(d.state_machine_arn));
    m.insert("name".into(), json!(d.name));
    m.insert("status".into(), json!(d.status.as_str()));
    m.insert("startDate".into(), epoch(d.start_date));
    if let Some(t) = d.stop_date {
        m.insert("stopDate".into(), epoch(t));
    }
    m.insert("input".into(), json!(text(&d.input)));
    m.insert("inputDetails".into(), json!({"included": true}));
    if let Some(o) = &d.output {
        m.insert("output".into(), json!(text(o)));
        m.insert("outputDetails".into(), json!({"included": true}));
    }
    if let Some(e) = &d.error {
        m.insert("error".into(), json!(e));
    }
    if let Some(c) = &d.cause {
        m.insert("cause".into(), json!(c));
    }
    if let Some(status) = d.redrive_status {
        m.insert("redriveCount".into(), json!(d.redrive_count));
        if let Some(t) = d.redrive_date {
            m.insert("redriveDate".into(), epoch(t));
        }
        m.insert("redriveStatus".into(), json!(status));
        if let Some(r) = &d.redrive_status_reason {
            m.insert("redriveStatusReason".into(), json!(r));
        }
    }
    Value::Object(m)
}

/// StartSyncExecution's response for an execution that has ended. `billingDetails` follows
/// Express pricing (duration rounded up to 100 ms, memory in 64 MB steps); assumption: the
/// smallest step, since stepcheck does not measure memory.
pub fn sync_json(d: &ExecutionDescription) -> Value {
    let mut m = Map::new();
    m.insert("executionArn".into(), json!(d.execution_arn));
    m.insert("stateMachineArn".into(), json!(d.state_machine_arn));
    m.insert("name".into(), json!(d.name));
    m.insert("startDate".into(), epoch(d.start_date));
    let stop = d.stop_date.unwrap_or(d.start_date);
    m.insert("stopDate".into(), epoch(stop));
    m.insert("status".into(), json!(d.status.as_str()));
    if let Some(e) = &d.error {
        m.insert("error".into(), json!(e));
    }
    if let Some(c) = &d.cause {
        m.insert("cause".into(), json!(c));
    }
    m.insert("input".into(), json!(text(&d.input)));
    m.insert("inputDetails".into(), json!({"included": true}));
    if let Some(o) = &d.output {
        m.insert("output".into(), json!(text(o)));
        m.insert("outputDetails".into(), json!({"included": true}));
    }
    let ms = (stop.millis() - d.start_date.millis()).max(0);
    let billed = ((ms + 99) / 100).max(1) * 100;
    m.insert(
        "billingDetails".into(),
        json!({"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": billed}),
    );
    Value::Object(m)
}

impl Api {
    /// The API over `service`.
    pub fn new(service: Service) -> Self {
        Api {
            service,
            machines: HashMap::new(),
            tags: HashMap::new(),
            exec_revision: HashMap::new(),
            updated: Default::default(),
            revisions: 0,
        }
    }

    /// Runs one operation.
    pub fn call(&mut self, op: Op, f: &Fields) -> Outcome {
        match op {
            Op::GetActivityTask => return self.get_activity_task(f),
            Op::StartSyncExecution => return self.start_sync_execution(f),
            _ => {}
        }
        let result = match op {
            Op::CreateStateMachine => self.create_state_machine(f),
            Op::DescribeStateMachine => self.describe_state_machine(f),
            Op::UpdateStateMachine => self.update_state_machine(f),
            Op::DeleteStateMachine => self.delete_state_machine(f),
            Op::ListStateMachines => self.list_state_machines(f),
            Op::ValidateStateMachineDefinition => validate_definition(f),
            Op::StartExecution => self.start_execution(f),
            Op::DescribeExecution => self.describe_execution(f),
            Op::StopExecution => self.stop_execution(f),
            Op::ListExecutions => self.list_executions(f),
            Op::GetExecutionHistory => self.get_execution_history(f),
            Op::SendTaskSuccess => self.send_task_success(f),
            Op::SendTaskFailure => self.send_task_failure(f),
            Op::SendTaskHeartbeat => self.send_task_heartbeat(f),
            Op::CreateActivity => self.create_activity(f),
            Op::DeleteActivity => self.delete_activity(f),
            Op::DescribeActivity => self.describe_activity(f),
            Op::ListActivities => self.list_activities(f),
            Op::RedriveExecution => self.redrive_execution(f),
            Op::TagResource => self.tag_resource(f),
            Op::UntagResource => self.untag_resource(f),
            Op::ListTagsForResource => self.list_tags(f),
            Op::DescribeStateMachineForExecution => self.describe_for_execution(f),
            Op::TestState => super::test_state::test_state(f),
            Op::GetActivityTask | Op::StartSyncExecution => unreachable_op(),
        };
        Outcome::Reply(result)
    }

    // ----- state machines -----

    fn create_state_machine(&mut self, f: &Fields) -> Result<Value, ApiError> {
        let name = f.str("name")?;
        let definition = f.str("definition")?;
        let role_arn = f.str("roleArn")?;
        let kind = f.opt_enum("type", &["STANDARD", "EXPRESS"])?;
        let tags = read_tags(f.opt_list("tags")?)?;
        let logging = f.opt_object("loggingConfiguration")?;
        let tracing = f.opt_object("tracingConfiguration")?;
        if f.opt_bool("publish")? == Some(true) {
            return Err(ApiError::validation(
                "not supported yet: publishing state machine versions (publish: true)",
            ));
        }
        let d = self.service.create_state_machine(
            &name,
            &definition,
            workflow_type(kind.as_deref()),
            Some(&role_arn),
        )?;
        if !self.machines.contains_key(&d.arn) {
            self.machines.insert(
                d.arn.clone(),
                MachineMeta {
                    current: Rc::new(Revision {
                        definition: d.definition.clone(),
                        role_arn: d.role_arn.clone(),
                        update_date: d.creation_date,
                        revision_id: None,
                    }),
                    logging: logging.map_or_else(default_logging, |l| Value::Object(l.0)),
                    tracing: tracing
                        .map_or_else(|| json!({"enabled": false}), |t| Value::Object(t.0)),
                },
            );
        }
        merge_tags(self.tags.entry(d.arn.clone()).or_default(), tags)?;
        Ok(json!({"stateMachineArn": d.arn, "creationDate": epoch(d.creation_date)}))
    }

    fn meta(&self, arn: &str) -> Result<&MachineMeta, ApiError> {
        // The service answers InvalidArn and StateMachineDoesNotExist in AWS's words.
        self.service.describe_state_machine(arn)?;
        self.machines.get(arn).ok_or_else(|| {
            ApiError::new(
                "StateMachineDoesNotExist",
                format!("State Machine Does Not Exist: '{arn}'"),
            )
        })
    }

    fn describe_state_machine(&self, f: &Fields) -> Result<Value, ApiError> {
        let arn = f.str("stateMachineArn")?;
        let d = self.service.describe_state_machine(&arn)?;
        let meta = self.meta(&arn)?;
        let mut m = Map::new();
        m.insert("stateMachineArn".into(), json!(d.arn));
        m.insert("name".into(), json!(d.name));
        m.insert("status".into(), json!("ACTIVE"));
        m.insert("definition".into(), json!(d.definition));
        m.insert("roleArn".into(), json!(d.role_arn));
        m.insert("type".into(), json!(d.workflow_type.as_str()));
        m.insert("creationDate".into(), epoch(d.creation_date));
        m.insert("loggingConfiguration".into(), meta.logging.clone());
        m.insert("tracingConfiguration".into(), meta.tracing.clone());
        if let Some(r) = &meta.current.revision_id {
            m.insert("revisionId".into(), json!(r));
        }
        Ok(Value::Object(m))
    }

    fn update_state_machine(&mut self, f: &Fields) -> Result<Value, ApiError> {
        let arn = f.str("stateMachineArn")?;
        let definition = f.opt_str("definition")?;
        let role_arn = f.opt_str("roleArn")?;
        let logging = f.opt_object("loggingConfiguration")?;
        let tracing = f.opt_object("tracingConfiguration")?;
        if f.opt_bool("publish")? == Some(true) {
            return Err(ApiError::validation(
                "not supported yet: publishing state machine versions (publish: true)",
            ));
        }
        if definition.is_none() && role_arn.is_none() && logging.is_none() && tracing.is_none() {
            return Err(ApiError::new(
                "MissingRequiredParameter",
                "Either the definition, the roleArn, the loggingConfiguration or the tracingConfiguration must be specified",
            ));
        }
        let old = self.service.describe_state_machine(&arn)?;
        self.meta(&arn)?;
        let new_definition = definition.unwrap_or_else(|| old.definition.clone());
        let new_role = role_arn.unwrap_or_else(|| old.role_arn.clone());
        let now = self.service.now();
        if new_definition != old.definition || new_role != old.role_arn {
            // The service has no update: the machine is created again under the same ARN.
            // Its executions keep the definition they started with, as on AWS. The new
            // definition is checked first, so a refused update leaves the machine as it was.
            if let Err(diags) = engine::Definition::parse(&new_definition) {
                let list: Vec<String> = diags.iter().map(ToString::to_string).collect();
                return Err(ApiError::new(
                    "InvalidDefinition",
                    format!("Invalid State Machine Definition: '{}'", list.join(", ")),
                ));
            }
            self.record_revisions_of(&arn);
            self.service.delete_state_machine(&arn)?;
            if let Err(e) = self.service.create_state_machine(
                &old.name,
                &new_definition,
                old.workflow_type,
                Some(&new_role),
            ) {
                // Put the old machine back (it was valid when created).
                let _ = self.service.create_state_machine(
                    &old.name,
                    &old.definition,
                    old.workflow_type,
                    Some(&old.role_arn),
                );
                return Err(e.into());
            }
        }
        self.revisions += 1;
        let revision_id = revision_uuid(self.revisions);
        let meta = self.machines.get_mut(&arn).ok_or_else(|| {
            ApiError::new(
                "StateMachineDoesNotExist",
                format!("State Machine Does Not Exist: '{arn}'"),
            )
        })?;
        meta.current = Rc::new(Revision {
            definition: new_definition,
            role_arn: new_role,
            update_date: now,
            revision_id: Some(revision_id.clone()),
        });
        if let Some(l) = logging {
            meta.logging = Value::Object(l.0);
        }
        if let Some(t) = tracing {
            meta.tracing = Value::Object(t.0);
        }
        Ok(json!({"updateDate": epoch(now), "revisionId": revision_id}))
    }

    /// Before a machine's first update, remembers the revision its existing executions ran,
    /// so DescribeStateMachineForExecution still shows it afterwards.
    fn record_revisions_of(&mut self, arn: &str) {
        if !self.updated.insert(arn.to_string()) {
            return;
        }
        let Some(meta) = self.machines.get(arn) else {
            return;
        };
        let current = Rc::clone(&meta.current);
        if let Ok(list) = self.service.list_executions(arn, None) {
            for d in list {
                self.exec_revision
                    .entry(d.execution_arn)
                    .or_insert_with(|| Rc::clone(&current));
            }
        }
    }

    fn delete_state_machine(&mut self, f: &Fields) -> Result<Value, ApiError> {
        let arn = f.str("stateMachineArn")?;
        self.record_revisions_of(&arn);
        self.service.delete_state_machine(&arn)?;
        self.machines.remove(&arn);
        self.tags.remove(&arn);
        Ok(json!({}))
    }

    fn list_state_machines(&self, f: &Fields) -> Result<Value, ApiError> {
        let max = f.opt_int("maxResults", 0, 1000)?;
        let offset = page_offset("machines", f.opt_str("nextToken")?.as_deref())?;
        let all = self.service.list_state_machines();
        let (items, next) = page(&all, "machines", offset, max, 100);
        let list: Vec<Value> = items
            .iter()
            .map(|d| {
                json!({
                    "stateMachineArn": d.arn,
                    "name": d.name,
                    "type": d.workflow_type.as_str(),
                    "creationDate": epoch(d.creation_date),
                })
            })
            .collect();
        Ok(paged("stateMachines", list, next))
    }

    fn describe_for_execution(&self, f: &Fields) -> Result<Value, ApiError> {
        let arn = f.str("executionArn")?;
        let d = self.service.describe_execution(&arn)?;
        let machine = self
            .service
            .describe_state_machine(&d.state_machine_arn)
            .ok();
        let revision = self.exec_revision.get(&arn).cloned().or_else(|| {
            self.machines
                .get(&d.state_machine_arn)
                .map(|m| Rc::clone(&m.current))
        });
        let (Some(machine), Some(revision)) = (machine, revision) else {
            return Err(ApiError::new(
                "StateMachineDoesNotExist",
                format!("State Machine Does Not Exist: '{}'", d.state_machine_arn),
            ));
        };
        let meta = self.machines.get(&d.state_machine_arn);
        let mut m = Map::new();
        m.insert("stateMachineArn".into(), json!(machine.arn));
        m.insert("name".into(), json!(machine.name));
        m.insert("definition".into(), json!(revision.definition));
        m.insert("roleArn".into(), json!(revision.role_arn));
        m.insert("updateDate".into(), epoch(revision.update_date));
        if let Some(meta) = meta {
            m.insert("loggingConfiguration".into(), meta.logging.clone());
            m.insert("tracingConfiguration".into(), meta.tracing.clone());
        }
        if let Some(r) = &revision.revision_id {
            m.insert("revisionId".into(), json!(r));
        }
        Ok(Value::Object(m))
    }

    // ----- executions -----

    /// Starts an execution; a task handler's error (no mock for a Task state) does not
    /// refuse the call: the execution exists and has failed (States.Runtime), which is what
    /// the caller sees when it describes it. Other errors refuse the call.
    fn start(&mut self, f: &Fields) -> Result<ExecutionDescription, ApiError> {
        let arn = f.str("stateMachineArn")?;
        let name = f.opt_str("name")?;
        let input = f.opt_str("input")?;
        let before = self.service.execution_count();
        let machine_arn = arn.split('#').next().unwrap_or("").to_string();
        match self
            .service
            .start_execution(&arn, name.as_deref(), input.as_deref())
        {
            Ok(d) => {
                self.note_revision(&machine_arn, &d.execution_arn);
                Ok(d)
            }
            Err(e) => match self.service.execution_at(before) {
                Some(d) if e.code == "ValidationException" => {
                    self.note_revision(&machine_arn, &d.execution_arn);
                    Ok(d)
                }
                _ => Err(e.into()),
            },
        }
    }

    fn note_revision(&mut self, machine_arn: &str, execution_arn: &str) {
        if self.updated.contains(machine_arn) {
            if let Some(meta) = self.machines.get(machine_arn) {
                self.exec_revision
                    .insert(execution_arn.to_string(), Rc::clone(&meta.current));
            }
        }
    }

    fn start_execution(&mut self, f: &Fields) -> Result<Value, ApiError> {
        let d = self.start(f)?;
        Ok(json!({"executionArn": d.execution_arn, "startDate": epoch(d.start_date)}))
    }

    fn start_sync_execution(&mut self, f: &Fields) -> Outcome {
        let result = (|| {
            let arn = f.str("stateMachineArn")?;
            let machine = arn.split('#').next().unwrap_or("");
            let d = self.service.describe_state_machine(machine)?;
            if d.workflow_type != WorkflowType::Express {
                return Err(ApiError::new(
                    "StateMachineTypeNotSupported",
                    "This operation is not supported by this type of state machine",
                ));
            }
            self.start(f)
        })();
        match result {
            Ok(d) if d.status == ExecutionStatus::Running => Outcome::AwaitSync {
                execution_arn: d.execution_arn,
            },
            Ok(d) => Outcome::Reply(Ok(sync_json(&d))),
            Err(e) => Outcome::Reply(Err(e)),
        }
    }

    fn describe_execution(&self, f: &Fields) -> Result<Value, ApiError> {
        let arn = f.str("executionArn")?;
        let d = self.service.describe_execution(&arn)?;
        Ok(describe_json(&d))
    }

    fn stop_execution(&mut self, f: &Fields) -> Result<Value, ApiError> {
        let arn = f.str("executionArn")?;
        let error = f.opt_str("error")?;
        let cause = f.opt_str("cause")?;
        let d = self.service.describe_execution(&arn)?;
        // Assumption (not recorded against AWS): stopping an execution that has ended is
        // refused as a ValidationException, so a caller racing a fast execution learns that
        // its stop took no effect instead of reading a stop date that never happened.
        if d.status != ExecutionStatus::Running {
            return Err(ApiError::validation(format!(
                "Execution Already Stopped: '{arn}'"
            )));
        }
        let t = self.service.stop_execution(&arn, error, cause)?;
        Ok(json!({"stopDate": epoch(t)}))
    }

    fn list_executions(&self, f: &Fields) -> Result<Value, ApiError> {
        if f.opt_str("mapRunArn")?.is_some() {
            return Err(ApiError::validation(
                "not supported yet: ListExecutions by mapRunArn",
            ));
        }
        let arn = f.str("stateMachineArn")?;
        let status = f.opt_enum(
            "statusFilter",
            &[
                "RUNNING",
                "SUCCEEDED",
                "FAILED",
                "TIMED_OUT",
                "ABORTED",
                "PENDING_REDRIVE",
            ],
        )?;
        let redrive = f.opt_enum("redriveFilter", &["REDRIVEN", "NOT_REDRIVEN"])?;
        let max = f.opt_int("maxResults", 0, 1000)?;
        let offset = page_offset("executions", f.opt_str("nextToken")?.as_deref())?;
        if let Ok(m) = self.service.describe_state_machine(&arn) {
            if m.workflow_type == WorkflowType::Express {
                return Err(ApiError::new(
                    "StateMachineTypeNotSupported",
                    "This operation is not supported by this type of state machine",
                ));
            }
        }
        let all = match status.as_deref() {
            // stepcheck redrives at once, so no execution waits in PENDING_REDRIVE.
            Some("PENDING_REDRIVE") => {
                self.service.list_executions(&arn, None)?;
                Vec::new()
            }
            Some(s) => self.service.list_executions(&arn, status_of(s))?,
            None => self.service.list_executions(&arn, None)?,
        };
        let all: Vec<ExecutionDescription> = match redrive.as_deref() {
            Some("REDRIVEN") => all.into_iter().filter(|d| d.redrive_count > 0).collect(),
            Some(_) => all.into_iter().filter(|d| d.redrive_count == 0).collect(),
            None => all,
        };
        let (items, next) = page(&all, "executions", offset, max, 100);
        let list: Vec<Value> = items
            .iter()
            .map(|d| {
                let mut m = Map::new();
                m.insert("executionArn".into(), json!(d.execution_arn));
                m.insert("stateMachineArn".into(), json!(d.state_machine_arn));
                m.insert("name".into(), json!(d.name));
                m.insert("status".into(), json!(d.status.as_str()));
                m.insert("startDate".into(), epoch(d.start_date));
                if let Some(t) = d.stop_date {
                    m.insert("stopDate".into(), epoch(t));
                }
                if d.redrive_count > 0 {
                    m.insert("redriveCount".into(), json!(d.redrive_count));
                    if let Some(t) = d.redrive_date {
                        m.insert("redriveDate".into(), epoch(t));
                    }
                }
                Value::Object(m)
            })
            .collect();
        Ok(paged("executions", list, next))
    }

    fn get_execution_history(&self, f: &Fields) -> Result<Value, ApiError> {
        let arn = f.str("executionArn")?;
        let max = f.opt_int("maxResults", 0, 1000)?;
        let reverse = f.opt_bool("reverseOrder")?.unwrap_or(false);
        let data = f.opt_bool("includeExecutionData")?.unwrap_or(true);
        // A token names its direction, so the pages of one listing go on the same way.
        let kind = if reverse {
            "history-reverse"
        } else {
            "history"
        };
        let offset = page_offset(kind, f.opt_str("nextToken")?.as_deref())?;
        let mut events = self.service.get_execution_history(&arn)?;
        if reverse {
            events.reverse();
        }
        let (items, next) = page(&events, kind, offset, max, 100);
        let list: Vec<Value> = items
            .iter()
            .map(|e| {
                let mut v = e.to_api_json();
                if !data {
                    strip_data(&mut v);
                }
                v
            })
            .collect();
        Ok(paged("events", list, next))
    }

    fn redrive_execution(&mut self, f: &Fields) -> Result<Value, ApiError> {
        let arn = f.str("executionArn")?;
        let t = self.service.redrive_execution(&arn)?;
        Ok(json!({"redriveDate": epoch(t)}))
    }

    // ----- callbacks -----

    fn send_task_success(&mut self, f: &Fields) -> Result<Value, ApiError> {
        let token = f.str("taskToken")?;
        let output = f.str("output")?;
        self.service.send_task_success(&token, &output)?;
        Ok(json!({}))
    }

    fn send_task_failure(&mut self, f: &Fields) -> Result<Value, ApiError> {
        let token = f.str("taskToken")?;
        let error = f.opt_str("error")?;
        let cause = f.opt_str("cause")?;
        self.service.send_task_failure(&token, error, cause)?;
        Ok(json!({}))
    }

    fn send_task_heartbeat(&mut self, f: &Fields) -> Result<Value, ApiError> {
        let token = f.str("taskToken")?;
        self.service.send_task_heartbeat(&token)?;
        Ok(json!({}))
    }

    // ----- activities -----

    fn create_activity(&mut self, f: &Fields) -> Result<Value, ApiError> {
        let name = f.str("name")?;
        let tags = read_tags(f.opt_list("tags")?)?;
        let (arn, created) = self.service.create_activity(&name)?;
        merge_tags(self.tags.entry(arn.clone()).or_default(), tags)?;
        Ok(json!({"activityArn": arn, "creationDate": epoch(created)}))
    }

    fn delete_activity(&mut self, f: &Fields) -> Result<Value, ApiError> {
        let arn = f.str("activityArn")?;
        self.service.delete_activity(&arn)?;
        self.tags.remove(&arn);
        Ok(json!({}))
    }

    fn describe_activity(&self, f: &Fields) -> Result<Value, ApiError> {
        let arn = f.str("activityArn")?;
        let (name, created) = self.service.describe_activity(&arn)?;
        Ok(json!({"activityArn": arn, "name": name, "creationDate": epoch(created)}))
    }

    fn list_activities(&self, f: &Fields) -> Result<Value, ApiError> {
        let max = f.opt_int("maxResults", 0, 1000)?;
        let offset = page_offset("activities", f.opt_str("nextToken")?.as_deref())?;
        let all = self.service.list_activities();
        let (items, next) = page(&all, "activities", offset, max, 100);
        let list: Vec<Value> = items
            .iter()
            .map(|(arn, name, t)| json!({"activityArn": arn, "name": name, "creationDate": epoch(*t)}))
            .collect();
        Ok(paged("activities", list, next))
    }

    fn get_activity_task(&mut self, f: &Fields) -> Outcome {
        let result = (|| {
            let arn = f.str("activityArn")?;
            let worker = f.opt_str("workerName")?;
            let task = self.service.get_activity_task(&arn, worker.as_deref())?;
            Ok((arn, worker, task))
        })();
        match result {
            Ok((_, _, Some(task))) => Outcome::Reply(Ok(activity_task_json(&task))),
            Ok((activity_arn, worker_name, None)) => Outcome::PollActivity {
                activity_arn,
                worker_name,
            },
            Err(e) => Outcome::Reply(Err(e)),
        }
    }

    /// A task for a parked GetActivityTask, if one has come.
    pub fn poll_activity(
        &mut self,
        activity_arn: &str,
        worker_name: Option<&str>,
    ) -> Option<Result<Value, ApiError>> {
        match self.service.get_activity_task(activity_arn, worker_name) {
            Ok(Some(task)) => Some(Ok(activity_task_json(&task))),
            Ok(None) => None,
            // The activity was deleted while the worker waited.
            Err(e) => Some(Err(e.into())),
        }
    }

    /// The response for a parked StartSyncExecution whose execution has ended.
    pub fn sync_result(&self, execution_arn: &str) -> Option<Result<Value, ApiError>> {
        match self.service.describe_execution(execution_arn) {
            Ok(d) if d.status == ExecutionStatus::Running => None,
            Ok(d) => Some(Ok(sync_json(&d))),
            Err(e) => Some(Err(e.into())),
        }
    }

    // ----- tags -----

    fn resource_exists(&self, arn: &str) -> Result<(), ApiError> {
        let kind = arn.split(':').nth(5).unwrap_or("");
        let found = match kind {
            "stateMachine" => self.service.describe_state_machine(arn).is_ok(),
            "activity" => self.service.describe_activity(arn).is_ok(),
            _ => return Err(ApiError::new("InvalidArn", format!("Invalid Arn: '{arn}'"))),
        };
        if found {
            Ok(())
        } else {
            Err(ApiError::new(
                "ResourceNotFound",
                format!("Resource not found: '{arn}'"),
            ))
        }
    }

    fn tag_resource(&mut self, f: &Fields) -> Result<Value, ApiError> {
        let arn = f.str("resourceArn")?;
        let tags = f.opt_list("tags")?.ok_or_else(|| missing_member("tags"))?;
        let tags = read_tags(Some(tags))?;
        self.resource_exists(&arn)?;
        let mut current = self.tags.get(&arn).cloned().unwrap_or_default();
        merge_tags(&mut current, tags)?;
        self.tags.insert(arn, current);
        Ok(json!({}))
    }

    fn untag_resource(&mut self, f: &Fields) -> Result<Value, ApiError> {
        let arn = f.str("resourceArn")?;
        let keys = f
            .opt_list("tagKeys")?
            .ok_or_else(|| missing_member("tagKeys"))?;
        self.resource_exists(&arn)?;
        let keys: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
        if let Some(list) = self.tags.get_mut(&arn) {
            list.retain(|(k, _)| !keys.contains(&k.as_str()));
        }
        Ok(json!({}))
    }

    fn list_tags(&self, f: &Fields) -> Result<Value, ApiError> {
        let arn = f.str("resourceArn")?;
        self.resource_exists(&arn)?;
        let list: Vec<Value> = self
            .tags
            .get(&arn)
            .map(|l| {
                l.iter()
                    .map(|(k, v)| json!({"key": k, "value": v}))
                    .collect()
            })
            .unwrap_or_default();
        Ok(json!({"tags": list}))
    }
}

fn unreachable_op() -> Result<Value, ApiError> {
    Err(ApiError::new(
        "InternalFailure",
        "the operation was dispatched twice",
    ))
}

fn missing_member(name: &str) -> ApiError {
    ApiError::validation(format!(
        "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
    ))
}

fn default_logging() -> Value {
    json!({"level": "OFF", "includeExecutionData": false})
}

/// A revision id in the form of AWS's (a UUID), counted so runs repeat exactly.
fn revision_uuid(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

fn activity_task_json(task: &engine::ActivityTask) -> Value {
    json!({"taskToken": task.task_token, "input": text(&task.input)})
}

/// Removes the execution data (inputs, outputs, parameters) from an event's details, as
/// GetExecutionHistory does with `includeExecutionData: false`. Assumption: the fields that
/// carry data are those named `input`, `output` and `parameters`, with their `*Details`.
fn strip_data(event: &mut Value) {
    let Some(m) = event.as_object_mut() else {
        return;
    };
    for (key, details) in m.iter_mut() {
        if !key.ends_with("EventDetails") {
            continue;
        }
        if let Some(d) = details.as_object_mut() {
            for field in [
                "input",
                "inputDetails",
                "output",
                "outputDetails",
                "parameters",
            ] {
                d.remove(field);
            }
        }
    }
}

/// ValidateStateMachineDefinition: every diagnostic of the definition, errors first (as
/// AWS orders them), up to `maxResults` (default 100), `truncated` when some were left out.
/// `severity: WARNING` reports warnings too; the default, ERROR, only errors.
fn validate_definition(f: &Fields) -> Result<Value, ApiError> {
    let definition = f.str("definition")?;
    let kind = f.opt_enum("type", &["STANDARD", "EXPRESS"])?;
    let severity = f.opt_enum("severity", &["ERROR", "WARNING"])?;
    let max = f.opt_int("maxResults", 0, 100)?;
    let max = match max {
        Some(n) if n > 0 => n as usize,
        _ => 100,
    };
    // The type is checked as a field; the diagnostics are the same for both types (the
    // Express-only refusals come at CreateStateMachine, as InvalidDefinition).
    let _ = kind;
    let mut diags = engine::validate(&definition);
    let with_warnings = severity.as_deref() == Some("WARNING");
    diags.retain(|d| with_warnings || d.severity == engine::Severity::Error);
    diags.sort_by_key(|d| d.severity != engine::Severity::Error);
    let has_error = diags.iter().any(|d| d.severity == engine::Severity::Error);
    let truncated = diags.len() > max;
    let list: Vec<Value> = diags
        .iter()
        .take(max)
        .map(|d| {
            let mut m = Map::new();
            m.insert("severity".into(), json!(d.severity.as_str()));
            m.insert("code".into(), json!(d.code.as_str()));
            m.insert("message".into(), json!(d.message));
            if !d.location.is_empty() {
                m.insert("location".into(), json!(d.location));
            }
            Value::Object(m)
        })
        .collect();
    Ok(json!({
        "result": if has_error { "FAIL" } else { "OK" },
        "diagnostics": list,
        "truncated": truncated,
    }))
}

/// A listing's answer: the page under `key`, and `nextToken` when there is more.
fn paged(key: &str, list: Vec<Value>, next: Option<String>) -> Value {
    let mut out = serde_json::Map::new();
    out.insert(key.to_string(), Value::Array(list));
    if let Some(n) = next {
        out.insert("nextToken".into(), json!(n));
    }
    Value::Object(out)
}
