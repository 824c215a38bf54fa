//! JSONata fields (`QueryLanguage: JSONata`): `Arguments`, `Output`, `Assign`, `Items`,
//! `Condition` and the other fields that take `{% ... %}` expressions.
//!
//! A string is an expression exactly when it starts with `{%` and ends with `%}` (recorded on
//! AWS: `" {% states.input %} "`, with spaces around, is a plain string). Expressions are
//! parsed once when the definition loads; a template keeps constant subtrees as plain values.
//!
//! An expression sees `$states` (`input`, `context`, and `result` or `errorOutput` where the
//! field allows them), the workflow variables it names, and AWS's extension functions
//! (`$partition`, `$range`, `$hash`, `$random`, `$uuid`, `$parse`). Time and randomness come
//! from the execution (its virtual clock and seeded generator), so a run replays exactly.

use crate::diagnostics::{Diagnostic, DiagnosticCode};
use crate::scope::Rng;
use serde_json::{Map, Value};
use std::sync::Arc;

/// AWS's error for an expression that fails, returns nothing, or returns the wrong type.
pub(crate) const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";

/// A compiled JSONata field value.
#[derive(Debug, Clone)]
pub(crate) enum JTemplate {
    /// A subtree with no expression: copied as is.
    Const(Value),
    /// A `{% ... %}` string.
    Expr(Arc<Expr>),
    /// An object with an expression somewhere below it.
    Object(Vec<(String, JTemplate)>),
    /// An array with an expression somewhere below it.
    Array(Vec<JTemplate>),
}

/// One parsed expression with what evaluating it needs.
#[derive(Debug)]
pub(crate) struct Expr {
    /// The text between `{%` and `%}`, trimmed, as AWS quotes it in errors.
    pub source: String,
    /// Where it sits, as AWS names it in errors (`Output/result`, `Items`, ...).
    pub location: String,
    expr: jsonata::Expression,
    /// The free `$names` it reads: only these are bound when it runs.
    free: Vec<String>,
    /// Whether it names one of AWS's extension functions, which are installed only then.
    uses_aws_functions: bool,
}

/// AWS's extension functions (`jsonata::stepfunctions`). `$random` is listed because AWS's
/// takes a seed, which the standard one does not.
const AWS_FUNCTIONS: [&str; 6] = [
    "$partition",
    "$range",
    "$hash",
    "$random",
    "$uuid",
    "$parse",
];

/// What a JSONata expression can read besides the workflow variables: the parts of
/// `$states`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct States<'a> {
    /// `$states.input`: the state's raw input.
    pub input: &'a Value,
    /// `$states.result`: the task, branch or iteration results (Output and Assign of Task,
    /// Parallel and Map).
    pub result: Option<&'a Value>,
    /// `$states.errorOutput`: the error output (Output and Assign of a Catch).
    pub error_output: Option<&'a Value>,
    /// `$states.context`: the context object.
    pub context: &'a Value,
}

impl States<'_> {
    /// `$states` as a JSON object.
    fn to_value(self) -> Value {
        let mut s = Map::with_capacity(4);
        s.insert("input".into(), self.input.clone());
        s.insert("context".into(), self.context.clone());
        if let Some(r) = self.result {
            s.insert("result".into(), r.clone());
        }
        if let Some(e) = self.error_output {
            s.insert("errorOutput".into(), e.clone());
        }
        Value::Object(s)
    }
}

/// Why evaluating a field failed: AWS's error name, the detail of the cause, and the field's
/// location for the EvaluationFailed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryError {
    pub error: &'static str,
    pub detail: String,
    pub location: Option<String>,
}

impl QueryError {
    /// A States.QueryEvaluationError at `location`.
    pub fn at(location: Option<&str>, detail: String) -> QueryError {
        QueryError {
            error: QUERY_EVALUATION_ERROR,
            detail,
            location: location.map(str::to_string),
        }
    }
}

/// The expression inside a `{% ... %}` string, if it is one.
pub(crate) fn expression_text(s: &str) -> Option<&str> {
    s.strip_prefix("{%")?.strip_suffix("%}")
}

fn has_expression(v: &Value) -> bool {
    match v {
        Value::String(s) => expression_text(s).is_some(),
        Value::Array(a) => a.iter().any(has_expression),
        Value::Object(o) => o.values().any(has_expression),
        _ => false,
    }
}

impl JTemplate {
    /// Compiles a field's value. `location` is the field's name as AWS reports it (`Output`);
    /// `loc` is the definition path for diagnostics.
    pub fn compile(v: &Value, location: &str, loc: &str) -> Result<JTemplate, Vec<Diagnostic>> {
        let mut diags = Vec::new();
        let t = compile(v, location, loc, &mut diags);
        if diags.is_empty() {
            Ok(t)
        } else {
            Err(diags)
        }
    }

    /// The source of a template that is a single expression.
    pub fn as_expr(&self) -> Option<&Expr> {
        match self {
            JTemplate::Expr(e) => Some(e),
            _ => None,
        }
    }

    /// Evaluates the template.
    pub fn eval(
        &self,
        states: &States<'_>,
        variables: &Map<String, Value>,
        clock: &mut Clock<'_>,
    ) -> Result<Value, QueryError> {
        // `$states` is built once per template, however many expressions read it.
        let mut cache = None;
        self.eval_with(states, &mut cache, variables, clock)
    }

    fn eval_with(
        &self,
        states: &States<'_>,
        cache: &mut Option<Value>,
        variables: &Map<String, Value>,
        clock: &mut Clock<'_>,
    ) -> Result<Value, QueryError> {
        match self {
            JTemplate::Const(v) => Ok(v.clone()),
            JTemplate::Expr(e) => e.eval_cached(states, cache, variables, clock),
            JTemplate::Array(items) => items
                .iter()
                .map(|t| t.eval_with(states, cache, variables, clock))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            JTemplate::Object(fields) => {
                let mut out = Map::with_capacity(fields.len());
                for (k, t) in fields {
                    out.insert(k.clone(), t.eval_with(states, cache, variables, clock)?);
                }
                Ok(Value::Object(out))
            }
        }
    }
}

fn compile(v: &Value, location: &str, loc: &str, diags: &mut Vec<Diagnostic>) -> JTemplate {
    if !has_expression(v) {
        return JTemplate::Const(v.clone());
    }
    match v {
        Value::String(s) => {
            let text = expression_text(s).unwrap_or_default();
            match jsonata::Expression::parse(text) {
                Ok(expr) => {
                    let free = free_names(&expr, text);
                    JTemplate::Expr(Arc::new(Expr {
                        source: text.trim().to_string(),
                        location: location.to_string(),
                        expr,
                        free,
                        uses_aws_functions: AWS_FUNCTIONS.iter().any(|f| text.contains(f)),
                    }))
                }
                Err(e) => {
                    diags.push(Diagnostic::error(
                        DiagnosticCode::SchemaValidationFailed,
                        loc,
                        format!(
                            "The JSONata expression '{}' specified for the field '{location}' is invalid: {}: {}",
                            text.trim(),
                            e.code,
                            e.message
                        ),
                    ));
                    JTemplate::Const(Value::Null)
                }
            }
        }
        // Assumption (AWS documents objects): array elements are located by their index.
        Value::Array(items) => JTemplate::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| compile(x, &format!("{location}/{i}"), &format!("{loc}/{i}"), diags))
                .collect(),
        ),
        Value::Object(o) => JTemplate::Object(
            o.iter()
                .map(|(k, x)| {
                    let t = compile(x, &format!("{location}/{k}"), &format!("{loc}/{k}"), diags);
                    (k.clone(), t)
                })
                .collect(),
        ),
        other => JTemplate::Const(other.clone()),
    }
}

/// The `$names` an expression may read from the workflow variables: its free variables, plus
/// every `$name` written in it that the JSONata library leaves out because a built-in function
/// has that name. A workflow variable such as `count` is bound like any JSONata binding, and
/// bindings shadow the built-in functions (JSONata's `evaluate(input, bindings)` binds them in a
/// frame above the standard library), so `$count` reads the variable. Only names that are
/// variables at run time get bound; names bound inside the expression still win, since the
/// expression's own scopes are searched before the bindings.
fn free_names(expr: &jsonata::Expression, text: &str) -> Vec<String> {
    let mut names = expr.variables();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        rest = &rest[i + 1..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let name = &rest[..end];
        if !name.is_empty() && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
        rest = &rest[end..];
    }
    names
}

/// The execution's clock and random numbers, lent to an evaluation.
#[derive(Debug)]
pub(crate) struct Clock<'a> {
    /// The virtual time in milliseconds since the epoch (`$now()`, `$millis()`).
    pub now_millis: i64,
    /// The execution's seeded generator (`$random()`, `$uuid()`, `$shuffle()`).
    pub rng: &'a mut Rng,
}

impl jsonata::Host for Clock<'_> {
    fn now_millis(&mut self) -> i64 {
        self.now_millis
    }

    fn random(&mut self) -> f64 {
        self.rng.next_f64()
    }
}

impl Expr {
    /// Evaluates the expression; an undefined result is an error, as on AWS.
    fn eval_cached(
        &self,
        states: &States<'_>,
        cache: &mut Option<Value>,
        variables: &Map<String, Value>,
        clock: &mut Clock<'_>,
    ) -> Result<Value, QueryError> {
        match self.eval_raw(states, cache, variables, clock)? {
            Some(v) => Ok(v),
            None => Err(QueryError::at(
                Some(&self.location),
                format!(
                    "The JSONata expression '{}' specified for the field '{}' returned nothing (undefined).",
                    self.source, self.location
                ),
            )),
        }
    }

    /// Evaluates the expression; `None` for an undefined result.
    fn eval_raw(
        &self,
        states: &States<'_>,
        cache: &mut Option<Value>,
        variables: &Map<String, Value>,
        clock: &mut Clock<'_>,
    ) -> Result<Option<Value>, QueryError> {
        let mut env = jsonata::Environment::new(clock);
        if self.uses_aws_functions {
            jsonata::stepfunctions::install(&mut env);
        }
        for name in &self.free {
            if name == "states" {
                let value = cache.get_or_insert_with(|| states.to_value());
                env.bind("states", value.clone());
            } else if let Some(v) = variables.get(name) {
                env.bind(name, v.clone());
            }
        }
        self.expr.evaluate(None, &mut env).map_err(|e| {
            QueryError::at(
                Some(&self.location),
                format!(
                    "The JSONata expression '{}' specified for the field '{}' threw an error during evaluation. {}: {}",
                    self.source, self.location, e.code, e.message
                ),
            )
        })
    }

    /// The error for a result of the wrong type, as AWS words it.
    pub fn wrong_type(&self, expected: &str, got: &Value) -> QueryError {
        QueryError::at(
            Some(&self.location),
            format!(
                "The JSONata expression '{}' specified for the field '{}' returned an unexpected result type. Expected '{expected}', but was '{}' for value: {}",
                self.source,
                self.location,
                json_type(got),
                serde_json::to_string(got).unwrap_or_default()
            ),
        )
    }
}

/// A JSON value's type name as AWS's errors give it.
pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(v: Value, input: Value) -> Result<Value, QueryError> {
        let t = JTemplate::compile(&v, "Output", "/States/S/Output").unwrap();
        let mut rng = Rng::new(1);
        let mut clock = Clock {
            now_millis: 0,
            rng: &mut rng,
        };
        let states = States {
            input: &input,
            result: None,
            error_output: None,
            context: &Value::Null,
        };
        let mut vars = Map::new();
        vars.insert("x".into(), json!(41));
        t.eval(&states, &vars, &mut clock)
    }

    #[test]
    fn only_whole_strings_are_expressions() {
        let out = eval(
            json!({"a": "{% $states.input.n + $x %}", "b": " {% 1 %} ", "c": ["{% 2 %}", "$x"]}),
            json!({"n": 1}),
        )
        .unwrap();
        assert_eq!(out, json!({"a": 42, "b": " {% 1 %} ", "c": [2, "$x"]}));
    }

    #[test]
    fn undefined_and_failing_expressions_name_the_field() {
        let e = eval(json!({"result": "{% $nope %}"}), json!({})).unwrap_err();
        assert_eq!(e.error, QUERY_EVALUATION_ERROR);
        assert_eq!(e.location.as_deref(), Some("Output/result"));
        assert_eq!(
            e.detail,
            "The JSONata expression '$nope' specified for the field 'Output/result' returned nothing (undefined)."
        );
        let e = eval(json!("{% $f(1) %}"), json!({})).unwrap_err();
        assert_eq!(
            e.detail,
            "The JSONata expression '$f(1)' specified for the field 'Output' threw an error during evaluation. T1006: Attempted to invoke a non-function"
        );
    }

    #[test]
    fn variables_named_like_builtin_functions_shadow_them() {
        // AWS binds workflow variables as JSONata bindings, which shadow the standard
        // library: a variable `count` makes `$count` its value, not the function.
        let t = JTemplate::compile(
            &json!({"n": "{% $count + 1 %}", "s": "{% $sum %}", "f": "{% $max([1, 3]) %}",
                    "bound": "{% ($count := 7; $count) %}"}),
            "Output",
            "/States/S/Output",
        )
        .unwrap();
        let mut rng = Rng::new(1);
        let mut clock = Clock {
            now_millis: 0,
            rng: &mut rng,
        };
        let input = json!({});
        let states = States {
            input: &input,
            result: None,
            error_output: None,
            context: &Value::Null,
        };
        let mut vars = Map::new();
        vars.insert("count".into(), json!(2));
        vars.insert("sum".into(), json!("total"));
        let out = t.eval(&states, &vars, &mut clock).unwrap();
        assert_eq!(out, json!({"n": 3, "s": "total", "f": 3, "bound": 7}));
        // Without such a variable the built-in function is still there.
        let out = eval(json!("{% $count([1, 2]) %}"), json!({})).unwrap();
        assert_eq!(out, json!(2));
    }
}
