//! Parsing and validating a Step Functions Local MockConfigFile.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::handler::MockHandler;

/// One mocked answer: what a single invocation of a mocked Task returns or throws.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MockResponse {
    /// `{"Return": VALUE}`: the raw service response, any JSON value.
    Return(Value),
    /// `{"Throw": {"Error": ..., "Cause": ...}}`: the task fails.
    Throw {
        /// The error name (`Error`).
        error: String,
        /// The cause text (`Cause`), if the file gives one.
        cause: Option<String>,
    },
}

/// One numbered entry of a mocked response: invocations `first..=last`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) first: u64,
    pub(crate) last: u64,
    pub(crate) response: MockResponse,
}

/// A named mocked response: its entries sorted by first invocation, without overlaps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MockedResponse {
    pub(crate) name: String,
    pub(crate) entries: Vec<Entry>,
}

impl MockedResponse {
    /// The entry covering invocation `n` (0-based), if any.
    pub(crate) fn lookup(&self, n: u64) -> Option<&Entry> {
        // Entries are sorted and disjoint.
        let i = self.entries.partition_point(|e| e.last < n);
        self.entries.get(i).filter(|e| e.first <= n)
    }

    /// The invocation numbers this response defines, as written: `0, 1-2, 3` or `none`.
    pub(crate) fn describe_numbers(&self) -> String {
        if self.entries.is_empty() {
            return "none".to_string();
        }
        self.entries
            .iter()
            .map(|e| {
                if e.first == e.last {
                    e.first.to_string()
                } else {
                    format!("{}-{}", e.first, e.last)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A test case: (state name, mocked-response name) pairs in file order.
type TestCase = Vec<(String, String)>;

/// A state machine's test cases: (test case name, test case) pairs in file order.
type TestCases = Vec<(String, TestCase)>;

/// A parsed, validated MockConfigFile.
///
/// Build one with [`MockConfig::from_json_str`] (accepts what Step Functions Local accepts) or
/// [`MockConfig::from_json_str_strict`] (also rejects gaps in the invocation numbers and empty
/// mocked responses), then pick a test case with [`MockConfig::handler`].
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// State machines in file order, each with its test cases in file order; a test case maps
    /// state names to mocked-response names.
    machines: Vec<(String, TestCases)>,
    responses: HashMap<String, Arc<MockedResponse>>,
    response_order: Vec<String>,
}

/// Why a MockConfigFile was rejected: every problem found, each with its JSON location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockConfigError {
    problems: Vec<Problem>,
}

impl MockConfigError {
    /// Every problem found, in the order found (document order, then references).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    fn single(location: String, kind: ProblemKind) -> Self {
        MockConfigError {
            problems: vec![Problem { location, kind }],
        }
    }
}

impl fmt::Display for MockConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(f, "invalid mock configuration: {one}"),
            many => {
                write!(f, "invalid mock configuration: {} problems", many.len())?;
                for p in many {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for MockConfigError {}

/// One problem in a MockConfigFile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: a JSON Pointer (RFC 6901) into the file, such as `/MockedResponses/R/1-2/Throw`
    /// (`""` is the whole document), or `line L column C` for a JSON syntax error.
    pub location: String,
    /// What.
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.location.is_empty() {
            "(document)"
        } else {
            &self.location
        };
        write!(f, "{at}: {}", self.kind)
    }
}

/// The kinds of [`Problem`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The text is not JSON.
    InvalidJson {
        /// serde_json's message.
        message: String,
    },
    /// A value has the wrong JSON type.
    WrongType {
        /// What the format needs here.
        expected: &'static str,
        /// What the file has.
        found: &'static str,
    },
    /// A field the format does not define.
    UnknownField {
        /// The field name.
        field: String,
    },
    /// A required field is absent.
    MissingField {
        /// The field name.
        field: &'static str,
    },
    /// A mocked-response key that is neither an invocation number (`"0"`) nor an inclusive
    /// range (`"1-2"`).
    BadInvocationKey {
        /// The key.
        key: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// An entry with both `Return` and `Throw`.
    ReturnAndThrow,
    /// An entry with neither `Return` nor `Throw`.
    NoReturnOrThrow,
    /// Two keys of one mocked response cover the same invocation number.
    OverlappingKeys {
        /// This key.
        key: String,
        /// The earlier key it overlaps.
        other: String,
        /// The first invocation number both cover.
        invocation: u64,
    },
    /// Strict parsing only: invocation numbers `from..=to` have no entry although a later
    /// number has one (an execution reaching them fails).
    Gap {
        /// The first missing number.
        from: u64,
        /// The last missing number.
        to: u64,
    },
    /// Strict parsing only: a mocked response with no entries (any use of it fails).
    EmptyResponse,
    /// A test case names a mocked response that `MockedResponses` does not define.
    UnknownResponse {
        /// The name.
        name: String,
    },
    /// [`MockConfig::handler`]: the state machine is not in the file.
    UnknownStateMachine {
        /// The name asked for.
        name: String,
    },
    /// [`MockConfig::handler`]: the state machine has no such test case.
    UnknownTestCase {
        /// The state machine.
        state_machine: String,
        /// The test case asked for.
        name: String,
    },
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::InvalidJson { message } => write!(f, "not valid JSON: {message}"),
            ProblemKind::WrongType { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            ProblemKind::UnknownField { field } => {
                write!(f, "unknown field '{field}'")?;
                if field == "MockedResponse" {
                    write!(f, " (did you mean 'MockedResponses'?)")?;
                }
                Ok(())
            }
            ProblemKind::MissingField { field } => write!(f, "missing field '{field}'"),
            ProblemKind::BadInvocationKey { key, reason } => write!(
                f,
                "invalid invocation key '{key}': {reason}; expected a number such as \"0\" or an inclusive range such as \"1-2\""
            ),
            ProblemKind::ReturnAndThrow => {
                write!(f, "an entry must contain exactly one of 'Return' or 'Throw', not both")
            }
            ProblemKind::NoReturnOrThrow => {
                write!(f, "an entry must contain exactly one of 'Return' or 'Throw'")
            }
            ProblemKind::OverlappingKeys {
                key,
                other,
                invocation,
            } => write!(
                f,
                "key '{key}' overlaps key '{other}' (both cover invocation {invocation})"
            ),
            ProblemKind::Gap { from, to } => {
                if from == to {
                    write!(f, "no entry for invocation {from}")
                } else {
                    write!(f, "no entry for invocations {from}-{to}")
                }
            }
            ProblemKind::EmptyResponse => write!(f, "mocked response has no entries"),
            ProblemKind::UnknownResponse { name } => write!(
                f,
                "mocked response '{name}' is not defined in 'MockedResponses'"
            ),
            ProblemKind::UnknownStateMachine { name } => {
                write!(f, "state machine '{name}' is not in the mock configuration")
            }
            ProblemKind::UnknownTestCase {
                state_machine,
                name,
            } => write!(
                f,
                "test case '{name}' is not defined for state machine '{state_machine}'"
            ),
        }
    }
}

/// Escapes one JSON Pointer reference token.
fn token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

struct Parser {
    strict: bool,
    problems: Vec<Problem>,
}

impl Parser {
    fn problem(&mut self, location: String, kind: ProblemKind) {
        self.problems.push(Problem { location, kind });
    }

    fn object<'v>(&mut self, v: &'v Value, at: &str) -> Option<&'v Map<String, Value>> {
        match v {
            Value::Object(m) => Some(m),
            other => {
                self.problem(
                    at.to_string(),
                    ProblemKind::WrongType {
                        expected: "an object",
                        found: type_name(other),
                    },
                );
                None
            }
        }
    }

    fn unknown_fields(&mut self, m: &Map<String, Value>, at: &str, known: &[&str]) {
        for k in m.keys() {
            if !known.contains(&k.as_str()) {
                self.problem(
                    format!("{at}/{}", token(k)),
                    ProblemKind::UnknownField { field: k.clone() },
                );
            }
        }
    }

    fn parse_key(&mut self, key: &str, at: &str) -> Option<(u64, u64)> {
        fn number(s: &str) -> Result<u64, &'static str> {
            if s.is_empty() {
                return Err("a number is missing");
            }
            if !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err("only the digits 0-9 and one '-' are allowed");
            }
            s.parse::<u64>().map_err(|_| "the number is too large")
        }
        let parsed = match key.split_once('-') {
            None => number(key).map(|n| (n, n)),
            Some((a, b)) => match (number(a), number(b)) {
                (Ok(a), Ok(b)) if a <= b => Ok((a, b)),
                (Ok(_), Ok(_)) => Err("the range ends before it starts"),
                (Err(e), _) | (_, Err(e)) => Err(e),
            },
        };
        match parsed {
            Ok(r) => Some(r),
            Err(reason) => {
                self.problem(
                    at.to_string(),
                    ProblemKind::BadInvocationKey {
                        key: key.to_string(),
                        reason,
                    },
                );
                None
            }
        }
    }

    fn parse_entry(&mut self, v: &Value, at: &str) -> Option<MockResponse> {
        let m = self.object(v, at)?;
        self.unknown_fields(m, at, &["Return", "Throw"]);
        match (m.get("Return"), m.get("Throw")) {
            (Some(_), Some(_)) => {
                self.problem(at.to_string(), ProblemKind::ReturnAndThrow);
                None
            }
            (None, None) => {
                self.problem(at.to_string(), ProblemKind::NoReturnOrThrow);
                None
            }
            (Some(r), None) => Some(MockResponse::Return(r.clone())),
            (None, Some(t)) => {
                let at = format!("{at}/Throw");
                let t = self.object(t, &at)?;
                self.unknown_fields(t, &at, &["Error", "Cause"]);
                let error = match t.get("Error") {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(other) => {
                        self.problem(
                            format!("{at}/Error"),
                            ProblemKind::WrongType {
                                expected: "a string",
                                found: type_name(other),
                            },
                        );
                        None
                    }
                    None => {
                        self.problem(at.clone(), ProblemKind::MissingField { field: "Error" });
                        None
                    }
                };
                let cause = match t.get("Cause") {
                    None => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    Some(other) => {
                        self.problem(
                            format!("{at}/Cause"),
                            ProblemKind::WrongType {
                                expected: "a string",
                                found: type_name(other),
                            },
                        );
                        Err(())
                    }
                };
                match (error, cause) {
                    (Some(error), Ok(cause)) => Some(MockResponse::Throw { error, cause }),
                    _ => None,
                }
            }
        }
    }

    fn parse_response(&mut self, name: &str, v: &Value, at: &str) -> Option<MockedResponse> {
        let m = self.object(v, at)?;
        let mut ok = true;
        // (first, last, key) for overlap checks, plus the parsed entries.
        let mut entries: Vec<(Entry, String)> = Vec::new();
        for (key, ev) in m {
            let eat = format!("{at}/{}", token(key));
            let range = self.parse_key(key, &eat);
            let response = self.parse_entry(ev, &eat);
            match (range, response) {
                (Some((first, last)), Some(response)) => entries.push((
                    Entry {
                        first,
                        last,
                        response,
                    },
                    key.clone(),
                )),
                (Some((first, last)), None) => {
                    // Keep the range for overlap checks; the entry itself is already reported.
                    ok = false;
                    entries.push((
                        Entry {
                            first,
                            last,
                            response: MockResponse::Return(Value::Null),
                        },
                        key.clone(),
                    ));
                }
                _ => ok = false,
            }
        }
        // Overlaps: compare each key (in document order) with every earlier key.
        for i in 0..entries.len() {
            for j in 0..i {
                let (a, b) = (&entries[i].0, &entries[j].0);
                if a.first <= b.last && b.first <= a.last {
                    ok = false;
                    let invocation = a.first.max(b.first);
                    self.problem(
                        format!("{at}/{}", token(&entries[i].1)),
                        ProblemKind::OverlappingKeys {
                            key: entries[i].1.clone(),
                            other: entries[j].1.clone(),
                            invocation,
                        },
                    );
                    break;
                }
            }
        }
        let mut entries: Vec<Entry> = entries.into_iter().map(|(e, _)| e).collect();
        entries.sort_by_key(|e| e.first);
        if self.strict && ok {
            if entries.is_empty() {
                self.problem(at.to_string(), ProblemKind::EmptyResponse);
                ok = false;
            }
            let mut next = 0u64;
            for e in &entries {
                if e.first > next {
                    self.problem(
                        at.to_string(),
                        ProblemKind::Gap {
                            from: next,
                            to: e.first - 1,
                        },
                    );
                    ok = false;
                }
                next = e.last.saturating_add(1);
            }
        }
        ok.then(|| MockedResponse {
            name: name.to_string(),
            entries,
        })
    }
}

impl MockConfig {
    /// Parses a MockConfigFile, accepting what Step Functions Local accepts: invocation
    /// numbers may have gaps (an invocation that reaches a gap fails at run time, as in Step
    /// Functions Local) and a mocked response may be empty. Rejected, with every problem and
    /// its JSON Pointer: invalid JSON, wrong types, unknown fields, bad invocation keys,
    /// overlapping keys, entries with both or neither of `Return`/`Throw`, a `Throw` without a
    /// string `Error`, and test cases naming an undefined mocked response.
    pub fn from_json_str(text: &str) -> Result<MockConfig, MockConfigError> {
        Self::parse(text, false)
    }

    /// As [`MockConfig::from_json_str`], and also rejects gaps in a mocked response's
    /// invocation numbers (numbers must run from 0 without holes) and mocked responses with no
    /// entries. Files that pass are the ones Step Functions Local can serve for every
    /// invocation up to the last number written.
    pub fn from_json_str_strict(text: &str) -> Result<MockConfig, MockConfigError> {
        Self::parse(text, true)
    }

    fn parse(text: &str, strict: bool) -> Result<MockConfig, MockConfigError> {
        let root: Value = serde_json::from_str(text).map_err(|e| {
            MockConfigError::single(
                format!("line {} column {}", e.line(), e.column()),
                ProblemKind::InvalidJson {
                    message: e.to_string(),
                },
            )
        })?;
        let mut p = Parser {
            strict,
            problems: Vec::new(),
        };
        let mut config = MockConfig {
            machines: Vec::new(),
            responses: HashMap::new(),
            response_order: Vec::new(),
        };
        // Test-case references, checked once every response name is known.
        let mut references: Vec<(String, String)> = Vec::new();
        let mut defined: Vec<&str> = Vec::new();

        if let Some(top) = p.object(&root, "") {
            p.unknown_fields(top, "", &["StateMachines", "MockedResponses"]);
            if let Some(sms) = top.get("StateMachines") {
                if let Some(sms) = p.object(sms, "/StateMachines") {
                    for (sm_name, sm) in sms {
                        let sm_at = format!("/StateMachines/{}", token(sm_name));
                        let Some(sm) = p.object(sm, &sm_at) else {
                            continue;
                        };
                        p.unknown_fields(sm, &sm_at, &["TestCases"]);
                        let Some(tcs) = sm.get("TestCases") else {
                            p.problem(sm_at, ProblemKind::MissingField { field: "TestCases" });
                            continue;
                        };
                        let tcs_at = format!("{sm_at}/TestCases");
                        let Some(tcs) = p.object(tcs, &tcs_at) else {
                            continue;
                        };
                        let mut cases = Vec::new();
                        for (tc_name, tc) in tcs {
                            let tc_at = format!("{tcs_at}/{}", token(tc_name));
                            let Some(tc) = p.object(tc, &tc_at) else {
                                continue;
                            };
                            let mut states = Vec::new();
                            for (state, resp) in tc {
                                let at = format!("{tc_at}/{}", token(state));
                                match resp {
                                    Value::String(r) => {
                                        references.push((at, r.clone()));
                                        states.push((state.clone(), r.clone()));
                                    }
                                    other => p.problem(
                                        at,
                                        ProblemKind::WrongType {
                                            expected: "a string (a mocked response name)",
                                            found: type_name(other),
                                        },
                                    ),
                                }
                            }
                            cases.push((tc_name.clone(), states));
                        }
                        config.machines.push((sm_name.clone(), cases));
                    }
                }
            }
            if let Some(mrs) = top.get("MockedResponses") {
                if let Some(mrs) = p.object(mrs, "/MockedResponses") {
                    for (name, mr) in mrs {
                        defined.push(name);
                        let at = format!("/MockedResponses/{}", token(name));
                        if let Some(parsed) = p.parse_response(name, mr, &at) {
                            config.response_order.push(name.clone());
                            config.responses.insert(name.clone(), Arc::new(parsed));
                        }
                    }
                }
            }
        }
        for (at, name) in references {
            if !defined.contains(&name.as_str()) {
                p.problem(at, ProblemKind::UnknownResponse { name });
            }
        }
        if p.problems.is_empty() {
            Ok(config)
        } else {
            Err(MockConfigError {
                problems: p.problems,
            })
        }
    }

    /// The state machine names, in file order.
    pub fn state_machines(&self) -> impl Iterator<Item = &str> {
        self.machines.iter().map(|(n, _)| n.as_str())
    }

    /// The test case names of a state machine, in file order (`None` if it is not in the file).
    pub fn test_cases(&self, state_machine: &str) -> Option<impl Iterator<Item = &str>> {
        self.machines
            .iter()
            .find(|(n, _)| n == state_machine)
            .map(|(_, cases)| cases.iter().map(|(n, _)| n.as_str()))
    }

    /// The mocked response names, in file order.
    pub fn mocked_responses(&self) -> impl Iterator<Item = &str> {
        self.response_order.iter().map(String::as_str)
    }

    /// What mocked response `name` answers for invocation `invocation` (0-based); `None` if the
    /// name is unknown or no entry covers that number.
    pub fn response(&self, name: &str, invocation: u64) -> Option<&MockResponse> {
        self.responses
            .get(name)?
            .lookup(invocation)
            .map(|e| &e.response)
    }

    /// A [`MockHandler`] answering Task states as test case `test_case` of state machine
    /// `state_machine` says. Fails if either is not in the file.
    pub fn handler(
        &self,
        state_machine: &str,
        test_case: &str,
    ) -> Result<MockHandler, MockConfigError> {
        let sm_at = format!("/StateMachines/{}", token(state_machine));
        let Some((_, cases)) = self.machines.iter().find(|(n, _)| n == state_machine) else {
            return Err(MockConfigError::single(
                sm_at,
                ProblemKind::UnknownStateMachine {
                    name: state_machine.to_string(),
                },
            ));
        };
        let Some((_, states)) = cases.iter().find(|(n, _)| n == test_case) else {
            return Err(MockConfigError::single(
                format!("{sm_at}/TestCases/{}", token(test_case)),
                ProblemKind::UnknownTestCase {
                    state_machine: state_machine.to_string(),
                    name: test_case.to_string(),
                },
            ));
        };
        let states = states
            .iter()
            .map(|(state, resp)| {
                // Parsing checked every reference.
                (state.clone(), Arc::clone(&self.responses[resp]))
            })
            .collect();
        Ok(MockHandler::new(state_machine, test_case, states))
    }
}

/// A MockConfigFile drives the in-process execution service as it drives Step Functions
/// Local: `StartExecution` on `stateMachineArn#TestCase` answers the test case's states from
/// the file; an execution started without a test case gets no mocks.
impl engine::HandlerFactory for MockConfig {
    fn handler(
        &mut self,
        state_machine_name: &str,
        test_case: Option<&str>,
    ) -> Result<Box<dyn engine::TaskHandler>, String> {
        match test_case {
            None => Ok(Box::new(engine::NoTasks)),
            Some(case) => MockConfig::handler(self, state_machine_name, case)
                .map(|h| Box::new(h) as Box<dyn engine::TaskHandler>)
                .map_err(|e| e.to_string()),
        }
    }
}
