//! Helpers shared by the CLI tests: a sandbox folder, runners for the binary, and small
//! readers for what it writes (CSV through csv-core, the report through serde_json).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub const WEIR: &str = env!("CARGO_BIN_EXE_weir");

/// The fixtures folder.
pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

/// A fresh temporary folder; the binary runs with it as its working directory, so tests pass
/// relative paths and messages name them as given.
pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, bytes: &[u8]) {
        fs::write(self.join(name), bytes).expect("write input");
    }

    /// Copies `tests/data/<name>` into the sandbox under the same name.
    pub fn fixture(&self, name: &str) -> Vec<u8> {
        self.fixture_as(name, name)
    }

    /// Copies `tests/data/<name>` into the sandbox as `as_name`; returns its bytes.
    pub fn fixture_as(&self, name: &str, as_name: &str) -> Vec<u8> {
        let bytes = fs::read(Path::new(DATA).join(name)).expect("fixture");
        self.write(as_name, &bytes);
        bytes
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        fs::read(self.join(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }

    pub fn read_string(&self, name: &str) -> String {
        String::from_utf8(self.read(name)).expect("utf-8")
    }

    pub fn exists(&self, name: &str) -> bool {
        self.join(name).exists()
    }

    /// The names in the sandbox, sorted (hidden ones included).
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.path())
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(WEIR);
        cmd.args(args).current_dir(self.path());
        cmd
    }

    /// Runs `weir args...` with no standard input.
    pub fn weir(&self, args: &[&str]) -> Output {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run weir")
    }

    /// Runs `weir args...` with `input` on its standard input.
    pub fn weir_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn weir");
        let mut stdin = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        // A thread, so a large input cannot deadlock against a full stdout pipe.
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().expect("wait weir");
        feeder.join().expect("feeder");
        out
    }

    /// Starts `weir args...` with standard input, output and error all piped.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn weir")
    }

    /// Temporary output files left in the sandbox.
    pub fn temp_files(&self) -> Vec<String> {
        temp_files_in(self.path())
    }

    /// The hidden names in the sandbox (weir's temporary files, backups, journals and
    /// checkpoints), sorted.
    pub fn hidden(&self) -> Vec<String> {
        self.names()
            .into_iter()
            .filter(|n| n.starts_with('.'))
            .collect()
    }

    /// Runs `weir args...` fed `head` on standard input, waits half a second, runs `mid` (to
    /// change the sandbox while the run is between its start and its commit), then feeds
    /// `tail` and waits for the run.
    pub fn weir_paused(
        &self,
        args: &[&str],
        head: &[u8],
        mid: impl FnOnce(),
        tail: &[u8],
    ) -> Output {
        let mut child = self.spawn(args);
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(head).expect("feed");
        stdin.flush().expect("flush");
        std::thread::sleep(Duration::from_millis(500));
        mid();
        stdin.write_all(tail).expect("feed");
        drop(stdin);
        child.wait_with_output().expect("wait weir")
    }
}

impl Sandbox {
    /// Writes the journal a commit to `output` leaves when its process `pid` is killed between
    /// its renames: each member as (target, temporary file, backup, what was at the target
    /// before: `"file"` or nothing), names in the sandbox.
    pub fn write_commit_journal(
        &self,
        output: &str,
        pid: u32,
        members: &[(&str, &str, Option<&str>, Option<&str>)],
    ) {
        let members: Vec<serde_json::Value> = members
            .iter()
            .map(|&(target, temp, backup, before)| {
                serde_json::json!({"target": self.join(target), "temp": self.join(temp),
                    "object": false, "backup": backup.map(|b| self.join(b)), "before": before})
            })
            .collect();
        let journal = serde_json::json!({"pid": pid, "members": members});
        self.write(
            &format!(".{output}.weir-commit"),
            journal.to_string().as_bytes(),
        );
    }
}

/// The id of a process that has exited (for the names a killed run leaves).
pub fn dead_pid() -> u32 {
    let mut c = Command::new("true").spawn().expect("run true");
    let pid = c.id();
    c.wait().expect("wait true");
    pid
}

/// Files in `dir` that look like weir's temporary outputs (`.name....tmp`).
pub fn temp_files_in(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n.ends_with(".tmp"))
        .collect()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally, not by a signal")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a run exited 0, showing its stderr otherwise.
#[track_caller]
pub fn assert_ok(o: &Output) {
    assert_eq!(code(o), 0, "weir failed; stderr:\n{}", stderr(o));
}

/// Asserts exact bytes, showing both sides as escaped text when they differ.
#[track_caller]
pub fn assert_bytes(actual: &[u8], expected: &[u8]) {
    if actual != expected {
        panic!(
            "bytes differ\n  actual: {:?}\nexpected: {:?}",
            String::from_utf8_lossy(actual),
            String::from_utf8_lossy(expected)
        );
    }
}

/// A report (`--report`, `docs/report.schema.json`) read as JSON; panics, showing the text,
/// when it is not JSON. Every test reads reports through this and the helpers below.
pub fn report(json: impl AsRef<[u8]>) -> serde_json::Value {
    let json = json.as_ref();
    serde_json::from_slice(json).unwrap_or_else(|e| {
        panic!(
            "the report is not JSON ({e}):\n{}",
            String::from_utf8_lossy(json)
        )
    })
}

/// A top-level field of the report; panics when the report has no such field.
#[track_caller]
pub fn report_field(json: impl AsRef<[u8]>, key: &str) -> serde_json::Value {
    let report = report(json);
    match report.get(key) {
        Some(value) => value.clone(),
        None => panic!("no {key} in report:\n{report:#}"),
    }
}

/// A numeric (unsigned integer) field of the report.
#[track_caller]
pub fn report_num(json: impl AsRef<[u8]>, key: &str) -> u64 {
    let value = report_field(json, key);
    value
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is not a count: {value}"))
}

/// The `rejects_by_error` object of the report as (error, count) pairs, in the report's order.
#[track_caller]
pub fn report_rejects_by_error(json: impl AsRef<[u8]>) -> Vec<(String, u64)> {
    let field = report_field(json, "rejects_by_error");
    let counts = field
        .as_object()
        .unwrap_or_else(|| panic!("rejects_by_error is not an object: {field}"));
    counts
        .iter()
        .map(|(error, n)| {
            let n = n
                .as_u64()
                .unwrap_or_else(|| panic!("the count of {error} is not a count: {n}"));
            (error.clone(), n)
        })
        .collect()
}

/// Asserts `records_read = records_written + records_filtered + records_rejected`.
#[track_caller]
pub fn assert_balanced(json: impl AsRef<[u8]>) {
    let json = json.as_ref();
    let read = report_num(json, "records_read");
    let sum = report_num(json, "records_written")
        + report_num(json, "records_filtered")
        + report_num(json, "records_rejected");
    assert_eq!(
        read,
        sum,
        "report does not balance:\n{}",
        String::from_utf8_lossy(json)
    );
}

/// Parses CSV with csv-core (the reference reader): records of fields, empty lines skipped.
pub fn parse_csv(input: &[u8]) -> Vec<Vec<String>> {
    parse_csv_with(input, b',')
}

/// [`parse_csv`] with another delimiter.
pub fn parse_csv_with(input: &[u8], delimiter: u8) -> Vec<Vec<String>> {
    use csv_core::{ReadRecordResult, ReaderBuilder};
    let mut rdr = ReaderBuilder::new().delimiter(delimiter).build();
    let mut out = vec![0u8; input.len() + 1];
    let mut ends = vec![0usize; input.len() + 1];
    // A record may span calls (the last one is finished by an empty read): csv-core writes
    // its fields on after the bytes of earlier calls, and its ends count from the record start.
    let (mut out_len, mut ends_len) = (0, 0);
    let mut rows = Vec::new();
    let mut rest = input;
    loop {
        let (res, nin, nout, nend) =
            rdr.read_record(rest, &mut out[out_len..], &mut ends[ends_len..]);
        rest = &rest[nin..];
        out_len += nout;
        ends_len += nend;
        match res {
            ReadRecordResult::InputEmpty => {}
            ReadRecordResult::Record => {
                let mut start = 0;
                let row = ends[..ends_len]
                    .iter()
                    .map(|&end| {
                        let f = String::from_utf8_lossy(&out[start..end]).into_owned();
                        start = end;
                        f
                    })
                    .collect();
                rows.push(row);
                out_len = 0;
                ends_len = 0;
            }
            ReadRecordResult::End => break,
            ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => {
                unreachable!("the buffers are as large as the input")
            }
        }
    }
    rows
}

/// The records of CSV text after its header, each cut to the fields at `columns` (in that
/// order): the parts of a rejects table or a reasons file a test compares.
#[track_caller]
pub fn csv_columns(input: &[u8], columns: &[usize]) -> Vec<Vec<String>> {
    let rows = parse_csv(input);
    assert!(
        !rows.is_empty(),
        "no header in {:?}",
        String::from_utf8_lossy(input)
    );
    rows[1..]
        .iter()
        .map(|r| columns.iter().map(|&c| r[c].clone()).collect())
        .collect()
}

/// Waits for `child` at most `limit`; kills it if it is still running then. Returns the exit
/// code (`None` if it was killed or died by a signal) and the time waited.
pub fn wait_at_most(child: &mut Child, limit: Duration) -> (Option<i32>, Duration) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return (status.code(), start.elapsed());
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return (None, start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends `sig` to the child.
pub fn send_signal(child: &Child, sig: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
    // SAFETY: kill(2) with a pid we spawned and have not reaped yet, and a valid signal.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(rc, 0, "kill failed: {}", std::io::Error::last_os_error());
}

/// Reads everything left on the child's stderr (call after it exited).
pub fn read_stderr(child: &mut Child) -> String {
    use std::io::Read;
    let mut s = String::new();
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut s).expect("read stderr");
    }
    s
}

/// What a child did and the most memory it held: its output and its peak resident set size.
pub struct Measured {
    pub output: Output,
    /// Peak resident set size in bytes (`ru_maxrss` from `wait4`).
    pub peak_rss: u64,
    /// Wall time from spawn to exit.
    pub elapsed: Duration,
}

impl Sandbox {
    /// Runs `weir args...` (standard input from `feed` on a thread, or none) and returns its
    /// output with its peak RSS, read from the kernel's accounting of exactly this child when
    /// it is reaped (`wait4`), so threads and short peaks are all counted.
    pub fn weir_measured(
        &self,
        args: &[&str],
        feed: Option<Box<dyn FnOnce(std::process::ChildStdin) + Send>>,
    ) -> Measured {
        let started = Instant::now();
        let mut cmd = self.command(args);
        cmd.stdin(if feed.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn weir");
        measure(&mut child, feed, started)
    }
}

/// Feeds, drains and reaps `child` (spawned with piped stdout and stderr), measuring its peak
/// RSS; see [`Sandbox::weir_measured`]. The child must not have been waited for.
pub fn measure(
    child: &mut Child,
    feed: Option<Box<dyn FnOnce(std::process::ChildStdin) + Send>>,
    started: Instant,
) -> Measured {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let feeder = match (feed, child.stdin.take()) {
        (Some(f), Some(stdin)) => Some(std::thread::spawn(move || f(stdin))),
        _ => None,
    };
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: wait4 on a child we spawned and have not reaped, with valid out-pointers.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        assert_eq!(e.kind(), std::io::ErrorKind::Interrupted, "wait4: {e}");
    }
    let elapsed = started.elapsed();
    if let Some(f) = feeder {
        f.join().expect("feeder");
    }
    let output = Output {
        status: std::process::ExitStatus::from_raw(status),
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    };
    Measured {
        output,
        // Linux reports ru_maxrss in KiB.
        peak_rss: u64::try_from(usage.ru_maxrss).expect("non-negative") * 1024,
        elapsed,
    }
}

impl Sandbox {
    /// Runs `weir args... extra...`: a test's fixed arguments followed by one case's own.
    pub fn weir_with(&self, args: &[&str], extra: &[&str]) -> Output {
        let all: Vec<&str> = args.iter().chain(extra).copied().collect();
        self.weir(&all)
    }

    /// Writes `p.toml`, a pipeline file from `in.csv` to `out.csv` with `rest` after those two
    /// lines (its `[options]` or `[[transform]]` tables), and runs `weir run p.toml`.
    pub fn run_pipeline(&self, rest: &str) -> Output {
        let text = format!("input = \"in.csv\"\noutput = \"out.csv\"\n{rest}");
        self.write("p.toml", text.as_bytes());
        self.weir(&["run", "p.toml"])
    }
}

/// Asserts a run exited with `want` and said `text` on stderr (showing its stderr when either
/// differs); returns the stderr for further checks.
#[track_caller]
pub fn assert_fails(o: &Output, want: i32, text: &str) -> String {
    assert_fails_in("", o, want, text)
}

/// [`assert_fails`] for one `case` of a test that loops over several: its failure messages
/// start with `case`.
#[track_caller]
pub fn assert_fails_in(case: &str, o: &Output, want: i32, text: &str) -> String {
    let err = stderr(o);
    let shown = if case.is_empty() {
        err.clone()
    } else {
        format!("{case}: {err}")
    };
    assert_eq!(code(o), want, "{shown}");
    assert!(err.contains(text), "{shown}");
    err
}

/// The report helpers themselves: they read what is there and fail on what is not, so a test
/// built on them can fail.
mod report_helpers {
    use super::*;

    const REPORT: &str = r#"{
  "status": "succeeded",
  "records_read": 5,
  "records_written": 2,
  "records_filtered": 1,
  "records_rejected": 2,
  "rejects_by_error": {"extra-cell": 1, "type-error": 1},
  "error": null
}"#;

    #[test]
    fn fields_are_read_as_json_values() {
        assert_eq!(report_field(REPORT, "status"), "succeeded");
        assert_eq!(report_num(REPORT, "records_read"), 5);
        assert_eq!(report_field(REPORT, "error"), serde_json::Value::Null);
        assert_eq!(
            report_rejects_by_error(REPORT),
            [("extra-cell".to_string(), 1), ("type-error".to_string(), 1)]
        );
        assert_balanced(REPORT);
    }

    #[test]
    #[should_panic(expected = "no records_dropped in report")]
    fn a_missing_field_fails() {
        report_field(REPORT, "records_dropped");
    }

    #[test]
    #[should_panic(expected = "status is not a count")]
    fn a_text_is_not_a_count() {
        report_num(REPORT, "status");
    }

    #[test]
    #[should_panic(expected = "report does not balance")]
    fn an_unbalanced_report_fails() {
        assert_balanced(REPORT.replace("\"records_filtered\": 1", "\"records_filtered\": 0"));
    }

    #[test]
    #[should_panic(expected = "the report is not JSON")]
    fn text_that_is_not_json_fails() {
        report("\"status\": \"succeeded\"");
    }
}
