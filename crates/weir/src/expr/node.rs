//! The compiled tree: what [`compile`](super::compile) builds from SQL text and
//! [`eval`](super::eval) walks for every record.
//!
//! A [`Node`] is one operation on sub-trees, with column names already resolved to indexes,
//! literal patterns compiled and constant sub-trees folded into literals. The tree holds no
//! evaluation code apart from walking it for the columns it reads.

use std::cmp::Ordering;

use super::convert::IntWidth;
use super::func::{Func, Prepared};
use super::like::LikePattern;
use super::value::SqlType;
use super::Value;

/// The type a `CAST` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CastTarget {
    Int(IntWidth),
    Float,
    /// `DECIMAL(p, s)`, held as a DOUBLE rounded to `s` digits (an approximation).
    Decimal {
        precision: u8,
        scale: u8,
    },
    Text,
    Bool,
    Date,
    Timestamp,
    Time,
}

impl CastTarget {
    pub(crate) fn sql_type(self) -> SqlType {
        match self {
            CastTarget::Int(_) => SqlType::Int,
            CastTarget::Float | CastTarget::Decimal { .. } => SqlType::Float,
            CastTarget::Text => SqlType::Text,
            CastTarget::Bool => SqlType::Bool,
            CastTarget::Date => SqlType::Date,
            CastTarget::Timestamp => SqlType::Timestamp,
            CastTarget::Time => SqlType::Time,
        }
    }

    pub(crate) fn name(self) -> String {
        match self {
            CastTarget::Int(w) => w.name().to_string(),
            CastTarget::Decimal { precision, scale } => format!("DECIMAL({precision},{scale})"),
            other => other.sql_type().name().to_string(),
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub(crate) fn test(self, o: Ordering) -> bool {
        match self {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
        }
    }
}

/// An arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    IntDiv,
    Mod,
}

impl ArithOp {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::IntDiv => "//",
            ArithOp::Mod => "%",
        }
    }

    pub(crate) fn verb(self) -> &'static str {
        match self {
            ArithOp::Add => "addition",
            ArithOp::Sub => "subtraction",
            ArithOp::Mul => "multiplication",
            ArithOp::Div | ArithOp::IntDiv => "division",
            ArithOp::Mod => "modulo",
        }
    }
}

/// The pattern of a `LIKE`: compiled once when it is a literal.
#[derive(Debug, Clone)]
pub(crate) enum LikeSource {
    Static(LikePattern),
    Dynamic { pattern: Node, escape: Option<char> },
}

/// `x [NOT] LIKE|ILIKE pattern`.
#[derive(Debug, Clone)]
pub(crate) struct Like {
    pub(crate) expr: Node,
    pub(crate) pattern: LikeSource,
    pub(crate) case_insensitive: bool,
    pub(crate) negated: bool,
}

/// `CASE [x] WHEN ... THEN ... [ELSE ...] END`.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    /// `CASE x WHEN ...` compares `x` with each `WHEN` value; without it each is a condition.
    pub(crate) operand: Option<Node>,
    pub(crate) whens: Vec<(Node, Node)>,
    pub(crate) otherwise: Option<Node>,
}

/// `x IN ('a', 'b', ...)` with only string literals: compared as bytes without converting.
#[derive(Debug, Clone)]
pub(crate) struct InStrings {
    pub(crate) probe: Node,
    /// Sorted, for binary search when the list is long.
    pub(crate) strings: Vec<Box<str>>,
    /// The same list as nodes, for a probe that is not text (a JSON number).
    pub(crate) list: Vec<Node>,
    pub(crate) has_null: bool,
    pub(crate) negated: bool,
}

/// A compiled expression.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Lit(Value<'static>),
    Col(usize),
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Cmp(CmpOp, Box<[Node; 2]>),
    Arith(ArithOp, Box<[Node; 2]>),
    Neg(Box<Node>),
    Concat(Box<[Node; 2]>),
    In {
        probe: Box<Node>,
        list: Vec<Node>,
        negated: bool,
    },
    InStrings(Box<InStrings>),
    Between {
        args: Box<[Node; 3]>,
        negated: bool,
    },
    Like(Box<Like>),
    IsNull {
        expr: Box<Node>,
        negated: bool,
    },
    IsBool {
        expr: Box<Node>,
        want: bool,
        negated: bool,
    },
    Distinct {
        args: Box<[Node; 2]>,
        negated: bool,
    },
    Case(Box<Case>),
    Cast {
        expr: Box<Node>,
        to: CastTarget,
        lenient: bool,
    },
    /// An implicit conversion the compiler inserted to unify branch types.
    Coerce {
        expr: Box<Node>,
        to: SqlType,
    },
    Call(Box<Call>),
}

/// A compiled function call: the function, its argument trees, and what the compiler prepared
/// from literal arguments.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) func: Func,
    pub(crate) args: Vec<Node>,
    pub(crate) prepared: Prepared,
}

impl Node {
    /// Adds the columns the node reads to `out`.
    pub(crate) fn columns(&self, out: &mut Vec<usize>) {
        self.visit(&mut |n| {
            if let Node::Col(i) = n {
                out.push(*i);
            }
        });
    }

    /// The one column the node reads, if it reads exactly one: the column named in errors.
    pub(crate) fn origin(&self) -> Option<usize> {
        let mut cols = Vec::new();
        self.columns(&mut cols);
        cols.sort_unstable();
        cols.dedup();
        match cols[..] {
            [c] => Some(c),
            _ => None,
        }
    }

    fn visit(&self, f: &mut dyn FnMut(&Node)) {
        f(self);
        match self {
            Node::Lit(_) | Node::Col(_) => {}
            Node::Not(e) | Node::Neg(e) => e.visit(f),
            Node::IsNull { expr, .. }
            | Node::IsBool { expr, .. }
            | Node::Cast { expr, .. }
            | Node::Coerce { expr, .. } => expr.visit(f),
            Node::And(items) | Node::Or(items) => items.iter().for_each(|n| n.visit(f)),
            Node::Cmp(_, args) | Node::Arith(_, args) | Node::Concat(args) => {
                args.iter().for_each(|n| n.visit(f))
            }
            Node::Distinct { args, .. } => args.iter().for_each(|n| n.visit(f)),
            Node::Between { args, .. } => args.iter().for_each(|n| n.visit(f)),
            Node::In { probe, list, .. } => {
                probe.visit(f);
                list.iter().for_each(|n| n.visit(f));
            }
            Node::InStrings(node) => node.probe.visit(f),
            Node::Like(like) => {
                like.expr.visit(f);
                if let LikeSource::Dynamic { pattern, .. } = &like.pattern {
                    pattern.visit(f);
                }
            }
            Node::Case(case) => {
                if let Some(o) = &case.operand {
                    o.visit(f);
                }
                for (w, r) in &case.whens {
                    w.visit(f);
                    r.visit(f);
                }
                if let Some(o) = &case.otherwise {
                    o.visit(f);
                }
            }
            Node::Call(call) => call.args.iter().for_each(|n| n.visit(f)),
        }
    }
}
