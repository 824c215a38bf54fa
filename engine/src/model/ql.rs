//! Compiling states whose query language is JSONata.
//!
//! Such a state has no InputPath, Parameters, ResultSelector, ResultPath or OutputPath (the
//! validator rejects them); its data flow is `Arguments` and `Output`, and every field that can
//! be computed takes a `{% ... %}` expression. The compiled state reuses [`StateKind`] with the
//! JSONPath-only fields empty and keeps the rest in [`JsonataFields`].

use super::*;

impl Compiler {
    fn jtemplate(
        &mut self,
        obj: &Map<String, Value>,
        field: &str,
        location: &str,
        loc: &str,
    ) -> Option<JTemplate> {
        let v = obj.get(field)?;
        match JTemplate::compile(v, location, &format!("{loc}/{field}")) {
            Ok(t) => Some(t),
            Err(ds) => {
                self.diags.extend(ds);
                None
            }
        }
    }

    /// A number of seconds (or a count) given as an integer or an expression.
    fn jseconds(&mut self, obj: &Map<String, Value>, field: &str, loc: &str) -> Option<Seconds> {
        match obj.get(field)? {
            Value::Number(n) => n.as_u64().map(Seconds::Fixed),
            _ => self.jtemplate(obj, field, field, loc).map(Seconds::Expr),
        }
    }

    fn jerror_text(&mut self, obj: &Map<String, Value>, field: &str, loc: &str) -> ErrorText {
        match obj.get(field) {
            Some(Value::String(s)) if crate::query::expression_text(s).is_none() => {
                ErrorText::Literal(s.clone())
            }
            Some(_) => self
                .jtemplate(obj, field, field, loc)
                .map_or(ErrorText::None, ErrorText::Expr),
            None => ErrorText::None,
        }
    }

    fn jcatchers(
        &mut self,
        obj: &Map<String, Value>,
        loc: &str,
        index: &HashMap<&str, StateIdx>,
    ) -> Vec<Catcher> {
        let list = obj.get("Catch").and_then(Value::as_array);
        let mut out = Vec::new();
        for (i, c) in list.into_iter().flatten().enumerate() {
            let cloc = format!("{loc}/Catch/{i}");
            let Some(cobj) = c.as_object() else { continue };
            let Some(next) = self.target(cobj, "Next", &cloc, index) else {
                continue;
            };
            out.push(Catcher {
                errors: Self::error_list(c),
                result_path: ResultPath::Replace,
                assign: None,
                jassign: self.jtemplate(cobj, "Assign", "Assign", &cloc),
                output: self.jtemplate(cobj, "Output", "Output", &cloc),
                next,
            });
        }
        out
    }

    pub(super) fn jsonata_state(
        &mut self,
        name: &str,
        obj: &Map<String, Value>,
        loc: &str,
        index: &HashMap<&str, StateIdx>,
        query_language: &str,
        next: Transition,
    ) -> Option<State> {
        let ty = obj.get("Type").and_then(Value::as_str).unwrap_or("");
        let mut fields = JsonataFields {
            output: self.jtemplate(obj, "Output", "Output", loc),
            assign: self.jtemplate(obj, "Assign", "Assign", loc),
            arguments: self.jtemplate(obj, "Arguments", "Arguments", loc),
            ..JsonataFields::default()
        };
        let kind = match ty {
            "Pass" => StateKind::Pass {
                parameters: None,
                result: None,
                result_path: ResultPath::Replace,
            },
            "Succeed" => StateKind::Succeed,
            "Fail" => StateKind::Fail {
                error: self.jerror_text(obj, "Error", loc),
                cause: self.jerror_text(obj, "Cause", loc),
            },
            "Wait" => {
                let wait = match (obj.get("Seconds"), obj.get("Timestamp")) {
                    (Some(Value::Number(n)), _) => WaitFor::Seconds(n.as_i64().unwrap_or(0)),
                    (Some(_), _) => {
                        WaitFor::SecondsExpr(self.jtemplate(obj, "Seconds", "Seconds", loc)?)
                    }
                    (None, Some(Value::String(s)))
                        if crate::query::expression_text(s).is_none() =>
                    {
                        WaitFor::Timestamp(s.clone())
                    }
                    (None, Some(_)) => WaitFor::TimestampExpr(self.jtemplate(
                        obj,
                        "Timestamp",
                        "Timestamp",
                        loc,
                    )?),
                    (None, None) => {
                        self.error(
                            DiagnosticCode::SchemaValidationFailed,
                            loc,
                            "A Wait state needs exactly one of Seconds or Timestamp",
                        );
                        return None;
                    }
                };
                StateKind::Wait(wait)
            }
            "Choice" => {
                let mut choices = Vec::new();
                for (i, rv) in obj
                    .get("Choices")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let rloc = format!("{loc}/Choices/{i}");
                    let Some(robj) = rv.as_object() else { continue };
                    let condition = self.jtemplate(robj, "Condition", "Condition", &rloc);
                    let target = self.target(robj, "Next", &rloc, index);
                    let jassign = self.jtemplate(robj, "Assign", "Assign", &rloc);
                    let output = self.jtemplate(robj, "Output", "Output", &rloc);
                    if let (Some(c), Some(next)) = (condition, target) {
                        choices.push(ChoiceBranch {
                            rule: ChoiceTest::Condition(c),
                            assign: None,
                            jassign,
                            output,
                            next,
                        });
                    }
                }
                StateKind::Choice {
                    choices,
                    default: self.target(obj, "Default", loc, index),
                }
            }
            "Task" => {
                let resource = obj
                    .get("Resource")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                StateKind::Task(Box::new(TaskSpec {
                    kind: ResourceKind::parse(&resource),
                    resource,
                    parameters: None,
                    result_selector: None,
                    result_path: ResultPath::Replace,
                    timeout: self.jseconds(obj, "TimeoutSeconds", loc),
                    heartbeat: self.jseconds(obj, "HeartbeatSeconds", loc),
                    retry: self.retriers(obj, loc),
                    catch: self.jcatchers(obj, loc, index),
                }))
            }
            "Parallel" => {
                let branches = self.branches(obj, loc, query_language);
                StateKind::Parallel(Box::new(ParallelSpec {
                    branches,
                    parameters: None,
                    result_selector: None,
                    result_path: ResultPath::Replace,
                    retry: self.retriers(obj, loc),
                    catch: self.jcatchers(obj, loc, index),
                }))
            }
            "Map" => {
                let processor_field = if obj.contains_key("ItemProcessor") {
                    "ItemProcessor"
                } else {
                    "Iterator"
                };
                let distributed = obj
                    .get(processor_field)
                    .and_then(|p| p.get("ProcessorConfig"))
                    .and_then(|c| c.get("Mode"))
                    .and_then(Value::as_str)
                    == Some("DISTRIBUTED");
                if distributed {
                    return Some(self.unsupported_state(
                        name,
                        format!("Distributed Map states in JSONata (state '{name}')"),
                        next,
                    ));
                }
                let processor = obj.get(processor_field).and_then(|p| {
                    self.machine_in(p, &format!("{loc}/{processor_field}"), query_language)
                });
                fields.items = self.jtemplate(obj, "Items", "Items", loc);
                fields.item_selector = self.jtemplate(obj, "ItemSelector", "ItemSelector", loc);
                match processor {
                    Some(processor) => StateKind::Map(Box::new(MapSpec {
                        processor: Arc::new(processor),
                        items_path: None,
                        item_selector: None,
                        result_selector: None,
                        result_path: ResultPath::Replace,
                        max_concurrency: self.jseconds(obj, "MaxConcurrency", loc),
                        retry: self.retriers(obj, loc),
                        catch: self.jcatchers(obj, loc, index),
                        distributed: None,
                    })),
                    None => StateKind::Unsupported {
                        what: format!("Map states without an inline processor (state '{name}')"),
                    },
                }
            }
            other => StateKind::Unsupported {
                what: format!("{other} states (state '{name}')"),
            },
        };
        let root = JsonPath::parse("$").expect("'$' is a valid path");
        Some(State {
            name: StateName(smol_str::SmolStr::new(name)),
            kind,
            input_path: Some(root.clone()),
            output_path: Some(root),
            whole_paths: true,
            assign: None,
            next,
            jsonata: Some(Box::new(fields)),
        })
    }

    fn unsupported_state(&mut self, name: &str, what: String, next: Transition) -> State {
        State {
            name: StateName(smol_str::SmolStr::new(name)),
            kind: StateKind::Unsupported { what },
            input_path: None,
            output_path: None,
            whole_paths: false,
            assign: None,
            next,
            jsonata: None,
        }
    }
}
