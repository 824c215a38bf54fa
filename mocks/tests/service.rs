//! A MockConfigFile drives the in-process execution service through `arn#TestCase`.

use engine::{ExecutionStatus, Service, WorkflowType};
use mocks::MockConfig;
use serde_json::json;

const CONFIG: &str = r#"{
  "StateMachines": {
    "Orders": {"TestCases": {
      "HappyPath": {"Charge": "Charged"},
      "Declined": {"Charge": "Declined"}
    }}
  },
  "MockedResponses": {
    "Charged": {"0": {"Return": {"StatusCode": 200, "Payload": {"charged": true}}}},
    "Declined": {"0": {"Throw": {"Error": "PaymentDeclined", "Cause": "card expired"}}}
  }
}"#;

fn service() -> (Service, String) {
    let config = MockConfig::from_json_str(CONFIG).unwrap();
    let mut svc = Service::new().with_handlers(config);
    let def = json!({
        "StartAt": "Charge",
        "States": {"Charge": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
            "OutputPath": "$.Payload",
            "End": true
        }}
    });
    let arn = svc
        .create_state_machine("Orders", &def.to_string(), WorkflowType::Standard, None)
        .unwrap()
        .arn;
    (svc, arn)
}

#[test]
fn test_cases_are_chosen_with_the_arn_suffix() {
    let (mut svc, arn) = service();
    let ok = svc
        .start_execution(&format!("{arn}#HappyPath"), Some("a"), None)
        .unwrap();
    assert_eq!(ok.status, ExecutionStatus::Succeeded);
    assert_eq!(ok.output, Some(json!({"charged": true})));
    assert_eq!(ok.state_machine_arn, arn);
    let declined = svc
        .start_execution(&format!("{arn}#Declined"), Some("b"), None)
        .unwrap();
    assert_eq!(declined.status, ExecutionStatus::Failed);
    assert_eq!(declined.error.as_deref(), Some("PaymentDeclined"));
    assert_eq!(declined.cause.as_deref(), Some("card expired"));
}

#[test]
fn an_unknown_test_case_is_refused_and_no_test_case_means_no_mocks() {
    let (mut svc, arn) = service();
    let err = svc
        .start_execution(&format!("{arn}#Nope"), Some("c"), None)
        .unwrap_err();
    assert_eq!(err.code, "ValidationException");
    assert!(err.message.contains("Nope"), "{}", err.message);
    let err = svc.start_execution(&arn, Some("d"), None).unwrap_err();
    assert_eq!(err.code, "ValidationException");
    assert_eq!(
        err.message,
        "no mock for Task state 'Charge' (resource arn:aws:states:::lambda:invoke)"
    );
}
