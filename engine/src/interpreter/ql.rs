//! The data flow of JSONata states: `Arguments`, `Output`, `Assign`, `Items`, `Condition`
//! and the other expression fields, evaluated with `$states` and the workflow variables.
//!
//! A failing expression fails the state with States.QueryEvaluationError and records an
//! EvaluationFailed event naming the field, as AWS does.

use super::pending::PendingItems;
use super::*;
use crate::model::{ChoiceTest, JsonataFields};
use crate::query::{self, JTemplate, QueryError, States};

/// What an instant JSONata state decided, before its input is moved into its output.
enum Decision {
    /// Go on with this output (`None`: the input) to this transition.
    Go(Option<Value>, Transition),
    /// A Fail state's error.
    Fail(Failure),
}

impl Execution {
    /// Evaluates a JSONata template. On failure, the field's location is kept for the
    /// EvaluationFailed event that `runtime_failure` attaches to the failure.
    pub(super) fn jeval(&mut self, t: &JTemplate, states: &States<'_>) -> Result<Value, StepError> {
        let mut clock = query::Clock {
            now_millis: self.now.millis(),
            rng: &mut self.rng,
        };
        let result = t.eval(states, &self.variables, &mut clock);
        result.map_err(|e| self.query_error(e))
    }

    /// Turns a query error into a step error, remembering where it happened.
    pub(super) fn query_error(&mut self, e: QueryError) -> StepError {
        self.query_location = Some(e.location);
        (Cow::Borrowed(e.error), e.detail)
    }

    /// Evaluates a JSONata `Assign` and keeps the variables on the fiber until the state
    /// exits (they are not visible to the same state's `Output`).
    pub(super) fn jassign(
        &mut self,
        fid: FiberId,
        assign: Option<&JTemplate>,
        states: &States<'_>,
    ) -> Result<(), StepError> {
        let Some(t) = assign else {
            return Ok(());
        };
        let value = self.jeval(t, states)?;
        self.store_assigned(fid, value)
    }

    /// `Output`, or `default` when the state has none.
    fn joutput(
        &mut self,
        output: Option<&JTemplate>,
        states: &States<'_>,
    ) -> Result<Option<Value>, StepError> {
        output.map(|t| self.jeval(t, states)).transpose()
    }

    /// Records the EvaluationFailed event of a failure that came from a JSONata expression.
    pub(super) fn evaluation_failed(&mut self, fid: FiberId, f: &mut Failure) {
        let Some(location) = f.evaluation.take() else {
            return;
        };
        let state = self.state_of(fid);
        let entered = self.fibers[fid].entered;
        // Recorded on AWS: the event follows the event before the state's Entered event
        // (its previousEventId is the Entered event's own previousEventId), except for the
        // Timestamp of a Wait state, where it follows the Entered event.
        let previous = if matches!(state.kind, StateKind::Wait(_)) {
            entered
        } else {
            self.history.previous_of(entered).unwrap_or(entered)
        };
        let now = self.now;
        let id = self.history.record(
            previous,
            now,
            EventKind::EvaluationFailed {
                error: f.error.clone().unwrap_or_default(),
                cause: f.cause.clone().unwrap_or_default(),
                location,
                state: state.name.0.to_string(),
            },
        );
        self.fibers[fid].last = id;
    }

    /// Pass, Choice, Succeed and Fail in a JSONata state.
    pub(super) fn jinstant(
        &mut self,
        fid: FiberId,
        state: &State,
        j: &JsonataFields,
        input: Value,
        entered: EventId,
        context: &Value,
    ) -> Outcome {
        // The closure decides; the input is moved into the output afterwards, so a state
        // without Output does not copy its input.
        let result = (|| -> Result<Decision, StepError> {
            let states = States {
                input: &input,
                result: None,
                error_output: None,
                context,
            };
            match &state.kind {
                StateKind::Fail { error, cause } => {
                    let error = self.jerror_text(error, &states)?;
                    let cause = self.jerror_text(cause, &states)?;
                    Ok(Decision::Fail(Failure {
                        error,
                        cause,
                        from_task: false,
                        evaluation: None,
                    }))
                }
                StateKind::Pass { .. } | StateKind::Succeed => {
                    if matches!(state.kind, StateKind::Pass { .. }) {
                        self.jassign(fid, j.assign.as_ref(), &states)?;
                    }
                    let output = self.joutput(j.output.as_ref(), &states)?;
                    let next = match state.kind {
                        StateKind::Succeed => Transition::End,
                        _ => state.next,
                    };
                    Ok(Decision::Go(output, next))
                }
                StateKind::Choice { choices, default } => {
                    let mut chosen = None;
                    for branch in choices {
                        let ChoiceTest::Condition(t) = &branch.rule else {
                            continue;
                        };
                        match self.jeval(t, &states)? {
                            Value::Bool(true) => {
                                chosen = Some((
                                    branch.next,
                                    branch.jassign.as_ref(),
                                    branch.output.as_ref(),
                                ));
                                break;
                            }
                            Value::Bool(false) => {}
                            // Assumption: AWS words a non-boolean Condition like the other
                            // result-type errors ("Expected 'boolean'").
                            other => {
                                let e = match t.as_expr() {
                                    Some(expr) => expr.wrong_type("boolean", &other),
                                    None => QueryError::at(
                                        Some("Condition"),
                                        format!(
                                            "The field 'Condition' must be a boolean, but was '{}'",
                                            query::json_type(&other)
                                        ),
                                    ),
                                };
                                return Err(self.query_error(e));
                            }
                        }
                    }
                    let chosen = chosen
                        .or_else(|| default.map(|d| (d, j.assign.as_ref(), j.output.as_ref())));
                    let Some((next, assign, output)) = chosen else {
                        // AWS: an unmatched Choice without Default fails with
                        // States.NoChoiceMatched.
                        return Err((
                            Cow::Borrowed("States.NoChoiceMatched"),
                            "No Matches!".into(),
                        ));
                    };
                    self.jassign(fid, assign, &states)?;
                    let output = self.joutput(output, &states)?;
                    Ok(Decision::Go(output, Transition::Next(next)))
                }
                _ => Err((
                    Cow::Borrowed("States.Runtime"),
                    "internal error: a state that takes time was run as an instant one".into(),
                )),
            }
        })();
        match result {
            Ok(Decision::Go(output, next)) => Outcome::Done(output.unwrap_or(input), next),
            Ok(Decision::Fail(f)) => Outcome::Failed(f),
            Err((error, detail)) => {
                Outcome::Failed(self.runtime_failure(state, entered, &error, &detail))
            }
        }
    }

    /// A Fail state's Error or Cause in a JSONata state.
    fn jerror_text(
        &mut self,
        text: &ErrorText,
        states: &States<'_>,
    ) -> Result<Option<String>, StepError> {
        match text {
            ErrorText::None => Ok(None),
            ErrorText::Literal(s) => Ok(Some(s.clone())),
            ErrorText::Expr(t) => match self.jeval(t, states)? {
                Value::String(s) => Ok(Some(s)),
                // Assumption: AWS requires a string and words the error like its other
                // result-type errors.
                other => {
                    let e = match t.as_expr() {
                        Some(expr) => expr.wrong_type("string", &other),
                        None => QueryError::at(None, "The value must be a string".into()),
                    };
                    Err(self.query_error(e))
                }
            },
            ErrorText::Path(_) | ErrorText::Intrinsic(_) => Err((
                Cow::Borrowed("States.Runtime"),
                "internal error: a JSONPath field in a JSONata state".into(),
            )),
        }
    }

    /// When a JSONata Wait state ends, its output, and its assignments kept on the fiber.
    pub(super) fn jwait(
        &mut self,
        fid: FiberId,
        wait: &WaitFor,
        j: &JsonataFields,
        input: Value,
        context: &Value,
    ) -> Result<(Timestamp, Value), StepError> {
        let now = self.now;
        let states = States {
            input: &input,
            result: None,
            error_output: None,
            context,
        };
        let until = match wait {
            WaitFor::SecondsExpr(t) => {
                let v = self.jeval(t, &states)?;
                match v.as_i64().filter(|s| *s >= 0) {
                    Some(secs) => now.plus_millis(secs.saturating_mul(1000)),
                    // Assumption: a negative or fractional number of seconds is a result-type
                    // error, as for the other fields.
                    None => {
                        let e = match t.as_expr() {
                            Some(expr) => expr.wrong_type("integer", &v),
                            None => QueryError::at(Some("Seconds"), "Invalid Seconds".into()),
                        };
                        return Err(self.query_error(e));
                    }
                }
            }
            WaitFor::TimestampExpr(t) => {
                let v = self.jeval(t, &states)?;
                let parsed = v.as_str().and_then(Timestamp::parse_rfc3339);
                match parsed {
                    Some(ts) => ts,
                    None => {
                        // Recorded on AWS (with the error States.QueryEvaluationError and
                        // the location Timestamp).
                        let e = QueryError::at(
                            Some("Timestamp"),
                            format!(
                                "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {}",
                                display_value(&v)
                            ),
                        );
                        return Err(self.query_error(e));
                    }
                }
            }
            other => wait_until(other, now, &input, context, &self.variables)?,
        };
        self.jassign(fid, j.assign.as_ref(), &states)?;
        let output = self.joutput(j.output.as_ref(), &states)?;
        Ok((until.max(now), output.unwrap_or(input)))
    }

    /// The Arguments of a Task or Parallel state (default: the state input).
    pub(super) fn jarguments(
        &mut self,
        j: &JsonataFields,
        input: &Value,
        context: &Value,
    ) -> Result<Value, StepError> {
        let states = States {
            input,
            result: None,
            error_output: None,
            context,
        };
        Ok(self
            .joutput(j.arguments.as_ref(), &states)?
            .unwrap_or_else(|| input.clone()))
    }

    /// A number of seconds (or a count) that may be an expression.
    pub(super) fn jcount(
        &mut self,
        s: &Seconds,
        input: &Value,
        context: &Value,
    ) -> Result<u64, StepError> {
        match s {
            Seconds::Fixed(n) => Ok(*n),
            Seconds::Expr(t) => {
                let states = States {
                    input,
                    result: None,
                    error_output: None,
                    context,
                };
                let v = self.jeval(t, &states)?;
                match v.as_u64() {
                    Some(n) => Ok(n),
                    None => {
                        let e = match t.as_expr() {
                            Some(expr) => expr.wrong_type("integer", &v),
                            None => QueryError::at(None, "The value must be an integer".into()),
                        };
                        Err(self.query_error(e))
                    }
                }
            }
            Seconds::Path(_) => Err((
                Cow::Borrowed("States.Runtime"),
                "internal error: a JSONPath field in a JSONata state".into(),
            )),
        }
    }

    /// The stages after a JSONata Task, Parallel or Map state has its result: Assign and
    /// Output, both seeing `$states.input` and `$states.result` (default output: the
    /// result).
    pub(super) fn jresult_stages(
        &mut self,
        fid: FiberId,
        j: &JsonataFields,
        input: &Value,
        result: Value,
        context: &Value,
    ) -> Result<Value, StepError> {
        let states = States {
            input,
            result: Some(&result),
            error_output: None,
            context,
        };
        self.jassign(fid, j.assign.as_ref(), &states)?;
        let output = self.joutput(j.output.as_ref(), &states)?;
        Ok(output.unwrap_or(result))
    }

    /// A catcher's Assign and Output in a JSONata state, with `$states.errorOutput`
    /// (default output: the error output).
    pub(super) fn jcatch(
        &mut self,
        fid: FiberId,
        c: &Catcher,
        input: &Value,
        error_output: Value,
    ) -> Result<Value, StepError> {
        let context = if c.jassign.is_some() || c.output.is_some() {
            self.context_for(fid, 0)
        } else {
            Value::Null
        };
        let states = States {
            input,
            result: None,
            error_output: Some(&error_output),
            context: &context,
        };
        self.jassign(fid, c.jassign.as_ref(), &states)?;
        let output = self.joutput(c.output.as_ref(), &states)?;
        Ok(output.unwrap_or(error_output))
    }

    /// The items of a JSONata Map state: `Items`, or the input, which must be an array.
    pub(super) fn jitems(
        &mut self,
        j: &JsonataFields,
        input: &Value,
        context: &Value,
    ) -> Result<Vec<Value>, StepError> {
        let Some(t) = &j.items else {
            return match input {
                Value::Array(a) => Ok(a.clone()),
                other => {
                    let e = QueryError::at(
                        None,
                        format!(
                            "Map state input must be an array but was: {}",
                            to_json(other)
                        ),
                    );
                    Err(self.query_error(e))
                }
            };
        };
        let states = States {
            input,
            result: None,
            error_output: None,
            context,
        };
        match self.jeval(t, &states)? {
            Value::Array(a) => Ok(a),
            other => {
                let e = match t.as_expr() {
                    Some(expr) => expr.wrong_type("array", &other),
                    None => QueryError::at(Some("Items"), "Items must be an array".into()),
                };
                Err(self.query_error(e))
            }
        }
    }

    /// One iteration's input in a JSONata Map state: ItemSelector (with
    /// `$states.context.Map.Item`), or the item.
    pub(super) fn jitem_input(
        &mut self,
        j: &JsonataFields,
        input: &Value,
        context: &Value,
        item: &Value,
    ) -> Result<Value, StepError> {
        let Some(t) = &j.item_selector else {
            return Ok(item.clone());
        };
        let states = States {
            input,
            result: None,
            error_output: None,
            context,
        };
        self.jeval(t, &states)
    }
}

impl Execution {
    /// Items, iteration inputs and MaxConcurrency of a JSONata Map state.
    pub(super) fn jmap_prepare(
        &mut self,
        j: &JsonataFields,
        spec: &MapSpec,
        input: &Value,
        context: &Value,
    ) -> Result<(PendingItems, u64), StepError> {
        let items = self.jitems(j, input, context)?;
        let max = match &spec.max_concurrency {
            None => 0,
            Some(s) => self.jcount(s, input, context)?,
        };
        if j.item_selector.is_none() {
            return Ok((PendingItems::of_items(items), max));
        }
        let mut inputs = Vec::with_capacity(items.len());
        // One copy of the context for all items; only `Map.Item` changes between them.
        let mut ctx = context.clone();
        for (index, item) in items.iter().enumerate() {
            if ctx.is_object() {
                ctx["Map"] = serde_json::json!({"Item": {"Index": index, "Value": item}});
            }
            inputs.push(self.jitem_input(j, input, &ctx, item)?);
        }
        Ok((PendingItems::with_inputs(items, inputs), max))
    }
}
