//! Regex functions (`regexp_matches`, `regexp_full_match`, `regexp_replace`,
//! `regexp_extract`) and what the compiler needs to prepare them: DuckDB's options, patterns
//! built with the `regex` crate, replacement strings translated to its syntax.

use std::borrow::Cow;
use std::cell::RefCell;
use std::ops::Range;

use regex::{Regex, RegexBuilder};

use super::text::sub;
use super::{integer, Func, FuncError, FuncResult, Prepared};
use crate::expr::Value;

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

/// Regex options from an optional argument at position `arg`: the defaults when absent.
fn parse_options(v: Option<&Value<'_>>, arg: usize) -> FuncResult<RegexOptions> {
    let Some(v) = v else {
        return Ok(RegexOptions::default());
    };
    let text = v.to_text();
    RegexOptions::parse(&text).map_err(|m| FuncError::invalid(arg, &text, m))
}

/// `regexp_matches(s, pattern[, options])` and `regexp_full_match`.
pub(super) fn matches(
    func: Func,
    s: &Value<'_>,
    pattern: &Value<'_>,
    options: Option<&Value<'_>>,
    prepared: &Prepared,
) -> FuncResult<Value<'static>> {
    let s = s.to_text();
    let full = func == Func::RegexpFullMatch;
    if let Some(re) = &prepared.regex {
        return Ok(Value::Bool(re.is_match(&s)));
    }
    let opts = parse_options(options, 2)?;
    let pattern = pattern.to_text();
    with_regex(&pattern, opts, full, |re| re.is_match(&s))
        .map(Value::Bool)
        .map_err(|m| FuncError::invalid(1, &pattern, m))
}

/// `regexp_replace(s, pattern, replacement[, options])`: the first match, or every one with
/// the `g` option; `s` itself when nothing matches.
pub(super) fn replace<'r>(
    s: Value<'r>,
    pattern: &Value<'_>,
    replacement: &Value<'_>,
    options: Option<&Value<'_>>,
    prepared: &Prepared,
) -> FuncResult<Value<'r>> {
    let s = s.into_text();
    let opts = parse_options(options, 3)?;
    let global = prepared.global || opts.global;
    let translated;
    let rep = match &prepared.replacement {
        Some(r) => r.as_str(),
        None => {
            translated = translate_replacement(&replacement.to_text());
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
    let replaced = match &prepared.regex {
        Some(re) => run(re),
        None => {
            let pattern = pattern.to_text();
            with_regex(&pattern, opts, false, run)
                .map_err(|m| FuncError::invalid(1, &pattern, m))?
        }
    };
    Ok(Value::Str(replaced.map_or(s, Cow::Owned)))
}

/// `regexp_extract(s, pattern[, group[, options]])`: the group's text in the first match,
/// empty when there is none.
pub(super) fn extract<'r>(
    s: Value<'r>,
    pattern: &Value<'_>,
    group: Option<&Value<'_>>,
    options: Option<&Value<'_>>,
    prepared: &Prepared,
) -> FuncResult<Value<'r>> {
    let group = match group {
        Some(g) => integer(g, 2)?,
        None => 0,
    };
    let s = s.into_text();
    let opts = parse_options(options, 3)?;
    let find = |re: &Regex| -> Range<usize> {
        let Ok(g) = usize::try_from(group) else {
            return 0..0;
        };
        re.captures(&s)
            .and_then(|c| c.get(g))
            .map_or(0..0, |m| m.range())
    };
    let r = match &prepared.regex {
        Some(re) => find(re),
        None => {
            let pattern = pattern.to_text();
            with_regex(&pattern, opts, false, find)
                .map_err(|m| FuncError::invalid(1, &pattern, m))?
        }
    };
    Ok(Value::Str(sub(s, r)))
}
