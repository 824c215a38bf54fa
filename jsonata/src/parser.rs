//! The parser: a Pratt (top-down operator precedence) parser as the reference's, followed by
//! the reference's post-processing pass that flattens paths, attaches predicates to steps,
//! resolves the parent operator and marks tail calls.

use std::sync::Arc;

use crate::ast::{BinOp, Group, Kind, LambdaDef, Node, SortTerm, Stage, TransformDef};
use crate::error::Error;
use crate::lexer::{Lexer, Tok, Token};
use crate::signature::Signature;

/// The deepest nesting of sub-expressions the parser accepts. Each level costs stack in
/// the parser and the evaluator, so absurd nesting is refused up front.
pub(crate) const MAX_NESTING: usize = 1000;

/// The raw parse tree, before post-processing.
#[derive(Debug)]
struct PNode {
    kind: PKind,
    pos: usize,
    keep_array: bool,
    /// The height of the tree below this node, bounded by [`MAX_NESTING`]: left-associative
    /// chains (`1 + 1 + ...`) grow the tree without nesting the parser's calls.
    height: usize,
}

#[derive(Debug)]
enum PKind {
    Name(String),
    Variable(String),
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Regex {
        pattern: String,
        flags: String,
    },
    /// `and`, `or` or `in` used as a name.
    OpName(&'static str),
    Placeholder,
    End,
    Binary(&'static str, Box<PNode>, Box<PNode>),
    Negate(Box<PNode>),
    Wildcard,
    Descendant,
    Parent,
    Block(Vec<PNode>),
    Array(Vec<PNode>),
    Object(Vec<(PNode, PNode)>),
    Group(Box<PNode>, Vec<(PNode, PNode)>),
    Predicate(Box<PNode>, Box<PNode>),
    OrderBy(Box<PNode>, Vec<(bool, PNode)>),
    Bind(Box<PNode>, Box<PNode>),
    Focus(Box<PNode>, Box<PNode>),
    IndexBind(Box<PNode>, Box<PNode>),
    Call {
        procedure: Box<PNode>,
        args: Vec<PNode>,
        partial: bool,
    },
    Lambda {
        params: Vec<String>,
        signature: Option<Signature>,
        body: Box<PNode>,
    },
    Condition(Box<PNode>, Box<PNode>, Option<Box<PNode>>),
    Coalesce(Box<PNode>, Box<PNode>),
    Elvis(Box<PNode>, Box<PNode>),
    Transform(Box<PNode>, Box<PNode>, Option<Box<PNode>>),
}

impl PNode {
    fn new(kind: PKind, pos: usize) -> Self {
        let height = 1 + kind.child_height();
        PNode {
            kind,
            pos,
            keep_array: false,
            height,
        }
    }

    /// The reference's `value` of the node, for error tokens.
    fn token_text(&self) -> String {
        match &self.kind {
            PKind::Name(s) | PKind::Variable(s) | PKind::Str(s) => s.clone(),
            PKind::Num(n) => crate::value::js_number_string(*n),
            PKind::Bool(b) => b.to_string(),
            PKind::Null => "null".into(),
            PKind::OpName(s) => (*s).into(),
            PKind::Binary(op, ..) => (*op).into(),
            _ => String::new(),
        }
    }
}

impl PKind {
    fn child_height(&self) -> usize {
        let h = |n: &PNode| n.height;
        let pairs = |ps: &[(PNode, PNode)]| {
            ps.iter()
                .map(|(a, b)| a.height.max(b.height))
                .max()
                .unwrap_or(0)
        };
        let list = |ns: &[PNode]| ns.iter().map(|n| n.height).max().unwrap_or(0);
        match self {
            PKind::Binary(_, a, b)
            | PKind::Predicate(a, b)
            | PKind::Bind(a, b)
            | PKind::Focus(a, b)
            | PKind::IndexBind(a, b)
            | PKind::Coalesce(a, b)
            | PKind::Elvis(a, b) => h(a).max(h(b)),
            PKind::Negate(a) => h(a),
            PKind::Block(ns) | PKind::Array(ns) => list(ns),
            PKind::Object(ps) => pairs(ps),
            PKind::Group(a, ps) => h(a).max(pairs(ps)),
            PKind::OrderBy(a, ts) => h(a).max(ts.iter().map(|(_, t)| t.height).max().unwrap_or(0)),
            PKind::Call {
                procedure, args, ..
            } => h(procedure).max(list(args)),
            PKind::Lambda { body, .. } => h(body),
            PKind::Condition(a, b, c) => h(a).max(h(b)).max(c.as_ref().map_or(0, |c| h(c))),
            PKind::Transform(a, b, c) => h(a).max(h(b)).max(c.as_ref().map_or(0, |c| h(c))),
            _ => 0,
        }
    }
}

fn too_deep(pos: usize) -> Error {
    Error::with_message(
        "U1001",
        format!("Expression nesting too deep: the parser accepts at most {MAX_NESTING} levels"),
    )
    .pos(pos)
}

/// Parses and post-processes an expression.
pub(crate) fn parse(source: &str) -> Result<Node, Error> {
    let mut p = Parser {
        lexer: Lexer::new(source),
        current: None,
        depth: 0,
    };
    p.advance(None, false)?;
    let raw = p.expression(0)?;
    if let Some(t) = &p.current {
        return Err(Error::new("S0201").pos(t.position).token(tok_text(&t.tok)));
    }
    let mut post = Post { slots: Vec::new() };
    let mut node = post.process(raw)?;
    if matches!(node.kind, Kind::Parent(_)) || !node.seeking.is_empty() {
        return Err(Error::new("S0217")
            .pos(node.position)
            .token(node.type_name()));
    }
    post.finish(&mut node);
    Ok(node)
}

struct Parser {
    lexer: Lexer,
    /// The current token; `None` is the end of the input.
    current: Option<Token>,
    depth: usize,
}

fn tok_text(t: &Tok) -> String {
    match t {
        Tok::Name(s) | Tok::Variable(s) | Tok::Str(s) => s.clone(),
        Tok::Op(s) => (*s).to_string(),
        Tok::Num(n) => crate::value::js_number_string(*n),
        Tok::Bool(b) => b.to_string(),
        Tok::Null => "null".into(),
        Tok::Regex { pattern, .. } => format!("/{pattern}/"),
    }
}

/// The symbols the reference's parser knows; other operator tokens are errors.
fn known_symbol(op: &str) -> bool {
    !matches!(op, "!" | "~")
}

/// Left binding powers.
fn lbp(id: &str) -> u32 {
    match id {
        "." => 75,
        "[" | "(" | "@" | "#" => 80,
        "{" => 70,
        "?" => 20,
        "+" | "-" | "&" => 50,
        "*" | "/" | "%" => 60,
        "=" | "<" | ">" | "^" | "!=" | "<=" | ">=" | "~>" | "in" | "?:" | "??" => 40,
        ":=" => 10,
        "and" => 30,
        "or" => 25,
        _ => 0,
    }
}

impl Parser {
    fn id(&self) -> &'static str {
        match &self.current {
            None => "(end)",
            Some(t) => match &t.tok {
                Tok::Name(_) | Tok::Variable(_) => "(name)",
                Tok::Op(op) => op,
                Tok::Str(_) | Tok::Num(_) | Tok::Bool(_) | Tok::Null => "(literal)",
                Tok::Regex { .. } => "(regex)",
            },
        }
    }

    fn position(&self) -> usize {
        match &self.current {
            None => self.lexer.len(),
            Some(t) => t.position,
        }
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(&self.current, Some(Token { tok: Tok::Op(o), .. }) if *o == op)
    }

    fn advance(&mut self, expect: Option<&str>, infix: bool) -> Result<(), Error> {
        if let Some(id) = expect {
            if self.id() != id {
                let code = if self.current.is_none() {
                    "S0203"
                } else {
                    "S0202"
                };
                let token = self
                    .current
                    .as_ref()
                    .map_or_else(|| "(end)".to_string(), |t| tok_text(&t.tok));
                return Err(Error::new(code)
                    .pos(self.position())
                    .token(token)
                    .value(serde_json::to_string(id).unwrap_or_default()));
            }
        }
        let next = self.lexer.next(infix)?;
        if let Some(Token {
            tok: Tok::Op(op),
            position,
        }) = &next
        {
            if !known_symbol(op) {
                return Err(Error::new("S0204").pos(*position).token(*op));
            }
        }
        self.current = next;
        Ok(())
    }

    fn expression(&mut self, rbp: u32) -> Result<PNode, Error> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(too_deep(self.position()));
        }
        let r = crate::guarded(|| self.expression_inner(rbp));
        self.depth -= 1;
        r
    }

    fn expression_inner(&mut self, rbp: u32) -> Result<PNode, Error> {
        let t = self.current.take();
        self.advance(None, true)?;
        let mut left = self.nud(t)?;
        while rbp < lbp(self.id()) {
            let t = self.current.take();
            self.advance(None, false)?;
            let Some(t) = t else { break };
            left = self.led(t, left)?;
            if left.height > MAX_NESTING {
                return Err(too_deep(left.pos));
            }
        }
        Ok(left)
    }

    fn nud(&mut self, t: Option<Token>) -> Result<PNode, Error> {
        let Some(t) = t else {
            return Ok(PNode::new(PKind::End, self.lexer.len()));
        };
        let pos = t.position;
        let kind = match t.tok {
            Tok::Name(s) => PKind::Name(s),
            Tok::Variable(s) => PKind::Variable(s),
            Tok::Str(s) => PKind::Str(s),
            Tok::Num(n) => PKind::Num(n),
            Tok::Bool(b) => PKind::Bool(b),
            Tok::Null => PKind::Null,
            Tok::Regex { pattern, flags } => PKind::Regex { pattern, flags },
            Tok::Op(op) => match op {
                "and" | "or" | "in" => PKind::OpName(op),
                "-" => PKind::Negate(Box::new(self.expression(70)?)),
                "*" => PKind::Wildcard,
                "**" => PKind::Descendant,
                "%" => PKind::Parent,
                "(" => {
                    let mut exprs = Vec::new();
                    while self.id() != ")" {
                        exprs.push(self.expression(0)?);
                        if self.id() != ";" {
                            break;
                        }
                        self.advance(Some(";"), false)?;
                    }
                    self.advance(Some(")"), true)?;
                    PKind::Block(exprs)
                }
                "[" => {
                    let mut items = Vec::new();
                    if self.id() != "]" {
                        loop {
                            let mut item = self.expression(0)?;
                            if self.id() == ".." {
                                let rpos = self.position();
                                self.advance(Some(".."), false)?;
                                let rhs = self.expression(0)?;
                                item = PNode::new(
                                    PKind::Binary("..", Box::new(item), Box::new(rhs)),
                                    rpos,
                                );
                            }
                            items.push(item);
                            if self.id() != "," {
                                break;
                            }
                            self.advance(Some(","), false)?;
                        }
                    }
                    self.advance(Some("]"), true)?;
                    PKind::Array(items)
                }
                "{" => PKind::Object(self.object_pairs()?),
                "|" => {
                    let pattern = self.expression(0)?;
                    self.advance(Some("|"), false)?;
                    let update = self.expression(0)?;
                    let mut delete = None;
                    if self.id() == "," {
                        self.advance(Some(","), false)?;
                        delete = Some(Box::new(self.expression(0)?));
                    }
                    self.advance(Some("|"), false)?;
                    PKind::Transform(Box::new(pattern), Box::new(update), delete)
                }
                other => {
                    return Err(Error::new("S0211").pos(pos).token(other));
                }
            },
        };
        Ok(PNode::new(kind, pos))
    }

    fn object_pairs(&mut self) -> Result<Vec<(PNode, PNode)>, Error> {
        let mut pairs = Vec::new();
        if self.id() != "}" {
            loop {
                let k = self.expression(0)?;
                self.advance(Some(":"), false)?;
                let v = self.expression(0)?;
                pairs.push((k, v));
                if self.id() != "," {
                    break;
                }
                self.advance(Some(","), false)?;
            }
        }
        self.advance(Some("}"), true)?;
        Ok(pairs)
    }

    fn led(&mut self, t: Token, left: PNode) -> Result<PNode, Error> {
        let pos = t.position;
        let Tok::Op(op) = t.tok else {
            return Err(Error::new("S0201").pos(pos).token(tok_text(&t.tok)));
        };
        let kind = match op {
            "." | "+" | "-" | "*" | "/" | "%" | "=" | "<" | ">" | "!=" | "<=" | ">=" | "&"
            | "and" | "or" | "in" | "~>" => {
                let rhs = self.expression(lbp(op))?;
                PKind::Binary(op, Box::new(left), Box::new(rhs))
            }
            "(" => return self.call(left, pos),
            "[" => {
                if self.id() == "]" {
                    // An empty predicate keeps singleton results as arrays.
                    let mut left = left;
                    {
                        let mut step = &mut left;
                        while let PKind::Predicate(lhs, _) = &mut step.kind {
                            step = lhs;
                        }
                        step.keep_array = true;
                    }
                    self.advance(Some("]"), false)?;
                    return Ok(left);
                }
                let rhs = self.expression(0)?;
                self.advance(Some("]"), true)?;
                PKind::Predicate(Box::new(left), Box::new(rhs))
            }
            "^" => {
                self.advance(Some("("), false)?;
                let mut terms = Vec::new();
                loop {
                    let mut descending = false;
                    if self.id() == "<" {
                        self.advance(Some("<"), false)?;
                    } else if self.id() == ">" {
                        descending = true;
                        self.advance(Some(">"), false)?;
                    }
                    terms.push((descending, self.expression(0)?));
                    if self.id() != "," {
                        break;
                    }
                    self.advance(Some(","), false)?;
                }
                self.advance(Some(")"), false)?;
                PKind::OrderBy(Box::new(left), terms)
            }
            "{" => PKind::Group(Box::new(left), self.object_pairs()?),
            ":=" => {
                if !matches!(left.kind, PKind::Variable(_)) {
                    return Err(Error::new("S0212").pos(left.pos).token(left.token_text()));
                }
                let rhs = self.expression(lbp(":=") - 1)?;
                PKind::Bind(Box::new(left), Box::new(rhs))
            }
            "@" | "#" => {
                let rhs = self.expression(lbp(op))?;
                if !matches!(rhs.kind, PKind::Variable(_)) {
                    return Err(Error::new("S0214").pos(rhs.pos).token(op));
                }
                if op == "@" {
                    PKind::Focus(Box::new(left), Box::new(rhs))
                } else {
                    PKind::IndexBind(Box::new(left), Box::new(rhs))
                }
            }
            "?" => {
                let then = self.expression(0)?;
                let mut otherwise = None;
                if self.id() == ":" {
                    self.advance(Some(":"), false)?;
                    otherwise = Some(Box::new(self.expression(0)?));
                }
                PKind::Condition(Box::new(left), Box::new(then), otherwise)
            }
            "?:" => PKind::Elvis(Box::new(left), Box::new(self.expression(0)?)),
            "??" => PKind::Coalesce(Box::new(left), Box::new(self.expression(0)?)),
            other => return Err(Error::new("S0201").pos(pos).token(other)),
        };
        Ok(PNode::new(kind, pos))
    }

    fn call(&mut self, procedure: PNode, pos: usize) -> Result<PNode, Error> {
        let mut args = Vec::new();
        let mut partial = false;
        if self.id() != ")" {
            loop {
                if self.is_op("?") {
                    partial = true;
                    args.push(PNode::new(PKind::Placeholder, self.position()));
                    self.advance(Some("?"), false)?;
                } else {
                    args.push(self.expression(0)?);
                }
                if self.id() != "," {
                    break;
                }
                self.advance(Some(","), false)?;
            }
        }
        self.advance(Some(")"), true)?;
        let is_lambda =
            matches!(&procedure.kind, PKind::Name(n) if n == "function" || n == "\u{3bb}");
        if !is_lambda {
            return Ok(PNode::new(
                PKind::Call {
                    procedure: Box::new(procedure),
                    args,
                    partial,
                },
                pos,
            ));
        }
        let mut params = Vec::new();
        for (i, arg) in args.into_iter().enumerate() {
            match arg.kind {
                PKind::Variable(v) => params.push(v),
                _ => {
                    return Err(Error::new("S0208")
                        .pos(arg.pos)
                        .token(arg.token_text())
                        .value((i + 1).to_string()));
                }
            }
        }
        let mut signature = None;
        if self.id() == "<" {
            let sig_pos = self.position();
            let mut depth = 1;
            let mut sig = String::from("<");
            while depth > 0 && self.id() != "{" && self.id() != "(end)" {
                self.advance(None, false)?;
                match self.id() {
                    ">" => depth -= 1,
                    "<" => depth += 1,
                    _ => {}
                }
                if let Some(t) = &self.current {
                    sig.push_str(&tok_text(&t.tok));
                }
            }
            self.advance(Some(">"), false)?;
            signature =
                Some(Signature::parse(&sig).map_err(|(e, offset)| e.pos(sig_pos + offset))?);
        }
        self.advance(Some("{"), false)?;
        let body = self.expression(0)?;
        self.advance(Some("}"), false)?;
        Ok(PNode::new(
            PKind::Lambda {
                params,
                signature,
                body: Box::new(body),
            },
            pos,
        ))
    }
}

/// A parent-operator slot: how many steps up it still has to look, and its label.
#[derive(Debug, Clone)]
struct Slot {
    label: usize,
    level: i32,
}

/// The post-processing pass.
struct Post {
    slots: Vec<Slot>,
}

fn push_ancestry(result: &mut Node, value: &Node) {
    result.seeking.extend(value.seeking.iter().copied());
    if let (Kind::Parent(_), Some(slot)) = (&value.kind, value.slot) {
        result.seeking.push(slot);
    }
}

impl Post {
    fn process(&mut self, expr: PNode) -> Result<Node, Error> {
        crate::guarded(|| self.process_inner(expr))
    }

    fn process_inner(&mut self, expr: PNode) -> Result<Node, Error> {
        let pos = expr.pos;
        let keep_array = expr.keep_array;
        let coalesce_kind = matches!(expr.kind, PKind::Coalesce(..));
        let mut result = match expr.kind {
            PKind::Binary(".", lhs, rhs) => {
                let lstep = self.process(*lhs)?;
                let lstep_parent = match (&lstep.kind, lstep.slot) {
                    (Kind::Parent(_), Some(s)) => Some(s),
                    _ => None,
                };
                let mut result = if matches!(lstep.kind, Kind::Path { .. }) {
                    lstep
                } else {
                    Node::new(
                        Kind::Path {
                            steps: vec![lstep],
                            keep_singleton_array: false,
                        },
                        pos,
                    )
                };
                if let Some(s) = lstep_parent {
                    result.seeking = vec![s];
                }
                let rest = self.process(*rhs)?;
                let Kind::Path {
                    steps,
                    keep_singleton_array,
                } = &mut result.kind
                else {
                    unreachable!("result is a path");
                };
                match rest.kind {
                    Kind::Path { steps: rsteps, .. } => steps.extend(rsteps),
                    _ => {
                        let mut rest = rest;
                        if !rest.predicate.is_empty() {
                            rest.stages = std::mem::take(&mut rest.predicate)
                                .into_iter()
                                .map(Stage::Filter)
                                .collect();
                        }
                        steps.push(rest);
                    }
                }
                for step in steps.iter_mut() {
                    match &step.kind {
                        Kind::Number(n) => {
                            return Err(Error::new("S0213")
                                .pos(step.position)
                                .value(crate::value::js_number_string(*n)));
                        }
                        Kind::Bool(b) => {
                            return Err(Error::new("S0213")
                                .pos(step.position)
                                .value(b.to_string()));
                        }
                        Kind::Null => {
                            return Err(Error::new("S0213").pos(step.position).value("null"));
                        }
                        Kind::Str(s) => step.kind = Kind::Name(s.clone()),
                        _ => {}
                    }
                }
                if steps.iter().any(|s| s.keep_array) {
                    *keep_singleton_array = true;
                }
                if let Some(first) = steps.first_mut() {
                    if matches!(first.kind, Kind::ArrayCons(_)) {
                        first.consarray = true;
                    }
                }
                if let Some(last) = steps.last_mut() {
                    if matches!(last.kind, Kind::ArrayCons(_)) {
                        last.consarray = true;
                    }
                }
                self.resolve_ancestry(&mut result)?;
                result
            }
            PKind::Predicate(lhs, rhs) => {
                let mut result = self.process(*lhs)?;
                let is_path = matches!(result.kind, Kind::Path { .. });
                let predicate = self.process(*rhs)?;
                {
                    let step: &mut Node = match &mut result.kind {
                        Kind::Path { steps, .. } if is_path => match steps.last_mut() {
                            Some(s) => s,
                            None => unreachable!("paths have steps"),
                        },
                        _ => &mut result,
                    };
                    if step.group.is_some() {
                        return Err(Error::new("S0209").pos(pos));
                    }
                    if !predicate.seeking.is_empty() {
                        for slot in predicate.seeking.clone() {
                            if self.slots[slot].level == 1 {
                                self.seek_parent(step, slot)?;
                            } else {
                                self.slots[slot].level -= 1;
                            }
                        }
                        push_ancestry(step, &predicate);
                    }
                    if is_path {
                        step.stages.push(Stage::Filter(predicate));
                    } else {
                        step.predicate.push(predicate);
                    }
                }
                result
            }
            PKind::Group(lhs, pairs) => {
                let mut result = self.process(*lhs)?;
                if result.group.is_some() {
                    return Err(Error::new("S0210").pos(pos));
                }
                let mut processed = Vec::with_capacity(pairs.len());
                for (k, v) in pairs {
                    processed.push((self.process(k)?, self.process(v)?));
                }
                result.group = Some(Box::new(Group {
                    pairs: processed,
                    position: pos,
                }));
                result
            }
            PKind::OrderBy(lhs, terms) => {
                let mut result = self.process(*lhs)?;
                if !matches!(result.kind, Kind::Path { .. }) {
                    result = Node::new(
                        Kind::Path {
                            steps: vec![result],
                            keep_singleton_array: false,
                        },
                        pos,
                    );
                }
                let mut sort = Node::new(Kind::Sort(Vec::new()), pos);
                let mut sterms = Vec::with_capacity(terms.len());
                for (descending, e) in terms {
                    let expr = self.process(e)?;
                    push_ancestry(&mut sort, &expr);
                    sterms.push(SortTerm { descending, expr });
                }
                sort.kind = Kind::Sort(sterms);
                if let Kind::Path { steps, .. } = &mut result.kind {
                    steps.push(sort);
                }
                self.resolve_ancestry(&mut result)?;
                result
            }
            PKind::Bind(lhs, rhs) => {
                let name = match lhs.kind {
                    PKind::Variable(v) => v,
                    _ => String::new(),
                };
                let value = self.process(*rhs)?;
                let mut result = Node::new(
                    Kind::Bind {
                        name: Arc::from(name),
                        value: Box::new(Node::new(Kind::Null, pos)),
                    },
                    pos,
                );
                push_ancestry(&mut result, &value);
                if let Kind::Bind { value: v, .. } = &mut result.kind {
                    **v = value;
                }
                result
            }
            PKind::Focus(lhs, rhs) => {
                let name = match rhs.kind {
                    PKind::Variable(v) => v,
                    _ => String::new(),
                };
                let mut result = self.process(*lhs)?;
                {
                    let step: &mut Node = match &mut result.kind {
                        Kind::Path { steps, .. } => match steps.last_mut() {
                            Some(s) => s,
                            None => unreachable!("paths have steps"),
                        },
                        _ => &mut result,
                    };
                    if !step.stages.is_empty() || !step.predicate.is_empty() {
                        return Err(Error::new("S0215").pos(pos));
                    }
                    if matches!(step.kind, Kind::Sort(_)) {
                        return Err(Error::new("S0216").pos(pos));
                    }
                    if keep_array {
                        step.keep_array = true;
                    }
                    step.focus = Some(Arc::from(name));
                    step.tuple = true;
                }
                result
            }
            PKind::IndexBind(lhs, rhs) => {
                let name: Arc<str> = match rhs.kind {
                    PKind::Variable(v) => Arc::from(v),
                    _ => Arc::from(""),
                };
                let mut result = self.process(*lhs)?;
                if !matches!(result.kind, Kind::Path { .. }) {
                    if !result.predicate.is_empty() {
                        result.stages = std::mem::take(&mut result.predicate)
                            .into_iter()
                            .map(Stage::Filter)
                            .collect();
                    }
                    result = Node::new(
                        Kind::Path {
                            steps: vec![result],
                            keep_singleton_array: false,
                        },
                        pos,
                    );
                }
                if let Kind::Path { steps, .. } = &mut result.kind {
                    if let Some(step) = steps.last_mut() {
                        if step.stages.is_empty() {
                            step.index = Some(name);
                        } else {
                            step.stages.push(Stage::Index(name));
                        }
                        step.tuple = true;
                    }
                }
                result
            }
            PKind::Binary("~>", lhs, rhs) => {
                let lhs = self.process(*lhs)?;
                let rhs = self.process(*rhs)?;
                Node::new(
                    Kind::Apply {
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                    pos,
                )
            }
            PKind::Binary(op, lhs, rhs) => {
                let lhs = self.process(*lhs)?;
                let rhs = self.process(*rhs)?;
                let op = match op {
                    "+" => BinOp::Add,
                    "-" => BinOp::Sub,
                    "*" => BinOp::Mul,
                    "/" => BinOp::Div,
                    "%" => BinOp::Mod,
                    "=" => BinOp::Eq,
                    "!=" => BinOp::Ne,
                    "<" => BinOp::Lt,
                    "<=" => BinOp::Le,
                    ">" => BinOp::Gt,
                    ">=" => BinOp::Ge,
                    "&" => BinOp::Concat,
                    "and" => BinOp::And,
                    "or" => BinOp::Or,
                    "in" => BinOp::In,
                    ".." => BinOp::Range,
                    other => return Err(Error::new("S0201").pos(pos).token(other)),
                };
                let mut result = Node::new(Kind::Null, pos);
                push_ancestry(&mut result, &lhs);
                push_ancestry(&mut result, &rhs);
                result.kind = Kind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                };
                result
            }
            PKind::Array(items) => {
                let mut result = Node::new(Kind::Null, pos);
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let v = self.process(item)?;
                    push_ancestry(&mut result, &v);
                    out.push(v);
                }
                result.kind = Kind::ArrayCons(out);
                result
            }
            PKind::Object(pairs) => {
                let mut result = Node::new(Kind::Null, pos);
                let mut out = Vec::with_capacity(pairs.len());
                for (k, v) in pairs {
                    let k = self.process(k)?;
                    push_ancestry(&mut result, &k);
                    let v = self.process(v)?;
                    push_ancestry(&mut result, &v);
                    out.push((k, v));
                }
                result.kind = Kind::ObjectCons(out);
                result
            }
            PKind::Negate(e) => {
                let e = self.process(*e)?;
                if let Kind::Number(n) = e.kind {
                    let mut e = e;
                    e.kind = Kind::Number(-n);
                    e
                } else {
                    let mut result = Node::new(Kind::Null, pos);
                    push_ancestry(&mut result, &e);
                    result.kind = Kind::Negate(Box::new(e));
                    result
                }
            }
            PKind::Call {
                procedure,
                args,
                partial,
            } => {
                let mut result = Node::new(Kind::Null, pos);
                let mut out = Vec::with_capacity(args.len());
                for a in args {
                    let a = self.process(a)?;
                    push_ancestry(&mut result, &a);
                    out.push(a);
                }
                let procedure = Box::new(self.process(*procedure)?);
                result.kind = if partial {
                    Kind::Partial {
                        procedure,
                        args: out,
                    }
                } else {
                    Kind::Call {
                        procedure,
                        args: out,
                    }
                };
                result
            }
            PKind::Lambda {
                params,
                signature,
                body,
            } => {
                let body = self.process(*body)?;
                let body = tail_call_optimize(body);
                Node::new(
                    Kind::Lambda(Arc::new(LambdaDef {
                        params: params.into_iter().map(Arc::from).collect(),
                        signature: signature.map(Arc::new),
                        body,
                        thunk: false,
                    })),
                    pos,
                )
            }
            PKind::Condition(c, t, e) => {
                let mut result = Node::new(Kind::Null, pos);
                let c = self.process(*c)?;
                push_ancestry(&mut result, &c);
                let t = self.process(*t)?;
                push_ancestry(&mut result, &t);
                let e = match e {
                    Some(e) => {
                        let e = self.process(*e)?;
                        push_ancestry(&mut result, &e);
                        Some(Box::new(e))
                    }
                    None => None,
                };
                result.kind = Kind::Condition {
                    cond: Box::new(c),
                    then: Box::new(t),
                    otherwise: e,
                };
                result
            }
            PKind::Coalesce(a, b) | PKind::Elvis(a, b) => {
                let coalesce = coalesce_kind;
                let mut result = Node::new(Kind::Null, pos);
                let a = self.process(*a)?;
                push_ancestry(&mut result, &a);
                let b = self.process(*b)?;
                push_ancestry(&mut result, &b);
                result.kind = if coalesce {
                    Kind::Coalesce(Box::new(a), Box::new(b))
                } else {
                    Kind::Elvis(Box::new(a), Box::new(b))
                };
                result
            }
            PKind::Transform(p, u, d) => {
                let pattern = self.process(*p)?;
                let update = self.process(*u)?;
                let delete = match d {
                    Some(d) => Some(self.process(*d)?),
                    None => None,
                };
                Node::new(
                    Kind::Transform(Arc::new(TransformDef {
                        pattern,
                        update,
                        delete,
                    })),
                    pos,
                )
            }
            PKind::Block(exprs) => {
                let mut result = Node::new(Kind::Null, pos);
                let mut out = Vec::with_capacity(exprs.len());
                for e in exprs {
                    let part = self.process(e)?;
                    push_ancestry(&mut result, &part);
                    let cons = part.consarray
                        || matches!(&part.kind, Kind::Path { steps, .. } if steps.first().is_some_and(|s| s.consarray));
                    if cons {
                        result.consarray = true;
                    }
                    out.push(part);
                }
                result.kind = Kind::Block(out);
                result
            }
            PKind::Name(n) => {
                let step = Node::new(Kind::Name(Arc::from(n)), pos);
                let mut step = step;
                step.keep_array = keep_array;
                Node::new(
                    Kind::Path {
                        steps: vec![step],
                        keep_singleton_array: keep_array,
                    },
                    pos,
                )
            }
            PKind::OpName(op) => {
                let mut step = Node::new(Kind::Name(Arc::from(op)), pos);
                step.keep_array = keep_array;
                Node::new(
                    Kind::Path {
                        steps: vec![step],
                        keep_singleton_array: keep_array,
                    },
                    pos,
                )
            }
            PKind::Parent => {
                let id = self.slots.len();
                self.slots.push(Slot {
                    label: id,
                    level: 1,
                });
                let mut n = Node::new(Kind::Parent(Arc::from("")), pos);
                n.slot = Some(id);
                n
            }
            PKind::Str(s) => Node::new(Kind::Str(Arc::from(s)), pos),
            PKind::Num(n) => Node::new(Kind::Number(n), pos),
            PKind::Bool(b) => Node::new(Kind::Bool(b), pos),
            PKind::Null => Node::new(Kind::Null, pos),
            PKind::Wildcard => Node::new(Kind::Wildcard, pos),
            PKind::Descendant => Node::new(Kind::Descendant, pos),
            PKind::Variable(v) => Node::new(Kind::Variable(Arc::from(v)), pos),
            PKind::Regex { pattern, flags } => {
                let lit = crate::regex::compile(&pattern, &flags).map_err(|e| e.pos(pos))?;
                Node::new(Kind::Regex(Arc::new(lit)), pos)
            }
            PKind::Placeholder => Node::new(Kind::Placeholder, pos),
            PKind::End => return Err(Error::new("S0207").pos(pos)),
        };
        if keep_array {
            result.keep_array = true;
        }
        Ok(result)
    }

    fn seek_parent(&mut self, node: &mut Node, slot: usize) -> Result<(), Error> {
        match &mut node.kind {
            Kind::Name(_) | Kind::Wildcard => {
                self.slots[slot].level -= 1;
                if self.slots[slot].level == 0 {
                    if let Some(existing) = node.ancestor_slot {
                        // Reuse the label the step already records its input under.
                        self.slots[slot].label = self.slots[existing].label;
                    }
                    node.ancestor_slot = Some(slot);
                    node.tuple = true;
                }
            }
            Kind::Parent(_) => self.slots[slot].level += 1,
            Kind::Block(exprs) => {
                if let Some(last) = exprs.last_mut() {
                    node.tuple = true;
                    self.seek_parent(last, slot)?;
                }
            }
            Kind::Path { steps, .. } => {
                node.tuple = true;
                let mut index = steps.len() as isize - 1;
                if index >= 0 {
                    self.seek_parent(&mut steps[index as usize], slot)?;
                    index -= 1;
                }
                while self.slots[slot].level > 0 && index >= 0 {
                    self.seek_parent(&mut steps[index as usize], slot)?;
                    index -= 1;
                }
            }
            _ => {
                return Err(Error::new("S0217")
                    .pos(node.position)
                    .token(node.type_name()));
            }
        }
        Ok(())
    }

    fn resolve_ancestry(&mut self, path: &mut Node) -> Result<(), Error> {
        let Kind::Path { steps, .. } = &mut path.kind else {
            return Ok(());
        };
        let Some(last) = steps.last() else {
            return Ok(());
        };
        let mut slots = last.seeking.clone();
        if let (Kind::Parent(_), Some(s)) = (&last.kind, last.slot) {
            slots.push(s);
        }
        let mut unresolved = Vec::new();
        for slot in slots {
            let mut index = steps.len() as isize - 2;
            while self.slots[slot].level > 0 {
                if index < 0 {
                    unresolved.push(slot);
                    break;
                }
                let mut i = index as usize;
                index -= 1;
                // Contiguous steps that bind the focus are skipped together.
                while index >= 0
                    && steps[i].focus.is_some()
                    && steps[index as usize].focus.is_some()
                {
                    i = index as usize;
                    index -= 1;
                }
                self.seek_parent(&mut steps[i], slot)?;
            }
        }
        path.seeking.extend(unresolved);
        Ok(())
    }

    /// Replaces slot numbers by the labels the evaluator binds ancestors under.
    fn finish(&self, node: &mut Node) {
        crate::guarded(|| self.finish_inner(node));
    }

    fn finish_inner(&self, node: &mut Node) {
        let label = |slot: usize| -> Arc<str> { Arc::from(format!("!{}", self.slots[slot].label)) };
        if let Some(s) = node.slot {
            node.kind = Kind::Parent(label(s));
        }
        if let Some(s) = node.ancestor_slot {
            node.ancestor = Some(label(s));
        }
        node.seeking = Vec::new();
        for p in &mut node.predicate {
            self.finish(p);
        }
        for s in &mut node.stages {
            if let Stage::Filter(f) = s {
                self.finish(f);
            }
        }
        if let Some(g) = &mut node.group {
            for (k, v) in &mut g.pairs {
                self.finish(k);
                self.finish(v);
            }
        }
        match &mut node.kind {
            Kind::Path { steps, .. } => steps.iter_mut().for_each(|s| self.finish(s)),
            Kind::Binary { lhs, rhs, .. } | Kind::Apply { lhs, rhs } => {
                self.finish(lhs);
                self.finish(rhs);
            }
            Kind::Coalesce(a, b) | Kind::Elvis(a, b) => {
                self.finish(a);
                self.finish(b);
            }
            Kind::Negate(e) => self.finish(e),
            Kind::ArrayCons(items) | Kind::Block(items) => {
                items.iter_mut().for_each(|s| self.finish(s))
            }
            Kind::ObjectCons(pairs) => {
                for (k, v) in pairs {
                    self.finish(k);
                    self.finish(v);
                }
            }
            Kind::Condition {
                cond,
                then,
                otherwise,
            } => {
                self.finish(cond);
                self.finish(then);
                if let Some(o) = otherwise {
                    self.finish(o);
                }
            }
            Kind::Bind { value, .. } => self.finish(value),
            Kind::Call { procedure, args } | Kind::Partial { procedure, args } => {
                self.finish(procedure);
                args.iter_mut().for_each(|a| self.finish(a));
            }
            Kind::Lambda(def) => {
                if let Some(def) = Arc::get_mut(def) {
                    self.finish(&mut def.body);
                }
            }
            Kind::Sort(terms) => terms.iter_mut().for_each(|t| self.finish(&mut t.expr)),
            Kind::Transform(def) => {
                if let Some(def) = Arc::get_mut(def) {
                    self.finish(&mut def.pattern);
                    self.finish(&mut def.update);
                    if let Some(d) = &mut def.delete {
                        self.finish(d);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Marks calls in tail position so the evaluator can run them in a loop (a trampoline)
/// instead of recursing: deep tail recursion then needs no stack.
fn tail_call_optimize(mut expr: Node) -> Node {
    match &mut expr.kind {
        Kind::Call { .. } if expr.predicate.is_empty() => {
            let position = expr.position;
            Node::new(
                Kind::Lambda(Arc::new(LambdaDef {
                    params: Vec::new(),
                    signature: None,
                    body: expr,
                    thunk: true,
                })),
                position,
            )
        }
        Kind::Condition {
            then, otherwise, ..
        } => {
            let t = std::mem::replace(then.as_mut(), Node::new(Kind::Null, 0));
            **then = tail_call_optimize(t);
            if let Some(o) = otherwise {
                let e = std::mem::replace(o.as_mut(), Node::new(Kind::Null, 0));
                **o = tail_call_optimize(e);
            }
            expr
        }
        Kind::Coalesce(_, b) | Kind::Elvis(_, b) => {
            let e = std::mem::replace(b.as_mut(), Node::new(Kind::Null, 0));
            **b = tail_call_optimize(e);
            expr
        }
        Kind::Block(exprs) => {
            if let Some(last) = exprs.last_mut() {
                let e = std::mem::replace(last, Node::new(Kind::Null, 0));
                *last = tail_call_optimize(e);
            }
            expr
        }
        _ => expr,
    }
}
