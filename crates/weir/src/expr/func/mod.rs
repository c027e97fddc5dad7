//! Scalar functions: the table the compiler resolves names against (in [`docs`], each entry
//! with the function's documentation), and the strict functions, in families: [`text`],
//! [`regex`], [`math`] and [`dates`].
//!
//! A strict function is NULL when any argument is NULL. It takes its arguments evaluated, as
//! [`Value`]s, with what the compiler [`Prepared`] from literal arguments, and never sees the
//! tree or the evaluator: a failure says which argument it is about ([`FuncError`]), and the
//! evaluator names that argument's column in the message. The forms that choose which
//! arguments to evaluate or skip NULLs (`coalesce`, `if`, `nullif`, `greatest`, `least`,
//! `concat`, `concat_ws`) belong to the evaluator (`eval.rs`), as xan's special functions do.
//!
//! Text functions return a slice of their input where they can (`trim`, `substr`, `left`,
//! `split_part`, `regexp_extract`, `replace` without a match, `upper` of upper-case text), so
//! they allocate only when they build new text. Regexes and formats given as literals are
//! compiled once, by the compiler, into [`Prepared`]; others are compiled per call through a
//! small per-thread cache.

mod dates;
pub(crate) mod docs;
mod math;
pub(crate) mod regex;
pub(crate) mod text;

use std::borrow::Cow;

use super::convert::{self, Num};
use super::datetime::{Format, Part, Temporal};
use super::value::SqlType;
use super::Value;

pub(crate) use self::regex::{build_regex, translate_replacement, RegexOptions};
pub(crate) use self::text::lower;

/// A function the compiler knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Upper,
    Lower,
    Trim,
    LTrim,
    RTrim,
    Length,
    StrLen,
    Substr,
    Replace,
    Concat,
    ConcatWs,
    SplitPart,
    Lpad,
    Rpad,
    StartsWith,
    EndsWith,
    Contains,
    Strpos,
    Left,
    Right,
    Reverse,
    Repeat,
    RegexpMatches,
    RegexpFullMatch,
    RegexpReplace,
    RegexpExtract,
    Abs,
    Round,
    Floor,
    Ceil,
    Trunc,
    Sign,
    Sqrt,
    Power,
    Ln,
    Log10,
    Log,
    Exp,
    Coalesce,
    NullIf,
    If,
    Greatest,
    Least,
    Strptime,
    TryStrptime,
    Strftime,
    DatePart,
    /// `year(x)`, `month(x)`, ...: `date_part` with the part fixed by the name.
    PartOf,
    DateDiff,
    DateTrunc,
    MakeDate,
}

/// A function as it is called: the name used (its own or an alias, lower case), what it
/// resolves to, and how many arguments it takes.
#[derive(Clone, Copy)]
pub(crate) struct FuncDef {
    pub(crate) name: &'static str,
    pub(crate) func: Func,
    pub(crate) min: usize,
    pub(crate) max: usize,
}

/// Every name a function has (lower case), in the order of the table
/// ([`docs::FUNCTIONS`]), each with its function.
pub(crate) fn names() -> impl Iterator<Item = FuncDef> {
    docs::FUNCTIONS.iter().flat_map(|d| {
        std::iter::once(d.name)
            .chain(d.aliases.iter().copied())
            .map(|name| FuncDef {
                name,
                func: d.func,
                min: d.min,
                max: d.max,
            })
    })
}

/// The function with this name (lower case), if there is one.
pub(crate) fn lookup(name: &str) -> Option<FuncDef> {
    names().find(|d| d.name == name)
}

/// The static result type of a function, given its arguments' types (for `coalesce`,
/// `greatest`, `least`, `if` and `nullif` the compiler unifies the types itself).
pub(crate) fn result_type(func: Func, args: &[SqlType], part: Option<Part>) -> SqlType {
    let first = args.first().copied().unwrap_or(SqlType::Null);
    match func {
        Func::Upper
        | Func::Lower
        | Func::Trim
        | Func::LTrim
        | Func::RTrim
        | Func::Substr
        | Func::Replace
        | Func::Concat
        | Func::ConcatWs
        | Func::SplitPart
        | Func::Lpad
        | Func::Rpad
        | Func::Left
        | Func::Right
        | Func::Reverse
        | Func::Repeat
        | Func::RegexpReplace
        | Func::RegexpExtract
        | Func::Strftime => SqlType::Text,
        Func::Length | Func::StrLen | Func::Strpos | Func::DateDiff | Func::Sign => SqlType::Int,
        Func::StartsWith
        | Func::EndsWith
        | Func::Contains
        | Func::RegexpMatches
        | Func::RegexpFullMatch => SqlType::Bool,
        Func::Abs | Func::Round | Func::Trunc if first == SqlType::Int => SqlType::Int,
        Func::Abs
        | Func::Round
        | Func::Trunc
        | Func::Floor
        | Func::Ceil
        | Func::Sqrt
        | Func::Power
        | Func::Ln
        | Func::Log10
        | Func::Log
        | Func::Exp => SqlType::Float,
        Func::Coalesce | Func::Greatest | Func::Least | Func::NullIf => first,
        Func::If => args.get(1).copied().unwrap_or(SqlType::Null),
        Func::Strptime | Func::TryStrptime | Func::DateTrunc => SqlType::Timestamp,
        Func::DatePart | Func::PartOf if part == Some(Part::Epoch) => SqlType::Float,
        Func::DatePart | Func::PartOf => SqlType::Int,
        Func::MakeDate => SqlType::Date,
    }
}

/// What the compiler prepared for a call: regexes and formats from literal arguments, a date
/// part from a literal or the function's name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Prepared {
    pub(crate) regex: Option<::regex::Regex>,
    /// A literal `regexp_replace` replacement, in the regex crate's syntax.
    pub(crate) replacement: Option<String>,
    /// `regexp_replace` with the `g` option.
    pub(crate) global: bool,
    pub(crate) formats: Vec<Format>,
    pub(crate) part: Option<Part>,
}

/// Why a strict function refused its arguments. `arg` is the position of the argument the
/// failure is about: the evaluator names the column that argument reads.
#[derive(Debug)]
pub(crate) enum FuncError {
    /// `cannot convert 'abc' (column age) to BIGINT`: the argument's value as text, and the
    /// type it does not convert to.
    Convert {
        arg: usize,
        value: String,
        to: String,
    },
    /// Another problem with the argument's value (given as text), e.g. `Overflow on abs(...)`.
    Invalid {
        arg: usize,
        value: String,
        message: String,
    },
    /// The function would build a text value of this many bytes, more than the expression's
    /// limit.
    TooLarge(u128),
}

/// A strict function's result; the error is boxed to keep the success path small.
pub(crate) type FuncResult<T> = Result<T, Box<FuncError>>;

impl FuncError {
    #[cold]
    fn convert(arg: usize, value: &str, to: &str) -> Box<FuncError> {
        Box::new(FuncError::Convert {
            arg,
            value: value.to_string(),
            to: to.to_string(),
        })
    }

    #[cold]
    fn invalid(arg: usize, value: &str, message: String) -> Box<FuncError> {
        Box::new(FuncError::Invalid {
            arg,
            value: value.to_string(),
            message,
        })
    }
}

/// Fails when a text value of `len` bytes (built or about to be) is longer than `limit`.
#[inline]
fn bound(len: u128, limit: usize) -> FuncResult<()> {
    if len > limit as u128 {
        return Err(Box::new(FuncError::TooLarge(len)));
    }
    Ok(())
}

/// A number argument of a numeric function: text is read as DOUBLE.
#[inline]
fn number(v: &Value<'_>, arg: usize) -> FuncResult<Num> {
    v.to_number()
        .ok_or_else(|| FuncError::convert(arg, &v.to_text(), "DOUBLE"))
}

/// An integer argument (a position, a count, a number of digits).
#[inline]
fn integer(v: &Value<'_>, arg: usize) -> FuncResult<i64> {
    v.to_integer()
        .ok_or_else(|| FuncError::convert(arg, &v.to_text(), "BIGINT"))
}

/// A date, timestamp or time argument; text is read as a TIMESTAMP (or a TIME when it is
/// one), a DATE stays a DATE.
fn temporal(v: &Value<'_>, arg: usize) -> FuncResult<Temporal> {
    Temporal::from_value(v).ok_or_else(|| FuncError::convert(arg, &v.to_text(), "TIMESTAMP"))
}

/// The most arguments a strict function takes.
pub(crate) const MAX_STRICT_ARGS: usize = 4;

/// An optional argument: the one at 1-based `position`, when the call gave that many.
fn optional(v: Value<'_>, count: usize, position: usize) -> Option<Value<'_>> {
    (count >= position).then_some(v)
}

/// Evaluates strict function `func` on `args`: the first `count` evaluated and not NULL, the
/// rest NULL. One match on the function, each arm a call into its family; inlined into the
/// evaluator's one caller, so a call costs what it did when the functions lived there.
#[inline]
pub(crate) fn call<'r>(
    func: Func,
    args: [Value<'r>; MAX_STRICT_ARGS],
    count: usize,
    prepared: &Prepared,
    limit: usize,
) -> FuncResult<Value<'r>> {
    let [a, b, c, d] = args;
    match func {
        Func::Upper => Ok(Value::Str(text::upper(a.into_text()))),
        Func::Lower => Ok(Value::Str(text::lower(a.into_text()))),
        Func::Trim | Func::LTrim | Func::RTrim => Ok(text::trim(func, a, optional(b, count, 2))),
        Func::Length => Ok(text::length(&a)),
        Func::StrLen => Ok(Value::Int(a.to_text().len() as i64)),
        Func::Substr => text::substr(a, &b, optional(c, count, 3).as_ref()),
        Func::Replace => text::replace(a, &b, &c, limit),
        Func::SplitPart => text::split_part(a, &b, &c),
        Func::Lpad | Func::Rpad => text::pad(func, a, &b, &c, limit),
        Func::StartsWith => Ok(Value::Bool(a.to_text().starts_with(&*b.to_text()))),
        Func::EndsWith => Ok(Value::Bool(a.to_text().ends_with(&*b.to_text()))),
        Func::Contains => Ok(Value::Bool(a.to_text().contains(&*b.to_text()))),
        Func::Strpos => Ok(text::strpos(&a, &b)),
        Func::Left | Func::Right => text::left_right(func, a, &b),
        Func::Reverse => Ok(Value::Str(Cow::Owned(text::reverse(&a.to_text())))),
        Func::Repeat => text::repeat(&a, &b, limit),
        Func::RegexpMatches | Func::RegexpFullMatch => {
            regex::matches(func, &a, &b, optional(c, count, 3).as_ref(), prepared)
        }
        Func::RegexpReplace => regex::replace(a, &b, &c, optional(d, count, 4).as_ref(), prepared),
        Func::RegexpExtract => {
            let group = optional(c, count, 3);
            let options = optional(d, count, 4);
            regex::extract(a, &b, group.as_ref(), options.as_ref(), prepared)
        }
        Func::Abs => math::abs(&a),
        Func::Round => math::round(&a, optional(b, count, 2).as_ref()),
        Func::Floor => Ok(Value::Float(number(&a, 0)?.as_f64().floor())),
        Func::Ceil => Ok(Value::Float(number(&a, 0)?.as_f64().ceil())),
        Func::Trunc => math::trunc(&a),
        Func::Sign => math::sign(&a),
        Func::Sqrt | Func::Ln | Func::Log10 | Func::Exp => math::unary(func, &a),
        Func::Log => math::log(&a, optional(b, count, 2).as_ref()),
        Func::Power => math::power(&a, &b),
        Func::Strptime | Func::TryStrptime => dates::strptime(func, &a, &b, prepared),
        Func::Strftime => dates::strftime(&a, &b, prepared),
        Func::DatePart => dates::date_part(&a, &b, prepared),
        Func::PartOf => dates::part_of(&a, prepared),
        Func::DateDiff => dates::date_diff(&a, &b, &c, prepared),
        Func::DateTrunc => dates::date_trunc(&a, &b, prepared),
        Func::MakeDate => dates::make_date(&a, &b, &c),
        Func::Coalesce
        | Func::If
        | Func::NullIf
        | Func::Greatest
        | Func::Least
        | Func::Concat
        | Func::ConcatWs => unreachable!("evaluated lazily by the evaluator"),
    }
}

/// The date part a literal names, for the compiler.
pub(crate) fn parse_part(name: &str) -> Result<Part, String> {
    Part::parse(name).ok_or_else(|| format!("unknown date part '{name}'"))
}

/// Whether a literal's text is an integer (for the compiler).
pub(crate) fn is_integer_text(s: &str) -> bool {
    matches!(convert::parse_number(s.as_bytes()), Some(Num::Int(_)))
}
