//! Loading the JSONata reference test suite, shared by the test binaries.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The suite directory: `$JSONATA_SUITE`, or `../shared/jsonata-suite` next to the workspace.
pub fn suite_dir() -> Option<PathBuf> {
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
pub struct Case {
    /// `group/file.json` plus `#n` for files that hold a list of cases.
    pub name: String,
    pub group: String,
    pub expr: String,
    pub input: Option<Value>,
    pub bindings: serde_json::Map<String, Value>,
    pub timelimit: Option<u64>,
    pub depth: Option<usize>,
    pub expected: Expected,
    pub unordered: bool,
}

pub enum Expected {
    Result(Value),
    Undefined,
    Code(String),
}

/// All cases, in group and file order.
pub fn load_cases(dir: &Path) -> Vec<Case> {
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
pub fn escape_lone_surrogates(text: &str) -> String {
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
