//! Output formats through the library: every input format to every output format, over chunk
//! sizes {1, 2, 7, 64, default} x workers {1, 2, 8}, with the raw passthrough and the CSV
//! skimmer in play (no transforms) and out of play (a transform that changes nothing visible).

use crate::common::in_memory;

use weir::{Dialect, Error, Format, Select};

/// Runs `input` (read as `from`) to `to`, with or without a `select` of every column.
fn convert(
    input: &[u8],
    from: Format,
    to: Dialect,
    select: Option<&[&str]>,
    chunk: usize,
    workers: usize,
) -> Vec<u8> {
    let (b, out) = in_memory("in", input);
    let mut b = b
        .format(from)
        .output_dialect(to)
        .chunk_size(chunk)
        .workers(workers);
    if let Some(cols) = select {
        b = b.transform(Select::new(cols.iter().copied()));
    }
    let report = b
        .build()
        .run()
        .unwrap_or_else(|f| panic!("run failed: {}", f.error));
    assert!(report.balanced());
    assert_eq!(report.records_rejected, 0);
    out.output.bytes()
}

fn check_all_pairs(tables: &[(Format, &[u8])], columns: &[&str]) {
    for &(from, input) in tables {
        for &(to, expected) in tables {
            let to = Dialect::output_for(&Dialect::new(from), to);
            for select in [None, Some(columns)] {
                for chunk in [1, 2, 7, 64, 1 << 20] {
                    for workers in [1, 2, 8] {
                        let out = convert(input, from, to, select, chunk, workers);
                        assert!(
                            out == expected,
                            "{from} -> {}, select {}, chunk {chunk}, workers {workers}\n  \
                             actual: {:?}\nexpected: {:?}",
                            to.format,
                            select.is_some(),
                            String::from_utf8_lossy(&out),
                            String::from_utf8_lossy(expected)
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn csv_tsv_and_jsonl_convert_into_each_other_exactly() {
    let csv: &[u8] = b"id,name,note\n1,\"a,b\",\n2,\"\",\"x\ny\"\n3,\"q\"\"t\",t\tu\n";
    let tsv: &[u8] = b"id\tname\tnote\n1\ta,b\t\n2\t\"\"\t\"x\ny\"\n3\t\"q\"\"t\"\t\"t\tu\"\n";
    let jsonl: &[u8] = br#"{"id":"1","name":"a,b","note":null}
{"id":"2","name":"","note":"x\ny"}
{"id":"3","name":"q\"t","note":"t\tu"}
"#;
    check_all_pairs(
        &[
            (Format::Csv, csv),
            (Format::Tsv, tsv),
            (Format::Jsonl, jsonl),
        ],
        &["id", "name", "note"],
    );
}

#[test]
fn lines_convert_to_and_from_every_format_with_one_column() {
    let csv: &[u8] = b"line\nplain\n\"a,b\"\n\"\"\n\"say \"\"hi\"\"\"\n";
    let tsv: &[u8] = b"line\nplain\na,b\n\"\"\n\"say \"\"hi\"\"\"\n";
    let jsonl: &[u8] =
        b"{\"line\":\"plain\"}\n{\"line\":\"a,b\"}\n{\"line\":\"\"}\n{\"line\":\"say \\\"hi\\\"\"}\n";
    let lines: &[u8] = b"plain\na,b\n\nsay \"hi\"\n";
    check_all_pairs(
        &[
            (Format::Csv, csv),
            (Format::Tsv, tsv),
            (Format::Jsonl, jsonl),
            (Format::Lines, lines),
        ],
        &["line"],
    );
}

#[test]
fn a_csv_dialect_of_its_own_is_written_as_asked() {
    let mut semi = Dialect::new(Format::Csv);
    semi.delimiter = b';';
    semi.quote = b'\'';
    let out = convert(b"a,b\nx;y,'q'\n", Format::Csv, semi, None, 3, 2);
    assert_eq!(out, b"a;b\n'x;y';'''q'''\n");
}

#[test]
fn lines_output_of_several_columns_is_a_usage_error_before_anything_is_written() {
    let (b, out) = in_memory("in", b"a,b\n1,2\n");
    let failure = b
        .output_format(Format::Lines)
        .build()
        .run()
        .expect_err("two columns cannot be lines");
    assert!(failure.error.is_usage(), "{}", failure.error);
    assert!(matches!(&failure.error, Error::Config(m) if m.contains("a, b")));
    assert!(out.output.bytes().is_empty());
}
