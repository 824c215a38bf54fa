//! MockHandler counting and exhaustion, closures, the recorder.

use engine::{TaskHandler, TaskHandlerError, TaskOutcome, TaskRequest, TaskResponse};
use mocks::{Delayed, Exhaustion, FnHandler, Handlers, MockConfig, MockHandler, Recorder};
use serde_json::{json, Value};

const CONFIG: &str = r#"{
  "StateMachines": {
    "M": {
      "TestCases": {
        "Retry": { "Call": "ThrowTwiceThenOk", "Other": "Single" },
        "Gappy": { "Call": "Gap" },
        "Empty": { "Call": "Nothing" }
      }
    }
  },
  "MockedResponses": {
    "ThrowTwiceThenOk": {
      "0-1": { "Throw": { "Error": "Boom", "Cause": "attempt" } },
      "2": { "Return": { "StatusCode": 200, "Payload": "ok2" } },
      "3": { "Return": { "StatusCode": 200, "Payload": "ok3" } }
    },
    "Single": { "0": { "Return": "only" } },
    "Gap": { "0": { "Return": "zero" }, "2": { "Return": "two" } },
    "Nothing": {}
  }
}"#;

fn handler(case: &str) -> MockHandler {
    MockConfig::from_json_str(CONFIG)
        .unwrap()
        .handler("M", case)
        .unwrap()
}

/// Calls `h` for `state` in execution `exec` with the given attempt number.
fn call(
    h: &mut impl TaskHandler,
    exec: &str,
    state: &str,
    attempt: u32,
) -> Result<TaskResponse, TaskHandlerError> {
    let params = json!({"state": state, "attempt": attempt});
    h.invoke(&TaskRequest {
        state_name: state,
        resource: "arn:aws:states:::lambda:invoke",
        parameters: &params,
        state_machine_name: "M",
        execution_name: exec,
        attempt,
        task_token: None,
    })
}

fn ok(v: Value) -> Result<TaskResponse, TaskHandlerError> {
    Ok(TaskResponse::success(v))
}

fn fail(error: &str, cause: Option<&str>) -> Result<TaskResponse, TaskHandlerError> {
    Ok(TaskResponse::failure(error, cause.map(str::to_string)))
}

#[test]
fn each_attempt_consumes_the_next_number() {
    let mut h = handler("Retry");
    assert_eq!(call(&mut h, "e", "Call", 0), fail("Boom", Some("attempt")));
    assert_eq!(call(&mut h, "e", "Call", 1), fail("Boom", Some("attempt")));
    assert_eq!(
        call(&mut h, "e", "Call", 2),
        ok(json!({"StatusCode": 200, "Payload": "ok2"}))
    );
    assert_eq!(h.invocations("e", "Call"), 3);
}

#[test]
fn numbers_continue_across_entries_of_the_state_not_reset_by_attempt() {
    // Two Map iterations (or two loop passes): the second entry into the state starts at
    // attempt 0 again, but continues the numbering (Step Functions Local: one counter per state
    // per execution).
    let mut h = handler("Retry");
    assert_eq!(call(&mut h, "e", "Call", 0), fail("Boom", Some("attempt")));
    assert_eq!(
        call(&mut h, "e", "Call", 1),
        fail("Boom", Some("attempt")),
        "retry of iteration 1"
    );
    assert_eq!(
        call(&mut h, "e", "Call", 2),
        ok(json!({"StatusCode": 200, "Payload": "ok2"}))
    );
    assert_eq!(
        call(&mut h, "e", "Call", 0),
        ok(json!({"StatusCode": 200, "Payload": "ok3"})),
        "iteration 2, attempt 0, takes invocation 3"
    );
}

#[test]
fn states_count_independently() {
    let mut h = handler("Retry");
    assert_eq!(call(&mut h, "e", "Other", 0), ok(json!("only")));
    assert_eq!(call(&mut h, "e", "Call", 0), fail("Boom", Some("attempt")));
    assert_eq!(h.invocations("e", "Other"), 1);
    assert_eq!(h.invocations("e", "Call"), 1);
    assert_eq!(h.invocations("e", "Nope"), 0);
}

#[test]
fn executions_count_independently_and_reset_starts_over() {
    let mut h = handler("Retry");
    assert_eq!(call(&mut h, "e1", "Other", 0), ok(json!("only")));
    assert_eq!(call(&mut h, "e2", "Other", 0), ok(json!("only")));
    assert_eq!(h.invocations("e1", "Other"), 1);
    assert_eq!(h.invocations("e2", "Other"), 1);
    h.reset();
    assert_eq!(h.invocations("e1", "Other"), 0);
    assert_eq!(call(&mut h, "e1", "Other", 0), ok(json!("only")));
}

#[test]
fn unlisted_state_is_no_mock() {
    let mut h = handler("Retry");
    assert_eq!(
        call(&mut h, "e", "Unlisted", 0),
        Err(TaskHandlerError::NoMock {
            state: "Unlisted".into(),
            resource: "arn:aws:states:::lambda:invoke".into()
        })
    );
    // A NoMock call consumes nothing.
    assert_eq!(h.invocations("e", "Unlisted"), 0);
}

#[test]
fn exhausted_fails_with_states_runtime_by_default() {
    let mut h = handler("Retry");
    assert_eq!(call(&mut h, "e", "Other", 0), ok(json!("only")));
    let cause = "No mocked response for invocation 1 of state 'Other': mocked response 'Single' defines invocations 0";
    assert_eq!(
        call(&mut h, "e", "Other", 0),
        fail("States.Runtime", Some(cause))
    );
    // Still failing, and still counting.
    let cause2 = "No mocked response for invocation 2 of state 'Other': mocked response 'Single' defines invocations 0";
    assert_eq!(
        call(&mut h, "e", "Other", 0),
        fail("States.Runtime", Some(cause2))
    );
    assert_eq!(h.invocations("e", "Other"), 3);
}

#[test]
fn exhausted_cause_lists_ranges() {
    let mut h = handler("Retry");
    for _ in 0..4 {
        call(&mut h, "e", "Call", 0).unwrap();
    }
    assert_eq!(
        call(&mut h, "e", "Call", 0),
        fail(
            "States.Runtime",
            Some("No mocked response for invocation 4 of state 'Call': mocked response 'ThrowTwiceThenOk' defines invocations 0-1, 2, 3")
        )
    );
}

#[test]
fn gap_fails_like_exhaustion_then_continues() {
    let mut h = handler("Gappy").on_exhausted(Exhaustion::RepeatLast);
    assert_eq!(call(&mut h, "e", "Call", 0), ok(json!("zero")));
    assert_eq!(
        call(&mut h, "e", "Call", 0),
        fail(
            "States.Runtime",
            Some("No mocked response for invocation 1 of state 'Call': mocked response 'Gap' defines invocations 0, 2")
        ),
        "a gap is not 'past the end', even with RepeatLast"
    );
    assert_eq!(call(&mut h, "e", "Call", 0), ok(json!("two")));
    assert_eq!(call(&mut h, "e", "Call", 0), ok(json!("two")), "repeated");
}

#[test]
fn empty_response_fails_at_use() {
    let mut h = handler("Empty");
    assert_eq!(
        call(&mut h, "e", "Call", 0),
        fail(
            "States.Runtime",
            Some("No mocked response for invocation 0 of state 'Call': mocked response 'Nothing' defines invocations none")
        )
    );
    let mut h = handler("Empty").on_exhausted(Exhaustion::RepeatLast);
    assert!(matches!(
        call(&mut h, "e", "Call", 0).unwrap().outcome,
        TaskOutcome::Failed { ref error, .. } if error == "States.Runtime"
    ));
}

#[test]
fn repeat_last_reuses_the_last_entry() {
    let mut h = handler("Retry").on_exhausted(Exhaustion::RepeatLast);
    for _ in 0..3 {
        assert_eq!(call(&mut h, "e", "Other", 0), ok(json!("only")));
    }
    for _ in 0..4 {
        call(&mut h, "e", "Call", 0).unwrap();
    }
    assert_eq!(
        call(&mut h, "e", "Call", 0),
        ok(json!({"StatusCode": 200, "Payload": "ok3"}))
    );
}

#[test]
fn refuse_stops_the_run() {
    let mut h = handler("Retry").on_exhausted(Exhaustion::Refuse);
    assert_eq!(call(&mut h, "e", "Other", 0), ok(json!("only")));
    assert_eq!(
        call(&mut h, "e", "Other", 0),
        Err(TaskHandlerError::MockFailed {
            state: "Other".into(),
            reason: "mocked response 'Single' has no entry for invocation 1 (it defines 0)".into()
        })
    );
}

#[test]
fn delays_per_state_and_per_invocation() {
    let mut h = handler("Retry")
        .with_delay("Call", 1_000)
        .with_invocation_delay("Call", 2, 250)
        .with_invocation_delay("Other", 0, 7);
    let d: Vec<u64> = (0..4)
        .map(|_| call(&mut h, "e", "Call", 0).unwrap().duration_ms)
        .collect();
    assert_eq!(d, [1_000, 1_000, 250, 1_000]);
    // Exhaustion answers take the delay too.
    assert_eq!(call(&mut h, "e", "Call", 0).unwrap().duration_ms, 1_000);
    assert_eq!(call(&mut h, "e", "Other", 0).unwrap().duration_ms, 7);
    assert_eq!(call(&mut h, "e", "Other", 0).unwrap().duration_ms, 0);
}

#[test]
fn fn_handler_answers_every_state() {
    let mut seen = Vec::new();
    {
        let mut h = FnHandler::new(|req: &TaskRequest<'_>| {
            seen.push(req.state_name.to_string());
            Ok(TaskResponse::success(req.parameters.clone()).after_millis(5))
        });
        assert_eq!(
            call(&mut h, "e", "A", 0),
            Ok(TaskResponse::success(json!({"state": "A", "attempt": 0})).after_millis(5))
        );
        assert_eq!(
            call(&mut h, "e", "B", 3),
            Ok(TaskResponse::success(json!({"state": "B", "attempt": 3})).after_millis(5))
        );
    }
    assert_eq!(seen, ["A", "B"]);
}

#[test]
fn handlers_by_state_without_fallback() {
    let mut count = 0;
    let mut h = Handlers::new()
        .on("A", |_req| {
            count += 1;
            Ok(TaskResponse::success(json!(count)))
        })
        .on("B", |req| {
            if req.attempt == 0 {
                Ok(TaskResponse::failure("Flaky", Some("first".into())))
            } else {
                Ok(TaskResponse::success(json!("second")))
            }
        });
    assert_eq!(call(&mut h, "e", "A", 0), ok(json!(1)));
    assert_eq!(call(&mut h, "e", "A", 0), ok(json!(2)));
    assert_eq!(call(&mut h, "e", "B", 0), fail("Flaky", Some("first")));
    assert_eq!(call(&mut h, "e", "B", 1), ok(json!("second")));
    assert_eq!(
        call(&mut h, "e", "C", 0),
        Err(TaskHandlerError::NoMock {
            state: "C".into(),
            resource: "arn:aws:states:::lambda:invoke".into()
        })
    );
    assert_eq!(
        format!("{h:?}"),
        r#"Handlers { states: ["A", "B"], fallback: false }"#
    );
}

#[test]
fn handlers_fall_back_to_the_file() {
    let mut h = Handlers::new()
        .on("Call", |_req| ok(json!("closure wins")))
        .fallback(handler("Retry"));
    assert_eq!(call(&mut h, "e", "Call", 0), ok(json!("closure wins")));
    assert_eq!(call(&mut h, "e", "Other", 0), ok(json!("only")));
    assert!(matches!(
        call(&mut h, "e", "Unlisted", 0),
        Err(TaskHandlerError::NoMock { .. })
    ));
}

#[test]
fn later_on_replaces_earlier() {
    let mut h = Handlers::new()
        .on("A", |_req| ok(json!(1)))
        .on("A", |_req| ok(json!(2)));
    assert_eq!(call(&mut h, "e", "A", 0), ok(json!(2)));
}

#[test]
fn delayed_adds_time_to_answers() {
    let mut h = Delayed::new(
        Handlers::new()
            .on("A", |_req| {
                Ok(TaskResponse::success(json!(1)).after_millis(10))
            })
            .on("B", |_req| ok(json!(2))),
        500,
    );
    assert_eq!(call(&mut h, "e", "A", 0).unwrap().duration_ms, 510);
    assert_eq!(call(&mut h, "e", "B", 0).unwrap().duration_ms, 500);
    assert!(call(&mut h, "e", "C", 0).is_err());
}

#[test]
fn recorder_records_every_call() {
    let mut r = Recorder::new(handler("Retry"));
    let log = r.log();
    let params = json!({"x": 1});
    let answer = r.invoke(&TaskRequest {
        state_name: "Other",
        resource: "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        parameters: &params,
        state_machine_name: "M",
        execution_name: "exec-1",
        attempt: 0,
        task_token: Some("tok"),
    });
    assert_eq!(answer, ok(json!("only")));
    call(&mut r, "exec-1", "Call", 0).unwrap();
    call(&mut r, "exec-1", "Call", 1).unwrap();
    let _ = call(&mut r, "exec-1", "Unlisted", 0);

    let calls = r.calls();
    assert_eq!(calls.len(), 4);
    let first = &calls[0];
    assert_eq!(first.state_name, "Other");
    assert_eq!(
        first.resource,
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
    );
    assert_eq!(first.parameters, json!({"x": 1}));
    assert_eq!(first.state_machine_name, "M");
    assert_eq!(first.execution_name, "exec-1");
    assert_eq!(first.attempt, 0);
    assert_eq!(first.task_token.as_deref(), Some("tok"));
    assert_eq!(first.response, ok(json!("only")));

    let call_attempts: Vec<u32> = r.calls_for("Call").iter().map(|c| c.attempt).collect();
    assert_eq!(call_attempts, [0, 1]);
    assert_eq!(
        r.calls_for("Call")[1].parameters,
        json!({"state": "Call", "attempt": 1})
    );
    assert_eq!(
        calls[3].response,
        Err(TaskHandlerError::NoMock {
            state: "Unlisted".into(),
            resource: "arn:aws:states:::lambda:invoke".into()
        })
    );
    assert!(r.calls_for("Nope").is_empty());

    // The shared log sees the same calls after the recorder is gone.
    let inner = r.into_inner();
    assert_eq!(inner.invocations("exec-1", "Call"), 2);
    assert_eq!(log.len(), 4);
    assert_eq!(log.calls_for("Other").len(), 1);
    log.clear();
    assert!(log.is_empty());
}

#[test]
fn recorder_over_closures() {
    let mut r = Recorder::new(FnHandler::new(|req: &TaskRequest<'_>| {
        Ok(TaskResponse::success(json!(req.attempt)))
    }));
    call(&mut r, "e", "S", 0).unwrap();
    call(&mut r, "e", "S", 1).unwrap();
    assert_eq!(r.calls_for("S")[1].response, ok(json!(1)));
    r.inner_mut();
    let _ = r.inner();
}
