//! Proptest strategies for valid Amazon States Language workflows and inputs that fit them.
//!
//! The strategies produce a small typed model ([`Workflow`], [`Step`], [`Seq`]) rather than
//! JSON; [`render`] turns a model into a definition. Shrinking therefore acts on the model:
//! a failing case shrinks to fewer steps, fewer branches, smaller counts and simpler rules,
//! and what is printed is always a valid, readable state machine.
//!
//! What is covered: Pass (Result, Parameters, intrinsics, ResultPath), Choice with compound
//! rules jumping forward, loops counted by a variable (`Assign` and `States.MathAdd`, so they
//! always end), Wait on the virtual clock, Succeed, Fail, Task states on deterministic mocks
//! (succeed, throw named errors, take virtual time) with Parameters, ResultSelector,
//! ResultPath, Retry and Catch, Parallel and inline Map (MaxConcurrency, Retry, Catch)
//! nested up to [`Limits::depth`]. [`dataflow`] generates pairs of equivalent JSONPath and
//! JSONata states.
//!
//! ```
//! use proptest::strategy::{Strategy, ValueTree};
//! use proptest::test_runner::TestRunner;
//! let mut runner = TestRunner::deterministic();
//! let w = conformance::gen::workflow(conformance::gen::Limits::default())
//!     .new_tree(&mut runner).unwrap().current();
//! let rendered = conformance::gen::render(&w);
//! assert!(engine::validate(&rendered.text()).is_empty());
//! ```

pub mod dataflow;
mod model;
mod render;
mod simplify;

pub use model::{
    Catcher, End, ErrorName, Matcher, PassKind, Retrier, Rule, Seq, Step, TaskMock, Workflow,
};
pub use render::{
    effective_retriers, function_arn, in_map, in_parallel, render, sync2_parent, Rendered,
};
pub use simplify::simpler;

use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Bounds on what the generators produce.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How deeply Parallel, Map and loops nest.
    pub depth: u32,
    /// The most steps in one sequence.
    pub steps: usize,
    /// The most branches of a Parallel state.
    pub branches: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            depth: 2,
            steps: 5,
            branches: 3,
        }
    }
}

/// An error name.
pub fn error_name() -> impl Strategy<Value = ErrorName> {
    prop_oneof![Just(ErrorName::A), Just(ErrorName::B)]
}

/// What a Retry or Catch entry matches.
pub fn matcher() -> impl Strategy<Value = Matcher> {
    prop_oneof![error_name().prop_map(Matcher::Named), Just(Matcher::All),]
}

/// One retrier: intervals of 1–3 s, 0–3 attempts, backoff 1.0–2.5, sometimes a
/// MaxDelaySeconds.
pub fn retrier() -> impl Strategy<Value = Retrier> {
    (
        matcher(),
        1u32..=3,
        0u32..=3,
        10u32..=25,
        proptest::option::of(1u32..=5),
    )
        .prop_map(
            |(matcher, interval_seconds, max_attempts, backoff_tenths, max_delay_seconds)| {
                Retrier {
                    matcher,
                    interval_seconds,
                    max_attempts,
                    backoff_tenths,
                    max_delay_seconds,
                }
            },
        )
}

/// A Retry list (often empty). Entries with the same matcher would make the later ones
/// unreachable, which AWS accepts; the list keeps at most one per matcher for readability.
pub fn retry_list() -> impl Strategy<Value = Vec<Retrier>> {
    vec(retrier(), 0..=2).prop_map(|mut v| {
        let mut seen = Vec::new();
        v.retain(|r| {
            let fresh = !seen.contains(&r.matcher);
            seen.push(r.matcher);
            fresh
        });
        v
    })
}

/// A Catch list (often empty), one entry per matcher.
pub fn catch_list() -> impl Strategy<Value = Vec<Catcher>> {
    vec(matcher(), 0..=1).prop_map(|v| {
        let mut out: Vec<Catcher> = Vec::new();
        for m in v {
            if !out.iter().any(|c| c.matcher == m) {
                out.push(Catcher { matcher: m });
            }
        }
        out
    })
}

/// A task mock: up to three failing attempts, an integer result, 0–3 virtual seconds.
pub fn task_mock() -> impl Strategy<Value = TaskMock> {
    (
        prop_oneof![3 => Just(0u32), 2 => 1u32..=3],
        error_name(),
        -5i64..=5,
        prop_oneof![Just(0u32), Just(500), Just(1000), Just(3000)],
    )
        .prop_map(|(fail_first, error, result, duration_ms)| TaskMock {
            fail_first,
            error,
            result,
            duration_ms,
        })
}

/// A Choice rule over the generated document shape.
pub fn rule() -> impl Strategy<Value = Rule> {
    let leaf = prop_oneof![
        (-5i64..=5).prop_map(Rule::AGreater),
        prop_oneof![Just("x"), Just("y")].prop_map(|s| Rule::BEquals(s.to_string())),
        Just(Rule::XsNonEmpty),
    ];
    leaf.prop_recursive(2, 6, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|r| Rule::Not(Box::new(r))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Rule::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Rule::Or(Box::new(a), Box::new(b))),
        ]
    })
}

fn small_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-9i64..=9).prop_map(|n| json!(n)),
        prop_oneof![Just("p"), Just("q")].prop_map(|s| json!(s)),
        (-9i64..=9).prop_map(|n| json!({"k": n})),
        Just(json!([1, 2])),
        Just(Value::Null),
    ]
}

/// A Pass state's behaviour.
pub fn pass_kind() -> impl Strategy<Value = PassKind> {
    prop_oneof![
        Just(PassKind::Identity),
        small_value().prop_map(PassKind::Result),
        (-9i64..=9).prop_map(PassKind::Copy),
        (-9i64..=9).prop_map(PassKind::Intrinsics),
    ]
}

fn task() -> impl Strategy<Value = Step> {
    (
        task_mock(),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![3 => Just(true), 1 => Just(false)],
        retry_list(),
        catch_list(),
    )
        .prop_map(
            |(mock, parameters, selector, keep_result, retry, catch)| Step::Task {
                mock,
                parameters,
                selector,
                keep_result,
                retry,
                catch,
            },
        )
}

fn leaf_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => pass_kind().prop_map(Step::Pass),
        1 => (1u32..=5).prop_map(Step::Wait),
        4 => task(),
        2 => (rule(), 1u8..=2).prop_map(|(rule, skip)| Step::Choice { rule, skip }),
    ]
}

fn end() -> impl Strategy<Value = End> {
    prop_oneof![4 => Just(End::Succeed), 1 => error_name().prop_map(End::Fail)]
}

/// One step, nesting Parallel, Map and loops up to `limits.depth`.
pub fn step(limits: Limits) -> BoxedStrategy<Step> {
    let Limits {
        depth,
        steps,
        branches,
    } = limits;
    leaf_step()
        .prop_recursive(depth, 24, steps as u32, move |inner| {
            let seq = (vec(inner.clone(), 0..=steps.min(3)), end())
                .prop_map(|(steps, end)| Seq { steps, end })
                .boxed();
            prop_oneof![
                (1u8..=3, vec(inner, 0..=steps.min(3)))
                    .prop_map(|(times, body)| Step::Loop { times, body }),
                (vec(seq.clone(), 1..=branches), retry_list(), catch_list()).prop_map(
                    |(branches, retry, catch)| Step::Parallel {
                        branches,
                        retry,
                        catch,
                    }
                ),
                (
                    seq,
                    0u32..=3,
                    prop_oneof![3 => Just(None), 1 => (0u32..=2).prop_map(Some)],
                    retry_list(),
                    catch_list()
                )
                    .prop_map(
                        |(body, max_concurrency, tolerated, retry, catch)| {
                            Step::Map {
                                body,
                                max_concurrency,
                                tolerated,
                                retry,
                                catch,
                            }
                        }
                    ),
            ]
        })
        .boxed()
}

/// A whole workflow.
pub fn workflow(limits: Limits) -> BoxedStrategy<Workflow> {
    (vec(step(limits), 0..=limits.steps), end())
        .prop_map(|(steps, end)| Workflow {
            body: Seq { steps, end },
        })
        .boxed()
}

/// An input that fits every generated workflow: `{"a": integer, "b": string, "xs":
/// [integers]}` (at most three items, so nested Maps stay small).
pub fn input() -> impl Strategy<Value = Value> {
    (
        -5i64..=5,
        prop_oneof![Just("x"), Just("y"), Just("z")],
        vec(-5i64..=5, 0..=3),
    )
        .prop_map(|(a, b, xs)| json!({"a": a, "b": b, "xs": xs}))
}

/// A workflow, an input and a scheduler seed: one generated case.
#[derive(Debug, Clone)]
pub struct Case {
    /// The workflow.
    pub workflow: Workflow,
    /// Its input.
    pub input: Value,
    /// The scheduler seed.
    pub seed: u64,
}

/// A generated case.
pub fn case(limits: Limits) -> impl Strategy<Value = Case> {
    (workflow(limits), input(), any::<u64>()).prop_map(|(workflow, input, seed)| Case {
        workflow,
        input,
        seed,
    })
}
