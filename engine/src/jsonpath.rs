//! JSONPath as Amazon States Language uses it.
//!
//! AWS evaluates paths with Jayway JsonPath (Java). Its semantics differ from RFC 9535 in ways
//! that show in execution output, so stepcheck has its own small evaluator:
//!
//! - A *definite* path (only names and single indices) selects one value or nothing; an
//!   *indefinite* path (wildcards, slices, unions, filters, deep scan) always yields an array,
//!   empty when nothing matches, even when a name on the way is missing.
//! - Three roots: `$` (the state's input), `$$` (the context object) and `$name` (a workflow
//!   variable, issue 5).
//! - Jayway's `length()` function on arrays, strings and objects.
//!
//! A path is parsed once, when the definition is loaded, and evaluated many times.

use serde_json::{Map, Value};
use std::fmt;

/// Where a path starts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathRoot {
    /// `$`: the value the path is applied to (usually the state input).
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable.
    Variable(String),
}

/// A syntax error in a JSONPath expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSONPath '{path}': {reason}")]
pub struct PathSyntaxError {
    /// The path as written.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    /// `.name` or `['name']`.
    Field(String),
    /// `[n]`; negative counts from the end, as in Jayway.
    Index(i64),
    /// `.*` or `[*]`.
    Wildcard,
    /// `[start:end:step]`.
    Slice(Option<i64>, Option<i64>, Option<i64>),
    /// `['a','b']`.
    Fields(Vec<String>),
    /// `[0,2]`.
    Indices(Vec<i64>),
    /// `..` followed by the segment to look for at every depth.
    Descendant(Box<Segment>),
    /// `[?(...)]`.
    Filter(Filter),
    /// `.length()`.
    Length,
}

/// A compiled JSONPath expression.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    source: String,
    root: PathRoot,
    segments: Vec<Segment>,
    definite: bool,
    /// Names and single indices only (see [`JsonPath::is_reference`]), worked out once: the
    /// step loop asks on every template field and Choice operand.
    reference: bool,
    /// One field, whose name serde_json writes unescaped (see
    /// [`JsonPath::single_plain_field`]).
    single_plain: bool,
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Objects up to this size are searched by comparing keys in order. serde_json's ordered map
/// hashes every looked-up key with SipHash, which costs more than a few comparisons of short
/// keys; the objects a workflow passes between states are mostly this small.
const LINEAR_LOOKUP_MAX: usize = 8;

/// The value of field `name` of `o`.
#[inline]
pub(crate) fn field<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if o.len() <= LINEAR_LOOKUP_MAX {
        o.iter().find(|(k, _)| same_key(k, name)).map(|(_, v)| v)
    } else {
        o.get(name)
    }
}

/// The value of field `name` of `o`, to change in place.
#[inline]
pub(crate) fn field_mut<'a>(o: &'a mut Map<String, Value>, name: &str) -> Option<&'a mut Value> {
    if o.len() <= LINEAR_LOOKUP_MAX {
        o.iter_mut()
            .find(|(k, _)| same_key(k, name))
            .map(|(_, v)| v)
    } else {
        o.get_mut(name)
    }
}

/// `a == b` for object keys, which are mostly short: keys of up to 16 bytes are compared in
/// two overlapping loads of each, in line, instead of through a call to the C library's
/// `bcmp` (about half the cost of a small template's key checks and of a field lookup).
#[inline(always)]
pub(crate) fn same_key(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let u64_at = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or([0; 8]));
    let u32_at = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().unwrap_or([0; 4]));
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => u32_at(a, 0) == u32_at(b, 0) && u32_at(a, n - 4) == u32_at(b, n - 4),
        8..=16 => u64_at(a, 0) == u64_at(b, 0) && u64_at(a, n - 8) == u64_at(b, n - 8),
        _ => a == b,
    }
}

impl JsonPath {
    /// Parses a path. Accepts `$`, `$$` and `$name` roots.
    pub fn parse(src: &str) -> Result<JsonPath, PathSyntaxError> {
        let mut p = Parser {
            src,
            bytes: src.as_bytes(),
            pos: 0,
        };
        let root = p.root()?;
        let mut segments = Vec::new();
        while p.pos < p.bytes.len() {
            segments.push(p.segment()?);
        }
        if let Some(i) = segments.iter().position(|s| *s == Segment::Length) {
            if i + 1 != segments.len() {
                return Err(p.err("length() must be the last part of the path"));
            }
        }
        let definite = segments
            .iter()
            .all(|s| matches!(s, Segment::Field(_) | Segment::Index(_) | Segment::Length));
        let reference = segments
            .iter()
            .all(|s| matches!(s, Segment::Field(_) | Segment::Index(_)));
        let single_plain = matches!(segments.as_slice(),
            [Segment::Field(name)] if crate::splice::PlainName::new(name).is_some());
        Ok(JsonPath {
            source: src.to_string(),
            root,
            segments,
            definite,
            reference,
            single_plain,
        })
    }

    /// The path as written in the definition.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Where the path starts.
    pub fn root(&self) -> &PathRoot {
        &self.root
    }

    /// True when the path names one location (Jayway's "definite" path).
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// True for a reference path: names and single indices only, usable as a ResultPath.
    pub fn is_reference(&self) -> bool {
        self.reference
    }

    /// True when the path is just its root (`$`, `$$`).
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// The path in Jayway's normalised bracket form (`$['a'][0]`), as AWS's "No results for
    /// path" messages show it.
    pub fn bracket_notation(&self) -> String {
        let mut out = match &self.root {
            PathRoot::Input => "$".to_string(),
            PathRoot::Context => "$$".to_string(),
            PathRoot::Variable(v) => format!("${v}"),
        };
        for seg in &self.segments {
            match seg {
                Segment::Field(n) => out.push_str(&format!("['{n}']")),
                Segment::Index(i) => out.push_str(&format!("[{i}]")),
                Segment::Wildcard => out.push_str("[*]"),
                Segment::Length => out.push_str(".length()"),
                _ => return self.source.clone(),
            }
        }
        out
    }

    /// Selects from `doc` (the value of the root). A definite path gives `None` when nothing
    /// is at that location; an indefinite path always gives an array of the matches.
    pub fn select(&self, doc: &Value) -> Option<Value> {
        if self.definite {
            let mut cur = doc;
            for seg in &self.segments {
                match seg {
                    Segment::Field(name) => cur = field(cur.as_object()?, name)?,
                    Segment::Index(i) => {
                        let arr = cur.as_array()?;
                        cur = arr.get(norm_index(*i, arr.len())?)?;
                    }
                    Segment::Length => return length(cur),
                    // `definite` is computed from the kinds above, so no other kind is here.
                    _ => return None,
                }
            }
            return Some(cur.clone());
        }
        let mut current: Vec<&Value> = vec![doc];
        let mut length_of_result = false;
        for seg in &self.segments {
            if *seg == Segment::Length {
                length_of_result = true;
                break;
            }
            let mut next = Vec::new();
            for v in current {
                apply(seg, v, doc, &mut next);
            }
            current = next;
        }
        let arr = Value::Array(current.into_iter().cloned().collect());
        if length_of_result {
            return length(&arr);
        }
        Some(arr)
    }

    /// Selects a definite path from `doc` without cloning. `None` when the path is not
    /// definite or nothing is there.
    pub fn select_ref<'a>(&self, doc: &'a Value) -> Option<&'a Value> {
        let mut cur = doc;
        for seg in &self.segments {
            match seg {
                Segment::Field(name) => cur = field(cur.as_object()?, name)?,
                Segment::Index(i) => {
                    let arr = cur.as_array()?;
                    cur = arr.get(norm_index(*i, arr.len())?)?;
                }
                _ => return None,
            }
        }
        Some(cur)
    }

    /// Like [`JsonPath::select`], but takes the selected part out of an owned document
    /// instead of copying it when the path is a reference path.
    pub fn take(&self, mut doc: Value) -> Option<Value> {
        if !self.is_reference() {
            return self.select(&doc);
        }
        let mut cur = &mut doc;
        for seg in &self.segments {
            match seg {
                Segment::Field(name) => cur = field_mut(cur.as_object_mut()?, name)?,
                Segment::Index(i) => {
                    let arr = cur.as_array_mut()?;
                    let k = norm_index(*i, arr.len())?;
                    cur = arr.get_mut(k)?;
                }
                _ => return None,
            }
        }
        Some(std::mem::take(cur))
    }

    /// [`JsonPath::single_field`], when serde_json writes the name unescaped: a Standard state
    /// with this ResultPath writes its output text by splicing the name into its input's.
    pub(crate) fn single_plain_field(&self) -> Option<crate::splice::PlainName<'_>> {
        if !self.single_plain {
            return None;
        }
        self.single_field().map(crate::splice::PlainName::checked)
    }

    /// The name of a path of one field (`$.name`), relative to its root.
    pub fn single_field(&self) -> Option<&str> {
        match self.segments.as_slice() {
            [Segment::Field(name)] => Some(name),
            _ => None,
        }
    }

    /// How much [`JsonPath::set`] can add to a document's JSON length bound besides the new
    /// value's own: per name, the name (as `json_len_bound` counts it: quotes, colon, comma
    /// and six bytes a character) and the braces of an object created for it.
    pub fn set_bound_overhead(&self) -> usize {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Field(name) => 6 + 6 * name.len(),
                _ => 0,
            })
            .sum()
    }

    /// Whether [`JsonPath::set`] would succeed on `doc`, without changing it: a missing
    /// field is created as an empty object, so only a later index into it fails.
    pub fn can_set(&self, doc: &Value) -> bool {
        let empty = Value::Object(Map::new());
        let mut cur = doc;
        for seg in &self.segments {
            match (seg, cur) {
                (Segment::Field(name), Value::Object(o)) => {
                    cur = field(o, name).unwrap_or(&empty);
                }
                (Segment::Index(idx), Value::Array(a)) => {
                    match norm_index(*idx, a.len()).filter(|k| *k < a.len()) {
                        Some(k) => cur = &a[k],
                        None => return false,
                    }
                }
                _ => return false,
            }
        }
        true
    }

    /// Writes `value` at this reference path inside `doc`, creating objects for missing names
    /// (ResultPath semantics). Fails when the path crosses a value that is not an object, or an
    /// index that is not there.
    /// Gives back the value it replaced (`null` for a field it created).
    pub fn set(&self, doc: &mut Value, value: Value) -> Result<Value, String> {
        let mut cur = doc;
        for (i, seg) in self.segments.iter().enumerate() {
            let last = i + 1 == self.segments.len();
            match seg {
                Segment::Field(name) => {
                    let obj = match cur {
                        Value::Object(o) => o,
                        other => {
                            return Err(format!(
                                "cannot set field '{name}' on a value of type {}",
                                type_name(other)
                            ))
                        }
                    };
                    if last {
                        // One look-up when the field is there, as it is for every state of a
                        // loop after its first.
                        if let Some(slot) = field_mut(obj, name) {
                            return Ok(std::mem::replace(slot, value));
                        }
                        obj.insert(name.clone(), value);
                        return Ok(Value::Null);
                    }
                    if field(obj, name).is_none() {
                        obj.insert(name.clone(), Value::Object(Map::new()));
                    }
                    let Some(slot) = field_mut(obj, name) else {
                        return Err(format!("cannot set field '{name}'"));
                    };
                    cur = slot;
                }
                Segment::Index(idx) => {
                    let arr = match cur {
                        Value::Array(a) => a,
                        other => {
                            return Err(format!(
                                "cannot index a value of type {}",
                                type_name(other)
                            ))
                        }
                    };
                    let Some(k) = norm_index(*idx, arr.len()).filter(|k| *k < arr.len()) else {
                        return Err(format!("index {idx} is out of bounds"));
                    };
                    if last {
                        return Ok(std::mem::replace(&mut arr[k], value));
                    }
                    cur = &mut arr[k];
                }
                _ => return Err("not a reference path".to_string()),
            }
        }
        Ok(std::mem::replace(cur, value))
    }
}

fn length(v: &Value) -> Option<Value> {
    match v {
        Value::Array(a) => Some(Value::from(a.len())),
        Value::String(s) => Some(Value::from(s.chars().count())),
        Value::Object(o) => Some(Value::from(o.len())),
        _ => None,
    }
}

/// The type name AWS uses in messages about JSON values.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn norm_index(i: i64, len: usize) -> Option<usize> {
    if i >= 0 {
        Some(i as usize)
    } else {
        let k = len as i64 + i;
        (k >= 0).then_some(k as usize)
    }
}

fn apply<'a>(seg: &Segment, v: &'a Value, root: &'a Value, out: &mut Vec<&'a Value>) {
    match seg {
        Segment::Field(name) => {
            if let Some(x) = v.as_object().and_then(|o| field(o, name)) {
                out.push(x);
            }
        }
        Segment::Fields(names) => {
            if let Some(o) = v.as_object() {
                out.extend(names.iter().filter_map(|n| field(o, n)));
            }
        }
        Segment::Index(i) => {
            if let Some(a) = v.as_array() {
                if let Some(x) = norm_index(*i, a.len()).and_then(|k| a.get(k)) {
                    out.push(x);
                }
            }
        }
        Segment::Indices(is) => {
            if let Some(a) = v.as_array() {
                for i in is {
                    if let Some(x) = norm_index(*i, a.len()).and_then(|k| a.get(k)) {
                        out.push(x);
                    }
                }
            }
        }
        Segment::Wildcard => match v {
            Value::Array(a) => out.extend(a.iter()),
            Value::Object(o) => out.extend(o.values()),
            _ => {}
        },
        Segment::Slice(start, end, step) => {
            if let Some(a) = v.as_array() {
                let len = a.len() as i64;
                let step = step.unwrap_or(1);
                if step <= 0 {
                    return;
                }
                let clamp = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                let s = start.map(clamp).unwrap_or(0);
                let e = end.map(clamp).unwrap_or(len);
                let mut k = s;
                while k < e {
                    out.push(&a[k as usize]);
                    k += step;
                }
            }
        }
        Segment::Descendant(inner) => descend(inner, v, root, out),
        Segment::Filter(f) => match v {
            Value::Array(a) => out.extend(a.iter().filter(|x| f.test(x, root))),
            Value::Object(o) => {
                // Jayway applies a filter on an object to the object itself.
                if f.test(v, root) {
                    out.push(v);
                } else {
                    let _ = o;
                }
            }
            _ => {}
        },
        Segment::Length => {}
    }
}

fn descend<'a>(inner: &Segment, v: &'a Value, root: &'a Value, out: &mut Vec<&'a Value>) {
    apply(inner, v, root, out);
    match v {
        Value::Array(a) => a.iter().for_each(|x| descend(inner, x, root, out)),
        Value::Object(o) => o.values().for_each(|x| descend(inner, x, root, out)),
        _ => {}
    }
}

/// A filter expression `[?(...)]`.
#[derive(Debug, Clone, PartialEq)]
enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// A bare operand: true when the path exists (or the literal is truthy).
    Exists(Operand),
    Compare(Operand, CmpOp, Operand),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    /// `@...`: relative to the current item.
    Current(Vec<Segment>),
    /// `$...`: from the document root.
    Root(Vec<Segment>),
    Literal(Value),
}

impl Filter {
    fn test(&self, item: &Value, root: &Value) -> bool {
        match self {
            Filter::Or(a, b) => a.test(item, root) || b.test(item, root),
            Filter::And(a, b) => a.test(item, root) && b.test(item, root),
            Filter::Not(a) => !a.test(item, root),
            Filter::Exists(op) => match op {
                Operand::Literal(v) => !matches!(v, Value::Null | Value::Bool(false)),
                _ => op.eval(item, root).is_some(),
            },
            Filter::Compare(l, op, r) => {
                let (Some(a), Some(b)) = (l.eval(item, root), r.eval(item, root)) else {
                    return false;
                };
                compare(&a, *op, &b)
            }
        }
    }
}

impl Operand {
    fn eval(&self, item: &Value, root: &Value) -> Option<Value> {
        let (start, segs) = match self {
            Operand::Literal(v) => return Some(v.clone()),
            Operand::Current(s) => (item, s),
            Operand::Root(s) => (root, s),
        };
        let mut cur = vec![start];
        let mut definite = true;
        for seg in segs {
            if *seg == Segment::Length {
                return if definite {
                    cur.first().and_then(|v| length(v))
                } else {
                    Some(Value::from(cur.len()))
                };
            }
            definite &= matches!(seg, Segment::Field(_) | Segment::Index(_));
            let mut next = Vec::new();
            for v in cur {
                apply(seg, v, root, &mut next);
            }
            cur = next;
        }
        if definite {
            cur.first().map(|v| (*v).clone())
        } else {
            Some(Value::Array(cur.into_iter().cloned().collect()))
        }
    }
}

fn compare(a: &Value, op: CmpOp, b: &Value) -> bool {
    use std::cmp::Ordering;
    let ord = match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64().partial_cmp(&y.as_f64()),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => {
            return match op {
                CmpOp::Eq => a == b,
                CmpOp::Ne => a != b,
                _ => false,
            }
        }
    };
    match (op, ord) {
        (CmpOp::Eq, Some(o)) => o == Ordering::Equal,
        (CmpOp::Ne, Some(o)) => o != Ordering::Equal,
        (CmpOp::Lt, Some(o)) => o == Ordering::Less,
        (CmpOp::Le, Some(o)) => o != Ordering::Greater,
        (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
        (CmpOp::Ge, Some(o)) => o != Ordering::Less,
        (CmpOp::Ne, None) => true,
        _ => false,
    }
}

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, reason: &str) -> PathSyntaxError {
        PathSyntaxError {
            path: self.src.to_string(),
            reason: format!("{reason} (at character {})", self.pos),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn root(&mut self) -> Result<PathRoot, PathSyntaxError> {
        if !self.eat(b'$') {
            return Err(self.err("a path must start with '$'"));
        }
        if self.eat(b'$') {
            return Ok(PathRoot::Context);
        }
        let name = self.name();
        if name.is_empty() {
            Ok(PathRoot::Input)
        } else {
            Ok(PathRoot::Variable(name.to_string()))
        }
    }

    /// A dot-notation name: anything up to the next `.`, `[`, or the end. Jayway allows most
    /// characters here (including spaces and dashes), and so does AWS.
    fn name(&mut self) -> &str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == b'.' || c == b'[' || (c == b'(' && &self.bytes[start..self.pos] == b"length") {
                break;
            }
            self.pos += 1;
        }
        &self.src[start..self.pos]
    }

    fn segment(&mut self) -> Result<Segment, PathSyntaxError> {
        match self.peek() {
            Some(b'.') => {
                self.pos += 1;
                if self.eat(b'.') {
                    let inner = match self.peek() {
                        Some(b'[') => self.bracket()?,
                        Some(b'*') => {
                            self.pos += 1;
                            Segment::Wildcard
                        }
                        _ => {
                            let n = self.name();
                            if n.is_empty() {
                                return Err(self.err("expected a name after '..'"));
                            }
                            Segment::Field(n.to_string())
                        }
                    };
                    return Ok(Segment::Descendant(Box::new(inner)));
                }
                if self.eat(b'*') {
                    return Ok(Segment::Wildcard);
                }
                if self.peek() == Some(b'[') {
                    return Err(self.err("unexpected '[' after '.'"));
                }
                let n = self.name().to_string();
                if n.is_empty() {
                    return Err(self.err("expected a name after '.'"));
                }
                if n == "length" && self.peek() == Some(b'(') {
                    self.pos += 1;
                    if !self.eat(b')') {
                        return Err(self.err("expected ')' after 'length('"));
                    }
                    return Ok(Segment::Length);
                }
                Ok(Segment::Field(n))
            }
            Some(b'[') => self.bracket(),
            _ => Err(self.err("expected '.' or '['")),
        }
    }

    fn bracket(&mut self) -> Result<Segment, PathSyntaxError> {
        self.pos += 1; // '['
        self.skip_ws();
        let seg = match self.peek() {
            Some(b'*') => {
                self.pos += 1;
                Segment::Wildcard
            }
            Some(b'\'' | b'"') => {
                let mut names = vec![self.quoted()?];
                self.skip_ws();
                while self.eat(b',') {
                    self.skip_ws();
                    names.push(self.quoted()?);
                    self.skip_ws();
                }
                if names.len() == 1 {
                    Segment::Field(names.pop().unwrap_or_default())
                } else {
                    Segment::Fields(names)
                }
            }
            Some(b'?') => {
                self.pos += 1;
                self.skip_ws();
                if !self.eat(b'(') {
                    return Err(self.err("expected '(' after '?'"));
                }
                let f = self.filter_or()?;
                self.skip_ws();
                if !self.eat(b')') {
                    return Err(self.err("expected ')' to close the filter"));
                }
                Segment::Filter(f)
            }
            _ => self.index_or_slice()?,
        };
        self.skip_ws();
        if !self.eat(b']') {
            return Err(self.err("expected ']'"));
        }
        Ok(seg)
    }

    fn int(&mut self) -> Option<i64> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        let s = &self.src[start..self.pos];
        if s.is_empty() || s == "-" {
            self.pos = start;
            return None;
        }
        s.parse().ok()
    }

    fn index_or_slice(&mut self) -> Result<Segment, PathSyntaxError> {
        let first = self.int();
        self.skip_ws();
        if self.peek() == Some(b':') {
            self.pos += 1;
            self.skip_ws();
            let end = self.int();
            self.skip_ws();
            let step = if self.eat(b':') {
                self.skip_ws();
                self.int()
            } else {
                None
            };
            return Ok(Segment::Slice(first, end, step));
        }
        let Some(first) = first else {
            return Err(self.err("expected an index, a slice, '*', a quoted name or a filter"));
        };
        let mut idx = vec![first];
        while self.eat(b',') {
            self.skip_ws();
            idx.push(self.int().ok_or_else(|| self.err("expected an index"))?);
            self.skip_ws();
        }
        Ok(if idx.len() == 1 {
            Segment::Index(first)
        } else {
            Segment::Indices(idx)
        })
    }

    fn quoted(&mut self) -> Result<String, PathSyntaxError> {
        let q = self.peek().ok_or_else(|| self.err("expected a quote"))?;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.src[self.pos..].chars().next() else {
                return Err(self.err("unterminated string"));
            };
            self.pos += c.len_utf8();
            if c as u32 == q as u32 {
                return Ok(out);
            }
            if c == '\\' {
                let Some(n) = self.src[self.pos..].chars().next() else {
                    return Err(self.err("unterminated string"));
                };
                self.pos += n.len_utf8();
                out.push(n);
            } else {
                out.push(c);
            }
        }
    }

    fn filter_or(&mut self) -> Result<Filter, PathSyntaxError> {
        let mut l = self.filter_and()?;
        loop {
            self.skip_ws();
            if self.src[self.pos..].starts_with("||") {
                self.pos += 2;
                let r = self.filter_and()?;
                l = Filter::Or(Box::new(l), Box::new(r));
            } else {
                return Ok(l);
            }
        }
    }

    fn filter_and(&mut self) -> Result<Filter, PathSyntaxError> {
        let mut l = self.filter_unary()?;
        loop {
            self.skip_ws();
            if self.src[self.pos..].starts_with("&&") {
                self.pos += 2;
                let r = self.filter_unary()?;
                l = Filter::And(Box::new(l), Box::new(r));
            } else {
                return Ok(l);
            }
        }
    }

    fn filter_unary(&mut self) -> Result<Filter, PathSyntaxError> {
        self.skip_ws();
        if self.peek() == Some(b'!') && self.bytes.get(self.pos + 1) != Some(&b'=') {
            self.pos += 1;
            return Ok(Filter::Not(Box::new(self.filter_unary()?)));
        }
        if self.eat(b'(') {
            let f = self.filter_or()?;
            self.skip_ws();
            if !self.eat(b')') {
                return Err(self.err("expected ')'"));
            }
            return Ok(f);
        }
        let l = self.operand()?;
        self.skip_ws();
        let rest = &self.src[self.pos..];
        let op = [
            ("==", CmpOp::Eq),
            ("!=", CmpOp::Ne),
            ("<=", CmpOp::Le),
            (">=", CmpOp::Ge),
            ("<", CmpOp::Lt),
            (">", CmpOp::Gt),
        ]
        .into_iter()
        .find(|(t, _)| rest.starts_with(t));
        let Some((tok, op)) = op else {
            if rest.starts_with("=~") || rest.starts_with(" in ") || rest.starts_with("in ") {
                return Err(self.err("not supported yet: this filter operator"));
            }
            return Ok(Filter::Exists(l));
        };
        self.pos += tok.len();
        self.skip_ws();
        let r = self.operand()?;
        Ok(Filter::Compare(l, op, r))
    }

    fn operand(&mut self) -> Result<Operand, PathSyntaxError> {
        self.skip_ws();
        match self.peek() {
            Some(b'@') => {
                self.pos += 1;
                Ok(Operand::Current(self.filter_segments()?))
            }
            Some(b'$') => {
                self.pos += 1;
                Ok(Operand::Root(self.filter_segments()?))
            }
            Some(b'\'' | b'"') => Ok(Operand::Literal(Value::String(self.quoted()?))),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                self.pos += 1;
                while matches!(
                    self.peek(),
                    Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                ) {
                    self.pos += 1;
                }
                let text = &self.src[start..self.pos];
                serde_json::from_str::<Value>(text)
                    .map(Operand::Literal)
                    .map_err(|_| self.err("invalid number"))
            }
            _ => {
                for (word, v) in [
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                    ("null", Value::Null),
                ] {
                    if self.src[self.pos..].starts_with(word) {
                        self.pos += word.len();
                        return Ok(Operand::Literal(v));
                    }
                }
                Err(self.err("expected '@', '$' or a literal in the filter"))
            }
        }
    }

    /// Segments of a path inside a filter: stops at an operator, a space or a closing paren.
    fn filter_segments(&mut self) -> Result<Vec<Segment>, PathSyntaxError> {
        let mut segs = Vec::new();
        loop {
            match self.peek() {
                Some(b'[') => segs.push(self.bracket()?),
                Some(b'.') => {
                    self.pos += 1;
                    if self.eat(b'*') {
                        segs.push(Segment::Wildcard);
                        continue;
                    }
                    let start = self.pos;
                    while let Some(c) = self.peek() {
                        if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c >= 0x80 {
                            self.pos += 1;
                        } else {
                            break;
                        }
                    }
                    let n = self.src[start..self.pos].to_string();
                    if n.is_empty() {
                        return Err(self.err("expected a name after '.'"));
                    }
                    if n == "length" && self.src[self.pos..].starts_with("()") {
                        self.pos += 2;
                        segs.push(Segment::Length);
                    } else {
                        segs.push(Segment::Field(n));
                    }
                }
                _ => return Ok(segs),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::JsonPath;

    /// Only a one-field path whose name serde_json writes as it is may be spliced into a
    /// text: a name with a quote, a backslash or a control character, or a longer path, is
    /// left to the general path (which writes the whole output text).
    #[test]
    fn single_plain_fields_are_one_unescaped_name() {
        let plain = |src: &str| {
            JsonPath::parse(src)
                .unwrap()
                .single_plain_field()
                .map(|n| n.as_str().to_string())
        };
        assert_eq!(plain("$.last").as_deref(), Some("last"));
        assert_eq!(plain("$['with space']").as_deref(), Some("with space"));
        assert_eq!(plain("$['q\"uote']"), None);
        // `\\` in the path is one backslash in the name.
        assert_eq!(plain(r"$['back\\slash']"), None);
        assert_eq!(plain("$['tab\t']"), None);
        assert_eq!(plain("$.a.b"), None);
        assert_eq!(plain("$"), None);
        assert_eq!(plain("$[0]"), None);
    }

    #[test]
    fn same_key_is_string_equality() {
        // Every length up to past the in-line limit, with a difference at every position.
        for n in 0..=20usize {
            let a: String = (0..n).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            assert!(super::same_key(&a, &a.clone()), "{a}");
            for at in 0..n {
                let mut b = a.clone().into_bytes();
                b[at] = b'Z';
                let b = String::from_utf8(b).unwrap();
                assert!(!super::same_key(&a, &b), "{a} vs {b}");
            }
            let longer = format!("{a}x");
            assert!(!super::same_key(&a, &longer));
        }
        assert!(super::same_key("é", "é"));
        assert!(!super::same_key("é", "è"));
    }

    use super::*;
    use serde_json::json;

    fn sel(p: &str, v: Value) -> Option<Value> {
        JsonPath::parse(p).unwrap().select(&v)
    }

    #[test]
    fn roots() {
        assert_eq!(JsonPath::parse("$").unwrap().root(), &PathRoot::Input);
        assert_eq!(JsonPath::parse("$$.a").unwrap().root(), &PathRoot::Context);
        assert_eq!(
            JsonPath::parse("$x.y").unwrap().root(),
            &PathRoot::Variable("x".into())
        );
        assert!(JsonPath::parse("a.b").is_err());
    }

    #[test]
    fn definite_paths() {
        let doc = json!({"a": {"b": [1, 2, {"c": "x"}]}, "sp ace": 1});
        assert_eq!(sel("$.a.b[2].c", doc.clone()), Some(json!("x")));
        assert_eq!(sel("$['a']['b'][0]", doc.clone()), Some(json!(1)));
        assert_eq!(sel("$.a.b[-1].c", doc.clone()), Some(json!("x")));
        assert_eq!(sel("$.sp ace", doc.clone()), Some(json!(1)));
        assert_eq!(sel("$.a.missing", doc.clone()), None);
        assert_eq!(sel("$.a.b[10]", doc.clone()), None);
        assert_eq!(sel("$.a.b.length()", doc.clone()), Some(json!(3)));
        assert!(JsonPath::parse("$.a.b[0]").unwrap().is_reference());
    }

    #[test]
    fn indefinite_paths_give_arrays() {
        let doc = json!({"items": [{"v": 1}, {"v": 2}, {"v": 3}, {"w": 4}]});
        assert_eq!(sel("$.items[*].v", doc.clone()), Some(json!([1, 2, 3])));
        assert_eq!(sel("$.items[1:3].v", doc.clone()), Some(json!([2, 3])));
        assert_eq!(
            sel("$.items[-2:]", doc.clone()),
            Some(json!([{"v": 3}, {"w": 4}]))
        );
        assert_eq!(sel("$.items[0,2].v", doc.clone()), Some(json!([1, 3])));
        assert_eq!(sel("$..v", doc.clone()), Some(json!([1, 2, 3])));
        assert_eq!(sel("$.nothing[*]", doc.clone()), Some(json!([])));
        assert_eq!(sel("$[*]", json!({})), Some(json!([])));
        assert_eq!(sel("$.items[::2].v", doc.clone()), Some(json!([1, 3])));
    }

    #[test]
    fn filters() {
        let doc =
            json!({"users": [{"year": 1997, "status": 0}, {"year": 1998, "status": 1, "n": "b"}]});
        assert_eq!(
            sel("$.users[?(@.status == 0)]", doc.clone()),
            Some(json!([{"year": 1997, "status": 0}]))
        );
        assert_eq!(
            sel("$.users[?(@.year > 1997)].year", doc.clone()),
            Some(json!([1998]))
        );
        assert_eq!(sel("$.users[?(@.n)].n", doc.clone()), Some(json!(["b"])));
        assert_eq!(
            sel("$.users[?(@.n == 'b' || @.status == 0)].year", doc.clone()),
            Some(json!([1997, 1998]))
        );
        assert_eq!(
            sel(
                "$.users[?(@.year >= 1997 && @.status != 1)].year",
                doc.clone()
            ),
            Some(json!([1997]))
        );
    }

    #[test]
    fn set_creates_missing_objects() {
        let mut doc = json!({"a": 1});
        JsonPath::parse("$.b.c")
            .unwrap()
            .set(&mut doc, json!(2))
            .unwrap();
        assert_eq!(doc, json!({"a": 1, "b": {"c": 2}}));
        let mut doc = json!({"a": 1});
        assert!(JsonPath::parse("$.a.c")
            .unwrap()
            .set(&mut doc, json!(2))
            .is_err());
        let mut doc = json!({"a": [0, 1]});
        JsonPath::parse("$.a[1]")
            .unwrap()
            .set(&mut doc, json!(9))
            .unwrap();
        assert_eq!(doc, json!({"a": [0, 9]}));
    }

    #[test]
    fn syntax_errors_do_not_panic() {
        for bad in [
            "",
            "$.",
            "$[",
            "$[?(@.a ==)]",
            "$.a[1",
            "$..",
            "$['a",
            "$.length().a",
            "x",
        ] {
            assert!(JsonPath::parse(bad).is_err(), "{bad}");
        }
    }
}
