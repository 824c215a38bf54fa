//! Rendering the model to ASL JSON. Names are numbered in the order the renderer meets the
//! steps (`Task3`, `Map5`), and each step that produces a result writes it to `$.o<n>` with
//! the same number, so a counterexample reads as a small, ordinary state machine.

use super::model::{Catcher, End, Matcher, PassKind, Retrier, Rule, Seq, Step, TaskMock, Workflow};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A rendered workflow: the definition and what the checks need to know about its states.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The ASL definition.
    pub definition: Value,
    /// The mock of each Task state, by state name.
    pub mocks: BTreeMap<String, TaskMock>,
    /// The Retry entries of each Task state, by state name.
    pub task_retries: BTreeMap<String, Vec<Retrier>>,
    /// The MaxConcurrency of each Map state, by state name (0 is unlimited).
    pub map_concurrency: BTreeMap<String, u32>,
}

impl Rendered {
    /// The definition as pretty JSON text.
    pub fn text(&self) -> String {
        serde_json::to_string_pretty(&self.definition).unwrap_or_default()
    }

    /// What each Task state's mock does, one line per state, for printing next to the
    /// definition (the definition alone does not say how a task answers).
    pub fn mocks_text(&self) -> String {
        self.mocks
            .iter()
            .map(|(name, m)| {
                let outcome = if m.fail_first == 0 {
                    format!("succeeds with {{\"v\": {}}}", m.result)
                } else {
                    format!(
                        "fails {} time(s) with {}, then succeeds with {{\"v\": {}}}",
                        m.fail_first,
                        m.error.as_str(),
                        m.result
                    )
                };
                format!("{name}: {outcome}, {} ms per attempt\n", m.duration_ms)
            })
            .collect()
    }
}

/// The Lambda function ARN of a generated Task state.
pub fn function_arn(state: &str) -> String {
    format!("arn:aws:lambda:us-east-1:123456789012:function:{state}")
}

/// Renders a workflow to ASL JSON.
pub fn render(workflow: &Workflow) -> Rendered {
    let mut r = Renderer::default();
    let machine = r.machine(&workflow.body);
    Rendered {
        definition: machine,
        mocks: r.mocks,
        task_retries: r.task_retries,
        map_concurrency: r.map_concurrency,
    }
}

#[derive(Default)]
struct Renderer {
    next: u32,
    mocks: BTreeMap<String, TaskMock>,
    task_retries: BTreeMap<String, Vec<Retrier>>,
    map_concurrency: BTreeMap<String, u32>,
}

/// The states of one machine being built, kept in numbering order for readability.
#[derive(Default)]
struct States(Vec<(u32, String, Value)>);

impl States {
    fn add(&mut self, n: u32, name: String, state: Value) {
        self.0.push((n, name, state));
    }

    fn into_json(mut self) -> Value {
        self.0.sort_by_key(|(n, _, _)| *n);
        Value::Object(self.0.into_iter().map(|(_, k, v)| (k, v)).collect())
    }
}

fn prefix(step: &Step) -> &'static str {
    match step {
        Step::Pass(_) => "Pass",
        Step::Wait(_) => "Wait",
        Step::Task { .. } => "Task",
        Step::Choice { .. } => "Choice",
        Step::Loop { .. } => "Init",
        Step::Parallel { .. } => "Parallel",
        Step::Map { .. } => "Map",
    }
}

fn retry_json(retry: &[Retrier]) -> Value {
    // States.ALL must come last (AWS refuses it anywhere else), so the renderer orders the
    // entries; the model's order among named entries is kept.
    let mut entries: Vec<&Retrier> = retry.iter().filter(|r| r.matcher != Matcher::All).collect();
    entries.extend(retry.iter().filter(|r| r.matcher == Matcher::All).take(1));
    Value::Array(
        entries
            .into_iter()
            .map(|r| {
                let mut o = json!({
                    "ErrorEquals": [matcher_name(r.matcher)],
                    "IntervalSeconds": r.interval_seconds,
                    "MaxAttempts": r.max_attempts,
                    "BackoffRate": r.backoff_rate(),
                });
                if let Some(m) = r.max_delay_seconds {
                    o["MaxDelaySeconds"] = json!(m);
                }
                o
            })
            .collect(),
    )
}

/// The retriers in the order the renderer writes them (and the engine tries them).
pub fn effective_retriers(retry: &[Retrier]) -> Vec<Retrier> {
    let mut entries: Vec<Retrier> = retry
        .iter()
        .filter(|r| r.matcher != Matcher::All)
        .cloned()
        .collect();
    entries.extend(
        retry
            .iter()
            .filter(|r| r.matcher == Matcher::All)
            .take(1)
            .cloned(),
    );
    entries
}

fn catch_json(catch: &[Catcher], n: u32, next: &str) -> Value {
    let mut entries: Vec<&Catcher> = catch.iter().filter(|c| c.matcher != Matcher::All).collect();
    entries.extend(catch.iter().filter(|c| c.matcher == Matcher::All).take(1));
    Value::Array(
        entries
            .into_iter()
            .map(|c| {
                json!({
                    "ErrorEquals": [matcher_name(c.matcher)],
                    "ResultPath": format!("$.e{n}"),
                    "Next": next,
                })
            })
            .collect(),
    )
}

fn matcher_name(m: Matcher) -> &'static str {
    match m {
        Matcher::Named(e) => e.as_str(),
        Matcher::All => "States.ALL",
    }
}

fn rule_json(rule: &Rule) -> Value {
    match rule {
        Rule::AGreater(n) => json!({"Variable": "$.a", "NumericGreaterThan": n}),
        Rule::BEquals(s) => json!({"Variable": "$.b", "StringEquals": s}),
        Rule::XsNonEmpty => json!({"Variable": "$.xs[0]", "IsPresent": true}),
        Rule::Not(r) => json!({"Not": rule_json(r)}),
        Rule::And(a, b) => json!({"And": [rule_json(a), rule_json(b)]}),
        Rule::Or(a, b) => json!({"Or": [rule_json(a), rule_json(b)]}),
    }
}

impl Renderer {
    fn number(&mut self) -> u32 {
        self.next += 1;
        self.next
    }

    /// A whole machine (top level, branch or processor): `{"StartAt", "States"}`.
    fn machine(&mut self, seq: &Seq) -> Value {
        let mut states = States::default();
        let n = self.number();
        let end_name = match &seq.end {
            End::Succeed => format!("Done{n}"),
            End::Fail(_) => format!("Fail{n}"),
        };
        let start = self.steps(&mut states, &seq.steps, &end_name);
        let end_state = match &seq.end {
            End::Succeed => json!({"Type": "Succeed"}),
            End::Fail(e) => json!({"Type": "Fail", "Error": e.as_str(), "Cause": e.cause()}),
        };
        // The end state is numbered before the steps, but reads best last.
        states.add(u32::MAX, end_name, end_state);
        json!({"StartAt": start, "States": states.into_json()})
    }

    /// Renders `steps` into `states`, the last one going on to `follow`; returns the name
    /// of the first state (or `follow` when there are no steps).
    fn steps(&mut self, states: &mut States, steps: &[Step], follow: &str) -> String {
        // Names first, in order, so that Choice states can jump forward.
        let numbered: Vec<(u32, String)> = steps
            .iter()
            .map(|s| {
                let n = self.number();
                (n, format!("{}{n}", prefix(s)))
            })
            .collect();
        let name_at = |j: usize| -> String {
            numbered
                .get(j)
                .map_or_else(|| follow.to_string(), |(_, name)| name.clone())
        };
        for (j, step) in steps.iter().enumerate() {
            let (n, name) = numbered[j].clone();
            let next = name_at(j + 1);
            self.step(states, step, n, name, &next, &|skip| name_at(j + 1 + skip));
        }
        name_at(0)
    }

    fn step(
        &mut self,
        states: &mut States,
        step: &Step,
        n: u32,
        name: String,
        next: &str,
        target: &dyn Fn(usize) -> String,
    ) {
        let out = format!("$.o{n}");
        let state = match step {
            Step::Pass(kind) => {
                let mut s = json!({"Type": "Pass"});
                match kind {
                    PassKind::Identity => {}
                    PassKind::Result(v) => {
                        s["Result"] = v.clone();
                        s["ResultPath"] = json!(out);
                    }
                    PassKind::Copy(k) => {
                        s["Parameters"] = json!({"x.$": "$.a", "k": k});
                        s["ResultPath"] = json!(out);
                    }
                    PassKind::Intrinsics(k) => {
                        s["Parameters"] = json!({
                            "s.$": "States.Format('{}-{}', $.a, $.b)",
                            "m.$": format!("States.MathAdd($.a, {k})"),
                        });
                        s["ResultPath"] = json!(out);
                    }
                }
                s["Next"] = json!(next);
                s
            }
            Step::Wait(secs) => json!({"Type": "Wait", "Seconds": secs, "Next": next}),
            Step::Task {
                mock,
                parameters,
                selector,
                keep_result,
                retry,
                catch,
            } => {
                self.mocks.insert(name.clone(), mock.clone());
                self.task_retries
                    .insert(name.clone(), effective_retriers(retry));
                let mut s = json!({"Type": "Task", "Resource": function_arn(&name)});
                if *parameters {
                    s["Parameters"] = json!({"a.$": "$.a"});
                }
                if *selector {
                    s["ResultSelector"] = json!({"w.$": "$.v"});
                }
                s["ResultPath"] = if *keep_result {
                    json!(out)
                } else {
                    Value::Null
                };
                if !retry.is_empty() {
                    s["Retry"] = retry_json(retry);
                }
                if !catch.is_empty() {
                    s["Catch"] = catch_json(catch, n, next);
                }
                s["Next"] = json!(next);
                s
            }
            Step::Choice { rule, skip } => {
                let mut choice = rule_json(rule);
                choice["Next"] = json!(target(usize::from(*skip)));
                json!({"Type": "Choice", "Choices": [choice], "Default": next})
            }
            Step::Loop { times, body } => {
                let var = format!("c{n}");
                let inc_n = self.number();
                let check_n = self.number();
                let inc = format!("Inc{inc_n}");
                let check = format!("Check{check_n}");
                let first = self.steps(states, body, &inc);
                states.add(
                    inc_n,
                    inc,
                    json!({
                        "Type": "Pass",
                        "Assign": {format!("{var}.$"): format!("States.MathAdd(${var}, 1)")},
                        "Next": check,
                    }),
                );
                states.add(
                    check_n,
                    check,
                    json!({
                        "Type": "Choice",
                        "Choices": [{"Variable": format!("${var}"), "NumericLessThan": times, "Next": first}],
                        "Default": next,
                    }),
                );
                json!({"Type": "Pass", "Assign": {var: 0}, "Next": first})
            }
            Step::Parallel {
                branches,
                retry,
                catch,
            } => {
                let branches: Vec<Value> = branches.iter().map(|b| self.machine(b)).collect();
                let mut s = json!({"Type": "Parallel", "Branches": branches, "ResultPath": out});
                if !retry.is_empty() {
                    s["Retry"] = retry_json(retry);
                }
                if !catch.is_empty() {
                    s["Catch"] = catch_json(catch, n, next);
                }
                s["Next"] = json!(next);
                s
            }
            Step::Map {
                body,
                max_concurrency,
                tolerated,
                retry,
                catch,
            } => {
                let mut processor = self.machine(body);
                match tolerated {
                    None => {
                        self.map_concurrency.insert(name.clone(), *max_concurrency);
                        processor["ProcessorConfig"] = json!({"Mode": "INLINE"});
                    }
                    Some(_) => {
                        processor["ProcessorConfig"] =
                            json!({"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"});
                    }
                }
                let mut s = json!({
                    "Type": "Map",
                    "ItemsPath": "$.xs",
                    "ItemSelector": {"a.$": "$$.Map.Item.Value", "b.$": "$.b", "xs.$": "$.xs"},
                    "ItemProcessor": processor,
                    "MaxConcurrency": max_concurrency,
                    "ResultPath": out,
                });
                if let Some(count) = tolerated {
                    s["ToleratedFailureCount"] = json!(count);
                }
                if !retry.is_empty() {
                    s["Retry"] = retry_json(retry);
                }
                if !catch.is_empty() {
                    s["Catch"] = catch_json(catch, n, next);
                }
                s["Next"] = json!(next);
                s
            }
        };
        states.add(n, name, state);
    }
}

/// The definition of a one-state parent that runs `child_arn` as a `.sync:2` child with
/// the parent's input and outputs the child's output.
pub fn sync2_parent(child_arn: &str) -> Value {
    json!({
        "StartAt": "Child",
        "States": {"Child": {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {"StateMachineArn": child_arn, "Input.$": "$"},
            "OutputPath": "$.Output",
            "End": true,
        }}
    })
}

/// The definition wrapped as the only branch of a Parallel state.
pub fn in_parallel(definition: &Value) -> Value {
    json!({
        "StartAt": "Wrap",
        "States": {"Wrap": {"Type": "Parallel", "Branches": [definition], "End": true}}
    })
}

/// The definition wrapped as the processor of an inline Map over `$.items`.
pub fn in_map(definition: &Value) -> Value {
    let mut processor = definition.clone();
    if let Value::Object(o) = &mut processor {
        o.insert("ProcessorConfig".into(), json!({"Mode": "INLINE"}));
    }
    json!({
        "StartAt": "Wrap",
        "States": {"Wrap": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, "End": true}}
    })
}
