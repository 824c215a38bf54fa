//! The typed, compiled form of a state machine definition.
//!
//! [`Definition::parse`] validates the text (every diagnostic, see `validate`), then compiles
//! it: paths, payload templates, intrinsic calls and Choice rules are parsed once here, and
//! `Next` names become state indices, so the interpreter's step loop never parses anything.

use crate::choice::Rule;
use crate::diagnostics::{Diagnostic, DiagnosticCode, Severity};
use crate::jsonpath::JsonPath;
use crate::query::JTemplate;
use crate::template::Template;
use serde_json::{Map, Value};
use smol_str::SmolStr;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// The name of a state, unique across the whole definition. A `SmolStr`, because the state's
/// events carry it and a Standard execution records two a transition: a name of up to 23
/// bytes is copied inline, and a longer one is shared. (A `String` cost two allocations a
/// transition; an `Arc<str>` four atomic operations, clones and drops, which perf put at
/// about 15 % of a Standard Parallel run.)
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateName(pub SmolStr);

impl StateName {
    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Index of a state inside its [`StateMachine`] (top level or branch).
pub(crate) type StateIdx = usize;

/// A validated, compiled state machine definition.
#[derive(Debug, Clone)]
pub struct Definition {
    pub(crate) machine: Arc<StateMachine>,
    /// Every machine of the definition (the top level, Parallel branches, Map processors),
    /// each at its `StateMachine::id`. A fiber names its machine by id, and the step loop
    /// holds this list once and borrows a fiber's state from it, instead of cloning an `Arc`
    /// at every step (two atomic operations, measured at 4 % to 13 % of a Parallel step's
    /// wall time) and for every branch or iteration.
    pub(crate) machines: Arc<[Arc<StateMachine>]>,
    /// The definition as parsed JSON, kept for re-serialisation by drivers.
    source: Value,
    /// The first capability the definition needs that the engine lacks, found at parse time.
    pub(crate) unsupported: Option<String>,
    /// Whether any string mentions `$$`: only then is the context object built.
    pub(crate) uses_context: bool,
    /// CreateStateMachine's InvalidDefinition message for this definition as a Standard
    /// (`[0]`) and as an Express (`[1]`) workflow, when it refuses it. Found once here,
    /// because walking the definition on every start was a tenth of a short execution's cost.
    pub(crate) refused: [Option<String>; 2],
    /// How many events a Standard execution records on a run through every state once (a
    /// Map's processor counted once), so that its history starts with room for them: for a
    /// Parallel state of 100 inner states, growing the list from the top level's 4 events
    /// copied it seven times and was a tenth of the execution's cost.
    pub(crate) expected_events: usize,
}

/// Validates a definition's text as CreateStateMachine does and returns every problem found:
/// the structural checks, then (when the structure is sound) what compiling finds, such as
/// malformed intrinsic function calls. An empty list means the definition is valid.
pub fn validate(text: &str) -> Vec<Diagnostic> {
    let mut diags = crate::validate::validate(text);
    if diags.iter().any(|d| d.severity == Severity::Error) {
        return diags;
    }
    if let Ok(source) = serde_json::from_str::<Value>(text) {
        let mut c = Compiler::default();
        c.machine(&source, "");
        diags.extend(c.diags);
    }
    diags
}

impl Definition {
    /// Validates and compiles a definition's JSON text. On failure, returns every diagnostic.
    pub fn parse(text: &str) -> Result<Definition, Vec<Diagnostic>> {
        let diags: Vec<Diagnostic> = crate::validate::validate(text)
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        if !diags.is_empty() {
            return Err(diags);
        }
        let source: Value = serde_json::from_str(text).map_err(|e| {
            vec![Diagnostic::error(
                DiagnosticCode::InvalidJsonDescription,
                "/",
                e.to_string(),
            )]
        })?;
        let mut c = Compiler::default();
        let machine = c.machine(&source, "");
        if !c.diags.is_empty() {
            return Err(c.diags);
        }
        let machine = Arc::new(machine.expect("a machine compiles when no diagnostic is reported"));
        let mut machines = Vec::with_capacity(c.machines_made);
        collect_machines(&machine, &mut machines);
        let mut definition = Definition {
            machine,
            machines: machines.into(),
            source,
            unsupported: None,
            uses_context: false,
            refused: [None, None],
            expected_events: 0,
        };
        definition.expected_events = definition.machine.expected_events();
        definition.refused = [false, true].map(|express| {
            let refused = crate::sync_task::express_refusals(&definition.source, express);
            (!refused.is_empty()).then(|| crate::sync_task::invalid_definition_message(&refused))
        });
        definition.unsupported = definition.find_unsupported();
        definition.uses_context = definition.source_mentions_context();
        Ok(definition)
    }

    /// The definition as JSON.
    pub fn source(&self) -> &Value {
        &self.source
    }

    /// The top-level `TimeoutSeconds`, if any.
    pub fn timeout_seconds(&self) -> Option<u64> {
        self.machine.timeout_seconds
    }
}

/// A list of states with a start: the top level, a Parallel branch or a Map processor.
#[derive(Debug, Clone)]
pub(crate) struct StateMachine {
    pub states: Vec<State>,
    pub start: StateIdx,
    pub timeout_seconds: Option<u64>,
    /// Its place in `Definition::machines`: machines are numbered in the order they are
    /// built, nested ones before the machine around them.
    pub id: usize,
}

/// Appends `m` and every machine nested in it to `out`, in the order the compiler built them
/// (nested machines first, in the order of their states), so that each lands at its id.
fn collect_machines(m: &Arc<StateMachine>, out: &mut Vec<Arc<StateMachine>>) {
    for s in &m.states {
        match &s.kind {
            StateKind::Parallel(p) => p.branches.iter().for_each(|b| collect_machines(b, out)),
            StateKind::Map(spec) => collect_machines(&spec.processor, out),
            _ => {}
        }
    }
    debug_assert_eq!(
        m.id,
        out.len(),
        "machines are collected in the order they were built"
    );
    out.push(m.clone());
}

impl StateMachine {
    /// The events of a Standard execution of this machine that runs through every state
    /// once: its own started and ended events and `events_per_pass`, within the quota.
    pub fn expected_events(&self) -> usize {
        (2 + self.events_per_pass()).min(crate::interpreter::MAX_HISTORY_EVENTS as usize)
    }

    /// The events of one run through every state: Entered and Exited, and for a Parallel or
    /// Map state its own started and succeeded events and its branches' (a Map's processor
    /// counted once, with its iteration's started and succeeded events).
    pub fn events_per_pass(&self) -> usize {
        self.states
            .iter()
            .map(|s| {
                2 + match &s.kind {
                    StateKind::Parallel(p) => {
                        2 + p
                            .branches
                            .iter()
                            .map(|b| b.events_per_pass())
                            .sum::<usize>()
                    }
                    StateKind::Map(m) => 4 + m.processor.events_per_pass(),
                    _ => 0,
                }
            })
            .sum()
    }
}

/// One compiled state.
#[derive(Debug, Clone)]
pub(crate) struct State {
    pub name: StateName,
    pub kind: StateKind,
    /// `InputPath`: `None` when `null` (the input becomes `{}`).
    pub input_path: Option<JsonPath>,
    /// `OutputPath`: `None` when `null` (the output becomes `{}`).
    pub output_path: Option<JsonPath>,
    /// `Assign` (JSONPath mode), compiled as a payload template. On a Choice state it is
    /// the assignment of the `Default` branch (assumption: AWS evaluates the state-level
    /// Assign of a Choice only when no rule matched, as the recorded cases show).
    pub assign: Option<Template>,
    pub next: Transition,
    /// Whether `InputPath` and `OutputPath` are both `$`, so that the output is the input
    /// with the result placed by ResultPath (worked out once: the step loop asks on every
    /// Pass state).
    pub whole_paths: bool,
    /// The JSONata fields, for a state whose query language is JSONata (its JSONPath fields
    /// above are then unused: `InputPath`/`OutputPath` are `$`, `assign` is `None`).
    pub jsonata: Option<Box<JsonataFields>>,
}

/// Whether both paths are `$` (see [`State::whole_paths`]).
pub(crate) fn whole_paths(input_path: Option<&JsonPath>, output_path: Option<&JsonPath>) -> bool {
    let whole = |p: Option<&JsonPath>| {
        p.is_some_and(|p| p.is_root() && *p.root() == crate::jsonpath::PathRoot::Input)
    };
    whole(input_path) && whole(output_path)
}

/// The fields of a JSONata state that have no JSONPath counterpart in [`StateKind`].
#[derive(Debug, Clone, Default)]
pub(crate) struct JsonataFields {
    /// `Output`: the state's output (default: the result, or the input for states without
    /// one). On a Choice state, the output of the `Default` branch.
    pub output: Option<JTemplate>,
    /// `Assign`. On a Choice state, the assignment of the `Default` branch.
    pub assign: Option<JTemplate>,
    /// `Arguments` (Task: the parameters; Parallel: the branches' input).
    pub arguments: Option<JTemplate>,
    /// `Items` (Map): the items (default: the input, which must be an array).
    pub items: Option<JTemplate>,
    /// `ItemSelector` (Map).
    pub item_selector: Option<JTemplate>,
}

/// Where a state goes when it completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    /// To the state with this index.
    Next(StateIdx),
    /// The execution (or branch) ends here.
    End,
    /// The state decides (Choice) or never completes normally (Fail).
    None,
}

/// `ResultPath`.
#[derive(Debug, Clone)]
pub(crate) enum ResultPath {
    /// `$` (the default): the result replaces the input.
    Replace,
    /// `null`: the result is discarded and the input passes through.
    Discard,
    /// A reference path: the result is written there, inside the input.
    At(JsonPath),
}

/// What a state does.
#[derive(Debug, Clone)]
pub(crate) enum StateKind {
    /// Passes its input (or `Result`) to its output.
    Pass {
        parameters: Option<Template>,
        result: Option<Value>,
        result_path: ResultPath,
    },
    /// Waits, then continues.
    Wait(WaitFor),
    /// Picks the next state from rules.
    Choice {
        choices: Vec<ChoiceBranch>,
        default: Option<StateIdx>,
    },
    /// Ends the execution (or branch) successfully.
    Succeed,
    /// Ends the execution with an error.
    Fail { error: ErrorText, cause: ErrorText },
    /// Does work through a [`crate::TaskHandler`].
    Task(Box<TaskSpec>),
    /// Runs its branches concurrently; the output is the array of their outputs.
    Parallel(Box<ParallelSpec>),
    /// Runs its item processor once per item (inline mode).
    Map(Box<MapSpec>),
    /// A state the engine cannot run yet (Task, Parallel, Map, JSONata states): what is
    /// missing, for the "not supported yet" error.
    Unsupported { what: String },
}

/// A Task state's compiled fields.
#[derive(Debug, Clone)]
pub(crate) struct TaskSpec {
    /// The `Resource` as written.
    pub resource: String,
    /// What kind of resource it is, which decides the events and the result's shape.
    pub kind: ResourceKind,
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    pub result_path: ResultPath,
    /// `TimeoutSeconds` / `TimeoutSecondsPath`; `None` means AWS's default (99999999 s).
    pub timeout: Option<Seconds>,
    /// `HeartbeatSeconds` / `HeartbeatSecondsPath`.
    pub heartbeat: Option<Seconds>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
}

/// A Parallel state's compiled fields.
#[derive(Debug, Clone)]
pub(crate) struct ParallelSpec {
    pub branches: Vec<Arc<StateMachine>>,
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    pub result_path: ResultPath,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
}

/// A Map state's compiled fields (inline, or distributed with `distributed`).
#[derive(Debug, Clone)]
pub(crate) struct MapSpec {
    pub processor: Arc<StateMachine>,
    /// `ItemsPath` (default `$`).
    pub items_path: Option<JsonPath>,
    /// `ItemSelector` or the legacy `Parameters`.
    pub item_selector: Option<Template>,
    pub result_selector: Option<Template>,
    pub result_path: ResultPath,
    /// `MaxConcurrency` (0 = unlimited) or `MaxConcurrencyPath`.
    pub max_concurrency: Option<Seconds>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    /// The Distributed Map configuration, for `ProcessorConfig.Mode: DISTRIBUTED`.
    pub distributed: Option<Box<crate::map_run::DistributedSpec>>,
}

/// A number of seconds, fixed or read from the input at run time.
#[derive(Debug, Clone)]
pub(crate) enum Seconds {
    Fixed(u64),
    Path(JsonPath),
    /// A JSONata expression.
    Expr(JTemplate),
}

/// What a Task's `Resource` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResourceKind {
    /// A Lambda function ARN: LambdaFunction* events, the result is the function's payload.
    LambdaFunction,
    /// An activity ARN (`arn:aws:states:REGION:ACCOUNT:activity:NAME`): Activity* events; a
    /// worker takes the task with GetActivityTask and answers with its task token.
    Activity,
    /// An optimised or SDK integration, `arn:aws:states:::SERVICE:ACTION`: Task* events with
    /// this resourceType and resource (`lambda`, `invoke`; the resource keeps its pattern
    /// suffix, e.g. `startExecution.sync:2` or `runTask.sync`, as AWS records it; the "Run a
    /// Job" pattern of services other than Step Functions is in `sync_task`).
    Service {
        resource_type: String,
        resource: String,
        pattern: Pattern,
    },
    /// Something the engine cannot run yet.
    Unsupported(String),
}

/// A service integration's pattern: how the state waits for the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pattern {
    /// Request-response: the call's response is the result.
    RequestResponse,
    /// `.sync`: the state waits for the job to finish (a child execution's `Output` as text).
    Sync,
    /// `.sync:2`: as `.sync`, with a child execution's `Output` as parsed JSON.
    Sync2,
    /// `.waitForTaskToken`: the state waits for SendTaskSuccess/Failure with its token.
    WaitForTaskToken,
}

impl ResourceKind {
    /// The integration pattern of a service integration.
    pub fn pattern(&self) -> Option<Pattern> {
        match self {
            ResourceKind::Service { pattern, .. } => Some(*pattern),
            _ => None,
        }
    }

    fn parse(arn: &str) -> ResourceKind {
        let parts: Vec<&str> = arn.split(':').collect();
        if parts.len() >= 7 && parts[2] == "lambda" && parts[5] == "function" {
            return ResourceKind::LambdaFunction;
        }
        if parts.len() == 7 && parts[2] == "states" && parts[5] == "activity" {
            return ResourceKind::Activity;
        }
        if parts.len() >= 7
            && parts[0] == "arn"
            && parts[2] == "states"
            && parts[3].is_empty()
            && parts[4].is_empty()
        {
            // arn:aws:states:::SERVICE:ACTION or arn:aws:states:::aws-sdk:SERVICE:ACTION
            let rest = &parts[5..];
            let (resource_type, action) = if rest[0] == "aws-sdk" && rest.len() >= 3 {
                (format!("aws-sdk:{}", rest[1]), rest[2..].join(":"))
            } else {
                (rest[0].to_string(), rest[1..].join(":"))
            };
            let pattern = if action.ends_with(".waitForTaskToken") {
                Pattern::WaitForTaskToken
            } else if action.ends_with(".sync:2") {
                Pattern::Sync2
            } else if action.ends_with(".sync") {
                Pattern::Sync
            } else if action.contains(".sync:") {
                return ResourceKind::Unsupported(format!("the integration pattern of {arn}"));
            } else {
                Pattern::RequestResponse
            };
            let run_a_job =
                pattern == Pattern::Sync && crate::sync_task::supported(&resource_type, &action);
            if matches!(pattern, Pattern::Sync | Pattern::Sync2)
                && resource_type != "states"
                && !run_a_job
            {
                return ResourceKind::Unsupported(format!("the integration pattern of {arn}"));
            }
            return ResourceKind::Service {
                resource_type,
                resource: action,
                pattern,
            };
        }
        ResourceKind::Unsupported(format!("the resource {arn}"))
    }
}

/// One `Retry` entry.
#[derive(Debug, Clone)]
pub(crate) struct Retrier {
    pub errors: Vec<String>,
    pub interval_seconds: f64,
    pub max_attempts: u32,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    /// `JitterStrategy: FULL`.
    pub full_jitter: bool,
}

impl Retrier {
    /// The wait before retry number `attempt + 1`, in milliseconds: IntervalSeconds ×
    /// BackoffRate^attempt, capped by MaxDelaySeconds, scaled by a random factor in [0, 1)
    /// with FULL jitter.
    pub fn delay_ms(&self, attempt: u32, rng: &mut crate::scope::Rng) -> i64 {
        let mut delay = self.interval_seconds * self.backoff_rate.powi(attempt as i32);
        if let Some(max) = self.max_delay_seconds {
            delay = delay.min(max);
        }
        if self.full_jitter {
            delay *= rng.next_f64();
        }
        (delay * 1000.0).round() as i64
    }
}

/// One `Catch` entry.
#[derive(Debug, Clone)]
pub(crate) struct Catcher {
    pub errors: Vec<String>,
    pub result_path: ResultPath,
    /// `Assign` of the catcher: `$` is the error output.
    pub assign: Option<Template>,
    /// `Assign` of the catcher in a JSONata state.
    pub jassign: Option<JTemplate>,
    /// `Output` of the catcher in a JSONata state (default: the error output).
    pub output: Option<JTemplate>,
    pub next: StateIdx,
}

/// Whether an error is matched by an `ErrorEquals` list (ASL's rules): `States.ALL` matches
/// any error, and `States.TaskFailed` any error but `States.Timeout`, except that neither
/// matches a terminal error the state itself raised (`States.DataLimitExceeded`,
/// `States.Runtime`). `from_task` says the error came from the task (a TaskFailed or
/// LambdaFunctionFailed event): AWS catches those with `States.ALL` whatever their name, even
/// `States.DataLimitExceeded` for an oversized result (seen in an execution recorded on AWS).
pub(crate) fn error_matches(errors: &[String], error: &str, from_task: bool) -> bool {
    let terminal = !from_task && matches!(error, "States.DataLimitExceeded" | "States.Runtime");
    errors.iter().any(|e| match e.as_str() {
        "States.ALL" => !terminal,
        "States.TaskFailed" => !terminal && error != "States.Timeout",
        other => other == error,
    })
}

/// How long a Wait state waits.
#[derive(Debug, Clone)]
pub(crate) enum WaitFor {
    Seconds(i64),
    SecondsPath(JsonPath),
    Timestamp(String),
    TimestampPath(JsonPath),
    /// `Seconds` as a JSONata expression.
    SecondsExpr(JTemplate),
    /// `Timestamp` as a JSONata expression.
    TimestampExpr(JTemplate),
}

/// One rule of a Choice state with its target.
#[derive(Debug, Clone)]
pub(crate) struct ChoiceBranch {
    pub rule: ChoiceTest,
    /// The rule's `Assign`, evaluated when the rule matches (`$` is the effective input).
    pub assign: Option<Template>,
    /// The rule's `Assign` in a JSONata state.
    pub jassign: Option<JTemplate>,
    /// The rule's `Output` in a JSONata state.
    pub output: Option<JTemplate>,
    pub next: StateIdx,
}

/// What a Choice rule tests.
#[derive(Debug, Clone)]
pub(crate) enum ChoiceTest {
    /// A JSONPath comparison rule.
    Rule(Rule),
    /// A JSONata `Condition` (a boolean, or an expression returning one).
    Condition(JTemplate),
}

/// A Fail state's `Error` or `Cause`.
#[derive(Debug, Clone)]
pub(crate) enum ErrorText {
    None,
    Literal(String),
    Path(JsonPath),
    Intrinsic(crate::intrinsics::Intrinsic),
    /// A JSONata expression (`{% ... %}`).
    Expr(JTemplate),
}

mod ql;

#[derive(Default)]
struct Compiler {
    diags: Vec<Diagnostic>,
    /// How many machines were built so far: the next one's `StateMachine::id`.
    machines_made: usize,
}

impl Compiler {
    fn error(&mut self, code: DiagnosticCode, loc: impl Into<String>, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, loc, msg));
    }

    fn machine(&mut self, v: &Value, loc: &str) -> Option<StateMachine> {
        self.machine_in(v, loc, "JSONPath")
    }

    /// A machine whose states inherit `inherited` as their query language unless the machine
    /// (the top level) says otherwise.
    fn machine_in(&mut self, v: &Value, loc: &str, inherited: &str) -> Option<StateMachine> {
        let query_language = v
            .get("QueryLanguage")
            .and_then(Value::as_str)
            .or(Some(inherited))
            .unwrap_or("JSONPath");
        let states_v = v.get("States").and_then(Value::as_object);
        let Some(states_v) = states_v else {
            self.error(
                DiagnosticCode::SchemaValidationFailed,
                format!("{loc}/States"),
                "The field 'States' is required",
            );
            return None;
        };
        let index: HashMap<&str, StateIdx> = states_v
            .keys()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i))
            .collect();
        let start = v
            .get("StartAt")
            .and_then(Value::as_str)
            .and_then(|s| index.get(s).copied());
        let Some(start) = start else {
            self.error(
                DiagnosticCode::MissingTransitionTarget,
                format!("{loc}/StartAt"),
                "Missing 'StartAt' target",
            );
            return None;
        };
        let mut states = Vec::with_capacity(states_v.len());
        for (name, sv) in states_v {
            let sloc = format!("{loc}/States/{name}");
            if let Some(s) = self.state(name, sv, &sloc, &index, query_language) {
                states.push(s);
            }
        }
        let timeout_seconds = v.get("TimeoutSeconds").and_then(Value::as_u64);
        let id = self.machines_made;
        self.machines_made += 1;
        Some(StateMachine {
            states,
            start,
            timeout_seconds,
            id,
        })
    }

    fn target(
        &mut self,
        obj: &Map<String, Value>,
        field: &str,
        loc: &str,
        index: &HashMap<&str, StateIdx>,
    ) -> Option<StateIdx> {
        let name = obj.get(field)?.as_str()?;
        match index.get(name) {
            Some(i) => Some(*i),
            None => {
                self.error(
                    DiagnosticCode::MissingTransitionTarget,
                    format!("{loc}/{field}"),
                    format!("Missing '{field}' target: {name}"),
                );
                None
            }
        }
    }

    fn path(&mut self, s: &str, loc: &str) -> Option<JsonPath> {
        match JsonPath::parse(s) {
            Ok(p) => Some(p),
            Err(e) => {
                self.error(DiagnosticCode::InvalidJsonPath, loc, e.to_string());
                None
            }
        }
    }

    /// An optional path field: absent gives `$`, `null` gives `None`.
    fn path_field(&mut self, obj: &Map<String, Value>, field: &str, loc: &str) -> Option<JsonPath> {
        match obj.get(field) {
            None => Some(JsonPath::parse("$").expect("'$' is a valid path")),
            Some(Value::Null) => None,
            Some(Value::String(s)) => self.path(s, &format!("{loc}/{field}")),
            Some(_) => {
                self.error(
                    DiagnosticCode::SchemaValidationFailed,
                    format!("{loc}/{field}"),
                    format!("The value of the field '{field}' must be a string or null"),
                );
                None
            }
        }
    }

    fn state(
        &mut self,
        name: &str,
        v: &Value,
        loc: &str,
        index: &HashMap<&str, StateIdx>,
        query_language: &str,
    ) -> Option<State> {
        let Some(obj) = v.as_object() else {
            self.error(
                DiagnosticCode::SchemaValidationFailed,
                loc,
                format!("The state '{name}' must be an object"),
            );
            return None;
        };
        let ty = obj.get("Type").and_then(Value::as_str).unwrap_or("");
        let jsonata = obj
            .get("QueryLanguage")
            .and_then(Value::as_str)
            .unwrap_or(query_language)
            == "JSONata";
        let next = match (obj.get("End"), self.target(obj, "Next", loc, index)) {
            (_, Some(i)) => Transition::Next(i),
            (Some(Value::Bool(true)), None) => Transition::End,
            _ => Transition::None,
        };
        if jsonata {
            return self.jsonata_state(name, obj, loc, index, query_language, next);
        }
        let input_path = self.path_field(obj, "InputPath", loc);
        let output_path = self.path_field(obj, "OutputPath", loc);
        let kind = match ty {
            "Pass" => StateKind::Pass {
                parameters: self.template(obj, "Parameters", loc),
                result: obj.get("Result").cloned(),
                result_path: self.result_path(obj, loc),
            },
            "Wait" => StateKind::Wait(self.wait(obj, loc)?),
            "Choice" => {
                let mut choices = Vec::new();
                for (i, rv) in obj
                    .get("Choices")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let rloc = format!("{loc}/Choices/{i}");
                    let rule = match Rule::from_value(rv, &rloc) {
                        Ok(r) => Some(r),
                        Err(ds) => {
                            self.diags.extend(ds);
                            None
                        }
                    };
                    let target = rv
                        .as_object()
                        .and_then(|o| self.target(o, "Next", &rloc, index));
                    let assign = rv
                        .as_object()
                        .and_then(|o| self.template(o, "Assign", &rloc));
                    if let (Some(rule), Some(next)) = (rule, target) {
                        choices.push(ChoiceBranch {
                            rule: ChoiceTest::Rule(rule),
                            assign,
                            jassign: None,
                            output: None,
                            next,
                        });
                    }
                }
                StateKind::Choice {
                    choices,
                    default: self.target(obj, "Default", loc, index),
                }
            }
            "Succeed" => StateKind::Succeed,
            "Task" => StateKind::Task(Box::new(self.task(obj, loc, index))),
            "Parallel" => {
                let branches = self.branches(obj, loc, query_language);
                StateKind::Parallel(Box::new(ParallelSpec {
                    branches,
                    parameters: self.template(obj, "Parameters", loc),
                    result_selector: self.template(obj, "ResultSelector", loc),
                    result_path: self.result_path(obj, loc),
                    retry: self.retriers(obj, loc),
                    catch: self.catchers(obj, loc, index),
                }))
            }
            "Map" => {
                let processor_field = if obj.contains_key("ItemProcessor") {
                    "ItemProcessor"
                } else {
                    "Iterator"
                };
                let processor = obj.get(processor_field).and_then(|p| {
                    self.machine_in(p, &format!("{loc}/{processor_field}"), query_language)
                });
                let selector_field = if obj.contains_key("ItemSelector") {
                    "ItemSelector"
                } else {
                    "Parameters"
                };
                let items_path = match obj.get("ItemsPath").and_then(Value::as_str) {
                    Some(p) => self.path(p, &format!("{loc}/ItemsPath")),
                    None => JsonPath::parse("$").ok(),
                };
                match processor {
                    Some(processor) => StateKind::Map(Box::new(MapSpec {
                        processor: Arc::new(processor),
                        items_path,
                        item_selector: self.template(obj, selector_field, loc),
                        result_selector: self.template(obj, "ResultSelector", loc),
                        result_path: self.result_path(obj, loc),
                        max_concurrency: self.seconds(obj, "MaxConcurrency", loc),
                        retry: self.retriers(obj, loc),
                        catch: self.catchers(obj, loc, index),
                        distributed: crate::map_run::compile(
                            obj,
                            obj.get(processor_field),
                            loc,
                            &mut self.diags,
                        ),
                    })),
                    None => StateKind::Unsupported {
                        what: format!("Map states without an inline processor (state '{name}')"),
                    },
                }
            }
            "Fail" => StateKind::Fail {
                error: self.error_text(obj, "Error", loc),
                cause: self.error_text(obj, "Cause", loc),
            },
            other => StateKind::Unsupported {
                what: format!("{other} states (state '{name}')"),
            },
        };
        let assign = self.template(obj, "Assign", loc);
        Some(State {
            name: StateName(SmolStr::new(name)),
            kind,
            whole_paths: whole_paths(input_path.as_ref(), output_path.as_ref()),
            input_path,
            output_path,
            assign,
            next,
            jsonata: None,
        })
    }

    /// A Parallel state's compiled `Branches`.
    fn branches(
        &mut self,
        obj: &Map<String, Value>,
        loc: &str,
        query_language: &str,
    ) -> Vec<Arc<StateMachine>> {
        let mut branches = Vec::new();
        for (i, b) in obj
            .get("Branches")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(m) = self.machine_in(b, &format!("{loc}/Branches[{i}]"), query_language) {
                branches.push(Arc::new(m));
            }
        }
        branches
    }

    fn template(&mut self, obj: &Map<String, Value>, field: &str, loc: &str) -> Option<Template> {
        let v = obj.get(field)?;
        match Template::compile(v, &format!("{loc}/{field}")) {
            Ok(t) => Some(t),
            Err(ds) => {
                self.diags.extend(ds);
                None
            }
        }
    }

    fn result_path(&mut self, obj: &Map<String, Value>, loc: &str) -> ResultPath {
        match obj.get("ResultPath") {
            None => ResultPath::Replace,
            Some(Value::Null) => ResultPath::Discard,
            Some(Value::String(s)) => match self.path(s, &format!("{loc}/ResultPath")) {
                Some(p) if p.is_root() => ResultPath::Replace,
                Some(p) => ResultPath::At(p),
                None => ResultPath::Replace,
            },
            Some(_) => {
                self.error(
                    DiagnosticCode::SchemaValidationFailed,
                    format!("{loc}/ResultPath"),
                    "The value of the field 'ResultPath' must be a string or null",
                );
                ResultPath::Replace
            }
        }
    }

    fn task(
        &mut self,
        obj: &Map<String, Value>,
        loc: &str,
        index: &HashMap<&str, StateIdx>,
    ) -> TaskSpec {
        let resource = obj
            .get("Resource")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        TaskSpec {
            kind: ResourceKind::parse(&resource),
            resource,
            parameters: self.template(obj, "Parameters", loc),
            result_selector: self.template(obj, "ResultSelector", loc),
            result_path: self.result_path(obj, loc),
            timeout: self.seconds(obj, "TimeoutSeconds", loc),
            heartbeat: self.seconds(obj, "HeartbeatSeconds", loc),
            retry: self.retriers(obj, loc),
            catch: self.catchers(obj, loc, index),
        }
    }

    fn seconds(&mut self, obj: &Map<String, Value>, field: &str, loc: &str) -> Option<Seconds> {
        if let Some(n) = obj.get(field).and_then(Value::as_u64) {
            return Some(Seconds::Fixed(n));
        }
        let pfield = format!("{field}Path");
        let p = obj.get(&pfield)?.as_str()?;
        self.path(p, &format!("{loc}/{pfield}")).map(Seconds::Path)
    }

    fn error_list(v: &Value) -> Vec<String> {
        v.get("ErrorEquals")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| e.as_str().map(str::to_string))
            .collect()
    }

    fn retriers(&mut self, obj: &Map<String, Value>, _loc: &str) -> Vec<Retrier> {
        let list = obj.get("Retry").and_then(Value::as_array);
        list.into_iter()
            .flatten()
            .map(|r| Retrier {
                errors: Self::error_list(r),
                interval_seconds: r
                    .get("IntervalSeconds")
                    .and_then(Value::as_f64)
                    .unwrap_or(1.0),
                max_attempts: r
                    .get("MaxAttempts")
                    .and_then(Value::as_u64)
                    .map_or(3, |n| n.min(u32::MAX as u64) as u32),
                backoff_rate: r.get("BackoffRate").and_then(Value::as_f64).unwrap_or(2.0),
                max_delay_seconds: r.get("MaxDelaySeconds").and_then(Value::as_f64),
                full_jitter: r.get("JitterStrategy").and_then(Value::as_str) == Some("FULL"),
            })
            .collect()
    }

    fn catchers(
        &mut self,
        obj: &Map<String, Value>,
        loc: &str,
        index: &HashMap<&str, StateIdx>,
    ) -> Vec<Catcher> {
        let list = obj.get("Catch").and_then(Value::as_array);
        let mut out = Vec::new();
        for (i, c) in list.into_iter().flatten().enumerate() {
            let cloc = format!("{loc}/Catch/{i}");
            let Some(cobj) = c.as_object() else { continue };
            let Some(next) = self.target(cobj, "Next", &cloc, index) else {
                continue;
            };
            out.push(Catcher {
                errors: Self::error_list(c),
                result_path: self.result_path(cobj, &cloc),
                assign: self.template(cobj, "Assign", &cloc),
                jassign: None,
                output: None,
                next,
            });
        }
        out
    }

    fn wait(&mut self, obj: &Map<String, Value>, loc: &str) -> Option<WaitFor> {
        if let Some(s) = obj.get("Seconds").and_then(Value::as_i64) {
            return Some(WaitFor::Seconds(s));
        }
        if let Some(s) = obj.get("Timestamp").and_then(Value::as_str) {
            return Some(WaitFor::Timestamp(s.to_string()));
        }
        if let Some(s) = obj.get("SecondsPath").and_then(Value::as_str) {
            return self
                .path(s, &format!("{loc}/SecondsPath"))
                .map(WaitFor::SecondsPath);
        }
        if let Some(s) = obj.get("TimestampPath").and_then(Value::as_str) {
            return self
                .path(s, &format!("{loc}/TimestampPath"))
                .map(WaitFor::TimestampPath);
        }
        self.error(
            DiagnosticCode::SchemaValidationFailed,
            loc,
            "A Wait state needs exactly one of Seconds, SecondsPath, Timestamp or TimestampPath",
        );
        None
    }

    fn error_text(&mut self, obj: &Map<String, Value>, field: &str, loc: &str) -> ErrorText {
        if let Some(s) = obj.get(field).and_then(Value::as_str) {
            return ErrorText::Literal(s.to_string());
        }
        let pfield = format!("{field}Path");
        let Some(p) = obj.get(&pfield).and_then(Value::as_str) else {
            return ErrorText::None;
        };
        let ploc = format!("{loc}/{pfield}");
        if crate::intrinsics::Intrinsic::looks_like_call(p) {
            match crate::intrinsics::Intrinsic::parse(p) {
                Ok(f) => ErrorText::Intrinsic(f),
                Err(e) => {
                    self.error(
                        DiagnosticCode::InvalidIntrinsicFunction,
                        ploc,
                        e.to_string(),
                    );
                    ErrorText::None
                }
            }
        } else {
            self.path(p, &ploc).map_or(ErrorText::None, ErrorText::Path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every machine of a definition sits at its id in `Definition::machines`, nested ones
    /// included: fibers name their machines by these ids.
    #[test]
    fn every_machine_sits_at_its_id() {
        let text = r#"{"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "Next": "M", "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
                {"StartAt": "Inner", "States": {"Inner": {"Type": "Map", "End": true,
                    "ItemProcessor": {"StartAt": "Q", "States": {
                        "Q": {"Type": "Parallel", "End": true, "Branches": [
                            {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}
                        ]}}}}}}
            ]},
            "M": {"Type": "Map", "End": true,
                "ItemProcessor": {"StartAt": "C", "States": {"C": {"Type": "Pass", "End": true}}}}
        }}"#;
        let d = Definition::parse(text).expect("valid definition");
        // The top level, two branches, the inner Map's processor, its Parallel's branch and
        // the second Map's processor.
        assert_eq!(d.machines.len(), 6);
        for (i, m) in d.machines.iter().enumerate() {
            assert_eq!(m.id, i);
        }
        assert!(Arc::ptr_eq(&d.machines[5], &d.machine));
        let StateKind::Parallel(p) = &d.machine.states[0].kind else {
            panic!("P is a Parallel state");
        };
        assert!(Arc::ptr_eq(&d.machines[0], &p.branches[0]));
        let StateKind::Map(m) = &d.machine.states[1].kind else {
            panic!("M is a Map state");
        };
        assert!(Arc::ptr_eq(&d.machines[4], &m.processor));
    }
}
