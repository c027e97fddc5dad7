//! `LIKE` patterns, compiled once and matched without allocating.
//!
//! A pattern is cut at its `%` runs into segments of fixed length (literal characters and `_`).
//! The first segment is anchored at the start unless the pattern starts with `%`, the last at the
//! end unless it ends with `%`, and the others are found leftmost-first in order, which is exact
//! for fixed-length segments. `_` matches one character (a code point), as in DuckDB.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Char(char),
    Any,
}

#[derive(Debug, Clone)]
struct Segment {
    toks: Vec<Tok>,
    /// The segment's text when it has no `_`: matched with substring search.
    literal: Option<String>,
    chars: usize,
}

/// A compiled `LIKE` pattern.
#[derive(Debug, Clone)]
pub(crate) struct LikePattern {
    segments: Vec<Segment>,
    leading_any: bool,
    trailing_any: bool,
}

impl LikePattern {
    /// Compiles `pattern`; `escape` makes the next character literal.
    pub(crate) fn new(pattern: &str, escape: Option<char>) -> Result<LikePattern, String> {
        let mut segments = Vec::new();
        let mut current: Vec<Tok> = Vec::new();
        let mut leading_any = false;
        let mut trailing_any = false;
        let mut chars = pattern.chars().peekable();
        let mut first = true;
        while let Some(c) = chars.next() {
            if Some(c) == escape {
                let Some(lit) = chars.next() else {
                    return Err("LIKE pattern must not end with the escape character".into());
                };
                current.push(Tok::Char(lit));
                trailing_any = false;
            } else if c == '%' {
                if first {
                    leading_any = true;
                }
                if !current.is_empty() {
                    segments.push(Segment::new(std::mem::take(&mut current)));
                }
                trailing_any = true;
            } else {
                current.push(if c == '_' { Tok::Any } else { Tok::Char(c) });
                trailing_any = false;
            }
            first = false;
        }
        if !current.is_empty() {
            segments.push(Segment::new(current));
        }
        Ok(LikePattern {
            segments,
            leading_any,
            trailing_any,
        })
    }

    /// Whether `text` matches the whole pattern.
    pub(crate) fn matches(&self, text: &str) -> bool {
        let segs = &self.segments;
        if segs.is_empty() {
            return self.leading_any || text.is_empty();
        }
        let n = segs.len();
        let mut pos = 0;
        let mut first = 0;
        if !self.leading_any {
            match segs[0].match_at(text, 0) {
                Some(end) => pos = end,
                None => return false,
            }
            if n == 1 && !self.trailing_any {
                return pos == text.len();
            }
            first = 1;
        }
        let mut limit = text.len();
        let mut last = n;
        if !self.trailing_any && first < n {
            let seg = &segs[n - 1];
            let Some(start) = nth_char_from_end(text, seg.chars) else {
                return false;
            };
            if start < pos || seg.match_at(text, start) != Some(text.len()) {
                return false;
            }
            limit = start;
            last = n - 1;
        }
        for seg in &segs[first..last] {
            match seg.find(text, pos, limit) {
                Some(end) => pos = end,
                None => return false,
            }
        }
        true
    }
}

impl Segment {
    fn new(toks: Vec<Tok>) -> Segment {
        let literal = toks
            .iter()
            .map(|t| match t {
                Tok::Char(c) => Some(*c),
                Tok::Any => None,
            })
            .collect::<Option<String>>();
        Segment {
            chars: toks.len(),
            toks,
            literal,
        }
    }

    /// The end of this segment matched at byte `pos`, if it matches there.
    fn match_at(&self, text: &str, pos: usize) -> Option<usize> {
        let rest = &text[pos..];
        if let Some(lit) = &self.literal {
            return rest.starts_with(lit.as_str()).then(|| pos + lit.len());
        }
        let mut it = rest.chars();
        let mut end = pos;
        for tok in &self.toks {
            let c = it.next()?;
            if let Tok::Char(want) = tok {
                if c != *want {
                    return None;
                }
            }
            end += c.len_utf8();
        }
        Some(end)
    }

    /// The end of the leftmost match starting at or after `pos` and ending by `limit`.
    fn find(&self, text: &str, pos: usize, limit: usize) -> Option<usize> {
        if let Some(lit) = &self.literal {
            return text[pos..limit]
                .find(lit.as_str())
                .map(|i| pos + i + lit.len());
        }
        // All matches have the same length in characters, so the leftmost ends first.
        for (i, _) in text[pos..limit].char_indices() {
            if let Some(end) = self.match_at(text, pos + i) {
                return (end <= limit).then_some(end);
            }
        }
        None
    }
}

/// The byte offset where the last `n` characters of `text` start.
fn nth_char_from_end(text: &str, n: usize) -> Option<usize> {
    if n == 0 {
        return Some(text.len());
    }
    text.char_indices().rev().nth(n - 1).map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn like(text: &str, pattern: &str) -> bool {
        LikePattern::new(pattern, None).unwrap().matches(text)
    }

    #[test]
    fn like_matches_as_duckdb_does() {
        // DuckDB 2.0.1: 'abc' LIKE 'a%' -> true, '_b_' -> true, 'ab' -> false, 'ABC' LIKE 'abc'
        // -> false, '' LIKE '%' -> true, '' LIKE '_' -> false, 'a\bc' LIKE 'a\bc' -> true,
        // 'a\bc' LIKE 'a\\bc' -> false, 'abc' LIKE '%%%c' -> true, 'ab' LIKE '%b%' -> true,
        // e'a\nb' LIKE 'a_b' -> true, 'é' LIKE '_' -> true, 'x' LIKE 'x%%' -> true,
        // 'aXb' LIKE 'a%b%' -> true.
        assert!(like("abc", "a%"));
        assert!(like("abc", "_b_"));
        assert!(!like("abc", "ab"));
        assert!(!like("ABC", "abc"));
        assert!(like("", "%"));
        assert!(!like("", "_"));
        assert!(like("", ""));
        assert!(!like("a", ""));
        assert!(like("a\\bc", "a\\bc"));
        assert!(!like("a\\bc", "a\\\\bc"));
        assert!(like("abc", "%%%c"));
        assert!(like("ab", "%b%"));
        assert!(like("a\nb", "a_b"));
        assert!(like("é", "_"));
        assert!(!like("é", "__"));
        assert!(like("x", "x%%"));
        assert!(like("aXb", "a%b%"));
        assert!(like("abcabc", "%bc"));
        assert!(like("abcabd", "a%b_"));
        assert!(!like("abcabd", "a%bc"));
        assert!(like("aaa", "a%a%a"));
        assert!(!like("aa", "a%a%a"));
        assert!(like("xaybz", "%a_b%"));
        assert!(like("héllo wörld", "h_llo%w_rld"));
        assert!(!like("abc", "abcd%"));
        assert!(like("ab", "a%%b"));
    }

    #[test]
    fn escape_makes_wildcards_literal() {
        // DuckDB 2.0.1: 'a%c' LIKE 'a\%c' ESCAPE '\' -> true; 'abc' LIKE 'a\%c' ESCAPE '\' ->
        // false; 'a_c' LIKE 'a!_c' ESCAPE '!' -> true; 'a\bc' LIKE 'a\bc' ESCAPE '\' -> false.
        let esc = |t: &str, p: &str, e: char| LikePattern::new(p, Some(e)).unwrap().matches(t);
        assert!(esc("a%c", "a\\%c", '\\'));
        assert!(!esc("abc", "a\\%c", '\\'));
        assert!(esc("a_c", "a!_c", '!'));
        assert!(!esc("abc", "a!_c", '!'));
        assert!(!esc("a\\bc", "a\\bc", '\\'));
        assert!(esc("a!c", "a!!c", '!'));
        assert!(esc("50%", "%!%", '!'));
        assert!(LikePattern::new("ab!", Some('!')).is_err());
    }
}
