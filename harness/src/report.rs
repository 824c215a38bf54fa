//! Reports: JUnit XML for CI dashboards, a Markdown summary, and a self-contained HTML page
//! (a matrix of scenarios by backend, each failure with its diff, each execution's workflow
//! drawn as an inline SVG graph with its states coloured by what happened to them).

use crate::diff::lanes;
use crate::runner::{ScenarioResult, Verdict};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Escapes text for XML and HTML (element content and attribute values).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// A canonical history as one line per event: id, link, type, state name.
pub fn history_text(events: &[Value]) -> String {
    let mut s = String::new();
    for e in events {
        let name = e
            .as_object()
            .and_then(|m| m.iter().find(|(k, _)| k.ends_with("EventDetails")))
            .and_then(|(_, d)| d.get("name"))
            .and_then(Value::as_str)
            .map(|n| format!(" '{n}'"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "  {:>4} (after {:>3}) +{}s {}{name}",
            e["id"],
            e["previousEventId"],
            e["timestamp"],
            e["type"].as_str().unwrap_or("?")
        );
    }
    s
}

/// Totals of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Not applicable.
    pub not_applicable: usize,
}

/// Counts verdicts.
pub fn totals(results: &[ScenarioResult]) -> Totals {
    let mut t = Totals::default();
    for r in results {
        match r.verdict {
            Verdict::Pass => t.passed += 1,
            Verdict::Fail => t.failed += 1,
            Verdict::NotApplicable(_) => t.not_applicable += 1,
        }
    }
    t
}

/// JUnit XML: one test suite per backend, one test case per scenario; failures carry their
/// diffs, not-applicable scenarios are skipped with the reason.
pub fn junit(results: &[ScenarioResult]) -> String {
    let mut by_backend: BTreeMap<&str, Vec<&ScenarioResult>> = BTreeMap::new();
    for r in results {
        by_backend.entry(&r.backend).or_default().push(r);
    }
    let t = totals(results);
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"stepcheck\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
        results.len(),
        t.failed,
        t.not_applicable
    );
    for (backend, rs) in by_backend {
        let owned: Vec<ScenarioResult> = rs.iter().map(|r| (*r).clone()).collect();
        let bt = totals(&owned);
        let time: f64 = rs.iter().map(|r| r.duration.as_secs_f64()).sum();
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{time:.3}\">",
            escape(backend),
            rs.len(),
            bt.failed,
            bt.not_applicable
        );
        for r in rs {
            let (class, name) = match r.name.rsplit_once('/') {
                Some((group, n)) => (format!("{backend}.{}", group.replace('/', ".")), n),
                None => (backend.to_string(), r.name.as_str()),
            };
            let _ = write!(
                s,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                escape(&class),
                escape(name),
                r.duration.as_secs_f64()
            );
            match &r.verdict {
                Verdict::Pass => s.push_str("/>\n"),
                Verdict::NotApplicable(why) => {
                    let _ = writeln!(
                        s,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        escape(why)
                    );
                }
                Verdict::Fail => {
                    let first = r
                        .failures
                        .first()
                        .and_then(|f| f.lines().next())
                        .unwrap_or("failed");
                    let _ = writeln!(
                        s,
                        ">\n      <failure message=\"{}\" type=\"mismatch\">{}</failure>\n    </testcase>",
                        escape(first),
                        escape(&r.failures.join("\n\n"))
                    );
                }
            }
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}

fn backends(results: &[ScenarioResult]) -> Vec<String> {
    let set: BTreeSet<&str> = results.iter().map(|r| r.backend.as_str()).collect();
    set.into_iter().map(str::to_string).collect()
}

fn matrix(results: &[ScenarioResult]) -> BTreeMap<&str, HashMap<&str, &ScenarioResult>> {
    let mut m: BTreeMap<&str, HashMap<&str, &ScenarioResult>> = BTreeMap::new();
    for r in results {
        m.entry(&r.name).or_default().insert(&r.backend, r);
    }
    m
}

/// The Markdown summary: totals, the matrix, each failure with its diff.
pub fn markdown(results: &[ScenarioResult]) -> String {
    let t = totals(results);
    let bs = backends(results);
    let mut s = String::from("# stepcheck report\n\n");
    let _ = writeln!(
        s,
        "{} scenarios: {} passed, {} failed, {} not applicable.\n",
        results.len(),
        t.passed,
        t.failed,
        t.not_applicable
    );
    let _ = writeln!(s, "| scenario | {} |", bs.join(" | "));
    let _ = writeln!(s, "|---|{}", "---|".repeat(bs.len()));
    for (name, row) in matrix(results) {
        let cells: Vec<String> = bs
            .iter()
            .map(|b| match row.get(b.as_str()).map(|r| &r.verdict) {
                Some(Verdict::Pass) => "✅ pass".to_string(),
                Some(Verdict::Fail) => "❌ fail".to_string(),
                Some(Verdict::NotApplicable(why)) => format!("➖ n/a ({why})"),
                None => String::new(),
            })
            .collect();
        let _ = writeln!(s, "| `{name}` | {} |", cells.join(" | "));
    }
    let failed: Vec<&ScenarioResult> = results
        .iter()
        .filter(|r| r.verdict == Verdict::Fail)
        .collect();
    if !failed.is_empty() {
        s.push_str("\n## Failures\n");
        for r in failed {
            let _ = writeln!(s, "\n### `{}` on {}\n", r.name, r.backend);
            for f in &r.failures {
                let _ = writeln!(s, "```diff\n{}\n```", f.replace("```", "'''"));
            }
        }
    }
    s
}

/// What happened to a state in an execution, as the AWS console colours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StateStatus {
    /// It never ran.
    NotRun,
    /// It was entered and did not finish (running, waiting or aborted).
    Ran,
    /// It succeeded (after retries, possibly).
    Succeeded,
    /// It failed and a Catch handled the error.
    Caught,
    /// It failed the execution (or branch).
    Failed,
}

impl StateStatus {
    fn colours(self) -> (&'static str, &'static str, &'static str) {
        // (fill, stroke, label)
        match self {
            StateStatus::NotRun => ("#f2f3f3", "#aab7b8", "not run"),
            StateStatus::Ran => ("#d6eaff", "#0972d3", "in progress / aborted"),
            StateStatus::Succeeded => ("#d9f5d6", "#037f0c", "succeeded"),
            StateStatus::Caught => ("#ffe8cc", "#e07700", "caught error"),
            StateStatus::Failed => ("#ffd9d9", "#d91515", "failed"),
        }
    }
}

/// Each state's status in a canonical history, by name.
pub fn state_statuses(history: &[Value]) -> HashMap<String, StateStatus> {
    let mut out: HashMap<String, StateStatus> = HashMap::new();
    for (_, seq) in lanes(history) {
        let mut current: Option<String> = None;
        let mut failed: Option<String> = None;
        for e in &seq {
            let t = e.event_type.as_str();
            if t.ends_with("StateEntered") {
                if let Some(f) = failed.take() {
                    // The lane went on after the failure: a Catch took it.
                    out.insert(f, StateStatus::Caught);
                }
                let n = e.name.clone().unwrap_or_default();
                out.entry(n.clone()).or_insert(StateStatus::Ran);
                if t == "FailStateEntered" {
                    out.insert(n.clone(), StateStatus::Failed);
                }
                current = Some(n);
            } else if t.ends_with("StateExited") {
                let n = e.name.clone().unwrap_or_default();
                if out.get(&n) != Some(&StateStatus::Caught) {
                    out.insert(n, StateStatus::Succeeded);
                }
                failed = None;
            } else if (t.ends_with("Failed") || t.ends_with("TimedOut"))
                && !t.starts_with("Execution")
                && !t.starts_with("MapIteration")
            {
                if let Some(c) = &current {
                    out.insert(c.clone(), StateStatus::Failed);
                    failed = Some(c.clone());
                }
            } else if t.ends_with("Succeeded") {
                // A retried task that finally succeeded is not a failure.
                if let Some(c) = &current {
                    if failed.as_ref() == Some(c) {
                        out.insert(c.clone(), StateStatus::Ran);
                        failed = None;
                    }
                }
            }
        }
    }
    out
}

struct Graph {
    title: String,
    states: Vec<(String, String)>,
    edges: Vec<(String, String, bool)>,
    start: String,
}

/// Every state graph of a definition: the top level, then each Parallel branch and Map
/// iteration, in definition order.
fn graphs(def: &Value, title: &str, out: &mut Vec<Graph>) {
    let Some(states) = def.get("States").and_then(Value::as_object) else {
        return;
    };
    let mut g = Graph {
        title: title.to_string(),
        states: Vec::new(),
        edges: Vec::new(),
        start: def["StartAt"].as_str().unwrap_or_default().to_string(),
    };
    let mut nested = Vec::new();
    for (name, s) in states {
        let ty = s["Type"].as_str().unwrap_or("?").to_string();
        g.states.push((name.clone(), ty));
        if let Some(n) = s["Next"].as_str() {
            g.edges.push((name.clone(), n.to_string(), false));
        }
        if let Some(n) = s["Default"].as_str() {
            g.edges.push((name.clone(), n.to_string(), false));
        }
        for c in s["Choices"].as_array().into_iter().flatten() {
            if let Some(n) = c["Next"].as_str() {
                g.edges.push((name.clone(), n.to_string(), false));
            }
        }
        for c in s["Catch"].as_array().into_iter().flatten() {
            if let Some(n) = c["Next"].as_str() {
                g.edges.push((name.clone(), n.to_string(), true));
            }
        }
        for (i, b) in s["Branches"].as_array().into_iter().flatten().enumerate() {
            nested.push((b.clone(), format!("{title} › {name} branch {}", i + 1)));
        }
        for key in ["ItemProcessor", "Iterator"] {
            if s.get(key).is_some_and(Value::is_object) {
                nested.push((s[key].clone(), format!("{title} › {name} iteration")));
            }
        }
    }
    out.push(g);
    for (d, t) in nested {
        graphs(&d, &t, out);
    }
}

fn svg(g: &Graph, status: &HashMap<String, StateStatus>) -> String {
    // A layered layout: each state's layer is its distance from StartAt.
    let mut layer: HashMap<&str, usize> = HashMap::new();
    let mut queue = VecDeque::new();
    if g.states.iter().any(|(n, _)| *n == g.start) {
        layer.insert(&g.start, 0);
        queue.push_back(g.start.as_str());
    }
    while let Some(n) = queue.pop_front() {
        let l = layer[n];
        for (a, b, _) in &g.edges {
            if a == n && !layer.contains_key(b.as_str()) && g.states.iter().any(|(s, _)| s == b) {
                layer.insert(b, l + 1);
                queue.push_back(b);
            }
        }
    }
    let deepest = layer.values().copied().max().unwrap_or(0);
    for (n, _) in &g.states {
        layer.entry(n).or_insert(deepest + 1);
    }
    let (w, h, gap_x, gap_y) = (170.0, 38.0, 20.0, 36.0);
    let mut rows: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for (n, _) in &g.states {
        rows.entry(layer[n.as_str()]).or_default().push(n);
    }
    let widest = rows.values().map(Vec::len).max().unwrap_or(1) as f64;
    let width = widest * (w + gap_x) + gap_x;
    let height = rows.len() as f64 * (h + gap_y) + gap_y;
    let mut pos: HashMap<&str, (f64, f64)> = HashMap::new();
    for (r, (_, names)) in rows.iter().enumerate() {
        let row_w = names.len() as f64 * (w + gap_x) - gap_x;
        let x0 = (width - row_w) / 2.0;
        for (i, n) in names.iter().enumerate() {
            pos.insert(
                n,
                (
                    x0 + i as f64 * (w + gap_x),
                    gap_y / 2.0 + r as f64 * (h + gap_y),
                ),
            );
        }
    }
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\">\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#545b64\"/></marker></defs>"
    );
    for (a, b, catch) in &g.edges {
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (pos.get(a.as_str()), pos.get(b.as_str())) else {
            continue;
        };
        let (sx, sy, ex, ey) = if y2 > y1 {
            (x1 + w / 2.0, y1 + h, x2 + w / 2.0, y2)
        } else {
            // A loop back (or a sideways edge) leaves from the side.
            (x1 + w, y1 + h / 2.0, x2 + w, y2 + h / 2.0)
        };
        let dash = if *catch {
            " stroke-dasharray=\"5,4\""
        } else {
            ""
        };
        if y2 > y1 {
            let _ = write!(
                s,
                "<line x1=\"{sx:.0}\" y1=\"{sy:.0}\" x2=\"{ex:.0}\" y2=\"{ey:.0}\" stroke=\"#545b64\"{dash} marker-end=\"url(#arrow)\"/>"
            );
        } else {
            let _ = write!(
                s,
                "<path d=\"M{sx:.0},{sy:.0} C{:.0},{sy:.0} {:.0},{ey:.0} {ex:.0},{ey:.0}\" fill=\"none\" stroke=\"#545b64\"{dash} marker-end=\"url(#arrow)\"/>",
                sx + 30.0,
                ex + 30.0
            );
        }
    }
    for (n, ty) in &g.states {
        let (x, y) = pos[n.as_str()];
        let st = status.get(n).copied().unwrap_or(StateStatus::NotRun);
        let (fill, stroke, label) = st.colours();
        let _ = write!(
            s,
            "<g><title>{} ({}): {label}</title><rect x=\"{x:.0}\" y=\"{y:.0}\" width=\"{w:.0}\" height=\"{h:.0}\" rx=\"6\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.5\"/>\
             <text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\" font-size=\"12\" font-family=\"sans-serif\">{}</text>\
             <text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\" font-size=\"9\" fill=\"#545b64\" font-family=\"sans-serif\">{}</text></g>",
            escape(n),
            escape(ty),
            x + w / 2.0,
            y + 16.0,
            escape(&truncate(n, 24)),
            x + w / 2.0,
            y + 29.0,
            escape(ty)
        );
    }
    s.push_str("</svg>");
    s
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

/// The self-contained HTML page (no scripts, styles or images from elsewhere).
pub fn html(results: &[ScenarioResult]) -> String {
    let t = totals(results);
    let bs = backends(results);
    let mut s = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>stepcheck report</title><style>\
body{font-family:sans-serif;margin:2em;color:#16191f}table{border-collapse:collapse}td,th{border:1px solid #d5dbdb;padding:4px 8px;text-align:left}\
.pass{background:#d9f5d6}.fail{background:#ffd9d9}.na{background:#f2f3f3}pre{background:#f8f8f8;padding:8px;overflow-x:auto;font-size:12px}\
.legend span{display:inline-block;padding:2px 8px;margin-right:6px;border:1px solid}details{margin:0.5em 0}h3{margin-bottom:0.2em}.graph{display:inline-block;vertical-align:top;margin:0 1em 1em 0}\
</style></head><body>\n<h1>stepcheck report</h1>\n",
    );
    let _ = writeln!(
        s,
        "<p>{} scenarios: {} passed, {} failed, {} not applicable.</p>",
        results.len(),
        t.passed,
        t.failed,
        t.not_applicable
    );
    s.push_str("<p class=\"legend\">");
    for st in [
        StateStatus::Succeeded,
        StateStatus::Failed,
        StateStatus::Caught,
        StateStatus::Ran,
        StateStatus::NotRun,
    ] {
        let (fill, stroke, label) = st.colours();
        let _ = write!(
            s,
            "<span style=\"background:{fill};border-color:{stroke}\">{label}</span>"
        );
    }
    s.push_str("</p>\n<table><tr><th>scenario</th>");
    for b in &bs {
        let _ = write!(s, "<th>{}</th>", escape(b));
    }
    s.push_str("</tr>\n");
    for (name, row) in matrix(results) {
        let _ = write!(
            s,
            "<tr><td><a href=\"#{}\">{}</a></td>",
            anchor(name),
            escape(name)
        );
        for b in &bs {
            match row.get(b.as_str()).map(|r| &r.verdict) {
                Some(Verdict::Pass) => s.push_str("<td class=\"pass\">pass</td>"),
                Some(Verdict::Fail) => s.push_str("<td class=\"fail\">fail</td>"),
                Some(Verdict::NotApplicable(why)) => {
                    let _ = write!(s, "<td class=\"na\" title=\"{}\">n/a</td>", escape(why));
                }
                None => s.push_str("<td></td>"),
            }
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
    for r in results {
        let _ = writeln!(
            s,
            "<h3 id=\"{}\">{} <small>({}: {})</small></h3><p>{}</p>",
            anchor(&r.name),
            escape(&r.name),
            escape(&r.backend),
            r.verdict.as_str(),
            escape(&r.description)
        );
        if let Verdict::NotApplicable(why) = &r.verdict {
            let _ = writeln!(s, "<p>Not applicable: {}</p>", escape(why));
        }
        for f in &r.failures {
            let _ = writeln!(s, "<pre>{}</pre>", escape(f));
        }
        let open = if r.verdict == Verdict::Fail {
            " open"
        } else {
            ""
        };
        for e in &r.executions {
            let Some(def) = r
                .definitions
                .iter()
                .find(|(n, _)| *n == e.state_machine)
                .and_then(|(_, d)| serde_json::from_str::<Value>(d).ok())
            else {
                continue;
            };
            let status = state_statuses(&e.history);
            let _ = writeln!(
                s,
                "<details{open}><summary>execution <b>{}</b> of {}: {}</summary>",
                escape(&e.name),
                escape(&e.state_machine),
                escape(
                    e.info
                        .as_ref()
                        .map(|i| i.status.as_str())
                        .unwrap_or("not started")
                )
            );
            let mut gs = Vec::new();
            graphs(&def, &e.state_machine, &mut gs);
            for g in &gs {
                let _ = writeln!(
                    s,
                    "<div class=\"graph\"><div>{}</div>{}</div>",
                    escape(&g.title),
                    svg(g, &status)
                );
            }
            s.push_str("</details>\n");
        }
    }
    s.push_str("</body></html>\n");
    s
}

fn anchor(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Writes `junit.xml`, `summary.md` and `index.html` into `dir` (created if needed).
pub fn write_reports(dir: &Path, results: &[ScenarioResult]) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let files = [
        ("junit.xml", junit(results)),
        ("summary.md", markdown(results)),
        ("index.html", html(results)),
    ];
    let mut written = Vec::new();
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::write(&p, text)?;
        written.push(p);
    }
    Ok(written)
}
