//! Faults through the library: a transform that panics (stop or reject), a transform that never
//! returns (the time limit and the stop handle still end the run promptly), an input changed
//! while it is read, a missing output folder. Each run that fails leaves no file at the output
//! path, an existing file there untouched, and no temporary file.
//!
//! A test binary of its own, apart from `tests/it`: its panic-hook test depends on being
//! under weir's process-wide panic hook, which the first pipeline of the process installs; in
//! a binary shared with other tests that order is not its own to choose.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use weir::{
    BindError, Columns, Error, OnPanic, Outcome, PipelineBuilder, Record, Sink, Source, StopHandle,
    StopReason, Transform,
};

/// What a test transform does when it meets its trigger.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Act {
    /// Panic with a message naming the id.
    Panic,
    /// Never return.
    Hang,
    /// Run a file operation once (see [`Trigger::file_op`]).
    FileOp,
}

/// Acts on records whose `id` satisfies `when`; keeps the others.
#[derive(Clone)]
struct Trigger {
    act: Act,
    when: fn(u64) -> bool,
    file_op: Option<fn(&Path)>,
    path: PathBuf,
    col: usize,
}

impl Trigger {
    fn new(act: Act, when: fn(u64) -> bool) -> Trigger {
        Trigger {
            act,
            when,
            file_op: None,
            path: PathBuf::new(),
            col: 0,
        }
    }

    /// Runs `op(path)` once, on the first record whose id satisfies `when`.
    fn file_op(path: &Path, when: fn(u64) -> bool, op: fn(&Path)) -> Trigger {
        Trigger {
            file_op: Some(op),
            path: path.to_path_buf(),
            ..Trigger::new(Act::FileOp, when)
        }
    }
}

impl Transform for Trigger {
    fn name(&self) -> &str {
        match self.act {
            Act::Panic => "boom",
            Act::Hang => "stuck",
            Act::FileOp => "meddle",
        }
    }

    fn bind(&mut self, input: &Columns) -> Result<Columns, BindError> {
        self.col = input
            .index_of("id")
            .ok_or_else(|| BindError::unknown_column("id", input))?;
        Ok(input.clone())
    }

    fn apply(&mut self, record: &mut Record<'_>) -> Outcome {
        let id: u64 = record.get_str(self.col).unwrap_or("0").parse().unwrap_or(0);
        if !(self.when)(id) {
            return Outcome::Keep;
        }
        match self.act {
            Act::Panic => panic!("flood-marker: cannot handle id {id}"),
            Act::Hang => loop {
                std::thread::sleep(Duration::from_secs(1));
            },
            Act::FileOp => {
                // Once: the tests that use it run one worker, so one transform value.
                if let Some(op) = self.file_op.take() {
                    op(&self.path);
                }
                Outcome::Keep
            }
        }
    }
}

/// Counts panics that reach the process's hook with the test transform's marker: weir's own
/// hook must keep them (caught, reported as rejects or as the run's error) from it. Installed
/// by every test before it runs a pipeline, so it is always under weir's hook.
static HOOK_SAW: AtomicUsize = AtomicUsize::new(0);

fn counting_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let text = format!("{info}");
            if text.contains("flood-marker") {
                HOOK_SAW.fetch_add(1, Ordering::Relaxed);
            }
            previous(info);
        }));
    });
}

/// `id,name` rows 1..=n.
fn rows(n: u64) -> Vec<u8> {
    let mut s = String::from("id,name\n");
    for i in 1..=n {
        s.push_str(&format!("{i},name {i}\n"));
    }
    s.into_bytes()
}

/// Names of weir's temporary files in `dir`.
fn temp_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n.ends_with(".tmp"))
        .collect()
}

/// A folder with `in.csv` holding `rows(n)`.
fn folder(n: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    fs::write(&input, rows(n)).unwrap();
    (dir, input)
}

fn pipeline(input: &Path, out: &Path) -> PipelineBuilder {
    PipelineBuilder::new(
        Source::Path(input.to_path_buf()),
        Sink::Path(out.to_path_buf()),
    )
}

/// Asserts a failed run left the folder as `expected` (sorted names) and no temp file.
#[track_caller]
fn assert_left(dir: &Path, expected: &[&str]) {
    assert_eq!(temp_files(dir), Vec::<String>::new(), "temp files left");
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, expected);
}

/// Asserts the run ended because it was stopped for `reason`, not because of an error.
#[track_caller]
fn assert_stopped(err: &Error, reason: StopReason) {
    assert!(matches!(err, Error::Stopped(r) if *r == reason), "{err}");
}

#[test]
fn a_panicking_transform_stops_the_run_naming_the_transform_the_input_and_the_line() {
    counting_hook();
    for (workers, chunk) in [(1, 1 << 20), (4, 64)] {
        let (dir, input) = folder(2000);
        let out = dir.path().join("out.csv");
        fs::write(&out, b"keep me\n").unwrap();
        let failure = pipeline(&input, &out)
            .transform(Trigger::new(Act::Panic, |id| id == 1234 || id == 1500))
            .rejects(Sink::Path(dir.path().join("rejects.csv")))
            .workers(workers)
            .chunk_size(chunk)
            .build()
            .run()
            .unwrap_err();
        let msg = failure.error.to_string();
        assert!(
            matches!(&failure.error, Error::TransformPanic { transform, line: 1235, .. }
                if transform == "boom"),
            "{msg}"
        );
        // The first panic in input order is the one reported, whatever the worker count.
        assert!(msg.contains("in.csv: line 1235 (byte "), "{msg}");
        assert!(
            msg.contains("transform 'boom' panicked: flood-marker: cannot handle id 1234 (at "),
            "{msg}"
        );
        assert!(msg.contains("faults.rs:"), "the panic's location: {msg}");
        assert_eq!(fs::read(&out).unwrap(), b"keep me\n");
        assert_left(dir.path(), &["in.csv", "out.csv"]);
    }
}

#[test]
fn a_panicking_transform_can_reject_the_record_and_go_on() {
    counting_hook();
    let (dir, input) = folder(20_000);
    let out = dir.path().join("out.csv");
    let rejects = dir.path().join("rejects.csv");
    let before = HOOK_SAW.load(Ordering::Relaxed);
    let report = pipeline(&input, &out)
        .transform(Trigger::new(Act::Panic, |id| id % 2 == 0))
        .rejects(Sink::Path(rejects.clone()))
        .on_panic(OnPanic::Reject)
        .workers(3)
        .chunk_size(4096)
        .build()
        .run()
        .unwrap_or_else(|f| panic!("{}", f.error));
    assert!(report.balanced());
    assert_eq!(report.records_read, 20_000);
    assert_eq!(report.records_written, 10_000);
    assert_eq!(report.records_rejected, 10_000);
    assert_eq!(
        report.rejects_by_error.get("transform-panic"),
        Some(&10_000)
    );
    let text = fs::read_to_string(&rejects).unwrap();
    let first = text.lines().nth(1).unwrap();
    assert!(
        first.starts_with(&format!(
            "{},3,",
            input.display() // line 3 holds id 2
        )),
        "{first}"
    );
    assert!(
        first.contains(
            ",transform-panic,transform 'boom' panicked: flood-marker: cannot handle id 2 (at "
        ),
        "{first}"
    );
    assert!(first.ends_with(",\"2,name 2\""), "the raw record: {first}");
    let written = fs::read_to_string(&out).unwrap();
    assert_eq!(written.lines().count(), 10_001);
    assert!(written.lines().skip(1).all(|l| {
        let id: u64 = l.split(',').next().unwrap().parse().unwrap();
        id % 2 == 1
    }));
    // Ten thousand panics, none of them printed by the process's hook.
    assert_eq!(HOOK_SAW.load(Ordering::Relaxed), before);
}

#[test]
fn a_transform_that_never_returns_cannot_hold_the_time_limit() {
    counting_hook();
    for workers in [1, 3] {
        let (dir, input) = folder(5000);
        let out = dir.path().join("out.csv");
        let started = Instant::now();
        let failure = pipeline(&input, &out)
            .transform(Trigger::new(Act::Hang, |id| id == 10))
            .rejects(Sink::Path(dir.path().join("rejects.csv")))
            .workers(workers)
            .chunk_size(256)
            .timeout(Duration::from_millis(300))
            .build()
            .run()
            .unwrap_err();
        let took = started.elapsed();
        assert_stopped(&failure.error, StopReason::TimedOut);
        eprintln!("{workers} workers, one stuck: timed out (300 ms) after {took:?}");
        assert!(took < Duration::from_millis(2000), "took {took:?} to stop");
        assert_left(dir.path(), &["in.csv"]);
    }
}

#[test]
fn a_transform_that_never_returns_cannot_hold_a_stop_request() {
    counting_hook();
    let (dir, input) = folder(5000);
    let out = dir.path().join("out.csv");
    let stop = StopHandle::new();
    let stopper = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            stop.stop(StopReason::Interrupted);
            Instant::now()
        })
    };
    let failure = pipeline(&input, &out)
        .transform(Trigger::new(Act::Hang, |id| id > 100))
        .workers(2)
        .chunk_size(512)
        .stop_handle(stop)
        .build()
        .run()
        .unwrap_err();
    let took = stopper.join().unwrap().elapsed();
    assert_stopped(&failure.error, StopReason::Interrupted);
    eprintln!("both workers stuck: stopped {took:?} after the stop request");
    assert!(
        took < Duration::from_millis(1700),
        "took {took:?} after the stop"
    );
    assert_left(dir.path(), &["in.csv"]);
}

/// Runs `input` through a transform that calls `op(path)` on the record with id 2 (the input
/// is much larger than what the splitter may read ahead: 1 worker, 1 KiB chunks, 4 credits),
/// and returns the error.
fn changed_while_read(
    dir: &Path,
    inputs: &[&Path],
    path: &Path,
    when: fn(u64) -> bool,
    op: fn(&Path),
) -> Error {
    let out = dir.join("out.csv");
    fs::write(&out, b"keep me\n").unwrap();
    let mut b = PipelineBuilder::new(
        Source::Path(inputs[0].to_path_buf()),
        Sink::Path(out.clone()),
    )
    .transform(Trigger::file_op(path, when, op))
    .workers(1)
    .chunk_size(1024);
    for more in &inputs[1..] {
        b = b.input(Source::Path(more.to_path_buf()));
    }
    let failure = b.build().run().unwrap_err();
    assert_eq!(fs::read(&out).unwrap(), b"keep me\n", "{}", failure.error);
    assert_eq!(temp_files(dir), Vec::<String>::new());
    failure.error
}

#[track_caller]
fn assert_changed(err: &Error, input: &Path, detail: &str) {
    let msg = err.to_string();
    assert!(matches!(err, Error::InputChanged { .. }), "{msg}");
    let want = format!("input {} changed while it was read: ", input.display());
    assert!(msg.starts_with(&want), "{msg}");
    assert!(msg.contains(detail), "{msg}");
}

/// [`changed_while_read`] on the single input `input`, changed by `op` when the record with
/// id 2 is read.
fn changed_at_id_2(dir: &Path, input: &Path, op: fn(&Path)) -> Error {
    changed_while_read(dir, &[input], input, |id| id == 2, op)
}

/// A fresh folder whose `in.csv` (100,000 rows) `op` changes while it is read: returns the
/// folder (to keep it alive), the input, its size before the change, and the run's error.
fn one_input_changed_while_read(op: fn(&Path)) -> (tempfile::TempDir, PathBuf, u64, Error) {
    counting_hook();
    let (dir, input) = folder(100_000);
    let size = fs::metadata(&input).unwrap().len();
    let err = changed_at_id_2(dir.path(), &input, op);
    (dir, input, size, err)
}

/// Cuts the file at `p` to `len` bytes, in place.
fn truncate(p: &Path, len: u64) {
    fs::OpenOptions::new()
        .write(true)
        .open(p)
        .unwrap()
        .set_len(len)
        .unwrap();
}

/// Puts a new file holding `bytes` at `p` by renaming it over the old one (another inode).
fn replace(p: &Path, bytes: &[u8]) {
    let new = p.with_extension("new");
    fs::write(&new, bytes).unwrap();
    fs::rename(&new, p).unwrap();
}

#[test]
fn an_input_truncated_while_read_fails_the_run() {
    let (_dir, input, size, err) = one_input_changed_while_read(|p| truncate(p, 100_000));
    assert_changed(
        &err,
        &input,
        &format!("its size went from {size} to 100000 bytes"),
    );
}

#[test]
fn an_input_appended_to_while_read_fails_the_run() {
    let (_dir, input, size, err) = one_input_changed_while_read(|p| {
        use std::io::Write;
        let mut f = fs::OpenOptions::new().append(true).open(p).unwrap();
        f.write_all(b"100001,late\n").unwrap();
    });
    assert_changed(
        &err,
        &input,
        &format!("its size went from {size} to {} bytes", size + 12),
    );
}

#[test]
fn an_input_rewritten_in_place_while_read_fails_the_run() {
    let (_dir, input, _, err) = one_input_changed_while_read(|p| {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = fs::OpenOptions::new().write(true).open(p).unwrap();
        f.seek(SeekFrom::Start(500_000)).unwrap();
        f.write_all(b"X").unwrap();
        // The length is the same: only the modification time can tell.
        let later = std::time::SystemTime::now() + Duration::from_secs(5);
        f.set_modified(later).unwrap();
    });
    assert_changed(
        &err,
        &input,
        "it was modified (its modification time changed)",
    );
}

#[test]
fn an_input_replaced_while_read_fails_the_run() {
    let (_dir, input, _, err) = one_input_changed_while_read(|p| replace(p, &rows(100_000)));
    assert_changed(&err, &input, "is now another file (it was replaced");
}

#[test]
fn a_compressed_input_replaced_or_truncated_while_read_fails_the_run() {
    use std::io::Write;
    counting_hook();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv.gz");
    let gz = |data: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    };
    // Varied enough that the compressed file is far larger than what is read ahead.
    let data: Vec<u8> = (1..=100_000u64)
        .flat_map(|i| format!("{i},{}\n", i.wrapping_mul(0x9e37_79b9_7f4a_7c15)).into_bytes())
        .collect();
    let mut all = b"id,name\n".to_vec();
    all.extend_from_slice(&data);
    fs::write(&input, gz(&all)).unwrap();
    let err = changed_at_id_2(dir.path(), &input, |p| replace(p, b"id,name\n1,a\n"));
    assert_changed(&err, &input, "is now another file");
    // Truncated: the decoder meets the new end, where the check reports it (not as a corrupt
    // stream).
    fs::write(&input, gz(&all)).unwrap();
    let size = fs::metadata(&input).unwrap().len();
    let err = changed_at_id_2(dir.path(), &input, |p| truncate(p, 300_000));
    assert_changed(
        &err,
        &input,
        &format!("its size went from {size} to 300000 bytes"),
    );
}

#[test]
fn the_second_of_two_inputs_truncated_while_read_fails_the_run() {
    counting_hook();
    let (dir, first) = folder(10);
    let second = dir.path().join("second.csv");
    let mut s = String::from("id,name\n");
    for i in 1_000_001..=1_100_000u64 {
        s.push_str(&format!("{i},n\n"));
    }
    fs::write(&second, s).unwrap();
    // The first record of the second input truncates it.
    let err = changed_while_read(
        dir.path(),
        &[&first, &second],
        &second,
        |id| id == 1_000_001,
        |p| truncate(p, 20),
    );
    assert_changed(&err, &second, "to 20 bytes");
}

#[test]
fn an_unchanged_input_and_a_pseudo_file_pass_the_check() {
    counting_hook();
    let (dir, input) = folder(50_000);
    let out = dir.path().join("out.csv");
    let report = pipeline(&input, &out)
        .workers(2)
        .chunk_size(1000)
        .build()
        .run()
        .unwrap_or_else(|f| panic!("{}", f.error));
    assert_eq!(report.records_written, 50_000);
    assert_eq!(fs::read(&out).unwrap(), fs::read(&input).unwrap());
    // /proc files say they are empty whatever they hold: not a change.
    let out = dir.path().join("mounts.txt");
    let report = PipelineBuilder::new(
        Source::from_arg("/proc/self/mounts"),
        Sink::Path(out.clone()),
    )
    .format(weir::Format::Lines)
    .build()
    .run()
    .unwrap_or_else(|f| panic!("{}", f.error));
    assert!(report.records_written > 0);
}

#[test]
fn a_missing_output_folder_is_found_before_the_input_is_read() {
    counting_hook();
    let (dir, input) = folder(10);
    let out = dir.path().join("no/such/folder/out.csv");
    // Standard input is never read: the check comes first.
    let failure = PipelineBuilder::new(
        Source::Reader("stdin-like".into(), Box::new(Unread)),
        Sink::Path(out),
    )
    .build()
    .run()
    .unwrap_err();
    let msg = failure.error.to_string();
    assert!(failure.error.is_usage(), "{msg}");
    assert_eq!(
        msg,
        format!(
            "cannot write {}/no/such/folder/out.csv: the folder {}/no/such/folder does not exist",
            dir.path().display(),
            dir.path().display()
        )
    );
    // The rejects' folder too, before the output is created.
    let failure = pipeline(&input, &dir.path().join("out.csv"))
        .rejects(Sink::Path(dir.path().join("gone/rejects.csv")))
        .build()
        .run()
        .unwrap_err();
    assert!(
        failure.error.to_string().contains("gone does not exist"),
        "{}",
        failure.error
    );
    assert_left(dir.path(), &["in.csv"]);
}

/// A reader that fails the test if it is read.
struct Unread;

impl std::io::Read for Unread {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        panic!("the input was read before the output folder was checked");
    }
}
