//! What the fuzz targets share: an independent serial reading of CSV (csv-core's reader, and
//! a four-state quote machine for where a quoted field opens), physical line numbering, and
//! the choice of dialect from a fuzz input's first byte.
//!
//! The targets in `fuzz_targets/` compare weir's splitter and decoder with this reference; see
//! `.ci/fuzz` for how they run.

use csv_core::{ReadFieldResult, ReaderBuilder};
use weir::{Dialect, Format, ValueKind};

/// One field as the reference reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefField {
    /// The field's bytes, unescaped.
    pub bytes: Vec<u8>,
    /// Whether it began with a quote (so an empty one is the empty string, not NULL).
    pub quoted: bool,
}

impl RefField {
    /// The kind weir gives the field: an empty unquoted field is NULL, anything else text.
    pub fn kind(&self) -> ValueKind {
        if self.bytes.is_empty() && !self.quoted {
            ValueKind::Null
        } else {
            ValueKind::Text
        }
    }
}

/// One record as the reference reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefRecord {
    /// Position of the record's first byte (after any empty lines before it).
    pub start: usize,
    /// The fields, in order.
    pub fields: Vec<RefField>,
}

/// Reads `input` with csv-core's reader (empty lines skipped, `\r`, `\n` and `\r\n` ending
/// records), noting where each record starts and which fields were quoted. A byte order mark
/// at the start is data (csv-core would skip it, as weir's splitter already has).
pub fn csv_records(input: &[u8], delimiter: u8, quote: u8) -> Vec<RefRecord> {
    let mut reader = ReaderBuilder::new()
        .delimiter(delimiter)
        .quote(quote)
        .build();
    // csv-core skips one leading BOM: give it one to skip, and count positions after it.
    const BOM: usize = 3;
    let with_bom = [&b"\xEF\xBB\xBF"[..], input].concat();
    let input = &with_bom[..];
    let mut records = Vec::new();
    let mut fields: Vec<RefField> = Vec::new();
    let mut field = Vec::new();
    let mut out = [0u8; 256];
    let mut pos = 0;
    let mut field_start = BOM;
    let mut record_start = BOM;
    loop {
        // An empty slice tells csv-core the input has ended.
        let (result, nin, nout) = reader.read_field(&input[pos..], &mut out);
        pos += nin;
        field.extend_from_slice(&out[..nout]);
        match result {
            ReadFieldResult::InputEmpty | ReadFieldResult::OutputFull => {}
            ReadFieldResult::Field { record_end } => {
                let mut raw = field_start;
                if fields.is_empty() {
                    // The terminator of the previous record and empty lines precede it.
                    while raw < pos && matches!(input[raw], b'\r' | b'\n') {
                        raw += 1;
                    }
                    record_start = raw;
                }
                let quoted = raw < pos && input[raw] == quote;
                fields.push(RefField {
                    bytes: std::mem::take(&mut field),
                    quoted,
                });
                field_start = pos;
                if record_end {
                    records.push(RefRecord {
                        start: record_start - BOM,
                        fields: std::mem::take(&mut fields),
                    });
                }
            }
            ReadFieldResult::End => break,
        }
    }
    records
}

/// Where the quoted field that `input` ends inside opens, if it ends inside one: the RFC 4180
/// reading, state by state (a quote opens a field only at its start; `""` inside is a quote;
/// text after a closing quote continues the field unquoted).
pub fn open_quote(input: &[u8], delimiter: u8, quote: u8) -> Option<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    let mut open = 0;
    for (i, &b) in input.iter().enumerate() {
        let ends_field = b == delimiter || b == b'\n' || b == b'\r';
        state = match state {
            State::FieldStart if b == quote => {
                open = i;
                State::Quoted
            }
            State::Quoted if b == quote => State::QuoteInQuoted,
            State::Quoted => State::Quoted,
            State::QuoteInQuoted if b == quote => State::Quoted,
            _ if ends_field => State::FieldStart,
            _ => State::Unquoted,
        };
    }
    (state == State::Quoted).then_some(open)
}

/// The physical line (1-based) of byte `at`: one more than the `\n`s, and the `\r`s not
/// followed by `\n`, before it.
pub fn physical_line(input: &[u8], at: usize) -> u64 {
    let mut line = 1;
    for (i, &b) in input[..at].iter().enumerate() {
        if b == b'\n' || (b == b'\r' && input.get(i + 1) != Some(&b'\n')) {
            line += 1;
        }
    }
    line
}

/// Delimiters a fuzz input may choose (never a quote or a terminator).
pub const DELIMITERS: [u8; 4] = [b',', b'\t', b';', b'|'];
/// Quotes a fuzz input may choose.
pub const QUOTES: [u8; 2] = [b'"', b'\''];

/// The CSV dialect (with a header row) that bits of `choice` select.
pub fn dialect(choice: u8) -> Dialect {
    let mut d = Dialect::new(Format::Csv);
    d.delimiter = DELIMITERS[(choice & 3) as usize];
    d.quote = QUOTES[((choice >> 2) & 1) as usize];
    d
}

/// A decoded record: its line, its byte offset and its fields with their kinds.
pub type Decoded = (u64, u64, Vec<(Vec<u8>, ValueKind)>);

/// Decodes `input` with weir's CSV decoder: each record's line, byte offset and fields.
pub fn weir_records(input: &[u8], dialect: &Dialect, first_line: u64) -> Vec<Decoded> {
    let mut out = Vec::new();
    weir::fuzzing::for_each_csv_record(input, dialect, first_line, |rec| {
        let fields = rec.fields().map(|(b, k)| (b.to_vec(), k)).collect();
        out.push((rec.line(), rec.byte_offset(), fields));
    });
    out
}

/// The reference records in the shape [`weir_records`] gives, for a slice that starts at
/// byte `offset` of the input and on line `first_line`.
pub fn expected_records(
    input: &[u8],
    dialect: &Dialect,
    first_line: u64,
    offset: u64,
) -> Vec<Decoded> {
    csv_records(input, dialect.delimiter, dialect.quote)
        .into_iter()
        .map(|r| {
            let fields = r
                .fields
                .iter()
                .map(|f| (f.bytes.clone(), f.kind()))
                .collect();
            let line = first_line + physical_line(input, r.start) - 1;
            (line, offset + r.start as u64, fields)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_reads_messy_quotes_like_python() {
        let recs = csv_records(b"\r\n5'10\",x\r\n\"ab\"cd,\"q\"\"q\",\"\"", b',', b'"');
        let fields: Vec<Vec<&[u8]>> = recs
            .iter()
            .map(|r| r.fields.iter().map(|f| &f.bytes[..]).collect())
            .collect();
        assert_eq!(
            fields,
            vec![vec![&b"5'10\""[..], b"x"], vec![b"abcd", b"q\"q", b""]]
        );
        assert_eq!(recs[0].start, 2);
        assert_eq!(recs[1].start, 11);
        assert!(recs[1].fields[2].quoted);
        assert_eq!(open_quote(b"a,\"b\"\"\n", b',', b'"'), Some(2));
        assert_eq!(open_quote(b"a,\"b\"\"\"\n", b',', b'"'), None);
        assert_eq!(physical_line(b"a\r\nb\rc\n", 5), 3);
        let bom = csv_records(b"\xEF\xBB\xBF\"a\"", b',', b'"');
        assert_eq!(bom[0].fields[0].bytes, b"\xEF\xBB\xBF\"a\"");
        assert!(!bom[0].fields[0].quoted);
    }
}
