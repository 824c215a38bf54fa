//! TestState: one state run alone, with the data-flow stages AWS shows in `inspectionData`.
//!
//! The state runs on the engine itself, as the only state of a small machine: its `Next`
//! becomes `End`, and every state it can go to (Next, Choices, Default, Catch) becomes a
//! `Succeed` placeholder, so the history tells which one it chose (`nextState`) and what it
//! handed on (`output`). The intermediate stages are the same engine running the stages one
//! by one as Pass states (InputPath; InputPath and Parameters; ResultSelector on the result;
//! ResultPath on the input), so they are computed by exactly the code that runs executions.
//!
//! Tasks never call AWS: a Task needs `mock` (`result` or `errorOutput`), as AWS's TestState
//! accepts it. Retry is not run: when a retrier matches the error, the answer is
//! `RETRIABLE`, as on AWS, with the retrier's index and backoff in `errorDetails`.
//!
//! Not supported yet (answered as `ValidationException` "not supported yet: ..."): `context`,
//! `variables`, `stateConfiguration`, and Task states without a mock.

use super::protocol::{ApiError, Fields};
use engine::{
    Definition, ExecutionConfig, ExecutionStatus, TaskHandler, TaskHandlerError, TaskOutcome,
    TaskRequest, TaskResponse, VirtualClock,
};
use serde_json::{json, Map, Value};

/// The name the tested state runs under when the definition is a single state.
const DEFAULT_NAME: &str = "TestState";

/// Answers every Task attempt with the request's mock.
struct MockAnswer(Option<TaskOutcome>);

impl TaskHandler for MockAnswer {
    fn invoke(&mut self, request: &TaskRequest<'_>) -> Result<TaskResponse, TaskHandlerError> {
        match &self.0 {
            Some(outcome) => Ok(TaskResponse {
                outcome: outcome.clone(),
                duration_ms: 0,
                submitted: None,
            }),
            None => Err(TaskHandlerError::NoMock {
                state: request.state_name.to_string(),
                resource: request.resource.to_string(),
            }),
        }
    }
}

fn text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// TestState.
pub fn test_state(f: &Fields) -> Result<Value, ApiError> {
    let definition = f.str("definition")?;
    let _role = f.opt_str("roleArn")?;
    let input_text = f.opt_str("input")?.unwrap_or_else(|| "{}".into());
    let level = f
        .opt_enum("inspectionLevel", &["INFO", "DEBUG", "TRACE"])?
        .unwrap_or_else(|| "INFO".into());
    let _reveal = f.opt_bool("revealSecrets")?;
    for unsupported in ["context", "variables", "stateConfiguration"] {
        if f.0.get(unsupported).is_some_and(|v| !v.is_null()) {
            return Err(ApiError::validation(format!(
                "not supported yet: TestState with '{unsupported}'"
            )));
        }
    }
    let state_name = f.opt_str("stateName")?;
    let mock = read_mock(f)?;

    let input: Value = serde_json::from_str(&input_text).map_err(|e| {
        ApiError::new(
            "InvalidExecutionInput",
            format!("Invalid execution input: {e}"),
        )
    })?;
    let parsed: Value = serde_json::from_str(&definition).map_err(|e| {
        ApiError::new(
            "InvalidDefinition",
            format!("Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {e}'"),
        )
    })?;
    let (name, state, query_language) = pick_state(&parsed, state_name.as_deref())?;
    let kind = state.get("Type").and_then(Value::as_str).unwrap_or("");
    if kind == "Task" && mock.is_none() {
        return Err(ApiError::validation(
            "not supported yet: TestState of a Task state without 'mock' (stepcheck calls no AWS service)",
        ));
    }

    // Retry is not run: a matching retrier makes the answer RETRIABLE instead.
    let mut run_state = state.clone();
    let retriers = run_state
        .as_object_mut()
        .and_then(|m| m.remove("Retry"))
        .unwrap_or(Value::Null);
    let (outcome, variables) = run_alone(
        &name,
        &run_state,
        query_language.as_ref(),
        input.clone(),
        mock.clone(),
    )?;

    let mut out = Map::new();
    let mut status = "SUCCEEDED";
    match &outcome {
        Ran::Exited { output, next } => {
            out.insert("output".into(), json!(text(output)));
            if let Some(n) = next {
                out.insert("nextState".into(), json!(n));
            }
        }
        Ran::Caught {
            output,
            next,
            error,
            cause,
        } => {
            status = "CAUGHT_ERROR";
            out.insert("output".into(), json!(text(output)));
            out.insert("error".into(), json!(error));
            if let Some(c) = cause {
                out.insert("cause".into(), json!(c));
            }
            out.insert("nextState".into(), json!(next));
        }
        Ran::Failed { error, cause } => {
            status = "FAILED";
            if let Some(e) = error {
                out.insert("error".into(), json!(e));
            }
            if let Some(c) = cause {
                out.insert("cause".into(), json!(c));
            }
        }
    }
    let mut error_details = None;
    if let Ran::Failed { error: Some(e), .. } | Ran::Caught { error: e, .. } = &outcome {
        if let Some((index, backoff)) = matching_retrier(&retriers, e) {
            status = "RETRIABLE";
            out.remove("output");
            out.remove("nextState");
            error_details =
                Some(json!({"retryIndex": index, "retryBackoffIntervalSeconds": backoff}));
        }
    }

    if level != "INFO" {
        let mut data = stages(state, query_language.as_ref(), &input, mock.as_ref())?;
        if let Some(v) = variables {
            data.insert("variables".into(), json!(text(&v)));
        }
        if let Some(d) = error_details {
            data.insert("errorDetails".into(), d);
        }
        out.insert("inspectionData".into(), Value::Object(data));
    }
    out.insert("status".into(), json!(status));
    Ok(Value::Object(out))
}

fn read_mock(f: &Fields) -> Result<Option<TaskOutcome>, ApiError> {
    let Some(mock) = f.opt_object("mock")? else {
        return Ok(None);
    };
    mock.opt_enum("fieldValidationMode", &["STRICT", "PRESENT", "NONE"])?;
    let result = mock.opt_str("result")?;
    let error = mock.opt_object("errorOutput")?;
    match (result, error) {
        (Some(r), None) => {
            let v: Value = serde_json::from_str(&r).map_err(|e| {
                ApiError::validation(format!("The mocked result is not valid JSON: {e}"))
            })?;
            Ok(Some(TaskOutcome::Succeeded(v)))
        }
        (None, Some(e)) => Ok(Some(TaskOutcome::Failed {
            error: e.opt_str("error")?.unwrap_or_default(),
            cause: e.opt_str("cause")?,
        })),
        _ => Err(ApiError::validation(
            "A mock must have exactly one of 'result' and 'errorOutput'",
        )),
    }
}

/// The state to test: the definition itself (one state), or `stateName` of a whole machine.
/// Returns its name, its JSON and the machine's QueryLanguage, if any.
fn pick_state<'a>(
    parsed: &'a Value,
    state_name: Option<&str>,
) -> Result<(String, &'a Value, Option<Value>), ApiError> {
    if let Some(states) = parsed.get("States").and_then(Value::as_object) {
        let Some(name) = state_name else {
            return Err(ApiError::validation(
                "stateName is required when the definition is a state machine",
            ));
        };
        let state = states.get(name).ok_or_else(|| {
            ApiError::validation(format!("State '{name}' is not in the state machine"))
        })?;
        return Ok((
            name.to_string(),
            state,
            parsed.get("QueryLanguage").cloned(),
        ));
    }
    if !parsed.is_object() || parsed.get("Type").is_none() {
        return Err(ApiError::new(
            "InvalidDefinition",
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: the definition must be a state (with a Type) or a state machine (with States)'",
        ));
    }
    Ok((state_name.unwrap_or(DEFAULT_NAME).to_string(), parsed, None))
}

/// Every state name the state can go to.
fn targets(state: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |v: Option<&Value>| {
        if let Some(s) = v.and_then(Value::as_str) {
            if !out.iter().any(|o| o == s) {
                out.push(s.to_string());
            }
        }
    };
    add(state.get("Next"));
    add(state.get("Default"));
    for list in ["Choices", "Catch"] {
        for item in state
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            add(item.get("Next"));
        }
    }
    out
}

/// The prefix of the placeholder states: a name no user state has, so the placeholder
/// entered is found without mistaking a state of a Parallel branch or a Map iteration that
/// happens to share a target's name.
const PLACEHOLDER: &str = "__stepcheck_target_";

/// Points the state's own transitions (not those inside its branches) at placeholders
/// `__stepcheck_target_<i>`, `i` the target's index in `targets`.
fn retarget(state: &Value, targets: &[String]) -> Value {
    let mut state = state.clone();
    let rename = |v: &mut Value| {
        if let Some(i) = v.as_str().and_then(|s| targets.iter().position(|t| t == s)) {
            *v = json!(format!("{PLACEHOLDER}{i}"));
        }
    };
    if let Some(m) = state.as_object_mut() {
        for key in ["Next", "Default"] {
            if let Some(v) = m.get_mut(key) {
                rename(v);
            }
        }
        for list in ["Choices", "Catch"] {
            for item in m
                .get_mut(list)
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(v) = item.get_mut("Next") {
                    rename(v);
                }
            }
        }
    }
    state
}

/// A machine of the state alone, its transitions going to Succeed placeholders.
fn machine(name: &str, state: &Value, query_language: Option<&Value>) -> Value {
    let mut states = Map::new();
    let targets = targets(state);
    states.insert(name.into(), retarget(state, &targets));
    for i in 0..targets.len() {
        states.insert(format!("{PLACEHOLDER}{i}"), json!({"Type": "Succeed"}));
    }
    let mut m = Map::new();
    if let Some(q) = query_language {
        m.insert("QueryLanguage".into(), q.clone());
    }
    m.insert("StartAt".into(), json!(name));
    m.insert("States".into(), Value::Object(states));
    Value::Object(m)
}

enum Ran {
    Exited {
        output: Value,
        next: Option<String>,
    },
    Caught {
        output: Value,
        next: String,
        error: String,
        cause: Option<String>,
    },
    Failed {
        error: Option<String>,
        cause: Option<String>,
    },
}

fn invalid(diags: &[engine::Diagnostic]) -> ApiError {
    let list: Vec<String> = diags.iter().map(ToString::to_string).collect();
    ApiError::new(
        "InvalidDefinition",
        format!("Invalid State Machine Definition: '{}'", list.join(", ")),
    )
}

fn execute(
    machine: &Value,
    input: Value,
    mock: Option<TaskOutcome>,
) -> Result<engine::ExecutionResult, ApiError> {
    let def = Definition::parse(&text(machine)).map_err(|d| invalid(&d))?;
    let config = ExecutionConfig::default();
    let mut clock = VirtualClock::starting_at(config.start_time);
    def.execute_with(input, &config, &mut clock, &mut MockAnswer(mock))
        .map_err(|e| match e {
            engine::RunError::NotSupported(n) => ApiError::validation(n.to_string()),
            other => ApiError::validation(format!("TestState could not run the state: {other}")),
        })
}

fn run_alone(
    name: &str,
    state: &Value,
    query_language: Option<&Value>,
    input: Value,
    mock: Option<TaskOutcome>,
) -> Result<(Ran, Option<Value>), ApiError> {
    let result = execute(&machine(name, state, query_language), input, mock)?;
    let events: Vec<Value> = result.history.iter().map(|e| e.to_api_json()).collect();
    let targets = targets(state);
    // The placeholder entered says where the state went; its input is the state's output.
    let next = events.iter().find_map(|e| {
        let d = &e["stateEnteredEventDetails"];
        let i: usize = d["name"]
            .as_str()?
            .strip_prefix(PLACEHOLDER)?
            .parse()
            .ok()?;
        let mut d = d.clone();
        d["name"] = json!(targets.get(i)?);
        Some(d)
    });
    let variables = events.iter().rev().find_map(|e| {
        let d = &e["stateExitedEventDetails"];
        (d["name"] == name).then(|| d.get("assignedVariables").cloned())?
    });
    let failure = events.iter().find_map(|e| {
        let t = e["type"].as_str()?;
        let d = e
            .as_object()?
            .iter()
            .find(|(k, _)| k.ends_with("FailedEventDetails"))?
            .1;
        (t.ends_with("Failed") && t != "ExecutionFailed").then(|| {
            (
                d["error"].as_str().unwrap_or("").to_string(),
                d["cause"].as_str().map(str::to_string),
            )
        })
    });
    // The variables after the state, as AWS shows them: one JSON object, values parsed.
    let variables = variables.and_then(|v| {
        let m: Map<String, Value> = v
            .as_object()?
            .iter()
            .map(|(k, v)| (k.clone(), parse_text(v)))
            .collect();
        Some(Value::Object(m))
    });
    let ran = match (result.status, next) {
        (ExecutionStatus::Succeeded, Some(next)) => {
            let output = parse_text(&next["input"]);
            let target = next["name"].as_str().unwrap_or("").to_string();
            if let Some((error, cause)) = failure {
                Ran::Caught {
                    output,
                    next: target,
                    error,
                    cause,
                }
            } else {
                Ran::Exited {
                    output,
                    next: Some(target),
                }
            }
        }
        (ExecutionStatus::Succeeded, None) => Ran::Exited {
            output: result.output.unwrap_or(Value::Null),
            next: None,
        },
        _ => Ran::Failed {
            error: result.error,
            cause: result.cause,
        },
    };
    Ok((ran, variables))
}

fn parse_text(v: &Value) -> Value {
    v.as_str()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null)
}

/// The output of a Pass state made of `fields`, run on `input`.
fn pass(
    fields: Map<String, Value>,
    query_language: Option<&Value>,
    input: Value,
) -> Result<Value, ApiError> {
    let mut state = fields;
    state.insert("Type".into(), json!("Pass"));
    state.insert("End".into(), json!(true));
    let result = execute(
        &machine("Stage", &Value::Object(state), query_language),
        input,
        None,
    )?;
    match result.status {
        ExecutionStatus::Succeeded => Ok(result.output.unwrap_or(Value::Null)),
        _ => Err(ApiError::validation(format!(
            "{}: {}",
            result.error.unwrap_or_default(),
            result.cause.unwrap_or_default()
        ))),
    }
}

fn field(state: &Value, name: &str) -> Option<(String, Value)> {
    state.get(name).map(|v| (name.to_string(), v.clone()))
}

/// The data-flow stages of `inspectionData` (DEBUG and TRACE). A stage that fails (the run
/// itself reports the error) ends the list there.
fn stages(
    state: &Value,
    query_language: Option<&Value>,
    input: &Value,
    mock: Option<&TaskOutcome>,
) -> Result<Map<String, Value>, ApiError> {
    let mut data = Map::new();
    data.insert("input".into(), json!(text(input)));
    let kind = state.get("Type").and_then(Value::as_str).unwrap_or("");
    let jsonata = state
        .get("QueryLanguage")
        .or(query_language)
        .and_then(Value::as_str)
        == Some("JSONata");
    if jsonata {
        // JSONata: Arguments is the one stage before the work; the rest is Output.
        if let Some(args) = state.get("Arguments") {
            let mut m = Map::new();
            m.insert("QueryLanguage".into(), json!("JSONata"));
            m.insert("Output".into(), args.clone());
            if let Ok(v) = pass(m, query_language, input.clone()) {
                data.insert("afterArguments".into(), json!(text(&v)));
            }
        }
        if let Some(TaskOutcome::Succeeded(r)) = mock {
            data.insert("result".into(), json!(text(r)));
        }
        return Ok(data);
    }
    if !matches!(kind, "Pass" | "Task" | "Parallel" | "Map") {
        // Choice, Wait, Succeed and Fail have InputPath and OutputPath only.
        if let Some(f) = field(state, "InputPath") {
            if let Ok(v) = pass(Map::from_iter([f]), query_language, input.clone()) {
                data.insert("afterInputPath".into(), json!(text(&v)));
            }
        }
        return Ok(data);
    }
    let mut m = Map::new();
    m.extend(field(state, "InputPath"));
    let Ok(after_input) = pass(m.clone(), query_language, input.clone()) else {
        return Ok(data);
    };
    data.insert("afterInputPath".into(), json!(text(&after_input)));
    let after_params = match field(state, "Parameters") {
        Some(p) => {
            m.insert(p.0, p.1);
            match pass(m, query_language, input.clone()) {
                Ok(v) => v,
                Err(_) => return Ok(data),
            }
        }
        None => after_input,
    };
    data.insert("afterParameters".into(), json!(text(&after_params)));
    let result = match (kind, mock) {
        ("Pass", _) => state.get("Result").cloned().unwrap_or(after_params),
        (_, Some(TaskOutcome::Succeeded(r))) => r.clone(),
        // A failed task, or a Parallel/Map state: no result stage to show here.
        _ => return Ok(data),
    };
    data.insert("result".into(), json!(text(&result)));
    let selected = match field(state, "ResultSelector") {
        Some((_, sel)) => {
            let mut m = Map::new();
            m.insert("Parameters".into(), sel);
            match pass(m, query_language, result) {
                Ok(v) => v,
                Err(_) => return Ok(data),
            }
        }
        None => result,
    };
    data.insert("afterResultSelector".into(), json!(text(&selected)));
    let mut m = Map::new();
    m.insert("Result".into(), selected);
    m.extend(field(state, "ResultPath"));
    if let Ok(v) = pass(m, query_language, input.clone()) {
        data.insert("afterResultPath".into(), json!(text(&v)));
    }
    Ok(data)
}

/// The first retrier whose ErrorEquals matches `error` and that has attempts left (the
/// first attempt's retry: MaxAttempts above 0), with its backoff in seconds.
fn matching_retrier(retriers: &Value, error: &str) -> Option<(usize, u64)> {
    let list = retriers.as_array()?;
    list.iter().enumerate().find_map(|(i, r)| {
        let names = r.get("ErrorEquals")?.as_array()?;
        let matches = names.iter().filter_map(Value::as_str).any(|n| {
            n == error
                || n == "States.ALL"
                || (n == "States.TaskFailed" && error != "States.Timeout")
        });
        let attempts = r.get("MaxAttempts").and_then(Value::as_u64).unwrap_or(3);
        (matches && attempts > 0).then(|| {
            let interval = r
                .get("IntervalSeconds")
                .and_then(Value::as_u64)
                .unwrap_or(1);
            (i, interval)
        })
    })
}
