//! JSONata states (`QueryLanguage: JSONata`): Arguments, Output, Assign, `$states`, Choice
//! Conditions, Map Items, Wait, Fail, Catch, and States.QueryEvaluationError with its
//! EvaluationFailed event. Expected values follow the AWS Developer Guide ("Transforming data
//! with JSONata in Step Functions") and executions recorded against AWS.

use engine::{
    Definition, ExecutionConfig, ExecutionResult, ExecutionStatus, TaskHandler, TaskHandlerError,
    TaskRequest, TaskResponse, VirtualClock,
};
use serde_json::{json, Value};

/// Answers every task with the next scripted response and remembers the parameters.
struct Script {
    responses: Vec<TaskResponse>,
    parameters: Vec<Value>,
}

impl TaskHandler for Script {
    fn invoke(&mut self, r: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
        self.parameters.push(r.parameters.clone());
        if self.responses.is_empty() {
            return Err(TaskHandlerError::MockFailed {
                state: r.state_name.to_string(),
                reason: "script exhausted".into(),
            });
        }
        Ok(self.responses.remove(0))
    }
}

fn run_with(def: Value, input: Value, responses: Vec<TaskResponse>) -> (ExecutionResult, Script) {
    let d = Definition::parse(&def.to_string()).expect("valid definition");
    let config = ExecutionConfig::default();
    let mut clock = VirtualClock::starting_at(config.start_time);
    let mut script = Script {
        responses,
        parameters: Vec::new(),
    };
    let r = d
        .execute_with(input, &config, &mut clock, &mut script)
        .expect("run completes");
    (r, script)
}

fn run(def: Value, input: Value) -> ExecutionResult {
    run_with(def, input, Vec::new()).0
}

/// Each event as `id<previous type`, then its details object (if any).
fn events(r: &ExecutionResult) -> Vec<(String, Value)> {
    r.history
        .iter()
        .map(|e| {
            let j = e.to_api_json();
            let details = j
                .as_object()
                .and_then(|o| o.iter().find(|(k, _)| k.ends_with("EventDetails")))
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null);
            (
                format!(
                    "{}<{} {}",
                    j["id"],
                    j["previousEventId"],
                    j["type"].as_str().unwrap_or_default()
                ),
                details,
            )
        })
        .collect()
}

fn heads(r: &ExecutionResult) -> Vec<String> {
    events(r).into_iter().map(|(h, _)| h).collect()
}

const LAMBDA: &str = "arn:aws:states:::lambda:invoke";

#[test]
fn pass_output_sees_input_and_old_variables_and_assign_applies_on_exit() {
    let r = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
            "B": {"Type": "Pass",
                  "Assign": {"x": "{% $x + 10 %}", "seen": "{% $states.input.n %}"},
                  "Output": {"x_in_output": "{% $x %}", "sum": "{% $states.input.n + $x %}",
                             "literal": "$x", "spaced": " {% 1 %} "},
                  "Next": "C"},
            "C": {"Type": "Pass", "Output": "{% [$x, $seen] %}", "End": true}}}),
        json!({"n": 5}),
    );
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(r.output, Some(json!([11, 5])));
    let ev = events(&r);
    assert_eq!(
        ev[4].1,
        json!({"name": "B", "output": "{\"x_in_output\":1,\"sum\":6,\"literal\":\"$x\",\"spaced\":\" {% 1 %} \"}",
               "outputDetails": {"truncated": false},
               "assignedVariables": {"x": "11", "seen": "5"},
               "assignedVariablesDetails": {"truncated": false}})
    );
}

#[test]
fn task_arguments_result_and_output() {
    let (r, script) = run_with(
        json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": LAMBDA,
                  "Arguments": {"FunctionName": "f", "Payload": {"v": "{% $states.input.v * 2 %}"}},
                  "Assign": {"got": "{% $states.result.Payload %}"},
                  "Output": {"in": "{% $states.input.v %}", "out": "{% $states.result.Payload.r %}"},
                  "Next": "U"},
            "U": {"Type": "Pass", "Output": "{% $got %}", "End": true}}}),
        json!({"v": 21}),
        vec![TaskResponse::success(
            json!({"Payload": {"r": 42}, "StatusCode": 200}),
        )],
    );
    assert_eq!(
        script.parameters,
        vec![json!({"FunctionName": "f", "Payload": {"v": 42}})]
    );
    assert_eq!(r.output, Some(json!({"r": 42})));
    assert_eq!(
        heads(&r),
        [
            "1<0 ExecutionStarted",
            "2<0 TaskStateEntered",
            "3<2 TaskScheduled",
            "4<3 TaskStarted",
            "5<4 TaskSucceeded",
            "6<5 TaskStateExited",
            "7<6 PassStateEntered",
            "8<7 PassStateExited",
            "9<8 ExecutionSucceeded"
        ]
    );
    assert_eq!(events(&r)[5].1["output"], json!("{\"in\":21,\"out\":42}"));
}

#[test]
fn task_without_output_outputs_the_result() {
    let (r, script) = run_with(
        json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": LAMBDA, "End": true}}}),
        json!({"a": 1}),
        vec![TaskResponse::success(json!({"Payload": 7}))],
    );
    // Assumption (AWS documents Arguments as optional): without Arguments the state input
    // is the task's parameters.
    assert_eq!(script.parameters, vec![json!({"a": 1})]);
    assert_eq!(r.output, Some(json!({"Payload": 7})));
}

#[test]
fn choice_conditions_rule_output_and_default_assign() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
        "C": {"Type": "Choice",
              "Choices": [{"Condition": "{% $states.input.n > 10 %}", "Next": "Big",
                           "Output": {"size": "big"}, "Assign": {"which": "rule"}}],
              "Default": "Small", "Assign": {"which": "default"}},
        "Big": {"Type": "Pass", "Output": "{% [$states.input, $which] %}", "End": true},
        "Small": {"Type": "Pass", "Output": "{% [$states.input, $which] %}", "End": true}}});
    let big = run(def.clone(), json!({"n": 11}));
    assert_eq!(big.output, Some(json!([{"size": "big"}, "rule"])));
    let small = run(def, json!({"n": 1}));
    assert_eq!(small.output, Some(json!([{"n": 1}, "default"])));
}

#[test]
fn a_non_boolean_condition_is_a_query_evaluation_error() {
    let r = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.n %}", "Next": "D"}],
                  "Default": "D"},
            "D": {"Type": "Succeed"}}}),
        json!({"n": 3}),
    );
    assert_eq!(r.status, ExecutionStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("States.QueryEvaluationError"));
    assert_eq!(
        r.cause.as_deref(),
        Some("An error occurred while executing the state 'C' (entered at the event id #2). The JSONata expression '$states.input.n' specified for the field 'Condition' returned an unexpected result type. Expected 'boolean', but was 'number' for value: 3")
    );
}

#[test]
fn an_undefined_output_field_fails_with_evaluation_failed_after_the_event_before_entered() {
    let r = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Pass", "Output": {"result": "{% $doesNotExist %}"}, "End": true}}}),
        json!({}),
    );
    let cause = "An error occurred while executing the state 'B' (entered at the event id #4). The JSONata expression '$doesNotExist' specified for the field 'Output/result' returned nothing (undefined).";
    assert_eq!(
        events(&r)[4..],
        [
            (
                "5<3 EvaluationFailed".to_string(),
                json!({"error": "States.QueryEvaluationError", "cause": cause,
                       "location": "Output/result", "state": "B"})
            ),
            (
                "6<5 ExecutionFailed".to_string(),
                json!({"error": "States.QueryEvaluationError", "cause": cause})
            )
        ]
    );
}

#[test]
fn map_items_must_be_an_array_and_record_map_state_failed() {
    let r = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
            "M": {"Type": "Map", "Items": "{% {'foo': 'bar'} %}",
                  "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
                  "End": true}}}),
        json!({}),
    );
    assert_eq!(
        heads(&r),
        [
            "1<0 ExecutionStarted",
            "2<0 MapStateEntered",
            "3<0 EvaluationFailed",
            "4<3 MapStateFailed",
            "5<4 ExecutionFailed"
        ]
    );
    assert_eq!(
        r.cause.as_deref(),
        Some("An error occurred while executing the state 'M' (entered at the event id #2). The JSONata expression '{'foo': 'bar'}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'object' for value: {\"foo\":\"bar\"}")
    );
}

#[test]
fn map_items_selector_and_result_output() {
    let r = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
            "M": {"Type": "Map", "Items": "{% $states.input.xs %}", "MaxConcurrency": "{% 1 %}",
                  "ItemSelector": {"i": "{% $states.context.Map.Item.Index %}",
                                   "v": "{% $states.context.Map.Item.Value * 10 %}",
                                   "k": "{% $states.input.k %}"},
                  "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
                  "Output": {"all": "{% $states.result %}", "n": "{% $count($states.result) %}"},
                  "End": true}}}),
        json!({"xs": [1, 2], "k": "key"}),
    );
    assert_eq!(
        r.output,
        Some(
            json!({"all": [{"i": 0, "v": 10, "k": "key"}, {"i": 1, "v": 20, "k": "key"}], "n": 2})
        )
    );
}

#[test]
fn map_input_that_is_not_an_array_has_no_location() {
    let r = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
            "M": {"Type": "Map",
                  "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
                  "End": true}}}),
        json!(1),
    );
    assert_eq!(
        events(&r)[2].1,
        json!({"error": "States.QueryEvaluationError", "state": "M",
               "cause": "An error occurred while executing the state 'M' (entered at the event id #2). Map state input must be an array but was: 1"})
    );
}

#[test]
fn wait_seconds_and_timestamp_expressions() {
    let r = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": "{% $states.input.s %}", "Next": "T"},
            "T": {"Type": "Wait", "End": true,
                  "Timestamp": "{% $fromMillis($toMillis($states.context.Execution.StartTime) + 3600000) %}"}}}),
        json!({"s": 60}),
    );
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    let times: Vec<i64> = r.history.iter().map(|e| e.timestamp.millis()).collect();
    let start = times[0];
    // W: entered at the start, exits a minute later; T ends an hour after the start.
    assert_eq!(times[1] - start, 0);
    assert_eq!(times[2] - start, 60_000);
    assert_eq!(times.last().map(|t| t - start), Some(3_600_000));

    let bad = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "W", "States": {
            "W": {"Type": "Wait", "Timestamp": "{% $states.input.t %}", "End": true}}}),
        json!({"t": "2016-12-05T21:29:29"}),
    );
    assert_eq!(
        events(&bad)[2],
        (
            "3<2 EvaluationFailed".to_string(),
            json!({"error": "States.QueryEvaluationError", "location": "Timestamp", "state": "W",
                   "cause": "An error occurred while executing the state 'W' (entered at the event id #2). The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: 2016-12-05T21:29:29"})
        )
    );
}

#[test]
fn fail_error_and_cause_expressions() {
    let r = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "F", "States": {
            "F": {"Type": "Fail", "Error": "{% $states.input.e %}", "Cause": "{% 'because ' & $states.input.c %}"}}}),
        json!({"e": "Custom.Error", "c": "reasons"}),
    );
    assert_eq!(r.error.as_deref(), Some("Custom.Error"));
    assert_eq!(r.cause.as_deref(), Some("because reasons"));
}

#[test]
fn catch_output_and_assign_see_the_error_output() {
    let (r, _) = run_with(
        json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": LAMBDA, "Arguments": {},
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H",
                             "Assign": {"err": "{% $states.errorOutput.Error %}"},
                             "Output": {"caught": "{% $states.errorOutput.Cause %}", "in": "{% $states.input %}"}}],
                  "End": true},
            "H": {"Type": "Pass", "Output": "{% $merge([$states.input, {'err': $err}]) %}", "End": true}}}),
        json!({"a": 1}),
        vec![TaskResponse::failure("Boom", Some("it broke".into()))],
    );
    assert_eq!(
        r.output,
        Some(json!({"caught": "it broke", "in": {"a": 1}, "err": "Boom"}))
    );
}

#[test]
fn task_timeout_seconds_expression_reaches_the_scheduled_event() {
    let (r, _) = run_with(
        json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": LAMBDA, "Arguments": {},
                  "TimeoutSeconds": "{% $states.input.t %}", "End": true}}}),
        json!({"t": 5}),
        vec![TaskResponse::success(json!({}))],
    );
    assert_eq!(events(&r)[2].1["timeoutInSeconds"], json!(5));
}

#[test]
fn parallel_arguments_and_mixed_query_languages() {
    let r = run(
        json!({"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "QueryLanguage": "JSONata",
                  "Arguments": {"v": "{% $states.input.v + 1 %}"},
                  "Branches": [
                      {"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"a.$": "$.v"}, "End": true}}},
                      {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}],
                  "Output": "{% $states.result %}",
                  "End": true}}}),
        json!({"v": 1}),
    );
    assert_eq!(r.output, Some(json!([{"a": 2}, {"v": 2}])));
}

#[test]
fn seeded_functions_are_deterministic_and_step_functions_functions_exist() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Output": {
            "u": "{% $uuid() %}", "r": "{% $random() %}",
            "p": "{% $partition([1,2,3], 2) %}", "h": "{% $hash('a', 'SHA-256') %}",
            "j": "{% $parse('{\"k\": [1]}') %}", "range": "{% $range(0, 4, 2) %}"}, "End": true}}});
    let a = run(def.clone(), json!({}));
    let b = run(def, json!({}));
    assert_eq!(a.output, b.output);
    let out = a.output.unwrap();
    assert_eq!(out["p"], json!([[1, 2], [3]]));
    assert_eq!(
        out["h"],
        json!("ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb")
    );
    assert_eq!(out["j"], json!({"k": [1]}));
    assert_eq!(out["range"], json!([0, 2, 4]));
    assert_eq!(out["u"].as_str().map(str::len), Some(36));
}
