//! JSON Lines decoding and encoding.
//!
//! A JSON Lines record is one object per line; the columns are the keys of the first record, in
//! order. Decoding is a small validating scanner (no tree, no allocation per record): strings are
//! unescaped into the record's arena only when they hold an escape, other values keep their raw
//! text. Nesting depth is tracked with a counter, so deep input cannot overflow the stack.

use std::collections::HashMap;

use super::InvalidUtf8;
use crate::record::{Columns, FieldSpan, Place, RecordBuf, ValueKind};

/// Maps the keys of JSON objects to column indexes.
#[derive(Debug, Clone)]
pub struct KeyIndex {
    keys: Vec<Vec<u8>>,
    by_key: HashMap<Vec<u8>, usize>,
}

impl KeyIndex {
    /// An index over these columns.
    pub fn new(columns: &Columns) -> KeyIndex {
        let keys: Vec<Vec<u8>> = columns
            .names()
            .iter()
            .map(|n| n.as_bytes().to_vec())
            .collect();
        let mut by_key = HashMap::new();
        for (i, k) in keys.iter().enumerate() {
            by_key.entry(k.clone()).or_insert(i);
        }
        KeyIndex { keys, by_key }
    }

    #[inline]
    fn lookup(&self, expected: usize, key: &[u8]) -> Option<usize> {
        if self.keys.get(expected).is_some_and(|k| k == key) {
            return Some(expected);
        }
        self.by_key.get(key).copied()
    }
}

/// Why a line is not a JSON object weir can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// Byte position in the line.
    pub at: usize,
    /// What was wrong.
    pub what: &'static str,
}

/// What decoding one JSON Lines record found besides its fields.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KeyCheck {
    /// The first key that is not a column, if any.
    pub extra: Option<String>,
    /// Number of distinct known columns present.
    pub present: usize,
    /// The first column whose key is absent, if any.
    pub missing: Option<usize>,
    /// The first key the object holds more than once, if any (JSON leaves the meaning of a
    /// repeated key open, so no value of it is picked silently).
    pub duplicate: Option<String>,
    /// The first value that is not Unicode text, if any: a string with bytes that are not
    /// UTF-8, or a `\u` escape of a lone surrogate. The record holds it with U+FFFD in their
    /// place; whether that stands or the record is rejected is the caller's choice.
    pub not_text: Option<NotText>,
    /// How many of the record's fields were so replaced.
    pub replaced: u32,
}

/// A value of a JSON Lines record that is not Unicode text; see [`KeyCheck::not_text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotText {
    /// The column it is in; `None` when it is a key or the value of a key that is not a column.
    pub column: Option<usize>,
    /// The key (U+FFFD in place of what is not text).
    pub key: String,
    /// What is wrong, for the message.
    pub what: &'static str,
}

/// The message part of a [`NotText`] caused by invalid UTF-8.
const INVALID_UTF8: &str = "bytes that are not UTF-8 (JSON text must be UTF-8)";
/// The message part of a [`NotText`] caused by a lone surrogate.
const LONE_SURROGATE: &str =
    "a \\u escape of a lone surrogate, which is half of a character and has no UTF-8 form";

/// Decodes JSON objects into records with one field per column.
#[derive(Debug, Clone)]
pub struct JsonDecoder {
    index: KeyIndex,
    seen: Vec<bool>,
    key: Vec<u8>,
    /// The keys of the current record that are not columns (to find one that repeats).
    extras: Vec<Vec<u8>>,
}

const MAX_DEPTH: usize = 512;

impl JsonDecoder {
    /// A decoder for these columns.
    pub fn new(columns: &Columns) -> JsonDecoder {
        JsonDecoder {
            index: KeyIndex::new(columns),
            seen: vec![false; columns.len()],
            key: Vec::new(),
            extras: Vec::new(),
        }
    }

    /// Reads the top-level keys of one object (for the first record's columns), each once: a
    /// key the object repeats is a column once (decoding the record then finds it repeated).
    pub fn keys(line: &[u8]) -> Result<Vec<String>, JsonError> {
        let mut keys: Vec<String> = Vec::new();
        let mut p = Parser::new(line, 0);
        let mut scratch = Vec::new();
        p.object(|p, k| {
            let key = String::from_utf8_lossy(k);
            if !keys.iter().any(|have| *have == key) {
                keys.push(key.into_owned());
            }
            p.value(&mut scratch).map(|_| ())
        })?;
        Ok(keys)
    }

    /// Decodes the object in `input[start..end]` into `rec`, one field per column (absent keys
    /// are nulls). Returns what the key check found, or why the line is not an object.
    pub fn decode(
        &mut self,
        input: &[u8],
        start: usize,
        end: usize,
        rec: &mut RecordBuf,
    ) -> Result<KeyCheck, JsonError> {
        let ncols = self.seen.len();
        self.seen.iter_mut().for_each(|s| *s = false);
        rec.fields.clear();
        for _ in 0..ncols {
            rec.push_input(start, start, ValueKind::Null);
        }
        let mut check = KeyCheck::default();
        let mut p = Parser::new(&input[..end], start);
        let mut expected = 0;
        let index = &self.index;
        let seen = &mut self.seen;
        let key_buf = &mut self.key;
        let extras = &mut self.extras;
        extras.clear();
        p.object(|p, key| {
            key_buf.clear();
            key_buf.extend_from_slice(key);
            if std::mem::take(&mut p.lone_surrogate) && check.not_text.is_none() {
                check.not_text = Some(NotText {
                    column: None,
                    key: String::from_utf8_lossy(key_buf).into_owned(),
                    what: LONE_SURROGATE,
                });
            }
            let col = index.lookup(expected, key_buf);
            let before = rec.arena.len();
            let value = p.value(rec.arena_mut())?;
            if std::mem::take(&mut p.lone_surrogate) {
                if col.is_some() {
                    check.replaced += 1;
                }
                check.not_text.get_or_insert_with(|| NotText {
                    column: col,
                    key: String::from_utf8_lossy(key_buf).into_owned(),
                    what: LONE_SURROGATE,
                });
            }
            match col {
                Some(c) => {
                    expected = c + 1;
                    if seen[c] {
                        check
                            .duplicate
                            .get_or_insert_with(|| String::from_utf8_lossy(key_buf).into_owned());
                    } else {
                        seen[c] = true;
                        check.present += 1;
                    }
                    rec.fields[c] = match value {
                        Value::Span(s, e, kind) => FieldSpan {
                            start: s,
                            end: e,
                            place: Place::Input,
                            kind,
                        },
                        Value::Unescaped => FieldSpan {
                            start: before,
                            end: rec.arena.len(),
                            place: Place::Arena,
                            kind: ValueKind::Text,
                        },
                    };
                }
                None => {
                    rec.arena.truncate(before);
                    if check.extra.is_none() {
                        check.extra = Some(String::from_utf8_lossy(key_buf).into_owned());
                    }
                    if extras.iter().any(|k| k == key_buf) {
                        check
                            .duplicate
                            .get_or_insert_with(|| String::from_utf8_lossy(key_buf).into_owned());
                    } else {
                        extras.push(key_buf.clone());
                    }
                }
            }
            Ok(())
        })?;
        if check.present < ncols {
            check.missing = self.seen.iter().position(|s| !s);
        }
        // One pass over the line (fast on ASCII) proves every key and value is UTF-8; only a
        // line that is not looks for the fields to blame.
        if std::str::from_utf8(&input[start..end]).is_err() {
            self.replace_invalid_utf8(input, rec, &mut check);
        }
        Ok(check)
    }

    /// Replaces the fields of `rec` that are not UTF-8 by their lossy conversion (so the record
    /// holds text), counting them in `check`; a line whose invalid bytes are in no field (a key,
    /// a value of a key that is not a column) is still marked as not text.
    fn replace_invalid_utf8(&self, input: &[u8], rec: &mut RecordBuf, check: &mut KeyCheck) {
        for c in 0..rec.fields.len() {
            let f = rec.fields[c];
            let bytes = match f.place {
                Place::Input => &input[f.start..f.end],
                Place::Arena => &rec.arena[f.start..f.end],
            };
            if std::str::from_utf8(bytes).is_ok() {
                continue;
            }
            let text = String::from_utf8_lossy(bytes).into_owned();
            let start = rec.arena.len();
            rec.arena.extend_from_slice(text.as_bytes());
            rec.fields[c] = FieldSpan {
                start,
                end: rec.arena.len(),
                place: Place::Arena,
                kind: f.kind,
            };
            check.replaced += 1;
            check.not_text.get_or_insert_with(|| NotText {
                column: Some(c),
                key: String::from_utf8_lossy(&self.index.keys[c]).into_owned(),
                what: INVALID_UTF8,
            });
        }
        check.not_text.get_or_insert_with(|| NotText {
            column: None,
            key: String::new(),
            what: INVALID_UTF8,
        });
    }
}

enum Value {
    /// A value in the input: a string's contents (no escapes) or a raw JSON value.
    Span(usize, usize, ValueKind),
    /// A string unescaped into the arena (from the arena's length before the call to its end).
    Unescaped,
}

struct Parser<'s> {
    s: &'s [u8],
    i: usize,
    /// Set when a string held a `\u` escape of a lone surrogate (decoded as U+FFFD); the
    /// caller takes it after each key and value.
    lone_surrogate: bool,
}

impl<'s> Parser<'s> {
    fn new(s: &'s [u8], i: usize) -> Parser<'s> {
        Parser {
            s,
            i,
            lone_surrogate: false,
        }
    }

    fn err<T>(&self, what: &'static str) -> Result<T, JsonError> {
        Err(JsonError { at: self.i, what })
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\r' | b'\n') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    /// Parses `{ "key": value, ... }` calling `on_member` after each key (which must consume
    /// the value), then requires only whitespace to the end.
    fn object<F>(&mut self, mut on_member: F) -> Result<(), JsonError>
    where
        F: FnMut(&mut Parser<'s>, &[u8]) -> Result<(), JsonError>,
    {
        self.ws();
        if self.s.get(self.i) != Some(&b'{') {
            return self.err("expected a JSON object");
        }
        self.i += 1;
        self.ws();
        if self.s.get(self.i) == Some(&b'}') {
            self.i += 1;
        } else {
            let mut key = Vec::new();
            loop {
                self.ws();
                if self.s.get(self.i) != Some(&b'"') {
                    return self.err("expected a string key");
                }
                key.clear();
                match self.string(&mut key)? {
                    Value::Span(a, b, _) => {
                        key.extend_from_slice(&self.s[a..b]);
                    }
                    Value::Unescaped => {}
                }
                self.ws();
                if self.s.get(self.i) != Some(&b':') {
                    return self.err("expected ':' after a key");
                }
                self.i += 1;
                self.ws();
                on_member(self, &key)?;
                self.ws();
                match self.s.get(self.i) {
                    Some(b',') => self.i += 1,
                    Some(b'}') => {
                        self.i += 1;
                        break;
                    }
                    _ => return self.err("expected ',' or '}'"),
                }
            }
        }
        self.ws();
        if self.i != self.s.len() {
            return self.err("unexpected text after the object");
        }
        Ok(())
    }

    /// Parses one value; strings with escapes are unescaped into `arena`.
    fn value(&mut self, arena: &mut Vec<u8>) -> Result<Value, JsonError> {
        let start = self.i;
        match self.s.get(self.i) {
            Some(b'"') => self.string(arena),
            Some(b'{' | b'[') => {
                self.skip_nested()?;
                Ok(Value::Span(start, self.i, ValueKind::Json))
            }
            Some(b't') => self.literal(b"true", ValueKind::Json),
            Some(b'f') => self.literal(b"false", ValueKind::Json),
            Some(b'n') => self.literal(b"null", ValueKind::Null),
            Some(b'-' | b'0'..=b'9') => {
                self.number()?;
                Ok(Value::Span(start, self.i, ValueKind::Json))
            }
            _ => self.err("expected a JSON value"),
        }
    }

    fn literal(&mut self, word: &[u8], kind: ValueKind) -> Result<Value, JsonError> {
        let start = self.i;
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(Value::Span(start, self.i, kind))
        } else {
            self.err("invalid literal")
        }
    }

    fn number(&mut self) -> Result<(), JsonError> {
        let s = self.s;
        let mut i = self.i;
        if s.get(i) == Some(&b'-') {
            i += 1;
        }
        let digits = |i: &mut usize| {
            let from = *i;
            while s.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i > from
        };
        if s.get(i) == Some(&b'0') {
            i += 1;
        } else if !digits(&mut i) {
            self.i = i;
            return self.err("invalid number");
        }
        if s.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                self.i = i;
                return self.err("invalid number");
            }
        }
        if let Some(b'e' | b'E') = s.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = s.get(i) {
                i += 1;
            }
            if !digits(&mut i) {
                self.i = i;
                return self.err("invalid number");
            }
        }
        self.i = i;
        Ok(())
    }

    /// Parses a string at `self.i` (on its opening quote). Without escapes it returns the span of
    /// its contents; with escapes it appends the unescaped text to `arena`.
    fn string(&mut self, arena: &mut Vec<u8>) -> Result<Value, JsonError> {
        self.i += 1;
        let start = self.i;
        let s = self.s;
        let Some(j) = memchr::memchr2(b'"', b'\\', &s[start..]) else {
            return self.err("unterminated string");
        };
        if s[start + j] == b'"' {
            if s[start..start + j].iter().any(|&b| b < 0x20) {
                return self.err("control character in a string");
            }
            self.i = start + j + 1;
            return Ok(Value::Span(start, start + j, ValueKind::Text));
        }
        let mut i = start;
        loop {
            let Some(j) = memchr::memchr2(b'"', b'\\', &s[i..]) else {
                self.i = s.len();
                return self.err("unterminated string");
            };
            let chunk = &s[i..i + j];
            if chunk.iter().any(|&b| b < 0x20) {
                self.i = i;
                return self.err("control character in a string");
            }
            arena.extend_from_slice(chunk);
            i += j;
            if s[i] == b'"' {
                self.i = i + 1;
                return Ok(Value::Unescaped);
            }
            let Some(&e) = s.get(i + 1) else {
                self.i = i;
                return self.err("unterminated string");
            };
            i += 2;
            let c = match e {
                b'"' => b'"',
                b'\\' => b'\\',
                b'/' => b'/',
                b'b' => 8,
                b'f' => 12,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'u' => {
                    let (ch, used) = self.unicode_escape(i)?;
                    i += used;
                    let mut tmp = [0u8; 4];
                    arena.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                    continue;
                }
                _ => {
                    self.i = i - 1;
                    return self.err("invalid escape");
                }
            };
            arena.push(c);
        }
    }

    /// Decodes `XXXX` (after `\u`) at `i`, with a following low surrogate if needed.
    fn unicode_escape(&mut self, i: usize) -> Result<(char, usize), JsonError> {
        let hex = |at: usize| -> Option<u32> {
            let h = self.s.get(at..at + 4)?;
            // Four hex digits exactly: `from_str_radix` also takes a sign (`\u+8dd`).
            if !h.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
        };
        let Some(hi) = hex(i) else {
            self.i = i;
            return self.err("invalid \\u escape");
        };
        if (0xD800..0xDC00).contains(&hi) && self.s.get(i + 4..i + 6) == Some(b"\\u") {
            if let Some(lo) = hex(i + 6).filter(|lo| (0xDC00..0xE000).contains(lo)) {
                let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                if let Some(c) = char::from_u32(c) {
                    return Ok((c, 10));
                }
            }
        }
        match char::from_u32(hi) {
            Some(c) => Ok((c, 4)),
            // A high surrogate without its low half, or a low one alone.
            None => {
                self.lone_surrogate = true;
                Ok(('\u{FFFD}', 4))
            }
        }
    }

    /// Skips a nested array or object, validating it as JSON (RFC 8259: values, commas,
    /// colons, string keys, numbers, literals, escapes), without allocating or recursing: the
    /// open brackets are kept in a fixed stack, so deep input cannot overflow the call stack.
    /// A nested value is copied to the output as its raw text, so anything it lets through
    /// would be invalid JSON in a JSON Lines output.
    fn skip_nested(&mut self) -> Result<(), JsonError> {
        let mut open = [0u8; MAX_DEPTH];
        let mut depth = 0usize;
        loop {
            // A value is expected here.
            self.ws();
            match self.s.get(self.i) {
                Some(&b @ (b'{' | b'[')) => {
                    if depth == MAX_DEPTH {
                        return self.err("nesting deeper than 512 levels");
                    }
                    open[depth] = b;
                    depth += 1;
                    self.i += 1;
                    self.ws();
                    let close = if b == b'{' { b'}' } else { b']' };
                    if self.s.get(self.i) == Some(&close) {
                        self.i += 1;
                        depth -= 1;
                    } else {
                        if b == b'{' {
                            self.member_key()?;
                        }
                        continue;
                    }
                }
                Some(b'"') => self.skip_string()?,
                Some(b't') => {
                    self.literal(b"true", ValueKind::Json)?;
                }
                Some(b'f') => {
                    self.literal(b"false", ValueKind::Json)?;
                }
                Some(b'n') => {
                    self.literal(b"null", ValueKind::Json)?;
                }
                Some(b'-' | b'0'..=b'9') => self.number()?,
                _ => return self.err("expected a JSON value"),
            }
            // After a value: close containers until one goes on with a comma.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                self.ws();
                let inner = open[depth - 1];
                match self.s.get(self.i) {
                    Some(b',') => {
                        self.i += 1;
                        if inner == b'{' {
                            self.member_key()?;
                        }
                        break;
                    }
                    Some(b'}') if inner == b'{' => {
                        self.i += 1;
                        depth -= 1;
                    }
                    Some(b']') if inner == b'[' => {
                        self.i += 1;
                        depth -= 1;
                    }
                    None if inner == b'{' => return self.err("unterminated object"),
                    None => return self.err("unterminated array"),
                    _ if inner == b'{' => return self.err("expected ',' or '}' in an object"),
                    _ => return self.err("expected ',' or ']' in an array"),
                }
            }
        }
    }

    /// Skips `"key":` inside a nested object.
    fn member_key(&mut self) -> Result<(), JsonError> {
        self.ws();
        if self.s.get(self.i) != Some(&b'"') {
            return self.err("expected a string key");
        }
        self.skip_string()?;
        self.ws();
        if self.s.get(self.i) != Some(&b':') {
            return self.err("expected ':' after a key");
        }
        self.i += 1;
        Ok(())
    }

    /// Skips a string at `self.i` (on its opening quote), checking its escapes (`\u` takes
    /// four hex digits) and that it holds no raw control character.
    fn skip_string(&mut self) -> Result<(), JsonError> {
        let s = self.s;
        let mut i = self.i + 1;
        loop {
            let Some(j) = memchr::memchr2(b'"', b'\\', &s[i..]) else {
                self.i = s.len();
                return self.err("unterminated string");
            };
            if let Some(k) = s[i..i + j].iter().position(|&b| b < 0x20) {
                self.i = i + k;
                return self.err("control character in a string");
            }
            i += j;
            if s[i] == b'"' {
                self.i = i + 1;
                return Ok(());
            }
            match s.get(i + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                Some(b'u')
                    if s.get(i + 2..i + 6)
                        .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
                {
                    i += 6
                }
                Some(b'u') => {
                    self.i = i;
                    return self.err("invalid \\u escape");
                }
                _ => {
                    self.i = i;
                    return self.err("invalid escape");
                }
            }
        }
    }
}

/// Writes records as JSON objects, one per line, with the output columns as keys in order:
/// text as a JSON string, a JSON value as its raw text, NULL as `null`. Text that is not UTF-8
/// cannot be a JSON string: the record is refused, or, with [`InvalidUtf8::Replace`], the
/// invalid bytes are written as U+FFFD. The keys are escaped once, when the encoder is made.
#[derive(Debug, Clone)]
pub struct JsonEncoder {
    /// `"name":` for each column, escaped.
    keys: Vec<Vec<u8>>,
    /// The column names, to keep the keys made up for extra fields apart from them.
    names: std::collections::HashSet<String>,
    invalid_utf8: InvalidUtf8,
}

/// Why a record cannot be written as JSON: the index of a text field that is not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotUtf8(pub usize);

impl JsonEncoder {
    /// An encoder whose objects have these columns as keys.
    pub fn new(columns: &Columns) -> JsonEncoder {
        let keys = columns
            .names()
            .iter()
            .map(|name| {
                let mut key = Vec::with_capacity(name.len() + 3);
                write_json_string(&mut key, name.as_bytes());
                key.push(b':');
                key
            })
            .collect();
        JsonEncoder {
            keys,
            names: columns.names().iter().cloned().collect(),
            invalid_utf8: InvalidUtf8::default(),
        }
    }

    /// Sets what to do with text that is not UTF-8 (by default the record is refused).
    pub fn invalid_utf8(&mut self, policy: InvalidUtf8) -> &mut JsonEncoder {
        self.invalid_utf8 = policy;
        self
    }

    /// Appends one object and its `\n`, and returns how many text values had invalid UTF-8
    /// replaced. Every column is a key (a record shorter than the columns, possible with
    /// `--ragged keep`, gets `null` for the rest); a field past the last column is kept under
    /// the key `columnN` (N counting from 1, as a header-less CSV names it), with `_` added
    /// while that is the name of a column, so no key is ever written twice. On error (a text
    /// value that is not UTF-8, unless replacing) nothing is appended.
    pub fn record<'v, I>(&self, out: &mut Vec<u8>, fields: I) -> Result<u32, NotUtf8>
    where
        I: IntoIterator<Item = (&'v [u8], ValueKind)>,
    {
        let start = out.len();
        let replace = self.invalid_utf8 == InvalidUtf8::Replace;
        let mut replaced = 0;
        out.push(b'{');
        let mut n = 0;
        for (value, kind) in fields {
            if n > 0 {
                out.push(b',');
            }
            match self.keys.get(n) {
                Some(key) => out.extend_from_slice(key),
                None => {
                    let mut name = format!("column{}", n + 1);
                    while self.names.contains(&name) {
                        name.push('_');
                    }
                    write_json_string(out, name.as_bytes());
                    out.push(b':');
                }
            }
            match write_json_value(out, value, kind, replace) {
                Some(r) => replaced += u32::from(r),
                None => {
                    out.truncate(start);
                    return Err(NotUtf8(n));
                }
            }
            n += 1;
        }
        for key in self.keys.iter().skip(n) {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(key);
            out.extend_from_slice(b"null");
            n += 1;
        }
        out.extend_from_slice(b"}\n");
        Ok(replaced)
    }
}

/// Appends a value of the given kind as JSON. A JSON value is written as its raw text, except
/// the non-finite numbers an expression can produce (`nan`, `inf`, `-inf`), which JSON cannot
/// hold: they are written as strings, and an empty one as `null`. Text that is not UTF-8 is an
/// error (`None`, nothing appended), or with `replace` written with U+FFFD (`Some(true)`).
pub fn write_json_value(
    out: &mut Vec<u8>,
    value: &[u8],
    kind: ValueKind,
    replace: bool,
) -> Option<bool> {
    match kind {
        ValueKind::Text => return write_json_text(out, value, replace),
        ValueKind::Json => match value {
            b"" => out.extend_from_slice(b"null"),
            b"nan" | b"inf" | b"-inf" => write_json_string(out, value),
            _ => out.extend_from_slice(value),
        },
        ValueKind::Null => out.extend_from_slice(b"null"),
    }
    Some(false)
}

/// Appends `value`, which must be UTF-8, as a JSON string (for names and messages, which are
/// Rust strings; invalid UTF-8 would become U+FFFD).
pub fn write_json_string(out: &mut Vec<u8>, value: &[u8]) {
    let _ = write_json_text(out, value, true);
}

/// Appends `value` as a JSON string and returns whether it replaced anything. Text that is not
/// UTF-8 is refused (`None`, nothing appended), unless `replace`, which writes U+FFFD for each
/// invalid sequence and returns `Some(true)`.
pub fn write_json_text(out: &mut Vec<u8>, value: &[u8], replace: bool) -> Option<bool> {
    // Most fields are short ASCII with nothing to escape: one SWAR pass proves it. Otherwise
    // validation is a fast scan on valid text; only invalid input pays for the chunking.
    if plain_ascii(value) {
        out.reserve(value.len() + 2);
        out.push(b'"');
        out.extend_from_slice(value);
    } else if std::str::from_utf8(value).is_ok() {
        out.reserve(value.len() + 2);
        out.push(b'"');
        escape_json(out, value);
    } else if replace {
        out.push(b'"');
        for chunk in value.utf8_chunks() {
            escape_json(out, chunk.valid().as_bytes());
            if !chunk.invalid().is_empty() {
                out.extend_from_slice("\u{FFFD}".as_bytes());
            }
        }
        out.push(b'"');
        return Some(true);
    } else {
        return None;
    }
    out.push(b'"');
    Some(false)
}

/// Whether `value` is ASCII with no byte a JSON string escapes, eight bytes at a time (a
/// false "no" only sends the value down the exact path).
#[inline]
fn plain_ascii(value: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let eq = |v: u64, b: u8| {
        let x = v ^ (LO * b as u64);
        x.wrapping_sub(LO) & !x
    };
    let mut chunks = value.chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        let below_space = v.wrapping_sub(LO * 0x20) & !v;
        if (below_space | v | eq(v, b'"') | eq(v, b'\\')) & HI != 0 {
            return false;
        }
    }
    chunks
        .remainder()
        .iter()
        .all(|&b| b < 0x80 && !ESCAPE[b as usize])
}

/// Whether a byte must be escaped in a JSON string: `"`, `\\` and the control characters.
const ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Appends valid UTF-8 `text` escaped for a JSON string, copying the runs between escapes.
#[inline]
fn escape_json(out: &mut Vec<u8>, text: &[u8]) {
    let mut start = 0;
    for (i, &b) in text.iter().enumerate() {
        if !ESCAPE[b as usize] {
            continue;
        }
        out.extend_from_slice(&text[start..i]);
        start = i + 1;
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 15) as usize]);
            }
        }
    }
    out.extend_from_slice(&text[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;

    fn decode(cols: &[&str], line: &str) -> (Vec<(String, ValueKind)>, KeyCheck) {
        let columns = Columns::new(cols.iter().copied());
        let mut dec = JsonDecoder::new(&columns);
        let mut buf = RecordBuf::default();
        buf.reset(0);
        let check = dec
            .decode(line.as_bytes(), 0, line.len(), &mut buf)
            .unwrap();
        let rec = Record::new(line.as_bytes(), &mut buf);
        let fields = rec
            .fields()
            .map(|(b, k)| (String::from_utf8_lossy(b).into_owned(), k))
            .collect();
        (fields, check)
    }

    #[test]
    fn values_by_column_in_any_order() {
        let (f, check) = decode(
            &["a", "b", "c"],
            r#"{"b": 2.5e3, "a":"x\"\u00e9", "z": [1,{"k":"]"}]}"#,
        );
        assert_eq!(f[0], ("x\"é".into(), ValueKind::Text));
        assert_eq!(f[1], ("2.5e3".into(), ValueKind::Json));
        assert_eq!(f[2].1, ValueKind::Null);
        assert_eq!(
            check,
            KeyCheck {
                extra: Some("z".into()),
                present: 2,
                missing: Some(2),
                ..KeyCheck::default()
            }
        );
    }

    #[test]
    fn rejects_what_is_not_an_object() {
        let cols = Columns::new(["a"]);
        let mut dec = JsonDecoder::new(&cols);
        let mut buf = RecordBuf::default();
        for bad in [
            "[1]",
            "{\"a\":1",
            "{\"a\":tru}",
            "{\"a\":1} x",
            "{\"a\":01x}",
            "{a:1}",
        ] {
            assert!(
                dec.decode(bad.as_bytes(), 0, bad.len(), &mut buf).is_err(),
                "{bad}"
            );
        }
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(dec
            .decode(deep.as_bytes(), 0, deep.len(), &mut buf)
            .is_err());
    }

    #[test]
    fn invalid_utf8_is_refused_or_replaced_when_asked_and_escapes_still_apply() {
        let mut out = b"x".to_vec();
        assert_eq!(write_json_text(&mut out, b"a\xffb\"\xc3", false), None);
        assert_eq!(out, b"x", "nothing appended when refused");
        assert_eq!(write_json_text(&mut out, b"a\xffb\"\xc3", true), Some(true));
        assert_eq!(out, "x\"a\u{FFFD}b\\\"\u{FFFD}\"".as_bytes());
        assert_eq!(
            write_json_text(&mut out, "é".as_bytes(), false),
            Some(false)
        );
    }

    #[test]
    fn the_encoder_refuses_a_record_with_text_that_is_not_utf8_naming_the_field() {
        let mut enc = JsonEncoder::new(&Columns::new(["a", "b"]));
        let mut out = b"before\n".to_vec();
        let rec = [(&b"ok"[..], ValueKind::Text), (b"x\xffy", ValueKind::Text)];
        assert_eq!(enc.record(&mut out, rec), Err(NotUtf8(1)));
        assert_eq!(out, b"before\n");
        enc.invalid_utf8(InvalidUtf8::Replace);
        assert_eq!(enc.record(&mut out, rec), Ok(1));
        assert_eq!(
            out,
            "before\n{\"a\":\"ok\",\"b\":\"x\u{FFFD}y\"}\n".as_bytes()
        );
    }

    fn check(cols: &[&str], line: &[u8]) -> (Vec<(Vec<u8>, ValueKind)>, KeyCheck) {
        let columns = Columns::new(cols.iter().copied());
        let mut dec = JsonDecoder::new(&columns);
        let mut buf = RecordBuf::default();
        buf.reset(0);
        let check = dec.decode(line, 0, line.len(), &mut buf).unwrap();
        let rec = Record::new(line, &mut buf);
        (rec.fields().map(|(b, k)| (b.to_vec(), k)).collect(), check)
    }

    #[test]
    fn lone_surrogates_are_found_and_pairs_decoded() {
        let (f, c) = check(&["a", "b"], br#"{"a":"x\ud800y","b":"\ud83d\ude00"}"#);
        assert_eq!(f[0].0, "x\u{FFFD}y".as_bytes());
        assert_eq!(f[1].0, "\u{1F600}".as_bytes());
        assert_eq!(c.replaced, 1);
        let bad = c.not_text.unwrap();
        assert_eq!((bad.column, bad.key.as_str()), (Some(0), "a"));
        // A low half alone, a high half before something else, one at the end.
        for line in [
            &br#"{"a":"\udc00","b":1}"#[..],
            br#"{"a":"\ud800\u0041","b":1}"#,
            br#"{"a":"x\ud800","b":1}"#,
        ] {
            let (_, c) = check(&["a", "b"], line);
            assert_eq!(c.not_text.and_then(|t| t.column), Some(0), "{line:?}");
        }
        let (_, c) = check(&["a"], br#"{"a":"\u00e9\ud83d\ude00"}"#);
        assert_eq!((c.not_text, c.replaced), (None, 0));
    }

    #[test]
    fn invalid_utf8_in_a_line_is_found_in_its_field_and_replaced() {
        let (f, c) = check(
            &["a", "b", "c"],
            b"{\"a\":\"ok\",\"b\":\"x\xffy\",\"c\":[\"\xfe\"]}",
        );
        assert_eq!(f[0], (b"ok".to_vec(), ValueKind::Text));
        assert_eq!(f[1], ("x\u{FFFD}y".as_bytes().to_vec(), ValueKind::Text));
        assert_eq!(
            f[2],
            ("[\"\u{FFFD}\"]".as_bytes().to_vec(), ValueKind::Json)
        );
        assert_eq!(c.replaced, 2);
        assert_eq!(c.not_text.unwrap().column, Some(1));
        // In a key that is not a column: no field to blame, still not text.
        let (_, c) = check(&["a"], b"{\"a\":1,\"k\xff\":2}");
        let bad = c.not_text.unwrap();
        assert_eq!((bad.column, c.replaced), (None, 0));
    }

    #[test]
    fn a_repeated_key_is_found_column_or_not() {
        let (_, c) = check(&["a", "b"], br#"{"a":1,"b":2,"a":3}"#);
        assert_eq!(c.duplicate.as_deref(), Some("a"));
        let (_, c) = check(&["a"], br#"{"a":1,"z":2,"z":3}"#);
        assert_eq!(c.duplicate.as_deref(), Some("z"));
        let (_, c) = check(&["a"], br#"{"a":{"k":1,"k":2}}"#);
        assert_eq!(
            c.duplicate, None,
            "nested objects are data, copied as they are"
        );
        assert_eq!(
            JsonDecoder::keys(br#"{"a":1,"b":2,"a":3}"#).unwrap(),
            ["a", "b"]
        );
    }

    /// The scanner and serde_json agree on every one-byte deletion or insertion of structural
    /// bytes in these lines (a deterministic cousin of `fuzz/fuzz_targets/jsonl.rs`): either
    /// both read an object or both refuse, except where serde_json refuses what the engine
    /// decides on later (lone surrogates) or limits differ (a number beyond a double's range).
    #[test]
    fn nested_validation_agrees_with_serde_json_on_mutations() {
        let bases: [&[u8]; 6] = [
            br#"{"a":[1,-2.5e+3,true,false,null,"x\"]",[],{}]}"#,
            br#"{"a":{"k":{"k":["\u00e9"]},"z":0}}"#,
            br#"{"a":[{"x":[1,{"y":"}"}]},[[]],"\\"]}"#,
            br#"{"a":{"":0.5E-1,"b":[true]}}"#,
            br#"{"a":[0,-0,1e5,12.75,"\/\b\f\n\r\t"]}"#,
            br#"{"a": [ 1 , { "b" : null } ] , "c" : { } }"#,
        ];
        let inserts = b"[]{},:\"\\0-.e+ tfn1";
        let mut lines: Vec<Vec<u8>> = Vec::new();
        for base in bases {
            lines.push(base.to_vec());
            for i in 0..base.len() {
                let mut v = base.to_vec();
                v.remove(i);
                lines.push(v);
                for &b in inserts {
                    let mut v = base.to_vec();
                    v.insert(i, b);
                    lines.push(v);
                }
            }
        }
        let mut agreed = 0;
        for line in &lines {
            let weir = JsonDecoder::keys(line);
            let serde: Result<serde_json::Map<String, serde_json::Value>, _> =
                serde_json::from_slice(line);
            match (&weir, &serde) {
                (Ok(_), Ok(_)) | (Err(_), Err(_)) => agreed += 1,
                (Ok(_), Err(e)) if e.to_string().contains("out of range") => {}
                _ => panic!(
                    "{}: weir {weir:?}, serde_json {serde:?}",
                    String::from_utf8_lossy(line)
                ),
            }
        }
        assert!(agreed > 1000, "{agreed}");
    }

    #[test]
    fn nested_values_are_validated_as_json() {
        let cols = Columns::new(["a"]);
        let mut dec = JsonDecoder::new(&cols);
        let mut buf = RecordBuf::default();
        for bad in [
            r#"{"a":[1,2,]}"#,
            r#"{"a":{"x" 1}}"#,
            r#"{"a":[01]}"#,
            r#"{"a":[1 2]}"#,
            r#"{"a":{"x":}}"#,
            r#"{"a":{1:2}}"#,
            r#"{"a":[,]}"#,
            r#"{"a":[tru]}"#,
            r#"{"a":["\u12"]}"#,
            r#"{"a":["\q"]}"#,
            "{\"a\":[\"\t\"]}",
            r#"{"a":[1}"#,
            r#"{"a":{"x":1]}"#,
            r#"{"a":[-]}"#,
            r#"{"a":[1.]}"#,
            r#"{"a":{"x":1,}}"#,
            r#"{"a":[1,2]"#,
        ] {
            assert!(
                dec.decode(bad.as_bytes(), 0, bad.len(), &mut buf).is_err(),
                "{bad}"
            );
        }
        for good in [
            r#"{"a":[]}"#,
            r#"{"a":{}}"#,
            r#"{"a":[ 1 , -2.5e+3 , true , false , null , "x\"]" , [ ] , { } ]}"#,
            r#"{"a":{ "k" : { "k" : [ "\ud83d\ude00" ] } , "z" : 0 }}"#,
        ] {
            let (f, _) = check(&["a"], good.as_bytes());
            assert_eq!(f[0].1, ValueKind::Json, "{good}");
            let v: serde_json::Value = serde_json::from_slice(&f[0].0).unwrap();
            assert!(v.is_array() || v.is_object(), "{good}");
        }
    }

    #[test]
    fn plain_ascii_finds_every_byte_that_needs_care_at_every_position() {
        for len in 0..20 {
            assert!(plain_ascii(&vec![b'a'; len]));
            for at in 0..len {
                for bad in (0u8..0x20).chain([b'"', b'\\', 0x80, 0xC3, 0xFF]) {
                    let mut v = vec![b'~'; len];
                    v[at] = bad;
                    assert!(!plain_ascii(&v), "{bad} at {at} of {len}");
                }
            }
        }
    }

    #[test]
    fn every_byte_value_round_trips_through_the_writer() {
        let all: String = (0u32..0x800).filter_map(char::from_u32).collect();
        let mut out = Vec::new();
        write_json_string(&mut out, all.as_bytes());
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, all);
    }

    #[test]
    fn encoder_names_extra_fields_and_fills_missing_ones() {
        let enc = JsonEncoder::new(&Columns::new(["a", "b"]));
        let mut out = Vec::new();
        enc.record(&mut out, [(&b"1"[..], ValueKind::Json)])
            .unwrap();
        enc.record(
            &mut out,
            [
                (&b"x"[..], ValueKind::Text),
                (b"", ValueKind::Null),
                (b"nan", ValueKind::Json),
            ],
        )
        .unwrap();
        assert_eq!(
            out,
            b"{\"a\":1,\"b\":null}\n{\"a\":\"x\",\"b\":null,\"column3\":\"nan\"}\n"
        );
    }

    #[test]
    fn names_of_extra_fields_never_repeat_a_column_name() {
        let v = (&b"v"[..], ValueKind::Text);
        let mut out = Vec::new();
        let enc = JsonEncoder::new(&Columns::new(["column3", "b"]));
        enc.record(&mut out, [v, v, v]).unwrap();
        assert_eq!(out, b"{\"column3\":\"v\",\"b\":\"v\",\"column3_\":\"v\"}\n");
        let enc = JsonEncoder::new(&Columns::new(["column3", "b", "column3_", "column4"]));
        out.clear();
        enc.record(&mut out, [v, v, v, v, v, v]).unwrap();
        assert_eq!(
            out,
            b"{\"column3\":\"v\",\"b\":\"v\",\"column3_\":\"v\",\"column4\":\"v\",\
              \"column5\":\"v\",\"column6\":\"v\"}\n"
        );
        let enc = JsonEncoder::new(&Columns::new(["column3", "column3_", "column2"]));
        out.clear();
        enc.record(&mut out, [v, v, v, v]).unwrap();
        assert_eq!(
            out,
            b"{\"column3\":\"v\",\"column3_\":\"v\",\"column2\":\"v\",\"column4\":\"v\"}\n"
        );
    }

    #[test]
    fn strings_round_trip_through_the_writer() {
        let mut out = Vec::new();
        write_json_string(&mut out, "a\"b\\c\n\u{1}é".as_bytes());
        assert_eq!(out, r#""a\"b\\c\n\u0001é""#.as_bytes());
        let v: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(v, "a\"b\\c\n\u{1}é");
    }
}
