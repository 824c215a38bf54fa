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
use crate::jsonpath::{field, JsonPath, PathRoot};
use crate::scope::{Rng, Scope};
use serde_json::{Map, Value};
use std::borrow::Cow;

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
        /// How many fields are dynamic.
        dynamic_len: usize,
        /// One step a field, in order: what evaluating it writes into its slot (see
        /// [`Step`]): a constant, or the dynamic field's source.
        steps: Vec<Step>,
        /// The result's JSON text around its dynamic values, when they are all top-level
        /// paths or calls: `pieces[0]`, the first dynamic value's text, `pieces[1]`, and so
        /// on. The constant fields are written once, here, instead of on every Standard
        /// state that records the result as text.
        pieces: Option<Vec<String>>,
        /// The pieces' total length.
        pieces_len: usize,
        /// Whether every dynamic value is a reference path into the input, whose text is a
        /// part of the input's: `Template::bound_of` is then worked out without looking at
        /// the result.
        input_refs_only: bool,
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

    /// Evaluates the template against `scope`. Objects are built in maps taken from
    /// `spares` where it has any.
    pub fn eval(
        &self,
        scope: &Scope<'_>,
        rng: &mut Rng,
        spares: &mut Spares,
    ) -> Result<Value, TemplateError> {
        match self {
            Template::Const(v) => Ok(v.clone()),
            Template::Array(items) => items
                .iter()
                .map(|t| t.eval(scope, rng, spares))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Template::Proto { proto, steps, .. } => {
                // A spare with the prototype's keys keeps old values: each is written over in
                // place, reusing its allocations where the kinds match. A copy of the
                // prototype has the constants already.
                let (mut out, has_constants) = match spares.take_shaped(proto) {
                    Some(m) => (m, false),
                    None => (spares.copy_of(proto), true),
                };
                for (slot, step) in out.values_mut().zip(steps) {
                    match step {
                        Step::Number(n) if !has_constants => match slot {
                            Value::Number(x) => *x = n.clone(),
                            _ => *slot = Value::Number(n.clone()),
                        },
                        Step::Const(c) if !has_constants => assign(slot, c),
                        Step::Number(_) | Step::Const(_) => {}
                        Step::InputField { name, source } => {
                            match scope.input.as_object().and_then(|o| field(o, name)) {
                                Some(v) => assign(slot, v),
                                // The general path writes the error (kept out of line: the
                                // one call of `eval_into` here is what keeps it in line).
                                None => *slot = source.eval(scope, rng, spares)?,
                            }
                        }
                        Step::Dynamic(source) => source.eval_into(slot, scope, rng, spares)?,
                    }
                }
                Ok(Value::Object(out))
            }
            Template::Object(fields) => {
                let mut out = Map::with_capacity(fields.len());
                for (name, f) in fields {
                    out.insert(name.clone(), f.eval(scope, rng, spares)?);
                }
                Ok(Value::Object(out))
            }
        }
    }
}

/// What evaluating one field of a prototype writes into its slot. Worked out when the
/// template is compiled, so that evaluating it is one pass over the result's fields.
///
/// Why: evaluating walked the result, the prototype and the dynamic sources side by side and
/// found out each constant's kind again; a Parallel branch's Pass state spent 560
/// instructions on a three-field template.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// A constant number, written over the slot's number in place.
    Number(serde_json::Number),
    /// Any other constant.
    Const(Value),
    /// `"name.$": "$.field"`: the input object's field, copied in (a missing one goes through
    /// `source`, which reports it as the general path does).
    InputField { name: String, source: Field },
    /// Any other dynamic field.
    Dynamic(Field),
}

impl Step {
    /// Whether the field's value comes from its source rather than the template.
    fn is_dynamic(&self) -> bool {
        matches!(self, Step::InputField { .. } | Step::Dynamic(_))
    }
}

/// `*slot = v.clone()`, keeping the slot's string, array or map allocation when it holds
/// a value of the same kind (serde_json's `Value::clone_from` always allocates anew).
#[inline(always)]
fn assign(slot: &mut Value, v: &Value) {
    match (slot, v) {
        (Value::String(a), Value::String(b)) => a.clone_from(b),
        // Scalars over scalars of their kind: no drop of the old value to call.
        (Value::Number(a), Value::Number(b)) => a.clone_from(b),
        (Value::Bool(a), Value::Bool(b)) => *a = *b,
        (Value::Null, Value::Null) => {}
        (Value::Object(a), Value::Object(b)) => a.clone_from(b),
        (Value::Array(a), Value::Array(b)) => a.clone_from(b),
        (slot, v) => *slot = v.clone(),
    }
}

impl Template {
    /// The JSON text of `result`, a value this template evaluated to, written from the
    /// template's constant pieces and the result's dynamic values (byte for byte what
    /// serde_json writes for `result`). `None` for templates without pieces.
    pub fn text_of(&self, result: &Value) -> Option<String> {
        let Template::Proto {
            pieces: Some(_),
            pieces_len,
            ..
        } = self
        else {
            return None;
        };
        let mut out = String::with_capacity(pieces_len + 32);
        self.write_text(result, &mut out)?;
        Some(out)
    }

    /// [`Template::text_of`], appended to `out`. On `None`, `out` may hold part of it.
    /// Compiled into both of its callers (a call here cost the Standard Parallel 1.7 %).
    #[inline(always)]
    pub fn write_text(&self, result: &Value, out: &mut String) -> Option<()> {
        let Template::Proto {
            steps,
            pieces: Some(pieces),
            ..
        } = self
        else {
            return None;
        };
        let values = result.as_object()?;
        if values.len() != steps.len() {
            return None;
        }
        // Written into a `String` directly: the pieces are `str`s and `write_json` writes
        // UTF-8, so there is no byte buffer to check again at the end (that check was a
        // tenth of this function).
        let (first, rest) = pieces.split_first()?;
        out.push_str(first);
        let mut rest = rest.iter();
        for (v, step) in values.values().zip(steps) {
            if step.is_dynamic() {
                write_json(out, v)?;
                out.push_str(rest.next()?);
            }
        }
        Some(())
    }

    /// The length of the constant parts of this template's text, when it has pieces: a
    /// lower bound of its results' text lengths, for sizing buffers.
    pub fn text_len_hint(&self) -> usize {
        match self {
            Template::Proto { pieces_len, .. } => *pieces_len,
            _ => 0,
        }
    }

    /// An upper bound of the JSON length of a value this template evaluated to against an
    /// input whose JSON length is at most `input_bound`, without looking at the value: the
    /// constant pieces' exact length plus `input_bound` for each dynamic value, when they
    /// are all reference paths into the input (the text of each is a part of the input's).
    /// `None` otherwise, or when `input_bound` is not known (`usize::MAX`). The bound of a
    /// chain of such states grows by its pieces each state; the caller measures the output
    /// again when the bound passes its limit.
    pub fn bound_of(&self, input_bound: usize) -> Option<usize> {
        match self {
            Template::Proto {
                dynamic_len,
                pieces: Some(_),
                pieces_len,
                input_refs_only: true,
                ..
            } if input_bound != usize::MAX => {
                Some(pieces_len.saturating_add(input_bound.saturating_mul(*dynamic_len)))
            }
            _ => None,
        }
    }
}

/// Appends `v`'s JSON text, as serde_json writes it. A string that needs no escaping is
/// copied between quotes in line; the short strings templates copy from their input cost
/// three times as much through serde_json's writer.
#[inline]
fn write_json(out: &mut String, v: &Value) -> Option<()> {
    match v {
        Value::String(s) if crate::splice::needs_no_escape(s) => {
            out.reserve(s.len() + 2);
            out.push('"');
            out.push_str(s);
            out.push('"');
        }
        // Integers digit by digit: the formatting machinery behind `write!` cost four times
        // as much for the small numbers templates copy. Floats through serde_json's `Display`,
        // which is its serializer's text (the same shortest form for the finite floats a
        // `Value` holds).
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => push_digits(out, u),
            (None, Some(i)) => {
                out.push('-');
                push_digits(out, i.unsigned_abs());
            }
            (None, None) => {
                use std::fmt::Write as _;
                write!(out, "{n}").ok()?;
            }
        },
        _ => out.push_str(&serde_json::to_string(v).ok()?),
    }
    Some(())
}

/// Appends the decimal digits of `n`.
#[inline]
fn push_digits(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &buf[at..] {
        out.push(char::from(digit));
    }
}

impl Field {
    /// The name `"$.name"` reads, when the field is that one-field path into the input.
    fn input_field(&self) -> Option<String> {
        match self {
            Field::Path { path, .. } if *path.root() == PathRoot::Input => {
                path.single_field().map(str::to_string)
            }
            _ => None,
        }
    }

    /// Whether the field is a reference path into the input (`$.a.b[0]`): its value's text
    /// is a part of the input's text.
    fn is_input_ref(&self) -> bool {
        matches!(self, Field::Path { path, .. }
            if *path.root() == PathRoot::Input && path.is_reference())
    }

    /// Like [`Field::eval`], written over `slot`: a path's value is copied into the slot's
    /// own allocation where it can be.
    fn eval_into(
        &self,
        slot: &mut Value,
        scope: &Scope<'_>,
        rng: &mut Rng,
        spares: &mut Spares,
    ) -> Result<(), TemplateError> {
        match self {
            Field::Path { path, .. } => match scope.resolve_cow(path) {
                Some(Cow::Borrowed(v)) => assign(slot, v),
                Some(Cow::Owned(v)) => *slot = v,
                // `eval` writes the error.
                None => *slot = self.eval(scope, rng, spares)?,
            },
            _ => *slot = self.eval(scope, rng, spares)?,
        }
        Ok(())
    }

    fn eval(
        &self,
        scope: &Scope<'_>,
        rng: &mut Rng,
        spares: &mut Spares,
    ) -> Result<Value, TemplateError> {
        match self {
            Field::Nested(t) => t.eval(scope, rng, spares),
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

/// Maps of documents an execution has let go of, kept to build the next template objects in.
///
/// Why: with serde_json's `Value` an object template's result costs a map allocation, a hash
/// table allocation and one allocation per key, and the document it replaces (ResultPath `$`,
/// or the old value at a ResultPath) costs as many frees. `Map::clone_from` into a map that
/// is no longer needed reuses its table, its entry list and its key strings, so a chain of
/// states whose outputs have the same shape allocates almost nothing for its templates.
/// The copy is equal to a fresh clone (same keys, order and values); only memory is reused.
#[derive(Debug, Default)]
pub(crate) struct Spares {
    maps: Vec<Map<String, Value>>,
}

impl Spares {
    /// How many maps are kept at most: a step needs one or two.
    const KEPT: usize = 4;
    /// Larger maps are freed rather than kept, so that a spare never holds a big document.
    const MAX_FIELDS: usize = 16;

    /// Takes `v` back if it is a small object; anything else is dropped here.
    #[inline(always)]
    pub fn recycle(&mut self, v: Value) {
        // Decided on a borrow, so that the map is moved once, into the list.
        let keep = matches!(&v, Value::Object(m) if m.len() <= Self::MAX_FIELDS)
            && self.maps.len() < Self::KEPT;
        if keep {
            if let Value::Object(m) = v {
                self.maps.push(m);
            }
        }
    }

    /// A spare map with exactly the keys of `proto`, in its order, if there is one: the
    /// previous result of the same template usually is.
    fn take_shaped(&mut self, proto: &Map<String, Value>) -> Option<Map<String, Value>> {
        let at = self.maps.iter().rposition(|m| {
            m.len() == proto.len()
                && m.keys()
                    .zip(proto.keys())
                    .all(|(a, b)| crate::jsonpath::same_key(a, b))
        })?;
        Some(self.maps.swap_remove(at))
    }

    /// A copy of `proto`, in the oldest spare map when there are two or more. The last one
    /// is left for the next template: in a chain whose states alternate between templates
    /// of two shapes, each result then finds the spare of its own shape (`take_shaped`).
    fn copy_of(&mut self, proto: &Map<String, Value>) -> Map<String, Value> {
        if self.maps.len() < 2 {
            return proto.clone();
        }
        let mut m = self.maps.remove(0);
        m.clone_from(proto);
        m
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
    let mut dynamic = Vec::with_capacity(fields.len());
    for ((_, slot), (_, field)) in proto.iter_mut().zip(fields) {
        match field {
            Field::Nested(Template::Const(v)) => {
                *slot = v;
                dynamic.push(None);
            }
            other => dynamic.push(Some(other)),
        }
    }
    let pieces = pieces(&proto, &dynamic);
    let pieces_len = pieces.iter().flatten().map(String::len).sum();
    let dynamic_len = dynamic.iter().flatten().count();
    let input_refs_only = dynamic.iter().flatten().all(Field::is_input_ref);
    let steps = proto
        .values()
        .zip(dynamic)
        .map(|(constant, source)| match source {
            None => match constant {
                Value::Number(n) => Step::Number(n.clone()),
                c => Step::Const(c.clone()),
            },
            Some(source) => match source.input_field() {
                Some(name) => Step::InputField { name, source },
                None => Step::Dynamic(source),
            },
        })
        .collect();
    Template::Proto {
        proto,
        dynamic_len,
        steps,
        pieces,
        pieces_len,
        input_refs_only,
    }
}

/// The text pieces of a prototype (see `Template::Proto`): `None` when a dynamic field is a
/// nested template, whose text has constant parts of its own.
fn pieces(proto: &Map<String, Value>, dynamic: &[Option<Field>]) -> Option<Vec<String>> {
    if dynamic
        .iter()
        .flatten()
        .any(|f| matches!(f, Field::Nested(_)))
    {
        return None;
    }
    let mut pieces = Vec::with_capacity(dynamic.len() + 1);
    let mut current = String::from("{");
    for (index, ((name, v), field)) in proto.iter().zip(dynamic).enumerate() {
        if index > 0 {
            current.push(',');
        }
        current.push_str(&serde_json::to_string(name).ok()?);
        current.push(':');
        if field.is_some() {
            pieces.push(std::mem::take(&mut current));
        } else {
            current.push_str(&serde_json::to_string(v).ok()?);
        }
    }
    current.push('}');
    pieces.push(current);
    Some(pieces)
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A one-field input path read in place (`Step::InputField`) fails as the general path
    /// does: a missing field and an input that is not an object both give States.Runtime with
    /// AWS's message, and a present field whose value is null is copied.
    #[test]
    fn a_missing_input_field_fails_as_the_general_path_does() {
        let t = Template::compile(&json!({"n": 1, "a.$": "$.x"}), "/Parameters").unwrap();
        let vars = Map::new();
        let eval = |input: &Value| {
            let scope = Scope {
                input,
                context: &Value::Null,
                variables: &vars,
            };
            t.eval(&scope, &mut Rng::new(1), &mut Spares::default())
        };
        for input in [json!({"y": 1}), json!([1, 2]), json!("text")] {
            let e = eval(&input).unwrap_err();
            assert_eq!(e.error, "States.Runtime");
            assert_eq!(
                e.message,
                format!(
                    "The JSONPath '$.x' specified for the field 'a.$' could not be found in the input '{input}'"
                )
            );
        }
        assert_eq!(
            eval(&json!({"x": null})).unwrap(),
            json!({"n": 1, "a": null})
        );
    }

    /// A result built in a spare map is the one a fresh clone gives, in the same field order,
    /// whatever the spare held: the same fields, other fields, more fields, or nothing.
    #[test]
    fn results_built_in_spare_maps_equal_fresh_ones() {
        let t = Template::compile(
            &json!({"b": 1, "a.$": "$.x", "nested": {"c.$": "$.y", "d": [1, 2]}, "z": "k"}),
            "/Parameters",
        )
        .unwrap();
        let input = json!({"x": "ex", "y": {"deep": true}});
        let vars = Map::new();
        let scope = Scope {
            input: &input,
            context: &Value::Null,
            variables: &vars,
        };
        let expected = r#"{"b":1,"a":"ex","nested":{"c":{"deep":true},"d":[1,2]},"z":"k"}"#;
        let mut rng = Rng::new(1);
        let fresh = t.eval(&scope, &mut rng, &mut Spares::default()).unwrap();
        assert_eq!(serde_json::to_string(&fresh).unwrap(), expected);
        let spares = [
            fresh.clone(),
            json!({"b": "old", "a": [1], "nested": null, "z": {}}),
            json!({"q": 1, "r": 2, "s": 3, "t": 4, "u": 5, "v": 6}),
            json!({"c": 0, "d": 0}),
            json!({}),
        ];
        for spare in spares {
            let mut pool = Spares::default();
            pool.recycle(spare.clone());
            pool.recycle(json!({"c": "inner spare"}));
            pool.recycle(json!({"f": 1}));
            let built = t.eval(&scope, &mut rng, &mut pool).unwrap();
            assert_eq!(
                serde_json::to_string(&built).unwrap(),
                expected,
                "spare {spare}"
            );
            // Both objects were built in spares: one of their own shape where there was one,
            // else the oldest.
            assert_eq!(pool.maps.len(), 1, "spares left for {spare}");
        }
        // A single spare of another shape is kept for the next template.
        let mut pool = Spares::default();
        pool.recycle(json!({"f": 1}));
        let built = t.eval(&scope, &mut rng, &mut pool).unwrap();
        assert_eq!(serde_json::to_string(&built).unwrap(), expected);
        assert_eq!(pool.maps.len(), 1);
    }

    /// `write_json` writes what serde_json writes, for strings with every character up to
    /// past ASCII (those it escapes and those it does not), longer strings, and other values.
    #[test]
    fn write_json_is_serde_json_text() {
        let mut values: Vec<Value> = (0u32..0x800)
            .filter_map(char::from_u32)
            .map(|c| Value::String(format!("a{c}b")))
            .collect();
        values.extend([
            json!(""),
            json!("plain text, with / and ' and é and 🎉"),
            json!("tab\tand \"quote\" and \\"),
            json!(0),
            json!(-1.5e-7),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(i64::MIN + 1),
            json!(1),
            json!(9),
            json!(10),
            json!(-1),
            json!(-10),
            json!(12345),
            json!(u64::MAX / 10),
            json!(0.1),
            json!(1e300),
            json!(-0.0),
            json!(123456.789),
            json!(null),
            json!([1, "two", {"three": 3}]),
        ]);
        for v in &values {
            let mut out = String::new();
            write_json(&mut out, v).unwrap();
            assert_eq!(out, serde_json::to_string(v).unwrap(), "{v}");
        }
    }

    /// A result's text from the template's pieces is serde_json's text of the result, with
    /// dynamic fields first, last, alone or between constants, names that need escaping and
    /// constant subtrees; a template with a nested dynamic object has no pieces.
    #[test]
    fn text_from_pieces_is_serde_json_text() {
        let input = json!({"x": "e\"x", "n": 2.5, "o": {"k": [1, null]}});
        let vars = Map::new();
        let scope = Scope {
            input: &input,
            context: &Value::Null,
            variables: &vars,
        };
        let templates = [
            json!({"a.$": "$.x"}),
            json!({"a.$": "$.x", "b": 1}),
            json!({"b": {"deep": [1, "two"]}, "a.$": "$.o"}),
            json!({"q\"uote": "c", "a.$": "$.n", "t\tab": null, "sum.$": "States.MathAdd(1, 2)"}),
            json!({"é": "ü", "whole.$": "$", "last": false}),
        ];
        for v in &templates {
            let t = Template::compile(v, "/Parameters").unwrap();
            let result = t
                .eval(&scope, &mut Rng::new(1), &mut Spares::default())
                .unwrap();
            assert_eq!(
                t.text_of(&result).as_deref(),
                Some(serde_json::to_string(&result).unwrap().as_str()),
                "{v}"
            );
        }
        let nested = Template::compile(&json!({"a": {"b.$": "$.x"}}), "/Parameters").unwrap();
        let result = nested
            .eval(&scope, &mut Rng::new(1), &mut Spares::default())
            .unwrap();
        assert_eq!(nested.text_of(&result), None);
    }

    /// A result's bound from the template's pieces is its constant text's exact length plus
    /// the input's bound for each dynamic value, when all of them are reference paths into
    /// the input; there is none otherwise. It is never below the result's length.
    #[test]
    fn bound_from_pieces_holds() {
        let input = json!({"x": "\u{1}\"", "n": -1.5e300, "o": {"k": [1, null, "é"]}});
        let vars = Map::new();
        let scope = Scope {
            input: &input,
            context: &Value::Null,
            variables: &vars,
        };
        let input_len = serde_json::to_string(&input).unwrap().len();
        let templates = [
            // `{"a":` and `}`.
            (json!({"a.$": "$.x"}), Some(6 + input_len)),
            // `{"b":1,"a":`, `,"all":` and `,"c":"long constant"}`.
            (
                json!({"b": 1, "a.$": "$.n", "all.$": "$", "c": "long constant"}),
                Some(11 + 7 + 21 + 2 * input_len),
            ),
            (
                json!({"a.$": "$.o.k[2]", "q\"uote": [true]}),
                Some(5 + 18 + input_len),
            ),
            // Not parts of the input's text: the context, a call, a path that collects.
            (json!({"v.$": "$$"}), None),
            (json!({"n.$": "States.MathAdd(1, 2)", "a.$": "$.x"}), None),
            (json!({"all.$": "$..k"}), None),
            // No pieces: a nested template.
            (json!({"a": {"b.$": "$.x"}}), None),
        ];
        for (v, expected) in &templates {
            let t = Template::compile(v, "/Parameters").unwrap();
            assert_eq!(t.bound_of(input_len), *expected, "{v}");
            assert_eq!(t.bound_of(usize::MAX), None, "{v}");
            if let Some(bound) = expected {
                let result = t
                    .eval(&scope, &mut Rng::new(1), &mut Spares::default())
                    .unwrap();
                assert!(
                    *bound >= serde_json::to_string(&result).unwrap().len(),
                    "{v}"
                );
            }
        }
    }

    /// Only small objects are kept, and only a few of them.
    #[test]
    fn spares_keep_a_few_small_objects() {
        let mut pool = Spares::default();
        pool.recycle(json!([1, 2]));
        pool.recycle(json!("text"));
        let big: Map<String, Value> = (0..=Spares::MAX_FIELDS)
            .map(|i| (format!("k{i}"), Value::from(i)))
            .collect();
        pool.recycle(Value::Object(big));
        assert_eq!(pool.maps.len(), 0);
        for _ in 0..10 {
            pool.recycle(json!({"a": 1}));
        }
        assert_eq!(pool.maps.len(), Spares::KEPT);
    }
}
