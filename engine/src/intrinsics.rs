//! Intrinsic functions (`States.Format(...)` and friends) for JSONPath states.
//!
//! A call is parsed once, when the definition loads ([`Intrinsic::parse`]), and evaluated many
//! times ([`Intrinsic::eval`]). Syntax, unknown function names and argument counts are checked at
//! parse time; argument *values* (types, ranges) only at run time, where they may come from paths.
//!
//! Sources for the behaviour below:
//! - AWS's recorded executions (outputs of every function, number formatting, `States.Format`'s
//!   Java-style rendering of non-string values, `States.MathAdd` rounding, `States.StringSplit`
//!   dropping empty tokens, `States.StringToJson("-0")` giving `0`, `States.ArrayUnique` keeping
//!   first occurrences in order).
//! - The AWS developer guide ("Intrinsic functions for JSONPath states"): argument counts, the
//!   escapes `\'` `\{` `\}` `\\` in string literals, "an open escape backslash is an error",
//!   nesting of at most 10 calls, `States.ArrayRange` at most 1000 items and a non-zero step,
//!   positive chunk size for `States.ArrayPartition`, 10,000 characters for `Base64Encode`,
//!   `Base64Decode` and `Hash` inputs, the five hash algorithms, `JsonMerge` shallow only,
//!   `MathAdd`/`MathRandom` rounding non-integers to the nearest integer within Java's `int`.
//! - The JDK (AWS's runtime is Java): `Map.toString`/`List.toString`, `Double.toString`,
//!   `Math.round`, `java.util.StringTokenizer`, `java.util.Base64` decoding leniency and
//!   `java.util.Random` (checked against OpenJDK 17).
//!
//! Where AWS is silent the choice is written next to the code as "Assumption:".
//!
//! Errors at run time: a path argument that selects nothing is `States.Runtime` (as for any
//! path AWS cannot find); every other failure of a function on its arguments is
//! `States.IntrinsicFailure` ("an intrinsic function couldn't be processed"), with the detail
//! `Invalid arguments in States.X: <what is wrong>`. Assumption: no recorded AWS case shows
//! these detail texts; they are ours, built in one place ([`invalid`], [`path_not_found`]).

mod java;

use crate::jsonpath::{type_name, JsonPath, PathRoot};
use crate::scope::{Rng, Scope};
use base64::Engine as _;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

/// A parsed intrinsic function call, such as `States.Format('{}', $.name)`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Intrinsic {
    func: Func,
    args: Vec<Arg>,
}

/// A malformed intrinsic function call, found when the definition loads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub(crate) struct IntrinsicSyntaxError {
    /// What is wrong and where.
    pub message: String,
}

/// A run-time failure of an intrinsic function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IntrinsicError {
    /// AWS's error name (`States.IntrinsicFailure` or `States.Runtime`).
    pub error: String,
    /// The detail that follows "An error occurred while executing the state 'S' (entered at the
    /// event id #N). " in the cause.
    pub message: String,
}

/// The error name of a function failing on its arguments.
const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
/// The error name of a path argument that selects nothing.
const RUNTIME: &str = "States.Runtime";

/// AWS: "You can nest up to 10 intrinsic functions within a field".
const MAX_NESTING: usize = 10;
/// AWS: `States.ArrayRange` "can't contain more than 1000 items".
const MAX_RANGE_ITEMS: i128 = 1000;
/// AWS: the inputs of `Base64Encode`, `Base64Decode` and `Hash` are at most 10,000 characters.
const MAX_INPUT_CHARS: usize = 10_000;

/// One argument of a call.
#[derive(Debug, Clone, PartialEq)]
enum Arg {
    /// A number, `true`, `false` or `null`.
    Literal(Value),
    /// A single-quoted string.
    Str(StrLit),
    /// `$...`, `$$...` or `$name...`.
    Path(JsonPath),
    /// A nested call.
    Call(Box<Intrinsic>),
}

/// A string literal, unescaped, and split on its unescaped `{}` for use as a format template.
#[derive(Debug, Clone, PartialEq)]
struct StrLit {
    value: String,
    template: Vec<Part>,
}

/// A piece of a `States.Format` template.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Placeholder,
}

macro_rules! functions {
    ($($variant:ident => $name:literal, $min:expr, $max:expr;)*) => {
        /// The intrinsic functions AWS provides.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Func { $($variant,)* }

        impl Func {
            fn from_name(name: &str) -> Option<Func> {
                match name {
                    $($name => Some(Func::$variant),)*
                    _ => None,
                }
            }

            /// The full name, `States.X`.
            fn name(self) -> &'static str {
                match self { $(Func::$variant => concat!("States.", $name),)* }
            }

            /// Least and most arguments (`None`: any number).
            fn arity(self) -> (usize, Option<usize>) {
                match self { $(Func::$variant => ($min, $max),)* }
            }
        }
    };
}

functions! {
    Format => "Format", 1, None;
    StringToJson => "StringToJson", 1, Some(1);
    JsonToString => "JsonToString", 1, Some(1);
    Array => "Array", 0, None;
    ArrayPartition => "ArrayPartition", 2, Some(2);
    ArrayContains => "ArrayContains", 2, Some(2);
    ArrayRange => "ArrayRange", 3, Some(3);
    ArrayGetItem => "ArrayGetItem", 2, Some(2);
    ArrayLength => "ArrayLength", 1, Some(1);
    ArrayUnique => "ArrayUnique", 1, Some(1);
    Base64Encode => "Base64Encode", 1, Some(1);
    Base64Decode => "Base64Decode", 1, Some(1);
    Hash => "Hash", 2, Some(2);
    JsonMerge => "JsonMerge", 3, Some(3);
    MathRandom => "MathRandom", 2, Some(3);
    MathAdd => "MathAdd", 2, Some(2);
    StringSplit => "StringSplit", 2, Some(2);
    Uuid => "UUID", 0, Some(0);
}

impl fmt::Display for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Intrinsic {
    /// True when a string is meant as an intrinsic call (AWS: starts with "States.").
    pub fn looks_like_call(s: &str) -> bool {
        s.starts_with("States.")
    }

    /// Parses a call such as `States.Format('{}', $.name)`.
    pub fn parse(src: &str) -> Result<Intrinsic, IntrinsicSyntaxError> {
        let mut p = Parser { src, pos: 0 };
        if !Self::looks_like_call(src) {
            return Err(p.err("an intrinsic function call must start with 'States.'"));
        }
        let call = p.call(1)?;
        p.skip_ws();
        if p.pos != src.len() {
            return Err(p.err("unexpected text after the closing ')'"));
        }
        Ok(call)
    }

    /// Evaluates the call against `scope`; `rng` feeds `States.UUID` and unseeded
    /// `States.MathRandom`.
    pub fn eval(&self, scope: &Scope<'_>, rng: &mut Rng) -> Result<Value, IntrinsicError> {
        let mut vals = Vec::with_capacity(self.args.len());
        for arg in &self.args {
            vals.push(arg.eval(self.func, scope, rng)?);
        }
        let f = self.func;
        match f {
            Func::Format => {
                let rendered: Vec<String> =
                    vals[1..].iter().map(|v| java::to_java_string(v)).collect();
                let runtime;
                let template = match &self.args[0] {
                    Arg::Str(lit) => &lit.template,
                    _ => {
                        runtime = template_of(as_str(f, &vals[0], 1)?);
                        &runtime
                    }
                };
                format(f, template, &rendered).map(Value::String)
            }
            Func::StringToJson => {
                let s = as_str(f, &vals[0], 1)?;
                java::parse_json(s)
                    .map_err(|e| invalid(f, format!("the argument is not valid JSON ({e})")))
            }
            Func::JsonToString => Ok(Value::String(java::to_json_text(&vals[0]))),
            Func::Array => Ok(Value::Array(
                vals.into_iter().map(Cow::into_owned).collect(),
            )),
            Func::ArrayPartition => {
                let items = as_array(f, &vals[0], 1)?;
                let size = as_integer(f, &vals[1], 2)?;
                if size <= 0 {
                    return Err(invalid(
                        f,
                        format!("the chunk size must be a positive integer, but was {size}"),
                    ));
                }
                let size = usize::try_from(size).unwrap_or(usize::MAX);
                Ok(Value::Array(
                    items
                        .chunks(size)
                        .map(|c| Value::Array(c.to_vec()))
                        .collect(),
                ))
            }
            Func::ArrayContains => {
                let items = as_array(f, &vals[0], 1)?;
                Ok(Value::Bool(items.iter().any(|x| same(x, &vals[1]))))
            }
            Func::ArrayRange => array_range(
                f,
                as_integer(f, &vals[0], 1)?,
                as_integer(f, &vals[1], 2)?,
                as_integer(f, &vals[2], 3)?,
            ),
            Func::ArrayGetItem => {
                let items = as_array(f, &vals[0], 1)?;
                let index = as_integer(f, &vals[1], 2)?;
                usize::try_from(index)
                    .ok()
                    .and_then(|i| items.get(i))
                    .cloned()
                    .ok_or_else(|| {
                        invalid(
                            f,
                            format!(
                                "the index {index} is out of bounds for an array of length {}",
                                items.len()
                            ),
                        )
                    })
            }
            Func::ArrayLength => Ok(Value::from(as_array(f, &vals[0], 1)?.len())),
            Func::ArrayUnique => {
                let items = as_array(f, &vals[0], 1)?;
                let mut seen = HashSet::new();
                Ok(Value::Array(
                    items
                        .iter()
                        .filter(|x| seen.insert(canonical(x)))
                        .cloned()
                        .collect(),
                ))
            }
            Func::Base64Encode => {
                let s = as_str(f, &vals[0], 1)?;
                check_length(f, s)?;
                Ok(Value::String(
                    base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
                ))
            }
            Func::Base64Decode => {
                let s = as_str(f, &vals[0], 1)?;
                check_length(f, s)?;
                let bytes = BASE64_DECODER
                    .decode(s.as_bytes())
                    .map_err(|e| invalid(f, format!("the argument is not valid Base64 ({e})")))?;
                // Java's `new String(bytes, UTF_8)` replaces malformed sequences.
                Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
            }
            Func::Hash => {
                let data = as_str(f, &vals[0], 1)?;
                check_length(f, data)?;
                let algorithm = as_str(f, &vals[1], 2)?;
                hash(data, algorithm).map(Value::String).ok_or_else(|| {
                    invalid(
                        f,
                        format!(
                            "the hash algorithm '{algorithm}' is not supported; use one of \
                                 MD5, SHA-1, SHA-256, SHA-384, SHA-512"
                        ),
                    )
                })
            }
            Func::JsonMerge => {
                let a = as_object(f, &vals[0], 1)?;
                let b = as_object(f, &vals[1], 2)?;
                let deep = match &*vals[2] {
                    Value::Bool(b) => *b,
                    other => return Err(wrong_type(f, 3, "a boolean", other)),
                };
                if deep {
                    return Err(invalid(
                        f,
                        "deep merge is not supported; the third argument must be false",
                    ));
                }
                let mut merged = a.clone();
                for (k, v) in b {
                    // An existing key keeps its place and takes the second object's value.
                    merged.insert(k.clone(), v.clone());
                }
                Ok(Value::Object(merged))
            }
            Func::MathRandom => {
                let start = as_rounded_int(f, &vals[0], 1)?;
                let end = as_rounded_int(f, &vals[1], 2)?;
                let seed = match vals.get(2) {
                    Some(v) => Some(as_seed(f, v)?),
                    None => None,
                };
                math_random(f, start, end, seed, rng)
            }
            Func::MathAdd => {
                let a = as_rounded_int(f, &vals[0], 1)?;
                let b = as_rounded_int(f, &vals[1], 2)?;
                // Assumption: the sum of two `int`s is not wrapped around (computed as a long).
                Ok(Value::from(i64::from(a) + i64::from(b)))
            }
            Func::StringSplit => {
                let s = as_str(f, &vals[0], 1)?;
                let delimiters = as_str(f, &vals[1], 2)?;
                Ok(Value::Array(
                    split(s, delimiters)
                        .into_iter()
                        .map(|t| Value::String(t.to_string()))
                        .collect(),
                ))
            }
            Func::Uuid => Ok(Value::String(uuid_v4(rng))),
        }
    }
}

impl Arg {
    /// The argument's value; literals and reference paths are borrowed, not copied.
    fn eval<'a>(
        &'a self,
        func: Func,
        scope: &Scope<'a>,
        rng: &mut Rng,
    ) -> Result<Cow<'a, Value>, IntrinsicError> {
        match self {
            Arg::Literal(v) => Ok(Cow::Borrowed(v)),
            Arg::Str(lit) => Ok(Cow::Owned(Value::String(lit.value.clone()))),
            Arg::Path(path) => scope
                .resolve_cow(path)
                .ok_or_else(|| path_not_found(func, path, scope)),
            Arg::Call(call) => call.eval(scope, rng).map(Cow::Owned),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

/// A function failing on its arguments.
fn invalid(f: Func, detail: impl fmt::Display) -> IntrinsicError {
    IntrinsicError {
        error: INTRINSIC_FAILURE.to_string(),
        message: format!("Invalid arguments in {f}: {detail}"),
    }
}

fn ordinal(n: usize) -> &'static str {
    match n {
        1 => "first",
        2 => "second",
        3 => "third",
        _ => "next",
    }
}

fn wrong_type(f: Func, n: usize, expected: &str, got: &Value) -> IntrinsicError {
    let got = match got {
        Value::Null => "null".to_string(),
        Value::Array(_) | Value::Object(_) => {
            format!("an {} {}", type_name(got), shown(got))
        }
        _ => format!("a {} {}", type_name(got), shown(got)),
    };
    invalid(
        f,
        format!(
            "the {} argument must be {expected}, but was {got}",
            ordinal(n)
        ),
    )
}

/// A value as JSON text for a message, cut to a readable length.
fn shown(v: &Value) -> String {
    const MAX_CHARS: usize = 200;
    let text = java::to_json_text(v);
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// A path argument that selects nothing. Assumption: AWS's wording for this case inside an
/// intrinsic is not recorded; this follows its message for paths in payload templates.
fn path_not_found(f: Func, path: &JsonPath, scope: &Scope<'_>) -> IntrinsicError {
    let message = match path.root() {
        PathRoot::Input => format!(
            "The JSONPath '{path}' specified as an argument of {f} could not be found in the \
             input '{}'",
            serde_json::to_string(scope.input).unwrap_or_default()
        ),
        PathRoot::Context => format!(
            "The JSONPath '{path}' specified as an argument of {f} could not be found in the \
             context object '{}'",
            serde_json::to_string(scope.context).unwrap_or_default()
        ),
        PathRoot::Variable(name) => match scope.variables.get(name) {
            Some(v) => format!(
                "The JSONPath '{path}' specified as an argument of {f} could not be found in \
                 the variable '{name}' ('{}')",
                serde_json::to_string(v).unwrap_or_default()
            ),
            None => format!(
                "The JSONPath '{path}' specified as an argument of {f} references the variable \
                 '{name}', which is not defined"
            ),
        },
        #[allow(unreachable_patterns)]
        _ => format!("The JSONPath '{path}' specified as an argument of {f} could not be found"),
    };
    IntrinsicError {
        error: RUNTIME.to_string(),
        message,
    }
}

// ---------------------------------------------------------------------------------------------
// Argument checks

fn as_str(f: Func, v: &Value, n: usize) -> Result<&str, IntrinsicError> {
    v.as_str().ok_or_else(|| wrong_type(f, n, "a string", v))
}

fn as_array(f: Func, v: &Value, n: usize) -> Result<&Vec<Value>, IntrinsicError> {
    v.as_array().ok_or_else(|| wrong_type(f, n, "an array", v))
}

fn as_object(f: Func, v: &Value, n: usize) -> Result<&Map<String, Value>, IntrinsicError> {
    v.as_object()
        .ok_or_else(|| wrong_type(f, n, "an object", v))
}

/// An integer argument. Assumption: a number with a zero fraction (`2.0`) counts as an integer;
/// `2.5` is refused (the guide asks for integers and, unlike for MathAdd/MathRandom, does not
/// say that other numbers are rounded).
fn as_integer(f: Func, v: &Value, n: usize) -> Result<i64, IntrinsicError> {
    let Value::Number(num) = v else {
        return Err(wrong_type(f, n, "an integer", v));
    };
    if let Some(i) = num.as_i64() {
        return Ok(i);
    }
    match num.as_f64() {
        Some(x) if x.fract() == 0.0 && x.abs() < 9.0e18 => Ok(x as i64),
        _ => Err(wrong_type(f, n, "an integer", v)),
    }
}

/// A number rounded as Java's `Math.round` does (half up: 1.5 -> 2, -1.5 -> -1, -2.5 -> -2),
/// which must then lie within Java's `int` range.
fn as_rounded_int(f: Func, v: &Value, n: usize) -> Result<i32, IntrinsicError> {
    let Value::Number(num) = v else {
        return Err(wrong_type(f, n, "a number", v));
    };
    let rounded = match num.as_i64() {
        Some(i) => i128::from(i),
        None => java_round(num.as_f64().unwrap_or(f64::MAX)),
    };
    i32::try_from(rounded).map_err(|_| {
        invalid(
            f,
            format!(
                "the {} argument must be an integer between -2147483648 and 2147483647, but \
                 was {}",
                ordinal(n),
                java::format_number(num)
            ),
        )
    })
}

/// The seed of `States.MathRandom`: any integer that fits Java's `long`, non-integers rounded.
fn as_seed(f: Func, v: &Value) -> Result<i64, IntrinsicError> {
    let Value::Number(num) = v else {
        return Err(wrong_type(f, 3, "a number", v));
    };
    if let Some(i) = num.as_i64() {
        return Ok(i);
    }
    i64::try_from(java_round(num.as_f64().unwrap_or(f64::MAX))).map_err(|_| {
        invalid(
            f,
            format!(
                "the seed must be an integer that fits in 64 bits, but was {}",
                java::format_number(num)
            ),
        )
    })
}

/// `Math.round(x)`: the closest integer, ties towards positive infinity.
fn java_round(x: f64) -> i128 {
    let fl = x.floor();
    let r = if x - fl >= 0.5 { fl + 1.0 } else { fl };
    // Saturating conversion; out-of-range values fail the caller's range check.
    r as i128
}

fn check_length(f: Func, s: &str) -> Result<(), IntrinsicError> {
    // Java counts UTF-16 code units.
    let len = s.encode_utf16().count();
    if len > MAX_INPUT_CHARS {
        return Err(invalid(
            f,
            format!("the input must be at most {MAX_INPUT_CHARS} characters long, but has {len}"),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The functions

/// Fills a template's placeholders with the rendered arguments.
fn format(f: Func, template: &[Part], args: &[String]) -> Result<String, IntrinsicError> {
    let holes = template
        .iter()
        .filter(|p| matches!(p, Part::Placeholder))
        .count();
    if holes != args.len() {
        return Err(invalid(
            f,
            format!(
                "the template has {holes} placeholder(s) but {} value(s) were given",
                args.len()
            ),
        ));
    }
    let mut out = String::new();
    let mut next = args.iter();
    for part in template {
        match part {
            Part::Text(t) => out.push_str(t),
            Part::Placeholder => out.push_str(next.next().map(String::as_str).unwrap_or("")),
        }
    }
    Ok(out)
}

/// A template that came from a path at run time. Assumption: AWS applies the same rules as to a
/// literal template: `\{`, `\}`, `\\` and `\'` stand for the character, `{}` is a placeholder;
/// any other backslash is kept as it is (a run-time string cannot be refused at load).
fn template_of(s: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('{' | '}' | '\\' | '\'')) => {
                text.extend(chars.next());
            }
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                parts.push(Part::Text(std::mem::take(&mut text)));
                parts.push(Part::Placeholder);
            }
            c => text.push(c),
        }
    }
    parts.push(Part::Text(text));
    parts
}

fn array_range(f: Func, start: i64, end: i64, step: i64) -> Result<Value, IntrinsicError> {
    if step == 0 {
        return Err(invalid(f, "the step (third argument) must not be 0"));
    }
    let (start, end, step) = (i128::from(start), i128::from(end), i128::from(step));
    let count = if (step > 0 && start <= end) || (step < 0 && start >= end) {
        (end - start) / step + 1
    } else {
        0
    };
    if count > MAX_RANGE_ITEMS {
        return Err(invalid(
            f,
            format!("the range would have {count} items, more than the limit of {MAX_RANGE_ITEMS}"),
        ));
    }
    Ok(Value::Array(
        (0..count)
            .map(|i| Value::from((start + i * step) as i64))
            .collect(),
    ))
}

/// JSON equality as Jackson's `JsonNode.equals`: objects compare without regard to key order,
/// integers and doubles are different (`1` is not `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    canonical(a) == canonical(b)
}

/// A text that is equal for two values exactly when [`same`] holds.
fn canonical(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&map[k])))
                        .collect(),
                )
            }
            other => other.clone(),
        }
    }
    // Integers print without a point and doubles with one, so the two stay apart.
    java::to_json_text(&sorted(v))
}

/// Java's basic Base64 decoder: the standard alphabet, padding optional, nonzero trailing bits
/// tolerated, nothing else (no whitespace) allowed.
const BASE64_DECODER: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// The lower-case hex digest of `data`'s UTF-8 bytes. Assumption: the algorithm name must be
/// spelt exactly as AWS lists it.
fn hash(data: &str, algorithm: &str) -> Option<String> {
    use sha2::Digest as _;
    let bytes = data.as_bytes();
    let digest: Vec<u8> = match algorithm {
        "MD5" => md5::Md5::digest(bytes).to_vec(),
        "SHA-1" => sha1::Sha1::digest(bytes).to_vec(),
        "SHA-256" => sha2::Sha256::digest(bytes).to_vec(),
        "SHA-384" => sha2::Sha384::digest(bytes).to_vec(),
        "SHA-512" => sha2::Sha512::digest(bytes).to_vec(),
        _ => return None,
    };
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// `States.MathRandom(start, end[, seed])`.
///
/// Assumptions (AWS documents neither): the result lies in `[start, end)`, as Java's
/// `nextInt(bound)` gives, so `start` must be less than `end`; with a seed the number is
/// `new java.util.Random(seed).nextInt(end - start) + start`, reproducible across runs; without
/// one it comes from the execution's [`Rng`].
fn math_random(
    f: Func,
    start: i32,
    end: i32,
    seed: Option<i64>,
    rng: &mut Rng,
) -> Result<Value, IntrinsicError> {
    if start >= end {
        return Err(invalid(
            f,
            format!("the start ({start}) must be less than the end ({end})"),
        ));
    }
    let n = match seed {
        None => rng.range_inclusive(i64::from(start), i64::from(end) - 1),
        Some(seed) => {
            let mut r = java::JavaRandom::new(seed);
            match i32::try_from(i64::from(end) - i64::from(start)) {
                Ok(bound) => i64::from(start) + i64::from(r.next_int_bounded(bound)),
                // A span beyond `int`: draw until the value falls inside, as the JDK's
                // bounded `nextInt(origin, bound)` does.
                Err(_) => loop {
                    let x = r.next_int();
                    if (start..end).contains(&x) {
                        break i64::from(x);
                    }
                },
            }
        }
    };
    Ok(Value::from(n))
}

/// `java.util.StringTokenizer(s, delimiters)`: every character of `delimiters` separates
/// tokens and empty tokens are dropped.
fn split<'s>(s: &'s str, delimiters: &str) -> Vec<&'s str> {
    s.split(|c: char| delimiters.contains(c))
        .filter(|t| !t.is_empty())
        .collect()
}

/// A random (version 4, variant 1) UUID in lower-case hex, drawn from `rng`.
pub(crate) fn uuid_v4(rng: &mut Rng) -> String {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
    b[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

// ---------------------------------------------------------------------------------------------
// Parsing

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, reason: &str) -> IntrinsicSyntaxError {
        IntrinsicSyntaxError {
            message: format!(
                "{reason} (at character {})",
                self.src[..self.pos].chars().count()
            ),
        }
    }

    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if !c.is_whitespace() {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    /// `States.Name(arg, ...)`; `depth` counts the calls this one is nested in, itself included.
    fn call(&mut self, depth: usize) -> Result<Intrinsic, IntrinsicSyntaxError> {
        if depth > MAX_NESTING {
            return Err(self.err(&format!(
                "intrinsic functions can be nested at most {MAX_NESTING} deep"
            )));
        }
        let Some(after) = self.rest().strip_prefix("States.") else {
            return Err(self.err("expected an intrinsic function call"));
        };
        let len = after
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(after.len());
        let name = &after[..len];
        let Some(func) = Func::from_name(name) else {
            return Err(self.err(&format!("unknown intrinsic function 'States.{name}'")));
        };
        self.pos += "States.".len() + len;
        if self.peek() != Some('(') {
            return Err(self.err(&format!("expected '(' after {func}")));
        }
        self.pos += 1;
        let mut args = Vec::new();
        self.skip_ws();
        if self.peek() == Some(')') {
            self.pos += 1;
        } else {
            loop {
                self.skip_ws();
                args.push(self.arg(depth)?);
                self.skip_ws();
                match self.peek() {
                    Some(',') => self.pos += 1,
                    Some(')') => {
                        self.pos += 1;
                        break;
                    }
                    Some(_) => return Err(self.err("expected ',' or ')' after an argument")),
                    None => return Err(self.err(&format!("missing ')' to close {func}("))),
                }
            }
        }
        let (min, max) = func.arity();
        let n = args.len();
        if n < min || max.is_some_and(|m| n > m) {
            let expected = match max {
                Some(m) if m == min => format!("{min}"),
                Some(m) => format!("{min} to {m}"),
                None => format!("at least {min}"),
            };
            return Err(IntrinsicSyntaxError {
                message: format!(
                    "{func} takes {expected} argument{}, but {n} {} given",
                    if max.unwrap_or(min) == 1 { "" } else { "s" },
                    if n == 1 { "was" } else { "were" }
                ),
            });
        }
        if func == Func::Format && !matches!(args[0], Arg::Str(_) | Arg::Path(_) | Arg::Call(_)) {
            return Err(IntrinsicSyntaxError {
                message: format!("the first argument of {func} must be a string"),
            });
        }
        Ok(Intrinsic { func, args })
    }

    fn arg(&mut self, depth: usize) -> Result<Arg, IntrinsicSyntaxError> {
        match self.peek() {
            Some('\'') => self.string().map(Arg::Str),
            Some('$') => self.path().map(Arg::Path),
            Some('-' | '0'..='9') => self.number().map(Arg::Literal),
            Some('S') if self.rest().starts_with("States.") => {
                self.call(depth + 1).map(|c| Arg::Call(Box::new(c)))
            }
            Some(_) => {
                for (word, v) in [
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                    ("null", Value::Null),
                ] {
                    if self.rest().starts_with(word) {
                        self.pos += word.len();
                        return Ok(Arg::Literal(v));
                    }
                }
                Err(self.err(
                    "expected an argument: a 'string', a number, true, false, null, a path or \
                     an intrinsic function call",
                ))
            }
            None => Err(self.err("expected an argument")),
        }
    }

    /// A single-quoted string. `\'`, `\{`, `\}` and `\\` stand for the character; any other
    /// backslash is an error (AWS: "an open escape backslash"). An unescaped `{}` is a
    /// placeholder when the string is a `States.Format` template, and plain text otherwise.
    /// Assumption: a lone unescaped `{` or `}` is accepted as text (the guide says reserved
    /// characters "must be escaped" but not that a lone brace is refused).
    fn string(&mut self) -> Result<StrLit, IntrinsicSyntaxError> {
        self.pos += 1;
        let mut value = String::new();
        let mut template = Vec::new();
        let mut text = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("unterminated string literal"));
            };
            self.pos += c.len_utf8();
            match c {
                '\'' => break,
                '\\' => match self.peek() {
                    Some(e @ ('\'' | '{' | '}' | '\\')) => {
                        self.pos += 1;
                        value.push(e);
                        text.push(e);
                    }
                    Some(e) => {
                        self.pos -= 1;
                        return Err(self.err(&format!(
                            "invalid escape sequence '\\{e}' in a string literal (only \\', \
                             \\{{, \\}} and \\\\ are allowed)"
                        )));
                    }
                    None => return Err(self.err("unterminated string literal")),
                },
                '{' if self.peek() == Some('}') => {
                    self.pos += 1;
                    value.push_str("{}");
                    template.push(Part::Text(std::mem::take(&mut text)));
                    template.push(Part::Placeholder);
                }
                c => {
                    value.push(c);
                    text.push(c);
                }
            }
        }
        template.push(Part::Text(text));
        Ok(StrLit { value, template })
    }

    /// A path argument: from `$` up to the `,` or `)` that ends it (or whitespace), outside
    /// brackets, parentheses and quotes.
    fn path(&mut self) -> Result<JsonPath, IntrinsicSyntaxError> {
        let start = self.pos;
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        let mut chars = self.rest().char_indices();
        let mut end = self.src.len();
        while let Some((i, c)) = chars.next() {
            if let Some(q) = quote {
                if c == '\\' {
                    chars.next();
                } else if c == q {
                    quote = None;
                }
                continue;
            }
            match c {
                '[' | '(' => depth += 1,
                ')' if depth == 0 => {
                    end = start + i;
                    break;
                }
                ']' | ')' => depth = depth.saturating_sub(1),
                '\'' | '"' if depth > 0 => quote = Some(c),
                ',' if depth == 0 => {
                    end = start + i;
                    break;
                }
                c if c.is_whitespace() && depth == 0 => {
                    end = start + i;
                    break;
                }
                _ => {}
            }
        }
        let text = &self.src[start..end];
        let path = JsonPath::parse(text).map_err(|e| IntrinsicSyntaxError {
            message: format!("invalid path '{text}': {}", e.reason),
        })?;
        self.pos = end;
        Ok(path)
    }

    /// A JSON-style number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn number(&mut self) -> Result<Value, IntrinsicSyntaxError> {
        let bytes = self.src.as_bytes();
        let start = self.pos;
        let digits = |p: &mut usize| {
            let s = *p;
            while bytes.get(*p).is_some_and(u8::is_ascii_digit) {
                *p += 1;
            }
            *p - s
        };
        let mut p = self.pos;
        if bytes.get(p) == Some(&b'-') {
            p += 1;
        }
        let int_start = p;
        let n = digits(&mut p);
        if n == 0 || (n > 1 && bytes[int_start] == b'0') {
            self.pos = p;
            return Err(self.err("invalid number"));
        }
        let mut float = false;
        if bytes.get(p) == Some(&b'.') {
            p += 1;
            if digits(&mut p) == 0 {
                self.pos = p;
                return Err(self.err("invalid number: expected a digit after '.'"));
            }
            float = true;
        }
        if matches!(bytes.get(p), Some(b'e' | b'E')) {
            p += 1;
            if matches!(bytes.get(p), Some(b'+' | b'-')) {
                p += 1;
            }
            if digits(&mut p) == 0 {
                self.pos = p;
                return Err(self.err("invalid number: expected a digit in the exponent"));
            }
            float = true;
        }
        self.pos = p;
        let v = java::number_from_literal(&self.src[start..p], float);
        if v.is_null() {
            return Err(self.err("number out of range"));
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval_in(
        src: &str,
        input: &Value,
        context: &Value,
        variables: &Value,
    ) -> Result<Value, IntrinsicError> {
        let call = Intrinsic::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        let empty = Map::new();
        let scope = Scope {
            input,
            context,
            variables: variables.as_object().unwrap_or(&empty),
        };
        call.eval(&scope, &mut Rng::new(1))
    }

    fn run(src: &str, input: Value) -> Value {
        eval_in(src, &input, &json!({}), &json!({}))
            .unwrap_or_else(|e| panic!("{src}: {} {}", e.error, e.message))
    }

    fn fail(src: &str, input: Value) -> IntrinsicError {
        match eval_in(src, &input, &json!({}), &json!({})) {
            Ok(v) => panic!("{src} should fail, gave {v}"),
            Err(e) => e,
        }
    }

    fn failure(message: &str) -> IntrinsicError {
        IntrinsicError {
            error: "States.IntrinsicFailure".to_string(),
            message: message.to_string(),
        }
    }

    fn syntax(src: &str) -> String {
        match Intrinsic::parse(src) {
            Ok(c) => panic!("{src} should not parse, gave {c:?}"),
            Err(e) => e.message,
        }
    }

    #[test]
    fn looks_like_call() {
        assert!(Intrinsic::looks_like_call("States.Format('x')"));
        assert!(Intrinsic::looks_like_call("States.Nope"));
        assert!(!Intrinsic::looks_like_call("$.States"));
        assert!(!Intrinsic::looks_like_call(" States.Array()"));
    }

    // --- States.Format -----------------------------------------------------------------------

    #[test]
    fn format_strings_and_scalars() {
        let f = "States.Format('Formatting argument {}.', $.FunctionInput)";
        for (input, out) in [
            (json!(""), "Formatting argument ."),
            (json!(" "), "Formatting argument  ."),
            (json!(null), "Formatting argument null."),
            (json!(1), "Formatting argument 1."),
            (json!(1.1), "Formatting argument 1.1."),
            (json!(true), "Formatting argument true."),
            (
                json!("{\"Arg1\": 1, \"Arg2\": []}"),
                "Formatting argument {\"Arg1\": 1, \"Arg2\": []}.",
            ),
        ] {
            assert_eq!(run(f, json!({ "FunctionInput": input })), json!(out));
        }
        assert_eq!(
            run(
                "States.Format('Formatting arguments fst={} and snd={}.', $.a, $.b)",
                json!({"a": " ", "b": ""})
            ),
            json!("Formatting arguments fst=  and snd=.")
        );
        assert_eq!(
            run(
                "States.Format('Hello, my name is {}.', $.name)",
                json!({"name": "Arnav"})
            ),
            json!("Hello, my name is Arnav.")
        );
        assert_eq!(
            run("States.Format('no placeholders')", json!({})),
            json!("no placeholders")
        );
        assert_eq!(
            run("States.Format('Format:{}', 101)", json!({})),
            json!("Format:101")
        );
    }

    #[test]
    fn format_renders_objects_and_arrays_as_java_does() {
        let ctx = json!({"StateMachine": {"Id": "arn:aws:states:us-east-1:1:stateMachine:M", "Name": "M"}, "Execution": {"Name": "E"}});
        let out = eval_in(
            "States.Format('Formatting arguments fst={} and snd={}.', $$.Execution.Name, $$.StateMachine)",
            &json!(null),
            &ctx,
            &json!({}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!("Formatting arguments fst=E and snd={Id=arn:aws:states:us-east-1:1:stateMachine:M, Name=M}.")
        );
        assert_eq!(
            run(
                "States.Format('{} {}', $.o, $.a)",
                json!({"o": {"Arg1": 1, "Arg2": []}, "a": [1, "x", null, {"k": [2.5]}]})
            ),
            json!("{Arg1=1, Arg2=[]} [1, x, null, {k=[2.5]}]")
        );
        assert_eq!(
            run("States.Format('{}', $.x)", json!({"x": 1e21})),
            json!("1.0E21")
        );
    }

    #[test]
    fn format_template_from_a_path_or_variable() {
        assert_eq!(
            run(
                "States.Format($.template, $.name)",
                json!({"name": "Arnav", "template": "Hello, my name is {}."})
            ),
            json!("Hello, my name is Arnav.")
        );
        let out = eval_in(
            "States.Format($AnswerTemplate, $$.Map.Item.Value)",
            &json!({}),
            &json!({"Map": {"Item": {"Value": "Pikachu"}}}),
            &json!({"AnswerTemplate": "It's {}!"}),
        )
        .unwrap();
        assert_eq!(out, json!("It's Pikachu!"));
        // Escapes in a run-time template, as in a literal one.
        assert_eq!(
            run("States.Format($.t, 1)", json!({"t": "\\{\\} {} C:\\x"})),
            json!("{} 1 C:\\x")
        );
    }

    #[test]
    fn format_escapes() {
        // In JSON: "States.Format('\\{\\} {} \\\\ it\\'s', $.x)".
        assert_eq!(
            run(r"States.Format('\{\} {} \\ it\'s', $.x)", json!({"x": "v"})),
            json!(r"{} v \ it's")
        );
        // An escaped brace next to a real one is text, not a placeholder.
        assert_eq!(run(r"States.Format('\{}')", json!({})), json!("{}"));
        assert_eq!(
            fail(r"States.Format('\{}', 1)", json!({})),
            failure("Invalid arguments in States.Format: the template has 0 placeholder(s) but 1 value(s) were given")
        );
    }

    #[test]
    fn format_errors() {
        assert_eq!(
            fail("States.Format('{} {}', 1)", json!({})),
            failure("Invalid arguments in States.Format: the template has 2 placeholder(s) but 1 value(s) were given")
        );
        assert_eq!(
            fail("States.Format($.t)", json!({"t": 5})),
            failure("Invalid arguments in States.Format: the first argument must be a string, but was a number 5")
        );
        assert!(syntax("States.Format(1, 2)")
            .contains("first argument of States.Format must be a string"));
    }

    // --- JSON ----------------------------------------------------------------------------------

    #[test]
    fn string_to_json() {
        let f = "States.StringToJson($.s)";
        for (s, out) in [
            ("-0", json!(0)),
            ("1", json!(1)),
            ("1.1", json!(1.1)),
            ("true", json!(true)),
            ("null", json!(null)),
            ("\"HelloWorld\"", json!("HelloWorld")),
            ("[1, 2, \"HelloWorld\"]", json!([1, 2, "HelloWorld"])),
            (
                "{\"Arg1\": 1, \"Arg2\": []}",
                json!({"Arg1": 1, "Arg2": []}),
            ),
            ("{\"foo\": \"bar\"}", json!({"foo": "bar"})),
        ] {
            assert_eq!(run(f, json!({ "s": s })), out, "{s}");
        }
        let e = fail(f, json!({"s": "{not json"}));
        assert_eq!(e.error, "States.IntrinsicFailure");
        assert!(
            e.message.starts_with(
                "Invalid arguments in States.StringToJson: the argument is not valid JSON ("
            ),
            "{}",
            e.message
        );
        assert_eq!(
            fail(f, json!({"s": {"a": 1}})),
            failure("Invalid arguments in States.StringToJson: the first argument must be a string, but was an object {\"a\":1}")
        );
        assert!(fail(f, json!({"s": ""})).message.contains("not valid JSON"));
    }

    #[test]
    fn json_to_string() {
        let f = "States.JsonToString($.v)";
        assert_eq!(run(f, json!({"v": "HelloWorld"})), json!("\"HelloWorld\""));
        assert_eq!(
            run(f, json!({"v": {"Arg1": 1, "Arg2": []}})),
            json!("{\"Arg1\":1,\"Arg2\":[]}")
        );
        assert_eq!(
            run(f, json!({"v": {"b": 1, "a": [null, true, 1.5]}})),
            json!("{\"b\":1,\"a\":[null,true,1.5]}")
        );
        assert_eq!(run(f, json!({"v": 1})), json!("1"));
        assert_eq!(run(f, json!({"v": null})), json!("null"));
        assert_eq!(run(f, json!({"v": "a\"b\n"})), json!("\"a\\\"b\\n\""));
        // Round trip.
        assert_eq!(
            run(
                "States.StringToJson(States.JsonToString($.v))",
                json!({"v": {"x": [1, {"y": "z"}]}})
            ),
            json!({"x": [1, {"y": "z"}]})
        );
    }

    #[test]
    fn json_merge() {
        let input = json!({
            "json1": {"a": {"a1": 1, "a2": 2}, "b": 2},
            "json2": {"a": {"a3": 1, "a4": 2}, "c": 3}
        });
        assert_eq!(
            run("States.JsonMerge($.json1, $.json2, false)", input.clone()),
            json!({"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3})
        );
        let merged = run("States.JsonMerge($.json1, $.json2, false)", input.clone());
        assert_eq!(
            merged.as_object().unwrap().keys().collect::<Vec<_>>(),
            vec!["a", "b", "c"]
        );
        assert_eq!(
            fail("States.JsonMerge($.json1, $.json2, true)", input.clone()),
            failure("Invalid arguments in States.JsonMerge: deep merge is not supported; the third argument must be false")
        );
        assert_eq!(
            fail("States.JsonMerge($.json1, 'x', false)", input.clone()),
            failure("Invalid arguments in States.JsonMerge: the second argument must be an object, but was a string \"x\"")
        );
        assert_eq!(
            fail("States.JsonMerge($.json1, $.json2, 0)", input),
            failure("Invalid arguments in States.JsonMerge: the third argument must be a boolean, but was a number 0")
        );
    }

    // --- Arrays --------------------------------------------------------------------------------

    #[test]
    fn array() {
        assert_eq!(run("States.Array()", json!({})), json!([]));
        assert_eq!(
            run("States.Array($.Id)", json!({"Id": 123456})),
            json!([123456])
        );
        assert_eq!(
            run(
                "States.Array('Foo', 2020, $.Id, null, true, -1.5)",
                json!({"Id": {"a": [1]}})
            ),
            json!(["Foo", 2020, {"a": [1]}, null, true, -1.5])
        );
        assert_eq!(
            run("States.Array($.a, $.a)", json!({"a": null})),
            json!([null, null])
        );
    }

    #[test]
    fn array_partition() {
        let f = "States.ArrayPartition($.a, $.n)";
        for (a, n, out) in [
            (json!([]), 1, json!([])),
            (json!([]), 4, json!([])),
            (json!([0]), 5, json!([[0]])),
            (json!([0, 1]), 2, json!([[0, 1]])),
            (json!([0, 1, 2]), 2, json!([[0, 1], [2]])),
            (json!([0, 1, 2, 3]), 1, json!([[0], [1], [2], [3]])),
            (
                json!([1, 2, 3, 4, 5, 6, 7, 8, 9]),
                4,
                json!([[1, 2, 3, 4], [5, 6, 7, 8], [9]]),
            ),
        ] {
            assert_eq!(run(f, json!({"a": a, "n": n})), out);
        }
        assert_eq!(
            run("States.ArrayPartition($.a, 2.0)", json!({"a": [1, 2, 3]})),
            json!([[1, 2], [3]])
        );
        assert_eq!(
            fail(f, json!({"a": [1], "n": 0})),
            failure("Invalid arguments in States.ArrayPartition: the chunk size must be a positive integer, but was 0")
        );
        assert_eq!(
            fail(f, json!({"a": [1], "n": 1.5})),
            failure("Invalid arguments in States.ArrayPartition: the second argument must be an integer, but was a number 1.5")
        );
        assert_eq!(
            fail(f, json!({"a": "x", "n": 1})),
            failure("Invalid arguments in States.ArrayPartition: the first argument must be an array, but was a string \"x\"")
        );
    }

    #[test]
    fn array_contains() {
        let f = "States.ArrayContains($.a, $.v)";
        let input = |a: Value, v: Value| json!({"a": a, "v": v});
        assert_eq!(
            run(f, input(json!([1, 2, 3, 4, 5, 6, 7, 8, 9]), json!(5))),
            json!(true)
        );
        assert_eq!(run(f, input(json!([]), json!(null))), json!(false));
        assert_eq!(
            run(f, input(json!([[1, 2, 3], 2]), json!([1, 2, 3]))),
            json!(true)
        );
        assert_eq!(
            run(
                f,
                input(json!([{"1": 2, "2": []}]), json!({"2": [], "1": 2}))
            ),
            json!(true)
        );
        assert_eq!(
            run(f, input(json!([true, false]), json!(false))),
            json!(true)
        );
        assert_eq!(run(f, input(json!([1]), json!(1.0))), json!(false));
        assert_eq!(run(f, input(json!([null]), json!(null))), json!(true));
        assert_eq!(
            run("States.ArrayContains($.a, 'b')", json!({"a": ["a", "b"]})),
            json!(true)
        );
    }

    #[test]
    fn array_range() {
        let f = "States.ArrayRange($.a, $.b, $.c)";
        let r = |a: i64, b: i64, c: i64| run(f, json!({"a": a, "b": b, "c": c}));
        assert_eq!(r(1, 9, 2), json!([1, 3, 5, 7, 9]));
        assert_eq!(r(0, 10, 3), json!([0, 3, 6, 9]));
        assert_eq!(r(0, 9, 3), json!([0, 3, 6, 9]));
        assert_eq!(r(1, 9, 9), json!([1]));
        assert_eq!(r(10, 1, -3), json!([10, 7, 4, 1]));
        assert_eq!(r(5, 1, 1), json!([]));
        assert_eq!(r(1, 1000, 1).as_array().unwrap().len(), 1000);
        assert_eq!(
            run("States.ArrayRange(1, 10, 2)", json!({})),
            json!([1, 3, 5, 7, 9])
        );
        assert_eq!(
            run("States.ArrayRange(0, 3, 1)", json!({})),
            json!([0, 1, 2, 3])
        );
        assert_eq!(
            fail("States.ArrayRange(0, 1000, 1)", json!({})),
            failure("Invalid arguments in States.ArrayRange: the range would have 1001 items, more than the limit of 1000")
        );
        assert_eq!(
            fail("States.ArrayRange(0, 10, 0)", json!({})),
            failure(
                "Invalid arguments in States.ArrayRange: the step (third argument) must not be 0"
            )
        );
        assert_eq!(
            fail("States.ArrayRange(0.5, 10, 1)", json!({})),
            failure("Invalid arguments in States.ArrayRange: the first argument must be an integer, but was a number 0.5")
        );
        assert_eq!(
            fail("States.ArrayRange(null, 10, 1)", json!({})),
            failure("Invalid arguments in States.ArrayRange: the first argument must be an integer, but was null")
        );
        let e = fail("States.ArrayLength($.s)", json!({"s": "x".repeat(500)}));
        assert!(
            e.message
                .ends_with(&format!("but was a string \"{}...", "x".repeat(199))),
            "{}",
            e.message
        );
        assert_eq!(
            fail("States.ArrayRange('0', 10, 1)", json!({})),
            failure("Invalid arguments in States.ArrayRange: the first argument must be an integer, but was a string \"0\"")
        );
        // No overflow on extreme bounds.
        assert!(fail(
            "States.ArrayRange(-9223372036854775808, 9223372036854775807, 1)",
            json!({})
        )
        .message
        .contains("more than the limit"));
    }

    #[test]
    fn array_get_item_and_length() {
        let input = json!({"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "index": 5});
        assert_eq!(
            run("States.ArrayGetItem($.inputArray, $.index)", input.clone()),
            json!(6)
        );
        assert_eq!(
            run("States.ArrayGetItem($.inputArray, 0)", input.clone()),
            json!(1)
        );
        assert_eq!(
            run("States.ArrayLength($.inputArray)", input.clone()),
            json!(9)
        );
        assert_eq!(run("States.ArrayLength($.e)", json!({"e": []})), json!(0));
        assert_eq!(
            fail("States.ArrayGetItem($.inputArray, 9)", input.clone()),
            failure("Invalid arguments in States.ArrayGetItem: the index 9 is out of bounds for an array of length 9")
        );
        assert_eq!(
            fail("States.ArrayGetItem($.inputArray, -1)", input.clone()),
            failure("Invalid arguments in States.ArrayGetItem: the index -1 is out of bounds for an array of length 9")
        );
        assert_eq!(
            fail("States.ArrayLength($.index)", input),
            failure("Invalid arguments in States.ArrayLength: the first argument must be an array, but was a number 5")
        );
    }

    #[test]
    fn array_unique() {
        assert_eq!(
            run(
                "States.ArrayUnique($.a)",
                json!({"a": [1, 2, 3, 3, 3, 3, 3, 3, 4]})
            ),
            json!([1, 2, 3, 4])
        );
        assert_eq!(
            run("States.ArrayUnique($.a)", json!({"a": [1, 2, 2, 3, 3, 4]})),
            json!([1, 2, 3, 4])
        );
        assert_eq!(
            run(
                "States.ArrayUnique($.a)",
                json!({"a": [null, null, true, true, false, 1, 1, 1.0, 1.1, 0, "H", "H", [], [], [null], [null],
                              {"a": 1, "b": 2}, {"b": 2, "a": 1}, {"a": 1, "b": 1}]})
            ),
            json!([null, true, false, 1, 1.0, 1.1, 0, "H", [], [null], {"a": 1, "b": 2}, {"a": 1, "b": 1}])
        );
    }

    // --- Encoding and hashing ------------------------------------------------------------------

    #[test]
    fn base64() {
        assert_eq!(
            run("States.Base64Encode($.s)", json!({"s": "Data to encode"})),
            json!("RGF0YSB0byBlbmNvZGU=")
        );
        assert_eq!(
            run(
                "States.Base64Decode($.s)",
                json!({"s": "RGF0YSB0byBlbmNvZGU="})
            ),
            json!("Data to encode")
        );
        assert_eq!(
            run("States.Base64Encode('Hello World')", json!({})),
            json!("SGVsbG8gV29ybGQ=")
        );
        assert_eq!(
            run("States.Base64Encode($.s)", json!({"s": "héllo ✓ 😀"})),
            json!("aMOpbGxvIOKckyDwn5iA")
        );
        assert_eq!(
            run("States.Base64Decode('aMOpbGxvIOKckyDwn5iA')", json!({})),
            json!("héllo ✓ 😀")
        );
        // Java's decoder: padding optional, nonzero trailing bits tolerated.
        assert_eq!(
            run("States.Base64Decode('RGF0YSB0byBlbmNvZGU')", json!({})),
            json!("Data to encode")
        );
        assert_eq!(run("States.Base64Decode('RGH=')", json!({})), json!("Da"));
        assert_eq!(run("States.Base64Encode('')", json!({})), json!(""));
        for bad in ["RG F0", "R", "RGF0YSB0b==", "@@@@"] {
            let e = fail(&format!("States.Base64Decode('{bad}')"), json!({}));
            assert_eq!(e.error, "States.IntrinsicFailure");
            assert!(
                e.message.starts_with(
                    "Invalid arguments in States.Base64Decode: the argument is not valid Base64"
                ),
                "{bad}: {}",
                e.message
            );
        }
        let long = "a".repeat(10_001);
        assert_eq!(
            fail("States.Base64Encode($.s)", json!({ "s": long })),
            failure("Invalid arguments in States.Base64Encode: the input must be at most 10000 characters long, but has 10001")
        );
        assert!(run("States.Base64Encode($.s)", json!({"s": "a".repeat(10_000)})).is_string());
    }

    #[test]
    fn hash() {
        for (alg, out) in [
            ("MD5", "812f45842bc6d66ee14572ce20db8e86"),
            ("SHA-1", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
            ("SHA-256", "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),
            ("SHA-384", "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562"),
            ("SHA-512", "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4"),
        ] {
            assert_eq!(run("States.Hash($.d, $.a)", json!({"d": "input data", "a": alg})), json!(out));
        }
        assert_eq!(
            run(
                "States.Hash($.s, 'SHA-256')",
                json!({"s": "Hash this string"})
            ),
            json!("1cac63f39fd68d8c531f27b807610fb3d50f0fc3f186995767fb6316e7200a3e")
        );
        assert_eq!(
            fail("States.Hash('x', 'SHA-3')", json!({})),
            failure("Invalid arguments in States.Hash: the hash algorithm 'SHA-3' is not supported; use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512")
        );
        assert_eq!(
            fail("States.Hash($.d, 'MD5')", json!({"d": 1})),
            failure("Invalid arguments in States.Hash: the first argument must be a string, but was a number 1")
        );
    }

    // --- Math ----------------------------------------------------------------------------------

    #[test]
    fn math_add_rounds_half_up() {
        let f = "States.MathAdd($.a, $.b)";
        for (a, b, out) in [
            (json!(1.49), json!(1.5), 3),
            (json!(-1.5), json!(0), -1),
            (json!(-1.51), json!(0), -2),
            (json!(1.5), json!(0), 2),
            (json!(2.5), json!(0), 3),
            (json!(-0.5), json!(0.5), 1),
            (json!(-2.5), json!(0), -2),
            (json!(1.5), json!(1.51), 4),
            (json!(-3.5), json!(0), -3),
            (json!(1.49), json!(0), 1),
            (json!(1.49), json!(-1.49), 0),
            (json!(-1.49), json!(0), -1),
            (json!(111), json!(-1), 110),
            (json!(5), json!(3), 8),
        ] {
            assert_eq!(run(f, json!({"a": a, "b": b})), json!(out), "{a} + {b}");
        }
        assert_eq!(
            run("States.MathAdd(2147483647, 1)", json!({})),
            json!(2_147_483_648_i64)
        );
        assert_eq!(
            fail("States.MathAdd(2147483648, 1)", json!({})),
            failure("Invalid arguments in States.MathAdd: the first argument must be an integer between -2147483648 and 2147483647, but was 2147483648")
        );
        assert_eq!(
            fail("States.MathAdd(1, '1')", json!({})),
            failure("Invalid arguments in States.MathAdd: the second argument must be a number, but was a string \"1\"")
        );
        assert_eq!(
            run(
                "States.MathAdd(States.MathAdd(States.MathAdd($.y, $.x), $.z), $.b)",
                json!({"x": 1, "y": 2, "z": 3, "b": -10})
            ),
            json!(-4)
        );
    }

    #[test]
    fn math_random() {
        for (a, b) in [(9999, 99999), (-99999, -9999), (0, 1)] {
            let mut rng = Rng::new(5);
            let call = Intrinsic::parse("States.MathRandom($.a, $.b)").unwrap();
            let input = json!({"a": a, "b": b});
            let scope = Scope {
                input: &input,
                context: &Value::Null,
                variables: &Map::new(),
            };
            for _ in 0..200 {
                let n = call.eval(&scope, &mut rng).unwrap().as_i64().unwrap();
                assert!((a..b).contains(&n), "{n} not in [{a}, {b})");
            }
        }
        // With a seed: new java.util.Random(3).nextInt(999) == 239 (OpenJDK 17).
        assert_eq!(run("States.MathRandom(0, 999, 3)", json!({})), json!(239));
        assert_eq!(run("States.MathRandom(10, 1009, 3)", json!({})), json!(249));
        // Same seed, same number, whatever the execution's generator.
        let mut rng = Rng::new(99);
        let call = Intrinsic::parse("States.MathRandom(1, 999, 7)").unwrap();
        let scope = Scope {
            input: &Value::Null,
            context: &Value::Null,
            variables: &Map::new(),
        };
        let first = call.eval(&scope, &mut rng).unwrap();
        assert_eq!(call.eval(&scope, &mut rng).unwrap(), first);
        // Rounded arguments; a span wider than Java's int still works.
        assert_eq!(run("States.MathRandom(0.6, 2.4)", json!({})), json!(1));
        let wide = run("States.MathRandom(-2147483648, 2147483647, 1)", json!({}));
        assert!(wide.is_i64());
        assert_eq!(
            fail("States.MathRandom(5, 5)", json!({})),
            failure("Invalid arguments in States.MathRandom: the start (5) must be less than the end (5)")
        );
        assert_eq!(
            fail("States.MathRandom(1, 5, 'x')", json!({})),
            failure("Invalid arguments in States.MathRandom: the third argument must be a number, but was a string \"x\"")
        );
    }

    // --- Strings and UUID ----------------------------------------------------------------------

    #[test]
    fn string_split() {
        let f = "States.StringSplit($.s, $.d)";
        for (s, d, out) in [
            (",,,,", ",", json!([])),
            ("This.is+a,test=string", ".+,=", json!(["This", "is", "a", "test", "string"])),
            ("split on T and \nnew line", "T\n", json!(["split on ", " and ", "new line"])),
            ("1,2,3,4,5", ",", json!(["1", "2", "3", "4", "5"])),
            ("", ",", json!([])),
            ("abc", "", json!(["abc"])),
            (
                "Value1,Value2,Value3\nValue4,Value5,Value6\n,,,\ntrue,1,'HelloWorld'\nNull,None,\n   \n",
                ",",
                json!(["Value1", "Value2", "Value3\nValue4", "Value5", "Value6\n", "\ntrue", "1", "'HelloWorld'\nNull", "None", "\n   \n"]),
            ),
        ] {
            assert_eq!(run(f, json!({"s": s, "d": d})), out, "{s:?} / {d:?}");
        }
        // A literal newline inside a quoted string (the JSON text had "\n").
        assert_eq!(
            run("States.StringSplit('Hello\nWorld', '\n')", json!({})),
            json!(["Hello", "World"])
        );
        assert_eq!(
            fail(f, json!({"s": 1, "d": ","})),
            failure("Invalid arguments in States.StringSplit: the first argument must be a string, but was a number 1")
        );
    }

    #[test]
    fn uuid() {
        let mut rng = Rng::new(42);
        let call = Intrinsic::parse("States.UUID()").unwrap();
        let scope = Scope {
            input: &Value::Null,
            context: &Value::Null,
            variables: &Map::new(),
        };
        let a = call.eval(&scope, &mut rng).unwrap();
        let b = call.eval(&scope, &mut rng).unwrap();
        assert_ne!(a, b);
        let a2 = call.eval(&scope, &mut Rng::new(42)).unwrap();
        assert_eq!(a, a2);
        for v in [a, b] {
            let s = v.as_str().unwrap();
            assert_eq!(s.len(), 36);
            let groups: Vec<&str> = s.split('-').collect();
            assert_eq!(
                groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
                vec![8, 4, 4, 4, 12]
            );
            assert!(s
                .chars()
                .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)));
            assert_eq!(&groups[2][..1], "4");
            assert!("89ab".contains(&groups[3][..1]));
        }
    }

    // --- Nesting, paths, literals --------------------------------------------------------------

    #[test]
    fn nesting() {
        let ctx = json!({"StateMachine": {"Name": "my-state-machine-abc123"}});
        let out = eval_in(
            "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))",
            &json!(null),
            &ctx,
            &json!({}),
        )
        .unwrap();
        assert_eq!(out, json!("abc123"));
        let arn = json!({"ImageRecipe": {"Arn": "arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/myimage/1.2.3/1"}});
        assert_eq!(
            run(
                "States.Format('{}.{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 1), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 2))",
                arn
            ),
            json!("1.2.3")
        );
        // Ten levels are allowed, eleven are not.
        let nest = |n: usize| format!("{}1{}", "States.Array(".repeat(n), ")".repeat(n));
        assert!(Intrinsic::parse(&nest(10)).is_ok());
        assert!(syntax(&nest(11)).contains("nested at most 10 deep"));
        // An error inside a nested call surfaces unchanged.
        assert_eq!(
            fail("States.Array(States.ArrayLength('x'))", json!({})),
            failure("Invalid arguments in States.ArrayLength: the first argument must be an array, but was a string \"x\"")
        );
    }

    #[test]
    fn paths() {
        let input = json!({"a": {"b c": [10, 20, 30], "d": "x"}, "list": [{"v": 1}, {"v": 2}]});
        assert_eq!(
            run(
                "States.Array($.a.d, $['a']['d'], $.a['b c'][1])",
                input.clone()
            ),
            json!(["x", "x", 20])
        );
        assert_eq!(
            run("States.Array($.list[*].v)", input.clone()),
            json!([[1, 2]])
        );
        assert_eq!(
            run("States.ArrayLength($.list[?(@.v > 1)])", input.clone()),
            json!(1)
        );
        assert_eq!(
            run(
                "States.Array($.list[?(@.v == 'a, b)')].v, 'x')",
                json!({"list": [{"v": "a, b)"}]})
            ),
            json!([["a, b)"], "x"])
        );
        assert_eq!(
            run("States.Array($.a.d,$.a.d)", input.clone()),
            json!(["x", "x"])
        );
        assert_eq!(
            run("States.Array( $.a.d , 1 )", input.clone()),
            json!(["x", 1])
        );
        assert_eq!(run("States.Array($)", json!(5)), json!([5]));
        assert_eq!(
            run("States.Array($.list.length())", input.clone()),
            json!([2])
        );
        let vars = json!({"x": {"y": [1, 2]}, "name": "John"});
        assert_eq!(
            eval_in(
                "States.Array($x.y[1], $name)",
                &json!({}),
                &json!({}),
                &vars
            )
            .unwrap(),
            json!([2, "John"])
        );
    }

    #[test]
    fn missing_paths_are_runtime_errors() {
        let e = fail("States.Format('{}', $.missing)", json!({"a": 1}));
        assert_eq!(
            e,
            IntrinsicError {
                error: "States.Runtime".to_string(),
                message: "The JSONPath '$.missing' specified as an argument of States.Format could not be found in the input '{\"a\":1}'".to_string(),
            }
        );
        let e = eval_in(
            "States.Array($$.Nope)",
            &json!({}),
            &json!({"Execution": {}}),
            &json!({}),
        )
        .unwrap_err();
        assert_eq!(e.error, "States.Runtime");
        assert_eq!(
            e.message,
            "The JSONPath '$$.Nope' specified as an argument of States.Array could not be found in the context object '{\"Execution\":{}}'"
        );
        let e = eval_in("States.Array($v)", &json!({}), &json!({}), &json!({})).unwrap_err();
        assert_eq!(e.error, "States.Runtime");
        assert_eq!(
            e.message,
            "The JSONPath '$v' specified as an argument of States.Array references the variable 'v', which is not defined"
        );
        let e = eval_in(
            "States.Array($v.w)",
            &json!({}),
            &json!({}),
            &json!({"v": {}}),
        )
        .unwrap_err();
        assert_eq!(e.message, "The JSONPath '$v.w' specified as an argument of States.Array could not be found in the variable 'v' ('{}')");
    }

    #[test]
    fn literals() {
        assert_eq!(
            run("States.Array(0, -1, 1.5, -0.25, 1e3, 2E-2, 12345678901234, true, false, null, '', 'a')", json!({})),
            json!([0, -1, 1.5, -0.25, 1000.0, 0.02, 12_345_678_901_234_i64, true, false, null, "", "a"])
        );
        assert_eq!(
            run(
                "States.Array('it\\'s', '\\\\', '{', '}', '{}', 'a,b)')",
                json!({})
            ),
            json!(["it's", "\\", "{", "}", "{}", "a,b)"])
        );
        assert_eq!(run("States.Array('ünï😀')", json!({})), json!(["ünï😀"]));
        assert_eq!(
            run("States.Array(18446744073709551615)", json!({})),
            json!([u64::MAX])
        );
    }

    #[test]
    fn syntax_errors() {
        for (src, msg) in [
            ("States.Nope()", "unknown intrinsic function 'States.Nope'"),
            (
                "States.format('x')",
                "unknown intrinsic function 'States.format'",
            ),
            ("States.Array", "expected '(' after States.Array"),
            ("States.Array (1)", "expected '(' after States.Array"),
            ("States.Array(1", "missing ')' to close States.Array("),
            ("States.Array(1,", "expected an argument"),
            ("States.Array(1,)", "expected an argument"),
            ("States.Array(,1)", "expected an argument"),
            ("States.Array(1) x", "unexpected text after the closing ')'"),
            (
                "States.Array(1)(2)",
                "unexpected text after the closing ')'",
            ),
            ("States.Array('abc)", "unterminated string literal"),
            (
                "States.Array('a\\nb')",
                "invalid escape sequence '\\n' in a string literal",
            ),
            ("States.Array('a\\", "unterminated string literal"),
            ("States.Array(\"a\")", "expected an argument"),
            ("States.Array(foo)", "expected an argument"),
            ("States.Array(01)", "invalid number"),
            (
                "States.Array(1.)",
                "invalid number: expected a digit after '.'",
            ),
            (
                "States.Array(1e)",
                "invalid number: expected a digit in the exponent",
            ),
            ("States.Array(-)", "invalid number"),
            ("States.Array(1x)", "expected ',' or ')' after an argument"),
            (
                "States.Array(truex)",
                "expected ',' or ')' after an argument",
            ),
            ("States.Array($.a[)", "invalid path '$.a[)'"),
            ("States.Array(1 2)", "expected ',' or ')' after an argument"),
            (
                "States.UUID(1)",
                "States.UUID takes 0 arguments, but 1 was given",
            ),
            (
                "States.ArrayRange(1, 2)",
                "States.ArrayRange takes 3 arguments, but 2 were given",
            ),
            (
                "States.MathRandom(1)",
                "States.MathRandom takes 2 to 3 arguments, but 1 was given",
            ),
            (
                "States.Format()",
                "States.Format takes at least 1 argument, but 0 were given",
            ),
            (
                "States.StringToJson()",
                "States.StringToJson takes 1 argument, but 0 were given",
            ),
            (
                "States.Format(null)",
                "the first argument of States.Format must be a string",
            ),
            (
                "$.a",
                "an intrinsic function call must start with 'States.'",
            ),
            ("States.Array(Array())", "expected an argument"),
        ] {
            let got = syntax(src);
            assert!(got.contains(msg), "{src}: got {got:?}, want {msg:?}");
        }
        assert_eq!(
            syntax("States.Array(1,"),
            "expected an argument (at character 15)"
        );
    }

    #[test]
    fn parsed_once_evaluated_many_times() {
        let call = Intrinsic::parse("States.Format('{}-{}', $.a, States.UUID())").unwrap();
        assert_eq!(call.clone(), call);
        let mut rng = Rng::new(3);
        let mut seen = HashSet::new();
        for i in 0..50 {
            let input = json!({ "a": i });
            let scope = Scope {
                input: &input,
                context: &Value::Null,
                variables: &Map::new(),
            };
            let v = call.eval(&scope, &mut rng).unwrap();
            assert!(v.as_str().unwrap().starts_with(&format!("{i}-")));
            assert!(seen.insert(v));
        }
    }

    /// Truncated and garbled calls never panic the parser (or, when they still parse, the
    /// evaluator).
    #[test]
    fn no_panic_on_garbled_calls() {
        let seeds = [
            "States.Format('Hello \\{\\} {} and {}', $.name, States.JsonToString($$.Execution))",
            "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))",
            "States.Array($.a['b c'][?(@.x == 'y, )')], 1.5e-3, -0, true, null, $var.x[0:2])",
            "States.JsonMerge($.a, States.StringToJson('{\"k\": [1, 2]}'), false)",
            "States.MathRandom($.a, 1e2, 3)",
            "States.Hash(States.Base64Decode(States.Base64Encode('ünï😀')), 'SHA-512')",
            "States.ArrayRange(States.ArrayLength($.list), 3, -1)",
            "States.ArrayPartition(States.ArrayUnique($.list), 2)",
            "States.UUID()",
        ];
        let input = json!({"name": "n", "a": {"b c": [{"x": "y, )"}]}, "list": [1, 1, 2]});
        let context = json!({"Execution": {"Id": "e"}, "StateMachine": {"Name": "a-b"}});
        let vars = json!({"var": {"x": [1, 2, 3]}});
        let empty = Map::new();
        let scope = Scope {
            input: &input,
            context: &context,
            variables: vars.as_object().unwrap_or(&empty),
        };
        let mut rng = Rng::new(11);
        let alphabet: Vec<char> = "(),'\\$@[]{}.-0123456789eE States.Format ü😀\"?*:"
            .chars()
            .collect();
        let check = |s: &str, rng: &mut Rng| {
            if let Ok(call) = Intrinsic::parse(s) {
                let _ = call.eval(&scope, rng);
            }
        };
        for seed in seeds {
            assert!(Intrinsic::parse(seed).is_ok(), "{seed}");
            let chars: Vec<char> = seed.chars().collect();
            for n in 0..=chars.len() {
                let prefix: String = chars[..n].iter().collect();
                check(&prefix, &mut rng);
                let suffix: String = chars[n..].iter().collect();
                check(&format!("States.{suffix}"), &mut rng);
            }
            for _ in 0..2000 {
                let mut c = chars.clone();
                for _ in 0..=rng.range_inclusive(0, 3) {
                    let at = rng.range_inclusive(0, c.len() as i64) as usize;
                    match rng.range_inclusive(0, 2) {
                        0 if at < c.len() => {
                            c.remove(at);
                        }
                        1 if at < c.len() => {
                            c[at] = alphabet
                                [rng.range_inclusive(0, alphabet.len() as i64 - 1) as usize];
                        }
                        _ => c.insert(
                            at,
                            alphabet[rng.range_inclusive(0, alphabet.len() as i64 - 1) as usize],
                        ),
                    }
                }
                let s: String = c.into_iter().collect();
                check(&s, &mut rng);
            }
        }
    }
}
