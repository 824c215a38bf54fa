//! The standard library: the reference's `functions.js`, with its signatures.

use std::rc::Rc;
use std::sync::OnceLock;

use base64::Engine as _;

use crate::error::Error;
use crate::eval::{CallSite, Ctx, Env};
use crate::regex::{byte_index, utf16_index};
use crate::signature::Signature;
use crate::value::{deep_equal, js_number_string, stringify, Array, Func, Map, Value};

type R<'a> = Result<Value<'a>, Error>;

macro_rules! builtins {
    ($($variant:ident = $name:literal, $sig:literal, $arity:literal;)*) => {
        /// The built-in functions.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum Builtin { $($variant),* }

        const ALL: &[Builtin] = &[$(Builtin::$variant),*];

        impl Builtin {
            pub fn from_name(name: &str) -> Option<Builtin> {
                match name {
                    $($name => Some(Builtin::$variant),)*
                    _ => None,
                }
            }

            pub fn name(self) -> &'static str {
                match self { $(Builtin::$variant => $name),* }
            }

            fn signature_text(self) -> &'static str {
                match self { $(Builtin::$variant => $sig),* }
            }

            /// The number of parameters the reference's implementation declares: higher-order
            /// functions pass the index and the array only to functions that take them.
            pub fn arity(self) -> usize {
                match self { $(Builtin::$variant => $arity),* }
            }
        }
    };
}

builtins! {
    Sum = "sum", "<a<n>:n>", 1;
    Count = "count", "<a:n>", 1;
    Max = "max", "<a<n>:n>", 1;
    Min = "min", "<a<n>:n>", 1;
    Average = "average", "<a<n>:n>", 1;
    String = "string", "<x-b?:s>", 1;
    Substring = "substring", "<s-nn?:s>", 3;
    SubstringBefore = "substringBefore", "<s-s:s>", 2;
    SubstringAfter = "substringAfter", "<s-s:s>", 2;
    Lowercase = "lowercase", "<s-:s>", 1;
    Uppercase = "uppercase", "<s-:s>", 1;
    Length = "length", "<s-:n>", 1;
    Trim = "trim", "<s-:s>", 1;
    Pad = "pad", "<s-ns?:s>", 3;
    Match = "match", "<s-f<s:o>n?:a<o>>", 3;
    Contains = "contains", "<s-(sf):b>", 2;
    Replace = "replace", "<s-(sf)(sf)n?:s>", 4;
    Split = "split", "<s-(sf)n?:a<s>>", 3;
    Join = "join", "<a<s>s?:s>", 2;
    FormatNumber = "formatNumber", "<n-so?:s>", 3;
    FormatBase = "formatBase", "<n-n?:s>", 2;
    FormatInteger = "formatInteger", "<n-s:s>", 2;
    ParseInteger = "parseInteger", "<s-s:n>", 2;
    Number = "number", "<(nsb)-:n>", 1;
    Floor = "floor", "<n-:n>", 1;
    Ceil = "ceil", "<n-:n>", 1;
    Round = "round", "<n-n?:n>", 2;
    Abs = "abs", "<n-:n>", 1;
    Sqrt = "sqrt", "<n-:n>", 1;
    Power = "power", "<n-n:n>", 2;
    Random = "random", "<:n>", 0;
    Boolean = "boolean", "<x-:b>", 1;
    Not = "not", "<x-:b>", 1;
    Map = "map", "<af>", 2;
    Zip = "zip", "<a+>", 0;
    Filter = "filter", "<af>", 2;
    Single = "single", "<af?>", 2;
    Reduce = "reduce", "<afj?:j>", 3;
    Sift = "sift", "<o-f?:o>", 2;
    Keys = "keys", "<x-:a<s>>", 1;
    Lookup = "lookup", "<x-s:x>", 2;
    Append = "append", "<xx:a>", 2;
    Exists = "exists", "<x:b>", 1;
    Spread = "spread", "<x-:a<o>>", 1;
    Merge = "merge", "<a<o>:o>", 1;
    Reverse = "reverse", "<a:a>", 1;
    Each = "each", "<o-f:a>", 2;
    Error = "error", "<s?:x>", 1;
    Assert = "assert", "<bs?:x>", 2;
    Type = "type", "<x:s>", 1;
    Sort = "sort", "<af?:a>", 2;
    Shuffle = "shuffle", "<a:a>", 1;
    Distinct = "distinct", "<x:x>", 1;
    Base64Encode = "base64encode", "<s-:s>", 1;
    Base64Decode = "base64decode", "<s-:s>", 1;
    EncodeUrlComponent = "encodeUrlComponent", "<s-:s>", 1;
    EncodeUrl = "encodeUrl", "<s-:s>", 1;
    DecodeUrlComponent = "decodeUrlComponent", "<s-:s>", 1;
    DecodeUrl = "decodeUrl", "<s-:s>", 1;
    Eval = "eval", "<sx?:x>", 2;
    ToMillis = "toMillis", "<s-s?:n>", 2;
    FromMillis = "fromMillis", "<n-s?s?:s>", 3;
    Clone = "clone", "<(oa)-:o>", 1;
    Now = "now", "<s?s?:s>", 2;
    Millis = "millis", "<:n>", 0;
}

impl Builtin {
    /// The parsed signature (parsed once per process).
    pub fn signature(self) -> &'static Signature {
        static SIGS: OnceLock<Vec<Signature>> = OnceLock::new();
        let sigs = SIGS.get_or_init(|| {
            ALL.iter()
                .map(|b| {
                    Signature::parse(b.signature_text()).unwrap_or_else(|_| {
                        Signature::parse("<x*>").unwrap_or_else(|_| unreachable!())
                    })
                })
                .collect()
        });
        let i = ALL.iter().position(|b| *b == self).unwrap_or(0);
        &sigs[i]
    }
}

/// `JSON.stringify` of a value for error messages.
pub(crate) fn json_repr(v: &Value<'_>) -> String {
    match v {
        Value::Undefined => "undefined".into(),
        Value::Number(n) if !n.is_finite() => js_number_string(*n),
        _ => stringify(v, false).unwrap_or_default(),
    }
}

/// JavaScript's string ordering (by UTF-16 code units).
pub(crate) fn js_str_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// The reference's `$string` conversion, used by `&` too.
pub(crate) fn to_js_string(v: &Value<'_>) -> Result<String, Error> {
    match v {
        Value::Str(_) | Value::Json(serde_json::Value::String(_)) => {
            Ok(v.as_str().unwrap_or_default().to_string())
        }
        Value::Function(_) => Ok(String::new()),
        Value::Number(n) if !n.is_finite() => Err(Error::new("D3001").value(js_number_string(*n))),
        _ => stringify(v, false),
    }
}

/// The reference's `lookup` (property access that maps over arrays).
pub(crate) fn lookup<'a>(input: &Value<'a>, key: &str) -> Value<'a> {
    if input.is_array() {
        let mut out = Vec::new();
        for item in input.items() {
            let res = lookup(&item, key);
            if res.is_undefined() {
                continue;
            }
            if res.is_array() {
                out.extend(res.items());
            } else {
                out.push(res);
            }
        }
        Value::seq(out)
    } else {
        input.get(key)
    }
}

/// The reference's `boolean` (effective boolean value); undefined is false.
pub(crate) fn boolean(v: &Value<'_>) -> Result<bool, Error> {
    Ok(match v {
        Value::Undefined | Value::Null | Value::Function(_) => false,
        Value::Bool(b) => *b,
        Value::Number(_) => matches!(v.numeric()?, Some(n) if n != 0.0),
        _ if v.is_string() => !v.as_str().unwrap_or_default().is_empty(),
        _ if v.is_array() => {
            let items = v.items();
            match items.len() {
                0 => false,
                1 => boolean(&items[0])?,
                _ => {
                    let mut any = false;
                    for i in &items {
                        if boolean(i)? {
                            any = true;
                        }
                    }
                    any
                }
            }
        }
        _ => v.object_len() > 0,
    })
}

/// The reference's `append`: concatenation that treats single values as one-item arrays.
pub(crate) fn append<'a>(a: Value<'a>, b: Value<'a>) -> Value<'a> {
    if a.is_undefined() {
        return b;
    }
    if b.is_undefined() {
        return a;
    }
    let mut items = match a {
        Value::Array(arr) => match Rc::try_unwrap(arr) {
            Ok(mut arr) => std::mem::take(&mut arr.items),
            Err(arr) => arr.items.clone(),
        },
        other if other.is_array() => other.items(),
        other => vec![other],
    };
    if b.is_array() {
        items.extend(b.items());
    } else {
        items.push(b);
    }
    Value::array(items)
}

fn arg<'a>(args: &[Value<'a>], i: usize) -> Value<'a> {
    args.get(i).cloned().unwrap_or_default()
}

fn num(v: &Value<'_>) -> Option<f64> {
    v.as_f64()
}

/// Calls a built-in function with validated arguments.
pub(crate) fn call<'a>(
    ctx: &mut Ctx<'a, '_>,
    b: Builtin,
    args: Vec<Value<'a>>,
    input: &Value<'a>,
    env: &Env<'a>,
) -> R<'a> {
    let a0 = arg(&args, 0);
    let undefined_first = a0.is_undefined();
    match b {
        Builtin::Sum => {
            if undefined_first {
                return Ok(Value::Undefined);
            }
            Ok(Value::Number(a0.items().iter().filter_map(num).sum()))
        }
        Builtin::Count => Ok(Value::Number(if undefined_first {
            0.0
        } else {
            a0.len() as f64
        })),
        Builtin::Max | Builtin::Min => {
            let items = a0.items();
            if items.is_empty() {
                return Ok(Value::Undefined);
            }
            let mut best = if b == Builtin::Max {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            };
            for n in items.iter().filter_map(num) {
                if n.is_nan() {
                    best = f64::NAN;
                } else if (b == Builtin::Max && n > best) || (b == Builtin::Min && n < best) {
                    best = n;
                }
            }
            Ok(Value::Number(best))
        }
        Builtin::Average => {
            let items = a0.items();
            if items.is_empty() {
                return Ok(Value::Undefined);
            }
            let total: f64 = items.iter().filter_map(num).sum();
            Ok(Value::Number(total / items.len() as f64))
        }
        Builtin::String => {
            if undefined_first {
                return Ok(Value::Undefined);
            }
            let pretty = matches!(arg(&args, 1), Value::Bool(true));
            match &a0 {
                Value::Str(_) | Value::Json(serde_json::Value::String(_)) => Ok(a0.clone()),
                Value::Function(_) => Ok(Value::str("")),
                Value::Number(n) if !n.is_finite() => {
                    Err(Error::new("D3001").value(js_number_string(*n)))
                }
                _ => Ok(Value::string(stringify(&a0, pretty)?)),
            }
        }
        Builtin::Substring => {
            let Some(s) = a0.as_str() else {
                return Ok(Value::Undefined);
            };
            let chars: Vec<char> = s.chars().collect();
            let len = chars.len() as f64;
            let mut start = num(&arg(&args, 1)).unwrap_or(0.0);
            if len + start < 0.0 {
                start = 0.0;
            }
            let length = arg(&args, 2);
            let out: String = if let Some(length) = num(&length) {
                if length <= 0.0 {
                    return Ok(Value::str(""));
                }
                let end = if start >= 0.0 {
                    start + length
                } else {
                    len + start + length
                };
                js_slice(&chars, start, Some(end)).iter().collect()
            } else {
                js_slice(&chars, start, None).iter().collect()
            };
            Ok(Value::string(out))
        }
        Builtin::SubstringBefore | Builtin::SubstringAfter => {
            let Some(s) = a0.as_str() else {
                return Ok(Value::Undefined);
            };
            let chars = arg(&args, 1);
            let chars = chars.as_str().unwrap_or("undefined");
            Ok(match s.find(chars) {
                Some(pos) if b == Builtin::SubstringBefore => Value::str(&s[..pos]),
                Some(pos) => Value::str(&s[pos + chars.len()..]),
                None => a0.clone(),
            })
        }
        Builtin::Lowercase => Ok(a0
            .as_str()
            .map_or(Value::Undefined, |s| Value::string(s.to_lowercase()))),
        Builtin::Uppercase => Ok(a0
            .as_str()
            .map_or(Value::Undefined, |s| Value::string(s.to_uppercase()))),
        Builtin::Length => {
            Ok(a0.as_str().map_or(
                Value::Undefined,
                |s| Value::Number(s.chars().count() as f64),
            ))
        }
        Builtin::Trim => Ok(a0
            .as_str()
            .map_or(Value::Undefined, |s| Value::string(trim(s)))),
        Builtin::Pad => {
            let Some(s) = a0.as_str() else {
                return Ok(Value::Undefined);
            };
            let width = num(&arg(&args, 1)).unwrap_or(f64::NAN).trunc();
            let pad_arg = arg(&args, 2);
            let mut pad = pad_arg.as_str().unwrap_or(" ").to_string();
            if pad.is_empty() {
                pad = " ".into();
            }
            let len = s.chars().count() as f64;
            let pad_len = width.abs() - len;
            if pad_len > 0.0 {
                let n = pad_len as usize;
                let padding: String = pad.chars().cycle().take(n).collect();
                Ok(Value::string(if width > 0.0 {
                    format!("{s}{padding}")
                } else {
                    format!("{padding}{s}")
                }))
            } else {
                Ok(a0.clone())
            }
        }
        Builtin::Match => {
            let Some(s) = a0.as_rc_str() else {
                return Ok(Value::Undefined);
            };
            let limit = num(&arg(&args, 2));
            if let Some(l) = limit {
                if l < 0.0 {
                    return Err(Error::new("D3040").value(js_number_string(l)).index(3));
                }
            }
            let matcher = arg(&args, 1);
            let mut out = Vec::new();
            if limit.is_none_or(|l| l > 0.0) {
                let mut m = evaluate_matcher(ctx, &matcher, vec![Value::Str(s.clone())], env)?;
                let mut count = 0.0;
                while !m.is_undefined() && limit.is_none_or(|l| count < l) {
                    let mut o = Map::new();
                    o.insert("match".into(), m.get("match"));
                    o.insert("index".into(), m.get("start"));
                    o.insert("groups".into(), m.get("groups"));
                    out.push(Value::object(o));
                    let next = m.get("next");
                    m = evaluate_matcher(ctx, &next, Vec::new(), env)?;
                    count += 1.0;
                }
            }
            Ok(Value::seq(out))
        }
        Builtin::Contains => {
            let Some(s) = a0.as_rc_str() else {
                return Ok(Value::Undefined);
            };
            let token = arg(&args, 1);
            if token.is_undefined() {
                return Ok(Value::Undefined);
            }
            if let Some(t) = token.as_str() {
                return Ok(Value::Bool(s.contains(t)));
            }
            let m = evaluate_matcher(ctx, &token, vec![Value::Str(s)], env)?;
            Ok(Value::Bool(!m.is_undefined()))
        }
        Builtin::Replace => replace(ctx, &args, env),
        Builtin::Split => split(ctx, &args, env),
        Builtin::Join => {
            if undefined_first {
                return Ok(Value::Undefined);
            }
            let sep = arg(&args, 1);
            let sep = sep.as_str().unwrap_or("");
            let parts: Vec<String> = a0
                .items()
                .iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect();
            Ok(Value::string(parts.join(sep)))
        }
        Builtin::FormatNumber => {
            let Some(n) = num(&a0) else {
                return Ok(Value::Undefined);
            };
            let picture = arg(&args, 1);
            let options = arg(&args, 2);
            crate::numfmt::format_number(n, picture.as_str().unwrap_or_default(), &options)
                .map(Value::string)
        }
        Builtin::FormatBase => {
            let Some(n) = num(&a0) else {
                return Ok(Value::Undefined);
            };
            let n = round_half_even(n, 0.0);
            let radix = match num(&arg(&args, 1)) {
                Some(r) => round_half_even(r, 0.0),
                None => 10.0,
            };
            if !(2.0..=36.0).contains(&radix) {
                return Err(Error::new("D3100").value(js_number_string(radix)));
            }
            Ok(Value::string(to_radix(n, radix as u32)))
        }
        Builtin::FormatInteger => {
            let Some(n) = num(&a0) else {
                return Ok(Value::Undefined);
            };
            let picture = arg(&args, 1);
            crate::datetime::format_integer(n, picture.as_str().unwrap_or_default())
                .map(Value::string)
        }
        Builtin::ParseInteger => {
            let Some(s) = a0.as_str() else {
                return Ok(Value::Undefined);
            };
            let picture = arg(&args, 1);
            crate::datetime::parse_integer(s, picture.as_str().unwrap_or_default())
        }
        Builtin::Number => to_number(&a0),
        Builtin::Floor => Ok(num(&a0).map_or(Value::Undefined, |n| Value::Number(n.floor()))),
        Builtin::Ceil => Ok(num(&a0).map_or(Value::Undefined, |n| Value::Number(n.ceil()))),
        Builtin::Abs => Ok(num(&a0).map_or(Value::Undefined, |n| Value::Number(n.abs()))),
        Builtin::Round => {
            let Some(n) = num(&a0) else {
                return Ok(Value::Undefined);
            };
            let precision = num(&arg(&args, 1)).unwrap_or(0.0);
            Ok(Value::Number(round_half_even(n, precision)))
        }
        Builtin::Sqrt => {
            let Some(n) = num(&a0) else {
                return Ok(Value::Undefined);
            };
            if n < 0.0 {
                return Err(Error::new("D3060").value(js_number_string(n)).index(1));
            }
            Ok(Value::Number(n.sqrt()))
        }
        Builtin::Power => {
            let Some(n) = num(&a0) else {
                return Ok(Value::Undefined);
            };
            let e = num(&arg(&args, 1)).unwrap_or(f64::NAN);
            let r = js_pow(n, e);
            if !r.is_finite() {
                return Err(Error::new("D3061")
                    .value(js_number_string(n))
                    .exp(js_number_string(e))
                    .index(1));
            }
            Ok(Value::Number(r))
        }
        Builtin::Random => Ok(Value::Number(ctx.host.random())),
        Builtin::Boolean => {
            if undefined_first {
                return Ok(Value::Undefined);
            }
            Ok(Value::Bool(boolean(&a0)?))
        }
        Builtin::Not => {
            if undefined_first {
                return Ok(Value::Undefined);
            }
            Ok(Value::Bool(!boolean(&a0)?))
        }
        Builtin::Map | Builtin::Filter => {
            if undefined_first {
                return Ok(Value::Undefined);
            }
            let f = arg(&args, 1);
            let items = a0.items();
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let fargs = hof_args(&f, item.clone(), Value::Number(i as f64), &a0);
                let res = ctx.apply(&f, fargs, &Value::Undefined, env, &CallSite::default())?;
                if b == Builtin::Map {
                    if !res.is_undefined() {
                        out.push(res);
                    }
                } else if boolean(&res)? {
                    out.push(item.clone());
                }
            }
            Ok(Value::seq(out))
        }
        Builtin::Single => {
            if undefined_first {
                return Ok(Value::Undefined);
            }
            let f = arg(&args, 1);
            let mut found: Option<Value<'a>> = None;
            for (i, item) in a0.items().iter().enumerate() {
                let positive = if f.is_undefined() {
                    true
                } else {
                    let fargs = hof_args(&f, item.clone(), Value::Number(i as f64), &a0);
                    let res = ctx.apply(&f, fargs, &Value::Undefined, env, &CallSite::default())?;
                    boolean(&res)?
                };
                if positive {
                    if found.is_some() {
                        return Err(Error::new("D3138").index(i));
                    }
                    found = Some(item.clone());
                }
            }
            found.ok_or_else(|| Error::new("D3139"))
        }
        Builtin::Zip => {
            let arrays: Vec<Vec<Value<'a>>> = args.iter().map(Value::items).collect();
            let len = arrays.iter().map(Vec::len).min().unwrap_or(0);
            let out = (0..len)
                .map(|i| Value::array(arrays.iter().map(|a| a[i].clone()).collect()))
                .collect();
            Ok(Value::array(out))
        }
        Builtin::Reduce => {
            if undefined_first {
                return Ok(Value::Undefined);
            }
            let f = arg(&args, 1);
            let arity = f.as_function().map_or(0, |f| f.arity());
            if arity < 2 {
                return Err(Error::new("D3050").index(1));
            }
            let items = a0.items();
            let init = arg(&args, 2);
            let (mut result, mut index) = if init.is_undefined() && !items.is_empty() {
                (items[0].clone(), 1)
            } else {
                (init, 0)
            };
            while index < items.len() {
                let mut fargs = vec![result, items[index].clone()];
                if arity >= 3 {
                    fargs.push(Value::Number(index as f64));
                }
                if arity >= 4 {
                    fargs.push(a0.clone());
                }
                result = ctx.apply(&f, fargs, &Value::Undefined, env, &CallSite::default())?;
                index += 1;
            }
            Ok(result)
        }
        Builtin::Sift => {
            let f = arg(&args, 1);
            let mut out = Map::new();
            for (k, v) in a0.entries() {
                let fargs = hof_args(&f, v.clone(), Value::string(k.clone()), &a0);
                let res = ctx.apply(&f, fargs, &Value::Undefined, env, &CallSite::default())?;
                if boolean(&res)? {
                    out.insert(k, v);
                }
            }
            Ok(if out.is_empty() {
                Value::Undefined
            } else {
                Value::object(out)
            })
        }
        Builtin::Keys => Ok(keys(&a0)),
        Builtin::Lookup => {
            let key = arg(&args, 1);
            Ok(lookup(&a0, key.as_str().unwrap_or("undefined")))
        }
        Builtin::Append => Ok(append(a0, arg(&args, 1))),
        Builtin::Exists => Ok(Value::Bool(!undefined_first)),
        Builtin::Spread => Ok(spread(&a0)),
        Builtin::Merge => {
            if undefined_first {
                return Ok(Value::Undefined);
            }
            let mut out = Map::new();
            for obj in a0.items() {
                for (k, v) in obj.entries() {
                    crate::value::map_insert(&mut out, k, v);
                }
            }
            Ok(Value::object(out))
        }
        Builtin::Reverse => {
            if undefined_first {
                return Ok(Value::Undefined);
            }
            if a0.len() <= 1 {
                return Ok(a0);
            }
            let mut items = a0.items();
            items.reverse();
            Ok(Value::array(items))
        }
        Builtin::Each => {
            let f = arg(&args, 1);
            let mut out = Vec::new();
            for (k, v) in a0.entries() {
                let fargs = hof_args(&f, v, Value::string(k), &a0);
                let res = ctx.apply(&f, fargs, &Value::Undefined, env, &CallSite::default())?;
                if !res.is_undefined() {
                    out.push(res);
                }
            }
            Ok(Value::seq(out))
        }
        Builtin::Error => {
            let msg = a0
                .as_str()
                .filter(|s| !s.is_empty())
                .unwrap_or("$error() function evaluated");
            Err(Error::with_message("D3137", msg))
        }
        Builtin::Assert => {
            if boolean(&a0)? {
                return Ok(Value::Undefined);
            }
            let m = arg(&args, 1);
            let msg = m
                .as_str()
                .filter(|s| !s.is_empty())
                .unwrap_or("$assert() statement failed");
            Err(Error::with_message("D3141", msg))
        }
        Builtin::Type => Ok(match &a0 {
            Value::Undefined => Value::Undefined,
            Value::Null => Value::str("null"),
            Value::Number(_) => Value::str("number"),
            Value::Bool(_) => Value::str("boolean"),
            Value::Function(_) => Value::str("function"),
            v if v.is_string() => Value::str("string"),
            v if v.is_array() => Value::str("array"),
            _ => Value::str("object"),
        }),
        Builtin::Sort => sort(ctx, a0, arg(&args, 1), env),
        Builtin::Shuffle => {
            if undefined_first {
                return Ok(Value::Undefined);
            }
            if a0.len() <= 1 {
                return Ok(a0);
            }
            let items = a0.items();
            let mut out: Vec<Value<'a>> = vec![Value::Undefined; items.len()];
            for (i, item) in items.into_iter().enumerate() {
                let r = ctx.host.random();
                let j = ((r * (i + 1) as f64).floor() as usize).min(i);
                if i != j {
                    out[i] = out[j].clone();
                }
                out[j] = item;
            }
            Ok(Value::array(out))
        }
        Builtin::Distinct => {
            if undefined_first {
                return Ok(Value::Undefined);
            }
            if !a0.is_array() || a0.len() <= 1 {
                return Ok(a0);
            }
            let mut out: Vec<Value<'a>> = Vec::new();
            for v in a0.items() {
                if !out.iter().any(|o| deep_equal(o, &v)) {
                    out.push(v);
                }
            }
            Ok(if a0.is_sequence() {
                Value::seq(out)
            } else {
                Value::array(out)
            })
        }
        Builtin::Base64Encode => {
            let Some(s) = a0.as_str() else {
                return Ok(Value::Undefined);
            };
            let bytes: Vec<u8> = s.encode_utf16().map(|u| (u & 0xff) as u8).collect();
            Ok(Value::string(
                base64::engine::general_purpose::STANDARD.encode(bytes),
            ))
        }
        Builtin::Base64Decode => {
            let Some(s) = a0.as_str() else {
                return Ok(Value::Undefined);
            };
            let cleaned: String = s.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(cleaned.trim_end_matches('='))
                .or_else(|_| {
                    base64::engine::general_purpose::STANDARD_NO_PAD
                        .decode(cleaned.trim_end_matches('='))
                })
                .unwrap_or_default();
            Ok(Value::string(
                bytes.iter().map(|b| char::from(*b)).collect(),
            ))
        }
        Builtin::EncodeUrlComponent | Builtin::EncodeUrl => {
            let Some(s) = a0.as_str() else {
                return Ok(Value::Undefined);
            };
            Ok(Value::string(crate::url::encode(
                s,
                b == Builtin::EncodeUrl,
            )))
        }
        Builtin::DecodeUrlComponent | Builtin::DecodeUrl => {
            let Some(s) = a0.as_str() else {
                return Ok(Value::Undefined);
            };
            match crate::url::decode(s, b == Builtin::DecodeUrl) {
                Some(d) => Ok(Value::string(d)),
                None => Err(Error::with_message(
                    "D3140",
                    format!(
                        "Malformed URL passed to ${}(): {}",
                        b.name(),
                        json_repr(&a0)
                    ),
                )),
            }
        }
        Builtin::Eval => {
            let Some(src) = a0.as_str() else {
                return Ok(Value::Undefined);
            };
            let focus = arg(&args, 1);
            let focus = if focus.is_undefined() {
                input.clone()
            } else {
                focus
            };
            let src = src.to_string();
            ctx.eval_string(&src, &focus, env)
        }
        Builtin::ToMillis => {
            let Some(s) = a0.as_str() else {
                return Ok(Value::Undefined);
            };
            let picture = arg(&args, 1);
            let now = ctx.now();
            crate::datetime::to_millis(s, picture.as_str(), now)
        }
        Builtin::FromMillis => {
            let Some(n) = num(&a0) else {
                return Ok(Value::Undefined);
            };
            let picture = arg(&args, 1);
            let tz = arg(&args, 2);
            crate::datetime::from_millis(n, picture.as_str(), tz.as_str()).map(Value::string)
        }
        Builtin::Clone => Ok(a0.deep_clone()),
        Builtin::Now => {
            let now = ctx.now();
            let tz = arg(&args, 1);
            crate::datetime::from_millis(now as f64, a0.as_str(), tz.as_str()).map(Value::string)
        }
        Builtin::Millis => Ok(Value::Number(ctx.now() as f64)),
    }
}

/// The arguments a higher-order function passes: the value, then the index (or key) and
/// the whole input if the function takes them.
fn hof_args<'a>(
    f: &Value<'a>,
    v: Value<'a>,
    index: Value<'a>,
    whole: &Value<'a>,
) -> Vec<Value<'a>> {
    let arity = f.as_function().map_or(1, |f| f.arity());
    let mut args = vec![v];
    if arity >= 2 {
        args.push(index);
    }
    if arity >= 3 {
        args.push(whole.clone());
    }
    args
}

/// JavaScript's `Array.prototype.slice` on characters.
fn js_slice(chars: &[char], start: f64, end: Option<f64>) -> &[char] {
    let len = chars.len() as f64;
    let norm = |x: f64| -> usize {
        let x = if x.is_nan() { 0.0 } else { x.trunc() };
        let x = if x < 0.0 {
            (len + x).max(0.0)
        } else {
            x.min(len)
        };
        x as usize
    };
    let s = norm(start);
    let e = end.map_or(chars.len(), norm);
    if s >= e {
        &[]
    } else {
        &chars[s..e]
    }
}

fn trim(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_space = false;
    for c in s.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    let out = out.strip_prefix(' ').map(str::to_string).unwrap_or(out);
    out.strip_suffix(' ').map(str::to_string).unwrap_or(out)
}

/// `Math.pow` with JavaScript's special cases where they differ from `powf`.
fn js_pow(b: f64, e: f64) -> f64 {
    if e.is_nan() {
        return f64::NAN;
    }
    if (b == 1.0 || b == -1.0) && e.is_infinite() {
        return f64::NAN;
    }
    b.powf(e)
}

/// `$round`: half to even, at a number of decimal places (negative rounds to tens etc.).
pub(crate) fn round_half_even(n: f64, precision: f64) -> f64 {
    let shift = |x: f64, p: f64| -> f64 {
        if p == 0.0 {
            return x;
        }
        // Shift the decimal point in the decimal text, as the reference does, so that no
        // binary multiplication error creeps in.
        let s = js_number_string(x);
        let (m, e) = match s.split_once('e') {
            Some((m, e)) => (m.to_string(), e.parse::<f64>().unwrap_or(0.0)),
            None => (s, 0.0),
        };
        format!("{m}e{}", e + p).parse().unwrap_or(f64::NAN)
    };
    let x = shift(n, precision);
    let mut result = (x + 0.5).floor();
    if x.is_infinite() || x.is_nan() {
        result = x;
    }
    let diff = result - x;
    if diff.abs() == 0.5 && (result % 2.0).abs() == 1.0 {
        result -= 1.0;
    }
    let result = shift(result, -precision);
    if result == 0.0 {
        0.0
    } else {
        result
    }
}

fn to_radix(n: f64, radix: u32) -> String {
    if n == 0.0 {
        return "0".into();
    }
    let neg = n < 0.0;
    let mut v = n.abs() as u128;
    let mut digits = Vec::new();
    while v > 0 {
        let d = (v % u128::from(radix)) as u32;
        digits.push(std::char::from_digit(d, radix).unwrap_or('0'));
        v /= u128::from(radix);
    }
    if neg {
        digits.push('-');
    }
    digits.iter().rev().collect()
}

fn to_number<'a>(v: &Value<'a>) -> R<'a> {
    match v {
        Value::Undefined => Ok(Value::Undefined),
        Value::Number(_) => Ok(v.clone()),
        Value::Bool(b) => Ok(Value::Number(if *b { 1.0 } else { 0.0 })),
        _ => {
            if let Some(s) = v.as_str() {
                if is_decimal_literal(s) {
                    if let Ok(n) = s.parse::<f64>() {
                        if n.is_finite() {
                            return Ok(Value::Number(n));
                        }
                    }
                }
                let lower = s.to_ascii_lowercase();
                for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
                    if let Some(rest) = lower.strip_prefix(prefix) {
                        if !rest.is_empty() {
                            if let Ok(n) = u64::from_str_radix(rest, radix) {
                                return Ok(Value::Number(n as f64));
                            }
                        }
                    }
                }
            }
            Err(Error::new("D3030").value(json_repr(v)).index(1))
        }
    }
}

/// `^-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?$`
fn is_decimal_literal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    let start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == start {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let fs = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == fs {
            return false;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let es = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == es {
            return false;
        }
    }
    i == b.len()
}

fn keys<'a>(v: &Value<'a>) -> Value<'a> {
    let mut out: Vec<String> = Vec::new();
    if v.is_array() {
        for item in v.items() {
            for k in item.keys() {
                if !out.contains(&k) {
                    out.push(k);
                }
            }
        }
    } else {
        out = v.keys();
    }
    if out.is_empty() {
        Value::Undefined
    } else {
        Value::seq(out.into_iter().map(Value::string).collect())
    }
}

fn spread<'a>(v: &Value<'a>) -> Value<'a> {
    if v.is_array() {
        let mut result = Value::seq(Vec::new());
        for item in v.items() {
            result = append(result, spread(&item));
        }
        result
    } else if v.is_object() {
        let items = v
            .entries()
            .into_iter()
            .map(|(k, val)| {
                let mut m = Map::new();
                m.insert(k, val);
                Value::object(m)
            })
            .collect();
        Value::seq(items)
    } else {
        v.clone()
    }
}

fn sort<'a>(ctx: &mut Ctx<'a, '_>, arr: Value<'a>, comparator: Value<'a>, env: &Env<'a>) -> R<'a> {
    if arr.is_undefined() {
        return Ok(Value::Undefined);
    }
    if arr.len() <= 1 {
        return Ok(arr);
    }
    let items = arr.items();
    if comparator.is_undefined() {
        let all_numbers = items.iter().all(|v| matches!(v, Value::Number(_)));
        let all_strings = items.iter().all(Value::is_string);
        if !all_numbers && !all_strings {
            return Err(Error::new("D3070").index(1));
        }
        let sorted =
            crate::eval::merge_sort(items, &mut |a: &Value<'a>, b: &Value<'a>| match (a, b) {
                (Value::Number(x), Value::Number(y)) => x > y,
                _ => {
                    js_str_cmp(
                        a.as_str().unwrap_or_default(),
                        b.as_str().unwrap_or_default(),
                    ) == std::cmp::Ordering::Greater
                }
            });
        return Ok(Value::array(sorted));
    }
    let mut err = None;
    let sorted = crate::eval::merge_sort(items, &mut |a: &Value<'a>, b: &Value<'a>| {
        if err.is_some() {
            return false;
        }
        match ctx.apply(
            &comparator,
            vec![a.clone(), b.clone()],
            &Value::Undefined,
            env,
            &CallSite::default(),
        ) {
            Ok(v) => v.js_truthy(),
            Err(e) => {
                err = Some(e);
                false
            }
        }
    });
    match err {
        Some(e) => Err(e),
        None => Ok(Value::array(sorted)),
    }
}

/// Runs a matcher function (a regex or a custom one) and checks the shape of its result.
fn evaluate_matcher<'a>(
    ctx: &mut Ctx<'a, '_>,
    matcher: &Value<'a>,
    args: Vec<Value<'a>>,
    env: &Env<'a>,
) -> R<'a> {
    if matcher.is_undefined() {
        return Ok(Value::Undefined);
    }
    let r = ctx.apply(matcher, args, &Value::Undefined, env, &CallSite::default())?;
    if r.js_truthy() {
        let ok = matches!(r.get("start"), Value::Number(_))
            || r.get("groups").is_array()
            || r.get("next").is_function();
        if !ok {
            return Err(Error::new("T1010"));
        }
    }
    Ok(r)
}

/// Runs a regex from a byte offset and builds the reference's match object, whose `next`
/// continues after the match.
pub(crate) fn regex_exec<'a>(
    lit: &std::sync::Arc<crate::ast::RegexLit>,
    text: Rc<str>,
    from: usize,
) -> Value<'a> {
    if from > text.len() {
        return Value::Undefined;
    }
    let Some(caps) = lit.regex.captures_at(&text, from) else {
        return Value::Undefined;
    };
    let Some(m) = caps.get(0) else {
        return Value::Undefined;
    };
    let mut o = Map::new();
    o.insert("match".into(), Value::str(m.as_str()));
    o.insert(
        "start".into(),
        Value::Number(utf16_index(&text, m.start()) as f64),
    );
    o.insert(
        "end".into(),
        Value::Number(utf16_index(&text, m.end()) as f64),
    );
    let groups = (1..caps.len())
        .map(|i| {
            caps.get(i)
                .map_or(Value::Undefined, |g| Value::str(g.as_str()))
        })
        .collect();
    o.insert("groups".into(), Value::array(groups));
    o.insert(
        "next".into(),
        Value::func(Func::RegexNext {
            regex: lit.clone(),
            text: text.clone(),
            from: m.end(),
        }),
    );
    Value::object(o)
}

fn utf16_slice(s: &str, from: usize, to: Option<usize>) -> &str {
    let a = byte_index(s, from);
    let b = to.map_or(s.len(), |t| byte_index(s, t)).max(a);
    &s[a..b]
}

fn replace<'a>(ctx: &mut Ctx<'a, '_>, args: &[Value<'a>], env: &Env<'a>) -> R<'a> {
    let a0 = arg(args, 0);
    let Some(s) = a0.as_rc_str() else {
        return Ok(Value::Undefined);
    };
    let pattern = arg(args, 1);
    let replacement = arg(args, 2);
    let limit = num(&arg(args, 3));
    if pattern.as_str() == Some("") {
        return Err(Error::new("D3010").value("\"\"").index(2));
    }
    if let Some(l) = limit {
        if l < 0.0 {
            return Err(Error::new("D3011").value(js_number_string(l)).index(4));
        }
    }
    if limit.is_some_and(|l| l <= 0.0) {
        return Ok(Value::Str(s));
    }
    let mut result = String::new();
    if let Some(p) = pattern.as_str() {
        let rep = replacement
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| to_js_string(&replacement).unwrap_or_default());
        let mut count = 0.0;
        let mut position = 0;
        while let Some(idx) = s[position..].find(p) {
            if limit.is_some_and(|l| count >= l) {
                break;
            }
            result.push_str(&s[position..position + idx]);
            result.push_str(&rep);
            position += idx + p.len();
            count += 1.0;
        }
        result.push_str(&s[position..]);
        return Ok(Value::string(result));
    }
    let mut m = evaluate_matcher(ctx, &pattern, vec![Value::Str(s.clone())], env)?;
    if m.is_undefined() {
        return Ok(Value::Str(s));
    }
    let mut position = 0usize;
    let mut count = 0.0;
    while !m.is_undefined() && limit.is_none_or(|l| count < l) {
        let start = num(&m.get("start")).unwrap_or(0.0) as usize;
        result.push_str(utf16_slice(&s, position, Some(start)));
        let replaced = if let Some(r) = replacement.as_str() {
            Value::string(substitute(r, &m))
        } else {
            ctx.apply(
                &replacement,
                vec![m.clone()],
                &Value::Undefined,
                env,
                &CallSite::default(),
            )?
        };
        match replaced.as_str() {
            Some(r) => result.push_str(r),
            None => return Err(Error::new("D3012").value(json_repr(&replaced))),
        }
        let matched = m.get("match");
        position = start + matched.as_str().unwrap_or_default().encode_utf16().count();
        count += 1.0;
        let next = m.get("next");
        m = evaluate_matcher(ctx, &next, Vec::new(), env)?;
    }
    result.push_str(utf16_slice(&s, position, None));
    Ok(Value::string(result))
}

/// Expands `$0`, `$1`... and `$$` in a replacement string.
fn substitute(replacement: &str, m: &Value<'_>) -> String {
    let groups = m.get("groups").items();
    let matched = m.get("match");
    let chars: Vec<char> = replacement.chars().collect();
    let mut out = String::new();
    let mut pos = 0;
    while pos < chars.len() {
        let c = chars[pos];
        if c != '$' {
            out.push(c);
            pos += 1;
            continue;
        }
        pos += 1;
        match chars.get(pos) {
            Some('$') => {
                out.push('$');
                pos += 1;
            }
            Some('0') => {
                out.push_str(matched.as_str().unwrap_or_default());
                pos += 1;
            }
            _ => {
                let max_digits = if groups.is_empty() {
                    1
                } else {
                    (groups.len() as f64).log10().floor() as usize + 1
                };
                let digits: String = chars[pos..]
                    .iter()
                    .take(max_digits)
                    .take_while(|c| c.is_ascii_digit())
                    .collect();
                let mut index: Option<usize> = digits.parse().ok();
                let mut used = digits.len();
                if max_digits > 1 {
                    if let Some(i) = index {
                        if i > groups.len() && used > 1 {
                            used -= 1;
                            index = digits[..used].parse().ok();
                        }
                    }
                }
                match index {
                    Some(i) => {
                        if !groups.is_empty() && i >= 1 {
                            if let Some(g) = groups.get(i - 1) {
                                out.push_str(g.as_str().unwrap_or_default());
                            }
                        }
                        pos += i.to_string().len().min(used.max(1));
                    }
                    None => out.push('$'),
                }
            }
        }
    }
    out
}

fn split<'a>(ctx: &mut Ctx<'a, '_>, args: &[Value<'a>], env: &Env<'a>) -> R<'a> {
    let a0 = arg(args, 0);
    let Some(s) = a0.as_rc_str() else {
        return Ok(Value::Undefined);
    };
    let sep = arg(args, 1);
    let limit = num(&arg(args, 2));
    if let Some(l) = limit {
        if l < 0.0 {
            return Err(Error::new("D3020").value(js_number_string(l)).index(3));
        }
    }
    let mut out: Vec<Value<'a>> = Vec::new();
    if limit.is_some_and(|l| l <= 0.0) {
        return Ok(Value::array(out));
    }
    if let Some(p) = sep.as_str() {
        let parts: Vec<String> = if p.is_empty() {
            s.chars().map(|c| c.to_string()).collect()
        } else {
            s.split(p).map(str::to_string).collect()
        };
        let max = limit.map_or(usize::MAX, |l| l as usize);
        out = parts.into_iter().take(max).map(Value::string).collect();
        return Ok(Value::array(out));
    }
    let mut m = evaluate_matcher(ctx, &sep, vec![Value::Str(s.clone())], env)?;
    if m.is_undefined() {
        out.push(Value::Str(s));
        return Ok(Value::array(out));
    }
    let mut start = 0usize;
    let mut count = 0.0;
    while !m.is_undefined() && limit.is_none_or(|l| count < l) {
        let mstart = num(&m.get("start")).unwrap_or(0.0) as usize;
        out.push(Value::str(utf16_slice(&s, start, Some(mstart))));
        start = num(&m.get("end")).unwrap_or(0.0) as usize;
        let next = m.get("next");
        m = evaluate_matcher(ctx, &next, Vec::new(), env)?;
        count += 1.0;
    }
    if limit.is_none_or(|l| count < l) {
        out.push(Value::str(utf16_slice(&s, start, None)));
    }
    Ok(Value::array(out))
}

impl<'a> Value<'a> {
    /// A one-item sequence marked as the wrapper of an array input.
    pub(crate) fn outer_wrapper(inner: Value<'a>) -> Value<'a> {
        Value::Array(Rc::new(Array::new(vec![inner], true, false, true)))
    }
}
