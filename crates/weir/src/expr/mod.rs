//! SQL expressions: parsed with sqlparser, compiled once against the columns, evaluated per record.
//!
//! An [`Expr`] is compiled from SQL text (DuckDB dialect) against the input [`Columns`]: column
//! names become indexes, functions are looked up, literal regexes, `LIKE` patterns and date
//! formats are compiled, and constant sub-expressions are folded. The compiled form is immutable,
//! `Send + Sync` and cheap to clone (an `Arc`), so every worker can hold its own copy.
//!
//! Evaluation follows DuckDB's semantics (the reference for every result and test here), with
//! one deliberate extension: columns are `VARCHAR`, and where an operator needs another type the
//! text is converted implicitly instead of requiring an explicit cast:
//!
//! - compared with a number, a column's text is read as a number (exactly, as `BIGINT` when it
//!   is an integer, else as `DOUBLE`); compared with a string literal or another column, it is a
//!   string comparison; compared with a `DATE`/`TIMESTAMP`/`TIME`/`BOOLEAN`, it is cast to that;
//! - in arithmetic and numeric functions a column's text is read as `DOUBLE` (write
//!   `CAST(x AS BIGINT)` or `x::INT` for integer arithmetic);
//! - in `CASE`/`COALESCE`/`IF`/`GREATEST`/`LEAST` text mixed with another type is cast to it.
//!
//! A value that cannot be converted is an [`EvalError`] naming the column, the value and the
//! wanted type; the record is rejected. `TRY_CAST` and `try_strptime` are the lenient forms.
//!
//! JSON Lines fields keep their JSON type: numbers are `BIGINT`/`DOUBLE`, `true`/`false` are
//! `BOOLEAN`, arrays and objects are their JSON text.
//!
//! Known differences from DuckDB:
//! - `DECIMAL`/`NUMERIC` values (casts and decimal literals such as `1.5`) are `DOUBLE` here.
//!   Text cast to `DECIMAL(p,s)` is rounded exactly on its digits as DuckDB does, but the
//!   result prints as a double (`CAST('1.5' AS DECIMAL(10,2))` is `1.5`, not `1.50`) and
//!   literal arithmetic is binary (`0.1 + 0.2` is `0.30000000000000004`); `FLOAT`/`REAL` are
//!   `DOUBLE`.
//! - Integer arithmetic is `BIGINT` (DuckDB's `INTEGER` literals overflow at 2^31 instead).
//! - Dates are limited to the years 0..=9999.
//! - `reverse` keeps combining marks and zero-width-joiner sequences with their base character;
//!   DuckDB reverses full grapheme clusters (flags, for one, differ).
//! - Regexes use the `regex` crate: RE2's syntax, but `\d`, `\s`, `\w` are Unicode-aware
//!   (RE2's are ASCII).
//! - `strptime` with `%z` gives a `TIMESTAMP` in UTC where DuckDB gives a `TIMESTAMP WITH TIME
//!   ZONE`; `%Z`, `%U`, `%W`, `%V`, `%G` are not parsed (they are formatted).
//! - `**` is not parsed (sqlparser); `^` is exponentiation, as in DuckDB.

// The layout, xan's moonblade's: `compile` turns SQL text into the tree of `node`, which `eval`
// walks per record; `func` is the function table and the strict functions, by family, on
// evaluated values (it never sees the tree or the evaluator); `value`, `convert`, `datetime`
// and `like` are below them all. The children import one another without a cycle
// (`contrib/tools/module_cycles.py --children crates/weir/src/expr`).
mod compile;
mod convert;
mod datetime;
mod eval;
mod func;
mod like;
mod node;
#[cfg(test)]
mod tests;
mod value;

use std::fmt;
use std::sync::Arc;

use crate::record::{Columns, Record};

pub use func::docs::FunctionDoc;
pub use value::Value;

/// The documentation of every function an expression can call, grouped by family (the order
/// of [`function_families`]): its signature, a one-line description, and an example with its
/// result. It is the table the compiler resolves function names against, so it names exactly
/// the functions an expression can call.
pub fn functions() -> &'static [FunctionDoc] {
    func::docs::FUNCTIONS
}

/// The function with this name or alias (any case).
pub fn function(name: &str) -> Option<&'static FunctionDoc> {
    functions().iter().find(|d| d.is_named(name))
}

/// The families of [`functions`] in the order they are listed: each `(family, heading)`.
pub fn function_families() -> &'static [(&'static str, &'static str)] {
    func::docs::FAMILIES
}

/// A compiled SQL expression; see the module documentation. Cloning is cheap (an `Arc`).
#[derive(Clone)]
pub struct Expr {
    program: Arc<Program>,
    /// The longest text value the expression may build, in bytes.
    limit: usize,
}

/// The longest text value an [`Expr`] builds unless told otherwise
/// ([`Expr::limit_values`]): the engine's default maximum record size.
pub const DEFAULT_VALUE_LIMIT: usize = 64 << 20;

/// What an [`Expr`] shares between its clones.
struct Program {
    sql: String,
    root: node::Node,
    columns_used: Vec<usize>,
    /// The input column names, for error messages.
    names: Vec<String>,
}

impl Expr {
    /// Parses and compiles `sql` against `columns`.
    ///
    /// Unknown columns and functions, wrong argument counts, type mismatches between constants
    /// and invalid literal patterns or formats are errors here, with the byte offset of the
    /// offending part of `sql` (see [`ExprError::render`]).
    pub fn compile(sql: &str, columns: &Columns) -> Result<Expr, ExprError> {
        Expr::compile_as(sql, columns, false)
    }

    /// Compiles `sql` as a condition (a filter): as [`Expr::compile`], and an expression that
    /// is surely not a boolean is an error here rather than a rejected record each time:
    /// computed text (`upper(name)`, `'US'`), a date or a time. A column, NULL, a number (true
    /// when not zero) or a `CASE` that may give a column are left to [`Expr::eval_truthy`].
    pub fn compile_condition(sql: &str, columns: &Columns) -> Result<Expr, ExprError> {
        Expr::compile_as(sql, columns, true)
    }

    fn compile_as(sql: &str, columns: &Columns, condition: bool) -> Result<Expr, ExprError> {
        let (root, columns_used) = compile::compile(sql, columns, condition)?;
        Ok(Expr {
            program: Arc::new(Program {
                sql: sql.to_string(),
                root,
                columns_used,
                names: columns.names().to_vec(),
            }),
            limit: DEFAULT_VALUE_LIMIT,
        })
    }

    /// Evaluates against one record.
    ///
    /// The value borrows from the record (column text, slices of it) and from the expression
    /// (string literals), so evaluation allocates only when a function builds new text.
    pub fn eval<'r>(&'r self, record: &'r Record<'_>) -> Result<Value<'r>, EvalError> {
        let cx = eval::EvalContext::new(record, &self.program.names, self.limit);
        self.program.root.eval(&cx).map_err(|e| *e)
    }

    /// Evaluates as a condition (for filters): `Some(true)`/`Some(false)`, `None` for NULL.
    ///
    /// A non-boolean result is converted as DuckDB does in `WHERE` (numbers are true when not
    /// zero, text must read as a boolean); a failure names the column the value came from.
    pub fn eval_truthy(&self, record: &Record<'_>) -> Result<Option<bool>, EvalError> {
        let cx = eval::EvalContext::new(record, &self.program.names, self.limit);
        self.program.root.truth(&cx).map_err(|e| *e)
    }

    /// Bounds the text values the expression builds (`repeat`, `lpad`, `replace`, `concat`,
    /// `||`, ...) to `bytes`: a value that would be longer fails the evaluation
    /// ([`EvalError::too_large`]) before it is built where its length is known in advance, and
    /// as soon as it is built otherwise. The engine passes its maximum record size, so a
    /// derived value can never be larger than a record it would refuse to read.
    pub fn limit_values(&mut self, bytes: usize) {
        self.limit = bytes;
    }

    /// Column indexes the expression reads (for plans), ascending.
    pub fn columns_used(&self) -> Vec<usize> {
        self.program.columns_used.clone()
    }

    /// The source text.
    pub fn sql(&self) -> &str {
        &self.program.sql
    }
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Expr").field("sql", &self.sql()).finish()
    }
}

/// An expression that does not compile: a syntax error, an unknown name, a type mismatch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    /// What is wrong, naming the identifier and the nearest existing one where that helps.
    pub message: String,
    /// Byte offset in the SQL text of the offending part, when known.
    pub offset: Option<usize>,
}

impl ExprError {
    pub(crate) fn new(message: impl Into<String>, offset: Option<usize>) -> ExprError {
        ExprError {
            message: message.into(),
            offset,
        }
    }

    /// The message followed by the expression and a caret line under the offending position.
    ///
    /// Only the line of `sql` that holds the offset is shown; each is indented by two spaces:
    ///
    /// ```text
    /// unknown column 'agee' (did you mean 'age'?)
    ///   agee >= 30
    ///   ^
    /// ```
    pub fn render(&self, sql: &str) -> String {
        let mut out = self.message.clone();
        let Some(offset) = self.offset.filter(|&o| o <= sql.len()) else {
            out.push_str("\n  ");
            out.push_str(sql);
            return out;
        };
        let mut offset = offset;
        while !sql.is_char_boundary(offset) {
            offset -= 1;
        }
        let line_start = sql[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = sql[offset..].find('\n').map_or(sql.len(), |i| offset + i);
        let line = sql[line_start..line_end].trim_end_matches('\r');
        let column = sql[line_start..offset].chars().count();
        out.push_str("\n  ");
        out.push_str(line);
        out.push_str("\n  ");
        out.extend(std::iter::repeat_n(' ', column));
        out.push('^');
        out
    }
}

/// A record whose values the expression cannot evaluate: the record is rejected with this reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    /// The column the offending value came from, when it came from exactly one column.
    pub column: Option<String>,
    /// The offending value, as text.
    pub value: String,
    /// A message for a person naming the value, the column and what was wanted, e.g.
    /// `cannot convert 'abc' (column age) to BIGINT`.
    pub message: String,
    /// Whether the expression would have built a value longer than its limit
    /// ([`Expr::limit_values`]); `value` then holds only the start of the inputs.
    pub too_large: bool,
}
