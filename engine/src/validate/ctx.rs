//! The validation context (collected diagnostics, names seen so far), locations, AWS message
//! wordings and the small value checks every part of the walk shares.

use crate::diagnostics::{Diagnostic, DiagnosticCode};
use serde_json::{Map, Value};
use std::collections::HashSet;

/// State of one validation run.
#[derive(Debug, Default)]
pub(super) struct Ctx {
    /// Every problem found so far, in walk order.
    pub diags: Vec<Diagnostic>,
    /// The effective query language of the top level. States that declare none inherit this
    /// one, at any depth (measured: a Map's or Parallel's own `QueryLanguage` does not reach the
    /// states inside it).
    pub top_jsonata: bool,
    /// State names seen so far, across every scope (names are unique machine-wide).
    pub state_names: HashSet<String>,
    /// Map `Label`s seen so far.
    pub labels: HashSet<String>,
}

impl Ctx {
    pub fn error(&mut self, code: DiagnosticCode, loc: impl Into<String>, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, loc, msg));
    }

    pub fn warning(
        &mut self,
        code: DiagnosticCode,
        loc: impl Into<String>,
        msg: impl Into<String>,
    ) {
        self.diags.push(Diagnostic::warning(code, loc, msg));
    }

    /// A SCHEMA_VALIDATION_FAILED error.
    pub fn schema(&mut self, loc: impl Into<String>, msg: impl Into<String>) {
        self.error(DiagnosticCode::SchemaValidationFailed, loc, msg);
    }

    /// The keys of an `Assign` object must be variable names: AWS's workflow-variables page
    /// says a name starts with a Unicode ID_Start character or `_`, continues with ID_Continue
    /// characters, has at most 80 characters, and `states` is reserved. Assumptions: letters
    /// and digits stand for ID_Start and ID_Continue, and the wording of these messages is
    /// ours (AWS reports SCHEMA_VALIDATION_FAILED at the Assign object).
    pub fn variable_names(&mut self, v: &Value, loc: &str, jsonata: bool) {
        let Value::Object(m) = v else { return };
        for key in m.keys() {
            let name = if jsonata {
                key.as_str()
            } else {
                key.strip_suffix(".$").unwrap_or(key)
            };
            let mut chars = name.chars();
            let first_ok = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_');
            let rest_ok = chars.all(|c| c.is_alphanumeric() || c == '_');
            if name == "states" {
                self.schema(
                    loc,
                    format!("The variable name '{name}' is reserved by Step Functions"),
                );
            } else if !first_ok || !rest_ok || name.chars().count() > 80 {
                self.schema(
                    loc,
                    format!(
                        "The variable name '{name}' is not valid: a variable name starts with a letter or '_', continues with letters, digits or '_', and has at most 80 characters"
                    ),
                );
            }
        }
    }

    /// `v` must be a string.
    pub fn string<'v>(&mut self, v: &'v Value, loc: &str) -> Option<&'v str> {
        match v {
            Value::String(s) => Some(s),
            _ => {
                self.schema(loc, msg::expected("STRING"));
                None
            }
        }
    }

    /// `v` must be a non-empty string (a state name, a resource).
    pub fn nonempty_string<'v>(&mut self, field: &str, v: &'v Value, loc: &str) -> Option<&'v str> {
        let s = self.string(v, loc)?;
        if s.is_empty() {
            self.schema(loc, msg::empty_string(field));
            return None;
        }
        Some(s)
    }

    /// `v` must be a boolean.
    pub fn boolean(&mut self, v: &Value, loc: &str) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            _ => {
                self.schema(loc, msg::expected("BOOLEAN"));
                None
            }
        }
    }

    /// `v` must be an object.
    pub fn object<'v>(&mut self, v: &'v Value, loc: &str) -> Option<&'v Map<String, Value>> {
        match v {
            Value::Object(m) => Some(m),
            _ => {
                self.schema(loc, msg::expected("OBJECT"));
                None
            }
        }
    }

    /// `v` must be an array.
    pub fn array<'v>(&mut self, v: &'v Value, loc: &str) -> Option<&'v Vec<Value>> {
        match v {
            Value::Array(a) => Some(a),
            _ => {
                self.schema(loc, msg::expected("ARRAY"));
                None
            }
        }
    }

    /// `v` must be a non-empty array.
    pub fn nonempty_array<'v>(&mut self, v: &'v Value, loc: &str) -> Option<&'v Vec<Value>> {
        let a = self.array(v, loc)?;
        if a.is_empty() {
            self.schema(loc, msg::EMPTY_ARRAY);
        }
        Some(a)
    }

    /// `v` must be an integer within `min..=max`.
    pub fn integer(&mut self, v: &Value, loc: &str, min: i64, max: Option<i64>) {
        let n: i128 = if let Some(i) = v.as_i64() {
            i128::from(i)
        } else if let Some(u) = v.as_u64() {
            i128::from(u)
        } else {
            self.schema(loc, msg::expected("INTEGER"));
            return;
        };
        if n < i128::from(min) {
            self.schema(loc, msg::minimum(&min.to_string()));
        } else if let Some(max) = max {
            if n > i128::from(max) {
                self.schema(loc, msg::maximum(&max.to_string()));
            }
        }
    }

    /// Like [`Ctx::integer`], but a JSONata state may give a `{% %}` expression instead.
    pub fn integer_or_expr(
        &mut self,
        v: &Value,
        loc: &str,
        jsonata: bool,
        min: i64,
        max: Option<i64>,
    ) {
        if jsonata && is_jsonata_expr(v) {
            return;
        }
        self.integer(v, loc, min, max);
    }

    /// `v` must be an object, or a `{% %}` expression in a JSONata state.
    pub fn object_or_expr(&mut self, v: &Value, loc: &str, jsonata: bool) {
        if !(v.is_object() || jsonata && is_jsonata_expr(v)) {
            self.schema(loc, msg::expected("OBJECT"));
        }
    }

    /// `v` must be an array, or a `{% %}` expression in a JSONata state.
    pub fn array_or_expr(&mut self, v: &Value, loc: &str, jsonata: bool) {
        if !(v.is_array() || jsonata && is_jsonata_expr(v)) {
            self.schema(loc, msg::expected("ARRAY"));
        }
    }

    /// Like [`Ctx::number`], but a JSONata state may give a `{% %}` expression instead.
    pub fn number_or_expr(
        &mut self,
        v: &Value,
        loc: &str,
        jsonata: bool,
        min: (f64, &str),
        max: Option<(f64, &str)>,
    ) {
        if jsonata && is_jsonata_expr(v) {
            return;
        }
        self.number(v, loc, min, max);
    }

    /// `v` must be a number within `min..=max` (given with the spelling used in messages).
    pub fn number(&mut self, v: &Value, loc: &str, min: (f64, &str), max: Option<(f64, &str)>) {
        let Some(n) = v.as_f64() else {
            self.schema(loc, msg::expected("NUMBER"));
            return;
        };
        if n < min.0 {
            self.schema(loc, msg::minimum(min.1));
        } else if let Some((m, text)) = max {
            if n > m {
                self.schema(loc, msg::maximum(text));
            }
        }
    }

    /// `v` must be one of the strings in `allowed`.
    pub fn enumeration(&mut self, v: &Value, loc: &str, allowed: &[&str]) -> Option<String> {
        let s = self.string(v, loc)?;
        if !allowed.contains(&s) {
            self.schema(loc, msg::one_of_values(allowed));
            return None;
        }
        Some(s.to_string())
    }

    /// `v` must be an RFC 3339 timestamp string (or a `{% %}` expression in a JSONata state).
    pub fn timestamp(&mut self, v: &Value, loc: &str, jsonata: bool) {
        if jsonata && is_jsonata_expr(v) {
            return;
        }
        if let Some(s) = self.string(v, loc) {
            if !is_rfc3339(s) {
                self.schema(loc, msg::RFC3339);
            }
        }
    }
}

/// True for a JSONata expression string: `{% ... %}`.
pub(super) fn is_jsonata_expr(v: &Value) -> bool {
    matches!(v, Value::String(s) if s.len() >= 4 && s.starts_with("{%") && s.ends_with("%}"))
}

/// ASL timestamps: RFC 3339 with an uppercase `T` between date and time and an uppercase `Z`
/// when there is no numeric offset (Choice and Wait state pages of the Developer Guide).
pub(super) fn is_rfc3339(s: &str) -> bool {
    s.as_bytes().get(10) == Some(&b'T')
        && !s.contains('z')
        && !s.contains('t')
        && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

/// Locations, written as AWS writes them: `/States/A/Next`, `/States/C/Choices[0]/Next`,
/// `/States/P/Branches[1]/States/B`; `/` for the top-level object. State names are not escaped.
pub(super) mod loc {
    /// `base/name`.
    pub fn field(base: &str, name: &str) -> String {
        format!("{base}/{name}")
    }

    /// `base[i]`.
    pub fn index(base: &str, i: usize) -> String {
        format!("{base}[{i}]")
    }

    /// The location of an object whose path is `base` (`/` for the top level).
    pub fn object(base: &str) -> String {
        if base.is_empty() {
            "/".to_string()
        } else {
            base.to_string()
        }
    }
}

/// AWS's message wordings. Where a wording was observed from AWS, its source is given; the rest
/// follow the observed patterns and say so.
pub(super) mod msg {
    /// Measured: "These fields are required: [States, StartAt]" at `/` for `{}`; "These fields
    /// are required: [StartAt]" at `/` (LocalStack's AWS snapshots).
    pub fn required(fields: &[&str]) -> String {
        format!("These fields are required: [{}]", fields.join(", "))
    }

    /// Measured: "Expected value of type [STRING]" for a non-string QueryLanguage, ErrorPath,
    /// CausePath (floci's AWS-measured tests). Other type names follow the same pattern
    /// (assumption): INTEGER, NUMBER, BOOLEAN, ARRAY, OBJECT.
    pub fn expected(kind: &str) -> String {
        format!("Expected value of type [{kind}]")
    }

    /// Measured: "Field 'TimeoutSeconds' is not supported" at the state (floci, 17 field/type
    /// combinations); "Field '_comment' is not supported at .../Catch[0]" and "Field
    /// 'Message.$' is not supported at /States/X" (real CloudFormation deploy failures quoted in
    /// public repositories). Located at the object that holds the field.
    pub fn not_supported(field: &str) -> String {
        format!("Field '{field}' is not supported")
    }

    /// Measured: "Value should be one of the following: [JSONPath, JSONata]" at the field.
    pub fn one_of_values(values: &[&str]) -> String {
        format!(
            "Value should be one of the following: [{}]",
            values.join(", ")
        )
    }

    /// Measured (AWS message quoted in LocalStack's tests): "The field 'Type' should have one of
    /// these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]" at `.../Type`.
    pub fn field_one_of(field: &str, values: &[&str]) -> String {
        format!(
            "The field '{field}' should have one of these values: [{}]",
            values.join(", ")
        )
    }

    /// Reported (cdk-preflight's catalogue of CreateStateMachine messages): "There should only
    /// be one of the following fields: [Next, End]" when both are set; the same wording for
    /// Wait's four duration fields and for Field/FieldPath pairs. Located at the state
    /// (assumption for the pairs).
    pub fn only_one_present(fields: &[&str]) -> String {
        format!(
            "There should only be one of the following fields: [{}]",
            fields.join(", ")
        )
    }

    /// Reported (same catalogue): "This object should have only one of the following fields:
    /// [Next, End]" when neither is set, and for a Map with neither ItemProcessor nor Iterator.
    pub fn only_one_missing(fields: &[&str]) -> String {
        format!(
            "This object should have only one of the following fields: [{}]",
            fields.join(", ")
        )
    }

    /// Reported (same catalogue): an empty Choices, Branches or ErrorEquals array.
    pub const EMPTY_ARRAY: &str = "Value cannot be empty";

    /// The wording the issue quotes: "The field 'Next' should be non-empty".
    pub fn empty_string(field: &str) -> String {
        format!("The field '{field}' should be non-empty")
    }

    /// Measured: "Minimum value is 0" for a negative Map MaxConcurrency (floci). "Maximum value
    /// is N" follows the same pattern (assumption).
    pub fn minimum(n: &str) -> String {
        format!("Minimum value is {n}")
    }

    pub fn maximum(n: &str) -> String {
        format!("Maximum value is {n}")
    }

    /// Measured: "Value must be a valid JSONPath." at `/States/Pass/OutputPath` (CloudFormation
    /// error quoted in cfn-lint issue 4078).
    pub const INVALID_JSON_PATH: &str = "Value must be a valid JSONPath.";

    /// Measured: "Value is not a Reference Path: Reference path didn't start with '$'" at
    /// `.../Choices[0]/Variable` (cfn-lint issue 4076), and "Value is not a Reference Path: '['
    /// must be followed by ..." (ts2asl issue 912). The reason after the colon is ours for every
    /// other fault.
    pub fn not_reference_path(reason: &str) -> String {
        format!("Value is not a Reference Path: {reason}")
    }

    /// Measured: "The value for the field 'Variable.$' must be a valid JSONPath or a valid
    /// intrinsic function call" at `/States/Pass/Assign`, the object holding the key (cfn-lint
    /// issue 4085).
    pub fn payload_path(key: &str) -> String {
        format!("The value for the field '{key}' must be a valid JSONPath or a valid intrinsic function call")
    }

    /// Measured: "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported
    /// for the 'JSONata' QueryLanguage", located at the state (floci).
    pub fn language_mismatch(jsonata: bool, field: &str) -> String {
        let (set, other) = if jsonata {
            ("JSONata", "JSONPath")
        } else {
            ("JSONPath", "JSONata")
        };
        format!("The QueryLanguage is set to '{set}', but field '{field}' is only supported for the '{other}' QueryLanguage")
    }

    /// Measured (LocalStack's AWS snapshot and floci): at the state.
    pub const DOWNGRADE: &str =
        "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine";

    /// Measured: "Missing 'Next' target: NOPE" at `/States/A/Next`; the word is `Next` for
    /// `Default`, `Choices[i].Next`, `Catch[i].Next` and `StartAt` too (floci).
    pub fn missing_target(name: &str) -> String {
        format!("Missing 'Next' target: {name}")
    }

    /// Measured: `State "C" is not reachable.` at `/States/C`, code MISSING_TRANSITION_TARGET.
    pub fn unreachable(name: &str) -> String {
        format!("State \"{name}\" is not reachable.")
    }

    /// Measured: MISSING_END_STATE "Workflow has no terminal state", with no location.
    pub const NO_TERMINAL_STATE: &str = "Workflow has no terminal state";

    /// Observed from Step Functions Local: "Duplicate State name: MissingValue at
    /// /States/MissingValue".
    pub fn duplicate_state(name: &str) -> String {
        format!("Duplicate State name: {name}")
    }

    /// Reported (cdk-preflight): "String does not match RFC3339 timestamp".
    pub const RFC3339: &str = "String does not match RFC3339 timestamp";

    /// Reported (cdk-preflight): "States.ALL must appear alone and at end of list".
    pub const STATES_ALL: &str = "States.ALL must appear alone and at end of list";
}
