//! Stopping a run that is waiting on an open standard input: SIGINT (130), SIGTERM (143) and
//! --timeout (124) stop it promptly, print a partial summary and commit nothing; status lines
//! appear while it runs.

use std::io::Write;
use std::process::{Child, ChildStdin};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::support::*;

const HEAD: &[u8] = b"id,name\n1,a\n2,\"b\nc\"\n3,d\n";

/// Starts `weir run --input - --output out.csv ...` and writes `initial` to its stdin, which
/// stays open (the returned handle keeps it so).
fn start_on_open_stdin(sb: &Sandbox, extra: &[&str], initial: &[u8]) -> (Child, ChildStdin) {
    let mut args = vec!["run", "--input", "-", "--output", "out.csv"];
    args.extend_from_slice(extra);
    let mut child = sb.spawn(&args);
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(initial).expect("write stdin");
    stdin.flush().expect("flush stdin");
    (child, stdin)
}

/// Asserts the stopped run left nothing but its report behind.
#[track_caller]
fn assert_nothing_committed(sb: &Sandbox) {
    assert!(!sb.exists("out.csv"), "no output at its path");
    assert_eq!(sb.temp_files(), Vec::<String>::new(), "no temp files left");
    assert_eq!(sb.names(), ["report.json"]);
}

fn stop_by_signal(sig: libc::c_int, code: i32, word: &str, status: &str) {
    let sb = Sandbox::new();
    let (mut child, stdin) = start_on_open_stdin(&sb, &["--report", "report.json"], HEAD);
    sleep(Duration::from_millis(500));
    send_signal(&child, sig);
    let (got, waited) = wait_at_most(&mut child, Duration::from_secs(5));
    drop(stdin);
    let err = read_stderr(&mut child);
    assert_eq!(got, Some(code), "stderr: {err}");
    assert!(waited < Duration::from_secs(2), "took {waited:?} to stop");
    let summary = err
        .lines()
        .find(|l| l.starts_with("weir: ") && l.contains(word))
        .unwrap_or_else(|| panic!("no partial summary with {word}: {err}"));
    assert!(summary.contains("(nothing committed): "), "{summary}");
    assert!(summary.contains(" read before the stop ("), "{summary}");
    assert!(summary.ends_with("; nothing was written"), "{summary}");
    assert_nothing_committed(&sb);
    let report = sb.read_string("report.json");
    assert_eq!(report_field(&report, "status"), status);
    assert_balanced(&report);
}

#[test]
fn sigint_stops_with_130() {
    stop_by_signal(libc::SIGINT, 130, "INTERRUPTED", "interrupted");
}

#[test]
fn sigterm_stops_with_143() {
    stop_by_signal(libc::SIGTERM, 143, "TERMINATED", "terminated");
}

#[test]
fn sigint_leaves_an_existing_output_alone() {
    let sb = Sandbox::new();
    sb.write("out.csv", b"keep me\n");
    let (mut child, stdin) = start_on_open_stdin(&sb, &["-q"], HEAD);
    sleep(Duration::from_millis(500));
    send_signal(&child, libc::SIGINT);
    let (got, _) = wait_at_most(&mut child, Duration::from_secs(5));
    drop(stdin);
    assert_eq!(got, Some(130), "stderr: {}", read_stderr(&mut child));
    assert_bytes(&sb.read("out.csv"), b"keep me\n");
    assert_eq!(sb.names(), ["out.csv"]);
}

#[test]
fn timeout_stops_with_124() {
    let sb = Sandbox::new();
    let started = Instant::now();
    let (mut child, stdin) =
        start_on_open_stdin(&sb, &["--timeout", "1s", "--report", "report.json"], HEAD);
    let (got, _) = wait_at_most(&mut child, Duration::from_secs(6));
    let took = started.elapsed();
    drop(stdin);
    let err = read_stderr(&mut child);
    assert_eq!(got, Some(124), "stderr: {err}");
    assert!(
        took >= Duration::from_secs(1),
        "stopped before the limit: {took:?}"
    );
    assert!(took < Duration::from_secs(3), "took {took:?} to stop");
    assert!(
        err.lines()
            .any(|l| l.starts_with("weir: TIMED OUT (nothing committed): ")),
        "{err}"
    );
    assert_nothing_committed(&sb);
    assert_eq!(report_field(sb.read("report.json"), "status"), "timed-out");
}

#[test]
fn timeout_stops_a_jsonl_run_waiting_on_stdin() {
    let sb = Sandbox::new();
    let started = Instant::now();
    let (mut child, stdin) = start_on_open_stdin(
        &sb,
        &["--format", "jsonl", "--timeout", "1s"],
        b"{\"a\":1}\n{\"a\":2}\n",
    );
    let (got, _) = wait_at_most(&mut child, Duration::from_millis(3500));
    let took = started.elapsed();
    drop(stdin);
    let err = read_stderr(&mut child);
    assert_eq!(got, Some(124), "after {took:?}; stderr: {err}");
    assert!(took < Duration::from_secs(3), "took {took:?} to stop");
    assert!(!sb.exists("out.csv"));
}

/// Lines the observer prints (not the summary, not messages).
fn status_lines(err: &str) -> Vec<&str> {
    err.lines()
        .filter(|l| l.starts_with("weir: ") && l.contains(" records (") && l.contains("queue "))
        .collect()
}

#[test]
fn status_lines_while_running_then_success_when_input_ends() {
    let sb = Sandbox::new();
    let (mut child, stdin) = start_on_open_stdin(&sb, &["--status-interval", "100ms"], HEAD);
    sleep(Duration::from_millis(600));
    drop(stdin);
    let (got, _) = wait_at_most(&mut child, Duration::from_secs(5));
    let err = read_stderr(&mut child);
    assert_eq!(got, Some(0), "stderr: {err}");
    assert!(status_lines(&err).len() >= 2, "status lines: {err}");
    assert!(
        err.contains("weir: done: 3 read = 3 written + 0 filtered + 0 rejected"),
        "{err}"
    );
    assert_bytes(&sb.read("out.csv"), HEAD);
    assert_eq!(sb.names(), ["out.csv"]);
}

#[test]
fn quiet_suppresses_status_lines_and_summary() {
    let sb = Sandbox::new();
    let (mut child, stdin) = start_on_open_stdin(&sb, &["--status-interval", "100ms", "-q"], HEAD);
    sleep(Duration::from_millis(600));
    drop(stdin);
    let (got, _) = wait_at_most(&mut child, Duration::from_secs(5));
    let err = read_stderr(&mut child);
    assert_eq!(got, Some(0), "stderr: {err}");
    assert_eq!(err, "");
    assert_bytes(&sb.read("out.csv"), HEAD);
}

#[test]
fn completed_run_report_says_succeeded() {
    let sb = Sandbox::new();
    let o = sb.weir_stdin(
        &[
            "run",
            "-i",
            "-",
            "-o",
            "out.csv",
            "--report",
            "report.json",
            "-q",
        ],
        HEAD,
    );
    assert_ok(&o);
    let report = sb.read_string("report.json");
    assert_eq!(report_field(&report, "status"), "succeeded");
    assert_eq!(report_field(&report, "error"), serde_json::Value::Null);
    assert_eq!(report_num(&report, "records_read"), 3);
    assert_balanced(&report);
}
