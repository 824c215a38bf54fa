//! The processed syntax tree the evaluator walks.
//!
//! It mirrors the tree the reference's `processAST` produces: location paths are flattened
//! into step lists, predicates hang off the steps they filter, and the parent operator has
//! been resolved to tuple-stream labels.

use std::sync::Arc;

use crate::signature::Signature;

/// One node of the processed tree, with the annotations the reference attaches to nodes.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: Kind,
    /// Character offset (end of the token, as the reference reports it).
    pub position: usize,
    /// `[]` after the expression: keep singleton sequences as arrays.
    pub keep_array: bool,
    /// Predicates of a node that is not a path step (the reference's `predicate`).
    pub predicate: Vec<Node>,
    /// Filters and index bindings of a path step (the reference's `stages`).
    pub stages: Vec<Stage>,
    /// A grouping object constructor applied to the result (`expr{...}`).
    pub group: Option<Box<Group>>,
    /// `@$var`: the step binds its items to this variable instead of changing the context.
    pub focus: Option<Arc<str>>,
    /// `#$var`: the step binds the position of each item to this variable.
    pub index: Option<Arc<str>>,
    /// The tuple label under which this step records its input, for `%` further on.
    pub ancestor: Option<Arc<str>>,
    /// The step (or path, or block) takes part in a tuple stream.
    pub tuple: bool,
    /// The array constructor is the first or last step of a path: it is not flattened.
    pub consarray: bool,
    /// Parser bookkeeping for the parent operator: this node's own slot (`%` nodes), the
    /// slot it records its input under, and the slots still looking for their step.
    pub slot: Option<usize>,
    pub ancestor_slot: Option<usize>,
    pub seeking: Vec<usize>,
}

/// A stage of a path step: a predicate filter or a position binding.
#[derive(Debug, Clone)]
pub(crate) enum Stage {
    Filter(Node),
    Index(Arc<str>),
}

/// A grouping object constructor: key/value expression pairs.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub pairs: Vec<(Node, Node)>,
    pub position: usize,
}

/// A lambda definition, shared by all the closures created from it.
#[derive(Debug)]
pub(crate) struct LambdaDef {
    pub params: Vec<Arc<str>>,
    pub signature: Option<Arc<Signature>>,
    pub body: Node,
    /// A tail-call thunk made by the tail-call optimiser: the body is a function call.
    pub thunk: bool,
}

/// A transform expression `| pattern | update, delete |`.
#[derive(Debug)]
pub(crate) struct TransformDef {
    pub pattern: Node,
    pub update: Node,
    pub delete: Option<Node>,
}

/// A compiled regular expression literal.
#[derive(Debug)]
pub(crate) struct RegexLit {
    pub regex: regex::Regex,
    /// The pattern as written, for error messages.
    pub source: String,
}

/// The binary operators that evaluate both sides to values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Concat,
    And,
    Or,
    In,
    Range,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Concat => "&",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::In => "in",
            BinOp::Range => "..",
        }
    }
}

/// A term of an order-by clause.
#[derive(Debug, Clone)]
pub(crate) struct SortTerm {
    pub descending: bool,
    pub expr: Node,
}

/// The node kinds.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Path {
        steps: Vec<Node>,
        keep_singleton_array: bool,
    },
    Binary {
        op: BinOp,
        lhs: Box<Node>,
        rhs: Box<Node>,
    },
    Negate(Box<Node>),
    ArrayCons(Vec<Node>),
    ObjectCons(Vec<(Node, Node)>),
    Name(Arc<str>),
    Str(Arc<str>),
    Number(f64),
    Bool(bool),
    Null,
    Wildcard,
    Descendant,
    Parent(Arc<str>),
    Condition {
        cond: Box<Node>,
        then: Box<Node>,
        otherwise: Option<Box<Node>>,
    },
    /// `a ?? b`: `a` unless it is undefined.
    Coalesce(Box<Node>, Box<Node>),
    /// `a ?: b`: `a` unless it is falsy.
    Elvis(Box<Node>, Box<Node>),
    Block(Vec<Node>),
    Bind {
        name: Arc<str>,
        value: Box<Node>,
    },
    Regex(Arc<RegexLit>),
    Call {
        procedure: Box<Node>,
        args: Vec<Node>,
    },
    Partial {
        procedure: Box<Node>,
        args: Vec<Node>,
    },
    /// The `?` placeholder of a partial application.
    Placeholder,
    Variable(Arc<str>),
    Lambda(Arc<LambdaDef>),
    Apply {
        lhs: Box<Node>,
        rhs: Box<Node>,
    },
    Sort(Vec<SortTerm>),
    Transform(Arc<TransformDef>),
}

impl Node {
    pub fn new(kind: Kind, position: usize) -> Self {
        Node {
            kind,
            position,
            keep_array: false,
            predicate: Vec::new(),
            stages: Vec::new(),
            group: None,
            focus: None,
            index: None,
            ancestor: None,
            tuple: false,
            consarray: false,
            slot: None,
            ancestor_slot: None,
            seeking: Vec::new(),
        }
    }

    /// The reference's `type` of the node, for error tokens.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            Kind::Path { .. } => "path",
            Kind::Binary { .. } => "binary",
            Kind::Negate(_) | Kind::ArrayCons(_) | Kind::ObjectCons(_) => "unary",
            Kind::Name(_) => "name",
            Kind::Str(_) => "string",
            Kind::Number(_) => "number",
            Kind::Bool(_) | Kind::Null => "value",
            Kind::Wildcard => "wildcard",
            Kind::Descendant => "descendant",
            Kind::Parent(_) => "parent",
            Kind::Condition { .. } | Kind::Coalesce(..) | Kind::Elvis(..) => "condition",
            Kind::Block(_) => "block",
            Kind::Bind { .. } => "bind",
            Kind::Regex(_) => "regex",
            Kind::Call { .. } => "function",
            Kind::Partial { .. } => "partial",
            Kind::Placeholder => "operator",
            Kind::Variable(_) => "variable",
            Kind::Lambda(_) => "lambda",
            Kind::Apply { .. } => "apply",
            Kind::Sort(_) => "sort",
            Kind::Transform(_) => "transform",
        }
    }
}
