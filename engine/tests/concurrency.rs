//! Parallel and inline Map on the seeded scheduler: outputs in branch/item order, event
//! links as recorded on AWS, MaxConcurrency at every instant, fail-fast aborts, and
//! replayable interleavings.

use engine::{
    Definition, ExecutionConfig, ExecutionResult, ExecutionStatus, TaskHandler, TaskHandlerError,
    TaskRequest, TaskResponse, VirtualClock,
};
use serde_json::{json, Value};

/// Answers every task with its input after `input.ms` virtual milliseconds, or fails it
/// with `input.fail` as the error name.
struct Echo;

impl TaskHandler for Echo {
    fn invoke(&mut self, r: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
        let ms = r.parameters.get("ms").and_then(Value::as_u64).unwrap_or(0);
        let resp = match r.parameters.get("fail").and_then(Value::as_str) {
            Some(e) => TaskResponse::failure(e, Some("it failed".into())),
            None => TaskResponse::success(r.parameters.clone()),
        };
        Ok(resp.after_millis(ms))
    }
}

fn run_seeded(def: &Value, input: Value, seed: u64) -> ExecutionResult {
    let d = Definition::parse(&def.to_string()).expect("valid definition");
    let config = ExecutionConfig {
        seed,
        ..ExecutionConfig::default()
    };
    let mut clock = VirtualClock::starting_at(config.start_time);
    d.execute_with(input, &config, &mut clock, &mut Echo)
        .expect("run completes")
}

fn run(def: &Value, input: Value) -> ExecutionResult {
    run_seeded(def, input, 0)
}

fn lines(r: &ExecutionResult) -> Vec<String> {
    r.history
        .iter()
        .map(|e| {
            let v = e.to_api_json();
            let name = v
                .get("stateEnteredEventDetails")
                .or_else(|| v.get("stateExitedEventDetails"))
                .and_then(|d| d.get("name"))
                .and_then(Value::as_str)
                .map(|n| format!(" {n}"))
                .unwrap_or_default();
            format!(
                "{} {} {}{}",
                e.id,
                e.previous_event_id,
                e.kind.type_name(),
                name
            )
        })
        .collect()
}

const TASK: &str = "arn:aws:states:::lambda:invoke";

fn three_branches() -> Value {
    let branch = |n: &str, ms: u64| {
        json!({"StartAt": n, "States": {n: {"Type": "Task", "Resource": TASK,
            "Parameters": {"b": n, "ms": ms}, "ResultSelector": {"b.$": "$.b"}, "End": true}}})
    };
    json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
        "Branches": [branch("A", 300), branch("B", 100), branch("C", 200)]}}})
}

#[test]
fn parallel_output_is_in_branch_order() {
    let r = run(&three_branches(), json!({}));
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(r.output, Some(json!([{"b": "A"}, {"b": "B"}, {"b": "C"}])));
    assert_eq!(r.stop_time.to_rfc3339(), "2024-01-01T00:00:00.300Z");
    let types: Vec<String> = r.history.iter().map(|e| e.kind.type_name()).collect();
    assert_eq!(
        types[..3],
        [
            "ExecutionStarted",
            "ParallelStateEntered",
            "ParallelStateStarted"
        ]
    );
    assert_eq!(
        types[types.len() - 3..],
        [
            "ParallelStateSucceeded",
            "ParallelStateExited",
            "ExecutionSucceeded"
        ]
    );
    // Branches finish in the order of their durations: B, C, A.
    let succeeded: Vec<String> = r
        .history
        .iter()
        .filter(|e| e.kind.type_name() == "TaskSucceeded")
        .map(|e| e.timestamp.to_rfc3339())
        .collect();
    assert_eq!(
        succeeded,
        [
            "2024-01-01T00:00:00.100Z",
            "2024-01-01T00:00:00.200Z",
            "2024-01-01T00:00:00.300Z"
        ]
    );
}

#[test]
fn the_same_seed_gives_the_same_history_and_seeds_differ() {
    let def = three_branches();
    let first = lines(&run_seeded(&def, json!({}), 7));
    for _ in 0..100 {
        assert_eq!(lines(&run_seeded(&def, json!({}), 7)), first);
    }
    let distinct: std::collections::BTreeSet<Vec<String>> = (0..10)
        .map(|seed| lines(&run_seeded(&def, json!({}), seed)))
        .collect();
    assert!(distinct.len() >= 2, "seeds 0..10 gave one interleaving");
    // The output never depends on the interleaving.
    for seed in 0..10 {
        assert_eq!(
            run_seeded(&def, json!({}), seed).output,
            Some(json!([{"b": "A"}, {"b": "B"}, {"b": "C"}]))
        );
    }
}

#[test]
fn map_with_max_concurrency_one_links_events_as_aws_records_them() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1, "End": true,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "H",
            "States": {"H": {"Type": "Pass", "End": true}}}}}});
    let r = run(&def, json!([1, "x"]));
    assert_eq!(r.output, Some(json!([1, "x"])));
    assert_eq!(
        lines(&r),
        [
            "1 0 ExecutionStarted",
            "2 0 MapStateEntered M",
            "3 2 MapStateStarted",
            "4 3 MapIterationStarted",
            "5 4 PassStateEntered H",
            "6 5 PassStateExited H",
            "7 6 MapIterationSucceeded",
            "8 6 MapIterationStarted",
            "9 8 PassStateEntered H",
            "10 9 PassStateExited H",
            "11 10 MapIterationSucceeded",
            "12 11 MapStateSucceeded",
            "13 11 MapStateExited M",
            "14 13 ExecutionSucceeded",
        ]
    );
    let started = r.history[2].to_api_json();
    assert_eq!(started["mapStateStartedEventDetails"], json!({"length": 2}));
    assert_eq!(
        r.history[3].to_api_json()["mapIterationStartedEventDetails"],
        json!({"name": "M", "index": 0})
    );
}

#[test]
fn map_never_runs_more_than_max_concurrency_iterations() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 2, "End": true,
        "ItemSelector": {"i.$": "$$.Map.Item.Index", "ms.$": "$$.Map.Item.Value"},
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK,
            "ResultSelector": {"i.$": "$.i"}, "End": true}}}}}});
    for seed in 0..20 {
        let r = run_seeded(&def, json!([500, 100, 300, 100, 200]), seed);
        assert_eq!(
            r.output,
            Some(json!([{"i": 0}, {"i": 1}, {"i": 2}, {"i": 3}, {"i": 4}]))
        );
        let mut in_flight = 0i32;
        let mut most = 0;
        for e in &r.history {
            match e.kind.type_name().as_str() {
                "MapIterationStarted" => in_flight += 1,
                "MapIterationSucceeded" => in_flight -= 1,
                _ => {}
            }
            most = most.max(in_flight);
        }
        assert_eq!(most, 2, "seed {seed}");
        // Items 0 and 1 start at 0; item 2 takes item 1's slot at 100 ms (ends 400), item 3
        // takes it at 400 (ends 500), item 4 starts at 500 when item 0 ends, and ends at 700.
        assert_eq!(r.stop_time.to_rfc3339(), "2024-01-01T00:00:00.700Z");
    }
}

#[test]
fn a_failing_iteration_aborts_the_others() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK, "End": true}}}}}});
    let r = run(
        &def,
        json!([{"ms": 1000}, {"ms": 10, "fail": "Boom"}, {"ms": 2000}]),
    );
    assert_eq!(r.status, ExecutionStatus::Failed);
    assert_eq!(
        (r.error.as_deref(), r.cause.as_deref()),
        (Some("Boom"), Some("it failed"))
    );
    assert_eq!(r.stop_time.to_rfc3339(), "2024-01-01T00:00:00.010Z");
    let failed = r
        .history
        .iter()
        .find(|e| e.kind.type_name() == "TaskFailed")
        .unwrap()
        .id;
    let tail: Vec<String> = r
        .history
        .iter()
        .skip_while(|e| e.id <= failed)
        .map(|e| {
            let v = e.to_api_json();
            let index = v
                .as_object()
                .unwrap()
                .iter()
                .find(|(k, _)| k.starts_with("mapIteration"))
                .map(|(_, d)| format!(" #{}", d["index"]))
                .unwrap_or_default();
            format!(
                "{}{} after {}",
                e.kind.type_name(),
                index,
                e.previous_event_id.0 == failed.0
            )
        })
        .collect();
    assert_eq!(
        tail,
        [
            "MapIterationFailed #1 after true",
            "TaskStateAborted after true",
            "MapIterationAborted #0 after true",
            "TaskStateAborted after true",
            "MapIterationAborted #2 after true",
            "TaskStateAborted after true",
            "MapStateFailed after true",
            "ExecutionFailed after false",
        ]
    );
    // Nothing ran after the failure: no task of the aborted iterations finished.
    assert_eq!(
        r.history
            .iter()
            .filter(|e| e.kind.type_name() == "TaskSucceeded")
            .count(),
        0
    );
}

#[test]
fn a_failing_branch_is_caught_on_the_parallel_state() {
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Next": "Done",
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
            "Branches": [
                {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}},
                {"StartAt": "S", "States": {
                    "S": {"Type": "Wait", "Seconds": 1, "Next": "F"},
                    "F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}]},
        "Done": {"Type": "Succeed"},
        "Caught": {"Type": "Pass", "End": true}}});
    let r = run(&def, json!({"k": 1}));
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(
        r.output,
        Some(json!({"k": 1, "error": {"Error": "E", "Cause": "C"}}))
    );
    let types: Vec<String> = r.history.iter().map(|e| e.kind.type_name()).collect();
    assert!(types.contains(&"WaitStateAborted".to_string()), "{types:?}");
    assert!(
        types.contains(&"ParallelStateFailed".to_string()),
        "{types:?}"
    );
    // Only the 1 s Wait exits; the 60 s one is aborted.
    assert_eq!(
        types.iter().filter(|t| *t == "WaitStateExited").count(),
        1,
        "{types:?}"
    );
    // The 60 s wait never finished: the branch failed after 1 s and the other was aborted.
    assert_eq!(r.stop_time.to_rfc3339(), "2024-01-01T00:00:01.000Z");
}

#[test]
fn map_items_path_and_context_item() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.xs",
        "ItemSelector": {"idx.$": "$$.Map.Item.Index", "val.$": "$$.Map.Item.Value", "k.$": "$.k"},
        "ResultPath": "$.out", "End": true,
        "Iterator": {"StartAt": "H", "States": {"H": {"Type": "Pass", "End": true}}}}}});
    let r = run(&def, json!({"xs": ["a", "b"], "k": 9}));
    assert_eq!(
        r.output,
        Some(
            json!({"xs": ["a", "b"], "k": 9, "out": [{"idx": 0, "val": "a", "k": 9}, {"idx": 1, "val": "b", "k": 9}]})
        )
    );
    let not_array = run(&def, json!({"xs": 1, "k": 9}));
    assert_eq!(not_array.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        not_array.cause.as_deref(),
        Some("An error occurred while executing the state 'M' (entered at the event id #2). Map state input must be an array but was: 1")
    );
}

#[test]
fn empty_map_succeeds_at_once() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemProcessor": {"StartAt": "H", "States": {"H": {"Type": "Pass", "End": true}}}}}});
    let r = run(&def, json!([]));
    assert_eq!(r.output, Some(json!([])));
    assert_eq!(
        lines(&r),
        [
            "1 0 ExecutionStarted",
            "2 0 MapStateEntered M",
            "3 2 MapStateStarted",
            "4 3 MapStateSucceeded",
            "5 3 MapStateExited M",
            "6 5 ExecutionSucceeded"
        ]
    );
}

#[test]
fn a_retried_parallel_runs_its_branches_again_without_failed_events_between() {
    // The sequence AWS records for a Parallel whose only branch always fails.
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Next": "Final",
            "Retry": [{"ErrorEquals": ["FailureType"], "MaxAttempts": 2, "IntervalSeconds": 3}],
            "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Fail", "Error": "FailureType", "Cause": "Cause description"}}}]},
        "Final": {"Type": "Pass", "End": true}}});
    let r = run(&def, json!({}));
    assert_eq!(r.status, ExecutionStatus::Failed);
    assert_eq!(
        (r.error.as_deref(), r.cause.as_deref()),
        (Some("FailureType"), Some("Cause description"))
    );
    assert_eq!(
        lines(&r),
        [
            "1 0 ExecutionStarted",
            "2 0 ParallelStateEntered P",
            "3 2 ParallelStateStarted",
            "4 3 FailStateEntered B",
            "5 4 ParallelStateStarted",
            "6 5 FailStateEntered B",
            "7 6 ParallelStateStarted",
            "8 7 FailStateEntered B",
            "9 8 ParallelStateFailed",
            "10 9 ExecutionFailed",
        ]
    );
    // Backoff 3 s then 6 s.
    assert_eq!(
        r.history[4].timestamp.to_rfc3339(),
        "2024-01-01T00:00:03.000Z"
    );
    assert_eq!(
        r.history[6].timestamp.to_rfc3339(),
        "2024-01-01T00:00:09.000Z"
    );
}

/// AWS runs at most 40 iterations of an inline Map at once ("In this mode, the Map state
/// supports up to 40 concurrent iterations"). 100 items that take one virtual second each
/// therefore take three seconds with MaxConcurrency 0 or 100 (40 + 40 + 20), four with 25,
/// and the most iterations in flight is 40.
#[test]
fn inline_map_runs_at_most_40_iterations_at_once() {
    for (max, seconds, peak) in [(0, 3, 40), (100, 3, 40), (40, 3, 40), (25, 4, 25)] {
        let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": max,
            "ItemsPath": "$.items", "End": true,
            "ItemProcessor": {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": true}}}}}});
        let items: Vec<u64> = (0..100).collect();
        let r = run(&def, json!({ "items": items }));
        assert_eq!(r.status, ExecutionStatus::Succeeded, "MaxConcurrency {max}");
        let first = r.history.first().expect("events").timestamp;
        let last = r.history.last().expect("events").timestamp;
        assert_eq!(
            last.millis() - first.millis(),
            seconds * 1000,
            "MaxConcurrency {max}"
        );
        let mut flight = 0;
        let mut most = 0;
        for e in &r.history {
            match e.kind.type_name().as_str() {
                "MapIterationStarted" => flight += 1,
                "MapIterationSucceeded" => flight -= 1,
                _ => {}
            }
            most = most.max(flight);
        }
        assert_eq!(most, peak, "MaxConcurrency {max}");
    }
}
