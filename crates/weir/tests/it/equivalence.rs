//! Invariant 1 (equivalence): for any input, chunk size and worker count, the engine's ordered
//! output is byte-identical to a serial reference, and its unordered output holds the same
//! records. The reference is a plain csv-core read loop feeding csv-core's writer, so the
//! engine's splitter, decoder and encoder are all checked against an independent
//! implementation of the same RFC 4180 reading.

use crate::common::in_memory;

use csv_core::{ReadFieldResult, Reader, WriteResult, Writer, WriterBuilder};
use proptest::prelude::*;
use weir::Format;

/// A field as the reference sees it: its bytes, and whether it was an empty quoted field (the
/// empty string, as opposed to an empty unquoted field, which is NULL).
type Field = (Vec<u8>, bool);

/// Parses `input` with csv-core into records of fields (the quoted-empty flag comes from the
/// raw bytes csv-core consumed for the field).
fn reference_fields(input: &[u8]) -> Vec<Vec<Field>> {
    let mut rdr = Reader::new();
    let mut records: Vec<Vec<Field>> = Vec::new();
    let mut record: Vec<Field> = Vec::new();
    let mut field = Vec::new();
    let mut buf = [0u8; 1024];
    let mut pos = 0;
    let mut field_start = 0;
    let take = |field: &mut Vec<u8>, raw: &[u8], record: &mut Vec<Field>| {
        let at_record_start = record.is_empty();
        let mut raw = raw;
        if at_record_start {
            while let [b'\r' | b'\n', rest @ ..] = raw {
                raw = rest;
            }
        }
        let quoted_empty = field.is_empty() && raw.first() == Some(&b'"');
        record.push((std::mem::take(field), quoted_empty));
    };
    loop {
        let (res, nin, nout) = rdr.read_field(&input[pos..], &mut buf);
        pos += nin;
        field.extend_from_slice(&buf[..nout]);
        match res {
            ReadFieldResult::InputEmpty => {
                if pos >= input.len() {
                    // Signal end of input on the next call.
                    let (res, _, nout) = rdr.read_field(&[], &mut buf);
                    field.extend_from_slice(&buf[..nout]);
                    match res {
                        ReadFieldResult::Field { record_end } => {
                            take(&mut field, &input[field_start..pos], &mut record);
                            field_start = pos;
                            if record_end {
                                records.push(std::mem::take(&mut record));
                            }
                            continue;
                        }
                        ReadFieldResult::End => break,
                        _ => continue,
                    }
                }
            }
            ReadFieldResult::OutputFull => {}
            ReadFieldResult::Field { record_end } => {
                take(&mut field, &input[field_start..pos], &mut record);
                field_start = pos;
                if record_end {
                    records.push(std::mem::take(&mut record));
                }
            }
            ReadFieldResult::End => break,
        }
    }
    records
}

/// The records' field bytes only.
fn reference_records(input: &[u8]) -> Vec<Vec<Vec<u8>>> {
    reference_fields(input)
        .into_iter()
        .map(|r| r.into_iter().map(|(f, _)| f).collect())
        .collect()
}

/// Writes records with csv-core's writer (necessary quoting, `\n` terminators); an empty
/// quoted field (the empty string) is written `""`, an empty unquoted one (NULL) as nothing.
fn reference_write(records: &[Vec<Field>]) -> Vec<u8> {
    let mut wtr: Writer = WriterBuilder::new().build();
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    for record in records {
        for (i, (field, quoted_empty)) in record.iter().enumerate() {
            if i > 0 {
                let (r, n) = wtr.delimiter(&mut buf);
                assert_eq!(r, WriteResult::InputEmpty);
                out.extend_from_slice(&buf[..n]);
            }
            if *quoted_empty && record.len() > 1 {
                out.extend_from_slice(b"\"\"");
                continue;
            }
            let (r, _, n) = wtr.field(field, &mut buf);
            assert_eq!(r, WriteResult::InputEmpty);
            out.extend_from_slice(&buf[..n]);
        }
        let (r, n) = wtr.terminator(&mut buf);
        assert_eq!(r, WriteResult::InputEmpty);
        out.extend_from_slice(&buf[..n]);
    }
    out
}

/// Whether `input` ends inside a quoted field (csv-core would read it leniently; weir refuses).
fn ends_inside_quotes(input: &[u8]) -> bool {
    #[derive(PartialEq)]
    enum S {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut s = S::FieldStart;
    for &b in input {
        s = match s {
            S::FieldStart if b == b'"' => S::Quoted,
            S::FieldStart | S::Unquoted | S::QuoteInQuoted => match b {
                b',' | b'\n' | b'\r' => S::FieldStart,
                b'"' if s == S::QuoteInQuoted => S::Quoted,
                _ => S::Unquoted,
            },
            S::Quoted => {
                if b == b'"' {
                    S::QuoteInQuoted
                } else {
                    S::Quoted
                }
            }
        };
    }
    s == S::Quoted
}

struct Run {
    output: Vec<u8>,
    report: Result<weir::Report, String>,
}

fn run_engine(input: &[u8], chunk: usize, workers: usize, ordered: bool, flexible: bool) -> Run {
    run_chain(input, chunk, workers, ordered, flexible, None)
}

fn run_chain(
    input: &[u8],
    chunk: usize,
    workers: usize,
    ordered: bool,
    flexible: bool,
    select: Option<Vec<String>>,
) -> Run {
    let (builder, out) = in_memory("input.csv", input);
    let mut builder = builder
        .format(Format::Csv)
        .chunk_size(chunk)
        .workers(workers)
        .ordered(ordered)
        .flexible(flexible);
    if let Some(cols) = select {
        builder = builder.transform(weir::Select::new(cols));
    }
    let result = builder.build().run();
    let output = out.output.bytes();
    Run {
        output,
        report: result.map_err(|f| f.error.to_string()),
    }
}

/// Inputs rich in everything that trips CSV splitters: quoted fields with delimiters, CR, LF
/// and doubled quotes inside; quotes inside unquoted fields; text after closing quotes; CRLF,
/// lone CR and LF terminators; empty lines; a missing final terminator.
fn messy_csv() -> impl Strategy<Value = Vec<u8>> {
    let unquoted = prop::collection::vec(
        prop_oneof![
            Just(b'a'),
            Just(b'b'),
            Just(b' '),
            Just(b'"'),
            Just(b'\''),
            Just(b'x')
        ],
        0..6,
    );
    let quoted_inner = prop::collection::vec(
        prop_oneof![
            Just(b"a".to_vec()),
            Just(b",".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"\"\"".to_vec()),
            Just(b" ".to_vec()),
        ],
        0..5,
    );
    let field = prop_oneof![
        3 => unquoted.prop_map(|mut v| {
            // A leading quote would open a quoted field; keep unquoted fields unquoted.
            if v.first() == Some(&b'"') { v[0] = b'q'; }
            v
        }),
        2 => (quoted_inner, prop::collection::vec(prop_oneof![Just(b'z'), Just(b'"')], 0..3))
            .prop_map(|(inner, after)| {
                let mut v = vec![b'"'];
                v.extend(inner.concat());
                v.push(b'"');
                // Text after the closing quote: must not start with a quote (that would be an
                // escaped quote and leave the field open).
                if after.first() != Some(&b'"') { v.extend(after); }
                v
            }),
    ];
    let record = prop::collection::vec(field, 1..5);
    let term = prop_oneof![4 => Just(b"\n".to_vec()), 1 => Just(b"\r\n".to_vec()), 1 => Just(b"\r".to_vec()), 1 => Just(b"\n\n".to_vec())];
    (prop::collection::vec((record, term), 0..12), any::<bool>()).prop_map(
        |(records, last_term)| {
            let mut out = Vec::new();
            let n = records.len();
            for (i, (fields, term)) in records.into_iter().enumerate() {
                out.extend(fields.join(&b','));
                if i + 1 < n || last_term {
                    out.extend(term);
                }
            }
            out
        },
    )
}

fn expected_output(input: &[u8]) -> Vec<u8> {
    reference_write(&reference_fields(input))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn ordered_output_equals_the_serial_reference(
        input in messy_csv(),
        chunk in prop_oneof![1usize..16, 16usize..300, Just(1 << 20)],
        workers in 1usize..=8,
    ) {
        let run = run_engine(&input, chunk, workers, true, true);
        prop_assert!(run.report.is_ok(), "{:?}", run.report.err());
        let want = expected_output(&input);
        prop_assert_eq!(
            String::from_utf8_lossy(&run.output),
            String::from_utf8_lossy(&want),
            "input {:?}", String::from_utf8_lossy(&input)
        );
        let report = run.report.unwrap();
        prop_assert!(report.balanced());
    }

    #[test]
    fn unordered_output_holds_the_same_records(
        input in messy_csv(),
        chunk in 1usize..64,
        workers in 2usize..=8,
    ) {
        let run = run_engine(&input, chunk, workers, false, true);
        prop_assert!(run.report.is_ok());
        let mut got = reference_records(&run.output);
        let mut want = reference_records(&expected_output(&input));
        // The header stays first; the data records may come in any order.
        if !want.is_empty() {
            prop_assert_eq!(&got[0], &want[0]);
        }
        got.sort();
        want.sort();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn strict_mode_rejects_exactly_the_ragged_records(
        input in messy_csv(),
        chunk in 1usize..64,
        workers in 1usize..=4,
    ) {
        let run = run_engine(&input, chunk, workers, true, false);
        let report = run.report.unwrap();
        let records = reference_fields(&input);
        let Some((header, data)) = records.split_first() else {
            prop_assert_eq!(report.records_read, 0);
            return Ok(());
        };
        let kept: Vec<Vec<Field>> = std::iter::once(header.clone())
            .chain(data.iter().filter(|r| r.len() == header.len()).cloned())
            .collect();
        prop_assert_eq!(run.output, reference_write(&kept));
        prop_assert_eq!(report.records_read, data.len() as u64);
        prop_assert_eq!(report.records_rejected, (data.len() + 1 - kept.len()) as u64);
        prop_assert!(report.balanced());
    }

    #[test]
    fn arbitrary_bytes_match_the_reference_or_fail_on_an_open_quote(
        input in prop::collection::vec(
            prop_oneof![Just(b'a'), Just(b','), Just(b'"'), Just(b'\n'), Just(b'\r'), any::<u8>()],
            0..200,
        ),
        chunk in 1usize..40,
        workers in 1usize..=4,
    ) {
        let run = run_engine(&input, chunk, workers, true, true);
        if ends_inside_quotes(&input) {
            let err = run.report.expect_err("an open quote at the end must fail the run");
            prop_assert!(err.contains("never closed"), "{}", err);
        } else {
            prop_assert!(run.report.is_ok(), "{:?}", run.report.err());
            prop_assert_eq!(run.output, expected_output(&input));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Re-encoding (every record changed by a select) equals the reference writer: unquoted
    /// input fields are copied unchecked, the others quoted as needed, NULL and "" kept apart.
    #[test]
    fn reencoded_output_equals_the_reference(
        input in messy_csv(),
        chunk in prop_oneof![1usize..40, Just(1 << 20)],
        workers in 1usize..=4,
    ) {
        // A header of three columns over the messy records (shorter ones get NULLs).
        let names: Vec<String> = (0..3).map(|i| format!("c{i}")).collect();
        let mut renamed = b"c0,c1,c2\n".to_vec();
        renamed.extend_from_slice(&input);
        let reversed: Vec<String> = names.iter().rev().cloned().collect();
        let run = run_chain(&renamed, chunk, workers, true, true, Some(reversed.clone()));
        prop_assert!(run.report.is_ok(), "{:?}", run.report.err());
        let mut want: Vec<Vec<Field>> = vec![reversed.iter().map(|n| (n.as_bytes().to_vec(), false)).collect()];
        for r in &reference_fields(&renamed)[1..] {
            let n = names.len();
            want.push((0..n).rev().map(|i| r.get(i).cloned().unwrap_or((Vec::new(), false))).collect());
        }
        let want = reference_write(&want);
        prop_assert_eq!(
            String::from_utf8_lossy(&run.output),
            String::from_utf8_lossy(&want),
            "input {:?}", String::from_utf8_lossy(&renamed)
        );
    }
}

#[test]
fn the_reference_reads_messy_quotes_like_python() {
    // Python: list(csv.reader(io.StringIO('5\'10",x\n"ab"cd,"q""q"\n', newline='')))
    //   == [['5\'10"', 'x'], ['abcd', 'q"q']]
    let recs = reference_records(b"5'10\",x\n\"ab\"cd,\"q\"\"q\"\n");
    assert_eq!(
        recs,
        vec![
            vec![b"5'10\"".to_vec(), b"x".to_vec()],
            vec![b"abcd".to_vec(), b"q\"q".to_vec()]
        ]
    );
}

/// A run with `--oversized reject` at `limit` bytes: output, rejects and the report (or error).
fn run_oversized(input: &[u8], chunk: usize, workers: usize, limit: usize) -> (Run, Vec<u8>) {
    let (b, out) = in_memory("input.csv", input);
    let result = b
        .format(Format::Csv)
        .chunk_size(chunk)
        .workers(workers)
        .flexible(true)
        .max_record_size(limit)
        .oversized(weir::Oversized::Reject)
        .build()
        .run();
    let run = Run {
        output: out.output.bytes(),
        report: result.map_err(|f| f.error.to_string()),
    };
    (run, out.rejects.bytes())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// A record over the limit is rejected the same way whether the splitter skips it (it is
    /// longer than a chunk) or a worker meets it inside a chunk: same rejects rows (line, byte
    /// offset, size, first KiB), same output, same errors, in input order, at any chunk size
    /// and worker count.
    #[test]
    fn oversized_records_are_rejected_alike_at_any_chunk_size(
        input in messy_csv(),
        chunk in prop_oneof![1usize..16, 16usize..300],
        workers in 1usize..=4,
        limit in 1usize..24,
    ) {
        let (serial, serial_rejects) = run_oversized(&input, 1 << 20, 1, limit);
        let (run, rejects) = run_oversized(&input, chunk, workers, limit);
        prop_assert_eq!(&run.report.as_ref().err(), &serial.report.as_ref().err());
        prop_assert_eq!(
            String::from_utf8_lossy(&rejects),
            String::from_utf8_lossy(&serial_rejects),
            "input {:?}", String::from_utf8_lossy(&input)
        );
        prop_assert_eq!(run.output, serial.output);
        if let Ok(report) = run.report {
            prop_assert!(report.balanced());
            let too_large = report.rejects_by_error.get("record-too-large").copied().unwrap_or(0);
            prop_assert_eq!(too_large, report.records_rejected);
        }
    }
}
