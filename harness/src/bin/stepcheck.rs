//! The `stepcheck` command line.
//!
//! `stepcheck exec` runs one execution on the in-process engine. Its `--json` output and exit
//! codes are a contract other tools drive (see README.md): exit 0 when the execution ran,
//! whatever its status; 2 when the definition is invalid (diagnostics on stderr); 1 otherwise.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use engine::{Definition, ExecutionConfig, Timestamp, WorkflowType};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// mimalloc instead of the system allocator: the engine allocates many small strings and
/// objects per state, and with glibc's malloc that cost 1.1 to 1.7 times as much wall time
/// (benches/README.md has the measurements). Libraries and test binaries that link the engine
/// keep whatever allocator their binary chose.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "stepcheck",
    version,
    about = "Test harness and conformance suite for AWS Step Functions"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one execution of a state machine definition on the in-process engine.
    Exec(Box<ExecArgs>),
    /// Run scenarios (directories with a scenario.json) on a backend and report.
    Run(RunArgs),
    /// Validate a definition and print every diagnostic.
    Validate {
        /// The definition file (Amazon States Language JSON).
        definition: PathBuf,
    },
    /// Run a definition many times and measure throughput, latency and peak memory.
    Bench(harness::bench::BenchArgs),
    /// Delete the state machines and activities a run left behind on a backend (those whose
    /// names start with the prefix; running executions are stopped first).
    Cleanup(CleanupArgs),
    /// Serve the Step Functions API (awsJson1_0) on HTTP, for SDKs, the AWS CLI, Terraform.
    Serve(ServeArgs),
    /// Fuzz with generated workflows, in-process and against other backends (runs the
    /// stepcheck-fuzz executable next to this one; `stepcheck fuzz --help` lists its options).
    #[command(disable_help_flag = true)]
    Fuzz {
        /// The arguments of stepcheck-fuzz: --cases N --seed S --backend in-process,serve,...
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
}

#[derive(clap::Args, Debug)]
struct CleanupArgs {
    /// The name prefix of the leftovers; every run names its resources `stepcheck-...`.
    #[arg(long, default_value = "stepcheck-")]
    prefix: String,
    /// The backend: aws, localstack, moto or an http(s):// endpoint.
    #[arg(long)]
    backend: String,
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The port; 0 picks a free one (the bound address is printed on stdout).
    #[arg(long, default_value_t = 8083)]
    port: u16,
    /// A Step Functions Local MockConfigFile; `stateMachineArn#TestCase` picks a test case.
    /// Defaults to the SFN_MOCK_CONFIG environment variable, as Step Functions Local reads it.
    #[arg(long, env = "SFN_MOCK_CONFIG")]
    mock_config: Option<PathBuf>,
    /// How time passes: virtual (Waits finish at once), real, or scaled:F (F times faster).
    #[arg(long, default_value = "virtual")]
    time: String,
    /// Seed of generated names and of each execution's random numbers.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// AWS region used in ARNs.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// AWS account used in ARNs.
    #[arg(long, default_value = "123456789012")]
    account: String,
    /// At most how many history events of ended executions to keep; past that the oldest
    /// ended executions' histories are dropped (DescribeExecution still answers for them,
    /// GetExecutionHistory says the history is no longer kept). 0 keeps every history.
    #[arg(long, default_value_t = harness::serve::DEFAULT_HISTORY_BUDGET)]
    history_budget: usize,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Scenario directories, or directories to search for them. Default: `corpus`.
    paths: Vec<PathBuf>,
    /// The backends to run on, comma-separated: in-process, serve, aws, localstack, moto or
    /// an http(s):// endpoint. A backend absent here is reported as skipped.
    #[arg(long, default_value = "in-process")]
    backend: String,
    /// The AWS region of `--backend aws` (default: AWS_REGION or AWS_DEFAULT_REGION).
    #[arg(long)]
    region: Option<String>,
    /// The execution role of the state machines created on `--backend aws` (default:
    /// STEPCHECK_ROLE_ARN).
    #[arg(long)]
    role_arn: Option<String>,
    /// A CloudWatch Logs log group ARN for `--backend aws`: Express machines log there and
    /// their histories are compared too (default: STEPCHECK_EXPRESS_LOG_GROUP).
    #[arg(long)]
    express_log_group: Option<String>,
    /// Only scenarios whose name (or a tag) contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// How many scenarios run at once. Default: the number of cores.
    #[arg(long)]
    jobs: Option<usize>,
    /// Write junit.xml, summary.md and index.html into this directory.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Rewrite the golden history files from the backend.
    #[arg(long)]
    update: bool,
    /// The most a comparison looks at: output, types, details or cause.
    #[arg(long, value_enum, default_value = "cause")]
    level: LevelArg,
    /// Print every scenario's verdict, not only the failures.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LevelArg {
    Output,
    Types,
    Details,
    Cause,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "UPPER")]
enum TypeArg {
    Standard,
    Express,
}

#[derive(clap::Args, Debug)]
struct ExecArgs {
    /// The definition file (Amazon States Language JSON).
    definition: PathBuf,
    /// A file holding the execution input (JSON). Default: `{}`.
    #[arg(long, conflicts_with = "input_json")]
    input: Option<PathBuf>,
    /// The execution input as a JSON string.
    #[arg(long)]
    input_json: Option<String>,
    /// The state machine's name, as it appears in ARNs and the context object.
    #[arg(long, default_value = "StateMachine")]
    state_machine_name: String,
    /// The execution's name. Default: a UUID drawn from the seed.
    #[arg(long)]
    name: Option<String>,
    /// STANDARD (full history) or EXPRESS (no history).
    #[arg(long = "type", value_enum, default_value = "STANDARD")]
    workflow_type: TypeArg,
    /// Seed of the execution's random numbers.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// When the execution starts on the virtual clock (RFC 3339). Default: 2024-01-01T00:00:00Z.
    #[arg(long)]
    start_time: Option<String>,
    /// AWS region used in ARNs.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// AWS account used in ARNs.
    #[arg(long, default_value = "123456789012")]
    account: String,
    /// A Step Functions Local MockConfigFile (Task mocks). Defaults to the SFN_MOCK_CONFIG
    /// environment variable, as Step Functions Local and LocalStack read it.
    #[arg(long, env = "SFN_MOCK_CONFIG")]
    mock_config: Option<PathBuf>,
    /// The test case of the MockConfigFile to use.
    #[arg(long)]
    test_case: Option<String>,
    /// A state machine the definition calls (`states:startExecution`), as NAME=FILE; it is
    /// registered as `arn:aws:states:REGION:ACCOUNT:stateMachine:NAME`. Repeatable. With it,
    /// the run goes through the in-process execution service and the result lists the
    /// child executions.
    #[arg(long = "state-machine-file", value_name = "NAME=FILE")]
    state_machine_files: Vec<String>,
    /// Print one JSON object: status, output, error, cause, history (and children).
    #[arg(long)]
    json: bool,
    /// Run through the Step Functions API instead of calling the engine directly: `serve`
    /// (a `stepcheck serve` started for this run, driven by aws-sdk-sfn) or an endpoint URL.
    /// The output is the same, read from DescribeExecution and GetExecutionHistory.
    #[arg(long, env = "STEPCHECK_VIA")]
    via: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Exec(args) => exec(*args),
        Command::Run(args) => run(args),
        Command::Validate { definition } => validate(definition),
        // An interrupted benchmark deletes its state machine, as an interrupted run does.
        Command::Bench(args) => harness::bench::cli(&args, &|backend| {
            clean_up_on_interrupt(std::sync::Arc::clone(backend))
        })
        .map_err(Into::into),
        Command::Cleanup(args) => cleanup(&args),
        Command::Serve(args) => serve(args),
        Command::Fuzz { args } => fuzz(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// `stepcheck fuzz`: runs `stepcheck-fuzz` from the directory of this executable (cargo
/// builds both there), as cargo runs its external subcommands, and exits with its code. The
/// fuzzer lives in the conformance crate, which depends on this one, so it cannot be linked in.
fn fuzz(args: &[std::ffi::OsString]) -> Result<ExitCode> {
    let exe = std::env::current_exe()?;
    let fuzzer = exe.with_file_name(format!("stepcheck-fuzz{}", std::env::consts::EXE_SUFFIX));
    if !fuzzer.is_file() {
        anyhow::bail!(
            "stepcheck fuzz needs stepcheck-fuzz: cargo build -p stepcheck-conformance --bin stepcheck-fuzz (looked for {})",
            fuzzer.display()
        );
    }
    let status = std::process::Command::new(&fuzzer).args(args).status()?;
    Ok(ExitCode::from(
        status.code().map_or(1, |c| u8::try_from(c).unwrap_or(1)),
    ))
}

/// `stepcheck run`: exit 0 when every scenario passed (or was not applicable), 1 otherwise.
fn run(args: RunArgs) -> Result<ExitCode> {
    use harness::runner::{run_all, RunOptions, Verdict};
    use harness::scenario::Level;
    let mut backends = Vec::new();
    let mut skipped = Vec::new();
    for name in args
        .backend
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let options = harness::backend::OpenOptions {
            region: args.region.clone(),
            role_arn: args.role_arn.clone(),
            express_log_group: args.express_log_group.clone(),
        };
        match harness::backend::open_with(name, &options) {
            Ok(b) => backends.push(b),
            Err(e @ harness::backend::OpenError::Absent { .. }) => {
                println!("{e}");
                skipped.push(e.to_string());
            }
            Err(e) => return Err(e.into()),
        }
    }
    if backends.is_empty() {
        println!("nothing ran: every backend was skipped");
        return Ok(ExitCode::from(2));
    }
    let backends = std::sync::Arc::new(backends);
    clean_up_on_interrupt(std::sync::Arc::clone(&backends));
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from("corpus")]
    } else {
        args.paths.clone()
    };
    let mut dirs = harness::scenario::discover(&paths)?;
    if let Some(f) = &args.filter {
        dirs.retain(|(dir, root)| {
            let name = dir
                .strip_prefix(root)
                .unwrap_or(dir)
                .to_string_lossy()
                .into_owned();
            name.contains(f.as_str()) || scenario_tags(dir).iter().any(|t| t.contains(f.as_str()))
        });
    }
    if dirs.is_empty() {
        anyhow::bail!("no scenarios found under {:?}", paths);
    }
    let options = RunOptions {
        level: match args.level {
            LevelArg::Output => Level::Output,
            LevelArg::Types => Level::Types,
            LevelArg::Details => Level::Details,
            LevelArg::Cause => Level::Cause,
        },
        update: args.update,
    };
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    // indicatif draws nothing when stderr is not a terminal, so CI logs stay clean.
    let bar = indicatif::ProgressBar::new(dirs.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_length((dirs.len() * backends.len()) as u64);
    let mut results = Vec::new();
    let mut seconds = Vec::new();
    for backend in backends.iter() {
        let began = std::time::Instant::now();
        results.extend(run_all(&dirs, backend.as_ref(), &options, jobs, &|r| {
            bar.set_message(r.name.clone());
            bar.inc(1);
            if r.verdict == Verdict::Fail {
                bar.suspend(|| eprintln!("FAIL {} ({})", r.name, r.backend));
            }
        }));
        seconds.push(began.elapsed().as_secs_f64());
    }
    bar.finish_and_clear();
    for r in &results {
        match &r.verdict {
            Verdict::Fail => {
                println!("FAIL {} ({})", r.name, r.backend);
                for f in &r.failures {
                    for line in f.lines() {
                        println!("    {line}");
                    }
                }
            }
            Verdict::NotApplicable(why) if args.verbose => {
                println!("n/a  {} ({why})", r.name)
            }
            Verdict::Pass if args.verbose => println!("ok   {}", r.name),
            _ => {}
        }
        for u in &r.updated {
            println!("updated {}", u.display());
        }
    }
    let mut failed = 0;
    for (backend, elapsed) in backends.iter().zip(seconds) {
        let mine: Vec<_> = results
            .iter()
            .filter(|r| r.backend == backend.name())
            .cloned()
            .collect();
        let t = harness::report::totals(&mine);
        failed += t.failed;
        println!(
            "{} scenarios on {} in {:.2}s: {} passed, {} failed, {} not applicable",
            mine.len(),
            backend.name(),
            elapsed,
            t.passed,
            t.failed,
            t.not_applicable
        );
    }
    for s in &skipped {
        println!("{s}");
    }
    // The interrupt handler's thread holds the backends too, so they are never dropped:
    // emulator processes they started are stopped here.
    for b in backends.iter() {
        b.stop();
    }
    if let Some(dir) = &args.report {
        let written = harness::report::write_reports(dir, &results)
            .with_context(|| format!("cannot write reports to {}", dir.display()))?;
        for p in written {
            println!("report {}", p.display());
        }
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `stepcheck cleanup`: exit 0 when everything under the prefix is gone.
fn cleanup(args: &CleanupArgs) -> Result<ExitCode> {
    use harness::sdk::SdkTarget;
    let target = match args.backend.as_str() {
        "aws" => harness::sdk::aws_target(&harness::backend::OpenOptions::default())?,
        url if url.starts_with("http://") || url.starts_with("https://") => {
            SdkTarget::emulator(url, url)
        }
        name => match harness::emulators::Emulator::named(name) {
            Some(e) => SdkTarget::emulator(name, &e.running_endpoint()),
            None => anyhow::bail!(
                "cleanup: unknown backend '{name}' (aws, localstack, moto or an endpoint URL)"
            ),
        },
    };
    if args.prefix.is_empty() {
        anyhow::bail!("cleanup: the prefix must not be empty (it would delete everything)");
    }
    let cleaned = harness::sdk::cleanup(&target, &args.prefix)?;
    for arn in cleaned.state_machines.iter().chain(&cleaned.activities) {
        println!("deleted {arn}");
    }
    println!(
        "{} state machines and {} activities deleted",
        cleaned.state_machines.len(),
        cleaned.activities.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// On Ctrl-C (or SIGTERM), deletes what the run's backends created before leaving, so that an
/// interrupted run leaves nothing behind on a shared backend.
fn clean_up_on_interrupt(backends: std::sync::Arc<Vec<Box<dyn harness::backend::BackendFactory>>>) {
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{signal, SignalKind};
                let (Ok(mut int), Ok(mut term)) = (
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::terminate()),
                ) else {
                    return;
                };
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            #[cfg(not(unix))]
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
        });
        eprintln!("interrupted: deleting what this run created");
        for b in backends.iter() {
            match b.cleanup() {
                Ok(n) => eprintln!("{}: {n} resources deleted", b.name()),
                Err(e) => eprintln!("{}: cleanup failed: {e}", b.name()),
            }
            b.stop();
        }
        std::process::exit(130);
    });
}

/// A scenario's tags, for `--filter`; a scenario that cannot be read has none (its load
/// error is reported when it runs).
fn scenario_tags(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join(harness::scenario::SCENARIO_FILE))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| {
            v.get("tags").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
        })
        .unwrap_or_default()
}

fn read_definition(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read definition {}", path.display()))
}

fn print_diagnostics(path: &Path, diags: &[engine::Diagnostic]) {
    eprintln!(
        "{}: invalid state machine definition ({} problems)",
        path.display(),
        diags.len()
    );
    for d in diags {
        eprintln!(
            "  {} {}: {} at {}",
            d.severity.as_str(),
            d.code.as_str(),
            d.message,
            d.location
        );
    }
}

fn validate(path: PathBuf) -> Result<ExitCode> {
    let text = read_definition(&path)?;
    let diags = engine::validate(&text);
    if diags.is_empty() {
        println!("{}: OK", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    print_diagnostics(&path, &diags);
    let errors = diags.iter().any(|d| d.severity == engine::Severity::Error);
    Ok(if errors {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn exec(args: ExecArgs) -> Result<ExitCode> {
    let text = read_definition(&args.definition)?;
    let definition = match Definition::parse(&text) {
        Ok(d) => d,
        Err(diags) => {
            print_diagnostics(&args.definition, &diags);
            return Ok(ExitCode::from(2));
        }
    };
    if let Some(via) = &args.via {
        return exec_via(&args, &text, via);
    }
    if !args.state_machine_files.is_empty() {
        return exec_service(&args, &text);
    }
    let mut handler: Box<dyn engine::TaskHandler> = match (&args.mock_config, &args.test_case) {
        (Some(path), Some(case)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read mock config {}", path.display()))?;
            let config = mocks::MockConfig::from_json_str(&text)
                .with_context(|| format!("mock config {} is invalid", path.display()))?;
            Box::new(
                config
                    .handler(&args.state_machine_name, case)
                    .with_context(|| format!("mock config {}", path.display()))?,
            )
        }
        (None, None) => Box::new(engine::NoTasks),
        // A mock file from SFN_MOCK_CONFIG without a test case: no mocks, as Step Functions
        // Local does for an execution started without `#TestCase`.
        (Some(_), None) if std::env::var_os("SFN_MOCK_CONFIG").is_some() => {
            Box::new(engine::NoTasks)
        }
        _ => anyhow::bail!("--mock-config and --test-case go together"),
    };
    let input = read_input(&args)?;
    let start_time = start_time(&args)?;
    let config = ExecutionConfig {
        state_machine_name: args.state_machine_name.clone(),
        execution_name: args
            .name
            .clone()
            .unwrap_or_else(|| uuid_from_seed(args.seed)),
        region: args.region.clone(),
        account: args.account.clone(),
        role_arn: format!(
            "arn:aws:iam::{}:role/StepFunctionsExecutionRole",
            args.account
        ),
        workflow_type: workflow_type(&args),
        start_time,
        seed: args.seed,
    };
    let mut clock = engine::VirtualClock::starting_at(config.start_time);
    let result = definition.execute_with(input, &config, &mut clock, handler.as_mut())?;
    if args.json {
        let out = json!({
            "status": result.status.as_str(),
            "output": result.output,
            "error": result.error,
            "cause": result.cause,
            "history": result.history.iter().map(|e| e.to_api_json()).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string(&out)?);
    } else {
        println!(
            "execution {} {}",
            config.execution_arn(),
            result.status.as_str()
        );
        for e in &result.history {
            println!(
                "  {:>4} {:<28} {} (after #{})",
                e.id,
                e.kind.type_name(),
                e.timestamp,
                e.previous_event_id
            );
        }
        if let Some(o) = &result.output {
            println!("output: {}", serde_json::to_string_pretty(o)?);
        }
        if let Some(e) = &result.error {
            println!("error: {e}");
        }
        if let Some(c) = &result.cause {
            println!("cause: {c}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_input(args: &ExecArgs) -> Result<Value> {
    Ok(match (&args.input, &args.input_json) {
        (Some(path), _) => {
            let t = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read input {}", path.display()))?;
            serde_json::from_str(&t)
                .with_context(|| format!("input {} is not JSON", path.display()))?
        }
        (None, Some(t)) => serde_json::from_str(t).context("--input-json is not JSON")?,
        (None, None) => json!({}),
    })
}

fn start_time(args: &ExecArgs) -> Result<Timestamp> {
    Ok(match &args.start_time {
        Some(s) => Timestamp::parse_rfc3339(s)
            .with_context(|| format!("--start-time '{s}' is not an RFC 3339 date-time"))?,
        None => engine::VirtualClock::DEFAULT_START,
    })
}

fn workflow_type(args: &ExecArgs) -> WorkflowType {
    match args.workflow_type {
        TypeArg::Standard => WorkflowType::Standard,
        TypeArg::Express => WorkflowType::Express,
    }
}

/// `exec` with `--state-machine-file`: the definition and the machines it calls are created
/// in an in-process execution service, which runs the parent and every child it starts.
/// The `--state-machine-file NAME=FILE` arguments: each name, file and definition text.
fn state_machine_files(args: &ExecArgs) -> Result<Vec<(&str, &str, String)>> {
    args.state_machine_files
        .iter()
        .map(|spec| {
            let (name, file) = spec
                .split_once('=')
                .with_context(|| format!("--state-machine-file '{spec}' is not NAME=FILE"))?;
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read state machine file {file}"))?;
            Ok((name, file, text))
        })
        .collect()
}

/// `stepcheck exec --via serve|URL`: the same execution through the Step Functions API.
fn exec_via(args: &ExecArgs, text: &str, via: &str) -> Result<ExitCode> {
    use harness::backend::{BackendFactory, SessionSetup};
    use harness::scenario::WorkflowType as Wt;
    let factory: Box<dyn BackendFactory> = match via {
        "serve" => Box::new(harness::sdk::serve_backend()?),
        url if url.starts_with("http://") || url.starts_with("https://") => Box::new(
            harness::sdk::Sdk::new(harness::sdk::SdkTarget::emulator(url, url))?,
        ),
        other => anyhow::bail!("--via {other}: expected serve or an http(s):// endpoint"),
    };
    let mock_config = match &args.mock_config {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read mock config {}", path.display()))?,
        ),
        None => None,
    };
    let mut backend = factory.session(&SessionSetup { mock_config })?;
    let kind = match workflow_type(args) {
        WorkflowType::Express => Wt::Express,
        _ => Wt::Standard,
    };
    for (name, file, child_text) in state_machine_files(args)? {
        backend
            .create_state_machine(name, &child_text, Wt::Standard)
            .map_err(|e| anyhow::anyhow!("state machine {name} ({file}): {e}"))?;
    }
    let arn = match backend.create_state_machine(&args.state_machine_name, text, kind) {
        Ok(arn) => arn,
        Err(e) if e.code == "InvalidDefinition" => {
            eprintln!("{}: {}", args.definition.display(), e.message);
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(e.into()),
    };
    let input = serde_json::to_string(&read_input(args)?)?;
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| uuid_from_seed(args.seed));
    let test_case = args.test_case.as_deref();
    let info = if kind == Wt::Express {
        backend.start_sync_execution(&arn, &name, &input, test_case)?
    } else {
        let exec = backend.start_execution(&arn, &name, &input, test_case)?;
        backend.settle(&exec)?
    };
    // Express executions keep no history (GetExecutionHistory refuses them, as on AWS)
    // unless the backend reads it back from their logs.
    fn history(backend: &mut dyn harness::backend::Backend, arn: &str) -> Result<Vec<Value>> {
        if arn.contains(":express:") && !backend.keeps_express_history() {
            return Ok(Vec::new());
        }
        Ok(backend.get_execution_history(arn)?)
    }
    let main_history = history(backend.as_mut(), &info.execution_arn)?;
    let mut children = Vec::new();
    let others = backend.other_executions(&info.execution_arn)?;
    for (machine, c) in others {
        let h = history(backend.as_mut(), &c.execution_arn)?;
        children.push(json!({
            "name": c.execution_arn.rsplit(':').next().unwrap_or_default(),
            "stateMachine": machine,
            "status": c.status,
            "output": c.output,
            "error": c.error,
            "cause": c.cause,
            "history": h,
        }));
    }
    let out = json!({
        "status": info.status,
        "output": info.output,
        "error": info.error,
        "cause": info.cause,
        "history": main_history,
        "children": children,
    });
    if args.json {
        println!("{}", serde_json::to_string(&out)?);
    } else {
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(ExitCode::SUCCESS)
}

fn exec_service(args: &ExecArgs, text: &str) -> Result<ExitCode> {
    let config = match &args.mock_config {
        Some(path) => {
            let t = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read mock config {}", path.display()))?;
            Some(
                mocks::MockConfig::from_json_str(&t)
                    .with_context(|| format!("mock config {} is invalid", path.display()))?,
            )
        }
        None => None,
    };
    let mut svc = engine::Service::new()
        .with_account(&args.region, &args.account)
        .with_seed(args.seed)
        .with_start_time(start_time(args)?)
        .with_handlers(
            harness::backend::MockFactory::new(config, "no --mock-config was given")
                .with_default_case(args.test_case.clone()),
        );
    for (name, file, child_text) in state_machine_files(args)? {
        if let Err(diags) = Definition::parse(&child_text) {
            print_diagnostics(Path::new(file), &diags);
            return Ok(ExitCode::from(2));
        }
        // Child machines take the workflow type of their definition's use; Standard unless
        // the parent is Express (AWS refuses .sync and callbacks in Express parents anyway).
        svc.create_state_machine(name, &child_text, WorkflowType::Standard, None)
            .map_err(|e| anyhow::anyhow!("state machine {name} ({file}): {e}"))?;
    }
    let parent = svc
        .create_state_machine(&args.state_machine_name, text, workflow_type(args), None)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let input = serde_json::to_string(&read_input(args)?)?;
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| uuid_from_seed(args.seed));
    let d = svc
        .start_execution(&parent.arn, Some(&name), Some(&input))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if d.status == engine::ExecutionStatus::Running {
        let waiting: Vec<String> = svc
            .waiting_tasks(&d.execution_arn)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .into_iter()
            .map(|w| w.state_name)
            .collect();
        anyhow::bail!(
            "the execution waits for a callback that nothing here can send (state {}); mock the state or have a child answer its token",
            waiting.join(", ")
        );
    }
    let history = |arn: &str| -> Result<Vec<Value>> {
        // Express executions keep no history: GetExecutionHistory refuses them, as on AWS.
        if arn.contains(":express:") {
            return Ok(Vec::new());
        }
        Ok(svc
            .get_execution_history(arn)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .iter()
            .map(|e| e.to_api_json())
            .collect())
    };
    let mut children = Vec::new();
    for c in svc.executions() {
        if c.execution_arn == d.execution_arn {
            continue;
        }
        let machine = c.state_machine_arn.rsplit(':').next().unwrap_or_default();
        children.push(json!({
            "name": c.name,
            "stateMachine": machine,
            "status": c.status.as_str(),
            "output": c.output,
            "error": c.error,
            "cause": c.cause,
            "history": history(&c.execution_arn)?,
        }));
    }
    if args.json {
        let out = json!({
            "status": d.status.as_str(),
            "output": d.output,
            "error": d.error,
            "cause": d.cause,
            "history": history(&d.execution_arn)?,
            "children": children,
        });
        println!("{}", serde_json::to_string(&out)?);
    } else {
        println!("execution {} {}", d.execution_arn, d.status.as_str());
        for c in &children {
            println!(
                "  child {} ({}) {}",
                c["name"], c["stateMachine"], c["status"]
            );
        }
        if let Some(o) = &d.output {
            println!("output: {}", serde_json::to_string_pretty(o)?);
        }
        if let Some(e) = &d.error {
            println!("error: {e}");
        }
        if let Some(c) = &d.cause {
            println!("cause: {c}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A version-4-shaped UUID drawn from the seed, so that default execution names are stable.
fn uuid_from_seed(seed: u64) -> String {
    let mut rng = engine::Rng::new(seed ^ 0x5bd1_e995);
    let (a, b) = (rng.next_u64(), rng.next_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

fn serve(args: ServeArgs) -> Result<ExitCode> {
    let mut config = harness::serve::ServeConfig {
        host: args.host,
        port: args.port,
        time: args.time.parse()?,
        seed: args.seed,
        region: args.region,
        account: args.account,
        history_budget: (args.history_budget > 0).then_some(args.history_budget),
        ..Default::default()
    };
    if let Some(path) = &args.mock_config {
        config = config.with_mock_config_file(path)?;
    }
    harness::serve::serve(config)?;
    Ok(ExitCode::SUCCESS)
}
