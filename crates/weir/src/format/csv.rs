//! CSV/TSV decoding and encoding.
//!
//! The decoder follows csv-core's reading of RFC 4180 exactly (the property tests compare them):
//! records end at `\n`, `\r\n` or a lone `\r` outside quotes; empty lines are skipped; a quote
//! opens a quoted field only at a field start; `""` inside quotes is a quote; text after a closing
//! quote continues the field; a quote anywhere else is literal text.
//!
//! It works on 64-byte blocks: a bitmask of the structural bytes (delimiter, quote, CR, LF) is
//! built with SIMD compares, and the state machine only visits set bits, so the bytes inside a
//! field cost a fraction of a cycle each. The encoder quotes a field exactly when csv-core's
//! writer would (it holds a delimiter, quote, CR or LF), so output is canonical.

use super::Dialect;
use crate::record::{RecordBuf, ValueKind};

/// Iterates over the positions of structural bytes in a slice, 64 bytes at a time.
struct Structurals<'a> {
    input: &'a [u8],
    base: usize,
    mask: u64,
    needles: [u8; 4],
}

impl<'a> Structurals<'a> {
    fn new(input: &'a [u8], from: usize, needles: [u8; 4]) -> Structurals<'a> {
        let base = from & !63;
        let mut it = Structurals {
            input,
            base,
            mask: 0,
            needles,
        };
        if base < input.len() {
            it.mask = it.block_mask(base) & (!0u64 << (from - base));
        }
        it
    }

    #[inline]
    fn block_mask(&self, base: usize) -> u64 {
        let rest = &self.input[base..];
        if rest.len() >= 64 {
            let block: &[u8; 64] = rest[..64].try_into().expect("64 bytes");
            mask64(block, self.needles)
        } else {
            let mut block = [0u8; 64];
            block[..rest.len()].copy_from_slice(rest);
            let valid = if rest.len() == 64 {
                !0
            } else {
                (1u64 << rest.len()) - 1
            };
            mask64(&block, self.needles) & valid
        }
    }

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.base += 64;
            if self.base >= self.input.len() {
                return None;
            }
            self.mask = self.block_mask(self.base);
        }
        let bit = self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(self.base + bit)
    }
}

/// A bitmask of the bytes of `block` equal to any of `needles`.
#[inline]
fn mask64(block: &[u8; 64], needles: [u8; 4]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2 is part of the x86_64 baseline, so the intrinsics are always available,
        // and every load reads 16 bytes inside the 64-byte array.
        unsafe { mask64_sse2(block, needles) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let mut m = 0u64;
        for (i, &b) in block.iter().enumerate() {
            let hit = b == needles[0] || b == needles[1] || b == needles[2] || b == needles[3];
            m |= (hit as u64) << i;
        }
        m
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
unsafe fn mask64_sse2(block: &[u8; 64], needles: [u8; 4]) -> u64 {
    use std::arch::x86_64::*;
    // SAFETY (for the whole body): SSE2 is always present on x86_64; loads are unaligned and
    // stay within `block`.
    unsafe {
        let n0 = _mm_set1_epi8(needles[0] as i8);
        let n1 = _mm_set1_epi8(needles[1] as i8);
        let n2 = _mm_set1_epi8(needles[2] as i8);
        let n3 = _mm_set1_epi8(needles[3] as i8);
        let mut m = 0u64;
        for k in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * k) as *const __m128i);
            let a = _mm_or_si128(_mm_cmpeq_epi8(v, n0), _mm_cmpeq_epi8(v, n1));
            let b = _mm_or_si128(_mm_cmpeq_epi8(v, n2), _mm_cmpeq_epi8(v, n3));
            let bits = _mm_movemask_epi8(_mm_or_si128(a, b)) as u32 as u64;
            m |= bits << (16 * k);
        }
        m
    }
}

/// Decodes the records of one chunk, one at a time, into a [`RecordBuf`].
pub struct CsvDecoder<'a> {
    input: &'a [u8],
    structurals: Structurals<'a>,
    pos: usize,
    delimiter: u8,
    quote: u8,
    /// Physical line of `pos`.
    line: u64,
}

impl<'a> CsvDecoder<'a> {
    /// A decoder over `input`, a whole number of records; `first_line` is the line of byte 0.
    pub fn new(input: &'a [u8], dialect: &Dialect, first_line: u64) -> CsvDecoder<'a> {
        let needles = [dialect.delimiter, dialect.quote, b'\n', b'\r'];
        CsvDecoder {
            input,
            structurals: Structurals::new(input, 0, needles),
            pos: 0,
            delimiter: dialect.delimiter,
            quote: dialect.quote,
            line: first_line,
        }
    }

    /// A decoder that starts at `pos` (a record start) of `input`, on physical line `line`.
    pub fn at(input: &'a [u8], dialect: &Dialect, pos: usize, line: u64) -> CsvDecoder<'a> {
        let needles = [dialect.delimiter, dialect.quote, b'\n', b'\r'];
        CsvDecoder {
            input,
            structurals: Structurals::new(input, pos, needles),
            pos,
            delimiter: dialect.delimiter,
            quote: dialect.quote,
            line,
        }
    }

    /// Decodes the next record into `rec`; `false` when the chunk is done. The record's
    /// position (line, offset relative to the chunk) is set; empty lines are skipped.
    pub fn next_record(&mut self, rec: &mut RecordBuf) -> bool {
        let input = self.input;
        // Skip empty lines, as csv-core does; they still count as physical lines.
        loop {
            match input.get(self.pos) {
                None => return false,
                Some(b'\n') => {
                    self.pos += 1;
                    self.line += 1;
                    self.structurals.next();
                }
                Some(b'\r') => {
                    self.structurals.next();
                    self.pos += 1;
                    if input.get(self.pos) == Some(&b'\n') {
                        self.pos += 1;
                        self.structurals.next();
                    }
                    self.line += 1;
                }
                Some(_) => break,
            }
        }
        let start = self.pos;
        rec.reset(start);
        rec.set_position(self.line, start as u64);
        let mut field_start = start;
        let mut quoted_field = false;
        let mut in_quotes = false;
        let mut canonical = true;
        let mut plain = true;
        loop {
            let Some(p) = self.structurals.next() else {
                // End of input without a terminator.
                self.push_field(rec, field_start, input.len(), quoted_field);
                if in_quotes {
                    canonical = false;
                }
                rec.set_raw(input.len(), 0);
                self.pos = input.len();
                break;
            };
            let b = input[p];
            if in_quotes {
                if b == self.quote {
                    if input.get(p + 1) == Some(&self.quote) {
                        self.structurals.next();
                    } else {
                        in_quotes = false;
                    }
                } else if b == b'\n' || (b == b'\r' && input.get(p + 1) != Some(&b'\n')) {
                    self.line += 1;
                }
                continue;
            }
            if b == self.delimiter {
                self.push_field(rec, field_start, p, quoted_field);
                field_start = p + 1;
                quoted_field = false;
            } else if b == b'\n' {
                self.push_field(rec, field_start, p, quoted_field);
                rec.set_raw(p, 1);
                self.pos = p + 1;
                self.line += 1;
                break;
            } else if b == b'\r' {
                self.push_field(rec, field_start, p, quoted_field);
                let crlf = input.get(p + 1) == Some(&b'\n');
                if crlf {
                    self.structurals.next();
                }
                rec.set_raw(p, 1 + crlf as usize);
                self.pos = p + 1 + crlf as usize;
                self.line += 1;
                break;
            } else if p == field_start {
                in_quotes = true;
                quoted_field = true;
                canonical = false;
            } else {
                // A quote inside an unquoted field is literal, but the writer would quote it.
                canonical = false;
                plain &= quoted_field;
            }
        }
        rec.set_canonical(canonical, plain);
        true
    }

    #[inline(always)]
    fn push_field(&self, rec: &mut RecordBuf, start: usize, end: usize, quoted: bool) {
        if !quoted {
            // An empty unquoted field is NULL, a quoted empty one the empty string (DuckDB).
            let kind = if start == end {
                ValueKind::Null
            } else {
                ValueKind::Text
            };
            rec.push_input(start, end, kind);
            return;
        }
        // Unescape: skip the opening quote; `""` is a quote; the first other quote closes, and
        // everything after it is literal.
        let raw = &self.input[start + 1..end];
        let arena = rec.arena_mut();
        let from = arena.len();
        let mut i = 0;
        while i < raw.len() {
            match memchr::memchr(self.quote, &raw[i..]) {
                None => {
                    arena.extend_from_slice(&raw[i..]);
                    break;
                }
                Some(j) => {
                    arena.extend_from_slice(&raw[i..i + j]);
                    let q = i + j;
                    if raw.get(q + 1) == Some(&self.quote) {
                        arena.push(self.quote);
                        i = q + 2;
                    } else {
                        arena.extend_from_slice(&raw[q + 1..]);
                        break;
                    }
                }
            }
        }
        rec.push_arena_from(from, ValueKind::Text);
    }
}

/// Writes CSV records with csv-core's `QuoteStyle::Necessary` rules.
#[derive(Debug, Clone)]
pub struct CsvEncoder {
    delimiter: u8,
    quote: u8,
    special: [bool; 256],
}

impl CsvEncoder {
    /// An encoder for the dialect's delimiter and quote.
    pub fn new(dialect: &Dialect) -> CsvEncoder {
        let mut special = [false; 256];
        for b in [dialect.delimiter, dialect.quote, b'\n', b'\r'] {
            special[b as usize] = true;
        }
        CsvEncoder {
            delimiter: dialect.delimiter,
            quote: dialect.quote,
            special,
        }
    }

    /// Whether `value` holds a byte that forces quoting: eight bytes at a time (SWAR), since
    /// fields are short and a call to a SIMD search costs more than it saves on them.
    #[inline]
    fn needs_quotes(&self, value: &[u8]) -> bool {
        const LO: u64 = 0x0101_0101_0101_0101;
        const HI: u64 = 0x8080_8080_8080_8080;
        let has = |v: u64, b: u8| {
            let x = v ^ (LO * b as u64);
            x.wrapping_sub(LO) & !x & HI != 0
        };
        let mut chunks = value.chunks_exact(8);
        for c in &mut chunks {
            let v = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            if has(v, self.delimiter) || has(v, self.quote) || has(v, b'\n') || has(v, b'\r') {
                return true;
            }
        }
        chunks.remainder().iter().any(|&b| self.special[b as usize])
    }

    /// Appends one field, quoted if it needs to be.
    #[inline]
    pub fn field(&self, out: &mut Vec<u8>, value: &[u8]) {
        if !self.needs_quotes(value) {
            out.extend_from_slice(value);
            return;
        }
        out.push(self.quote);
        let mut rest = value;
        while let Some(i) = memchr::memchr(self.quote, rest) {
            out.extend_from_slice(&rest[..=i]);
            out.push(self.quote);
            rest = &rest[i + 1..];
        }
        out.extend_from_slice(rest);
        out.push(self.quote);
    }

    /// Appends a whole record of text fields and its `\n` terminator (an empty field is written
    /// empty).
    pub fn record<'v, I>(&self, out: &mut Vec<u8>, fields: I)
    where
        I: IntoIterator<Item = &'v [u8]>,
    {
        let as_text = |v: &'v [u8]| {
            (
                v,
                if v.is_empty() {
                    ValueKind::Null
                } else {
                    ValueKind::Text
                },
            )
        };
        self.record_values(out, fields.into_iter().map(as_text));
    }

    /// Appends a record of typed values: NULL is an empty field and the empty string is `""`,
    /// so the distinction survives a round trip (as DuckDB and Polars write it).
    pub fn record_values<'v, I>(&self, out: &mut Vec<u8>, fields: I)
    where
        I: IntoIterator<Item = (&'v [u8], ValueKind)>,
    {
        self.record_hinted(out, fields.into_iter().map(|(v, k)| (v, k, false)));
    }

    /// As [`CsvEncoder::record_values`], with a hint per field that it needs no quoting check.
    pub fn record_hinted<'v, I>(&self, out: &mut Vec<u8>, fields: I)
    where
        I: IntoIterator<Item = (&'v [u8], ValueKind, bool)>,
    {
        let start = out.len();
        let mut n = 0;
        for (value, kind, plain) in fields {
            if n > 0 {
                out.push(self.delimiter);
            }
            if kind == ValueKind::Null {
                // Empty, whatever the bytes (a JSON `null` keeps its text).
            } else if value.is_empty() {
                out.push(self.quote);
                out.push(self.quote);
            } else if plain {
                out.extend_from_slice(value);
            } else {
                self.field(out, value);
            }
            n += 1;
        }
        if n == 1 && out.len() == start {
            out.push(self.quote);
            out.push(self.quote);
        }
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Format;
    use crate::record::Record;

    fn decode(input: &[u8]) -> Vec<Vec<String>> {
        let dialect = Dialect::new(Format::Csv);
        let mut dec = CsvDecoder::new(input, &dialect, 1);
        let mut buf = RecordBuf::default();
        let mut out = Vec::new();
        while dec.next_record(&mut buf) {
            let rec = Record::new(input, &mut buf);
            out.push(
                rec.fields()
                    .map(|(b, _)| String::from_utf8_lossy(b).into_owned())
                    .collect(),
            );
        }
        out
    }

    #[test]
    fn messy_quotes_read_as_rfc_readers_do() {
        assert_eq!(
            decode(b"5'10\",\"ab\"cd,\"x\"\"y\"\n"),
            vec![vec!["5'10\"", "abcd", "x\"y"]]
        );
    }

    #[test]
    fn crlf_lone_cr_empty_lines_and_no_final_newline() {
        assert_eq!(
            decode(b"a,b\r\n\r\nc,d\re,\n\n,f"),
            vec![vec!["a", "b"], vec!["c", "d"], vec!["e", ""], vec!["", "f"]]
        );
    }

    #[test]
    fn empty_unquoted_is_null_and_quoted_empty_is_text() {
        let input = b"a,,\"\"\n";
        let dialect = Dialect::new(Format::Csv);
        let mut dec = CsvDecoder::new(input, &dialect, 1);
        let mut buf = RecordBuf::default();
        assert!(dec.next_record(&mut buf));
        let rec = Record::new(input, &mut buf);
        let kinds: Vec<ValueKind> = rec.fields().map(|(_, k)| k).collect();
        assert_eq!(kinds, [ValueKind::Text, ValueKind::Null, ValueKind::Text]);
    }

    #[test]
    fn long_fields_cross_blocks() {
        let long = "x".repeat(200);
        let input = format!("{long},\"{long}\n{long}\"\n");
        let rows = decode(input.as_bytes());
        assert_eq!(rows, vec![vec![long.clone(), format!("{long}\n{long}")]]);
    }

    #[test]
    fn line_numbers_count_newlines_inside_quotes() {
        let input = b"a\n\"b\nc\"\r\n\nd\n";
        let dialect = Dialect::new(Format::Csv);
        let mut dec = CsvDecoder::new(input, &dialect, 10);
        let mut buf = RecordBuf::default();
        let mut lines = Vec::new();
        while dec.next_record(&mut buf) {
            lines.push(Record::new(input, &mut buf).line());
        }
        assert_eq!(lines, vec![10, 11, 14]);
    }

    #[test]
    fn typed_records_keep_null_apart_from_the_empty_string() {
        let enc = CsvEncoder::new(&Dialect::new(Format::Csv));
        let mut out = Vec::new();
        let fields = [
            (&b"null"[..], ValueKind::Null),
            (b"", ValueKind::Text),
            (b"1", ValueKind::Json),
        ];
        enc.record_values(&mut out, fields);
        assert_eq!(out, b",\"\",1\n");
    }

    #[test]
    fn quoting_check_finds_special_bytes_at_every_position() {
        let enc = CsvEncoder::new(&Dialect::new(Format::Csv));
        for len in 0..20 {
            assert!(!enc.needs_quotes(&vec![b'a'; len]));
            for at in 0..len {
                for special in [b',', b'"', b'\n', b'\r'] {
                    let mut v = vec![0xC3u8; len];
                    v[at] = special;
                    assert!(enc.needs_quotes(&v), "{special} at {at} of {len}");
                }
            }
        }
    }

    #[test]
    fn encoder_quotes_only_when_needed() {
        let enc = CsvEncoder::new(&Dialect::new(Format::Csv));
        let mut out = Vec::new();
        enc.record(&mut out, [&b"a b"[..], b"c,d", b"e\"f", b""]);
        enc.record(&mut out, [&b""[..]]);
        assert_eq!(out, b"a b,\"c,d\",\"e\"\"f\",\n\"\"\n");
    }
}
