//! The SDK backend: anything that speaks the Step Functions API (`stepcheck serve`,
//! LocalStack, moto, Step Functions Local, real AWS), driven through aws-sdk-sfn.
//!
//! The SDK does the protocol, signing, the standard credentials chain and retries of
//! throttled calls with backoff. Histories are kept exactly as the wire carried them: an
//! interceptor keeps the raw JSON body of each GetExecutionHistory page, so the harness
//! compares the API's own shape rather than a re-serialisation of the SDK's types, while the
//! SDK still proves that the body deserialises.
//!
//! Every resource a session creates is named under a run prefix and tagged with it; a
//! session deletes its state machines when it ends (even when the scenario failed), and
//! [`cleanup`] deletes whatever a killed run left behind.

use crate::backend::{
    Backend, BackendError, BackendFactory, Capabilities, ExecutionInfo, SessionSetup, WaitingTask,
};
use crate::scenario::WorkflowType;
use aws_sdk_sfn::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
};
use aws_sdk_sfn::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sfn::error::{BoxError, ProvideErrorMetadata, SdkError};
use aws_sdk_sfn::types::{ExecutionStatus, StateMachineType, Tag};
use aws_sdk_sfn::Client;
use regex::Regex;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The tag key every created resource carries; its value is the run prefix.
pub const RUN_TAG: &str = "stepcheck:run";

/// The role ARN given to CreateStateMachine when none is configured. Emulators accept any
/// well-formed role; real AWS needs a real one (`--role-arn` or `STEPCHECK_ROLE_ARN`).
pub const DEFAULT_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/StepFunctionsExecutionRole";

/// Where an SDK backend sends its calls and how it behaves.
#[derive(Debug, Clone)]
pub struct SdkTarget {
    /// The backend's name in reports (`aws`, `localstack`, `http://127.0.0.1:4566`, ...).
    pub name: String,
    /// The endpoint URL; `None` means real AWS, found from the region.
    pub endpoint: Option<String>,
    /// The region.
    pub region: String,
    /// The execution role of created state machines.
    pub role_arn: String,
    /// The prefix of every resource name of this run; `None` when the endpoint is private
    /// to one session (a `stepcheck serve` started for it) and names need no prefix.
    pub run_prefix: Option<String>,
    /// What the backend can do.
    pub capabilities: Capabilities,
    /// How long `settle` waits for an execution before giving up.
    pub settle_timeout: Duration,
    /// A CloudWatch Logs log group ARN: Express machines log every event there (level ALL,
    /// with execution data), and their histories are read back from it.
    pub express_log_group: Option<String>,
}

impl SdkTarget {
    /// A target for an emulator at `endpoint` (dummy credentials unless the environment has
    /// real ones; any role is accepted).
    pub fn emulator(name: &str, endpoint: &str) -> SdkTarget {
        SdkTarget {
            name: name.to_string(),
            endpoint: Some(endpoint.to_string()),
            region: std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".to_string()),
            role_arn: std::env::var("STEPCHECK_ROLE_ARN")
                .unwrap_or_else(|_| DEFAULT_ROLE_ARN.to_string()),
            run_prefix: Some(new_run_prefix()),
            capabilities: Capabilities {
                virtual_time: false,
                mocks: false,
                express_history: false,
                task_tokens: true,
                validation: false,
            },
            // Emulators finish in milliseconds what they finish at all; a task that never
            // asks for its callback should not hold the run for minutes.
            settle_timeout: Duration::from_secs(20),
            express_log_group: None,
        }
    }
}

impl SdkTarget {
    /// A target whose endpoint each session brings (a server or container started for it,
    /// see [`Sdk::session_at`]): the configuration's endpoint is a placeholder that only
    /// selects the emulator set-up (dummy credentials), and nothing is shared, so names need
    /// no run prefix.
    pub fn per_session(name: &str, capabilities: Capabilities) -> SdkTarget {
        SdkTarget {
            run_prefix: None,
            capabilities,
            ..SdkTarget::emulator(name, "http://127.0.0.1:1")
        }
    }
}

/// A fresh run prefix: `stepcheck-` and the run's start time in base 36, so that two runs
/// never share names and `stepcheck cleanup --prefix stepcheck-` finds every leftover.
pub fn new_run_prefix() -> String {
    let mut n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let mut digits = Vec::new();
    while n > 0 {
        digits.push(b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize]);
        n /= 36;
    }
    digits.reverse();
    format!("stepcheck-{}-", String::from_utf8_lossy(&digits))
}

/// Keeps the raw body of the latest response, so histories keep the wire's JSON shape; and
/// for an overridden endpoint drops the `sync-` host prefix the SDK puts in front of
/// StartSyncExecution's host, which a loopback address cannot carry.
#[derive(Debug, Clone, Default)]
struct Wire {
    body: Arc<Mutex<Option<Vec<u8>>>>,
    drop_host_prefix: bool,
}

impl Wire {
    fn take(&self) -> Option<Vec<u8>> {
        self.body.lock().ok().and_then(|mut b| b.take())
    }
}

impl Intercept for Wire {
    fn name(&self) -> &'static str {
        "stepcheck-wire"
    }

    fn modify_before_serialization(
        &self,
        _context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.drop_host_prefix {
            cfg.interceptor_state()
                .unset::<aws_smithy_runtime_api::client::endpoint::EndpointPrefix>();
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let (Some(bytes), Ok(mut slot)) = (context.response().body().bytes(), self.body.lock()) {
            *slot = Some(bytes.to_vec());
        }
        Ok(())
    }
}

/// An SDK backend: one shared tokio runtime and SDK configuration, a client per session.
pub struct Sdk {
    target: SdkTarget,
    pub(crate) runtime: Arc<tokio::runtime::Runtime>,
    config: aws_config::SdkConfig,
    sessions: AtomicUsize,
    /// The emulator process this backend started, stopped when the backend is dropped.
    process: Mutex<Option<crate::emulators::EmulatorProcess>>,
}

impl std::fmt::Debug for Sdk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sdk").field("target", &self.target).finish()
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, BackendError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| BackendError::new("RuntimeError", e.to_string()))
}

impl Sdk {
    /// A backend for `target`, with the standard credentials chain (for an overridden
    /// endpoint without credentials in the environment, dummy ones, as emulators accept).
    pub fn new(target: SdkTarget) -> Result<Sdk, BackendError> {
        let runtime = Arc::new(runtime()?);
        let config = runtime.block_on(load_config(&target));
        Ok(Sdk {
            target,
            runtime,
            config,
            sessions: AtomicUsize::new(0),
            process: Mutex::new(None),
        })
    }

    /// A backend on an emulator process it started (and stops when dropped).
    pub fn on_process(process: crate::emulators::EmulatorProcess) -> Result<Sdk, BackendError> {
        let mut sdk = Sdk::new(SdkTarget::emulator(process.name(), process.endpoint()))?;
        sdk.process = Mutex::new(Some(process));
        Ok(sdk)
    }

    /// The target.
    pub fn target(&self) -> &SdkTarget {
        &self.target
    }

    fn client(&self) -> (Client, Wire) {
        client(&self.config, self.target.endpoint.is_some())
    }

    /// A session on an endpoint of its own (a server or container started for it): no name
    /// prefix.
    pub fn session_at(
        &self,
        endpoint: &str,
        clock: Option<Box<dyn VirtualClock>>,
    ) -> Result<SdkSession, BackendError> {
        let config = aws_sdk_sfn::config::Builder::from(&self.config)
            .endpoint_url(endpoint)
            .build();
        let wire = Wire {
            drop_host_prefix: true,
            ..Wire::default()
        };
        let config = config.to_builder().interceptor(wire.clone()).build();
        Ok(SdkSession::new(
            self,
            Client::from_conf(config),
            wire,
            String::new(),
            clock,
        ))
    }
}

async fn load_config(target: &SdkTarget) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(target.region.clone()))
        // Real AWS throttles, and its throttling is retried with backoff; an emulator's
        // errors are answers, so it gets fewer attempts.
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(if target.endpoint.is_some() { 3 } else { 8 }),
        );
    if let Some(endpoint) = &target.endpoint {
        loader = loader.endpoint_url(endpoint);
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            loader = loader.credentials_provider(aws_sdk_sfn::config::Credentials::new(
                "test",
                "test",
                None,
                None,
                "stepcheck",
            ));
        }
    }
    loader.load().await
}

fn client(config: &aws_config::SdkConfig, overridden: bool) -> (Client, Wire) {
    let wire = Wire {
        drop_host_prefix: overridden,
        ..Wire::default()
    };
    let conf = aws_sdk_sfn::config::Builder::from(config)
        .interceptor(wire.clone())
        .build();
    (Client::from_conf(conf), wire)
}

impl BackendFactory for Sdk {
    fn name(&self) -> &str {
        &self.target.name
    }

    fn shared_endpoint(&self) -> Option<String> {
        // Real AWS (no endpoint) checks signatures.
        self.target.endpoint.clone()
    }

    fn capabilities(&self) -> Capabilities {
        self.target.capabilities
    }

    fn session(&self, setup: &SessionSetup) -> Result<Box<dyn Backend>, BackendError> {
        if setup.mock_config.is_some() && !self.target.capabilities.mocks {
            return Err(BackendError::new(
                "Unsupported",
                format!(
                    "{} cannot take a MockConfigFile per scenario",
                    self.target.name
                ),
            ));
        }
        let (client, wire) = self.client();
        let n = self.sessions.fetch_add(1, Ordering::Relaxed);
        let prefix = match &self.target.run_prefix {
            Some(run) => format!("{run}{n}-"),
            None => String::new(),
        };
        Ok(Box::new(SdkSession::new(self, client, wire, prefix, None)))
    }

    fn stop(&self) {
        // Dropping the process stops the emulator this backend started.
        if let Ok(mut p) = self.process.lock() {
            p.take();
        }
    }

    fn cleanup(&self) -> Result<usize, BackendError> {
        match &self.target.run_prefix {
            Some(run) => {
                let c = cleanup(&self.target, run)?;
                Ok(c.state_machines.len() + c.activities.len())
            }
            None => Ok(0),
        }
    }
}

/// The clock of a backend whose time is virtual (a `stepcheck serve` in this process).
pub trait VirtualClock: Send {
    /// The backend's time, in epoch milliseconds.
    fn now_millis(&self) -> Result<i64, BackendError>;
    /// Moves the backend's time to `epoch_millis`, running what falls due.
    fn advance_to(&self, epoch_millis: i64) -> Result<(), BackendError>;
}

struct Machine {
    /// The scenario's name for it.
    name: String,
    definition: Value,
}

/// One scenario's session on an SDK backend.
pub struct SdkSession {
    runtime: Arc<tokio::runtime::Runtime>,
    client: Client,
    wire: Wire,
    /// Prepended to every name this session creates.
    prefix: String,
    run_prefix: Option<String>,
    role_arn: String,
    account: String,
    partition: String,
    region: String,
    settle_timeout: Duration,
    clock: Option<Box<dyn VirtualClock>>,
    machines: HashMap<String, Machine>,
    executions: HashMap<String, String>,
    /// Activities created, by ARN, with the scenario's names for them.
    activities: HashMap<String, String>,
    /// Where Express executions log their events, and a client to read them back.
    express_logs: Option<(String, aws_sdk_cloudwatchlogs::Client)>,
    /// The backend's clock minus ours, in milliseconds, as of the latest execution start: on a
    /// wall clock, callbacks due "at T seconds after the start" are timed on the backend's
    /// clock, which need not agree with this machine's.
    clock_offset: i64,
    /// Activity tasks handed out by GetActivityTask and not answered yet, with the state
    /// that uses the activity.
    activity_tasks: Vec<WaitingTask>,
    /// What the endpoint lives on (a container or a server started for this session); it
    /// goes after the session has deleted what it created.
    held: Option<Box<dyn std::any::Any + Send>>,
}

impl std::fmt::Debug for SdkSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SdkSession")
            .field("prefix", &self.prefix)
            .finish()
    }
}

fn state_machine_ref_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):(stateMachine|activity):([A-Za-z0-9_-]+)",
        )
            .expect("valid regex")
    })
}

fn sdk_error<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    e: SdkError<E, R>,
) -> BackendError {
    match (e.code(), e.message()) {
        (Some(code), message) => BackendError::new(code, message.unwrap_or_default()),
        _ => BackendError::new(
            "ConnectionError",
            aws_sdk_sfn::error::DisplayErrorContext(&e).to_string(),
        ),
    }
}

fn millis(t: &aws_sdk_sfn::primitives::DateTime) -> i64 {
    t.to_millis().unwrap_or(t.secs() * 1000)
}

/// `ARN#TestCase`, as Step Functions Local and LocalStack pick a MockConfigFile test case.
fn with_test_case(state_machine_arn: &str, test_case: Option<&str>) -> String {
    match test_case {
        Some(case) => format!("{state_machine_arn}#{case}"),
        None => state_machine_arn.to_string(),
    }
}

fn local_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn parse_output(text: Option<&str>) -> Option<Value> {
    text.map(|t| serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.to_string())))
}

impl SdkSession {
    fn new(
        sdk: &Sdk,
        client: Client,
        wire: Wire,
        prefix: String,
        clock: Option<Box<dyn VirtualClock>>,
    ) -> SdkSession {
        let role = &sdk.target.role_arn;
        // arn:PARTITION:iam::ACCOUNT:role/NAME
        let parts: Vec<&str> = role.split(':').collect();
        SdkSession {
            runtime: Arc::clone(&sdk.runtime),
            client,
            wire,
            prefix,
            run_prefix: sdk.target.run_prefix.clone(),
            role_arn: role.clone(),
            account: parts.get(4).copied().unwrap_or("123456789012").to_string(),
            partition: parts.get(1).copied().unwrap_or("aws").to_string(),
            region: sdk.target.region.clone(),
            settle_timeout: sdk.target.settle_timeout,
            clock,
            machines: HashMap::new(),
            executions: HashMap::new(),
            activities: HashMap::new(),
            activity_tasks: Vec::new(),
            clock_offset: 0,
            express_logs: sdk
                .target
                .express_log_group
                .clone()
                .map(|group| (group, aws_sdk_cloudwatchlogs::Client::new(&sdk.config))),
            held: None,
        }
    }

    /// The session, keeping `thing` (the endpoint's container or server) alive as long as
    /// the session lives.
    pub fn holding(mut self, thing: Box<dyn std::any::Any + Send>) -> SdkSession {
        self.held = Some(thing);
        self
    }

    /// The definition with every reference to another state machine or an activity pointed
    /// at the one this session creates under its prefix, in the backend's account and region.
    fn rewrite_definition(&self, definition: &str) -> String {
        state_machine_ref_re()
            .replace_all(definition, |c: &regex::Captures<'_>| {
                format!(
                    "arn:{}:states:{}:{}:{}:{}{}",
                    self.partition, self.region, self.account, &c[4], self.prefix, &c[5]
                )
            })
            .into_owned()
    }

    fn machine_of(&self, execution_arn: &str) -> Option<&Machine> {
        if let Some(m) = self.executions.get(execution_arn) {
            return self.machines.get(m);
        }
        // A child execution: arn:...:execution:MACHINE:NAME.
        let machine = execution_arn.split(':').nth(6)?;
        self.machines
            .values()
            .find(|m| format!("{}{}", self.prefix, m.name) == machine)
    }

    fn history_pages(&mut self, execution_arn: &str) -> Result<Vec<Value>, BackendError> {
        let mut events = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let call = self
                .client
                .get_execution_history()
                .execution_arn(execution_arn)
                .max_results(1000)
                .set_next_token(next.clone());
            let out = self.runtime.block_on(call.send()).map_err(sdk_error)?;
            let body = self.wire.take().ok_or_else(|| {
                BackendError::new("WireError", "the history's response body was not kept")
            })?;
            let page: Value = serde_json::from_slice(&body).map_err(|e| {
                BackendError::new("WireError", format!("the history is not JSON: {e}"))
            })?;
            if let Some(list) = page.get("events").and_then(Value::as_array) {
                events.extend(list.iter().cloned());
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(events)
    }

    /// An Express execution's history, read back from the log group its machine logs to
    /// (CloudWatch Logs delivers records some seconds late: it waits for the terminal one).
    fn express_history(&mut self, execution_arn: &str) -> Result<Vec<Value>, BackendError> {
        let Some((group, logs)) = &self.express_logs else {
            return Err(BackendError::new(
                "InvalidArn",
                "Express executions keep no history; configure a log group (STEPCHECK_EXPRESS_LOG_GROUP) to read it from CloudWatch Logs",
            ));
        };
        // arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]
        let name = group
            .split(":log-group:")
            .nth(1)
            .unwrap_or(group)
            .trim_end_matches(":*")
            .to_string();
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let mut records = Vec::new();
            let mut next: Option<String> = None;
            loop {
                let call = logs
                    .filter_log_events()
                    .log_group_name(&name)
                    .filter_pattern(format!("\"{execution_arn}\""))
                    .set_next_token(next.clone());
                let out = self.runtime.block_on(call.send()).map_err(|e| {
                    BackendError::new(
                        e.code().unwrap_or("CloudWatchLogsError"),
                        aws_sdk_sfn::error::DisplayErrorContext(&e).to_string(),
                    )
                })?;
                for e in out.events() {
                    if let Some(v) = e.message().and_then(|m| serde_json::from_str(m).ok()) {
                        records.push(v);
                    }
                }
                match out.next_token() {
                    Some(t) if !t.is_empty() => next = Some(t.to_string()),
                    _ => break,
                }
            }
            let events = events_from_log_records(&records, execution_arn);
            let ended = events.last().is_some_and(|e| {
                matches!(
                    e["type"].as_str(),
                    Some(
                        "ExecutionSucceeded"
                            | "ExecutionFailed"
                            | "ExecutionAborted"
                            | "ExecutionTimedOut"
                    )
                )
            });
            if ended {
                return Ok(events);
            }
            if Instant::now() >= deadline {
                return Err(BackendError::new(
                    "LogsIncomplete",
                    format!("{group} holds no terminal event of {execution_arn} after 90 s"),
                ));
            }
            std::thread::sleep(Duration::from_secs(2));
        }
    }

    /// Deletes what this session created (state machines; their executions go with them,
    /// running ones are stopped first, as DeleteStateMachine requires on some emulators).
    fn delete_all(&mut self) {
        let arns: Vec<String> = self.machines.keys().cloned().collect();
        for arn in arns {
            let _ = self.delete_state_machine(&arn);
        }
        for arn in std::mem::take(&mut self.activities).into_keys() {
            let call = self.client.delete_activity().activity_arn(arn);
            let _ = self.runtime.block_on(call.send());
        }
    }
}

impl Drop for SdkSession {
    fn drop(&mut self) {
        if self.run_prefix.is_some() {
            self.delete_all();
        }
    }
}

/// Where the task token sits in a Task state's parameters: the paths whose template is
/// `$$.Task.Token` (JSONPath) or names `$states.context.Task.Token` (JSONata).
fn token_paths(template: &Value, path: &mut Vec<String>, found: &mut Vec<Vec<String>>) {
    match template {
        Value::Object(m) => {
            for (k, v) in m {
                let (key, is_path) = match k.strip_suffix(".$") {
                    Some(key) => (key, true),
                    None => (k.as_str(), false),
                };
                path.push(key.to_string());
                match v {
                    Value::String(s) if is_path && s.trim() == "$$.Task.Token" => {
                        found.push(path.clone())
                    }
                    Value::String(s) if s.contains("$states.context.Task.Token") => {
                        found.push(path.clone())
                    }
                    _ => token_paths(v, path, found),
                }
                path.pop();
            }
        }
        Value::String(s) if s.contains("$states.context.Task.Token") => found.push(path.clone()),
        _ => {}
    }
}

fn find_state<'a>(definition: &'a Value, name: &str) -> Option<&'a Value> {
    let states = definition.get("States")?.as_object()?;
    if let Some(s) = states.get(name) {
        return Some(s);
    }
    states.values().find_map(|s| {
        let inner = s
            .get("Branches")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(s.get("ItemProcessor"))
            .chain(s.get("Iterator"));
        inner.into_iter().find_map(|d| find_state(d, name))
    })
}

/// The GetExecutionHistory events of one execution from its CloudWatch Logs records (an
/// Express machine logging at level ALL): ids, links and timestamps as numbers, and the
/// details under the field the API names after the event type.
pub fn events_from_log_records(records: &[Value], execution_arn: &str) -> Vec<Value> {
    let number = |v: &Value| -> i64 {
        match v {
            Value::String(s) => s.parse().unwrap_or(0),
            other => other.as_i64().unwrap_or(0),
        }
    };
    let mut events: Vec<Value> = records
        .iter()
        .filter(|r| r["execution_arn"].as_str() == Some(execution_arn))
        .map(|r| {
            let kind = r["type"].as_str().unwrap_or_default();
            let mut e = serde_json::Map::new();
            e.insert(
                "timestamp".into(),
                Value::from(number(&r["event_timestamp"]) as f64 / 1000.0),
            );
            e.insert("type".into(), Value::from(kind));
            e.insert("id".into(), Value::from(number(&r["id"])));
            e.insert(
                "previousEventId".into(),
                Value::from(number(&r["previous_event_id"])),
            );
            if let Some(d) = r.get("details").filter(|d| !d.is_null()) {
                e.insert(details_key(kind), d.clone());
            }
            Value::Object(e)
        })
        .collect();
    events.sort_by_key(|e| e["id"].as_i64().unwrap_or(0));
    events.dedup_by_key(|e| e["id"].as_i64().unwrap_or(0));
    events
}

/// The HistoryEvent field that holds an event type's details: `stateEnteredEventDetails`
/// and `stateExitedEventDetails` for every state type, else the type's own name
/// (`taskScheduledEventDetails`, `mapIterationStartedEventDetails`, ...), as the API model
/// has them.
fn details_key(kind: &str) -> String {
    if kind.ends_with("StateEntered") {
        return "stateEnteredEventDetails".into();
    }
    if kind.ends_with("StateExited") {
        return "stateExitedEventDetails".into();
    }
    let mut chars = kind.chars();
    match chars.next() {
        Some(first) => format!(
            "{}{}EventDetails",
            first.to_ascii_lowercase(),
            chars.as_str()
        ),
        None => "EventDetails".into(),
    }
}

/// The name of the state (anywhere in the definition) whose Resource is `resource`.
fn state_with_resource<'a>(definition: &'a Value, resource: &str) -> Option<&'a str> {
    let states = definition.get("States")?.as_object()?;
    states.iter().find_map(|(name, s)| {
        if s.get("Resource").and_then(Value::as_str) == Some(resource) {
            return Some(name.as_str());
        }
        s.get("Branches")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(s.get("ItemProcessor"))
            .chain(s.get("Iterator"))
            .find_map(|d| state_with_resource(d, resource))
    })
}

/// The tasks of a history that wait for a callback: each `.waitForTaskToken` TaskScheduled
/// without an end, with the token read from its parameters where the definition put it.
fn waiting_from_history(
    events: &[Value],
    definition: &Value,
) -> Result<Vec<WaitingTask>, BackendError> {
    let id = |e: &Value| e.get("id").and_then(Value::as_i64).unwrap_or(0);
    let prev = |e: &Value| {
        e.get("previousEventId")
            .and_then(Value::as_i64)
            .unwrap_or(0)
    };
    fn kind(e: &Value) -> &str {
        e.get("type").and_then(Value::as_str).unwrap_or("")
    }
    if events.iter().any(|e| {
        matches!(
            kind(e),
            "ExecutionSucceeded" | "ExecutionFailed" | "ExecutionAborted" | "ExecutionTimedOut"
        )
    }) {
        return Ok(Vec::new());
    }
    let by_id: HashMap<i64, &Value> = events.iter().map(|e| (id(e), e)).collect();
    // The TaskScheduled events that have ended: a task's end follows its TaskStarted (or,
    // for a failure to start, the TaskScheduled itself).
    let mut ended: std::collections::HashSet<i64> = std::collections::HashSet::new();
    for e in events {
        if matches!(
            kind(e),
            "TaskSucceeded" | "TaskFailed" | "TaskTimedOut" | "TaskStartFailed"
        ) {
            let p = prev(e);
            ended.insert(match by_id.get(&p) {
                Some(started) if kind(started) == "TaskStarted" => prev(started),
                _ => p,
            });
        }
    }
    let mut waiting = Vec::new();
    for e in events {
        if kind(e) != "TaskScheduled" {
            continue;
        }
        let details = &e["taskScheduledEventDetails"];
        let resource = details["resource"].as_str().unwrap_or("");
        if !resource.ends_with(".waitForTaskToken") || ended.contains(&id(e)) {
            continue;
        }
        // The state is the one entered last on the way back along the causal links (a
        // retry's TaskScheduled follows the failed attempt, not the StateEntered).
        let mut link = prev(e);
        let mut state_name = None;
        while let Some(p) = by_id.get(&link) {
            if let Some(n) = p["stateEnteredEventDetails"]["name"].as_str() {
                state_name = Some(n);
                break;
            }
            if link == 0 {
                break;
            }
            link = prev(p);
        }
        let Some(state_name) = state_name else {
            continue;
        };
        let parameters: Value = details["parameters"]
            .as_str()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or(Value::Null);
        let Some(state) = find_state(definition, state_name) else {
            continue;
        };
        let template = state
            .get("Parameters")
            .or_else(|| state.get("Arguments"))
            .unwrap_or(&Value::Null);
        let mut found = Vec::new();
        token_paths(template, &mut Vec::new(), &mut found);
        let token = found.iter().find_map(|p| {
            p.iter()
                .try_fold(&parameters, |v, k| v.get(k))
                .and_then(Value::as_str)
        });
        let Some(token) = token else {
            // Over the API the token can only be read back from where the definition put it
            // as a plain `$$.Task.Token` (or `$states.context.Task.Token`) value.
            return Err(BackendError::new(
                "TokenNotFound",
                format!(
                    "state '{state_name}' waits for a callback, but its task token is not a plain value of its Parameters/Arguments (wrapped in an intrinsic or a string?), so it cannot be found over the API"
                ),
            ));
        };
        waiting.push(WaitingTask {
            state_name: state_name.to_string(),
            token: token.to_string(),
        });
    }
    Ok(waiting)
}

fn describe_info(
    out: &aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput,
) -> ExecutionInfo {
    ExecutionInfo {
        execution_arn: out.execution_arn().to_string(),
        status: out.status().as_str().to_string(),
        output: parse_output(out.output()),
        error: out.error().map(str::to_string),
        cause: out.cause().map(str::to_string),
        start_millis: millis(out.start_date()),
    }
}

impl Backend for SdkSession {
    fn create_state_machine(
        &mut self,
        name: &str,
        definition: &str,
        workflow_type: WorkflowType,
    ) -> Result<String, BackendError> {
        let text = self.rewrite_definition(definition);
        let mut call = self
            .client
            .create_state_machine()
            .name(format!("{}{name}", self.prefix))
            .definition(&text)
            .role_arn(&self.role_arn)
            .r#type(match workflow_type {
                WorkflowType::Standard => StateMachineType::Standard,
                WorkflowType::Express => StateMachineType::Express,
            });
        if let Some(run) = &self.run_prefix {
            call = call.tags(Tag::builder().key(RUN_TAG).value(run).build());
        }
        if let (WorkflowType::Express, Some((group, _))) = (workflow_type, &self.express_logs) {
            use aws_sdk_sfn::types::{
                CloudWatchLogsLogGroup, LogDestination, LogLevel, LoggingConfiguration,
            };
            call = call.logging_configuration(
                LoggingConfiguration::builder()
                    .level(LogLevel::All)
                    .include_execution_data(true)
                    .destinations(
                        LogDestination::builder()
                            .cloud_watch_logs_log_group(
                                CloudWatchLogsLogGroup::builder()
                                    .log_group_arn(group)
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            );
        }
        let out = self.runtime.block_on(call.send()).map_err(sdk_error)?;
        let arn = out.state_machine_arn().to_string();
        self.machines.insert(
            arn.clone(),
            Machine {
                name: name.to_string(),
                definition: serde_json::from_str(&text).unwrap_or(Value::Null),
            },
        );
        Ok(arn)
    }

    fn delete_state_machine(&mut self, arn: &str) -> Result<(), BackendError> {
        // On a shared backend running executions are stopped first, so that nothing
        // outlives the session.
        let stop_first = self.run_prefix.is_some();
        self.runtime
            .block_on(delete_machine(&self.client, arn, stop_first))?;
        self.machines.remove(arn);
        Ok(())
    }

    fn start_execution(
        &mut self,
        state_machine_arn: &str,
        name: &str,
        input: &str,
        test_case: Option<&str>,
    ) -> Result<String, BackendError> {
        let target = with_test_case(state_machine_arn, test_case);
        let call = self
            .client
            .start_execution()
            .state_machine_arn(target)
            .name(name)
            .input(input);
        let out = self.runtime.block_on(call.send()).map_err(sdk_error)?;
        self.clock_offset = millis(out.start_date()) - local_millis();
        let arn = out.execution_arn().to_string();
        self.executions
            .insert(arn.clone(), state_machine_arn.to_string());
        Ok(arn)
    }

    fn start_sync_execution(
        &mut self,
        state_machine_arn: &str,
        name: &str,
        input: &str,
        test_case: Option<&str>,
    ) -> Result<ExecutionInfo, BackendError> {
        let target = with_test_case(state_machine_arn, test_case);
        let call = self
            .client
            .start_sync_execution()
            .state_machine_arn(target)
            .name(name)
            .input(input);
        let out = self.runtime.block_on(call.send()).map_err(sdk_error)?;
        self.executions.insert(
            out.execution_arn().to_string(),
            state_machine_arn.to_string(),
        );
        Ok(ExecutionInfo {
            execution_arn: out.execution_arn().to_string(),
            status: out.status().as_str().to_string(),
            output: parse_output(out.output()),
            error: out.error().map(str::to_string),
            cause: out.cause().map(str::to_string),
            start_millis: millis(out.start_date()),
        })
    }

    fn describe_execution(&mut self, execution_arn: &str) -> Result<ExecutionInfo, BackendError> {
        let call = self
            .client
            .describe_execution()
            .execution_arn(execution_arn);
        let out = self.runtime.block_on(call.send()).map_err(sdk_error)?;
        Ok(describe_info(&out))
    }

    fn get_execution_history(&mut self, execution_arn: &str) -> Result<Vec<Value>, BackendError> {
        if execution_arn.contains(":express:") {
            return self.express_history(execution_arn);
        }
        self.history_pages(execution_arn)
    }

    fn stop_execution(
        &mut self,
        execution_arn: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), BackendError> {
        let call = self
            .client
            .stop_execution()
            .execution_arn(execution_arn)
            .set_error(error.map(str::to_string))
            .set_cause(cause.map(str::to_string));
        self.runtime.block_on(call.send()).map_err(sdk_error)?;
        Ok(())
    }

    fn send_task_success(&mut self, token: &str, output: &str) -> Result<(), BackendError> {
        self.activity_tasks.retain(|w| w.token != token);
        let call = self
            .client
            .send_task_success()
            .task_token(token)
            .output(output);
        self.runtime.block_on(call.send()).map_err(sdk_error)?;
        Ok(())
    }

    fn send_task_failure(
        &mut self,
        token: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), BackendError> {
        self.activity_tasks.retain(|w| w.token != token);
        let call = self
            .client
            .send_task_failure()
            .task_token(token)
            .set_error(error.map(str::to_string))
            .set_cause(cause.map(str::to_string));
        self.runtime.block_on(call.send()).map_err(sdk_error)?;
        Ok(())
    }

    fn send_task_heartbeat(&mut self, token: &str) -> Result<(), BackendError> {
        let call = self.client.send_task_heartbeat().task_token(token);
        self.runtime.block_on(call.send()).map_err(sdk_error)?;
        Ok(())
    }

    fn create_activity(&mut self, name: &str) -> Result<String, BackendError> {
        let mut call = self
            .client
            .create_activity()
            .name(format!("{}{name}", self.prefix));
        if let Some(run) = &self.run_prefix {
            call = call.tags(Tag::builder().key(RUN_TAG).value(run).build());
        }
        let out = self.runtime.block_on(call.send()).map_err(sdk_error)?;
        let arn = out.activity_arn().to_string();
        self.activities.insert(arn.clone(), name.to_string());
        Ok(arn)
    }

    fn get_activity_task(
        &mut self,
        activity_arn: &str,
        worker_name: Option<&str>,
    ) -> Result<Option<String>, BackendError> {
        let call = self
            .client
            .get_activity_task()
            .activity_arn(activity_arn)
            .set_worker_name(worker_name.map(str::to_string));
        let out = self.runtime.block_on(call.send()).map_err(sdk_error)?;
        // No task: the API answers with an empty token after its long poll.
        let token = out
            .task_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if let Some(token) = &token {
            // The API does not say which state the task is for: the state whose Resource is
            // this activity.
            let state = self
                .machines
                .values()
                .find_map(|m| state_with_resource(&m.definition, activity_arn).map(str::to_string));
            if let Some(state_name) = state {
                self.activity_tasks.push(WaitingTask {
                    state_name,
                    token: token.clone(),
                });
            }
        }
        Ok(token)
    }

    fn waiting_tasks(&mut self, execution_arn: &str) -> Result<Vec<WaitingTask>, BackendError> {
        if execution_arn.contains(":express:") {
            return Ok(Vec::new());
        }
        let events = self.history_pages(execution_arn)?;
        let Some(machine) = self.machine_of(execution_arn) else {
            return Ok(Vec::new());
        };
        let mut waiting = waiting_from_history(&events, &machine.definition)?;
        waiting.extend(
            self.activity_tasks
                .iter()
                .filter(|w| find_state(&machine.definition, &w.state_name).is_some())
                .cloned(),
        );
        Ok(waiting)
    }

    fn now_millis(&mut self) -> Result<i64, BackendError> {
        match &self.clock {
            Some(c) => c.now_millis(),
            None => Ok(local_millis() + self.clock_offset),
        }
    }

    fn advance_to(&mut self, epoch_millis: i64) -> Result<(), BackendError> {
        if let Some(c) = &self.clock {
            return c.advance_to(epoch_millis);
        }
        let now = self.now_millis()?;
        if epoch_millis > now {
            std::thread::sleep(Duration::from_millis((epoch_millis - now) as u64));
        }
        Ok(())
    }

    fn settle(&mut self, execution_arn: &str) -> Result<ExecutionInfo, BackendError> {
        // On a virtual clock the server has already run everything it could.
        if self.clock.is_some() {
            return self.describe_execution(execution_arn);
        }
        let deadline = Instant::now() + self.settle_timeout;
        let waits_for_callbacks = self
            .machine_of(execution_arn)
            .is_some_and(|m| m.definition.to_string().contains(".waitForTaskToken"));
        let mut pause = Duration::from_millis(20);
        loop {
            let info = self.describe_execution(execution_arn)?;
            if info.status != "RUNNING" {
                return Ok(info);
            }
            if waits_for_callbacks && !self.waiting_tasks(execution_arn)?.is_empty() {
                return Ok(info);
            }
            if Instant::now() >= deadline {
                return Err(BackendError::new(
                    "SettleTimeout",
                    format!(
                        "{execution_arn} still RUNNING after {}s",
                        self.settle_timeout.as_secs()
                    ),
                ));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }

    fn other_executions(
        &mut self,
        execution_arn: &str,
    ) -> Result<Vec<(String, ExecutionInfo)>, BackendError> {
        let machines: Vec<(String, String)> = self
            .machines
            .iter()
            .map(|(arn, m)| (arn.clone(), m.name.clone()))
            .collect();
        let mut found = Vec::new();
        for (arn, name) in machines {
            let listed = self.runtime.block_on(
                self.client
                    .list_executions()
                    .state_machine_arn(&arn)
                    .into_paginator()
                    .items()
                    .send()
                    .collect::<Result<Vec<_>, _>>(),
            );
            for e in listed.map_err(sdk_error)? {
                if e.execution_arn() != execution_arn {
                    let info = self.describe_execution(e.execution_arn())?;
                    found.push((name.clone(), info));
                }
            }
        }
        Ok(found)
    }

    fn keeps_express_history(&self) -> bool {
        self.express_logs.is_some()
    }

    fn aliases(&self) -> Vec<(String, String)> {
        let mut names: Vec<(String, String)> = Vec::new();
        // The goldens carry the in-process engine's role; a real role reads as that one.
        let role_name = self.role_arn.rsplit(':').next().unwrap_or_default();
        if role_name != "role/StepFunctionsExecutionRole" {
            names.push((
                role_name.to_string(),
                "role/StepFunctionsExecutionRole".to_string(),
            ));
        }
        if !self.prefix.is_empty() {
            names.extend(
                self.machines
                    .values()
                    .map(|m| &m.name)
                    .chain(self.activities.values())
                    .map(|n| (format!("{}{n}", self.prefix), n.clone())),
            );
        }
        names
    }
}

/// Real AWS as a target: the region and the Express log group from the options, else from
/// `AWS_REGION` (or `AWS_DEFAULT_REGION`) and `STEPCHECK_EXPRESS_LOG_GROUP`; the role is
/// the placeholder until [`aws_backend`] sets the real one (cleanup needs none).
pub fn aws_target(
    options: &crate::backend::OpenOptions,
) -> Result<SdkTarget, crate::backend::OpenError> {
    let region = match &options.region {
        Some(r) => r.clone(),
        None => std::env::var("AWS_REGION")
            .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
            .map_err(|_| crate::backend::OpenError::Absent {
                backend: "aws".to_string(),
                reason: "no region (--region or AWS_REGION)".to_string(),
            })?,
    };
    let express_log_group = options
        .express_log_group
        .clone()
        .or_else(|| std::env::var("STEPCHECK_EXPRESS_LOG_GROUP").ok());
    Ok(SdkTarget {
        name: "aws".to_string(),
        endpoint: None,
        region,
        role_arn: DEFAULT_ROLE_ARN.to_string(),
        run_prefix: Some(new_run_prefix()),
        capabilities: Capabilities {
            virtual_time: false,
            mocks: false,
            express_history: express_log_group.is_some(),
            task_tokens: true,
            validation: true,
        },
        settle_timeout: Duration::from_secs(600),
        express_log_group,
    })
}

/// Real AWS: the region and the execution role from the options, else from `AWS_REGION` (or
/// `AWS_DEFAULT_REGION`) and `STEPCHECK_ROLE_ARN`; credentials from the standard chain. Absent when any of them
/// is missing.
pub fn aws_backend(
    options: &crate::backend::OpenOptions,
) -> Result<Box<dyn BackendFactory>, crate::backend::OpenError> {
    use crate::backend::OpenError;
    let absent = |reason: &str| OpenError::Absent {
        backend: "aws".to_string(),
        reason: reason.to_string(),
    };
    let role_arn = match &options.role_arn {
        Some(r) => r.clone(),
        None => std::env::var("STEPCHECK_ROLE_ARN")
            .map_err(|_| absent("no execution role (--role-arn or STEPCHECK_ROLE_ARN)"))?,
    };
    let target = SdkTarget {
        role_arn,
        ..aws_target(options)?
    };
    let sdk = Sdk::new(target).map_err(|e| OpenError::Failed(e.to_string()))?;
    let provider = sdk
        .config
        .credentials_provider()
        .ok_or_else(|| absent("no AWS credentials"))?;
    use aws_sdk_sfn::config::ProvideCredentials;
    sdk.runtime
        .block_on(provider.provide_credentials())
        .map_err(|e| absent(&format!("no AWS credentials ({e})")))?;
    Ok(Box::new(sdk))
}

/// `stepcheck serve` through aws-sdk-sfn: each scenario gets a server of its own (on a free
/// loopback port, with the scenario's MockConfigFile), so the corpus runs unchanged over the
/// wire, with virtual time driven through the server's clock handle.
#[derive(Debug)]
pub struct ServeBackend {
    sdk: Sdk,
}

/// The serve backend.
pub fn serve_backend() -> Result<ServeBackend, BackendError> {
    let target = SdkTarget::per_session(
        "serve",
        Capabilities {
            virtual_time: true,
            mocks: true,
            express_history: false,
            task_tokens: true,
            validation: true,
        },
    );
    Ok(ServeBackend {
        sdk: Sdk::new(target)?,
    })
}

impl VirtualClock for crate::serve::ClockHandle {
    fn now_millis(&self) -> Result<i64, BackendError> {
        crate::serve::ClockHandle::now_millis(self)
            .map_err(|e| BackendError::new(e.code, e.message))
    }

    fn advance_to(&self, epoch_millis: i64) -> Result<(), BackendError> {
        crate::serve::ClockHandle::advance_to(self, epoch_millis)
            .map(|_| ())
            .map_err(|e| BackendError::new(e.code, e.message))
    }
}

impl BackendFactory for ServeBackend {
    fn name(&self) -> &str {
        "serve"
    }

    fn capabilities(&self) -> Capabilities {
        self.sdk.target.capabilities
    }

    fn session(&self, setup: &SessionSetup) -> Result<Box<dyn Backend>, BackendError> {
        let config = crate::serve::ServeConfig {
            port: 0,
            mock_config: setup.mock_config.clone(),
            http_threads: 1,
            ..crate::serve::ServeConfig::default()
        };
        let server = crate::serve::Server::start(config)
            .map_err(|e| BackendError::new("ServeError", e.to_string()))?;
        let clock = server.clock();
        let session = self.sdk.session_at(&server.url(), Some(Box::new(clock)))?;
        Ok(Box::new(session.holding(Box::new(server))))
    }
}

/// One `stepcheck serve` for a whole run, every session on it (`stepcheck bench --backend
/// serve`): the benchmark creates its state machine in one session and starts executions
/// from sessions on other threads, which the per-scenario [`ServeBackend`] cannot do, since
/// each of its sessions gets a server of its own.
#[derive(Debug)]
pub struct SharedServe {
    sdk: Sdk,
    /// The server; `stop` shuts it down, and dropping the backend does too.
    server: Mutex<Option<crate::serve::Server>>,
    url: String,
}

/// A `stepcheck serve` on a free loopback port whose clock runs as `time` says (the
/// benchmark wants `Real`: virtual time would make waits free and unlike any other backend).
pub fn shared_serve(time: crate::serve::TimeMode) -> Result<SharedServe, BackendError> {
    let config = crate::serve::ServeConfig {
        port: 0,
        time,
        ..crate::serve::ServeConfig::default()
    };
    let server = crate::serve::Server::start(config)
        .map_err(|e| BackendError::new("ServeError", e.to_string()))?;
    let url = server.url();
    let sdk = serve_backend()?.sdk;
    Ok(SharedServe {
        sdk,
        server: Mutex::new(Some(server)),
        url,
    })
}

impl BackendFactory for SharedServe {
    fn name(&self) -> &str {
        "serve"
    }

    fn capabilities(&self) -> Capabilities {
        // Its clock is the server's own, not one the harness moves.
        Capabilities {
            virtual_time: false,
            ..self.sdk.target.capabilities
        }
    }

    fn session(&self, setup: &SessionSetup) -> Result<Box<dyn Backend>, BackendError> {
        if setup.mock_config.is_some() {
            return Err(BackendError::new(
                "Unsupported",
                "a shared stepcheck serve takes no MockConfigFile per session",
            ));
        }
        Ok(Box::new(self.sdk.session_at(&self.url, None)?))
    }

    fn stop(&self) {
        if let Some(server) = self.server.lock().ok().and_then(|mut s| s.take()) {
            server.shutdown();
        }
    }

    fn shared_endpoint(&self) -> Option<String> {
        Some(self.url.clone())
    }
}

/// What [`cleanup`] deleted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Cleaned {
    /// State machines deleted (their running executions stopped first).
    pub state_machines: Vec<String>,
    /// Activities deleted.
    pub activities: Vec<String>,
}

/// Deletes every state machine and activity whose name starts with `prefix` (stopping
/// their running executions first): what a run killed midway left behind.
pub fn cleanup(target: &SdkTarget, prefix: &str) -> Result<Cleaned, BackendError> {
    let runtime = runtime()?;
    runtime.block_on(async {
        let config = load_config(target).await;
        let (client, _) = client(&config, target.endpoint.is_some());
        let mut cleaned = Cleaned::default();
        let machines = client
            .list_state_machines()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(sdk_error)?;
        for m in machines.iter().filter(|m| m.name().starts_with(prefix)) {
            delete_machine(&client, m.state_machine_arn(), true).await?;
            cleaned
                .state_machines
                .push(m.state_machine_arn().to_string());
        }
        let activities = client
            .list_activities()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(sdk_error)?;
        for a in activities.iter().filter(|a| a.name().starts_with(prefix)) {
            client
                .delete_activity()
                .activity_arn(a.activity_arn())
                .send()
                .await
                .map_err(sdk_error)?;
            cleaned.activities.push(a.activity_arn().to_string());
        }
        Ok(cleaned)
    })
}

/// DeleteStateMachine, after stopping the machine's running executions when `stop_first`
/// (best effort: an execution that ends meanwhile cannot be stopped, and need not be).
async fn delete_machine(client: &Client, arn: &str, stop_first: bool) -> Result<(), BackendError> {
    if stop_first {
        let running = client
            .list_executions()
            .state_machine_arn(arn)
            .status_filter(ExecutionStatus::Running)
            .into_paginator()
            .items()
            .send()
            .collect::<Vec<_>>()
            .await;
        for e in running.into_iter().flatten() {
            let _ = client
                .stop_execution()
                .execution_arn(e.execution_arn())
                .send()
                .await;
        }
    }
    client
        .delete_state_machine()
        .state_machine_arn(arn)
        .send()
        .await
        .map_err(sdk_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_are_found_where_the_definition_puts_them() {
        let definition = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
            "Branches": [{"StartAt": "Ask", "States": {"Ask": {"Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token", "x": 1}},
                "End": true}}}]}}});
        let events = vec![
            json!({"id": 1, "previousEventId": 0, "type": "ExecutionStarted"}),
            json!({"id": 2, "previousEventId": 1, "type": "TaskStateEntered",
                   "stateEnteredEventDetails": {"name": "Ask"}}),
            json!({"id": 3, "previousEventId": 2, "type": "TaskScheduled",
                   "taskScheduledEventDetails": {"resource": "sendMessage.waitForTaskToken",
                   "parameters": "{\"QueueUrl\":\"q\",\"MessageBody\":{\"token\":\"T0K\",\"x\":1}}"}}),
            json!({"id": 4, "previousEventId": 3, "type": "TaskStarted"}),
        ];
        assert_eq!(
            waiting_from_history(&events, &definition).unwrap(),
            vec![WaitingTask {
                state_name: "Ask".into(),
                token: "T0K".into()
            }]
        );
        let mut done = events.clone();
        done.push(json!({"id": 5, "previousEventId": 4, "type": "TaskSucceeded"}));
        assert_eq!(waiting_from_history(&done, &definition).unwrap(), vec![]);
        // A token wrapped in an intrinsic cannot be read back: a clear error, not silence.
        let mut wrapped = definition.clone();
        wrapped["States"]["P"]["Branches"][0]["States"]["Ask"]["Parameters"]["MessageBody"] =
            json!({"token.$": "States.Format('t={}', $$.Task.Token)"});
        let e = waiting_from_history(&events, &wrapped).unwrap_err();
        assert_eq!(e.code, "TokenNotFound");
        assert!(e.message.contains("state 'Ask'"), "{}", e.message);
    }

    #[test]
    fn express_histories_come_back_from_their_log_records() {
        // The engine logs an Express execution as CloudWatch Logs records (the format AWS
        // documents for level ALL); reading them back gives GetExecutionHistory's events.
        let mut svc = engine::Service::new();
        let def = json!({"StartAt": "P", "States": {
            "P": {"Type": "Pass", "Result": {"a": 1}, "ResultPath": "$.p", "Next": "W"},
            "W": {"Type": "Wait", "Seconds": 3, "Next": "M"},
            "M": {"Type": "Map", "ItemsPath": "$.xs", "ItemProcessor": {"StartAt": "I",
                  "States": {"I": {"Type": "Pass", "End": true}}}, "End": true}}});
        let m = svc
            .create_state_machine(
                "Quick",
                &def.to_string(),
                engine::WorkflowType::Express,
                None,
            )
            .unwrap();
        let d = svc
            .start_sync_execution(&m.arn, Some("e1"), Some(r#"{"xs": [1, 2]}"#))
            .unwrap();
        let mut records = svc.express_logs(&d.execution_arn).unwrap();
        records.reverse(); // CloudWatch Logs need not answer in order.
        let events = events_from_log_records(&records, &d.execution_arn);
        let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(events.len(), 18, "{types:?}");
        assert_eq!(events[0]["type"], "ExecutionStarted");
        assert_eq!(events[1]["stateEnteredEventDetails"]["name"], "P");
        assert_eq!(events[4]["type"], "WaitStateExited");
        assert_eq!(events[4]["timestamp"], json!(1704067203.0));
        assert_eq!(
            events[6]["mapStateStartedEventDetails"],
            json!({"length": 2})
        );
        assert_eq!(events[17]["type"], "ExecutionSucceeded");
        assert_eq!(events[17]["previousEventId"], json!(17));
        assert_eq!(events[17]["id"], json!(18));
        assert_eq!(
            details_key("MapIterationStarted"),
            "mapIterationStartedEventDetails"
        );
        assert_eq!(details_key("ChoiceStateExited"), "stateExitedEventDetails");
    }

    #[test]
    fn references_to_scenario_machines_get_the_session_prefix() {
        let sdk = Sdk::new(SdkTarget::emulator("x", "http://127.0.0.1:9")).unwrap();
        let (client, wire) = sdk.client();
        let s = SdkSession::new(&sdk, client, wire, "stepcheck-r-0-".into(), None);
        assert_eq!(
            s.rewrite_definition(
                r#"{"A":"arn:aws:states:eu-west-1:111122223333:stateMachine:Child"}"#
            ),
            r#"{"A":"arn:aws:states:us-east-1:123456789012:stateMachine:stepcheck-r-0-Child"}"#
        );
    }
}
