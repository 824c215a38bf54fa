//! Runs the JSONata reference test suite (read from `../shared/jsonata-suite` next to the
//! workspace, or from `$JSONATA_SUITE`) and checks the pass count never drops below the
//! floor. The suite is data, never copied into the project.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Duration;

use jsonata::{Environment, Expression, FixedHost};
use serde_json::Value;

/// The least number of cases that must pass; raised as the evaluator improves, so any
/// regression fails this test.
const FLOOR: usize = 1684;

fn suite_dir() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("JSONATA_SUITE") {
        let p = PathBuf::from(p);
        if p.is_dir() {
            return Some(p);
        }
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/jsonata-suite");
    p.is_dir().then_some(p)
}

/// One test case.
struct Case {
    /// `group/file.json` plus `#n` for files that hold a list of cases.
    name: String,
    group: String,
    expr: String,
    input: Option<Value>,
    bindings: serde_json::Map<String, Value>,
    timelimit: Option<u64>,
    depth: Option<usize>,
    expected: Expected,
    unordered: bool,
}

enum Expected {
    Result(Value),
    Undefined,
    Code(String),
}

fn load_cases(dir: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut groups: Vec<PathBuf> = std::fs::read_dir(dir.join("groups"))
        .expect("groups directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    groups.sort();
    for g in groups {
        let group = g.file_name().unwrap().to_string_lossy().to_string();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&g)
            .expect("group directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).expect("case file");
            let v: Value = serde_json::from_str(&escape_lone_surrogates(&text)).expect("case JSON");
            let file = f.file_name().unwrap().to_string_lossy().to_string();
            match v {
                Value::Array(list) => {
                    for (i, c) in list.into_iter().enumerate() {
                        cases.push(make_case(dir, &g, &group, format!("{group}/{file}#{i}"), c));
                    }
                }
                c => cases.push(make_case(dir, &g, &group, format!("{group}/{file}"), c)),
            }
        }
    }
    cases
}

fn make_case(dir: &Path, gdir: &Path, group: &str, name: String, c: Value) -> Case {
    let expr = match c.get("expr") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            let file = c["expr-file"].as_str().expect("expr or expr-file");
            std::fs::read_to_string(gdir.join(file)).expect("expression file")
        }
    };
    let input = if let Some(d) = c.get("data") {
        Some(d.clone())
    } else {
        match c.get("dataset") {
            Some(Value::String(ds)) => {
                let text = std::fs::read_to_string(dir.join("datasets").join(format!("{ds}.json")))
                    .expect("dataset");
                Some(serde_json::from_str(&text).expect("dataset JSON"))
            }
            _ => None,
        }
    };
    let expected = if let Some(r) = c.get("result") {
        Expected::Result(r.clone())
    } else if c.get("undefinedResult").is_some() {
        Expected::Undefined
    } else if let Some(code) = c.get("code").and_then(Value::as_str) {
        Expected::Code(code.to_string())
    } else if let Some(code) = c
        .get("error")
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
    {
        Expected::Code(code.to_string())
    } else {
        Expected::Undefined
    };
    Case {
        name,
        group: group.to_string(),
        expr,
        input,
        bindings: c
            .get("bindings")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        timelimit: c.get("timelimit").and_then(Value::as_u64),
        depth: c.get("depth").and_then(Value::as_u64).map(|d| d as usize),
        expected,
        unordered: c.get("unordered").and_then(Value::as_bool).unwrap_or(false),
    }
}

/// A few cases hold lone UTF-16 surrogates, which are not valid JSON for `serde_json`; they
/// are passed to the expression as JSONata `\\u` escapes instead.
fn escape_lone_surrogates(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        if b[i] == b'\\' && i + 6 <= b.len() && b[i + 1] == b'u' {
            let hex = &text[i + 2..i + 6];
            if let Ok(unit) = u16::from_str_radix(hex, 16) {
                let high = (0xD800..0xDC00).contains(&unit);
                let low = (0xDC00..0xE000).contains(&unit);
                let paired = high
                    && text[i + 6..].starts_with("\\u")
                    && text
                        .get(i + 8..i + 12)
                        .and_then(|h| u16::from_str_radix(h, 16).ok())
                        .is_some_and(|l| (0xDC00..0xE000).contains(&l));
                if (high && !paired) || low {
                    out.push_str("\\\\u");
                    out.push_str(hex);
                    i += 6;
                    continue;
                }
                if paired {
                    out.push_str(&text[i..i + 12]);
                    i += 12;
                    continue;
                }
            }
            out.push_str(&text[i..i + 2]);
            i += 2;
            continue;
        }
        if b[i] == b'\\' && i + 1 < b.len() {
            out.push_str(&text[i..i + 2]);
            i += 2;
            continue;
        }
        let c = text[i..].chars().next().unwrap();
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// JSON equality with numbers compared as numbers (1 == 1.0) and objects by key set.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x == y || ((x - y).abs() <= 1e-13 * x.abs().max(y.abs()))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn unordered_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return false;
            }
            let mut used = vec![false; y.len()];
            x.iter().all(|item| {
                if let Some(i) = (0..y.len()).find(|&i| !used[i] && json_eq(item, &y[i])) {
                    used[i] = true;
                    true
                } else {
                    false
                }
            })
        }
        _ => json_eq(a, b),
    }
}

/// Runs one case; `Err` describes the mismatch.
fn run_case(case: &Case) -> Result<(), String> {
    let mut host = FixedHost::new(1_500_000_000_000, 1);
    let mut env = Environment::new(&mut host);
    for (k, v) in &case.bindings {
        env.bind(k, v.clone());
    }
    if let Some(ms) = case.timelimit {
        env.set_time_limit(Some(Duration::from_millis(ms)));
    }
    if let Some(d) = case.depth {
        env.set_max_depth(d);
    }
    let outcome =
        Expression::parse(&case.expr).and_then(|e| e.evaluate(case.input.as_ref(), &mut env));
    match (&case.expected, outcome) {
        (Expected::Result(want), Ok(Some(got))) => {
            let ok = if case.unordered {
                unordered_eq(want, &got)
            } else {
                json_eq(want, &got)
            };
            if ok {
                Ok(())
            } else {
                Err(format!("expected {want}, got {got}"))
            }
        }
        (Expected::Undefined, Ok(None)) => Ok(()),
        (Expected::Code(code), Err(e)) if e.code == *code => Ok(()),
        (Expected::Result(want), other) => Err(format!("expected {want}, got {other:?}")),
        (Expected::Undefined, other) => Err(format!("expected undefined, got {other:?}")),
        (Expected::Code(code), other) => Err(format!("expected error {code}, got {other:?}")),
    }
}

#[test]
fn reference_suite() {
    let Some(dir) = suite_dir() else {
        println!("skipped: JSONata suite not found (set JSONATA_SUITE)");
        return;
    };
    let cases = load_cases(&dir);
    let verbose = std::env::var("JSONATA_VERBOSE").is_ok();
    let mut failures: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut passed = 0;
    for case in &cases {
        let r = catch_unwind(AssertUnwindSafe(|| run_case(case)))
            .unwrap_or_else(|p| Err(format!("panicked: {}", panic_message(&p))));
        match r {
            Ok(()) => passed += 1,
            Err(why) => failures.entry(case.group.clone()).or_default().push((
                case.name.clone(),
                format!("{} :: {}", case.expr.replace('\n', " "), why),
            )),
        }
    }
    let total = cases.len();
    println!(
        "JSONata suite: {passed} of {total} cases pass ({:.2} %)",
        100.0 * passed as f64 / total as f64
    );
    for (group, list) in &failures {
        println!("  {group}: {} failing", list.len());
        for (name, why) in list {
            if verbose {
                let why: String = why.chars().take(400).collect();
                println!("    {name}: {why}");
            } else {
                println!("    {name}");
            }
        }
    }
    assert!(
        passed >= FLOOR,
        "{passed} cases pass, fewer than the floor of {FLOOR}"
    );
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}
