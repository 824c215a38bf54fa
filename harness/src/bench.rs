//! `stepcheck bench`: run one definition many times on a backend and measure throughput,
//! latency and peak memory (issue 9).
//!
//! Two kinds of backend, measured differently:
//!
//! - `inprocess` (also `in-process`, `engine`): N executions are spread over C OS threads,
//!   each with its own compiled definition and clock, so that the threads share nothing but
//!   the definition's text. The wall time runs from the moment every thread is ready
//!   (definitions compiled) to the moment the last one finishes. The progress bar costs
//!   nothing measurable: a thread adds its finished executions to a shared counter at most
//!   every 50 ms, and the main thread polls that counter.
//! - Anything that speaks the Step Functions API: `serve` (one `stepcheck serve` in this
//!   process, on real time, so that waits take as long as on the other backends), `moto`,
//!   `localstack`, `aws` and any `http(s)://` endpoint, opened through
//!   [`crate::backend::open_with`]. The state machine is created once; C worker threads, each
//!   with a session of its own, then take executions from a shared counter until N have run.
//!   Express executions go through StartSyncExecution; Standard ones through StartExecution
//!   and DescribeExecution, polled from 1 ms doubling up to 20 ms, until they end. A latency
//!   runs from the start call to the moment the end is seen. What the run created is deleted
//!   at its end (the session's own deletion, then the factory's cleanup), and on Ctrl-C by
//!   the binary's interrupt handler, which [`cli`] hands the backend to. An absent backend
//!   (no endpoint, no credentials) is reported as `skipped: <reason>` with exit code
//!   [`EXIT_SKIPPED`], never as a result; failed executions are counted by their status.
//!   With `--client raw` the workers send their calls through `rawapi.rs` (unsigned,
//!   one keep-alive connection each) instead of a session, since the SDK's cost per call is
//!   about three times `stepcheck serve`'s and would be what the benchmark measures; the
//!   state machine is still created, calibrated and deleted through a session.
//!
//! Transitions are counted as the `*StateEntered` events of one untimed execution before the
//! measurement; every execution gets the same input, so the count holds for each of them
//! (which workflows with random choices would break; the benchmark workflows have none).
//! In process, the calibration run has the measured type, as a Standard run of a large Map
//! would stop at the 25,000-event quota that Express does not have. Over the API, a Standard
//! benchmark counts the events of GetExecutionHistory on the backend itself; an Express one,
//! which keeps no history there, counts an in-process run, or, when the engine cannot run the
//! definition (a Task it has no mock for), the history of one Standard execution of the same
//! definition on the backend. The report's `transitions_source` says which (`history` or
//! `inprocess`).
//!
//! Every run also writes `<definition>-<type>-<backend>.json` (the `--json` object and the
//! run's circumstances) and an SVG histogram of the latencies next to it, under `--out`
//! (default `reports/bench`), unless `--no-report`.

use crate::backend::{Backend, BackendError, BackendFactory, OpenError, SessionSetup};
use engine::{Definition, Diagnostic, ExecutionConfig, RunError, WorkflowType};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// How often an in-process thread adds its finished executions to the progress counter: rare
/// enough that the threads never contend for the counter's cache line.
const PROGRESS_FLUSH: Duration = Duration::from_millis(50);

/// How long one Standard execution may run over the API before the benchmark gives up on
/// it: a workflow that waits for a callback nobody sends would otherwise hold the run.
const EXECUTION_LIMIT: Duration = Duration::from_secs(300);

/// After this many failed API calls in a row a worker stops the run: the endpoint has gone
/// away, and every further call would only wait for its retries to fail too.
const ERRORS_IN_A_ROW: u32 = 5;

/// The exit code of a benchmark whose backend is absent here (no endpoint, no credentials):
/// neither a result (0) nor a failure of the benchmark itself (1) or of the definition (2).
pub const EXIT_SKIPPED: u8 = 3;

/// The workflow type of the executions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum BenchType {
    /// Full history.
    Standard,
    /// No history.
    Express,
}

impl BenchType {
    fn workflow_type(self) -> WorkflowType {
        match self {
            BenchType::Standard => WorkflowType::Standard,
            BenchType::Express => WorkflowType::Express,
        }
    }

    fn api_type(self) -> crate::scenario::WorkflowType {
        match self {
            BenchType::Standard => crate::scenario::WorkflowType::Standard,
            BenchType::Express => crate::scenario::WorkflowType::Express,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            BenchType::Standard => "STANDARD",
            BenchType::Express => "EXPRESS",
        }
    }
}

/// How the benchmark talks to a backend over the Step Functions API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchClient {
    /// Each worker's session of the backend: the AWS SDK, with its retries and signing.
    Sdk,
    /// Unsigned awsJson1_0 requests over one keep-alive HTTP connection per worker, so that
    /// the client's cost does not hide the backend's (plain-HTTP endpoints that do not check
    /// signatures: `stepcheck serve`, moto, LocalStack).
    Raw,
}

impl BenchClient {
    /// Its name on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            BenchClient::Sdk => "sdk",
            BenchClient::Raw => "raw",
        }
    }
}

/// The arguments of `stepcheck bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// The definition file (Amazon States Language JSON).
    pub definition: PathBuf,
    /// A file holding the execution input (JSON). Default: `{}`.
    #[arg(long, conflicts_with = "input_json")]
    pub input: Option<PathBuf>,
    /// The execution input as a JSON string.
    #[arg(long)]
    pub input_json: Option<String>,
    /// How many executions to run.
    #[arg(long, default_value_t = 100)]
    pub executions: u64,
    /// How many run at once: OS threads, each with its own engine state (inprocess) or its
    /// own API client (every other backend).
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
    /// STANDARD (full history) or EXPRESS (no history; StartSyncExecution over the API).
    #[arg(long = "type", value_enum, default_value = "STANDARD")]
    pub workflow_type: BenchType,
    /// What runs the executions: inprocess, serve, moto, localstack (at MOTO_ENDPOINT or
    /// LOCALSTACK_ENDPOINT, else started here), aws (AWS_REGION, STEPCHECK_ROLE_ARN and the
    /// standard credentials), or an http(s):// endpoint that speaks the Step Functions API.
    #[arg(long, default_value = "inprocess")]
    pub backend: String,
    /// How the workers call a backend over the API: `sdk` (the AWS SDK) or `raw` (unsigned
    /// requests over keep-alive connections, for serve, moto, LocalStack and http://
    /// endpoints: it measures the backend rather than the SDK).
    #[arg(long, value_enum, default_value = "sdk")]
    pub client: BenchClient,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The directory the JSON report and the SVG chart go to.
    #[arg(long, default_value = "reports/bench")]
    pub out: PathBuf,
    /// Write no report files.
    #[arg(long)]
    pub no_report: bool,
}

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// No backend has that name.
    #[error("unknown backend '{0}' (stepcheck bench knows inprocess, serve, moto, localstack, aws, or an http(s):// endpoint)")]
    UnknownBackend(String),
    /// The backend exists but cannot serve a benchmark.
    #[error("backend {backend} cannot run a benchmark: {reason}")]
    NotBenchable {
        /// The backend's name.
        backend: String,
        /// Why not.
        reason: String,
    },
    /// The backend could not be opened; `OpenError::Absent` means it is not here at all.
    #[error(transparent)]
    Open(OpenError),
    /// A call to the backend failed.
    #[error("{what}: {source}")]
    Api {
        /// What the benchmark was doing.
        what: String,
        /// The backend's error.
        source: BackendError,
    },
    /// The backend refused the definition (CreateStateMachine's InvalidDefinition).
    #[error("the backend refused the definition: {0}")]
    Refused(String),
    /// The transitions of one execution could not be counted, neither way.
    #[error("cannot count the transitions of one execution: {0}")]
    Calibration(String),
    /// Zero executions or zero threads.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A report file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The input is not JSON.
    #[error("the input is not JSON: {0}")]
    Input(serde_json::Error),
    /// The definition is invalid; the diagnostics say why.
    #[error("invalid state machine definition ({} problems)", .0.len())]
    Invalid(Vec<Diagnostic>),
    /// An execution could not run to its end (a Task without a mock, a callback, ...).
    #[error(transparent)]
    Run(#[from] RunError),
}

fn api(what: &str) -> impl FnOnce(BackendError) -> BenchError + '_ {
    move |source| BenchError::Api {
        what: what.to_string(),
        source,
    }
}

/// One bar of the latency histogram: how many executions took from `from_ms` up to
/// `to_ms` (the last bar includes its upper bound).
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyBucket {
    /// The lower bound, in milliseconds.
    pub from_ms: f64,
    /// The upper bound, in milliseconds.
    pub to_ms: f64,
    /// How many latencies fall in it.
    pub count: u64,
}

/// What a benchmark measured.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    /// The backend that ran the executions.
    pub backend: String,
    /// How the workers called it; `None` in process.
    pub client: Option<BenchClient>,
    /// STANDARD or EXPRESS.
    pub workflow_type: &'static str,
    /// How many executions ran.
    pub executions: u64,
    /// How many threads ran them.
    pub concurrency: usize,
    /// State transitions of all executions together.
    pub transitions: u64,
    /// Where the transitions of one execution were counted: `history` (GetExecutionHistory
    /// on the backend) or `inprocess` (a run of the in-process engine).
    pub transitions_source: &'static str,
    /// Wall time of the whole run.
    pub seconds: f64,
    /// Latency percentiles of one execution, in milliseconds: p50, p90, p99.
    pub latency_ms: [f64; 3],
    /// The distribution of the latencies.
    pub latency_histogram: Vec<LatencyBucket>,
    /// The process's peak resident set (VmHWM), where the system tells it (Linux). With
    /// `serve` it includes the server, which runs in this process.
    pub peak_rss_bytes: Option<u64>,
    /// How many executions ended with each status (SUCCEEDED, FAILED, ...); a call to the
    /// backend that failed counts as `error: <code>`.
    pub statuses: BTreeMap<String, u64>,
}

impl BenchReport {
    /// Executions per second of wall time.
    pub fn executions_per_second(&self) -> f64 {
        self.executions as f64 / self.seconds
    }

    /// Transitions per second of wall time.
    pub fn transitions_per_second(&self) -> f64 {
        self.transitions as f64 / self.seconds
    }

    /// The `--json` object.
    pub fn to_json(&self) -> Value {
        json!({
            "backend": self.backend,
            "client": self.client.map_or("none", BenchClient::as_str),
            "type": self.workflow_type,
            "executions": self.executions,
            "concurrency": self.concurrency,
            "transitions": self.transitions,
            "transitions_source": self.transitions_source,
            "seconds": self.seconds,
            "executions_per_second": self.executions_per_second(),
            "transitions_per_second": self.transitions_per_second(),
            "latency_ms": {
                "p50": self.latency_ms[0],
                "p90": self.latency_ms[1],
                "p99": self.latency_ms[2],
            },
            "peak_rss_bytes": self.peak_rss_bytes,
            "statuses": self.statuses,
        })
    }

    /// The report file's object: the `--json` object, the run's circumstances and the
    /// latency histogram.
    pub fn to_report_json(&self, definition: &Path, date: &str) -> Value {
        let mut v = self.to_json();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let extra = json!({
            "date": date,
            "machine": {
                "cores": cores,
                "arch": std::env::consts::ARCH,
                "os": std::env::consts::OS,
            },
            "definition": definition.display().to_string(),
            "latency_histogram": self.latency_histogram.iter().map(|b| json!({
                "from_ms": b.from_ms,
                "to_ms": b.to_ms,
                "count": b.count,
            })).collect::<Vec<_>>(),
        });
        if let (Some(m), Value::Object(e)) = (v.as_object_mut(), extra) {
            m.extend(e);
        }
        v
    }

    /// The short human table printed without `--json`.
    pub fn to_table(&self) -> String {
        let rss = self.peak_rss_bytes.map_or_else(
            || "unknown".to_string(),
            |b| format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
        );
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        let rows = [
            (
                "backend",
                match self.client {
                    None => format!("{} ({})", self.backend, self.workflow_type),
                    Some(client) => format!(
                        "{} ({}, {} client)",
                        self.backend,
                        self.workflow_type,
                        client.as_str()
                    ),
                },
            ),
            (
                "executions",
                format!("{} on {} threads", self.executions, self.concurrency),
            ),
            ("statuses", statuses.join(", ")),
            (
                "transitions",
                format!(
                    "{} (counted: {})",
                    self.transitions, self.transitions_source
                ),
            ),
            ("seconds", format!("{:.4}", self.seconds)),
            (
                "executions/s",
                format!("{:.0}", self.executions_per_second()),
            ),
            (
                "transitions/s",
                format!("{:.0}", self.transitions_per_second()),
            ),
            (
                "latency p50/p90/p99",
                format!(
                    "{:.3} / {:.3} / {:.3} ms",
                    self.latency_ms[0], self.latency_ms[1], self.latency_ms[2]
                ),
            ),
            ("peak RSS", rss),
        ];
        rows.iter().map(|(k, v)| format!("{k:<20} {v}\n")).collect()
    }

    /// A self-contained SVG chart: the latency histogram with p50, p90 and p99 marked, under
    /// a title with the throughput.
    pub fn to_svg(&self, definition: &str) -> String {
        const W: f64 = 720.0;
        const H: f64 = 400.0;
        const LEFT: f64 = 60.0;
        const RIGHT: f64 = 20.0;
        const TOP: f64 = 70.0;
        const BOTTOM: f64 = 50.0;
        let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
        let mut s = String::new();
        s.push_str(&format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
        ));
        s.push('\n');
        s.push_str(&format!(
            r#"<rect x="0" y="0" width="{W}" height="{H}" fill="white"/>"#
        ));
        s.push('\n');
        let title = format!(
            "{definition} {} on {}: {:.0} transitions/s, {:.0} executions/s",
            self.workflow_type,
            self.backend,
            self.transitions_per_second(),
            self.executions_per_second()
        );
        let subtitle = format!(
            "{} executions at concurrency {}; latency p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms",
            self.executions,
            self.concurrency,
            self.latency_ms[0],
            self.latency_ms[1],
            self.latency_ms[2]
        );
        s.push_str(&format!(
            r#"<text x="{LEFT}" y="22" font-size="14" font-weight="bold">{}</text>"#,
            crate::report::escape(&title)
        ));
        s.push('\n');
        s.push_str(&format!(
            r#"<text x="{LEFT}" y="40">{}</text>"#,
            crate::report::escape(&subtitle)
        ));
        s.push('\n');
        let buckets = &self.latency_histogram;
        let (lo, hi) = match (buckets.first(), buckets.last()) {
            (Some(f), Some(l)) => (f.from_ms, l.to_ms),
            _ => (0.0, 0.0),
        };
        let span = if hi > lo { hi - lo } else { 1.0 };
        let x_of = |ms: f64| LEFT + ((ms - lo) / span).clamp(0.0, 1.0) * pw;
        let most = buckets.iter().map(|b| b.count).max().unwrap_or(0).max(1);
        for b in buckets {
            let (x0, x1) = if hi > lo {
                (x_of(b.from_ms), x_of(b.to_ms))
            } else {
                (LEFT, LEFT + pw)
            };
            let h = b.count as f64 / most as f64 * ph;
            s.push_str(&format!(
                r##"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="#6b8fc7" stroke="white" stroke-width="0.5"><title>{:.3}–{:.3} ms: {}</title></rect>"##,
                x0,
                TOP + ph - h,
                (x1 - x0).max(0.5),
                h,
                b.from_ms,
                b.to_ms,
                b.count
            ));
            s.push('\n');
        }
        // The axes, with the latency range under the x axis and the tallest bar's count at
        // the top of the y axis.
        let (bottom, right) = (TOP + ph, LEFT + pw);
        s.push_str(&format!(
            r#"<line x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="black"/>"#
        ));
        s.push('\n');
        s.push_str(&format!(
            r#"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="black"/>"#
        ));
        s.push('\n');
        s.push_str(&format!(
            r#"<text x="{LEFT}" y="{}" text-anchor="start">{lo:.3} ms</text>"#,
            bottom + 16.0
        ));
        s.push('\n');
        s.push_str(&format!(
            r#"<text x="{right}" y="{}" text-anchor="end">{hi:.3} ms</text>"#,
            bottom + 16.0
        ));
        s.push('\n');
        s.push_str(&format!(
            r#"<text x="{}" y="{}" text-anchor="middle">latency of one execution (ms)</text>"#,
            LEFT + pw / 2.0,
            bottom + 36.0
        ));
        s.push('\n');
        s.push_str(&format!(
            r#"<text x="{}" y="{}" text-anchor="end">{most}</text>"#,
            LEFT - 6.0,
            TOP + 4.0
        ));
        s.push('\n');
        s.push_str(&format!(
            r#"<text x="{}" y="{}" text-anchor="end">0</text>"#,
            LEFT - 6.0,
            bottom
        ));
        s.push('\n');
        // The percentiles, labelled at staggered heights so that close ones stay readable.
        for (i, (label, ms, colour)) in [
            ("p50", self.latency_ms[0], "#2a9d3f"),
            ("p90", self.latency_ms[1], "#e08a00"),
            ("p99", self.latency_ms[2], "#c62828"),
        ]
        .into_iter()
        .enumerate()
        {
            let x = x_of(ms);
            let y = TOP - 14.0 + 12.0 * i as f64;
            s.push_str(&format!(
                r#"<line x1="{x:.2}" y1="{y:.2}" x2="{x:.2}" y2="{bottom}" stroke="{colour}" stroke-width="1.5" stroke-dasharray="4 2"/>"#
            ));
            s.push('\n');
            // A label near the right edge goes to the left of its line, to stay in the chart.
            let (label_x, anchor) = if x > LEFT + pw * 0.75 {
                (x - 3.0, "end")
            } else {
                (x + 3.0, "start")
            };
            s.push_str(&format!(
                r#"<text x="{label_x:.2}" y="{:.2}" fill="{colour}" text-anchor="{anchor}">{label} {ms:.3} ms</text>"#,
                y + 4.0
            ));
            s.push('\n');
        }
        s.push_str("</svg>\n");
        s
    }
}

/// The histogram of sorted latencies: about √n equal bars (at least 1, at most 40) from the
/// fastest to the slowest, bounds rounded to the microsecond.
fn histogram(sorted: &[Duration]) -> Vec<LatencyBucket> {
    let (Some(first), Some(last)) = (sorted.first(), sorted.last()) else {
        return Vec::new();
    };
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    let (lo, hi) = (ms(first), ms(last));
    let bars = if hi > lo {
        ((sorted.len() as f64).sqrt().ceil() as usize).clamp(1, 40)
    } else {
        1
    };
    let width = (hi - lo) / bars as f64;
    let mut counts = vec![0u64; bars];
    for d in sorted {
        let i = if width > 0.0 {
            (((ms(d) - lo) / width) as usize).min(bars - 1)
        } else {
            0
        };
        counts[i] += 1;
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| LatencyBucket {
            from_ms: round(lo + width * i as f64),
            to_ms: round(if i + 1 == bars {
                hi
            } else {
                lo + width * (i + 1) as f64
            }),
            count,
        })
        .collect()
}

/// The wall time of a run: from the first thread's start (right after the barrier every
/// thread waits at until all are ready) to the last one's end. The threads measure both
/// themselves: the main thread polls for the progress bar, so it would see the end late, and
/// it may pass the barrier only after a quick run has finished.
#[derive(Debug, Default)]
struct Wall(Option<(Instant, Instant)>);

impl Wall {
    fn add(&mut self, began: Instant, finished: Instant) {
        self.0 = Some(match self.0 {
            Some((b, f)) => (b.min(began), f.max(finished)),
            None => (began, finished),
        });
    }

    fn seconds(&self) -> f64 {
        self.0.map_or(0.0, |(b, f)| (f - b).as_secs_f64())
    }
}

/// The progress bar on stderr; indicatif draws nothing when stderr is not a terminal, so
/// logs and `--json` output stay clean.
fn progress_bar(total: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} executions, {eta} left")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// Shows the counter on the bar until `finished` says every worker is done.
fn watch(bar: &indicatif::ProgressBar, done: &AtomicU64, finished: impl Fn() -> bool) {
    loop {
        bar.set_position(done.load(Ordering::Relaxed));
        if finished() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bar.finish_and_clear();
}

/// A benchmark's API backend, shared with whoever deletes what it created when the process
/// is interrupted (the binary's Ctrl-C handler, as `stepcheck run` has).
pub type SharedBackend = std::sync::Arc<Vec<Box<dyn BackendFactory>>>;

/// Runs the benchmark `args` describes.
pub fn run(args: &BenchArgs) -> Result<BenchReport, BenchError> {
    run_with(args, &|_| {})
}

/// [`run`], handing the backend to `on_open` once it is open (in-process runs have none).
pub fn run_with(
    args: &BenchArgs,
    on_open: &dyn Fn(&SharedBackend),
) -> Result<BenchReport, BenchError> {
    if args.executions == 0 {
        return Err(BenchError::Zero("--executions"));
    }
    if args.concurrency == 0 {
        return Err(BenchError::Zero("--concurrency"));
    }
    let read = |path: &PathBuf| {
        std::fs::read_to_string(path).map_err(|source| BenchError::Read {
            path: path.clone(),
            source,
        })
    };
    let text = read(&args.definition)?;
    let input: Value = match (&args.input, &args.input_json) {
        (Some(path), _) => serde_json::from_str(&read(path)?).map_err(BenchError::Input)?,
        (None, Some(t)) => serde_json::from_str(t).map_err(BenchError::Input)?,
        (None, None) => json!({}),
    };
    let factory: Box<dyn BackendFactory> = match args.backend.as_str() {
        "inprocess" | "in-process" | "engine" if args.client == BenchClient::Raw => {
            return Err(BenchError::NotBenchable {
                backend: args.backend.clone(),
                reason: "--client raw calls an API endpoint, and the in-process engine runs without one".to_string(),
            })
        }
        "inprocess" | "in-process" | "engine" => return run_in_process(args, &text, &input),
        // The scenario runner's serve backend starts a server per session; a benchmark
        // shares one among its workers.
        "serve" => Box::new(
            crate::sdk::shared_serve(crate::serve::TimeMode::Real).map_err(api("start serve"))?,
        ),
        name @ ("localstack-container" | "sfn-local-container") => {
            return Err(BenchError::NotBenchable {
                backend: name.to_string(),
                reason: "each session gets a container of its own, so the workers could not share the state machine; start the emulator yourself and pass its endpoint".to_string(),
            })
        }
        name => crate::backend::open_with(name, &crate::backend::OpenOptions::default())
            .map_err(|e| match e {
                OpenError::Unknown(n) => BenchError::UnknownBackend(n),
                e => BenchError::Open(e),
            })?,
    };
    let shared: SharedBackend = std::sync::Arc::new(vec![factory]);
    on_open(&shared);
    let factory = &shared[0];
    let result = run_over_api(args, factory.as_ref(), &text, &input);
    // The session deleted its state machine already, unless the run broke off; the
    // factory's cleanup finds whatever is left under the run's prefix.
    if let Err(e) = factory.cleanup() {
        eprintln!("warning: cleanup on {}: {e}", factory.name());
    }
    factory.stop();
    result
}

/// The in-process benchmark: OS threads, one compiled definition each.
fn run_in_process(args: &BenchArgs, text: &str, input: &Value) -> Result<BenchReport, BenchError> {
    let definition = Definition::parse(text).map_err(BenchError::Invalid)?;
    // One run of the measured type counts the transitions (state entries): a Standard run
    // of a large Map would stop at the 25,000-event quota that Express does not have.
    let calibration = definition.execute(
        input.clone(),
        &config(args.workflow_type.workflow_type(), "calibration"),
    )?;
    let per_execution = calibration.state_entries;
    drop(definition);

    let workflow_type = args.workflow_type.workflow_type();
    let threads = args.concurrency;
    let ready = Barrier::new(threads + 1);
    let done = AtomicU64::new(0);
    let bar = progress_bar(args.executions);
    let outcomes = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                // Thread t runs executions t, t + C, t + 2C, ...: the counts differ by one at
                // most.
                let count = (args.executions + (threads - 1 - t) as u64) / threads as u64;
                let (ready, done) = (&ready, &done);
                scope.spawn(move || {
                    let definition = Definition::parse(text).map_err(BenchError::Invalid);
                    ready.wait();
                    let definition = definition?;
                    let mut latencies = Vec::with_capacity(count as usize);
                    let mut statuses: BTreeMap<&'static str, u64> = BTreeMap::new();
                    let mut pending = 0u64;
                    let began = Instant::now();
                    let mut flushed = began;
                    for i in 0..count {
                        let config = config(workflow_type, &format!("bench-{t}-{i}"));
                        let input = input.clone();
                        let started = Instant::now();
                        let r = definition.execute(input, &config)?;
                        let ended = Instant::now();
                        latencies.push(ended - started);
                        *statuses.entry(r.status.as_str()).or_default() += 1;
                        pending += 1;
                        if ended - flushed >= PROGRESS_FLUSH {
                            done.fetch_add(pending, Ordering::Relaxed);
                            pending = 0;
                            flushed = ended;
                        }
                    }
                    let finished = Instant::now();
                    done.fetch_add(pending, Ordering::Relaxed);
                    Ok::<_, BenchError>((latencies, statuses, began, finished))
                })
            })
            .collect();
        ready.wait();
        watch(&bar, &done, || handles.iter().all(|h| h.is_finished()));
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect::<Vec<_>>()
    });
    let mut latencies: Vec<Duration> = Vec::with_capacity(args.executions as usize);
    let mut statuses = BTreeMap::new();
    let mut wall = Wall::default();
    for outcome in outcomes {
        let (l, s, began, finished) = outcome?;
        latencies.extend(l);
        for (k, n) in s {
            *statuses.entry(k.to_string()).or_default() += n;
        }
        wall.add(began, finished);
    }
    latencies.sort_unstable();
    Ok(BenchReport {
        backend: args.backend.clone(),
        client: None,
        workflow_type: args.workflow_type.as_str(),
        executions: args.executions,
        concurrency: threads,
        transitions: per_execution * args.executions,
        transitions_source: "inprocess",
        seconds: wall.seconds(),
        latency_ms: LATENCY_QUANTILES.map(|q| percentile_ms(&latencies, q)),
        latency_histogram: histogram(&latencies),
        peak_rss_bytes: peak_rss_bytes(),
        statuses,
    })
}

/// A state machine name from the definition's file name: letters, digits, `-` and `_`
/// only, short enough to leave room for a run prefix within the API's 80 characters.
fn machine_name(definition: &Path) -> String {
    let stem: String = definition_stem(definition)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    format!("bench-{stem}")
}

/// The benchmark over the Step Functions API.
fn run_over_api(
    args: &BenchArgs,
    factory: &dyn BackendFactory,
    text: &str,
    input: &Value,
) -> Result<BenchReport, BenchError> {
    // Where the raw client connects, found before anything is created on the backend.
    let raw_host = match args.client {
        BenchClient::Sdk => None,
        BenchClient::Raw => {
            let not_benchable = |reason: String| BenchError::NotBenchable {
                backend: args.backend.clone(),
                reason,
            };
            let endpoint = factory.shared_endpoint().ok_or_else(|| {
                not_benchable("--client raw needs an http:// endpoint that takes unsigned requests, and this backend has none (real AWS checks signatures): use --client sdk".to_string())
            })?;
            Some(crate::rawapi::host_of(&endpoint).map_err(not_benchable)?)
        }
    };
    let mut main = factory
        .session(&SessionSetup::default())
        .map_err(api("open a session"))?;
    let name = machine_name(&args.definition);
    let arn = match main.create_state_machine(&name, text, args.workflow_type.api_type()) {
        Err(e) if e.code == "InvalidDefinition" => return Err(BenchError::Refused(e.message)),
        r => r.map_err(api("CreateStateMachine"))?,
    };
    let input_text = input.to_string();
    let measured = (|| {
        let (per_execution, source) =
            count_transitions(main.as_mut(), args, &name, &arn, text, input, &input_text)?;
        if args.workflow_type == BenchType::Express {
            // One untimed call first: a backend without StartSyncExecution (moto) says so
            // here, once, instead of through the workers' failed calls.
            main.start_sync_execution(&arn, "bench-warm-up", &input_text, None)
                .map_err(api("StartSyncExecution"))?;
        }
        let caller = match &raw_host {
            Some(host) => Caller::Raw(host),
            None => Caller::Sdk(factory),
        };
        measure(args, caller, &arn, &input_text, per_execution, source)
    })();
    let deleted = main.delete_state_machine(&arn);
    let report = measured?;
    deleted.map_err(api("DeleteStateMachine"))?;
    Ok(report)
}

/// The `*StateEntered` events of one execution, and where they were counted.
fn count_transitions(
    main: &mut dyn Backend,
    args: &BenchArgs,
    name: &str,
    arn: &str,
    text: &str,
    input: &Value,
    input_text: &str,
) -> Result<(u64, &'static str), BenchError> {
    let in_process = |workflow_type: WorkflowType| -> Result<u64, String> {
        let definition = Definition::parse(text).map_err(|d| {
            format!(
                "the engine finds the definition invalid ({} problems)",
                d.len()
            )
        })?;
        let r = definition
            .execute(input.clone(), &config(workflow_type, "calibration"))
            .map_err(|e| e.to_string())?;
        Ok(r.state_entries)
    };
    match args.workflow_type {
        BenchType::Standard => {
            match entries_in_history(main, arn, input_text) {
                Ok(n) => Ok((n, "history")),
                Err(h) => match in_process(WorkflowType::Standard) {
                    Ok(n) => {
                        eprintln!("note: GetExecutionHistory failed ({h}); transitions counted in process");
                        Ok((n, "inprocess"))
                    }
                    Err(p) => Err(BenchError::Calibration(format!(
                        "GetExecutionHistory: {h}; in process: {p}"
                    ))),
                },
            }
        }
        BenchType::Express => match in_process(WorkflowType::Express) {
            Ok(n) => Ok((n, "inprocess")),
            Err(p) => {
                // A Standard twin of the machine keeps the history the Express one lacks.
                let twin = main
                    .create_state_machine(
                        &format!("{name}-count"),
                        text,
                        crate::scenario::WorkflowType::Standard,
                    )
                    .map_err(|e| {
                        BenchError::Calibration(format!(
                            "in process: {p}; a Standard twin on the backend: {e}"
                        ))
                    })?;
                let counted = entries_in_history(main, &twin, input_text);
                let _ = main.delete_state_machine(&twin);
                counted.map(|n| (n, "history")).map_err(|h| {
                    BenchError::Calibration(format!(
                        "in process: {p}; a Standard twin on the backend: {h}"
                    ))
                })
            }
        },
    }
}

/// Runs one untimed Standard execution of `arn` and counts its `*StateEntered` events.
fn entries_in_history(
    session: &mut dyn Backend,
    arn: &str,
    input: &str,
) -> Result<u64, BackendError> {
    let execution = session.start_execution(arn, "bench-calibration", input, None)?;
    wait_for_end(session, &execution)?;
    let events = session.get_execution_history(&execution)?;
    Ok(events
        .iter()
        .filter(|e| {
            e.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with("StateEntered"))
        })
        .count() as u64)
}

/// Polls DescribeExecution until the execution has ended: after 1 ms, then twice as long
/// each time up to 20 ms, so that short executions are seen ending soon without flooding
/// the backend while long ones run.
fn wait_for_end(
    session: &mut dyn Backend,
    execution: &str,
) -> Result<crate::backend::ExecutionInfo, BackendError> {
    poll_until_ended(
        execution,
        || session.describe_execution(execution),
        |i| &i.status,
    )
}

/// [`wait_for_end`] over any way of describing the execution: `describe` answers what it
/// knows, `status` reads the status from that.
fn poll_until_ended<I>(
    execution: &str,
    mut describe: impl FnMut() -> Result<I, BackendError>,
    status: impl Fn(&I) -> &str,
) -> Result<I, BackendError> {
    let deadline = Instant::now() + EXECUTION_LIMIT;
    let mut pause = Duration::from_millis(1);
    loop {
        let info = describe()?;
        if status(&info) != "RUNNING" {
            return Ok(info);
        }
        if Instant::now() >= deadline {
            return Err(BackendError::new(
                "BenchTimeout",
                format!(
                    "{execution} still RUNNING after {} s",
                    EXECUTION_LIMIT.as_secs()
                ),
            ));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Who the workers call the backend through.
#[derive(Clone, Copy)]
enum Caller<'a> {
    /// A session of the backend each (the AWS SDK over the API).
    Sdk(&'a dyn BackendFactory),
    /// A [`crate::rawapi::RawClient`] each, connected to this `host:port`.
    Raw(&'a str),
}

/// One worker's connection to the backend.
enum Worker {
    Sdk(Box<dyn Backend>),
    Raw(crate::rawapi::RawClient),
}

impl Worker {
    fn open(caller: Caller<'_>) -> Result<Worker, BackendError> {
        match caller {
            Caller::Sdk(factory) => factory.session(&SessionSetup::default()).map(Worker::Sdk),
            Caller::Raw(host) => crate::rawapi::RawClient::connect(host).map(Worker::Raw),
        }
    }

    /// One timed execution: its status.
    fn run(
        &mut self,
        arn: &str,
        name: &str,
        input: &str,
        workflow_type: BenchType,
    ) -> Result<String, BackendError> {
        match self {
            Worker::Sdk(session) => run_one(session.as_mut(), arn, name, input, workflow_type),
            Worker::Raw(client) => match workflow_type {
                BenchType::Express => client.start_sync_execution(arn, name, input),
                BenchType::Standard => {
                    let execution = client.start_execution(arn, name, input)?;
                    poll_until_ended(
                        &execution,
                        || client.describe_execution(&execution),
                        String::as_str,
                    )
                }
            },
        }
    }
}

/// One timed execution: its status.
fn run_one(
    session: &mut dyn Backend,
    arn: &str,
    name: &str,
    input: &str,
    workflow_type: BenchType,
) -> Result<String, BackendError> {
    match workflow_type {
        BenchType::Express => Ok(session.start_sync_execution(arn, name, input, None)?.status),
        BenchType::Standard => {
            let execution = session.start_execution(arn, name, input, None)?;
            Ok(wait_for_end(session, &execution)?.status)
        }
    }
}

/// What one API worker did.
struct Worked {
    latencies: Vec<Duration>,
    statuses: BTreeMap<String, u64>,
    /// Executions that reached a status of their own (not a failed call).
    ended: u64,
    began: Instant,
    finished: Instant,
}

/// The timed part over the API: C workers, each with a session, take execution numbers from
/// a shared counter until N have been taken.
fn measure(
    args: &BenchArgs,
    caller: Caller<'_>,
    arn: &str,
    input: &str,
    per_execution: u64,
    transitions_source: &'static str,
) -> Result<BenchReport, BenchError> {
    let workers = args.concurrency;
    let total = args.executions;
    let ready = Barrier::new(workers + 1);
    let (next, done, stop) = (AtomicU64::new(0), AtomicU64::new(0), AtomicBool::new(false));
    let bar = progress_bar(total);
    let outcomes = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (ready, next, done, stop) = (&ready, &next, &done, &stop);
                scope.spawn(move || {
                    // Sessions are made on the thread that uses them (they need not be Send).
                    let worker = Worker::open(caller);
                    ready.wait();
                    let mut worker = worker.map_err(api("open a session"))?;
                    let now = Instant::now();
                    let mut worked = Worked {
                        latencies: Vec::new(),
                        statuses: BTreeMap::new(),
                        ended: 0,
                        began: now,
                        finished: now,
                    };
                    let mut in_a_row = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= total {
                            break;
                        }
                        let name = format!("bench-{i}");
                        let began = Instant::now();
                        match worker.run(arn, &name, input, args.workflow_type) {
                            Ok(status) => {
                                worked.latencies.push(began.elapsed());
                                *worked.statuses.entry(status).or_default() += 1;
                                worked.ended += 1;
                                in_a_row = 0;
                            }
                            Err(e) => {
                                *worked
                                    .statuses
                                    .entry(format!("error: {}", e.code))
                                    .or_default() += 1;
                                in_a_row += 1;
                                if in_a_row >= ERRORS_IN_A_ROW {
                                    stop.store(true, Ordering::Relaxed);
                                    return Err(BenchError::Api {
                                        what: format!(
                                            "{ERRORS_IN_A_ROW} executions in a row could not run; the last"
                                        ),
                                        source: e,
                                    });
                                }
                            }
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    worked.finished = Instant::now();
                    Ok::<_, BenchError>(worked)
                })
            })
            .collect();
        ready.wait();
        watch(&bar, &done, || handles.iter().all(|h| h.is_finished()));
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect::<Vec<_>>()
    });
    let mut latencies = Vec::with_capacity(total as usize);
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    let mut ended_executions = 0;
    let mut wall = Wall::default();
    for outcome in outcomes {
        let w = outcome?;
        latencies.extend(w.latencies);
        for (k, n) in w.statuses {
            *statuses.entry(k).or_default() += n;
        }
        ended_executions += w.ended;
        wall.add(w.began, w.finished);
    }
    latencies.sort_unstable();
    Ok(BenchReport {
        backend: args.backend.clone(),
        client: Some(args.client),
        workflow_type: args.workflow_type.as_str(),
        executions: total,
        concurrency: workers,
        // Calls that failed ran no states.
        transitions: per_execution * ended_executions,
        transitions_source,
        seconds: wall.seconds(),
        latency_ms: LATENCY_QUANTILES.map(|q| percentile_ms(&latencies, q)),
        latency_histogram: histogram(&latencies),
        peak_rss_bytes: peak_rss_bytes(),
        statuses,
    })
}

/// The definition's file name without `.json` and `.asl`: `pass-chain.asl.json` is
/// `pass-chain`.
fn definition_stem(definition: &Path) -> String {
    let name = definition
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "definition".to_string());
    let name = name.strip_suffix(".json").unwrap_or(&name);
    let name = name.strip_suffix(".asl").unwrap_or(name);
    name.to_string()
}

/// A backend's name as a file name part: lower-case letters and digits, runs of anything
/// else as one `-` (`http://127.0.0.1:4566` is `http-127-0-0-1-4566`).
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    if out.is_empty() {
        "backend".to_string()
    } else {
        out.to_string()
    }
}

/// Writes the report's JSON file and SVG chart under `args.out`; returns their paths.
pub fn write_report(
    args: &BenchArgs,
    report: &BenchReport,
) -> Result<(PathBuf, PathBuf), BenchError> {
    let stem = definition_stem(&args.definition);
    // A raw-client run of the same definition, type and backend gets a file of its own.
    let base = format!(
        "{stem}-{}-{}{}",
        report.workflow_type.to_ascii_lowercase(),
        slug(&report.backend),
        if report.client == Some(BenchClient::Raw) {
            "-raw"
        } else {
            ""
        }
    );
    let write = |path: PathBuf, text: String| {
        std::fs::write(&path, text)
            .map(|()| path.clone())
            .map_err(|source| BenchError::Write { path, source })
    };
    std::fs::create_dir_all(&args.out).map_err(|source| BenchError::Write {
        path: args.out.clone(),
        source,
    })?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let date = engine::Timestamp(now).to_rfc3339();
    let object = report.to_report_json(&args.definition, &date);
    let text = serde_json::to_string_pretty(&object).unwrap_or_else(|_| object.to_string());
    let json_path = write(args.out.join(format!("{base}.json")), text + "\n")?;
    let svg_path = write(args.out.join(format!("{base}.svg")), report.to_svg(&stem))?;
    Ok((json_path, svg_path))
}

/// Runs `stepcheck bench`, prints its report and writes the report files; exit 2 for an
/// invalid definition (with every diagnostic on stderr), as `stepcheck exec` does, and
/// [`EXIT_SKIPPED`] with `skipped: <reason>` on stderr when the backend is absent here.
/// `on_open` gets the backend once it is open, as in [`run_with`].
pub fn cli(
    args: &BenchArgs,
    on_open: &dyn Fn(&SharedBackend),
) -> Result<std::process::ExitCode, BenchError> {
    match run_with(args, on_open) {
        Ok(report) => {
            if args.json {
                println!("{}", report.to_json());
            } else {
                println!("stepcheck bench {}", args.definition.display());
                print!("{}", report.to_table());
            }
            if !args.no_report {
                let (json_path, svg_path) = write_report(args, &report)?;
                // With --json, stdout holds the one object and nothing else.
                let line = format!("report: {} and {}", json_path.display(), svg_path.display());
                if args.json {
                    eprintln!("{line}");
                } else {
                    println!("{line}");
                }
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
        Err(BenchError::Open(e @ OpenError::Absent { .. })) => {
            // The error's text starts with "skipped:" already.
            eprintln!("{e}");
            Ok(std::process::ExitCode::from(EXIT_SKIPPED))
        }
        Err(BenchError::Refused(message)) => {
            eprintln!("{}: {message}", args.definition.display());
            Ok(std::process::ExitCode::from(2))
        }
        Err(BenchError::Invalid(diags)) => {
            eprintln!(
                "{}: invalid state machine definition ({} problems)",
                args.definition.display(),
                diags.len()
            );
            for d in &diags {
                eprintln!(
                    "  {} {}: {} at {}",
                    d.severity.as_str(),
                    d.code.as_str(),
                    d.message,
                    d.location
                );
            }
            Ok(std::process::ExitCode::from(2))
        }
        Err(e) => Err(e),
    }
}

fn config(workflow_type: WorkflowType, name: &str) -> ExecutionConfig {
    ExecutionConfig {
        execution_name: name.to_string(),
        workflow_type,
        ..ExecutionConfig::default()
    }
}

/// The latency percentiles a report gives: p50, p90 and p99.
const LATENCY_QUANTILES: [f64; 3] = [0.50, 0.90, 0.99];

/// The nearest-rank percentile `q` of sorted latencies, in milliseconds.
fn percentile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

/// The peak resident set size from `/proc/self/status` (VmHWM, in kB there); `None` where
/// there is no such file (anything but Linux).
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile_ms(&ms, 0.50), 50.0);
        assert_eq!(percentile_ms(&ms, 0.90), 90.0);
        assert_eq!(percentile_ms(&ms, 0.99), 99.0);
        assert_eq!(percentile_ms(&ms[..1], 0.99), 1.0);
        assert_eq!(percentile_ms(&[], 0.5), 0.0);
    }

    #[test]
    fn histograms_cover_every_latency_once() {
        let us: Vec<Duration> = [1000, 1000, 1500, 2000, 4000]
            .map(Duration::from_micros)
            .to_vec();
        let h = histogram(&us);
        // √5 rounds up to 3 bars of 1 ms from 1 ms to 4 ms; the slowest sits in the last.
        assert_eq!(
            h,
            vec![
                LatencyBucket {
                    from_ms: 1.0,
                    to_ms: 2.0,
                    count: 3
                },
                LatencyBucket {
                    from_ms: 2.0,
                    to_ms: 3.0,
                    count: 1
                },
                LatencyBucket {
                    from_ms: 3.0,
                    to_ms: 4.0,
                    count: 1
                },
            ]
        );
        let same = vec![Duration::from_millis(2); 4];
        assert_eq!(
            histogram(&same),
            vec![LatencyBucket {
                from_ms: 2.0,
                to_ms: 2.0,
                count: 4
            }]
        );
        assert_eq!(histogram(&[]), vec![]);
    }

    #[test]
    fn report_names_come_from_the_file_and_the_backend() {
        assert_eq!(
            definition_stem(Path::new("w/pass-chain.asl.json")),
            "pass-chain"
        );
        assert_eq!(definition_stem(Path::new("two.json")), "two");
        assert_eq!(definition_stem(Path::new("plain")), "plain");
        assert_eq!(slug("http://127.0.0.1:4566/"), "http-127-0-0-1-4566");
        assert_eq!(slug("inprocess"), "inprocess");
        assert_eq!(slug("://"), "backend");
        assert_eq!(machine_name(Path::new("a b.asl.json")), "bench-a-b");
    }

    #[test]
    fn svg_text_is_escaped() {
        assert_eq!(
            crate::report::escape("a<b & \"c\"\u{1}"),
            "a&lt;b &amp; &quot;c&quot;\\u{1}"
        );
        let report = BenchReport {
            backend: "http://h/?a=1&b=<2>".into(),
            client: Some(BenchClient::Sdk),
            workflow_type: "STANDARD",
            executions: 0,
            concurrency: 1,
            transitions: 0,
            transitions_source: "history",
            seconds: 1.0,
            latency_ms: [0.0; 3],
            latency_histogram: Vec::new(),
            peak_rss_bytes: None,
            statuses: BTreeMap::new(),
        };
        let svg = report.to_svg("d&d");
        assert!(
            svg.contains("d&amp;d STANDARD on http://h/?a=1&amp;b=&lt;2&gt;"),
            "{svg}"
        );
        assert!(!svg.contains("<2>"));
    }
}
