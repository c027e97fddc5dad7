//! Records and columns: the row every step sees and the names it is bound against.
//!
//! The bottom of the library: decoders fill a [`RecordBuf`], transforms read and change a
//! [`Record`] by field index, and every step binds its column names against [`Columns`] once,
//! before the run. A field is a span of the chunk it was decoded from, or of the record's small
//! arena when it was unescaped or set by a step, so decoding copies nothing it need not.

use std::borrow::Cow;

use serde::Serialize;

/// The column names of a record stream, after a transform or of the input.
#[derive(Clone, Default, Serialize)]
pub struct Columns {
    names: Vec<String>,
    /// Each name's index, or `None` when several columns have it: built on the first lookup
    /// in a wide header, so that steps naming many columns bind in linear time.
    #[serde(skip)]
    index: std::sync::OnceLock<std::collections::HashMap<String, Option<usize>>>,
}

impl PartialEq for Columns {
    fn eq(&self, other: &Columns) -> bool {
        self.names == other.names
    }
}

impl Eq for Columns {}

impl std::fmt::Debug for Columns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Columns")
            .field("names", &self.names)
            .finish()
    }
}

/// Headers up to this width are searched; wider ones are hashed once.
const SEARCHED_COLUMNS: usize = 32;

impl Columns {
    /// Columns with the given names.
    pub fn new<I, S>(names: I) -> Columns
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Columns {
            names: names.into_iter().map(Into::into).collect(),
            index: std::sync::OnceLock::new(),
        }
    }

    /// The names, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no columns.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The index of the column with this exact name; `None` when there is none, and also when
    /// several columns have it (a header may repeat a name: see [`Columns::positions`]), so
    /// that a step never picks one of them silently.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        if self.names.len() > SEARCHED_COLUMNS {
            let index = self.index.get_or_init(|| {
                let mut index = std::collections::HashMap::with_capacity(self.names.len());
                for (i, n) in self.names.iter().enumerate() {
                    index
                        .entry(n.clone())
                        .and_modify(|at| *at = None)
                        .or_insert(Some(i));
                }
                index
            });
            return index.get(name).copied().flatten();
        }
        let mut found = self.names.iter().enumerate().filter(|(_, n)| *n == name);
        match (found.next(), found.next()) {
            (Some((i, _)), None) => Some(i),
            _ => None,
        }
    }

    /// The indexes of every column with this exact name.
    pub fn positions(&self, name: &str) -> Vec<usize> {
        (0..self.names.len())
            .filter(|&i| self.names[i] == name)
            .collect()
    }

    /// The first name that more than one column has, with the indexes of those columns.
    pub fn first_duplicate(&self) -> Option<(&str, Vec<usize>)> {
        let mut seen = std::collections::HashSet::with_capacity(self.names.len());
        let name = self.names.iter().find(|n| !seen.insert(n.as_str()))?;
        Some((name.as_str(), self.positions(name)))
    }

    /// The column name closest to `name` (edit distance, case-insensitive), for suggestions.
    pub fn nearest(&self, name: &str) -> Option<&str> {
        let want = name.to_lowercase();
        self.names
            .iter()
            .map(|n| (edit_distance(&want, &n.to_lowercase()), n))
            .filter(|(d, n)| *d <= (n.chars().count().max(want.chars().count()) / 2).max(2))
            .min_by_key(|(d, _)| *d)
            .map(|(_, n)| n.as_str())
    }
}

/// Levenshtein distance over chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// What kind of value a field holds; matters when a record is re-encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueKind {
    /// Text (a CSV field, a JSON string after unescaping).
    Text,
    /// A JSON value kept as its raw text: a number, `true`/`false`, an array or object.
    Json,
    /// No value: a JSON `null` or an absent key.
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Input,
    Arena,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldSpan {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) place: Place,
    pub(crate) kind: ValueKind,
}

/// The reusable storage behind a [`Record`]: field spans, an arena for unescaped or new values,
/// and where the record sits in the input. One per worker; no allocation per record once warm.
#[derive(Debug, Default)]
pub struct RecordBuf {
    pub(crate) fields: Vec<FieldSpan>,
    pub(crate) scratch: Vec<FieldSpan>,
    pub(crate) arena: Vec<u8>,
    pub(crate) raw_start: usize,
    pub(crate) raw_end: usize,
    /// Bytes after the raw span that end it (`\n`, `\r\n`, `\r`, or 0 at end of input).
    pub(crate) term_len: usize,
    pub(crate) line: u64,
    /// Offset of the record in its chunk; `base` is the chunk's offset in the input.
    pub(crate) byte_offset: u64,
    pub(crate) base: u64,
    pub(crate) changed: bool,
    pub(crate) canonical: bool,
    /// Whether every field still in the input holds no delimiter, quote, CR or LF, so a CSV
    /// writer of the same dialect can copy it without looking (set by the CSV decoder).
    pub(crate) plain_input: bool,
    /// Claims on ordered gates made by the chain for this record: (gate index, key hash).
    pub(crate) claims: Vec<(u32, u128)>,
    /// The gate index of the current step's first gate (set by the chain before each step).
    pub(crate) gate_base: u32,
}

impl RecordBuf {
    /// Empties the buffer for the next record starting at `raw_start`.
    pub(crate) fn reset(&mut self, raw_start: usize) {
        self.fields.clear();
        self.arena.clear();
        self.raw_start = raw_start;
        self.raw_end = raw_start;
        self.term_len = 0;
        self.changed = false;
        self.canonical = true;
        self.plain_input = false;
        self.claims.clear();
    }

    /// The claims made on ordered gates for the current record.
    pub(crate) fn claims(&self) -> &[(u32, u128)] {
        &self.claims
    }

    pub(crate) fn set_gate_base(&mut self, base: u32) {
        self.gate_base = base;
    }

    #[inline(always)]
    pub(crate) fn push_input(&mut self, start: usize, end: usize, kind: ValueKind) {
        self.fields.push(FieldSpan {
            start,
            end,
            place: Place::Input,
            kind,
        });
    }

    /// Starts a field in the arena that the caller fills with [`RecordBuf::arena_mut`].
    pub(crate) fn arena_mut(&mut self) -> &mut Vec<u8> {
        &mut self.arena
    }

    pub(crate) fn push_arena_from(&mut self, start: usize, kind: ValueKind) {
        self.fields.push(FieldSpan {
            start,
            end: self.arena.len(),
            place: Place::Arena,
            kind,
        });
    }

    pub(crate) fn set_raw(&mut self, end: usize, term_len: usize) {
        self.raw_end = end;
        self.term_len = term_len;
    }

    pub(crate) fn set_position(&mut self, line: u64, byte_offset: u64) {
        self.line = line;
        self.byte_offset = byte_offset;
    }

    /// Sets the input offset of the chunk the next records come from.
    pub(crate) fn set_base(&mut self, base: u64) {
        self.base = base;
    }

    pub(crate) fn set_canonical(&mut self, canonical: bool, plain_input: bool) {
        self.canonical = canonical;
        self.plain_input = plain_input;
    }

    /// Length of the record's raw bytes with its terminator.
    pub(crate) fn raw_len(&self) -> usize {
        self.raw_end - self.raw_start + self.term_len
    }

    pub(crate) fn field_count(&self) -> usize {
        self.fields.len()
    }

    /// Makes the record exactly `n` fields wide: NULLs added or fields dropped. A record so
    /// changed is encoded, never copied raw.
    pub(crate) fn fit_fields(&mut self, n: usize) {
        if self.fields.len() == n {
            return;
        }
        self.fields.resize(
            n,
            FieldSpan {
                start: 0,
                end: 0,
                place: Place::Arena,
                kind: ValueKind::Null,
            },
        );
        self.changed = true;
    }

    /// Marks the record as differing from its raw bytes (so it is encoded, not copied).
    pub(crate) fn mark_changed(&mut self) {
        self.changed = true;
    }
}

/// A 128-bit hash of a key: two independent SipHash-1-3 passes. Collisions between distinct
/// keys are negligible (about 2^-64 after 2^32 keys).
pub(crate) fn key_hash(key: &[u8]) -> u128 {
    use std::hash::{Hash, Hasher};
    let mut a = std::hash::DefaultHasher::new();
    0x5eed_u64.hash(&mut a);
    key.hash(&mut a);
    let mut b = std::hash::DefaultHasher::new();
    0xface_u64.hash(&mut b);
    key.hash(&mut b);
    ((a.finish() as u128) << 64) | b.finish() as u128
}

/// One record, as transforms see it: fields by index, its position in the input, its raw bytes.
pub struct Record<'a> {
    input: &'a [u8],
    buf: &'a mut RecordBuf,
}

impl<'a> Record<'a> {
    pub(crate) fn set_gate_base(&mut self, base: u32) {
        self.buf.set_gate_base(base);
    }

    pub(crate) fn new(input: &'a [u8], buf: &'a mut RecordBuf) -> Record<'a> {
        Record { input, buf }
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.buf.fields.len()
    }

    /// Whether the record has no fields.
    pub fn is_empty(&self) -> bool {
        self.buf.fields.is_empty()
    }

    fn bytes_of(&self, f: &FieldSpan) -> &[u8] {
        match f.place {
            Place::Input => &self.input[f.start..f.end],
            Place::Arena => &self.buf.arena[f.start..f.end],
        }
    }

    /// The bytes of field `i` (unescaped), or `None` past the last field.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.buf.fields.get(i).map(|f| self.bytes_of(f))
    }

    /// Field `i` as text, or `None` past the last field or when it is not valid UTF-8.
    pub fn get_str(&self, i: usize) -> Option<&str> {
        self.get(i).and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The kind of value field `i` holds.
    pub fn kind(&self, i: usize) -> Option<ValueKind> {
        self.buf.fields.get(i).map(|f| f.kind)
    }

    /// Replaces field `i` with text (extending the record with empty fields if needed).
    pub fn set(&mut self, i: usize, value: &[u8]) {
        self.set_value(i, value, ValueKind::Text);
    }

    /// Replaces field `i` with a value of the given kind.
    pub fn set_value(&mut self, i: usize, value: &[u8], kind: ValueKind) {
        let start = self.buf.arena.len();
        self.buf.arena.extend_from_slice(value);
        let span = FieldSpan {
            start,
            end: self.buf.arena.len(),
            place: Place::Arena,
            kind,
        };
        while self.buf.fields.len() <= i {
            self.buf.fields.push(FieldSpan {
                start,
                end: start,
                place: Place::Arena,
                kind: ValueKind::Null,
            });
        }
        self.buf.fields[i] = span;
        self.buf.changed = true;
    }

    /// Appends a field.
    pub fn push(&mut self, value: &[u8]) {
        let i = self.len();
        self.set(i, value);
    }

    /// Keeps only the fields at `indexes`, in that order (an index past the end gives a null).
    pub fn select(&mut self, indexes: &[usize]) {
        let buf = &mut *self.buf;
        buf.scratch.clear();
        for &i in indexes {
            let f = buf.fields.get(i).copied().unwrap_or(FieldSpan {
                start: 0,
                end: 0,
                place: Place::Arena,
                kind: ValueKind::Null,
            });
            buf.scratch.push(f);
        }
        std::mem::swap(&mut buf.fields, &mut buf.scratch);
        buf.changed = true;
    }

    /// Sets field `i` to NULL (written as an empty CSV field or a JSON `null`).
    pub fn set_null(&mut self, i: usize) {
        self.set_value(i, b"", ValueKind::Null);
    }

    /// Whether field `i` is NULL (an empty unquoted CSV field, a JSON `null` or absent key).
    pub fn is_null(&self, i: usize) -> bool {
        self.kind(i).is_none_or(|k| k == ValueKind::Null)
    }

    /// Claims `key` at this step's ordered gate number `gate` (see
    /// [`crate::transform::Gate`]): the committer decides, in input order, whether the record
    /// passes. Keys are kept as 128-bit hashes.
    pub fn claim(&mut self, gate: usize, key: &[u8]) {
        let index = self.buf.gate_base + gate as u32;
        self.buf.claims.push((index, key_hash(key)));
    }

    /// Whether a transform has changed the record.
    pub fn is_changed(&self) -> bool {
        self.buf.changed
    }

    /// Physical line number (1-based) where the record starts.
    pub fn line(&self) -> u64 {
        self.buf.line
    }

    /// Byte offset in the input where the record starts.
    pub fn byte_offset(&self) -> u64 {
        self.buf.base + self.buf.byte_offset
    }

    /// The record's raw input bytes, without its terminator.
    pub fn raw(&self) -> &[u8] {
        &self.input[self.buf.raw_start..self.buf.raw_end]
    }

    /// The raw span and whether copying it as-is is a correct encoding in the input dialect.
    pub(crate) fn passthrough(&self) -> Option<(usize, usize, usize)> {
        (!self.buf.changed && self.buf.canonical).then_some((
            self.buf.raw_start,
            self.buf.raw_end,
            self.buf.term_len,
        ))
    }

    /// Iterates over the fields' bytes and kinds.
    pub fn fields(&self) -> impl Iterator<Item = (&[u8], ValueKind)> + '_ {
        self.buf.fields.iter().map(|f| (self.bytes_of(f), f.kind))
    }

    /// The fields with, for each, whether it is known to need no CSV quoting in the input's
    /// dialect (an unquoted input field the transforms left in place).
    pub(crate) fn fields_hinted(&self) -> impl Iterator<Item = (&[u8], ValueKind, bool)> + '_ {
        let plain = self.buf.plain_input;
        self.buf
            .fields
            .iter()
            .map(move |f| (self.bytes_of(f), f.kind, plain && f.place == Place::Input))
    }

    /// Field `i` as text for messages: lossy UTF-8, `None` past the end.
    pub fn display(&self, i: usize) -> Option<Cow<'_, str>> {
        self.get(i).map(String::from_utf8_lossy)
    }
}

/// `[0, 2, 5]` as "1, 3 and 6" (1-based, as users count columns).
pub(crate) fn list_positions(positions: &[usize]) -> String {
    let words: Vec<String> = positions.iter().map(|p| (p + 1).to_string()).collect();
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => words.concat(),
    }
}
