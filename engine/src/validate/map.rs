//! The Map state's configuration objects: `ProcessorConfig`, `ItemReader`, `ItemBatcher`,
//! `ResultWriter` and `Label`.

use super::ctx::{loc, msg, Ctx};
use super::json;
use super::paths::{self, Roots};
use crate::diagnostics::DiagnosticCode;
use serde_json::Value;

/// An ItemProcessor's `ProcessorConfig`: `Mode` INLINE (default) or DISTRIBUTED, and
/// `ExecutionType` STANDARD or EXPRESS, required in DISTRIBUTED mode and refused in INLINE mode
/// (reported by cdk-preflight: "These fields are required: [ExecutionType]", "Field
/// 'ExecutionType' is not supported", "Value should be one of the following: [STANDARD,
/// EXPRESS]").
pub(super) fn processor_config(cx: &mut Ctx, v: &Value, at: &str) {
    let Some(obj) = cx.object(v, at) else {
        return;
    };
    let mut mode = None;
    for (k, x) in json::entries(obj) {
        let fat = loc::field(at, k);
        match k {
            "Mode" => mode = cx.enumeration(x, &fat, &["INLINE", "DISTRIBUTED"]),
            "ExecutionType" => {
                cx.enumeration(x, &fat, &["STANDARD", "EXPRESS"]);
            }
            _ => cx.schema(at, msg::not_supported(k)),
        }
    }
    let has_type = obj.contains_key("ExecutionType");
    let mode_given = obj.contains_key("Mode");
    match mode.as_deref() {
        Some("DISTRIBUTED") if !has_type => cx.schema(at, msg::required(&["ExecutionType"])),
        Some("INLINE") if has_type => cx.schema(at, msg::not_supported("ExecutionType")),
        None if !mode_given && has_type => cx.schema(at, msg::not_supported("ExecutionType")),
        _ => {}
    }
}

/// The `Parameters` (JSONPath) or `Arguments` (JSONata) of an ItemReader or ResultWriter.
/// Measured: the one of the other language is refused at its own location
/// (`/States/M/ResultWriter/Parameters` in a JSONata machine).
fn destination(cx: &mut Ctx, k: &str, v: &Value, at: &str, jsonata: bool) {
    match (k, jsonata) {
        ("Parameters", false) => paths::payload_object(cx, v, at),
        ("Arguments", true) => cx.object_or_expr(v, at, jsonata),
        _ => cx.schema(at, msg::language_mismatch(jsonata, k)),
    }
}

/// True for `arn:<partition>:states:::<service_action>`.
fn is_states_arn(s: &str, service_actions: &[&str]) -> bool {
    let Some(rest) = s.strip_prefix("arn:") else {
        return false;
    };
    let Some((partition, rest)) = rest.split_once(':') else {
        return false;
    };
    !partition.is_empty()
        && rest
            .strip_prefix("states:::")
            .is_some_and(|action| service_actions.contains(&action))
}

/// A Map's `ItemReader`. Measured locations: `.../ItemReader/Resource` for an unsupported
/// resource, `.../ItemReader/ReaderConfig/InputType` for an unsupported input type (floci; the
/// wordings follow floci's, in the pattern of AWS's "The field 'Type' should have one of these
/// values").
pub(super) fn item_reader(cx: &mut Ctx, v: &Value, at: &str, jsonata: bool) {
    let Some(obj) = cx.object(v, at) else {
        return;
    };
    for (k, x) in json::entries(obj) {
        let fat = loc::field(at, k);
        match k {
            "Resource" => {
                if let Some(s) = cx.nonempty_string("Resource", x, &fat) {
                    if !is_states_arn(s, &["s3:getObject", "s3:listObjectsV2"]) {
                        cx.schema(
                            fat,
                            "The field 'Resource' does not match any of the allowed values. Examples: \
                             [arn:<partition>:states:::s3:getObject, arn:<partition>:states:::s3:listObjectsV2]",
                        );
                    }
                }
            }
            "ReaderConfig" => {
                if let Some(config) = cx.object(x, &fat) {
                    if let Some(t) = config.get("InputType") {
                        let tat = loc::field(&fat, "InputType");
                        let types = ["MANIFEST", "JSON", "CSV", "JSONL", "PARQUET"];
                        match t {
                            Value::String(s) if types.contains(&s.as_str()) => {}
                            Value::String(_) => {
                                cx.schema(tat, msg::field_one_of("InputType", &types))
                            }
                            _ => cx.schema(tat, msg::expected("STRING")),
                        }
                    }
                    reader_config(cx, config, &fat, jsonata);
                }
            }
            "Parameters" | "Arguments" => destination(cx, k, x, &fat, jsonata),
            _ => cx.schema(at, msg::not_supported(k)),
        }
    }
    if !obj.contains_key("Resource") {
        cx.schema(at, msg::required(&["Resource"]));
    }
}

/// The rest of an ItemReader's `ReaderConfig`. Fields not listed here are left alone (AWS adds
/// reader options over time). `MaxItems`: AWS's linter accepts integers from 0 to 100000000
/// (LocalStack's AWS-validated tests: "Linter on creation filters for valid input integers
/// (0 - 100000000)"). Assumption: the wordings and locations follow the other Map fields', and
/// `MaxItems` with `MaxItemsPath` is refused as the other `X`/`XPath` pairs are.
fn reader_config(cx: &mut Ctx, config: &serde_json::Map<String, Value>, at: &str, jsonata: bool) {
    for (k, x) in json::entries(config) {
        let fat = loc::field(at, k);
        match k {
            "CSVHeaderLocation" => {
                cx.enumeration(x, &fat, &["FIRST_ROW", "GIVEN"]);
            }
            "CSVDelimiter" => {
                cx.enumeration(x, &fat, &["COMMA", "PIPE", "SEMICOLON", "SPACE", "TAB"]);
            }
            "CSVHeaders" => {
                if let Some(headers) = cx.array(x, &fat) {
                    for (i, h) in headers.iter().enumerate() {
                        cx.string(h, &loc::index(&fat, i));
                    }
                }
            }
            "MaxItems" => cx.integer_or_expr(x, &fat, jsonata, 0, Some(100_000_000)),
            "MaxItemsPath" if !jsonata => paths::reference_path(cx, x, &fat, false, Roots::Any),
            "MaxItemsPath" => cx.schema(at, msg::language_mismatch(jsonata, k)),
            _ => {}
        }
    }
    if config.contains_key("MaxItems") && config.contains_key("MaxItemsPath") {
        cx.error(
            DiagnosticCode::MutuallyExclusiveFields,
            at,
            msg::only_one_present(&["MaxItems", "MaxItemsPath"]),
        );
    }
}

/// A Map's `ItemBatcher`.
pub(super) fn item_batcher(cx: &mut Ctx, v: &Value, at: &str, jsonata: bool) {
    let Some(obj) = cx.object(v, at) else {
        return;
    };
    for (k, x) in json::entries(obj) {
        let fat = loc::field(at, k);
        match k {
            "MaxItemsPerBatch" | "MaxInputBytesPerBatch" => {
                cx.integer_or_expr(x, &fat, jsonata, 0, None)
            }
            "MaxItemsPerBatchPath" | "MaxInputBytesPerBatchPath" if !jsonata => {
                paths::reference_path(cx, x, &fat, false, Roots::Any)
            }
            "MaxItemsPerBatchPath" | "MaxInputBytesPerBatchPath" => {
                cx.schema(at, msg::language_mismatch(jsonata, k))
            }
            "BatchInput" => cx.object_or_expr(x, &fat, jsonata),
            _ => cx.schema(at, msg::not_supported(k)),
        }
    }
}

/// A Map's `ResultWriter`.
pub(super) fn result_writer(cx: &mut Ctx, v: &Value, at: &str, jsonata: bool) {
    let Some(obj) = cx.object(v, at) else {
        return;
    };
    for (k, x) in json::entries(obj) {
        let fat = loc::field(at, k);
        match k {
            "Resource" => {
                if let Some(s) = cx.nonempty_string("Resource", x, &fat) {
                    if !is_states_arn(s, &["s3:putObject"]) {
                        cx.schema(
                            fat,
                            "The field 'Resource' does not match any of the allowed values. Examples: \
                             [arn:<partition>:states:::s3:putObject]",
                        );
                    }
                }
            }
            "Parameters" | "Arguments" => destination(cx, k, x, &fat, jsonata),
            "WriterConfig" => {
                if let Some(config) = cx.object(x, &fat) {
                    for (ck, cv) in json::entries(config) {
                        let cat = loc::field(&fat, ck);
                        match ck {
                            "Transformation" => {
                                cx.enumeration(cv, &cat, &["NONE", "COMPACT", "FLATTEN"]);
                            }
                            "OutputType" => {
                                cx.enumeration(cv, &cat, &["JSON", "JSONL"]);
                            }
                            _ => cx.schema(fat.clone(), msg::not_supported(ck)),
                        }
                    }
                }
            }
            _ => cx.schema(at, msg::not_supported(k)),
        }
    }
}

/// Longest Map `Label` (Developer Guide, Distributed Map: "up to 40 characters").
const MAX_LABEL: usize = 40;

/// A Map's `Label`: at most 40 characters, none of whitespace, brackets, wildcards, the special
/// characters `" # % \ ^ | ~ ` $ & , ; : /` or control characters, unique in the definition
/// (Developer Guide, Distributed Map). Wordings are ours, after "Duplicate State name: X".
pub(super) fn label(cx: &mut Ctx, v: &Value, at: &str) {
    let Some(s) = cx.string(v, at) else {
        return;
    };
    const FORBIDDEN: &str = "<>{}[]?*\"#%\\^|~`$&,;:/";
    let bad = s.is_empty()
        || s.chars().count() > MAX_LABEL
        || s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || FORBIDDEN.contains(c));
    if bad {
        cx.error(
            DiagnosticCode::InvalidLabelName,
            at,
            format!("Invalid Label name: {s}"),
        );
    } else if !cx.labels.insert(s.to_string()) {
        cx.error(
            DiagnosticCode::DuplicateLabelName,
            at,
            format!("Duplicate Label name: {s}"),
        );
    }
}
