//! The walk over (sub-)state machines and their states: allowed fields per state type, field
//! types and ranges, the query-language rules and the per-type field combinations.

use super::ctx::{loc, msg, Ctx};
use super::paths::{self, Roots};
use super::{graph, json, map, retry, rules};
use crate::diagnostics::DiagnosticCode;
use serde_json::{Map, Value};

/// What kind of object holds a `StartAt` and `States`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Container {
    /// The definition itself.
    Top,
    /// One of a Parallel state's `Branches`.
    Branch,
    /// A Map state's `ItemProcessor` (or legacy `Iterator`).
    Processor,
}

/// The state types, with AWS's listing order for the message.
const TYPES: [&str; 8] = [
    "Task", "Wait", "Pass", "Succeed", "Fail", "Choice", "Parallel", "Map",
];

/// Fields every state type accepts (measured with ValidateStateMachineDefinition, 8 types × 50
/// fields, by cdk-preflight).
const COMMON_FIELDS: [&str; 3] = ["Type", "Comment", "QueryLanguage"];

/// Fields of one state type besides the common ones (same measurement). `TimeoutSeconds` is
/// refused on every type but Task; `Retry` and `Catch` on every type but Task, Parallel and Map
/// (also measured by floci).
fn allowed_fields(ty: &str) -> &'static [&'static str] {
    match ty {
        "Pass" => &[
            "InputPath",
            "OutputPath",
            "Result",
            "ResultPath",
            "Parameters",
            "Output",
            "Assign",
            "Next",
            "End",
        ],
        "Task" => &[
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "Arguments",
            "Output",
            "Assign",
            "Resource",
            "Credentials",
            "ResultSelector",
            "Retry",
            "Catch",
            "TimeoutSeconds",
            "TimeoutSecondsPath",
            "HeartbeatSeconds",
            "HeartbeatSecondsPath",
            "Next",
            "End",
        ],
        "Wait" => &[
            "InputPath",
            "OutputPath",
            "Output",
            "Assign",
            "Seconds",
            "Timestamp",
            "SecondsPath",
            "TimestampPath",
            "Next",
            "End",
        ],
        "Parallel" => &[
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "Arguments",
            "Output",
            "Assign",
            "ResultSelector",
            "Retry",
            "Catch",
            "Branches",
            "Next",
            "End",
        ],
        "Map" => &[
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "Output",
            "Assign",
            "ResultSelector",
            "Retry",
            "Catch",
            "ItemProcessor",
            "Iterator",
            "ItemsPath",
            "Items",
            "ItemSelector",
            "ItemReader",
            "ItemBatcher",
            "ResultWriter",
            "MaxConcurrency",
            "MaxConcurrencyPath",
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
            "ToleratedFailureCount",
            "ToleratedFailureCountPath",
            "Label",
            "Next",
            "End",
        ],
        "Choice" => &[
            "InputPath",
            "OutputPath",
            "Output",
            "Assign",
            "Choices",
            "Default",
        ],
        "Succeed" => &["InputPath", "OutputPath", "Output"],
        "Fail" => &["Error", "Cause", "ErrorPath", "CausePath"],
        _ => &[],
    }
}

/// Fields only JSONPath states may carry (measured for InputPath, OutputPath, ResultPath,
/// ResultSelector, Parameters, Result, ItemsPath, MaxConcurrencyPath, ErrorPath, CausePath by
/// floci; the other `*Path` fields are listed as JSONPath-only by the Developer Guide's JSONata
/// page, assumption that AWS words them the same).
pub(super) const JSONPATH_ONLY: [&str; 16] = [
    "InputPath",
    "OutputPath",
    "ResultPath",
    "ResultSelector",
    "Parameters",
    "Result",
    "ItemsPath",
    "MaxConcurrencyPath",
    "ErrorPath",
    "CausePath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "SecondsPath",
    "TimestampPath",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCountPath",
];

/// Fields only JSONata states may carry (measured by floci). `Assign` is accepted in both.
pub(super) const JSONATA_ONLY: [&str; 3] = ["Output", "Arguments", "Items"];

/// True when `field` belongs to the other query language than the one in force.
pub(super) fn other_language(field: &str, jsonata: bool) -> bool {
    if jsonata {
        JSONPATH_ONLY.contains(&field)
    } else {
        JSONATA_ONLY.contains(&field)
    }
}

/// Largest `TimeoutSeconds`, `HeartbeatSeconds`, `Seconds`, retrier interval and attempts
/// (Developer Guide: "a maximum of 99999999"; assumption for the state machine's TimeoutSeconds).
pub(super) const MAX_SECONDS: i64 = 99_999_999;

/// Longest state name accepted (INVALID_STATE_NAME past it; cdk-preflight reports the 80-character
/// limit "allowed by the service").
const MAX_STATE_NAME: usize = 80;

/// Validates the definition's top-level object.
pub(super) fn definition(cx: &mut Ctx, root: &Value) {
    let Some(obj) = root.as_object() else {
        cx.diags.push(json::not_an_object());
        return;
    };
    // Measured: the language is JSONPath only for exactly "JSONPath"; any other value (wrong
    // case, unknown, not a string) makes the machine JSONata, and is reported on its own.
    cx.top_jsonata = match obj.get("QueryLanguage") {
        None => false,
        Some(Value::String(s)) => s != "JSONPath",
        Some(_) => true,
    };
    machine(cx, obj, "", Container::Top);
}

/// Validates an object holding `StartAt` and `States`; `base` is its location ("" for the top).
pub(super) fn machine(cx: &mut Ctx, obj: &Map<String, Value>, base: &str, container: Container) {
    let here = loc::object(base);
    // Measured order for `{}`: [States, StartAt].
    let missing: Vec<&str> = ["States", "StartAt"]
        .into_iter()
        .filter(|k| !obj.contains_key(*k))
        .collect();
    if !missing.is_empty() {
        cx.schema(here.clone(), msg::required(&missing));
    }
    for (k, v) in json::entries(obj) {
        let at = loc::field(base, k);
        match (k, container) {
            ("StartAt", _) => {
                cx.nonempty_string("StartAt", v, &at);
            }
            ("States", _) => {}
            ("Comment", _) => {
                cx.string(v, &at);
            }
            ("Version", Container::Top) => {
                // Reported (cdk-preflight): "Value should be one of the following: [1.0]".
                cx.enumeration(v, &at, &["1.0"]);
            }
            ("TimeoutSeconds", Container::Top) => cx.integer(v, &at, 1, Some(MAX_SECONDS)),
            ("QueryLanguage", Container::Top) => query_language(cx, v, &at),
            ("ProcessorConfig", Container::Processor) => map::processor_config(cx, v, &at),
            // Measured: a QueryLanguage on an ItemProcessor, Iterator or branch is "Field
            // 'QueryLanguage' is not supported" at that object; same for any unknown field.
            _ => cx.schema(here.clone(), msg::not_supported(k)),
        }
    }
    let Some(states_value) = obj.get("States") else {
        return;
    };
    let states_at = loc::field(base, "States");
    let Some(states) = cx.object(states_value, &states_at) else {
        return;
    };
    if json::entries(states).next().is_none() {
        cx.schema(states_at, msg::empty_string("States"));
        return;
    }
    for (name, st) in states {
        if let Some(real) = json::duplicate_of(name) {
            // The same name twice in one States object (the JSON key repeated).
            cx.error(
                DiagnosticCode::DuplicateStateName,
                loc::field(&states_at, real),
                msg::duplicate_state(real),
            );
            continue;
        }
        let at = loc::field(&states_at, name);
        if !cx.state_names.insert(name.clone()) {
            cx.error(
                DiagnosticCode::DuplicateStateName,
                at.clone(),
                msg::duplicate_state(name),
            );
        }
        if name.chars().count() > MAX_STATE_NAME {
            // Assumption: wording ours, after "... exceeds the 80-character limit allowed by the
            // service".
            cx.error(
                DiagnosticCode::InvalidStateName,
                at.clone(),
                format!("State name '{name}' exceeds the {MAX_STATE_NAME}-character limit allowed by the service"),
            );
        }
        state(cx, st, &at);
    }
    graph::check_scope(
        cx,
        states,
        base,
        obj.get("StartAt"),
        container == Container::Top,
    );
}

/// A `QueryLanguage` value (measured: type error or enum error at the field).
fn query_language(cx: &mut Ctx, v: &Value, at: &str) {
    cx.enumeration(v, at, &["JSONPath", "JSONata"]);
}

/// One state; `at` is its location.
struct StateCx<'a> {
    obj: &'a Map<String, Value>,
    at: &'a str,
    ty: &'a str,
    jsonata: bool,
}

impl StateCx<'_> {
    fn field(&self, k: &str) -> String {
        loc::field(self.at, k)
    }

    /// The field is there and belongs to the state's query language.
    fn has(&self, k: &str) -> bool {
        self.obj.contains_key(k) && !other_language(k, self.jsonata)
    }
}

fn state(cx: &mut Ctx, v: &Value, at: &str) {
    let Some(obj) = cx.object(v, at) else {
        return;
    };
    let ty = match obj.get("Type") {
        None => {
            cx.schema(at, msg::required(&["Type"]));
            return;
        }
        Some(Value::String(s)) if TYPES.contains(&s.as_str()) => s.as_str(),
        Some(Value::String(_)) => {
            cx.schema(loc::field(at, "Type"), msg::field_one_of("Type", &TYPES));
            return;
        }
        Some(_) => {
            cx.schema(loc::field(at, "Type"), msg::expected("STRING"));
            return;
        }
    };
    let declared = obj.get("QueryLanguage");
    let declares_jsonpath = matches!(declared, Some(Value::String(s)) if s == "JSONPath");
    let jsonata = match declared {
        None => cx.top_jsonata,
        Some(_) => !declares_jsonpath,
    };
    // Measured: a JSONata machine cannot be reverted to JSONPath state by state. That error is
    // the whole answer about the state's fields of the other language.
    let downgraded = cx.top_jsonata && declares_jsonpath;
    if downgraded {
        cx.schema(at, msg::DOWNGRADE);
    }
    let sc = StateCx {
        obj,
        at,
        ty,
        jsonata,
    };
    let allowed = allowed_fields(ty);
    for (k, v) in json::entries(obj) {
        if !COMMON_FIELDS.contains(&k) && !allowed.contains(&k) {
            cx.schema(at, msg::not_supported(k));
            continue;
        }
        if other_language(k, jsonata) {
            if !downgraded {
                cx.schema(at, msg::language_mismatch(jsonata, k));
            }
            continue;
        }
        field(cx, &sc, k, v);
    }
    combinations(cx, &sc);
}

/// Checks one field's value.
fn field(cx: &mut Ctx, sc: &StateCx<'_>, k: &str, v: &Value) {
    let at = sc.field(k);
    let jsonata = sc.jsonata;
    match k {
        "Comment" => {
            cx.string(v, &at);
        }
        "Credentials" => {
            cx.object(v, &at);
        }
        "QueryLanguage" => query_language(cx, v, &at),
        "Next" | "Default" | "Resource" => {
            cx.nonempty_string(k, v, &at);
        }
        "End" => {
            cx.boolean(v, &at);
        }
        "InputPath" | "OutputPath" => paths::json_path(cx, v, &at, true),
        "ResultPath" => paths::reference_path(cx, v, &at, true, Roots::InputOnly),
        "TimeoutSecondsPath"
        | "HeartbeatSecondsPath"
        | "SecondsPath"
        | "TimestampPath"
        | "ItemsPath"
        | "MaxConcurrencyPath"
        | "ToleratedFailurePercentagePath"
        | "ToleratedFailureCountPath" => paths::reference_path(cx, v, &at, false, Roots::Any),
        "ErrorPath" | "CausePath" => paths::error_path(cx, v, &at),
        "Parameters" | "ResultSelector" => paths::payload_object(cx, v, &at),
        "ItemSelector" if jsonata => cx.object_or_expr(v, &at, jsonata),
        "ItemSelector" => paths::payload_object(cx, v, &at),
        "Assign" => {
            cx.variable_names(v, &at, jsonata);
            if jsonata {
                cx.object(v, &at);
            } else {
                paths::payload_object(cx, v, &at);
            }
        }
        "Arguments" => cx.object_or_expr(v, &at, jsonata),
        "Result" => pass_result(cx, v, &at),
        "TimeoutSeconds" | "HeartbeatSeconds" => {
            cx.integer_or_expr(v, &at, jsonata, 1, Some(MAX_SECONDS))
        }
        "Seconds" => cx.integer_or_expr(v, &at, jsonata, 0, Some(MAX_SECONDS)),
        "Timestamp" => cx.timestamp(v, &at, jsonata),
        "Error" | "Cause" => {
            if let Some(s) = cx.string(v, &at) {
                if !jsonata && s.starts_with('$') {
                    // The description AWS documents for NO_PATH.
                    cx.warning(
                        DiagnosticCode::NoPath,
                        &at,
                        format!("Field value looks like a path, but field name does not end with 'Path': '{k}'"),
                    );
                }
            }
        }
        "Choices" => rules::choices(cx, v, &at, jsonata),
        "Branches" => {
            if let Some(branches) = cx.nonempty_array(v, &at) {
                for (i, b) in branches.iter().enumerate() {
                    let bat = loc::index(&at, i);
                    if let Some(m) = cx.object(b, &bat) {
                        machine(cx, m, &bat, Container::Branch);
                    }
                }
            }
        }
        "ItemProcessor" | "Iterator" => {
            if let Some(m) = cx.object(v, &at) {
                machine(cx, m, &at, Container::Processor);
            }
        }
        "Items" => cx.array_or_expr(v, &at, jsonata),
        // Measured: MaxConcurrency has no upper bound (i64::MAX accepted) and "Minimum value is 0".
        "MaxConcurrency" | "ToleratedFailureCount" => cx.integer_or_expr(v, &at, jsonata, 0, None),
        "ToleratedFailurePercentage" => {
            cx.number_or_expr(v, &at, jsonata, (0.0, "0"), Some((100.0, "100")))
        }
        "ItemReader" => map::item_reader(cx, v, &at, jsonata),
        "ItemBatcher" => map::item_batcher(cx, v, &at, jsonata),
        "ResultWriter" => map::result_writer(cx, v, &at, jsonata),
        "Label" => map::label(cx, v, &at),
        "Retry" => retry::retriers(cx, v, &at),
        "Catch" => retry::catchers(cx, v, &at, jsonata),
        // Type, Output: any value.
        _ => {}
    }
}

/// A Pass state's `Result` is used as is: a path in it is a warning.
fn pass_result(cx: &mut Ctx, v: &Value, at: &str) {
    if paths::result_uses_path(v) {
        // The description AWS documents for PASS_RESULT_IS_STATIC.
        cx.warning(
            DiagnosticCode::PassResultIsStatic,
            at,
            "Attempt to use a path in the result of a pass state.",
        );
    }
}

/// Required fields and fields that exclude each other, per state type.
fn combinations(cx: &mut Ctx, sc: &StateCx<'_>) {
    let at = sc.at;
    let require = |cx: &mut Ctx, k: &str| {
        if !sc.obj.contains_key(k) {
            cx.schema(at, msg::required(&[k]));
        }
    };
    let pair = |cx: &mut Ctx, a: &str, b: &str| {
        if sc.has(a) && sc.has(b) {
            cx.error(
                DiagnosticCode::MutuallyExclusiveFields,
                at,
                msg::only_one_present(&[a, b]),
            );
        }
    };
    if matches!(sc.ty, "Task" | "Pass" | "Wait" | "Parallel" | "Map") {
        let has_next = sc.obj.contains_key("Next");
        let ends = sc.obj.get("End") == Some(&Value::Bool(true));
        if has_next && ends {
            cx.error(
                DiagnosticCode::MutuallyExclusiveFields,
                at,
                msg::only_one_present(&["Next", "End"]),
            );
        } else if !has_next && !ends {
            cx.schema(at, msg::only_one_missing(&["Next", "End"]));
        }
    }
    match sc.ty {
        "Task" => {
            require(cx, "Resource");
            pair(cx, "TimeoutSeconds", "TimeoutSecondsPath");
            pair(cx, "HeartbeatSeconds", "HeartbeatSecondsPath");
        }
        "Wait" => {
            // Reported order (cdk-preflight): [SecondsPath, Seconds, TimestampPath, Timestamp].
            let all = ["SecondsPath", "Seconds", "TimestampPath", "Timestamp"];
            let n = all.iter().filter(|k| sc.has(k)).count();
            if n > 1 {
                cx.error(
                    DiagnosticCode::MutuallyExclusiveFields,
                    at,
                    msg::only_one_present(&all),
                );
            } else if n == 0 && !all.iter().any(|k| sc.obj.contains_key(*k)) {
                cx.schema(at, msg::only_one_missing(&all));
            }
        }
        "Fail" => {
            pair(cx, "Error", "ErrorPath");
            pair(cx, "Cause", "CausePath");
        }
        "Choice" => require(cx, "Choices"),
        "Parallel" => require(cx, "Branches"),
        "Map" => {
            let p = sc.obj.contains_key("ItemProcessor");
            let i = sc.obj.contains_key("Iterator");
            if p && i {
                cx.error(
                    DiagnosticCode::MutuallyExclusiveFields,
                    at,
                    msg::only_one_present(&["ItemProcessor", "Iterator"]),
                );
            } else if !p && !i {
                cx.schema(at, msg::only_one_missing(&["ItemProcessor", "Iterator"]));
            }
            pair(cx, "MaxConcurrency", "MaxConcurrencyPath");
            pair(
                cx,
                "ToleratedFailurePercentage",
                "ToleratedFailurePercentagePath",
            );
            pair(cx, "ToleratedFailureCount", "ToleratedFailureCountPath");
            // Assumption: Parameters is the Map's legacy name for ItemSelector.
            pair(cx, "ItemSelector", "Parameters");
        }
        _ => {}
    }
}
