//! The runner: each scenario on a fresh backend session, scenarios in parallel on plain
//! threads, each result with its verdict and readable diffs.

use crate::backend::{Backend, BackendError, BackendFactory, ExecutionInfo, SessionSetup};
use crate::diff::{history_diff, json_equal, value_diff};
use crate::normalize::Normalizer;
use crate::scenario::{CallbackAction, ExecutionSpec, Level, Scenario, ScenarioError};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A scenario's verdict on one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Everything agreed.
    Pass,
    /// Something differed or went wrong; the failures say what.
    Fail,
    /// The backend lacks what the scenario needs (the reason says what).
    NotApplicable(String),
}

impl Verdict {
    /// `pass`, `fail` or `n/a`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::NotApplicable(_) => "n/a",
        }
    }
}

/// What one execution of a scenario did.
#[derive(Debug, Clone)]
pub struct ExecutionOutcome {
    /// The execution's name in the scenario.
    pub name: String,
    /// Its state machine (scenario name).
    pub state_machine: String,
    /// Its status, output, error and cause, normalised; `None` when it never started.
    pub info: Option<ExecutionInfo>,
    /// Its history, normalised (canonical form).
    pub history: Vec<Value>,
}

/// A scenario's result on one backend.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    /// The scenario's name.
    pub name: String,
    /// Its directory.
    pub dir: PathBuf,
    /// Its description.
    pub description: String,
    /// The backend's name.
    pub backend: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Each failure, with its diff.
    pub failures: Vec<String>,
    /// What each execution did.
    pub executions: Vec<ExecutionOutcome>,
    /// The definitions by state machine name (for the report's graphs).
    pub definitions: Vec<(String, String)>,
    /// Golden files written by `--update`.
    pub updated: Vec<PathBuf>,
    /// How long it took (wall clock).
    pub duration: Duration,
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The most a comparison looks at (each scenario may ask for less).
    pub level: Level,
    /// Rewrite golden files from the backend instead of comparing histories.
    pub update: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            level: Level::Cause,
            update: false,
        }
    }
}

/// Runs one scenario on a fresh session of `backend`.
pub fn run_scenario(
    scenario: &Scenario,
    backend: &dyn BackendFactory,
    options: &RunOptions,
) -> ScenarioResult {
    let started = Instant::now();
    let mut result = ScenarioResult {
        name: scenario.name.clone(),
        dir: scenario.dir.clone(),
        description: scenario.file.description.clone(),
        backend: backend.name().to_string(),
        verdict: Verdict::Pass,
        failures: Vec::new(),
        executions: Vec::new(),
        definitions: scenario
            .definitions
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        updated: Vec::new(),
        duration: Duration::ZERO,
    };
    let caps = backend.capabilities();
    let missing: Vec<&str> = scenario
        .requirements()
        .into_iter()
        .filter(|r| !caps.has(*r))
        .map(|r| r.as_str())
        .collect();
    if !missing.is_empty() {
        result.verdict =
            Verdict::NotApplicable(format!("{} lacks {}", backend.name(), missing.join(", ")));
        result.duration = started.elapsed();
        return result;
    }
    if let Err(e) = run_inner(scenario, backend, options, &mut result) {
        result.failures.push(format!("backend error: {e}"));
    }
    if !result.failures.is_empty() {
        result.verdict = Verdict::Fail;
    }
    result.duration = started.elapsed();
    result
}

fn run_inner(
    scenario: &Scenario,
    factory: &dyn BackendFactory,
    options: &RunOptions,
    result: &mut ScenarioResult,
) -> Result<(), BackendError> {
    let level = options.level.min(scenario.file.compare);
    let mut normalizer = Normalizer::new(&scenario.file.normalize)
        .map_err(|e| BackendError::new("InvalidScenario", e.to_string()))?;
    let mut backend = factory.session(&SessionSetup {
        mock_config: scenario.mock_config.clone(),
    })?;
    let mut activities = std::collections::BTreeMap::new();
    for name in &scenario.file.activities {
        activities.insert(name.clone(), backend.create_activity(name)?);
    }
    let mut arns = std::collections::BTreeMap::new();
    for (name, spec) in &scenario.file.state_machines {
        let text = &scenario.definitions[name];
        let created = backend.create_state_machine(name, text, spec.workflow_type);
        match (&spec.expect_invalid, created) {
            (None, Ok(arn)) => {
                arns.insert(name.clone(), arn);
            }
            (None, Err(e)) => {
                result
                    .failures
                    .push(format!("state machine {name}: cannot create it: {e}"));
            }
            (Some(_), Ok(arn)) => {
                result.failures.push(format!(
                    "state machine {name}: expected an invalid definition, but it was created"
                ));
                backend.delete_state_machine(&arn)?;
            }
            (Some(expected), Err(e)) => {
                if e.code != "InvalidDefinition" {
                    result.failures.push(format!(
                        "state machine {name}: expected InvalidDefinition, got {e}"
                    ));
                }
                for d in expected {
                    // AWS lists the diagnostics as "CODE: message at /location", joined
                    // with ", " inside quotes (messages may contain ", " themselves); the
                    // in-process engine writes them the same way.
                    let location = match &d.location {
                        Some(l) => format!(r" at {}(?:'|$|, [A-Z_]+: )", regex::escape(l)),
                        None => String::new(),
                    };
                    let pattern = format!(r"(?s){}: .*?{location}", regex::escape(&d.code));
                    let found = regex::Regex::new(&pattern).is_ok_and(|re| re.is_match(&e.message));
                    if !found {
                        result.failures.push(format!(
                            "state machine {name}: expected diagnostic {}{} in:\n  {}",
                            d.code,
                            d.location
                                .as_ref()
                                .map(|l| format!(" at {l}"))
                                .unwrap_or_default(),
                            e.message
                        ));
                    }
                }
            }
        }
    }
    if !result.failures.is_empty() {
        return Ok(());
    }
    for (from, to) in backend.aliases() {
        normalizer.add_alias(&from, &to);
    }
    // On a wall clock, events take milliseconds that a virtual clock does not have.
    normalizer.set_whole_seconds(!factory.capabilities().virtual_time);
    for (i, spec) in scenario.file.executions.iter().enumerate() {
        let machine = scenario.machine_of(spec).unwrap_or_default().to_string();
        let arn = arns[&machine].clone();
        let outcome = run_execution(
            backend.as_mut(),
            &arn,
            &machine,
            spec,
            &scenario.inputs[i],
            &activities,
            &mut normalizer,
        );
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                result
                    .failures
                    .push(format!("execution {}: backend error: {e}", spec.name));
                continue;
            }
        };
        check_execution(scenario, i, &outcome, level, options, &normalizer, result);
        result.executions.push(outcome);
    }
    Ok(())
}

fn run_execution(
    backend: &mut dyn Backend,
    arn: &str,
    machine: &str,
    spec: &ExecutionSpec,
    input: &str,
    activities: &std::collections::BTreeMap<String, String>,
    normalizer: &mut Normalizer,
) -> Result<ExecutionOutcome, BackendError> {
    let test_case = spec.test_case.as_deref();
    let (exec_arn, mut info) = if spec.sync {
        let info = backend.start_sync_execution(arn, &spec.name, input, test_case)?;
        (info.execution_arn.clone(), info)
    } else {
        let exec_arn = backend.start_execution(arn, &spec.name, input, test_case)?;
        let info = backend.settle(&exec_arn)?;
        (exec_arn, info)
    };
    for (j, c) in spec.callbacks.iter().enumerate() {
        let due = info.start_millis + (c.at * 1000.0).round() as i64;
        backend.advance_to(due)?;
        let token = match &c.state {
            Some(state) => {
                let waiting = backend.waiting_tasks(&exec_arn)?;
                let Some(w) = waiting.into_iter().find(|w| &w.state_name == state) else {
                    return Err(BackendError::new(
                        "ScriptFailed",
                        format!(
                            "callbacks[{j}]: at {}s no task of state '{state}' waits for a callback",
                            c.at
                        ),
                    ));
                };
                normalizer.add_token(&w.token);
                Some(w.token)
            }
            None => None,
        };
        let token = token.as_deref().unwrap_or_default();
        match c.action {
            CallbackAction::Success => {
                let output = c
                    .output
                    .clone()
                    .unwrap_or(Value::Object(Default::default()));
                backend.send_task_success(token, &output.to_string())?;
            }
            CallbackAction::Failure => {
                backend.send_task_failure(token, c.error.as_deref(), c.cause.as_deref())?;
            }
            CallbackAction::Heartbeat => backend.send_task_heartbeat(token)?,
            CallbackAction::Stop => {
                backend.stop_execution(&exec_arn, c.error.as_deref(), c.cause.as_deref())?
            }
            CallbackAction::Wait => {}
            CallbackAction::GetActivityTask => {
                let name = c.activity.as_deref().unwrap_or_default();
                let activity = activities.get(name).map(String::as_str).unwrap_or(name);
                match backend.get_activity_task(activity, c.worker.as_deref())? {
                    Some(token) => normalizer.add_token(&token),
                    None => {
                        return Err(BackendError::new(
                            "ScriptFailed",
                            format!(
                                "callbacks[{j}]: at {}s no task of activity '{name}' waits for a worker",
                                c.at
                            ),
                        ))
                    }
                }
            }
        }
        info = backend.settle(&exec_arn)?;
    }
    // Tasks still waiting at the end: their tokens are normalised too.
    if info.status == "RUNNING" {
        for w in backend.waiting_tasks(&exec_arn).unwrap_or_default() {
            normalizer.add_token(&w.token);
        }
    }
    // AWS keeps no GetExecutionHistory for Express executions (their ARNs name the
    // `express` resource type); a backend that logs them (capability `express_history`)
    // reads their events back from the logs.
    let raw = if exec_arn.contains(":express:") && !backend.keeps_express_history() {
        Vec::new()
    } else {
        backend.get_execution_history(&exec_arn)?
    };
    let history = normalizer.events(&raw);
    let info = ExecutionInfo {
        execution_arn: normalizer.string(&info.execution_arn),
        status: info.status,
        output: info.output.as_ref().map(|o| normalizer.value(o)),
        error: info.error.as_deref().map(|e| normalizer.string(e)),
        cause: info.cause.as_deref().map(|c| normalizer.string(c)),
        start_millis: info.start_millis,
    };
    Ok(ExecutionOutcome {
        name: spec.name.clone(),
        state_machine: machine.to_string(),
        info: Some(info),
        history,
    })
}

fn check_execution(
    scenario: &Scenario,
    i: usize,
    outcome: &ExecutionOutcome,
    level: Level,
    options: &RunOptions,
    normalizer: &Normalizer,
    result: &mut ScenarioResult,
) {
    let spec = &scenario.file.executions[i];
    let expect = &spec.expect;
    let Some(info) = &outcome.info else {
        return;
    };
    let who = format!("execution {}", spec.name);
    let mut summary_mismatch = false;
    if info.status != expect.status {
        summary_mismatch = true;
        let mut msg = format!(
            "{who}: status: expected {}, got {}",
            expect.status, info.status
        );
        if let Some(e) = &info.error {
            msg.push_str(&format!("\n  error: {e}"));
        }
        if let Some(c) = &info.cause {
            msg.push_str(&format!("\n  cause: {c}"));
        }
        result.failures.push(msg);
    }
    if let Some(want) = &expect.output {
        let want = normalizer.value(want);
        let got = info.output.clone().unwrap_or(Value::Null);
        if !json_equal(&want, &got) {
            summary_mismatch = true;
            let d = value_diff("output", &want, &got).unwrap_or_default();
            result.failures.push(format!("{who}: {d}"));
        }
    }
    if let Some(want) = &expect.error {
        let want = normalizer.string(want);
        if info.error.as_deref() != Some(want.as_str()) {
            summary_mismatch = true;
            result.failures.push(format!(
                "{who}: error: expected {want:?}, got {:?}",
                info.error
            ));
        }
    }
    if let Some(want) = &expect.cause {
        let want = normalizer.string(want);
        if level >= Level::Cause && info.cause.as_deref() != Some(want.as_str()) {
            summary_mismatch = true;
            let got = info.cause.clone().unwrap_or_default();
            result.failures.push(format!(
                "{who}: cause differs:\n  expected {want:?}\n  got      {got:?}\n{}",
                crate::diff::text_diff(&format!("{want}\n"), &format!("{got}\n"))
            ));
        }
    }
    if summary_mismatch && !outcome.history.is_empty() {
        // The history shows how the execution got where it did.
        result.failures.push(format!(
            "{who}: its history:\n{}",
            crate::report::history_text(&outcome.history)
        ));
    }
    let Some(file) = &expect.history else {
        return;
    };
    let path = scenario.dir.join(file);
    if options.update {
        let text = serde_json::to_string_pretty(&outcome.history).unwrap_or_default() + "\n";
        let same = std::fs::read_to_string(&path).is_ok_and(|t| t == text);
        if !same {
            match std::fs::write(&path, text) {
                Ok(()) => result.updated.push(path),
                Err(e) => result
                    .failures
                    .push(format!("{who}: cannot write {}: {e}", path.display())),
            }
        }
        return;
    }
    if level < Level::Types {
        return;
    }
    match &scenario.histories[i] {
        None => result.failures.push(format!(
            "{who}: golden history {} does not exist (write it with --update)",
            path.display()
        )),
        Some(golden) => {
            let want = normalizer.mask_events(golden, level);
            let got = normalizer.mask_events(&outcome.history, level);
            if let Some(d) = history_diff(&want, &got, level) {
                result
                    .failures
                    .push(format!("{who}: {d}(golden file {})", path.display()));
            }
        }
    }
}

/// A scenario that could not be loaded, as a failed result naming the file and field.
pub fn load_failure(
    dir: PathBuf,
    name: String,
    backend: &str,
    e: &ScenarioError,
) -> ScenarioResult {
    ScenarioResult {
        name,
        dir,
        description: String::new(),
        backend: backend.to_string(),
        verdict: Verdict::Fail,
        failures: vec![format!("invalid scenario: {e}")],
        executions: Vec::new(),
        definitions: Vec::new(),
        updated: Vec::new(),
        duration: Duration::ZERO,
    }
}

/// Loads and runs every scenario of `dirs` ((scenario directory, root) pairs) on
/// `backend`, `jobs` at a time, calling `progress` after each; results in `dirs` order.
pub fn run_all(
    dirs: &[(PathBuf, PathBuf)],
    backend: &dyn BackendFactory,
    options: &RunOptions,
    jobs: usize,
    progress: &(dyn Fn(&ScenarioResult) + Sync),
) -> Vec<ScenarioResult> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<ScenarioResult>>> = Mutex::new(vec![None; dirs.len()]);
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, dirs.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((dir, root)) = dirs.get(i) else {
                    break;
                };
                let r = match Scenario::load(dir, root) {
                    Ok(sc) => run_scenario(&sc, backend, options),
                    Err(e) => {
                        let name = dir
                            .strip_prefix(root)
                            .unwrap_or(dir)
                            .to_string_lossy()
                            .into_owned();
                        load_failure(dir.clone(), name, backend.name(), &e)
                    }
                };
                progress(&r);
                if let Ok(mut all) = results.lock() {
                    all[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}
