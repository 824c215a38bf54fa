//! Parsing the definition text into a `serde_json::Value`, keeping duplicate keys visible.
//!
//! serde_json (like Jackson's default) lets a repeated key overwrite the earlier one. A
//! definition that repeats a state name inside one `States` object must still be reported as a
//! DUPLICATE_STATE_NAME, so the parser keeps the earlier value under a sentinel key that the
//! validator recognises (and skips everywhere else).

use crate::diagnostics::{Diagnostic, DiagnosticCode};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Prefix of the key under which an overwritten duplicate key's earlier value is kept.
const DUP_PREFIX: &str = "\u{0}stepcheck-duplicate-key\u{0}";

/// The duplicated key's real name when `key` is a sentinel for an overwritten duplicate.
pub(super) fn duplicate_of(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(DUP_PREFIX)?;
    rest.split_once('\u{0}').map(|(_, name)| name)
}

/// The entries of an object, without the sentinels of overwritten duplicate keys.
pub(super) fn entries(obj: &Map<String, Value>) -> impl Iterator<Item = (&str, &Value)> {
    obj.iter()
        .filter(|(k, _)| !k.starts_with(DUP_PREFIX))
        .map(|(k, v)| (k.as_str(), v))
}

/// Jackson's source description limit: longer inputs are cut and marked `[truncated N chars]`.
const JACKSON_SOURCE_LIMIT: usize = 500;

/// Parses the definition. Errors are returned as the single diagnostic AWS gives for them.
pub(super) fn parse(text: &str) -> Result<Value, Diagnostic> {
    if text.is_empty() {
        // Assumption: AWS documents MISSING_DESCRIPTION as "Received a null or empty workflow
        // input."; the API itself refuses an empty definition before validating it.
        return Err(Diagnostic::error(
            DiagnosticCode::MissingDescription,
            "",
            "Received a null or empty workflow input.",
        ));
    }
    if text.trim().is_empty() {
        // Measured (LocalStack's AWS snapshot of validate-state-machine-definition with " "):
        // SCHEMA_VALIDATION_FAILED, no location.
        return Err(not_an_object());
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = DupValue::deserialize(&mut de).and_then(|v| de.end().map(|()| v.0));
    parsed.map_err(|e| {
        // AWS parses with Jackson and reports its message and "[Source: ...; line, column]"
        // (measured: "Unrecognized token 'not': ...\n at [Source: (String)\"not a
        // definition\"; line: 1, column: 4]" located at the bracketed source). The wording of
        // the message is serde_json's; the location has Jackson's shape.
        let full = e.to_string();
        let message = match full.rfind(" at line ") {
            Some(i) => &full[..i],
            None => full.as_str(),
        };
        // Jackson's column is the position after the offending character; serde_json's is the
        // character itself.
        let location = jackson_source(text, e.line(), e.column() + 1);
        Diagnostic::error(
            DiagnosticCode::InvalidJsonDescription,
            location.clone(),
            format!("{message}\n at {location}"),
        )
    })
}

/// The diagnostic for text that is JSON but not an object (and for blank text).
pub(super) fn not_an_object() -> Diagnostic {
    Diagnostic::error(
        DiagnosticCode::SchemaValidationFailed,
        "",
        "Definition must be a valid JSON object",
    )
}

fn jackson_source(text: &str, line: usize, column: usize) -> String {
    let total = text.chars().count();
    let shown: String = text.chars().take(JACKSON_SOURCE_LIMIT).collect();
    let cut = if total > JACKSON_SOURCE_LIMIT {
        format!("[truncated {} chars]", total - JACKSON_SOURCE_LIMIT)
    } else {
        String::new()
    };
    format!("[Source: (String)\"{shown}\"{cut}; line: {line}, column: {column}]")
}

/// A `Value` deserialized so that a repeated object key keeps its earlier value under a
/// sentinel key.
struct DupValue(Value);

impl<'de> Deserialize<'de> for DupValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DupVisitor).map(DupValue)
    }
}

struct DupVisitor;

impl<'de> Visitor<'de> for DupVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::from(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(Value::from(u))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Number::from_f64(f).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        DupValue::deserialize(d).map(|v| v.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(DupValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        let mut duplicates = 0usize;
        while let Some(key) = map.next_key::<String>()? {
            let DupValue(value) = map.next_value()?;
            if let Some(earlier) = out.insert(key.clone(), value) {
                duplicates += 1;
                out.insert(format!("{DUP_PREFIX}{duplicates}\u{0}{key}"), earlier);
            }
        }
        Ok(Value::Object(out))
    }
}
