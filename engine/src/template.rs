//! Payload templates: `Parameters`, `ResultSelector`, `ItemSelector` (JSONPath mode).
//!
//! A field whose name ends in `.$` takes its value from a path or an intrinsic function call;
//! the `.$` is dropped from the name. Templates are compiled once; constant subtrees are kept
//! as plain values.
//!
//! Assumption (AWS documents nested objects, not arrays): objects nested inside arrays are
//! templates too, as in LocalStack's AWS-validated implementation.

use crate::diagnostics::{Diagnostic, DiagnosticCode};
use crate::intrinsics::Intrinsic;
use crate::jsonpath::JsonPath;
use crate::scope::{Rng, Scope};
use serde_json::{Map, Value};

/// A compiled payload template.
#[derive(Debug, Clone)]
pub(crate) enum Template {
    /// A subtree with no dynamic field: copied as is.
    Const(Value),
    /// An object with at least one dynamic field somewhere below it, whose names are all
    /// different once `.$` is dropped. `proto` holds every field in order, the constant ones
    /// with their values and the dynamic ones as `null`; evaluating clones it, which copies
    /// the map's hash table instead of hashing every key again (hashing was a third of a
    /// small template's cost), and writes the dynamic fields in by position.
    Proto {
        proto: Map<String, Value>,
        dynamic: Vec<(usize, Field)>,
    },
    /// An object with at least one dynamic field, where two fields have the same name once
    /// `.$` is dropped: built field by field, so the later one wins as it always has.
    Object(Vec<(String, Field)>),
    /// An array with at least one dynamic element somewhere below it.
    Array(Vec<Template>),
}

/// One field of an object template.
#[derive(Debug, Clone)]
pub(crate) enum Field {
    /// A nested template (the name had no `.$`).
    Nested(Template),
    /// `"name.$": "$.path"`.
    Path { key: String, path: JsonPath },
    /// `"name.$": "States.Fn(...)"`.
    Call(Intrinsic),
}

/// Why a template could not be evaluated: AWS's error name and the cause's detail text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateError {
    pub error: String,
    pub message: String,
}

impl Template {
    /// Compiles a template, reporting every bad path or call.
    pub fn compile(v: &Value, loc: &str) -> Result<Template, Vec<Diagnostic>> {
        let mut diags = Vec::new();
        let t = compile(v, loc, &mut diags);
        if diags.is_empty() {
            Ok(t)
        } else {
            Err(diags)
        }
    }

    /// Evaluates the template against `scope`.
    pub fn eval(&self, scope: &Scope<'_>, rng: &mut Rng) -> Result<Value, TemplateError> {
        match self {
            Template::Const(v) => Ok(v.clone()),
            Template::Array(items) => items
                .iter()
                .map(|t| t.eval(scope, rng))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Template::Proto { proto, dynamic } => {
                let mut out = proto.clone();
                for (index, f) in dynamic {
                    let v = f.eval(scope, rng)?;
                    if let Some((_, slot)) = out.iter_mut().nth(*index) {
                        *slot = v;
                    }
                }
                Ok(Value::Object(out))
            }
            Template::Object(fields) => {
                let mut out = Map::with_capacity(fields.len());
                for (name, f) in fields {
                    out.insert(name.clone(), f.eval(scope, rng)?);
                }
                Ok(Value::Object(out))
            }
        }
    }
}

impl Field {
    fn eval(&self, scope: &Scope<'_>, rng: &mut Rng) -> Result<Value, TemplateError> {
        match self {
            Field::Nested(t) => t.eval(scope, rng),
            Field::Path { key, path } => scope.resolve(path).ok_or_else(|| TemplateError {
                error: "States.Runtime".to_string(),
                message: format!(
                    "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
                    path.as_str(),
                    key,
                    serde_json::to_string(scope.input).unwrap_or_default()
                ),
            }),
            Field::Call(call) => call.eval(scope, rng).map_err(|e| TemplateError {
                error: e.error,
                message: e.message,
            }),
        }
    }
}

/// The prototype form of an object template's fields, or the fields back when two of them
/// share a name.
fn prototype(fields: Vec<(String, Field)>) -> Template {
    let mut proto = Map::with_capacity(fields.len());
    for (name, _) in &fields {
        if proto.insert(name.clone(), Value::Null).is_some() {
            return Template::Object(fields);
        }
    }
    let mut dynamic = Vec::new();
    for (index, ((_, slot), (_, field))) in proto.iter_mut().zip(fields).enumerate() {
        match field {
            Field::Nested(Template::Const(v)) => *slot = v,
            other => dynamic.push((index, other)),
        }
    }
    Template::Proto { proto, dynamic }
}

fn is_dynamic(v: &Value) -> bool {
    match v {
        Value::Object(o) => o.iter().any(|(k, v)| k.ends_with(".$") || is_dynamic(v)),
        Value::Array(a) => a.iter().any(is_dynamic),
        _ => false,
    }
}

fn compile(v: &Value, loc: &str, diags: &mut Vec<Diagnostic>) -> Template {
    if !is_dynamic(v) {
        return Template::Const(v.clone());
    }
    match v {
        Value::Array(items) => Template::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| compile(x, &format!("{loc}/{i}"), diags))
                .collect(),
        ),
        Value::Object(o) => {
            let mut fields = Vec::with_capacity(o.len());
            for (k, x) in o {
                let floc = format!("{loc}/{k}");
                let Some(name) = k.strip_suffix(".$") else {
                    fields.push((k.clone(), Field::Nested(compile(x, &floc, diags))));
                    continue;
                };
                let Some(src) = x.as_str() else {
                    diags.push(Diagnostic::error(
                        DiagnosticCode::SchemaValidationFailed,
                        floc,
                        format!("The value of the field '{k}' must be a JSONPath or an intrinsic function"),
                    ));
                    continue;
                };
                if Intrinsic::looks_like_call(src) {
                    match Intrinsic::parse(src) {
                        Ok(call) => fields.push((name.to_string(), Field::Call(call))),
                        Err(e) => diags.push(Diagnostic::error(
                            DiagnosticCode::InvalidIntrinsicFunction,
                            floc,
                            e.to_string(),
                        )),
                    }
                } else {
                    match JsonPath::parse(src) {
                        Ok(path) => fields.push((
                            name.to_string(),
                            Field::Path {
                                key: k.clone(),
                                path,
                            },
                        )),
                        Err(e) => diags.push(Diagnostic::error(
                            DiagnosticCode::InvalidJsonPath,
                            floc,
                            e.to_string(),
                        )),
                    }
                }
            }
            prototype(fields)
        }
        other => Template::Const(other.clone()),
    }
}
