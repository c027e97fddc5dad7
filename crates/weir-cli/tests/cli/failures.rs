//! Runs that fail: usage errors (exit 2, nothing written) and run errors (exit 1, nothing
//! committed, an existing output left as it was, no temporary files left behind).

use crate::support::*;

#[test]
fn unknown_select_column_is_a_usage_error_and_writes_nothing() {
    let sb = Sandbox::new();
    sb.fixture("ragged.csv");
    let o = sb.weir(&[
        "run",
        "-i",
        "ragged.csv",
        "-o",
        "out.csv",
        "--rejects",
        "rejects.csv",
        "--report",
        "report.json",
        "--select",
        "id,nmae",
    ]);
    assert_eq!(code(&o), 2, "stderr: {}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("unknown column 'nmae'"), "{err}");
    assert!(err.contains("did you mean 'name'"), "{err}");
    assert!(
        !err.contains("weir: done"),
        "no summary for a usage error: {err}"
    );
    assert!(o.stdout.is_empty());
    assert_eq!(
        sb.names(),
        ["ragged.csv"],
        "no output, rejects, report or temp file"
    );
}

#[test]
fn unknown_select_column_to_stdout_prints_nothing() {
    let sb = Sandbox::new();
    sb.fixture("events.jsonl");
    let o = sb.weir(&["run", "-i", "events.jsonl", "--select", "usr"]);
    assert_eq!(code(&o), 2);
    assert!(o.stdout.is_empty());
    assert!(
        stderr(&o).contains("unknown column 'usr' (did you mean 'user'?)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn unknown_select_column_leaves_an_existing_output_alone() {
    let sb = Sandbox::new();
    sb.fixture("ragged.csv");
    sb.write("out.csv", b"precious\n");
    let o = sb.weir(&[
        "run",
        "-i",
        "ragged.csv",
        "-o",
        "out.csv",
        "--select",
        "zzz",
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("unknown column 'zzz'"),
        "{}",
        stderr(&o)
    );
    assert_bytes(&sb.read("out.csv"), b"precious\n");
    assert_eq!(sb.names(), ["out.csv", "ragged.csv"]);
}

/// A CSV whose record 3 (lines 5) is 5,002 bytes; record 1 spans two lines, so the line
/// number differs from the record number. Record 3 starts at byte 30.
fn oversized_csv() -> Vec<u8> {
    let mut s = b"id,val\n1,\"multi\nline\"\n2,small\n".to_vec();
    assert_eq!(s.len(), 30);
    s.extend_from_slice(b"3,");
    s.extend(std::iter::repeat_n(b'x', 5000));
    s.extend_from_slice(b"\n4,after\n");
    s
}

fn assert_oversized_fails(extra: &[&str]) {
    let sb = Sandbox::new();
    sb.write("big.csv", &oversized_csv());
    sb.write("out.csv", b"old output\n");
    let mut args = vec![
        "run",
        "-i",
        "big.csv",
        "-o",
        "out.csv",
        "--rejects",
        "rejects.csv",
        "--max-record-size",
        "1KiB",
    ];
    args.extend_from_slice(extra);
    let o = sb.weir(&args);
    assert_eq!(code(&o), 1, "stderr: {}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(
            "weir: error: big.csv: line 5 (byte 30): record larger than the maximum record size \
             of 1024 bytes"
        ),
        "{err}"
    );
    assert!(err.contains("FAILED (nothing committed)"), "{err}");
    assert_bytes(&sb.read("out.csv"), b"old output\n");
    assert_eq!(sb.temp_files(), Vec::<String>::new());
    assert!(!sb.exists("rejects.csv"));
    assert_eq!(sb.names(), ["big.csv", "out.csv"]);

    // And with no file at the output path, none appears.
    std::fs::remove_file(sb.join("out.csv")).unwrap();
    let o = sb.weir(&args);
    assert_eq!(code(&o), 1);
    assert!(!sb.exists("out.csv"));
    assert_eq!(sb.names(), ["big.csv"]);
}

#[test]
fn oversized_record_stops_the_run_naming_its_line() {
    // Chunks smaller than the record: the splitter meets the limit while looking for its end.
    assert_oversized_fails(&["--chunk-size", "256"]);
}

#[test]
fn oversized_record_stops_the_run_with_default_chunk_size() {
    assert_oversized_fails(&[]);
}

/// Quote opened on line 5 at byte 18 and never closed; records before it span lines.
const UNTERMINATED: &[u8] = b"a,b\n1,\"x\ny\"\n2,z\n3,\"never\nclosed\n4,w\n";

#[test]
fn unterminated_quote_names_the_line_where_it_opened() {
    for chunk in ["1", "7", "64", "1MiB"] {
        let sb = Sandbox::new();
        sb.write("uq.csv", UNTERMINATED);
        sb.write("out.csv", b"old\n");
        let o = sb.weir(&[
            "run",
            "-i",
            "uq.csv",
            "-o",
            "out.csv",
            "--rejects",
            "rej.csv",
            "--chunk-size",
            chunk,
        ]);
        assert_eq!(code(&o), 1, "chunk {chunk}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("weir: error: uq.csv: line 5 (byte 18): quoted field is never closed"),
            "chunk {chunk}: {err}"
        );
        assert!(err.contains("FAILED (nothing committed)"), "{err}");
        assert_bytes(&sb.read("out.csv"), b"old\n");
        assert_eq!(sb.names(), ["out.csv", "uq.csv"], "chunk {chunk}");
    }
}

#[test]
fn unterminated_quote_on_stdin_commits_nothing() {
    let sb = Sandbox::new();
    let o = sb.weir_stdin(&["run", "-i", "-", "-o", "out.csv"], UNTERMINATED);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("-: line 5 (byte 18): quoted field is never closed"),
        "{}",
        stderr(&o)
    );
    assert_eq!(sb.names(), Vec::<String>::new());
}

#[test]
fn output_to_a_missing_directory() {
    let sb = Sandbox::new();
    sb.fixture("ragged.csv");
    let o = sb.weir(&["run", "-i", "ragged.csv", "-o", "nowhere/out.csv"]);
    // Found before any input is read: a usage error.
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains("cannot write nowhere/out.csv"), "{err}");
    assert_eq!(sb.names(), ["ragged.csv"]);
}

#[test]
fn rejects_to_a_missing_directory() {
    let sb = Sandbox::new();
    sb.fixture("ragged.csv");
    let o = sb.weir(&[
        "run",
        "-i",
        "ragged.csv",
        "-o",
        "out.csv",
        "--rejects",
        "nowhere/rejects.csv",
    ]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains("cannot write nowhere/rejects.csv"), "{err}");
    assert_eq!(sb.names(), ["ragged.csv"], "no output, no temp file");
}

#[test]
fn missing_input_file() {
    let sb = Sandbox::new();
    let o = sb.weir(&["run", "-i", "absent.csv", "-o", "out.csv"]);
    // A usage error, found before reading, as a pattern that matches nothing is.
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("cannot open input absent.csv: no such file"),
        "{}",
        stderr(&o)
    );
    assert_eq!(sb.names(), Vec::<String>::new());
}

#[test]
fn output_same_as_input_is_refused() {
    let sb = Sandbox::new();
    let input = sb.fixture("ragged.csv");
    let o = sb.weir(&["run", "-i", "ragged.csv", "-o", "ragged.csv"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("the output would replace the input"),
        "{}",
        stderr(&o)
    );
    assert_bytes(&sb.read("ragged.csv"), &input);
}

#[test]
fn bad_flag_values_are_usage_errors() {
    let sb = Sandbox::new();
    sb.fixture("ragged.csv");
    for args in [
        &["run", "-i", "ragged.csv", "--chunk-size", "lots"][..],
        &["run", "-i", "ragged.csv", "--format", "xml"],
        &["run", "-i", "ragged.csv", "--delimiter", "ab"],
        &[
            "run",
            "-i",
            "ragged.csv",
            "--delimiter",
            "\"",
            "--quote",
            "\"",
        ],
        &["run", "-i", "ragged.csv", "--no-such-flag"],
    ] {
        let o = sb.weir(args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    assert_eq!(sb.names(), ["ragged.csv"]);
}

#[test]
fn run_help_lists_every_exit_code() {
    let sb = Sandbox::new();
    let o = sb.weir(&["run", "--help"]);
    assert_ok(&o);
    let help = String::from_utf8(o.stdout).unwrap();
    let codes: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Exit codes:"))
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    assert_eq!(codes, ["0", "1", "2", "3", "124", "130", "143"], "{help}");
    for word in ["SIGINT", "SIGTERM", "--timeout", "head"] {
        assert!(help.contains(word), "help lacks {word}:\n{help}");
    }
}
