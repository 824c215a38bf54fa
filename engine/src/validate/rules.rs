//! Choice rules, at the level of their fields: which operator a rule uses, `Next` placement,
//! operand types and paths. Evaluating rules is the choice module's business.

use super::ctx::{loc, msg, Ctx};
use super::json;
use super::paths::{self, Roots};
use crate::diagnostics::DiagnosticCode;
use serde_json::{Map, Value};

/// The comparison operators of JSONPath Choice rules (Developer Guide, Choice state).
pub(super) const COMPARISONS: [&str; 39] = [
    "BooleanEquals",
    "BooleanEqualsPath",
    "IsBoolean",
    "IsNull",
    "IsNumeric",
    "IsPresent",
    "IsString",
    "IsTimestamp",
    "NumericEquals",
    "NumericEqualsPath",
    "NumericGreaterThan",
    "NumericGreaterThanPath",
    "NumericGreaterThanEquals",
    "NumericGreaterThanEqualsPath",
    "NumericLessThan",
    "NumericLessThanPath",
    "NumericLessThanEquals",
    "NumericLessThanEqualsPath",
    "StringEquals",
    "StringEqualsPath",
    "StringGreaterThan",
    "StringGreaterThanPath",
    "StringGreaterThanEquals",
    "StringGreaterThanEqualsPath",
    "StringLessThan",
    "StringLessThanPath",
    "StringLessThanEquals",
    "StringLessThanEqualsPath",
    "StringMatches",
    "TimestampEquals",
    "TimestampEqualsPath",
    "TimestampGreaterThan",
    "TimestampGreaterThanPath",
    "TimestampGreaterThanEquals",
    "TimestampGreaterThanEqualsPath",
    "TimestampLessThan",
    "TimestampLessThanPath",
    "TimestampLessThanEquals",
    "TimestampLessThanEqualsPath",
];

/// Reported (cdk-preflight): a rule must use exactly one of these.
const SELECTORS_MESSAGE: &str =
    "The object must have only one of the following fields, [And, Or, Not, Variable, Condition]";

/// A Choice state's `Choices`; `at` is its location.
pub(super) fn choices(cx: &mut Ctx, v: &Value, at: &str, jsonata: bool) {
    let Some(rules) = cx.nonempty_array(v, at) else {
        return;
    };
    for (i, r) in rules.iter().enumerate() {
        let rat = loc::index(at, i);
        let Some(obj) = cx.object(r, &rat) else {
            continue;
        };
        // Reported (cdk-preflight): "These fields are required: [Next]" at the rule.
        if !obj.contains_key("Next") {
            cx.schema(rat.clone(), msg::required(&["Next"]));
        }
        if jsonata {
            jsonata_rule(cx, obj, &rat);
        } else {
            jsonpath_rule(cx, obj, &rat, true);
        }
    }
}

/// A JSONata rule: `Condition` (required), `Next`, `Output`, `Assign`, `Comment`.
fn jsonata_rule(cx: &mut Ctx, obj: &Map<String, Value>, at: &str) {
    for (k, v) in json::entries(obj) {
        let fat = loc::field(at, k);
        match k {
            "Condition" => {
                if !v.is_string() && !v.is_boolean() {
                    cx.schema(fat, msg::expected("STRING"));
                }
            }
            "Next" => {
                cx.nonempty_string("Next", v, &fat);
            }
            "Output" => {}
            "Assign" => {
                cx.variable_names(v, &fat, true);
                cx.object(v, &fat);
            }
            "Comment" => {
                cx.string(v, &fat);
            }
            "Variable" | "And" | "Or" | "Not" => cx.schema(at, msg::language_mismatch(true, k)),
            _ if COMPARISONS.contains(&k) => cx.schema(at, msg::language_mismatch(true, k)),
            _ => cx.schema(at, msg::not_supported(k)),
        }
    }
    if !obj.contains_key("Condition") {
        cx.schema(at, msg::required(&["Condition"]));
    }
}

/// A JSONPath rule: exactly one of And / Or / Not / Variable, a Variable with exactly one
/// comparison, `Next` only at the top.
fn jsonpath_rule(cx: &mut Ctx, obj: &Map<String, Value>, at: &str, top: bool) {
    let mut selectors = 0;
    let mut comparisons: Vec<&str> = Vec::new();
    for (k, v) in json::entries(obj) {
        let fat = loc::field(at, k);
        match k {
            "Next" if top => {
                cx.nonempty_string("Next", v, &fat);
            }
            "Assign" if top => {
                cx.variable_names(v, &fat, false);
                if cx.object(v, &fat).is_some() {
                    paths::payload_template(cx, v, &fat);
                }
            }
            "Comment" => {
                cx.string(v, &fat);
            }
            "Variable" => {
                selectors += 1;
                // Measured: "Value is not a Reference Path: ..." at .../Choices[0]/Variable.
                paths::reference_path(cx, v, &fat, false, Roots::Any);
            }
            "And" | "Or" => {
                selectors += 1;
                if let Some(items) = cx.nonempty_array(v, &fat) {
                    for (i, item) in items.iter().enumerate() {
                        let iat = loc::index(&fat, i);
                        if let Some(m) = cx.object(item, &iat) {
                            jsonpath_rule(cx, m, &iat, false);
                        }
                    }
                }
            }
            "Not" => {
                selectors += 1;
                if let Some(m) = cx.object(v, &fat) {
                    jsonpath_rule(cx, m, &fat, false);
                }
            }
            "Condition" => cx.schema(at, msg::language_mismatch(false, k)),
            "Output" if top => cx.schema(at, msg::language_mismatch(false, k)),
            _ if COMPARISONS.contains(&k) => {
                comparisons.push(k);
                operand(cx, k, v, &fat);
            }
            // Reported: "Field 'Next' is not supported" for a Next inside And / Or / Not.
            _ => cx.schema(at, msg::not_supported(k)),
        }
    }
    let has_variable = obj.contains_key("Variable");
    if (selectors == 0 && comparisons.is_empty()) || selectors > 1 {
        // No operator at all, or two of And / Or / Not / Variable.
        cx.schema(at, SELECTORS_MESSAGE);
    }
    if !has_variable && !comparisons.is_empty() {
        if selectors == 0 {
            cx.schema(at, msg::required(&["Variable"]));
        } else {
            for c in &comparisons {
                cx.schema(at, msg::not_supported(c));
            }
        }
    }
    if has_variable && selectors == 1 {
        // Assumption: the none/several wordings of the Next/End pair, over the operator list.
        match comparisons.len() {
            0 => cx.schema(at, msg::only_one_missing(&COMPARISONS)),
            1 => {}
            _ => cx.error(
                DiagnosticCode::MutuallyExclusiveFields,
                at,
                msg::only_one_present(&COMPARISONS),
            ),
        }
    }
}

/// The operand of a comparison operator.
fn operand(cx: &mut Ctx, op: &str, v: &Value, at: &str) {
    if op.ends_with("Path") {
        paths::reference_path(cx, v, at, false, Roots::Any);
    } else if op.starts_with("String") {
        cx.string(v, at);
    } else if op.starts_with("Numeric") {
        if !v.is_number() {
            cx.schema(at, msg::expected("NUMBER"));
        }
    } else if op.starts_with("Timestamp") {
        cx.timestamp(v, at, false);
    } else {
        // BooleanEquals and the Is* tests.
        cx.boolean(v, at);
    }
}
