//! One normaliser for everything a backend returns: ARNs (account and region), execution
//! names, timestamps, request ids, task tokens and UUIDs become placeholders, so that values
//! from different backends, accounts and days compare equal when they mean the same.
//!
//! Histories are normalised once, from the API's shape into the canonical shape golden files
//! keep: `input`, `output`, `parameters` and assigned variables as JSON values (not text),
//! timestamps as seconds since the execution started. [`Normalizer::mask_events`] then hides
//! what the comparison level leaves out (cause texts, timestamps) on both sides.

use crate::scenario::{Level, NormalizeSpec};
use regex::Regex;
use serde_json::{Map, Value};
use std::sync::OnceLock;

/// Keys whose values are task tokens, whatever the backend.
const TOKEN_KEYS: &[&str] = &["TaskToken", "taskToken", "Token", "token"];
/// Keys whose values are request ids.
const REQUEST_ID_KEYS: &[&str] = &[
    "RequestId",
    "requestId",
    "x-amzn-RequestId",
    "x-amz-request-id",
    "x-amz-id-2",
    "X-Amzn-Trace-Id",
];
/// Event detail fields that hold JSON text.
const JSON_TEXT_FIELDS: &[&str] = &["input", "output", "parameters"];

fn arn_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12}):").expect("valid regex")
    })
}

fn uuid_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
            .expect("valid regex")
    })
}

fn date_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
            .expect("valid regex")
    })
}

/// An invalid `normalize.replace` pattern.
#[derive(Debug, thiserror::Error)]
#[error("normalize.replace[{index}].pattern: {message}")]
pub struct NormalizeError {
    /// Which replacement.
    pub index: usize,
    /// The regex error.
    pub message: String,
}

/// Normalises values and histories as a scenario's `normalize` settings say.
#[derive(Debug, Clone)]
pub struct Normalizer {
    ignore_keys: Vec<String>,
    token_keys: Vec<String>,
    keep_dates: bool,
    ignore_timestamps: bool,
    replace: Vec<(Regex, String)>,
    /// Exact strings known to be task tokens (the runner learns them from the backend).
    tokens: Vec<String>,
    /// Backend-side names to scenario-side names (execution names a backend had to make
    /// unique).
    aliases: Vec<(String, String)>,
    /// Timestamps to the whole second (backends on a wall clock).
    whole_seconds: bool,
}

impl Default for Normalizer {
    fn default() -> Self {
        Normalizer::new(&NormalizeSpec::default()).expect("no patterns to compile")
    }
}

impl Normalizer {
    /// A normaliser with a scenario's settings.
    pub fn new(spec: &NormalizeSpec) -> Result<Normalizer, NormalizeError> {
        let mut replace = Vec::new();
        for (index, r) in spec.replace.iter().enumerate() {
            let re = Regex::new(&r.pattern).map_err(|e| NormalizeError {
                index,
                message: e.to_string(),
            })?;
            replace.push((re, r.with.clone()));
        }
        let mut token_keys: Vec<String> = TOKEN_KEYS.iter().map(|s| s.to_string()).collect();
        token_keys.extend(spec.token_keys.iter().cloned());
        Ok(Normalizer {
            ignore_keys: spec.ignore_keys.clone(),
            token_keys,
            keep_dates: spec.keep_dates,
            ignore_timestamps: spec.ignore_timestamps,
            replace,
            tokens: Vec::new(),
            aliases: Vec::new(),
            whole_seconds: false,
        })
    }

    /// Treats `token` as a task token wherever it appears.
    pub fn add_token(&mut self, token: &str) {
        if !token.is_empty() && !self.tokens.iter().any(|t| t == token) {
            self.tokens.push(token.to_string());
        }
    }

    /// Rounds history timestamps to the whole second: on a wall clock each event takes a few
    /// milliseconds that a virtual clock does not have, so a `Wait` of 5 s shows 5, not 5.004.
    pub fn set_whole_seconds(&mut self, on: bool) {
        self.whole_seconds = on;
    }

    /// Writes `backend_name` as `scenario_name` wherever it appears.
    pub fn add_alias(&mut self, backend_name: &str, scenario_name: &str) {
        if backend_name != scenario_name {
            self.aliases
                .push((backend_name.to_string(), scenario_name.to_string()));
        }
    }

    /// Normalises one string.
    pub fn string(&self, s: &str) -> String {
        let mut out = s.to_string();
        for t in &self.tokens {
            if out.contains(t.as_str()) {
                out = out.replace(t.as_str(), "<task-token>");
            }
        }
        for (from, to) in &self.aliases {
            out = out.replace(from.as_str(), to);
        }
        if out.contains("arn:") {
            // Global services (IAM) have no region in their ARNs; it stays empty.
            out = arn_re()
                .replace_all(&out, |c: &regex::Captures<'_>| {
                    let region = if c[3].is_empty() { "" } else { "<region>" };
                    format!("arn:{}:{}:{region}:<account>:", &c[1], &c[2])
                })
                .into_owned();
        }
        if out.contains('-') {
            out = uuid_re().replace_all(&out, "<uuid>").into_owned();
            if !self.keep_dates {
                out = date_re().replace_all(&out, "<date>").into_owned();
            }
        }
        for (re, with) in &self.replace {
            out = re.replace_all(&out, with.as_str()).into_owned();
        }
        out
    }

    /// Normalises a JSON value (every string in it; token, request-id and ignored keys).
    pub fn value(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.string(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.value(x)).collect()),
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, x) in m {
                    let nv = if self.ignore_keys.iter().any(|i| i == k) {
                        Value::String("<ignored>".into())
                    } else if x.is_string() && self.token_keys.iter().any(|t| t == k) {
                        Value::String("<task-token>".into())
                    } else if x.is_string() && REQUEST_ID_KEYS.contains(&k.as_str()) {
                        Value::String("<request-id>".into())
                    } else {
                        self.value(x)
                    };
                    out.insert(k.clone(), nv);
                }
                Value::Object(out)
            }
            other => other.clone(),
        }
    }

    /// Normalises a history from the API's JSON shape into the canonical shape: payload
    /// texts parsed, strings normalised, `timestamp` as seconds since the first event.
    pub fn events(&self, events: &[Value]) -> Vec<Value> {
        let start = events
            .first()
            .and_then(|e| e.get("timestamp"))
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        events
            .iter()
            .map(|e| {
                let mut out = Map::new();
                let Some(m) = e.as_object() else {
                    return self.value(e);
                };
                // Golden files read best with the id, link and type first.
                for k in ["id", "previousEventId", "type"] {
                    if let Some(v) = m.get(k) {
                        out.insert(k.into(), v.clone());
                    }
                }
                for (k, v) in m {
                    let nv = match k.as_str() {
                        "timestamp" => match v.as_f64() {
                            Some(t) if self.whole_seconds => {
                                Value::from((t - start).round() as i64)
                            }
                            Some(t) => seconds(t - start),
                            None => v.clone(),
                        },
                        "id" | "previousEventId" | "type" => continue,
                        _ if k.ends_with("EventDetails") => self.details(v),
                        _ => self.value(v),
                    };
                    out.insert(k.clone(), nv);
                }
                Value::Object(out)
            })
            .collect()
    }

    fn details(&self, v: &Value) -> Value {
        let Some(m) = v.as_object() else {
            return self.value(v);
        };
        let mut out = Map::new();
        for (k, x) in m {
            let parsed = match (k.as_str(), x) {
                (f, Value::String(s)) if JSON_TEXT_FIELDS.contains(&f) => {
                    serde_json::from_str::<Value>(s).unwrap_or_else(|_| x.clone())
                }
                ("assignedVariables", Value::Object(vars)) => Value::Object(
                    vars.iter()
                        .map(|(n, t)| {
                            let v = t
                                .as_str()
                                .and_then(|s| serde_json::from_str(s).ok())
                                .unwrap_or_else(|| t.clone());
                            (n.clone(), v)
                        })
                        .collect(),
                ),
                _ => x.clone(),
            };
            out.insert(k.clone(), self.value(&parsed));
        }
        Value::Object(out)
    }

    /// Hides, in canonical events, what a comparison at `level` leaves out: cause texts
    /// below [`Level::Cause`], timestamps when the scenario ignores them.
    pub fn mask_events(&self, events: &[Value], level: Level) -> Vec<Value> {
        events
            .iter()
            .map(|e| {
                let mut e = e.clone();
                if let Some(m) = e.as_object_mut() {
                    if self.ignore_timestamps {
                        m.remove("timestamp");
                    }
                    if level < Level::Cause {
                        for (k, d) in m.iter_mut() {
                            if k.ends_with("EventDetails") {
                                if let Some(c) = d.get_mut("cause") {
                                    *c = Value::String("<cause>".into());
                                }
                            }
                        }
                    }
                }
                e
            })
            .collect()
    }
}

/// Seconds as a JSON number with millisecond precision (whole numbers stay integers).
fn seconds(s: f64) -> Value {
    let ms = (s * 1000.0).round() as i64;
    if ms % 1000 == 0 {
        Value::from(ms / 1000)
    } else {
        serde_json::Number::from_f64(ms as f64 / 1000.0)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arns_uuids_dates_tokens_and_request_ids_become_placeholders() {
        let mut n = Normalizer::default();
        n.add_token("tok123");
        let v = json!({
            "ExecutionArn": "arn:aws:states:eu-west-1:999999999999:execution:M:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
            "StartDate": "2024-01-01T00:00:00.000Z",
            "TaskToken": "anything",
            "note": "token tok123 here",
            "SdkHttpMetadata": {"HttpHeaders": {"x-amzn-RequestId": "abc"}}
        });
        assert_eq!(
            n.value(&v),
            json!({
                "ExecutionArn": "arn:aws:states:<region>:<account>:execution:M:<uuid>",
                "StartDate": "<date>",
                "TaskToken": "<task-token>",
                "note": "token <task-token> here",
                "SdkHttpMetadata": {"HttpHeaders": {"x-amzn-RequestId": "<request-id>"}}
            })
        );
    }

    #[test]
    fn events_get_relative_timestamps_and_parsed_payloads() {
        let mut n = Normalizer::default();
        let events = vec![
            json!({"id": 1, "previousEventId": 0, "timestamp": 1704067200.0, "type": "ExecutionStarted",
                   "executionStartedEventDetails": {"input": "{\"a\":1}", "roleArn": "arn:aws:iam::123456789012:role/R"}}),
            json!({"id": 2, "previousEventId": 1, "timestamp": 1704067201.5, "type": "ExecutionFailed",
                   "executionFailedEventDetails": {"error": "E", "cause": "why"}}),
        ];
        let out = n.events(&events);
        assert_eq!(out[0]["timestamp"], json!(0));
        assert_eq!(out[1]["timestamp"], json!(1.5));
        n.set_whole_seconds(true);
        let out = n.events(&events);
        assert_eq!(
            out[1]["timestamp"],
            json!(2),
            "a wall clock compares to the second"
        );
        assert_eq!(
            out[0]["executionStartedEventDetails"]["input"],
            json!({"a": 1})
        );
        assert_eq!(
            out[0]["executionStartedEventDetails"]["roleArn"],
            json!("arn:aws:iam::<account>:role/R")
        );
        let masked = n.mask_events(&out, Level::Details);
        assert_eq!(
            masked[1]["executionFailedEventDetails"]["cause"],
            json!("<cause>")
        );
    }
}
