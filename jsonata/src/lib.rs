//! A JSONata 2.x evaluator over `serde_json` values.
//!
//! It follows the reference implementation (jsonata-js 2.x) closely — its parser, its
//! evaluation rules for sequences and arrays, its standard library and its error codes —
//! and is measured against the reference's language-neutral test suite
//! (`tests/suite.rs`). Evaluation is deterministic given a [`Host`]: the clock and the
//! random numbers come from it.
//!
//! ```
//! use jsonata::{Environment, Expression, FixedHost};
//!
//! let expr = Expression::parse("Account.Order.Product.(Price * Quantity) ~> $sum()").unwrap();
//! let input = serde_json::json!({"Account": {"Order": [
//!     {"Product": [{"Price": 2, "Quantity": 3}, {"Price": 1.5, "Quantity": 2}]}
//! ]}});
//! let mut host = FixedHost::new(0, 1);
//! let mut env = Environment::new(&mut host);
//! let result = expr.evaluate(Some(&input), &mut env).unwrap();
//! assert_eq!(result, Some(serde_json::json!(9)));
//! ```
#![forbid(unsafe_code)]

mod ast;
mod datetime;
mod error;
mod eval;
mod functions;
mod lexer;
mod numfmt;
mod parser;
mod regex;
mod signature;
pub mod stepfunctions;
mod url;
mod value;

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

pub use error::Error;

/// Runs a step of a recursive algorithm on a fresh stack segment when the current stack is
/// nearly used up, so deep expressions and values never overflow the thread's stack (the
/// depth limits bound the total). The red zone is generous because debug builds have
/// large frames.
pub(crate) fn guarded<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(256 * 1024, 4 * 1024 * 1024, f)
}

/// A function supplied by the host (an extension function such as AWS's `$uuid`).
///
/// It receives the arguments as JSON (`None` for an undefined argument) and the host, for
/// clocks and randomness, and returns `Ok(None)` for an undefined result.
pub type NativeFunction = Box<
    dyn Fn(&[Option<serde_json::Value>], &mut dyn Host) -> Result<Option<serde_json::Value>, Error>,
>;

/// What the evaluator needs from outside, so the engine can make it deterministic.
pub trait Host {
    /// The current time in milliseconds since the epoch. `$now()` and `$millis()` ask once
    /// per evaluation and return that value throughout, as the reference does.
    fn now_millis(&mut self) -> i64;
    /// A random number in `[0, 1)`, for `$random()` and `$shuffle()`.
    fn random(&mut self) -> f64;
}

/// A host with a fixed clock and a seeded pseudo-random generator, for tests and for
/// reproducible runs.
#[derive(Debug, Clone)]
pub struct FixedHost {
    /// The time `now_millis` returns.
    pub now: i64,
    state: u64,
}

impl FixedHost {
    /// A host whose clock reads `now` and whose random numbers follow `seed`.
    pub fn new(now: i64, seed: u64) -> Self {
        FixedHost {
            now,
            // A zero state would make xorshift return zeros forever.
            state: seed ^ 0x9E37_79B9_7F4A_7C15,
        }
    }
}

impl Host for FixedHost {
    fn now_millis(&mut self) -> i64 {
        self.now
    }

    fn random(&mut self) -> f64 {
        // xorshift64*: small, fast and good enough for test data.
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (r >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Variable bindings, host hooks and limits for evaluations.
pub struct Environment<'h> {
    host: &'h mut dyn Host,
    bindings: HashMap<String, serde_json::Value>,
    functions: HashMap<String, NativeFunction>,
    limits: eval::Limits,
}

impl std::fmt::Debug for Environment<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment")
            .field("bindings", &self.bindings)
            .field("functions", &self.functions.keys().collect::<Vec<_>>())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// The default limit on the evaluation depth (nested sub-expression evaluations, which is
/// what non-tail recursion consumes).
pub const DEFAULT_MAX_DEPTH: usize = 1000;

/// The default limit on the number of sub-expression evaluations in one evaluation, so a
/// runaway expression ends with an error instead of hanging.
pub const DEFAULT_MAX_STEPS: u64 = 50_000_000;

impl<'h> Environment<'h> {
    /// An environment with no bindings, using `host` for the clock and randomness.
    pub fn new(host: &'h mut dyn Host) -> Self {
        Environment {
            host,
            bindings: HashMap::new(),
            functions: HashMap::new(),
            limits: eval::Limits {
                max_depth: DEFAULT_MAX_DEPTH,
                time_limit: None,
                max_steps: Some(DEFAULT_MAX_STEPS),
            },
        }
    }

    /// Binds `$name` (give the name without the `$`).
    pub fn bind(&mut self, name: &str, value: serde_json::Value) {
        self.bindings.insert(name.to_string(), value);
    }

    /// Adds an extension function `$name`, replacing a built-in of the same name.
    pub fn bind_function(&mut self, name: &str, f: NativeFunction) {
        self.bindings.remove(name);
        self.functions.insert(name.to_string(), f);
    }

    /// Limits the evaluation depth; deeper evaluations fail with `U1001`.
    pub fn set_max_depth(&mut self, depth: usize) {
        self.limits.max_depth = depth;
    }

    /// Limits the wall-clock time of an evaluation; longer ones fail with `U1001`.
    /// (Off by default, as wall-clock limits make results depend on the machine.)
    pub fn set_time_limit(&mut self, limit: Option<Duration>) {
        self.limits.time_limit = limit;
    }

    /// Limits the number of sub-expression evaluations; more fail with `U1001`.
    pub fn set_max_steps(&mut self, steps: Option<u64>) {
        self.limits.max_steps = steps;
    }
}

/// A parsed expression; parse once, evaluate many times.
#[derive(Debug, Clone)]
pub struct Expression {
    ast: ast::Node,
}

impl Expression {
    /// Parses an expression. Errors are the reference's syntax errors (`S0xxx`).
    pub fn parse(source: &str) -> Result<Expression, Error> {
        parser::parse(source)
            .map(|ast| Expression { ast })
            .map_err(Error::finish)
    }

    /// Evaluates the expression against `input` (`None` is undefined). Returns `Ok(None)`
    /// for an undefined result.
    pub fn evaluate(
        &self,
        input: Option<&serde_json::Value>,
        env: &mut Environment<'_>,
    ) -> Result<Option<serde_json::Value>, Error> {
        let Environment {
            host,
            bindings,
            functions,
            limits,
        } = env;
        let mut ctx = eval::Ctx::new(&mut **host, bindings, functions, *limits);
        let root = eval::Env::root();
        let raw = match input {
            Some(j) => value::Value::from_json(j),
            None => value::Value::Undefined,
        };
        // `$$` is the input as given; a top-level array is wrapped so it is treated as one
        // value, as the reference does.
        root.bind(&std::sync::Arc::from("$"), raw.clone());
        let input = if raw.is_array() {
            value::Value::outer_wrapper(raw)
        } else {
            raw
        };
        let result = ctx
            .eval(&self.ast, &input, &root)
            .and_then(|v| v.to_json())
            .map_err(Error::finish);
        drop(ctx);
        result
    }

    /// The names of the free `$variables` the expression reads (without the `$`), sorted
    /// and deduplicated. Variables bound inside the expression (`:=`, lambda parameters,
    /// `@`, `#`) are not free, nor are `$` and `$$`. The standard library's function names
    /// are not listed; names of extension functions (such as the Step Functions ones,
    /// `$partition`...) are, since the evaluator cannot tell them from variables.
    pub fn variables(&self) -> Vec<String> {
        let mut out = BTreeSet::new();
        collect_free(&self.ast, &mut Vec::new(), &mut out);
        out.into_iter().collect()
    }
}

/// Collects free variables. `bound` is a stack of names bound in enclosing scopes.
fn collect_free(node: &ast::Node, bound: &mut Vec<String>, out: &mut BTreeSet<String>) {
    use ast::{Kind, Stage};
    let mark = bound.len();
    if let Some(f) = &node.focus {
        bound.push(f.to_string());
    }
    if let Some(i) = &node.index {
        bound.push(i.to_string());
    }
    for p in &node.predicate {
        collect_free(p, bound, out);
    }
    for s in &node.stages {
        match s {
            Stage::Filter(f) => collect_free(f, bound, out),
            Stage::Index(i) => bound.push(i.to_string()),
        }
    }
    match &node.kind {
        Kind::Variable(v) => {
            let v = v.to_string();
            if !v.is_empty()
                && v != "$"
                && !bound.contains(&v)
                && functions::Builtin::from_name(&v).is_none()
            {
                out.insert(v);
            }
        }
        Kind::Path { steps, .. } => {
            // Bindings made by earlier steps (`@`, `#`) are visible to later ones.
            for s in steps {
                collect_free(s, bound, out);
                if let Some(f) = &s.focus {
                    bound.push(f.to_string());
                }
                if let Some(i) = &s.index {
                    bound.push(i.to_string());
                }
                for st in &s.stages {
                    if let Stage::Index(i) = st {
                        bound.push(i.to_string());
                    }
                }
            }
        }
        Kind::Binary { lhs, rhs, .. } | Kind::Apply { lhs, rhs } => {
            collect_free(lhs, bound, out);
            collect_free(rhs, bound, out);
        }
        Kind::Coalesce(a, b) | Kind::Elvis(a, b) => {
            collect_free(a, bound, out);
            collect_free(b, bound, out);
        }
        Kind::Negate(e) => collect_free(e, bound, out),
        Kind::ArrayCons(items) => items.iter().for_each(|i| collect_free(i, bound, out)),
        Kind::Block(items) => {
            let inner = bound.len();
            for i in items {
                collect_free(i, bound, out);
                if let Kind::Bind { name, .. } = &i.kind {
                    bound.push(name.to_string());
                }
            }
            bound.truncate(inner);
        }
        Kind::ObjectCons(pairs) => {
            for (k, v) in pairs {
                collect_free(k, bound, out);
                collect_free(v, bound, out);
            }
        }
        Kind::Condition {
            cond,
            then,
            otherwise,
        } => {
            collect_free(cond, bound, out);
            collect_free(then, bound, out);
            if let Some(o) = otherwise {
                collect_free(o, bound, out);
            }
        }
        Kind::Bind { name, value } => {
            // A binding is visible to itself (recursive functions).
            bound.push(name.to_string());
            collect_free(value, bound, out);
            bound.pop();
        }
        Kind::Call { procedure, args } | Kind::Partial { procedure, args } => {
            collect_free(procedure, bound, out);
            args.iter().for_each(|a| collect_free(a, bound, out));
        }
        Kind::Lambda(def) => {
            let inner = bound.len();
            bound.extend(def.params.iter().map(|p| p.to_string()));
            collect_free(&def.body, bound, out);
            bound.truncate(inner);
        }
        Kind::Sort(terms) => terms.iter().for_each(|t| collect_free(&t.expr, bound, out)),
        Kind::Transform(def) => {
            collect_free(&def.pattern, bound, out);
            collect_free(&def.update, bound, out);
            if let Some(d) = &def.delete {
                collect_free(d, bound, out);
            }
        }
        _ => {}
    }
    if let Some(g) = &node.group {
        for (k, v) in &g.pairs {
            collect_free(k, bound, out);
            collect_free(v, bound, out);
        }
    }
    bound.truncate(mark);
}
