//! Invariants of an execution history, checked against the generated model.
//!
//! Each check returns `Err(text)` naming the first violation, with event ids, so a failing
//! property explains itself next to the shrunk workflow.

use crate::gen::{Rendered, Retrier, TaskMock};
use engine::{Event, EventKind, ExecutionResult, ExecutionStatus};
use std::collections::BTreeMap;

/// Every invariant this module knows, in order: well-formed ids and links, one start and
/// one end, Entered/Exited pairing, nothing in a Parallel or Map after it joined, retries
/// and backoff, Map concurrency.
pub fn history(rendered: &Rendered, result: &ExecutionResult) -> Result<(), String> {
    let h = &result.history;
    ids_and_links(h)?;
    start_and_end(result)?;
    entered_exited(result)?;
    nothing_after_join(h)?;
    retries(rendered, h)?;
    map_concurrency(rendered, h)?;
    Ok(())
}

fn describe(e: &Event) -> String {
    format!("#{} {}", e.id, e.kind.type_name())
}

/// Ids are 1..n in order, and each `previousEventId` names an earlier event (0 only for the
/// first).
pub fn ids_and_links(h: &[Event]) -> Result<(), String> {
    for (i, e) in h.iter().enumerate() {
        let want = i as u64 + 1;
        if e.id.0 != want {
            return Err(format!("event {want} has id {}", e.id));
        }
        let prev = e.previous_event_id.0;
        if i == 0 {
            if prev != 0 {
                return Err(format!("the first event follows #{prev}"));
            }
        } else if prev == 0 {
            // AWS records the first state's Entered event (and an EvaluationFailed that
            // precedes it) with previousEventId 0, not 1; nothing else may have 0.
            let first_state = want == 2 && matches!(e.kind, EventKind::StateEntered { .. });
            let first_evaluation =
                want <= 3 && matches!(e.kind, EventKind::EvaluationFailed { .. });
            if !first_state && !first_evaluation {
                return Err(format!("{} follows no event", describe(e)));
            }
        } else if prev >= want {
            return Err(format!(
                "{} follows #{prev}, not an earlier event",
                describe(e)
            ));
        }
        if i > 0 && e.timestamp < h[i - 1].timestamp {
            return Err(format!(
                "{} is earlier than the event before it",
                describe(e)
            ));
        }
    }
    Ok(())
}

fn is_terminal(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::ExecutionSucceeded { .. }
            | EventKind::ExecutionFailed { .. }
            | EventKind::ExecutionTimedOut { .. }
            | EventKind::ExecutionAborted { .. }
    )
}

/// Exactly one ExecutionStarted, first, and one terminal event, last, agreeing with the
/// result's status.
pub fn start_and_end(result: &ExecutionResult) -> Result<(), String> {
    let h = &result.history;
    let (Some(first), Some(last)) = (h.first(), h.last()) else {
        return Err("the history is empty".into());
    };
    if !matches!(first.kind, EventKind::ExecutionStarted { .. }) {
        return Err(format!("the first event is {}", describe(first)));
    }
    if let Some(e) = h[1..]
        .iter()
        .find(|e| matches!(e.kind, EventKind::ExecutionStarted { .. }))
    {
        return Err(format!("a second ExecutionStarted: {}", describe(e)));
    }
    if let Some(e) = h[..h.len() - 1].iter().find(|e| is_terminal(&e.kind)) {
        return Err(format!("a terminal event before the last: {}", describe(e)));
    }
    let agrees = matches!(
        (&last.kind, result.status),
        (
            EventKind::ExecutionSucceeded { .. },
            ExecutionStatus::Succeeded
        ) | (EventKind::ExecutionFailed { .. }, ExecutionStatus::Failed)
            | (
                EventKind::ExecutionTimedOut { .. },
                ExecutionStatus::TimedOut
            )
            | (EventKind::ExecutionAborted { .. }, ExecutionStatus::Aborted)
    );
    if !agrees {
        return Err(format!(
            "the last event is {}, the status {}",
            describe(last),
            result.status.as_str()
        ));
    }
    if let EventKind::ExecutionSucceeded { output } = &last.kind {
        let parsed: serde_json::Value = serde_json::from_str(output).map_err(|e| e.to_string())?;
        if Some(&parsed) != result.output.as_ref() {
            return Err("ExecutionSucceeded's output is not the result's output".into());
        }
    }
    Ok(())
}

fn is_failure_or_abort(kind: &EventKind) -> bool {
    let t = kind.type_name();
    t.ends_with("Failed") || t.ends_with("Aborted") || t.ends_with("TimedOut")
}

/// A state never exits before it entered (per name, at every point of the history); a
/// simple state never leads on to the next without exiting; when nothing failed or was
/// aborted anywhere, every state that entered also exited.
pub fn entered_exited(result: &ExecutionResult) -> Result<(), String> {
    let mut open: BTreeMap<&str, i64> = BTreeMap::new();
    for e in &result.history {
        match &e.kind {
            EventKind::StateEntered { name, .. } => *open.entry(name).or_default() += 1,
            EventKind::StateExited { name, .. } => {
                let n = open.entry(name).or_default();
                *n -= 1;
                if *n < 0 {
                    return Err(format!(
                        "{} exits '{name}', which had not entered",
                        describe(e)
                    ));
                }
            }
            _ => {}
        }
    }
    // A simple state (not Parallel or Map, whose branches' states lie below it) never leads
    // on to another state without exiting: below its Entered event in the previousEventId
    // tree, another state's Entered comes only after its own Exited or a failure.
    let h = &result.history;
    for (i, e) in h.iter().enumerate() {
        let EventKind::StateEntered {
            state_type, name, ..
        } = &e.kind
        else {
            continue;
        };
        if matches!(*state_type, "Parallel" | "Map") {
            continue;
        }
        let exited = (i + 1..h.len()).find(|&k| {
            matches!(&h[k].kind, EventKind::StateExited { name: n, .. } if n == name)
                && in_subtree(h, k, i)
        });
        let next = (i + 1..h.len())
            .find(|&k| matches!(h[k].kind, EventKind::StateEntered { .. }) && in_subtree(h, k, i));
        if let Some(k) = next {
            // A failure on the way (a caught error, a failed iteration) ends the state
            // without an Exited event, and so does a retry of the enclosing Parallel or
            // Map state, whose next Started event follows the failing event (AWS records
            // no Failed event between attempts).
            let mut failed = false;
            let mut j = k;
            while j != i {
                failed |= is_failure_or_abort(&h[j].kind)
                    || matches!(
                        h[j].kind,
                        EventKind::ParallelStateStarted | EventKind::MapStateStarted { .. }
                    );
                j = h[j].previous_event_id.0 as usize - 1;
            }
            if exited.is_none_or(|x| x > k) && !failed {
                return Err(format!(
                    "{} leads on to {} without exiting '{name}'",
                    describe(e),
                    describe(&h[k])
                ));
            }
        }
    }
    let clean = !result.history.iter().any(|e| is_failure_or_abort(&e.kind));
    if clean && result.status == ExecutionStatus::Succeeded {
        if let Some((name, n)) = open.iter().find(|(_, n)| **n != 0) {
            return Err(format!("'{name}' entered {n} more time(s) than it exited"));
        }
    }
    Ok(())
}

/// The children of each event in the `previousEventId` tree (by index).
fn children(h: &[Event]) -> Vec<Vec<usize>> {
    let mut c = vec![Vec::new(); h.len()];
    for (i, e) in h.iter().enumerate() {
        let p = e.previous_event_id.0 as usize;
        if p >= 1 && p <= h.len() && p - 1 < i {
            c[p - 1].push(i);
        }
    }
    c
}

fn in_subtree(h: &[Event], mut i: usize, root: usize) -> bool {
    loop {
        if i == root {
            return true;
        }
        let p = h[i].previous_event_id.0 as usize;
        if p == 0 || p > i {
            return false;
        }
        i = p - 1;
    }
}

/// Once a Parallel or Map state has joined (its Succeeded or Failed event), no branch or
/// iteration it started records anything more: every later event below its Started event
/// in the `previousEventId` tree follows the join. This is what a fail-fast abort
/// promises for the siblings of a failed branch.
pub fn nothing_after_join(h: &[Event]) -> Result<(), String> {
    for (s, start) in h.iter().enumerate() {
        let join_kinds: fn(&EventKind) -> bool = match start.kind {
            EventKind::ParallelStateStarted => |k| {
                matches!(
                    k,
                    EventKind::ParallelStateSucceeded | EventKind::ParallelStateFailed
                )
            },
            EventKind::MapStateStarted { .. } => {
                |k| matches!(k, EventKind::MapStateSucceeded | EventKind::MapStateFailed)
            }
            _ => continue,
        };
        // Its join: the join event whose chain reaches `s` without an unclosed start on
        // the way (a nested state's join, or a retry's, belongs to another start).
        let Some(j) = (s + 1..h.len())
            .find(|&j| join_kinds(&h[j].kind) && in_subtree(h, j, s) && own_join(h, j, s))
        else {
            continue;
        };
        // The join's own Exited event follows what the join follows (AWS links both to the
        // last branch event), and so does a failure of the state at its exit (its output
        // over the payload limit): the continuation grows from any of them.
        let joined_from = h[j].previous_event_id;
        let roots: Vec<usize> = std::iter::once(j)
            .chain((j + 1..h.len()).filter(|&k| {
                h[k].previous_event_id == joined_from
                    && (matches!(h[k].kind, EventKind::StateExited { .. })
                        || is_failure_or_abort(&h[k].kind))
            }))
            .collect();
        for (k, e) in h.iter().enumerate().skip(j + 1) {
            if in_subtree(h, k, s) && !roots.iter().any(|&r| in_subtree(h, k, r)) {
                return Err(format!(
                    "{} is recorded in a branch of {} after it joined at {}",
                    describe(e),
                    describe(start),
                    describe(&h[j])
                ));
            }
        }
    }
    Ok(())
}

/// Whether join `j` belongs to start `s`: on the chain from `j` up to `s`, every Parallel or
/// Map start met is closed by a join met before it (a nested state's, or a retry's).
fn own_join(h: &[Event], j: usize, s: usize) -> bool {
    let mut depth = 0i64;
    let mut i = j;
    loop {
        let p = h[i].previous_event_id.0 as usize;
        if p == 0 {
            return false;
        }
        i = p - 1;
        if i == s {
            return true;
        }
        match h[i].kind {
            EventKind::ParallelStateSucceeded
            | EventKind::ParallelStateFailed
            | EventKind::MapStateSucceeded
            | EventKind::MapStateFailed => depth += 1,
            EventKind::ParallelStateStarted | EventKind::MapStateStarted { .. } => {
                if depth == 0 {
                    return false;
                }
                depth -= 1;
            }
            _ => {}
        }
    }
}

/// What the model says one run of a Task state does: how many attempts, and the delay
/// before each retry.
fn expected_attempts(mock: &TaskMock, retriers: &[Retrier]) -> (u32, Vec<i64>) {
    let mut counts = vec![0u32; retriers.len()];
    let mut delays = Vec::new();
    let mut attempt = 0;
    loop {
        match mock.attempt(attempt) {
            Ok(_) => return (attempt + 1, delays),
            Err(error) => {
                let Some(i) = retriers.iter().position(|r| r.matcher.matches(error)) else {
                    return (attempt + 1, delays);
                };
                if counts[i] >= retriers[i].max_attempts {
                    return (attempt + 1, delays);
                }
                delays.push(retriers[i].delay_ms(counts[i]));
                counts[i] += 1;
                attempt += 1;
            }
        }
    }
}

/// Each run of a Task state makes exactly the attempts its Retry allows (MaxAttempts per
/// retrier, the first matching retrier deciding), each retry starts `IntervalSeconds ×
/// BackoffRate^n` (capped by MaxDelaySeconds) after the failure on the virtual clock, and
/// each attempt takes the mock's duration. A run cut short by an abort may have fewer.
pub fn retries(rendered: &Rendered, h: &[Event]) -> Result<(), String> {
    let kids = children(h);
    let child_of = |i: usize, f: &dyn Fn(&EventKind) -> bool| -> Option<usize> {
        kids[i].iter().copied().find(|&c| f(&h[c].kind))
    };
    for (i, e) in h.iter().enumerate() {
        let EventKind::StateEntered {
            state_type: "Task",
            name,
            ..
        } = &e.kind
        else {
            continue;
        };
        let (Some(mock), Some(retriers)) = (
            rendered.mocks.get(&**name),
            rendered.task_retries.get(&**name),
        ) else {
            continue;
        };
        let (want, delays) = expected_attempts(mock, retriers);
        let mut cur = i;
        let mut seen = 0u32;
        let mut complete = true;
        let mut last_failed_at = None;
        while let Some(sched) = child_of(cur, &|k| {
            matches!(k, EventKind::LambdaFunctionScheduled { .. })
        }) {
            if let Some(t) = last_failed_at {
                let gap = h[sched].timestamp.millis() - t;
                let want_gap = delays.get(seen as usize - 1).copied().unwrap_or(-1);
                if gap != want_gap {
                    return Err(format!(
                        "'{name}': retry {seen} starts {gap} ms after the failure at {}, \
                         the backoff says {want_gap} ms",
                        describe(&h[cur])
                    ));
                }
            }
            seen += 1;
            let Some(started) = child_of(sched, &|k| matches!(k, EventKind::LambdaFunctionStarted))
            else {
                complete = false;
                break;
            };
            let Some(end) = child_of(started, &|k| {
                matches!(
                    k,
                    EventKind::LambdaFunctionSucceeded { .. }
                        | EventKind::LambdaFunctionFailed { .. }
                        | EventKind::LambdaFunctionTimedOut { .. }
                )
            }) else {
                complete = false;
                break;
            };
            let took = h[end].timestamp.millis() - h[started].timestamp.millis();
            if took != i64::from(mock.duration_ms) {
                return Err(format!(
                    "'{name}': attempt {seen} took {took} ms, the mock {} ms",
                    mock.duration_ms
                ));
            }
            if !matches!(h[end].kind, EventKind::LambdaFunctionFailed { .. }) {
                break;
            }
            last_failed_at = Some(h[end].timestamp.millis());
            cur = end;
            // A failure that nothing follows (no retry, no Catch, no failure of the
            // enclosing branch) was cut short: the branch was aborted during the backoff.
            if kids[end].is_empty() {
                complete = false;
            }
        }
        if (complete && seen != want) || seen > want {
            return Err(format!(
                "'{name}' (entered at #{}) made {seen} attempt(s); its mock and Retry allow {want}",
                e.id
            ));
        }
    }
    Ok(())
}

fn prev_index(h: &[Event], i: usize) -> Option<usize> {
    let p = h[i].previous_event_id.0 as usize;
    (p >= 1 && p - 1 < i).then(|| p - 1)
}

/// The name of the Map state whose run MapStateStarted event `s` starts: its Entered event
/// for a first attempt; for a retry (which follows the failing event of the attempt before)
/// the name of the nearest start on the way up that no join closed.
fn map_start_name(h: &[Event], s: usize) -> Option<&str> {
    let mut i = prev_index(h, s)?;
    if let EventKind::StateEntered {
        state_type: "Map",
        name,
        ..
    } = &h[i].kind
    {
        return Some(name);
    }
    let mut depth = 0i64;
    loop {
        match h[i].kind {
            EventKind::ParallelStateSucceeded
            | EventKind::ParallelStateFailed
            | EventKind::MapStateSucceeded
            | EventKind::MapStateFailed => depth += 1,
            EventKind::ParallelStateStarted if depth > 0 => depth -= 1,
            EventKind::MapStateStarted { .. } if depth > 0 => depth -= 1,
            EventKind::MapStateStarted { .. } => return map_start_name(h, i),
            _ => {}
        }
        i = prev_index(h, i)?;
    }
}

/// At no instant does a run of a Map state have more iterations in flight than its
/// MaxConcurrency. Each iteration event belongs to the nearest MapStateStarted of its Map
/// above it in the `previousEventId` tree (the next iteration follows the previous one's
/// last event, so the chain stays inside the run).
pub fn map_concurrency(rendered: &Rendered, h: &[Event]) -> Result<(), String> {
    let mut names: BTreeMap<usize, Option<&str>> = BTreeMap::new();
    let mut flight: BTreeMap<usize, i64> = BTreeMap::new();
    for (k, e) in h.iter().enumerate() {
        let EventKind::MapIteration { what, name, .. } = &e.kind else {
            continue;
        };
        let mut i = k;
        let run = loop {
            let Some(p) = prev_index(h, i) else {
                return Err(format!("{} belongs to no run of '{name}'", describe(e)));
            };
            i = p;
            if matches!(h[i].kind, EventKind::MapStateStarted { .. })
                && *names.entry(i).or_insert_with(|| map_start_name(h, i)) == Some(name.as_str())
            {
                break i;
            }
        };
        let n = flight.entry(run).or_default();
        match *what {
            "Started" => *n += 1,
            _ => *n -= 1,
        }
        // AWS runs at most this many iterations of an inline Map at once, whatever
        // MaxConcurrency says (0 included).
        let limit = engine::INLINE_MAP_MAX_CONCURRENCY as i64;
        let max = match rendered.map_concurrency.get(name.as_str()).copied() {
            Some(m) if m > 0 => i64::from(m).min(limit),
            _ => limit,
        };
        if *n > max {
            return Err(format!(
                "'{name}' has {n} iterations in flight at {} (MaxConcurrency {max})",
                describe(e),
            ));
        }
    }
    Ok(())
}
