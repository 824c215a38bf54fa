//! Transitions within one scope (the top level, a Parallel branch, a Map's item processor):
//! targets that name no state, states nothing reaches, and the missing terminal state.
//!
//! Measured AWS behaviour (floci's tests against validate-state-machine-definition):
//! - every `Next`, `Default`, `Choices[i].Next`, `Catch[i].Next` and `StartAt` naming no state of
//!   its own scope is MISSING_TRANSITION_TARGET "Missing 'Next' target: X" at that field;
//! - a state nothing reaches from `StartAt` is MISSING_TRANSITION_TARGET `State "X" is not
//!   reachable.` at the state;
//! - MISSING_END_STATE ("Workflow has no terminal state", no location) is raised only at the top
//!   level, when no top-level state is terminal (Succeed, Fail or `End: true`), whether or not
//!   that state is reachable; it then replaces the unreachable-state report at the top level, while
//!   dangling targets are still reported. Nested scopes get no MISSING_END_STATE (a loop inside a
//!   Map's processor is accepted).

use super::ctx::{loc, msg, Ctx};
use super::json;
use crate::diagnostics::DiagnosticCode;
use serde_json::{Map, Value};
use std::collections::{HashSet, VecDeque};

/// Checks the transitions of one scope. `base` is the location of the object holding `States`.
pub(super) fn check_scope(
    cx: &mut Ctx,
    states: &Map<String, Value>,
    base: &str,
    start_at: Option<&Value>,
    top: bool,
) {
    let names: HashSet<&str> = json::entries(states).map(|(k, _)| k).collect();
    let states_at = loc::field(base, "States");
    for (name, st) in json::entries(states) {
        for (target, at) in transitions(st, &loc::field(&states_at, name)) {
            if !target.is_empty() && !names.contains(target) {
                cx.error(
                    DiagnosticCode::MissingTransitionTarget,
                    at,
                    msg::missing_target(target),
                );
            }
        }
    }
    let start = match start_at {
        Some(Value::String(s)) if !s.is_empty() => Some(s.as_str()),
        _ => None,
    };
    if let Some(s) = start {
        if !names.contains(s) {
            cx.error(
                DiagnosticCode::MissingTransitionTarget,
                loc::field(base, "StartAt"),
                msg::missing_target(s),
            );
        }
    }
    if top && !json::entries(states).any(|(_, st)| is_terminal(st)) {
        cx.error(DiagnosticCode::MissingEndState, "", msg::NO_TERMINAL_STATE);
        return;
    }
    // Without a usable StartAt (already reported) there is nothing to walk from. A StartAt naming
    // no state leaves every state of the scope unreachable (assumption, as floci does).
    let Some(start) = start else {
        return;
    };
    let mut reached: HashSet<&str> = HashSet::new();
    let mut queue = VecDeque::new();
    if names.contains(start) {
        reached.insert(start);
        queue.push_back(start);
    }
    while let Some(name) = queue.pop_front() {
        let Some(st) = states.get(name) else {
            continue;
        };
        for (target, _) in transitions(st, "") {
            if let Some(&t) = names.get(target) {
                if reached.insert(t) {
                    queue.push_back(t);
                }
            }
        }
    }
    for (name, _) in json::entries(states) {
        if !reached.contains(name) {
            cx.error(
                DiagnosticCode::UnreachableState,
                loc::field(&states_at, name),
                msg::unreachable(name),
            );
        }
    }
}

/// Succeed, Fail, or a state with `End: true`.
fn is_terminal(st: &Value) -> bool {
    let Some(obj) = st.as_object() else {
        return false;
    };
    matches!(obj.get("Type"), Some(Value::String(t)) if t == "Succeed" || t == "Fail")
        || obj.get("End") == Some(&Value::Bool(true))
}

/// The state names a state can move to, with the location of each.
fn transitions<'v>(st: &'v Value, at: &str) -> Vec<(&'v str, String)> {
    let mut out = Vec::new();
    let Some(obj) = st.as_object() else {
        return out;
    };
    for k in ["Next", "Default"] {
        if let Some(Value::String(t)) = obj.get(k) {
            out.push((t.as_str(), loc::field(at, k)));
        }
    }
    for list in ["Choices", "Catch"] {
        if let Some(Value::Array(items)) = obj.get(list) {
            for (i, item) in items.iter().enumerate() {
                if let Some(Value::String(t)) = item.get("Next") {
                    out.push((
                        t.as_str(),
                        loc::field(&loc::index(&loc::field(at, list), i), "Next"),
                    ));
                }
            }
        }
    }
    out
}
