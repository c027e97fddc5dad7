//! From SQL text to a [`Node`] tree: parse with sqlparser's DuckDB dialect, resolve columns
//! and functions, check and unify types, compile literal patterns and formats, fold constants.

use std::cell::Cell;

use sqlparser::ast::{
    self, BinaryOperator, CastKind, CeilFloorKind, DateTimeField, Expr as Ast, FunctionArg,
    FunctionArgExpr, FunctionArguments, Ident, InTarget, ObjectNamePart, Spanned, TrimWhereField,
    UnaryOperator, Value as AstValue,
};
use sqlparser::dialect::DuckDbDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Span, Token, Tokenizer};

use super::convert::IntWidth;
use super::datetime::{Format, Part};
use super::eval::EvalContext;
use super::func::{self, Func, FuncDef, Prepared, RegexOptions};
use super::like::LikePattern;
use super::node::{ArithOp, Call, Case, CastTarget, CmpOp, InStrings, Like, LikeSource, Node};
use super::value::SqlType;
use super::{ExprError, Value};
use crate::record::{edit_distance, Columns, Record, RecordBuf};

/// Texts longer than this are compiled on a thread of their own; see [`compile`]. A shorter
/// one nests at most 64 levels, which any thread's stack holds, even in a debug build.
const LONG_SQL: usize = 128;

/// Compiles `sql` against `columns`: the tree and the columns it reads. A `condition` (a
/// filter's expression) must be one: see [`Compiler::check_condition`].
///
/// Each level of nesting takes at least two bytes of text (`a+`, `(`) and some stack: up to
/// [`MAX_DEPTH`] levels when compiling (under 2 KiB each in a release build, about 16 KiB in a
/// debug one), and one frame per level when sqlparser drops its tree, which it does
/// recursively however deep the tree is (it builds an operator chain, `a + a + ... + a`, in a
/// loop). So a long text is compiled on a thread whose stack grows with it, and a long chain
/// is refused instead of overflowing the caller's stack.
pub(crate) fn compile(
    sql: &str,
    columns: &Columns,
    condition: bool,
) -> Result<(Node, Vec<usize>), ExprError> {
    if sql.len() <= LONG_SQL {
        return compile_here(sql, columns, condition);
    }
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("weir-compile".into())
            // Compiling MAX_DEPTH levels in any build, then dropping a chain of up to
            // `sql.len() / 2` levels at under 512 bytes each.
            .stack_size((8 << 20) + sql.len() * 256)
            .spawn_scoped(scope, || compile_here(sql, columns, condition));
        match worker {
            Ok(worker) => worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => compile_here(sql, columns, condition),
        }
    })
}

/// The longest constant text folded at compile time.
const FOLD_LIMIT: usize = 4096;

fn compile_here(
    sql: &str,
    columns: &Columns,
    condition: bool,
) -> Result<(Node, Vec<usize>), ExprError> {
    let dialect = DuckDbDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| {
            ExprError::new(
                format!("syntax error: {}", e.message),
                offset_of(sql, e.location),
            )
        })?;
    let mut parser = Parser::new(&dialect).with_tokens_with_locations(tokens);
    let ast = parser.parse_expr().map_err(|e| parser_error(sql, e))?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        return Err(ExprError::new(
            format!(
                "syntax error: unexpected {} after the expression",
                next.token
            ),
            offset_of(sql, next.span.start),
        ));
    }
    let compiler = Compiler {
        sql,
        columns,
        depth: Cell::new(0),
    };
    let (root, ty) = compiler.expr(&ast)?;
    if condition {
        compiler.check_condition(&root, ty, &ast)?;
    }
    let mut used = Vec::new();
    root.columns(&mut used);
    used.sort_unstable();
    used.dedup();
    Ok((root, used))
}

/// The byte offset of a sqlparser location (1-based line and character column).
fn offset_of(sql: &str, loc: Location) -> Option<usize> {
    if loc.line == 0 {
        return None;
    }
    let mut line_start = 0;
    for _ in 1..loc.line {
        line_start += sql[line_start..].find('\n')? + 1;
    }
    let col = usize::try_from(loc.column.saturating_sub(1)).ok()?;
    let line = &sql[line_start..];
    Some(line_start + line.char_indices().nth(col).map_or(line.len(), |(i, _)| i))
}

/// A parser error, with the position sqlparser appends to its message.
fn parser_error(sql: &str, e: ParserError) -> ExprError {
    let msg = match e {
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => m,
        ParserError::RecursionLimitExceeded => {
            return ExprError::new("expression nested too deeply", None)
        }
    };
    if let Some(at) = msg.rfind(" at Line: ") {
        let pos = &msg[at + " at Line: ".len()..];
        let mut parts = pos.split(", Column: ");
        let line = parts.next().and_then(|l| l.trim().parse().ok());
        let column = parts.next().and_then(|c| c.trim().parse().ok());
        if let (Some(line), Some(column)) = (line, column) {
            let offset = offset_of(sql, Location { line, column });
            return ExprError::new(format!("syntax error: {}", &msg[..at]), offset);
        }
    }
    // sqlparser gives no position for the end of input.
    let offset = msg.ends_with("found: EOF").then_some(sql.len());
    ExprError::new(format!("syntax error: {msg}"), offset)
}

type Compiled = Result<(Node, SqlType), ExprError>;

/// How deeply expressions may nest. Compiling, folding and evaluating recurse once per level,
/// and sqlparser builds an operator chain (`a + a + ... + a`) without recursing, so without a
/// bound a long chain overflows the stack (a worker's is 2 MiB). Chains of `AND` and `OR` are
/// compiled in a loop and do not count; DuckDB's own limit (`max_expression_depth`) is 1000.
pub(crate) const MAX_DEPTH: usize = 256;

struct Compiler<'a> {
    sql: &'a str,
    columns: &'a Columns,
    /// The nesting depth of the sub-expression being compiled.
    depth: Cell<usize>,
}

fn lit_str(node: &Node) -> Option<&str> {
    match node {
        Node::Lit(Value::Str(s)) => Some(s),
        _ => None,
    }
}

fn is_null_lit(node: &Node) -> bool {
    matches!(node, Node::Lit(Value::Null))
}

/// Whether a text value from `node` may read as a boolean at run time: it may come unchanged
/// from a column (whose text or JSON value is only known then), or it is a literal that does.
fn may_read_as_bool(node: &Node) -> bool {
    match node {
        Node::Col(_) => true,
        Node::Lit(Value::Str(s)) => super::convert::parse_bool(s.as_bytes()).is_some(),
        Node::Lit(Value::Null) => true,
        Node::Case(case) => case
            .whens
            .iter()
            .map(|(_, result)| result)
            .chain(case.otherwise.as_ref())
            .any(may_read_as_bool),
        Node::Call(call) => match call.func {
            Func::Coalesce | Func::Greatest | Func::Least | Func::NullIf => {
                call.args.iter().any(may_read_as_bool)
            }
            Func::If => call.args[1..].iter().any(may_read_as_bool),
            _ => false,
        },
        _ => false,
    }
}

/// Whether values of these static types can be compared (text converts to anything).
fn comparable(a: SqlType, b: SqlType) -> bool {
    use SqlType::*;
    matches!(
        (a, b),
        (Null | Text, _)
            | (_, Null | Text)
            | (Int | Float | Bool, Int | Float | Bool)
            | (Date | Timestamp, Date | Timestamp)
            | (Time, Time)
    )
}

/// Whether a cast from `from` to `to` can succeed for some value.
fn castable(from: SqlType, to: CastTarget) -> bool {
    use SqlType::*;
    match from {
        Null | Text => true,
        Int | Float | Bool => !matches!(
            to,
            CastTarget::Date | CastTarget::Timestamp | CastTarget::Time
        ),
        Date => matches!(
            to,
            CastTarget::Date | CastTarget::Timestamp | CastTarget::Text
        ),
        Timestamp => matches!(
            to,
            CastTarget::Date | CastTarget::Timestamp | CastTarget::Time | CastTarget::Text
        ),
        Time => matches!(to, CastTarget::Time | CastTarget::Text),
    }
}

/// Wraps `node` in a conversion from `from` to the unified type `to` when it needs one.
fn coerce(node: Node, from: SqlType, to: SqlType) -> Node {
    if from == to
        || from == SqlType::Null
        || to == SqlType::Null
        || to == SqlType::Text
        || is_null_lit(&node)
    {
        return node;
    }
    Node::Coerce {
        expr: Box::new(node),
        to,
    }
}

const AGGREGATES: &[&str] = &[
    "sum",
    "count",
    "avg",
    "min",
    "max",
    "mean",
    "median",
    "mode",
    "string_agg",
    "list",
    "any_value",
    "first",
    "last",
];

impl Compiler<'_> {
    fn offset(&self, span: Span) -> Option<usize> {
        offset_of(self.sql, span.start)
    }

    fn at(&self, e: &Ast) -> Option<usize> {
        self.offset(e.span())
    }

    fn err(&self, e: &Ast, message: impl Into<String>) -> ExprError {
        ExprError::new(message, self.at(e))
    }

    fn expr(&self, e: &Ast) -> Compiled {
        let depth = self.depth.get();
        if depth >= MAX_DEPTH {
            // No position: a span is computed over the whole (deep) sub-tree.
            return Err(ExprError::new(
                format!("expression nested too deeply (more than {MAX_DEPTH} levels)"),
                None,
            ));
        }
        self.depth.set(depth + 1);
        let compiled = self
            .expr_inner(e)
            .and_then(|(node, ty)| Ok((self.fold(node, e)?, ty)));
        self.depth.set(depth);
        compiled
    }

    /// Evaluates a node that reads no column once, now, into a literal.
    fn fold(&self, node: Node, e: &Ast) -> Result<Node, ExprError> {
        if matches!(node, Node::Lit(_)) {
            return Ok(node);
        }
        let mut cols = Vec::new();
        node.columns(&mut cols);
        if !cols.is_empty() {
            return Ok(node);
        }
        let mut buf = RecordBuf::default();
        let record = Record::new(&[], &mut buf);
        let names: [String; 0] = [];
        // The run's value limit is not known here: a long constant text is left to be built
        // per record, where the limit applies and rejects the record.
        let cx = EvalContext::new(&record, &names, FOLD_LIMIT);
        let value = node.eval(&cx).map(Value::into_owned);
        match value {
            Ok(v) => Ok(Node::Lit(v)),
            Err(err) if err.too_large => Ok(node),
            Err(err) => Err(self.err(e, err.message)),
        }
    }

    fn column(&self, ident: &Ident) -> Result<usize, ExprError> {
        let name = &ident.value;
        if let Some(i) = self.columns.index_of(name) {
            return Ok(i);
        }
        let exact = self.columns.positions(name);
        if exact.len() > 1 {
            return Err(ExprError::new(
                crate::error::BindError::ambiguous_column(name, &exact).message,
                self.offset(ident.span),
            ));
        }
        // Identifiers are case-insensitive, as in DuckDB, when that is unambiguous.
        let lower = name.to_lowercase();
        let matches: Vec<usize> = (0..self.columns.len())
            .filter(|&i| self.columns.names()[i].to_lowercase() == lower)
            .collect();
        let at = self.offset(ident.span);
        match matches[..] {
            [i] => Ok(i),
            [] => {
                let message = match self.columns.nearest(name) {
                    Some(near) => format!("unknown column '{name}' (did you mean '{near}'?)"),
                    None if self.columns.is_empty() => {
                        format!("unknown column '{name}' (there are no columns)")
                    }
                    None => format!(
                        "unknown column '{name}' (columns: {})",
                        self.columns.names().join(", ")
                    ),
                };
                // `country = "US"`: double quotes name a column in SQL; text takes single ones.
                let hint = if ident.quote_style == Some('"') {
                    format!(
                        "; double quotes name a column: for the text, write '{}'",
                        name.replace('\'', "''")
                    )
                } else {
                    String::new()
                };
                Err(ExprError::new(message + &hint, at))
            }
            _ => {
                let names: Vec<&str> = matches
                    .iter()
                    .map(|&i| self.columns.names()[i].as_str())
                    .collect();
                Err(ExprError::new(
                    format!(
                        "column name '{name}' is ambiguous (matches '{}'); quote it exactly",
                        names.join("', '")
                    ),
                    at,
                ))
            }
        }
    }

    fn literal(&self, v: &AstValue, e: &Ast) -> Compiled {
        match v {
            AstValue::Number(s, _) => self.number(s, e),
            AstValue::SingleQuotedString(s)
            | AstValue::EscapedStringLiteral(s)
            | AstValue::UnicodeStringLiteral(s)
            | AstValue::NationalStringLiteral(s)
            | AstValue::TripleSingleQuotedString(s)
            | AstValue::DollarQuotedString(ast::DollarQuotedString { value: s, .. }) => {
                Ok((Node::Lit(Value::Str(s.clone().into())), SqlType::Text))
            }
            AstValue::Boolean(b) => Ok((Node::Lit(Value::Bool(*b)), SqlType::Bool)),
            AstValue::Null => Ok((Node::Lit(Value::Null), SqlType::Null)),
            other => Err(self.err(e, format!("unsupported literal {other}"))),
        }
    }

    /// A numeric literal: BIGINT when integral and in range, else DOUBLE (DuckDB would make
    /// `1.5` a DECIMAL; see the module documentation).
    fn number(&self, s: &str, e: &Ast) -> Compiled {
        let s: String = s.chars().filter(|&c| c != '_').collect();
        if func::is_integer_text(&s) {
            if let Ok(i) = s.parse::<i64>() {
                return Ok((Node::Lit(Value::Int(i)), SqlType::Int));
            }
        }
        match s.parse::<f64>() {
            Ok(f) => Ok((Node::Lit(Value::Float(f)), SqlType::Float)),
            Err(_) => Err(self.err(e, format!("invalid number {s}"))),
        }
    }

    /// Refuses, as a condition (a filter, `NOT`, `AND`, `OR`, `CASE WHEN`, `IF`), a value that is
    /// surely not a boolean: a date or time, or text that cannot come unchanged from a column
    /// (`upper(name)`, `'US'`, `a || b`). What may be one at run time is left to the record:
    /// a column (CSV text `true`/`false`, a JSON Lines boolean), NULL, a `CASE` or
    /// `coalesce` that may give a column, and numbers (true when not zero, as in DuckDB).
    fn check_condition(&self, node: &Node, ty: SqlType, e: &Ast) -> Result<(), ExprError> {
        let refused = match ty {
            SqlType::Date | SqlType::Timestamp | SqlType::Time => true,
            SqlType::Text => !may_read_as_bool(node),
            SqlType::Null | SqlType::Bool | SqlType::Int | SqlType::Float => false,
        };
        if !refused {
            return Ok(());
        }
        Err(self.err(
            e,
            format!(
                "{e} is a {} value, not a condition (BOOLEAN): compare it, e.g. {e} = ...",
                ty.name()
            ),
        ))
    }

    fn check_comparable(&self, a: SqlType, b: SqlType, e: &Ast) -> Result<(), ExprError> {
        if comparable(a, b) {
            return Ok(());
        }
        Err(self.err(e, format!("cannot compare {} with {}", a.name(), b.name())))
    }

    /// One SQL expression, by kind: names, literals, operators, functions and `CASE` here;
    /// predicates in [`Compiler::predicate`], SQL's keyword forms of functions in
    /// [`Compiler::keyword_call`]. A kind with more than a line to it has a method of its own.
    fn expr_inner(&self, e: &Ast) -> Compiled {
        match e {
            Ast::Identifier(ident) => Ok((Node::Col(self.column(ident)?), SqlType::Text)),
            Ast::CompoundIdentifier(parts) => Err(self.qualified_name(parts, e)),
            Ast::Value(v) => self.literal(&v.value, e),
            Ast::TypedString(ts) => self.typed_string(ts, e),
            Ast::Nested(inner) => self.expr(inner),
            Ast::UnaryOp { op, expr } => self.unary(*op, expr, e),
            Ast::BinaryOp { left, op, right } => self.binary(left, op, right, e),
            Ast::Function(f) => self.function(f, e),
            Ast::Case {
                operand,
                conditions,
                else_result,
                ..
            } => self.case(operand.as_deref(), conditions, else_result.as_deref(), e),
            other => self
                .predicate(other)
                .or_else(|| self.keyword_call(other))
                .unwrap_or_else(|| Err(self.err(e, format!("unsupported expression: {other}")))),
        }
    }

    /// A predicate (`IS`, `IN`, `BETWEEN`, `LIKE`, `SIMILAR TO`), or `None` for another kind.
    fn predicate(&self, e: &Ast) -> Option<Compiled> {
        Some(match e {
            Ast::IsNull(x) | Ast::IsNotNull(x) | Ast::IsUnknown(x) | Ast::IsNotUnknown(x) => {
                let negated = matches!(e, Ast::IsNotNull(_) | Ast::IsNotUnknown(_));
                self.is_null(x, negated)
            }
            Ast::IsTrue(x) | Ast::IsNotTrue(x) | Ast::IsFalse(x) | Ast::IsNotFalse(x) => {
                let want = matches!(e, Ast::IsTrue(_) | Ast::IsNotTrue(_));
                let negated = matches!(e, Ast::IsNotTrue(_) | Ast::IsNotFalse(_));
                self.is_bool(x, want, negated)
            }
            Ast::IsDistinctFrom(a, b) | Ast::IsNotDistinctFrom(a, b) => {
                self.distinct(a, b, matches!(e, Ast::IsNotDistinctFrom(..)), e)
            }
            Ast::In {
                expr,
                target,
                negated,
                ..
            } => {
                let InTarget::List(list) = target else {
                    return Some(Err(
                        self.err(e, "IN takes a list of values here (no subqueries)")
                    ));
                };
                self.in_list(expr, list, *negated)
            }
            Ast::Between {
                expr,
                negated,
                low,
                high,
            } => self.between(expr, low, high, *negated),
            Ast::Like {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            }
            | Ast::ILike {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            } => {
                if *any {
                    return Some(Err(self.err(e, "LIKE ANY is not supported")));
                }
                let case_insensitive = matches!(e, Ast::ILike { .. });
                self.like(
                    expr,
                    pattern,
                    escape_char.as_deref(),
                    case_insensitive,
                    *negated,
                )
            }
            Ast::SimilarTo {
                negated,
                expr,
                pattern,
                escape_char,
            } => {
                if escape_char.is_some() {
                    return Some(Err(self.err(e, "SIMILAR TO ... ESCAPE is not supported")));
                }
                self.call_named("regexp_full_match", &[expr, pattern], e)
                    .map(|(node, _)| self.negate(node, *negated))
            }
            _ => return None,
        })
    }

    /// A function written with SQL keywords (`CAST`, `EXTRACT`, `CEIL`/`FLOOR`, `POSITION`,
    /// `SUBSTRING`, `TRIM`), or `None` for another kind.
    fn keyword_call(&self, e: &Ast) -> Option<Compiled> {
        Some(match e {
            Ast::Cast {
                kind,
                expr,
                data_type,
                format,
            } => {
                if format.is_some() {
                    return Some(Err(self.err(e, "CAST ... FORMAT is not supported")));
                }
                self.cast(kind, expr, data_type, e)
            }
            Ast::Extract { field, expr, .. } => self.extract(field, expr, e),
            Ast::Ceil { expr, field } | Ast::Floor { expr, field } => {
                if !matches!(
                    field,
                    CeilFloorKind::DateTimeField(DateTimeField::NoDateTime)
                ) {
                    return Some(Err(self.err(e, "CEIL/FLOOR take one argument")));
                }
                let name = if matches!(e, Ast::Ceil { .. }) {
                    "ceil"
                } else {
                    "floor"
                };
                self.call_named(name, &[expr], e)
            }
            Ast::Position { expr, r#in } => self.call_named("strpos", &[r#in, expr], e),
            Ast::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => self.substring(expr, substring_from.as_deref(), substring_for.as_deref(), e),
            Ast::Trim {
                trim_where,
                trim_what,
                expr,
                trim_characters,
            } => self.trim(
                trim_where.as_ref(),
                trim_what.as_deref(),
                expr,
                trim_characters.as_deref(),
                e,
            ),
            _ => return None,
        })
    }

    /// `a.b`: refused, with how to name a column called that.
    fn qualified_name(&self, parts: &[Ident], e: &Ast) -> ExprError {
        let full: Vec<&str> = parts.iter().map(|p| p.value.as_str()).collect();
        self.err(
            e,
            format!(
                "qualified name '{0}' is not supported; to name a column called that, quote it: \"{0}\"",
                full.join(".")
            ),
        )
    }

    /// `DATE '2024-01-31'` and the like: a cast of the text.
    fn typed_string(&self, ts: &ast::TypedString, e: &Ast) -> Compiled {
        let to = self.data_type(&ts.data_type, e)?;
        let Some(text) = ts.value.clone().into_string() else {
            return Err(self.err(e, "a typed literal needs a string"));
        };
        let node = Node::Cast {
            expr: Box::new(Node::Lit(Value::Str(text.into()))),
            to,
            lenient: false,
        };
        Ok((node, to.sql_type()))
    }

    /// `x IS [NOT] NULL`, `x IS [NOT] UNKNOWN`.
    fn is_null(&self, x: &Ast, negated: bool) -> Compiled {
        let (n, _) = self.expr(x)?;
        Ok((
            Node::IsNull {
                expr: Box::new(n),
                negated,
            },
            SqlType::Bool,
        ))
    }

    /// `x IS [NOT] TRUE`, `x IS [NOT] FALSE`.
    fn is_bool(&self, x: &Ast, want: bool, negated: bool) -> Compiled {
        let (n, t) = self.expr(x)?;
        self.check_condition(&n, t, x)?;
        Ok((
            Node::IsBool {
                expr: Box::new(n),
                want,
                negated,
            },
            SqlType::Bool,
        ))
    }

    /// `a IS [NOT] DISTINCT FROM b`.
    fn distinct(&self, a: &Ast, b: &Ast, negated: bool, e: &Ast) -> Compiled {
        let (na, ta) = self.expr(a)?;
        let (nb, tb) = self.expr(b)?;
        self.check_comparable(ta, tb, e)?;
        Ok((
            Node::Distinct {
                args: Box::new([na, nb]),
                negated,
            },
            SqlType::Bool,
        ))
    }

    /// `x [NOT] BETWEEN low AND high`.
    fn between(&self, expr: &Ast, low: &Ast, high: &Ast, negated: bool) -> Compiled {
        let (n, t) = self.expr(expr)?;
        let (lo, tl) = self.expr(low)?;
        let (hi, th) = self.expr(high)?;
        self.check_comparable(t, tl, low)?;
        self.check_comparable(t, th, high)?;
        Ok((
            Node::Between {
                args: Box::new([n, lo, hi]),
                negated,
            },
            SqlType::Bool,
        ))
    }

    /// `CAST(x AS type)`, `TRY_CAST`, `x::type`.
    fn cast(&self, kind: &CastKind, expr: &Ast, data_type: &ast::DataType, e: &Ast) -> Compiled {
        let to = self.data_type(data_type, e)?;
        let (n, t) = self.expr(expr)?;
        if !castable(t, to) {
            return Err(self.err(e, format!("cannot cast {} to {}", t.name(), to.name())));
        }
        let lenient = matches!(kind, CastKind::TryCast | CastKind::SafeCast);
        Ok((
            Node::Cast {
                expr: Box::new(n),
                to,
                lenient,
            },
            to.sql_type(),
        ))
    }

    /// `EXTRACT(part FROM x)`: `date_part` with the part compiled.
    fn extract(&self, field: &DateTimeField, expr: &Ast, e: &Ast) -> Compiled {
        let name = match field {
            DateTimeField::Custom(ident) => ident.value.clone(),
            other => other.to_string(),
        };
        let part = func::parse_part(&name).map_err(|m| self.err(e, m))?;
        let (n, _) = self.expr(expr)?;
        let prepared = Prepared {
            part: Some(part),
            ..Prepared::default()
        };
        let ty = func::result_type(Func::PartOf, &[], Some(part));
        Ok((self.call_node(Func::PartOf, vec![n], prepared), ty))
    }

    /// `SUBSTRING(x FROM start FOR length)`: `substr`.
    fn substring(&self, expr: &Ast, from: Option<&Ast>, len: Option<&Ast>, e: &Ast) -> Compiled {
        if from.is_none() && len.is_none() {
            let def = func::lookup("substr").expect("substr is a function");
            self.check_arity(&def, 1, self.at(e))?;
        }
        let one = Ast::value(AstValue::Number("1".into(), false));
        let from = from.unwrap_or(&one);
        match len {
            Some(len) => self.call_named("substr", &[expr, from, len], e),
            None => self.call_named("substr", &[expr, from], e),
        }
    }

    /// `TRIM([BOTH|LEADING|TRAILING] [chars FROM] x)`: `trim`, `ltrim`, `rtrim`.
    fn trim(
        &self,
        side: Option<&TrimWhereField>,
        what: Option<&Ast>,
        expr: &Ast,
        characters: Option<&[Ast]>,
        e: &Ast,
    ) -> Compiled {
        let name = match side {
            None | Some(TrimWhereField::Both) => "trim",
            Some(TrimWhereField::Leading) => "ltrim",
            Some(TrimWhereField::Trailing) => "rtrim",
        };
        let mut args: Vec<&Ast> = vec![expr];
        args.extend(what.into_iter().chain(characters.into_iter().flatten()));
        self.call_named(name, &args, e)
    }

    fn negate(&self, node: Node, negated: bool) -> (Node, SqlType) {
        if negated {
            (Node::Not(Box::new(node)), SqlType::Bool)
        } else {
            (node, SqlType::Bool)
        }
    }

    fn unary(&self, op: UnaryOperator, x: &Ast, e: &Ast) -> Compiled {
        match op {
            UnaryOperator::Not => {
                let (n, t) = self.expr(x)?;
                self.check_condition(&n, t, x)?;
                Ok((Node::Not(Box::new(n)), SqlType::Bool))
            }
            UnaryOperator::Minus => {
                // `-9223372036854775808` is one literal, not the negation of an overflow.
                if let Ast::Value(v) = x {
                    if let AstValue::Number(s, _) = &v.value {
                        return self.number(&format!("-{s}"), e);
                    }
                }
                let (n, t) = self.expr(x)?;
                if !matches!(
                    t,
                    SqlType::Int | SqlType::Float | SqlType::Text | SqlType::Null
                ) {
                    return Err(self.err(e, format!("cannot negate a {} value", t.name())));
                }
                let ty = if t == SqlType::Text {
                    SqlType::Float
                } else {
                    t
                };
                Ok((Node::Neg(Box::new(n)), ty))
            }
            UnaryOperator::Plus => self.expr(x),
            other => Err(self.err(e, format!("unsupported operator {other}"))),
        }
    }

    fn binary(&self, left: &Ast, op: &BinaryOperator, right: &Ast, e: &Ast) -> Compiled {
        use BinaryOperator as B;
        match op {
            B::And | B::Or => {
                // The operands of a chain of the same operator, walking its left spine in a
                // loop: generated filters can hold thousands of them.
                let mut sides = vec![right];
                let mut first = left;
                while let Ast::BinaryOp {
                    left: l,
                    op: o,
                    right: r,
                } = first
                {
                    if o != op {
                        break;
                    }
                    sides.push(r);
                    first = l;
                }
                sides.push(first);
                sides.reverse();
                let mut items = Vec::new();
                for side in sides {
                    let (n, t) = self.expr(side)?;
                    self.check_condition(&n, t, side)?;
                    // Flatten chains so evaluation is one loop.
                    match (op, n) {
                        (B::And, Node::And(more)) | (B::Or, Node::Or(more)) => items.extend(more),
                        (_, n) => items.push(n),
                    }
                }
                let node = if *op == B::And {
                    Node::And(items)
                } else {
                    Node::Or(items)
                };
                Ok((node, SqlType::Bool))
            }
            B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq => {
                let (a, ta) = self.expr(left)?;
                let (b, tb) = self.expr(right)?;
                self.check_comparable(ta, tb, e)?;
                let op = match op {
                    B::Eq => CmpOp::Eq,
                    B::NotEq => CmpOp::Ne,
                    B::Lt => CmpOp::Lt,
                    B::LtEq => CmpOp::Le,
                    B::Gt => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                Ok((Node::Cmp(op, Box::new([a, b])), SqlType::Bool))
            }
            B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo | B::DuckIntegerDivide => {
                let (a, ta) = self.expr(left)?;
                let (b, tb) = self.expr(right)?;
                let op = match op {
                    B::Plus => ArithOp::Add,
                    B::Minus => ArithOp::Sub,
                    B::Multiply => ArithOp::Mul,
                    B::Divide => ArithOp::Div,
                    B::Modulo => ArithOp::Mod,
                    _ => ArithOp::IntDiv,
                };
                let ty = self.arith_ty(op, ta, tb, e)?;
                Ok((Node::Arith(op, Box::new([a, b])), ty))
            }
            // DuckDB's `^` is exponentiation (sqlparser reads it as XOR).
            B::BitwiseXor | B::PGExp => self.call_named("power", &[left, right], e),
            B::StringConcat => {
                let (a, _) = self.expr(left)?;
                let (b, _) = self.expr(right)?;
                Ok((Node::Concat(Box::new([a, b])), SqlType::Text))
            }
            B::PGRegexMatch | B::PGRegexNotMatch | B::PGRegexIMatch | B::PGRegexNotIMatch => {
                let case_insensitive = matches!(op, B::PGRegexIMatch | B::PGRegexNotIMatch);
                let negated = matches!(op, B::PGRegexNotMatch | B::PGRegexNotIMatch);
                let node = if case_insensitive {
                    let i = Ast::value(AstValue::SingleQuotedString("i".into()));
                    self.call_named("regexp_matches", &[left, right, &i], e)?.0
                } else {
                    self.call_named("regexp_matches", &[left, right], e)?.0
                };
                Ok(self.negate(node, negated))
            }
            B::PGLikeMatch | B::PGNotLikeMatch | B::PGILikeMatch | B::PGNotILikeMatch => {
                let case_insensitive = matches!(op, B::PGILikeMatch | B::PGNotILikeMatch);
                let negated = matches!(op, B::PGNotLikeMatch | B::PGNotILikeMatch);
                self.like(left, right, None, case_insensitive, negated)
            }
            other => Err(self.err(e, format!("unsupported operator {other}"))),
        }
    }

    fn arith_ty(&self, op: ArithOp, a: SqlType, b: SqlType, e: &Ast) -> Result<SqlType, ExprError> {
        use SqlType::*;
        let temporal = |t: SqlType| matches!(t, Date | Timestamp | Time);
        if temporal(a) || temporal(b) {
            return match (a, b, op) {
                (Date, Int | Null, ArithOp::Add | ArithOp::Sub)
                | (Int | Null, Date, ArithOp::Add) => Ok(Date),
                (Date, Date, ArithOp::Sub) => Ok(Int),
                _ => Err(self.err(
                    e,
                    format!("cannot compute {} {} {}", a.name(), op.symbol(), b.name()),
                )),
            };
        }
        if a == Bool || b == Bool {
            return Err(self.err(e, "BOOLEAN values cannot be used in arithmetic"));
        }
        Ok(match (a, b) {
            _ if op == ArithOp::Div => Float,
            (Int | Null, Int | Null) => {
                if a == Null && b == Null {
                    Null
                } else {
                    Int
                }
            }
            _ => Float,
        })
    }

    fn in_list(&self, expr: &Ast, list: &[Ast], negated: bool) -> Compiled {
        let (probe, tp) = self.expr(expr)?;
        let mut nodes = Vec::with_capacity(list.len());
        for item in list {
            let (n, t) = self.expr(item)?;
            self.check_comparable(tp, t, item)?;
            nodes.push(n);
        }
        let all_strings = nodes.iter().all(|n| lit_str(n).is_some() || is_null_lit(n));
        if tp == SqlType::Text && all_strings && !nodes.is_empty() {
            let mut strings: Vec<Box<str>> =
                nodes.iter().filter_map(lit_str).map(Box::from).collect();
            strings.sort_unstable();
            strings.dedup();
            let has_null = nodes.iter().any(is_null_lit);
            let list = nodes.into_iter().filter(|n| !is_null_lit(n)).collect();
            return Ok((
                Node::InStrings(Box::new(InStrings {
                    probe,
                    strings,
                    list,
                    has_null,
                    negated,
                })),
                SqlType::Bool,
            ));
        }
        Ok((
            Node::In {
                probe: Box::new(probe),
                list: nodes,
                negated,
            },
            SqlType::Bool,
        ))
    }

    fn like(
        &self,
        expr: &Ast,
        pattern: &Ast,
        escape: Option<&Ast>,
        case_insensitive: bool,
        negated: bool,
    ) -> Compiled {
        let (n, _) = self.expr(expr)?;
        let escape = match escape {
            None => None,
            Some(esc) => {
                let (en, _) = self.expr(esc)?;
                let Some(s) = lit_str(&en) else {
                    return Err(self.err(esc, "ESCAPE takes a string literal"));
                };
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (None, _) => None,
                    (Some(c), None) => Some(c),
                    _ => return Err(self.err(esc, "ESCAPE must be empty or one character")),
                }
            }
        };
        let (pn, _) = self.expr(pattern)?;
        let source = match lit_str(&pn) {
            Some(p) => {
                let p = if case_insensitive {
                    func::lower(p.into())
                } else {
                    p.into()
                };
                let compiled = LikePattern::new(&p, escape).map_err(|m| self.err(pattern, m))?;
                LikeSource::Static(compiled)
            }
            None => LikeSource::Dynamic {
                pattern: pn,
                escape,
            },
        };
        let node = Node::Like(Box::new(Like {
            expr: n,
            pattern: source,
            case_insensitive,
            negated,
        }));
        Ok((node, SqlType::Bool))
    }

    fn case(
        &self,
        operand: Option<&Ast>,
        whens: &[ast::CaseWhen],
        otherwise: Option<&Ast>,
        e: &Ast,
    ) -> Compiled {
        let operand = match operand {
            Some(o) => Some(self.expr(o)?),
            None => None,
        };
        let mut conds = Vec::new();
        let mut results = Vec::new();
        for w in whens {
            let (c, tc) = self.expr(&w.condition)?;
            match &operand {
                Some((_, to)) => self.check_comparable(*to, tc, &w.condition)?,
                None => self.check_condition(&c, tc, &w.condition)?,
            }
            conds.push(c);
            results.push(self.expr(&w.result)?);
        }
        let otherwise = match otherwise {
            Some(o) => Some(self.expr(o)?),
            None => None,
        };
        let tys: Vec<SqlType> = results
            .iter()
            .chain(otherwise.iter())
            .map(|(_, t)| *t)
            .collect();
        let ty = self.unify(&tys, "CASE", e)?;
        let whens = conds
            .into_iter()
            .zip(results)
            .map(|(c, (r, t))| (c, coerce(r, t, ty)))
            .collect();
        let case = Case {
            operand: operand.map(|(n, _)| n),
            whens,
            otherwise: otherwise.map(|(n, t)| coerce(n, t, ty)),
        };
        Ok((Node::Case(Box::new(case)), ty))
    }

    /// The common type of branches: numbers widen to DOUBLE, text converts to the other type.
    fn unify(&self, tys: &[SqlType], what: &str, e: &Ast) -> Result<SqlType, ExprError> {
        use SqlType::*;
        let mut t = Null;
        for &u in tys {
            t = match (t, u) {
                (Null, x) | (x, Null) => x,
                (a, b) if a == b => a,
                (Int, Float) | (Float, Int) => Float,
                (Text, x) | (x, Text) if x.is_numeric() => Float,
                (Text, x) | (x, Text) => x,
                (Date, Timestamp) | (Timestamp, Date) => Timestamp,
                (a, b) => {
                    return Err(self.err(
                        e,
                        format!("cannot mix {} and {} in {what}", a.name(), b.name()),
                    ))
                }
            };
        }
        Ok(t)
    }

    fn data_type(&self, dt: &ast::DataType, e: &Ast) -> Result<CastTarget, ExprError> {
        let full = dt.to_string().to_uppercase();
        let (base, params) = match full.find('(') {
            Some(i) => (full[..i].trim(), full[i + 1..].trim_end_matches(')')),
            None => (full.trim(), ""),
        };
        let nums: Vec<u8> = params
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|p| p.trim().parse::<u8>())
            .collect::<Result<_, _>>()
            .map_err(|_| self.err(e, format!("invalid type {full}")))?;
        Ok(match base {
            "BIGINT" | "INT8" | "LONG" | "INT64" => CastTarget::Int(IntWidth::I64),
            "INTEGER" | "INT" | "INT4" | "INT32" | "SIGNED" => CastTarget::Int(IntWidth::I32),
            "SMALLINT" | "INT2" | "INT16" | "SHORT" => CastTarget::Int(IntWidth::I16),
            "TINYINT" | "INT1" => CastTarget::Int(IntWidth::I8),
            "DOUBLE" | "DOUBLE PRECISION" | "FLOAT8" | "FLOAT" | "FLOAT4" | "REAL" | "FLOAT64" => {
                CastTarget::Float
            }
            "DECIMAL" | "NUMERIC" | "DEC" => {
                let (precision, scale) = match nums[..] {
                    [] => (18, 3),
                    [p] => (p, 0),
                    [p, s] => (p, s),
                    _ => return Err(self.err(e, format!("invalid type {full}"))),
                };
                if precision == 0 || precision > 38 || scale > precision {
                    return Err(self.err(e, format!("invalid type {full}")));
                }
                CastTarget::Decimal { precision, scale }
            }
            "VARCHAR" | "TEXT" | "STRING" | "CHAR" | "BPCHAR" | "CHARACTER VARYING" | "CHARACTER"
            | "NVARCHAR" => CastTarget::Text,
            "BOOLEAN" | "BOOL" | "LOGICAL" => CastTarget::Bool,
            "DATE" => CastTarget::Date,
            "TIMESTAMP" | "DATETIME" | "TIMESTAMP WITHOUT TIME ZONE" => CastTarget::Timestamp,
            "TIME" | "TIME WITHOUT TIME ZONE" => CastTarget::Time,
            _ => {
                return Err(self.err(
                    e,
                    format!(
                        "unsupported type {full} (supported: BIGINT, INTEGER, SMALLINT, TINYINT, DOUBLE, \
                         DECIMAL, VARCHAR, BOOLEAN, DATE, TIMESTAMP, TIME)"
                    ),
                ))
            }
        })
    }

    fn function(&self, f: &ast::Function, e: &Ast) -> Compiled {
        let ident = match f.name.0.as_slice() {
            [ObjectNamePart::Identifier(ident)] => ident,
            _ => return Err(self.err(e, format!("unsupported function name {}", f.name))),
        };
        let at = self.offset(ident.span);
        let name = ident.value.to_lowercase();
        if f.over.is_some() {
            return Err(ExprError::new("window functions are not supported", at));
        }
        let Some(def) = func::lookup(&name) else {
            return Err(ExprError::new(unknown_function(&name), at));
        };
        if f.filter.is_some() || !f.within_group.is_empty() || f.null_treatment.is_some() {
            return Err(ExprError::new(
                format!("unsupported clause in {name}()"),
                at,
            ));
        }
        if !matches!(f.parameters, FunctionArguments::None) {
            return Err(ExprError::new(
                format!("unsupported parameters in {name}()"),
                at,
            ));
        }
        let args: Vec<&Ast> = match &f.args {
            FunctionArguments::None => Vec::new(),
            FunctionArguments::Subquery(_) => {
                return Err(ExprError::new("subqueries are not supported", at))
            }
            FunctionArguments::List(list) => {
                if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
                    return Err(ExprError::new(
                        format!("unsupported clause in {name}()"),
                        at,
                    ));
                }
                let mut args = Vec::new();
                for arg in &list.args {
                    match arg {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => args.push(x),
                        _ => {
                            return Err(ExprError::new(
                                format!("{name}() takes plain arguments (no names or *)"),
                                at,
                            ))
                        }
                    }
                }
                args
            }
        };
        self.check_arity(&def, args.len(), at)?;
        self.call(&def, &args, e)
    }

    fn check_arity(&self, def: &FuncDef, n: usize, at: Option<usize>) -> Result<(), ExprError> {
        if (def.min..=def.max).contains(&n) {
            return Ok(());
        }
        let takes = if def.min == def.max {
            crate::units::plural(def.min, "argument")
        } else if def.max == usize::MAX {
            format!("at least {}", crate::units::plural(def.min, "argument"))
        } else {
            format!("{} to {} arguments", def.min, def.max)
        };
        Err(ExprError::new(
            format!("{}() takes {takes}, got {n}", def.name),
            at,
        ))
    }

    /// A call of a function by its name in the table (for the special SQL forms).
    fn call_named(&self, name: &str, args: &[&Ast], e: &Ast) -> Compiled {
        let def = func::lookup(name).expect("special forms name functions of the table");
        self.check_arity(&def, args.len(), self.at(e))?;
        self.call(&def, args, e)
    }

    fn call_node(&self, func: Func, args: Vec<Node>, prepared: Prepared) -> Node {
        Node::Call(Box::new(Call {
            func,
            args,
            prepared,
        }))
    }

    /// A call of a function of the table: its arguments compiled, their types unified where
    /// the function returns one of them, and what literal arguments allow prepared.
    fn call(&self, def: &FuncDef, args: &[&Ast], e: &Ast) -> Compiled {
        let mut prepared = Prepared::default();
        let (mut nodes, mut tys) = self.call_args(def, args, &mut prepared)?;
        let func = def.func;
        let mut ty = None;
        match func {
            Func::Coalesce | Func::Greatest | Func::Least => {
                let unified = self.unify(&tys, def.name, e)?;
                nodes = nodes
                    .into_iter()
                    .zip(&tys)
                    .map(|(n, &t)| coerce(n, t, unified))
                    .collect();
                ty = Some(unified);
            }
            Func::If => {
                self.check_condition(&nodes[0], tys[0], args[0])?;
                let unified = self.unify(&tys[1..], "IF", e)?;
                let mut it = nodes.into_iter().zip(&tys);
                let mut out = Vec::new();
                if let Some((cond, _)) = it.next() {
                    out.push(cond);
                }
                out.extend(it.map(|(n, &t)| coerce(n, t, unified)));
                nodes = out;
                ty = Some(unified);
            }
            Func::NullIf => self.check_comparable(tys[0], tys[1], e)?,
            Func::RegexpMatches
            | Func::RegexpFullMatch
            | Func::RegexpReplace
            | Func::RegexpExtract => self.prepare_regex(func, &nodes, args, &mut prepared)?,
            Func::Strptime | Func::TryStrptime if prepared.formats.is_empty() => {
                if let Some(text) = lit_str(&nodes[1]) {
                    prepared.formats.push(self.parse_format(text, args[1])?);
                }
            }
            Func::Strftime => {
                self.prepare_strftime(&mut nodes, &mut tys, args, &mut prepared, e)?
            }
            Func::DatePart | Func::DateDiff | Func::DateTrunc => {
                if let Some(name) = lit_str(&nodes[0]) {
                    prepared.part = Some(func::parse_part(name).map_err(|m| self.err(args[0], m))?);
                }
            }
            Func::PartOf => {
                prepared.part =
                    Some(Part::parse(def.name).expect("part functions are named after parts"))
            }
            _ => {}
        }
        let ty = ty.unwrap_or_else(|| func::result_type(func, &tys, prepared.part));
        Ok((self.call_node(func, nodes, prepared), ty))
    }

    /// The arguments of a call, compiled, with their types. A list of formats as `strptime`'s
    /// second argument (`['%d/%m/%Y', '%Y-%m-%d']`, tried in turn) goes into `prepared`.
    fn call_args(
        &self,
        def: &FuncDef,
        args: &[&Ast],
        prepared: &mut Prepared,
    ) -> Result<(Vec<Node>, Vec<SqlType>), ExprError> {
        let mut nodes = Vec::with_capacity(args.len());
        let mut tys = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            if i == 1 && matches!(def.func, Func::Strptime | Func::TryStrptime) {
                if let Ast::Array(array) = a {
                    let mut texts = Vec::new();
                    for elem in &array.elem {
                        let (n, _) = self.expr(elem)?;
                        let Some(text) = lit_str(&n) else {
                            return Err(self.err(elem, "strptime formats must be string literals"));
                        };
                        prepared.formats.push(self.parse_format(text, elem)?);
                        texts.push(text.to_string());
                    }
                    if texts.is_empty() {
                        return Err(self.err(a, "strptime needs at least one format"));
                    }
                    nodes.push(Node::Lit(Value::Str(texts.join("', '").into())));
                    tys.push(SqlType::Text);
                    continue;
                }
            }
            let (n, t) = self.expr(a)?;
            nodes.push(n);
            tys.push(t);
        }
        Ok((nodes, tys))
    }

    /// A regex function's literal pattern compiled once (with its literal options), and
    /// `regexp_replace`'s literal replacement translated.
    fn prepare_regex(
        &self,
        func: Func,
        nodes: &[Node],
        args: &[&Ast],
        prepared: &mut Prepared,
    ) -> Result<(), ExprError> {
        let options_at = if func == Func::RegexpReplace || func == Func::RegexpExtract {
            3
        } else {
            2
        };
        if let Some(opts) = self.literal_options(nodes, options_at, args)? {
            if func == Func::RegexpReplace {
                prepared.global = opts.global;
            }
            if let Some(p) = lit_str(&nodes[1]) {
                let full = func == Func::RegexpFullMatch;
                let re = func::build_regex(p, opts, full).map_err(|m| self.err(args[1], m))?;
                prepared.regex = Some(re);
            }
        }
        if func == Func::RegexpReplace {
            if let Some(r) = lit_str(&nodes[2]) {
                prepared.replacement = Some(func::translate_replacement(r));
            }
        }
        Ok(())
    }

    /// `strftime`'s literal format compiled; DuckDB also takes `strftime(format, value)`.
    fn prepare_strftime(
        &self,
        nodes: &mut [Node],
        tys: &mut [SqlType],
        args: &[&Ast],
        prepared: &mut Prepared,
        e: &Ast,
    ) -> Result<(), ExprError> {
        if tys[0] == SqlType::Text && matches!(tys[1], SqlType::Date | SqlType::Timestamp) {
            nodes.swap(0, 1);
            tys.swap(0, 1);
        }
        if let Some(text) = lit_str(&nodes[1]) {
            let f = Format::new(text).map_err(|m| self.err(args[1], m))?;
            prepared.formats.push(f);
        }
        if matches!(
            tys[0],
            SqlType::Time | SqlType::Int | SqlType::Float | SqlType::Bool
        ) {
            return Err(self.err(
                e,
                format!("strftime takes a DATE or TIMESTAMP, not {}", tys[0].name()),
            ));
        }
        Ok(())
    }

    fn parse_format(&self, text: &str, at: &Ast) -> Result<Format, ExprError> {
        let f = Format::new(text).map_err(|m| self.err(at, m))?;
        f.check_parse().map_err(|m| self.err(at, m))?;
        Ok(f)
    }

    /// Regex options from argument `i`: the defaults when absent, `None` when not a literal.
    fn literal_options(
        &self,
        nodes: &[Node],
        i: usize,
        args: &[&Ast],
    ) -> Result<Option<RegexOptions>, ExprError> {
        match nodes.get(i) {
            None => Ok(Some(RegexOptions::default())),
            Some(n) => match lit_str(n) {
                Some(o) => RegexOptions::parse(o)
                    .map(Some)
                    .map_err(|m| self.err(args[i], m)),
                None => Ok(None),
            },
        }
    }
}

/// `unknown function 'uper' (did you mean 'upper'?)`.
fn unknown_function(name: &str) -> String {
    if AGGREGATES.contains(&name) {
        return format!(
            "{name}() is an aggregate; expressions work on one record at a time{}",
            if matches!(name, "min" | "max") {
                " (for the smaller or larger of values use least() or greatest())"
            } else {
                ""
            }
        );
    }
    let nearest = func::names()
        .map(|d| (edit_distance(name, d.name), d.name))
        .filter(|(d, n)| *d <= (n.len().max(name.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d);
    match nearest {
        Some((_, n)) => format!("unknown function '{name}' (did you mean '{n}'?)"),
        None => format!("unknown function '{name}'"),
    }
}
