//! `stepcheck serve`: the in-process engine behind the Step Functions JSON protocol
//! (awsJson1_0: `POST /`, `X-Amz-Target: AWSStepFunctions.<Operation>`), so aws-sdk-sfn,
//! boto3, the AWS CLI, Terraform or CDK tests use it as they would Step Functions Local.
//!
//! Start it in-process with [`Server::start`] (port 0 picks a free port; [`Server::url`]
//! says which) and stop it with [`Server::shutdown`] (or by dropping it).
//!
//! The design: one engine thread owns the `engine::Service` (it is single-threaded and not
//! `Send`); hyper's handlers on a small tokio runtime parse requests and send them there over
//! a channel with a oneshot reply (see [`actor`]). The engine decides, the server performs.
//!
//! - [`protocol`]: request fields, error bodies, timestamps, page tokens.
//! - [`ops`]: the operations over the service.
//! - [`actor`]: the engine thread, parked callers, wall-clock time.
//! - [`http`]: the HTTP side.
//! - [`test_state`]: TestState (one state run alone).

pub mod actor;
pub mod http;
pub mod ops;
pub mod protocol;
pub mod test_state;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

/// How the virtual clock moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeMode {
    /// The clock jumps to each next timer at once: Waits, retries and task durations take
    /// no wall time, while timestamps advance as on AWS. The default.
    Virtual,
    /// The clock follows the wall clock: a `Wait` of 5 seconds takes 5 seconds.
    Real,
    /// Virtual time runs this many times faster than wall time.
    Scaled(f64),
}

impl std::str::FromStr for TimeMode {
    type Err = ServeError;

    /// `virtual`, `real` or `scaled:F` (F a positive number).
    fn from_str(s: &str) -> Result<Self, ServeError> {
        match s {
            "virtual" => Ok(TimeMode::Virtual),
            "real" => Ok(TimeMode::Real),
            _ => {
                let factor = s
                    .strip_prefix("scaled:")
                    .and_then(|f| f.parse::<f64>().ok())
                    .filter(|f| f.is_finite() && *f > 0.0);
                factor.map(TimeMode::Scaled).ok_or_else(|| {
                    ServeError::Config(format!(
                        "time mode '{s}' is not one of virtual, real, scaled:F (F a positive number)"
                    ))
                })
            }
        }
    }
}

/// What a server is started with.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The address to listen on. Default 127.0.0.1.
    pub host: String,
    /// The port; 0 picks a free one. Default 8083 (Step Functions Local's).
    pub port: u16,
    /// A Step Functions Local MockConfigFile's text: `stateMachineArn#TestCase` in
    /// StartExecution and StartSyncExecution picks one of its test cases.
    pub mock_config: Option<String>,
    /// How time passes.
    pub time: TimeMode,
    /// Seed of generated names and of each execution's random numbers.
    pub seed: u64,
    /// The region in ARNs.
    pub region: String,
    /// The account in ARNs.
    pub account: String,
    /// How long a GetActivityTask waits for a task before it answers empty. AWS: about 60 s.
    pub activity_poll_timeout: Duration,
    /// HTTP worker threads. Default: the number of cores, at most 4 (the engine thread is
    /// the bottleneck; more workers only parse faster than it can run).
    pub http_threads: usize,
    /// At most how many history events of ended executions the server keeps; past that it
    /// drops the oldest ended histories (`engine::Service::with_history_budget`). `None`
    /// keeps them all. Default [`DEFAULT_HISTORY_BUDGET`].
    pub history_budget: Option<usize>,
}

/// The default [`ServeConfig::history_budget`]: two million events, about 0.4 to 0.7 GB
/// (an event takes 190 to 340 bytes), so that a server that runs executions for hours
/// stays within the memory of a small machine. A peers benchmark run had grown the server
/// to 24 GB without it.
pub const DEFAULT_HISTORY_BUDGET: usize = 2_000_000;

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            host: "127.0.0.1".into(),
            port: 8083,
            mock_config: None,
            time: TimeMode::Virtual,
            seed: 0,
            region: "us-east-1".into(),
            account: "123456789012".into(),
            activity_poll_timeout: Duration::from_secs(60),
            http_threads: std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .min(4),
            history_budget: Some(DEFAULT_HISTORY_BUDGET),
        }
    }
}

impl ServeConfig {
    /// Reads the MockConfigFile at `path` into [`ServeConfig::mock_config`].
    pub fn with_mock_config_file(mut self, path: &Path) -> Result<Self, ServeError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ServeError::Config(format!("cannot read mock config {}: {e}", path.display()))
        })?;
        self.mock_config = Some(text);
        Ok(self)
    }
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A setting is wrong (time mode, mock config, host).
    #[error("{0}")]
    Config(String),
    /// The address could not be bound, or the runtime not built.
    #[error("cannot listen on {addr}: {source}")]
    Io {
        /// The address.
        addr: String,
        /// What failed.
        source: std::io::Error,
    },
}

/// A running server. Dropping it shuts it down.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    shared: Arc<http::Shared>,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    engine: Option<JoinHandle<()>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    /// Binds the address, starts the engine thread and the HTTP runtime, and returns at
    /// once; the server answers until [`Server::shutdown`].
    pub fn start(config: ServeConfig) -> Result<Server, ServeError> {
        let mocks = match &config.mock_config {
            Some(text) => Some(
                mocks::MockConfig::from_json_str(text)
                    .map_err(|e| ServeError::Config(format!("the mock config is invalid: {e}")))?,
            ),
            None => None,
        };
        let bind = format!("{}:{}", config.host, config.port);
        let listener = std::net::TcpListener::bind(&bind).map_err(|source| ServeError::Io {
            addr: bind.clone(),
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Io {
            addr: bind.clone(),
            source,
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| ServeError::Io {
                addr: bind.clone(),
                source,
            })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.http_threads.max(1))
            .thread_name("stepcheck-serve-http")
            .enable_io()
            .enable_time()
            .build()
            .map_err(|source| ServeError::Io {
                addr: bind.clone(),
                source,
            })?;

        let (tx, rx) = mpsc::channel();
        let engine_config = config.clone();
        let engine = std::thread::Builder::new()
            .name("stepcheck-serve-engine".into())
            .spawn(move || {
                // The service is built on its own thread: it never crosses threads.
                let mut service = engine::Service::new()
                    .with_account(&engine_config.region, &engine_config.account)
                    .with_seed(engine_config.seed)
                    .with_handlers(
                        crate::backend::MockFactory::new(
                            mocks,
                            "the server has no mock config (--mock-config or SFN_MOCK_CONFIG)",
                        )
                        .awaiting_callbacks(),
                    );
                if let Some(events) = engine_config.history_budget {
                    service = service.with_history_budget(events);
                }
                if engine_config.time != TimeMode::Virtual {
                    service = service.with_auto_advance(false).with_start_time(wall_now());
                }
                actor::run(
                    ops::Api::new(service),
                    engine_config.time,
                    engine_config.activity_poll_timeout,
                    rx,
                );
            })
            .map_err(|source| ServeError::Io {
                addr: bind.clone(),
                source,
            })?;

        let shared = Arc::new(http::Shared {
            engine: tx,
            requests: AtomicU64::new(0),
        });
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(listener).map_err(|source| ServeError::Io {
                addr: bind.clone(),
                source,
            })?
        };
        runtime.spawn(accept_loop(listener, Arc::clone(&shared), stop_rx));
        Ok(Server {
            addr,
            shared,
            stop: Some(stop_tx),
            engine: Some(engine),
            runtime: Some(runtime),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL, `http://HOST:PORT`, for `endpoint_url` / `--endpoint-url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A handle on the server's virtual clock, for the process that runs it (a test
    /// harness scripting time); see [`ClockHandle`].
    pub fn clock(&self) -> ClockHandle {
        ClockHandle {
            engine: self.shared.engine.clone(),
        }
    }

    /// Blocks until the engine thread ends (for the command line, which runs until killed).
    pub fn wait(mut self) {
        if let Some(engine) = self.engine.take() {
            let _ = engine.join();
        }
    }

    /// Stops accepting, stops the engine thread and the runtime.
    pub fn shutdown(mut self) {
        self.stop_all();
    }

    fn stop_all(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        let _ = self.shared.engine.send(actor::Command::Shutdown);
        if let Some(engine) = self.engine.take() {
            let _ = engine.join();
        }
        if let Some(runtime) = self.runtime.take() {
            // Open keep-alive connections are dropped with their tasks. In the background,
            // because blocking here would panic when the caller is itself inside a tokio
            // runtime (an SDK backend's).
            runtime.shutdown_background();
        }
    }
}

/// The server's virtual clock, read and moved from the process that runs the server (not
/// over HTTP: the Step Functions API has no such operation). Cheap to clone; `Send` and
/// `Sync`. The calls block until the engine thread answers, so call them from ordinary
/// threads (or `spawn_blocking`), not from inside an async task.
///
/// Meant for `TimeMode::Virtual`; in the wall-clock modes the clock also moves by itself,
/// and a time moved ahead by hand is kept until the wall clock catches up.
#[derive(Debug, Clone)]
pub struct ClockHandle {
    engine: mpsc::Sender<actor::Command>,
}

impl ClockHandle {
    fn ask(&self, advance_to: Option<i64>) -> Result<i64, protocol::ApiError> {
        let stopped = || protocol::ApiError::new("InternalFailure", "the server has stopped");
        let (tx, rx) = mpsc::sync_channel(1);
        self.engine
            .send(actor::Command::Clock {
                advance_to,
                reply: tx,
            })
            .map_err(|_| stopped())?;
        rx.recv().map_err(|_| stopped())?
    }

    /// The virtual time, in epoch milliseconds.
    pub fn now_millis(&self) -> Result<i64, protocol::ApiError> {
        self.ask(None)
    }

    /// Moves the virtual clock forward to `epoch_millis` (an earlier time changes nothing),
    /// running every timer, retry and timeout that falls due on the way, as AWS would have
    /// by then; returns the new time. An error is a task handler's (a Task with no mock met
    /// on the way: its execution has failed).
    pub fn advance_to(&self, epoch_millis: i64) -> Result<i64, protocol::ApiError> {
        self.ask(Some(epoch_millis))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// The wall clock as a `Timestamp` (the wall-clock modes start their virtual clock there).
fn wall_now() -> engine::Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    engine::Timestamp(ms)
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    shared: Arc<http::Shared>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => return,
        };
        let Ok((stream, _)) = accepted else {
            // A failed accept (too many open files, a reset) concerns that connection only.
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = service_fn(move |req| http::handle(Arc::clone(&shared), req));
            // A connection that breaks off is the client's business; the server goes on.
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Runs a server until the process ends: the `stepcheck serve` command. Prints
/// `listening on http://HOST:PORT` on stdout once it accepts connections.
pub fn serve(config: ServeConfig) -> Result<(), ServeError> {
    let server = Server::start(config)?;
    println!("listening on {}", server.url());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    server.wait();
    Ok(())
}
