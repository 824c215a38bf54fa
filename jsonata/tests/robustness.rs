//! No input may panic the parser or the evaluator, nor overflow the stack: every prefix of
//! every suite expression, deterministic mutations of them, and absurdly nested input are
//! parsed and evaluated, and any panic is reported with the input that caused it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

mod common;

use common::{load_cases, suite_dir};
use jsonata::{Environment, Expression, FixedHost};
use serde_json::Value;

/// xorshift64: deterministic pseudo-random numbers without a dependency.
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

/// Characters that matter to the grammar, for insertions and replacements.
const ALPHABET: &[char] = &[
    '(', ')', '[', ']', '{', '}', '.', ',', ';', ':', '?', '$', '@', '#', '%', '^', '&', '|', '*',
    '+', '-', '/', '<', '>', '=', '!', '~', '"', '\'', '`', '0', '1', '9', 'a', 'x', ' ', '\\',
    'λ',
];

fn mutate(expr: &str, rng: &mut XorShift) -> String {
    let mut chars: Vec<char> = expr.chars().collect();
    let edits = 1 + rng.below(3);
    for _ in 0..edits {
        let len = chars.len();
        match rng.below(5) {
            0 if len > 0 => {
                chars.remove(rng.below(len));
            }
            1 => {
                let c = ALPHABET[rng.below(ALPHABET.len())];
                chars.insert(rng.below(len + 1), c);
            }
            2 if len > 0 => {
                let c = ALPHABET[rng.below(ALPHABET.len())];
                chars[rng.below(len)] = c;
            }
            3 if len > 1 => {
                let (a, b) = (rng.below(len), rng.below(len));
                chars.swap(a, b);
            }
            _ if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(8)).min(len);
                let piece: Vec<char> = chars[start..end].to_vec();
                let at = rng.below(len + 1);
                for (i, c) in piece.into_iter().enumerate() {
                    chars.insert(at + i, c);
                }
            }
            _ => chars.push(ALPHABET[rng.below(ALPHABET.len())]),
        }
    }
    chars.into_iter().collect()
}

/// Parses and evaluates with tight limits; any outcome but a panic is fine.
fn exercise(expr: &str, input: Option<&Value>) {
    let Ok(e) = Expression::parse(expr) else {
        return;
    };
    let mut host = FixedHost::new(0, 3);
    let mut env = Environment::new(&mut host);
    env.set_max_depth(300);
    env.set_max_steps(Some(20_000));
    env.set_time_limit(Some(Duration::from_millis(200)));
    let _ = e.evaluate(input, &mut env);
    let _ = e.variables();
}

fn check(inputs: Vec<(String, Option<Value>)>) -> Vec<String> {
    let mut panics = Vec::new();
    let mut slow = Vec::new();
    for (expr, input) in &inputs {
        let t = std::time::Instant::now();
        if catch_unwind(AssertUnwindSafe(|| exercise(expr, input.as_ref()))).is_err() {
            panics.push(expr.clone());
        }
        slow.push((t.elapsed(), expr.clone()));
    }
    if std::env::var("JSONATA_SLOW").is_ok() {
        slow.sort();
        let total: std::time::Duration = slow.iter().map(|s| s.0).sum();
        eprintln!("total {total:?}");
        for (d, e) in slow.iter().rev().take(25) {
            eprintln!("{d:?} {}", e.chars().take(100).collect::<String>());
        }
    }
    panics
}

#[test]
fn suite_prefixes_and_mutations_do_not_panic() {
    let Some(dir) = suite_dir() else {
        println!("skipped: JSONata suite not found (set JSONATA_SUITE)");
        return;
    };
    let cases = load_cases(&dir);
    let mut inputs: Vec<(String, Option<Value>)> = Vec::new();
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    for case in &cases {
        // The suite's performance cases (those with a time limit) build arrays of millions of
        // items; their prefixes would only measure allocation.
        if case.timelimit.is_some() && case.depth.is_some_and(|d| d < 100) {
            continue;
        }
        // Large inputs make every prefix expensive; the small ones cover the grammar.
        let input = case.input.clone().filter(|v| v.to_string().len() < 4096);
        let chars: Vec<char> = case.expr.chars().collect();
        // Prefixes of long expressions are taken every few characters to bound the run time.
        let stride = 1 + chars.len() / 120;
        for end in (0..chars.len()).step_by(stride) {
            inputs.push((chars[..end].iter().collect(), input.clone()));
        }
        for _ in 0..6 {
            inputs.push((mutate(&case.expr, &mut rng), input.clone()));
        }
    }
    let count = inputs.len();
    std::panic::set_hook(Box::new(|_| {}));
    let panics = check(inputs);
    let _ = std::panic::take_hook();
    println!("robustness: {count} inputs, {} panics", panics.len());
    assert!(
        panics.is_empty(),
        "inputs that panicked:\n{}",
        panics.join("\n")
    );
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    for depth in [100, 1_000, 5_000, 50_000] {
        let exprs = [
            format!("{}1{}", "(".repeat(depth), ")".repeat(depth)),
            format!("{}1{}", "[".repeat(depth), "]".repeat(depth)),
            format!("{}{}", "-".repeat(depth), "1"),
            format!("{}1{}", "{'a':".repeat(depth), "}".repeat(depth)),
            format!("a{}", ".b".repeat(depth)),
            format!("1{}", " + 1".repeat(depth)),
            format!("{}x{}", "$f(".repeat(depth), ")".repeat(depth)),
        ];
        for e in &exprs {
            let r = catch_unwind(AssertUnwindSafe(|| exercise(e, None)));
            assert!(r.is_ok(), "nesting of depth {depth} panicked");
        }
    }
}

#[test]
fn deep_recursion_is_an_error_not_a_crash() {
    let mut host = FixedHost::new(0, 3);
    let mut env = Environment::new(&mut host);
    let e = Expression::parse("($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))")
        .unwrap();
    let err = e.evaluate(None, &mut env).unwrap_err();
    assert_eq!(err.code, "U1001");
    // Tail calls run in constant depth.
    let e = Expression::parse(
        "($f := function($n, $acc){ $n = 0 ? $acc : $f($n - 1, $acc + 1) }; $f(20000, 0))",
    )
    .unwrap();
    assert_eq!(
        e.evaluate(None, &mut env).unwrap(),
        Some(serde_json::json!(20000))
    );
}

#[test]
fn runaway_loops_end() {
    let mut host = FixedHost::new(0, 3);
    let mut env = Environment::new(&mut host);
    env.set_max_steps(Some(100_000));
    let e = Expression::parse("($f := function(){ $f() }; $f())").unwrap();
    assert_eq!(e.evaluate(None, &mut env).unwrap_err().code, "U1001");
    env.set_max_steps(None);
    env.set_time_limit(Some(Duration::from_millis(50)));
    assert_eq!(e.evaluate(None, &mut env).unwrap_err().code, "U1001");
}
