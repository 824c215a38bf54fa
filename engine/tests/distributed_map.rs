//! Distributed Map: the parent history AWS records (MapStateStarted, MapRunStarted,
//! MapRunSucceeded/MapRunFailed, MapStateSucceeded/MapStateFailed, MapStateExited, nothing of
//! the child executions), ItemReader and ResultWriter through the task handler, ItemBatcher,
//! the tolerated failure threshold, and AWS's recorded run-time errors of the `*Path` fields.
//! Expected sequences follow executions recorded on AWS (LocalStack's `test_base_scenarios`
//! snapshots); see `engine/src/map_run.rs`.

use engine::{
    Definition, ExecutionConfig, ExecutionResult, ExecutionStatus, TaskHandler, TaskHandlerError,
    TaskRequest, TaskResponse, VirtualClock, WorkflowType,
};
use serde_json::{json, Value};

/// One handler call: state, resource, parameters.
type Call = (String, String, Value);

/// Answers with a closure and records every call.
struct Handler<F: FnMut(&TaskRequest<'_>) -> TaskResponse> {
    answer: F,
    calls: Vec<Call>,
}

impl<F: FnMut(&TaskRequest<'_>) -> TaskResponse> TaskHandler for Handler<F> {
    fn invoke(&mut self, r: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
        self.calls.push((
            r.state_name.to_string(),
            r.resource.to_string(),
            r.parameters.clone(),
        ));
        Ok((self.answer)(r))
    }
}

fn handler<F: FnMut(&TaskRequest<'_>) -> TaskResponse>(answer: F) -> Handler<F> {
    Handler {
        answer,
        calls: Vec::new(),
    }
}

/// Child tasks: echo the parameters, or fail with `fail` as the error, after `ms`.
fn echo(r: &TaskRequest<'_>) -> TaskResponse {
    let ms = r.parameters.get("ms").and_then(Value::as_u64).unwrap_or(0);
    match r.parameters.get("fail").and_then(Value::as_str) {
        Some(e) => TaskResponse::failure(e, Some(format!("{e} happened"))),
        None => TaskResponse::success(r.parameters.clone()),
    }
    .after_millis(ms)
}

fn run_with(
    def: &Value,
    input: Value,
    h: &mut dyn TaskHandler,
    config: &ExecutionConfig,
) -> ExecutionResult {
    let d = Definition::parse(&def.to_string()).expect("valid definition");
    let mut clock = VirtualClock::starting_at(config.start_time);
    d.execute_with(input, config, &mut clock, h)
        .expect("run completes")
}

fn run(def: &Value, input: Value, h: &mut dyn TaskHandler) -> ExecutionResult {
    run_with(def, input, h, &ExecutionConfig::default())
}

/// `id prev Type` per event.
fn lines(r: &ExecutionResult) -> Vec<String> {
    r.history
        .iter()
        .map(|e| format!("{} {} {}", e.id, e.previous_event_id, e.kind.type_name()))
        .collect()
}

fn details(r: &ExecutionResult, i: usize, key: &str) -> Value {
    r.history[i].to_api_json()[key].clone()
}

const TASK: &str = "arn:aws:states:::lambda:invoke";
const GET: &str = "arn:aws:states:::s3:getObject";

/// A Distributed Map with `extra` fields, whose children run one Task echoing their input.
fn dmap(extra: Value) -> Value {
    let mut m = json!({"Type": "Map", "End": true,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": TASK, "End": true}}}});
    for (k, v) in extra.as_object().unwrap() {
        m[k] = v.clone();
    }
    json!({"StartAt": "M", "States": {"M": m}})
}

/// The success sequence of a Map Run, recorded on AWS.
const RUN_SUCCEEDED: [&str; 8] = [
    "1 0 ExecutionStarted",
    "2 0 MapStateEntered",
    "3 2 MapStateStarted",
    "4 3 MapRunStarted",
    "5 4 MapRunSucceeded",
    "6 5 MapStateSucceeded",
    "7 5 MapStateExited",
    "8 7 ExecutionSucceeded",
];

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && s.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
        && parts[2].starts_with('4')
}

#[test]
fn over_items_the_parent_history_has_the_map_run_and_no_iterations() {
    let def = dmap(json!({"ItemsPath": "$.items", "Label": "Lbl",
        "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value", "k.$": "$.k"}}));
    let mut h = handler(echo);
    let r = run(&def, json!({"items": ["a", "b", "c"], "k": 7}), &mut h);
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(
        r.output,
        Some(
            json!([{"i": 0, "v": "a", "k": 7}, {"i": 1, "v": "b", "k": 7}, {"i": 2, "v": "c", "k": 7}])
        )
    );
    assert_eq!(lines(&r), RUN_SUCCEEDED);
    assert_eq!(
        details(&r, 2, "mapStateStartedEventDetails"),
        json!({"length": 3})
    );
    let arn = details(&r, 3, "mapRunStartedEventDetails")["mapRunArn"]
        .as_str()
        .unwrap()
        .to_string();
    let id = arn
        .strip_prefix("arn:aws:states:us-east-1:123456789012:mapRun:StateMachine/Lbl:")
        .expect("mapRun ARN shape");
    assert!(is_uuid(id), "{arn}");
    // MapRunSucceeded and MapStateSucceeded carry no details.
    assert_eq!(
        r.history[4].to_api_json().as_object().unwrap().len(),
        4,
        "id, previousEventId, timestamp, type"
    );
    // The children ran, one Task each, with the selected items.
    let inputs: Vec<&Value> = h.calls.iter().map(|c| &c.2).collect();
    assert_eq!(inputs.len(), 3);
    assert!(inputs.contains(&&json!({"i": 1, "v": "b", "k": 7})));
    // The same seed replays the same ARN; another seed draws another.
    let again = run(&def, json!({"items": ["a"], "k": 7}), &mut handler(echo));
    assert_eq!(
        details(&again, 3, "mapRunStartedEventDetails")["mapRunArn"],
        json!(arn)
    );
    let other = run_with(
        &def,
        json!({"items": ["a"], "k": 7}),
        &mut handler(echo),
        &ExecutionConfig {
            seed: 9,
            ..ExecutionConfig::default()
        },
    );
    assert_ne!(
        details(&other, 3, "mapRunStartedEventDetails")["mapRunArn"],
        json!(arn)
    );
}

#[test]
fn child_events_never_reach_the_parent_even_from_nested_states() {
    // Each child runs an inline Map and a Parallel: all their events stay in the child.
    let child = json!({"StartAt": "Inner", "States": {
        "Inner": {"Type": "Map", "ItemsPath": "$.list", "Next": "Par",
            "ItemProcessor": {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": true}}}},
        "Par": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": "b", "End": true}}}]}}});
    let mut def = dmap(json!({"MaxConcurrency": 2}));
    let mut processor = child;
    processor["ProcessorConfig"] = json!({"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"});
    def["States"]["M"]["ItemProcessor"] = processor;
    let mut h = handler(echo);
    let r = run(
        &def,
        json!([{"list": [1, 2]}, {"list": [3]}, {"list": [4]}]),
        &mut h,
    );
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(
        r.output,
        Some(json!([[[1, 2], "b"], [[3], "b"], [[4], "b"]]))
    );
    assert_eq!(lines(&r), RUN_SUCCEEDED);
    // Two children at a time, 5 s each: the third starts when one of the first two ends.
    assert_eq!(r.stop_time.to_rfc3339(), "2024-01-01T00:00:10.000Z");
}

#[test]
fn a_child_execution_sees_its_own_context_and_numbers_its_own_events() {
    // The child's first state fails on a path: the cause names the child's own event id (#2),
    // and $$.Execution is the child's.
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "Label": "L",
        "ToleratedFailureCount": 5,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true,
                "Parameters": {"id.$": "$$.Execution.Id", "input.$": "$$.Execution.Input",
                    "machine.$": "$$.StateMachine.Name", "x.$": "$.x"}}}}}}});
    let r = run(&def, json!([{"x": 1}, {"y": 2}]), &mut handler(echo));
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    let out = r.output.unwrap();
    let first = &out[0];
    assert_eq!(first["input"], json!({"x": 1}));
    assert_eq!(first["machine"], json!("StateMachine/L"));
    let id = first["id"].as_str().unwrap();
    let rest = id
        .strip_prefix("arn:aws:states:us-east-1:123456789012:express:StateMachine/L:")
        .expect("an Express child execution ARN");
    let (name, uuid) = rest.split_once(':').unwrap();
    assert!(is_uuid(name) && is_uuid(uuid), "{id}");
    let failed = &out[1];
    assert_eq!(failed["Status"], json!("FAILED"));
    assert_eq!(failed["Error"], json!("States.Runtime"));
    assert_eq!(
        failed["Cause"],
        json!("An error occurred while executing the state 'P' (entered at the event id #2). The JSONPath '$.x' specified for the field 'x.$' could not be found in the input '{\"y\":2}'")
    );
    assert_eq!(failed["Input"], json!("{\"y\":2}"));
    assert_eq!(failed["InputDetails"], json!({"Included": true}));
    assert_eq!(
        failed["StateMachineArn"],
        json!("arn:aws:states:us-east-1:123456789012:stateMachine:StateMachine/L")
    );
    assert_eq!(failed["StartDate"], json!("2024-01-01T00:00:00.000Z"));
    assert!(failed["ExecutionArn"]
        .as_str()
        .unwrap()
        .contains(":express:StateMachine/L:"));
}

fn csv_reader(config: Value) -> Value {
    dmap(
        json!({"ItemReader": {"Resource": GET, "ReaderConfig": config,
        "Parameters": {"Bucket.$": "$.bucket", "Key": "data.csv"}}}),
    )
}

#[test]
fn csv_with_a_header_row_from_a_mocked_get_object() {
    let def = csv_reader(json!({"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}));
    let csv = "id,name,note\n1,Ann,\"x, y\"\n2,Bob\n";
    let mut h = handler(|r| {
        if r.resource == GET {
            TaskResponse::success(json!({"Body": csv, "ContentType": "text/csv"}))
        } else {
            echo(r)
        }
    });
    let r = run(&def, json!({"bucket": "in"}), &mut h);
    assert_eq!(
        r.output,
        Some(json!([
            {"id": "1", "name": "Ann", "note": "x, y"},
            {"id": "2", "name": "Bob", "note": ""}
        ]))
    );
    assert_eq!(lines(&r), RUN_SUCCEEDED);
    // With an ItemReader, AWS records length 0 (test_map_item_reader_csv_max_items).
    assert_eq!(
        details(&r, 2, "mapStateStartedEventDetails"),
        json!({"length": 0})
    );
    // The reader's call: the Map state's name, the ItemReader's resource and parameters.
    assert_eq!(
        h.calls[0],
        (
            "M".to_string(),
            GET.to_string(),
            json!({"Bucket": "in", "Key": "data.csv"})
        )
    );
    assert_eq!(h.calls.len(), 3);
}

#[test]
fn csv_with_given_headers_max_items_and_a_delimiter() {
    let def = csv_reader(json!({"InputType": "CSV", "CSVHeaderLocation": "GIVEN",
        "CSVHeaders": ["b", "a"], "CSVDelimiter": "SEMICOLON", "MaxItems": 2}));
    let mut h = handler(|r| {
        if r.resource == GET {
            // A bare string is the object's text.
            TaskResponse::success(json!("1;2\n3;4\n5;6\n"))
        } else {
            echo(r)
        }
    });
    let r = run(&def, json!({"bucket": "in"}), &mut h);
    assert_eq!(
        r.output,
        Some(json!([{"a": "2", "b": "1"}, {"a": "4", "b": "3"}]))
    );
}

#[test]
fn json_array_and_jsonl_objects() {
    for (input_type, body, expected) in [
        (
            "JSON",
            json!({"Body": "[{\"n\":1},{\"n\":2}]"}),
            json!([{"n": 1}, {"n": 2}]),
        ),
        ("JSON", json!([{"n": 3}]), json!([{"n": 3}])),
        (
            "JSONL",
            json!({"Body": "{\"n\":1}\n\n{\"n\":2}\n"}),
            json!([{"n": 1}, {"n": 2}]),
        ),
    ] {
        let def = dmap(json!({"ItemReader": {"Resource": GET,
            "ReaderConfig": {"InputType": input_type}, "Parameters": {"Bucket": "b", "Key": "k"}}}));
        let body2 = body.clone();
        let mut h = handler(move |r| {
            if r.resource == GET {
                TaskResponse::success(body2.clone())
            } else {
                echo(r)
            }
        });
        let r = run(&def, json!({}), &mut h);
        assert_eq!(r.output, Some(expected), "{input_type} {body}");
    }
}

#[test]
fn a_json_object_that_is_not_an_array_fails_the_map_run() {
    let def = dmap(json!({"ItemReader": {"Resource": GET,
        "ReaderConfig": {"InputType": "JSON"}, "Parameters": {"Bucket": "b", "Key": "k"}}}));
    let mut h = handler(|_| TaskResponse::success(json!({"Body": "{\"a\":1}"})));
    let r = run(&def, json!({}), &mut h);
    assert_eq!(r.status, ExecutionStatus::Failed);
    assert_eq!(
        (r.error.as_deref(), r.cause.as_deref()),
        (
            Some("States.ItemReaderFailed"),
            Some("Attempting to map over non-iterable node.")
        )
    );
    assert_eq!(
        lines(&r),
        [
            "1 0 ExecutionStarted",
            "2 0 MapStateEntered",
            "3 2 MapStateStarted",
            "4 3 MapRunStarted",
            "5 4 MapRunFailed",
            "6 5 MapStateFailed",
            "7 6 ExecutionFailed"
        ]
    );
    assert_eq!(
        details(&r, 4, "mapRunFailedEventDetails"),
        json!({"error": "States.ItemReaderFailed", "cause": "Attempting to map over non-iterable node."})
    );
}

#[test]
fn max_items_path_errors_as_recorded_on_aws() {
    let def = csv_reader(json!({"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW",
        "MaxItemsPath": "$.max"}));
    let answer = |r: &TaskRequest<'_>| {
        if r.resource == GET {
            TaskResponse::success(json!("Col1\nV1\nV2\n"))
        } else {
            echo(r)
        }
    };
    // -1: the Map Run fails reading (test_map_item_reader_csv_max_items_paths[-1]).
    let r = run(
        &def,
        json!({"bucket": "b", "max": -1}),
        &mut handler(answer),
    );
    assert_eq!(
        (r.error.as_deref(), r.cause.as_deref()),
        (
            Some("States.ItemReaderFailed"),
            Some("field MaxItems must be positive")
        )
    );
    assert_eq!(
        lines(&r)[3..],
        [
            "4 3 MapRunStarted",
            "5 4 MapRunFailed",
            "6 5 MapStateFailed",
            "7 6 ExecutionFailed"
        ]
    );
    // 1.5: States.Runtime before the Map Run starts, no MapStateFailed ([1.5]).
    let r = run(
        &def,
        json!({"bucket": "b", "max": 1.5}),
        &mut handler(answer),
    );
    assert_eq!(r.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        r.cause.as_deref(),
        Some("An error occurred while executing the state 'M' (entered at the event id #2). The MaxItemsPath field refers to value \"1.5\" which is not a valid integer: $.max")
    );
    assert_eq!(
        lines(&r),
        [
            "1 0 ExecutionStarted",
            "2 0 MapStateEntered",
            "3 2 MapStateStarted",
            "4 3 ExecutionFailed"
        ]
    );
    // 0: no limit.
    let r = run(&def, json!({"bucket": "b", "max": 0}), &mut handler(answer));
    assert_eq!(r.output, Some(json!([{"Col1": "V1"}, {"Col1": "V2"}])));
}

#[test]
fn list_objects_v2_follows_continuation_tokens() {
    let list = "arn:aws:states:::s3:listObjectsV2";
    let def = dmap(json!({"ItemReader": {"Resource": list,
        "Parameters": {"Bucket": "b", "Prefix": "in/"}}}));
    let mut h = handler(move |r| {
        if r.resource != list {
            return echo(r);
        }
        match r.parameters.get("ContinuationToken") {
            None => TaskResponse::success(json!({"Contents": [{"Key": "in/1", "Size": 1}],
                "IsTruncated": true, "NextContinuationToken": "t1"})),
            Some(_) => TaskResponse::success(json!({"Contents": [{"Key": "in/2", "Size": 2}],
                "IsTruncated": false})),
        }
    });
    let r = run(&def, json!({}), &mut h);
    assert_eq!(
        r.output,
        Some(json!([{"Key": "in/1", "Size": 1}, {"Key": "in/2", "Size": 2}]))
    );
    let reader_calls: Vec<&Value> = h
        .calls
        .iter()
        .filter(|c| c.1 == list)
        .map(|c| &c.2)
        .collect();
    assert_eq!(
        reader_calls,
        [
            &json!({"Bucket": "b", "Prefix": "in/"}),
            &json!({"Bucket": "b", "Prefix": "in/", "ContinuationToken": "t1"})
        ]
    );
}

#[test]
fn item_batcher_gives_each_child_a_batch() {
    let def = dmap(json!({"ItemBatcher": {"MaxItemsPerBatchPath": "$.per",
        "BatchInput": {"run.$": "$.run", "fixed": true}}, "ItemsPath": "$.items",
        "ItemSelector": {"n.$": "$$.Map.Item.Value"}}));
    let mut h = handler(echo);
    let r = run(
        &def,
        json!({"items": [1, 2, 3, 4, 5], "per": 2, "run": "r1"}),
        &mut h,
    );
    assert_eq!(
        r.output,
        Some(json!([
            {"BatchInput": {"run": "r1", "fixed": true}, "Items": [{"n": 1}, {"n": 2}]},
            {"BatchInput": {"run": "r1", "fixed": true}, "Items": [{"n": 3}, {"n": 4}]},
            {"BatchInput": {"run": "r1", "fixed": true}, "Items": [{"n": 5}]}
        ]))
    );
    assert_eq!(h.calls.len(), 3);
    // MapStateStarted counts items, not batches.
    assert_eq!(
        details(&r, 2, "mapStateStartedEventDetails"),
        json!({"length": 5})
    );
}

#[test]
fn a_failed_batch_counts_all_its_items_toward_the_threshold() {
    // 4 items in batches of 2; the batch holding the failing item fails 2 items (50%).
    let def = dmap(json!({"ItemBatcher": {"MaxItemsPerBatch": 2},
        "ToleratedFailurePercentage": 49}));
    let answer = |r: &TaskRequest<'_>| {
        if r.parameters["Items"]
            .as_array()
            .unwrap()
            .contains(&json!("bad"))
        {
            TaskResponse::failure("Boom", None)
        } else {
            TaskResponse::success(json!("ok"))
        }
    };
    let r = run(&def, json!(["a", "bad", "c", "d"]), &mut handler(answer));
    assert_eq!(
        r.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
    let mut def50 = def.clone();
    def50["States"]["M"]["ToleratedFailurePercentage"] = json!(50);
    let r = run(&def50, json!(["a", "bad", "c", "d"]), &mut handler(answer));
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    let out = r.output.unwrap();
    assert_eq!(out[1], json!("ok"));
    assert_eq!(out[0]["Status"], json!("FAILED"));
    assert_eq!(out[0]["Error"], json!("Boom"));
    assert_eq!(out[0].get("Cause"), None);
}

#[test]
fn result_writer_puts_results_and_manifest_and_outputs_their_location() {
    let put = "arn:aws:states:::s3:putObject";
    let def = dmap(json!({"ResultWriter": {"Resource": put,
        "Parameters": {"Bucket.$": "$.out", "Prefix": "runs"}}, "ItemsPath": "$.items",
        "ToleratedFailureCount": 1}));
    let mut h = handler(move |r| {
        if r.resource == put {
            TaskResponse::success(json!({"ETag": "\"e\""}))
        } else {
            echo(r)
        }
    });
    let r = run(
        &def,
        json!({"out": "results-bucket", "items": [{"v": 1}, {"fail": "Bad"}]}),
        &mut h,
    );
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    let arn = details(&r, 3, "mapRunStartedEventDetails")["mapRunArn"]
        .as_str()
        .unwrap()
        .to_string();
    let id = arn.rsplit(':').next().unwrap().to_string();
    let dir = format!("runs/{id}");
    assert_eq!(
        r.output,
        Some(json!({"MapRunArn": arn,
            "ResultWriterDetails": {"Bucket": "results-bucket", "Key": format!("{dir}/manifest.json")}}))
    );
    assert_eq!(lines(&r), RUN_SUCCEEDED);
    let puts: Vec<&Value> = h
        .calls
        .iter()
        .filter(|c| c.1 == put)
        .map(|c| &c.2)
        .collect();
    let keys: Vec<&str> = puts.iter().map(|p| p["Key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        [
            format!("{dir}/SUCCEEDED_0.json"),
            format!("{dir}/FAILED_0.json"),
            format!("{dir}/manifest.json")
        ]
    );
    assert!(puts.iter().all(|p| p["Bucket"] == json!("results-bucket")));
    let body =
        |i: usize| -> Value { serde_json::from_str(puts[i]["Body"].as_str().unwrap()).unwrap() };
    let succeeded = body(0);
    assert_eq!(succeeded.as_array().unwrap().len(), 1);
    assert_eq!(succeeded[0]["Status"], json!("SUCCEEDED"));
    assert_eq!(succeeded[0]["Output"], json!("{\"v\":1}"));
    assert_eq!(succeeded[0]["Input"], json!("{\"v\":1}"));
    assert_eq!(succeeded[0]["OutputDetails"], json!({"Included": true}));
    let failed = body(1);
    assert_eq!(failed[0]["Status"], json!("FAILED"));
    assert_eq!(failed[0]["Error"], json!("Bad"));
    assert_eq!(failed[0]["Cause"], json!("Bad happened"));
    let manifest = body(2);
    assert_eq!(
        manifest,
        json!({"DestinationBucket": "results-bucket", "MapRunArn": arn, "ResultFiles": {
            "FAILED": [{"Key": format!("{dir}/FAILED_0.json"), "Size": puts[1]["Body"].as_str().unwrap().len()}],
            "PENDING": [],
            "SUCCEEDED": [{"Key": format!("{dir}/SUCCEEDED_0.json"), "Size": puts[0]["Body"].as_str().unwrap().len()}]}})
    );
}

#[test]
fn writer_config_alone_transforms_the_state_output() {
    let def = dmap(
        json!({"ResultWriter": {"WriterConfig": {"Transformation": "FLATTEN",
        "OutputType": "JSON"}}}),
    );
    let r = run(
        &def,
        json!([[1, 2], [3], 4]),
        &mut handler(|r| TaskResponse::success(r.parameters.clone())),
    );
    assert_eq!(r.output, Some(json!([1, 2, 3, 4])));
}

#[test]
fn a_failed_result_write_fails_the_map_run() {
    let put = "arn:aws:states:::s3:putObject";
    let def = dmap(
        json!({"ResultWriter": {"Resource": put, "Parameters": {"Bucket": "b", "Prefix": "p"}}}),
    );
    let mut h = handler(move |r| {
        if r.resource == put {
            TaskResponse::failure("S3.AccessDenied", Some("Access Denied".into()))
        } else {
            echo(r)
        }
    });
    let r = run(&def, json!([1]), &mut h);
    assert_eq!(
        (r.error.as_deref(), r.cause.as_deref()),
        (Some("States.ResultWriterFailed"), Some("Access Denied"))
    );
    assert_eq!(lines(&r)[4], "5 4 MapRunFailed");
}

#[test]
fn tolerated_failures_under_the_threshold_do_not_fail_the_state() {
    let def = dmap(json!({"ToleratedFailureCount": 1}));
    let r = run(
        &def,
        json!([{"v": 1}, {"fail": "Bad", "ms": 5}, {"v": 3}]),
        &mut handler(echo),
    );
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(lines(&r), RUN_SUCCEEDED);
    let out = r.output.unwrap();
    assert_eq!(out[0], json!({"v": 1}));
    assert_eq!(out[2], json!({"v": 3}));
    assert_eq!(out[1]["Status"], json!("FAILED"));
    assert_eq!(out[1]["Error"], json!("Bad"));
    assert_eq!(out[1]["Cause"], json!("Bad happened"));
    assert_eq!(out[1]["StopDate"], json!("2024-01-01T00:00:00.005Z"));
}

#[test]
fn exceeding_the_threshold_fails_with_aws_error_and_links() {
    for extra in [
        json!({}),
        json!({"ToleratedFailureCount": 1}),
        json!({"ToleratedFailurePercentage": 34}),
        json!({"ToleratedFailureCount": 5, "ToleratedFailurePercentage": 20}),
    ] {
        let def = dmap(extra.clone());
        let r = run(
            &def,
            json!([{"fail": "A", "ms": 1}, {"fail": "B", "ms": 2}, {"v": 3, "ms": 10}]),
            &mut handler(echo),
        );
        assert_eq!(r.status, ExecutionStatus::Failed, "{extra}");
        assert_eq!(
            (r.error.as_deref(), r.cause.as_deref()),
            (
                Some("States.ExceedToleratedFailureThreshold"),
                Some("The specified tolerated failure threshold was exceeded")
            ),
            "{extra}"
        );
        assert_eq!(
            lines(&r),
            [
                "1 0 ExecutionStarted",
                "2 0 MapStateEntered",
                "3 2 MapStateStarted",
                "4 3 MapRunStarted",
                "5 4 MapRunFailed",
                "6 5 MapStateFailed",
                "7 6 ExecutionFailed"
            ],
            "{extra}"
        );
        assert_eq!(
            details(&r, 4, "mapRunFailedEventDetails"),
            json!({"error": "States.ExceedToleratedFailureThreshold",
                "cause": "The specified tolerated failure threshold was exceeded"})
        );
    }
    // Fails as soon as the threshold is exceeded, without waiting for the slow child:
    // no tolerance, the first failure (1 ms) ends it; a count of 1, the second (2 ms).
    let r = run(
        &dmap(json!({})),
        json!([{"fail": "A", "ms": 1}, {"v": 3, "ms": 10}]),
        &mut handler(echo),
    );
    assert_eq!(r.stop_time.to_rfc3339(), "2024-01-01T00:00:00.001Z");
    let r = run(
        &dmap(json!({"ToleratedFailureCount": 1})),
        json!([{"fail": "A", "ms": 1}, {"fail": "B", "ms": 2}, {"v": 3, "ms": 10}]),
        &mut handler(echo),
    );
    assert_eq!(r.stop_time.to_rfc3339(), "2024-01-01T00:00:00.002Z");
}

#[test]
fn the_threshold_error_can_be_caught_and_retried() {
    let mut def = dmap(json!({"ToleratedFailureCount": 0,
        "Retry": [{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "MaxAttempts": 1, "IntervalSeconds": 2}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Done"}]}));
    def["States"]["M"].as_object_mut().unwrap().remove("End");
    def["States"]["M"]["Next"] = json!("Done");
    def["States"]["Done"] = json!({"Type": "Pass", "End": true});
    def["States"]["M"]["ItemsPath"] = json!("$.items");
    let r = run(&def, json!({"items": [{"fail": "X"}]}), &mut handler(echo));
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(
        r.output,
        Some(json!({"items": [{"fail": "X"}], "err": {
            "Error": "States.ExceedToleratedFailureThreshold",
            "Cause": "The specified tolerated failure threshold was exceeded"}}))
    );
    assert_eq!(
        lines(&r),
        [
            "1 0 ExecutionStarted",
            "2 0 MapStateEntered",
            "3 2 MapStateStarted",
            "4 3 MapRunStarted",
            "5 4 MapRunFailed",
            "6 5 MapStateStarted",
            "7 6 MapRunStarted",
            "8 7 MapRunFailed",
            "9 8 MapStateFailed",
            "10 9 MapStateExited",
            "11 10 PassStateEntered",
            "12 11 PassStateExited",
            "13 12 ExecutionSucceeded"
        ]
    );
    assert_eq!(r.stop_time.to_rfc3339(), "2024-01-01T00:00:02.000Z");
    // The retry is a new Map Run.
    assert_ne!(
        details(&r, 3, "mapRunStartedEventDetails"),
        details(&r, 6, "mapRunStartedEventDetails")
    );
}

#[test]
fn tolerated_failure_paths_fail_as_recorded_on_aws() {
    let count = dmap(
        json!({"ItemsPath": "$.Items", "ToleratedFailureCountPath": "$.ToleratedFailureCount"}),
    );
    let pct = dmap(json!({"ItemsPath": "$.Items",
        "ToleratedFailurePercentagePath": "$.ToleratedFailurePercentage"}));
    let prefix = "An error occurred while executing the state 'M' (entered at the event id #2). ";
    for (def, value, detail) in [
        (&count, json!({}), "The ToleratedFailureCountPath field refers to value \"{}\" which is not a valid integer: $.ToleratedFailureCount"),
        (&count, json!("NoNumber"), "The ToleratedFailureCountPath field refers to value \"NoNumber\" which is not a valid integer: $.ToleratedFailureCount"),
        (&count, json!(-1), "ToleratedFailureCount cannot be negative."),
        (&pct, json!({}), "The ToleratedFailurePercentagePath field refers to value \"{}\" which is not a valid float: $.ToleratedFailurePercentage"),
        (&pct, json!("NoNumber"), "The ToleratedFailurePercentagePath field refers to value \"NoNumber\" which is not a valid float: $.ToleratedFailurePercentage"),
        (&pct, json!(-1.1), "ToleratedFailurePercentage must be between 0 and 100."),
        (&pct, json!(100.1), "ToleratedFailurePercentage must be between 0 and 100."),
    ] {
        let key = if def == &count { "ToleratedFailureCount" } else { "ToleratedFailurePercentage" };
        let r = run(def, json!({"Items": [0], key: value}), &mut handler(echo));
        assert_eq!(r.error.as_deref(), Some("States.Runtime"), "{value}");
        assert_eq!(r.cause, Some(format!("{prefix}{detail}")), "{value}");
        assert_eq!(
            lines(&r),
            [
                "1 0 ExecutionStarted",
                "2 0 MapStateEntered",
                "3 2 MapStateStarted",
                "4 3 ExecutionFailed"
            ]
        );
    }
    for (def, value) in [
        (&count, json!(0)),
        (&count, json!(1)),
        (&pct, json!(1.1)),
        (&pct, json!(100)),
    ] {
        let key = if def == &count {
            "ToleratedFailureCount"
        } else {
            "ToleratedFailurePercentage"
        };
        let r = run(def, json!({"Items": [0], key: value}), &mut handler(echo));
        assert_eq!(r.output, Some(json!([0])), "{value}");
        assert_eq!(lines(&r), RUN_SUCCEEDED);
    }
}

#[test]
fn an_aborted_distributed_map_records_map_run_aborted() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100, "End": true}}}}}},
        {"StartAt": "F", "States": {"F": {"Type": "Task", "Resource": TASK,
            "Parameters": {"fail": "Stop", "ms": 10}, "End": true}}}]}}});
    let r = run(&def, json!([1, 2]), &mut handler(echo));
    assert_eq!(r.error.as_deref(), Some("Stop"));
    let types: Vec<String> = r.history.iter().map(|e| e.kind.type_name()).collect();
    let failed = types.iter().position(|t| t == "TaskFailed").unwrap();
    assert_eq!(
        types[failed..],
        [
            "TaskFailed",
            "MapRunAborted",
            "MapStateAborted",
            // The failed branch's Task, as for any Parallel branch that fails.
            "TaskStateAborted",
            "ParallelStateFailed",
            "ExecutionFailed"
        ]
    );
    let failed_id = r.history[failed].id;
    assert_eq!(r.history[failed + 1].previous_event_id, failed_id);
    assert_eq!(r.history[failed + 2].previous_event_id, failed_id);
    assert!(!types.iter().any(|t| t.starts_with("Wait")));
}

#[test]
fn an_express_parent_keeps_no_history_but_runs_the_map_run() {
    let def = dmap(json!({}));
    let r = run_with(
        &def,
        json!([1, 2]),
        &mut handler(echo),
        &ExecutionConfig {
            workflow_type: WorkflowType::Express,
            ..ExecutionConfig::default()
        },
    );
    assert_eq!(r.output, Some(json!([1, 2])));
    assert!(r.history.is_empty());
}

#[test]
fn still_refused() {
    for (extra, what) in [
        (
            json!({"ItemReader": {"Resource": GET, "ReaderConfig": {"InputType": "PARQUET"},
                "Parameters": {"Bucket": "b", "Key": "k"}}}),
            "not supported yet: ItemReader InputType PARQUET (state 'M')",
        ),
        (
            json!({"ItemsPath": "$.x", "ItemReader": {"Resource": GET,
                "ReaderConfig": {"InputType": "JSON"}, "Parameters": {"Bucket": "b", "Key": "k"}}}),
            "not supported yet: ItemsPath together with ItemReader (state 'M')",
        ),
    ] {
        let d = Definition::parse(&dmap(extra).to_string()).unwrap();
        let e = d
            .execute(json!({}), &ExecutionConfig::default())
            .unwrap_err();
        assert_eq!(e.to_string(), what);
    }
    // ItemBatcher on an inline Map.
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemBatcher": {"MaxItemsPerBatch": 2},
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}});
    let d = Definition::parse(&def.to_string()).unwrap();
    let e = d
        .execute(json!([]), &ExecutionConfig::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "not supported yet: the field 'ItemBatcher' on an inline Map state (state 'M')"
    );
}

#[test]
fn tolerated_failure_fields_on_an_inline_map_are_accepted_and_ignored() {
    // AWS accepts them on an inline Map (recorded: test_base_map[TOLERATED_FAILURE_COUNT]);
    // an inline Map still fails fast.
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ToleratedFailureCount": 5,
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK, "End": true}}}}}});
    let r = run(&def, json!([{"v": 1}]), &mut handler(echo));
    assert_eq!(r.output, Some(json!([{"v": 1}])));
    assert!(r
        .history
        .iter()
        .any(|e| e.kind.type_name() == "MapIterationStarted"));
    let r = run(&def, json!([{"fail": "Bad"}]), &mut handler(echo));
    assert_eq!(r.error.as_deref(), Some("Bad"));
}

#[test]
fn a_child_execution_that_loops_forever_fails_at_the_history_limit() {
    // The child's own history reaches 25,000 events; the child fails, the Map Run counts it.
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ToleratedFailureCount": 1,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Loop", "States": {
                "Loop": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": true, "Next": "Done"}],
                    "Default": "Again"},
                "Again": {"Type": "Pass", "Next": "Loop"},
                "Done": {"Type": "Succeed"}}}}}});
    let r = run(&def, json!([{"stop": 1}, {}]), &mut handler(echo));
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(lines(&r), RUN_SUCCEEDED);
    let out = r.output.unwrap();
    assert_eq!(out[0], json!({"stop": 1}));
    assert_eq!(out[1]["Status"], json!("FAILED"));
    assert_eq!(out[1]["Error"], json!("States.Runtime"));
    assert_eq!(
        out[1]["Cause"],
        json!("The execution reached the maximum number of history events (25000).")
    );
}
