//! The typed model the generators produce. Shrinking acts on these values (fewer steps,
//! smaller numbers, simpler rules), and [`super::render`] turns them into ASL JSON, so a
//! shrunk counterexample is always a valid and readable workflow.

use serde_json::Value;

/// A generated workflow: a sequence of steps at the top level and how it ends.
#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    /// The top level.
    pub body: Seq,
}

/// A sequence of steps that runs in order (a state machine, a Parallel branch, a Map
/// iteration's processor, or a loop body), ending in a Succeed or Fail state.
#[derive(Debug, Clone, PartialEq)]
pub struct Seq {
    /// The steps, in order. A step may be several states (a loop is three plus its body).
    pub steps: Vec<Step>,
    /// How the sequence ends.
    pub end: End,
}

/// How a sequence ends.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    /// A Succeed state.
    Succeed,
    /// A Fail state with this error name.
    Fail(ErrorName),
}

/// The error names that generated tasks throw and Fail states raise. Retriers and catchers
/// choose among the same names, plus `States.ALL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorName {
    /// `Err.A`.
    A,
    /// `Err.B`.
    B,
}

impl ErrorName {
    /// The name as written in the definition.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorName::A => "Err.A",
            ErrorName::B => "Err.B",
        }
    }
    /// The cause that goes with the error, from a mock or a Fail state alike, so that two
    /// failures with the same name cannot be told apart (see [`Workflow::race_free`]).
    pub fn cause(self) -> &'static str {
        match self {
            ErrorName::A => "thrown Err.A",
            ErrorName::B => "thrown Err.B",
        }
    }
}

/// What a Retry or Catch entry matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Matcher {
    /// One named error.
    Named(ErrorName),
    /// `States.ALL`. It must be the last entry of its list, so the renderer puts it last.
    All,
}

impl Matcher {
    /// Whether this matcher catches `error` (a task's error: `States.ALL` catches any).
    pub fn matches(self, error: ErrorName) -> bool {
        match self {
            Matcher::Named(n) => n == error,
            Matcher::All => true,
        }
    }
}

/// One Retry entry, without jitter so that the backoff formula can be checked exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrier {
    /// What it matches.
    pub matcher: Matcher,
    /// `IntervalSeconds` (at least 1).
    pub interval_seconds: u32,
    /// `MaxAttempts` (0 means this retrier never retries).
    pub max_attempts: u32,
    /// `BackoffRate` in tenths (10 is 1.0).
    pub backoff_tenths: u32,
    /// `MaxDelaySeconds`, when set.
    pub max_delay_seconds: Option<u32>,
}

impl Retrier {
    /// The backoff rate as ASL writes it.
    pub fn backoff_rate(&self) -> f64 {
        f64::from(self.backoff_tenths) / 10.0
    }

    /// The delay before retry number `count` (0 for the first retry) in milliseconds:
    /// `IntervalSeconds × BackoffRate^count`, capped by `MaxDelaySeconds`.
    pub fn delay_ms(&self, count: u32) -> i64 {
        let mut delay = f64::from(self.interval_seconds) * self.backoff_rate().powi(count as i32);
        if let Some(max) = self.max_delay_seconds {
            delay = delay.min(f64::from(max));
        }
        (delay * 1000.0).round() as i64
    }
}

/// How a generated task behaves: it fails its first `fail_first` attempts with `error`,
/// then succeeds with `{"v": result}`; each attempt takes `duration_ms` of virtual time. The
/// answer depends only on the attempt number, so interleavings cannot change it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskMock {
    /// How many attempts fail before one succeeds.
    pub fail_first: u32,
    /// The error the failing attempts throw.
    pub error: ErrorName,
    /// The result of a successful attempt (the Lambda payload is `{"v": result}`).
    pub result: i64,
    /// Virtual milliseconds each attempt takes.
    pub duration_ms: u32,
}

impl TaskMock {
    /// The outcome of attempt `attempt` (0 for the first): `Err(error)` or `Ok(payload)`.
    pub fn attempt(&self, attempt: u32) -> Result<Value, ErrorName> {
        if attempt < self.fail_first {
            Err(self.error)
        } else {
            Ok(serde_json::json!({ "v": self.result }))
        }
    }
}

/// One Catch entry; the catcher goes on to the next step with the error output at
/// `$.e<n>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Catcher {
    /// What it matches.
    pub matcher: Matcher,
}

/// A Choice rule over the document shape the generated inputs have (`a`: integer,
/// `b`: string, `xs`: integers).
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// `$.a > n`.
    AGreater(i64),
    /// `$.b == s`.
    BEquals(String),
    /// `IsPresent` on `$.xs[0]` (the list is not empty).
    XsNonEmpty,
    /// `Not`.
    Not(Box<Rule>),
    /// `And` of two rules.
    And(Box<Rule>, Box<Rule>),
    /// `Or` of two rules.
    Or(Box<Rule>, Box<Rule>),
}

/// How a Pass state computes its result.
#[derive(Debug, Clone, PartialEq)]
pub enum PassKind {
    /// No Result, no Parameters: the input passes through.
    Identity,
    /// `Result` with a constant, at `$.o<n>`.
    Result(Value),
    /// `Parameters` copying `$.a` and a constant, at `$.o<n>`.
    Copy(i64),
    /// `Parameters` with intrinsics: `States.Format('{}-{}', $.a, $.b)` and
    /// `States.MathAdd($.a, k)`, at `$.o<n>`.
    Intrinsics(i64),
}

/// One step of a sequence.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A Pass state.
    Pass(PassKind),
    /// A Wait state of this many virtual seconds.
    Wait(u32),
    /// A Task state on a generated mock.
    Task {
        /// How the mock answers.
        mock: TaskMock,
        /// `Parameters: {"a.$": "$.a"}` instead of the whole input as the payload.
        parameters: bool,
        /// `ResultSelector: {"w.$": "$.v"}`.
        selector: bool,
        /// Where the result goes: `$.o<n>` (true) or nowhere (`ResultPath: null`).
        keep_result: bool,
        /// The Retry entries.
        retry: Vec<Retrier>,
        /// The Catch entries.
        catch: Vec<Catcher>,
    },
    /// A Choice that skips the next `skip` steps when `rule` holds.
    Choice {
        /// The rule.
        rule: Rule,
        /// How many following steps to skip (past the end means to the sequence's end).
        skip: u8,
    },
    /// A loop that runs `body` `times` times, counting with a variable and
    /// `States.MathAdd`, tested by a Choice.
    Loop {
        /// How many times the body runs (at least once: the test comes after the body).
        times: u8,
        /// The body (its `end` is not used: the body goes on to the counter).
        body: Vec<Step>,
    },
    /// A Parallel state; its result (one entry per branch) goes to `$.o<n>`.
    Parallel {
        /// The branches.
        branches: Vec<Seq>,
        /// The Retry entries (matching the branches' errors).
        retry: Vec<Retrier>,
        /// The Catch entries.
        catch: Vec<Catcher>,
    },
    /// An inline Map over `$.xs`; each iteration sees `{"a": item, "b", "xs"}` and the
    /// results go to `$.o<n>`.
    Map {
        /// The processor.
        body: Seq,
        /// `MaxConcurrency` (0 is unlimited).
        max_concurrency: u32,
        /// `None` for an inline Map; `Some(n)` for a Distributed Map (child executions of
        /// type EXPRESS) with `ToleratedFailureCount: n`.
        tolerated: Option<u32>,
        /// The Retry entries.
        retry: Vec<Retrier>,
        /// The Catch entries.
        catch: Vec<Catcher>,
    },
}

impl Workflow {
    /// How many states the rendered definition has, nested ones included.
    pub fn state_count(&self) -> usize {
        self.body.state_count()
    }

    /// Whether no interleaving of branches or iterations can change the outcome: every
    /// Parallel and Map state can fail with at most one error name (a failure's error and
    /// cause depend only on its name). When two branches can fail with different errors,
    /// which one fails first, and so the error the state reports, depends on the scheduler,
    /// as it does on AWS.
    pub fn race_free(&self) -> bool {
        self.body.race_free()
    }

    /// The same workflow with every retrier's MaxAttempts set to 0.
    pub fn with_zero_retries(&self) -> Workflow {
        let mut w = self.clone();
        w.body.map_retriers(&mut |r| {
            for x in r.iter_mut() {
                x.max_attempts = 0;
            }
        });
        w
    }

    /// Whether the workflow has a Parallel or Map state anywhere.
    pub fn has_concurrency(&self) -> bool {
        fn steps(s: &[Step]) -> bool {
            s.iter().any(|st| match st {
                Step::Parallel { .. } | Step::Map { .. } => true,
                Step::Loop { body, .. } => steps(body),
                _ => false,
            })
        }
        steps(&self.body.steps)
    }

    /// The same workflow with every task taking at least `ms` virtual milliseconds.
    pub fn with_min_task_duration(&self, ms: u32) -> Workflow {
        fn seq(s: &mut Seq, ms: u32) {
            s.steps.iter_mut().for_each(|st| step(st, ms));
        }
        fn step(s: &mut Step, ms: u32) {
            match s {
                Step::Task { mock, .. } => mock.duration_ms = mock.duration_ms.max(ms),
                Step::Loop { body, .. } => body.iter_mut().for_each(|st| step(st, ms)),
                Step::Parallel { branches, .. } => branches.iter_mut().for_each(|b| seq(b, ms)),
                Step::Map { body, .. } => seq(body, ms),
                _ => {}
            }
        }
        let mut w = self.clone();
        seq(&mut w.body, ms);
        w
    }

    /// The same workflow without any Retry field.
    pub fn without_retries(&self) -> Workflow {
        let mut w = self.clone();
        w.body.map_retriers(&mut |r| r.clear());
        w
    }

    /// Whether any task takes virtual time or any state waits (the Standard/Express
    /// relation skips workflows that could outlast Express's five minutes).
    pub fn max_duration_ms(&self) -> u64 {
        self.body.max_duration_ms()
    }
}

impl Seq {
    /// The errors this sequence can raise somewhere inside (an over-approximation: caught
    /// and retried errors count too).
    fn errors(&self, out: &mut Vec<&'static str>) {
        if let End::Fail(e) = self.end {
            out.push(e.as_str());
        }
        for s in &self.steps {
            s.errors(out);
        }
    }

    fn race_free(&self) -> bool {
        self.steps.iter().all(Step::race_free)
    }

    fn state_count(&self) -> usize {
        1 + self.steps.iter().map(Step::state_count).sum::<usize>()
    }

    fn map_retriers(&mut self, f: &mut dyn FnMut(&mut Vec<Retrier>)) {
        for s in &mut self.steps {
            s.map_retriers(f);
        }
    }

    fn max_duration_ms(&self) -> u64 {
        self.steps.iter().map(Step::max_duration_ms).sum()
    }
}

fn retry_budget_ms(retry: &[Retrier]) -> u64 {
    retry
        .iter()
        .map(|r| {
            (0..r.max_attempts)
                .map(|c| r.delay_ms(c) as u64)
                .sum::<u64>()
        })
        .sum()
}

fn one_error(seqs: &[&Seq]) -> bool {
    let mut errors = Vec::new();
    for s in seqs {
        s.errors(&mut errors);
    }
    errors.sort_unstable();
    errors.dedup();
    errors.len() <= 1
}

impl Step {
    fn errors(&self, out: &mut Vec<&'static str>) {
        match self {
            Step::Task { mock, .. } if mock.fail_first > 0 => out.push(mock.error.as_str()),
            // A Distributed Map whose children fail reports the threshold, not their error.
            Step::Map {
                body,
                tolerated: Some(_),
                ..
            } => {
                let mut inner = Vec::new();
                body.errors(&mut inner);
                if !inner.is_empty() {
                    out.push("States.ExceedToleratedFailureThreshold");
                }
            }
            Step::Loop { body, .. } => body.iter().for_each(|s| s.errors(out)),
            Step::Parallel { branches, .. } => branches.iter().for_each(|b| b.errors(out)),
            Step::Map { body, .. } => body.errors(out),
            _ => {}
        }
    }

    fn race_free(&self) -> bool {
        match self {
            Step::Loop { body, .. } => body.iter().all(Step::race_free),
            Step::Parallel { branches, .. } => {
                one_error(&branches.iter().collect::<Vec<_>>())
                    && branches.iter().all(Seq::race_free)
            }
            // A Distributed Map that tolerates failures puts the failed children's
            // descriptions (ARNs with seeded UUIDs) in its output, so its output depends on
            // the seed.
            Step::Map {
                body,
                tolerated: Some(n),
                ..
            } if *n > 0 => {
                let mut errors = Vec::new();
                body.errors(&mut errors);
                errors.is_empty() && body.race_free()
            }
            Step::Map { body, .. } => one_error(&[body]) && body.race_free(),
            _ => true,
        }
    }

    fn state_count(&self) -> usize {
        match self {
            Step::Loop { body, .. } => 3 + body.iter().map(Step::state_count).sum::<usize>(),
            Step::Parallel { branches, .. } => {
                1 + branches.iter().map(Seq::state_count).sum::<usize>()
            }
            Step::Map { body, .. } => 1 + body.state_count(),
            _ => 1,
        }
    }

    fn map_retriers(&mut self, f: &mut dyn FnMut(&mut Vec<Retrier>)) {
        match self {
            Step::Task { retry, .. } => f(retry),
            Step::Loop { body, .. } => {
                for s in body {
                    s.map_retriers(f);
                }
            }
            Step::Parallel {
                branches, retry, ..
            } => {
                f(retry);
                for b in branches {
                    b.map_retriers(f);
                }
            }
            Step::Map { body, retry, .. } => {
                f(retry);
                body.map_retriers(f);
            }
            _ => {}
        }
    }

    /// An upper bound of the virtual time this step can take (items of a Map at most 3).
    fn max_duration_ms(&self) -> u64 {
        match self {
            Step::Wait(s) => u64::from(*s) * 1000,
            Step::Task { mock, retry, .. } => {
                let attempts = 1 + retry.iter().map(|r| u64::from(r.max_attempts)).sum::<u64>();
                attempts * u64::from(mock.duration_ms) + retry_budget_ms(retry)
            }
            Step::Loop { times, body } => {
                u64::from(*times) * body.iter().map(Step::max_duration_ms).sum::<u64>()
            }
            Step::Parallel {
                branches, retry, ..
            } => {
                let attempts = 1 + retry.iter().map(|r| u64::from(r.max_attempts)).sum::<u64>();
                let one = branches.iter().map(Seq::max_duration_ms).max().unwrap_or(0);
                attempts * one + retry_budget_ms(retry)
            }
            Step::Map { body, retry, .. } => {
                let attempts = 1 + retry.iter().map(|r| u64::from(r.max_attempts)).sum::<u64>();
                attempts * 3 * body.max_duration_ms() + retry_budget_ms(retry)
            }
            _ => 0,
        }
    }
}
