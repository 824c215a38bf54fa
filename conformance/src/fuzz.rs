//! Fuzzing campaigns: many generated workflows, every invariant and relation on each, and
//! the failures shrunk to small workflows. `stepcheck fuzz --cases N` calls [`campaign`].
//!
//! The workflows run on a [`Backend`]. Today the only one is [`InProcess`]; a differential
//! backend (an emulator over HTTP, AWS) will implement the same trait, and the campaign then
//! checks its histories with the same invariants. The metamorphic relations always run on
//! the in-process engine, since they test the engine itself.

use crate::gen::{case, render, Case, Limits, Rendered};
use crate::run::{self, RunOptions};
use crate::{check, relations};
use engine::{Execution, ExecutionResult, ExecutionStatus};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;
use std::fmt;
use std::time::{Duration, Instant};

/// Something that runs executions of a rendered workflow.
pub trait Backend {
    /// A short name for reports.
    fn name(&self) -> &str;

    /// Runs one execution to its end.
    fn run(
        &mut self,
        rendered: &Rendered,
        input: &Value,
        options: RunOptions<'_>,
    ) -> Result<ExecutionResult, String>;
}

/// The in-process engine.
#[derive(Debug, Default, Clone, Copy)]
pub struct InProcess;

impl Backend for InProcess {
    fn name(&self) -> &str {
        "in-process"
    }

    fn run(
        &mut self,
        rendered: &Rendered,
        input: &Value,
        options: RunOptions<'_>,
    ) -> Result<ExecutionResult, String> {
        run::run(rendered, input, options).map_err(|e| e.to_string())
    }
}

/// What one case contributed to a report.
#[derive(Debug, Clone, Copy, Default)]
pub struct CaseStats {
    /// The states of the definition.
    pub states: usize,
    /// The events of its history.
    pub events: usize,
    /// Whether the execution succeeded.
    pub succeeded: bool,
}

/// Runs one case on `backend` and checks it: the definition validates and survives a
/// serialize/parse round trip, the run ends within the step budget, its history keeps every
/// invariant of [`check::history`], the same seed replays the same history, and (on the
/// in-process engine) the metamorphic relations hold. `prepare` is applied to each
/// execution the backend starts (tests inject faults with it).
pub fn check_case(
    backend: &mut dyn Backend,
    case: &Case,
    prepare: Option<&dyn Fn(Execution) -> Execution>,
) -> Result<CaseStats, String> {
    let rendered = render(&case.workflow);
    let text = rendered.text();
    let diagnostics = engine::validate(&text);
    if !diagnostics.is_empty() {
        return Err(format!("the definition does not validate: {diagnostics:?}"));
    }
    let reparsed: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    if reparsed != rendered.definition {
        return Err("the definition changes in a serialize/parse round trip".into());
    }
    let options = RunOptions {
        seed: case.seed,
        prepare,
        ..RunOptions::default()
    };
    let result = backend
        .run(&rendered, &case.input, options)
        .map_err(|e| format!("run: {e}"))?;
    check::history(&rendered, &result)?;
    let again = backend
        .run(&rendered, &case.input, options)
        .map_err(|e| format!("second run: {e}"))?;
    if again.history != result.history {
        return Err(format!(
            "seed {} does not replay the same history",
            case.seed
        ));
    }
    if prepare.is_none() {
        relations(case, &rendered)?;
    }
    Ok(CaseStats {
        states: case.workflow.state_count(),
        events: result.history.len(),
        succeeded: result.status == ExecutionStatus::Succeeded,
    })
}

/// [`check_case`], with a panic turned into a failure (a campaign must survive the engine
/// panicking, and shrink the case that made it panic).
pub fn check_case_guarded(
    backend: &mut dyn Backend,
    case: &Case,
    prepare: Option<&dyn Fn(Execution) -> Execution>,
) -> Result<CaseStats, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        check_case(backend, case, prepare)
    }))
    .unwrap_or_else(|panic| {
        let text = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(format!("panic: {text}"))
    })
}

/// Every metamorphic relation of [`relations`] on one case (the data-flow pairs have their
/// own generator and test).
pub fn relations(case: &Case, rendered: &Rendered) -> Result<(), String> {
    let (input, seed) = (&case.input, case.seed);
    relations::seeds_agree(
        &case.workflow,
        rendered,
        input,
        (seed, seed.wrapping_add(1)),
    )
    .map_err(|e| format!("seeds: {e}"))?;
    relations::retry_zero_is_no_retry(&case.workflow, input, seed)
        .map_err(|e| format!("Retry MaxAttempts 0: {e}"))?;
    relations::standard_is_express(&case.workflow, rendered, input, seed)
        .map_err(|e| format!("Standard vs Express: {e}"))?;
    relations::parallel_of_one(&case.workflow, rendered, input, seed)
        .map_err(|e| format!("Parallel: {e}"))?;
    relations::map_of_one(&case.workflow, rendered, input, seed)
        .map_err(|e| format!("Map: {e}"))?;
    relations::sync2_child(&case.workflow, rendered, input, seed)
        .map_err(|e| format!(".sync:2: {e}"))?;
    relations::callbacks_equal_mocks(&case.workflow, input, seed)
        .map_err(|e| format!("callbacks: {e}"))?;
    Ok(())
}

/// A failing case, shrunk.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What failed.
    pub message: String,
    /// The shrunk workflow's definition (pretty JSON).
    pub definition: String,
    /// What its Task states' mocks do, one line per state.
    pub mocks: String,
    /// Its input.
    pub input: Value,
    /// Its seed.
    pub seed: u64,
    /// How many states it has.
    pub states: usize,
}

/// The most characters of a failure message a report prints (outputs can be large).
const MESSAGE_CHARS: usize = 2_000;

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message.char_indices().nth(MESSAGE_CHARS) {
            Some((cut, _)) => writeln!(f, "{}... (cut)", &self.message[..cut])?,
            None => writeln!(f, "{}", self.message)?,
        }
        writeln!(
            f,
            "input: {}  seed: {}  states: {}",
            self.input, self.seed, self.states
        )?;
        write!(f, "{}{}", self.mocks, self.definition)
    }
}

/// The result of a campaign.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The backend's name.
    pub backend: String,
    /// Cases generated and checked.
    pub cases: u64,
    /// Executions that succeeded (the others failed on purpose: Fail states, errors).
    pub succeeded: u64,
    /// States over all definitions.
    pub states: u64,
    /// Events over all histories.
    pub events: u64,
    /// Failing cases, shrunk.
    pub failures: Vec<Failure>,
    /// Wall time of the campaign.
    pub elapsed: Duration,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} cases on {} in {:.1} s: {} succeeded, {} failed on purpose, {} states, {} events, {} failure(s)",
            self.cases,
            self.backend,
            self.elapsed.as_secs_f64(),
            self.succeeded,
            self.cases - self.succeeded,
            self.states,
            self.events,
            self.failures.len()
        )?;
        for x in &self.failures {
            writeln!(f, "{x}")?;
        }
        Ok(())
    }
}

/// The most failures a campaign shrinks and keeps before it stops early.
pub const MAX_FAILURES: usize = 5;

/// The most shrinking steps spent on one failure.
const SHRINK_STEPS: u32 = 4_000;

/// A proptest runner whose random stream comes from `seed` alone.
pub fn runner(seed: u64) -> TestRunner {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(
            &(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)).to_le_bytes(),
        );
    }
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}

/// Shrinks a failing value tree: simplifies while the case still fails, and returns the
/// simplest failing case with its message.
pub fn shrink<T: ValueTree<Value = Case>>(
    tree: &mut T,
    first: String,
    mut fails: impl FnMut(&Case) -> Result<(), String>,
) -> (Case, String) {
    let mut best = (tree.current(), first);
    if !tree.simplify() {
        return best;
    }
    for _ in 0..SHRINK_STEPS {
        let current = tree.current();
        match fails(&current) {
            Err(message) => {
                best = (current, message);
                if !tree.simplify() {
                    break;
                }
            }
            Ok(()) => {
                if !tree.complicate() {
                    break;
                }
            }
        }
    }
    best
}

/// The most candidates [`minimize`] tries.
const MINIMIZE_TRIES: u32 = 3_000;

/// Simplifies a failing case further than proptest can: tries the one-edit simplifications
/// of [`crate::gen::simpler`] (a loop replaced by its body, a Parallel by a branch, a Retry
/// dropped, ...) and keeps the first that still fails, until none does.
pub fn minimize(
    case: Case,
    message: String,
    mut fails: impl FnMut(&Case) -> Result<(), String>,
) -> (Case, String) {
    let mut best = (case, message);
    let mut tries = MINIMIZE_TRIES;
    'search: loop {
        for candidate in crate::gen::simpler(&best.0) {
            if tries == 0 {
                break 'search;
            }
            tries -= 1;
            if let Err(message) = fails(&candidate) {
                best = (candidate, message);
                continue 'search;
            }
        }
        break;
    }
    best
}

/// Runs `cases` generated workflows on the in-process engine, from a seed.
pub fn campaign(cases: u64, seed: u64) -> Report {
    campaign_with(&mut InProcess, cases, seed)
}

/// Runs `cases` generated workflows on `backend`, from a seed. Stops early after
/// [`MAX_FAILURES`] failures.
pub fn campaign_with(backend: &mut dyn Backend, cases: u64, seed: u64) -> Report {
    let started = Instant::now();
    let mut runner = runner(seed);
    let strategy = case(Limits::default());
    let mut report = Report {
        backend: backend.name().to_string(),
        ..Report::default()
    };
    for _ in 0..cases {
        let Ok(mut tree) = strategy.new_tree(&mut runner) else {
            continue;
        };
        report.cases += 1;
        let c = tree.current();
        match check_case_guarded(backend, &c, None) {
            Ok(stats) => {
                report.states += stats.states as u64;
                report.events += stats.events as u64;
                report.succeeded += u64::from(stats.succeeded);
            }
            Err(message) => {
                let (small, message) = shrink(&mut tree, message, |c| {
                    check_case_guarded(backend, c, None).map(|_| ())
                });
                let (small, message) = minimize(small, message, |c| {
                    check_case_guarded(backend, c, None).map(|_| ())
                });
                report.failures.push(Failure {
                    message,
                    definition: render(&small.workflow).text(),
                    mocks: render(&small.workflow).mocks_text(),
                    input: small.input.clone(),
                    seed: small.seed,
                    states: small.workflow.state_count(),
                });
                if report.failures.len() >= MAX_FAILURES {
                    break;
                }
            }
        }
    }
    report.elapsed = started.elapsed();
    report
}
