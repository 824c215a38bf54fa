//! The malformed-definition corpus: one directory per case under `tests/malformed/`, holding
//! `definition.asl.json` (or `definition.txt` for text that is not JSON) and `expected.txt`, one
//! line per diagnostic: `CODE LOCATION` for an error, `WARNING CODE LOCATION` for a warning,
//! `null` for a diagnostic without a location. Lines are compared sorted. An empty
//! `expected.txt` means the definition is valid.
//!
//! `UPDATE_EXPECT=1 cargo test -p stepcheck-engine --test malformed` rewrites the expected files
//! instead of failing.

use engine::{validate, Diagnostic, Severity};
use std::fs;
use std::path::{Path, PathBuf};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("malformed")
}

/// Every case directory, sorted by name.
fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(cases_dir())
        .expect("tests/malformed exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The definition file of a case.
fn definition_file(dir: &Path) -> PathBuf {
    let json = dir.join("definition.asl.json");
    if json.exists() {
        json
    } else {
        dir.join("definition.txt")
    }
}

fn render(d: &Diagnostic) -> String {
    let location = if d.location.is_empty() {
        "null"
    } else {
        d.location.as_str()
    };
    match d.severity {
        Severity::Error => format!("{} {}", d.code.as_str(), location),
        Severity::Warning => format!("WARNING {} {}", d.code.as_str(), location),
    }
}

#[test]
fn malformed_cases() {
    let update = std::env::var("UPDATE_EXPECT").is_ok_and(|v| v == "1");
    let dirs = cases();
    assert!(
        dirs.len() >= 45,
        "expected at least 45 cases, found {}",
        dirs.len()
    );
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = definition_file(dir);
        let bytes = fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let text = String::from_utf8_lossy(&bytes);
        let diagnostics = validate(&text);
        let mut got: Vec<String> = diagnostics.iter().map(render).collect();
        got.sort();
        let expected_file = dir.join("expected.txt");
        let mut expected: Vec<String> = fs::read_to_string(&expected_file)
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        expected.sort();
        if got == expected {
            continue;
        }
        if update {
            let mut body = got.join("\n");
            if !body.is_empty() {
                body.push('\n');
            }
            fs::write(&expected_file, body)
                .unwrap_or_else(|e| panic!("{}: {e}", expected_file.display()));
            continue;
        }
        let details: Vec<String> = diagnostics.iter().map(|d| format!("    {d}")).collect();
        failures.push(format!(
            "{name}:\n  expected:\n    {}\n  got:\n    {}\n  diagnostics:\n{}",
            expected.join("\n    "),
            got.join("\n    "),
            details.join("\n")
        ));
    }
    assert!(
        failures.is_empty(),
        "{} case(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A small deterministic generator, so the mutations are the same on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Bytes that turn JSON into other JSON (or into near-JSON) most often.
const INTERESTING: &[u8] = b"{}[]\":,.$0-1eEtrufalsn \\Z[*]?@()States.ALLNextEnd";

#[test]
fn no_input_panics() {
    let mut rng = XorShift(0x5eed_cafe_f00d_1234);
    let mut runs = 0usize;
    for dir in cases() {
        let bytes = fs::read(definition_file(&dir)).unwrap_or_default();
        // Every prefix.
        for n in 0..=bytes.len() {
            let _ = validate(&String::from_utf8_lossy(&bytes[..n]));
            runs += 1;
        }
        // Random mutations: replace, delete, insert, duplicate a chunk.
        for _ in 0..300 {
            let mut m = bytes.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(m.len() + 1);
                match rng.below(5) {
                    0 if at < m.len() => m[at] = INTERESTING[rng.below(INTERESTING.len())],
                    1 if at < m.len() => {
                        m.remove(at);
                    }
                    2 => m.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
                    3 if at < m.len() => {
                        let end = (at + 1 + rng.below(40)).min(m.len());
                        let chunk = m[at..end].to_vec();
                        let to = rng.below(m.len() + 1);
                        m.splice(to..to, chunk);
                    }
                    _ => m.insert(at, rng.next() as u8),
                }
            }
            let _ = validate(&String::from_utf8_lossy(&m));
            runs += 1;
        }
    }
    assert!(runs > 0);
}
