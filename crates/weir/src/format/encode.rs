//! Output encoding in any of the formats, whatever the input's: the encoder a worker picks by
//! the output dialect.
//!
//! The rules, per output format:
//! - **CSV/TSV**: a header row of the output columns (unless the dialect has none), then one
//!   row per record, quoted only where needed. NULL is an empty field and the empty string
//!   `""`, so the two stay apart; a JSON value (number, boolean, array, object) is its raw text.
//! - **JSON Lines**: one object per record with the output columns as keys; text is a JSON
//!   string, a JSON value is written raw, NULL is `null`. Text that is not UTF-8 cannot be a
//!   JSON string: its record is rejected (`encode-error`), or written with U+FFFD under
//!   [`InvalidUtf8::Replace`] and counted.
//! - **Lines**: exactly one output column; its value is the line (NULL is an empty line). A
//!   value holding a line break cannot be one line, so its record is rejected (`encode-error`)
//!   rather than silently split in two.
//! - **Parquet**: a binary row per record (see [`super::parquet`]) that the committer decodes
//!   into column batches; no header. A value that does not convert to its column's type is
//!   rejected (`encode-error`), and so is text that is not UTF-8 (as for JSON Lines).

use super::csv::CsvEncoder;
use super::jsonl::{JsonEncoder, NotUtf8};
use super::parquet::{ParquetLayout, RowEncoder};
use super::{Dialect, EncodeError, Format, InvalidUtf8};
use crate::record::{Columns, Record, ValueKind};

/// Encodes records in an output dialect.
#[derive(Debug, Clone)]
pub struct Encoder {
    kind: Kind,
    /// Whether the input's "needs no quoting" hints hold in the output dialect.
    hints: bool,
    /// Text values written with U+FFFD in place of invalid UTF-8 since the last
    /// [`Encoder::take_replaced`].
    replaced: u64,
}

// One per worker: the CSV quoting table stays inline rather than behind a pointer per record.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
enum Kind {
    Csv(CsvEncoder, bool),
    Jsonl(JsonEncoder),
    Lines,
    Parquet(RowEncoder),
}

/// Checks that `columns` can be written in `output`: at least one column in every format
/// (a record of no fields would be a blank CSV line, an empty JSON object or a Parquet file
/// of no columns, while the report counted the records as written); exactly one for lines
/// output; distinct names for JSON Lines and Parquet. The error names the columns, for a usage
/// error before anything is written.
pub fn check_columns(output: &Dialect, columns: &Columns) -> Result<(), String> {
    if columns.is_empty() {
        return Err(format!(
            "the pipeline leaves no columns to write: its steps drop every column of the input \
             (keep at least one column for the {} output)",
            output.format.name()
        ));
    }
    if output.format == Format::Lines && columns.len() != 1 {
        return Err(format!(
            "lines output takes exactly one column, the pipeline has {}: {} (pick one with \
             --select, or choose another --output-format)",
            columns.len(),
            columns.names().join(", ")
        ));
    }
    if output.format.names_columns() {
        if let Some((name, at)) = columns.first_duplicate() {
            return Err(format!(
                "{} output needs distinct column names, and the header has '{name}' at \
                 positions {} (--select the columns you need by \
                 other names, or write csv/tsv, which keeps the header as it is)",
                output.format.name(),
                crate::record::list_positions(&at)
            ));
        }
    }
    Ok(())
}

impl Encoder {
    /// An encoder writing `output` for records read in `input`, with these output columns.
    pub fn new(output: &Dialect, input: &Dialect, columns: &Columns) -> Encoder {
        let kind = match output.format {
            Format::Csv | Format::Tsv => Kind::Csv(CsvEncoder::new(output), output.header),
            Format::Jsonl => Kind::Jsonl(JsonEncoder::new(columns)),
            Format::Lines => Kind::Lines,
            Format::Parquet => Kind::Parquet(RowEncoder::new(std::sync::Arc::new(
                ParquetLayout::new(columns, vec![None; columns.len()]),
            ))),
        };
        Encoder {
            kind,
            hints: output.same_encoding(input),
            replaced: 0,
        }
    }

    /// Sets what to do with text that is not UTF-8 where the output needs UTF-8 (JSON Lines,
    /// Parquet); by default the record is refused.
    pub fn invalid_utf8(&mut self, policy: InvalidUtf8) -> &mut Encoder {
        match &mut self.kind {
            Kind::Jsonl(enc) => {
                enc.invalid_utf8(policy);
            }
            Kind::Parquet(enc) => enc.invalid_utf8 = policy,
            Kind::Csv(..) | Kind::Lines => {}
        }
        self
    }

    /// The number of text values written with U+FFFD in place of invalid UTF-8 since the last
    /// call (only with [`InvalidUtf8::Replace`]).
    pub fn take_replaced(&mut self) -> u64 {
        std::mem::take(&mut self.replaced)
    }

    /// An encoder writing Parquet rows of this layout (typed columns).
    pub(crate) fn parquet(layout: std::sync::Arc<ParquetLayout>) -> Encoder {
        Encoder {
            kind: Kind::Parquet(RowEncoder::new(layout)),
            hints: false,
            replaced: 0,
        }
    }

    /// Appends the header row, if the output has one: the column names, or, when given, the
    /// input header's fields as read (so unchanged columns keep their exact bytes).
    pub fn header(
        &self,
        out: &mut Vec<u8>,
        columns: &Columns,
        raw: Option<&[(Vec<u8>, ValueKind)]>,
    ) {
        let Kind::Csv(enc, true) = &self.kind else {
            return;
        };
        if columns.is_empty() {
            return;
        }
        match raw {
            Some(raw) => enc.record_values(out, raw.iter().map(|(b, k)| (b.as_slice(), *k))),
            None => enc.record(out, columns.names().iter().map(|n| n.as_bytes())),
        }
    }

    /// Appends one record; on error nothing is appended.
    pub fn record(&mut self, out: &mut Vec<u8>, record: &Record<'_>) -> Result<(), EncodeError> {
        match &mut self.kind {
            Kind::Csv(enc, _) if self.hints => enc.record_hinted(out, record.fields_hinted()),
            Kind::Csv(enc, _) => enc.record_values(out, record.fields()),
            Kind::Jsonl(enc) => match enc.record(out, record.fields()) {
                Ok(replaced) => self.replaced += u64::from(replaced),
                Err(NotUtf8(i)) => return Err(EncodeError::not_utf8(i)),
            },
            Kind::Parquet(enc) => self.replaced += u64::from(enc.record(out, record)?),
            Kind::Lines => {
                if record.len() > 1 {
                    return Err(EncodeError {
                        field: Some(1),
                        message: format!(
                            "lines output takes one field, the record has {}",
                            record.len()
                        ),
                    });
                }
                let value = record.get(0).unwrap_or_default();
                if memchr::memchr(b'\n', value).is_some() || value.last() == Some(&b'\r') {
                    return Err(EncodeError {
                        field: Some(0),
                        message: "the value holds a line break, which lines output cannot write"
                            .into(),
                    });
                }
                if record.kind(0) != Some(ValueKind::Null) {
                    out.extend_from_slice(value);
                }
                out.push(b'\n');
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::csv::CsvDecoder;
    use crate::format::jsonl::JsonDecoder;
    use crate::record::RecordBuf;

    /// Decodes one CSV record of `line` and encodes it as `output`.
    fn from_csv(line: &[u8], output: Format, columns: &[&str]) -> Result<Vec<u8>, EncodeError> {
        let input = Dialect::new(Format::Csv);
        let mut buf = RecordBuf::default();
        let mut dec = CsvDecoder::new(line, &input, 1);
        assert!(dec.next_record(&mut buf));
        let rec = Record::new(line, &mut buf);
        let columns = Columns::new(columns.iter().copied());
        let mut enc = Encoder::new(&Dialect::output_for(&input, output), &input, &columns);
        let mut out = Vec::new();
        enc.record(&mut out, &rec).map(|()| out)
    }

    /// Decodes one JSON Lines record and encodes it as `output`.
    fn from_json(line: &str, output: Format, columns: &[&str]) -> Vec<u8> {
        let input = Dialect::new(Format::Jsonl);
        let columns = Columns::new(columns.iter().copied());
        let mut dec = JsonDecoder::new(&columns);
        let mut buf = RecordBuf::default();
        buf.reset(0);
        dec.decode(line.as_bytes(), 0, line.len(), &mut buf)
            .expect("an object");
        let rec = Record::new(line.as_bytes(), &mut buf);
        let mut enc = Encoder::new(&Dialect::output_for(&input, output), &input, &columns);
        let mut out = Vec::new();
        enc.record(&mut out, &rec).expect("encodes");
        out
    }

    #[test]
    fn csv_to_jsonl_keeps_null_apart_from_the_empty_string() {
        let out = from_csv(
            b"1,,\"\",\"a,\"\"b\"\"\n\"\n",
            Format::Jsonl,
            &["a", "b", "c", "d"],
        );
        assert_eq!(
            out.unwrap(),
            b"{\"a\":\"1\",\"b\":null,\"c\":\"\",\"d\":\"a,\\\"b\\\"\\n\"}\n"
        );
    }

    #[test]
    fn csv_to_jsonl_escapes_keys_and_refuses_invalid_utf8() {
        let out = from_csv(b"x\n", Format::Jsonl, &["k\"ey"]).unwrap();
        assert_eq!(out, "{\"k\\\"ey\":\"x\"}\n".as_bytes());
        let err = from_csv(b"ok,x\xff\n", Format::Jsonl, &["a", "b"]).unwrap_err();
        assert_eq!(err.field, Some(1));
        assert!(err.message.contains("not UTF-8"), "{}", err.message);
        // CSV output keeps the bytes as they are.
        let out = from_csv(b"ok,x\xff\n", Format::Csv, &["a", "b"]).unwrap();
        assert_eq!(out, b"ok,x\xff\n");
    }

    #[test]
    fn parquet_text_refuses_invalid_utf8_unless_replacing() {
        let err = from_csv(b"ok,x\xff\n", Format::Parquet, &["a", "b"]).unwrap_err();
        assert_eq!(err.field, Some(1));
    }

    #[test]
    fn jsonl_to_csv_decodes_strings_and_keeps_other_values_raw() {
        let line = r#"{"s":"a,\"b\"","n":-1.5e3,"t":true,"z":null,"e":"","o":{"k":[1,"x"]}}"#;
        let out = from_json(line, Format::Csv, &["s", "n", "t", "z", "e", "o"]);
        assert_eq!(
            out,
            b"\"a,\"\"b\"\"\",-1.5e3,true,,\"\",\"{\"\"k\"\":[1,\"\"x\"\"]}\"\n"
        );
        let tsv = from_json(line, Format::Tsv, &["s", "n", "t", "z", "e", "o"]);
        assert_eq!(
            tsv,
            b"\"a,\"\"b\"\"\"\t-1.5e3\ttrue\t\t\"\"\t\"{\"\"k\"\":[1,\"\"x\"\"]}\"\n".as_slice()
        );
    }

    #[test]
    fn jsonl_to_jsonl_encoding_is_canonical() {
        let line = r#"{ "b" : "x\u00e9" , "a":[1, 2] }"#;
        let out = from_json(line, Format::Jsonl, &["a", "b", "c"]);
        assert_eq!(out, "{\"a\":[1, 2],\"b\":\"xé\",\"c\":null}\n".as_bytes());
    }

    #[test]
    fn csv_hints_are_not_trusted_across_delimiters() {
        // `a\tb` needs no quotes in CSV, but must be quoted in TSV.
        let out = from_csv(b"a\tb,c\n", Format::Tsv, &["x", "y"]).unwrap();
        assert_eq!(out, b"\"a\tb\"\tc\n");
    }

    #[test]
    fn lines_output_writes_the_value_and_null_as_an_empty_line() {
        assert_eq!(from_csv(b"a b\n", Format::Lines, &["x"]).unwrap(), b"a b\n");
        assert_eq!(from_csv(b"\"\"\n", Format::Lines, &["x"]).unwrap(), b"\n");
        assert_eq!(from_json(r#"{"x":null}"#, Format::Lines, &["x"]), b"\n");
        assert_eq!(from_json(r#"{"x":12}"#, Format::Lines, &["x"]), b"12\n");
    }

    #[test]
    fn lines_output_rejects_what_it_cannot_write() {
        let err = from_csv(b"\"a\nb\"\n", Format::Lines, &["x"]).unwrap_err();
        assert_eq!(err.field, Some(0));
        assert!(err.message.contains("line break"), "{}", err.message);
        let err = from_csv(b"a,b\n", Format::Lines, &["x"]).unwrap_err();
        assert_eq!(err.field, Some(1));
    }

    #[test]
    fn lines_output_needs_exactly_one_column() {
        let lines = Dialect::new(Format::Lines);
        assert!(check_columns(&lines, &Columns::new(["a"])).is_ok());
        let err = check_columns(&lines, &Columns::new(["id", "name"])).unwrap_err();
        assert!(err.contains("id, name"), "{err}");
        assert!(check_columns(&Dialect::new(Format::Csv), &Columns::new(["a", "b"])).is_ok());
    }

    #[test]
    fn no_output_format_takes_zero_columns() {
        for format in [
            Format::Csv,
            Format::Tsv,
            Format::Jsonl,
            Format::Lines,
            Format::Parquet,
        ] {
            let err = check_columns(&Dialect::new(format), &Columns::default()).unwrap_err();
            assert!(err.contains("no columns"), "{format}: {err}");
        }
    }

    #[test]
    fn headers_only_for_csv_and_tsv_with_a_header() {
        let columns = Columns::new(["a b", "c,d"]);
        let input = Dialect::new(Format::Jsonl);
        let mut out = Vec::new();
        for format in [Format::Csv, Format::Tsv, Format::Jsonl, Format::Lines] {
            let enc = Encoder::new(&Dialect::output_for(&input, format), &input, &columns);
            enc.header(&mut out, &columns, None);
        }
        assert_eq!(out, b"a b,\"c,d\"\na b\tc,d\n");
        let mut no_header = Dialect::new(Format::Csv);
        no_header.header = false;
        let enc = Encoder::new(&no_header, &input, &columns);
        enc.header(&mut out, &columns, None);
        assert_eq!(out, b"a b,\"c,d\"\na b\tc,d\n");
    }

    #[test]
    fn output_dialects_follow_the_input_only_within_a_format() {
        let mut semi = Dialect::new(Format::Csv);
        semi.delimiter = b';';
        semi.header = false;
        assert_eq!(Dialect::output_for(&semi, Format::Csv), semi);
        let tsv = Dialect::output_for(&semi, Format::Tsv);
        assert_eq!((tsv.delimiter, tsv.header), (b'\t', false));
        assert!(Dialect::output_for(&Dialect::new(Format::Jsonl), Format::Csv).header);
        assert!(!semi.same_encoding(&Dialect::new(Format::Csv)));
        assert!(Dialect::new(Format::Csv).same_encoding(&Dialect::new(Format::Csv)));
    }

    #[test]
    fn format_from_path_looks_past_compression() {
        assert_eq!(Format::from_path("out.jsonl.gz"), Some(Format::Jsonl));
        assert_eq!(Format::from_path("a/b.TSV.zst"), Some(Format::Tsv));
        assert_eq!(Format::from_path("x.gz"), None);
        assert_eq!(Format::from_path("x.txt"), Some(Format::Lines));
    }
}
