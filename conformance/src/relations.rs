//! Metamorphic relations: two runs that must agree, whatever the workflow does. Each returns
//! `Err(text)` describing the disagreement. The relations that compare runs with different
//! schedules hold only for race-free workflows ([`Workflow::race_free`]) and pass the others.

use crate::gen::dataflow::Flow;
use crate::gen::{in_map, in_parallel, render, sync2_parent, Rendered, TaskMock, Workflow};
use crate::run::{observable, run, run_definition, RunOptions};
use engine::{
    ExecutionResult, ExecutionStatus, HandlerFactory, Service, TaskHandler, WorkflowType,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn standard(seed: u64) -> RunOptions<'static> {
    RunOptions {
        seed,
        ..RunOptions::default()
    }
}

fn ran(
    what: &str,
    r: Result<ExecutionResult, crate::run::RunFailure>,
) -> Result<ExecutionResult, String> {
    r.map_err(|e| format!("{what}: {e}"))
}

/// The same seed gives the same history.
pub fn same_seed_same_history(rendered: &Rendered, input: &Value, seed: u64) -> Result<(), String> {
    let a = ran("first run", run(rendered, input, standard(seed)))?;
    let b = ran("second run", run(rendered, input, standard(seed)))?;
    if a.history != b.history {
        let at = a
            .history
            .iter()
            .zip(&b.history)
            .position(|(x, y)| x != y)
            .unwrap_or(a.history.len().min(b.history.len()));
        return Err(format!(
            "two runs with seed {seed} differ from event {}",
            at + 1
        ));
    }
    Ok(())
}

/// Other scheduler seeds never change status, output or error (the generated mocks answer by
/// attempt number, so generated workflows have no races).
pub fn seeds_agree(
    workflow: &Workflow,
    rendered: &Rendered,
    input: &Value,
    seeds: (u64, u64),
) -> Result<(), String> {
    if !workflow.race_free() {
        return Ok(());
    }
    let a = ran("seed a", run(rendered, input, standard(seeds.0)))?;
    let b = ran("seed b", run(rendered, input, standard(seeds.1)))?;
    if observable(&a) != observable(&b) {
        return Err(format!(
            "seed {} gives {:?}, seed {} gives {:?}",
            seeds.0,
            observable(&a),
            seeds.1,
            observable(&b)
        ));
    }
    Ok(())
}

/// Retry with MaxAttempts 0 everywhere records the same history as no Retry at all.
pub fn retry_zero_is_no_retry(workflow: &Workflow, input: &Value, seed: u64) -> Result<(), String> {
    let zero = render(&workflow.with_zero_retries());
    let none = render(&workflow.without_retries());
    let a = ran("MaxAttempts 0", run(&zero, input, standard(seed)))?;
    let b = ran("no Retry", run(&none, input, standard(seed)))?;
    if a.history != b.history {
        return Err(format!(
            "MaxAttempts 0 gives {:?} in {} events, no Retry {:?} in {} events",
            observable(&a),
            a.history.len(),
            observable(&b),
            b.history.len()
        ));
    }
    Ok(())
}

/// Standard and Express give the same status, output and error (for workflows that end
/// within Express's five minutes).
pub fn standard_is_express(
    workflow: &Workflow,
    rendered: &Rendered,
    input: &Value,
    seed: u64,
) -> Result<(), String> {
    if workflow.max_duration_ms() >= 5 * 60 * 1000 || !workflow.race_free() {
        return Ok(());
    }
    let a = ran("Standard", run(rendered, input, standard(seed)))?;
    let express = RunOptions {
        workflow_type: WorkflowType::Express,
        seed,
        prepare: None,
    };
    let b = ran("Express", run(rendered, input, express))?;
    if observable(&a) != observable(&b) {
        return Err(format!(
            "Standard gives {:?}, Express {:?}",
            observable(&a),
            observable(&b)
        ));
    }
    Ok(())
}

/// The workflow as the only branch of a Parallel state gives `[output]`, or fails with the
/// same error.
pub fn parallel_of_one(
    workflow: &Workflow,
    rendered: &Rendered,
    input: &Value,
    seed: u64,
) -> Result<(), String> {
    if !workflow.race_free() {
        return Ok(());
    }
    let a = ran("alone", run(rendered, input, standard(seed)))?;
    let wrapped = in_parallel(&rendered.definition);
    let b = ran(
        "in a Parallel",
        run_definition(&wrapped, &rendered.mocks, input, standard(seed)),
    )?;
    wrapped_agrees(&a, &b, "a Parallel of one branch")
}

/// The workflow as the processor of a Map over `[input]` gives `[output]`, or fails with the
/// same error.
pub fn map_of_one(
    workflow: &Workflow,
    rendered: &Rendered,
    input: &Value,
    seed: u64,
) -> Result<(), String> {
    if !workflow.race_free() {
        return Ok(());
    }
    let a = ran("alone", run(rendered, input, standard(seed)))?;
    let wrapped = in_map(&rendered.definition);
    let b = ran(
        "in a Map",
        run_definition(
            &wrapped,
            &rendered.mocks,
            &json!({"items": [input]}),
            standard(seed),
        ),
    )?;
    wrapped_agrees(&a, &b, "a Map over one item")
}

fn wrapped_agrees(
    alone: &ExecutionResult,
    wrapped: &ExecutionResult,
    what: &str,
) -> Result<(), String> {
    let want = (
        alone.status,
        alone.output.clone().map(|o| json!([o])),
        alone.error.clone(),
    );
    if observable(wrapped) != want {
        return Err(format!(
            "alone: {:?}; in {what}: {:?}",
            observable(alone),
            observable(wrapped)
        ));
    }
    Ok(())
}

/// Gives every execution of the service the generated mocks.
struct Mocks(BTreeMap<String, TaskMock>);

impl HandlerFactory for Mocks {
    fn handler(
        &mut self,
        _state_machine_name: &str,
        _test_case: Option<&str>,
    ) -> Result<Box<dyn TaskHandler>, String> {
        Ok(Box::new(crate::run::ModelHandler::new(self.0.clone())))
    }
}

/// The workflow run as a `.sync:2` child of a one-state parent gives the parent the same
/// output; a failing child fails the parent with `States.TaskFailed` and a cause naming the
/// child's error.
pub fn sync2_child(
    workflow: &Workflow,
    rendered: &Rendered,
    input: &Value,
    seed: u64,
) -> Result<(), String> {
    if !workflow.race_free() {
        return Ok(());
    }
    let alone = ran("alone", run(rendered, input, standard(seed)))?;
    let mut svc = Service::new()
        .with_seed(seed)
        .with_handlers(Mocks(rendered.mocks.clone()));
    let err = |e: engine::ServiceError| format!("{}: {}", e.code, e.message);
    let child = svc
        .create_state_machine(
            "Child",
            &rendered.definition.to_string(),
            WorkflowType::Standard,
            None,
        )
        .map_err(err)?;
    let parent = svc
        .create_state_machine(
            "Parent",
            &sync2_parent(&child.arn).to_string(),
            WorkflowType::Standard,
            None,
        )
        .map_err(err)?;
    let d = svc
        .start_execution(&parent.arn, Some("p"), Some(&input.to_string()))
        .map_err(err)?;
    // The child's output travels inside the parent's task result (its DescribeExecution
    // shape, input included), which may pass the 256 KiB payload limit when the output
    // alone does not: the relation holds away from the limit.
    let size = alone.output.as_ref().map_or(0, |o| o.to_string().len());
    if size > engine::PAYLOAD_LIMIT_BYTES / 2 {
        return Ok(());
    }
    match alone.status {
        ExecutionStatus::Succeeded => {
            if d.status != ExecutionStatus::Succeeded || d.output != alone.output {
                return Err(format!(
                    "alone: {:?}; as a .sync:2 child: {} {:?} {:?}",
                    observable(&alone),
                    d.status.as_str(),
                    d.output,
                    d.error
                ));
            }
        }
        _ => {
            let cause: Value = d
                .cause
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok())
                .unwrap_or(Value::Null);
            let child_error = cause.get("Error").and_then(Value::as_str);
            if d.status != ExecutionStatus::Failed
                || d.error.as_deref() != Some("States.TaskFailed")
                || child_error != alone.error.as_deref()
            {
                return Err(format!(
                    "alone: {:?}; as a .sync:2 child the parent ends {} {:?} (child error {:?})",
                    observable(&alone),
                    d.status.as_str(),
                    d.error,
                    child_error
                ));
            }
        }
    }
    Ok(())
}

/// A JSONPath data-flow state and its JSONata formulation give the same output.
pub fn jsonpath_is_jsonata(flow: &Flow, input: &Value) -> Result<(), String> {
    let mocks = flow.mocks();
    let a = ran(
        "JSONPath",
        run_definition(&flow.jsonpath(), &mocks, input, standard(0)),
    )?;
    let b = ran(
        "JSONata",
        run_definition(&flow.jsonata(), &mocks, input, standard(0)),
    )?;
    // The generated inputs fit the paths, so both must succeed: two identical failures
    // would make the comparison say nothing.
    if a.status != ExecutionStatus::Succeeded || observable(&a) != observable(&b) {
        return Err(format!(
            "JSONPath gives {:?}, JSONata {:?}",
            observable(&a),
            observable(&b)
        ));
    }
    Ok(())
}

/// Answers every task with [`engine::TaskOutcome::Pending`]: the scripted callers answer.
struct Pending;

impl TaskHandler for Pending {
    fn invoke(
        &mut self,
        _request: &engine::TaskRequest<'_>,
    ) -> Result<engine::TaskResponse, engine::TaskHandlerError> {
        Ok(engine::TaskResponse {
            outcome: engine::TaskOutcome::Pending { submitted: None },
            duration_ms: 0,
            submitted: None,
        })
    }
}

impl HandlerFactory for Pending {
    fn handler(
        &mut self,
        _state_machine_name: &str,
        _test_case: Option<&str>,
    ) -> Result<Box<dyn TaskHandler>, String> {
        Ok(Box::new(Pending))
    }
}

/// The definition with every generated Task state turned into a `.waitForTaskToken` call
/// that passes its token on.
fn as_callbacks(definition: &Value) -> Value {
    let mut d = definition.clone();
    fn walk(machine: &mut Value) {
        let Some(states) = machine.get_mut("States").and_then(Value::as_object_mut) else {
            return;
        };
        for (name, state) in states.iter_mut() {
            match state["Type"].as_str() {
                Some("Task") => {
                    state["Resource"] = json!("arn:aws:states:::lambda:invoke.waitForTaskToken");
                    state["Parameters"] = json!({
                        "FunctionName": name,
                        "Payload": {"token.$": "$$.Task.Token", "input.$": "$"},
                    });
                }
                Some("Parallel") => {
                    if let Some(branches) = state["Branches"].as_array_mut() {
                        branches.iter_mut().for_each(walk);
                    }
                }
                Some("Map") => walk(&mut state["ItemProcessor"]),
                _ => {}
            }
        }
    }
    walk(&mut d);
    d
}

/// The scripted calls that answer each task attempt of a run as its mock did, just after
/// the mock's instant: for the k-th LambdaFunctionScheduled of state S, the k-th token of S.
fn calls_from(history: &[engine::Event]) -> Vec<engine::ScriptedCall> {
    use engine::{EventKind, ScriptTime, ScriptedAction, ScriptedCall};
    let prev = |i: usize| -> Option<usize> {
        let p = history[i].previous_event_id.0 as usize;
        (p >= 1 && p - 1 < i).then(|| p - 1)
    };
    let child = |i: usize, f: &dyn Fn(&EventKind) -> bool| {
        (i + 1..history.len()).find(|&c| prev(c) == Some(i) && f(&history[c].kind))
    };
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    let mut calls = Vec::new();
    for (i, e) in history.iter().enumerate() {
        if !matches!(e.kind, EventKind::LambdaFunctionScheduled { .. }) {
            continue;
        }
        // The state: up the chain of attempts to its Entered event.
        let mut j = i;
        let name = loop {
            let Some(p) = prev(j) else { break None };
            if let EventKind::StateEntered { name, .. } = &history[p].kind {
                break Some(name.to_string());
            }
            j = p;
        };
        let Some(name) = name else { continue };
        let occurrence = seen.entry(name.clone()).or_default();
        *occurrence += 1;
        let Some(started) = child(i, &|k| matches!(k, EventKind::LambdaFunctionStarted)) else {
            continue;
        };
        let Some(end) = child(started, &|k| {
            matches!(
                k,
                EventKind::LambdaFunctionSucceeded { .. } | EventKind::LambdaFunctionFailed { .. }
            )
        }) else {
            continue;
        };
        let action = match &history[end].kind {
            EventKind::LambdaFunctionSucceeded { output } => ScriptedAction::Success {
                output: serde_json::from_str(output).unwrap_or(Value::Null),
            },
            EventKind::LambdaFunctionFailed { error, cause } => ScriptedAction::Failure {
                error: error.clone(),
                cause: cause.clone(),
            },
            _ => continue,
        };
        // The service sends every call due at an instant before the executions go on, so a
        // call at the very instant its token is issued (after a zero-time task answered by
        // an earlier call) would find no token. The i-th call comes i + 1 ms after the
        // mock's answer instead: later than the drift the earlier calls can have caused.
        let drift = calls.len() as i64 + 1;
        calls.push(ScriptedCall {
            at: ScriptTime::At(history[end].timestamp.plus_millis(drift)),
            state: name,
            occurrence: *occurrence,
            action,
        });
    }
    calls
}

/// Tasks answered by callbacks (`.waitForTaskToken`, answered by scripted callers just after
/// the instants the mocks answered, with the same results and errors) give the same outcome as
/// the mocked tasks.
pub fn callbacks_equal_mocks(workflow: &Workflow, input: &Value, seed: u64) -> Result<(), String> {
    // Scripted calls name a token by its occurrence per state; with concurrent branches the
    // tokens a fail-fast lets through depend on instants the callbacks shift, so the
    // relation is kept to workflows without Parallel and Map states (loops, retries,
    // catches, choices and waits remain).
    if workflow.has_concurrency() {
        return Ok(());
    }
    // A mock that answers in zero time fails or succeeds before a sibling branch even
    // schedules its task, while a callback never answers before the other branches have
    // run: tasks that take time issue the same tokens in both runs.
    let rendered = &render(&workflow.with_min_task_duration(1));
    let alone = ran("mocked", run(rendered, input, standard(seed)))?;
    let calls = calls_from(&alone.history);
    let mut svc = Service::new().with_seed(seed).with_handlers(Pending);
    let err = |e: engine::ServiceError| format!("{}: {}", e.code, e.message);
    let machine = svc
        .create_state_machine(
            "Callbacks",
            &as_callbacks(&rendered.definition).to_string(),
            WorkflowType::Standard,
            None,
        )
        .map_err(err)?;
    let d = svc
        .start_execution_with_script(&machine.arn, Some("c"), Some(&input.to_string()), calls)
        .map_err(err)?;
    let got = (d.status, d.output.clone(), d.error.clone());
    if got != observable(&alone) {
        return Err(format!(
            "mocked: {:?}; answered by callbacks: {got:?}",
            observable(&alone)
        ));
    }
    Ok(())
}
