//! Rejects a user can fix and feed back: `--rejects-format input` writes the rejected records
//! as they were read (a CSV/TSV header first) with their reasons beside them in
//! `NAME.errors.csv`; `--all-errors` lists every schema error of a record.

use std::process::Command;

use crate::support::*;

// messy.csv, by line (a record's first line, byte offset):
//   1  header
//   2   (18) record 1: fine
//   3   (37) record 2: age "abc" is not an integer
//   4-5 (66) record 3: a quoted name over two lines, age -4 below the minimum
//   6   (92) record 4: fine
//   7  (111) record 5: no name (required)
//   8  (125) record 6: fine, with quoted quotes
const MESSY: &[u8] = b"id,name,age,email
1,Ann,34,ann@x.org
2,\"Smith, Bob\",abc,bob@x.org
3,\"multi
line\",-4,c@x.org
4,Dee,51,dee@x.org
5,,27,e@x.org
6,\"quote \"\"q\"\"\",19,f@x.org
";

const SCHEMA: &str = r#"{"fields": [
  {"name": "id", "type": "integer"},
  {"name": "name", "type": "string", "constraints": {"required": true}},
  {"name": "age", "type": "integer", "constraints": {"minimum": 0}},
  {"name": "email", "type": "string", "constraints": {"pattern": ".+@.+"}}
]}"#;

const MESSY_REASONS: &[u8] = b"file,line,byte_offset,field,error,message,rejects_line
messy.csv,3,37,age,type-error,\"cell \"\"abc\"\": type is \"\"integer/default\"\"\",2
messy.csv,4,66,age,constraint-error,\"cell \"\"-4\"\": constraint \"\"minimum\"\" is \"\"0\"\"\",3
messy.csv,7,111,name,constraint-error,\"cell \"\"\"\": constraint \"\"required\"\" is \"\"True\"\"\",5
";

// Columns of a reasons file (and of a rejects table, whose last column is the record).
const FILE: usize = 0;
const LINE: usize = 1;
const BYTE_OFFSET: usize = 2;
const FIELD: usize = 3;
const ERROR: usize = 4;
const REJECTS_LINE: usize = 6;
const RECORD: usize = 6;

fn sandbox() -> Sandbox {
    let sb = Sandbox::new();
    sb.write("messy.csv", MESSY);
    sb.write("schema.json", SCHEMA.as_bytes());
    sb
}

/// `file` parsed by Python's csv module (an independent reader), as rows of strings.
fn python_csv(sb: &Sandbox, file: &str, delimiter: &str) -> Vec<Vec<String>> {
    let script = "import csv, json, sys\n\
                  rows = list(csv.reader(open(sys.argv[1], newline=''), delimiter=sys.argv[2]))\n\
                  print(json.dumps(rows))";
    let o = Command::new("python3")
        .args(["-c", script, file, delimiter])
        .current_dir(sb.path())
        .output()
        .expect("python3 runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("rows as JSON")
}

fn rows(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect()
}

/// The arguments of `weir COMMAND` from messy.csv to good.csv under the schema, then `extra`.
fn messy_args<'a>(command: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        command,
        "-i",
        "messy.csv",
        "-o",
        "good.csv",
        "--schema",
        "schema.json",
    ];
    args.extend_from_slice(extra);
    args
}

/// Runs messy.csv with its rejects to bad.csv and a report, then `extra`.
fn run_messy(sb: &Sandbox, extra: &[&str]) -> std::process::Output {
    let args = messy_args("run", &["--rejects", "bad.csv", "--report", "report.json"]);
    sb.weir_with(&args, extra)
}

#[test]
fn csv_rejects_are_the_rejected_rows_as_read_and_fixed_they_run_clean() {
    let sb = sandbox();
    let o = run_messy(&sb, &["--rejects-format", "input", "-j", "2"]);
    assert_ok(&o);
    assert_balanced(sb.read("report.json"));
    assert_eq!(report_num(sb.read("report.json"), "records_rejected"), 3);
    // The header and the rejected records, byte for byte as they were in the input.
    assert_bytes(
        &sb.read("bad.csv"),
        b"id,name,age,email
2,\"Smith, Bob\",abc,bob@x.org
3,\"multi
line\",-4,c@x.org
5,,27,e@x.org
",
    );
    // Another reader sees exactly the rejected rows, with their values.
    assert_eq!(
        python_csv(&sb, "bad.csv", ","),
        rows(&[
            &["id", "name", "age", "email"],
            &["2", "Smith, Bob", "abc", "bob@x.org"],
            &["3", "multi\nline", "-4", "c@x.org"],
            &["5", "", "27", "e@x.org"],
        ])
    );
    // Each reason names the record in the input and the line it starts on in the rejects.
    assert_bytes(&sb.read("bad.errors.csv"), MESSY_REASONS);
    // Each byte offset written points at its record in the input.
    let offsets = csv_columns(&sb.read("bad.errors.csv"), &[BYTE_OFFSET]);
    let firsts = ["2,\"Smith", "3,\"multi", "5,,27"];
    assert_eq!(offsets.len(), firsts.len(), "{offsets:?}");
    for (offset, first) in offsets.iter().zip(firsts) {
        let at: usize = offset[0].parse().unwrap();
        assert!(MESSY[at..].starts_with(first.as_bytes()), "{offset:?}");
    }

    // Fixed with sed, the rejects file is an input like any other: all of it is written.
    let sed = Command::new("sed")
        .args([
            "-i",
            "-e",
            "s/,abc,/,40,/",
            "-e",
            "s/,-4,/,4,/",
            "-e",
            "s/^5,,/5,Eve,/",
        ])
        .arg(sb.join("bad.csv"))
        .status()
        .unwrap();
    assert!(sed.success());
    let o = sb.weir(&[
        "run",
        "-i",
        "bad.csv",
        "-o",
        "fixed.csv",
        "--schema",
        "schema.json",
        "--rejects",
        "bad2.csv",
        "--rejects-format",
        "input",
        "--report",
        "report2.json",
    ]);
    assert_ok(&o);
    assert_eq!(report_num(sb.read("report2.json"), "records_rejected"), 0);
    assert_eq!(report_num(sb.read("report2.json"), "records_written"), 3);
    assert_eq!(
        python_csv(&sb, "fixed.csv", ","),
        rows(&[
            &["id", "name", "age", "email"],
            &["2", "Smith, Bob", "40", "bob@x.org"],
            &["3", "multi\nline", "4", "c@x.org"],
            &["5", "Eve", "27", "e@x.org"],
        ])
    );
    // No rejects: the header alone, and the reasons' header alone.
    assert_bytes(&sb.read("bad2.csv"), b"id,name,age,email\n");
    assert_bytes(
        &sb.read("bad2.errors.csv"),
        b"file,line,byte_offset,field,error,message,rejects_line\n",
    );
}

#[test]
fn tsv_rejects_keep_the_tab_separated_header_and_rows() {
    let sb = Sandbox::new();
    sb.write(
        "in.tsv",
        b"id\tname\tage\n1\tAnn\t34\n2\tBob\tx\n3\tCy, Jr\t-1\n4\tDee\t8\n",
    );
    sb.write(
        "schema.json",
        br#"{"fields": [{"name": "id", "type": "integer"}, {"name": "name"},
            {"name": "age", "type": "integer", "constraints": {"minimum": 0}}]}"#,
    );
    let o = sb.weir(&[
        "run",
        "-i",
        "in.tsv",
        "-o",
        "out.tsv",
        "--schema",
        "schema.json",
        "--rejects",
        "bad.tsv",
        "--rejects-format",
        "input",
    ]);
    assert_ok(&o);
    assert_bytes(
        &sb.read("bad.tsv"),
        b"id\tname\tage\n2\tBob\tx\n3\tCy, Jr\t-1\n",
    );
    assert_eq!(
        python_csv(&sb, "bad.tsv", "\t"),
        rows(&[
            &["id", "name", "age"],
            &["2", "Bob", "x"],
            &["3", "Cy, Jr", "-1"]
        ])
    );
    assert_eq!(
        csv_columns(
            &sb.read("bad.errors.csv"),
            &[FILE, LINE, BYTE_OFFSET, REJECTS_LINE]
        ),
        [["in.tsv", "3", "21", "2"], ["in.tsv", "4", "29", "3"]]
    );

    // Fixed, the rejects run clean as TSV (their extension says so).
    let fixed = sb
        .read_string("bad.tsv")
        .replace("\tx\n", "\t7\n")
        .replace("-1", "1");
    sb.write("bad.tsv", fixed.as_bytes());
    let o = sb.weir(&[
        "run",
        "-i",
        "bad.tsv",
        "-o",
        "fixed.tsv",
        "--schema",
        "schema.json",
        "--rejects",
        "bad2.tsv",
    ]);
    assert_ok(&o);
    assert_bytes(
        &sb.read("fixed.tsv"),
        b"id\tname\tage\n2\tBob\t7\n3\tCy, Jr\t1\n",
    );
    assert_bytes(
        &sb.read("bad2.tsv"),
        b"file,line,byte_offset,field,error,message,record\n",
    );
}

#[test]
fn json_lines_rejects_are_the_lines_as_they_were() {
    let sb = Sandbox::new();
    let input = b"{\"id\": 1, \"name\": \"a\"}\n{\"id\": \"x\", \"name\": \"b\"}\nnot json\n\n{\"id\":3,\"name\":\"c\"}\n{ \"id\" : -2 , \"name\" : \"\\u00e9\" }\n";
    sb.write("in.jsonl", input);
    sb.write(
        "schema.json",
        br#"{"fields": [{"name": "id", "type": "integer", "constraints": {"minimum": 0}},
            {"name": "name"}]}"#,
    );
    let o = sb.weir(&[
        "run",
        "-i",
        "in.jsonl",
        "-o",
        "out.jsonl",
        "--schema",
        "schema.json",
        "--rejects",
        "bad.jsonl",
        "--rejects-format",
        "input",
        "--report",
        "report.json",
    ]);
    assert_ok(&o);
    assert_balanced(sb.read("report.json"));
    // No header: the rejected lines, byte for byte, the blank line not being a record.
    assert_bytes(
        &sb.read("bad.jsonl"),
        b"{\"id\": \"x\", \"name\": \"b\"}\nnot json\n{ \"id\" : -2 , \"name\" : \"\\u00e9\" }\n",
    );
    assert_eq!(
        csv_columns(&sb.read("bad.errors.csv"), &[LINE, ERROR, REJECTS_LINE]),
        [
            ["2", "type-error", "1"],
            ["3", "parse-error", "2"],
            ["6", "constraint-error", "3"]
        ]
    );
    // Fed back as they are, the same records are rejected again, each at its line there.
    let o = sb.weir(&[
        "run",
        "-i",
        "bad.jsonl",
        "-o",
        "out2.jsonl",
        "--schema",
        "schema.json",
        "--rejects",
        "bad2.jsonl",
        "--rejects-format",
        "input",
    ]);
    assert_ok(&o);
    assert_bytes(&sb.read("bad2.jsonl"), &sb.read("bad.jsonl"));
    assert_eq!(
        csv_columns(&sb.read("bad2.errors.csv"), &[LINE, REJECTS_LINE]),
        [["1", "1"], ["2", "2"], ["3", "3"]]
    );
}

#[test]
fn lines_rejects_are_lines() {
    let sb = Sandbox::new();
    sb.write("in.txt", b"alpha\nBeta 2\ngamma\n\xff bytes\ndelta\n");
    sb.write(
        "schema.json",
        br#"{"fields": [{"name": "line", "constraints": {"pattern": "[a-z]+"}}]}"#,
    );
    let o = sb.weir(&[
        "run",
        "-i",
        "in.txt",
        "-o",
        "out.txt",
        "--schema",
        "schema.json",
        "--rejects",
        "bad.txt",
        "--rejects-format",
        "input",
    ]);
    assert_ok(&o);
    assert_bytes(&sb.read("out.txt"), b"alpha\ngamma\ndelta\n");
    assert_bytes(&sb.read("bad.txt"), b"Beta 2\n\xff bytes\n");
    assert_eq!(
        csv_columns(&sb.read("bad.errors.csv"), &[LINE, REJECTS_LINE]),
        [["2", "1"], ["4", "2"]]
    );
}

#[test]
fn several_inputs_share_one_header_and_the_reasons_name_each_file() {
    let sb = sandbox();
    sb.write(
        "more.csv",
        b"id,name,age,email\n7,Gus,x,g@x.org\n8,Hal,3,h@x.org\n",
    );
    let o = sb.weir(&[
        "run",
        "-i",
        "messy.csv",
        "-i",
        "more.csv",
        "-o",
        "good.csv",
        "--schema",
        "schema.json",
        "--rejects",
        "bad.csv",
        "--rejects-format",
        "input",
    ]);
    assert_ok(&o);
    let bad = sb.read_string("bad.csv");
    assert_eq!(bad.matches("id,name,age,email").count(), 1, "{bad}");
    assert!(bad.ends_with("5,,27,e@x.org\n7,Gus,x,g@x.org\n"), "{bad}");
    let reasons = parse_csv(&sb.read("bad.errors.csv"));
    let last = reasons.last().unwrap();
    assert_eq!(
        (last[0].as_str(), last[1].as_str(), last[6].as_str()),
        ("more.csv", "2", "6")
    );
}

#[test]
fn a_record_too_large_to_keep_has_its_reason_but_no_place_in_the_rejects() {
    let sb = sandbox();
    let mut input = b"id,name,age,email\n1,Ann,x,a@x.org\n2,".to_vec();
    input.extend(std::iter::repeat_n(b'z', 3000));
    input.extend_from_slice(b",5,b@x.org\n3,Cy,-1,c@x.org\n4,Dee,1,d@x.org\n");
    sb.write("big.csv", &input);
    let o = sb.weir(&[
        "run",
        "-i",
        "big.csv",
        "-o",
        "good.csv",
        "--schema",
        "schema.json",
        "--max-record-size",
        "1KiB",
        "--oversized",
        "reject",
        "--rejects",
        "bad.csv",
        "--rejects-format",
        "input",
        "--report",
        "report.json",
    ]);
    assert_ok(&o);
    assert_balanced(sb.read("report.json"));
    assert_eq!(report_num(sb.read("report.json"), "records_rejected"), 3);
    // Only whole records are in the rejects: the cut one could not be fed back.
    assert_bytes(
        &sb.read("bad.csv"),
        b"id,name,age,email\n1,Ann,x,a@x.org\n3,Cy,-1,c@x.org\n",
    );
    let reasons = parse_csv(&sb.read("bad.errors.csv"));
    assert_eq!(
        csv_columns(&sb.read("bad.errors.csv"), &[LINE, ERROR, REJECTS_LINE]),
        [
            ["2", "type-error", "2"],
            ["3", "record-too-large", ""],
            ["4", "constraint-error", "3"]
        ]
    );
    assert!(
        reasons[2][5].contains("not in the rejects file"),
        "{:?}",
        reasons[2]
    );
}

#[test]
fn compressed_rejects_keep_their_compression_and_feed_back() {
    let sb = sandbox();
    let o = sb.weir(&messy_args(
        "run",
        &["--rejects", "bad.csv.gz", "--rejects-format", "input"],
    ));
    assert_ok(&o);
    let unzip = |name: &str| {
        let o = Command::new("gzip")
            .args(["-dc", name])
            .current_dir(sb.path())
            .output()
            .unwrap();
        assert!(o.status.success());
        o.stdout
    };
    assert_eq!(unzip("bad.errors.csv.gz"), MESSY_REASONS);
    assert!(unzip("bad.csv.gz").starts_with(b"id,name,age,email\n2,\"Smith, Bob\""));
    // Read back as it is (gzip found by its magic bytes): the same three are rejected again.
    let o = sb.weir(&[
        "run",
        "-i",
        "bad.csv.gz",
        "--format",
        "csv",
        "-o",
        "again.csv",
        "--schema",
        "schema.json",
        "--report",
        "report.json",
    ]);
    assert_ok(&o);
    assert_eq!(report_num(sb.read("report.json"), "records_rejected"), 3);
}

#[test]
fn a_duplicate_key_rejected_in_order_lands_at_its_place_in_the_rejects() {
    let sb = Sandbox::new();
    sb.write("in.csv", b"id,v\n1,a\n2,b\n1,c\nx,d\n2,e\n3,f\n");
    sb.write(
        "schema.json",
        br#"{"fields": [{"name": "id", "type": "integer"}, {"name": "v"}], "primaryKey": ["id"]}"#,
    );
    for workers in ["1", "3"] {
        let sb_args = [
            "run",
            "-i",
            "in.csv",
            "-o",
            "out.csv",
            "--schema",
            "schema.json",
            "--rejects",
            "bad.csv",
            "--rejects-format",
            "input",
            "--chunk-size",
            "8",
            "-j",
            workers,
        ];
        let o = sb.weir(&sb_args);
        assert_ok(&o);
        assert_bytes(&sb.read("out.csv"), b"id,v\n1,a\n2,b\n3,f\n");
        assert_bytes(&sb.read("bad.csv"), b"id,v\n1,c\nx,d\n2,e\n");
        assert_eq!(
            csv_columns(&sb.read("bad.errors.csv"), &[LINE, ERROR, REJECTS_LINE]),
            [
                ["4", "unique-error", "2"],
                ["5", "type-error", "3"],
                ["6", "unique-error", "4"]
            ],
            "-j {workers}"
        );
    }
}

// --all-errors

const MANY: &[u8] = b"id,name,age,email
1,Ann,34,ann@x.org
x,,-1,nobody
3,Cy,abc,c@x.org
4,Dee,5,d@x.org
";

#[test]
fn all_errors_lists_one_table_row_per_error_and_counts_records_once() {
    let sb = sandbox();
    sb.write("many.csv", MANY);
    let args = [
        "run",
        "-i",
        "many.csv",
        "-o",
        "good.csv",
        "--schema",
        "schema.json",
        "--rejects",
        "bad.csv",
        "--report",
        "report.json",
    ];
    // Without it, the first error of each record.
    assert_ok(&sb.weir(&args));
    let first = parse_csv(&sb.read("bad.csv"));
    assert_eq!(first.len(), 3, "{first:?}");
    assert_eq!(report_num(sb.read("report.json"), "reject_errors"), 2);

    let o = sb.weir_with(&args, &["--all-errors"]);
    assert_ok(&o);
    assert_eq!(
        csv_columns(&sb.read("bad.csv"), &[LINE, FIELD, ERROR, RECORD]),
        [
            ["3", "id", "type-error", "x,,-1,nobody"],
            ["3", "name", "constraint-error", "x,,-1,nobody"],
            ["3", "age", "constraint-error", "x,,-1,nobody"],
            ["3", "email", "constraint-error", "x,,-1,nobody"],
            ["4", "age", "type-error", "3,Cy,abc,c@x.org"],
        ]
    );
    let json = sb.read("report.json");
    assert_balanced(&json);
    assert_eq!(report_num(&json, "records_rejected"), 2);
    assert_eq!(report_num(&json, "reject_errors"), 5);
    assert_eq!(
        report_rejects_by_error(&json),
        [
            ("constraint-error".to_string(), 3),
            ("type-error".to_string(), 2)
        ]
    );

    // In the input's format: each record once, each of its reasons linked to it.
    let o = sb.weir_with(&args, &["--all-errors", "--rejects-format", "input"]);
    assert_ok(&o);
    assert_bytes(
        &sb.read("bad.csv"),
        b"id,name,age,email\nx,,-1,nobody\n3,Cy,abc,c@x.org\n",
    );
    assert_eq!(
        csv_columns(&sb.read("bad.errors.csv"), &[REJECTS_LINE]),
        [["2"], ["2"], ["2"], ["2"], ["3"]]
    );
}

#[test]
fn a_pipeline_file_asks_for_input_rejects_and_all_errors() {
    let sb = sandbox();
    sb.write("many.csv", MANY);
    sb.write(
        "p.toml",
        b"input = \"many.csv\"\noutput = \"good.csv\"\nschema = \"schema.json\"\n\
          rejects = \"bad.csv\"\nrejects_format = \"input\"\nall_errors = true\n",
    );
    let o = sb.weir(&["run", "p.toml"]);
    assert_ok(&o);
    assert_bytes(
        &sb.read("bad.csv"),
        b"id,name,age,email\nx,,-1,nobody\n3,Cy,abc,c@x.org\n",
    );
    assert_eq!(parse_csv(&sb.read("bad.errors.csv")).len(), 6);
    sb.write(
        "p2.toml",
        b"input = \"many.csv\"\nrejects_format = \"raw\"\n",
    );
    let o = sb.weir(&["run", "p2.toml"]);
    let err = assert_fails(&o, 2, "pipeline file p2.toml: ");
    assert!(
        err.contains("rejects_format = \"raw\"")
            && err.contains("unknown variant `raw`, expected `table` or `input`"),
        "{err}"
    );
}

// Usage errors: each exits 2 before anything is read or written.

#[test]
fn input_rejects_that_cannot_have_reasons_beside_them_are_usage_errors() {
    let sb = sandbox();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--rejects", "-", "--rejects-format", "input"],
            "--rejects - has none: give --rejects a file",
        ),
        (
            &["--rejects-format", "input"],
            "--rejects-format says how --rejects holds the rejected records: give --rejects",
        ),
        (
            &["--rejects", "bad.csv", "--rejects-format", "csv"],
            "'csv' is not table or input",
        ),
        (
            &["--all-errors"],
            "--all-errors lists every error that schema validation finds",
        ),
        (
            &[
                "--rejects",
                "bad.csv",
                "--rejects-format",
                "input",
                "-o",
                "bad.errors.csv",
            ],
            "the output and the rejects reasons are the same file (bad.errors.csv)",
        ),
        (
            &[
                "--rejects",
                "messy.csv.gz",
                "--rejects-format",
                "input",
                "-i",
                "messy.errors.csv.gz",
            ],
            "would replace the input messy.errors.csv.gz",
        ),
    ];
    sb.write("messy.errors.csv.gz", b"");
    for (extra, message) in cases {
        let mut args = vec!["run", "-i", "messy.csv"];
        if !extra.contains(&"-o") {
            args.extend(["-o", "out.csv"]);
        }
        args.extend_from_slice(extra);
        let o = sb.weir(&args);
        assert_fails_in(&args.join(" "), &o, 2, message);
        assert!(!sb.exists("out.csv"), "{args:?}");
        assert!(!sb.exists("bad.csv"), "{args:?}");
    }
}

#[test]
fn shards_keep_their_rejects_as_a_table() {
    let sb = sandbox();
    let o = sb.weir(&[
        "plan",
        "-i",
        "messy.csv",
        "--out",
        "shards",
        "--shards",
        "2",
        "--rejects",
        "bad.csv",
        "--rejects-format",
        "input",
    ]);
    assert_fails(&o, 2, "--rejects-format input does not go with shards");
    let o = sb.weir(&[
        "run",
        "-i",
        "messy.csv",
        "--out",
        "shards",
        "--shard",
        "0",
        "--rejects",
        "bad.csv",
        "--rejects-format",
        "input",
    ]);
    assert_fails(&o, 2, "--rejects-format input does not go with shards");
    assert!(!sb.exists("shards/rejects"));
}

// The reasons commit with the output, the rejects and the report.

/// A run reading standard input (a record rejected in the first part) to `out.csv`, its
/// rejects in the input's format to `rej.csv`; `mid` runs while the run waits for the rest.
fn run_with_pause(sb: &Sandbox, mid: impl FnOnce()) -> std::process::Output {
    let args = [
        "run",
        "-i",
        "-",
        "--format",
        "csv",
        "-o",
        "out.csv",
        "--schema",
        "schema.json",
        "--rejects",
        "rej.csv",
        "--rejects-format",
        "input",
    ];
    sb.weir_paused(
        &args,
        b"id,name,age,email\n1,a,x,a@x\n",
        mid,
        b"2,b,3,b@x\n",
    )
}

#[test]
fn reasons_that_cannot_be_committed_leave_the_old_rejects_and_output_in_place() {
    for broken in ["rej.errors.csv", "out.csv"] {
        let sb = sandbox();
        sb.write("rej.csv", b"old rejects\n");
        sb.write("rej.errors.csv", b"old reasons\n");
        sb.write("out.csv", b"old output\n");
        // One member's path becomes a folder that is not empty while the run goes on: its
        // rename fails, and the members renamed before it are put back.
        let o = run_with_pause(&sb, || {
            std::fs::remove_file(sb.join(broken)).unwrap();
            std::fs::create_dir_all(sb.join(broken).join("x")).unwrap();
        });
        assert_fails_in(broken, &o, 1, &format!("cannot write {broken}"));
        assert_bytes(&sb.read("rej.csv"), b"old rejects\n");
        if broken != "rej.errors.csv" {
            assert_bytes(&sb.read("rej.errors.csv"), b"old reasons\n");
        }
        if broken != "out.csv" {
            assert_bytes(&sb.read("out.csv"), b"old output\n");
        }
        assert_eq!(
            sb.hidden(),
            Vec::<String>::new(),
            "{broken}: no backup or journal left"
        );
    }
}

#[test]
fn a_commit_killed_after_the_reasons_were_placed_is_undone_by_the_next_run() {
    let sb = sandbox();
    let pid = dead_pid();
    // A SIGKILL after the rejects' and the reasons' renames, before the output's: both new
    // in place with the old ones as backups, the output's temporary file, and the journal.
    sb.write("rej.csv", b"new rejects\n");
    sb.write(&format!(".rej.csv.weir-{pid}-0.old"), b"old rejects\n");
    sb.write("rej.errors.csv", b"new reasons\n");
    sb.write(
        &format!(".rej.errors.csv.weir-{pid}-1.old"),
        b"old reasons\n",
    );
    sb.write("out.csv", b"old output\n");
    sb.write(&format!(".out.csv.weir-{pid}-2.tmp"), b"new output\n");
    sb.write_commit_journal(
        "out.csv",
        pid,
        &[
            (
                "rej.csv",
                &format!(".rej.csv.weir-{pid}-3.tmp"),
                Some(&format!(".rej.csv.weir-{pid}-0.old")),
                None,
            ),
            (
                "rej.errors.csv",
                &format!(".rej.errors.csv.weir-{pid}-4.tmp"),
                Some(&format!(".rej.errors.csv.weir-{pid}-1.old")),
                None,
            ),
            (
                "out.csv",
                &format!(".out.csv.weir-{pid}-2.tmp"),
                None,
                Some("file"),
            ),
        ],
    );
    let o = sb.weir(&[
        "run",
        "-i",
        "absent.csv",
        "-o",
        "out.csv",
        "--rejects",
        "rej.csv",
        "--rejects-format",
        "input",
    ]);
    assert_fails(&o, 2, "cannot open input absent.csv");
    assert_bytes(&sb.read("rej.csv"), b"old rejects\n");
    assert_bytes(&sb.read("rej.errors.csv"), b"old reasons\n");
    assert_bytes(&sb.read("out.csv"), b"old output\n");
    assert_eq!(sb.hidden(), Vec::<String>::new());
}

#[test]
fn a_resumable_run_keeps_its_reasons_and_refuses_another_rejects_format_on_resume() {
    let sb = sandbox();
    let args = messy_args("run", &["--rejects", "bad.csv", "--resume"]);
    let o = sb.weir_with(&args, &["--rejects-format", "input"]);
    assert_ok(&o);
    assert_bytes(&sb.read("bad.errors.csv"), MESSY_REASONS);
    assert!(sb.read("bad.csv").starts_with(b"id,name,age,email\n2,"));
    // No partial file is left of the reasons; the finished run's checkpoint says complete.
    let weir_files: Vec<String> = sb
        .names()
        .into_iter()
        .filter(|n| n.contains(".weir-"))
        .collect();
    assert_eq!(weir_files, [".good.csv.weir-checkpoint"]);
    // The checkpoint was taken for rejects in the input's format: a table is another run.
    let o = sb.weir(&args);
    assert_fails(
        &o,
        2,
        "it was taken for rejects in the input format, not the table one (--rejects-format)",
    );
    assert_bytes(&sb.read("bad.errors.csv"), MESSY_REASONS);
}

#[test]
fn all_errors_lists_a_duplicate_key_after_the_cell_errors_of_its_record() {
    let sb = Sandbox::new();
    sb.write("in.csv", b"id,name,age\n1,Ann,34\n1,Bob,x\n1,Cy,5\n2,,7\n");
    sb.write(
        "schema.json",
        br#"{"fields": [{"name": "id", "type": "integer"},
            {"name": "name", "constraints": {"required": true}},
            {"name": "age", "type": "integer"}], "primaryKey": ["id"]}"#,
    );
    for workers in ["1", "3"] {
        let run = |extra: &[&str]| {
            let mut args = vec![
                "run",
                "-i",
                "in.csv",
                "-o",
                "out.csv",
                "--schema",
                "schema.json",
                "--rejects",
                "bad.csv",
                "--report",
                "report.json",
                "--all-errors",
                "--chunk-size",
                "8",
                "-j",
                workers,
            ];
            args.extend_from_slice(extra);
            assert_ok(&sb.weir(&args));
        };
        run(&[]);
        assert_eq!(
            csv_columns(&sb.read("bad.csv"), &[LINE, FIELD, ERROR]),
            [
                ["3", "age", "type-error"],
                ["3", "id", "unique-error"],
                ["4", "id", "unique-error"],
                ["5", "name", "constraint-error"],
            ],
            "-j {workers}"
        );
        let json = sb.read("report.json");
        assert_balanced(&json);
        assert_eq!(report_num(&json, "records_rejected"), 3);
        assert_eq!(report_num(&json, "reject_errors"), 4);

        run(&["--rejects-format", "input"]);
        assert_bytes(&sb.read("bad.csv"), b"id,name,age\n1,Bob,x\n1,Cy,5\n2,,7\n");
        assert_eq!(
            csv_columns(&sb.read("bad.errors.csv"), &[ERROR, REJECTS_LINE]),
            [
                ["type-error", "2"],
                ["unique-error", "2"],
                ["unique-error", "3"],
                ["constraint-error", "4"]
            ],
            "-j {workers}"
        );
    }
}

#[test]
fn explain_says_where_the_reasons_go_and_that_every_error_is_listed() {
    let sb = sandbox();
    let o = sb.weir(&messy_args(
        "explain",
        &[
            "--rejects",
            "bad.csv.gz",
            "--rejects-format",
            "input",
            "--all-errors",
        ],
    ));
    assert_ok(&o);
    let plan = String::from_utf8(o.stdout).unwrap();
    assert!(
        plan.contains("rejects bad.csv.gz (records as read; reasons in bad.errors.csv.gz)"),
        "{plan}"
    );
    assert!(
        plan.contains("validate Table Schema, 4 fields, all errors listed"),
        "{plan}"
    );
}
