//! The evaluator: walks the compiled tree ([`Node`]) for every record.
//!
//! The tree is built once by the compiler; evaluation walks it for every record, one `match`
//! on the node. Values borrow from the record and from the tree, so a node that selects, trims
//! or compares text does not allocate. Errors are boxed to keep `Result<Value, _>` small on the
//! success path.
//!
//! Function calls: the forms that decide which arguments to evaluate or skip NULLs
//! (`coalesce`, `if`, `nullif`, `greatest`, `least`, `concat`, `concat_ws`) are evaluated here;
//! for every other function the arguments are evaluated here and [`func::call`] computes it
//! on the values, and a [`FuncError`] it returns becomes an [`EvalError`] naming the column
//! of the argument at fault.

use std::borrow::Cow;
use std::cmp::Ordering;

use jiff::civil::{Date, DateTime, Time};

use super::convert::{self, Num};
use super::func::{self, Func, FuncError, MAX_STRICT_ARGS};
use super::like::LikePattern;
use super::node::{ArithOp, Call, CastTarget, InStrings, Like, LikeSource, Node};
use super::value::SqlType;
use super::{EvalError, Value};
use crate::record::{Record, ValueKind};

pub(crate) type BoxedEvalError = Box<EvalError>;
pub(crate) type EvalResult<'r> = Result<Value<'r>, BoxedEvalError>;

/// What evaluation needs besides the tree: the record and the column names for messages.
pub(crate) struct EvalContext<'r> {
    rec: &'r Record<'r>,
    names: &'r [String],
    /// The longest text value the expression may build, in bytes.
    limit: usize,
}

impl<'r> EvalContext<'r> {
    pub(crate) fn new(rec: &'r Record<'r>, names: &'r [String], limit: usize) -> EvalContext<'r> {
        EvalContext { rec, names, limit }
    }

    /// Fails when a text value of `len` bytes (built or about to be) is past the limit.
    #[inline]
    pub(crate) fn bound(&self, len: u128) -> Result<(), BoxedEvalError> {
        if len > self.limit as u128 {
            return Err(self.too_large(len));
        }
        Ok(())
    }

    #[cold]
    fn too_large(&self, len: u128) -> BoxedEvalError {
        Box::new(EvalError {
            column: None,
            value: String::new(),
            message: format!(
                "the expression would build a value of {len} bytes, more than the maximum \
                 record size of {} bytes",
                self.limit
            ),
            too_large: true,
        })
    }

    /// A column's value: text, NULL, or for JSON Lines a typed scalar.
    #[inline]
    fn column(&self, i: usize) -> EvalResult<'r> {
        let Some(bytes) = self.rec.get(i) else {
            return Ok(Value::Null);
        };
        match self.rec.kind(i) {
            Some(ValueKind::Text) => match std::str::from_utf8(bytes) {
                Ok(s) => Ok(Value::Str(Cow::Borrowed(s))),
                Err(_) => Err(self.utf8_error(i, bytes)),
            },
            Some(ValueKind::Json) => self.json(i, bytes),
            _ => Ok(Value::Null),
        }
    }

    /// The raw text of column `i` when it is plain text, so a conversion can skip UTF-8
    /// validation; `None` for NULL, JSON values and missing fields.
    #[inline]
    fn column_text(&self, i: usize) -> Option<&'r [u8]> {
        match self.rec.kind(i) {
            Some(ValueKind::Text) => self.rec.get(i),
            _ => None,
        }
    }

    /// A number from a text column (read as DOUBLE) or a number literal, when that needs no
    /// conversion that could fail; `None` sends the caller to the general path.
    #[inline]
    fn quick_num(&self, node: &Node) -> Option<Num> {
        match node {
            Node::Lit(Value::Int(i)) => Some(Num::Int(*i)),
            Node::Lit(Value::Float(f)) => Some(Num::Float(*f)),
            Node::Col(i) => convert::parse_f64(self.column_text(*i)?).map(Num::Float),
            _ => None,
        }
    }

    /// Whether column `i` is NULL, when that is known without reading it.
    #[inline]
    fn column_is_null(&self, i: usize) -> Option<bool> {
        match self.rec.kind(i) {
            None | Some(ValueKind::Null) => Some(true),
            Some(ValueKind::Text) => Some(false),
            Some(ValueKind::Json) => None,
        }
    }

    /// Compares column `i` with a literal on its raw text when that is exact: as bytes with a
    /// string, as a number with a number. `None` when the general path must decide (JSON
    /// values, text that is not a number, so the error names it properly).
    #[inline]
    fn column_vs_literal(&self, i: usize, lit: &Value<'_>) -> Option<Option<Ordering>> {
        if self.column_is_null(i) == Some(true) {
            return Some(None);
        }
        let bytes = self.column_text(i)?;
        match lit {
            Value::Null => Some(None),
            Value::Str(s) => {
                let order = bytes.cmp(s.as_bytes());
                // Bytes equal to the literal are its text; other bytes are compared as text only
                // when they are text: the general path rejects invalid UTF-8, as LIKE does.
                if order != Ordering::Equal && !is_text(bytes) {
                    return None;
                }
                Some(Some(order))
            }
            Value::Int(n) => convert::parse_number(bytes).map(|x| Some(num_cmp(x, Num::Int(*n)))),
            Value::Float(f) => {
                convert::parse_number(bytes).map(|x| Some(num_cmp(x, Num::Float(*f))))
            }
            _ => None,
        }
    }

    fn json(&self, i: usize, bytes: &'r [u8]) -> EvalResult<'r> {
        match bytes.first() {
            Some(b't') if bytes == b"true" => Ok(Value::Bool(true)),
            Some(b'f') if bytes == b"false" => Ok(Value::Bool(false)),
            Some(b'-' | b'0'..=b'9') => {
                let integral = !bytes.iter().any(|b| matches!(b, b'.' | b'e' | b'E'));
                if integral {
                    if let Some(v) = std::str::from_utf8(bytes).ok().and_then(|s| s.parse().ok()) {
                        return Ok(Value::Int(v));
                    }
                }
                match convert::parse_f64(bytes) {
                    Some(f) => Ok(Value::Float(f)),
                    None => Err(self.utf8_error(i, bytes)),
                }
            }
            _ => match std::str::from_utf8(bytes) {
                Ok(s) => Ok(Value::Str(Cow::Borrowed(s))),
                Err(_) => Err(self.utf8_error(i, bytes)),
            },
        }
    }

    fn name(&self, col: Option<usize>) -> Option<&'r String> {
        col.and_then(|i| self.names.get(i))
    }

    #[cold]
    fn utf8_error(&self, i: usize, bytes: &[u8]) -> BoxedEvalError {
        let name = self.name(Some(i));
        Box::new(EvalError {
            column: name.cloned(),
            value: String::from_utf8_lossy(bytes).into_owned(),
            message: format!(
                "invalid UTF-8 in column {}",
                name.map_or("?", String::as_str)
            ),
            too_large: false,
        })
    }

    /// `cannot convert 'abc' (column age) to BIGINT`, naming the column `node` reads.
    #[cold]
    pub(crate) fn convert_error(&self, node: &Node, value: &str, to: &str) -> BoxedEvalError {
        let name = self.name(node.origin());
        let message = match name {
            Some(n) => format!("cannot convert '{value}' (column {n}) to {to}"),
            None => format!("cannot convert '{value}' to {to}"),
        };
        Box::new(EvalError {
            column: name.cloned(),
            value: value.to_string(),
            message,
            too_large: false,
        })
    }

    /// Another problem with a value, naming the column `node` reads when there is one.
    #[cold]
    pub(crate) fn error(&self, node: &Node, value: &Value<'_>, message: String) -> BoxedEvalError {
        self.error_with_text(node, value.to_text().into_owned(), message)
    }

    /// [`EvalContext::error`] with the value already as text.
    #[cold]
    fn error_with_text(&self, node: &Node, value: String, message: String) -> BoxedEvalError {
        let name = self.name(node.origin());
        let message = match name {
            Some(n) => format!("{message} (column {n})"),
            None => message,
        };
        Box::new(EvalError {
            column: name.cloned(),
            value,
            message,
            too_large: false,
        })
    }

    /// A number for a comparison: text is read exactly (BIGINT when integral).
    fn number_to_compare(&self, v: &Value<'_>, node: &Node) -> Result<Num, BoxedEvalError> {
        match v {
            Value::Int(i) => Ok(Num::Int(*i)),
            Value::Float(f) => Ok(Num::Float(*f)),
            Value::Bool(b) => Ok(Num::Int(i64::from(*b))),
            Value::Str(s) => convert::parse_number(s.as_bytes())
                .ok_or_else(|| self.convert_error(node, s, "DOUBLE")),
            other => Err(self.error(
                node,
                other,
                format!("cannot compare {} with a number", other.type_name()),
            )),
        }
    }

    /// A number for arithmetic: text is read as DOUBLE.
    pub(crate) fn arith_num(&self, v: &Value<'_>, node: &Node) -> Result<Num, BoxedEvalError> {
        v.to_number()
            .ok_or_else(|| self.convert_error(node, &v.to_text(), "DOUBLE"))
    }

    /// SQL truthiness of a value computed by `node`.
    pub(crate) fn truthy(
        &self,
        v: &Value<'_>,
        node: &Node,
    ) -> Result<Option<bool>, BoxedEvalError> {
        match v {
            Value::Null => Ok(None),
            Value::Bool(b) => Ok(Some(*b)),
            Value::Int(i) => Ok(Some(*i != 0)),
            Value::Float(f) => Ok(Some(*f != 0.0)),
            Value::Str(s) => convert::parse_bool(s.as_bytes())
                .map(Some)
                .ok_or_else(|| self.convert_error(node, s, "BOOLEAN")),
            other => Err(self.convert_error(node, &other.to_text(), "BOOLEAN")),
        }
    }

    /// Compares two values with DuckDB's rules; `None` when either is NULL. Text meets another
    /// type by being converted to it.
    pub(crate) fn compare(
        &self,
        a: &Value<'_>,
        b: &Value<'_>,
        na: &Node,
        nb: &Node,
    ) -> Result<Option<Ordering>, BoxedEvalError> {
        use Value as V;
        let o = match (a, b) {
            (V::Null, _) | (_, V::Null) => return Ok(None),
            (V::Str(x), V::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
            (V::Int(x), V::Int(y)) => x.cmp(y),
            (V::Bool(x), V::Bool(y)) => x.cmp(y),
            (V::Date(x), V::Date(y)) => x.cmp(y),
            (V::Timestamp(x), V::Timestamp(y)) => x.cmp(y),
            (V::Time(x), V::Time(y)) => x.cmp(y),
            (V::Date(x), V::Timestamp(y)) => x.to_datetime(Time::midnight()).cmp(y),
            (V::Timestamp(x), V::Date(y)) => x.cmp(&y.to_datetime(Time::midnight())),
            (V::Str(s), V::Bool(y)) => self.text_as_bool(s, na)?.cmp(y),
            (V::Bool(x), V::Str(s)) => x.cmp(&self.text_as_bool(s, nb)?),
            (V::Str(s), V::Date(y)) => self.text_as_date(s, na)?.cmp(y),
            (V::Date(x), V::Str(s)) => x.cmp(&self.text_as_date(s, nb)?),
            (V::Str(s), V::Timestamp(y)) => self.text_as_timestamp(s, na)?.cmp(y),
            (V::Timestamp(x), V::Str(s)) => x.cmp(&self.text_as_timestamp(s, nb)?),
            (V::Str(s), V::Time(y)) => self.text_as_time(s, na)?.cmp(y),
            (V::Time(x), V::Str(s)) => x.cmp(&self.text_as_time(s, nb)?),
            (
                V::Int(_) | V::Float(_) | V::Bool(_) | V::Str(_),
                V::Int(_) | V::Float(_) | V::Bool(_),
            )
            | (V::Int(_) | V::Float(_), V::Str(_)) => num_cmp(
                self.number_to_compare(a, na)?,
                self.number_to_compare(b, nb)?,
            ),
            _ => {
                return Err(self.error(
                    na,
                    a,
                    format!("cannot compare {} with {}", a.type_name(), b.type_name()),
                ))
            }
        };
        Ok(Some(o))
    }

    fn text_as_bool(&self, s: &str, node: &Node) -> Result<bool, BoxedEvalError> {
        convert::parse_bool(s.as_bytes()).ok_or_else(|| self.convert_error(node, s, "BOOLEAN"))
    }

    fn text_as_date(&self, s: &str, node: &Node) -> Result<Date, BoxedEvalError> {
        convert::parse_date(s.as_bytes()).ok_or_else(|| self.convert_error(node, s, "DATE"))
    }

    fn text_as_timestamp(&self, s: &str, node: &Node) -> Result<DateTime, BoxedEvalError> {
        convert::parse_timestamp(s.as_bytes())
            .ok_or_else(|| self.convert_error(node, s, "TIMESTAMP"))
    }

    fn text_as_time(&self, s: &str, node: &Node) -> Result<Time, BoxedEvalError> {
        convert::parse_time(s.as_bytes()).ok_or_else(|| self.convert_error(node, s, "TIME"))
    }

    /// `CAST(v AS to)` with DuckDB's rules; gives `v` back when it does not convert.
    fn cast(&self, v: Value<'r>, to: CastTarget) -> Result<Value<'r>, Value<'r>> {
        match (v, to) {
            (Value::Null, _) => Ok(Value::Null),
            (v, CastTarget::Text) => Ok(Value::Str(v.into_text())),
            (v, to) => cast_value(&v, to).ok_or(v),
        }
    }

    /// An implicit conversion to a unified branch type.
    fn coerce(&self, v: Value<'r>, to: SqlType, node: &Node) -> EvalResult<'r> {
        use Value as V;
        Ok(match (v, to) {
            (V::Null, _) => V::Null,
            (V::Int(i), SqlType::Float) => V::Float(i as f64),
            (V::Str(s), SqlType::Float | SqlType::Int) => match convert::parse_f64(s.as_bytes()) {
                Some(f) => V::Float(f),
                None => return Err(self.convert_error(node, &s, "DOUBLE")),
            },
            (v @ V::Str(_), SqlType::Bool | SqlType::Date | SqlType::Timestamp | SqlType::Time) => {
                let target = match to {
                    SqlType::Bool => CastTarget::Bool,
                    SqlType::Date => CastTarget::Date,
                    SqlType::Timestamp => CastTarget::Timestamp,
                    _ => CastTarget::Time,
                };
                match self.cast(v, target) {
                    Ok(v) => v,
                    Err(v) => return Err(self.convert_error(node, &v.to_text(), to.name())),
                }
            }
            (V::Date(d), SqlType::Timestamp) => V::Timestamp(d.to_datetime(Time::midnight())),
            (v, _) => v,
        })
    }
}

/// A cast to a non-text type, with DuckDB's rules; `None` when the value does not convert.
fn cast_value(v: &Value<'_>, to: CastTarget) -> Option<Value<'static>> {
    use Value as V;
    Some(match (v, to) {
        (V::Str(s), CastTarget::Int(w)) => {
            V::Int(convert::parse_int(s.as_bytes()).and_then(|v| w.check(v))?)
        }
        (V::Int(i), CastTarget::Int(w)) => V::Int(w.check(*i)?),
        (V::Float(f), CastTarget::Int(w)) => V::Int(convert::float_to_int(*f, w)?),
        (V::Bool(b), CastTarget::Int(_)) => V::Int(i64::from(*b)),
        (V::Str(s), CastTarget::Float) => V::Float(convert::parse_f64(s.as_bytes())?),
        (V::Int(i), CastTarget::Float) => V::Float(*i as f64),
        (V::Float(f), CastTarget::Float) => V::Float(*f),
        (V::Bool(b), CastTarget::Float) => V::Float(f64::from(u8::from(*b))),
        (V::Str(s), CastTarget::Decimal { precision, scale }) => {
            V::Float(convert::parse_decimal(s.as_bytes(), precision, scale)?)
        }
        (V::Int(_) | V::Float(_) | V::Bool(_), CastTarget::Decimal { precision, scale }) => {
            let f = match v {
                V::Int(i) => *i as f64,
                V::Float(f) => *f,
                _ => f64::from(u8::from(matches!(v, V::Bool(true)))),
            };
            V::Float(convert::round_decimal(f, precision, scale)?)
        }
        (V::Str(s), CastTarget::Bool) => V::Bool(convert::parse_bool(s.as_bytes())?),
        (V::Bool(b), CastTarget::Bool) => V::Bool(*b),
        (V::Int(i), CastTarget::Bool) => V::Bool(*i != 0),
        (V::Float(f), CastTarget::Bool) => V::Bool(*f != 0.0),
        (V::Str(s), CastTarget::Date) => V::Date(convert::parse_date(s.as_bytes())?),
        (V::Date(d), CastTarget::Date) => V::Date(*d),
        (V::Timestamp(t), CastTarget::Date) => V::Date(t.date()),
        (V::Str(s), CastTarget::Timestamp) => V::Timestamp(convert::parse_timestamp(s.as_bytes())?),
        (V::Date(d), CastTarget::Timestamp) => V::Timestamp(d.to_datetime(Time::midnight())),
        (V::Timestamp(t), CastTarget::Timestamp) => V::Timestamp(*t),
        (V::Str(s), CastTarget::Time) => V::Time(convert::parse_time(s.as_bytes())?),
        (V::Timestamp(t), CastTarget::Time) => V::Time(t.time()),
        (V::Time(t), CastTarget::Time) => V::Time(*t),
        _ => return None,
    })
}

/// Numbers in DuckDB's order: NaN equals NaN and is above everything; -0 equals 0.
pub(crate) fn num_cmp(a: Num, b: Num) -> Ordering {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => x.cmp(&y),
        (Num::Int(x), Num::Float(y)) => int_float_cmp(x, y),
        (Num::Float(x), Num::Int(y)) => int_float_cmp(y, x).reverse(),
        (Num::Float(x), Num::Float(y)) => float_cmp(x, y),
    }
}

pub(crate) fn float_cmp(x: f64, y: f64) -> Ordering {
    match x.partial_cmp(&y) {
        Some(o) => o,
        None => x.is_nan().cmp(&y.is_nan()),
    }
}

fn int_float_cmp(x: i64, y: f64) -> Ordering {
    if y.is_nan() {
        return Ordering::Less;
    }
    let o = float_cmp(x as f64, y);
    // Beyond 2^53 the conversion rounds; an integral double in range compares exactly.
    if o == Ordering::Equal && y.abs() < 9.2e18 {
        return x.cmp(&(y as i64));
    }
    o
}

/// Three-valued AND of two truth values.
fn three_valued_and(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn bool_value(b: Option<bool>) -> Value<'static> {
    b.map_or(Value::Null, Value::Bool)
}

/// Compares two nodes. A column's text meets a string literal as bytes and a number literal
/// as a number without UTF-8 validation first; everything else goes through [`EvalContext::compare`].
#[inline]
fn compare_nodes<'r>(
    a: &'r Node,
    b: &'r Node,
    cx: &EvalContext<'r>,
) -> Result<Option<Ordering>, BoxedEvalError> {
    match (a, b) {
        (Node::Col(i), Node::Lit(lit)) => {
            if let Some(o) = cx.column_vs_literal(*i, lit) {
                return Ok(o);
            }
        }
        (Node::Lit(lit), Node::Col(i)) => {
            if let Some(o) = cx.column_vs_literal(*i, lit) {
                return Ok(o.map(Ordering::reverse));
            }
        }
        _ => {}
    }
    let va = a.eval(cx)?;
    if va.is_null() {
        return Ok(None);
    }
    let vb = b.eval(cx)?;
    cx.compare(&va, &vb, a, b)
}

/// Whether a column's bytes are valid UTF-8 (ASCII checked first: the common case, and cheap).
#[inline]
fn is_text(bytes: &[u8]) -> bool {
    bytes.is_ascii() || std::str::from_utf8(bytes).is_ok()
}

/// Byte equality tuned for the short strings of `IN` lists.
#[inline]
fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && if a.len() <= 16 {
            a.iter().zip(b).all(|(x, y)| x == y)
        } else {
            a == b
        }
}

impl InStrings {
    fn truth<'r>(&'r self, cx: &EvalContext<'r>) -> Result<Option<bool>, BoxedEvalError> {
        let text = match &self.probe {
            Node::Col(i) => cx.column_text(*i),
            _ => None,
        };
        let found = match (text, &self.probe) {
            (Some(bytes), _) if self.contains(bytes) => true,
            // Not in the list, and not text either: a reason, not a silent false.
            (Some(bytes), Node::Col(i)) if !is_text(bytes) => return Err(cx.utf8_error(*i, bytes)),
            (Some(_), _) => false,
            (None, probe) => {
                let v = probe.eval(cx)?;
                match &v {
                    Value::Null => return Ok(None),
                    Value::Str(s) => self.contains(s.as_bytes()),
                    _ => {
                        let mut found = false;
                        for item in &self.list {
                            let w = item.eval(cx)?;
                            if cx.compare(&v, &w, probe, item)? == Some(Ordering::Equal) {
                                found = true;
                                break;
                            }
                        }
                        found
                    }
                }
            }
        };
        Ok(if found {
            Some(!self.negated)
        } else if self.has_null {
            None
        } else {
            Some(self.negated)
        })
    }

    #[inline]
    fn contains(&self, s: &[u8]) -> bool {
        if self.strings.len() <= 16 {
            self.strings.iter().any(|x| bytes_eq(x.as_bytes(), s))
        } else {
            self.strings
                .binary_search_by(|x| x.as_bytes().cmp(s))
                .is_ok()
        }
    }
}

impl Like {
    fn truth<'r>(&'r self, cx: &EvalContext<'r>) -> Result<Option<bool>, BoxedEvalError> {
        let v = self.expr.eval(cx)?;
        if v.is_null() {
            return Ok(None);
        }
        let text = v.into_text();
        let text = if self.case_insensitive {
            func::lower(text)
        } else {
            text
        };
        let matched = match &self.pattern {
            LikeSource::Static(p) => p.matches(&text),
            LikeSource::Dynamic { pattern, escape } => {
                let pv = pattern.eval(cx)?;
                if pv.is_null() {
                    return Ok(None);
                }
                let mut ptext = pv.into_text();
                if self.case_insensitive {
                    ptext = func::lower(ptext);
                }
                let p = LikePattern::new(&ptext, *escape)
                    .map_err(|m| cx.error(pattern, &Value::Str(ptext.clone()), m))?;
                p.matches(&text)
            }
        };
        Ok(Some(matched != self.negated))
    }
}

impl Node {
    /// Evaluates the node for the record in `cx`.
    pub(crate) fn eval<'r>(&'r self, cx: &EvalContext<'r>) -> EvalResult<'r> {
        match self {
            Node::Lit(v) => Ok(v.borrowed()),
            Node::Col(i) => cx.column(*i),
            Node::Not(e) => Ok(bool_value(e.truth(cx)?.map(|b| !b))),
            Node::And(_) | Node::Or(_) | Node::IsBool { .. } => Ok(bool_value(self.truth(cx)?)),
            Node::Cmp(..)
            | Node::In { .. }
            | Node::InStrings(_)
            | Node::Between { .. }
            | Node::Like(_)
            | Node::IsNull { .. } => Ok(bool_value(self.truth(cx)?)),
            Node::Arith(op, args) => self.arith(*op, args, cx),
            Node::Neg(e) => match e.eval(cx)? {
                Value::Null => Ok(Value::Null),
                v => match cx.arith_num(&v, e)? {
                    Num::Int(i) => i.checked_neg().map(Value::Int).ok_or_else(|| {
                        cx.error(e, &v, format!("Overflow in negation of BIGINT ({i})"))
                    }),
                    Num::Float(f) => Ok(Value::Float(-f)),
                },
            },
            Node::Concat(args) => {
                let [a, b] = &**args;
                let va = a.eval(cx)?;
                if va.is_null() {
                    return Ok(Value::Null);
                }
                let vb = b.eval(cx)?;
                if vb.is_null() {
                    return Ok(Value::Null);
                }
                let (ta, tb) = (va.into_text(), vb.into_text());
                cx.bound(ta.len() as u128 + tb.len() as u128)?;
                if tb.is_empty() {
                    return Ok(Value::Str(ta));
                }
                if ta.is_empty() {
                    return Ok(Value::Str(tb));
                }
                let mut s = ta.into_owned();
                s.push_str(&tb);
                Ok(Value::Str(Cow::Owned(s)))
            }
            Node::Distinct { args, negated } => {
                let [a, b] = &**args;
                let (va, vb) = (a.eval(cx)?, b.eval(cx)?);
                let distinct = match (va.is_null(), vb.is_null()) {
                    (true, true) => false,
                    (true, false) | (false, true) => true,
                    _ => cx.compare(&va, &vb, a, b)? != Some(Ordering::Equal),
                };
                Ok(Value::Bool(distinct != *negated))
            }
            Node::Case(case) => {
                match &case.operand {
                    None => {
                        for (cond, result) in &case.whens {
                            if cond.truth(cx)? == Some(true) {
                                return result.eval(cx);
                            }
                        }
                    }
                    Some(operand) => {
                        let v = operand.eval(cx)?;
                        if !v.is_null() {
                            for (when, result) in &case.whens {
                                let w = when.eval(cx)?;
                                if cx.compare(&v, &w, operand, when)? == Some(Ordering::Equal) {
                                    return result.eval(cx);
                                }
                            }
                        }
                    }
                }
                match &case.otherwise {
                    Some(e) => e.eval(cx),
                    None => Ok(Value::Null),
                }
            }
            Node::Cast { expr, to, lenient } => self.cast(expr, *to, *lenient, cx),
            Node::Coerce { expr, to } => {
                let v = expr.eval(cx)?;
                cx.coerce(v, *to, expr)
            }
            Node::Call(call) => {
                let v = call.eval(cx)?;
                // Functions whose result length is known in advance check it before building
                // (repeat, lpad, replace); this catches the rest as soon as built.
                if let Value::Str(s) = &v {
                    cx.bound(s.len() as u128)?;
                }
                Ok(v)
            }
        }
    }

    /// Evaluates the node as a condition.
    pub(crate) fn truth<'r>(
        &'r self,
        cx: &EvalContext<'r>,
    ) -> Result<Option<bool>, BoxedEvalError> {
        match self {
            Node::And(items) => three_valued(items, false, cx),
            Node::Or(items) => three_valued(items, true, cx),
            Node::Not(e) => Ok(e.truth(cx)?.map(|b| !b)),
            Node::Cmp(op, args) => {
                let [a, b] = &**args;
                Ok(compare_nodes(a, b, cx)?.map(|o| op.test(o)))
            }
            Node::In {
                probe,
                list,
                negated,
            } => {
                let v = probe.eval(cx)?;
                if v.is_null() {
                    return Ok(None);
                }
                let mut saw_null = false;
                for item in list {
                    let w = item.eval(cx)?;
                    match cx.compare(&v, &w, probe, item)? {
                        Some(Ordering::Equal) => return Ok(Some(!negated)),
                        None => saw_null = true,
                        _ => {}
                    }
                }
                Ok(if saw_null { None } else { Some(*negated) })
            }
            Node::InStrings(node) => node.truth(cx),
            Node::Between { args, negated } => {
                let [e, lo, hi] = &**args;
                let v = e.eval(cx)?;
                if v.is_null() {
                    return Ok(None);
                }
                let (l, h) = (lo.eval(cx)?, hi.eval(cx)?);
                let ge = cx.compare(&v, &l, e, lo)?.map(|o| o != Ordering::Less);
                let le = cx.compare(&v, &h, e, hi)?.map(|o| o != Ordering::Greater);
                let r = three_valued_and(ge, le);
                Ok(if *negated { r.map(|b| !b) } else { r })
            }
            Node::Like(like) => like.truth(cx),
            Node::IsNull { expr, negated } => {
                // A column is NULL without reading its text.
                if let Node::Col(i) = **expr {
                    if let Some(null) = cx.column_is_null(i) {
                        return Ok(Some(null != *negated));
                    }
                }
                Ok(Some(expr.eval(cx)?.is_null() != *negated))
            }
            Node::IsBool {
                expr,
                want,
                negated,
            } => Ok(Some((expr.truth(cx)? == Some(*want)) != *negated)),
            _ => {
                let v = self.eval(cx)?;
                cx.truthy(&v, self)
            }
        }
    }

    fn cast<'r>(
        &'r self,
        expr: &'r Node,
        to: CastTarget,
        lenient: bool,
        cx: &EvalContext<'r>,
    ) -> EvalResult<'r> {
        // A column's text converts to a number or a date without UTF-8 validation first.
        if let Node::Col(i) = expr {
            if let Some(bytes) = cx.column_text(*i) {
                let fast = match to {
                    CastTarget::Int(w) => Some(
                        convert::parse_int(bytes)
                            .and_then(|v| w.check(v))
                            .map(Value::Int),
                    ),
                    CastTarget::Float => Some(convert::parse_f64(bytes).map(Value::Float)),
                    CastTarget::Date => Some(convert::parse_date(bytes).map(Value::Date)),
                    CastTarget::Timestamp => {
                        Some(convert::parse_timestamp(bytes).map(Value::Timestamp))
                    }
                    _ => None,
                };
                match fast {
                    Some(Some(v)) => return Ok(v),
                    Some(None) if lenient => return Ok(Value::Null),
                    Some(None) => {
                        return Err(cx.convert_error(
                            expr,
                            &String::from_utf8_lossy(bytes),
                            &to.name(),
                        ))
                    }
                    None => {}
                }
            }
        }
        let v = expr.eval(cx)?;
        match cx.cast(v, to) {
            Ok(v) => Ok(v),
            Err(_) if lenient => Ok(Value::Null),
            Err(v) => Err(cx.convert_error(expr, &v.to_text(), &to.name())),
        }
    }

    fn arith<'r>(
        &'r self,
        op: ArithOp,
        args: &'r [Node; 2],
        cx: &EvalContext<'r>,
    ) -> EvalResult<'r> {
        let [a, b] = args;
        // A column's text and a number literal: no UTF-8 validation, no intermediate values.
        // NULLs and text that is not a number take the general path below (for the error).
        if let (Some(x), Some(y)) = (cx.quick_num(a), cx.quick_num(b)) {
            if let (Num::Float(_), _) | (_, Num::Float(_)) = (x, y) {
                let (x, y) = (x.as_f64(), y.as_f64());
                match op {
                    ArithOp::Add => return Ok(Value::Float(x + y)),
                    ArithOp::Sub => return Ok(Value::Float(x - y)),
                    ArithOp::Mul => return Ok(Value::Float(x * y)),
                    ArithOp::Div => return Ok(Value::Float(x / y)),
                    _ => {}
                }
            }
        }
        let va = a.eval(cx)?;
        if va.is_null() {
            return Ok(Value::Null);
        }
        let vb = b.eval(cx)?;
        if vb.is_null() {
            return Ok(Value::Null);
        }
        if let Some(result) = self.date_arith(op, &va, &vb, cx) {
            return result;
        }
        let na = cx.arith_num(&va, a)?;
        let nb = cx.arith_num(&vb, b)?;
        match (na, nb) {
            (Num::Int(x), Num::Int(y)) => self.int_arith(op, x, y, &va, cx),
            (x, y) => {
                let (x, y) = (x.as_f64(), y.as_f64());
                Ok(Value::Float(match op {
                    ArithOp::Add => x + y,
                    ArithOp::Sub => x - y,
                    ArithOp::Mul => x * y,
                    ArithOp::Div => x / y,
                    // DuckDB's `//` on doubles is a plain division that rejects zero.
                    ArithOp::IntDiv if y == 0.0 => {
                        return Err(cx.error(self, &va, format!("division by zero in {x} // {y}")))
                    }
                    ArithOp::IntDiv => x / y,
                    ArithOp::Mod => x % y,
                }))
            }
        }
    }

    /// Date arithmetic (DATE ± days, DATE - DATE), and the refusal of any other arithmetic on
    /// dates and times; `None` when neither value is a date or time.
    #[inline]
    fn date_arith(
        &self,
        op: ArithOp,
        va: &Value<'_>,
        vb: &Value<'_>,
        cx: &EvalContext<'_>,
    ) -> Option<Result<Value<'static>, BoxedEvalError>> {
        match (va, vb, op) {
            (Value::Date(d), Value::Int(n), ArithOp::Add | ArithOp::Sub)
            | (Value::Int(n), Value::Date(d), ArithOp::Add) => {
                let n = if op == ArithOp::Sub {
                    n.checked_neg()
                } else {
                    Some(*n)
                };
                let days = n.and_then(|n| convert::date_days(*d).checked_add(n));
                Some(
                    days.and_then(convert::date_from_days)
                        .map(Value::Date)
                        .ok_or_else(|| cx.error(self, va, "date out of range".into())),
                )
            }
            (Value::Date(x), Value::Date(y), ArithOp::Sub) => Some(Ok(Value::Int(
                convert::date_days(*x) - convert::date_days(*y),
            ))),
            (Value::Date(_) | Value::Timestamp(_) | Value::Time(_), _, _)
            | (_, Value::Date(_) | Value::Timestamp(_) | Value::Time(_), _) => Some(Err(cx.error(
                self,
                va,
                format!(
                    "cannot compute {} {} {}",
                    va.type_name(),
                    op.symbol(),
                    vb.type_name()
                ),
            ))),
            _ => None,
        }
    }

    /// BIGINT arithmetic: overflow and division by zero are errors, `/` is a DOUBLE division.
    fn int_arith(
        &self,
        op: ArithOp,
        x: i64,
        y: i64,
        va: &Value<'_>,
        cx: &EvalContext<'_>,
    ) -> EvalResult<'static> {
        let r = match op {
            ArithOp::Add => x.checked_add(y),
            ArithOp::Sub => x.checked_sub(y),
            ArithOp::Mul => x.checked_mul(y),
            ArithOp::Div => return Ok(Value::Float(x as f64 / y as f64)),
            ArithOp::IntDiv | ArithOp::Mod if y == 0 => {
                return Err(cx.error(
                    self,
                    va,
                    format!("division by zero in {x} {} {y}", op.symbol()),
                ))
            }
            ArithOp::IntDiv => x.checked_div(y),
            ArithOp::Mod => Some(x.wrapping_rem(y)),
        };
        r.map(Value::Int).ok_or_else(|| {
            cx.error(
                self,
                va,
                format!(
                    "Overflow in {} of BIGINT ({x} {} {y})",
                    op.verb(),
                    op.symbol()
                ),
            )
        })
    }
}

/// SQL's three-valued AND (`decisive` false) and OR (`decisive` true): the first item equal to
/// `decisive` decides; otherwise any NULL makes the result NULL.
fn three_valued<'r>(
    items: &'r [Node],
    decisive: bool,
    cx: &EvalContext<'r>,
) -> Result<Option<bool>, BoxedEvalError> {
    let mut unknown = false;
    for item in items {
        match item.truth(cx)? {
            Some(b) if b == decisive => return Ok(Some(decisive)),
            None => unknown = true,
            Some(_) => {}
        }
    }
    Ok(if unknown { None } else { Some(!decisive) })
}

/// Function calls. The forms that choose which arguments to evaluate, or skip NULLs, are
/// evaluated here (as xan's special functions are by its interpreter); every other function is
/// strict: its arguments are evaluated here, then [`func::call`] computes it on the values.
impl Call {
    fn arg(&self, i: usize) -> &Node {
        &self.args[i]
    }

    /// Evaluates the call for the record in `cx`.
    pub(crate) fn eval<'r>(&'r self, cx: &EvalContext<'r>) -> EvalResult<'r> {
        match self.func {
            Func::Coalesce => {
                for node in &self.args {
                    let v = node.eval(cx)?;
                    if !v.is_null() {
                        return Ok(v);
                    }
                }
                Ok(Value::Null)
            }
            Func::If => {
                if self.arg(0).truth(cx)? == Some(true) {
                    self.arg(1).eval(cx)
                } else {
                    self.arg(2).eval(cx)
                }
            }
            Func::NullIf => {
                let v = self.arg(0).eval(cx)?;
                if v.is_null() {
                    return Ok(v);
                }
                let w = self.arg(1).eval(cx)?;
                if cx.compare(&v, &w, self.arg(0), self.arg(1))? == Some(Ordering::Equal) {
                    return Ok(Value::Null);
                }
                Ok(v)
            }
            Func::Greatest | Func::Least => self.extreme(cx),
            Func::Concat => self.concat(cx),
            Func::ConcatWs => self.concat_ws(cx),
            _ => self.strict(cx),
        }
    }

    /// `greatest`/`least`: the largest or smallest value that is not NULL.
    fn extreme<'r>(&'r self, cx: &EvalContext<'r>) -> EvalResult<'r> {
        let want = if self.func == Func::Greatest {
            Ordering::Greater
        } else {
            Ordering::Less
        };
        let mut best: Option<(Value<'r>, &Node)> = None;
        for node in &self.args {
            let v = node.eval(cx)?;
            if v.is_null() {
                continue;
            }
            let better = match &best {
                None => true,
                Some((b, bn)) => cx.compare(&v, b, node, bn)? == Some(want),
            };
            if better {
                best = Some((v, node));
            }
        }
        Ok(best.map_or(Value::Null, |(v, _)| v))
    }

    /// `concat`: the arguments' text, NULLs skipped; one argument's text stays borrowed.
    fn concat<'r>(&'r self, cx: &EvalContext<'r>) -> EvalResult<'r> {
        let mut first: Option<Cow<'r, str>> = None;
        let mut out: Option<String> = None;
        for node in &self.args {
            let v = node.eval(cx)?;
            if v.is_null() {
                continue;
            }
            let t = v.into_text();
            if let Some(o) = &mut out {
                o.push_str(&t);
            } else if let Some(f) = first.take() {
                let mut o = f.into_owned();
                o.push_str(&t);
                out = Some(o);
            } else {
                first = Some(t);
            }
        }
        Ok(Value::Str(match (out, first) {
            (Some(o), _) => Cow::Owned(o),
            (None, Some(f)) => f,
            (None, None) => Cow::Borrowed(""),
        }))
    }

    /// `concat_ws(separator, ...)`: the arguments' text between separators, NULLs skipped.
    fn concat_ws<'r>(&'r self, cx: &EvalContext<'r>) -> EvalResult<'r> {
        let sep = self.arg(0).eval(cx)?;
        if sep.is_null() {
            return Ok(Value::Null);
        }
        let sep = sep.into_text();
        let mut out = String::new();
        let mut any = false;
        for node in &self.args[1..] {
            let v = node.eval(cx)?;
            if v.is_null() {
                continue;
            }
            if any {
                out.push_str(&sep);
            }
            out.push_str(&v.to_text());
            any = true;
        }
        Ok(Value::Str(Cow::Owned(out)))
    }

    /// A strict function: NULL when any argument is NULL, else computed on the values.
    fn strict<'r>(&'r self, cx: &EvalContext<'r>) -> EvalResult<'r> {
        let mut args: [Value<'r>; MAX_STRICT_ARGS] =
            [Value::Null, Value::Null, Value::Null, Value::Null];
        for (i, node) in self.args.iter().enumerate() {
            let v = node.eval(cx)?;
            if v.is_null() {
                return Ok(Value::Null);
            }
            args[i] = v;
        }
        func::call(self.func, args, self.args.len(), &self.prepared, cx.limit)
            .map_err(|e| self.refused(cx, *e))
    }

    /// A function's refusal as an evaluation error, naming the column its argument reads.
    #[cold]
    fn refused(&self, cx: &EvalContext<'_>, e: FuncError) -> BoxedEvalError {
        match e {
            FuncError::Convert { arg, value, to } => cx.convert_error(&self.args[arg], &value, &to),
            FuncError::Invalid {
                arg,
                value,
                message,
            } => cx.error_with_text(&self.args[arg], value, message),
            FuncError::TooLarge(len) => cx.too_large(len),
        }
    }
}
