//! Retriers and catchers.
//!
//! Retrier fields and ranges (Developer Guide, "Handling errors"): `ErrorEquals` (required,
//! non-empty), `IntervalSeconds` 1..=99999999, `MaxAttempts` 0..=99999999, `BackoffRate` >= 1.0,
//! `MaxDelaySeconds` 1..=31622400 (less than 31622401), `JitterStrategy` FULL or NONE.
//! `States.ALL` must appear alone in its `ErrorEquals` and in the last retrier or catcher.

use super::ctx::{loc, msg, Ctx};
use super::json;
use super::paths::{self, Roots};
use super::states::{other_language, MAX_SECONDS};
use serde_json::Value;

const MAX_DELAY_SECONDS: i64 = 31_622_400;

/// A state's `Retry`.
pub(super) fn retriers(cx: &mut Ctx, v: &Value, at: &str) {
    let Some(list) = cx.array(v, at) else {
        return;
    };
    let n = list.len();
    for (i, r) in list.iter().enumerate() {
        let rat = loc::index(at, i);
        let Some(obj) = cx.object(r, &rat) else {
            continue;
        };
        for (k, x) in json::entries(obj) {
            let fat = loc::field(&rat, k);
            match k {
                "ErrorEquals" => error_equals(cx, x, &fat, i + 1 == n),
                "IntervalSeconds" => cx.integer(x, &fat, 1, Some(MAX_SECONDS)),
                "MaxAttempts" => cx.integer(x, &fat, 0, Some(MAX_SECONDS)),
                "BackoffRate" => cx.number(x, &fat, (1.0, "1.0"), None),
                "MaxDelaySeconds" => cx.integer(x, &fat, 1, Some(MAX_DELAY_SECONDS)),
                // Reported (cdk-preflight): "Value should be one of the following: [NONE, FULL]".
                "JitterStrategy" => {
                    cx.enumeration(x, &fat, &["NONE", "FULL"]);
                }
                "Comment" => {
                    cx.string(x, &fat);
                }
                _ => cx.schema(&rat, msg::not_supported(k)),
            }
        }
        if !obj.contains_key("ErrorEquals") {
            cx.schema(rat, msg::required(&["ErrorEquals"]));
        }
    }
}

/// A state's `Catch`.
pub(super) fn catchers(cx: &mut Ctx, v: &Value, at: &str, jsonata: bool) {
    let Some(list) = cx.array(v, at) else {
        return;
    };
    let n = list.len();
    for (i, c) in list.iter().enumerate() {
        let cat = loc::index(at, i);
        let Some(obj) = cx.object(c, &cat) else {
            continue;
        };
        for (k, x) in json::entries(obj) {
            let fat = loc::field(&cat, k);
            match k {
                "ResultPath" | "Output" if other_language(k, jsonata) => {
                    cx.schema(&cat, msg::language_mismatch(jsonata, k));
                }
                "ErrorEquals" => error_equals(cx, x, &fat, i + 1 == n),
                "Next" => {
                    cx.nonempty_string("Next", x, &fat);
                }
                "ResultPath" => paths::reference_path(cx, x, &fat, true, Roots::InputOnly),
                "Output" => {}
                "Assign" => {
                    cx.variable_names(x, &fat, jsonata);
                    if cx.object(x, &fat).is_some() && !jsonata {
                        paths::payload_template(cx, x, &fat);
                    }
                }
                "Comment" => {
                    cx.string(x, &fat);
                }
                // Measured: "Field '_comment' is not supported" at .../Catch[0].
                _ => cx.schema(&cat, msg::not_supported(k)),
            }
        }
        let missing: Vec<&str> = ["ErrorEquals", "Next"]
            .into_iter()
            .filter(|k| !obj.contains_key(*k))
            .collect();
        if !missing.is_empty() {
            cx.schema(cat, msg::required(&missing));
        }
    }
}

/// `ErrorEquals`: a non-empty array of strings; `States.ALL` alone and in the last entry.
fn error_equals(cx: &mut Ctx, v: &Value, at: &str, last: bool) {
    let Some(names) = cx.nonempty_array(v, at) else {
        return;
    };
    let mut all = false;
    for (i, name) in names.iter().enumerate() {
        match name {
            Value::String(s) => all |= s == "States.ALL",
            _ => cx.schema(loc::index(at, i), msg::expected("STRING")),
        }
    }
    if all && (names.len() > 1 || !last) {
        cx.schema(at, msg::STATES_ALL);
    }
}
