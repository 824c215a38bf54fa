//! Mocked AWS services for Task states: Step Functions Local's MockConfigFile, read verbatim,
//! and Rust closures. Everything here implements [`engine::TaskHandler`]; the engine calls
//! `invoke` once per task attempt and the handler returns the raw service response.
//!
//! # The MockConfigFile format
//!
//! The file Step Functions Local reads (AWS Step Functions Developer Guide, "Configuration file
//! for mocked service integrations" (`sfn-local-mock-cfg-file`) and "Using mocked service
//! integrations for testing in Step Functions Local" (`sfn-local-test-sm-exec`)):
//!
//! ```json
//! {
//!   "StateMachines": {
//!     "LambdaSQSIntegration": {
//!       "TestCases": {
//!         "RetryPath": { "LambdaState": "MockedLambdaRetry", "SQSState": "MockedSQSSuccess" }
//!       }
//!     }
//!   },
//!   "MockedResponses": {
//!     "MockedLambdaRetry": {
//!       "0":   { "Throw": { "Error": "Lambda.ResourceNotReadyException", "Cause": "Not ready." } },
//!       "1-2": { "Throw": { "Error": "Lambda.TimeoutException", "Cause": "Lambda timed out." } },
//!       "3":   { "Return": { "StatusCode": 200, "Payload": { "body": "Hello from Lambda!" } } }
//!     },
//!     "MockedSQSSuccess": { "0": { "Return": { "MessageId": "3bcb6e8e" } } }
//!   }
//! }
//! ```
//!
//! - A test case maps Task state names to mocked-response names.
//! - A mocked response maps invocation numbers to answers. Keys are a number (`"0"`) or an
//!   inclusive range (`"1-2"`, also `"2-2"`); numbers are 0-based.
//! - Each entry has exactly one of `Return` (any JSON value: the raw service response, returned
//!   as is; for a Lambda function ARN the engine unwraps `Payload` itself) or `Throw`
//!   (`Error`, a string, is required; `Cause`, a string, is optional here although AWS's
//!   example always gives one).
//!
//! [`MockConfig::from_json_str`] reports every problem with a JSON Pointer to it: invalid
//! JSON, wrong types, unknown fields (including the `MockedResponse` misspelling that AWS's
//! own page uses once), bad keys, overlapping keys, both or neither of `Return`/`Throw`, a
//! `Throw` without `Error`, and test cases naming an undefined mocked response.
//! [`MockConfig::handler`] picks a state machine and test case (an error if either is absent).
//!
//! **Gaps are accepted**, as Step Functions Local accepts them: Floci's maintainers, checking
//! against `amazon/aws-stepfunctions-local:2.0.0`, report that a mock defining invocation 1
//! but not 0, or a mocked response with no entries at all, is accepted when the execution
//! starts and fails only when the missing number is reached (floci-io/floci PR #2823, issue
//! #2523). [`MockConfig::from_json_str_strict`] rejects gaps and empty mocked responses for
//! those who want the mistake caught early.
//!
//! # Counting invocations
//!
//! Every call of a mocked state consumes the next invocation number of that state: a first
//! attempt, each retry, each Map iteration, each pass around a loop. Numbers are counted per
//! state name across the whole execution, never reset when the state is entered again.
//! [`MockHandler`] keeps one counter per (execution name, state name), so one handler can
//! serve several executions, each starting at 0; [`MockHandler::reset`] starts over.
//!
//! Sources: the AWS page above ("A mocked response object defines the successful result or
//! error output for each invocation of a mocked Task state"; its example uses `"0"`, `"1-2"`,
//! `"3"` to drive three failures then a success through `Retry`, and it advises
//! `MaxConcurrency: 1` on Map states because iterations share the numbering). Behaviour
//! observed on Step Functions Local 2.0.0 as reported in floci-io/floci issue #3254: "Step
//! Functions Local keeps one counter per state per execution and advances it on every
//! invocation, retries included" (a Map over two items with a retried Task got `idx1`, then
//! `idx2`). LocalStack changed to the same rule (localstack/localstack issue #13107, PR
//! #13693), having first indexed by the retry count.
//!
//! A state the test case does not list gets [`engine::TaskHandlerError::NoMock`] (Step
//! Functions Local would call the real service; stepcheck has none to call).
//!
//! # When the numbered answers run out
//!
//! Step Functions Local does **not** repeat the last answer. AWS: "When you mock a Task, you
//! must specify a mocked response for every invocation ... If you do not specify a mocked
//! response, the state machine execution will fail." Floci reports, checking against Step
//! Functions Local 2.0.0, that an invocation no entry covers fails the execution with
//! `States.Runtime` (floci-io/floci PR #2823); LocalStack agrees (PR #13693: a test mocking
//! one invocation "should have failed when 2 invocations were done").
//!
//! So by default ([`Exhaustion::Fail`]) an invocation past the last entry, or inside a gap,
//! answers `Failed { error: "States.Runtime", cause }`; the cause text is stepcheck's own
//! (Step Functions Local's exact wording was not found). Alternatives, chosen with
//! [`MockHandler::on_exhausted`]: [`Exhaustion::Refuse`] stops the run with
//! [`engine::TaskHandlerError::MockFailed`]; [`Exhaustion::RepeatLast`] (not Step Functions
//! Local's behaviour) answers past the end with the last entry again.
//!
//! # Distributed Map and `.sync` states
//!
//! Neither Step Functions Local (which has no Distributed Map) nor its documentation says how
//! to mock an ItemReader or a ResultWriter; stepcheck's convention: the engine asks the handler
//! for each S3 call *under the Map state's name*, with the ItemReader's or ResultWriter's
//! `Resource` and its evaluated `Parameters`, so a test case maps the Map state to a mocked
//! response whose numbered entries answer those calls in order:
//!
//! - `arn:aws:states:::s3:getObject` (invocation 0): `Return` the object, as a JSON string (its
//!   text), as a GetObject response `{"Body": "<text>", ...}` (what the `aws-sdk:s3:getObject`
//!   integration returns), or, for InputType JSON, the array itself.
//! - `arn:aws:states:::s3:listObjectsV2`: `Return` a ListObjectsV2 response
//!   `{"Contents": [{"Key": ..., "Etag": ..., "LastModified": ..., "Size": ..., "StorageClass": ...}]}`;
//!   with `"IsTruncated": true` and `"NextContinuationToken"`, the engine asks again with
//!   `ContinuationToken` (the next invocation).
//! - `arn:aws:states:::s3:putObject` (after the children end): one call per results file
//!   (`SUCCEEDED_0.json`, then `FAILED_0.json`, each only when not empty), then one for
//!   `manifest.json`, with `Bucket`, `Key` and `Body`; any `Return` will do (`{"ETag": ...}`).
//!
//! A `Throw` fails the Map Run with `States.ItemReaderFailed` or `States.ResultWriterFailed`
//! (its `Cause` as the cause). The Task states of the child executions count their
//! invocations in the parent execution, like inline Map iterations.
//!
//! A `.sync` Task state gets ONE answer per attempt, as in Step Functions Local: a `Return`
//! is the job's final description (`TaskSucceeded`'s output), which the engine also records as
//! the `TaskSubmitted` output (it is all the file gives; LocalStack, which follows Step
//! Functions Local here, does the same); a `Throw` is recorded as `TaskFailed` without a
//! `TaskSubmitted` (as LocalStack's mock mode does). A job that ran and failed is AWS's
//! `States.TaskFailed` with the job description as the cause. From Rust, a handler can give the
//! submit response separately with [`engine::TaskResponse::with_submitted`].
//!
//! # Virtual time
//!
//! The file format is kept verbatim, so it has no delay field. Through the Rust API:
//! [`MockHandler::with_delay`] / [`MockHandler::with_invocation_delay`] make a mocked answer
//! take virtual milliseconds; [`Delayed`] adds time to every answer of any handler; in a
//! closure, [`engine::TaskResponse::after_millis`].
//!
//! # Closures and recording
//!
//! [`FnHandler`] answers every state with one closure; [`Handlers`] maps state names to
//! closures and falls back to another handler (such as a [`MockHandler`]: closures first, then
//! the file) or to `NoMock`. [`Recorder`] wraps any handler and records each call for
//! assertions ([`Recorder::calls`], [`Recorder::calls_for`], or a [`CallLog`] kept from
//! [`Recorder::log`]).
//!
//! ```
//! use engine::{TaskHandler, TaskOutcome, TaskRequest, TaskResponse};
//! use mocks::{Handlers, MockConfig, Recorder};
//! use serde_json::json;
//!
//! let config = MockConfig::from_json_str(r#"{
//!   "StateMachines": {"M": {"TestCases": {"Happy": {"Charge": "Ok"}}}},
//!   "MockedResponses": {"Ok": {"0": {"Return": {"charged": true}}}}
//! }"#).unwrap();
//! let handlers = Handlers::new()
//!     .on("Ship", |_req| Ok(TaskResponse::success(json!("shipped")).after_millis(500)))
//!     .fallback(config.handler("M", "Happy").unwrap());
//! let mut recorder = Recorder::new(handlers);
//! let params = json!({});
//! let request = TaskRequest {
//!     state_name: "Charge",
//!     resource: "arn:aws:states:::lambda:invoke",
//!     parameters: &params,
//!     state_machine_name: "M",
//!     execution_name: "e1",
//!     attempt: 0,
//!     task_token: None,
//! };
//! let answer = recorder.invoke(&request).unwrap();
//! assert_eq!(answer.outcome, TaskOutcome::Succeeded(json!({"charged": true})));
//! assert_eq!(recorder.calls_for("Charge").len(), 1);
//! ```
#![forbid(unsafe_code)]

mod closures;
mod config;
mod handler;
mod recorder;

pub use closures::{Delayed, FnHandler, Handlers};
pub use config::{MockConfig, MockConfigError, MockResponse, Problem, ProblemKind};
pub use handler::{Exhaustion, MockHandler};
pub use recorder::{CallLog, RecordedCall, Recorder};
