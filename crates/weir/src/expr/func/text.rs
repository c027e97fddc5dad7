//! Text functions: case, trimming, slicing, padding, searching, repeating.
//!
//! They take evaluated arguments and return a slice of their input where they can, so they
//! allocate only when they build new text; a value that would be longer than the expression's
//! limit is refused before it is built where its length is known in advance.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::ops::Range;

use super::{bound, integer, Func, FuncError, FuncResult};
use crate::expr::Value;

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
    one_for_one(c, c.to_uppercase())
}

fn lower_char(c: char) -> char {
    if c == 'İ' {
        return 'i';
    }
    one_for_one(c, c.to_lowercase())
}

/// The character `c` maps to when it maps to one; `c` itself when it maps to several.
fn one_for_one(c: char, mut mapped: impl Iterator<Item = char>) -> char {
    match (mapped.next(), mapped.next()) {
        (Some(m), None) => m,
        _ => c,
    }
}

/// Upper case, character by character as DuckDB maps them; unchanged text stays borrowed.
pub(crate) fn upper(s: Cow<'_, str>) -> Cow<'_, str> {
    map_case(
        s,
        u8::is_ascii_lowercase,
        str::make_ascii_uppercase,
        upper_char,
    )
}

/// Lower case, character by character as DuckDB maps them; unchanged text stays borrowed.
pub(crate) fn lower(s: Cow<'_, str>) -> Cow<'_, str> {
    map_case(
        s,
        u8::is_ascii_uppercase,
        str::make_ascii_lowercase,
        lower_char,
    )
}

/// `upper` or `lower`: ASCII text without a byte `changes` is returned as it is, other ASCII
/// text is mapped in place (a borrowed one copied first), and any other text char by char.
fn map_case<'a>(
    s: Cow<'a, str>,
    changes: fn(&u8) -> bool,
    ascii: fn(&mut str),
    each: fn(char) -> char,
) -> Cow<'a, str> {
    if !s.is_ascii() {
        return Cow::Owned(s.chars().map(each).collect());
    }
    if !s.bytes().any(|b| changes(&b)) {
        return s;
    }
    let mut o = s.into_owned();
    ascii(&mut o);
    Cow::Owned(o)
}

/// The ends `trim` strips.
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

/// `reverse`, keeping a character with its combining marks.
pub(super) fn reverse(s: &str) -> String {
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

/// `trim`, `ltrim`, `rtrim`: spaces, or the characters of `set`, off one or both ends.
pub(super) fn trim<'r>(func: Func, s: Value<'r>, set: Option<Value<'_>>) -> Value<'r> {
    let side = match func {
        Func::Trim => Side::Both,
        Func::LTrim => Side::Left,
        _ => Side::Right,
    };
    let s = s.into_text();
    let r = match set {
        Some(set) => {
            let set = set.to_text();
            trim_range(&s, side, |c| set.contains(c))
        }
        None => trim_range(&s, side, |c| c == ' '),
    };
    Value::Str(sub(s, r))
}

/// `length`: in characters.
pub(super) fn length(s: &Value<'_>) -> Value<'static> {
    let s = s.to_text();
    Value::Int(char_len(&s, s.is_ascii()) as i64)
}

/// `substr(s, start[, length])`.
pub(super) fn substr<'r>(
    s: Value<'r>,
    start: &Value<'_>,
    len: Option<&Value<'_>>,
) -> FuncResult<Value<'r>> {
    let start = integer(start, 1)?;
    let len = match len {
        Some(len) => Some(integer(len, 2)?),
        None => None,
    };
    let s = s.into_text();
    let r = substr_range(&s, start, len);
    Ok(Value::Str(sub(s, r)))
}

/// `replace(s, from, to)`: every occurrence; `s` itself when there is none.
pub(super) fn replace<'r>(
    s: Value<'r>,
    from: &Value<'_>,
    to: &Value<'_>,
    limit: usize,
) -> FuncResult<Value<'r>> {
    let s = s.into_text();
    let from = from.to_text();
    if from.is_empty() || !s.contains(&*from) {
        return Ok(Value::Str(s));
    }
    let to = to.to_text();
    if to.len() > from.len() {
        let n = s.matches(&*from).count() as u128;
        bound(s.len() as u128 + n * (to.len() - from.len()) as u128, limit)?;
    }
    Ok(Value::Str(Cow::Owned(s.replace(&*from, &to))))
}

/// `split_part(s, delimiter, index)`.
pub(super) fn split_part<'r>(
    s: Value<'r>,
    delim: &Value<'_>,
    index: &Value<'_>,
) -> FuncResult<Value<'r>> {
    let index = integer(index, 2)?;
    let s = s.into_text();
    let delim = delim.to_text();
    let r = split_part_range(&s, &delim, index);
    Ok(Value::Str(sub(s, r)))
}

/// `lpad`/`rpad(s, count, pad)`: `s` padded or cut to `count` characters.
pub(super) fn pad<'r>(
    func: Func,
    s: Value<'r>,
    count: &Value<'_>,
    pad: &Value<'_>,
    limit: usize,
) -> FuncResult<Value<'r>> {
    let count = integer(count, 1)?;
    let s = s.into_text();
    let pad = pad.to_text();
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
    let left = func == Func::Lpad;
    if pad.is_empty() {
        let which = if left { "LPAD" } else { "RPAD" };
        return Err(FuncError::invalid(
            2,
            &pad,
            format!("Insufficient padding in {which}"),
        ));
    }
    // At least one byte per padding character: a count past the limit is refused before
    // the padding is built (the exact length is checked once it is).
    bound((s.len() + (count - len)) as u128, limit)?;
    let fill: String = pad.chars().cycle().take(count - len).collect();
    let mut out = String::with_capacity(s.len() + fill.len());
    if left {
        out.push_str(&fill);
        out.push_str(&s);
    } else {
        out.push_str(&s);
        out.push_str(&fill);
    }
    Ok(Value::Str(Cow::Owned(out)))
}

/// `strpos(s, needle)`: the 1-based character position of the first occurrence, 0 for none.
pub(super) fn strpos(s: &Value<'_>, needle: &Value<'_>) -> Value<'static> {
    let s = s.to_text();
    let needle = needle.to_text();
    Value::Int(match s.find(&*needle) {
        Some(i) => s[..i].chars().count() as i64 + 1,
        None => 0,
    })
}

/// `left`/`right(s, count)`: the first or last `count` characters; a negative count leaves
/// that many out.
pub(super) fn left_right<'r>(func: Func, s: Value<'r>, count: &Value<'_>) -> FuncResult<Value<'r>> {
    let count = integer(count, 1)?;
    let s = s.into_text();
    let ascii = s.is_ascii();
    let len = char_len(&s, ascii) as i64;
    let keep = if count >= 0 {
        count.min(len)
    } else {
        (len + count).max(0)
    };
    let r = if func == Func::Left {
        0..byte_at(&s, ascii, keep as usize)
    } else {
        byte_at(&s, ascii, (len - keep) as usize)..s.len()
    };
    Ok(Value::Str(sub(s, r)))
}

/// `repeat(s, count)`.
pub(super) fn repeat(s: &Value<'_>, count: &Value<'_>, limit: usize) -> FuncResult<Value<'static>> {
    let count = integer(count, 1)?;
    let s = s.to_text();
    if count <= 0 || s.is_empty() {
        return Ok(Value::Str(Cow::Borrowed("")));
    }
    bound((s.len() as u128) * (count as u128), limit)?;
    Ok(Value::Str(Cow::Owned(s.repeat(count as usize))))
}

/// DuckDB's `split_part`: 1-based, negative from the end, out of range is empty; an empty
/// delimiter splits into characters.
fn split_part_range(s: &str, delim: &str, idx: i64) -> Range<usize> {
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
