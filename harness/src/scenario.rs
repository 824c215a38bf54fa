//! The scenario format: one directory per scenario, holding `scenario.json` and the files it
//! names (definitions as plain `.asl.json`, inputs, a MockConfigFile, golden histories).
//!
//! The format is documented in README.md ("Scenarios") and described by the JSON Schema in
//! `corpus/schema/scenario.schema.json`, which editors use for completion.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file that makes a directory a scenario.
pub const SCENARIO_FILE: &str = "scenario.json";

/// The latest callback (seconds after the start) a scenario may script and still run on a
/// wall-clock backend; later ones make it need virtual time.
pub const WALL_CLOCK_CALLBACK_LIMIT_SECONDS: f64 = 30.0;

/// Why a scenario could not be loaded. Every variant names the file, and the field when the
/// problem is inside one, so that a broken scenario is fixed without guessing.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// A file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is not JSON, or not the shape the format asks for.
    #[error("{path}: {field}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Where in the file, as a dotted path (`executions[0].expect.status`), or `.`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// A workflow type as the Step Functions API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum WorkflowType {
    /// Standard workflows (full history, up to a year).
    #[default]
    #[serde(rename = "STANDARD")]
    Standard,
    /// Express workflows (no history, up to five minutes).
    #[serde(rename = "EXPRESS")]
    Express,
}

impl WorkflowType {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowType::Standard => "STANDARD",
            WorkflowType::Express => "EXPRESS",
        }
    }
}

/// How much of an execution a comparison looks at, from least to most.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default, Hash,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Status, output and error only.
    Output,
    /// Also the history's event types and causal links, per branch and iteration.
    Types,
    /// Also every field of every event, except the text of error causes.
    Details,
    /// Also the exact text of causes, which AWS rewords from time to time.
    #[default]
    Cause,
}

impl Level {
    /// The name used in scenario files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Output => "output",
            Level::Types => "types",
            Level::Details => "details",
            Level::Cause => "cause",
        }
    }
}

/// What a scenario needs from a backend. A backend that lacks one reports the scenario as
/// not applicable, with the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub enum Requirement {
    /// Waits, retries and timeouts of hours or days must pass at once.
    VirtualTime,
    /// Task states answered from the scenario's MockConfigFile.
    Mocks,
    /// The history of Express executions (AWS keeps none; CloudWatch Logs has them).
    ExpressHistory,
    /// Finding the token of a task that waits for a callback, to answer it from the script.
    TaskTokens,
    /// Definition validation with AWS's diagnostic codes and locations.
    Validation,
}

impl Requirement {
    /// The name used in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            Requirement::VirtualTime => "virtualTime",
            Requirement::Mocks => "mocks",
            Requirement::ExpressHistory => "expressHistory",
            Requirement::TaskTokens => "taskTokens",
            Requirement::Validation => "validation",
        }
    }
}

/// `scenario.json` as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioFile {
    /// The JSON Schema, for editors; ignored.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// What the scenario shows, in a sentence or two.
    pub description: String,
    /// Where the expected behaviour is documented (AWS documentation pages).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// Free-form labels, for `--filter` and reports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The state machines to create, by name.
    pub state_machines: BTreeMap<String, StateMachineSpec>,
    /// Activities to create (CreateActivity) before the state machines, by name; Task states
    /// name them by ARN and scripted workers (`getActivityTask`) poll them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub activities: Vec<String>,
    /// A MockConfigFile (Step Functions Local's format), relative to the scenario directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mock_config: Option<String>,
    /// What the scenario needs beyond what its files imply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Requirement>,
    /// The most a comparison looks at for this scenario (default: `cause`, everything).
    #[serde(default)]
    pub compare: Level,
    /// How values are normalised before comparison.
    #[serde(default)]
    pub normalize: NormalizeSpec,
    /// The executions to run, in order.
    #[serde(default)]
    pub executions: Vec<ExecutionSpec>,
}

/// One state machine of a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StateMachineSpec {
    /// The definition file (`.asl.json`), relative to the scenario directory.
    pub definition: String,
    /// STANDARD (default) or EXPRESS.
    #[serde(default, rename = "type")]
    pub workflow_type: WorkflowType,
    /// When present, creating the machine must fail with these diagnostics (each must
    /// appear in the error); no execution may use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_invalid: Option<Vec<ExpectedDiagnostic>>,
}

/// A diagnostic an invalid definition must produce.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedDiagnostic {
    /// AWS's code, such as `SCHEMA_VALIDATION_FAILED`.
    pub code: String,
    /// Where, as AWS writes it (`/States/A/Next`); omitted when AWS gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// Per-scenario normalisation settings (see [`crate::normalize`]).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NormalizeSpec {
    /// Object keys whose values are replaced by `<ignored>` wherever they appear.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_keys: Vec<String>,
    /// Object keys whose string values are task tokens (added to the defaults).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub token_keys: Vec<String>,
    /// Keep ISO 8601 dates in payloads instead of replacing them with `<date>`.
    #[serde(default)]
    pub keep_dates: bool,
    /// Keep event timestamps (seconds since the execution started) out of comparisons.
    #[serde(default)]
    pub ignore_timestamps: bool,
    /// Extra regular-expression replacements applied to every string.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace: Vec<Replacement>,
}

/// A regular-expression replacement.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replacement {
    /// The pattern (Rust `regex` syntax).
    pub pattern: String,
    /// The replacement (`$1` refers to groups).
    pub with: String,
}

/// One execution of a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExecutionSpec {
    /// The execution's name (also its name on the backend); unique in the scenario.
    pub name: String,
    /// Which state machine of the scenario to run (default: the only one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_machine: Option<String>,
    /// The input (default `{}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// A file holding the input, relative to the scenario directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_file: Option<String>,
    /// The MockConfigFile test case (`stateMachineArn#TestCase`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_case: Option<String>,
    /// StartSyncExecution (Express only) instead of StartExecution.
    #[serde(default)]
    pub sync: bool,
    /// What happens from outside while the execution runs, in time order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub callbacks: Vec<Callback>,
    /// What the execution must end with.
    pub expect: Expectation,
}

/// A scripted action from outside the execution.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Callback {
    /// Seconds after the execution started.
    #[serde(default)]
    pub at: f64,
    /// What to do.
    pub action: CallbackAction,
    /// The Task state whose waiting task to answer (success, failure, heartbeat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// SendTaskSuccess's output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// SendTaskFailure's or StopExecution's error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// SendTaskFailure's or StopExecution's cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// The activity a worker polls (`getActivityTask`), by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<String>,
    /// The worker's name in GetActivityTask (`getActivityTask`; ActivityStarted's workerName).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
}

/// The scripted actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CallbackAction {
    /// SendTaskSuccess to the waiting task of `state`.
    Success,
    /// SendTaskFailure to the waiting task of `state`.
    Failure,
    /// SendTaskHeartbeat to the waiting task of `state`.
    Heartbeat,
    /// StopExecution.
    Stop,
    /// Only let time pass until `at`.
    Wait,
    /// A worker polls `activity` (GetActivityTask) and takes the oldest task waiting for it
    /// (ActivityStarted); answer it afterwards with success/failure/heartbeat on its state.
    GetActivityTask,
}

/// What an execution must end with. Absent fields are not checked.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Expectation {
    /// SUCCEEDED, FAILED, TIMED_OUT, ABORTED or RUNNING.
    pub status: String,
    /// The output (when SUCCEEDED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// The error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The cause (compared at level `cause` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// A golden history file (normalised events), relative to the scenario directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<String>,
}

/// A loaded scenario: the file, its directory and the files it names, read.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The scenario's name: its directory relative to the corpus root (`flow/pass-result`).
    pub name: String,
    /// Its directory.
    pub dir: PathBuf,
    /// `scenario.json`.
    pub file: ScenarioFile,
    /// Definition texts by state machine name.
    pub definitions: BTreeMap<String, String>,
    /// The MockConfigFile's text, when there is one.
    pub mock_config: Option<String>,
    /// Each execution's input, as JSON text, in order.
    pub inputs: Vec<String>,
    /// Each execution's golden history (events), when it has one and the file exists.
    pub histories: Vec<Option<Vec<Value>>>,
}

impl Scenario {
    /// The scenario's file.
    pub fn path(&self) -> PathBuf {
        self.dir.join(SCENARIO_FILE)
    }

    /// What the scenario needs: its explicit `requires`, plus what its files imply.
    pub fn requirements(&self) -> Vec<Requirement> {
        let mut r = self.file.requires.clone();
        if self.mock_config.is_some() {
            r.push(Requirement::Mocks);
        }
        if self
            .file
            .state_machines
            .values()
            .any(|m| m.expect_invalid.is_some())
        {
            r.push(Requirement::Validation);
        }
        for e in &self.file.executions {
            if e.callbacks
                .iter()
                .any(|c| c.state.is_some() || c.activity.is_some())
            {
                r.push(Requirement::TaskTokens);
            }
            // A callback minutes after the start would hold a wall-clock run for minutes;
            // such scenarios are for virtual time (a scenario meant for AWS answers sooner).
            if e.callbacks.iter().any(|c| c.at > WALL_CLOCK_CALLBACK_LIMIT_SECONDS) {
                r.push(Requirement::VirtualTime);
            }
            let machine = self
                .machine_of(e)
                .and_then(|m| self.file.state_machines.get(m));
            if e.expect.history.is_some()
                && machine.is_some_and(|m| m.workflow_type == WorkflowType::Express)
            {
                r.push(Requirement::ExpressHistory);
            }
        }
        r.sort();
        r.dedup();
        r
    }

    /// The state machine an execution runs: its own, or the scenario's only one.
    pub fn machine_of<'a>(&'a self, e: &'a ExecutionSpec) -> Option<&'a str> {
        match &e.state_machine {
            Some(m) => Some(m),
            None if self.file.state_machines.len() == 1 => {
                self.file.state_machines.keys().next().map(String::as_str)
            }
            None => None,
        }
    }

    /// Loads the scenario in `dir`; `root` makes its name.
    pub fn load(dir: &Path, root: &Path) -> Result<Scenario, ScenarioError> {
        let path = dir.join(SCENARIO_FILE);
        let text = read(&path)?;
        let de = &mut serde_json::Deserializer::from_str(&text);
        let file: ScenarioFile = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            ScenarioError::Invalid {
                path: path.clone(),
                field,
                message: e.into_inner().to_string(),
            }
        })?;
        let invalid = |field: String, message: String| ScenarioError::Invalid {
            path: path.clone(),
            field,
            message,
        };
        if file.state_machines.is_empty() {
            return Err(invalid(
                "stateMachines".into(),
                "at least one state machine is needed".into(),
            ));
        }
        let mut definitions = BTreeMap::new();
        for (name, m) in &file.state_machines {
            let def_path = dir.join(&m.definition);
            let text = read(&def_path)?;
            if let Err(e) = serde_json::from_str::<Value>(&text) {
                if m.expect_invalid.is_none() {
                    return Err(ScenarioError::Invalid {
                        path: def_path,
                        field: ".".into(),
                        message: format!("not JSON: {e}"),
                    });
                }
            }
            definitions.insert(name.clone(), text);
        }
        let mock_config = match &file.mock_config {
            Some(f) => {
                let p = dir.join(f);
                let text = read(&p)?;
                if let Err(e) = mocks::MockConfig::from_json_str(&text) {
                    return Err(ScenarioError::Invalid {
                        path: p,
                        field: ".".into(),
                        message: e.to_string(),
                    });
                }
                Some(text)
            }
            None => None,
        };
        let mut inputs = Vec::new();
        let mut histories = Vec::new();
        let mut names = std::collections::HashSet::new();
        for (i, e) in file.executions.iter().enumerate() {
            let at = |f: &str| format!("executions[{i}].{f}");
            if !names.insert(e.name.as_str()) {
                return Err(invalid(at("name"), format!("'{}' is used twice", e.name)));
            }
            let machine = match &e.state_machine {
                Some(m) => m.clone(),
                None if file.state_machines.len() == 1 => file
                    .state_machines
                    .keys()
                    .next()
                    .cloned()
                    .unwrap_or_default(),
                None => {
                    return Err(invalid(
                        at("stateMachine"),
                        "required when the scenario has several state machines".into(),
                    ))
                }
            };
            match file.state_machines.get(&machine) {
                None => {
                    return Err(invalid(
                        at("stateMachine"),
                        format!("no state machine '{machine}' in stateMachines"),
                    ))
                }
                Some(m) if m.expect_invalid.is_some() => {
                    return Err(invalid(
                        at("stateMachine"),
                        format!("'{machine}' is expected to be invalid; it cannot run"),
                    ))
                }
                Some(_) => {}
            }
            if e.test_case.is_some() && mock_config.is_none() {
                return Err(invalid(
                    at("testCase"),
                    "a test case needs the scenario's mockConfig".into(),
                ));
            }
            const STATUSES: [&str; 5] = ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "RUNNING"];
            if !STATUSES.contains(&e.expect.status.as_str()) {
                return Err(invalid(
                    at("expect.status"),
                    format!(
                        "'{}' is not one of {}",
                        e.expect.status,
                        STATUSES.join(", ")
                    ),
                ));
            }
            let mut last = 0.0;
            for (j, c) in e.callbacks.iter().enumerate() {
                let at = |f: &str| format!("executions[{i}].callbacks[{j}].{f}");
                if c.at.is_nan() || c.at < last {
                    return Err(invalid(
                        at("at"),
                        "callbacks must be in time order, at 0 or later".into(),
                    ));
                }
                last = c.at;
                let needs_state = matches!(
                    c.action,
                    CallbackAction::Success | CallbackAction::Failure | CallbackAction::Heartbeat
                );
                if needs_state && c.state.is_none() {
                    return Err(invalid(at("state"), "required for this action".into()));
                }
                if !needs_state && c.state.is_some() {
                    return Err(invalid(at("state"), "not used by this action".into()));
                }
                let polls = c.action == CallbackAction::GetActivityTask;
                match &c.activity {
                    None if polls => {
                        return Err(invalid(at("activity"), "required for this action".into()))
                    }
                    Some(_) if !polls => {
                        return Err(invalid(at("activity"), "not used by this action".into()))
                    }
                    Some(a) if !file.activities.contains(a) => {
                        return Err(invalid(
                            at("activity"),
                            format!("'{a}' is not one of the scenario's activities"),
                        ))
                    }
                    _ => {}
                }
                if !polls && c.worker.is_some() {
                    return Err(invalid(at("worker"), "not used by this action".into()));
                }
            }
            let input = match (&e.input, &e.input_file) {
                (Some(_), Some(_)) => {
                    return Err(invalid(
                        at("inputFile"),
                        "give input or inputFile, not both".into(),
                    ))
                }
                (Some(v), None) => v.to_string(),
                (None, Some(f)) => {
                    let p = dir.join(f);
                    let text = read(&p)?;
                    serde_json::from_str::<Value>(&text).map_err(|e| ScenarioError::Invalid {
                        path: p.clone(),
                        field: ".".into(),
                        message: format!("not JSON: {e}"),
                    })?;
                    text
                }
                (None, None) => "{}".into(),
            };
            inputs.push(input);
            let history = match &e.expect.history {
                Some(f) => {
                    let p = dir.join(f);
                    if p.exists() {
                        let text = read(&p)?;
                        let events: Vec<Value> =
                            serde_json::from_str(&text).map_err(|e| ScenarioError::Invalid {
                                path: p.clone(),
                                field: ".".into(),
                                message: format!("not a JSON array of events: {e}"),
                            })?;
                        Some(events)
                    } else {
                        // A golden file named but not written yet: `--update` writes it, and
                        // a normal run reports it as missing.
                        None
                    }
                }
                None => None,
            };
            histories.push(history);
        }
        let name = dir
            .strip_prefix(root)
            .ok()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(dir)
            .to_string_lossy()
            .replace('\\', "/");
        Ok(Scenario {
            name,
            dir: dir.to_path_buf(),
            file,
            definitions,
            mock_config,
            inputs,
            histories,
        })
    }
}

fn read(path: &Path) -> Result<String, ScenarioError> {
    std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Every scenario directory under `paths` (a path may be a scenario directory itself), in
/// name order. Names are relative to the path given.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<(PathBuf, PathBuf)>, ScenarioError> {
    let mut found = Vec::new();
    for root in paths {
        let meta = std::fs::metadata(root).map_err(|source| ScenarioError::Read {
            path: root.clone(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(ScenarioError::Invalid {
                path: root.clone(),
                field: ".".into(),
                message: "not a directory (give a corpus directory or a scenario directory)".into(),
            });
        }
        let base = if root.join(SCENARIO_FILE).is_file() {
            root.parent().map(Path::to_path_buf).unwrap_or_default()
        } else {
            root.clone()
        };
        walk(root, &base, &mut found)?;
    }
    found.sort();
    found.dedup();
    Ok(found)
}

fn walk(dir: &Path, base: &Path, found: &mut Vec<(PathBuf, PathBuf)>) -> Result<(), ScenarioError> {
    if dir.join(SCENARIO_FILE).is_file() {
        found.push((dir.to_path_buf(), base.to_path_buf()));
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|source| ScenarioError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for d in dirs {
        walk(&d, base, found)?;
    }
    Ok(())
}
