//! Pairs of equivalent data-flow states: one Pass or Task state written with JSONPath's
//! InputPath, Parameters, ResultSelector, ResultPath and OutputPath, and the same computation
//! as JSONata `Arguments` and `Output` expressions. The two must give the same output on any input [`input`] generates.

use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::{json, Value};

/// A field the generated documents have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `a`, an integer.
    A,
    /// `b`, a string.
    B,
    /// `xs`, an array of integers.
    Xs,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::A => "a",
            Field::B => "b",
            Field::Xs => "xs",
        }
    }
}

/// Where one Parameters field takes its value from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A field of the effective input.
    Field(Field),
    /// A constant.
    Const(i64),
    /// `a + k` (`States.MathAdd` / `+`).
    Add(i64),
    /// `a-b` as text (`States.Format` / `&`).
    Format,
    /// The length of `xs` (`States.ArrayLength` / `$count`).
    Length,
}

/// Where the result goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `ResultPath: "$"`: the result replaces the input.
    Whole,
    /// `ResultPath: "$.r"`: the result is added to the input.
    Field,
    /// `ResultPath: "$.r"` and `OutputPath: "$.r"`: only the result goes on.
    FieldThenSelect,
    /// `ResultPath: null`: the input goes on unchanged.
    Discard,
}

/// One data-flow state: a Pass state, or a Task state on a mock.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// `Some(k)`: a Task state whose mock answers `{"v": k}`, with the Parameters as its
    /// payload (JSONata: Arguments); `None`: a Pass state whose result is the Parameters.
    pub task: Option<i64>,
    /// For a task: `ResultSelector: {"sv.$": "$.v"}` (JSONata: `$states.result.v`).
    pub selector: bool,
    /// `InputPath: "$.p"` (the nested copy) instead of the whole input.
    pub nested_input: bool,
    /// The Parameters fields; `None` means no Parameters (the result is the effective input).
    pub parameters: Option<Vec<(String, Source)>>,
    /// Where the result goes.
    pub target: Target,
}

/// A generated data-flow state.
pub fn flow() -> impl Strategy<Value = Flow> {
    let source = prop_oneof![
        prop_oneof![Just(Field::A), Just(Field::B), Just(Field::Xs)].prop_map(Source::Field),
        (-9i64..=9).prop_map(Source::Const),
        (-9i64..=9).prop_map(Source::Add),
        Just(Source::Format),
        Just(Source::Length),
    ];
    let params = proptest::option::of(vec(source, 1..=3).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, s)| (format!("k{i}"), s))
            .collect::<Vec<_>>()
    }));
    (
        proptest::option::of(-9i64..=9),
        any::<bool>(),
        any::<bool>(),
        params,
        prop_oneof![
            Just(Target::Whole),
            Just(Target::Field),
            Just(Target::FieldThenSelect),
            Just(Target::Discard)
        ],
    )
        .prop_map(|(task, selector, nested_input, parameters, target)| Flow {
            task,
            selector: selector && task.is_some(),
            nested_input,
            parameters,
            target,
        })
}

/// An input for data-flow states: `a`, `b`, `xs` and a nested copy-like object `p` of the
/// same shape.
pub fn input() -> impl Strategy<Value = Value> {
    let doc = (
        -50i64..=50,
        prop_oneof![Just("x"), Just("y z"), Just("")],
        vec(-5i64..=5, 0..=3),
    )
        .prop_map(|(a, b, xs)| json!({"a": a, "b": b, "xs": xs}));
    (doc.clone(), doc).prop_map(|(mut outer, inner)| {
        outer["p"] = inner;
        outer
    })
}

impl Flow {
    /// The JSONPath state machine.
    pub fn jsonpath(&self) -> Value {
        let mut s = match self.task {
            Some(_) => json!({"Type": "Task", "Resource": super::function_arn("Flow")}),
            None => json!({"Type": "Pass"}),
        };
        if self.selector {
            s["ResultSelector"] = json!({"sv.$": "$.v"});
        }
        if self.nested_input {
            s["InputPath"] = json!("$.p");
        }
        if let Some(params) = &self.parameters {
            let mut o = serde_json::Map::new();
            for (k, src) in params {
                match src {
                    Source::Field(f) => {
                        o.insert(format!("{k}.$"), json!(format!("$.{}", f.name())));
                    }
                    Source::Const(c) => {
                        o.insert(k.clone(), json!(c));
                    }
                    Source::Add(n) => {
                        o.insert(format!("{k}.$"), json!(format!("States.MathAdd($.a, {n})")));
                    }
                    Source::Format => {
                        o.insert(format!("{k}.$"), json!("States.Format('{}-{}', $.a, $.b)"));
                    }
                    Source::Length => {
                        o.insert(format!("{k}.$"), json!("States.ArrayLength($.xs)"));
                    }
                }
            }
            s["Parameters"] = Value::Object(o);
        }
        match self.target {
            Target::Whole => s["ResultPath"] = json!("$"),
            Target::Field => s["ResultPath"] = json!("$.r"),
            Target::FieldThenSelect => {
                s["ResultPath"] = json!("$.r");
                s["OutputPath"] = json!("$.r");
            }
            Target::Discard => s["ResultPath"] = Value::Null,
        }
        s["End"] = json!(true);
        json!({"StartAt": "Flow", "States": {"Flow": s}})
    }

    /// The equivalent JSONata state machine.
    pub fn jsonata(&self) -> Value {
        let inp = if self.nested_input {
            "$states.input.p"
        } else {
            "$states.input"
        };
        let arguments = match &self.parameters {
            None => inp.to_string(),
            Some(params) => {
                let fields: Vec<String> = params
                    .iter()
                    .map(|(k, src)| {
                        let e = match src {
                            Source::Field(f) => format!("{inp}.{}", f.name()),
                            Source::Const(c) => c.to_string(),
                            Source::Add(n) => format!("{inp}.a + {n}"),
                            Source::Format => format!("$string({inp}.a) & '-' & {inp}.b"),
                            Source::Length => format!("$count({inp}.xs)"),
                        };
                        format!("\"{k}\": {e}")
                    })
                    .collect();
                format!("{{{}}}", fields.join(", "))
            }
        };
        let result = match (self.task, self.selector) {
            (None, _) => arguments.clone(),
            (Some(_), false) => "$states.result".to_string(),
            (Some(_), true) => "{\"sv\": $states.result.v}".to_string(),
        };
        let output = match self.target {
            Target::Whole | Target::FieldThenSelect => result,
            Target::Field => format!("$merge([$states.input, {{\"r\": {result}}}])"),
            Target::Discard => "$states.input".to_string(),
        };
        let mut state = json!({"Type": "Pass", "Output": format!("{{% {output} %}}"), "End": true});
        if self.task.is_some() {
            state["Type"] = json!("Task");
            state["Resource"] = json!(super::function_arn("Flow"));
            state["Arguments"] = json!(format!("{{% {arguments} %}}"));
        }
        json!({"QueryLanguage": "JSONata", "StartAt": "Flow", "States": {"Flow": state}})
    }

    /// The mocks the state needs (the task's, when it is one).
    pub fn mocks(&self) -> std::collections::BTreeMap<String, super::TaskMock> {
        self.task
            .map(|k| {
                let mock = super::TaskMock {
                    fail_first: 0,
                    error: super::ErrorName::A,
                    result: k,
                    duration_ms: 0,
                };
                ("Flow".to_string(), mock)
            })
            .into_iter()
            .collect()
    }
}
