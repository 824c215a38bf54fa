//! `stepcheck serve` over loopback: raw awsJson1_0 requests, exact responses and errors.
//!
//! Each test starts its own server in-process on port 0 and talks to it with the small
//! blocking client below (one connection per request, `Connection: close`), so the tests
//! need nothing beyond the standard library and loopback.

use harness::serve::{ServeConfig, Server, TimeMode};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const ROLE: &str = "arn:aws:iam::123456789012:role/StepFunctionsRole";
const SM: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:";
const EXEC: &str = "arn:aws:states:us-east-1:123456789012:execution:";
/// 2024-01-01T00:00:00Z, where the virtual clock starts.
const T0: f64 = 1704067200.0;

fn start() -> Server {
    start_with(ServeConfig {
        port: 0,
        ..Default::default()
    })
}

fn start_with(config: ServeConfig) -> Server {
    Server::start(config).expect("the server starts")
}

/// Sends one raw HTTP request and returns the status and the body as JSON.
fn raw(server: &Server, target: Option<&str>, body: &[u8]) -> (u16, Value) {
    let mut stream = TcpStream::connect(server.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n",
        server.addr(),
        body.len()
    );
    if let Some(t) = target {
        head.push_str(&format!("X-Amz-Target: {t}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .expect("read the response");
    let text = String::from_utf8(response).expect("UTF-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("a header and a body");
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/x-amz-json-1.0"),
        "{head}"
    );
    let value = serde_json::from_str(body).unwrap_or_else(|e| panic!("JSON body {body:?}: {e}"));
    (status, value)
}

/// Calls an operation; returns the status and body.
fn call(server: &Server, op: &str, body: Value) -> (u16, Value) {
    raw(
        server,
        Some(&format!("AWSStepFunctions.{op}")),
        body.to_string().as_bytes(),
    )
}

/// Calls an operation that must succeed.
fn ok(server: &Server, op: &str, body: Value) -> Value {
    let (status, v) = call(server, op, body);
    assert_eq!(status, 200, "{op}: {v}");
    v
}

/// Calls an operation that must fail with `code`; returns the message.
fn err(server: &Server, op: &str, body: Value, code: &str) -> String {
    let (status, v) = call(server, op, body);
    assert_eq!(status, 400, "{op}: {v}");
    let t = v["__type"].as_str().expect("__type");
    assert_eq!(t.rsplit('#').next(), Some(code), "{op}: {v}");
    v["message"].as_str().expect("message").to_string()
}

fn create(server: &Server, name: &str, definition: Value, kind: &str) -> String {
    let v = ok(
        server,
        "CreateStateMachine",
        json!({"name": name, "definition": definition.to_string(), "roleArn": ROLE, "type": kind}),
    );
    v["stateMachineArn"].as_str().unwrap().to_string()
}

fn pass_wait() -> Value {
    json!({
        "StartAt": "P",
        "States": {
            "P": {"Type": "Pass", "Result": {"n": 1}, "ResultPath": "$.r", "Next": "W"},
            "W": {"Type": "Wait", "Seconds": 10, "End": true}
        }
    })
}

#[test]
fn create_start_describe_and_history_of_a_pass_wait_workflow() {
    let server = start();
    let created = ok(
        &server,
        "CreateStateMachine",
        json!({"name": "pw", "definition": pass_wait().to_string(), "roleArn": ROLE}),
    );
    assert_eq!(
        created,
        json!({"stateMachineArn": format!("{SM}pw"), "creationDate": T0})
    );
    let started = ok(
        &server,
        "StartExecution",
        json!({"stateMachineArn": format!("{SM}pw"), "name": "e1", "input": "{\"a\":1}"}),
    );
    assert_eq!(
        started,
        json!({"executionArn": format!("{EXEC}pw:e1"), "startDate": T0})
    );
    let described = ok(
        &server,
        "DescribeExecution",
        json!({"executionArn": format!("{EXEC}pw:e1")}),
    );
    assert_eq!(
        described,
        json!({
            "executionArn": format!("{EXEC}pw:e1"),
            "stateMachineArn": format!("{SM}pw"),
            "name": "e1",
            "status": "SUCCEEDED",
            "startDate": T0,
            "stopDate": T0 + 10.0,
            "input": "{\"a\":1}",
            "inputDetails": {"included": true},
            "output": "{\"a\":1,\"r\":{\"n\":1}}",
            "outputDetails": {"included": true},
            "redriveCount": 0,
            "redriveStatus": "NOT_REDRIVABLE",
            "redriveStatusReason": "Execution is SUCCEEDED and cannot be redriven"
        })
    );
    let history = ok(
        &server,
        "GetExecutionHistory",
        json!({"executionArn": format!("{EXEC}pw:e1")}),
    );
    let summary: Vec<(u64, u64, &str, f64)> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["id"].as_u64().unwrap(),
                e["previousEventId"].as_u64().unwrap(),
                e["type"].as_str().unwrap(),
                e["timestamp"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, 0, "ExecutionStarted", T0),
            // AWS links the first state to no event: previousEventId 0.
            (2, 0, "PassStateEntered", T0),
            (3, 2, "PassStateExited", T0),
            (4, 3, "WaitStateEntered", T0),
            (5, 4, "WaitStateExited", T0 + 10.0),
            (6, 5, "ExecutionSucceeded", T0 + 10.0),
        ]
    );
    assert_eq!(history.get("nextToken"), None);
    assert_eq!(
        history["events"][0],
        json!({
            "timestamp": T0,
            "type": "ExecutionStarted",
            "id": 1,
            "previousEventId": 0,
            "executionStartedEventDetails": {
                "input": "{\"a\":1}",
                "inputDetails": {"truncated": false},
                "roleArn": ROLE
            }
        })
    );
    let machine = ok(
        &server,
        "DescribeStateMachine",
        json!({"stateMachineArn": format!("{SM}pw")}),
    );
    assert_eq!(
        machine,
        json!({
            "stateMachineArn": format!("{SM}pw"),
            "name": "pw",
            "status": "ACTIVE",
            "definition": pass_wait().to_string(),
            "roleArn": ROLE,
            "type": "STANDARD",
            "creationDate": T0,
            "loggingConfiguration": {"level": "OFF", "includeExecutionData": false},
            "tracingConfiguration": {"enabled": false}
        })
    );
    let listed = ok(
        &server,
        "ListExecutions",
        json!({"stateMachineArn": format!("{SM}pw"), "statusFilter": "SUCCEEDED"}),
    );
    assert_eq!(
        listed,
        json!({"executions": [{
            "executionArn": format!("{EXEC}pw:e1"),
            "stateMachineArn": format!("{SM}pw"),
            "name": "e1",
            "status": "SUCCEEDED",
            "startDate": T0,
            "stopDate": T0 + 10.0
        }]})
    );
    let running = ok(
        &server,
        "ListExecutions",
        json!({"stateMachineArn": format!("{SM}pw"), "statusFilter": "RUNNING"}),
    );
    assert_eq!(running, json!({"executions": []}));
    server.shutdown();
}

#[test]
fn history_pages_and_reverse_order() {
    let server = start();
    create(&server, "pw", pass_wait(), "STANDARD");
    ok(
        &server,
        "StartExecution",
        json!({"stateMachineArn": format!("{SM}pw"), "name": "e"}),
    );
    let arn = format!("{EXEC}pw:e");
    let ids = |v: &Value| -> Vec<u64> {
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_u64().unwrap())
            .collect()
    };
    let first = ok(
        &server,
        "GetExecutionHistory",
        json!({"executionArn": arn, "maxResults": 4}),
    );
    assert_eq!(ids(&first), vec![1, 2, 3, 4]);
    let token = first["nextToken"].as_str().unwrap().to_string();
    let second = ok(
        &server,
        "GetExecutionHistory",
        json!({"executionArn": arn, "maxResults": 4, "nextToken": token}),
    );
    assert_eq!(ids(&second), vec![5, 6]);
    assert_eq!(second.get("nextToken"), None);

    let reversed = ok(
        &server,
        "GetExecutionHistory",
        json!({"executionArn": arn, "maxResults": 5, "reverseOrder": true}),
    );
    assert_eq!(ids(&reversed), vec![6, 5, 4, 3, 2]);
    let token = reversed["nextToken"].as_str().unwrap().to_string();
    let rest = ok(
        &server,
        "GetExecutionHistory",
        json!({"executionArn": arn, "maxResults": 5, "reverseOrder": true, "nextToken": token}),
    );
    assert_eq!(ids(&rest), vec![1]);

    // A token of the other direction, or one that is not ours, is refused.
    let forward_token = first["nextToken"].as_str().unwrap();
    let msg = err(
        &server,
        "GetExecutionHistory",
        json!({"executionArn": arn, "reverseOrder": true, "nextToken": forward_token}),
        "InvalidToken",
    );
    assert_eq!(msg, format!("Invalid Token: '{forward_token}'"));

    let without_data = ok(
        &server,
        "GetExecutionHistory",
        json!({"executionArn": arn, "maxResults": 1, "includeExecutionData": false}),
    );
    assert_eq!(
        without_data["events"][0]["executionStartedEventDetails"],
        json!({"roleArn": ROLE})
    );
    let msg = err(
        &server,
        "GetExecutionHistory",
        json!({"executionArn": arn, "maxResults": 1001}),
        "ValidationException",
    );
    assert_eq!(
        msg,
        "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"
    );
}

#[test]
fn express_start_sync_execution_answers_the_result() {
    let server = start();
    let def = json!({
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.x, 1)"}, "Next": "W"},
            "W": {"Type": "Wait", "Seconds": 2, "Next": "B"},
            "B": {"Type": "Pass", "Next": "C"},
            "C": {"Type": "Pass", "Next": "D"},
            "D": {"Type": "Succeed"}
        }
    });
    let arn = create(&server, "ex", def, "EXPRESS");
    let v = ok(
        &server,
        "StartSyncExecution",
        json!({"stateMachineArn": arn, "name": "s1", "input": "{\"x\":41}"}),
    );
    let exec_arn = v["executionArn"].as_str().unwrap().to_string();
    assert!(
        exec_arn.starts_with("arn:aws:states:us-east-1:123456789012:express:ex:s1:"),
        "{exec_arn}"
    );
    assert_eq!(
        v,
        json!({
            "executionArn": exec_arn,
            "stateMachineArn": format!("{SM}ex"),
            "name": "s1",
            "startDate": T0,
            "stopDate": T0 + 2.0,
            "status": "SUCCEEDED",
            "input": "{\"x\":41}",
            "inputDetails": {"included": true},
            "output": "{\"sum\":42}",
            "outputDetails": {"included": true},
            "billingDetails": {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": 2000}
        })
    );
    // A Standard machine refuses StartSyncExecution; an Express one has no history.
    let std_arn = create(&server, "st", pass_wait(), "STANDARD");
    let msg = err(
        &server,
        "StartSyncExecution",
        json!({"stateMachineArn": std_arn}),
        "StateMachineTypeNotSupported",
    );
    assert_eq!(
        msg,
        "This operation is not supported by this type of state machine"
    );
    let msg = err(
        &server,
        "GetExecutionHistory",
        json!({"executionArn": exec_arn}),
        "InvalidArn",
    );
    assert_eq!(
        msg,
        "Invalid Arn: 'Resource type not valid in this context: express'"
    );
}

const MOCKS: &str = r#"{
  "StateMachines": {
    "lam": {
      "TestCases": {
        "HappyPath": {"Call": "CallOk"},
        "Broken": {"Call": "CallFails"}
      }
    }
  },
  "MockedResponses": {
    "CallOk": {"0": {"Return": {"StatusCode": 200, "Payload": {"greeting": "hi"}}}},
    "CallFails": {"0": {"Throw": {"Error": "Lambda.ServiceException", "Cause": "down"}}}
  }
}"#;

fn lambda_machine() -> Value {
    json!({
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "f", "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "End": true
            }
        }
    })
}

#[test]
fn mock_config_test_cases_are_picked_by_the_arn_suffix() {
    let server = start_with(ServeConfig {
        port: 0,
        mock_config: Some(MOCKS.into()),
        ..Default::default()
    });
    let arn = create(&server, "lam", lambda_machine(), "STANDARD");
    ok(
        &server,
        "StartExecution",
        json!({"stateMachineArn": format!("{arn}#HappyPath"), "name": "happy"}),
    );
    let d = ok(
        &server,
        "DescribeExecution",
        json!({"executionArn": format!("{EXEC}lam:happy")}),
    );
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(d["output"], "{\"greeting\":\"hi\"}");

    ok(
        &server,
        "StartExecution",
        json!({"stateMachineArn": format!("{arn}#Broken"), "name": "broken"}),
    );
    let d = ok(
        &server,
        "DescribeExecution",
        json!({"executionArn": format!("{EXEC}lam:broken")}),
    );
    assert_eq!(d["status"], "FAILED");
    assert_eq!(d["error"], "Lambda.ServiceException");
    assert_eq!(d["cause"], "down");
    let history = ok(
        &server,
        "GetExecutionHistory",
        json!({"executionArn": format!("{EXEC}lam:broken")}),
    );
    let types: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        vec![
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskFailed",
            "ExecutionFailed"
        ]
    );

    // An unknown test case is refused; without one, the unmocked task fails the execution.
    let msg = err(
        &server,
        "StartExecution",
        json!({"stateMachineArn": format!("{arn}#Nope"), "name": "nope"}),
        "ValidationException",
    );
    assert!(msg.contains("Nope"), "{msg}");
    ok(
        &server,
        "StartExecution",
        json!({"stateMachineArn": arn, "name": "unmocked"}),
    );
    let d = ok(
        &server,
        "DescribeExecution",
        json!({"executionArn": format!("{EXEC}lam:unmocked")}),
    );
    assert_eq!(d["status"], "FAILED");
    assert_eq!(d["error"], "States.Runtime");
}

#[test]
fn a_callback_task_waits_for_send_task_success() {
    let server = start();
    let def = json!({
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
                "End": true
            }
        }
    });
    let arn = create(&server, "cb", def, "STANDARD");
    ok(
        &server,
        "StartExecution",
        json!({"stateMachineArn": arn, "name": "one"}),
    );
    let exec = format!("{EXEC}cb:one");
    let d = ok(&server, "DescribeExecution", json!({"executionArn": exec}));
    assert_eq!(d["status"], "RUNNING");
    let history = ok(
        &server,
        "GetExecutionHistory",
        json!({"executionArn": exec}),
    );
    let scheduled = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "TaskScheduled")
        .expect("TaskScheduled");
    let params: Value = serde_json::from_str(
        scheduled["taskScheduledEventDetails"]["parameters"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let token = params["MessageBody"]["token"].as_str().unwrap().to_string();

    let msg = err(
        &server,
        "SendTaskSuccess",
        json!({"taskToken": token, "output": "not json"}),
        "InvalidOutput",
    );
    assert!(msg.starts_with("Invalid output: "), "{msg}");
    let msg = err(
        &server,
        "SendTaskSuccess",
        json!({"taskToken": "garbage", "output": "{}"}),
        "InvalidToken",
    );
    assert_eq!(msg, "Invalid token: 'garbage'");
    assert_eq!(
        ok(&server, "SendTaskHeartbeat", json!({"taskToken": token})),
        json!({})
    );
    assert_eq!(
        ok(
            &server,
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "{\"answer\":42}"})
        ),
        json!({})
    );
    let d = ok(&server, "DescribeExecution", json!({"executionArn": exec}));
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(d["output"], "{\"answer\":42}");
    err(
        &server,
        "SendTaskSuccess",
        json!({"taskToken": token, "output": "{}"}),
        "TaskDoesNotExist",
    );
}

#[test]
fn errors_come_as_aws_sends_them() {
    let server = start();
    // Unknown state machine: the exact body.
    let (status, body) = call(
        &server,
        "DescribeStateMachine",
        json!({"stateMachineArn": format!("{SM}nope")}),
    );
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({
            "__type": "com.amazonaws.swf.service.v2.model#StateMachineDoesNotExist",
            "message": format!("State Machine Does Not Exist: '{SM}nope'")
        })
    );
    err(
        &server,
        "StartExecution",
        json!({"stateMachineArn": format!("{SM}nope")}),
        "StateMachineDoesNotExist",
    );
    err(
        &server,
        "DescribeExecution",
        json!({"executionArn": format!("{EXEC}nope:x")}),
        "ExecutionDoesNotExist",
    );
    let msg = err(
        &server,
        "DescribeStateMachine",
        json!({"stateMachineArn": "not-an-arn"}),
        "InvalidArn",
    );
    assert_eq!(msg, "Invalid Arn: 'not-an-arn'");

    // A bad definition.
    let msg = err(
        &server,
        "CreateStateMachine",
        json!({"name": "bad", "roleArn": ROLE,
               "definition": "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Next\":\"B\"}}}"}),
        "InvalidDefinition",
    );
    assert!(
        msg.starts_with("Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET"),
        "{msg}"
    );
    let msg = err(
        &server,
        "CreateStateMachine",
        json!({"name": "bad name", "roleArn": ROLE, "definition": pass_wait().to_string()}),
        "InvalidName",
    );
    assert_eq!(msg, "Invalid Name: 'bad name'");

    // A duplicate execution name with another input.
    let arn = create(&server, "pw", pass_wait(), "STANDARD");
    ok(
        &server,
        "StartExecution",
        json!({"stateMachineArn": arn, "name": "dup"}),
    );
    let msg = err(
        &server,
        "StartExecution",
        json!({"stateMachineArn": arn, "name": "dup", "input": "{\"other\":true}"}),
        "ExecutionAlreadyExists",
    );
    assert_eq!(msg, format!("Execution Already Exists: '{EXEC}pw:dup'"));
    err(
        &server,
        "StartExecution",
        json!({"stateMachineArn": arn, "input": "{not json"}),
        "InvalidExecutionInput",
    );
    // The same name with a different definition is StateMachineAlreadyExists.
    let msg = err(
        &server,
        "CreateStateMachine",
        json!({"name": "pw", "roleArn": ROLE,
               "definition": "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Succeed\"}}}"}),
        "StateMachineAlreadyExists",
    );
    assert_eq!(msg, format!("State Machine Already Exists: '{SM}pw'"));

    // Bad JSON, a body that is not an object, a field of the wrong type, a missing field.
    let (status, body) = raw(
        &server,
        Some("AWSStepFunctions.StartExecution"),
        b"{\"stateMachineArn\":",
    );
    assert_eq!(status, 400);
    assert_eq!(
        body["__type"],
        "com.amazon.coral.service#SerializationException"
    );
    let (status, body) = raw(&server, Some("AWSStepFunctions.ListStateMachines"), b"[1]");
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"__type": "com.amazon.coral.service#SerializationException",
               "message": "The request body must be a JSON object"})
    );
    let msg = err(
        &server,
        "StartExecution",
        json!({"stateMachineArn": 5}),
        "SerializationException",
    );
    assert_eq!(msg, "'stateMachineArn' must be a string");
    let (status, body) = call(&server, "StartExecution", json!({}));
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"__type": "com.amazon.coral.validate#ValidationException",
               "message": "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null"})
    );
    let msg = err(
        &server,
        "CreateStateMachine",
        json!({"name": "t", "roleArn": ROLE, "definition": "{}", "type": "FAST"}),
        "ValidationException",
    );
    assert_eq!(
        msg,
        "1 validation error detected: Value 'FAST' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"
    );

    // Unknown operations, and a request without a target.
    let (status, body) = call(&server, "DescribeMapRun", json!({}));
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"__type": "com.amazon.coral.service#UnknownOperationException",
               "message": "Operation 'AWSStepFunctions.DescribeMapRun' is not supported by stepcheck serve"})
    );
    let (status, body) = raw(&server, None, b"{}");
    assert_eq!(status, 400);
    assert_eq!(
        body["__type"],
        "com.amazon.coral.service#UnknownOperationException"
    );
}

#[test]
fn validate_state_machine_definition_lists_diagnostics() {
    let server = start();
    let v = ok(
        &server,
        "ValidateStateMachineDefinition",
        json!({"definition": pass_wait().to_string()}),
    );
    assert_eq!(
        v,
        json!({"result": "OK", "diagnostics": [], "truncated": false})
    );
    let bad = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}});
    let v = ok(
        &server,
        "ValidateStateMachineDefinition",
        json!({"definition": bad.to_string()}),
    );
    assert_eq!(v["result"], "FAIL");
    assert_eq!(v["truncated"], false);
    assert_eq!(
        v["diagnostics"][0]["severity"], "ERROR",
        "{}",
        v["diagnostics"]
    );
    assert_eq!(v["diagnostics"][0]["code"], "MISSING_TRANSITION_TARGET");
    assert_eq!(v["diagnostics"][0]["location"], "/States/A/Next");
    let v = ok(
        &server,
        "ValidateStateMachineDefinition",
        json!({"definition": "{not json"}),
    );
    assert_eq!(v["result"], "FAIL");
    assert_eq!(v["diagnostics"][0]["code"], "INVALID_JSON_DESCRIPTION");
    // Two errors, one result asked for.
    let two = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "C": {"Type": "Pass", "Next": "D"}}});
    let v = ok(
        &server,
        "ValidateStateMachineDefinition",
        json!({"definition": two.to_string(), "maxResults": 1}),
    );
    assert_eq!(v["diagnostics"].as_array().unwrap().len(), 1);
    assert_eq!(v["truncated"], true);
}

#[test]
fn get_activity_task_hands_out_a_task_and_a_poll_times_out_empty() {
    let server = start_with(ServeConfig {
        port: 0,
        activity_poll_timeout: Duration::from_millis(300),
        ..Default::default()
    });
    let act = ok(&server, "CreateActivity", json!({"name": "work"}));
    let act_arn = "arn:aws:states:us-east-1:123456789012:activity:work";
    assert_eq!(act, json!({"activityArn": act_arn, "creationDate": T0}));
    assert_eq!(
        ok(&server, "DescribeActivity", json!({"activityArn": act_arn})),
        json!({"activityArn": act_arn, "name": "work", "creationDate": T0})
    );
    assert_eq!(
        ok(&server, "ListActivities", json!({})),
        json!({"activities": [{"activityArn": act_arn, "name": "work", "creationDate": T0}]})
    );

    // Nothing to do: the poll waits, then answers empty.
    let begun = Instant::now();
    let v = ok(&server, "GetActivityTask", json!({"activityArn": act_arn}));
    assert_eq!(v, json!({}));
    assert!(begun.elapsed() >= Duration::from_millis(250));

    let def = json!({
        "StartAt": "Work",
        "States": {"Work": {"Type": "Task", "Resource": act_arn, "Parameters": {"job": 7}, "End": true}}
    });
    let arn = create(&server, "acts", def, "STANDARD");
    ok(
        &server,
        "StartExecution",
        json!({"stateMachineArn": arn, "name": "a1"}),
    );
    let task = ok(
        &server,
        "GetActivityTask",
        json!({"activityArn": act_arn, "workerName": "w1"}),
    );
    assert_eq!(task["input"], "{\"job\":7}");
    let token = task["taskToken"].as_str().unwrap().to_string();
    ok(
        &server,
        "SendTaskSuccess",
        json!({"taskToken": token, "output": "{\"done\":true}"}),
    );
    let d = ok(
        &server,
        "DescribeExecution",
        json!({"executionArn": format!("{EXEC}acts:a1")}),
    );
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(d["output"], "{\"done\":true}");

    // A worker that polls first gets the task when an execution schedules it.
    let url_server = &server;
    std::thread::scope(|s| {
        let worker = s.spawn(|| {
            ok(
                url_server,
                "GetActivityTask",
                json!({"activityArn": act_arn, "workerName": "w2"}),
            )
        });
        std::thread::sleep(Duration::from_millis(50));
        ok(
            url_server,
            "StartExecution",
            json!({"stateMachineArn": arn, "name": "a2"}),
        );
        let task = worker.join().unwrap();
        assert_eq!(task["input"], "{\"job\":7}");
    });
    let msg = err(
        &server,
        "GetActivityTask",
        json!({"activityArn": "arn:aws:states:us-east-1:123456789012:activity:none"}),
        "ActivityDoesNotExist",
    );
    assert_eq!(
        msg,
        "Activity Does Not Exist: 'arn:aws:states:us-east-1:123456789012:activity:none'"
    );
    assert_eq!(
        ok(&server, "DeleteActivity", json!({"activityArn": act_arn})),
        json!({})
    );
}

#[test]
fn tags_on_state_machines_and_activities() {
    let server = start();
    let arn = ok(
        &server,
        "CreateStateMachine",
        json!({"name": "tagged", "definition": pass_wait().to_string(), "roleArn": ROLE,
               "tags": [{"key": "team", "value": "a"}]}),
    )["stateMachineArn"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        &server,
        "TagResource",
        json!({"resourceArn": arn, "tags": [{"key": "env", "value": "test"}, {"key": "team", "value": "b"}]}),
    );
    assert_eq!(
        ok(&server, "ListTagsForResource", json!({"resourceArn": arn})),
        json!({"tags": [{"key": "team", "value": "b"}, {"key": "env", "value": "test"}]})
    );
    ok(
        &server,
        "UntagResource",
        json!({"resourceArn": arn, "tagKeys": ["team"]}),
    );
    assert_eq!(
        ok(&server, "ListTagsForResource", json!({"resourceArn": arn})),
        json!({"tags": [{"key": "env", "value": "test"}]})
    );
    let msg = err(
        &server,
        "ListTagsForResource",
        json!({"resourceArn": format!("{SM}none")}),
        "ResourceNotFound",
    );
    assert_eq!(msg, format!("Resource not found: '{SM}none'"));
    let act = ok(
        &server,
        "CreateActivity",
        json!({"name": "act", "tags": [{"key": "k", "value": "v"}]}),
    );
    assert_eq!(
        ok(
            &server,
            "ListTagsForResource",
            json!({"resourceArn": act["activityArn"]})
        ),
        json!({"tags": [{"key": "k", "value": "v"}]})
    );
}

#[test]
fn list_state_machines_pages_update_and_delete() {
    let server = start();
    for name in ["m1", "m2", "m3"] {
        create(&server, name, pass_wait(), "STANDARD");
    }
    let first = ok(&server, "ListStateMachines", json!({"maxResults": 2}));
    assert_eq!(
        first,
        json!({
            "stateMachines": [
                {"stateMachineArn": format!("{SM}m1"), "name": "m1", "type": "STANDARD", "creationDate": T0},
                {"stateMachineArn": format!("{SM}m2"), "name": "m2", "type": "STANDARD", "creationDate": T0}
            ],
            "nextToken": "stepcheck-machines-2"
        })
    );
    let rest = ok(
        &server,
        "ListStateMachines",
        json!({"maxResults": 2, "nextToken": "stepcheck-machines-2"}),
    );
    assert_eq!(
        rest,
        json!({"stateMachines": [
            {"stateMachineArn": format!("{SM}m3"), "name": "m3", "type": "STANDARD", "creationDate": T0}
        ]})
    );

    // An execution started before an update keeps its definition.
    ok(
        &server,
        "StartExecution",
        json!({"stateMachineArn": format!("{SM}m1"), "name": "before"}),
    );
    let succeed = json!({"StartAt": "S", "States": {"S": {"Type": "Succeed"}}});
    let updated = ok(
        &server,
        "UpdateStateMachine",
        json!({"stateMachineArn": format!("{SM}m1"), "definition": succeed.to_string()}),
    );
    assert_eq!(
        updated,
        json!({"updateDate": T0 + 10.0, "revisionId": "00000000-0000-4000-8000-000000000001"})
    );
    ok(
        &server,
        "StartExecution",
        json!({"stateMachineArn": format!("{SM}m1"), "name": "after"}),
    );
    let before = ok(
        &server,
        "DescribeStateMachineForExecution",
        json!({"executionArn": format!("{EXEC}m1:before")}),
    );
    assert_eq!(
        before,
        json!({
            "stateMachineArn": format!("{SM}m1"),
            "name": "m1",
            "definition": pass_wait().to_string(),
            "roleArn": ROLE,
            "updateDate": T0,
            "loggingConfiguration": {"level": "OFF", "includeExecutionData": false},
            "tracingConfiguration": {"enabled": false}
        })
    );
    let after = ok(
        &server,
        "DescribeStateMachineForExecution",
        json!({"executionArn": format!("{EXEC}m1:after")}),
    );
    assert_eq!(after["definition"], succeed.to_string());
    assert_eq!(after["revisionId"], "00000000-0000-4000-8000-000000000001");
    let msg = err(
        &server,
        "UpdateStateMachine",
        json!({"stateMachineArn": format!("{SM}m1"), "definition": "{}"}),
        "InvalidDefinition",
    );
    assert!(
        msg.starts_with("Invalid State Machine Definition: '"),
        "{msg}"
    );
    assert_eq!(
        ok(
            &server,
            "DescribeStateMachine",
            json!({"stateMachineArn": format!("{SM}m1")})
        )["definition"],
        succeed.to_string()
    );

    assert_eq!(
        ok(
            &server,
            "DeleteStateMachine",
            json!({"stateMachineArn": format!("{SM}m2")})
        ),
        json!({})
    );
    err(
        &server,
        "DescribeStateMachine",
        json!({"stateMachineArn": format!("{SM}m2")}),
        "StateMachineDoesNotExist",
    );
}

#[test]
fn stop_and_redrive_an_execution() {
    let server = start();
    let def = json!({
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
                "End": true
            }
        }
    });
    let arn = create(&server, "stop", def, "STANDARD");
    ok(
        &server,
        "StartExecution",
        json!({"stateMachineArn": arn, "name": "s"}),
    );
    let exec = format!("{EXEC}stop:s");
    assert_eq!(
        ok(
            &server,
            "StopExecution",
            json!({"executionArn": exec, "error": "E", "cause": "C"})
        ),
        json!({"stopDate": T0})
    );
    let d = ok(&server, "DescribeExecution", json!({"executionArn": exec}));
    assert_eq!(d["status"], "ABORTED");
    assert_eq!(d["error"], "E");
    assert_eq!(d["redriveStatus"], "REDRIVABLE");
    assert_eq!(
        ok(&server, "RedriveExecution", json!({"executionArn": exec})),
        json!({"redriveDate": T0})
    );
    let d = ok(&server, "DescribeExecution", json!({"executionArn": exec}));
    assert_eq!(d["status"], "RUNNING");
    assert_eq!(d["redriveCount"], 1);
    assert_eq!(d["redriveDate"], T0);
}

#[test]
fn scaled_time_makes_a_wait_take_wall_time() {
    let server = start_with(ServeConfig {
        port: 0,
        time: TimeMode::Scaled(50.0),
        ..Default::default()
    });
    let def =
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 10, "End": true}}});
    let arn = create(&server, "slow", def, "EXPRESS");
    let begun = Instant::now();
    let v = ok(
        &server,
        "StartSyncExecution",
        json!({"stateMachineArn": arn, "name": "w"}),
    );
    let took = begun.elapsed();
    assert_eq!(v["status"], "SUCCEEDED");
    // 10 virtual seconds at 50 times speed: 200 ms of wall time.
    assert!(
        took >= Duration::from_millis(190),
        "took {took:?}, expected about 200 ms"
    );
    let span = v["stopDate"].as_f64().unwrap() - v["startDate"].as_f64().unwrap();
    assert!((10.0..10.5).contains(&span), "{span}");
}

#[test]
fn test_state_runs_a_pass_state_with_inspection_data() {
    let server = start();
    let state = json!({
        "Type": "Pass",
        "InputPath": "$.in",
        "Parameters": {"v.$": "$.x"},
        "ResultPath": "$.out",
        "OutputPath": "$.out",
        "Next": "After"
    });
    let v = ok(
        &server,
        "TestState",
        json!({"definition": state.to_string(), "roleArn": ROLE,
               "input": "{\"in\":{\"x\":3}}", "inspectionLevel": "DEBUG"}),
    );
    assert_eq!(
        v,
        json!({
            "output": "{\"v\":3}",
            "inspectionData": {
                "input": "{\"in\":{\"x\":3}}",
                "afterInputPath": "{\"x\":3}",
                "afterParameters": "{\"v\":3}",
                "result": "{\"v\":3}",
                "afterResultSelector": "{\"v\":3}",
                "afterResultPath": "{\"in\":{\"x\":3},\"out\":{\"v\":3}}"
            },
            "nextState": "After",
            "status": "SUCCEEDED"
        })
    );
    let info = ok(
        &server,
        "TestState",
        json!({"definition": state.to_string(), "input": "{\"in\":{\"x\":3}}"}),
    );
    assert_eq!(
        info,
        json!({"output": "{\"v\":3}", "nextState": "After", "status": "SUCCEEDED"})
    );
}

#[test]
fn test_state_runs_a_task_with_a_mock_and_a_choice() {
    let server = start();
    let task = json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f", "Payload.$": "$"},
        "ResultSelector": {"body.$": "$.Payload"},
        "ResultPath": "$.res",
        "Retry": [{"ErrorEquals": ["Custom.Retry"], "IntervalSeconds": 3, "MaxAttempts": 2}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Handle"}],
        "Next": "Done"
    });
    let v = ok(
        &server,
        "TestState",
        json!({"definition": task.to_string(), "input": "{\"k\":1}", "inspectionLevel": "DEBUG",
               "mock": {"result": "{\"StatusCode\":200,\"Payload\":{\"ok\":true}}"}}),
    );
    assert_eq!(
        v,
        json!({
            "output": "{\"k\":1,\"res\":{\"body\":{\"ok\":true}}}",
            "nextState": "Done",
            "inspectionData": {
                "input": "{\"k\":1}",
                "afterInputPath": "{\"k\":1}",
                "afterParameters": "{\"FunctionName\":\"f\",\"Payload\":{\"k\":1}}",
                "result": "{\"StatusCode\":200,\"Payload\":{\"ok\":true}}",
                "afterResultSelector": "{\"body\":{\"ok\":true}}",
                "afterResultPath": "{\"k\":1,\"res\":{\"body\":{\"ok\":true}}}"
            },
            "status": "SUCCEEDED"
        })
    );
    let caught = ok(
        &server,
        "TestState",
        json!({"definition": task.to_string(), "input": "{\"k\":1}",
               "mock": {"errorOutput": {"error": "Boom", "cause": "bad"}}}),
    );
    assert_eq!(
        caught,
        json!({
            "output": "{\"k\":1,\"err\":{\"Error\":\"Boom\",\"Cause\":\"bad\"}}",
            "error": "Boom",
            "cause": "bad",
            "nextState": "Handle",
            "status": "CAUGHT_ERROR"
        })
    );
    let retriable = ok(
        &server,
        "TestState",
        json!({"definition": task.to_string(), "input": "{}", "inspectionLevel": "DEBUG",
               "mock": {"errorOutput": {"error": "Custom.Retry", "cause": "again"}}}),
    );
    assert_eq!(retriable["status"], "RETRIABLE");
    assert_eq!(retriable["error"], "Custom.Retry");
    assert_eq!(
        retriable["inspectionData"]["errorDetails"],
        json!({"retryIndex": 0, "retryBackoffIntervalSeconds": 3})
    );

    let choice = json!({
        "Type": "Choice",
        "Choices": [{"Variable": "$.n", "NumericGreaterThan": 5, "Next": "Big"}],
        "Default": "Small"
    });
    let v = ok(
        &server,
        "TestState",
        json!({"definition": choice.to_string(), "input": "{\"n\":9}"}),
    );
    assert_eq!(
        v,
        json!({"output": "{\"n\":9}", "nextState": "Big", "status": "SUCCEEDED"})
    );

    // A whole machine with stateName; a Task without a mock; a Fail state.
    let machine = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Result": 1, "Next": "B"},
        "B": {"Type": "Fail", "Error": "E", "Cause": "C"}
    }});
    let v = ok(
        &server,
        "TestState",
        json!({"definition": machine.to_string(), "stateName": "B", "input": "{}"}),
    );
    assert_eq!(v, json!({"error": "E", "cause": "C", "status": "FAILED"}));
    let msg = err(
        &server,
        "TestState",
        json!({"definition": task.to_string()}),
        "ValidationException",
    );
    assert_eq!(
        msg,
        "not supported yet: TestState of a Task state without 'mock' (stepcheck calls no AWS service)"
    );
    let msg = err(
        &server,
        "TestState",
        json!({"definition": "{\"Type\":\"Pass\",\"Next\":\"X\"}", "variables": "{}"}),
        "ValidationException",
    );
    assert_eq!(msg, "not supported yet: TestState with 'variables'");
}

#[test]
fn the_command_line_prints_the_bound_address_and_serves() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_stepcheck"))
        .args([
            "serve",
            "--port",
            "0",
            "--time",
            "real",
            "--region",
            "eu-west-1",
        ])
        .env_remove("SFN_MOCK_CONFIG")
        .stdout(Stdio::piped())
        .spawn()
        .expect("stepcheck serve starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    let mut stream = TcpStream::connect(format!("127.0.0.1:{addr}")).unwrap();
    let body = r#"{"name":"a"}"#;
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSStepFunctions.CreateActivity\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(
        response.contains(r#""activityArn":"arn:aws:states:eu-west-1:123456789012:activity:a""#),
        "{response}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_stepcheck"))
        .args(["serve", "--port", "0", "--time", "scaled:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: time mode 'scaled:0' is not one of virtual, real, scaled:F (F a positive number)\n"
    );
}

#[test]
fn test_state_of_jsonata_and_parallel_states() {
    let server = start();
    let jsonata = json!({
        "Type": "Pass",
        "QueryLanguage": "JSONata",
        "Output": "{% $states.input.a + 1 %}",
        "Assign": {"seen": "{% $states.input.a %}"},
        "Next": "Then"
    });
    let v = ok(
        &server,
        "TestState",
        json!({"definition": jsonata.to_string(), "input": "{\"a\":1}", "inspectionLevel": "DEBUG"}),
    );
    assert_eq!(
        v,
        json!({
            "output": "2",
            "nextState": "Then",
            "inspectionData": {"input": "{\"a\":1}", "variables": "{\"seen\":1}"},
            "status": "SUCCEEDED"
        })
    );
    let task = json!({
        "Type": "Task",
        "QueryLanguage": "JSONata",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "f", "Payload": "{% $states.input %}"},
        "Output": "{% $states.result.Payload %}",
        "End": true
    });
    let v = ok(
        &server,
        "TestState",
        json!({"definition": task.to_string(), "input": "{\"a\":1}", "inspectionLevel": "TRACE",
               "mock": {"result": "{\"Payload\":{\"b\":2}}"}}),
    );
    assert_eq!(
        v,
        json!({
            "output": "{\"b\":2}",
            "inspectionData": {
                "input": "{\"a\":1}",
                "afterArguments": "{\"FunctionName\":\"f\",\"Payload\":{\"a\":1}}",
                "result": "{\"Payload\":{\"b\":2}}"
            },
            "status": "SUCCEEDED"
        })
    );
    // A branch state named like the Parallel's target is not where the Parallel went.
    let parallel = json!({
        "Type": "Parallel",
        "Branches": [{"StartAt": "Next", "States": {"Next": {"Type": "Pass", "Result": 1, "End": true}}}],
        "Next": "Next"
    });
    let v = ok(
        &server,
        "TestState",
        json!({"definition": parallel.to_string(), "input": "{}"}),
    );
    assert_eq!(
        v,
        json!({"output": "[1]", "nextState": "Next", "status": "SUCCEEDED"})
    );
}

#[test]
fn every_operation_answers_bad_requests_with_an_error_and_keeps_serving() {
    let server = start_with(ServeConfig {
        port: 0,
        activity_poll_timeout: Duration::from_millis(10),
        ..Default::default()
    });
    let ops = [
        "CreateStateMachine",
        "DescribeStateMachine",
        "UpdateStateMachine",
        "DeleteStateMachine",
        "ValidateStateMachineDefinition",
        "StartExecution",
        "StartSyncExecution",
        "DescribeExecution",
        "StopExecution",
        "ListExecutions",
        "GetExecutionHistory",
        "SendTaskSuccess",
        "SendTaskFailure",
        "SendTaskHeartbeat",
        "CreateActivity",
        "DeleteActivity",
        "DescribeActivity",
        "GetActivityTask",
        "RedriveExecution",
        "TagResource",
        "UntagResource",
        "ListTagsForResource",
        "DescribeStateMachineForExecution",
        "TestState",
    ];
    let bodies = [
        json!({}),
        json!({"stateMachineArn": [], "executionArn": {}, "name": 1, "definition": true}),
        json!({"stateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:x",
               "executionArn": "arn", "activityArn": "x", "resourceArn": "y",
               "taskToken": "", "name": "", "definition": "", "roleArn": "", "output": "",
               "tags": [1], "tagKeys": [], "maxResults": -1}),
    ];
    for op in ops {
        for (i, body) in bodies.iter().enumerate() {
            let (status, v) = call(&server, op, body.clone());
            if i == 2 && op == "DeleteStateMachine" {
                // Deleting a machine that does not exist succeeds, as on AWS.
                assert_eq!((status, &v), (200, &json!({})), "{op}");
                continue;
            }
            assert_eq!(status, 400, "{op} {body}: {v}");
            let t = v["__type"].as_str().unwrap_or_else(|| panic!("{op}: {v}"));
            assert!(
                !t.ends_with("#InternalFailure"),
                "{op} {body} hit a bug: {v}"
            );
            assert!(
                v["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{op}: {v}"
            );
        }
    }
    // The list operations need nothing.
    for op in ["ListStateMachines", "ListActivities"] {
        ok(&server, op, json!({}));
        let (status, _) = raw(&server, Some(&format!("AWSStepFunctions.{op}")), b"");
        assert_eq!(status, 200, "{op} with an empty body");
    }
}

#[test]
fn the_clock_handle_reads_and_moves_virtual_time() {
    let server = start();
    let clock = server.clock();
    assert_eq!(clock.now_millis(), Ok(1_704_067_200_000));
    let def = json!({
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
                "TimeoutSeconds": 30,
                "End": true
            }
        }
    });
    let arn = create(&server, "timed", def, "STANDARD");
    ok(
        &server,
        "StartExecution",
        json!({"stateMachineArn": arn, "name": "t"}),
    );
    let exec = format!("{EXEC}timed:t");
    // Nothing moves the clock while the task waits for its callback...
    assert_eq!(
        ok(&server, "DescribeExecution", json!({"executionArn": exec}))["status"],
        "RUNNING"
    );
    // ...until the process that runs the server moves it past the task's timeout.
    assert_eq!(clock.advance_to(1_704_067_260_000), Ok(1_704_067_260_000));
    let d = ok(&server, "DescribeExecution", json!({"executionArn": exec}));
    assert_eq!(d["status"], "FAILED");
    assert_eq!(d["error"], "States.Timeout");
    assert_eq!(d["stopDate"], T0 + 30.0);
    // An earlier time changes nothing.
    assert_eq!(clock.advance_to(0), Ok(1_704_067_260_000));
    server.shutdown();
    assert_eq!(
        clock.now_millis().map_err(|e| e.code),
        Err("InternalFailure".to_string())
    );
}

/// `history_budget` (`stepcheck serve --history-budget`): past the budget, the oldest ended
/// execution's history is dropped; DescribeExecution still answers for it, and
/// GetExecutionHistory says why the history is gone.
#[test]
fn a_history_budget_drops_the_oldest_histories_but_keeps_descriptions() {
    let server = start_with(ServeConfig {
        port: 0,
        history_budget: Some(10),
        ..Default::default()
    });
    // Each execution records 6 events (ExecutionStarted, two per state, ExecutionSucceeded).
    let sm = create(&server, "Budget", pass_wait(), "STANDARD");
    let arns: Vec<String> = (0..2)
        .map(|n| {
            let v = ok(
                &server,
                "StartExecution",
                json!({"stateMachineArn": sm, "name": format!("b{n}"), "input": "{}"}),
            );
            v["executionArn"].as_str().unwrap().to_string()
        })
        .collect();
    let history = |arn: &str| json!({"executionArn": arn});
    let message = err(
        &server,
        "GetExecutionHistory",
        history(&arns[0]),
        "ResourceNotFound",
    );
    assert_eq!(
        message,
        format!("The history of execution '{}' is no longer kept: the service keeps at most 10 history events of ended executions, and dropped the oldest (stepcheck serve --history-budget).", arns[0])
    );
    let events = ok(&server, "GetExecutionHistory", history(&arns[1]));
    assert_eq!(events["events"].as_array().map(Vec::len), Some(6));
    let d = ok(&server, "DescribeExecution", history(&arns[0]));
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(d["output"], r#"{"r":{"n":1}}"#);
}
