//! What AWS's Java runtime does with JSON values, reproduced where it shows in intrinsic results:
//!
//! - `to_java_string`: `String.valueOf` of the Java object a JSON value becomes (a `Map` renders
//!   as `{k=v, k2=v2}`, a `List` as `[a, b]`, a string as itself). `States.Format` uses it.
//! - `to_json_text`: compact JSON as Jackson writes it. `States.JsonToString` uses it.
//! - `format_double`: `Double.toString`.
//! - `parse_json`: JSON text to a value as Jackson's `readTree` reads it (`-0` is the integer
//!   `0`, integers stay integers). `States.StringToJson` uses it.
//! - `JavaRandom`: `java.util.Random`, for `States.MathRandom` with a seed.

use serde_json::{Map, Number, Value};
use std::fmt::Write;

/// `String.valueOf(x)` for the Java object that `v` maps to.
pub(crate) fn to_java_string(v: &Value) -> String {
    let mut out = String::new();
    write_java(v, &mut out);
    out
}

fn write_java(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&format_number(n)),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_java(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                write_java(item, out);
            }
            out.push('}');
        }
    }
}

/// A JSON number as Java prints it: integers in full, floating-point numbers as
/// `Double.toString` does.
pub(crate) fn format_number(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        format_double(n.as_f64().unwrap_or(0.0))
    }
}

/// `Double.toString(x)`: plain notation with at least one fractional digit for
/// 10^-3 <= |x| < 10^7, otherwise computerized scientific notation (`1.0E20`, `1.5E-5`), always
/// with the shortest digits that read back as `x`.
pub(crate) fn format_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    let a = x.abs();
    if (1e-3..1e7).contains(&a) {
        let mut s = format!("{x}");
        if !s.contains('.') {
            s.push_str(".0");
        }
        s
    } else {
        // Rust's `{:e}` gives the shortest digits as `d.ddde-n` / `de20`.
        let s = format!("{x:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exp}")
    }
}

/// Compact JSON text as Jackson writes it: no spaces, keys in order, `"` `\` and control
/// characters escaped (`\n`, `\t`, ... and `\u00XX` in upper-case hex), everything else as is.
pub(crate) fn to_json_text(v: &Value) -> String {
    let mut out = String::new();
    write_json(v, &mut out);
    out
}

fn write_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&format_number(n)),
        Value::String(s) => write_json_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(k, out);
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

fn write_json_string(s: &str, out: &mut String) {
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
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// How deep arrays and objects may nest in [`parse_json`] (Jackson's default limit is 1000;
/// this keeps the recursion well inside the stack).
const MAX_DEPTH: usize = 512;

/// Parses JSON text as Jackson's `ObjectMapper.readTree` does with default settings: standard
/// JSON only, surrounding whitespace allowed, nothing after the value. Integers stay integers
/// (`-0` is `0`); numbers with a fraction or exponent are doubles. Integers beyond 64 bits
/// become doubles (Jackson would keep a BigInteger; serde_json cannot hold one).
pub(crate) fn parse_json(text: &str) -> Result<Value, String> {
    let mut p = JsonParser {
        s: text.as_bytes(),
        text,
        pos: 0,
    };
    p.ws();
    if p.pos == p.s.len() {
        return Err("no content to parse".to_string());
    }
    let v = p.value(0)?;
    p.ws();
    if p.pos != p.s.len() {
        return Err(p.err("unexpected content after the JSON value"));
    }
    Ok(v)
}

struct JsonParser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl JsonParser<'_> {
    fn err(&self, what: &str) -> String {
        format!("{what} at character {}", self.pos)
    }

    fn ws(&mut self) {
        while matches!(self.s.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn keyword(&mut self, word: &str, v: Value) -> Result<Value, String> {
        if self.s[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.err("unrecognized token"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        match self.s.get(self.pos) {
            None => Err(self.err("unexpected end of input")),
            Some(b'{') => {
                self.pos += 1;
                let mut map = Map::new();
                self.ws();
                if self.s.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    return Ok(Value::Object(map));
                }
                loop {
                    self.ws();
                    if self.s.get(self.pos) != Some(&b'"') {
                        return Err(self.err("expected a field name"));
                    }
                    let key = self.string()?;
                    self.ws();
                    if self.s.get(self.pos) != Some(&b':') {
                        return Err(self.err("expected ':'"));
                    }
                    self.pos += 1;
                    self.ws();
                    let v = self.value(depth + 1)?;
                    map.insert(key, v);
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Value::Object(map));
                        }
                        _ => return Err(self.err("expected ',' or '}'")),
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Value::Array(items));
                        }
                        _ => return Err(self.err("expected ',' or ']'")),
                    }
                }
            }
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b't') => self.keyword("true", Value::Bool(true)),
            Some(b'f') => self.keyword("false", Value::Bool(false)),
            Some(b'n') => self.keyword("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.s.get(self.pos), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.pos;
        if self.s.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        let n = self.digits();
        if n == 0 {
            return Err(self.err("expected a digit"));
        }
        if n > 1 && self.s[int_start] == b'0' {
            return Err(self.err("leading zeroes are not allowed"));
        }
        let mut float = false;
        if self.s.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.err("expected a digit after '.'"));
            }
            float = true;
        }
        if matches!(self.s.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.s.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("expected a digit in the exponent"));
            }
            float = true;
        }
        let lit = &self.text[start..self.pos];
        match number_from_literal(lit, float) {
            Value::Null => Err(self.err("number out of range")),
            v => Ok(v),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        // Find the closing quote, then let serde_json decode the escapes.
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.s.get(self.pos) {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => self.pos += 2,
                Some(c) if *c < 0x20 => return Err(self.err("unescaped control character")),
                Some(_) => self.pos += 1,
            }
        }
        let Some(lit) = self.text.get(start..self.pos) else {
            return Err(self.err("invalid string"));
        };
        serde_json::from_str::<String>(lit).map_err(|e| format!("invalid string: {e}"))
    }
}

/// A number literal (already checked to be valid JSON number syntax) as a value: an integer when
/// it has no fraction or exponent and fits in 64 bits, otherwise a double.
pub(crate) fn number_from_literal(lit: &str, float: bool) -> Value {
    if !float {
        if let Ok(i) = lit.parse::<i64>() {
            return Value::from(i);
        }
        if let Ok(u) = lit.parse::<u64>() {
            return Value::from(u);
        }
    }
    let f = lit.parse::<f64>().unwrap_or(0.0);
    Number::from_f64(f)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// `java.util.Random`: a 48-bit linear congruential generator.
#[derive(Debug, Clone)]
pub(crate) struct JavaRandom {
    seed: i64,
}

const MULTIPLIER: i64 = 0x5_DEEC_E66D;
const MASK: i64 = (1 << 48) - 1;

impl JavaRandom {
    /// `new Random(seed)`.
    pub(crate) fn new(seed: i64) -> Self {
        JavaRandom {
            seed: (seed ^ MULTIPLIER) & MASK,
        }
    }

    fn next(&mut self, bits: u32) -> i32 {
        self.seed = (self.seed.wrapping_mul(MULTIPLIER).wrapping_add(0xB)) & MASK;
        (self.seed >> (48 - bits)) as i32
    }

    /// `nextInt()`.
    pub(crate) fn next_int(&mut self) -> i32 {
        self.next(32)
    }

    /// `nextInt(bound)` for `bound > 0`.
    pub(crate) fn next_int_bounded(&mut self, bound: i32) -> i32 {
        debug_assert!(bound > 0);
        let mut r = self.next(31);
        let m = bound - 1;
        if bound & m == 0 {
            return ((bound as i64 * r as i64) >> 31) as i32;
        }
        let mut u = r;
        loop {
            r = u % bound;
            if u.wrapping_sub(r).wrapping_add(m) >= 0 {
                return r;
            }
            u = self.next(31);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn java_strings() {
        assert_eq!(
            to_java_string(&json!({"Id": "arn:x", "Name": "n"})),
            "{Id=arn:x, Name=n}"
        );
        assert_eq!(
            to_java_string(&json!({"Arg1": 1, "Arg2": []})),
            "{Arg1=1, Arg2=[]}"
        );
        assert_eq!(
            to_java_string(&json!([1, "a", null, true, 1.5])),
            "[1, a, null, true, 1.5]"
        );
        assert_eq!(to_java_string(&json!({})), "{}");
        assert_eq!(to_java_string(&json!(null)), "null");
    }

    #[test]
    fn doubles() {
        assert_eq!(format_double(1.1), "1.1");
        assert_eq!(format_double(1.0), "1.0");
        assert_eq!(format_double(-0.0), "-0.0");
        assert_eq!(format_double(0.001), "0.001");
        assert_eq!(format_double(0.0001), "1.0E-4");
        assert_eq!(format_double(1.5e-5), "1.5E-5");
        assert_eq!(format_double(1234567.5), "1234567.5");
        assert_eq!(format_double(1e7), "1.0E7");
        assert_eq!(format_double(1.2345e20), "1.2345E20");
        assert_eq!(format_double(-3e10), "-3.0E10");
        assert_eq!(format_double(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_double(9999999.999), "9999999.999");
        assert_eq!(format_double(100.0), "100.0");
    }

    #[test]
    fn json_text() {
        assert_eq!(
            to_json_text(&json!({"Arg1": 1, "Arg2": [], "s": "a\"b\\c\n\u{1}é"})),
            "{\"Arg1\":1,\"Arg2\":[],\"s\":\"a\\\"b\\\\c\\n\\u0001é\"}"
        );
        assert_eq!(to_json_text(&json!(1e20)), "1.0E20");
    }

    #[test]
    fn parse() {
        assert_eq!(parse_json("-0").unwrap(), json!(0));
        assert_eq!(to_json_text(&parse_json("-0").unwrap()), "0");
        assert_eq!(to_json_text(&parse_json("-0.0").unwrap()), "-0.0");
        assert_eq!(parse_json(" 1 ").unwrap(), json!(1));
        assert_eq!(parse_json("1.1").unwrap(), json!(1.1));
        assert_eq!(parse_json("true").unwrap(), json!(true));
        assert_eq!(
            parse_json("{\"b\": 1, \"a\": [1, 2, \"x\\u0041\"]}").unwrap(),
            json!({"b": 1, "a": [1, 2, "xA"]})
        );
        assert_eq!(
            parse_json("{\"b\":1,\"a\":2}")
                .unwrap()
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            vec!["b", "a"]
        );
        assert_eq!(parse_json("18446744073709551615").unwrap(), json!(u64::MAX));
        for bad in [
            "",
            " ",
            "01",
            "1.",
            "-",
            "[1,]",
            "{\"a\"}",
            "{'a':1}",
            "tru",
            "1 2",
            "\"a",
            "[",
            "{\"a\":1,}",
            "NaN",
            "\"\\x\"",
            ".5",
        ] {
            assert!(parse_json(bad).is_err(), "{bad:?} should not parse");
        }
        let deep = "[".repeat(10_000);
        assert!(parse_json(&deep).is_err());
    }

    #[test]
    fn java_random_matches_the_jdk() {
        // Values printed by OpenJDK 17.
        assert_eq!(JavaRandom::new(42).next_int(), -1_170_105_035);
        assert_eq!(JavaRandom::new(42).next_int_bounded(100), 30);
        // new Random(0).nextInt(10) == 0, then 8, 9, 7.
        let mut r = JavaRandom::new(0);
        let v: Vec<i32> = (0..4).map(|_| r.next_int_bounded(10)).collect();
        assert_eq!(v, vec![0, 8, 9, 7]);
        let mut r = JavaRandom::new(1);
        assert_eq!(r.next_int_bounded(16), 11);
        assert_eq!(r.next_int_bounded(999), 568);
        assert_eq!(JavaRandom::new(3).next_int_bounded(999), 239);
        assert_eq!(JavaRandom::new(-5).next_int_bounded(1_000_000), 319_411);
    }
}
