//! The evaluator's values.
//!
//! Values borrow from the input document and the variable bindings wherever a path only
//! navigates (`Value::Json`), so evaluating `Account.Order[0].Product` copies nothing. New
//! arrays and objects are reference-counted, so passing them around is cheap too.
//!
//! Arrays carry the reference's hidden flags: whether the array is a *sequence* (a result
//! collection that is unwrapped when it holds one item) or a real array, and the markers
//! that control flattening.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::ast::{LambdaDef, RegexLit, TransformDef};
use crate::error::Error;
use crate::eval::Env;
use crate::functions::Builtin;
use crate::signature::Signature;
use crate::NativeFunction;

/// JavaScript's "array index" keys (`"0"`, `"42"`, not `"01"` or `"-1"`): JavaScript objects
/// list them first, in ascending order, before the other keys in insertion order. The
/// reference's results follow that order, so this evaluator does too.
pub(crate) fn index_key(k: &str) -> Option<u32> {
    let b = k.as_bytes();
    if b.is_empty()
        || b.len() > 10
        || (b.len() > 1 && b[0] == b'0')
        || !b.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    let n: u64 = k.parse().ok()?;
    if n >= u64::from(u32::MAX) {
        None
    } else {
        Some(n as u32)
    }
}

/// Inserts a property where a JavaScript object would put it: an existing key keeps its
/// place, a new index key goes among the index keys in numeric order, others go last.
pub(crate) fn map_insert<'a>(map: &mut Map<'a>, key: String, value: Value<'a>) {
    if let Some(slot) = map.get_mut(&key) {
        *slot = value;
        return;
    }
    match index_key(&key) {
        None => {
            map.insert(key, value);
        }
        Some(n) => {
            let pos = map
                .keys()
                .take_while(|k| index_key(k).is_some_and(|m| m < n))
                .count();
            map.shift_insert(pos, key, value);
        }
    }
}

/// The entries of a JSON object in JavaScript's order.
fn json_entries(o: &serde_json::Map<String, Json>) -> Vec<(&String, &Json)> {
    let mut entries: Vec<(&String, &Json)> = o.iter().collect();
    if entries.iter().any(|(k, _)| index_key(k).is_some()) {
        // A stable sort: index keys first by value, the rest keep their order.
        entries.sort_by_key(|(k, _)| index_key(k).map_or((1, 0), |n| (0, n)));
    }
    entries
}

/// A copy of a JSON value with every object's keys in JavaScript's order.
fn js_ordered(j: &Json) -> Json {
    crate::guarded(|| match j {
        Json::Array(a) => Json::Array(a.iter().map(js_ordered).collect()),
        Json::Object(o) => Json::Object(
            json_entries(o)
                .into_iter()
                .map(|(k, v)| (k.clone(), js_ordered(v)))
                .collect(),
        ),
        other => other.clone(),
    })
}

/// The deepest nesting of arrays and objects a result may have.
pub const MAX_RESULT_NESTING: usize = 1000;

/// An object: keys in insertion order.
pub(crate) type Map<'a> = IndexMap<String, Value<'a>>;

/// A value during evaluation. `Undefined` is JavaScript's `undefined`: "no value".
#[derive(Clone, Default)]
pub(crate) enum Value<'a> {
    #[default]
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    Str(Rc<str>),
    /// A string, array or object borrowed from the input or the bindings.
    Json(&'a Json),
    Array(Rc<Array<'a>>),
    /// Objects are shared and mutable, as in JavaScript: the transform operator updates the
    /// objects its pattern selects inside the copy it made.
    Object(Rc<Obj<'a>>),
    Function(Rc<Func<'a>>),
    /// A tuple stream: the internal result of path steps that bind variables (`@`, `#`)
    /// or record ancestors for `%`.
    Tuples(Rc<Vec<Tuple<'a>>>),
}

/// An array made during evaluation.
pub(crate) struct Array<'a> {
    pub items: Vec<Value<'a>>,
    /// A result sequence rather than an array value.
    pub sequence: bool,
    /// Keep a singleton sequence as an array (`[]` in the expression).
    pub keep_singleton: Cell<bool>,
    /// Made by an array constructor that must not be flattened into its path.
    pub cons: bool,
    /// The wrapper the reference puts around an array input document.
    pub outer_wrapper: bool,
}

/// An object made during evaluation.
pub(crate) struct Obj<'a>(pub RefCell<Map<'a>>);

impl<'a> std::ops::Deref for Obj<'a> {
    type Target = RefCell<Map<'a>>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// Releases the values of a container without recursion: a value nested thousands of
/// levels deep (which tail-recursive expressions can build) would otherwise overflow the
/// stack when it is dropped.
fn drop_iteratively(mut stack: Vec<Value<'_>>) {
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(rc) => {
                if let Ok(mut a) = Rc::try_unwrap(rc) {
                    stack.append(&mut a.items);
                }
            }
            Value::Object(rc) => {
                if let Ok(o) = Rc::try_unwrap(rc) {
                    let map = std::mem::take(&mut *o.0.borrow_mut());
                    stack.extend(map.into_values());
                }
            }
            _ => {}
        }
    }
}

impl Drop for Array<'_> {
    fn drop(&mut self) {
        if self
            .items
            .iter()
            .any(|v| matches!(v, Value::Array(_) | Value::Object(_)))
        {
            drop_iteratively(std::mem::take(&mut self.items));
        }
    }
}

impl Drop for Obj<'_> {
    fn drop(&mut self) {
        let map = self.0.get_mut();
        if map
            .values()
            .any(|v| matches!(v, Value::Array(_) | Value::Object(_)))
        {
            drop_iteratively(std::mem::take(map).into_values().collect());
        }
    }
}

impl<'a> Array<'a> {
    pub fn new(items: Vec<Value<'a>>, sequence: bool, cons: bool, outer_wrapper: bool) -> Self {
        Array {
            items,
            sequence,
            keep_singleton: Cell::new(false),
            cons,
            outer_wrapper,
        }
    }
}

/// One tuple of a tuple stream: the context item and the variables bound along the path.
#[derive(Clone)]
pub(crate) struct Tuple<'a> {
    pub context: Value<'a>,
    pub bindings: Vec<(Arc<str>, Value<'a>)>,
}

impl<'a> Tuple<'a> {
    pub fn bind(&mut self, name: &Arc<str>, value: Value<'a>) {
        if let Some(slot) = self.bindings.iter_mut().find(|(k, _)| k == name) {
            slot.1 = value;
        } else {
            self.bindings.push((name.clone(), value));
        }
    }
}

/// A function value.
pub(crate) enum Func<'a> {
    Lambda(Lambda<'a>),
    Builtin(Builtin),
    Native {
        name: Arc<str>,
        f: &'a NativeFunction,
    },
    /// A built-in or host function with some arguments supplied; `None` marks a `?`.
    Partial {
        func: Rc<Func<'a>>,
        args: Vec<Option<Value<'a>>>,
    },
    /// A regular expression literal: a matcher function.
    Regex(Arc<RegexLit>),
    /// The `next` function of a regex match.
    RegexNext {
        regex: Arc<RegexLit>,
        text: Rc<str>,
        from: usize,
    },
    Transform {
        def: Arc<TransformDef>,
        env: Env<'a>,
    },
    /// `f ~> g` where both are functions.
    Chain(Value<'a>, Value<'a>),
}

/// A closure.
pub(crate) struct Lambda<'a> {
    pub def: Arc<LambdaDef>,
    /// The parameters still to be supplied (fewer than the definition's after partial application).
    pub params: Rc<[Arc<str>]>,
    pub signature: Option<Arc<Signature>>,
    pub input: Value<'a>,
    pub env: Env<'a>,
}

impl<'a> Func<'a> {
    /// The number of parameters, as the reference's `getFunctionArity` sees it.
    pub fn arity(&self) -> usize {
        match self {
            Func::Lambda(l) => l.params.len(),
            Func::Builtin(b) => b.arity(),
            Func::Native { .. } => 1,
            Func::Partial { args, .. } => args.iter().filter(|a| a.is_none()).count(),
            Func::Regex(_) => 2,
            Func::RegexNext { .. } => 0,
            Func::Transform { .. } => 1,
            Func::Chain(..) => 1,
        }
    }
}

impl<'a> Value<'a> {
    /// Lifts a JSON value: scalars become owned, containers and strings stay borrowed.
    pub fn from_json(j: &'a Json) -> Value<'a> {
        match j {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            Json::String(_) | Json::Array(_) | Json::Object(_) => Value::Json(j),
        }
    }

    pub fn str(s: &str) -> Value<'a> {
        Value::Str(Rc::from(s))
    }

    pub fn string(s: String) -> Value<'a> {
        Value::Str(Rc::from(s))
    }

    /// A result sequence.
    pub fn seq(items: Vec<Value<'a>>) -> Value<'a> {
        Value::Array(Rc::new(Array::new(items, true, false, false)))
    }

    /// An array value (not a sequence).
    pub fn array(items: Vec<Value<'a>>) -> Value<'a> {
        Value::Array(Rc::new(Array::new(items, false, false, false)))
    }

    pub fn object(map: Map<'a>) -> Value<'a> {
        Value::Object(Rc::new(Obj(RefCell::new(map))))
    }

    pub fn func(f: Func<'a>) -> Value<'a> {
        Value::Function(Rc::new(f))
    }

    pub fn is_undefined(&self) -> bool {
        matches!(self, Value::Undefined)
    }

    pub fn is_array(&self) -> bool {
        matches!(
            self,
            Value::Array(_) | Value::Tuples(_) | Value::Json(Json::Array(_))
        )
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_) | Value::Json(Json::Object(_)))
    }

    pub fn is_function(&self) -> bool {
        matches!(self, Value::Function(_))
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Value::Str(_) | Value::Json(Json::String(_)))
    }

    /// A reference sequence (not an array value).
    pub fn is_sequence(&self) -> bool {
        match self {
            Value::Array(a) => a.sequence,
            Value::Tuples(_) => true,
            _ => false,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            Value::Json(Json::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The string as a shared string, copying only when borrowed from JSON.
    pub fn as_rc_str(&self) -> Option<Rc<str>> {
        match self {
            Value::Str(s) => Some(s.clone()),
            Value::Json(Json::String(s)) => Some(Rc::from(s.as_str())),
            _ => None,
        }
    }

    /// The number, if this is one (NaN included; see [`Value::numeric`]).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The reference's `isNumeric`: a number that is not NaN; infinite numbers are an error.
    pub fn numeric(&self) -> Result<Option<f64>, Error> {
        match self {
            Value::Number(n) if n.is_nan() => Ok(None),
            Value::Number(n) if n.is_infinite() => {
                Err(Error::new("D1001").value(js_number_string(*n)))
            }
            Value::Number(n) => Ok(Some(*n)),
            _ => Ok(None),
        }
    }

    pub fn as_function(&self) -> Option<&Rc<Func<'a>>> {
        match self {
            Value::Function(f) => Some(f),
            _ => None,
        }
    }

    /// The number of items of an array (0 for other values).
    pub fn len(&self) -> usize {
        match self {
            Value::Array(a) => a.items.len(),
            Value::Json(Json::Array(a)) => a.len(),
            Value::Tuples(t) => t.len(),
            _ => 0,
        }
    }

    /// Item `i` of an array.
    pub fn item(&self, i: usize) -> Value<'a> {
        match self {
            Value::Array(a) => a.items.get(i).cloned().unwrap_or_default(),
            Value::Json(Json::Array(a)) => a.get(i).map(Value::from_json).unwrap_or_default(),
            Value::Tuples(t) => t.get(i).map(|t| t.context.clone()).unwrap_or_default(),
            _ => Value::Undefined,
        }
    }

    /// The items of an array; any other value is a single item (undefined is none).
    pub fn items(&self) -> Vec<Value<'a>> {
        match self {
            Value::Array(a) => a.items.clone(),
            Value::Json(Json::Array(a)) => a.iter().map(Value::from_json).collect(),
            Value::Tuples(t) => t.iter().map(|t| t.context.clone()).collect(),
            Value::Undefined => Vec::new(),
            other => vec![other.clone()],
        }
    }

    /// The entries of an object, in order (none for other values).
    pub fn entries(&self) -> Vec<(String, Value<'a>)> {
        match self {
            Value::Object(o) => o
                .borrow()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            Value::Json(Json::Object(o)) => json_entries(o)
                .into_iter()
                .map(|(k, v)| (k.clone(), Value::from_json(v)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The keys of an object, in order.
    pub fn keys(&self) -> Vec<String> {
        match self {
            Value::Object(o) => o.borrow().keys().cloned().collect(),
            Value::Json(Json::Object(o)) => json_entries(o)
                .into_iter()
                .map(|(k, _)| k.clone())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Property `key` of an object.
    pub fn get(&self, key: &str) -> Value<'a> {
        match self {
            Value::Object(o) => o.borrow().get(key).cloned().unwrap_or_default(),
            Value::Json(Json::Object(o)) => o.get(key).map(Value::from_json).unwrap_or_default(),
            _ => Value::Undefined,
        }
    }

    /// The number of properties of an object.
    pub fn object_len(&self) -> usize {
        match self {
            Value::Object(o) => o.borrow().len(),
            Value::Json(Json::Object(o)) => o.len(),
            _ => 0,
        }
    }

    /// The type letter of function signatures.
    pub fn type_symbol(&self) -> char {
        match self {
            Value::Undefined => 'm',
            Value::Null => 'l',
            Value::Bool(_) => 'b',
            Value::Number(_) => 'n',
            Value::Str(_) | Value::Json(Json::String(_)) => 's',
            Value::Array(_) | Value::Tuples(_) | Value::Json(Json::Array(_)) => 'a',
            Value::Object(_) | Value::Json(_) => 'o',
            Value::Function(_) => 'f',
        }
    }

    /// JavaScript truthiness, for the places the reference uses it directly.
    pub fn js_truthy(&self) -> bool {
        match self {
            Value::Undefined | Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::Str(s) => !s.is_empty(),
            Value::Json(Json::String(s)) => !s.is_empty(),
            _ => true,
        }
    }

    /// Converts to JSON for the caller. Functions become `None` inside containers are dropped
    /// (objects) or `null` (arrays), as `JSON.stringify` does.
    pub fn to_json(&self) -> Result<Option<Json>, Error> {
        self.to_json_at(0)
    }

    fn to_json_at(&self, depth: usize) -> Result<Option<Json>, Error> {
        if depth > MAX_RESULT_NESTING {
            // Deeper JSON could not be dropped or serialised by the caller without
            // overflowing its stack.
            return Err(Error::with_message(
                "U1001",
                format!("The result is nested more than {MAX_RESULT_NESTING} levels deep"),
            ));
        }
        crate::guarded(|| self.to_json_inner(depth))
    }

    fn to_json_inner(&self, depth: usize) -> Result<Option<Json>, Error> {
        Ok(Some(match self {
            Value::Undefined | Value::Function(_) => return Ok(None),
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => number_to_json(*n)?,
            Value::Str(s) => Json::String(s.to_string()),
            Value::Json(j) => js_ordered(j),
            Value::Array(a) => {
                if a.outer_wrapper && a.items.len() == 1 {
                    return a.items[0].to_json_at(depth);
                }
                let mut out = Vec::with_capacity(a.items.len());
                for v in &a.items {
                    out.push(v.to_json_at(depth + 1)?.unwrap_or(Json::Null));
                }
                Json::Array(out)
            }
            Value::Tuples(t) => {
                let mut out = Vec::with_capacity(t.len());
                for v in t.iter() {
                    out.push(v.context.to_json_at(depth + 1)?.unwrap_or(Json::Null));
                }
                Json::Array(out)
            }
            Value::Object(o) => {
                let o = o.borrow();
                let mut out = serde_json::Map::with_capacity(o.len());
                for (k, v) in o.iter() {
                    if let Some(j) = v.to_json_at(depth + 1)? {
                        out.insert(k.clone(), j);
                    }
                }
                Json::Object(out)
            }
        }))
    }

    /// A deep, owned copy (the reference's `$clone`, used by the transform operator).
    pub fn deep_clone(&self) -> Value<'a> {
        crate::guarded(|| match self {
            Value::Json(Json::String(s)) => Value::str(s),
            Value::Json(Json::Array(a)) => {
                Value::array(a.iter().map(|v| Value::from_json(v).deep_clone()).collect())
            }
            Value::Json(Json::Object(o)) => Value::object(
                json_entries(o)
                    .into_iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v).deep_clone()))
                    .collect(),
            ),
            Value::Array(a) => Value::array(a.items.iter().map(Value::deep_clone).collect()),
            Value::Tuples(t) => Value::array(t.iter().map(|t| t.context.deep_clone()).collect()),
            Value::Object(o) => Value::object(
                o.borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.deep_clone()))
                    .collect(),
            ),
            other => other.clone(),
        })
    }

    /// Identity comparison (`===`): primitives by value, containers by reference.
    pub fn strict_eq(&self, other: &Value<'a>) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::Function(a), Value::Function(b)) => Rc::ptr_eq(a, b),
            (Value::Array(a), Value::Array(b)) => Rc::ptr_eq(a, b),
            (Value::Object(a), Value::Object(b)) => Rc::ptr_eq(a, b),
            (Value::Json(a), Value::Json(b)) if !a.is_string() => std::ptr::eq(*a, *b),
            _ => match (self.as_str(), other.as_str()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }
}

/// The reference's `isDeepEqual`.
pub(crate) fn deep_equal<'a>(a: &Value<'a>, b: &Value<'a>) -> bool {
    crate::guarded(|| {
        if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
            return x == y;
        }
        match (a, b) {
            (Value::Undefined, Value::Undefined) | (Value::Null, Value::Null) => true,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::Number(x), Value::Number(y)) => x == y,
            (Value::Function(x), Value::Function(y)) => Rc::ptr_eq(x, y),
            _ if a.is_array() && b.is_array() => {
                let n = a.len();
                n == b.len() && (0..n).all(|i| deep_equal(&a.item(i), &b.item(i)))
            }
            _ if a.is_object() && b.is_object() => {
                if a.object_len() != b.object_len() {
                    return false;
                }
                let mut ka = a.keys();
                let mut kb = b.keys();
                ka.sort();
                kb.sort();
                ka == kb && ka.iter().all(|k| deep_equal(&a.get(k), &b.get(k)))
            }
            _ => false,
        }
    })
}

/// Converts a number for output; integers become JSON integers.
pub(crate) fn number_to_json(n: f64) -> Result<Json, Error> {
    if !n.is_finite() {
        return Err(Error::new("D1001").value(js_number_string(n)));
    }
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        // Exactly representable integers print without a fraction, as in JavaScript.
        #[allow(clippy::cast_possible_truncation)]
        return Ok(Json::from(n as i64));
    }
    Ok(serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number))
}

/// JavaScript's `Number.prototype.toString()` for a finite or non-finite number.
pub(crate) fn js_number_string(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if n == 0.0 {
        return "0".into();
    }
    // Rust's `{:e}` gives the shortest digits that round-trip, as JavaScript does; only the
    // layout differs.
    let sci = format!("{:e}", n.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let e: i32 = exp.parse().unwrap_or(0);
    let k = digits.len() as i32;
    let point = e + 1;
    let mut out = String::new();
    if n < 0.0 {
        out.push('-');
    }
    if k <= point && point <= 21 {
        out.push_str(&digits);
        for _ in 0..(point - k) {
            out.push('0');
        }
    } else if 0 < point && point <= 21 {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    } else if -6 < point && point <= 0 {
        out.push_str("0.");
        for _ in 0..(-point) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if point - 1 < 0 { '-' } else { '+' });
        let _ = write!(out, "{}", (point - 1).abs());
    }
    out
}

/// `Number(n.toPrecision(15))`: the reference rounds numbers to 15 significant digits when
/// it turns them into strings, hiding binary floating-point noise.
pub(crate) fn round15(n: f64) -> f64 {
    if !n.is_finite() || n == 0.0 {
        return n;
    }
    format!("{n:.14e}").parse().unwrap_or(n)
}

/// Serialises a value as `JSON.stringify` does with the reference's replacer: numbers to
/// 15 significant digits, functions as empty strings.
pub(crate) fn stringify(v: &Value<'_>, pretty: bool) -> Result<String, Error> {
    let mut out = String::new();
    write_json(&mut out, v, pretty, 0, true)?;
    Ok(out)
}

fn write_json(
    out: &mut String,
    v: &Value<'_>,
    pretty: bool,
    level: usize,
    top: bool,
) -> Result<bool, Error> {
    crate::guarded(|| {
        match v {
            Value::Undefined => {
                if top {
                    return Ok(false);
                }
                out.push_str("null");
            }
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => {
                if n.is_infinite() {
                    return Err(Error::new("D1001").value(js_number_string(*n)));
                }
                if n.is_nan() {
                    out.push_str("null");
                } else if n.fract() == 0.0 {
                    // Integers are exact; only fractions carry binary noise worth hiding.
                    out.push_str(&js_number_string(*n));
                } else {
                    out.push_str(&js_number_string(round15(*n)));
                }
            }
            Value::Str(_) | Value::Json(Json::String(_)) => {
                write_json_string(out, v.as_str().unwrap_or_default());
            }
            Value::Function(_) => out.push_str("\"\""),
            Value::Array(a) if a.outer_wrapper && a.items.len() == 1 => {
                return write_json(out, &a.items[0], pretty, level, top);
            }
            _ if v.is_array() => {
                let items = v.items();
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, pretty, level + 1);
                    write_json(out, item, pretty, level + 1, false)?;
                }
                if !items.is_empty() {
                    newline(out, pretty, level);
                }
                out.push(']');
            }
            _ => {
                let entries = v.entries();
                out.push('{');
                let mut first = true;
                for (k, item) in &entries {
                    if item.is_undefined() {
                        continue;
                    }
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    newline(out, pretty, level + 1);
                    write_json_string(out, k);
                    out.push(':');
                    if pretty {
                        out.push(' ');
                    }
                    write_json(out, item, pretty, level + 1, false)?;
                }
                if !first {
                    newline(out, pretty, level);
                }
                out.push('}');
            }
        }
        Ok(true)
    })
}

fn newline(out: &mut String, pretty: bool, level: usize) {
    if pretty {
        out.push('\n');
        for _ in 0..level {
            out.push_str("  ");
        }
    }
}

fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_javascript_does() {
        assert_eq!(js_number_string(1.0), "1");
        assert_eq!(js_number_string(-0.5), "-0.5");
        assert_eq!(js_number_string(1e21), "1e+21");
        assert_eq!(js_number_string(1e20), "100000000000000000000");
        assert_eq!(js_number_string(1.5e-7), "1.5e-7");
        assert_eq!(js_number_string(0.000001), "0.000001");
        assert_eq!(js_number_string(123.456), "123.456");
        assert_eq!(js_number_string(round15(0.1 + 0.2)), "0.3");
    }
}
