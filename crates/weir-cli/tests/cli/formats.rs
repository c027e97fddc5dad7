//! Round trips through each format: CSV, TSV, JSON Lines and plain lines.

use crate::support::*;

/// `quotes.csv` written back as canonical RFC 4180: quoted only when a field holds the
/// delimiter, a quote, CR or LF, or is the empty string (`""`, which is not NULL).
const QUOTES_CANONICAL: &[u8] = br#"id,name,height,note
1,"Smith, Jane","5'10""",plain
2,"say ""hi""","6'0""",x
3,"multi
line, with comma",abcd,tail
4,,"",end
5,unquoted,"a""b""c","x""y"
"#;

#[test]
fn csv_round_trip_is_canonical() {
    let sb = Sandbox::new();
    let input = sb.fixture("quotes.csv");
    let o = sb.weir(&["run", "-i", "quotes.csv", "-o", "out.csv", "-q"]);
    assert_ok(&o);
    assert!(o.stdout.is_empty(), "output went to the file");
    assert!(o.stderr.is_empty(), "-q: {}", stderr(&o));
    let out = sb.read("out.csv");
    assert_bytes(&out, QUOTES_CANONICAL);
    // A reference reader sees the same fields in both.
    assert_eq!(parse_csv(&out), parse_csv(&input));
    assert_eq!(parse_csv(&out)[1][2], "5'10\"");
    assert_eq!(parse_csv(&out)[3][2], "abcd");
}

#[test]
fn csv_canonical_output_is_a_fixed_point() {
    let sb = Sandbox::new();
    sb.write("canon.csv", QUOTES_CANONICAL);
    let o = sb.weir(&["run", "-i", "canon.csv", "-o", "again.csv", "-q"]);
    assert_ok(&o);
    assert_bytes(&sb.read("again.csv"), QUOTES_CANONICAL);
}

#[test]
fn csv_to_stdout_by_default() {
    let sb = Sandbox::new();
    sb.fixture("quotes.csv");
    let o = sb.weir(&["run", "--input", "quotes.csv"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, QUOTES_CANONICAL);
    let err = stderr(&o);
    assert!(
        err.starts_with("weir: done: 5 read = 5 written + 0 filtered + 0 rejected (100.00% ok)\n"),
        "summary: {err}"
    );
    assert_eq!(sb.names(), ["quotes.csv"], "nothing else written");
}

#[test]
fn csv_select_keeps_columns_in_the_given_order() {
    let sb = Sandbox::new();
    sb.fixture("quotes.csv");
    let o = sb.weir(&["run", "-i", "quotes.csv", "--select", "note,id", "-q"]);
    assert_ok(&o);
    assert_bytes(
        &o.stdout,
        b"note,id\nplain,1\nx,2\ntail,3\nend,4\n\"x\"\"y\",5\n",
    );
}

#[test]
fn csv_select_one_column_writes_an_empty_field_as_two_quotes() {
    // A record of one empty field must not become an empty line (readers skip those).
    let sb = Sandbox::new();
    sb.fixture("quotes.csv");
    let o = sb.weir(&["run", "-i", "quotes.csv", "--select", "name", "-q"]);
    assert_ok(&o);
    assert_bytes(
        &o.stdout,
        b"name\n\"Smith, Jane\"\n\"say \"\"hi\"\"\"\n\"multi\nline, with comma\"\n\"\"\nunquoted\n",
    );
    assert_eq!(
        parse_csv(&o.stdout).len(),
        6,
        "every record survives a re-read"
    );
}

const PEOPLE_CANONICAL: &[u8] =
    b"id\tname\tnote\n1\tAnn\t\"a\tb\"\n2\tBob, Jr\t\"say \"\"hi\"\"\"\n3\t\"x\"\"y\"\t\"multi\nline\"\n";

#[test]
fn tsv_by_extension() {
    let sb = Sandbox::new();
    let input = sb.fixture("people.tsv");
    let o = sb.weir(&["run", "-i", "people.tsv", "-o", "out.tsv", "-q"]);
    assert_ok(&o);
    let out = sb.read("out.tsv");
    assert_bytes(&out, PEOPLE_CANONICAL);
    assert_eq!(parse_csv_with(&out, b'\t'), parse_csv_with(&input, b'\t'));
}

#[test]
fn tsv_by_format_flag() {
    let sb = Sandbox::new();
    sb.fixture_as("people.tsv", "people.dat");
    let o = sb.weir(&["run", "-i", "people.dat", "--format", "tsv", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, PEOPLE_CANONICAL);
}

#[test]
fn tsv_select() {
    let sb = Sandbox::new();
    sb.fixture("people.tsv");
    let o = sb.weir(&["run", "-i", "people.tsv", "--select", "note,name", "-q"]);
    assert_ok(&o);
    assert_bytes(
        &o.stdout,
        b"note\tname\n\"a\tb\"\tAnn\n\"say \"\"hi\"\"\"\tBob, Jr\n\"multi\nline\"\t\"x\"\"y\"\n",
    );
}

#[test]
fn jsonl_unchanged_lines_pass_through_byte_for_byte() {
    let sb = Sandbox::new();
    let input = sb.fixture("events.jsonl");
    let o = sb.weir(&["run", "-i", "events.jsonl", "-o", "out.jsonl", "-q"]);
    assert_ok(&o);
    assert_bytes(&sb.read("out.jsonl"), &input);
}

#[test]
fn jsonl_select_rewrites_objects_with_only_the_selected_keys() {
    let sb = Sandbox::new();
    sb.fixture("events.jsonl");
    let o = sb.weir(&[
        "run",
        "-i",
        "events.jsonl",
        "--select",
        "ok,user,ts,tags",
        "-q",
    ]);
    assert_ok(&o);
    // Strings re-escaped (\u00f6 -> ö, \/ -> /, tab and quotes escaped again); numbers,
    // booleans, null and nested values kept as their raw text.
    let expected = r#"{"ok":true,"user":"ann","ts":1,"tags":["a","b"]}
{"ok":false,"user":"böb","ts":2.5e1,"tags":[]}
{"ok":null,"user":"tab\there \"q\" /","ts":-3,"tags":{"k":[1,{"x":"}"}]}}
"#;
    assert_bytes(&o.stdout, expected.as_bytes());
}

#[test]
fn jsonl_select_absent_key_is_null_when_flexible() {
    let sb = Sandbox::new();
    sb.write(
        "sparse.jsonl",
        b"{\"a\":1,\"b\":\"x\"}\n{\"a\":2}\n{\"b\":\"y\\n\",\"a\":[3]}\n",
    );
    let o = sb.weir(&[
        "run",
        "-i",
        "sparse.jsonl",
        "--flexible",
        "--select",
        "b,a",
        "-q",
    ]);
    assert_ok(&o);
    assert_bytes(
        &o.stdout,
        b"{\"b\":\"x\",\"a\":1}\n{\"b\":null,\"a\":2}\n{\"b\":\"y\\n\",\"a\":[3]}\n",
    );
}

#[test]
fn jsonl_absent_key_is_a_missing_cell_when_strict() {
    let sb = Sandbox::new();
    sb.write(
        "sparse.jsonl",
        b"{\"a\":1,\"b\":\"x\"}\n{\"a\":2}\n{\"b\":\"y\",\"a\":3}\n",
    );
    let o = sb.weir(&[
        "run",
        "-i",
        "sparse.jsonl",
        "--select",
        "b,a",
        "--rejects",
        "rej.csv",
        "-q",
    ]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"{\"b\":\"x\",\"a\":1}\n{\"b\":\"y\",\"a\":3}\n");
    assert_bytes(
        &sb.read("rej.csv"),
        b"file,line,byte_offset,field,error,message,record\n\
          sparse.jsonl,2,16,b,missing-cell,key 'b' is missing,\"{\"\"a\"\":2}\"\n",
    );
}

#[test]
fn lines_by_extension_every_line_is_a_record() {
    let sb = Sandbox::new();
    let input = sb.fixture("notes.txt");
    let o = sb.weir(&[
        "run",
        "-i",
        "notes.txt",
        "-o",
        "out.txt",
        "--report",
        "report.json",
        "-q",
    ]);
    assert_ok(&o);
    assert_bytes(&sb.read("out.txt"), &input);
    let report = sb.read_string("report.json");
    assert_eq!(
        report_num(&report, "records_read"),
        5,
        "the empty line counts"
    );
    assert_eq!(report_num(&report, "records_written"), 5);
    assert_eq!(report_field(&report, "format"), "lines");
}

#[test]
fn lines_by_format_flag_with_select_line() {
    let sb = Sandbox::new();
    let input = sb.fixture_as("notes.txt", "notes.csv");
    let o = sb.weir(&[
        "run",
        "-i",
        "notes.csv",
        "--format",
        "lines",
        "--select",
        "line",
        "-q",
    ]);
    assert_ok(&o);
    assert_bytes(&o.stdout, &input);
}

#[test]
fn lines_crlf_and_no_final_newline() {
    let sb = Sandbox::new();
    sb.write("in.txt", b"a, \"b\"\r\n\r\n\r\nlast");
    let o = sb.weir(&["run", "-i", "in.txt", "--report", "r.json", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"a, \"b\"\n\n\nlast\n");
    assert_eq!(report_num(sb.read("r.json"), "records_read"), 4);
}

#[test]
fn lines_select_unknown_column_suggests_line() {
    let sb = Sandbox::new();
    sb.fixture("notes.txt");
    let o = sb.weir(&["run", "-i", "notes.txt", "--select", "lines"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("unknown column 'lines' (did you mean 'line'?)"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());
}
