//! `stepcheck bench`: run one definition many times on a backend and measure throughput,
//! latency and peak memory (issue 9).
//!
//! Only the in-process engine is a backend today; the others come with issue 7. N executions
//! are spread over C OS threads, each with its own compiled definition and clock, so that the
//! threads share nothing but the definition's text. The wall time runs from the moment every
//! thread is ready (definitions compiled) to the moment the last one finishes.
//!
//! Transitions are counted as the `*StateEntered` events of one untimed Standard run before
//! the measurement: the engine is deterministic for a given input and seed, and every
//! execution here gets the same ones, so this count is exact for every execution, Express
//! ones included (which keep no history to count from).

use engine::{Definition, Diagnostic, ExecutionConfig, RunError, WorkflowType};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Barrier;
use std::time::{Duration, Instant};

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

    fn as_str(self) -> &'static str {
        match self {
            BenchType::Standard => "STANDARD",
            BenchType::Express => "EXPRESS",
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
    /// How many OS threads run them (each with its own engine state).
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
    /// STANDARD (full history) or EXPRESS (no history).
    #[arg(long = "type", value_enum, default_value = "STANDARD")]
    pub workflow_type: BenchType,
    /// What runs the executions. Only `inprocess` today.
    #[arg(long, default_value = "inprocess")]
    pub backend: String,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The backend is not built yet.
    #[error("not supported yet: backend {0} (issue 7)")]
    Backend(String),
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

/// What a benchmark measured.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    /// The backend that ran the executions.
    pub backend: String,
    /// STANDARD or EXPRESS.
    pub workflow_type: &'static str,
    /// How many executions ran.
    pub executions: u64,
    /// How many threads ran them.
    pub concurrency: usize,
    /// State transitions of all executions together.
    pub transitions: u64,
    /// Wall time of the whole run.
    pub seconds: f64,
    /// Latency percentiles of one execution, in milliseconds: p50, p90, p99.
    pub latency_ms: [f64; 3],
    /// The process's peak resident set (VmHWM), where the system tells it (Linux).
    pub peak_rss_bytes: Option<u64>,
    /// How many executions ended with each status (SUCCEEDED, FAILED, ...).
    pub statuses: BTreeMap<&'static str, u64>,
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
            "type": self.workflow_type,
            "executions": self.executions,
            "concurrency": self.concurrency,
            "transitions": self.transitions,
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
                format!("{} ({})", self.backend, self.workflow_type),
            ),
            (
                "executions",
                format!("{} on {} threads", self.executions, self.concurrency),
            ),
            ("statuses", statuses.join(", ")),
            ("transitions", self.transitions.to_string()),
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
}

/// Runs the benchmark `args` describes.
pub fn run(args: &BenchArgs) -> Result<BenchReport, BenchError> {
    if args.backend != "inprocess" {
        return Err(BenchError::Backend(args.backend.clone()));
    }
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
    let definition = Definition::parse(&text).map_err(BenchError::Invalid)?;
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
    let (seconds, outcomes) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                // Thread t runs executions t, t + C, t + 2C, ...: the counts differ by one at
                // most.
                let count = (args.executions + (threads - 1 - t) as u64) / threads as u64;
                let (text, input, ready) = (&text, &input, &ready);
                scope.spawn(move || {
                    let definition = Definition::parse(text).map_err(BenchError::Invalid);
                    ready.wait();
                    let definition = definition?;
                    let mut latencies = Vec::with_capacity(count as usize);
                    let mut statuses: BTreeMap<&'static str, u64> = BTreeMap::new();
                    for i in 0..count {
                        let config = config(workflow_type, &format!("bench-{t}-{i}"));
                        let input = input.clone();
                        let started = Instant::now();
                        let r = definition.execute(input, &config)?;
                        latencies.push(started.elapsed());
                        *statuses.entry(r.status.as_str()).or_default() += 1;
                    }
                    Ok::<_, BenchError>((latencies, statuses))
                })
            })
            .collect();
        ready.wait();
        let started = Instant::now();
        let outcomes: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        (started.elapsed().as_secs_f64(), outcomes)
    });
    let mut latencies: Vec<Duration> = Vec::with_capacity(args.executions as usize);
    let mut statuses = BTreeMap::new();
    for outcome in outcomes {
        let (l, s) = outcome?;
        latencies.extend(l);
        for (k, n) in s {
            *statuses.entry(k).or_default() += n;
        }
    }
    latencies.sort_unstable();
    Ok(BenchReport {
        backend: args.backend.clone(),
        workflow_type: args.workflow_type.as_str(),
        executions: args.executions,
        concurrency: threads,
        transitions: per_execution * args.executions,
        seconds,
        latency_ms: [0.50, 0.90, 0.99].map(|q| percentile_ms(&latencies, q)),
        peak_rss_bytes: peak_rss_bytes(),
        statuses,
    })
}

/// Runs `stepcheck bench` and prints its report; exit 2 for an invalid definition (with
/// every diagnostic on stderr), as `stepcheck exec` does.
pub fn cli(args: &BenchArgs) -> Result<std::process::ExitCode, BenchError> {
    match run(args) {
        Ok(report) => {
            if args.json {
                println!("{}", report.to_json());
            } else {
                println!("stepcheck bench {}", args.definition.display());
                print!("{}", report.to_table());
            }
            Ok(std::process::ExitCode::SUCCESS)
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
}
