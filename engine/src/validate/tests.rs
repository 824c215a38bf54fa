//! Exact messages for the cases whose AWS wording was observed.

use super::validate;
use crate::diagnostics::{Diagnostic, DiagnosticCode, Severity};

fn one(def: &str) -> Diagnostic {
    let d = validate(def);
    assert_eq!(d.len(), 1, "{def}: {d:#?}");
    d.into_iter().next().unwrap_or_else(|| unreachable!())
}

fn has(def: &str, code: &str, location: &str, message: &str) {
    let d = validate(def);
    assert!(
        d.iter()
            .any(|x| x.code.as_str() == code && x.location == location && x.message == message),
        "{def}: expected {code} {location} {message:?} in {d:#?}"
    );
}

#[test]
fn valid_minimal() {
    assert!(validate(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#).is_empty());
}

#[test]
fn invalid_json_is_described_like_jackson() {
    let d = one("not a definition");
    assert_eq!(d.code, DiagnosticCode::InvalidJsonDescription);
    assert!(
        d.location
            .starts_with("[Source: (String)\"not a definition\"; line: 1, column: "),
        "{}",
        d.location
    );
    assert!(d.message.contains("\n at [Source:"), "{}", d.message);
}

#[test]
fn blank_and_non_object_definitions() {
    let d = one("  ");
    assert_eq!(d.code.as_str(), "SCHEMA_VALIDATION_FAILED");
    assert_eq!(d.message, "Definition must be a valid JSON object");
    assert_eq!(d.location, "");
    assert_eq!(one("[1]").message, "Definition must be a valid JSON object");
    assert_eq!(one("").code.as_str(), "MISSING_DESCRIPTION");
}

#[test]
fn required_top_level_fields() {
    has(
        "{}",
        "SCHEMA_VALIDATION_FAILED",
        "/",
        "These fields are required: [States, StartAt]",
    );
    has(
        r#"{"States":{"A":{"Type":"Pass","End":true}}}"#,
        "SCHEMA_VALIDATION_FAILED",
        "/",
        "These fields are required: [StartAt]",
    );
}

#[test]
fn dangling_next_and_missing_end_state() {
    let d = validate(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"NOPE"}}}"#);
    assert_eq!(d.len(), 2, "{d:#?}");
    assert_eq!(
        d[0].to_string(),
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: NOPE at /States/A/Next"
    );
    assert_eq!(
        d[1].to_string(),
        "MISSING_END_STATE: Workflow has no terminal state at null"
    );
}

#[test]
fn unreachable_terminal_replaces_missing_end_state() {
    let d = one(
        r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"},
            "C":{"Type":"Pass","End":true}}}"#,
    );
    assert_eq!(d.code, DiagnosticCode::UnreachableState);
    assert_eq!(
        d.to_string(),
        "MISSING_TRANSITION_TARGET: State \"C\" is not reachable. at /States/C"
    );
}

#[test]
fn field_not_supported_on_type() {
    let d = one(
        r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","TimeoutSeconds":5,
            "Branches":[{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":25,"End":true}}}],"End":true}}}"#,
    );
    assert_eq!(
        d.to_string(),
        "SCHEMA_VALIDATION_FAILED: Field 'TimeoutSeconds' is not supported at /States/P"
    );
}

#[test]
fn query_language_rules() {
    has(
        r#"{"QueryLanguage":"JSONata","StartAt":"X","States":{"X":{"Type":"Pass","InputPath":"$.a","End":true}}}"#,
        "SCHEMA_VALIDATION_FAILED",
        "/States/X",
        "The QueryLanguage is set to 'JSONata', but field 'InputPath' is only supported for the 'JSONPath' QueryLanguage",
    );
    let d = one(
        r#"{"QueryLanguage":"JSONata","StartAt":"X","States":{"X":{"Type":"Pass","QueryLanguage":"JSONPath",
            "Output":{"v":"{% 1 %}"},"End":true}}}"#,
    );
    assert_eq!(
        d.message,
        "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine"
    );
    assert_eq!(d.location, "/States/X");
    let d = one(
        r#"{"QueryLanguage":"jsonata","StartAt":"X","States":{"X":{"Type":"Pass","Output":1,"End":true}}}"#,
    );
    assert_eq!(
        d.message,
        "Value should be one of the following: [JSONPath, JSONata]"
    );
    assert_eq!(d.location, "/QueryLanguage");
    let d = one(r#"{"QueryLanguage":5,"StartAt":"X","States":{"X":{"Type":"Pass","End":true}}}"#);
    assert_eq!(d.message, "Expected value of type [STRING]");
    // The Map's own language does not reach the states inside it.
    let d = one(
        r#"{"StartAt":"M","States":{"M":{"Type":"Map","QueryLanguage":"JSONata","ItemProcessor":{"StartAt":"P",
            "States":{"P":{"Type":"Pass","Output":{"d":"{% 1 %}"},"End":true}}},"End":true}}}"#,
    );
    assert_eq!(
        d.message,
        "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage"
    );
    assert_eq!(d.location, "/States/M/ItemProcessor/States/P");
}

#[test]
fn path_messages() {
    has(
        r#"{"StartAt":"P","States":{"P":{"Type":"Pass","OutputPath":"Test","End":true}}}"#,
        "SCHEMA_VALIDATION_FAILED",
        "/States/P/OutputPath",
        "Value must be a valid JSONPath.",
    );
    has(
        r#"{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"Test","StringMatches":"T",
            "Next":"S"}],"Default":"S"},"S":{"Type":"Succeed"}}}"#,
        "SCHEMA_VALIDATION_FAILED",
        "/States/C/Choices[0]/Variable",
        "Value is not a Reference Path: Reference path didn't start with '$'",
    );
    has(
        r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Assign":{"Variable.$":"Test"},"End":true}}}"#,
        "SCHEMA_VALIDATION_FAILED",
        "/States/P/Assign",
        "The value for the field 'Variable.$' must be a valid JSONPath or a valid intrinsic function call",
    );
}

#[test]
fn map_max_concurrency_minimum() {
    let d = one(
        r#"{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":-1,"ItemProcessor":{"StartAt":"P",
            "States":{"P":{"Type":"Pass","End":true}}},"End":true}}}"#,
    );
    assert_eq!(d.message, "Minimum value is 0");
    assert_eq!(d.location, "/States/M/MaxConcurrency");
    assert!(validate(
        r#"{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":9223372036854775807,"ItemProcessor":{
            "StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}"#
    )
    .is_empty());
}

#[test]
fn warnings_do_not_fail() {
    let d = one(r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"$.error"}}}"#);
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(d.code.as_str(), "NO_PATH");
}

#[test]
fn duplicate_key_in_one_states_object() {
    let d =
        one(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true},"A":{"Type":"Succeed"}}}"#);
    assert_eq!(
        d.to_string(),
        "DUPLICATE_STATE_NAME: Duplicate State name: A at /States/A"
    );
}

#[test]
fn deep_nesting_does_not_overflow() {
    // serde_json's recursion limit turns absurd depth into a JSON error.
    let deep = "[".repeat(100_000);
    assert_eq!(one(&deep).code, DiagnosticCode::InvalidJsonDescription);
    // Parallel states nested as deep as the parser allows are walked without trouble.
    let mut def = r#"{"StartAt":"L0","States":{"L0":{"Type":"Pass","End":true}}}"#.to_string();
    for i in 1..25 {
        def = format!(
            r#"{{"StartAt":"L{i}","States":{{"L{i}":{{"Type":"Parallel","Branches":[{def}],"End":true}}}}}}"#
        );
    }
    assert!(validate(&def).is_empty(), "{:#?}", validate(&def));
}

#[test]
fn every_diagnostic_has_a_message() {
    let defs = [
        "{}",
        r#"{"StartAt":"A","States":{"A":{"Type":"Task","Retry":[{}],"Catch":[{}]}}}"#,
        r#"{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"And":[]}]}}}"#,
    ];
    for def in defs {
        for d in validate(def) {
            assert!(!d.message.is_empty(), "{d:?}");
            assert!(d.is_error() || d.code.default_severity() == Severity::Warning);
        }
    }
}

#[test]
fn assign_variable_names_are_checked_in_every_assign() {
    has(
        r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Assign":{"states":1},"End":true}}}"#,
        "SCHEMA_VALIDATION_FAILED",
        "/States/P/Assign",
        "The variable name 'states' is reserved by Step Functions",
    );
    has(
        r#"{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Assign":{"1st":1},"End":true}}}"#,
        "SCHEMA_VALIDATION_FAILED",
        "/States/P/Assign",
        "The variable name '1st' is not valid: a variable name starts with a letter or '_', continues with letters, digits or '_', and has at most 80 characters",
    );
    has(
        r#"{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":true,
            "Next":"S","Assign":{"bad-name.$":"$"}}],"Default":"S"},"S":{"Type":"Succeed"}}}"#,
        "SCHEMA_VALIDATION_FAILED",
        "/States/C/Choices[0]/Assign",
        "The variable name 'bad-name' is not valid: a variable name starts with a letter or '_', continues with letters, digits or '_', and has at most 80 characters",
    );
    assert!(validate(
        r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Assign":{"_ok1":1,"ünï.$":"$"},"End":true}}}"#
    )
    .is_empty());
}
