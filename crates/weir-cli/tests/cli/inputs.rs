//! Several inputs read as one stream: in order, headers checked, rejects naming each file.

use crate::support::*;

fn two_files() -> Sandbox {
    let sb = Sandbox::new();
    sb.write("b.csv", b"id,v\n3,c\n4\n5,\"multi\nline\"\n");
    sb.write("a.csv", b"id,v\n1,a\n2,b,extra\n");
    sb
}

#[test]
fn inputs_are_one_stream_in_the_order_given() {
    let sb = two_files();
    for chunk in ["1", "7", "1MiB"] {
        let o = sb.weir(&[
            "run",
            "-i",
            "a.csv",
            "-i",
            "b.csv",
            "--rejects",
            "rej.csv",
            "-q",
            "--chunk-size",
            chunk,
            "--workers",
            "3",
        ]);
        assert_ok(&o);
        assert_bytes(&o.stdout, b"id,v\n1,a\n3,c\n5,\"multi\nline\"\n");
        // Lines and offsets are each file's own; the file column names it.
        let rej = parse_csv(&sb.read("rej.csv"));
        let got: Vec<&[String]> = rej[1..].iter().map(|r| &r[..5]).collect();
        assert_eq!(
            got,
            [
                &["a.csv", "3", "9", "3", "extra-cell"][..],
                &["b.csv", "3", "9", "v", "missing-cell"][..],
            ],
            "chunk {chunk}"
        );
    }
}

#[test]
fn a_glob_reads_the_matching_files_sorted_by_name() {
    let sb = two_files();
    let o = sb.weir(&[
        "run",
        "-i",
        "*.csv",
        "-q",
        "--flexible",
        "--report",
        "r.json",
    ]);
    assert_ok(&o);
    assert_bytes(
        &o.stdout,
        b"id,v\n1,a\n2,b,extra\n3,c\n4\n5,\"multi\nline\"\n",
    );
    let report = sb.read_string("r.json");
    assert_eq!(report_num(&report, "records_read"), 5);
    let o = sb.weir(&["run", "-i", "nothing*.csv", "-o", "out.csv"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no file matches the input pattern 'nothing*.csv'"));
}

#[test]
fn a_name_that_holds_a_wildcard_is_read_as_it_is_when_it_matches_nothing_else() {
    let sb = Sandbox::new();
    sb.write("b[2].csv", b"id\nliteral\n");
    sb.write("a[1.csv", b"id\nunclosed\n");
    // `b[2].csv` as a pattern matches only `b2.csv`, which is not there: the name is read.
    let o = sb.weir(&["run", "-i", "b[2].csv", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"id\nliteral\n");
    // Not a valid pattern at all: the name is read.
    let o = sb.weir(&["run", "-i", "a[1.csv", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"id\nunclosed\n");
    // Once the pattern matches a file, the pattern wins, as in a shell.
    sb.write("b2.csv", b"id\nmatched\n");
    let o = sb.weir(&["run", "-i", "b[2].csv", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"id\nmatched\n");
    let o = sb.weir(&["run", "-i", "c[1.csv", "-o", "out.csv"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("bad input pattern 'c[1.csv'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_header_that_differs_stops_the_run_and_commits_nothing() {
    let sb = two_files();
    sb.write("c.csv", b"id,w\n9,z\n");
    let o = sb.weir(&["run", "-i", "a.csv", "-i", "c.csv", "-o", "out.csv"]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains("c.csv: the header differs from a.csv's: column 2 is 'w', not 'v'"),
        "{err}"
    );
    assert!(!sb.exists("out.csv"));
    assert!(sb.temp_files().is_empty());
}

#[test]
fn a_missing_input_is_reported_before_anything_is_written() {
    let sb = two_files();
    let o = sb.weir(&["run", "-i", "a.csv", "-i", "gone.csv", "-o", "out.csv"]);
    // A usage error, as a pattern that matches nothing is.
    assert_fails(&o, 2, "cannot open input gone.csv: no such file");
    assert!(!sb.exists("out.csv"));
}

#[test]
fn ordered_steps_see_all_inputs_as_one_stream() {
    let sb = Sandbox::new();
    sb.write("1.jsonl", b"{\"k\":\"x\",\"n\":1}\n{\"k\":\"y\",\"n\":2}\n");
    sb.write("2.jsonl", b"{\"k\":\"x\",\"n\":3}\n{\"k\":\"z\",\"n\":4}\n");
    let o = sb.weir(&[
        "run",
        "-i",
        "1.jsonl",
        "-i",
        "2.jsonl",
        "-q",
        "--dedupe",
        "k",
        "--chunk-size",
        "5",
    ]);
    assert_ok(&o);
    assert_bytes(
        &o.stdout,
        b"{\"k\":\"x\",\"n\":1}\n{\"k\":\"y\",\"n\":2}\n{\"k\":\"z\",\"n\":4}\n",
    );
}
