//! Workflow variables (`Assign`) in JSONPath states: exact outputs, the `assignedVariables`
//! of StateExited events, scopes in Map and Parallel, parallel assignment, Catch, and the
//! error of an undefined variable. Expected values follow the AWS Developer Guide ("Passing
//! data between states with variables") and executions recorded against AWS.

use engine::{Definition, ExecutionConfig, ExecutionResult, ExecutionStatus};
use serde_json::{json, Value};

fn run(def: Value, input: Value) -> ExecutionResult {
    let d = Definition::parse(&def.to_string()).expect("valid definition");
    d.execute(input, &ExecutionConfig::default())
        .expect("supported definition")
}

/// The `stateExitedEventDetails` of every StateExited event, in history order.
fn exits(r: &ExecutionResult) -> Vec<Value> {
    r.history
        .iter()
        .filter_map(|e| e.to_api_json().get("stateExitedEventDetails").cloned())
        .collect()
}

#[test]
fn assignments_read_the_variables_from_before_the_state() {
    let r = run(
        json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"x": 1, "y": 2}, "Next": "Swap"},
            "Swap": {"Type": "Pass", "Assign": {"x.$": "$y", "y.$": "$x"}, "Next": "Show"},
            "Show": {"Type": "Pass", "Parameters": {"x.$": "$x", "y.$": "$y"}, "End": true}}}),
        json!({}),
    );
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(r.output, Some(json!({"x": 2, "y": 1})));
    assert_eq!(
        exits(&r),
        vec![
            json!({"name": "A", "output": "{}", "outputDetails": {"truncated": false},
                   "assignedVariables": {"x": "1", "y": "2"},
                   "assignedVariablesDetails": {"truncated": false}}),
            json!({"name": "Swap", "output": "{}", "outputDetails": {"truncated": false},
                   "assignedVariables": {"x": "2", "y": "1"},
                   "assignedVariablesDetails": {"truncated": false}}),
            json!({"name": "Show", "output": "{\"x\":2,\"y\":1}",
                   "outputDetails": {"truncated": false}}),
        ]
    );
}

#[test]
fn pass_assign_sees_the_result_and_values_are_json_text() {
    let r = run(
        json!({"StartAt": "P", "States": {
            "P": {"Type": "Pass", "Result": {"n": 5, "s": "t"}, "ResultPath": "$.r",
                  "Assign": {"n.$": "$.n", "s.$": "$.s", "all.$": "$",
                             "f.$": "States.Format('{}-{}', $.s, $.n)", "lit": [1, "a"]},
                  "End": true}}}),
        json!({"in": true}),
    );
    assert_eq!(r.output, Some(json!({"in": true, "r": {"n": 5, "s": "t"}})));
    assert_eq!(
        exits(&r)[0]["assignedVariables"],
        json!({"n": "5", "s": "\"t\"", "all": "{\"n\":5,\"s\":\"t\"}", "f": "\"t-5\"",
               "lit": "[1,\"a\"]"})
    );
}

#[test]
fn an_empty_assign_records_no_assigned_variables() {
    let r = run(
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Assign": {}, "End": true}}}),
        json!({"a": 1}),
    );
    assert_eq!(
        exits(&r),
        vec![json!({"name": "P", "output": "{\"a\":1}", "outputDetails": {"truncated": false}})]
    );
}

#[test]
fn map_iterations_read_outer_variables_and_do_not_leak() {
    let r = run(
        json!({"StartAt": "Init", "States": {
            "Init": {"Type": "Pass", "Assign": {"x": "outer", "bias": 10}, "Next": "M"},
            "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
                  "Assign": {"count.$": "States.ArrayLength($)"},
                  "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Set",
                    "States": {
                      "Set": {"Type": "Pass", "Assign": {"x.$": "$"}, "Next": "Get"},
                      "Get": {"Type": "Pass",
                              "Parameters": {"x.$": "$x", "sum.$": "States.MathAdd($x, $bias)"},
                              "End": true}}},
                  "Next": "After"},
            "After": {"Type": "Pass",
                      "Parameters": {"x.$": "$x", "count.$": "$count", "r.$": "$"},
                      "End": true}}}),
        json!({"items": [1, 2]}),
    );
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(
        r.output,
        Some(json!({"x": "outer", "count": 2,
                    "r": [{"x": 1, "sum": 11}, {"x": 2, "sum": 12}]}))
    );
    let map_exit = exits(&r)
        .into_iter()
        .find(|d| d["name"] == "M")
        .expect("MapStateExited");
    assert_eq!(map_exit["assignedVariables"], json!({"count": "2"}));
}

#[test]
fn items_path_can_name_a_variable() {
    let r = run(
        json!({"StartAt": "Init", "States": {
            "Init": {"Type": "Pass", "Assign": {"list": ["a", "b"]}, "Next": "M"},
            "M": {"Type": "Map", "ItemsPath": "$list",
                  "ItemProcessor": {"StartAt": "E",
                    "States": {"E": {"Type": "Pass", "End": true}}},
                  "End": true}}}),
        json!({}),
    );
    assert_eq!(r.output, Some(json!(["a", "b"])));
}

#[test]
fn parallel_branches_read_outer_variables_and_do_not_leak() {
    let r = run(
        json!({"StartAt": "Init", "States": {
            "Init": {"Type": "Pass", "Assign": {"x": 42}, "Next": "Par"},
            "Par": {"Type": "Parallel", "Next": "After",
                    "Branches": [
                      {"StartAt": "B1", "States": {"B1": {"Type": "Pass",
                          "Assign": {"x": 1}, "Parameters": {"seen.$": "$x"}, "End": true}}},
                      {"StartAt": "B2", "States": {"B2": {"Type": "Pass",
                          "Parameters": {"seen.$": "$x"}, "End": true}}}]},
            "After": {"Type": "Pass", "Parameters": {"x.$": "$x", "r.$": "$"}, "End": true}}}),
        json!({}),
    );
    assert_eq!(
        r.output,
        Some(json!({"x": 42, "r": [{"seen": 42}, {"seen": 42}]}))
    );
}

#[test]
fn choice_rule_assign_and_default_assign() {
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice",
              "Choices": [{"Variable": "$.v", "NumericEquals": 1,
                           "Assign": {"status": "ONE"}, "Next": "Show"}],
              "Assign": {"status": "OTHER", "guess.$": "$.v"},
              "Default": "Show"},
        "Show": {"Type": "Pass", "Parameters": {"status.$": "$status"}, "End": true}}});
    let one = run(def.clone(), json!({"v": 1}));
    assert_eq!(one.output, Some(json!({"status": "ONE"})));
    assert_eq!(
        exits(&one)[0]["assignedVariables"],
        json!({"status": "\"ONE\""})
    );
    let other = run(def, json!({"v": 7}));
    assert_eq!(other.output, Some(json!({"status": "OTHER"})));
    assert_eq!(
        exits(&other)[0]["assignedVariables"],
        json!({"status": "\"OTHER\"", "guess": "7"})
    );
}

#[test]
fn wait_assign_sees_the_effective_input() {
    let r = run(
        json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 0, "InputPath": "$.a",
                  "Assign": {"got.$": "$.b"}, "Next": "Show"},
            "Show": {"Type": "Pass", "Parameters": {"got.$": "$got"}, "End": true}}}),
        json!({"a": {"b": "yes"}}),
    );
    assert_eq!(r.output, Some(json!({"got": "yes"})));
}

#[test]
fn catch_assign_sees_the_error_output() {
    let r = run(
        json!({"StartAt": "Par", "States": {
            "Par": {"Type": "Parallel",
                    "Assign": {"never": true},
                    "Branches": [{"StartAt": "F", "States": {
                        "F": {"Type": "Fail", "Error": "Boom", "Cause": "bad"}}}],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": null,
                               "Assign": {"err.$": "$.Error", "cause.$": "$.Cause"},
                               "Next": "Show"}],
                    "Next": "Show"},
            "Show": {"Type": "Pass",
                     "Parameters": {"err.$": "$err", "cause.$": "$cause"}, "End": true}}}),
        json!({}),
    );
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    assert_eq!(r.output, Some(json!({"err": "Boom", "cause": "bad"})));
    let par_exit = exits(&r)
        .into_iter()
        .find(|d| d["name"] == "Par")
        .expect("ParallelStateExited");
    assert_eq!(
        par_exit["assignedVariables"],
        json!({"err": "\"Boom\"", "cause": "\"bad\""})
    );
}

#[test]
fn an_undefined_variable_fails_with_states_runtime() {
    // Assumption: a JSONPath reference to a variable that was never assigned fails like a
    // path that selects nothing (States.Runtime, AWS's "could not be found" cause).
    let r = run(
        json!({"StartAt": "P", "States": {
            "P": {"Type": "Pass", "Parameters": {"a.$": "$nope"}, "End": true}}}),
        json!({}),
    );
    assert_eq!(r.status, ExecutionStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        r.cause.as_deref(),
        Some("An error occurred while executing the state 'P' (entered at the event id #2). The JSONPath '$nope' specified for the field 'a.$' could not be found in the input '{}'")
    );
}

#[test]
fn distributed_map_children_do_not_see_the_parent_variables() {
    let def = |selector: Value, child_params: Value| {
        json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"x": 7}, "Next": "M"},
            "M": {"Type": "Map", "ItemsPath": "$.items", "ItemSelector": selector,
                  "ItemProcessor": {
                      "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                      "StartAt": "P",
                      "States": {"P": {"Type": "Pass", "Parameters": child_params, "End": true}}},
                  "End": true}}})
    };
    // Through ItemSelector (evaluated in the parent) the value reaches the child.
    let through_selector = run(
        def(json!({"v.$": "$x"}), json!({"got.$": "$.v"})),
        json!({"items": [1]}),
    );
    assert_eq!(through_selector.status, ExecutionStatus::Succeeded);
    assert_eq!(through_selector.output, Some(json!([{"got": 7}])));
    // Read directly in the child, the variable does not exist there.
    let direct = run(
        def(json!({"i.$": "$$.Map.Item.Value"}), json!({"got.$": "$x"})),
        json!({"items": [1]}),
    );
    assert_eq!(direct.status, ExecutionStatus::Failed);
    assert_eq!(
        direct.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
}
