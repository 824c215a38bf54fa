//! Path fields and JSONPath payload templates.
//!
//! - `InputPath`, `OutputPath`: any JSONPath (`$`, `$$` or `$variable` root), or null.
//! - `ResultPath`: a reference path into the state input, or null.
//! - `ItemsPath`, `SecondsPath`, `TimestampPath`, `TimeoutSecondsPath`, `HeartbeatSecondsPath`,
//!   `MaxConcurrencyPath`, `ToleratedFailure*Path`, Choice `Variable` and `*Path` comparisons:
//!   reference paths (Developer Guide, "Reference Paths").
//! - `ErrorPath`, `CausePath`: a reference path or an intrinsic function call.
//! - In `Parameters`, `ResultSelector`, `ItemSelector`, `Assign` (JSONPath states): a key ending in
//!   `.$` holds a JSONPath or an intrinsic call (`States.…`, checked by the intrinsics module).

use super::ctx::{loc, msg, Ctx};
use super::json;
use crate::diagnostics::DiagnosticCode;
use crate::jsonpath::{JsonPath, PathRoot};
use serde_json::Value;

/// A JSONPath field (`InputPath`, `OutputPath`).
pub(super) fn json_path(cx: &mut Ctx, v: &Value, at: &str, nullable: bool) {
    match v {
        Value::Null if nullable => {}
        Value::String(s) => {
            if JsonPath::parse(s).is_err() {
                cx.error(DiagnosticCode::InvalidJsonPath, at, msg::INVALID_JSON_PATH);
            }
        }
        _ => cx.schema(at, msg::expected("STRING")),
    }
}

/// Where a reference path may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Roots {
    /// `$`, `$$` or a variable.
    Any,
    /// Only the state input `$` (ResultPath writes into it).
    InputOnly,
}

/// A reference-path field.
pub(super) fn reference_path(cx: &mut Ctx, v: &Value, at: &str, nullable: bool, roots: Roots) {
    match v {
        Value::Null if nullable => {}
        Value::String(s) => {
            if let Some(reason) = reference_path_fault(s, roots) {
                cx.error(
                    DiagnosticCode::InvalidJsonPath,
                    at,
                    msg::not_reference_path(&reason),
                );
            }
        }
        _ => cx.schema(at, msg::expected("STRING")),
    }
}

/// Why `s` is not a reference path, or `None` when it is one.
pub(super) fn reference_path_fault(s: &str, roots: Roots) -> Option<String> {
    if !s.starts_with('$') {
        // Measured wording (cfn-lint issue 4076).
        return Some("Reference path didn't start with '$'".to_string());
    }
    let path = match JsonPath::parse(s) {
        Ok(p) => p,
        Err(e) => return Some(e.reason),
    };
    if !path.is_reference() {
        // Assumption: our wording. AWS's reference paths allow only names and single indexes.
        return Some(
            "Only field names and single array indexes are allowed in a reference path".to_string(),
        );
    }
    if roots == Roots::InputOnly && *path.root() != PathRoot::Input {
        // Assumption: our wording. ResultPath writes into the state input, so `$$` (the
        // context object) and `$variable` roots cannot be used there.
        return Some("Reference path must start from the state input '$'".to_string());
    }
    None
}

/// `ErrorPath` / `CausePath`: a reference path, or an intrinsic function (checked elsewhere).
pub(super) fn error_path(cx: &mut Ctx, v: &Value, at: &str) {
    match v {
        Value::String(s) if s.starts_with("States.") => {}
        Value::String(_) => reference_path(cx, v, at, false, Roots::Any),
        // Measured: a non-string ErrorPath is "Expected value of type [STRING]" at the field.
        _ => cx.schema(at, msg::expected("STRING")),
    }
}

/// A JSONPath payload template (`Parameters`, `ResultSelector`, `ItemSelector`, `Assign`, the
/// `Parameters` of an ItemReader or ResultWriter): every `.$` key, at any depth, must hold a
/// valid path or an intrinsic call. `at` is the location of `v`.
pub(super) fn payload_template(cx: &mut Ctx, v: &Value, at: &str) {
    match v {
        Value::Object(m) => {
            for (k, x) in json::entries(m) {
                if k.ends_with(".$") {
                    let ok = match x {
                        Value::String(s) => s.starts_with("States.") || JsonPath::parse(s).is_ok(),
                        _ => false,
                    };
                    if !ok {
                        // Measured: located at the object that holds the key.
                        cx.error(DiagnosticCode::InvalidJsonPath, at, msg::payload_path(k));
                    }
                } else {
                    if let Value::String(s) = x {
                        if looks_like_path_or_intrinsic(s) {
                            // Assumption: located like the `.$` error, at the holding object.
                            cx.warning(
                                DiagnosticCode::NoDollar,
                                at,
                                format!(
                                    "No .$ on the field '{k}' that appears to be a JSONPath or Intrinsic Function"
                                ),
                            );
                        }
                    }
                    payload_template(cx, x, &loc::field(at, k));
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                payload_template(cx, x, &loc::index(at, i));
            }
        }
        _ => {}
    }
}

/// A payload template that must be an object.
pub(super) fn payload_object(cx: &mut Ctx, v: &Value, at: &str) {
    if cx.object(v, at).is_some() {
        payload_template(cx, v, at);
    }
}

/// What NO_DOLLAR warns about: a plain value that reads like `$.x`, `$$.x` or `States.F(...)`.
fn looks_like_path_or_intrinsic(s: &str) -> bool {
    s == "$"
        || s.starts_with("$.")
        || s.starts_with("$[")
        || s.starts_with("$$")
        || (s.starts_with("States.") && s.contains('(') && s.ends_with(')'))
}

/// True when a Pass state's `Result` tries to use a path: a `.$` key at any depth, or a string
/// that is a path (PASS_RESULT_IS_STATIC).
pub(super) fn result_uses_path(v: &Value) -> bool {
    match v {
        Value::String(s) => s == "$" || s.starts_with("$.") || s.starts_with("$$."),
        Value::Object(m) => json::entries(m).any(|(k, x)| k.ends_with(".$") || result_uses_path(x)),
        Value::Array(a) => a.iter().any(result_uses_path),
        _ => false,
    }
}
