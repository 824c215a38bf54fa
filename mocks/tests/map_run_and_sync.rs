//! A MockConfigFile drives a Distributed Map's ItemReader and ResultWriter (mocked under the
//! Map state's name, one numbered answer per S3 call) and `.sync` Task states (one answer per
//! attempt), end to end through the engine.

use engine::{Definition, ExecutionConfig, ExecutionStatus, VirtualClock};
use mocks::{MockConfig, Recorder};
use serde_json::{json, Value};

const CONFIG: &str = r#"{
  "StateMachines": {
    "Jobs": {
      "TestCases": {
        "Happy": { "Fan": "S3Calls", "Work": "WorkOk", "Train": "EcsStopped" },
        "JobFails": { "Fan": "S3Calls", "Work": "WorkOk", "Train": "EcsFailed" }
      }
    }
  },
  "MockedResponses": {
    "S3Calls": {
      "0": { "Return": { "Body": "id,size\n1,10\n2,20\n", "ContentType": "text/csv" } },
      "1-2": { "Return": { "ETag": "\"abc\"" } }
    },
    "WorkOk": { "0-1": { "Return": { "StatusCode": 200, "Payload": { "done": true } } } },
    "EcsStopped": { "0": { "Return": { "LastStatus": "STOPPED", "TaskArn": "arn:task" } } },
    "EcsFailed": { "0": { "Throw": { "Error": "States.TaskFailed", "Cause": "{\"LastStatus\":\"STOPPED\"}" } } }
  }
}"#;

fn definition() -> Definition {
    let def = json!({"StartAt": "Fan", "States": {
        "Fan": {"Type": "Map", "Label": "Fan", "Next": "Train",
            "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                "Parameters": {"Bucket": "in", "Key": "rows.csv"}},
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Work", "States": {"Work": {"Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"Payload.$": "$"}, "ResultSelector": {"row.$": "$.Payload"},
                    "End": true}}},
            "MaxConcurrency": 1,
            "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                "Parameters": {"Bucket": "out", "Prefix": "p"}},
            "ResultPath": "$.map"},
        "Train": {"Type": "Task", "Resource": "arn:aws:states:::ecs:runTask.sync",
            "Parameters": {"Cluster": "c"}, "ResultPath": "$.task", "End": true}}});
    Definition::parse(&def.to_string()).unwrap()
}

fn run(case: &str) -> (engine::ExecutionResult, mocks::CallLog) {
    let handler = MockConfig::from_json_str(CONFIG)
        .unwrap()
        .handler("Jobs", case)
        .unwrap();
    let mut recorder = Recorder::new(handler);
    let log = recorder.log();
    let config = ExecutionConfig {
        state_machine_name: "Jobs".into(),
        ..ExecutionConfig::default()
    };
    let mut clock = VirtualClock::starting_at(config.start_time);
    let r = definition()
        .execute_with(json!({}), &config, &mut clock, &mut recorder)
        .unwrap();
    (r, log)
}

#[test]
fn a_mock_config_file_drives_item_reader_result_writer_and_a_sync_task() {
    let (r, log) = run("Happy");
    assert_eq!(r.status, ExecutionStatus::Succeeded);
    let out = r.output.unwrap();
    let arn = out["map"]["MapRunArn"].as_str().unwrap().to_string();
    assert!(arn.starts_with("arn:aws:states:us-east-1:123456789012:mapRun:Jobs/Fan:"));
    let id = arn.rsplit(':').next().unwrap();
    assert_eq!(
        out["map"]["ResultWriterDetails"],
        json!({"Bucket": "out", "Key": format!("p/{id}/manifest.json")})
    );
    assert_eq!(
        out["task"],
        json!({"LastStatus": "STOPPED", "TaskArn": "arn:task"})
    );

    // The Map state's three S3 calls took its invocations 0 (getObject), 1 and 2 (putObject).
    let fan: Vec<(String, Value)> = log
        .calls_for("Fan")
        .into_iter()
        .map(|c| (c.resource, c.parameters))
        .collect();
    assert_eq!(fan.len(), 3);
    assert_eq!(
        fan[0],
        (
            "arn:aws:states:::s3:getObject".to_string(),
            json!({"Bucket": "in", "Key": "rows.csv"})
        )
    );
    assert_eq!(fan[1].1["Key"], json!(format!("p/{id}/SUCCEEDED_0.json")));
    let results: Value = serde_json::from_str(fan[1].1["Body"].as_str().unwrap()).unwrap();
    let outputs: Vec<&Value> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["Output"])
        .collect();
    assert_eq!(
        outputs,
        [
            &json!("{\"row\":{\"done\":true}}"),
            &json!("{\"row\":{\"done\":true}}")
        ]
    );
    assert_eq!(fan[2].1["Key"], json!(format!("p/{id}/manifest.json")));
    // Each child's Task got its CSV row.
    let rows: Vec<Value> = log
        .calls_for("Work")
        .into_iter()
        .map(|c| c.parameters["Payload"].clone())
        .collect();
    assert_eq!(
        rows,
        [
            json!({"id": "1", "size": "10"}),
            json!({"id": "2", "size": "20"})
        ]
    );

    // The .sync state: its one Return is recorded as submitted and as the final result.
    let types: Vec<String> = r.history.iter().map(|e| e.kind.type_name()).collect();
    let at = types.iter().position(|t| t == "TaskSubmitted").unwrap();
    assert_eq!(
        types[at - 2..at + 2],
        [
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded"
        ]
    );
    assert_eq!(
        r.history[at].to_api_json()["taskSubmittedEventDetails"]["output"],
        json!("{\"LastStatus\":\"STOPPED\",\"TaskArn\":\"arn:task\"}")
    );
    // The parent history has the Map Run, not the children.
    assert!(!types
        .iter()
        .any(|t| t.starts_with("MapIteration") || t == "LambdaFunctionScheduled"));
    assert_eq!(
        types[..8],
        [
            "ExecutionStarted",
            "MapStateEntered",
            "MapStateStarted",
            "MapRunStarted",
            "MapRunSucceeded",
            "MapStateSucceeded",
            "MapStateExited",
            "TaskStateEntered"
        ]
    );
}

#[test]
fn a_throw_for_a_sync_state_fails_the_job_without_a_submission() {
    let (r, _) = run("JobFails");
    assert_eq!(r.status, ExecutionStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("States.TaskFailed"));
    assert_eq!(r.cause.as_deref(), Some("{\"LastStatus\":\"STOPPED\"}"));
    let types: Vec<String> = r.history.iter().map(|e| e.kind.type_name()).collect();
    assert_eq!(
        types[types.len() - 4..],
        [
            "TaskScheduled",
            "TaskStarted",
            "TaskFailed",
            "ExecutionFailed"
        ]
    );
}
