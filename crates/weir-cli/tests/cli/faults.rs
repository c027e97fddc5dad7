//! Faults of the world around a run: a full disk under the output or the rejects, an output
//! folder that is missing or read-only, an input truncated or replaced while it is read, and a
//! second Ctrl-C while a run that cannot stop is stopping. Each gives a message naming the
//! file, its documented exit code, no file at the output path (an existing one untouched) and
//! no temporary file. Small and read-only file systems are tmpfs mounts (the tests run as
//! root); where mounting is impossible a test says so and uses `/dev/full` or skips.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::support::*;

/// A tmpfs mounted on a folder of the sandbox, unmounted when dropped (also when the test
/// fails), before the sandbox folder is removed.
struct Mount(PathBuf);

impl Mount {
    /// Mounts a tmpfs with `options` (e.g. `size=1m`, `ro`) on `sb/name`; `Err` says why not.
    fn tmpfs(sb: &Sandbox, name: &str, options: &str) -> Result<Mount, String> {
        let dir = sb.join(name);
        fs::create_dir(&dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(&dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            let _ = fs::remove_dir(&dir);
            return Err(format!(
                "mount -t tmpfs -o {options} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Mount(dir))
    }

    /// Remounts read-only (after the test put what it needs in it).
    fn make_read_only(&self) {
        let out = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.0)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "remount ro: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// `id,name,score` rows, `n` of them, about 25 bytes each.
fn rows(n: u64) -> Vec<u8> {
    let mut s = String::from("id,name,score\n");
    for i in 1..=n {
        s.push_str(&format!("{i},name {i},{}\n", i % 97));
    }
    s.into_bytes()
}

/// Rows with one field missing: every one is rejected (missing-cell) with its raw record.
fn ragged_rows(n: u64) -> Vec<u8> {
    let mut s = String::from("id,name,score\n");
    for i in 1..=n {
        s.push_str(&format!("{i},name {i}\n"));
    }
    s.into_bytes()
}

/// Runs `weir run -i in.csv args...`, asserts it failed (exit 1, nothing committed) because
/// there was no space left to write `full`, and returns its stderr.
#[track_caller]
fn run_out_of_space(sb: &Sandbox, args: &[&str], full: &str) -> String {
    let o = sb.weir_with(&["run", "-i", "in.csv"], args);
    let err = assert_fails(
        &o,
        1,
        &format!("weir: error: cannot write {full}: No space left on device"),
    );
    assert!(err.contains("FAILED (nothing committed)"), "{err}");
    err
}

#[test]
fn a_full_disk_under_the_output_fails_naming_the_file() {
    let sb = Sandbox::new();
    sb.write("in.csv", &rows(100_000)); // ~2.5 MB, on a 1 MiB file system
    let small = match Mount::tmpfs(&sb, "small", "size=1m") {
        Ok(m) => m,
        Err(why) => {
            eprintln!("no small tmpfs ({why}); writing to /dev/full instead");
            run_out_of_space(&sb, &["-o", "/dev/full"], "/dev/full");
            return;
        }
    };
    fs::write(small.0.join("out.csv"), b"keep me\n").unwrap();
    run_out_of_space(&sb, &["-o", "small/out.csv"], "small/out.csv");
    assert_bytes(&fs::read(small.0.join("out.csv")).unwrap(), b"keep me\n");
    assert_eq!(temp_files_in(&small.0), Vec::<String>::new());
    assert_eq!(sb.names(), ["in.csv", "small"]);
}

#[test]
fn a_full_disk_under_the_rejects_fails_naming_the_file() {
    let sb = Sandbox::new();
    sb.write("in.csv", &ragged_rows(60_000)); // every row rejected: ~3 MB of rejects
    let small = match Mount::tmpfs(&sb, "small", "size=1m") {
        Ok(m) => m,
        Err(why) => {
            eprintln!("no small tmpfs ({why}); rejects to /dev/full instead");
            run_out_of_space(
                &sb,
                &["-o", "out.csv", "--rejects", "/dev/full"],
                "/dev/full",
            );
            assert!(!sb.exists("out.csv"));
            return;
        }
    };
    sb.write("out.csv", b"keep me\n");
    run_out_of_space(
        &sb,
        &["-o", "out.csv", "--rejects", "small/rejects.csv"],
        "small/rejects.csv",
    );
    assert_bytes(&sb.read("out.csv"), b"keep me\n");
    assert_eq!(temp_files_in(&small.0), Vec::<String>::new());
    assert_eq!(sb.temp_files(), Vec::<String>::new());
    assert_eq!(fs::read_dir(&small.0).unwrap().count(), 0);
}

#[test]
fn a_full_disk_at_the_end_of_a_compressed_output_commits_the_rejects_neither() {
    let sb = Sandbox::new();
    // Hard to compress (about 23 KiB as gzip), and one ragged row for the rejects.
    let mut input = String::from("id,name,score\n");
    let mut x: u64 = 1;
    for i in 0..1000 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        input.push_str(&format!("{i},{x:x},{}\n", x >> 40));
    }
    input.push_str("bad\n");
    sb.write("in.csv", input.as_bytes());
    let small = match Mount::tmpfs(&sb, "small", "size=1m") {
        Ok(m) => m,
        Err(why) => {
            eprintln!("skipped: no small tmpfs ({why})");
            return;
        }
    };
    // Two pages left: the rejects fit, the compressed output does not; with gzip's buffering
    // its last bytes are written only when the stream is finished, at the commit.
    fs::write(small.0.join("filler"), vec![0u8; (1 << 20) - 8192]).unwrap();
    fs::write(small.0.join("rejects.csv"), b"keep me\n").unwrap();
    run_out_of_space(
        &sb,
        &["-o", "small/out.csv.gz", "--rejects", "small/rejects.csv"],
        "small/out.csv.gz",
    );
    assert_bytes(
        &fs::read(small.0.join("rejects.csv")).unwrap(),
        b"keep me\n",
    );
    assert!(!small.0.join("out.csv.gz").exists());
    assert_eq!(temp_files_in(&small.0), Vec::<String>::new());
}

/// Runs weir on a standard input that stays open and is never written (a run that read its
/// input before checking the destination would wait for ever, and be killed after 5 s), and
/// asserts it was refused as a usage error (exit 2) with exactly `message` on stderr.
#[track_caller]
fn assert_refused_before_reading(sb: &Sandbox, args: &[&str], message: &str) {
    let mut child = sb.spawn(args);
    let stdin = child.stdin.take();
    let (got, _) = wait_at_most(&mut child, Duration::from_secs(5));
    drop(stdin);
    let err = read_stderr(&mut child);
    assert_eq!(got, Some(2), "{err}");
    assert_eq!(err, message);
}

#[test]
fn a_missing_output_folder_is_a_usage_error_found_before_reading() {
    let sb = Sandbox::new();
    for (args, message) in [
        (
            &["run", "-i", "-", "-o", "gone/out.csv"][..],
            "weir: error: cannot write gone/out.csv: the folder gone does not exist\n",
        ),
        (
            &["run", "-i", "-", "-o", "out.csv", "--rejects", "gone/r.csv"][..],
            "weir: error: cannot write gone/r.csv: the folder gone does not exist\n",
        ),
        (
            &["run", "-i", "-", "-o", "out.csv", "--report", "gone/r.json"][..],
            "weir: error: report: cannot write gone/r.json: the folder gone does not exist\n",
        ),
    ] {
        assert_refused_before_reading(&sb, args, message);
        assert_eq!(sb.names(), Vec::<String>::new(), "nothing written anywhere");
    }
}

#[test]
fn a_read_only_output_folder_is_a_usage_error_found_before_reading() {
    let sb = Sandbox::new();
    let ro = match Mount::tmpfs(&sb, "ro", "size=1m") {
        Ok(m) => m,
        Err(why) => {
            eprintln!("skipped: no tmpfs to make read-only ({why})");
            return;
        }
    };
    fs::write(ro.0.join("out.csv"), b"keep me\n").unwrap();
    ro.make_read_only();
    for (args, message) in [
        (
            &["run", "-i", "-", "-o", "ro/out.csv"][..],
            "weir: error: cannot write ro/out.csv: the folder ro is not writable: Read-only \
             file system (os error 30)\n",
        ),
        (
            &[
                "run",
                "-i",
                "-",
                "-o",
                "out.csv",
                "--rejects",
                "ro/rejects.csv",
            ][..],
            "weir: error: cannot write ro/rejects.csv: the folder ro is not writable: \
             Read-only file system (os error 30)\n",
        ),
    ] {
        assert_refused_before_reading(&sb, args, message);
        assert_bytes(&fs::read(ro.0.join("out.csv")).unwrap(), b"keep me\n");
        assert_eq!(sb.names(), ["ro"], "nothing written anywhere");
    }
}

/// Bytes the process has read through read(2) and friends (`rchar` of `/proc/PID/io`).
fn bytes_read_by(pid: u32) -> u64 {
    let io = fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Starts weir on `in.csv` (8 MB, 64 KiB chunks: it reads at most a few hundred KiB ahead of
/// what it has written), stops it with SIGSTOP once it has read 512 KiB, lets `change` alter
/// the input, resumes it, and returns its exit code and stderr.
fn change_input_while_read(sb: &Sandbox, change: impl FnOnce(&Path)) -> (Option<i32>, String) {
    sb.write("in.csv", &rows(320_000));
    sb.write("out.csv", b"keep me\n");
    let mut child = sb.spawn(&[
        "run",
        "-i",
        "in.csv",
        "-o",
        "out.csv",
        "--chunk-size",
        "64KiB",
        "--workers",
        "1",
    ]);
    let started = Instant::now();
    while bytes_read_by(child.id()) < 512 << 10 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "weir read nothing"
        );
        sleep(Duration::from_micros(200));
    }
    send_signal(&child, libc::SIGSTOP);
    let read = bytes_read_by(child.id());
    assert!(
        read < 6 << 20,
        "weir had read {read} bytes before it stopped: too close to the end to test"
    );
    change(&sb.join("in.csv"));
    send_signal(&child, libc::SIGCONT);
    let (got, _) = wait_at_most(&mut child, Duration::from_secs(30));
    (got, read_stderr(&mut child))
}

/// Asserts the run of [`change_input_while_read`] failed (exit 1) saying `input in.csv changed
/// while it was read: ` and `detail`, committed nothing, and left `out.csv` as it was.
#[track_caller]
fn assert_failed_on_the_change(sb: &Sandbox, (got, err): (Option<i32>, String), detail: &str) {
    assert_eq!(got, Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "weir: error: input in.csv changed while it was read: {detail}"
        )),
        "{err}"
    );
    assert!(err.contains("FAILED (nothing committed)"), "{err}");
    assert_bytes(&sb.read("out.csv"), b"keep me\n");
    assert_eq!(sb.names(), ["in.csv", "out.csv"]);
}

#[test]
fn an_input_truncated_while_read_fails_and_commits_nothing() {
    let sb = Sandbox::new();
    let size = rows(320_000).len();
    let run = change_input_while_read(&sb, |p| {
        fs::OpenOptions::new()
            .write(true)
            .open(p)
            .unwrap()
            .set_len(1000)
            .unwrap();
    });
    assert_failed_on_the_change(
        &sb,
        run,
        &format!("its size went from {size} to 1000 bytes"),
    );
}

#[test]
fn an_input_replaced_while_read_fails_and_commits_nothing() {
    let sb = Sandbox::new();
    let run = change_input_while_read(&sb, |p| {
        let new = p.with_extension("new");
        fs::write(&new, b"id,name,score\n1,a,2\n").unwrap();
        fs::rename(&new, p).unwrap();
    });
    assert_failed_on_the_change(&sb, run, "in.csv is now another file");
}

/// A run writing to a standard output nobody reads cannot stop gracefully (its committer is
/// blocked in a write): the first signal asks it to stop, the second must end it at once, with
/// the first one's exit code and its temporary rejects file removed.
fn second_signal_exits_at_once(first: libc::c_int, second: libc::c_int, want: i32) {
    let sb = Sandbox::new();
    sb.write("in.csv", &ragged_rows(200_000));
    sb.write("rejects.csv", b"keep me\n");
    let mut child = Command::new(WEIR)
        .args(["run", "-i", "in.csv", "-o", "-", "--flexible"])
        .args(["--rejects", "rejects.csv"])
        .current_dir(sb.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped()) // never read: the pipe fills and the writer blocks
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn weir");
    // Wait until the temporary rejects file exists and the output pipe has had time to fill.
    let started = Instant::now();
    while sb.temp_files().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(10), "no temp file");
        sleep(Duration::from_millis(10));
    }
    sleep(Duration::from_millis(500));
    send_signal(&child, first);
    sleep(Duration::from_millis(700));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run stopped on the first signal: this test needs one that cannot"
    );
    assert_eq!(sb.temp_files().len(), 1);
    let at = Instant::now();
    send_signal(&child, second);
    let (got, _) = wait_at_most(&mut child, Duration::from_secs(5));
    let took = at.elapsed();
    let err = read_stderr(&mut child);
    assert_eq!(got, Some(want), "{err}");
    eprintln!("second signal: exited with {got:?} after {took:?}");
    assert!(took < Duration::from_millis(500), "took {took:?} to exit");
    assert!(
        err.contains("again; exiting at once (1 temporary file removed, nothing committed)"),
        "{err}"
    );
    assert_eq!(sb.temp_files(), Vec::<String>::new());
    assert_bytes(&sb.read("rejects.csv"), b"keep me\n");
    assert_eq!(sb.names(), ["in.csv", "rejects.csv"]);
}

#[test]
fn a_second_ctrl_c_exits_at_once_with_130_and_removes_temp_files() {
    second_signal_exits_at_once(libc::SIGINT, libc::SIGINT, 130);
}

#[test]
fn sigterm_after_ctrl_c_exits_at_once_with_130() {
    second_signal_exits_at_once(libc::SIGINT, libc::SIGTERM, 130);
}

#[test]
fn a_second_sigterm_exits_at_once_with_143() {
    second_signal_exits_at_once(libc::SIGTERM, libc::SIGTERM, 143);
}

#[test]
fn the_timeout_stops_a_run_whose_output_pipe_is_never_read() {
    let sb = Sandbox::new();
    sb.write("in.csv", &ragged_rows(200_000));
    let mut child = Command::new(WEIR)
        .args(["run", "-i", "in.csv", "-o", "-", "--flexible"])
        .args(["--rejects", "rejects.csv", "--timeout", "1s"])
        .current_dir(sb.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped()) // never read: the pipe fills and the committer blocks
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn weir");
    // The time limit (1 s) plus the committer's grace (2 s), with room for a loaded machine.
    let (got, took) = wait_at_most(&mut child, Duration::from_secs(15));
    let err = read_stderr(&mut child);
    assert_eq!(got, Some(124), "{err}");
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert!(err.contains("TIMED OUT (nothing committed)"), "{err}");
    assert_eq!(sb.temp_files(), Vec::<String>::new());
    assert_eq!(sb.names(), ["in.csv"]);
}
