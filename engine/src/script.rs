//! Scripted callers: callbacks (SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat) that a
//! test or scenario declares in advance, to be sent at an instant of the virtual clock to the
//! task token a named state issued. They let callback scenarios run without threads, sleeps or
//! a test that polls for tokens: the service fires each call when its clock reaches the call's
//! instant, interleaved with the executions' own timers (see [`crate::Service::script`]).
//!
//! A scenario declares a call in JSON:
//!
//! ```json
//! {"at_ms": 1000, "state": "Wait for approval", "occurrence": 1,
//!  "action": "success", "output": {"approved": true}}
//! ```
//!
//! `at_ms` counts from the execution's start; `at_epoch_ms` names an absolute instant instead
//! (exactly one of the two). `occurrence` (from 1, default 1) picks the k-th task token the
//! state issued in that execution: every attempt of a Task state gets a token, so retries and
//! Map iterations each count. `action` is `success` (with `output`), `failure` (with optional
//! `error` and `cause`) or `heartbeat`.

use crate::clock::Timestamp;
use crate::service::ServiceError;
use serde::Deserialize;
use serde_json::{Map, Value};

/// When a scripted call is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptTime {
    /// This many milliseconds after the execution started (`at_ms`).
    AfterStart(u64),
    /// At this instant (`at_epoch_ms`).
    At(Timestamp),
}

/// What a scripted call sends.
#[derive(Debug, Clone, PartialEq)]
pub enum ScriptedAction {
    /// SendTaskSuccess with this output.
    Success {
        /// The task's result.
        output: Value,
    },
    /// SendTaskFailure.
    Failure {
        /// The error name.
        error: Option<String>,
        /// The cause.
        cause: Option<String>,
    },
    /// SendTaskHeartbeat.
    Heartbeat,
}

impl ScriptedAction {
    /// `success`, `failure` or `heartbeat`, as the JSON spells the action.
    pub fn name(&self) -> &'static str {
        match self {
            ScriptedAction::Success { .. } => "success",
            ScriptedAction::Failure { .. } => "failure",
            ScriptedAction::Heartbeat => "heartbeat",
        }
    }
}

/// A callback to send at a virtual instant to the token a state issued.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "Map<String, Value>")]
pub struct ScriptedCall {
    /// When to send it.
    pub at: ScriptTime,
    /// The Task state whose token it answers.
    pub state: String,
    /// Which of the state's tokens, from 1 (the first token the state issued).
    pub occurrence: u32,
    /// What to send.
    pub action: ScriptedAction,
}

impl ScriptedCall {
    /// A call sent `at_ms` milliseconds after the execution started, to the first token of
    /// `state`.
    pub fn after(at_ms: u64, state: &str, action: ScriptedAction) -> Self {
        ScriptedCall {
            at: ScriptTime::AfterStart(at_ms),
            state: state.to_string(),
            occurrence: 1,
            action,
        }
    }

    /// The same call, to the `occurrence`-th token of its state (from 1).
    pub fn occurrence(mut self, occurrence: u32) -> Self {
        self.occurrence = occurrence;
        self
    }
}

impl TryFrom<Map<String, Value>> for ScriptedCall {
    type Error = String;

    fn try_from(mut m: Map<String, Value>) -> Result<Self, String> {
        let at = match (m.remove("at_ms"), m.remove("at_epoch_ms")) {
            (Some(v), None) => ScriptTime::AfterStart(
                v.as_u64()
                    .ok_or("'at_ms' must be a non-negative integer (milliseconds)")?,
            ),
            (None, Some(v)) => ScriptTime::At(Timestamp(
                v.as_i64()
                    .ok_or("'at_epoch_ms' must be an integer (milliseconds since the epoch)")?,
            )),
            (Some(_), Some(_)) => return Err("give 'at_ms' or 'at_epoch_ms', not both".into()),
            (None, None) => return Err("a scripted call needs 'at_ms' or 'at_epoch_ms'".into()),
        };
        let state = match m.remove("state") {
            Some(Value::String(s)) => s,
            Some(_) => return Err("'state' must be a string".into()),
            None => return Err("a scripted call needs 'state'".into()),
        };
        let occurrence = match m.remove("occurrence") {
            None => 1,
            Some(v) => v
                .as_u64()
                .filter(|&n| (1..=u32::MAX as u64).contains(&n))
                .ok_or("'occurrence' must be a positive integer (1 is the state's first token)")?
                as u32,
        };
        let text = |m: &mut Map<String, Value>, key: &str| match m.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(format!("'{key}' must be a string")),
        };
        let action = match m.remove("action").as_ref().and_then(Value::as_str) {
            Some("success") => ScriptedAction::Success {
                output: m
                    .remove("output")
                    .ok_or("a 'success' call needs 'output'")?,
            },
            Some("failure") => ScriptedAction::Failure {
                error: text(&mut m, "error")?,
                cause: text(&mut m, "cause")?,
            },
            Some("heartbeat") => ScriptedAction::Heartbeat,
            _ => return Err("'action' must be \"success\", \"failure\" or \"heartbeat\"".into()),
        };
        // A field the action does not take is a mistake in the scenario, not something to
        // ignore.
        if let Some(key) = m.keys().next() {
            return Err(format!(
                "unknown field '{key}' in a scripted {} call",
                action.name()
            ));
        }
        Ok(ScriptedCall {
            at,
            state,
            occurrence,
            action,
        })
    }
}

/// What happened to one scripted call, in the order the calls were sent.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptRecord {
    /// The execution the call was scripted for.
    pub execution_arn: String,
    /// The call.
    pub call: ScriptedCall,
    /// The instant it was due.
    pub due: Timestamp,
    /// The token it answered, when the state had issued one.
    pub token: Option<String>,
    /// `Ok` when the service accepted it, otherwise the API's error (`TaskTimedOut`,
    /// `TaskDoesNotExist`, ...).
    pub result: Result<(), ServiceError>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<ScriptedCall, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn the_corpus_json_shape_parses() {
        assert_eq!(
            parse(
                json!({"at_ms": 1000, "state": "Wait for approval", "occurrence": 2,
                         "action": "success", "output": {"ok": true}})
            ),
            Ok(ScriptedCall {
                at: ScriptTime::AfterStart(1000),
                state: "Wait for approval".into(),
                occurrence: 2,
                action: ScriptedAction::Success {
                    output: json!({"ok": true})
                },
            })
        );
        assert_eq!(
            parse(json!({"at_epoch_ms": 5, "state": "S", "action": "failure", "error": "E"})),
            Ok(ScriptedCall {
                at: ScriptTime::At(Timestamp(5)),
                state: "S".into(),
                occurrence: 1,
                action: ScriptedAction::Failure {
                    error: Some("E".into()),
                    cause: None
                },
            })
        );
        assert_eq!(
            parse(json!({"at_ms": 0, "state": "S", "action": "heartbeat"})),
            Ok(ScriptedCall::after(0, "S", ScriptedAction::Heartbeat))
        );
    }

    #[test]
    fn mistakes_are_named() {
        let err = |v| parse(v).unwrap_err();
        assert!(err(json!({"state": "S", "action": "heartbeat"})).contains("needs 'at_ms'"));
        assert!(
            err(json!({"at_ms": 1, "at_epoch_ms": 1, "state": "S", "action": "heartbeat"}))
                .contains("not both")
        );
        assert!(
            err(json!({"at_ms": 1, "state": "S", "action": "success"})).contains("needs 'output'")
        );
        assert!(err(json!({"at_ms": 1, "state": "S", "action": "ping"})).contains("'action'"));
        assert!(
            err(json!({"at_ms": 1, "state": "S", "occurrence": 0, "action": "heartbeat"}))
                .contains("'occurrence'")
        );
        assert!(
            err(json!({"at_ms": 1, "state": "S", "action": "heartbeat", "output": {}}))
                .contains("unknown field 'output' in a scripted heartbeat call")
        );
        assert!(err(json!({"at_ms": -1, "state": "S", "action": "heartbeat"})).contains("at_ms"));
    }
}
