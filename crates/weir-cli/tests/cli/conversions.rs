//! Conversions between the four formats, in every direction: `--output-format`, the output
//! extension, round trips that keep every value (NULL apart from the empty string), and the
//! rules for lines output. Every conversion runs at chunk sizes 1, 7 and the default with 1
//! and 3 workers, and must give the same bytes each time.

use crate::support::*;

/// The (chunk size, workers) pairs every conversion is run with; `None` is the default size.
const MATRIX: [(Option<&str>, &str); 6] = [
    (None, "1"),
    (None, "3"),
    (Some("1"), "1"),
    (Some("1"), "3"),
    (Some("7"), "1"),
    (Some("7"), "3"),
];

/// Runs `weir run -i input -o output args...` over [`MATRIX`], checks that every run gives the
/// same bytes, and returns them.
#[track_caller]
fn convert(sb: &Sandbox, input: &str, output: &str, args: &[&str]) -> Vec<u8> {
    let mut first: Option<Vec<u8>> = None;
    for (chunk, workers) in MATRIX {
        let mut argv = vec!["run", "-i", input, "-o", output, "-q", "--workers", workers];
        if let Some(c) = chunk {
            argv.extend(["--chunk-size", c]);
        }
        argv.extend_from_slice(args);
        let o = sb.weir(&argv);
        assert_ok(&o);
        let out = sb.read(output);
        match &first {
            None => first = Some(out),
            Some(f) => {
                if *f != out {
                    panic!(
                        "{input} -> {output} {args:?}: chunk {chunk:?}, {workers} workers differs\n  \
                         got: {:?}\n  first: {:?}",
                        String::from_utf8_lossy(&out),
                        String::from_utf8_lossy(f)
                    );
                }
            }
        }
    }
    first.expect("at least one run")
}

/// Three columns in three formats, each canonical: a comma, a quote, a tab, a line break, a
/// NULL and an empty string, non-ASCII text and a number-looking string.
const TABLE_CSV: &[u8] = "id,name,note
1,\"Smith, Jane\",plain
2,\"say \"\"hi\"\"\",
3,\"\",\"multi
line\"
4,tab\there,007
5,ünïcödé,\"a,\"\"b\"\"\t\"
"
.as_bytes();

const TABLE_TSV: &[u8] = "id\tname\tnote
1\tSmith, Jane\tplain
2\t\"say \"\"hi\"\"\"\t
3\t\"\"\t\"multi
line\"
4\t\"tab\there\"\t007
5\tünïcödé\t\"a,\"\"b\"\"\t\"
"
.as_bytes();

const TABLE_JSONL: &[u8] = r#"{"id":"1","name":"Smith, Jane","note":"plain"}
{"id":"2","name":"say \"hi\"","note":null}
{"id":"3","name":"","note":"multi\nline"}
{"id":"4","name":"tab\there","note":"007"}
{"id":"5","name":"ünïcödé","note":"a,\"b\"\t"}
"#
.as_bytes();

#[test]
fn every_pair_of_csv_tsv_and_jsonl_keeps_every_value() {
    let tables: [(&str, &[u8]); 3] = [
        ("csv", TABLE_CSV),
        ("tsv", TABLE_TSV),
        ("jsonl", TABLE_JSONL),
    ];
    let sb = Sandbox::new();
    for (ext, bytes) in tables {
        sb.write(&format!("table.{ext}"), bytes);
    }
    for (from, _) in tables {
        for (to, expected) in tables {
            let out = convert(&sb, &format!("table.{from}"), &format!("out.{to}"), &[]);
            if out != expected {
                panic!(
                    "{from} -> {to}\n  actual: {:?}\nexpected: {:?}",
                    String::from_utf8_lossy(&out),
                    String::from_utf8_lossy(expected)
                );
            }
        }
    }
}

/// One column named `line` in the four formats: lines converts to and from any of them.
const LINE_CSV: &[u8] =
    "line\nplain\n\"a,b\"\n\"say \"\"hi\"\"\"\ntab\there\n\"\"\nünï\n".as_bytes();
const LINE_TSV: &[u8] =
    "line\nplain\na,b\n\"say \"\"hi\"\"\"\n\"tab\there\"\n\"\"\nünï\n".as_bytes();
const LINE_JSONL: &[u8] = r#"{"line":"plain"}
{"line":"a,b"}
{"line":"say \"hi\""}
{"line":"tab\there"}
{"line":""}
{"line":"ünï"}
"#
.as_bytes();
const LINE_TXT: &[u8] = "plain\na,b\nsay \"hi\"\ntab\there\n\nünï\n".as_bytes();

#[test]
fn every_pair_of_the_four_formats_with_one_column() {
    let tables: [(&str, &[u8]); 4] = [
        ("csv", LINE_CSV),
        ("tsv", LINE_TSV),
        ("jsonl", LINE_JSONL),
        ("txt", LINE_TXT),
    ];
    let sb = Sandbox::new();
    for (ext, bytes) in tables {
        sb.write(&format!("one.{ext}"), bytes);
    }
    for (from, _) in tables {
        for (to, expected) in tables {
            let out = convert(&sb, &format!("one.{from}"), &format!("out.{to}"), &[]);
            if out != expected {
                panic!(
                    "{from} -> {to}\n  actual: {:?}\nexpected: {:?}",
                    String::from_utf8_lossy(&out),
                    String::from_utf8_lossy(expected)
                );
            }
        }
    }
}

#[test]
fn csv_to_jsonl_to_csv_gives_the_original_records() {
    // Not canonical on the way in (needless quotes, CRLF): the records survive, not the bytes.
    let sb = Sandbox::new();
    let input = b"a,b,c\r\n\"x\",,\"\"\r\n\"1\",\"2,3\",\"\"\"\"\r\n";
    sb.write("in.csv", input);
    let jsonl = convert(&sb, "in.csv", "mid.jsonl", &[]);
    assert_bytes(
        &jsonl,
        br#"{"a":"x","b":null,"c":""}
{"a":"1","b":"2,3","c":"\""}
"#,
    );
    let back = convert(&sb, "mid.jsonl", "back.csv", &[]);
    assert_eq!(parse_csv(&back), parse_csv(input));
    assert_bytes(&back, b"a,b,c\nx,,\"\"\n1,\"2,3\",\"\"\"\"\n");
}

#[test]
fn null_and_the_empty_string_stay_apart_from_csv_to_jsonl() {
    let sb = Sandbox::new();
    sb.write("in.csv", b"a,b,c\n,\"\",x\n\"\",,\n");
    let out = convert(&sb, "in.csv", "out.jsonl", &[]);
    assert_bytes(
        &out,
        b"{\"a\":null,\"b\":\"\",\"c\":\"x\"}\n{\"a\":\"\",\"b\":null,\"c\":null}\n",
    );
}

#[test]
fn jsonl_to_csv_to_jsonl_keeps_string_values() {
    let sb = Sandbox::new();
    let input = r#"{"s":"a\"b\\c","u":"\u00e9\ud83d\ude00","n":"1e3","e":"","z":null,"ctl":"\u0001\ttab"}
{"s":"x\ny","u":"/","n":"-0","e":" ","z":"null","ctl":"{\"k\":1}"}
"#;
    sb.write("in.jsonl", input.as_bytes());
    convert(&sb, "in.jsonl", "mid.csv", &[]);
    let back = convert(&sb, "mid.csv", "back.jsonl", &[]);
    let parse = |bytes: &[u8]| -> Vec<serde_json::Value> {
        bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).expect("a JSON object"))
            .collect()
    };
    assert_eq!(parse(&back), parse(input.as_bytes()));
}

#[test]
fn jsonl_to_csv_writes_other_json_values_as_their_text() {
    let sb = Sandbox::new();
    sb.write(
        "in.jsonl",
        br#"{"n":-1.5e3,"b":true,"a":[1,"x"],"o":{"k":null},"z":null}
"#,
    );
    let out = convert(&sb, "in.jsonl", "out.csv", &[]);
    assert_bytes(
        &out,
        b"n,b,a,o,z\n-1.5e3,true,\"[1,\"\"x\"\"]\",\"{\"\"k\"\":null}\",\n".as_slice(),
    );
}

#[test]
fn tsv_and_csv_keep_tabs_commas_quotes_and_newlines() {
    let sb = Sandbox::new();
    let fields = "a,b,c,d,e\na\tb,\"c,d\",\"e\"\"f\",\"g\nh\",\"\r\n\"\n";
    sb.write("in.csv", fields.as_bytes());
    let tsv = convert(&sb, "in.csv", "mid.tsv", &[]);
    assert_eq!(
        parse_csv_with(&tsv, b'\t'),
        vec![
            vec!["a", "b", "c", "d", "e"]
                .into_iter()
                .map(String::from)
                .collect(),
            vec![
                "a\tb".into(),
                "c,d".into(),
                "e\"f".into(),
                "g\nh".into(),
                "\r\n".into()
            ]
        ]
    );
    let back = convert(&sb, "mid.tsv", "back.csv", &[]);
    assert_bytes(&back, fields.as_bytes());
}

#[test]
fn lines_to_csv_and_back_with_one_column() {
    let sb = Sandbox::new();
    let input = sb.fixture("notes.txt");
    let csv = convert(&sb, "notes.txt", "mid.csv", &[]);
    assert_eq!(parse_csv(&csv)[0], vec!["line".to_string()]);
    let back = convert(&sb, "mid.csv", "back.txt", &[]);
    assert_bytes(&back, &input);
}

#[test]
fn output_format_flag_overrides_the_extension_and_works_on_stdout() {
    let sb = Sandbox::new();
    sb.write("in.csv", TABLE_CSV);
    let out = convert(&sb, "in.csv", "out.csv", &["--output-format", "jsonl"]);
    assert_bytes(&out, TABLE_JSONL);
    let o = sb.weir(&["run", "-i", "in.csv", "--output-format", "tsv", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, TABLE_TSV);
    // Without a flag or an extension, the input's format is kept.
    let o = sb.weir(&["run", "-i", "in.csv", "-o", "out.dat", "-q"]);
    assert_ok(&o);
    assert_bytes(&sb.read("out.dat"), TABLE_CSV);
}

#[test]
fn output_extension_is_read_past_a_compression_extension() {
    let sb = Sandbox::new();
    sb.write("in.csv", TABLE_CSV);
    let o = sb.weir(&["explain", "-i", "in.csv", "-o", "out.jsonl.gz"]);
    assert_ok(&o);
    let plan = String::from_utf8_lossy(&o.stdout);
    assert!(plan.contains("output  out.jsonl.gz (jsonl)"), "{plan}");
}

#[test]
fn output_no_header_drops_the_header_row() {
    let sb = Sandbox::new();
    sb.write("in.jsonl", TABLE_JSONL);
    let out = convert(&sb, "in.jsonl", "out.csv", &["--output-no-header"]);
    assert_bytes(
        &out,
        &TABLE_CSV[TABLE_CSV.iter().position(|&b| b == b'\n').unwrap() + 1..],
    );
}

#[test]
fn transforms_run_before_the_conversion() {
    let sb = Sandbox::new();
    sb.write("in.csv", TABLE_CSV);
    let out = convert(
        &sb,
        "in.csv",
        "out.jsonl",
        &[
            "--filter",
            "CAST(id AS BIGINT) <= 2",
            "--derive",
            "twice=CAST(id AS BIGINT) * 2",
            "--derive",
            "half=CAST(id AS DOUBLE) / 2",
            "--derive",
            "big=id > '1'",
            "--select",
            "id,twice,half,big,note",
            "--rename",
            "note=the \"note\"",
        ],
    );
    assert_bytes(
        &out,
        br#"{"id":"1","twice":2,"half":0.5,"big":false,"the \"note\"":"plain"}
{"id":"2","twice":4,"half":1.0,"big":true,"the \"note\"":null}
"#,
    );
}

#[test]
fn lines_output_needs_exactly_one_column() {
    let sb = Sandbox::new();
    sb.write("in.csv", TABLE_CSV);
    let o = sb.weir(&["run", "-i", "in.csv", "-o", "out.txt"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("lines output takes exactly one column, the pipeline has 3: id, name, note"),
        "{}",
        stderr(&o)
    );
    assert_eq!(sb.names(), ["in.csv"], "nothing written");
    let o = sb.weir(&["explain", "-i", "in.csv", "--output-format", "lines"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

#[test]
fn lines_output_rejects_a_value_with_a_line_break() {
    let sb = Sandbox::new();
    sb.write("in.csv", TABLE_CSV);
    let o = sb.weir(&[
        "run",
        "-i",
        "in.csv",
        "-o",
        "out.txt",
        "--select",
        "note",
        "--rejects",
        "rejects.csv",
        "--report",
        "report.json",
        "-q",
    ]);
    assert_ok(&o);
    // NULL is an empty line; the multi-line value is a reject, not two lines.
    assert_bytes(&sb.read("out.txt"), b"plain\n\n007\na,\"b\"\t\n");
    let rejects = parse_csv(&sb.read("rejects.csv"));
    assert_eq!(rejects.len(), 2);
    assert_eq!(rejects[1][1], "4", "the record's line");
    assert_eq!(rejects[1][3], "note");
    assert_eq!(rejects[1][4], "encode-error");
    let report = sb.read_string("report.json");
    assert_balanced(&report);
    assert_eq!(report_num(&report, "records_rejected"), 1);
}

#[test]
fn pipeline_file_sets_the_output_format_and_header_and_flags_override_it() {
    let sb = Sandbox::new();
    sb.write("in.csv", TABLE_CSV);
    sb.write(
        "p.toml",
        b"input = \"in.csv\"\noutput = \"out.dat\"\noutput_format = \"tsv\"\noutput_header = false\n",
    );
    let o = sb.weir(&["run", "p.toml", "-q"]);
    assert_ok(&o);
    assert_bytes(
        &sb.read("out.dat"),
        &TABLE_TSV[TABLE_TSV.iter().position(|&b| b == b'\n').unwrap() + 1..],
    );
    let o = sb.weir(&["run", "p.toml", "--output-format", "jsonl", "-q"]);
    assert_ok(&o);
    assert_bytes(&sb.read("out.dat"), TABLE_JSONL);
}

#[test]
fn header_fields_keep_their_bytes_across_csv_and_tsv() {
    let sb = Sandbox::new();
    sb.write("in.csv", b"\"a\tb\",n\xe9,\"\"\n1,2,3\n");
    let out = convert(&sb, "in.csv", "out.tsv", &[]);
    assert_bytes(&out, b"\"a\tb\"\tn\xe9\t\"\"\n1\t2\t3\n");
}
