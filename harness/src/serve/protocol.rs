//! The awsJson1_0 wire protocol of the Step Functions API: reading request fields with the
//! errors AWS gives for bad ones, error bodies, timestamps and page tokens.
//!
//! AWS answers an error with HTTP 400 and `{"__type": "<namespace>#<Code>", "message": ...}`.
//! The namespace is not the same for every error: the service's own exceptions use
//! `com.amazonaws.swf.service.v2.model`, the model-constraint violations
//! (`ValidationException`) `com.amazon.coral.validate`, and what the request layer refuses
//! before the service sees it (`SerializationException`, `UnknownOperationException`)
//! `com.amazon.coral.service`. The SDKs (botocore, aws-sdk-rust, the JavaScript SDK) keep
//! only what follows `#`, so every form parses as the bare code.

use engine::Timestamp;
use serde_json::{json, Map, Value};

/// An API error as the client receives it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// The bare error code (`StateMachineDoesNotExist`, `ValidationException`, ...).
    pub code: String,
    /// The message.
    pub message: String,
}

impl ApiError {
    /// An error with `code` and `message`.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            code: code.into(),
            message: message.into(),
        }
    }

    /// A `ValidationException`.
    pub fn validation(message: impl Into<String>) -> Self {
        ApiError::new("ValidationException", message)
    }

    /// A `SerializationException`: the body is not the JSON the operation reads.
    pub fn serialization(message: impl Into<String>) -> Self {
        ApiError::new("SerializationException", message)
    }

    /// The HTTP status AWS uses for the code: 400 for everything a client did wrong; the
    /// few errors of the service's own making are 500.
    pub fn status(&self) -> u16 {
        match self.code.as_str() {
            "InternalFailure" | "ServiceUnavailable" => 500,
            _ => 400,
        }
    }

    /// The `__type` AWS writes for the code.
    pub fn wire_type(&self) -> String {
        let namespace = match self.code.as_str() {
            "ValidationException" => "com.amazon.coral.validate",
            "SerializationException"
            | "UnknownOperationException"
            | "InternalFailure"
            | "MissingAuthenticationTokenException" => "com.amazon.coral.service",
            _ => "com.amazonaws.swf.service.v2.model",
        };
        format!("{namespace}#{}", self.code)
    }

    /// The response body.
    pub fn body(&self) -> Value {
        json!({"__type": self.wire_type(), "message": self.message})
    }
}

impl From<engine::ServiceError> for ApiError {
    fn from(e: engine::ServiceError) -> Self {
        ApiError::new(e.code, e.message)
    }
}

/// A timestamp as awsJson1_0 writes it: epoch seconds, milliseconds as the fraction.
pub fn epoch(t: Timestamp) -> Value {
    json!(t.epoch_seconds())
}

/// The fields of a request body, with readers that answer AWS's errors for a field that is
/// missing or of the wrong type.
#[derive(Debug)]
pub struct Fields(pub Map<String, Value>);

impl Fields {
    /// The body parsed: it must be a JSON object (an empty body counts as `{}`, as the SDKs
    /// send it for operations without input).
    pub fn parse(body: &[u8]) -> Result<Fields, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Fields(Map::new()));
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => Ok(Fields(m)),
            Ok(_) => Err(ApiError::serialization(
                "The request body must be a JSON object",
            )),
            Err(e) => Err(ApiError::serialization(format!(
                "The request body is not valid JSON: {e}"
            ))),
        }
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A string field, if present.
    pub fn opt_str(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(wrong_type(name, "a string")),
        }
    }

    /// A required string field.
    pub fn str(&self, name: &str) -> Result<String, ApiError> {
        self.opt_str(name)?.ok_or_else(|| missing(name))
    }

    /// A boolean field, if present.
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(wrong_type(name, "a boolean")),
        }
    }

    /// An integer field within `min..=max`, if present.
    pub fn opt_int(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => {
                let Some(n) = v.as_i64() else {
                    return Err(wrong_type(name, "an integer"));
                };
                if n < min || n > max {
                    let bound = if n < min {
                        format!("greater than or equal to {min}")
                    } else {
                        format!("less than or equal to {max}")
                    };
                    return Err(ApiError::validation(format!(
                        "1 validation error detected: Value '{n}' at '{name}' failed to satisfy constraint: Member must have value {bound}"
                    )));
                }
                Ok(Some(n))
            }
        }
    }

    /// An object field, if present.
    pub fn opt_object(&self, name: &str) -> Result<Option<Fields>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(Fields(m.clone()))),
            Some(_) => Err(wrong_type(name, "an object")),
        }
    }

    /// A list field, if present.
    pub fn opt_list(&self, name: &str) -> Result<Option<Vec<Value>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a.clone())),
            Some(_) => Err(wrong_type(name, "a list")),
        }
    }

    /// A string field that must be one of `allowed`, if present.
    pub fn opt_enum(&self, name: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
        let Some(v) = self.opt_str(name)? else {
            return Ok(None);
        };
        if allowed.contains(&v.as_str()) {
            Ok(Some(v))
        } else {
            Err(ApiError::validation(format!(
                "1 validation error detected: Value '{v}' at '{name}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            )))
        }
    }
}

/// AWS's message for a required member that is missing (coral's validation wording).
fn missing(name: &str) -> ApiError {
    ApiError::validation(format!(
        "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
    ))
}

fn wrong_type(name: &str, what: &str) -> ApiError {
    ApiError::serialization(format!("'{name}' must be {what}"))
}

/// Page tokens: opaque to clients, `<kind>:<offset>` here. A token from another listing, or
/// one that is not ours, is `InvalidToken`, as AWS answers for a token it did not issue.
pub fn next_token(kind: &str, offset: usize) -> String {
    format!("stepcheck-{kind}-{offset}")
}

/// The offset a `nextToken` stands for.
pub fn page_offset(kind: &str, token: Option<&str>) -> Result<usize, ApiError> {
    let Some(token) = token else { return Ok(0) };
    token
        .strip_prefix(&format!("stepcheck-{kind}-"))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| ApiError::new("InvalidToken", format!("Invalid Token: '{token}'")))
}

/// One page of `items` from `offset`: `maxResults` 0 or absent means AWS's default of 100
/// (1000 for GetExecutionHistory, given as `default`). Returns the page and the next token.
pub fn page<T: Clone>(
    items: &[T],
    kind: &str,
    offset: usize,
    max_results: Option<i64>,
    default: usize,
) -> (Vec<T>, Option<String>) {
    let size = match max_results {
        Some(n) if n > 0 => n as usize,
        _ => default,
    };
    let start = offset.min(items.len());
    let end = start.saturating_add(size).min(items.len());
    let next = (end < items.len()).then(|| next_token(kind, end));
    (items[start..end].to_vec(), next)
}
