//! "Nothing silently changed" for text and JSON: a value the output cannot hold as text is an
//! `encode-error` reject naming the field (or, with `--invalid-utf8 replace`, U+FFFD counted in
//! the report); nested JSON is validated; a repeated key is a reject; extra-field names never
//! repeat a column's; a pipeline that leaves no column is a usage error with nothing written.

use std::fs::File;

use arrow_array::cast::AsArray;
use arrow_array::Array;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::support::*;

const REJECTS_HEADER: &str = "file,line,byte_offset,field,error,message,record\n";

const NOT_UTF8: &str = "the value is not UTF-8 text, which this output cannot hold \
                        (--invalid-utf8 replace writes U+FFFD for the invalid bytes)";

/// The rejects file of one record of `file`: header and row, quoted as csv-core quotes.
fn reject_row(
    file: &str,
    line: u64,
    offset: u64,
    field: &str,
    error: &str,
    message: &str,
    record: &[u8],
) -> Vec<u8> {
    let quote = |v: &[u8]| -> Vec<u8> {
        if !v.iter().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
            return v.to_vec();
        }
        let mut q = vec![b'"'];
        for &b in v {
            if b == b'"' {
                q.push(b'"');
            }
            q.push(b);
        }
        q.push(b'"');
        q
    };
    let fields: Vec<Vec<u8>> = [
        file.as_bytes(),
        line.to_string().as_bytes(),
        offset.to_string().as_bytes(),
        field.as_bytes(),
        error.as_bytes(),
        message.as_bytes(),
        record,
    ]
    .iter()
    .map(|f| quote(f))
    .collect();
    let mut out = REJECTS_HEADER.as_bytes().to_vec();
    out.extend_from_slice(&fields.join(&b","[..]));
    out.push(b'\n');
    out
}

/// The text columns of a Parquet file, row by row (`None` for null).
fn parquet_text(sb: &Sandbox, name: &str) -> (Vec<String>, Vec<Vec<Option<String>>>) {
    let file = File::open(sb.join(name)).expect("the output exists");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("a Parquet file");
    let names = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let mut rows = Vec::new();
    for batch in builder.build().expect("reader") {
        let batch = batch.expect("a batch");
        for r in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|c| (!c.is_null(r)).then(|| c.as_string::<i32>().value(r).to_string()))
                    .collect(),
            );
        }
    }
    (names, rows)
}

/// `name` has a Latin-1 byte in line 3; `id` stays plain.
const LATIN1_CSV: &[u8] = b"id,name\n1,ann\n2,caf\xe9\n3,bob\n";

fn run_ok(sb: &Sandbox, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.extend(["--report", "rep.json", "-q"]);
    let o = sb.weir(&all);
    assert_ok(&o);
    let report = sb.read_string("rep.json");
    assert_balanced(&report);
    report
}

#[test]
fn invalid_utf8_into_json_lines_is_an_encode_error_naming_the_field_on_every_path() {
    let sb = Sandbox::new();
    sb.write("u.csv", LATIN1_CSV);
    // Untouched, with a derive on another column, renamed, selected: the same refusal.
    for (args, out, field) in [
        (
            &[][..],
            &b"{\"id\":\"1\",\"name\":\"ann\"}\n{\"id\":\"3\",\"name\":\"bob\"}\n"[..],
            "name",
        ),
        (
            &["--derive", "id=upper(id)"][..],
            b"{\"id\":\"1\",\"name\":\"ann\"}\n{\"id\":\"3\",\"name\":\"bob\"}\n",
            "name",
        ),
        (
            &["--rename", "name=who"][..],
            b"{\"id\":\"1\",\"who\":\"ann\"}\n{\"id\":\"3\",\"who\":\"bob\"}\n",
            "who",
        ),
        (
            &["--select", "name"][..],
            b"{\"name\":\"ann\"}\n{\"name\":\"bob\"}\n",
            "name",
        ),
    ] {
        let mut all = vec![
            "run",
            "-i",
            "u.csv",
            "-o",
            "out.jsonl",
            "--rejects",
            "rej.csv",
        ];
        all.extend(args);
        let report = run_ok(&sb, &all);
        assert_bytes(&sb.read("out.jsonl"), out);
        let want = reject_row(
            "u.csv",
            3,
            14,
            field,
            "encode-error",
            NOT_UTF8,
            b"2,caf\xe9",
        );
        assert_bytes(&sb.read("rej.csv"), &want);
        assert_eq!(report_num(&report, "records_rejected"), 1, "{args:?}");
        assert_eq!(report_num(&report, "values_replaced"), 0, "{args:?}");
        assert_eq!(
            report_rejects_by_error(&report),
            [("encode-error".to_string(), 1)]
        );
    }
    // CSV output keeps the bytes as they are, with or without a step on another column.
    for args in [&[][..], &["--derive", "id=upper(id)"][..]] {
        let mut all = vec![
            "run",
            "-i",
            "u.csv",
            "-o",
            "out.csv",
            "--rejects",
            "rej.csv",
        ];
        all.extend(args);
        let report = run_ok(&sb, &all);
        assert_bytes(&sb.read("out.csv"), LATIN1_CSV);
        assert_bytes(&sb.read("rej.csv"), REJECTS_HEADER.as_bytes());
        assert_eq!(report_num(&report, "records_rejected"), 0);
    }
    // Lines input into JSON Lines: the same.
    sb.write("u.txt", b"ok\ncaf\xe9\n");
    run_ok(
        &sb,
        &[
            "run",
            "-i",
            "u.txt",
            "-o",
            "out.jsonl",
            "--rejects",
            "rej.csv",
        ],
    );
    assert_bytes(&sb.read("out.jsonl"), b"{\"line\":\"ok\"}\n");
    assert_bytes(
        &sb.read("rej.csv"),
        &reject_row("u.txt", 2, 3, "line", "encode-error", NOT_UTF8, b"caf\xe9"),
    );
}

#[test]
fn invalid_utf8_replace_writes_u_fffd_and_counts_every_value() {
    let sb = Sandbox::new();
    sb.write("u.csv", b"a,b\n\xff,x\xfey\n1,2\n");
    let report = run_ok(
        &sb,
        &[
            "run",
            "-i",
            "u.csv",
            "-o",
            "out.jsonl",
            "--rejects",
            "rej.csv",
            "--invalid-utf8",
            "replace",
        ],
    );
    assert_bytes(
        &sb.read("out.jsonl"),
        "{\"a\":\"\u{FFFD}\",\"b\":\"x\u{FFFD}y\"}\n{\"a\":\"1\",\"b\":\"2\"}\n".as_bytes(),
    );
    assert_bytes(&sb.read("rej.csv"), REJECTS_HEADER.as_bytes());
    assert_eq!(report_num(&report, "values_replaced"), 2);
    assert_eq!(report_num(&report, "records_written"), 2);
    // The summary says so.
    let o = sb.weir(&[
        "run",
        "-i",
        "u.csv",
        "-o",
        "out2.jsonl",
        "--invalid-utf8",
        "replace",
    ]);
    assert_ok(&o);
    assert!(
        stderr(&o).contains("2 text values written with U+FFFD"),
        "{}",
        stderr(&o)
    );
    // The pipeline file takes it under [options].
    sb.write(
        "p.toml",
        b"input = \"u.csv\"\noutput = \"out3.jsonl\"\n[options]\ninvalid_utf8 = \"replace\"\n",
    );
    let report = run_ok(&sb, &["run", "p.toml"]);
    assert_bytes(&sb.read("out3.jsonl"), &sb.read("out.jsonl"));
    assert_eq!(report_num(&report, "values_replaced"), 2);
    // A bad mode is a usage error.
    let o = sb.weir(&[
        "run",
        "-i",
        "u.csv",
        "-o",
        "x.jsonl",
        "--invalid-utf8",
        "drop",
    ]);
    assert_fails(&o, 2, "'drop' is not reject or replace");
    assert!(!sb.exists("x.jsonl"));
}

#[test]
fn invalid_utf8_into_parquet_text_is_an_encode_error_or_replaced_when_asked() {
    let sb = Sandbox::new();
    sb.write("u.csv", LATIN1_CSV);
    let report = run_ok(
        &sb,
        &[
            "run",
            "-i",
            "u.csv",
            "-o",
            "out.parquet",
            "--rejects",
            "rej.csv",
        ],
    );
    let some = |v: &str| Some(v.to_string());
    let (names, rows) = parquet_text(&sb, "out.parquet");
    assert_eq!(names, ["id", "name"]);
    assert_eq!(
        rows,
        [vec![some("1"), some("ann")], vec![some("3"), some("bob")]]
    );
    assert_bytes(
        &sb.read("rej.csv"),
        &reject_row(
            "u.csv",
            3,
            14,
            "name",
            "encode-error",
            NOT_UTF8,
            b"2,caf\xe9",
        ),
    );
    assert_eq!(report_num(&report, "values_replaced"), 0);

    let report = run_ok(
        &sb,
        &[
            "run",
            "-i",
            "u.csv",
            "-o",
            "out2.parquet",
            "--rejects",
            "rej2.csv",
            "--invalid-utf8",
            "replace",
        ],
    );
    let (_, rows) = parquet_text(&sb, "out2.parquet");
    assert_eq!(
        rows,
        [
            vec![some("1"), some("ann")],
            vec![some("2"), some("caf\u{FFFD}")],
            vec![some("3"), some("bob")]
        ]
    );
    assert_bytes(&sb.read("rej2.csv"), REJECTS_HEADER.as_bytes());
    assert_eq!(report_num(&report, "values_replaced"), 1);
}

const LONE: &str = "the value of 'a' holds a \\u escape of a lone surrogate, which is half of a \
                    character and has no UTF-8 form: no output can hold it as text \
                    (--invalid-utf8 replace writes U+FFFD)";

#[test]
fn a_json_lone_surrogate_is_an_encode_error_in_every_output_and_pairs_still_work() {
    let sb = Sandbox::new();
    let input = b"{\"a\":\"x\\ud800y\",\"b\":\"1\"}\n{\"a\":\"\\ud83d\\ude00\",\"b\":\"2\"}\n";
    sb.write("s.jsonl", input);
    let rejects = reject_row(
        "s.jsonl",
        1,
        0,
        "a",
        "encode-error",
        LONE,
        b"{\"a\":\"x\\ud800y\",\"b\":\"1\"}",
    );
    for (output, args, want) in [
        ("out.csv", &[][..], "a,b\n\u{1F600},2\n".as_bytes()),
        (
            "out.csv",
            &["--derive", "b=upper(b)"][..],
            "a,b\n\u{1F600},2\n".as_bytes(),
        ),
        (
            "out.jsonl",
            &[][..],
            b"{\"a\":\"\\ud83d\\ude00\",\"b\":\"2\"}\n",
        ),
        (
            "out.jsonl",
            &["--derive", "b=upper(b)"][..],
            "{\"a\":\"\u{1F600}\",\"b\":\"2\"}\n".as_bytes(),
        ),
        ("out.txt", &["--select", "a"][..], "\u{1F600}\n".as_bytes()),
    ] {
        let mut all = vec!["run", "-i", "s.jsonl", "-o", output, "--rejects", "rej.csv"];
        all.extend(args);
        let report = run_ok(&sb, &all);
        assert_bytes(&sb.read(output), want);
        assert_bytes(&sb.read("rej.csv"), &rejects);
        assert_eq!(
            report_rejects_by_error(&report),
            [("encode-error".to_string(), 1)],
            "{output} {args:?}"
        );
    }
    let report = run_ok(
        &sb,
        &[
            "run",
            "-i",
            "s.jsonl",
            "-o",
            "out.csv",
            "--rejects",
            "rej.csv",
            "--invalid-utf8",
            "replace",
        ],
    );
    assert_bytes(
        &sb.read("out.csv"),
        "a,b\nx\u{FFFD}y,1\n\u{1F600},2\n".as_bytes(),
    );
    assert_bytes(&sb.read("rej.csv"), REJECTS_HEADER.as_bytes());
    assert_eq!(report_num(&report, "values_replaced"), 1);
}

#[test]
fn json_lines_text_that_is_not_utf8_is_never_copied_to_json_lines() {
    let sb = Sandbox::new();
    let input =
        b"{\"a\":\"x\xffy\",\"b\":1}\n{\"a\":\"ok\",\"b\":[1,\"\xfe\"]}\n{\"a\":\"ok\",\"b\":2}\n";
    sb.write("u.jsonl", input);
    let message = |key: &str| {
        format!(
            "the value of '{key}' holds bytes that are not UTF-8 (JSON text must be UTF-8): no \
             output can hold it as text (--invalid-utf8 replace writes U+FFFD)"
        )
    };
    let mut want = reject_row(
        "u.jsonl",
        1,
        0,
        "a",
        "encode-error",
        &message("a"),
        b"{\"a\":\"x\xffy\",\"b\":1}",
    );
    want.extend_from_slice(
        &reject_row(
            "u.jsonl",
            2,
            18,
            "b",
            "encode-error",
            &message("b"),
            b"{\"a\":\"ok\",\"b\":[1,\"\xfe\"]}",
        )[REJECTS_HEADER.len()..],
    );
    let report = run_ok(
        &sb,
        &[
            "run",
            "-i",
            "u.jsonl",
            "-o",
            "out.jsonl",
            "--rejects",
            "rej.csv",
        ],
    );
    assert_bytes(&sb.read("out.jsonl"), b"{\"a\":\"ok\",\"b\":2}\n");
    assert_bytes(&sb.read("rej.csv"), &want);
    assert_eq!(report_num(&report, "records_rejected"), 2);
    let report = run_ok(
        &sb,
        &[
            "run",
            "-i",
            "u.jsonl",
            "-o",
            "out.jsonl",
            "--rejects",
            "rej.csv",
            "--invalid-utf8",
            "replace",
        ],
    );
    assert_bytes(
        &sb.read("out.jsonl"),
        "{\"a\":\"x\u{FFFD}y\",\"b\":1}\n{\"a\":\"ok\",\"b\":[1,\"\u{FFFD}\"]}\n{\"a\":\"ok\",\"b\":2}\n"
            .as_bytes(),
    );
    assert_bytes(&sb.read("rej.csv"), REJECTS_HEADER.as_bytes());
    assert_eq!(report_num(&report, "values_replaced"), 2);
}

#[test]
fn a_header_name_that_is_not_utf8_is_kept_in_csv_and_refused_as_a_json_or_parquet_name() {
    let sb = Sandbox::new();
    sb.write("h.csv", b"caf\xe9,b\n1,2\n");
    // CSV out: the header's bytes stay, even when another column is added.
    run_ok(
        &sb,
        &["run", "-i", "h.csv", "-o", "out.csv", "--derive", "c=1"],
    );
    assert_bytes(&sb.read("out.csv"), b"caf\xe9,b,c\n1,2,1\n");
    for output in ["out.jsonl", "out.parquet"] {
        let o = sb.weir(&[
            "run",
            "-i",
            "h.csv",
            "-o",
            output,
            "--rejects",
            "rej.csv",
            "-q",
        ]);
        assert_fails(&o, 2, "column 1 of the header, 'caf\u{FFFD}', is not UTF-8");
        assert!(!sb.exists(output), "{output}");
        assert!(!sb.exists("rej.csv"));
    }
    // Renamed, it is a name like any other.
    run_ok(
        &sb,
        &["run", "-i", "h.csv", "-o", "out.jsonl", "--select", "b"],
    );
    assert_bytes(&sb.read("out.jsonl"), b"{\"b\":\"2\"}\n");
}

#[test]
fn invalid_nested_json_is_a_parse_error_with_its_line_offset_and_reason() {
    let sb = Sandbox::new();
    let input = b"{\"a\":[1,2,]}\n{\"a\":{\"x\" 1}}\n{\"a\":[01]}\n{\"a\":[1,{\"k\":\"v\"}]}\n";
    sb.write("n.jsonl", input);
    let report = run_ok(
        &sb,
        &[
            "run",
            "-i",
            "n.jsonl",
            "-o",
            "out.jsonl",
            "--rejects",
            "rej.csv",
        ],
    );
    assert_bytes(&sb.read("out.jsonl"), b"{\"a\":[1,{\"k\":\"v\"}]}\n");
    assert_bytes(
        &sb.read("rej.csv"),
        b"file,line,byte_offset,field,error,message,record\n\
n.jsonl,1,0,,parse-error,not a JSON object: expected a JSON value at column 11,\"{\"\"a\"\":[1,2,]}\"\n\
n.jsonl,2,13,,parse-error,not a JSON object: expected ':' after a key at column 11,\"{\"\"a\"\":{\"\"x\"\" 1}}\"\n\
n.jsonl,3,27,,parse-error,\"not a JSON object: expected ',' or ']' in an array at column 8\",\"{\"\"a\"\":[01]}\"\n",
    );
    assert_eq!(
        report_rejects_by_error(&report),
        [("parse-error".to_string(), 3)]
    );
}

#[test]
fn a_repeated_key_is_a_reject_naming_the_key() {
    let sb = Sandbox::new();
    sb.write(
        "d.jsonl",
        b"{\"a\":1,\"b\":2}\n{\"a\":3,\"b\":4,\"a\":5}\n{\"a\":6,\"b\":{\"k\":1,\"k\":2}}\n",
    );
    let message = "key 'a' appears more than once in the object (which of its values is meant \
                   is not known)";
    for output in ["out.jsonl", "out.csv"] {
        let report = run_ok(
            &sb,
            &["run", "-i", "d.jsonl", "-o", output, "--rejects", "rej.csv"],
        );
        let want: &[u8] = if output == "out.csv" {
            b"a,b\n1,2\n6,\"{\"\"k\"\":1,\"\"k\"\":2}\"\n"
        } else {
            b"{\"a\":1,\"b\":2}\n{\"a\":6,\"b\":{\"k\":1,\"k\":2}}\n"
        };
        assert_bytes(&sb.read(output), want);
        assert_bytes(
            &sb.read("rej.csv"),
            &reject_row(
                "d.jsonl",
                2,
                14,
                "a",
                "duplicate-key",
                message,
                b"{\"a\":3,\"b\":4,\"a\":5}",
            ),
        );
        assert_eq!(
            report_rejects_by_error(&report),
            [("duplicate-key".to_string(), 1)]
        );
    }
    // In the first record too (its keys are the columns, each once).
    sb.write("f.jsonl", b"{\"a\":1,\"a\":2}\n{\"a\":3}\n");
    run_ok(
        &sb,
        &[
            "run",
            "-i",
            "f.jsonl",
            "-o",
            "out.jsonl",
            "--rejects",
            "rej.csv",
        ],
    );
    assert_bytes(&sb.read("out.jsonl"), b"{\"a\":3}\n");
    assert_bytes(
        &sb.read("rej.csv"),
        &reject_row(
            "f.jsonl",
            1,
            0,
            "a",
            "duplicate-key",
            message,
            b"{\"a\":1,\"a\":2}",
        ),
    );
}

#[test]
fn ragged_keep_names_extra_fields_apart_from_every_column() {
    let sb = Sandbox::new();
    sb.write("r.csv", b"column3,b\n1,2,3\n4,5\n");
    run_ok(
        &sb,
        &["run", "-i", "r.csv", "-o", "out.jsonl", "--ragged", "keep"],
    );
    assert_bytes(
        &sb.read("out.jsonl"),
        b"{\"column3\":\"1\",\"b\":\"2\",\"column3_\":\"3\"}\n{\"column3\":\"4\",\"b\":\"5\"}\n",
    );
}

#[test]
fn a_pipeline_that_leaves_no_column_is_a_usage_error_before_anything_is_written() {
    let sb = Sandbox::new();
    sb.write("ab.csv", b"a,b\n1,2\n3,4\n");
    sb.write("ab.jsonl", b"{\"a\":1,\"b\":2}\n");
    sb.write("p.toml", b"[[transform]]\nselect = []\n");
    let message = "the pipeline leaves no columns to write: its steps drop every column of the \
                   input";
    for (args, output) in [
        (&["-i", "ab.csv", "--drop", "a,b"][..], "out.csv"),
        (
            &["-i", "ab.csv", "--drop", "a", "--drop", "b"][..],
            "out.parquet",
        ),
        (&["-i", "ab.csv", "--drop", "a,b"][..], "out.jsonl"),
        (&["-i", "ab.csv", "--drop", "a,b"][..], "out.tsv"),
        (&["p.toml", "-i", "ab.csv"][..], "out.csv"),
        (&["-i", "ab.jsonl", "--drop", "a,b"][..], "out.jsonl"),
    ] {
        let mut all = vec!["run"];
        all.extend(args);
        all.extend([
            "-o",
            output,
            "--rejects",
            "rej.csv",
            "--report",
            "rep.json",
            "-q",
        ]);
        let o = sb.weir(&all);
        assert_fails_in(&format!("{args:?} {output}"), &o, 2, message);
        // Nothing written: no output, rejects, report or temporary file.
        assert_eq!(
            sb.names(),
            ["ab.csv", "ab.jsonl", "p.toml"],
            "{args:?} {output}"
        );
    }
    // A header-only input is known from its header too.
    sb.write("h.csv", b"a,b\n");
    let o = sb.weir(&["run", "-i", "h.csv", "-o", "out.csv", "--drop", "a,b", "-q"]);
    assert_fails(&o, 2, message);
    assert!(!sb.exists("out.csv"));
}

#[test]
fn a_first_json_object_without_keys_is_a_usage_error_and_garbage_is_still_rejected() {
    let sb = Sandbox::new();
    sb.write("e.jsonl", b"{}\n{\"a\":1}\n");
    let o = sb.weir(&[
        "run",
        "-i",
        "e.jsonl",
        "-o",
        "out.jsonl",
        "--rejects",
        "rej.csv",
        "-q",
    ]);
    assert_fails(
        &o,
        2,
        "the input has no columns: its first JSON object has no keys",
    );
    assert!(!sb.exists("out.jsonl"));
    assert!(!sb.exists("rej.csv"));
    // No object at all: nothing to know the columns from, every line is a parse-error.
    sb.write("g.jsonl", b"garbage\n");
    let report = run_ok(
        &sb,
        &[
            "run",
            "-i",
            "g.jsonl",
            "-o",
            "out.jsonl",
            "--rejects",
            "rej.csv",
        ],
    );
    assert_bytes(&sb.read("out.jsonl"), b"");
    assert_bytes(
        &sb.read("rej.csv"),
        &reject_row(
            "g.jsonl",
            1,
            0,
            "",
            "parse-error",
            "not a JSON object: expected a JSON object at column 1",
            b"garbage",
        ),
    );
    assert_eq!(report_num(&report, "records_rejected"), 1);
}

#[test]
fn ragged_keep_never_drops_a_json_key_silently() {
    let sb = Sandbox::new();
    let input = b"{\"a\":1,\"b\":2}\n{\"a\":3,\"z\":4}\n{\"a\":5}\n";
    sb.write("k.jsonl", input);
    // Copied unchanged to JSON Lines: kept as it is.
    run_ok(
        &sb,
        &[
            "run",
            "-i",
            "k.jsonl",
            "-o",
            "out.jsonl",
            "--ragged",
            "keep",
            "--rejects",
            "rej.csv",
        ],
    );
    assert_bytes(&sb.read("out.jsonl"), input);
    assert_bytes(&sb.read("rej.csv"), REJECTS_HEADER.as_bytes());
    // Re-encoded (another format, or a step changed it): the unknown key has no column.
    let message = "key 'z' is not a column of the first record: --ragged keep keeps it only in a \
                   record copied unchanged to JSON Lines output, and this one is re-encoded with \
                   the output's columns (use --ragged truncate to drop it)";
    let rejects = reject_row(
        "k.jsonl",
        2,
        14,
        "z",
        "extra-cell",
        message,
        b"{\"a\":3,\"z\":4}",
    );
    for (output, args, want) in [
        ("out.csv", &[][..], &b"a,b\n1,2\n5,\n"[..]),
        (
            "out.jsonl",
            &["--derive", "a=a+1"][..],
            b"{\"a\":2,\"b\":2}\n{\"a\":6,\"b\":null}\n",
        ),
    ] {
        let mut all = vec!["run", "-i", "k.jsonl", "-o", output, "--ragged", "keep"];
        all.extend(args);
        all.extend(["--rejects", "rej.csv"]);
        let report = run_ok(&sb, &all);
        assert_bytes(&sb.read(output), want);
        assert_bytes(&sb.read("rej.csv"), &rejects);
        assert_eq!(
            report_rejects_by_error(&report),
            [("extra-cell".to_string(), 1)]
        );
    }
}
