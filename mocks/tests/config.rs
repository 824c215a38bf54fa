//! Parsing and validating MockConfigFiles.

use mocks::{MockConfig, MockConfigError, MockResponse, Problem, ProblemKind};
use serde_json::json;

fn problems(text: &str) -> Vec<Problem> {
    MockConfig::from_json_str(text)
        .expect_err("should be rejected")
        .problems()
        .to_vec()
}

fn strict_problems(text: &str) -> Vec<Problem> {
    MockConfig::from_json_str_strict(text)
        .expect_err("should be rejected")
        .problems()
        .to_vec()
}

fn p(location: &str, kind: ProblemKind) -> Problem {
    Problem {
        location: location.to_string(),
        kind,
    }
}

/// A file with one machine `M`, test case `T` mapping state `S` to response `R`, and `R`'s
/// body as given.
fn with_response(body: &str) -> String {
    format!(
        r#"{{"StateMachines": {{"M": {{"TestCases": {{"T": {{"S": "R"}}}}}}}},
            "MockedResponses": {{"R": {body}}}}}"#
    )
}

const AWS_EXAMPLE: &str = r#"{
  "StateMachines":{
    "LambdaSQSIntegration":{
      "TestCases":{
        "HappyPath":{ "LambdaState":"MockedLambdaSuccess", "SQSState":"MockedSQSSuccess" },
        "RetryPath":{ "LambdaState":"MockedLambdaRetry", "SQSState":"MockedSQSSuccess" },
        "HybridPath":{ "LambdaState":"MockedLambdaSuccess" }
      }
    }
  },
  "MockedResponses":{
    "MockedLambdaSuccess":{
      "0":{ "Return":{ "StatusCode":200, "Payload":{ "StatusCode":200, "body":"Hello from Lambda!" } } }
    },
    "LambdaMockedResourceNotReady":{
      "0":{ "Throw":{ "Error":"Lambda.ResourceNotReadyException", "Cause":"Lambda resource is not ready." } }
    },
    "MockedSQSSuccess":{
      "0":{ "Return":{ "MD5OfMessageBody":"3bcb6e8e-7h85-4375-b0bc-1a59812c6e51", "MessageId":"3bcb6e8e-8b51-4375-b0bc-1a59812c6e51" } }
    },
    "MockedLambdaRetry":{
      "0":{ "Throw":{ "Error":"Lambda.ResourceNotReadyException", "Cause":"Lambda resource is not ready." } },
      "1-2":{ "Throw":{ "Error":"Lambda.TimeoutException", "Cause":"Lambda timed out." } },
      "3":{ "Return":{ "StatusCode":200, "Payload":{ "StatusCode":200, "body":"Hello from Lambda!" } } }
    }
  }
}"#;

#[test]
fn parses_the_aws_example() {
    let c = MockConfig::from_json_str_strict(AWS_EXAMPLE).unwrap();
    assert_eq!(
        c.state_machines().collect::<Vec<_>>(),
        ["LambdaSQSIntegration"]
    );
    assert_eq!(
        c.test_cases("LambdaSQSIntegration")
            .unwrap()
            .collect::<Vec<_>>(),
        ["HappyPath", "RetryPath", "HybridPath"]
    );
    assert!(c.test_cases("Other").is_none());
    assert_eq!(
        c.mocked_responses().collect::<Vec<_>>(),
        [
            "MockedLambdaSuccess",
            "LambdaMockedResourceNotReady",
            "MockedSQSSuccess",
            "MockedLambdaRetry"
        ]
    );
    let not_ready = MockResponse::Throw {
        error: "Lambda.ResourceNotReadyException".into(),
        cause: Some("Lambda resource is not ready.".into()),
    };
    let timeout = MockResponse::Throw {
        error: "Lambda.TimeoutException".into(),
        cause: Some("Lambda timed out.".into()),
    };
    let ok = MockResponse::Return(
        json!({"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}),
    );
    assert_eq!(c.response("MockedLambdaRetry", 0), Some(&not_ready));
    assert_eq!(c.response("MockedLambdaRetry", 1), Some(&timeout));
    assert_eq!(c.response("MockedLambdaRetry", 2), Some(&timeout));
    assert_eq!(c.response("MockedLambdaRetry", 3), Some(&ok));
    assert_eq!(c.response("MockedLambdaRetry", 4), None);
    assert_eq!(c.response("Nope", 0), None);
}

#[test]
fn return_takes_any_json_value() {
    for v in [
        json!(null),
        json!(true),
        json!(42),
        json!(-1.5),
        json!("text"),
        json!([1, {"a": null}]),
        json!({}),
        json!({"nested": {"deep": [1, 2, 3]}}),
    ] {
        let text = with_response(&format!(r#"{{"0": {{"Return": {v}}}}}"#));
        let c = MockConfig::from_json_str(&text).unwrap();
        assert_eq!(c.response("R", 0), Some(&MockResponse::Return(v.clone())));
    }
}

#[test]
fn throw_with_and_without_cause() {
    let c = MockConfig::from_json_str(&with_response(
        r#"{"0": {"Throw": {"Error": "E0", "Cause": "because"}},
            "1": {"Throw": {"Error": "E1"}},
            "2": {"Throw": {"Error": "", "Cause": ""}}}"#,
    ))
    .unwrap();
    assert_eq!(
        c.response("R", 0),
        Some(&MockResponse::Throw {
            error: "E0".into(),
            cause: Some("because".into())
        })
    );
    assert_eq!(
        c.response("R", 1),
        Some(&MockResponse::Throw {
            error: "E1".into(),
            cause: None
        })
    );
    assert_eq!(
        c.response("R", 2),
        Some(&MockResponse::Throw {
            error: "".into(),
            cause: Some("".into())
        })
    );
}

#[test]
fn keys_single_numbers_and_ranges_in_any_order() {
    let c = MockConfig::from_json_str_strict(&with_response(
        r#"{"5-9": {"Return": "c"}, "0": {"Return": "a"}, "1-1": {"Return": "b1"},
            "2-4": {"Return": "b"}, "10": {"Return": "d"}, "007-0000000000000000008": {"Return": "x"}}"#,
    ));
    // 007-8 overlaps 5-9.
    let e = c.unwrap_err();
    assert_eq!(
        e.problems(),
        [p(
            "/MockedResponses/R/007-0000000000000000008",
            ProblemKind::OverlappingKeys {
                key: "007-0000000000000000008".into(),
                other: "5-9".into(),
                invocation: 7
            }
        )]
    );

    let c = MockConfig::from_json_str_strict(&with_response(
        r#"{"5-9": {"Return": "c"}, "0": {"Return": "a"}, "1-1": {"Return": "b1"},
            "2-4": {"Return": "b"}, "10": {"Return": "d"}}"#,
    ))
    .unwrap();
    let got: Vec<_> = (0..12).map(|n| c.response("R", n).cloned()).collect();
    let r = |s: &str| Some(MockResponse::Return(json!(s)));
    assert_eq!(
        got,
        [
            r("a"),
            r("b1"),
            r("b"),
            r("b"),
            r("b"),
            r("c"),
            r("c"),
            r("c"),
            r("c"),
            r("c"),
            r("d"),
            None
        ]
    );
}

#[test]
fn largest_key_is_accepted() {
    let max = u64::MAX;
    let c = MockConfig::from_json_str(&with_response(&format!(r#"{{"{max}": {{"Return": 1}}}}"#)))
        .unwrap();
    assert_eq!(c.response("R", max), Some(&MockResponse::Return(json!(1))));
    assert_eq!(c.response("R", 0), None);
}

#[test]
fn bad_keys() {
    let cases: [(&str, &str); 9] = [
        ("", "a number is missing"),
        ("-1", "a number is missing"),
        ("1-", "a number is missing"),
        ("x", "only the digits 0-9 and one '-' are allowed"),
        (" 1", "only the digits 0-9 and one '-' are allowed"),
        ("+1", "only the digits 0-9 and one '-' are allowed"),
        ("1-2-3", "only the digits 0-9 and one '-' are allowed"),
        ("3-1", "the range ends before it starts"),
        ("18446744073709551616", "the number is too large"),
    ];
    for (key, reason) in cases {
        let got = problems(&with_response(&format!(r#"{{"{key}": {{"Return": 1}}}}"#)));
        assert_eq!(
            got,
            [p(
                &format!("/MockedResponses/R/{key}"),
                ProblemKind::BadInvocationKey {
                    key: key.into(),
                    reason
                }
            )],
            "key {key:?}"
        );
    }
}

#[test]
fn key_with_slash_is_escaped_in_the_pointer() {
    let got = problems(&with_response(r#"{"1/2~": {"Return": 1}}"#));
    assert_eq!(
        got,
        [p(
            "/MockedResponses/R/1~12~0",
            ProblemKind::BadInvocationKey {
                key: "1/2~".into(),
                reason: "only the digits 0-9 and one '-' are allowed"
            }
        )]
    );
}

#[test]
fn return_and_throw_together_or_neither() {
    let got = problems(&with_response(
        r#"{"0": {"Return": 1, "Throw": {"Error": "E"}}, "1": {}}"#,
    ));
    assert_eq!(
        got,
        [
            p("/MockedResponses/R/0", ProblemKind::ReturnAndThrow),
            p("/MockedResponses/R/1", ProblemKind::NoReturnOrThrow),
        ]
    );
}

#[test]
fn unknown_fields_in_entries_and_throw() {
    let got = problems(&with_response(
        r#"{"0": {"Retrun": 1}, "1": {"Return": 1, "Delay": 5},
            "2": {"Throw": {"Error": "E", "Cause": "c", "Extra": true}}}"#,
    ));
    assert_eq!(
        got,
        [
            p(
                "/MockedResponses/R/0/Retrun",
                ProblemKind::UnknownField {
                    field: "Retrun".into()
                }
            ),
            p("/MockedResponses/R/0", ProblemKind::NoReturnOrThrow),
            p(
                "/MockedResponses/R/1/Delay",
                ProblemKind::UnknownField {
                    field: "Delay".into()
                }
            ),
            p(
                "/MockedResponses/R/2/Throw/Extra",
                ProblemKind::UnknownField {
                    field: "Extra".into()
                }
            ),
        ]
    );
}

#[test]
fn throw_shape_errors() {
    let got = problems(&with_response(
        r#"{"0": {"Throw": {"Cause": "no error"}}, "1": {"Throw": {"Error": 5}},
            "2": {"Throw": {"Error": "E", "Cause": null}}, "3": {"Throw": "E"}, "4": []}"#,
    ));
    assert_eq!(
        got,
        [
            p(
                "/MockedResponses/R/0/Throw",
                ProblemKind::MissingField { field: "Error" }
            ),
            p(
                "/MockedResponses/R/1/Throw/Error",
                ProblemKind::WrongType {
                    expected: "a string",
                    found: "a number"
                }
            ),
            p(
                "/MockedResponses/R/2/Throw/Cause",
                ProblemKind::WrongType {
                    expected: "a string",
                    found: "null"
                }
            ),
            p(
                "/MockedResponses/R/3/Throw",
                ProblemKind::WrongType {
                    expected: "an object",
                    found: "a string"
                }
            ),
            p(
                "/MockedResponses/R/4",
                ProblemKind::WrongType {
                    expected: "an object",
                    found: "an array"
                }
            ),
        ]
    );
}

#[test]
fn overlapping_keys() {
    let got = problems(&with_response(
        r#"{"0-2": {"Return": 1}, "2": {"Return": 2}, "1-5": {"Return": 3}, "0": {"Return": 4}}"#,
    ));
    assert_eq!(
        got,
        [
            p(
                "/MockedResponses/R/2",
                ProblemKind::OverlappingKeys {
                    key: "2".into(),
                    other: "0-2".into(),
                    invocation: 2
                }
            ),
            p(
                "/MockedResponses/R/1-5",
                ProblemKind::OverlappingKeys {
                    key: "1-5".into(),
                    other: "0-2".into(),
                    invocation: 1
                }
            ),
            p(
                "/MockedResponses/R/0",
                ProblemKind::OverlappingKeys {
                    key: "0".into(),
                    other: "0-2".into(),
                    invocation: 0
                }
            ),
        ]
    );
}

#[test]
fn same_number_written_twice_overlaps() {
    let got = problems(&with_response(
        r#"{"1": {"Return": 1}, "01": {"Return": 2}}"#,
    ));
    assert_eq!(
        got,
        [p(
            "/MockedResponses/R/01",
            ProblemKind::OverlappingKeys {
                key: "01".into(),
                other: "1".into(),
                invocation: 1
            }
        )]
    );
}

#[test]
fn overlap_is_found_even_when_the_entry_is_bad() {
    let got = problems(&with_response(r#"{"0-1": {"Return": 1}, "1": {}}"#));
    assert_eq!(
        got,
        [
            p("/MockedResponses/R/1", ProblemKind::NoReturnOrThrow),
            p(
                "/MockedResponses/R/1",
                ProblemKind::OverlappingKeys {
                    key: "1".into(),
                    other: "0-1".into(),
                    invocation: 1
                }
            ),
        ]
    );
}

#[test]
fn gaps_are_accepted_like_step_functions_local() {
    let text = with_response(r#"{"1": {"Return": "one"}, "3-4": {"Return": "three"}}"#);
    let c = MockConfig::from_json_str(&text).unwrap();
    assert_eq!(c.response("R", 0), None);
    assert_eq!(
        c.response("R", 1),
        Some(&MockResponse::Return(json!("one")))
    );
    assert_eq!(c.response("R", 2), None);
    assert_eq!(
        c.response("R", 4),
        Some(&MockResponse::Return(json!("three")))
    );
    // Strict parsing reports both gaps.
    assert_eq!(
        strict_problems(&text),
        [
            p("/MockedResponses/R", ProblemKind::Gap { from: 0, to: 0 }),
            p("/MockedResponses/R", ProblemKind::Gap { from: 2, to: 2 }),
        ]
    );
    let wide = with_response(r#"{"0": {"Return": 0}, "5-6": {"Return": 5}}"#);
    assert_eq!(
        strict_problems(&wide),
        [p("/MockedResponses/R", ProblemKind::Gap { from: 1, to: 4 })]
    );
}

#[test]
fn empty_mocked_response_is_accepted_unless_strict() {
    let text = with_response("{}");
    let c = MockConfig::from_json_str(&text).unwrap();
    assert_eq!(c.response("R", 0), None);
    assert!(c.handler("M", "T").is_ok());
    assert_eq!(
        strict_problems(&text),
        [p("/MockedResponses/R", ProblemKind::EmptyResponse)]
    );
}

#[test]
fn unknown_response_names() {
    let got = problems(
        r#"{"StateMachines": {"M": {"TestCases": {
                "A": {"S1": "Known", "S2": "Missing"},
                "B": {"S/1": "AlsoMissing"}}}},
            "MockedResponses": {"Known": {"0": {"Return": 1}}}}"#,
    );
    assert_eq!(
        got,
        [
            p(
                "/StateMachines/M/TestCases/A/S2",
                ProblemKind::UnknownResponse {
                    name: "Missing".into()
                }
            ),
            p(
                "/StateMachines/M/TestCases/B/S~11",
                ProblemKind::UnknownResponse {
                    name: "AlsoMissing".into()
                }
            ),
        ]
    );
}

#[test]
fn an_invalid_response_is_not_also_reported_unknown() {
    let got = problems(&with_response(r#"{"0": {}}"#));
    assert_eq!(
        got,
        [p("/MockedResponses/R/0", ProblemKind::NoReturnOrThrow)]
    );
}

#[test]
fn structure_errors() {
    let got = problems(
        r#"{"StateMachines": {"A": [], "B": {}, "C": {"TestCases": 1},
                              "D": {"TestCases": {"T": "x", "U": {"S": 3}}, "Comment": "c"}},
            "MockedResponse": {},
            "MockedResponses": {"R": 7}}"#,
    );
    assert_eq!(
        got,
        [
            p(
                "/MockedResponse",
                ProblemKind::UnknownField {
                    field: "MockedResponse".into()
                }
            ),
            p(
                "/StateMachines/A",
                ProblemKind::WrongType {
                    expected: "an object",
                    found: "an array"
                }
            ),
            p(
                "/StateMachines/B",
                ProblemKind::MissingField { field: "TestCases" }
            ),
            p(
                "/StateMachines/C/TestCases",
                ProblemKind::WrongType {
                    expected: "an object",
                    found: "a number"
                }
            ),
            p(
                "/StateMachines/D/Comment",
                ProblemKind::UnknownField {
                    field: "Comment".into()
                }
            ),
            p(
                "/StateMachines/D/TestCases/T",
                ProblemKind::WrongType {
                    expected: "an object",
                    found: "a string"
                }
            ),
            p(
                "/StateMachines/D/TestCases/U/S",
                ProblemKind::WrongType {
                    expected: "a string (a mocked response name)",
                    found: "a number"
                }
            ),
            p(
                "/MockedResponses/R",
                ProblemKind::WrongType {
                    expected: "an object",
                    found: "a number"
                }
            ),
        ]
    );
}

#[test]
fn top_level_must_be_an_object() {
    assert_eq!(
        problems("[]"),
        [p(
            "",
            ProblemKind::WrongType {
                expected: "an object",
                found: "an array"
            }
        )]
    );
    assert_eq!(
        problems(r#"{"StateMachines": null, "MockedResponses": "x"}"#),
        [
            p(
                "/StateMachines",
                ProblemKind::WrongType {
                    expected: "an object",
                    found: "null"
                }
            ),
            p(
                "/MockedResponses",
                ProblemKind::WrongType {
                    expected: "an object",
                    found: "a string"
                }
            ),
        ]
    );
}

#[test]
fn missing_sections_are_empty() {
    let c = MockConfig::from_json_str("{}").unwrap();
    assert_eq!(c.state_machines().count(), 0);
    assert_eq!(c.mocked_responses().count(), 0);
    let c =
        MockConfig::from_json_str(r#"{"MockedResponses": {"R": {"0": {"Return": 1}}}}"#).unwrap();
    assert_eq!(c.mocked_responses().collect::<Vec<_>>(), ["R"]);
}

#[test]
fn invalid_json_names_line_and_column() {
    let e = MockConfig::from_json_str("{\n  \"StateMachines\": ,\n}").unwrap_err();
    assert_eq!(e.problems().len(), 1);
    assert_eq!(e.problems()[0].location, "line 2 column 20");
    assert!(matches!(
        e.problems()[0].kind,
        ProblemKind::InvalidJson { .. }
    ));
}

#[test]
fn display_lists_every_problem() {
    let e: MockConfigError = MockConfig::from_json_str(&with_response(
        r#"{"x": {"Return": 1}, "1": {"Return": 1, "Throw": {"Error": "E"}}}"#,
    ))
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid mock configuration: 2 problems\n  \
         /MockedResponses/R/x: invalid invocation key 'x': only the digits 0-9 and one '-' are allowed; expected a number such as \"0\" or an inclusive range such as \"1-2\"\n  \
         /MockedResponses/R/1: an entry must contain exactly one of 'Return' or 'Throw', not both"
    );
    let one = MockConfig::from_json_str(r#"{"MockedResponse": {}}"#).unwrap_err();
    assert_eq!(
        one.to_string(),
        "invalid mock configuration: /MockedResponse: unknown field 'MockedResponse' (did you mean 'MockedResponses'?)"
    );
    let root = MockConfig::from_json_str("1").unwrap_err();
    assert_eq!(
        root.to_string(),
        "invalid mock configuration: (document): expected an object, found a number"
    );
}

#[test]
fn handler_selection() {
    let c = MockConfig::from_json_str(AWS_EXAMPLE).unwrap();
    let h = c.handler("LambdaSQSIntegration", "HybridPath").unwrap();
    assert_eq!(h.state_machine(), "LambdaSQSIntegration");
    assert_eq!(h.test_case(), "HybridPath");
    assert!(h.mocks("LambdaState"));
    assert!(!h.mocks("SQSState"));

    let e = c.handler("Other", "HappyPath").unwrap_err();
    assert_eq!(
        e.problems(),
        [p(
            "/StateMachines/Other",
            ProblemKind::UnknownStateMachine {
                name: "Other".into()
            }
        )]
    );
    assert_eq!(
        e.to_string(),
        "invalid mock configuration: /StateMachines/Other: state machine 'Other' is not in the mock configuration"
    );
    let e = c.handler("LambdaSQSIntegration", "SadPath").unwrap_err();
    assert_eq!(
        e.problems(),
        [p(
            "/StateMachines/LambdaSQSIntegration/TestCases/SadPath",
            ProblemKind::UnknownTestCase {
                state_machine: "LambdaSQSIntegration".into(),
                name: "SadPath".into()
            }
        )]
    );
}
