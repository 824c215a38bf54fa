//! Differential runs: the same generated workflow on the in-process engine and on another
//! harness backend (`serve`, an emulator, AWS), which must agree on the status, output,
//! error, cause and the normalised history. A disagreement is shrunk and can be written as a
//! corpus scenario ([`write_regression`]) so that it stays fixed.
//!
//! The generated mocks are closures on the attempt number ([`crate::run::ModelHandler`]);
//! another backend only knows Step Functions Local's MockConfigFile, so each case is first
//! put in its *mock-file form* ([`mock_file_form`]): the file has no delay field, so task
//! durations become 0, and the file numbers invocations per state across the whole
//! execution, so a task that fails its first attempts is expressible only when the state is
//! entered at most once. Cases that need more are skipped for that backend and counted.
//!
//! The reference side runs the MockConfigFile on `harness::backend::InProcess` (the same
//! `engine::Service` path the corpus uses) and is first checked against the closure run of
//! the same case, so the translation to a MockConfigFile is itself under test.
//!
//! The history-level backends of the harness speak the Step Functions API and return the
//! API's JSON, not engine events, so they cannot implement [`crate::fuzz::Backend`] (whose
//! invariants read engine events); [`check_case`] is their entry point instead.

use crate::fuzz::{self, Failure};
use crate::gen::{case, render, Case, Limits, Rendered, Seq, Step};
use crate::run::{self, RunOptions};
use harness::backend::{BackendError, BackendFactory, SessionSetup};
use harness::diff::{history_diff, json_equal, value_diff};
use harness::normalize::Normalizer;
use harness::scenario::{Level, WorkflowType};
use proptest::strategy::{Strategy, ValueTree};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The state machine's name on every backend.
pub const MACHINE: &str = "Fuzz";
/// The MockConfigFile test case of the generated mocks.
pub const TEST_CASE: &str = "Generated";
/// The execution's name on every backend.
pub const EXECUTION: &str = "fuzz";
/// The last invocation number a mocked response covers. Generated workflows call a state a
/// few dozen times at most; past this number a backend would answer `States.Runtime`.
const LAST_INVOCATION: u32 = 9_999;

/// What one backend made of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It agreed with the in-process engine.
    Agreed,
    /// The case cannot be given to this backend (the reason says why); it is not a pass.
    Skipped(String),
    /// It disagreed (or a run failed); the message shows how.
    Disagreed(String),
}

/// What an execution looked like through the Step Functions API, normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// SUCCEEDED, FAILED, ...
    pub status: String,
    /// The output, when it succeeded.
    pub output: Option<Value>,
    /// The error.
    pub error: Option<String>,
    /// The cause.
    pub cause: Option<String>,
    /// The history in the canonical shape golden files keep.
    pub history: Vec<Value>,
}

/// The case as the Step Functions API can run it: every task takes no time, since a
/// MockConfigFile cannot say how long a mocked answer takes, and the seed is 0, the seed an
/// `engine::Service` (and so `stepcheck serve`) gives its first execution, so that the
/// closure run schedules branches as the service does.
pub fn mock_file_form(case: &Case) -> Case {
    fn seq(s: &mut Seq) {
        s.steps.iter_mut().for_each(step);
    }
    fn step(s: &mut Step) {
        match s {
            Step::Task { mock, .. } => mock.duration_ms = 0,
            Step::Loop { body, .. } => body.iter_mut().for_each(step),
            Step::Parallel { branches, .. } => branches.iter_mut().for_each(seq),
            Step::Map { body, .. } => seq(body),
            _ => {}
        }
    }
    let mut c = case.clone();
    seq(&mut c.workflow.body);
    c.seed = 0;
    c
}

/// The states inside the processors of Distributed Map states: they run in child
/// executions, whose events the parent's history does not show.
fn in_child_executions(definition: &Value) -> Vec<String> {
    fn walk(machine: &Value, inside: bool, out: &mut Vec<String>) {
        let Some(states) = machine.get("States").and_then(Value::as_object) else {
            return;
        };
        for (name, state) in states {
            if inside {
                out.push(name.clone());
            }
            for branch in state
                .get("Branches")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                walk(branch, inside, out);
            }
            if let Some(processor) = state.get("ItemProcessor") {
                let distributed = processor
                    .pointer("/ProcessorConfig/Mode")
                    .and_then(Value::as_str)
                    == Some("DISTRIBUTED");
                walk(processor, inside || distributed, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(definition, false, &mut out);
    out
}

/// How many times each state was entered, from a history in the API's shape.
fn entries(history: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for e in history {
        let entered = e
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.ends_with("StateEntered"));
        if let Some(name) = e
            .get("stateEnteredEventDetails")
            .and_then(|d| d.get("name"))
            .and_then(Value::as_str)
            .filter(|_| entered)
        {
            *counts.entry(name.to_string()).or_insert(0) += 1;
        }
    }
    counts
}

fn range(from: u32, to: u32) -> String {
    if from == to {
        from.to_string()
    } else {
        format!("{from}-{to}")
    }
}

/// The MockConfigFile that plays the rendered workflow's mocks, given how many times the
/// in-process run entered each state; `Ok(None)` when the workflow has no Task state, and
/// `Err(reason)` when the file cannot express the mocks.
pub fn mock_config(
    rendered: &Rendered,
    entered: &BTreeMap<String, usize>,
) -> Result<Option<Value>, String> {
    if rendered.mocks.is_empty() {
        return Ok(None);
    }
    let children = in_child_executions(&rendered.definition);
    let mut test_case = Map::new();
    let mut responses = Map::new();
    for (state, mock) in &rendered.mocks {
        if mock.fail_first > 0 && children.contains(state) {
            // How often a child execution's state was entered is not in the parent's
            // history, so whether the numbering fits cannot be told.
            return Err(format!(
                "{state} fails its first {} attempt(s) inside a Distributed Map, whose child executions count invocations together",
                mock.fail_first
            ));
        }
        let times = entered.get(state).copied().unwrap_or(0);
        if mock.fail_first > 0 && times > 1 {
            // The closure fails the first attempts of every entry; the file's numbering runs
            // on across entries, so only the first entry would fail.
            return Err(format!(
                "{state} fails its first {} attempt(s) on each of {times} entries, which a MockConfigFile (one invocation count per execution) cannot express",
                mock.fail_first
            ));
        }
        let answer = json!({"Return": {"StatusCode": 200, "Payload": {"v": mock.result}}});
        let mut entries = Map::new();
        if mock.fail_first > 0 {
            entries.insert(
                range(0, mock.fail_first - 1),
                json!({"Throw": {"Error": mock.error.as_str(), "Cause": mock.error.cause()}}),
            );
        }
        entries.insert(range(mock.fail_first, LAST_INVOCATION), answer);
        let response = format!("{state}Mock");
        test_case.insert(state.clone(), json!(response));
        responses.insert(response, Value::Object(entries));
    }
    Ok(Some(json!({
        "StateMachines": {MACHINE: {"TestCases": {TEST_CASE: test_case}}},
        "MockedResponses": responses,
    })))
}

/// Runs the definition once on a fresh session of `factory` and returns what the API shows,
/// normalised as the runner normalises it.
pub fn observe(
    factory: &dyn BackendFactory,
    definition: &str,
    mock_config: Option<&str>,
    input: &Value,
) -> Result<Observed, BackendError> {
    let mut session = factory.session(&SessionSetup {
        mock_config: mock_config.map(str::to_string),
    })?;
    let arn = session.create_state_machine(MACHINE, definition, WorkflowType::Standard)?;
    let execution = session.start_execution(
        &arn,
        EXECUTION,
        &input.to_string(),
        mock_config.map(|_| TEST_CASE),
    )?;
    let info = session.settle(&execution)?;
    let raw = session.get_execution_history(&execution)?;
    let mut n = Normalizer::default();
    for (from, to) in session.aliases() {
        n.add_alias(&from, &to);
    }
    n.set_whole_seconds(!factory.capabilities().virtual_time);
    Ok(Observed {
        status: info.status,
        output: info.output.as_ref().map(|o| n.value(o)),
        error: info.error.as_deref().map(|e| n.string(e)),
        cause: info.cause.as_deref().map(|c| n.string(c)),
        history: n.events(&raw),
    })
}

/// The differences between the reference and another backend's view, if any.
pub fn compare(reference: &Observed, other: &Observed, backend: &str) -> Option<String> {
    let mut problems = Vec::new();
    if reference.status != other.status {
        problems.push(format!(
            "status: in-process {}, {backend} {}",
            reference.status, other.status
        ));
    }
    let (a, b) = (
        reference.output.clone().unwrap_or(Value::Null),
        other.output.clone().unwrap_or(Value::Null),
    );
    if !json_equal(&a, &b) {
        problems.push(value_diff("output", &a, &b).unwrap_or_else(|| "output differs".into()));
    }
    if reference.error != other.error {
        problems.push(format!(
            "error: in-process {:?}, {backend} {:?}",
            reference.error, other.error
        ));
    }
    if reference.cause != other.cause {
        problems.push(format!(
            "cause: in-process {:?}, {backend} {:?}",
            reference.cause, other.cause
        ));
    }
    let n = Normalizer::default();
    let want = n.mask_events(&reference.history, Level::Cause);
    let got = n.mask_events(&other.history, Level::Cause);
    if let Some(d) = history_diff(&want, &got, Level::Cause) {
        problems.push(format!("history (in-process expected, {backend} got): {d}"));
    }
    (!problems.is_empty()).then(|| format!("{backend} disagrees: {}", problems.join("\n")))
}

/// A case ready for other backends: its mock-file form, rendered, with its MockConfigFile
/// and the in-process engine's view of it.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The case in its mock-file form.
    pub case: Case,
    /// The rendered workflow.
    pub rendered: Rendered,
    /// The MockConfigFile, when the workflow has Task states.
    pub mock_config: Option<Value>,
    /// What the in-process engine did with it.
    pub reference: Observed,
}

/// Prepares a case: `Err(Verdict::Skipped)` when a MockConfigFile cannot express its mocks,
/// `Err(Verdict::Disagreed)` when the in-process runs already fail or the MockConfigFile
/// run differs from the closure run.
pub fn prepare(case: &Case) -> Result<Prepared, Verdict> {
    if !case.workflow.race_free() {
        // Which of two failing branches fails first is the scheduler's choice, on AWS too,
        // so backends may rightly report different errors.
        return Err(Verdict::Skipped(
            "two branches or iterations can fail with different errors, and which one wins is the scheduler's choice".into(),
        ));
    }
    let case = mock_file_form(case);
    let rendered = render(&case.workflow);
    let options = RunOptions {
        seed: case.seed,
        ..RunOptions::default()
    };
    let closures = run::run(&rendered, &case.input, options)
        .map_err(|e| Verdict::Disagreed(format!("in-process run (closures): {e}")))?;
    let api: Vec<Value> = closures
        .history
        .iter()
        .map(engine::Event::to_api_json)
        .collect();
    let mock_config = mock_config(&rendered, &entries(&api)).map_err(Verdict::Skipped)?;
    let text = mock_config.as_ref().map(Value::to_string);
    let reference = observe(
        &harness::backend::InProcess,
        &rendered.text(),
        text.as_deref(),
        &case.input,
    )
    .map_err(|e| Verdict::Disagreed(format!("in-process run (MockConfigFile): {e}")))?;
    let n = Normalizer::default();
    let closure_view = Observed {
        status: closures.status.as_str().to_string(),
        output: closures.output.as_ref().map(|o| n.value(o)),
        error: closures.error.as_deref().map(|e| n.string(e)),
        cause: closures.cause.as_deref().map(|c| n.string(c)),
        history: Vec::new(),
    };
    let summary = Observed {
        history: Vec::new(),
        ..reference.clone()
    };
    if let Some(d) = compare(&closure_view, &summary, "the MockConfigFile run") {
        return Err(Verdict::Disagreed(format!(
            "the closures and the MockConfigFile give different results: {d}"
        )));
    }
    Ok(Prepared {
        case,
        rendered,
        mock_config,
        reference,
    })
}

/// Runs one case on the in-process engine and on `backend`, and compares them.
pub fn check_case(case: &Case, backend: &dyn BackendFactory) -> Verdict {
    let guarded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let p = match prepare(case) {
            Ok(p) => p,
            Err(v) => return v,
        };
        let text = p.mock_config.as_ref().map(Value::to_string);
        match observe(backend, &p.rendered.text(), text.as_deref(), &p.case.input) {
            Err(e) => Verdict::Disagreed(format!("{}: {e}", backend.name())),
            Ok(other) => match compare(&p.reference, &other, backend.name()) {
                Some(d) => Verdict::Disagreed(d),
                None => Verdict::Agreed,
            },
        }
    }));
    guarded.unwrap_or_else(|panic| {
        let text = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Verdict::Disagreed(format!("panic: {text}"))
    })
}

/// A disagreement, shrunk.
#[derive(Debug, Clone)]
pub struct Disagreement {
    /// The shrunk case, in its mock-file form.
    pub case: Case,
    /// It, printed.
    pub failure: Failure,
    /// Where it was written as a scenario, when asked.
    pub written: Option<PathBuf>,
    /// Why it could not be written, when asked and it could not.
    pub write_error: Option<String>,
}

/// One backend's part of a differential campaign.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// The backend's name.
    pub backend: String,
    /// Cases on which it agreed.
    pub agreed: u64,
    /// Cases it could not be given.
    pub skipped: u64,
    /// The skips by kind ([`skip_kind`]), each with its first reason in full.
    pub skips: BTreeMap<&'static str, (u64, String)>,
    /// Disagreements, shrunk.
    pub disagreements: Vec<Disagreement>,
}

/// The result of a differential campaign.
#[derive(Debug, Clone, Default)]
pub struct DiffReport {
    /// Cases generated.
    pub cases: u64,
    /// One tally per backend.
    pub tallies: Vec<Tally>,
    /// Wall time.
    pub elapsed: Duration,
}

impl fmt::Display for DiffReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "differential: {} cases in {:.1} s",
            self.cases,
            self.elapsed.as_secs_f64()
        )?;
        for t in &self.tallies {
            writeln!(
                f,
                "{}: {} agreed, {} skipped, {} disagreement(s)",
                t.backend,
                t.agreed,
                t.skipped,
                t.disagreements.len()
            )?;
            for (kind, (count, example)) in &t.skips {
                writeln!(f, "  {count} skipped: {kind} (for example: {example})")?;
            }
            for d in &t.disagreements {
                writeln!(f, "{}", d.failure)?;
                if let Some(dir) = &d.written {
                    writeln!(f, "  written to {}", dir.display())?;
                }
                if let Some(e) = &d.write_error {
                    writeln!(f, "  not written: {e}")?;
                }
            }
        }
        Ok(())
    }
}

/// Where a campaign writes its regressions, if anywhere.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// The directory that gets one scenario directory per disagreement.
    pub write_regressions: Option<PathBuf>,
}

fn failure_of(case: &Case, message: String) -> Failure {
    let rendered = render(&case.workflow);
    Failure {
        message,
        definition: rendered.text(),
        mocks: rendered.mocks_text(),
        input: case.input.clone(),
        seed: case.seed,
        states: case.workflow.state_count(),
    }
}

/// Runs `cases` generated workflows on the in-process engine and on each backend, from a
/// seed; shrinks each disagreement and, when asked, writes it as a scenario. A backend stops
/// being tried after [`fuzz::MAX_FAILURES`] disagreements.
pub fn campaign(
    backends: &[&dyn BackendFactory],
    cases: u64,
    seed: u64,
    options: &DiffOptions,
) -> DiffReport {
    let started = Instant::now();
    let mut runner = fuzz::runner(seed);
    let strategy = case(Limits::default());
    let mut report = DiffReport {
        tallies: backends
            .iter()
            .map(|b| Tally {
                backend: b.name().to_string(),
                ..Tally::default()
            })
            .collect(),
        ..DiffReport::default()
    };
    for _ in 0..cases {
        let Ok(mut tree) = strategy.new_tree(&mut runner) else {
            continue;
        };
        report.cases += 1;
        let c = tree.current();
        for (backend, tally) in backends.iter().zip(report.tallies.iter_mut()) {
            if tally.disagreements.len() >= fuzz::MAX_FAILURES {
                continue;
            }
            match check_case(&c, *backend) {
                Verdict::Agreed => tally.agreed += 1,
                Verdict::Skipped(why) => {
                    tally.skipped += 1;
                    tally.skips.entry(skip_kind(&why)).or_insert((0, why)).0 += 1;
                }
                Verdict::Disagreed(message) => {
                    let fails = |c: &Case| match check_case(c, *backend) {
                        Verdict::Disagreed(m) => Err(m),
                        _ => Ok(()),
                    };
                    let (small, message) = fuzz::shrink(&mut tree, message, fails);
                    let (small, message) = fuzz::minimize(small, message, fails);
                    let small = mock_file_form(&small);
                    let written = options.write_regressions.as_ref().map(|dir| {
                        let name = regression_name(backend.name(), &small);
                        write_regression(dir, &name, &small, &message).map_err(|e| e.to_string())
                    });
                    tally.disagreements.push(Disagreement {
                        failure: failure_of(&small, message),
                        case: small,
                        written: written.clone().and_then(Result::ok),
                        write_error: written.and_then(Result::err),
                    });
                }
            }
        }
    }
    report.elapsed = started.elapsed();
    report
}

/// The kind of a skip's reason, for counting: `race`, `mocks per entry` or `mocks in a
/// Distributed Map`.
pub fn skip_kind(reason: &str) -> &'static str {
    if reason.contains("scheduler's choice") {
        "race"
    } else if reason.contains("Distributed Map") {
        "mocks in a Distributed Map"
    } else {
        "mocks per entry"
    }
}

/// A short directory name for a regression: the backend and the case's seed.
pub fn regression_name(backend: &str, case: &Case) -> String {
    let backend: String = backend
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!(
        "{}-{:08x}",
        backend.trim_matches('-'),
        (case.seed ^ (case.seed >> 32)) as u32
    )
}

/// Why a regression could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The case cannot be given to other backends, so it makes no scenario.
    #[error("the case makes no scenario: {0}")]
    NotExpressible(String),
    /// A file could not be written.
    #[error("{path}: cannot write: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

fn write(path: PathBuf, value: &Value) -> Result<(), WriteError> {
    let text = serde_json::to_string_pretty(value).unwrap_or_default() + "\n";
    std::fs::write(&path, text).map_err(|source| WriteError::Io { path, source })
}

/// Writes a case as a corpus scenario in `root/name/`: the definition, the MockConfigFile,
/// and the in-process engine's status, output, error, cause and history as the expectation
/// (the history in the canonical shape `stepcheck run --update` writes). Returns the
/// scenario's directory.
pub fn write_regression(
    root: &Path,
    name: &str,
    case: &Case,
    message: &str,
) -> Result<PathBuf, WriteError> {
    let p = prepare(case).map_err(|v| match v {
        Verdict::Skipped(m) | Verdict::Disagreed(m) => WriteError::NotExpressible(m),
        Verdict::Agreed => WriteError::NotExpressible("no reference".into()),
    })?;
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).map_err(|source| WriteError::Io {
        path: dir.clone(),
        source,
    })?;
    write(
        dir.join(format!("{MACHINE}.asl.json")),
        &p.rendered.definition,
    )?;
    let first_line = message.lines().next().unwrap_or_default();
    let mut scenario = json!({
        "$schema": "../../schema/scenario.schema.json",
        "description": format!(
            "Found by stepcheck fuzz (case seed {}): {first_line}. The expectation is the in-process engine's.",
            case.seed
        ),
        "tags": ["fuzz", "regression"],
        "stateMachines": {MACHINE: {"definition": format!("{MACHINE}.asl.json")}},
    });
    let mut requires = vec!["virtualTime"];
    if let Some(mocks) = &p.mock_config {
        write(dir.join("mocks.json"), mocks)?;
        scenario["mockConfig"] = json!("mocks.json");
        requires.push("mocks");
    }
    scenario["requires"] = json!(requires);
    let mut expect = json!({"status": p.reference.status});
    if let Some(o) = &p.reference.output {
        expect["output"] = o.clone();
    }
    if let Some(e) = &p.reference.error {
        expect["error"] = json!(e);
    }
    if let Some(c) = &p.reference.cause {
        expect["cause"] = json!(c);
    }
    let history = format!("{EXECUTION}.history.json");
    expect["history"] = json!(history);
    write(
        dir.join(&history),
        &Value::Array(p.reference.history.clone()),
    )?;
    let mut execution = json!({"name": EXECUTION, "input": p.case.input});
    if p.mock_config.is_some() {
        execution["testCase"] = json!(TEST_CASE);
    }
    execution["expect"] = expect;
    scenario["executions"] = json!([execution]);
    write(dir.join("scenario.json"), &scenario)?;
    Ok(dir)
}
