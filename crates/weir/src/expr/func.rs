//! Scalar functions: the table the compiler resolves names against, and their evaluation.
//!
//! Text functions return a slice of their input where they can (`trim`, `substr`, `left`,
//! `split_part`, `regexp_extract`, `replace` without a match, `upper` of upper-case text), so
//! they allocate only when they build new text. Regexes and formats given as literals are
//! compiled once, by the compiler, into [`Prepared`]; others are compiled per call through a small
//! per-thread cache.

use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::ops::Range;

use regex::{Regex, RegexBuilder};

use super::convert::{self, Num};
use super::datetime::{self, Format, Part};
use super::eval::{BoxedEvalError, EvalContext, EvalResult};
use super::node::{Call, Node};
use super::value::SqlType;
use super::Value;

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

/// A function name, what it resolves to, and how many arguments it takes.
pub(crate) struct FuncDef {
    pub(crate) name: &'static str,
    pub(crate) func: Func,
    pub(crate) min: usize,
    pub(crate) max: usize,
}

const MANY: usize = usize::MAX;

const fn def(name: &'static str, func: Func, min: usize, max: usize) -> FuncDef {
    FuncDef {
        name,
        func,
        min,
        max,
    }
}

/// Every function, by every name it has (lower case).
pub(crate) const FUNCS: &[FuncDef] = &[
    def("upper", Func::Upper, 1, 1),
    def("ucase", Func::Upper, 1, 1),
    def("lower", Func::Lower, 1, 1),
    def("lcase", Func::Lower, 1, 1),
    def("trim", Func::Trim, 1, 2),
    def("ltrim", Func::LTrim, 1, 2),
    def("rtrim", Func::RTrim, 1, 2),
    def("length", Func::Length, 1, 1),
    def("len", Func::Length, 1, 1),
    def("char_length", Func::Length, 1, 1),
    def("character_length", Func::Length, 1, 1),
    def("strlen", Func::StrLen, 1, 1),
    def("octet_length", Func::StrLen, 1, 1),
    def("substr", Func::Substr, 2, 3),
    def("substring", Func::Substr, 2, 3),
    def("replace", Func::Replace, 3, 3),
    def("concat", Func::Concat, 1, MANY),
    def("concat_ws", Func::ConcatWs, 2, MANY),
    def("split_part", Func::SplitPart, 3, 3),
    def("lpad", Func::Lpad, 3, 3),
    def("rpad", Func::Rpad, 3, 3),
    def("starts_with", Func::StartsWith, 2, 2),
    def("prefix", Func::StartsWith, 2, 2),
    def("ends_with", Func::EndsWith, 2, 2),
    def("suffix", Func::EndsWith, 2, 2),
    def("contains", Func::Contains, 2, 2),
    def("strpos", Func::Strpos, 2, 2),
    def("instr", Func::Strpos, 2, 2),
    def("position", Func::Strpos, 2, 2),
    def("left", Func::Left, 2, 2),
    def("right", Func::Right, 2, 2),
    def("reverse", Func::Reverse, 1, 1),
    def("repeat", Func::Repeat, 2, 2),
    def("regexp_matches", Func::RegexpMatches, 2, 3),
    def("regexp_full_match", Func::RegexpFullMatch, 2, 3),
    def("regexp_replace", Func::RegexpReplace, 3, 4),
    def("regexp_extract", Func::RegexpExtract, 2, 4),
    def("abs", Func::Abs, 1, 1),
    def("round", Func::Round, 1, 2),
    def("floor", Func::Floor, 1, 1),
    def("ceil", Func::Ceil, 1, 1),
    def("ceiling", Func::Ceil, 1, 1),
    def("trunc", Func::Trunc, 1, 1),
    def("sign", Func::Sign, 1, 1),
    def("sqrt", Func::Sqrt, 1, 1),
    def("power", Func::Power, 2, 2),
    def("pow", Func::Power, 2, 2),
    def("ln", Func::Ln, 1, 1),
    def("log10", Func::Log10, 1, 1),
    def("log", Func::Log, 1, 2),
    def("exp", Func::Exp, 1, 1),
    def("coalesce", Func::Coalesce, 1, MANY),
    def("ifnull", Func::Coalesce, 2, 2),
    def("nullif", Func::NullIf, 2, 2),
    def("if", Func::If, 3, 3),
    def("greatest", Func::Greatest, 1, MANY),
    def("least", Func::Least, 1, MANY),
    def("strptime", Func::Strptime, 2, 2),
    def("try_strptime", Func::TryStrptime, 2, 2),
    def("strftime", Func::Strftime, 2, 2),
    def("date_part", Func::DatePart, 2, 2),
    def("datepart", Func::DatePart, 2, 2),
    def("date_diff", Func::DateDiff, 3, 3),
    def("datediff", Func::DateDiff, 3, 3),
    def("date_trunc", Func::DateTrunc, 2, 2),
    def("datetrunc", Func::DateTrunc, 2, 2),
    def("make_date", Func::MakeDate, 3, 3),
    def("year", Func::PartOf, 1, 1),
    def("month", Func::PartOf, 1, 1),
    def("day", Func::PartOf, 1, 1),
    def("dayofmonth", Func::PartOf, 1, 1),
    def("hour", Func::PartOf, 1, 1),
    def("minute", Func::PartOf, 1, 1),
    def("second", Func::PartOf, 1, 1),
    def("millisecond", Func::PartOf, 1, 1),
    def("microsecond", Func::PartOf, 1, 1),
    def("dayofweek", Func::PartOf, 1, 1),
    def("weekday", Func::PartOf, 1, 1),
    def("isodow", Func::PartOf, 1, 1),
    def("dayofyear", Func::PartOf, 1, 1),
    def("week", Func::PartOf, 1, 1),
    def("weekofyear", Func::PartOf, 1, 1),
    def("quarter", Func::PartOf, 1, 1),
    def("epoch", Func::PartOf, 1, 1),
    def("isoyear", Func::PartOf, 1, 1),
    def("yearweek", Func::PartOf, 1, 1),
    def("decade", Func::PartOf, 1, 1),
    def("century", Func::PartOf, 1, 1),
    def("millennium", Func::PartOf, 1, 1),
];

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
    pub(crate) regex: Option<Regex>,
    /// A literal `regexp_replace` replacement, in the regex crate's syntax.
    pub(crate) replacement: Option<String>,
    /// `regexp_replace` with the `g` option.
    pub(crate) global: bool,
    pub(crate) formats: Vec<Format>,
    pub(crate) part: Option<Part>,
}

/// Regex options, as DuckDB's option string gives them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RegexOptions {
    pub(crate) case_insensitive: bool,
    pub(crate) dot_matches_newline: bool,
    pub(crate) literal: bool,
    pub(crate) global: bool,
}

impl RegexOptions {
    /// Parses DuckDB's options: `c` case-sensitive, `i` case-insensitive, `s` dot matches
    /// newline, `l` literal, `m`/`n`/`p` newline-sensitive (the default), `g` global replace.
    pub(crate) fn parse(opts: &str) -> Result<RegexOptions, String> {
        let mut o = RegexOptions::default();
        for c in opts.chars() {
            match c {
                'c' => o.case_insensitive = false,
                'i' => o.case_insensitive = true,
                's' => o.dot_matches_newline = true,
                'l' => o.literal = true,
                'm' | 'n' | 'p' => o.dot_matches_newline = false,
                'g' => o.global = true,
                _ => return Err(format!("unrecognized regex option '{c}'")),
            }
        }
        Ok(o)
    }

    fn key(self, full: bool) -> u8 {
        u8::from(self.case_insensitive)
            | u8::from(self.dot_matches_newline) << 1
            | u8::from(self.literal) << 2
            | u8::from(full) << 3
    }
}

/// Compiles a regex; `full` anchors it at both ends (`regexp_full_match`).
pub(crate) fn build_regex(pattern: &str, opts: RegexOptions, full: bool) -> Result<Regex, String> {
    let escaped;
    let mut p = pattern;
    if opts.literal {
        escaped = regex::escape(pattern);
        p = &escaped;
    }
    let anchored;
    if full {
        anchored = format!(r"\A(?:{p})\z");
        p = &anchored;
    }
    RegexBuilder::new(p)
        .case_insensitive(opts.case_insensitive)
        .dot_matches_new_line(opts.dot_matches_newline)
        .build()
        .map_err(|e| format!("invalid regular expression '{pattern}': {e}"))
}

thread_local! {
    /// Regexes from non-literal patterns, per thread so no lock is taken.
    static REGEX_CACHE: RefCell<Vec<(String, u8, Regex)>> = const { RefCell::new(Vec::new()) };
}

const REGEX_CACHE_SIZE: usize = 32;

/// Runs `f` with the regex for `pattern`, compiling it at most once per thread while it stays
/// among the most recent patterns.
fn with_regex<T>(
    pattern: &str,
    opts: RegexOptions,
    full: bool,
    f: impl FnOnce(&Regex) -> T,
) -> Result<T, String> {
    let key = opts.key(full);
    REGEX_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(i) = cache.iter().position(|(p, k, _)| *k == key && p == pattern) {
            return Ok(f(&cache[i].2));
        }
        let re = build_regex(pattern, opts, full)?;
        if cache.len() >= REGEX_CACHE_SIZE {
            cache.remove(0);
        }
        cache.push((pattern.to_string(), key, re));
        Ok(f(&cache[cache.len() - 1].2))
    })
}

/// A DuckDB (RE2) replacement string in the regex crate's syntax: `\1` is a group, `\\` a
/// backslash, `$` is literal.
pub(crate) fn translate_replacement(rep: &str) -> String {
    let mut out = String::with_capacity(rep.len() + 4);
    let mut chars = rep.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek() {
                Some(d) if d.is_ascii_digit() => {
                    out.push_str("${");
                    out.push(*d);
                    out.push('}');
                    chars.next();
                }
                Some('\\') => {
                    out.push('\\');
                    chars.next();
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

/// A sub-slice of text, borrowed when the text is.
pub(crate) fn sub(s: Cow<'_, str>, r: Range<usize>) -> Cow<'_, str> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(&b[r]),
        Cow::Owned(mut o) => {
            o.truncate(r.end);
            o.drain(..r.start);
            Cow::Owned(o)
        }
    }
}

fn upper_char(c: char) -> char {
    // utf8proc's simple mapping, which DuckDB uses: one character for one.
    if c == 'ß' {
        return 'ẞ';
    }
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

fn lower_char(c: char) -> char {
    if c == 'İ' {
        return 'i';
    }
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Upper case, character by character as DuckDB maps them; unchanged text stays borrowed.
pub(crate) fn upper(s: Cow<'_, str>) -> Cow<'_, str> {
    if s.is_ascii() {
        if !s.bytes().any(|b| b.is_ascii_lowercase()) {
            return s;
        }
        return match s {
            Cow::Borrowed(b) => Cow::Owned(b.to_ascii_uppercase()),
            Cow::Owned(mut o) => {
                o.make_ascii_uppercase();
                Cow::Owned(o)
            }
        };
    }
    Cow::Owned(s.chars().map(upper_char).collect())
}

/// Lower case, character by character as DuckDB maps them; unchanged text stays borrowed.
pub(crate) fn lower(s: Cow<'_, str>) -> Cow<'_, str> {
    if s.is_ascii() {
        if !s.bytes().any(|b| b.is_ascii_uppercase()) {
            return s;
        }
        return match s {
            Cow::Borrowed(b) => Cow::Owned(b.to_ascii_lowercase()),
            Cow::Owned(mut o) => {
                o.make_ascii_lowercase();
                Cow::Owned(o)
            }
        };
    }
    Cow::Owned(s.chars().map(lower_char).collect())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Both,
    Left,
    Right,
}

fn trim_range(s: &str, side: Side, strip: impl Fn(char) -> bool) -> Range<usize> {
    let start = if side == Side::Right {
        0
    } else {
        s.char_indices()
            .find(|&(_, c)| !strip(c))
            .map_or(s.len(), |(i, _)| i)
    };
    let end = if side == Side::Left {
        s.len()
    } else {
        s[start..]
            .char_indices()
            .rev()
            .find(|&(_, c)| !strip(c))
            .map_or(start, |(i, c)| start + i + c.len_utf8())
    };
    start..end
}

/// Byte offset of character `n` (clamped to the end).
fn byte_at(s: &str, ascii: bool, n: usize) -> usize {
    if ascii {
        return n.min(s.len());
    }
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

fn char_len(s: &str, ascii: bool) -> usize {
    if ascii {
        s.len()
    } else {
        s.chars().count()
    }
}

/// DuckDB's `substring(s, start, length)` in characters: 1-based `start`, 0 is one before
/// the first character, negative counts from the end, a negative length takes the characters
/// before `start`.
fn substr_range(s: &str, start: i64, len: Option<i64>) -> Range<usize> {
    let ascii = s.is_ascii();
    let n = char_len(s, ascii) as i64;
    let st = match start.cmp(&0) {
        Ordering::Greater => start - 1,
        Ordering::Less => n.saturating_add(start),
        Ordering::Equal => -1,
    };
    let (b, e) = match len {
        None => (st, n),
        Some(l) if l >= 0 => (st, st.saturating_add(l)),
        Some(l) => (st.saturating_add(l), st),
    };
    let (b, e) = (b.clamp(0, n), e.clamp(0, n));
    if b >= e {
        return 0..0;
    }
    let bb = byte_at(s, ascii, b as usize);
    let eb = if ascii {
        e as usize
    } else {
        bb + byte_at(&s[bb..], false, (e - b) as usize)
    };
    bb..eb
}

/// A character and the marks that combine with it, kept together by `reverse`.
fn is_combining(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F
        | 0xFE00..=0xFE0F | 0x200D | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F)
}

fn reverse(s: &str) -> String {
    if s.is_ascii() {
        return s.chars().rev().collect();
    }
    // Clusters: a character followed by combining marks, or joined by a zero-width joiner.
    let mut clusters: Vec<&str> = Vec::new();
    let mut start = 0;
    let mut prev_zwj = false;
    for (i, c) in s.char_indices() {
        if i > 0 && !is_combining(c) && !prev_zwj {
            clusters.push(&s[start..i]);
            start = i;
        }
        prev_zwj = c == '\u{200D}';
    }
    clusters.push(&s[start..]);
    clusters.iter().rev().copied().collect()
}

impl Call {
    fn arg(&self, i: usize) -> &Node {
        &self.args[i]
    }

    fn fail(
        &self,
        cx: &EvalContext<'_>,
        i: usize,
        v: &Value<'_>,
        message: String,
    ) -> BoxedEvalError {
        cx.error(self.arg(i), v, message)
    }

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
            Func::Greatest | Func::Least => {
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
            Func::Concat => {
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
            Func::ConcatWs => {
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
            _ => self.strict(cx),
        }
    }

    /// Functions that are NULL when any argument is NULL.
    fn strict<'r>(&'r self, cx: &EvalContext<'r>) -> EvalResult<'r> {
        let mut vals: [Value<'r>; 4] = [Value::Null, Value::Null, Value::Null, Value::Null];
        for (i, node) in self.args.iter().enumerate() {
            let v = node.eval(cx)?;
            if v.is_null() {
                return Ok(Value::Null);
            }
            vals[i] = v;
        }
        let n = self.args.len();
        let [v0, v1, v2, v3] = vals;
        let str_ = |s: Cow<'r, str>| Ok(Value::Str(s));
        match self.func {
            Func::Upper => str_(upper(v0.into_text())),
            Func::Lower => str_(lower(v0.into_text())),
            Func::Trim | Func::LTrim | Func::RTrim => {
                let side = match self.func {
                    Func::Trim => Side::Both,
                    Func::LTrim => Side::Left,
                    _ => Side::Right,
                };
                let s = v0.into_text();
                let r = if n == 2 {
                    let set = v1.to_text();
                    trim_range(&s, side, |c| set.contains(c))
                } else {
                    trim_range(&s, side, |c| c == ' ')
                };
                str_(sub(s, r))
            }
            Func::Length => {
                let s = v0.to_text();
                Ok(Value::Int(char_len(&s, s.is_ascii()) as i64))
            }
            Func::StrLen => Ok(Value::Int(v0.to_text().len() as i64)),
            Func::Substr => {
                let start = cx.int_arg(&v1, self.arg(1))?;
                let len = if n == 3 {
                    Some(cx.int_arg(&v2, self.arg(2))?)
                } else {
                    None
                };
                let s = v0.into_text();
                let r = substr_range(&s, start, len);
                str_(sub(s, r))
            }
            Func::Replace => {
                let s = v0.into_text();
                let from = v1.to_text();
                if from.is_empty() || !s.contains(&*from) {
                    return str_(s);
                }
                let to = v2.to_text();
                if to.len() > from.len() {
                    let n = s.matches(&*from).count() as u128;
                    cx.bound(s.len() as u128 + n * (to.len() - from.len()) as u128)?;
                }
                str_(Cow::Owned(s.replace(&*from, &to)))
            }
            Func::SplitPart => {
                let idx = cx.int_arg(&v2, self.arg(2))?;
                let s = v0.into_text();
                let delim = v1.to_text();
                let r = split_part(&s, &delim, idx);
                str_(sub(s, r))
            }
            Func::Lpad | Func::Rpad => {
                let count = cx.int_arg(&v1, self.arg(1))?;
                let s = v0.into_text();
                let pad = v2.to_text();
                self.pad(cx, s, count, &pad, &v2)
            }
            Func::StartsWith => Ok(Value::Bool(v0.to_text().starts_with(&*v1.to_text()))),
            Func::EndsWith => Ok(Value::Bool(v0.to_text().ends_with(&*v1.to_text()))),
            Func::Contains => Ok(Value::Bool(v0.to_text().contains(&*v1.to_text()))),
            Func::Strpos => {
                let s = v0.to_text();
                let needle = v1.to_text();
                Ok(Value::Int(match s.find(&*needle) {
                    Some(i) => s[..i].chars().count() as i64 + 1,
                    None => 0,
                }))
            }
            Func::Left | Func::Right => {
                let count = cx.int_arg(&v1, self.arg(1))?;
                let s = v0.into_text();
                let ascii = s.is_ascii();
                let len = char_len(&s, ascii) as i64;
                let keep = if count >= 0 {
                    count.min(len)
                } else {
                    (len + count).max(0)
                };
                let r = if self.func == Func::Left {
                    0..byte_at(&s, ascii, keep as usize)
                } else {
                    byte_at(&s, ascii, (len - keep) as usize)..s.len()
                };
                str_(sub(s, r))
            }
            Func::Reverse => str_(Cow::Owned(reverse(&v0.to_text()))),
            Func::Repeat => {
                let count = cx.int_arg(&v1, self.arg(1))?;
                let s = v0.to_text();
                if count <= 0 || s.is_empty() {
                    return str_(Cow::Borrowed(""));
                }
                cx.bound((s.len() as u128) * (count as u128))?;
                str_(Cow::Owned(s.repeat(count as usize)))
            }
            Func::RegexpMatches | Func::RegexpFullMatch => {
                let s = v0.to_text();
                let full = self.func == Func::RegexpFullMatch;
                if let Some(re) = &self.prepared.regex {
                    return Ok(Value::Bool(re.is_match(&s)));
                }
                let opts = self.options(cx, n == 3, &v2, 2)?;
                let pattern = v1.to_text();
                with_regex(&pattern, opts, full, |re| re.is_match(&s))
                    .map(Value::Bool)
                    .map_err(|m| self.fail(cx, 1, &v1, m))
            }
            Func::RegexpReplace => {
                let s = v0.into_text();
                let opts = self.options(cx, n == 4, &v3, 3)?;
                let global = self.prepared.global || opts.global;
                let translated;
                let rep = match &self.prepared.replacement {
                    Some(r) => r.as_str(),
                    None => {
                        translated = translate_replacement(&v2.to_text());
                        translated.as_str()
                    }
                };
                let run = |re: &Regex| -> Option<String> {
                    let out = if global {
                        re.replace_all(&s, rep)
                    } else {
                        re.replacen(&s, 1, rep)
                    };
                    match out {
                        Cow::Borrowed(_) => None,
                        Cow::Owned(o) => Some(o),
                    }
                };
                let replaced = match &self.prepared.regex {
                    Some(re) => run(re),
                    None => with_regex(&v1.to_text(), opts, false, run)
                        .map_err(|m| self.fail(cx, 1, &v1, m))?,
                };
                str_(replaced.map_or(s, Cow::Owned))
            }
            Func::RegexpExtract => {
                let group = if n >= 3 {
                    cx.int_arg(&v2, self.arg(2))?
                } else {
                    0
                };
                let s = v0.into_text();
                let opts = self.options(cx, n == 4, &v3, 3)?;
                let find = |re: &Regex| -> Range<usize> {
                    let Ok(g) = usize::try_from(group) else {
                        return 0..0;
                    };
                    re.captures(&s)
                        .and_then(|c| c.get(g))
                        .map_or(0..0, |m| m.range())
                };
                let r = match &self.prepared.regex {
                    Some(re) => find(re),
                    None => with_regex(&v1.to_text(), opts, false, find)
                        .map_err(|m| self.fail(cx, 1, &v1, m))?,
                };
                str_(sub(s, r))
            }
            Func::Abs => match cx.arith_num(&v0, self.arg(0))? {
                Num::Int(i) => i
                    .checked_abs()
                    .map(Value::Int)
                    .ok_or_else(|| self.fail(cx, 0, &v0, format!("Overflow on abs({i})"))),
                Num::Float(f) => Ok(Value::Float(f.abs())),
            },
            Func::Round => {
                let digits = if n == 2 {
                    cx.int_arg(&v1, self.arg(1))?
                } else {
                    0
                };
                match cx.arith_num(&v0, self.arg(0))? {
                    Num::Int(i) => round_int(i, digits).map(Value::Int).ok_or_else(|| {
                        self.fail(cx, 0, &v0, "Overflow in ROUND of integer".into())
                    }),
                    Num::Float(f) => Ok(Value::Float(round_float(f, digits))),
                }
            }
            Func::Floor => Ok(Value::Float(
                cx.arith_num(&v0, self.arg(0))?.as_f64().floor(),
            )),
            Func::Ceil => Ok(Value::Float(
                cx.arith_num(&v0, self.arg(0))?.as_f64().ceil(),
            )),
            Func::Trunc => match cx.arith_num(&v0, self.arg(0))? {
                Num::Int(i) => Ok(Value::Int(i)),
                Num::Float(f) => Ok(Value::Float(f.trunc())),
            },
            Func::Sign => Ok(Value::Int(match cx.arith_num(&v0, self.arg(0))? {
                Num::Int(i) => i.signum(),
                Num::Float(f) if f > 0.0 => 1,
                Num::Float(f) if f < 0.0 => -1,
                Num::Float(_) => 0,
            })),
            Func::Sqrt | Func::Ln | Func::Log10 | Func::Exp => {
                let x = cx.arith_num(&v0, self.arg(0))?.as_f64();
                Ok(Value::Float(match self.func {
                    Func::Sqrt => x.sqrt(),
                    Func::Ln => x.ln(),
                    Func::Log10 => x.log10(),
                    _ => x.exp(),
                }))
            }
            Func::Log => {
                let x = cx.arith_num(&v0, self.arg(0))?.as_f64();
                if n == 1 {
                    return Ok(Value::Float(x.log10()));
                }
                let y = cx.arith_num(&v1, self.arg(1))?.as_f64();
                Ok(Value::Float(y.ln() / x.ln()))
            }
            Func::Power => {
                let x = cx.arith_num(&v0, self.arg(0))?.as_f64();
                let y = cx.arith_num(&v1, self.arg(1))?.as_f64();
                Ok(Value::Float(x.powf(y)))
            }
            Func::Strptime | Func::TryStrptime => {
                let s = v0.to_text();
                let lenient = self.func == Func::TryStrptime;
                let dynamic;
                let formats: &[Format] = if self.prepared.formats.is_empty() {
                    let text = v1.to_text();
                    let f = Format::new(&text)
                        .and_then(|f| f.check_parse().map(|()| f))
                        .map_err(|m| self.fail(cx, 1, &v1, m))?;
                    dynamic = [f];
                    &dynamic
                } else {
                    &self.prepared.formats
                };
                for f in formats {
                    if let Some(t) = f.parse(&s) {
                        return Ok(Value::Timestamp(t));
                    }
                }
                if lenient {
                    return Ok(Value::Null);
                }
                let shown: Vec<&str> = formats.iter().map(Format::text).collect();
                let wanted = format!("TIMESTAMP with format '{}'", shown.join("', '"));
                Err(cx.convert_error(self.arg(0), &s, &wanted))
            }
            Func::Strftime => {
                let t = cx.temporal(&v0, self.arg(0))?;
                let mut out = Vec::new();
                let result = match self.prepared.formats.first() {
                    Some(f) => f.format(t, &mut out),
                    None => Format::new(&v1.to_text())
                        .and_then(|f| f.format(t, &mut out))
                        .map_err(|m| m.to_string()),
                };
                result.map_err(|m| self.fail(cx, 1, &v1, m))?;
                // Formats write the format's own text and ASCII.
                Ok(Value::Str(Cow::Owned(
                    String::from_utf8(out).unwrap_or_default(),
                )))
            }
            Func::DatePart | Func::PartOf => {
                let (part, value, node) = if self.func == Func::PartOf {
                    (self.prepared.part, &v0, self.arg(0))
                } else {
                    (self.part(cx, &v0)?, &v1, self.arg(1))
                };
                let part = part.unwrap_or(Part::Year);
                let t = cx.temporal(value, node)?;
                datetime::extract(part, t).map_err(|m| cx.error(node, value, m))
            }
            Func::DateDiff => {
                let part = self.part(cx, &v0)?.unwrap_or(Part::Day);
                let a = cx.temporal(&v1, self.arg(1))?;
                let b = cx.temporal(&v2, self.arg(2))?;
                datetime::date_diff(part, a, b)
                    .map(Value::Int)
                    .map_err(|m| self.fail(cx, 1, &v1, m))
            }
            Func::DateTrunc => {
                let part = self.part(cx, &v0)?.unwrap_or(Part::Day);
                let t = cx.temporal(&v1, self.arg(1))?;
                datetime::date_trunc(part, t)
                    .map(Value::Timestamp)
                    .map_err(|m| self.fail(cx, 1, &v1, m))
            }
            Func::MakeDate => {
                let y = cx.int_arg(&v0, self.arg(0))?;
                let m = cx.int_arg(&v1, self.arg(1))?;
                let d = cx.int_arg(&v2, self.arg(2))?;
                let date = i16::try_from(y)
                    .ok()
                    .zip(i8::try_from(m).ok())
                    .zip(i8::try_from(d).ok())
                    .and_then(|((y, m), d)| jiff::civil::Date::new(y, m, d).ok());
                date.map(Value::Date)
                    .ok_or_else(|| self.fail(cx, 0, &v0, format!("date out of range: {y}-{m}-{d}")))
            }
            Func::Coalesce
            | Func::If
            | Func::NullIf
            | Func::Greatest
            | Func::Least
            | Func::Concat
            | Func::ConcatWs => unreachable!("evaluated lazily in Call::eval"),
        }
    }

    /// Regex options from argument `i` when present.
    fn options(
        &self,
        cx: &EvalContext<'_>,
        present: bool,
        v: &Value<'_>,
        i: usize,
    ) -> Result<RegexOptions, BoxedEvalError> {
        if !present {
            return Ok(RegexOptions::default());
        }
        RegexOptions::parse(&v.to_text()).map_err(|m| self.fail(cx, i, v, m))
    }

    /// The date part named by the first argument (compiled when it is a literal).
    fn part(&self, cx: &EvalContext<'_>, v: &Value<'_>) -> Result<Option<Part>, BoxedEvalError> {
        if self.prepared.part.is_some() {
            return Ok(self.prepared.part);
        }
        let name = v.to_text();
        match Part::parse(&name) {
            Some(p) => Ok(Some(p)),
            None => Err(self.fail(cx, 0, v, format!("unknown date part '{name}'"))),
        }
    }

    fn pad<'r>(
        &self,
        cx: &EvalContext<'_>,
        s: Cow<'r, str>,
        count: i64,
        pad: &str,
        padv: &Value<'_>,
    ) -> EvalResult<'r> {
        if count <= 0 {
            return Ok(Value::Str(Cow::Borrowed("")));
        }
        let ascii = s.is_ascii();
        let len = char_len(&s, ascii);
        let count = count as usize;
        if len >= count {
            let end = byte_at(&s, ascii, count);
            return Ok(Value::Str(sub(s, 0..end)));
        }
        if pad.is_empty() {
            let which = if self.func == Func::Lpad {
                "LPAD"
            } else {
                "RPAD"
            };
            return Err(self.fail(cx, 2, padv, format!("Insufficient padding in {which}")));
        }
        // At least one byte per padding character: a count past the limit is refused before
        // the padding is built (the exact length is checked once it is).
        cx.bound((s.len() + (count - len)) as u128)?;
        let fill: String = pad.chars().cycle().take(count - len).collect();
        let mut out = String::with_capacity(s.len() + fill.len());
        if self.func == Func::Lpad {
            out.push_str(&fill);
            out.push_str(&s);
        } else {
            out.push_str(&s);
            out.push_str(&fill);
        }
        Ok(Value::Str(Cow::Owned(out)))
    }
}

/// DuckDB's `split_part`: 1-based, negative from the end, out of range is empty; an empty
/// delimiter splits into characters.
fn split_part(s: &str, delim: &str, idx: i64) -> Range<usize> {
    if idx == 0 {
        return 0..0;
    }
    let pieces = || -> Box<dyn DoubleEndedIterator<Item = Range<usize>> + '_> {
        if delim.is_empty() {
            Box::new(s.char_indices().map(|(i, c)| i..i + c.len_utf8()))
        } else {
            let mut starts = vec![0];
            starts.extend(s.match_indices(delim).map(|(i, _)| i + delim.len()));
            let ends: Vec<usize> = s
                .match_indices(delim)
                .map(|(i, _)| i)
                .chain(std::iter::once(s.len()))
                .collect();
            Box::new(starts.into_iter().zip(ends).map(|(a, b)| a..b))
        }
    };
    let found = if idx > 0 {
        pieces().nth((idx - 1) as usize)
    } else {
        pieces().rev().nth((-(idx + 1)) as usize)
    };
    found.unwrap_or(0..0)
}

/// `round(BIGINT, digits)`: unchanged for digits >= 0, else half away from zero.
fn round_int(i: i64, digits: i64) -> Option<i64> {
    if digits >= 0 {
        return Some(i);
    }
    if digits < -18 {
        return Some(0);
    }
    let p = 10i128.pow((-digits) as u32);
    let v = i128::from(i);
    let q = v / p;
    let r = v % p;
    let q = if r.abs() * 2 >= p { q + v.signum() } else { q };
    i64::try_from(q * p).ok()
}

/// `round(DOUBLE, digits)` as DuckDB rounds: on the exact value of the double, half away from
/// zero, so 5.55 (stored as 5.5499999...) rounds to 5.5 and 0.125 (exact) to 0.13.
pub(crate) fn round_float(x: f64, digits: i64) -> f64 {
    let digits = digits.clamp(-400, 400) as i32;
    if digits < 0 {
        let m = 10f64.powi(-digits);
        let q = x / m;
        let mut r = q.round();
        if (q - q.trunc()).abs() == 0.5 {
            // The quotient may have been rounded onto the tie: the exact remainder decides.
            let rem = (-q).mul_add(m, x);
            if q > 0.0 && rem < 0.0 {
                r -= 1.0;
            } else if q < 0.0 && rem > 0.0 {
                r += 1.0;
            }
        }
        let out = r * m;
        if out.is_finite() {
            out
        } else {
            0.0
        }
    } else {
        let m = 10f64.powi(digits);
        let p = x * m;
        let mut r = p.round();
        if (p - p.trunc()).abs() == 0.5 {
            // Only a product rounded onto a tie can round the wrong way; its exact error
            // (x * m - p, exact with a fused multiply-add) decides.
            let err = x.mul_add(m, -p);
            if p > 0.0 && err < 0.0 {
                r -= 1.0;
            } else if p < 0.0 && err > 0.0 {
                r += 1.0;
            }
        }
        let out = r / m;
        if out.is_finite() {
            out
        } else {
            x
        }
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
