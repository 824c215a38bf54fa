//! Choice rules (JSONPath mode): parsing from the definition and evaluation.
//!
//! A Choice rule is a boolean expression (`And`, `Or`, `Not`) or a data-test expression (a
//! `Variable` path and exactly one comparison operator). Rules are parsed once, when the
//! definition is loaded ([`Rule::from_value`]), and evaluated against a [`Scope`] every time the
//! Choice state runs ([`Rule::evaluate`]).
//!
//! Sources for the behaviour implemented here:
//!
//! - Amazon States Language specification, "JSONPath Choice Rules" / "Data-test expression":
//!   the operator list, `StringMatches` escapes, "if the values are not both of the appropriate
//!   type the comparison will return false", `IsPresent` never fails on a missing path, `And` /
//!   `Or` stop as soon as the result is known, timestamps are the RFC 3339 profile with an
//!   uppercase `T` and an uppercase `Z`.
//! - AWS Step Functions Developer Guide, "Choice workflow state": string comparisons behave like
//!   Java's `String.compareTo` (UTF-16 code units); `Variable` and `...Path` values must be
//!   reference paths.
//! - Recorded AWS executions (conformance cases `test_assign_in_choice_state`,
//!   `test_choice_*`): a `NumericEquals` on a string is simply false (no error); singleton
//!   `And` is valid; `Comment` is accepted inside nested rules.
//! - AWS failure causes seen in production logs: a `Variable` that selects nothing fails the
//!   execution with `States.Runtime` and the detail
//!   `Invalid path '$.x': The choice state's condition path references an invalid value.`
//! - AWS CreateStateMachine errors: `SCHEMA_VALIDATION_FAILED: Value is not a Reference Path:
//!   Reference path didn't start with '$'` for a bad `Variable`.
//!
//! Where AWS is silent, the assumption is written next to the code and pinned by a unit test.

use crate::clock::Timestamp;
use crate::diagnostics::{Diagnostic, DiagnosticCode};
use crate::jsonpath::JsonPath;
use crate::scope::Scope;
use serde_json::{Number, Value};
use std::borrow::Cow;
use std::cmp::Ordering;

/// A parsed Choice rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Rule {
    /// True when every rule is true; evaluation stops at the first false one.
    And(Vec<Rule>),
    /// True when any rule is true; evaluation stops at the first true one.
    Or(Vec<Rule>),
    /// The inverse of the inner rule.
    Not(Box<Rule>),
    /// A data-test expression: the value at `variable` tested by `comparison`.
    Compare {
        /// The `Variable` path (a reference path; `$`, `$$` or `$name` root).
        variable: JsonPath,
        /// The operator and its operand.
        comparison: Comparison,
    },
}

/// How a comparison orders its two values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    /// `...Equals`
    Equals,
    /// `...LessThan`
    LessThan,
    /// `...GreaterThan`
    GreaterThan,
    /// `...LessThanEquals`
    LessThanEquals,
    /// `...GreaterThanEquals`
    GreaterThanEquals,
}

impl CmpOp {
    fn holds(self, ord: Ordering) -> bool {
        match self {
            CmpOp::Equals => ord == Ordering::Equal,
            CmpOp::LessThan => ord == Ordering::Less,
            CmpOp::GreaterThan => ord == Ordering::Greater,
            CmpOp::LessThanEquals => ord != Ordering::Greater,
            CmpOp::GreaterThanEquals => ord != Ordering::Less,
        }
    }
}

/// The right-hand side of a comparison: a literal from the definition or a path (the `...Path`
/// operators) evaluated at run time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    /// A literal of the operator's type (checked when the definition is loaded).
    Literal(Value),
    /// A reference path evaluated against the scope when the rule is evaluated.
    Path(JsonPath),
}

/// A data-test operator with its operand.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Comparison {
    /// `StringEquals`, `StringLessThan`, ... and their `...Path` forms.
    String { op: CmpOp, operand: Operand },
    /// `NumericEquals`, `NumericLessThan`, ... and their `...Path` forms.
    Numeric { op: CmpOp, operand: Operand },
    /// `BooleanEquals` / `BooleanEqualsPath`.
    Boolean { operand: Operand },
    /// `TimestampEquals`, `TimestampLessThan`, ... and their `...Path` forms.
    Timestamp { op: CmpOp, operand: Operand },
    /// `StringMatches` with its compiled pattern.
    StringMatches(Pattern),
    /// `IsNull`: the value is JSON `null`.
    IsNull(bool),
    /// `IsPresent`: the `Variable` path selects something.
    IsPresent(bool),
    /// `IsNumeric`: the value is a JSON number.
    IsNumeric(bool),
    /// `IsString`: the value is a JSON string.
    IsString(bool),
    /// `IsBoolean`: the value is `true` or `false`.
    IsBoolean(bool),
    /// `IsTimestamp`: the value is a string holding a valid timestamp.
    IsTimestamp(bool),
}

/// A failure while evaluating a rule. `error` is AWS's error name; `message` is the detail that
/// follows "An error occurred while executing the state 'S' (entered at the event id #N). ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {message}")]
pub(crate) struct RuleError {
    /// The error name, such as `States.Runtime`.
    pub error: String,
    /// The detail text.
    pub message: String,
}

impl RuleError {
    fn runtime(message: String) -> Self {
        RuleError {
            error: "States.Runtime".to_string(),
            message,
        }
    }

    /// The failure AWS reports when a path in a Choice rule selects nothing.
    fn invalid_path(path: &JsonPath) -> Self {
        RuleError::runtime(format!(
            "Invalid path '{path}': The choice state's condition path references an invalid value."
        ))
    }
}

/// Every data-test operator, in the order the States Language specification lists them. The
/// order is also the one used in the "only one of the following fields" diagnostic.
const OPERATORS: [&str; 39] = [
    "StringEquals",
    "StringEqualsPath",
    "StringLessThan",
    "StringLessThanPath",
    "StringGreaterThan",
    "StringGreaterThanPath",
    "StringLessThanEquals",
    "StringLessThanEqualsPath",
    "StringGreaterThanEquals",
    "StringGreaterThanEqualsPath",
    "StringMatches",
    "NumericEquals",
    "NumericEqualsPath",
    "NumericLessThan",
    "NumericLessThanPath",
    "NumericGreaterThan",
    "NumericGreaterThanPath",
    "NumericLessThanEquals",
    "NumericLessThanEqualsPath",
    "NumericGreaterThanEquals",
    "NumericGreaterThanEqualsPath",
    "BooleanEquals",
    "BooleanEqualsPath",
    "TimestampEquals",
    "TimestampEqualsPath",
    "TimestampLessThan",
    "TimestampLessThanPath",
    "TimestampGreaterThan",
    "TimestampGreaterThanPath",
    "TimestampLessThanEquals",
    "TimestampLessThanEqualsPath",
    "TimestampGreaterThanEquals",
    "TimestampGreaterThanEqualsPath",
    "IsNull",
    "IsPresent",
    "IsNumeric",
    "IsString",
    "IsBoolean",
    "IsTimestamp",
];

/// The fields that decide what kind of rule an object is. `Condition` is the JSONata form; it
/// is listed because AWS lists it in the same diagnostic.
const SELECTORS: [&str; 5] = ["And", "Or", "Not", "Variable", "Condition"];

/// Fields of a top-level Choice rule that the Choice state itself handles.
const TOP_LEVEL_ONLY: [&str; 3] = ["Next", "Assign", "Output"];

impl Rule {
    /// Parses one rule object. At the top level of `Choices` the caller handles `Next`,
    /// `Assign`, `Output` and `Comment`; they are ignored here. `location` is a JSON pointer
    /// such as `/States/MyChoice/Choices/0`; nested rules are reported at `.../And/0`,
    /// `.../Not` and so on. Every problem in the rule is returned, not just the first.
    pub fn from_value(v: &Value, location: &str) -> Result<Rule, Vec<Diagnostic>> {
        let mut diags = Vec::new();
        let rule = parse_rule(v, location, true, &mut diags);
        match rule {
            Some(rule) if diags.is_empty() => Ok(rule),
            _ => Err(diags),
        }
    }

    /// Evaluates the rule. A `Variable` (or a `...Path` operand) that selects nothing fails
    /// with `States.Runtime`, except under `IsPresent`. Values of the wrong type make the
    /// comparison false.
    pub fn evaluate(&self, scope: &Scope<'_>) -> Result<bool, RuleError> {
        // Paths are read in place (`resolve_cow`): a comparison only reads its operands.
        match self {
            Rule::And(rules) => {
                for r in rules {
                    if !r.evaluate(scope)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Rule::Or(rules) => {
                for r in rules {
                    if r.evaluate(scope)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Rule::Not(rule) => Ok(!rule.evaluate(scope)?),
            Rule::Compare {
                variable,
                comparison,
            } => {
                let value = scope.resolve_cow(variable);
                if let Comparison::IsPresent(expected) = comparison {
                    return Ok(value.is_some() == *expected);
                }
                let Some(value) = value else {
                    return Err(RuleError::invalid_path(variable));
                };
                comparison.test(&value, scope)
            }
        }
    }
}

impl Comparison {
    fn test(&self, value: &Value, scope: &Scope<'_>) -> Result<bool, RuleError> {
        Ok(match self {
            Comparison::String { op, operand } => {
                let rhs = operand.resolve(scope)?;
                match (value, rhs.as_ref()) {
                    (Value::String(a), Value::String(b)) => op.holds(java_string_cmp(a, b)),
                    _ => false,
                }
            }
            Comparison::Numeric { op, operand } => {
                let rhs = operand.resolve(scope)?;
                match (value, rhs.as_ref()) {
                    (Value::Number(a), Value::Number(b)) => {
                        compare_numbers(a, b).is_some_and(|o| op.holds(o))
                    }
                    _ => false,
                }
            }
            Comparison::Boolean { operand } => {
                let rhs = operand.resolve(scope)?;
                match (value, rhs.as_ref()) {
                    (Value::Bool(a), Value::Bool(b)) => a == b,
                    _ => false,
                }
            }
            Comparison::Timestamp { op, operand } => {
                let rhs = operand.resolve(scope)?;
                match (value_timestamp(value), value_timestamp(&rhs)) {
                    (Some(a), Some(b)) => op.holds(a.cmp(&b)),
                    _ => false,
                }
            }
            Comparison::StringMatches(pattern) => {
                if pattern.open_escape {
                    // The specification: "If an open escape backslash \ is found in the
                    // StringMatches string, the interpreter will throw a runtime error."
                    // ASSUMPTION: the error name is States.Runtime (the name AWS uses for every
                    // other Choice evaluation failure); the detail text is ours, AWS's is not
                    // published.
                    return Err(RuleError::runtime(format!(
                        "The StringMatches pattern '{}' ends with an open escape character '\\'.",
                        pattern.source
                    )));
                }
                match value {
                    Value::String(s) => pattern.matches(s),
                    _ => false,
                }
            }
            Comparison::IsNull(expected) => value.is_null() == *expected,
            Comparison::IsNumeric(expected) => value.is_number() == *expected,
            Comparison::IsString(expected) => value.is_string() == *expected,
            Comparison::IsBoolean(expected) => value.is_boolean() == *expected,
            Comparison::IsTimestamp(expected) => value_timestamp(value).is_some() == *expected,
            // Handled by `Rule::evaluate` before the variable is required to exist.
            Comparison::IsPresent(expected) => *expected,
        })
    }
}

impl Operand {
    /// The operand's value. A path that selects nothing fails like a missing `Variable`.
    // ASSUMPTION: AWS does not document the failure for a `...Path` operand that selects
    // nothing; it is reported exactly like a missing Variable, naming the operand's path (the
    // behaviour third-party emulators record for AWS).
    fn resolve<'a>(&'a self, scope: &Scope<'a>) -> Result<Cow<'a, Value>, RuleError> {
        match self {
            Operand::Literal(v) => Ok(Cow::Borrowed(v)),
            Operand::Path(p) => scope
                .resolve_cow(p)
                .ok_or_else(|| RuleError::invalid_path(p)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// `location` plus one JSON-pointer token (escaped as RFC 6901 says).
fn child(location: &str, token: &str) -> String {
    format!("{location}/{}", token.replace('~', "~0").replace('/', "~1"))
}

fn schema_error(location: String, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(DiagnosticCode::SchemaValidationFailed, location, message)
}

// ASSUMPTION: AWS's wording for a field of the wrong JSON type is not published; this wording
// is ours (code SCHEMA_VALIDATION_FAILED, location of the field).
fn type_error(location: String, expected: &str) -> Diagnostic {
    schema_error(location, format!("Expected value of type: {expected}"))
}

// "Field 'X' is not supported": AWS's wording for a field a state does not accept, as quoted
// by third-party validators checked against AWS (floci issue #2735, cdk-preflight rules). Its use
// for fields of a Choice rule (nested `Next` included) comes from the same cdk-preflight rules.
fn unsupported(location: &str, field: &str) -> Diagnostic {
    schema_error(
        child(location, field),
        format!("Field '{field}' is not supported"),
    )
}

fn parse_rule(
    v: &Value,
    location: &str,
    top_level: bool,
    diags: &mut Vec<Diagnostic>,
) -> Option<Rule> {
    let Some(obj) = v.as_object() else {
        diags.push(type_error(location.to_string(), "Object"));
        return None;
    };
    let before = diags.len();

    let selectors: Vec<&str> = obj
        .keys()
        .map(String::as_str)
        .filter(|k| SELECTORS.contains(k))
        .collect();
    let operators: Vec<&str> = obj
        .keys()
        .map(String::as_str)
        .filter(|k| OPERATORS.contains(k))
        .collect();
    let has_variable = obj.contains_key("Variable");

    if selectors.len() != 1 {
        // Wording as quoted by cdk-preflight's Choice rules (not verified against AWS here).
        diags.push(schema_error(
            location.to_string(),
            format!(
                "The object must have only one of the following fields, [{}]",
                SELECTORS.join(", ")
            ),
        ));
    }
    if has_variable && operators.len() != 1 {
        // "There should only be one of the following fields: [...]": AWS's wording for other
        // exclusive groups (Wait timing fields, MaxItems/MaxItemsPath), quoted by floci and
        // cdk-preflight; cdk-preflight gives it for Choice operators too. ASSUMPTION: the list names every comparison operator, in the
        // specification's order, and the same message covers "none" and "more than one".
        diags.push(schema_error(
            location.to_string(),
            format!(
                "There should only be one of the following fields: [{}]",
                OPERATORS.join(", ")
            ),
        ));
    }

    let mut rule = None;
    for (key, value) in obj {
        let key = key.as_str();
        match key {
            "And" | "Or" => {
                if let Some(rules) = parse_rule_list(value, &child(location, key), diags) {
                    rule = Some(if key == "And" {
                        Rule::And(rules)
                    } else {
                        Rule::Or(rules)
                    });
                }
            }
            "Not" => {
                if let Some(inner) = parse_rule(value, &child(location, key), false, diags) {
                    rule = Some(Rule::Not(Box::new(inner)));
                }
            }
            // AWS's wording for a JSONata-only field in a JSONPath state (floci issue #2968
            // quotes it for `Output`).
            "Condition" => diags.push(schema_error(
                child(location, key),
                "The QueryLanguage is set to 'JSONPath', but field 'Condition' is only \
                 supported for the 'JSONata' QueryLanguage",
            )),
            "Variable" => {
                let variable = parse_reference_path(value, &child(location, key), diags);
                let comparison = match operators.as_slice() {
                    [op] => parse_comparison(op, &obj[*op], &child(location, op), diags),
                    _ => {
                        // Still check every operand so that all problems are reported.
                        for op in &operators {
                            let _ = parse_comparison(op, &obj[*op], &child(location, op), diags);
                        }
                        None
                    }
                };
                if let (Some(variable), Some(comparison)) = (variable, comparison) {
                    rule = Some(Rule::Compare {
                        variable,
                        comparison,
                    });
                }
            }
            op if OPERATORS.contains(&op) => {
                // An operator belongs to a data-test expression. On an And/Or/Not rule it is a
                // field the rule does not support; on a rule with no selector at all the
                // "only one of" diagnostic above already says what is wrong.
                if !has_variable && !selectors.is_empty() {
                    diags.push(unsupported(location, op));
                }
            }
            "Comment" => {
                if !top_level && !value.is_string() {
                    diags.push(type_error(child(location, key), "String"));
                }
            }
            other if top_level && TOP_LEVEL_ONLY.contains(&other) => {}
            other => diags.push(unsupported(location, other)),
        }
    }

    if diags.len() == before {
        rule
    } else {
        None
    }
}

/// The value of `And` / `Or`: a non-empty array of nested rules.
fn parse_rule_list(v: &Value, location: &str, diags: &mut Vec<Diagnostic>) -> Option<Vec<Rule>> {
    let Some(items) = v.as_array() else {
        diags.push(type_error(location.to_string(), "Array"));
        return None;
    };
    if items.is_empty() {
        // "Value cannot be empty": AWS's wording for an empty Choices array as quoted by
        // cdk-preflight. ASSUMPTION: the same for an empty And / Or.
        diags.push(schema_error(location.to_string(), "Value cannot be empty"));
        return None;
    }
    let mut rules = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        match parse_rule(item, &child(location, &i.to_string()), false, diags) {
            Some(r) => rules.push(r),
            None => ok = false,
        }
    }
    ok.then_some(rules)
}

/// A `Variable` or `...Path` value: a string holding a reference path.
fn parse_reference_path(
    v: &Value,
    location: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<JsonPath> {
    let Some(src) = v.as_str() else {
        diags.push(type_error(location.to_string(), "String"));
        return None;
    };
    // AWS: "Value is not a Reference Path: Reference path didn't start with '$'" with code
    // SCHEMA_VALIDATION_FAILED. ASSUMPTION: other reasons are worded by us; AWS's own parser
    // words them differently (for example "'[' must be followed by ' or '['").
    let reason = if !src.starts_with('$') {
        "Reference path didn't start with '$'".to_string()
    } else {
        match JsonPath::parse(src) {
            Ok(path) if path.is_reference() => return Some(path),
            Ok(_) => "only field names and single array indices are allowed".to_string(),
            Err(e) => e.reason,
        }
    };
    diags.push(schema_error(
        location.to_string(),
        format!("Value is not a Reference Path: {reason}"),
    ));
    None
}

fn parse_comparison(
    name: &str,
    v: &Value,
    location: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Comparison> {
    let type_test = |expected: fn(bool) -> Comparison, diags: &mut Vec<Diagnostic>| match v {
        Value::Bool(b) => Some(expected(*b)),
        _ => {
            diags.push(type_error(location.to_string(), "Boolean"));
            None
        }
    };
    match name {
        "IsNull" => return type_test(Comparison::IsNull, diags),
        "IsPresent" => return type_test(Comparison::IsPresent, diags),
        "IsNumeric" => return type_test(Comparison::IsNumeric, diags),
        "IsString" => return type_test(Comparison::IsString, diags),
        "IsBoolean" => return type_test(Comparison::IsBoolean, diags),
        "IsTimestamp" => return type_test(Comparison::IsTimestamp, diags),
        "StringMatches" => {
            return match v {
                Value::String(s) => Some(Comparison::StringMatches(Pattern::compile(s))),
                _ => {
                    diags.push(type_error(location.to_string(), "String"));
                    None
                }
            }
        }
        _ => {}
    }

    let (base, is_path) = match name.strip_suffix("Path") {
        Some(base) => (base, true),
        None => (name, false),
    };
    let (family, rest) = ["String", "Numeric", "Boolean", "Timestamp"]
        .into_iter()
        .find_map(|f| base.strip_prefix(f).map(|rest| (f, rest)))?;
    let op = match rest {
        "Equals" => CmpOp::Equals,
        "LessThan" => CmpOp::LessThan,
        "GreaterThan" => CmpOp::GreaterThan,
        "LessThanEquals" => CmpOp::LessThanEquals,
        "GreaterThanEquals" => CmpOp::GreaterThanEquals,
        _ => return None,
    };

    let operand = if is_path {
        Operand::Path(parse_reference_path(v, location, diags)?)
    } else {
        let ok = match family {
            "String" => v.is_string(),
            "Numeric" => v.is_number(),
            "Boolean" => v.is_boolean(),
            _ => v.is_string(),
        };
        if !ok {
            let expected = match family {
                "Numeric" => "Number",
                "Boolean" => "Boolean",
                _ => "String",
            };
            diags.push(type_error(location.to_string(), expected));
            return None;
        }
        if family == "Timestamp" && value_timestamp(v).is_none() {
            // ASSUMPTION: AWS rejects a timestamp literal that is not a valid timestamp when
            // the definition is created (the specification says the value MUST be a
            // Timestamp); the wording is ours.
            diags.push(schema_error(
                location.to_string(),
                "Value is not a valid Timestamp",
            ));
            return None;
        }
        Operand::Literal(v.clone())
    };
    Some(match family {
        "String" => Comparison::String { op, operand },
        "Numeric" => Comparison::Numeric { op, operand },
        "Boolean" => Comparison::Boolean { operand },
        _ => Comparison::Timestamp { op, operand },
    })
}

// ---------------------------------------------------------------------------------------------
// Value semantics
// ---------------------------------------------------------------------------------------------

/// Java's `String.compareTo`: lexicographic by UTF-16 code unit. This differs from Rust's
/// `str` ordering (by code point) when a supplementary character (U+10000 and up, encoded as
/// surrogates D800-DFFF) meets a BMP character in U+E000..=U+FFFF.
fn java_string_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Compares two JSON numbers by their exact mathematical values, whether integers or floats.
// ASSUMPTION: AWS compares by numeric value (1 equals 1.0). The specification only promises
// binary64 behaviour; comparing exactly agrees with binary64 everywhere binary64 is exact and
// avoids calling distinct large integers equal.
fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    fn int(n: &Number) -> Option<i128> {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    }
    match (int(a), int(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        (Some(x), None) => cmp_int_float(x, b.as_f64()?),
        (None, Some(y)) => cmp_int_float(y, a.as_f64()?).map(Ordering::reverse),
        (None, None) => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// Exact comparison of an integer with a float.
fn cmp_int_float(i: i128, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // 2^127: beyond it no i128 can be equal or larger.
    const LIMIT: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
    if f >= LIMIT {
        return Some(Ordering::Less);
    }
    if f < -LIMIT {
        return Some(Ordering::Greater);
    }
    let whole = f.trunc();
    // In range and integral, so the conversion is exact.
    let whole_int = whole as i128;
    Some(match i.cmp(&whole_int) {
        Ordering::Equal => {
            let frac = f - whole;
            if frac > 0.0 {
                Ordering::Less
            } else if frac < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
        o => o,
    })
}

/// An instant with nanosecond precision: milliseconds since the epoch (floored, as
/// [`Timestamp`] gives them) and the nanoseconds past that millisecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Instant {
    millis: i64,
    sub_milli_nanos: u32,
}

fn value_timestamp(v: &Value) -> Option<Instant> {
    v.as_str().and_then(parse_timestamp)
}

/// Parses a timestamp as the States Language defines it: the RFC 3339 profile of ISO 8601 with
/// an uppercase `T` and an uppercase `Z` (or a `+hh:mm` / `-hh:mm` offset), for example
/// `2016-03-14T01:59:00Z` or `2016-03-14T02:59:00.123456789+01:00`.
///
/// The grammar is checked here because [`Timestamp::parse_rfc3339`] (chrono) is more lenient:
/// it also takes a lowercase `t` / `z`, a space separator, leap second `60` and any number of
/// fraction digits.
// ASSUMPTIONS (AWS runs on Java's java.time, whose "ISO-8601 extended offset date-time" wording
// appears in AWS's Wait state errors): seconds are required (RFC 3339), the fraction has 1 to
// 9 digits (java.time's nanosecond ceiling; AWS accepts 9 digits in a recorded Wait case),
// second 60 is rejected (java.time has no leap seconds), comparisons are exact to the
// nanosecond (java.time instants), not to the millisecond.
fn parse_timestamp(s: &str) -> Option<Instant> {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        part.iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    digits(0..4)?;
    let seps = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if seps.iter().any(|&(i, c)| b.get(i) != Some(&c)) {
        return None;
    }
    digits(5..7)?;
    digits(8..10)?;
    digits(11..13)?;
    digits(14..16)?;
    if digits(17..19)? > 59 {
        return None;
    }
    let mut pos = 19;
    let mut nanos = 0u32;
    if b.get(pos) == Some(&b'.') {
        let start = pos + 1;
        let mut end = start;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        let n = end - start;
        if !(1..=9).contains(&n) {
            return None;
        }
        nanos = digits(start..end)? * 10u32.pow((9 - n) as u32);
        pos = end;
    }
    match &b[pos..] {
        [b'Z'] => {}
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            if ![h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()) {
                return None;
            }
        }
        _ => return None,
    }
    // Calendar and range checks (month 13, February 30th, offset hours) are chrono's.
    let ts = Timestamp::parse_rfc3339(s)?;
    Some(Instant {
        millis: ts.millis(),
        sub_milli_nanos: nanos % 1_000_000,
    })
}

/// A compiled `StringMatches` pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pattern {
    source: String,
    tokens: Vec<Token>,
    /// The pattern ends with a lone `\`.
    open_escape: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Token {
    Char(char),
    /// `*`: zero or more characters.
    Star,
}

impl Pattern {
    /// Compiles a pattern: `*` matches any run of characters (including none), `\*` is a literal
    /// `*`, `\\` a literal `\`; nothing else is special.
    // ASSUMPTION: a backslash before any other character makes that character literal
    // (`\a` matches `a`); only a backslash at the very end is the "open escape" the
    // specification makes a runtime error. `*` also matches line breaks.
    fn compile(source: &str) -> Pattern {
        let mut tokens = Vec::new();
        let mut chars = source.chars();
        let mut open_escape = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(n) => tokens.push(Token::Char(n)),
                    None => open_escape = true,
                },
                '*' => {
                    if tokens.last() != Some(&Token::Star) {
                        tokens.push(Token::Star);
                    }
                }
                c => tokens.push(Token::Char(c)),
            }
        }
        Pattern {
            source: source.to_string(),
            tokens,
            open_escape,
        }
    }

    /// Whole-string match, backtracking to the last `*` on a mismatch (linear in practice,
    /// O(n·m) at worst, no recursion).
    fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let pat = &self.tokens;
        let (mut p, mut t) = (0usize, 0usize);
        let mut backtrack: Option<(usize, usize)> = None;
        while t < text.len() {
            match pat.get(p) {
                Some(Token::Char(c)) if *c == text[t] => {
                    p += 1;
                    t += 1;
                }
                Some(Token::Star) => {
                    backtrack = Some((p, t));
                    p += 1;
                }
                _ => match backtrack {
                    Some((sp, st)) => {
                        backtrack = Some((sp, st + 1));
                        p = sp + 1;
                        t = st + 1;
                    }
                    None => return false,
                },
            }
        }
        pat[p..].iter().all(|tok| *tok == Token::Star)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map};

    const LOC: &str = "/States/C/Choices/0";

    fn rule(v: Value) -> Rule {
        Rule::from_value(&v, LOC).unwrap_or_else(|d| panic!("{v} did not parse: {d:?}"))
    }

    fn diags(v: Value) -> Vec<(DiagnosticCode, String, String)> {
        match Rule::from_value(&v, LOC) {
            Ok(r) => panic!("{v} parsed as {r:?}"),
            Err(d) => d
                .into_iter()
                .map(|d| {
                    assert_eq!(d.severity, crate::diagnostics::Severity::Error);
                    (d.code, d.location, d.message)
                })
                .collect(),
        }
    }

    fn schema(loc: &str, msg: &str) -> (DiagnosticCode, String, String) {
        (
            DiagnosticCode::SchemaValidationFailed,
            loc.to_string(),
            msg.to_string(),
        )
    }

    fn eval_with(r: &Value, input: &Value, vars: &Map<String, Value>) -> Result<bool, RuleError> {
        let ctx = json!({"Execution": {"Input": {"flag": true}}, "State": {"Name": "C"}});
        let scope = Scope {
            input,
            context: &ctx,
            variables: vars,
        };
        rule(r.clone()).evaluate(&scope)
    }

    fn eval(r: Value, input: Value) -> Result<bool, RuleError> {
        eval_with(&r, &input, &Map::new())
    }

    fn yes(r: Value, input: Value) {
        assert_eq!(eval(r.clone(), input.clone()), Ok(true), "{r} on {input}");
    }

    fn no(r: Value, input: Value) {
        assert_eq!(eval(r.clone(), input.clone()), Ok(false), "{r} on {input}");
    }

    fn cmp(op: &str, operand: Value) -> Value {
        let mut m = Map::new();
        m.insert("Variable".into(), json!("$.v"));
        m.insert(op.into(), operand);
        Value::Object(m)
    }

    fn invalid_path(p: &str) -> RuleError {
        RuleError {
            error: "States.Runtime".into(),
            message: format!(
                "Invalid path '{p}': The choice state's condition path references an invalid value."
            ),
        }
    }

    // ---- parsing ---------------------------------------------------------------------------

    #[test]
    fn parses_shapes() {
        let r = rule(
            json!({"Variable": "$.a", "NumericEquals": 1, "Next": "X", "Comment": "c",
                            "Assign": {"x": 1}, "Output": {}}),
        );
        assert_eq!(
            r,
            Rule::Compare {
                variable: JsonPath::parse("$.a").unwrap(),
                comparison: Comparison::Numeric {
                    op: CmpOp::Equals,
                    operand: Operand::Literal(json!(1))
                }
            }
        );
        let r = rule(json!({"Not": {"Variable": "$$.Execution.Input.flag", "IsPresent": true}}));
        assert!(matches!(r, Rule::Not(_)));
        let r = rule(json!({"And": [{"Variable": "$x", "StringEqualsPath": "$.y"}]}));
        let Rule::And(inner) = r else { panic!() };
        assert_eq!(
            inner,
            vec![Rule::Compare {
                variable: JsonPath::parse("$x").unwrap(),
                comparison: Comparison::String {
                    op: CmpOp::Equals,
                    operand: Operand::Path(JsonPath::parse("$.y").unwrap())
                }
            }]
        );
        // Comment inside a nested rule is accepted (recorded AWS case comments_as_per_docs).
        rule(json!({"Or": [{"Variable": "$.s", "StringEquals": "a", "Comment": "x"}]}));
    }

    #[test]
    fn every_operator_parses() {
        for op in OPERATORS {
            let operand = if op.ends_with("Path") {
                json!("$.w")
            } else if op.starts_with("Is") || op.starts_with("Boolean") {
                json!(true)
            } else if op.starts_with("Numeric") {
                json!(3.5)
            } else if op.starts_with("Timestamp") {
                json!("2016-03-14T01:59:00Z")
            } else {
                json!("x")
            };
            let r = rule(cmp(op, operand));
            assert!(matches!(r, Rule::Compare { .. }), "{op}");
        }
    }

    #[test]
    fn no_comparison_operator() {
        assert_eq!(
            diags(json!({"Variable": "$.a", "Next": "X"})),
            vec![schema(
                LOC,
                &format!(
                    "There should only be one of the following fields: [{}]",
                    OPERATORS.join(", ")
                )
            )]
        );
    }

    #[test]
    fn two_comparison_operators() {
        let d = diags(json!({"Variable": "$.a", "StringEquals": "x", "NumericEquals": "y"}));
        assert_eq!(
            d,
            vec![
                schema(
                    LOC,
                    &format!(
                        "There should only be one of the following fields: [{}]",
                        OPERATORS.join(", ")
                    )
                ),
                // Operands are still checked, so every problem is reported at once.
                schema(
                    "/States/C/Choices/0/NumericEquals",
                    "Expected value of type: Number"
                ),
            ]
        );
    }

    #[test]
    fn unknown_operator() {
        let d = diags(json!({"Variable": "$.a", "StringEqual": "x"}));
        assert_eq!(
            d,
            vec![
                schema(
                    LOC,
                    &format!(
                        "There should only be one of the following fields: [{}]",
                        OPERATORS.join(", ")
                    )
                ),
                schema(
                    "/States/C/Choices/0/StringEqual",
                    "Field 'StringEqual' is not supported"
                ),
            ]
        );
    }

    #[test]
    fn wrong_operand_types() {
        let cases = [
            ("StringEquals", json!(1), "String"),
            ("StringMatches", json!(null), "String"),
            ("NumericLessThan", json!("1"), "Number"),
            ("BooleanEquals", json!("true"), "Boolean"),
            ("TimestampEquals", json!(5), "String"),
            ("IsNull", json!("yes"), "Boolean"),
            ("IsPresent", json!(1), "Boolean"),
            ("NumericEqualsPath", json!(1), "String"),
        ];
        for (op, operand, expected) in cases {
            assert_eq!(
                diags(cmp(op, operand)),
                vec![schema(
                    &format!("{LOC}/{op}"),
                    &format!("Expected value of type: {expected}")
                )],
                "{op}"
            );
        }
        assert_eq!(
            diags(cmp("TimestampGreaterThan", json!("2016-03-14"))),
            vec![schema(
                &format!("{LOC}/TimestampGreaterThan"),
                "Value is not a valid Timestamp"
            )]
        );
    }

    #[test]
    fn bad_paths() {
        assert_eq!(
            diags(json!({"Variable": "a.b", "IsNull": true})),
            vec![schema(
                &format!("{LOC}/Variable"),
                "Value is not a Reference Path: Reference path didn't start with '$'"
            )]
        );
        assert_eq!(
            diags(json!({"Variable": "$.a[*]", "IsNull": true})),
            vec![schema(
                &format!("{LOC}/Variable"),
                "Value is not a Reference Path: only field names and single array indices are allowed"
            )]
        );
        let d = diags(json!({"Variable": "$.a[", "NumericEqualsPath": "$..x"}));
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0].1, format!("{LOC}/Variable"));
        assert!(
            d[0].2.starts_with("Value is not a Reference Path: "),
            "{d:?}"
        );
        assert_eq!(d[1].1, format!("{LOC}/NumericEqualsPath"));
        assert_eq!(
            d[1].2,
            "Value is not a Reference Path: only field names and single array indices are allowed"
        );
        assert_eq!(
            diags(json!({"Variable": 7, "IsNull": true})),
            vec![schema(
                &format!("{LOC}/Variable"),
                "Expected value of type: String"
            )]
        );
        // length() is not a reference path either.
        assert_eq!(
            diags(json!({"Variable": "$.a.length()", "IsNull": true})).len(),
            1
        );
    }

    #[test]
    fn boolean_expression_problems() {
        let one_of = "The object must have only one of the following fields, [And, Or, Not, Variable, Condition]";
        assert_eq!(diags(json!({"Next": "X"})), vec![schema(LOC, one_of)]);
        assert_eq!(
            diags(json!({"NumericEquals": 1})),
            vec![schema(LOC, one_of)]
        );
        assert_eq!(
            diags(json!({"And": [], "Next": "X"})),
            vec![schema(&format!("{LOC}/And"), "Value cannot be empty")]
        );
        assert_eq!(
            diags(json!({"Or": {"Variable": "$.a", "IsNull": true}})),
            vec![schema(
                &format!("{LOC}/Or"),
                "Expected value of type: Array"
            )]
        );
        assert_eq!(
            diags(json!({"Not": [1]})),
            vec![schema(
                &format!("{LOC}/Not"),
                "Expected value of type: Object"
            )]
        );
        // Next is only allowed at the top level; so are Assign and Output.
        assert_eq!(
            diags(json!({"And": [
                {"Variable": "$.a", "IsNull": true, "Next": "X"},
                "oops",
                {"Not": {"Variable": "$.b", "IsNull": true, "Assign": {}}}
            ]})),
            vec![
                schema(
                    &format!("{LOC}/And/0/Next"),
                    "Field 'Next' is not supported"
                ),
                schema(&format!("{LOC}/And/1"), "Expected value of type: Object"),
                schema(
                    &format!("{LOC}/And/2/Not/Assign"),
                    "Field 'Assign' is not supported"
                ),
            ]
        );
        // Two kinds at once, plus an operator on a Not rule.
        assert_eq!(
            diags(json!({"Not": {"Variable": "$.a", "IsNull": true}, "Variable": "$.b"})),
            vec![
                schema(LOC, one_of),
                schema(
                    LOC,
                    &format!(
                        "There should only be one of the following fields: [{}]",
                        OPERATORS.join(", ")
                    )
                ),
            ]
        );
        assert_eq!(
            diags(json!({"Not": {"Variable": "$.a", "IsNull": true}, "StringEquals": "x"})),
            vec![schema(
                &format!("{LOC}/StringEquals"),
                "Field 'StringEquals' is not supported"
            )]
        );
        assert_eq!(
            diags(json!({"Condition": "{% true %}", "Next": "X"})),
            vec![schema(
                &format!("{LOC}/Condition"),
                "The QueryLanguage is set to 'JSONPath', but field 'Condition' is only supported for the 'JSONata' QueryLanguage"
            )]
        );
        assert_eq!(
            diags(json!("rule")),
            vec![schema(LOC, "Expected value of type: Object")]
        );
        // Pointer escaping of odd field names.
        assert_eq!(
            diags(json!({"Variable": "$.a", "IsNull": true, "a/b~c": 1})),
            vec![schema(
                &format!("{LOC}/a~1b~0c"),
                "Field 'a/b~c' is not supported"
            )]
        );
    }

    #[test]
    fn malformed_rules_never_panic() {
        for v in [
            json!(null),
            json!([]),
            json!({}),
            json!({"And": [[]]}),
            json!({"And": [{}], "Or": [{}], "Not": {}}),
            json!({"Variable": "$", "StringMatches": "\\"}),
            json!({"Variable": "$['a", "TimestampEqualsPath": "$$"}),
            json!({"Variable": null, "IsPresent": null, "IsNull": 1}),
        ] {
            let _ = Rule::from_value(&v, LOC);
        }
    }

    // ---- evaluation: strings ---------------------------------------------------------------

    #[test]
    fn string_comparisons() {
        let input = json!({"v": "b", "w": "c", "n": 1});
        yes(cmp("StringEquals", json!("b")), input.clone());
        no(cmp("StringEquals", json!("B")), input.clone());
        yes(cmp("StringLessThan", json!("c")), input.clone());
        no(cmp("StringLessThan", json!("b")), input.clone());
        yes(cmp("StringLessThanEquals", json!("b")), input.clone());
        no(cmp("StringLessThanEquals", json!("a")), input.clone());
        yes(cmp("StringGreaterThan", json!("a")), input.clone());
        no(cmp("StringGreaterThan", json!("b")), input.clone());
        yes(cmp("StringGreaterThanEquals", json!("b")), input.clone());
        no(cmp("StringGreaterThanEquals", json!("ba")), input.clone());
        // Path forms.
        yes(cmp("StringLessThanPath", json!("$.w")), input.clone());
        no(cmp("StringEqualsPath", json!("$.w")), input.clone());
        yes(
            cmp("StringGreaterThanEqualsPath", json!("$.v")),
            input.clone(),
        );
        no(cmp("StringGreaterThanPath", json!("$.w")), input.clone());
        yes(cmp("StringLessThanEqualsPath", json!("$.w")), input.clone());
        // Type mismatch is false, on either side.
        no(cmp("StringEquals", json!("1")), json!({"v": 1}));
        no(cmp("StringEqualsPath", json!("$.n")), input.clone());
        no(cmp("StringGreaterThanPath", json!("$.n")), input);
        // Timestamps are strings too.
        yes(
            cmp("StringEquals", json!("2016-03-14T01:59:00Z")),
            json!({"v": "2016-03-14T01:59:00Z"}),
        );
    }

    #[test]
    fn string_order_is_java_utf16() {
        // U+FF5E (fullwidth tilde) vs U+1F600 (emoji, UTF-16 D83D DE00): by code point the
        // emoji is larger; by UTF-16 code unit (Java compareTo, per the AWS guide) smaller.
        yes(
            cmp("StringLessThan", json!("\u{FF5E}")),
            json!({"v": "\u{1F600}"}),
        );
        no(
            cmp("StringGreaterThan", json!("\u{FF5E}")),
            json!({"v": "\u{1F600}"}),
        );
        yes(cmp("StringLessThan", json!("b")), json!({"v": "B"}));
        yes(cmp("StringLessThan", json!("ab")), json!({"v": "a"}));
        // No normalization: precomposed é differs from e + combining acute.
        no(
            cmp("StringEquals", json!("e\u{301}")),
            json!({"v": "\u{e9}"}),
        );
    }

    #[test]
    fn string_matches() {
        let m = |pat: &str, s: &str| eval(cmp("StringMatches", json!(pat)), json!({"v": s}));
        assert_eq!(m("foo*.log", "foo23.log"), Ok(true));
        assert_eq!(m("*.log", "zebra.log"), Ok(true));
        assert_eq!(m("foo*.*", "foobar.zebra"), Ok(true));
        assert_eq!(m("foo*.log", "foo23.txt"), Ok(false));
        assert_eq!(m("*", ""), Ok(true));
        assert_eq!(m("a*b*c", "abc"), Ok(true));
        assert_eq!(m("a*b*c", "aXbYbZc"), Ok(true));
        assert_eq!(m("a*b*c", "aXbYcZ"), Ok(false));
        assert_eq!(m("**a", "bba"), Ok(true));
        assert_eq!(m("abc", "abc"), Ok(true));
        assert_eq!(m("abc", "abcd"), Ok(false));
        // Nothing but * is special: no ?, no regex.
        assert_eq!(m("a?c", "abc"), Ok(false));
        assert_eq!(m("a.c", "abc"), Ok(false));
        assert_eq!(m("[ab]", "a"), Ok(false));
        // Escapes: JSON "\\*" is the pattern \* (a literal star), "\\\\" is \\ (a backslash).
        assert_eq!(m("a\\*", "a*"), Ok(true));
        assert_eq!(m("a\\*", "ab"), Ok(false));
        assert_eq!(m("a\\\\*", "a\\xyz"), Ok(true));
        assert_eq!(m("a\\\\*", "axyz"), Ok(false));
        assert_eq!(m("\\*\\\\", "*\\"), Ok(true));
        // ASSUMPTION pinned: \ before another character makes it literal.
        assert_eq!(m("\\a", "a"), Ok(true));
        // * matches across line breaks and multi-byte characters.
        assert_eq!(m("a*z", "a\n\u{1F600}z"), Ok(true));
        // Not a string: false.
        assert_eq!(
            eval(cmp("StringMatches", json!("*")), json!({"v": 1})),
            Ok(false)
        );
        // Open escape: a runtime error.
        assert_eq!(
            m("abc\\", "abc"),
            Err(RuleError {
                error: "States.Runtime".into(),
                message:
                    "The StringMatches pattern 'abc\\' ends with an open escape character '\\'."
                        .into()
            })
        );
    }

    // ---- evaluation: numbers ---------------------------------------------------------------

    #[test]
    fn numeric_comparisons() {
        let input = json!({"v": 20, "w": 30, "f": 20.0, "s": "20"});
        yes(cmp("NumericEquals", json!(20)), input.clone());
        no(cmp("NumericEquals", json!(21)), input.clone());
        yes(cmp("NumericLessThan", json!(20.5)), input.clone());
        no(cmp("NumericLessThan", json!(20)), input.clone());
        yes(cmp("NumericLessThanEquals", json!(20)), input.clone());
        no(cmp("NumericLessThanEquals", json!(19.999)), input.clone());
        yes(cmp("NumericGreaterThan", json!(-1)), input.clone());
        no(cmp("NumericGreaterThan", json!(20)), input.clone());
        yes(cmp("NumericGreaterThanEquals", json!(20.0)), input.clone());
        no(cmp("NumericGreaterThanEquals", json!(20.01)), input.clone());
        // Path forms.
        yes(cmp("NumericLessThanPath", json!("$.w")), input.clone());
        yes(cmp("NumericEqualsPath", json!("$.f")), input.clone());
        no(cmp("NumericGreaterThanPath", json!("$.w")), input.clone());
        yes(
            cmp("NumericGreaterThanEqualsPath", json!("$.f")),
            input.clone(),
        );
        yes(
            cmp("NumericLessThanEqualsPath", json!("$.f")),
            input.clone(),
        );
        // Mismatched types are false, not errors (recorded AWS case: "42" vs 42).
        no(cmp("NumericEquals", json!(42)), json!({"v": "42"}));
        no(cmp("NumericEqualsPath", json!("$.s")), input.clone());
        no(cmp("NumericLessThan", json!(1)), json!({"v": null}));
        no(cmp("NumericLessThan", json!(1)), json!({"v": [0]}));
        no(cmp("NumericEquals", json!(1)), json!({"v": true}));
    }

    #[test]
    fn numbers_compare_by_value() {
        yes(cmp("NumericEquals", json!(1)), json!({"v": 1.0}));
        yes(cmp("NumericEquals", json!(-0.0)), json!({"v": 0}));
        yes(cmp("NumericLessThan", json!(1.5)), json!({"v": 1}));
        yes(cmp("NumericGreaterThan", json!(-1.5)), json!({"v": -1}));
        yes(cmp("NumericLessThan", json!(-0.5)), json!({"v": -1}));
        yes(
            cmp("NumericGreaterThan", json!(u64::MAX - 1)),
            json!({"v": u64::MAX}),
        );
        yes(cmp("NumericLessThan", json!(0)), json!({"v": i64::MIN}));
        yes(cmp("NumericGreaterThan", json!(1e300)), json!({"v": 1e301}));
        yes(cmp("NumericLessThan", json!(1e300)), json!({"v": u64::MAX}));
        yes(
            cmp("NumericGreaterThan", json!(-1e300)),
            json!({"v": i64::MIN}),
        );
        // ASSUMPTION pinned: exact, so 2^53 + 1 is not 2^53.
        no(
            cmp("NumericEquals", json!(9_007_199_254_740_992u64)),
            json!({"v": 9_007_199_254_740_993u64}),
        );
        yes(
            cmp("NumericEquals", json!(9_007_199_254_740_992.0)),
            json!({"v": 9_007_199_254_740_992u64}),
        );
        assert_eq!(cmp_int_float(3, f64::NAN), None);
    }

    // ---- evaluation: booleans, type tests --------------------------------------------------

    #[test]
    fn boolean_equals() {
        let input = json!({"v": true, "t": true, "f": false, "s": "true"});
        yes(cmp("BooleanEquals", json!(true)), input.clone());
        no(cmp("BooleanEquals", json!(false)), input.clone());
        yes(cmp("BooleanEqualsPath", json!("$.t")), input.clone());
        no(cmp("BooleanEqualsPath", json!("$.f")), input.clone());
        no(cmp("BooleanEqualsPath", json!("$.s")), input.clone());
        no(cmp("BooleanEquals", json!(true)), json!({"v": "true"}));
        no(cmp("BooleanEquals", json!(false)), json!({"v": null}));
        no(cmp("BooleanEquals", json!(false)), json!({"v": 0}));
    }

    #[test]
    fn type_tests() {
        let values = [
            json!(null),
            json!(1),
            json!(1.5),
            json!("s"),
            json!("2016-03-14T01:59:00Z"),
            json!(true),
            json!([1]),
            json!({"a": 1}),
        ];
        let expect = [
            (
                "IsNull",
                [true, false, false, false, false, false, false, false],
            ),
            (
                "IsNumeric",
                [false, true, true, false, false, false, false, false],
            ),
            (
                "IsString",
                [false, false, false, true, true, false, false, false],
            ),
            (
                "IsBoolean",
                [false, false, false, false, false, true, false, false],
            ),
            (
                "IsTimestamp",
                [false, false, false, false, true, false, false, false],
            ),
            ("IsPresent", [true; 8]),
        ];
        for (op, truth) in expect {
            for (v, t) in values.iter().zip(truth) {
                let input = json!({ "v": v });
                assert_eq!(
                    eval(cmp(op, json!(true)), input.clone()),
                    Ok(t),
                    "{op} true on {v}"
                );
                assert_eq!(
                    eval(cmp(op, json!(false)), input),
                    Ok(!t),
                    "{op} false on {v}"
                );
            }
        }
    }

    // ---- evaluation: timestamps ------------------------------------------------------------

    #[test]
    fn timestamp_comparisons() {
        let input = json!({"v": "2016-03-14T01:59:00Z", "later": "2016-03-14T02:00:00Z",
                           "same": "2016-03-14T02:59:00+01:00", "s": "nope", "n": 1});
        yes(
            cmp("TimestampEquals", json!("2016-03-14T01:59:00Z")),
            input.clone(),
        );
        no(
            cmp("TimestampEquals", json!("2016-03-14T01:59:01Z")),
            input.clone(),
        );
        yes(
            cmp("TimestampEquals", json!("2016-03-13T21:59:00-04:00")),
            input.clone(),
        );
        yes(
            cmp("TimestampLessThan", json!("2016-03-14T01:59:00.001Z")),
            input.clone(),
        );
        no(
            cmp("TimestampLessThan", json!("2016-03-14T01:59:00Z")),
            input.clone(),
        );
        yes(
            cmp("TimestampGreaterThan", json!("2016-03-14T02:58:59+01:00")),
            input.clone(),
        );
        no(
            cmp("TimestampGreaterThan", json!("2016-03-14T02:59:00+01:00")),
            input.clone(),
        );
        yes(
            cmp("TimestampLessThanEquals", json!("2016-03-14T01:59:00.000Z")),
            input.clone(),
        );
        no(
            cmp(
                "TimestampLessThanEquals",
                json!("2016-03-14T01:58:59.999999999Z"),
            ),
            input.clone(),
        );
        yes(
            cmp("TimestampGreaterThanEquals", json!("2016-03-14T01:59:00Z")),
            input.clone(),
        );
        no(
            cmp("TimestampGreaterThanEquals", json!("2017-01-01T00:00:00Z")),
            input.clone(),
        );
        // Path forms.
        yes(cmp("TimestampEqualsPath", json!("$.same")), input.clone());
        yes(
            cmp("TimestampLessThanPath", json!("$.later")),
            input.clone(),
        );
        no(
            cmp("TimestampGreaterThanPath", json!("$.later")),
            input.clone(),
        );
        yes(
            cmp("TimestampLessThanEqualsPath", json!("$.same")),
            input.clone(),
        );
        yes(
            cmp("TimestampGreaterThanEqualsPath", json!("$.same")),
            input.clone(),
        );
        // Not a timestamp on either side: false.
        no(cmp("TimestampEqualsPath", json!("$.s")), input.clone());
        no(cmp("TimestampEqualsPath", json!("$.n")), input.clone());
        no(
            cmp("TimestampEquals", json!("2016-03-14T01:59:00Z")),
            json!({"v": "2016-03-14T01:59:00z"}),
        );
        no(
            cmp("TimestampLessThan", json!("2016-03-14T01:59:00Z")),
            json!({"v": 5}),
        );
    }

    #[test]
    fn timestamps_compare_to_the_nanosecond() {
        let input = json!({"v": "2016-03-14T01:59:00.000000002Z"});
        yes(
            cmp(
                "TimestampGreaterThan",
                json!("2016-03-14T01:59:00.000000001Z"),
            ),
            input.clone(),
        );
        no(
            cmp("TimestampEquals", json!("2016-03-14T01:59:00Z")),
            input.clone(),
        );
        yes(
            cmp(
                "TimestampEquals",
                json!("2016-03-14T02:59:00.000000002+01:00"),
            ),
            input,
        );
        // Before the epoch, sub-millisecond parts still order correctly.
        yes(
            cmp("TimestampLessThan", json!("1969-12-31T23:59:59.9995Z")),
            json!({"v": "1969-12-31T23:59:59.9991Z"}),
        );
        yes(
            cmp("TimestampEquals", json!("2016-03-14T01:59:00.5Z")),
            json!({"v": "2016-03-14T01:59:00.500000000Z"}),
        );
    }

    #[test]
    fn timestamp_grammar() {
        for ok in [
            "2016-03-14T01:59:00Z",
            "2016-03-14T01:59:00.1Z",
            "2016-03-05T21:29:29.243167252Z",
            "2016-03-14T01:59:00+01:00",
            "2016-03-14T01:59:00.5-09:30",
            "2016-02-29T23:59:59Z",
            "0001-01-01T00:00:00Z",
        ] {
            assert!(parse_timestamp(ok).is_some(), "{ok}");
        }
        for bad in [
            "2016-03-14t01:59:00Z",
            "2016-03-14T01:59:00z",
            "2016-03-14 01:59:00Z",
            "2016-03-14T01:59Z",
            "2016-03-14T01:59:00",
            "2016-03-14",
            "2016-13-05T21:29:29Z",
            "2015-02-29T00:00:00Z",
            "05-12-2016T21:29:29Z",
            "2016-03-14T24:00:00Z",
            "2016-03-14T01:60:00Z",
            "2016-03-14T01:59:60Z",
            "2016-03-14T01:59:00.Z",
            "2016-03-14T01:59:00.1234567891Z",
            "2016-03-14T01:59:00+0100",
            "2016-03-14T01:59:00+01",
            "2016-03-14T01:59:00+01:00:00",
            "2016-03-14T01:59:00UTC",
            "2016-03-14T01:59:00Z ",
            "+2016-03-14T01:59:00Z",
            "２016-03-14T01:59:00Z",
            "",
        ] {
            assert!(parse_timestamp(bad).is_none(), "{bad}");
        }
        let a = parse_timestamp("2016-03-14T02:59:00.123456789+01:00").unwrap();
        assert_eq!(
            a,
            Instant {
                millis: Timestamp::parse_rfc3339("2016-03-14T01:59:00.123Z")
                    .unwrap()
                    .millis(),
                sub_milli_nanos: 456_789
            }
        );
    }

    // ---- evaluation: missing values, roots, nesting ----------------------------------------

    #[test]
    fn missing_variable_is_a_runtime_error() {
        for op in OPERATORS {
            if op == "IsPresent" {
                continue;
            }
            let operand = if op.ends_with("Path") {
                json!("$.w")
            } else if op.starts_with("Is") || op.starts_with("Boolean") {
                json!(true)
            } else if op.starts_with("Numeric") {
                json!(1)
            } else if op.starts_with("Timestamp") {
                json!("2016-03-14T01:59:00Z")
            } else {
                json!("x")
            };
            assert_eq!(
                eval(cmp(op, operand), json!({"w": 1})),
                Err(invalid_path("$.v")),
                "{op}"
            );
        }
        assert_eq!(
            eval(
                json!({"Variable": "$.a.b[3]", "IsNull": false}),
                json!({"a": {"b": [1]}})
            ),
            Err(invalid_path("$.a.b[3]"))
        );
        // A null value is present.
        yes(
            json!({"Variable": "$.a", "IsNull": true}),
            json!({"a": null}),
        );
    }

    #[test]
    fn is_present() {
        yes(
            json!({"Variable": "$.a", "IsPresent": true}),
            json!({"a": null}),
        );
        no(
            json!({"Variable": "$.a", "IsPresent": false}),
            json!({"a": 0}),
        );
        yes(
            json!({"Variable": "$.a.b", "IsPresent": false}),
            json!({"a": 1}),
        );
        no(json!({"Variable": "$.a.b", "IsPresent": true}), json!({}));
        yes(
            json!({"Variable": "$missing", "IsPresent": false}),
            json!({}),
        );
    }

    #[test]
    fn missing_operand_path_is_a_runtime_error() {
        assert_eq!(
            eval(
                cmp("NumericEqualsPath", json!("$.missing")),
                json!({"v": 1})
            ),
            Err(invalid_path("$.missing"))
        );
        // The Variable is checked first.
        assert_eq!(
            eval(cmp("NumericEqualsPath", json!("$.missing")), json!({})),
            Err(invalid_path("$.v"))
        );
    }

    #[test]
    fn context_and_variable_roots() {
        let mut vars = Map::new();
        vars.insert("limit".into(), json!(10));
        vars.insert("cfg".into(), json!({"name": "x"}));
        let input = json!({"v": 7});
        let e = |r: Value| eval_with(&r, &input, &vars);
        assert_eq!(
            e(json!({"Variable": "$$.Execution.Input.flag", "BooleanEquals": true})),
            Ok(true)
        );
        assert_eq!(
            e(json!({"Variable": "$$.State.Name", "StringEquals": "C"})),
            Ok(true)
        );
        assert_eq!(
            e(json!({"Variable": "$limit", "NumericGreaterThanPath": "$.v"})),
            Ok(true)
        );
        assert_eq!(
            e(json!({"Variable": "$.v", "NumericLessThanPath": "$limit"})),
            Ok(true)
        );
        assert_eq!(
            e(json!({"Variable": "$cfg.name", "StringEquals": "x"})),
            Ok(true)
        );
        assert_eq!(
            e(json!({"Variable": "$nope", "StringEquals": "x"})),
            Err(invalid_path("$nope"))
        );
        assert_eq!(
            e(json!({"Variable": "$.v", "NumericEqualsPath": "$$.Nope"})),
            Err(invalid_path("$$.Nope"))
        );
        // The whole input.
        assert_eq!(
            eval(json!({"Variable": "$", "StringEquals": "hi"}), json!("hi")),
            Ok(true)
        );
    }

    #[test]
    fn and_or_not() {
        let docs = json!({"Choices": [
            {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
            {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
            {"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20},
                     {"Variable": "$.value", "NumericLessThan": 30}], "Next": "ValueInTwenties"}
        ]});
        let input = json!({"type": "Private", "value": 22});
        let results: Vec<bool> = docs["Choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| eval(c.clone(), input.clone()).unwrap())
            .collect();
        assert_eq!(results, vec![false, false, true]);

        yes(
            json!({"And": [{"Variable": "$.a", "IsNull": true}]}),
            json!({"a": null}),
        );
        no(
            json!({"Or": [{"Variable": "$.a", "IsNull": false}]}),
            json!({"a": null}),
        );
        yes(
            json!({"Or": [{"Variable": "$.a", "IsNull": false}, {"Variable": "$.a", "IsNull": true}]}),
            json!({"a": null}),
        );
        yes(
            json!({"Not": {"Not": {"Variable": "$.a", "NumericEquals": 1}}}),
            json!({"a": 1}),
        );
        yes(
            json!({"And": [
                {"Or": [{"Variable": "$.a", "StringEquals": "x"}, {"Variable": "$.a", "StringEquals": "y"}]},
                {"Not": {"Variable": "$.b", "IsPresent": true}}
            ]}),
            json!({"a": "y"}),
        );
    }

    #[test]
    fn and_or_short_circuit() {
        // The second rule would fail (missing path) but is never evaluated.
        let guard = json!({"And": [
            {"Variable": "$.a", "IsPresent": true},
            {"Variable": "$.a", "BooleanEquals": true}
        ]});
        no(guard.clone(), json!({}));
        yes(guard.clone(), json!({"a": true}));
        yes(
            json!({"Or": [{"Variable": "$.b", "IsPresent": false}, {"Variable": "$.b", "IsNull": true}]}),
            json!({}),
        );
        // Order matters: the failing rule first fails the whole rule.
        assert_eq!(
            eval(
                json!({"Or": [{"Variable": "$.b", "IsNull": true}, {"Variable": "$.b", "IsPresent": false}]}),
                json!({})
            ),
            Err(invalid_path("$.b"))
        );
        assert_eq!(
            eval(
                json!({"Not": {"Variable": "$.b", "IsNull": true}}),
                json!({})
            ),
            Err(invalid_path("$.b"))
        );
    }

    #[test]
    fn rule_error_display() {
        assert_eq!(
            invalid_path("$.x").to_string(),
            "States.Runtime: Invalid path '$.x': The choice state's condition path references an invalid value."
        );
    }
}
