//! Distributed Map (`ItemProcessor.ProcessorConfig.Mode: DISTRIBUTED`): the compiled
//! configuration (ItemReader, ItemBatcher, ResultWriter, tolerated failures, Label) and the
//! pure parts of a Map Run: reading items from what S3 answered, batching, the failure
//! threshold, the result records and the files ResultWriter writes. The interpreter side
//! (`interpreter/distributed.rs`) runs the child executions as fibers.
//!
//! What AWS records in the parent history (executions recorded on AWS in LocalStack's
//! `test_base_scenarios` snapshots, e.g. `test_map_state_config_distributed_item_selector`,
//! `test_map_item_reader_csv_max_items`):
//!
//! ```text
//! 2 MapStateEntered   (0)
//! 3 MapStateStarted   (2)  length: the items' count, 0 with an ItemReader
//! 4 MapRunStarted     (3)  mapRunArn
//! 5 MapRunSucceeded   (4)        | 5 MapRunFailed (4) error, cause
//! 6 MapStateSucceeded (5)        | 6 MapStateFailed (5)
//! 7 MapStateExited    (5)        | 7 ExecutionFailed (6)
//! ```
//!
//! and nothing of the child executions. A `*Path` field that does not resolve fails the state
//! with `States.Runtime` right after MapStateStarted (no MapRunStarted, no MapStateFailed).

use crate::diagnostics::{Diagnostic, DiagnosticCode};
use crate::jsonpath::JsonPath;
use crate::model::Seconds;
use crate::template::Template;
use serde_json::{json, Map, Value};

/// The most items an ItemReader reads (Developer Guide, ItemReader: "MaxItems ... up to
/// 100,000,000"; AWS's linter accepts 0 to 100000000, LocalStack's snapshot tests).
pub(crate) const MAX_ITEMS_LIMIT: u64 = 100_000_000;

/// The most child executions a Map Run runs at once (Developer Guide, "Using Map state in
/// Distributed mode": up to 10,000 parallel child workflow executions); `MaxConcurrency` 0
/// (the default) means this many.
pub(crate) const MAX_CHILDREN_AT_ONCE: usize = 10_000;

/// The largest batch input (Developer Guide, ItemBatcher: MaxInputBytesPerBatch up to 256 KiB).
pub(crate) const MAX_BATCH_BYTES: u64 = 256 * 1024;

/// A Distributed Map's compiled configuration.
#[derive(Debug, Clone)]
pub(crate) struct DistributedSpec {
    /// `ProcessorConfig.ExecutionType` is EXPRESS (child executions are Express workflows).
    pub express: bool,
    /// `Label`.
    pub label: Option<String>,
    pub reader: Option<ReaderSpec>,
    pub batcher: Option<BatcherSpec>,
    pub writer: Option<WriterSpec>,
    /// `ToleratedFailureCount` / `ToleratedFailureCountPath`.
    pub tolerated_count: Option<Seconds>,
    /// `ToleratedFailurePercentage` / `ToleratedFailurePercentagePath`.
    pub tolerated_percentage: Option<Percentage>,
}

/// A percentage, fixed or read from the input.
#[derive(Debug, Clone)]
pub(crate) enum Percentage {
    Fixed(f64),
    Path(JsonPath),
}

/// `ItemReader`.
#[derive(Debug, Clone)]
pub(crate) struct ReaderSpec {
    /// The `Resource` as written.
    pub resource: String,
    /// `s3:listObjectsV2` (true) or `s3:getObject` (false).
    pub list_objects: bool,
    pub parameters: Option<Template>,
    pub input_type: InputType,
    /// `CSVHeaderLocation: GIVEN` with these `CSVHeaders`; `None` for FIRST_ROW.
    pub csv_headers: Option<Vec<String>>,
    /// `CSVDelimiter` (COMMA by default).
    pub delimiter: char,
    /// `MaxItems` / `MaxItemsPath`.
    pub max_items: Option<MaxItems>,
}

/// `ReaderConfig.MaxItems` or `MaxItemsPath`.
#[derive(Debug, Clone)]
pub(crate) enum MaxItems {
    Fixed(i64),
    Path(JsonPath),
}

/// `ReaderConfig.InputType` (MANIFEST and PARQUET are refused before a run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InputType {
    Csv,
    Json,
    Jsonl,
}

/// `ItemBatcher`.
#[derive(Debug, Clone)]
pub(crate) struct BatcherSpec {
    pub max_items: Option<Seconds>,
    pub max_bytes: Option<Seconds>,
    pub batch_input: Option<Template>,
}

/// `ResultWriter`.
#[derive(Debug, Clone)]
pub(crate) struct WriterSpec {
    /// `arn:aws:states:::s3:putObject`, when the results are exported.
    pub resource: Option<String>,
    pub parameters: Option<Template>,
    pub transformation: Transformation,
    /// `WriterConfig.OutputType` JSONL (JSON otherwise).
    pub jsonl: bool,
}

/// `WriterConfig.Transformation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transformation {
    /// Each child's record: ARN, input, output, status, dates.
    None,
    /// Each child's output.
    Compact,
    /// Each child's output, arrays spliced in.
    Flatten,
}

/// The first thing of a Map state's raw JSON the engine cannot run yet, if any.
pub(crate) fn unsupported(raw: &Value, name: &str) -> Option<String> {
    let processor = raw.get("ItemProcessor").or_else(|| raw.get("Iterator"));
    let mode = processor
        .and_then(|p| p.pointer("/ProcessorConfig/Mode"))
        .and_then(Value::as_str);
    if mode != Some("DISTRIBUTED") {
        // AWS accepts ToleratedFailure* on an inline Map (execution recorded on AWS:
        // LocalStack's `test_base_map[TOLERATED_FAILURE_COUNT]`, which runs inline); they
        // only mean something to a Map Run, so an inline Map ignores them.
        for field in ["ItemReader", "ItemBatcher", "ResultWriter"] {
            if raw.get(field).is_some() {
                return Some(format!(
                    "the field '{field}' on an inline Map state (state '{name}')"
                ));
            }
        }
        return None;
    }
    if let Some(reader) = raw.get("ItemReader") {
        if raw.get("ItemsPath").is_some() {
            return Some(format!(
                "ItemsPath together with ItemReader (state '{name}')"
            ));
        }
        let config = reader.get("ReaderConfig");
        if config.and_then(|c| c.get("ItemsPointer")).is_some() {
            return Some(format!("ReaderConfig.ItemsPointer (state '{name}')"));
        }
        let list = reader
            .get("Resource")
            .and_then(Value::as_str)
            .is_some_and(|r| r.ends_with(":s3:listObjectsV2"));
        let input_type = config
            .and_then(|c| c.get("InputType"))
            .and_then(Value::as_str);
        match input_type {
            Some("CSV" | "JSON" | "JSONL") => {}
            None if list => {}
            Some(t) => return Some(format!("ItemReader InputType {t} (state '{name}')")),
            None => {
                return Some(format!(
                    "ItemReader s3:getObject without ReaderConfig.InputType (state '{name}')"
                ))
            }
        }
    }
    None
}

/// Compiles a Map state's Distributed Map configuration; `None` for an inline Map.
pub(crate) fn compile(
    obj: &Map<String, Value>,
    processor: Option<&Value>,
    loc: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Box<DistributedSpec>> {
    let config = processor?.get("ProcessorConfig")?;
    if config.get("Mode").and_then(Value::as_str) != Some("DISTRIBUTED") {
        return None;
    }
    let mut c = Compiler { diags, loc };
    let reader = obj.get("ItemReader").map(|r| c.reader(r));
    let batcher = obj.get("ItemBatcher").map(|b| BatcherSpec {
        max_items: c.count(b, "MaxItemsPerBatch", "ItemBatcher"),
        max_bytes: c.count(b, "MaxInputBytesPerBatch", "ItemBatcher"),
        batch_input: c.template(b.get("BatchInput"), "ItemBatcher/BatchInput"),
    });
    let writer = obj.get("ResultWriter").map(|w| {
        let wc = w.get("WriterConfig");
        let transformation = match wc
            .and_then(|x| x.get("Transformation"))
            .and_then(Value::as_str)
        {
            Some("COMPACT") => Transformation::Compact,
            Some("FLATTEN") => Transformation::Flatten,
            Some(_) => Transformation::None,
            // Developer Guide, ResultWriter: NONE is the default when exporting to S3 without
            // WriterConfig.
            None => Transformation::None,
        };
        WriterSpec {
            resource: w
                .get("Resource")
                .and_then(Value::as_str)
                .map(str::to_string),
            parameters: c.template(w.get("Parameters"), "ResultWriter/Parameters"),
            transformation,
            jsonl: wc.and_then(|x| x.get("OutputType")).and_then(Value::as_str) == Some("JSONL"),
        }
    });
    let obj_v = Value::Object(obj.clone());
    let tolerated_count = c.count(&obj_v, "ToleratedFailureCount", "");
    let tolerated_percentage = match obj
        .get("ToleratedFailurePercentage")
        .and_then(Value::as_f64)
    {
        Some(p) => Some(Percentage::Fixed(p)),
        None => obj
            .get("ToleratedFailurePercentagePath")
            .and_then(Value::as_str)
            .and_then(|p| c.path(p, "ToleratedFailurePercentagePath"))
            .map(Percentage::Path),
    };
    Some(Box::new(DistributedSpec {
        express: config.get("ExecutionType").and_then(Value::as_str) == Some("EXPRESS"),
        label: obj.get("Label").and_then(Value::as_str).map(str::to_string),
        reader,
        batcher,
        writer,
        tolerated_count,
        tolerated_percentage,
    }))
}

struct Compiler<'d, 'l> {
    diags: &'d mut Vec<Diagnostic>,
    loc: &'l str,
}

impl Compiler<'_, '_> {
    fn path(&mut self, p: &str, field: &str) -> Option<JsonPath> {
        match JsonPath::parse(p) {
            Ok(p) => Some(p),
            Err(e) => {
                self.diags.push(Diagnostic::error(
                    DiagnosticCode::InvalidJsonPath,
                    format!("{}/{field}", self.loc),
                    e.to_string(),
                ));
                None
            }
        }
    }

    fn template(&mut self, v: Option<&Value>, field: &str) -> Option<Template> {
        match Template::compile(v?, &format!("{}/{field}", self.loc)) {
            Ok(t) => Some(t),
            Err(ds) => {
                self.diags.extend(ds);
                None
            }
        }
    }

    /// `FIELD` (a non-negative integer) or `FIELDPath` of `v`.
    fn count(&mut self, v: &Value, field: &str, at: &str) -> Option<Seconds> {
        if let Some(n) = v.get(field).and_then(Value::as_u64) {
            return Some(Seconds::Fixed(n));
        }
        let pfield = format!("{field}Path");
        let p = v.get(&pfield)?.as_str()?;
        let loc = if at.is_empty() {
            pfield
        } else {
            format!("{at}/{pfield}")
        };
        self.path(p, &loc).map(Seconds::Path)
    }

    fn reader(&mut self, r: &Value) -> ReaderSpec {
        let resource = r
            .get("Resource")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let config = r.get("ReaderConfig").cloned().unwrap_or(Value::Null);
        let input_type = match config.get("InputType").and_then(Value::as_str) {
            Some("CSV") => InputType::Csv,
            Some("JSONL") => InputType::Jsonl,
            _ => InputType::Json,
        };
        let csv_headers =
            (config.get("CSVHeaderLocation").and_then(Value::as_str) == Some("GIVEN")).then(|| {
                config
                    .get("CSVHeaders")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|h| h.as_str().map(str::to_string))
                    .collect()
            });
        let delimiter = match config.get("CSVDelimiter").and_then(Value::as_str) {
            Some("PIPE") => '|',
            Some("SEMICOLON") => ';',
            Some("SPACE") => ' ',
            Some("TAB") => '\t',
            _ => ',',
        };
        let max_items = match config.get("MaxItems").and_then(Value::as_i64) {
            Some(n) => Some(MaxItems::Fixed(n)),
            None => config
                .get("MaxItemsPath")
                .and_then(Value::as_str)
                .and_then(|p| self.path(p, "ItemReader/ReaderConfig/MaxItemsPath"))
                .map(MaxItems::Path),
        };
        ReaderSpec {
            list_objects: resource.ends_with(":s3:listObjectsV2"),
            resource,
            parameters: self.template(r.get("Parameters"), "ItemReader/Parameters"),
            input_type,
            csv_headers,
            delimiter,
            max_items,
        }
    }
}

/// An error that fails the Map Run: AWS's error name and cause.
pub(crate) type RunFailure = (String, String);

fn reader_failed(cause: impl Into<String>) -> RunFailure {
    ("States.ItemReaderFailed".to_string(), cause.into())
}

/// The text of an S3 object from what the handler answered for `s3:getObject`: a JSON string
/// is the object's content; an object with `Body` is a GetObject response (as the
/// `aws-sdk:s3:getObject` integration returns it), whose `Body` is the content (a string, or
/// any JSON value standing for its own text); any other value stands for its JSON text.
pub(crate) fn object_text(response: &Value) -> String {
    match response {
        Value::String(s) => s.clone(),
        Value::Object(o) if o.contains_key("Body") => match &o["Body"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
        other => other.to_string(),
    }
}

/// The effective `MaxItems`: 0 means no limit (execution recorded on AWS:
/// `test_map_item_reader_csv_max_items[0]` reads all rows), and no more than 100,000,000.
/// A negative value fails the Map Run as recorded on AWS
/// (`test_map_item_reader_csv_max_items_paths[-1]`).
pub(crate) fn max_items(n: Option<i64>) -> Result<usize, RunFailure> {
    match n {
        None | Some(0) => Ok(MAX_ITEMS_LIMIT as usize),
        Some(n) if n < 0 => Err(reader_failed("field MaxItems must be positive")),
        Some(n) => Ok((n as u64).min(MAX_ITEMS_LIMIT) as usize),
    }
}

/// The items of an S3 object's text.
///
/// - JSON: the text must be an array ("Attempting to map over non-iterable node.", LocalStack's
///   AWS-validated reader); its elements are the items.
/// - JSONL: each non-blank line is one item.
/// - CSV: each row is an object from header to field (RFC 4180 quoting). Fields a row lacks
///   are `""`, fields beyond the headers are dropped, duplicate headers fail with "CSV headers
///   cannot contain duplicates." (LocalStack's reader, validated against AWS). Keys are
///   ordered as AWS orders them: keys that are not purely alphabetic first, each group sorted
///   (LocalStack's reader, matching AWS's recorded output). Assumption: empty lines are
///   skipped.
pub(crate) fn items_from_text(
    spec: &ReaderSpec,
    text: &str,
    limit: usize,
) -> Result<Vec<Value>, RunFailure> {
    match spec.input_type {
        InputType::Json => {
            // Assumption: AWS's cause for unparsable JSON is not documented.
            let v: Value = serde_json::from_str(text)
                .map_err(|e| reader_failed(format!("Unable to parse the JSON content: {e}")))?;
            match v {
                Value::Array(mut a) => {
                    a.truncate(limit);
                    Ok(a)
                }
                _ => Err(reader_failed("Attempting to map over non-iterable node.")),
            }
        }
        InputType::Jsonl => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(limit)
            .map(|l| {
                serde_json::from_str(l)
                    .map_err(|e| reader_failed(format!("Unable to parse the JSONL line: {e}")))
            })
            .collect(),
        InputType::Csv => {
            let mut rows = csv_rows(text, spec.delimiter).into_iter();
            let headers = match &spec.csv_headers {
                Some(h) => h.clone(),
                None => rows.next().unwrap_or_default(),
            };
            let mut seen = std::collections::HashSet::new();
            if !headers.iter().all(|h| seen.insert(h.as_str())) {
                return Err(reader_failed("CSV headers cannot contain duplicates."));
            }
            let mut order: Vec<usize> = (0..headers.len()).collect();
            let alpha = |s: &str| !s.is_empty() && s.chars().all(char::is_alphabetic);
            order.sort_by(|&a, &b| {
                (alpha(&headers[a]), &headers[a]).cmp(&(alpha(&headers[b]), &headers[b]))
            });
            Ok(rows
                .take(limit)
                .map(|row| {
                    let mut m = Map::new();
                    for &i in &order {
                        let v = row.get(i).cloned().unwrap_or_default();
                        m.insert(headers[i].clone(), Value::String(v));
                    }
                    Value::Object(m)
                })
                .collect())
        }
    }
}

/// CSV rows (RFC 4180: quoted fields may hold delimiters, newlines and doubled quotes).
/// Lines with nothing on them are skipped.
fn csv_rows(text: &str, delimiter: char) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut touched = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                quoted = true;
                touched = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                if touched || !field.is_empty() || !row.is_empty() {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                touched = false;
            }
            c if c == delimiter => {
                row.push(std::mem::take(&mut field));
                touched = true;
            }
            c => {
                field.push(c);
                touched = true;
            }
        }
    }
    if touched || !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// The items of a ListObjectsV2 response: its `Contents`, as the handler answered them
/// (Developer Guide, ItemReader, "A list of Amazon S3 objects": each item is one object's
/// metadata, `Key`, `Etag`, `LastModified`, `Size`, `StorageClass`). The continuation token to
/// ask for the next page, when `IsTruncated`.
pub(crate) fn listed_objects(response: &Value) -> (Vec<Value>, Option<String>) {
    let items = response
        .get("Contents")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let next = (response.get("IsTruncated").and_then(Value::as_bool) == Some(true))
        .then(|| {
            response
                .get("NextContinuationToken")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .flatten();
    (items, next)
}

/// Groups child inputs into batches (Developer Guide, ItemBatcher): each batch is
/// `{"BatchInput": ..., "Items": [...]}` (`BatchInput` only when given), holding at most
/// `max_items` items and at most `max_bytes` bytes of JSON. Returns each batch with its item
/// count. Assumption: an item too large for any batch goes alone in its own batch.
pub(crate) fn batches(
    items: Vec<Value>,
    max_items: Option<u64>,
    max_bytes: Option<u64>,
    batch_input: Option<&Value>,
) -> Vec<(Value, usize)> {
    let max_items = max_items.filter(|&n| n > 0).unwrap_or(u64::MAX) as usize;
    let max_bytes = max_bytes
        .filter(|&n| n > 0)
        .unwrap_or(MAX_BATCH_BYTES)
        .min(MAX_BATCH_BYTES) as usize;
    let envelope = |items: Vec<Value>| {
        let mut m = Map::new();
        if let Some(b) = batch_input {
            m.insert("BatchInput".into(), b.clone());
        }
        m.insert("Items".into(), Value::Array(items));
        Value::Object(m)
    };
    // `{"Items":[]}` plus the BatchInput member: the bytes a batch has before any item.
    let base = envelope(Vec::new()).to_string().len();
    let mut out = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    let mut size = base;
    for item in items {
        let len = item.to_string().len() + usize::from(!current.is_empty());
        if !current.is_empty() && (current.len() >= max_items || size + len > max_bytes) {
            let n = current.len();
            out.push((envelope(std::mem::take(&mut current)), n));
            size = base;
        }
        size += item.to_string().len() + usize::from(!current.is_empty());
        current.push(item);
    }
    if !current.is_empty() {
        let n = current.len();
        out.push((envelope(current), n));
    }
    out
}

/// The failure threshold of a Map Run (Developer Guide, "Tolerated failure threshold for
/// Distributed Map state"): the run fails when the failed (or timed-out) items exceed the
/// count, or their share of all items exceeds the percentage; with both, exceeding either
/// fails it; with neither, the percentage is 0 (any failure fails the run).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Tolerance {
    pub count: Option<u64>,
    pub percentage: Option<f64>,
}

impl Tolerance {
    pub fn exceeded(&self, failed: usize, total: usize) -> bool {
        let percentage = match (self.count, self.percentage) {
            (None, None) => Some(0.0),
            (_, p) => p,
        };
        self.count.is_some_and(|c| failed as u64 > c)
            || percentage.is_some_and(|p| failed as f64 * 100.0 > p * total.max(1) as f64)
    }
}

/// A failed execution's error and cause.
pub(crate) type ErrorAndCause = (Option<String>, Option<String>);

/// One child execution of a Map Run.
#[derive(Debug, Clone)]
pub(crate) struct Child {
    pub name: String,
    pub arn: String,
    /// Its number in the engine's `History` (see `History::start_child`), once started.
    pub number: Option<usize>,
    pub input: Value,
    /// Items in this child's input (1 without an ItemBatcher).
    pub items: usize,
    pub start: Option<crate::clock::Timestamp>,
    pub stop: Option<crate::clock::Timestamp>,
    /// How it ended: its output, or its error and cause.
    pub outcome: Option<Result<Value, ErrorAndCause>>,
}

/// A Map Run in progress, kept with the Map state's join.
#[derive(Debug, Clone)]
pub(crate) struct RunState {
    pub arn: String,
    /// The UUID ending the ARN (ResultWriter writes under it).
    pub id: String,
    /// The child executions' state machine: `arn:...:stateMachine:MACHINE/LABEL`.
    pub machine_arn: String,
    pub children: Vec<Child>,
    pub total_items: usize,
    pub failed_items: usize,
    pub tolerance: Tolerance,
    /// ResultWriter's evaluated Parameters (Bucket, Prefix).
    pub writer_parameters: Option<Value>,
}

/// The ARNs of a Map Run (shapes as recorded on AWS: `ListMapRuns` in LocalStack's
/// `test_sfn_api_map_run` snapshot and the Developer Guide's ResultWriter example,
/// `arn:aws:states:us-east-2:123456789012:mapRun:csvProcess/Map:ad9b5f27-...`):
/// the run's ARN and its child executions' state machine ARN.
pub(crate) fn arns(
    region: &str,
    account: &str,
    machine: &str,
    label: &str,
    id: &str,
) -> (String, String) {
    (
        format!("arn:aws:states:{region}:{account}:mapRun:{machine}/{label}:{id}"),
        format!("arn:aws:states:{region}:{account}:stateMachine:{machine}/{label}"),
    )
}

/// A child execution's ARN: `execution:MACHINE/LABEL:NAME` for Standard children,
/// `express:MACHINE/LABEL:NAME:UUID` for Express ones (the ARN shapes of Standard and Express
/// executions). Assumption: the name is a UUID drawn from the execution's seeded generator.
pub(crate) fn child_arn(machine_arn: &str, name: &str, express: bool, extra: &str) -> String {
    let base = machine_arn.replacen(":stateMachine:", ":execution:", 1);
    if express {
        format!(
            "{}:{name}:{extra}",
            base.replacen(":execution:", ":express:", 1)
        )
    } else {
        format!("{base}:{name}")
    }
}

/// A child execution's result record, as ResultWriter's `NONE` transformation writes it and
/// as a failed child's result appears in the state output (Developer Guide, ResultWriter:
/// "If a child workflow execution fails, Step Functions returns its execution result
/// unchanged", the NONE shape: the execution's ARN, input, output, status and dates).
/// Assumption: the fields are DescribeExecution's (`Error`/`Cause` for a failed child in place
/// of `Output`), dates as RFC 3339 text; the Redrive fields are left out.
pub(crate) fn record(child: &Child, machine_arn: &str) -> Value {
    let mut m = Map::new();
    m.insert("ExecutionArn".into(), json!(child.arn));
    m.insert("Input".into(), json!(child.input.to_string()));
    m.insert("InputDetails".into(), json!({"Included": true}));
    m.insert("Name".into(), json!(child.name));
    match &child.outcome {
        Some(Ok(output)) => {
            m.insert("Output".into(), json!(output.to_string()));
            m.insert("OutputDetails".into(), json!({"Included": true}));
        }
        Some(Err((error, cause))) => {
            if let Some(e) = error {
                m.insert("Error".into(), json!(e));
            }
            if let Some(c) = cause {
                m.insert("Cause".into(), json!(c));
            }
        }
        None => {}
    }
    if let Some(s) = child.start {
        m.insert("StartDate".into(), json!(s.to_rfc3339()));
    }
    m.insert("StateMachineArn".into(), json!(machine_arn));
    let status = match &child.outcome {
        Some(Ok(_)) => "SUCCEEDED",
        Some(Err(_)) => "FAILED",
        None => "ABORTED",
    };
    m.insert("Status".into(), json!(status));
    if let Some(s) = child.stop {
        m.insert("StopDate".into(), json!(s.to_rfc3339()));
    }
    Value::Object(m)
}

/// The results of a Map Run's children, transformed: a succeeded child gives its output
/// (COMPACT, the default without ResultWriter) or its record (NONE); FLATTEN splices a child's
/// array output into the list; a failed child always gives its record.
pub(crate) fn results(run: &RunState, transformation: Transformation) -> Vec<Value> {
    let mut out = Vec::with_capacity(run.children.len());
    for c in &run.children {
        match (&c.outcome, transformation) {
            (Some(Ok(v)), Transformation::Compact) => out.push(v.clone()),
            (Some(Ok(Value::Array(a))), Transformation::Flatten) => out.extend(a.iter().cloned()),
            (Some(Ok(v)), Transformation::Flatten) => out.push(v.clone()),
            _ => out.push(record(c, &run.machine_arn)),
        }
    }
    out
}

/// One object ResultWriter puts: its key and body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Written {
    pub key: String,
    pub body: String,
}

/// The objects ResultWriter writes, in order, and the manifest's key. Results go to one file
/// per status (`SUCCEEDED_0.json`, `FAILED_0.json`) under `PREFIX/MAP_RUN_ID/`, then
/// `manifest.json` lists them (Developer Guide, ResultWriter: "exports executions with the
/// same status to their respective files"; the state output's Key
/// `csvProcessJobs/ad9b5f27-.../manifest.json`; the manifest's `DestinationBucket`,
/// `MapRunArn` and `ResultFiles` per status as an AWS-written manifest shows them in the
/// sigpwned.com ResultWriter example). Assumptions: files of at most 5 GB are not split; JSONL
/// output uses the `.jsonl` extension; an empty status has an empty list.
pub(crate) fn written(
    run: &RunState,
    bucket: &str,
    prefix: &str,
    spec: &WriterSpec,
) -> (Vec<Written>, String) {
    let dir = if prefix.is_empty() {
        run.id.clone()
    } else {
        format!("{}/{}", prefix.trim_end_matches('/'), run.id)
    };
    let ext = if spec.jsonl { "jsonl" } else { "json" };
    let mut files = Vec::new();
    let mut listed = Map::new();
    let transformed = results(run, spec.transformation);
    for (status, want_ok) in [("SUCCEEDED", true), ("FAILED", false)] {
        let mut values = Vec::new();
        let mut i = 0;
        for c in &run.children {
            let n = match (&c.outcome, spec.transformation) {
                (Some(Ok(Value::Array(a))), Transformation::Flatten) => a.len(),
                _ => 1,
            };
            let ok = matches!(c.outcome, Some(Ok(_)));
            if ok == want_ok {
                values.extend(transformed[i..i + n].iter().cloned());
            }
            i += n;
        }
        let mut entries = Vec::new();
        if !values.is_empty() {
            let body = if spec.jsonl {
                values
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                Value::Array(values).to_string()
            };
            let key = format!("{dir}/{status}_0.{ext}");
            entries.push(json!({"Key": key, "Size": body.len()}));
            files.push(Written { key, body });
        }
        listed.insert(status.to_string(), Value::Array(entries));
    }
    let mut result_files = Map::new();
    for status in ["FAILED", "PENDING", "SUCCEEDED"] {
        let v = listed.remove(status).unwrap_or_else(|| json!([]));
        result_files.insert(status.to_string(), v);
    }
    let manifest = json!({
        "DestinationBucket": bucket,
        "MapRunArn": run.arn,
        "ResultFiles": Value::Object(result_files),
    });
    let key = format!("{dir}/manifest.json");
    files.push(Written {
        key: key.clone(),
        body: manifest.to_string(),
    });
    (files, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(input_type: InputType, headers: Option<Vec<&str>>) -> ReaderSpec {
        ReaderSpec {
            resource: "arn:aws:states:::s3:getObject".into(),
            list_objects: false,
            parameters: None,
            input_type,
            csv_headers: headers.map(|h| h.into_iter().map(String::from).collect()),
            delimiter: ',',
            max_items: None,
        }
    }

    #[test]
    fn csv_rows_follow_rfc_4180() {
        let rows = csv_rows("a,\"b,c\",\"d\"\"e\"\r\n\n\"x\ny\",,\nlast", ',');
        assert_eq!(
            rows,
            vec![vec!["a", "b,c", "d\"e"], vec!["x\ny", "", ""], vec!["last"]]
        );
    }

    #[test]
    fn csv_items_pad_drop_and_order_as_aws() {
        let r = reader(InputType::Csv, None);
        let items = items_from_text(&r, "name,Col1,age\nAnn,x,3\nBob\n1,2,3,4\n", 10).unwrap();
        assert_eq!(
            items,
            vec![
                json!({"Col1": "x", "age": "3", "name": "Ann"}),
                json!({"Col1": "", "age": "", "name": "Bob"}),
                json!({"Col1": "2", "age": "3", "name": "1"}),
            ]
        );
        let keys: Vec<&String> = items[0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["Col1", "age", "name"]);
        assert_eq!(items_from_text(&r, "h\n1\n2\n3\n", 2).unwrap().len(), 2);
        let dup = reader(InputType::Csv, Some(vec!["H1", "H1"]));
        assert_eq!(
            items_from_text(&dup, "1,2\n", 10),
            Err((
                "States.ItemReaderFailed".into(),
                "CSV headers cannot contain duplicates.".into()
            ))
        );
    }

    #[test]
    fn json_and_jsonl_items() {
        let j = reader(InputType::Json, None);
        assert_eq!(
            items_from_text(&j, "[1,2,3]", 2).unwrap(),
            vec![json!(1), json!(2)]
        );
        assert_eq!(
            items_from_text(&j, "{\"a\":1}", 5),
            Err((
                "States.ItemReaderFailed".into(),
                "Attempting to map over non-iterable node.".into()
            ))
        );
        let l = reader(InputType::Jsonl, None);
        assert_eq!(
            items_from_text(&l, "{\"a\":1}\n\n[2]\n", 5).unwrap(),
            vec![json!({"a": 1}), json!([2])]
        );
    }

    #[test]
    fn max_items_zero_is_unlimited_and_negative_fails() {
        assert_eq!(max_items(Some(0)), Ok(MAX_ITEMS_LIMIT as usize));
        assert_eq!(max_items(Some(2)), Ok(2));
        assert_eq!(max_items(Some(100_000_001)), Ok(MAX_ITEMS_LIMIT as usize));
        assert_eq!(
            max_items(Some(-1)),
            Err((
                "States.ItemReaderFailed".into(),
                "field MaxItems must be positive".into()
            ))
        );
    }

    #[test]
    fn batches_respect_items_and_bytes() {
        let items: Vec<Value> = (0..5).map(|i| json!(i)).collect();
        let b = batches(items.clone(), Some(2), None, Some(&json!({"k": 1})));
        assert_eq!(
            b,
            vec![
                (json!({"BatchInput": {"k": 1}, "Items": [0, 1]}), 2),
                (json!({"BatchInput": {"k": 1}, "Items": [2, 3]}), 2),
                (json!({"BatchInput": {"k": 1}, "Items": [4]}), 1),
            ]
        );
        // {"Items":[0,1]} is 15 bytes; a third item would make it 17.
        let b = batches(items, None, Some(16), None);
        assert_eq!(b.iter().map(|(_, n)| *n).collect::<Vec<_>>(), vec![2, 2, 1]);
        assert!(b.iter().all(|(v, _)| v.to_string().len() <= 16));
    }

    #[test]
    fn tolerance_thresholds() {
        let none = Tolerance {
            count: None,
            percentage: None,
        };
        assert!(!none.exceeded(0, 4));
        assert!(none.exceeded(1, 4));
        let count = Tolerance {
            count: Some(1),
            percentage: None,
        };
        assert!(!count.exceeded(1, 4));
        assert!(count.exceeded(2, 4));
        let pct = Tolerance {
            count: None,
            percentage: Some(50.0),
        };
        assert!(!pct.exceeded(2, 4));
        assert!(pct.exceeded(3, 4));
        let both = Tolerance {
            count: Some(5),
            percentage: Some(25.0),
        };
        assert!(both.exceeded(2, 4));
    }

    #[test]
    fn arns_have_aws_shapes() {
        let (run, machine) = arns("us-east-2", "123456789012", "csvProcess", "Map", "ad9b");
        assert_eq!(
            run,
            "arn:aws:states:us-east-2:123456789012:mapRun:csvProcess/Map:ad9b"
        );
        assert_eq!(
            machine,
            "arn:aws:states:us-east-2:123456789012:stateMachine:csvProcess/Map"
        );
        assert_eq!(
            child_arn(&machine, "n", false, ""),
            "arn:aws:states:us-east-2:123456789012:execution:csvProcess/Map:n"
        );
        assert_eq!(
            child_arn(&machine, "n", true, "u"),
            "arn:aws:states:us-east-2:123456789012:express:csvProcess/Map:n:u"
        );
    }
}
