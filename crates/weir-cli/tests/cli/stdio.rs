//! Standard input and output: `--input -`, `--output -`, and a reader that closes early.

use std::io::{BufRead, BufReader};
use std::time::Duration;

use crate::support::*;

#[test]
fn stdin_to_stdout() {
    let sb = Sandbox::new();
    let input = sb.fixture("ragged.csv");
    let from_file = sb.weir(&["run", "-i", "ragged.csv", "-q"]);
    assert_ok(&from_file);

    let o = sb.weir_stdin(&["run", "--input", "-"], &input);
    assert_ok(&o);
    assert_bytes(&o.stdout, &from_file.stdout);
    assert!(
        stderr(&o).starts_with("weir: done: 5 read = 2 written"),
        "{}",
        stderr(&o)
    );

    let o = sb.weir_stdin(&["run", "--input", "-", "--output", "-", "-q"], &input);
    assert_ok(&o);
    assert_bytes(&o.stdout, &from_file.stdout);
    assert!(o.stderr.is_empty());
    assert_eq!(sb.names(), ["ragged.csv"]);
}

#[test]
fn stdin_rejects_name_the_input_as_dash() {
    let sb = Sandbox::new();
    let input = sb.fixture("ragged.csv");
    let o = sb.weir_stdin(&["run", "-i", "-", "--rejects", "rej.csv", "-q"], &input);
    assert_ok(&o);
    let rows = parse_csv(&sb.read("rej.csv"));
    assert_eq!(rows.len(), 4);
    assert!(rows[1..].iter().all(|r| r[0] == "-"), "{rows:?}");
    assert_eq!(rows[1][1..3], ["4", "32"]);
}

#[test]
fn stdin_jsonl_with_format_flag() {
    let sb = Sandbox::new();
    let input = sb.fixture("events.jsonl");
    let o = sb.weir_stdin(&["run", "-i", "-", "--format", "jsonl", "-q"], &input);
    assert_ok(&o);
    assert_bytes(&o.stdout, &input);
    let o = sb.weir_stdin(
        &[
            "run", "-i", "-", "--format", "jsonl", "--select", "ts", "-q",
        ],
        &input,
    );
    assert_ok(&o);
    assert_bytes(&o.stdout, b"{\"ts\":1}\n{\"ts\":2.5e1}\n{\"ts\":-3}\n");
}

/// About 330 KB of CSV: more than a pipe holds, so the writer is still writing when the
/// reader goes away.
fn long_csv(sb: &Sandbox) {
    let mut s = String::from("id,v\n");
    for i in 0..20_000 {
        s.push_str(&format!("{i},value-{i}\n"));
    }
    sb.write("long.csv", s.as_bytes());
}

/// Starts weir writing to a pipe, reads one line, closes the pipe, and waits.
fn close_after_first_line(sb: &Sandbox, args: &[&str]) -> (i32, String) {
    let mut child = sb.spawn(args);
    drop(child.stdin.take());
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    reader.read_line(&mut first).expect("read a line");
    assert_eq!(first, "id,v\n");
    drop(reader);
    let (code, _) = wait_at_most(&mut child, Duration::from_secs(10));
    let err = read_stderr(&mut child);
    (code.expect("exited by itself"), err)
}

#[test]
fn stdout_closed_early_is_success_and_quiet() {
    let sb = Sandbox::new();
    long_csv(&sb);
    let (code, err) = close_after_first_line(&sb, &["run", "-i", "long.csv", "-q"]);
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(err, "", "-q and a broken pipe: nothing on stderr");

    let (code, err) = close_after_first_line(&sb, &["run", "-i", "long.csv", "--output", "-"]);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(!err.contains("error"), "{err}");
    assert!(!err.to_lowercase().contains("broken pipe"), "{err}");
    assert_eq!(sb.names(), ["long.csv"]);
}

#[test]
fn stdout_closed_early_summary_does_not_say_failed() {
    let sb = Sandbox::new();
    long_csv(&sb);
    let (code, err) = close_after_first_line(&sb, &["run", "-i", "long.csv"]);
    assert_eq!(code, 0);
    assert!(!err.contains("FAILED"), "{err}");
}
