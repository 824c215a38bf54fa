//! Writing a state's output text from its input text.
//!
//! A Standard execution keeps every state's input and output as JSON text, and writing the
//! output text from the output value was the largest cost of a Pass state (about 40 %). When
//! the output is the input with one top-level field set (`"ResultPath": "$.name"`), the output
//! text is the input text with that field's value replaced, or the field appended: the
//! engine writes every document text itself, compact, with serde_json, so the input text
//! has a known form and only the new value needs writing. Where the fields' values lie in
//! the text (`Spans`) is found by one scan and then kept with the text from state to state,
//! so a chain of such states does not scan again.
//!
//! The result is byte for byte the text serde_json writes for the output value. Debug builds
//! check this on every use (`Execution::complete_state`), and the kept spans against a new
//! scan, so every test that runs a Standard execution checks both.

/// Where the values of an object text's top-level fields lie: (start, end) byte offsets, in
/// field order. A fiber keeps them with its document's text, so that a state that sets one
/// field finds it without scanning the text (the scan was a third of a Standard Pass chain).
pub(crate) type Spans = Vec<(u32, u32)>;

/// The value spans of the compact object text `text`, by scanning it; `None` when it is not
/// a compact JSON object.
pub(crate) fn spans_of(text: &str) -> Option<Spans> {
    let b = text.as_bytes();
    if b.first() != Some(&b'{') || b.last() != Some(&b'}') {
        return None;
    }
    let mut spans = Vec::new();
    if b.len() == 2 {
        return Some(spans);
    }
    let mut i = 1;
    loop {
        i = skip_string(b, i)?;
        if b.get(i) != Some(&b':') {
            return None;
        }
        i += 1;
        let start = i;
        i = skip_value(b, i)?;
        spans.push((u32::try_from(start).ok()?, u32::try_from(i).ok()?));
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'}') if i + 1 == b.len() => return Some(spans),
            _ => return None,
        }
    }
}

/// A field name that serde_json writes between quotes as it is (see [`needs_no_escape`]), so
/// that a splice can copy it into the text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlainName<'a>(&'a str);

impl<'a> PlainName<'a> {
    /// `name`, if serde_json writes it unescaped.
    pub fn new(name: &'a str) -> Option<Self> {
        needs_no_escape(name).then_some(PlainName(name))
    }

    /// `name`, checked already (by `JsonPath::parse`, once for every state that uses the
    /// path: the check on every splice was 2.5 % of a Standard Pass chain's instructions).
    pub fn checked(name: &'a str) -> Self {
        debug_assert!(needs_no_escape(name), "{name:?} needs escaping");
        PlainName(name)
    }

    /// The name.
    pub fn as_str(self) -> &'a str {
        self.0
    }
}

/// The text of the object `text` with its top-level field `name` set to the value whose text
/// `write` appends: replaced in place when the field is there, appended last otherwise (as
/// `JsonPath::set` does to the value). `spans` are the text's value spans, and `at` is the
/// field's position among the object's fields (`None`: it has no such field). `spans` is
/// updated to the result's. `None` when the spans do not fit the text or `write` fails; the
/// caller then writes the text from the value, and `spans` is not to be used.
///
/// The value's text is written straight into the result (`value_len` is a guess of its
/// length, for the buffer's size), so that a template's text is not written into a buffer of
/// its own first and then copied.
pub(crate) fn set_field_with(
    text: &str,
    spans: &mut Spans,
    at: Option<usize>,
    name: PlainName<'_>,
    value_len: usize,
    write: impl FnOnce(&mut String) -> Option<()>,
) -> Option<String> {
    let name = name.0;
    let mut out = String::with_capacity(text.len() + name.len() + value_len + 4);
    match at {
        Some(i) => {
            let (start, end) = *spans.get(i)?;
            out.push_str(text.get(..start as usize)?);
            write(&mut out)?;
            let len = u32::try_from(out.len() - start as usize).ok()?;
            out.push_str(text.get(end as usize..)?);
            let new_end = start.checked_add(len)?;
            spans[i].1 = new_end;
            // The fields after it move by the change in the value's length.
            for span in &mut spans[i + 1..] {
                span.0 = (span.0 + new_end).checked_sub(end)?;
                span.1 = (span.1 + new_end).checked_sub(end)?;
            }
        }
        None => {
            out.push_str(text.get(..text.len().checked_sub(1)?)?);
            if !spans.is_empty() {
                out.push(',');
            }
            out.push('"');
            out.push_str(name);
            out.push_str("\":");
            let start = u32::try_from(out.len()).ok()?;
            write(&mut out)?;
            let end = u32::try_from(out.len()).ok()?;
            out.push('}');
            spans.push((start, end));
        }
    }
    Some(out)
}

/// Whether serde_json writes `s` as a JSON string unchanged between quotes: it has no control
/// character, quote or backslash (serde_json escapes nothing else).
#[inline]
pub(crate) fn needs_no_escape(s: &str) -> bool {
    !s.bytes().any(|c| c < 0x20 || c == b'"' || c == b'\\')
}

/// Bytes a scan inside a string stops at: `"` and `\`.
const IN_STRING: u8 = 1;
/// Bytes a scan over an object or array stops at: `"` and the brackets.
const IN_CONTAINER: u8 = 2;
/// Which scans stop at each byte. Most bytes of a JSON text need no look, and one table
/// lookup a byte is the cheapest way to step over them.
static STOPS: [u8; 256] = {
    let mut t = [0; 256];
    t[b'"' as usize] = IN_STRING | IN_CONTAINER;
    t[b'\\' as usize] = IN_STRING;
    t[b'{' as usize] = IN_CONTAINER;
    t[b'}' as usize] = IN_CONTAINER;
    t[b'[' as usize] = IN_CONTAINER;
    t[b']' as usize] = IN_CONTAINER;
    t
};

/// The index just after the string that starts at `i`.
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    i += 1;
    loop {
        while STOPS[usize::from(*b.get(i)?)] & IN_STRING == 0 {
            i += 1;
        }
        if b[i] == b'"' {
            return Some(i + 1);
        }
        // A backslash and the byte it escapes.
        i += 2;
    }
}

/// The index just after the value that starts at `i`.
fn skip_value(b: &[u8], mut i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            loop {
                while STOPS[usize::from(*b.get(i)?)] & IN_CONTAINER == 0 {
                    i += 1;
                }
                match b[i] {
                    b'"' => i = skip_string(b, i)?,
                    b'{' | b'[' => {
                        depth += 1;
                        i += 1;
                    }
                    _ => {
                        depth -= 1;
                        i += 1;
                        if depth == 0 {
                            return Some(i);
                        }
                    }
                }
            }
        }
        // A number, true, false or null: up to the next separator.
        _ => {
            while !matches!(b.get(i), None | Some(b',' | b'}' | b']')) {
                i += 1;
            }
            Some(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{set_field_with, spans_of, PlainName};
    use serde_json::json;

    /// The field's position found in the text, then [`set_field_with`] with the value's text
    /// given whole; the spans it leaves must be those of its result.
    fn set_field(text: &str, name: &str, value: &str) -> Option<String> {
        let mut spans = spans_of(text)?;
        let doc: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text).ok()?;
        let at = doc.keys().position(|k| k == name);
        let name = PlainName::new(name)?;
        let out = set_field_with(text, &mut spans, at, name, value.len(), |out| {
            out.push_str(value);
            Some(())
        })?;
        assert_eq!(Some(spans), spans_of(&out), "spans of {out}");
        Some(out)
    }

    /// `set_field` gives serde_json's text of the value with the field set, for fields that
    /// are there (first, middle, last) or not, and values of every kind, including strings
    /// with quotes, backslashes, braces and commas that the scan must step over.
    #[test]
    fn set_field_writes_what_serde_json_writes() {
        let docs = [
            json!({}),
            json!({"a": 1}),
            json!({"a": "x\"}{,:[]\\", "b": {"c": [1, {"d": "]"}], "e": null}, "f": -1.5e-7}),
            json!({"s": "\u{1}\n\\\"", "t": true, "u": false, "v": [], "w": {}}),
            json!({"é": "ü", "last": {"order": "o-1", "step": 3}, "z": [[["deep"]]]}),
        ];
        let values = [
            json!(null),
            json!(0),
            json!("new, \"quoted\" }"),
            json!({"k": [1, 2, {"x": "}"}]}),
            json!([]),
        ];
        let names = ["a", "b", "f", "t", "w", "z", "last", "new", "é"];
        for doc in &docs {
            let text = serde_json::to_string(doc).unwrap();
            for name in names {
                for value in &values {
                    let mut expected = doc.clone();
                    expected[name] = value.clone();
                    let got = set_field(&text, name, &serde_json::to_string(value).unwrap());
                    assert_eq!(
                        got.as_deref(),
                        Some(serde_json::to_string(&expected).unwrap().as_str()),
                        "{name} = {value} in {text}"
                    );
                }
            }
        }
    }

    /// Names that serde_json escapes, and texts that are not objects, are left to the caller.
    #[test]
    fn set_field_declines_what_it_cannot_write() {
        let one = "1";
        assert_eq!(set_field(r#"{"a":1}"#, "q\"", one), None);
        assert_eq!(set_field(r#"{"a":1}"#, "back\\slash", one), None);
        assert_eq!(set_field(r#"{"a":1}"#, "tab\t", one), None);
        assert_eq!(set_field("[1,2]", "a", one), None);
        assert_eq!(set_field("\"text\"", "a", one), None);
        assert_eq!(set_field("", "a", one), None);
        assert_eq!(set_field("{\"a\":1", "a", one), None);
    }
}
