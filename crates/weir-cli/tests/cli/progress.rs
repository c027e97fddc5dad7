//! Progress, summary and report: the live display under a pseudo-terminal, log lines at the
//! configured interval without one, stdout holding only data, reject reasons in the summary,
//! escaping of data shown on the terminal, and the report against `docs/report.schema.json`.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::thread::{self, sleep, JoinHandle};
use std::time::Duration;

use crate::support::*;

const HEAD: &[u8] = b"id,name\n";

/// Rows `from..to` of a two-column input.
fn rows(from: usize, to: usize) -> Vec<u8> {
    (from..to)
        .flat_map(|i| format!("{i},name{i}\n").into_bytes())
        .collect()
}

/// A pseudo-terminal: the master side (read by the test) and the slave (the child's stderr).
struct Pty {
    master: File,
    slave: OwnedFd,
}

fn open_pty() -> Pty {
    let (mut master, mut slave): (libc::c_int, libc::c_int) = (-1, -1);
    let size = libc::winsize {
        ws_row: 30,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors into the pointed-to ints; the name and termios
    // pointers may be null; the winsize pointer points at a live value.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    for fd in [master, slave] {
        // Other tests spawn children at the same time: they must not inherit this terminal,
        // or the master would not see the end until they exit too.
        // SAFETY: fcntl on descriptors we own, with a valid command and flag.
        let rc = unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        assert_eq!(rc, 0, "fcntl: {}", std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just opened by openpty and are owned by nothing else.
    unsafe {
        Pty {
            master: File::from_raw_fd(master),
            slave: OwnedFd::from_raw_fd(slave),
        }
    }
}

/// Reads the master side until every slave is closed (Linux then reports EIO).
fn drain(mut master: File) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match master.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
        out
    })
}

/// What a run under a terminal produced.
struct TtyRun {
    code: Option<i32>,
    stdout: Vec<u8>,
    /// The terminal's bytes, with the terminal's `\r\n` made `\n`.
    terminal: String,
}

/// Runs `weir args...` with stderr on a pseudo-terminal, stdout piped, and stdin fed `pieces`
/// one at a time with `pause` between them (stdin stays open until the last).
fn run_on_tty(
    sb: &Sandbox,
    args: &[&str],
    env: &[(&str, &str)],
    pieces: &[Vec<u8>],
    pause: Duration,
) -> TtyRun {
    let pty = open_pty();
    let mut child = {
        let mut cmd = Command::new(WEIR);
        cmd.args(args)
            .current_dir(sb.path())
            .env_remove("NO_COLOR")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(pty.slave));
        cmd.spawn().expect("spawn weir")
        // The command, and with it the parent's copy of the slave, is dropped here.
    };
    let terminal = drain(pty.master);
    let mut stdout = child.stdout.take().expect("stdout");
    let stdout = thread::spawn(move || {
        let mut v = Vec::new();
        stdout.read_to_end(&mut v).expect("read stdout");
        v
    });
    let mut stdin = child.stdin.take().expect("stdin");
    for piece in pieces {
        stdin.write_all(piece).expect("feed stdin");
        stdin.flush().expect("flush stdin");
        sleep(pause);
    }
    drop(stdin);
    let (code, _) = wait_at_most(&mut child, Duration::from_secs(20));
    let terminal = terminal.join().expect("terminal reader");
    TtyRun {
        code,
        stdout: stdout.join().expect("stdout reader"),
        terminal: String::from_utf8_lossy(&terminal).replace("\r\n", "\n"),
    }
}

/// Whether `s` holds an SGR sequence (colour or style: `ESC [ ... m`).
fn has_sgr(s: &str) -> bool {
    s.match_indices("\x1b[").any(|(at, _)| {
        let rest = &s[at + 2..];
        let params = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(rest.len());
        rest[params..].starts_with('m')
    })
}

/// The record counts the live display showed, in order (`N records (R/s) ... queue`); the
/// display pads its lines to the width rather than always ending them, so this looks for the
/// pattern anywhere.
fn displayed_counts(terminal: &str) -> Vec<u64> {
    let parts: Vec<&str> = terminal.split(" records (").collect();
    parts
        .windows(2)
        .filter(|w| {
            let next = w[1].find(" records (").unwrap_or(w[1].len());
            w[1][..next].contains(" rejected  queue ")
        })
        .filter_map(|w| {
            let n = w[0].rsplit([' ', '\n', '\r']).next()?;
            n.replace(',', "").parse().ok()
        })
        .collect()
}

/// A slow input: the header, then 8 pieces of 20 rows, 150 ms apart.
fn slow_pieces() -> (Vec<Vec<u8>>, Vec<u8>) {
    let mut pieces = vec![HEAD.to_vec()];
    for p in 0..8 {
        pieces.push(rows(p * 20, p * 20 + 20));
    }
    let all = pieces.concat();
    (pieces, all)
}

#[test]
fn live_display_on_a_terminal_appears_and_updates() {
    let sb = Sandbox::new();
    let (pieces, all) = slow_pieces();
    let run = run_on_tty(
        &sb,
        &["run", "-i", "-", "--chunk-size", "64", "-j", "2"],
        &[("TERM", "xterm-256color")],
        &pieces,
        Duration::from_millis(150),
    );
    assert_eq!(run.code, Some(0), "terminal: {:?}", run.terminal);
    // Standard output holds exactly the data, nothing of the display.
    assert_bytes(&run.stdout, &all);
    let counts = displayed_counts(&run.terminal);
    assert!(
        counts.len() >= 3,
        "the display was drawn {} times: {:?}",
        counts.len(),
        run.terminal
    );
    let mut distinct = counts.clone();
    distinct.dedup();
    assert!(distinct.len() >= 2, "the display never moved: {counts:?}");
    assert!(
        counts.windows(2).all(|w| w[0] <= w[1]),
        "counts go down: {counts:?}"
    );
    assert!(
        run.terminal.contains(" rejected  queue ") && run.terminal.contains("busy "),
        "{:?}",
        run.terminal
    );
    // Styled, where NO_COLOR is not set (see `no_color_turns_the_display_plain`).
    assert!(has_sgr(&run.terminal), "{:?}", run.terminal);
    // The display is cleared and the summary follows it.
    assert!(
        run.terminal
            .contains("weir: done: 160 read = 160 written + 0 filtered + 0 rejected"),
        "{:?}",
        run.terminal
    );
    // No plain log lines when the bar is shown.
    assert!(!run.terminal.contains("\nweir: "), "{:?}", run.terminal);
}

#[test]
fn no_color_turns_the_display_plain() {
    let sb = Sandbox::new();
    let (pieces, _) = slow_pieces();
    let run = run_on_tty(
        &sb,
        &["run", "-i", "-", "-o", "out.csv", "--chunk-size", "64"],
        &[("NO_COLOR", "1"), ("TERM", "xterm-256color")],
        &pieces[..4],
        Duration::from_millis(250),
    );
    assert_eq!(run.code, Some(0), "terminal: {:?}", run.terminal);
    assert!(
        displayed_counts(&run.terminal).len() >= 2,
        "{:?}",
        run.terminal
    );
    assert!(!has_sgr(&run.terminal), "styled: {:?}", run.terminal);
}

#[test]
fn progress_none_and_quiet_on_a_terminal() {
    let sb = Sandbox::new();
    let (pieces, _) = slow_pieces();
    let run = run_on_tty(
        &sb,
        &["run", "-i", "-", "-o", "out.csv", "--progress", "none"],
        &[],
        &pieces[..3],
        Duration::from_millis(250),
    );
    assert_eq!(run.code, Some(0));
    assert!(
        run.terminal.starts_with("weir: done: 40 read"),
        "{:?}",
        run.terminal
    );
    assert!(displayed_counts(&run.terminal).is_empty());

    let run = run_on_tty(
        &sb,
        &["run", "-i", "-", "-o", "out.csv", "-q"],
        &[],
        &pieces[..3],
        Duration::from_millis(250),
    );
    assert_eq!(run.code, Some(0));
    assert_eq!(run.terminal, "");
}

/// The elapsed seconds of each plain status line.
fn log_line_times(err: &str) -> Vec<f64> {
    err.lines()
        .filter(|l| l.contains(" records (") && l.contains("queue "))
        .map(|l| {
            let t = l
                .strip_prefix("weir:")
                .expect("status lines start with weir:");
            let t = t.trim_start();
            t[..t.find('s').expect("seconds")]
                .parse()
                .expect("elapsed seconds")
        })
        .collect()
}

#[test]
fn log_lines_at_the_configured_interval_without_a_terminal() {
    let sb = Sandbox::new();
    let mut child = sb.spawn(&[
        "run",
        "-i",
        "-",
        "-o",
        "out.csv",
        "--status-interval",
        "300ms",
        "--chunk-size",
        "64",
    ]);
    let mut stdin = child.stdin.take().expect("stdin");
    let (pieces, all) = slow_pieces();
    for piece in &pieces {
        stdin.write_all(piece).expect("feed");
        stdin.flush().expect("flush");
        sleep(Duration::from_millis(150));
    }
    drop(stdin);
    let (code, _) = wait_at_most(&mut child, Duration::from_secs(10));
    let err = read_stderr(&mut child);
    assert_eq!(code, Some(0), "{err}");
    assert_bytes(&sb.read("out.csv"), &all);
    assert!(!err.contains('\x1b'), "no terminal codes in a log: {err:?}");
    let times = log_line_times(&err);
    // About 1.35 s of input: a line every 300 ms (shown to 0.1 s), never faster, and not
    // much slower even on a busy machine.
    assert!(times.len() >= 3, "{times:?}\n{err}");
    let mut gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.iter().all(|g| *g >= 0.2), "{times:?}");
    gaps.sort_by(f64::total_cmp);
    assert!(gaps[gaps.len() / 2] <= 0.5, "{times:?}");
    assert!(err.contains("weir: done: 160 read"), "{err}");
}

#[test]
fn progress_log_on_a_terminal_writes_plain_lines() {
    let sb = Sandbox::new();
    let (pieces, _) = slow_pieces();
    let run = run_on_tty(
        &sb,
        &[
            "run",
            "-i",
            "-",
            "-o",
            "out.csv",
            "--progress",
            "log",
            "--status-interval",
            "200ms",
        ],
        &[],
        &pieces[..5],
        Duration::from_millis(200),
    );
    assert_eq!(run.code, Some(0), "{:?}", run.terminal);
    assert!(
        log_line_times(&run.terminal).len() >= 3,
        "{:?}",
        run.terminal
    );
    assert!(!run.terminal.contains("\x1b[2K"), "{:?}", run.terminal);
}

#[test]
fn stdout_holds_only_data_with_log_lines_and_a_summary() {
    let sb = Sandbox::new();
    let mut input = HEAD.to_vec();
    let mut expected = HEAD.to_vec();
    for i in 0..20_000 {
        let row = if i % 1000 == 7 {
            format!("{i},x,extra\n")
        } else {
            format!("{i},name{i}\n")
        };
        if i % 1000 != 7 {
            expected.extend_from_slice(row.as_bytes());
        }
        input.extend_from_slice(row.as_bytes());
    }
    sb.write("in.csv", &input);
    let o = sb.weir(&[
        "run",
        "-i",
        "in.csv",
        "--progress",
        "log",
        "--status-interval",
        "1ms",
        "--chunk-size",
        "4KiB",
        "-j",
        "1",
    ]);
    assert_ok(&o);
    assert_bytes(&o.stdout, &expected);
    let err = stderr(&o);
    assert!(err.contains("weir: done: 20,000 read"), "{err}");
    assert!(err.contains("extra-cell 20"), "{err}");
}

#[test]
fn summary_lists_reject_reasons_with_counts_and_first_lines() {
    let sb = Sandbox::new();
    sb.write(
        "in.csv",
        b"id,age,email\n1,30,a@x\n2,thirty,b@x\n3,40\n4,50,c@x,more\n5,sixty,e@x\n6,60\n7,x,f@x\n",
    );
    let o = sb.weir(&[
        "run",
        "-i",
        "in.csv",
        "-o",
        "out.csv",
        "--rejects",
        "rej.csv",
        "--derive",
        "age=CAST(age AS BIGINT)",
    ]);
    assert_ok(&o);
    let err = stderr(&o);
    assert!(
        err.contains("rejects: extra-cell 1, missing-cell 2, type-error 3 -> rej.csv"),
        "{err}"
    );
    let details: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("        "))
        .map(str::trim)
        .collect();
    // The most common first, each with its count and where it first happened.
    assert_eq!(details.len(), 3, "{err}");
    assert!(
        details[0].starts_with("type-error    3  first at line 3 (age): "),
        "{err}"
    );
    assert!(details[0].contains("'thirty'"), "{err}");
    assert!(
        details[1].starts_with("missing-cell  2  first at line 4 (email): "),
        "{err}"
    );
    assert!(
        details[2].starts_with("extra-cell    1  first at line 5"),
        "{err}"
    );
    assert!(err.contains(", peak memory "), "{err}");
}

#[test]
fn data_shown_on_the_terminal_is_escaped() {
    let sb = Sandbox::new();
    let evil = b"id,age\n1,\x1b[31mred\x1b]0;title\x07\n2,\"a\rb\"\n".to_vec();
    let run = run_on_tty(
        &sb,
        &[
            "run",
            "-i",
            "-",
            "-o",
            "out.csv",
            "--progress",
            "none",
            "--derive",
            "n=CAST(age AS BIGINT)",
        ],
        &[],
        &[evil],
        Duration::from_millis(50),
    );
    assert_eq!(run.code, Some(0), "{:?}", run.terminal);
    let t = &run.terminal;
    assert!(t.contains("'\\x1b[31mred\\x1b]0;title\\x07'"), "{t:?}");
    assert!(
        !t.contains('\x1b') && !t.contains('\x07'),
        "raw control bytes: {t:?}"
    );
    assert!(t.contains("type-error  2"), "{t:?}");
}

/// `weir explain` quotes a header's names in its errors as a run does: escaped.
#[test]
fn explain_errors_escape_the_data_they_quote() {
    let sb = Sandbox::new();
    sb.write("in.csv", b"id,\x1b[31mname\n1,a\n");
    let o = sb.weir(&["explain", "-i", "in.csv", "--select", "id,\x1b[31mnmae"]);
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("did you mean '\\x1b[31mname'"), "{err:?}");
    assert!(!err.contains('\x1b'), "raw control bytes: {err:?}");
}

/// Runs the binary and checks its report against `docs/report.schema.json`.
fn assert_report_matches_schema(report: &str) {
    let schema_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/report.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).expect("schema file"))
            .expect("the schema is JSON");
    let report = crate::support::report(report);
    let validator = jsonschema::validator_for(&schema).expect("the schema is a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{report:#}");
    // Every field the schema documents is there (it also forbids undocumented ones).
    for key in schema["required"].as_array().expect("required") {
        assert!(report.get(key.as_str().unwrap()).is_some(), "{key}");
    }
}

#[test]
fn report_follows_its_schema() {
    let sb = Sandbox::new();
    sb.write(
        "in.csv",
        b"id,age,email\n1,30,a@x\n2,thirty,b@x\n3,40\n4,50,c@x,more\n5,sixty,e@x\n",
    );
    // In unordered runs with tiny chunks too, the first reject is the first in input order.
    for extra in [
        &[][..],
        &["--unordered", "--chunk-size", "8", "-j", "3"][..],
    ] {
        let mut args = vec![
            "run",
            "-i",
            "in.csv",
            "-o",
            "out.csv",
            "--rejects",
            "rej.csv",
            "--report",
            "report.json",
            "--derive",
            "age=CAST(age AS BIGINT)",
            "-q",
        ];
        args.extend_from_slice(extra);
        let o = sb.weir(&args);
        assert_ok(&o);
        let text = sb.read_string("report.json");
        assert_report_matches_schema(&text);
        let r = report(&text);
        assert_eq!(r["report_version"], 1);
        assert_eq!(r["rejects_by_field"]["age"], 2, "{extra:?}");
        assert_eq!(r["rejects_by_field"]["email"], 1);
        assert_eq!(r["first_rejects"]["type-error"]["line"], 3, "{extra:?}");
        assert_eq!(r["first_rejects"]["type-error"]["field"], "age");
        assert_eq!(r["first_rejects"]["type-error"]["file"], "in.csv");
        assert_eq!(r["first_rejects"]["missing-cell"]["line"], 4);
        assert_eq!(r["first_rejects"]["extra-cell"]["byte_offset"], 40);
        assert!(r["peak_memory_bytes"].as_u64().unwrap() > 1 << 20);
        assert!(r["stages"]["workers"]["busy_seconds"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn report_of_a_failed_run_follows_its_schema() {
    let sb = Sandbox::new();
    sb.write("in.csv", b"id,name\n1,\"open\n");
    let o = sb.weir(&["run", "-i", "in.csv", "-o", "out.csv", "--report", "r.json"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let text = sb.read_string("r.json");
    assert_report_matches_schema(&text);
    assert_eq!(report_field(&text, "status"), "failed");
}
