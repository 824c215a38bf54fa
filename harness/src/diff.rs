//! Comparing values and execution histories, with readable diffs.
//!
//! Histories are compared per *lane*, not in raw order: the top level of the execution, each
//! Parallel branch and each Map iteration is a lane, and the events inside different lanes
//! may interleave differently on different backends (or different scheduler seeds). An
//! event's causal link (`previousEventId`) is compared as what it points to: an earlier
//! event of the same lane (by position), an event of an enclosing lane (by lane and
//! position), or, for the events that join or chain lanes whose order depends on the
//! interleaving (a Parallel state's end, the next Map iteration's start, aborts), the type
//! of event in the other lane. Raw event ids are never compared.

use crate::scenario::Level;
use serde_json::{Map, Value};
use similar::{capture_diff_slices, Algorithm, DiffOp, TextDiff};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// The lane of the execution's top level.
pub const ROOT_LANE: &str = "execution";

/// One event in canonical form: where it is and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneEvent {
    /// The event type.
    pub event_type: String,
    /// The state it concerns, when its details name one.
    pub name: Option<String>,
    /// Its causal link, independent of event ids.
    pub follows: String,
    /// The event without `id` and `previousEventId` (and with `follows`).
    pub body: Value,
}

impl LaneEvent {
    fn key(&self, level: Level) -> String {
        match (&self.name, level >= Level::Types) {
            (Some(n), _) => format!("{} '{n}'", self.event_type),
            (None, _) => self.event_type.clone(),
        }
    }

    fn rendered(&self, level: Level) -> Value {
        if level >= Level::Details {
            self.body.clone()
        } else {
            let mut m = Map::new();
            m.insert("type".into(), Value::String(self.event_type.clone()));
            if let Some(n) = &self.name {
                m.insert("name".into(), Value::String(n.clone()));
            }
            m.insert("follows".into(), Value::String(self.follows.clone()));
            Value::Object(m)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CtxKind {
    Parallel,
    Map,
}

#[derive(Debug)]
struct Ctx {
    kind: CtxKind,
    name: String,
    key: String,
    parent_lane: usize,
    started: u64,
    children: HashMap<String, usize>,
    branch_names: HashMap<String, usize>,
}

#[derive(Debug)]
struct LaneData {
    key: String,
    /// The context this lane is a branch or iteration of.
    ctx: Option<usize>,
    events: Vec<usize>,
}

fn detail_field<'a>(e: &'a Value, field: &str) -> Option<&'a Value> {
    e.as_object()?
        .iter()
        .find(|(k, _)| k.ends_with("EventDetails"))
        .and_then(|(_, d)| d.get(field))
}

/// Splits a canonical history into lanes, each a sequence of events in canonical form.
pub fn lanes(events: &[Value]) -> BTreeMap<String, Vec<LaneEvent>> {
    let mut lanes = vec![LaneData {
        key: ROOT_LANE.into(),
        ctx: None,
        events: Vec::new(),
    }];
    let mut ctxs: Vec<Ctx> = Vec::new();
    let mut lane_of: HashMap<u64, (usize, usize)> = HashMap::new();
    let mut index_of: HashMap<u64, usize> = HashMap::new();
    let mut ctx_counts: HashMap<(usize, String), usize> = HashMap::new();
    let types: Vec<String> = events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or("?").to_string())
        .collect();
    // The innermost context of `kind` that lane `l` is inside.
    fn enclosing(lanes: &[LaneData], ctxs: &[Ctx], mut l: usize, kind: CtxKind) -> Option<usize> {
        while let Some(c) = lanes[l].ctx {
            if ctxs[c].kind == kind {
                return Some(c);
            }
            l = ctxs[c].parent_lane;
        }
        None
    }
    fn child_lane(lanes: &mut Vec<LaneData>, ctxs: &mut [Ctx], c: usize, child: String) -> usize {
        if let Some(&l) = ctxs[c].children.get(&child) {
            return l;
        }
        lanes.push(LaneData {
            key: format!("{} [{child}]", ctxs[c].key),
            ctx: Some(c),
            events: Vec::new(),
        });
        ctxs[c].children.insert(child, lanes.len() - 1);
        lanes.len() - 1
    }
    let mut follows: Vec<String> = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let id = e["id"].as_u64().unwrap_or(i as u64 + 1);
        let prev = e["previousEventId"].as_u64().unwrap_or(0);
        let t = types[i].as_str();
        let plane = if prev == 0 {
            0
        } else {
            lane_of.get(&prev).map(|&(l, _)| l).unwrap_or(0)
        };
        let started_ctx = ctxs.iter().rposition(|c| c.started == prev && prev != 0);
        let lane = match t {
            "MapIterationStarted"
            | "MapIterationSucceeded"
            | "MapIterationFailed"
            | "MapIterationAborted" => {
                let name = detail_field(e, "name")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let index = detail_field(e, "index")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                match ctxs
                    .iter()
                    .rposition(|c| c.kind == CtxKind::Map && c.name == name)
                {
                    Some(c) => child_lane(&mut lanes, &mut ctxs, c, format!("iteration {index}")),
                    None => plane,
                }
            }
            "ParallelStateSucceeded"
            | "ParallelStateFailed"
            | "MapStateSucceeded"
            | "MapStateFailed"
            | "ParallelStateExited"
            | "MapStateExited" => {
                let kind = if t.starts_with("Map") {
                    CtxKind::Map
                } else {
                    CtxKind::Parallel
                };
                let prev_type = index_of.get(&prev).map(|&j| types[j].as_str());
                let joined_already = matches!(
                    prev_type,
                    Some(
                        "ParallelStateSucceeded"
                            | "ParallelStateFailed"
                            | "MapStateSucceeded"
                            | "MapStateFailed"
                    )
                );
                if joined_already {
                    plane
                } else {
                    match started_ctx
                        .filter(|&c| ctxs[c].kind == kind)
                        .or_else(|| enclosing(&lanes, &ctxs, plane, kind))
                    {
                        Some(c) => ctxs[c].parent_lane,
                        None => plane,
                    }
                }
            }
            _ if t.ends_with("StateAborted") => {
                match enclosing(&lanes, &ctxs, plane, CtxKind::Parallel)
                    .into_iter()
                    .chain(enclosing(&lanes, &ctxs, plane, CtxKind::Map))
                    .max()
                {
                    Some(c) => child_lane(&mut lanes, &mut ctxs, c, "aborted".into()),
                    None => plane,
                }
            }
            _ => match started_ctx.filter(|&c| ctxs[c].kind == CtxKind::Parallel) {
                Some(c) => {
                    let first = detail_field(e, "name")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_string();
                    let n = ctxs[c].branch_names.entry(first.clone()).or_insert(0);
                    *n += 1;
                    let child = if *n == 1 {
                        format!("branch {first}")
                    } else {
                        format!("branch {first} ({n})")
                    };
                    child_lane(&mut lanes, &mut ctxs, c, child)
                }
                None => plane,
            },
        };
        // The causal link, in terms that do not depend on event ids or interleaving.
        let link = if prev == 0 {
            "start".to_string()
        } else {
            match lane_of.get(&prev) {
                None => format!("unknown event {prev}"),
                Some(&(pl, pos)) if pl == lane => format!("#{pos}"),
                Some(&(pl, pos)) if is_ancestor(&lanes, &ctxs, pl, lane) => {
                    format!("{}#{pos}", lanes[pl].key)
                }
                Some(&(pl, pos)) => {
                    let ptype = index_of
                        .get(&prev)
                        .map(|&j| types[j].as_str())
                        .unwrap_or("?");
                    let last = pos + 1 == lanes[pl].events.len();
                    if t.ends_with("Succeeded") || t.ends_with("Failed") || t.ends_with("Exited") {
                        if last {
                            "the end of a branch or iteration".to_string()
                        } else {
                            format!("a {ptype} inside a branch or iteration")
                        }
                    } else {
                        format!("a {ptype} in another branch or iteration")
                    }
                }
            }
        };
        if t == "ParallelStateStarted" || t == "MapStateStarted" {
            // The state's name is in this lane's latest StateEntered.
            let name = lanes[lane]
                .events
                .iter()
                .rev()
                .find_map(|&j| {
                    types[j]
                        .ends_with("StateEntered")
                        .then(|| detail_field(&events[j], "name").and_then(Value::as_str))
                        .flatten()
                })
                .unwrap_or("?")
                .to_string();
            let count = ctx_counts.entry((lane, name.clone())).or_insert(0);
            *count += 1;
            let label = if *count == 1 {
                name.clone()
            } else {
                format!("{name} ({count})")
            };
            ctxs.push(Ctx {
                kind: if t == "MapStateStarted" {
                    CtxKind::Map
                } else {
                    CtxKind::Parallel
                },
                name,
                key: format!("{} > {label}", lanes[lane].key),
                parent_lane: lane,
                started: id,
                children: HashMap::new(),
                branch_names: HashMap::new(),
            });
        }
        lane_of.insert(id, (lane, lanes[lane].events.len()));
        index_of.insert(id, i);
        lanes[lane].events.push(i);
        follows.push(link);
    }
    let mut out = BTreeMap::new();
    for l in &lanes {
        if l.events.is_empty() && l.key != ROOT_LANE {
            continue;
        }
        let mut seq: Vec<LaneEvent> = l
            .events
            .iter()
            .map(|&i| {
                let e = &events[i];
                let mut body = Map::new();
                body.insert("type".into(), Value::String(types[i].clone()));
                body.insert("follows".into(), Value::String(follows[i].clone()));
                if let Some(m) = e.as_object() {
                    for (k, v) in m {
                        if k != "id" && k != "previousEventId" && k != "type" {
                            body.insert(k.clone(), v.clone());
                        }
                    }
                }
                LaneEvent {
                    event_type: types[i].clone(),
                    name: detail_field(e, "name")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    follows: follows[i].clone(),
                    body: Value::Object(body),
                }
            })
            .collect();
        if l.key.ends_with("[aborted]") {
            // Aborts are recorded in whatever order the branches are stopped in.
            seq.sort_by_key(|e| e.body.to_string());
        }
        out.insert(l.key.clone(), seq);
    }
    out
}

fn is_ancestor(lanes: &[LaneData], ctxs: &[Ctx], anc: usize, mut l: usize) -> bool {
    while let Some(c) = lanes[l].ctx {
        l = ctxs[c].parent_lane;
        if l == anc {
            return true;
        }
    }
    false
}

/// Every difference between two JSON values, one line each, naming the field
/// (`a.b[2].c`) and both values.
pub fn field_diffs(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    let show = |v: &Value| {
        let s = v.to_string();
        if s.len() > 120 {
            format!(
                "{}…",
                &s[..s.char_indices().nth(117).map_or(s.len(), |(i, _)| i)]
            )
        } else {
            s
        }
    };
    let at = |p: &str| {
        if p.is_empty() {
            "(the value)".to_string()
        } else {
            p.to_string()
        }
    };
    match (expected, actual) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match b.get(k) {
                    Some(vb) => field_diffs(&p, va, vb, out),
                    None => out.push(format!("{p}: expected {}, but it is missing", show(va))),
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    out.push(format!("{p}: not expected, got {}", show(vb)));
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                field_diffs(&format!("{path}[{i}]"), va, vb, out);
            }
        }
        (a, b) if numbers_equal(a, b) => {}
        (a, b) => out.push(format!(
            "{}: expected {}, got {}",
            at(path),
            show(a),
            show(b)
        )),
    }
}

/// JSON equality where `1` and `1.0` are the same number, as JSON means them.
fn numbers_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Whether two JSON values are equal (numbers by value).
pub fn json_equal(a: &Value, b: &Value) -> bool {
    let mut d = Vec::new();
    field_diffs("", a, b, &mut d);
    d.is_empty()
}

/// A unified diff of two texts, `-` for expected and `+` for actual lines.
pub fn text_diff(expected: &str, actual: &str) -> String {
    TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string()
}

/// A readable report of how `actual` differs from `expected` (pretty JSON), or `None`.
pub fn value_diff(what: &str, expected: &Value, actual: &Value) -> Option<String> {
    let mut fields = Vec::new();
    field_diffs("", expected, actual, &mut fields);
    if fields.is_empty() {
        return None;
    }
    let mut s = format!("{what} differs:\n");
    for f in &fields {
        let _ = writeln!(s, "  {f}");
    }
    let e = serde_json::to_string_pretty(expected).unwrap_or_default() + "\n";
    let a = serde_json::to_string_pretty(actual).unwrap_or_default() + "\n";
    s.push_str(&text_diff(&e, &a));
    Some(s)
}

fn render_lane(seq: &[LaneEvent], level: Level) -> String {
    let mut s = String::new();
    for (i, e) in seq.iter().enumerate() {
        let _ = writeln!(s, "#{i} {}", e.key(level));
        let body = serde_json::to_string_pretty(&e.rendered(level)).unwrap_or_default();
        for line in body.lines() {
            let _ = writeln!(s, "    {line}");
        }
    }
    s
}

/// Compares two canonical histories (already normalised and masked) at `level`
/// ([`Level::Types`] or above). `None` when they agree; otherwise a report naming each
/// differing event and field, followed by a unified diff of the differing lanes.
pub fn history_diff(expected: &[Value], actual: &[Value], level: Level) -> Option<String> {
    let le = lanes(expected);
    let la = lanes(actual);
    let mut problems: Vec<String> = Vec::new();
    let mut diffs = String::new();
    let mut keys: Vec<&String> = le.keys().chain(la.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let (e, a) = match (le.get(key), la.get(key)) {
            (Some(e), Some(a)) => (e.as_slice(), a.as_slice()),
            (Some(e), None) => {
                problems.push(format!(
                    "{key}: missing ({} events expected, starting with {})",
                    e.len(),
                    e.first().map(|x| x.key(level)).unwrap_or_default()
                ));
                (e.as_slice(), &[][..])
            }
            (None, Some(a)) => {
                problems.push(format!(
                    "{key}: not expected ({} events, starting with {})",
                    a.len(),
                    a.first().map(|x| x.key(level)).unwrap_or_default()
                ));
                (&[][..], a.as_slice())
            }
            (None, None) => continue,
        };
        let before = problems.len();
        let ek: Vec<String> = e.iter().map(|x| x.key(level)).collect();
        let ak: Vec<String> = a.iter().map(|x| x.key(level)).collect();
        for op in capture_diff_slices(Algorithm::Myers, &ek, &ak) {
            match op {
                DiffOp::Equal {
                    old_index,
                    new_index,
                    len,
                } => {
                    for k in 0..len {
                        let (x, y) = (&e[old_index + k], &a[new_index + k]);
                        let mut fields = Vec::new();
                        field_diffs("", &x.rendered(level), &y.rendered(level), &mut fields);
                        for f in fields {
                            problems.push(format!(
                                "{key}, event #{} {}: {f}",
                                new_index + k,
                                y.key(level)
                            ));
                        }
                    }
                }
                DiffOp::Delete {
                    old_index, old_len, ..
                } => {
                    for x in &e[old_index..old_index + old_len] {
                        problems.push(format!("{key}: missing event {}", x.key(level)));
                    }
                }
                DiffOp::Insert {
                    new_index, new_len, ..
                } => {
                    for y in &a[new_index..new_index + new_len] {
                        problems.push(format!("{key}: unexpected event {}", y.key(level)));
                    }
                }
                DiffOp::Replace {
                    old_index,
                    old_len,
                    new_index,
                    new_len,
                } => {
                    for x in &e[old_index..old_index + old_len] {
                        problems.push(format!("{key}: missing event {}", x.key(level)));
                    }
                    for y in &a[new_index..new_index + new_len] {
                        problems.push(format!("{key}: unexpected event {}", y.key(level)));
                    }
                }
            }
        }
        if problems.len() > before {
            let _ = writeln!(diffs, "--- lane {key}");
            diffs.push_str(&text_diff(&render_lane(e, level), &render_lane(a, level)));
        }
    }
    if problems.is_empty() {
        return None;
    }
    let mut s = String::from("history differs:\n");
    for p in &problems {
        let _ = writeln!(s, "  {p}");
    }
    s.push_str(&diffs);
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(id: u64, prev: u64, t: &str, details: Value) -> Value {
        let mut m = json!({"id": id, "previousEventId": prev, "type": t, "timestamp": 0});
        if !details.is_null() {
            let key = if t.ends_with("StateEntered") {
                "stateEnteredEventDetails".to_string()
            } else if t.ends_with("StateExited") {
                "stateExitedEventDetails".to_string()
            } else {
                let mut c = t.chars();
                let first = c.next().map(|c| c.to_ascii_lowercase()).unwrap_or('x');
                format!("{first}{}EventDetails", c.as_str())
            };
            m[key] = details;
        }
        m
    }

    fn entered(id: u64, prev: u64, t: &str, name: &str) -> Value {
        ev(id, prev, t, json!({"name": name, "input": {}}))
    }

    fn exited(id: u64, prev: u64, t: &str, name: &str) -> Value {
        ev(id, prev, t, json!({"name": name, "output": {}}))
    }

    /// A Parallel state with branches A (Pass A1, Pass A2) and B (Pass B1), the branches
    /// recorded in the order `order` gives.
    fn parallel(a_first: bool) -> Vec<Value> {
        let mut h = vec![
            ev(1, 0, "ExecutionStarted", json!({"input": {}})),
            entered(2, 0, "ParallelStateEntered", "P"),
            ev(3, 2, "ParallelStateStarted", Value::Null),
        ];
        if a_first {
            h.extend([
                entered(4, 3, "PassStateEntered", "A1"),
                entered(5, 3, "PassStateEntered", "B1"),
                exited(6, 4, "PassStateExited", "A1"),
                exited(7, 5, "PassStateExited", "B1"),
                entered(8, 6, "PassStateEntered", "A2"),
                exited(9, 8, "PassStateExited", "A2"),
                ev(10, 9, "ParallelStateSucceeded", Value::Null),
            ]);
        } else {
            h.extend([
                entered(4, 3, "PassStateEntered", "B1"),
                exited(5, 4, "PassStateExited", "B1"),
                entered(6, 3, "PassStateEntered", "A1"),
                exited(7, 6, "PassStateExited", "A1"),
                entered(8, 7, "PassStateEntered", "A2"),
                exited(9, 8, "PassStateExited", "A2"),
                ev(10, 5, "ParallelStateSucceeded", Value::Null),
            ]);
        }
        h.extend([
            exited(11, 10, "ParallelStateExited", "P"),
            ev(12, 11, "ExecutionSucceeded", json!({"output": {}})),
        ]);
        h
    }

    #[test]
    fn parallel_branches_interleaved_differently_compare_equal() {
        let a = parallel(true);
        let b = parallel(false);
        assert_ne!(a, b);
        for level in [Level::Types, Level::Details, Level::Cause] {
            assert_eq!(history_diff(&a, &b, level), None, "{level:?}");
        }
        let l = lanes(&a);
        assert_eq!(
            l.keys().collect::<Vec<_>>(),
            [
                "execution",
                "execution > P [branch A1]",
                "execution > P [branch B1]"
            ]
        );
    }

    #[test]
    fn a_missing_event_is_reported_by_name() {
        let a = parallel(true);
        let mut b = a.clone();
        b.retain(|e| e["id"] != 9);
        // Keep the join's link on the branch's last event.
        let join = b.len() - 3;
        b[join]["previousEventId"] = json!(8);
        let d = history_diff(&a, &b, Level::Types).expect("differs");
        assert!(
            d.contains("execution > P [branch A1]: missing event PassStateExited 'A2'"),
            "{d}"
        );
    }

    #[test]
    fn an_extra_event_is_reported() {
        let a = parallel(true);
        let mut b = a.clone();
        b.insert(
            9,
            ev(
                13,
                9,
                "PassStateEntered",
                json!({"name": "A3", "input": {}}),
            ),
        );
        let d = history_diff(&a, &b, Level::Types).expect("differs");
        assert!(d.contains("unexpected event PassStateEntered 'A3'"), "{d}");
    }

    #[test]
    fn a_wrong_field_is_named() {
        let a = parallel(true);
        let mut b = a.clone();
        b[7]["stateEnteredEventDetails"]["input"] = json!({"x": 1});
        assert_eq!(history_diff(&a, &b, Level::Types), None);
        let d = history_diff(&a, &b, Level::Details).expect("differs");
        assert!(
            d.contains("event #2 PassStateEntered 'A2': stateEnteredEventDetails.input.x: not expected, got 1"),
            "{d}"
        );
    }

    #[test]
    fn a_wrong_causal_link_is_caught() {
        let a = parallel(true);
        let mut b = a.clone();
        // A2's exit now follows A1's entry instead of A2's entry.
        b[8]["previousEventId"] = json!(4);
        let d = history_diff(&a, &b, Level::Types).expect("differs");
        assert!(d.contains("follows"), "{d}");
    }

    #[test]
    fn map_iterations_are_lanes_by_index() {
        let h = vec![
            ev(1, 0, "ExecutionStarted", json!({"input": []})),
            entered(2, 0, "MapStateEntered", "M"),
            ev(3, 2, "MapStateStarted", json!({"length": 2})),
            ev(
                4,
                3,
                "MapIterationStarted",
                json!({"name": "M", "index": 0}),
            ),
            ev(
                5,
                3,
                "MapIterationStarted",
                json!({"name": "M", "index": 1}),
            ),
            entered(6, 5, "PassStateEntered", "X"),
            entered(7, 4, "PassStateEntered", "X"),
            exited(8, 7, "PassStateExited", "X"),
            ev(
                9,
                8,
                "MapIterationSucceeded",
                json!({"name": "M", "index": 0}),
            ),
            exited(10, 6, "PassStateExited", "X"),
            ev(
                11,
                10,
                "MapIterationSucceeded",
                json!({"name": "M", "index": 1}),
            ),
            ev(12, 11, "MapStateSucceeded", Value::Null),
            exited(13, 11, "MapStateExited", "M"),
        ];
        let l = lanes(&h);
        assert_eq!(l["execution > M [iteration 0]"].len(), 4);
        assert_eq!(l["execution > M [iteration 1]"].len(), 4);
        assert_eq!(l["execution"].len(), 5);
        assert_eq!(
            l["execution"][4].follows,
            "the end of a branch or iteration"
        );
    }
}
