//! Distributed Map on the fiber scheduler: a Map Run whose child executions are fibers that
//! record nothing in the parent history (their events are numbered in their own histories,
//! see `History::start_child`), whose failures count toward the tolerated threshold instead
//! of failing fast, and whose ItemReader and ResultWriter go through the task handler.
//!
//! The pure parts (reading, batching, thresholds, result files) are in `crate::map_run`; the
//! events and their links are documented there.

use super::Failure;
use super::{display_value, effective_input, Execution, FiberId, Join, Phase, Resume, StepError};
use crate::history::{EventId, EventKind};
use crate::jsonpath::JsonPath;
use crate::map_run::{self, Child, DistributedSpec, MaxItems, Percentage, RunState, Tolerance};
use crate::model::{error_matches, MapSpec, Seconds, StateKind};
use crate::scope::Scope;
use crate::task::{TaskHandler, TaskHandlerError, TaskOutcome, TaskRequest};
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::sync::Arc;

/// The `*Path` settings of a Map Run, resolved against the state's effective input.
struct Settings {
    max_items: Option<i64>,
    max_concurrency: usize,
    tolerance: Tolerance,
    batch: Option<(Option<u64>, Option<u64>, Option<Value>)>,
    writer_parameters: Option<Value>,
}

/// `The FIELD field refers to value "V" which is not a valid KIND: PATH`, AWS's wording for a
/// `*Path` that selects a value of the wrong type (recorded on AWS for MaxItemsPath,
/// ToleratedFailureCountPath and ToleratedFailurePercentagePath; the same as MaxConcurrencyPath).
fn not_valid(field: &str, v: &Value, kind: &str, path: &JsonPath) -> StepError {
    (
        Cow::Borrowed("States.Runtime"),
        format!(
            "The {field} field refers to value \"{}\" which is not a valid {kind}: {}",
            display_value(v),
            path.as_str()
        ),
    )
}

impl Execution {
    fn scope_value(&self, path: &JsonPath, input: &Value, context: &Value) -> Value {
        Scope {
            input,
            context,
            variables: &self.variables,
        }
        .resolve(path)
        .unwrap_or(Value::Null)
    }

    /// An integer setting (`MaxConcurrency`, `MaxItemsPerBatch`, ...), fixed or from a path.
    fn count_setting(
        &self,
        s: Option<&Seconds>,
        field: &str,
        input: &Value,
        context: &Value,
    ) -> Result<Option<i64>, StepError> {
        match s {
            None => Ok(None),
            Some(Seconds::Fixed(n)) => Ok(Some(*n as i64)),
            // Distributed Map states in JSONata are refused when the definition loads.
            Some(Seconds::Expr(_)) => Err(jsonata_refused(field)),
            Some(Seconds::Path(p)) => {
                let v = self.scope_value(p, input, context);
                v.as_i64()
                    .map(Some)
                    .ok_or_else(|| not_valid(&format!("{field}Path"), &v, "integer", p))
            }
        }
    }

    fn settings(
        &mut self,
        spec: &MapSpec,
        dist: &DistributedSpec,
        input: &Value,
        context: &Value,
    ) -> Result<Settings, StepError> {
        let max_items = match dist.reader.as_ref().and_then(|r| r.max_items.as_ref()) {
            None => None,
            Some(MaxItems::Fixed(n)) => Some(*n),
            Some(MaxItems::Path(p)) => {
                let v = self.scope_value(p, input, context);
                Some(
                    v.as_i64()
                        .ok_or_else(|| not_valid("MaxItemsPath", &v, "integer", p))?,
                )
            }
        };
        let max_concurrency = match &spec.max_concurrency {
            Some(Seconds::Path(p)) => {
                let v = self.scope_value(p, input, context);
                v.as_u64()
                    .ok_or_else(|| not_valid("MaxConcurrencyPath", &v, "integer", p))?
            }
            Some(Seconds::Fixed(n)) => *n,
            Some(Seconds::Expr(_)) => return Err(jsonata_refused("MaxConcurrency")),
            None => 0,
        };
        let max_concurrency = match max_concurrency as usize {
            0 => map_run::MAX_CHILDREN_AT_ONCE,
            n => n.min(map_run::MAX_CHILDREN_AT_ONCE),
        };
        let count = self.count_setting(
            dist.tolerated_count.as_ref(),
            "ToleratedFailureCount",
            input,
            context,
        )?;
        if count.is_some_and(|c| c < 0) {
            // Recorded on AWS (`test_map_state_tolerated_failure_count_path[-1]`).
            return Err((
                Cow::Borrowed("States.Runtime"),
                "ToleratedFailureCount cannot be negative.".into(),
            ));
        }
        let percentage =
            match &dist.tolerated_percentage {
                None => None,
                Some(Percentage::Fixed(p)) => Some(*p),
                Some(Percentage::Path(p)) => {
                    let v = self.scope_value(p, input, context);
                    Some(v.as_f64().ok_or_else(|| {
                        not_valid("ToleratedFailurePercentagePath", &v, "float", p)
                    })?)
                }
            };
        if percentage.is_some_and(|p| !(0.0..=100.0).contains(&p)) {
            // Recorded on AWS (`test_map_state_tolerated_failure_percentage_path[-1.1]`).
            return Err((
                Cow::Borrowed("States.Runtime"),
                "ToleratedFailurePercentage must be between 0 and 100.".into(),
            ));
        }
        let batch = match &dist.batcher {
            None => None,
            Some(b) => {
                let items =
                    self.count_setting(b.max_items.as_ref(), "MaxItemsPerBatch", input, context)?;
                let bytes = self.count_setting(
                    b.max_bytes.as_ref(),
                    "MaxInputBytesPerBatch",
                    input,
                    context,
                )?;
                let batch_input = match &b.batch_input {
                    Some(t) => Some(self.apply_template(Some(t), Cow::Borrowed(input), context)?),
                    None => None,
                };
                Some((
                    items.map(|n| n.max(0) as u64),
                    bytes.map(|n| n.max(0) as u64),
                    batch_input,
                ))
            }
        };
        let writer_parameters = match dist.writer.as_ref().and_then(|w| w.parameters.as_ref()) {
            Some(t) => Some(self.apply_template(Some(t), Cow::Borrowed(input), context)?),
            None => None,
        };
        Ok(Settings {
            max_items,
            max_concurrency,
            tolerance: Tolerance {
                count: count.map(|c| c as u64),
                percentage,
            },
            batch,
            writer_parameters,
        })
    }

    /// Starts a Distributed Map state: MapStateStarted, the Map Run, its items, its children.
    pub(super) fn map_run_start(
        &mut self,
        h: &mut dyn TaskHandler,
        fid: FiberId,
        spec: &MapSpec,
        input: Value,
        attempts_per_retrier: Vec<u32>,
    ) -> Result<(), TaskHandlerError> {
        let Some(dist) = spec.distributed.as_deref() else {
            return Ok(());
        };
        let state = self.state_of(fid);
        let context = self.context_for(fid, 0);
        let entered = self.fibers[fid].entered;
        // The items from the input: an ItemReader reads its own after MapRunStarted.
        let prepared = (|| {
            let effective = effective_input(state.input_path.as_ref(), &input, &context)?;
            if dist.reader.is_some() {
                return Ok((effective.into_owned(), None));
            }
            let items = super::map_items(
                spec.items_path.as_ref(),
                &effective,
                &context,
                &self.variables,
            )?;
            Ok((effective.into_owned(), Some(items)))
        })();
        let (effective, items) = match prepared {
            Ok(p) => p,
            Err((error, detail)) => {
                let f = self.runtime_failure(&state, entered, &error, &detail);
                self.finish_fiber(fid, Err(f));
                return Ok(());
            }
        };
        let length = items.as_ref().map_or(0, Vec::len);
        self.record(fid, EventKind::MapStateStarted { length });
        let settings = match self.settings(spec, dist, &effective, &context) {
            Ok(s) => s,
            Err((error, detail)) => {
                let f = self.runtime_failure(&state, entered, &error, &detail);
                self.finish_fiber(fid, Err(f));
                return Ok(());
            }
        };
        let id = crate::intrinsics::uuid_v4(&mut self.rng);
        // Assumption (AWS does not document it): without a Label, the run's label is a
        // generated UUID, as LocalStack generates one.
        let label = match &dist.label {
            Some(l) => l.clone(),
            None => crate::intrinsics::uuid_v4(&mut self.rng),
        };
        let (arn, machine_arn) = map_run::arns(
            &self.config.region,
            &self.config.account,
            &self.config.state_machine_name,
            &label,
            &id,
        );
        self.record(
            fid,
            EventKind::MapRunStarted {
                map_run_arn: arn.clone(),
            },
        );
        let items = match items {
            Some(items) => items,
            None => {
                match self.read_items(h, fid, dist, &effective, &context, settings.max_items)? {
                    Ok(items) => items,
                    Err((error, cause)) => {
                        let f = Failure::new(error, cause);
                        return self.map_run_fail(fid, spec, input, attempts_per_retrier, f);
                    }
                }
            }
        };
        // ItemSelector, per item, with $$.Map.Item.
        let mut inputs = Vec::with_capacity(items.len());
        let mut ctx = if spec.item_selector.is_some() {
            context.clone()
        } else {
            Value::Null
        };
        for (index, item) in items.into_iter().enumerate() {
            let value = match &spec.item_selector {
                Some(t) => {
                    if ctx.is_object() {
                        ctx["Map"] = json!({"Item": {"Index": index, "Value": item}});
                    }
                    let scope = Scope {
                        input: &effective,
                        context: &ctx,
                        variables: &self.variables,
                    };
                    match t.eval(&scope, &mut self.rng, &mut self.spares) {
                        Ok(v) => v,
                        Err(e) => {
                            // Assumption: an ItemSelector error fails the Map Run with the
                            // state's usual run-time error.
                            let f = self.runtime_failure(&state, entered, &e.error, &e.message);
                            return self.map_run_fail(fid, spec, input, attempts_per_retrier, f);
                        }
                    }
                }
                None => item,
            };
            inputs.push(value);
        }
        let total_items = inputs.len();
        let batches: Vec<(Value, usize)> = match &settings.batch {
            Some((max_items, max_bytes, batch_input)) => {
                map_run::batches(inputs, *max_items, *max_bytes, batch_input.as_ref())
            }
            None => inputs.into_iter().map(|v| (v, 1)).collect(),
        };
        let mut children = Vec::with_capacity(batches.len());
        let mut inputs = Vec::with_capacity(batches.len());
        for (slot, (child_input, n)) in batches.into_iter().enumerate() {
            let name = crate::intrinsics::uuid_v4(&mut self.rng);
            let extra = if dist.express {
                crate::intrinsics::uuid_v4(&mut self.rng)
            } else {
                String::new()
            };
            children.push(Child {
                arn: map_run::child_arn(&machine_arn, &name, dist.express, &extra),
                number: None,
                name,
                input: child_input.clone(),
                items: n,
                start: None,
                stop: None,
                outcome: None,
            });
            debug_assert_eq!(slot, inputs.len());
            inputs.push(child_input);
        }
        let pending = super::pending::PendingItems::of_items(inputs);
        let n = children.len();
        let started = self.fibers[fid].last;
        let join = Join {
            input,
            children: vec![None; n],
            results: vec![None; n],
            pending,
            running: 0,
            max_concurrency: settings.max_concurrency,
            last_done: started,
            is_map: true,
            attempts_per_retrier,
            map_run: Some(Box::new(RunState {
                arn,
                id,
                machine_arn,
                children,
                total_items,
                failed_items: 0,
                tolerance: settings.tolerance,
                writer_parameters: settings.writer_parameters,
            })),
            keep_results: true,
        };
        self.set_phase(fid, Phase::Join(Box::new(join)));
        self.map_run_fill(fid, spec);
        self.map_run_check_done(fid);
        Ok(())
    }

    /// Reads the ItemReader's items through the handler. `Err` inside is a failure of the Map
    /// Run (AWS's error and cause).
    fn read_items(
        &mut self,
        h: &mut dyn TaskHandler,
        fid: FiberId,
        dist: &DistributedSpec,
        effective: &Value,
        context: &Value,
        max_items: Option<i64>,
    ) -> Result<Result<Vec<Value>, map_run::RunFailure>, TaskHandlerError> {
        let Some(reader) = &dist.reader else {
            return Ok(Ok(Vec::new()));
        };
        let limit = match map_run::max_items(max_items) {
            Ok(l) => l,
            Err(f) => return Ok(Err(f)),
        };
        let state = self.state_of(fid);
        let entered = self.fibers[fid].entered;
        let mut parameters = match self.apply_template(
            reader.parameters.as_ref(),
            Cow::Borrowed(effective),
            context,
        ) {
            Ok(p) => p,
            Err((error, detail)) => {
                let f = self.runtime_failure(&state, entered, &error, &detail);
                return Ok(Err((
                    f.error.unwrap_or_default(),
                    f.cause.unwrap_or_default(),
                )));
            }
        };
        if reader.parameters.is_none() {
            parameters = json!({});
        }
        let mut items = Vec::new();
        loop {
            let request = TaskRequest {
                state_name: state.name.as_str(),
                resource: &reader.resource,
                parameters: &parameters,
                state_machine_name: &self.config.state_machine_name,
                execution_name: &self.config.execution_name,
                attempt: 0,
                task_token: None,
            };
            let response = h.invoke(&request)?;
            let value = match response.outcome {
                TaskOutcome::Succeeded(v) => v,
                TaskOutcome::Failed { error, cause } => {
                    // Assumption: a failed S3 call fails the Map Run with
                    // States.ItemReaderFailed and the service's cause.
                    return Ok(Err((
                        "States.ItemReaderFailed".into(),
                        cause.unwrap_or(error),
                    )));
                }
                #[allow(unreachable_patterns)]
                _ => Value::Null,
            };
            if !reader.list_objects {
                let text = map_run::object_text(&value);
                return Ok(map_run::items_from_text(reader, &text, limit));
            }
            let (page, next) = map_run::listed_objects(&value);
            items.extend(page);
            match next {
                Some(token) if items.len() < limit => {
                    if let Some(o) = parameters.as_object_mut() {
                        o.insert("ContinuationToken".into(), Value::String(token));
                    }
                }
                _ => break,
            }
        }
        items.truncate(limit);
        Ok(Ok(items))
    }

    /// Starts pending child executions while MaxConcurrency allows. They record nothing in
    /// this history: each starts its own.
    fn map_run_fill(&mut self, fid: FiberId, spec: &MapSpec) {
        loop {
            let Phase::Join(join) = &mut self.fibers[fid].phase else {
                return;
            };
            if join.running >= join.max_concurrency {
                return;
            }
            let Some((slot, _, input)) = join.pending.pop_front(false, None) else {
                return;
            };
            join.running += 1;
            let now = self.now;
            if let Some(run) = join.map_run.as_mut() {
                run.children[slot].start = Some(now);
            }
            let child = self.spawn(fid, slot, &spec.processor, input, None);
            // AWS (Developer Guide, "Passing data between states with variables", variable
            // scope): the child workflows of a Distributed Map are separate executions and
            // cannot read the parent's variables; data reaches them through ItemSelector.
            self.fibers[child].variables = Some(Arc::new(Map::new()));
            let start = self.history.start_child();
            self.fibers[child].last = start;
            if let Phase::Join(join) = &mut self.fibers[fid].phase {
                join.children[slot] = Some(child);
                if let Some(run) = join.map_run.as_mut() {
                    run.children[slot].number = crate::history::History::child_number(start);
                }
            }
        }
    }

    /// When every child execution has ended, the parent finishes the Map Run at its next step
    /// (writing results may call the handler).
    fn map_run_check_done(&mut self, fid: FiberId) {
        let Phase::Join(join) = &self.fibers[fid].phase else {
            return;
        };
        if join.running > 0 || !join.pending.is_empty() {
            return;
        }
        let Phase::Join(join) = self.take_phase(fid) else {
            return;
        };
        let now = self.now;
        self.set_phase_until(fid, now, Phase::Sleeping(Resume::MapRunDone(join)));
    }

    /// A child execution ended. Returns the result back when `parent` is not a Map Run.
    pub(super) fn map_run_child_finished(
        &mut self,
        parent: FiberId,
        slot: usize,
        result: Result<Value, Failure>,
    ) -> Option<Result<Value, Failure>> {
        if !matches!(&self.fibers[parent].phase, Phase::Join(j) if j.map_run.is_some()) {
            return Some(result);
        }
        let now = self.now;
        let state = self.state_of(parent);
        let StateKind::Map(spec) = &state.kind else {
            return None;
        };
        let Phase::Join(join) = &mut self.fibers[parent].phase else {
            return None;
        };
        join.children[slot] = None;
        join.running -= 1;
        let run = join.map_run.as_mut()?;
        let child = &mut run.children[slot];
        child.stop = Some(now);
        let mut exceeded = false;
        match result {
            Ok(v) => child.outcome = Some(Ok(v)),
            Err(f) => {
                child.outcome = Some(Err((f.error, f.cause)));
                run.failed_items += child.items;
                exceeded = run.tolerance.exceeded(run.failed_items, run.total_items);
            }
        }
        if exceeded {
            let Phase::Join(join) = self.take_phase(parent) else {
                return None;
            };
            self.abort_children(&join);
            // Assumption: AWS's cause (its documentation names only the error); the wording of
            // Step Functions' TestState API as LocalStack reproduces it.
            let f = Failure::new(
                "States.ExceedToleratedFailureThreshold",
                "The specified tolerated failure threshold was exceeded",
            );
            let Join {
                input,
                attempts_per_retrier,
                ..
            } = *join;
            let _ = self.map_run_fail(parent, spec, input, attempts_per_retrier, f);
            return None;
        }
        self.map_run_fill(parent, spec);
        self.map_run_check_done(parent);
        None
    }

    /// Child executions whose history reached the 25,000-event limit fail, each with the
    /// error the top level fails with (assumption: AWS fails a child execution as it fails
    /// any execution that reaches the limit); the Map Run counts them as failed items.
    #[inline]
    pub(super) fn map_run_full_children(&mut self) {
        // Asked before every step: the usual answer, none, is decided without taking the list.
        if !self.history.has_full_children() {
            return;
        }
        let full = self.history.take_full_children();
        for number in full {
            // A scan of every fiber, but only when a child execution has just reached the
            // limit, which is rare.
            let found = (0..self.fibers.len()).find_map(|p| match &self.fibers[p].phase {
                Phase::Join(join) => {
                    let run = join.map_run.as_ref()?;
                    let slot = run.children.iter().position(|c| c.number == Some(number))?;
                    Some((p, slot, join.children[slot]?))
                }
                _ => None,
            });
            let Some((parent, slot, child)) = found else {
                continue;
            };
            let last = self.fibers[child].last;
            self.abort(child, last);
            let f = Failure::new(
                "States.Runtime",
                format!(
                    "The execution reached the maximum number of history events ({}).",
                    super::MAX_HISTORY_EVENTS
                ),
            );
            self.child_finished(parent, slot, child, Err(f));
        }
    }

    /// Stops the running child executions; what they record stays in their own histories.
    fn abort_children(&mut self, join: &Join) {
        for c in join.children.iter().flatten() {
            let last = self.fibers[*c].last;
            self.abort(*c, last);
        }
    }

    /// The Map Run failed: MapRunFailed, then Retry, or MapStateFailed and Catch.
    fn map_run_fail(
        &mut self,
        fid: FiberId,
        spec: &MapSpec,
        input: Value,
        mut attempts: Vec<u32>,
        failure: Failure,
    ) -> Result<(), TaskHandlerError> {
        self.record(
            fid,
            EventKind::MapRunFailed {
                error: failure.error.clone(),
                cause: failure.cause.clone(),
            },
        );
        let error = failure.error.clone().unwrap_or_default();
        if let Some(i) = spec
            .retry
            .iter()
            .position(|r| error_matches(&r.errors, &error, failure.from_task))
        {
            let r = &spec.retry[i];
            if attempts[i] < r.max_attempts {
                // As for an inline Map: no Failed event between attempts; the next
                // MapStateStarted follows the failure.
                let delay = r.delay_ms(attempts[i], &mut self.rng);
                attempts[i] += 1;
                let now = self.now;
                let phase = Phase::Sleeping(Resume::JoinRetry(Box::new((input, attempts))));
                self.set_phase_until(fid, now.plus_millis(delay), phase);
                return Ok(());
            }
        }
        self.record(fid, EventKind::MapStateFailed);
        let outcome = self.catch(fid, &spec.catch, input, failure);
        self.complete(fid, outcome)
    }

    /// Every child execution has ended within the threshold: write the results if asked,
    /// then MapRunSucceeded, MapStateSucceeded and the state's output.
    pub(super) fn map_run_finish(
        &mut self,
        h: &mut dyn TaskHandler,
        fid: FiberId,
        join: Box<Join>,
    ) -> Result<(), TaskHandlerError> {
        let state = self.state_of(fid);
        let StateKind::Map(spec) = &state.kind else {
            return Ok(());
        };
        let Some(dist) = spec.distributed.as_deref() else {
            return Ok(());
        };
        let Join {
            input,
            attempts_per_retrier,
            map_run,
            ..
        } = *join;
        let Some(run) = map_run else {
            return Ok(());
        };
        let output = match &dist.writer {
            Some(w) => match &w.resource {
                Some(resource) => {
                    let params = run.writer_parameters.clone().unwrap_or(Value::Null);
                    let bucket = params.get("Bucket").and_then(Value::as_str).unwrap_or("");
                    let prefix = params.get("Prefix").and_then(Value::as_str).unwrap_or("");
                    let (files, manifest) = map_run::written(&run, bucket, prefix, w);
                    for file in files {
                        let parameters =
                            json!({"Bucket": bucket, "Key": file.key, "Body": file.body});
                        let request = TaskRequest {
                            state_name: state.name.as_str(),
                            resource,
                            parameters: &parameters,
                            state_machine_name: &self.config.state_machine_name,
                            execution_name: &self.config.execution_name,
                            attempt: 0,
                            task_token: None,
                        };
                        let response = h.invoke(&request)?;
                        if let TaskOutcome::Failed { error, cause } = response.outcome {
                            // Assumption: as for the reader, the service's cause.
                            let f =
                                Failure::new("States.ResultWriterFailed", cause.unwrap_or(error));
                            return self.map_run_fail(fid, spec, input, attempts_per_retrier, f);
                        }
                    }
                    json!({
                        "MapRunArn": run.arn,
                        "ResultWriterDetails": {"Bucket": bucket, "Key": manifest},
                    })
                }
                None => Value::Array(map_run::results(&run, w.transformation)),
            },
            None => Value::Array(map_run::results(&run, map_run::Transformation::Compact)),
        };
        let succeeded = self.record(fid, EventKind::MapRunSucceeded);
        let now = self.now;
        self.history
            .record(succeeded, now, EventKind::MapStateSucceeded);
        let context = self.context_for(fid, 0);
        let outcome = self.result_stages(
            fid,
            &state,
            (spec.result_selector.as_ref(), &spec.result_path),
            input,
            Cow::Owned(output),
            &context,
        );
        self.complete(fid, outcome)
    }

    /// The Distributed Map is stopped (a sibling branch failed): its child executions are
    /// stopped, then MapRunAborted and MapStateAborted follow `after` (assumption: the order
    /// of AWS's abort events for a Map Run is not documented).
    pub(super) fn map_run_abort(&mut self, fid: FiberId, join: Box<Join>, after: EventId) {
        self.abort_children(&join);
        let now = self.now;
        let st = self.state_of(fid).kind.type_name();
        self.history.record(after, now, EventKind::MapRunAborted);
        self.history
            .record(after, now, EventKind::StateAborted { state_type: st });
    }

    /// `$$.Execution` and `$$.StateMachine` inside a child execution are the child's: its ARN,
    /// name, input and start, and the Map Run's state machine `MACHINE/LABEL` (assumption for
    /// `StateMachine.Name`: the ARN's resource part).
    pub(super) fn child_execution_context(&self, fid: FiberId, ctx: &mut Value) {
        let mut f = fid;
        while let Some((parent, slot)) = self.fibers[f].parent {
            if let Phase::Join(join) = &self.fibers[parent].phase {
                if let Some(run) = &join.map_run {
                    let child = &run.children[slot];
                    ctx["Execution"] = json!({
                        "Id": child.arn,
                        "Input": child.input,
                        "Name": child.name,
                        "RoleArn": self.config.role_arn,
                        "StartTime": child.start.map(|s| s.to_rfc3339()),
                        "RedriveCount": 0,
                    });
                    let name = run
                        .machine_arn
                        .split_once(":stateMachine:")
                        .map_or("", |(_, n)| n);
                    ctx["StateMachine"] = json!({"Id": run.machine_arn, "Name": name});
                    return;
                }
            }
            f = parent;
        }
    }
}

/// The error for a JSONata field in a Distributed Map, which the model refuses at load time,
/// so this is never reached by a definition that loaded.
fn jsonata_refused(field: &str) -> StepError {
    (
        Cow::Borrowed("States.Runtime"),
        format!("not supported yet: the JSONata field '{field}' of a Distributed Map"),
    )
}
