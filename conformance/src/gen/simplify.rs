//! Structural simplification of a failing case, after proptest's own shrinking.
//!
//! Proptest shrinks each value within its generator: fewer steps, smaller numbers, earlier
//! alternatives. It cannot replace a loop by its body or a Parallel state by one of its
//! branches, because those are different generator branches. [`simpler`] lists such
//! one-edit simplifications of a case; [`crate::fuzz::minimize`] applies them greedily
//! while the case still fails, so counterexamples end up with only the states that matter.

use super::model::{End, PassKind, Rule, Seq, Step};
use super::Case;
use serde_json::Value;

/// Every case one edit simpler than `case`, the biggest cuts first.
pub fn simpler(case: &Case) -> Vec<Case> {
    let mut out: Vec<Case> = seq_variants(&case.workflow.body)
        .into_iter()
        .map(|body| {
            let mut c = case.clone();
            c.workflow.body = body;
            c
        })
        .collect();
    for input in input_variants(&case.input) {
        let mut c = case.clone();
        c.input = input;
        out.push(c);
    }
    if case.seed != 0 {
        let mut c = case.clone();
        c.seed = 0;
        out.push(c);
    }
    out
}

fn input_variants(input: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(xs) = input.get("xs").and_then(Value::as_array) {
        for i in 0..xs.len() {
            let mut v = input.clone();
            if let Some(a) = v["xs"].as_array_mut() {
                a.remove(i);
            }
            out.push(v);
        }
        if xs.iter().any(|x| x != &Value::from(0)) {
            let mut v = input.clone();
            v["xs"] = Value::Array(xs.iter().map(|_| Value::from(0)).collect());
            out.push(v);
        }
    }
    if input.get("a").is_some_and(|a| a != &Value::from(0)) {
        let mut v = input.clone();
        v["a"] = Value::from(0);
        out.push(v);
    }
    out
}

fn seq_variants(s: &Seq) -> Vec<Seq> {
    let mut out = Vec::new();
    for i in 0..s.steps.len() {
        let mut v = s.clone();
        v.steps.remove(i);
        out.push(v);
    }
    for (i, step) in s.steps.iter().enumerate() {
        for replacement in splices(step) {
            let mut v = s.clone();
            v.steps.splice(i..=i, replacement);
            out.push(v);
        }
    }
    if matches!(s.end, End::Fail(_)) {
        out.push(Seq {
            steps: s.steps.clone(),
            end: End::Succeed,
        });
    }
    for (i, step) in s.steps.iter().enumerate() {
        for replacement in step_variants(step) {
            let mut v = s.clone();
            v.steps[i] = replacement;
            out.push(v);
        }
    }
    out
}

/// Sequences of steps that could stand in for a compound step.
fn splices(step: &Step) -> Vec<Vec<Step>> {
    match step {
        Step::Loop { body, .. } => vec![body.clone()],
        Step::Parallel { branches, .. } => branches.iter().map(|b| b.steps.clone()).collect(),
        Step::Map { body, .. } => vec![body.steps.clone()],
        _ => Vec::new(),
    }
}

fn steps_variants(steps: &[Step]) -> Vec<Vec<Step>> {
    seq_variants(&Seq {
        steps: steps.to_vec(),
        end: End::Succeed,
    })
    .into_iter()
    .map(|s| s.steps)
    .collect()
}

fn step_variants(step: &Step) -> Vec<Step> {
    let mut out = Vec::new();
    match step {
        Step::Pass(kind) => {
            if *kind != PassKind::Identity {
                out.push(Step::Pass(PassKind::Identity));
            }
        }
        Step::Wait(s) => {
            if *s > 1 {
                out.push(Step::Wait(1));
            }
        }
        Step::Choice { rule, skip } => {
            if !matches!(
                rule,
                Rule::XsNonEmpty | Rule::AGreater(_) | Rule::BEquals(_)
            ) {
                out.push(Step::Choice {
                    rule: Rule::XsNonEmpty,
                    skip: *skip,
                });
                out.push(Step::Choice {
                    rule: Rule::AGreater(0),
                    skip: *skip,
                });
            }
            if *skip > 1 {
                out.push(Step::Choice {
                    rule: rule.clone(),
                    skip: 1,
                });
            }
        }
        Step::Task {
            mock,
            parameters,
            selector,
            keep_result,
            retry,
            catch,
        } => {
            let base = step.clone();
            let mut with = |f: &dyn Fn(&mut Step)| {
                let mut v = base.clone();
                f(&mut v);
                if v != base {
                    out.push(v);
                }
            };
            if !retry.is_empty() {
                with(&|s| {
                    if let Step::Task { retry, .. } = s {
                        retry.clear()
                    }
                });
                for i in 0..retry.len() {
                    with(&|s| {
                        if let Step::Task { retry, .. } = s {
                            retry[i].max_delay_seconds = None;
                            retry[i].backoff_tenths = 10;
                            retry[i].interval_seconds = 1;
                        }
                    });
                }
            }
            if !catch.is_empty() {
                with(&|s| {
                    if let Step::Task { catch, .. } = s {
                        catch.clear()
                    }
                });
            }
            if mock.duration_ms > 0 || mock.result != 0 {
                with(&|s| {
                    if let Step::Task { mock, .. } = s {
                        mock.duration_ms = 0;
                        mock.result = 0;
                    }
                });
            }
            if mock.fail_first > 0 {
                with(&|s| {
                    if let Step::Task { mock, .. } = s {
                        mock.fail_first -= 1;
                    }
                });
            }
            if *parameters || *selector || !*keep_result {
                with(&|s| {
                    if let Step::Task {
                        parameters,
                        selector,
                        keep_result,
                        ..
                    } = s
                    {
                        *parameters = false;
                        *selector = false;
                        *keep_result = true;
                    }
                });
            }
        }
        Step::Loop { times, body } => {
            if *times > 1 {
                out.push(Step::Loop {
                    times: 1,
                    body: body.clone(),
                });
            }
            for b in steps_variants(body) {
                out.push(Step::Loop {
                    times: *times,
                    body: b,
                });
            }
        }
        Step::Parallel {
            branches,
            retry,
            catch,
        } => {
            if branches.len() > 1 {
                for i in 0..branches.len() {
                    let mut b = branches.clone();
                    b.remove(i);
                    out.push(Step::Parallel {
                        branches: b,
                        retry: retry.clone(),
                        catch: catch.clone(),
                    });
                }
            }
            if !retry.is_empty() {
                out.push(Step::Parallel {
                    branches: branches.clone(),
                    retry: Vec::new(),
                    catch: catch.clone(),
                });
            }
            if !catch.is_empty() {
                out.push(Step::Parallel {
                    branches: branches.clone(),
                    retry: retry.clone(),
                    catch: Vec::new(),
                });
            }
            for (i, branch) in branches.iter().enumerate() {
                for v in seq_variants(branch) {
                    let mut b = branches.clone();
                    b[i] = v;
                    out.push(Step::Parallel {
                        branches: b,
                        retry: retry.clone(),
                        catch: catch.clone(),
                    });
                }
            }
        }
        Step::Map {
            body,
            max_concurrency,
            tolerated,
            retry,
            catch,
        } => {
            let base = Step::Map {
                body: body.clone(),
                max_concurrency: *max_concurrency,
                tolerated: *tolerated,
                retry: retry.clone(),
                catch: catch.clone(),
            };
            let mut with = |f: &dyn Fn(&mut Step)| {
                let mut v = base.clone();
                f(&mut v);
                if v != base {
                    out.push(v);
                }
            };
            with(&|s| {
                if let Step::Map { retry, .. } = s {
                    retry.clear();
                }
            });
            with(&|s| {
                if let Step::Map { catch, .. } = s {
                    catch.clear();
                }
            });
            with(&|s| {
                if let Step::Map {
                    max_concurrency, ..
                } = s
                {
                    *max_concurrency = (*max_concurrency).min(1);
                }
            });
            with(&|s| {
                if let Step::Map { tolerated, .. } = s {
                    *tolerated = None;
                }
            });
            for v in seq_variants(body) {
                with(&|s| {
                    if let Step::Map { body, .. } = s {
                        *body = v.clone();
                    }
                });
            }
        }
    }
    out
}
