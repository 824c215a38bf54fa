//! The backend interface: what the runner needs from something that runs executions, and
//! what each backend can do.
//!
//! The trait is synchronous on purpose. The runner runs scenarios on plain threads, one
//! backend session per scenario; a backend over an HTTP API or the AWS SDK (async) implements
//! it by blocking on its own runtime (`tokio::runtime::Runtime::block_on`), so the runner
//! never changes when such backends arrive.

use crate::scenario::{Requirement, WorkflowType};
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;

/// An error from a backend: the Step Functions API's error code (`InvalidDefinition`,
/// `ExecutionDoesNotExist`, ...) and its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct BackendError {
    /// The API's error code, or `Unsupported` for an operation the backend lacks.
    pub code: String,
    /// What went wrong.
    pub message: String,
}

impl BackendError {
    /// An error with a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        BackendError {
            code: code.into(),
            message: message.into(),
        }
    }

    /// The error of an operation the backend cannot perform.
    pub fn unsupported(what: &str) -> Self {
        BackendError::new("Unsupported", format!("this backend cannot {what}"))
    }
}

impl From<engine::ServiceError> for BackendError {
    fn from(e: engine::ServiceError) -> Self {
        BackendError::new(e.code, e.message)
    }
}

/// What a backend can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// Time is virtual: waits of any length pass at once and timestamps are exact.
    pub virtual_time: bool,
    /// Task states can be answered from a MockConfigFile.
    pub mocks: bool,
    /// Express executions have a history.
    pub express_history: bool,
    /// The tokens of tasks waiting for a callback can be found.
    pub task_tokens: bool,
    /// Invalid definitions are refused with AWS's diagnostic codes and locations.
    pub validation: bool,
}

impl Capabilities {
    /// Whether the backend can do what `r` asks.
    pub fn has(&self, r: Requirement) -> bool {
        match r {
            Requirement::VirtualTime => self.virtual_time,
            Requirement::Mocks => self.mocks,
            Requirement::ExpressHistory => self.express_history,
            Requirement::TaskTokens => self.task_tokens,
            Requirement::Validation => self.validation,
        }
    }
}

/// An execution as DescribeExecution (or StartSyncExecution) shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionInfo {
    /// Its ARN.
    pub execution_arn: String,
    /// RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED.
    pub status: String,
    /// The output, when it succeeded.
    pub output: Option<Value>,
    /// The error.
    pub error: Option<String>,
    /// The cause.
    pub cause: Option<String>,
    /// When it started, in epoch milliseconds.
    pub start_millis: i64,
}

/// A task that waits for a callback.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitingTask {
    /// The Task state's name.
    pub state_name: String,
    /// The token to answer with.
    pub token: String,
}

/// What a session is set up with before the scenario's state machines are created.
#[derive(Debug, Clone, Default)]
pub struct SessionSetup {
    /// The scenario's MockConfigFile text, when it has one.
    pub mock_config: Option<String>,
}

/// One backend session: the state machines and executions of one scenario.
pub trait Backend {
    /// CreateStateMachine; returns the machine's ARN.
    fn create_state_machine(
        &mut self,
        name: &str,
        definition: &str,
        workflow_type: WorkflowType,
    ) -> Result<String, BackendError>;
    /// DeleteStateMachine.
    fn delete_state_machine(&mut self, arn: &str) -> Result<(), BackendError>;
    /// StartExecution (`test_case` picks a MockConfigFile test case); returns the ARN.
    fn start_execution(
        &mut self,
        state_machine_arn: &str,
        name: &str,
        input: &str,
        test_case: Option<&str>,
    ) -> Result<String, BackendError>;
    /// StartSyncExecution (Express): runs the execution to its end.
    fn start_sync_execution(
        &mut self,
        state_machine_arn: &str,
        name: &str,
        input: &str,
        test_case: Option<&str>,
    ) -> Result<ExecutionInfo, BackendError>;
    /// DescribeExecution.
    fn describe_execution(&mut self, execution_arn: &str) -> Result<ExecutionInfo, BackendError>;
    /// GetExecutionHistory: every event, oldest first, in the API's JSON shape.
    fn get_execution_history(&mut self, execution_arn: &str) -> Result<Vec<Value>, BackendError>;
    /// StopExecution.
    fn stop_execution(
        &mut self,
        execution_arn: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), BackendError>;
    /// SendTaskSuccess (`output` is JSON text).
    fn send_task_success(&mut self, token: &str, output: &str) -> Result<(), BackendError>;
    /// SendTaskFailure.
    fn send_task_failure(
        &mut self,
        token: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), BackendError>;
    /// SendTaskHeartbeat.
    fn send_task_heartbeat(&mut self, token: &str) -> Result<(), BackendError>;
    /// CreateActivity: the activity's ARN. A backend without activities refuses.
    fn create_activity(&mut self, name: &str) -> Result<String, BackendError> {
        Err(BackendError::new(
            "NotSupported",
            format!("this backend cannot create activities (activity '{name}')"),
        ))
    }
    /// GetActivityTask as a worker named `worker_name`: the token of the task handed out, or
    /// `None` when no task waits for the activity. A backend without activities refuses.
    fn get_activity_task(
        &mut self,
        activity_arn: &str,
        _worker_name: Option<&str>,
    ) -> Result<Option<String>, BackendError> {
        Err(BackendError::new(
            "NotSupported",
            format!("this backend cannot poll activities ({activity_arn})"),
        ))
    }
    /// The tasks of an execution that wait for a callback (capability `task_tokens`).
    fn waiting_tasks(&mut self, execution_arn: &str) -> Result<Vec<WaitingTask>, BackendError>;
    /// The backend's current time, in epoch milliseconds.
    fn now_millis(&mut self) -> Result<i64, BackendError>;
    /// Lets time pass until `epoch_millis` (at once on a virtual clock; a real backend
    /// sleeps), running whatever falls due.
    fn advance_to(&mut self, epoch_millis: i64) -> Result<(), BackendError>;
    /// Waits until the execution has ended or can only go on with help from outside (a
    /// callback, time passing for a callback timeout), then describes it.
    fn settle(&mut self, execution_arn: &str) -> Result<ExecutionInfo, BackendError>;
    /// The executions this session started besides `execution_arn`'s own (its children,
    /// for nested workflows), as (state machine name, description).
    fn other_executions(
        &mut self,
        execution_arn: &str,
    ) -> Result<Vec<(String, ExecutionInfo)>, BackendError>;
    /// Backend-side names and the scenario's names for them (state machines a shared
    /// backend had to create under a run prefix), so the normaliser writes them back.
    fn aliases(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    /// Whether GetExecutionHistory works for Express executions here (read back from the
    /// logs they write); AWS itself keeps no Express history.
    fn keeps_express_history(&self) -> bool {
        false
    }
}

/// A kind of backend: its name and capabilities, and a session per scenario. It is shared by
/// the runner's threads; each session lives on the thread that made it.
pub trait BackendFactory: Send + Sync {
    /// The name shown in reports and chosen with `--backend`.
    fn name(&self) -> &str;
    /// What its sessions can do.
    fn capabilities(&self) -> Capabilities;
    /// A fresh session for one scenario.
    fn session(&self, setup: &SessionSetup) -> Result<Box<dyn Backend>, BackendError>;
    /// Deletes whatever this run created that is still there (a run interrupted midway);
    /// returns how many resources it deleted.
    fn cleanup(&self) -> Result<usize, BackendError> {
        Ok(0)
    }
    /// Stops what the backend started for the run (an emulator process). The run calls it
    /// at its end, and on Ctrl-C after `cleanup`, since the process exits without dropping.
    fn stop(&self) {}
    /// The URL of the Step Functions API endpoint every session talks to, when there is one
    /// that takes unsigned requests (an emulator, `stepcheck serve`): what `stepcheck bench
    /// --client raw` sends its own requests to. `None` for real AWS and for backends whose
    /// sessions have endpoints of their own.
    fn shared_endpoint(&self) -> Option<String> {
        None
    }
}

/// The in-process engine (`engine::Service`), one service per scenario.
#[derive(Debug, Default, Clone, Copy)]
pub struct InProcess;

impl BackendFactory for InProcess {
    fn name(&self) -> &str {
        "in-process"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            virtual_time: true,
            mocks: true,
            express_history: false,
            task_tokens: true,
            validation: true,
        }
    }

    fn session(&self, setup: &SessionSetup) -> Result<Box<dyn Backend>, BackendError> {
        let config = match &setup.mock_config {
            Some(text) => Some(
                mocks::MockConfig::from_json_str(text)
                    .map_err(|e| BackendError::new("InvalidMockConfig", e.to_string()))?,
            ),
            None => None,
        };
        let mocks = MockFactory::new(config, "the scenario has no mockConfig").awaiting_callbacks();
        let test_case = mocks.default_case();
        let service = engine::Service::new().with_handlers(mocks);
        Ok(Box::new(InProcessSession { service, test_case }))
    }
}

/// Task handlers from a MockConfigFile, as Step Functions Local picks them: an execution
/// started on `stateMachineArn#TestCase` gets that test case; one started without gets the
/// default test case (the scenario's latest StartExecution, `stepcheck exec --test-case`)
/// when its machine has a test case by that name, as Step Functions Local applies one test
/// case to the nested executions it mocks; otherwise no mocks. One type serves the runner,
/// `stepcheck exec` and `stepcheck serve`, which differ only in their default and in whether
/// an unmocked `.waitForTaskToken` task waits for a callback.
#[derive(Debug)]
pub struct MockFactory {
    config: Option<mocks::MockConfig>,
    /// The default test case, shared with whoever sets it (the in-process session sets the
    /// case of each StartExecution here).
    default_case: Rc<RefCell<Option<String>>>,
    /// Wrap the handlers in [`AwaitCallbacks`].
    await_callbacks: bool,
    /// Says where a mock configuration would have come from, for the error of a test case
    /// asked for without one ("the scenario has no mockConfig").
    missing: &'static str,
}

impl MockFactory {
    /// Handlers from `config` (none: no mocks), with no default test case.
    pub fn new(config: Option<mocks::MockConfig>, missing: &'static str) -> MockFactory {
        MockFactory {
            config,
            default_case: Rc::new(RefCell::new(None)),
            await_callbacks: false,
            missing,
        }
    }

    /// Unmocked `.waitForTaskToken` tasks wait for their callback instead of failing.
    pub fn awaiting_callbacks(mut self) -> MockFactory {
        self.await_callbacks = true;
        self
    }

    /// The test case for executions started without one.
    pub fn with_default_case(self, case: Option<String>) -> MockFactory {
        *self.default_case.borrow_mut() = case;
        self
    }

    /// The default test case, to change it later.
    pub fn default_case(&self) -> Rc<RefCell<Option<String>>> {
        Rc::clone(&self.default_case)
    }

    fn wrap<H: engine::TaskHandler + 'static>(&self, h: H) -> Box<dyn engine::TaskHandler> {
        if self.await_callbacks {
            Box::new(AwaitCallbacks(h))
        } else {
            Box::new(h)
        }
    }
}

impl engine::HandlerFactory for MockFactory {
    fn handler(
        &mut self,
        state_machine_name: &str,
        test_case: Option<&str>,
    ) -> Result<Box<dyn engine::TaskHandler>, String> {
        let Some(config) = &self.config else {
            return match test_case {
                Some(case) => Err(format!(
                    "test case '{case}' was requested, but {}",
                    self.missing
                )),
                None => Ok(self.wrap(engine::NoTasks)),
            };
        };
        let explicit = test_case.is_some();
        let default = self.default_case.borrow().clone();
        let Some(case) = test_case.map(str::to_string).or(default) else {
            return Ok(self.wrap(engine::NoTasks));
        };
        let known = config
            .test_cases(state_machine_name)
            .is_some_and(|mut c| c.any(|n| n == case));
        if !known && !explicit {
            return Ok(self.wrap(engine::NoTasks));
        }
        let handler = config
            .handler(state_machine_name, &case)
            .map_err(|e| e.to_string())?;
        Ok(self.wrap(handler))
    }
}

/// Lets an unmocked `.waitForTaskToken` task wait for its callback (the scenario's script, or
/// whoever calls SendTaskSuccess on `stepcheck serve`): the message carrying the token is
/// taken as sent. Nested
/// executions and `aws-sdk:sfn` calls are left to the service, which performs them itself.
pub(crate) struct AwaitCallbacks<H>(pub(crate) H);

impl<H: engine::TaskHandler> engine::TaskHandler for AwaitCallbacks<H> {
    fn invoke(
        &mut self,
        request: &engine::TaskRequest<'_>,
    ) -> Result<engine::TaskResponse, engine::TaskHandlerError> {
        match self.0.invoke(request) {
            Err(engine::TaskHandlerError::NoMock { .. })
                if request.resource.ends_with(".waitForTaskToken")
                    && !request.resource.starts_with("arn:aws:states:::states:")
                    && !request
                        .resource
                        .starts_with("arn:aws:states:::aws-sdk:sfn:") =>
            {
                Ok(engine::TaskResponse {
                    outcome: engine::TaskOutcome::Pending { submitted: None },
                    duration_ms: 0,
                    submitted: None,
                })
            }
            other => other,
        }
    }
}

struct InProcessSession {
    service: engine::Service,
    test_case: Rc<RefCell<Option<String>>>,
}

fn info(d: engine::ExecutionDescription) -> ExecutionInfo {
    ExecutionInfo {
        execution_arn: d.execution_arn,
        status: d.status.as_str().to_string(),
        output: d.output,
        error: d.error,
        cause: d.cause,
        start_millis: d.start_date.millis(),
    }
}

fn engine_type(t: WorkflowType) -> engine::WorkflowType {
    match t {
        WorkflowType::Standard => engine::WorkflowType::Standard,
        WorkflowType::Express => engine::WorkflowType::Express,
    }
}

impl InProcessSession {
    fn arn_with_case(&self, arn: &str, test_case: Option<&str>) -> String {
        *self.test_case.borrow_mut() = test_case.map(str::to_string);
        match test_case {
            Some(case) => format!("{arn}#{case}"),
            None => arn.to_string(),
        }
    }
}

impl Backend for InProcessSession {
    fn create_state_machine(
        &mut self,
        name: &str,
        definition: &str,
        workflow_type: WorkflowType,
    ) -> Result<String, BackendError> {
        Ok(self
            .service
            .create_state_machine(name, definition, engine_type(workflow_type), None)?
            .arn)
    }

    fn delete_state_machine(&mut self, arn: &str) -> Result<(), BackendError> {
        Ok(self.service.delete_state_machine(arn)?)
    }

    fn start_execution(
        &mut self,
        state_machine_arn: &str,
        name: &str,
        input: &str,
        test_case: Option<&str>,
    ) -> Result<String, BackendError> {
        let arn = self.arn_with_case(state_machine_arn, test_case);
        Ok(self
            .service
            .start_execution(&arn, Some(name), Some(input))?
            .execution_arn)
    }

    fn start_sync_execution(
        &mut self,
        state_machine_arn: &str,
        name: &str,
        input: &str,
        test_case: Option<&str>,
    ) -> Result<ExecutionInfo, BackendError> {
        let arn = self.arn_with_case(state_machine_arn, test_case);
        Ok(info(self.service.start_sync_execution(
            &arn,
            Some(name),
            Some(input),
        )?))
    }

    fn describe_execution(&mut self, execution_arn: &str) -> Result<ExecutionInfo, BackendError> {
        Ok(info(self.service.describe_execution(execution_arn)?))
    }

    fn get_execution_history(&mut self, execution_arn: &str) -> Result<Vec<Value>, BackendError> {
        Ok(self
            .service
            .get_execution_history(execution_arn)?
            .iter()
            .map(engine::Event::to_api_json)
            .collect())
    }

    fn stop_execution(
        &mut self,
        execution_arn: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), BackendError> {
        self.service.stop_execution(
            execution_arn,
            error.map(str::to_string),
            cause.map(str::to_string),
        )?;
        Ok(())
    }

    fn send_task_success(&mut self, token: &str, output: &str) -> Result<(), BackendError> {
        Ok(self.service.send_task_success(token, output)?)
    }

    fn send_task_failure(
        &mut self,
        token: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), BackendError> {
        Ok(self.service.send_task_failure(
            token,
            error.map(str::to_string),
            cause.map(str::to_string),
        )?)
    }

    fn send_task_heartbeat(&mut self, token: &str) -> Result<(), BackendError> {
        Ok(self.service.send_task_heartbeat(token)?)
    }

    fn create_activity(&mut self, name: &str) -> Result<String, BackendError> {
        Ok(self.service.create_activity(name)?.0)
    }

    fn get_activity_task(
        &mut self,
        activity_arn: &str,
        worker_name: Option<&str>,
    ) -> Result<Option<String>, BackendError> {
        Ok(self
            .service
            .get_activity_task(activity_arn, worker_name)?
            .map(|t| t.task_token))
    }

    fn waiting_tasks(&mut self, execution_arn: &str) -> Result<Vec<WaitingTask>, BackendError> {
        Ok(self
            .service
            .waiting_tasks(execution_arn)?
            .into_iter()
            .map(|w| WaitingTask {
                state_name: w.state_name,
                token: w.token,
            })
            .collect())
    }

    fn now_millis(&mut self) -> Result<i64, BackendError> {
        Ok(self.service.now().millis())
    }

    fn advance_to(&mut self, epoch_millis: i64) -> Result<(), BackendError> {
        let now = self.service.now().millis();
        if epoch_millis > now {
            self.service.advance((epoch_millis - now) as u64)?;
        }
        Ok(())
    }

    fn settle(&mut self, execution_arn: &str) -> Result<ExecutionInfo, BackendError> {
        self.service.run_until_idle()?;
        self.describe_execution(execution_arn)
    }

    fn other_executions(
        &mut self,
        execution_arn: &str,
    ) -> Result<Vec<(String, ExecutionInfo)>, BackendError> {
        Ok(self
            .service
            .executions()
            .into_iter()
            .filter(|d| d.execution_arn != execution_arn)
            .map(|d| {
                let machine = d
                    .state_machine_arn
                    .rsplit(':')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                (machine, info(d))
            })
            .collect())
    }
}

/// Why a backend cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// No backend has that name.
    #[error("unknown backend '{0}' (known: in-process, serve, aws, localstack, moto, localstack-container, sfn-local-container, or an http(s):// endpoint)")]
    Unknown(String),
    /// The backend is known but absent here (no server listening, no credentials): the
    /// run reports it as skipped, never as passed.
    #[error("skipped: {backend}: {reason}")]
    Absent {
        /// The backend's name.
        backend: String,
        /// What is missing.
        reason: String,
    },
    /// The backend is there but could not be set up.
    #[error("{0}")]
    Failed(String),
}

/// The backends this build knows, by name: `in-process` (also `engine`, `inprocess`),
/// `serve` (a `stepcheck serve` per scenario, through aws-sdk-sfn), `aws` (real AWS; needs
/// credentials and `STEPCHECK_ROLE_ARN`), `localstack` and `moto` (at `LOCALSTACK_ENDPOINT`
/// or `MOTO_ENDPOINT` when set, else started as processes from the tools directory), or any
/// `http(s)://` endpoint that speaks the Step Functions API.
pub fn open(name: &str) -> Result<Box<dyn BackendFactory>, OpenError> {
    open_with(name, &OpenOptions::default())
}

/// Settings of the backends that need them; unset ones come from the environment.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// The AWS region (`aws`); default `AWS_REGION` or `AWS_DEFAULT_REGION`.
    pub region: Option<String>,
    /// The execution role of created state machines (`aws`); default `STEPCHECK_ROLE_ARN`.
    pub role_arn: Option<String>,
    /// The CloudWatch Logs log group ARN Express machines log to, so that their histories
    /// can be compared (`aws`); default `STEPCHECK_EXPRESS_LOG_GROUP`.
    pub express_log_group: Option<String>,
}

/// [`open`] with explicit settings.
pub fn open_with(name: &str, options: &OpenOptions) -> Result<Box<dyn BackendFactory>, OpenError> {
    use crate::sdk::{Sdk, SdkTarget};
    let emulator = |label: &str, endpoint: &str| -> Result<Box<dyn BackendFactory>, OpenError> {
        reachable(endpoint).map_err(|reason| OpenError::Absent {
            backend: label.to_string(),
            reason,
        })?;
        Sdk::new(SdkTarget::emulator(label, endpoint))
            .map(|b| Box::new(b) as Box<dyn BackendFactory>)
            .map_err(|e| OpenError::Failed(e.to_string()))
    };
    match name {
        "in-process" | "inprocess" | "engine" => Ok(Box::new(InProcess)),
        "serve" => crate::sdk::serve_backend()
            .map(|b| Box::new(b) as Box<dyn BackendFactory>)
            .map_err(|e| OpenError::Failed(e.to_string())),
        "aws" => crate::sdk::aws_backend(options),
        "localstack" | "moto" => {
            let kind = crate::emulators::Emulator::named(name).expect("an emulator name");
            let var = kind.endpoint_var();
            // A running emulator the user points at wins; else the harness starts one.
            if let Ok(endpoint) = std::env::var(var) {
                return emulator(name, &endpoint);
            }
            if !crate::emulators::EmulatorProcess::installed(kind) {
                return Err(OpenError::Absent {
                    backend: name.to_string(),
                    reason: format!(
                        "{var} is not set and {name} is not installed (harness/scripts/install-emulators.sh {name})"
                    ),
                });
            }
            let process = crate::emulators::EmulatorProcess::start(kind)
                .map_err(|e| OpenError::Failed(e.to_string()))?;
            Sdk::on_process(process)
                .map(|b| Box::new(b) as Box<dyn BackendFactory>)
                .map_err(|e| OpenError::Failed(e.to_string()))
        }
        "localstack-container" => {
            crate::containers::Containers::new(crate::containers::Image::LocalStack)
                .map(|b| Box::new(b) as Box<dyn BackendFactory>)
        }
        "sfn-local-container" => {
            crate::containers::Containers::new(crate::containers::Image::StepFunctionsLocal)
                .map(|b| Box::new(b) as Box<dyn BackendFactory>)
        }
        url if url.starts_with("http://") || url.starts_with("https://") => emulator(url, url),
        other => Err(OpenError::Unknown(other.to_string())),
    }
}

/// Whether something listens at the endpoint's host and port.
fn reachable(endpoint: &str) -> Result<(), String> {
    use std::net::ToSocketAddrs;
    let rest = endpoint
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(endpoint);
    let host_port = rest.split('/').next().unwrap_or(rest);
    let with_port = if host_port.contains(':') {
        host_port.to_string()
    } else if endpoint.starts_with("https") {
        format!("{host_port}:443")
    } else {
        format!("{host_port}:80")
    };
    let addrs = with_port
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {with_port}: {e}"))?;
    for a in addrs {
        if std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(2)).is_ok() {
            return Ok(());
        }
    }
    Err(format!("nothing listens at {endpoint}"))
}
