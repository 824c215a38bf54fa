//! The evaluator: a port of the reference's `evaluate` and its helpers.
//!
//! Every function here follows the reference's algorithm step by step, including its
//! treatment of *sequences* (result collections that collapse to a single value) versus
//! arrays, because the visible results depend on those details.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value as Json;

use crate::ast::{BinOp, Kind, Node, SortTerm, Stage};
use crate::error::Error;
use crate::functions::{self, Builtin};
use crate::value::{deep_equal, js_number_string, Array, Func, Lambda, Map, Tuple, Value};
use crate::{Host, NativeFunction};

/// A frame of variable bindings.
pub(crate) struct Frame<'a> {
    vars: RefCell<Vec<(Arc<str>, Value<'a>)>>,
    parent: Option<Env<'a>>,
}

/// A scope: a shared frame and, through it, its enclosing frames.
#[derive(Clone)]
pub(crate) struct Env<'a>(Rc<Frame<'a>>);

impl<'a> Env<'a> {
    pub fn root() -> Self {
        Env(Rc::new(Frame {
            vars: RefCell::new(Vec::new()),
            parent: None,
        }))
    }

    pub fn child(&self) -> Self {
        Env(Rc::new(Frame {
            vars: RefCell::new(Vec::new()),
            parent: Some(self.clone()),
        }))
    }

    pub fn bind(&self, name: &Arc<str>, value: Value<'a>) {
        let mut vars = self.0.vars.borrow_mut();
        if let Some(slot) = vars.iter_mut().find(|(k, _)| k == name) {
            slot.1 = value;
        } else {
            vars.push((name.clone(), value));
        }
    }

    pub fn lookup(&self, name: &str) -> Option<Value<'a>> {
        let mut frame = &self.0;
        loop {
            if let Some((_, v)) = frame.vars.borrow().iter().find(|(k, _)| &**k == name) {
                return Some(v.clone());
            }
            match &frame.parent {
                Some(p) => frame = &p.0,
                None => return None,
            }
        }
    }

    fn weak(&self) -> Weak<Frame<'a>> {
        Rc::downgrade(&self.0)
    }
}

/// Evaluation limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_depth: usize,
    pub time_limit: Option<std::time::Duration>,
    pub max_steps: Option<u64>,
}

/// The state of one evaluation.
pub(crate) struct Ctx<'a, 'c> {
    pub host: &'c mut dyn Host,
    bindings: &'a HashMap<String, Json>,
    natives: &'a HashMap<String, NativeFunction>,
    depth: usize,
    limits: Limits,
    start: Instant,
    steps: u64,
    now: Option<i64>,
    /// Frames that got a function or container bound with `:=`: the only way reference
    /// cycles (a closure stored in the frame it captures) can form. They are cleared when
    /// the evaluation ends so the cycles are freed.
    cyclic: Vec<Weak<Frame<'a>>>,
}

impl Drop for Ctx<'_, '_> {
    fn drop(&mut self) {
        for w in self.cyclic.drain(..) {
            if let Some(f) = w.upgrade() {
                let vars = std::mem::take(&mut *f.vars.borrow_mut());
                drop(vars);
            }
        }
    }
}

type R<'a> = Result<Value<'a>, Error>;

/// The token and position a function application reports errors under.
#[derive(Clone, Default)]
pub(crate) struct CallSite {
    pub token: Option<String>,
    pub position: Option<usize>,
}

impl<'a, 'c> Ctx<'a, 'c> {
    pub fn new(
        host: &'c mut dyn Host,
        bindings: &'a HashMap<String, Json>,
        natives: &'a HashMap<String, NativeFunction>,
        limits: Limits,
    ) -> Self {
        Ctx {
            host,
            bindings,
            natives,
            depth: 0,
            limits,
            start: Instant::now(),
            steps: 0,
            now: None,
            cyclic: Vec::new(),
        }
    }

    /// The evaluation's timestamp: one value per evaluation, as in the reference.
    pub fn now(&mut self) -> i64 {
        if let Some(n) = self.now {
            return n;
        }
        let n = self.host.now_millis();
        self.now = Some(n);
        n
    }

    /// Looks a variable up: the scope chain, then the caller's bindings and functions,
    /// then the built-in functions.
    pub fn lookup(&self, name: &str, env: &Env<'a>) -> Value<'a> {
        if let Some(v) = env.lookup(name) {
            return v;
        }
        if let Some(j) = self.bindings.get(name) {
            return Value::from_json(j);
        }
        if let Some((k, f)) = self.natives.get_key_value(name) {
            return Value::func(Func::Native {
                name: Arc::from(k.as_str()),
                f,
            });
        }
        match Builtin::from_name(name) {
            Some(b) => Value::func(Func::Builtin(b)),
            None => Value::Undefined,
        }
    }

    fn check_limits(&mut self) -> Result<(), Error> {
        if self.depth > self.limits.max_depth {
            return Err(Error::new("U1001"));
        }
        self.steps += 1;
        if let Some(max) = self.limits.max_steps {
            if self.steps > max {
                return Err(Error::new("U1001").finish_timeout());
            }
        }
        if let Some(limit) = self.limits.time_limit {
            if self.steps.is_multiple_of(64) && self.start.elapsed() > limit {
                return Err(Error::new("U1001").finish_timeout());
            }
        }
        Ok(())
    }

    /// The reference's `evaluate`.
    pub fn eval(&mut self, node: &Node, input: &Value<'a>, env: &Env<'a>) -> R<'a> {
        self.depth += 1;
        let r = match self.check_limits() {
            Ok(()) => crate::guarded(|| self.eval_inner(node, input, env)),
            Err(e) => Err(e),
        };
        self.depth -= 1;
        r
    }

    fn eval_inner(&mut self, node: &Node, input: &Value<'a>, env: &Env<'a>) -> R<'a> {
        let mut result = match &node.kind {
            Kind::Path {
                steps,
                keep_singleton_array,
            } => self.eval_path(node, steps, *keep_singleton_array, input, env)?,
            Kind::Binary { op, lhs, rhs } => self.eval_binary(node, *op, lhs, rhs, input, env)?,
            Kind::Negate(e) => {
                let v = self.eval(e, input, env)?;
                if v.is_undefined() {
                    Value::Undefined
                } else {
                    match v.numeric().map_err(|e| e.pos(node.position).token("-"))? {
                        Some(n) => Value::Number(-n),
                        None => {
                            return Err(Error::new("D1002")
                                .pos(node.position)
                                .token("-")
                                .value(functions::json_repr(&v)))
                        }
                    }
                }
            }
            Kind::ArrayCons(items) => {
                let mut out: Vec<Value<'a>> = Vec::new();
                for item in items {
                    let v = self.eval(item, input, env)?;
                    if v.is_undefined() {
                        continue;
                    }
                    if matches!(item.kind, Kind::ArrayCons(_)) {
                        out.push(v);
                    } else if v.is_array() {
                        out.extend(v.items());
                    } else {
                        out.push(v);
                    }
                }
                Value::Array(Rc::new(Array::new(out, false, node.consarray, false)))
            }
            Kind::ObjectCons(pairs) => self.eval_group(pairs, node.position, input.clone(), env)?,
            Kind::Name(name) => functions::lookup(input, name),
            Kind::Str(s) => Value::Str(Rc::from(&**s)),
            Kind::Number(n) => Value::Number(*n),
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Null => Value::Null,
            Kind::Wildcard => eval_wildcard(input),
            Kind::Descendant => eval_descendants(input),
            Kind::Parent(label) => env.lookup(label).unwrap_or_default(),
            Kind::Condition {
                cond,
                then,
                otherwise,
            } => {
                let c = self.eval(cond, input, env)?;
                if functions::boolean(&c)? {
                    self.eval(then, input, env)?
                } else if let Some(o) = otherwise {
                    self.eval(o, input, env)?
                } else {
                    Value::Undefined
                }
            }
            Kind::Coalesce(a, b) => {
                let v = self.eval(a, input, env)?;
                if v.is_undefined() {
                    self.eval(b, input, env)?
                } else {
                    v
                }
            }
            Kind::Elvis(a, b) => {
                let v = self.eval(a, input, env)?;
                if functions::boolean(&v)? {
                    v
                } else {
                    self.eval(b, input, env)?
                }
            }
            Kind::Block(exprs) => {
                let frame = env.child();
                let mut result = Value::Undefined;
                for e in exprs {
                    result = self.eval(e, input, &frame)?;
                }
                result
            }
            Kind::Bind { name, value } => {
                let v = self.eval(value, input, env)?;
                if matches!(v, Value::Function(_) | Value::Array(_) | Value::Object(_)) {
                    self.cyclic.push(env.weak());
                }
                env.bind(name, v.clone());
                v
            }
            Kind::Regex(lit) => Value::func(Func::Regex(lit.clone())),
            Kind::Call { procedure, args } => {
                self.eval_call(node, procedure, args, input, env, None)?
            }
            Kind::Partial { procedure, args } => {
                self.eval_partial(node, procedure, args, input, env)?
            }
            Kind::Placeholder => Value::Undefined,
            Kind::Variable(name) => {
                if name.is_empty() {
                    match input {
                        Value::Array(a) if a.outer_wrapper => {
                            a.items.first().cloned().unwrap_or_default()
                        }
                        other => other.clone(),
                    }
                } else {
                    self.lookup(name, env)
                }
            }
            Kind::Lambda(def) => Value::func(Func::Lambda(Lambda {
                def: def.clone(),
                params: def.params.clone().into(),
                signature: def.signature.clone(),
                input: input.clone(),
                env: env.clone(),
            })),
            Kind::Apply { lhs, rhs } => self.eval_apply(node, lhs, rhs, input, env)?,
            Kind::Sort(_) => {
                // A sort node outside a path does not occur: the parser always puts it in one.
                self.eval_sort(node, input.clone(), env)?
            }
            Kind::Transform(def) => Value::func(Func::Transform {
                def: def.clone(),
                env: env.clone(),
            }),
        };

        for p in &node.predicate {
            result = self.eval_filter(p, result, env)?;
        }
        if !matches!(node.kind, Kind::Path { .. }) {
            if let Some(g) = &node.group {
                result = self.eval_group(&g.pairs, g.position, result, env)?;
            }
        }

        if let Value::Array(a) = &result {
            if a.sequence {
                if node.keep_array {
                    a.keep_singleton.set(true);
                }
                if a.items.is_empty() {
                    return Ok(Value::Undefined);
                }
                if a.items.len() == 1 && !a.keep_singleton.get() {
                    return Ok(a.items[0].clone());
                }
            }
        }
        Ok(result)
    }

    fn eval_path(
        &mut self,
        node: &Node,
        steps: &[Node],
        keep_singleton_array: bool,
        input: &Value<'a>,
        env: &Env<'a>,
    ) -> R<'a> {
        let first_is_var = matches!(steps.first().map(|s| &s.kind), Some(Kind::Variable(_)));
        let mut input_seq = if input.is_array() && !first_is_var {
            input.clone()
        } else {
            Value::seq(vec![input.clone()])
        };
        let mut result_seq = Value::Undefined;
        let mut is_tuple = false;
        let mut tuples: Option<Vec<Tuple<'a>>> = None;
        let last = steps.len().saturating_sub(1);
        for (ii, step) in steps.iter().enumerate() {
            if step.tuple {
                is_tuple = true;
            }
            if ii == 0 && step.consarray {
                result_seq = self.eval(step, &input_seq, env)?;
            } else if is_tuple {
                tuples = Some(self.eval_tuple_step(step, &input_seq, tuples.take(), env)?);
            } else {
                result_seq = self.eval_step(step, &input_seq, env, ii == last)?;
            }
            if !is_tuple
                && (result_seq.is_undefined() || (result_seq.is_array() && result_seq.len() == 0))
            {
                break;
            }
            if step.focus.is_none() {
                input_seq = result_seq.clone();
            }
        }
        let mut tuple_stream = None;
        if is_tuple {
            let t = Rc::new(tuples.take().unwrap_or_default());
            result_seq = if node.tuple {
                Value::Tuples(t.clone())
            } else {
                Value::seq(t.iter().map(|t| t.context.clone()).collect())
            };
            tuple_stream = Some(t);
        }
        if keep_singleton_array {
            if let Value::Array(a) = &result_seq {
                if a.cons && !a.sequence {
                    result_seq = Value::seq(vec![result_seq.clone()]);
                }
            }
            if let Value::Array(a) = &result_seq {
                a.keep_singleton.set(true);
            }
        }
        if let Some(g) = &node.group {
            let grouped = match tuple_stream {
                Some(t) => Value::Tuples(t),
                None => result_seq,
            };
            result_seq = self.eval_group(&g.pairs, g.position, grouped, env)?;
        }
        Ok(result_seq)
    }

    fn eval_step(&mut self, step: &Node, input: &Value<'a>, env: &Env<'a>, last: bool) -> R<'a> {
        if matches!(step.kind, Kind::Sort(_)) {
            let mut result = self.eval_sort(step, input.clone(), env)?;
            for stage in &step.stages {
                if let Stage::Filter(f) = stage {
                    result = self.eval_filter(f, result, env)?;
                }
            }
            return Ok(result);
        }
        let items = input.items_or_undefined();
        let mut results: Vec<Value<'a>> = Vec::with_capacity(items.len());
        for item in &items {
            let mut res = self.eval(step, item, env)?;
            for stage in &step.stages {
                if let Stage::Filter(f) = stage {
                    res = self.eval_filter(f, res, env)?;
                }
            }
            if !res.is_undefined() {
                results.push(res);
            }
        }
        if last && results.len() == 1 && results[0].is_array() && !results[0].is_sequence() {
            return Ok(results.pop().unwrap_or_default());
        }
        let mut out = Vec::with_capacity(results.len());
        for res in results {
            let cons = matches!(&res, Value::Array(a) if a.cons);
            if !res.is_array() || cons {
                out.push(res);
            } else {
                match res {
                    Value::Array(a) => match Rc::try_unwrap(a) {
                        Ok(mut a) => out.append(&mut a.items),
                        Err(a) => out.extend(a.items.iter().cloned()),
                    },
                    other => out.extend(other.items()),
                }
            }
        }
        Ok(Value::seq(out))
    }

    fn eval_stages(
        &mut self,
        stages: &[Stage],
        mut tuples: Vec<Tuple<'a>>,
        env: &Env<'a>,
    ) -> Result<Vec<Tuple<'a>>, Error> {
        for stage in stages {
            match stage {
                Stage::Filter(f) => tuples = self.filter_tuples(f, tuples, env)?,
                Stage::Index(name) => {
                    for (i, t) in tuples.iter_mut().enumerate() {
                        t.bind(name, Value::Number(i as f64));
                    }
                }
            }
        }
        Ok(tuples)
    }

    fn eval_tuple_step(
        &mut self,
        step: &Node,
        input: &Value<'a>,
        tuples: Option<Vec<Tuple<'a>>>,
        env: &Env<'a>,
    ) -> Result<Vec<Tuple<'a>>, Error> {
        if matches!(step.kind, Kind::Sort(_)) {
            let mut result = match tuples {
                Some(t) => self.sort_tuples(step, t, env)?,
                None => {
                    let sorted = self.eval_sort(step, input.clone(), env)?;
                    sorted
                        .items()
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| {
                            let mut t = Tuple {
                                context: v,
                                bindings: Vec::new(),
                            };
                            if let Some(index) = &step.index {
                                t.bind(index, Value::Number(i as f64));
                            }
                            t
                        })
                        .collect()
                }
            };
            if !step.stages.is_empty() {
                result = self.eval_stages(&step.stages, result, env)?;
            }
            return Ok(result);
        }
        let tuples = tuples.unwrap_or_else(|| {
            input
                .items_or_undefined()
                .into_iter()
                .map(|v| Tuple {
                    context: v,
                    bindings: Vec::new(),
                })
                .collect()
        });
        let mut result = Vec::new();
        for t in &tuples {
            let step_env = frame_from_tuple(env, t);
            let res = self.eval(step, &t.context, &step_env)?;
            if res.is_undefined() {
                continue;
            }
            if let Value::Tuples(rt) = &res {
                for r in rt.iter() {
                    let mut tuple = t.clone();
                    tuple.context = r.context.clone();
                    for (k, v) in &r.bindings {
                        tuple.bind(k, v.clone());
                    }
                    result.push(tuple);
                }
                continue;
            }
            let items = if res.is_array() {
                res.items()
            } else {
                vec![res]
            };
            for (bb, r) in items.into_iter().enumerate() {
                let mut tuple = t.clone();
                if let Some(focus) = &step.focus {
                    tuple.bind(focus, r);
                } else {
                    tuple.context = r;
                }
                if let Some(index) = &step.index {
                    tuple.bind(index, Value::Number(bb as f64));
                }
                if let Some(anc) = &step.ancestor {
                    tuple.bind(anc, t.context.clone());
                }
                result.push(tuple);
            }
        }
        if !step.stages.is_empty() {
            result = self.eval_stages(&step.stages, result, env)?;
        }
        Ok(result)
    }

    fn filter_tuples(
        &mut self,
        pred: &Node,
        tuples: Vec<Tuple<'a>>,
        env: &Env<'a>,
    ) -> Result<Vec<Tuple<'a>>, Error> {
        if let Kind::Number(n) = pred.kind {
            let mut index = n.floor();
            if index < 0.0 {
                index += tuples.len() as f64;
            }
            if index >= 0.0 && (index as usize) < tuples.len() {
                return Ok(vec![tuples[index as usize].clone()]);
            }
            return Ok(Vec::new());
        }
        let len = tuples.len();
        let mut out = Vec::new();
        for (index, t) in tuples.into_iter().enumerate() {
            let fenv = frame_from_tuple(env, &t);
            let res = self.eval(pred, &t.context, &fenv)?;
            if keep_by_predicate(&res, index, len)? {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// The reference's `evaluateFilter`.
    fn eval_filter(&mut self, pred: &Node, input: Value<'a>, env: &Env<'a>) -> R<'a> {
        if let Value::Tuples(t) = input {
            let t = Rc::try_unwrap(t).unwrap_or_else(|t| (*t).clone());
            return Ok(Value::Tuples(Rc::new(self.filter_tuples(pred, t, env)?)));
        }
        let items = if input.is_array() {
            input.items()
        } else {
            vec![input]
        };
        if let Kind::Number(n) = pred.kind {
            let mut index = n.floor();
            if index < 0.0 {
                index += items.len() as f64;
            }
            let item = if index >= 0.0 && (index as usize) < items.len() {
                items[index as usize].clone()
            } else {
                Value::Undefined
            };
            if item.is_undefined() {
                return Ok(Value::seq(Vec::new()));
            }
            if item.is_array() {
                return Ok(item);
            }
            return Ok(Value::seq(vec![item]));
        }
        let len = items.len();
        let mut out = Vec::new();
        for (index, item) in items.into_iter().enumerate() {
            if item.is_undefined() {
                continue;
            }
            let res = self.eval(pred, &item, env)?;
            if keep_by_predicate(&res, index, len)? {
                out.push(item);
            }
        }
        Ok(Value::seq(out))
    }

    fn eval_binary(
        &mut self,
        node: &Node,
        op: BinOp,
        lhs: &Node,
        rhs: &Node,
        input: &Value<'a>,
        env: &Env<'a>,
    ) -> R<'a> {
        let l = self.eval(lhs, input, env)?;
        let at = |e: Error| e.pos(node.position).token(op.symbol());
        if matches!(op, BinOp::And | BinOp::Or) {
            let lb = functions::boolean(&l).map_err(at)?;
            let result = match op {
                BinOp::And => {
                    lb && {
                        let r = self.eval(rhs, input, env)?;
                        functions::boolean(&r).map_err(at)?
                    }
                }
                _ => {
                    lb || {
                        let r = self.eval(rhs, input, env)?;
                        functions::boolean(&r).map_err(at)?
                    }
                }
            };
            return Ok(Value::Bool(result));
        }
        let r = self.eval(rhs, input, env)?;
        binary_op(op, &l, &r).map_err(at)
    }

    /// The reference's `evaluateGroupExpression` (object constructors and grouping).
    fn eval_group(
        &mut self,
        pairs: &[(Node, Node)],
        position: usize,
        input: Value<'a>,
        env: &Env<'a>,
    ) -> R<'a> {
        enum Data<'a> {
            Values(Value<'a>),
            Tuples(Vec<Tuple<'a>>),
        }
        let mut groups: indexmap::IndexMap<String, (Data<'a>, usize)> = indexmap::IndexMap::new();
        if let Value::Tuples(tuples) = &input {
            let tuples: Vec<Tuple<'a>> = if tuples.is_empty() {
                Vec::new()
            } else {
                tuples.as_ref().clone()
            };
            if tuples.is_empty() {
                // An empty stream still yields the literal parts of the object.
                return self.eval_group(pairs, position, Value::seq(Vec::new()), env);
            }
            for t in tuples {
                let tenv = frame_from_tuple(env, &t);
                for (pi, (k, _)) in pairs.iter().enumerate() {
                    let key = self.eval(k, &t.context, &tenv)?;
                    let Some(key) = group_key(&key, position)? else {
                        continue;
                    };
                    match groups.get_mut(&key) {
                        Some((Data::Tuples(list), idx)) => {
                            if *idx != pi {
                                return Err(Error::new("D1009")
                                    .pos(position)
                                    .value(functions::json_repr(&Value::str(&key))));
                            }
                            list.push(t.clone());
                        }
                        Some(_) => {}
                        None => {
                            groups.insert(key, (Data::Tuples(vec![t.clone()]), pi));
                        }
                    }
                }
            }
        } else {
            let mut items = if input.is_array() {
                input.items()
            } else {
                vec![input]
            };
            if items.is_empty() {
                items.push(Value::Undefined);
            }
            for item in items {
                for (pi, (k, _)) in pairs.iter().enumerate() {
                    let key = self.eval(k, &item, env)?;
                    let Some(key) = group_key(&key, position)? else {
                        continue;
                    };
                    match groups.get_mut(&key) {
                        Some((Data::Values(data), idx)) => {
                            if *idx != pi {
                                return Err(Error::new("D1009")
                                    .pos(position)
                                    .value(functions::json_repr(&Value::str(&key))));
                            }
                            let old = std::mem::take(data);
                            *data = functions::append(old, item.clone());
                        }
                        Some(_) => {}
                        None => {
                            groups.insert(key, (Data::Values(item.clone()), pi));
                        }
                    }
                }
            }
        }
        let mut result = Map::with_capacity(groups.len());
        for (key, (data, idx)) in groups {
            let value = match data {
                Data::Values(context) => self.eval(&pairs[idx].1, &context, env)?,
                Data::Tuples(list) => {
                    let (context, tenv) = reduce_tuple_stream(env, list);
                    self.eval(&pairs[idx].1, &context, &tenv)?
                }
            };
            if !value.is_undefined() {
                crate::value::map_insert(&mut result, key, value);
            }
        }
        Ok(Value::object(result))
    }

    fn sort_values_with(
        &mut self,
        terms: &[SortTerm],
        position: usize,
        items: Vec<(Value<'a>, Env<'a>)>,
    ) -> Result<Vec<usize>, Error> {
        // Evaluate the sort keys once per item, then merge sort the indexes as the
        // reference's merge sort does (stable, comparing with "should swap").
        let mut keys: Vec<Vec<Value<'a>>> = Vec::with_capacity(items.len());
        for (ctx, env) in &items {
            let mut k = Vec::with_capacity(terms.len());
            for t in terms {
                k.push(self.eval(&t.expr, ctx, env)?);
            }
            keys.push(k);
        }
        let idx: Vec<usize> = (0..items.len()).collect();
        let mut err = None;
        let sorted = merge_sort(idx, &mut |a: &usize, b: &usize| {
            if err.is_some() {
                return false;
            }
            match compare_keys(terms, position, &keys[*a], &keys[*b]) {
                Ok(swap) => swap,
                Err(e) => {
                    err = Some(e);
                    false
                }
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        Ok(sorted)
    }

    /// The reference's `evaluateSortExpression` over plain values.
    fn eval_sort(&mut self, node: &Node, input: Value<'a>, env: &Env<'a>) -> R<'a> {
        let Kind::Sort(terms) = &node.kind else {
            return Ok(input);
        };
        if let Value::Tuples(t) = input {
            let t = Rc::try_unwrap(t).unwrap_or_else(|t| (*t).clone());
            return Ok(Value::Tuples(Rc::new(self.sort_tuples(node, t, env)?)));
        }
        if input.is_undefined() {
            return Ok(input);
        }
        if !input.is_array() || input.len() <= 1 {
            return Ok(input);
        }
        let items = input.items();
        let order = self.sort_values_with(
            terms,
            node.position,
            items.iter().map(|v| (v.clone(), env.clone())).collect(),
        )?;
        Ok(Value::array(
            order.into_iter().map(|i| items[i].clone()).collect(),
        ))
    }

    fn sort_tuples(
        &mut self,
        node: &Node,
        tuples: Vec<Tuple<'a>>,
        env: &Env<'a>,
    ) -> Result<Vec<Tuple<'a>>, Error> {
        let Kind::Sort(terms) = &node.kind else {
            return Ok(tuples);
        };
        if tuples.len() <= 1 {
            return Ok(tuples);
        }
        let items = tuples
            .iter()
            .map(|t| (t.context.clone(), frame_from_tuple(env, t)))
            .collect();
        let order = self.sort_values_with(terms, node.position, items)?;
        Ok(order.into_iter().map(|i| tuples[i].clone()).collect())
    }

    fn eval_call(
        &mut self,
        node: &Node,
        procedure: &Node,
        args: &[Node],
        input: &Value<'a>,
        env: &Env<'a>,
        applyto: Option<Value<'a>>,
    ) -> R<'a> {
        let proc = self.eval(procedure, input, env)?;
        let first_name = first_step_name(procedure);
        if proc.is_undefined() {
            if let Some(name) = &first_name {
                if !self.lookup(name, env).is_undefined() {
                    return Err(Error::new("T1005")
                        .pos(node.position)
                        .token(name.to_string()));
                }
            }
        }
        let mut evaluated = Vec::with_capacity(args.len() + 1);
        if let Some(a) = applyto {
            evaluated.push(a);
        }
        for a in args {
            evaluated.push(self.eval(a, input, env)?);
        }
        let token = first_name
            .map(|s| s.to_string())
            .or_else(|| match &procedure.kind {
                Kind::Variable(v) => Some(v.to_string()),
                _ => None,
            });
        let site = CallSite {
            token: token.clone(),
            position: Some(node.position),
        };
        self.apply(&proc, evaluated, input, env, &site)
            .map_err(|mut e| {
                if e.position.is_none() {
                    e.position = Some(node.position);
                }
                if e.token.is_none() {
                    e.token = token;
                }
                e
            })
    }

    /// Applies a function, running tail calls in a loop (the reference's trampoline).
    pub fn apply(
        &mut self,
        proc: &Value<'a>,
        args: Vec<Value<'a>>,
        input: &Value<'a>,
        env: &Env<'a>,
        site: &CallSite,
    ) -> R<'a> {
        let mut result = self.apply_inner(proc, args, input, env, site)?;
        loop {
            let thunk = match &result {
                Value::Function(f) => match &**f {
                    Func::Lambda(l) if l.def.thunk => {
                        Some((l.def.clone(), l.input.clone(), l.env.clone()))
                    }
                    _ => None,
                },
                _ => None,
            };
            let Some((def, tinput, tenv)) = thunk else {
                return Ok(result);
            };
            let Kind::Call { procedure, args } = &def.body.kind else {
                return Ok(result);
            };
            let next = self.eval(procedure, &tinput, &tenv)?;
            let mut evaluated = Vec::with_capacity(args.len());
            for a in args {
                evaluated.push(self.eval(a, &tinput, &tenv)?);
            }
            let token = match &procedure.kind {
                Kind::Variable(v) => Some(v.to_string()),
                _ => first_step_name(procedure).map(|s| s.to_string()),
            };
            let tsite = CallSite {
                token,
                position: Some(procedure.position),
            };
            result = self.apply_inner(&next, evaluated, input, env, &tsite)?;
        }
    }

    fn apply_inner(
        &mut self,
        proc: &Value<'a>,
        args: Vec<Value<'a>>,
        input: &Value<'a>,
        env: &Env<'a>,
        site: &CallSite,
    ) -> R<'a> {
        let r = self.apply_unchecked(proc, args, input, env);
        r.map_err(|mut e| {
            if !proc.is_undefined() {
                if e.token.is_none() {
                    e.token.clone_from(&site.token);
                }
                if site.position.is_some() {
                    e.position = site.position;
                }
            }
            e
        })
    }

    fn apply_unchecked(
        &mut self,
        proc: &Value<'a>,
        args: Vec<Value<'a>>,
        input: &Value<'a>,
        env: &Env<'a>,
    ) -> R<'a> {
        let Value::Function(f) = proc else {
            return Err(Error::new("T1006"));
        };
        match &**f {
            Func::Lambda(l) => {
                let args = match &l.signature {
                    Some(sig) => sig.validate(&args, input)?,
                    None => args,
                };
                let frame = l.env.child();
                for (i, p) in l.params.iter().enumerate() {
                    frame.bind(p, args.get(i).cloned().unwrap_or_default());
                }
                self.eval(&l.def.body, &l.input, &frame)
            }
            Func::Builtin(b) => {
                let args = b.signature().validate(&args, input)?;
                functions::call(self, *b, args, input, env)
            }
            Func::Native { name, f } => {
                let mut jargs = Vec::with_capacity(args.len());
                for a in &args {
                    jargs.push(a.to_json()?);
                }
                let out = f(&jargs, &mut *self.host).map_err(|mut e| {
                    if e.token.is_none() {
                        e.token = Some(name.to_string());
                    }
                    e
                })?;
                Ok(match out {
                    None => Value::Undefined,
                    Some(j) => owned_from_json(j),
                })
            }
            Func::Partial { func, args: bound } => {
                let mut supplied = args.into_iter();
                let full: Vec<Value<'a>> = bound
                    .iter()
                    .map(|a| match a {
                        Some(v) => v.clone(),
                        None => supplied.next().unwrap_or_default(),
                    })
                    .collect();
                let inner = Value::Function(func.clone());
                self.apply_unchecked(&inner, full, input, env)
            }
            Func::Regex(lit) => {
                let s = args.first().and_then(Value::as_rc_str);
                let from = match args.get(1) {
                    Some(Value::Number(n)) if *n > 0.0 => *n as usize,
                    _ => 0,
                };
                match s {
                    Some(s) => {
                        let from = crate::regex::byte_index(&s, from);
                        Ok(functions::regex_exec(lit, s, from))
                    }
                    None => Ok(Value::Undefined),
                }
            }
            Func::RegexNext { regex, text, from } => {
                if *from >= text.len() {
                    return Ok(Value::Undefined);
                }
                let next = functions::regex_exec(regex, text.clone(), *from);
                if let Value::Object(o) = &next {
                    if o.borrow()
                        .get("match")
                        .and_then(|m| m.as_str().map(str::is_empty))
                        == Some(true)
                    {
                        return Err(Error::new("D1004")
                            .value(functions::json_repr(&Value::str(&regex.source))));
                    }
                }
                Ok(next)
            }
            Func::Transform { def, env: tenv } => {
                let sig = crate::signature::Signature::parse("<(oa):o>").map_err(|(e, _)| e)?;
                let args = sig.validate(&args, input)?;
                let obj = args.into_iter().next().unwrap_or_default();
                self.transform(def, obj, tenv)
            }
            Func::Chain(f1, g) => {
                let site = CallSite::default();
                let v = self.apply(f1, args, input, env, &site)?;
                self.apply(g, vec![v], input, env, &site)
            }
        }
    }

    fn transform(
        &mut self,
        def: &crate::ast::TransformDef,
        obj: Value<'a>,
        env: &Env<'a>,
    ) -> R<'a> {
        if obj.is_undefined() {
            return Ok(Value::Undefined);
        }
        let result = obj.deep_clone();
        let matches = self.eval(&def.pattern, &result, env)?;
        if matches.is_undefined() {
            return Ok(result);
        }
        let matches = if matches.is_array() {
            matches.items()
        } else {
            vec![matches]
        };
        for m in matches {
            let update = self.eval(&def.update, &m, env)?;
            if !update.is_undefined() {
                if !update.is_object() {
                    return Err(Error::new("T2011")
                        .pos(def.update.position)
                        .value(functions::json_repr(&update)));
                }
                if let Value::Object(target) = &m {
                    let entries = update.entries();
                    let mut t = target.borrow_mut();
                    for (k, v) in entries {
                        crate::value::map_insert(&mut t, k, v);
                    }
                }
            }
            if let Some(del) = &def.delete {
                let deletions = self.eval(del, &m, env)?;
                if deletions.is_undefined() {
                    continue;
                }
                let list = if deletions.is_array() {
                    deletions.items()
                } else {
                    vec![deletions.clone()]
                };
                if !list.iter().all(Value::is_string) {
                    return Err(Error::new("T2012")
                        .pos(del.position)
                        .value(functions::json_repr(&deletions)));
                }
                if let Value::Object(target) = &m {
                    let mut t = target.borrow_mut();
                    for k in list {
                        if let Some(k) = k.as_str() {
                            t.shift_remove(k);
                        }
                    }
                }
            }
        }
        Ok(result)
    }

    fn eval_partial(
        &mut self,
        node: &Node,
        procedure: &Node,
        args: &[Node],
        input: &Value<'a>,
        env: &Env<'a>,
    ) -> R<'a> {
        let mut evaluated: Vec<Option<Value<'a>>> = Vec::with_capacity(args.len());
        for a in args {
            if matches!(a.kind, Kind::Placeholder) {
                evaluated.push(None);
            } else {
                evaluated.push(Some(self.eval(a, input, env)?));
            }
        }
        let proc = self.eval(procedure, input, env)?;
        let first_name = first_step_name(procedure);
        if proc.is_undefined() {
            if let Some(name) = &first_name {
                if !self.lookup(name, env).is_undefined() {
                    return Err(Error::new("T1007")
                        .pos(node.position)
                        .token(name.to_string()));
                }
            }
        }
        let Value::Function(f) = &proc else {
            let token = first_name
                .map(|s| s.to_string())
                .or_else(|| match &procedure.kind {
                    Kind::Variable(v) => Some(v.to_string()),
                    _ => None,
                });
            let mut e = Error::new("T1008").pos(node.position);
            e.token = token;
            return Err(e);
        };
        if let Func::Lambda(l) = &**f {
            let frame = l.env.child();
            let mut unbound = Vec::new();
            for (i, p) in l.params.iter().enumerate() {
                match evaluated.get(i) {
                    Some(None) => unbound.push(p.clone()),
                    Some(Some(v)) => frame.bind(p, v.clone()),
                    None => frame.bind(p, Value::Undefined),
                }
            }
            return Ok(Value::func(Func::Lambda(Lambda {
                def: l.def.clone(),
                params: unbound.into(),
                signature: None,
                input: l.input.clone(),
                env: frame,
            })));
        }
        // Built-in and host functions: remember the supplied arguments; parameters beyond
        // those written are left undefined, as the reference binds them.
        let arity = match &**f {
            Func::Builtin(b) => b.arity(),
            _ => evaluated.len(),
        };
        while evaluated.len() < arity {
            evaluated.push(Some(Value::Undefined));
        }
        Ok(Value::func(Func::Partial {
            func: f.clone(),
            args: evaluated,
        }))
    }

    fn eval_apply(
        &mut self,
        node: &Node,
        lhs: &Node,
        rhs: &Node,
        input: &Value<'a>,
        env: &Env<'a>,
    ) -> R<'a> {
        let l = self.eval(lhs, input, env)?;
        if let Kind::Call { procedure, args } = &rhs.kind {
            let result = self.eval_call(rhs, procedure, args, input, env, Some(l))?;
            // `x ~> $f()[]`: the empty predicate on the call keeps a singleton result an array.
            if rhs.keep_array {
                if let Value::Array(a) = &result {
                    if a.sequence {
                        a.keep_singleton.set(true);
                    }
                }
            }
            return Ok(result);
        }
        let func = self.eval(rhs, input, env)?;
        if !func.is_function() {
            return Err(Error::new("T2006")
                .pos(node.position)
                .value(functions::json_repr(&func)));
        }
        if l.is_function() {
            return Ok(Value::func(Func::Chain(l, func)));
        }
        let site = CallSite::default();
        self.apply(&func, vec![l], &Value::Null, env, &site)
    }

    /// Parses and evaluates an expression at run time (`$eval`).
    pub fn eval_string(&mut self, source: &str, input: &Value<'a>, env: &Env<'a>) -> R<'a> {
        let ast = crate::parser::parse(source).map_err(|e| {
            let e = e.finish();
            Error::new("D3120").value(functions::json_repr(&Value::str(&e.message)))
        })?;
        let input = match input {
            Value::Array(a) if !a.sequence => {
                Value::Array(Rc::new(Array::new(vec![input.clone()], true, false, true)))
            }
            Value::Json(Json::Array(_)) => {
                Value::Array(Rc::new(Array::new(vec![input.clone()], true, false, true)))
            }
            other => other.clone(),
        };
        self.eval(&ast, &input, env).map_err(|e| {
            if e.code == "U1001" {
                return e;
            }
            let e = e.finish();
            Error::new("D3121").value(functions::json_repr(&Value::str(&e.message)))
        })
    }
}

impl Error {
    fn finish_timeout(mut self) -> Self {
        self.message = "Expression evaluation timeout: Check for infinite loop".into();
        self
    }
}

/// Makes owned values from a host function's JSON result.
pub(crate) fn owned_from_json<'a>(j: Json) -> Value<'a> {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(b),
        Json::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        Json::String(s) => Value::string(s),
        Json::Array(a) => Value::array(a.into_iter().map(owned_from_json).collect()),
        Json::Object(o) => {
            let mut map = Map::with_capacity(o.len());
            for (k, v) in o {
                crate::value::map_insert(&mut map, k, owned_from_json(v));
            }
            Value::object(map)
        }
    }
}

fn first_step_name(node: &Node) -> Option<Arc<str>> {
    match &node.kind {
        Kind::Path { steps, .. } => match steps.first().map(|s| &s.kind) {
            Some(Kind::Name(n)) => Some(n.clone()),
            _ => None,
        },
        _ => None,
    }
}

fn frame_from_tuple<'a>(env: &Env<'a>, t: &Tuple<'a>) -> Env<'a> {
    let frame = env.child();
    for (k, v) in &t.bindings {
        frame.bind(k, v.clone());
    }
    frame
}

/// Merges the tuples of a group into one: contexts and bindings are appended.
fn reduce_tuple_stream<'a>(env: &Env<'a>, list: Vec<Tuple<'a>>) -> (Value<'a>, Env<'a>) {
    let mut iter = list.into_iter();
    let Some(first) = iter.next() else {
        return (Value::Undefined, env.clone());
    };
    let mut context = first.context;
    let mut bindings = first.bindings;
    for t in iter {
        context = functions::append(context, t.context);
        for (k, v) in t.bindings {
            if let Some(slot) = bindings.iter_mut().find(|(n, _)| *n == k) {
                let old = std::mem::take(&mut slot.1);
                slot.1 = functions::append(old, v);
            } else {
                bindings.push((k, v));
            }
        }
    }
    let frame = env.child();
    for (k, v) in &bindings {
        frame.bind(k, v.clone());
    }
    (context, frame)
}

fn group_key(key: &Value<'_>, position: usize) -> Result<Option<String>, Error> {
    match key {
        Value::Undefined => Ok(None),
        _ => match key.as_str() {
            Some(s) => Ok(Some(s.to_string())),
            None => Err(Error::new("T1003")
                .pos(position)
                .value(functions::json_repr(key))),
        },
    }
}

/// Whether a predicate result keeps the item at `index`: numbers select positions,
/// anything else is tested for truth.
fn keep_by_predicate(res: &Value<'_>, index: usize, len: usize) -> Result<bool, Error> {
    let numbers: Option<Vec<f64>> = if let Some(n) = res.numeric()? {
        Some(vec![n])
    } else if res.is_array() {
        let items = res.items();
        let mut ns = Vec::with_capacity(items.len());
        let mut all = true;
        for i in &items {
            match i.numeric()? {
                Some(n) => ns.push(n),
                None => {
                    all = false;
                    break;
                }
            }
        }
        if all {
            Some(ns)
        } else {
            None
        }
    } else {
        None
    };
    if let Some(ns) = numbers {
        for n in ns {
            let mut ii = n.floor();
            if ii < 0.0 {
                ii += len as f64;
            }
            if ii == index as f64 {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    functions::boolean(res)
}

fn eval_wildcard<'a>(input: &Value<'a>) -> Value<'a> {
    let mut input = input.clone();
    if let Value::Array(a) = &input {
        if a.outer_wrapper && !a.items.is_empty() {
            input = a.items[0].clone();
        }
    }
    let mut results: Vec<Value<'a>> = Vec::new();
    let mut sequence = true;
    let values: Vec<Value<'a>> = if input.is_object() {
        input.entries().into_iter().map(|(_, v)| v).collect()
    } else if input.is_array() {
        input.items()
    } else {
        Vec::new()
    };
    for v in values {
        if v.is_array() {
            let mut flat = Vec::new();
            flatten(&v, &mut flat);
            results.extend(flat);
            sequence = false;
        } else {
            results.push(v);
        }
    }
    if sequence {
        Value::seq(results)
    } else {
        Value::array(results)
    }
}

fn flatten<'a>(v: &Value<'a>, out: &mut Vec<Value<'a>>) {
    if v.is_array() {
        for i in v.items() {
            flatten(&i, out);
        }
    } else {
        out.push(v.clone());
    }
}

fn eval_descendants<'a>(input: &Value<'a>) -> Value<'a> {
    if input.is_undefined() {
        return Value::Undefined;
    }
    let mut out = Vec::new();
    recurse_descendants(input, &mut out);
    if out.len() == 1 {
        out.pop().unwrap_or_default()
    } else {
        Value::seq(out)
    }
}

fn recurse_descendants<'a>(input: &Value<'a>, out: &mut Vec<Value<'a>>) {
    crate::guarded(|| {
        if input.is_array() {
            for i in input.items() {
                recurse_descendants(&i, out);
            }
        } else {
            out.push(input.clone());
            if input.is_object() {
                for (_, v) in input.entries() {
                    recurse_descendants(&v, out);
                }
            }
        }
    });
}

/// The value operators.
fn binary_op<'a>(op: BinOp, l: &Value<'a>, r: &Value<'a>) -> R<'a> {
    match op {
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
            let ln = l.numeric()?;
            if !l.is_undefined() && ln.is_none() {
                return Err(Error::new("T2001").value(functions::json_repr(l)));
            }
            let rn = r.numeric()?;
            if !r.is_undefined() && rn.is_none() {
                return Err(Error::new("T2002").value(functions::json_repr(r)));
            }
            let (Some(a), Some(b)) = (ln, rn) else {
                return Ok(Value::Undefined);
            };
            Ok(Value::Number(match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => a / b,
                _ => a % b,
            }))
        }
        BinOp::Eq | BinOp::Ne => {
            if l.is_undefined() || r.is_undefined() {
                return Ok(Value::Bool(false));
            }
            let eq = deep_equal(l, r);
            Ok(Value::Bool(if op == BinOp::Eq { eq } else { !eq }))
        }
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let comparable =
                |v: &Value<'_>| v.is_undefined() || v.is_string() || matches!(v, Value::Number(_));
            if !comparable(l) || !comparable(r) {
                let bad = if l.is_string() || matches!(l, Value::Number(_)) {
                    r
                } else {
                    l
                };
                return Err(Error::new("T2010").value(functions::json_repr(bad)));
            }
            if l.is_undefined() || r.is_undefined() {
                return Ok(Value::Undefined);
            }
            let ord = match (l, r) {
                (Value::Number(a), Value::Number(b)) => a.partial_cmp(b),
                _ => match (l.as_str(), r.as_str()) {
                    (Some(a), Some(b)) => Some(functions::js_str_cmp(a, b)),
                    _ => {
                        return Err(Error::new("T2009")
                            .value(functions::json_repr(l))
                            .value2(functions::json_repr(r)));
                    }
                },
            };
            use std::cmp::Ordering::*;
            Ok(Value::Bool(match (op, ord) {
                (_, None) => false,
                (BinOp::Lt, Some(o)) => o == Less,
                (BinOp::Le, Some(o)) => o != Greater,
                (BinOp::Gt, Some(o)) => o == Greater,
                (_, Some(o)) => o != Less,
            }))
        }
        BinOp::Concat => {
            let mut s = String::new();
            if !l.is_undefined() {
                s.push_str(&functions::to_js_string(l)?);
            }
            if !r.is_undefined() {
                s.push_str(&functions::to_js_string(r)?);
            }
            Ok(Value::string(s))
        }
        BinOp::In => {
            if l.is_undefined() || r.is_undefined() {
                return Ok(Value::Bool(false));
            }
            let items = if r.is_array() {
                r.items()
            } else {
                vec![r.clone()]
            };
            Ok(Value::Bool(items.iter().any(|i| i.strict_eq(l))))
        }
        BinOp::Range => {
            let is_int =
                |v: &Value<'_>| matches!(v, Value::Number(n) if n.fract() == 0.0 && n.is_finite());
            if !l.is_undefined() && !is_int(l) {
                return Err(Error::new("T2003").value(functions::json_repr(l)));
            }
            if !r.is_undefined() && !is_int(r) {
                return Err(Error::new("T2004").value(functions::json_repr(r)));
            }
            let (Value::Number(a), Value::Number(b)) = (l, r) else {
                return Ok(Value::Undefined);
            };
            if a > b {
                return Ok(Value::Undefined);
            }
            let size = b - a + 1.0;
            if size > 1e7 {
                return Err(Error::new("D2014").value(js_number_string(size)));
            }
            let n = size as usize;
            let start = *a;
            let mut items = Vec::with_capacity(n);
            for i in 0..n {
                items.push(Value::Number(start + i as f64));
            }
            Ok(Value::seq(items))
        }
        BinOp::And | BinOp::Or => Ok(Value::Undefined),
    }
}

/// Compares two items' sort keys: whether they must be swapped.
fn compare_keys<'a>(
    terms: &[SortTerm],
    position: usize,
    a: &[Value<'a>],
    b: &[Value<'a>],
) -> Result<bool, Error> {
    let mut comp = 0;
    for (i, term) in terms.iter().enumerate() {
        if comp != 0 {
            break;
        }
        let (aa, bb) = (&a[i], &b[i]);
        if aa.is_undefined() {
            comp = if bb.is_undefined() { 0 } else { 1 };
            continue;
        }
        if bb.is_undefined() {
            comp = -1;
            continue;
        }
        let ok = |v: &Value<'_>| v.is_string() || matches!(v, Value::Number(_));
        if !ok(aa) || !ok(bb) {
            let bad = if ok(aa) { bb } else { aa };
            return Err(Error::new("T2008")
                .pos(position)
                .value(functions::json_repr(bad)));
        }
        let ord = match (aa, bb) {
            (Value::Number(x), Value::Number(y)) => x.partial_cmp(y),
            _ => match (aa.as_str(), bb.as_str()) {
                (Some(x), Some(y)) => Some(functions::js_str_cmp(x, y)),
                _ => {
                    return Err(Error::new("T2007")
                        .pos(position)
                        .value(functions::json_repr(aa))
                        .value2(functions::json_repr(bb)));
                }
            },
        };
        match ord {
            Some(std::cmp::Ordering::Equal) | None => continue,
            Some(std::cmp::Ordering::Less) => comp = -1,
            Some(std::cmp::Ordering::Greater) => comp = 1,
        }
        if term.descending {
            comp = -comp;
        }
    }
    Ok(comp == 1)
}

/// The reference's merge sort: stable, and `swap(a, b)` says whether `b` goes first.
pub(crate) fn merge_sort<T: Clone>(items: Vec<T>, swap: &mut dyn FnMut(&T, &T) -> bool) -> Vec<T> {
    if items.len() <= 1 {
        return items;
    }
    let middle = items.len() / 2;
    let mut left = items;
    let right = left.split_off(middle);
    let left = merge_sort(left, swap);
    let right = merge_sort(right, swap);
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if swap(&left[i], &right[j]) {
            out.push(right[j].clone());
            j += 1;
        } else {
            out.push(left[i].clone());
            i += 1;
        }
    }
    out.extend_from_slice(&left[i..]);
    out.extend_from_slice(&right[j..]);
    out
}

impl<'a> Value<'a> {
    /// The items to iterate a step over; undefined is one (undefined) item, as in the
    /// reference's `createSequence(undefined)`.
    fn items_or_undefined(&self) -> Vec<Value<'a>> {
        match self {
            Value::Undefined => vec![Value::Undefined],
            other if other.is_array() => other.items(),
            other => vec![other.clone()],
        }
    }
}
